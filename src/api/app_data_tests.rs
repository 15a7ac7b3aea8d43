//! Application data agreed by the group (draft-ietf-mls-extensions,
//! AppDataUpdate and AppEphemeral) through the API: members and an
//! observer applying updates in commit order, and hostile proposals and
//! commits refused with the group unchanged.

use std::sync::Arc;

use super::*;
use crate::Error;
use crate::codec::encode;
use crate::crypto::SeededRandom;
use crate::crypto::component::ComponentId;
use crate::framing::{
    Content, FramedContent, MlsMessage, MlsMessageBody, Sender, sign_content, to_public_message,
};
use crate::group::app_data_rules::{APP_DATA_UPDATE_RULE, APP_EPHEMERAL_RULE, NEGOTIATION_RULE};
use crate::messages::app_data_proposals::{AppDataOperation, AppDataUpdate, AppEphemeral};
use crate::messages::commit::Commit;
use crate::messages::proposals::{Proposal, ProposalOrRef};
use crate::test_support::clients::{NOW, client};
use crate::types::ProposalType;
use crate::types::extensions::{Extension, ExtensionType, RequiredCapabilities};

/// A component whose data is the concatenation of its updates.
const LOG: ComponentId = 0x8001;
/// A component used for AppEphemeral notes (and updates in some tests).
const NOTE: ComponentId = 0x8002;

/// Application logic for the tests: `LOG`-style concatenation for every
/// known component. A strict one refuses empty updates; every one refuses
/// the ephemeral data `bad`.
pub(super) struct LogApp {
    known: Vec<ComponentId>,
    strict: bool,
}

impl AppComponents for LogApp {
    fn components(&self) -> Vec<ComponentId> {
        self.known.clone()
    }

    fn apply_updates(
        &self,
        _cx: &AppDataContext<'_>,
        _component_id: ComponentId,
        current: Option<&[u8]>,
        updates: &[AppUpdate<'_>],
    ) -> Result<Vec<u8>, Rejection> {
        let mut data = current.unwrap_or_default().to_vec();
        for u in updates {
            if self.strict && u.update.is_empty() {
                return Err(Rejection::new("an empty update"));
            }
            data.extend_from_slice(u.update);
        }
        Ok(data)
    }

    fn check_ephemeral(
        &self,
        _cx: &AppDataContext<'_>,
        _component_id: ComponentId,
        _sender: &Sender,
        data: &[u8],
    ) -> Result<(), Rejection> {
        if data == b"bad" {
            Err(Rejection::new("bad note"))
        } else {
            Ok(())
        }
    }
}

pub(super) fn app(known: &[ComponentId], strict: bool) -> Arc<LogApp> {
    Arc::new(LogApp {
        known: known.to_vec(),
        strict,
    })
}

pub(super) fn app_client(name: &str, seed: u8, app: Arc<LogApp>) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .app_components(app)
        .build()
        .unwrap()
}

fn observer_with(group: &Group, app: Option<Arc<LogApp>>) -> Observer {
    Observer::from_group_info(
        &group.group_info(true).unwrap(),
        None,
        ObserverOptions {
            clock: Arc::new(FixedClock(NOW)),
            app_components: app.map(|a| a as Arc<dyn AppComponents>),
            ..ObserverOptions::default()
        },
    )
    .unwrap()
}

/// A group of `creator` and `others`, everyone in the same epoch.
pub(super) fn group_of(
    creator: &mut Client,
    others: &mut [&mut Client],
    options: GroupOptions,
) -> Vec<Group> {
    let mut a = creator.create_group(options).unwrap();
    let kps: Vec<Vec<u8>> = others
        .iter_mut()
        .map(|c| c.key_package(KeyPackageOptions::default()).unwrap())
        .collect();
    let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
    let out = a.add(&refs).unwrap();
    a.process(&out.commit).unwrap();
    let welcome = out.welcome.unwrap();
    let mut groups = vec![a];
    for c in others.iter_mut() {
        groups.push(c.join(&welcome, None).unwrap());
    }
    groups
}

/// alice (permissive logic), bob and carol (strict), all knowing LOG and
/// NOTE; and an observer with strict logic.
fn three() -> (Vec<Group>, Observer) {
    let mut alice = app_client("alice", 90, app(&[LOG, NOTE], false));
    let mut bob = app_client("bob", 91, app(&[LOG, NOTE], true));
    let mut carol = app_client("carol", 92, app(&[LOG, NOTE], true));
    let groups = group_of(
        &mut alice,
        &mut [&mut bob, &mut carol],
        GroupOptions::default(),
    );
    let observer = observer_with(&groups[0], Some(app(&[LOG, NOTE], true)));
    (groups, observer)
}

fn log_of(g: &Group, component: ComponentId) -> Option<Vec<u8>> {
    g.app_data_dictionary()
        .unwrap()
        .and_then(|d| d.get(component).map(<[u8]>::to_vec))
}

fn update(component_id: ComponentId, data: &[u8]) -> AppDataUpdate {
    AppDataUpdate {
        component_id,
        op: AppDataOperation::Update(data.to_vec()),
    }
}

fn removal(component_id: ComponentId) -> AppDataUpdate {
    AppDataUpdate {
        component_id,
        op: AppDataOperation::Remove,
    }
}

/// Delivers `message` (a proposal) to every group but `skip` and the
/// observer.
fn deliver_proposal(groups: &mut [Group], skip: usize, observer: &mut Observer, message: &[u8]) {
    for (i, g) in groups.iter_mut().enumerate() {
        if i != skip {
            assert!(matches!(
                g.process(message).unwrap(),
                Event::Proposal { .. }
            ));
        }
    }
    assert!(matches!(
        observer.process(message).unwrap(),
        Observed::Proposal(_)
    ));
}

/// Delivers `commit` by `committer` to everyone, merging it; returns the
/// summary the other members saw.
fn deliver_commit(
    groups: &mut [Group],
    committer: usize,
    observer: &mut Observer,
    commit: &[u8],
) -> Vec<crate::wire::CommitSummary> {
    let mut summaries = Vec::new();
    for (i, g) in groups.iter_mut().enumerate() {
        match g.process(commit).unwrap() {
            Event::OwnCommitMerged { .. } if i == committer => {}
            Event::Commit { staged, .. } if i != committer => {
                summaries.push(staged.summary.clone());
                g.merge(*staged).unwrap();
            }
            other => panic!("member {i}: unexpected {other:?}"),
        }
    }
    match observer.process(commit).unwrap() {
        Observed::Commit(staged) => observer.merge(*staged).unwrap(),
        other => panic!("observer: expected a commit, got {other:?}"),
    }
    let epoch = groups[0].epoch();
    for g in groups.iter() {
        assert_eq!(g.epoch(), epoch);
        assert_eq!(g.epoch_authenticator(), groups[0].epoch_authenticator());
    }
    assert_eq!(observer.epoch(), epoch);
    summaries
}

/// Signs `content` as a PublicMessage from `g`'s member in its epoch, with
/// a valid membership tag (a commit gets a dummy confirmation tag, checked
/// only after the proposal rules): what a hostile member could send.
pub(super) fn forge(g: &Group, content: Content) -> Vec<u8> {
    forge_with_aad(g, content, Vec::new())
}

/// A PublicMessage from `g`'s own leaf with `content` and
/// `authenticated_data`, signed and tagged as a member would.
pub(super) fn forge_with_aad(g: &Group, content: Content, authenticated_data: Vec<u8>) -> Vec<u8> {
    let state = &g.state.epoch;
    let is_commit = matches!(content, Content::Commit(_));
    let framed = FramedContent {
        group_id: state.context.group_id.clone(),
        epoch: state.context.epoch,
        sender: Sender::Member(state.own_leaf()),
        authenticated_data,
        content,
    };
    let mut signed = sign_content(
        &g.state.suite,
        crate::framing::WireFormat::PUBLIC_MESSAGE,
        framed,
        &state.context,
        &g.signer,
    )
    .unwrap();
    if is_commit {
        signed.auth.confirmation_tag = Some(vec![0; g.state.suite.hash_len()]);
    }
    let message = to_public_message(
        &g.state.suite,
        signed,
        &state.keys.membership_key,
        &state.context,
    )
    .unwrap();
    encode(&MlsMessage::new(MlsMessageBody::PublicMessage(Box::new(
        message,
    ))))
    .unwrap()
}

fn forge_commit_by_value(g: &Group, proposals: Vec<Proposal>) -> Vec<u8> {
    forge(
        g,
        Content::Commit(Box::new(Commit {
            proposals: proposals
                .into_iter()
                .map(|p| ProposalOrRef::Proposal(Box::new(p)))
                .collect(),
            path: None,
        })),
    )
}

/// What a rejected message must leave unchanged.
pub(super) fn snapshot(g: &Group) -> (u64, Vec<u8>, Option<Vec<u8>>, usize) {
    (
        g.epoch(),
        g.epoch_authenticator().to_vec(),
        g.app_data_dictionary()
            .unwrap()
            .map(|d| d.to_bytes().unwrap()),
        g.state.proposals().len(),
    )
}

/// `message` is refused by `g` with `rule` and a detail containing
/// `needle`, and `g` is unchanged.
pub(super) fn refused(g: &mut Group, message: &[u8], rule: &str, needle: &str) {
    let before = snapshot(g);
    match g.process(message) {
        Err(Error::Protocol { rule: r, detail }) => {
            assert_eq!(r, rule, "{detail}");
            assert!(detail.contains(needle), "{detail:?} lacks {needle:?}");
        }
        other => panic!("expected {rule} ({needle}), got {other:?}"),
    }
    assert_eq!(snapshot(g), before, "a refused message changed the group");
}

/// The observer refuses `message` the same way, its state unchanged.
fn observer_refuses(observer: &mut Observer, message: &[u8], rule: &str, needle: &str) {
    let before = observer.to_bytes().unwrap();
    match observer.process(message) {
        Err(Error::Protocol { rule: r, detail }) => {
            assert_eq!(r, rule, "{detail}");
            assert!(detail.contains(needle), "{detail:?} lacks {needle:?}");
        }
        other => panic!("observer: expected {rule} ({needle}), got {other:?}"),
    }
    assert_eq!(observer.to_bytes().unwrap(), before);
}

#[test]
fn leaves_advertise_the_components_and_the_proposal_types() {
    let (groups, _) = three();
    for m in groups[0].state.tree().members() {
        let leaf = m.1;
        assert!(
            leaf.capabilities
                .proposals
                .contains(&ProposalType::APP_DATA_UPDATE)
        );
        assert!(
            leaf.capabilities
                .proposals
                .contains(&ProposalType::APP_EPHEMERAL)
        );
        assert!(
            leaf.capabilities
                .extensions
                .contains(&ExtensionType::APP_DATA_DICTIONARY)
        );
        let listed = crate::group::app_data_rules::leaf_components(&leaf.extensions);
        for id in [0x0001, 0x0002, LOG, NOTE] {
            assert!(listed.contains(&id), "{listed:?} lacks {id:#x}");
        }
    }
}

#[test]
fn updates_apply_in_commit_order_for_members_and_the_observer() {
    let (mut g, mut observer) = three();
    // Bob's and Carol's updates are cached; Alice's is by value, after
    // them in the commit. The component's data is the concatenation in
    // commit order, so every member must apply them in that order.
    let b1 = g[1]
        .propose_app_data_update(LOG, AppDataOperation::Update(b"b1".to_vec()))
        .unwrap();
    deliver_proposal(&mut g, 1, &mut observer, &b1);
    let c1 = g[2]
        .propose_app_data_update(LOG, AppDataOperation::Update(b"c1".to_vec()))
        .unwrap();
    deliver_proposal(&mut g, 2, &mut observer, &c1);
    let out = g[0].commit_app_data(vec![update(LOG, b"a1")]).unwrap();
    assert!(out.left_out.is_empty());
    let summaries = deliver_commit(&mut g, 0, &mut observer, &out.commit);
    for s in &summaries {
        assert_eq!(s.app_data_updated, vec![LOG]);
        // "AppDataUpdate proposals do not require an UpdatePath."
        assert!(!s.path_updated);
        assert!(s.extensions.is_some());
    }
    for m in &g {
        assert_eq!(log_of(m, LOG).as_deref(), Some(&b"b1c1a1"[..]));
    }
    assert_eq!(
        observer.app_data_dictionary().unwrap().get(LOG),
        Some(&b"b1c1a1"[..])
    );

    // An update of existing data appends to it.
    let out = g[1].commit_app_data(vec![update(LOG, b"+")]).unwrap();
    deliver_commit(&mut g, 1, &mut observer, &out.commit);
    assert_eq!(log_of(&g[2], LOG).as_deref(), Some(&b"b1c1a1+"[..]));

    // AppEphemeral: every member sees the data with the commit, and the
    // dictionary does not keep it.
    let note = g[1].propose_app_ephemeral(NOTE, b"hi".to_vec()).unwrap();
    deliver_proposal(&mut g, 1, &mut observer, &note);
    let out = g[0].commit().unwrap();
    let summaries = deliver_commit(&mut g, 0, &mut observer, &out.commit);
    let expected = vec![AppEphemeral {
        component_id: NOTE,
        data: b"hi".to_vec(),
    }];
    for s in &summaries {
        assert_eq!(s.app_ephemeral, expected);
        assert!(s.app_data_updated.is_empty());
    }
    assert_eq!(log_of(&g[0], NOTE), None);

    // A remove deletes the entry everywhere.
    let rm = g[2]
        .propose_app_data_update(LOG, AppDataOperation::Remove)
        .unwrap();
    deliver_proposal(&mut g, 2, &mut observer, &rm);
    let out = g[1].commit().unwrap();
    deliver_commit(&mut g, 1, &mut observer, &out.commit);
    for m in &g {
        assert_eq!(log_of(m, LOG), None);
    }
    assert_eq!(observer.app_data_dictionary().unwrap().get(LOG), None);
}

#[test]
fn hostile_proposals_are_refused_on_receipt() {
    let (mut g, mut observer) = three();
    let unknown = Proposal::AppDataUpdate(update(0x9999, b"x"));
    // Our own API refuses it before sending.
    let err = g[0]
        .propose_app_data_update(0x9999, AppDataOperation::Update(b"x".to_vec()))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { rule, .. } if *rule == APP_DATA_UPDATE_RULE),
        "{err:?}"
    );
    // Forged: "invalid if its component_id references a component that is
    // not known to the application".
    let m = forge(&g[0], Content::Proposal(Box::new(unknown)));
    refused(
        &mut g[1],
        &m,
        APP_DATA_UPDATE_RULE,
        "not known to the application",
    );
    observer_refuses(&mut observer, &m, APP_DATA_UPDATE_RULE, "not known");

    // "... or if it specifies the removal of state for a component_id that
    // has no state present."
    let m = forge(
        &g[0],
        Content::Proposal(Box::new(Proposal::AppDataUpdate(removal(LOG)))),
    );
    refused(&mut g[2], &m, APP_DATA_UPDATE_RULE, "has no state");
    observer_refuses(&mut observer, &m, APP_DATA_UPDATE_RULE, "has no state");

    // AppEphemeral: "invalid if ... the data field is considered invalid
    // by the application logic".
    let m = forge(
        &g[0],
        Content::Proposal(Box::new(Proposal::AppEphemeral(AppEphemeral {
            component_id: NOTE,
            data: b"bad".to_vec(),
        }))),
    );
    refused(&mut g[1], &m, APP_EPHEMERAL_RULE, "bad note");
    observer_refuses(&mut observer, &m, APP_EPHEMERAL_RULE, "bad note");

    // The group still works: a valid update is committed by everyone.
    let out = g[0].commit_app_data(vec![update(LOG, b"ok")]).unwrap();
    deliver_commit(&mut g, 0, &mut observer, &out.commit);
    assert_eq!(log_of(&g[1], LOG).as_deref(), Some(&b"ok"[..]));
}

#[test]
fn a_component_some_member_does_not_list_is_refused() {
    // Dave's application knows LOG only; Alice's knows NOTE too.
    let mut alice = app_client("alice", 93, app(&[LOG, NOTE], true));
    let mut dave = app_client("dave", 94, app(&[LOG], true));
    let mut g = group_of(&mut alice, &mut [&mut dave], GroupOptions::default());
    let mut observer = observer_with(&g[0], Some(app(&[LOG, NOTE], true)));
    let err = g[0]
        .propose_app_data_update(NOTE, AppDataOperation::Update(b"x".to_vec()))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { rule, detail } if *rule == NEGOTIATION_RULE
            && detail.contains("leaf 1")),
        "{err:?}"
    );
    let m = forge(
        &g[0],
        Content::Proposal(Box::new(Proposal::AppDataUpdate(update(NOTE, b"x")))),
    );
    // The observer knows NOTE, but Dave's leaf does not list it.
    observer_refuses(
        &mut observer,
        &m,
        NEGOTIATION_RULE,
        "does not list component",
    );
    refused(
        &mut g[1],
        &m,
        APP_DATA_UPDATE_RULE,
        "not known to the application",
    );
    // A commit carrying it by value is refused as well.
    let c = forge_commit_by_value(&g[0], vec![Proposal::AppDataUpdate(update(NOTE, b"x"))]);
    refused(
        &mut g[1],
        &c,
        APP_DATA_UPDATE_RULE,
        "not known to the application",
    );
    observer_refuses(
        &mut observer,
        &c,
        NEGOTIATION_RULE,
        "does not list component",
    );
}

#[test]
fn a_member_without_the_proposal_type_blocks_app_data() {
    // Erin's client registers no component logic: her leaf lists neither
    // proposal type (§12.2: every member must support a non-default type).
    let mut alice = app_client("alice", 95, app(&[LOG], true));
    let mut erin = client("erin", 96);
    let mut g = group_of(&mut alice, &mut [&mut erin], GroupOptions::default());
    let err = g[0]
        .propose_app_data_update(LOG, AppDataOperation::Update(b"x".to_vec()))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { rule: "§12.2", detail } if detail.contains("does not support")),
        "{err:?}"
    );
    let m = forge(
        &g[0],
        Content::Proposal(Box::new(Proposal::AppDataUpdate(update(LOG, b"x")))),
    );
    refused(&mut g[1], &m, "§12.2", "does not support proposal type");
}

#[test]
fn hostile_commits_are_refused_with_the_group_unchanged() {
    let (mut g, mut observer) = three();
    let out = g[0].commit_app_data(vec![update(LOG, b"x")]).unwrap();
    deliver_commit(&mut g, 0, &mut observer, &out.commit);

    // Alice's permissive logic accepts an empty update; the others' refuse
    // it: "If the application logic considers the update invalid, the MLS
    // client MUST consider the proposal list invalid."
    let out = g[0].commit_app_data(vec![update(LOG, b"")]).unwrap();
    for i in [1, 2] {
        refused(&mut g[i], &out.commit, APP_DATA_UPDATE_RULE, "empty update");
    }
    observer_refuses(
        &mut observer,
        &out.commit,
        APP_DATA_UPDATE_RULE,
        "empty update",
    );
    assert!(g[0].discard_pending());

    // "A proposal list is invalid if it includes multiple AppDataUpdate
    // proposals that remove state for the same component_id, or proposals
    // that both update and remove state for the same component_id."
    for list in [
        vec![update(LOG, b"y"), removal(LOG)],
        vec![removal(LOG), update(LOG, b"y")],
        vec![removal(LOG), removal(LOG)],
    ] {
        let c = forge_commit_by_value(
            &g[0],
            list.into_iter().map(Proposal::AppDataUpdate).collect(),
        );
        for i in [1, 2] {
            refused(&mut g[i], &c, APP_DATA_UPDATE_RULE, "both removes");
        }
        observer_refuses(&mut observer, &c, APP_DATA_UPDATE_RULE, "both removes");
    }
    // Our own commit refuses the same list before sending anything.
    let err = g[0]
        .commit_app_data(vec![update(LOG, b"y"), removal(LOG)])
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { rule, .. } if *rule == APP_DATA_UPDATE_RULE),
        "{err:?}"
    );
    assert!(!g[0].has_pending_commit());

    // The group still works, and the data is what the valid commits made.
    let out = g[2].commit_app_data(vec![update(LOG, b"z")]).unwrap();
    deliver_commit(&mut g, 2, &mut observer, &out.commit);
    for m in &g {
        assert_eq!(log_of(m, LOG).as_deref(), Some(&b"xz"[..]));
    }
}

#[test]
fn selection_leaves_out_a_remove_that_conflicts_with_a_covered_update() {
    let (mut g, mut observer) = three();
    let out = g[0].commit_app_data(vec![update(LOG, b"x")]).unwrap();
    deliver_commit(&mut g, 0, &mut observer, &out.commit);
    let up = g[1]
        .propose_app_data_update(LOG, AppDataOperation::Update(b"u".to_vec()))
        .unwrap();
    deliver_proposal(&mut g, 1, &mut observer, &up);
    let rm = g[2]
        .propose_app_data_update(LOG, AppDataOperation::Remove)
        .unwrap();
    deliver_proposal(&mut g, 2, &mut observer, &rm);
    let out = g[0].commit().unwrap();
    assert_eq!(out.left_out.len(), 1);
    assert_eq!(out.left_out[0].proposal_type, ProposalType::APP_DATA_UPDATE);
    deliver_commit(&mut g, 0, &mut observer, &out.commit);
    assert_eq!(log_of(&g[1], LOG).as_deref(), Some(&b"xu"[..]));
}

#[test]
fn group_context_extensions_may_not_touch_a_pinned_dictionary() {
    // With AppDataUpdate in required_capabilities, "a
    // GroupContextExtensions proposal MUST NOT add, remove, or modify the
    // app_data_dictionary GroupContext extension".
    let required = RequiredCapabilities {
        extension_types: vec![ExtensionType::APP_DATA_DICTIONARY],
        proposal_types: vec![ProposalType::APP_DATA_UPDATE],
        credential_types: Vec::new(),
    };
    let options = GroupOptions::default()
        .required_capabilities(required.clone())
        .unwrap();
    let mut alice = app_client("alice", 97, app(&[LOG], true));
    let mut bob = app_client("bob", 98, app(&[LOG], true));
    let mut g = group_of(&mut alice, &mut [&mut bob], options);
    let required_ext = Extension {
        extension_type: ExtensionType::REQUIRED_CAPABILITIES,
        extension_data: encode(&required).unwrap(),
    };
    let dictionary = crate::types::app_data::AppDataDictionary::new(vec![
        crate::types::app_data::ComponentData {
            component_id: LOG,
            data: b"forced".to_vec(),
        },
    ])
    .unwrap()
    .to_extension()
    .unwrap();
    let gce = |extensions: Vec<Extension>| {
        Content::Proposal(Box::new(Proposal::GroupContextExtensions(
            crate::messages::proposals::GroupContextExtensions { extensions },
        )))
    };
    let m = forge(&g[0], gce(vec![required_ext.clone(), dictionary]));
    refused(
        &mut g[1],
        &m,
        APP_DATA_UPDATE_RULE,
        "changes the app_data_dictionary",
    );
    // A malformed dictionary (entries out of order) is refused (§12.1.7).
    let unsorted = Extension {
        extension_type: ExtensionType::APP_DATA_DICTIONARY,
        extension_data: vec![8, 0x80, 0x02, 0, 0x80, 0x01, 0, 0, 0],
    };
    let m = forge(&g[0], gce(vec![required_ext.clone(), unsorted]));
    refused(&mut g[1], &m, "§12.1.7", "does not decode");
    // Leaving the dictionary alone is allowed, and AppDataUpdate sets it.
    let ok = g[0]
        .propose_group_context_extensions(vec![required_ext])
        .unwrap();
    assert!(matches!(g[1].process(&ok).unwrap(), Event::Proposal { .. }));
    let out = g[1].commit_app_data(vec![update(LOG, b"v")]).unwrap();
    g[1].process(&out.commit).unwrap();
    match g[0].process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => g[0].merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    assert_eq!(log_of(&g[0], LOG).as_deref(), Some(&b"v"[..]));
}
