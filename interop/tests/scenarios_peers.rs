//! The scenario runner across arbor, openmls and mls-rs in-process
//! (feature `peers`). By default (CI): every config but deep_random in every
//! assignment that involves arbor, suite 1, both handshake modes, and
//! deep_random with arbor alternating with each peer, public handshakes.
//! With `ARBOR_SCENARIOS_FULL=1`: every config in every assignment, suites
//! 1-3, both modes.
//!
//! No failures are allowed, and the skips must be exactly those listed in
//! `expected_skips.txt` (config, script, which stack in which part, and
//! why): a skip not listed fails the run, so does a listed one of the
//! run's matrix that did not occur.
#![allow(clippy::unwrap_used)]

use arbor_interop::grpc::{ArborEndpoint, Endpoint};
use arbor_interop::peers::{MlsRsEndpoint, OpenMlsEndpoint};
use arbor_interop::scenarios::expected_skips::{self, SkipCheck};
use arbor_interop::scenarios::{Assignment, Totals, config, play_config};

#[test]
fn configs_play_across_arbor_openmls_and_mls_rs() {
    let mut endpoints: Vec<Box<dyn Endpoint>> = vec![
        Box::new(ArborEndpoint::new()),
        Box::new(OpenMlsEndpoint::new()),
        Box::new(MlsRsEndpoint::new()),
    ];
    let full = std::env::var("ARBOR_SCENARIOS_FULL").is_ok_and(|v| v == "1");
    let expected = expected_skips::parse(include_str!("expected_skips.txt")).unwrap();
    let mut skips = SkipCheck::new(expected);
    let dir = config::default_dir();
    let mut total = Totals::default();
    let mut failures = Vec::new();
    for name in config::CONFIGS {
        let config = config::load(&dir, name).unwrap();
        let deep = *name == "deep_random.json";
        let assignments: Vec<Assignment> = if full {
            Assignment::all(endpoints.len())
        } else if deep {
            vec![Assignment::Alternate(0, 1), Assignment::Alternate(0, 2)]
        } else {
            Assignment::all(endpoints.len())
                .into_iter()
                .filter(|a| a.involves(0))
                .collect()
        };
        let suites: &[u32] = if full { &[1, 2, 3] } else { &[1] };
        let modes: &[bool] = if full || !deep {
            &[false, true]
        } else {
            &[false]
        };
        for &assignment in &assignments {
            for &suite in suites {
                for &encrypt in modes {
                    let played = play_config(&mut endpoints, &config, assignment, suite, encrypt);
                    print!("{}", played.report);
                    if played.totals.failed > 0 {
                        failures.push(played.report.clone());
                    }
                    let run = played.report.lines().next().unwrap_or("");
                    for (script, skip) in &played.skips {
                        skips.record(name, script, skip, run);
                    }
                    total.add(played.totals);
                }
            }
        }
    }
    println!("total: {total}");
    assert!(failures.is_empty(), "failures:\n{}", failures.join(""));
    if let Err(msg) = skips.verdict(full) {
        panic!("skips differ from interop/tests/expected_skips.txt:\n{msg}");
    }
    assert!(total.passed > 0, "{total}");
}
