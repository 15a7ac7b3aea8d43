use super::*;
use crate::codec::encode;
use crate::crypto::SeededRandom;
use crate::test_support::default_suite;

fn key_pair(seed: u8) -> (SignaturePrivateKey, SignaturePublicKey) {
    default_suite()
        .unwrap()
        .primitives()
        .signature_key_pair(&mut SeededRandom::from_seed([seed; 32]))
        .unwrap()
}

fn binding(seed: u8, leaf_key: &SignaturePublicKey) -> CredentialBinding {
    let (sk, pk) = key_pair(seed);
    CredentialBinding::sign(
        &default_suite().unwrap(),
        Credential::basic(format!("bound-{seed}")),
        pk,
        &sk,
        leaf_key,
    )
    .unwrap()
}

/// The signature is `SignWithLabel(credential_key, "CredentialBindingTBS",
/// CredentialBindingTBS)`, computed here byte by byte: `SignContent` is
/// `opaque label<V>` ("MLS 1.0 CredentialBindingTBS") then `opaque
/// content<V>`, and the content is `cipher_suite`, `credential`,
/// `credential_key`, `signature_key`.
#[test]
fn the_binding_signature_follows_the_draft() {
    let suite = default_suite().unwrap();
    let (_, leaf_key) = key_pair(1);
    let b = binding(2, &leaf_key);

    let mut content = vec![0x00, 0x01]; // cipher suite 1
    content.extend_from_slice(&[0x00, 0x01, 7]); // basic, identity<V>
    content.extend_from_slice(b"bound-2");
    content.push(b.credential_key.as_bytes().len() as u8);
    content.extend_from_slice(b.credential_key.as_bytes());
    content.push(leaf_key.as_bytes().len() as u8);
    content.extend_from_slice(leaf_key.as_bytes());
    let label = b"MLS 1.0 CredentialBindingTBS";
    let mut sign_content = vec![label.len() as u8];
    sign_content.extend_from_slice(label);
    // 78 bytes: a two-byte varint header (§2.1.2).
    assert_eq!(content.len(), 78);
    sign_content.extend_from_slice(&[0x40, 78]);
    sign_content.extend_from_slice(&content);
    suite
        .primitives()
        .verify(b.credential_key.as_bytes(), &sign_content, &b.signature)
        .unwrap();
    b.verify(&suite, &leaf_key).unwrap();

    // Another leaf key, another credential, or the leaf's own key as
    // signer do not verify.
    let (_, other_leaf) = key_pair(3);
    assert!(b.verify(&suite, &other_leaf).is_err());
    let mut changed = b.clone();
    changed.credential = Credential::basic("someone else");
    assert!(changed.verify(&suite, &leaf_key).is_err());
    let mut rekeyed = b.clone();
    rekeyed.credential_key = leaf_key.clone();
    assert!(rekeyed.verify(&suite, &leaf_key).is_err());
    // A binding claiming another suite is not verified with this one.
    let mut other_suite = b;
    other_suite.cipher_suite = CipherSuite(2);
    assert_eq!(
        other_suite.verify(&suite, &leaf_key),
        Err(CryptoError::UnsupportedSuite(CipherSuite(2)))
    );
}

/// `MultiCredential` is `CredentialBinding bindings<V>` after the type:
/// the bytes of an `opaque<V>` of the bindings, so the credential
/// round-trips through the codec as a `Credential`.
#[test]
fn multi_credentials_encode_as_the_draft_and_round_trip() {
    let (_, leaf_key) = key_pair(1);
    let bindings = vec![binding(2, &leaf_key), binding(3, &leaf_key)];
    let multi = Credential::multi(&bindings).unwrap();
    let weak = Credential::weak_multi(&bindings).unwrap();
    assert_eq!(multi.credential_type(), CredentialType::MULTI);
    assert_eq!(weak.credential_type(), CredentialType::WEAK_MULTI);
    assert_eq!(CredentialType::MULTI.0, 0x0003);
    assert_eq!(CredentialType::WEAK_MULTI.0, 0x0004);

    let mut body = Vec::new();
    for b in &bindings {
        body.extend_from_slice(&encode(b).unwrap());
    }
    let bytes = encode(&multi).unwrap();
    assert_eq!(&bytes[..2], &[0x00, 0x03]);
    assert_eq!(&bytes[bytes.len() - body.len()..], &body[..]);
    let back: Credential = crate::codec::decode_exact(&bytes).unwrap();
    assert_eq!(back, multi);
    assert_eq!(back.bindings().unwrap().unwrap(), bindings);
    assert!(Credential::basic("x").bindings().is_none());
}

#[test]
fn malformed_multi_credentials_are_refused() {
    let (_, leaf_key) = key_pair(1);
    let one = binding(2, &leaf_key);
    let other = |data: Vec<u8>| Credential::Other {
        credential_type: CredentialType::MULTI,
        data,
    };
    // Garbage, a truncated binding, trailing bytes after the last one.
    assert!(matches!(
        other(vec![0xff, 0xff]).bindings(),
        Some(Err(MultiCredentialError::Malformed(_)))
    ));
    let full = encode(&one).unwrap();
    assert!(matches!(
        other(full[..full.len() - 1].to_vec()).bindings(),
        Some(Err(MultiCredentialError::Malformed(_)))
    ));
    let mut trailing = full.clone();
    trailing.push(0);
    assert!(matches!(
        other(trailing).bindings(),
        Some(Err(MultiCredentialError::Malformed(_)))
    ));
    // No binding.
    assert_eq!(
        other(Vec::new()).bindings(),
        Some(Err(MultiCredentialError::Empty))
    );
    assert_eq!(Credential::multi(&[]), Err(MultiCredentialError::Empty));
    // Nested.
    let mut nested = one.clone();
    nested.credential = Credential::multi(std::slice::from_ref(&one)).unwrap();
    assert_eq!(
        Credential::weak_multi(&[one.clone(), nested.clone()]),
        Err(MultiCredentialError::Nested(1))
    );
    assert_eq!(
        other(encode(&nested).unwrap()).bindings(),
        Some(Err(MultiCredentialError::Nested(0)))
    );
    // The limit.
    let many = vec![one; MAX_BINDINGS + 1];
    assert_eq!(
        Credential::multi(&many),
        Err(MultiCredentialError::TooMany(MAX_BINDINGS + 1))
    );
    let mut body = Vec::new();
    for b in &many {
        body.extend_from_slice(&encode(b).unwrap());
    }
    assert!(matches!(
        other(body).bindings(),
        Some(Err(MultiCredentialError::TooMany(_)))
    ));
    assert!(Credential::multi(&many[..MAX_BINDINGS]).is_ok());
}
