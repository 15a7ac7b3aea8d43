//! Stateful inputs as scripts: each step is an operation byte, a length
//! byte and that many payload bytes (fewer at the end of the input). Bob,
//! a member, is the sender the scripts drive: he commits, proposes, sends
//! application data, or signs and tags content the fuzzer chose.

use arbor_mls::codec::decode_exact;
use arbor_mls::framing::Content;
use arbor_mls::messages::commit::Commit;
use arbor_mls::messages::proposals::Proposal;
use arbor_mls::types::math::LeafIndex;
use arbor_mls::types::{Extension, ExtensionType};
use arbor_mls::{Error, ErrorCategory, Group};

use crate::input_from;
use crate::stats::Outcomes;
use crate::stored::PSK_ID;

/// Steps per input: enough for several epochs, few enough that an input
/// stays fast.
pub const MAX_STEPS: usize = 12;

/// One step of a script.
pub struct Step<'a> {
    /// Picks the operation.
    pub op: u8,
    /// Its argument.
    pub payload: &'a [u8],
}

/// The steps of `data`, at most [`MAX_STEPS`].
pub fn steps(data: &[u8]) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < MAX_STEPS {
        let (op, len, tail) = match rest {
            [] => break,
            [op] => (*op, 0, &[][..]),
            [op, len, tail @ ..] => (*op, usize::from(*len), tail),
        };
        let (payload, next) = tail.split_at(len.min(tail.len()));
        out.push(Step { op, payload });
        rest = next;
    }
    out
}

/// A message Bob sent, as the receiver must treat it.
pub enum Sent {
    /// A commit Bob made; pending at Bob until the receiver accepts it.
    Commit(Vec<u8>),
    /// A proposal Bob sent (and cached).
    Proposal(Vec<u8>),
    /// An application message, and its plaintext.
    Application(Vec<u8>, Vec<u8>),
    /// Content the fuzzer chose, signed and membership-tagged by Bob, who
    /// does not hold it (a commit gets a dummy confirmation tag).
    Framed(Vec<u8>),
}

impl Sent {
    /// The message as sent.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::Commit(m) | Self::Proposal(m) | Self::Application(m, _) | Self::Framed(m) => m,
        }
    }
}

/// What Bob sent, how the fuzzer damages it in transit, and whether it
/// carries a structure the fuzzer chose.
pub struct Sending<'a> {
    /// The message.
    pub sent: Sent,
    /// Edits for [`crate::mutate`]; none: delivered as sent.
    pub edits: &'a [u8],
    /// A fuzzer-chosen Proposal or Commit is inside.
    pub structure: bool,
}

/// Kinds of message [`bob_sends`] makes; an operation byte below this
/// picks one.
pub const BOB_KINDS: u8 = 9;

/// Samples the structure-aware kinds mutate.
pub struct Samples<'a> {
    /// Encoded Proposal structs.
    pub proposals: &'a [Vec<u8>],
    /// Encoded Commit structs.
    pub commits: &'a [Vec<u8>],
    /// A key package (MLSMessage) Bob can propose adding.
    pub key_package: &'a [u8],
}

fn split(payload: &[u8]) -> (u8, &[u8]) {
    match payload.split_first() {
        Some((first, rest)) => (*first, rest),
        None => (0, &[]),
    }
}

/// Bob makes a message of kind `kind % BOB_KINDS` from `payload`; `None`
/// when the payload does not decode or Bob's own checks refuse it.
pub fn bob_sends<'a>(
    bob: &mut Group,
    kind: u8,
    payload: &'a [u8],
    samples: &Samples<'_>,
    stats: &mut Outcomes,
) -> Option<Sending<'a>> {
    let plain = |sent| Sending {
        sent,
        edits: payload,
        structure: false,
    };
    let (first, rest) = split(payload);
    let made = match kind % BOB_KINDS {
        0 => bob.update().map(|o| plain(Sent::Commit(o.commit))),
        1 => bob.commit().map(|o| plain(Sent::Commit(o.commit))),
        2 => {
            // Fuzzer-chosen proposals committed by value: Bob's own checks
            // decide what goes out, the receiver's what it accepts.
            let proposal = decode_exact::<Proposal>(&input_from(rest, samples.proposals)).ok()?;
            stats.hit("decoded");
            let made = bob.commit_with(vec![proposal], first & 1 == 1, first & 2 == 2);
            if made.is_err() {
                stats.hit("refused_by_sender");
            }
            made.map(|o| Sending {
                sent: Sent::Commit(o.commit),
                edits: &[],
                structure: true,
            })
        }
        3 => bob.propose_update().map(|m| plain(Sent::Proposal(m))),
        4 => bob
            .propose_remove(LeafIndex(u32::from(first % 4)))
            .map(|m| Sending {
                edits: rest,
                ..plain(Sent::Proposal(m))
            }),
        5 => bob
            .propose_add(samples.key_package)
            .map(|m| plain(Sent::Proposal(m))),
        6 => {
            let epoch = bob.epoch();
            match first % 4 {
                0 => bob.propose_external_psk(PSK_ID.to_vec()),
                // Bob joined at epoch 1: he holds no older resumption PSK,
                // and a commit that needs one is one he cannot follow.
                1 => bob.propose_resumption_psk(epoch.saturating_sub(1).max(1)),
                2 => bob.propose_group_context_extensions(vec![Extension {
                    extension_type: ExtensionType(0xff00),
                    extension_data: rest.to_vec(),
                }]),
                _ => bob.propose_reinit(b"fuzz-reinit".to_vec(), Vec::new()),
            }
            .map(|m| Sending {
                edits: rest,
                ..plain(Sent::Proposal(m))
            })
        }
        7 => bob
            .encrypt(b"fuzz", b"")
            .map(|m| plain(Sent::Application(m, b"fuzz".to_vec()))),
        _ => {
            let content = if first & 1 == 0 {
                let bytes = input_from(rest, samples.proposals);
                Content::Proposal(Box::new(decode_exact::<Proposal>(&bytes).ok()?))
            } else {
                let bytes = input_from(rest, samples.commits);
                Content::Commit(Box::new(decode_exact::<Commit>(&bytes).ok()?))
            };
            stats.hit("decoded");
            bob.dangerous_frame_as_member(content).map(|m| Sending {
                sent: Sent::Framed(m),
                edits: &[],
                structure: true,
            })
        }
    };
    made.ok()
}

/// Whether a receiver's answer shows the message got past decoding and
/// authentication (signature, membership tag, AEAD): accepted, or refused
/// by a later rule.
pub fn past_auth<T>(result: &Result<T, Error>) -> bool {
    match result {
        Ok(_) => true,
        Err(e) => !matches!(
            e.category(),
            ErrorCategory::MalformedInput
                | ErrorCategory::Crypto
                | ErrorCategory::WrongEpoch
                | ErrorCategory::NotForUs
        ),
    }
}

/// Counts a byte-level target's input: `decoded` unless the receiver
/// found it malformed; `past_auth` when accepted, or refused by a later
/// rule while `unchanged` (the library-made sample as it was: a changed
/// signed or encrypted message cannot pass authentication unless forged).
pub fn count_outcome<T>(stats: &mut Outcomes, result: &Result<T, Error>, unchanged: bool) {
    let malformed = matches!(result, Err(e) if e.category() == ErrorCategory::MalformedInput);
    if !malformed {
        stats.hit("decoded");
    }
    if result.is_ok() || (unchanged && past_auth(result)) {
        stats.hit("past_auth");
    }
    if result.is_ok() {
        stats.hit("accepted");
    }
}
