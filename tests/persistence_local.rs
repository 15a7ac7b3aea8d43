//! What a member decided beside the protocol state survives a restart:
//! the authenticated data of its next handshake, a leave request, the
//! external commit it joined with, and the external PSKs it was given.
//! Deleting a group removes every record of it.

mod common;
use arbor_mls::storage::{self, MemoryStorage, SharedStorage};
use arbor_mls::{Client, Error, Event, Group, Message, Secret};
use common::{deliver, pair, reopen};

fn persisted(name: &str, store: &SharedStorage) -> Client {
    Client::builder(name)
        .storage(store.clone())
        .build()
        .expect("client")
}

fn records(store: &SharedStorage, prefix: &[u8]) -> usize {
    store
        .lock()
        .expect("lock")
        .scan(prefix)
        .expect("scan")
        .len()
}

#[test]
fn authenticated_data_survives_a_restart_and_is_used_once() {
    let store = storage::shared(MemoryStorage::new());
    let (alice, mut group, _bob, mut bob_group) = pair(&store);
    let id = group.group_id().to_vec();
    group
        .set_authenticated_data(b"ticket 42".to_vec())
        .expect("set aad");
    drop((group, alice));

    let mut group = reopen(&store).load_group(&id).expect("load");
    let proposal = group.propose_update().expect("propose");
    let message = Message::decode(&proposal).expect("decode");
    assert_eq!(message.authenticated_data(), Some(&b"ticket 42"[..]));
    deliver(&mut bob_group, &proposal);
    drop(group);

    // Used up with that proposal, in the same write.
    let mut group = reopen(&store).load_group(&id).expect("load");
    let out = group.commit().expect("commit");
    let message = Message::decode(&out.commit).expect("decode");
    assert_eq!(message.authenticated_data(), Some(&b""[..]));
    deliver(&mut bob_group, &out.commit);
    group.merge_pending().expect("merge");
    assert_eq!(group.epoch_authenticator(), bob_group.epoch_authenticator());
}

#[test]
fn a_leave_request_survives_a_restart_until_a_commit_settles_it() {
    let store = storage::shared(MemoryStorage::new());
    let (alice, mut group, _bob, mut bob_group) = pair(&store);
    let id = group.group_id().to_vec();
    let leave = group.leave().expect("leave");
    drop((group, alice));

    let mut group = reopen(&store).load_group(&id).expect("load");
    assert!(group.is_leaving(), "the leave request was stored");
    // §12.1.3: still refuses to commit its own removal after the restart.
    assert!(matches!(group.update(), Err(Error::Misuse(_))));

    // Bob commits something else: the request died with its epoch, and
    // the cleared flag is stored with the merge.
    let out = bob_group.update().expect("bob update");
    bob_group.merge_pending().expect("merge");
    deliver(&mut group, &out.commit);
    assert!(!group.is_leaving());
    drop(group);
    let mut group = reopen(&store).load_group(&id).expect("load");
    assert!(!group.is_leaving(), "the cleared flag was stored");
    let out = group.update().expect("may commit again");
    deliver(&mut bob_group, &out.commit);
    group.merge_pending().expect("merge");
    assert_eq!(group.epoch_authenticator(), bob_group.epoch_authenticator());
    let _ = leave;
}

#[test]
fn an_external_join_echo_is_recognised_after_a_restart() {
    let store = storage::shared(MemoryStorage::new());
    let mut alice = Client::builder("alice").build().expect("alice");
    let mut group = alice.create_group(Default::default()).expect("create");
    let info = group.group_info(true).expect("group info");
    let mut carol = persisted("carol", &store);
    let (carol_group, commit) = carol
        .join_by_external_commit(&info, None, None)
        .expect("external join");
    let id = carol_group.group_id().to_vec();
    drop((carol_group, carol));

    let mut carol_group = reopen(&store).load_group(&id).expect("load");
    deliver(&mut group, &commit);
    // The delivery service echoes Carol's commit back to her.
    assert!(matches!(
        carol_group.process(&commit).expect("echo"),
        Event::OwnCommitMerged { .. }
    ));
    drop(carol_group);
    // Settled for good: after another restart the echo is no longer ours.
    let mut carol_group = reopen(&store).load_group(&id).expect("load");
    assert!(carol_group.process(&commit).is_err());
    assert_eq!(
        carol_group.epoch_authenticator(),
        group.epoch_authenticator()
    );
}

/// Bob proposes the external PSK "team" (Alice receives the proposal) and
/// commits it; the commit is returned undelivered.
fn psk_commit(bob: &mut Group, alice: &mut Group) -> Vec<u8> {
    let proposal = bob.propose_external_psk(b"team".to_vec()).expect("propose");
    // Processing the proposal needs no PSK value; the commit does.
    alice.process(&proposal).expect("proposal");
    bob.commit().expect("commit").commit
}

#[test]
fn external_psks_are_stored_and_removed() {
    let store = storage::shared(MemoryStorage::new());
    let (mut alice, group, mut bob, mut bob_group) = pair(&store);
    let id = group.group_id().to_vec();
    let psk = || Secret::new(vec![0x42; 32]);
    alice
        .add_external_psk(b"team".to_vec(), psk())
        .expect("psk");
    bob.add_external_psk(b"team".to_vec(), psk()).expect("psk");
    assert_eq!(records(&store, b"c/psk/"), 1);
    drop((group, alice));

    // After a restart Alice still holds the PSK Bob's commit injects.
    let mut alice = reopen(&store);
    let mut group = alice.load_group(&id).expect("load");
    let commit = psk_commit(&mut bob_group, &mut group);
    bob_group.merge_pending().expect("merge");
    deliver(&mut group, &commit);
    assert_eq!(group.epoch_authenticator(), bob_group.epoch_authenticator());

    // Removed, it is gone from storage: after a restart the same commit
    // cannot be processed.
    assert!(alice.remove_external_psk(b"team").expect("remove"));
    assert!(!alice.remove_external_psk(b"team").expect("remove again"));
    assert_eq!(records(&store, b"c/psk/"), 0);
    drop((group, alice));
    let mut alice = reopen(&store);
    let mut group = alice.load_group(&id).expect("load");
    let commit = psk_commit(&mut bob_group, &mut group);
    let err = group.process(&commit).expect_err("PSK no longer known");
    assert!(err.to_string().contains("PSK"), "{err}");
}

#[test]
fn deleting_a_group_removes_every_record() {
    let store = storage::shared(MemoryStorage::new());
    let (mut alice, mut group, _bob, mut bob_group) = pair(&store);
    let id = group.group_id().to_vec();
    let m = bob_group.encrypt(b"hi", b"").expect("encrypt");
    deliver(&mut group, &m);
    let _pending = group.update().expect("pending commit");
    assert!(records(&store, b"g/") > 5);

    // A second group, deleted through its handle.
    let mut other = alice.create_group(Default::default()).expect("create");
    other.encrypt(b"x", b"").expect("encrypt");
    let other_id = other.group_id().to_vec();
    let other_records = records(&store, b"g/") - records(&store, group_prefix(&id).as_bytes());
    assert!(other_records > 0);
    other.delete().expect("delete");
    assert_eq!(alice.groups().expect("groups"), vec![id.clone()]);
    assert!(alice.load_group(&other_id).is_err());

    drop(group);
    assert!(alice.delete_group(&id).expect("delete"));
    assert!(!alice.delete_group(&id).expect("delete again"));
    assert_eq!(records(&store, b"g/"), 0);
    assert_eq!(records(&store, b"i/"), 0);
    assert!(reopen(&store).groups().expect("groups").is_empty());
    // The client's own records stay.
    assert_eq!(records(&store, b"c/identity"), 1);
}

fn group_prefix(id: &[u8]) -> String {
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!("g/{hex}/")
}
