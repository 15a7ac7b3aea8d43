//! A partial client's state in one epoch (draft-ietf-mls-partial): the
//! GroupContext, the epoch's secrets and secret tree, its own leaf key and
//! the private keys of its direct path, but no ratchet tree. It follows the
//! group by AnnotatedCommits and reads sender-authenticated messages.
//!
//! Every operation is stage-then-merge: [`PartialEpoch::stage_commit`]
//! returns the next epoch without touching this one, and
//! [`PartialEpoch::open_message`] uses up a ratchet generation only once
//! the message is decrypted and its sender proof and signature verified.

use std::collections::VecDeque;

use crate::crypto::{HpkePrivateKey, HpkePublicKey, Secret, Suite};
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
    /// The confirmation tag of the commit (or GroupInfo) that started the
    /// epoch, kept for an upgrade to a full client (its GroupInfo).
    pub confirmation_tag: Vec<u8>,
    pub(crate) leaf_key: HpkePrivateKey,
    pub(crate) path_keys: Vec<PathKey>,
    pub(crate) secret_tree: SecretTree,
    pub(crate) own_proof: MembershipProof,
}

/// The key pair of one parent node of the client's direct path: the
/// private key it holds and the public key the node carries in the tree.
/// A full client keeps keys, not path secrets (§4.2), so keys are what
/// survives an upgrade or a downgrade.
#[derive(Debug, Clone)]
pub struct PathKey {
    /// The parent node.
    pub node: NodeIndex,
    /// Its private key.
    pub private: HpkePrivateKey,
    /// Its public key, as the tree holds it.
    pub public: HpkePublicKey,
}

/// Everything a [`PartialEpoch`] is built from, for a state restored from
/// storage or taken from a full client's epoch (a downgrade).
#[derive(Debug)]
pub struct PartialEpochParts {
    /// The epoch's GroupContext.
    pub context: GroupContext,
    /// The epoch's interim transcript hash (§8.2).
    pub interim_transcript_hash: Vec<u8>,
    /// The epoch's confirmation tag.
    pub confirmation_tag: Vec<u8>,
    /// The epoch's secrets (`encryption_secret` unused: the secret tree is
    /// given whole).
    pub secrets: EpochSecrets,
    /// The private key of this client's leaf.
    pub leaf_key: HpkePrivateKey,
    /// The keys of the parent nodes of its direct path.
    pub path_keys: Vec<PathKey>,
    /// The epoch's secret tree, with the ratchets already used.
    pub secret_tree: SecretTree,
    /// The proof of this client's leaf in the epoch's tree.
    pub own_proof: MembershipProof,
}

/// What processing an AnnotatedCommit gives.
#[derive(Debug)]
pub enum PartialCommitOutcome {
    /// The next epoch, to replace the current one.
    Next(Box<PartialEpoch>),
    /// The commit removes this client: it is no longer a member.
    Removed,
}

/// The key pairs of nodes from their path secrets (§7.4).
fn path_keys(suite: &Suite, path_secrets: &[(NodeIndex, Secret)]) -> Result<Vec<PathKey>> {
    path_secrets
        .iter()
        .map(|(node, secret)| {
            let (private, public) = crate::tree::private::node_key_pair(suite, secret)?;
            Ok(PathKey {
                node: *node,
                private,
                public,
            })
        })
        .collect()
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
        let path_keys = path_keys(suite, &join.path_secrets)?;
        Self::new(
            suite,
            (joiner_proof.clone(), join.own_leaf),
            join.group_context,
            join.interim_transcript_hash,
            join.confirmation_tag,
            join.secrets,
            leaf_key,
            path_keys,
            config,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        suite: &Suite,
        (own_proof, own_leaf): (MembershipProof, LeafIndex),
        context: GroupContext,
        interim_transcript_hash: Vec<u8>,
        confirmation_tag: Vec<u8>,
        mut secrets: EpochSecrets,
        leaf_key: HpkePrivateKey,
        path_keys: Vec<PathKey>,
        config: SecretTreeConfig,
    ) -> Result<Self> {
        let leaf_count = own_proof.leaf_count()?;
        let encryption = std::mem::replace(
            &mut secrets.encryption_secret,
            Secret::zero(suite.hash_len()),
        );
        let secret_tree = SecretTree::new(suite, encryption, leaf_count, config);
        Self::from_parts(
            own_leaf,
            PartialEpochParts {
                context,
                interim_transcript_hash,
                confirmation_tag,
                secrets,
                leaf_key,
                path_keys,
                secret_tree,
                own_proof,
            },
        )
    }

    /// A state from its parts (module documentation), checked for
    /// consistency: the proof is for `own_leaf`, the leaf is inside the
    /// tree, the secret tree is as wide as the proven tree and every path
    /// key is for a node of the leaf's direct path. A stored record is
    /// hostile input: these checks turn a tampered one into an error.
    pub fn from_parts(own_leaf: LeafIndex, parts: PartialEpochParts) -> Result<Self> {
        let leaf_count = parts.own_proof.leaf_count()?;
        if own_leaf.0 >= leaf_count.get() || parts.own_proof.leaf_index != own_leaf {
            return Err(Error::protocol(
                RULE,
                format!(
                    "leaf {own_leaf} outside a tree of {} leaves or not the proof's leaf {}",
                    leaf_count.get(),
                    parts.own_proof.leaf_index
                ),
            ));
        }
        if parts.secret_tree.leaf_count() != leaf_count {
            return Err(Error::protocol(
                RULE,
                "the secret tree is not as wide as the proven tree",
            ));
        }
        let path = parts.own_proof.path()?;
        if let Some(k) = parts
            .path_keys
            .iter()
            .find(|k| !path.iter().skip(1).any(|(x, _)| *x == k.node))
        {
            return Err(Error::protocol(
                RULE,
                format!("a key for node {}, not on the direct path", k.node),
            ));
        }
        Ok(Self {
            context: parts.context,
            interim_transcript_hash: parts.interim_transcript_hash,
            own_leaf,
            leaf_count,
            secrets: parts.secrets,
            confirmation_tag: parts.confirmation_tag,
            leaf_key: parts.leaf_key,
            path_keys: parts.path_keys,
            secret_tree: parts.secret_tree,
            own_proof: parts.own_proof,
        })
    }

    /// The epoch number.
    pub fn epoch(&self) -> u64 {
        self.context.epoch
    }

    /// The private key this client holds for `node` of its direct path (its
    /// leaf included), if any.
    fn private_key(&self, node: NodeIndex) -> Option<HpkePrivateKey> {
        if Some(node) == self.own_leaf.node() {
            return Some(self.leaf_key.clone());
        }
        let k = self.path_keys.iter().find(|k| k.node == node)?;
        Some(k.private.clone())
    }

    /// Opens the Commit of an AnnotatedCommit: the membership tag of a
    /// PublicMessage, or the decryption of a PrivateMessage (whose ratchet
    /// generation is not recorded: the epoch ends with the commit).
    fn open_commit(&self, suite: &Suite, message: &MlsMessage) -> Result<AuthenticatedContent> {
        check_safe_aad(&self.context, message)?;
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
        let lookup = |x: NodeIndex| self.private_key(x);
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

        // Path keys: the new ones from the common ancestor up; of the old
        // ones, those whose node still carries their public key in the new
        // tree (a Remove may have blanked it, a path replaced it).
        let receiver = &annotated.receiver_membership_proof_after;
        let proven = receiver.path()?;
        let fresh = path_keys(suite, &new_secrets)?;
        let mut keys = Vec::new();
        for k in &self.path_keys {
            if fresh.iter().any(|n| n.node == k.node) {
                continue;
            }
            let Some((_, Some(Node::Parent(parent)))) = proven.iter().find(|(n, _)| *n == k.node)
            else {
                continue;
            };
            if k.public == parent.encryption_key {
                keys.push(k.clone());
            }
        }
        keys.extend(fresh);
        keys.sort_by_key(|k| k.node.0);
        let next = Self::new(
            suite,
            (receiver.clone(), self.own_leaf),
            checked.next_context,
            checked.interim_transcript_hash,
            checked.confirmation_tag.clone(),
            secrets,
            self.leaf_key.clone(),
            keys,
            config,
        )?;
        Ok(PartialCommitOutcome::Next(Box::new(next)))
    }

    /// Opens a sender-authenticated message of this epoch: a PrivateMessage
    /// (application data or a proposal), or a PublicMessage carrying a
    /// proposal (membership tag checked). Verifies the sender proof against
    /// the epoch's tree hash and the signature with the proven key, and
    /// only then records a PrivateMessage's ratchet generation as used.
    /// Returns the content.
    pub fn open_message(
        &mut self,
        suite: &Suite,
        message: &SenderAuthenticatedMessage<MlsMessage>,
    ) -> Result<AuthenticatedContent> {
        self.open_message_if(suite, message, &|_| Ok(()))
    }

    /// [`Self::open_message`], with `accept` run on the verified content
    /// before its key is used up: what it refuses changes nothing.
    pub fn open_message_if(
        &mut self,
        suite: &Suite,
        message: &SenderAuthenticatedMessage<MlsMessage>,
        accept: &dyn Fn(&AuthenticatedContent) -> Result<()>,
    ) -> Result<AuthenticatedContent> {
        check_safe_aad(&self.context, &message.message)?;
        let (content, staged) = match &message.message.body {
            MlsMessageBody::PrivateMessage(private) => {
                let (content, staged) = open_private(
                    suite,
                    private,
                    &self.secret_tree,
                    &self.secrets.sender_data_secret,
                )?;
                (content, Some(staged))
            }
            MlsMessageBody::PublicMessage(public) => {
                let content = from_public_message(
                    suite,
                    (**public).clone(),
                    &self.secrets.membership_key,
                    &self.context,
                )?;
                if !matches!(content.content.content, Content::Proposal(_)) {
                    return Err(Error::protocol(
                        RULE,
                        "a PublicMessage for a partial client must carry a proposal",
                    ));
                }
                (content, None)
            }
            _ => {
                return Err(Error::protocol(
                    RULE,
                    "a sender-authenticated message for a partial client must be a \
                     PrivateMessage or PublicMessage",
                ));
            }
        };
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
        accept(&content)?;
        if let Some(staged) = staged {
            self.secret_tree.commit_key(staged)?;
        }
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

    /// The parent nodes of its direct path whose private keys this client
    /// holds, lowest first.
    pub fn path_nodes(&self) -> Vec<NodeIndex> {
        self.path_keys.iter().map(|k| k.node).collect()
    }

    /// The secret tree of the epoch.
    pub fn secret_tree(&self) -> &SecretTree {
        &self.secret_tree
    }

    /// The private key of this client's leaf.
    pub fn leaf_key(&self) -> &HpkePrivateKey {
        &self.leaf_key
    }

    /// The keys of the parent nodes of its direct path, lowest first.
    pub fn path_keys(&self) -> &[PathKey] {
        &self.path_keys
    }
}

/// draft-ietf-mls-extensions, Safe AAD: a message of the epoch of
/// `context`, in a group that uses Safe AAD, must carry one valid SafeAAD
/// as its `authenticated_data`; checked as a full member checks it, before
/// anything is decrypted or used up. Messages of other epochs are left to
/// the epoch checks.
pub(crate) fn check_safe_aad(context: &GroupContext, message: &MlsMessage) -> Result<()> {
    let (epoch, aad): (u64, &[u8]) = match &message.body {
        MlsMessageBody::PublicMessage(m) => (m.content.epoch, &m.content.authenticated_data),
        MlsMessageBody::PrivateMessage(m) => (m.epoch, &m.authenticated_data),
        _ => return Ok(()),
    };
    if epoch == context.epoch {
        crate::group::safe_aad_rules::check_received(&context.extensions, aad)?;
    }
    Ok(())
}
