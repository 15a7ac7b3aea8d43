//! [`MlsRsEndpoint`]: mls-rs 0.57 (crates.io, RustCrypto provider) answering
//! the `MLSClient` RPCs the scenario runner uses. RPCs not written here
//! answer `Unimplemented` (the trait's default), naming mls-rs. External
//! senders, new-member proposals and branches are in [`external`], ReInit
//! in [`reinit`].

mod external;
mod reinit;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mls_rs::client_builder::PaddingMode;
use mls_rs::crypto::SignatureSecretKey;
use mls_rs::group::{GroupContext, ReceivedMessage, Roster};
use mls_rs::identity::SigningIdentity;
use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
use mls_rs::mls_rules::{
    CommitDirection, CommitOptions, CommitSource, EncryptionOptions, ProposalBundle,
};
use mls_rs::psk::{ExternalPskId, PreSharedKey};
use mls_rs::storage_provider::in_memory::{InMemoryKeyPackageStorage, InMemoryPreSharedKeyStorage};
use mls_rs::{
    CipherSuite, CipherSuiteProvider, CryptoProvider, ExtensionList, MlsMessage, MlsRules,
};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;
use tonic::Status;

use crate::grpc::Endpoint;
use crate::grpc::proto::*;

type RpcResult<T> = Result<T, Status>;

fn err(context: &str, e: impl std::fmt::Debug) -> Status {
    Status::invalid_argument(format!("mls-rs: {context}: {e:?}"))
}

/// Options of one client's next commit and its handshakes, changed per RPC
/// (force_path, external_tree) through a shared handle.
#[derive(Debug, Clone, Copy)]
struct Options {
    path_required: bool,
    tree_in_welcome: bool,
    encrypt: bool,
}

/// mls-rs rules reading [`Options`]: every proposal passes (mls-rs still
/// applies RFC 9420's own rules), commits and encryption as set.
#[derive(Debug, Clone)]
struct Rules(Arc<Mutex<Options>>);

impl Rules {
    fn get(&self) -> Options {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, f: impl FnOnce(&mut Options)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

impl MlsRules for Rules {
    type Error = std::convert::Infallible;

    fn filter_proposals(
        &self,
        _: CommitDirection,
        _: CommitSource,
        _: &Roster,
        _: &GroupContext,
        proposals: ProposalBundle,
    ) -> Result<ProposalBundle, Self::Error> {
        Ok(proposals)
    }

    fn commit_options(
        &self,
        _: &Roster,
        _: &GroupContext,
        _: &ProposalBundle,
    ) -> Result<CommitOptions, Self::Error> {
        let o = self.get();
        Ok(CommitOptions::new()
            .with_path_required(o.path_required)
            .with_ratchet_tree_extension(o.tree_in_welcome)
            .with_allow_external_commit(true))
    }

    fn encryption_options(
        &self,
        _: &Roster,
        _: &GroupContext,
    ) -> Result<EncryptionOptions, Self::Error> {
        Ok(EncryptionOptions::new(
            self.get().encrypt,
            PaddingMode::None,
        ))
    }
}

/// A client's signature key and signing identity.
#[derive(Clone)]
struct Key {
    secret: SignatureSecretKey,
    identity: SigningIdentity,
    suite: CipherSuite,
}

fn suite_of(suite: u32) -> RpcResult<CipherSuite> {
    Ok(CipherSuite::from(u16::try_from(suite).map_err(|_| {
        Status::invalid_argument("suite is not a uint16")
    })?))
}

/// A fresh signature key of `identity` in `suite`.
fn new_key(identity: &[u8], suite: CipherSuite) -> RpcResult<Key> {
    let provider = RustCryptoProvider::new()
        .cipher_suite_provider(suite)
        .ok_or_else(|| {
            Status::unimplemented(format!("mls-rs: cipher suite {suite:?} is not supported"))
        })?;
    let (secret, public) = provider
        .signature_key_generate()
        .map_err(|e| err("signature key", e))?;
    Ok(Key {
        secret,
        identity: SigningIdentity::new(
            BasicCredential::new(identity.to_vec()).into_credential(),
            public,
        ),
        suite,
    })
}

/// A client signing with `key`, with its own PSK store (returned as a
/// handle: StorePSK writes into it) and the endpoint's key package store.
fn new_client(
    key: &Key,
    rules: Rules,
    key_packages: &InMemoryKeyPackageStorage,
) -> (RsClient, InMemoryPreSharedKeyStorage) {
    let psks = InMemoryPreSharedKeyStorage::default();
    let client = mls_rs::Client::builder()
        .crypto_provider(RustCryptoProvider::new())
        .identity_provider(BasicIdentityProvider::new())
        .psk_store(psks.clone())
        .key_package_repo(key_packages.clone())
        .signing_identity(key.identity.clone(), key.secret.clone(), key.suite)
        .mls_rules(rules)
        .build();
    (client, psks)
}

type RsConfig = mls_rs::client_builder::WithMlsRules<
    Rules,
    mls_rs::client_builder::WithKeyPackageRepo<
        InMemoryKeyPackageStorage,
        mls_rs::client_builder::WithPskStore<
            InMemoryPreSharedKeyStorage,
            mls_rs::client_builder::WithIdentityProvider<
                BasicIdentityProvider,
                mls_rs::client_builder::WithCryptoProvider<
                    RustCryptoProvider,
                    mls_rs::client_builder::BaseConfig,
                >,
            >,
        >,
    >,
>;
type RsClient = mls_rs::Client<RsConfig>;
type RsGroup = mls_rs::Group<RsConfig>;

struct Member {
    group: RsGroup,
    rules: Rules,
    psks: InMemoryPreSharedKeyStorage,
    key: Key,
    /// The cipher suite of a ReInit proposal seen this epoch: a new suite
    /// needs a signature key of its own for the new group.
    reinit_suite: Option<CipherSuite>,
}

/// A member whose group was closed by a ReInit, holding mls-rs's client
/// for the new group.
struct Reinit {
    client: mls_rs::group::ReinitClient<RsConfig>,
    rules: Rules,
    psks: InMemoryPreSharedKeyStorage,
    key: Key,
}

struct Waiting {
    client: RsClient,
    rules: Rules,
    psks: InMemoryPreSharedKeyStorage,
    key: Key,
}

/// mls-rs behind the `MLSClient` RPCs.
#[derive(Default)]
pub struct MlsRsEndpoint {
    next_id: u32,
    members: HashMap<u32, Member>,
    transactions: HashMap<u32, Waiting>,
    reinits: HashMap<u32, Reinit>,
    signers: HashMap<u32, Key>,
    /// Key package stores by identity, shared by that identity's clients so
    /// a member's group finds the key package made for a branch
    /// (`Group::join_subgroup` looks in the group's own store). One store
    /// per identity: a client joining from a Welcome takes the first
    /// secrets whose key package is in its store.
    key_packages: HashMap<Vec<u8>, InMemoryKeyPackageStorage>,
}

impl MlsRsEndpoint {
    /// An endpoint with no state.
    pub fn new() -> Self {
        Self::default()
    }

    fn key_packages(&mut self, identity: &[u8]) -> InMemoryKeyPackageStorage {
        self.key_packages
            .entry(identity.to_vec())
            .or_default()
            .clone()
    }

    fn fresh_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    fn member(&mut self, id: u32) -> RpcResult<&mut Member> {
        self.members
            .get_mut(&id)
            .ok_or_else(|| Status::not_found(format!("mls-rs: no group state {id}")))
    }

    fn add_member(
        &mut self,
        group: RsGroup,
        rules: Rules,
        psks: InMemoryPreSharedKeyStorage,
        key: Key,
    ) -> u32 {
        let id = self.fresh_id();
        self.members.insert(
            id,
            Member {
                group,
                rules,
                psks,
                key,
                reinit_suite: None,
            },
        );
        id
    }
}

fn rules(encrypt: bool) -> Rules {
    Rules(Arc::new(Mutex::new(Options {
        path_required: false,
        tree_in_welcome: true,
        encrypt,
    })))
}

fn message(bytes: &[u8]) -> RpcResult<MlsMessage> {
    MlsMessage::from_bytes(bytes).map_err(|e| err("decode MLSMessage", e))
}

fn bytes(m: &MlsMessage) -> RpcResult<Vec<u8>> {
    m.to_bytes().map_err(|e| err("encode MLSMessage", e))
}

fn auth(group: &RsGroup) -> RpcResult<Vec<u8>> {
    Ok(group
        .epoch_authenticator()
        .map_err(|e| err("epoch authenticator", e))?
        .as_bytes()
        .to_vec())
}

/// The leaf of the member whose basic identity is `identity`.
fn leaf_of(group: &RsGroup, identity: &[u8]) -> RpcResult<u32> {
    group
        .roster()
        .members()
        .into_iter()
        .find(|m| {
            m.signing_identity
                .credential
                .as_basic()
                .is_some_and(|b| b.identifier() == identity)
        })
        .map(|m| m.index)
        .ok_or_else(|| Status::invalid_argument("mls-rs: no member with that identity"))
}

fn extension_list(list: &[crate::grpc::proto::Extension]) -> RpcResult<ExtensionList> {
    let mut out = Vec::with_capacity(list.len());
    for e in list {
        let t = u16::try_from(e.extension_type)
            .map_err(|_| Status::invalid_argument("extension type is not a uint16"))?;
        out.push(mls_rs::Extension::new(
            mls_rs::extension::ExtensionType::new(t),
            e.extension_data.clone(),
        ));
    }
    Ok(ExtensionList::from(out))
}

/// Processes proposals; returns the cipher suite of a ReInit among them.
fn take_proposals(group: &mut RsGroup, proposals: &[Vec<u8>]) -> RpcResult<Option<CipherSuite>> {
    let mut reinit_suite = None;
    for (i, p) in proposals.iter().enumerate() {
        match group
            .process_incoming_message(message(p)?)
            .map_err(|e| err(&format!("by-reference proposal {i}"), e))?
        {
            ReceivedMessage::Proposal(m) => {
                if let mls_rs::group::proposal::Proposal::ReInit(r) = &m.proposal {
                    reinit_suite = Some(r.new_cipher_suite());
                }
            }
            other => {
                return Err(Status::invalid_argument(format!(
                    "mls-rs: by-reference message {i} is not a proposal: {other:?}"
                )));
            }
        }
    }
    Ok(reinit_suite)
}

impl Endpoint for MlsRsEndpoint {
    fn stack_name(&self) -> String {
        "mls-rs".into()
    }

    fn name(&mut self, _: NameRequest) -> RpcResult<NameResponse> {
        Ok(NameResponse {
            name: "mls-rs 0.57 (in-process)".into(),
        })
    }

    fn supported_ciphersuites(
        &mut self,
        _: SupportedCiphersuitesRequest,
    ) -> RpcResult<SupportedCiphersuitesResponse> {
        Ok(SupportedCiphersuitesResponse {
            ciphersuites: RustCryptoProvider::new()
                .supported_cipher_suites()
                .into_iter()
                .map(|s| u32::from(u16::from(s)))
                .collect(),
        })
    }

    fn create_group(&mut self, r: CreateGroupRequest) -> RpcResult<CreateGroupResponse> {
        let rules = rules(r.encrypt_handshake);
        let key = new_key(&r.identity, suite_of(r.cipher_suite)?)?;
        let (client, psks) = new_client(&key, rules.clone(), &self.key_packages(&r.identity));
        let group = client
            .create_group_with_id(r.group_id, ExtensionList::new(), ExtensionList::new(), None)
            .map_err(|e| err("create group", e))?;
        Ok(CreateGroupResponse {
            state_id: self.add_member(group, rules, psks, key),
        })
    }

    fn create_key_package(
        &mut self,
        r: CreateKeyPackageRequest,
    ) -> RpcResult<CreateKeyPackageResponse> {
        let rules = rules(false);
        let suite = suite_of(r.cipher_suite)?;
        // A member of the same identity and suite lends its key: its key
        // package may be for a branch, whose joiner keeps signing with the
        // key of its leaf in the parent group (mls-rs's join_subgroup signs
        // with the parent group's key).
        let key = match self.members.values().find(|m| {
            m.key.suite == suite
                && m.key.identity.credential.as_basic().map(|b| b.identifier())
                    == Some(r.identity.as_slice())
        }) {
            Some(m) => m.key.clone(),
            None => new_key(&r.identity, suite)?,
        };
        let (client, psks) = new_client(&key, rules.clone(), &self.key_packages(&r.identity));
        let kp = client
            .generate_key_package_message(ExtensionList::new(), ExtensionList::new(), None)
            .map_err(|e| err("key package", e))?;
        let transaction_id = self.fresh_id();
        self.transactions.insert(
            transaction_id,
            Waiting {
                client,
                rules,
                psks,
                key,
            },
        );
        Ok(CreateKeyPackageResponse {
            transaction_id,
            key_package: bytes(&kp)?,
            ..Default::default()
        })
    }

    fn join_group(&mut self, r: JoinGroupRequest) -> RpcResult<JoinGroupResponse> {
        let waiting = self.transactions.remove(&r.transaction_id).ok_or_else(|| {
            Status::not_found(format!("mls-rs: no transaction {}", r.transaction_id))
        })?;
        waiting.rules.set(|o| o.encrypt = r.encrypt_handshake);
        let tree = if r.ratchet_tree.is_empty() {
            None
        } else {
            Some(
                mls_rs::group::ExportedTree::from_bytes(&r.ratchet_tree)
                    .map_err(|e| err("ratchet tree", e))?,
            )
        };
        let (group, _) = waiting
            .client
            .join_group(tree, &message(&r.welcome)?, None)
            .map_err(|e| err("join", e))?;
        let epoch_authenticator = auth(&group)?;
        Ok(JoinGroupResponse {
            state_id: self.add_member(group, waiting.rules, waiting.psks, waiting.key),
            epoch_authenticator,
        })
    }

    fn external_join(&mut self, r: ExternalJoinRequest) -> RpcResult<ExternalJoinResponse> {
        let info = message(&r.group_info)?;
        let suite = info
            .cipher_suite()
            .ok_or_else(|| Status::invalid_argument("mls-rs: GroupInfo without a suite"))?;
        let rules = rules(r.encrypt_handshake);
        let key = new_key(&r.identity, suite)?;
        let (client, mut psks) = new_client(&key, rules.clone(), &self.key_packages(&r.identity));
        let mut builder = client
            .external_commit_builder()
            .map_err(|e| err("external commit", e))?;
        for psk in &r.psks {
            let id = ExternalPskId::new(psk.psk_id.clone());
            psks.insert(id.clone(), PreSharedKey::new(psk.psk_secret.clone()));
            builder = builder.with_external_psk(id);
        }
        if !r.ratchet_tree.is_empty() {
            builder = builder.with_tree_data(
                mls_rs::group::ExportedTree::from_bytes(&r.ratchet_tree)
                    .map_err(|e| err("ratchet tree", e))?
                    .into_owned(),
            );
        }
        if r.remove_prior {
            builder = builder.with_removal(crate::grpc::arbor::prior_leaf(
                &r.group_info,
                &r.ratchet_tree,
                &r.identity,
            )?);
        }
        let (group, commit) = builder.build(info).map_err(|e| err("external commit", e))?;
        let epoch_authenticator = auth(&group)?;
        Ok(ExternalJoinResponse {
            state_id: self.add_member(group, rules, psks, key),
            commit: bytes(&commit)?,
            epoch_authenticator,
        })
    }

    fn group_info(&mut self, r: GroupInfoRequest) -> RpcResult<GroupInfoResponse> {
        let group = &self.member(r.state_id)?.group;
        let info = group
            .group_info_message_allowing_ext_commit(!r.external_tree)
            .map_err(|e| err("group info", e))?;
        Ok(GroupInfoResponse {
            group_info: bytes(&info)?,
            ratchet_tree: if r.external_tree {
                group
                    .export_tree()
                    .to_bytes()
                    .map_err(|e| err("ratchet tree", e))?
            } else {
                Vec::new()
            },
        })
    }

    fn state_auth(&mut self, r: StateAuthRequest) -> RpcResult<StateAuthResponse> {
        Ok(StateAuthResponse {
            state_auth_secret: auth(&self.member(r.state_id)?.group)?,
        })
    }

    fn export(&mut self, r: ExportRequest) -> RpcResult<ExportResponse> {
        let len = usize::try_from(r.key_length)
            .map_err(|_| Status::invalid_argument("key_length too large"))?;
        let secret = self
            .member(r.state_id)?
            .group
            .export_secret(r.label.as_bytes(), &r.context, len)
            .map_err(|e| err("export", e))?;
        Ok(ExportResponse {
            exported_secret: secret.as_bytes().to_vec(),
        })
    }

    fn protect(&mut self, r: ProtectRequest) -> RpcResult<ProtectResponse> {
        let m = self
            .member(r.state_id)?
            .group
            .encrypt_application_message(&r.plaintext, r.authenticated_data)
            .map_err(|e| err("protect", e))?;
        Ok(ProtectResponse {
            ciphertext: bytes(&m)?,
        })
    }

    fn unprotect(&mut self, r: UnprotectRequest) -> RpcResult<UnprotectResponse> {
        let m = message(&r.ciphertext)?;
        match self
            .member(r.state_id)?
            .group
            .process_incoming_message(m)
            .map_err(|e| err("unprotect", e))?
        {
            ReceivedMessage::ApplicationMessage(m) => Ok(UnprotectResponse {
                authenticated_data: m.authenticated_data.clone(),
                plaintext: m.data().to_vec(),
            }),
            other => Err(Status::invalid_argument(format!(
                "mls-rs: expected application data, got {other:?}"
            ))),
        }
    }

    fn add_proposal(&mut self, r: AddProposalRequest) -> RpcResult<ProposalResponse> {
        let kp = message(&r.key_package)?;
        let p = self
            .member(r.state_id)?
            .group
            .propose_add(kp, Vec::new())
            .map_err(|e| err("add proposal", e))?;
        Ok(ProposalResponse {
            proposal: bytes(&p)?,
        })
    }

    fn update_proposal(&mut self, r: UpdateProposalRequest) -> RpcResult<ProposalResponse> {
        let p = self
            .member(r.state_id)?
            .group
            .propose_update(Vec::new())
            .map_err(|e| err("update proposal", e))?;
        Ok(ProposalResponse {
            proposal: bytes(&p)?,
        })
    }

    fn remove_proposal(&mut self, r: RemoveProposalRequest) -> RpcResult<ProposalResponse> {
        let group = &mut self.member(r.state_id)?.group;
        let leaf = leaf_of(group, &r.removed_id)?;
        let p = group
            .propose_remove(leaf, Vec::new())
            .map_err(|e| err("remove proposal", e))?;
        Ok(ProposalResponse {
            proposal: bytes(&p)?,
        })
    }

    fn group_context_extensions_proposal(
        &mut self,
        r: GroupContextExtensionsProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let list = extension_list(&r.extensions)?;
        let p = self
            .member(r.state_id)?
            .group
            .propose_group_context_extensions(list, Vec::new())
            .map_err(|e| err("group context extensions proposal", e))?;
        Ok(ProposalResponse {
            proposal: bytes(&p)?,
        })
    }

    fn store_psk(&mut self, r: StorePskRequest) -> RpcResult<StorePskResponse> {
        let id = r.state_or_transaction_id;
        let store = if let Some(m) = self.members.get_mut(&id) {
            &mut m.psks
        } else if let Some(w) = self.transactions.get_mut(&id) {
            &mut w.psks
        } else {
            return Err(Status::not_found(format!(
                "mls-rs: no state or transaction {id}"
            )));
        };
        store.insert(
            ExternalPskId::new(r.psk_id),
            PreSharedKey::new(r.psk_secret),
        );
        Ok(StorePskResponse {})
    }

    fn external_psk_proposal(
        &mut self,
        r: ExternalPskProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let p = self
            .member(r.state_id)?
            .group
            .propose_external_psk(ExternalPskId::new(r.psk_id), Vec::new())
            .map_err(|e| err("external PSK proposal", e))?;
        Ok(ProposalResponse {
            proposal: bytes(&p)?,
        })
    }

    fn resumption_psk_proposal(
        &mut self,
        r: ResumptionPskProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let p = self
            .member(r.state_id)?
            .group
            .propose_resumption_psk(r.epoch_id, Vec::new())
            .map_err(|e| err("resumption PSK proposal", e))?;
        Ok(ProposalResponse {
            proposal: bytes(&p)?,
        })
    }

    fn commit(&mut self, r: CommitRequest) -> RpcResult<CommitResponse> {
        let member = self.member(r.state_id)?;
        if let Some(suite) = take_proposals(&mut member.group, &r.by_reference)? {
            member.reinit_suite = Some(suite);
        }
        let mut removed = Vec::new();
        for d in r.by_value.iter().filter(|d| d.proposal_type == b"remove") {
            removed.push(leaf_of(&member.group, &d.removed_id)?);
        }
        let mut removed = removed.into_iter();
        let mut builder = member.group.commit_builder();
        for d in &r.by_value {
            builder = match d.proposal_type.as_slice() {
                b"add" => builder
                    .add_member(message(&d.key_package)?)
                    .map_err(|e| err("by-value add", e))?,
                b"remove" => builder
                    .remove_member(removed.next().unwrap_or_default())
                    .map_err(|e| err("by-value remove", e))?,
                b"groupContextExtensions" => builder
                    .set_group_context_ext(extension_list(&d.extensions)?)
                    .map_err(|e| err("by-value group context extensions", e))?,
                b"externalPSK" => builder
                    .add_external_psk(ExternalPskId::new(d.psk_id.clone()))
                    .map_err(|e| err("by-value external PSK", e))?,
                b"resumptionPSK" => builder
                    .add_resumption_psk(d.epoch_id)
                    .map_err(|e| err("by-value resumption PSK", e))?,
                other => {
                    return Err(Status::unimplemented(format!(
                        "mls-rs adapter: by-value {:?} proposals are not wired up",
                        String::from_utf8_lossy(other)
                    )));
                }
            };
        }
        member.rules.set(|o| {
            o.path_required = r.force_path;
            o.tree_in_welcome = !r.external_tree;
        });
        let out = builder.build();
        member.rules.set(|o| {
            o.path_required = false;
            o.tree_in_welcome = true;
        });
        let out = out.map_err(|e| err("commit", e))?;
        let welcome = match out.welcome_messages.first() {
            Some(w) => bytes(w)?,
            None => Vec::new(),
        };
        let ratchet_tree = match (&out.ratchet_tree, r.external_tree) {
            (Some(t), true) => t.to_bytes().map_err(|e| err("ratchet tree", e))?,
            _ => Vec::new(),
        };
        Ok(CommitResponse {
            commit: bytes(&out.commit_message)?,
            welcome,
            ratchet_tree,
        })
    }

    fn handle_commit(&mut self, r: HandleCommitRequest) -> RpcResult<HandleCommitResponse> {
        let member = self.member(r.state_id)?;
        if let Some(suite) = take_proposals(&mut member.group, &r.proposal)? {
            member.reinit_suite = Some(suite);
        }
        let group = &mut member.group;
        match group
            .process_incoming_message(message(&r.commit)?)
            .map_err(|e| err("commit", e))?
        {
            ReceivedMessage::Commit(_) => {}
            other => {
                return Err(Status::invalid_argument(format!(
                    "mls-rs: expected a commit, got {other:?}"
                )));
            }
        }
        Ok(HandleCommitResponse {
            state_id: r.state_id,
            epoch_authenticator: auth(group)?,
        })
    }

    fn handle_pending_commit(
        &mut self,
        r: HandlePendingCommitRequest,
    ) -> RpcResult<HandleCommitResponse> {
        let group = &mut self.member(r.state_id)?.group;
        group
            .apply_pending_commit()
            .map_err(|e| err("apply pending commit", e))?;
        Ok(HandleCommitResponse {
            state_id: r.state_id,
            epoch_authenticator: auth(group)?,
        })
    }

    fn re_init_proposal(&mut self, r: ReInitProposalRequest) -> RpcResult<ProposalResponse> {
        let list = extension_list(&r.extensions)?;
        let suite = CipherSuite::from(
            u16::try_from(r.cipher_suite)
                .map_err(|_| Status::invalid_argument("suite is not a uint16"))?,
        );
        let member = self.member(r.state_id)?;
        member.reinit_suite = Some(suite);
        let p = member
            .group
            .propose_reinit(
                Some(r.group_id),
                mls_rs::ProtocolVersion::MLS_10,
                suite,
                list,
                Vec::new(),
            )
            .map_err(|e| err("reinit proposal", e))?;
        Ok(ProposalResponse {
            proposal: bytes(&p)?,
        })
    }

    fn re_init_commit(&mut self, r: CommitRequest) -> RpcResult<CommitResponse> {
        self.commit(r)
    }

    fn handle_pending_re_init_commit(
        &mut self,
        r: HandlePendingCommitRequest,
    ) -> RpcResult<HandleReInitCommitResponse> {
        self.handle_pending_commit(r)?;
        self.start_reinit(r.state_id)
    }

    fn handle_re_init_commit(
        &mut self,
        r: HandleCommitRequest,
    ) -> RpcResult<HandleReInitCommitResponse> {
        let state_id = r.state_id;
        self.handle_commit(r)?;
        self.start_reinit(state_id)
    }

    fn re_init_welcome(&mut self, r: ReInitWelcomeRequest) -> RpcResult<CreateSubgroupResponse> {
        self.reinit_welcome(r)
    }

    fn handle_re_init_welcome(
        &mut self,
        r: HandleReInitWelcomeRequest,
    ) -> RpcResult<JoinGroupResponse> {
        self.join_reinit(r)
    }

    fn new_member_add_proposal(
        &mut self,
        r: NewMemberAddProposalRequest,
    ) -> RpcResult<NewMemberAddProposalResponse> {
        self.new_member_add(r)
    }

    fn create_external_signer(
        &mut self,
        r: CreateExternalSignerRequest,
    ) -> RpcResult<CreateExternalSignerResponse> {
        self.new_external_signer(r)
    }

    fn add_external_signer(&mut self, r: AddExternalSignerRequest) -> RpcResult<ProposalResponse> {
        self.propose_external_signer(r)
    }

    fn external_signer_proposal(
        &mut self,
        r: ExternalSignerProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        self.propose_as_external_signer(r)
    }

    fn create_branch(&mut self, r: CreateBranchRequest) -> RpcResult<CreateSubgroupResponse> {
        self.branch(r)
    }

    fn handle_branch(&mut self, r: HandleBranchRequest) -> RpcResult<HandleBranchResponse> {
        self.join_branch(r)
    }

    fn free(&mut self, r: FreeRequest) -> RpcResult<FreeResponse> {
        let found = self.members.remove(&r.state_id).is_some()
            | self.transactions.remove(&r.state_id).is_some()
            | self.reinits.remove(&r.state_id).is_some()
            | self.signers.remove(&r.state_id).is_some();
        if found {
            Ok(FreeResponse {})
        } else {
            Err(Status::not_found(format!(
                "mls-rs: no state {}",
                r.state_id
            )))
        }
    }
}
