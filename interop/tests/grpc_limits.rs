//! The MLSClient server keeps what it hands out ids for until `Free`, up
//! to its limits (`arbor_interop::grpc::Limits`): past them an RPC that
//! would keep more answers `ResourceExhausted`, naming the limit, and the
//! server goes on answering. These use the default limits (1,024 states,
//! 64 external PSKs per client); `grpc_limits_each_rpc.rs` checks every RPC
//! that keeps a new object against small ones.
#![allow(clippy::unwrap_used)]

use arbor_interop::grpc::proto::*;
use arbor_interop::grpc::server::Running;
use arbor_interop::grpc::{ArborEndpoint, Endpoint, Remote};
use tonic::{Code, Status};

const SUITE: u32 = 1;

fn signer(e: &mut dyn Endpoint) -> Result<u32, Status> {
    e.create_external_signer(CreateExternalSignerRequest {
        cipher_suite: SUITE,
        identity: b"signer".to_vec(),
    })
    .map(|r| r.signer_id)
}

fn exhausted(result: Result<impl std::fmt::Debug, Status>, what: &str) {
    let status = result.expect_err(what);
    assert_eq!(status.code(), Code::ResourceExhausted, "{what}: {status:?}");
    assert!(status.message().contains("limit"), "{what}: {status:?}");
}

#[test]
fn the_server_holds_at_most_1024_states() {
    let server = Running::start(ArborEndpoint::new()).unwrap();
    let mut remote = Remote::connect(&server.uri()).unwrap();
    let mut ids = Vec::new();
    for _ in 0..1024 {
        ids.push(signer(&mut remote).unwrap());
    }
    exhausted(signer(&mut remote), "the 1,025th state");
    exhausted(
        remote.create_group(CreateGroupRequest {
            group_id: b"g".to_vec(),
            cipher_suite: SUITE,
            encrypt_handshake: false,
            identity: b"alice".to_vec(),
        }),
        "a group past the limit",
    );
    // Freeing one makes room for one; the server answered throughout.
    remote.free(FreeRequest { state_id: ids[0] }).unwrap();
    let alice = remote
        .create_group(CreateGroupRequest {
            group_id: b"g".to_vec(),
            cipher_suite: SUITE,
            encrypt_handshake: false,
            identity: b"alice".to_vec(),
        })
        .unwrap()
        .state_id;
    remote
        .state_auth(StateAuthRequest { state_id: alice })
        .unwrap();
    exhausted(signer(&mut remote), "again at the limit");
}

#[test]
fn a_client_holds_at_most_64_external_psks() {
    let mut e = ArborEndpoint::new();
    let kp = e
        .create_key_package(CreateKeyPackageRequest {
            cipher_suite: SUITE,
            identity: b"bob".to_vec(),
        })
        .unwrap();
    let store = |e: &mut ArborEndpoint, i: u32| {
        e.store_psk(StorePskRequest {
            state_or_transaction_id: kp.transaction_id,
            psk_id: format!("psk-{i}").into_bytes(),
            psk_secret: vec![1; 32],
        })
    };
    for i in 0..64 {
        store(&mut e, i).unwrap();
    }
    exhausted(store(&mut e, 64), "the 65th PSK");
    // A known id is replaced, not added.
    store(&mut e, 3).unwrap();
}
