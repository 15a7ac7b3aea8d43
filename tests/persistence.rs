//! Persistence through the public API: a client reopened from its storage
//! restores its groups and key packages and goes on with its peers, on
//! both backends; corrupt records are errors that name the record.

mod common;
use arbor_mls::storage::{self, MemoryStorage, SharedStorage, WriteBatch};
use arbor_mls::{Client, Error, Event, KeyPackageOptions};
#[cfg(feature = "sqlite")]
use common::TempDb;
use common::{deliver, pair, reopen};

fn app_text(event: Event) -> Vec<u8> {
    match event {
        Event::Application { data, .. } => data,
        other => panic!("expected application data, got {other:?}"),
    }
}

/// Alice persisted in `store`, Bob in memory only.
fn restart_scenario(store: SharedStorage) {
    let (alice, mut group, _bob, mut bob_group) = pair(&store);
    for i in 0..5u8 {
        let m = group.encrypt(&[i], b"").expect("encrypt");
        assert_eq!(app_text(deliver(&mut bob_group, &m)), [i]);
        let m = bob_group.encrypt(&[i, i], b"").expect("encrypt");
        assert_eq!(app_text(deliver(&mut group, &m)), [i, i]);
    }
    let out = group.update().expect("update");
    deliver(&mut bob_group, &out.commit);
    group.merge_pending().expect("merge update");
    let id = group.group_id().to_vec();
    let (epoch, auth) = (group.epoch(), group.epoch_authenticator().to_vec());
    drop(group);
    drop(alice);

    let mut alice = reopen(&store);
    assert_eq!(alice.groups().expect("groups"), vec![id.clone()]);
    let mut group = alice.load_group(&id).expect("load");
    assert_eq!(group.epoch(), epoch);
    assert_eq!(group.epoch_authenticator(), auth);
    assert_eq!(group.members().len(), 2);
    // Both directions still work; Bob's ratchet check refuses any reused
    // generation, so a restored sending ratchet must have advanced.
    let m = group.encrypt(b"after restart", b"").expect("encrypt");
    assert_eq!(app_text(deliver(&mut bob_group, &m)), b"after restart");
    let m = bob_group.encrypt(b"hello again", b"").expect("encrypt");
    assert_eq!(app_text(deliver(&mut group, &m)), b"hello again");

    // A pending commit survives a restart and merges when echoed.
    let out = bob_group.update().expect("bob update");
    deliver(&mut group, &out.commit);
    bob_group.merge_pending().expect("bob merge");
    let out = group.update().expect("update");
    drop(group);
    drop(alice);
    let mut alice = reopen(&store);
    let mut group = alice.load_group(&id).expect("load");
    assert!(group.has_pending_commit());
    assert!(matches!(
        deliver(&mut group, &out.commit),
        Event::OwnCommitMerged { .. }
    ));
    deliver(&mut bob_group, &out.commit);
    assert_eq!(group.epoch_authenticator(), bob_group.epoch_authenticator());

    // A late message of the previous epoch still decrypts after a restart
    // (retained past epochs are stored).
    let late = bob_group.encrypt(b"late", b"").expect("encrypt");
    let out = bob_group.update().expect("bob update");
    bob_group.merge_pending().expect("merge");
    deliver(&mut group, &out.commit);
    drop(group);
    drop(alice);
    let mut alice = reopen(&store);
    let mut group = alice.load_group(&id).expect("load");
    assert_eq!(app_text(deliver(&mut group, &late)), b"late");
    assert_eq!(group.epoch_authenticator(), bob_group.epoch_authenticator());
}

#[test]
fn memory_storage_restores_groups() {
    restart_scenario(storage::shared(MemoryStorage::new()));
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_storage_restores_groups() {
    let db = TempDb::new("restore");
    let path = &db.0;
    let open = || {
        storage::shared(
            storage::SqliteStorage::open(path, storage::Durability::Durable).expect("open"),
        )
    };
    restart_scenario(open());
    // A second connection sees the same client and group.
    let client = reopen(&open());
    assert_eq!(client.groups().expect("groups").len(), 1);
}

/// The bytes of the batch log beside `db`.
#[cfg(feature = "sqlite")]
fn log_file(db: &TempDb) -> Vec<u8> {
    std::fs::read(format!("{}-log", db.0.display())).expect("read the log file")
}

#[cfg(feature = "sqlite")]
#[test]
fn compacting_erases_the_batch_log_and_the_group_goes_on() {
    let db = TempDb::new("compact");
    let store = storage::shared(
        storage::SqliteStorage::open(&db.0, storage::Durability::Durable).expect("open"),
    );
    let (alice, mut group, _bob, mut bob_group) = pair(&store);
    for i in 0..3 {
        let m = bob_group.encrypt(&[i], b"").expect("encrypt");
        assert_eq!(app_text(deliver(&mut group, &m)), [i]);
    }
    // Each decrypt logged the receiving ratchet it left behind.
    assert!(log_file(&db).iter().any(|b| *b != 0));
    alice.compact_storage().expect("compact");
    assert!(
        log_file(&db).iter().all(|b| *b == 0),
        "compacting left logged bytes in the log file"
    );
    let m = bob_group.encrypt(b"after", b"").expect("encrypt");
    assert_eq!(app_text(deliver(&mut group, &m)), b"after");

    // Reopened, the group is where it was and goes on.
    let id = group.group_id().to_vec();
    drop((group, alice));
    let mut group = reopen(&store).load_group(&id).expect("load");
    let m = bob_group.encrypt(b"reopened", b"").expect("encrypt");
    assert_eq!(app_text(deliver(&mut group, &m)), b"reopened");
    let m = group.encrypt(b"back", b"").expect("encrypt");
    assert_eq!(app_text(deliver(&mut bob_group, &m)), b"back");

    // Without storage there is nothing to compact.
    let plain = Client::builder("plain").build().expect("client");
    plain.compact_storage().expect("nothing to compact");
}

#[test]
fn key_package_survives_restart_and_is_deleted_on_use() {
    let store = storage::shared(MemoryStorage::new());
    let mut bob = Client::builder("bob")
        .storage(store.clone())
        .build()
        .expect("bob");
    let kp = bob.key_package(KeyPackageOptions::default()).expect("kp");
    let key_package_records =
        |s: &SharedStorage| s.lock().expect("lock").scan(b"c/kp/").expect("scan").len();
    assert_eq!(key_package_records(&store), 1);
    drop(bob);

    let mut alice = Client::builder("alice").build().expect("alice");
    let mut group = alice.create_group(Default::default()).expect("create");
    let out = group.add(&[&kp]).expect("add");
    group.merge_pending().expect("merge");
    let mut bob = reopen(&store);
    assert_eq!(bob.credential(), &group.members()[1].credential);
    let mut bob_group = bob
        .join(&out.welcome.expect("welcome"), None)
        .expect("join after restart");
    assert_eq!(
        key_package_records(&store),
        0,
        "used key package deleted from storage"
    );
    let m = bob_group.encrypt(b"hi", b"").expect("encrypt");
    assert_eq!(app_text(deliver(&mut group, &m)), b"hi");

    // Deleted by the application: gone from storage too.
    let kp2 = bob.key_package(KeyPackageOptions::default()).expect("kp");
    assert_eq!(key_package_records(&store), 1);
    let _ = kp2;
    let stored = store.lock().expect("lock").scan(b"c/kp/").expect("scan");
    let hex = String::from_utf8(stored[0].0[5..].to_vec()).expect("hex");
    let kp_ref: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    assert!(bob.delete_key_package(&kp_ref).expect("delete"));
    assert_eq!(key_package_records(&store), 0);
}

/// Every record of a stored group, damaged in three ways, makes loading
/// fail with a storage error naming the record; nothing panics.
#[test]
fn corrupt_records_are_storage_errors() {
    let store = storage::shared(MemoryStorage::new());
    let mut alice = Client::builder("alice")
        .storage(store.clone())
        .build()
        .expect("alice");
    let mut bob = Client::builder("bob").build().expect("bob");
    let mut group = alice.create_group(Default::default()).expect("create");
    let kp = bob.key_package(KeyPackageOptions::default()).expect("kp");
    let out = group.add(&[&kp]).expect("add");
    group.merge_pending().expect("merge");
    let mut bob_group = bob
        .join(&out.welcome.expect("welcome"), None)
        .expect("join");
    let m = bob_group.encrypt(b"x", b"").expect("encrypt");
    deliver(&mut group, &m);
    let _pending = group.update().expect("pending commit");
    // The member's flags and an external PSK have records too.
    group.set_authenticated_data(b"aad".to_vec()).expect("aad");
    alice
        .add_external_psk(b"psk".to_vec(), arbor_mls::Secret::new(vec![1; 32]))
        .expect("psk");
    let id = group.group_id().to_vec();
    drop(group);

    let records = store.lock().expect("lock").scan(b"").expect("scan");
    assert!(records.len() >= 10, "{} records", records.len());
    for must in ["g/", "c/psk/", "c/identity"] {
        assert!(records.iter().any(|(k, _)| k.starts_with(must.as_bytes())));
    }
    assert!(records.iter().any(|(k, _)| k.ends_with(b"/local")));
    for (key, value) in &records {
        let name = String::from_utf8_lossy(key).to_string();
        if name.starts_with("i/") {
            continue;
        }
        let damaged: [(&str, Vec<u8>); 3] = [
            ("truncated", value[..value.len() / 2].to_vec()),
            ("future version", {
                let mut v = value.clone();
                v[0] = 99;
                v
            }),
            ("garbage", {
                let mut v = value.clone();
                v.extend_from_slice(&[7, 7, 7]);
                v
            }),
        ];
        for (how, bad) in damaged {
            let mut b = WriteBatch::default();
            b.put(key.clone(), bad);
            store.lock().expect("lock").write(b).expect("write");
            let result = Client::restore(store.clone())
                .build()
                .and_then(|mut c| c.load_group(&id));
            match result {
                Err(Error::Storage(msg)) => {
                    assert!(
                        msg.contains(&name),
                        "{how} {name}: error does not name it: {msg}"
                    )
                }
                Err(other) => panic!("{how} {name}: not a storage error: {other}"),
                Ok(_) => panic!("{how} {name}: loaded anyway"),
            }
        }
        let mut b = WriteBatch::default();
        b.put(key.clone(), value.clone());
        store.lock().expect("lock").write(b).expect("restore");
    }
    // Restored, it loads again.
    reopen(&store).load_group(&id).expect("load");
}
