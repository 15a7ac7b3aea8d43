//! `ProposalType` (§17.4): the proposal codepoints.

use crate::codec::code_point;

code_point! {
    /// `ProposalType` (§17.4). Unknown values round-trip unchanged.
    pub struct ProposalType(u16) {
        /// `add`.
        ADD = 0x0001,
        /// `update`.
        UPDATE = 0x0002,
        /// `remove`.
        REMOVE = 0x0003,
        /// `psk`.
        PSK = 0x0004,
        /// `reinit`.
        REINIT = 0x0005,
        /// `external_init`.
        EXTERNAL_INIT = 0x0006,
        /// `group_context_extensions`.
        GROUP_CONTEXT_EXTENSIONS = 0x0007,
    }
}

impl ProposalType {
    /// True for the types RFC 9420 defines (§7.2): clients support them
    /// without listing them in their capabilities.
    pub fn is_default(self) -> bool {
        (1..=7).contains(&self.0)
    }
}
