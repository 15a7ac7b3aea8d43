//! Processing a received Commit (§12.4.2) into a [`StagedCommit`] that
//! changes nothing until it is merged.

use crate::crypto::{HpkePrivateKey, Secret, Suite};
use crate::framing::TranscriptHashes;
use crate::framing::{AuthenticatedContent, Content, Sender};
use crate::group::authorization::Scope;
use crate::group::proposal_cache::ProposalCache;
use crate::group::proposal_rules::{
    ProposalEffects, ProposalWithSender, apply_list, check_list, check_sender_may_propose,
    required_capabilities,
};
use crate::group::psk_store::{PskStore, PskUse, resolve_psks};
use crate::group::public_view::{MemberVerified, PublicView};
use crate::group::state::GroupState;
use crate::group::state::{Confirmation, EpochState, OwnResumption, enter_epoch, next_epoch};
use crate::messages::commit::Commit;
use crate::messages::proposals::{Proposal, ProposalOrRef, ReInit};
use crate::schedule::{GroupContext, InitSecret, PreSharedKeyId};
use crate::tree::leaf_validation::{LeafRole, validate_leaf_node};
use crate::tree::private::TreePrivate;
use crate::tree::ratchet_tree::RatchetTree;
use crate::tree::treekem::{PathContext, apply_update_path};
use crate::types::Extension;
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// What a commit does, for the application to inspect before merging.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CommitSummary {
    /// Who committed.
    pub committer: Sender,
    /// Leaf of an external joiner: the committer itself, who joined by
    /// this commit. Not in [`Self::added`]; [`Self::joined`] lists both.
    pub external_joiner: Option<LeafIndex>,
    /// Leaves of members added by Add proposals (they join by Welcome).
    /// An external joiner is in [`Self::external_joiner`]; [`Self::joined`]
    /// lists every new member.
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
    /// The AppEphemeral proposals the commit covers, in commit order
    /// (draft-ietf-mls-extensions): data every member processes with this
    /// commit, which the group state does not keep. Like
    /// [`Self::app_data_updated`], not kept in the stored record of our own
    /// pending commit: reloaded after a restart, that summary lists none.
    pub app_ephemeral: Vec<crate::messages::app_data_proposals::AppEphemeral>,
    /// The components whose entry of the GroupContext `app_data_dictionary`
    /// the commit's AppDataUpdate proposals set or removed, sorted.
    pub app_data_updated: Vec<crate::crypto::component::ComponentId>,
}

impl CommitSummary {
    /// Every member this commit brings in: those added by Add proposals
    /// and the external joiner, in leaf order. What an application shows
    /// as "joined the group".
    pub fn joined(&self) -> Vec<LeafIndex> {
        let mut joined = self.added.clone();
        joined.extend(self.external_joiner);
        joined.sort_unstable();
        joined
    }
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

    internal_pub! {
        /// The ratchet tree of the next epoch.
        pub fn next_tree(&self) -> Option<&crate::tree::ratchet_tree::RatchetTree> {
            self.next.as_ref().map(|s| &s.tree)
        }
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
    proposals: &ProposalCache,
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
                let cached = proposals.find(r);
                // §12.4.3.2: an external commit MUST NOT reference proposals;
                // draft-ietf-mls-extensions lifts that for SelfRemove, which
                // "is designed to be included in external Commits" by
                // reference.
                if *committer == Sender::NewMemberCommit
                    && !cached.is_some_and(|c| matches!(c.proposal, Proposal::SelfRemove(_)))
                {
                    return Err(Error::protocol(
                        "§12.4.3.2",
                        "an external commit covers a proposal by reference",
                    ));
                }
                let cached = cached.ok_or_else(|| {
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

/// A commit from our own leaf that is not our pending commit (that one is
/// recognised by its bytes before processing). We cannot process our own
/// commit (its path secrets are encrypted to the others), so the caller
/// decides: a damaged copy of the pending commit is dropped; an older
/// commit of ours that the delivery service accepted means the group went
/// on without this member's state, which only a resync repairs.
pub(crate) fn own_commit_not_pending() -> Error {
    Error::Misuse(
        "this is a commit of ours, but not the pending one: if the pending commit was \
         accepted, merge it (Group::merge_pending); if the delivery service accepted an \
         older commit of ours, this member can no longer follow the group: resync by \
         external commit"
            .into(),
    )
}

/// A member's private keys, which staging a commit updates: the tree's
/// private keys and those of the member's own Update proposals. Observers
/// have none.
pub(crate) struct MemberKeys<'a> {
    pub(crate) private: &'a TreePrivate,
    pub(crate) own_updates: &'a [(Vec<u8>, HpkePrivateKey)],
}

/// The outcome of every check of a commit that needs no secret of the
/// epoch (§12.4.2 up to the key schedule): the proposals applied, the path
/// merged and verified, and the next epoch's GroupContext and transcript.
pub(crate) struct PublicStage {
    pub(crate) summary: CommitSummary,
    pub(crate) effects: ProposalEffects,
    /// The next epoch's tree.
    pub(crate) tree: RatchetTree,
    /// The next epoch's GroupContext: epoch, tree hash and confirmed
    /// transcript hash updated.
    pub(crate) context: GroupContext,
    /// The next epoch's interim transcript hash, from the commit's
    /// confirmation tag as claimed (only members can verify the tag).
    pub(crate) interim_transcript_hash: Vec<u8>,
    /// The commit's confirmation tag, unverified.
    pub(crate) confirmation_tag: Vec<u8>,
    /// The member's private keys after the commit (members only).
    pub(crate) private: Option<TreePrivate>,
    /// The commit secret from the decrypted path (members only).
    pub(crate) commit_secret: Option<Secret>,
}

/// Validates a commit of this epoch with every rule that needs no epoch
/// secret, for members and observers alike: committer type, proposal
/// resolution and list rules (§12.2), each proposal in the context it
/// applies in (§12.1, §12.3), the group size limit, the path requirement
/// (§12.4), the credential validator (§5.3.1), the committer's new leaf
/// (§7.3) and the UpdatePath with its parent hash (§7.6, §7.9.2). With
/// `keys` (a member), also decrypts the path secret meant for it. Changes
/// nothing: the result describes the next epoch.
///
/// `confirmed_transcript_hash` is the commit's if already computed (while
/// authenticating it); otherwise it is computed here.
pub(crate) fn stage_public(
    view: &PublicView<'_>,
    content: &AuthenticatedContent,
    confirmed_transcript_hash: Option<Vec<u8>>,
    now: u64,
    keys: Option<MemberKeys<'_>>,
) -> Result<PublicStage> {
    let suite: &Suite = view.suite;
    let Content::Commit(commit) = &content.content.content else {
        return Err(Error::Internal("stage_commit on a non-commit"));
    };
    let committer = content.content.sender;
    let member = match committer {
        Sender::Member(leaf) => Some(leaf),
        Sender::NewMemberCommit => None,
        // §12.4.2: only members and new members commit.
        other => {
            return Err(Error::protocol(
                "§12.4.2",
                format!("a commit from {other:?}"),
            ));
        }
    };
    let lifetime = view.config.lifetime_at(now);
    let list = resolve(view.proposals, commit, &committer)?;
    check_list(view.tree, member, &list)?;

    let mut tree = view.tree.clone();
    let mut context = view.context.clone();
    let effects: ProposalEffects = apply_list(
        suite,
        &mut tree,
        &mut context,
        &list,
        lifetime,
        view.authority.app_components(),
        member.is_none(),
    )?;
    crate::group::join::check_group_size(&tree, view.config.max_leaves)?;

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
        authority: view.authority,
        context: view.context,
        tree: view.tree,
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
    let own = keys.as_ref().map(|k| k.private.leaf());
    let self_removed = own.is_some_and(|own| effects.removed.contains(&own));
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
        removed_members: crate::group::member::Member::all_at(view.tree, &effects.removed),
        path_updated: commit.path.is_some(),
        authenticated_data: content.content.authenticated_data.clone(),
        app_ephemeral: effects.app_data.ephemeral.clone(),
        app_data_updated: effects.app_data.updated.clone(),
    };

    let mut private = keys.as_ref().map(|k| k.private.clone());
    // Our own Update, committed by someone else: our leaf now has the key
    // we generated for it.
    if let (Some(keys), Some(own), Some(private)) = (&keys, own, private.as_mut())
        && effects.updated.contains(&own)
        && !self_removed
    {
        let key = list
            .iter()
            .filter(|p| p.sender == Sender::Member(own))
            .filter_map(|p| p.reference.as_ref())
            .find_map(|r| keys.own_updates.iter().find(|(o, _)| o == r))
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
        crate::group::wire_format_rules::check_leaf(
            &path.leaf_node,
            &context.extensions,
            "the committer's new leaf",
        )?;
        crate::group::safe_aad_rules::check_leaf(
            &path.leaf_node,
            &context.extensions,
            "the committer's new leaf",
        )?;
        crate::group::required_components::check_leaf(
            &path.leaf_node.extensions,
            &context.extensions,
            "the committer's new leaf",
        )?;
        let mut provisional = context.clone();
        provisional.epoch = next_epoch(view.context.epoch)?;
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
            private.as_mut().filter(|_| !self_removed),
            |tree_hash| {
                provisional.tree_hash = tree_hash.to_vec();
                Ok(crate::codec::encode(&provisional)?)
            },
        )?;
        commit_secret = decrypted.map(|d| d.commit_secret);
        // draft-ietf-mls-extensions, Multi-Credentials: the committer's new
        // leaf against the members, and the members' against it.
        tree.check_multi_credentials()?;
    }

    // §12.4.2: new GroupContext with the commit folded into the transcript.
    let transcript = match confirmed_transcript_hash {
        Some(confirmed) => TranscriptHashes::from_confirmed(suite, confirmed, content)?,
        None => TranscriptHashes::after_commit(suite, view.interim_transcript_hash, content)?,
    };
    context.epoch = next_epoch(view.context.epoch)?;
    context.tree_hash = tree.root_tree_hash(suite)?;
    context.confirmed_transcript_hash = transcript.confirmed.clone();
    let confirmation_tag = content
        .auth
        .confirmation_tag
        .clone()
        .ok_or(Error::Internal("commit without confirmation tag"))?;
    Ok(PublicStage {
        summary,
        effects,
        tree,
        context,
        interim_transcript_hash: transcript.interim,
        confirmation_tag,
        private,
        commit_secret,
    })
}

/// Validates a commit from another member or an external joiner and
/// computes the next epoch (§12.4.2), changing nothing in `group`.
/// `content`'s type says it was authenticated (signature, and membership
/// tag or decryption).
/// `confirmed_transcript_hash` is the commit's if already computed (see
/// [`TranscriptHashes::from_confirmed`]), `None` to compute it here.
pub(crate) fn stage_commit(
    group: &GroupState,
    content: &MemberVerified,
    confirmed_transcript_hash: Option<Vec<u8>>,
    psks: &dyn PskStore,
    now: u64,
) -> Result<StagedCommit> {
    let suite: &Suite = &group.suite;
    let state = &group.epoch;
    if content.content.sender == Sender::Member(state.own_leaf()) {
        return Err(own_commit_not_pending());
    }
    let stage = stage_public(
        &group.public_view(),
        content,
        confirmed_transcript_hash,
        now,
        Some(MemberKeys {
            private: &state.private,
            own_updates: &group.own_updates,
        }),
    )?;
    if stage.summary.self_removed {
        return Ok(StagedCommit {
            summary: stage.summary,
            next: None,
            base: StagedFrom::of(group),
        });
    }
    let PublicStage {
        summary,
        effects,
        tree,
        context,
        interim_transcript_hash: interim,
        confirmation_tag: tag,
        private,
        commit_secret,
    } = stage;
    let private = private.ok_or(Error::Internal("member staged a commit without its keys"))?;

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
    let epoch = context.epoch;
    let error = || {
        Error::protocol(
            "§12.4.2",
            format!("confirmation tag of the commit for epoch {epoch} does not verify"),
        )
    };
    let next = enter_epoch(
        suite,
        secrets,
        Confirmation::Check {
            tag: &tag,
            error: &error,
        },
        context,
        (tree, private),
        group.config.secret_tree,
    )?;
    debug_assert_eq!(next.interim_transcript_hash, interim);
    Ok(StagedCommit {
        summary,
        base: StagedFrom::of(group),
        next: Some(next),
    })
}
