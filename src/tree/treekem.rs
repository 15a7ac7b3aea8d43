//! TreeKEM (§7.4-§7.6): creating an UpdatePath as a committer and merging
//! and decrypting one as a receiver.
//!
//! Both sides change the tree in place; the group engine stages a commit on
//! a copy. Work per path is O(log n) hashing and key derivation plus one
//! HPKE encryption per node of the copath resolutions, which the RFC forces
//! (and which is O(n) only in sparse trees). Those encryptions are
//! independent, so they run on scoped threads when there are enough.

use crate::crypto::credential::Credential;
use crate::crypto::{
    HpkePublicKey, RandomSource, Secret, SeededRandom, SignaturePrivateKey, Suite,
};
use crate::tree::leaf_node::{Capabilities, LeafNode, LeafNodeSource};
use crate::tree::nodes::{Node, ParentNode};
use crate::tree::private::{TreePrivate, next_path_secret, node_key_pair};
use crate::tree::ratchet_tree::{RatchetTree, subtree_contains_leaf};
use crate::tree::update_path::{HpkeCiphertext, HpkeCiphertexts, UpdatePath, UpdatePathNode};
use crate::types::Extension;
use crate::types::math::{LeafIndex, NodeIndex};
use crate::{Error, Result};

/// Label of the path-secret encryption (§7.6).
pub const UPDATE_PATH_LABEL: &str = "UpdatePathNode";

/// Inputs shared by sender and receiver.
#[derive(Debug, Clone, Copy)]
pub struct PathContext<'a> {
    /// The group id (binds the new leaf's signature).
    pub group_id: &'a [u8],
    /// Leaves added by the same commit: excluded from the resolutions the
    /// path secrets are encrypted to (§7.6, §12.4.2).
    pub joiners: &'a [LeafIndex],
    /// An external commit: the sender's leaf is the blank leaf reserved for
    /// the joiner (§12.4.3.2) rather than an existing member's.
    pub external: bool,
}

/// The content of the committer's new leaf besides its keys and source.
#[derive(Debug, Clone)]
pub struct LeafContent {
    /// Signature key of the leaf.
    pub signature_key: crate::crypto::SignaturePublicKey,
    /// Credential.
    pub credential: Credential,
    /// Capabilities.
    pub capabilities: Capabilities,
    /// Leaf extensions.
    pub extensions: Vec<Extension>,
}

/// The committer's new leaf: its content and the key that signs it.
#[derive(Debug, Clone, Copy)]
pub struct NewLeaf<'a> {
    /// Everything but keys and source.
    pub content: &'a LeafContent,
    /// Signs the new leaf node.
    pub signer: &'a SignaturePrivateKey,
}

impl LeafContent {
    /// Keeps everything of `leaf` but its keys and source.
    pub fn from_leaf(leaf: &LeafNode) -> Self {
        Self {
            signature_key: leaf.signature_key.clone(),
            credential: leaf.credential.clone(),
            capabilities: leaf.capabilities.clone(),
            extensions: leaf.extensions.clone(),
        }
    }
}

/// What a committer gets from [`generate_update_path`].
#[derive(Debug)]
pub struct GeneratedPath {
    /// The UpdatePath to put in the Commit.
    pub update_path: UpdatePath,
    /// `commit_secret`: the path secret one step above the root (§12.4.2).
    pub commit_secret: Secret,
    /// The path secret of each node of the filtered direct path, bottom up;
    /// a Welcome hands new members the one of their common ancestor.
    pub path_secrets: Vec<(NodeIndex, Secret)>,
}

/// What a receiver gets from [`apply_update_path`] when it holds keys.
#[derive(Debug)]
pub struct DecryptedPath {
    /// The node whose path secret was decrypted.
    pub node: NodeIndex,
    /// That path secret.
    pub path_secret: Secret,
    /// `commit_secret` (§12.4.2).
    pub commit_secret: Secret,
}

/// The child of `p` whose subtree does not contain `leaf`.
fn copath_child(p: NodeIndex, leaf: LeafIndex) -> Result<NodeIndex> {
    let (l, r) = p
        .left()
        .zip(p.right())
        .ok_or(Error::Internal("filtered direct path holds a leaf"))?;
    Ok(if subtree_contains_leaf(l, leaf) { r } else { l })
}

/// The resolution of the copath child of `p`, minus the joiners (§7.6).
/// `joiners` must be sorted (see [`sorted`]).
fn encryption_targets(
    tree: &RatchetTree,
    p: NodeIndex,
    sender: LeafIndex,
    joiners: &[LeafIndex],
) -> Result<Vec<NodeIndex>> {
    let c = copath_child(p, sender)?;
    let mut targets = tree.resolution(c);
    if !joiners.is_empty() {
        targets.retain(|x| x.leaf().is_none_or(|l| joiners.binary_search(&l).is_err()));
    }
    Ok(targets)
}

/// The joiners in order, for [`encryption_targets`]: a commit adding n
/// members to a sparse tree filters about n targets, and a linear search
/// for each made that quadratic.
fn sorted(joiners: &[LeafIndex]) -> Vec<LeafIndex> {
    let mut joiners = joiners.to_vec();
    joiners.sort_unstable();
    joiners
}

fn public_key(tree: &RatchetTree, x: NodeIndex) -> Result<&HpkePublicKey> {
    match tree.node(x) {
        Some(Node::Leaf(l)) => Ok(&l.encryption_key),
        Some(Node::Parent(p)) => Ok(&p.encryption_key),
        None => Err(Error::Internal("resolution contains a blank node")),
    }
}

/// Writes the new parent nodes of the sender's filtered direct path `fdp`
/// top down with their parent hashes (§7.9) and returns the parent hash the
/// sender's leaf must carry. The direct path must already be blank.
fn set_path_nodes(
    suite: &Suite,
    tree: &mut RatchetTree,
    sender: LeafIndex,
    fdp: &[NodeIndex],
    keys: &[HpkePublicKey],
) -> Result<Vec<u8>> {
    let mut parent_hash = Vec::new();
    for (&x, key) in fdp.iter().zip(keys).rev() {
        let node = ParentNode {
            encryption_key: key.clone(),
            parent_hash: std::mem::take(&mut parent_hash),
            unmerged_leaves: Vec::new(),
        };
        tree.set_node(x, Some(Node::Parent(Box::new(node))))?;
        // The hash this node contributes to the node below it on the path.
        parent_hash = tree.parent_hash(suite, x, copath_child(x, sender)?)?;
    }
    Ok(parent_hash)
}

/// One HPKE encryption of a path secret.
struct Job {
    path_index: usize,
    public_key: HpkePublicKey,
    rng: SeededRandom,
}

/// Encrypts each job's path secret under `context`, in parallel when there
/// are many. Results keep the order of `jobs`.
fn encrypt_jobs(
    suite: &Suite,
    jobs: Vec<Job>,
    secrets: &[Secret],
    context: &[u8],
) -> Result<Vec<(usize, HpkeCiphertext)>> {
    // One context for every recipient: hashed into HPKE's key schedule once.
    let prepared = suite.prepare_encrypt_context(UPDATE_PATH_LABEL, context)?;
    crate::parallel::try_map(jobs, |mut job: Job| {
        let secret = secrets
            .get(job.path_index)
            .ok_or(Error::Internal("path secret index out of range"))?;
        let (kem_output, ciphertext) = suite.encrypt_with_prepared(
            &job.public_key,
            &prepared,
            secret.as_bytes(),
            &mut job.rng,
        )?;
        Ok((
            job.path_index,
            HpkeCiphertext {
                kem_output,
                ciphertext,
            },
        ))
    })
}

/// Creates an UpdatePath for the member `private.leaf()` (§7.4-§7.6, §12.4.2)
/// in `tree`, which must already reflect the commit's proposals. Updates
/// `tree` (new path and leaf) and `private` (new keys). `group_context`
/// maps the new root tree hash to the encoded provisional GroupContext that
/// the path secrets are encrypted under.
pub fn generate_update_path(
    suite: &Suite,
    tree: &mut RatchetTree,
    private: &mut TreePrivate,
    leaf: NewLeaf<'_>,
    ctx: PathContext<'_>,
    group_context: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
    rng: &mut dyn RandomSource,
) -> Result<GeneratedPath> {
    let sender = private.leaf();
    // An external joiner commits from the blank leaf reserved for it.
    if tree.leaf(sender).is_none() != ctx.external {
        return Err(Error::Misuse(format!(
            "leaf {sender} is {}: cannot commit from it",
            if ctx.external { "occupied" } else { "blank" }
        )));
    }
    let direct_path = sender
        .node()
        .and_then(|x| x.direct_path(tree.leaf_count()))
        .ok_or(Error::Internal("sender outside the tree"))?;
    tree.blank_direct_path(sender)?;
    let fdp = tree
        .filtered_direct_path(sender)
        .ok_or(Error::Internal("sender outside the tree"))?;

    // §7.4: path_secret[0] is random, each next one derived from the last.
    let mut secret = Secret::zero(suite.hash_len());
    secret.fill_random(rng)?;
    let mut path_secrets = Vec::with_capacity(fdp.len());
    let mut privates = Vec::with_capacity(fdp.len());
    let mut publics = Vec::with_capacity(fdp.len());
    for &x in &fdp {
        let (sk, pk) = node_key_pair(suite, &secret)?;
        privates.push((x, sk));
        publics.push(pk);
        let next = next_path_secret(suite, &secret)?;
        path_secrets.push((x, std::mem::replace(&mut secret, next)));
    }
    let commit_secret = secret;

    let leaf_parent_hash = set_path_nodes(suite, tree, sender, &fdp, &publics)?;
    let (leaf_sk, leaf_pk) = crate::tree::private::generate_hpke_key_pair(suite, rng)?;
    let mut leaf_node = LeafNode {
        encryption_key: leaf_pk,
        signature_key: leaf.content.signature_key.clone(),
        credential: leaf.content.credential.clone(),
        capabilities: leaf.content.capabilities.clone(),
        leaf_node_source: LeafNodeSource::Commit(leaf_parent_hash),
        extensions: leaf.content.extensions.clone(),
        signature: Vec::new(),
    };
    leaf_node.sign(suite, leaf.signer, Some((ctx.group_id, sender)))?;
    tree.set_leaf(sender, Some(leaf_node.clone()))?;

    let context = group_context(&tree.root_tree_hash(suite)?)?;
    let joiners = sorted(ctx.joiners);
    let mut jobs = Vec::new();
    for (i, &x) in fdp.iter().enumerate() {
        for target in encryption_targets(tree, x, sender, &joiners)? {
            jobs.push(Job {
                path_index: i,
                public_key: public_key(tree, target)?.clone(),
                rng: SeededRandom::split(rng)?,
            });
        }
    }
    let secrets: Vec<Secret> = path_secrets.iter().map(|(_, s)| s.clone()).collect();
    let mut nodes: Vec<UpdatePathNode> = publics
        .into_iter()
        .map(|encryption_key| UpdatePathNode {
            encryption_key,
            encrypted_path_secret: HpkeCiphertexts::new(),
        })
        .collect();
    for (i, ct) in encrypt_jobs(suite, jobs, &secrets, &context)? {
        nodes
            .get_mut(i)
            .ok_or(Error::Internal("path secret index out of range"))?
            .encrypted_path_secret
            .push(&ct.kem_output, &ct.ciphertext)?;
    }

    private.forget(direct_path);
    private.set_leaf_key(leaf_sk)?;
    for (x, sk) in privates {
        private.set_key(x, sk);
    }
    Ok(GeneratedPath {
        update_path: UpdatePath { leaf_node, nodes },
        commit_secret,
        path_secrets,
    })
}

/// Merges the UpdatePath of the committer at `sender` into `tree` (§7.6),
/// which must already reflect the commit's proposals, and, when `private`
/// is given, decrypts the path secret meant for its holder and derives the
/// commit secret. The leaf node itself is validated by the caller (§7.3);
/// this checks the path's shape, that its keys are new to the tree, and the
/// leaf's parent hash.
pub fn apply_update_path(
    suite: &Suite,
    tree: &mut RatchetTree,
    sender: LeafIndex,
    path: &UpdatePath,
    ctx: PathContext<'_>,
    private: Option<&mut TreePrivate>,
    group_context: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<Option<DecryptedPath>> {
    match (tree.leaf(sender), ctx.external) {
        (None, false) => {
            return Err(Error::protocol(
                "§12.4.2",
                format!("UpdatePath from leaf {sender}, which is blank"),
            ));
        }
        (Some(_), true) => {
            return Err(Error::Internal("external commit into an occupied leaf"));
        }
        // §12.4.2: "Verify that the encryption_key value in the LeafNode is
        // different from the committer's current leaf node."
        (Some(old), false) if old.encryption_key == path.leaf_node.encryption_key => {
            return Err(Error::protocol(
                "§12.4.2",
                format!("UpdatePath of leaf {sender} keeps the leaf's encryption key"),
            ));
        }
        _ => {}
    }
    // §12.4.2: "Verify that none of the public keys in the UpdatePath appear
    // in any node of the new ratchet tree."
    let fresh = std::iter::once(&path.leaf_node.encryption_key)
        .chain(path.nodes.iter().map(|n| &n.encryption_key));
    let mut seen = std::collections::HashSet::new();
    for key in fresh {
        if tree.contains_encryption_key(key) || !seen.insert(key) {
            return Err(Error::protocol(
                "§12.4.2",
                format!("UpdatePath of leaf {sender} reuses an encryption key already in the tree"),
            ));
        }
    }

    tree.blank_direct_path(sender)?;
    let fdp = tree
        .filtered_direct_path(sender)
        .ok_or(Error::Internal("sender outside the tree"))?;
    // §7.6/§12.4.2: one UpdatePathNode per node of the filtered direct path.
    if path.nodes.len() != fdp.len() {
        return Err(Error::protocol(
            "§7.6",
            format!(
                "UpdatePath of leaf {sender} has {} nodes, its filtered direct path {}",
                path.nodes.len(),
                fdp.len()
            ),
        ));
    }
    let joiners = sorted(ctx.joiners);
    let mut targets = Vec::with_capacity(fdp.len());
    for (&x, node) in fdp.iter().zip(&path.nodes) {
        let t = encryption_targets(tree, x, sender, &joiners)?;
        // §7.6: "The length of the encrypted_path_secret vector MUST be equal
        // to the length of the resolution of the copath node".
        if t.len() != node.encrypted_path_secret.len() {
            return Err(Error::protocol(
                "§7.6",
                format!(
                    "UpdatePath of leaf {sender}: node {x} has {} ciphertexts for a resolution of {}",
                    node.encrypted_path_secret.len(),
                    t.len()
                ),
            ));
        }
        targets.push(t);
    }
    let keys: Vec<HpkePublicKey> = path
        .nodes
        .iter()
        .map(|n| n.encryption_key.clone())
        .collect();
    let expected = set_path_nodes(suite, tree, sender, &fdp, &keys)?;
    // §7.6 step 3 / §7.9.2: the leaf's parent hash must match.
    match &path.leaf_node.leaf_node_source {
        LeafNodeSource::Commit(ph) if *ph == expected => {}
        LeafNodeSource::Commit(_) => {
            return Err(Error::protocol(
                "§7.9.2",
                format!("the parent hash in the UpdatePath leaf of leaf {sender} does not match"),
            ));
        }
        _ => {
            return Err(Error::protocol(
                "§12.4.2",
                format!("UpdatePath leaf of leaf {sender} does not have source commit"),
            ));
        }
    }
    tree.set_leaf(sender, Some(path.leaf_node.clone()))?;

    let Some(private) = private else {
        return Ok(None);
    };
    let me = private.leaf();
    if me == sender {
        return Err(Error::Misuse(
            "apply_update_path is for receivers; the committer uses generate_update_path".into(),
        ));
    }
    let context = group_context(&tree.root_tree_hash(suite)?)?;
    // §7.6: the first node of the filtered direct path whose copath child
    // holds us, then a resolution node we hold a key for.
    let mut found = None;
    for (i, &x) in fdp.iter().enumerate() {
        if !subtree_contains_leaf(copath_child(x, sender)?, me) {
            continue;
        }
        found = targets[i]
            .iter()
            .position(|t| private.key(*t).is_some())
            .map(|j| (i, j));
        break;
    }
    let Some((i, j)) = found else {
        return Err(Error::protocol(
            "§7.6",
            format!(
                "no path secret of leaf {sender}'s UpdatePath is encrypted to a key leaf {me} holds"
            ),
        ));
    };
    let ct = path.nodes[i]
        .encrypted_path_secret
        .get(j)
        .ok_or(Error::Internal("ciphertext index out of range"))?;
    let key = private
        .key(targets[i][j])
        .ok_or(Error::Internal("private key vanished"))?;
    let path_secret = suite
        .decrypt_with_label(
            key,
            UPDATE_PATH_LABEL,
            &context,
            ct.kem_output,
            ct.ciphertext,
        )
        .map_err(|_| {
            Error::protocol(
                "§7.6",
                format!(
                    "path secret for node {} from leaf {sender} does not decrypt",
                    fdp[i]
                ),
            )
        })?;
    if path_secret.len() != suite.hash_len() {
        return Err(Error::protocol(
            "§7.4",
            format!("path secret from leaf {sender} has the wrong length"),
        ));
    }
    let direct_path = sender
        .node()
        .and_then(|x| x.direct_path(tree.leaf_count()))
        .ok_or(Error::Internal("sender outside the tree"))?;
    let mut updated = private.clone();
    updated.forget(direct_path);
    let commit_secret = updated.absorb_path_secret(suite, tree, &fdp[i..], path_secret.clone())?;
    *private = updated;
    Ok(Some(DecryptedPath {
        node: fdp[i],
        path_secret,
        commit_secret,
    }))
}

#[cfg(test)]
#[path = "treekem_tests.rs"]
mod tests;
