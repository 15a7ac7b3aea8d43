//! Top-level messages (§6): MLSMessage, PublicMessage, PrivateMessage and the
//! structures used to encrypt a PrivateMessage.

use super::content::{
    Content, ContentType, FramedContent, FramedContentAuthData, Sender, WireFormat,
};
use crate::codec::{
    Decode, DecodeError, DecodeErrorKind, Encode, Reader, Writer, field, wire_struct,
};
use crate::messages::key_package::KeyPackageData;
use crate::messages::welcome::{GroupInfo, Welcome};
use crate::types::ProtocolVersion;
use crate::types::math::LeafIndex;

/// `PublicMessage` (§6.2). The membership tag is present exactly when the
/// sender is a member; decoders enforce that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicMessage {
    /// The content.
    pub content: FramedContent,
    /// Signature and confirmation tag.
    pub auth: FramedContentAuthData,
    /// `MAC(membership_key, AuthenticatedContentTBM)` for member senders.
    pub membership_tag: Option<Vec<u8>>,
}

impl Encode for PublicMessage {
    fn encode(&self, w: &mut Writer) {
        self.content.encode(w);
        self.auth.encode(w);
        if let Some(tag) = &self.membership_tag {
            tag.encode(w);
        }
    }
}

impl Decode for PublicMessage {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let content: FramedContent = field(r, "content")?;
        let auth = FramedContentAuthData::decode_for(r, content.content.content_type())
            .map_err(|e| e.within("auth"))?;
        let membership_tag = match content.sender {
            Sender::Member(_) => Some(field(r, "membership_tag")?),
            _ => None,
        };
        Ok(Self {
            content,
            auth,
            membership_tag,
        })
    }
}

wire_struct! {
    /// `PrivateMessage` (§6.3).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PrivateMessage {
        /// Group id.
        pub group_id: Vec<u8>,
        /// Epoch.
        pub epoch: u64,
        /// Type of the encrypted content.
        pub content_type: ContentType,
        /// Application-chosen authenticated data.
        pub authenticated_data: Vec<u8>,
        /// Encrypted `SenderData`.
        pub encrypted_sender_data: Vec<u8>,
        /// Encrypted `PrivateMessageContent`.
        pub ciphertext: Vec<u8>,
    }
}

wire_struct! {
    /// `SenderData` (§6.3.2).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SenderData {
        /// Sender's leaf.
        pub leaf_index: LeafIndex,
        /// Ratchet generation of the content key.
        pub generation: u32,
        /// Random bytes XORed into the nonce (§6.3.1).
        pub reuse_guard: ReuseGuard,
    }
}

/// `opaque reuse_guard[4]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReuseGuard(pub [u8; 4]);

impl Encode for ReuseGuard {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.0);
    }
}

impl Decode for ReuseGuard {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.take_array().map(Self)
    }
}

wire_struct! {
    /// `SenderDataAAD` (§6.3.2).
    #[derive(Debug, Clone)]
    pub struct SenderDataAad {
        /// Group id.
        pub group_id: Vec<u8>,
        /// Epoch.
        pub epoch: u64,
        /// Content type.
        pub content_type: ContentType,
    }
}

wire_struct! {
    /// `PrivateContentAAD` (§6.3.1).
    #[derive(Debug, Clone)]
    pub struct PrivateContentAad {
        /// Group id.
        pub group_id: Vec<u8>,
        /// Epoch.
        pub epoch: u64,
        /// Content type.
        pub content_type: ContentType,
        /// Authenticated data.
        pub authenticated_data: Vec<u8>,
    }
}

/// `PrivateMessageContent` (§6.3.1): the plaintext of a PrivateMessage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateMessageContent {
    /// The content.
    pub content: Content,
    /// Signature and confirmation tag.
    pub auth: FramedContentAuthData,
    /// Number of zero padding bytes.
    pub padding: usize,
}

impl Encode for PrivateMessageContent {
    fn encode(&self, w: &mut Writer) {
        self.content.encode_body(w);
        self.auth.encode(w);
        w.put(&vec![0; self.padding]);
    }
}

impl PrivateMessageContent {
    /// Decodes content of type `content_type`. The padding MUST be all zero
    /// (§6.3.1): a non-zero byte after the auth data is malformed.
    pub fn decode_for(r: &mut Reader<'_>, content_type: ContentType) -> Result<Self, DecodeError> {
        let content = Content::decode_body(r, content_type)?;
        let auth =
            FramedContentAuthData::decode_for(r, content_type).map_err(|e| e.within("auth"))?;
        let at = r.offset();
        let padding = r.take_rest();
        if let Some(pos) = padding.iter().position(|&b| b != 0) {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid("non-zero padding byte (RFC 9420 §6.3.1)"),
                at + pos,
            )
            .within("padding"));
        }
        Ok(Self {
            content,
            auth,
            padding: padding.len(),
        })
    }
}

/// The body of an `MLSMessage`, selected by its wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MlsMessageBody {
    /// `mls_public_message`.
    PublicMessage(Box<PublicMessage>),
    /// `mls_private_message`.
    PrivateMessage(Box<PrivateMessage>),
    /// `mls_welcome`.
    Welcome(Box<Welcome>),
    /// `mls_group_info`.
    GroupInfo(Box<GroupInfo>),
    /// `mls_key_package`.
    KeyPackage(Box<KeyPackageData>),
}

impl MlsMessageBody {
    /// The wire format of this body.
    pub fn wire_format(&self) -> WireFormat {
        match self {
            Self::PublicMessage(_) => WireFormat::PUBLIC_MESSAGE,
            Self::PrivateMessage(_) => WireFormat::PRIVATE_MESSAGE,
            Self::Welcome(_) => WireFormat::WELCOME,
            Self::GroupInfo(_) => WireFormat::GROUP_INFO,
            Self::KeyPackage(_) => WireFormat::KEY_PACKAGE,
        }
    }
}

/// `MLSMessage` (§6): the envelope of everything sent over the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlsMessage {
    /// The message.
    pub body: MlsMessageBody,
}

impl MlsMessage {
    /// Wraps a body.
    pub fn new(body: MlsMessageBody) -> Self {
        Self { body }
    }
}

impl Encode for MlsMessage {
    fn encode(&self, w: &mut Writer) {
        ProtocolVersion::MLS10.encode(w);
        self.body.wire_format().encode(w);
        match &self.body {
            MlsMessageBody::PublicMessage(m) => m.encode(w),
            MlsMessageBody::PrivateMessage(m) => m.encode(w),
            MlsMessageBody::Welcome(m) => m.encode(w),
            MlsMessageBody::GroupInfo(m) => m.encode(w),
            MlsMessageBody::KeyPackage(m) => m.encode(w),
        }
    }
}

impl Decode for MlsMessage {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let version: ProtocolVersion = field(r, "version")?;
        if version != ProtocolVersion::MLS10 {
            return Err(DecodeError::new(
                DecodeErrorKind::InvalidValue {
                    value: version.0.into(),
                },
                at,
            )
            .within("version"));
        }
        let at = r.offset();
        let wire_format: WireFormat = field(r, "wire_format")?;
        let body = match wire_format {
            WireFormat::PUBLIC_MESSAGE => {
                MlsMessageBody::PublicMessage(field(r, "public_message")?)
            }
            WireFormat::PRIVATE_MESSAGE => {
                MlsMessageBody::PrivateMessage(field(r, "private_message")?)
            }
            WireFormat::WELCOME => MlsMessageBody::Welcome(field(r, "welcome")?),
            WireFormat::GROUP_INFO => MlsMessageBody::GroupInfo(field(r, "group_info")?),
            WireFormat::KEY_PACKAGE => MlsMessageBody::KeyPackage(field(r, "key_package")?),
            other => {
                // Unknown wire formats have no length prefix, so the rest
                // cannot be skipped: reject rather than guess.
                return Err(DecodeError::new(
                    DecodeErrorKind::InvalidValue {
                        value: other.0.into(),
                    },
                    at,
                )
                .within("wire_format"));
            }
        };
        Ok(Self { body })
    }
}
