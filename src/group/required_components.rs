//! Required components (draft-ietf-mls-extensions, "Negotiating Extensions
//! and Components"): the `app_components` entry of the GroupContext's
//! `app_data_dictionary` lists the components "that must be understood by
//! the entire group", and a member understands the components its leaf lists
//! in its own `app_components`. Every member must list every required
//! component: a joiner, a member's new leaf, and every member after a commit
//! or a GroupContextExtensions that changes the list. The same
//! member-lists-component test decides whether an AppDataUpdate or
//! AppEphemeral of a component is valid (`app_data_rules`).

use crate::crypto::component::ComponentId;
use crate::crypto::component::component_ids::APP_COMPONENTS;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::Extension;
use crate::types::app_data::{AppDataDictionary, ComponentsList};
use crate::types::extensions::{ExtensionType, find_extension};
use crate::{Error, Result};

/// The rule cited when a component is not supported by every member.
pub const NEGOTIATION_RULE: &str =
    "draft-ietf-mls-extensions §Negotiating Extensions and Components";

/// The components a leaf supports: its `app_components` (an entry of its
/// `app_data_dictionary` leaf extension). Unknown and GREASE ids are kept
/// as they are: a lookup simply never asks for them. A leaf without the
/// entry, or whose entry does not decode, supports none.
pub fn leaf_components(extensions: &[Extension]) -> Vec<ComponentId> {
    find_extension(extensions, ExtensionType::APP_DATA_DICTIONARY)
        .and_then(|e| AppDataDictionary::parse(&e.extension_data).ok())
        .and_then(|d| {
            d.get(APP_COMPONENTS)
                .and_then(|bytes| crate::codec::decode_exact::<ComponentsList>(bytes).ok())
        })
        .map(|l| l.component_ids)
        .unwrap_or_default()
}

/// The components `context_extensions` (a GroupContext's) require: the
/// `app_components` entry of their `app_data_dictionary`, or none. A
/// dictionary or list that does not decode is refused (§12.1.7: it is
/// refused before it is ever set, so this only fires on hostile input).
pub fn required_components(context_extensions: &[Extension]) -> Result<Vec<ComponentId>> {
    let Some(extension) = find_extension(context_extensions, ExtensionType::APP_DATA_DICTIONARY)
    else {
        return Ok(Vec::new());
    };
    let undecodable = |err: &dyn std::fmt::Display| {
        Error::protocol(
            NEGOTIATION_RULE,
            format!("the group's required app_components do not decode: {err}"),
        )
    };
    let dictionary = AppDataDictionary::parse(&extension.extension_data)
        .map_err(|e| undecodable(&e as &dyn std::fmt::Display))?;
    match dictionary.get(APP_COMPONENTS) {
        None => Ok(Vec::new()),
        Some(bytes) => crate::codec::decode_exact::<ComponentsList>(bytes)
            .map(|l| l.component_ids)
            .map_err(|e| undecodable(&e as &dyn std::fmt::Display)),
    }
}

/// The first of `required` that a leaf with `leaf_extensions` does not
/// list in its `app_components`.
fn first_missing(leaf_extensions: &[Extension], required: &[ComponentId]) -> Option<ComponentId> {
    if required.is_empty() {
        return None;
    }
    let listed = leaf_components(leaf_extensions);
    required.iter().copied().find(|id| !listed.contains(id))
}

/// Whether a leaf with `leaf_extensions` lists `component_id` in its
/// `app_components`: the one test of "this member understands the
/// component".
pub fn leaf_lists(leaf_extensions: &[Extension], component_id: ComponentId) -> bool {
    first_missing(leaf_extensions, &[component_id]).is_none()
}

/// A leaf with `leaf_extensions` (a joiner's, or a member's new one) lists
/// every component `context_extensions` require; `who` names it in the
/// error.
pub fn check_leaf(
    leaf_extensions: &[Extension],
    context_extensions: &[Extension],
    who: &str,
) -> Result<()> {
    let required = required_components(context_extensions)?;
    match first_missing(leaf_extensions, &required) {
        None => Ok(()),
        Some(id) => Err(Error::protocol(
            NEGOTIATION_RULE,
            format!("{who} does not list the required component {id:#06x} in its app_components"),
        )),
    }
}

/// Every member of `tree` lists each of `components` in its
/// `app_components`.
pub fn check_members_list(tree: &RatchetTree, components: &[ComponentId]) -> Result<()> {
    if components.is_empty() {
        return Ok(());
    }
    for (leaf, node) in tree.members() {
        if let Some(id) = first_missing(&node.extensions, components) {
            return Err(Error::protocol(
                NEGOTIATION_RULE,
                format!(
                    "leaf {} does not list component {id:#06x} in its app_components",
                    leaf.0
                ),
            ));
        }
    }
    Ok(())
}

/// Every member of `tree` lists every component `context_extensions`
/// require.
pub fn check_members(tree: &RatchetTree, context_extensions: &[Extension]) -> Result<()> {
    check_members_list(tree, &required_components(context_extensions)?)
}
