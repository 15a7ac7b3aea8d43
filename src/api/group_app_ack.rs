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
use crate::crypto::component::component_ids::APP_ACK;
use crate::messages::proposals::Proposal;
use crate::schedule::RatchetType;
use crate::types::content_media::{AppAck, MessageRange};
use crate::{Error, Result};

/// Most disjoint ranges of generations remembered in one epoch, over all
/// senders. Messages received in order make one range per sender; each
/// gap makes one more. Once the limit is reached, a message that would
/// start a new range is not recorded (one that extends or joins ranges
/// still is), and [`Group::app_ack_complete`] turns false.
pub const MAX_ACK_RANGES: usize = 1024;

/// Received generations per sender, as sorted disjoint inclusive ranges.
#[derive(Debug, Default, Clone)]
pub(crate) struct ReceivedGenerations {
    epoch: u64,
    ranges: BTreeMap<u32, Vec<(u32, u32)>>,
    count: usize,
    overflowed: bool,
}

impl ReceivedGenerations {
    /// Notes the message of `sender` at `generation`, sent in `epoch`
    /// (messages of an earlier epoch than the newest seen are ignored).
    pub(crate) fn record(&mut self, epoch: u64, sender: u32, generation: u32) {
        if epoch < self.epoch {
            return;
        }
        if epoch > self.epoch {
            *self = Self {
                epoch,
                ..Self::default()
            };
        }
        let at_limit = self.count >= MAX_ACK_RANGES;
        let ranges = self.ranges.entry(sender).or_default();
        match insert(ranges, generation, at_limit) {
            Some(delta) => self.count = self.count.saturating_add_signed(delta),
            None => self.overflowed = true,
        }
    }

    fn current(&self, epoch: u64) -> Option<&Self> {
        (self.epoch == epoch).then_some(self)
    }
}

/// Inserts `g` into sorted disjoint `ranges`; returns the change in the
/// number of ranges, or `None` if a new range was needed and `full`.
fn insert(ranges: &mut Vec<(u32, u32)>, g: u32, full: bool) -> Option<isize> {
    // The first range that ends at or after g - 1 (could touch or hold g).
    let i = ranges.partition_point(|&(_, last)| last.saturating_add(1) < g);
    if let Some(&(first, last)) = ranges.get(i)
        && first <= g
        && g <= last
    {
        return Some(0);
    }
    let joins_left = ranges
        .get(i)
        .is_some_and(|&(_, last)| last.checked_add(1) == Some(g));
    let right = if joins_left { i + 1 } else { i };
    let joins_right = ranges
        .get(right)
        .is_some_and(|&(first, _)| g.checked_add(1) == Some(first));
    match (joins_left, joins_right) {
        (true, true) => {
            ranges[i].1 = ranges[right].1;
            ranges.remove(right);
            Some(-1)
        }
        (true, false) => {
            ranges[i].1 = g;
            Some(0)
        }
        (false, true) => {
            ranges[right].0 = g;
            Some(0)
        }
        (false, false) if full => None,
        (false, false) => {
            ranges.insert(i, (g, g));
            Some(1)
        }
    }
}

/// `a` minus `b`, both sorted disjoint inclusive ranges.
fn subtract(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for &(first, last) in a {
        let mut start = u64::from(first);
        let end = u64::from(last);
        for &(bf, bl) in b {
            let (bf, bl) = (u64::from(bf), u64::from(bl));
            if bl < start || bf > end {
                continue;
            }
            if bf > start {
                out.push((start as u32, (bf - 1) as u32));
            }
            start = bl + 1;
        }
        if start <= end {
            out.push((start as u32, end as u32));
        }
    }
    out
}

/// The union of sorted disjoint range lists, sorted and merged.
fn union(lists: &[&[(u32, u32)]]) -> Vec<(u32, u32)> {
    let mut all: Vec<(u32, u32)> = lists.iter().flat_map(|l| l.iter().copied()).collect();
    all.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(all.len());
    for (first, last) in all {
        match out.last_mut() {
            Some(prev) if u64::from(first) <= u64::from(prev.1) + 1 => prev.1 = prev.1.max(last),
            _ => out.push((first, last)),
        }
    }
    out
}

impl Group {
    /// The AppAck of the application messages this member received in
    /// the current epoch: one range per run of consecutive generations of
    /// each sender, senders in leaf order. Empty right after a commit.
    pub fn received_app_ack(&self) -> AppAck {
        let ranges = self
            .received
            .current(self.epoch())
            .map(|r| {
                r.ranges
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
    /// the current epoch (false once [`MAX_ACK_RANGES`] was reached).
    pub fn app_ack_complete(&self) -> bool {
        self.received
            .current(self.epoch())
            .is_none_or(|r| !r.overflowed)
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
        if let Some(received) = self.received.current(self.epoch()) {
            for (&sender, ranges) in &received.ranges {
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
