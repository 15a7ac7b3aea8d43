//! Group-level costs in a sparse group: one commit added every member, so
//! all parent nodes but the creator's path are blank and every new member is
//! unmerged there. Measures (1) that bulk add itself: creating the commit
//! that adds n - 1 members and its Welcome (n - 1 HPKE encryptions whose
//! context is the whole encrypted GroupInfo, hashed once), (2) joining from
//! the Welcome (tree import and validation, one signature check per leaf)
//! and (3) processing a member's update commit, whose UpdatePath carries
//! about n ciphertexts.
//!
//! `cargo bench --bench group --features test-support`

use std::hint::black_box;
use std::time::Duration;

use arbor_mls::codec::decode_exact;
use arbor_mls::crypto::credential::Credential;
use arbor_mls::crypto::{SeededRandom, Suite};
use arbor_mls::framing::{MlsMessage, MlsMessageBody, WireFormat};
use arbor_mls::group::commit_create::CommitParams;
use arbor_mls::group::engine::Received;
use arbor_mls::group::join::JoinInputs;
use arbor_mls::group::psk_store::{NoPsks, PskUse};
use arbor_mls::group::state::GroupConfig;
use arbor_mls::group::state::GroupState;
use arbor_mls::messages::key_package::{KeyPackageData, KeyPackageParams, KeyPackagePrivate};
use arbor_mls::messages::proposals::{Add, Proposal};
use arbor_mls::messages::welcome::Welcome;
use arbor_mls::test_support::{FIXTURE_LIFETIME, default_suite};
use arbor_mls::tree::leaf_node::Capabilities;
use criterion::{Criterion, criterion_group, criterion_main};

const SIZES: [u32; 3] = [1024, 4096, 16_384];
const NOW: u64 = FIXTURE_LIFETIME.not_before + 60;

struct Member {
    signer: arbor_mls::crypto::SignaturePrivateKey,
    key_package: KeyPackageData,
    private: KeyPackagePrivate,
}

fn member(suite: &Suite, i: u32, rng: &mut SeededRandom) -> Member {
    let (signer, public) = suite.primitives().signature_key_pair(rng).expect("keys");
    let (key_package, private) = KeyPackageData::create(
        suite,
        &signer,
        &public,
        KeyPackageParams {
            credential: Credential::basic(format!("member {i}").into_bytes()),
            lifetime: FIXTURE_LIFETIME,
            capabilities: Capabilities::for_suite(suite.id()),
            leaf_extensions: vec![],
            extensions: vec![],
        },
        rng,
    )
    .expect("key package");
    Member {
        signer,
        key_package,
        private,
    }
}

fn params<'a>(
    signer: &'a arbor_mls::crypto::SignaturePrivateKey,
    by_value: Vec<Proposal>,
) -> CommitParams<'a> {
    CommitParams {
        by_value,
        by_reference: vec![],
        force_path: false,
        wire_format: WireFormat::PUBLIC_MESSAGE,
        ratchet_tree_in_welcome: true,
        authenticated_data: vec![],
        signer,
        leaf: None,
        psks: &NoPsks,
        now: NOW,
        dangerous_skip_validation: false,
        extra_psks: Vec::new(),
        psk_use: PskUse::Normal,
    }
}

fn join(suite: &Suite, welcome: &Welcome, m: &Member) -> GroupState {
    GroupState::join(
        suite,
        JoinInputs {
            welcome,
            key_package: &m.key_package,
            private: &m.private,
            ratchet_tree: None,
            psks: &NoPsks,
            now: NOW,
            config: GroupConfig::default(),
            psk_use: PskUse::Normal,
        },
    )
    .expect("join")
}

fn bench_size(c: &mut Criterion, n: u32) {
    let suite = default_suite().expect("suite");
    let mut rng = SeededRandom::from_seed([5; 32]);
    let creator = member(&suite, 0, &mut rng);
    let create = |rng: &mut SeededRandom| {
        GroupState::create(
            &suite,
            GroupConfig::default(),
            b"bench group".to_vec(),
            vec![],
            creator.key_package.leaf_node.clone(),
            creator.private.encryption_key.clone(),
            rng,
        )
        .expect("create")
    };
    let mut alice = create(&mut rng);
    let members: Vec<Member> = (1..n).map(|i| member(&suite, i, &mut rng)).collect();
    let adds: Vec<Proposal> = members
        .iter()
        .map(|m| {
            Proposal::Add(Add {
                key_package: m.key_package.clone(),
            })
        })
        .collect();
    c.bench_function(&format!("group/bulk_add/{n}"), |b| {
        b.iter_batched(
            || (create(&mut SeededRandom::from_seed([6; 32])), adds.clone()),
            |(mut group, adds)| {
                group
                    .create_commit(params(&creator.signer, adds), &mut rng)
                    .expect("add everyone")
            },
            criterion::BatchSize::LargeInput,
        )
    });
    let created = alice
        .create_commit(params(&creator.signer, adds), &mut rng)
        .expect("add everyone");
    alice.merge(created.staged).expect("merge");
    let welcome_msg: MlsMessage = decode_exact(&created.welcome.expect("welcome")).expect("decode");
    let MlsMessageBody::Welcome(welcome) = welcome_msg.body else {
        panic!("not a welcome")
    };

    c.bench_function(&format!("group/join/sparse/{n}"), |b| {
        b.iter(|| join(&suite, black_box(&welcome), &members[0]))
    });

    // Member at leaf 2 commits an update (an empty commit with a path).
    let mut bob = join(&suite, &welcome, &members[0]);
    let mut charlie = join(&suite, &welcome, &members[1]);
    let update = charlie
        .create_commit(params(&members[1].signer, vec![]), &mut rng)
        .expect("update commit");
    c.bench_function(&format!("group/process_update_commit/sparse/{n}"), |b| {
        b.iter(
            || match bob.process(black_box(&update.message), &NoPsks, NOW) {
                Ok(Received::Commit(staged)) => staged,
                other => panic!("expected a staged commit: {other:?}"),
            },
        )
    });
    // Sanity: the staged commit merges and agrees with the committer.
    if let Ok(Received::Commit(staged)) = bob.process(&update.message, &NoPsks, NOW) {
        bob.merge(*staged).expect("merge");
        charlie.merge(update.staged).expect("merge");
        assert_eq!(bob.epoch_authenticator(), charlie.epoch_authenticator());
    }
}

fn benches(c: &mut Criterion) {
    for n in SIZES {
        bench_size(c, n);
    }
}

criterion_group! {
    name = group;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(group);
