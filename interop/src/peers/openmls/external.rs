//! openmls as an external sender (`ExternalProposal`, RFC 9420 §12.1.8.1)
//! and as a new member proposing its own Add (`JoinProposal`, §12.1.8),
//! and the reasons openmls 0.9 cannot play ReInit (§11.2) or branch
//! (§11.3).

use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_rust_crypto::OpenMlsRustCrypto;
use tonic::Status;

use super::{OpenMlsEndpoint, Party, RpcResult, err, extensions, key_package, message_in, out};
use crate::grpc::proto::*;

type Storage = <OpenMlsRustCrypto as OpenMlsProvider>::StorageProvider;

pub(super) fn no_reinit() -> Status {
    Status::unimplemented(
        "openmls 0.9: no ReInit API (checked: MlsGroup::propose_* and Propose have no ReInit, \
         ReInitProposal has no public constructor, and nothing creates or joins the group a \
         committed ReInit calls for)",
    )
}

pub(super) fn no_branch() -> Status {
    Status::unimplemented(
        "openmls 0.9: no API to create or join a branch (checked: MlsGroupBuilder takes no PSK \
         ids, PSK proposals accept only application resumption PSKs, and StagedWelcome looks \
         resumption PSKs up only in the new group's own store)",
    )
}

fn group_info(bytes: &[u8]) -> RpcResult<VerifiableGroupInfo> {
    match message_in(bytes)?.extract() {
        MlsMessageBodyIn::GroupInfo(info) => Ok(info),
        _ => Err(Status::invalid_argument("openmls: expected a GroupInfo")),
    }
}

impl OpenMlsEndpoint {
    pub(super) fn new_member_add(
        &mut self,
        r: NewMemberAddProposalRequest,
    ) -> RpcResult<NewMemberAddProposalResponse> {
        let info = group_info(&r.group_info)?;
        let party = Party::new(&r.identity, u32::from(u16::from(info.ciphersuite())))?;
        let bundle = KeyPackage::builder()
            .build(
                party.suite,
                &party.provider,
                &party.signer,
                party.credential.clone(),
            )
            .map_err(|e| err("key package", e))?;
        let proposal = JoinProposal::new::<Storage>(
            bundle.key_package().clone(),
            info.group_id().clone(),
            info.epoch(),
            &party.signer,
        )
        .map_err(|e| err("new member add proposal", e))?;
        let transaction_id = self.fresh_id();
        self.transactions.insert(transaction_id, party);
        Ok(NewMemberAddProposalResponse {
            transaction_id,
            proposal: out(&proposal)?,
            ..Default::default()
        })
    }

    pub(super) fn new_external_signer(
        &mut self,
        r: CreateExternalSignerRequest,
    ) -> RpcResult<CreateExternalSignerResponse> {
        let party = Party::new(&r.identity, r.cipher_suite)?;
        let external_sender = ExternalSender::new(
            party.credential.signature_key.clone(),
            party.credential.credential.clone(),
        )
        .tls_serialize_detached()
        .map_err(|e| err("encode external sender", e))?;
        let signer_id = self.fresh_id();
        self.signers.insert(signer_id, party);
        Ok(CreateExternalSignerResponse {
            signer_id,
            external_sender,
        })
    }

    /// A GroupContextExtensions proposal keeping every extension and adding
    /// the sender to external_senders.
    pub(super) fn propose_external_signer(
        &mut self,
        r: AddExternalSignerRequest,
    ) -> RpcResult<ProposalResponse> {
        let sender = ExternalSender::tls_deserialize_exact(&r.external_sender)
            .map_err(|e| err("external sender", e))?;
        let m = self.member(r.state_id)?;
        let mut list = m.group.extensions().clone();
        let mut senders = list.external_senders().cloned().unwrap_or_default();
        senders.push(sender);
        list.add_or_replace(openmls::prelude::Extension::ExternalSenders(senders))
            .map_err(|e| err("external_senders extension", e))?;
        let (msg, _) = m
            .group
            .propose_group_context_extensions(&m.party.provider, list, &m.party.signer)
            .map_err(|e| err("group context extensions proposal", e))?;
        m.proposal(msg)
    }

    pub(super) fn propose_as_external_signer(
        &mut self,
        r: ExternalSignerProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let party = self
            .signers
            .get(&r.signer_id)
            .ok_or_else(|| Status::not_found(format!("openmls: no signer {}", r.signer_id)))?;
        let d = r
            .description
            .as_ref()
            .ok_or_else(|| Status::invalid_argument("openmls: missing proposal description"))?;
        let info = group_info(&r.group_info)?;
        let (group_id, epoch) = (info.group_id().clone(), info.epoch());
        let index = SenderExtensionIndex::new(r.signer_index);
        let signer = &party.signer;
        let msg = match d.proposal_type.as_slice() {
            b"add" => ExternalProposal::new_add::<OpenMlsRustCrypto>(
                key_package(party, &d.key_package)?,
                group_id,
                epoch,
                signer,
                index,
            )
            .map_err(|e| err("external add proposal", e))?,
            b"remove" => {
                // openmls reads no tree outside a group: the leaf is found
                // with arbor's decoder of the same GroupInfo and tree.
                let leaf =
                    crate::grpc::arbor::prior_leaf(&r.group_info, &r.ratchet_tree, &d.removed_id)?;
                ExternalProposal::new_remove::<OpenMlsRustCrypto>(
                    LeafNodeIndex::new(leaf),
                    group_id,
                    epoch,
                    signer,
                    index,
                )
                .map_err(|e| err("external remove proposal", e))?
            }
            b"groupContextExtensions" => {
                ExternalProposal::new_group_context_extensions::<OpenMlsRustCrypto>(
                    extensions(&d.extensions)?,
                    group_id,
                    epoch,
                    signer,
                    index,
                )
                .map_err(|e| err("external group context extensions proposal", e))?
            }
            other => {
                return Err(Status::unimplemented(format!(
                    "openmls 0.9: no API to sign a {:?} proposal as an external sender \
                     (checked: ExternalProposal's only constructors are new_add, new_remove and \
                     new_group_context_extensions)",
                    String::from_utf8_lossy(other)
                )));
            }
        };
        Ok(ProposalResponse {
            proposal: out(&msg)?,
        })
    }
}
