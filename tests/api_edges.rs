//! Calls a messenger gets wrong on its first try: each fails at once with an
//! error that names the mistake, or the API gives what the app needs
//! without a workaround.

mod common;

use arbor_mls::{Action, Client, Error, Event, GroupOptions, LeafIndex};
use common::TempDb;

/// The error of an open that must be refused at once as a call mistake.
fn refused_at_once(result: arbor_mls::Result<Client>, naming: &str) {
    let started = std::time::Instant::now();
    let err = result.expect_err("the second open must be refused");
    // Not SQLite's busy timeout (5 s): nothing waited.
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(matches!(err, Error::Misuse(_)), "{err:?}");
    assert_eq!(err.action(), Action::FixCall);
    assert!(err.to_string().contains(naming), "{err}");
}

/// A database held by a live `Client`, or by a `Group` that outlived its
/// `Client`, cannot be opened again in the same process: the refusal is
/// immediate and says who holds it.
#[test]
fn opening_a_held_database_fails_at_once_naming_the_holder() {
    let db = TempDb::new("edges-held");
    let mut alice = Client::open(&db.0, "alice").expect("open");
    let started = std::time::Instant::now();
    refused_at_once(Client::open(&db.0, "alice"), "already open in this process");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));

    let group = alice.create_group(GroupOptions::default()).expect("create");
    drop(alice);
    refused_at_once(
        Client::open(&db.0, "alice"),
        "a Group that outlived its Client",
    );
    drop(group);
    let alice = Client::open(&db.0, "alice").expect("free once the group is dropped");
    assert_eq!(alice.groups().expect("groups").len(), 1);
}

/// `Client::open` with another identity than the stored client's is
/// refused instead of silently restoring the stored one; `Client::restore`
/// restores whatever client is stored.
#[test]
fn a_database_opened_with_another_identity_is_refused() {
    let db = TempDb::new("edges-identity");
    drop(Client::open(&db.0, "alice").expect("create alice"));
    let err = Client::open(&db.0, "bob").expect_err("bob is not the stored client");
    assert!(matches!(err, Error::Misuse(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("\"alice\"") && text.contains("\"bob\""),
        "{text}"
    );
    // Refusing changed nothing: alice is still there.
    let alice = Client::open(&db.0, "alice").expect("alice");
    assert_eq!(
        alice.credential(),
        &arbor_mls::Credential::basic(b"alice".to_vec())
    );
    drop(alice);
    let storage = arbor_mls::storage::shared(
        arbor_mls::storage::SqliteStorage::open(&db.0, Default::default()).expect("storage"),
    );
    let restored = Client::restore(storage).build().expect("restore");
    assert_eq!(
        restored.credential(),
        &arbor_mls::Credential::basic(b"alice".to_vec())
    );
    // Restoring from an empty storage is a call mistake, not a new client.
    let empty = arbor_mls::storage::shared(arbor_mls::storage::MemoryStorage::new());
    let err = Client::restore(empty).build().expect_err("nothing stored");
    assert_eq!(err.action(), Action::FixCall, "{err}");
}

/// Alice and Bob in one group, in memory: `(alice's group, bob's group)`.
fn pair() -> (arbor_mls::Group, arbor_mls::Group) {
    let store = arbor_mls::storage::shared(arbor_mls::storage::MemoryStorage::new());
    let (_, alice, _, bob) = common::pair(&store);
    (alice, bob)
}

/// Removing one's own leaf is a call mistake pointing at `leave()`, not a
/// protocol violation to report; nothing is pending afterwards.
#[test]
fn removing_ones_own_leaf_points_at_leave() {
    let (mut alice, _bob) = pair();
    let own = alice.own_leaf();
    let err = alice.remove(own).expect_err("own removal");
    assert_eq!(err.action(), Action::FixCall, "{err}");
    assert!(err.to_string().contains("leave()"), "{err}");
    assert!(!alice.has_pending_commit());
    assert_eq!(alice.epoch(), 1);
    // Removing another member still works.
    alice.remove(LeafIndex(1)).expect("remove bob");
}

/// `Debug` of an application event shows who sent how much, never what.
#[test]
fn debug_of_an_application_event_redacts_the_plaintext() {
    let (mut alice, mut bob) = pair();
    let message = alice
        .encrypt(b"meet at the old mill", b"thread-42")
        .expect("encrypt");
    let event = bob.process(&message).expect("process");
    let Event::Application { ref data, .. } = event else {
        panic!("expected application data, got {event:?}")
    };
    assert_eq!(data, b"meet at the old mill");
    let shown = format!("{event:?} {event:#?}");
    assert!(
        !shown.contains("old mill") && !shown.contains("thread-42"),
        "{shown}"
    );
    // Nor as the bytes' Debug form.
    assert!(!shown.contains("109, 101, 101, 116"), "{shown}");
    assert!(shown.contains("20 bytes redacted"), "{shown}");
}

/// The sender of a message is looked up alone, without building the
/// member list.
#[test]
fn one_member_is_looked_up_by_leaf() {
    let (mut alice, mut bob) = pair();
    let message = alice.encrypt(b"hi", b"").expect("encrypt");
    let Event::Application { sender, .. } = bob.process(&message).expect("process") else {
        panic!("expected application data")
    };
    let member = bob.member(sender).expect("the sender is a member");
    assert_eq!(
        member.credential,
        arbor_mls::Credential::basic(b"alice".to_vec())
    );
    assert_eq!(
        Some(member),
        bob.members().into_iter().find(|m| m.index == sender)
    );
    assert!(bob.member(LeafIndex(2)).is_none(), "past the tree");
    assert!(
        bob.member(LeafIndex(u32::MAX)).is_none(),
        "far past the tree"
    );
    // A blank leaf (bob removed) is no member.
    alice.remove(LeafIndex(1)).expect("remove");
    alice.merge_pending().expect("merge");
    assert!(alice.member(LeafIndex(1)).is_none());
}

/// Alice's group (in memory, published with its GroupInfo) and Carol,
/// persisted in `store`, who joins it by external commit:
/// `(alice's group, carol's client, carol's group, carol's commit)`.
fn external_join(
    store: &arbor_mls::storage::SharedStorage,
) -> (arbor_mls::Group, Client, arbor_mls::Group, Vec<u8>) {
    let (alice, _bob) = pair();
    let info = alice.group_info(true).expect("group info");
    let mut carol = Client::builder("carol")
        .storage(store.clone())
        .build()
        .expect("carol");
    let (group, commit) = carol
        .join_by_external_commit(&info, None, None)
        .expect("external join");
    (alice, carol, group, commit)
}

/// An external join the delivery service refuses (another commit took the
/// epoch) is abandoned: nothing of it is left in storage for the next start.
#[test]
fn a_refused_external_join_leaves_nothing_behind() {
    let store = arbor_mls::storage::shared(arbor_mls::storage::MemoryStorage::new());
    let (mut alice, carol, group, _commit) = external_join(&store);
    assert!(group.external_join_pending());
    let id = group.group_id().to_vec();
    assert_eq!(carol.groups().expect("groups"), vec![id.clone()]);
    // The delivery service orders Alice's commit first and refuses Carol's.
    alice.update().expect("a competing commit");
    group.abandon_external_join().expect("abandon");
    drop(carol);
    let mut carol = Client::restore(store).build().expect("restart");
    assert!(carol.groups().expect("groups").is_empty());
    assert!(carol.load_group(&id).is_err(), "no forked group is loaded");
}

/// A client restarted before the delivery service answered loads the
/// group marked pending; the echo of its commit settles it, for good.
#[test]
fn an_external_join_stays_pending_across_a_restart_until_its_echo() {
    let store = arbor_mls::storage::shared(arbor_mls::storage::MemoryStorage::new());
    let (mut alice, carol, group, commit) = external_join(&store);
    let id = group.group_id().to_vec();
    drop((group, carol));
    let mut carol = Client::restore(store.clone()).build().expect("restart");
    let mut group = carol.load_group(&id).expect("load");
    assert!(group.external_join_pending(), "the answer is still unknown");

    // The delivery service accepted it: Alice merges it, Carol sees the echo.
    let Event::Commit { staged, .. } = alice.process(&commit).expect("alice") else {
        panic!("expected Carol's commit")
    };
    assert_eq!(staged.summary.joined(), vec![LeafIndex(2)]);
    assert!(staged.summary.added.is_empty() && staged.summary.external_joiner.is_some());
    alice.merge(*staged).expect("merge");
    assert!(matches!(
        group.process(&commit).expect("echo"),
        Event::OwnCommitMerged { .. }
    ));
    assert!(!group.external_join_pending());
    let confirmed = group.epoch_authenticator().to_vec();
    assert_eq!(confirmed, alice.epoch_authenticator());
    drop((group, carol));
    let mut carol = Client::restore(store).build().expect("restart");
    let group = carol.load_group(&id).expect("load");
    assert!(
        !group.external_join_pending(),
        "the confirmation was stored"
    );
    // A confirmed group is not abandoned by mistake.
    let err = group.abandon_external_join().expect_err("confirmed");
    assert_eq!(err.action(), Action::FixCall);
    assert_eq!(carol.groups().expect("groups"), vec![id]);
}

/// A delivery service that answers instead of echoing: the app confirms.
#[test]
fn an_external_join_is_confirmed_explicitly() {
    let store = arbor_mls::storage::shared(arbor_mls::storage::MemoryStorage::new());
    let (_alice, carol, mut group, _commit) = external_join(&store);
    let id = group.group_id().to_vec();
    group.confirm_external_join().expect("confirm");
    assert!(!group.external_join_pending());
    assert!(
        group.confirm_external_join().is_err(),
        "nothing left to confirm"
    );
    drop((group, carol));
    let mut carol = Client::restore(store).build().expect("restart");
    assert!(!carol.load_group(&id).expect("load").external_join_pending());
}

/// With `publish_group_info`, a commit's output carries the signed
/// GroupInfo of the epoch it starts, and an outsider joins from it.
#[test]
fn a_commit_output_carries_the_group_info_to_publish() {
    let (mut alice, _bob) = pair();
    assert!(
        alice.update().expect("update").group_info.is_none(),
        "off by default"
    );
    alice.discard_pending();
    let mut config = *alice.config();
    config.publish_group_info = arbor_mls::PublishGroupInfo::WithTree;
    alice.set_config(config);
    let out = alice.update().expect("update");
    let info = out.group_info.expect("the GroupInfo to publish");
    alice.merge_pending().expect("merge");
    let parsed = arbor_mls::GroupInfo::decode(&info).expect("a GroupInfo message");
    assert_eq!(
        parsed.epoch(),
        alice.epoch(),
        "of the epoch the commit starts"
    );
    let mut dave = Client::builder("dave").build().expect("dave");
    let (dave_group, commit) = dave
        .join_by_external_commit(&info, None, None)
        .expect("join from the published GroupInfo");
    let Event::Commit { staged, .. } = alice.process(&commit).expect("process") else {
        panic!("expected Dave's commit")
    };
    alice.merge(*staged).expect("merge");
    assert_eq!(
        dave_group.epoch_authenticator(),
        alice.epoch_authenticator()
    );
}

/// The setting is stored with the group, so a restarted client keeps
/// publishing.
#[test]
fn publishing_the_group_info_survives_a_restart() {
    let store = arbor_mls::storage::shared(arbor_mls::storage::MemoryStorage::new());
    let mut alice = Client::builder("alice")
        .storage(store.clone())
        .build()
        .expect("alice");
    let mut group = alice.create_group(GroupOptions::default()).expect("create");
    let id = group.group_id().to_vec();
    group.set_config(
        group
            .config()
            .with_publish_group_info(arbor_mls::PublishGroupInfo::WithoutTree),
    );
    group.update().expect("update");
    group.merge_pending().expect("merge");
    drop((group, alice));
    let mut alice = Client::restore(store).build().expect("restart");
    let mut group = alice.load_group(&id).expect("load");
    assert_eq!(
        group.config().publish_group_info,
        arbor_mls::PublishGroupInfo::WithoutTree
    );
    assert!(group.update().expect("update").group_info.is_some());
}
