//! test-vector-partial-annotated-welcome.json: join as a partial client
//! from an AnnotatedWelcome, at the proven joiner leaf, with the expected
//! epoch authenticator.

use arbor_mls::codec::decode_exact;
use arbor_mls::crypto::{HpkePrivateKey, Secret, Suite};
use arbor_mls::framing::{AnnotatedWelcome, MlsMessage, MlsMessageBody};
use arbor_mls::group::partial_join::{PartialJoin, join_partial};
use arbor_mls::group::psk_store::{ExternalPsks, PskUse};
use arbor_mls::messages::key_package::KeyPackagePrivate;
use serde_json::Value;

use crate::vectors::Outcome;
use crate::vectors::util::{Check, array, eq, eq_bytes, hex, outcome, private_key, uint};

/// Joins from the entry's `annotated_welcome` with its key package, private
/// keys and external PSKs (shared with the passive-client runner).
pub fn join(case: &Value, suite: &Suite) -> Check<(PartialJoin, ExternalPsks)> {
    let key_package: MlsMessage = decode_exact(&hex(case, "key_package")?)
        .map_err(|e| format!("`key_package` does not decode: {e}"))?;
    let MlsMessageBody::KeyPackage(key_package) = key_package.body else {
        return Err("`key_package` is not a KeyPackage".into());
    };
    let annotated: AnnotatedWelcome = decode_exact(&hex(case, "annotated_welcome")?)
        .map_err(|e| format!("`annotated_welcome` does not decode: {e}"))?;
    let private = KeyPackagePrivate {
        init_key: HpkePrivateKey(Secret::new(private_key(case, "init_priv", suite)?)),
        encryption_key: HpkePrivateKey(Secret::new(private_key(case, "encryption_priv", suite)?)),
    };
    let mut psks = ExternalPsks::default();
    for p in array(case, "external_psks")? {
        psks.0
            .insert(hex(p, "psk_id")?, Secret::new(hex(p, "psk")?));
    }
    let joined = join_partial(
        suite,
        &annotated,
        &key_package,
        &private,
        &psks,
        PskUse::Normal,
    )
    .map_err(|e| format!("partial join: {e}"))?;
    Ok((joined, psks))
}

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome((|| {
        let (joined, _) = join(case, &suite)?;
        eq(
            "joiner_leaf_index",
            u64::from(joined.own_leaf.0),
            uint(case, "joiner_leaf_index")?,
        )?;
        eq_bytes(
            "epoch_authenticator",
            joined.secrets.epoch_authenticator.as_bytes(),
            &hex(case, "epoch_authenticator")?,
        )?;
        Ok(Outcome::Pass)
    })())
}
