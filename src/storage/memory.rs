//! [`MemoryStorage`]: a [`Storage`] in a sorted map, for tests and for
//! clients that need no persistence.

use std::collections::BTreeMap;

use zeroize::Zeroize;

use super::{Storage, WriteBatch, check_expected, prefix_range};
use crate::Result;

/// Records in memory; lost when dropped. Values are zeroized when
/// overwritten, deleted or dropped (they hold secrets).
#[derive(Default)]
pub struct MemoryStorage {
    records: BTreeMap<Vec<u8>, Vec<u8>>,
    bytes_written: u64,
}

impl std::fmt::Debug for MemoryStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStorage")
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Total bytes of keys and values written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// How many records are stored.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn range(&self, prefix: &[u8]) -> impl Iterator<Item = (&Vec<u8>, &Vec<u8>)> {
        self.records.range(prefix_range(prefix))
    }
}

impl Drop for MemoryStorage {
    fn drop(&mut self) {
        for v in self.records.values_mut() {
            v.zeroize();
        }
    }
}

impl Storage for MemoryStorage {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.records.get(key).cloned())
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(self
            .range(prefix)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn write(&mut self, mut batch: WriteBatch) -> Result<()> {
        self.bytes_written += batch.bytes_written() as u64;
        for prefix in std::mem::take(&mut batch.delete_prefixes) {
            let keys: Vec<Vec<u8>> = self.range(&prefix).map(|(k, _)| k.clone()).collect();
            for k in keys {
                if let Some(mut v) = self.records.remove(&k) {
                    v.zeroize();
                }
            }
        }
        for (key, value) in std::mem::take(&mut batch.ops) {
            let old = match value {
                Some(v) => self.records.insert(key, v),
                None => self.records.remove(&key),
            };
            if let Some(mut old) = old {
                old.zeroize();
            }
        }
        Ok(())
    }

    fn write_if(&mut self, key: &[u8], expected: Option<&[u8]>, batch: WriteBatch) -> Result<()> {
        // `&mut self` excludes every other writer of this map.
        check_expected(key, self.records.get(key).map(Vec::as_slice), expected)?;
        self.write(batch)
    }
}
