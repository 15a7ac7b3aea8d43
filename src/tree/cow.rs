//! Copy-on-write storage that makes cloning a ratchet tree O(n / 64)
//! pointer copies instead of a deep copy: the group engine stages every
//! commit on a clone (stage, then merge), and only the chunks a commit
//! touches (O(log n) of them) are ever copied.

use std::collections::HashMap;
use std::hash::Hash;
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

/// Number of shards of a [`ShardedCounts`].
const SHARDS: usize = 64;

/// A multiset of keys split into shared shards, with the same copy-on-write
/// behaviour as [`ChunkedVec`].
#[derive(Debug, Clone)]
pub(crate) struct ShardedCounts<K: Clone + Eq + Hash> {
    shards: Vec<Arc<HashMap<K, u32>>>,
}

impl<K: Clone + Eq + Hash + AsRef<[u8]>> ShardedCounts<K> {
    pub(crate) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Arc::new(HashMap::new())).collect(),
        }
    }

    /// Keys are public keys: their last byte is close to uniform (the first
    /// byte of a SEC1 point is not).
    fn shard(key: &K) -> usize {
        key.as_ref().last().map_or(0, |b| usize::from(*b) % SHARDS)
    }

    pub(crate) fn insert(&mut self, key: K) {
        let s = Self::shard(&key);
        *Arc::make_mut(&mut self.shards[s]).entry(key).or_insert(0) += 1;
    }

    pub(crate) fn remove(&mut self, key: &K) {
        let s = Self::shard(key);
        let map = Arc::make_mut(&mut self.shards[s]);
        if let Some(n) = map.get_mut(key) {
            *n -= 1;
            if *n == 0 {
                map.remove(key);
            }
        }
    }

    pub(crate) fn contains(&self, key: &K) -> bool {
        self.shards[Self::shard(key)].contains_key(key)
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
        let mut s = ShardedCounts::new();
        s.insert(vec![1u8, 2]);
        s.insert(vec![1u8, 2]);
        let snapshot = s.clone();
        s.remove(&vec![1u8, 2]);
        assert!(s.contains(&vec![1u8, 2]));
        s.remove(&vec![1u8, 2]);
        assert!(!s.contains(&vec![1u8, 2]));
        assert!(snapshot.contains(&vec![1u8, 2]));
    }
}
