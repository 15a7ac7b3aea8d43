//! One module per official test-vector file. Each runner gets the file's
//! top-level JSON array and returns one [`Outcome`] per entry.

mod crypto_basics;
mod deserialization;
mod key_schedule;
mod message_protection;
mod messages;
mod psk_secret;
mod secret_tree;
mod transcript_hashes;
mod tree_math;
pub mod util;

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

/// A runner for one vector file.
pub struct VectorFile {
    /// File name, e.g. `tree-math.json`.
    pub name: &'static str,
    /// Runs one entry.
    pub run: fn(&Value) -> Outcome,
}

/// Every official vector file, in the order the harness reports them.
pub const FILES: &[VectorFile] = &[
    VectorFile {
        name: "tree-math.json",
        run: not_implemented("tree math"),
    },
    VectorFile {
        name: "crypto-basics.json",
        run: not_implemented("crypto"),
    },
    VectorFile {
        name: "deserialization.json",
        run: not_implemented("codec"),
    },
    VectorFile {
        name: "messages.json",
        run: not_implemented("codec"),
    },
    VectorFile {
        name: "secret-tree.json",
        run: not_implemented("secret tree"),
    },
    VectorFile {
        name: "key-schedule.json",
        run: not_implemented("key schedule"),
    },
    VectorFile {
        name: "psk_secret.json",
        run: not_implemented("psk"),
    },
    VectorFile {
        name: "transcript-hashes.json",
        run: not_implemented("transcript"),
    },
    VectorFile {
        name: "message-protection.json",
        run: not_implemented("framing"),
    },
    VectorFile {
        name: "tree-operations.json",
        run: not_implemented("ratchet tree (issue 3)"),
    },
    VectorFile {
        name: "tree-validation.json",
        run: not_implemented("ratchet tree (issue 3)"),
    },
    VectorFile {
        name: "treekem.json",
        run: not_implemented("TreeKEM (issue 3)"),
    },
    VectorFile {
        name: "welcome.json",
        run: not_implemented("Welcome (issue 3)"),
    },
    VectorFile {
        name: "passive-client-welcome.json",
        run: not_implemented("group engine (issue 4)"),
    },
    VectorFile {
        name: "passive-client-handling-commit.json",
        run: not_implemented("group engine (issue 4)"),
    },
    VectorFile {
        name: "passive-client-random.json",
        run: not_implemented("group engine (issue 4)"),
    },
];

const fn not_implemented(_what: &'static str) -> fn(&Value) -> Outcome {
    |_| Outcome::Skip("not implemented yet".into())
}

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

/// Finds the vector directory: `--dir`, else `$MLS_TEST_VECTORS`, else
/// `../shared/mls-test-vectors` next to the repository.
pub fn locate_dir(explicit: Option<PathBuf>) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(d) => vec![d],
        None => match std::env::var_os("MLS_TEST_VECTORS") {
            Some(d) => vec![PathBuf::from(d)],
            None => {
                vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/mls-test-vectors")]
            }
        },
    };
    for c in &candidates {
        if c.is_dir() {
            return Ok(c.clone());
        }
    }
    Err(format!(
        "test-vector directory not found (tried {}).\n\
         Get the official vectors from the mlswg/mls-implementations repository, folder \
         test-vectors, and pass --dir DIR or set MLS_TEST_VECTORS=DIR.",
        candidates
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
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
        match (file.run)(case) {
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
