//! The batches [`SqliteStorage`](super::SqliteStorage) has logged but not
//! yet folded into its records: their row format, and the overlay that
//! answers reads with them applied.

use std::collections::BTreeMap;

use zeroize::{Zeroize, Zeroizing};

use super::{WriteBatch, prefix_range};

/// The log row format's version written (first byte of every row).
pub(super) const LOG_VERSION: u8 = 2;

/// The first row format (full keys), still read: rows of the `log` table
/// of older databases, and log file records written before version 2.
const LOG_VERSION_FULL_KEYS: u8 = 1;

const DELETE: u8 = 0;
const PUT: u8 = 1;
const DELETE_PREFIX: u8 = 2;

/// One logged change.
pub(super) enum Op {
    Put(Vec<u8>, Zeroizing<Vec<u8>>),
    Delete(Vec<u8>),
    DeletePrefix(Vec<u8>),
}

fn put_bytes(row: &mut Vec<u8>, bytes: &[u8]) {
    row.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    row.extend_from_slice(bytes);
}

/// How many leading bytes `key` shares with `previous` (at most what the
/// row's 2-byte field holds).
fn shared_prefix(previous: &[u8], key: &[u8]) -> usize {
    let n = previous.len().min(key.len()).min(u16::MAX as usize);
    // Eight bytes at a time: a merge compares ~20 keys of ~80 bytes.
    let mut i = 0;
    while i + 8 <= n && previous[i..i + 8] == key[i..i + 8] {
        i += 8;
    }
    while i < n && previous[i] == key[i] {
        i += 1;
    }
    i
}

/// A key as the row stores it: the length of the prefix it shares with the
/// key before it (2 bytes), then the rest with its 4-byte length.
fn put_key(row: &mut Vec<u8>, previous: &[u8], key: &[u8]) {
    let shared = shared_prefix(previous, key);
    row.extend_from_slice(&(shared as u16).to_be_bytes());
    put_bytes(row, &key[shared..]);
}

/// A log row alone (see [`encode_row_within`]).
#[cfg(test)]
pub(super) fn encode_row(batch: &WriteBatch) -> Zeroizing<Vec<u8>> {
    encode_row_within(batch, 0, 0)
}

/// A log row after `head` zero bytes, in a buffer with room for `tail`
/// more (the log file frames the row in place: one buffer of secrets to
/// fill and zeroize instead of two).
///
/// The row: [`LOG_VERSION`], then per op a tag byte (`0` delete, `1` put,
/// `2` delete prefix), the key or prefix, and for a put the value with its
/// 4-byte big-endian length. A key is stored as the number of leading
/// bytes it shares with the op's before it (2 bytes big-endian; 0 for the
/// first) and the rest, with its 4-byte length: a group's keys share a
/// 67-byte prefix, which was a quarter of a merge's row. The batch's
/// prefix deletes come first, as [`WriteBatch`] applies them.
pub(super) fn encode_row_within(
    batch: &WriteBatch,
    head: usize,
    tail: usize,
) -> Zeroizing<Vec<u8>> {
    let size = head
        + tail
        + 1
        + batch
            .delete_prefixes
            .iter()
            .map(|p| 7 + p.len())
            .sum::<usize>()
        + batch
            .ops
            .iter()
            .map(|(k, v)| 11 + k.len() + v.as_ref().map_or(0, Vec::len))
            .sum::<usize>();
    let mut row = Zeroizing::new(Vec::with_capacity(size));
    row.resize(head, 0);
    row.push(LOG_VERSION);
    let mut previous: &[u8] = &[];
    for prefix in &batch.delete_prefixes {
        row.push(DELETE_PREFIX);
        put_key(&mut row, previous, prefix);
        previous = prefix;
    }
    for (key, value) in &batch.ops {
        row.push(if value.is_some() { PUT } else { DELETE });
        put_key(&mut row, previous, key);
        if let Some(v) = value {
            put_bytes(&mut row, v);
        }
        previous = key;
    }
    row
}

/// Decodes a log row (of either version) strictly: `None` on any
/// malformation, including a shared prefix longer than the key before.
pub(super) fn decode_row(row: &[u8]) -> Option<Vec<Op>> {
    let (&version, mut rest) = row.split_first()?;
    let shares = match version {
        LOG_VERSION => true,
        LOG_VERSION_FULL_KEYS => false,
        _ => return None,
    };
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let mut ops = Vec::new();
    let mut previous = Vec::new();
    while let Some(tag) = take(1) {
        let tag = tag[0];
        let shared = if shares {
            u16::from_be_bytes(take(2)?.try_into().ok()?) as usize
        } else {
            0
        };
        let len = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
        let rest_of_key = take(len)?;
        let mut key = Vec::with_capacity(shared + len);
        key.extend_from_slice(previous.get(..shared)?);
        key.extend_from_slice(rest_of_key);
        previous.clone_from(&key);
        let op = match tag {
            DELETE => Op::Delete(key),
            DELETE_PREFIX => Op::DeletePrefix(key),
            PUT => {
                let len = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
                Op::Put(key, Zeroizing::new(take(len)?.to_vec()))
            }
            _ => return None,
        };
        ops.push(op);
    }
    Some(ops)
}

/// What the overlay says of a key.
pub(super) enum Lookup<'a> {
    /// Logged with this value.
    Value(&'a [u8]),
    /// Deleted by a logged batch.
    Deleted,
    /// Not touched since the fold: the records table has it.
    Stored,
}

/// The logged batches applied in order, over the records table.
#[derive(Default)]
pub(super) struct Overlay {
    /// Keys put (`Some`) or deleted (`None`) by logged batches.
    entries: BTreeMap<Vec<u8>, Option<Zeroizing<Vec<u8>>>>,
    /// Prefixes deleted by logged batches: they hide the records table's
    /// keys under them (later puts are in `entries`).
    hidden: Vec<Vec<u8>>,
}

impl Overlay {
    pub(super) fn apply(&mut self, op: Op) {
        match op {
            Op::Put(key, value) => {
                self.entries.insert(key, Some(value));
            }
            Op::Delete(key) => {
                self.entries.insert(key, None);
            }
            Op::DeletePrefix(prefix) => {
                let under: Vec<Vec<u8>> = self.range(&prefix).map(|(k, _)| k.clone()).collect();
                for key in under {
                    self.entries.remove(&key);
                }
                if !self.hides(&prefix) {
                    self.hidden.push(prefix);
                }
            }
        }
    }

    fn hides(&self, key: &[u8]) -> bool {
        self.hidden.iter().any(|p| key.starts_with(p))
    }

    fn range(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = (&Vec<u8>, &Option<Zeroizing<Vec<u8>>>)> {
        self.entries.range(prefix_range(prefix))
    }

    pub(super) fn lookup(&self, key: &[u8]) -> Lookup<'_> {
        match self.entries.get(key) {
            Some(Some(v)) => Lookup::Value(v),
            Some(None) => Lookup::Deleted,
            None if self.hides(key) => Lookup::Deleted,
            None => Lookup::Stored,
        }
    }

    /// `stored` (the records table's rows under `prefix`, by key) with the
    /// logged batches applied.
    ///
    /// Values dropped on the way (hidden or replaced) are zeroized. Only the
    /// hidden prefixes that overlap `prefix` are checked against each row,
    /// so a scan pays for the deletions under it, not for every one logged.
    pub(super) fn scan(
        &self,
        prefix: &[u8],
        mut stored: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        if self.hides(prefix) {
            stored.iter_mut().for_each(|(_, v)| v.zeroize());
            stored.clear();
        }
        let inner: Vec<&Vec<u8>> = self
            .hidden
            .iter()
            .filter(|p| p.starts_with(prefix))
            .collect();
        if !inner.is_empty() {
            stored.retain_mut(|(k, v)| {
                let keep = !inner.iter().any(|p| k.starts_with(p));
                if !keep {
                    v.zeroize();
                }
                keep
            });
        }
        if self.range(prefix).next().is_none() {
            return stored;
        }
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = stored.into_iter().collect();
        for (key, value) in self.range(prefix) {
            let dropped = match value {
                Some(v) => merged.insert(key.clone(), v.to_vec()),
                None => merged.remove(key),
            };
            if let Some(mut old) = dropped {
                old.zeroize();
            }
        }
        merged.into_iter().collect()
    }

    /// The deleted prefixes, to apply to the records table first.
    pub(super) fn hidden(&self) -> &[Vec<u8>] {
        &self.hidden
    }

    /// The puts and deletes, to apply after [`Self::hidden`].
    pub(super) fn entries(&self) -> impl Iterator<Item = (&Vec<u8>, Option<&[u8]>)> {
        self.entries
            .iter()
            .map(|(k, v)| (k, v.as_ref().map(|v| v.as_slice())))
    }

    /// Empties the overlay (values are zeroized as they drop).
    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.hidden.clear();
    }
}
