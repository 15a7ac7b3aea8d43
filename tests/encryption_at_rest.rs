//! `EncryptedStorage` through the public API: the conformance suite over
//! SQLite, a client and its group restored from sealed storage (memory and
//! SQLite), reopening with the wrong key refused, and a rotation the client
//! goes on after.

mod common;
use arbor_mls::storage::{self, EncryptedStorage, MemoryStorage, StorageKey};
use arbor_mls::{Action, Client, Error, Event, KeyPackageOptions};
use common::{deliver, reopen};

fn app_text(event: Event) -> Vec<u8> {
    match event {
        Event::Application { data, .. } => data,
        other => panic!("expected application data, got {other:?}"),
    }
}

#[test]
fn a_client_restores_its_group_from_encrypted_memory_storage() {
    let sealed =
        EncryptedStorage::open(MemoryStorage::new(), StorageKey::new(1, [1; 32])).expect("open");
    let store = storage::shared(sealed);
    let (alice, mut group, _bob, mut bob_group) = common::pair(&store);
    let m = group.encrypt(b"before", b"").expect("encrypt");
    assert_eq!(app_text(deliver(&mut bob_group, &m)), b"before");
    let id = group.group_id().to_vec();
    drop(group);
    drop(alice);
    let mut alice = reopen(&store);
    let mut group = alice.load_group(&id).expect("load");
    let m = group.encrypt(b"after", b"").expect("encrypt");
    assert_eq!(app_text(deliver(&mut bob_group, &m)), b"after");
}

/// Both wrappers, in the documented order: the rollback guard outside, so
/// its counter record is sealed too.
#[cfg(feature = "test-support")]
#[test]
fn a_guarded_encrypted_storage_conforms_and_seals_the_counter() {
    use arbor_mls::storage::{RollbackCounter, RollbackGuard, Storage};

    struct Counter(u64);

    impl RollbackCounter for Counter {
        fn current(&self) -> arbor_mls::Result<u64> {
            Ok(self.0)
        }
        fn advance(&mut self, value: u64) -> arbor_mls::Result<()> {
            self.0 = value;
            Ok(())
        }
    }

    let sealed =
        EncryptedStorage::open(MemoryStorage::new(), StorageKey::new(1, [1; 32])).expect("open");
    let mut guarded = RollbackGuard::new(sealed, Box::new(Counter(0))).expect("guard");
    storage::conformance::run(&mut guarded);
    let counter = guarded
        .inner()
        .inner()
        .get(b"r/seq")
        .expect("get")
        .expect("stored");
    assert_ne!(counter.len(), 8, "the counter record is sealed");
    assert_eq!(counter[0], 1, "format 1");
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use arbor_mls::storage::{Durability, SqliteStorage};

    /// A database path in the temp dir, its files removed when created and
    /// dropped.
    struct TempDb(std::path::PathBuf);

    impl TempDb {
        fn new(name: &str) -> Self {
            let db = Self(
                std::env::temp_dir().join(format!("arbor-sealed-{name}-{}.db", std::process::id())),
            );
            db.remove();
            db
        }

        fn remove(&self) {
            for suffix in ["", "-wal", "-shm", "-log"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
            }
        }

        fn open(&self) -> SqliteStorage {
            SqliteStorage::open(&self.0, Durability::Durable).expect("sqlite")
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            self.remove();
        }
    }

    /// The suite is exported with `test-support`, which `cargo test
    /// --workspace` turns on (through the interop harness).
    #[cfg(feature = "test-support")]
    #[test]
    fn an_encrypted_sqlite_storage_conforms() {
        let db = TempDb::new("conformance");
        let mut sealed =
            EncryptedStorage::open(db.open(), StorageKey::new(1, [1; 32])).expect("open");
        storage::conformance::run(&mut sealed);
    }

    #[test]
    fn a_sealed_database_reopens_with_its_key_only_and_survives_a_rotation() {
        let db = TempDb::new("restart");
        let open = |current: StorageKey, old: Vec<StorageKey>| {
            EncryptedStorage::open_with_old_keys(db.open(), current, old)
        };
        let store = storage::shared(open(StorageKey::new(1, [1; 32]), vec![]).expect("open"));
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
        let id = group.group_id().to_vec();
        let secret = b"a message only alice's database would show";
        let m = bob_group.encrypt(secret, b"").expect("encrypt");
        assert_eq!(app_text(deliver(&mut group, &m)), secret);
        drop(group);
        drop(alice);
        drop(store);

        // Alice's identity is in sealed values only: no file shows it.
        let mut on_disk = std::fs::read(&db.0).expect("db");
        on_disk.extend(std::fs::read(format!("{}-log", db.0.display())).unwrap_or_default());
        on_disk.extend(std::fs::read(format!("{}-wal", db.0.display())).unwrap_or_default());
        assert!(!on_disk.windows(5).any(|w| w == b"alice"));

        // The wrong key: a clear error before anything loads.
        match open(StorageKey::new(1, [2; 32]), vec![]) {
            Err(e @ Error::Misuse(_)) => {
                assert_eq!(e.action(), Action::FixCall);
                assert!(e.to_string().contains("wrong storage key"), "{e}");
            }
            other => panic!("expected a wrong-key error, got {other:?}"),
        }

        // The right key: the group loads and goes on.
        let mut sealed = open(StorageKey::new(1, [1; 32]), vec![]).expect("reopen");
        // Rotate before loading the client: every record re-sealed in one
        // batch under key 2.
        sealed
            .rotate_to(StorageKey::new(2, [2; 32]))
            .expect("rotate");
        drop(sealed);
        assert!(open(StorageKey::new(1, [1; 32]), vec![]).is_err());
        let store = storage::shared(open(StorageKey::new(2, [2; 32]), vec![]).expect("key 2"));
        let mut alice = reopen(&store);
        let mut group = alice.load_group(&id).expect("load");
        let m = group.encrypt(b"after rotation", b"").expect("encrypt");
        assert_eq!(app_text(deliver(&mut bob_group, &m)), b"after rotation");
        let m = bob_group.encrypt(b"and back", b"").expect("encrypt");
        assert_eq!(app_text(deliver(&mut group, &m)), b"and back");
    }
}
