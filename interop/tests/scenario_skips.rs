//! When the scenario runner skips and when it fails: a stack that does not
//! offer the cipher suite skips a config, one that fails to say which
//! suites it offers fails it; and a run's skips are checked against the
//! list of expected skips in both directions.
#![allow(clippy::unwrap_used)]

use arbor_interop::grpc::Endpoint;
use arbor_interop::grpc::proto::{SupportedCiphersuitesRequest, SupportedCiphersuitesResponse};
use arbor_interop::scenarios::expected_skips::{SkipCheck, parse};
use arbor_interop::scenarios::{Assignment, Skip, config, play_config};
use tonic::Status;

/// Answers only the suite query, as told.
struct Suites(Result<Vec<u32>, Status>);

impl Endpoint for Suites {
    fn supported_ciphersuites(
        &mut self,
        _: SupportedCiphersuitesRequest,
    ) -> Result<SupportedCiphersuitesResponse, Status> {
        self.0
            .clone()
            .map(|ciphersuites| SupportedCiphersuitesResponse { ciphersuites })
    }

    fn stack_name(&self) -> String {
        "stub".into()
    }
}

fn welcome_join() -> config::Config {
    config::load(&config::default_dir(), "welcome_join.json").unwrap()
}

#[test]
fn an_error_asking_for_the_suites_fails_the_config() {
    let config = welcome_join();
    let mut endpoints: Vec<Box<dyn Endpoint>> = vec![Box::new(Suites(Err(Status::unavailable(
        "connection reset",
    ))))];
    let played = play_config(&mut endpoints, &config, Assignment::All(0), 1, false);
    assert_eq!(
        played.totals.failed,
        config.scripts.len(),
        "{}",
        played.report
    );
    assert_eq!(played.totals.skipped, 0, "{}", played.report);
    assert!(
        played.report.contains(
            "FAIL no_path_secret: stub: SupportedCiphersuites: Unavailable: connection reset"
        ),
        "{}",
        played.report
    );
}

#[test]
fn a_suite_not_offered_skips_the_config_naming_the_stack() {
    let config = welcome_join();
    let mut endpoints: Vec<Box<dyn Endpoint>> = vec![Box::new(Suites(Ok(vec![2, 3])))];
    let played = play_config(&mut endpoints, &config, Assignment::All(0), 1, false);
    assert_eq!(
        played.totals.skipped,
        config.scripts.len(),
        "{}",
        played.report
    );
    let expected = Skip {
        step: None,
        role: "stub: SupportedCiphersuites".into(),
        reason: "does not offer cipher suite 1".into(),
    };
    assert!(
        played.skips.iter().all(|(_, s)| *s == expected),
        "{:?}",
        played.skips
    );
}

const LIST: &str = "\
# comment
ci   | a.json | s1 | x as alice: Commit | x 1.0: no commit API
full | a.json | s2 | x as bob: Commit   | x 1.0: no commit API # trailing comment
";

fn skip(role: &str, reason: &str) -> Skip {
    Skip {
        step: Some("step 3 (fullCommit)".into()),
        role: role.into(),
        reason: reason.into(),
    }
}

#[test]
fn every_skip_must_be_listed_and_every_listed_skip_met() {
    let commit_gap = "x 1.0: no commit API (checked: everything)";
    // Exactly the listed skips: the reason may go on after the listed start.
    let mut check = SkipCheck::new(parse(LIST).unwrap());
    check.record(
        "a.json",
        "s1",
        &skip("x as alice: Commit", commit_gap),
        "run",
    );
    check.verdict(false).unwrap();
    // The full matrix also covers the `full` entry.
    let err = check.verdict(true).unwrap_err();
    assert!(
        err.contains("1 expected skips did not occur") && err.contains("line 3"),
        "{err}"
    );
    check.record("a.json", "s2", &skip("x as bob: Commit", commit_gap), "run");
    check.verdict(true).unwrap();
    // ... but a default run that meets it has it misfiled.
    let err = check.verdict(false).unwrap_err();
    assert!(
        err.contains("marked `full` occurred in the default run"),
        "{err}"
    );

    // A skip in another script, another role or for another reason is
    // not the listed one.
    for (script, role, reason) in [
        ("s3", "x as alice: Commit", commit_gap),
        ("s1", "y as alice: Commit", commit_gap),
        ("s1", "x as alice: Commit", "x 1.0: commit refused"),
    ] {
        let mut check = SkipCheck::new(parse(LIST).unwrap());
        check.record(
            "a.json",
            "s1",
            &skip("x as alice: Commit", commit_gap),
            "run",
        );
        check.record("a.json", script, &skip(role, reason), "a.json [all x]");
        let err = check.verdict(false).unwrap_err();
        assert!(
            err.contains("1 skips are not in the expected list")
                && err.contains(&format!("ci | a.json | {script} | {role} | {reason}"))
                && err.contains("in a.json [all x]"),
            "{err}"
        );
    }

    // A listed skip of the run's matrix that did not occur.
    let check = SkipCheck::new(parse(LIST).unwrap());
    let err = check.verdict(false).unwrap_err();
    assert!(err.contains("line 2: ci | a.json | s1"), "{err}");
    assert!(!err.contains("line 3"), "{err}");
}

#[test]
fn the_list_is_read_strictly() {
    for (bad, why) in [
        ("ci | a.json | s1 | role", "expected `run | config"),
        (
            "often | a.json | s1 | role | reason",
            "run is `ci` or `full`",
        ),
        ("ci | a.json |  | role | reason", "an empty field"),
        (
            "ci | a.json | s1 | role | one\nci | a.json | s1 | role | two",
            "line 2 lists the skip of line 1 again",
        ),
    ] {
        let err = parse(bad).unwrap_err();
        assert!(err.contains(why), "{bad}: {err}");
    }
}
