//! Structure-aware: a Proposal or Commit (arbitrary, or a mutation of a
//! real one) is signed and membership-tagged by a member, so inputs get past
//! the signature and reach the proposal, list and path rules. Never a
//! panic, and a rejected message leaves the receiver as it was.
#![no_main]

use std::sync::Mutex;

use arbor_mls::codec::decode_exact;
use arbor_mls::framing::Content;
use arbor_mls::messages::commit::Commit;
use arbor_mls::messages::proposals::Proposal;
use arbor_mls_fuzz::script::past_auth;
use arbor_mls_fuzz::stats::Outcomes;
use arbor_mls_fuzz::{Fixture, input_from};
use libfuzzer_sys::fuzz_target;

static FIXTURE: Mutex<Option<Fixture>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut stats = Outcomes::default();
    let Some((kind, rest)) = data.split_first() else {
        return;
    };
    let mut guard = FIXTURE.lock().unwrap_or_else(|e| e.into_inner());
    let f = guard.get_or_insert_with(Fixture::new);
    let content = if kind % 2 == 0 {
        let bytes = input_from(rest, &f.proposals);
        match decode_exact::<Proposal>(&bytes) {
            Ok(p) => Content::Proposal(Box::new(p)),
            Err(_) => return,
        }
    } else {
        let bytes = input_from(rest, &f.commits);
        match decode_exact::<Commit>(&bytes) {
            Ok(c) => Content::Commit(Box::new(c)),
            Err(_) => return,
        }
    };
    stats.hit("decoded");
    let Ok(message) = f.bob.dangerous_frame_as_member(content) else {
        return;
    };
    let epoch = f.alice.epoch();
    let authenticator = f.alice.epoch_authenticator().to_vec();
    let cached = f.alice.state().proposals().len();
    let result = f.alice.process(&message);
    if past_auth(&result) {
        stats.hit("past_auth");
    }
    if result.is_err() {
        assert_eq!(f.alice.epoch(), epoch);
        assert_eq!(f.alice.epoch_authenticator(), authenticator);
        assert_eq!(f.alice.state().proposals().len(), cached);
    }
});
