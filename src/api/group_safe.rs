//! The Safe Application Interface of draft-ietf-mls-extensions on a group:
//! the forward-secure safe exporter and the component-labelled signatures
//! and HPKE encryption with the members' keys. Every operation names the
//! [`ComponentId`] of the application component performing it.

use crate::api::group::Group;
use crate::crypto::component::ComponentId;
use crate::crypto::{HpkePublicKey, Secret};
use crate::types::app_data::{AppDataDictionary, SafeAad, SafeAadItem};
use crate::types::extensions::{ExtensionType, decode_extension};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

impl Group {
    /// `SafeExportSecret(component_id)` (draft-ietf-mls-extensions,
    /// "Exported Secrets"): the secret of the component's leaf in this
    /// epoch's Exporter Tree, `KDF.Nh` bytes, rooted at the
    /// `application_export_secret` of the key schedule. Every member gets
    /// the same value in the same epoch. It is consumed: the draft requires
    /// deleting its source material, so a second call for the same
    /// component in the epoch fails with [`Error::Misuse`]. Derive what the
    /// component needs (keys, labels, contexts) from it.
    ///
    /// The Exporter Tree is kept in memory only: in an epoch loaded from
    /// storage (after a restart) the safe exporter is unavailable
    /// ([`Error::Misuse`]) until the next epoch.
    pub fn safe_export_secret(&mut self, component_id: ComponentId) -> Result<Secret> {
        let suite = self.state.suite.clone();
        let tree = self.state.epoch.safe_exporter.as_mut().ok_or_else(|| {
            Error::Misuse(
                "the safe exporter of this epoch is not available: it is kept in memory only, \
                 and this epoch was loaded from storage; it returns with the next epoch"
                    .into(),
            )
        })?;
        tree.take(&suite, component_id)
    }

    /// `SafeSignWithLabel` with our own signature key: `content` signed
    /// for `component_id` under `label`. Sign only as the component that
    /// calls this (the draft: "ComponentID MUST be set to the ComponentID
    /// of the component performing the signature").
    pub fn safe_sign(
        &self,
        component_id: ComponentId,
        label: &[u8],
        content: &[u8],
    ) -> Result<Vec<u8>> {
        Ok(self
            .state
            .suite
            .safe_sign_with_label(&self.signer, component_id, label, content)?)
    }

    /// `SafeVerifyWithLabel` with the signature key of the member at
    /// `signer` in the current epoch.
    pub fn safe_verify(
        &self,
        signer: LeafIndex,
        component_id: ComponentId,
        label: &[u8],
        content: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let leaf = self.state.tree().leaf(signer).ok_or_else(|| {
            Error::Misuse(format!("leaf {} is not a member of the group", signer.0))
        })?;
        self.state
            .suite
            .safe_verify_with_label(&leaf.signature_key, component_id, label, content, signature)
            .map_err(|_| {
                Error::protocol(
                    "mls-extensions: Signature Keys",
                    format!(
                        "the safe signature of leaf {} for component {component_id:#06x} does \
                         not verify",
                        signer.0
                    ),
                )
            })
    }

    /// `SafeEncryptWithLabel` to the leaf HPKE key of the member at `to`,
    /// which only that member can decrypt ([`Self::safe_decrypt`]) while it
    /// keeps this leaf key. Returns `(kem_output, ciphertext)`.
    pub fn safe_encrypt_to_member(
        &mut self,
        to: LeafIndex,
        component_id: ComponentId,
        label: &[u8],
        context: &[u8],
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let key: HpkePublicKey = self
            .state
            .tree()
            .leaf(to)
            .ok_or_else(|| Error::Misuse(format!("leaf {} is not a member of the group", to.0)))?
            .encryption_key
            .clone();
        Ok(self.state.suite.safe_encrypt_with_label(
            &key,
            component_id,
            label,
            context,
            plaintext,
            &mut *self.rng,
        )?)
    }

    /// `SafeDecryptWithLabel` with our own leaf's HPKE private key.
    pub fn safe_decrypt(
        &self,
        component_id: ComponentId,
        label: &[u8],
        context: &[u8],
        kem_output: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret> {
        let own = self.own_leaf();
        let node = own
            .node()
            .ok_or(Error::Internal("own leaf outside the tree"))?;
        let key = self
            .state
            .epoch
            .private
            .key(node)
            .ok_or(Error::Internal("own leaf key missing"))?;
        self.state
            .suite
            .safe_decrypt_with_label(key, component_id, label, context, kem_output, ciphertext)
            .map_err(|_| {
                Error::protocol(
                    "mls-extensions: HPKE Keys",
                    format!(
                        "the ciphertext does not decrypt for component {component_id:#06x} with \
                         this label and context"
                    ),
                )
            })
    }

    /// Proposes injecting the PSK `psk_id` of application component
    /// `component_id` (draft-ietf-mls-extensions, PSKType `application`)
    /// into the next epoch, with a fresh `KDF.Nh` nonce. The PSK must be
    /// registered with the client ([`Client::add_application_psk`]), and
    /// every member must hold it to process the commit that covers it.
    ///
    /// [`Client::add_application_psk`]: crate::api::Client::add_application_psk
    pub fn propose_application_psk(
        &mut self,
        component_id: ComponentId,
        psk_id: Vec<u8>,
    ) -> Result<Vec<u8>> {
        use crate::group::psk_store::PskStore;
        if self.psks.application(component_id, &psk_id).is_none() {
            return Err(Error::Misuse(format!(
                "no PSK of component {component_id:#06x} with this id is registered with the \
                 client"
            )));
        }
        let psk_nonce = self.psk_nonce()?;
        self.propose(crate::messages::proposals::Proposal::PreSharedKey(
            crate::messages::proposals::PreSharedKey {
                psk: crate::schedule::PreSharedKeyId {
                    psk: crate::schedule::Psk::Application {
                        component_id,
                        psk_id,
                    },
                    psk_nonce,
                },
            },
        ))
    }

    /// The `app_data_dictionary` extension of the GroupContext
    /// (draft-ietf-mls-extensions), if the group has one.
    pub fn app_data_dictionary(&self) -> Result<Option<AppDataDictionary>> {
        decode_extension(
            &self.state.context().extensions,
            ExtensionType::APP_DATA_DICTIONARY,
            "app_data_dictionary",
        )
    }

    /// Whether the group uses Safe AAD: its GroupContext has the `safe_aad`
    /// component in `app_data_dictionary` (even with an empty list), so
    /// the library frames (and checks) every message's `authenticated_data`
    /// as a [`SafeAad`] (draft-ietf-mls-extensions, "Safe AAD").
    pub fn uses_safe_aad(&self) -> Result<bool> {
        Ok(self.app_data_dictionary()?.is_some_and(|d| {
            d.get(crate::crypto::component::component_ids::SAFE_AAD)
                .is_some()
        }))
    }

    /// The `authenticated_data` this group sends for `requested`: Safe AAD
    /// framing and its checks (`safe_aad_rules::frame_outgoing`) against
    /// the current epoch, whose GroupContext receivers hold the message to.
    pub(crate) fn framed_aad(&self, requested: &[u8]) -> Result<Vec<u8>> {
        crate::group::safe_aad_rules::frame_outgoing(
            Some(self.state.tree()),
            &self.state.context().extensions,
            requested,
        )
    }

    /// The Safe AAD components this group requires (the GroupContext's
    /// `safe_aad` list), or `None` if it does not use Safe AAD.
    pub fn required_safe_aad_components(&self) -> Result<Option<Vec<ComponentId>>> {
        crate::group::safe_aad_rules::required_components(&self.state.context().extensions)
    }

    /// [`Self::encrypt`] with `items` framed as the `SafeAAD` of the
    /// message's `authenticated_data` (draft-ietf-mls-extensions, "Safe
    /// AAD"). Refused ([`Error::Misuse`]) if the group does not use Safe
    /// AAD, if the items are not sorted by component id with one per id,
    /// or if an item's component is neither required by the group nor
    /// supported by every member.
    pub fn encrypt_with_safe_aad(
        &mut self,
        items: Vec<SafeAadItem>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let aad = self.safe_aad_bytes(items)?;
        self.encrypt(plaintext, &aad)
    }

    /// Sets the authenticated data of the next proposal or commit this
    /// group sends to `items` framed as a `SafeAAD`, with the checks of
    /// [`Self::encrypt_with_safe_aad`] (and stored the way
    /// [`Self::set_authenticated_data`] stores it).
    pub fn set_safe_aad(&mut self, items: Vec<SafeAadItem>) -> Result<()> {
        let aad = self.safe_aad_bytes(items)?;
        self.set_authenticated_data(aad)
    }

    /// The `SafeAAD` of a received message's `authenticated_data` (as
    /// [`Event::Application`](crate::Event::Application) carries it), or
    /// `None` if this group does not use Safe AAD. Messages of the current
    /// epoch reach the application only when it parses
    /// ([`Self::process`] refuses the others).
    pub fn received_safe_aad(&self, authenticated_data: &[u8]) -> Result<Option<SafeAad>> {
        crate::group::safe_aad_rules::check_received(
            &self.state.context().extensions,
            authenticated_data,
        )
    }

    fn safe_aad_bytes(&self, items: Vec<SafeAadItem>) -> Result<Vec<u8>> {
        if self.required_safe_aad_components()?.is_none() {
            return Err(Error::Misuse(
                "this group does not use Safe AAD: its GroupContext has no safe_aad component"
                    .into(),
            ));
        }
        let bytes = SafeAad::new(items)?.to_bytes()?;
        self.framed_aad(&bytes)
    }
}
