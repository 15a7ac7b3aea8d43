//! §13.4: an extension in use by the group (a GroupContext extension) MUST
//! be supported by all members; a GroupContextExtensions proposal that
//! brings one some member does not list is invalid (§12.1.7), as a
//! proposal and in a commit.

use super::*;

/// A non-default extension type no fixture member lists.
fn unsupported() -> Extension {
    Extension {
        extension_type: ExtensionType(0x0a0a),
        extension_data: vec![1, 2, 3],
    }
}

#[test]
fn group_context_extension_some_member_does_not_support_13_4() {
    let (clients, mut groups) = group_of(3);
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: vec![unsupported()],
    });
    // As a proposal: refused before it is cached.
    let proposal = propose(&groups[0], &clients[0].signer, gce.clone());
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &proposal,
        "§13.4",
        "does not support extension",
    );
    // In a commit, by value.
    let forged = forge_commit(&groups[0], &clients[0].signer, commit(vec![gce]), None);
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§13.4",
        "does not support extension",
    );
}

#[test]
fn our_own_commit_cannot_bring_an_unsupported_extension_13_4() {
    let (clients, mut groups) = group_of(2);
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: vec![unsupported()],
    });
    match groups[0].create_commit(clients[0].params(vec![gce]), &mut rng(3)) {
        Err(Error::Protocol { rule, detail }) => {
            assert_eq!(rule, "§13.4", "{detail}");
        }
        other => panic!("expected §13.4, got {:?}", other.map(|_| ())),
    }
}

/// draft-ietf-mls-extensions: the `app_data_dictionary` entries "MUST be
/// sorted by `component_id`" with "at most one entry for each": a
/// GroupContextExtensions bringing one that is not is malformed (§12.1.7),
/// as a proposal, in a commit, and when creating a group.
#[test]
fn malformed_app_data_dictionary_12_1_7() {
    let (clients, mut groups) = group_of(3);
    // Entries 4 then 1: length 6, (0x0004, <>), (0x0001, <>).
    let unsorted = Extension {
        extension_type: ExtensionType::APP_DATA_DICTIONARY,
        extension_data: vec![6, 0, 4, 0, 0, 1, 0],
    };
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: vec![unsorted.clone()],
    });
    let proposal = propose(&groups[0], &clients[0].signer, gce.clone());
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &proposal,
        "§12.1.7",
        "app_data_dictionary extension does not decode",
    );
    let forged = forge_commit(&groups[0], &clients[0].signer, commit(vec![gce]), None);
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.1.7",
        "app_data_dictionary extension does not decode",
    );
    let (kp, private) = clients[0].key_package(&mut rng(9));
    match GroupState::create(
        &clients[0].suite,
        GroupConfig::default(),
        b"g".to_vec(),
        vec![unsorted],
        kp.leaf_node,
        private.encryption_key,
        &mut rng(10),
    ) {
        Err(Error::Protocol { rule, .. }) => assert_eq!(rule, "§12.1.7"),
        other => panic!("expected §12.1.7, got {:?}", other.map(|_| ())),
    }
}
