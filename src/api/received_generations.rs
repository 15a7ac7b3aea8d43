//! What the group remembers of the application messages it received in
//! the current epoch, for AppAck (draft-ietf-mls-extensions): sorted
//! disjoint ranges of generations per sender, bounded in number.

use std::collections::BTreeMap;

/// Most disjoint ranges of generations remembered in one epoch, over all
/// senders. Messages received in order make one range per sender; each
/// gap makes one more. Once the limit is reached, a message that would
/// start a new range is not recorded (one that extends or joins ranges
/// still is), and [`Group::app_ack_complete`](crate::api::Group::app_ack_complete) turns false.
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

    /// The ranges per sender recorded in `epoch`, if it is the newest.
    pub(crate) fn ranges_at(&self, epoch: u64) -> Option<&BTreeMap<u32, Vec<(u32, u32)>>> {
        (self.epoch == epoch).then_some(&self.ranges)
    }

    /// Whether every message of `epoch` received was recorded.
    pub(crate) fn complete_at(&self, epoch: u64) -> bool {
        self.epoch != epoch || !self.overflowed
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
pub(crate) fn subtract(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
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
pub(crate) fn union(lists: &[&[(u32, u32)]]) -> Vec<(u32, u32)> {
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

#[cfg(test)]
#[path = "received_generations_tests.rs"]
mod tests;
