//! The authentication service hook (§5.3.1), run inside the receive and
//! commit pipelines: a credential the application refuses never reaches the
//! proposal cache, a staged commit or a joined tree.

use std::collections::HashSet;
use std::sync::Arc;

use crate::codec::encode;
use crate::crypto::SignaturePublicKey;
use crate::crypto::credential::{Credential, CredentialType};
use crate::crypto::multi_credential::MULTI_CREDENTIAL_RULE;
use crate::framing::Sender;
use crate::group::app_data_rules::AppComponents;
use crate::group::proposal_rules::ProposalWithSender;
use crate::messages::proposals::Proposal;
use crate::schedule::GroupContext;
use crate::tree::ratchet_tree::RatchetTree;
pub use crate::types::DeviceIdentity;
use crate::types::Extension;
pub use crate::types::credential_validation::{
    BindingPosition, CredentialUse, Rejection, ValidationContext,
};
use crate::types::extensions::{ExtensionType, ExternalSender, decode_extension};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// The application's authentication service (§5.3.1).
///
/// The engine calls it wherever the RFC requires a credential to be
/// validated, before it caches, stages or adopts anything: a refusal makes
/// the message (or join) fail with [`Error::Rejected`] and leaves the group
/// unchanged. Implementations must be deterministic across members, or
/// members that disagree will refuse each other's commits.
pub trait CredentialValidator: Send + Sync {
    /// Whether `credential` with `signature_key` is acceptable for `cx`.
    fn validate(
        &self,
        cx: &ValidationContext<'_>,
        credential: &Credential,
        signature_key: &SignaturePublicKey,
    ) -> Result<(), Rejection>;

    /// Whether `new` is a valid successor of `old` for the same member
    /// (§5.3.1: an Update or commit path that replaces a credential).
    /// Called only when the credential changes. Default: [`same_device`].
    fn validate_successor(
        &self,
        cx: &ValidationContext<'_>,
        old: &Credential,
        new: &Credential,
    ) -> Result<(), Rejection> {
        let _ = cx;
        same_device(old, new)
    }

    /// Whether an external joiner presenting `joiner` may remove the leaf
    /// holding `removed` (§12.4.3.2: only "an old version of themselves").
    /// Default: [`same_device`], so a new device of a user cannot remove
    /// the user's other devices.
    fn validate_external_removal(
        &self,
        cx: &ValidationContext<'_>,
        removed: &Credential,
        joiner: &Credential,
    ) -> Result<(), Rejection> {
        let _ = cx;
        same_device(removed, joiner)
    }
}

/// The identity rule before devices had names, kept for validators built
/// on it: two basic credentials are the same identity when their identity
/// bytes are equal; other credential types only when the credentials are
/// equal. The default hooks use [`same_device`], which also lets a renewed
/// certificate of the same device succeed the old one.
pub fn same_identity(old: &Credential, new: &Credential) -> Result<(), Rejection> {
    let same = match (old, new) {
        (Credential::Basic { identity: a }, Credential::Basic { identity: b }) => a == b,
        (a, b) => a == b,
    };
    if same {
        Ok(())
    } else {
        Err(Rejection::new(
            "the new credential does not present the same identity as the old one",
        ))
    }
}

/// The default device rule (§5.3.1, §12.4.3.2): `new` may stand for `old`
/// only when both are of one credential type and present the same user
/// and the same device ([`DeviceIdentity`]). A renewed X.509 certificate
/// thus succeeds its predecessor when both name the same `mls-device:`
/// URI (the chain itself is checked by [`CredentialValidator::validate`]
/// first). Credentials that name no device (X.509 without a device URI,
/// other types) must be equal. A plain basic identity is its user's one
/// unnamed device: two devices sharing a plain identity cannot be told
/// apart, so give each its own [`DeviceIdentity`].
pub fn same_device(old: &Credential, new: &Credential) -> Result<(), Rejection> {
    if old.credential_type() != new.credential_type() {
        return Err(Rejection::new(format!(
            "the credential type changes from {:?} to {:?}",
            old.credential_type(),
            new.credential_type()
        )));
    }
    match (
        DeviceIdentity::of_credential(old)?,
        DeviceIdentity::of_credential(new)?,
    ) {
        (Some(a), Some(b)) if a == b => Ok(()),
        (Some(a), Some(b)) if a.user() == b.user() => Err(Rejection::new(
            "the new credential is another device of the same user, not this device",
        )),
        (Some(_), Some(_)) => Err(Rejection::new(
            "the new credential presents another user than the old one",
        )),
        (None, None) => same_identity(old, new),
        _ => Err(Rejection::new(
            "one credential names a device and the other does not",
        )),
    }
}

/// The default validator: basic credentials are accepted as they are (the
/// application binds identities elsewhere), unless their identity is a
/// malformed `mls-device:` URI ([`DeviceIdentity`]); other types are
/// rejected. Successor and external-removal decisions use [`same_device`].
#[derive(Debug, Default, Clone, Copy)]
pub struct AcceptBasic;

impl CredentialValidator for AcceptBasic {
    fn validate(
        &self,
        _cx: &ValidationContext<'_>,
        credential: &Credential,
        _signature_key: &SignaturePublicKey,
    ) -> Result<(), Rejection> {
        match credential {
            Credential::Basic { identity } => DeviceIdentity::from_identity(identity).map(|_| ()),
            other => Err(Rejection::new(format!(
                "credential type {:?} needs an application validator",
                other.credential_type()
            ))),
        }
    }
}

/// The validator a group state holds, with the calls the engine makes,
/// and the application's component logic (draft-ietf-mls-extensions), if
/// any.
#[derive(Clone)]
pub struct Authority(Arc<dyn CredentialValidator>, Option<Arc<dyn AppComponents>>);

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authority(dyn CredentialValidator)")
    }
}

impl Default for Authority {
    fn default() -> Self {
        Self(Arc::new(AcceptBasic), None)
    }
}

impl Authority {
    /// Wraps the application's validator.
    pub fn new(validator: Arc<dyn CredentialValidator>) -> Self {
        Self(validator, None)
    }

    /// With the application's component logic, which decides on the
    /// AppDataUpdate and AppEphemeral proposals (draft-ietf-mls-extensions).
    /// Without it, the application knows no component and every such
    /// proposal is invalid.
    pub fn with_app_components(mut self, app: Option<Arc<dyn AppComponents>>) -> Self {
        self.1 = app;
        self
    }

    /// The application's component logic, if registered.
    pub fn app_components(&self) -> Option<&dyn AppComponents> {
        self.1.as_deref()
    }

    /// §5.3.1: `credential` must be validated with the AS.
    ///
    /// A multi-credential (draft-ietf-mls-extensions) is not shown as a
    /// whole: each bound credential is, with its `credential_key` and
    /// [`ValidationContext::binding`] set ("The `credential` is valid
    /// according to the MLS Authentication Service"; the validator also
    /// decides whether `credential_key` corresponds to it).
    pub fn check(
        &self,
        cx: ValidationContext<'_>,
        credential: &Credential,
        signature_key: &SignaturePublicKey,
    ) -> Result<()> {
        let Some(bindings) = credential.bindings() else {
            return self
                .0
                .validate(&cx, credential, signature_key)
                .map_err(|rejection| Error::rejected("§5.3.1", &cx, rejection));
        };
        let bindings = bindings.map_err(|e| {
            Error::protocol(
                MULTI_CREDENTIAL_RULE,
                format!("malformed multi-credential: {e}"),
            )
        })?;
        let weak = credential.credential_type() == CredentialType::WEAK_MULTI;
        for (index, b) in bindings.iter().enumerate() {
            let cx = ValidationContext {
                binding: Some(BindingPosition {
                    index,
                    cipher_suite: b.cipher_suite,
                    weak,
                }),
                ..cx
            };
            self.0
                .validate(&cx, &b.credential, &b.credential_key)
                .map_err(|rejection| Error::rejected(MULTI_CREDENTIAL_RULE, &cx, rejection))?;
        }
        Ok(())
    }

    /// §5.3.1: a replaced credential must be a valid successor of the old.
    pub fn check_successor(
        &self,
        cx: ValidationContext<'_>,
        old: &Credential,
        new: &Credential,
    ) -> Result<()> {
        if old == new {
            return Ok(());
        }
        self.0
            .validate_successor(&cx, old, new)
            .map_err(|rejection| Error::rejected("§5.3.1", &cx, rejection))
    }

    /// §12.4.3.2: an external commit removes only the joiner's old leaf.
    pub fn check_external_removal(
        &self,
        cx: ValidationContext<'_>,
        removed: &Credential,
        joiner: &Credential,
    ) -> Result<()> {
        self.0
            .validate_external_removal(&cx, removed, joiner)
            .map_err(|rejection| Error::rejected("§12.4.3.2", &cx, rejection))
    }
}

/// A credential with the signature key it comes with.
pub type NewCredential<'a> = (&'a Credential, &'a SignaturePublicKey);

/// The group a decision is made in, and the tree its current members are
/// read from.
pub struct Scope<'a> {
    /// The validator.
    pub authority: &'a Authority,
    /// The group's context before the message takes effect.
    pub context: &'a GroupContext,
    /// The tree before the message takes effect.
    pub tree: &'a RatchetTree,
}

impl Scope<'_> {
    fn cx(&self, purpose: CredentialUse, leaf: Option<LeafIndex>) -> ValidationContext<'_> {
        ValidationContext {
            purpose,
            group_id: &self.context.group_id,
            epoch: self.context.epoch,
            leaf,
            binding: None,
        }
    }

    /// §5.3.1: every member of a tree being joined.
    pub fn tree_import(&self) -> Result<()> {
        for (leaf, node) in self.tree.members() {
            self.authority.check(
                self.cx(CredentialUse::TreeImport, Some(leaf)),
                &node.credential,
                &node.signature_key,
            )?;
        }
        Ok(())
    }

    /// §5.3.1: the credentials a proposal introduces, and the external
    /// sender that sent it.
    pub fn proposal(&self, sender: &Sender, proposal: &Proposal) -> Result<()> {
        if let Sender::External(i) = sender {
            let senders = external_senders(&self.context.extensions)?;
            if let Some(s) = senders.get(*i as usize) {
                self.authority.check(
                    self.cx(CredentialUse::ExternalSender, Some(LeafIndex(*i))),
                    &s.credential,
                    &s.signature_key,
                )?;
            }
        }
        match proposal {
            Proposal::Add(add) => {
                let leaf = &add.key_package.leaf_node;
                self.authority.check(
                    self.cx(CredentialUse::Add, None),
                    &leaf.credential,
                    &leaf.signature_key,
                )
            }
            Proposal::Update(update) => {
                let Sender::Member(l) = sender else {
                    return Ok(()); // §12.1.2 rejects it with its own rule
                };
                let new = &update.leaf_node;
                self.replacement(
                    CredentialUse::Update,
                    *l,
                    (&new.credential, &new.signature_key),
                )
            }
            Proposal::GroupContextExtensions(gce) => {
                // §5.3.1: an added or updated external_senders extension.
                // Compared by encoding through a set: both lists come from
                // the wire, and a pairwise scan would be quadratic.
                let old: HashSet<Vec<u8>> = external_senders(&self.context.extensions)?
                    .iter()
                    .map(encode)
                    .collect::<Result<_, _>>()?;
                for (i, s) in external_senders(&gce.extensions)?.iter().enumerate() {
                    if !old.contains(&encode(s)?) {
                        self.authority.check(
                            self.cx(CredentialUse::ExternalSender, Some(LeafIndex(i as u32))),
                            &s.credential,
                            &s.signature_key,
                        )?;
                    }
                }
                Ok(())
            }
            // No credential to validate.
            Proposal::Remove(_)
            | Proposal::SelfRemove(_)
            | Proposal::AppDataUpdate(_)
            | Proposal::AppEphemeral(_)
            | Proposal::PreSharedKey(_)
            | Proposal::ReInit(_)
            | Proposal::ExternalInit(_)
            | Proposal::Custom { .. } => Ok(()),
        }
    }

    /// §5.3.1: the leaf that replaces member `leaf`'s, and its succession.
    pub fn replacement(
        &self,
        purpose: CredentialUse,
        leaf: LeafIndex,
        (credential, signature_key): NewCredential<'_>,
    ) -> Result<()> {
        self.authority
            .check(self.cx(purpose, Some(leaf)), credential, signature_key)?;
        if let Some(old) = self.tree.leaf(leaf) {
            self.authority.check_successor(
                self.cx(purpose, Some(leaf)),
                &old.credential,
                credential,
            )?;
        }
        Ok(())
    }

    /// §5.3.1 and §12.4.3.2 for a whole commit: every proposal it covers,
    /// the committer's new leaf, and for an external commit the joiner and
    /// the one leaf it may remove (its own old one).
    pub fn commit(
        &self,
        committer: Option<LeafIndex>,
        list: &[ProposalWithSender],
        path_leaf: Option<NewCredential<'_>>,
    ) -> Result<()> {
        for p in list {
            self.proposal(&p.sender, &p.proposal)?;
        }
        match (committer, path_leaf) {
            (Some(leaf), Some(new)) => self.replacement(CredentialUse::CommitPath, leaf, new),
            (None, Some((joiner, joiner_key))) => {
                self.authority.check(
                    self.cx(CredentialUse::ExternalJoin, None),
                    joiner,
                    joiner_key,
                )?;
                for p in list {
                    if let Proposal::Remove(r) = &p.proposal
                        && let Some(old) = self.tree.leaf(r.removed)
                    {
                        self.authority.check_external_removal(
                            self.cx(CredentialUse::ExternalJoin, Some(r.removed)),
                            &old.credential,
                            joiner,
                        )?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn external_senders(extensions: &[Extension]) -> Result<Vec<ExternalSender>> {
    Ok(decode_extension(
        extensions,
        ExtensionType::EXTERNAL_SENDERS,
        "external_senders",
    )?
    .unwrap_or_default())
}
