//! [`Client`]: an identity with its keys, key packages, clock and
//! randomness. Creates and joins [`Group`]s.

use std::collections::HashMap;
use std::sync::Arc;

use crate::api::authentication::{AcceptBasic, CredentialValidator};
use crate::api::clock::{Clock, SystemClock};
use crate::api::group::Group;
use crate::codec::encode;
use crate::crypto::component::ComponentId;
use crate::crypto::credential::Credential;
use crate::crypto::rust_crypto::RustCryptoProvider;
use crate::crypto::{
    CipherSuite, OsRandom, RandomSource, Secret, SeededRandom, SignaturePrivateKey,
    SignaturePublicKey, Suite,
};
use crate::framing::{MlsMessage, MlsMessageBody};
use crate::group::app_data_rules::{AppComponents, advertise_components};
use crate::group::authorization::Authority;
use crate::group::join::JoinInputs;
use crate::group::psk_store::{PskUse, SharedPsks};
use crate::group::state::GroupConfig;
use crate::group::state::GroupState;
use crate::messages::key_package::{KeyPackageData, KeyPackageParams, KeyPackagePrivate};
use crate::persist::client_store;
use crate::persist::group_store::GroupStore;
use crate::schedule::PreSharedKeyId;
use crate::storage::{SharedStorage, WriteBatch};
use crate::tree::leaf_node::{Capabilities, Lifetime};
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::extensions::Extension;
use crate::{Error, Result, decode_exact};

pub use super::options::{ExternalJoinOptions, GroupOptions, KeyPackageOptions};
pub use builder::ClientBuilder;
pub use multi_credential::BoundCredential;

#[path = "client_multi_credential.rs"]
mod multi_credential;

#[path = "client_builder.rs"]
mod builder;

/// A tree the application passes along with a Welcome or GroupInfo,
/// size-checked before it is built.
fn given_tree(bytes: &[u8], max_leaves: u32) -> Result<RatchetTree> {
    let wire: crate::tree::nodes::RatchetTreeWire = decode_exact("ratchet tree", bytes)?;
    crate::group::join::tree_from_wire(wire, max_leaves)
}

pub(super) struct StoredKeyPackage {
    pub(super) key_package: KeyPackageData,
    pub(super) private: KeyPackagePrivate,
    pub(super) last_resort: bool,
}

/// A GREASE extension for KeyPackage or GroupInfo extensions (RFC 9420
/// §13.5: "a randomly sized amount of random data"; here 0 to 15 bytes).
pub(super) fn grease_extension(rng: &mut dyn RandomSource) -> Result<Extension> {
    use crate::types::grease::{MLS_GREASE, pick};
    let extension_type = crate::types::ExtensionType(pick(&MLS_GREASE, rng)?);
    let mut len = [0u8; 1];
    rng.fill(&mut len)?;
    let mut extension_data = vec![0u8; usize::from(len[0] % 16)];
    rng.fill(&mut extension_data)?;
    Ok(Extension {
        extension_type,
        extension_data,
    })
}

/// A credential as a person reads it in an error message: a basic
/// identity as text (lossily), other types by type and size.
pub(super) fn describe_credential(credential: &Credential) -> String {
    match credential {
        Credential::Basic { identity } => {
            format!("\"{}\"", String::from_utf8_lossy(identity).escape_debug())
        }
        other => format!(
            "with a credential of type {:?} ({} bytes)",
            other.credential_type(),
            crate::codec::encode(other).map_or(0, |b| b.len())
        ),
    }
}

/// A member identity: credential, signature key, key packages, and the
/// injected clock and randomness.
pub struct Client {
    pub(super) suite: Suite,
    credential: Credential,
    pub(super) signer: SignaturePrivateKey,
    public: SignaturePublicKey,
    pub(super) clock: Arc<dyn Clock>,
    rng: Box<dyn RandomSource>,
    validator: Arc<dyn CredentialValidator>,
    app_components: Option<Arc<dyn AppComponents>>,
    pub(super) key_packages: HashMap<Vec<u8>, StoredKeyPackage>,
    pub(crate) psks: SharedPsks,
    capabilities: Capabilities,
    leaf_extensions: Vec<Extension>,
    max_key_package_lifetime: u64,
    pub(super) storage: Option<SharedStorage>,
    /// Whether our key packages carry GREASE extensions (`ClientBuilder::grease`).
    grease: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("credential", &self.credential)
            .field("suite", &self.suite.id())
            .field("key_packages", &self.key_packages.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The key package a Welcome is for, and its reference: §12.4.3.1,
    /// the Welcome names our key package by reference. A Welcome naming
    /// none we hold is [`Error::NotForUs`].
    pub(super) fn key_package_for(
        &self,
        welcome: &crate::messages::welcome::Welcome,
    ) -> Result<(Vec<u8>, &StoredKeyPackage)> {
        let not_for_us = || {
            Error::NotForUs(crate::types::error::NotForUs::Welcome {
                key_package_refs: welcome
                    .secrets
                    .iter()
                    .map(|s| s.new_member.clone())
                    .collect(),
            })
        };
        welcome
            .secrets
            .iter()
            .find_map(|s| {
                self.key_packages
                    .get_key_value(&s.new_member)
                    .map(|(r, stored)| (r.clone(), stored))
            })
            .ok_or_else(not_for_us)
    }

    /// A builder for a client with a basic credential holding `identity`.
    /// For one of a user's several devices, use
    /// [`Client::builder_for_device`].
    pub fn builder(identity: impl Into<Vec<u8>>) -> ClientBuilder {
        ClientBuilder {
            identity: identity.into(),
            restore_only: false,
            suite: CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
            provider: Arc::new(RustCryptoProvider),
            clock: Arc::new(SystemClock),
            rng: Box::new(OsRandom),
            validator: Arc::new(AcceptBasic),
            signature_key: None,
            credential: None,
            capabilities: None,
            leaf_extensions: Vec::new(),
            max_key_package_lifetime:
                crate::tree::leaf_validation::LifetimePolicy::DEFAULT_MAX_LIFETIME,
            storage: None,
            app_components: None,
            content_media_types: None,
            grease: false,
            multi: None,
        }
    }

    /// A builder for the client stored in `storage`, whatever its identity
    /// (building fails with [`Error::Misuse`] if the storage holds none).
    /// Clock, randomness, validator and provider are set on the builder as
    /// for a new client.
    pub fn restore(storage: SharedStorage) -> ClientBuilder {
        let mut builder = Self::builder(Vec::new()).storage(storage);
        builder.restore_only = true;
        builder
    }

    /// A client persisted in the SQLite database at `path` (created if
    /// needed) with the durable default
    /// ([`Durability::Durable`](crate::storage::Durability::Durable)). A
    /// database that already holds a client restores it, and `identity`
    /// must be that client's ([`Error::Misuse`] otherwise). The client holds the database exclusively
    /// while it lives: opening it again meanwhile (here or in another
    /// process) fails at once: with [`Error::Misuse`] in this process (a
    /// `Group` keeps the storage open too, so drop every `Group` of the
    /// client first), with [`Error::Storage`] from another process. Beside
    /// the database (and its `-wal`) lives its log file `<path>-log`: copy,
    /// move or delete them together.
    /// See [`ClientBuilder::storage`] for other options.
    #[cfg(feature = "sqlite")]
    pub fn open(path: impl AsRef<std::path::Path>, identity: impl Into<Vec<u8>>) -> Result<Self> {
        let storage =
            crate::storage::SqliteStorage::open(path, crate::storage::Durability::Durable)?;
        Self::builder(identity)
            .storage(crate::storage::shared(storage))
            .build()
    }

    /// A client whose state is kept in a [`MemoryStorage`](crate::storage::MemoryStorage)
    /// (written as a persisted client's would be, lost when dropped).
    pub fn in_memory(identity: impl Into<Vec<u8>>) -> Result<Self> {
        Self::builder(identity)
            .storage(crate::storage::shared(crate::storage::MemoryStorage::new()))
            .build()
    }

    /// Removes from the storage's files the values that later writes
    /// overwrote or deleted, such as keys consumed by decrypting, for
    /// forward secrecy on disk ([`Storage::compact`](crate::storage::Storage::compact)).
    /// With [`Client::open`], the SQLite log of batches is folded into the
    /// database and erased now, instead of within its next 32 batches: a
    /// few fsyncs, for when the app is idle. Does nothing without storage.
    pub fn compact_storage(&self) -> Result<()> {
        match &self.storage {
            Some(storage) => crate::storage::with(storage, |s| s.compact()),
            None => Ok(()),
        }
    }

    /// The ids of the groups stored for this client (none without storage).
    pub fn groups(&self) -> Result<Vec<Vec<u8>>> {
        match &self.storage {
            Some(storage) => client_store::group_ids(storage),
            None => Ok(Vec::new()),
        }
    }

    /// Loads a stored group, as it was after its last persisted transition.
    pub fn load_group(&mut self, group_id: &[u8]) -> Result<Group> {
        let storage = self.storage.clone().ok_or_else(|| {
            Error::Misuse("this client has no storage: build it with ClientBuilder::storage".into())
        })?;
        let loaded =
            crate::persist::group_store::load(&storage, group_id, &self.suite, self.authority())?
                .ok_or_else(|| super::partial_transitions::not_stored(&storage, group_id, false))?;
        let rng = self.group_rng()?;
        let store = GroupStore::for_loaded(storage, group_id, &loaded);
        let mut group = Group::from_loaded(
            loaded,
            self.signer.clone(),
            self.clock.clone(),
            rng,
            self.psks.clone(),
            store,
        );
        if self.grease {
            group.group_info_grease = Some(grease_extension(&mut *group.rng)?);
        }
        Ok(group)
    }

    /// Persists a new group (and `extra`) when this client has storage.
    pub(super) fn persist_group(&self, group: &mut Group, extra: WriteBatch) -> Result<()> {
        match &self.storage {
            Some(storage) => {
                let store = GroupStore::new(storage.clone(), group.group_id());
                group.attach_store(store, extra)
            }
            None => Ok(()),
        }
    }

    /// The client's credential.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The client's signature public key.
    pub fn signature_key(&self) -> &SignaturePublicKey {
        &self.public
    }

    /// The cipher suite of the client's keys, key packages and new groups.
    pub fn suite_id(&self) -> CipherSuite {
        self.suite.id()
    }

    /// Registers an external PSK, provisioned out of band (§8.4). Every
    /// group of this client sees it at once, including groups created or
    /// joined before: they share the client's PSK store. A persisted
    /// client stores it first (it is a secret: zeroized when removed), so
    /// it is known again after a restart.
    pub fn add_external_psk(&mut self, psk_id: Vec<u8>, psk: Secret) -> Result<()> {
        if let Some(storage) = &self.storage {
            client_store::save_external_psk(storage, &psk_id, &psk)?;
        }
        self.psks.write().external.insert(psk_id, psk);
        Ok(())
    }

    /// Forgets an external PSK, in storage too; returns whether it was
    /// known. Commits that name it can no longer be created or processed
    /// by this client's groups.
    pub fn remove_external_psk(&mut self, psk_id: &[u8]) -> Result<bool> {
        if let Some(storage) = &self.storage {
            client_store::delete_external_psk(storage, psk_id)?;
        }
        Ok(self.psks.write().external.remove(psk_id).is_some())
    }

    /// Registers the PSK `psk_id` of application component `component_id`
    /// (draft-ietf-mls-extensions, PSKType `application`), provisioned by
    /// that component out of band. It is found only as that component's
    /// PSK: never as an external PSK, nor as another component's, with
    /// the same id. A component is known to this client's groups while it
    /// has at least one PSK here; a PSK of an unknown component is refused.
    /// Shared by every group of the client and persisted like
    /// [`Self::add_external_psk`].
    pub fn add_application_psk(
        &mut self,
        component_id: ComponentId,
        psk_id: Vec<u8>,
        psk: Secret,
    ) -> Result<()> {
        if let Some(storage) = &self.storage {
            client_store::save_application_psk(storage, component_id, &psk_id, &psk)?;
        }
        self.psks
            .write()
            .application
            .insert((component_id, psk_id), psk);
        Ok(())
    }

    /// Forgets an application component's PSK, in storage too; returns
    /// whether it was known.
    pub fn remove_application_psk(
        &mut self,
        component_id: ComponentId,
        psk_id: &[u8],
    ) -> Result<bool> {
        if let Some(storage) = &self.storage {
            client_store::delete_application_psk(storage, component_id, psk_id)?;
        }
        Ok(self
            .psks
            .write()
            .application
            .remove(&(component_id, psk_id.to_vec()))
            .is_some())
    }

    /// Deletes a stored group and all its records (one atomic write);
    /// returns whether it was stored. Use it for a group that is not
    /// loaded; a loaded one is deleted with [`Group::delete`]. A `Group`
    /// still open for `group_id` must not be used afterwards: its next
    /// write would store records of a group no longer listed.
    pub fn delete_group(&mut self, group_id: &[u8]) -> Result<bool> {
        match &self.storage {
            Some(storage) => client_store::delete_group(storage, group_id),
            None => Ok(false),
        }
    }

    /// The references (§5.2) of the key packages whose private keys we
    /// hold, i.e. that a Welcome can still be opened with.
    pub fn key_package_refs(&self) -> Vec<Vec<u8>> {
        let mut refs: Vec<Vec<u8>> = self.key_packages.keys().cloned().collect();
        refs.sort();
        refs
    }

    /// How many key packages we hold private keys for: how many Welcomes
    /// we can still be added by before publishing more.
    pub fn key_package_count(&self) -> usize {
        self.key_packages.len()
    }

    /// Deletes a key package's private keys (e.g. one the directory no
    /// longer serves, or one expired). A Welcome for it can no longer be
    /// opened. Returns whether it was held. With storage, the stored
    /// private keys are deleted first (an error leaves both in place).
    pub fn delete_key_package(&mut self, key_package_ref: &[u8]) -> Result<bool> {
        if let Some(storage) = &self.storage {
            client_store::delete_key_package(storage, key_package_ref)?;
        }
        Ok(self.key_packages.remove(key_package_ref).is_some())
    }

    /// A new key package, as an MLSMessage to publish. The client keeps its
    /// private keys until a Welcome uses it (unless it is last resort).
    pub fn key_package(&mut self, options: KeyPackageOptions) -> Result<Vec<u8>> {
        let mut extensions = options.extensions;
        let mut leaf_extensions = options.leaf_extensions;
        let mut capabilities = None;
        if options.last_resort {
            use crate::crypto::component::component_ids::{
                APP_COMPONENTS, LAST_RESORT_KEY_PACKAGE, SAFE_AAD,
            };
            use crate::types::app_data::put_component;
            // draft-ietf-mls-extensions, Last-Resort KeyPackages: the mark
            // is the `last_resort_key_package` component, empty, in the key
            // package's `app_data_dictionary`.
            put_component(&mut extensions, LAST_RESORT_KEY_PACKAGE, Vec::new(), true)?;
            // The leaf advertises app_data_dictionary, and so "MUST ...
            // advertise the app_components component": the components this
            // library understands, in a leaf app_data_dictionary.
            if leaf_extensions.is_empty() {
                leaf_extensions = self.leaf_extensions.clone();
            }
            advertise_components(
                &mut leaf_extensions,
                &[APP_COMPONENTS, SAFE_AAD, LAST_RESORT_KEY_PACKAGE],
            )?;
            let mut caps = self.capabilities.clone();
            if !caps
                .extensions
                .contains(&crate::types::ExtensionType::APP_DATA_DICTIONARY)
            {
                caps.extensions
                    .push(crate::types::ExtensionType::APP_DATA_DICTIONARY);
            }
            capabilities = Some(caps);
        }
        if self.grease {
            self.grease_key_package_extensions(&mut extensions)?;
        }
        let (kp, private) =
            self.fresh_key_package(options.lifetime, leaf_extensions, extensions, capabilities)?;
        let kp_ref = crate::group::welcome_open::key_package_ref(&self.suite, &kp)?;
        let bytes = encode(&MlsMessage::new(MlsMessageBody::KeyPackage(Box::new(
            kp.clone(),
        ))))?;
        if let Some(storage) = &self.storage {
            client_store::save_key_package(storage, &kp_ref, &kp, &private, options.last_resort)?;
        }
        self.key_packages.insert(
            kp_ref,
            StoredKeyPackage {
                key_package: kp,
                private,
                last_resort: options.last_resort,
            },
        );
        Ok(bytes)
    }

    /// RFC 9420 §13.5: a GREASE extension in `KeyPackage.extensions`, its
    /// data "a randomly sized amount of random data" (0 to 15 bytes);
    /// draft-ietf-mls-extensions "GREASE": a GREASE entry in the key
    /// package's `app_data_dictionary` when it carries one.
    fn grease_key_package_extensions(&mut self, extensions: &mut Vec<Extension>) -> Result<()> {
        use crate::types::grease::{COMPONENT_GREASE, pick};
        let rng = &mut *self.rng;
        let grease = grease_extension(rng)?;
        if !extensions
            .iter()
            .any(|e| e.extension_type == grease.extension_type)
        {
            extensions.push(grease);
        }
        if extensions
            .iter()
            .any(|e| e.extension_type == crate::types::ExtensionType::APP_DATA_DICTIONARY)
        {
            crate::types::app_data::put_component(
                extensions,
                pick(&COMPONENT_GREASE, rng)?,
                Vec::new(),
                false,
            )?;
        }
        Ok(())
    }

    pub(crate) fn group_rng(&mut self) -> Result<Box<dyn RandomSource>> {
        Ok(Box::new(SeededRandom::split(&mut *self.rng)?))
    }

    /// A key package of this client valid from a minute ago (clock skew)
    /// for `lifetime` seconds, with its private keys.
    fn fresh_key_package(
        &mut self,
        lifetime: u64,
        leaf_extensions: Vec<Extension>,
        extensions: Vec<Extension>,
        capabilities: Option<Capabilities>,
    ) -> Result<(KeyPackageData, KeyPackagePrivate)> {
        let now = self.clock.now();
        // The window opens a minute early for clock skew; that minute counts
        // toward the total that peers check against their maximum.
        let total = lifetime.saturating_add(60);
        if total > self.max_key_package_lifetime {
            return Err(Error::Misuse(format!(
                "a key package valid for {lifetime} s (+60 s of clock skew) exceeds the client's \
                 maximum key-package lifetime of {} s (RFC 9420 §7.2); peers would reject it. \
                 Ask for a shorter lifetime or raise ClientBuilder::max_key_package_lifetime",
                self.max_key_package_lifetime
            )));
        }
        let leaf_extensions = if leaf_extensions.is_empty() {
            self.leaf_extensions.clone()
        } else {
            leaf_extensions
        };
        KeyPackageData::create(
            &self.suite,
            &self.signer,
            &self.public,
            KeyPackageParams {
                credential: self.credential.clone(),
                lifetime: Lifetime {
                    not_before: now.saturating_sub(60),
                    not_after: now.saturating_add(lifetime),
                },
                capabilities: capabilities.unwrap_or_else(|| self.capabilities.clone()),
                leaf_extensions,
                extensions,
            },
            &mut *self.rng,
        )
    }

    /// The GREASE extension a new group's GroupInfos carry when this
    /// client greases (RFC 9420 §13.5), drawn from the group's `rng`.
    /// Callers draw it before they build anything they would have to undo,
    /// so that a failing random source leaves the client unchanged.
    pub(super) fn group_info_grease(
        &self,
        rng: &mut dyn RandomSource,
    ) -> Result<Option<Extension>> {
        if self.grease {
            grease_extension(rng).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Wraps a group state this client joined or created, with the GREASE
    /// extension from [`Self::group_info_grease`]. The engine validated
    /// every member of a joined tree (§5.3.1) with [`Self::authority`].
    pub(super) fn adopt(
        &self,
        state: GroupState,
        rng: Box<dyn RandomSource>,
        grease: Option<Extension>,
    ) -> Group {
        let mut group = Group::new(
            state,
            self.signer.clone(),
            self.clock.clone(),
            rng,
            self.psks.clone(),
        );
        group.group_info_grease = grease;
        group
    }

    /// The application's validator, as the engine holds it.
    pub(super) fn authority(&self) -> Authority {
        Authority::new(self.validator.clone()).with_app_components(self.app_components.clone())
    }

    /// Creates a group with this client as its only member (§11).
    pub fn create_group(&mut self, options: GroupOptions) -> Result<Group> {
        let (kp, private) = self.fresh_key_package(
            KeyPackageOptions::default().lifetime,
            Vec::new(),
            Vec::new(),
            None,
        )?;
        let group_id = match options.group_id {
            Some(id) => id,
            None => {
                let mut id = Secret::zero(self.suite.hash_len());
                id.fill_random(&mut *self.rng)?;
                id.as_bytes().to_vec()
            }
        };
        let mut rng = self.group_rng()?;
        let grease = self.group_info_grease(&mut *rng)?;
        let state = GroupState::create(
            &self.suite,
            options.config,
            group_id,
            options.extensions,
            kp.leaf_node,
            private.encryption_key,
            &mut *rng,
        )?
        .with_authority(self.authority());
        let mut group = self.adopt(state, rng, grease);
        self.persist_group(&mut group, WriteBatch::default())?;
        Ok(group)
    }

    /// Joins a group from a Welcome (an MLSMessage); `ratchet_tree` is the
    /// encoded tree when the Welcome does not carry it.
    pub fn join(&mut self, welcome: &[u8], ratchet_tree: Option<&[u8]>) -> Result<Group> {
        self.join_with(welcome, ratchet_tree, GroupConfig::default())
    }

    /// Joins by external commit (§12.4.3.2) from a GroupInfo (an
    /// MLSMessage, with `external_pub`), optionally removing our own old
    /// leaf (resync after losing state; [`Client::rejoin_device`] finds the
    /// leaf by device). Returns the group, already in the epoch the commit
    /// starts, and the commit to send. The group is stored at once, marked
    /// [`Group::external_join_pending`] until the delivery service's echo
    /// of the commit is processed (or [`Group::confirm_external_join`]); if
    /// the service refuses the commit, [`Group::abandon_external_join`]
    /// deletes it.
    pub fn join_by_external_commit(
        &mut self,
        group_info: &[u8],
        ratchet_tree: Option<&[u8]>,
        remove_old_leaf: Option<crate::types::math::LeafIndex>,
    ) -> Result<(Group, Vec<u8>)> {
        self.join_by_external_commit_with(
            group_info,
            ExternalJoinOptions {
                ratchet_tree: ratchet_tree.map(<[u8]>::to_vec),
                remove_old_leaf,
                ..ExternalJoinOptions::default()
            },
        )
    }

    /// [`Self::join_by_external_commit`] with every option: external PSKs
    /// to inject, authenticated data, and the group's configuration.
    pub fn join_by_external_commit_with(
        &mut self,
        group_info: &[u8],
        options: ExternalJoinOptions,
    ) -> Result<(Group, Vec<u8>)> {
        crate::trace::span!("mls.external_join", group_info_bytes = group_info.len());
        let message: MlsMessage = decode_exact("MLSMessage", group_info)?;
        let MlsMessageBody::GroupInfo(info) = message.body else {
            return Err(Error::Misuse("expected a GroupInfo message".into()));
        };
        let config = options.config;
        let tree = options
            .ratchet_tree
            .as_deref()
            .map(|bytes| given_tree(bytes, config.max_leaves))
            .transpose()?;
        let mut rng = self.group_rng()?;
        let mut psks = Vec::with_capacity(options.external_psks.len());
        for psk_id in options.external_psks {
            let mut nonce = Secret::zero(self.suite.hash_len());
            nonce.fill_random(&mut *rng)?;
            psks.push(PreSharedKeyId {
                psk: crate::schedule::Psk::External { psk_id },
                psk_nonce: nonce.as_bytes().to_vec(),
            });
        }
        let (state, commit) = GroupState::external_join(
            &self.suite,
            crate::group::external::ExternalJoin {
                group_info: &info,
                ratchet_tree: tree,
                leaf: crate::tree::treekem::LeafContent {
                    signature_key: self.public.clone(),
                    credential: self.credential.clone(),
                    capabilities: self.capabilities.clone(),
                    extensions: self.leaf_extensions.clone(),
                },
                signer: &self.signer,
                remove: options.remove_old_leaf,
                now: self.clock.now(),
                config,
                authority: self.authority(),
                psks,
                psk_store: &self.psks,
                // The joiner's commit is held to the group's Safe AAD
                // rule like any member's message.
                authenticated_data: crate::group::safe_aad_rules::frame_outgoing(
                    None,
                    &info.group_context.extensions,
                    &options.authenticated_data,
                )?,
                self_removes: options.self_removes,
            },
            &mut *rng,
        )?;
        let grease = self.group_info_grease(&mut *rng)?;
        let mut group = self.adopt(state, rng, grease);
        // Validated by the engine (import_tree) before it built the state.
        group.joined_app_data =
            crate::group::app_data_rules::group_info_dictionary(&info.extensions)?;
        // Stored with the group, so the echo is recognised after a restart.
        group.joined_with = Some(commit.clone());
        self.persist_group(&mut group, WriteBatch::default())?;
        Ok((group, commit))
    }

    /// [`Self::join`] with a group policy.
    pub fn join_with(
        &mut self,
        welcome: &[u8],
        ratchet_tree: Option<&[u8]>,
        config: GroupConfig,
    ) -> Result<Group> {
        self.join_inner(
            welcome,
            ratchet_tree,
            config,
            PskUse::Normal,
            &|_, _| Ok(()),
        )
    }

    /// Joins from a Welcome. `check` sees the group and the PSKs the Welcome
    /// named and may refuse them (reinit and branch rules); the key package
    /// is consumed only once every check passed.
    pub(crate) fn join_inner(
        &mut self,
        welcome: &[u8],
        ratchet_tree: Option<&[u8]>,
        config: GroupConfig,
        psk_use: PskUse,
        check: &dyn Fn(&Group, &[PreSharedKeyId]) -> Result<()>,
    ) -> Result<Group> {
        crate::trace::span!("mls.join", welcome_bytes = welcome.len());
        let message: MlsMessage = decode_exact("MLSMessage", welcome)?;
        let MlsMessageBody::Welcome(welcome) = message.body else {
            return Err(Error::Misuse("expected a Welcome message".into()));
        };
        let tree = ratchet_tree
            .map(|bytes| given_tree(bytes, config.max_leaves))
            .transpose()?;
        let (kp_ref, stored) = self.key_package_for(&welcome)?;
        let (state, extras) = GroupState::join_with_extras(
            &self.suite,
            JoinInputs {
                welcome: &welcome,
                key_package: &stored.key_package,
                private: &stored.private,
                ratchet_tree: tree,
                psks: &self.psks,
                now: self.clock.now(),
                config,
                psk_use,
            },
            self.authority(),
        )?;
        let last_resort = stored.last_resort;
        let mut rng = self.group_rng()?;
        let grease = self.group_info_grease(&mut *rng)?;
        let mut group = self.adopt(state, rng, grease);
        group.joined_app_data = extras.group_info_app_data;
        check(&group, &extras.psks)?;
        // The group and the key package's deletion are one write: after a
        // crash either the Welcome can be opened again or the group exists.
        let mut extra = WriteBatch::default();
        if !last_resort {
            extra.delete(crate::persist::records::key_package_key(&kp_ref));
        }
        self.persist_group(&mut group, extra)?;
        if !last_resort {
            // §16.8: a key package is used once; delete its private keys.
            self.key_packages.remove(&kp_ref);
        }
        Ok(group)
    }
}
