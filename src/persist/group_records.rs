//! Encodings of a group's records (see `docs/persistence.md` for the
//! layout). A group is split so that each transition rewrites only what it
//! changed: one record per tree node, one per sender's ratchets, the
//! epoch's secrets apart from the (large) proposal cache.

use crate::codec::{DecodeError, Encode, Reader, Writer};
use crate::crypto::{Secret, Suite};
use crate::framing::Sender;
use crate::group::commit_stage::CommitSummary;
use crate::group::proposal_cache::CachedProposal;
use crate::group::state::GroupState;
use crate::group::state::{EpochKeys, EpochState, GroupConfig, PublishGroupInfo};
use crate::messages::proposals::{Proposal, ReInit};
use crate::persist::secret_tree_records as st;
use crate::schedule::{GroupContext, InitSecret, SecretTree, SecretTreeConfig};
use crate::tree::nodes::Node;
use crate::tree::private::TreePrivate;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::ProposalType;
use crate::types::math::{LeafIndex, NodeIndex};

use super::records::{
    get, get_bool, get_hpke_key, get_list, get_usize, hex, invalid, put_bool, put_list, put_usize,
};

/// The keys of one group's records, all under `g/<hex group id>/`.
#[derive(Debug, Clone)]
pub(crate) struct GroupKeys {
    prefix: String,
}

/// Appends the low `digits` hex digits of `value`, zero-padded, lower
/// case (as `format!("{value:0digits$x}")` for values that fit).
fn push_hex(out: &mut Vec<u8>, value: u64, digits: u32) {
    for i in (0..digits).rev() {
        out.push(b"0123456789abcdef"[((value >> (i * 4)) & 0xf) as usize]);
    }
}

impl GroupKeys {
    pub(crate) fn new(group_id: &[u8]) -> Self {
        Self {
            prefix: format!("g/{}/", hex(group_id)),
        }
    }
    fn key(&self, rest: &str) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.prefix.len() + rest.len());
        key.extend_from_slice(self.prefix.as_bytes());
        key.extend_from_slice(rest.as_bytes());
        key
    }
    /// `<prefix><head><value as zero-padded lower-case hex><tail>`, built
    /// without `format!` (a merge builds ~25 keys).
    fn hex_key(&self, head: &str, value: u64, digits: u32, tail: &str) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.prefix.len() + head.len() + 16 + tail.len() + 9);
        key.extend_from_slice(self.prefix.as_bytes());
        key.extend_from_slice(head.as_bytes());
        push_hex(&mut key, value, digits);
        key.extend_from_slice(tail.as_bytes());
        key
    }
    pub(crate) fn all(&self) -> Vec<u8> {
        self.key("")
    }
    pub(crate) fn meta(&self) -> Vec<u8> {
        self.key("meta")
    }
    pub(crate) fn epoch(&self) -> Vec<u8> {
        self.key("epoch")
    }
    pub(crate) fn proposals(&self) -> Vec<u8> {
        self.key("proposals")
    }
    /// The cached proposals of the current epoch, one record each.
    pub(crate) fn cached_proposals(&self) -> Vec<u8> {
        self.key("prop/")
    }
    /// The `index`-th proposal cached in the current epoch (indices past
    /// `u32::MAX` never occur: the cache is limited far below).
    pub(crate) fn cached_proposal(&self, index: usize) -> Vec<u8> {
        self.hex_key("prop/", index as u64, 8, "")
    }
    pub(crate) fn pending(&self) -> Vec<u8> {
        self.key("pending")
    }
    pub(crate) fn local(&self) -> Vec<u8> {
        self.key("local")
    }
    pub(crate) fn nodes(&self) -> Vec<u8> {
        self.key("t/")
    }
    pub(crate) fn node(&self, x: NodeIndex) -> Vec<u8> {
        self.hex_key("t/", x.0.into(), 8, "")
    }
    pub(crate) fn past(&self, epoch: u64) -> Vec<u8> {
        self.hex_key("past/", epoch, 16, "")
    }
    /// The retained resumption PSKs, one record per epoch.
    pub(crate) fn psks(&self) -> Vec<u8> {
        self.key("psk/")
    }
    pub(crate) fn psk(&self, epoch: u64) -> Vec<u8> {
        self.hex_key("psk/", epoch, 16, "")
    }
    /// The epoch of a key under [`Self::psks`].
    pub(crate) fn parse_epoch(key: &[u8], prefix: &[u8]) -> Option<u64> {
        let rest = std::str::from_utf8(key.strip_prefix(prefix)?).ok()?;
        if rest.len() != 16 {
            return None;
        }
        u64::from_str_radix(rest, 16).ok()
    }
    pub(crate) fn secret_tree(&self, epoch: u64) -> Vec<u8> {
        self.hex_key("st/", epoch, 16, "/")
    }
    pub(crate) fn secret_tree_nodes(&self, epoch: u64) -> Vec<u8> {
        self.hex_key("st/", epoch, 16, "/n")
    }
    pub(crate) fn ratchets_prefix(&self, epoch: u64) -> Vec<u8> {
        self.hex_key("st/", epoch, 16, "/r/")
    }
    pub(crate) fn ratchets(&self, epoch: u64, leaf: LeafIndex) -> Vec<u8> {
        let mut key = self.ratchets_prefix(epoch);
        push_hex(&mut key, leaf.0.into(), 8);
        key
    }
    /// The node index of a key under [`Self::nodes`].
    pub(crate) fn parse_index(key: &[u8], prefix: &[u8]) -> Option<u32> {
        let rest = std::str::from_utf8(key.strip_prefix(prefix)?).ok()?;
        if rest.len() != 8 {
            return None;
        }
        u32::from_str_radix(rest, 16).ok()
    }
}

pub(crate) fn encode_config(c: &GroupConfig, w: &mut Writer) {
    put_bool(w, c.encrypt_handshakes);
    put_bool(w, c.ratchet_tree_in_welcome);
    put_usize(w, c.padding);
    put_usize(w, c.past_epochs);
    put_usize(w, c.resumption_epochs);
    c.secret_tree.out_of_order_window.encode(w);
    c.secret_tree.max_forward_distance.encode(w);
    c.max_lifetime.encode(w);
    put_usize(w, c.max_cached_proposals);
    c.max_leaves.encode(w);
    put_bool(w, c.strict_lifetimes);
}

pub(crate) fn decode_config(r: &mut Reader<'_>) -> Result<GroupConfig, DecodeError> {
    let config = GroupConfig {
        encrypt_handshakes: get_bool(r, "encrypt_handshakes")?,
        ratchet_tree_in_welcome: get_bool(r, "ratchet_tree_in_welcome")?,
        padding: get_usize(r, "padding")?,
        past_epochs: get_usize(r, "past_epochs")?,
        resumption_epochs: get_usize(r, "resumption_epochs")?,
        secret_tree: SecretTreeConfig {
            out_of_order_window: get(r, "out_of_order_window")?,
            max_forward_distance: get(r, "max_forward_distance")?,
        },
        max_lifetime: get(r, "max_lifetime")?,
        max_cached_proposals: get_usize(r, "max_cached_proposals")?,
        max_leaves: get(r, "max_leaves")?,
        strict_lifetimes: get_bool(r, "strict_lifetimes")?,
        // Stored at the end of the group's meta record (see `Meta`).
        publish_group_info: PublishGroupInfo::No,
    };
    // A stored setting is input too: padding is allocated per message, so
    // one no PrivateMessage could carry is refused here, not at the next
    // encrypt.
    if config.padding > crate::framing::MAX_PADDING {
        return Err(invalid(r, config.padding as u64, "padding"));
    }
    Ok(config)
}

/// The group-wide settings record.
pub(crate) struct Meta {
    pub(crate) suite: u16,
    pub(crate) config: GroupConfig,
    pub(crate) removed: bool,
    pub(crate) reinit: Option<ReInit>,
}

impl Meta {
    pub(crate) fn encode(&self, w: &mut Writer) {
        self.suite.encode(w);
        encode_config(&self.config, w);
        put_bool(w, self.removed);
        self.reinit.encode(w);
        // Last, and only when set, so that records written before the
        // setting existed decode unchanged.
        let publish = self.config.publish_group_info;
        if publish != PublishGroupInfo::No {
            w.put(&[publish.to_byte()]);
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut meta = Self {
            suite: get(r, "suite")?,
            config: decode_config(r)?,
            removed: get_bool(r, "removed")?,
            reinit: get(r, "reinit")?,
        };
        if !r.is_empty() {
            let byte = r.take(1).map_err(|e| e.within("publish_group_info"))?[0];
            meta.config.publish_group_info = PublishGroupInfo::from_byte(byte)
                .ok_or_else(|| invalid(r, u64::from(byte), "publish_group_info"))?;
        }
        Ok(meta)
    }
}

/// What the member itself decided about the group, beside the protocol
/// state: the authenticated data of its next handshake message, whether it
/// asked to leave, and the external commit it joined with (to recognise
/// the echo). Stored only when not all default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LocalFlags {
    pub(crate) authenticated_data: Vec<u8>,
    pub(crate) leaving: bool,
    pub(crate) joined_with: Option<Vec<u8>>,
}

impl LocalFlags {
    pub(crate) fn is_default(&self) -> bool {
        *self == Self::default()
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        self.authenticated_data.encode(w);
        put_bool(w, self.leaving);
        self.joined_with.encode(w);
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            authenticated_data: get(r, "authenticated_data")?,
            leaving: get_bool(r, "leaving")?,
            joined_with: get(r, "joined_with")?,
        })
    }
}

fn encode_keys(k: &EpochKeys, w: &mut Writer) {
    k.sender_data_secret.encode(w);
    k.exporter_secret.encode(w);
    k.external_secret.encode(w);
    k.confirmation_key.encode(w);
    k.membership_key.encode(w);
    k.resumption_psk.encode(w);
    k.epoch_authenticator.encode(w);
    k.init_secret.as_secret().encode(w);
}

fn decode_keys(r: &mut Reader<'_>) -> Result<EpochKeys, DecodeError> {
    Ok(EpochKeys {
        sender_data_secret: get(r, "sender_data_secret")?,
        exporter_secret: get(r, "exporter_secret")?,
        external_secret: get(r, "external_secret")?,
        confirmation_key: get(r, "confirmation_key")?,
        membership_key: get(r, "membership_key")?,
        resumption_psk: get(r, "resumption_psk")?,
        epoch_authenticator: get(r, "epoch_authenticator")?,
        init_secret: InitSecret::new(get(r, "init_secret")?),
    })
}

fn encode_private(p: &TreePrivate, w: &mut Writer) {
    p.leaf().encode(w);
    w.vector(|w| {
        for x in p.nodes() {
            if let Some(key) = p.key(x) {
                x.0.encode(w);
                key.0.encode(w);
            }
        }
    });
}

fn decode_private(r: &mut Reader<'_>) -> Result<TreePrivate, DecodeError> {
    let leaf: LeafIndex = get(r, "leaf")?;
    let keys = get_list(r, |r| {
        Ok((NodeIndex(get(r, "node")?), get_hpke_key(r, "key")?))
    })?;
    let own = leaf
        .node()
        .ok_or_else(|| invalid(r, leaf.0.into(), "leaf"))?;
    let leaf_key = keys
        .iter()
        .find(|(x, _)| *x == own)
        .map(|(_, k)| k.clone())
        .ok_or_else(|| invalid(r, own.0.into(), "leaf key"))?;
    let mut private =
        TreePrivate::new(leaf, leaf_key).map_err(|_| invalid(r, leaf.0.into(), "leaf"))?;
    for (x, key) in keys {
        if x != own {
            private.set_key(x, key);
        }
    }
    Ok(private)
}

/// An epoch without its tree and secret tree (stored apart).
pub(crate) struct EpochCore {
    pub(crate) context: GroupContext,
    pub(crate) width: u32,
    pub(crate) private: TreePrivate,
    pub(crate) keys: EpochKeys,
    pub(crate) interim_transcript_hash: Vec<u8>,
    pub(crate) confirmation_tag: Vec<u8>,
}

pub(crate) fn encode_core(e: &EpochState, w: &mut Writer) {
    e.context.encode(w);
    e.tree.node_width().encode(w);
    encode_private(&e.private, w);
    encode_keys(&e.keys, w);
    e.interim_transcript_hash.encode(w);
    e.confirmation_tag.encode(w);
}

pub(crate) fn decode_core(r: &mut Reader<'_>) -> Result<EpochCore, DecodeError> {
    Ok(EpochCore {
        context: get(r, "context")?,
        width: get(r, "width")?,
        private: decode_private(r)?,
        keys: decode_keys(r)?,
        interim_transcript_hash: get(r, "interim_transcript_hash")?,
        confirmation_tag: get(r, "confirmation_tag")?,
    })
}

/// What the epoch record holds besides the core: the retained resumption
/// PSKs and which past epochs are retained (oldest first). Since the PSKs
/// have records of their own (`psk/<epoch>`) the list of PSKs is written
/// empty; epoch records written before hold them here.
pub(crate) struct Retained {
    pub(crate) resumption: Vec<(u64, Secret)>,
    pub(crate) past_epochs: Vec<u64>,
}

/// Encodes what [`decode_retained`] reads back as a [`Retained`]. The
/// secrets are taken by reference: a merge copies none of them.
pub(crate) fn encode_retained(resumption: &[(u64, &Secret)], past_epochs: &[u64], w: &mut Writer) {
    put_list(w, resumption, |w, (e, s)| {
        e.encode(w);
        s.encode(w);
    });
    put_list(w, past_epochs, |w, e| e.encode(w));
}

pub(crate) fn decode_retained(r: &mut Reader<'_>) -> Result<Retained, DecodeError> {
    Ok(Retained {
        resumption: get_list(r, |r| Ok((get(r, "epoch")?, get(r, "psk")?)))?,
        past_epochs: get_list(r, |r| get(r, "epoch"))?,
    })
}

/// Nodes of a tree that differ from another's, with their values in this
/// tree (`None`: blank or beyond this tree's width).
pub(crate) fn tree_diff<'a>(
    tree: &'a RatchetTree,
    base: &RatchetTree,
) -> Vec<(NodeIndex, Option<&'a Node>)> {
    tree.changed_nodes(base)
        .into_iter()
        .map(|x| (x, tree.node(x)))
        .collect()
}

/// Encodes changed nodes by reference (no node is copied: a merge encodes
/// its path's nodes twice, new and old).
pub(crate) fn encode_diff(width: u32, diff: &[(NodeIndex, Option<&Node>)], w: &mut Writer) {
    width.encode(w);
    put_list(w, diff, |w, (x, node)| {
        x.0.encode(w);
        node.encode(w);
    });
}

/// Changed nodes with their values.
pub(crate) type TreeDiff = Vec<(NodeIndex, Option<Node>)>;

pub(crate) fn decode_diff(r: &mut Reader<'_>) -> Result<(u32, TreeDiff), DecodeError> {
    let width = get(r, "width")?;
    let diff = get_list(r, |r| Ok((NodeIndex(get(r, "node")?), get(r, "value")?)))?;
    Ok((width, diff))
}

/// The most leaves a stored tree may have, whatever the stored config says:
/// the config is a record too, so a width it allows is bounded here as
/// well. A blank node is not stored but is allocated on load, so this caps
/// what a damaged database can make loading allocate.
pub(crate) const MAX_STORED_LEAVES: u32 = 1 << 20;

/// The node width of a stored tree, bounded like a tree from the wire: a
/// tree of at most `max_leaves` leaves (and at most [`MAX_STORED_LEAVES`])
/// has at most `2 * L - 1` nodes, `L` the power of two at or above that
/// (a tree's width is that of a full tree). A damaged width is refused
/// before anything is allocated.
pub(crate) fn stored_width(record: &[u8], width: u32, max_leaves: u32) -> crate::Result<usize> {
    let leaves = max_leaves.clamp(1, MAX_STORED_LEAVES);
    let max = 2 * u64::from(leaves).next_power_of_two() - 1;
    if u64::from(width) > max {
        return Err(super::records::corrupt(
            record,
            format_args!(
                "holds a tree of {width} nodes, more than the {max} that the group's \
                 max_leaves ({max_leaves}) allows"
            ),
        ));
    }
    usize::try_from(width).map_err(|_| crate::Error::Storage("tree width".into()))
}

/// The tree `base` with `diff` applied and cut or padded to `width`.
pub(crate) fn apply_diff(
    record: &[u8],
    base: &RatchetTree,
    (width, max_leaves): (u32, u32),
    diff: Vec<(NodeIndex, Option<Node>)>,
) -> crate::Result<RatchetTree> {
    let name = String::from_utf8_lossy(record);
    let width = stored_width(record, width, max_leaves)?;
    let mut nodes = base.to_wire();
    nodes.resize(width, None);
    for (x, node) in diff {
        // A diff spans both trees' widths: blanks past this one's are moot.
        if node.is_none() && usize::try_from(x.0).is_ok_and(|i| i >= width)
            || usize::try_from(x.0).is_err()
        {
            continue;
        }
        let slot = usize::try_from(x.0)
            .ok()
            .and_then(|i| nodes.get_mut(i))
            .ok_or_else(|| {
                crate::Error::Storage(format!(
                    "record {name:?} names node {} beyond the tree's width {width}: \
                     the database is corrupt",
                    x.0
                ))
            })?;
        *slot = node;
    }
    tree_from_nodes(record, nodes)
}

/// A tree from its nodes (trailing blanks allowed); `record` names the
/// record(s) it came from in errors.
pub(crate) fn tree_from_nodes(
    record: &[u8],
    mut nodes: Vec<Option<Node>>,
) -> crate::Result<RatchetTree> {
    let name = String::from_utf8_lossy(record).to_string();
    while nodes.last().is_some_and(Option::is_none) {
        nodes.pop();
    }
    RatchetTree::from_wire(nodes).map_err(|e| {
        crate::Error::Storage(format!(
            "records {name:?} do not form a valid ratchet tree ({e}): the database is corrupt"
        ))
    })
}

/// Appends a whole secret tree: its node record and each used leaf's.
pub(crate) fn encode_secret_tree(t: &SecretTree, w: &mut Writer) {
    w.vector(|w| st::encode_nodes(t, w));
    w.vector(|w| {
        for leaf in st::used_leaves(t) {
            leaf.encode(w);
            w.vector(|w| {
                let _ = st::encode_leaf(t, leaf, w);
            });
        }
    });
}

pub(crate) fn decode_secret_tree(
    suite: &Suite,
    r: &mut Reader<'_>,
) -> Result<SecretTree, DecodeError> {
    let mut nodes = r.vector()?;
    let leaves = get_list(r, |r| {
        Ok((
            get::<LeafIndex>(r, "leaf")?,
            zeroize::Zeroizing::new(get::<Vec<u8>>(r, "ratchets")?),
        ))
    })?;
    let tree = st::decode(suite, &mut nodes, leaves).map_err(|(_, e)| e)?;
    nodes.finish()?;
    Ok(tree)
}

/// The `proposals` record: an empty list (cached proposals are records of
/// their own, [`encode_cached_proposal`]; in the earlier layout of this
/// record the list held them all), then the private keys of our own Update
/// proposals.
pub(crate) fn encode_proposals(state: &GroupState, w: &mut Writer) {
    w.vector(|_| {});
    put_list(w, &state.own_updates, |w, (r, key)| {
        r.encode(w);
        key.0.encode(w);
    });
}

/// One cached proposal: reference, proposal, sender.
pub(crate) fn encode_cached_proposal(p: &CachedProposal, w: &mut Writer) {
    p.reference.encode(w);
    p.proposal.encode(w);
    p.sender.encode(w);
}

pub(crate) fn decode_cached_proposal(r: &mut Reader<'_>) -> Result<CachedProposal, DecodeError> {
    let reference = get(r, "reference")?;
    // Records written before SelfRemove (type 0x000a) was known hold such
    // a proposal as `Proposal::Custom`, whose body is `opaque<V>`; a
    // SelfRemove's body is empty. Both readings are tried: the one that
    // decodes wins, and if both do, the one that ends the record.
    let mut fresh = r.clone();
    let current = decode_proposal_and_sender(&mut fresh);
    let mut old = r.clone();
    let legacy = decode_legacy_self_remove(&mut old);
    let (proposal, sender) = match (current, legacy) {
        (Ok(_), Ok(l)) if !fresh.is_empty() && old.is_empty() => {
            *r = old;
            l
        }
        (Ok(p), _) => {
            *r = fresh;
            p
        }
        (Err(_), Ok(l)) => {
            *r = old;
            l
        }
        (Err(e), Err(_)) => return Err(e),
    };
    Ok(CachedProposal {
        reference,
        proposal,
        sender,
    })
}

fn decode_proposal_and_sender(r: &mut Reader<'_>) -> Result<(Proposal, Sender), DecodeError> {
    Ok((get(r, "proposal")?, get::<Sender>(r, "sender")?))
}

/// A proposal of type 0x000a (or 0x0008, 0x0009) in the layout of the
/// records written before the type was known: `Proposal::Custom` with an
/// `opaque<V>` body.
fn decode_legacy_self_remove(r: &mut Reader<'_>) -> Result<(Proposal, Sender), DecodeError> {
    let proposal_type: ProposalType = get(r, "proposal_type")?;
    // AppDataUpdate (0x0008) and AppEphemeral (0x0009) were likewise
    // `Custom` before they were known.
    if !matches!(
        proposal_type,
        ProposalType::SELF_REMOVE | ProposalType::APP_DATA_UPDATE | ProposalType::APP_EPHEMERAL
    ) {
        return Err(r.error(crate::codec::DecodeErrorKind::InvalidValue {
            value: proposal_type.0.into(),
        }));
    }
    let data: Vec<u8> = get(r, "data")?;
    let sender = get::<Sender>(r, "sender")?;
    Ok((
        Proposal::Custom {
            proposal_type,
            data,
        },
        sender,
    ))
}

pub(crate) type OwnUpdates = Vec<(Vec<u8>, crate::crypto::HpkePrivateKey)>;

pub(crate) fn decode_proposals(
    r: &mut Reader<'_>,
) -> Result<(Vec<CachedProposal>, OwnUpdates), DecodeError> {
    let cached = get_list(r, decode_cached_proposal)?;
    let own = get_list(r, |r| Ok((get(r, "reference")?, get_hpke_key(r, "key")?)))?;
    Ok((cached, own))
}

pub(crate) fn encode_summary(s: &CommitSummary, w: &mut Writer) {
    s.committer.encode(w);
    s.external_joiner.encode(w);
    s.added.encode(w);
    s.removed.encode(w);
    s.updated.encode(w);
    s.psks.encode(w);
    s.extensions.encode(w);
    s.reinit.encode(w);
    put_bool(w, s.self_removed);
    w.vector(|w| {
        for m in &s.removed_members {
            m.index.encode(w);
            m.credential.encode(w);
            m.signature_key.encode(w);
        }
    });
    put_bool(w, s.path_updated);
    s.authenticated_data.encode(w);
}

pub(crate) fn decode_summary(r: &mut Reader<'_>) -> Result<CommitSummary, DecodeError> {
    Ok(CommitSummary {
        committer: get(r, "committer")?,
        external_joiner: get(r, "external_joiner")?,
        added: get(r, "added")?,
        removed: get(r, "removed")?,
        updated: get(r, "updated")?,
        psks: get(r, "psks")?,
        extensions: get(r, "extensions")?,
        reinit: get(r, "reinit")?,
        self_removed: get_bool(r, "self_removed")?,
        removed_members: get_list(r, |r| {
            Ok(crate::group::member::Member {
                index: get(r, "index")?,
                credential: get(r, "credential")?,
                signature_key: get(r, "signature_key")?,
            })
        })?,
        path_updated: get_bool(r, "path_updated")?,
        authenticated_data: get(r, "authenticated_data")?,
        // Not stored: see `CommitSummary::app_ephemeral`.
        app_ephemeral: Vec::new(),
        app_data_updated: Vec::new(),
    })
}

#[cfg(test)]
mod key_tests {
    use super::*;

    /// Keys are part of the stored format (docs/persistence.md): each kind
    /// spelled out, including the widest values.
    #[test]
    fn keys_are_as_documented() {
        let k = GroupKeys::new(&[0xab, 0x01]);
        let s = |key: Vec<u8>| String::from_utf8(key).expect("utf-8");
        assert_eq!(s(k.node(NodeIndex(0x1f))), "g/ab01/t/0000001f");
        assert_eq!(s(k.node(NodeIndex(u32::MAX))), "g/ab01/t/ffffffff");
        assert_eq!(s(k.past(0x1_0000_0002)), "g/ab01/past/0000000100000002");
        assert_eq!(s(k.psk(0x1_0000_0002)), "g/ab01/psk/0000000100000002");
        let prefix = k.psks();
        assert_eq!(
            GroupKeys::parse_epoch(&k.psk(u64::MAX), &prefix),
            Some(u64::MAX)
        );
        assert_eq!(
            GroupKeys::parse_epoch(&k.psk(3)[..prefix.len() + 15], &prefix),
            None
        );
        assert_eq!(s(k.secret_tree(7)), "g/ab01/st/0000000000000007/");
        assert_eq!(s(k.secret_tree_nodes(7)), "g/ab01/st/0000000000000007/n");
        assert_eq!(s(k.ratchets_prefix(7)), "g/ab01/st/0000000000000007/r/");
        assert_eq!(
            s(k.ratchets(u64::MAX, LeafIndex(0xa0b1c2d3))),
            "g/ab01/st/ffffffffffffffff/r/a0b1c2d3"
        );
        assert_eq!(s(k.meta()), "g/ab01/meta");
        assert_eq!(s(k.cached_proposal(0x2a)), "g/ab01/prop/0000002a");
        let prefix = k.cached_proposals();
        assert_eq!(
            GroupKeys::parse_index(&k.cached_proposal(7), &prefix),
            Some(7)
        );
    }

    /// A cached SelfRemove round-trips; a record of type 0x000a written
    /// before SelfRemove was known (a `Custom` proposal, body `opaque<V>`)
    /// still loads, as the `Custom` proposal it was.
    #[test]
    fn cached_self_removes_and_legacy_0x000a_records_load() {
        use crate::messages::proposals::SelfRemove;
        let sender = Sender::Member(LeafIndex(3));
        let decode = |bytes: &[u8]| {
            let mut r = Reader::new(bytes);
            let p = decode_cached_proposal(&mut r).expect("decodes");
            r.finish().expect("whole record read");
            p
        };
        let current = CachedProposal {
            reference: vec![7; 32],
            proposal: Proposal::SelfRemove(SelfRemove {}),
            sender,
        };
        let mut w = Writer::new();
        encode_cached_proposal(&current, &mut w);
        assert_eq!(decode(&w.finish().expect("encodes")), current);
        for data in [vec![], vec![1], vec![4, 0, 0, 0], vec![9; 70]] {
            // The earlier layout, written by hand: reference, type, the
            // body as opaque<V>, sender.
            let mut w = Writer::new();
            vec![7u8; 32].encode(&mut w);
            ProposalType::SELF_REMOVE.encode(&mut w);
            data.encode(&mut w);
            sender.encode(&mut w);
            let loaded = decode(&w.finish().expect("encodes"));
            assert_eq!(
                loaded.proposal,
                Proposal::Custom {
                    proposal_type: ProposalType::SELF_REMOVE,
                    data: data.clone()
                }
            );
            assert_eq!(loaded.sender, sender);
        }
    }
}
