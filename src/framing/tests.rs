//! Framing rules fed with violating input.

use super::*;
use crate::ErrorCategory;
use crate::crypto::rust_crypto::RustCryptoProvider;
use crate::crypto::{CipherSuite, RandomSource, Secret, Suite};
use crate::schedule::{GroupContext, SecretTree, SecretTreeConfig};
use crate::types::ProtocolVersion;
use crate::types::math::{LeafCount, LeafIndex};

/// Deterministic randomness for tests.
struct Counter(u8);

impl RandomSource for Counter {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), crate::crypto::CryptoError> {
        for b in dest {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
        Ok(())
    }
}

struct Fx {
    suite: Suite,
    context: GroupContext,
    sk: crate::crypto::SignaturePrivateKey,
    pk: crate::crypto::SignaturePublicKey,
    membership_key: Secret,
    sender_data_secret: Secret,
}

fn fx() -> Fx {
    let suite = Suite::from_provider(
        &RustCryptoProvider,
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
    )
    .unwrap();
    let (sk, pk) = suite
        .primitives()
        .signature_key_pair(&mut Counter(0))
        .unwrap();
    Fx {
        context: GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: suite.id(),
            group_id: b"group".to_vec(),
            epoch: 3,
            tree_hash: vec![1; 32],
            confirmed_transcript_hash: vec![2; 32],
            extensions: vec![],
        },
        suite,
        sk,
        pk,
        membership_key: Secret::new(vec![3; 32]),
        sender_data_secret: Secret::new(vec![4; 32]),
    }
}

fn tree(fx: &Fx) -> SecretTree {
    SecretTree::new(
        &fx.suite,
        Secret::new(vec![5; 32]),
        LeafCount::new(2).unwrap(),
        SecretTreeConfig::default(),
    )
}

fn framed(fx: &Fx, content: Content) -> FramedContent {
    FramedContent {
        group_id: fx.context.group_id.clone(),
        epoch: fx.context.epoch,
        sender: Sender::Member(LeafIndex(1)),
        authenticated_data: b"aad".to_vec(),
        content,
    }
}

fn remove_proposal() -> Content {
    Content::Proposal(Box::new(crate::messages::proposals::Proposal::Remove(
        crate::messages::proposals::Remove {
            removed: LeafIndex(0),
        },
    )))
}

#[test]
fn application_data_in_public_message_is_rejected_6_2() {
    let fx = fx();
    let signed = sign_content(
        &fx.suite,
        WireFormat::PUBLIC_MESSAGE,
        framed(&fx, Content::Application(b"hi".to_vec())),
        &fx.context,
        &fx.sk,
    )
    .unwrap();
    // Sending side refuses.
    let err =
        to_public_message(&fx.suite, signed.clone(), &fx.membership_key, &fx.context).unwrap_err();
    assert_eq!(err.category(), ErrorCategory::ApiMisuse);
    // Receiving side rejects a peer that did it anyway.
    let msg = PublicMessage {
        content: signed.content,
        auth: signed.auth,
        membership_tag: Some(vec![0; 32]),
    };
    let err = from_public_message(&fx.suite, msg, &fx.membership_key, &fx.context).unwrap_err();
    assert!(
        matches!(err, crate::Error::Protocol { rule: "§6.2", .. }),
        "{err}"
    );
}

#[test]
fn bad_membership_tag_is_rejected_6_2() {
    let fx = fx();
    let signed = sign_content(
        &fx.suite,
        WireFormat::PUBLIC_MESSAGE,
        framed(&fx, remove_proposal()),
        &fx.context,
        &fx.sk,
    )
    .unwrap();
    let mut msg = to_public_message(&fx.suite, signed, &fx.membership_key, &fx.context).unwrap();
    assert!(from_public_message(&fx.suite, msg.clone(), &fx.membership_key, &fx.context).is_ok());
    msg.membership_tag.as_mut().unwrap()[0] ^= 1;
    let err = from_public_message(&fx.suite, msg, &fx.membership_key, &fx.context).unwrap_err();
    assert!(
        matches!(err, crate::Error::Protocol { rule: "§6.2", .. }),
        "{err}"
    );
}

#[test]
fn bad_signature_is_rejected_6_1() {
    let fx = fx();
    let mut signed = sign_content(
        &fx.suite,
        WireFormat::PUBLIC_MESSAGE,
        framed(&fx, remove_proposal()),
        &fx.context,
        &fx.sk,
    )
    .unwrap();
    verify_content(&fx.suite, &signed, &fx.context, &fx.pk).unwrap();
    // The signature covers the group context: another epoch must fail.
    let mut other = fx.context.clone();
    other.epoch += 1;
    let err = verify_content(&fx.suite, &signed, &other, &fx.pk).unwrap_err();
    assert!(
        matches!(err, crate::Error::Protocol { rule: "§6.1", .. }),
        "{err}"
    );
    signed.auth.signature[0] ^= 1;
    let err = verify_content(&fx.suite, &signed, &fx.context, &fx.pk).unwrap_err();
    assert!(
        matches!(err, crate::Error::Protocol { rule: "§6.1", .. }),
        "{err}"
    );
}

#[test]
fn private_message_roundtrip_and_tamper() {
    let fx = fx();
    let signed = sign_content(
        &fx.suite,
        WireFormat::PRIVATE_MESSAGE,
        framed(&fx, Content::Application(b"secret".to_vec())),
        &fx.context,
        &fx.sk,
    )
    .unwrap();
    let mut sender = tree(&fx);
    let mut rng = Counter(9);
    let msg = encrypt_private(
        &fx.suite,
        &signed,
        &mut sender,
        &fx.sender_data_secret,
        5,
        &mut rng,
    )
    .unwrap();
    let second = encrypt_private(
        &fx.suite,
        &signed,
        &mut sender,
        &fx.sender_data_secret,
        5,
        &mut rng,
    )
    .unwrap();
    // A new generation and reuse guard each time.
    assert_ne!(msg.ciphertext, second.ciphertext);

    let opened = decrypt_private(&fx.suite, &msg, &mut tree(&fx), &fx.sender_data_secret).unwrap();
    assert_eq!(opened, signed);
    verify_content(&fx.suite, &opened, &fx.context, &fx.pk).unwrap();

    // A receiver that first sees corrupted copies still decrypts the real
    // message afterwards: a failed decryption consumes no key.
    let mut receiver = tree(&fx);
    for tamper in 0..3 {
        let mut bad = msg.clone();
        match tamper {
            0 => bad.ciphertext[3] ^= 1,
            1 => bad.encrypted_sender_data[0] ^= 1,
            _ => bad.authenticated_data.push(0),
        }
        let err =
            decrypt_private(&fx.suite, &bad, &mut receiver, &fx.sender_data_secret).unwrap_err();
        assert_eq!(
            err.category(),
            ErrorCategory::Crypto,
            "tamper {tamper}: {err}"
        );
    }
    assert_eq!(
        decrypt_private(&fx.suite, &msg, &mut receiver, &fx.sender_data_secret).unwrap(),
        signed
    );
    // ... and exactly once (§9.2: the used key is deleted).
    let err = decrypt_private(&fx.suite, &msg, &mut receiver, &fx.sender_data_secret).unwrap_err();
    assert!(matches!(err, crate::Error::Replay(_)), "{err}");
}

#[test]
fn nonzero_padding_is_malformed_6_3_1() {
    use crate::codec::{Reader, encode};
    let content = PrivateMessageContent {
        content: Content::Application(b"x".to_vec()),
        auth: FramedContentAuthData {
            signature: vec![9; 4],
            confirmation_tag: None,
        },
        padding: 3,
    };
    let mut bytes = encode(&content).unwrap();
    let ok = PrivateMessageContent::decode_for(&mut Reader::new(&bytes), ContentType::Application)
        .unwrap();
    assert_eq!(ok, content);
    *bytes.last_mut().unwrap() = 1;
    let err = PrivateMessageContent::decode_for(&mut Reader::new(&bytes), ContentType::Application)
        .unwrap_err();
    assert!(err.to_string().contains("padding"), "{err}");
}

#[test]
fn commit_without_confirmation_tag_is_refused() {
    let fx = fx();
    let commit = Content::Commit(Box::new(crate::messages::commit::Commit {
        proposals: vec![],
        path: None,
    }));
    let signed = sign_content(
        &fx.suite,
        WireFormat::PUBLIC_MESSAGE,
        framed(&fx, commit),
        &fx.context,
        &fx.sk,
    )
    .unwrap();
    let err = to_public_message(&fx.suite, signed, &fx.membership_key, &fx.context).unwrap_err();
    assert_eq!(err.category(), ErrorCategory::ApiMisuse);
}
