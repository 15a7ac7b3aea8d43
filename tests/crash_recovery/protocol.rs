//! The lines the parent and the child exchange. Commands and replies carry
//! binary values in hex. The child also writes `BEGIN` when it reads a
//! command and `BATCH <digest>` before each storage write (see
//! `recording_storage.rs`); neither is a reply.

use arbor_mls::{Client, Group};

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A reply for a failure message: an `ERR` with its text decoded, any
/// other reply cut short.
pub(crate) fn describe(reply: &str) -> String {
    let mut parts = reply.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("ERR"), Some(category), Some(text)) => {
            format!("ERR {category}: {}", String::from_utf8_lossy(&unhex(text)))
        }
        _ => reply.chars().take(80).collect(),
    }
}

/// What identifies the child's state: the digest of everything stored,
/// and what the loaded client and group report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChildState {
    /// Digest of the stored records (`Mirror::digest`).
    pub(crate) stored: String,
    pub(crate) key_packages: usize,
    pub(crate) group: Option<GroupView>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupView {
    pub(crate) active: bool,
    pub(crate) epoch: u64,
    pub(crate) auth: Vec<u8>,
    pub(crate) pending: bool,
    /// Proposals cached in this epoch.
    pub(crate) proposals: usize,
}

impl ChildState {
    /// The group's view; the child has joined by the time this is asked.
    pub(crate) fn group(&self) -> &GroupView {
        self.group.as_ref().expect("the child has a group")
    }

    /// Everything but the stored digest: what the loaded state reports.
    pub(crate) fn loaded(&self) -> (usize, Option<&GroupView>) {
        (self.key_packages, self.group.as_ref())
    }
}

/// `STATE <stored> <key packages> none`, or with the group's active flag,
/// epoch, epoch authenticator, pending flag and cached proposal count.
pub(crate) fn state_line(stored: &str, client: &Client, group: Option<&Group>) -> String {
    let kps = client.key_package_count();
    match group {
        None => format!("STATE {stored} {kps} none"),
        Some(g) => format!(
            "STATE {stored} {kps} {} {} {} {} {}",
            u8::from(g.is_active()),
            g.epoch(),
            hex(g.epoch_authenticator()),
            u8::from(g.has_pending_commit()),
            g.state().proposals().len()
        ),
    }
}

pub(crate) fn parse_state(line: &str) -> ChildState {
    let p: Vec<&str> = line.trim().split(' ').collect();
    let (stored, kps) = match p.as_slice() {
        ["STATE", stored, kps, ..] => (stored.to_string(), kps.parse().expect("key packages")),
        _ => panic!("not a state line: {}", describe(line)),
    };
    let group = match &p[3..] {
        ["none"] => None,
        [a, e, auth, pending, proposals] => Some(GroupView {
            active: *a == "1",
            epoch: e.parse().expect("epoch"),
            auth: unhex(auth),
            pending: *pending == "1",
            proposals: proposals.parse().expect("proposals"),
        }),
        _ => panic!("not a state line: {}", describe(line)),
    };
    ChildState {
        stored,
        key_packages: kps,
        group,
    }
}
