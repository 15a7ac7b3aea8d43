//! [`MlsClient`]: an identity, its key packages, and the groups it creates,
//! joins and loads.

use std::sync::{Arc, Mutex};

use arbor_mls::{Client, Credential, GroupOptions, KeyPackageOptions};

use crate::error::{MlsError, lock};
use crate::group::MlsGroup;
use crate::storage::{self, EncryptionKey, StorageCallback};

/// One client ([`arbor_mls::Client`]): a basic credential, the cipher suite
/// MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, and its state in the
/// application's storage. Time and randomness are the operating system's.
#[derive(uniffi::Object)]
pub struct MlsClient {
    inner: Mutex<Client>,
}

/// What joining by external commit returns.
#[derive(uniffi::Record)]
pub struct ExternalJoin {
    /// The group, already in the epoch the commit starts.
    pub group: Arc<MlsGroup>,
    /// The commit, for the delivery service.
    pub commit: Vec<u8>,
}

#[uniffi::export]
impl MlsClient {
    /// A client with a basic credential holding `identity`, stored through
    /// `storage`, sealed under `encryption_key` if given. If the storage
    /// already holds a client, that client is restored; its identity must
    /// be `identity` (error `ApiMisuse` otherwise). A wrong encryption key
    /// fails with `ApiMisuse`, action `FixCall`, "wrong storage key".
    #[uniffi::constructor]
    pub fn new(
        identity: Vec<u8>,
        storage: Box<dyn StorageCallback>,
        encryption_key: Option<EncryptionKey>,
    ) -> Result<Arc<Self>, MlsError> {
        let shared = storage::open(storage, encryption_key)?;
        let client = Client::builder(identity).storage(shared).build()?;
        Ok(Self::wrap(client))
    }

    /// The client stored in `storage`, whatever its identity (error
    /// `ApiMisuse` if it holds none).
    #[uniffi::constructor]
    pub fn restore(
        storage: Box<dyn StorageCallback>,
        encryption_key: Option<EncryptionKey>,
    ) -> Result<Arc<Self>, MlsError> {
        let shared = storage::open(storage, encryption_key)?;
        let client = Client::restore(shared).build()?;
        Ok(Self::wrap(client))
    }

    /// A client whose state is kept in memory (tests), lost when dropped.
    #[uniffi::constructor]
    pub fn in_memory(identity: Vec<u8>) -> Result<Arc<Self>, MlsError> {
        Ok(Self::wrap(Client::in_memory(identity)?))
    }

    /// The identity of the client's basic credential (empty for another
    /// credential type).
    pub fn identity(&self) -> Result<Vec<u8>, MlsError> {
        Ok(identity_of(lock(&self.inner)?.credential()))
    }

    /// A fresh key package (an MLSMessage) to publish; its private keys are
    /// stored until a Welcome uses it.
    pub fn key_package(&self) -> Result<Vec<u8>, MlsError> {
        Ok(lock(&self.inner)?.key_package(KeyPackageOptions::default())?)
    }

    /// How many unused key packages the client holds.
    pub fn key_package_count(&self) -> Result<u64, MlsError> {
        Ok(lock(&self.inner)?.key_package_count() as u64)
    }

    /// A new group with this client as its only member, under `group_id`
    /// (random when null).
    pub fn create_group(&self, group_id: Option<Vec<u8>>) -> Result<Arc<MlsGroup>, MlsError> {
        let mut options = GroupOptions::default();
        if let Some(id) = group_id {
            options = options.group_id(id);
        }
        let group = lock(&self.inner)?.create_group(options)?;
        Ok(MlsGroup::wrap(group))
    }

    /// Joins from a Welcome (an MLSMessage); `ratchet_tree` when the
    /// Welcome does not carry the tree.
    pub fn join(
        &self,
        welcome: Vec<u8>,
        ratchet_tree: Option<Vec<u8>>,
    ) -> Result<Arc<MlsGroup>, MlsError> {
        let group = lock(&self.inner)?.join(&welcome, ratchet_tree.as_deref())?;
        Ok(MlsGroup::wrap(group))
    }

    /// Joins by external commit from a GroupInfo (an MLSMessage). The group
    /// is pending until the delivery service echoes the commit back
    /// (processed as `OwnCommitMerged`).
    pub fn join_by_external_commit(
        &self,
        group_info: Vec<u8>,
        ratchet_tree: Option<Vec<u8>>,
    ) -> Result<ExternalJoin, MlsError> {
        let (group, commit) = lock(&self.inner)?.join_by_external_commit(
            &group_info,
            ratchet_tree.as_deref(),
            None,
        )?;
        Ok(ExternalJoin {
            group: MlsGroup::wrap(group),
            commit,
        })
    }

    /// The ids of the groups stored for this client.
    pub fn groups(&self) -> Result<Vec<Vec<u8>>, MlsError> {
        Ok(lock(&self.inner)?.groups()?)
    }

    /// The stored group `group_id`, as it was last stored. Load each group
    /// once: two objects for one group would overwrite each other's state.
    pub fn load_group(&self, group_id: Vec<u8>) -> Result<Arc<MlsGroup>, MlsError> {
        let group = lock(&self.inner)?.load_group(&group_id)?;
        Ok(MlsGroup::wrap(group))
    }

    /// Deletes the stored group `group_id`; whether it existed.
    pub fn delete_group(&self, group_id: Vec<u8>) -> Result<bool, MlsError> {
        Ok(lock(&self.inner)?.delete_group(&group_id)?)
    }
}

impl MlsClient {
    fn wrap(client: Client) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(client),
        })
    }
}

/// The identity bytes of a basic credential.
pub(crate) fn identity_of(credential: &Credential) -> Vec<u8> {
    match credential {
        Credential::Basic { identity } => identity.clone(),
        _ => Vec::new(),
    }
}
