//! Proposal validity (§12.1), proposal-list validity (§12.2) and applying a
//! proposal list to the tree and context (§12.3).

use std::collections::HashSet;

use crate::crypto::Suite;
use crate::framing::Sender;
use crate::group::app_data_rules::{
    APP_DATA_UPDATE_RULE, AppComponents, AppDataEffects, apply_app_proposals,
    check_extensions_keep_dictionary, group_dictionary,
};
use crate::group::psk_store::{PskUse, check_psk_id};
use crate::messages::app_data_proposals::AppDataOperation;
use crate::messages::proposals::{Proposal, ReInit};
use crate::schedule::{GroupContext, PreSharedKeyId};
use crate::tree::leaf_validation::{LeafRole, LifetimePolicy, validate_leaf_node};
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::ProtocolVersion;
use crate::types::extensions::{
    ExtensionType, RequiredCapabilities, check_unique_types, decode_extension,
};
use crate::types::math::LeafIndex;
use crate::types::{Commits, ProposalType};
use crate::{Error, Result};

/// A proposal and its sender, as a commit covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalWithSender {
    /// The proposal.
    pub proposal: Proposal,
    /// Who proposed it.
    pub sender: Sender,
    /// Its ProposalRef when it came by reference.
    pub reference: Option<Vec<u8>>,
}

#[cfg(test)]
thread_local! {
    /// Decodes of `required_capabilities` on this thread: tests count them
    /// to show a commit decodes the extension a constant number of times.
    pub(crate) static REQUIRED_CAPABILITIES_DECODES: std::cell::Cell<usize> =
        const { std::cell::Cell::new(0) };
}

/// The group's `required_capabilities`, if any.
pub fn required_capabilities(context: &GroupContext) -> Result<Option<RequiredCapabilities>> {
    #[cfg(test)]
    REQUIRED_CAPABILITIES_DECODES.with(|c| c.set(c.get() + 1));
    decode_extension(
        &context.extensions,
        ExtensionType::REQUIRED_CAPABILITIES,
        "required_capabilities",
    )
}

fn sender_name(sender: &Sender) -> String {
    match sender {
        Sender::Member(l) => format!("leaf {}", l.0),
        Sender::External(i) => format!("external sender {i}"),
        Sender::NewMemberProposal => "a new member (proposal)".into(),
        Sender::NewMemberCommit => "a new member (commit)".into(),
    }
}

/// Checks who may send a proposal of this type (§12.1.8): external senders
/// only add, remove, psk, reinit and group_context_extensions; a
/// new_member_proposal only an Add.
pub fn check_sender_may_propose(sender: &Sender, proposal: &Proposal) -> Result<()> {
    let t = proposal.proposal_type();
    let rules = t.rules();
    let allowed = match sender {
        Sender::Member(_) => true, // their ExternalInit: §12.1.6 standalone, §12.2 in a commit
        Sender::External(_) => rules.external_sender,
        Sender::NewMemberProposal => rules.new_member,
        Sender::NewMemberCommit => false,
    };
    // draft-ietf-mls-extensions: "SelfRemove cannot be sent as an external
    // proposal".
    let section = if t == ProposalType::SELF_REMOVE {
        SELF_REMOVE_RULE
    } else {
        "§12.1.8"
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::protocol(
            section,
            format!("{} may not send a {t:?} proposal", sender_name(sender)),
        ))
    }
}

/// Checks one proposal against the group as it stands (§12.1.1-§12.1.7).
/// `context` is the context the proposal is evaluated in (after a
/// GroupContextExtensions of the same commit, if any).
pub fn validate_proposal(
    suite: &Suite,
    tree: &RatchetTree,
    context: &GroupContext,
    sender: &Sender,
    proposal: &Proposal,
    lifetime: LifetimePolicy,
) -> Result<()> {
    let required = required_capabilities(context)?;
    validate_proposal_in(
        suite,
        tree,
        context,
        required.as_ref(),
        sender,
        proposal,
        lifetime,
    )?;
    // draft-ietf-mls-extensions, Multi-Credentials: a new leaf's
    // multi-credential against the current members, and theirs against
    // it. A commit checks the whole tree once instead (`apply_list`).
    match (proposal, sender) {
        (Proposal::Add(add), _) => {
            tree.check_new_multi_credential(&add.key_package.leaf_node, None, "the added member")
        }
        (Proposal::Update(update), Sender::Member(leaf)) => {
            tree.check_new_multi_credential(&update.leaf_node, Some(*leaf), "the updated leaf")
        }
        _ => Ok(()),
    }
}

/// [`validate_proposal`] with the context's `required_capabilities`
/// already decoded: a commit decodes it once, not once per proposal.
fn validate_proposal_in(
    suite: &Suite,
    tree: &RatchetTree,
    context: &GroupContext,
    required: Option<&RequiredCapabilities>,
    sender: &Sender,
    proposal: &Proposal,
    lifetime: LifetimePolicy,
) -> Result<()> {
    match proposal {
        // §12.1.1: invalid if the KeyPackage is invalid (§10.1).
        Proposal::Add(add) => {
            add.key_package.validate(suite, required, lifetime)?;
            // draft-ietf-mls-extensions: every member supports the
            // group's required wire formats.
            crate::group::wire_format_rules::check_leaf(
                &add.key_package.leaf_node,
                &context.extensions,
                "the added member",
            )?;
            crate::group::safe_aad_rules::check_leaf(
                &add.key_package.leaf_node,
                &context.extensions,
                "the added member",
            )?;
            // draft-ietf-mls-extensions: the GroupContext's `app_components`
            // are required components, which every member must list.
            crate::group::required_components::check_leaf(
                &add.key_package.leaf_node.extensions,
                &context.extensions,
                "the added member",
            )?;
            // §13.4 / §12.1.1: the new member must support every group
            // context extension.
            if let Some(e) = context.extensions.iter().find(|e| {
                !add.key_package
                    .leaf_node
                    .capabilities
                    .supports_extension(e.extension_type)
            }) {
                return Err(Error::protocol(
                    "§12.1.1",
                    format!(
                        "added member does not support group extension {:?}",
                        e.extension_type
                    ),
                ));
            }
            Ok(())
        }
        // §12.1.2: the leaf must be valid for an Update from its sender.
        Proposal::Update(update) => {
            let Sender::Member(leaf) = sender else {
                return Err(Error::protocol(
                    "§12.1.2",
                    format!("Update from {}, not a member", sender_name(sender)),
                ));
            };
            let current = tree.leaf(*leaf).ok_or_else(|| {
                Error::protocol("§12.1.2", format!("Update from blank leaf {}", leaf.0))
            })?;
            let role = LeafRole::Update {
                group_id: &context.group_id,
                leaf: *leaf,
                replaced: &current.encryption_key,
            };
            validate_leaf_node(suite, &update.leaf_node, role, required, lifetime)
        }
        // §12.1.3: `removed` must identify a non-blank leaf.
        Proposal::Remove(remove) => {
            if tree.leaf(remove.removed).is_none() {
                return Err(Error::protocol(
                    "§12.1.3",
                    format!(
                        "Remove of leaf {}, which is blank or outside the tree",
                        remove.removed.0
                    ),
                ));
            }
            Ok(())
        }
        Proposal::PreSharedKey(psk) => check_psk_id(suite, &psk.psk, PskUse::Normal),
        // §12.1.5: the version must not go down.
        Proposal::ReInit(reinit) => {
            if reinit.version < ProtocolVersion::MLS10 {
                return Err(Error::protocol(
                    "§12.1.5",
                    format!("ReInit to version {:?}, below MLS 1.0", reinit.version),
                ));
            }
            check_unique_types(&reinit.extensions, "ReInit extensions")
        }
        // §12.1.6: only inside an external commit.
        Proposal::ExternalInit(_) => Ok(()),
        Proposal::GroupContextExtensions(gce) => {
            check_unique_types(&gce.extensions, "GroupContextExtensions")?;
            check_app_data_dictionary(&gce.extensions)?;
            check_extensions_keep_dictionary(required, &context.extensions, &gce.extensions)?;
            crate::group::wire_format_rules::check_members(tree, &gce.extensions)?;
            crate::group::safe_aad_rules::check_members(tree, &gce.extensions)?;
            crate::group::required_components::check_members(tree, &gce.extensions)?;
            check_members_support(tree, &gce.extensions)
        }
        // draft-ietf-mls-extensions: the checks that need no application
        // logic (the others run on receipt and at commit, with the
        // application's hook: `app_data_rules`). Like any non-default type,
        // every member must support it (§12.2 / §13); "the removal of state
        // for a component_id that has no state present" is invalid.
        Proposal::AppDataUpdate(u) => {
            tree.check_all_support(ProposalType::APP_DATA_UPDATE)?;
            if u.op == AppDataOperation::Remove
                && group_dictionary(context)?.get(u.component_id).is_none()
            {
                return Err(Error::protocol(
                    APP_DATA_UPDATE_RULE,
                    format!(
                        "an AppDataUpdate removes component {:#06x}, which has no state",
                        u.component_id
                    ),
                ));
            }
            Ok(())
        }
        Proposal::AppEphemeral(_) => tree.check_all_support(ProposalType::APP_EPHEMERAL),
        Proposal::SelfRemove(_) => {
            // draft-ietf-mls-extensions, SelfRemove: the leaf removed is the
            // sender's, so the sender must be a member ("The member is able
            // to verify that the Sender was a member").
            let Sender::Member(leaf) = sender else {
                return Err(Error::protocol(
                    SELF_REMOVE_RULE,
                    format!("SelfRemove from {}, not a member", sender_name(sender)),
                ));
            };
            if tree.leaf(*leaf).is_none() {
                return Err(Error::protocol(
                    SELF_REMOVE_RULE,
                    format!("SelfRemove from blank leaf {}", leaf.0),
                ));
            }
            // Its rules "only apply if all the members of a group support
            // this proposal in their capabilities".
            tree.check_all_support(ProposalType::SELF_REMOVE)
        }
        Proposal::Custom { proposal_type, .. } => tree.check_all_support(*proposal_type),
    }
}

/// The rule cited by the SelfRemove checks: the section of
/// draft-ietf-mls-extensions that defines the proposal.
pub const SELF_REMOVE_RULE: &str = "draft-ietf-mls-extensions §SelfRemove";

/// §12.1.7: a GroupContext `app_data_dictionary` (draft-ietf-mls-extensions)
/// must decode, sorted by component id with one entry per id ("MUST be
/// sorted", "MUST be at most one entry"); otherwise it would be merged and
/// fail at every later use.
pub fn check_app_data_dictionary(extensions: &[crate::types::Extension]) -> Result<()> {
    if let Some(e) =
        crate::types::extensions::find_extension(extensions, ExtensionType::APP_DATA_DICTIONARY)
    {
        let dictionary = crate::codec::decode_exact::<crate::types::app_data::AppDataDictionary>(
            &e.extension_data,
        )
        .map_err(|err| {
            Error::protocol(
                "§12.1.7",
                format!("the app_data_dictionary extension does not decode: {err}"),
            )
        })?;
        crate::group::app_data_rules::check_library_components(&dictionary)?;
    }
    Ok(())
}

/// Whether the group is "self-remove-capable" (draft-ietf-mls-extensions,
/// SelfRemove): every member lists SelfRemove in its capabilities. A
/// `required_capabilities` naming SelfRemove implies it (§11.1 holds every
/// member to it), so the leaves are the one place to look.
pub fn self_remove_capable(tree: &RatchetTree) -> bool {
    tree.check_all_support(ProposalType::SELF_REMOVE).is_ok()
}

/// What a proposal list does, in the order §12.3 applies it.
#[derive(Debug, Default, Clone)]
pub struct ProposalEffects {
    /// The new group context extensions, if replaced.
    pub extensions: Option<Vec<crate::types::Extension>>,
    /// Leaves that sent an Update.
    pub updated: Vec<LeafIndex>,
    /// Leaves removed.
    pub removed: Vec<LeafIndex>,
    /// Leaves added, in proposal order.
    pub added: Vec<LeafIndex>,
    /// PSKs to inject, in proposal order.
    pub psks: Vec<PreSharedKeyId>,
    /// `kem_output` of the ExternalInit, if any.
    pub external_init: Option<Vec<u8>>,
    /// The ReInit, if any.
    pub reinit: Option<ReInit>,
    /// Whether some proposal requires the commit to carry a path (§12.4).
    pub path_required: bool,
    /// What the AppEphemeral and AppDataUpdate proposals did
    /// (draft-ietf-mls-extensions).
    pub app_data: AppDataEffects,
}

/// Checks the rules of §12.2 that concern the list as a whole for a commit
/// by `committer` (a member, or `None` for an external commit).
pub fn check_list(
    tree: &RatchetTree,
    committer: Option<LeafIndex>,
    list: &[ProposalWithSender],
) -> Result<()> {
    let rule = |detail: String| Error::protocol("§12.2", detail);
    let mut touched: HashSet<LeafIndex> = HashSet::new();
    let mut removed: HashSet<LeafIndex> = HashSet::new();
    let mut add_keys = HashSet::new();
    let mut psk_ids = HashSet::new();
    let mut at_most_one: HashSet<ProposalType> = HashSet::new();
    let mut repeated = None;
    let mut alone = None;
    let mut external_inits = 0;

    for p in list {
        let t = p.proposal.proposal_type();
        match t.rules().commit {
            Commits::RegularAtMostOne => {
                if !at_most_one.insert(t) {
                    repeated = repeated.or(Some(t));
                }
            }
            Commits::RegularAlone => alone = alone.or(Some(t)),
            Commits::ExternalOnly => external_inits += 1,
            Commits::Any | Commits::Regular => {}
        }
        match &p.proposal {
            Proposal::Update(_) => {
                let Sender::Member(leaf) = p.sender else {
                    return Err(rule("an Update not sent by a member".into()));
                };
                if Some(leaf) == committer || committer.is_none() {
                    return Err(rule(format!(
                        "the committer (leaf {}) covers its own Update",
                        leaf.0
                    )));
                }
                if !touched.insert(leaf) {
                    return Err(rule(format!(
                        "several Update/Remove proposals for leaf {}",
                        leaf.0
                    )));
                }
            }
            Proposal::SelfRemove(_) => {
                let self_rule = |detail: String| Error::protocol(SELF_REMOVE_RULE, detail);
                // "SelfRemove proposals are only allowed in a Commit by
                // reference."
                if p.reference.is_none() {
                    return Err(self_rule(
                        "a SelfRemove in a commit by value; it is only allowed by reference".into(),
                    ));
                }
                let Sender::Member(leaf) = p.sender else {
                    return Err(self_rule("a SelfRemove not sent by a member".into()));
                };
                // §12.2 forbids the committer's removal in its own commit;
                // a SelfRemove is "treated like a Remove Proposal".
                if Some(leaf) == committer {
                    return Err(rule(format!(
                        "the committer (leaf {}) covers its own SelfRemove",
                        leaf.0
                    )));
                }
                // With a Remove (or Update, or another SelfRemove) of the
                // same leaf: "the Remove proposal is invalid", and "a
                // client MUST NOT issue more than one SelfRemove proposal
                // per epoch".
                if !touched.insert(leaf) {
                    return Err(rule(format!(
                        "several Update/Remove proposals for leaf {} (one a SelfRemove)",
                        leaf.0
                    )));
                }
                removed.insert(leaf);
            }
            Proposal::Remove(r) => {
                if Some(r.removed) == committer {
                    return Err(rule(format!(
                        "the committer (leaf {}) removes itself",
                        r.removed.0
                    )));
                }
                if !touched.insert(r.removed) {
                    return Err(rule(format!(
                        "several Update/Remove proposals for leaf {}",
                        r.removed.0
                    )));
                }
                removed.insert(r.removed);
            }
            Proposal::Add(add) => {
                let key = add.key_package.leaf_node.signature_key.clone();
                if !add_keys.insert(key) {
                    return Err(rule(
                        "two Adds of the same client (same signature key)".into(),
                    ));
                }
            }
            Proposal::PreSharedKey(psk) => {
                if !psk_ids.insert(psk.psk.clone()) {
                    return Err(rule(
                        "two PreSharedKey proposals with the same PreSharedKeyID".into(),
                    ));
                }
            }
            // Counted above from their rules.
            Proposal::GroupContextExtensions(_)
            | Proposal::ExternalInit(_)
            | Proposal::ReInit(_)
            | Proposal::AppDataUpdate(_)
            | Proposal::AppEphemeral(_)
            | Proposal::Custom { .. } => {}
        }
    }
    // §12.2: an Add of a client already in the group, unless removed here.
    // The keys of removed members, collected once: a scan of the members per
    // Add would make a commit of n Removes and n Adds quadratic.
    let removed_keys: HashSet<&[u8]> = removed
        .iter()
        .filter_map(|l| tree.leaf(*l))
        .map(|n| n.signature_key.as_bytes())
        .collect();
    for p in list {
        if let Proposal::Add(add) = &p.proposal {
            let key = &add.key_package.leaf_node.signature_key;
            if tree.contains_signature_key(key) && !removed_keys.contains(key.as_bytes()) {
                return Err(rule(
                    "an Add of a client already in the group (same signature key)".into(),
                ));
            }
        }
    }
    if let Some(t) = repeated {
        return Err(rule(format!("several {} proposals", type_name(t))));
    }
    if let Some(t) = alone.filter(|_| list.len() > 1) {
        return Err(rule(format!(
            "a {} together with other proposals",
            type_name(t)
        )));
    }
    match committer {
        Some(_) => match list
            .iter()
            .map(|p| p.proposal.proposal_type())
            .find(|t| !t.rules().in_regular_commit())
        {
            Some(t) => Err(rule(format!("an {} in a regular commit", type_name(t)))),
            None => Ok(()),
        },
        None => check_external_list(list, external_inits),
    }
}

/// A proposal type as messages name it: its RFC structure, or its number.
fn type_name(t: ProposalType) -> String {
    t.structure_name()
        .map_or_else(|| format!("{t:?}"), str::to_owned)
}

/// §12.2 for external commits: exactly one ExternalInit, at most one
/// Remove, any PSKs, nothing else.
fn check_external_list(list: &[ProposalWithSender], external_inits: usize) -> Result<()> {
    if external_inits != 1 {
        return Err(Error::protocol(
            "§12.2",
            format!("an external commit with {external_inits} ExternalInit proposals, not one"),
        ));
    }
    let removes = list
        .iter()
        .filter(|p| matches!(p.proposal, Proposal::Remove(_)))
        .count();
    if removes > 1 {
        return Err(Error::protocol(
            "§12.2",
            "an external commit with several Removes",
        ));
    }
    if let Some(p) = list
        .iter()
        .find(|p| !p.proposal.proposal_type().rules().in_external_commit())
    {
        return Err(Error::protocol(
            "§12.2",
            format!(
                "an external commit with a {:?} proposal",
                p.proposal.proposal_type()
            ),
        ));
    }
    Ok(())
}

/// Applies a valid list to `tree` and `context` in the order of §12.3 and
/// validates each proposal in the context it is applied in. `app` is the
/// application's component logic, which decides on the AppEphemeral and
/// AppDataUpdate proposals (draft-ietf-mls-extensions), applied after the
/// default ones; `external` tells whether the commit is an external one.
pub fn apply_list(
    suite: &Suite,
    tree: &mut RatchetTree,
    context: &mut GroupContext,
    list: &[ProposalWithSender],
    lifetime: LifetimePolicy,
    app: Option<&dyn AppComponents>,
    external: bool,
) -> Result<ProposalEffects> {
    let mut fx = ProposalEffects::default();
    let required_before = required_capabilities(context)?;
    // §12.3: GroupContextExtensions first; the new extensions apply to the
    // validation of the rest.
    for p in list {
        if let Proposal::GroupContextExtensions(gce) = &p.proposal {
            // Whether the members support the new extensions is checked
            // once the list is applied, against the members after it.
            check_unique_types(&gce.extensions, "GroupContextExtensions")?;
            check_app_data_dictionary(&gce.extensions)?;
            check_extensions_keep_dictionary(
                required_before.as_ref(),
                &context.extensions,
                &gce.extensions,
            )?;
            context.extensions = gce.extensions.clone();
            fx.extensions = Some(gce.extensions.clone());
        }
    }
    let required = required_capabilities(context)?;
    // §12.4: the types whose rules say so require a path.
    fx.path_required = list
        .iter()
        .any(|p| p.proposal.proposal_type().rules().path_required);
    // Each proposal is checked on its own against the same tree and
    // context, so the checks (two signatures per Add) run on all cores; the
    // error reported is the first failing proposal's in list order.
    let checked: Vec<&ProposalWithSender> = list
        .iter()
        .filter(|p| !matches!(p.proposal, Proposal::GroupContextExtensions(_)))
        .collect();
    let (shared_tree, shared_context): (&RatchetTree, &GroupContext) = (tree, context);
    crate::parallel::try_map(checked, |p| {
        validate_proposal_in(
            suite,
            shared_tree,
            shared_context,
            required.as_ref(),
            &p.sender,
            &p.proposal,
            lifetime,
        )
    })?;
    for p in list {
        if let (Proposal::Update(u), Sender::Member(leaf)) = (&p.proposal, &p.sender) {
            tree.update_leaf(*leaf, u.leaf_node.clone())?;
            fx.updated.push(*leaf);
        }
    }
    // draft-ietf-mls-extensions: "SelfRemove proposals are processed after
    // Update proposals and before Remove proposals"; the leaf removed is
    // the proposal's sender's.
    for p in list {
        if let (Proposal::SelfRemove(_), Sender::Member(leaf)) = (&p.proposal, &p.sender) {
            tree.remove_leaf(*leaf)?;
            fx.removed.push(*leaf);
        }
    }
    for p in list {
        if let Proposal::Remove(r) = &p.proposal {
            tree.remove_leaf(r.removed)?;
            fx.removed.push(r.removed);
        }
    }
    for p in list {
        if let Proposal::Add(add) = &p.proposal {
            let leaf = &add.key_package.leaf_node;
            // §7.3 uniqueness after the commit: the new keys are not in use.
            if tree.contains_encryption_key(&leaf.encryption_key)
                || tree.contains_signature_key(&leaf.signature_key)
            {
                return Err(Error::protocol(
                    "§7.3",
                    "an added leaf reuses a key already in the tree",
                ));
            }
            fx.added.push(tree.add_leaf(leaf.clone())?);
        }
    }
    // draft-ietf-mls-extensions, Multi-Credentials: every member after the
    // Updates, Removes and Adds supports what each multi-credential needs.
    tree.check_multi_credentials()?;
    for p in list {
        match &p.proposal {
            Proposal::PreSharedKey(psk) => fx.psks.push(psk.psk.clone()),
            Proposal::ExternalInit(ei) => fx.external_init = Some(ei.kem_output.clone()),
            Proposal::ReInit(r) => fx.reinit = Some(r.clone()),
            // Applied above (§12.3 order), below, or nothing to apply.
            Proposal::GroupContextExtensions(_)
            | Proposal::Update(_)
            | Proposal::Remove(_)
            | Proposal::SelfRemove(_)
            | Proposal::Add(_)
            | Proposal::AppDataUpdate(_)
            | Proposal::AppEphemeral(_)
            | Proposal::Custom { .. } => {}
        }
    }
    // draft-ietf-mls-extensions: AppEphemeral, then AppDataUpdate, "after
    // any default proposals", against the members after them.
    if list.iter().any(|p| {
        matches!(
            p.proposal,
            Proposal::AppDataUpdate(_) | Proposal::AppEphemeral(_)
        )
    }) {
        let pairs: Vec<(&Sender, &Proposal)> =
            list.iter().map(|p| (&p.sender, &p.proposal)).collect();
        fx.app_data = apply_app_proposals(app, tree, context, external, &pairs)?;
        if !fx.app_data.updated.is_empty() {
            fx.extensions = Some(context.extensions.clone());
        }
    }
    // draft-ietf-mls-extensions: every member after the commit (with its
    // new leaf, for an Update) supports the required wire formats.
    crate::group::wire_format_rules::check_members(tree, &context.extensions)?;
    // draft-ietf-mls-extensions: every member after the commit lists the
    // Safe AAD components the group requires, and every required component.
    crate::group::safe_aad_rules::check_members(tree, &context.extensions)?;
    crate::group::required_components::check_members(tree, &context.extensions)?;
    // §13.4: every member after the commit (new ones included, removed ones
    // excluded) supports every extension of the new GroupContext.
    if let Some(extensions) = &fx.extensions {
        check_members_support(tree, extensions)?;
    }
    // §12.1.7: required capabilities must hold for every member after the
    // commit (new ones included, removed ones excluded).
    if fx.extensions.is_some()
        && let Some(req) = required
    {
        for (leaf, node) in tree.members() {
            let caps = &node.capabilities;
            let ok = req
                .extension_types
                .iter()
                .all(|t| caps.supports_extension(*t))
                && req
                    .proposal_types
                    .iter()
                    .all(|t| caps.supports_proposal(*t))
                && req
                    .credential_types
                    .iter()
                    .all(|t| caps.credentials.contains(t));
            if !ok {
                return Err(Error::protocol(
                    "§12.1.7",
                    format!(
                        "leaf {} does not support the new required capabilities",
                        leaf.0
                    ),
                ));
            }
        }
    }
    Ok(fx)
}

/// §13.4: "an extension in use by the group MUST be supported by all
/// members of the group" (a GroupContext extension is mandatory): every
/// member's capabilities list each of `extensions` (default types need no
/// listing, §7.2).
fn check_members_support(tree: &RatchetTree, extensions: &[crate::types::Extension]) -> Result<()> {
    for (leaf, node) in tree.members() {
        if let Some(e) = extensions
            .iter()
            .find(|e| !node.capabilities.supports_extension(e.extension_type))
        {
            return Err(Error::protocol(
                "§13.4",
                format!(
                    "leaf {} does not support extension {:?} of the new group context",
                    leaf.0, e.extension_type
                ),
            ));
        }
    }
    Ok(())
}

/// Whether `proposal` may be covered by a commit (used when caching).
pub fn is_committable(proposal: &Proposal) -> bool {
    !matches!(proposal, Proposal::ExternalInit(_))
}
