//! A compact, versioned encoding of an observer's state, for storage. It
//! holds only what members publish: GroupContext, ratchet tree, interim
//! transcript hash, confirmation tag, the epoch's cached proposals, the
//! uploaded GroupInfo, and a ReInit if the group was closed. Policy and the
//! credential validator are not stored; they are given again on load.

use crate::codec::{encode, wire_struct};
use crate::crypto::{CryptoProvider, Suite};
use crate::framing::Sender;
use crate::group::authorization::Authority;
use crate::group::join::tree_from_wire;
use crate::group::observer::{ObserverState, PublicEpoch};
use crate::group::proposal_cache::{CachedProposal, ProposalCache};
use crate::group::state::GroupConfig;
use crate::messages::proposals::{Proposal, ReInit};
use crate::schedule::GroupContext;
use crate::tree::nodes::RatchetTreeWire;
use crate::{Error, Result, decode_exact};

/// The format version written first; a loader refuses any other.
const VERSION: u16 = 1;

wire_struct! {
    /// One cached proposal.
    struct StoredProposal {
        reference: Vec<u8>,
        proposal: Proposal,
        sender: Sender,
    }
}

wire_struct! {
    /// Version 1 of the stored observer state.
    struct StoredObserver {
        version: u16,
        context: GroupContext,
        tree: RatchetTreeWire,
        interim_transcript_hash: Vec<u8>,
        confirmation_tag: Vec<u8>,
        proposals: Vec<StoredProposal>,
        group_info: Option<Vec<u8>>,
        reinit: Option<ReInit>,
    }
}

impl ObserverState {
    /// Encodes the state (version 1) for storage.
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>> {
        let stored = StoredObserver {
            version: VERSION,
            context: self.epoch.context.clone(),
            tree: self.epoch.tree.to_wire(),
            interim_transcript_hash: self.epoch.interim_transcript_hash.clone(),
            confirmation_tag: self.epoch.confirmation_tag.clone(),
            proposals: self
                .proposals
                .iter()
                .map(|p| StoredProposal {
                    reference: p.reference.clone(),
                    proposal: p.proposal.clone(),
                    sender: p.sender,
                })
                .collect(),
            group_info: self.group_info.clone(),
            reinit: self.reinit.clone(),
        };
        Ok(encode(&stored)?)
    }

    /// Decodes a state written by [`Self::to_bytes`], with the group's
    /// cipher suite from `provider`. The tree must hash to the stored context's tree hash
    /// and the proposals fit `config`, so a corrupted record is refused
    /// rather than observed from.
    pub(crate) fn from_bytes(
        provider: &dyn CryptoProvider,
        bytes: &[u8],
        config: GroupConfig,
        authority: Authority,
    ) -> Result<Self> {
        let version = bytes
            .get(..2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| Error::Storage("observer state: shorter than its version".into()))?;
        if version != VERSION {
            return Err(Error::Storage(format!(
                "observer state of version {version}; this library reads version {VERSION}"
            )));
        }
        let stored: StoredObserver = decode_exact("observer state", bytes)?;
        let suite = &Suite::from_provider(provider, stored.context.cipher_suite)?;
        let tree = tree_from_wire(stored.tree, config.max_leaves)?;
        if tree.root_tree_hash(suite)? != stored.context.tree_hash {
            return Err(Error::Storage(
                "observer state: the stored tree does not match the stored tree hash".into(),
            ));
        }
        if stored.proposals.len() > config.max_cached_proposals {
            return Err(Error::Limit(format!(
                "the stored observer holds {} proposals, more than \
                 GroupConfig::max_cached_proposals = {}",
                stored.proposals.len(),
                config.max_cached_proposals
            )));
        }
        let mut proposals = ProposalCache::default();
        for p in stored.proposals {
            proposals.insert(CachedProposal {
                reference: p.reference,
                proposal: p.proposal,
                sender: p.sender,
            });
        }
        Ok(Self {
            suite: suite.clone(),
            config,
            epoch: PublicEpoch {
                context: stored.context,
                tree,
                interim_transcript_hash: stored.interim_transcript_hash,
                confirmation_tag: stored.confirmation_tag,
            },
            proposals,
            authority,
            group_info: stored.group_info,
            reinit: stored.reinit,
        })
    }
}
