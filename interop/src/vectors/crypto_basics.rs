//! `crypto-basics.json`: the labelled operations of RFC 9420 §5.1-§5.2 and §8
//! (RefHash, ExpandWithLabel, DeriveSecret, DeriveTreeSecret, SignWithLabel,
//! EncryptWithLabel), one entry per cipher suite.

use arbor_mls::crypto::{
    HpkePrivateKey, HpkePublicKey, OsRandom, Secret, SignaturePrivateKey, SignaturePublicKey, Suite,
};
use serde_json::Value;

use super::Outcome;
use super::util::{Check, eq_bytes, hex, outcome, private_key, string, uint};

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome(check(&suite, case).map(|()| Outcome::Pass))
}

/// One sub-check, run on its own object of the entry.
type SubCheck = fn(&Suite, &Value) -> Check;

/// The sub-checks, by the name of the object each reads.
const CHECKS: [(&str, SubCheck); 6] = [
    ("ref_hash", ref_hash),
    ("expand_with_label", expand_with_label),
    ("derive_secret", derive_secret),
    ("derive_tree_secret", derive_tree_secret),
    ("sign_with_label", sign_with_label),
    ("encrypt_with_label", encrypt_with_label),
];

fn check(suite: &Suite, case: &Value) -> Check {
    for (name, sub_check) in CHECKS {
        let section = case
            .get(name)
            .filter(|v| v.is_object())
            .ok_or_else(|| format!("missing object `{name}`"))?;
        sub_check(suite, section).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

/// A `uint16` length field.
fn length(v: &Value) -> Check<usize> {
    let n = uint(v, "length")?;
    u16::try_from(n)
        .map(usize::from)
        .map_err(|_| format!("`length` {n} does not fit in uint16"))
}

/// `out == RefHash(label, value)`; the label is used as given.
fn ref_hash(suite: &Suite, v: &Value) -> Check {
    let label = string(v, "label")?;
    let got = suite
        .ref_hash(label.as_bytes(), &hex(v, "value")?)
        .map_err(|e| format!("RefHash: {e}"))?;
    eq_bytes("out", &got, &hex(v, "out")?)
}

/// `out == ExpandWithLabel(secret, label, context, length)`.
fn expand_with_label(suite: &Suite, v: &Value) -> Check {
    let got = suite
        .expand_with_label(
            &hex(v, "secret")?,
            string(v, "label")?,
            &hex(v, "context")?,
            length(v)?,
        )
        .map_err(|e| format!("ExpandWithLabel failed: {e}"))?;
    eq_bytes("out", got.as_bytes(), &hex(v, "out")?)
}

/// `out == DeriveSecret(secret, label)`.
fn derive_secret(suite: &Suite, v: &Value) -> Check {
    let got = suite
        .derive_secret(&hex(v, "secret")?, string(v, "label")?)
        .map_err(|e| format!("DeriveSecret failed: {e}"))?;
    eq_bytes("out", got.as_bytes(), &hex(v, "out")?)
}

/// `out == DeriveTreeSecret(secret, label, generation, length)`.
fn derive_tree_secret(suite: &Suite, v: &Value) -> Check {
    let generation = uint(v, "generation")?;
    let generation = u32::try_from(generation)
        .map_err(|_| format!("`generation` {generation} does not fit in uint32"))?;
    let got = suite
        .derive_tree_secret(
            &hex(v, "secret")?,
            string(v, "label")?,
            generation,
            length(v)?,
        )
        .map_err(|e| format!("DeriveTreeSecret failed: {e}"))?;
    eq_bytes("out", got.as_bytes(), &hex(v, "out")?)
}

/// The given signature verifies, and so does a fresh one. Also checks that
/// `pub` is the public key of `priv`, which confirms both key formats.
fn sign_with_label(suite: &Suite, v: &Value) -> Check {
    let private = SignaturePrivateKey(Secret::new(private_key(v, "priv", suite)?));
    let public = SignaturePublicKey(hex(v, "pub")?);
    let label = string(v, "label")?;
    let content = hex(v, "content")?;

    let derived = suite
        .primitives()
        .signature_public_key(private.as_bytes())
        .map_err(|e| format!("public key of `priv` failed: {e}"))?;
    eq_bytes(
        "public key of `priv` vs `pub`",
        derived.as_bytes(),
        public.as_bytes(),
    )?;

    suite
        .verify_with_label(&public, label, &content, &hex(v, "signature")?)
        .map_err(|e| format!("VerifyWithLabel of the given `signature` failed: {e}"))?;

    let fresh = suite
        .sign_with_label(&private, label, &content)
        .map_err(|e| format!("SignWithLabel with `priv` failed: {e}"))?;
    suite
        .verify_with_label(&public, label, &content, &fresh)
        .map_err(|e| format!("VerifyWithLabel of a fresh signature failed: {e}"))
}

/// The given ciphertext decrypts to `plaintext`, and so does a fresh
/// encryption. Also checks that `pub` is the public key of `priv`.
fn encrypt_with_label(suite: &Suite, v: &Value) -> Check {
    let private = HpkePrivateKey(Secret::new(private_key(v, "priv", suite)?));
    let public = HpkePublicKey(hex(v, "pub")?);
    let label = string(v, "label")?;
    let context = hex(v, "context")?;
    let plaintext = hex(v, "plaintext")?;

    let derived = suite
        .primitives()
        .hpke_public_key(private.as_bytes())
        .map_err(|e| format!("public key of `priv` failed: {e}"))?;
    eq_bytes(
        "public key of `priv` vs `pub`",
        derived.as_bytes(),
        public.as_bytes(),
    )?;

    let got = suite
        .decrypt_with_label(
            &private,
            label,
            &context,
            &hex(v, "kem_output")?,
            &hex(v, "ciphertext")?,
        )
        .map_err(|e| format!("DecryptWithLabel of the given `ciphertext` failed: {e}"))?;
    eq_bytes(
        "plaintext (decrypting the given `ciphertext`)",
        got.as_bytes(),
        &plaintext,
    )?;

    let (kem_output, ciphertext) = suite
        .encrypt_with_label(&public, label, &context, &plaintext, &mut OsRandom)
        .map_err(|e| format!("EncryptWithLabel to `pub` failed: {e}"))?;
    let got = suite
        .decrypt_with_label(&private, label, &context, &kem_output, &ciphertext)
        .map_err(|e| format!("DecryptWithLabel of a fresh ciphertext failed: {e}"))?;
    eq_bytes(
        "plaintext (decrypting a fresh ciphertext)",
        got.as_bytes(),
        &plaintext,
    )
}
