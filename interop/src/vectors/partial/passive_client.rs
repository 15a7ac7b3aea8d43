//! test-vector-partial-passive-client-scenarios.json: a partial client
//! joins from an AnnotatedWelcome and follows the group through each
//! epoch's AnnotatedCommit (path secret decrypted through the annotation's
//! resolution information) and sender-authenticated application messages,
//! with the expected epoch authenticator after each step.

use arbor_mls::codec::decode_exact;
use arbor_mls::crypto::{HpkePrivateKey, Secret};
use arbor_mls::framing::{
    AnnotatedCommit, AnnotatedWelcome, Content, MlsMessage, SenderAuthenticatedMessage,
};
use arbor_mls::group::partial_epoch::{PartialCommitOutcome, PartialEpoch};
use arbor_mls::group::proposal_cache::ProposalCache;
use arbor_mls::schedule::SecretTreeConfig;
use serde_json::Value;

use super::annotated_welcome::join;
use crate::vectors::Outcome;
use crate::vectors::util::{array, eq_bytes, hex, outcome, private_key};

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome((|| {
        let (joined, psks) = join(case, &suite)?;
        eq_bytes(
            "initial_epoch_authenticator",
            joined.secrets.epoch_authenticator.as_bytes(),
            &hex(case, "initial_epoch_authenticator")?,
        )?;
        let welcome: AnnotatedWelcome = decode_exact(&hex(case, "annotated_welcome")?)
            .map_err(|e| format!("`annotated_welcome` does not decode: {e}"))?;
        let leaf_key = HpkePrivateKey(Secret::new(private_key(case, "encryption_priv", &suite)?));
        let config = SecretTreeConfig::default();
        let mut state = PartialEpoch::from_join(
            &suite,
            joined,
            leaf_key,
            &welcome.joiner_membership_proof,
            config,
        )
        .map_err(|e| format!("partial state: {e}"))?;
        for (i, epoch) in array(case, "epochs")?.iter().enumerate() {
            if !array(epoch, "proposals")?.is_empty() {
                return Err(format!("epoch {i}: proposals by reference are not handled"));
            }
            let annotated: AnnotatedCommit = decode_exact(&hex(epoch, "annotated_commit")?)
                .map_err(|e| format!("epoch {i}: `annotated_commit` does not decode: {e}"))?;
            let next = state
                .stage_commit(&suite, &annotated, &ProposalCache::default(), &psks, config)
                .map_err(|e| format!("epoch {i}: AnnotatedCommit: {e}"))?;
            let PartialCommitOutcome::Next(next) = next else {
                return Err(format!("epoch {i}: the commit removes the partial client"));
            };
            state = *next;
            for (j, message) in array(epoch, "application_messages")?.iter().enumerate() {
                let bytes = ::hex::decode(message.as_str().unwrap_or_default())
                    .map_err(|e| format!("epoch {i} message {j}: not hex: {e}"))?;
                let message: SenderAuthenticatedMessage<MlsMessage> = decode_exact(&bytes)
                    .map_err(|e| format!("epoch {i} message {j}: does not decode: {e}"))?;
                let content = state
                    .open_message(&suite, &message)
                    .map_err(|e| format!("epoch {i} message {j}: {e}"))?;
                if !matches!(content.content.content, Content::Application(_)) {
                    return Err(format!("epoch {i} message {j}: not application data"));
                }
            }
            eq_bytes(
                &format!("epochs[{i}].epoch_authenticator"),
                state.secrets.epoch_authenticator.as_bytes(),
                &hex(epoch, "epoch_authenticator")?,
            )?;
        }
        Ok(Outcome::Pass)
    })())
}
