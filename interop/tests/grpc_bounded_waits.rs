//! The gRPC client and server wait for each other within bounds: a server
//! that never answers a call fails that call, naming it, once the
//! client's timeout has passed, and a server that cannot stop says so
//! instead of hanging the caller.
#![allow(clippy::unwrap_used)]

use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use arbor_interop::grpc::proto::*;
use arbor_interop::grpc::server::Running;
use arbor_interop::grpc::{Endpoint, Remote};
use tonic::{Code, Status};

/// Answers `create_group` only once the test lets it go, and tells the
/// test when such a request has arrived.
struct Stuck {
    arrived: Sender<()>,
    release: Receiver<()>,
}

/// The endpoint, with the test's ends: requests arriving, and releases.
fn stuck() -> (Stuck, Receiver<()>, Sender<()>) {
    let (arrived, arrivals) = channel();
    let (release, releases) = channel();
    let endpoint = Stuck {
        arrived,
        release: releases,
    };
    (endpoint, arrivals, release)
}

impl Endpoint for Stuck {
    fn create_group(&mut self, _: CreateGroupRequest) -> Result<CreateGroupResponse, Status> {
        let _ = self.arrived.send(());
        let _ = self.release.recv();
        Ok(CreateGroupResponse { state_id: 1 })
    }

    fn stack_name(&self) -> String {
        "stuck".into()
    }
}

const SHORT: Duration = Duration::from_millis(300);

#[test]
fn a_call_the_server_never_answers_fails_naming_it() {
    let (stuck, arrivals, release) = stuck();
    let server = Running::start(stuck).unwrap();
    let mut remote = Remote::connect_with_timeout(&server.uri(), SHORT).unwrap();
    let started = Instant::now();
    let err = remote
        .create_group(CreateGroupRequest::default())
        .unwrap_err();
    let waited = started.elapsed();
    arrivals.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
    assert!(
        err.message().contains("create_group got no answer") && err.message().contains("300ms"),
        "{err:?}"
    );
    assert!(
        (SHORT..Duration::from_secs(10)).contains(&waited),
        "{waited:?}"
    );
    // The server may still be busy with it: later calls fail at once,
    // naming the call that hung.
    let err = remote
        .state_auth(StateAuthRequest { state_id: 1 })
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(
        err.message()
            .starts_with("state_auth not sent: create_group got no answer"),
        "{err:?}"
    );
    release.send(()).unwrap();
    drop(remote);
    server.stop(Duration::from_secs(30)).unwrap();
}

#[test]
fn a_server_that_cannot_stop_says_so_within_the_bound() {
    let (stuck, arrivals, release) = stuck();
    let server = Running::start(stuck).unwrap();
    let uri = server.uri();
    // A request the server is still running when it is told to stop.
    let caller = std::thread::spawn(move || {
        let mut remote = Remote::connect_with_timeout(&uri, Duration::from_secs(30)).unwrap();
        remote.create_group(CreateGroupRequest::default())
    });
    arrivals.recv_timeout(Duration::from_secs(10)).unwrap();
    let started = Instant::now();
    let err = server.stop(SHORT).unwrap_err();
    assert!(
        (SHORT..Duration::from_secs(10)).contains(&started.elapsed()),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains("did not stop within 300ms"), "{err}");
    // Let go, the request completes.
    release.send(()).unwrap();
    assert_eq!(caller.join().unwrap().unwrap().state_id, 1);
}
