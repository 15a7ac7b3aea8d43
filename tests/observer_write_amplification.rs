//! What an observer with storage writes, counted by a storage wrapper:
//! caching a proposal writes that proposal (the same bytes whether the
//! cache is empty or holds thousands), routing a PrivateMessage writes
//! nothing, and merging a commit writes O(log n) records. Outsiders can
//! send `new_member_proposal` Adds, so these bounds are what stands
//! between an outsider's bytes and the server's disk.
//!
//! `cargo test -p arbor-mls --test observer_write_amplification -- --nocapture`
//! prints the measurements.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arbor_mls::codec::encode;
use arbor_mls::crypto::rust_crypto::RustCryptoProvider;
use arbor_mls::crypto::{SeededRandom, SignaturePrivateKey, Suite};
use arbor_mls::framing::{
    Content, FramedContent, MlsMessage, MlsMessageBody, Sender, sign_content, to_public_message,
};
use arbor_mls::messages::key_package::{KeyPackageData as WireKeyPackage, KeyPackageParams};
use arbor_mls::messages::proposals::{Add, Proposal};
use arbor_mls::storage::{MemoryStorage, Storage, WriteBatch};
use arbor_mls::tree::leaf_node::{Capabilities, Lifetime};
use arbor_mls::{
    Client, Credential, FixedClock, Group, GroupOptions, KeyPackageOptions, Observed, Observer,
    ObserverOptions, WireFormat,
};

const NOW: u64 = 1_750_000_000;

/// What the wrapped storage was asked to write.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Written {
    batches: u64,
    records: u64,
    bytes: u64,
}

impl std::ops::Sub for Written {
    type Output = Written;
    fn sub(self, o: Written) -> Written {
        Written {
            batches: self.batches - o.batches,
            records: self.records - o.records,
            bytes: self.bytes - o.bytes,
        }
    }
}

/// A memory storage that counts the batches, puts and bytes (keys and
/// values) written to it.
struct Counting {
    inner: MemoryStorage,
    written: Arc<Mutex<Written>>,
}

impl Storage for Counting {
    fn get(&self, key: &[u8]) -> arbor_mls::Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn scan(&self, prefix: &[u8]) -> arbor_mls::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(prefix)
    }
    fn write(&mut self, batch: WriteBatch) -> arbor_mls::Result<()> {
        {
            let mut w = self.written.lock().unwrap();
            w.batches += 1;
            w.records += batch.ops.iter().filter(|(_, v)| v.is_some()).count() as u64;
            w.bytes += batch.bytes_written() as u64;
        }
        self.inner.write(batch)
    }
}

struct Counted {
    observer: Observer,
    written: Arc<Mutex<Written>>,
}

impl Counted {
    fn written(&self) -> Written {
        *self.written.lock().unwrap()
    }
}

fn client(name: &str, seed: u8) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .build()
        .unwrap()
}

/// Alice's group of `members` members (the others only contribute key
/// packages), and an observer with counting storage following it.
fn hosted_group(members: usize) -> (Group, Counted) {
    let mut alice = client("alice", 1);
    let mut group = alice.create_group(GroupOptions::default()).unwrap();
    let info = group.group_info(true).unwrap();
    let written = Arc::new(Mutex::new(Written::default()));
    let storage = arbor_mls::storage::shared(Counting {
        inner: MemoryStorage::new(),
        written: written.clone(),
    });
    let options = ObserverOptions {
        clock: Arc::new(FixedClock(NOW)),
        storage: Some(storage),
        ..ObserverOptions::default()
    };
    let mut observer = Observer::from_group_info(&info, None, options).unwrap();
    if members > 1 {
        let kps: Vec<Vec<u8>> = (1..members)
            .map(|i| {
                Client::builder(format!("member {i}"))
                    .clock(Arc::new(FixedClock(NOW)))
                    .build()
                    .unwrap()
                    .key_package(KeyPackageOptions::default())
                    .unwrap()
            })
            .collect();
        let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
        let out = group.add(&refs).unwrap();
        merge(&mut observer, &out.commit);
        group.merge_pending().unwrap();
    }
    (group, Counted { observer, written })
}

fn merge(observer: &mut Observer, commit: &[u8]) {
    match observer.process(commit).unwrap() {
        Observed::Commit(staged) => observer.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// An outsider sending `new_member_proposal` Adds (§12.1.8) of fresh key
/// packages of its own: what anyone who knows the group id and epoch can
/// send, and the default validator accepts.
struct Outsider {
    suite: Suite,
    signer: SignaturePrivateKey,
    public: arbor_mls::SignaturePublicKey,
    rng: SeededRandom,
}

impl Outsider {
    fn new(observer: &Observer) -> Self {
        let suite =
            Suite::from_provider(&RustCryptoProvider, observer.context().cipher_suite).unwrap();
        let mut rng = SeededRandom::from_seed([0x0a; 32]);
        let (signer, public) = suite.primitives().signature_key_pair(&mut rng).unwrap();
        Self {
            suite,
            signer,
            public,
            rng,
        }
    }

    fn propose_add(&mut self, observer: &Observer) -> Vec<u8> {
        let (key_package, _) = WireKeyPackage::create(
            &self.suite,
            &self.signer,
            &self.public,
            KeyPackageParams {
                credential: Credential::basic(b"outsider".to_vec()),
                lifetime: Lifetime {
                    not_before: NOW - 3600,
                    not_after: NOW + 30 * 86_400,
                },
                capabilities: Capabilities::for_suite(self.suite.id()),
                leaf_extensions: vec![],
                extensions: vec![],
            },
            &mut self.rng,
        )
        .unwrap();
        let context = observer.context();
        let framed = FramedContent {
            group_id: context.group_id.clone(),
            epoch: context.epoch,
            sender: Sender::NewMemberProposal,
            authenticated_data: vec![],
            content: Content::Proposal(Box::new(Proposal::Add(Add { key_package }))),
        };
        let signed = sign_content(
            &self.suite,
            WireFormat::PUBLIC_MESSAGE,
            framed,
            context,
            &self.signer,
        )
        .unwrap();
        // No membership tag for a non-member sender: the key is unused.
        let message = to_public_message(&self.suite, signed, &Default::default(), context).unwrap();
        encode(&MlsMessage::new(MlsMessageBody::PublicMessage(Box::new(
            message,
        ))))
        .unwrap()
    }
}

/// 4,000 outsider proposals of about 390 bytes: each writes about its own
/// size, the 4,000th as much as the first, and all of them together about
/// what was received.
#[test]
fn caching_a_proposal_writes_that_proposal() {
    let (_group, mut counted) = hosted_group(2);
    let mut outsider = Outsider::new(&counted.observer);
    let mut received = 0u64;
    let mut per_proposal = Vec::new();
    let mut times = Vec::new();
    let start = counted.written();
    for _ in 0..4000 {
        let message = outsider.propose_add(&counted.observer);
        received += message.len() as u64;
        let before = counted.written();
        let started = Instant::now();
        match counted.observer.process(&message).unwrap() {
            Observed::Proposal(_) => {}
            other => panic!("expected a proposal, got {other:?}"),
        }
        times.push(started.elapsed());
        per_proposal.push((message.len() as u64, counted.written() - before));
    }
    let total = counted.written() - start;
    // Printed, not asserted: timings depend on the machine.
    let mean = |t: &[Duration]| t.iter().sum::<Duration>() / t.len() as u32;
    eprintln!(
        "observer/proposal: mean time of proposals 1-100 {:?}, 3901-4000 {:?}",
        mean(&times[..100]),
        mean(&times[3900..])
    );
    let (first_len, first) = per_proposal[0];
    let (last_len, last) = per_proposal[3999];
    eprintln!(
        "observer/proposal: first {first_len} B received, wrote {first:?}; \
         4000th {last_len} B received, wrote {last:?}; \
         all {received} B received, wrote {total:?}"
    );
    for (i, (len, w)) in per_proposal.iter().enumerate() {
        assert_eq!(w.batches, 1, "proposal {i}: one write");
        assert_eq!(w.records, 1, "proposal {i}: one record");
        assert!(
            w.bytes <= len + 64,
            "proposal {i}: {len} bytes received, {} written",
            w.bytes
        );
    }
    assert!(last.bytes <= first.bytes + 16, "{first:?} then {last:?}");
    assert!(
        total.bytes <= received + 64 * 4000,
        "{received} then {total:?}"
    );
}

/// Routing a PrivateMessage (a member's, or garbage carrying only the
/// group id) writes nothing, at 33 and 257 members.
#[test]
fn routing_a_private_message_writes_nothing() {
    for members in [33, 257] {
        let (mut group, mut counted) = hosted_group(members);
        let message = group.encrypt(b"hello", b"").unwrap();
        // The same header with the ciphertext turned to garbage.
        let mut garbage = message.clone();
        let n = garbage.len();
        for b in &mut garbage[n - 40..] {
            *b ^= 0x5a;
        }
        for (what, m) in [("a member's", &message), ("garbage", &garbage)] {
            let before = counted.written();
            match counted.observer.process(m).unwrap() {
                Observed::Private(route) => assert_eq!(route.group_id, group.group_id()),
                other => panic!("expected routing, got {other:?}"),
            }
            let w = counted.written() - before;
            eprintln!(
                "observer/private/{members}: {what} {} B message, wrote {w:?}",
                m.len()
            );
            assert_eq!(w, Written::default(), "{members} members, {what}");
        }
    }
}

/// Merging an update commit writes its path's nodes and the epoch: at
/// most 2 log2(n) + 4 records, and about the size of the commit.
#[test]
fn merging_a_commit_writes_the_path() {
    for members in [33usize, 257] {
        let (mut group, mut counted) = hosted_group(members);
        let out = group.update().unwrap();
        let before = counted.written();
        merge(&mut counted.observer, &out.commit);
        group.merge_pending().unwrap();
        let w = counted.written() - before;
        eprintln!(
            "observer/merge/{members}: {} B commit, wrote {w:?}",
            out.commit.len()
        );
        let log2 = usize::BITS - (members - 1).leading_zeros();
        assert_eq!(w.batches, 1);
        assert!(
            w.records <= u64::from(2 * log2 + 4),
            "{members} members: {w:?}"
        );
        assert!(
            w.bytes <= 2 * out.commit.len() as u64,
            "{members} members: {} B commit, {w:?}",
            out.commit.len()
        );
    }
}
