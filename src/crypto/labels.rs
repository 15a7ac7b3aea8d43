use std::sync::Arc;

use super::{
    CipherSuite, CryptoError, CryptoProvider, HpkePrivateKey, HpkePublicKey, PreparedHpkeInfo,
    RandomSource, Secret, SignaturePrivateKey, SignaturePublicKey, SuiteCrypto,
};
use crate::codec::{Writer, wire_struct};

/// Prefix of every label MLS feeds to a KDF, signature or HPKE (§5.1.2).
const LABEL_PREFIX: &[u8] = b"MLS 1.0 ";

/// The HPKE exporter context of External Initialization (§8.3).
const EXTERNAL_INIT_EXPORTER_CONTEXT: &[u8] = b"MLS 1.0 external init secret";

wire_struct! {
    /// `KDFLabel` (§8): the `info` input of ExpandWithLabel.
    #[derive(Debug, Clone)]
    pub struct KdfLabel {
        /// Output length.
        pub length: u16,
        /// `"MLS 1.0 " + Label`.
        pub label: Vec<u8>,
        /// Context bytes.
        pub context: Vec<u8>,
    }
}

fn prefixed(label: &str) -> Vec<u8> {
    prefixed_bytes(label.as_bytes())
}

/// `"MLS 1.0 " + label` for a label that is bytes, not text (the encoded
/// `ComponentOperationLabel` of the safe application interface).
pub(super) fn prefixed_bytes(label: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(LABEL_PREFIX.len() + label.len());
    out.extend_from_slice(LABEL_PREFIX);
    out.extend_from_slice(label);
    out
}

/// The encoding of [`KdfLabel`] `{length, "MLS 1.0 " + label, context}`,
/// written into one buffer of the right size: every application message
/// runs five ExpandWithLabel, and building the struct first cost three
/// copies and a reallocation each.
fn kdf_label(
    length: u16,
    label: &[u8],
    context: &[u8],
) -> Result<Vec<u8>, crate::codec::EncodeError> {
    // Two bytes of length and at most four of each vector header.
    let mut w = Writer::with_capacity(2 + 4 + LABEL_PREFIX.len() + label.len() + 4 + context.len());
    w.put(&length.to_be_bytes());
    w.vector(|w| {
        w.put(LABEL_PREFIX);
        w.put(label);
    });
    w.opaque(context);
    w.finish()
}

/// Encodes two `opaque<V>` fields back to back: the shape of `SignContent`,
/// `EncryptContext` and `RefHashInput`. A field longer than the 2^30 - 1
/// bytes a length header can express is an error: signing or hashing any
/// stand-in for it would cover other bytes than the caller's.
pub(super) fn two_opaques(a: &[u8], b: &[u8]) -> Result<Vec<u8>, CryptoError> {
    // Checked up front so an oversized input is not copied first.
    if let Some(too_long) = [a.len(), b.len()]
        .into_iter()
        .find(|n| *n > crate::codec::MAX_VECTOR_LEN)
    {
        return Err(CryptoError::InputTooLong(too_long));
    }
    // Two headers of at most four bytes each.
    let mut w = Writer::with_capacity(a.len() + b.len() + 8);
    w.opaque(a);
    w.opaque(b);
    w.finish().map_err(|e| CryptoError::InputTooLong(e.len))
}

/// A cipher suite ready to use: the primitives plus every labelled operation
/// MLS builds from them. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Suite {
    pub(super) inner: Arc<dyn SuiteCrypto>,
    /// Where the suites of credential bindings (draft-ietf-mls-extensions,
    /// Multi-Credentials) are found, when they differ from this one.
    others: Option<Arc<dyn CryptoProvider>>,
}

impl Suite {
    /// Wraps a suite implementation.
    pub fn new(inner: Arc<dyn SuiteCrypto>) -> Self {
        Self {
            inner,
            others: None,
        }
    }

    /// This suite, able to reach the other suites of `provider`: a
    /// multi-credential's bindings may be signed in any suite.
    pub fn with_provider(mut self, provider: Arc<dyn CryptoProvider>) -> Self {
        self.others = Some(provider);
        self
    }

    /// The suite `id`: this one, or another of the provider given to
    /// [`Self::with_provider`]. `None` when it is not available here.
    pub fn other_suite(&self, id: CipherSuite) -> Option<Suite> {
        if id == self.id() {
            return Some(self.clone());
        }
        let inner = self.others.as_ref()?.suite(id)?;
        Some(Self {
            inner,
            others: self.others.clone(),
        })
    }

    /// Looks up `suite` in `provider`. Converted into [`crate::Error`], a
    /// missing suite is [`crate::Error::Unsupported`].
    pub fn from_provider(
        provider: &dyn CryptoProvider,
        suite: CipherSuite,
    ) -> Result<Self, CryptoError> {
        provider
            .suite(suite)
            .map(Self::new)
            .ok_or(CryptoError::UnsupportedSuite(suite))
    }

    /// The underlying primitives.
    pub fn primitives(&self) -> &dyn SuiteCrypto {
        &*self.inner
    }

    /// The suite identifier.
    pub fn id(&self) -> CipherSuite {
        self.inner.cipher_suite()
    }

    /// `KDF.Nh`.
    pub fn hash_len(&self) -> usize {
        self.inner.hash_len()
    }

    /// `Hash(data)`.
    pub fn hash(&self, data: &[u8]) -> Vec<u8> {
        self.inner.hash(data)
    }

    /// `MAC(key, data)`.
    pub fn mac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        self.inner.mac(key, data)
    }

    /// `Hash` of the concatenation of `parts`, without concatenating them.
    pub fn hash_parts(&self, parts: &[&[u8]]) -> Vec<u8> {
        self.inner.hash_parts(parts)
    }

    /// [`Self::verify_mac`] over the concatenation of `parts`.
    pub fn verify_mac_parts(
        &self,
        key: &[u8],
        parts: &[&[u8]],
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        let expected = Secret::new(self.inner.mac_parts(key, parts));
        if expected.ct_eq(tag) {
            Ok(())
        } else {
            Err(CryptoError::InvalidMac)
        }
    }

    /// Checks `tag == MAC(key, data)` in constant time.
    pub fn verify_mac(&self, key: &[u8], data: &[u8], tag: &[u8]) -> Result<(), CryptoError> {
        let expected = Secret::new(self.inner.mac(key, data));
        if expected.ct_eq(tag) {
            Ok(())
        } else {
            Err(CryptoError::InvalidMac)
        }
    }

    /// `KDF.Extract(salt, ikm)`.
    pub fn extract(&self, salt: &[u8], ikm: &[u8]) -> Secret {
        self.inner.kdf_extract(salt, ikm)
    }

    /// `ExpandWithLabel(secret, label, context, length)` (§8).
    pub fn expand_with_label(
        &self,
        secret: &[u8],
        label: &str,
        context: &[u8],
        length: usize,
    ) -> Result<Secret, CryptoError> {
        let length16 = u16::try_from(length).map_err(|_| CryptoError::KdfLength(length))?;
        let info = kdf_label(length16, label.as_bytes(), context)
            .map_err(|_| CryptoError::KdfLength(length))?;
        self.inner.kdf_expand(secret, &info, length)
    }

    /// [`Self::expand_with_label`] of one `secret` and `context` for each
    /// `(label, length)` of `outputs`, in order, through
    /// [`SuiteCrypto::kdf_expand_each`].
    pub fn expand_with_labels(
        &self,
        secret: &[u8],
        context: &[u8],
        outputs: &[(&str, usize)],
    ) -> Result<Vec<Secret>, CryptoError> {
        let infos = outputs
            .iter()
            .map(|&(label, length)| {
                let length16 = u16::try_from(length).map_err(|_| CryptoError::KdfLength(length))?;
                kdf_label(length16, label.as_bytes(), context)
                    .map_err(|_| CryptoError::KdfLength(length))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let requests: Vec<(&[u8], usize)> = infos
            .iter()
            .zip(outputs)
            .map(|(info, &(_, length))| (info.as_slice(), length))
            .collect();
        self.inner.kdf_expand_each(secret, &requests)
    }

    /// `DeriveSecret(secret, label)` (§8).
    pub fn derive_secret(&self, secret: &[u8], label: &str) -> Result<Secret, CryptoError> {
        self.expand_with_label(secret, label, &[], self.hash_len())
    }

    /// `DeriveTreeSecret(secret, label, generation, length)` (§9).
    pub fn derive_tree_secret(
        &self,
        secret: &[u8],
        label: &str,
        generation: u32,
        length: usize,
    ) -> Result<Secret, CryptoError> {
        self.expand_with_label(secret, label, &generation.to_be_bytes(), length)
    }

    /// `RefHash(label, value)` (§5.2). `label` is used as given.
    pub fn ref_hash(&self, label: &[u8], value: &[u8]) -> Result<Vec<u8>, CryptoError> {
        Ok(self.inner.hash(&two_opaques(label, value)?))
    }

    /// `MakeKeyPackageRef(value)` (§5.2) over an encoded KeyPackage.
    pub fn key_package_ref(&self, key_package: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.ref_hash(b"MLS 1.0 KeyPackage Reference", key_package)
    }

    /// `MakeProposalRef(value)` (§5.2) over an encoded AuthenticatedContent.
    pub fn proposal_ref(&self, authenticated_content: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.ref_hash(b"MLS 1.0 Proposal Reference", authenticated_content)
    }

    /// `SignWithLabel(key, label, content)` (§5.1.2).
    pub fn sign_with_label(
        &self,
        key: &SignaturePrivateKey,
        label: &str,
        content: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.inner
            .sign(key.as_bytes(), &two_opaques(&prefixed(label), content)?)
    }

    /// `VerifyWithLabel(key, label, content, signature)` (§5.1.2).
    pub fn verify_with_label(
        &self,
        key: &SignaturePublicKey,
        label: &str,
        content: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.inner.verify(
            key.as_bytes(),
            &two_opaques(&prefixed(label), content)?,
            signature,
        )
    }

    /// [`Self::verify_with_label`] with `content` the concatenation of
    /// `parts`: `SignContent` is assembled from them in one buffer (the
    /// signature schemes take the message whole) instead of the content
    /// first and `SignContent` around a copy of it.
    pub fn verify_with_label_parts(
        &self,
        key: &SignaturePublicKey,
        label: &str,
        parts: &[&[u8]],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > crate::codec::MAX_VECTOR_LEN {
            return Err(CryptoError::InputTooLong(len));
        }
        let label = prefixed(label);
        // Sized up front: the content may be megabytes.
        let mut message = Vec::with_capacity(label.len() + len + 8);
        for (field_len, field) in [(label.len(), &[&label[..]][..]), (len, parts)] {
            let mut header = [0u8; 4];
            let n = crate::codec::write_varint_len(field_len, &mut header)
                .ok_or(CryptoError::InputTooLong(field_len))?;
            message.extend_from_slice(&header[..n]);
            field.iter().for_each(|p| message.extend_from_slice(p));
        }
        self.inner.verify(key.as_bytes(), &message, signature)
    }

    /// `EncryptWithLabel(pk, label, context, plaintext)` (§5.1.3); returns
    /// `(kem_output, ciphertext)`.
    pub fn encrypt_with_label(
        &self,
        public_key: &HpkePublicKey,
        label: &str,
        context: &[u8],
        plaintext: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        let info = two_opaques(&prefixed(label), context)?;
        self.inner
            .hpke_seal(public_key.as_bytes(), &info, &[], plaintext, rng)
    }

    /// Prepares `EncryptWithLabel`'s HPKE `info` (§5.1.3) once, for
    /// [`encrypt_with_prepared`](Self::encrypt_with_prepared) to many
    /// recipients: a Welcome encrypts its GroupSecrets to every new member
    /// with the encrypted GroupInfo as context (§12.4.3.1), and hashing that
    /// context once keeps adding n members O(n).
    pub fn prepare_encrypt_context(
        &self,
        label: &str,
        context: &[u8],
    ) -> Result<PreparedHpkeInfo, CryptoError> {
        let info = two_opaques(&prefixed(label), context)?;
        Ok(self.inner.hpke_prepare_info(&info))
    }

    /// `EncryptWithLabel(pk, label, context, plaintext)` with `label` and
    /// `context` prepared by
    /// [`prepare_encrypt_context`](Self::prepare_encrypt_context); returns
    /// `(kem_output, ciphertext)`.
    pub fn encrypt_with_prepared(
        &self,
        public_key: &HpkePublicKey,
        prepared: &PreparedHpkeInfo,
        plaintext: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.inner
            .hpke_seal_prepared(public_key.as_bytes(), prepared, &[], plaintext, rng)
    }

    /// `DecryptWithLabel(sk, label, context, kem_output, ciphertext)` (§5.1.3).
    pub fn decrypt_with_label(
        &self,
        private_key: &HpkePrivateKey,
        label: &str,
        context: &[u8],
        kem_output: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError> {
        let info = two_opaques(&prefixed(label), context)?;
        self.inner
            .hpke_open(private_key.as_bytes(), kem_output, &info, &[], ciphertext)
    }

    /// Checks a batch of `VerifyWithLabel(key, label, content, signature)`
    /// (§5.1.2) at once. `Ok` exactly when every item verifies; otherwise
    /// `Err` with the index of the first item that does not.
    ///
    /// The whole batch is tried first (faster where the suite supports batch
    /// verification); only if it fails are the items verified one by one to
    /// find the culprit. Individual verification is authoritative: should a
    /// provider reject a batch whose items all verify individually, the
    /// batch is accepted.
    pub fn verify_batch_with_label(
        &self,
        items: &[(&SignaturePublicKey, &str, &[u8], &[u8])],
    ) -> std::result::Result<(), usize> {
        let mut messages: Vec<Vec<u8>> = Vec::with_capacity(items.len());
        for (i, (_, label, content, _)) in items.iter().enumerate() {
            // Content too long to sign cannot carry a valid signature.
            messages.push(two_opaques(&prefixed(label), content).map_err(|_| i)?);
        }
        let batch: Vec<(&[u8], &[u8], &[u8])> = items
            .iter()
            .zip(&messages)
            .map(|((key, _, _, signature), message)| {
                (key.as_bytes(), message.as_slice(), *signature)
            })
            .collect();
        if self.inner.verify_batch(&batch).is_ok() {
            return Ok(());
        }
        match batch.iter().position(|(key, message, signature)| {
            self.inner.verify(key, message, signature).is_err()
        }) {
            Some(index) => Err(index),
            None => Ok(()),
        }
    }

    /// External Initialization, joiner side (§8.3):
    /// `kem_output, context = SetupBaseS(external_pub, "")` and
    /// `init_secret = context.export("MLS 1.0 external init secret", KDF.Nh)`.
    /// Returns `(kem_output, init_secret)`; the randomness of the
    /// encapsulation comes from `rng`.
    pub fn external_init_sender(
        &self,
        external_pub: &HpkePublicKey,
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Secret), CryptoError> {
        self.inner.hpke_export_sender(
            external_pub.as_bytes(),
            &[],
            EXTERNAL_INIT_EXPORTER_CONTEXT,
            self.hash_len(),
            rng,
        )
    }

    /// External Initialization, member side (§8.3):
    /// `context = SetupBaseR(kem_output, external_priv, "")` and
    /// `init_secret = context.export("MLS 1.0 external init secret", KDF.Nh)`.
    ///
    /// A well-formed but forged `kem_output` is not detected here: it yields
    /// an unrelated `init_secret`, and the Commit that carried it then fails
    /// its confirmation tag.
    pub fn external_init_receiver(
        &self,
        external_priv: &HpkePrivateKey,
        kem_output: &[u8],
    ) -> Result<Secret, CryptoError> {
        self.inner.hpke_export_receiver(
            external_priv.as_bytes(),
            kem_output,
            &[],
            EXTERNAL_INIT_EXPORTER_CONTEXT,
            self.hash_len(),
        )
    }

    /// `KEM.DeriveKeyPair(ikm)`.
    pub fn derive_key_pair(
        &self,
        ikm: &[u8],
    ) -> Result<(HpkePrivateKey, HpkePublicKey), CryptoError> {
        self.inner.hpke_derive_key_pair(ikm)
    }

    /// AEAD encryption with the suite's AEAD.
    pub fn aead_seal(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.inner.aead_seal(key, nonce, aad, plaintext)
    }

    /// AEAD decryption with the suite's AEAD.
    pub fn aead_open(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError> {
        self.inner.aead_open(key, nonce, aad, ciphertext)
    }

    /// `AEAD.Nk`.
    pub fn aead_key_len(&self) -> usize {
        self.inner.aead_key_len()
    }

    /// `AEAD.Nn`.
    pub fn aead_nonce_len(&self) -> usize {
        self.inner.aead_nonce_len()
    }
}

#[cfg(test)]
mod kdf_label_tests {
    use super::*;

    /// The one-buffer encoding is byte for byte the encoding of the
    /// `KdfLabel` struct, across every vector header size (contexts of 0,
    /// 63/64 and 16383/16384 bytes change the header from one byte to two
    /// to four).
    #[test]
    fn kdf_label_matches_the_struct_encoding() {
        for context_len in [0, 1, 63, 64, 16_383, 16_384, 70_000] {
            for label in [
                "",
                "key",
                "a label long enough to need more than one header byte, indeed",
            ] {
                let context = vec![0x5a; context_len];
                let direct = kdf_label(42, label.as_bytes(), &context).expect("encodes");
                let via_struct = crate::codec::encode(&KdfLabel {
                    length: 42,
                    label: prefixed(label),
                    context,
                })
                .expect("encodes");
                assert_eq!(direct, via_struct, "context {context_len}, label {label:?}");
            }
        }
    }
}
