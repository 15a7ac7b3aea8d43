//! Any bytes: decoding a KeyPackage never panics, is canonical, and
//! validating what decodes (§10.1) never panics either.
#![no_main]

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::messages::key_package::KeyPackageData;
use arbor_mls::tree::leaf_validation::LifetimePolicy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(kp) = decode_exact::<KeyPackageData>(data) {
        assert_eq!(encode(&kp).expect("re-encodes"), data);
        let suite = arbor_mls::test_support::default_suite().expect("suite");
        let _ = kp.validate(&suite, None, LifetimePolicy::at(arbor_mls_fuzz::NOW));
    }
});
