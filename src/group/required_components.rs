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

/// One of the `app_data_dictionary` entries that negotiate components the
/// same way: in the GroupContext, the components every member must
/// support; in a leaf, the components that member supports.
#[derive(Clone, Copy, Debug)]
pub struct ComponentListKind {
    /// The dictionary entry holding the list.
    pub id: ComponentId,
    /// Its name in errors.
    pub name: &'static str,
    /// The rule cited when a member does not list a required component.
    pub rule: &'static str,
}

/// `app_components`: the components themselves.
pub const APP_COMPONENTS_LIST: ComponentListKind = ComponentListKind {
    id: APP_COMPONENTS,
    name: "app_components",
    rule: NEGOTIATION_RULE,
};

/// The `kind` list of `extensions` (a GroupContext's or a leaf's): `None`
/// if their `app_data_dictionary` has no such entry. Fails if the
/// dictionary or the list does not decode.
pub fn component_list(
    extensions: &[Extension],
    kind: ComponentListKind,
) -> Result<Option<Vec<ComponentId>>> {
    let Some(extension) = find_extension(extensions, ExtensionType::APP_DATA_DICTIONARY) else {
        return Ok(None);
    };
    let undecodable = |err: &dyn std::fmt::Display| {
        Error::protocol(
            kind.rule,
            format!("the group's {} list does not decode: {err}", kind.name),
        )
    };
    let dictionary = AppDataDictionary::parse(&extension.extension_data)
        .map_err(|e| undecodable(&e as &dyn std::fmt::Display))?;
    dictionary
        .get(kind.id)
        .map(|bytes| {
            crate::codec::decode_exact::<ComponentsList>(bytes)
                .map(|l| l.component_ids)
                .map_err(|e| undecodable(&e as &dyn std::fmt::Display))
        })
        .transpose()
}

/// The `kind` components a leaf with `extensions` supports. Unknown and
/// GREASE ids are kept as they are: a lookup simply never asks for them. A
/// leaf without the entry, or whose entry does not decode, supports none.
pub fn leaf_list(extensions: &[Extension], kind: ComponentListKind) -> Vec<ComponentId> {
    component_list(extensions, kind)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// The components a leaf supports: its `app_components`.
pub fn leaf_components(extensions: &[Extension]) -> Vec<ComponentId> {
    leaf_list(extensions, APP_COMPONENTS_LIST)
}

/// The components `context_extensions` (a GroupContext's) require: the
/// `app_components` entry of their `app_data_dictionary`, or none. A
/// dictionary or list that does not decode is refused (§12.1.7: it is
/// refused before it is ever set, so this only fires on hostile input).
pub fn required_components(context_extensions: &[Extension]) -> Result<Vec<ComponentId>> {
    Ok(component_list(context_extensions, APP_COMPONENTS_LIST)?.unwrap_or_default())
}

/// The first of `required` that a leaf with `leaf_extensions` does not
/// list in its `kind` list.
fn first_missing(
    leaf_extensions: &[Extension],
    kind: ComponentListKind,
    required: &[ComponentId],
) -> Option<ComponentId> {
    if required.is_empty() {
        return None;
    }
    let listed = leaf_list(leaf_extensions, kind);
    required.iter().copied().find(|id| !listed.contains(id))
}

/// Whether a leaf with `leaf_extensions` lists `component_id` in its
/// `app_components`: the one test of "this member understands the
/// component".
pub fn leaf_lists(leaf_extensions: &[Extension], component_id: ComponentId) -> bool {
    first_missing(leaf_extensions, APP_COMPONENTS_LIST, &[component_id]).is_none()
}

/// A leaf with `leaf_extensions` (a joiner's, or a member's new one) lists
/// each of `required` in its `kind` list; `who` names it in the error.
pub fn check_leaf_lists(
    kind: ComponentListKind,
    leaf_extensions: &[Extension],
    required: &[ComponentId],
    who: &str,
) -> Result<()> {
    match first_missing(leaf_extensions, kind, required) {
        None => Ok(()),
        Some(id) => Err(Error::protocol(
            kind.rule,
            format!(
                "{who} does not list the required component {id:#06x} in its {}",
                kind.name
            ),
        )),
    }
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
    check_leaf_lists(APP_COMPONENTS_LIST, leaf_extensions, &required, who)
}

/// Every member of `tree` lists each of `components` in its `kind` list.
pub fn check_members_lists(
    kind: ComponentListKind,
    tree: &RatchetTree,
    components: &[ComponentId],
) -> Result<()> {
    if components.is_empty() {
        return Ok(());
    }
    for (leaf, node) in tree.members() {
        if let Some(id) = first_missing(&node.extensions, kind, components) {
            return Err(Error::protocol(
                kind.rule,
                format!(
                    "leaf {} does not list component {id:#06x} in its {}",
                    leaf.0, kind.name
                ),
            ));
        }
    }
    Ok(())
}

/// Every member of `tree` lists each of `components` in its
/// `app_components`.
pub fn check_members_list(tree: &RatchetTree, components: &[ComponentId]) -> Result<()> {
    check_members_lists(APP_COMPONENTS_LIST, tree, components)
}

/// Every member of `tree` lists every component `context_extensions`
/// require.
pub fn check_members(tree: &RatchetTree, context_extensions: &[Extension]) -> Result<()> {
    check_members_list(tree, &required_components(context_extensions)?)
}
