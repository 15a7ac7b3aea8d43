//! One `arbor-ds` instance alone on SQLite: key packages handed out once,
//! a group created, a member added with a Welcome, a proposal and a commit
//! that includes it, a stale commit answered "epoch taken", application
//! messages, GroupInfo and tree served to an external joiner, and a
//! restart of the instance on the same file.

mod support;

use arbor_ds::CommitReply;
use arbor_mls::{GroupOptions, KeyPackageOptions};
use support::{Ds, Member};

#[test]
fn one_instance_on_sqlite_serves_a_group_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("arbor-ds-sqlite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("ds.db");
    let args = ["--sqlite", path.to_str().expect("path")];
    let mut ds = Ds::spawn(&args, &[]);

    let mut alice = Member::new("alice");
    let mut bob = Member::new("bob");
    let mut carol = Member::new("carol");
    let kp = bob
        .client
        .key_package(KeyPackageOptions::default())
        .expect("kp");
    ds.client.publish_key_package("bob", &kp).expect("publish");
    let group = alice
        .client
        .create_group(GroupOptions::default())
        .expect("group");
    let info = group.group_info(true).expect("info");
    ds.client.create_group(&info).expect("host");
    assert!(ds.client.create_group(&info).is_err(), "hosted once");
    alice.group = Some(group);
    let group_id = alice.group_id();

    let taken = ds
        .client
        .take_key_package("bob")
        .expect("take")
        .expect("kp");
    assert_eq!(taken, kp);
    assert_eq!(ds.client.take_key_package("bob").expect("take"), None);
    let add = alice.group().add(&[&taken]).expect("add");
    let welcome = add.welcome.expect("welcome");
    assert_eq!(
        ds.client
            .commit(&group_id, "alice", &add.commit, Some((&welcome, &["bob"])))
            .expect("commit"),
        CommitReply::Accepted(1)
    );
    alice.sync(&ds.client);
    let welcomes = ds.client.take_welcomes("bob").expect("welcomes");
    assert_eq!(welcomes, vec![welcome]);
    assert!(ds.client.take_welcomes("bob").expect("welcomes").is_empty());
    bob.group = Some(bob.client.join(&welcomes[0], None).expect("join"));
    bob.cursor = 1;

    // Bob proposes; Alice commits it; Bob's own commit for the epoch
    // comes second and finds it taken.
    let proposal = bob.group().propose_update().expect("proposal");
    ds.client.send(&group_id, "bob", &proposal).expect("send");
    alice.sync(&ds.client);
    let commit = alice.group().commit().expect("commit").commit;
    let stale = bob.group().update().expect("update").commit;
    assert!(matches!(
        ds.client
            .commit(&group_id, "alice", &commit, None)
            .expect("commit"),
        CommitReply::Accepted(_)
    ));
    assert!(matches!(
        ds.client
            .commit(&group_id, "bob", &stale, None)
            .expect("commit"),
        CommitReply::EpochTaken(_)
    ));
    bob.group().discard_pending();
    alice.sync(&ds.client);
    bob.sync(&ds.client);
    assert_eq!(bob.group().epoch(), 2);

    // A restart on the same file.
    ds.kill();
    let ds = Ds::spawn(&args, &[]);

    // Carol joins from the GroupInfo and tree the service serves.
    let info = alice.group().group_info(false).expect("info");
    ds.client
        .upload_group_info(&group_id, &info)
        .expect("upload");
    let (info, tree) = ds.client.group_info(&group_id).expect("group info");
    let (group, commit) = carol
        .client
        .join_by_external_commit(&info, Some(&tree), None)
        .expect("external join");
    carol.group = Some(group);
    let CommitReply::Accepted(seq) = ds
        .client
        .commit(&group_id, "carol", &commit, None)
        .expect("commit")
    else {
        panic!("the external commit is accepted")
    };
    carol.cursor = seq;
    bob.sync(&ds.client);
    alice.sync(&ds.client);
    let hello_new = bob.group().encrypt(b"welcome carol", b"").expect("seal");
    ds.client.send(&group_id, "bob", &hello_new).expect("send");
    for m in [&mut alice, &mut bob, &mut carol] {
        m.sync(&ds.client);
    }
    assert_eq!(carol.received, vec![b"welcome carol".to_vec()]);
    assert_eq!(alice.received, vec![b"welcome carol".to_vec()]);
    assert!(bob.received.is_empty(), "own messages are not echoed");
    for m in [&alice, &bob] {
        assert_eq!(
            m.group.as_ref().expect("group").epoch_authenticator(),
            carol.group.as_ref().expect("group").epoch_authenticator()
        );
    }
    drop(ds);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_requests_are_refused_and_the_instance_carries_on() {
    use std::io::{Read, Write};
    let dir = std::env::temp_dir().join(format!("arbor-ds-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("ds.db");
    let ds = Ds::spawn(&["--sqlite", path.to_str().expect("path")], &[]);
    let addr = ds.client.addr().to_owned();
    let raw = |bytes: &[u8]| -> String {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        s.write_all(bytes).expect("write");
        s.shutdown(std::net::Shutdown::Write).expect("shutdown");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    assert!(raw(b"\x00\xff garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(raw(b"garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(
        raw(b"POST /groups HTTP/1.1\r\nContent-Length: abc\r\n\r\n").starts_with("HTTP/1.1 400")
    );
    assert!(
        raw(b"POST /groups HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n")
            .starts_with("HTTP/1.1 413")
    );
    assert!(
        raw(b"POST /groups HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort")
            .starts_with("HTTP/1.1 400")
    );
    let call = |method: &str, target: &str, body: &[u8]| {
        arbor_ds::http::call(addr.as_str(), method, target, body).expect("call")
    };
    assert_eq!(call("POST", "/groups", b"not a group info").status, 400);
    assert_eq!(call("POST", "/groups/zz/commit?from=a", b"").status, 400);
    assert_eq!(
        call("POST", "/groups/00/commit?from=a", &[0, 0, 0, 9]).status,
        400
    );
    assert_eq!(call("POST", "/key-packages/a%2Fb", b"kp").status, 400);
    assert_eq!(call("GET", "/groups/00/messages?member=a", b"").status, 404);
    assert_eq!(call("GET", "/nowhere", b"").status, 404);
    assert_eq!(call("GET", "/health", b"").status, 200);
    drop(ds);
    let _ = std::fs::remove_dir_all(&dir);
}
