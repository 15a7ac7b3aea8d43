use super::*;
use crate::crypto::CipherSuite;
use crate::crypto::rust_crypto::RustCryptoProvider;
use crate::schedule::{PreSharedKeyId, Psk};
use crate::types::ProtocolVersion;
use crate::types::error::ErrorCategory;

fn suite() -> Suite {
    Suite::from_provider(
        &RustCryptoProvider,
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
    )
    .unwrap()
}

fn context(epoch: u64) -> GroupContext {
    GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        group_id: b"group".to_vec(),
        epoch,
        tree_hash: vec![1; 32],
        confirmed_transcript_hash: vec![2; 32],
        extensions: Vec::new(),
    }
}

fn psk_id(n: u8) -> PreSharedKeyId {
    PreSharedKeyId {
        psk: Psk::External { psk_id: vec![n] },
        psk_nonce: vec![n; 32],
    }
}

#[test]
fn committer_and_joiner_agree() {
    let suite = suite();
    let gc = context(1);
    let psk = PskSecret::compute(&suite, [(&psk_id(1), b"psk".as_slice())]).unwrap();

    // The committer runs the whole chain ...
    let init = InitSecret::new(Secret::new(vec![9; 32]));
    let joiner = init
        .into_joiner_secret(&suite, Some(Secret::new(vec![3; 32])), &gc)
        .unwrap();
    let joiner_bytes = joiner.as_secret().clone();
    let welcome = joiner.welcome_secret(&suite, &psk).unwrap();
    let committer = joiner
        .into_epoch_secret(&suite, &psk, &gc)
        .unwrap()
        .into_epoch_secrets(&suite)
        .unwrap();

    // ... the new member starts from the joiner secret in GroupSecrets.
    let joiner = JoinerSecret::new(joiner_bytes);
    assert_eq!(joiner.welcome_secret(&suite, &psk).unwrap(), welcome);
    let member = joiner
        .into_epoch_secret(&suite, &psk, &gc)
        .unwrap()
        .into_epoch_secrets(&suite)
        .unwrap();
    assert_eq!(member, committer);

    let kn = welcome.key_and_nonce(&suite).unwrap();
    assert_eq!(kn.key.len(), 16);
    assert_eq!(kn.nonce.len(), 12);

    // Secrets of one epoch are pairwise distinct.
    let all = [
        &member.sender_data_secret,
        &member.encryption_secret,
        &member.exporter_secret,
        &member.external_secret,
        &member.confirmation_key,
        &member.membership_key,
        &member.resumption_psk,
        &member.epoch_authenticator,
        member.init_secret.as_secret(),
    ];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn context_and_psk_are_bound() {
    let suite = suite();
    let run = |gc: &GroupContext, psk: &PskSecret| {
        InitSecret::new(Secret::new(vec![9; 32]))
            .into_joiner_secret(&suite, None, gc)
            .unwrap()
            .into_epoch_secret(&suite, psk, gc)
            .unwrap()
            .into_epoch_secrets(&suite)
            .unwrap()
    };
    let zero = PskSecret::zero(&suite);
    let base = run(&context(1), &zero);
    assert_ne!(run(&context(2), &zero), base);
    let psk = PskSecret::compute(&suite, [(&psk_id(1), [7u8; 32].as_slice())]).unwrap();
    assert_ne!(run(&context(1), &psk), base);
}

#[test]
fn no_commit_secret_is_the_zero_vector() {
    let suite = suite();
    let gc = context(3);
    let a = InitSecret::new(Secret::new(vec![5; 32]))
        .into_joiner_secret(&suite, None, &gc)
        .unwrap();
    let b = InitSecret::new(Secret::new(vec![5; 32]))
        .into_joiner_secret(&suite, Some(Secret::zero(32)), &gc)
        .unwrap();
    assert_eq!(a.as_secret(), b.as_secret());
}

#[test]
fn wrong_lengths_are_misuse() {
    let suite = suite();
    let gc = context(0);
    let err = InitSecret::new(Secret::new(vec![5; 32]))
        .into_joiner_secret(&suite, Some(Secret::new(vec![1; 31])), &gc)
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::ApiMisuse, "{err}");
    assert!(err.to_string().contains("commit_secret"));

    let joiner = JoinerSecret::new(Secret::new(vec![1; 32]));
    let short = PskSecret::from_secret(Secret::new(vec![0; 16]));
    let err = joiner.welcome_secret(&suite, &short).unwrap_err();
    assert_eq!(err.category(), ErrorCategory::ApiMisuse, "{err}");

    let err = EpochSecret::for_new_group(&suite, Secret::new(vec![0; 48])).unwrap_err();
    assert_eq!(err.category(), ErrorCategory::ApiMisuse, "{err}");
}

#[test]
fn new_group_and_confirmation_tag() {
    let suite = suite();
    let secrets = EpochSecret::for_new_group(&suite, Secret::new(vec![42; 32]))
        .unwrap()
        .into_epoch_secrets(&suite)
        .unwrap();
    // §11: the creator confirms the empty confirmed transcript hash.
    let tag = secrets.confirmation_tag(&suite, &[]);
    assert_eq!(tag.len(), 32);
    secrets.verify_confirmation_tag(&suite, &[], &tag).unwrap();
    let mut bad = tag.clone();
    bad[0] ^= 1;
    let err = secrets
        .verify_confirmation_tag(&suite, &[], &bad)
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Crypto);
    assert!(
        secrets
            .verify_confirmation_tag(&suite, &[], &tag[..31])
            .is_err()
    );
    assert!(secrets.verify_confirmation_tag(&suite, &[0], &tag).is_err());
}

#[test]
fn exporter_and_external_key() {
    let suite = suite();
    let secrets = EpochSecret::new(Secret::new(vec![1; 32]))
        .into_epoch_secrets(&suite)
        .unwrap();
    let a = secrets.export(&suite, "a", b"ctx", 32).unwrap();
    let b = secrets.export(&suite, "b", b"ctx", 32).unwrap();
    let c = secrets.export(&suite, "a", b"other", 32).unwrap();
    assert_ne!(a, b);
    assert_ne!(a, c);
    assert_eq!(secrets.export(&suite, "a", b"ctx", 100).unwrap().len(), 100);
    assert!(secrets.export(&suite, "a", b"ctx", 1 << 16).is_err());

    let (private, public) = secrets.external_key_pair(&suite).unwrap();
    let (private2, public2) = external_key_pair(&suite, &secrets.external_secret).unwrap();
    assert_eq!(private, private2);
    assert_eq!(public, public2);
    assert_eq!(public.as_bytes().len(), 32);
}

#[test]
fn psk_secret_rules() {
    let suite = suite();
    let none: [(&PreSharedKeyId, &[u8]); 0] = [];
    assert_eq!(
        PskSecret::compute(&suite, none).unwrap(),
        PskSecret::zero(&suite)
    );
    assert_eq!(PskSecret::zero(&suite).as_secret().as_bytes(), &[0; 32]);

    // Order matters (§8.4: PSKs are chained in the order listed).
    let (a, b) = (psk_id(1), psk_id(2));
    let ab = PskSecret::compute(&suite, [(&a, b"x".as_slice()), (&b, b"y".as_slice())]).unwrap();
    let ba = PskSecret::compute(&suite, [(&b, b"y".as_slice()), (&a, b"x".as_slice())]).unwrap();
    assert_ne!(ab, ba);

    // §12.1.4: psk_nonce must be KDF.Nh bytes.
    let mut short = psk_id(3);
    short.psk_nonce.pop();
    let err = PskSecret::compute(&suite, [(&short, b"x".as_slice())]).unwrap_err();
    assert_eq!(err.category(), ErrorCategory::ProtocolViolation);
    assert!(err.to_string().contains("psk_nonce has 31 bytes"), "{err}");

    // PSKLabel.count is a uint16.
    let id = psk_id(4);
    let many = vec![(&id, b"".as_slice()); 65_536];
    let err = PskSecret::compute(&suite, many).unwrap_err();
    assert!(err.to_string().contains("65536 PSKs"), "{err}");
}

/// draft-ietf-mls-extensions, "Exported Secrets": `application_export_secret`
/// is derived from the epoch secret "in the same way as the other secrets
/// listed in Table 4 of RFC 9420 using the label `application_export`".
#[test]
fn application_export_secret_is_derive_secret_of_the_epoch_secret() {
    let suite = crate::test_support::default_suite().unwrap();
    let epoch = Secret::new(vec![0x17; suite.hash_len()]);
    let secrets = EpochSecret::new(epoch.clone())
        .into_epoch_secrets(&suite)
        .unwrap();
    let expected = suite
        .expand_with_label(
            epoch.as_bytes(),
            "application_export",
            &[],
            suite.hash_len(),
        )
        .unwrap();
    assert_eq!(secrets.application_export_secret, expected);
    assert_ne!(secrets.application_export_secret, secrets.exporter_secret);
}
