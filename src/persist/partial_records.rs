//! The record of a partial client's group (draft-ietf-mls-partial): one
//! record, `p/<hex group id>`, holding the whole state of the current
//! epoch. It is O(log n) in the group size (one membership proof, the keys
//! of one direct path) plus the ratchets of the senders read in the epoch,
//! so each transition rewrites it whole, in one write: a consumed message
//! key is gone from the record written after its message was read.
//!
//! The key prefix differs from a full group's (`g/`), so a partial group is
//! never read as a full one or the reverse.

use crate::Result;
use crate::codec::{DecodeError, Encode, Reader, Writer};
use crate::crypto::{Secret, Suite};
use crate::group::partial_epoch::{PartialEpoch, PartialEpochParts, PathKey};
use crate::group::proposal_cache::ProposalCache;
use crate::schedule::{EpochSecrets, InitSecret};
use crate::types::math::{LeafIndex, NodeIndex};

use super::group_records::{
    decode_cached_proposal, decode_secret_tree, encode_cached_proposal, encode_secret_tree,
};
use super::records::{Kind, corrupt, get, get_hpke_key, get_list, hex, open, seal};

/// Prefix of partial group records.
pub(crate) const PARTIAL_PREFIX: &str = "p/";

/// The key of the partial group `group_id`.
pub(crate) fn partial_key(group_id: &[u8]) -> Vec<u8> {
    format!("{PARTIAL_PREFIX}{}", hex(group_id)).into_bytes()
}

/// Encodes the state of a partial group and the proposals it cached.
pub(crate) fn encode_partial(epoch: &PartialEpoch, proposals: &ProposalCache) -> Result<Vec<u8>> {
    seal(Kind::PartialGroup, |w| {
        epoch.context.encode(w);
        epoch.interim_transcript_hash.encode(w);
        epoch.confirmation_tag.encode(w);
        epoch.own_leaf.encode(w);
        encode_secrets(&epoch.secrets, w);
        epoch.leaf_key().0.encode(w);
        w.vector(|w| {
            for k in epoch.path_keys() {
                k.node.0.encode(w);
                k.private.0.encode(w);
                k.public.encode(w);
            }
        });
        encode_secret_tree(epoch.secret_tree(), w);
        epoch.own_proof().encode(w);
        w.vector(|w| {
            for p in proposals.iter() {
                encode_cached_proposal(p, w);
            }
        });
    })
}

/// The secrets a partial client keeps: those of [`EpochSecrets`] but the
/// encryption secret (the secret tree holds what is left of it) and the
/// safe exporter's root (not kept, as for a full group: docs/persistence.md).
fn encode_secrets(s: &EpochSecrets, w: &mut Writer) {
    s.sender_data_secret.encode(w);
    s.exporter_secret.encode(w);
    s.external_secret.encode(w);
    s.confirmation_key.encode(w);
    s.membership_key.encode(w);
    s.resumption_psk.encode(w);
    s.epoch_authenticator.encode(w);
    s.init_secret.as_secret().encode(w);
}

fn decode_secrets(suite: &Suite, r: &mut Reader<'_>) -> Result<EpochSecrets, DecodeError> {
    Ok(EpochSecrets {
        sender_data_secret: get(r, "sender_data_secret")?,
        encryption_secret: Secret::zero(suite.hash_len()),
        exporter_secret: get(r, "exporter_secret")?,
        external_secret: get(r, "external_secret")?,
        confirmation_key: get(r, "confirmation_key")?,
        membership_key: get(r, "membership_key")?,
        resumption_psk: get(r, "resumption_psk")?,
        epoch_authenticator: get(r, "epoch_authenticator")?,
        application_export_secret: Secret::zero(suite.hash_len()),
        init_secret: InitSecret::new(get(r, "init_secret")?),
    })
}

/// Decodes the record written by [`encode_partial`] under `key`; a record
/// that does not decode, or whose parts do not fit together (a proof for
/// another leaf, a secret tree of another width, a key off the direct
/// path), is an [`Error::Storage`] naming it.
pub(crate) fn decode_partial(
    suite: &Suite,
    key: &[u8],
    bytes: &[u8],
) -> Result<(PartialEpoch, ProposalCache)> {
    let (own_leaf, parts, cached) = open(key, Kind::PartialGroup, bytes, |r| {
        let context = get(r, "context")?;
        let interim_transcript_hash = get(r, "interim_transcript_hash")?;
        let confirmation_tag = get(r, "confirmation_tag")?;
        let own_leaf: LeafIndex = get(r, "own_leaf")?;
        let secrets = decode_secrets(suite, r)?;
        let leaf_key = get_hpke_key(r, "leaf_key")?;
        let path_keys = get_list(r, |r| {
            Ok(PathKey {
                node: NodeIndex(get(r, "node")?),
                private: get_hpke_key(r, "private")?,
                public: get(r, "public")?,
            })
        })?;
        let secret_tree = decode_secret_tree(suite, r)?;
        let own_proof = get(r, "own_proof")?;
        let cached = get_list(r, decode_cached_proposal)?;
        Ok((
            own_leaf,
            PartialEpochParts {
                context,
                interim_transcript_hash,
                confirmation_tag,
                secrets,
                leaf_key,
                path_keys,
                secret_tree,
                own_proof,
            },
            cached,
        ))
    })?;
    let epoch = PartialEpoch::from_parts(own_leaf, parts)
        .map_err(|e| corrupt(key, format_args!("does not hold a consistent state ({e})")))?;
    let mut proposals = ProposalCache::default();
    for p in cached {
        proposals.insert(p);
    }
    Ok((epoch, proposals))
}
