//! Resource limits (GroupConfig) and linear cost on attacker-controlled
//! input: the proposal cache, the group size, required_capabilities decodes,
//! and lifetimes of leaves already in a tree (§7.3).

use super::*;
use crate::group::external::ExternalJoin;
use crate::group::join::JoinInputs;
use crate::group::proposal_rules::REQUIRED_CAPABILITIES_DECODES;
use crate::group::psk_store::PskUse;
use crate::messages::key_package::{KeyPackageData, KeyPackageParams};
use crate::test_support::FIXTURE_LIFETIME;
use crate::tree::leaf_node::{Capabilities, Lifetime};
use crate::tree::nodes::{Node, RatchetTreeWire};
use crate::tree::treekem::LeafContent;
use crate::types::extensions::RequiredCapabilities;

/// A `new_member_proposal` Add from outsider number `i`.
fn outsider_add(g: &GroupState, i: u8) -> Vec<u8> {
    let outsider = EngineMember::new("outsider", 100 + i);
    let (kp, _) = outsider.key_package(&mut rng(100 + i));
    frame_public(
        g,
        &outsider.signer,
        Sender::NewMemberProposal,
        g.epoch(),
        Content::Proposal(Box::new(add(kp))),
    )
}

#[test]
fn the_proposal_cache_is_bounded() {
    let (clients, mut groups) = group_of(2);
    for g in groups.iter_mut() {
        g.config.max_cached_proposals = 3;
    }
    for i in 0..3 {
        let message = outsider_add(&groups[0], i);
        assert!(matches!(
            groups[0].process(&message, &NoPsks, NOW),
            Ok(Received::Proposal(_))
        ));
    }
    let before = snapshot(&groups[0]);
    let message = outsider_add(&groups[0], 3);
    match groups[0].process(&message, &NoPsks, NOW) {
        Err(Error::Limit(detail)) => assert!(detail.contains("max_cached_proposals"), "{detail}"),
        other => panic!("expected the cache limit, got {other:?}"),
    }
    assert_eq!(snapshot(&groups[0]), before);
    // A commit empties the cache; proposals are accepted again.
    still_works(&clients, &mut groups, 1, 0x31);
    let message = outsider_add(&groups[0], 4);
    assert!(matches!(
        groups[0].process(&message, &NoPsks, NOW),
        Ok(Received::Proposal(_))
    ));
}

/// A key package of a fresh client named `name`, valid during `lifetime`.
pub(super) fn key_package_of(
    name: &'static str,
    seed: u8,
    lifetime: Lifetime,
) -> (
    KeyPackageData,
    crate::messages::key_package::KeyPackagePrivate,
) {
    let c = EngineMember::new(name, seed);
    KeyPackageData::create(
        &c.suite,
        &c.signer,
        &c.public,
        KeyPackageParams {
            credential: Credential::basic(name.as_bytes().to_vec()),
            lifetime,
            capabilities: Capabilities::for_suite(c.suite.id()),
            leaf_extensions: vec![],
            extensions: vec![],
        },
        &mut rng(seed),
    )
    .unwrap()
}

/// Decodes of required_capabilities while a member stages a commit that
/// replaces the extension and adds `adds` members.
fn decodes_to_stage(adds: u8) -> usize {
    let required = RequiredCapabilities {
        extension_types: vec![],
        proposal_types: vec![],
        credential_types: vec![],
    };
    let extension = Extension {
        extension_type: ExtensionType::REQUIRED_CAPABILITIES,
        extension_data: encode(&required).unwrap(),
    };
    let (clients, mut groups) = group_with_extensions(2, vec![extension.clone()]);
    let mut proposals = vec![Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: vec![extension],
    })];
    for i in 0..adds {
        proposals.push(add(key_package_of("joiner", 120 + i, FIXTURE_LIFETIME).0));
    }
    let created = groups[0]
        .create_commit(clients[0].params(proposals), &mut rng(119))
        .unwrap();
    REQUIRED_CAPABILITIES_DECODES.with(|c| c.set(0));
    let staged = groups[1].process(&created.message, &NoPsks, NOW).unwrap();
    assert!(matches!(staged, Received::Commit(_)));
    REQUIRED_CAPABILITIES_DECODES.with(|c| c.get())
}

#[test]
fn a_commit_decodes_required_capabilities_a_constant_number_of_times() {
    let few = decodes_to_stage(2);
    let many = decodes_to_stage(24);
    assert_eq!(few, many, "decodes grow with the number of proposals");
    assert!(few <= 4, "{few} decodes for one commit");
}

#[test]
fn a_tree_wider_than_max_leaves_is_refused_before_it_is_built() {
    let (clients, groups) = group_of(2);
    // An outsider's GroupInfo: 2^17 blank nodes (one byte each) between two
    // leaves, unsigned. The limit refuses it before the tree (or the
    // signature) is looked at.
    let mut info = super::external_commit_rules::group_info(&groups[0], &clients[0].signer);
    let leaf = groups[0].tree().leaf(LeafIndex(0)).unwrap().clone();
    let mut wire: RatchetTreeWire = vec![Some(Node::Leaf(Box::new(leaf.clone())))];
    wire.resize(1 << 17, None);
    wire.push(Some(Node::Leaf(Box::new(leaf))));
    for e in info.extensions.iter_mut() {
        if e.extension_type == ExtensionType::RATCHET_TREE {
            e.extension_data = encode(&wire).unwrap();
        }
    }
    let joiner = EngineMember::new("joiner", 110);
    let (kp, _) = joiner.key_package(&mut rng(110));
    let joined = GroupState::external_join(
        &groups[0].suite,
        ExternalJoin {
            group_info: &info,
            ratchet_tree: None,
            leaf: LeafContent::from_leaf(&kp.leaf_node),
            signer: &joiner.signer,
            remove: None,
            now: NOW,
            config: GroupConfig::default(),
            authority: Default::default(),
            psks: Vec::new(),
            psk_store: &crate::group::psk_store::NoPsks,
            authenticated_data: Vec::new(),
            self_removes: Vec::new(),
        },
        &mut rng(111),
    );
    match joined {
        Err(Error::Limit(detail)) => assert!(detail.contains("max_leaves"), "{detail}"),
        other => panic!("expected the size limit, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn a_commit_beyond_max_leaves_is_refused() {
    let (clients, mut groups) = group_of(4);
    groups[0].config.max_leaves = 4;
    let (kp, _) = key_package_of("erin", 112, FIXTURE_LIFETIME);
    let created = groups[1]
        .create_commit(clients[1].params(vec![add(kp)]), &mut rng(113))
        .unwrap();
    let before = snapshot(&groups[0]);
    assert!(matches!(
        groups[0].process(&created.message, &NoPsks, NOW),
        Err(Error::Limit(_))
    ));
    assert_eq!(snapshot(&groups[0]), before);
}

#[test]
fn expired_leaves_already_in_the_tree_do_not_block_joins() {
    let (clients, mut groups) = group_of(3);
    // Long after every member's key-package lifetime ended.
    let late = FIXTURE_LIFETIME.not_after + 24 * 3600;
    let fresh = Lifetime {
        not_before: late - 3600,
        not_after: late + 30 * 24 * 3600,
    };
    let (kp, private) = key_package_of("dave", 114, fresh);
    let mut params = clients[0].params(vec![add(kp.clone())]);
    params.now = late;
    let created = groups[0].create_commit(params, &mut rng(115)).unwrap();
    let message: MlsMessage =
        decode_exact("MLSMessage", created.welcome.as_ref().unwrap()).unwrap();
    let MlsMessageBody::Welcome(welcome) = message.body else {
        panic!("not a Welcome")
    };
    let join = |config: GroupConfig| {
        GroupState::join(
            &clients[0].suite,
            JoinInputs {
                welcome: &welcome,
                key_package: &kp,
                private: &private,
                ratchet_tree: None,
                psks: &NoPsks,
                now: late,
                config,
                psk_use: PskUse::Normal,
            },
        )
    };
    // Default: the join succeeds and matches the group.
    let dave = join(GroupConfig::default()).unwrap();
    groups[0].merge(created.staged).unwrap();
    assert_eq!(dave.epoch_authenticator(), groups[0].epoch_authenticator());
    // Strict mode: the expired leaf (the group creator's) is refused.
    let strict = join(GroupConfig {
        strict_lifetimes: true,
        ..GroupConfig::default()
    });
    match strict {
        Err(Error::Expired { leaf, subject, .. }) => {
            assert_eq!(leaf, Some(LeafIndex(0)), "{subject}");
        }
        other => panic!(
            "expected a §7.3 lifetime error, got {:?}",
            other.map(|_| ())
        ),
    }
}
