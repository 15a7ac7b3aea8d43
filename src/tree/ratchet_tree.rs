//! The in-memory ratchet tree (§4.1, §7, §12.4.3.3).
//!
//! [`RatchetTree`] keeps the array representation of Appendix C: one slot per
//! node, in node-index order, always padded to a full `2^(d+1) - 1` nodes. The
//! wire form ([`RatchetTreeWire`]) drops trailing blanks; [`RatchetTree::from_wire`]
//! and [`RatchetTree::to_wire`] convert between the two.
//!
//! Next to each node the tree keeps a cached tree hash (§7.8, see
//! [`crate::tree::hashes`]), except in memberless subtrees of level 5 or
//! less, which are cheap to rehash and would make blank runs costly. The cache is filled lazily through `&self` and
//! every mutating method of this type clears the slot of the changed node and
//! of its direct path, so after a change only the O(log n) hashes on that path
//! are recomputed. Extending or truncating the tree keeps the cache of the
//! surviving nodes: a node's tree hash depends only on its subtree and leaf
//! indices, which neither operation changes.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::crypto::{CipherSuite, HpkePublicKey};
use crate::tree::cow::{ChunkedVec, LazyChunks, ShardedCounts};
use crate::tree::leaf_node::LeafNode;
use crate::tree::nodes::{Node, ParentNode, RatchetTreeWire};
use crate::types::math::{LeafCount, LeafIndex, NodeIndex};
use crate::{Error, Result};

/// A ratchet tree: the public state of a group's members (§4.1, §7).
#[derive(Debug, Clone)]
pub struct RatchetTree {
    /// `nodes[i]` is node `i`; `None` is a blank node. Always
    /// `leaf_count.node_width()` long. Copy-on-write chunks of shared nodes,
    /// so that staging a commit on a clone costs O(n / 64), not a deep copy.
    nodes: ChunkedVec<Option<Arc<Node>>>,
    /// The number of leaves, a power of two.
    leaf_count: LeafCount,
    /// Cached tree hash (§7.8) of each node of level 5 or less (see
    /// [`Self::hash_cell`]), indexed by node. Chunks are allocated when a
    /// hash in them is first cached, and hashes of memberless subtrees of
    /// level 5 or less are never cached (see `cached_hash`), so a blank run
    /// costs nothing here, even after the whole tree is hashed.
    hash_cache: LazyChunks<OnceLock<Arc<[u8]>>>,
    /// Cached tree hashes of the nodes above level 5, which are the nodes
    /// `64k + 63`, indexed by `k`: kept apart so that caching them does not
    /// allocate the chunks of the blank subtrees between them.
    upper_hash_cache: LazyChunks<OnceLock<Arc<[u8]>>>,
    /// The cipher suite the cached hashes were computed with.
    pub(super) hash_suite: OnceLock<CipherSuite>,
    /// How many nodes carry each encryption key, so that "this key is not in
    /// the tree" (§12.4.2) is a lookup rather than a scan.
    encryption_keys: ShardedCounts,
    /// The same for the signature keys of leaves (§7.3 uniqueness, and
    /// recognising a client already in the group when it is added).
    signature_keys: ShardedCounts,
    /// `occupied[x]`: how many non-blank leaves lie below node `x` (itself
    /// for a leaf). Kept along the direct path of each change, so finding
    /// the leftmost blank leaf (§12.1.1), counting members and deciding
    /// truncation (§12.1.3) take O(log n) instead of a scan.
    occupied: ChunkedVec<u32>,
}

impl PartialEq for RatchetTree {
    fn eq(&self, other: &Self) -> bool {
        self.leaf_count == other.leaf_count && self.nodes == other.nodes
    }
}

impl Eq for RatchetTree {}

/// The encryption key a node carries.
fn node_encryption_key(node: &Node) -> &HpkePublicKey {
    match node {
        Node::Leaf(l) => &l.encryption_key,
        Node::Parent(p) => &p.encryption_key,
    }
}

fn node_index(i: usize) -> Result<NodeIndex> {
    u32::try_from(i)
        .map(NodeIndex)
        .map_err(|_| Error::Internal("node index beyond u32"))
}

/// Nodes of level 6 and up (index `64k + 63`) in a tree of `width` nodes.
fn upper_len(width: usize) -> usize {
    width / UPPER_STRIDE
}

/// Every `UPPER_STRIDE`-th node, from `UPPER_STRIDE - 1`, is above level 5.
const UPPER_STRIDE: usize = 64;

/// The range `[first, first + count)` of leaf indices below `node`.
pub(super) fn leaf_span(node: NodeIndex) -> (u64, u64) {
    let k = node.level();
    let half = (1u64 << k) - 1;
    let first = (u64::from(node.0) - half) / 2;
    (first, 1u64 << k)
}

/// True when leaf `leaf` lies in the subtree headed by `node`.
pub(super) fn subtree_contains_leaf(node: NodeIndex, leaf: LeafIndex) -> bool {
    let (first, count) = leaf_span(node);
    (first..first + count).contains(&u64::from(leaf.0))
}

impl RatchetTree {
    /// A one-leaf tree holding `leaf`: the tree of a group's creator (§11).
    pub fn new(leaf: LeafNode) -> Result<Self> {
        let one = LeafCount::new(1).ok_or(Error::Internal("a one-leaf tree is supported"))?;
        let mut tree = Self::blank(one);
        tree.put(0, Some(Node::Leaf(Box::new(leaf))));
        Ok(tree)
    }

    /// An all-blank tree of `leaf_count` leaves.
    pub fn blank(leaf_count: LeafCount) -> Self {
        let width = leaf_count.node_width() as usize;
        Self {
            nodes: ChunkedVec::new(width, None),
            leaf_count,
            hash_cache: LazyChunks::new(width),
            upper_hash_cache: LazyChunks::new(upper_len(width)),
            hash_suite: OnceLock::new(),
            encryption_keys: ShardedCounts::new(width),
            signature_keys: ShardedCounts::new(width / 2 + 1),
            occupied: ChunkedVec::new(width, 0),
        }
    }

    /// Stores `node` at index `i`, keeping the encryption-key index current.
    /// Does not touch the hash cache.
    fn put(&mut self, i: usize, node: Option<Node>) {
        // Blanking a blank slot writes nothing: a shared blank chunk stays
        // shared (importing a blank run must not copy it).
        if node.is_none() && self.nodes.get(i).is_some_and(Option::is_none) {
            return;
        }
        let Some(slot) = self.nodes.get_mut(i) else {
            return;
        };
        let old = slot.take();
        let was = u32::from(old.is_some());
        let now = u32::from(node.is_some());
        *slot = node.map(Arc::new);
        if let Some(old) = old {
            self.encryption_keys
                .remove(node_encryption_key(&old).as_bytes());
            if let Node::Leaf(l) = &*old {
                self.signature_keys.remove(l.signature_key.as_bytes());
            }
        }
        if let Some(new) = self.nodes.get(i).and_then(Option::as_deref) {
            self.encryption_keys
                .insert(node_encryption_key(new).as_bytes());
            if let Node::Leaf(l) = new {
                self.signature_keys.insert(l.signature_key.as_bytes());
            }
        }
        if i.is_multiple_of(2) && was != now {
            // A leaf changed occupancy: adjust it and every ancestor.
            let mut x = NodeIndex(i as u32);
            loop {
                if let Some(c) = self.occupied.get_mut(x.0 as usize) {
                    *c = *c + now - was;
                }
                match x.parent(self.leaf_count) {
                    Some(p) => x = p,
                    None => break,
                }
            }
        }
    }

    /// Non-blank leaves below node `x`.
    pub(super) fn occupied_below(&self, x: NodeIndex) -> u32 {
        self.occupied.get(x.0 as usize).copied().unwrap_or(0)
    }

    /// True when some leaf of the tree has signature key `key`.
    pub fn contains_signature_key(&self, key: &crate::crypto::SignaturePublicKey) -> bool {
        self.signature_keys.contains(key.as_bytes())
    }

    /// True when some node of the tree has encryption key `key`.
    pub fn contains_encryption_key(&self, key: &HpkePublicKey) -> bool {
        self.encryption_keys.contains(key.as_bytes())
    }

    /// Builds a tree from the `ratchet_tree` wire form (§12.4.3.3).
    ///
    /// Rejects an empty vector or one whose last node is blank, a vector too
    /// long for any supported tree, a leaf node at an odd (parent) index or
    /// a parent node at an even (leaf) index, and a parent node whose
    /// `unmerged_leaves` are not strictly increasing leaves of its subtree.
    pub fn from_wire(wire: RatchetTreeWire) -> Result<Self> {
        // §12.4.3.3: "The receiver MUST check that the last node in
        // `ratchet_tree` is non-blank".
        match wire.last() {
            None => {
                return Err(Error::protocol(
                    "§12.4.3.3",
                    "ratchet_tree is empty: its last node must be non-blank",
                ));
            }
            Some(None) => {
                return Err(Error::protocol(
                    "§12.4.3.3",
                    format!(
                        "ratchet_tree ends with a blank node (node {}): trailing blanks must be omitted",
                        wire.len() - 1
                    ),
                ));
            }
            Some(Some(_)) => {}
        }
        // §12.4.3.3: extend "until it has a length of the form 2^(d+1) - 1,
        // adding the minimum number of blank values possible". Width
        // 2L - 1 >= len needs L >= (len + 1) / 2 leaves, rounded up.
        let too_long = || {
            Error::protocol(
                "§12.4.3.3",
                format!("ratchet_tree has {} nodes, more than any tree", wire.len()),
            )
        };
        let min_leaves = u32::try_from(wire.len() / 2 + 1).map_err(|_| too_long())?;
        let leaf_count = LeafCount::covering(min_leaves).ok_or_else(too_long)?;
        let mut tree = Self::blank(leaf_count);
        if wire.len() > tree.nodes.len() {
            return Err(Error::Internal("padded tree shorter than its wire form"));
        }
        for (i, node) in wire.into_iter().enumerate() {
            let x = node_index(i)?;
            if let Some(node) = &node {
                tree.check_node(x, node)?;
            }
            tree.put(i, node);
        }
        Ok(tree)
    }

    /// Checks that `node` may sit at `x`: its kind matches the position
    /// (§12.4.3.3: leaves at even indices, parents at odd), and a parent's
    /// unmerged leaves are sorted (§7.1) and lie below it (§12.4.3.1).
    fn check_node(&self, x: NodeIndex, node: &Node) -> Result<()> {
        match node {
            Node::Leaf(_) if !x.is_leaf() => Err(Error::protocol(
                "§12.4.3.3",
                format!("node {x} is a parent position but holds a leaf node"),
            )),
            Node::Parent(_) if x.is_leaf() => Err(Error::protocol(
                "§12.4.3.3",
                format!("node {x} is a leaf position but holds a parent node"),
            )),
            Node::Leaf(_) => Ok(()),
            Node::Parent(p) => {
                // §7.1: "The entries in the `unmerged_leaves` vector MUST be
                // sorted in increasing order."
                if p.unmerged_leaves.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(Error::protocol(
                        "§7.1",
                        format!("unmerged_leaves of node {x} are not strictly increasing"),
                    ));
                }
                // §12.4.3.1: each entry must be "a descendant of the parent node".
                if let Some(u) = p
                    .unmerged_leaves
                    .iter()
                    .find(|u| !subtree_contains_leaf(x, **u))
                {
                    return Err(Error::protocol(
                        "§12.4.3.1",
                        format!("unmerged leaf {u} of node {x} is not below that node"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Decodes a TLS-encoded `ratchet_tree` and builds the tree
    /// ([`Self::from_wire`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_wire(crate::decode_exact::<RatchetTreeWire>(
            "ratchet_tree",
            bytes,
        )?)
    }

    /// The wire form: the nodes in order with trailing blanks dropped
    /// (§12.4.3.3: "the sender MUST NOT include blank nodes after the last
    /// non-blank node").
    pub fn to_wire(&self) -> RatchetTreeWire {
        let end = (0..self.nodes.len())
            .rev()
            .find(|&i| self.nodes.get(i).is_some_and(Option::is_some))
            .map_or(0, |i| i + 1);
        self.nodes
            .iter()
            .take(end)
            .map(|n| n.as_deref().cloned())
            .collect()
    }

    /// The nodes (below the wider of the two widths) that differ between
    /// `self` and `other`: what a storage write of this tree over `other`
    /// must rewrite.
    pub(crate) fn changed_nodes(&self, other: &RatchetTree) -> Vec<NodeIndex> {
        self.nodes
            .differing(&other.nodes, |a, b| match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
                _ => false,
            })
            .into_iter()
            .filter_map(|i| u32::try_from(i).ok().map(NodeIndex))
            .collect()
    }

    /// The node width (twice the leaf count minus one).
    pub(crate) fn node_width(&self) -> u32 {
        self.leaf_count.node_width()
    }

    /// The TLS encoding of [`Self::to_wire`].
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(crate::codec::encode(&self.to_wire())?)
    }

    /// The number of leaves (a power of two, blank leaves included).
    pub fn leaf_count(&self) -> LeafCount {
        self.leaf_count
    }

    /// The root node.
    pub fn root(&self) -> NodeIndex {
        self.leaf_count.root()
    }

    /// The number of members: non-blank leaves.
    pub fn member_count(&self) -> usize {
        self.occupied_below(self.root()) as usize
    }

    /// The non-blank leaves with their indices, left to right.
    pub fn members(&self) -> impl Iterator<Item = (LeafIndex, &LeafNode)> {
        self.nodes
            .iter()
            .step_by(2)
            .zip(0u32..)
            .filter_map(|(n, i)| match n.as_deref() {
                Some(Node::Leaf(l)) => Some((LeafIndex(i), &**l)),
                _ => None,
            })
    }

    /// The node at `x`; `None` when blank or outside the tree.
    pub fn node(&self, x: NodeIndex) -> Option<&Node> {
        self.nodes.get(x.0 as usize).and_then(Option::as_deref)
    }

    /// The leaf node at `leaf`; `None` when blank or outside the tree.
    pub fn leaf(&self, leaf: LeafIndex) -> Option<&LeafNode> {
        match self.node(leaf.node()?) {
            Some(Node::Leaf(l)) => Some(l),
            _ => None,
        }
    }

    /// The parent node at `x`; `None` when blank, a leaf position or outside
    /// the tree.
    pub fn parent(&self, x: NodeIndex) -> Option<&ParentNode> {
        match self.node(x) {
            Some(Node::Parent(p)) => Some(p),
            _ => None,
        }
    }

    /// True when `x` is in the tree and blank.
    pub fn is_blank(&self, x: NodeIndex) -> bool {
        self.leaf_count.contains_node(x) && self.node(x).is_none()
    }

    /// The resolution of `x` (§4.1.1): a non-blank node followed by its
    /// unmerged leaves; nothing for a blank leaf; for a blank parent the
    /// resolution of its left child then of its right child. Empty for a node
    /// outside the tree.
    pub fn resolution(&self, x: NodeIndex) -> Vec<NodeIndex> {
        let mut out = Vec::new();
        if self.leaf_count.contains_node(x) {
            self.resolve_into(x, &mut out);
        }
        out
    }

    fn resolve_into(&self, x: NodeIndex, out: &mut Vec<NodeIndex>) {
        // Leaves sit at even indices (Appendix C), so whether a leaf is in
        // the resolution is known from its slot without reading the node:
        // in a large sparse tree that read is a cache miss per member.
        if x.0.is_multiple_of(2) {
            if self.nodes.get(x.0 as usize).is_some_and(Option::is_some) {
                out.push(x);
            }
            return;
        }
        match self.node(x) {
            Some(Node::Leaf(_)) => out.push(x),
            Some(Node::Parent(p)) => {
                out.push(x);
                // Entries were checked to lie below `x`, so `node()` is Some.
                out.extend(p.unmerged_leaves.iter().filter_map(|u| u.node()));
            }
            None => {
                if let (Some(l), Some(r)) = (x.left(), x.right()) {
                    self.resolve_into(l, out);
                    self.resolve_into(r, out);
                }
            }
        }
    }

    /// True when the resolution of `x` is empty: every node below `x`,
    /// `x` included, is blank. (A non-blank parent is in its own resolution,
    /// so unmerged leaves never decide this.)
    pub fn resolution_is_empty(&self, x: NodeIndex) -> bool {
        match self.node(x) {
            Some(_) => false,
            None => match (x.left(), x.right()) {
                (Some(l), Some(r)) => self.resolution_is_empty(l) && self.resolution_is_empty(r),
                _ => true,
            },
        }
    }

    /// The filtered direct path of `leaf` (§4.1.2): its direct path without
    /// the nodes whose child on the copath has an empty resolution. `None`
    /// for a leaf outside the tree.
    pub fn filtered_direct_path(&self, leaf: LeafIndex) -> Option<Vec<NodeIndex>> {
        let x = leaf.node()?;
        let path = x.direct_path(self.leaf_count)?;
        let copath = x.copath(self.leaf_count)?;
        Some(
            path.into_iter()
                .zip(copath)
                .filter(|(_, c)| !self.resolution_is_empty(*c))
                .map(|(p, _)| p)
                .collect(),
        )
    }

    /// Checks the `unmerged_leaves` of every parent node as §12.4.3.1
    /// requires when joining: each entry is a non-blank leaf (its position
    /// below the node is checked on construction), and every non-blank
    /// parent between that leaf and the node lists it too.
    pub fn verify_unmerged_leaves(&self) -> Result<()> {
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(Node::Parent(p)) = node.as_deref() else {
                continue;
            };
            let x = node_index(i)?;
            for &u in &p.unmerged_leaves {
                if self.leaf(u).is_none() {
                    return Err(Error::protocol(
                        "§12.4.3.1",
                        format!("unmerged leaf {u} of node {x} is blank"),
                    ));
                }
                let Some(path) = u.node().and_then(|n| n.direct_path(self.leaf_count)) else {
                    return Err(Error::Internal("unmerged leaf outside the tree"));
                };
                for q in path.into_iter().take_while(|q| *q != x) {
                    if let Some(qp) = self.parent(q)
                        && qp.unmerged_leaves.binary_search(&u).is_err()
                    {
                        return Err(Error::protocol(
                            "§12.4.3.1",
                            format!(
                                "leaf {u} is unmerged at node {x} but not at node {q} between them"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks that no two nodes share an encryption key and no two members
    /// share a signature key: §7.3 requires `signature_key` and
    /// `encryption_key` to be unique among the members, and §12.4.3.1 that
    /// "the encryption key in the parent node does not appear in any other
    /// node of the tree". Fails naming both nodes.
    pub fn verify_unique_keys(&self) -> Result<()> {
        // Sized up front: growing them rehashes every key seen so far.
        let members = self.member_count();
        let mut encryption: HashMap<&[u8], NodeIndex> = HashMap::with_capacity(2 * members);
        let mut signature: HashMap<&[u8], LeafIndex> = HashMap::with_capacity(members);
        for (i, node) in self.nodes.iter().enumerate() {
            let x = node_index(i)?;
            let key = match node.as_deref() {
                None => continue,
                Some(Node::Parent(p)) => p.encryption_key.as_bytes(),
                Some(Node::Leaf(l)) => {
                    let leaf = x.leaf().ok_or(Error::Internal("leaf node at odd index"))?;
                    if let Some(other) = signature.insert(l.signature_key.as_bytes(), leaf) {
                        return Err(Error::protocol(
                            "§7.3",
                            format!("leaves {other} and {leaf} have the same signature key"),
                        ));
                    }
                    l.encryption_key.as_bytes()
                }
            };
            if let Some(other) = encryption.insert(key, x) {
                let rule = if other.is_leaf() && x.is_leaf() {
                    "§7.3"
                } else {
                    "§12.4.3.1"
                };
                return Err(Error::protocol(
                    rule,
                    format!("nodes {other} and {x} have the same encryption key"),
                ));
            }
        }
        Ok(())
    }

    // ---- mutation; every method clears the hash cache along the change ----

    /// The tree-hash cache cell of node `x`; `None` outside the tree.
    pub(super) fn hash_cell(&self, x: NodeIndex) -> Option<&OnceLock<Arc<[u8]>>> {
        let i = x.0 as usize;
        if i % UPPER_STRIDE == UPPER_STRIDE - 1 {
            self.upper_hash_cache.get(i / UPPER_STRIDE)
        } else {
            self.hash_cache.get(i)
        }
    }

    /// Clears the cached tree hash of `x`.
    fn forget_hash(&mut self, x: NodeIndex) {
        let i = x.0 as usize;
        let cell = if i % UPPER_STRIDE == UPPER_STRIDE - 1 {
            self.upper_hash_cache.get_mut(i / UPPER_STRIDE)
        } else {
            self.hash_cache.get_mut(i)
        };
        if let Some(cell) = cell {
            cell.take();
        }
    }

    /// Clears the cached tree hash of `x` and of its direct path.
    fn invalidate(&mut self, x: NodeIndex) {
        self.forget_hash(x);
        let mut y = x;
        while let Some(p) = y.parent(self.leaf_count) {
            self.forget_hash(p);
            y = p;
        }
    }

    /// Sets node `x` to `node` (`None` blanks it), with the checks of
    /// [`Self::from_wire`] on its kind and unmerged leaves.
    pub fn set_node(&mut self, x: NodeIndex, node: Option<Node>) -> Result<()> {
        if !self.leaf_count.contains_node(x) {
            return Err(Error::Misuse(format!(
                "node {x} is outside a tree of {} leaves",
                self.leaf_count
            )));
        }
        if let Some(n) = &node {
            self.check_node(x, n)?;
        }
        self.put(x.0 as usize, node);
        self.invalidate(x);
        Ok(())
    }

    /// Sets leaf `leaf` to `node` (`None` blanks it).
    pub fn set_leaf(&mut self, leaf: LeafIndex, node: Option<LeafNode>) -> Result<()> {
        let x = leaf
            .node()
            .ok_or_else(|| Error::Misuse(format!("leaf {leaf} is outside any tree")))?;
        self.set_node(x, node.map(|l| Node::Leaf(Box::new(l))))
    }

    /// Changes the parent node at `x` through `f` (on a copy, stored only if
    /// it passes the checks of [`Self::set_node`]) and clears the cache on its
    /// path. `Ok(None)` if `x` is not a non-blank parent.
    pub fn update_parent<R>(
        &mut self,
        x: NodeIndex,
        f: impl FnOnce(&mut ParentNode) -> R,
    ) -> Result<Option<R>> {
        let Some(p) = self.parent(x) else {
            return Ok(None);
        };
        let mut p = p.clone();
        let out = f(&mut p);
        self.set_node(x, Some(Node::Parent(Box::new(p))))?;
        Ok(Some(out))
    }

    /// Blanks every node on the direct path of `leaf` (§12.1.2, §12.1.3).
    pub fn blank_direct_path(&mut self, leaf: LeafIndex) -> Result<()> {
        let path = leaf
            .node()
            .and_then(|x| x.direct_path(self.leaf_count))
            .ok_or_else(|| Error::Misuse(format!("leaf {leaf} is outside the tree")))?;
        for p in path {
            self.put(p.0 as usize, None);
            self.forget_hash(p);
        }
        Ok(())
    }

    /// Doubles the tree (§7.7): the old tree becomes the left subtree of a
    /// new blank root over a new all-blank right subtree.
    pub fn extend(&mut self) -> Result<()> {
        let doubled = self.leaf_count.doubled().ok_or_else(|| {
            Error::Misuse(format!("a tree of {} leaves cannot grow", self.leaf_count))
        })?;
        let width = doubled.node_width() as usize;
        let members = self.occupied_below(self.root());
        if self.encryption_keys.undersized_for(width) {
            // Re-shard so shards stay small; once per several doublings.
            let mut keys = ShardedCounts::new(width);
            let mut signature_keys = ShardedCounts::new(width / 2 + 1);
            for node in self.nodes.iter().flatten() {
                keys.insert(node_encryption_key(node).as_bytes());
                if let Node::Leaf(l) = &**node {
                    signature_keys.insert(l.signature_key.as_bytes());
                }
            }
            self.encryption_keys = keys;
            self.signature_keys = signature_keys;
        }
        self.nodes.resize(width, None);
        self.hash_cache.resize(width);
        self.upper_hash_cache.resize(upper_len(width));
        self.occupied.resize(width, 0);
        self.leaf_count = doubled;
        // The old tree is the new root's left subtree.
        let root = self.root();
        if let Some(c) = self.occupied.get_mut(root.0 as usize) {
            *c = members;
        }
        Ok(())
    }

    /// Halves the tree while its right half is entirely blank (§7.7, §12.1.3),
    /// never below one leaf.
    pub fn truncate(&mut self) {
        while let Some(half) = self.leaf_count.halved() {
            let width = half.node_width() as usize;
            // The old root sits at `width` and the right subtree after it.
            // Parent nodes only exist above members, so an unoccupied right
            // subtree is entirely blank.
            let right = self.root().right().ok_or(());
            match right {
                Ok(r) if self.occupied_below(r) == 0 => {}
                _ => break,
            }
            // The old root may be a non-blank parent; drop it through `put`
            // so the key index forgets its key.
            self.put(width, None);
            self.nodes.truncate(width);
            self.hash_cache.truncate(width);
            self.upper_hash_cache.truncate(upper_len(width));
            self.occupied.truncate(width);
            self.leaf_count = half;
        }
    }
}

#[cfg(test)]
#[path = "ratchet_tree_tests.rs"]
mod tests;

impl RatchetTree {
    /// §12.2 / §13: a proposal of a non-default type is valid only if every
    /// member's capabilities list its type.
    pub fn check_all_support(
        &self,
        proposal_type: crate::types::ProposalType,
    ) -> crate::Result<()> {
        match self
            .members()
            .find(|(_, l)| !l.capabilities.supports_proposal(proposal_type))
        {
            Some((leaf, _)) => Err(crate::Error::protocol(
                "§12.2",
                format!(
                    "leaf {} does not support proposal type {proposal_type:?}",
                    leaf.0
                ),
            )),
            None => Ok(()),
        }
    }
}
