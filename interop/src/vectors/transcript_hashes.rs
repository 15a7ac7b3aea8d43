//! transcript-hashes.json: confirmed and interim transcript hashes (§8.2).

use arbor_mls::codec::decode_exact;
use arbor_mls::framing::TranscriptHashes;
use arbor_mls::framing::{AuthenticatedContent, Content};
use serde_json::Value;

use super::Outcome;
use super::util::{eq_bytes, hex, outcome};
use crate::suite_or_return;

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = suite_or_return!(case);
    outcome((|| {
        let content: AuthenticatedContent = decode_exact(&hex(case, "authenticated_content")?)
            .map_err(|e| format!("authenticated_content does not decode: {e}"))?;
        if !matches!(content.content.content, Content::Commit(_)) {
            return Err("authenticated_content is not a commit".into());
        }
        let interim_before = hex(case, "interim_transcript_hash_before")?;
        let hashes = TranscriptHashes::after_commit(&suite, &interim_before, &content)
            .map_err(|e| e.to_string())?;
        eq_bytes(
            "confirmed_transcript_hash_after",
            &hashes.confirmed,
            &hex(case, "confirmed_transcript_hash_after")?,
        )?;
        eq_bytes(
            "interim_transcript_hash_after",
            &hashes.interim,
            &hex(case, "interim_transcript_hash_after")?,
        )?;
        let tag = content.auth.confirmation_tag.as_deref().unwrap_or_default();
        suite
            .verify_mac(&hex(case, "confirmation_key")?, &hashes.confirmed, tag)
            .map_err(|e| format!("confirmation_tag: {e}"))?;
        Ok(Outcome::Pass)
    })())
}
