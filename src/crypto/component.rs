//! The labelled operations of the Safe Application Interface
//! (draft-ietf-mls-extensions, "The Safe Application Interface"): an
//! application component signs and encrypts with the group's keys under a
//! label that names the component, so its signatures and ciphertexts never
//! verify or decrypt as MLS's own or as another component's.

use super::labels::{prefixed_bytes, two_opaques};
use super::{
    CryptoError, HpkePrivateKey, HpkePublicKey, RandomSource, Secret, SignaturePrivateKey,
    SignaturePublicKey, Suite,
};
use crate::codec::Writer;

/// `ComponentID` (draft-ietf-mls-extensions, "Component IDs"): a two-byte
/// identifier the application assigns to each of its components. The
/// values 0x8000-0xffff are for private use; the registry's values are in
/// [`component_ids`].
pub type ComponentId = u16;

/// The component ids draft-ietf-mls-extensions registers ("MLS Component
/// Types"). Provisional: the draft's initial contents, not yet assigned by
/// IANA.
pub mod component_ids {
    use super::ComponentId;

    /// `app_components`: supported (leaf) or required (GroupContext)
    /// components.
    pub const APP_COMPONENTS: ComponentId = 0x0001;
    /// `safe_aad`: components that use Safe AAD.
    pub const SAFE_AAD: ComponentId = 0x0002;
    /// `content_media_types`: supported or required media types.
    pub const CONTENT_MEDIA_TYPES: ComponentId = 0x0003;
    /// `last_resort_key_package`: marks a KeyPackage as last-resort.
    pub const LAST_RESORT_KEY_PACKAGE: ComponentId = 0x0004;
    /// `app_ack`: an AppEphemeral acknowledgement.
    pub const APP_ACK: ComponentId = 0x0005;
}

/// The fixed `base_label` of every `ComponentOperationLabel`.
pub const COMPONENT_BASE_LABEL: &[u8] = b"MLS Component";

/// The encoded `ComponentOperationLabel { base_label = "MLS Component",
/// component_id, label }`: the label the safe operations pass to
/// SignWithLabel and EncryptWithLabel in place of MLS's own.
pub fn component_operation_label(
    component_id: ComponentId,
    label: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if label.len() > crate::codec::MAX_VECTOR_LEN {
        return Err(CryptoError::InputTooLong(label.len()));
    }
    let mut w = Writer::new();
    w.opaque(COMPONENT_BASE_LABEL);
    w.put(&component_id.to_be_bytes());
    w.opaque(label);
    w.finish().map_err(|e| CryptoError::InputTooLong(e.len))
}

/// `"MLS 1.0 " + ComponentOperationLabel`, as SignWithLabel and
/// EncryptWithLabel prefix every label (RFC 9420 §5.1.2, §5.1.3).
fn full_label(component_id: ComponentId, label: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(prefixed_bytes(&component_operation_label(
        component_id,
        label,
    )?))
}

impl Suite {
    /// `SafeSignWithLabel(SignatureKey, ComponentID, Label, Content)`:
    /// `SignWithLabel(SignatureKey, ComponentOperationLabel, Content)`.
    pub fn safe_sign_with_label(
        &self,
        key: &SignaturePrivateKey,
        component_id: ComponentId,
        label: &[u8],
        content: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let message = two_opaques(&full_label(component_id, label)?, content)?;
        self.inner.sign(key.as_bytes(), &message)
    }

    /// `SafeVerifyWithLabel(VerificationKey, ComponentID, Label, Content,
    /// SignatureValue)`.
    pub fn safe_verify_with_label(
        &self,
        key: &SignaturePublicKey,
        component_id: ComponentId,
        label: &[u8],
        content: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let message = two_opaques(&full_label(component_id, label)?, content)?;
        self.inner.verify(key.as_bytes(), &message, signature)
    }

    /// `SafeEncryptWithLabel(PublicKey, ComponentID, Label, Context,
    /// Plaintext)`: `EncryptWithLabel` with the ComponentOperationLabel.
    /// Returns `(kem_output, ciphertext)`.
    pub fn safe_encrypt_with_label(
        &self,
        public_key: &HpkePublicKey,
        component_id: ComponentId,
        label: &[u8],
        context: &[u8],
        plaintext: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        let info = two_opaques(&full_label(component_id, label)?, context)?;
        self.inner
            .hpke_seal(public_key.as_bytes(), &info, &[], plaintext, rng)
    }

    /// `SafeDecryptWithLabel(PrivateKey, ComponentID, Label, Context,
    /// KEMOutput, Ciphertext)`.
    pub fn safe_decrypt_with_label(
        &self,
        private_key: &HpkePrivateKey,
        component_id: ComponentId,
        label: &[u8],
        context: &[u8],
        kem_output: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError> {
        let info = two_opaques(&full_label(component_id, label)?, context)?;
        self.inner
            .hpke_open(private_key.as_bytes(), kem_output, &info, &[], ciphertext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SeededRandom;
    use crate::test_support::default_suite;

    /// The draft's formulas, computed here byte by byte:
    /// `ComponentOperationLabel` is `opaque base_label<V>`, `uint16`,
    /// `opaque label<V>`, and SafeSignWithLabel signs `SignContent` with
    /// `"MLS 1.0 " + ComponentOperationLabel` as its label.
    #[test]
    fn component_operation_label_follows_the_draft() {
        let encoded = component_operation_label(0x0a0b, b"chat").unwrap();
        let mut expected = vec![13];
        expected.extend_from_slice(b"MLS Component");
        expected.extend_from_slice(&[0x0a, 0x0b, 4]);
        expected.extend_from_slice(b"chat");
        assert_eq!(encoded, expected);

        let suite = default_suite().unwrap();
        let (sk, pk) = suite
            .primitives()
            .signature_key_pair(&mut SeededRandom::from_seed([3; 32]))
            .unwrap();
        let signature = suite
            .safe_sign_with_label(&sk, 0x0a0b, b"chat", b"content")
            .unwrap();
        // SignContent { label = "MLS 1.0 " + ComponentOperationLabel,
        // content }, each opaque<V>, verified with the raw primitive.
        let mut label = b"MLS 1.0 ".to_vec();
        label.extend_from_slice(&expected);
        let mut sign_content = vec![label.len() as u8];
        sign_content.extend_from_slice(&label);
        sign_content.push(7);
        sign_content.extend_from_slice(b"content");
        suite
            .primitives()
            .verify(pk.as_bytes(), &sign_content, &signature)
            .unwrap();
        suite
            .safe_verify_with_label(&pk, 0x0a0b, b"chat", b"content", &signature)
            .unwrap();
        // Another component, or MLS's own SignWithLabel with the text
        // label, does not verify it.
        assert!(
            suite
                .safe_verify_with_label(&pk, 0x0a0c, b"chat", b"content", &signature)
                .is_err()
        );
        assert!(
            suite
                .verify_with_label(&pk, "chat", b"content", &signature)
                .is_err()
        );
    }

    #[test]
    fn safe_encryption_decrypts_only_for_its_component_and_label() {
        let suite = default_suite().unwrap();
        let mut rng = SeededRandom::from_seed([4; 32]);
        let (sk, pk) = crate::tree::private::generate_hpke_key_pair(&suite, &mut rng).unwrap();
        let (kem, ct) = suite
            .safe_encrypt_with_label(&pk, 7, b"files", b"ctx", b"secret", &mut rng)
            .unwrap();
        let pt = suite
            .safe_decrypt_with_label(&sk, 7, b"files", b"ctx", &kem, &ct)
            .unwrap();
        assert_eq!(pt.as_bytes(), b"secret");
        // EncryptWithLabel's info is EncryptContext { label, context }:
        // decrypting with the raw primitive and that info works.
        let mut label = b"MLS 1.0 ".to_vec();
        label.extend_from_slice(&component_operation_label(7, b"files").unwrap());
        let mut info = vec![label.len() as u8];
        info.extend_from_slice(&label);
        info.push(3);
        info.extend_from_slice(b"ctx");
        let raw = suite
            .primitives()
            .hpke_open(sk.as_bytes(), &kem, &info, &[], &ct)
            .unwrap();
        assert_eq!(raw.as_bytes(), b"secret");
        for (id, label) in [(8, &b"files"[..]), (7, &b"other"[..])] {
            assert!(
                suite
                    .safe_decrypt_with_label(&sk, id, label, b"ctx", &kem, &ct)
                    .is_err()
            );
        }
    }
}
