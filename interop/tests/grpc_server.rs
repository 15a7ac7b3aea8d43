//! Every RPC of the `MLSClient` service, called over real gRPC on
//! 127.0.0.1 against `arbor-interop`'s server (started and stopped here).
//!
//! The calls form one group's life: two members, proposals of every kind,
//! an external joiner, an external signer, a new-member proposal, a branch
//! and a reinit. Where both sides report epoch authenticators they must
//! agree; where arbor lacks an API the answer must be `Unimplemented` with a
//! reason, never a transport failure.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use arbor_interop::grpc::proto::*;
use arbor_interop::grpc::server::Running;
use arbor_interop::grpc::{ArborEndpoint, Endpoint, RPC_NAMES, Remote};
use tonic::Code;

/// Records which RPCs were called, to check none was missed.
struct Calls {
    remote: Remote,
    seen: BTreeSet<&'static str>,
}

macro_rules! call {
    ($calls:expr, $method:ident, $req:expr) => {{
        $calls.seen.insert(stringify!($method));
        $calls.remote.$method($req)
    }};
}

const SUITE: u32 = 1;

fn auth(calls: &mut Calls, state_id: u32) -> Vec<u8> {
    call!(calls, state_auth, StateAuthRequest { state_id })
        .unwrap()
        .state_auth_secret
}

/// Each RPC's answer, and the server's stop, are awaited at most this
/// long: a hung server fails the test naming the call it hung in.
const TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn every_rpc_answers_over_grpc() {
    let server = Running::start(ArborEndpoint::new()).unwrap();
    let remote = Remote::connect_with_timeout(&server.uri(), TIMEOUT).unwrap();
    let mut c = Calls {
        remote,
        seen: BTreeSet::new(),
    };

    let name = call!(c, name, NameRequest {}).unwrap().name;
    assert!(name.starts_with("arbor-mls"), "{name}");
    let suites = call!(c, supported_ciphersuites, SupportedCiphersuitesRequest {})
        .unwrap()
        .ciphersuites;
    assert!(suites.contains(&1) && suites.contains(&2) && suites.contains(&3));

    // Alice creates the group; Bob joins by Welcome from a proposal Alice
    // commits.
    let alice = call!(
        c,
        create_group,
        CreateGroupRequest {
            group_id: b"grpc-group".to_vec(),
            cipher_suite: SUITE,
            encrypt_handshake: false,
            identity: b"alice".to_vec(),
        }
    )
    .unwrap()
    .state_id;
    let bob_kp = call!(
        c,
        create_key_package,
        CreateKeyPackageRequest {
            cipher_suite: SUITE,
            identity: b"bob".to_vec(),
        }
    )
    .unwrap();
    call!(
        c,
        add_proposal,
        AddProposalRequest {
            state_id: alice,
            key_package: bob_kp.key_package.clone(),
        }
    )
    .unwrap();
    let out = call!(
        c,
        commit,
        CommitRequest {
            state_id: alice,
            external_tree: true,
            ..Default::default()
        }
    )
    .unwrap();
    assert!(!out.welcome.is_empty() && !out.ratchet_tree.is_empty());
    let pending = call!(
        c,
        handle_pending_commit,
        HandlePendingCommitRequest { state_id: alice }
    )
    .unwrap();
    let joined = call!(
        c,
        join_group,
        JoinGroupRequest {
            transaction_id: bob_kp.transaction_id,
            welcome: out.welcome,
            encrypt_handshake: false,
            identity: b"bob".to_vec(),
            ratchet_tree: out.ratchet_tree,
        }
    )
    .unwrap();
    let bob = joined.state_id;
    assert_eq!(joined.epoch_authenticator, pending.epoch_authenticator);
    assert_eq!(auth(&mut c, alice), auth(&mut c, bob));

    // Same exporter output, and application data both ways.
    let export = |c: &mut Calls, state_id| {
        call!(
            c,
            export,
            ExportRequest {
                state_id,
                label: "grpc".into(),
                context: b"ctx".to_vec(),
                key_length: 32,
            }
        )
        .unwrap()
        .exported_secret
    };
    let (ea, eb) = (export(&mut c, alice), export(&mut c, bob));
    assert_eq!(ea.len(), 32);
    assert_eq!(ea, eb);
    let ct = call!(
        c,
        protect,
        ProtectRequest {
            state_id: alice,
            authenticated_data: b"aad".to_vec(),
            plaintext: b"hello bob".to_vec(),
        }
    )
    .unwrap()
    .ciphertext;
    let pt = call!(
        c,
        unprotect,
        UnprotectRequest {
            state_id: bob,
            ciphertext: ct,
        }
    )
    .unwrap();
    assert_eq!(
        (pt.plaintext, pt.authenticated_data),
        (b"hello bob".to_vec(), b"aad".to_vec())
    );

    // Bob's update and group context extensions, committed by Alice by
    // reference, plus a resumption PSK by value.
    let update = call!(c, update_proposal, UpdateProposalRequest { state_id: bob })
        .unwrap()
        .proposal;
    let gce = call!(
        c,
        group_context_extensions_proposal,
        GroupContextExtensionsProposalRequest {
            state_id: bob,
            // required_capabilities, requiring nothing (as the official
            // configs do), so later joiners still qualify.
            extensions: vec![Extension {
                extension_type: 3,
                extension_data: vec![0, 0, 0],
            }],
        }
    )
    .unwrap()
    .proposal;
    let resumption = call!(
        c,
        resumption_psk_proposal,
        ResumptionPskProposalRequest {
            state_id: alice,
            epoch_id: 1,
        }
    )
    .unwrap()
    .proposal;
    let out = call!(
        c,
        commit,
        CommitRequest {
            state_id: alice,
            by_reference: vec![update.clone(), gce.clone()],
            force_path: true,
            ..Default::default()
        }
    )
    .unwrap();
    let mine = call!(
        c,
        handle_pending_commit,
        HandlePendingCommitRequest { state_id: alice }
    )
    .unwrap();
    let theirs = call!(
        c,
        handle_commit,
        HandleCommitRequest {
            state_id: bob,
            proposal: vec![resumption],
            commit: out.commit,
        }
    )
    .unwrap();
    assert_eq!(mine.epoch_authenticator, theirs.epoch_authenticator);

    // External PSKs: a client waiting for a Welcome stores one, and so do
    // the group states (a client's PSKs are shared with its groups).
    let carol_kp = call!(
        c,
        create_key_package,
        CreateKeyPackageRequest {
            cipher_suite: SUITE,
            identity: b"carol".to_vec(),
        }
    )
    .unwrap();
    for state_or_transaction_id in [carol_kp.transaction_id, alice, bob] {
        call!(
            c,
            store_psk,
            StorePskRequest {
                state_or_transaction_id,
                psk_id: b"psk".to_vec(),
                psk_secret: vec![7; 32],
            }
        )
        .unwrap();
    }
    // Alice proposes it, commits it; Bob follows.
    let proposal = call!(
        c,
        external_psk_proposal,
        ExternalPskProposalRequest {
            state_id: alice,
            psk_id: b"psk".to_vec(),
        }
    )
    .unwrap()
    .proposal;
    let out = call!(
        c,
        commit,
        CommitRequest {
            state_id: alice,
            ..Default::default()
        }
    )
    .unwrap();
    call!(
        c,
        handle_pending_commit,
        HandlePendingCommitRequest { state_id: alice }
    )
    .unwrap();
    let theirs = call!(
        c,
        handle_commit,
        HandleCommitRequest {
            state_id: bob,
            proposal: vec![proposal],
            commit: out.commit,
        }
    )
    .unwrap();
    assert_eq!(auth(&mut c, alice), theirs.epoch_authenticator);
    // A PSK nobody stored: the proposal is refused with a clear error, or
    // the commit leaves it out (covering it would make a commit no member
    // can process, RFC 9420 §12.4.2) and succeeds without it.
    let proposed = call!(
        c,
        external_psk_proposal,
        ExternalPskProposalRequest {
            state_id: alice,
            psk_id: b"unknown psk".to_vec(),
        }
    );
    match proposed {
        Err(err) => assert_ne!(err.code(), Code::Unknown, "{err:?}"),
        Ok(_) => {
            let out = call!(
                c,
                commit,
                CommitRequest {
                    state_id: alice,
                    ..Default::default()
                }
            )
            .expect("the commit leaves the unknown PSK out");
            let theirs = call!(
                c,
                handle_commit,
                HandleCommitRequest {
                    state_id: bob,
                    proposal: vec![],
                    commit: out.commit,
                }
            )
            .expect("bob follows the commit without the PSK");
            let _ = call!(
                c,
                handle_pending_commit,
                HandlePendingCommitRequest { state_id: alice }
            )
            .expect("alice merges her commit");
            assert_eq!(auth(&mut c, alice), theirs.epoch_authenticator);
        }
    }

    // Carol joins by external commit with the tree out of band.
    let info = call!(
        c,
        group_info,
        GroupInfoRequest {
            state_id: alice,
            external_tree: true,
        }
    )
    .unwrap();
    assert!(!info.ratchet_tree.is_empty());
    let ext = call!(
        c,
        external_join,
        ExternalJoinRequest {
            group_info: info.group_info.clone(),
            ratchet_tree: info.ratchet_tree.clone(),
            encrypt_handshake: false,
            identity: b"carol".to_vec(),
            remove_prior: false,
            psks: vec![],
        }
    )
    .unwrap();
    let carol = ext.state_id;
    for state_id in [alice, bob] {
        let r = call!(
            c,
            handle_commit,
            HandleCommitRequest {
                state_id,
                proposal: vec![],
                commit: ext.commit.clone(),
            }
        )
        .unwrap();
        assert_eq!(r.epoch_authenticator, ext.epoch_authenticator);
    }

    // An external signer joins the group's external senders, then proposes
    // removing Carol; Alice commits it.
    let signer = call!(
        c,
        create_external_signer,
        CreateExternalSignerRequest {
            cipher_suite: SUITE,
            identity: b"ds".to_vec(),
        }
    )
    .unwrap();
    let add_signer = call!(
        c,
        add_external_signer,
        AddExternalSignerRequest {
            state_id: alice,
            external_sender: signer.external_sender,
        }
    )
    .unwrap()
    .proposal;
    let out = call!(
        c,
        commit,
        CommitRequest {
            state_id: alice,
            ..Default::default()
        }
    )
    .unwrap();
    call!(
        c,
        handle_pending_commit,
        HandlePendingCommitRequest { state_id: alice }
    )
    .unwrap();
    for state_id in [bob, carol] {
        call!(
            c,
            handle_commit,
            HandleCommitRequest {
                state_id,
                proposal: vec![add_signer.clone()],
                commit: out.commit.clone(),
            }
        )
        .unwrap();
    }
    let info = call!(
        c,
        group_info,
        GroupInfoRequest {
            state_id: alice,
            external_tree: false,
        }
    )
    .unwrap();
    let remove_carol = call!(
        c,
        external_signer_proposal,
        ExternalSignerProposalRequest {
            signer_id: signer.signer_id,
            signer_index: 0,
            group_info: info.group_info.clone(),
            ratchet_tree: vec![],
            description: Some(ProposalDescription {
                proposal_type: b"remove".to_vec(),
                removed_id: b"carol".to_vec(),
                ..Default::default()
            }),
        }
    )
    .unwrap()
    .proposal;
    // Dave asks to join with a new-member proposal, committed together.
    let dave = call!(
        c,
        new_member_add_proposal,
        NewMemberAddProposalRequest {
            group_info: info.group_info,
            identity: b"dave".to_vec(),
        }
    )
    .unwrap();
    let out = call!(
        c,
        commit,
        CommitRequest {
            state_id: alice,
            by_reference: vec![remove_carol.clone(), dave.proposal.clone()],
            ..Default::default()
        }
    )
    .unwrap();
    let a = call!(
        c,
        handle_pending_commit,
        HandlePendingCommitRequest { state_id: alice }
    )
    .unwrap();
    let b = call!(
        c,
        handle_commit,
        HandleCommitRequest {
            state_id: bob,
            proposal: vec![remove_carol, dave.proposal],
            commit: out.commit,
        }
    )
    .unwrap();
    let d = call!(
        c,
        join_group,
        JoinGroupRequest {
            transaction_id: dave.transaction_id,
            welcome: out.welcome,
            encrypt_handshake: false,
            identity: b"dave".to_vec(),
            ratchet_tree: vec![],
        }
    )
    .unwrap();
    assert_eq!(a.epoch_authenticator, b.epoch_authenticator);
    assert_eq!(a.epoch_authenticator, d.epoch_authenticator);
    let dave = d.state_id;

    // Alice proposes removing Dave; Bob commits her proposal by reference.
    let remove = call!(
        c,
        remove_proposal,
        RemoveProposalRequest {
            state_id: alice,
            removed_id: b"dave".to_vec(),
        }
    )
    .unwrap()
    .proposal;
    let out = call!(
        c,
        commit,
        CommitRequest {
            state_id: bob,
            by_reference: vec![remove.clone()],
            ..Default::default()
        }
    )
    .unwrap();
    let b = call!(
        c,
        handle_pending_commit,
        HandlePendingCommitRequest { state_id: bob }
    )
    .unwrap();
    let a = call!(
        c,
        handle_commit,
        HandleCommitRequest {
            state_id: alice,
            proposal: vec![],
            commit: out.commit,
        }
    )
    .unwrap();
    assert_eq!(a.epoch_authenticator, b.epoch_authenticator);
    call!(c, free, FreeRequest { state_id: dave }).unwrap();

    // A branch with Bob.
    let bob_branch_kp = call!(
        c,
        create_key_package,
        CreateKeyPackageRequest {
            cipher_suite: SUITE,
            identity: b"bob".to_vec(),
        }
    )
    .unwrap();
    let branch = call!(
        c,
        create_branch,
        CreateBranchRequest {
            state_id: alice,
            group_id: b"grpc-branch".to_vec(),
            extensions: vec![],
            key_packages: vec![bob_branch_kp.key_package],
            force_path: false,
            external_tree: false,
        }
    )
    .unwrap();
    let bob_branch = call!(
        c,
        handle_branch,
        HandleBranchRequest {
            state_id: bob,
            transaction_id: bob_branch_kp.transaction_id,
            welcome: branch.welcome,
            ratchet_tree: vec![],
        }
    )
    .unwrap();
    assert_eq!(branch.epoch_authenticator, bob_branch.epoch_authenticator);

    // Reinit into another cipher suite (P-384): Alice proposes, Bob
    // commits, Alice welcomes Bob into the new group; both continue with
    // clients of the new suite.
    let reinit = call!(
        c,
        re_init_proposal,
        ReInitProposalRequest {
            state_id: alice,
            cipher_suite: 7,
            group_id: b"grpc-reinit".to_vec(),
            extensions: vec![],
        }
    )
    .unwrap()
    .proposal;
    let out = call!(
        c,
        re_init_commit,
        CommitRequest {
            state_id: bob,
            by_reference: vec![reinit.clone()],
            ..Default::default()
        }
    )
    .unwrap();
    let bob_reinit = call!(
        c,
        handle_pending_re_init_commit,
        HandlePendingCommitRequest { state_id: bob }
    )
    .unwrap();
    let alice_reinit = call!(
        c,
        handle_re_init_commit,
        HandleCommitRequest {
            state_id: alice,
            proposal: vec![],
            commit: out.commit,
        }
    )
    .unwrap();
    assert_eq!(
        bob_reinit.epoch_authenticator,
        alice_reinit.epoch_authenticator
    );
    let welcome = call!(
        c,
        re_init_welcome,
        ReInitWelcomeRequest {
            reinit_id: alice_reinit.reinit_id,
            key_package: vec![bob_reinit.key_package],
            force_path: false,
            external_tree: true,
        }
    )
    .unwrap();
    let joined = call!(
        c,
        handle_re_init_welcome,
        HandleReInitWelcomeRequest {
            reinit_id: bob_reinit.reinit_id,
            welcome: welcome.welcome,
            ratchet_tree: welcome.ratchet_tree,
        }
    )
    .unwrap();
    assert_eq!(joined.epoch_authenticator, welcome.epoch_authenticator);

    // Bad input is an error, not a panic or a dropped connection.
    let err = call!(
        c,
        join_group,
        JoinGroupRequest {
            transaction_id: carol_kp.transaction_id,
            welcome: vec![0xff; 7],
            ..Default::default()
        }
    )
    .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let err = call!(c, free, FreeRequest { state_id: 9999 }).unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    call!(
        c,
        free,
        FreeRequest {
            state_id: welcome.state_id
        }
    )
    .unwrap();

    let missed: Vec<_> = RPC_NAMES.iter().filter(|n| !c.seen.contains(*n)).collect();
    assert!(missed.is_empty(), "RPCs never called: {missed:?}");
    drop(c);
    server.stop(TIMEOUT).unwrap();
}
