//! Any bytes: decoding a Welcome never panics and is canonical.
#![no_main]

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::messages::welcome::Welcome;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(w) = decode_exact::<Welcome>(data) {
        assert_eq!(encode(&w).expect("re-encodes"), data);
    }
});
