//! A server killed in the middle of writing a group's merge leaves the
//! database as it was: the next server accepts the epoch's commit, and the
//! stored observer is whole.
//!
//! The dying server is a `psql` child process that does what a server's
//! conditional write does up to its commit: it locks the group's change
//! counter, deletes every record of the group's observer and writes a bad
//! epoch record, then is killed (SIGKILL) with its transaction open.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use arbor_mls::storage::{SharedStorage, shared};
use arbor_mls::{
    Client, Event, GroupOptions, KeyPackageOptions, Observed, Observer, ObserverOptions,
};
use arbor_mls_postgres::PgStorage;
use common::{PgServer, space};

fn options(storage: SharedStorage) -> ObserverOptions {
    ObserverOptions {
        storage: Some(storage),
        shared: true,
        ..ObserverOptions::default()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_server_killed_mid_transaction_leaves_the_database_consistent() {
    let pg = PgServer::start();
    let space = space("killed");
    let storage = shared(PgStorage::connect(pg.url(), &space).expect("connect"));

    // Alice and Bob, observed by server A.
    let mut alice_client = Client::builder("alice").build().expect("client");
    let mut bob_client = Client::builder("bob").build().expect("client");
    let mut alice = alice_client
        .create_group(GroupOptions::default())
        .expect("group");
    let mut server_a = Observer::from_group_info(
        &alice.group_info(true).expect("info"),
        None,
        options(storage.clone()),
    )
    .expect("host");
    let kp = bob_client
        .key_package(KeyPackageOptions::default())
        .expect("kp");
    let add = alice.add(&[&kp]).expect("add");
    let Observed::Commit(staged) = server_a.process(&add.commit).expect("process") else {
        panic!("a commit")
    };
    server_a.merge(*staged).expect("merge");
    alice.process(&add.commit).expect("own commit");
    let mut bob = bob_client
        .join(&add.welcome.expect("welcome"), None)
        .expect("join");
    let epoch = server_a.epoch();
    let before = server_a.to_bytes().expect("state");

    // The dying server: its transaction is open, holding the counter's
    // lock, with the observer's records deleted and a bad epoch record.
    let prefix = format!("o/{}/", hex(alice.group_id()));
    let script = format!(
        "BEGIN;
         SELECT 1 FROM arbor_records WHERE space = '{space}'
           AND key = convert_to('{prefix}head', 'UTF8') FOR UPDATE;
         DELETE FROM arbor_records WHERE space = '{space}'
           AND substring(key from 1 for {len}) = convert_to('{prefix}', 'UTF8');
         INSERT INTO arbor_records VALUES ('{space}', convert_to('{prefix}epoch', 'UTF8'),
           '\\xdeadbeef');
         \\echo ready
",
        len = prefix.len()
    );
    let mut psql = pg
        .tool("psql")
        .args([pg.url(), "-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("psql");
    let mut stdin = psql.stdin.take().expect("stdin");
    stdin.write_all(script.as_bytes()).expect("script");
    stdin.flush().expect("flush");
    let mut lines = BufReader::new(psql.stdout.take().expect("stdout")).lines();
    loop {
        let line = lines
            .next()
            .expect("psql ended before its transaction was open")
            .expect("line");
        if line.trim() == "ready" {
            break;
        }
    }

    // Meanwhile another server reads the state as it was committed.
    let other = shared(PgStorage::connect(pg.url(), &space).expect("connect"));
    let seen = Observer::load(alice.group_id(), options(other.clone()))
        .expect("load while the transaction is open")
        .expect("stored");
    assert_eq!(seen.to_bytes().expect("state"), before);

    // Server B takes Bob's commit for the epoch: its conditional write
    // waits for the lock the dying server holds, then proceeds once the
    // server is killed and its transaction rolled back.
    let commit = bob.update().expect("commit").commit;
    let server_b = {
        let commit = commit.clone();
        let group_id = alice.group_id().to_vec();
        std::thread::spawn(move || {
            let mut observer = Observer::load(&group_id, options(other))
                .expect("load")
                .expect("stored");
            let Observed::Commit(staged) = observer.process(&commit).expect("process") else {
                panic!("a commit")
            };
            observer.merge(*staged).map(|()| observer.epoch())
        })
    };
    psql.kill().expect("kill");
    psql.wait().expect("wait");
    drop(stdin);
    let merged = server_b
        .join()
        .expect("server B")
        .expect("merge after the kill");
    assert_eq!(merged, epoch + 1);

    // Server A, behind, catches up; a fresh load agrees; the members agree.
    assert!(server_a.catch_up().expect("catch up"));
    assert_eq!(server_a.epoch(), epoch + 1);
    let fresh = Observer::load(alice.group_id(), options(storage))
        .expect("load")
        .expect("stored");
    assert_eq!(
        fresh.to_bytes().expect("state"),
        server_a.to_bytes().expect("state")
    );
    assert!(matches!(
        bob.process(&commit).expect("echo"),
        Event::OwnCommitMerged { .. }
    ));
    let Event::Commit { staged, .. } = alice.process(&commit).expect("process") else {
        panic!("a commit")
    };
    alice.merge(*staged).expect("merge");
    assert_eq!(alice.epoch(), fresh.epoch());
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
}
