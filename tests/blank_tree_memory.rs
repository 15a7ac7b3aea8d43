//! A ratchet tree that is mostly blank costs one byte per
//! blank node on the wire, so it must not cost ~90 bytes per node in
//! memory once imported. This test MEASURES the heap with a counting
//! global allocator (the `cap` crate, so no unsafe code here).
//!
//! One `#[test]` only: the allocator counts every thread of the process,
//! and a second test running in parallel would pollute the figures.
//! Reproduce the printed numbers with
//! `cargo test -p arbor-mls --test blank_tree_memory -- --nocapture`.

use std::alloc::System;

use arbor_mls::crypto::credential::Credential;
use arbor_mls::crypto::rust_crypto::RustCryptoProvider;
use arbor_mls::crypto::{CipherSuite, HpkePublicKey, SignaturePublicKey, Suite};
use arbor_mls::tree::leaf_node::{Capabilities, LeafNode, LeafNodeSource, Lifetime};
use arbor_mls::tree::ratchet_tree::RatchetTree;
use arbor_mls::types::math::{LeafCount, LeafIndex};
use cap::Cap;

#[global_allocator]
static HEAP: Cap<System> = Cap::new(System, usize::MAX);

/// A leaf with distinct keys. Import checks positions and structure, not
/// signatures (those are checked by the join), so no signing is needed.
fn leaf(i: u32) -> LeafNode {
    let mut key = vec![0u8; 32];
    key[..4].copy_from_slice(&i.to_be_bytes());
    let mut sig = key.clone();
    sig[31] = 1;
    LeafNode {
        encryption_key: HpkePublicKey(key),
        signature_key: SignaturePublicKey(sig),
        credential: Credential::basic(format!("member {i}")),
        capabilities: Capabilities {
            versions: vec![],
            cipher_suites: vec![],
            extensions: vec![],
            proposals: vec![],
            credentials: vec![],
        },
        leaf_node_source: LeafNodeSource::KeyPackage(Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        }),
        extensions: vec![],
        signature: vec![0; 64],
    }
}

/// The wire form of a tree of `leaves` leaves with four members: the
/// first two, one in the middle and the last (so the wire form is the
/// full width, every other node a one-byte blank).
fn sparse_wire(leaves: u32) -> (Vec<u8>, Vec<u32>) {
    let members = vec![0, 1, leaves / 2 + 3, leaves - 1];
    let mut tree = RatchetTree::blank(LeafCount::new(leaves).expect("a power of two"));
    for &m in &members {
        tree.set_leaf(LeafIndex(m), Some(leaf(m)))
            .expect("in the tree");
    }
    (tree.to_bytes().expect("encodes"), members)
}

struct Measured {
    nodes: usize,
    wire: usize,
    imported: usize,
    peak_during_import: usize,
    cloned: usize,
    written_clone: usize,
    hashed: usize,
}

fn heap() -> usize {
    HEAP.allocated()
}

fn measure(leaves: u32, suite: &Suite) -> Measured {
    let (wire, members) = sparse_wire(leaves);
    let nodes = 2 * leaves as usize - 1;

    let before = heap();
    let tree = RatchetTree::from_bytes(&wire).expect("imports");
    let imported = heap() - before;
    // `max_allocated` is the process's high-water mark: meaningful for the
    // first (largest) import only, which nothing before it outgrew.
    let peak_during_import = HEAP.max_allocated().saturating_sub(before);
    // The import is faithful: same members, same bytes back.
    assert_eq!(tree.member_count(), members.len());
    assert_eq!(tree.to_bytes().expect("encodes"), wire);

    // Staging a commit clones the tree, then writes a path.
    let before = heap();
    let mut clone = tree.clone();
    let cloned = heap() - before;
    let before = heap();
    clone
        .set_leaf(LeafIndex(leaves / 4 + 5), Some(leaf(leaves / 4 + 5)))
        .expect("a blank leaf");
    let written_clone = heap() - before;
    assert_eq!(clone.member_count(), members.len() + 1);
    assert_eq!(
        tree.member_count(),
        members.len(),
        "the original is untouched"
    );
    assert!(tree.leaf(LeafIndex(leaves / 4 + 5)).is_none());
    drop(clone);

    // Joining hashes the whole tree once and caches every node's hash.
    let before = heap();
    let root_hash = tree.root_tree_hash(suite).expect("hashes");
    let hashed = heap() - before;
    // Blank subtrees hashed without caching still give the right hash,
    // before and after a write into one of them.
    let root = tree.root();
    assert_eq!(
        root_hash,
        tree.tree_hash_uncached(suite, root).expect("hashes")
    );
    let mut written = tree.clone();
    let joiner = LeafIndex(leaves / 2 + 40);
    written
        .set_leaf(joiner, Some(leaf(joiner.0)))
        .expect("a blank leaf");
    let rehashed = written.root_tree_hash(suite).expect("hashes");
    assert_ne!(rehashed, root_hash);
    assert_eq!(
        rehashed,
        written.tree_hash_uncached(suite, root).expect("hashes")
    );
    assert_eq!(tree.root_tree_hash(suite).expect("hashes"), root_hash);
    Measured {
        nodes,
        wire: wire.len(),
        imported,
        peak_during_import,
        cloned,
        written_clone,
        hashed,
    }
}

#[test]
fn a_mostly_blank_tree_costs_a_few_bytes_per_node() {
    let suite = Suite::from_provider(
        &RustCryptoProvider,
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
    )
    .expect("suite 1");
    // Largest first, so the process high-water mark is this import's.
    let large = measure(1 << 16, &suite);
    let small = measure(1 << 12, &suite);
    eprintln!(
        "import peak at {} nodes: {} B ({:.1} B/node, the decoded wire vector)",
        large.nodes,
        large.peak_during_import,
        large.peak_during_import as f64 / large.nodes as f64
    );
    for m in [&small, &large] {
        eprintln!(
            "{} nodes ({} wire bytes): import keeps {} B ({:.2} B/node); \
             clone {} B; one leaf written on the clone {} B; tree hash cache {} B ({:.1} B/node)",
            m.nodes,
            m.wire,
            m.imported,
            m.imported as f64 / m.nodes as f64,
            m.cloned,
            m.written_clone,
            m.hashed,
            m.hashed as f64 / m.nodes as f64,
        );
    }

    // Bound: 4 bytes per node, against ~90 before blank runs were shared.
    // What remains per node is one pointer per 64-node chunk in the node,
    // occupancy and hash-cache arrays, an empty hash-cache chunk header per
    // chunk, and one pointer per 16 nodes in the key indexes: about 2 B.
    assert!(
        large.imported <= 4 * large.nodes,
        "{} B for {} nodes",
        large.imported,
        large.nodes
    );
    // The marginal cost of the 15 x 2^12 extra blank nodes: the same bound,
    // measured as a difference so that the four members' fixed cost (a few
    // copied chunks each) cannot hide it.
    let extra = large.imported - small.imported;
    assert!(
        extra <= 4 * (large.nodes - small.nodes),
        "{extra} B for {} more blank nodes",
        large.nodes - small.nodes
    );
    // Hashing the whole tree (as a join does) caches only hashes above
    // level 5 or over members: measured about 1.2 B/node, bounded at 4,
    // where every node's hash used to be cached (48 B/node).
    assert!(
        large.hashed <= 4 * large.nodes,
        "hash cache: {} B for {} nodes",
        large.hashed,
        large.nodes
    );
    // Cloning copies one pointer per 64-node chunk of each array and one
    // per key shard (a shard per 16 nodes, 8 per 16 leaves): about 1.1 B
    // per node, bounded at 2, where a deep copy would be ~90.
    assert!(large.cloned <= 2 * large.nodes, "clone: {} B", large.cloned);
    // Writing a leaf copies the chunks on its direct path (17 levels),
    // not the blank run: under 64 KiB whatever the size.
    assert!(
        large.written_clone <= 64 * 1024,
        "write: {} B",
        large.written_clone
    );
}
