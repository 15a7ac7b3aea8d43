//! End-to-end group tests: create, add, join from the Welcome, commit,
//! process, merge, and application messages both ways.

use crate::crypto::SeededRandom;
use crate::framing::WireFormat;
use crate::group::engine::Received;
use crate::group::psk_store::NoPsks;
use crate::messages::proposals::{Proposal, Remove};
use crate::test_support::engine::{NOW, assert_in_sync, deliver, group_of};
use crate::types::math::LeafIndex;

#[test]
fn create_add_join_commit_and_talk() {
    let (clients, mut groups) = group_of(4);
    assert_eq!(groups[0].tree().member_count(), 4);
    assert_in_sync(&groups);

    let mut rng = SeededRandom::from_seed([8; 32]);
    // Bob commits an empty (path-only) commit as a PrivateMessage.
    let mut params = clients[1].params(vec![]);
    params.wire_format = WireFormat::PRIVATE_MESSAGE;
    let created = groups[1].create_commit(params, &mut rng).unwrap();
    deliver(&mut groups, 1, created);
    assert_in_sync(&groups);
    assert_eq!(groups[0].epoch(), 2);

    // Charlie removes Dave.
    let created = groups[2]
        .create_commit(
            clients[2].params(vec![Proposal::Remove(Remove {
                removed: LeafIndex(3),
            })]),
            &mut rng,
        )
        .unwrap();
    let removed = groups[3].process(&created.message, &NoPsks, NOW).unwrap();
    let Received::Commit(staged) = removed else {
        panic!("expected a commit")
    };
    assert!(staged.summary.self_removed);
    groups[3].merge(*staged).unwrap();
    assert!(groups[3].is_removed());
    deliver(&mut groups[..3], 2, created);
    assert_in_sync(&groups[..3]);
    assert_eq!(groups[0].tree().member_count(), 3);
}
