//! The Exporter Tree of the safe exporter (draft-ietf-mls-extensions,
//! "Exported Secrets"): a tree of secrets shaped like the secret tree of
//! RFC 9420 §9, with 2^16 leaves, one per ComponentID, rooted at the
//! epoch's `application_export_secret`. A component's secret is its leaf's
//! `tree_node_secret`; once taken it is consumed, and the secrets it was
//! derived from are deleted (§9.2), so an export is forward secure.

use std::collections::BTreeMap;

use crate::crypto::{Secret, Suite};
use crate::{Error, Result};

/// Leaves of the Exporter Tree: one per ComponentID.
const LEAVES: u32 = 1 << 16;
/// The root's node index (Appendix C: `2^k - 1` in a tree of `2^k` leaves).
const ROOT: u32 = LEAVES - 1;

/// The part of an Exporter Tree not yet consumed: secrets of disjoint
/// subtrees that together hold every component not yet exported, keyed by
/// the first node of their subtree. Each export walks one path down,
/// keeping the siblings and deleting the rest (§9.2), so at most 16 new
/// entries per export and lookups are O(log n).
#[derive(Clone)]
pub struct ExporterTree {
    frontier: BTreeMap<u32, (u32, Secret)>,
}

impl std::fmt::Debug for ExporterTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExporterTree")
            .field("subtrees", &self.frontier.len())
            .finish_non_exhaustive()
    }
}

/// Appendix C `level(x)`: the number of trailing one bits.
fn level(x: u32) -> u32 {
    x.trailing_ones()
}

/// The first and last node of the subtree under `x`.
fn span(x: u32) -> (u32, u32) {
    let half = (1u32 << level(x)) - 1;
    (x - half, x + half)
}

impl ExporterTree {
    /// A tree rooted at `application_export_secret`.
    pub fn new(application_export_secret: Secret) -> Self {
        let mut frontier = BTreeMap::new();
        frontier.insert(span(ROOT).0, (ROOT, application_export_secret));
        Self { frontier }
    }

    /// `SafeExportSecret(component_id) = tree_node_[LeafIndex(component_id)]_secret`,
    /// consumed: a second call for the same component fails with
    /// [`Error::Misuse`].
    pub fn take(&mut self, suite: &Suite, component_id: u16) -> Result<Secret> {
        let target = 2 * u32::from(component_id);
        let start = self
            .frontier
            .range(..=target)
            .next_back()
            .filter(|(_, (x, _))| span(*x).1 >= target)
            .map(|(start, _)| *start)
            .ok_or_else(|| {
                Error::Misuse(format!(
                    "the safe export secret of component {component_id:#06x} was already \
                     taken in this epoch: it is consumed when exported, for forward secrecy"
                ))
            })?;
        let (mut x, mut secret) = self
            .frontier
            .remove(&start)
            .ok_or(Error::Internal("exporter tree entry vanished"))?;
        while x != target {
            let k = level(x);
            let (left, right) = (x ^ (1 << (k - 1)), x ^ (3 << (k - 1)));
            // §9: tree_node_[left(N)]_secret = ExpandWithLabel(
            // tree_node_[N]_secret, "tree", "left", KDF.Nh), and "right".
            let nh = suite.hash_len();
            let left_secret = suite.expand_with_label(secret.as_bytes(), "tree", b"left", nh)?;
            let right_secret = suite.expand_with_label(secret.as_bytes(), "tree", b"right", nh)?;
            // The parent's secret is dropped (and zeroized) here.
            let (next, sibling) = if target < x {
                ((left, left_secret), (right, right_secret))
            } else {
                ((right, right_secret), (left, left_secret))
            };
            self.frontier
                .insert(span(sibling.0).0, (sibling.0, sibling.1));
            (x, secret) = next;
        }
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::default_suite;

    /// The draft's definition computed directly: from the root, 16 steps
    /// down, choosing "left" or "right" by the bits of the component id,
    /// most significant first.
    fn by_the_formula(suite: &Suite, root: &Secret, component_id: u16) -> Secret {
        let mut secret = root.clone();
        for bit in (0..16).rev() {
            let side: &[u8] = if component_id >> bit & 1 == 0 {
                b"left"
            } else {
                b"right"
            };
            secret = suite
                .expand_with_label(secret.as_bytes(), "tree", side, suite.hash_len())
                .unwrap();
        }
        secret
    }

    #[test]
    fn each_component_gets_its_leaf_secret_once() {
        let suite = default_suite().unwrap();
        let root = Secret::new(vec![0x42; suite.hash_len()]);
        let mut tree = ExporterTree::new(root.clone());
        let ids = [7u16, 0, 0xffff, 6, 0x8000, 0x7fff, 8, 1];
        for id in ids {
            assert_eq!(
                tree.take(&suite, id).unwrap(),
                by_the_formula(&suite, &root, id),
                "component {id:#x}"
            );
        }
        for id in ids {
            assert!(matches!(tree.take(&suite, id), Err(Error::Misuse(_))));
        }
        // The frontier holds at most 16 subtrees per export.
        assert!(tree.frontier.len() <= 16 * ids.len());
        assert_eq!(
            tree.take(&suite, 2).unwrap(),
            by_the_formula(&suite, &root, 2)
        );
    }
}
