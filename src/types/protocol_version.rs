//! `ProtocolVersion` (§6).

use crate::codec::code_point;

code_point! {
    /// `ProtocolVersion` (§6). Open, so a ReInit naming a future version still
    /// decodes; messages themselves must be `MLS10`.
    pub struct ProtocolVersion(u16) {
        /// `mls10`.
        MLS10 = 1,
    }
}
