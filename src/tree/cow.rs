//! Copy-on-write storage that makes cloning a ratchet tree O(n / 64)
//! pointer copies instead of a deep copy: the group engine stages every
//! commit on a clone (stage, then merge), and only the chunks a commit
//! touches (O(log n) of them) are ever copied.
//!
//! Blank runs are cheap too: a tree imported from a Welcome may be mostly
//! blank (one byte per blank node on the wire), so every whole chunk of a
//! run of fill values shares one allocation, and the tree-hash cache
//! allocates a chunk's cells only when a hash in it is computed. A blank
//! run then costs a pointer or two per 64 nodes until it is written.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Entries per chunk: small enough that copying one on write is cheap.
const CHUNK: usize = 64;

/// A vector split into shared chunks; writing to a chunk copies it first if
/// another clone still shares it.
#[derive(Debug, Clone)]
pub(crate) struct ChunkedVec<T: Clone> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T: Clone> ChunkedVec<T> {
    /// `len` copies of `fill`.
    pub(crate) fn new(len: usize, fill: T) -> Self {
        let mut v = Self {
            chunks: Vec::new(),
            len: 0,
        };
        v.resize(len, fill);
        v
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Indices below the longer length where `self` and `other` differ
    /// (an index past one's end counts as differing). Chunks still shared
    /// since a clone are skipped unread, so the cost of comparing a staged
    /// tree with its base is O(n / 64) plus the chunks a commit touched:
    /// storage writes only these entries.
    pub(crate) fn differing(&self, other: &Self, same: impl Fn(&T, &T) -> bool) -> Vec<usize> {
        let mut out = Vec::new();
        let longest = self.chunks.len().max(other.chunks.len());
        for c in 0..longest {
            let (a, b) = (self.chunks.get(c), other.chunks.get(c));
            if let (Some(a), Some(b)) = (a, b)
                && Arc::ptr_eq(a, b)
                && (c + 1) * CHUNK <= self.len.min(other.len)
            {
                continue;
            }
            let base = c * CHUNK;
            let end = ((c + 1) * CHUNK).min(self.len.max(other.len));
            let (a, b) = (self.chunk_slice(a, base), other.chunk_slice(b, base));
            for i in 0..end.saturating_sub(base) {
                match (a.get(i), b.get(i)) {
                    (Some(a), Some(b)) if same(a, b) => {}
                    _ => out.push(base + i),
                }
            }
        }
        out
    }

    /// The entries of `chunk` (the one starting at `base`) below the
    /// length: a chunk may hold more than the vector after a shrink.
    fn chunk_slice<'a>(&self, chunk: Option<&'a Arc<Vec<T>>>, base: usize) -> &'a [T] {
        let Some(chunk) = chunk else { return &[] };
        &chunk[..chunk.len().min(self.len.saturating_sub(base))]
    }

    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        Arc::make_mut(self.chunks.get_mut(i / CHUNK)?).get_mut(i % CHUNK)
    }

    /// Grows with copies of `fill` or shrinks to `len`. The whole chunks
    /// added share one chunk of `fill` (copied by [`Self::get_mut`] before
    /// any write), so growing by a blank run costs O(1) per chunk.
    pub(crate) fn resize(&mut self, len: usize, fill: T) {
        if len <= self.len {
            self.truncate(len);
            return;
        }
        // Top up a partial last chunk first, so that chunks stay aligned.
        if !self.len.is_multiple_of(CHUNK)
            && let Some(last) = self.chunks.last_mut()
        {
            let last = Arc::make_mut(last);
            let take = (CHUNK - last.len()).min(len - self.len);
            last.extend(std::iter::repeat_n(fill.clone(), take));
            self.len += take;
        }
        let whole = (len - self.len) / CHUNK;
        if whole > 0 {
            let shared = Arc::new(vec![fill.clone(); CHUNK]);
            self.chunks
                .extend(std::iter::repeat_with(|| Arc::clone(&shared)).take(whole));
            self.len += whole * CHUNK;
        }
        if self.len < len {
            let mut tail = Vec::with_capacity(CHUNK);
            tail.extend(std::iter::repeat_n(fill, len - self.len));
            self.chunks.push(Arc::new(tail));
            self.len = len;
        }
    }

    /// How many distinct chunk allocations back this vector: a test hook
    /// for the sharing of blank runs.
    #[cfg(test)]
    pub(crate) fn distinct_chunks(&self) -> usize {
        let mut seen: Vec<*const Vec<T>> = self.chunks.iter().map(Arc::as_ptr).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        self.chunks.truncate(len.div_ceil(CHUNK));
        let full = self.chunks.len().saturating_sub(1) * CHUNK;
        if let Some(last) = self.chunks.last_mut() {
            let keep = len - full;
            if last.len() > keep {
                Arc::make_mut(last).truncate(keep);
            }
        }
        self.len = len;
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

/// A vector of `T::default()` cells split into copy-on-write chunks whose
/// storage is allocated on first access, for a cache filled through `&self`
/// (the tree-hash cache). Unlike [`ChunkedVec`], chunks at different
/// positions never share storage: a value written into a cell through
/// `&self` belongs to that one position. Clones share chunks, as in
/// [`ChunkedVec`], and [`Self::get_mut`] unshares before returning.
#[derive(Debug, Clone)]
pub(crate) struct LazyChunks<T: Clone + Default> {
    /// Invariant: in a materialized last chunk, cells at or beyond `len`
    /// hold `T::default()`, so growing never exposes a stale value.
    chunks: Vec<Arc<OnceLock<Vec<T>>>>,
    len: usize,
}

impl<T: Clone + Default> LazyChunks<T> {
    /// `len` default cells, no chunk storage yet.
    pub(crate) fn new(len: usize) -> Self {
        let mut v = Self {
            chunks: Vec::new(),
            len: 0,
        };
        v.resize(len);
        v
    }

    /// Cell `i`, allocating its chunk on first access.
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        self.chunks
            .get(i / CHUNK)?
            .get_or_init(|| vec![T::default(); CHUNK])
            .get(i % CHUNK)
    }

    /// Cell `i` for writing; `None` when its chunk was never accessed (all
    /// its cells are still default). The chunk is unshared either way, so
    /// a clone never sees a later fill of it.
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        Arc::make_mut(self.chunks.get_mut(i / CHUNK)?)
            .get_mut()?
            .get_mut(i % CHUNK)
    }

    /// Grows with default cells or shrinks to `len`.
    pub(crate) fn resize(&mut self, len: usize) {
        if len <= self.len {
            self.truncate(len);
            return;
        }
        self.chunks
            .resize_with(len.div_ceil(CHUNK), || Arc::new(OnceLock::new()));
        self.len = len;
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        self.chunks.truncate(len.div_ceil(CHUNK));
        let keep = len % CHUNK;
        if keep != 0
            && let Some(last) = self.chunks.last_mut()
            && last.get().is_some()
            && let Some(cells) = Arc::make_mut(last).get_mut()
        {
            cells.iter_mut().skip(keep).for_each(|c| *c = T::default());
        }
        self.len = len;
    }

    /// Chunks whose storage has been allocated: a test hook.
    #[cfg(test)]
    pub(crate) fn materialized_chunks(&self) -> usize {
        self.chunks.iter().filter(|c| c.get().is_some()).count()
    }
}

impl<T: Clone + PartialEq> PartialEq for ChunkedVec<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

/// Keys per shard a [`ShardedCounts`] aims for: copying a shard on write
/// then costs a few reference-count increments.
const KEYS_PER_SHARD: usize = 16;

/// A multiset of byte strings (public keys) split into shared shards, with
/// the same copy-on-write behaviour as [`ChunkedVec`]. Keys are reference
/// counted, so copying a shard allocates only its table.
#[derive(Debug, Clone)]
pub(crate) struct ShardedCounts {
    shards: Vec<Arc<HashMap<Arc<[u8]>, u32>>>,
}

impl ShardedCounts {
    /// An empty multiset sized for about `capacity` keys.
    pub(crate) fn new(capacity: usize) -> Self {
        let shards = (capacity / KEYS_PER_SHARD).max(1).next_power_of_two();
        // Empty shards share one table until written (`insert` copies it),
        // so a mostly blank tree pays a pointer per shard, not a table.
        let empty = Arc::new(HashMap::new());
        Self {
            shards: vec![empty; shards],
        }
    }

    /// True when the multiset is much smaller than `capacity` needs, so
    /// shards would grow large: the owner should rebuild it.
    pub(crate) fn undersized_for(&self, capacity: usize) -> bool {
        self.shards.len() * KEYS_PER_SHARD * 4 < capacity
    }

    /// Keys are public keys: their last bytes are close to uniform (the
    /// first byte of a SEC1 point is not).
    fn shard(&self, key: &[u8]) -> usize {
        let mut tail = [0u8; 8];
        let take = key.len().min(8);
        tail[8 - take..].copy_from_slice(&key[key.len() - take..]);
        // Shard counts are powers of two.
        (u64::from_be_bytes(tail) as usize) & (self.shards.len() - 1)
    }

    pub(crate) fn insert(&mut self, key: &[u8]) {
        let s = self.shard(key);
        let map = Arc::make_mut(&mut self.shards[s]);
        match map.get_mut(key) {
            Some(n) => *n += 1,
            None => {
                map.insert(Arc::from(key), 1);
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &[u8]) {
        let s = self.shard(key);
        let map = Arc::make_mut(&mut self.shards[s]);
        if let Some(n) = map.get_mut(key) {
            *n -= 1;
            if *n == 0 {
                map.remove(key);
            }
        }
    }

    pub(crate) fn contains(&self, key: &[u8]) -> bool {
        self.shards[self.shard(key)].contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_vec_behaves_like_a_vec() {
        let mut v = ChunkedVec::new(130, 0u32);
        assert_eq!(v.len(), 130);
        *v.get_mut(129).unwrap() = 7;
        let snapshot = v.clone();
        *v.get_mut(129).unwrap() = 8;
        // The clone kept its own copy of the written chunk.
        assert_eq!(snapshot.get(129), Some(&7));
        assert_eq!(v.get(129), Some(&8));
        v.resize(300, 1);
        assert_eq!(v.iter().filter(|x| **x == 1).count(), 170);
        v.truncate(65);
        assert_eq!(v.len(), 65);
        assert_eq!(v.get(65), None);
        assert_eq!(v.iter().count(), 65);
        v.resize(70, 5);
        assert_eq!(v.get(69), Some(&5));
        assert_ne!(v, snapshot);
    }

    #[test]
    fn blank_runs_share_one_chunk_until_written() {
        let mut v = ChunkedVec::new(10 * CHUNK + 5, 0u32);
        // Ten whole chunks share one allocation; the tail has its own.
        assert_eq!(v.distinct_chunks(), 2);
        let snapshot = v.clone();
        *v.get_mut(3 * CHUNK + 1).unwrap() = 9;
        assert_eq!(v.distinct_chunks(), 3);
        // The write copied the shared chunk: no other position changed.
        assert_eq!(v.iter().filter(|x| **x == 9).count(), 1);
        assert_eq!(snapshot.iter().filter(|x| **x == 9).count(), 0);
        assert_eq!(v.get(4 * CHUNK + 1), Some(&0));
        // Growing from a partial chunk tops it up, then shares again.
        v.resize(30 * CHUNK, 1);
        assert_eq!(v.len(), 30 * CHUNK);
        assert_eq!(v.iter().filter(|x| **x == 1).count(), 20 * CHUNK - 5);
        assert_eq!(v.get(11 * CHUNK - 1), Some(&1));
        assert_eq!(v.get(10 * CHUNK + 4), Some(&0));
    }

    #[test]
    fn lazy_chunks_allocate_on_access_and_keep_positions_apart() {
        let mut v: LazyChunks<OnceLock<u32>> = LazyChunks::new(10 * CHUNK + 5);
        assert_eq!(v.materialized_chunks(), 0);
        assert!(v.get_mut(7).is_none());
        assert_eq!(v.get(7).unwrap().get_or_init(|| 7), &7);
        assert_eq!(v.materialized_chunks(), 1);
        // Another position of another chunk is not filled by that.
        assert_eq!(v.get(CHUNK + 7).unwrap().get(), None);
        // A clone shares a chunk until one side writes it.
        let snapshot = v.clone();
        v.get_mut(7).unwrap().take();
        assert_eq!(snapshot.get(7).unwrap().get(), Some(&7));
        assert_eq!(v.get(7).unwrap().get(), None);
        // An untouched chunk unshared by `get_mut` is not filled by the clone.
        let snapshot = v.clone();
        assert!(v.get_mut(5 * CHUNK).is_none());
        snapshot.get(5 * CHUNK).unwrap().get_or_init(|| 1);
        assert_eq!(v.get(5 * CHUNK).unwrap().get(), None);
        // Truncating clears the cut cells, so growing again shows defaults.
        v.get(10 * CHUNK + 4).unwrap().get_or_init(|| 4);
        v.truncate(10 * CHUNK + 2);
        assert!(v.get(10 * CHUNK + 4).is_none());
        v.resize(10 * CHUNK + 5);
        assert_eq!(v.get(10 * CHUNK + 4).unwrap().get(), None);
    }

    #[test]
    fn sharded_counts_count() {
        let mut s = ShardedCounts::new(100);
        s.insert(&[1u8, 2]);
        s.insert(&[1u8, 2]);
        let snapshot = s.clone();
        s.remove(&[1u8, 2]);
        assert!(s.contains(&[1u8, 2]));
        s.remove(&[1u8, 2]);
        assert!(!s.contains(&[1u8, 2]));
        assert!(snapshot.contains(&[1u8, 2]));
        assert!(!s.contains(&[]));
    }
}
