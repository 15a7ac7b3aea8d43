//! Arbitrary bytes (or mutations of real proposals, commits and
//! application messages) into a member of a three-member group: never a
//! panic, and a rejected message leaves the group as it was.
#![no_main]

use std::sync::Mutex;

use arbor_mls_fuzz::script::count_outcome;
use arbor_mls_fuzz::stats::Outcomes;
use arbor_mls_fuzz::{Fixture, input_from};
use libfuzzer_sys::fuzz_target;

static FIXTURE: Mutex<Option<Fixture>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut guard = FIXTURE.lock().unwrap_or_else(|e| e.into_inner());
    let f = guard.get_or_insert_with(Fixture::new);
    let message = input_from(data, &f.messages);
    let epoch = f.alice.epoch();
    let authenticator = f.alice.epoch_authenticator().to_vec();
    let cached = f.alice.state().proposals().len();
    let result = f.alice.process(&message);
    count_outcome(
        &mut Outcomes::default(),
        &result,
        f.messages.contains(&message),
    );
    if result.is_err() {
        assert_eq!(f.alice.epoch(), epoch);
        assert_eq!(f.alice.epoch_authenticator(), authenticator);
        assert_eq!(f.alice.state().proposals().len(), cached);
    }
});
