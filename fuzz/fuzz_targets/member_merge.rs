//! Stateful: Alice and Bob, two members of a three-member group loaded from
//! stored records, follow a script (`arbor_mls_fuzz::script`). Bob commits
//! (an update, his cached proposals, or a fuzzer-chosen proposal by value),
//! proposes, sends application data, or signs fuzzer-chosen content; Alice
//! commits; either reloads from storage. Every commit both accept is
//! merged, so inputs reach later epochs.
//!
//! Properties: never a panic; a message changed in transit is refused and
//! leaves Alice as she was; what Bob's own checks let out, Alice accepts;
//! a commit with a confirmation tag nobody computed is refused; after each
//! merge both have the same epoch authenticator; a reload gives back the
//! same state.
#![no_main]

use std::sync::OnceLock;

use arbor_mls::storage::SharedStorage;
use arbor_mls::{Client, Event, Group};
use arbor_mls_fuzz::mutate;
use arbor_mls_fuzz::script::{BOB_KINDS, Samples, Sending, Sent, bob_sends, past_auth, steps};
use arbor_mls_fuzz::stats::Outcomes;
use arbor_mls_fuzz::stored::{ALICE, BOB, Records, StoredGroup, open_client, open_member};
use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<StoredGroup> = OnceLock::new();

/// What a refused message must leave unchanged.
#[derive(Debug, PartialEq)]
struct Snapshot {
    epoch: u64,
    authenticator: Vec<u8>,
    cached: usize,
}

impl Snapshot {
    fn of(group: &Group) -> Self {
        Self {
            epoch: group.epoch(),
            authenticator: group.epoch_authenticator().to_vec(),
            cached: group.state().proposals().len(),
        }
    }
}

/// A member and the storage it is persisted in.
struct Member {
    storage: SharedStorage,
    group: Group,
    id: (&'static str, u8),
    reloads: u8,
}

impl Member {
    fn open(id: (&'static str, u8), records: &Records, group_id: &[u8]) -> Self {
        let (storage, _, group) = open_member(id, records, group_id);
        Self {
            storage,
            group,
            id,
            reloads: 0,
        }
    }

    /// Reopens the client and group from storage: the same state comes
    /// back. Each reload gets fresh randomness.
    fn reload(&mut self) {
        let before = Snapshot::of(&self.group);
        self.reloads = self.reloads.wrapping_add(1);
        let (name, seed) = self.id;
        let mut client: Client = open_client(
            (name, seed.wrapping_add(self.reloads.wrapping_mul(16))),
            self.storage.clone(),
        )
        .expect("a stored client reopens");
        let group_id = self.group.group_id().to_vec();
        self.group = client
            .load_group(&group_id)
            .expect("a stored group reloads");
        assert_eq!(Snapshot::of(&self.group), before, "reloaded state differs");
    }
}

/// Whether the script goes on.
enum Flow {
    Go,
    Stop,
}

/// Delivers Bob's message to Alice: damaged first (when the fuzzer edits
/// it), then as sent.
fn deliver(
    alice: &mut Group,
    bob: &mut Group,
    sending: Sending<'_>,
    foreign: &mut bool,
    stats: &mut Outcomes,
) -> Flow {
    let original = sending.sent.bytes().to_vec();
    let changed = mutate(&original, sending.edits);
    if changed != original {
        let before = Snapshot::of(alice);
        if let Ok(event) = alice.process(&changed) {
            panic!("a message changed in transit was accepted: {event:?}");
        }
        assert_eq!(
            Snapshot::of(alice),
            before,
            "a refused message changed Alice"
        );
    }
    let before = Snapshot::of(alice);
    let result = alice.process(&original);
    if past_auth(&result) {
        stats.hit("past_auth");
        if sending.structure {
            stats.hit("structure_past_auth");
        }
    }
    match (sending.sent, result) {
        (Sent::Commit(_), Ok(Event::Commit { staged, .. })) => {
            let removed = staged.summary.self_removed;
            let reinit = staged.summary.reinit.is_some();
            alice.merge(*staged).expect("Alice merges a staged commit");
            bob.merge_pending().expect("Bob merges his own commit");
            *foreign = false;
            stats.hit("merged");
            if removed || reinit {
                return Flow::Stop;
            }
            assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
        }
        (Sent::Proposal(_), Ok(Event::Proposal { .. })) => {}
        (Sent::Application(_, sent), Ok(Event::Application { data, .. })) => {
            assert_eq!(data, sent);
        }
        (Sent::Framed(_), Ok(Event::Proposal { .. })) => *foreign = true,
        (Sent::Framed(_), Ok(Event::Commit { .. })) => {
            panic!("a commit with a dummy confirmation tag was accepted")
        }
        // Bob's API sends some proposals without the checks receivers
        // run (a Remove of a blank leaf): refused, they change nothing,
        // and Bob's commits leave them out.
        (Sent::Proposal(_), Err(_)) => {
            stats.hit("sender_proposal_refused");
            assert_eq!(
                Snapshot::of(alice),
                before,
                "a refused message changed Alice"
            );
        }
        (Sent::Framed(_), Err(_)) => {
            assert_eq!(
                Snapshot::of(alice),
                before,
                "a refused message changed Alice"
            );
        }
        (_, other) => panic!("Alice refused what Bob legitimately sent: {other:?}"),
    }
    Flow::Go
}

/// Alice commits (her cached proposals when Bob holds them all, else an
/// update) and Bob follows.
fn alice_commits(
    alice: &mut Group,
    bob: &mut Group,
    foreign: &mut bool,
    stats: &mut Outcomes,
) -> Flow {
    let made = if *foreign {
        alice.update()
    } else {
        alice.commit()
    };
    let Ok(out) = made else {
        return Flow::Go;
    };
    match alice.process(&out.commit) {
        Ok(Event::OwnCommitMerged { .. }) => {}
        other => panic!("Alice's own commit echoed back: {other:?}"),
    }
    let staged = match bob.process(&out.commit) {
        Ok(Event::Commit { staged, .. }) => staged,
        other => panic!("Bob refused Alice's commit: {other:?}"),
    };
    let removed = staged.summary.self_removed;
    let reinit = staged.summary.reinit.is_some();
    bob.merge(*staged).expect("Bob merges a staged commit");
    *foreign = false;
    stats.hit("merged");
    if removed || reinit {
        return Flow::Stop;
    }
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
    Flow::Go
}

fuzz_target!(|data: &[u8]| {
    let f = FIXTURE.get_or_init(StoredGroup::new);
    let mut stats = Outcomes::default();
    let mut alice = Member::open(ALICE, &f.alice, &f.group_id);
    let mut bob = Member::open(BOB, &f.bob, &f.group_id);
    let samples = Samples {
        proposals: &f.proposals,
        commits: &f.commits,
        key_package: &f.dave_key_package,
    };
    // Alice caches a proposal Bob does not hold: her commits must not
    // cover it, or Bob could not follow.
    let mut foreign = false;
    let mut epochs = 0;
    for step in steps(data) {
        let epoch = alice.group.epoch();
        let flow = match step.op % (BOB_KINDS + 3) {
            k if k < BOB_KINDS => {
                match bob_sends(&mut bob.group, k, step.payload, &samples, &mut stats) {
                    Some(sending) => deliver(
                        &mut alice.group,
                        &mut bob.group,
                        sending,
                        &mut foreign,
                        &mut stats,
                    ),
                    None => Flow::Go,
                }
            }
            k if k == BOB_KINDS => {
                alice_commits(&mut alice.group, &mut bob.group, &mut foreign, &mut stats)
            }
            k if k == BOB_KINDS + 1 => {
                alice.reload();
                Flow::Go
            }
            _ => {
                bob.reload();
                Flow::Go
            }
        };
        if alice.group.epoch() != epoch {
            epochs += 1;
            if epochs >= 2 {
                stats.hit("merged_twice");
            }
        }
        if let Flow::Stop = flow {
            break;
        }
    }
});
