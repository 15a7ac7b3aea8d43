//! Tree hashes (§7.8) and parent hashes (§7.9) of a [`RatchetTree`].
//!
//! Tree hashes are cached per node inside the tree (see
//! [`crate::tree::ratchet_tree`]): the first call computes every hash below
//! the requested node once, later calls reuse them, and each mutation clears
//! only the hashes on the changed node's direct path. Memberless subtrees
//! of level 5 or less are not cached (see `cached_hash`). The cache belongs to
//! one cipher suite; asking for hashes with another suite is an API misuse.
//!
//! The original sibling tree hash of §7.9 blanks the parent's unmerged
//! leaves in the sibling subtree. Only the nodes above those leaves are
//! recomputed (uncached); every untouched subtree reuses its cached hash, so
//! verifying a whole tree's parent hashes costs O(n log^2 n) hash inputs in
//! the worst case and O(n) in the common case.

use std::borrow::Cow;

use crate::codec::{Encode, Writer};
use crate::crypto::{HpkePublicKey, Suite};
use crate::tree::leaf_node::{LeafNode, LeafNodeSource};
use crate::tree::nodes::{Node, ParentNode};
use crate::tree::ratchet_tree::{RatchetTree, leaf_span, subtree_contains_leaf};
use crate::types::math::{LeafIndex, NodeIndex};
use crate::{Error, Result};

/// Encodes `TreeHashInput` for a leaf (§7.8): `node_type = leaf`, then
/// `LeafNodeHashInput { uint32 leaf_index; optional<LeafNode> leaf_node; }`.
pub(crate) fn leaf_hash_input(leaf: LeafIndex, node: Option<&LeafNode>) -> Result<Vec<u8>> {
    let mut w = Writer::new();
    w.put(&[1]);
    leaf.encode(&mut w);
    node.encode(&mut w);
    Ok(w.finish()?)
}

/// Encodes `TreeHashInput` for a parent (§7.8): `node_type = parent`, then
/// `ParentNodeHashInput { optional<ParentNode> parent_node; opaque
/// left_hash<V>; opaque right_hash<V>; }`.
pub(crate) fn parent_hash_input(
    node: Option<&ParentNode>,
    left: &[u8],
    right: &[u8],
) -> Result<Vec<u8>> {
    let mut w = Writer::new();
    w.put(&[2]);
    node.encode(&mut w);
    w.opaque(left);
    w.opaque(right);
    Ok(w.finish()?)
}

/// `Hash(ParentHashInput)` (§7.9): `{ HPKEPublicKey encryption_key; opaque
/// parent_hash<V>; opaque original_sibling_tree_hash<V>; }`.
fn hash_parent_hash_input(
    suite: &Suite,
    encryption_key: &HpkePublicKey,
    parent_hash: &[u8],
    original_sibling_tree_hash: &[u8],
) -> Result<Vec<u8>> {
    let mut w = Writer::new();
    encryption_key.encode(&mut w);
    w.opaque(parent_hash);
    w.opaque(original_sibling_tree_hash);
    Ok(suite.hash(&w.finish()?))
}

/// True when some leaf of the sorted list `excluded` lies below `x`.
fn excludes_below(excluded: &[LeafIndex], x: NodeIndex) -> bool {
    let (first, count) = leaf_span(x);
    let i = excluded.partition_point(|u| u64::from(u.0) < first);
    excluded
        .get(i)
        .is_some_and(|u| u64::from(u.0) < first + count)
}

fn children(x: NodeIndex) -> Result<(NodeIndex, NodeIndex)> {
    x.left()
        .zip(x.right())
        .ok_or(Error::Internal("a parent position without children"))
}

impl RatchetTree {
    /// Ties the hash cache to `suite`: the first hash computation records the
    /// suite, later ones must use the same.
    fn check_hash_suite(&self, suite: &Suite) -> Result<()> {
        let cached = self.hash_suite.get_or_init(|| suite.id());
        if *cached == suite.id() {
            Ok(())
        } else {
            Err(Error::Misuse(format!(
                "tree hashes are cached for cipher suite {cached:?}, not {:?}",
                suite.id()
            )))
        }
    }

    fn check_node_in_tree(&self, x: NodeIndex) -> Result<()> {
        if self.leaf_count().contains_node(x) {
            Ok(())
        } else {
            Err(Error::Misuse(format!(
                "node {x} is outside a tree of {} leaves",
                self.leaf_count()
            )))
        }
    }

    /// The tree hash of node `x` (§7.8), from the cache when possible.
    pub fn tree_hash(&self, suite: &Suite, x: NodeIndex) -> Result<Vec<u8>> {
        self.check_hash_suite(suite)?;
        self.check_node_in_tree(x)?;
        self.cached_hash(suite, x).map(Cow::into_owned)
    }

    /// The tree hash of the root: the whole tree's hash, as in the
    /// GroupContext's `tree_hash` (§7.8, §8.1).
    pub fn root_tree_hash(&self, suite: &Suite) -> Result<Vec<u8>> {
        self.tree_hash(suite, self.root())
    }

    /// The tree hash of `x` computed from scratch, ignoring and not touching
    /// the cache. Meant for tests and audits of the cache.
    pub fn tree_hash_uncached(&self, suite: &Suite, x: NodeIndex) -> Result<Vec<u8>> {
        self.check_node_in_tree(x)?;
        self.hash_excluding(suite, x, &[], false)
            .map(Cow::into_owned)
    }

    /// Cached tree hash of `x`, which must be in the tree; fills the cache
    /// of `x` and of every node below it that was missing.
    ///
    /// A subtree of level 5 or less (at most 63 nodes) without members is
    /// hashed afresh each time instead: a mostly blank tree then caches
    /// about one hash per 64 nodes, and a commit rehashes at most
    /// 1 + 3 + ... + 63 = 120 nodes of such subtrees on its copath.
    fn cached_hash(&self, suite: &Suite, x: NodeIndex) -> Result<Cow<'_, [u8]>> {
        self.check_node_in_tree(x)?;
        // Looking a cell up allocates its chunk: only for cacheable nodes.
        let cell = if x.level() > 5 || self.occupied_below(x) > 0 {
            Some(
                self.hash_cell(x)
                    .ok_or(Error::Internal("tree hash cache shorter than the tree"))?,
            )
        } else {
            None
        };
        if let Some(h) = cell.and_then(|c| c.get()) {
            return Ok(Cow::Borrowed(h.as_ref()));
        }
        let input = match x.leaf() {
            Some(leaf) => leaf_hash_input(leaf, self.leaf(leaf))?,
            None => {
                let (l, r) = children(x)?;
                let left = self.cached_hash(suite, l)?;
                let right = self.cached_hash(suite, r)?;
                parent_hash_input(self.parent(x), &left, &right)?
            }
        };
        let h = suite.hash(&input);
        match cell {
            Some(cell) => Ok(Cow::Borrowed(cell.get_or_init(|| h.into()).as_ref())),
            None => Ok(Cow::Owned(h)),
        }
    }

    /// The tree hash of `x` in the tree modified as §7.9 describes for the
    /// original sibling tree hash: every leaf in the sorted list `excluded`
    /// blanked and removed from all `unmerged_leaves`. Subtrees without an
    /// excluded leaf use the cache when `use_cache` is set.
    fn hash_excluding(
        &self,
        suite: &Suite,
        x: NodeIndex,
        excluded: &[LeafIndex],
        use_cache: bool,
    ) -> Result<Cow<'_, [u8]>> {
        if use_cache && !excludes_below(excluded, x) {
            return self.cached_hash(suite, x);
        }
        let input = match x.leaf() {
            Some(leaf) => {
                let node = self
                    .leaf(leaf)
                    .filter(|_| excluded.binary_search(&leaf).is_err());
                leaf_hash_input(leaf, node)?
            }
            None => {
                let (l, r) = children(x)?;
                let left = self.hash_excluding(suite, l, excluded, use_cache)?;
                let right = self.hash_excluding(suite, r, excluded, use_cache)?;
                match self.parent(x) {
                    Some(p) if excludes_below(excluded, x) => {
                        let mut p = p.clone();
                        p.unmerged_leaves
                            .retain(|u| excluded.binary_search(u).is_err());
                        parent_hash_input(Some(&p), &left, &right)?
                    }
                    p => parent_hash_input(p, &left, &right)?,
                }
            }
        };
        Ok(Cow::Owned(suite.hash(&input)))
    }

    /// The original sibling tree hash of §7.9 for parent `p` and its child
    /// `s`: the tree hash of `s` with the leaves in `p.unmerged_leaves`
    /// blanked and removed from every `unmerged_leaves` list.
    pub fn original_sibling_tree_hash(
        &self,
        suite: &Suite,
        p: NodeIndex,
        s: NodeIndex,
    ) -> Result<Vec<u8>> {
        self.check_hash_suite(suite)?;
        let parent = self.non_blank_parent_with_child(p, s)?;
        self.hash_excluding(suite, s, &parent.unmerged_leaves, true)
            .map(Cow::into_owned)
    }

    /// The parent hash of `p` with copath child `s` (§7.9):
    /// `Hash(ParentHashInput)` over p's key, p's `parent_hash` and the
    /// original tree hash of `s`. This is the value the `parent_hash` field
    /// of the next node below `p` on the other side must hold.
    pub fn parent_hash(&self, suite: &Suite, p: NodeIndex, s: NodeIndex) -> Result<Vec<u8>> {
        let parent = self.non_blank_parent_with_child(p, s)?;
        let osth = self.original_sibling_tree_hash(suite, p, s)?;
        hash_parent_hash_input(suite, &parent.encryption_key, &parent.parent_hash, &osth)
    }

    fn non_blank_parent_with_child(&self, p: NodeIndex, s: NodeIndex) -> Result<&ParentNode> {
        let parent = self
            .parent(p)
            .ok_or_else(|| Error::Misuse(format!("node {p} is not a non-blank parent node")))?;
        if p.left() != Some(s) && p.right() != Some(s) {
            return Err(Error::Misuse(format!(
                "node {s} is not a child of node {p}"
            )));
        }
        Ok(parent)
    }

    /// Verifies the parent hashes of the whole tree, as a joiner must
    /// (§7.9.2): every non-blank parent node P must be parent-hash valid.
    ///
    /// Checked top down: for each non-blank P, exactly one node D below P
    /// may have a `parent_hash` valid with respect to P, i.e. D is in the
    /// resolution of a child C of P, D's `parent_hash` equals the parent hash
    /// of P with copath child S (C's sibling), and P's unmerged leaves below C
    /// are exactly the resolution of C without D. Since D is itself either a
    /// leaf or a non-blank parent that passes the same check, every P heads
    /// a chain down to a leaf. No D may be claimed by two parents, so the
    /// chains never merge: each P is covered by exactly one chain.
    pub fn verify_parent_hashes(&self, suite: &Suite) -> Result<()> {
        self.check_hash_suite(suite)?;
        let width = self.leaf_count().node_width();
        let mut claimed_by: Vec<Option<NodeIndex>> = vec![None; width as usize];
        for p in (1..width).step_by(2).map(NodeIndex) {
            let Some(parent) = self.parent(p) else {
                continue;
            };
            let (l, r) = children(p)?;
            let mut found: Vec<NodeIndex> = Vec::new();
            for (c, s) in [(l, r), (r, l)] {
                let expected = self.parent_hash(suite, p, s)?;
                let resolution = self.resolution(c);
                // P's unmerged leaves below C, as node indices.
                let unmerged_below: Vec<NodeIndex> = parent
                    .unmerged_leaves
                    .iter()
                    .filter(|u| subtree_contains_leaf(c, **u))
                    .filter_map(|u| u.node())
                    .collect();
                // Only one D can leave exactly the unmerged leaves, so it is
                // found once per child instead of testing every node that
                // claims the hash (an attacker can make them all claim it).
                if let Some(d) = only_merged_node(resolution, &unmerged_below)
                    && self.stored_parent_hash(d) == Some(expected.as_slice())
                {
                    found.push(d);
                }
            }
            // §7.9.2: "the new member MUST authenticate that each non-blank
            // parent node P is parent-hash valid".
            let d = match found.as_slice() {
                [d] => *d,
                [] => {
                    return Err(Error::protocol(
                        "§7.9.2",
                        format!(
                            "parent node {p} is not parent-hash valid: no node below it \
                             carries its parent hash"
                        ),
                    ));
                }
                many => {
                    return Err(Error::protocol(
                        "§7.9.2",
                        format!(
                            "parent node {p} is parent-hash valid with respect to several \
                             nodes {many:?}; exactly one is required"
                        ),
                    ));
                }
            };
            // §7.9.2: non-blank parents must be "covered by exactly one" chain.
            let slot = claimed_by
                .get_mut(d.0 as usize)
                .ok_or(Error::Internal("resolution outside the tree"))?;
            if let Some(other) = slot.replace(p) {
                return Err(Error::protocol(
                    "§7.9.2",
                    format!(
                        "node {d} links both parent {other} and parent {p} into a parent-hash chain"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The `parent_hash` a node carries: a parent node's field, or a leaf's
    /// when its source is `commit`; `None` otherwise.
    fn stored_parent_hash(&self, x: NodeIndex) -> Option<&[u8]> {
        match self.node(x)? {
            Node::Parent(p) => Some(&p.parent_hash),
            Node::Leaf(l) => match &l.leaf_node_source {
                LeafNodeSource::Commit(ph) => Some(ph),
                _ => None,
            },
        }
    }
}

/// The node D of `resolution` such that the rest of the resolution, sorted,
/// is exactly `unmerged` (§7.9.2), if there is one. At most one D can
/// qualify; finding it costs one sort instead of one copy and sort per
/// candidate.
fn only_merged_node(mut resolution: Vec<NodeIndex>, unmerged: &[NodeIndex]) -> Option<NodeIndex> {
    if resolution.len() != unmerged.len() + 1 {
        return None;
    }
    #[cfg(test)]
    only_merged_node_tests::SORTED.with(|c| c.set(c.get() + resolution.len()));
    resolution.sort_unstable();
    // D sits where the two sorted lists first differ (or last); the
    // prefixes before it agree by construction, so only the rest is compared.
    let k = resolution
        .iter()
        .zip(unmerged)
        .position(|(a, b)| a != b)
        .unwrap_or(unmerged.len());
    (resolution.get(k + 1..) == unmerged.get(k..))
        .then(|| resolution.get(k).copied())
        .flatten()
}

#[cfg(test)]
mod only_merged_node_tests {
    use super::*;
    use crate::test_support::{TreeFixture, default_suite};

    thread_local! {
        /// Node indices sorted by parent-hash verification on this thread.
        pub(super) static SORTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// Work to verify a tree of `n` leaves whose only parent is the root
    /// and in which every leaf on the left claims the root's parent hash
    /// (the attack: each claimant used to cost a copy and sort of the
    /// whole resolution).
    fn work_for_claimants(n: u32) -> usize {
        let suite = default_suite().unwrap();
        let fx = TreeFixture::sparse(&suite, n, 9).unwrap();
        let root = fx.tree.root();
        let (_, right) = children(root).unwrap();
        let mut wire = fx.tree.to_wire();
        let key = fx.tree.leaf(LeafIndex(0)).unwrap().encryption_key.clone();
        wire[root.0 as usize] = Some(Node::Parent(Box::new(ParentNode {
            encryption_key: key,
            parent_hash: vec![],
            unmerged_leaves: (1..n / 2).map(LeafIndex).collect(),
        })));
        let tree = RatchetTree::from_wire(wire.clone()).unwrap();
        let expected = tree.parent_hash(&suite, root, right).unwrap();
        for i in 0..n / 2 {
            if let Some(Node::Leaf(leaf)) = &mut wire[2 * i as usize] {
                leaf.leaf_node_source = LeafNodeSource::Commit(expected.clone());
            }
        }
        let tree = RatchetTree::from_wire(wire).unwrap();
        SORTED.with(|c| c.set(0));
        tree.verify_parent_hashes(&suite).unwrap();
        SORTED.with(|c| c.get())
    }

    #[test]
    fn parent_hash_work_is_linear_in_the_claimants() {
        let small = work_for_claimants(64);
        let large = work_for_claimants(256);
        assert!(small > 0);
        assert!(large <= 5 * small, "{small} -> {large}: more than linear");
    }

    fn nodes(xs: &[u32]) -> Vec<NodeIndex> {
        xs.iter().copied().map(NodeIndex).collect()
    }

    /// Agrees with the definition (remove D, sort the rest, compare) for
    /// every D of small resolutions, including unsorted ones.
    #[test]
    fn finds_exactly_the_node_whose_removal_leaves_the_unmerged_leaves() {
        let cases: [(&[u32], &[u32]); 7] = [
            (&[3], &[]),
            (&[5, 0, 2], &[0, 2]),
            (&[0, 5, 2], &[0, 5]),
            (&[2, 0, 5], &[2, 5]),
            (&[0, 2, 5], &[0, 4]),
            (&[0, 2], &[0, 2]),
            (&[0, 2, 4, 6], &[0, 2]),
        ];
        for (resolution, unmerged) in cases {
            let resolution = nodes(resolution);
            let unmerged = nodes(unmerged);
            let by_definition: Vec<NodeIndex> = resolution
                .iter()
                .copied()
                .filter(|d| {
                    let mut rest: Vec<NodeIndex> =
                        resolution.iter().copied().filter(|n| n != d).collect();
                    rest.sort_unstable();
                    rest == unmerged
                })
                .collect();
            let found = only_merged_node(resolution.clone(), &unmerged);
            assert_eq!(
                found.into_iter().collect::<Vec<_>>(),
                by_definition,
                "{resolution:?} / {unmerged:?}"
            );
        }
    }
}
