//! Arbitrary bytes (or mutations of a real Welcome) into a join: never a
//! panic.
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
    let welcome = input_from(data, std::slice::from_ref(&f.welcome));
    let result = f.dave.join(&welcome, None);
    count_outcome(&mut Outcomes::default(), &result, welcome == f.welcome);
});
