//! mls-rs as an external sender (its `ExternalClient`, RFC 9420 §12.1.8.1),
//! as a new member proposing its own Add (§12.1.8), and branching
//! (§11.3).

use mls_rs::ExtensionList;
use mls_rs::error::MlsError;
use mls_rs::extension::built_in::ExternalSendersExt;
use mls_rs::external_client::ExternalClient;
use mls_rs::group::ExportedTree;
use mls_rs::identity::SigningIdentity;
use mls_rs::identity::basic::BasicIdentityProvider;
use mls_rs::mls_rs_codec::{MlsDecode as _, MlsEncode as _};
use mls_rs::psk::ExternalPskId;
use mls_rs_crypto_rustcrypto::RustCryptoProvider;
use tonic::Status;

use super::{
    MlsRsEndpoint, RpcResult, Waiting, auth, bytes, err, extension_list, message, new_client,
    new_key, rules, suite_of,
};
use crate::grpc::proto::*;

fn tree(bytes: &[u8]) -> RpcResult<Option<ExportedTree<'static>>> {
    if bytes.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        ExportedTree::from_bytes(bytes)
            .map_err(|e| err("ratchet tree", e))?
            .into_owned(),
    ))
}

impl MlsRsEndpoint {
    pub(super) fn new_member_add(
        &mut self,
        r: NewMemberAddProposalRequest,
    ) -> RpcResult<NewMemberAddProposalResponse> {
        let info = message(&r.group_info)?;
        let suite = info
            .cipher_suite()
            .ok_or_else(|| Status::invalid_argument("mls-rs: GroupInfo without a suite"))?;
        let rules = rules(false);
        let key = new_key(&r.identity, suite)?;
        let (client, psks) = new_client(&key, rules.clone(), &self.key_packages(&r.identity));
        let proposal = client
            .external_add_proposal(
                &info,
                None,
                Vec::new(),
                ExtensionList::new(),
                ExtensionList::new(),
                None,
            )
            .map_err(|e| err("new member add proposal", e))?;
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
        Ok(NewMemberAddProposalResponse {
            transaction_id,
            proposal: bytes(&proposal)?,
            ..Default::default()
        })
    }

    pub(super) fn new_external_signer(
        &mut self,
        r: CreateExternalSignerRequest,
    ) -> RpcResult<CreateExternalSignerResponse> {
        let key = new_key(&r.identity, suite_of(r.cipher_suite)?)?;
        // An ExternalSender (§12.1.8.1) is encoded as a SigningIdentity:
        // signature key, then credential.
        let external_sender = key
            .identity
            .mls_encode_to_vec()
            .map_err(|e| err("encode external sender", e))?;
        let signer_id = self.fresh_id();
        self.signers.insert(signer_id, key);
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
        let sender = SigningIdentity::mls_decode(&mut r.external_sender.as_slice())
            .map_err(|e| err("external sender", e))?;
        let group = &mut self.member(r.state_id)?.group;
        let mut list = group.context().extensions.clone();
        let mut senders = list
            .get_as::<ExternalSendersExt>()
            .map_err(|e| err("external_senders extension", e))?
            .map(|e| e.allowed_senders)
            .unwrap_or_default();
        senders.push(sender);
        list.set_from(ExternalSendersExt::new(senders))
            .map_err(|e| err("external_senders extension", e))?;
        let p = group
            .propose_group_context_extensions(list, Vec::new())
            .map_err(|e| err("group context extensions proposal", e))?;
        Ok(ProposalResponse {
            proposal: bytes(&p)?,
        })
    }

    /// mls-rs's ExternalClient observes the group from its GroupInfo and
    /// signs the described proposal; it finds its own index in
    /// external_senders by its signing identity.
    pub(super) fn propose_as_external_signer(
        &mut self,
        r: ExternalSignerProposalRequest,
    ) -> RpcResult<ProposalResponse> {
        let key = self
            .signers
            .get(&r.signer_id)
            .ok_or_else(|| Status::not_found(format!("mls-rs: no signer {}", r.signer_id)))?;
        let d = r
            .description
            .as_ref()
            .ok_or_else(|| Status::invalid_argument("mls-rs: missing proposal description"))?;
        let client = ExternalClient::builder()
            .crypto_provider(RustCryptoProvider::new())
            .identity_provider(BasicIdentityProvider::new())
            .signer(key.secret.clone(), key.identity.clone())
            .build();
        let mut group = client
            .observe_group(message(&r.group_info)?, tree(&r.ratchet_tree)?, None)
            .map_err(|e| err("observe group", e))?;
        let p = match d.proposal_type.as_slice() {
            b"add" => group.propose_add(message(&d.key_package)?, Vec::new()),
            b"remove" => {
                let leaf = group
                    .roster()
                    .members()
                    .into_iter()
                    .find(|m| {
                        m.signing_identity
                            .credential
                            .as_basic()
                            .is_some_and(|b| b.identifier() == d.removed_id)
                    })
                    .map(|m| m.index)
                    .ok_or_else(|| {
                        Status::invalid_argument("mls-rs: no member with that identity")
                    })?;
                group.propose_remove(leaf, Vec::new())
            }
            b"externalPSK" => {
                group.propose_external_psk(ExternalPskId::new(d.psk_id.clone()), Vec::new())
            }
            b"resumptionPSK" => group.propose_resumption_psk(d.epoch_id, Vec::new()),
            b"groupContextExtensions" => {
                group.propose_group_context_extensions(extension_list(&d.extensions)?, Vec::new())
            }
            b"reinit" => group.propose_reinit(
                Some(d.group_id.clone()),
                mls_rs::ProtocolVersion::MLS_10,
                suite_of(d.cipher_suite)?,
                extension_list(&d.extensions)?,
                Vec::new(),
            ),
            other => {
                return Err(Status::invalid_argument(format!(
                    "mls-rs: unknown proposal type {:?}",
                    String::from_utf8_lossy(other)
                )));
            }
        }
        .map_err(|e| err("external proposal", e))?;
        Ok(ProposalResponse {
            proposal: bytes(&p)?,
        })
    }

    pub(super) fn branch(&mut self, r: CreateBranchRequest) -> RpcResult<CreateSubgroupResponse> {
        if !r.extensions.is_empty() {
            // Group::branch copies the parent's group context extensions and
            // takes no others.
            return Err(Status::unimplemented(
                "mls-rs 0.57: no API to give a branch its own group context extensions \
                 (checked: Group::branch(sub_group_id, new_key_packages, timestamp) copies the \
                 parent's)",
            ));
        }
        let mut kps = Vec::with_capacity(r.key_packages.len());
        for kp in &r.key_packages {
            kps.push(message(kp)?);
        }
        let member = self.member(r.state_id)?;
        member.rules.set(|o| {
            o.path_required = r.force_path;
            o.tree_in_welcome = !r.external_tree;
        });
        let created = member.group.branch(r.group_id, kps, None);
        member.rules.set(|o| {
            o.path_required = false;
            o.tree_in_welcome = true;
        });
        let (group, welcomes) = created.map_err(|e| err("branch", e))?;
        let (rules, psks, key) = (
            member.rules.clone(),
            member.psks.clone(),
            member.key.clone(),
        );
        let welcome = match welcomes.first() {
            Some(w) => bytes(w)?,
            None => Vec::new(),
        };
        let ratchet_tree = if r.external_tree {
            group
                .export_tree()
                .to_bytes()
                .map_err(|e| err("ratchet tree", e))?
        } else {
            Vec::new()
        };
        let epoch_authenticator = auth(&group)?;
        Ok(CreateSubgroupResponse {
            state_id: self.add_member(group, rules, psks, key),
            welcome,
            ratchet_tree,
            epoch_authenticator,
        })
    }

    pub(super) fn join_branch(
        &mut self,
        r: HandleBranchRequest,
    ) -> RpcResult<HandleBranchResponse> {
        // The key package is in the endpoint's shared store, where the
        // parent group's join_subgroup finds it.
        self.transactions.remove(&r.transaction_id).ok_or_else(|| {
            Status::not_found(format!("mls-rs: no transaction {}", r.transaction_id))
        })?;
        let member = self.member(r.state_id)?;
        let (group, _) = member
            .group
            .join_subgroup(&message(&r.welcome)?, tree(&r.ratchet_tree)?, None)
            .map_err(|e| match e {
                // RFC 9420 §11.3 lists what a branch's joiner checks
                // (version, suite, epoch 1, matching leaves); equal group
                // context extensions are not among them.
                MlsError::ReInitExtensionsMismatch => Status::unimplemented(
                    "mls-rs 0.57: join_subgroup rejects a branch whose group context extensions \
                     differ from the parent's (ReInitExtensionsMismatch), a check RFC 9420 \
                     §11.3 does not make",
                ),
                e => err("join branch", e),
            })?;
        let (rules, psks, key) = (
            member.rules.clone(),
            member.psks.clone(),
            member.key.clone(),
        );
        let epoch_authenticator = auth(&group)?;
        Ok(HandleBranchResponse {
            state_id: self.add_member(group, rules, psks, key),
            epoch_authenticator,
        })
    }
}
