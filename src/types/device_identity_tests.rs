//! The device identity encoding: one spelling per pair, every byte
//! round-trips, hostile identities are refused, plain ones stay plain.

use crate::crypto::credential::{Certificate, Credential};
use crate::crypto::x509::fixtures::cert;
use crate::types::DeviceIdentity;

fn device(user: &[u8], device: &[u8]) -> DeviceIdentity {
    DeviceIdentity::new(user.to_vec(), device.to_vec()).unwrap()
}

fn x509(leaf: Vec<u8>) -> Credential {
    Credential::X509 {
        certificates: vec![Certificate { cert_data: leaf }],
    }
}

#[test]
fn a_pair_encodes_as_one_readable_uri() {
    let d = device(b"alice@example.com", b"phone");
    assert_eq!(d.uri().unwrap(), "mls-device:alice@example.com/phone");
    assert_eq!(
        d.credential(),
        Credential::basic(b"mls-device:alice@example.com/phone".to_vec())
    );
    let odd = device(b"a/b%c d", &[0, 0xff, b'/']);
    assert_eq!(odd.uri().unwrap(), "mls-device:a%2Fb%25c%20d/%00%FF%2F");
}

#[test]
fn every_pair_round_trips() {
    let samples: [&[u8]; 6] = [
        b"a",
        b"/",
        b"%",
        b"+49 170 1234567",
        &[0, 1, 2, 0x80],
        b"~._-@",
    ];
    for user in samples {
        for name in samples {
            let d = device(user, name);
            let Credential::Basic { identity } = d.credential() else {
                unreachable!()
            };
            assert_eq!(DeviceIdentity::from_identity(&identity).unwrap(), d);
            assert_eq!(
                DeviceIdentity::of_credential(&d.credential()).unwrap(),
                Some(d)
            );
        }
    }
    let longest = device(&[b'/'; 255], &[0xff; 255]);
    assert_eq!(
        DeviceIdentity::from_identity(longest.uri().unwrap().as_bytes()).unwrap(),
        longest
    );
}

#[test]
fn only_the_canonical_spelling_parses() {
    for bad in [
        &b"mls-device:alice/ph%6Fne"[..], // needless escape of 'o'
        b"mls-device:alice/%2f",          // lower-case hex
        b"mls-device:alice/%2",           // truncated escape
        b"mls-device:alice/%",
        b"mls-device:alice/a b", // unescaped space
        b"mls-device:alice/a/b", // a second separator
        b"mls-device:alice",     // no device
        b"mls-device:/phone",    // empty user
        b"mls-device:alice/",    // empty device
        b"mls-device:",
        b"mls-device:al\xffice/phone",
    ] {
        assert!(
            DeviceIdentity::from_identity(bad).is_err(),
            "{:?} parsed",
            String::from_utf8_lossy(bad)
        );
        // The default validator refuses such a credential outright.
        assert!(DeviceIdentity::of_credential(&Credential::basic(bad.to_vec())).is_err());
    }
}

#[test]
fn size_limits_hold_for_building_and_parsing() {
    assert!(DeviceIdentity::new(vec![b'u'; 256], b"d".to_vec()).is_err());
    assert!(DeviceIdentity::new(b"u".to_vec(), vec![b'd'; 256]).is_err());
    assert!(DeviceIdentity::new(Vec::new(), b"d".to_vec()).is_err());
    assert!(DeviceIdentity::new(b"u".to_vec(), Vec::new()).is_err());
    let too_long = format!("mls-device:{}/phone", "u".repeat(256));
    assert!(DeviceIdentity::from_identity(too_long.as_bytes()).is_err());
    // A huge identity is refused before it is scanned for escapes.
    let huge = [b"mls-device:".as_slice(), &vec![b'%'; 1 << 20]].concat();
    assert!(DeviceIdentity::from_identity(&huge).is_err());
}

#[test]
fn a_plain_identity_is_a_user_with_one_unnamed_device() {
    let plain = DeviceIdentity::from_identity(b"alice").unwrap();
    assert_eq!(plain.user(), b"alice");
    assert_eq!(plain.device(), b"");
    assert_eq!(plain.uri(), None);
    assert_eq!(plain.credential(), Credential::basic(b"alice".to_vec()));
    // The same user as alice's named devices, but a device of its own.
    let phone = device(b"alice", b"phone");
    assert_eq!(plain.user(), phone.user());
    assert_ne!(plain, phone);
    // Long plain identities keep working: the limits are for named ones.
    let long = vec![b'x'; 10_000];
    assert_eq!(
        DeviceIdentity::from_identity(&long).unwrap().user(),
        &long[..]
    );
}

#[test]
fn an_x509_credential_names_its_device_in_the_subject_alt_name() {
    let phone = x509(cert(
        1,
        Some(&[b"https://a.example", b"mls-device:alice/phone"]),
    ));
    assert_eq!(
        DeviceIdentity::of_credential(&phone).unwrap(),
        Some(device(b"alice", b"phone"))
    );
    // No device URI: no device; the validator compares whole credentials.
    assert_eq!(
        DeviceIdentity::of_credential(&x509(cert(1, None))).unwrap(),
        None
    );
    let none = Credential::X509 {
        certificates: Vec::new(),
    };
    assert_eq!(DeviceIdentity::of_credential(&none).unwrap(), None);
    // Two devices in one certificate, a malformed URI, a broken
    // certificate: refused.
    for bad in [
        cert(
            1,
            Some(&[b"mls-device:alice/phone", b"mls-device:alice/laptop"]),
        ),
        cert(1, Some(&[b"mls-device:alice/%zz"])),
        vec![0x30, 0x03, 0x30],
    ] {
        assert!(DeviceIdentity::of_credential(&x509(bad)).is_err());
    }
}

proptest::proptest! {
    /// Any pair round-trips, and any accepted identity is the one spelling
    /// of its pair: parse then encode gives back the input byte for byte.
    #[test]
    fn one_spelling_per_pair(
        user in proptest::collection::vec(proptest::num::u8::ANY, 1..40),
        name in proptest::collection::vec(proptest::num::u8::ANY, 1..40),
        noise in proptest::collection::vec(
            proptest::sample::select(b"ab/%2Ff0~ \xff".to_vec()),
            0..30,
        ),
    ) {
        let d = device(&user, &name);
        let identity = d.identity();
        proptest::prop_assert_eq!(DeviceIdentity::from_identity(&identity).unwrap(), d);
        let input = [b"mls-device:".as_slice(), &noise].concat();
        if let Ok(parsed) = DeviceIdentity::from_identity(&input) {
            proptest::prop_assert_eq!(parsed.identity(), input);
        }
    }

    /// Arbitrary bytes as a certificate: an answer, never a panic.
    #[test]
    fn any_certificate_bytes_get_an_answer(
        bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
    ) {
        let _ = DeviceIdentity::of_credential(&x509(bytes));
    }
}
