//! AppAck (draft-ietf-mls-extensions, "AppAck"): the group remembers which
//! application messages it received in the current epoch, so that one call
//! acknowledges them, and tells which messages a received AppAck lacks.
//!
//! "Messages are represented by the `sender` and `generation` values in the
//! PrivateMessage"; generations restart at 0 in each epoch, so the record
//! is per epoch and starts empty when the epoch changes. It is kept in
//! memory only: after a restart, the current epoch's record is empty.

use std::collections::BTreeMap;

use crate::api::group::Group;
use crate::api::received_generations::{subtract, union};
use crate::crypto::component::component_ids::APP_ACK;
use crate::messages::proposals::Proposal;
use crate::schedule::RatchetType;
use crate::types::content_media::{AppAck, MessageRange};
use crate::{Error, Result};

impl Group {
    /// The AppAck of the application messages this member received in
    /// the current epoch: one range per run of consecutive generations of
    /// each sender, senders in leaf order. Empty right after a commit.
    pub fn received_app_ack(&self) -> AppAck {
        let ranges = self
            .received
            .ranges_at(self.epoch())
            .map(|ranges| {
                ranges
                    .iter()
                    .flat_map(|(&sender, ranges)| {
                        ranges.iter().map(move |&(first, last)| MessageRange {
                            sender,
                            first_generation: first,
                            last_generation: last,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Ranges built from received generations are never inverted.
        AppAck::new(ranges).unwrap_or_default()
    }

    /// Whether [`Self::received_app_ack`] covers every message received in
    /// the current epoch (false once [`MAX_ACK_RANGES`](crate::api::MAX_ACK_RANGES) was reached).
    pub fn app_ack_complete(&self) -> bool {
        self.received.complete_at(self.epoch())
    }

    /// Proposes [`Self::received_app_ack`] ([`Self::propose_app_ack`]):
    /// acknowledges what this member received in the current epoch.
    pub fn propose_received_app_ack(&mut self) -> Result<Vec<u8>> {
        let ack = self.received_app_ack();
        self.propose_app_ack(&ack)
    }

    /// The messages of the current epoch that `ack` (received from another
    /// member in this epoch) does not acknowledge, as far as this member
    /// can tell: for each sender, the generations below the highest one
    /// acknowledged that are not, and the messages this member sent or
    /// received that are not. Sorted by sender and generation; empty when
    /// nothing is known to be missing.
    pub fn app_ack_missing(&self, ack: &AppAck) -> Vec<MessageRange> {
        let mut acked: BTreeMap<u32, Vec<(u32, u32)>> = BTreeMap::new();
        for r in ack.received_ranges() {
            acked
                .entry(r.sender)
                .or_default()
                .push((r.first_generation, r.last_generation));
        }
        for ranges in acked.values_mut() {
            *ranges = union(&[ranges]);
        }
        let mut known: BTreeMap<u32, Vec<(u32, u32)>> = BTreeMap::new();
        if let Some(received) = self.received.ranges_at(self.epoch()) {
            for (&sender, ranges) in received {
                known.insert(sender, ranges.clone());
            }
        }
        let own = self.state.own_leaf();
        if let Some(sent) = self.sent_application_messages() {
            let entry = known.entry(own.0).or_default();
            *entry = union(&[entry, &[(0, sent)]]);
        }
        for (&sender, ranges) in &acked {
            if let Some(&(_, highest)) = ranges.last() {
                let entry = known.entry(sender).or_default();
                *entry = union(&[entry, &[(0, highest)]]);
            }
        }
        known
            .iter()
            .flat_map(|(&sender, ranges)| {
                let empty = Vec::new();
                subtract(ranges, acked.get(&sender).unwrap_or(&empty))
                    .into_iter()
                    .map(move |(first, last)| MessageRange {
                        sender,
                        first_generation: first,
                        last_generation: last,
                    })
            })
            .collect()
    }

    /// [`Self::app_ack_missing`] for a received proposal (as in
    /// [`crate::api::Event::Proposal`]): `None` unless it is an
    /// AppEphemeral of the `app_ack` component; an AppAck that does not
    /// decode is [`Error::Malformed`].
    pub fn app_ack_missing_in(&self, proposal: &Proposal) -> Result<Option<Vec<MessageRange>>> {
        let Proposal::AppEphemeral(e) = proposal else {
            return Ok(None);
        };
        if e.component_id != APP_ACK {
            return Ok(None);
        }
        let ack: AppAck =
            crate::codec::decode_exact(&e.data).map_err(|err| Error::malformed("AppAck", err))?;
        Ok(Some(self.app_ack_missing(&ack)))
    }

    /// The last generation of our application ratchet used in this epoch
    /// (what we sent), or `None` if we sent nothing. Our ratchet skips no
    /// generation, so the used ones are a prefix: found by bisection.
    fn sent_application_messages(&self) -> Option<u32> {
        let tree = &self.state.epoch.secret_tree;
        let own = self.state.own_leaf();
        let used = |g: u32| tree.generation_used(own, RatchetType::Application, g);
        if !used(0) {
            return None;
        }
        let (mut lo, mut hi) = (0u32, u32::MAX);
        // Invariant: used(lo); hi is unused or u32::MAX.
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if used(mid) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Some(lo)
    }
}

#[cfg(test)]
#[path = "group_app_ack_tests.rs"]
mod tests;
