//! Validation of an imported ratchet tree, as a joiner must do it
//! (§12.4.3.1, §7.9.2, §7.3). Every check is linear or O(n log n) in the
//! tree size; leaf validation (one signature each) runs on scoped threads.

use std::collections::HashSet;

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
    /// with the first violation, naming node or leaf and rule.
    pub fn validate(&self, suite: &Suite, v: &TreeValidation<'_>) -> Result<()> {
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
        self.verify_parent_hashes(suite)?;
        self.validate_leaves(suite, v)?;
        self.verify_credential_support()?;
        // draft-ietf-mls-extensions: what each multi-credential asks of
        // every member.
        self.check_multi_credentials()
    }

    /// §7.3 for every leaf, in parallel for large trees. The reported error
    /// is the one of the lowest failing leaf, whatever the scheduling.
    fn validate_leaves(&self, suite: &Suite, v: &TreeValidation<'_>) -> Result<()> {
        let leaves: Vec<(LeafIndex, &LeafNode)> = self.members().collect();
        let check = |(leaf, node): &(LeafIndex, &LeafNode)| {
            let role = LeafRole::InTree {
                group_id: v.group_id,
                leaf: *leaf,
            };
            validate_leaf_node(suite, node, role, v.required, v.lifetime)
        };
        let threads = crate::parallel::cores();
        if leaves.len() < PARALLEL_THRESHOLD || threads < 2 {
            return leaves.iter().try_for_each(check);
        }
        let per_thread = leaves.len().div_ceil(threads);
        let first_errors: Vec<Result<()>> = std::thread::scope(|scope| {
            let handles: Vec<_> = leaves
                .chunks(per_thread)
                .map(|chunk| scope.spawn(move || chunk.iter().try_for_each(check)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or(Err(Error::Internal("validation thread panicked")))
                })
                .collect()
        });
        // Chunks are in leaf order, so the first error is the lowest leaf's.
        first_errors.into_iter().collect()
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

#[cfg(test)]
#[path = "validation_tests.rs"]
mod tests;
