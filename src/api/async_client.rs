//! [`AsyncClient`] and [`AsyncGroup`]: a [`Client`] and its [`Group`]s
//! persisted in an [`AsyncStorage`] (IndexedDB, a database reached on
//! tokio) without blocking.
//!
//! At open the client reads every record of the store into memory. Each
//! operation then runs the synchronous engine against that mirror, which
//! queues every batch the operation writes; before the operation's result
//! is returned, the queued batches are written to the store, one at a time
//! and in order, and awaited. So nothing (a message, a Welcome, an event)
//! leaves the library before the state change that produced it is durable,
//! as with a [`Storage`](crate::storage::Storage).
//!
//! See `docs/persistence.md` ("Asynchronous storage") for failures and
//! cancellation.

use std::sync::Arc;

use crate::Result;
use crate::api::client::{Client, ClientBuilder, GroupOptions, KeyPackageOptions};
use crate::api::group::{CommitOutput, Event, Group};
use crate::group::commit_stage::StagedCommit;
use crate::storage::write_queue::{MirrorStorage, WriteQueue};
use crate::storage::{AsyncStorage, shared};
use crate::types::math::LeafIndex;

/// The store and the queue of batches on their way to it, shared by a
/// client and its groups.
#[derive(Clone)]
pub(super) struct Link {
    store: Arc<dyn AsyncStorage>,
    queue: WriteQueue,
}

impl Link {
    /// Runs `op` (a synchronous engine operation on the mirror), then
    /// awaits every queued batch on the store before returning its result.
    ///
    /// Refuses at once once a write failed. If `op` fails, the batches it
    /// may have queued are written all the same (the engine leaves a
    /// consistent state on error), and its error is returned.
    pub(super) async fn run<T>(&self, op: impl FnOnce() -> Result<T>) -> Result<T> {
        self.queue.check()?;
        // Batches of an operation whose future was dropped come first.
        self.queue.settle(&*self.store).await?;
        let out = op();
        self.queue.settle(&*self.store).await?;
        out
    }
}

/// A [`Client`] whose state lives in an [`AsyncStorage`].
///
/// Every operation that changes state is an `async fn` returning once the
/// change is durable in the store. The client and its [`AsyncGroup`]s may
/// run operations concurrently (e.g. two groups joined on one task): their
/// batches reach the store in the order the engine made them.
///
/// If a write to the store fails, the operation returns
/// [`Error::StorageUncertain`](crate::Error::StorageUncertain) (action
/// [`Action::Reopen`](crate::Action::Reopen)) and releases no output, and
/// the client and its groups refuse every later operation the same way:
/// the memory may be ahead of the store. Open the client again from the
/// store.
///
/// If an operation's future is dropped before it returns (cancelled), its
/// output is lost, as if the process had stopped at that instant; the
/// state change stays in memory and its batches stay queued: the next
/// operation (or [`Self::flush`]) writes them first. If the process stops
/// before that, the store holds the state before the operation, whose
/// output never left.
pub struct AsyncClient {
    pub(super) client: Client,
    pub(super) link: Link,
}

impl std::fmt::Debug for AsyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncClient")
            .field("client", &self.client)
            .field("queued_batches", &self.link.queue.pending())
            .finish_non_exhaustive()
    }
}

impl AsyncClient {
    /// Opens the client `builder` describes in `store`: the one already
    /// stored there, or a new one (as [`ClientBuilder::build`] with
    /// [`ClientBuilder::storage`], whose storage this replaces).
    pub async fn open(store: Arc<dyn AsyncStorage>, builder: ClientBuilder) -> Result<Self> {
        Self::open_with(store, move |storage| Ok(builder.storage(storage))).await
    }

    /// Opens the client stored in `store`, whatever its identity, as
    /// [`Client::restore`]; `configure` sets the rest of the builder (clock,
    /// randomness, validator). Fails with [`Error::Misuse`](crate::Error::Misuse) if the store
    /// holds no client.
    pub async fn restore(
        store: Arc<dyn AsyncStorage>,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> Result<Self> {
        Self::open_with(store, move |storage| {
            Ok(configure(Client::restore(storage)))
        })
        .await
    }

    async fn open_with(
        store: Arc<dyn AsyncStorage>,
        builder: impl FnOnce(crate::storage::SharedStorage) -> Result<ClientBuilder>,
    ) -> Result<Self> {
        let records = store.scan(b"").await?;
        let queue = WriteQueue::default();
        let mirror = shared(MirrorStorage::new(records, queue.clone())?);
        let link = Link { store, queue };
        let client = link.run(|| builder(mirror)?.build()).await?;
        Ok(Self { client, link })
    }

    /// The synchronous client, for what only reads it (credential, key
    /// package refs). Its state-changing methods are reached through
    /// [`Self::run`].
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs `op` on the client and returns its result once every batch it
    /// wrote is durable in the store: the way to any [`Client`] method
    /// this type has no shortcut for.
    ///
    /// `op` must not send anything it produces: only what this returns is
    /// durable. A [`Group`] it returns must be wrapped with
    /// [`Self::adopt`] and used only through the wrapper.
    pub async fn run<T>(&mut self, op: impl FnOnce(&mut Client) -> Result<T>) -> Result<T> {
        let client = &mut self.client;
        self.link.run(|| op(client)).await
    }

    /// Wraps a group of this client (one [`Self::run`] returned) so that
    /// its operations are persisted in the store.
    pub fn adopt(&self, group: Group) -> AsyncGroup {
        AsyncGroup {
            group,
            link: self.link.clone(),
        }
    }

    /// Writes to the store the batches of operations whose futures were
    /// dropped before they returned (nothing if there are none).
    pub async fn flush(&self) -> Result<()> {
        self.link.run(|| Ok(())).await
    }

    /// A new key package (MLSMessage), stored before it is returned.
    pub async fn key_package(&mut self, options: KeyPackageOptions) -> Result<Vec<u8>> {
        self.run(|c| c.key_package(options)).await
    }

    /// Creates a group (as [`Client::create_group`]).
    pub async fn create_group(&mut self, options: GroupOptions) -> Result<AsyncGroup> {
        let group = self.run(|c| c.create_group(options)).await?;
        Ok(self.adopt(group))
    }

    /// Joins a group from a Welcome (as [`Client::join`]).
    pub async fn join(
        &mut self,
        welcome: &[u8],
        ratchet_tree: Option<&[u8]>,
    ) -> Result<AsyncGroup> {
        let group = self.run(|c| c.join(welcome, ratchet_tree)).await?;
        Ok(self.adopt(group))
    }

    /// Joins by external commit (as [`Client::join_by_external_commit`]):
    /// the group and the commit to send.
    pub async fn join_by_external_commit(
        &mut self,
        group_info: &[u8],
        ratchet_tree: Option<&[u8]>,
        remove_old_leaf: Option<LeafIndex>,
    ) -> Result<(AsyncGroup, Vec<u8>)> {
        let (group, commit) = self
            .run(|c| c.join_by_external_commit(group_info, ratchet_tree, remove_old_leaf))
            .await?;
        Ok((self.adopt(group), commit))
    }

    /// The ids of the groups stored for this client.
    pub fn groups(&self) -> Result<Vec<Vec<u8>>> {
        self.client.groups()
    }

    /// Loads a stored group (from memory: the store was read at open).
    pub async fn load_group(&mut self, group_id: &[u8]) -> Result<AsyncGroup> {
        let group = self.run(|c| c.load_group(group_id)).await?;
        Ok(self.adopt(group))
    }

    /// Deletes a stored group (as [`Client::delete_group`]).
    pub async fn delete_group(&mut self, group_id: &[u8]) -> Result<bool> {
        self.run(|c| c.delete_group(group_id)).await
    }
}

/// A [`Group`] of an [`AsyncClient`]: each operation returns once its state
/// change is durable in the client's store. Failures and cancellation as
/// for [`AsyncClient`].
pub struct AsyncGroup {
    pub(super) group: Group,
    pub(super) link: Link,
}

impl std::fmt::Debug for AsyncGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncGroup")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl AsyncGroup {
    /// The synchronous group, for what only reads it (epoch, members,
    /// epoch authenticator, exporter). Its state-changing methods are
    /// reached through [`Self::run`].
    pub fn group(&self) -> &Group {
        &self.group
    }

    /// Runs `op` on the group and returns its result once every batch it
    /// wrote is durable: the way to any [`Group`] method this type has no
    /// shortcut for. `op` must not send anything it produces.
    pub async fn run<T>(&mut self, op: impl FnOnce(&mut Group) -> Result<T>) -> Result<T> {
        let group = &mut self.group;
        self.link.run(|| op(group)).await
    }

    /// Encrypts an application message (as [`Group::encrypt`]); the
    /// ratchet step is durable before the ciphertext is returned.
    pub async fn encrypt(
        &mut self,
        plaintext: &[u8],
        authenticated_data: &[u8],
    ) -> Result<Vec<u8>> {
        self.run(|g| g.encrypt(plaintext, authenticated_data)).await
    }

    /// Processes a message (as [`Group::process`]).
    pub async fn process(&mut self, message: &[u8]) -> Result<Event> {
        self.run(|g| g.process(message)).await
    }

    /// Merges a staged commit (as [`Group::merge`]).
    pub async fn merge(&mut self, staged: StagedCommit) -> Result<()> {
        self.run(|g| g.merge(staged)).await
    }

    /// Merges our pending commit (as [`Group::merge_pending`]).
    pub async fn merge_pending(&mut self) -> Result<Event> {
        self.run(Group::merge_pending).await
    }

    /// Drops our pending commit (as [`Group::discard_pending`]).
    pub async fn discard_pending(&mut self) -> Result<bool> {
        self.run(|g| Ok(g.discard_pending())).await
    }

    /// Adds members from their key packages (as [`Group::add`]).
    pub async fn add(&mut self, key_packages: &[&[u8]]) -> Result<CommitOutput> {
        self.run(|g| g.add(key_packages)).await
    }

    /// Removes the member at `leaf` (as [`Group::remove`]).
    pub async fn remove(&mut self, leaf: LeafIndex) -> Result<CommitOutput> {
        self.run(|g| g.remove(leaf)).await
    }

    /// Refreshes our own keys (as [`Group::update`]).
    pub async fn update(&mut self) -> Result<CommitOutput> {
        self.run(Group::update).await
    }

    /// Commits the cached proposals (as [`Group::commit`]).
    pub async fn commit(&mut self) -> Result<CommitOutput> {
        self.run(Group::commit).await
    }

    /// Proposes to leave (as [`Group::leave`]).
    pub async fn leave(&mut self) -> Result<Vec<u8>> {
        self.run(Group::leave).await
    }

    /// Deletes the group from the store (as [`Group::delete`]).
    pub async fn delete(self) -> Result<()> {
        let Self { group, link } = self;
        link.run(|| group.delete()).await
    }
}
