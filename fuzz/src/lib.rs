//! Fixtures shared by the fuzz targets: a deterministic three-member group
//! (Alice, Bob, Carol), a client waiting for a Welcome, and the messages the
//! library itself produces, which the targets mutate so that most inputs get
//! past decoding and reach the group rules.

pub mod script;
pub mod stats;
pub mod stored;

use std::sync::Arc;

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::crypto::SeededRandom;
use arbor_mls::framing::{Content, MlsMessage, MlsMessageBody};
use arbor_mls::messages::commit::Commit;
use arbor_mls::messages::proposals::{
    Add, GroupContextExtensions, Proposal, ProposalOrRef, Remove,
};
use arbor_mls::types::math::LeafIndex;
use arbor_mls::{Client, Event, FixedClock, Group, GroupOptions, KeyPackageOptions};

/// The fixed time of every fixture.
pub const NOW: u64 = 1_750_000_000;

/// A client with a fixed clock and seed.
pub fn client(name: &str, seed: u8) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .build()
        .expect("fixture client")
}

/// A three-member group seen by each member, plus library-made samples.
pub struct Fixture {
    /// Alice's view (the member under attack).
    pub alice: Group,
    /// Bob's view (the member whose key signs structure-aware inputs).
    pub bob: Group,
    /// Dave: not a member; a Welcome for his key package is among the
    /// samples.
    pub dave: Client,
    /// Eve: not a member; joins by external commit.
    pub eve: Client,
    /// MLSMessages Alice can process: proposals, commit, application.
    pub messages: Vec<Vec<u8>>,
    /// A Welcome (MLSMessage) for Dave.
    pub welcome: Vec<u8>,
    /// A GroupInfo (MLSMessage) with the tree and external key.
    pub group_info: Vec<u8>,
    /// Encoded Proposal structs.
    pub proposals: Vec<Vec<u8>>,
    /// Encoded Commit structs (one with a path).
    pub commits: Vec<Vec<u8>>,
}

fn commit_of(message: &[u8]) -> Option<Commit> {
    let message: MlsMessage = decode_exact(message).ok()?;
    match message.body {
        MlsMessageBody::PublicMessage(m) => match m.content.content {
            Content::Commit(c) => Some(*c),
            _ => None,
        },
        _ => None,
    }
}

impl Fixture {
    /// Builds the group deterministically.
    pub fn new() -> Self {
        let mut alice_c = client("alice", 1);
        let mut bob_c = client("bob", 2);
        let mut carol_c = client("carol", 3);
        let mut dave = client("dave", 4);
        let eve = client("eve", 5);
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
        let mut carol = carol_c.join(&welcome, None).expect("carol joins");

        // Last resort: a successful fuzzed join does not use it up.
        let dave_kp = dave
            .key_package(KeyPackageOptions::default().last_resort(true))
            .expect("kp");
        let mut messages = vec![
            bob.propose_update().expect("update"),
            bob.propose_remove(LeafIndex(2)).expect("remove"),
            carol.propose_add(&dave_kp).expect("add"),
            bob.encrypt(b"hello", b"aad").expect("application"),
        ];
        let commit = carol.update().expect("commit");
        messages.push(commit.commit.clone());
        // Dave's Welcome comes from a commit Alice stages but never merges.
        let dave_out = carol.add(&[&dave_kp]).expect("add dave");
        messages.push(dave_out.commit.clone());
        let group_info = alice.group_info(true).expect("group info");

        let MlsMessageBody::KeyPackage(kp) = decode_exact::<MlsMessage>(&dave_kp)
            .expect("kp message")
            .body
        else {
            unreachable!("a key package message")
        };
        let proposals: Vec<Vec<u8>> = [
            Proposal::Add(Add { key_package: *kp }),
            Proposal::Remove(Remove {
                removed: LeafIndex(2),
            }),
            Proposal::GroupContextExtensions(GroupContextExtensions { extensions: vec![] }),
        ]
        .iter()
        .map(|p| encode(p).expect("proposal"))
        .collect();
        let mut commits = vec![
            encode(&Commit {
                proposals: vec![ProposalOrRef::Proposal(Box::new(Proposal::Remove(
                    Remove {
                        removed: LeafIndex(2),
                    },
                )))],
                path: None,
            })
            .expect("commit"),
        ];
        if let Some(c) = commit_of(&commit.commit) {
            commits.push(encode(&c).expect("commit"));
        }
        Self {
            alice,
            bob,
            dave,
            eve,
            messages,
            welcome: dave_out.welcome.expect("welcome for dave"),
            group_info,
            proposals,
            commits,
        }
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

/// `base` with `edits` applied: each triple `(offset lo, offset hi, mask)`
/// XORs one byte (offsets wrap); a leftover byte `n` truncates the result
/// to `n/255` of its length. Mutations of valid messages reach deeper than
/// random bytes.
pub fn mutate(base: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    if out.is_empty() {
        return edits.to_vec();
    }
    let mut pairs = edits.chunks_exact(3);
    for pair in pairs.by_ref() {
        let offset = usize::from(u16::from_le_bytes([pair[0], pair[1]])) % out.len();
        out[offset] ^= pair[2];
    }
    if let [cut, ..] = pairs.remainder() {
        let keep = out.len() * usize::from(*cut) / 255;
        out.truncate(keep);
    }
    out
}

/// Picks the input from `data`: the first byte chooses raw bytes (0) or a
/// mutation of one of `samples`; the rest is the payload.
pub fn input_from(data: &[u8], samples: &[Vec<u8>]) -> Vec<u8> {
    match data.split_first() {
        None => Vec::new(),
        Some((0, rest)) => rest.to_vec(),
        Some((k, rest)) => {
            let base = &samples[usize::from(*k - 1) % samples.len().max(1)];
            mutate(base, rest)
        }
    }
}
