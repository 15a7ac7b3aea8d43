//! ML-DSA-44, ML-DSA-65 and ML-DSA-87 (FIPS 204) from the RustCrypto
//! `ml-dsa` crate, in the form draft-ietf-mls-pq-ciphersuites takes from
//! draft-ietf-tls-mldsa: "pure" ML-DSA (no pre-hash) with an empty context
//! string, the public key as `pkEncode` and the signature as `sigEncode`
//! (raw fixed-length byte strings). MLS's SignWithLabel content is the
//! message as it is.
//!
//! A private key is the 32-byte seed `xi` of `ML-DSA.KeyGen_internal`; the
//! expanded key is recomputed when signing. Signing uses the deterministic
//! variant of FIPS 204 (`rnd` all zero): the provider's `sign` takes no
//! random source, and verification accepts both variants.

use ml_dsa::{
    EncodedSignature, EncodedVerifyingKey, Keypair as _, MlDsaParams, Signature, Signer as _,
    SigningKey, VerifyingKey,
};
use zeroize::Zeroizing;

use crate::crypto::CryptoError;

/// Length of a private key (the seed `xi`).
pub(super) const SEED_LEN: usize = 32;

fn signing_key<P: MlDsaParams>(seed: &[u8]) -> Result<SigningKey<P>, CryptoError> {
    let seed: Zeroizing<ml_dsa::Seed> =
        Zeroizing::new(seed.try_into().map_err(|_| CryptoError::InvalidKey)?);
    // The key zeroizes itself on drop (feature `zeroize`).
    Ok(SigningKey::from_seed(&seed))
}

/// `pkEncode` of the key generated from `seed`.
pub(super) fn public_key<P: MlDsaParams>(seed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(signing_key::<P>(seed)?.verifying_key().encode().to_vec())
}

/// `ML-DSA.Sign(sk, message, ctx = "")`, deterministic variant.
pub(super) fn sign<P: MlDsaParams>(seed: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
    // The crate's `Signer` is the deterministic variant with an empty
    // context; it fails only if rejection sampling never ends.
    let signature: Signature<P> = signing_key::<P>(seed)?
        .try_sign(message)
        .map_err(|_| CryptoError::InvalidKey)?;
    Ok(signature.encode().to_vec())
}

/// `ML-DSA.Verify(pk, message, signature, ctx = "")`. Both lengths are
/// exact; a signature whose hint or response is malformed is refused when
/// decoded.
pub(super) fn verify<P: MlDsaParams>(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let key =
        EncodedVerifyingKey::<P>::try_from(public_key).map_err(|_| CryptoError::InvalidKey)?;
    let key = VerifyingKey::<P>::decode(&key);
    let signature = EncodedSignature::<P>::try_from(signature)
        .ok()
        .and_then(|encoded| Signature::<P>::decode(&encoded))
        .ok_or(CryptoError::InvalidSignature)?;
    if key.verify_with_context(message, &[], &signature) {
        Ok(())
    } else {
        Err(CryptoError::InvalidSignature)
    }
}
