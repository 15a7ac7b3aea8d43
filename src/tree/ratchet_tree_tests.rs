use super::*;
use crate::crypto::rust_crypto::RustCryptoProvider;
use crate::crypto::{CipherSuite, Suite};
use crate::tree::leaf_node::LeafNodeSource;
use crate::tree::nodes::ParentNode;

/// `tree-validation.json` entry 1 (suite 1): four members, every node set,
/// parent nodes and commit-source leaves carrying parent hashes.
const TREE_HEX: &str = concat!(
    "43c1010120016bc63e1d96d806bc81719e262d8d549ba8d94280d9b8e5c1c66dd31a04260620b342ebc11e82",
    "95c7ca2f090ec9f261ad3c4843233c6995ad34367a4b858ebd03000105416c6963650200010e000100020003",
    "000400050006000700000200010320817def30133ff7b87be7adfc299926b20880b1ea76c649f8cf8c7a6126",
    "a4dcbf0040402a14e8853b554b318704f79f54bc45160c3a86cf6ce1255a8975df1628a2036c54b0f74c71f5",
    "3c1f17d5a700a156c8c63db8ee34e1da6ad1d10bdf085cb20b070102204d78ba96720b720c08e91eda3d6a64",
    "ac6294e5bde01eacc10049c44427c3d60020355cff38ce6ad9976e79b8a3e557b7f4596fc73e957b77f7352a",
    "b042c895686900010120f1201e23f02b1b6c43b221a9129c673d165a027487d352e9f2e6e5b0dae08c3520c9",
    "36df7ac66e4053861180847a091d7e34a8ed3b417725f365e95ffee42c1069000106416c696365310200010e",
    "000100020003000400050006000700000200010320b51846840add8a6587818808f3904e4f0b7fc5df16216c",
    "b75ad2977bc8cd4469004040ab58b52e188219e88b13b204e62f68bb41bf27eb715e44ee367c0bf5bf8eba39",
    "414e78eede95209f147a1b132cb1760aa79385f8777f2519760ff647a79a4c0a010220827742c6914242c13a",
    "34b5646151dfba405a5e853ac359211cbf03da05d41a280000010120e83506d8e79162ccf970455a85ae0722",
    "7895b680bc2c2aad037689c98f5bbe1e200d4db5500dae34b8a0dd247833e7440a41f4f90f6a644e235ab7f6",
    "bdc2d0dfab000106416c696365320200010e000100020003000400050006000700000200010320d29ec99190",
    "094a3f9f0c83a16b61d7898c1683a8ac856289b74b4dbe60066772004040683cf80bf9ce265f7aa2b40efa43",
    "8e8b90bb997e9739486489a2670559b5e56c86e115492503d7cb0fa3ecdfb200aa53d221bfcac04bec84679d",
    "253631ce4e07010220b16579b44e6e52a288931345588f394b89c50eeac49ccaeedadb9fd800230c2b205025",
    "9b33fe9dd28250eb9a25d3273d506036924f914113bfc08530f09ffcabad0001012063e2101f28444c2d80f8",
    "8edf4b2bed63b5199dc7b7473e624692900013285f672019fcb3a4588d81d1547fe85b3629b03e3a7ac20db7",
    "721d7734dc76e535643c16000106416c696365330200010e0001000200030004000500060007000002000101",
    "0000000063f31e410000000065d45fd100404063e09ce77ece145bdb12faff5896886863b766e25f676b9ebc",
    "735d31bc19219701befe4fd605631fb76b52b11c19d3ae7e960b9cd9a805a80a484a196ad32400",
);
const GROUP_ID_HEX: &str = "4175993ba77257ded5bc35780b81d9a1705bcb93fd48a1c608f256e6d9edf4c4";
const ROOT_HASH_HEX: &str = "0f056bdc7f23f227f127383185a6d31dcc54750631a929b4a6118b2a28b589a9";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn suite() -> Suite {
    Suite::from_provider(
        &RustCryptoProvider,
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
    )
    .unwrap()
}

fn sample() -> RatchetTree {
    RatchetTree::from_bytes(&unhex(TREE_HEX)).unwrap()
}

fn sample_wire() -> RatchetTreeWire {
    crate::decode_exact::<RatchetTreeWire>("ratchet_tree", &unhex(TREE_HEX)).unwrap()
}

/// The rule and detail of a protocol violation; panics on other errors.
fn violation(err: Error) -> (&'static str, String) {
    match err {
        Error::Protocol { rule, detail } => (rule, detail),
        other => panic!("expected a protocol violation, got {other}"),
    }
}

#[test]
fn sample_is_valid_and_round_trips() {
    let tree = sample();
    let suite = suite();
    assert_eq!(tree.leaf_count().get(), 4);
    assert_eq!(tree.member_count(), 4);
    assert_eq!(tree.to_bytes().unwrap(), unhex(TREE_HEX));
    assert_eq!(tree.root_tree_hash(&suite).unwrap(), unhex(ROOT_HASH_HEX));
    tree.verify_parent_hashes(&suite).unwrap();
    tree.verify_leaf_signatures(&suite, &unhex(GROUP_ID_HEX))
        .unwrap();
    tree.verify_unmerged_leaves().unwrap();
    tree.verify_unique_keys().unwrap();
}

#[test]
fn duplicate_keys_are_rejected_naming_both_nodes() {
    let mut tree = sample();
    let key = tree.leaf(LeafIndex(0)).unwrap().encryption_key.clone();
    tree.update_parent(NodeIndex(5), |p| p.encryption_key = key)
        .unwrap()
        .unwrap();
    let (rule, detail) = violation(tree.verify_unique_keys().unwrap_err());
    assert_eq!(rule, "§12.4.3.1");
    assert!(detail.contains("nodes 0 and 5"), "{detail}");

    let mut tree = sample();
    let mut leaf = tree.leaf(LeafIndex(3)).unwrap().clone();
    leaf.signature_key = tree.leaf(LeafIndex(1)).unwrap().signature_key.clone();
    tree.set_leaf(LeafIndex(3), Some(leaf)).unwrap();
    let (rule, detail) = violation(tree.verify_unique_keys().unwrap_err());
    assert_eq!(rule, "§7.3");
    assert!(detail.contains("leaves 1 and 3"), "{detail}");
}

#[test]
fn decoding_rejects_trailing_blank_and_empty() {
    let mut wire = sample_wire();
    wire.push(None);
    let (rule, detail) = violation(RatchetTree::from_wire(wire).unwrap_err());
    assert_eq!(rule, "§12.4.3.3");
    assert!(detail.contains("node 7"), "{detail}");
    let (rule, _) = violation(RatchetTree::from_wire(Vec::new()).unwrap_err());
    assert_eq!(rule, "§12.4.3.3");
}

#[test]
fn decoding_rejects_node_kind_at_wrong_position() {
    let mut wire = sample_wire();
    wire[2] = wire[1].clone();
    let (rule, detail) = violation(RatchetTree::from_wire(wire).unwrap_err());
    assert_eq!(rule, "§12.4.3.3");
    assert!(
        detail.contains("node 2") && detail.contains("parent node"),
        "{detail}"
    );

    let mut wire = sample_wire();
    wire[5] = wire[4].clone();
    let (_, detail) = violation(RatchetTree::from_wire(wire).unwrap_err());
    assert!(
        detail.contains("node 5") && detail.contains("leaf node"),
        "{detail}"
    );
}

#[test]
fn decoding_pads_to_a_full_tree_and_encoding_drops_trailing_blanks() {
    let mut wire = sample_wire();
    wire.truncate(5);
    let tree = RatchetTree::from_wire(wire.clone()).unwrap();
    assert_eq!(tree.leaf_count().get(), 4);
    assert!(tree.is_blank(NodeIndex(5)) && tree.is_blank(NodeIndex(6)));
    assert_eq!(tree.to_wire(), wire);

    // Blanking the last leaf makes the encoder drop nodes 5 and 6.
    let mut tree = sample();
    tree.set_node(NodeIndex(6), None).unwrap();
    tree.set_node(NodeIndex(5), None).unwrap();
    assert_eq!(tree.to_wire().len(), 5);
}

#[test]
fn decoding_rejects_unsorted_or_foreign_unmerged_leaves() {
    let mut tree = sample();
    let err = tree
        .update_parent(NodeIndex(1), |p| p.unmerged_leaves = vec![LeafIndex(2)])
        .unwrap_err();
    assert_eq!(violation(err).0, "§12.4.3.1");
    let err = tree
        .update_parent(NodeIndex(3), |p| {
            p.unmerged_leaves = vec![LeafIndex(2), LeafIndex(1)]
        })
        .unwrap_err();
    assert_eq!(violation(err).0, "§7.1");
    // A rejected change leaves the tree as it was.
    assert_eq!(tree, sample());
}

#[test]
fn resolution_and_filtered_direct_path() {
    let mut tree = sample();
    // Blank node 5 and leaf 3; make leaf 1 unmerged at node 1 and the root.
    tree.set_node(NodeIndex(5), None).unwrap();
    tree.set_leaf(LeafIndex(3), None).unwrap();
    for p in [1, 3] {
        tree.update_parent(NodeIndex(p), |p| p.unmerged_leaves = vec![LeafIndex(1)])
            .unwrap();
    }
    let n = |v: &[u32]| v.iter().copied().map(NodeIndex).collect::<Vec<_>>();
    assert_eq!(tree.resolution(NodeIndex(1)), n(&[1, 2]));
    assert_eq!(tree.resolution(NodeIndex(5)), n(&[4]));
    assert_eq!(tree.resolution(NodeIndex(6)), n(&[]));
    assert_eq!(tree.resolution(NodeIndex(3)), n(&[3, 2]));
    assert_eq!(tree.resolution(NodeIndex(7)), n(&[]));
    // Leaf 2: direct path [5, 3], copath [6, 1]; node 6 is blank.
    assert_eq!(tree.filtered_direct_path(LeafIndex(2)).unwrap(), n(&[3]));
    assert_eq!(tree.filtered_direct_path(LeafIndex(0)).unwrap(), n(&[1, 3]));
    assert_eq!(tree.member_count(), 3);
    tree.verify_unmerged_leaves().unwrap();
}

#[test]
fn tampered_parent_hash_fails_naming_the_node() {
    let suite = suite();
    let mut tree = sample();
    tree.update_parent(NodeIndex(1), |p| p.parent_hash[0] ^= 1)
        .unwrap()
        .unwrap();
    let (rule, detail) = violation(tree.verify_parent_hashes(&suite).unwrap_err());
    assert_eq!(rule, "§7.9.2");
    assert!(detail.contains("parent node 1"), "{detail}");

    // Node 5's field links it to the root: the root (checked before node 5)
    // is reported.
    let mut tree = sample();
    tree.update_parent(NodeIndex(5), |p| p.parent_hash[0] ^= 1)
        .unwrap()
        .unwrap();
    let (_, detail) = violation(tree.verify_parent_hashes(&suite).unwrap_err());
    assert!(detail.contains("parent node 3"), "{detail}");
}

#[test]
fn parent_node_key_swap_breaks_the_chain() {
    let suite = suite();
    let mut tree = sample();
    tree.update_parent(NodeIndex(3), |p| p.encryption_key.0[0] ^= 1)
        .unwrap()
        .unwrap();
    let (rule, detail) = violation(tree.verify_parent_hashes(&suite).unwrap_err());
    assert_eq!(rule, "§7.9.2");
    assert!(detail.contains("parent node 3"), "{detail}");
}

#[test]
fn tampered_leaf_signature_fails_naming_the_leaf() {
    let suite = suite();
    let group_id = unhex(GROUP_ID_HEX);
    let mut tree = sample();
    let mut leaf = tree.leaf(LeafIndex(2)).unwrap().clone();
    leaf.signature[0] ^= 1;
    tree.set_leaf(LeafIndex(2), Some(leaf)).unwrap();
    let (rule, detail) = violation(tree.verify_leaf_signatures(&suite, &group_id).unwrap_err());
    assert_eq!(rule, "§7.3");
    assert!(detail.contains("leaf 2"), "{detail}");
    // The signature covers the group id for update and commit leaves.
    let sample = sample();
    let signed_in_group = sample
        .members()
        .any(|(_, l)| !matches!(l.leaf_node_source, LeafNodeSource::KeyPackage(_)));
    if signed_in_group {
        assert!(
            sample
                .verify_leaf_signatures(&suite, b"other group")
                .is_err()
        );
    }
}

#[test]
fn cached_tree_hash_follows_changes_and_matches_a_fresh_computation() {
    let suite = suite();
    let mut tree = sample();
    let root_before = tree.root_tree_hash(&suite).unwrap();
    let left_before = tree.tree_hash(&suite, NodeIndex(1)).unwrap();

    let mut leaf = tree.leaf(LeafIndex(3)).unwrap().clone();
    leaf.signature[0] ^= 1;
    tree.set_leaf(LeafIndex(3), Some(leaf)).unwrap();
    // Only nodes 6, 5 and 3 lost their cached hash.
    for x in [0u32, 1, 2, 4] {
        assert!(
            tree.hash_cell(NodeIndex(x)).unwrap().get().is_some(),
            "node {x} recomputed"
        );
    }
    for x in [3u32, 5, 6] {
        assert!(
            tree.hash_cell(NodeIndex(x)).unwrap().get().is_none(),
            "node {x} still cached"
        );
    }

    let root_after = tree.root_tree_hash(&suite).unwrap();
    assert_ne!(root_after, root_before);
    assert_eq!(tree.tree_hash(&suite, NodeIndex(1)).unwrap(), left_before);
    assert_eq!(
        root_after,
        tree.tree_hash_uncached(&suite, tree.root()).unwrap()
    );
    let fresh = RatchetTree::from_bytes(&tree.to_bytes().unwrap()).unwrap();
    assert_eq!(root_after, fresh.root_tree_hash(&suite).unwrap());
    for x in 0..7 {
        assert_eq!(
            tree.tree_hash(&suite, NodeIndex(x)).unwrap(),
            fresh.tree_hash_uncached(&suite, NodeIndex(x)).unwrap()
        );
    }
}

#[test]
fn hash_cache_is_tied_to_one_suite() {
    let tree = sample();
    tree.root_tree_hash(&suite()).unwrap();
    let other = Suite::from_provider(
        &RustCryptoProvider,
        CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
    )
    .unwrap();
    assert!(matches!(tree.root_tree_hash(&other), Err(Error::Misuse(_))));
}

#[test]
fn add_update_remove_reshape_the_tree() {
    let mut tree = sample();
    let leaf1 = tree.leaf(LeafIndex(1)).unwrap().clone();

    // Remove leaf 3: its path is blanked, the tree keeps four leaves.
    tree.remove_leaf(LeafIndex(3)).unwrap();
    assert!(tree.is_blank(NodeIndex(5)) && tree.is_blank(NodeIndex(3)));
    assert_eq!(tree.leaf_count().get(), 4);
    // Remove leaf 2: the right half is empty and is truncated away.
    tree.remove_leaf(LeafIndex(2)).unwrap();
    assert_eq!(tree.leaf_count().get(), 2);
    assert!(tree.parent(NodeIndex(1)).is_some());
    assert!(violation(tree.remove_leaf(LeafIndex(2)).unwrap_err()).0 == "§12.1.3");

    // A blank leaf under non-blank node 1 is filled first and becomes
    // unmerged there.
    tree.set_leaf(LeafIndex(1), None).unwrap();
    assert_eq!(tree.add_leaf(leaf1.clone()).unwrap(), LeafIndex(1));
    assert_eq!(
        tree.parent(NodeIndex(1)).unwrap().unmerged_leaves,
        vec![LeafIndex(1)]
    );
    tree.verify_unmerged_leaves().unwrap();
    // A full tree is extended; the new leaf is the first new one.
    assert_eq!(tree.add_leaf(leaf1.clone()).unwrap(), LeafIndex(2));
    assert_eq!(tree.leaf_count().get(), 4);
    assert!(tree.is_blank(NodeIndex(3)));

    // Update replaces the leaf and blanks its direct path.
    tree.update_leaf(LeafIndex(0), leaf1.clone()).unwrap();
    assert!(tree.is_blank(NodeIndex(1)));
    assert_eq!(tree.leaf(LeafIndex(0)), Some(&leaf1));
    assert!(tree.update_leaf(LeafIndex(3), leaf1).is_err());

    let suite = suite();
    assert_eq!(
        tree.root_tree_hash(&suite).unwrap(),
        tree.tree_hash_uncached(&suite, tree.root()).unwrap()
    );
}

/// Builds a full tree of `leaves` leaves whose parent-hash chains all run
/// down left children: each parent's left child carries its parent hash.
fn chained_tree(suite: &Suite, leaves: u32) -> RatchetTree {
    let template = sample().leaf(LeafIndex(0)).unwrap().clone();
    let mut wire: RatchetTreeWire = Vec::new();
    for i in 0..2 * leaves - 1 {
        let key = crate::crypto::HpkePublicKey(i.to_be_bytes().to_vec());
        wire.push(Some(if i % 2 == 0 {
            let mut leaf = template.clone();
            leaf.encryption_key = key;
            leaf.leaf_node_source = LeafNodeSource::Commit(Vec::new());
            Node::Leaf(Box::new(leaf))
        } else {
            Node::Parent(Box::new(ParentNode {
                encryption_key: key,
                parent_hash: Vec::new(),
                unmerged_leaves: Vec::new(),
            }))
        }));
    }
    let mut tree = RatchetTree::from_wire(wire).unwrap();
    let root = tree.root();
    fill(&mut tree, suite, root, Vec::new());
    tree
}

/// Sets `x`'s parent hash to `ph`, finishes its right subtree, then chains
/// its left child to it.
fn fill(tree: &mut RatchetTree, suite: &Suite, x: NodeIndex, ph: Vec<u8>) {
    if let Some(leaf) = x.leaf() {
        let mut node = tree.leaf(leaf).unwrap().clone();
        node.leaf_node_source = LeafNodeSource::Commit(ph);
        tree.set_leaf(leaf, Some(node)).unwrap();
        return;
    }
    tree.update_parent(x, |p| p.parent_hash = ph)
        .unwrap()
        .unwrap();
    let (l, r) = (x.left().unwrap(), x.right().unwrap());
    fill(tree, suite, r, Vec::new());
    let down = tree.parent_hash(suite, x, r).unwrap();
    fill(tree, suite, l, down);
}

#[test]
fn parent_hash_verification_scales_and_finds_a_deep_fault() {
    let suite = suite();
    let leaves = 1 << 10;
    let tree = chained_tree(&suite, leaves);
    tree.verify_parent_hashes(&suite).unwrap();
    assert_eq!(
        tree.root_tree_hash(&suite).unwrap(),
        tree.tree_hash_uncached(&suite, tree.root()).unwrap()
    );

    // Change the key of node 63 (level 6, on the left edge, so no ancestor's
    // sibling subtree contains it): its own chain link breaks, and it is the
    // first failing node.
    let mut broken = tree.clone();
    let x = NodeIndex(63);
    broken
        .update_parent(x, |p| p.encryption_key.0.push(0))
        .unwrap()
        .unwrap();
    let (rule, detail) = violation(broken.verify_parent_hashes(&suite).unwrap_err());
    assert_eq!(rule, "§7.9.2");
    assert!(detail.contains(&format!("parent node {x}")), "{detail}");
}
