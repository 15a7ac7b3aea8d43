//! A member's private view of the tree (§4.2): the private keys of its own
//! leaf and of the parent nodes on its direct path that it knows.
//!
//! The tree invariant limits what a member may know to its direct path, so
//! this holds at most `log2(n) + 1` keys. Every key is zeroized on drop.

use std::collections::BTreeMap;

use crate::crypto::RandomSource;
use crate::crypto::{HpkePrivateKey, HpkePublicKey, Secret, Suite};
use crate::tree::nodes::Node;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::{LeafIndex, NodeIndex};
use crate::{Error, Result};

/// The private keys one member holds.
#[derive(Clone, Debug)]
pub struct TreePrivate {
    leaf: LeafIndex,
    /// Keyed by node index; includes the member's own leaf.
    keys: BTreeMap<NodeIndex, HpkePrivateKey>,
}

/// The key pair derived from a path secret (§7.4):
/// `node_secret = DeriveSecret(path_secret, "node")`,
/// `KEM.DeriveKeyPair(node_secret)`.
pub fn node_key_pair(
    suite: &Suite,
    path_secret: &Secret,
) -> Result<(HpkePrivateKey, HpkePublicKey)> {
    let node_secret = suite.derive_secret(path_secret.as_bytes(), "node")?;
    Ok(suite.derive_key_pair(node_secret.as_bytes())?)
}

/// The next path secret up the path (§7.4):
/// `path_secret[n] = DeriveSecret(path_secret[n-1], "path")`.
pub fn next_path_secret(suite: &Suite, path_secret: &Secret) -> Result<Secret> {
    Ok(suite.derive_secret(path_secret.as_bytes(), "path")?)
}

impl TreePrivate {
    /// The state of the member at `leaf` holding `leaf_key`.
    pub fn new(leaf: LeafIndex, leaf_key: HpkePrivateKey) -> Result<Self> {
        let x = leaf
            .node()
            .ok_or_else(|| Error::Misuse(format!("leaf {leaf} is outside any tree")))?;
        Ok(Self {
            leaf,
            keys: BTreeMap::from([(x, leaf_key)]),
        })
    }

    /// The member's leaf.
    pub fn leaf(&self) -> LeafIndex {
        self.leaf
    }

    /// The private key of node `x`, if known.
    pub fn key(&self, x: NodeIndex) -> Option<&HpkePrivateKey> {
        self.keys.get(&x)
    }

    /// Nodes whose private keys are held.
    pub fn nodes(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        self.keys.keys().copied()
    }

    /// Stores a key for node `x`.
    pub fn set_key(&mut self, x: NodeIndex, key: HpkePrivateKey) {
        self.keys.insert(x, key);
    }

    /// Replaces the member's own leaf key.
    pub fn set_leaf_key(&mut self, key: HpkePrivateKey) -> Result<()> {
        let x = self
            .leaf
            .node()
            .ok_or(Error::Internal("own leaf outside any tree"))?;
        self.keys.insert(x, key);
        Ok(())
    }

    /// Forgets the keys of the parent nodes in `nodes` (e.g. a direct path
    /// that a commit replaced); the leaf key is kept.
    pub fn forget<I: IntoIterator<Item = NodeIndex>>(&mut self, nodes: I) {
        for x in nodes {
            if !x.is_leaf() {
                self.keys.remove(&x);
            }
        }
    }

    /// Derives the key pairs of `path_secret` at `start` and of every node
    /// above it in `path` (a filtered direct path, bottom up, starting with
    /// `start`), checks each public key against the tree, and stores the
    /// private keys. Returns the path secret one step above the top, which
    /// is the commit secret when `path` reaches the root (§12.4.2).
    pub fn absorb_path_secret(
        &mut self,
        suite: &Suite,
        tree: &RatchetTree,
        path: &[NodeIndex],
        path_secret: Secret,
    ) -> Result<Secret> {
        let mut secret = path_secret;
        let mut derived = Vec::with_capacity(path.len());
        for &x in path {
            let (private, public) = node_key_pair(suite, &secret)?;
            // §7.6 step 6: "Verify that the derived public keys are the same
            // as the corresponding public keys sent in the UpdatePath."
            match tree.parent(x) {
                Some(p) if p.encryption_key == public => {}
                _ => {
                    return Err(Error::protocol(
                        "§7.6",
                        format!("public key derived for node {x} does not match the tree"),
                    ));
                }
            }
            derived.push((x, private));
            secret = next_path_secret(suite, &secret)?;
        }
        self.keys.extend(derived);
        Ok(secret)
    }

    /// Checks that every held key belongs to a non-blank node on the
    /// member's direct path whose public key matches (the consistency check
    /// of the treekem vectors and of joining).
    pub fn verify_against(&self, suite: &Suite, tree: &RatchetTree) -> Result<()> {
        for (&x, key) in &self.keys {
            let public = match tree.node(x) {
                Some(Node::Leaf(l)) => &l.encryption_key,
                Some(Node::Parent(p)) => &p.encryption_key,
                None => {
                    return Err(Error::protocol(
                        "§4.2",
                        format!("a private key is held for blank node {x}"),
                    ));
                }
            };
            let derived = suite.primitives().hpke_public_key(key.as_bytes())?;
            if &derived != public {
                return Err(Error::protocol(
                    "§4.2",
                    format!("the private key held for node {x} does not match its public key"),
                ));
            }
        }
        Ok(())
    }
}

/// A fresh HPKE key pair from `Nh` random bytes (RFC 9180 DeriveKeyPair).
pub fn generate_hpke_key_pair(
    suite: &Suite,
    rng: &mut dyn RandomSource,
) -> crate::Result<(HpkePrivateKey, HpkePublicKey)> {
    let mut ikm = Secret::zero(suite.hash_len());
    ikm.fill_random(rng)?;
    Ok(suite.derive_key_pair(ikm.as_bytes())?)
}
