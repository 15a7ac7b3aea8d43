//! The AEADs of the MLS suites: AES-128-GCM, AES-256-GCM and
//! ChaCha20-Poly1305.

use aes_gcm::aead::{AeadInOut, KeyInit, Nonce};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use zeroize::Zeroizing;

use crate::crypto::{CryptoError, Secret};

/// All three AEADs use 96-bit nonces.
const NONCE_LEN: usize = 12;

/// An AEAD algorithm of a supported suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AeadAlgorithm {
    /// AES-128-GCM (suites 0x0001, 0x0002).
    Aes128Gcm,
    /// AES-256-GCM (suites 0x0004, 0x0005, 0x0007).
    Aes256Gcm,
    /// ChaCha20-Poly1305 (suites 0x0003, 0x0006).
    ChaCha20Poly1305,
}

impl AeadAlgorithm {
    /// `AEAD.Nk`.
    pub(super) fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }

    /// The HPKE AEAD identifier (RFC 9180 §7.3).
    pub(super) fn hpke_id(self) -> u16 {
        match self {
            Self::Aes128Gcm => 0x0001,
            Self::Aes256Gcm => 0x0002,
            Self::ChaCha20Poly1305 => 0x0003,
        }
    }

    /// `AEAD.Nn`.
    pub(super) fn nonce_len(self) -> usize {
        NONCE_LEN
    }

    /// Encrypts `plaintext`; the result is the ciphertext with the tag
    /// appended.
    pub(super) fn seal(
        self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        match self {
            Self::Aes128Gcm => seal::<Aes128Gcm>(key, nonce, aad, plaintext),
            Self::Aes256Gcm => seal::<Aes256Gcm>(key, nonce, aad, plaintext),
            Self::ChaCha20Poly1305 => seal::<ChaCha20Poly1305>(key, nonce, aad, plaintext),
        }
    }

    /// Decrypts and authenticates `ciphertext` (tag appended).
    pub(super) fn open(
        self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError> {
        match self {
            Self::Aes128Gcm => open::<Aes128Gcm>(key, nonce, aad, ciphertext),
            Self::Aes256Gcm => open::<Aes256Gcm>(key, nonce, aad, ciphertext),
            Self::ChaCha20Poly1305 => open::<ChaCha20Poly1305>(key, nonce, aad, ciphertext),
        }
    }
}

fn seal<A: KeyInit + AeadInOut>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = A::new_from_slice(key).map_err(|_| CryptoError::InvalidKey)?;
    let nonce = Nonce::<A>::try_from(nonce).map_err(|_| CryptoError::EncryptionFailed)?;
    // Encrypted in place; the buffer is wiped if encryption fails while it
    // still holds plaintext.
    let mut buf = Zeroizing::new(plaintext.to_vec());
    cipher
        .encrypt_in_place(&nonce, aad, &mut *buf)
        .map_err(|_| CryptoError::EncryptionFailed)?;
    Ok(std::mem::take(&mut *buf))
}

fn open<A: KeyInit + AeadInOut>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Secret, CryptoError> {
    let cipher = A::new_from_slice(key).map_err(|_| CryptoError::InvalidKey)?;
    let nonce = Nonce::<A>::try_from(nonce).map_err(|_| CryptoError::DecryptionFailed)?;
    // Decrypted in place (the library rejects inputs shorter than the tag);
    // wiped if authentication fails after the keystream was applied.
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_in_place(&nonce, aad, &mut *buf)
        .map_err(|_| CryptoError::DecryptionFailed)?;
    Ok(Secret::new(std::mem::take(&mut *buf)))
}
