//! JSON field access and comparison helpers shared by the runners. Each
//! returns `Err(text)` naming the field, which becomes an [`Outcome::Fail`].

use arbor_mls::crypto::{CipherSuite, CryptoProvider, Suite};
use serde_json::Value;

use super::Outcome;

/// A check result inside a runner; `Err` is the failure text.
pub type Check<T = ()> = Result<T, String>;

/// Converts a runner body's result into an outcome.
pub fn outcome(result: Check<Outcome>) -> Outcome {
    result.unwrap_or_else(Outcome::Fail)
}

/// A hex-encoded byte field.
pub fn hex(v: &Value, field: &str) -> Check<Vec<u8>> {
    let s = v
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing hex field `{field}`"))?;
    ::hex::decode(s).map_err(|e| format!("field `{field}` is not hex: {e}"))
}

/// A hex-encoded private key, as the key format the library takes.
///
/// RFC 9180 §7.1.2 serializes a NIST-curve private key as a big-endian
/// integer of exactly `Nsk` bytes, and the library takes signature keys in
/// the same fixed width. Some vector cases encode these scalars as minimal
/// integers instead: about half of the P-521 private keys in the
/// passive-client and message-protection files are 65 bytes, their leading
/// zero byte dropped (a P-521 scalar has 521 bits, so its first byte is 0 or
/// 1). The integer is the same; this restores the fixed width. Private keys
/// never travel in MLS messages, so no wire format is loosened.
pub fn private_key(v: &Value, field: &str, suite: &Suite) -> Check<Vec<u8>> {
    let bytes = hex(v, field)?;
    let width = match suite.id().0 {
        0x0002 => 32,
        0x0005 => 66,
        0x0007 => 48,
        _ => return Ok(bytes),
    };
    if bytes.len() >= width {
        return Ok(bytes);
    }
    let mut padded = vec![0u8; width - bytes.len()];
    padded.extend_from_slice(&bytes);
    Ok(padded)
}

/// An optional hex field (`null` or absent gives `None`).
pub fn hex_opt(v: &Value, field: &str) -> Check<Option<Vec<u8>>> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => hex(v, field).map(Some),
    }
}

/// An unsigned integer field.
pub fn uint(v: &Value, field: &str) -> Check<u64> {
    v.get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("missing integer field `{field}`"))
}

/// A string field.
pub fn string<'a>(v: &'a Value, field: &str) -> Check<&'a str> {
    v.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing string field `{field}`"))
}

/// An array field.
pub fn array<'a>(v: &'a Value, field: &str) -> Check<&'a Vec<Value>> {
    v.get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("missing array field `{field}`"))
}

/// Fails with both values in hex when `got != want`.
pub fn eq_bytes(field: &str, got: &[u8], want: &[u8]) -> Check {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "`{field}` differs: got {}, want {}",
            ::hex::encode(got),
            ::hex::encode(want)
        ))
    }
}

/// Fails with both values when `got != want`.
pub fn eq<T: PartialEq + std::fmt::Debug>(field: &str, got: T, want: T) -> Check {
    if got == want {
        Ok(())
    } else {
        Err(format!("`{field}` differs: got {got:?}, want {want:?}"))
    }
}

/// The provider the runners use: the default one, or with the feature `pq`
/// the one that adds the post-quantum suites at their default codepoints
/// (0xF001..0xF00B), so the generated PQ vector files run too.
#[cfg(feature = "pq")]
pub fn provider() -> Box<dyn CryptoProvider> {
    Box::new(arbor_mls::crypto::rust_crypto::PqRustCryptoProvider::default())
}

/// The provider the runners use (see the `pq` variant).
#[cfg(not(feature = "pq"))]
pub fn provider() -> Box<dyn CryptoProvider> {
    Box::new(arbor_mls::crypto::rust_crypto::RustCryptoProvider)
}

/// The Partial MLS vector files number three post-quantum suites of
/// draft-ietf-mls-pq-ciphersuites 0x0008-0x000a (IANA has assigned them
/// none; the draft says TBDn). Their key packages tell which: an init key
/// of 1216 bytes (MLKEM768-X25519), 1249 (MLKEM768-P256), 1665
/// (MLKEM1024-P384), each with SHA-384 and an Ed25519, P-256 or P-384
/// signature key; every entry of those suites passes with this mapping.
pub const PARTIAL_PQ_SUITES: [(u16, &str); 3] = [
    (
        0x0008,
        "TBD2 MLS_128_MLKEM768X25519_AES256GCM_SHA384_Ed25519",
    ),
    (0x0009, "TBD4 MLS_128_MLKEM768P256_AES256GCM_SHA384_P256"),
    (0x000a, "TBD5 MLS_192_MLKEM1024P384_AES256GCM_SHA384_P384"),
];

/// The suite at a codepoint of [`PARTIAL_PQ_SUITES`], from a provider with
/// those suites renumbered.
#[cfg(feature = "pq")]
fn partial_pq_suite(id: CipherSuite) -> Option<Suite> {
    use arbor_mls::crypto::rust_crypto::{PqCodepoints, PqRustCryptoProvider, PqSuite};
    let codepoints = PqCodepoints::default()
        .with(
            PqSuite::Mlkem768X25519Aes256GcmSha384Ed25519,
            CipherSuite(0x0008),
        )
        .and_then(|c| {
            c.with(
                PqSuite::Mlkem768P256Aes256GcmSha384P256,
                CipherSuite(0x0009),
            )
        })
        .and_then(|c| {
            c.with(
                PqSuite::Mlkem1024P384Aes256GcmSha384P384,
                CipherSuite(0x000a),
            )
        })
        .ok()?;
    Suite::from_provider(&PqRustCryptoProvider::new(codepoints), id).ok()
}

/// Without the feature `pq`, no PQ suite.
#[cfg(not(feature = "pq"))]
fn partial_pq_suite(_id: CipherSuite) -> Option<Suite> {
    None
}

/// The suite named by the entry's `cipher_suite`, or the skip outcome when the
/// provider does not support it.
pub fn suite(v: &Value) -> Result<Suite, Outcome> {
    let id = uint(v, "cipher_suite").map_err(Outcome::Fail)?;
    let id =
        u16::try_from(id).map_err(|_| Outcome::Fail(format!("cipher_suite {id} out of range")))?;
    let id = CipherSuite(id);
    if let Ok(suite) = Suite::from_provider(&*provider(), id) {
        return Ok(suite);
    }
    if let Some((_, name)) = PARTIAL_PQ_SUITES.iter().find(|(c, _)| *c == id.0) {
        return partial_pq_suite(id).ok_or_else(|| {
            Outcome::Skip(format!(
                "cipher suite {:#06x} is the post-quantum suite {name}: run with --features pq",
                id.0
            ))
        });
    }
    Err(Outcome::Skip(format!(
        "unsupported cipher suite {:#06x}",
        id.0
    )))
}

/// Like `?` for [`suite`]: returns the skip or failure outcome from the runner.
#[macro_export]
macro_rules! suite_or_return {
    ($case:expr) => {
        match $crate::vectors::util::suite($case) {
            Ok(s) => s,
            Err(outcome) => return outcome,
        }
    };
}
