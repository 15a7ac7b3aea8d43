//! A database path for a test, cleaned up whatever the outcome.

/// A database path in the temporary directory whose files (the database,
/// its WAL and batch log) are removed when it is created and dropped, so
/// no run, passing or failing, leaves them behind.
pub(crate) struct TempDb(pub(crate) std::path::PathBuf);

impl TempDb {
    /// `arbor-<name>-<pid>.db` in the temporary directory, removed first.
    pub(crate) fn new(name: &str) -> Self {
        let db = Self(std::env::temp_dir().join(format!("arbor-{name}-{}.db", std::process::id())));
        db.remove();
        db
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-log"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}
