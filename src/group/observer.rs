//! An observer of a group (the delivery service's view): the group's public
//! state, without any secret, kept current by validating and applying the
//! PublicMessage proposals and commits the members send.
//!
//! Every check runs through the members' own code (`PublicView` and
//! `stage_public`), so the rules are implemented once. What needs an epoch
//! secret is out of reach and documented in `docs/observer.md`: membership
//! tags (§6.2), confirmation tags (§12.4.2), the ExternalInit's KEM output
//! (§8.3), PSK values (§8.4), and the content of every PrivateMessage.
//!
//! Since an external commit's sender is an outsider who could have broken
//! its confirmation tag, an external commit is applied provisionally: the
//! epoch it left is kept until a member who was in the group before it
//! confirms it, and a member's commit for that epoch supersedes it
//! ([`Confirmation`]).
//!
//! Every transition is computed first ([`Change`]), without changing the
//! state, so that the caller can write it before it is applied
//! ([`ObserverState::apply`]).

use crate::codec::encode;
use crate::crypto::Suite;
use crate::framing::interim_transcript_hash;
use crate::framing::{Content, ContentType, MlsMessage, MlsMessageBody, Sender, WireFormat};
use crate::group::authorization::{Authority, Scope};
use crate::group::commit_stage::{CommitSummary, stage_public};
use crate::group::join::{import_tree, tree_from_wire};
use crate::group::proposal_cache::{CachedProposal, ProposalCache};
use crate::group::public_view::PublicView;
use crate::group::state::{GroupConfig, check_group_id};
use crate::group::welcome_open::verify_group_info;
use crate::messages::proposals::ReInit;
use crate::messages::welcome::GroupInfo;
use crate::schedule::GroupContext;
use crate::tree::nodes::RatchetTreeWire;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::extensions::{ExtensionType, ExternalPub, check_unique_types, decode_extension};
use crate::types::math::LeafIndex;
use crate::{Error, Result, decode_exact};

/// Where a group message goes, read from its clear header alone (§6):
/// enough for a delivery service to route a message it cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The group the message belongs to.
    pub group_id: Vec<u8>,
    /// The epoch it was sent in.
    pub epoch: u64,
    /// PublicMessage or PrivateMessage.
    pub wire_format: WireFormat,
    /// Application, proposal or commit.
    pub content_type: ContentType,
    /// The sender, for a PublicMessage (a PrivateMessage encrypts it).
    pub sender: Option<Sender>,
}

impl Route {
    /// Reads the route of a PublicMessage or PrivateMessage (an
    /// MLSMessage). Checks nothing beyond decoding.
    pub fn of(message: &[u8]) -> Result<Self> {
        let message: MlsMessage = decode_exact("MLSMessage", message)?;
        Self::of_decoded(&message)
    }

    /// Whether the message is a commit (the one content type a delivery
    /// service must order: one per epoch).
    pub fn is_commit(&self) -> bool {
        self.content_type == ContentType::Commit
    }

    fn of_decoded(message: &MlsMessage) -> Result<Self> {
        match &message.body {
            MlsMessageBody::PublicMessage(m) => Ok(Self {
                group_id: m.content.group_id.clone(),
                epoch: m.content.epoch,
                wire_format: WireFormat::PUBLIC_MESSAGE,
                content_type: m.content.content.content_type(),
                sender: Some(m.content.sender),
            }),
            MlsMessageBody::PrivateMessage(m) => Ok(Self {
                group_id: m.group_id.clone(),
                epoch: m.epoch,
                wire_format: WireFormat::PRIVATE_MESSAGE,
                content_type: m.content_type,
                sender: None,
            }),
            _ => Err(Error::Misuse(
                "not a group message: Welcome, GroupInfo and KeyPackage have no group route".into(),
            )),
        }
    }
}

/// Whether a commit of a given epoch can be the group's next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOrder {
    /// The epoch is the current one: the first valid commit for it wins.
    Next,
    /// A commit for this epoch was already applied (the group is in
    /// `current`): the sender lost the race and must process the winner.
    Taken {
        /// The observer's current epoch.
        current: u64,
    },
    /// The epoch is ahead of the observer's (`current`): the observer
    /// missed commits, or the sender is wrong.
    Ahead {
        /// The observer's current epoch.
        current: u64,
    },
}

/// What the observer made of a message.
#[derive(Debug)]
pub enum Observed {
    /// A valid PublicMessage proposal, now cached for later commits.
    Proposal(Box<CachedProposal>),
    /// A valid PublicMessage commit, staged: [`Observer::merge`](crate::Observer::merge) it
    /// to enter the next epoch.
    Commit(Box<ObservedCommit>),
    /// A PrivateMessage: the observer can only route it.
    Private(Route),
}

/// The public state of one epoch as an observer holds it.
#[derive(Debug, Clone)]
pub(crate) struct PublicEpoch {
    pub(crate) context: GroupContext,
    pub(crate) tree: RatchetTree,
    pub(crate) interim_transcript_hash: Vec<u8>,
    pub(crate) confirmation_tag: Vec<u8>,
}

/// The epoch a commit was staged in; merge refuses any other. The tree
/// hash and confirmed transcript hash tell apart two forks of one epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ObservedFrom {
    group_id: Vec<u8>,
    epoch: u64,
    tree_hash: Vec<u8>,
    confirmed_transcript_hash: Vec<u8>,
}

impl ObservedFrom {
    fn of(context: &GroupContext) -> Self {
        Self {
            group_id: context.group_id.clone(),
            epoch: context.epoch,
            tree_hash: context.tree_hash.clone(),
            confirmed_transcript_hash: context.confirmed_transcript_hash.clone(),
        }
    }
}

/// A commit that passed every check an observer can make, with the next
/// epoch's public state.
pub struct ObservedCommit {
    summary: CommitSummary,
    next: PublicEpoch,
    base: ObservedFrom,
}

impl std::fmt::Debug for ObservedCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservedCommit")
            .field("summary", &self.summary)
            .field("from_epoch", &self.base.epoch)
            .field("members", &self.next.tree.member_count())
            .finish_non_exhaustive()
    }
}

impl ObservedCommit {
    /// What the commit does (`self_removed` is always false: an observer
    /// is not a member).
    pub fn summary(&self) -> &CommitSummary {
        &self.summary
    }

    /// The epoch the commit starts.
    pub fn epoch(&self) -> u64 {
        self.next.context.epoch
    }

    /// The GroupContext of the epoch the commit starts.
    pub fn next_context(&self) -> &GroupContext {
        &self.next.context
    }

    /// The ratchet tree of the epoch the commit starts, for the annotations
    /// of Partial MLS (draft-ietf-mls-partial).
    pub(crate) fn tree_after(&self) -> &RatchetTree {
        &self.next.tree
    }

    /// Whether the commit was staged in the epoch of `context` (the tree
    /// before it is then that epoch's).
    pub(crate) fn staged_in(&self, context: &GroupContext) -> bool {
        self.base == ObservedFrom::of(context)
    }

    /// The ratchet tree of the epoch the commit starts (feature
    /// `unstable-internals`).
    #[cfg(feature = "unstable-internals")]
    pub fn next_tree(&self) -> &RatchetTree {
        &self.next.tree
    }
}

/// Whether the members are known to have taken the epoch the observer is
/// in (`docs/observer.md`, "External commits stay provisional").
///
/// An observer cannot check a commit's confirmation tag (§12.4.2), which
/// the signature does not cover. A member's commit is trusted with it; an
/// external commit comes from an outsider, who could flip a bit of it so
/// that every member rejects the commit the observer applied. So an
/// external commit stays provisional until a member who was in the group
/// before it sends a message in an epoch that follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// Every commit applied is confirmed.
    Confirmed,
    /// An external commit left epoch `base` and no member has confirmed it
    /// (nor what was applied on top of it). A member's commit for `base`
    /// can still supersede it; proposals for `base` are still cached.
    Provisional {
        /// The last confirmed epoch.
        base: u64,
    },
    /// A member's commit for the epoch an unconfirmed external commit left
    /// superseded it, and the observer follows that commit. The external
    /// commit's branch (now in epoch `other`) is kept until a member's
    /// message shows which branch the members took.
    Contested {
        /// The epoch of the superseded branch.
        other: u64,
    },
}

/// A line of epochs the observer can be in: the state of its last epoch,
/// the proposals cached in it, and who joined it since the last confirmed
/// epoch.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub(crate) epoch: PublicEpoch,
    pub(crate) proposals: ProposalCache,
    /// The ReInit a commit of the branch carried, if any: the group is
    /// closed.
    pub(crate) reinit: Option<ReInit>,
    /// Leaves whose owners came in (external joiners, members added) since
    /// the last confirmed epoch: their messages confirm nothing, since the
    /// commits that brought them in need not be the members' (empty when
    /// the state is confirmed).
    pub(crate) newcomers: Vec<LeafIndex>,
}

impl Branch {
    fn new(epoch: PublicEpoch) -> Self {
        Self {
            epoch,
            proposals: ProposalCache::default(),
            reinit: None,
            newcomers: Vec::new(),
        }
    }

    /// Whether a message from `sender` in this branch shows that the
    /// members took it: a member who was in the group in the last confirmed
    /// epoch signed the branch's GroupContext.
    fn confirmed_by(&self, sender: Sender) -> bool {
        matches!(sender, Sender::Member(leaf) if !self.newcomers.contains(&leaf))
    }

    fn epoch_number(&self) -> u64 {
        self.epoch.context.epoch
    }
}

/// What the branch kept beside the current one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The last confirmed epoch, left by the unconfirmed external commit
    /// the current branch starts with: proposals for it are cached in it,
    /// and a member's commit for it supersedes the current branch.
    Base,
    /// A branch from the same confirmed epoch that a member's commit
    /// superseded, kept in case the members took it: only a message that
    /// confirms it is accepted for it.
    Rival,
}

/// The branch kept beside the current one while a commit is unconfirmed.
#[derive(Debug, Clone)]
pub(crate) struct Other {
    pub(crate) role: Role,
    pub(crate) branch: Branch,
}

/// One of the branches an observer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    Current,
    Other,
}

/// The branch the observer follows after a [`Change`].
#[derive(Debug)]
pub(crate) enum Next {
    /// One it holds.
    Keep(Which),
    /// The epoch a merged commit starts.
    Merged(Box<Branch>),
}

/// The branch kept beside the one followed, and its role (`None`: none).
pub(crate) type Kept = Option<(Which, Role)>;

/// One transition of an observer, computed by the checks from the state
/// as it is, then written (by `persist`) and applied
/// ([`ObserverState::apply`]). The branches it names are the ones held
/// before.
#[derive(Debug)]
pub(crate) struct Change {
    /// The branch followed afterwards.
    pub(crate) current: Next,
    /// The branch kept beside it, with its role; `None`: the state is
    /// confirmed.
    pub(crate) other: Kept,
    /// A proposal cached into one of the branches (one that is kept).
    pub(crate) cache: Option<(Which, CachedProposal)>,
    /// A GroupInfo for the branch followed afterwards. Without one, it
    /// keeps its GroupInfo if it is the branch followed before, and has
    /// none otherwise.
    pub(crate) group_info: Option<Vec<u8>>,
}

/// A group seen from outside: context, tree, transcript and proposals of
/// the current epoch, the latest GroupInfo a member uploaded, and, while
/// an external commit is unconfirmed, the branch kept beside the current
/// one.
#[derive(Debug, Clone)]
pub struct ObserverState {
    pub(crate) suite: Suite,
    pub(crate) config: GroupConfig,
    pub(crate) authority: Authority,
    /// The branch the observer follows.
    pub(crate) current: Branch,
    /// The signed GroupInfo (MLSMessage) of the current epoch, if a member
    /// uploaded one.
    pub(crate) group_info: Option<Vec<u8>>,
    /// The other branch, while the current one is unconfirmed or contested.
    pub(crate) other: Option<Box<Other>>,
}

impl ObserverState {
    /// Starts observing from a member's signed GroupInfo (§12.4.3), with
    /// the ratchet tree from its extension or `ratchet_tree`. The GroupInfo
    /// signature, the whole tree (§7.9.2, §7.3, tree hash against the
    /// context) and every member's credential (§5.3.1) are checked first.
    pub fn from_group_info(
        suite: &Suite,
        info: &GroupInfo,
        ratchet_tree: Option<RatchetTree>,
        config: GroupConfig,
        authority: Authority,
        now: u64,
    ) -> Result<Self> {
        let context = &info.group_context;
        if context.cipher_suite != suite.id() {
            return Err(Error::Misuse(format!(
                "the GroupInfo is for cipher suite {:?}, the observer was given {:?}",
                context.cipher_suite,
                suite.id()
            )));
        }
        check_unique_types(&context.extensions, "GroupContext extensions")?;
        check_unique_types(&info.extensions, "GroupInfo extensions")?;
        let tree = import_tree(
            suite,
            info,
            ratchet_tree,
            config.tree_lifetime_at(now),
            config.max_leaves,
        )?;
        Scope {
            authority: &authority,
            context,
            tree: &tree,
        }
        .tree_import()?;
        let interim = interim_transcript_hash(
            suite,
            &context.confirmed_transcript_hash,
            &info.confirmation_tag,
        )?;
        let message = encode(&MlsMessage::new(MlsMessageBody::GroupInfo(Box::new(
            info.clone(),
        ))))?;
        Ok(Self {
            suite: suite.clone(),
            config,
            authority,
            current: Branch::new(PublicEpoch {
                context: info.group_context.clone(),
                tree,
                interim_transcript_hash: interim,
                confirmation_tag: info.confirmation_tag.clone(),
            }),
            group_info: Some(message),
            other: None,
        })
    }

    fn view_of<'a>(&'a self, branch: &'a Branch) -> PublicView<'a> {
        PublicView {
            suite: &self.suite,
            config: &self.config,
            context: &branch.epoch.context,
            tree: &branch.epoch.tree,
            interim_transcript_hash: &branch.epoch.interim_transcript_hash,
            proposals: &branch.proposals,
            authority: &self.authority,
        }
    }

    fn branch(&self, which: Which) -> Result<&Branch> {
        match which {
            Which::Current => Ok(&self.current),
            Which::Other => self
                .other
                .as_deref()
                .map(|o| &o.branch)
                .ok_or(Error::Internal("the observer holds no other branch")),
        }
    }

    /// The current GroupContext.
    pub fn context(&self) -> &GroupContext {
        &self.current.epoch.context
    }

    internal_pub! {
        /// The current ratchet tree.
        pub fn tree(&self) -> &RatchetTree {
            &self.current.epoch.tree
        }
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.current.epoch_number()
    }

    /// Proposals received in this epoch.
    pub fn proposals(&self) -> &ProposalCache {
        &self.current.proposals
    }

    /// The ReInit a merged commit carried, if any: the group is closed.
    pub fn reinitialized(&self) -> Option<&ReInit> {
        self.current.reinit.as_ref()
    }

    /// Whether the members are known to have taken the current epoch.
    pub fn confirmation(&self) -> Confirmation {
        match self.other.as_deref() {
            None => Confirmation::Confirmed,
            Some(Other {
                role: Role::Base,
                branch,
            }) => Confirmation::Provisional {
                base: branch.epoch_number(),
            },
            Some(Other {
                role: Role::Rival,
                branch,
            }) => Confirmation::Contested {
                other: branch.epoch_number(),
            },
        }
    }

    /// Whether a commit for `epoch` can be the next one: a commit for the
    /// current epoch, and while a commit is unconfirmed also one for the
    /// other branch's epoch (a member's commit for the last confirmed
    /// epoch, or one in the contested branch).
    pub fn commit_order(&self, epoch: u64) -> CommitOrder {
        let current = self.epoch();
        let other = self.other.as_deref().map(|o| o.branch.epoch_number());
        if epoch == current || other == Some(epoch) {
            CommitOrder::Next
        } else if epoch > current.max(other.unwrap_or(0)) {
            CommitOrder::Ahead { current }
        } else {
            CommitOrder::Taken { current }
        }
    }

    /// The branches a handshake message of `epoch` may be for, in the
    /// order they are tried.
    fn candidates(&self, epoch: u64) -> Vec<Which> {
        let mut out = Vec::with_capacity(2);
        if epoch == self.epoch() {
            out.push(Which::Current);
        }
        if let Some(other) = self.other.as_deref()
            && other.branch.epoch_number() == epoch
        {
            out.push(Which::Other);
        }
        out
    }

    /// Processes one MLSMessage of the group. A PublicMessage proposal is
    /// validated and cached; a PublicMessage commit is validated and staged
    /// (the state changes only in [`Self::merge`]); a PrivateMessage is
    /// only routed. A message that fails a check changes nothing.
    pub fn process(&mut self, message: &[u8], now: u64) -> Result<Observed> {
        let (observed, change) = self.check(message, now)?;
        if let Some(change) = change {
            self.apply(change);
        }
        Ok(observed)
    }

    /// The checks of [`Self::process`], changing nothing: what the message
    /// is, and the change it makes (a cached proposal; none for a staged
    /// commit or a routed PrivateMessage).
    pub(crate) fn check(&self, message: &[u8], now: u64) -> Result<(Observed, Option<Change>)> {
        let message: MlsMessage = decode_exact("MLSMessage", message)?;
        let route = Route::of_decoded(&message)?;
        check_group_id(self.group_id(), &route.group_id)?;
        let MlsMessageBody::PublicMessage(public) = message.body else {
            return Ok((Observed::Private(route), None));
        };
        let mut candidates = self.candidates(route.epoch);
        let Some(last) = candidates.pop() else {
            // Of neither branch's epoch: the current one reports it.
            return self.check_public(Which::Current, *public, now);
        };
        // With two candidates (contested branches of one epoch), a member's
        // message verifies in the branch whose GroupContext it signed.
        let mut errors = Vec::with_capacity(2);
        for which in candidates {
            match self.check_public(which, (*public).clone(), now) {
                Ok(out) => return Ok(out),
                Err(e) => errors.push(e),
            }
        }
        match self.check_public(last, *public, now) {
            Ok(out) => return Ok(out),
            Err(e) => errors.push(e),
        }
        // The refusal of a message that verified in a branch says more
        // than the other branch's failure to verify it.
        let at = errors
            .iter()
            .position(|e| matches!(e, Error::Unconfirmed(_)))
            .unwrap_or(0);
        Err(errors.swap_remove(at))
    }

    fn check_public(
        &self,
        which: Which,
        public: crate::framing::PublicMessage,
        now: u64,
    ) -> Result<(Observed, Option<Change>)> {
        let branch = self.branch(which)?;
        // draft-ietf-mls-extensions, Safe AAD: refused as members refuse
        // it, before anything is verified, cached or staged, so that a
        // delivery service does not accept what every member refuses.
        if public.content.epoch == branch.epoch_number() {
            crate::group::safe_aad_rules::check_received(
                &branch.epoch.context.extensions,
                &public.content.authenticated_data,
            )?;
        }
        let view = self.view_of(branch);
        let opened = view.open_public_as_observer(public)?;
        let content = opened.content;
        let sender = content.content.sender;
        match &content.content.content {
            Content::Application(_) => Err(Error::Internal("application content as handshake")),
            Content::Proposal(proposal) => {
                let cached = view.admit_proposal(&content, proposal, now)?;
                let (current, other) =
                    self.settle(which, branch.confirmed_by(sender), "proposal")?;
                Ok((
                    Observed::Proposal(Box::new(cached.clone())),
                    Some(Change {
                        current,
                        other,
                        cache: Some((which, cached)),
                        group_info: None,
                    }),
                ))
            }
            Content::Commit(_) => {
                let stage =
                    stage_public(&view, &content, opened.confirmed_transcript_hash, now, None)?;
                let staged = ObservedCommit {
                    summary: stage.summary,
                    next: PublicEpoch {
                        context: stage.context,
                        tree: stage.tree,
                        interim_transcript_hash: stage.interim_transcript_hash,
                        confirmation_tag: stage.confirmation_tag,
                    },
                    base: ObservedFrom::of(&branch.epoch.context),
                };
                // Refused now rather than at merge, so that a delivery
                // service does not fan it out.
                self.merge_plan(which, &staged.summary)?;
                Ok((Observed::Commit(Box::new(staged)), None))
            }
        }
    }

    /// Which branch the observer follows, and which it keeps, after it
    /// accepts a proposal or GroupInfo for branch `which` (`confirms`: from
    /// a member who confirms that branch).
    fn settle(&self, which: Which, confirms: bool, what: &str) -> Result<(Next, Kept)> {
        match (self.other.as_deref(), which) {
            (None, _) => Ok((Next::Keep(Which::Current), None)),
            (Some(_), Which::Current) if confirms => Ok((Next::Keep(Which::Current), None)),
            (Some(other), Which::Current) => {
                Ok((Next::Keep(Which::Current), Some((Which::Other, other.role))))
            }
            (Some(other), Which::Other) => match other.role {
                Role::Base => Ok((Next::Keep(Which::Current), Some((Which::Other, Role::Base)))),
                Role::Rival if confirms => Ok((Next::Keep(Which::Other), None)),
                Role::Rival => Err(contested(what, other.branch.epoch_number())),
            },
        }
    }

    /// What merging a commit with `summary`, staged in branch `which`,
    /// keeps beside the branch it starts, and who the newcomers of that
    /// branch are; or why the observer refuses the commit.
    fn merge_plan(&self, which: Which, summary: &CommitSummary) -> Result<(Kept, Vec<LeafIndex>)> {
        let branch = self.branch(which)?;
        let confirms = branch.confirmed_by(summary.committer);
        // Who comes in with the commit: the members it adds and its
        // external joiner.
        let with = |mut newcomers: Vec<LeafIndex>| {
            for leaf in summary.added.iter().chain(&summary.external_joiner) {
                if !newcomers.contains(leaf) {
                    newcomers.push(*leaf);
                }
            }
            newcomers
        };
        Ok(match (self.other.as_deref(), which) {
            (None, _) if summary.external_joiner.is_some() => {
                (Some((Which::Current, Role::Base)), with(Vec::new()))
            }
            (None, _) => (None, Vec::new()),
            (Some(_), Which::Current) if confirms => (None, Vec::new()),
            // Built on the unconfirmed branch: it stays unconfirmed.
            (Some(other), Which::Current) => (
                Some((Which::Other, other.role)),
                with(branch.newcomers.clone()),
            ),
            (Some(other), Which::Other) => match other.role {
                Role::Base if matches!(summary.committer, Sender::Member(_)) => {
                    (Some((Which::Current, Role::Rival)), with(Vec::new()))
                }
                // Only a member's commit supersedes an unconfirmed
                // external commit: otherwise any outsider could.
                Role::Base => {
                    return Err(Error::wrong_epoch(
                        self.epoch(),
                        other.branch.epoch_number(),
                        crate::types::MessageKind::Commit,
                        true,
                    ));
                }
                Role::Rival if confirms => (None, Vec::new()),
                Role::Rival => return Err(contested("commit", other.branch.epoch_number())),
            },
        })
    }

    /// Enters the epoch a staged commit computed, as one transition: the
    /// proposal cache empties and the stored GroupInfo, now stale, is
    /// dropped. A commit staged in another epoch or fork changes nothing.
    pub fn merge(&mut self, staged: ObservedCommit) -> Result<()> {
        let change = self.check_merge(staged)?;
        self.apply(change);
        Ok(())
    }

    /// The checks of [`Self::merge`], changing nothing.
    pub(crate) fn check_merge(&self, staged: ObservedCommit) -> Result<Change> {
        let which = if staged.base == ObservedFrom::of(self.context()) {
            Which::Current
        } else if self
            .other
            .as_deref()
            .is_some_and(|o| staged.base == ObservedFrom::of(&o.branch.epoch.context))
        {
            Which::Other
        } else {
            let here = ObservedFrom::of(self.context());
            return Err(Error::Misuse(format!(
                "the commit was staged in epoch {} of {}; the observer is in epoch {}: \
                 process the commit again",
                staged.base.epoch,
                if staged.base.group_id == here.group_id {
                    "another state of this group"
                } else {
                    "another group"
                },
                here.epoch
            )));
        };
        let (other, newcomers) = self.merge_plan(which, &staged.summary)?;
        Ok(Change {
            current: Next::Merged(Box::new(Branch {
                epoch: staged.next,
                proposals: ProposalCache::default(),
                reinit: staged.summary.reinit,
                newcomers,
            })),
            other,
            cache: None,
            group_info: None,
        })
    }

    /// Applies a change computed by the checks from this state. Changes
    /// nothing else and cannot fail, so that a change written to storage
    /// is the change made in memory.
    pub(crate) fn apply(&mut self, change: Change) {
        let Change {
            current,
            other,
            cache,
            group_info,
        } = change;
        let mut old_other = self.other.take();
        if let Some((which, proposal)) = cache {
            match which {
                Which::Current => self.current.proposals.insert(proposal),
                Which::Other => {
                    if let Some(o) = old_other.as_deref_mut() {
                        o.branch.proposals.insert(proposal);
                    }
                }
            }
        }
        let next = match current {
            Next::Keep(Which::Current) => None,
            Next::Keep(Which::Other) => old_other.take().map(|o| o.branch),
            Next::Merged(branch) => Some(*branch),
        };
        let changed = next.is_some();
        let old_current = next.map(|next| std::mem::replace(&mut self.current, next));
        self.other = match other {
            None => None,
            Some((Which::Current, role)) => {
                old_current.map(|branch| Box::new(Other { role, branch }))
            }
            Some((Which::Other, role)) => old_other.map(|o| Box::new(Other { role, ..*o })),
        };
        if changed {
            self.group_info = None;
        }
        if let Some(info) = group_info {
            self.group_info = Some(info);
        }
        if self.other.is_none() {
            self.current.newcomers.clear();
        }
    }

    /// Checks a GroupInfo a member uploaded for this epoch and keeps it
    /// for joiners: its context and confirmation tag must be the observer's,
    /// its signer a member whose key verifies the signature (§12.4.3.1),
    /// its extensions unique, a `ratchet_tree` in it must hash to the
    /// context's tree hash, and an `external_pub` must decode. Whether
    /// `external_pub` is the epoch's true external key cannot be checked
    /// without the epoch's external secret.
    pub fn accept_group_info(&mut self, message: &[u8]) -> Result<()> {
        let change = self.check_group_info_upload(message)?;
        self.apply(change);
        Ok(())
    }

    /// The checks of [`Self::accept_group_info`], changing nothing. While
    /// contested, a GroupInfo of the other branch is accepted if it
    /// confirms that branch.
    pub(crate) fn check_group_info_upload(&self, message: &[u8]) -> Result<Change> {
        let decoded: MlsMessage = decode_exact("MLSMessage", message)?;
        let MlsMessageBody::GroupInfo(info) = &decoded.body else {
            return Err(Error::Misuse("expected a GroupInfo message".into()));
        };
        let mut which = Which::Current;
        let mut result = self.check_group_info(&self.current, info);
        if result.is_err()
            && let Some(other) = self.other.as_deref()
            && other.role == Role::Rival
            && self.check_group_info(&other.branch, info).is_ok()
        {
            which = Which::Other;
            result = Ok(());
        }
        result?;
        let signer = Sender::Member(info.signer);
        let confirms = self.branch(which)?.confirmed_by(signer);
        let (current, other) = self.settle(which, confirms, "GroupInfo")?;
        Ok(Change {
            current,
            other,
            cache: None,
            group_info: Some(message.to_vec()),
        })
    }

    fn check_group_info(&self, branch: &Branch, info: &GroupInfo) -> Result<()> {
        let ours = &branch.epoch.context;
        let theirs = &info.group_context;
        check_group_id(&ours.group_id, &theirs.group_id)?;
        if theirs.epoch != ours.epoch {
            return Err(Error::protocol(
                "§12.4.3",
                format!(
                    "GroupInfo of epoch {}, the group is in epoch {}",
                    theirs.epoch, ours.epoch
                ),
            ));
        }
        if theirs != ours {
            return Err(Error::protocol(
                "§12.4.3",
                format!(
                    "GroupInfo of epoch {}: its GroupContext differs from the group's \
                     (tree hash, transcript or extensions)",
                    ours.epoch
                ),
            ));
        }
        if info.confirmation_tag != branch.epoch.confirmation_tag {
            return Err(Error::protocol(
                "§12.4.3",
                format!(
                    "GroupInfo of epoch {}: its confirmation tag is not the one of the \
                     commit that started the epoch",
                    ours.epoch
                ),
            ));
        }
        check_unique_types(&info.extensions, "GroupInfo extensions")?;
        let signer = branch.epoch.tree.leaf(info.signer).ok_or_else(|| {
            Error::protocol(
                "§12.4.3.1",
                format!("GroupInfo signer {} is not a member", info.signer.0),
            )
        })?;
        verify_group_info(&self.suite, info, &signer.signature_key)?;
        if let Some(wire) = decode_extension::<RatchetTreeWire>(
            &info.extensions,
            ExtensionType::RATCHET_TREE,
            "ratchet_tree extension",
        )? {
            let tree = tree_from_wire(wire, self.config.max_leaves)?;
            if tree.root_tree_hash(&self.suite)? != ours.tree_hash {
                return Err(Error::protocol(
                    "§12.4.3.1",
                    format!(
                        "GroupInfo of epoch {}: its ratchet_tree does not match the tree hash",
                        ours.epoch
                    ),
                ));
            }
        }
        decode_extension::<ExternalPub>(
            &info.extensions,
            ExtensionType::EXTERNAL_PUB,
            "external_pub",
        )?;
        Ok(())
    }

    /// The GroupInfo (MLSMessage) a member uploaded for the current epoch,
    /// if any.
    pub fn group_info(&self) -> Option<&[u8]> {
        self.group_info.as_deref()
    }

    /// The group id.
    pub fn group_id(&self) -> &[u8] {
        &self.current.epoch.context.group_id
    }
}

/// The refusal of a message that would neither confirm nor extend the
/// branch being followed while two branches are contested.
fn contested(what: &str, epoch: u64) -> Error {
    Error::Unconfirmed(format!(
        "{what} for the contested branch in epoch {epoch}: while two branches of the \
         group compete, only a message from a member who was in the group before them \
         is accepted for the one not followed (it confirms that branch); send it again \
         once a member has confirmed a branch"
    ))
}

#[cfg(test)]
#[path = "observer_tests.rs"]
pub(crate) mod tests;
