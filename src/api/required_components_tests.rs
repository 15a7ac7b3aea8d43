//! Required components (draft-ietf-mls-extensions, "Negotiating Extensions
//! and Components": the GroupContext's `app_components` is "the list of
//! required components"): every member lists each in its leaf
//! `app_components`. Each way of bringing in a member that does not, or of
//! requiring a component a member lacks, is refused with the group
//! unchanged.

use super::app_data_tests::{app, app_client, forge, group_of, refused};
use super::*;
use crate::Error;
use crate::codec::encode;
use crate::crypto::component::ComponentId;
use crate::crypto::component::component_ids::{APP_COMPONENTS, SAFE_AAD};
use crate::framing::Content;
use crate::group::app_data_rules::NEGOTIATION_RULE;
use crate::group::commit_create::CommitParams;
use crate::messages::commit::Commit;
use crate::messages::proposals::{Add, GroupContextExtensions, Proposal, ProposalOrRef};
use crate::types::app_data::{AppDataDictionary, ComponentData, ComponentsList, put_component};
use crate::types::extensions::Extension;

const LOG: ComponentId = 0x8001;
const NOTE: ComponentId = 0x8002;

/// A GroupContext `app_data_dictionary` requiring `ids`.
fn requiring(ids: &[ComponentId]) -> Extension {
    AppDataDictionary::new(vec![ComponentData {
        component_id: APP_COMPONENTS,
        data: encode(&ComponentsList {
            component_ids: ids.to_vec(),
        })
        .unwrap(),
    }])
    .unwrap()
    .to_extension()
    .unwrap()
}

fn requiring_options(ids: &[ComponentId]) -> GroupOptions {
    GroupOptions {
        extensions: vec![requiring(ids)],
        ..GroupOptions::default()
    }
}

fn refused_with(result: Result<impl std::fmt::Debug, Error>, needle: &str) {
    match result {
        Err(Error::Protocol { rule, detail }) => {
            assert_eq!(rule, NEGOTIATION_RULE, "{detail}");
            assert!(detail.contains(needle), "{detail:?} lacks {needle:?}");
        }
        other => panic!("expected {NEGOTIATION_RULE} ({needle}), got {other:?}"),
    }
}

/// Alice and Bob list LOG and NOTE; Carol lists only LOG.
fn clients() -> (Client, Client, Client) {
    (
        app_client("alice", 180, app(&[LOG, NOTE], false)),
        app_client("bob", 181, app(&[LOG, NOTE], false)),
        app_client("carol", 182, app(&[LOG], false)),
    )
}

fn key_package_of(client: &mut Client) -> (Vec<u8>, crate::messages::key_package::KeyPackageData) {
    let bytes = client.key_package(KeyPackageOptions::default()).unwrap();
    let data = match Group::decode_message(&bytes).unwrap().body {
        crate::framing::MlsMessageBody::KeyPackage(kp) => *kp,
        other => panic!("{other:?}"),
    };
    (bytes, data)
}

#[test]
fn a_creator_must_list_the_components_it_requires() {
    let (mut alice, _, mut carol) = clients();
    refused_with(
        carol.create_group(requiring_options(&[NOTE])),
        "the creator's leaf does not list the required component 0x8002",
    );
    assert!(alice.create_group(requiring_options(&[NOTE])).is_ok());
}

#[test]
fn an_add_of_a_member_without_a_required_component_is_refused() {
    let (mut alice, mut bob, mut carol) = clients();
    let mut g = group_of(&mut alice, &mut [&mut bob], requiring_options(&[NOTE]));
    let (bytes, kp) = key_package_of(&mut carol);

    // Our own add refuses her key package before anything is sent.
    refused_with(g[0].add(&[&bytes]), "the added member does not list");
    assert!(!g[0].has_pending_commit());

    // A forged Add proposal, and a forged commit adding her, are refused.
    let proposal = forge(
        &g[0],
        Content::Proposal(Box::new(Proposal::Add(Add {
            key_package: kp.clone(),
        }))),
    );
    refused(
        &mut g[1],
        &proposal,
        NEGOTIATION_RULE,
        "the added member does not list",
    );
    let commit = forge(
        &g[0],
        Content::Commit(Box::new(Commit {
            proposals: vec![ProposalOrRef::Proposal(Box::new(Proposal::Add(Add {
                key_package: kp,
            })))],
            path: None,
        })),
    );
    refused(
        &mut g[1],
        &commit,
        NEGOTIATION_RULE,
        "the added member does not list",
    );
}

#[test]
fn requiring_a_component_a_member_lacks_is_refused() {
    let (mut alice, mut bob, mut carol) = clients();
    let mut g = group_of(
        &mut alice,
        &mut [&mut bob, &mut carol],
        requiring_options(&[LOG]),
    );
    let gce = |ids: &[ComponentId]| {
        Proposal::GroupContextExtensions(GroupContextExtensions {
            extensions: vec![requiring(ids)],
        })
    };

    // Carol (leaf 2) does not list NOTE: a proposal requiring it, or a
    // commit carrying one, is refused.
    let proposal = forge(&g[0], Content::Proposal(Box::new(gce(&[LOG, NOTE]))));
    refused(
        &mut g[1],
        &proposal,
        NEGOTIATION_RULE,
        "leaf 2 does not list component 0x8002",
    );
    let commit = forge(
        &g[0],
        Content::Commit(Box::new(Commit {
            proposals: vec![ProposalOrRef::Proposal(Box::new(gce(&[LOG, NOTE])))],
            path: None,
        })),
    );
    refused(
        &mut g[1],
        &commit,
        NEGOTIATION_RULE,
        "does not list component 0x8002",
    );

    // Requiring what every member lists is accepted.
    let ok = g[0]
        .propose_group_context_extensions(vec![requiring(&[LOG, APP_COMPONENTS])])
        .unwrap();
    assert!(matches!(g[1].process(&ok).unwrap(), Event::Proposal { .. }));
}

#[test]
fn an_external_joiner_without_a_required_component_is_refused() {
    let (mut alice, mut bob, mut carol) = clients();
    let g = group_of(&mut alice, &mut [&mut bob], requiring_options(&[NOTE]));
    let info = g[0].group_info(true).unwrap();
    refused_with(
        carol.join_by_external_commit(&info, None, None),
        "this joiner's leaf does not list the required component 0x8002",
    );
    let mut dave = app_client("dave", 183, app(&[LOG, NOTE], false));
    assert!(dave.join_by_external_commit(&info, None, None).is_ok());
}

#[test]
fn a_committer_whose_new_leaf_drops_a_required_component_is_refused() {
    let (mut alice, mut bob, _) = clients();
    let mut g = group_of(&mut alice, &mut [&mut bob], requiring_options(&[NOTE]));
    // Alice commits with a new leaf that lists LOG but no longer NOTE (the
    // engine's own checks look at the tree before the path, so it signs it).
    let own = g[0].state.tree().leaf(g[0].own_leaf()).unwrap().clone();
    let mut extensions = own.extensions.clone();
    put_component(
        &mut extensions,
        APP_COMPONENTS,
        encode(&ComponentsList {
            component_ids: vec![APP_COMPONENTS, SAFE_AAD, LOG],
        })
        .unwrap(),
        true,
    )
    .unwrap();
    let a = &mut g[0];
    let mut params = CommitParams {
        by_value: vec![],
        by_reference: vec![],
        force_path: true,
        wire_format: crate::framing::WireFormat::PUBLIC_MESSAGE,
        ratchet_tree_in_welcome: true,
        authenticated_data: vec![],
        signer: &a.signer,
        leaf: None,
        psks: &crate::group::psk_store::NoPsks,
        now: crate::test_support::clients::NOW,
        dangerous_skip_validation: false,
        extra_psks: vec![],
        psk_use: crate::group::psk_store::PskUse::Normal,
        group_info_extensions: vec![],
    };
    params.leaf = Some(crate::tree::treekem::LeafContent {
        signature_key: own.signature_key.clone(),
        credential: own.credential.clone(),
        capabilities: own.capabilities.clone(),
        extensions,
    });
    let created = a.state.create_commit(params, &mut *a.rng).unwrap();
    refused(
        &mut g[1],
        &created.message,
        NEGOTIATION_RULE,
        "the committer's new leaf does not list the required component 0x8002",
    );
}

#[test]
fn a_tree_to_join_whose_member_lacks_a_required_component_is_refused() {
    // The joiner's check (validate_tree_for, used by Welcome joins and by a
    // partial client's upgrade): the same tree is accepted against a
    // GroupContext requiring LOG, which every member lists, and refused
    // against one requiring NOTE, which Carol (leaf 2) does not.
    let (mut alice, mut bob, mut carol) = clients();
    let g = group_of(
        &mut alice,
        &mut [&mut bob, &mut carol],
        requiring_options(&[LOG]),
    );
    let state = &g[0].state;
    let lifetime = crate::tree::leaf_validation::LifetimePolicy::dangerous_unchecked();
    let check = |context: &crate::schedule::GroupContext| {
        crate::group::join::validate_tree_for(&state.suite, state.tree(), context, lifetime)
    };
    check(state.context()).expect("every member lists LOG");
    let mut context = state.context().clone();
    context.extensions = vec![requiring(&[LOG, NOTE])];
    refused_with(check(&context), "leaf 2 does not list component 0x8002");
}
