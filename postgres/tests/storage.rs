//! The storage trait's conformance suite, its conditional writes, the
//! schema's migrations, and client state, on a real PostgreSQL server.

mod common;

use arbor_mls::storage::{Storage, WriteBatch, conformance, shared};
use arbor_mls::{Client, Error, GroupOptions};
use arbor_mls_postgres::{PgStorage, SCHEMA_VERSION, migrate};
use common::{PgServer, space};

#[test]
fn the_storage_conforms_and_conditional_writes_conform() {
    let server = PgServer::start();
    let mut s = PgStorage::connect(server.url(), &space("conformance")).expect("connect");
    conformance::run(&mut s);
    let mut s = PgStorage::connect(server.url(), &space("conditional")).expect("connect");
    conformance::run_conditional(&mut s);
}

#[test]
fn spaces_do_not_see_each_other_and_records_survive_reconnecting() {
    let server = PgServer::start();
    let (a, b) = (space("a"), space("b"));
    let mut sa = PgStorage::connect(server.url(), &a).expect("connect");
    let mut sb = PgStorage::connect(server.url(), &b).expect("connect");
    let mut batch = WriteBatch::default();
    batch.put(b"k".to_vec(), b"in a".to_vec());
    sa.write(batch).expect("write");
    let mut batch = WriteBatch::default();
    batch.delete_prefix(Vec::new());
    sb.write(batch)
        .expect("an empty prefix deletes b's records only");
    drop(sa);
    let sa = PgStorage::connect(server.url(), &a).expect("reconnect");
    assert_eq!(sa.get(b"k").expect("get"), Some(b"in a".to_vec()));
    assert_eq!(sb.get(b"k").expect("get"), None);
}

#[test]
fn migrating_is_idempotent_and_a_newer_schema_is_refused() {
    let server = PgServer::start();
    let mut client = postgres::Client::connect(server.url(), postgres::NoTls).expect("connect");
    let before = migrate(&mut client).expect("migrate");
    assert!(before == 0 || before == SCHEMA_VERSION);
    assert_eq!(migrate(&mut client).expect("again"), SCHEMA_VERSION);
    // Concurrent first starts: every process sees the schema done once.
    let url = server.url().to_owned();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PgStorage::connect(&url, "x").map(|_| ()))
        })
        .collect();
    for t in threads {
        t.join().expect("thread").expect("connect");
    }
    client
        .execute("UPDATE arbor_schema SET version = version + 1", &[])
        .expect("bump");
    match PgStorage::connect(server.url(), "x") {
        Err(Error::Storage(message)) => assert!(message.contains("upgrade"), "{message}"),
        other => panic!("a newer schema must be refused, got {other:?}"),
    }
    client
        .execute("UPDATE arbor_schema SET version = version - 1", &[])
        .expect("restore");
}

#[test]
fn a_client_keeps_its_state_on_postgresql() {
    let server = PgServer::start();
    let name = space("client");
    let storage = PgStorage::connect(server.url(), &name).expect("connect");
    let mut alice = Client::builder("alice")
        .storage(shared(storage))
        .build()
        .expect("client");
    let mut group = alice.create_group(GroupOptions::default()).expect("group");
    group.update().expect("commit");
    let commit = group
        .update()
        .expect("a second pending commit replaces the first");
    assert!(group.process(&commit.commit).is_ok());
    let epoch = group.epoch();
    let authenticator = group.epoch_authenticator().to_vec();
    let id = group.group_id().to_vec();
    drop(group);
    drop(alice);

    let storage = PgStorage::connect(server.url(), &name).expect("reconnect");
    let mut alice = Client::builder("alice")
        .storage(shared(storage))
        .build()
        .expect("reopen");
    assert_eq!(alice.groups().expect("groups"), vec![id.clone()]);
    let group = alice.load_group(&id).expect("load");
    assert_eq!(group.epoch(), epoch);
    assert_eq!(group.epoch_authenticator(), authenticator);
}
