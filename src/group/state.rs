//! The state a member keeps: the current epoch and what it retains of past
//! ones.

use std::collections::VecDeque;

use crate::crypto::{HpkePrivateKey, Secret, Suite};
use crate::group::authorization::Authority;
use crate::group::proposal_cache::ProposalCache;
use crate::group::psk_store::ResumptionSource;
use crate::schedule::{EpochSecrets, GroupContext, InitSecret, SecretTree, SecretTreeConfig};
use crate::tree::leaf_validation::LifetimePolicy;
use crate::tree::private::TreePrivate;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// The one configuration of a group: how it sends (handshake encryption,
/// padding, tree in the Welcome) and its policy. Every resource an
/// attacker can make a member hold has a limit here (see
/// docs/SECURITY.md). Used alike to create, join (Welcome or external
/// commit), reinitialize and branch a group, and changeable later with
/// `Group::set_config`.
///
/// Start from [`GroupConfig::default`] and set fields (the struct may gain
/// fields, so it cannot be built by a literal outside this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupConfig {
    /// Send proposals and commits as PrivateMessage (§6.3), which the
    /// delivery service cannot read. Default: PublicMessage, which it can
    /// inspect and validate (e.g. with an observer).
    pub encrypt_handshakes: bool,
    /// Put the ratchet tree into Welcome messages (§12.4.3.3); default true.
    /// When false, joiners need the tree from elsewhere.
    pub ratchet_tree_in_welcome: bool,
    /// Zero bytes of padding added to each application message (§6.3.1),
    /// to hide plaintext lengths. Default 0, at most 65,536 bytes.
    pub padding: usize,
    /// Past epochs whose application keys are kept to decrypt late messages.
    pub past_epochs: usize,
    /// Past epochs whose resumption PSK is kept (§8.6).
    pub resumption_epochs: usize,
    /// Out-of-order window and forward distance of the secret tree (§9).
    pub secret_tree: SecretTreeConfig,
    /// Longest acceptable key-package lifetime (§7.2).
    pub max_lifetime: u64,
    /// Most proposals cached per epoch. Anyone who may propose (members,
    /// external senders, and non-members through `new_member_proposal`
    /// Adds) can fill the cache; beyond this a proposal is refused with
    /// [`Error::Limit`] until the next commit empties the cache.
    pub max_cached_proposals: usize,
    /// Most leaves a group's tree may have. A tree from a Welcome or
    /// GroupInfo, or a commit, that would exceed it is refused before its
    /// nodes are allocated.
    pub max_leaves: u32,
    /// Also reject, when joining, a tree whose existing members' key-package
    /// lifetimes do not include the current time. §7.3 only RECOMMENDS this
    /// check for received leaves; it is off by default because a member that
    /// has not committed for longer than its key package's lifetime would
    /// otherwise make the group unjoinable.
    pub strict_lifetimes: bool,
    /// Whether each [`CommitOutput`](crate::CommitOutput) carries the
    /// signed GroupInfo of the epoch the commit starts, for the delivery
    /// service to publish to external joiners. Default: no.
    pub publish_group_info: PublishGroupInfo,
}

/// What [`CommitOutput::group_info`](crate::CommitOutput::group_info)
/// holds ([`GroupConfig::publish_group_info`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublishGroupInfo {
    /// No GroupInfo: the application calls `Group::group_info` when it
    /// needs one.
    #[default]
    No,
    /// The GroupInfo with its `external_pub`, without the ratchet tree
    /// (joiners get the tree from the delivery service).
    WithoutTree,
    /// The GroupInfo with its `external_pub` and the ratchet tree: larger
    /// (the tree is O(n)), but all an external joiner needs.
    WithTree,
}

impl PublishGroupInfo {
    /// The stored form: one byte.
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            Self::No => 0,
            Self::WithoutTree => 1,
            Self::WithTree => 2,
        }
    }

    /// From [`Self::to_byte`]; `None` for any other byte.
    pub(crate) fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::No),
            1 => Some(Self::WithoutTree),
            2 => Some(Self::WithTree),
            _ => None,
        }
    }
}

impl Default for GroupConfig {
    /// PublicMessage handshakes, the tree in Welcomes, no padding; 3 past
    /// epochs for late messages, 16 for resumption PSKs, the secret tree's
    /// defaults, a 366-day maximum lifetime, 4,096 cached proposals, 65,536
    /// leaves, and lifetimes of existing leaves not enforced on join.
    fn default() -> Self {
        Self {
            encrypt_handshakes: false,
            ratchet_tree_in_welcome: true,
            padding: 0,
            past_epochs: 3,
            resumption_epochs: 16,
            secret_tree: SecretTreeConfig::default(),
            max_lifetime: LifetimePolicy::DEFAULT_MAX_LIFETIME,
            max_cached_proposals: 4096,
            max_leaves: 1 << 16,
            strict_lifetimes: false,
            publish_group_info: PublishGroupInfo::No,
        }
    }
}

impl GroupConfig {
    /// Sets [`Self::encrypt_handshakes`].
    pub fn with_encrypted_handshakes(mut self, encrypt: bool) -> Self {
        self.encrypt_handshakes = encrypt;
        self
    }

    /// Sets [`Self::ratchet_tree_in_welcome`].
    pub fn with_ratchet_tree_in_welcome(mut self, include: bool) -> Self {
        self.ratchet_tree_in_welcome = include;
        self
    }

    /// Sets [`Self::padding`].
    pub fn with_padding(mut self, padding: usize) -> Self {
        self.padding = padding;
        self
    }

    /// Sets [`Self::past_epochs`].
    pub fn with_past_epochs(mut self, past_epochs: usize) -> Self {
        self.past_epochs = past_epochs;
        self
    }

    /// Sets [`Self::secret_tree`] (out-of-order window and forward distance).
    pub fn with_secret_tree(mut self, secret_tree: SecretTreeConfig) -> Self {
        self.secret_tree = secret_tree;
        self
    }

    /// Sets [`Self::max_lifetime`].
    pub fn with_max_lifetime(mut self, seconds: u64) -> Self {
        self.max_lifetime = seconds;
        self
    }

    /// Sets [`Self::strict_lifetimes`].
    pub fn with_strict_lifetimes(mut self, strict: bool) -> Self {
        self.strict_lifetimes = strict;
        self
    }

    /// Sets [`Self::publish_group_info`].
    pub fn with_publish_group_info(mut self, publish: PublishGroupInfo) -> Self {
        self.publish_group_info = publish;
        self
    }

    /// Sets [`Self::max_leaves`].
    pub fn with_max_leaves(mut self, max_leaves: u32) -> Self {
        self.max_leaves = max_leaves;
        self
    }

    internal_pub! {
        /// The lifetime policy at time `now`.
        pub fn lifetime_at(&self, now: u64) -> LifetimePolicy {
            LifetimePolicy {
                now: Some(now),
                max_lifetime: self.max_lifetime,
            }
        }
    }

    internal_pub! {
        /// The lifetime policy for the leaves of a tree being joined: the
        /// maximum total lifetime always, the current time only in strict mode
        /// (§7.3: RECOMMENDED for received leaves).
        pub fn tree_lifetime_at(&self, now: u64) -> LifetimePolicy {
            LifetimePolicy {
                now: self.strict_lifetimes.then_some(now),
                max_lifetime: self.max_lifetime,
            }
        }
    }
}

/// The secrets of one epoch a member needs after the key schedule ran.
#[derive(Debug, Clone)]
pub struct EpochKeys {
    /// Key of SenderData encryption (§6.3.2).
    pub sender_data_secret: Secret,
    /// Input of MLS-Exporter (§8.5).
    pub exporter_secret: Secret,
    /// Seed of the external key pair (§8).
    pub external_secret: Secret,
    /// Key of confirmation tags (§6.1).
    pub confirmation_key: Secret,
    /// Key of membership tags (§6.2).
    pub membership_key: Secret,
    /// This epoch's resumption PSK (§8.6).
    pub resumption_psk: Secret,
    /// The epoch authenticator (§8.7).
    pub epoch_authenticator: Secret,
    /// `init_secret` of the next epoch.
    pub init_secret: InitSecret,
}

/// How [`enter_epoch`] treats the epoch's confirmation tag (§12.4.2).
pub(crate) enum Confirmation<'a> {
    /// We make the epoch (we commit, or create the group): compute it.
    Make,
    /// We enter an epoch someone else made: `tag` must verify, or `error`.
    Check {
        /// The tag the commit or GroupInfo carries.
        tag: &'a [u8],
        /// The error naming the rule and the epoch, if it does not verify.
        error: &'a dyn Fn() -> Error,
    },
}

/// The tail every path into an epoch shares, once the key schedule gave
/// its secrets (§8): the confirmation tag over the new context's confirmed
/// transcript hash (§12.4.2), the interim transcript hash (§8.2), and the
/// split of the secrets, the encryption secret into the secret tree (§9)
/// and the rest kept.
pub(crate) fn enter_epoch(
    suite: &Suite,
    secrets: EpochSecrets,
    confirmation: Confirmation<'_>,
    context: GroupContext,
    (tree, private): (RatchetTree, TreePrivate),
    config: SecretTreeConfig,
) -> Result<EpochState> {
    let confirmation_tag = match confirmation {
        Confirmation::Make => secrets.confirmation_tag(suite, &context.confirmed_transcript_hash),
        Confirmation::Check { tag, error } => {
            secrets
                .verify_confirmation_tag(suite, &context.confirmed_transcript_hash, tag)
                .map_err(|_| error())?;
            tag.to_vec()
        }
    };
    let interim_transcript_hash = crate::framing::interim_transcript_hash(
        suite,
        &context.confirmed_transcript_hash,
        &confirmation_tag,
    )?;
    let secret_tree = SecretTree::new(suite, secrets.encryption_secret, tree.leaf_count(), config);
    let keys = EpochKeys {
        sender_data_secret: secrets.sender_data_secret,
        exporter_secret: secrets.exporter_secret,
        external_secret: secrets.external_secret,
        confirmation_key: secrets.confirmation_key,
        membership_key: secrets.membership_key,
        resumption_psk: secrets.resumption_psk,
        epoch_authenticator: secrets.epoch_authenticator,
        init_secret: secrets.init_secret,
    };
    Ok(EpochState {
        context,
        tree,
        private,
        keys,
        secret_tree,
        interim_transcript_hash,
        confirmation_tag,
        safe_exporter: Some(crate::schedule::exporter_tree::ExporterTree::new(
            secrets.application_export_secret,
        )),
    })
}

/// Everything of the current epoch.
#[derive(Debug)]
pub struct EpochState {
    /// The GroupContext of the epoch.
    pub context: GroupContext,
    /// The public ratchet tree.
    pub tree: RatchetTree,
    /// Our private keys in the tree.
    pub private: TreePrivate,
    /// The epoch's secrets.
    pub keys: EpochKeys,
    /// Message keys of the epoch (§9).
    pub secret_tree: SecretTree,
    /// `interim_transcript_hash` after the commit that started the epoch.
    pub interim_transcript_hash: Vec<u8>,
    /// Confirmation tag of that commit (for GroupInfo).
    pub confirmation_tag: Vec<u8>,
    /// The safe exporter's tree (draft-ietf-mls-extensions), in memory
    /// only: an epoch loaded from storage has none, so its secrets never
    /// reach the disk and an export stays forward secure.
    pub safe_exporter: Option<crate::schedule::exporter_tree::ExporterTree>,
}

impl EpochState {
    /// Our leaf.
    pub fn own_leaf(&self) -> LeafIndex {
        self.private.leaf()
    }

    /// The external private key of the epoch (§8), for external commits.
    pub fn external_private_key(&self, suite: &Suite) -> Result<HpkePrivateKey> {
        Ok(crate::schedule::external_key_pair(suite, &self.keys.external_secret)?.0)
    }
}

/// What is kept of a past epoch to read its late application messages: the
/// epoch's context and tree (to check signatures), sender-data secret and
/// message keys.
#[derive(Debug)]
pub struct PastEpoch {
    /// The epoch's context.
    pub context: GroupContext,
    /// The epoch's tree.
    pub tree: RatchetTree,
    /// The epoch's sender-data secret.
    pub sender_data_secret: Secret,
    /// The epoch's message keys.
    pub secret_tree: SecretTree,
}

/// Retained state of past epochs, bounded by the [`GroupConfig`].
#[derive(Debug, Default)]
pub struct Retention {
    /// Newest last.
    pub epochs: VecDeque<PastEpoch>,
    /// `(epoch, resumption_psk)`, newest last.
    pub resumption: VecDeque<(u64, Secret)>,
}

impl Retention {
    /// Keeps what `config` asks for of the epoch being left.
    pub fn retire(&mut self, config: &GroupConfig, old: EpochState) {
        self.resumption
            .push_back((old.context.epoch, old.keys.resumption_psk.clone()));
        while self.resumption.len() > config.resumption_epochs {
            self.resumption.pop_front();
        }
        if config.past_epochs > 0 {
            self.epochs.push_back(PastEpoch {
                context: old.context,
                tree: old.tree,
                sender_data_secret: old.keys.sender_data_secret,
                secret_tree: old.secret_tree,
            });
        }
        while self.epochs.len() > config.past_epochs {
            self.epochs.pop_front();
        }
    }

    /// The retained past epoch `epoch`.
    pub fn epoch_mut(&mut self, epoch: u64) -> Option<&mut PastEpoch> {
        self.epochs.iter_mut().find(|e| e.context.epoch == epoch)
    }
}

/// Resumption PSKs of the group itself: the current epoch's and the
/// retained ones.
pub struct OwnResumption<'a> {
    /// The group id.
    pub group_id: &'a [u8],
    /// The current epoch and its PSK.
    pub current: (u64, &'a Secret),
    /// Retained past ones.
    pub retained: &'a VecDeque<(u64, Secret)>,
}

impl ResumptionSource for OwnResumption<'_> {
    fn own_resumption(&self, group_id: &[u8], epoch: u64) -> Option<Secret> {
        if group_id != self.group_id {
            return None;
        }
        if epoch == self.current.0 {
            return Some(self.current.1.clone());
        }
        self.retained
            .iter()
            .find(|(e, _)| *e == epoch)
            .map(|(_, s)| s.clone())
    }
}

/// A resumption source with nothing in it (for joiners).
pub struct NoResumption;

impl ResumptionSource for NoResumption {
    fn own_resumption(&self, _group_id: &[u8], _epoch: u64) -> Option<Secret> {
        None
    }
}

/// The epoch after `epoch`. The counter comes from the wire (a GroupInfo
/// or Welcome can claim any epoch), so it is never incremented unchecked.
pub fn next_epoch(epoch: u64) -> Result<u64> {
    epoch.checked_add(1).ok_or_else(|| {
        Error::Unsupported(format!(
            "the group is at epoch {epoch}, the last one a u64 counts: it cannot advance; \
             continue in a reinitialized group (RFC 9420 §11.2)"
        ))
    })
}

/// Checks that a value from the wire is the group's.
pub fn check_group_id(ours: &[u8], theirs: &[u8]) -> Result<()> {
    if ours == theirs {
        Ok(())
    } else {
        Err(Error::NotForUs(crate::types::error::NotForUs::OtherGroup {
            group_id: theirs.to_vec(),
        }))
    }
}

/// A member's view of a group: the current epoch, proposals received in it,
/// and what is retained of past epochs.
#[derive(Debug)]
pub struct GroupState {
    /// The group's cipher suite.
    pub(crate) suite: Suite,
    /// Policy.
    pub(crate) config: GroupConfig,
    /// The current epoch.
    pub(crate) epoch: EpochState,
    /// Proposals of the current epoch.
    pub(crate) proposals: ProposalCache,
    /// Past epochs.
    pub(crate) retention: Retention,
    /// Set once a merged commit removed us.
    pub(crate) removed: bool,
    /// Private keys of our own Update proposals of this epoch, by
    /// ProposalRef: needed when another member commits one of them.
    pub(crate) own_updates: Vec<(Vec<u8>, crate::crypto::HpkePrivateKey)>,
    /// Set once a merged commit carried a ReInit (§11.2): the group is
    /// closed and continues as a new one.
    pub(crate) reinit: Option<crate::messages::proposals::ReInit>,
    /// The application's credential validator (§5.3.1), asked before
    /// anything is cached or staged.
    pub(crate) authority: Authority,
}

/// Where a group's memory stood when a transition began: with the secret
/// trees' journals, enough for [`GroupState::rollback`] to put it back if
/// the transition's write fails (docs/errors.md: after a `Retry` error
/// nothing changed in memory).
#[derive(Debug, Clone, Copy)]
#[must_use]
pub(crate) struct Checkpoint {
    proposals: usize,
    own_updates: usize,
}

impl GroupState {
    /// This group's own resumption PSKs (§8.6): the current epoch's and the
    /// retained ones.
    pub(crate) fn own_resumption(&self) -> OwnResumption<'_> {
        OwnResumption {
            group_id: &self.epoch.context.group_id,
            current: (self.epoch.context.epoch, &self.epoch.keys.resumption_psk),
            retained: &self.retention.resumption,
        }
    }

    /// Starts a transition: the secret trees of the current and retained
    /// epochs record what they replace until [`Self::settle`] or
    /// [`Self::rollback`].
    pub(crate) fn begin(&mut self) -> Checkpoint {
        self.epoch.secret_tree.begin();
        for past in &mut self.retention.epochs {
            past.secret_tree.begin();
        }
        Checkpoint {
            proposals: self.proposals.len(),
            own_updates: self.own_updates.len(),
        }
    }

    /// Keeps the transition's changes (it was stored, or it had nothing to
    /// store) and deletes what they replaced.
    pub(crate) fn settle(&mut self) {
        self.epoch.secret_tree.settle();
        for past in &mut self.retention.epochs {
            past.secret_tree.settle();
        }
    }

    /// Puts the group back as it was at `checkpoint`: ratchet steps taken,
    /// keys consumed and proposals cached since then are undone.
    pub(crate) fn rollback(&mut self, checkpoint: Checkpoint) {
        self.epoch.secret_tree.rollback();
        for past in &mut self.retention.epochs {
            past.secret_tree.rollback();
        }
        self.proposals.truncate(checkpoint.proposals);
        self.own_updates.truncate(checkpoint.own_updates);
    }
}
