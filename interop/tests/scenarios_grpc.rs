//! The scenario runner end to end over real gRPC: arbor in-process and
//! arbor behind its MLSClient server on 127.0.0.1 (started and stopped
//! here) play official configs in mixed assignments, both handshake modes.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use arbor_interop::grpc::server::Running;
use arbor_interop::grpc::{ArborEndpoint, Endpoint, Remote};
use arbor_interop::scenarios::{Assignment, Totals, config, play_config};

/// Each RPC's answer, and the server's stop, are awaited at most this
/// long: a hung server fails the script naming the step and the call.
const TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn configs_play_over_grpc() {
    let server = Running::start(ArborEndpoint::new()).unwrap();
    let mut endpoints: Vec<Box<dyn Endpoint>> = vec![
        Box::new(ArborEndpoint::new()),
        Box::new(Remote::connect_with_timeout(&server.uri(), TIMEOUT).unwrap()),
    ];
    let dir = config::default_dir();
    let mut total = Totals::default();
    for name in [
        "welcome_join.json",
        "commit.json",
        "external_proposals.json",
    ] {
        let config = config::load(&dir, name).unwrap();
        for assignment in [
            Assignment::CreatorAndRest(1, 0),
            Assignment::Alternate(0, 1),
        ] {
            for encrypt in [false, true] {
                let played = play_config(&mut endpoints, &config, assignment, 1, encrypt);
                print!("{}", played.report);
                assert_eq!(played.totals.failed, 0, "{}", played.report);
                // Skips are arbor's named API gaps only.
                for (script, skip) in &played.skips {
                    assert!(skip.reason.starts_with("arbor: "), "{script}: {skip}");
                }
                total.add(played.totals);
            }
        }
    }
    println!("total: {total}");
    assert!(total.passed >= 40, "{total}");
    drop(endpoints);
    server.stop(TIMEOUT).unwrap();
}
