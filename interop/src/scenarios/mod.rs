//! The scenario runner: plays the MLS working group's interop configs
//! ([`config`]) across [`Endpoint`]s in assignments of implementations to
//! actors, for each cipher suite and handshake mode, and reports one line
//! per config × assignment × suite × mode.

pub mod config;
pub mod expected_skips;
pub mod play;
pub mod skip;

use std::fmt::Write as _;

use serde_json::Value;

use crate::grpc::Endpoint;
use crate::grpc::proto::SupportedCiphersuitesRequest;
pub use play::{Outcome, Play};
pub use skip::Skip;

/// How actors are spread over the implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    /// Every actor on implementation `0`.
    All(usize),
    /// The first actor of the script (the group's creator) on `0`, every
    /// other actor (joiners, committers, external joiners and signers) on
    /// `1`.
    CreatorAndRest(usize, usize),
    /// Actors alternate between `0` and `1` in order of first appearance,
    /// the creator on `0`: members of both kinds commit, join and process.
    Alternate(usize, usize),
}

impl Assignment {
    /// Every assignment over `n` implementations: each alone, and each
    /// ordered pair in both mixed patterns.
    pub fn all(n: usize) -> Vec<Assignment> {
        let mut out: Vec<Assignment> = (0..n).map(Assignment::All).collect();
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    out.push(Assignment::CreatorAndRest(a, b));
                    out.push(Assignment::Alternate(a, b));
                }
            }
        }
        out
    }

    /// Which implementation plays the actor at `position` (order of first
    /// appearance in the script).
    pub fn implementation(self, position: usize) -> usize {
        match self {
            Assignment::All(a) => a,
            Assignment::CreatorAndRest(a, b) => {
                if position == 0 {
                    a
                } else {
                    b
                }
            }
            Assignment::Alternate(a, b) => {
                if position.is_multiple_of(2) {
                    a
                } else {
                    b
                }
            }
        }
    }

    /// A label with the implementations' names.
    pub fn label(self, names: &[String]) -> String {
        let n = |i: usize| names.get(i).cloned().unwrap_or_else(|| format!("#{i}"));
        match self {
            Assignment::All(a) => format!("all {}", n(a)),
            Assignment::CreatorAndRest(a, b) => format!("{} creates, {} rest", n(a), n(b)),
            Assignment::Alternate(a, b) => format!("{}/{} alternate", n(a), n(b)),
        }
    }

    /// Whether implementation `i` plays a part.
    pub fn involves(self, i: usize) -> bool {
        match self {
            Assignment::All(a) => a == i,
            Assignment::CreatorAndRest(a, b) | Assignment::Alternate(a, b) => a == i || b == i,
        }
    }
}

/// Actor names of a script in order of first appearance.
pub fn actors(steps: &[Value]) -> Vec<String> {
    const SINGLE: &[&str] = &[
        "actor",
        "joiner",
        "signer",
        "member",
        "proposer",
        "committer",
        "welcomer",
        "removed",
    ];
    const LISTS: &[&str] = &["members", "joiners", "clients"];
    let mut out: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    };
    for step in steps {
        for key in SINGLE {
            if let Some(name) = step.get(*key).and_then(Value::as_str) {
                add(name);
            }
        }
        for key in LISTS {
            if let Some(list) = step.get(*key).and_then(Value::as_array) {
                for name in list.iter().filter_map(Value::as_str) {
                    add(name);
                }
            }
        }
    }
    out
}

/// Totals of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Scripts that passed.
    pub passed: usize,
    /// Scripts that failed.
    pub failed: usize,
    /// Scripts skipped (a stack lacks a feature).
    pub skipped: usize,
}

impl Totals {
    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::Skipped(_) => self.skipped += 1,
        }
    }

    /// Adds `other` to these totals.
    pub fn add(&mut self, other: Totals) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// One config played in one assignment, suite and mode.
#[derive(Debug, Clone)]
pub struct Played {
    /// How its scripts ended.
    pub totals: Totals,
    /// The summary line, then one indented line per skip or failure.
    pub report: String,
    /// The skipped scripts, by name, with why.
    pub skips: Vec<(String, Skip)>,
}

/// Plays every script of `config` in one assignment, suite and mode. A
/// stack that does not offer `suite` skips the config; one that fails to
/// say which suites it offers fails it.
pub fn play_config(
    endpoints: &mut [Box<dyn Endpoint>],
    config: &config::Config,
    assignment: Assignment,
    suite: u32,
    encrypt: bool,
) -> Played {
    let names: Vec<String> = endpoints.iter().map(|e| e.stack_name()).collect();
    let mut totals = Totals::default();
    let mut details = String::new();
    let mut skips = Vec::new();
    // Why no script can run, if none can.
    let mut blocked: Option<Outcome> = None;
    for (i, e) in endpoints.iter_mut().enumerate() {
        if !assignment.involves(i) {
            continue;
        }
        let role = format!("{}: SupportedCiphersuites", e.stack_name());
        match e.supported_ciphersuites(SupportedCiphersuitesRequest {}) {
            Ok(r) if r.ciphersuites.contains(&suite) => {}
            Ok(_) => {
                blocked.get_or_insert(Outcome::Skipped(Skip {
                    step: None,
                    role,
                    reason: format!("does not offer cipher suite {suite}"),
                }));
            }
            Err(s) => {
                // An error is no answer: it says nothing about the suite.
                blocked = Some(Outcome::Failed(format!(
                    "{role}: {:?}: {}",
                    s.code(),
                    s.message()
                )));
                break;
            }
        }
    }
    for (script, steps) in &config.scripts {
        let outcome = match &blocked {
            Some(why) => why.clone(),
            None => {
                let order = actors(steps);
                let assign = |actor: &str| {
                    let position = order.iter().position(|n| n == actor).unwrap_or(0);
                    assignment.implementation(position)
                };
                Play::new(endpoints, &assign, suite, encrypt).run(steps)
            }
        };
        totals.count(&outcome);
        match outcome {
            Outcome::Passed => {}
            Outcome::Skipped(why) => {
                let _ = writeln!(details, "    SKIP {script}: {why}");
                skips.push((script.clone(), why));
            }
            Outcome::Failed(why) => {
                let _ = writeln!(details, "    FAIL {script}: {why}");
            }
        }
    }
    let mode = if encrypt { "encrypted" } else { "public" };
    let report = format!(
        "{} [{}] suite {suite} {mode}: {totals}\n{details}",
        config.name,
        assignment.label(&names)
    );
    Played {
        totals,
        report,
        skips,
    }
}
