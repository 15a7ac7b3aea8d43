//! Leaf node contents (§7.2).

use crate::codec::{
    Decode, DecodeError, Encode, Reader, Writer, bad_tag, field, tag_u8, wire_struct,
};
use crate::crypto::credential::{Credential, CredentialType};
use crate::crypto::{CipherSuite, HpkePublicKey, SignaturePublicKey};
use crate::types::ProposalType;
use crate::types::ProtocolVersion;
use crate::types::math::LeafIndex;
use crate::types::{Extension, ExtensionType};
use crate::{Error, Result};

wire_struct! {
    /// `Capabilities` (§7.2): what a client supports.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Capabilities {
        /// Protocol versions.
        pub versions: Vec<ProtocolVersion>,
        /// Cipher suites.
        pub cipher_suites: Vec<CipherSuite>,
        /// Non-default extension types.
        pub extensions: Vec<ExtensionType>,
        /// Non-default proposal types.
        pub proposals: Vec<ProposalType>,
        /// Credential types.
        pub credentials: Vec<CredentialType>,
    }
}

wire_struct! {
    /// `Lifetime` (§7.2): validity window in seconds since the Unix epoch.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Lifetime {
        /// Not valid before this time.
        pub not_before: u64,
        /// Not valid after this time.
        pub not_after: u64,
    }
}

/// `LeafNodeSource` with its source-specific field (§7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafNodeSource {
    /// In a KeyPackage; carries the key package's lifetime.
    KeyPackage(Lifetime),
    /// Sent in an Update proposal.
    Update,
    /// Sent in a Commit's UpdatePath; carries the parent hash.
    Commit(Vec<u8>),
}

impl LeafNodeSource {
    /// The source's code point.
    pub fn code(&self) -> u8 {
        match self {
            Self::KeyPackage(_) => 1,
            Self::Update => 2,
            Self::Commit(_) => 3,
        }
    }
}

impl Encode for LeafNodeSource {
    fn encode(&self, w: &mut Writer) {
        w.put(&[self.code()]);
        match self {
            Self::KeyPackage(lifetime) => lifetime.encode(w),
            Self::Update => {}
            Self::Commit(parent_hash) => parent_hash.encode(w),
        }
    }
}

impl Decode for LeafNodeSource {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (tag, at) = tag_u8(r)?;
        match tag {
            1 => Ok(Self::KeyPackage(field(r, "lifetime")?)),
            2 => Ok(Self::Update),
            3 => Ok(Self::Commit(field(r, "parent_hash")?)),
            v => Err(bad_tag(v.into(), at, "leaf_node_source")),
        }
    }
}

wire_struct! {
    /// `LeafNode` (§7.2): a member's public state, signed by the member.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct LeafNode {
        /// HPKE key for TreeKEM.
        pub encryption_key: HpkePublicKey,
        /// The member's signature key.
        pub signature_key: SignaturePublicKey,
        /// The member's credential.
        pub credential: Credential,
        /// What the member's client supports.
        pub capabilities: Capabilities,
        /// Where this leaf node came from.
        pub leaf_node_source: LeafNodeSource,
        /// Leaf extensions.
        pub extensions: Vec<Extension>,
        /// `SignWithLabel(., "LeafNodeTBS", LeafNodeTBS)`.
        pub signature: Vec<u8>,
    }
}

impl LeafNode {
    /// Encodes `LeafNodeTBS` (§7.2). `group` (the group id and this leaf's
    /// index) must be given for the update and commit sources, and is not
    /// used for key_package.
    pub fn to_be_signed(&self, group: Option<(&[u8], LeafIndex)>) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        self.encryption_key.encode(&mut w);
        self.signature_key.encode(&mut w);
        self.credential.encode(&mut w);
        self.capabilities.encode(&mut w);
        self.leaf_node_source.encode(&mut w);
        self.extensions.encode(&mut w);
        if !matches!(self.leaf_node_source, LeafNodeSource::KeyPackage(_)) {
            let Some((group_id, leaf)) = group else {
                return Err(Error::Misuse(
                    "LeafNodeTBS of an update or commit leaf needs group id and leaf index".into(),
                ));
            };
            w.opaque(group_id);
            leaf.encode(&mut w);
        }
        Ok(w.finish()?)
    }
}

/// Label of the LeafNode signature (§7.2).
pub const LEAF_NODE_LABEL: &str = "LeafNodeTBS";

impl LeafNode {
    /// Signs the leaf in place (§7.2). `group` is the group id and the leaf's
    /// index, required for the update and commit sources.
    pub fn sign(
        &mut self,
        suite: &crate::crypto::Suite,
        key: &crate::crypto::SignaturePrivateKey,
        group: Option<(&[u8], LeafIndex)>,
    ) -> Result<()> {
        let tbs = self.to_be_signed(group)?;
        self.signature = suite.sign_with_label(key, LEAF_NODE_LABEL, &tbs)?;
        Ok(())
    }

    /// Verifies the leaf's signature with its own signature key (§7.3).
    /// Errors name `leaf` when given.
    pub fn verify_signature(
        &self,
        suite: &crate::crypto::Suite,
        group: Option<(&[u8], LeafIndex)>,
    ) -> Result<()> {
        let tbs = self.to_be_signed(group)?;
        suite
            .verify_with_label(&self.signature_key, LEAF_NODE_LABEL, &tbs, &self.signature)
            .map_err(|_| {
                let at = group.map_or(String::from("key package leaf"), |(_, l)| {
                    format!("leaf {}", l.0)
                });
                Error::protocol("§7.3", format!("{at}: LeafNode signature does not verify"))
            })
    }
}

impl Capabilities {
    /// Capabilities of a client that supports exactly `suite`, MLS 1.0, the
    /// default proposal and extension types, the SelfRemove proposal of
    /// draft-ietf-mls-extensions, and basic credentials.
    pub fn for_suite(suite: CipherSuite) -> Self {
        Self {
            versions: vec![ProtocolVersion::MLS10],
            cipher_suites: vec![suite],
            extensions: Vec::new(),
            proposals: vec![ProposalType::SELF_REMOVE],
            credentials: vec![CredentialType::BASIC],
        }
    }

    /// Whether extension type `ty` is supported: listed, or a default type.
    pub fn supports_extension(&self, ty: ExtensionType) -> bool {
        ty.is_default() || self.extensions.contains(&ty)
    }

    /// Whether proposal type `ty` is supported: listed, or a default type.
    pub fn supports_proposal(&self, ty: ProposalType) -> bool {
        ty.is_default() || self.proposals.contains(&ty)
    }
}
