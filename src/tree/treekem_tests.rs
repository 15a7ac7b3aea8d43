//! TreeKEM round trips on full and sparse trees, and each §7.6/§12.4.2 rule
//! fed a violating UpdatePath.

use super::*;
use crate::codec::encode;
use crate::crypto::SeededRandom;
use crate::test_support::{TreeFixture, default_suite};
use crate::tree::leaf_validation::LifetimePolicy;
use crate::tree::validation::TreeValidation;

struct Committed {
    tree: RatchetTree,
    path: UpdatePath,
    commit_secret: Secret,
}

fn commit(fx: &TreeFixture, sender: u32, joiners: &[LeafIndex]) -> Committed {
    let sender = LeafIndex(sender);
    let mut tree = fx.tree.clone();
    let mut private = fx.private_state(sender).unwrap();
    let content = fx.leaf_content(sender).unwrap();
    let generated = generate_update_path(
        &fx.suite,
        &mut tree,
        &mut private,
        NewLeaf {
            content: &content,
            signer: fx.signer(sender).unwrap(),
        },
        PathContext {
            group_id: &fx.group_id,
            joiners,
            external: false,
        },
        |h| Ok(encode(&fx.group_context(1, h))?),
        &mut SeededRandom::from_seed([9; 32]),
    )
    .unwrap();
    private.verify_against(&fx.suite, &tree).unwrap();
    Committed {
        tree,
        path: generated.update_path,
        commit_secret: generated.commit_secret,
    }
}

fn receive(
    fx: &TreeFixture,
    sender: u32,
    receiver: u32,
    path: &UpdatePath,
    joiners: &[LeafIndex],
) -> Result<(RatchetTree, Option<DecryptedPath>)> {
    let mut tree = fx.tree.clone();
    let mut private = fx.private_state(LeafIndex(receiver))?;
    let out = apply_update_path(
        &fx.suite,
        &mut tree,
        LeafIndex(sender),
        path,
        PathContext {
            group_id: &fx.group_id,
            joiners,
            external: false,
        },
        Some(&mut private),
        |h| Ok(encode(&fx.group_context(1, h))?),
    )?;
    private.verify_against(&fx.suite, &tree)?;
    Ok((tree, out))
}

fn round_trip(fx: &TreeFixture, sender: u32) {
    let c = commit(fx, sender, &[]);
    let n = fx.tree.leaf_count().get();
    for receiver in (0..n).filter(|r| *r != sender) {
        let (tree, got) = receive(fx, sender, receiver, &c.path, &[]).unwrap();
        assert_eq!(
            got.unwrap().commit_secret,
            c.commit_secret,
            "receiver {receiver}"
        );
        assert_eq!(tree, c.tree);
    }
    let hash = c.tree.root_tree_hash(&fx.suite).unwrap();
    c.tree
        .validate(
            &fx.suite,
            &TreeValidation {
                group_id: &fx.group_id,
                tree_hash: &hash,
                required: None,
                lifetime: LifetimePolicy::dangerous_unchecked(),
            },
        )
        .unwrap();
}

#[test]
fn full_tree_every_member_decrypts() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 16, 1).unwrap();
    assert_eq!(fx.tree.member_count(), 16);
    round_trip(&fx, 5);
    round_trip(&fx, 0);
}

#[test]
fn sparse_tree_encrypts_to_every_leaf() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::sparse(&suite, 32, 2).unwrap();
    let c = commit(&fx, 3, &[]);
    // Every other leaf gets exactly one ciphertext: 31 in all (parallel path).
    let total: usize = c
        .path
        .nodes
        .iter()
        .map(|n| n.encrypted_path_secret.len())
        .sum();
    assert_eq!(total, 31);
    round_trip(&fx, 3);
}

#[test]
fn joiners_are_excluded_7_6() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::sparse(&suite, 8, 3).unwrap();
    let joiners = [LeafIndex(6), LeafIndex(7)];
    let c = commit(&fx, 0, &joiners);
    let total: usize = c
        .path
        .nodes
        .iter()
        .map(|n| n.encrypted_path_secret.len())
        .sum();
    assert_eq!(total, 5);
    let (_, got) = receive(&fx, 0, 4, &c.path, &joiners).unwrap();
    assert_eq!(got.unwrap().commit_secret, c.commit_secret);
    // A joiner finds nothing for itself (it gets its secret from the Welcome).
    let err = receive(&fx, 0, 6, &c.path, &joiners).unwrap_err();
    assert!(matches!(err, Error::Protocol { rule: "§7.6", .. }), "{err}");
    // Without the joiner list the receiver expects more ciphertexts.
    let err = receive(&fx, 0, 4, &c.path, &[]).unwrap_err();
    assert!(matches!(err, Error::Protocol { rule: "§7.6", .. }), "{err}");
}

fn expect_rule(fx: &TreeFixture, path: &UpdatePath, rule: &str) {
    let err = receive(fx, 1, 6, path, &[]).unwrap_err();
    match &err {
        Error::Protocol { rule: r, .. } => assert_eq!(*r, rule, "{err}"),
        other => panic!("expected {rule}, got {other}"),
    }
}

#[test]
fn wrong_number_of_path_nodes_7_6() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 8, 4).unwrap();
    let mut path = commit(&fx, 1, &[]).path;
    path.nodes.pop();
    expect_rule(&fx, &path, "§7.6");
}

#[test]
fn wrong_number_of_ciphertexts_7_6() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 8, 5).unwrap();
    let mut path = commit(&fx, 1, &[]).path;
    let extra = path.nodes[1]
        .encrypted_path_secret
        .get(0)
        .unwrap()
        .to_ciphertext();
    path.nodes[1]
        .encrypted_path_secret
        .push(&extra.kem_output, &extra.ciphertext)
        .unwrap();
    expect_rule(&fx, &path, "§7.6");
}

#[test]
fn undecryptable_path_secret_7_6() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 8, 6).unwrap();
    let mut path = commit(&fx, 1, &[]).path;
    // Leaf 6 is under the copath child of the root: the last path node.
    let cts = &mut path.nodes[2].encrypted_path_secret;
    let mut damaged = HpkeCiphertexts::new();
    for (k, ct) in cts.iter().enumerate() {
        let mut ct = ct.to_ciphertext();
        if k == 0 {
            ct.ciphertext[0] ^= 1;
        }
        damaged.push(&ct.kem_output, &ct.ciphertext).unwrap();
    }
    *cts = damaged;
    expect_rule(&fx, &path, "§7.6");
}

#[test]
fn wrong_leaf_parent_hash_7_9_2() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 8, 7).unwrap();
    let mut path = commit(&fx, 1, &[]).path;
    path.nodes[2].encryption_key.0[0] ^= 1;
    expect_rule(&fx, &path, "§7.9.2");
}

#[test]
fn reused_encryption_key_12_4_2() {
    let suite = default_suite().unwrap();
    let fx = TreeFixture::full(&suite, 8, 8).unwrap();
    let mut path = commit(&fx, 1, &[]).path;
    // A key that another node of the tree already has.
    path.nodes[0].encryption_key = fx.tree.leaf(LeafIndex(5)).unwrap().encryption_key.clone();
    expect_rule(&fx, &path, "§12.4.2");
    // The committer's own current leaf key.
    let mut path = commit(&fx, 1, &[]).path;
    path.leaf_node.encryption_key = fx.tree.leaf(LeafIndex(1)).unwrap().encryption_key.clone();
    expect_rule(&fx, &path, "§12.4.2");
}

#[test]
fn path_from_blank_leaf_12_4_2() {
    let suite = default_suite().unwrap();
    let mut fx = TreeFixture::sparse(&suite, 8, 9).unwrap();
    let path = commit(&fx, 1, &[]).path;
    fx.tree.remove_leaf(LeafIndex(1)).unwrap();
    expect_rule(&fx, &path, "§12.4.2");
}
