//! The scenario runner across arbor, openmls and mls-rs in-process
//! (feature `peers`): every config but deep_random in every assignment that
//! involves arbor, suite 1, both handshake modes. No failures are allowed; a
//! skip must name the stack lacking the feature.
#![allow(clippy::unwrap_used)]

use arbor_interop::grpc::{ArborEndpoint, Endpoint};
use arbor_interop::peers::{MlsRsEndpoint, OpenMlsEndpoint};
use arbor_interop::scenarios::{Assignment, Totals, config, play_config};

#[test]
fn configs_play_across_arbor_openmls_and_mls_rs() {
    let mut endpoints: Vec<Box<dyn Endpoint>> = vec![
        Box::new(ArborEndpoint::new()),
        Box::new(OpenMlsEndpoint::new()),
        Box::new(MlsRsEndpoint::new()),
    ];
    let dir = config::default_dir();
    let mut total = Totals::default();
    let mut failures = Vec::new();
    for name in config::CONFIGS.iter().filter(|n| **n != "deep_random.json") {
        let config = config::load(&dir, name).unwrap();
        for assignment in Assignment::all(endpoints.len())
            .into_iter()
            .filter(|a| a.involves(0) && *a != Assignment::All(0))
        {
            for encrypt in [false, true] {
                let (totals, report) = play_config(&mut endpoints, &config, assignment, 1, encrypt);
                print!("{report}");
                if totals.failed > 0 {
                    failures.push(report.clone());
                }
                for line in report.lines().filter(|l| l.contains("SKIP")) {
                    assert!(line.contains("Unimplemented"), "{line}");
                }
                total.add(totals);
            }
        }
    }
    println!("total: {total}");
    assert!(failures.is_empty(), "failures:\n{}", failures.join(""));
    assert!(total.passed > 0, "{total}");
}
