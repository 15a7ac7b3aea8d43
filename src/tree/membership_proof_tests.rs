//! Membership proofs built from real trees verify; wrong, foreign,
//! truncated, reshaped and random proofs are refused with an error, never a
//! panic.

use crate::codec::{decode_exact, encode};
use crate::test_support::{TreeFixture, default_suite};
use crate::tree::membership_proof::{CopathHash, MembershipProof};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

fn is_protocol(result: Result<impl std::fmt::Debug>) -> bool {
    matches!(result, Err(Error::Protocol { .. }))
}

#[test]
fn proofs_of_every_leaf_recompute_the_tree_hash() -> Result<()> {
    let suite = default_suite()?;
    for (fx, n) in [
        (TreeFixture::full(&suite, 8, 1)?, 8),
        (TreeFixture::sparse(&suite, 4, 2)?, 4),
        (TreeFixture::full(&suite, 1, 3)?, 1),
    ] {
        let root = fx.tree.root_tree_hash(&suite)?;
        for i in 0..n {
            let proof = MembershipProof::from_tree(&fx.tree, &suite, LeafIndex(i))?;
            proof.verify(&suite, &root)?;
            let again: MembershipProof =
                decode_exact(&encode(&proof)?).map_err(|e| Error::malformed("proof", e))?;
            assert_eq!(again, proof);
            if i > 0 {
                let first = MembershipProof::from_tree(&fx.tree, &suite, LeafIndex(0))?;
                assert_eq!(first.same_tree(&proof, &suite)?, root);
            }
        }
    }
    Ok(())
}

#[test]
fn a_wrong_proof_is_refused() -> Result<()> {
    let suite = default_suite()?;
    let fx = TreeFixture::full(&suite, 8, 4)?;
    let root = fx.tree.root_tree_hash(&suite)?;
    let proof = MembershipProof::from_tree(&fx.tree, &suite, LeafIndex(3))?;

    // Another leaf index with the same nodes: the hash inputs change.
    let mut moved = proof.clone();
    moved.leaf_index = LeafIndex(2);
    assert!(is_protocol(moved.verify(&suite, &root)));
    // A flipped bit in a copath hash.
    let mut flipped = proof.clone();
    flipped.copath_hashes[1].hash_value[0] ^= 1;
    assert!(is_protocol(flipped.verify(&suite, &root)));
    // Another leaf node (leaf 4's) claimed at index 3.
    let other = MembershipProof::from_tree(&fx.tree, &suite, LeafIndex(4))?;
    let mut swapped = proof.clone();
    swapped.direct_path_nodes[0] = other.direct_path_nodes[0].clone();
    assert!(is_protocol(swapped.verify(&suite, &root)));
    // A blank direct-path node that was set.
    let mut blanked = proof.clone();
    blanked.direct_path_nodes[1] = None;
    assert!(is_protocol(blanked.verify(&suite, &root)));
    // A parent where the leaf belongs, and a leaf where a parent belongs.
    let mut parent_first = proof.clone();
    parent_first.direct_path_nodes.swap(0, 1);
    assert!(is_protocol(parent_first.verify(&suite, &root)));
    Ok(())
}

#[test]
fn a_proof_for_another_tree_is_refused() -> Result<()> {
    let suite = default_suite()?;
    let a = TreeFixture::full(&suite, 8, 5)?;
    let b = TreeFixture::full(&suite, 8, 6)?;
    let proof_b = MembershipProof::from_tree(&b.tree, &suite, LeafIndex(0))?;
    assert!(is_protocol(
        proof_b.verify(&suite, &a.tree.root_tree_hash(&suite)?)
    ));
    let proof_a = MembershipProof::from_tree(&a.tree, &suite, LeafIndex(1))?;
    assert!(is_protocol(proof_a.same_tree(&proof_b, &suite)));
    // Same leaves, another size.
    let small = TreeFixture::full(&suite, 4, 5)?;
    let proof_small = MembershipProof::from_tree(&small.tree, &suite, LeafIndex(0))?;
    assert!(is_protocol(proof_a.same_tree(&proof_small, &suite)));
    Ok(())
}

#[test]
fn a_truncated_or_reshaped_proof_is_refused() -> Result<()> {
    let suite = default_suite()?;
    let fx = TreeFixture::full(&suite, 8, 7)?;
    let root = fx.tree.root_tree_hash(&suite)?;
    let proof = MembershipProof::from_tree(&fx.tree, &suite, LeafIndex(5))?;
    let bytes = encode(&proof)?;
    // Every truncation fails to decode.
    for cut in 0..bytes.len() {
        assert!(decode_exact::<MembershipProof>(&bytes[..cut]).is_err());
    }
    // One node or one copath hash short, or one too many.
    let mut short_nodes = proof.clone();
    short_nodes.direct_path_nodes.pop();
    assert!(is_protocol(short_nodes.verify(&suite, &root)));
    let mut short_copath = proof.clone();
    short_copath.copath_hashes.pop();
    assert!(is_protocol(short_copath.verify(&suite, &root)));
    let mut long_copath = proof.clone();
    long_copath.copath_hashes.push(CopathHash {
        hash_value: vec![0; 32],
    });
    assert!(is_protocol(long_copath.verify(&suite, &root)));
    // A copath hash of the wrong length.
    let mut short_hash = proof.clone();
    short_hash.copath_hashes[0].hash_value.pop();
    assert!(is_protocol(short_hash.verify(&suite, &root)));
    // Leaf counts that are not powers of two, or do not hold the leaf.
    for n_leaves in [0, 3, 6, 4, u32::MAX] {
        let mut bad = proof.clone();
        bad.n_leaves = n_leaves;
        assert!(
            is_protocol(bad.verify(&suite, &root)),
            "n_leaves {n_leaves}"
        );
    }
    let mut outside = proof.clone();
    outside.leaf_index = LeafIndex(8);
    assert!(is_protocol(outside.verify(&suite, &root)));
    let mut empty = proof;
    empty.direct_path_nodes.clear();
    assert!(is_protocol(empty.verify(&suite, &root)));
    Ok(())
}

#[test]
fn random_bytes_never_panic() -> Result<()> {
    let suite = default_suite()?;
    let fx = TreeFixture::full(&suite, 4, 8)?;
    let root = fx.tree.root_tree_hash(&suite)?;
    let bytes = encode(&MembershipProof::from_tree(&fx.tree, &suite, LeafIndex(2))?)?;
    // Every single-byte change of a valid proof decodes to something that
    // fails, or to the same proof; no panic either way.
    for i in 0..bytes.len() {
        for delta in [1u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] = b[i].wrapping_add(delta);
            if let Ok(p) = decode_exact::<MembershipProof>(&b) {
                let _ = p.verify(&suite, &root);
                let _ = p.path();
            }
        }
    }
    Ok(())
}
