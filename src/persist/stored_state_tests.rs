//! Stored records are input too: lengths and sizes read from a record are
//! bounded as wire input is, and a record is bound to the group it is
//! stored under. A damaged or moved record is `Error::Storage` naming it,
//! never an abort and never another group's state.

use super::*;
use crate::api::{Client, GroupOptions};
use crate::storage::{self, MemoryStorage};

/// A client persisted in a fresh memory store, with one group.
fn stored_group(storage: &SharedStorage, name: &str) -> Vec<u8> {
    let mut client = Client::builder(name)
        .storage(storage.clone())
        .build()
        .expect("client");
    let group = client
        .create_group(GroupOptions::default())
        .expect("create");
    group.group_id().to_vec()
}

fn reopen(storage: &SharedStorage, name: &str) -> Client {
    Client::builder(name)
        .storage(storage.clone())
        .build()
        .expect("reopen")
}

fn record(storage: &SharedStorage, key: &[u8]) -> Vec<u8> {
    with(storage, |s| s.get(key))
        .expect("read")
        .expect("record exists")
}

fn put(storage: &SharedStorage, key: Vec<u8>, value: Vec<u8>) {
    let mut batch = WriteBatch::default();
    batch.put(key, value);
    with(storage, |s| s.write(batch)).expect("write");
}

fn load_error(storage: &SharedStorage, name: &str, id: &[u8]) -> String {
    match reopen(storage, name).load_group(id) {
        Err(Error::Storage(text)) => text,
        Err(other) => panic!("expected Error::Storage, got {other:?}"),
        Ok(_) => panic!("a damaged record loaded"),
    }
}

#[test]
fn a_stored_tree_width_beyond_max_leaves_is_refused_before_allocating() {
    let storage = storage::shared(MemoryStorage::new());
    let id = stored_group(&storage, "alice");
    let key = GroupKeys::new(&id).epoch();
    let mut bytes = record(&storage, &key);
    // The width follows the record header and the GroupContext.
    let mut client = reopen(&storage, "alice");
    let group = client.load_group(&id).expect("load");
    let at = 2 + crate::codec::encode(group.state.context())
        .expect("encode")
        .len();
    drop(group);
    assert_eq!(&bytes[at..at + 4], &1u32.to_be_bytes(), "a one-member tree");
    bytes[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    put(&storage, key, bytes);
    let text = load_error(&storage, "alice", &id);
    assert!(text.contains("max_leaves"), "{text}");
    assert!(text.contains("/epoch"), "names the record: {text}");

    // Raising the stored max_leaves too does not let it through: the
    // config is a record as well, and stored trees have at most 2^20 leaves.
    let meta_key = GroupKeys::new(&id).meta();
    let mut meta = record(&storage, &meta_key);
    // Header, suite, two flags, three u64 and two u32 settings, max_lifetime
    // and max_cached_proposals as u64, then max_leaves as a u32.
    let at = 2 + 2 + 2 + 3 * 8 + 2 * 4 + 2 * 8;
    assert_eq!(&meta[at..at + 4], &65_536u32.to_be_bytes());
    meta[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    put(&storage, meta_key, meta);
    let text = load_error(&storage, "alice", &id);
    assert!(text.contains("/epoch"), "{text}");
}

#[test]
fn a_stored_padding_no_message_could_carry_is_refused() {
    let storage = storage::shared(MemoryStorage::new());
    let id = stored_group(&storage, "alice");
    let key = GroupKeys::new(&id).meta();
    let mut bytes = record(&storage, &key);
    // Header (2), suite (2), two flags (2), then padding as a u64.
    assert_eq!(&bytes[6..14], &0u64.to_be_bytes());
    bytes[6..14].copy_from_slice(&u64::MAX.to_be_bytes());
    put(&storage, key, bytes);
    let text = load_error(&storage, "alice", &id);
    assert!(text.contains("padding"), "{text}");
}

#[test]
fn another_groups_records_do_not_load_as_this_group() {
    let storage = storage::shared(MemoryStorage::new());
    let a = stored_group(&storage, "alice");
    let mut client = reopen(&storage, "alice");
    let b = client
        .create_group(GroupOptions::default())
        .expect("second group")
        .group_id()
        .to_vec();
    let (ka, kb) = (GroupKeys::new(&a), GroupKeys::new(&b));
    put(&storage, kb.epoch(), record(&storage, &ka.epoch()));
    let text = load_error(&storage, "alice", &b);
    assert!(
        text.contains("not of the group it is stored under"),
        "{text}"
    );
    // Group A itself is untouched.
    assert_eq!(
        reopen(&storage, "alice")
            .load_group(&a)
            .expect("a")
            .group_id(),
        &a[..]
    );
}
