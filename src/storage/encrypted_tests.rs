//! [`EncryptedStorage`]: the conformance suite over memory, wrong and
//! missing keys, moved, swapped, truncated and garbage values, rotation,
//! and the reserved check records.

use super::*;
use crate::Action;
use crate::crypto::SeededRandom;
use crate::storage::MemoryStorage;

fn key(id: u32, byte: u8) -> StorageKey {
    StorageKey::new(id, [byte; 32])
}

fn sealed(store: MemoryStorage, k: StorageKey) -> EncryptedStorage<MemoryStorage> {
    EncryptedStorage::open(store, k)
        .expect("open")
        .with_random(Box::new(SeededRandom::from_seed([7; 32])))
}

fn put(s: &mut dyn Storage, pairs: &[(&str, &str)]) {
    let mut b = WriteBatch::default();
    for (k, v) in pairs {
        b.put(k.as_bytes().to_vec(), v.as_bytes().to_vec());
    }
    s.write(b).expect("write");
}

/// The records of `s` as stored (sealed), in a fresh memory store that an
/// attacker with the disk could have written.
fn raw_copy(s: &EncryptedStorage<MemoryStorage>) -> MemoryStorage {
    let mut copy = MemoryStorage::new();
    let mut b = WriteBatch::default();
    for (k, v) in s.inner().scan(b"").expect("scan") {
        b.put(k, v);
    }
    copy.write(b).expect("copy");
    copy
}

fn raw_put(store: &mut MemoryStorage, key: &[u8], value: Vec<u8>) {
    let mut b = WriteBatch::default();
    b.put(key.to_vec(), value);
    store.write(b).expect("raw write");
}

fn storage_error_naming(result: Result<Option<Vec<u8>>>, record: &str) {
    match result {
        Err(e @ Error::Storage(_)) => {
            assert!(e.to_string().contains(record), "{e} names {record}");
        }
        other => panic!("expected a storage error naming {record}, got {other:?}"),
    }
}

fn misuse<T: std::fmt::Debug>(result: Result<T>, words: &str) {
    match result {
        Err(e @ Error::Misuse(_)) => {
            assert_eq!(e.action(), Action::FixCall);
            assert!(e.to_string().contains(words), "{e} says {words:?}");
        }
        other => panic!("expected misuse ({words}), got {other:?}"),
    }
}

/// Conditional writes compare plaintexts (sealed values differ at every
/// write) and keep the values sealed.
#[test]
fn an_encrypted_storage_writes_conditionally() {
    let mut s = sealed(MemoryStorage::new(), key(1, 1));
    crate::storage::conformance::run_conditional(&mut s);
    let stored = s.inner().get(b"h").expect("get").expect("h");
    assert_eq!(stored[0], FORMAT, "sealed");
    assert_eq!(s.get(b"h").expect("get"), Some(b"5".to_vec()));
}

#[test]
fn an_encrypted_memory_storage_conforms() {
    let mut s = sealed(MemoryStorage::new(), key(1, 1));
    crate::storage::conformance::run(&mut s);
    // Every value is sealed: none of the suite's plaintexts is stored.
    for (k, v) in s.inner().scan(b"").expect("scan") {
        if !k.starts_with(RESERVED_PREFIX) {
            assert_eq!(v[0], FORMAT);
            assert!(v.len() >= MIN_SEALED_LEN, "{k:?}");
        }
    }
}

#[test]
fn values_are_sealed_under_fresh_nonces() {
    let mut s = sealed(MemoryStorage::new(), key(1, 1));
    put(&mut s, &[("g/aa/x", "secret value")]);
    let first = s.inner().get(b"g/aa/x").expect("get").expect("stored");
    put(&mut s, &[("g/aa/x", "secret value")]);
    let second = s.inner().get(b"g/aa/x").expect("get").expect("stored");
    assert_ne!(first, second);
    assert!(!first.windows(6).any(|w| w == b"secret"));
    assert_eq!(first.len(), MIN_SEALED_LEN + "secret value".len());
    assert_eq!(&first[1..5], &1u32.to_be_bytes());
    assert_eq!(
        s.get(b"g/aa/x").expect("get").as_deref(),
        Some(&b"secret value"[..])
    );
}

#[test]
fn a_wrong_key_is_refused_when_opening() {
    let mut s = sealed(MemoryStorage::new(), key(1, 1));
    put(&mut s, &[("c/identity", "me")]);
    misuse(
        EncryptedStorage::open(raw_copy(&s), key(1, 2)),
        "wrong storage key: key id 1",
    );
    // An empty store sealed under one key is still refused under another.
    let empty = sealed(MemoryStorage::new(), key(1, 1));
    misuse(
        EncryptedStorage::open(raw_copy(&empty), key(1, 2)),
        "wrong storage key",
    );
}

#[test]
fn a_missing_key_id_is_refused_when_opening() {
    let mut s = sealed(MemoryStorage::new(), key(1, 1));
    put(&mut s, &[("c/identity", "me")]);
    misuse(EncryptedStorage::open(raw_copy(&s), key(2, 2)), "key id 1");
    misuse(
        EncryptedStorage::open_with_old_keys(MemoryStorage::new(), key(2, 2), vec![key(2, 3)]),
        "two storage keys have id 2",
    );
}

#[test]
fn a_plaintext_store_is_refused() {
    let mut plain = MemoryStorage::new();
    put(&mut plain, &[("c/identity", "me")]);
    misuse(EncryptedStorage::open(plain, key(1, 1)), "plaintext");
}

#[test]
fn a_record_moved_to_another_key_of_the_group_is_refused() {
    let mut s = sealed(MemoryStorage::new(), key(1, 1));
    put(
        &mut s,
        &[("g/aa/t/00000001", "node 1"), ("g/aa/t/00000003", "node 3")],
    );
    let mut raw = raw_copy(&s);
    let node1 = raw.get(b"g/aa/t/00000001").expect("get").expect("stored");
    raw_put(&mut raw, b"g/aa/t/00000005", node1.clone());
    raw_put(&mut raw, b"g/aa/t/00000003", node1);
    let moved = EncryptedStorage::open(raw, key(1, 1)).expect("open");
    storage_error_naming(moved.get(b"g/aa/t/00000005"), "g/aa/t/00000005");
    storage_error_naming(moved.get(b"g/aa/t/00000003"), "g/aa/t/00000003");
    assert_eq!(
        moved.get(b"g/aa/t/00000001").expect("get").as_deref(),
        Some(&b"node 1"[..])
    );
    // A scan meeting a moved record fails the same way.
    match moved.scan(b"g/aa/") {
        Err(e @ Error::Storage(_)) => assert!(e.to_string().contains("g/aa/t/00000003")),
        other => panic!("expected a storage error, got {other:?}"),
    }
}

#[test]
fn records_swapped_between_groups_are_refused() {
    let mut s = sealed(MemoryStorage::new(), key(1, 1));
    put(
        &mut s,
        &[("g/aa/epoch", "group aa"), ("g/bb/epoch", "group bb")],
    );
    let mut raw = raw_copy(&s);
    let a = raw.get(b"g/aa/epoch").expect("get").expect("stored");
    let b = raw.get(b"g/bb/epoch").expect("get").expect("stored");
    raw_put(&mut raw, b"g/aa/epoch", b);
    raw_put(&mut raw, b"g/bb/epoch", a);
    let swapped = EncryptedStorage::open(raw, key(1, 1)).expect("open");
    storage_error_naming(swapped.get(b"g/aa/epoch"), "g/aa/epoch");
    storage_error_naming(swapped.get(b"g/bb/epoch"), "g/bb/epoch");
}

#[test]
fn truncated_damaged_and_garbage_values_are_refused_without_panicking() {
    let mut s = sealed(MemoryStorage::new(), key(1, 1));
    put(&mut s, &[("c/identity", "a value of some length")]);
    let value = s.inner().get(b"c/identity").expect("get").expect("stored");
    let mut damaged: Vec<Vec<u8>> = (0..value.len()).map(|n| value[..n].to_vec()).collect();
    for i in 0..value.len() {
        let mut v = value.clone();
        v[i] ^= 0x01;
        damaged.push(v);
    }
    let mut rng = SeededRandom::from_seed([3; 32]);
    for len in [0usize, 1, 5, 44, 45, 46, 200] {
        let mut v = vec![0; len];
        rng.fill(&mut v).expect("rng");
        damaged.push(v);
    }
    let mut extended = value.clone();
    extended.push(0);
    damaged.push(extended);
    for v in damaged {
        let mut raw = raw_copy(&s);
        raw_put(&mut raw, b"c/identity", v);
        let opened = EncryptedStorage::open(raw, key(1, 1)).expect("open");
        storage_error_naming(opened.get(b"c/identity"), "c/identity");
    }
}

#[test]
fn a_damaged_check_record_is_a_storage_error() {
    let s = sealed(MemoryStorage::new(), key(1, 1));
    let mut raw = raw_copy(&s);
    raw_put(&mut raw, &check_key(1), vec![1, 2, 3]);
    match EncryptedStorage::open(raw, key(1, 1)) {
        Err(e @ Error::Storage(_)) => assert!(e.to_string().contains("e/key/00000001")),
        other => panic!("expected a storage error, got {other:?}"),
    }
}

#[test]
fn rotation_reads_old_records_and_reseals_everything() {
    let mut s = sealed(MemoryStorage::new(), key(1, 1));
    put(&mut s, &[("c/identity", "me"), ("g/aa/epoch", "e1")]);

    // A lazy rotation: key 2 current, key 1 still read.
    let mut s = EncryptedStorage::open_with_old_keys(raw_copy(&s), key(2, 2), vec![key(1, 1)])
        .expect("open during rotation");
    assert_eq!(
        s.get(b"c/identity").expect("get").as_deref(),
        Some(&b"me"[..])
    );
    put(&mut s, &[("g/aa/epoch", "e2")]);
    let ids = |s: &EncryptedStorage<MemoryStorage>| -> Vec<u32> {
        s.inner()
            .scan(b"")
            .expect("scan")
            .iter()
            .filter(|(k, _)| !k.starts_with(RESERVED_PREFIX))
            .map(|(_, v)| u32::from_be_bytes([v[1], v[2], v[3], v[4]]))
            .collect()
    };
    assert_eq!(ids(&s), [1, 2]);
    // Key 1 is still in use: key 2 alone cannot open the store.
    misuse(EncryptedStorage::open(raw_copy(&s), key(2, 2)), "key id 1");

    // Rotating to key 3 re-seals every record in one batch.
    let before = s.inner().bytes_written();
    s.rotate_to(key(3, 3)).expect("rotate");
    assert!(s.inner().bytes_written() > before);
    assert_eq!(ids(&s), [3, 3]);
    assert_eq!(s.key_id(), 3);
    let reopened = EncryptedStorage::open(raw_copy(&s), key(3, 3)).expect("key 3 alone");
    assert_eq!(
        reopened.scan(b"").expect("scan"),
        [
            (b"c/identity".to_vec(), b"me".to_vec()),
            (b"g/aa/epoch".to_vec(), b"e2".to_vec())
        ]
    );
    misuse(EncryptedStorage::open(raw_copy(&s), key(1, 1)), "key id 3");
    misuse(
        EncryptedStorage::open(raw_copy(&s), key(3, 9)),
        "wrong storage key",
    );
    // Only key 3's check record is left.
    assert_eq!(
        s.inner().scan(CHECK_PREFIX).expect("scan"),
        [(check_key(3), key(3, 3).check.to_vec())]
    );

    // A new key may not reuse the id of another.
    misuse(s.rotate_to(key(3, 4)), "key id 3");
    // Rotating to the current key re-seals under it (finishing a lazy
    // rotation).
    s.rotate_to(key(3, 3)).expect("reseal");
    assert_eq!(ids(&s), [3, 3]);
}

#[test]
fn a_rotation_refuses_a_damaged_store_and_writes_nothing() {
    let mut s = sealed(MemoryStorage::new(), key(1, 1));
    put(&mut s, &[("c/identity", "me"), ("g/aa/epoch", "e1")]);
    let mut raw = raw_copy(&s);
    raw_put(&mut raw, b"g/aa/epoch", vec![1; 60]);
    let mut damaged = EncryptedStorage::open(raw, key(1, 1)).expect("open");
    let before = damaged.inner().bytes_written();
    match damaged.rotate_to(key(2, 2)) {
        Err(e @ Error::Storage(_)) => assert!(e.to_string().contains("g/aa/epoch")),
        other => panic!("expected a storage error, got {other:?}"),
    }
    assert_eq!(damaged.inner().bytes_written(), before);
    assert_eq!(damaged.key_id(), 1);
}

#[test]
fn the_reserved_prefix_is_hidden_and_kept() {
    let mut s = sealed(MemoryStorage::new(), key(1, 1));
    put(&mut s, &[("c/identity", "me")]);
    assert_eq!(s.scan(b"").expect("scan").len(), 1);
    assert_eq!(s.get(&check_key(1)).expect("get"), None);
    let mut b = WriteBatch::default();
    b.put(b"e/mine".to_vec(), b"x".to_vec());
    misuse(s.write(b), "reserves");
    // Deleting everything keeps the key check: the store still refuses a
    // wrong key.
    let mut b = WriteBatch::default();
    b.delete_prefix(Vec::new());
    s.write(b).expect("wipe");
    assert!(s.scan(b"").expect("scan").is_empty());
    misuse(
        EncryptedStorage::open(raw_copy(&s), key(1, 2)),
        "wrong storage key",
    );
}

#[test]
fn debug_shows_key_ids_only() {
    let s = sealed(MemoryStorage::new(), key(7, 0xab));
    let shown = format!("{s:?} {:?}", key(7, 0xab));
    assert!(
        shown.contains("id: 7") && shown.contains("REDACTED"),
        "{shown}"
    );
    assert!(!shown.contains("171") && !shown.to_lowercase().contains("abab"));
    misuse(StorageKey::from_slice(1, &[0; 31]), "32 bytes, not 31");
    assert_eq!(StorageKey::from_slice(5, &[0; 32]).expect("key").id(), 5);
}
