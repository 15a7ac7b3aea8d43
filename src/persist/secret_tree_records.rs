//! Storage encodings of a [`SecretTree`]: one record for the node secrets
//! not yet expanded, and one per leaf for its two ratchets, so that a
//! message rewrites only its sender's ratchets (see `persist::records`).

use std::collections::{BTreeMap, HashMap};

use crate::codec::{DecodeError, DecodeErrorKind, Encode, Reader, Writer, field};
use crate::crypto::{Secret, Suite};
use crate::schedule::secret_tree::{
    KeyAndNonce, LeafRatchets, Ratchet, SecretTree, SecretTreeConfig, TreeChanges,
};
use crate::types::math::{LeafCount, LeafIndex, NodeIndex};

/// Appends the leaf count, the policy and the unexpanded node secrets.
pub(crate) fn encode_nodes(tree: &SecretTree, w: &mut Writer) {
    tree.leaves.get().encode(w);
    tree.config.out_of_order_window.encode(w);
    tree.config.max_forward_distance.encode(w);
    let mut nodes: Vec<_> = tree.nodes.iter().collect();
    nodes.sort_by_key(|(x, _)| **x);
    w.vector(|w| {
        for (x, secret) in nodes {
            x.0.encode(w);
            secret.encode(w);
        }
    });
}

fn encode_ratchet(r: &Ratchet, w: &mut Writer) {
    r.secret.encode(w);
    r.next.encode(w);
    w.vector(|w| {
        for (generation, k) in &r.skipped {
            generation.encode(w);
            k.key.encode(w);
            k.nonce.encode(w);
        }
    });
}

/// Appends both ratchets of `leaf`; `None` if the leaf was never used.
pub(crate) fn encode_leaf(tree: &SecretTree, leaf: LeafIndex, w: &mut Writer) -> Option<()> {
    let r = tree.ratchets.get(&leaf)?;
    encode_ratchet(&r.handshake, w);
    encode_ratchet(&r.application, w);
    Some(())
}

/// The leaves whose ratchets are stored, ascending.
pub(crate) fn used_leaves(tree: &SecretTree) -> Vec<LeafIndex> {
    let mut leaves: Vec<_> = tree.ratchets.keys().copied().collect();
    leaves.sort();
    leaves
}

fn invalid(r: &Reader<'_>, value: u64, what: &'static str) -> DecodeError {
    DecodeError::new(DecodeErrorKind::InvalidValue { value }, r.offset()).within(what)
}

fn decode_ratchet(r: &mut Reader<'_>) -> Result<Ratchet, DecodeError> {
    let secret: Secret = field(r, "secret")?;
    let next: u64 = field(r, "next")?;
    if next > 1 << 32 {
        return Err(invalid(r, next, "next"));
    }
    let mut skipped = BTreeMap::new();
    let mut v = r.vector()?;
    while !v.is_empty() {
        let generation: u32 = field(&mut v, "generation")?;
        let key = field(&mut v, "key")?;
        let nonce = field(&mut v, "nonce")?;
        skipped.insert(generation, KeyAndNonce { key, nonce });
    }
    Ok(Ratchet {
        secret,
        next,
        skipped,
    })
}

/// Rebuilds a secret tree from its node record and its leaves' records.
/// An error names the leaf whose record failed (`None`: the node record).
pub(crate) fn decode(
    suite: &Suite,
    nodes: &mut Reader<'_>,
    leaves: Vec<(LeafIndex, zeroize::Zeroizing<Vec<u8>>)>,
) -> Result<SecretTree, (Option<LeafIndex>, DecodeError)> {
    let (count, config, map) = decode_nodes(nodes).map_err(|e| (None, e))?;
    let mut ratchets = HashMap::new();
    for (leaf, bytes) in leaves {
        let r = decode_leaf(count, leaf, &bytes[..]).map_err(|e| (Some(leaf), e))?;
        ratchets.insert(leaf, r);
    }
    Ok(SecretTree {
        suite: suite.clone(),
        leaves: count,
        config,
        nodes: map,
        ratchets,
        changes: TreeChanges::default(),
        journal: None,
    })
}

type Nodes = (LeafCount, SecretTreeConfig, HashMap<NodeIndex, Secret>);

fn decode_nodes(nodes: &mut Reader<'_>) -> Result<Nodes, DecodeError> {
    let count: u32 = field(nodes, "leaves")?;
    let count = LeafCount::new(count).ok_or_else(|| invalid(nodes, count.into(), "leaves"))?;
    let config = SecretTreeConfig {
        out_of_order_window: field(nodes, "out_of_order_window")?,
        max_forward_distance: field(nodes, "max_forward_distance")?,
    };
    let mut map = HashMap::new();
    let mut v = nodes.vector()?;
    while !v.is_empty() {
        let x: u32 = field(&mut v, "node")?;
        if x >= count.node_width() {
            return Err(invalid(&v, x.into(), "node"));
        }
        map.insert(NodeIndex(x), field(&mut v, "secret")?);
    }
    Ok((count, config, map))
}

fn decode_leaf(
    count: LeafCount,
    leaf: LeafIndex,
    bytes: &[u8],
) -> Result<LeafRatchets, DecodeError> {
    {
        if !count.contains_leaf(leaf) {
            return Err(DecodeError::new(
                DecodeErrorKind::InvalidValue {
                    value: leaf.0.into(),
                },
                0,
            )
            .within("leaf"));
        }
        let mut r = Reader::new(bytes);
        let handshake = decode_ratchet(&mut r).map_err(|e| e.within("handshake"))?;
        let application = decode_ratchet(&mut r).map_err(|e| e.within("application"))?;
        r.finish()?;
        Ok(LeafRatchets {
            handshake,
            application,
        })
    }
}
