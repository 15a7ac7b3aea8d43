//! Ratchet-tree costs at 1,024, 16,384 and 65,536 leaves:
//! (a) importing and validating a full tree, (b) generating an UpdatePath in
//! a full and in a sparse tree, (c) applying an UpdatePath as a receiver,
//! tree-hash update included.
//!
//! `cargo bench --bench tree --features test-support` (add a size filter,
//! e.g. `-- /1024`, to run one size).

use std::hint::black_box;
use std::time::Duration;

use arbor_mls::codec::encode;
use arbor_mls::crypto::SeededRandom;
use arbor_mls::test_support::{TreeFixture, default_suite};
use arbor_mls::tree::leaf_validation::LifetimePolicy;
use arbor_mls::tree::ratchet_tree::RatchetTree;
use arbor_mls::tree::treekem::{NewLeaf, PathContext, apply_update_path, generate_update_path};
use arbor_mls::tree::validation::TreeValidation;
use arbor_mls::types::math::LeafIndex;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const SIZES: [u32; 3] = [1024, 16_384, 65_536];

fn generate(fx: &TreeFixture, c: &mut Criterion, name: &str) {
    let sender = LeafIndex(0);
    let content = fx.leaf_content(sender).expect("sender leaf");
    let signer = fx.signer(sender).expect("signer");
    let private = fx.private_state(sender).expect("private state");
    c.bench_function(name, |b| {
        b.iter_batched(
            || {
                (
                    fx.tree.clone(),
                    private.clone(),
                    SeededRandom::from_seed([3; 32]),
                )
            },
            |(mut tree, mut private, mut rng)| {
                let path = generate_update_path(
                    &fx.suite,
                    &mut tree,
                    &mut private,
                    NewLeaf {
                        content: &content,
                        signer,
                    },
                    PathContext {
                        group_id: &fx.group_id,
                        joiners: &[],
                        external: false,
                    },
                    |h| Ok(encode(&fx.group_context(1, h))?),
                    &mut rng,
                )
                .expect("generate");
                // Returned so that freeing the trees is not timed.
                (tree, private, path)
            },
            BatchSize::SmallInput,
        )
    });
}

fn bench_size(c: &mut Criterion, n: u32) {
    let suite = default_suite().expect("suite");
    let full = TreeFixture::full(&suite, n, 1).expect("full tree");
    let hash = full.tree.root_tree_hash(&suite).expect("tree hash");

    // (a) import and validate: decode, hash, parent hashes, every leaf.
    let bytes = full.tree.to_bytes().expect("encode");
    c.bench_function(&format!("tree/validate_import/full/{n}"), |b| {
        b.iter(|| {
            let tree = RatchetTree::from_bytes(black_box(&bytes)).expect("decode");
            tree.validate(
                &suite,
                &TreeValidation {
                    group_id: &full.group_id,
                    tree_hash: &hash,
                    required: None,
                    lifetime: LifetimePolicy::dangerous_unchecked(),
                },
            )
            .expect("valid")
        })
    });

    // (b) generate an UpdatePath.
    generate(&full, c, &format!("tree/update_path_generate/full/{n}"));
    let sparse = TreeFixture::sparse(&suite, n, 2).expect("sparse tree");
    sparse
        .tree
        .root_tree_hash(&suite)
        .expect("warm the hash cache");
    generate(&sparse, c, &format!("tree/update_path_generate/sparse/{n}"));

    // (c) apply it as a receiver (leaf 1: the longest derivation chain),
    // tree hash included.
    let mut tree = full.tree.clone();
    let mut private = full.private_state(LeafIndex(0)).expect("private state");
    let content = full.leaf_content(LeafIndex(0)).expect("leaf");
    let path = generate_update_path(
        &suite,
        &mut tree,
        &mut private,
        NewLeaf {
            content: &content,
            signer: full.signer(LeafIndex(0)).expect("signer"),
        },
        PathContext {
            group_id: &full.group_id,
            joiners: &[],
            external: false,
        },
        |h| Ok(encode(&full.group_context(1, h))?),
        &mut SeededRandom::from_seed([4; 32]),
    )
    .expect("path")
    .update_path;
    let receiver = full.private_state(LeafIndex(1)).expect("receiver state");
    c.bench_function(&format!("tree/update_path_apply/full/{n}"), |b| {
        b.iter_batched(
            || (full.tree.clone(), receiver.clone()),
            |(mut tree, mut private)| {
                apply_update_path(
                    &suite,
                    &mut tree,
                    LeafIndex(0),
                    &path,
                    PathContext {
                        group_id: &full.group_id,
                        joiners: &[],
                        external: false,
                    },
                    Some(&mut private),
                    |h| Ok(encode(&full.group_context(1, h))?),
                )
                .expect("apply");
                let hash = tree.root_tree_hash(&suite).expect("tree hash");
                // Returned so that freeing the trees is not timed.
                (tree, private, hash)
            },
            BatchSize::SmallInput,
        )
    });
}

fn benches(c: &mut Criterion) {
    for n in SIZES {
        bench_size(c, n);
    }
}

criterion_group! {
    name = tree;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(tree);
