//! The skips a scenario run expects, read from a list kept in the
//! repository (`interop/tests/expected_skips.txt`), and the check of a run
//! against it: a skip not on the list fails the run (a capability
//! disappeared, or a stack started refusing something), and so does a
//! listed skip the run covers but did not meet (a capability appeared, or
//! the run no longer reaches the step).
//!
//! One entry a line, `run | config | script | role | reason`; `#` starts a
//! comment. `run` is `ci` for a skip of the default matrix (which the full
//! one plays too) and `full` for one only `ARBOR_SCENARIOS_FULL=1` plays.
//! `role` is [`Skip::role`] as reported; `reason` is the start of the
//! stack's message.

use std::fmt::Write as _;

use super::skip::Skip;

/// One listed skip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedSkip {
    /// Its line in the list (from 1).
    pub line: usize,
    /// Only the full matrix plays it.
    pub full_only: bool,
    /// The config file, e.g. `branch.json`.
    pub config: String,
    /// The script's name in the config.
    pub script: String,
    /// `<stack> as <actor>: <RPC>`, as in [`Skip::role`].
    pub role: String,
    /// The start of the stack's message.
    pub reason: String,
}

impl ExpectedSkip {
    fn matches(&self, config: &str, script: &str, skip: &Skip) -> bool {
        self.config == config
            && self.script == script
            && self.role == skip.role
            && skip.reason.starts_with(&self.reason)
    }
}

impl std::fmt::Display for ExpectedSkip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let run = if self.full_only { "full" } else { "ci" };
        write!(
            f,
            "{run} | {} | {} | {} | {}",
            self.config, self.script, self.role, self.reason
        )
    }
}

/// Parses the list.
pub fn parse(text: &str) -> Result<Vec<ExpectedSkip>, String> {
    let mut out: Vec<ExpectedSkip> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let fields: Vec<&str> = content.splitn(5, '|').map(str::trim).collect();
        let [run, config, script, role, reason] = fields[..] else {
            return Err(format!(
                "line {line}: expected `run | config | script | role | reason`: {raw}"
            ));
        };
        let full_only = match run {
            "ci" => false,
            "full" => true,
            other => return Err(format!("line {line}: run is `ci` or `full`, not {other:?}")),
        };
        if [config, script, role, reason].iter().any(|f| f.is_empty()) {
            return Err(format!("line {line}: an empty field: {raw}"));
        }
        let entry = ExpectedSkip {
            line,
            full_only,
            config: config.to_string(),
            script: script.to_string(),
            role: role.to_string(),
            reason: reason.to_string(),
        };
        if let Some(earlier) = out.iter().find(|e| {
            (&e.config, &e.script, &e.role) == (&entry.config, &entry.script, &entry.role)
        }) {
            return Err(format!(
                "line {line} lists the skip of line {} again",
                earlier.line
            ));
        }
        out.push(entry);
    }
    Ok(out)
}

/// A run's skips checked against the list.
#[derive(Debug)]
pub struct SkipCheck {
    expected: Vec<ExpectedSkip>,
    /// How many skips each entry matched.
    seen: Vec<usize>,
    /// Skips no entry matches, each once, with the runs they happened in.
    unexpected: Vec<(ExpectedSkip, Vec<String>)>,
}

impl SkipCheck {
    /// Checks against `expected`.
    pub fn new(expected: Vec<ExpectedSkip>) -> Self {
        let seen = vec![0; expected.len()];
        Self {
            expected,
            seen,
            unexpected: Vec::new(),
        }
    }

    /// Records that `script` of `config` skipped; `run` says where (the
    /// report's summary line).
    pub fn record(&mut self, config: &str, script: &str, skip: &Skip, run: &str) {
        match self
            .expected
            .iter()
            .position(|e| e.matches(config, script, skip))
        {
            Some(i) => self.seen[i] += 1,
            None => {
                let entry = ExpectedSkip {
                    line: 0,
                    full_only: false,
                    config: config.to_string(),
                    script: script.to_string(),
                    role: skip.role.clone(),
                    reason: skip.reason.clone(),
                };
                match self.unexpected.iter_mut().find(|(e, _)| *e == entry) {
                    Some((_, runs)) => runs.push(run.to_string()),
                    None => self.unexpected.push((entry, vec![run.to_string()])),
                }
            }
        }
    }

    /// Whether the run met exactly the expected skips: every skip is
    /// listed, every entry of the run's matrix (`full`: the full matrix,
    /// else the default one) was met, and no entry marked `full` was met
    /// by a default run. The error names each offending skip and entry.
    pub fn verdict(&self, full: bool) -> Result<(), String> {
        let mut msg = String::new();
        if !self.unexpected.is_empty() {
            let _ = writeln!(
                msg,
                "{} skips are not in the expected list (if the stack really lacks the feature, \
                 add the line, with `full` if only the full matrix plays it):",
                self.unexpected.len()
            );
            for (entry, runs) in &self.unexpected {
                let _ = writeln!(msg, "  {entry}\n      in {}", runs[0]);
                if runs.len() > 1 {
                    let _ = writeln!(msg, "      and {} more runs", runs.len() - 1);
                }
            }
        }
        let missing: Vec<&ExpectedSkip> = self
            .expected
            .iter()
            .zip(&self.seen)
            .filter(|(e, n)| **n == 0 && (full || !e.full_only))
            .map(|(e, _)| e)
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(
                msg,
                "{} expected skips did not occur (the stack may now do it: remove the line; or \
                 the run no longer reaches the step: find out why):",
                missing.len()
            );
            for e in missing {
                let _ = writeln!(msg, "  line {}: {e}", e.line);
            }
        }
        if !full {
            let misplaced: Vec<&ExpectedSkip> = self
                .expected
                .iter()
                .zip(&self.seen)
                .filter(|(e, n)| **n > 0 && e.full_only)
                .map(|(e, _)| e)
                .collect();
            if !misplaced.is_empty() {
                let _ = writeln!(
                    msg,
                    "{} skips marked `full` occurred in the default run (mark them `ci`):",
                    misplaced.len()
                );
                for e in misplaced {
                    let _ = writeln!(msg, "  line {}: {e}", e.line);
                }
            }
        }
        if msg.is_empty() { Ok(()) } else { Err(msg) }
    }
}
