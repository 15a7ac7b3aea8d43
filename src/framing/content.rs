//! Framed content and its authentication data (§6, §6.1).

use crate::codec::{
    Decode, DecodeError, Encode, Reader, Writer, bad_tag, code_point, field, tag_u8, wire_enum,
};
use crate::messages::commit::Commit;
use crate::messages::proposals::Proposal;
use crate::schedule::GroupContext;
use crate::types::MessageKind;
use crate::types::ProtocolVersion;
use crate::types::math::LeafIndex;

code_point! {
    /// `WireFormat` (§17.2).
    pub struct WireFormat(u16) {
        /// `mls_public_message`.
        PUBLIC_MESSAGE = 0x0001,
        /// `mls_private_message`.
        PRIVATE_MESSAGE = 0x0002,
        /// `mls_welcome`.
        WELCOME = 0x0003,
        /// `mls_group_info`.
        GROUP_INFO = 0x0004,
        /// `mls_key_package`.
        KEY_PACKAGE = 0x0005,
    }
}

wire_enum! {
    /// `ContentType` (§6).
    pub enum ContentType: u8 {
        /// Application data.
        Application = 1,
        /// A proposal.
        Proposal = 2,
        /// A commit.
        Commit = 3,
    }
}

/// `Sender` (§6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sender {
    /// A member, by leaf index.
    Member(LeafIndex),
    /// An external sender, by index into the `external_senders` extension.
    External(u32),
    /// A new member proposing to join (an Add of itself).
    NewMemberProposal,
    /// A new member joining by external commit.
    NewMemberCommit,
}

impl Encode for Sender {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Member(leaf) => {
                w.put(&[1]);
                leaf.encode(w);
            }
            Self::External(index) => {
                w.put(&[2]);
                index.encode(w);
            }
            Self::NewMemberProposal => w.put(&[3]),
            Self::NewMemberCommit => w.put(&[4]),
        }
    }
}

impl Decode for Sender {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (tag, at) = tag_u8(r)?;
        match tag {
            1 => Ok(Self::Member(field(r, "leaf_index")?)),
            2 => Ok(Self::External(field(r, "sender_index")?)),
            3 => Ok(Self::NewMemberProposal),
            4 => Ok(Self::NewMemberCommit),
            v => Err(bad_tag(v.into(), at, "sender_type")),
        }
    }
}

/// The `select (content_type)` body shared by FramedContent and
/// PrivateMessageContent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// `application_data`.
    Application(Vec<u8>),
    /// A proposal.
    Proposal(Box<Proposal>),
    /// A commit.
    Commit(Box<Commit>),
}

impl Content {
    /// The content type tag.
    pub fn content_type(&self) -> ContentType {
        match self {
            Self::Application(_) => ContentType::Application,
            Self::Proposal(_) => ContentType::Proposal,
            Self::Commit(_) => ContentType::Commit,
        }
    }

    /// Encodes the body without the content type.
    pub fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::Application(data) => data.encode(w),
            Self::Proposal(p) => p.encode(w),
            Self::Commit(c) => c.encode(w),
        }
    }

    /// Decodes a body whose content type was given elsewhere.
    pub fn decode_body(r: &mut Reader<'_>, content_type: ContentType) -> Result<Self, DecodeError> {
        Ok(match content_type {
            ContentType::Application => Self::Application(field(r, "application_data")?),
            ContentType::Proposal => Self::Proposal(field(r, "proposal")?),
            ContentType::Commit => Self::Commit(field(r, "commit")?),
        })
    }
}

/// `FramedContent` (§6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramedContent {
    /// Group id.
    pub group_id: Vec<u8>,
    /// Epoch the content belongs to.
    pub epoch: u64,
    /// Who sent it.
    pub sender: Sender,
    /// Application-chosen authenticated data.
    pub authenticated_data: Vec<u8>,
    /// The content.
    pub content: Content,
}

impl Encode for FramedContent {
    fn encode(&self, w: &mut Writer) {
        self.group_id.encode(w);
        self.epoch.encode(w);
        self.sender.encode(w);
        self.authenticated_data.encode(w);
        self.content.content_type().encode(w);
        self.content.encode_body(w);
    }
}

impl Decode for FramedContent {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let group_id = field(r, "group_id")?;
        let epoch = field(r, "epoch")?;
        let sender = field(r, "sender")?;
        let authenticated_data = field(r, "authenticated_data")?;
        let content_type = field(r, "content_type")?;
        let content = Content::decode_body(r, content_type)?;
        Ok(Self {
            group_id,
            epoch,
            sender,
            authenticated_data,
            content,
        })
    }
}

/// `FramedContentAuthData` (§6.1). The confirmation tag is present exactly
/// when the content is a commit; decoders enforce that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramedContentAuthData {
    /// `SignWithLabel(., "FramedContentTBS", FramedContentTBS)`.
    pub signature: Vec<u8>,
    /// `MAC(confirmation_key, confirmed_transcript_hash)` for commits.
    pub confirmation_tag: Option<Vec<u8>>,
}

impl Encode for FramedContentAuthData {
    fn encode(&self, w: &mut Writer) {
        self.signature.encode(w);
        if let Some(tag) = &self.confirmation_tag {
            tag.encode(w);
        }
    }
}

impl FramedContentAuthData {
    /// Decodes auth data for content of type `content_type`.
    pub fn decode_for(r: &mut Reader<'_>, content_type: ContentType) -> Result<Self, DecodeError> {
        let signature = field(r, "signature")?;
        let confirmation_tag = match content_type {
            ContentType::Commit => Some(field(r, "confirmation_tag")?),
            _ => None,
        };
        Ok(Self {
            signature,
            confirmation_tag,
        })
    }
}

/// `AuthenticatedContent` (§6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedContent {
    /// How the content travelled.
    pub wire_format: WireFormat,
    /// The content.
    pub content: FramedContent,
    /// Its signature and confirmation tag.
    pub auth: FramedContentAuthData,
}

impl Encode for AuthenticatedContent {
    fn encode(&self, w: &mut Writer) {
        self.wire_format.encode(w);
        self.content.encode(w);
        self.auth.encode(w);
    }
}

impl Decode for AuthenticatedContent {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let wire_format = field(r, "wire_format")?;
        let content: FramedContent = field(r, "content")?;
        let auth = FramedContentAuthData::decode_for(r, content.content.content_type())
            .map_err(|e| e.within("auth"))?;
        Ok(Self {
            wire_format,
            content,
            auth,
        })
    }
}

impl AuthenticatedContent {
    /// Encodes `FramedContentTBS` (§6.1): what the signature covers. `context`
    /// is required for member and new_member_commit senders.
    pub fn to_be_signed(&self, context: Option<&GroupContext>) -> crate::Result<Vec<u8>> {
        framed_content_tbs(self.wire_format, &self.content, context)
    }

    /// The part of the confirmed transcript hash input this content
    /// contributes (§8.2): wire_format, content and signature.
    pub fn confirmed_transcript_hash_input(&self) -> crate::Result<Vec<u8>> {
        let mut w = Writer::new();
        self.wire_format.encode(&mut w);
        self.content.encode(&mut w);
        self.auth.signature.encode(&mut w);
        Ok(w.finish()?)
    }
}

/// Room a FramedContentTBS starts with beyond its application data: the
/// header, a GroupContext with its hashes and a few extensions, and
/// authenticated data of a common size.
const TBS_CAPACITY: usize = 384;

/// The length of `content`'s application data and authenticated data: the
/// parts of a message's encodings that can be large and whose size is known
/// without encoding them.
pub(crate) fn content_len_hint(content: &FramedContent) -> usize {
    match &content.content {
        Content::Application(data) => data.len() + content.authenticated_data.len(),
        _ => content.authenticated_data.len(),
    }
}

/// Encodes `FramedContentTBS` (§6.1).
pub fn framed_content_tbs(
    wire_format: WireFormat,
    content: &FramedContent,
    context: Option<&GroupContext>,
) -> crate::Result<Vec<u8>> {
    // The encoding is signed and dropped: room for an application message
    // or proposal and its GroupContext up front saves the reallocations of
    // growing from empty on every message.
    let mut w = Writer::with_capacity(TBS_CAPACITY + content_len_hint(content));
    ProtocolVersion::MLS10.encode(&mut w);
    wire_format.encode(&mut w);
    content.encode(&mut w);
    match content.sender {
        Sender::Member(_) | Sender::NewMemberCommit => {
            let ctx = context.ok_or(crate::Error::Internal(
                "FramedContentTBS for a member or new_member_commit sender needs the group context",
            ))?;
            ctx.encode(&mut w);
        }
        Sender::External(_) | Sender::NewMemberProposal => {}
    }
    Ok(w.finish()?)
}

impl ContentType {
    /// The [`MessageKind`] of a message with this content type.
    pub fn message_kind(self) -> MessageKind {
        match self {
            ContentType::Application => MessageKind::Application,
            ContentType::Proposal => MessageKind::Proposal,
            ContentType::Commit => MessageKind::Commit,
        }
    }
}
