//! Processing a received Commit (§12.4.2) into a [`StagedCommit`] that
//! changes nothing until it is merged.

use crate::crypto::Suite;
use crate::framing::{AuthenticatedContent, Content, Sender};
use crate::group::Extension;
use crate::group::authorization::Scope;
use crate::group::commit::Commit;
use crate::group::engine::GroupState;
use crate::group::proposal_rules::{
    ProposalEffects, ProposalWithSender, apply_list, check_list, check_sender_may_propose,
    required_capabilities,
};
use crate::group::proposals::{Proposal, ProposalOrRef, ReInit};
use crate::group::psk_store::{PskStore, PskUse, resolve_psks};
use crate::group::state::{EpochState, OwnResumption, next_epoch, split_epoch_secrets};
use crate::schedule::{InitSecret, PreSharedKeyId, TranscriptHashes};
use crate::tree::leaf_validation::{LeafRole, validate_leaf_node};
use crate::tree::math::LeafIndex;
use crate::tree::treekem::{PathContext, apply_update_path};
use crate::{Error, Result};

/// What a commit does, for the application to inspect before merging.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CommitSummary {
    /// Who committed.
    pub committer: Sender,
    /// Leaf of an external joiner.
    pub external_joiner: Option<LeafIndex>,
    /// Leaves of members added.
    pub added: Vec<LeafIndex>,
    /// Leaves removed.
    pub removed: Vec<LeafIndex>,
    /// Leaves that sent a covered Update.
    pub updated: Vec<LeafIndex>,
    /// PSKs injected.
    pub psks: Vec<PreSharedKeyId>,
    /// New group context extensions, if replaced.
    pub extensions: Option<Vec<Extension>>,
    /// A ReInit the commit carries: the group ends and a new one starts.
    pub reinit: Option<ReInit>,
    /// Whether this member is removed by the commit.
    pub self_removed: bool,
    /// The members removed, as they were before the commit.
    pub removed_members: Vec<crate::group::member::Member>,
    /// Whether the commit carries an UpdatePath: the committer's leaf (and
    /// its path) has new keys.
    pub path_updated: bool,
    /// The commit's authenticated data (§6), as the committer sent it.
    pub authenticated_data: Vec<u8>,
}

/// A validated commit, ready to become the next epoch when merged
/// ([`Group::merge`](crate::Group::merge)).
pub struct StagedCommit {
    /// What the commit does.
    pub summary: CommitSummary,
    /// The next epoch; `None` when this member was removed.
    pub(crate) next: Option<EpochState>,
    /// The epoch the commit was staged in: merge refuses any other.
    pub(crate) base: StagedFrom,
}

/// Which group epoch a commit was staged in. The epoch authenticator tells
/// apart two groups that share a group id and epoch (a fork, a branch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StagedFrom {
    pub(crate) group_id: Vec<u8>,
    pub(crate) epoch: u64,
    pub(crate) epoch_authenticator: Vec<u8>,
}

impl StagedFrom {
    /// The current epoch of `group`.
    pub(crate) fn of(group: &GroupState) -> Self {
        Self {
            group_id: group.context().group_id.clone(),
            epoch: group.epoch(),
            epoch_authenticator: group.epoch_authenticator().to_vec(),
        }
    }
}

/// Compact: what the commit does and the epoch it starts, never the tree
/// or secrets of that epoch.
impl std::fmt::Debug for StagedCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.summary;
        f.debug_struct("StagedCommit")
            .field("from_epoch", &self.base.epoch)
            .field("to_epoch", &self.epoch())
            .field("committer", &s.committer)
            .field("added", &s.added)
            .field("removed", &s.removed)
            .field("updated", &s.updated)
            .field("path_updated", &s.path_updated)
            .field("psks", &s.psks.len())
            .field("new_extensions", &s.extensions.as_ref().map(Vec::len))
            .field("reinit", &s.reinit.is_some())
            .field("self_removed", &s.self_removed)
            .finish_non_exhaustive()
    }
}

impl StagedCommit {
    /// The epoch the commit starts.
    pub fn epoch(&self) -> Option<u64> {
        self.next.as_ref().map(|s| s.context.epoch)
    }

    /// The ratchet tree of the next epoch.
    pub fn next_tree(&self) -> Option<&crate::tree::ratchet_tree::RatchetTree> {
        self.next.as_ref().map(|s| &s.tree)
    }

    /// The members the commit adds (an external joiner included), as they
    /// will be in the next epoch. Empty when this member is removed.
    pub fn added_members(&self) -> Vec<crate::group::member::Member> {
        let Some(next) = &self.next else {
            return Vec::new();
        };
        let mut leaves = self.summary.added.clone();
        leaves.extend(self.summary.external_joiner);
        crate::group::member::Member::all_at(&next.tree, &leaves)
    }

    /// The members whose leaf changes: senders of covered Updates and the
    /// committer when the commit has a path, as they will be in the next
    /// epoch. Empty when this member is removed.
    pub fn updated_members(&self) -> Vec<crate::group::member::Member> {
        let Some(next) = &self.next else {
            return Vec::new();
        };
        let mut leaves = self.summary.updated.clone();
        if let (true, Sender::Member(committer)) =
            (self.summary.path_updated, self.summary.committer)
        {
            leaves.push(committer);
        }
        crate::group::member::Member::all_at(&next.tree, &leaves)
    }

    /// The members the commit removes, as they were before it.
    pub fn removed_members(&self) -> &[crate::group::member::Member] {
        &self.summary.removed_members
    }

    /// The epoch authenticator of the next epoch (§8.7).
    pub fn epoch_authenticator(&self) -> Option<&[u8]> {
        self.next
            .as_ref()
            .map(|s| s.keys.epoch_authenticator.as_bytes())
    }
}

/// Resolves the proposals a commit covers (§12.4.2): inline ones are the
/// committer's, references must name cached proposals of this epoch.
fn resolve(
    group: &GroupState,
    commit: &Commit,
    committer: &Sender,
) -> Result<Vec<ProposalWithSender>> {
    let mut out = Vec::with_capacity(commit.proposals.len());
    for p in &commit.proposals {
        match p {
            ProposalOrRef::Proposal(proposal) => {
                // §12.4: an inline proposal is sent by the committer.
                if *committer != Sender::NewMemberCommit {
                    check_sender_may_propose(committer, proposal)?;
                }
                out.push(ProposalWithSender {
                    proposal: (**proposal).clone(),
                    sender: *committer,
                    reference: None,
                });
            }
            ProposalOrRef::Reference(r) => {
                // §12.4.3.2: an external commit MUST NOT reference proposals.
                if *committer == Sender::NewMemberCommit {
                    return Err(Error::protocol(
                        "§12.4.3.2",
                        "an external commit covers a proposal by reference",
                    ));
                }
                let cached = group.proposals.find(r).ok_or_else(|| {
                    Error::protocol(
                        "§12.4.2",
                        "the commit references a proposal not received in this epoch",
                    )
                })?;
                out.push(ProposalWithSender {
                    proposal: cached.proposal.clone(),
                    sender: cached.sender,
                    reference: Some(r.clone()),
                });
            }
        }
    }
    Ok(out)
}

/// Validates a commit from another member or an external joiner and
/// computes the next epoch (§12.4.2), changing nothing in `group`.
/// `content` must already be authenticated (signature and membership tag).
pub fn stage_commit(
    group: &GroupState,
    content: &AuthenticatedContent,
    psks: &dyn PskStore,
    now: u64,
) -> Result<StagedCommit> {
    let suite: &Suite = &group.suite;
    let state = &group.epoch;
    let Content::Commit(commit) = &content.content.content else {
        return Err(Error::Internal("stage_commit on a non-commit"));
    };
    let committer = content.content.sender;
    let member = match committer {
        Sender::Member(leaf) => {
            if leaf == state.own_leaf() {
                return Err(Error::Misuse(
                    "this is our own commit: merge the pending commit instead".into(),
                ));
            }
            Some(leaf)
        }
        Sender::NewMemberCommit => None,
        // §12.4.2: only members and new members commit.
        other => {
            return Err(Error::protocol(
                "§12.4.2",
                format!("a commit from {other:?}"),
            ));
        }
    };
    let lifetime = group.config.lifetime_at(now);
    let list = resolve(group, commit, &committer)?;
    check_list(&state.tree, member, &list)?;

    let mut tree = state.tree.clone();
    let mut context = state.context.clone();
    let effects: ProposalEffects = apply_list(suite, &mut tree, &mut context, &list, lifetime)?;
    crate::group::join::check_group_size(&tree, group.config.max_leaves)?;

    // §12.4: a path is required by default, for path-required proposal
    // types, and always in an external commit (§12.4.3.2).
    let path_required = list.is_empty() || effects.path_required || member.is_none();
    if path_required && commit.path.is_none() {
        return Err(Error::protocol(
            "§12.4.2",
            "the commit has no path, but its proposals require one",
        ));
    }

    // §5.3.1, §12.4.3.2: the application decides on every credential the
    // commit introduces or replaces before anything is staged.
    Scope {
        authority: &group.authority,
        context: &state.context,
        tree: &state.tree,
    }
    .commit(
        member,
        &list,
        commit
            .path
            .as_ref()
            .map(|p| (&p.leaf_node.credential, &p.leaf_node.signature_key)),
    )?;

    // The sender's leaf: an external joiner takes the leftmost blank leaf.
    let sender_leaf = match member {
        Some(leaf) => leaf,
        None => tree.reserve_leaf()?,
    };
    let own = state.own_leaf();
    let self_removed = effects.removed.contains(&own);
    let summary = CommitSummary {
        committer,
        external_joiner: member.is_none().then_some(sender_leaf),
        added: effects.added.clone(),
        removed: effects.removed.clone(),
        updated: effects.updated.clone(),
        psks: effects.psks.clone(),
        extensions: effects.extensions.clone(),
        reinit: effects.reinit.clone(),
        self_removed,
        removed_members: crate::group::member::Member::all_at(&state.tree, &effects.removed),
        path_updated: commit.path.is_some(),
        authenticated_data: content.content.authenticated_data.clone(),
    };

    let mut private = state.private.clone();
    // Our own Update, committed by someone else: our leaf now has the key
    // we generated for it.
    if effects.updated.contains(&own) && !self_removed {
        let key = list
            .iter()
            .filter(|p| p.sender == Sender::Member(own))
            .filter_map(|p| p.reference.as_ref())
            .find_map(|r| group.own_updates.iter().find(|(o, _)| o == r))
            .map(|(_, k)| k.clone())
            .ok_or(Error::Internal(
                "our Update was committed but its key is unknown",
            ))?;
        private.set_leaf_key(key)?;
    }
    let mut commit_secret = None;
    if let Some(path) = &commit.path {
        // §12.4.2: validate the LeafNode (§7.3) with source commit.
        let required = required_capabilities(&context)?;
        validate_leaf_node(
            suite,
            &path.leaf_node,
            LeafRole::Commit {
                group_id: &context.group_id,
                leaf: sender_leaf,
            },
            required.as_ref(),
            lifetime,
        )?;
        let mut provisional = context.clone();
        provisional.epoch = next_epoch(state.context.epoch)?;
        let decrypted = apply_update_path(
            suite,
            &mut tree,
            sender_leaf,
            path,
            PathContext {
                group_id: &context.group_id,
                joiners: &effects.added,
                external: member.is_none(),
            },
            (!self_removed).then_some(&mut private),
            |tree_hash| {
                provisional.tree_hash = tree_hash.to_vec();
                Ok(crate::codec::encode(&provisional)?)
            },
        )?;
        commit_secret = decrypted.map(|d| d.commit_secret);
    }
    if self_removed {
        return Ok(StagedCommit {
            summary,
            next: None,
            base: StagedFrom::of(group),
        });
    }

    // §12.4.2: new GroupContext with the commit folded into the transcript.
    let transcript =
        TranscriptHashes::after_commit(suite, &state.interim_transcript_hash, content)?;
    context.epoch = next_epoch(state.context.epoch)?;
    context.tree_hash = tree.root_tree_hash(suite)?;
    context.confirmed_transcript_hash = transcript.confirmed.clone();

    let own_psks = OwnResumption {
        group_id: &state.context.group_id,
        current: (state.context.epoch, &state.keys.resumption_psk),
        retained: &group.retention.resumption,
    };
    let psk_secret = resolve_psks(suite, &effects.psks, psks, &own_psks, PskUse::Normal)?;
    // §8.3: an external commit starts from the ExternalInit's secret.
    let init = match &effects.external_init {
        Some(kem_output) => {
            let external_priv = state.external_private_key(suite)?;
            InitSecret::new(
                suite
                    .external_init_receiver(&external_priv, kem_output)
                    .map_err(|_| {
                        Error::protocol("§8.3", "the ExternalInit kem_output does not decapsulate")
                    })?,
            )
        }
        None => state.keys.init_secret.clone(),
    };
    let secrets = init
        .into_joiner_secret(suite, commit_secret, &context)?
        .into_epoch_secret(suite, &psk_secret, &context)?
        .into_epoch_secrets(suite)?;
    // §12.4.2: the confirmation tag must verify.
    let tag = content
        .auth
        .confirmation_tag
        .as_deref()
        .ok_or(Error::Internal("commit without confirmation tag"))?;
    secrets
        .verify_confirmation_tag(suite, &context.confirmed_transcript_hash, tag)
        .map_err(|_| {
            Error::protocol(
                "§12.4.2",
                format!(
                    "confirmation tag of the commit for epoch {} does not verify",
                    context.epoch
                ),
            )
        })?;
    let interim = transcript.interim;
    let (keys, secret_tree) =
        split_epoch_secrets(suite, secrets, tree.leaf_count(), group.config.secret_tree);
    Ok(StagedCommit {
        summary,
        base: StagedFrom::of(group),
        next: Some(EpochState {
            context,
            tree,
            private,
            keys,
            secret_tree,
            interim_transcript_hash: interim,
            confirmation_tag: tag.to_vec(),
        }),
    })
}

/// Whether `proposal` may be covered by a commit (used when caching).
pub fn is_committable(proposal: &Proposal) -> bool {
    !matches!(proposal, Proposal::ExternalInit(_))
}
