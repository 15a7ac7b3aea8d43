//! Validation of an imported ratchet tree, as a joiner must do it
//! (§12.4.3.1, §7.9.2, §7.3). Every check is linear or O(n log n) in the
//! tree size; leaf validation (one signature each) runs on scoped threads.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::crypto::Suite;
use crate::crypto::credential::CredentialType;
use crate::tree::leaf_node::LeafNode;
use crate::tree::leaf_validation::{LeafRole, LifetimePolicy, validate_leaf_node};
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::extensions::RequiredCapabilities;
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// Below this many leaves, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 64;

/// Leaves per unit of parallel work: small enough that the threads finish
/// together, large enough that taking a chunk costs nothing next to its
/// signatures.
const LEAF_CHUNK: usize = 32;

/// What an imported tree is validated against.
#[derive(Debug, Clone, Copy)]
pub struct TreeValidation<'a> {
    /// The group id (binds update and commit leaf signatures).
    pub group_id: &'a [u8],
    /// The `tree_hash` of the GroupContext the tree must match.
    pub tree_hash: &'a [u8],
    /// The group's `required_capabilities`, if any.
    pub required: Option<&'a RequiredCapabilities>,
    /// Clock and maximum lifetime for key-package leaves.
    pub lifetime: LifetimePolicy,
}

impl RatchetTree {
    /// Runs every check §12.4.3.1 asks of a new member: tree hash, parent
    /// hashes (§7.9.2), each leaf (§7.3), unmerged leaves, uniqueness of
    /// keys, and credential types supported by every member (§7.3). Fails
    /// with the first violation, naming node or leaf and rule, in that
    /// order whatever the scheduling.
    ///
    /// In a large tree the leaf signatures, most of the cost, are verified
    /// on every core while the calling thread first runs the structural
    /// checks and then helps with the leaves, so those checks add little to
    /// the wall time.
    pub fn validate(&self, suite: &Suite, v: &TreeValidation<'_>) -> Result<()> {
        let leaves: Vec<(LeafIndex, &LeafNode)> = self.members().collect();
        let threads = crate::parallel::cores();
        if leaves.len() < PARALLEL_THRESHOLD || threads < 2 {
            self.validate_structure(suite, v)?;
            leaves.iter().try_for_each(|l| check_leaf(suite, v, l))?;
        } else {
            self.validate_overlapped(suite, v, &leaves, threads)?;
        }
        self.verify_credential_support()?;
        // draft-ietf-mls-extensions: what each multi-credential asks of
        // every member.
        self.check_multi_credentials()
    }

    /// The checks that do not verify signatures, in the order their
    /// failures are reported.
    fn validate_structure(&self, suite: &Suite, v: &TreeValidation<'_>) -> Result<()> {
        // §12.4.3.1: "Verify that the tree hash of the ratchet tree matches
        // the tree_hash field in GroupInfo."
        if self.root_tree_hash(suite)? != v.tree_hash {
            return Err(Error::protocol(
                "§12.4.3.1",
                "the ratchet tree's hash does not match the GroupContext's tree_hash",
            ));
        }
        self.verify_unmerged_leaves()?;
        self.verify_unique_keys()?;
        self.verify_parent_hashes(suite)
    }

    /// [`Self::validate_structure`] on the calling thread while `threads -
    /// 1` helpers verify leaves (§7.3), chunk by chunk in leaf order; the
    /// calling thread then takes chunks too. A structural failure stops the
    /// helpers and is reported first; otherwise the error is the lowest
    /// failing leaf's: a chunk is skipped only above a chunk that failed,
    /// so every chunk below the lowest failure was verified.
    fn validate_overlapped(
        &self,
        suite: &Suite,
        v: &TreeValidation<'_>,
        leaves: &[(LeafIndex, &LeafNode)],
        threads: usize,
    ) -> Result<()> {
        let chunks: Vec<&[(LeafIndex, &LeafNode)]> = leaves.chunks(LEAF_CHUNK).collect();
        let next = AtomicUsize::new(0);
        let lowest_failed = AtomicUsize::new(usize::MAX);
        let cancelled = AtomicBool::new(false);
        // The first failure a worker sees: the lowest chunk it failed,
        // since each worker takes chunks in increasing order.
        let work = || -> Option<(usize, Error)> {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= chunks.len()
                    || cancelled.load(Ordering::Relaxed)
                    || i > lowest_failed.load(Ordering::Relaxed)
                {
                    return None;
                }
                if let Err(e) = chunks[i].iter().try_for_each(|l| check_leaf(suite, v, l)) {
                    lowest_failed.fetch_min(i, Ordering::Relaxed);
                    return Some((i, e));
                }
            }
        };
        let (structure, mut failures) = std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
            let structure = self.validate_structure(suite, v);
            let mut failures = Vec::with_capacity(threads);
            if structure.is_err() {
                cancelled.store(true, Ordering::Relaxed);
            } else {
                failures.push(work());
            }
            for h in helpers {
                failures.push(
                    h.join()
                        .unwrap_or(Some((0, Error::Internal("validation thread panicked")))),
                );
            }
            (structure, failures)
        });
        structure?;
        failures.sort_by_key(|f| f.as_ref().map_or(usize::MAX, |(i, _)| *i));
        match failures.into_iter().flatten().next() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }

    /// §7.3: "Verify that the credential type is supported by all members of
    /// the group [...] and that the capabilities field of this LeafNode
    /// indicates support for all the credential types currently in use by
    /// other members." Equivalently: every credential type in use is listed
    /// by every member. Linear: the set in use, then one pass over members.
    fn verify_credential_support(&self) -> Result<()> {
        let in_use: HashSet<CredentialType> = self
            .members()
            .map(|(_, l)| l.credential.credential_type())
            .collect();
        for (leaf, node) in self.members() {
            if let Some(missing) = in_use
                .iter()
                .find(|t| !node.capabilities.credentials.contains(t))
            {
                return Err(Error::protocol(
                    "§7.3",
                    format!(
                        "leaf {leaf} does not support credential type {missing:?}, which another member uses"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// §7.3 for one leaf of the tree.
fn check_leaf(
    suite: &Suite,
    v: &TreeValidation<'_>,
    (leaf, node): &(LeafIndex, &LeafNode),
) -> Result<()> {
    let role = LeafRole::InTree {
        group_id: v.group_id,
        leaf: *leaf,
    };
    validate_leaf_node(suite, node, role, v.required, v.lifetime)
}

#[cfg(test)]
#[path = "validation_tests.rs"]
mod tests;
