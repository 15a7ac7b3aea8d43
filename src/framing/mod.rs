//! Message framing and protection (§6).

mod content;
mod messages;
mod partial;
mod protection;
mod transcript;

pub use content::{
    AuthenticatedContent, Content, ContentType, FramedContent, FramedContentAuthData, Sender,
    WireFormat, framed_content_tbs,
};
pub use messages::{
    MlsMessage, MlsMessageBody, PrivateContentAad, PrivateMessage, PrivateMessageContent,
    PublicMessage, ReuseGuard, SenderData, SenderDataAad,
};
pub use partial::{AnnotatedCommit, AnnotatedWelcome, SenderAuthenticatedMessage};
pub use protection::MAX_PADDING;
pub use protection::{
    ContentEncoding, FRAMED_CONTENT_LABEL, decrypt_private, encrypt_private, from_public_message,
    open_private, open_sender_data, public_message_content, sign_content, to_public_message,
    verify_content,
};
pub(crate) use protection::{SendingKey, seal_private};
pub use transcript::{TranscriptHashes, confirmed_transcript_hash, interim_transcript_hash};

#[cfg(test)]
mod tests;
