//! Test fixtures, in one place. Builders for large, valid trees whose
//! private keys are all known (the fixtures of the tests and benchmarks of
//! large groups; behind the `test-support` feature, not for production
//! use); and, for the crate's own unit tests, engine-level members
//! (`engine`) and API clients with a fixed clock and seeded randomness
//! (`clients`).

use crate::codec::encode;
use crate::crypto::credential::Credential;
use crate::crypto::{
    CipherSuite, HpkePrivateKey, RandomSource, SeededRandom, SignaturePrivateKey, Suite,
};
use crate::schedule::GroupContext;
use crate::tree::leaf_node::{Capabilities, LeafNode, LeafNodeSource, Lifetime};
use crate::tree::nodes::{Node, ParentNode};
use crate::tree::private::generate_hpke_key_pair;
use crate::tree::private::{TreePrivate, node_key_pair};
use crate::tree::ratchet_tree::RatchetTree;
use crate::tree::treekem::LeafContent;
use crate::types::ProtocolVersion;
use crate::types::math::{LeafCount, LeafIndex, NodeIndex};
use crate::{Error, Result};

/// The lifetime given to key-package leaves of fixtures.
pub const FIXTURE_LIFETIME: Lifetime = Lifetime {
    not_before: 1_700_000_000,
    not_after: 1_700_000_000 + 300 * 24 * 3600,
};

/// A ratchet tree plus every member's private keys.
pub struct TreeFixture {
    /// The suite.
    pub suite: Suite,
    /// Group id the leaves are signed for.
    pub group_id: Vec<u8>,
    /// The tree.
    pub tree: RatchetTree,
    /// Signature key of each leaf, by leaf index.
    signers: Vec<Option<SignaturePrivateKey>>,
    /// Private key of every non-blank node, by node index.
    node_keys: Vec<Option<HpkePrivateKey>>,
}

impl std::fmt::Debug for TreeFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TreeFixture({} leaves)", self.tree.leaf_count())
    }
}

/// The default suite of fixtures (0x0001).
pub fn default_suite() -> Result<Suite> {
    Ok(Suite::from_provider(
        &crate::crypto::rust_crypto::RustCryptoProvider,
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
    )?)
}

impl TreeFixture {
    /// A tree of `n` leaves (a power of two) in which every parent node is
    /// set and parent-hash valid: the tree a group reaches when its members
    /// commit in descending leaf order, built directly in O(n).
    pub fn full(suite: &Suite, n: u32, seed: u8) -> Result<Self> {
        let mut fx = Self::empty(suite, n, seed)?;
        let mut rng = SeededRandom::from_seed([seed; 32]);
        let root = fx.tree.root();
        fx.build_full(root, Vec::new(), &mut rng)?;
        Ok(fx)
    }

    /// A tree of `n` leaves (a power of two) whose parent nodes are all
    /// blank: members added without any path update yet.
    pub fn sparse(suite: &Suite, n: u32, seed: u8) -> Result<Self> {
        let mut fx = Self::empty(suite, n, seed)?;
        let mut rng = SeededRandom::from_seed([seed; 32]);
        for i in 0..n {
            let leaf = fx.make_leaf(
                LeafIndex(i),
                LeafNodeSource::KeyPackage(FIXTURE_LIFETIME),
                &mut rng,
            )?;
            fx.tree.set_leaf(LeafIndex(i), Some(leaf))?;
        }
        Ok(fx)
    }

    fn empty(suite: &Suite, n: u32, seed: u8) -> Result<Self> {
        let count = LeafCount::new(n)
            .ok_or_else(|| Error::Misuse(format!("{n} leaves: not a power of two")))?;
        Ok(Self {
            suite: suite.clone(),
            group_id: format!("fixture-{seed}").into_bytes(),
            tree: RatchetTree::blank(count),
            signers: vec![None; n as usize],
            node_keys: vec![None; count.node_width() as usize],
        })
    }

    /// A leaf node for `leaf` with fresh keys, signed; its keys are recorded.
    fn make_leaf(
        &mut self,
        leaf: LeafIndex,
        source: LeafNodeSource,
        rng: &mut dyn RandomSource,
    ) -> Result<LeafNode> {
        let suite = &self.suite;
        let (sk, pk) = suite.primitives().signature_key_pair(rng)?;
        let (enc_sk, enc_pk) = generate_hpke_key_pair(suite, rng)?;
        let mut node = LeafNode {
            encryption_key: enc_pk,
            signature_key: pk,
            credential: Credential::basic(format!("member {}", leaf.0).into_bytes()),
            capabilities: Capabilities::for_suite(suite.id()),
            leaf_node_source: source,
            extensions: Vec::new(),
            signature: Vec::new(),
        };
        let group = match node.leaf_node_source {
            LeafNodeSource::KeyPackage(_) => None,
            _ => Some((self.group_id.as_slice(), leaf)),
        };
        node.sign(suite, &sk, group)?;
        let x = leaf
            .node()
            .ok_or(Error::Internal("leaf outside the tree"))?;
        self.node_keys[x.0 as usize] = Some(enc_sk);
        self.signers[leaf.0 as usize] = Some(sk);
        Ok(node)
    }

    /// Sets node `x` with `parent_hash`, then its right subtree (as left
    /// behind by an earlier commit from a leaf on the right), then its left
    /// subtree, whose top carries x's parent hash: that is what makes every
    /// chain valid (§7.9.2).
    fn build_full(
        &mut self,
        x: NodeIndex,
        parent_hash: Vec<u8>,
        rng: &mut SeededRandom,
    ) -> Result<()> {
        let Some((l, r)) = x.left().zip(x.right()) else {
            return self.place_leaf(x, parent_hash, rng);
        };
        let mut secret = crate::crypto::Secret::zero(self.suite.hash_len());
        secret.fill_random(rng)?;
        let (sk, pk) = node_key_pair(&self.suite, &secret)?;
        let node = ParentNode {
            encryption_key: pk,
            parent_hash,
            unmerged_leaves: Vec::new(),
        };
        self.tree.set_node(x, Some(Node::Parent(Box::new(node))))?;
        self.node_keys[x.0 as usize] = Some(sk);
        // The right child's parent hash points at an older version of x.
        let stale = self.suite.hash(&encode(&x.0)?);
        self.build_full(r, stale, rng)?;
        let ph = self.tree.parent_hash(&self.suite, x, r)?;
        self.build_full(l, ph, rng)
    }

    fn place_leaf(
        &mut self,
        x: NodeIndex,
        parent_hash: Vec<u8>,
        rng: &mut SeededRandom,
    ) -> Result<()> {
        let leaf = x.leaf().ok_or(Error::Internal("not a leaf"))?;
        let node = self.make_leaf(leaf, LeafNodeSource::Commit(parent_hash), rng)?;
        self.tree.set_leaf(leaf, Some(node))
    }

    /// The signature key of the member at `leaf`.
    pub fn signer(&self, leaf: LeafIndex) -> Result<&SignaturePrivateKey> {
        self.signers
            .get(leaf.0 as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| Error::Misuse(format!("leaf {leaf} is blank")))
    }

    /// The private state of the member at `leaf`: its leaf key and the keys
    /// of every non-blank node on its direct path.
    pub fn private_state(&self, leaf: LeafIndex) -> Result<TreePrivate> {
        let x = leaf
            .node()
            .ok_or(Error::Internal("leaf outside the tree"))?;
        let key = self.node_keys[x.0 as usize]
            .clone()
            .ok_or_else(|| Error::Misuse(format!("leaf {leaf} is blank")))?;
        let mut private = TreePrivate::new(leaf, key)?;
        for p in x.direct_path(self.tree.leaf_count()).unwrap_or_default() {
            if let Some(k) = &self.node_keys[p.0 as usize] {
                private.set_key(p, k.clone());
            }
        }
        Ok(private)
    }

    /// What the member at `leaf` keeps in its leaf when it commits.
    pub fn leaf_content(&self, leaf: LeafIndex) -> Result<LeafContent> {
        self.tree
            .leaf(leaf)
            .map(LeafContent::from_leaf)
            .ok_or_else(|| Error::Misuse(format!("leaf {leaf} is blank")))
    }

    /// A GroupContext for the fixture's group at `epoch` with `tree_hash`.
    pub fn group_context(&self, epoch: u64, tree_hash: &[u8]) -> GroupContext {
        GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: self.suite.id(),
            group_id: self.group_id.clone(),
            epoch,
            tree_hash: tree_hash.to_vec(),
            confirmed_transcript_hash: vec![0; self.suite.hash_len()],
            extensions: Vec::new(),
        }
    }
}

#[cfg(test)]
pub(crate) mod clients;
#[cfg(test)]
pub(crate) mod engine;
#[cfg(test)]
pub(crate) mod partial;
