//! The three hash functions of the MLS suites (SHA-256, SHA-384, SHA-512)
//! with the HMAC and HKDF built on them.
//!
//! MAC, Extract and Expand take their variable input as a list of parts that
//! are fed to HMAC one after the other. HPKE's labelled operations (RFC 9180
//! §4) prefix a label to a possibly large input (a Welcome's `info` holds the
//! whole encrypted GroupInfo); streaming the parts avoids copying that input
//! into one buffer per call.

use hkdf::hmac::Hmac;
use hkdf::{GenericHkdf, HmacImpl};
use sha2::{Digest, Sha256, Sha384, Sha512};
use zeroize::Zeroize;

use crate::crypto::{CryptoError, Secret};

/// The version prefix of every HPKE label (RFC 9180 §4).
const HPKE_V1: &[u8] = b"HPKE-v1";

/// A hash function of a supported suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HashAlgorithm {
    /// SHA-256 (suites 0x0001-0x0003).
    Sha256,
    /// SHA-384 (suite 0x0007).
    Sha384,
    /// SHA-512 (suites 0x0004-0x0006).
    Sha512,
}

impl HashAlgorithm {
    /// Output length, `Nh`.
    pub(super) fn len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The HPKE KDF identifier of HKDF with this hash (RFC 9180 §7.2).
    pub(super) fn hpke_kdf_id(self) -> u16 {
        match self {
            Self::Sha256 => 0x0001,
            Self::Sha384 => 0x0002,
            Self::Sha512 => 0x0003,
        }
    }

    /// `Hash(data)`.
    pub(super) fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha384 => Sha384::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// `Hash` of the concatenation of `parts`.
    pub(super) fn hash_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            parts.iter().for_each(|p| d.update(p));
            d.finalize().to_vec()
        }
        match self {
            Self::Sha256 => run::<Sha256>(parts),
            Self::Sha384 => run::<Sha384>(parts),
            Self::Sha512 => run::<Sha512>(parts),
        }
    }

    /// HMAC over the concatenation of `parts`.
    pub(super) fn mac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Self::Sha256 => mac::<Hmac<Sha256>>(key, parts),
            Self::Sha384 => mac::<Hmac<Sha384>>(key, parts),
            Self::Sha512 => mac::<Hmac<Sha512>>(key, parts),
        }
    }

    /// `HKDF-Extract(salt, ikm)` with `ikm` the concatenation of `parts`.
    ///
    /// HKDF replaces an empty salt with `Nh` zero bytes; HMAC pads any key
    /// shorter than a block with zeros, so both give the same PRK and the
    /// salt is used as it is.
    pub(super) fn extract(self, salt: &[u8], ikm: &[&[u8]]) -> Secret {
        Secret::new(self.mac(salt, ikm))
    }

    /// `HKDF-Expand(prk, info, len)` with `info` the concatenation of `parts`.
    pub(super) fn expand(
        self,
        prk: &[u8],
        info: &[&[u8]],
        len: usize,
    ) -> Result<Secret, CryptoError> {
        if len > 255 * self.len() {
            return Err(CryptoError::KdfLength(len));
        }
        match self {
            Self::Sha256 => expand::<Hmac<Sha256>>(prk, info, len),
            Self::Sha384 => expand::<Hmac<Sha384>>(prk, info, len),
            Self::Sha512 => expand::<Hmac<Sha512>>(prk, info, len),
        }
    }

    /// [`Self::expand`] for each `(info, len)` of `outputs`, all from one
    /// `prk`, which HMAC is keyed with once.
    pub(super) fn expand_each(
        self,
        prk: &[u8],
        outputs: &[(&[u8], usize)],
    ) -> Result<Vec<Secret>, CryptoError> {
        if let Some(&(_, len)) = outputs.iter().find(|(_, len)| *len > 255 * self.len()) {
            return Err(CryptoError::KdfLength(len));
        }
        match self {
            Self::Sha256 => expand_each::<Hmac<Sha256>>(prk, outputs),
            Self::Sha384 => expand_each::<Hmac<Sha384>>(prk, outputs),
            Self::Sha512 => expand_each::<Hmac<Sha512>>(prk, outputs),
        }
    }

    /// HPKE's `LabeledExtract(salt, label, ikm)` (RFC 9180 §4) under
    /// `suite_id` (the KEM's or the whole HPKE suite's).
    pub(super) fn labeled_extract(
        self,
        suite_id: &[u8],
        salt: &[u8],
        label: &[u8],
        ikm: &[u8],
    ) -> Secret {
        self.extract(salt, &[HPKE_V1, suite_id, label, ikm])
    }

    /// HPKE's `LabeledExpand(prk, label, info, len)` (RFC 9180 §4) under
    /// `suite_id`, with `info` given in parts. `len` is encoded in two bytes.
    pub(super) fn labeled_expand(
        self,
        suite_id: &[u8],
        prk: &[u8],
        label: &[u8],
        info: &[&[u8]],
        len: usize,
    ) -> Result<Secret, CryptoError> {
        let encoded_len = u16::try_from(len)
            .map_err(|_| CryptoError::KdfLength(len))?
            .to_be_bytes();
        let mut parts: Vec<&[u8]> = vec![&encoded_len, HPKE_V1, suite_id, label];
        parts.extend_from_slice(info);
        self.expand(prk, &parts, len)
    }
}

fn mac<H: HmacImpl>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // `HmacImpl::new_from_slice` is infallible: HMAC takes keys of any length.
    let mut mac = H::new_from_slice(key);
    for part in parts {
        mac.update(part);
    }
    let mut tag = mac.finalize();
    let out = tag.to_vec();
    // The tag is a PRK when this is an Extract: wipe the stack copy.
    tag.as_mut_slice().zeroize();
    out
}

fn expand<H: HmacImpl>(prk: &[u8], info: &[&[u8]], len: usize) -> Result<Secret, CryptoError> {
    // RFC 5869 requires a PRK of at least Nh bytes; every secret fed to
    // Expand in MLS and HPKE is exactly Nh, so a shorter one is malformed.
    let hkdf = GenericHkdf::<H>::from_prk(prk).map_err(|_| CryptoError::InvalidKey)?;
    let mut okm = vec![0; len];
    hkdf.expand_multi_info(info, &mut okm)
        .map_err(|_| CryptoError::KdfLength(len))?;
    Ok(Secret::new(okm))
}

fn expand_each<H: HmacImpl>(
    prk: &[u8],
    outputs: &[(&[u8], usize)],
) -> Result<Vec<Secret>, CryptoError> {
    // As in `expand`; the keyed HMAC state is cloned for each output.
    let hkdf = GenericHkdf::<H>::from_prk(prk).map_err(|_| CryptoError::InvalidKey)?;
    outputs
        .iter()
        .map(|&(info, len)| {
            let mut okm = vec![0; len];
            hkdf.expand(info, &mut okm)
                .map_err(|_| CryptoError::KdfLength(len))?;
            Ok(Secret::new(okm))
        })
        .collect()
}
