//! Typed messages: an MLSMessage decoded once, with what a delivery service
//! or an application needs to route and inspect it (group, epoch, kind,
//! sender), and wrappers for key packages, Welcomes and GroupInfos.
//!
//! Each type keeps the bytes it was decoded from, so it can be passed
//! wherever the API takes bytes (`AsRef<[u8]>`) and is forwarded exactly as
//! received. Decoding checks the wire format only: signatures, lifetimes
//! and trees are checked when a group processes, adds or joins with them.

use std::ops::RangeInclusive;

use crate::api::group::Member;
use crate::crypto::credential::Credential;
use crate::crypto::rust_crypto::RustCryptoProvider;
use crate::crypto::{CipherSuite, CryptoProvider, SignaturePublicKey, Suite};
use crate::framing::{MlsMessage, MlsMessageBody, Sender, WireFormat};
use crate::messages::key_package::KeyPackageData as WireKeyPackage;
use crate::messages::welcome::{GroupInfo as WireGroupInfo, Welcome as WireWelcome};
use crate::tree::leaf_node::LeafNodeSource;
use crate::types::MessageKind;
use crate::types::extensions::{ExtensionType, find_extension};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// A decoded MLSMessage (§6), with the bytes it came from.
///
/// ```
/// # fn main() -> arbor_mls::Result<()> {
/// use arbor_mls::{Client, GroupOptions, Message, MessageKind};
/// let mut alice = Client::builder("alice").build()?;
/// let mut group = alice.create_group(GroupOptions::default())?;
/// let bytes = group.encrypt(b"hi", b"")?;
/// let message = Message::decode(&bytes)?;
/// // A delivery service routes on these without any key.
/// assert_eq!(message.kind(), MessageKind::Application);
/// assert_eq!(message.group_id(), Some(group.group_id()));
/// assert_eq!(message.epoch(), Some(group.epoch()));
/// assert_eq!(message.sender(), None); // encrypted
/// # Ok(())
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    bytes: Vec<u8>,
    message: MlsMessage,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("kind", &self.kind())
            .field("epoch", &self.epoch())
            .field("sender", &self.sender())
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl Message {
    /// Decodes one MLSMessage; trailing bytes are an error.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let message = crate::decode_exact("MLSMessage", bytes)?;
        Ok(Self {
            bytes: bytes.to_vec(),
            message,
        })
    }

    /// What the message carries.
    pub fn kind(&self) -> MessageKind {
        match &self.message.body {
            MlsMessageBody::PublicMessage(m) => m.content.content.content_type().message_kind(),
            MlsMessageBody::PrivateMessage(m) => m.content_type.message_kind(),
            MlsMessageBody::Welcome(_) => MessageKind::Welcome,
            MlsMessageBody::GroupInfo(_) => MessageKind::GroupInfo,
            MlsMessageBody::KeyPackage(_) => MessageKind::KeyPackage,
        }
    }

    /// The wire format: public or private message, Welcome, GroupInfo or
    /// key package.
    pub fn wire_format(&self) -> WireFormat {
        self.message.body.wire_format()
    }

    /// The group the message belongs to. `None` for a Welcome (its group
    /// is encrypted) and a key package (it belongs to no group).
    pub fn group_id(&self) -> Option<&[u8]> {
        match &self.message.body {
            MlsMessageBody::PublicMessage(m) => Some(&m.content.group_id),
            MlsMessageBody::PrivateMessage(m) => Some(&m.group_id),
            MlsMessageBody::GroupInfo(g) => Some(&g.group_context.group_id),
            MlsMessageBody::Welcome(_) | MlsMessageBody::KeyPackage(_) => None,
        }
    }

    /// The epoch the message was sent in (for a GroupInfo: the epoch it
    /// describes). `None` for a Welcome and a key package.
    pub fn epoch(&self) -> Option<u64> {
        match &self.message.body {
            MlsMessageBody::PublicMessage(m) => Some(m.content.epoch),
            MlsMessageBody::PrivateMessage(m) => Some(m.epoch),
            MlsMessageBody::GroupInfo(g) => Some(g.group_context.epoch),
            MlsMessageBody::Welcome(_) | MlsMessageBody::KeyPackage(_) => None,
        }
    }

    /// The sender, where it is visible: a PublicMessage names it in the
    /// clear (claimed, not yet verified); a PrivateMessage encrypts it, so
    /// `None` (the group learns it when it processes the message).
    pub fn sender(&self) -> Option<Sender> {
        match &self.message.body {
            MlsMessageBody::PublicMessage(m) => Some(m.content.sender),
            _ => None,
        }
    }

    /// The sender's authenticated data of a group message (sent in the
    /// clear in both public and private messages).
    pub fn authenticated_data(&self) -> Option<&[u8]> {
        match &self.message.body {
            MlsMessageBody::PublicMessage(m) => Some(&m.content.authenticated_data),
            MlsMessageBody::PrivateMessage(m) => Some(&m.authenticated_data),
            _ => None,
        }
    }

    /// The encoded message, exactly as decoded.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The encoded message.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The key package, if this message is one.
    pub fn into_key_package(self) -> Option<KeyPackage> {
        match self.message.body {
            MlsMessageBody::KeyPackage(inner) => Some(KeyPackage {
                bytes: self.bytes,
                inner: *inner,
            }),
            _ => None,
        }
    }

    /// The Welcome, if this message is one.
    pub fn into_welcome(self) -> Option<Welcome> {
        match self.message.body {
            MlsMessageBody::Welcome(inner) => Some(Welcome {
                bytes: self.bytes,
                inner: *inner,
            }),
            _ => None,
        }
    }

    /// The GroupInfo, if this message is one.
    pub fn into_group_info(self) -> Option<GroupInfo> {
        match self.message.body {
            MlsMessageBody::GroupInfo(inner) => Some(GroupInfo {
                bytes: self.bytes,
                inner: *inner,
            }),
            _ => None,
        }
    }

    pub(crate) fn mls(&self) -> &MlsMessage {
        &self.message
    }
}

impl AsRef<[u8]> for Message {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Decodes an MLSMessage that must be of `expected` kind.
fn decode_kind(bytes: &[u8], expected: MessageKind) -> Result<Message> {
    let message = Message::decode(bytes)?;
    if message.kind() != expected {
        return Err(Error::Misuse(format!(
            "expected a {expected} MLSMessage, got a {}",
            message.kind()
        )));
    }
    Ok(message)
}

/// The suite's primitives from the default provider, to compute references.
fn default_suite(id: CipherSuite) -> Result<Suite> {
    Ok(Suite::from_provider(
        &RustCryptoProvider as &dyn CryptoProvider,
        id,
    )?)
}

/// A key package (§10) as published in an MLSMessage.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPackage {
    bytes: Vec<u8>,
    inner: WireKeyPackage,
}

impl std::fmt::Debug for KeyPackage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPackage")
            .field("suite", &self.suite())
            .field("credential", self.credential())
            .field("lifetime", &self.lifetime())
            .finish_non_exhaustive()
    }
}

impl KeyPackage {
    /// Decodes an MLSMessage holding a key package ([`Error::Misuse`] if
    /// it holds something else).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        decode_kind(bytes, MessageKind::KeyPackage)?
            .into_key_package()
            .ok_or(Error::Internal("key package kind without a key package"))
    }

    /// The credential of the member it would add.
    pub fn credential(&self) -> &Credential {
        &self.inner.leaf_node.credential
    }

    /// The identity of a basic credential (`None` for other types).
    pub fn identity(&self) -> Option<&[u8]> {
        match self.credential() {
            Credential::Basic { identity } => Some(identity),
            _ => None,
        }
    }

    /// The signature key of the member it would add.
    pub fn signature_key(&self) -> &SignaturePublicKey {
        &self.inner.leaf_node.signature_key
    }

    /// The cipher suite it is for.
    pub fn suite(&self) -> CipherSuite {
        self.inner.cipher_suite
    }

    /// Whether it is marked last resort (draft-ietf-mls-extensions,
    /// "Last-Resort KeyPackages"): a directory may hand it out more than
    /// once when no other key package of its client is left, and a member
    /// processing its Add may apply a policy to it.
    pub fn is_last_resort(&self) -> bool {
        self.inner.is_last_resort()
    }

    /// Its validity window, `not_before..=not_after` in seconds since the
    /// Unix epoch (`None` if the leaf is not of a key package, which no
    /// group accepts).
    pub fn lifetime(&self) -> Option<RangeInclusive<u64>> {
        match &self.inner.leaf_node.leaf_node_source {
            LeafNodeSource::KeyPackage(lt) => Some(lt.not_before..=lt.not_after),
            _ => None,
        }
    }

    /// Its `KeyPackageRef` (§5.2), as a Welcome names it. Computed with the
    /// default crypto provider; [`Error::Unsupported`] if it lacks the suite.
    pub fn reference(&self) -> Result<Vec<u8>> {
        let suite = default_suite(self.suite())?;
        crate::group::welcome_open::key_package_ref(&suite, &self.inner)
    }

    /// The encoded MLSMessage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsRef<[u8]> for KeyPackage {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// A Welcome (§12.4.3.1) as sent to new members.
#[derive(Clone, PartialEq, Eq)]
pub struct Welcome {
    bytes: Vec<u8>,
    inner: WireWelcome,
}

impl std::fmt::Debug for Welcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Welcome")
            .field("suite", &self.suite())
            .field("new_members", &self.inner.secrets.len())
            .finish_non_exhaustive()
    }
}

impl Welcome {
    /// Decodes an MLSMessage holding a Welcome ([`Error::Misuse`] if it
    /// holds something else).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        decode_kind(bytes, MessageKind::Welcome)?
            .into_welcome()
            .ok_or(Error::Internal("Welcome kind without a Welcome"))
    }

    /// The group's cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.inner.cipher_suite
    }

    /// The `KeyPackageRef`s of the key packages it has secrets for: one
    /// per new member.
    pub fn key_package_refs(&self) -> impl Iterator<Item = &[u8]> {
        self.inner.secrets.iter().map(|s| s.new_member.as_slice())
    }

    /// Whether it has secrets for `key_package` (whose reference it
    /// computes, see [`KeyPackage::reference`]).
    pub fn is_for(&self, key_package: &KeyPackage) -> Result<bool> {
        let reference = key_package.reference()?;
        Ok(self.key_package_refs().any(|r| r == reference.as_slice()))
    }

    /// The encoded MLSMessage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsRef<[u8]> for Welcome {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// A GroupInfo (§12.4.3) as published for external joiners.
///
/// Its fields are as the signer claims them: the signature and tree are
/// verified when it is used to join
/// ([`Client::join_by_external_commit`](crate::Client::join_by_external_commit)).
/// Use them to choose, not to trust: e.g. to find one's old leaf before a
/// resync.
#[derive(Clone, PartialEq, Eq)]
pub struct GroupInfo {
    bytes: Vec<u8>,
    inner: WireGroupInfo,
}

impl std::fmt::Debug for GroupInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupInfo")
            .field("suite", &self.suite())
            .field("epoch", &self.epoch())
            .field("signer", &self.signer())
            .field("has_ratchet_tree", &self.has_ratchet_tree())
            .finish_non_exhaustive()
    }
}

impl GroupInfo {
    /// Decodes an MLSMessage holding a GroupInfo ([`Error::Misuse`] if it
    /// holds something else).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        decode_kind(bytes, MessageKind::GroupInfo)?
            .into_group_info()
            .ok_or(Error::Internal("GroupInfo kind without a GroupInfo"))
    }

    /// The group id.
    pub fn group_id(&self) -> &[u8] {
        &self.inner.group_context.group_id
    }

    /// The epoch it describes.
    pub fn epoch(&self) -> u64 {
        self.inner.group_context.epoch
    }

    /// The group's cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.inner.group_context.cipher_suite
    }

    /// The leaf of the member who signed it.
    pub fn signer(&self) -> LeafIndex {
        self.inner.signer
    }

    /// Whether it carries the ratchet tree (else a joiner needs the tree
    /// from elsewhere, and [`Self::members`] is `None`).
    pub fn has_ratchet_tree(&self) -> bool {
        find_extension(&self.inner.extensions, ExtensionType::RATCHET_TREE).is_some()
    }

    /// Whether it carries the `external_pub` a joiner by external commit
    /// needs.
    pub fn allows_external_join(&self) -> bool {
        find_extension(&self.inner.extensions, ExtensionType::EXTERNAL_PUB).is_some()
    }

    /// The members of the ratchet tree it carries, by leaf index; `None`
    /// without a tree. An error if the tree does not decode or is larger
    /// than the default `GroupConfig::max_leaves`.
    pub fn members(&self) -> Result<Option<Vec<Member>>> {
        let Some(ext) = find_extension(&self.inner.extensions, ExtensionType::RATCHET_TREE) else {
            return Ok(None);
        };
        let wire = crate::decode_exact("ratchet_tree extension", &ext.extension_data)?;
        let max_leaves = crate::group::state::GroupConfig::default().max_leaves;
        let tree = crate::group::join::tree_from_wire(wire, max_leaves)?;
        Ok(Some(Member::all_of(&tree)))
    }

    /// The leaf whose signature key is `key`, from the tree it carries:
    /// one's own old leaf, to remove when rejoining while the old key is
    /// still known. A device that lost its state has a new key: it rejoins
    /// with [`Client::rejoin_device`](crate::Client::rejoin_device), which
    /// finds the leaf by device.
    pub fn leaf_of(&self, key: &SignaturePublicKey) -> Result<Option<LeafIndex>> {
        Ok(self
            .members()?
            .and_then(|m| m.into_iter().find(|m| &m.signature_key == key))
            .map(|m| m.index))
    }

    /// The encoded MLSMessage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsRef<[u8]> for GroupInfo {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}
