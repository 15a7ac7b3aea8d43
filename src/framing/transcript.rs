//! Transcript hashes (§8.2).

use crate::codec::Writer;
use crate::crypto::Suite;
use crate::framing::{AuthenticatedContent, Content};
use crate::{Error, Result};

/// The pair of transcript hashes a group carries from epoch to epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptHashes {
    /// `confirmed_transcript_hash`: goes into the GroupContext.
    pub confirmed: Vec<u8>,
    /// `interim_transcript_hash`: the input to the next confirmed hash.
    pub interim: Vec<u8>,
}

impl TranscriptHashes {
    /// Folds a commit into the transcript: computes the confirmed hash from
    /// the previous interim hash and the commit, then the new interim hash
    /// from the commit's confirmation tag.
    pub fn after_commit(
        suite: &Suite,
        interim_before: &[u8],
        commit: &AuthenticatedContent,
    ) -> Result<Self> {
        let confirmed = confirmed_transcript_hash(suite, interim_before, commit)?;
        Self::from_confirmed(suite, confirmed, commit)
    }

    /// [`Self::after_commit`] for a commit whose confirmed transcript hash
    /// is already known (computed from the encoding its signature check
    /// made, see [`ContentEncoding`](crate::framing::ContentEncoding)).
    pub fn from_confirmed(
        suite: &Suite,
        confirmed: Vec<u8>,
        commit: &AuthenticatedContent,
    ) -> Result<Self> {
        // §6.1: a commit's auth data always carries a confirmation tag; the
        // decoder guarantees it, so its absence here is our bug.
        let tag = commit
            .auth
            .confirmation_tag
            .as_deref()
            .ok_or(Error::Internal("commit without confirmation tag"))?;
        let interim = interim_transcript_hash(suite, &confirmed, tag)?;
        Ok(Self { confirmed, interim })
    }
}

/// `confirmed_transcript_hash = Hash(interim_transcript_hash_before ||
/// ConfirmedTranscriptHashInput)` (§8.2). Only commits enter the transcript.
pub fn confirmed_transcript_hash(
    suite: &Suite,
    interim_before: &[u8],
    commit: &AuthenticatedContent,
) -> Result<Vec<u8>> {
    if !matches!(commit.content.content, Content::Commit(_)) {
        return Err(Error::Misuse(
            "only commits enter the transcript hash (RFC 9420 §8.2)".into(),
        ));
    }
    let input = commit.confirmed_transcript_hash_input()?;
    Ok(suite.hash_parts(&[interim_before, &input]))
}

/// `interim_transcript_hash = Hash(confirmed_transcript_hash ||
/// InterimTranscriptHashInput)` where the input is the confirmation tag as
/// `opaque<V>` (§8.2).
pub fn interim_transcript_hash(
    suite: &Suite,
    confirmed: &[u8],
    confirmation_tag: &[u8],
) -> Result<Vec<u8>> {
    let mut w = Writer::new();
    w.put(confirmed);
    w.opaque(confirmation_tag);
    Ok(suite.hash(&w.finish()?))
}
