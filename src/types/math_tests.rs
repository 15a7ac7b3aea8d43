use super::*;

/// Appendix C's Python, transcribed over u64 so it cannot overflow: the
/// reference the u32 code is checked against.
mod reference {
    pub(super) fn log2(x: u64) -> u64 {
        if x == 0 {
            return 0;
        }
        let mut k = 0;
        while (x >> k) > 0 {
            k += 1;
        }
        k - 1
    }
    pub(super) fn level(x: u64) -> u64 {
        if x & 1 == 0 {
            return 0;
        }
        let mut k = 0;
        while (x >> k) & 1 == 1 {
            k += 1;
        }
        k
    }
    pub(super) fn root(n: u64) -> u64 {
        let w = 2 * (n - 1) + 1;
        (1 << log2(w)) - 1
    }
    pub(super) fn left(x: u64) -> Option<u64> {
        let k = level(x);
        (k != 0).then(|| x ^ (1 << (k - 1)))
    }
    pub(super) fn right(x: u64) -> Option<u64> {
        let k = level(x);
        (k != 0).then(|| x ^ (3 << (k - 1)))
    }
    pub(super) fn parent(x: u64, n: u64) -> Option<u64> {
        if x == root(n) {
            return None;
        }
        let k = level(x);
        let b = (x >> (k + 1)) & 1;
        Some((x | (1 << k)) ^ (b << (k + 1)))
    }
    pub(super) fn direct_path(x: u64, n: u64) -> Vec<u64> {
        let mut d = Vec::new();
        let mut x = x;
        while let Some(p) = parent(x, n) {
            d.push(p);
            x = p;
        }
        d
    }
}

fn lc(n: u32) -> LeafCount {
    LeafCount::new(n).unwrap()
}

#[test]
fn matches_reference_for_small_trees() {
    for d in 0..=10 {
        let n = 1u32 << d;
        let t = lc(n);
        assert_eq!(t.node_width(), 2 * n - 1);
        assert_eq!(u64::from(t.root().0), reference::root(n.into()));
        assert_eq!(t.depth(), d);
        for x in 0..t.node_width() {
            let node = NodeIndex(x);
            let rx = u64::from(x);
            assert_eq!(u64::from(node.level()), reference::level(rx));
            assert_eq!(node.left().map(|c| u64::from(c.0)), reference::left(rx));
            assert_eq!(node.right().map(|c| u64::from(c.0)), reference::right(rx));
            assert_eq!(
                node.parent(t).map(|p| u64::from(p.0)),
                reference::parent(rx, n.into())
            );
            let path: Vec<u64> = node
                .direct_path(t)
                .unwrap()
                .iter()
                .map(|p| u64::from(p.0))
                .collect();
            assert_eq!(path, reference::direct_path(rx, n.into()));
            let copath = node.copath(t).unwrap();
            assert_eq!(copath.len(), path.len());
            for (c, p) in copath.iter().zip(path.iter()) {
                assert_eq!(c.parent(t).map(|q| u64::from(q.0)), Some(*p));
                assert!(!c.is_ancestor_or_self_of(node));
            }
        }
        // Nodes just outside the tree have no relatives in it.
        let outside = NodeIndex(t.node_width());
        assert_eq!(outside.parent(t), None);
        assert_eq!(outside.sibling(t), None);
        assert_eq!(outside.direct_path(t), None);
        assert_eq!(outside.copath(t), None);
    }
}

#[test]
fn common_ancestor_matches_semantic_definition() {
    for d in 0..=5 {
        let t = lc(1 << d);
        for x in 0..t.node_width() {
            for y in 0..t.node_width() {
                let (x, y) = (NodeIndex(x), NodeIndex(y));
                // Lowest node in both {x} ∪ direct_path(x) and the same for y.
                let mut dx = x.direct_path(t).unwrap();
                dx.push(x);
                let mut dy = y.direct_path(t).unwrap();
                dy.push(y);
                let want = dx
                    .iter()
                    .filter(|a| dy.contains(a))
                    .min_by_key(|a| a.level())
                    .copied();
                assert_eq!(x.common_ancestor(y, t), want, "x={x:?} y={y:?}");
            }
        }
    }
}

#[test]
fn one_leaf_tree() {
    let t = lc(1);
    assert_eq!(t.node_width(), 1);
    assert_eq!(t.root(), NodeIndex(0));
    assert_eq!(t.depth(), 0);
    let leaf = NodeIndex(0);
    assert!(leaf.is_leaf());
    assert_eq!(leaf.parent(t), None);
    assert_eq!(leaf.sibling(t), None);
    assert_eq!(leaf.left(), None);
    assert_eq!(leaf.right(), None);
    assert_eq!(leaf.direct_path(t), Some(vec![]));
    assert_eq!(leaf.copath(t), Some(vec![]));
    assert_eq!(leaf.common_ancestor(leaf, t), Some(leaf));
    assert!(t.contains_leaf(LeafIndex(0)));
    assert!(!t.contains_leaf(LeafIndex(1)));
    assert_eq!(t.halved(), None);
    assert_eq!(t.doubled(), Some(lc(2)));
}

#[test]
fn largest_tree_has_no_overflow() {
    let t = lc(LeafCount::MAX);
    assert_eq!(t.node_width(), u32::MAX);
    assert_eq!(t.root(), NodeIndex((1 << 31) - 1));
    assert_eq!(t.depth(), 31);
    assert_eq!(t.doubled(), None);
    assert_eq!(t.halved(), Some(lc(1 << 30)));

    let root = t.root();
    assert_eq!(root.level(), 31);
    assert_eq!(root.left(), Some(NodeIndex((1 << 30) - 1)));
    assert_eq!(root.right(), Some(NodeIndex((1 << 31) + (1 << 30) - 1)));
    assert_eq!(root.parent(t), None);

    let last_leaf = LeafIndex(LeafCount::MAX - 1);
    let last = last_leaf.node().unwrap();
    assert_eq!(last, NodeIndex(u32::MAX - 1));
    assert!(t.contains_node(last));
    assert_eq!(last.leaf(), Some(last_leaf));
    assert_eq!(last.sibling(t), Some(NodeIndex(u32::MAX - 3)));
    let path = last.direct_path(t).unwrap();
    assert_eq!(path.len(), 31);
    assert_eq!(path.last(), Some(&root));
    assert_eq!(path[0], NodeIndex(u32::MAX - 2));
    let copath = last.copath(t).unwrap();
    assert_eq!(copath.len(), 31);
    assert_eq!(copath.last(), root.left().as_ref());

    let first = NodeIndex(0);
    assert_eq!(first.common_ancestor(last, t), Some(root));
    assert_eq!(root.common_ancestor(last, t), Some(root));
    assert_eq!(
        last.common_ancestor(NodeIndex(u32::MAX - 3), t),
        path.first().copied()
    );

    // u32::MAX is not a node of any tree.
    let beyond = NodeIndex(u32::MAX);
    assert!(!t.contains_node(beyond));
    assert_eq!(beyond.level(), 32);
    assert_eq!(beyond.left(), None);
    assert_eq!(beyond.right(), None);
    assert_eq!(beyond.parent(t), None);
    assert_eq!(beyond.common_ancestor(first, t), None);
}

#[test]
fn leaf_count_constructors() {
    assert_eq!(LeafCount::new(0), None);
    assert_eq!(LeafCount::new(3), None);
    assert_eq!(LeafCount::new(1 << 31).map(LeafCount::get), Some(1 << 31));
    assert_eq!(LeafCount::new(u32::MAX), None);
    assert_eq!(LeafCount::covering(0), Some(lc(1)));
    assert_eq!(LeafCount::covering(5), Some(lc(8)));
    assert_eq!(LeafCount::covering((1 << 31) + 1), None);
    assert_eq!(LeafCount::from_node_width(1), Some(lc(1)));
    assert_eq!(LeafCount::from_node_width(7), Some(lc(4)));
    assert_eq!(LeafCount::from_node_width(u32::MAX), Some(lc(1 << 31)));
    assert_eq!(LeafCount::from_node_width(5), None);
    assert_eq!(LeafCount::from_node_width(0), None);
    assert_eq!(LeafCount::from_node_width(8), None);
}

#[test]
fn free_functions() {
    assert_eq!(node_width(0), Some(0));
    assert_eq!(node_width(1), Some(1));
    assert_eq!(node_width(5), Some(9));
    assert_eq!(node_width(1 << 31), Some(u32::MAX));
    assert_eq!(node_width((1 << 31) + 1), None);
    assert_eq!(log2(0), 0);
    assert_eq!(log2(1), 0);
    assert_eq!(log2(7), 2);
    assert_eq!(log2(u32::MAX), 31);
}

#[test]
fn leaf_node_conversion() {
    assert_eq!(LeafIndex(3).node(), Some(NodeIndex(6)));
    assert_eq!(
        LeafIndex((1 << 31) - 1).node(),
        Some(NodeIndex(u32::MAX - 1))
    );
    assert_eq!(LeafIndex(1 << 31).node(), None);
    assert_eq!(NodeIndex(6).leaf(), Some(LeafIndex(3)));
    assert_eq!(NodeIndex(5).leaf(), None);
}
