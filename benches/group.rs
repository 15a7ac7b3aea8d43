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

mod common;

use std::hint::black_box;
use std::time::Duration;

use arbor_mls::crypto::SeededRandom;
use arbor_mls::group::engine::Received;
use arbor_mls::group::psk_store::NoPsks;
use arbor_mls::test_support::default_suite;
use criterion::{Criterion, criterion_group, criterion_main};

use common::{Member, NOW, add_proposals, create_group, decode_welcome, join, member, params};

const SIZES: [u32; 3] = [1024, 4096, 16_384];

fn bench_size(c: &mut Criterion, n: u32) {
    let suite = default_suite().expect("suite");
    let mut rng = SeededRandom::from_seed([5; 32]);
    let creator = member(&suite, 0, &mut rng);
    let create = |rng: &mut SeededRandom| create_group(&suite, &creator, rng);
    let mut alice = create(&mut rng);
    let members: Vec<Member> = (1..n).map(|i| member(&suite, i, &mut rng)).collect();
    let adds = add_proposals(&members);
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
    let welcome = decode_welcome(&created.welcome.expect("welcome"));

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
