//! Copy-on-write storage that makes cloning a ratchet tree O(n / 64)
//! pointer copies instead of a deep copy: the group engine stages every
//! commit on a clone (stage, then merge), and only the chunks a commit
//! touches (O(log n) of them) are ever copied.

use std::collections::HashMap;
use std::sync::Arc;

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

    /// Grows with copies of `fill` or shrinks to `len`.
    pub(crate) fn resize(&mut self, len: usize, fill: T) {
        if len <= self.len {
            self.truncate(len);
            return;
        }
        while self.len < len {
            if self.len.is_multiple_of(CHUNK) {
                self.chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
            }
            let Some(last) = self.chunks.last_mut() else {
                return;
            };
            let last = Arc::make_mut(last);
            let take = (CHUNK - last.len()).min(len - self.len);
            last.extend(std::iter::repeat_n(fill.clone(), take));
            self.len += take;
        }
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
        Self {
            shards: (0..shards).map(|_| Arc::new(HashMap::new())).collect(),
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
