//! [`AsyncPartialGroup`]: a [`PartialGroup`] of an [`AsyncClient`], and the
//! client's partial operations (join from an AnnotatedWelcome, load,
//! upgrade, downgrade) on an [`AsyncStorage`](crate::storage::AsyncStorage).
//!
//! The guarantees are [`AsyncGroup`]'s: each operation runs the
//! synchronous partial client against the client's in-memory mirror of the
//! store, and returns once every batch it wrote is durable in the store.
//! So no plaintext, message or event leaves before the record that
//! consumed its key, cached its proposal or moved the epoch is stored.

use crate::Result;
use crate::api::async_client::{AsyncClient, AsyncGroup, Link};
use crate::api::partial_group::{PartialCommitEvent, PartialGroup, PartialMessage};
use crate::group::state::GroupConfig;
use crate::types::math::LeafIndex;

/// A [`PartialGroup`] whose state lives in its [`AsyncClient`]'s store:
/// each operation returns once its state change is durable. Failures and
/// cancellation as for [`AsyncClient`].
pub struct AsyncPartialGroup {
    group: PartialGroup,
    link: Link,
}

impl std::fmt::Debug for AsyncPartialGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncPartialGroup")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl AsyncClient {
    /// Wraps a partial group of this client (one [`Self::run`] returned) so
    /// that its operations are persisted in the store.
    pub fn adopt_partial(&self, group: PartialGroup) -> AsyncPartialGroup {
        AsyncPartialGroup {
            group,
            link: self.link.clone(),
        }
    }

    /// Joins a group as a partial client from an encoded AnnotatedWelcome
    /// (as [`Client::join_partial`](crate::Client::join_partial)): the
    /// group's record and the key package's deletion are durable before
    /// the group is returned.
    pub async fn join_partial(&mut self, annotated_welcome: &[u8]) -> Result<AsyncPartialGroup> {
        let group = self.run(|c| c.join_partial(annotated_welcome)).await?;
        Ok(self.adopt_partial(group))
    }

    /// Loads a stored partial group (as
    /// [`Client::load_partial_group`](crate::Client::load_partial_group);
    /// from memory: the store was read at open).
    pub async fn load_partial_group(&mut self, group_id: &[u8]) -> Result<AsyncPartialGroup> {
        let group = self.run(|c| c.load_partial_group(group_id)).await?;
        Ok(self.adopt_partial(group))
    }

    /// Upgrades a partial group to a full one with the ratchet tree of its
    /// epoch (as [`Client::upgrade_partial`](crate::Client::upgrade_partial)):
    /// the full group's records replace the partial one in the store before
    /// it is returned. On an error `partial` is unchanged, unless the write
    /// failed ([`Error::StorageUncertain`](crate::Error::StorageUncertain):
    /// reopen the client).
    pub async fn upgrade_partial(
        &mut self,
        partial: &mut AsyncPartialGroup,
        ratchet_tree: &[u8],
    ) -> Result<AsyncGroup> {
        let group = &mut partial.group;
        let full = self.run(|c| c.upgrade_partial(group, ratchet_tree)).await?;
        Ok(self.adopt(full))
    }

    /// [`Self::upgrade_partial`] with the application's [`GroupConfig`] (as
    /// [`Client::upgrade_partial_with`](crate::Client::upgrade_partial_with)).
    pub async fn upgrade_partial_with(
        &mut self,
        partial: &mut AsyncPartialGroup,
        ratchet_tree: &[u8],
        config: GroupConfig,
    ) -> Result<AsyncGroup> {
        let group = &mut partial.group;
        let full = self
            .run(|c| c.upgrade_partial_with(group, ratchet_tree, config))
            .await?;
        Ok(self.adopt(full))
    }

    /// Downgrades a full group to a partial one (as
    /// [`Client::downgrade`](crate::Client::downgrade)): the partial record
    /// replaces the full group's records in the store before it is
    /// returned.
    pub async fn downgrade(&mut self, group: AsyncGroup) -> Result<AsyncPartialGroup> {
        let full = group.group;
        let partial = self.run(|c| c.downgrade(full)).await?;
        Ok(self.adopt_partial(partial))
    }
}

impl AsyncPartialGroup {
    /// The synchronous partial group, for what only reads it (epoch, own
    /// leaf, epoch authenticator, exporter). Its state-changing methods
    /// are reached through [`Self::run`].
    pub fn group(&self) -> &PartialGroup {
        &self.group
    }

    /// Runs `op` on the partial group and returns its result once every
    /// batch it wrote is durable: the way to any [`PartialGroup`] method
    /// this type has no shortcut for. `op` must not send anything it
    /// produces.
    pub async fn run<T>(&mut self, op: impl FnOnce(&mut PartialGroup) -> Result<T>) -> Result<T> {
        let group = &mut self.group;
        self.link.run(|| op(group)).await
    }

    /// Processes an encoded AnnotatedCommit (as
    /// [`PartialGroup::process_annotated_commit`]): the next epoch (or the
    /// record's deletion, when the commit removes this client) is durable
    /// before the event is returned.
    pub async fn process_annotated_commit(
        &mut self,
        annotated: &[u8],
    ) -> Result<PartialCommitEvent> {
        self.run(|g| g.process_annotated_commit(annotated)).await
    }

    /// Opens a sender-authenticated application message (as
    /// [`PartialGroup::process_message`]): its key's deletion is durable
    /// before the plaintext is returned.
    pub async fn process_message(&mut self, message: &[u8]) -> Result<(LeafIndex, Vec<u8>)> {
        self.run(|g| g.process_message(message)).await
    }

    /// Opens a sender-authenticated message, application data or a
    /// proposal (as [`PartialGroup::process`]).
    pub async fn process(&mut self, message: &[u8]) -> Result<PartialMessage> {
        self.run(|g| g.process(message)).await
    }

    /// Reads a proposal from one of the group's external senders (as
    /// [`PartialGroup::process_external`]): cached and durable before the
    /// result is returned.
    pub async fn process_external(&mut self, message: &[u8]) -> Result<PartialMessage> {
        self.run(|g| g.process_external(message)).await
    }

    /// Encrypts application data (as [`PartialGroup::encrypt`]): the
    /// ratchet step is durable before the ciphertext is returned.
    pub async fn encrypt(
        &mut self,
        plaintext: &[u8],
        authenticated_data: &[u8],
    ) -> Result<Vec<u8>> {
        self.run(|g| g.encrypt(plaintext, authenticated_data)).await
    }

    /// Proposes to leave (as [`PartialGroup::leave`]): the cached proposal
    /// is durable before the message is returned.
    pub async fn leave(&mut self) -> Result<Vec<u8>> {
        self.run(PartialGroup::leave).await
    }
}
