//! passive-client-*.json: join from a Welcome made by another
//! implementation, then follow every commit, comparing epoch authenticators.
//! Lifetimes are checked against a clock inside the vectors' window.

use arbor_mls::codec::decode_exact;
use arbor_mls::crypto::{HpkePrivateKey, Secret, SignaturePrivateKey};
use arbor_mls::framing::{MlsMessage, MlsMessageBody};
use arbor_mls::group::engine::Received;
use arbor_mls::group::join::JoinInputs;
use arbor_mls::group::psk_store::{ExternalPsks, PskUse};
use arbor_mls::group::state::GroupConfig;
use arbor_mls::group::state::GroupState;
use arbor_mls::messages::key_package::KeyPackagePrivate;
use arbor_mls::tree::ratchet_tree::RatchetTree;
use serde_json::Value;

use super::Outcome;
use super::util::{Check, array, eq_bytes, hex, hex_opt, outcome, private_key};
use crate::suite_or_return;

/// The clock of passive-client-welcome.json: 2023-09-01T00:00:00Z, inside
/// the 2023-03-03..2024-03-02 validity of its key packages.
pub const WELCOME_CLOCK: u64 = 1_693_526_400;

/// The clock of passive-client-handling-commit.json and
/// passive-client-random.json: 2024-09-01T00:00:00Z, inside the
/// 2024-03-14..2025-03-14 validity of their generators' key packages (the
/// joiners' own key packages are valid from 0 to 2^64 - 1).
pub const COMMIT_CLOCK: u64 = 1_725_148_800;

/// Runs one entry of passive-client-welcome.json.
pub fn run_welcome(case: &Value) -> Outcome {
    run(case, WELCOME_CLOCK)
}

/// Runs one entry of passive-client-handling-commit.json or
/// passive-client-random.json.
pub fn run_commits(case: &Value) -> Outcome {
    run(case, COMMIT_CLOCK)
}

fn message(bytes: &[u8], what: &str) -> Check<MlsMessage> {
    decode_exact(bytes).map_err(|e| format!("{what} does not decode: {e}"))
}

/// Runs one entry with the clock at `now`: lifetime windows are checked.
/// The maximum total lifetime, an application policy (§7.2), is unlimited
/// here: the generators issued key packages valid from 0 to 2^64 - 1.
pub fn run(case: &Value, now: u64) -> Outcome {
    let suite = suite_or_return!(case);
    outcome((|| {
        let MlsMessageBody::KeyPackage(kp) =
            message(&hex(case, "key_package")?, "key_package")?.body
        else {
            return Err("key_package is not a KeyPackage".into());
        };
        let MlsMessageBody::Welcome(welcome) = message(&hex(case, "welcome")?, "welcome")?.body
        else {
            return Err("welcome is not a Welcome".into());
        };

        // The private keys belong to the key package.
        let prims = suite.primitives();
        let sig = SignaturePrivateKey(Secret::new(private_key(case, "signature_priv", &suite)?));
        let enc = HpkePrivateKey(Secret::new(private_key(case, "encryption_priv", &suite)?));
        let init = HpkePrivateKey(Secret::new(private_key(case, "init_priv", &suite)?));
        let err = |e: arbor_mls::crypto::CryptoError| e.to_string();
        eq_bytes(
            "signature_priv's public key",
            prims
                .signature_public_key(sig.as_bytes())
                .map_err(err)?
                .as_bytes(),
            kp.leaf_node.signature_key.as_bytes(),
        )?;
        eq_bytes(
            "encryption_priv's public key",
            prims
                .hpke_public_key(enc.as_bytes())
                .map_err(err)?
                .as_bytes(),
            kp.leaf_node.encryption_key.as_bytes(),
        )?;
        eq_bytes(
            "init_priv's public key",
            prims
                .hpke_public_key(init.as_bytes())
                .map_err(err)?
                .as_bytes(),
            kp.init_key.as_bytes(),
        )?;

        let mut psks = ExternalPsks::default();
        for p in array(case, "external_psks")? {
            psks.0
                .insert(hex(p, "psk_id")?, Secret::new(hex(p, "psk")?));
        }
        let ratchet_tree = hex_opt(case, "ratchet_tree")?
            .map(|t| RatchetTree::from_bytes(&t))
            .transpose()
            .map_err(|e| format!("ratchet_tree: {e}"))?;
        let private = KeyPackagePrivate {
            init_key: init,
            encryption_key: enc,
        };
        let mut group = GroupState::join(
            &suite,
            JoinInputs {
                welcome: &welcome,
                key_package: &kp,
                private: &private,
                ratchet_tree,
                psks: &psks,
                now,
                config: GroupConfig::default().with_max_lifetime(u64::MAX),
                psk_use: PskUse::Normal,
            },
        )
        .map_err(|e| format!("join: {e}"))?;
        eq_bytes(
            "initial_epoch_authenticator",
            group.epoch_authenticator(),
            &hex(case, "initial_epoch_authenticator")?,
        )?;

        for (n, epoch) in array(case, "epochs")?.iter().enumerate() {
            for (k, p) in array(epoch, "proposals")?.iter().enumerate() {
                let bytes = p
                    .as_str()
                    .and_then(|s| ::hex::decode(s).ok())
                    .ok_or_else(|| format!("epochs[{n}].proposals[{k}] is not hex"))?;
                match group.process(&bytes, &psks, now) {
                    Ok(Received::Proposal(_)) => {}
                    Ok(other) => {
                        return Err(format!(
                            "epochs[{n}].proposals[{k}]: not a proposal: {other:?}"
                        ));
                    }
                    Err(e) => {
                        return Err(format!(
                            "epochs[{n}].proposals[{k}] (epoch {}): {e}",
                            group.epoch()
                        ));
                    }
                }
            }
            let commit = hex(epoch, "commit")?;
            match group.process(&commit, &psks, now) {
                Ok(Received::Commit(staged)) => group
                    .merge(*staged)
                    .map_err(|e| format!("epochs[{n}]: merge: {e}"))?,
                Ok(other) => return Err(format!("epochs[{n}].commit: not a commit: {other:?}")),
                Err(e) => return Err(format!("epochs[{n}].commit (epoch {}): {e}", group.epoch())),
            }
            eq_bytes(
                &format!("epochs[{n}].epoch_authenticator"),
                group.epoch_authenticator(),
                &hex(epoch, "epoch_authenticator")?,
            )?;
        }
        Ok(Outcome::Pass)
    })())
}
