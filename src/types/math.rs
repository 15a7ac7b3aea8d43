//! Array-based tree math (Appendix C).
//!
//! Every tree in MLS is a perfect binary tree with 2^d leaves (§4.1); leaf `i`
//! sits at node `2i`, parents at odd indices. The largest tree we represent
//! has 2^31 leaves and 2^32 - 1 nodes, so node indices run up to 2^32 - 2 and
//! all arithmetic stays within `u32`; every function that could leave that
//! range or the tree returns `None` instead of panicking or wrapping.

use std::fmt;

/// Index of a leaf among the leaves (`LeafIndex` in the RFC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LeafIndex(pub u32);

/// Index of a node in the array representation of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeIndex(pub u32);

impl crate::codec::Encode for LeafIndex {
    fn encode(&self, w: &mut crate::codec::Writer) {
        crate::codec::Encode::encode(&self.0, w);
    }
}

impl crate::codec::Decode for LeafIndex {
    fn decode(r: &mut crate::codec::Reader<'_>) -> Result<Self, crate::codec::DecodeError> {
        <u32 as crate::codec::Decode>::decode(r).map(Self)
    }
}

impl fmt::Display for LeafIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for NodeIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `node_width(n)` (Appendix C): the number of array slots a tree with
/// `n_leaves` leaves occupies, `2(n-1)+1`, and 0 for no leaves. `None` when
/// `n_leaves` exceeds [`LeafCount::MAX`], whose width is the largest `u32`.
pub fn node_width(n_leaves: u32) -> Option<u32> {
    match n_leaves {
        0 => Some(0),
        n if n <= LeafCount::MAX => Some(2 * (n - 1) + 1),
        _ => None,
    }
}

/// `log2(x)` (Appendix C): the exponent of the largest power of two not above
/// `x`; 0 for `x = 0`.
pub fn log2(x: u32) -> u32 {
    x.checked_ilog2().unwrap_or(0)
}

impl LeafIndex {
    internal_pub! {
        /// The node index of this leaf, `2i`. `None` when `i >= 2^31`, which no
        /// tree contains.
        pub fn node(self) -> Option<NodeIndex> {
            self.0.checked_mul(2).map(NodeIndex)
        }
    }
}

impl NodeIndex {
    /// `level(x)` (Appendix C): leaves are level 0, their parents level 1,
    /// and so on; the number of trailing one bits of the index.
    pub fn level(self) -> u32 {
        self.0.trailing_ones()
    }

    /// True for a leaf (an even index).
    pub fn is_leaf(self) -> bool {
        self.0 & 1 == 0
    }

    /// The leaf at this node, or `None` for a parent node.
    pub fn leaf(self) -> Option<LeafIndex> {
        self.is_leaf().then_some(LeafIndex(self.0 >> 1))
    }

    /// `left(x)` (Appendix C): the left child of a parent node; `None` for a
    /// leaf.
    pub fn left(self) -> Option<NodeIndex> {
        match self.level() {
            0 => None,
            // Level 32 is `u32::MAX`, which no tree contains.
            k @ 1..=31 => Some(NodeIndex(self.0 ^ (1 << (k - 1)))),
            _ => None,
        }
    }

    /// `right(x)` (Appendix C): the right child of a parent node; `None` for
    /// a leaf.
    pub fn right(self) -> Option<NodeIndex> {
        match self.level() {
            0 => None,
            // `3 << 30` still fits; `3 << 31` (k = 32) would lose a bit.
            k @ 1..=31 => Some(NodeIndex(self.0 ^ (3 << (k - 1)))),
            _ => None,
        }
    }

    /// `parent(x, n)` (Appendix C): `None` for the root or a node outside
    /// the tree.
    pub fn parent(self, n: LeafCount) -> Option<NodeIndex> {
        if !n.contains_node(self) || self == n.root() {
            return None;
        }
        // A non-root node of a tree with at most 2^31 leaves is at most at
        // level 30, so both shifts stay below 32.
        let k = self.level();
        let b = (self.0 >> (k + 1)) & 1;
        Some(NodeIndex((self.0 | (1 << k)) ^ (b << (k + 1))))
    }

    /// `sibling(x, n)` (Appendix C): the other child of this node's parent;
    /// `None` for the root or a node outside the tree.
    pub fn sibling(self, n: LeafCount) -> Option<NodeIndex> {
        let p = self.parent(n)?;
        if self < p { p.right() } else { p.left() }
    }

    /// `direct_path(x, n)` (Appendix C): the ancestors of this node from its
    /// parent up to the root; empty for the root, `None` outside the tree.
    pub fn direct_path(self, n: LeafCount) -> Option<Vec<NodeIndex>> {
        let mut path = Vec::with_capacity(n.depth() as usize);
        let mut x = self;
        if !n.contains_node(x) {
            return None;
        }
        while let Some(p) = x.parent(n) {
            path.push(p);
            x = p;
        }
        Some(path)
    }

    /// `copath(x, n)` (Appendix C): the siblings of this node and of each of
    /// its ancestors below the root, ordered from the leaf side to the root
    /// side; empty for the root, `None` outside the tree.
    pub fn copath(self, n: LeafCount) -> Option<Vec<NodeIndex>> {
        let path = self.direct_path(n)?;
        let mut copath = Vec::with_capacity(path.len());
        // The node itself plus its direct path without the root.
        for x in std::iter::once(self).chain(path.iter().copied()) {
            if let Some(s) = x.sibling(n) {
                copath.push(s);
            }
        }
        Some(copath)
    }

    /// True when `self` is `other` or one of its ancestors: the subtree
    /// headed by `self` contains `other`.
    pub fn is_ancestor_or_self_of(self, other: NodeIndex) -> bool {
        // The subtree of a node at level k covers the indices that agree with
        // it above bit k. Compute in u64 so that k + 1 = 32 does not overflow.
        let k = u64::from(self.level()) + 1;
        u64::from(self.0) >> k == u64::from(other.0) >> k && self.level() >= other.level()
    }

    /// `common_ancestor(x, y)` (Appendix C): the lowest node whose subtree
    /// contains both nodes (one of them if it is an ancestor of the other).
    /// `None` when either node is outside the tree.
    pub fn common_ancestor(self, other: NodeIndex, n: LeafCount) -> Option<NodeIndex> {
        if !n.contains_node(self) || !n.contains_node(other) {
            return None;
        }
        if other.is_ancestor_or_self_of(self) {
            return Some(other);
        }
        if self.is_ancestor_or_self_of(other) {
            return Some(self);
        }
        // Strip low bits until the prefixes agree; the common prefix followed
        // by `0111..1` (k bits) is the ancestor. u64 keeps every step exact.
        let (mut x, mut y, mut k) = (u64::from(self.0), u64::from(other.0), 0u32);
        while x != y {
            x >>= 1;
            y >>= 1;
            k += 1;
        }
        // k >= 1 because the nodes differ.
        let ancestor = (x << k) + (1u64 << (k - 1)) - 1;
        u32::try_from(ancestor).ok().map(NodeIndex)
    }
}

/// The number of leaves of a tree: a power of two from 1 to 2^31 (§4.1:
/// "Every tree used in this protocol is a perfect binary tree").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeafCount(u32);

impl LeafCount {
    /// The largest supported leaf count, 2^31: its node width `2^32 - 1` is
    /// the largest width a `u32` can hold.
    pub const MAX: u32 = 1 << 31;

    /// A tree of `n_leaves` leaves; `None` unless it is a power of two no
    /// larger than [`Self::MAX`].
    pub fn new(n_leaves: u32) -> Option<Self> {
        (n_leaves.is_power_of_two() && n_leaves <= Self::MAX).then_some(Self(n_leaves))
    }

    /// The smallest tree holding at least `n_leaves` leaves (at least one).
    /// `None` above [`Self::MAX`].
    pub fn covering(n_leaves: u32) -> Option<Self> {
        n_leaves
            .max(1)
            .checked_next_power_of_two()
            .and_then(Self::new)
    }

    /// The tree whose array has `width` nodes; `None` unless `width` is
    /// `2^(d+1) - 1` for some `d <= 31`.
    pub fn from_node_width(width: u32) -> Option<Self> {
        if width == 0 || width.is_multiple_of(2) {
            return None;
        }
        Self::new(width / 2 + 1)
    }

    /// The number of leaves.
    pub fn get(self) -> u32 {
        self.0
    }

    /// `node_width(n)`: the number of nodes, `2n - 1`.
    pub fn node_width(self) -> u32 {
        // n <= 2^31, so 2n - 1 <= 2^32 - 1 without overflow.
        2 * (self.0 - 1) + 1
    }

    /// `root(n)`: the root node, `2^log2(width) - 1`, which for a perfect tree
    /// is `n - 1`.
    pub fn root(self) -> NodeIndex {
        NodeIndex((1u32 << log2(self.node_width())) - 1)
    }

    /// The depth `d` of the tree (2^d leaves): the root's level.
    pub fn depth(self) -> u32 {
        self.0.trailing_zeros()
    }

    /// True when `node` is one of this tree's nodes.
    pub fn contains_node(self, node: NodeIndex) -> bool {
        node.0 < self.node_width()
    }

    /// True when `leaf` is one of this tree's leaves.
    pub fn contains_leaf(self, leaf: LeafIndex) -> bool {
        leaf.0 < self.0
    }

    /// The tree extended to the right to twice the leaves (§7.7); `None`
    /// above [`Self::MAX`].
    pub fn doubled(self) -> Option<Self> {
        self.0.checked_mul(2).and_then(Self::new)
    }

    /// The left half of the tree after truncating its right subtree (§7.7);
    /// `None` for a one-leaf tree.
    pub fn halved(self) -> Option<Self> {
        (self.0 > 1).then_some(Self(self.0 / 2))
    }
}

impl fmt::Display for LeafCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
#[path = "math_tests.rs"]
mod tests;
