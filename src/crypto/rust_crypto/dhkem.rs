//! DHKEM (RFC 9180 §4.1) over the five curves of the MLS suites: X25519,
//! X448 (RFC 7748), and P-256, P-384, P-521 (uncompressed SEC1 points).
//!
//! Key formats are RFC 9180's `SerializePublicKey`/`SerializePrivateKey`
//! (§7.1.1-§7.1.2): Montgomery keys are their little-endian byte strings,
//! NIST private keys their fixed-length big-endian scalar, NIST public keys
//! the uncompressed point. Every function checks lengths and encodings itself,
//! so wire bytes never reach a library call that could panic.

use p256::elliptic_curve::sec1::{FromSec1Point, ModulusSize, ToSec1Point};
use p256::elliptic_curve::{AffinePoint, CurveArithmetic, FieldBytesSize, PublicKey, SecretKey};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::hash::HashAlgorithm;
use crate::crypto::{CryptoError, RandomSource, Secret};

/// A DHKEM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DhKem {
    /// DHKEM(X25519, HKDF-SHA256).
    X25519,
    /// DHKEM(X448, HKDF-SHA512).
    X448,
    /// DHKEM(P-256, HKDF-SHA256).
    P256,
    /// DHKEM(P-384, HKDF-SHA384).
    P384,
    /// DHKEM(P-521, HKDF-SHA512).
    P521,
}

impl DhKem {
    /// The KEM identifier (RFC 9180 §7.1).
    pub(super) fn id(self) -> u16 {
        match self {
            Self::P256 => 0x0010,
            Self::P384 => 0x0011,
            Self::P521 => 0x0012,
            Self::X25519 => 0x0020,
            Self::X448 => 0x0021,
        }
    }

    /// The KDF of the KEM itself; `Nsecret` is its output length.
    fn kdf(self) -> HashAlgorithm {
        match self {
            Self::X25519 | Self::P256 => HashAlgorithm::Sha256,
            Self::P384 => HashAlgorithm::Sha384,
            Self::X448 | Self::P521 => HashAlgorithm::Sha512,
        }
    }

    /// `Nsk`: the length of a serialized private key.
    pub(super) fn private_key_len(self) -> usize {
        match self {
            Self::X25519 | Self::P256 => 32,
            Self::P384 => 48,
            Self::X448 => 56,
            Self::P521 => 66,
        }
    }

    /// `Npk` (= `Nenc`): the length of a serialized public key.
    fn public_key_len(self) -> usize {
        match self {
            Self::X25519 => 32,
            Self::X448 => 56,
            Self::P256 => 65,
            Self::P384 => 97,
            Self::P521 => 133,
        }
    }

    /// `suite_id = concat("KEM", I2OSP(kem_id, 2))`.
    fn suite_id(self) -> [u8; 5] {
        let [hi, lo] = self.id().to_be_bytes();
        [b'K', b'E', b'M', hi, lo]
    }

    fn labeled_extract(self, salt: &[u8], label: &[u8], ikm: &[u8]) -> Secret {
        self.kdf()
            .labeled_extract(&self.suite_id(), salt, label, ikm)
    }

    fn labeled_expand(
        self,
        prk: &[u8],
        label: &[u8],
        info: &[&[u8]],
        len: usize,
    ) -> Result<Secret, CryptoError> {
        self.kdf()
            .labeled_expand(&self.suite_id(), prk, label, info, len)
    }

    /// `DeriveKeyPair(ikm)` (RFC 9180 §7.1.3); returns `(sk, pk)`.
    pub(super) fn derive_key_pair(self, ikm: &[u8]) -> Result<(Secret, Vec<u8>), CryptoError> {
        let dkp_prk = self.labeled_extract(&[], b"dkp_prk", ikm);
        let nsk = self.private_key_len();
        let sk = match self {
            Self::X25519 | Self::X448 => {
                self.labeled_expand(dkp_prk.as_bytes(), b"sk", &[], nsk)?
            }
            Self::P256 | Self::P384 | Self::P521 => {
                // Rejection sampling: each candidate is masked to the bit
                // length of the order and kept if it is in [1, n).
                let bitmask = if self == Self::P521 { 0x01 } else { 0xff };
                let mut found = None;
                for counter in 0..=255u8 {
                    let candidate =
                        self.labeled_expand(dkp_prk.as_bytes(), b"candidate", &[&[counter]], nsk)?;
                    let mut bytes = Zeroizing::new(candidate.as_bytes().to_vec());
                    bytes[0] &= bitmask;
                    if self.check_private_key(&bytes).is_ok() {
                        found = Some(Secret::new(std::mem::take(&mut *bytes)));
                        break;
                    }
                }
                // Failing 256 times has probability below 2^-256 * 256.
                found.ok_or(CryptoError::InvalidKey)?
            }
        };
        let pk = self.public_key(sk.as_bytes())?;
        Ok((sk, pk))
    }

    /// `SerializePublicKey(pk(sk))`.
    pub(super) fn public_key(self, sk: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.check_private_key(sk)?;
        match self {
            Self::X25519 => {
                // The fixed-base multiplication with precomputed tables
                // (ed25519-dalek's `fast`) costs about a quarter of the
                // Montgomery ladder `x25519(k, 9)` runs; same result, as
                // both clamp `k`. Every HPKE seal derives one such key.
                let k = secret_array(sk)?;
                let secret = x25519_dalek::StaticSecret::from(*k);
                Ok(x25519_dalek::PublicKey::from(&secret).as_bytes().to_vec())
            }
            Self::X448 => {
                let k = secret_array(sk)?;
                Ok(x448::x448_unchecked(*k, x448::X448_BASEPOINT_BYTES).to_vec())
            }
            Self::P256 => nist_public_key::<p256::NistP256>(sk),
            Self::P384 => nist_public_key::<p384::NistP384>(sk),
            Self::P521 => nist_public_key::<p521::NistP521>(sk),
        }
    }

    /// `DeserializePrivateKey` checks: the exact length and, for the NIST
    /// curves, a scalar in `[1, n)`. (Every string of the right length is a
    /// Montgomery private key: clamping happens inside the DH function.)
    pub(super) fn check_private_key(self, sk: &[u8]) -> Result<(), CryptoError> {
        if sk.len() != self.private_key_len() {
            return Err(CryptoError::InvalidKey);
        }
        match self {
            Self::X25519 | Self::X448 => Ok(()),
            Self::P256 => nist_secret::<p256::NistP256>(sk).map(drop),
            Self::P384 => nist_secret::<p384::NistP384>(sk).map(drop),
            Self::P521 => nist_secret::<p521::NistP521>(sk).map(drop),
        }
    }

    /// `DeserializePublicKey` checks: the exact length and, for the NIST
    /// curves, an uncompressed point on the curve that is not the identity
    /// (RFC 9180 §7.1.1 allows only the uncompressed form; §7.1.4 requires
    /// the on-curve check).
    pub(super) fn check_public_key(self, pk: &[u8]) -> Result<(), CryptoError> {
        if pk.len() != self.public_key_len() {
            return Err(CryptoError::InvalidKey);
        }
        match self {
            Self::X25519 | Self::X448 => Ok(()),
            Self::P256 => nist_point::<p256::NistP256>(pk).map(drop),
            Self::P384 => nist_point::<p384::NistP384>(pk).map(drop),
            Self::P521 => nist_point::<p521::NistP521>(pk).map(drop),
        }
    }

    /// `DH(sk, pk)`. For the Montgomery curves an all-zero output (a
    /// low-order `pk`) is an error, as RFC 9180 §7.1.4 requires.
    fn dh(self, sk: &[u8], pk: &[u8]) -> Result<Secret, CryptoError> {
        self.check_private_key(sk)?;
        self.check_public_key(pk)?;
        let shared = match self {
            Self::X25519 => wiped(x25519_dalek::x25519(*secret_array(sk)?, array(pk)?)),
            Self::X448 => wiped(x448::x448_unchecked(*secret_array(sk)?, array(pk)?)),
            Self::P256 => nist_dh::<p256::NistP256>(sk, pk)?,
            Self::P384 => nist_dh::<p384::NistP384>(sk, pk)?,
            Self::P521 => nist_dh::<p521::NistP521>(sk, pk)?,
        };
        let all_zero = vec![0u8; shared.len()];
        if bool::from(shared.as_slice().ct_eq(&all_zero)) {
            return Err(CryptoError::EncryptionFailed);
        }
        Ok(Secret::from_slice(&shared))
    }

    /// `ExtractAndExpand(dh, kem_context)`.
    fn extract_and_expand(self, dh: &Secret, kem_context: &[&[u8]]) -> Result<Secret, CryptoError> {
        let eae_prk = self.labeled_extract(&[], b"eae_prk", dh.as_bytes());
        self.labeled_expand(
            eae_prk.as_bytes(),
            b"shared_secret",
            kem_context,
            self.kdf().len(),
        )
    }

    /// `Encap(pkR)`: `(shared_secret, enc)`. The ephemeral key is
    /// `DeriveKeyPair` of `Nsk` bytes drawn from `rng`, which is how RFC 9180
    /// §7.1.3 defines `GenerateKeyPair` for deterministic testing, and keeps
    /// the randomness injected.
    pub(super) fn encap(
        self,
        pk_r: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Secret, Vec<u8>), CryptoError> {
        self.check_public_key(pk_r)?;
        let mut ikm = Zeroizing::new(vec![0u8; self.private_key_len()]);
        rng.fill(&mut ikm)?;
        let (sk_e, enc) = self.derive_key_pair(&ikm)?;
        let dh = self.dh(sk_e.as_bytes(), pk_r)?;
        let shared = self.extract_and_expand(&dh, &[&enc, pk_r])?;
        Ok((shared, enc))
    }

    /// `Decap(enc, skR)`. A malformed or low-order `enc` is the sender's
    /// fault: `DecryptionFailed`.
    pub(super) fn decap(self, enc: &[u8], sk_r: &[u8]) -> Result<Secret, CryptoError> {
        let pk_rm = self.public_key(sk_r)?;
        self.check_public_key(enc)
            .map_err(|_| CryptoError::DecryptionFailed)?;
        let dh = self
            .dh(sk_r, enc)
            .map_err(|_| CryptoError::DecryptionFailed)?;
        self.extract_and_expand(&dh, &[enc, &pk_rm])
    }
}

/// A fixed-size copy of a public key whose length was already checked.
fn array<const N: usize>(bytes: &[u8]) -> Result<[u8; N], CryptoError> {
    bytes.try_into().map_err(|_| CryptoError::InvalidKey)
}

/// A fixed-size copy of a private key, wiped when dropped.
fn secret_array<const N: usize>(bytes: &[u8]) -> Result<Zeroizing<[u8; N]>, CryptoError> {
    array(bytes).map(Zeroizing::new)
}

/// A DH output moved to the heap; the stack copy is wiped.
fn wiped<const N: usize>(mut shared: [u8; N]) -> Zeroizing<Vec<u8>> {
    let out = Zeroizing::new(shared.to_vec());
    shared.zeroize();
    out
}

pub(super) fn nist_secret<C>(sk: &[u8]) -> Result<SecretKey<C>, CryptoError>
where
    C: CurveArithmetic,
{
    // `from_slice` would left-pad a short slice; lengths are checked by the
    // caller, so this only rejects zero and scalars >= n.
    SecretKey::<C>::from_slice(sk).map_err(|_| CryptoError::InvalidKey)
}

pub(super) fn nist_point<C>(pk: &[u8]) -> Result<PublicKey<C>, CryptoError>
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    if pk.first() != Some(&0x04) {
        return Err(CryptoError::InvalidKey);
    }
    PublicKey::<C>::from_sec1_bytes(pk).map_err(|_| CryptoError::InvalidKey)
}

pub(super) fn nist_public_key<C>(sk: &[u8]) -> Result<Vec<u8>, CryptoError>
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    let public = nist_secret::<C>(sk)?.public_key();
    Ok(public.as_affine().to_sec1_point(false).as_bytes().to_vec())
}

pub(super) fn nist_dh<C>(sk: &[u8], pk: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError>
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    let secret = nist_secret::<C>(sk)?;
    let public = nist_point::<C>(pk)?;
    // The x-coordinate of the shared point, `Ndh` bytes (RFC 9180 §7.1).
    let shared = secret.diffie_hellman(&public);
    Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
}
