//! A partial client's state in one epoch (draft-ietf-mls-partial): the
//! GroupContext, the epoch's secrets and secret tree, its own leaf key and
//! the path secrets of its direct path, but no ratchet tree. It follows the
//! group by AnnotatedCommits and reads sender-authenticated messages.
//!
//! Every operation is stage-then-merge: [`PartialEpoch::stage_commit`]
//! returns the next epoch without touching this one, and
//! [`PartialEpoch::open_message`] uses up a ratchet generation only once
//! the message is decrypted and its sender proof and signature verified.

use std::collections::VecDeque;

use crate::crypto::{HpkePrivateKey, Secret, Suite};
use crate::framing::{
    AnnotatedCommit, AuthenticatedContent, Content, MlsMessage, MlsMessageBody,
    SenderAuthenticatedMessage, from_public_message, open_private,
};
use crate::group::partial_commit::{check_annotated_commit, verify_sender_authenticated};
use crate::group::partial_join::PartialJoin;
use crate::group::proposal_cache::ProposalCache;
use crate::group::psk_store::{PskStore, PskUse, resolve_psks};
use crate::group::state::OwnResumption;
use crate::schedule::{
    EpochSecrets, GroupContext, InitSecret, SecretTree, SecretTreeConfig, external_key_pair,
};
use crate::tree::membership_proof::MembershipProof;
use crate::tree::nodes::Node;
use crate::types::math::{LeafCount, LeafIndex, NodeIndex};
use crate::{Error, Result};

/// The rule cited by the errors of this module.
const RULE: &str = "draft-ietf-mls-partial";

/// A partial client's state in one epoch (module documentation).
#[derive(Debug)]
pub struct PartialEpoch {
    /// The epoch's GroupContext.
    pub context: GroupContext,
    /// The epoch's interim transcript hash (§8.2).
    pub interim_transcript_hash: Vec<u8>,
    /// This client's leaf.
    pub own_leaf: LeafIndex,
    /// The tree's leaf count, from the latest proof of this client's leaf.
    pub leaf_count: LeafCount,
    /// The epoch's secrets; `encryption_secret` was handed to the secret
    /// tree and is zero here (§9.2).
    pub secrets: EpochSecrets,
    leaf_key: HpkePrivateKey,
    path_secrets: Vec<(NodeIndex, Secret)>,
    secret_tree: SecretTree,
    own_proof: MembershipProof,
}

/// What processing an AnnotatedCommit gives.
#[derive(Debug)]
pub enum PartialCommitOutcome {
    /// The next epoch, to replace the current one.
    Next(Box<PartialEpoch>),
    /// The commit removes this client: it is no longer a member.
    Removed,
}

/// The secret of a node's key pair: `DeriveSecret(path_secret, "node")`.
fn node_key(suite: &Suite, path_secret: &Secret) -> Result<(HpkePrivateKey, Vec<u8>)> {
    let node_secret = suite.derive_secret(path_secret.as_bytes(), "node")?;
    let (private, public) = suite.derive_key_pair(node_secret.as_bytes())?;
    Ok((private, public.as_bytes().to_vec()))
}

impl PartialEpoch {
    /// The state after a partial join; `leaf_key` is the private key of the
    /// leaf's encryption key (the key package's), `joiner_proof` the proof
    /// of this client's leaf in the AnnotatedWelcome.
    pub fn from_join(
        suite: &Suite,
        join: PartialJoin,
        leaf_key: HpkePrivateKey,
        joiner_proof: &MembershipProof,
        config: SecretTreeConfig,
    ) -> Result<Self> {
        Self::new(
            suite,
            joiner_proof.clone(),
            join.group_context,
            join.interim_transcript_hash,
            join.own_leaf,
            joiner_proof.leaf_count()?,
            join.secrets,
            leaf_key,
            join.path_secrets,
            config,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        suite: &Suite,
        own_proof: MembershipProof,
        context: GroupContext,
        interim_transcript_hash: Vec<u8>,
        own_leaf: LeafIndex,
        leaf_count: LeafCount,
        mut secrets: EpochSecrets,
        leaf_key: HpkePrivateKey,
        path_secrets: Vec<(NodeIndex, Secret)>,
        config: SecretTreeConfig,
    ) -> Result<Self> {
        if own_leaf.0 >= leaf_count.get() {
            return Err(Error::protocol(
                RULE,
                format!(
                    "leaf {own_leaf} outside a tree of {} leaves",
                    leaf_count.get()
                ),
            ));
        }
        let encryption = std::mem::replace(
            &mut secrets.encryption_secret,
            Secret::zero(suite.hash_len()),
        );
        let secret_tree = SecretTree::new(suite, encryption, leaf_count, config);
        Ok(Self {
            context,
            interim_transcript_hash,
            own_leaf,
            leaf_count,
            secrets,
            leaf_key,
            path_secrets,
            secret_tree,
            own_proof,
        })
    }

    /// The epoch number.
    pub fn epoch(&self) -> u64 {
        self.context.epoch
    }

    /// The private key this client holds for `node` of its direct path (its
    /// leaf included), if any.
    fn private_key(&self, suite: &Suite, node: NodeIndex) -> Option<HpkePrivateKey> {
        if Some(node) == self.own_leaf.node() {
            return Some(self.leaf_key.clone());
        }
        let (_, secret) = self.path_secrets.iter().find(|(x, _)| *x == node)?;
        node_key(suite, secret).ok().map(|(k, _)| k)
    }

    /// Opens the Commit of an AnnotatedCommit: the membership tag of a
    /// PublicMessage, or the decryption of a PrivateMessage (whose ratchet
    /// generation is not recorded: the epoch ends with the commit).
    fn open_commit(&self, suite: &Suite, message: &MlsMessage) -> Result<AuthenticatedContent> {
        match &message.body {
            MlsMessageBody::PublicMessage(m) => from_public_message(
                suite,
                (**m).clone(),
                &self.secrets.membership_key,
                &self.context,
            ),
            MlsMessageBody::PrivateMessage(m) => open_private(
                suite,
                m,
                &self.secret_tree,
                &self.secrets.sender_data_secret,
            )
            .map(|(content, _)| content),
            _ => Err(Error::protocol(
                RULE,
                "an AnnotatedCommit whose commit is not a PublicMessage or PrivateMessage",
            )),
        }
    }

    /// Processes an AnnotatedCommit of this epoch (draft "Annotated
    /// Commit") into the next epoch, changing nothing here. `proposals`
    /// holds the proposals of this epoch the commit may cover by reference.
    pub fn stage_commit(
        &self,
        suite: &Suite,
        annotated: &AnnotatedCommit,
        proposals: &ProposalCache,
        psks: &dyn PskStore,
        config: SecretTreeConfig,
    ) -> Result<PartialCommitOutcome> {
        let content = self.open_commit(suite, &annotated.commit)?;
        let checked = check_annotated_commit(
            suite,
            &self.context,
            &self.interim_transcript_hash,
            self.own_leaf,
            annotated,
            &content,
            proposals,
        )?;
        if checked.self_removed {
            return Ok(PartialCommitOutcome::Removed);
        }
        let lookup = |x: NodeIndex| self.private_key(suite, x);
        let path = checked.decrypt_path(suite, annotated, &content, &lookup)?;
        let retained = VecDeque::new();
        let own = OwnResumption {
            group_id: &self.context.group_id,
            current: (self.context.epoch, &self.secrets.resumption_psk),
            retained: &retained,
        };
        let psk_secret = resolve_psks(suite, &checked.psks, psks, &own, PskUse::Normal)?;
        let init = match &checked.external_init {
            Some(kem_output) => {
                let (external_priv, _) = external_key_pair(suite, &self.secrets.external_secret)?;
                InitSecret::new(
                    suite
                        .external_init_receiver(&external_priv, kem_output)
                        .map_err(|_| {
                            Error::protocol(
                                "§8.3",
                                "the ExternalInit kem_output does not decapsulate",
                            )
                        })?,
                )
            }
            None => self.secrets.init_secret.clone(),
        };
        let (commit_secret, new_secrets) = match path {
            Some(p) => (Some(p.commit_secret), p.path_secrets),
            None => (None, Vec::new()),
        };
        let secrets = checked.finish(suite, init, commit_secret, &psk_secret)?;

        // Path secrets: the new ones from the common ancestor up; of the old
        // ones, those whose node still carries the key they give in the
        // new tree (a Remove may have blanked it, a path replaced it).
        let receiver = &annotated.receiver_membership_proof_after;
        let proven = receiver.path()?;
        let mut path_secrets = Vec::new();
        for (x, secret) in &self.path_secrets {
            if new_secrets.iter().any(|(n, _)| n == x) {
                continue;
            }
            let Some((_, Some(Node::Parent(parent)))) = proven.iter().find(|(n, _)| n == x) else {
                continue;
            };
            if node_key(suite, secret)?.1 == parent.encryption_key.as_bytes() {
                path_secrets.push((*x, secret.clone()));
            }
        }
        path_secrets.extend(new_secrets);
        path_secrets.sort_by_key(|(x, _)| x.0);
        let next = Self::new(
            suite,
            receiver.clone(),
            checked.next_context,
            checked.interim_transcript_hash,
            self.own_leaf,
            receiver.leaf_count()?,
            secrets,
            self.leaf_key.clone(),
            path_secrets,
            config,
        )?;
        Ok(PartialCommitOutcome::Next(Box::new(next)))
    }

    /// Opens a sender-authenticated PrivateMessage of this epoch: decrypts
    /// it, verifies the sender proof against the epoch's tree hash and the
    /// signature with the proven key, and only then records the ratchet
    /// generation as used. Returns the content.
    pub fn open_message(
        &mut self,
        suite: &Suite,
        message: &SenderAuthenticatedMessage<MlsMessage>,
    ) -> Result<AuthenticatedContent> {
        let MlsMessageBody::PrivateMessage(private) = &message.message.body else {
            return Err(Error::protocol(
                RULE,
                "a sender-authenticated message for a partial client must be a PrivateMessage \
                 (commits come as AnnotatedCommits)",
            ));
        };
        let (content, staged) = open_private(
            suite,
            private,
            &self.secret_tree,
            &self.secrets.sender_data_secret,
        )?;
        if matches!(content.content.content, Content::Commit(_)) {
            return Err(Error::protocol(
                RULE,
                "a commit must come as an AnnotatedCommit",
            ));
        }
        verify_sender_authenticated(
            suite,
            &self.context,
            &content,
            &message.sender_membership_proof,
        )?;
        self.secret_tree.commit_key(staged)?;
        Ok(content)
    }

    /// The secret tree of the epoch, to encrypt this client's own messages.
    pub fn secret_tree_mut(&mut self) -> &mut SecretTree {
        &mut self.secret_tree
    }

    /// The proof of this client's leaf in the epoch's tree, for the
    /// sender-authenticated messages it sends.
    pub fn own_proof(&self) -> &MembershipProof {
        &self.own_proof
    }

    /// The path secrets this client holds, lowest node first.
    pub fn path_secrets(&self) -> &[(NodeIndex, Secret)] {
        &self.path_secrets
    }
}
