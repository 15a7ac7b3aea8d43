//! Extensions (§13.4) and their type registry.

use crate::codec::{code_point, wire_struct};

code_point! {
    /// `ExtensionType` (§17.3). Unknown and GREASE values round-trip unchanged.
    pub struct ExtensionType(u16) {
        /// `application_id` (§5.3.3).
        APPLICATION_ID = 0x0001,
        /// `ratchet_tree` (§12.4.3.3).
        RATCHET_TREE = 0x0002,
        /// `required_capabilities` (§11.1).
        REQUIRED_CAPABILITIES = 0x0003,
        /// `external_pub` (§12.4.3.2).
        EXTERNAL_PUB = 0x0004,
        /// `external_senders` (§12.1.8.1).
        EXTERNAL_SENDERS = 0x0005,
    }
}

wire_struct! {
    /// `Extension` (§7.2): a type and opaque data.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct Extension {
        /// The extension type.
        pub extension_type: ExtensionType,
        /// The extension's encoded body.
        pub extension_data: Vec<u8>,
    }
}
