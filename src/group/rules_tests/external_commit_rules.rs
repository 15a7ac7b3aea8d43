//! External-commit list rules (§12.2, §12.4.3.2), required capabilities
//! (§12.1.7) and the PSK nonce length (§12.1.4).

use super::*;
use crate::group::external::ExternalJoin;
use crate::group::welcome_open::GROUP_INFO_LABEL;
use crate::messages::proposals::{
    ExternalInit, GroupContextExtensions, PreSharedKey, ProposalOrRef,
};
use crate::messages::welcome::GroupInfo;
use crate::tree::treekem::LeafContent;
use crate::types::extensions::{ExternalPub, RequiredCapabilities};

/// A signed GroupInfo of `g`'s current epoch with the external key and the
/// tree, as `g`'s owner would publish it.
pub(super) fn group_info(g: &GroupState, signer: &SignaturePrivateKey) -> GroupInfo {
    let (_, external_pub) =
        crate::schedule::external_key_pair(&g.suite, &g.epoch.keys.external_secret).unwrap();
    let mut info = GroupInfo {
        group_context: g.context().clone(),
        extensions: vec![
            Extension {
                extension_type: ExtensionType::EXTERNAL_PUB,
                extension_data: encode(&ExternalPub { external_pub }).unwrap(),
            },
            Extension {
                extension_type: ExtensionType::RATCHET_TREE,
                extension_data: g.tree().to_bytes().unwrap(),
            },
        ],
        confirmation_tag: g.epoch.confirmation_tag.clone(),
        signer: g.own_leaf(),
        signature: vec![],
    };
    info.signature = g
        .suite
        .sign_with_label(signer, GROUP_INFO_LABEL, &info.to_be_signed().unwrap())
        .unwrap();
    info
}

/// A valid external commit by `joiner` into `g`'s group, decoded.
fn external_commit(g: &GroupState, owner: &EngineMember, joiner: &EngineMember) -> Commit {
    let info = group_info(g, &owner.signer);
    let (kp, _) = joiner.key_package(&mut rng(61));
    let (_, message) = GroupState::external_join(
        &g.suite,
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
        &mut rng(62),
    )
    .unwrap();
    let MlsMessageBody::PublicMessage(m) = decode_exact::<MlsMessage>("MLSMessage", &message)
        .unwrap()
        .body
    else {
        panic!("an external commit is a PublicMessage")
    };
    let Content::Commit(c) = m.content.content else {
        panic!("not a commit")
    };
    *c
}

fn without_external_init(mut c: Commit) -> Commit {
    c.proposals.retain(
        |p| !matches!(p, ProposalOrRef::Proposal(p) if matches!(**p, Proposal::ExternalInit(_))),
    );
    c
}

#[test]
fn valid_external_commit_passes_the_list_rules() {
    let (clients, groups) = group_of(3);
    let joiner = EngineMember::new("erin", 60);
    let c = external_commit(&groups[0], &clients[0], &joiner);
    // Forged with a dummy tag: everything up to the tag passes.
    let msg = forge_commit(&groups[0], &joiner.signer, c, Some(Sender::NewMemberCommit));
    let mut g = groups.into_iter().nth(1).unwrap();
    assert_rejected(&mut g, &msg, "§12.4.2", "confirmation tag");
}

#[test]
fn external_commit_without_external_init_12_2() {
    let (clients, mut groups) = group_of(3);
    let joiner = EngineMember::new("erin", 60);
    let c = without_external_init(external_commit(&groups[0], &clients[0], &joiner));
    let msg = forge_commit(&groups[0], &joiner.signer, c, Some(Sender::NewMemberCommit));
    reject_everywhere(&clients, &mut groups, None, &msg, "§12.2", "0 ExternalInit");
}

#[test]
fn external_commit_with_two_external_inits_12_2() {
    let (clients, mut groups) = group_of(3);
    let joiner = EngineMember::new("erin", 60);
    let mut c = external_commit(&groups[0], &clients[0], &joiner);
    c.proposals
        .push(ProposalOrRef::Proposal(Box::new(Proposal::ExternalInit(
            ExternalInit {
                kem_output: vec![1; 32],
            },
        ))));
    let msg = forge_commit(&groups[0], &joiner.signer, c, Some(Sender::NewMemberCommit));
    reject_everywhere(&clients, &mut groups, None, &msg, "§12.2", "2 ExternalInit");
}

#[test]
fn external_commit_with_other_proposal_types_12_2() {
    let (clients, mut groups) = group_of(3);
    let joiner = EngineMember::new("erin", 60);
    let mut c = external_commit(&groups[0], &clients[0], &joiner);
    let (kp, _) = EngineMember::new("frank", 63).key_package(&mut rng(64));
    c.proposals.push(ProposalOrRef::Proposal(Box::new(add(kp))));
    let msg = forge_commit(&groups[0], &joiner.signer, c, Some(Sender::NewMemberCommit));
    reject_everywhere(
        &clients,
        &mut groups,
        None,
        &msg,
        "§12.2",
        "an external commit with a",
    );
}

#[test]
fn external_commit_with_two_removes_12_2() {
    let (clients, mut groups) = group_of(4);
    let joiner = EngineMember::new("erin", 60);
    let mut c = external_commit(&groups[0], &clients[0], &joiner);
    c.proposals
        .push(ProposalOrRef::Proposal(Box::new(remove(1))));
    c.proposals
        .push(ProposalOrRef::Proposal(Box::new(remove(2))));
    let msg = forge_commit(&groups[0], &joiner.signer, c, Some(Sender::NewMemberCommit));
    reject_everywhere(
        &clients,
        &mut groups,
        None,
        &msg,
        "§12.2",
        "several Removes",
    );
}

#[test]
fn external_commit_by_reference_12_4_3_2() {
    let (clients, mut groups) = group_of(3);
    let joiner = EngineMember::new("erin", 60);
    let mut c = external_commit(&groups[0], &clients[0], &joiner);
    c.proposals.push(ProposalOrRef::Reference(vec![7; 32]));
    let msg = forge_commit(&groups[0], &joiner.signer, c, Some(Sender::NewMemberCommit));
    reject_everywhere(
        &clients,
        &mut groups,
        None,
        &msg,
        "§12.4.3.2",
        "by reference",
    );
}

#[test]
fn external_commit_without_path_12_4_3_2() {
    let (clients, mut groups) = group_of(3);
    let joiner = EngineMember::new("erin", 60);
    let mut c = external_commit(&groups[0], &clients[0], &joiner);
    c.path = None;
    let msg = forge_commit(&groups[0], &joiner.signer, c, Some(Sender::NewMemberCommit));
    reject_everywhere(
        &clients,
        &mut groups,
        None,
        &msg,
        "§12.4.3.2",
        "without a path",
    );
}

#[test]
fn required_capabilities_not_supported_by_a_member_12_1_7() {
    let (clients, mut groups) = group_of(3);
    let required = RequiredCapabilities {
        extension_types: vec![ExtensionType(0xff01)],
        ..RequiredCapabilities::default()
    };
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: vec![Extension {
            extension_type: ExtensionType::REQUIRED_CAPABILITIES,
            extension_data: encode(&required).unwrap(),
        }],
    });
    // The committer itself refuses to build it...
    let err = groups[0]
        .create_commit(clients[0].params(vec![gce.clone()]), &mut rng(65))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol {
                rule: "§12.1.7",
                ..
            }
        ),
        "{err}"
    );
    // ...and receivers reject a forged one.
    let msg = forge_commit(&groups[0], &clients[0].signer, commit(vec![gce]), None);
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &msg,
        "§12.1.7",
        "required capabilities",
    );
}

#[test]
fn psk_nonce_of_wrong_length_12_1_4() {
    let (clients, mut groups) = group_of(3);
    let mut id = psk_id(&groups[0].suite, b"psk", 3);
    id.psk_nonce.truncate(5);
    let msg = propose(
        &groups[0],
        &clients[0].signer,
        Proposal::PreSharedKey(PreSharedKey { psk: id }),
    );
    reject_everywhere(&clients, &mut groups, Some(0), &msg, "§12.1.4", "psk_nonce");
}
