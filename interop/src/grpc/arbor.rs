//! [`ArborEndpoint`]: arbor-mls answering the `MLSClient` RPCs.
//!
//! Ids handed out (state, transaction, signer, reinit) come from one
//! counter, so an id used with the wrong RPC is reported as unknown rather
//! than silently hitting another object.

use std::collections::HashMap;

use arbor_mls::api::ExternalJoinOptions;
use arbor_mls::api::GroupConfig;
use arbor_mls::codec::encode;
use arbor_mls::crypto::credential::Credential;
use arbor_mls::crypto::rust_crypto::RustCryptoProvider;
use arbor_mls::crypto::{CipherSuite, CryptoProvider, OsRandom, SignaturePrivateKey, Suite};
use arbor_mls::framing::{Content, FramedContent, Sender};
use arbor_mls::tree::ratchet_tree::RatchetTree;
use arbor_mls::types::extensions::ExternalSender as ExternalSenderEntry;
use arbor_mls::types::math::LeafIndex;
use arbor_mls::types::{Extension, ExtensionType};
use arbor_mls::{Client, Event, Group, GroupOptions, KeyPackageOptions};
use tonic::Status;

use super::endpoint::Endpoint;
use super::proto::*;

pub use super::arbor_inputs::prior_leaf;
use super::arbor_inputs::{
    RpcResult, decode_group_info, decode_key_package, extensions, leaf_of, optional, proposal_from,
    sign_public, status,
};
use super::arbor_limits::{Limits, PskClient};

/// `Unimplemented`, naming what arbor's public API does not offer.
fn missing_api(what: &str) -> Status {
    Status::unimplemented(format!("arbor: {what}"))
}

/// A member: the client (identity, PSKs, key packages) and its group.
struct Member {
    client: PskClient,
    group: Group,
    /// Handshakes go out as PrivateMessage.
    encrypt: bool,
    /// Our commit was merged when it was made, to return the new ratchet
    /// tree with it (`external_tree`); HandlePendingCommit then has nothing
    /// left to merge.
    merged_early: bool,
}

/// A group closed by a ReInit commit, waiting for the new group.
struct Reinit {
    client: PskClient,
    old: Group,
    encrypt: bool,
}

/// An external sender created by CreateExternalSigner.
struct Signer {
    suite: Suite,
    private: SignaturePrivateKey,
}

/// arbor-mls behind the `MLSClient` RPCs.
#[derive(Default)]
pub struct ArborEndpoint {
    next_id: u32,
    members: HashMap<u32, Member>,
    /// Clients waiting for a Welcome (CreateKeyPackage, NewMemberAddProposal).
    transactions: HashMap<u32, PskClient>,
    signers: HashMap<u32, Signer>,
    reinits: HashMap<u32, Reinit>,
    limits: Limits,
}

impl ArborEndpoint {
    /// An endpoint with no state and the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An endpoint with no state and `limits`.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Objects held, all kinds together.
    fn held(&self) -> usize {
        self.members.len() + self.transactions.len() + self.signers.len() + self.reinits.len()
    }

    /// `ResourceExhausted` unless `rpc` may keep one more object. RPCs that
    /// add one check first, before doing any work; those that replace one
    /// (a transaction becoming a group state) always fit.
    fn room(&self, rpc: &str) -> RpcResult<()> {
        self.limits.room_for_one(self.held(), rpc)
    }

    /// The id of a new object. Also refuses one past the limit, so no path
    /// can grow the maps beyond it, and never reuses an id (one that wrapped
    /// around could name a live object).
    fn fresh_id(&mut self) -> RpcResult<u32> {
        self.room("new state")?;
        self.next_id = self.next_id.checked_add(1).ok_or_else(|| {
            Status::resource_exhausted(
                "arbor: every state id has been handed out: restart the server",
            )
        })?;
        Ok(self.next_id)
    }

    fn member(&mut self, id: u32) -> RpcResult<&mut Member> {
        self.members
            .get_mut(&id)
            .ok_or_else(|| Status::not_found(format!("arbor: no group state {id}")))
    }

    fn add_member(&mut self, client: PskClient, mut group: Group, encrypt: bool) -> RpcResult<u32> {
        group.set_config(settings(encrypt, true));
        let id = self.fresh_id()?;
        self.members.insert(
            id,
            Member {
                client,
                group,
                encrypt,
                merged_early: false,
            },
        );
        Ok(id)
    }
}

fn suite_of(value: u32) -> RpcResult<CipherSuite> {
    let id = u16::try_from(value)
        .map_err(|_| Status::invalid_argument(format!("cipher suite {value} is not a uint16")))?;
    let suite = CipherSuite(id);
    if RustCryptoProvider.supported_suites().contains(&suite) {
        Ok(suite)
    } else {
        Err(Status::unimplemented(format!(
            "arbor: cipher suite {id:#06x} is not supported"
        )))
    }
}

fn suite_for(group: &Group) -> RpcResult<Suite> {
    Suite::from_provider(&RustCryptoProvider, group.state().context().cipher_suite)
        .map_err(|e| status("cipher suite", e.into()))
}

fn new_client(identity: &[u8], suite: CipherSuite) -> RpcResult<Client> {
    Client::builder(identity.to_vec())
        .cipher_suite(suite)
        .build()
        .map_err(|e| status("client", e))
}

fn settings(encrypt: bool, tree_in_welcome: bool) -> GroupConfig {
    GroupConfig::default()
        .with_encrypted_handshakes(encrypt)
        .with_ratchet_tree_in_welcome(tree_in_welcome)
}

/// Processes proposals other members sent, before a commit covers them.
fn take_proposals(group: &mut Group, proposals: &[Vec<u8>]) -> RpcResult<()> {
    for (i, bytes) in proposals.iter().enumerate() {
        match group.process(bytes) {
            Ok(Event::Proposal { .. }) => {}
            Ok(other) => {
                return Err(Status::invalid_argument(format!(
                    "arbor: by-reference message {i} is not a proposal: {other:?}"
                )));
            }
            Err(e) => return Err(status(&format!("by-reference proposal {i}"), e)),
        }
    }
    Ok(())
}

/// Processes `proposals` then `commit` and merges it.
fn handle_commit(group: &mut Group, proposals: &[Vec<u8>], commit: &[u8]) -> RpcResult<()> {
    take_proposals(group, proposals)?;
    match group.process(commit).map_err(|e| status("commit", e))? {
        Event::Commit { staged, .. } => group.merge(*staged).map_err(|e| status("merge", e)),
        Event::OwnCommitMerged { .. } => Ok(()),
        other => Err(Status::invalid_argument(format!(
            "arbor: expected a commit, got {other:?}"
        ))),
    }
}

impl Member {
    fn commit(&mut self, r: &CommitRequest) -> RpcResult<CommitResponse> {
        let group = &mut self.group;
        take_proposals(group, &r.by_reference)?;
        let group_id = group.group_id().to_vec();
        let hash_len = suite_for(group)?.hash_len();
        let mut by_value = Vec::with_capacity(r.by_value.len());
        for d in &r.by_value {
            by_value.push(proposal_from(d, &group_id, hash_len, |id| {
                leaf_of(group, id)
            })?);
        }
        group.set_config(settings(self.encrypt, !r.external_tree));
        let out = group.commit_with(by_value, true, r.force_path);
        group.set_config(settings(self.encrypt, true));
        let out = out.map_err(|e| status("commit", e))?;
        let ratchet_tree = if r.external_tree {
            // The joiners need the tree of the epoch the commit creates,
            // which arbor exposes only once the commit is merged.
            group.merge_pending().map_err(|e| status("merge", e))?;
            self.merged_early = true;
            group
                .ratchet_tree()
                .map_err(|e| status("ratchet tree", e))?
        } else {
            Vec::new()
        };
        Ok(CommitResponse {
            commit: out.commit,
            welcome: out.welcome.unwrap_or_default(),
            ratchet_tree,
        })
    }

    fn handle_pending(&mut self) -> RpcResult<Vec<u8>> {
        if self.merged_early {
            self.merged_early = false;
        } else {
            self.group
                .merge_pending()
                .map_err(|e| status("merge pending commit", e))?;
        }
        Ok(self.group.epoch_authenticator().to_vec())
    }
}

impl Endpoint for ArborEndpoint {
    fn stack_name(&self) -> String {
        "arbor".into()
    }

    fn name(&mut self, _: NameRequest) -> RpcResult<NameResponse> {
        Ok(NameResponse {
            name: format!("arbor-mls {}", env!("CARGO_PKG_VERSION")),
        })
    }

    fn supported_ciphersuites(
        &mut self,
        _: SupportedCiphersuitesRequest,
    ) -> RpcResult<SupportedCiphersuitesResponse> {
        Ok(SupportedCiphersuitesResponse {
            ciphersuites: RustCryptoProvider
                .supported_suites()
                .into_iter()
                .map(|s| u32::from(s.0))
                .collect(),
        })
    }

    fn create_group(&mut self, r: CreateGroupRequest) -> RpcResult<CreateGroupResponse> {
        self.room("CreateGroup")?;
        let mut client = new_client(&r.identity, suite_of(r.cipher_suite)?)?;
        let group = client
            .create_group(GroupOptions::default().group_id(r.group_id))
            .map_err(|e| status("create group", e))?;
        Ok(CreateGroupResponse {
            state_id: self.add_member(client.into(), group, r.encrypt_handshake)?,
        })
    }

    fn create_key_package(
        &mut self,
        r: CreateKeyPackageRequest,
    ) -> RpcResult<CreateKeyPackageResponse> {
        self.room("CreateKeyPackage")?;
        let mut client = new_client(&r.identity, suite_of(r.cipher_suite)?)?;
        let key_package = client
            .key_package(KeyPackageOptions::default())
            .map_err(|e| status("key package", e))?;
        let transaction_id = self.fresh_id()?;
        self.transactions.insert(transaction_id, client.into());
        // arbor keeps private keys inside the client and has no API that
        // exports them; the runner does not need them.
        Ok(CreateKeyPackageResponse {
            transaction_id,
            key_package,
            ..Default::default()
        })
    }

    fn join_group(&mut self, r: JoinGroupRequest) -> RpcResult<JoinGroupResponse> {
        let mut client = self.transactions.remove(&r.transaction_id).ok_or_else(|| {
            Status::not_found(format!("arbor: no transaction {}", r.transaction_id))
        })?;
        let group = match client.join(&r.welcome, optional(&r.ratchet_tree)) {
            Ok(g) => g,
            Err(e) => {
                // The key package stays usable for another attempt.
                self.transactions.insert(r.transaction_id, client);
                return Err(status("join", e));
            }
        };
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        Ok(JoinGroupResponse {
            state_id: self.add_member(client, group, r.encrypt_handshake)?,
            epoch_authenticator,
        })
    }

    fn external_join(&mut self, r: ExternalJoinRequest) -> RpcResult<ExternalJoinResponse> {
        self.room("ExternalJoin")?;
        let info = decode_group_info(&r.group_info)?;
        let mut client = PskClient::from(new_client(&r.identity, info.group_context.cipher_suite)?);
        let mut options = ExternalJoinOptions::default();
        for psk in r.psks {
            client.add_psk(
                psk.psk_id.clone(),
                psk.psk_secret,
                &self.limits,
                "ExternalJoin",
            )?;
            options = options.external_psk(psk.psk_id);
        }
        let prior = if r.remove_prior {
            Some(LeafIndex(prior_leaf(
                &r.group_info,
                &r.ratchet_tree,
                &r.identity,
            )?))
        } else {
            None
        };
        if let Some(tree) = optional(&r.ratchet_tree) {
            options = options.ratchet_tree(tree.to_vec());
        }
        if let Some(prior) = prior {
            options = options.remove_old_leaf(prior);
        }
        let (group, commit) = client
            .join_by_external_commit_with(&r.group_info, options)
            .map_err(|e| status("external join", e))?;
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        Ok(ExternalJoinResponse {
            state_id: self.add_member(client, group, r.encrypt_handshake)?,
            commit,
            epoch_authenticator,
        })
    }

    fn group_info(&mut self, r: GroupInfoRequest) -> RpcResult<GroupInfoResponse> {
        let group = &self.member(r.state_id)?.group;
        Ok(GroupInfoResponse {
            group_info: group
                .group_info(!r.external_tree)
                .map_err(|e| status("group info", e))?,
            ratchet_tree: if r.external_tree {
                group
                    .ratchet_tree()
                    .map_err(|e| status("ratchet tree", e))?
            } else {
                Vec::new()
            },
        })
    }

    fn state_auth(&mut self, r: StateAuthRequest) -> RpcResult<StateAuthResponse> {
        // The harness's "state authentication secret" is the epoch
        // authenticator (RFC 9420 §8.7).
        Ok(StateAuthResponse {
            state_auth_secret: self
                .member(r.state_id)?
                .group
                .epoch_authenticator()
                .to_vec(),
        })
    }

    fn export(&mut self, r: ExportRequest) -> RpcResult<ExportResponse> {
        let len = usize::try_from(r.key_length)
            .map_err(|_| Status::invalid_argument("key_length too large"))?;
        let secret = self
            .member(r.state_id)?
            .group
            .export_secret(&r.label, &r.context, len)
            .map_err(|e| status("export", e))?;
        Ok(ExportResponse {
            exported_secret: secret.as_bytes().to_vec(),
        })
    }

    fn protect(&mut self, r: ProtectRequest) -> RpcResult<ProtectResponse> {
        Ok(ProtectResponse {
            ciphertext: self
                .member(r.state_id)?
                .group
                .encrypt(&r.plaintext, &r.authenticated_data)
                .map_err(|e| status("protect", e))?,
        })
    }

    fn unprotect(&mut self, r: UnprotectRequest) -> RpcResult<UnprotectResponse> {
        match self
            .member(r.state_id)?
            .group
            .process(&r.ciphertext)
            .map_err(|e| status("unprotect", e))?
        {
            Event::Application {
                data,
                authenticated_data,
                ..
            } => Ok(UnprotectResponse {
                authenticated_data,
                plaintext: data,
            }),
            other => Err(Status::invalid_argument(format!(
                "arbor: expected application data, got {other:?}"
            ))),
        }
    }

    fn store_psk(&mut self, r: StorePskRequest) -> RpcResult<StorePskResponse> {
        let id = r.state_or_transaction_id;
        let limits = self.limits;
        if let Some(client) = self.transactions.get_mut(&id) {
            client.add_psk(r.psk_id, r.psk_secret, &limits, "StorePsk")?;
            return Ok(StorePskResponse {});
        }
        if let Some(member) = self.members.get_mut(&id) {
            // The client's PSK store is shared with its groups.
            member
                .client
                .add_psk(r.psk_id, r.psk_secret, &limits, "StorePsk")?;
            return Ok(StorePskResponse {});
        }
        Err(Status::not_found(format!(
            "arbor: no state or transaction {id}"
        )))
    }

    fn add_proposal(&mut self, r: AddProposalRequest) -> RpcResult<ProposalResponse> {
        let proposal = self
            .member(r.state_id)?
            .group
            .propose_add(&r.key_package)
            .map_err(|e| status("add proposal", e))?;
        Ok(ProposalResponse { proposal })
    }

    fn update_proposal(&mut self, r: UpdateProposalRequest) -> RpcResult<ProposalResponse> {
        let proposal = self
            .member(r.state_id)?
            .group
            .propose_update()
            .map_err(|e| status("update proposal", e))?;
        Ok(ProposalResponse { proposal })
    }

    fn remove_proposal(&mut self, r: RemoveProposalRequest) -> RpcResult<ProposalResponse> {
        let group = &mut self.member(r.state_id)?.group;
        let leaf = leaf_of(group, &r.removed_id)?;
        let proposal = group
            .propose_remove(leaf)
            .map_err(|e| status("remove proposal", e))?;
        Ok(ProposalResponse { proposal })
    }

    fn external_psk_proposal(
        &mut self,
        r: ExternalPskProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let proposal = self
            .member(r.state_id)?
            .group
            .propose_external_psk(r.psk_id)
            .map_err(|e| status("external PSK proposal", e))?;
        Ok(ProposalResponse { proposal })
    }

    fn resumption_psk_proposal(
        &mut self,
        r: ResumptionPskProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let proposal = self
            .member(r.state_id)?
            .group
            .propose_resumption_psk(r.epoch_id)
            .map_err(|e| status("resumption PSK proposal", e))?;
        Ok(ProposalResponse { proposal })
    }

    fn group_context_extensions_proposal(
        &mut self,
        r: GroupContextExtensionsProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let list = extensions(&r.extensions)?;
        let proposal = self
            .member(r.state_id)?
            .group
            .propose_group_context_extensions(list)
            .map_err(|e| status("group context extensions proposal", e))?;
        Ok(ProposalResponse { proposal })
    }

    fn commit(&mut self, r: CommitRequest) -> RpcResult<CommitResponse> {
        self.member(r.state_id)?.commit(&r)
    }

    fn handle_commit(&mut self, r: HandleCommitRequest) -> RpcResult<HandleCommitResponse> {
        let group = &mut self.member(r.state_id)?.group;
        handle_commit(group, &r.proposal, &r.commit)?;
        Ok(HandleCommitResponse {
            state_id: r.state_id,
            epoch_authenticator: group.epoch_authenticator().to_vec(),
        })
    }

    fn handle_pending_commit(
        &mut self,
        r: HandlePendingCommitRequest,
    ) -> RpcResult<HandleCommitResponse> {
        let epoch_authenticator = self.member(r.state_id)?.handle_pending()?;
        Ok(HandleCommitResponse {
            state_id: r.state_id,
            epoch_authenticator,
        })
    }

    fn re_init_proposal(&mut self, r: ReInitProposalRequest) -> RpcResult<ProposalResponse> {
        let suite = suite_of(r.cipher_suite)?;
        let group = &mut self.member(r.state_id)?.group;
        let proposal = group
            .propose_reinit_to(r.group_id, suite, extensions(&r.extensions)?)
            .map_err(|e| status("reinit proposal", e))?;
        Ok(ProposalResponse { proposal })
    }

    fn re_init_commit(&mut self, r: CommitRequest) -> RpcResult<CommitResponse> {
        // The ReInit proposal comes by reference (ours is cached, another
        // member's is in `by_reference`); the commit covers it like any other.
        self.member(r.state_id)?.commit(&r)
    }

    fn handle_pending_re_init_commit(
        &mut self,
        r: HandlePendingCommitRequest,
    ) -> RpcResult<HandleReInitCommitResponse> {
        self.member(r.state_id)?.handle_pending()?;
        self.start_reinit(r.state_id)
    }

    fn handle_re_init_commit(
        &mut self,
        r: HandleCommitRequest,
    ) -> RpcResult<HandleReInitCommitResponse> {
        let group = &mut self.member(r.state_id)?.group;
        handle_commit(group, &r.proposal, &r.commit)?;
        self.start_reinit(r.state_id)
    }

    fn re_init_welcome(&mut self, r: ReInitWelcomeRequest) -> RpcResult<CreateSubgroupResponse> {
        let mut reinit = self
            .reinits
            .remove(&r.reinit_id)
            .ok_or_else(|| Status::not_found(format!("arbor: no reinit {}", r.reinit_id)))?;
        let kps: Vec<&[u8]> = r.key_package.iter().map(Vec::as_slice).collect();
        let created = reinit.client.create_reinit_group_with(
            &reinit.old,
            &kps,
            GroupConfig::default(),
            r.force_path,
        );
        let (group, out) = match created {
            Ok(created) => created,
            Err(e) => {
                self.reinits.insert(r.reinit_id, reinit);
                return Err(status("reinit group", e));
            }
        };
        let encrypt = reinit.encrypt;
        self.finish_subgroup(reinit.client, group, out, r.external_tree, encrypt)
    }

    fn handle_re_init_welcome(
        &mut self,
        r: HandleReInitWelcomeRequest,
    ) -> RpcResult<JoinGroupResponse> {
        let mut reinit = self
            .reinits
            .remove(&r.reinit_id)
            .ok_or_else(|| Status::not_found(format!("arbor: no reinit {}", r.reinit_id)))?;
        let group =
            match reinit
                .client
                .join_reinit(&r.welcome, optional(&r.ratchet_tree), &reinit.old)
            {
                Ok(g) => g,
                Err(e) => {
                    self.reinits.insert(r.reinit_id, reinit);
                    return Err(status("join reinit group", e));
                }
            };
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        Ok(JoinGroupResponse {
            state_id: self.add_member(reinit.client, group, reinit.encrypt)?,
            epoch_authenticator,
        })
    }

    fn create_branch(&mut self, r: CreateBranchRequest) -> RpcResult<CreateSubgroupResponse> {
        self.room("CreateBranch")?;
        let list = extensions(&r.extensions)?;
        let member = self.member(r.state_id)?;
        let kps: Vec<&[u8]> = r.key_packages.iter().map(Vec::as_slice).collect();
        let (group, out) = member
            .client
            .branch_with(
                &member.group,
                &kps,
                GroupOptions::default()
                    .group_id(r.group_id)
                    .extensions(list),
                r.force_path,
            )
            .map_err(|e| status("branch", e))?;
        let encrypt = member.encrypt;
        // The old group keeps its client; the creator's state in the branch
        // gets a client of the same identity (a Client is not Clone).
        let identity = match member.client.credential() {
            Credential::Basic { identity } => identity.clone(),
            _ => Vec::new(),
        };
        let suite = member.group.state().context().cipher_suite;
        let client = new_client(&identity, suite)?;
        self.finish_subgroup(client.into(), group, out, r.external_tree, encrypt)
    }

    fn handle_branch(&mut self, r: HandleBranchRequest) -> RpcResult<HandleBranchResponse> {
        let mut client = self.transactions.remove(&r.transaction_id).ok_or_else(|| {
            Status::not_found(format!("arbor: no transaction {}", r.transaction_id))
        })?;
        let member = self.member(r.state_id)?;
        let encrypt = member.encrypt;
        let joined = client.join_branch(&r.welcome, optional(&r.ratchet_tree), &member.group);
        let group = match joined {
            Ok(g) => g,
            Err(e) => {
                self.transactions.insert(r.transaction_id, client);
                return Err(status("join branch", e));
            }
        };
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        Ok(HandleBranchResponse {
            state_id: self.add_member(client, group, encrypt)?,
            epoch_authenticator,
        })
    }

    fn new_member_add_proposal(
        &mut self,
        r: NewMemberAddProposalRequest,
    ) -> RpcResult<NewMemberAddProposalResponse> {
        self.room("NewMemberAddProposal")?;
        let info = decode_group_info(&r.group_info)?;
        let suite_id = info.group_context.cipher_suite;
        let suite = Suite::from_provider(&RustCryptoProvider, suite_id)
            .map_err(|e| status("suite", e.into()))?;
        // Our own signature key pair, so we can sign the proposal with the
        // key the key package names (§12.1.8: a new_member_proposal sender
        // signs with the key of the proposed leaf).
        let (private, public) = suite
            .primitives()
            .signature_key_pair(&mut OsRandom)
            .map_err(|e| Status::internal(format!("arbor: signature key: {e}")))?;
        let mut client = Client::builder(r.identity)
            .cipher_suite(suite_id)
            .signature_key(private.clone(), public)
            .build()
            .map_err(|e| status("client", e))?;
        let kp = client
            .key_package(KeyPackageOptions::default())
            .map_err(|e| status("key package", e))?;
        let content = FramedContent {
            group_id: info.group_context.group_id.clone(),
            epoch: info.group_context.epoch,
            sender: Sender::NewMemberProposal,
            authenticated_data: Vec::new(),
            content: Content::Proposal(Box::new(decode_key_package(&kp)?)),
        };
        let proposal = sign_public(&suite, &private, content)?;
        let transaction_id = self.fresh_id()?;
        self.transactions.insert(transaction_id, client.into());
        Ok(NewMemberAddProposalResponse {
            transaction_id,
            proposal,
            ..Default::default()
        })
    }

    fn create_external_signer(
        &mut self,
        r: CreateExternalSignerRequest,
    ) -> RpcResult<CreateExternalSignerResponse> {
        self.room("CreateExternalSigner")?;
        let suite = Suite::from_provider(&RustCryptoProvider, suite_of(r.cipher_suite)?)
            .map_err(|e| status("suite", e.into()))?;
        let (private, public) = suite
            .primitives()
            .signature_key_pair(&mut OsRandom)
            .map_err(|e| Status::internal(format!("arbor: signature key: {e}")))?;
        let entry = ExternalSenderEntry {
            signature_key: public,
            credential: Credential::basic(r.identity),
        };
        let external_sender =
            encode(&entry).map_err(|e| Status::internal(format!("arbor: encode: {e}")))?;
        let signer_id = self.fresh_id()?;
        self.signers.insert(signer_id, Signer { suite, private });
        Ok(CreateExternalSignerResponse {
            signer_id,
            external_sender,
        })
    }

    fn add_external_signer(&mut self, r: AddExternalSignerRequest) -> RpcResult<ProposalResponse> {
        let entry: ExternalSenderEntry =
            arbor_mls::decode_exact("ExternalSender", &r.external_sender)
                .map_err(|e| status("external sender", e))?;
        let group = &mut self.member(r.state_id)?.group;
        // The new sender joins the group's external_senders list (§12.1.8.1):
        // a GroupContextExtensions proposal carrying all other extensions.
        let mut exts = group.state().context().extensions.clone();
        let mut senders: Vec<ExternalSenderEntry> = Vec::new();
        if let Some(pos) = exts
            .iter()
            .position(|e| e.extension_type == ExtensionType::EXTERNAL_SENDERS)
        {
            senders = arbor_mls::decode_exact("external_senders", &exts[pos].extension_data)
                .map_err(|e| status("external_senders extension", e))?;
            exts.remove(pos);
        }
        senders.push(entry);
        exts.push(Extension {
            extension_type: ExtensionType::EXTERNAL_SENDERS,
            extension_data: encode(&senders)
                .map_err(|e| Status::internal(format!("arbor: encode: {e}")))?,
        });
        let proposal = group
            .propose_group_context_extensions(exts)
            .map_err(|e| status("group context extensions proposal", e))?;
        Ok(ProposalResponse { proposal })
    }

    fn external_signer_proposal(
        &mut self,
        r: ExternalSignerProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let signer = self
            .signers
            .get(&r.signer_id)
            .ok_or_else(|| Status::not_found(format!("arbor: no signer {}", r.signer_id)))?;
        let description = r
            .description
            .as_ref()
            .ok_or_else(|| Status::invalid_argument("arbor: missing proposal description"))?;
        let info = decode_group_info(&r.group_info)?;
        let tree_bytes = match optional(&r.ratchet_tree) {
            Some(t) => t.to_vec(),
            None => info
                .extensions
                .iter()
                .find(|e| e.extension_type == ExtensionType::RATCHET_TREE)
                .map(|e| e.extension_data.clone())
                .unwrap_or_default(),
        };
        let leaf = |identity: &[u8]| -> RpcResult<LeafIndex> {
            let tree =
                RatchetTree::from_bytes(&tree_bytes).map_err(|e| status("ratchet tree", e))?;
            tree.members()
                .find(|(_, l)| matches!(&l.credential, Credential::Basic { identity: i } if i == identity))
                .map(|(index, _)| index)
                .ok_or_else(|| Status::invalid_argument("arbor: no member with that identity"))
        };
        let proposal = proposal_from(
            description,
            &info.group_context.group_id,
            signer.suite.hash_len(),
            leaf,
        )?;
        let content = FramedContent {
            group_id: info.group_context.group_id.clone(),
            epoch: info.group_context.epoch,
            sender: Sender::External(r.signer_index),
            authenticated_data: Vec::new(),
            content: Content::Proposal(Box::new(proposal)),
        };
        Ok(ProposalResponse {
            proposal: sign_public(&signer.suite, &signer.private, content)?,
        })
    }

    fn free(&mut self, r: FreeRequest) -> RpcResult<FreeResponse> {
        let found = self.members.remove(&r.state_id).is_some()
            | self.transactions.remove(&r.state_id).is_some()
            | self.reinits.remove(&r.state_id).is_some()
            | self.signers.remove(&r.state_id).is_some();
        if found {
            Ok(FreeResponse {})
        } else {
            Err(Status::not_found(format!("arbor: no state {}", r.state_id)))
        }
    }
}

impl ArborEndpoint {
    /// After a ReInit commit is merged: the member's client publishes a key
    /// package for the new group and waits under a reinit id.
    fn start_reinit(&mut self, state_id: u32) -> RpcResult<HandleReInitCommitResponse> {
        let mut member = self
            .members
            .remove(&state_id)
            .ok_or_else(|| Status::not_found(format!("arbor: no group state {state_id}")))?;
        let Some(reinit) = member.group.reinitialized() else {
            let epoch = member.group.epoch();
            self.members.insert(state_id, member);
            return Err(Status::failed_precondition(format!(
                "arbor: the commit merged into epoch {epoch} did not reinitialize the group"
            )));
        };
        // The new group's key packages, signature key and clients are of
        // the ReInit's suite: a change of suite continues with a new client
        // of the same identity (§11.2).
        if reinit.cipher_suite != member.client.suite_id() {
            let identity = match member.client.credential() {
                Credential::Basic { identity } => identity.clone(),
                _ => {
                    self.members.insert(state_id, member);
                    return Err(missing_api(
                        "ReInit into another cipher suite for a non-basic credential",
                    ));
                }
            };
            let suite = reinit.cipher_suite;
            match new_client(&identity, suite) {
                Ok(client) => member.client = client.into(),
                Err(e) => {
                    self.members.insert(state_id, member);
                    return Err(e);
                }
            }
        }
        let key_package = member
            .client
            .key_package(KeyPackageOptions::default())
            .map_err(|e| status("key package", e))?;
        let epoch_authenticator = member.group.epoch_authenticator().to_vec();
        let reinit_id = self.fresh_id()?;
        self.reinits.insert(
            reinit_id,
            Reinit {
                client: member.client,
                old: member.group,
                encrypt: member.encrypt,
            },
        );
        Ok(HandleReInitCommitResponse {
            reinit_id,
            key_package,
            epoch_authenticator,
        })
    }

    /// The creator of a reinit or branch group merges its first commit and
    /// becomes a member of the new group.
    fn finish_subgroup(
        &mut self,
        client: PskClient,
        mut group: Group,
        out: arbor_mls::CommitOutput,
        external_tree: bool,
        encrypt: bool,
    ) -> RpcResult<CreateSubgroupResponse> {
        group
            .merge_pending()
            .map_err(|e| status("merge first commit", e))?;
        let ratchet_tree = if external_tree {
            group
                .ratchet_tree()
                .map_err(|e| status("ratchet tree", e))?
        } else {
            Vec::new()
        };
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        let welcome = out.welcome.unwrap_or_default();
        Ok(CreateSubgroupResponse {
            state_id: self.add_member(client, group, encrypt)?,
            welcome,
            ratchet_tree,
            epoch_authenticator,
        })
    }
}
