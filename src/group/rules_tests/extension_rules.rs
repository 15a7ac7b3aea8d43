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
