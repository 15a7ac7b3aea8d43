use super::*;
use crate::crypto::CipherSuite;
use crate::crypto::rust_crypto::RustCryptoProvider;
use crate::types::error::ErrorCategory;

fn suite() -> Suite {
    Suite::from_provider(
        &RustCryptoProvider,
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
    )
    .unwrap()
}

fn tree(leaves: u32, config: SecretTreeConfig) -> SecretTree {
    let suite = suite();
    let root = Secret::new((0..32).collect());
    SecretTree::new(&suite, root, LeafCount::new(leaves).unwrap(), config)
}

fn config(window: u32, forward: u32) -> SecretTreeConfig {
    SecretTreeConfig {
        out_of_order_window: window,
        max_forward_distance: forward,
    }
}

/// Keys of generations 0..n of one ratchet, derived straight from a fresh
/// tree in order.
fn in_order(leaves: u32, leaf: u32, ty: RatchetType, n: u32) -> Vec<KeyAndNonce> {
    let mut t = tree(leaves, config(0, 0));
    (0..n)
        .map(|g| t.key_for(LeafIndex(leaf), ty, g).unwrap())
        .collect()
}

fn assert_protocol(err: Error, needles: &[&str]) {
    assert_eq!(err.category(), ErrorCategory::ProtocolViolation, "{err}");
    let text = err.to_string();
    for needle in needles {
        assert!(text.contains(needle), "`{text}` lacks `{needle}`");
    }
}

fn assert_replay(err: Error, needles: &[&str]) {
    assert_eq!(err.category(), ErrorCategory::Replay, "{err}");
    let text = err.to_string();
    for needle in needles.iter().chain(&["already used"]) {
        assert!(text.contains(needle), "`{text}` lacks `{needle}`");
    }
}

#[test]
fn send_and_receive_agree() {
    let mut sender = tree(8, SecretTreeConfig::default());
    let mut receiver = tree(8, SecretTreeConfig::default());
    for expected in 0..5 {
        let (generation, key) = sender
            .next_key(LeafIndex(5), RatchetType::Application)
            .unwrap();
        assert_eq!(generation, expected);
        let got = receiver
            .key_for(LeafIndex(5), RatchetType::Application, generation)
            .unwrap();
        assert_eq!(got, key);
        assert_eq!(key.key.len(), 16);
        assert_eq!(key.nonce.len(), 12);
    }
    // The handshake ratchet is independent of the application one.
    let (generation, hs) = sender
        .next_key(LeafIndex(5), RatchetType::Handshake)
        .unwrap();
    assert_eq!(generation, 0);
    let app0 = &in_order(8, 5, RatchetType::Application, 1)[0];
    assert_ne!(&hs, app0);
}

#[test]
fn out_of_order_within_window() {
    let want = in_order(4, 2, RatchetType::Handshake, 10);
    let mut t = tree(4, config(5, 100));
    let leaf = LeafIndex(2);
    let ty = RatchetType::Handshake;
    assert_eq!(t.key_for(leaf, ty, 9).unwrap(), want[9]);
    // 4..=8 are within 5 of the newest (9) and kept; 0..=3 are not.
    assert_eq!(t.stored_keys(leaf, ty), 5);
    for g in [6, 4, 8, 5, 7] {
        assert_eq!(t.key_for(leaf, ty, g).unwrap(), want[g as usize]);
    }
    assert_eq!(t.stored_keys(leaf, ty), 0);
    assert_protocol(
        t.key_for(leaf, ty, 3).unwrap_err(),
        &["§9.2", "leaf 2", "generation 3", "window"],
    );
}

#[test]
fn later_generation_after_earlier_one() {
    let want = in_order(2, 1, RatchetType::Application, 16);
    let mut t = tree(2, SecretTreeConfig::default());
    assert_eq!(
        t.key_for(LeafIndex(1), RatchetType::Application, 0)
            .unwrap(),
        want[0]
    );
    assert_eq!(
        t.key_for(LeafIndex(1), RatchetType::Application, 15)
            .unwrap(),
        want[15]
    );
    // The skipped generations in between are still available.
    assert_eq!(
        t.key_for(LeafIndex(1), RatchetType::Application, 7)
            .unwrap(),
        want[7]
    );
}

#[test]
fn window_slides_with_newer_messages() {
    let mut t = tree(2, config(3, 100));
    let (leaf, ty) = (LeafIndex(0), RatchetType::Application);
    t.key_for(leaf, ty, 2).unwrap(); // keeps 0 and 1
    assert_eq!(t.stored_keys(leaf, ty), 2);
    t.key_for(leaf, ty, 5).unwrap(); // window is now 2..=4; 2 is used
    assert_eq!(t.stored_keys(leaf, ty), 2);
    assert_protocol(
        t.key_for(leaf, ty, 1).unwrap_err(),
        &["window", "generation 1"],
    );
    assert_replay(t.key_for(leaf, ty, 2).unwrap_err(), &[]);
    t.key_for(leaf, ty, 3).unwrap();
}

#[test]
fn zero_window_keeps_nothing() {
    let mut t = tree(2, config(0, 100));
    let (leaf, ty) = (LeafIndex(1), RatchetType::Handshake);
    t.key_for(leaf, ty, 3).unwrap();
    assert_eq!(t.stored_keys(leaf, ty), 0);
    assert_protocol(t.key_for(leaf, ty, 2).unwrap_err(), &["window"]);
}

#[test]
fn replayed_generation_is_rejected() {
    let mut t = tree(4, SecretTreeConfig::default());
    let (leaf, ty) = (LeafIndex(3), RatchetType::Application);
    t.key_for(leaf, ty, 0).unwrap();
    assert_replay(
        t.key_for(leaf, ty, 0).unwrap_err(),
        &["§9.2", "leaf 3", "application", "generation 0"],
    );
    assert!(t.generation_used(leaf, ty, 0));
    assert!(!t.generation_used(leaf, ty, 1));
    assert!(!t.generation_used(LeafIndex(2), ty, 0), "never used");
    // A skipped key, once used, is gone as well.
    t.key_for(leaf, ty, 4).unwrap();
    assert!(!t.generation_used(leaf, ty, 3), "skipped, still kept");
    t.key_for(leaf, ty, 2).unwrap();
    assert_replay(t.key_for(leaf, ty, 2).unwrap_err(), &[]);
    // Our own sent keys cannot be asked for again either.
    let (g, _) = t.next_key(leaf, ty).unwrap();
    assert_eq!(g, 5);
    assert_replay(t.key_for(leaf, ty, 5).unwrap_err(), &[]);
}

#[test]
fn beyond_max_forward_distance_is_rejected() {
    let mut t = tree(4, config(10, 20));
    let (leaf, ty) = (LeafIndex(1), RatchetType::Application);
    // Exactly the maximum distance is allowed ...
    t.key_for(leaf, ty, 20).unwrap();
    // ... one more is not: next expected is 21.
    assert_protocol(
        t.key_for(leaf, ty, 42).unwrap_err(),
        &[
            "§9.1",
            "leaf 1",
            "generation 42",
            "21 generations ahead",
            "maximum forward distance of 20",
        ],
    );
    // The failed request changed nothing.
    t.key_for(leaf, ty, 41).unwrap();
    assert_protocol(
        t.key_for(LeafIndex(2), ty, u32::MAX).unwrap_err(),
        &["generation 4294967295"],
    );
}

#[test]
fn leaf_out_of_range_is_rejected() {
    let mut t = tree(4, SecretTreeConfig::default());
    for leaf in [4, 5, 1 << 31, u32::MAX] {
        assert_protocol(
            t.key_for(LeafIndex(leaf), RatchetType::Handshake, 0)
                .unwrap_err(),
            &[&format!("leaf {leaf} "), "4 leaves"],
        );
        assert!(t.next_key(LeafIndex(leaf), RatchetType::Handshake).is_err());
    }
}

#[test]
fn exhausted_ratchet_is_an_error_not_a_panic() {
    let mut t = tree(1, config(0, u32::MAX));
    let (leaf, ty) = (LeafIndex(0), RatchetType::Handshake);
    // Pretend the ratchet reached the last generation without deriving
    // 2^32 steps.
    t.key_for(leaf, ty, 0).unwrap();
    t.ratchets.get_mut(&leaf).unwrap().handshake.next = u64::from(u32::MAX);
    t.key_for(leaf, ty, u32::MAX).unwrap();
    assert_protocol(t.next_key(leaf, ty).unwrap_err(), &["exhausted"]);
    assert_replay(t.key_for(leaf, ty, u32::MAX).unwrap_err(), &[]);
}

#[test]
fn tree_is_derived_lazily_and_deleted_along_the_path() {
    let mut t = tree(8, SecretTreeConfig::default());
    assert_eq!(t.stored_nodes(), 1); // the root
    t.next_key(LeafIndex(0), RatchetType::Application).unwrap();
    // Root 7 and 3, 1, leaf 0 consumed; siblings 11, 5, 2 kept.
    assert_eq!(t.stored_nodes(), 3);
    for n in [11, 5, 2] {
        assert!(t.nodes.contains_key(&NodeIndex(n)), "node {n}");
    }
    t.next_key(LeafIndex(1), RatchetType::Handshake).unwrap();
    assert_eq!(t.stored_nodes(), 2); // leaf 1's secret was stored, now used
    t.next_key(LeafIndex(7), RatchetType::Handshake).unwrap();
    // 11 expanded: 9 kept, 13 expanded: 12 kept.
    let mut stored: Vec<u32> = t.nodes.keys().map(|n| n.0).collect();
    stored.sort_unstable();
    assert_eq!(stored, vec![5, 9, 12]);
    assert_eq!(t.ratchets.len(), 3);
}

#[test]
fn lazily_derived_leaves_match_any_order() {
    // Leaf keys must not depend on which leaves were used before.
    let mut a = tree(16, SecretTreeConfig::default());
    let mut b = tree(16, SecretTreeConfig::default());
    let order_a: Vec<u32> = (0..16).collect();
    let order_b: Vec<u32> = (0..16).rev().collect();
    let keys_a: Vec<_> = order_a
        .iter()
        .map(|&l| {
            a.key_for(LeafIndex(l), RatchetType::Application, 0)
                .unwrap()
        })
        .collect();
    for &l in &order_b {
        let k = b
            .key_for(LeafIndex(l), RatchetType::Application, 0)
            .unwrap();
        assert_eq!(k, keys_a[l as usize]);
    }
    assert_eq!(a.stored_nodes(), 0);
}

#[test]
fn sender_data_sample_is_at_most_nh_bytes() {
    let suite = suite();
    let secret = Secret::new(vec![7; 32]);
    let long: Vec<u8> = (0..100).collect();
    let a = sender_data_key_nonce(&suite, &secret, &long).unwrap();
    let b = sender_data_key_nonce(&suite, &secret, &long[..32]).unwrap();
    assert_eq!(a, b);
    let c = sender_data_key_nonce(&suite, &secret, &long[..31]).unwrap();
    assert_ne!(a, c);
    let empty = sender_data_key_nonce(&suite, &secret, &[]).unwrap();
    assert_eq!(empty.key.len(), 16);
    assert_eq!(empty.nonce.len(), 12);
}

#[test]
fn staged_key_changes_nothing_until_committed() {
    let expected = in_order(4, 2, RatchetType::Application, 6);
    let mut t = tree(4, SecretTreeConfig::default());
    let nodes_before = t.stored_nodes();
    // Staging (say, for a message that then fails to decrypt) and dropping
    // the result leaves the tree as it was: same key can be staged again.
    let staged = t
        .stage_key(LeafIndex(2), RatchetType::Application, 3)
        .unwrap();
    assert_eq!(staged.key(), &expected[3]);
    drop(staged);
    assert_eq!(t.stored_nodes(), nodes_before);
    let staged = t
        .stage_key(LeafIndex(2), RatchetType::Application, 3)
        .unwrap();
    t.commit_key(staged).unwrap();
    // Committed: generation 3 is gone, skipped 0..3 are kept and served once.
    let err = t
        .stage_key(LeafIndex(2), RatchetType::Application, 3)
        .unwrap_err();
    assert_replay(err, &["generation 3"]);
    let staged = t
        .stage_key(LeafIndex(2), RatchetType::Application, 1)
        .unwrap();
    assert_eq!(staged.key(), &expected[1]);
    t.commit_key(staged).unwrap();
    assert!(
        t.key_for(LeafIndex(2), RatchetType::Application, 1)
            .is_err()
    );
}

#[test]
fn stale_staged_key_is_refused() {
    let mut t = tree(4, SecretTreeConfig::default());
    let first = t
        .stage_key(LeafIndex(1), RatchetType::Handshake, 0)
        .unwrap();
    let second = t
        .stage_key(LeafIndex(1), RatchetType::Handshake, 0)
        .unwrap();
    t.commit_key(first).unwrap();
    let err = t.commit_key(second).unwrap_err();
    assert_eq!(err.category(), ErrorCategory::ApiMisuse, "{err}");
}

/// Everything observable of `t`: the stored node secrets, per used leaf and
/// ratchet the next generation, the kept generations with their keys, and
/// the changes not yet stored.
fn snapshot(t: &SecretTree) -> Vec<String> {
    let mut out: Vec<String> = t
        .nodes
        .iter()
        .map(|(x, s)| format!("node {} {:?}", x.0, s.as_bytes()))
        .collect();
    for (leaf, r) in &t.ratchets {
        for (name, ratchet) in [("h", &r.handshake), ("a", &r.application)] {
            out.push(format!(
                "leaf {} {name} next {} secret {:?}",
                leaf.0,
                ratchet.next,
                ratchet.secret.as_bytes()
            ));
            for (g, k) in &ratchet.skipped {
                out.push(format!(
                    "leaf {} {name} kept {g} {:?} {:?}",
                    leaf.0,
                    k.key.as_bytes(),
                    k.nonce.as_bytes()
                ));
            }
        }
    }
    out.push(format!("changes {:?}", t.changes));
    out.sort();
    out
}

#[test]
fn a_rollback_puts_back_every_step_taken_since_begin() {
    let ty = RatchetType::Application;
    let mut t = tree(8, config(3, 100));
    // Some history before the transition: leaf 2 expanded, generations 4
    // and 2 received, the keys of 1 and 3 kept; changes taken by storage.
    for g in [4, 2] {
        t.key_for(LeafIndex(2), ty, g).unwrap();
    }
    t.next_key(LeafIndex(5), ty).unwrap();
    t.take_changes();
    let before = snapshot(&t);

    t.begin();
    // Each kind of step: a kept key used, an advance that keeps and evicts
    // keys, a send, and a leaf expanded for the first time.
    t.key_for(LeafIndex(2), ty, 3).unwrap();
    t.key_for(LeafIndex(2), ty, 9).unwrap();
    t.next_key(LeafIndex(5), ty).unwrap();
    t.next_key(LeafIndex(5), RatchetType::Handshake).unwrap();
    t.key_for(LeafIndex(7), ty, 1).unwrap();
    assert_ne!(snapshot(&t), before);
    t.rollback();
    assert_eq!(snapshot(&t), before);

    // Settled changes stay, and nothing is kept to undo them.
    t.begin();
    let key = t.key_for(LeafIndex(2), ty, 3).unwrap();
    t.settle();
    assert!(t.journal.is_none());
    t.rollback();
    assert_ne!(snapshot(&t), before);
    assert!(t.key_for(LeafIndex(2), ty, 3).is_err());
    assert_eq!(key, in_order(8, 2, ty, 4).pop().unwrap());
}
