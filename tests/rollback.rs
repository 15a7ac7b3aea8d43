//! A database put back to an older copy (a restored backup) is detected
//! when the application keeps a rollback counter out of its reach: opening
//! it fails with `Error::RolledBack`, whose action is to resync, instead of
//! loading the old state and sending again at generations already used.
#![cfg(feature = "sqlite")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arbor_mls::storage::{
    self, Durability, RollbackCounter, RollbackGuard, SharedStorage, SqliteStorage,
};
use arbor_mls::{Action, Client, Error, Event, Group};

/// A counter kept outside the database (here: shared memory standing in
/// for a platform keystore).
#[derive(Clone, Default)]
struct Keystore(Arc<AtomicU64>);

impl RollbackCounter for Keystore {
    fn current(&self) -> arbor_mls::Result<u64> {
        Ok(self.0.load(Ordering::SeqCst))
    }
    fn advance(&mut self, value: u64) -> arbor_mls::Result<()> {
        self.0.fetch_max(value, Ordering::SeqCst);
        Ok(())
    }
}

/// A database file and its companions, removed when dropped.
struct Files(std::path::PathBuf);

const SUFFIXES: [&str; 4] = ["", "-wal", "-shm", "-log"];

impl Files {
    fn new(name: &str) -> Self {
        let files = Self(
            std::env::temp_dir().join(format!("arbor-rollback-{name}-{}.db", std::process::id())),
        );
        files.remove();
        files
    }

    fn path(&self, suffix: &str) -> std::path::PathBuf {
        format!("{}{suffix}", self.0.display()).into()
    }

    fn remove(&self) {
        for suffix in SUFFIXES {
            let _ = std::fs::remove_file(self.path(suffix));
        }
    }

    /// Copies every file of this database to `to` (a backup, or restoring one).
    fn copy_to(&self, to: &Files) {
        to.remove();
        for suffix in SUFFIXES {
            if self.path(suffix).exists() {
                std::fs::copy(self.path(suffix), to.path(suffix)).expect("copy");
            }
        }
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        self.remove();
    }
}

fn sqlite(files: &Files) -> SqliteStorage {
    SqliteStorage::open(&files.0, Durability::Durable).expect("open")
}

fn guarded(files: &Files, keystore: &Keystore) -> arbor_mls::Result<SharedStorage> {
    Ok(storage::shared(RollbackGuard::new(
        sqlite(files),
        Box::new(keystore.clone()),
    )?))
}

fn client(storage: SharedStorage) -> Client {
    Client::builder("alice")
        .storage(storage)
        .build()
        .expect("client")
}

/// Alice (persisted in `files`, guarded when `keystore` is given) and Bob
/// (in memory) in one group; Alice's group id and Bob's group.
fn pair(files: &Files, keystore: Option<&Keystore>) -> (Vec<u8>, Group) {
    let storage = match keystore {
        Some(k) => guarded(files, k).expect("guard"),
        None => storage::shared(sqlite(files)),
    };
    let (_alice, group, _bob, bob_group) = common::pair(&storage);
    (group.group_id().to_vec(), bob_group)
}

/// Alice, loaded from `storage`, sends `text` to Bob.
fn send(
    storage: SharedStorage,
    id: &[u8],
    bob: &mut Group,
    text: &[u8],
) -> arbor_mls::Result<Event> {
    let mut alice = client(storage);
    let mut group = alice.load_group(id).expect("load");
    let message = group.encrypt(text, b"").expect("encrypt");
    bob.process(&message)
}

#[test]
fn a_restored_backup_is_detected_and_says_to_resync() {
    let live = Files::new("live");
    let backup = Files::new("backup");
    let keystore = Keystore::default();
    let (id, mut bob) = pair(&live, Some(&keystore));
    live.copy_to(&backup);
    let event = send(
        guarded(&live, &keystore).expect("open"),
        &id,
        &mut bob,
        b"one",
    );
    assert!(matches!(event, Ok(Event::Application { .. })));

    // The backup is put back: the counter is ahead of it.
    backup.copy_to(&live);
    match guarded(&live, &keystore) {
        Err(e @ Error::RolledBack { .. }) => {
            assert_eq!(e.action(), Action::Resync);
            let Error::RolledBack { stored, expected } = e else {
                unreachable!()
            };
            assert!(stored < expected, "{stored} < {expected}");
        }
        Err(other) => panic!("expected RolledBack, got {other:?}"),
        Ok(_) => panic!("a rolled-back database opened"),
    }
}

#[test]
fn without_the_guard_a_restored_backup_sends_at_a_used_generation() {
    let live = Files::new("unguarded");
    let backup = Files::new("unguarded-backup");
    let (id, mut bob) = pair(&live, None);
    live.copy_to(&backup);
    let first = send(storage::shared(sqlite(&live)), &id, &mut bob, b"one");
    assert!(matches!(first, Ok(Event::Application { .. })));
    backup.copy_to(&live);
    // What the guard exists for: the old state loads and its next message
    // reuses the generation Bob already consumed.
    let again = send(storage::shared(sqlite(&live)), &id, &mut bob, b"two");
    assert!(matches!(again, Err(Error::Replay(_))), "{again:?}");
}

#[test]
fn the_guard_opens_its_own_writes_and_a_storage_one_write_ahead() {
    let live = Files::new("ahead");
    let keystore = Keystore::default();
    let (id, mut bob) = pair(&live, Some(&keystore));
    let recorded = keystore.current().expect("current");
    assert!(recorded > 0, "writes advanced the counter");
    // A crash between a write and the counter's advance leaves the storage
    // ahead: that opens, and the counter catches up.
    keystore.0.store(recorded - 1, Ordering::SeqCst);
    let event = send(
        guarded(&live, &keystore).expect("open"),
        &id,
        &mut bob,
        b"hi",
    );
    assert!(matches!(event, Ok(Event::Application { .. })));
    assert!(keystore.current().expect("current") > recorded);
}

/// After a rollback the store is replaced: the device starts a new client
/// (new keys, same identity) and `resync` finds its old leaf by device, not
/// by the lost key, and replaces it. Bob reads the rebuilt Alice.
#[test]
fn a_rolled_back_member_resyncs_from_a_new_store() {
    let live = Files::new("resync");
    let backup = Files::new("resync-backup");
    let keystore = Keystore::default();
    let (id, mut bob) = pair(&live, Some(&keystore));
    live.copy_to(&backup);
    send(
        guarded(&live, &keystore).expect("open"),
        &id,
        &mut bob,
        b"one",
    )
    .expect("sent");
    backup.copy_to(&live);
    let Err(err) = guarded(&live, &keystore) else {
        panic!("a rolled-back database opened")
    };
    assert_eq!(err.action(), Action::Resync);

    let fresh = Files::new("resync-fresh");
    let mut alice = client(storage::shared(sqlite(&fresh)));
    let old_leaf = arbor_mls::LeafIndex(0);
    let info = bob.group_info(true).expect("GroupInfo");
    let (mut group, commit) = alice
        .resync(&info, arbor_mls::ExternalJoinOptions::default())
        .expect("resync");
    let Event::Commit { staged, .. } = bob.process(&commit).expect("bob") else {
        panic!("expected Alice's resync")
    };
    assert_eq!(staged.summary.removed, vec![old_leaf]);
    bob.merge(*staged).expect("merge");
    assert_eq!(bob.members().len(), 2);
    let message = group.encrypt(b"back", b"").expect("encrypt");
    assert!(matches!(
        bob.process(&message).expect("read"),
        Event::Application { data, .. } if data == b"back"
    ));
    assert_eq!(group.group_id(), id.as_slice());
}
