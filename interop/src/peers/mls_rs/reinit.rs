//! mls-rs's ReInit (RFC 9420 §11.2): after the commit, its `ReinitClient`
//! makes the key package for the new group and creates or joins it.

use mls_rs::ExtensionList;
use mls_rs::identity::SigningIdentity;
use mls_rs::{CipherSuiteProvider, CryptoProvider};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;
use tonic::Status;

use super::{Key, MlsRsEndpoint, Reinit, RpcResult, auth, bytes, err, message};
use crate::grpc::proto::*;

impl MlsRsEndpoint {
    /// After a ReInit commit is applied: mls-rs's client for the new group
    /// and its key package, under a reinit id.
    pub(super) fn start_reinit(&mut self, state_id: u32) -> RpcResult<HandleReInitCommitResponse> {
        let member = self
            .members
            .remove(&state_id)
            .ok_or_else(|| Status::not_found(format!("mls-rs: no group state {state_id}")))?;
        let epoch_authenticator = auth(&member.group)?;
        // A new suite needs a signature key of that suite (the identity
        // stays); the same suite keeps the old key.
        let mut key = member.key.clone();
        let (signer, identity) = match member.reinit_suite {
            Some(suite) if suite != member.group.cipher_suite() => {
                let provider = RustCryptoProvider::new()
                    .cipher_suite_provider(suite)
                    .ok_or_else(|| {
                        Status::unimplemented(format!("mls-rs: cipher suite {suite:?}"))
                    })?;
                let (secret, public) = provider
                    .signature_key_generate()
                    .map_err(|e| err("signature key", e))?;
                let credential = member
                    .group
                    .current_member_signing_identity()
                    .map_err(|e| err("own identity", e))?
                    .credential
                    .clone();
                let identity = SigningIdentity::new(credential, public);
                key = Key {
                    secret: secret.clone(),
                    identity: identity.clone(),
                    suite,
                };
                (Some(secret), Some(identity))
            }
            _ => (None, None),
        };
        let client = member
            .group
            .get_reinit_client(signer, identity)
            .map_err(|e| err("reinit client", e))?;
        let key_package = client
            .generate_key_package(None)
            .map_err(|e| err("reinit key package", e))?;
        let reinit_id = self.fresh_id();
        self.reinits.insert(
            reinit_id,
            Reinit {
                client,
                rules: member.rules,
                psks: member.psks,
                key,
            },
        );
        Ok(HandleReInitCommitResponse {
            reinit_id,
            key_package: bytes(&key_package)?,
            epoch_authenticator,
        })
    }

    pub(super) fn reinit_welcome(
        &mut self,
        r: ReInitWelcomeRequest,
    ) -> RpcResult<CreateSubgroupResponse> {
        let reinit = self
            .reinits
            .remove(&r.reinit_id)
            .ok_or_else(|| Status::not_found(format!("mls-rs: no reinit {}", r.reinit_id)))?;
        let mut kps = Vec::with_capacity(r.key_package.len());
        for kp in &r.key_package {
            kps.push(message(kp)?);
        }
        reinit.rules.set(|o| {
            o.path_required = r.force_path;
            o.tree_in_welcome = !r.external_tree;
        });
        let created = reinit.client.commit(kps, ExtensionList::new(), None);
        reinit.rules.set(|o| {
            o.path_required = false;
            o.tree_in_welcome = true;
        });
        let (group, welcomes) = created.map_err(|e| err("reinit group", e))?;
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
            state_id: self.add_member(group, reinit.rules, reinit.psks, reinit.key),
            welcome,
            ratchet_tree,
            epoch_authenticator,
        })
    }

    pub(super) fn join_reinit(
        &mut self,
        r: HandleReInitWelcomeRequest,
    ) -> RpcResult<JoinGroupResponse> {
        let reinit = self
            .reinits
            .remove(&r.reinit_id)
            .ok_or_else(|| Status::not_found(format!("mls-rs: no reinit {}", r.reinit_id)))?;
        let tree = if r.ratchet_tree.is_empty() {
            None
        } else {
            Some(
                mls_rs::group::ExportedTree::from_bytes(&r.ratchet_tree)
                    .map_err(|e| err("ratchet tree", e))?,
            )
        };
        let (group, _) = reinit
            .client
            .join(&message(&r.welcome)?, tree, None)
            .map_err(|e| err("join reinit group", e))?;
        let epoch_authenticator = auth(&group)?;
        Ok(JoinGroupResponse {
            state_id: self.add_member(group, reinit.rules, reinit.psks, reinit.key),
            epoch_authenticator,
        })
    }
}
