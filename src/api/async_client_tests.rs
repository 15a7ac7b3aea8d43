//! [`AsyncClient`] end to end over asynchronous in-memory stores that
//! yield to the runtime (and can be made to stall or fail) inside every
//! write: durability before output, restart from the store, a failed write
//! poisoning the client, and a cancelled operation.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::storage::{AsyncStorage, MemoryStorage, Storage, StorageFuture, WriteBatch};
use crate::{Action, Error, Result};

/// An asynchronous store in memory. Each write yields to the runtime a few
/// times before it applies the batch; `stall` holds writes back until it
/// is cleared, and `fail` makes the next write fail without applying it.
#[derive(Default)]
pub(super) struct SlowMemory {
    pub(super) records: Mutex<MemoryStorage>,
    /// Batches applied.
    pub(super) writes: AtomicUsize,
    pub(super) stall: AtomicBool,
    pub(super) fail: AtomicBool,
}

impl SlowMemory {
    fn len(&self) -> usize {
        self.records.lock().unwrap().len()
    }
}

impl AsyncStorage for SlowMemory {
    fn scan<'a>(&'a self, prefix: &'a [u8]) -> StorageFuture<'a, Vec<(Vec<u8>, Vec<u8>)>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.records.lock().unwrap().scan(prefix)
        })
    }

    fn write(&self, batch: WriteBatch) -> StorageFuture<'_, ()> {
        Box::pin(async move {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            while self.stall.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            if self.fail.swap(false, Ordering::SeqCst) {
                return Err(Error::Storage("the disk is full".into()));
            }
            self.records.lock().unwrap().write(batch)?;
            self.writes.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

pub(super) async fn open(store: &Arc<SlowMemory>, name: &str) -> AsyncClient {
    AsyncClient::open(store.clone(), Client::builder(name))
        .await
        .unwrap()
}

pub(super) async fn reopen(store: &Arc<SlowMemory>) -> AsyncClient {
    AsyncClient::restore(store.clone(), |b| b).await.unwrap()
}

async fn follow(group: &mut AsyncGroup, commit: &[u8]) {
    match group.process(commit).await.unwrap() {
        Event::Commit { staged, .. } => group.merge(*staged).await.unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn follow_sync(group: &mut Group, commit: &[u8]) {
    match group.process(commit).unwrap() {
        Event::Commit { staged, .. } => group.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

async fn expect_app(group: &mut AsyncGroup, message: &[u8], text: &[u8]) {
    match group.process(message).await.unwrap() {
        Event::Application { data, .. } => assert_eq!(data, text),
        other => panic!("expected an application message, got {other:?}"),
    }
}

fn same_epoch(a: &Group, b: &Group) {
    assert_eq!(a.epoch(), b.epoch());
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

/// Alice and Bob on asynchronous stores, Carol synchronous in memory: a
/// group of three, messages every way, commits by each async member,
/// then both async members restart from their stores alone and go on.
#[test]
fn three_members_two_async_then_restart() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let alice_store = Arc::new(SlowMemory::default());
        let bob_store = Arc::new(SlowMemory::default());
        let mut alice = open(&alice_store, "alice").await;
        let mut bob = open(&bob_store, "bob").await;
        let mut carol_client = Client::builder("carol").build().unwrap();

        let stored = bob_store.len();
        let bob_kp = bob.key_package(KeyPackageOptions::default()).await.unwrap();
        // The key package's private keys were in Bob's store before the
        // key package came out.
        assert_eq!(bob_store.len(), stored + 1);
        let carol_kp = carol_client
            .key_package(KeyPackageOptions::default())
            .unwrap();
        let mut a = alice.create_group(GroupOptions::default()).await.unwrap();
        let out = a.add(&[&bob_kp, &carol_kp]).await.unwrap();
        a.merge_pending().await.unwrap();
        let welcome = out.welcome.unwrap();
        let mut c = carol_client.join(&welcome, None).unwrap();
        // Joined on another task: the futures are `Send`.
        let (bob, mut b) = tokio::spawn(assert_send(async move {
            let b = bob.join(&welcome, None).await.unwrap();
            (bob, b)
        }))
        .await
        .unwrap();
        same_epoch(a.group(), b.group());
        same_epoch(a.group(), &c);

        let m = a.encrypt(b"hi bob", b"").await.unwrap();
        expect_app(&mut b, &m, b"hi bob").await;
        let m = b.encrypt(b"hi alice", b"").await.unwrap();
        expect_app(&mut a, &m, b"hi alice").await;
        let m = c.encrypt(b"hi both", b"").unwrap();
        expect_app(&mut a, &m, b"hi both").await;
        expect_app(&mut b, &m, b"hi both").await;

        let commit = b.update().await.unwrap().commit;
        b.merge_pending().await.unwrap();
        follow(&mut a, &commit).await;
        follow_sync(&mut c, &commit);
        same_epoch(a.group(), b.group());
        same_epoch(a.group(), &c);
        let writes_before = alice_store.writes.load(Ordering::SeqCst);
        let m = a.encrypt(b"after bob's update", b"").await.unwrap();
        // The ratchet step was written before the ciphertext came out.
        assert_eq!(alice_store.writes.load(Ordering::SeqCst), writes_before + 1);
        expect_app(&mut b, &m, b"after bob's update").await;
        c.process(&m).unwrap();

        let group_id = a.group().group_id().to_vec();
        let (epoch, auth) = (a.group().epoch(), a.group().epoch_authenticator().to_vec());
        drop((a, b, alice, bob));

        // Restart: everything comes back from the stores.
        let mut alice = reopen(&alice_store).await;
        let mut bob = reopen(&bob_store).await;
        assert_eq!(alice.groups().unwrap(), vec![group_id.clone()]);
        let mut a = alice.load_group(&group_id).await.unwrap();
        let mut b = bob.load_group(&group_id).await.unwrap();
        assert_eq!(a.group().epoch(), epoch);
        assert_eq!(a.group().epoch_authenticator(), auth);
        same_epoch(a.group(), b.group());
        let commit = a.update().await.unwrap().commit;
        a.merge_pending().await.unwrap();
        follow(&mut b, &commit).await;
        follow_sync(&mut c, &commit);
        let m = b.encrypt(b"after the restart", b"").await.unwrap();
        expect_app(&mut a, &m, b"after the restart").await;
        same_epoch(a.group(), b.group());
        same_epoch(a.group(), &c);
    });
}

/// Alice (async, on `store`) in a group with Bob (synchronous, in memory).
async fn pair(store: &Arc<SlowMemory>) -> (AsyncClient, AsyncGroup, Group) {
    let mut alice = open(store, "alice").await;
    let mut bob_client = Client::builder("bob").build().unwrap();
    let kp = bob_client
        .key_package(KeyPackageOptions::default())
        .unwrap();
    let mut a = alice.create_group(GroupOptions::default()).await.unwrap();
    let out = a.add(&[&kp]).await.unwrap();
    a.merge_pending().await.unwrap();
    let b = bob_client.join(&out.welcome.unwrap(), None).unwrap();
    (alice, a, b)
}

pub(super) fn uncertain<T: std::fmt::Debug>(result: Result<T>) {
    match result {
        Err(e @ Error::StorageUncertain(_)) => assert_eq!(e.action(), Action::Reopen),
        other => panic!("expected StorageUncertain, got {other:?}"),
    }
}

/// A failed write releases nothing, and the client and its groups refuse
/// every later operation (the store is not even asked) until reopened;
/// reopened, they hold the stored state and go on.
#[tokio::test]
async fn failed_write_poisons_and_releases_nothing() {
    let store = Arc::new(SlowMemory::default());
    let (mut alice, mut a, mut b) = pair(&store).await;
    let writes = store.writes.load(Ordering::SeqCst);
    store.fail.store(true, Ordering::SeqCst);
    uncertain(a.encrypt(b"lost", b"").await);
    assert!(!store.fail.load(Ordering::SeqCst), "the store was asked");
    // Refused without asking the store, which would now succeed.
    uncertain(a.encrypt(b"refused", b"").await);
    uncertain(a.update().await);
    uncertain(alice.key_package(KeyPackageOptions::default()).await);
    uncertain(alice.flush().await);
    assert_eq!(store.writes.load(Ordering::SeqCst), writes);

    let group_id = a.group().group_id().to_vec();
    drop((a, alice));
    let mut alice = reopen(&store).await;
    let mut a = alice.load_group(&group_id).await.unwrap();
    same_epoch(a.group(), &b);
    let m = a.encrypt(b"after reopening", b"").await.unwrap();
    match b.process(&m).unwrap() {
        Event::Application { data, .. } => assert_eq!(data, b"after reopening"),
        other => panic!("{other:?}"),
    }

    // A commit whose write fails is not released and not kept.
    store.fail.store(true, Ordering::SeqCst);
    uncertain(a.update().await);
    drop((a, alice));
    let mut alice = reopen(&store).await;
    let a = alice.load_group(&group_id).await.unwrap();
    assert!(!a.group().has_pending_commit());
    same_epoch(a.group(), &b);
}

/// An operation dropped while its batch is being written releases
/// nothing. Restarted from the store, the client finds the state before
/// the operation; kept running, it writes the dropped operation's batch
/// first (on `flush` or with the next operation).
#[tokio::test]
async fn cancelled_operation() {
    let store = Arc::new(SlowMemory::default());
    let (alice, mut a, mut b) = pair(&store).await;
    let before = store.records.lock().unwrap().scan(b"").unwrap();
    let writes = store.writes.load(Ordering::SeqCst);
    store.stall.store(true, Ordering::SeqCst);
    let cancelled = tokio::time::timeout(Duration::from_millis(30), a.encrypt(b"never", b"")).await;
    assert!(cancelled.is_err(), "the write was stalled");
    store.stall.store(false, Ordering::SeqCst);
    assert_eq!(store.writes.load(Ordering::SeqCst), writes);
    assert!(format!("{alice:?}").contains("queued_batches: 1"));

    // Restart now: the store holds the state before the operation.
    let group_id = a.group().group_id().to_vec();
    let mut again = reopen(&store).await;
    let mut a2 = again.load_group(&group_id).await.unwrap();
    assert_eq!(store.records.lock().unwrap().scan(b"").unwrap(), before);
    let m = a2.encrypt(b"from the restarted client", b"").await.unwrap();
    match b.process(&m).unwrap() {
        Event::Application { data, .. } => {
            assert_eq!(data, b"from the restarted client")
        }
        other => panic!("{other:?}"),
    }
    drop((a2, again));

    // Or keep running: `flush` writes the dropped operation's batch.
    let store = Arc::new(SlowMemory::default());
    let (alice, mut a, mut b) = pair(&store).await;
    let writes = store.writes.load(Ordering::SeqCst);
    store.stall.store(true, Ordering::SeqCst);
    let cancelled = tokio::time::timeout(Duration::from_millis(30), a.encrypt(b"never", b"")).await;
    assert!(cancelled.is_err());
    store.stall.store(false, Ordering::SeqCst);
    alice.flush().await.unwrap();
    assert_eq!(store.writes.load(Ordering::SeqCst), writes + 1);
    assert!(format!("{alice:?}").contains("queued_batches: 0"));
    // Another one, left for the next operation to write first.
    store.stall.store(true, Ordering::SeqCst);
    let cancelled = tokio::time::timeout(Duration::from_millis(30), a.encrypt(b"never", b"")).await;
    assert!(cancelled.is_err());
    store.stall.store(false, Ordering::SeqCst);
    let m = a.encrypt(b"after two dropped", b"").await.unwrap();
    assert_eq!(store.writes.load(Ordering::SeqCst), writes + 3);
    match b.process(&m).unwrap() {
        Event::Application { data, .. } => assert_eq!(data, b"after two dropped"),
        other => panic!("{other:?}"),
    }
    // The stored state is the client's: a restart continues from it.
    let group_id = a.group().group_id().to_vec();
    let epoch_auth = a.group().epoch_authenticator().to_vec();
    drop((a, alice));
    let mut alice = reopen(&store).await;
    let mut a = alice.load_group(&group_id).await.unwrap();
    assert_eq!(a.group().epoch_authenticator(), epoch_auth);
    let m = a.encrypt(b"after restart", b"").await.unwrap();
    match b.process(&m).unwrap() {
        Event::Application { data, .. } => assert_eq!(data, b"after restart"),
        other => panic!("{other:?}"),
    }
}

/// Two groups of one client run operations at once: every batch reaches
/// the store, one write at a time, and both groups reload.
#[tokio::test]
async fn concurrent_groups_of_one_client() {
    let store = Arc::new(SlowMemory::default());
    let (mut alice, mut a1, mut b1) = pair(&store).await;
    let mut a2 = alice.create_group(GroupOptions::default()).await.unwrap();
    let writes = store.writes.load(Ordering::SeqCst);
    let (m1, c2) = tokio::join!(a1.encrypt(b"one", b""), a2.update());
    let (m1, c2) = (m1.unwrap(), c2.unwrap());
    assert!(c2.welcome.is_none());
    assert_eq!(store.writes.load(Ordering::SeqCst), writes + 2);
    a2.merge_pending().await.unwrap();
    match b1.process(&m1).unwrap() {
        Event::Application { data, .. } => assert_eq!(data, b"one"),
        other => panic!("{other:?}"),
    }
    let ids = [
        a1.group().group_id().to_vec(),
        a2.group().group_id().to_vec(),
    ];
    let auths = [
        a1.group().epoch_authenticator().to_vec(),
        a2.group().epoch_authenticator().to_vec(),
    ];
    drop((a1, a2, alice));
    let mut alice = reopen(&store).await;
    let mut groups = Vec::new();
    for (id, auth) in ids.iter().zip(auths) {
        let g = alice.load_group(id).await.unwrap();
        assert_eq!(g.group().epoch_authenticator(), auth);
        groups.push(g);
    }
    // Deleting one reaches the store too.
    groups.pop().unwrap().delete().await.unwrap();
    drop((groups, alice));
    let alice = reopen(&store).await;
    assert_eq!(alice.groups().unwrap(), vec![ids[0].clone()]);
}
