//! The SQLite databases this process holds open, so that a second open of
//! one fails at once with its cause instead of waiting on SQLite's lock.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::{Error, Result};

/// The canonical paths of the databases held by a live `SqliteStorage`.
static HELD: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// A database held by one storage of this process; released on drop.
#[derive(Debug)]
pub(super) struct Held(PathBuf);

/// Marks the database at `path` (which exists) as held, or fails if a
/// storage of this process already holds it.
pub(super) fn hold(path: &Path) -> Result<Held> {
    let canonical = std::fs::canonicalize(path).map_err(|e| {
        Error::Storage(format!(
            "cannot resolve the path of the database {}: {e}",
            path.display()
        ))
    })?;
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    if !held
        .get_or_insert_with(HashSet::new)
        .insert(canonical.clone())
    {
        return Err(Error::Misuse(format!(
            "the database {} is already open in this process: another Client (or a Group \
             that outlived its Client, which keeps the storage open) holds it. A database \
             is held by one Client at a time: drop the other Client and all its Groups \
             first, or share that Client",
            path.display()
        )));
    }
    Ok(Held(canonical))
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = held.as_mut() {
            set.remove(&self.0);
        }
    }
}
