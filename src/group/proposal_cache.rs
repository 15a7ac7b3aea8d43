//! The proposals received in the current epoch, kept by reference for the
//! commits that cover them (§12.1).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::framing::Sender;
use crate::messages::proposals::Proposal;

/// A proposal received in the current epoch, kept for commits that cover
/// it by reference (§12.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedProposal {
    /// `MakeProposalRef` of the AuthenticatedContent that carried it.
    pub reference: Vec<u8>,
    /// The proposal.
    pub proposal: Proposal,
    /// Its sender.
    pub sender: Sender,
}

/// Proposals of the current epoch, indexed by reference: a commit may
/// name thousands, and each lookup is O(1).
#[derive(Debug, Clone, Default)]
pub struct ProposalCache {
    entries: Vec<CachedProposal>,
    by_reference: HashMap<RefKey, usize>,
}

/// A proposal reference as a map key. Lookups borrow it as
/// `dyn RefBytes`, so finding a `&[u8]` copies nothing, and every key
/// comparison goes through one `eq` that tests can count.
#[derive(Debug, Clone)]
struct RefKey(Vec<u8>);

trait RefBytes {
    fn bytes(&self) -> &[u8];
}

impl RefBytes for RefKey {
    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl RefBytes for &[u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl<'a> Borrow<dyn RefBytes + 'a> for RefKey {
    fn borrow(&self) -> &(dyn RefBytes + 'a) {
        self
    }
}

// `HashMap` requires the key and its borrowed form to hash and compare
// alike: both go through `bytes()`.
impl Hash for dyn RefBytes + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

impl PartialEq for dyn RefBytes + '_ {
    fn eq(&self, other: &Self) -> bool {
        #[cfg(test)]
        reference_comparisons::COUNT.with(|c| c.set(c.get() + 1));
        self.bytes() == other.bytes()
    }
}

impl Eq for dyn RefBytes + '_ {}

impl Hash for RefKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self as &dyn RefBytes).hash(state);
    }
}

impl PartialEq for RefKey {
    fn eq(&self, other: &Self) -> bool {
        (self as &dyn RefBytes) == (other as &dyn RefBytes)
    }
}

impl Eq for RefKey {}

impl ProposalCache {
    /// The proposal with reference `r`.
    pub fn find(&self, r: &[u8]) -> Option<&CachedProposal> {
        self.by_reference
            .get(&r as &dyn RefBytes)
            .and_then(|i| self.entries.get(*i))
    }

    /// All cached proposals, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &CachedProposal> {
        self.entries.iter()
    }

    /// How many proposals are cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops the proposals cached after the first `len` (a transition
    /// whose write failed takes back what it cached).
    pub(crate) fn truncate(&mut self, len: usize) {
        for p in self.entries.drain(len.min(self.entries.len())..) {
            self.by_reference.remove(&RefKey(p.reference));
        }
    }

    pub(crate) fn insert(&mut self, p: CachedProposal) {
        let key = RefKey(p.reference.clone());
        if !self.by_reference.contains_key(&key) {
            self.by_reference.insert(key, self.entries.len());
            self.entries.push(p);
        }
    }
}

/// Commits naming k proposals by reference cost O(k) key comparisons, not
/// O(k x cached) as a linear scan of the cache would.
#[cfg(test)]
mod reference_comparisons {
    use super::*;
    use crate::messages::proposals::Remove;
    use crate::types::math::LeafIndex;

    thread_local! {
        /// Reference comparisons made on this thread.
        pub(super) static COUNT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn reference(i: u32) -> Vec<u8> {
        // Shaped like a real reference: 32 bytes, distinct.
        let mut r = vec![0u8; 32];
        r[28..].copy_from_slice(&i.to_be_bytes());
        r
    }

    /// Comparisons to resolve `k` references against a cache of `k`
    /// proposals, as `commit_stage::resolve` does for a commit naming all
    /// of them (one `find` per reference), plus one miss.
    fn comparisons_to_resolve(k: u32) -> usize {
        let mut cache = ProposalCache::default();
        for i in 0..k {
            cache.insert(CachedProposal {
                reference: reference(i),
                proposal: Proposal::Remove(Remove {
                    removed: LeafIndex(i),
                }),
                sender: Sender::Member(LeafIndex(0)),
            });
        }
        COUNT.with(|c| c.set(0));
        for i in (0..k).rev() {
            let found = cache.find(&reference(i)).map(|p| &p.proposal);
            assert_eq!(
                found,
                Some(&Proposal::Remove(Remove {
                    removed: LeafIndex(i)
                }))
            );
        }
        assert!(cache.find(&reference(k)).is_none());
        COUNT.with(|c| c.get())
    }

    #[test]
    fn resolving_references_is_linear_in_their_number() {
        let small = comparisons_to_resolve(1024);
        let large = comparisons_to_resolve(4096);
        eprintln!("reference comparisons: {small} for 1024, {large} for 4096");
        // Every hit compares at least once; a linear scan would make
        // about k^2 / 2 comparisons (500k at 1024).
        assert!(small >= 1024, "{small} comparisons for 1024 hits");
        assert!(large <= 5 * small, "{small} -> {large}: more than linear");
        assert!(large <= 2 * 4096, "{large} comparisons for 4096 lookups");
    }
}
