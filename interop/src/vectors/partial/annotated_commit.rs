//! test-vector-partial-annotated-commit.json: a partial client in the
//! entry's `state_before` processes the AnnotatedCommit and reaches
//! `state_after`.
//!
//! What runs: the commit's membership tag with `membership_key`; the
//! sender proof against the `state_before` tree hash; the signature with
//! the proven leaf's key over the GroupContext rebuilt from `state_before`;
//! both post-commit proofs against `tree_hash_after`; the next
//! GroupContext and transcript; the key schedule from `init_secret`, whose
//! confirmation tag must verify; every secret of `state_after`.
//!
//! What the entry does not allow: decrypting the UpdatePath. `state_before`
//! holds the receiver's direct-path secrets (none, in every entry) but not
//! its leaf's HPKE private key, and the ciphertext of the resolution is for
//! that leaf. The runner takes instead the path secret `state_after` gives
//! at the lowest common ancestor, checks it and the secrets derived from it
//! against the public keys of the receiver's proven new direct path, and
//! checks that it yields `commit_secret`. The decryption step itself runs in
//! the tree-operations and passive-client-scenarios files, whose entries
//! give the private keys.

use arbor_mls::codec::decode_exact;
use arbor_mls::crypto::{Secret, Suite};
use arbor_mls::framing::{
    AnnotatedCommit, AuthenticatedContent, MlsMessageBody, from_public_message,
};
use arbor_mls::group::partial_commit::check_annotated_commit;
use arbor_mls::group::partial_join::derive_proven_path;
use arbor_mls::group::proposal_cache::ProposalCache;
use arbor_mls::schedule::{GroupContext, InitSecret, PskSecret};
use arbor_mls::types::ProtocolVersion;
use arbor_mls::types::math::{LeafIndex, NodeIndex};
use serde_json::Value;

use crate::vectors::Outcome;
use crate::vectors::util::{Check, array, eq, eq_bytes, hex, outcome, uint};

/// The GroupContext of a partial client state entry. The entries name no
/// extensions; the group's have none (the signature over this context is
/// what tells).
pub fn context_of(state: &Value, suite: &Suite) -> Check<GroupContext> {
    Ok(GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: suite.id(),
        group_id: hex(state, "group_id")?,
        epoch: uint(state, "epoch")?,
        tree_hash: hex(state, "tree_hash")?,
        confirmed_transcript_hash: hex(state, "confirmed_transcript_hash")?,
        extensions: Vec::new(),
    })
}

/// Opens the commit of an AnnotatedCommit sent as a PublicMessage.
fn open(
    suite: &Suite,
    annotated: &AnnotatedCommit,
    membership_key: &[u8],
    context: &GroupContext,
) -> Check<AuthenticatedContent> {
    let MlsMessageBody::PublicMessage(message) = annotated.commit.body.clone() else {
        return Err("the entries' commits are PublicMessages; this one is not".into());
    };
    from_public_message(
        suite,
        *message,
        &Secret::new(membership_key.to_vec()),
        context,
    )
    .map_err(|e| format!("commit: {e}"))
}

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome((|| {
        let before = case.get("state_before").ok_or("missing `state_before`")?;
        let after = case.get("state_after").ok_or("missing `state_after`")?;
        if !array(case, "proposals")?.is_empty() {
            return Err("entries with proposals by reference are not handled".into());
        }
        let annotated: AnnotatedCommit = decode_exact(&hex(case, "annotated_commit")?)
            .map_err(|e| format!("`annotated_commit` does not decode: {e}"))?;
        let context = context_of(before, &suite)?;
        let content = open(
            &suite,
            &annotated,
            &hex(before, "membership_key")?,
            &context,
        )?;
        let own = LeafIndex(
            u32::try_from(uint(before, "receiver_leaf_index")?)
                .map_err(|_| "`receiver_leaf_index` out of range")?,
        );
        let checked = check_annotated_commit(
            &suite,
            &context,
            &hex(before, "interim_transcript_hash")?,
            own,
            &annotated,
            &content,
            &ProposalCache::default(),
        )
        .map_err(|e| format!("AnnotatedCommit: {e}"))?;
        eq_bytes(
            "tree_hash_after",
            &checked.next_context.tree_hash,
            &hex(case, "tree_hash_after")?,
        )?;
        if !checked.psks.is_empty() {
            return Err("the commit injects PSKs, which the entry gives none of".into());
        }

        // The path secret at the lowest common ancestor, from `state_after`.
        let commit_secret = if annotated.resolution_index.is_some() {
            let n = annotated
                .receiver_membership_proof_after
                .leaf_count()
                .map_err(|e| e.to_string())?;
            let (me, them) = own
                .node()
                .zip(checked.committer.node())
                .ok_or("leaf index without node")?;
            let lca = me
                .common_ancestor(them, n)
                .ok_or("committer and receiver are one leaf")?;
            let given = array(after, "direct_path_secrets")?;
            let first = given
                .iter()
                .find(|e| uint(e, "node").ok() == Some(u64::from(lca.0)))
                .ok_or_else(|| format!("`state_after` gives no path secret for node {lca}"))?;
            let path = derive_proven_path(
                &suite,
                &annotated.receiver_membership_proof_after,
                lca,
                Secret::new(hex(first, "path_secret")?),
                "vector",
            )
            .map_err(|e| format!("state_after path secret: {e}"))?;
            // Every secret the entry lists above the ancestor is the derived one.
            for e in given {
                let node = NodeIndex(u32::try_from(uint(e, "node")?).map_err(|_| "node")?);
                if let Some((_, s)) = path.iter().find(|(x, _)| *x == node) {
                    eq_bytes("path_secret", s.as_bytes(), &hex(e, "path_secret")?)?;
                    let node_secret = suite
                        .derive_secret(s.as_bytes(), "node")
                        .map_err(|e| e.to_string())?;
                    let (private, _) = suite
                        .derive_key_pair(node_secret.as_bytes())
                        .map_err(|e| e.to_string())?;
                    eq_bytes(
                        "encryption_priv",
                        private.0.as_bytes(),
                        &hex(e, "encryption_priv")?,
                    )?;
                }
            }
            let (_, root) = path.last().ok_or("no path secret derived")?;
            let secret = suite
                .derive_secret(root.as_bytes(), "path")
                .map_err(|e| e.to_string())?;
            eq_bytes(
                "commit_secret",
                secret.as_bytes(),
                &hex(case, "commit_secret")?,
            )?;
            Some(secret)
        } else {
            None
        };

        let secrets = checked
            .finish(
                &suite,
                InitSecret::new(Secret::new(hex(before, "init_secret")?)),
                commit_secret,
                &PskSecret::zero(&suite),
            )
            .map_err(|e| format!("AnnotatedCommit: {e}"))?;
        let next = &checked.next_context;
        eq("epoch", next.epoch, uint(after, "epoch")?)?;
        eq_bytes("group_id", &next.group_id, &hex(after, "group_id")?)?;
        eq_bytes("tree_hash", &next.tree_hash, &hex(after, "tree_hash")?)?;
        eq_bytes(
            "confirmed_transcript_hash",
            &next.confirmed_transcript_hash,
            &hex(after, "confirmed_transcript_hash")?,
        )?;
        eq_bytes(
            "interim_transcript_hash",
            &checked.interim_transcript_hash,
            &hex(after, "interim_transcript_hash")?,
        )?;
        for (name, got) in [
            ("init_secret", secrets.init_secret.as_secret()),
            ("encryption_secret", &secrets.encryption_secret),
            ("sender_data_secret", &secrets.sender_data_secret),
            ("membership_key", &secrets.membership_key),
        ] {
            eq_bytes(name, got.as_bytes(), &hex(after, name)?)?;
        }
        eq_bytes(
            "epoch_authenticator_after",
            secrets.epoch_authenticator.as_bytes(),
            &hex(case, "epoch_authenticator_after")?,
        )?;
        Ok(Outcome::Pass)
    })())
}
