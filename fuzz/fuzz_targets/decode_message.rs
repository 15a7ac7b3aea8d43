//! Any bytes: decoding an MLSMessage never panics, and whatever decodes
//! re-encodes to exactly the same bytes (the codec is canonical).
#![no_main]

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::framing::MlsMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = decode_exact::<MlsMessage>(data) {
        let again = encode(&msg).expect("a decoded message re-encodes");
        assert_eq!(again, data);
    }
});
