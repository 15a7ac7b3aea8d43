//! How far inputs get, for the figures in `docs/SECURITY.md`: with
//! `ARBOR_FUZZ_STATS=<file>` set, a stateful target counts, per input, the
//! outcomes it reached and rewrites `<file>` after every input with one
//! `<outcome> <inputs>` line each (libFuzzer ends the process with `exit`,
//! so a summary kept only in memory would be lost). A process starts from
//! the counts already in the file, so runs, and the children of
//! `-fork=1`, add up until the file is deleted. Unset, it costs one check
//! of a cached flag per input.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
static COUNTS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

fn path() -> Option<&'static PathBuf> {
    PATH.get_or_init(|| std::env::var_os("ARBOR_FUZZ_STATS").map(PathBuf::from))
        .as_ref()
}

/// The outcomes one input reached; recorded when dropped, so an input that
/// returns early is counted too.
#[derive(Default)]
pub struct Outcomes {
    reached: Vec<&'static str>,
}

impl Outcomes {
    /// Notes that the input reached `outcome` (counted once per input).
    pub fn hit(&mut self, outcome: &'static str) {
        if path().is_some() && !self.reached.contains(&outcome) {
            self.reached.push(outcome);
        }
    }
}

impl Drop for Outcomes {
    fn drop(&mut self) {
        let Some(path) = path() else {
            return;
        };
        let mut counts = COUNTS.lock().unwrap_or_else(|e| e.into_inner());
        if counts.is_empty() {
            *counts = read(path);
        }
        *counts.entry("inputs".to_owned()).or_default() += 1;
        for outcome in &self.reached {
            *counts.entry((*outcome).to_owned()).or_default() += 1;
        }
        let text: String = counts.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
        // Stats are a measurement aid: a failed write must not stop fuzzing.
        let _ = std::fs::write(path, text);
    }
}

/// The counts in `path`, if it holds any.
fn read(path: &PathBuf) -> BTreeMap<String, u64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (name, count) = line.split_once(' ')?;
            Some((name.to_owned(), count.parse().ok()?))
        })
        .collect()
}
