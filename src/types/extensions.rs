//! Extensions (§13.4) and their type registry.

use crate::codec::{code_point, wire_struct};
use crate::crypto::credential::{Credential, CredentialType};
use crate::crypto::{HpkePublicKey, SignaturePublicKey};
use crate::types::ProposalType;

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
        /// `app_data_dictionary` (draft-ietf-mls-extensions). Provisional:
        /// the value the draft suggests to IANA, not yet registered.
        APP_DATA_DICTIONARY = 0x0006,
        /// `supported_wire_formats` (draft-ietf-mls-extensions, LeafNode).
        /// Provisional: the value the draft suggests to IANA.
        SUPPORTED_WIRE_FORMATS = 0x0007,
        /// `required_wire_formats` (draft-ietf-mls-extensions,
        /// GroupContext). Provisional: the value the draft suggests to IANA.
        REQUIRED_WIRE_FORMATS = 0x0008,
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

impl ExtensionType {
    /// True for the types RFC 9420 defines (§7.2): clients support them
    /// without listing them in their capabilities.
    pub fn is_default(self) -> bool {
        (1..=5).contains(&self.0)
    }
}

wire_struct! {
    /// `RequiredCapabilities` (§11.1), the body of `required_capabilities`.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct RequiredCapabilities {
        /// Extension types every member must support.
        pub extension_types: Vec<ExtensionType>,
        /// Proposal types every member must support.
        pub proposal_types: Vec<ProposalType>,
        /// Credential types every member must support.
        pub credential_types: Vec<CredentialType>,
    }
}

wire_struct! {
    /// `ExternalSender` (§12.1.8.1), an entry of `external_senders`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ExternalSender {
        /// The sender's signature key.
        pub signature_key: SignaturePublicKey,
        /// The sender's credential.
        pub credential: Credential,
    }
}

wire_struct! {
    /// `ExternalPub` (§12.4.3.2), the body of `external_pub`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ExternalPub {
        /// HPKE key external joiners encrypt to.
        pub external_pub: HpkePublicKey,
    }
}

/// Finds the extension of type `ty` in `extensions`.
pub fn find_extension(extensions: &[Extension], ty: ExtensionType) -> Option<&Extension> {
    extensions.iter().find(|e| e.extension_type == ty)
}

/// Decodes the body of the extension of type `ty`, if present.
pub fn decode_extension<T: crate::codec::Decode>(
    extensions: &[Extension],
    ty: ExtensionType,
    what: &'static str,
) -> crate::Result<Option<T>> {
    find_extension(extensions, ty)
        .map(|e| crate::decode_exact(what, &e.extension_data))
        .transpose()
}

/// Checks that no extension type appears twice in one list (§13.4: "a list
/// MUST NOT contain more than one extension of any given ExtensionType").
pub fn check_unique_types(extensions: &[Extension], list: &str) -> crate::Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(extensions.len());
    for e in extensions {
        if !seen.insert(e.extension_type) {
            return Err(crate::Error::protocol(
                "§13.4",
                format!("{list} lists extension {:?} twice", e.extension_type),
            ));
        }
    }
    Ok(())
}
