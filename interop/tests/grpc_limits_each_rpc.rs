//! Every RPC that keeps a new object (group state, transaction, external
//! signer) is refused with `ResourceExhausted` once the endpoint holds
//! `Limits::max_states`, before it does any work; RPCs that turn one object
//! into another (a transaction into a group state) still work at the limit;
//! `Limits::max_psks_per_client` bounds StorePsk.
#![allow(clippy::unwrap_used)]

use arbor_interop::grpc::proto::*;
use arbor_interop::grpc::{ArborEndpoint, Endpoint, Limits};
use tonic::{Code, Status};

const SUITE: u32 = 1;

fn exhausted(result: Result<impl std::fmt::Debug, Status>, what: &str) {
    let status = result.expect_err(what);
    assert_eq!(status.code(), Code::ResourceExhausted, "{what}: {status:?}");
    assert!(status.message().contains("limit"), "{what}: {status:?}");
}

fn signer(e: &mut dyn Endpoint) -> Result<u32, Status> {
    e.create_external_signer(CreateExternalSignerRequest {
        cipher_suite: SUITE,
        identity: b"signer".to_vec(),
    })
    .map(|r| r.signer_id)
}

/// A GroupInfo (with the tree) of a fresh group, from a second endpoint.
fn group_info() -> Vec<u8> {
    let mut other = ArborEndpoint::new();
    let state_id = other
        .create_group(CreateGroupRequest {
            group_id: b"other".to_vec(),
            cipher_suite: SUITE,
            encrypt_handshake: false,
            identity: b"carol".to_vec(),
        })
        .unwrap()
        .state_id;
    other
        .group_info(GroupInfoRequest {
            state_id,
            external_tree: false,
        })
        .unwrap()
        .group_info
}

#[test]
fn every_rpc_that_keeps_a_new_state_is_refused_at_the_limit() {
    let mut e = ArborEndpoint::with_limits(Limits {
        max_states: 2,
        max_psks_per_client: 1,
    });
    let alice = e
        .create_group(CreateGroupRequest {
            group_id: b"g".to_vec(),
            cipher_suite: SUITE,
            encrypt_handshake: false,
            identity: b"alice".to_vec(),
        })
        .unwrap()
        .state_id;
    let bob = e
        .create_key_package(CreateKeyPackageRequest {
            cipher_suite: SUITE,
            identity: b"bob".to_vec(),
        })
        .unwrap();
    let info = group_info();
    exhausted(
        e.create_group(CreateGroupRequest {
            group_id: b"h".to_vec(),
            cipher_suite: SUITE,
            encrypt_handshake: false,
            identity: b"dave".to_vec(),
        }),
        "CreateGroup",
    );
    exhausted(
        e.create_key_package(CreateKeyPackageRequest {
            cipher_suite: SUITE,
            identity: b"dave".to_vec(),
        }),
        "CreateKeyPackage",
    );
    exhausted(signer(&mut e), "CreateExternalSigner");
    exhausted(
        e.external_join(ExternalJoinRequest {
            group_info: info.clone(),
            identity: b"dave".to_vec(),
            ..Default::default()
        }),
        "ExternalJoin",
    );
    exhausted(
        e.new_member_add_proposal(NewMemberAddProposalRequest {
            group_info: info,
            identity: b"dave".to_vec(),
        }),
        "NewMemberAddProposal",
    );
    exhausted(
        e.create_branch(CreateBranchRequest {
            state_id: alice,
            group_id: b"branch".to_vec(),
            ..Default::default()
        }),
        "CreateBranch",
    );
    // Turning a transaction into a group state keeps the count: Bob joins.
    e.add_proposal(AddProposalRequest {
        state_id: alice,
        key_package: bob.key_package,
    })
    .unwrap();
    let out = e
        .commit(CommitRequest {
            state_id: alice,
            ..Default::default()
        })
        .unwrap();
    e.handle_pending_commit(HandlePendingCommitRequest { state_id: alice })
        .unwrap();
    let joined = e
        .join_group(JoinGroupRequest {
            transaction_id: bob.transaction_id,
            welcome: out.welcome,
            encrypt_handshake: false,
            identity: b"bob".to_vec(),
            ratchet_tree: Vec::new(),
        })
        .unwrap();
    assert_eq!(
        e.state_auth(StateAuthRequest {
            state_id: joined.state_id
        })
        .unwrap()
        .state_auth_secret,
        e.state_auth(StateAuthRequest { state_id: alice })
            .unwrap()
            .state_auth_secret
    );
    // One PSK per client.
    let psk = |e: &mut ArborEndpoint, id: &[u8]| {
        e.store_psk(StorePskRequest {
            state_or_transaction_id: alice,
            psk_id: id.to_vec(),
            psk_secret: vec![2; 32],
        })
    };
    psk(&mut e, b"one").unwrap();
    exhausted(psk(&mut e, b"two"), "StorePsk");
}
