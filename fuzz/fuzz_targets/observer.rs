//! Stateful: an observer loaded from its stored record follows a script
//! (`arbor_mls_fuzz::script`) of messages from Bob, a member: his commits
//! (an update, his cached proposals, a fuzzer-chosen proposal by value),
//! proposals, application data, fuzzer-chosen content he signs, and his
//! GroupInfo uploads; the observer reloads from storage at any step. Every
//! commit it accepts is merged, so inputs reach later epochs (a
//! fuzzer-chosen commit too: an observer cannot check confirmation tags, so
//! it follows it, and the script ends there since no member did).
//!
//! Properties: never a panic; a handshake or GroupInfo changed in transit
//! is refused and leaves the observer as it was, unless only the tags an
//! observer cannot check (membership, confirmation) changed; what Bob's own checks let
//! out, the observer accepts, and after merging his commit its
//! GroupContext is Bob's; a reload gives back the same state.
#![no_main]

use std::sync::OnceLock;

use arbor_mls::codec::decode_exact;
use arbor_mls::framing::{MlsMessage, MlsMessageBody};
use arbor_mls::storage::SharedStorage;
use arbor_mls::{Client, Group, Observed, Observer};
use arbor_mls_fuzz::mutate;
use arbor_mls_fuzz::script::{BOB_KINDS, Samples, Sending, Sent, bob_sends, past_auth, steps};
use arbor_mls_fuzz::stats::Outcomes;
use arbor_mls_fuzz::stored::{
    BOB, StoredGroup, observer_options, open_client, open_member, storage_of,
};
use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<StoredGroup> = OnceLock::new();

/// Whether the script goes on.
enum Flow {
    Go,
    Stop,
}

fn state(observer: &Observer) -> Vec<u8> {
    observer.to_bytes().expect("the observer encodes")
}

/// How a changed message differs from the one sent, as far as an
/// observer can tell.
#[derive(Debug, PartialEq)]
enum Changed {
    /// Only the membership tag, which needs the membership key.
    MembershipTag,
    /// The confirmation tag too, which needs the next epoch's key.
    ConfirmationTag,
    /// Anything else.
    Other,
}

/// The message with the tags an observer cannot check taken out.
fn without_tags(bytes: &[u8], confirmation: bool) -> Option<MlsMessage> {
    let mut message: MlsMessage = decode_exact(bytes).ok()?;
    if let MlsMessageBody::PublicMessage(public) = &mut message.body {
        public.membership_tag = None;
        if confirmation {
            public.auth.confirmation_tag = None;
        }
    }
    Some(message)
}

fn compare(changed: &[u8], original: &[u8]) -> Changed {
    let same = |confirmation| {
        without_tags(changed, confirmation)
            .is_some_and(|c| Some(c) == without_tags(original, confirmation))
    };
    if same(false) {
        Changed::MembershipTag
    } else if same(true) {
        Changed::ConfirmationTag
    } else {
        Changed::Other
    }
}

/// Delivers Bob's message: damaged first (when the fuzzer edits it), then
/// as sent.
fn deliver(
    observer: &mut Observer,
    bob: &mut Group,
    sending: Sending<'_>,
    stats: &mut Outcomes,
) -> Flow {
    let original = sending.sent.bytes().to_vec();
    let changed = mutate(&original, sending.edits);
    let before = state(observer);
    let mut taken = None;
    if changed != original {
        match observer.process(&changed) {
            // A PrivateMessage is only routed: nothing to authenticate.
            Ok(Observed::Private(_)) | Err(_) => {
                assert_eq!(
                    state(observer),
                    before,
                    "a changed message changed the observer"
                );
            }
            // Only what needs the epoch's secrets may differ
            // (docs/observer.md, "What it cannot check").
            Ok(observed) => match compare(&changed, &original) {
                Changed::MembershipTag => taken = Some(observed),
                Changed::ConfirmationTag => {
                    // The observer forks from the members, as documented:
                    // the script ends.
                    if let Observed::Commit(staged) = observed {
                        observer
                            .merge(*staged)
                            .expect("the observer merges a staged commit");
                    }
                    return Flow::Stop;
                }
                Changed::Other => {
                    panic!("a handshake changed in transit was accepted: {observed:?}")
                }
            },
        }
    }
    let result = match taken {
        Some(observed) => Ok(observed),
        None => observer.process(&original),
    };
    let application = matches!(sending.sent, Sent::Application(..));
    if past_auth(&result) && !application {
        stats.hit("past_auth");
        if sending.structure {
            stats.hit("structure_past_auth");
        }
    }
    match (sending.sent, result) {
        (Sent::Commit(_), Ok(Observed::Commit(staged))) => {
            let reinit = staged.summary().reinit.is_some();
            observer
                .merge(*staged)
                .expect("the observer merges a staged commit");
            bob.merge_pending().expect("Bob merges his own commit");
            stats.hit("merged");
            assert_eq!(observer.context(), bob.state().context());
            if reinit || !bob.is_active() {
                return Flow::Stop;
            }
        }
        (Sent::Proposal(_), Ok(Observed::Proposal(_)))
        | (Sent::Application(..), Ok(Observed::Private(_)))
        | (Sent::Framed(_), Ok(Observed::Proposal(_))) => {}
        (Sent::Framed(_), Ok(Observed::Commit(staged))) => {
            observer
                .merge(*staged)
                .expect("the observer merges a staged commit");
            stats.hit("merged");
            stats.hit("merged_fuzzed_commit");
            return Flow::Stop;
        }
        // Bob's API sends some proposals without the checks receivers
        // run (a Remove of a blank leaf): refused, they change nothing,
        // and Bob's commits leave them out.
        (Sent::Proposal(_), Err(_)) => {
            stats.hit("sender_proposal_refused");
            assert_eq!(
                state(observer),
                before,
                "a refused message changed the observer"
            );
        }
        (Sent::Framed(_), Err(_)) => {
            assert_eq!(
                state(observer),
                before,
                "a refused message changed the observer"
            );
        }
        (_, other) => panic!("the observer refused what Bob legitimately sent: {other:?}"),
    }
    Flow::Go
}

/// Bob uploads his GroupInfo: damaged (when the fuzzer edits it) it is
/// refused; as made, accepted.
fn upload_group_info(observer: &mut Observer, bob: &Group, payload: &[u8], stats: &mut Outcomes) {
    let (with_tree, edits) = match payload.split_first() {
        Some((first, rest)) => (first & 1 == 1, rest),
        None => (false, &[][..]),
    };
    let Ok(info) = bob.group_info(with_tree) else {
        return;
    };
    let changed = mutate(&info, edits);
    if changed != info {
        let before = state(observer);
        assert!(
            observer.accept_group_info(&changed).is_err(),
            "a GroupInfo changed in transit was accepted"
        );
        assert_eq!(
            state(observer),
            before,
            "a refused GroupInfo changed the observer"
        );
    }
    observer
        .accept_group_info(&info)
        .expect("the observer accepts Bob's GroupInfo");
    stats.hit("past_auth");
    assert_eq!(observer.group_info(), Some(&info[..]));
}

/// Loads the observer again from its storage: the same state comes back.
fn reload(observer: &mut Observer, storage: &SharedStorage) {
    let reloaded = Observer::load(observer.group_id(), observer_options(storage.clone()))
        .expect("a stored observer loads")
        .expect("the observer is stored");
    assert_eq!(state(&reloaded), state(observer), "reloaded state differs");
    *observer = reloaded;
}

fuzz_target!(|data: &[u8]| {
    let f = FIXTURE.get_or_init(StoredGroup::new);
    let mut stats = Outcomes::default();
    let storage = storage_of(&f.observer);
    let mut observer = Observer::load(&f.group_id, observer_options(storage.clone()))
        .expect("the stored observer loads")
        .expect("the observer is stored");
    let (bob_storage, _, mut bob) = open_member(BOB, &f.bob, &f.group_id);
    let samples = Samples {
        proposals: &f.proposals,
        commits: &f.commits,
        key_package: &f.dave_key_package,
    };
    let mut epochs = 0;
    let mut reloads: u8 = 0;
    for step in steps(data) {
        let epoch = observer.epoch();
        let flow = match step.op % (BOB_KINDS + 3) {
            k if k < BOB_KINDS => {
                match bob_sends(&mut bob, k, step.payload, &samples, &mut stats) {
                    Some(sending) => deliver(&mut observer, &mut bob, sending, &mut stats),
                    None => Flow::Go,
                }
            }
            k if k == BOB_KINDS => {
                upload_group_info(&mut observer, &bob, step.payload, &mut stats);
                Flow::Go
            }
            k if k == BOB_KINDS + 1 => {
                reload(&mut observer, &storage);
                Flow::Go
            }
            _ => {
                // Bob restarts too, with fresh randomness.
                reloads = reloads.wrapping_add(1);
                let seed = BOB.1.wrapping_add(reloads.wrapping_mul(16));
                let mut client: Client =
                    open_client((BOB.0, seed), bob_storage.clone()).expect("Bob reopens");
                bob = client.load_group(&f.group_id).expect("Bob's group reloads");
                Flow::Go
            }
        };
        if observer.epoch() != epoch {
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
