//! Safe AAD of draft-ietf-mls-extensions ("Safe AAD", and the `safe_aad`
//! component of "Negotiating Extensions and Components"): when the
//! GroupContext's `app_data_dictionary` has the `safe_aad` component, the
//! whole `authenticated_data` of every message is a `SafeAAD`, and its list
//! names the components every member must support (each member lists the
//! components it supports in the `safe_aad` of its leaf's dictionary).

use crate::crypto::component::ComponentId;
use crate::crypto::component::component_ids::SAFE_AAD;
use crate::group::required_components::{
    ComponentListKind, check_leaf_lists, check_members_lists, component_list, leaf_list,
};
use crate::tree::leaf_node::LeafNode;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::Extension;
use crate::types::app_data::SafeAad;
use crate::{Error, Result};

/// The rule cited by the Safe AAD framing checks.
pub const SAFE_AAD_RULE: &str = "draft-ietf-mls-extensions §Safe AAD";
/// The rule cited by the Safe AAD negotiation checks.
pub const SAFE_AAD_NEGOTIATION_RULE: &str =
    "draft-ietf-mls-extensions §Negotiating Extensions and Components (safe_aad)";

/// The `safe_aad` list: in the GroupContext, the Safe AAD components every
/// member must support; in a leaf, those it supports.
pub const SAFE_AAD_LIST: ComponentListKind = ComponentListKind {
    id: SAFE_AAD,
    name: "safe_aad",
    rule: SAFE_AAD_NEGOTIATION_RULE,
};

/// The Safe AAD components a GroupContext with `context_extensions`
/// requires, or `None` if the group does not use Safe AAD (no `safe_aad`
/// component; present with an empty list means "uses Safe AAD, requires
/// nothing").
pub fn required_components(context_extensions: &[Extension]) -> Result<Option<Vec<ComponentId>>> {
    component_list(context_extensions, SAFE_AAD_LIST)
}

/// The Safe AAD components `leaf` supports. Unknown and GREASE ids are
/// kept (a lookup never asks for them); a leaf whose list is absent or
/// does not decode supports none.
pub fn leaf_components(leaf: &LeafNode) -> Vec<ComponentId> {
    leaf_list(&leaf.extensions, SAFE_AAD_LIST)
}

/// `leaf` (a joiner's, or a member's new one) lists every Safe AAD
/// component `context_extensions` require: "the list of required Safe AAD
/// components (those that must be understood by the entire group)".
pub fn check_leaf(leaf: &LeafNode, context_extensions: &[Extension], who: &str) -> Result<()> {
    let required = required_components(context_extensions)?.unwrap_or_default();
    check_leaf_lists(SAFE_AAD_LIST, &leaf.extensions, &required, who)
}

/// Every member of `tree` lists every Safe AAD component
/// `context_extensions` require.
pub fn check_members(tree: &RatchetTree, context_extensions: &[Extension]) -> Result<()> {
    let required = required_components(context_extensions)?.unwrap_or_default();
    check_members_lists(SAFE_AAD_LIST, tree, &required)
}

/// The `authenticated_data` of a received message, checked: in a group
/// that uses Safe AAD it must be exactly one `SafeAAD` ("the entire
/// `authenticated_data` field is framed as a `SafeAAD` struct"), sorted by
/// component id with one item per id. Returns the parsed items, or `None`
/// in a group without Safe AAD.
pub fn check_received(
    context_extensions: &[Extension],
    authenticated_data: &[u8],
) -> Result<Option<SafeAad>> {
    if required_components(context_extensions)?.is_none() {
        return Ok(None);
    }
    SafeAad::parse(authenticated_data).map(Some).map_err(|e| {
        Error::protocol(
            SAFE_AAD_RULE,
            format!("the authenticated_data is not one valid SafeAAD: {e}"),
        )
    })
}

/// The `authenticated_data` to send for `requested`, in a group with
/// `tree` (`None` for an external joiner, which checks items against the
/// required components only) and `context_extensions`. Without Safe AAD it is `requested`
/// unchanged. With it, an empty `requested` becomes the SafeAAD with no
/// items ("If `safe_aad` is present, but none of the 'safe' AAD components
/// have data to send in a particular message, the `aad_items` is a
/// zero-length vector"); anything else must be one valid SafeAAD whose
/// every item is for a component the group requires or every member lists
/// as supported, or it is refused ([`Error::Misuse`]): the library never
/// sends unsafe AAD into a Safe AAD group.
pub fn frame_outgoing(
    tree: Option<&RatchetTree>,
    context_extensions: &[Extension],
    requested: &[u8],
) -> Result<Vec<u8>> {
    let Some(required) = required_components(context_extensions)? else {
        return Ok(requested.to_vec());
    };
    if requested.is_empty() {
        return SafeAad::default().to_bytes();
    }
    let aad = SafeAad::parse(requested).map_err(|e| {
        Error::Misuse(format!(
            "this group uses Safe AAD: the authenticated data must be one valid SafeAAD ({e})"
        ))
    })?;
    for item in aad.aad_items() {
        let c = item.component_id;
        let everyone =
            || tree.is_some_and(|t| t.members().all(|(_, l)| leaf_components(l).contains(&c)));
        if !required.contains(&c) && !everyone() {
            return Err(Error::Misuse(format!(
                "Safe AAD item for component {c:#06x}, which the group does not require and \
                 not every member supports"
            )));
        }
    }
    Ok(requested.to_vec())
}
