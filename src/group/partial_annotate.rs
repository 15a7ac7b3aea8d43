//! The annotating side of Partial MLS (draft-ietf-mls-partial): what a
//! holder of the ratchet tree (a full member, or the delivery service's
//! observer) sends to partial clients: per-recipient AnnotatedCommits
//! ("Annotated Commit"), AnnotatedWelcomes ("Joining via Annotated
//! Welcome") and sender-authenticated messages ("Sender-Authenticated
//! Messages").
//!
//! A [`CommitAnnotator`] is built once per commit from the trees before and
//! after it: the committer's two proofs, the new tree hash and the place of
//! every node in the resolutions the UpdatePath encrypted to are computed
//! there (as many entries as the UpdatePath has ciphertexts, which the
//! commit already costs). Each recipient then costs two walks up the tree:
//! its proof (the copath tree hashes come from the tree's hash cache) and
//! the lookup of its resolution index, O(log n).
//!
//! Nothing here needs a secret: the annotations are public data the
//! partial client checks against tree hashes it trusts.

use std::collections::HashMap;

use crate::codec::{encode, wire_struct};
use crate::crypto::Suite;
use crate::framing::{
    AnnotatedCommit, AnnotatedWelcome, Content, MlsMessage, MlsMessageBody,
    SenderAuthenticatedMessage,
};
use crate::group::proposal_cache::ProposalCache;
use crate::messages::key_package::KeyPackageData;
use crate::messages::proposals::{Proposal, ProposalOrRef};
use crate::messages::welcome::Welcome;
use crate::tree::membership_proof::MembershipProof;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::{LeafIndex, NodeIndex};
use crate::{Error, Result};

/// The group id and epoch of a PublicMessage or PrivateMessage, which both
/// carry them in the clear; `None` for other messages.
pub fn message_epoch(message: &MlsMessage) -> Option<(&[u8], u64)> {
    match &message.body {
        MlsMessageBody::PublicMessage(m) => Some((&m.content.group_id, m.content.epoch)),
        MlsMessageBody::PrivateMessage(m) => Some((&m.group_id, m.epoch)),
        _ => None,
    }
}

/// The membership proof of `leaf` in `tree`, with errors that name what the
/// annotating party got wrong (a leaf outside the tree or blank).
pub fn proof_of(
    tree: &RatchetTree,
    suite: &Suite,
    leaf: LeafIndex,
    role: &str,
) -> Result<MembershipProof> {
    if !tree.leaf_count().contains_leaf(leaf) || tree.leaf(leaf).is_none() {
        return Err(Error::Misuse(format!(
            "{role} leaf {leaf} is not a member of the tree (outside it or blank): no \
             membership proof for it"
        )));
    }
    MembershipProof::from_tree(tree, suite, leaf)
}

/// Wraps `message`, sent by `sender` in the epoch whose tree is `tree`, with
/// the sender's membership proof (a `SenderAuthenticatedMessage`).
pub fn sender_authenticated(
    suite: &Suite,
    tree: &RatchetTree,
    message: MlsMessage,
    sender: LeafIndex,
) -> Result<SenderAuthenticatedMessage<MlsMessage>> {
    Ok(SenderAuthenticatedMessage {
        sender_membership_proof: proof_of(tree, suite, sender, "the sender's")?,
        message,
    })
}

/// One AnnotatedWelcome per joiner of `welcome`, signed by `signer` (the
/// GroupInfo's signer, a leaf of `tree`, the tree of the epoch the Welcome
/// starts). `joiners` maps each KeyPackageRef to its joiner's leaf; every
/// entry of the Welcome must be in it. Each joiner's Welcome keeps only its
/// own `EncryptedGroupSecrets`: the others are for other joiners and cost
/// O(n) bytes in a bulk add (the Welcome is not signed as a whole; each
/// joiner finds its entry by its KeyPackageRef, §12.4.3.1).
pub fn annotate_welcome(
    suite: &Suite,
    tree: &RatchetTree,
    signer: LeafIndex,
    welcome: &Welcome,
    joiners: &HashMap<Vec<u8>, LeafIndex>,
) -> Result<Vec<(LeafIndex, AnnotatedWelcome)>> {
    if welcome.cipher_suite != suite.id() {
        return Err(Error::Misuse(format!(
            "a Welcome for cipher suite {:?} in a group of {:?}",
            welcome.cipher_suite,
            suite.id()
        )));
    }
    let sender = proof_of(tree, suite, signer, "the Welcome's signer")?;
    let mut out = Vec::with_capacity(welcome.secrets.len());
    for entry in &welcome.secrets {
        let leaf = *joiners.get(&entry.new_member).ok_or_else(|| {
            Error::Misuse(
                "a Welcome entry for a key package this commit does not add (pass the joiner's \
                 key package, or annotate the Welcome of this commit)"
                    .into(),
            )
        })?;
        out.push((
            leaf,
            AnnotatedWelcome {
                welcome: SenderAuthenticatedMessage {
                    message: Welcome {
                        cipher_suite: welcome.cipher_suite,
                        secrets: vec![entry.clone()],
                        encrypted_group_info: welcome.encrypted_group_info.clone(),
                    },
                    sender_membership_proof: sender.clone(),
                },
                joiner_membership_proof: proof_of(tree, suite, leaf, "the joiner's")?,
            },
        ));
    }
    Ok(out)
}

/// The key packages a PublicMessage commit adds, by value or by reference
/// to a proposal in `cache`; empty for a PrivateMessage (its proposals are
/// encrypted) and for references not in `cache`.
pub fn added_key_packages(commit: &MlsMessage, cache: &ProposalCache) -> Vec<KeyPackageData> {
    let MlsMessageBody::PublicMessage(m) = &commit.body else {
        return Vec::new();
    };
    let Content::Commit(c) = &m.content.content else {
        return Vec::new();
    };
    c.proposals
        .iter()
        .filter_map(|p| match p {
            ProposalOrRef::Proposal(p) => Some(&**p),
            ProposalOrRef::Reference(r) => cache.find(r).map(|c| &c.proposal),
        })
        .filter_map(|p| match p {
            Proposal::Add(a) => Some(a.key_package.clone()),
            _ => None,
        })
        .collect()
}

wire_struct! {
    /// The fields of an `AnnotatedCommit` after `commit`, in wire order: the
    /// part that differs per recipient. An AnnotatedCommit's encoding is
    /// the commit's followed by this, so a server can send one shared copy
    /// of the commit's bytes and a tail per recipient.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AnnotationTail {
        /// See [`AnnotatedCommit::sender_membership_proof`].
        pub sender_membership_proof: Option<MembershipProof>,
        /// See [`AnnotatedCommit::tree_hash_after`].
        pub tree_hash_after: Vec<u8>,
        /// See [`AnnotatedCommit::resolution_index`].
        pub resolution_index: Option<u32>,
        /// See [`AnnotatedCommit::sender_membership_proof_after`].
        pub sender_membership_proof_after: MembershipProof,
        /// See [`AnnotatedCommit::receiver_membership_proof_after`].
        pub receiver_membership_proof_after: MembershipProof,
    }
}

/// What a commit needs to be annotated for any recipient (module
/// documentation). Built once per commit; [`Self::annotate`] per recipient.
#[derive(Debug, Clone)]
pub struct CommitAnnotator {
    suite: Suite,
    commit: MlsMessage,
    /// `commit` encoded, once.
    commit_bytes: Vec<u8>,
    after: RatchetTree,
    committer: LeafIndex,
    sender_before: Option<MembershipProof>,
    sender_after: MembershipProof,
    tree_hash_after: Vec<u8>,
    has_path: bool,
    /// Leaves the commit adds: they join by Welcome, and the UpdatePath is
    /// not encrypted to them (§7.6), so they get no AnnotatedCommit.
    joiners: Vec<LeafIndex>,
    /// Leaves the commit removes (Remove and SelfRemove), sorted: members
    /// before the commit, blank after it (or refilled by a joiner).
    removed: Vec<LeafIndex>,
    /// For each node the UpdatePath encrypted a path secret to, the index
    /// of its ciphertext in its UpdatePathNode (its place in the resolution
    /// of the committer's copath node, joiners left out).
    positions: HashMap<NodeIndex, u32>,
}

/// What [`CommitAnnotator::new`] needs to know about the commit beyond the
/// two trees.
#[derive(Debug, Clone)]
pub struct CommitFacts {
    /// The commit's sender: `Some(leaf)` for a member, `None` for a
    /// `new_member_commit` (its leaf is then `external_joiner`).
    pub member_sender: Option<LeafIndex>,
    /// The leaf of an external committer in the tree after.
    pub external_joiner: Option<LeafIndex>,
    /// Whether the commit carries an UpdatePath.
    pub has_path: bool,
    /// The leaves the commit's Add proposals fill.
    pub added: Vec<LeafIndex>,
    /// The leaves the commit's Remove and SelfRemove proposals empty.
    pub removed: Vec<LeafIndex>,
}

impl CommitAnnotator {
    /// Prepares the annotations of `commit`, which turns the tree `before`
    /// into `after` (the tree the commit was staged into). Fails when the
    /// committer is not a member of the trees it must be in.
    pub fn new(
        suite: &Suite,
        before: &RatchetTree,
        after: &RatchetTree,
        commit: MlsMessage,
        facts: &CommitFacts,
    ) -> Result<Self> {
        if message_epoch(&commit).is_none() {
            return Err(Error::Misuse(
                "an AnnotatedCommit carries a PublicMessage or PrivateMessage commit".into(),
            ));
        }
        let (committer, sender_before) = match (facts.member_sender, facts.external_joiner) {
            (Some(leaf), _) => (
                leaf,
                Some(proof_of(before, suite, leaf, "the committer's")?),
            ),
            (None, Some(leaf)) => (leaf, None),
            (None, None) => {
                return Err(Error::Misuse(
                    "a commit whose sender is neither a member nor an external joiner".into(),
                ));
            }
        };
        let sender_after = proof_of(after, suite, committer, "the committer's")?;
        let tree_hash_after = after.root_tree_hash(suite)?;
        let mut joiners = facts.added.clone();
        joiners.sort_unstable();
        let mut removed = facts.removed.clone();
        removed.sort_unstable();
        removed.dedup();
        for leaf in &removed {
            // A removed leaf was a member before (§12.2) and is blank after,
            // unless an Add of the same commit filled it again (§12.3
            // applies removes before adds).
            let refilled = joiners.binary_search(leaf).is_ok();
            if !before.leaf_count().contains_leaf(*leaf)
                || before.leaf(*leaf).is_none()
                || (!refilled && after.leaf(*leaf).is_some())
            {
                return Err(Error::Misuse(format!(
                    "leaf {leaf} is not removed by this commit: a member before it, blank after"
                )));
            }
        }
        let mut positions = HashMap::new();
        if facts.has_path {
            let n = after.leaf_count();
            let mut x = committer
                .node()
                .ok_or(Error::Internal("a leaf index without node index"))?;
            while let Some(parent) = x.parent(n) {
                let sibling = x
                    .sibling(n)
                    .ok_or(Error::Internal("a non-root node without sibling"))?;
                // §7.6: the path secret of `parent` is encrypted to the
                // resolution of the copath child, minus the joiners, in
                // order. A node filtered out of the direct path has an
                // empty resolution and adds nothing.
                let targets = after
                    .resolution(sibling)
                    .into_iter()
                    .filter(|t| t.leaf().is_none_or(|l| joiners.binary_search(&l).is_err()));
                for (i, t) in targets.enumerate() {
                    positions.insert(
                        t,
                        u32::try_from(i)
                            .map_err(|_| Error::Internal("resolution index past u32"))?,
                    );
                }
                x = parent;
            }
        }
        Ok(Self {
            suite: suite.clone(),
            commit_bytes: encode(&commit)?,
            commit,
            after: after.clone(),
            committer,
            sender_before,
            sender_after,
            tree_hash_after,
            has_path: facts.has_path,
            joiners,
            removed,
            positions,
        })
    }

    /// The tree hash after the commit.
    pub fn tree_hash_after(&self) -> &[u8] {
        &self.tree_hash_after
    }

    /// The committer's leaf in the tree after the commit.
    pub fn committer(&self) -> LeafIndex {
        self.committer
    }

    /// The tree after the commit.
    pub fn tree_after(&self) -> &RatchetTree {
        &self.after
    }

    /// The members an AnnotatedCommit is for, in leaf order: every member
    /// of the tree after the commit except the committer and the joiners
    /// (who get a Welcome), and every member the commit removes (its
    /// AnnotatedCommit tells it so). O(n).
    pub fn recipients(&self) -> Vec<LeafIndex> {
        let mut out: Vec<LeafIndex> = self
            .after
            .members()
            .map(|(leaf, _)| leaf)
            .filter(|l| *l != self.committer && self.joiners.binary_search(l).is_err())
            .chain(self.removed.iter().copied())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Maps the KeyPackageRef of each of `key_packages` to the leaf the
    /// commit added it at (the added leaf holding its leaf node). A key
    /// package the commit did not add is an error.
    pub fn joiner_refs(
        &self,
        key_packages: &[KeyPackageData],
    ) -> Result<HashMap<Vec<u8>, LeafIndex>> {
        let by_key: HashMap<&[u8], LeafIndex> = self
            .joiners
            .iter()
            .filter_map(|l| self.after.leaf(*l).map(|n| (n.encryption_key.as_ref(), *l)))
            .collect();
        let mut out = HashMap::with_capacity(key_packages.len());
        for kp in key_packages {
            let leaf = by_key
                .get(kp.leaf_node.encryption_key.as_ref())
                .copied()
                .filter(|l| self.after.leaf(*l) == Some(&kp.leaf_node))
                .ok_or_else(|| Error::Misuse("a key package this commit does not add".into()))?;
            out.insert(self.suite.key_package_ref(&encode(kp)?)?, leaf);
        }
        Ok(out)
    }

    /// One AnnotatedWelcome per joiner of `welcome`, the Welcome of this
    /// commit (see [`annotate_welcome`]); `joiners` from [`Self::joiner_refs`].
    pub fn annotate_welcome(
        &self,
        welcome: &Welcome,
        joiners: &HashMap<Vec<u8>, LeafIndex>,
    ) -> Result<Vec<(LeafIndex, AnnotatedWelcome)>> {
        annotate_welcome(&self.suite, &self.after, self.committer, welcome, joiners)
    }

    /// The commit's encoding: the first part of every encoded
    /// AnnotatedCommit of this commit (see [`AnnotationTail`]).
    pub fn commit_bytes(&self) -> &[u8] {
        &self.commit_bytes
    }

    /// The AnnotatedCommit for `receiver`, encoded: the commit's bytes
    /// (copied) and [`Self::annotate_tail`]'s. Equal to encoding
    /// [`Self::annotate`]'s result, without encoding the commit again.
    pub fn annotate_encoded(&self, receiver: LeafIndex) -> Result<Vec<u8>> {
        let tail = encode(&self.annotate_tail(receiver)?)?;
        let mut out = Vec::with_capacity(self.commit_bytes.len() + tail.len());
        out.extend_from_slice(&self.commit_bytes);
        out.extend_from_slice(&tail);
        Ok(out)
    }

    /// The AnnotatedCommit for `receiver`: a member in the tree after the
    /// commit other than the committer and the joiners, or a member the
    /// commit removes (see [`Self::annotate_tail`]). O(log n) besides
    /// cloning the commit.
    pub fn annotate(&self, receiver: LeafIndex) -> Result<AnnotatedCommit> {
        let t = self.annotate_tail(receiver)?;
        Ok(AnnotatedCommit {
            commit: self.commit.clone(),
            sender_membership_proof: t.sender_membership_proof,
            tree_hash_after: t.tree_hash_after,
            resolution_index: t.resolution_index,
            sender_membership_proof_after: t.sender_membership_proof_after,
            receiver_membership_proof_after: t.receiver_membership_proof_after,
        })
    }

    /// The per-recipient part of the AnnotatedCommit for `receiver` (see
    /// [`Self::annotate`]): two walks up the tree, O(log n).
    ///
    /// For a receiver the commit removes, whose leaf is blank after it (or
    /// a joiner's), no proof of its leaf after the commit exists, and the
    /// UpdatePath encrypts nothing to it (§12.4.2). The draft ("Annotated
    /// Commit") defines both fields only for a receiver still in the group
    /// and makes them mandatory (`resolution_index` exactly when the commit
    /// has a path), so our choice fills them with values a partial client
    /// can check and never uses otherwise: `receiver_membership_proof_after`
    /// is the committer's proof after the commit (it meets step 2: same
    /// tree as `sender_membership_proof_after`, valid relative to
    /// `tree_hash_after`), and `resolution_index` is 0.
    pub fn annotate_tail(&self, receiver: LeafIndex) -> Result<AnnotationTail> {
        if receiver == self.committer {
            return Err(Error::Misuse(format!(
                "leaf {receiver} made this commit: it needs no AnnotatedCommit"
            )));
        }
        // Before the joiner check: a removed leaf refilled by an Add is
        // asked for by its removed member (the joiner gets a Welcome).
        if self.removed.binary_search(&receiver).is_ok() {
            return Ok(AnnotationTail {
                sender_membership_proof: self.sender_before.clone(),
                tree_hash_after: self.tree_hash_after.clone(),
                resolution_index: self.has_path.then_some(0),
                sender_membership_proof_after: self.sender_after.clone(),
                receiver_membership_proof_after: self.sender_after.clone(),
            });
        }
        if self.joiners.binary_search(&receiver).is_ok() {
            return Err(Error::Misuse(format!(
                "leaf {receiver} joins by this commit: it gets an AnnotatedWelcome, not an \
                 AnnotatedCommit"
            )));
        }
        let receiver_after = proof_of(&self.after, &self.suite, receiver, "the receiver's")?;
        let resolution_index = if self.has_path {
            Some(self.resolution_index(receiver)?)
        } else {
            None
        };
        Ok(AnnotationTail {
            sender_membership_proof: self.sender_before.clone(),
            tree_hash_after: self.tree_hash_after.clone(),
            resolution_index,
            sender_membership_proof_after: self.sender_after.clone(),
            receiver_membership_proof_after: receiver_after,
        })
    }

    /// The index of the ciphertext `receiver` decrypts in the UpdatePath
    /// node of its lowest common ancestor with the committer: the place of
    /// the lowest node of the receiver's path that the path secret was
    /// encrypted to. The lowest, because a receiver that is an unmerged
    /// leaf of a parent does not hold that parent's key and finds its own
    /// leaf in the resolution after the parent.
    fn resolution_index(&self, receiver: LeafIndex) -> Result<u32> {
        let n = self.after.leaf_count();
        let (me, them) = receiver
            .node()
            .zip(self.committer.node())
            .ok_or(Error::Internal("a leaf index without node index"))?;
        let lca = me
            .common_ancestor(them, n)
            .ok_or(Error::Internal("receiver and committer are the same leaf"))?;
        let mut x = me;
        while x != lca {
            if let Some(i) = self.positions.get(&x) {
                return Ok(*i);
            }
            x = x
                .parent(n)
                .ok_or(Error::Internal("the common ancestor is above the root"))?;
        }
        Err(Error::Internal(
            "no node of the receiver's path is in the committer's copath resolution",
        ))
    }
}
