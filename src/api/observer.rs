//! [`Observer`]: a group seen by a server (a delivery service) that holds
//! none of its secrets. It validates the PublicMessage proposals and commits
//! of the group with the members' own rules, tracks epoch, tree, context and
//! members, orders commits (one per epoch), and serves the ratchet tree and
//! the members' GroupInfo to joiners. See `docs/observer.md` for what it
//! checks and what it cannot.

use std::sync::Arc;

use crate::api::authentication::{AcceptBasic, CredentialValidator};
use crate::api::clock::{Clock, SystemClock};
use crate::api::group::Member;
use crate::api::group_partial::{CommitAnnotations, check_current};
use crate::codec::encode;
use crate::crypto::rust_crypto::RustCryptoProvider;
use crate::crypto::{CryptoProvider, Suite};
use crate::framing::{MlsMessage, MlsMessageBody, Sender};
use crate::group::app_data_rules::AppComponents;
use crate::group::authorization::Authority;
use crate::group::observer::{
    Change, CommitOrder, Confirmation, Observed, ObservedCommit, ObserverState,
};
use crate::group::partial_annotate::sender_authenticated;
use crate::group::state::GroupConfig;
use crate::persist::observer_store::{self, ObserverStore};
use crate::schedule::GroupContext;
use crate::storage::{APP_KEY_PREFIX, SharedStorage, WriteBatch};
use crate::tree::nodes::RatchetTreeWire;
use crate::types::math::LeafIndex;
use crate::{Error, Result, decode_exact};

/// How an [`Observer`] is set up: policy, crypto provider, clock and
/// credential validator (the same hook members use, §5.3.1).
#[derive(Clone)]
pub struct ObserverOptions {
    /// Group policy (limits, lifetimes).
    pub config: GroupConfig,
    /// The crypto provider; the suite is the group's.
    pub provider: Arc<dyn CryptoProvider>,
    /// The time, for key-package and leaf lifetimes.
    pub clock: Arc<dyn Clock>,
    /// The application's credential validator.
    pub validator: Arc<dyn CredentialValidator>,
    /// Where the observer keeps its state (see `docs/persistence.md`):
    /// each change (creation, a cached proposal, a merge, an accepted
    /// GroupInfo) writes the records it changes, as one atomic batch,
    /// before the call returns; routing a message or staging a commit
    /// writes nothing. `None` (the default): memory only.
    pub storage: Option<SharedStorage>,
    /// Whether several servers (processes) keep this group's observer in
    /// the same `storage`, each with its own cached `Observer`. Then every
    /// change is written with [`Storage::write_if`](crate::storage::Storage::write_if),
    /// conditional on a change counter the observer stores beside its
    /// records: of two servers deciding on the same state (two commits for
    /// one epoch), exactly one write succeeds. The other gets
    /// [`Error::Conflict`] and its observer reloads from storage; and
    /// [`Observer::process`] first catches up with what other servers
    /// stored ([`Observer::catch_up`]). The storage must implement
    /// `write_if`. `false` (the default): this observer is the only writer.
    pub shared: bool,
    /// The application's component logic (draft-ietf-mls-extensions), as
    /// members register it with
    /// [`ClientBuilder::app_components`](crate::ClientBuilder::app_components):
    /// the observer applies AppDataUpdate proposals to the group's
    /// `app_data_dictionary` as members do. `None` (the default): it knows
    /// no component, and refuses every AppDataUpdate and AppEphemeral.
    pub app_components: Option<Arc<dyn AppComponents>>,
}

impl Default for ObserverOptions {
    /// Default policy, the built-in provider, the system clock, and
    /// [`AcceptBasic`].
    fn default() -> Self {
        Self {
            config: GroupConfig::default(),
            provider: Arc::new(RustCryptoProvider),
            clock: Arc::new(SystemClock),
            validator: Arc::new(AcceptBasic),
            storage: None,
            shared: false,
            app_components: None,
        }
    }
}

impl ObserverOptions {
    /// On wasm32-unknown-unknown without the feature `wasm-js`,
    /// [`SystemClock`] says 0 (there is no system clock): the host's clock
    /// is required there, as for a client. Elsewhere, nothing to check.
    fn check_clock(&self) -> Result<()> {
        let no_system_clock = cfg!(all(
            target_family = "wasm",
            target_os = "unknown",
            not(feature = "wasm-js")
        ));
        if no_system_clock && self.clock.now() == 0 {
            return Err(Error::Misuse(
                "wasm32-unknown-unknown has no system clock: set ObserverOptions::clock to the \
                 host's time (or build with the feature wasm-js)"
                    .into(),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for ObserverOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObserverOptions")
            .field("config", &self.config)
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

/// A group seen from outside, without secrets: what a delivery service
/// runs per group.
pub struct Observer {
    pub(crate) state: ObserverState,
    clock: Arc<dyn Clock>,
    store: Option<ObserverStore>,
    /// Kept to reload the state when another server changed it.
    options: ObserverOptions,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer")
            .field("epoch", &self.state.epoch())
            .field("members", &self.state.tree().member_count())
            .field("cached_proposals", &self.state.proposals().len())
            .field("confirmation", &self.state.confirmation())
            .finish_non_exhaustive()
    }
}

impl Observer {
    /// Starts observing a group from a member's signed GroupInfo (an
    /// MLSMessage, e.g. from [`Group::group_info`](crate::Group::group_info)),
    /// with `ratchet_tree` (encoded) when the GroupInfo does not carry the
    /// tree. To follow a group from its creation, start from the creator's
    /// GroupInfo of epoch 0. The signature, the whole tree and every
    /// member's credential are checked first.
    pub fn from_group_info(
        group_info: &[u8],
        ratchet_tree: Option<&[u8]>,
        options: ObserverOptions,
    ) -> Result<Self> {
        options.check_clock()?;
        let message: MlsMessage = decode_exact("MLSMessage", group_info)?;
        let MlsMessageBody::GroupInfo(info) = message.body else {
            return Err(Error::Misuse("expected a GroupInfo message".into()));
        };
        let suite = Suite::from_provider(&*options.provider, info.group_context.cipher_suite)?
            .with_provider(options.provider.clone());
        let tree = ratchet_tree
            .map(|bytes| {
                let wire: RatchetTreeWire = decode_exact("ratchet tree", bytes)?;
                crate::group::join::tree_from_wire(wire, options.config.max_leaves)
            })
            .transpose()?;
        let state = ObserverState::from_group_info(
            &suite,
            &info,
            tree,
            options.config,
            Authority::new(options.validator.clone())
                .with_app_components(options.app_components.clone()),
            options.clock.now(),
        )?;
        let mut store = options
            .storage
            .clone()
            .map(|storage| ObserverStore::new(storage, &state.context().group_id, options.shared));
        if let Some(store) = &mut store {
            store.save_all(&state)?;
        }
        Ok(Self {
            state,
            clock: options.clock.clone(),
            store,
            options,
        })
    }

    /// Loads the observer of group `group_id` from `options.storage`, as
    /// the last successful call left it; `None` if it holds none. An
    /// observer stored by an earlier version (one record) loads too; its
    /// next change rewrites it in the current layout.
    ///
    /// With [`ObserverOptions::shared`], each server loads its own
    /// observer of the group; [`Self::from_group_info`] by a second server
    /// fails with [`Error::Conflict`] (another server created it): load it.
    pub fn load(group_id: &[u8], options: ObserverOptions) -> Result<Option<Self>> {
        options.check_clock()?;
        let Some(storage) = options.storage.clone() else {
            return Err(Error::Misuse(
                "Observer::load needs ObserverOptions::storage".into(),
            ));
        };
        let loaded = observer_store::load(
            &storage,
            group_id,
            options.shared,
            &*options.provider,
            options.config,
            Authority::new(options.validator.clone())
                .with_app_components(options.app_components.clone()),
        )?;
        Ok(loaded.map(|(mut state, store)| {
            // Multi-credential bindings may be in any of the provider's
            // suites.
            state.suite = state.suite.clone().with_provider(options.provider.clone());
            Self {
                state,
                clock: options.clock.clone(),
                store: Some(store),
                options,
            }
        }))
    }

    /// Restores an observer from [`Self::to_bytes`] (or the version-1
    /// encoding of earlier releases). Policy, clock and validator come
    /// from `options`; they are not stored. With `options.storage`, the
    /// first change writes the whole state there, replacing what the
    /// storage held for the group.
    pub fn from_bytes(bytes: &[u8], options: ObserverOptions) -> Result<Self> {
        options.check_clock()?;
        let state = ObserverState::from_bytes(
            &*options.provider,
            bytes,
            options.config,
            Authority::new(options.validator.clone())
                .with_app_components(options.app_components.clone()),
        )?;
        let mut state = state;
        state.suite = state.suite.clone().with_provider(options.provider.clone());
        let store = options
            .storage
            .clone()
            .map(|storage| ObserverStore::new(storage, &state.context().group_id, options.shared));
        Ok(Self {
            state,
            clock: options.clock.clone(),
            store,
            options,
        })
    }

    /// The observer's state, encoded (version 2: the records of
    /// `docs/persistence.md`, as a list) for storage: only public data
    /// (context, tree, transcript hash, confirmation tag, cached proposals,
    /// the uploaded GroupInfo, and the other branch while an external
    /// commit is unconfirmed).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.state.to_bytes()
    }

    /// The engine state, read-only (feature `unstable-internals`).
    #[cfg(feature = "unstable-internals")]
    pub fn state(&self) -> &ObserverState {
        &self.state
    }

    /// The group id.
    pub fn group_id(&self) -> &[u8] {
        &self.state.context().group_id
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.state.epoch()
    }

    /// The current GroupContext.
    pub fn context(&self) -> &GroupContext {
        self.state.context()
    }

    /// The members, by leaf index.
    pub fn members(&self) -> Vec<Member> {
        Member::all_of(self.state.tree())
    }

    /// Whether a commit sent in `epoch` can be the next one: a delivery
    /// service accepts the first valid commit of the current epoch and
    /// refuses the others ([`CommitOrder::Taken`]) before fan-out. While
    /// an external commit is unconfirmed, a member's commit for the epoch
    /// it left is still [`CommitOrder::Next`] (see [`Self::confirmation`]).
    pub fn commit_order(&self, epoch: u64) -> CommitOrder {
        self.state.commit_order(epoch)
    }

    /// Whether the members are known to have taken the current epoch. An
    /// external commit stays provisional until a member who was in the
    /// group before it sends a PublicMessage or GroupInfo in an epoch that
    /// follows from it; until then a member's commit for the epoch it left
    /// supersedes it (`docs/observer.md`).
    pub fn confirmation(&self) -> Confirmation {
        self.state.confirmation()
    }

    /// Validates one message of the group: a PublicMessage proposal is
    /// cached, a PublicMessage commit is staged (apply it with
    /// [`Self::merge`]), a PrivateMessage is only routed. A message that
    /// fails any check leaves the observer unchanged. Only a cached
    /// proposal is written to storage. A shared observer
    /// ([`ObserverOptions::shared`]) first catches up ([`Self::catch_up`]).
    pub fn process(&mut self, message: &[u8]) -> Result<Observed> {
        self.catch_up()?;
        let now = self.clock.now();
        let (observed, change) = self.state.check(message, now)?;
        if let Some(change) = change {
            self.commit(change, WriteBatch::default())?;
        }
        Ok(observed)
    }

    /// Prepares `commit` (the encoded MLSMessage [`Self::process`] staged
    /// into `staged`, not merged yet) for the partial members
    /// (draft-ietf-mls-partial): their AnnotatedCommits and the joiners'
    /// AnnotatedWelcomes. The observer holds both trees and needs no
    /// secret. Refused for a commit staged in another epoch.
    pub fn annotate_commit(
        &self,
        commit: &[u8],
        staged: &ObservedCommit,
    ) -> Result<CommitAnnotations> {
        if !staged.staged_in(self.state.context()) {
            return Err(Error::Misuse(
                "the commit was staged in another epoch than the observer's current one".into(),
            ));
        }
        CommitAnnotations::prepare(
            &self.state.suite,
            self.state.context(),
            self.state.tree(),
            staged.tree_after(),
            commit,
            staged.summary(),
            self.state.proposals(),
        )
    }

    /// Wraps `message`, an encoded MLSMessage the member at `sender` sent
    /// in the current epoch, with that member's membership proof: the
    /// encoded `SenderAuthenticatedMessage<MLSMessage>` partial members
    /// read. A PrivateMessage hides its sender from the observer, so the
    /// caller names it (a wrong one fails the partial client's signature
    /// check); a PublicMessage's sender must be `sender`.
    pub fn sender_authenticated(&self, message: &[u8], sender: LeafIndex) -> Result<Vec<u8>> {
        let message: MlsMessage = decode_exact("MLSMessage", message)?;
        check_current(&message, self.state.context())?;
        if let MlsMessageBody::PublicMessage(m) = &message.body
            && m.content.sender != Sender::Member(sender)
        {
            return Err(Error::Misuse(format!(
                "a PublicMessage from {:?}, not from leaf {sender}",
                m.content.sender
            )));
        }
        Ok(encode(&sender_authenticated(
            &self.state.suite,
            self.state.tree(),
            message,
            sender,
        )?)?)
    }

    /// Enters the epoch of a commit staged by [`Self::process`] in the
    /// current epoch (or, while an external commit is unconfirmed, in the
    /// other branch's); any other is refused, changing nothing.
    pub fn merge(&mut self, staged: ObservedCommit) -> Result<()> {
        let change = self.state.check_merge(staged)?;
        self.commit(change, WriteBatch::default())
    }

    /// [`Self::merge`], writing the application's records `extra` in the
    /// same atomic batch as the merge (a delivery service's fan-out: the
    /// commit queued for the members, a Welcome for the joiners): after a
    /// crash both are stored or neither, and with
    /// [`ObserverOptions::shared`] the batch is conditional like every
    /// change, so of two servers racing for an epoch the loser writes
    /// neither ([`Error::Conflict`]). Every key of `extra` (puts, deletes,
    /// prefix deletes) must start with
    /// [`APP_KEY_PREFIX`], where the library
    /// writes nothing; needs `ObserverOptions::storage`.
    pub fn merge_with(&mut self, staged: ObservedCommit, extra: WriteBatch) -> Result<()> {
        self.check_extra(&extra)?;
        let change = self.state.check_merge(staged)?;
        self.commit(change, extra)
    }

    /// [`Self::process`] for a proposal or a PrivateMessage, writing the
    /// application's records `extra` (as for [`Self::merge_with`]) in the
    /// same atomic batch as what the message changes: a cached proposal
    /// and its fan-out are stored together or not at all. A PrivateMessage
    /// changes nothing: `extra` is written alone, for a shared observer
    /// conditionally and counted like a change, so that it is ordered with
    /// the group's commits. A commit is refused with [`Error::Misuse`],
    /// writing nothing: stage it with [`Self::process`] and write its
    /// records with [`Self::merge_with`]. On [`Error::Conflict`] (another
    /// server changed the group first) nothing is written and the observer
    /// has reloaded: the message may be processed again.
    ///
    /// Unlike [`Self::process`], it does not catch up first: `extra` was
    /// computed from what the caller read since it last caught up
    /// ([`Self::catch_up`]), and is written only if no other server changed
    /// the group since (else [`Error::Conflict`]: recompute and retry).
    pub fn process_with(&mut self, message: &[u8], extra: WriteBatch) -> Result<Observed> {
        self.check_extra(&extra)?;
        let now = self.clock.now();
        let (observed, change) = self.state.check(message, now)?;
        if matches!(observed, Observed::Commit(_)) {
            return Err(Error::Misuse(
                "process_with takes proposals and PrivateMessages: stage a commit with \
                 process and write its records with merge_with"
                    .into(),
            ));
        }
        match change {
            Some(change) => self.commit(change, extra)?,
            None => self.write_extra(extra)?,
        }
        Ok(observed)
    }

    /// Refuses records outside the application's prefix, and records
    /// without a storage to write them to.
    fn check_extra(&self, extra: &WriteBatch) -> Result<()> {
        if extra.is_empty() {
            return Ok(());
        }
        if self.store.is_none() {
            return Err(Error::Misuse(
                "the application's records need ObserverOptions::storage".into(),
            ));
        }
        let keys = extra
            .ops
            .iter()
            .map(|(k, _)| k)
            .chain(&extra.delete_prefixes);
        for key in keys {
            if !key.starts_with(APP_KEY_PREFIX) {
                return Err(Error::Misuse(format!(
                    "the application's record {:?} is outside its prefix \"a/\"",
                    String::from_utf8_lossy(key)
                )));
            }
        }
        Ok(())
    }

    /// Writes the application's records alone (see [`Self::process_with`]).
    fn write_extra(&mut self, extra: WriteBatch) -> Result<()> {
        if let Some(store) = &mut self.store
            && let Err(e) = store.write_extra(extra)
        {
            if matches!(e, Error::Conflict(_)) {
                self.reload()?;
            }
            return Err(e);
        }
        Ok(())
    }

    /// Checks a GroupInfo (MLSMessage) a member uploaded for the current
    /// epoch and keeps it for joiners ([`Self::group_info`]).
    pub fn accept_group_info(&mut self, group_info: &[u8]) -> Result<()> {
        let change = self.state.check_group_info_upload(group_info)?;
        self.commit(change, WriteBatch::default())
    }

    /// Writes a change the checks computed, then applies it: a failed
    /// write leaves the storage as it was, and the observer too, except
    /// after [`Error::Conflict`] (another server changed the stored state
    /// first): then it has reloaded that state. `extra`: the application's
    /// records, in the same batch.
    fn commit(&mut self, change: Change, extra: WriteBatch) -> Result<()> {
        if let Some(store) = &mut self.store
            && let Err(e) = store.write(&self.state, &change, extra)
        {
            if matches!(e, Error::Conflict(_)) {
                self.reload()?;
            }
            return Err(e);
        }
        self.state.apply(change);
        Ok(())
    }

    /// For a shared observer ([`ObserverOptions::shared`]): reloads the
    /// state from storage if another server changed it since this observer
    /// last read or wrote it (one read of its change counter), and says
    /// whether it did. A server calls it before deciding on a commit
    /// ([`Self::commit_order`]); [`Self::process`] calls it first. An
    /// observer that is not shared is its group's only writer: `false`.
    pub fn catch_up(&mut self) -> Result<bool> {
        match &self.store {
            Some(store) if store.behind()? => {
                self.reload()?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Replaces the state with the one stored.
    fn reload(&mut self) -> Result<()> {
        let group_id = self.group_id().to_vec();
        let reloaded = Self::load(&group_id, self.options.clone())?.ok_or_else(|| {
            Error::Storage(
                "the observer's records were deleted by another writer of the storage".into(),
            )
        })?;
        *self = reloaded;
        Ok(())
    }

    /// The latest verified GroupInfo of the current epoch, if a member
    /// uploaded one since the last commit.
    pub fn group_info(&self) -> Option<&[u8]> {
        self.state.group_info()
    }

    /// The current ratchet tree, encoded, for joiners whose Welcome or
    /// GroupInfo does not carry it.
    pub fn ratchet_tree(&self) -> Result<Vec<u8>> {
        self.state.tree().to_bytes()
    }
}
