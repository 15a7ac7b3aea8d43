use super::*;
use crate::api::app_data_tests::{app, app_client, group_of};
use crate::api::{Event, GroupOptions};

fn range(sender: u32, first: u32, last: u32) -> MessageRange {
    MessageRange {
        sender,
        first_generation: first,
        last_generation: last,
    }
}

#[test]
fn the_ack_is_computed_from_received_messages_and_gaps_are_reported() {
    use crate::crypto::component::component_ids::APP_ACK;
    let mut alice = app_client("alice", 190, app(&[APP_ACK], true));
    let mut bob = app_client("bob", 191, app(&[APP_ACK], true));
    let mut carol = app_client("carol", 192, app(&[APP_ACK], true));
    let mut g = group_of(
        &mut alice,
        &mut [&mut bob, &mut carol],
        GroupOptions::default(),
    );
    assert!(g[1].received_app_ack().received_ranges().is_empty());

    // Alice sends generations 0, 1, 2; the delivery service drops 1 for
    // Bob. Carol sends 0 and 1; Bob receives only 0.
    let a: Vec<Vec<u8>> = (0..3).map(|_| g[0].encrypt(b"a", b"").unwrap()).collect();
    let c: Vec<Vec<u8>> = (0..2).map(|_| g[2].encrypt(b"c", b"").unwrap()).collect();
    for m in [&a[2], &a[0], &c[0]] {
        assert!(matches!(
            g[1].process(m).unwrap(),
            Event::Application { .. }
        ));
    }
    let ack = g[1].received_app_ack();
    assert_eq!(
        ack.received_ranges(),
        &[range(0, 0, 0), range(0, 2, 2), range(2, 0, 0)]
    );
    assert!(g[1].app_ack_complete());

    // One call sends it; Alice and Carol learn what Bob lacks.
    let p = g[1].propose_received_app_ack().unwrap();
    let proposal = match g[0].process(&p).unwrap() {
        Event::Proposal { proposal, .. } => proposal,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        g[0].app_ack_missing_in(&proposal).unwrap(),
        Some(vec![range(0, 1, 1)])
    );
    let proposal = match g[2].process(&p).unwrap() {
        Event::Proposal { proposal, .. } => proposal,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        g[2].app_ack_missing(&AppAck::new(vec![range(2, 0, 0)]).unwrap()),
        vec![range(2, 1, 1)]
    );
    // Carol received nothing from Alice, so only her own message 1 and
    // Alice's gap below Bob's highest acknowledged generation are known
    // to be missing.
    assert_eq!(
        g[2].app_ack_missing_in(&proposal).unwrap(),
        Some(vec![range(0, 1, 1), range(2, 1, 1)])
    );
    // Everything acknowledged: nothing missing.
    assert_eq!(
        g[0].app_ack_missing(&AppAck::new(vec![range(0, 0, 2)]).unwrap()),
        vec![]
    );

    // Another proposal is not an AppAck.
    assert_eq!(
        g[0].app_ack_missing_in(&Proposal::SelfRemove(
            crate::messages::proposals::SelfRemove {}
        ))
        .unwrap(),
        None
    );

    // A commit starts a new epoch: nothing received in it yet.
    let out = g[0].commit().unwrap();
    g[0].process(&out.commit).unwrap();
    match g[1].process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => g[1].merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    assert!(g[1].received_app_ack().received_ranges().is_empty());
    let m = g[0].encrypt(b"new epoch", b"").unwrap();
    g[1].process(&m).unwrap();
    assert_eq!(g[1].received_app_ack().received_ranges(), &[range(0, 0, 0)]);
}
