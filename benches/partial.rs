//! Partial MLS (draft-ietf-mls-partial) next to the full client, in one
//! run, in a sparse group of n members (one commit added n - 1 of them, as
//! in `benches/group.rs`; the n-th joins by a commit of its own):
//!
//! - `join_full`: the n-th member joins from its Welcome and the ratchet
//!   tree (decoding the tree, the whole §12.4.3.1 check, the key schedule);
//!   `join_partial`: the same member joins from its AnnotatedWelcome
//!   (decoding it, both proofs, the path secret, the key schedule).
//! - `commit_full`: a full member stages the creator's update commit;
//!   `commit_partial`: the partial member stages it from its
//!   AnnotatedCommit.
//! - `annotate_prepare`: what the delivery service does once per commit
//!   (`CommitAnnotator::new`, which `Observer::annotate_commit` runs: the
//!   committer's proofs and the place of each encryption target);
//!   `annotate_recipient`: one recipient's AnnotatedCommit, encoded (the
//!   commit's bytes copied in); `annotate_tail`: only what differs per
//!   recipient (proofs, resolution index), for a server sharing the
//!   commit's bytes between recipients.
//!
//! The bytes each joiner and receiver gets are printed once per size.
//!
//! `cargo bench --bench partial --features test-support`
//!
//! `ARBOR_PARTIAL_SIZES=1024,16384,65536` chooses the sizes (default 1024:
//! building a group of 65,536 takes minutes and several GB of memory).

mod common;

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::crypto::{SeededRandom, Suite};
use arbor_mls::framing::{AnnotatedCommit, AnnotatedWelcome, MlsMessage};
use arbor_mls::group::engine::Received;
use arbor_mls::group::join::JoinInputs;
use arbor_mls::group::partial_annotate::{CommitAnnotator, CommitFacts};
use arbor_mls::group::partial_epoch::{PartialCommitOutcome, PartialEpoch};
use arbor_mls::group::partial_join::join_partial;
use arbor_mls::group::proposal_cache::ProposalCache;
use arbor_mls::group::psk_store::{NoPsks, PskUse};
use arbor_mls::group::state::{GroupConfig, GroupState};
use arbor_mls::schedule::SecretTreeConfig;
use arbor_mls::tree::nodes::RatchetTreeWire;
use arbor_mls::tree::ratchet_tree::RatchetTree;
use arbor_mls::types::math::LeafIndex;
use criterion::{Criterion, criterion_group, criterion_main};

use common::{Member, NOW, add_proposals, create_group, decode_welcome, join, member, params};

/// A full join from a Welcome without the tree and the encoded tree.
fn full_join(suite: &Suite, welcome: &[u8], tree: &[u8], m: &Member) -> GroupState {
    let welcome = decode_welcome(welcome);
    let wire: RatchetTreeWire = decode_exact(tree).expect("tree");
    let tree = RatchetTree::from_wire(wire).expect("tree");
    GroupState::join(
        suite,
        JoinInputs {
            welcome: &welcome,
            key_package: &m.key_package,
            private: &m.private,
            ratchet_tree: Some(tree),
            psks: &NoPsks,
            now: NOW,
            config: GroupConfig::default(),
            psk_use: PskUse::Normal,
        },
    )
    .expect("full join")
}

/// A partial join from an encoded AnnotatedWelcome.
fn partial_join(suite: &Suite, annotated: &[u8], m: &Member) -> PartialEpoch {
    let annotated: AnnotatedWelcome = decode_exact(annotated).expect("annotated welcome");
    let joined = join_partial(
        suite,
        &annotated,
        &m.key_package,
        &m.private,
        &NoPsks,
        PskUse::Normal,
    )
    .expect("partial join");
    PartialEpoch::from_join(
        suite,
        joined,
        m.private.encryption_key.clone(),
        &annotated.joiner_membership_proof,
        SecretTreeConfig::default(),
    )
    .expect("partial epoch")
}

/// The partial client's side of an annotated commit: stage, not merge.
fn partial_commit(
    suite: &Suite,
    partial: &PartialEpoch,
    commit: &AnnotatedCommit,
) -> PartialCommitOutcome {
    partial
        .stage_commit(
            suite,
            commit,
            &ProposalCache::default(),
            &NoPsks,
            SecretTreeConfig::default(),
        )
        .expect("partial stage")
}

fn bench_size(c: &mut Criterion, suite: &Suite, n: u32) {
    let mut rng = SeededRandom::from_seed([7; 32]);
    let creator = member(suite, 0, &mut rng);
    // n - 2 members by one commit, then the newcomer: n members.
    let members: Vec<Member> = (1..n - 1).map(|i| member(suite, i, &mut rng)).collect();
    let newcomer = member(suite, n - 1, &mut rng);

    let mut alice = create_group(suite, &creator, &mut rng);
    let created = alice
        .create_commit(params(&creator.signer, add_proposals(&members)), &mut rng)
        .expect("add everyone");
    alice.merge(created.staged).expect("merge");
    let mut bob = join(
        suite,
        &decode_welcome(&created.welcome.expect("welcome")),
        &members[0],
    );

    // The newcomer's add, without the tree in the Welcome: a full joiner
    // downloads it beside.
    let before = alice.tree().clone();
    let mut add = params(
        &creator.signer,
        add_proposals(std::slice::from_ref(&newcomer)),
    );
    add.ratchet_tree_in_welcome = false;
    let added = alice
        .create_commit(add, &mut rng)
        .expect("add the newcomer");
    let welcome = added.welcome.clone().expect("welcome");
    let annotator = CommitAnnotator::new(
        suite,
        &before,
        added.staged.next_tree().expect("next tree"),
        decode_exact::<MlsMessage>(&added.message).expect("commit"),
        &CommitFacts {
            member_sender: Some(LeafIndex(0)),
            external_joiner: None,
            has_path: false,
            added: vec![LeafIndex(n - 1)],
            removed: vec![],
        },
    )
    .expect("annotator");
    let refs: HashMap<Vec<u8>, LeafIndex> = annotator
        .joiner_refs(std::slice::from_ref(&newcomer.key_package))
        .expect("joiner");
    let annotated_welcome = encode(
        &annotator
            .annotate_welcome(&decode_welcome(&welcome), &refs)
            .expect("annotate welcome")[0]
            .1,
    )
    .expect("encode");
    let Ok(Received::Commit(staged)) = bob.process(&added.message, &NoPsks, NOW) else {
        panic!("bob stages the add")
    };
    bob.merge(*staged).expect("merge");
    alice.merge(added.staged).expect("merge");
    let tree = alice.tree().to_bytes().expect("tree");
    let partial = partial_join(suite, &annotated_welcome, &newcomer);
    assert_eq!(
        partial.secrets.epoch_authenticator.as_bytes(),
        alice.epoch_authenticator()
    );

    // An update from the creator (a path encrypted to every other leaf).
    let before = alice.tree().clone();
    let update = alice
        .create_commit(params(&creator.signer, vec![]), &mut rng)
        .expect("update");
    let facts = CommitFacts {
        member_sender: Some(LeafIndex(0)),
        external_joiner: None,
        has_path: true,
        added: vec![],
        removed: vec![],
    };
    let after = update.staged.next_tree().expect("next tree").clone();
    let commit: MlsMessage = decode_exact(&update.message).expect("commit");
    let annotator =
        CommitAnnotator::new(suite, &before, &after, commit.clone(), &facts).expect("annotator");
    let annotated_commit =
        encode(&annotator.annotate(LeafIndex(n - 1)).expect("annotate")).expect("encode");
    let decoded: AnnotatedCommit = decode_exact(&annotated_commit).expect("decode");
    match partial_commit(suite, &partial, &decoded) {
        PartialCommitOutcome::Next(next) => assert_eq!(
            next.secrets.epoch_authenticator.as_bytes(),
            update.staged.epoch_authenticator().expect("next epoch")
        ),
        PartialCommitOutcome::Removed => panic!("not removed"),
    }

    let full_bytes = welcome.len() + tree.len();
    println!(
        "partial/{n} bytes: full join {full_bytes} B (Welcome {} B + tree {} B), partial join \
         {} B ({:.3}%); update commit {} B, AnnotatedCommit {} B",
        welcome.len(),
        tree.len(),
        annotated_welcome.len(),
        100.0 * annotated_welcome.len() as f64 / full_bytes as f64,
        update.message.len(),
        annotated_commit.len(),
    );

    let mut group = c.benchmark_group(format!("partial/{n}"));
    group.bench_function("join_full", |b| {
        b.iter(|| full_join(suite, black_box(&welcome), black_box(&tree), &newcomer))
    });
    group.bench_function("join_partial", |b| {
        b.iter(|| partial_join(suite, black_box(&annotated_welcome), &newcomer))
    });
    group.bench_function("commit_full", |b| {
        b.iter(
            || match bob.process(black_box(&update.message), &NoPsks, NOW) {
                Ok(Received::Commit(staged)) => staged,
                other => panic!("expected a staged commit: {other:?}"),
            },
        )
    });
    group.bench_function("commit_partial", |b| {
        b.iter(|| {
            let decoded: AnnotatedCommit =
                decode_exact(black_box(&annotated_commit)).expect("decode");
            partial_commit(suite, &partial, &decoded)
        })
    });
    group.bench_function("annotate_prepare", |b| {
        b.iter(|| {
            CommitAnnotator::new(suite, &before, &after, commit.clone(), &facts).expect("annotator")
        })
    });
    // Recipients spread over the tree, one per iteration. `annotate_encoded`
    // copies the commit into each recipient's bytes; `annotate_tail` is
    // what differs per recipient (a server can share the commit's bytes).
    let recipient = |next: &mut u32| {
        *next = (*next + 7919) % n;
        LeafIndex(if *next == 0 { 1 } else { *next })
    };
    let mut next = 0u32;
    group.bench_function("annotate_recipient", |b| {
        b.iter(|| {
            annotator
                .annotate_encoded(recipient(&mut next))
                .expect("annotate")
        })
    });
    group.bench_function("annotate_tail", |b| {
        b.iter(|| {
            encode(
                &annotator
                    .annotate_tail(recipient(&mut next))
                    .expect("annotate"),
            )
            .expect("encode")
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let suite = arbor_mls::test_support::default_suite().expect("suite");
    let sizes: Vec<u32> = match std::env::var("ARBOR_PARTIAL_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|s| s.trim().parse().expect("a size"))
            .collect(),
        Err(_) => vec![1024],
    };
    for n in sizes {
        bench_size(c, &suite, n);
    }
}

criterion_group! {
    name = partial;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(partial);
