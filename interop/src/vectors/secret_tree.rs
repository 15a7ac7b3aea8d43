//! `secret-tree.json`: the sender data key and nonce, and the handshake and
//! application keys and nonces of every listed leaf and generation.

use arbor_mls::crypto::{Secret, Suite};
use arbor_mls::schedule::{RatchetType, SecretTree, SecretTreeConfig, sender_data_key_nonce};
use arbor_mls::types::math::{LeafCount, LeafIndex};
use serde_json::Value;

use super::Outcome;
use super::util::{Check, array, eq_bytes, hex, outcome, uint};

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome(check(&suite, case).map(|()| Outcome::Pass))
}

fn check(suite: &Suite, case: &Value) -> Check {
    let err = |e: arbor_mls::Error| e.to_string();

    let sender_data = case
        .get("sender_data")
        .filter(|v| v.is_object())
        .ok_or("missing object `sender_data`")?;
    let sd = sender_data_key_nonce(
        suite,
        &Secret::new(hex(sender_data, "sender_data_secret")?),
        &hex(sender_data, "ciphertext")?,
    )
    .map_err(err)?;
    eq_bytes(
        "sender_data.key",
        sd.key.as_bytes(),
        &hex(sender_data, "key")?,
    )?;
    eq_bytes(
        "sender_data.nonce",
        sd.nonce.as_bytes(),
        &hex(sender_data, "nonce")?,
    )?;

    let leaves = array(case, "leaves")?;
    let n = u32::try_from(leaves.len())
        .ok()
        .and_then(LeafCount::new)
        .ok_or_else(|| format!("{} leaves is not a supported tree size", leaves.len()))?;
    // The default window and forward distance cover the listed generations;
    // each generation is requested through the receive path, in increasing
    // order, as a receiver would.
    let mut tree = SecretTree::new(
        suite,
        Secret::new(hex(case, "encryption_secret")?),
        n,
        SecretTreeConfig::default(),
    );
    for (i, steps) in leaves.iter().enumerate() {
        let leaf = LeafIndex(i as u32);
        let steps = steps
            .as_array()
            .ok_or_else(|| format!("leaves[{i}] is not an array"))?;
        for step in steps {
            let generation = u32::try_from(uint(step, "generation")?)
                .map_err(|_| format!("leaves[{i}]: generation out of range"))?;
            for (ty, prefix) in [
                (RatchetType::Handshake, "handshake"),
                (RatchetType::Application, "application"),
            ] {
                let at = format!("leaves[{i}] generation {generation} {prefix}");
                let kn = tree.key_for(leaf, ty, generation).map_err(err)?;
                eq_bytes(
                    &format!("{at} key"),
                    kn.key.as_bytes(),
                    &hex(step, &format!("{prefix}_key"))?,
                )?;
                eq_bytes(
                    &format!("{at} nonce"),
                    kn.nonce.as_bytes(),
                    &hex(step, &format!("{prefix}_nonce"))?,
                )?;
            }
        }
    }
    Ok(())
}
