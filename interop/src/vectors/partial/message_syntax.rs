//! test-vector-partial-message-syntax.json: each encoded structure decodes
//! as the named Partial MLS structure and re-encodes to the same bytes.

use arbor_mls::codec::{Decode, Encode, decode_exact, encode};
use arbor_mls::framing::{
    AnnotatedCommit, AnnotatedWelcome, PrivateMessage, PublicMessage, SenderAuthenticatedMessage,
};
use arbor_mls::messages::welcome::{GroupInfo, Welcome};
use arbor_mls::tree::membership_proof::{CopathHash, MembershipProof};
use serde_json::Value;

use crate::vectors::Outcome;
use crate::vectors::util::{Check, eq_bytes, hex, outcome};

/// Decodes field `name` as `T` and re-encodes it.
fn round_trip<T: Decode + Encode>(case: &Value, name: &str) -> Check {
    let bytes = hex(case, name)?;
    let value: T = decode_exact(&bytes).map_err(|e| format!("`{name}` does not decode: {e}"))?;
    let again = encode(&value).map_err(|e| format!("`{name}`: encoding: {e}"))?;
    eq_bytes(&format!("{name} re-encoded"), &again, &bytes)
}

/// Runs one entry. Decoding needs no cryptography (keys, hashes and
/// signatures are opaque vectors), so entries of suites the provider lacks
/// run too.
pub fn run(case: &Value) -> Outcome {
    outcome((|| {
        round_trip::<CopathHash>(case, "copath_hash")?;
        round_trip::<MembershipProof>(case, "membership_proof")?;
        round_trip::<SenderAuthenticatedMessage<Welcome>>(case, "sender_authenticated_welcome")?;
        round_trip::<SenderAuthenticatedMessage<GroupInfo>>(
            case,
            "sender_authenticated_group_info",
        )?;
        round_trip::<SenderAuthenticatedMessage<PublicMessage>>(
            case,
            "sender_authenticated_public_message",
        )?;
        round_trip::<SenderAuthenticatedMessage<PrivateMessage>>(
            case,
            "sender_authenticated_private_message",
        )?;
        round_trip::<AnnotatedWelcome>(case, "annotated_welcome")?;
        round_trip::<AnnotatedCommit>(case, "annotated_commit")?;
        Ok(Outcome::Pass)
    })())
}
