//! Wire-format negotiation of draft-ietf-mls-extensions ("Negotiating
//! Extensions and Components"): a leaf's `supported_wire_formats` and the
//! GroupContext's `required_wire_formats`, each a `WireFormats` list of
//! non-default wire formats. A member supports a wire format if it is one
//! of RFC 9420's (§17.2) or listed in its leaf's `supported_wire_formats`;
//! every member must support every required one.

use crate::codec::wire_struct;
use crate::framing::WireFormat;
use crate::tree::leaf_node::LeafNode;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::Extension;
use crate::types::extensions::{ExtensionType, decode_extension};
use crate::{Error, Result};

/// The rule cited by the wire-format checks.
pub const WIRE_FORMAT_RULE: &str =
    "draft-ietf-mls-extensions §Negotiating Extensions and Components (wire formats)";

wire_struct! {
    /// `WireFormats`: the data of `supported_wire_formats` (LeafNode) and
    /// `required_wire_formats` (GroupContext).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct WireFormats {
        /// The wire formats.
        pub wire_formats: Vec<WireFormat>,
    }
}

impl WireFormats {
    /// This list as an extension of type `extension_type`
    /// (`SUPPORTED_WIRE_FORMATS` or `REQUIRED_WIRE_FORMATS`).
    pub fn to_extension(&self, extension_type: ExtensionType) -> Result<Extension> {
        Ok(Extension {
            extension_type,
            extension_data: crate::codec::encode(self)?,
        })
    }
}

/// RFC 9420's wire formats (§17.2), which every client supports.
pub fn is_default_wire_format(wire_format: WireFormat) -> bool {
    (1..=5).contains(&wire_format.0)
}

fn decoded(extensions: &[Extension], ty: ExtensionType, name: &'static str) -> Result<WireFormats> {
    decode_extension(extensions, ty, name)
        .map(Option::unwrap_or_default)
        .map_err(|e| Error::protocol(WIRE_FORMAT_RULE, format!("{name} does not decode: {e}")))
}

/// Whether `leaf` supports `wire_format`: a default one, or listed in its
/// `supported_wire_formats`. A list that does not decode supports nothing
/// beyond the defaults.
pub fn leaf_supports(leaf: &LeafNode, wire_format: WireFormat) -> bool {
    is_default_wire_format(wire_format)
        || decoded(
            &leaf.extensions,
            ExtensionType::SUPPORTED_WIRE_FORMATS,
            "supported_wire_formats",
        )
        .is_ok_and(|w| w.wire_formats.contains(&wire_format))
}

/// The wire formats `context_extensions` require (`required_wire_formats`);
/// refused if the extension does not decode.
pub fn required_wire_formats(context_extensions: &[Extension]) -> Result<Vec<WireFormat>> {
    Ok(decoded(
        context_extensions,
        ExtensionType::REQUIRED_WIRE_FORMATS,
        "required_wire_formats",
    )?
    .wire_formats)
}

/// `leaf` (a joiner's, or a member's new one) supports every wire format
/// `context_extensions` require.
pub fn check_leaf(leaf: &LeafNode, context_extensions: &[Extension], who: &str) -> Result<()> {
    for wf in required_wire_formats(context_extensions)? {
        if !leaf_supports(leaf, wf) {
            return Err(Error::protocol(
                WIRE_FORMAT_RULE,
                format!(
                    "{who} does not support the required wire format {:#06x}",
                    wf.0
                ),
            ));
        }
    }
    Ok(())
}

/// Every member of `tree` supports every wire format `context_extensions`
/// require.
pub fn check_members(tree: &RatchetTree, context_extensions: &[Extension]) -> Result<()> {
    let required = required_wire_formats(context_extensions)?;
    if required.is_empty() {
        return Ok(());
    }
    for (index, leaf) in tree.members() {
        if let Some(wf) = required.iter().find(|wf| !leaf_supports(leaf, **wf)) {
            return Err(Error::protocol(
                WIRE_FORMAT_RULE,
                format!(
                    "leaf {} does not support the required wire format {:#06x}",
                    index.0, wf.0
                ),
            ));
        }
    }
    Ok(())
}
