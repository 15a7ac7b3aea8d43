//! An `arbor-ds` instance killed (SIGKILL) in the middle of the PostgreSQL
//! transaction that stores an accepted commit (the observer's merge, the
//! log entry, the Welcomes), after writing part of it: the other instances
//! never see the part, take the epoch's commit once the dead transaction
//! is rolled back, and a new instance loads the group whole.
//!
//! The instance is paused inside the transaction by the test fault
//! `ARBOR_DS_PAUSE_IN_COMMIT` (write that many records, then hang).

#[path = "../../postgres/tests/common/mod.rs"]
mod common;
mod support;

use arbor_ds::{CommitReply, DsError};
use arbor_mls::{GroupOptions, KeyPackageOptions};
use common::{PgServer, space};
use support::{Ds, Member};

#[test]
fn an_instance_killed_mid_transaction_leaves_nothing_half_written() {
    let pg = PgServer::start();
    let space = space("ds-killed");
    let args = ["--postgres", pg.url(), "--space", &space];
    let a = Ds::spawn(&args, &[]);
    let b = Ds::spawn(&args, &[]);
    let mut dying = Ds::spawn(&args, &[("ARBOR_DS_PAUSE_IN_COMMIT", "2")]);

    // Alice and Bob, through instance A; Alice says hello.
    let mut alice = Member::new("alice");
    let mut bob = Member::new("bob");
    let kp = bob
        .client
        .key_package(KeyPackageOptions::default())
        .expect("kp");
    a.client.publish_key_package("bob", &kp).expect("publish");
    let group = alice
        .client
        .create_group(GroupOptions::default())
        .expect("group");
    a.client
        .create_group(&group.group_info(true).expect("info"))
        .expect("host");
    alice.group = Some(group);
    let group_id = alice.group_id();
    let kp = a.client.take_key_package("bob").expect("take").expect("kp");
    let add = alice.group().add(&[&kp]).expect("add");
    let welcome = add.welcome.expect("welcome");
    let reply = a
        .client
        .commit(&group_id, "alice", &add.commit, Some((&welcome, &["bob"])))
        .expect("commit");
    assert_eq!(reply, CommitReply::Accepted(1));
    alice.sync(&a.client);
    let welcome = a.client.take_welcomes("bob").expect("welcomes");
    bob.group = Some(bob.client.join(&welcome[0], None).expect("join"));
    bob.cursor = 1;
    let hello = alice.group().encrypt(b"hello", b"").expect("seal");
    assert_eq!(a.client.send(&group_id, "alice", &hello).expect("send"), 2);
    let log_before = b.client.fetch(&group_id, "nobody", 0).expect("fetch");
    assert_eq!(log_before.len(), 2);

    // Bob's commit reaches the dying instance, which stops inside the
    // transaction storing it, two records written.
    let bob_commit = bob.group().update().expect("update").commit;
    let to_dying = {
        let (client, commit, group_id) =
            (dying.client.clone(), bob_commit.clone(), group_id.clone());
        std::thread::spawn(move || client.commit(&group_id, "bob", &commit, None))
    };
    dying.wait_for_stderr("paused inside a transaction");

    // Meanwhile the others see the log as it was, and Alice's commit for
    // the same epoch, through B, waits for the dying transaction's lock.
    assert_eq!(
        b.client.fetch(&group_id, "nobody", 0).expect("fetch"),
        log_before
    );
    let alice_commit = alice.group().update().expect("update").commit;
    let to_b = {
        let (client, commit, group_id) = (b.client.clone(), alice_commit.clone(), group_id.clone());
        std::thread::spawn(move || client.commit(&group_id, "alice", &commit, None))
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!to_b.is_finished(), "B waits for the dying transaction");

    dying.kill();
    assert!(
        matches!(to_dying.join().expect("thread"), Err(DsError::Io(_))),
        "the killed instance never answered"
    );
    // Its transaction rolled back: B takes the epoch for Alice.
    assert_eq!(
        to_b.join().expect("thread").expect("commit"),
        CommitReply::Accepted(3)
    );
    // Bob's commit, sent again, finds the epoch taken.
    assert!(matches!(
        a.client
            .commit(&group_id, "bob", &bob_commit, None)
            .expect("commit"),
        CommitReply::EpochTaken(_)
    ));
    bob.group().discard_pending();

    // A new instance loads the group whole and takes the next commit.
    let c = Ds::spawn(&args, &[]);
    alice.sync(&c.client);
    bob.sync(&c.client);
    assert_eq!(bob.received, vec![b"hello".to_vec()]);
    assert_eq!(alice.group().epoch(), 2);
    assert_eq!(bob.group().epoch(), 2);
    assert_eq!(
        alice.group().epoch_authenticator(),
        bob.group().epoch_authenticator()
    );
    assert_eq!(bob.commit_update(&c.client), CommitReply::Accepted(4));
    alice.sync(&a.client);
    bob.sync(&b.client);
    assert_eq!(alice.group().epoch(), 3);
    assert_eq!(
        alice.group().epoch_authenticator(),
        bob.group().epoch_authenticator()
    );
    let log = a.client.fetch(&group_id, "nobody", 0).expect("fetch");
    assert_eq!(
        log.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![1, 2, 3, 4],
        "no entry of the killed transaction"
    );
    assert_eq!(log[2].1, alice_commit);
}
