//! The records of an observer's state (see `docs/persistence.md`), and
//! its encoding as one byte string ([`ObserverState::to_bytes`]). They
//! hold only what members publish: GroupContext, ratchet tree, interim
//! transcript hash, confirmation tag, cached proposals, the uploaded
//! GroupInfo, a ReInit if the group was closed, and, while an external
//! commit is unconfirmed, the other branch. Policy and the credential
//! validator are not stored; they are given again on load.
//!
//! Version 2 splits the state like a member's: one record per tree node
//! and per cached proposal, so that each transition writes what it
//! changed. Version 1 (one record holding everything, rewritten on every
//! change) still loads.

use std::collections::BTreeMap;

use crate::codec::{Encode, Reader, Writer, encode, wire_struct};
use crate::crypto::{CryptoProvider, Suite};
use crate::framing::Sender;
use crate::group::authorization::Authority;
use crate::group::join::{check_group_size, tree_from_wire};
use crate::group::observer::{Branch, ObserverState, Other, PublicEpoch, Role};
use crate::group::proposal_cache::{CachedProposal, ProposalCache};
use crate::group::state::GroupConfig;
use crate::messages::proposals::{Proposal, ReInit};
use crate::persist::group_records::{
    apply_diff, decode_cached_proposal, encode_cached_proposal, stored_width, tree_from_nodes,
};
use crate::persist::records::{Kind, corrupt, get, get_list, hex, invalid, open, put_list, seal};
use crate::schedule::GroupContext;
use crate::storage::WriteBatch;
use crate::tree::nodes::{Node, RatchetTreeWire};
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::{LeafIndex, NodeIndex};
use crate::{Error, Result, decode_exact};

/// The version of [`ObserverState::to_bytes`] written (its first two
/// bytes): 2, the records of `docs/persistence.md` as a list.
const VERSION: u16 = 2;

/// The version of the single record `o/<hex group id>` written before the
/// state was split into records.
const VERSION_1: u16 = 1;

/// The keys of one observer's records: under `o/<hex group id>/` in a
/// storage, or relative (no prefix) in [`ObserverState::to_bytes`].
#[derive(Debug, Clone)]
pub(crate) struct ObserverKeys {
    prefix: String,
}

impl ObserverKeys {
    pub(crate) fn new(group_id: &[u8]) -> Self {
        Self {
            prefix: format!("o/{}/", hex(group_id)),
        }
    }

    fn relative() -> Self {
        Self {
            prefix: String::new(),
        }
    }

    fn key(&self, rest: &str) -> Vec<u8> {
        format!("{}{rest}", self.prefix).into_bytes()
    }

    /// Every record of the observer.
    pub(crate) fn all(&self) -> Vec<u8> {
        self.key("")
    }
    pub(crate) fn epoch(&self) -> Vec<u8> {
        self.key("epoch")
    }
    pub(crate) fn node(&self, x: NodeIndex) -> Vec<u8> {
        self.key(&format!("t/{:08x}", x.0))
    }
    /// The cached proposals in proposal slot `slot` (0 or 1).
    pub(crate) fn proposals(&self, slot: u8) -> Vec<u8> {
        self.key(&format!("prop/{slot}/"))
    }
    pub(crate) fn proposal(&self, slot: u8, index: usize) -> Vec<u8> {
        self.key(&format!("prop/{slot}/{index:08x}"))
    }
    pub(crate) fn group_info(&self) -> Vec<u8> {
        self.key("gi")
    }
    pub(crate) fn other(&self) -> Vec<u8> {
        self.key("other")
    }
    pub(crate) fn other_nodes(&self) -> Vec<u8> {
        self.key("other/t/")
    }
    pub(crate) fn other_node(&self, x: NodeIndex) -> Vec<u8> {
        self.key(&format!("other/t/{:08x}", x.0))
    }
    /// The change counter of an observer shared by several servers: each
    /// write is conditional on it (`ObserverStore`).
    pub(crate) fn head(&self) -> Vec<u8> {
        self.key("head")
    }
}

/// The change counter stored in a head record: eight bytes, big-endian.
pub(crate) fn decode_head(key: &[u8], value: &[u8]) -> Result<u64> {
    <[u8; 8]>::try_from(value)
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt(key, "is not an 8-byte change counter"))
}

/// The key of the version-1 record, which held the whole state:
/// `o/<hex group id>`.
pub(crate) fn legacy_key(group_id: &[u8]) -> Vec<u8> {
    format!("o/{}", hex(group_id)).into_bytes()
}

/// What a record's key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Record {
    Epoch,
    Node(u32),
    Proposal(u8, u32),
    GroupInfo,
    Other,
    OtherNode(u32),
    Head,
}

/// Eight lower-case hex digits.
fn parse_index(s: &str) -> Option<u32> {
    (s.len() == 8
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then(|| u32::from_str_radix(s, 16).ok())
    .flatten()
}

fn parse_key(rest: &[u8]) -> Option<Record> {
    let rest = std::str::from_utf8(rest).ok()?;
    match rest {
        "epoch" => return Some(Record::Epoch),
        "gi" => return Some(Record::GroupInfo),
        "other" => return Some(Record::Other),
        "head" => return Some(Record::Head),
        _ => {}
    }
    if let Some(x) = rest.strip_prefix("other/t/") {
        return parse_index(x).map(Record::OtherNode);
    }
    if let Some(x) = rest.strip_prefix("t/") {
        return parse_index(x).map(Record::Node);
    }
    let rest = rest.strip_prefix("prop/")?;
    let (slot, index) = rest.split_once('/')?;
    let slot = match slot {
        "0" => 0,
        "1" => 1,
        _ => return None,
    };
    parse_index(index).map(|i| Record::Proposal(slot, i))
}

fn role_byte(role: Role) -> u8 {
    match role {
        Role::Base => 0,
        Role::Rival => 1,
    }
}

/// A branch's epoch and ReInit, and the newcomers of the current branch;
/// its tree and proposals are records of their own.
struct Core {
    context: GroupContext,
    width: u32,
    interim_transcript_hash: Vec<u8>,
    confirmation_tag: Vec<u8>,
    reinit: Option<ReInit>,
    newcomers: Vec<LeafIndex>,
}

fn encode_core(branch: &Branch, newcomers: &[LeafIndex], w: &mut Writer) {
    let epoch = &branch.epoch;
    epoch.context.encode(w);
    epoch.tree.node_width().encode(w);
    epoch.interim_transcript_hash.encode(w);
    epoch.confirmation_tag.encode(w);
    branch.reinit.encode(w);
    put_list(w, newcomers, |w, leaf| leaf.encode(w));
}

fn decode_core(r: &mut Reader<'_>) -> std::result::Result<Core, crate::codec::DecodeError> {
    Ok(Core {
        context: get(r, "context")?,
        width: get(r, "width")?,
        interim_transcript_hash: get(r, "interim_transcript_hash")?,
        confirmation_tag: get(r, "confirmation_tag")?,
        reinit: get(r, "reinit")?,
        newcomers: get_list(r, |r| get(r, "newcomer"))?,
    })
}

/// The `epoch` record: the current branch, the proposal slot its cached
/// proposals are in, and its newcomers (none when the state is confirmed).
pub(crate) fn epoch_record(current: &Branch, slot: u8, other: bool) -> Result<Vec<u8>> {
    seal(Kind::ObserverEpoch, |w| {
        let newcomers: &[LeafIndex] = if other { &current.newcomers } else { &[] };
        encode_core(current, newcomers, w);
        w.put(&[slot]);
    })
}

/// The `other` record: the other branch's role and state (its proposals
/// are in the slot the current branch does not use).
pub(crate) fn other_record(role: Role, branch: &Branch) -> Result<Vec<u8>> {
    seal(Kind::ObserverOther, |w| {
        w.put(&[role_byte(role)]);
        encode_core(branch, &branch.newcomers, w);
    })
}

pub(crate) fn node_record(node: &Node) -> Result<Vec<u8>> {
    seal(Kind::TreeNode, |w| node.encode(w))
}

/// An `other/t/<node>` record: the other branch's node where it differs
/// from the current branch's (`None`: blank there).
pub(crate) fn other_node_record(node: Option<&Node>) -> Result<Vec<u8>> {
    seal(Kind::ObserverOtherNode, |w| node.encode(w))
}

pub(crate) fn proposal_record(p: &CachedProposal) -> Result<Vec<u8>> {
    seal(Kind::CachedProposal, |w| encode_cached_proposal(p, w))
}

pub(crate) fn group_info_record(message: &[u8]) -> Result<Vec<u8>> {
    seal(Kind::ObserverGroupInfo, |w| message.encode(w))
}

/// Puts the other branch's nodes that differ from `current`'s (within
/// the other branch's width: beyond it, loading cuts the tree).
pub(crate) fn put_other_nodes(
    keys: &ObserverKeys,
    other: &RatchetTree,
    current: &RatchetTree,
    batch: &mut WriteBatch,
) -> Result<()> {
    let width = other.node_width();
    for x in other.changed_nodes(current) {
        if x.0 < width && other.node(x) != current.node(x) {
            batch.put(keys.other_node(x), other_node_record(other.node(x))?);
        }
    }
    Ok(())
}

/// Puts every record of `state`, its current branch's proposals in slot
/// `slot` and the other branch's in the other slot.
pub(crate) fn put_all(
    keys: &ObserverKeys,
    state: &ObserverState,
    slot: u8,
    batch: &mut WriteBatch,
) -> Result<()> {
    let current = &state.current;
    batch.put(
        keys.epoch(),
        epoch_record(current, slot, state.other.is_some())?,
    );
    let tree = &current.epoch.tree;
    for x in 0..tree.node_width() {
        if let Some(node) = tree.node(NodeIndex(x)) {
            batch.put(keys.node(NodeIndex(x)), node_record(node)?);
        }
    }
    for (i, p) in current.proposals.iter().enumerate() {
        batch.put(keys.proposal(slot, i), proposal_record(p)?);
    }
    if let Some(info) = &state.group_info {
        batch.put(keys.group_info(), group_info_record(info)?);
    }
    if let Some(other) = state.other.as_deref() {
        batch.put(keys.other(), other_record(other.role, &other.branch)?);
        put_other_nodes(keys, &other.branch.epoch.tree, tree, batch)?;
        for (i, p) in other.branch.proposals.iter().enumerate() {
            batch.put(keys.proposal(1 - slot, i), proposal_record(p)?);
        }
    }
    Ok(())
}

/// The cached proposals of one slot, from records numbered from 0 without
/// gaps, distinct, and at most `max_cached_proposals`.
fn load_proposals(
    keys: &ObserverKeys,
    slot: u8,
    records: Vec<(u32, Vec<u8>)>,
    config: &GroupConfig,
) -> Result<ProposalCache> {
    let mut cache = ProposalCache::default();
    for (i, (index, value)) in records.into_iter().enumerate() {
        let key = keys.proposal(slot, index as usize);
        if index as usize != i {
            return Err(corrupt(&key, format_args!("is not cached proposal {i}")));
        }
        let proposal = open(&key, Kind::CachedProposal, &value, decode_cached_proposal)?;
        cache.insert(proposal);
        if cache.len() != i + 1 {
            return Err(corrupt(&key, "repeats a cached proposal"));
        }
        if cache.len() > config.max_cached_proposals {
            return Err(corrupt(
                &key,
                format_args!(
                    "is cached proposal {}, more than max_cached_proposals ({})",
                    cache.len(),
                    config.max_cached_proposals
                ),
            ));
        }
    }
    Ok(cache)
}

/// A branch from its core and tree, the tree checked against the core's
/// tree hash and size limit.
fn branch_of(
    key: &[u8],
    suite: &Suite,
    config: &GroupConfig,
    core: Core,
    tree: RatchetTree,
    proposals: ProposalCache,
) -> Result<Branch> {
    if tree.node_width() != core.width {
        return Err(corrupt(
            key,
            format_args!(
                "gives a tree of width {}, its nodes form one of width {}",
                core.width,
                tree.node_width()
            ),
        ));
    }
    check_group_size(&tree, config.max_leaves)?;
    if tree.root_tree_hash(suite)? != core.context.tree_hash {
        return Err(corrupt(
            key,
            "holds a tree that does not match its GroupContext's tree hash",
        ));
    }
    Ok(Branch {
        epoch: PublicEpoch {
            context: core.context,
            tree,
            interim_transcript_hash: core.interim_transcript_hash,
            confirmation_tag: core.confirmation_tag,
        },
        proposals,
        reinit: core.reinit,
        newcomers: core.newcomers,
    })
}

/// An observer's state from its records (keys under `keys`), and the
/// proposal slot of its current branch. Every record must be one the
/// state uses: anything else is refused, naming the record.
pub(crate) fn load_records(
    keys: &ObserverKeys,
    records: Vec<(Vec<u8>, Vec<u8>)>,
    provider: &dyn CryptoProvider,
    config: GroupConfig,
    authority: Authority,
) -> Result<(ObserverState, u8)> {
    let prefix = keys.all();
    let mut by_kind = BTreeMap::new();
    for (key, value) in records {
        let record = key
            .strip_prefix(prefix.as_slice())
            .and_then(parse_key)
            .ok_or_else(|| corrupt(&key, "is not a record of an observer"))?;
        if by_kind.insert(record, (key, value)).is_some() {
            return Err(Error::Storage("an observer record appears twice".into()));
        }
    }
    let epoch_key = keys.epoch();
    let (_, epoch_bytes) = by_kind
        .remove(&Record::Epoch)
        .ok_or_else(|| corrupt(&epoch_key, "is missing"))?;
    let (core, slot) = open(&epoch_key, Kind::ObserverEpoch, &epoch_bytes, |r| {
        let core = decode_core(r)?;
        let slot = match r.take(1)?[0] {
            s @ (0 | 1) => s,
            v => return Err(invalid(r, v.into(), "slot")),
        };
        Ok((core, slot))
    })?;
    let suite = Suite::from_provider(provider, core.context.cipher_suite)?;
    let width = stored_width(&epoch_key, core.width, config.max_leaves)?;

    let mut nodes: Vec<Option<Node>> = vec![None; width];
    let mut other = None;
    let mut other_nodes = Vec::new();
    let mut proposals: [Vec<(u32, Vec<u8>)>; 2] = [Vec::new(), Vec::new()];
    let mut group_info = None;
    for (record, (key, value)) in by_kind {
        match record {
            // The head is read by the store, not part of the state.
            Record::Epoch | Record::Head => {}
            Record::Node(x) => {
                let slot = usize::try_from(x)
                    .ok()
                    .and_then(|x| nodes.get_mut(x))
                    .ok_or_else(|| {
                        corrupt(
                            &key,
                            format_args!("is not a node of a tree of width {width}"),
                        )
                    })?;
                *slot = Some(open(&key, Kind::TreeNode, &value, |r| get(r, "node"))?);
            }
            Record::Proposal(s, i) => proposals[usize::from(s)].push((i, value)),
            Record::GroupInfo => {
                group_info = Some(open(&key, Kind::ObserverGroupInfo, &value, |r| {
                    get::<Vec<u8>>(r, "group_info")
                })?);
            }
            Record::Other => {
                other = Some(open(&key, Kind::ObserverOther, &value, |r| {
                    let role = match r.take(1)?[0] {
                        0 => Role::Base,
                        1 => Role::Rival,
                        v => return Err(invalid(r, v.into(), "role")),
                    };
                    Ok((role, decode_core(r)?))
                })?);
            }
            Record::OtherNode(x) => {
                let node = open(&key, Kind::ObserverOtherNode, &value, |r| {
                    get::<Option<Node>>(r, "node")
                })?;
                other_nodes.push((NodeIndex(x), node));
            }
        }
    }
    let tree = tree_from_nodes(&keys.all(), nodes)?;
    let [mut slot0, mut slot1] = proposals;
    let (current_proposals, other_proposals) = if slot == 0 {
        (std::mem::take(&mut slot0), std::mem::take(&mut slot1))
    } else {
        (std::mem::take(&mut slot1), std::mem::take(&mut slot0))
    };
    let current_cache = load_proposals(keys, slot, current_proposals, &config)?;
    let current = branch_of(&epoch_key, &suite, &config, core, tree, current_cache)?;

    let other = match other {
        None => {
            if let Some((x, _)) = other_nodes.first() {
                return Err(corrupt(
                    &keys.other_node(*x),
                    "is a node of another branch, but there is none",
                ));
            }
            if let Some((i, _)) = other_proposals.first() {
                return Err(corrupt(
                    &keys.proposal(1 - slot, *i as usize),
                    "is a cached proposal of another branch, but there is none",
                ));
            }
            None
        }
        Some((role, core)) => {
            let key = keys.other();
            let tree = apply_diff(
                &key,
                &current.epoch.tree,
                (core.width, config.max_leaves),
                other_nodes,
            )?;
            let cache = load_proposals(keys, 1 - slot, other_proposals, &config)?;
            Some(Box::new(Other {
                role,
                branch: branch_of(&key, &suite, &config, core, tree, cache)?,
            }))
        }
    };
    Ok((
        ObserverState {
            suite,
            config,
            authority,
            current,
            group_info,
            other,
        },
        slot,
    ))
}

wire_struct! {
    /// One record of [`StoredObserver`]: a key relative to the observer's
    /// prefix, and its value.
    struct StoredRecord {
        key: Vec<u8>,
        value: Vec<u8>,
    }
}

wire_struct! {
    /// [`ObserverState::to_bytes`], version 2: the observer's records.
    struct StoredObserver {
        version: u16,
        records: Vec<StoredRecord>,
    }
}

wire_struct! {
    /// One cached proposal (version 1).
    struct StoredProposalV1 {
        reference: Vec<u8>,
        proposal: Proposal,
        sender: Sender,
    }
}

wire_struct! {
    /// The stored observer state of version 1: the single record
    /// `o/<hex group id>`, and what `to_bytes` returned.
    struct StoredObserverV1 {
        version: u16,
        context: GroupContext,
        tree: RatchetTreeWire,
        interim_transcript_hash: Vec<u8>,
        confirmation_tag: Vec<u8>,
        proposals: Vec<StoredProposalV1>,
        group_info: Option<Vec<u8>>,
        reinit: Option<ReInit>,
    }
}

/// The first two bytes of an encoded state: its version.
pub(crate) fn stored_version(bytes: &[u8]) -> Result<u16> {
    bytes
        .get(..2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| Error::Storage("observer state: shorter than its version".into()))
}

impl ObserverState {
    /// Encodes the state (version 2: its records, as a list) for storage.
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut batch = WriteBatch::default();
        put_all(&ObserverKeys::relative(), self, 0, &mut batch)?;
        let records = std::mem::take(&mut batch.ops)
            .into_iter()
            .filter_map(|(key, value)| value.map(|value| StoredRecord { key, value }))
            .collect();
        Ok(encode(&StoredObserver {
            version: VERSION,
            records,
        })?)
    }

    /// Decodes a state written by [`Self::to_bytes`] (version 2) or by
    /// the version-1 encoder, with the group's cipher suite from
    /// `provider`. The trees must hash to their GroupContexts' tree hashes
    /// and the proposals fit `config`, so a corrupted state is refused
    /// rather than observed from.
    pub(crate) fn from_bytes(
        provider: &dyn CryptoProvider,
        bytes: &[u8],
        config: GroupConfig,
        authority: Authority,
    ) -> Result<Self> {
        match stored_version(bytes)? {
            VERSION_1 => Self::from_version_1(provider, bytes, config, authority),
            VERSION => {
                let stored: StoredObserver = decode_exact("observer state", bytes)
                    .map_err(|e| Error::Storage(format!("observer state: {e}")))?;
                let records = stored
                    .records
                    .into_iter()
                    .map(|r| (r.key, r.value))
                    .collect();
                Ok(load_records(
                    &ObserverKeys::relative(),
                    records,
                    provider,
                    config,
                    authority,
                )?
                .0)
            }
            version => Err(Error::Storage(format!(
                "observer state of version {version}; this library reads versions \
                 {VERSION_1} and {VERSION}"
            ))),
        }
    }

    /// Decodes the version-1 encoding: the whole state in one structure.
    pub(crate) fn from_version_1(
        provider: &dyn CryptoProvider,
        bytes: &[u8],
        config: GroupConfig,
        authority: Authority,
    ) -> Result<Self> {
        let stored: StoredObserverV1 = decode_exact("observer state", bytes)?;
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
            authority,
            current: Branch {
                epoch: PublicEpoch {
                    context: stored.context,
                    tree,
                    interim_transcript_hash: stored.interim_transcript_hash,
                    confirmation_tag: stored.confirmation_tag,
                },
                proposals,
                reinit: stored.reinit,
                newcomers: Vec::new(),
            },
            group_info: stored.group_info,
            other: None,
        })
    }
}

#[cfg(test)]
#[path = "observer_records_tests.rs"]
mod tests;
