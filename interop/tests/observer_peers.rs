//! An arbor [`Observer`] follows PublicMessage groups whose members are
//! openmls, mls-rs and arbor clients (in-process, through the scenario
//! runner's adapters; feature `peers`): it accepts every commit the members
//! make (adds, a path-only commit, a remove, an external join), refuses a
//! second commit for a taken epoch, and after every commit a member's own
//! GroupInfo passes the observer's check (same GroupContext, so same tree
//! hash and transcript, and same confirmation tag) and the member's tree
//! equals the observer's. A joiner external-commits from the GroupInfo and
//! tree the observer serves.
#![allow(clippy::unwrap_used)]

use arbor_interop::grpc::proto::{
    CommitRequest, CreateGroupRequest, CreateKeyPackageRequest, ExternalJoinRequest,
    GroupInfoRequest, HandleCommitRequest, HandlePendingCommitRequest, JoinGroupRequest,
    ProposalDescription,
};
use arbor_interop::grpc::{ArborEndpoint, Endpoint};
use arbor_interop::peers::{MlsRsEndpoint, OpenMlsEndpoint};
use arbor_mls::{CommitOrder, Error, Observed, Observer, ObserverOptions};

const SUITE: u32 = 1;

/// A member: the endpoint that runs it and its state id there.
#[derive(Clone, Copy)]
struct Member {
    endpoint: usize,
    state: u32,
}

/// The observer processes and merges `commit`, which it must accept.
fn observe(observer: &mut Observer, commit: &[u8]) {
    match observer.process(commit).unwrap() {
        Observed::Commit(staged) => observer.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// The member's GroupInfo of its current epoch passes the observer's
/// check, and the member's tree is the observer's.
fn assert_agrees(endpoints: &mut [Box<dyn Endpoint>], m: Member, observer: &mut Observer) {
    let info = endpoints[m.endpoint]
        .group_info(GroupInfoRequest {
            state_id: m.state,
            external_tree: true,
        })
        .unwrap();
    let name = endpoints[m.endpoint].stack_name();
    observer
        .accept_group_info(&info.group_info)
        .unwrap_or_else(|e| panic!("{name}'s GroupInfo refused by the observer: {e}"));
    assert_eq!(
        info.ratchet_tree,
        observer.ratchet_tree().unwrap(),
        "{name}'s tree differs from the observer's"
    );
}

fn handle(endpoints: &mut [Box<dyn Endpoint>], m: Member, commit: &[u8]) {
    endpoints[m.endpoint]
        .handle_commit(HandleCommitRequest {
            state_id: m.state,
            proposal: vec![],
            commit: commit.to_vec(),
        })
        .unwrap();
}

fn merge_own(endpoints: &mut [Box<dyn Endpoint>], m: Member) {
    endpoints[m.endpoint]
        .handle_pending_commit(HandlePendingCommitRequest { state_id: m.state })
        .unwrap();
}

fn empty_commit(endpoints: &mut [Box<dyn Endpoint>], m: Member) -> Vec<u8> {
    endpoints[m.endpoint]
        .commit(CommitRequest {
            state_id: m.state,
            force_path: true,
            ..Default::default()
        })
        .unwrap()
        .commit
}

/// `endpoints[0]` creates the group and adds a second member of its own
/// stack and one of `endpoints[1]`'s; the observer follows from the
/// creator's epoch-0 GroupInfo through an update, a remove, a race and an
/// external join.
fn follow(mut endpoints: Vec<Box<dyn Endpoint>>) {
    let names: Vec<String> = endpoints.iter().map(|e| e.stack_name()).collect();
    let creator = Member {
        endpoint: 0,
        state: endpoints[0]
            .create_group(CreateGroupRequest {
                group_id: b"observed group".to_vec(),
                cipher_suite: SUITE,
                encrypt_handshake: false,
                identity: b"creator".to_vec(),
            })
            .unwrap()
            .state_id,
    };
    let info = endpoints[0]
        .group_info(GroupInfoRequest {
            state_id: creator.state,
            external_tree: false,
        })
        .unwrap();
    let mut observer =
        Observer::from_group_info(&info.group_info, None, ObserverOptions::default()).unwrap();
    assert_eq!(observer.epoch(), 0);

    // The creator adds one member of each stack.
    let mut joiners = Vec::new();
    let mut adds = Vec::new();
    for (endpoint, identity) in [(0, &b"second"[..]), (1, &b"other"[..])] {
        let kp = endpoints[endpoint]
            .create_key_package(CreateKeyPackageRequest {
                cipher_suite: SUITE,
                identity: identity.to_vec(),
            })
            .unwrap();
        adds.push(ProposalDescription {
            proposal_type: b"add".to_vec(),
            key_package: kp.key_package,
            ..Default::default()
        });
        joiners.push((endpoint, kp.transaction_id, identity));
    }
    let out = endpoints[0]
        .commit(CommitRequest {
            state_id: creator.state,
            by_value: adds,
            ..Default::default()
        })
        .unwrap();
    observe(&mut observer, &out.commit);
    merge_own(&mut endpoints, creator);
    let mut members = vec![creator];
    for (endpoint, transaction_id, identity) in joiners {
        let joined = endpoints[endpoint]
            .join_group(JoinGroupRequest {
                transaction_id,
                welcome: out.welcome.clone(),
                encrypt_handshake: false,
                identity: identity.to_vec(),
                ratchet_tree: out.ratchet_tree.clone(),
            })
            .unwrap();
        members.push(Member {
            endpoint,
            state: joined.state_id,
        });
    }
    assert_eq!(observer.members().len(), 3);
    for m in &members {
        assert_agrees(&mut endpoints, *m, &mut observer);
    }

    // Each member in turn commits a path-only update.
    for i in [2, 1, 0] {
        let commit = empty_commit(&mut endpoints, members[i]);
        observe(&mut observer, &commit);
        for (j, m) in members.iter().enumerate() {
            if j == i {
                merge_own(&mut endpoints, *m);
            } else {
                handle(&mut endpoints, *m, &commit);
            }
        }
        assert_agrees(&mut endpoints, members[(i + 1) % 3], &mut observer);
    }

    // Two commits race for one epoch: the observer takes the first and
    // refuses the second, changing nothing.
    let epoch = observer.epoch();
    let first = empty_commit(&mut endpoints, members[2]);
    let second = empty_commit(&mut endpoints, members[1]);
    observe(&mut observer, &first);
    assert_eq!(
        observer.commit_order(epoch),
        CommitOrder::Taken { current: epoch + 1 }
    );
    let before = observer.to_bytes().unwrap();
    match observer.process(&second) {
        Err(
            e @ Error::WrongEpoch {
                rule: "§12.4.2", ..
            },
        ) => assert_eq!(e.epoch_timing(), Some(arbor_mls::EpochTiming::Past)),
        other => panic!(
            "the racing commit of {} was not refused: {other:?}",
            names[0]
        ),
    }
    assert_eq!(observer.to_bytes().unwrap(), before);
    merge_own(&mut endpoints, members[2]);
    handle(&mut endpoints, members[0], &first);
    // (members[1] lost the race; it leaves the group below.)

    // The creator removes the member whose commit lost.
    let out = endpoints[0]
        .commit(CommitRequest {
            state_id: creator.state,
            by_value: vec![ProposalDescription {
                proposal_type: b"remove".to_vec(),
                removed_id: b"second".to_vec(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .unwrap();
    observe(&mut observer, &out.commit);
    merge_own(&mut endpoints, creator);
    handle(&mut endpoints, members[2], &out.commit);
    assert_eq!(observer.members().len(), 2);
    assert_agrees(&mut endpoints, members[2], &mut observer);

    // A client of each stack joins by external commit from the GroupInfo
    // and tree the observer serves.
    let mut current = vec![creator, members[2]];
    for (endpoint, identity) in [(1, &b"late other"[..]), (0, &b"late"[..])] {
        let info = observer.group_info().unwrap().to_vec();
        let joined = endpoints[endpoint]
            .external_join(ExternalJoinRequest {
                group_info: info,
                ratchet_tree: observer.ratchet_tree().unwrap(),
                encrypt_handshake: false,
                identity: identity.to_vec(),
                ..Default::default()
            })
            .unwrap();
        match observer.process(&joined.commit).unwrap() {
            Observed::Commit(staged) => {
                assert!(staged.summary().external_joiner.is_some());
                observer.merge(*staged).unwrap();
            }
            other => panic!("expected an external commit, got {other:?}"),
        }
        for m in &current {
            handle(&mut endpoints, *m, &joined.commit);
        }
        let joiner = Member {
            endpoint,
            state: joined.state_id,
        };
        current.push(joiner);
        assert_agrees(&mut endpoints, joiner, &mut observer);
    }
    assert_eq!(observer.members().len(), 4);
}

#[test]
fn observer_follows_an_openmls_group_with_arbor_members() {
    follow(vec![
        Box::new(OpenMlsEndpoint::new()),
        Box::new(ArborEndpoint::new()),
    ]);
}

#[test]
fn observer_follows_an_mls_rs_group_with_arbor_members() {
    follow(vec![
        Box::new(MlsRsEndpoint::new()),
        Box::new(ArborEndpoint::new()),
    ]);
}

#[test]
fn observer_follows_an_arbor_group_with_openmls_members() {
    follow(vec![
        Box::new(ArborEndpoint::new()),
        Box::new(OpenMlsEndpoint::new()),
    ]);
}

#[test]
fn observer_follows_an_arbor_group_with_mls_rs_members() {
    follow(vec![
        Box::new(ArborEndpoint::new()),
        Box::new(MlsRsEndpoint::new()),
    ]);
}
