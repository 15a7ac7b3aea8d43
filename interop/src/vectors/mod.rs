//! One module per official test-vector file. Each runner gets the file's
//! top-level JSON array and returns one [`Outcome`] per entry.

pub mod crypto_basics;
pub mod deserialization;
pub mod generate;
mod generate_group;
pub mod hpke_pq;
pub mod key_schedule;
pub mod message_protection;
pub mod messages;
pub mod partial;
pub mod passive_client;
pub mod psk_secret;
pub mod secret_tree;
pub mod transcript_hashes;
pub mod tree_math;
pub mod tree_operations;
pub mod tree_validation;
pub mod treekem;
pub mod util;
pub mod welcome;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Result of one top-level entry of a vector file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every check of the entry passed.
    Pass,
    /// A check failed; the text names the field that differed.
    Fail(String),
    /// Not run; the text says why (e.g. unsupported cipher suite).
    Skip(String),
}

/// How a vector file is run.
#[derive(Clone, Copy)]
pub enum Runner {
    /// Runs one top-level entry.
    Ready(fn(&Value) -> Outcome),
    /// Not implemented yet; every entry is reported skipped with this reason.
    Pending(&'static str),
}

/// A runner for one vector file.
pub struct VectorFile {
    /// File name, e.g. `tree-math.json`.
    pub name: &'static str,
    /// How to run its entries.
    pub runner: Runner,
}

/// Every vector file, in the order the harness reports them: the RFC 9420
/// files, those of draft-ietf-mls-partial (folder `partial`), the official
/// HPKE-PQ vectors (folder `hpke-pq`) and the files arbor-mls generates for
/// the post-quantum suites (folder `pq`, [`generate`]). Built without the
/// feature `pq`, the last two are reported skipped.
pub const FILES: &[VectorFile] = &[
    VectorFile {
        name: "tree-math.json",
        runner: Runner::Ready(tree_math::run),
    },
    VectorFile {
        name: "crypto-basics.json",
        runner: Runner::Ready(crypto_basics::run),
    },
    VectorFile {
        name: "deserialization.json",
        runner: Runner::Ready(deserialization::run),
    },
    VectorFile {
        name: "messages.json",
        runner: Runner::Ready(messages::run),
    },
    VectorFile {
        name: "secret-tree.json",
        runner: Runner::Ready(secret_tree::run),
    },
    VectorFile {
        name: "key-schedule.json",
        runner: Runner::Ready(key_schedule::run),
    },
    VectorFile {
        name: "psk_secret.json",
        runner: Runner::Ready(psk_secret::run),
    },
    VectorFile {
        name: "transcript-hashes.json",
        runner: Runner::Ready(transcript_hashes::run),
    },
    VectorFile {
        name: "message-protection.json",
        runner: Runner::Ready(message_protection::run),
    },
    VectorFile {
        name: "tree-operations.json",
        runner: Runner::Ready(tree_operations::run),
    },
    VectorFile {
        name: "tree-validation.json",
        runner: Runner::Ready(tree_validation::run),
    },
    VectorFile {
        name: "treekem.json",
        runner: Runner::Ready(treekem::run),
    },
    VectorFile {
        name: "welcome.json",
        runner: Runner::Ready(welcome::run),
    },
    VectorFile {
        name: "passive-client-welcome.json",
        runner: Runner::Ready(passive_client::run_welcome),
    },
    VectorFile {
        name: "passive-client-handling-commit.json",
        runner: Runner::Ready(passive_client::run_commits),
    },
    VectorFile {
        name: "passive-client-random.json",
        runner: Runner::Ready(passive_client::run_commits),
    },
    VectorFile {
        name: "partial/test-vector-partial-membership-proofs.json",
        runner: Runner::Ready(partial::membership_proofs::run),
    },
    VectorFile {
        name: "partial/test-vector-partial-tree-operations.json",
        runner: Runner::Ready(partial::tree_operations::run),
    },
    VectorFile {
        name: "partial/test-vector-partial-message-syntax.json",
        runner: Runner::Ready(partial::message_syntax::run),
    },
    VectorFile {
        name: "partial/test-vector-partial-sender-authenticated-messages.json",
        runner: Runner::Ready(partial::sender_authenticated::run),
    },
    VectorFile {
        name: "partial/test-vector-partial-annotated-welcome.json",
        runner: Runner::Ready(partial::annotated_welcome::run),
    },
    VectorFile {
        name: "partial/test-vector-partial-annotated-commit.json",
        runner: Runner::Ready(partial::annotated_commit::run),
    },
    VectorFile {
        name: "partial/test-vector-partial-passive-client-scenarios.json",
        runner: Runner::Ready(partial::passive_client::run),
    },
    VectorFile {
        name: "hpke-pq/test-vectors.json",
        runner: Runner::Ready(hpke_pq::run),
    },
    VectorFile {
        name: "pq/crypto-basics.json",
        runner: Runner::Ready(crypto_basics::run),
    },
    VectorFile {
        name: "pq/key-schedule.json",
        runner: Runner::Ready(key_schedule::run),
    },
    VectorFile {
        name: "pq/message-protection.json",
        runner: Runner::Ready(message_protection::run),
    },
    VectorFile {
        name: "pq/welcome.json",
        runner: Runner::Ready(welcome::run),
    },
    VectorFile {
        name: "pq/treekem.json",
        runner: Runner::Ready(treekem::run),
    },
    VectorFile {
        name: "pq/passive-client-handling-commit.json",
        runner: Runner::Ready(passive_client::run_commits),
    },
];

/// Counts for one file (or the total).
#[derive(Debug, Default, Clone)]
pub struct FileReport {
    /// Entries whose every check passed.
    pub passed: usize,
    /// Entries with a failed check.
    pub failed: usize,
    /// Entries not run.
    pub skipped: usize,
    /// One line per failure or skip reason: `case N: ...`.
    pub notes: Vec<String>,
}

impl FileReport {
    /// Adds another report's counts.
    pub fn add(&mut self, other: &FileReport) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }

    /// Prints the summary line and the notes under it.
    pub fn print(&self, name: &str) {
        println!(
            "{name}: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        );
        for note in &self.notes {
            println!("  {note}");
        }
    }
}

/// The official vectors kept in this repository (`interop/test-vectors`).
pub fn bundled_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors")
}

/// Finds the vector directory: `--dir`, else `$MLS_TEST_VECTORS`, else the
/// copy in this repository ([`bundled_dir`]).
pub fn locate_dir(explicit: Option<PathBuf>) -> Result<PathBuf, String> {
    let dir = explicit
        .or_else(|| std::env::var_os("MLS_TEST_VECTORS").map(PathBuf::from))
        .unwrap_or_else(bundled_dir);
    if dir.is_dir() {
        return Ok(dir);
    }
    Err(format!(
        "test-vector directory not found: {}.\n\
         The official vectors ship in interop/test-vectors; --dir DIR or \
         MLS_TEST_VECTORS=DIR point elsewhere.",
        dir.display()
    ))
}

/// Runs every entry of one file. Skip reasons are folded so a file with 300
/// identical skips prints one note.
pub fn run_file(dir: &Path, name: &str) -> FileReport {
    let mut report = FileReport::default();
    let Some(file) = FILES.iter().find(|f| f.name == name) else {
        report.failed = 1;
        report.notes.push(format!("unknown vector file {name}"));
        return report;
    };
    let text = match std::fs::read_to_string(dir.join(name)) {
        Ok(t) => t,
        Err(e) => {
            report.failed = 1;
            report
                .notes
                .push(format!("cannot read {}: {e}", dir.join(name).display()));
            return report;
        }
    };
    let cases: Vec<Value> = match serde_json::from_str(&text) {
        Ok(Value::Array(a)) => a,
        Ok(_) => {
            report.failed = 1;
            report.notes.push("top level is not a JSON array".into());
            return report;
        }
        Err(e) => {
            report.failed = 1;
            report.notes.push(format!("invalid JSON: {e}"));
            return report;
        }
    };
    let mut skip_reasons: Vec<(String, usize)> = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let result = match file.runner {
            Runner::Ready(run) => run(case),
            Runner::Pending(why) => Outcome::Skip(format!("not implemented yet: {why}")),
        };
        match result {
            Outcome::Pass => report.passed += 1,
            Outcome::Fail(why) => {
                report.failed += 1;
                report.notes.push(format!("case {i}: FAILED: {why}"));
            }
            Outcome::Skip(why) => {
                report.skipped += 1;
                match skip_reasons.iter_mut().find(|(r, _)| *r == why) {
                    Some((_, n)) => *n += 1,
                    None => skip_reasons.push((why, 1)),
                }
            }
        }
    }
    for (why, n) in skip_reasons {
        report.notes.push(format!("skipped {n}: {why}"));
    }
    report
}
