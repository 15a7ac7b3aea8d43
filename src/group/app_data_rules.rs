//! The rules of the application-data proposals of draft-ietf-mls-extensions
//! (AppDataUpdate, AppEphemeral) and the application's hook that decides
//! on their content: checked when a proposal is received, and applied to
//! the GroupContext `app_data_dictionary` when a commit is staged or made.

use std::collections::BTreeMap;

use crate::crypto::component::ComponentId;
use crate::crypto::component::component_ids::{
    APP_ACK, APP_COMPONENTS, CONTENT_MEDIA_TYPES, SAFE_AAD,
};
use crate::framing::Sender;
use crate::messages::app_data_proposals::{AppDataOperation, AppDataUpdate, AppEphemeral};
use crate::messages::proposals::Proposal;
use crate::schedule::GroupContext;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::Extension;
use crate::types::app_data::{AppDataDictionary, ComponentData, ComponentsList};
use crate::types::content_media::{AppAck, MediaTypeList};
pub use crate::types::credential_validation::Rejection;
use crate::types::extensions::{ExtensionType, RequiredCapabilities, find_extension};
use crate::types::math::LeafIndex;
use crate::types::{ProposalType, app_data};
use crate::{Error, Result};

/// The rule cited by the AppDataUpdate checks.
pub const APP_DATA_UPDATE_RULE: &str =
    "draft-ietf-mls-extensions §Updating Application Data in the GroupContext";
/// The rule cited by the AppEphemeral checks.
pub const APP_EPHEMERAL_RULE: &str =
    "draft-ietf-mls-extensions §Attaching Application Data to a Commit";
/// The rule cited by the AppAck checks.
pub const APP_ACK_RULE: &str = "draft-ietf-mls-extensions §AppAck";
/// The rule cited by the content advertisement checks.
pub const CONTENT_RULE: &str = "draft-ietf-mls-extensions §Content Advertisement";
pub use crate::group::required_components::{NEGOTIATION_RULE, leaf_components};

/// Where a decision of [`AppComponents`] is asked.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AppDataContext<'a> {
    /// The group.
    pub group_id: &'a [u8],
    /// The epoch the proposal or commit belongs to (before the commit).
    pub epoch: u64,
    /// Whether the commit is an external commit (`None` when a proposal is
    /// checked on receipt, before any commit).
    pub external_commit: Option<bool>,
}

/// One AppDataUpdate `update` handed to the application, with who sent it.
#[derive(Debug, Clone, Copy)]
pub struct AppUpdate<'a> {
    /// The proposal's sender (a member, or an external sender).
    pub sender: &'a Sender,
    /// The `update` field.
    pub update: &'a [u8],
}

/// The application logic of draft-ietf-mls-extensions components: what
/// the draft calls "the application logic registered to the
/// `component_id`".
///
/// Every member (and an observer that follows the group) must decide
/// alike: implementations must be deterministic functions of their
/// arguments, or members will refuse each other's commits.
pub trait AppComponents: Send + Sync {
    /// The component ids this application knows. An AppDataUpdate or
    /// AppEphemeral for any other id is invalid (the draft: "a component
    /// that is not known to the application"). A client registering this
    /// hook advertises these ids in the `app_components` of its leaves.
    fn components(&self) -> Vec<ComponentId>;

    /// The new data of `component_id` after `updates` (in commit order),
    /// from `current` (`None` when the dictionary has no entry for it), or
    /// a [`Rejection`], which makes the whole commit invalid ("If the
    /// application logic considers the update invalid, the MLS client MUST
    /// consider the proposal list invalid").
    fn apply_updates(
        &self,
        cx: &AppDataContext<'_>,
        component_id: ComponentId,
        current: Option<&[u8]>,
        updates: &[AppUpdate<'_>],
    ) -> Result<Vec<u8>, Rejection>;

    /// Whether `data` of an AppEphemeral proposal for `component_id` from
    /// `sender` is valid. Called on receipt of the proposal and again, in
    /// commit order, when a commit covers it. Default: valid.
    fn check_ephemeral(
        &self,
        cx: &AppDataContext<'_>,
        component_id: ComponentId,
        sender: &Sender,
        data: &[u8],
    ) -> Result<(), Rejection> {
        let _ = (cx, component_id, sender, data);
        Ok(())
    }
}

/// What the application-data proposals of a commit did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AppDataEffects {
    /// The AppEphemeral proposals, in commit order.
    pub ephemeral: Vec<AppEphemeral>,
    /// The components whose dictionary entry was set or removed, sorted.
    pub updated: Vec<ComponentId>,
}

/// The rule cited when a GroupInfo's `app_data_dictionary` is malformed.
pub const GROUP_INFO_APP_DATA_RULE: &str =
    "draft-ietf-mls-extensions §Attaching Application Data to MLS Messages";

/// The `app_data_dictionary` of a GroupInfo's `extensions`, which
/// "distributes the application data confidentially to the new joiners":
/// refused unless it decodes, sorted by component id with at most one
/// entry per id (the draft's two MUSTs). GREASE entries are dropped
/// ("Unknown values (including GREASE values) in any of these fields MUST
/// be ignored"); other unknown ids are the application's to read.
pub fn group_info_dictionary(extensions: &[Extension]) -> Result<Option<AppDataDictionary>> {
    let Some(e) = find_extension(extensions, ExtensionType::APP_DATA_DICTIONARY) else {
        return Ok(None);
    };
    let dictionary = AppDataDictionary::parse(&e.extension_data).map_err(|err| {
        Error::protocol(
            GROUP_INFO_APP_DATA_RULE,
            format!("the GroupInfo's app_data_dictionary does not decode: {err}"),
        )
    })?;
    let kept = dictionary
        .component_data()
        .iter()
        .filter(|c| !crate::types::grease::COMPONENT_GREASE.contains(&c.component_id))
        .cloned()
        .collect();
    AppDataDictionary::new(kept).map(Some)
}

/// The group's `app_data_dictionary`, or an empty one. A GroupContext one
/// that does not decode was refused when it was set (§12.1.7), so failing
/// here is a protocol error of the same rule.
pub fn group_dictionary(context: &GroupContext) -> Result<AppDataDictionary> {
    match find_extension(&context.extensions, ExtensionType::APP_DATA_DICTIONARY) {
        Some(e) => AppDataDictionary::parse(&e.extension_data).map_err(|err| {
            Error::protocol(
                "§12.1.7",
                format!("the group's app_data_dictionary does not decode: {err}"),
            )
        }),
        None => Ok(AppDataDictionary::default()),
    }
}

/// Checks that `component_id` is known to the application and supported
/// by every member of `tree`; `rule` is the section cited.
fn check_component(
    app: Option<&dyn AppComponents>,
    tree: &RatchetTree,
    component_id: ComponentId,
    rule: &'static str,
) -> Result<()> {
    let known = app.is_some_and(|a| a.components().contains(&component_id));
    if !known {
        return Err(Error::protocol(
            rule,
            format!("component {component_id:#06x} is not known to the application"),
        ));
    }
    // Leaves list the components they support in `app_components`; one
    // that does not list it could not process the proposal.
    crate::group::required_components::check_members_list(tree, &[component_id])
}

/// The checks of an AppDataUpdate or AppEphemeral proposal on its own that
/// need the application: the component is known to the application and
/// supported by every member, and the application accepts an AppEphemeral's
/// data. Other proposals pass unchecked. Every caller also runs
/// `proposal_rules::validate_proposal`, which checks that every member
/// supports the proposal type and that a `remove` has state to remove: not
/// repeated here (each is a scan of the members).
pub fn check_app_proposal(
    app: Option<&dyn AppComponents>,
    tree: &RatchetTree,
    context: &GroupContext,
    sender: &Sender,
    proposal: &Proposal,
) -> Result<()> {
    match proposal {
        Proposal::AppDataUpdate(u) => {
            check_component(app, tree, u.component_id, APP_DATA_UPDATE_RULE)
        }
        Proposal::AppEphemeral(e) => {
            check_component(app, tree, e.component_id, APP_EPHEMERAL_RULE)?;
            let cx = AppDataContext {
                group_id: &context.group_id,
                epoch: context.epoch,
                external_commit: None,
            };
            check_ephemeral(app, &cx, e, sender)
        }
        _ => Ok(()),
    }
}

fn remove_without_state(component_id: ComponentId) -> Error {
    Error::protocol(
        APP_DATA_UPDATE_RULE,
        format!("an AppDataUpdate removes component {component_id:#06x}, which has no state"),
    )
}

fn check_ephemeral(
    app: Option<&dyn AppComponents>,
    cx: &AppDataContext<'_>,
    e: &AppEphemeral,
    sender: &Sender,
) -> Result<()> {
    // The library reads the `app_ack` component itself: an AppAck that
    // does not decode (or has an inverted range) is invalid whatever the
    // application says.
    if e.component_id == APP_ACK {
        crate::codec::decode_exact::<AppAck>(&e.data).map_err(|err| {
            Error::protocol(
                APP_ACK_RULE,
                format!("an AppEphemeral of app_ack whose AppAck does not decode: {err}"),
            )
        })?;
    }
    let Some(app) = app else {
        return Err(Error::Internal("AppEphemeral checked without application"));
    };
    app.check_ephemeral(cx, e.component_id, sender, &e.data)
        .map_err(|r| {
            Error::protocol(
                APP_EPHEMERAL_RULE,
                format!(
                    "the application refuses the AppEphemeral data of component {:#06x}: {r}",
                    e.component_id
                ),
            )
        })
}

/// "When an MLS group contains the AppDataUpdate proposal type in the
/// `proposal_types` list in the group's `required_capabilities` extension,
/// a GroupContextExtensions proposal MUST NOT add, remove, or modify the
/// `app_data_dictionary` GroupContext extension."
pub fn check_extensions_keep_dictionary(
    required: Option<&RequiredCapabilities>,
    old: &[Extension],
    new: &[Extension],
) -> Result<()> {
    let pinned =
        required.is_some_and(|r| r.proposal_types.contains(&ProposalType::APP_DATA_UPDATE));
    let dictionary = |e: &[Extension]| {
        find_extension(e, ExtensionType::APP_DATA_DICTIONARY).map(|x| x.extension_data.clone())
    };
    if pinned && dictionary(old) != dictionary(new) {
        return Err(Error::protocol(
            APP_DATA_UPDATE_RULE,
            "a GroupContextExtensions changes the app_data_dictionary of a group that requires \
             AppDataUpdate",
        ));
    }
    Ok(())
}

/// Applies the AppEphemeral and then the AppDataUpdate proposals of a
/// commit, after the default proposals ("AppEphemeral proposals MUST be
/// processed after any default proposals ... but before any AppDataUpdate
/// proposals"), to `context` (its `app_data_dictionary`), with `tree` the
/// members after the default proposals. `list` is the commit's proposals
/// in commit order. Fails, changing nothing the caller keeps, on any
/// invalid proposal or list.
pub fn apply_app_proposals(
    app: Option<&dyn AppComponents>,
    tree: &RatchetTree,
    context: &mut GroupContext,
    external_commit: bool,
    list: &[(&Sender, &Proposal)],
) -> Result<AppDataEffects> {
    let mut fx = AppDataEffects::default();
    let cx_context = context.clone();
    let cx = AppDataContext {
        group_id: &cx_context.group_id,
        epoch: cx_context.epoch,
        external_commit: Some(external_commit),
    };
    // One scan of the members for the type, whatever the number of
    // AppEphemeral proposals.
    if list
        .iter()
        .any(|(_, p)| matches!(p, Proposal::AppEphemeral(_)))
    {
        tree.check_all_support(ProposalType::APP_EPHEMERAL)?;
    }
    for (sender, p) in list {
        if let Proposal::AppEphemeral(e) = p {
            check_component(app, tree, e.component_id, APP_EPHEMERAL_RULE)?;
            check_ephemeral(app, &cx, e, sender)?;
            fx.ephemeral.push(e.clone());
        }
    }
    // For each component, its proposals in commit order.
    let mut by_component: BTreeMap<ComponentId, Vec<(&Sender, &AppDataUpdate)>> = BTreeMap::new();
    for (sender, p) in list {
        if let Proposal::AppDataUpdate(u) = p {
            by_component
                .entry(u.component_id)
                .or_default()
                .push((sender, u));
        }
    }
    if by_component.is_empty() {
        return Ok(fx);
    }
    tree.check_all_support(ProposalType::APP_DATA_UPDATE)?;
    let mut dictionary = group_dictionary(context)?.component_data().to_vec();
    for (component_id, updates) in &by_component {
        let component_id = *component_id;
        check_component(app, tree, component_id, APP_DATA_UPDATE_RULE)?;
        let removes = updates
            .iter()
            .filter(|(_, u)| u.op == AppDataOperation::Remove)
            .count();
        let at = dictionary.binary_search_by_key(&component_id, |c| c.component_id);
        if removes > 0 {
            // "a proposal list is valid only if it contains (a) a single
            // remove operation or (b) one or more update operations".
            if updates.len() > 1 {
                return Err(Error::protocol(
                    APP_DATA_UPDATE_RULE,
                    format!(
                        "the commit both removes component {component_id:#06x} and removes or \
                         updates it again"
                    ),
                ));
            }
            match at {
                Ok(i) => {
                    dictionary.remove(i);
                }
                Err(_) => return Err(remove_without_state(component_id)),
            }
        } else {
            let current = at.ok().map(|i| dictionary[i].data.as_slice());
            let inputs: Vec<AppUpdate<'_>> = updates
                .iter()
                .map(|(sender, u)| AppUpdate {
                    sender,
                    update: match &u.op {
                        AppDataOperation::Update(bytes) => bytes,
                        AppDataOperation::Remove => &[],
                    },
                })
                .collect();
            let Some(app) = app else {
                return Err(Error::Internal("AppDataUpdate applied without application"));
            };
            let data = app
                .apply_updates(&cx, component_id, current, &inputs)
                .map_err(|r| {
                    Error::protocol(
                        APP_DATA_UPDATE_RULE,
                        format!(
                            "the application refuses the update of component \
                             {component_id:#06x}: {r}"
                        ),
                    )
                })?;
            match at {
                Ok(i) => dictionary[i].data = data,
                Err(i) => dictionary.insert(i, ComponentData { component_id, data }),
            }
        }
        fx.updated.push(component_id);
    }
    let dictionary = AppDataDictionary::new(dictionary)?;
    check_library_components(&dictionary)?;
    let extension = dictionary.to_extension()?;
    match context
        .extensions
        .iter()
        .position(|e| e.extension_type == ExtensionType::APP_DATA_DICTIONARY)
    {
        Some(i) => context.extensions[i] = extension,
        None => {
            // "If no app_data_dictionary extension is present in the
            // GroupContext, add one to the end of the extensions list";
            // §13.4: every member must then support the extension.
            if let Some((leaf, _)) = tree.members().find(|(_, l)| {
                !l.capabilities
                    .supports_extension(ExtensionType::APP_DATA_DICTIONARY)
            }) {
                return Err(Error::protocol(
                    "§13.4",
                    format!(
                        "leaf {} does not support the app_data_dictionary extension an \
                         AppDataUpdate adds",
                        leaf.0
                    ),
                ));
            }
            context.extensions.push(extension);
        }
    }
    Ok(fx)
}

/// The entries of a GroupContext dictionary that the library reads must
/// decode: `app_components` and `safe_aad` as a `ComponentsList`,
/// `content_media_types` as a non-empty `MediaTypeList` ("must contain at
/// least one item").
pub fn check_library_components(dictionary: &AppDataDictionary) -> Result<()> {
    for id in [APP_COMPONENTS, SAFE_AAD] {
        if let Some(data) = dictionary.get(id) {
            crate::codec::decode_exact::<ComponentsList>(data).map_err(|err| {
                Error::protocol(
                    NEGOTIATION_RULE,
                    format!("component {id:#06x} of the group does not decode: {err}"),
                )
            })?;
        }
    }
    if let Some(data) = dictionary.get(CONTENT_MEDIA_TYPES) {
        crate::codec::decode_exact::<MediaTypeList>(data).map_err(|err| {
            Error::protocol(
                CONTENT_RULE,
                format!("the group's content_media_types does not decode: {err}"),
            )
        })?;
    }
    Ok(())
}

/// Whether two cached proposals may not be committed together: an
/// AppDataUpdate `remove` and any other AppDataUpdate of the same
/// component.
pub fn app_updates_conflict(a: &Proposal, b: &Proposal) -> bool {
    match (a, b) {
        (Proposal::AppDataUpdate(x), Proposal::AppDataUpdate(y)) => {
            x.component_id == y.component_id
                && (x.op == AppDataOperation::Remove || y.op == AppDataOperation::Remove)
        }
        _ => false,
    }
}

/// The leaves of `tree` that do not list `component_id` in their
/// `app_components`.
pub fn leaves_without_component(tree: &RatchetTree, component_id: ComponentId) -> Vec<LeafIndex> {
    tree.members()
        .filter(|(_, l)| {
            !crate::group::required_components::leaf_lists(&l.extensions, component_id)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Sets `component_id` in the `app_components` entry of `extensions` (a
/// leaf's), keeping the ids already listed.
pub fn advertise_components(extensions: &mut Vec<Extension>, ids: &[ComponentId]) -> Result<()> {
    let mut listed = leaf_components(extensions);
    for id in ids {
        if !listed.contains(id) {
            listed.push(*id);
        }
    }
    let list = ComponentsList {
        component_ids: listed,
    };
    app_data::put_component(
        extensions,
        APP_COMPONENTS,
        crate::codec::encode(&list)?,
        true,
    )
}
