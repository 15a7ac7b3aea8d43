//! The deterministic group persisted in memory: the records of Alice, Bob
//! and an observer at epoch 1. Stateful targets open fresh copies of them
//! for every input, so one input's merges never leak into the next (libFuzzer
//! needs an input to behave the same whenever it runs), and the records
//! themselves are what the stored-records target mutates.

use std::sync::Arc;

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::crypto::SeededRandom;
use arbor_mls::framing::{Content, MlsMessage, MlsMessageBody};
use arbor_mls::messages::commit::Commit;
use arbor_mls::messages::proposals::{Proposal, ProposalOrRef, Remove};
use arbor_mls::storage::{MemoryStorage, SharedStorage, Storage, WriteBatch, shared};
use arbor_mls::types::Extension;
use arbor_mls::types::math::LeafIndex;
use arbor_mls::{
    Client, Event, FixedClock, Group, GroupOptions, KeyPackageOptions, Observed, Observer,
    ObserverOptions, Secret,
};

use crate::NOW;

/// Every record of one storage, by ascending key.
pub type Records = Vec<(Vec<u8>, Vec<u8>)>;

/// The external PSK Alice and Bob both hold, so PSK proposals can be
/// committed and merged.
pub const PSK_ID: &[u8] = b"fuzz-psk";

/// Seeds of the members' randomness, as in [`crate::Fixture`].
pub const ALICE: (&str, u8) = ("alice", 1);
/// Bob: the member whose commits and proposals drive the stateful targets.
pub const BOB: (&str, u8) = ("bob", 2);

/// A client on `storage` with a fixed clock and seed: a storage that holds
/// a client restores it.
pub fn open_client((name, seed): (&str, u8), storage: SharedStorage) -> arbor_mls::Result<Client> {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .storage(storage)
        .build()
}

/// A fresh in-memory storage holding `records`.
pub fn storage_of(records: &Records) -> SharedStorage {
    let mut storage = MemoryStorage::new();
    let mut batch = WriteBatch::default();
    for (key, value) in records {
        batch.put(key.clone(), value.clone());
    }
    storage.write(batch).expect("memory storage");
    shared(storage)
}

/// Every record `storage` holds.
pub fn records_of(storage: &SharedStorage) -> Records {
    storage
        .lock()
        .expect("storage lock")
        .scan(b"")
        .expect("memory storage")
}

/// Observer options with the fixed clock, on `storage`.
pub fn observer_options(storage: SharedStorage) -> ObserverOptions {
    ObserverOptions {
        clock: Arc::new(FixedClock(NOW)),
        storage: Some(storage),
        ..ObserverOptions::default()
    }
}

/// The persisted group and the library-made structures the targets mutate.
pub struct StoredGroup {
    /// The group id.
    pub group_id: Vec<u8>,
    /// Alice's client and group records at epoch 1, nothing pending.
    pub alice: Records,
    /// Bob's, likewise.
    pub bob: Records,
    /// The observer's record at epoch 1.
    pub observer: Records,
    /// Alice's records with one of each kind a group writes: a retained
    /// past epoch and its resumption PSK (epoch 2), a cached proposal, a
    /// pending commit, authenticated data for the next handshake, a key
    /// package and an external PSK.
    pub alice_rich: Records,
    /// A message Alice can process in the rich records' epoch (Bob's
    /// application message).
    pub rich_message: Vec<u8>,
    /// Dave's key package (MLSMessage, last resort), for Add proposals.
    pub dave_key_package: Vec<u8>,
    /// Encoded Proposal structs of every kind the API makes, valid at
    /// epoch 1.
    pub proposals: Vec<Vec<u8>>,
    /// Encoded Commit structs: an update (with a path), an Add by value,
    /// a Remove by value without a path.
    pub commits: Vec<Vec<u8>>,
    /// The observer's record in the rich records' epoch, with Bob's
    /// proposal cached and Alice's GroupInfo accepted.
    pub observer_rich: Records,
    /// Alice's pending commit of the rich records (MLSMessage), which
    /// covers the cached proposal: the rich observer can process it.
    pub rich_commit: Vec<u8>,
    /// Alice's GroupInfo in the rich records' epoch (MLSMessage, with the
    /// tree).
    pub rich_group_info: Vec<u8>,
}

/// The content of a PublicMessage (handshakes are PublicMessages by
/// default).
fn content_of(message: &[u8]) -> Content {
    let message: MlsMessage = decode_exact(message).expect("a message");
    let MlsMessageBody::PublicMessage(public) = message.body else {
        unreachable!("a PublicMessage")
    };
    public.content.content
}

fn encoded_proposal(message: &[u8]) -> Vec<u8> {
    let Content::Proposal(p) = content_of(message) else {
        unreachable!("a proposal")
    };
    encode(&*p).expect("proposal encodes")
}

fn encoded_commit(message: &[u8]) -> Vec<u8> {
    let Content::Commit(c) = content_of(message) else {
        unreachable!("a commit")
    };
    encode(&*c).expect("commit encodes")
}

fn member(id: (&str, u8)) -> (SharedStorage, Client) {
    let storage = shared(MemoryStorage::new());
    let mut client = open_client(id, storage.clone()).expect("fixture client");
    client
        .add_external_psk(PSK_ID.to_vec(), Secret::new(vec![7; 32]))
        .expect("psk");
    (storage, client)
}

impl StoredGroup {
    /// Builds the group deterministically.
    pub fn new() -> Self {
        let (alice_s, mut alice_c) = member(ALICE);
        let (bob_s, mut bob_c) = member(BOB);
        let mut carol_c = crate::client("carol", 3);
        let mut dave = crate::client("dave", 4);
        let mut alice = alice_c
            .create_group(GroupOptions::default())
            .expect("group");
        let kps = [
            bob_c.key_package(KeyPackageOptions::default()).expect("kp"),
            carol_c
                .key_package(KeyPackageOptions::default())
                .expect("kp"),
        ];
        let out = alice.add(&[&kps[0], &kps[1]]).expect("add");
        assert!(matches!(
            alice.process(&out.commit),
            Ok(Event::OwnCommitMerged { .. })
        ));
        let welcome = out.welcome.expect("welcome");
        let mut bob = bob_c.join(&welcome, None).expect("bob joins");
        carol_c.join(&welcome, None).expect("carol joins");
        let dave_key_package = dave
            .key_package(KeyPackageOptions::default().last_resort(true))
            .expect("kp");
        let group_id = alice.group_id().to_vec();

        let observer_s = shared(MemoryStorage::new());
        let mut observer = Observer::from_group_info(
            &alice.group_info(true).expect("group info"),
            None,
            observer_options(observer_s.clone()),
        )
        .expect("observer");
        let (alice_records, bob_records) = (records_of(&alice_s), records_of(&bob_s));
        let observer_records = records_of(&observer_s);

        // Proposals of every kind and commits, made by a copy of Bob that
        // is then dropped: the stored Bob has not sent them.
        let (proposals, commits) = {
            let copy = storage_of(&bob_records);
            let mut client = open_client(BOB, copy).expect("bob");
            let mut bob = client.load_group(&group_id).expect("bob's group");
            let made = [
                bob.propose_add(&dave_key_package),
                bob.propose_update(),
                bob.propose_remove(LeafIndex(2)),
                bob.propose_external_psk(PSK_ID.to_vec()),
                bob.propose_resumption_psk(0),
                bob.propose_group_context_extensions(vec![Extension {
                    extension_type: arbor_mls::types::ExtensionType(0xff00),
                    extension_data: b"fuzz".to_vec(),
                }]),
                bob.propose_reinit(b"fuzz-reinit".to_vec(), Vec::new()),
            ];
            // A kind the API refuses here (e.g. a resumption PSK Bob
            // never held) is simply not a sample.
            let proposals: Vec<Vec<u8>> = made
                .into_iter()
                .filter_map(Result::ok)
                .map(|m| encoded_proposal(&m))
                .collect();
            assert!(proposals.len() >= 6, "proposal samples");
            let commits = vec![
                encoded_commit(&bob.update().expect("update").commit),
                encoded_commit(&bob.add(&[&dave_key_package]).expect("add").commit),
                encode(&Commit {
                    proposals: vec![ProposalOrRef::Proposal(Box::new(Proposal::Remove(
                        Remove {
                            removed: LeafIndex(2),
                        },
                    )))],
                    path: None,
                })
                .expect("commit encodes"),
            ];
            (proposals, commits)
        };
        // The rich records: one more epoch, then Bob's proposal cached,
        // a commit of Alice's pending, authenticated data set, a key
        // package made.
        let update = bob.update().expect("update");
        let Ok(Event::Commit { staged, .. }) = alice.process(&update.commit) else {
            panic!("Alice stages Bob's update")
        };
        alice.merge(*staged).expect("merge");
        bob.merge_pending().expect("bob merges");
        let Ok(Observed::Commit(staged)) = observer.process(&update.commit) else {
            panic!("the observer stages Bob's update")
        };
        observer.merge(*staged).expect("the observer merges");
        let proposal = bob.propose_remove(LeafIndex(2)).expect("proposal");
        assert!(matches!(
            alice.process(&proposal),
            Ok(Event::Proposal { .. })
        ));
        assert!(matches!(
            observer.process(&proposal),
            Ok(Observed::Proposal(_))
        ));
        let rich_group_info = alice.group_info(true).expect("group info");
        observer
            .accept_group_info(&rich_group_info)
            .expect("the observer accepts Alice's GroupInfo");
        let rich_commit = alice.commit().expect("pending commit").commit;
        alice.set_authenticated_data(b"aad".to_vec()).expect("aad");
        alice_c
            .key_package(KeyPackageOptions::default())
            .expect("kp");
        let rich_message = bob.encrypt(b"hello", b"").expect("application");

        Self {
            group_id,
            alice: alice_records,
            bob: bob_records,
            observer: observer_records,
            alice_rich: records_of(&alice_s),
            rich_message,
            dave_key_package,
            proposals,
            commits,
            observer_rich: records_of(&observer_s),
            rich_commit,
            rich_group_info,
        }
    }
}

impl Default for StoredGroup {
    fn default() -> Self {
        Self::new()
    }
}

/// A member opened from a fresh copy of `records`, with the storage it
/// writes to.
pub fn open_member(
    id: (&str, u8),
    records: &Records,
    group_id: &[u8],
) -> (SharedStorage, Client, Group) {
    let storage = storage_of(records);
    let mut client = open_client(id, storage.clone()).expect("stored client");
    let group = client.load_group(group_id).expect("stored group");
    (storage, client, group)
}
