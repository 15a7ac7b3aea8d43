//! Import validation (§12.4.3.1): one test per rule, each feeding a tree
//! that breaks it and expecting the rule's error.

use super::*;
use crate::test_support::{FIXTURE_LIFETIME, TreeFixture, default_suite};
use crate::tree::leaf_node::LeafNodeSource;
use crate::types::math::NodeIndex;

fn check(fx: &TreeFixture, tree: &RatchetTree, now: Option<u64>) -> Result<()> {
    let hash = tree.root_tree_hash(&fx.suite)?;
    let mut lifetime = LifetimePolicy::dangerous_unchecked();
    lifetime.now = now;
    tree.validate(
        &fx.suite,
        &TreeValidation {
            group_id: &fx.group_id,
            tree_hash: &hash,
            required: None,
            lifetime,
        },
    )
}

fn assert_rule(result: Result<()>, rule: &str, needle: &str) {
    match result {
        Err(Error::Protocol { rule: r, detail }) => {
            assert_eq!(r, rule, "{detail}");
            assert!(detail.contains(needle), "`{detail}` lacks `{needle}`");
        }
        other => panic!("expected a violation of {rule}, got {other:?}"),
    }
}

/// Changes leaf `i` through `f` and re-signs it, so that only the rule
/// under test breaks.
fn edit_leaf(fx: &TreeFixture, tree: &mut RatchetTree, i: u32, f: impl FnOnce(&mut LeafNode)) {
    let leaf = LeafIndex(i);
    let mut node = tree.leaf(leaf).unwrap().clone();
    f(&mut node);
    let group = match node.leaf_node_source {
        LeafNodeSource::KeyPackage(_) => None,
        _ => Some((fx.group_id.as_slice(), leaf)),
    };
    node.sign(&fx.suite, fx.signer(leaf).unwrap(), group)
        .unwrap();
    tree.set_leaf(leaf, Some(node)).unwrap();
}

#[test]
fn valid_fixtures_pass() {
    let suite = default_suite().unwrap();
    for fx in [
        TreeFixture::full(&suite, 64, 1).unwrap(),
        TreeFixture::sparse(&suite, 128, 2).unwrap(),
    ] {
        check(&fx, &fx.tree, Some(FIXTURE_LIFETIME.not_before + 1)).unwrap();
    }
}

#[test]
fn tree_hash_mismatch_12_4_3_1() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 8, 3).unwrap();
    let err = fx.tree.validate(
        &fx.suite,
        &TreeValidation {
            group_id: &fx.group_id,
            tree_hash: &[0; 32],
            required: None,
            lifetime: LifetimePolicy::dangerous_unchecked(),
        },
    );
    assert_rule(err, "§12.4.3.1", "tree_hash");
}

#[test]
fn parent_hash_invalid_7_9_2() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 16, 4).unwrap();
    let mut tree = fx.tree.clone();
    // Node 9 is the bottom of leaf 4's chain up to node 11: break the link.
    tree.update_parent(NodeIndex(9), |p| p.parent_hash[0] ^= 1)
        .unwrap();
    assert_rule(check(&fx, &tree, None), "§7.9.2", "not parent-hash valid");
}

#[test]
fn leaf_signature_invalid_7_3() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::sparse(&suite, 8, 5).unwrap();
    let mut tree = fx.tree.clone();
    let mut node = tree.leaf(LeafIndex(5)).unwrap().clone();
    node.signature[0] ^= 1;
    tree.set_leaf(LeafIndex(5), Some(node)).unwrap();
    assert_rule(check(&fx, &tree, None), "§7.3", "leaf 5");
}

/// A tree large enough for the leaves to be verified on several threads:
/// of three bad leaves the lowest is reported, on every run.
#[test]
fn large_tree_reports_lowest_bad_leaf_7_3() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::sparse(&suite, 4 * PARALLEL_THRESHOLD as u32, 7).unwrap();
    let mut tree = fx.tree.clone();
    assert!(tree.member_count() >= 2 * PARALLEL_THRESHOLD);
    for i in [200, 37, 130] {
        let mut node = tree.leaf(LeafIndex(i)).unwrap().clone();
        node.signature[0] ^= 1;
        tree.set_leaf(LeafIndex(i), Some(node)).unwrap();
    }
    for _ in 0..4 {
        assert_rule(check(&fx, &tree, None), "§7.3", "leaf 37:");
    }
}

/// In a large tree, a structural failure (here the tree hash) is the one
/// reported even when leaves verified beside it fail too, as in a small
/// tree where it is checked first.
#[test]
fn large_tree_reports_tree_hash_before_bad_leaf_12_4_3_1() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::sparse(&suite, 4 * PARALLEL_THRESHOLD as u32, 8).unwrap();
    let mut tree = fx.tree.clone();
    let mut node = tree.leaf(LeafIndex(0)).unwrap().clone();
    node.signature[0] ^= 1;
    tree.set_leaf(LeafIndex(0), Some(node)).unwrap();
    let err = tree.validate(
        &fx.suite,
        &TreeValidation {
            group_id: &fx.group_id,
            tree_hash: &[0; 32],
            required: None,
            lifetime: LifetimePolicy::dangerous_unchecked(),
        },
    );
    assert_rule(err, "§12.4.3.1", "tree_hash");
    // With the right hash, the same tree fails on its leaf.
    assert_rule(check(&fx, &tree, None), "§7.3", "leaf 0:");
}

#[test]
fn leaf_lifetime_expired_7_3() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::sparse(&suite, 8, 6).unwrap();
    let now = FIXTURE_LIFETIME.not_after + 1;
    match check(&fx, &fx.tree, Some(now)) {
        Err(Error::Expired {
            leaf: Some(_),
            not_after,
            now: at,
            ..
        }) => assert_eq!((not_after, at), (FIXTURE_LIFETIME.not_after, now)),
        other => panic!("expected an expired leaf, got {other:?}"),
    }
}

#[test]
fn unmerged_leaf_blank_12_4_3_1() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 8, 7).unwrap();
    let mut tree = fx.tree.clone();
    tree.update_parent(NodeIndex(3), |p| p.unmerged_leaves = vec![LeafIndex(2)])
        .unwrap();
    tree.update_parent(NodeIndex(5), |p| p.unmerged_leaves = vec![LeafIndex(2)])
        .unwrap();
    tree.set_leaf(LeafIndex(2), None).unwrap();
    assert_rule(check(&fx, &tree, None), "§12.4.3.1", "blank");
}

#[test]
fn unmerged_leaf_missing_in_between_12_4_3_1() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 8, 8).unwrap();
    let mut tree = fx.tree.clone();
    // Listed at node 3 but not at node 5, which lies between leaf 2 and 3.
    tree.update_parent(NodeIndex(3), |p| p.unmerged_leaves = vec![LeafIndex(2)])
        .unwrap();
    assert_rule(check(&fx, &tree, None), "§12.4.3.1", "not at node 5");
}

#[test]
fn duplicate_encryption_key_12_4_3_1() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 8, 9).unwrap();
    let mut tree = fx.tree.clone();
    let key = tree.leaf(LeafIndex(0)).unwrap().encryption_key.clone();
    tree.update_parent(NodeIndex(5), |p| p.encryption_key = key)
        .unwrap();
    assert_rule(check(&fx, &tree, None), "§12.4.3.1", "same encryption key");
}

#[test]
fn duplicate_signature_key_7_3() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::sparse(&suite, 4, 10).unwrap();
    let mut tree = fx.tree.clone();
    let other = tree.leaf(LeafIndex(1)).unwrap().clone();
    // Leaf 3 claims leaf 1's signature key (and signs with leaf 1's key).
    let mut node = tree.leaf(LeafIndex(3)).unwrap().clone();
    node.signature_key = other.signature_key;
    node.sign(&fx.suite, fx.signer(LeafIndex(1)).unwrap(), None)
        .unwrap();
    tree.set_leaf(LeafIndex(3), Some(node)).unwrap();
    assert_rule(check(&fx, &tree, None), "§7.3", "same signature key");
}

#[test]
fn credential_type_not_supported_by_all_7_3() {
    use crate::crypto::credential::{Credential, CredentialType};
    let suite = default_suite().unwrap();
    let fx = TreeFixture::sparse(&suite, 4, 11).unwrap();
    let mut tree = fx.tree.clone();
    // Leaf 2 uses a custom credential type only it lists.
    edit_leaf(&fx, &mut tree, 2, |n| {
        n.credential = Credential::Other {
            credential_type: CredentialType(0xf001),
            data: vec![1],
        };
        n.capabilities.credentials.push(CredentialType(0xf001));
    });
    assert_rule(check(&fx, &tree, None), "§7.3", "credential type");
}

#[test]
fn node_kind_at_wrong_position_12_4_3_3() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 4, 12).unwrap();
    let mut wire = fx.tree.to_wire();
    wire.swap(0, 1);
    let err = RatchetTree::from_wire(wire).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol {
                rule: "§12.4.3.3",
                ..
            }
        ),
        "{err}"
    );
}
