//! The callback adapter against the library's storage conformance suite,
//! with a Rust implementation of the callbacks standing in for the foreign
//! one.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use arbor_mls::storage::conformance;

use super::*;

/// Records in a map shared with the test; `fail` makes the next write fail
/// as given.
#[derive(Default, Clone)]
struct MapCallback {
    records: Arc<Mutex<BTreeMap<Vec<u8>, Vec<u8>>>>,
    fail: Arc<Mutex<Option<StorageFailure>>>,
    /// Return scans unsorted and with a record outside the prefix, as a
    /// careless callback might.
    careless: bool,
}

impl StorageCallback for MapCallback {
    fn get(&self, key: Vec<u8>) -> Result<Option<Vec<u8>>, StorageFailure> {
        Ok(self.records.lock().expect("lock").get(&key).cloned())
    }

    fn scan(&self, prefix: Vec<u8>) -> Result<Vec<StoredRecord>, StorageFailure> {
        let records = self.records.lock().expect("lock");
        let mut out: Vec<StoredRecord> = records
            .iter()
            .filter(|(k, _)| self.careless || k.starts_with(&prefix))
            .map(|(k, v)| StoredRecord {
                key: k.clone(),
                value: v.clone(),
            })
            .collect();
        if self.careless {
            out.reverse();
        }
        Ok(out)
    }

    fn write(&self, batch: StorageBatch) -> Result<(), StorageFailure> {
        if let Some(failure) = self.fail.lock().expect("lock").take() {
            return Err(failure);
        }
        let mut records = self.records.lock().expect("lock");
        for prefix in batch.delete_prefixes {
            records.retain(|k, _| !k.starts_with(&prefix));
        }
        for op in batch.ops {
            match op.value {
                Some(v) => records.insert(op.key, v),
                None => records.remove(&op.key),
            };
        }
        Ok(())
    }
}

fn adapter(callback: MapCallback) -> ForeignStorage {
    ForeignStorage {
        callback: Box::new(callback),
        uncertain: false,
    }
}

fn put(key: &[u8], value: &[u8]) -> WriteBatch {
    let mut batch = WriteBatch::default();
    batch.put(key.to_vec(), value.to_vec());
    batch
}

#[test]
fn adapter_passes_the_storage_conformance_suite() {
    conformance::run(&mut adapter(MapCallback::default()));
}

#[test]
fn careless_scans_are_filtered_and_sorted() {
    conformance::run(&mut adapter(MapCallback {
        careless: true,
        ..MapCallback::default()
    }));
}

#[test]
fn sealed_adapter_passes_the_suite_and_stores_no_plaintext() {
    let callback = MapCallback::default();
    let records = callback.records.clone();
    let key = StorageKey::new(1, [9; 32]);
    let mut sealed = EncryptedStorage::open(adapter(callback), key).expect("open");
    conformance::run(&mut sealed);
    sealed
        .write(put(b"g/x", b"a plaintext value"))
        .expect("write");
    let records = records.lock().expect("lock");
    let stored = records.get(b"g/x".as_slice()).expect("stored");
    assert!(
        !stored
            .windows(b"a plaintext value".len())
            .any(|w| w == b"a plaintext value"),
        "the value is sealed"
    );
}

#[test]
fn failed_write_is_retry_and_changes_nothing() {
    let callback = MapCallback::default();
    *callback.fail.lock().expect("lock") = Some(StorageFailure::Failed {
        reason: "offline".into(),
    });
    let mut store = adapter(callback);
    let err = store.write(put(b"k", b"v")).expect_err("fails");
    assert_eq!(err.action(), arbor_mls::Action::Retry);
    assert_eq!(store.get(b"k").expect("get"), None);
    store.write(put(b"k", b"v")).expect("works again");
    assert_eq!(store.get(b"k").expect("get"), Some(b"v".to_vec()));
}

#[test]
fn uncertain_write_refuses_later_writes() {
    let callback = MapCallback::default();
    *callback.fail.lock().expect("lock") = Some(StorageFailure::Uncertain {
        reason: "timeout".into(),
    });
    let mut store = adapter(callback);
    let err = store.write(put(b"k", b"v")).expect_err("fails");
    assert_eq!(err.action(), arbor_mls::Action::Reopen);
    // The callback would succeed now; the adapter still refuses.
    let err = store.write(put(b"k", b"v")).expect_err("refused");
    assert_eq!(err.action(), arbor_mls::Action::Reopen);
    assert_eq!(store.get(b"k").expect("get"), None);
}

#[test]
fn wrong_key_is_api_misuse_with_fix_call() {
    let callback = MapCallback::default();
    let first = open(
        Box::new(callback.clone()),
        Some(EncryptionKey {
            id: 1,
            key: vec![1; 32],
        }),
    );
    assert!(first.is_ok());
    let Err(err) = open(
        Box::new(callback),
        Some(EncryptionKey {
            id: 1,
            key: vec![2; 32],
        }),
    ) else {
        panic!("a wrong key opened the store");
    };
    match err {
        MlsError::ApiMisuse { action, reason } => {
            assert_eq!(action, crate::ErrorAction::FixCall);
            assert!(reason.contains("wrong storage key"), "{reason}");
        }
        other => panic!("expected ApiMisuse, got {other:?}"),
    }
}
