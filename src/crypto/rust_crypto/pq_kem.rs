//! The post-quantum HPKE KEMs of draft-ietf-hpke-pq: ML-KEM-768 (0x0041),
//! ML-KEM-1024 (0x0042), and the PQ/T hybrids MLKEM768-P256 (0x0050),
//! MLKEM1024-P384 (0x0051) and MLKEM768-X25519 (0x647a, X-Wing).
//!
//! ML-KEM itself comes from the RustCrypto `ml-kem` crate (FIPS 203). The
//! hybrids are the "CG" (C2PRI) combiner of draft-irtf-cfrg-hybrid-kems as
//! instantiated by draft-irtf-cfrg-concrete-hybrid-kems, written here on top
//! of `ml-kem` and the same curve crates as the DHKEMs, so all three share
//! one code path:
//!
//! - a private key is a 32-byte seed, expanded by SHAKE256 into an ML-KEM
//!   seed (`d || z`, 64 bytes) and a traditional seed (`Nseed_T` bytes) that
//!   `RandomScalar` turns into a scalar;
//! - the public key and the ciphertext are `ML-KEM part || ECDH part`;
//! - the shared secret is `SHA3-256(ss_PQ || ss_T || ct_T || ek_T || label)`.
//!
//! `DeriveKeyPair(ikm)` (draft-ietf-hpke-pq) is
//! `SHAKE256.LabeledDerive(ikm, "DeriveKeyPair", "", Nsk)` followed by the
//! KEM's own key derivation from that seed. Private keys are stored in seed
//! form (64 bytes for ML-KEM, 32 for the hybrids), as the draft serializes
//! them.
//!
//! Encapsulation draws its randomness (`Nrandom` bytes) from the caller's
//! [`RandomSource`] and uses it exactly as the derandomized encapsulation of
//! the drafts does (`m` for ML-KEM, then the ephemeral ECDH seed), so a
//! fixed source replays the official test vectors.
//!
//! Every length is checked before bytes reach `ml-kem` or a curve crate;
//! malformed input yields a [`CryptoError`], never a panic.

use ml_kem::kem::{Decapsulate as _, KeyExport as _};
use sha3::{Digest, Sha3_256};
use shake::{ExtendableOutput as _, Shake256, Update as _, XofReader as _};
use zeroize::Zeroizing;

use super::dhkem::{nist_dh, nist_point, nist_public_key, nist_secret};
use crate::crypto::{CryptoError, RandomSource, Secret};

/// The version prefix of every HPKE label.
const HPKE_V1: &[u8] = b"HPKE-v1";
/// Length of the ML-KEM randomness `m` of `Encaps_internal` (FIPS 203).
const MLKEM_RANDOM_LEN: usize = 32;
/// Length of an ML-KEM seed `d || z` (the draft's decapsulation key form).
const MLKEM_SEED_LEN: usize = 64;
/// Length of a hybrid KEM's seed (its decapsulation key), `Nseed` = `Nsk`.
const HYBRID_SEED_LEN: usize = 32;

/// A post-quantum or PQ/T hybrid HPKE KEM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PqKem {
    /// ML-KEM-768 (0x0041).
    MlKem768,
    /// ML-KEM-1024 (0x0042).
    MlKem1024,
    /// MLKEM768-P256 (0x0050).
    MlKem768P256,
    /// MLKEM1024-P384 (0x0051).
    MlKem1024P384,
    /// MLKEM768-X25519 (0x647a), identical to X-Wing.
    MlKem768X25519,
}

/// The ML-KEM parameter set inside a KEM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MlKem {
    K768,
    K1024,
}

/// The traditional nominal group of a hybrid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    X25519,
    P256,
    P384,
}

impl MlKem {
    /// `Nek` of FIPS 203.
    fn public_key_len(self) -> usize {
        match self {
            Self::K768 => 1184,
            Self::K1024 => 1568,
        }
    }

    /// `Nct` of FIPS 203.
    fn ciphertext_len(self) -> usize {
        match self {
            Self::K768 => 1088,
            Self::K1024 => 1568,
        }
    }
}

impl Group {
    /// `Nseed`: bytes of randomness `RandomScalar` consumes. For P-256 this
    /// is three 32-byte candidates, as in the reference implementation that
    /// produced the draft-ietf-hpke-pq test vectors (their `ikmE` holds
    /// 32 + 96 bytes); the concrete-hybrid-kems text has since moved to four.
    /// The two agree unless three uniformly random candidates in a row are
    /// out of range, which has probability below 2^-96.
    fn seed_len(self) -> usize {
        match self {
            Self::X25519 => 32,
            Self::P256 => 96,
            Self::P384 => 48,
        }
    }

    /// `Nscalar`.
    fn scalar_len(self) -> usize {
        match self {
            Self::X25519 | Self::P256 => 32,
            Self::P384 => 48,
        }
    }

    /// `Nelem`: an X25519 u-coordinate or an uncompressed SEC1 point.
    fn element_len(self) -> usize {
        match self {
            Self::X25519 => 32,
            Self::P256 => 65,
            Self::P384 => 97,
        }
    }

    /// `RandomScalar(seed)`: the seed itself for X25519; for the NIST curves
    /// the first `Nscalar`-byte big-endian candidate in `[1, n)`.
    fn random_scalar(self, seed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if seed.len() != self.seed_len() {
            return Err(CryptoError::InvalidKey);
        }
        match self {
            Self::X25519 => Ok(Zeroizing::new(seed.to_vec())),
            Self::P256 | Self::P384 => seed
                .chunks_exact(self.scalar_len())
                .find(|candidate| self.check_scalar(candidate).is_ok())
                .map(|candidate| Zeroizing::new(candidate.to_vec()))
                // All candidates out of range: negligible for random seeds.
                .ok_or(CryptoError::InvalidKey),
        }
    }

    fn check_scalar(self, scalar: &[u8]) -> Result<(), CryptoError> {
        match self {
            Self::X25519 => Ok(()),
            Self::P256 => nist_secret::<p256::NistP256>(scalar).map(drop),
            Self::P384 => nist_secret::<p384::NistP384>(scalar).map(drop),
        }
    }

    /// `Exp(g, x)`, serialized.
    fn base_exp(self, scalar: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            Self::X25519 => {
                let k: Zeroizing<[u8; 32]> =
                    Zeroizing::new(scalar.try_into().map_err(|_| CryptoError::InvalidKey)?);
                let secret = x25519_dalek::StaticSecret::from(*k);
                Ok(x25519_dalek::PublicKey::from(&secret).as_bytes().to_vec())
            }
            Self::P256 => nist_public_key::<p256::NistP256>(scalar),
            Self::P384 => nist_public_key::<p384::NistP384>(scalar),
        }
    }

    /// Checks a received element: its length and, for the NIST curves, an
    /// uncompressed point on the curve other than the identity. Every
    /// 32-byte string is an X25519 element.
    fn check_element(self, element: &[u8]) -> Result<(), CryptoError> {
        if element.len() != self.element_len() {
            return Err(CryptoError::InvalidKey);
        }
        match self {
            Self::X25519 => Ok(()),
            Self::P256 => nist_point::<p256::NistP256>(element).map(drop),
            Self::P384 => nist_point::<p384::NistP384>(element).map(drop),
        }
    }

    /// `ElementToSharedSecret(Exp(element, x))`: the X25519 output as it is
    /// (the concrete draft, like X-Wing, does not reject an all-zero one),
    /// or the x-coordinate of the NIST point.
    fn shared(self, scalar: &[u8], element: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.check_element(element)?;
        match self {
            Self::X25519 => {
                let k: Zeroizing<[u8; 32]> =
                    Zeroizing::new(scalar.try_into().map_err(|_| CryptoError::InvalidKey)?);
                let u: [u8; 32] = element.try_into().map_err(|_| CryptoError::InvalidKey)?;
                let mut out = x25519_dalek::x25519(*k, u);
                let shared = Zeroizing::new(out.to_vec());
                zeroize::Zeroize::zeroize(&mut out);
                Ok(shared)
            }
            Self::P256 => nist_dh::<p256::NistP256>(scalar, element),
            Self::P384 => nist_dh::<p384::NistP384>(scalar, element),
        }
    }
}

/// The ML-KEM operations of one parameter set: key generation from a seed,
/// derandomized encapsulation, decapsulation. The `ml-kem` crate's generic
/// bounds are private, so the two instances are stamped out by a macro.
macro_rules! mlkem_params {
    ($module:ident, $params:ident) => {
        mod $module {
            use super::*;
            use ml_kem::$params::{Ciphertext, DecapsulationKey, EncapsulationKey};

            fn decapsulation_key(seed: &[u8]) -> Result<DecapsulationKey, CryptoError> {
                let seed = ml_kem::Seed::try_from(seed).map_err(|_| CryptoError::InvalidKey)?;
                // The key zeroizes itself on drop (feature `zeroize`).
                Ok(DecapsulationKey::from_seed(seed))
            }

            /// `ML-KEM.KeyGen_internal(d, z)`; the encapsulation key.
            pub(super) fn public_key(seed: &[u8]) -> Result<Vec<u8>, CryptoError> {
                Ok(decapsulation_key(seed)?
                    .encapsulation_key()
                    .to_bytes()
                    .to_vec())
            }

            /// The FIPS 203 §7.2 encapsulation key check (length and
            /// modulus).
            pub(super) fn check_public_key(ek: &[u8]) -> Result<EncapsulationKey, CryptoError> {
                let key = ek.try_into().map_err(|_| CryptoError::InvalidKey)?;
                EncapsulationKey::new(key).map_err(|_| CryptoError::InvalidKey)
            }

            /// `ML-KEM.Encaps_internal(ek, m)`: `(ss, ct)`.
            pub(super) fn encap(
                ek: &[u8],
                m: &[u8],
            ) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), CryptoError> {
                let key = check_public_key(ek)?;
                let m = Zeroizing::new(
                    ml_kem::B32::try_from(m).map_err(|_| CryptoError::EncryptionFailed)?,
                );
                let (ct, mut ss) = key.encapsulate_deterministic(&m);
                let shared = Zeroizing::new(ss.to_vec());
                zeroize::Zeroize::zeroize(ss.as_mut_slice());
                Ok((shared, ct.to_vec()))
            }

            /// `ML-KEM.Decaps(dk, ct)` with `dk` expanded from its seed. A
            /// ciphertext of the wrong length fails; any other ciphertext
            /// yields a key (implicit rejection).
            pub(super) fn decap(seed: &[u8], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
                let ct = Ciphertext::try_from(ct).map_err(|_| CryptoError::DecryptionFailed)?;
                let mut ss = decapsulation_key(seed)?.decapsulate(&ct);
                let shared = Zeroizing::new(ss.to_vec());
                zeroize::Zeroize::zeroize(ss.as_mut_slice());
                Ok(shared)
            }
        }
    };
}

mlkem_params!(mlkem768, ml_kem_768);
mlkem_params!(mlkem1024, ml_kem_1024);

impl MlKem {
    fn public_key(self, seed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            Self::K768 => mlkem768::public_key(seed),
            Self::K1024 => mlkem1024::public_key(seed),
        }
    }

    fn check_public_key(self, ek: &[u8]) -> Result<(), CryptoError> {
        match self {
            Self::K768 => mlkem768::check_public_key(ek).map(drop),
            Self::K1024 => mlkem1024::check_public_key(ek).map(drop),
        }
    }

    fn encap(self, ek: &[u8], m: &[u8]) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), CryptoError> {
        match self {
            Self::K768 => mlkem768::encap(ek, m),
            Self::K1024 => mlkem1024::encap(ek, m),
        }
    }

    fn decap(self, seed: &[u8], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        match self {
            Self::K768 => mlkem768::decap(seed, ct),
            Self::K1024 => mlkem1024::decap(seed, ct),
        }
    }
}

/// A hybrid's key pair expanded from its seed.
struct Expanded {
    mlkem_seed: Zeroizing<Vec<u8>>,
    scalar: Zeroizing<Vec<u8>>,
    ek_pq: Vec<u8>,
    ek_t: Vec<u8>,
}

impl PqKem {
    /// The HPKE KEM identifier.
    pub(super) fn id(self) -> u16 {
        match self {
            Self::MlKem768 => 0x0041,
            Self::MlKem1024 => 0x0042,
            Self::MlKem768P256 => 0x0050,
            Self::MlKem1024P384 => 0x0051,
            Self::MlKem768X25519 => 0x647a,
        }
    }

    fn mlkem(self) -> MlKem {
        match self {
            Self::MlKem768 | Self::MlKem768P256 | Self::MlKem768X25519 => MlKem::K768,
            Self::MlKem1024 | Self::MlKem1024P384 => MlKem::K1024,
        }
    }

    /// The traditional group of a hybrid; `None` for pure ML-KEM.
    fn group(self) -> Option<Group> {
        match self {
            Self::MlKem768 | Self::MlKem1024 => None,
            Self::MlKem768P256 => Some(Group::P256),
            Self::MlKem1024P384 => Some(Group::P384),
            Self::MlKem768X25519 => Some(Group::X25519),
        }
    }

    /// The combiner's domain-separation label (concrete-hybrid-kems).
    fn label(self) -> &'static [u8] {
        match self {
            Self::MlKem768 | Self::MlKem1024 => b"",
            Self::MlKem768P256 => b"MLKEM768-P256",
            Self::MlKem1024P384 => b"MLKEM1024-P384",
            Self::MlKem768X25519 => b"\\.//^\\",
        }
    }

    /// `Nsk`: 64 (ML-KEM seed) or 32 (hybrid seed).
    pub(super) fn private_key_len(self) -> usize {
        match self.group() {
            None => MLKEM_SEED_LEN,
            Some(_) => HYBRID_SEED_LEN,
        }
    }

    /// `Npk`.
    pub(super) fn public_key_len(self) -> usize {
        self.mlkem().public_key_len() + self.group().map_or(0, Group::element_len)
    }

    /// `Nenc`.
    pub(super) fn enc_len(self) -> usize {
        self.mlkem().ciphertext_len() + self.group().map_or(0, Group::element_len)
    }

    /// `Nrandom`: bytes of randomness one encapsulation draws.
    pub(super) fn random_len(self) -> usize {
        MLKEM_RANDOM_LEN + self.group().map_or(0, Group::seed_len)
    }

    /// `SHAKE256.LabeledDerive(ikm, label, context, L)` (draft-ietf-hpke-hpke
    /// §4) under this KEM's `suite_id = "KEM" || I2OSP(kem_id, 2)`.
    fn labeled_derive(self, ikm: &[u8], label: &[u8], context: &[u8], len: usize) -> Secret {
        let [hi, lo] = self.id().to_be_bytes();
        // Labels and lengths here are short constants.
        let label_len = u16::try_from(label.len()).unwrap_or(u16::MAX).to_be_bytes();
        let out_len = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
        let mut xof = Shake256::default();
        xof.update(ikm);
        xof.update(HPKE_V1);
        xof.update(&[b'K', b'E', b'M', hi, lo]);
        xof.update(&label_len);
        xof.update(label);
        xof.update(&out_len);
        xof.update(context);
        let mut out = vec![0u8; len];
        xof.finalize_xof().read(&mut out);
        Secret::new(out)
    }

    /// `DeriveKeyPair(ikm)`: `(sk, pk)` with `sk` in seed form.
    pub(super) fn derive_key_pair(self, ikm: &[u8]) -> Result<(Secret, Vec<u8>), CryptoError> {
        let sk = self.labeled_derive(ikm, b"DeriveKeyPair", b"", self.private_key_len());
        let pk = self.public_key(sk.as_bytes())?;
        Ok((sk, pk))
    }

    /// `SerializePublicKey(pk(sk))`.
    pub(super) fn public_key(self, sk: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sk.len() != self.private_key_len() {
            return Err(CryptoError::InvalidKey);
        }
        match self.group() {
            None => self.mlkem().public_key(sk),
            Some(group) => {
                let expanded = self.expand(group, sk)?;
                let mut pk = expanded.ek_pq;
                pk.extend_from_slice(&expanded.ek_t);
                Ok(pk)
            }
        }
    }

    /// `DeserializePublicKey` checks: the exact length, the ML-KEM
    /// encapsulation key check, and a valid point for the NIST curves.
    pub(super) fn check_public_key(self, pk: &[u8]) -> Result<(), CryptoError> {
        if pk.len() != self.public_key_len() {
            return Err(CryptoError::InvalidKey);
        }
        let (ek_pq, ek_t) = pk.split_at(self.mlkem().public_key_len());
        self.mlkem().check_public_key(ek_pq)?;
        match self.group() {
            None => Ok(()),
            Some(group) => group.check_element(ek_t),
        }
    }

    /// `expandDecapsKey(seed)` of the hybrid framework: SHAKE256 stretches
    /// the seed to the ML-KEM seed and the traditional seed.
    fn expand(self, group: Group, seed: &[u8]) -> Result<Expanded, CryptoError> {
        let mut full = Zeroizing::new(vec![0u8; MLKEM_SEED_LEN + group.seed_len()]);
        let mut xof = Shake256::default();
        xof.update(seed);
        xof.finalize_xof().read(&mut full);
        let (seed_pq, seed_t) = full.split_at(MLKEM_SEED_LEN);
        let scalar = group.random_scalar(seed_t)?;
        let ek_t = group.base_exp(&scalar)?;
        let ek_pq = self.mlkem().public_key(seed_pq)?;
        Ok(Expanded {
            mlkem_seed: Zeroizing::new(seed_pq.to_vec()),
            scalar,
            ek_pq,
            ek_t,
        })
    }

    /// The C2PRI combiner: `SHA3-256(ss_PQ || ss_T || ct_T || ek_T || label)`.
    fn combine(self, ss_pq: &[u8], ss_t: &[u8], ct_t: &[u8], ek_t: &[u8]) -> Secret {
        let mut hash = Sha3_256::new();
        for part in [ss_pq, ss_t, ct_t, ek_t, self.label()] {
            Digest::update(&mut hash, part);
        }
        let mut out = hash.finalize();
        let shared = Secret::from_slice(&out);
        zeroize::Zeroize::zeroize(out.as_mut_slice());
        shared
    }

    /// `Encap(pkR)`: `(shared_secret, enc)`, with `Nrandom` bytes from `rng`.
    pub(super) fn encap(
        self,
        pk_r: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Secret, Vec<u8>), CryptoError> {
        if pk_r.len() != self.public_key_len() {
            return Err(CryptoError::InvalidKey);
        }
        let mut randomness = Zeroizing::new(vec![0u8; self.random_len()]);
        rng.fill(&mut randomness)?;
        self.encap_derand(pk_r, &randomness)
    }

    /// `EncapsDerand(pkR, randomness)`: ML-KEM's `m` first, then the
    /// ephemeral seed of the traditional group.
    fn encap_derand(
        self,
        pk_r: &[u8],
        randomness: &[u8],
    ) -> Result<(Secret, Vec<u8>), CryptoError> {
        let (ek_pq, ek_t) = pk_r.split_at(self.mlkem().public_key_len());
        let (m, seed_e) = randomness.split_at(MLKEM_RANDOM_LEN);
        let (ss_pq, mut enc) = self.mlkem().encap(ek_pq, m)?;
        let Some(group) = self.group() else {
            return Ok((Secret::from_slice(&ss_pq), enc));
        };
        group
            .check_element(ek_t)
            .map_err(|_| CryptoError::InvalidKey)?;
        let sk_e = group
            .random_scalar(seed_e)
            .map_err(|_| CryptoError::EncryptionFailed)?;
        let ct_t = group.base_exp(&sk_e)?;
        let ss_t = group.shared(&sk_e, ek_t)?;
        let shared = self.combine(&ss_pq, &ss_t, &ct_t, ek_t);
        enc.extend_from_slice(&ct_t);
        Ok((shared, enc))
    }

    /// `Decap(enc, skR)`. A malformed `enc` (wrong length, or for the NIST
    /// curves not a valid point) is the sender's fault: `DecryptionFailed`.
    /// A well-formed but wrong one yields an unrelated secret (ML-KEM's
    /// implicit rejection), which the AEAD then refuses.
    pub(super) fn decap(self, enc: &[u8], sk_r: &[u8]) -> Result<Secret, CryptoError> {
        if sk_r.len() != self.private_key_len() {
            return Err(CryptoError::InvalidKey);
        }
        if enc.len() != self.enc_len() {
            return Err(CryptoError::DecryptionFailed);
        }
        let (ct_pq, ct_t) = enc.split_at(self.mlkem().ciphertext_len());
        let Some(group) = self.group() else {
            let ss = self.mlkem().decap(sk_r, ct_pq)?;
            return Ok(Secret::from_slice(&ss));
        };
        group
            .check_element(ct_t)
            .map_err(|_| CryptoError::DecryptionFailed)?;
        let expanded = self.expand(group, sk_r)?;
        let ss_pq = self.mlkem().decap(&expanded.mlkem_seed, ct_pq)?;
        let ss_t = group
            .shared(&expanded.scalar, ct_t)
            .map_err(|_| CryptoError::DecryptionFailed)?;
        Ok(self.combine(&ss_pq, &ss_t, ct_t, &expanded.ek_t))
    }
}
