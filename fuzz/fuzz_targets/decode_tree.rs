//! Any bytes: decoding a ratchet tree never panics and is canonical.
#![no_main]

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::tree::nodes::RatchetTreeWire;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tree) = decode_exact::<RatchetTreeWire>(data) {
        let again = encode(&tree).expect("a decoded tree re-encodes");
        assert_eq!(again, data);
    }
});
