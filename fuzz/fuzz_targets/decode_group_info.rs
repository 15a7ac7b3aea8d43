//! Any bytes: decoding a GroupInfo never panics and is canonical.
#![no_main]

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::messages::welcome::GroupInfo;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = decode_exact::<GroupInfo>(data) {
        assert_eq!(encode(&info).expect("re-encodes"), data);
    }
});
