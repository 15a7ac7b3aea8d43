//! [`OpenMlsEndpoint`]: openmls 0.9 (crates.io, RustCrypto provider with
//! in-memory storage) answering the `MLSClient` RPCs the scenario runner
//! uses most. RPCs not written here answer `Unimplemented` (the trait's
//! default), naming openmls. External senders, new-member proposals and
//! the features openmls lacks (ReInit, branches) are in [`external`].

mod external;

use std::collections::HashMap;

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls::schedule::psk::{ExternalPsk, PreSharedKeyId, Psk, ResumptionPskUsage};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use tonic::Status;

use crate::grpc::Endpoint;
use crate::grpc::proto::*;

type RpcResult<T> = Result<T, Status>;

fn err(context: &str, e: impl std::fmt::Debug) -> Status {
    Status::invalid_argument(format!("openmls: {context}: {e:?}"))
}

/// One openmls client: its provider (crypto and storage), signer and
/// credential.
struct Party {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    suite: Ciphersuite,
}

impl Party {
    fn new(identity: &[u8], suite: u32) -> RpcResult<Self> {
        let suite = u16::try_from(suite)
            .ok()
            .and_then(|s| Ciphersuite::try_from(s).ok())
            .ok_or_else(|| Status::unimplemented(format!("openmls: cipher suite {suite}")))?;
        let provider = OpenMlsRustCrypto::default();
        if !provider.crypto().supported_ciphersuites().contains(&suite) {
            return Err(Status::unimplemented(format!(
                "openmls: cipher suite {suite:?} is not supported by its RustCrypto provider"
            )));
        }
        let signer =
            SignatureKeyPair::new(suite.signature_algorithm()).map_err(|e| err("signer", e))?;
        signer
            .store(provider.storage())
            .map_err(|e| err("store signer", e))?;
        let credential = CredentialWithKey {
            credential: BasicCredential::new(identity.to_vec()).into(),
            signature_key: signer.to_public_vec().into(),
        };
        Ok(Self {
            provider,
            signer,
            credential,
            suite,
        })
    }
}

struct Member {
    party: Party,
    group: MlsGroup,
    encrypt: bool,
}

/// openmls behind the `MLSClient` RPCs.
#[derive(Default)]
pub struct OpenMlsEndpoint {
    next_id: u32,
    members: HashMap<u32, Member>,
    transactions: HashMap<u32, Party>,
    /// External signers: a party whose key is listed in external_senders.
    signers: HashMap<u32, Party>,
}

fn policy(encrypt: bool) -> WireFormatPolicy {
    // Outgoing handshakes as asked; incoming of either kind, since a peer's
    // choice is its own (RFC 9420 §6 allows both).
    if encrypt {
        MIXED_CIPHERTEXT_WIRE_FORMAT_POLICY
    } else {
        MIXED_PLAINTEXT_WIRE_FORMAT_POLICY
    }
}

/// Epochs whose application secrets openmls keeps: the configs read
/// messages of a past epoch (application.json, out_of_order_across_epochs),
/// and openmls keeps none by default. How long to keep them is application
/// policy (RFC 9420, "Delayed and Reordered Application Messages").
const PAST_EPOCHS: usize = 5;

/// Resumption PSKs of past epochs that openmls keeps (none by default): the
/// configs propose resumption PSKs of earlier epochs (commit.json).
const RESUMPTION_PSKS: usize = 10;

fn join_config(encrypt: bool, tree_in_welcome: bool) -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .max_past_epochs(PAST_EPOCHS)
        .number_of_resumption_psks(RESUMPTION_PSKS)
        .wire_format_policy(policy(encrypt))
        .use_ratchet_tree_extension(tree_in_welcome)
        .build()
}

fn message_in(bytes: &[u8]) -> RpcResult<MlsMessageIn> {
    MlsMessageIn::tls_deserialize_exact(bytes).map_err(|e| err("decode MLSMessage", e))
}

fn out(m: &MlsMessageOut) -> RpcResult<Vec<u8>> {
    m.to_bytes().map_err(|e| err("encode MLSMessage", e))
}

fn key_package(party: &Party, bytes: &[u8]) -> RpcResult<KeyPackage> {
    match message_in(bytes)?.extract() {
        MlsMessageBodyIn::KeyPackage(kp) => kp
            .validate(party.provider.crypto(), ProtocolVersion::Mls10)
            .map_err(|e| err("key package", e)),
        _ => Err(Status::invalid_argument("openmls: expected a KeyPackage")),
    }
}

/// openmls's view of the runner's extensions: their TLS encoding (arbor's
/// codec writes it) parsed by openmls, so known types get their typed form.
fn extensions(list: &[crate::grpc::proto::Extension]) -> RpcResult<Extensions<GroupContext>> {
    let mut ours = Vec::with_capacity(list.len());
    for e in list {
        let t = u16::try_from(e.extension_type)
            .map_err(|_| Status::invalid_argument("extension type is not a uint16"))?;
        ours.push(arbor_mls::types::Extension {
            extension_type: arbor_mls::types::ExtensionType(t),
            extension_data: e.extension_data.clone(),
        });
    }
    let encoded = arbor_mls::codec::encode(&ours).map_err(|e| err("encode extensions", e))?;
    Extensions::tls_deserialize_exact(&encoded).map_err(|e| err("extensions", e))
}

/// A fresh-nonce PreSharedKeyID (RFC 9420 §8.4) of an external PSK.
fn external_psk(party: &Party, id: &[u8]) -> RpcResult<PreSharedKeyId> {
    PreSharedKeyId::new(
        party.suite,
        party.provider.rand(),
        Psk::External(ExternalPsk::new(id.to_vec())),
    )
    .map_err(|e| err("PSK nonce", e))
}

/// A fresh-nonce PreSharedKeyID of the group's resumption PSK of `epoch`.
fn resumption_psk(party: &Party, group: &MlsGroup, epoch: u64) -> RpcResult<PreSharedKeyId> {
    let nonce = party
        .provider
        .rand()
        .random_vec(party.suite.hash_length())
        .map_err(|e| err("PSK nonce", e))?;
    Ok(PreSharedKeyId::resumption(
        ResumptionPskUsage::Application,
        group.group_id().clone(),
        GroupEpoch::from(epoch),
        nonce,
    ))
}

fn leaf_of(group: &MlsGroup, identity: &[u8]) -> RpcResult<LeafNodeIndex> {
    group
        .members()
        .find(|m| m.credential.serialized_content() == identity)
        .map(|m| m.index)
        .ok_or_else(|| Status::invalid_argument("openmls: no member with that identity"))
}

impl Member {
    fn process(&mut self, bytes: &[u8]) -> RpcResult<ProcessedMessage> {
        let message = message_in(bytes)?
            .try_into_protocol_message()
            .map_err(|e| err("not a protocol message", e))?;
        self.group
            .process_message(&self.party.provider, message)
            .map_err(|e| match e {
                // openmls takes only Add, Remove and GroupContextExtensions
                // proposals from external senders; RFC 9420 §17.4 (the
                // proposal types table, column "Ext") allows psk and reinit
                // too.
                ProcessMessageError::UnsupportedProposalType => Status::unimplemented(
                    "openmls 0.9: rejects PSK and ReInit proposals from external senders \
                     (process_message: UnsupportedProposalType), which RFC 9420 §17.4 allows",
                ),
                e => err("process", e),
            })
    }

    fn take_proposals(&mut self, proposals: &[Vec<u8>]) -> RpcResult<()> {
        for (i, p) in proposals.iter().enumerate() {
            match self.process(p)?.into_content() {
                ProcessedMessageContent::ProposalMessage(queued) => self
                    .group
                    .store_pending_proposal(self.party.provider.storage(), *queued)
                    .map_err(|e| err("store proposal", e))?,
                ProcessedMessageContent::ExternalJoinProposalMessage(queued) => self
                    .group
                    .store_pending_proposal(self.party.provider.storage(), *queued)
                    .map_err(|e| err("store proposal", e))?,
                other => {
                    return Err(Status::invalid_argument(format!(
                        "openmls: by-reference message {i} is not a proposal: {other:?}"
                    )));
                }
            }
        }
        Ok(())
    }

    fn auth(&self) -> Vec<u8> {
        self.group.epoch_authenticator().as_slice().to_vec()
    }

    fn proposal(&self, m: MlsMessageOut) -> RpcResult<ProposalResponse> {
        Ok(ProposalResponse { proposal: out(&m)? })
    }
}

impl OpenMlsEndpoint {
    /// An endpoint with no state.
    pub fn new() -> Self {
        Self::default()
    }

    fn fresh_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    fn member(&mut self, id: u32) -> RpcResult<&mut Member> {
        self.members
            .get_mut(&id)
            .ok_or_else(|| Status::not_found(format!("openmls: no group state {id}")))
    }

    fn add_member(&mut self, member: Member) -> u32 {
        let id = self.fresh_id();
        self.members.insert(id, member);
        id
    }
}

impl Endpoint for OpenMlsEndpoint {
    fn stack_name(&self) -> String {
        "openmls".into()
    }

    fn name(&mut self, _: NameRequest) -> RpcResult<NameResponse> {
        Ok(NameResponse {
            name: "openmls 0.9 (in-process)".into(),
        })
    }

    fn supported_ciphersuites(
        &mut self,
        _: SupportedCiphersuitesRequest,
    ) -> RpcResult<SupportedCiphersuitesResponse> {
        Ok(SupportedCiphersuitesResponse {
            ciphersuites: OpenMlsRustCrypto::default()
                .crypto()
                .supported_ciphersuites()
                .into_iter()
                .map(|s| u32::from(u16::from(s)))
                .collect(),
        })
    }

    fn create_group(&mut self, r: CreateGroupRequest) -> RpcResult<CreateGroupResponse> {
        let party = Party::new(&r.identity, r.cipher_suite)?;
        let group = MlsGroup::builder()
            .ciphersuite(party.suite)
            .with_group_id(GroupId::from_slice(&r.group_id))
            .with_wire_format_policy(policy(r.encrypt_handshake))
            .max_past_epochs(PAST_EPOCHS)
            .number_of_resumption_psks(RESUMPTION_PSKS)
            .use_ratchet_tree_extension(true)
            .build(&party.provider, &party.signer, party.credential.clone())
            .map_err(|e| err("create group", e))?;
        Ok(CreateGroupResponse {
            state_id: self.add_member(Member {
                party,
                group,
                encrypt: r.encrypt_handshake,
            }),
        })
    }

    fn create_key_package(
        &mut self,
        r: CreateKeyPackageRequest,
    ) -> RpcResult<CreateKeyPackageResponse> {
        let party = Party::new(&r.identity, r.cipher_suite)?;
        let bundle = KeyPackage::builder()
            .build(
                party.suite,
                &party.provider,
                &party.signer,
                party.credential.clone(),
            )
            .map_err(|e| err("key package", e))?;
        let key_package = out(&MlsMessageOut::from(bundle.key_package().clone()))?;
        let transaction_id = self.fresh_id();
        self.transactions.insert(transaction_id, party);
        Ok(CreateKeyPackageResponse {
            transaction_id,
            key_package,
            ..Default::default()
        })
    }

    fn join_group(&mut self, r: JoinGroupRequest) -> RpcResult<JoinGroupResponse> {
        let party = self.transactions.remove(&r.transaction_id).ok_or_else(|| {
            Status::not_found(format!("openmls: no transaction {}", r.transaction_id))
        })?;
        let welcome = match message_in(&r.welcome)?.extract() {
            MlsMessageBodyIn::Welcome(w) => w,
            _ => return Err(Status::invalid_argument("openmls: expected a Welcome")),
        };
        let tree = if r.ratchet_tree.is_empty() {
            None
        } else {
            Some(
                RatchetTreeIn::tls_deserialize_exact(&r.ratchet_tree)
                    .map_err(|e| err("ratchet tree", e))?,
            )
        };
        let group = StagedWelcome::new_from_welcome(
            &party.provider,
            &join_config(r.encrypt_handshake, true),
            welcome,
            tree,
        )
        .map_err(|e| err("stage Welcome", e))?
        .into_group(&party.provider)
        .map_err(|e| err("join", e))?;
        let member = Member {
            party,
            group,
            encrypt: r.encrypt_handshake,
        };
        let epoch_authenticator = member.auth();
        Ok(JoinGroupResponse {
            state_id: self.add_member(member),
            epoch_authenticator,
        })
    }

    fn external_join(&mut self, r: ExternalJoinRequest) -> RpcResult<ExternalJoinResponse> {
        if r.remove_prior {
            // RFC 9420 §12.4.3.2 lets an external commit remove the joiner's
            // prior leaf; openmls's builder takes no Remove proposal.
            return Err(Status::unimplemented(
                "openmls 0.9: no API to remove the joiner's prior leaf in an external commit \
                 (checked: ExternalCommitBuilder::with_proposals keeps only SelfRemove \
                 proposals; its CommitBuilder adds only PSK proposals)",
            ));
        }
        let info = match message_in(&r.group_info)?.extract() {
            MlsMessageBodyIn::GroupInfo(info) => info,
            _ => return Err(Status::invalid_argument("openmls: expected a GroupInfo")),
        };
        let suite = u16::from(info.ciphersuite());
        let party = Party::new(&r.identity, u32::from(suite))?;
        let tree = if r.ratchet_tree.is_empty() {
            None
        } else {
            Some(
                RatchetTreeIn::tls_deserialize_exact(&r.ratchet_tree)
                    .map_err(|e| err("ratchet tree", e))?,
            )
        };
        let mut psks = Vec::with_capacity(r.psks.len());
        for psk in &r.psks {
            PreSharedKeyId::external(psk.psk_id.clone(), Vec::new())
                .store(&party.provider, &psk.psk_secret)
                .map_err(|e| err("store PSK", e))?;
            psks.push(PreSharedKeyProposal::new(external_psk(
                &party,
                &psk.psk_id,
            )?));
        }
        let mut builder =
            MlsGroup::external_commit_builder().with_config(join_config(r.encrypt_handshake, true));
        if let Some(tree) = tree {
            builder = builder.with_ratchet_tree(tree);
        }
        let (group, bundle) = builder
            .build_group(&party.provider, info, party.credential.clone())
            .map_err(|e| err("external join", e))?
            .add_psk_proposals(psks)
            .load_psks(party.provider.storage())
            .map_err(|e| err("load PSKs", e))?
            .build(
                party.provider.rand(),
                party.provider.crypto(),
                &party.signer,
                |_| true,
            )
            .map_err(|e| err("external commit", e))?
            .finalize(&party.provider)
            .map_err(|e| err("external commit", e))?;
        let commit = bundle.into_commit();
        let member = Member {
            party,
            group,
            encrypt: r.encrypt_handshake,
        };
        let epoch_authenticator = member.auth();
        Ok(ExternalJoinResponse {
            state_id: self.add_member(member),
            commit: out(&commit)?,
            epoch_authenticator,
        })
    }

    fn group_info(&mut self, r: GroupInfoRequest) -> RpcResult<GroupInfoResponse> {
        let m = self.member(r.state_id)?;
        let info = m
            .group
            .export_group_info(m.party.provider.crypto(), &m.party.signer, !r.external_tree)
            .map_err(|e| err("group info", e))?;
        Ok(GroupInfoResponse {
            group_info: out(&info)?,
            ratchet_tree: if r.external_tree {
                m.group
                    .export_ratchet_tree()
                    .tls_serialize_detached()
                    .map_err(|e| err("ratchet tree", e))?
            } else {
                Vec::new()
            },
        })
    }

    fn state_auth(&mut self, r: StateAuthRequest) -> RpcResult<StateAuthResponse> {
        Ok(StateAuthResponse {
            state_auth_secret: self.member(r.state_id)?.auth(),
        })
    }

    fn export(&mut self, r: ExportRequest) -> RpcResult<ExportResponse> {
        let m = self.member(r.state_id)?;
        let len = usize::try_from(r.key_length)
            .map_err(|_| Status::invalid_argument("key_length too large"))?;
        Ok(ExportResponse {
            exported_secret: m
                .group
                .export_secret(m.party.provider.crypto(), &r.label, &r.context, len)
                .map_err(|e| err("export", e))?,
        })
    }

    fn protect(&mut self, r: ProtectRequest) -> RpcResult<ProtectResponse> {
        let m = self.member(r.state_id)?;
        m.group.set_aad(r.authenticated_data);
        let msg = m
            .group
            .create_message(&m.party.provider, &m.party.signer, &r.plaintext)
            .map_err(|e| err("protect", e))?;
        Ok(ProtectResponse {
            ciphertext: out(&msg)?,
        })
    }

    fn unprotect(&mut self, r: UnprotectRequest) -> RpcResult<UnprotectResponse> {
        let processed = self.member(r.state_id)?.process(&r.ciphertext)?;
        let authenticated_data = processed.aad().to_vec();
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(m) => Ok(UnprotectResponse {
                authenticated_data,
                plaintext: m.into_bytes(),
            }),
            other => Err(Status::invalid_argument(format!(
                "openmls: expected application data, got {other:?}"
            ))),
        }
    }

    fn store_psk(&mut self, r: StorePskRequest) -> RpcResult<StorePskResponse> {
        let id = r.state_or_transaction_id;
        let party = match (self.members.get(&id), self.transactions.get(&id)) {
            (Some(m), _) => &m.party,
            (None, Some(p)) => p,
            (None, None) => {
                return Err(Status::not_found(format!(
                    "openmls: no state or transaction {id}"
                )));
            }
        };
        // openmls stores PSKs by id alone; the nonce is per proposal.
        PreSharedKeyId::external(r.psk_id, Vec::new())
            .store(&party.provider, &r.psk_secret)
            .map_err(|e| err("store PSK", e))?;
        Ok(StorePskResponse {})
    }

    fn external_psk_proposal(
        &mut self,
        r: ExternalPskProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let m = self.member(r.state_id)?;
        let psk = external_psk(&m.party, &r.psk_id)?;
        let (msg, _) = m
            .group
            .propose_pre_shared_key(&m.party.provider, &m.party.signer, psk)
            .map_err(|e| err("external PSK proposal", e))?;
        m.proposal(msg)
    }

    fn resumption_psk_proposal(
        &mut self,
        r: ResumptionPskProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let m = self.member(r.state_id)?;
        let psk = resumption_psk(&m.party, &m.group, r.epoch_id)?;
        let (msg, _) = m
            .group
            .propose_pre_shared_key(&m.party.provider, &m.party.signer, psk)
            .map_err(|e| err("resumption PSK proposal", e))?;
        m.proposal(msg)
    }

    fn add_proposal(&mut self, r: AddProposalRequest) -> RpcResult<ProposalResponse> {
        let m = self.member(r.state_id)?;
        let kp = key_package(&m.party, &r.key_package)?;
        let (msg, _) = m
            .group
            .propose_add_member(&m.party.provider, &m.party.signer, &kp)
            .map_err(|e| err("add proposal", e))?;
        m.proposal(msg)
    }

    fn update_proposal(&mut self, r: UpdateProposalRequest) -> RpcResult<ProposalResponse> {
        let m = self.member(r.state_id)?;
        let (msg, _) = m
            .group
            .propose_self_update(
                &m.party.provider,
                &m.party.signer,
                LeafNodeParameters::default(),
            )
            .map_err(|e| err("update proposal", e))?;
        m.proposal(msg)
    }

    fn remove_proposal(&mut self, r: RemoveProposalRequest) -> RpcResult<ProposalResponse> {
        let m = self.member(r.state_id)?;
        let leaf = leaf_of(&m.group, &r.removed_id)?;
        let (msg, _) = m
            .group
            .propose_remove_member(&m.party.provider, &m.party.signer, leaf)
            .map_err(|e| err("remove proposal", e))?;
        m.proposal(msg)
    }

    fn group_context_extensions_proposal(
        &mut self,
        r: GroupContextExtensionsProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let list = extensions(&r.extensions)?;
        let m = self.member(r.state_id)?;
        let (msg, _) = m
            .group
            .propose_group_context_extensions(&m.party.provider, list, &m.party.signer)
            .map_err(|e| err("group context extensions proposal", e))?;
        m.proposal(msg)
    }

    fn commit(&mut self, r: CommitRequest) -> RpcResult<CommitResponse> {
        let m = self.member(r.state_id)?;
        m.take_proposals(&r.by_reference)?;
        let mut adds = Vec::new();
        let mut removes = Vec::new();
        let mut context_extensions = None;
        let mut others = Vec::new();
        for d in &r.by_value {
            match d.proposal_type.as_slice() {
                b"add" => adds.push(key_package(&m.party, &d.key_package)?),
                b"externalPSK" => others.push(Proposal::PreSharedKey(Box::new(
                    PreSharedKeyProposal::new(external_psk(&m.party, &d.psk_id)?),
                ))),
                b"resumptionPSK" => others.push(Proposal::PreSharedKey(Box::new(
                    PreSharedKeyProposal::new(resumption_psk(&m.party, &m.group, d.epoch_id)?),
                ))),
                b"groupContextExtensions" => context_extensions = Some(extensions(&d.extensions)?),
                b"remove" => removes.push(leaf_of(&m.group, &d.removed_id)?),
                other => {
                    return Err(Status::unimplemented(format!(
                        "openmls adapter: by-value {:?} proposals are not wired up",
                        String::from_utf8_lossy(other)
                    )));
                }
            }
        }
        let psk = |p: &Proposal| matches!(p, Proposal::PreSharedKey(_));
        if others.iter().any(psk) && m.group.pending_proposals().any(|q| psk(q.proposal())) {
            // RFC 9420 §12.4.2: PSKs enter psk_secret in the order of the
            // commit's proposals vector. openmls lists by-reference proposals
            // before its own, but CommitBuilder::load_psks derives with its
            // own first: the confirmation tag then fails at every receiver.
            return Err(Status::unimplemented(
                "openmls 0.9: a commit with PSK proposals both by value and by reference \
                 derives psk_secret in another order than its proposals vector (own proposals \
                 first in CommitBuilder::load_psks, last in the commit), against RFC 9420 \
                 §12.4.2",
            ));
        }
        m.group
            .set_configuration(
                m.party.provider.storage(),
                &join_config(m.encrypt, !r.external_tree),
            )
            .map_err(|e| err("configuration", e))?;
        let mut builder = m.group.commit_builder();
        if let Some(list) = context_extensions {
            builder = builder
                .propose_group_context_extensions(list)
                .map_err(|e| err("by-value group context extensions", e))?;
        }
        let bundle = builder
            .propose_adds(adds)
            .propose_removals(removes)
            .add_proposals(others)
            .force_self_update(r.force_path)
            .consume_proposal_store(true)
            .load_psks(m.party.provider.storage())
            .map_err(|e| err("load PSKs", e))?
            .build(
                m.party.provider.rand(),
                m.party.provider.crypto(),
                &m.party.signer,
                |_| true,
            )
            .map_err(|e| err("commit", e))?
            .stage_commit(&m.party.provider)
            .map_err(|e| err("stage commit", e));
        m.group
            .set_configuration(m.party.provider.storage(), &join_config(m.encrypt, true))
            .map_err(|e| err("configuration", e))?;
        let (commit, welcome, _) = bundle?.into_contents();
        let ratchet_tree = if r.external_tree {
            // The tree of the new epoch: merging is how openmls exposes it;
            // HandlePendingCommit then finds nothing pending.
            m.group
                .merge_pending_commit(&m.party.provider)
                .map_err(|e| err("merge", e))?;
            m.group
                .export_ratchet_tree()
                .tls_serialize_detached()
                .map_err(|e| err("ratchet tree", e))?
        } else {
            Vec::new()
        };
        Ok(CommitResponse {
            commit: out(&commit)?,
            welcome: match welcome {
                Some(w) => out(&MlsMessageOut::from_welcome(w, ProtocolVersion::Mls10))?,
                None => Vec::new(),
            },
            ratchet_tree,
        })
    }

    fn handle_commit(&mut self, r: HandleCommitRequest) -> RpcResult<HandleCommitResponse> {
        let m = self.member(r.state_id)?;
        m.take_proposals(&r.proposal)?;
        match m.process(&r.commit)?.into_content() {
            ProcessedMessageContent::StagedCommitMessage(staged) => m
                .group
                .merge_staged_commit(&m.party.provider, *staged)
                .map_err(|e| err("merge", e))?,
            other => {
                return Err(Status::invalid_argument(format!(
                    "openmls: expected a commit, got {other:?}"
                )));
            }
        }
        Ok(HandleCommitResponse {
            state_id: r.state_id,
            epoch_authenticator: m.auth(),
        })
    }

    fn handle_pending_commit(
        &mut self,
        r: HandlePendingCommitRequest,
    ) -> RpcResult<HandleCommitResponse> {
        let m = self.member(r.state_id)?;
        if m.group.pending_commit().is_some() {
            m.group
                .merge_pending_commit(&m.party.provider)
                .map_err(|e| err("merge pending commit", e))?;
        }
        Ok(HandleCommitResponse {
            state_id: r.state_id,
            epoch_authenticator: m.auth(),
        })
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

    fn re_init_proposal(&mut self, _: ReInitProposalRequest) -> RpcResult<ProposalResponse> {
        Err(external::no_reinit())
    }

    fn re_init_commit(&mut self, _: CommitRequest) -> RpcResult<CommitResponse> {
        Err(external::no_reinit())
    }

    fn handle_pending_re_init_commit(
        &mut self,
        _: HandlePendingCommitRequest,
    ) -> RpcResult<HandleReInitCommitResponse> {
        Err(external::no_reinit())
    }

    fn handle_re_init_commit(
        &mut self,
        _: HandleCommitRequest,
    ) -> RpcResult<HandleReInitCommitResponse> {
        Err(external::no_reinit())
    }

    fn re_init_welcome(&mut self, _: ReInitWelcomeRequest) -> RpcResult<CreateSubgroupResponse> {
        Err(external::no_reinit())
    }

    fn handle_re_init_welcome(
        &mut self,
        _: HandleReInitWelcomeRequest,
    ) -> RpcResult<JoinGroupResponse> {
        Err(external::no_reinit())
    }

    fn create_branch(&mut self, _: CreateBranchRequest) -> RpcResult<CreateSubgroupResponse> {
        Err(external::no_branch())
    }

    fn handle_branch(&mut self, _: HandleBranchRequest) -> RpcResult<HandleBranchResponse> {
        Err(external::no_branch())
    }

    fn free(&mut self, r: FreeRequest) -> RpcResult<FreeResponse> {
        let found = self.members.remove(&r.state_id).is_some()
            | self.transactions.remove(&r.state_id).is_some()
            | self.signers.remove(&r.state_id).is_some();
        if found {
            Ok(FreeResponse {})
        } else {
            Err(Status::not_found(format!(
                "openmls: no state {}",
                r.state_id
            )))
        }
    }
}
