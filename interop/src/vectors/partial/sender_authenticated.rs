//! test-vector-partial-sender-authenticated-messages.json: what of an entry
//! can be checked, and why the rest cannot.
//!
//! test-vectors.md: "Given `sender_authenticated_message` and the current
//! partial client state, the client verifies the sender proof and
//! authenticates the message with the signature key from the proven leaf."
//! The entries give the message but no client state: no tree hash to
//! verify the proof against (the draft: the proof "MUST" be valid "relative
//! to the group's tree hash for the epoch in which the message was sent")
//! and no GroupContext, which the FramedContentTBS of a member sender
//! includes (RFC 9420 §6.1). The message is a PublicMessage of epoch 2;
//! the GroupContext rebuilt with the proof's root as tree hash and an
//! empty, all-zero or `Hash("")` confirmed transcript hash, for either
//! wire format, does not verify any entry, so the generator's epoch-2
//! transcript is not derivable from the entry. Each entry has three
//! fields (`cipher_suite`, `message_type`, `sender_authenticated_message`):
//! the confirmed transcript hash is a hash output, which no search over
//! the entry recovers, and the PublicMessage's membership tag needs the
//! epoch's `membership_key`, which the entry does not give either.
//!
//! So the runner checks what the entry determines (the message decodes as
//! `SenderAuthenticatedMessage<PublicMessage>` and re-encodes to the same
//! bytes, the proof is well formed and yields a root, the sender is a
//! member at the proven leaf, the proven leaf has a signature key) and
//! reports the entry skipped for the rest. The same verification
//! ([`verify_sender_authenticated`](arbor_mls::group::partial_commit::verify_sender_authenticated))
//! runs on every application message of the passive-client-scenarios file,
//! whose client state is known.

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::framing::{PublicMessage, Sender, SenderAuthenticatedMessage};
use serde_json::Value;

use crate::vectors::Outcome;
use crate::vectors::util::{eq, eq_bytes, hex, outcome, string};

/// Why the signature of an entry is not checked.
pub const NO_STATE: &str = "the entry gives only the message: a member's signature covers the \
                            epoch's GroupContext (RFC 9420 §6.1), whose confirmed transcript \
                            hash (a hash over earlier commits) and extensions the entry does not \
                            determine, and its membership tag needs the epoch's membership key; \
                            message, proof shape and proven sender checked";

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome((|| {
        let kind = string(case, "message_type")?;
        if !kind.starts_with("PublicMessage") {
            return Err(format!("unknown `message_type` {kind}"));
        }
        let bytes = hex(case, "sender_authenticated_message")?;
        let message: SenderAuthenticatedMessage<PublicMessage> = decode_exact(&bytes)
            .map_err(|e| format!("`sender_authenticated_message` does not decode: {e}"))?;
        let again = encode(&message).map_err(|e| e.to_string())?;
        eq_bytes("re-encoded", &again, &bytes)?;
        let proof = &message.sender_membership_proof;
        proof
            .root_tree_hash(&suite)
            .map_err(|e| format!("sender proof: {e}"))?;
        let Sender::Member(leaf) = message.message.content.sender else {
            return Err("the sender is not a member".into());
        };
        eq("sender leaf", leaf, proof.leaf_index)?;
        let key = &proof
            .leaf_node()
            .map_err(|e| format!("sender proof: {e}"))?
            .signature_key;
        if key.as_bytes().is_empty() {
            return Err("the proven leaf has an empty signature key".into());
        }
        Ok(Outcome::Skip(NO_STATE.into()))
    })())
}
