//! Proposals (§12.1): wire forms.

use crate::codec::{
    Decode, DecodeError, Encode, Reader, Writer, bad_tag, field, tag_u8, wire_struct,
};
use crate::crypto::CipherSuite;
use crate::messages::app_data_proposals::{AppDataUpdate, AppEphemeral};
use crate::messages::key_package::KeyPackageData;
use crate::schedule::PreSharedKeyId;
use crate::tree::leaf_node::LeafNode;
use crate::types::Extension;
use crate::types::ProposalType;
use crate::types::ProtocolVersion;
use crate::types::math::LeafIndex;

wire_struct! {
    /// `Add` (§12.1.1).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Add {
        /// The new member's key package.
        pub key_package: KeyPackageData,
    }
}

wire_struct! {
    /// `Update` (§12.1.2).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Update {
        /// The sender's new leaf node.
        pub leaf_node: LeafNode,
    }
}

wire_struct! {
    /// `Remove` (§12.1.3).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Remove {
        /// Leaf to remove.
        pub removed: LeafIndex,
    }
}

wire_struct! {
    /// `PreSharedKey` (§12.1.4).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PreSharedKey {
        /// The PSK to inject.
        pub psk: PreSharedKeyId,
    }
}

wire_struct! {
    /// `ReInit` (§12.1.5).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ReInit {
        /// Group id of the new group.
        pub group_id: Vec<u8>,
        /// Protocol version of the new group.
        pub version: ProtocolVersion,
        /// Cipher suite of the new group.
        pub cipher_suite: CipherSuite,
        /// Group context extensions of the new group.
        pub extensions: Vec<Extension>,
    }
}

wire_struct! {
    /// `ExternalInit` (§12.1.6).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ExternalInit {
        /// KEM output toward the group's external public key.
        pub kem_output: Vec<u8>,
    }
}

wire_struct! {
    /// `GroupContextExtensions` (§12.1.7).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct GroupContextExtensions {
        /// The complete new list of group context extensions.
        pub extensions: Vec<Extension>,
    }
}

wire_struct! {
    /// `SelfRemove` (draft-ietf-mls-extensions, "SelfRemove Proposal"): an
    /// empty struct. The member to remove is the proposal's sender.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct SelfRemove {}
}

/// `Proposal` (§12.1).
///
/// Proposal types this library does not know carry their body as
/// `opaque<V>`, the convention of the MLS extensions framework for custom
/// proposals, so they decode and re-encode unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposal {
    /// Add a member.
    Add(Add),
    /// Replace the sender's leaf.
    Update(Update),
    /// Remove a member.
    Remove(Remove),
    /// Inject a PSK.
    PreSharedKey(PreSharedKey),
    /// Reinitialize the group.
    ReInit(ReInit),
    /// External commit initialization.
    ExternalInit(ExternalInit),
    /// Replace the group context extensions.
    GroupContextExtensions(GroupContextExtensions),
    /// The sender leaves the group (draft-ietf-mls-extensions).
    SelfRemove(SelfRemove),
    /// A change of the GroupContext `app_data_dictionary`
    /// (draft-ietf-mls-extensions).
    AppDataUpdate(AppDataUpdate),
    /// Application data attached to a commit (draft-ietf-mls-extensions).
    AppEphemeral(AppEphemeral),
    /// An unknown proposal type.
    Custom {
        /// The type.
        proposal_type: ProposalType,
        /// Its body.
        data: Vec<u8>,
    },
}

impl Proposal {
    /// The proposal's type.
    pub fn proposal_type(&self) -> ProposalType {
        match self {
            Self::Add(_) => ProposalType::ADD,
            Self::Update(_) => ProposalType::UPDATE,
            Self::Remove(_) => ProposalType::REMOVE,
            Self::PreSharedKey(_) => ProposalType::PSK,
            Self::ReInit(_) => ProposalType::REINIT,
            Self::ExternalInit(_) => ProposalType::EXTERNAL_INIT,
            Self::GroupContextExtensions(_) => ProposalType::GROUP_CONTEXT_EXTENSIONS,
            Self::SelfRemove(_) => ProposalType::SELF_REMOVE,
            Self::AppDataUpdate(_) => ProposalType::APP_DATA_UPDATE,
            Self::AppEphemeral(_) => ProposalType::APP_EPHEMERAL,
            Self::Custom { proposal_type, .. } => *proposal_type,
        }
    }
}

impl Encode for Proposal {
    fn encode(&self, w: &mut Writer) {
        self.proposal_type().encode(w);
        match self {
            Self::Add(p) => p.encode(w),
            Self::Update(p) => p.encode(w),
            Self::Remove(p) => p.encode(w),
            Self::PreSharedKey(p) => p.encode(w),
            Self::ReInit(p) => p.encode(w),
            Self::ExternalInit(p) => p.encode(w),
            Self::GroupContextExtensions(p) => p.encode(w),
            Self::SelfRemove(p) => p.encode(w),
            Self::AppDataUpdate(p) => p.encode(w),
            Self::AppEphemeral(p) => p.encode(w),
            Self::Custom { data, .. } => data.encode(w),
        }
    }
}

impl Decode for Proposal {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let proposal_type: ProposalType = field(r, "proposal_type")?;
        Ok(match proposal_type {
            ProposalType::ADD => Self::Add(field(r, "add")?),
            ProposalType::UPDATE => Self::Update(field(r, "update")?),
            ProposalType::REMOVE => Self::Remove(field(r, "remove")?),
            ProposalType::PSK => Self::PreSharedKey(field(r, "psk")?),
            ProposalType::REINIT => Self::ReInit(field(r, "reinit")?),
            ProposalType::EXTERNAL_INIT => Self::ExternalInit(field(r, "external_init")?),
            ProposalType::GROUP_CONTEXT_EXTENSIONS => {
                Self::GroupContextExtensions(field(r, "group_context_extensions")?)
            }
            ProposalType::SELF_REMOVE => Self::SelfRemove(field(r, "self_remove")?),
            ProposalType::APP_DATA_UPDATE => Self::AppDataUpdate(field(r, "app_data_update")?),
            ProposalType::APP_EPHEMERAL => Self::AppEphemeral(field(r, "app_ephemeral")?),
            proposal_type => Self::Custom {
                proposal_type,
                data: field(r, "data")?,
            },
        })
    }
}

/// `ProposalOrRef` (§12.4): a proposal inline or by reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposalOrRef {
    /// `type = proposal`.
    Proposal(Box<Proposal>),
    /// `type = reference`: `ProposalRef`, a `MakeProposalRef` hash.
    Reference(Vec<u8>),
}

impl Encode for ProposalOrRef {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Proposal(p) => {
                w.put(&[1]);
                p.encode(w);
            }
            Self::Reference(r) => {
                w.put(&[2]);
                r.encode(w);
            }
        }
    }
}

impl Decode for ProposalOrRef {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (tag, at) = tag_u8(r)?;
        match tag {
            1 => Ok(Self::Proposal(field(r, "proposal")?)),
            2 => Ok(Self::Reference(field(r, "reference")?)),
            v => Err(bad_tag(v.into(), at, "type")),
        }
    }
}
