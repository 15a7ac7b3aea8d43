//! Message framing and protection (§6).

mod content;
mod messages;

pub use content::{
    AuthenticatedContent, Content, ContentType, FramedContent, FramedContentAuthData, Sender,
    WireFormat, framed_content_tbs,
};
pub use messages::{
    MlsMessage, MlsMessageBody, PrivateContentAad, PrivateMessage, PrivateMessageContent,
    PublicMessage, ReuseGuard, SenderData, SenderDataAad,
};
