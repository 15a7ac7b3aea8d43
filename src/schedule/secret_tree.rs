//! The secret tree and its per-sender hash ratchets (§9), and the sender
//! data key (§6.3.2).
//!
//! The tree is derived lazily: it starts as the `encryption_secret` at the
//! root, and the first use of a leaf walks down from the nearest stored
//! ancestor, keeping only the siblings of the path (still needed by other
//! leaves) and deleting every node it expanded (§9.2). A leaf therefore costs
//! O(log n) derivations once, and the tree never holds more than one secret
//! per root-to-leaf path.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::crypto::{Secret, Suite};
use crate::types::error::{Error, Result};
use crate::types::math::{LeafCount, LeafIndex, NodeIndex};

/// An AEAD key and nonce: one step of a ratchet, the sender data key
/// (§6.3.2) or the welcome key (§12.4.3.1).
///
/// Deliberately not `Clone`: §9.1 says a key/nonce pair MUST NOT encrypt
/// more than one message. The reuse guard (§6.3.1) is applied to the nonce
/// by the framing layer.
#[derive(Debug, PartialEq, Eq)]
pub struct KeyAndNonce {
    /// The AEAD key, `AEAD.Nk` bytes.
    pub key: Secret,
    /// The AEAD nonce, `AEAD.Nn` bytes, before the reuse guard is applied.
    pub nonce: Secret,
}

/// Which of a leaf's two ratchets (§9): handshake messages (proposals and
/// commits) or application messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RatchetType {
    /// `handshake_ratchet_secret_[N]_[j]`: Proposal and Commit content.
    Handshake,
    /// `application_ratchet_secret_[N]_[j]`: application data.
    Application,
}

impl fmt::Display for RatchetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Handshake => "handshake",
            Self::Application => "application",
        })
    }
}

/// How far a receiver follows a sender's ratchet out of order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretTreeConfig {
    /// How many generations behind the newest one received from a sender a
    /// message may be and still decrypt. Keys of skipped generations within
    /// this distance are kept until used; older ones are deleted. Bounds the
    /// stored keys to this many per sender and content type.
    pub out_of_order_window: u32,
    /// How many generations a received message may skip ahead of the next
    /// expected one. Bounds the work (three KDF calls per generation) that
    /// one message can trigger.
    pub max_forward_distance: u32,
}

impl Default for SecretTreeConfig {
    /// Window 128, forward distance 1024.
    ///
    /// Reordering on real delivery paths is a handful of messages, so 128
    /// leaves a wide margin while a sender can make us keep at most 128
    /// skipped keys (about 13 KiB with map overhead) per ratchet. A gap of
    /// 1024 lost messages from one sender in one epoch is beyond what a
    /// working delivery service produces, and catching up over it costs
    /// about 3000 HKDF-Expand calls, a few milliseconds: the most a single
    /// (possibly hostile) message can make us spend.
    fn default() -> Self {
        Self {
            out_of_order_window: 128,
            max_forward_distance: 1024,
        }
    }
}

/// One hash ratchet of one leaf (§9.1).
#[derive(Debug)]
pub(crate) struct Ratchet {
    /// `ratchet_secret_[N]_[next]`; meaningless once `next` is 2^32.
    pub(crate) secret: Secret,
    /// The generation `secret` belongs to: the next key to derive. A `u64`
    /// so that "all 2^32 generations used" is representable.
    pub(crate) next: u64,
    /// Unconsumed keys of generations below `next`, within the window.
    pub(crate) skipped: BTreeMap<u32, KeyAndNonce>,
}

impl Ratchet {
    fn new(secret: Secret) -> Self {
        Self {
            secret,
            next: 0,
            skipped: BTreeMap::new(),
        }
    }

    /// Derives the key and nonce of generation `next` and advances the
    /// ratchet; the old ratchet secret is dropped (zeroized), as §9.2 requires
    /// once a value derived from it is consumed.
    /// Returns the replaced ratchet secret, which a journal keeps to undo
    /// the step and which is dropped (zeroized) otherwise.
    fn step(
        &mut self,
        suite: &Suite,
        leaf: LeafIndex,
        ty: RatchetType,
    ) -> Result<(u32, KeyAndNonce, Secret)> {
        let (generation, key, next) = derive_step(suite, &self.secret, self.next, leaf, ty)?;
        self.next += 1;
        let old = std::mem::replace(&mut self.secret, next);
        Ok((generation, key, old))
    }

    /// Deletes stored keys more than `window` generations behind the newest
    /// derived one, and returns them (for a journal; dropped otherwise).
    fn evict(&mut self, window: u32) -> BTreeMap<u32, KeyAndNonce> {
        let newest = self.next.saturating_sub(1);
        let oldest_kept = newest.saturating_sub(u64::from(window));
        // Generations are u32, so a bound above u32::MAX cannot occur: newest
        // is at most u32::MAX.
        let oldest_kept = u32::try_from(oldest_kept).unwrap_or(u32::MAX);
        let kept = self.skipped.split_off(&oldest_kept);
        std::mem::replace(&mut self.skipped, kept)
    }

    /// Puts back what a step from generation `next` with `secret` changed:
    /// the keys it kept (of generations from `next` on) go, the keys it
    /// evicted (of earlier generations) return.
    fn unstep(&mut self, next: u64, secret: Secret, evicted: BTreeMap<u32, KeyAndNonce>) {
        if let Ok(first_new) = u32::try_from(next) {
            drop(self.skipped.split_off(&first_new));
        }
        self.skipped
            .extend(evicted.into_iter().filter(|(g, _)| u64::from(*g) < next));
        self.next = next;
        self.secret = secret;
    }
}

/// Derives the key and nonce of generation `next` from `secret`, and the
/// ratchet secret of the generation after it. Pure, so callers can derive
/// first and change state only once everything succeeded.
fn derive_step(
    suite: &Suite,
    secret: &Secret,
    next: u64,
    leaf: LeafIndex,
    ty: RatchetType,
) -> Result<(u32, KeyAndNonce, Secret)> {
    let generation = u32::try_from(next).map_err(|_| {
        Error::protocol(
            "§9.1",
            format!("leaf {leaf} {ty} ratchet is exhausted: all 2^32 generations were used"),
        )
    })?;
    // DeriveTreeSecret (§9) of the key, the nonce and the next secret, from
    // one secret: derived together, so the provider keys its HMAC once.
    // After the last generation there is nothing left to derive; do not
    // keep a secret that no key will ever come from.
    let all = [
        ("key", suite.aead_key_len()),
        ("nonce", suite.aead_nonce_len()),
        ("secret", suite.hash_len()),
    ];
    let wanted = if generation == u32::MAX {
        &all[..2]
    } else {
        &all[..]
    };
    let mut derived = suite
        .expand_with_labels(secret.as_bytes(), &generation.to_be_bytes(), wanted)?
        .into_iter();
    let mut next = || {
        derived.next().ok_or(Error::Internal(
            "the provider derived fewer secrets than asked",
        ))
    };
    let key = next()?;
    let nonce = next()?;
    let following = if generation == u32::MAX {
        Secret::default()
    } else {
        next()?
    };
    Ok((generation, KeyAndNonce { key, nonce }, following))
}

impl KeyAndNonce {
    /// A copy, for handing out a kept key while it stays stored until the
    /// caller commits its use. Private: callers never get to reuse a key.
    fn duplicate(&self) -> Self {
        Self {
            key: self.key.clone(),
            nonce: self.nonce.clone(),
        }
    }
}

/// Leaf ratchets derived for a staged key but not yet stored.
#[derive(Debug)]
struct LeafPlan {
    /// Stored ancestor whose secret the derivation consumed.
    start: NodeIndex,
    /// Off-path node secrets to store.
    kept: Vec<(NodeIndex, Secret)>,
    ratchets: LeafRatchets,
}

/// How committing a staged key changes the ratchet.
#[derive(Debug)]
enum RatchetChange {
    /// Delete a kept key of an earlier generation.
    UseSkipped(u32),
    /// Move the ratchet from generation `from` to `next`, keeping the keys
    /// of skipped generations.
    Advance {
        from: u64,
        next: u64,
        secret: Secret,
        skipped: Vec<(u32, KeyAndNonce)>,
    },
}

/// A receive key derived without changing the tree (§9.2 deletion happens
/// at [`SecretTree::commit_key`]). Decrypt with [`StagedKey::key`]; commit
/// only if decryption succeeded, so a forged or corrupted message cannot burn
/// a generation.
#[derive(Debug)]
pub struct StagedKey {
    leaf: LeafIndex,
    generation: u32,
    ty: RatchetType,
    plan: Option<LeafPlan>,
    change: RatchetChange,
    key: KeyAndNonce,
}

impl StagedKey {
    /// The generation of the key (the message's `generation`).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The key and nonce to decrypt with.
    pub fn key(&self) -> &KeyAndNonce {
        &self.key
    }
}

/// Both ratchets of a leaf.
#[derive(Debug)]
pub(crate) struct LeafRatchets {
    pub(crate) handshake: Ratchet,
    pub(crate) application: Ratchet,
}

impl LeafRatchets {
    fn get(&self, ty: RatchetType) -> &Ratchet {
        match ty {
            RatchetType::Handshake => &self.handshake,
            RatchetType::Application => &self.application,
        }
    }

    fn get_mut(&mut self, ty: RatchetType) -> &mut Ratchet {
        match ty {
            RatchetType::Handshake => &mut self.handshake,
            RatchetType::Application => &mut self.application,
        }
    }
}

/// The secret tree of one epoch (§9) with the ratchets of the leaves used so
/// far.
#[derive(Debug)]
pub struct SecretTree {
    pub(crate) suite: Suite,
    pub(crate) leaves: LeafCount,
    pub(crate) config: SecretTreeConfig,
    /// Node secrets not yet expanded. At most one per root-to-leaf path: the
    /// root's `encryption_secret` at first, later the siblings of the paths
    /// walked.
    pub(crate) nodes: HashMap<NodeIndex, Secret>,
    /// Ratchets of leaves whose leaf secret has been expanded (and deleted).
    pub(crate) ratchets: HashMap<LeafIndex, LeafRatchets>,
    /// What changed since storage last took it (see
    /// [`Self::take_changes`]): a message writes only these records.
    pub(crate) changes: TreeChanges,
    /// While a transition is not yet stored: what it replaced.
    pub(crate) journal: Option<Journal>,
}

/// The parts of a [`SecretTree`] changed since they were last persisted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TreeChanges {
    /// The node secrets changed (a leaf was expanded).
    pub nodes: bool,
    /// Leaves whose ratchets changed.
    pub leaves: std::collections::BTreeSet<LeafIndex>,
}

/// What the changes to a [`SecretTree`] since [`SecretTree::begin`]
/// replaced, so that [`SecretTree::rollback`] can put the tree back
/// exactly, secrets included: a transition whose write fails must leave
/// memory as it was (docs/errors.md, `Retry`).
#[derive(Debug)]
pub(crate) struct Journal {
    changes: TreeChanges,
    steps: Vec<Step>,
}

/// One change recorded in a [`Journal`].
#[derive(Debug)]
enum Step {
    /// `leaf`'s ratchets were derived: `start`'s secret was consumed and
    /// the off-path secrets `kept` stored.
    Expanded {
        leaf: LeafIndex,
        start: NodeIndex,
        start_secret: Secret,
        kept: Vec<NodeIndex>,
    },
    /// The kept key of `generation` was used.
    UsedSkipped {
        leaf: LeafIndex,
        ty: RatchetType,
        generation: u32,
        key: KeyAndNonce,
    },
    /// The ratchet moved on from generation `next` and `secret`, evicting
    /// `evicted`.
    Advanced {
        leaf: LeafIndex,
        ty: RatchetType,
        next: u64,
        secret: Secret,
        evicted: BTreeMap<u32, KeyAndNonce>,
    },
}

impl SecretTree {
    /// Starts recording what changes, for [`Self::rollback`]; a journal
    /// already open is kept (its start is the earlier one).
    pub(crate) fn begin(&mut self) {
        if self.journal.is_none() {
            self.journal = Some(Journal {
                changes: self.changes.clone(),
                steps: Vec::new(),
            });
        }
    }

    /// Keeps the changes since [`Self::begin`] and deletes what they
    /// replaced (§9.2: consumed secrets are deleted).
    pub(crate) fn settle(&mut self) {
        self.journal = None;
    }

    /// Puts the tree back as it was at [`Self::begin`].
    pub(crate) fn rollback(&mut self) {
        let Some(journal) = self.journal.take() else {
            return;
        };
        for step in journal.steps.into_iter().rev() {
            match step {
                Step::Expanded {
                    leaf,
                    start,
                    start_secret,
                    kept,
                } => {
                    self.ratchets.remove(&leaf);
                    for x in kept {
                        self.nodes.remove(&x);
                    }
                    self.nodes.insert(start, start_secret);
                }
                Step::UsedSkipped {
                    leaf,
                    ty,
                    generation,
                    key,
                } => {
                    if let Some(r) = self.ratchets.get_mut(&leaf) {
                        r.get_mut(ty).skipped.insert(generation, key);
                    }
                }
                Step::Advanced {
                    leaf,
                    ty,
                    next,
                    secret,
                    evicted,
                } => {
                    if let Some(r) = self.ratchets.get_mut(&leaf) {
                        r.get_mut(ty).unstep(next, secret, evicted);
                    }
                }
            }
        }
        self.changes = journal.changes;
    }

    fn record(&mut self, step: Step) {
        if let Some(journal) = &mut self.journal {
            journal.steps.push(step);
        }
    }

    /// Stores `plan`'s ratchets for `leaf` (§9.2: the node secrets on the
    /// path from the root to the leaf are consumed and MUST be deleted;
    /// their off-path children are not).
    fn expand(&mut self, leaf: LeafIndex, plan: LeafPlan) {
        let start_secret = self.nodes.remove(&plan.start);
        let kept: Vec<NodeIndex> = plan.kept.iter().map(|(x, _)| *x).collect();
        self.nodes.extend(plan.kept);
        self.ratchets.insert(leaf, plan.ratchets);
        self.changes.nodes = true;
        if let Some(start_secret) = start_secret {
            self.record(Step::Expanded {
                leaf,
                start: plan.start,
                start_secret,
                kept,
            });
        }
    }

    /// A secret tree for `leaves` leaves rooted at `encryption_secret`,
    /// which it takes over (§9.2: the tree deletes it once expanded).
    pub fn new(
        suite: &Suite,
        encryption_secret: Secret,
        leaves: LeafCount,
        config: SecretTreeConfig,
    ) -> Self {
        let mut nodes = HashMap::new();
        nodes.insert(leaves.root(), encryption_secret);
        Self {
            suite: suite.clone(),
            leaves,
            config,
            nodes,
            ratchets: HashMap::new(),
            changes: TreeChanges::default(),
            journal: None,
        }
    }

    /// What changed since the last call, resetting the record.
    pub fn take_changes(&mut self) -> TreeChanges {
        std::mem::take(&mut self.changes)
    }

    /// The number of leaves.
    pub fn leaf_count(&self) -> LeafCount {
        self.leaves
    }

    /// The out-of-order policy.
    pub fn config(&self) -> SecretTreeConfig {
        self.config
    }

    /// The next key and nonce for sending as `leaf` with ratchet `ty`, and
    /// its generation (for `SenderData.generation`). Each call returns a new
    /// generation: §9.1 allows one message per key/nonce pair.
    pub fn next_key(&mut self, leaf: LeafIndex, ty: RatchetType) -> Result<(u32, KeyAndNonce)> {
        let window = self.config.out_of_order_window;
        let suite = self.suite.clone();
        let ratchet = self.ratchet_mut(leaf, ty)?;
        let next = ratchet.next;
        let (generation, key, secret) = ratchet.step(&suite, leaf, ty)?;
        let evicted = ratchet.evict(window);
        self.record(Step::Advanced {
            leaf,
            ty,
            next,
            secret,
            evicted,
        });
        Ok((generation, key))
    }

    /// The key and nonce of `generation` of `leaf`'s ratchet `ty`, for
    /// decrypting a received message. The key is deleted from the tree as it
    /// is handed out (§9.2), so asking again for the same generation fails.
    ///
    /// A later generation advances the ratchet, keeping the skipped keys
    /// within [`SecretTreeConfig::out_of_order_window`]; an earlier one is
    /// served from those kept keys. Errors name the leaf and generation:
    /// leaf outside the tree, generation already used, older than the
    /// window, or further ahead than
    /// [`SecretTreeConfig::max_forward_distance`].
    pub fn key_for(
        &mut self,
        leaf: LeafIndex,
        ty: RatchetType,
        generation: u32,
    ) -> Result<KeyAndNonce> {
        let staged = self.stage_key(leaf, ty, generation)?;
        let key = staged.key.duplicate();
        self.commit_key(staged)?;
        Ok(key)
    }

    /// Whether `generation` of `leaf`'s ratchet `ty` is behind the ratchet
    /// and its key gone: sent (for our own leaf) or received already.
    /// False for a leaf whose ratchets were never used.
    pub fn generation_used(&self, leaf: LeafIndex, ty: RatchetType, generation: u32) -> bool {
        self.ratchets.get(&leaf).is_some_and(|r| {
            let ratchet = r.get(ty);
            u64::from(generation) < ratchet.next && !ratchet.skipped.contains_key(&generation)
        })
    }

    /// Derives the receive key of `generation` of `leaf`'s ratchet `ty`
    /// without changing the tree; same rules and errors as
    /// [`Self::key_for`]. Pass the result to [`Self::commit_key`] once the
    /// message decrypted.
    pub fn stage_key(
        &self,
        leaf: LeafIndex,
        ty: RatchetType,
        generation: u32,
    ) -> Result<StagedKey> {
        self.check_leaf(leaf)?;
        let plan = match self.ratchets.contains_key(&leaf) {
            true => None,
            false => Some(self.plan_leaf(leaf)?),
        };
        let (change, key) = self.stage_in(plan.as_ref(), leaf, ty, generation)?;
        Ok(StagedKey {
            generation,
            leaf,
            ty,
            plan,
            change,
            key,
        })
    }

    /// The ratchet change and key for `generation`, from the planned or the
    /// stored ratchets of `leaf`.
    fn stage_in(
        &self,
        plan: Option<&LeafPlan>,
        leaf: LeafIndex,
        ty: RatchetType,
        generation: u32,
    ) -> Result<(RatchetChange, KeyAndNonce)> {
        let SecretTreeConfig {
            out_of_order_window: window,
            max_forward_distance,
        } = self.config;
        let ratchet = match (plan, self.ratchets.get(&leaf)) {
            (Some(p), _) => p.ratchets.get(ty),
            (None, Some(r)) => r.get(ty),
            (None, None) => return Err(Error::Internal("secret tree ratchets vanished")),
        };
        let wanted = u64::from(generation);

        if wanted < ratchet.next {
            if let Some(key) = ratchet.skipped.get(&generation) {
                return Ok((RatchetChange::UseSkipped(generation), key.duplicate()));
            }
            let newest = ratchet.next - 1;
            let behind = newest - wanted;
            // §9.2: consumed keys MUST be deleted, and we only keep skipped
            // keys within the window; either way the key is gone.
            return Err(if behind > u64::from(window) {
                Error::protocol(
                    "§9.2",
                    format!(
                        "leaf {leaf} {ty} generation {generation} is {behind} generations behind \
                         the newest ({newest}), outside the out-of-order window of {window}; \
                         its key was deleted"
                    ),
                )
            } else {
                Error::Replay(format!(
                    "leaf {leaf} {ty} generation {generation} was already used and its key \
                     deleted (RFC 9420 §9.2): the message was received before"
                ))
            });
        }

        let ahead = wanted - ratchet.next;
        if ahead > u64::from(max_forward_distance) {
            return Err(Error::protocol(
                "§9.1",
                format!(
                    "leaf {leaf} {ty} generation {generation} is {ahead} generations ahead of \
                     the next expected ({}), beyond the maximum forward distance of \
                     {max_forward_distance}",
                    ratchet.next
                ),
            ));
        }
        let mut secret = ratchet.secret.clone();
        let mut skipped = Vec::new();
        for g in ratchet.next..wanted {
            let (skipped_generation, key, following) =
                derive_step(&self.suite, &secret, g, leaf, ty)?;
            // Keys that would fall out of the window anyway are not stored.
            if wanted - g <= u64::from(window) {
                skipped.push((skipped_generation, key));
            }
            secret = following;
        }
        let (_, key, following) = derive_step(&self.suite, &secret, wanted, leaf, ty)?;
        let change = RatchetChange::Advance {
            from: ratchet.next,
            next: wanted + 1,
            secret: following,
            skipped,
        };
        Ok((change, key))
    }

    /// Commits a staged key: deletes it and every secret its derivation
    /// consumed (§9.2). Fails without changing anything if the tree moved on
    /// since the key was staged.
    pub fn commit_key(&mut self, staged: StagedKey) -> Result<()> {
        const STALE: &str = "staged key is stale: the secret tree changed after it was staged";
        let window = self.config.out_of_order_window;
        if let Some(plan) = &staged.plan
            && (self.ratchets.contains_key(&staged.leaf) || !self.nodes.contains_key(&plan.start))
        {
            return Err(Error::Misuse(STALE.into()));
        }
        {
            let current = match (&staged.plan, self.ratchets.get(&staged.leaf)) {
                (Some(p), _) => p.ratchets.get(staged.ty),
                (None, Some(r)) => r.get(staged.ty),
                (None, None) => return Err(Error::Misuse(STALE.into())),
            };
            let fresh = match &staged.change {
                RatchetChange::UseSkipped(g) => current.skipped.contains_key(g),
                RatchetChange::Advance { from, .. } => current.next == *from,
            };
            if !fresh {
                return Err(Error::Misuse(STALE.into()));
            }
        }
        let (leaf, ty) = (staged.leaf, staged.ty);
        if let Some(plan) = staged.plan {
            self.expand(leaf, plan);
        }
        self.changes.leaves.insert(leaf);
        let ratchet = self
            .ratchets
            .get_mut(&leaf)
            .map(|r| r.get_mut(ty))
            .ok_or(Error::Internal("secret tree ratchets vanished"))?;
        let step = match staged.change {
            RatchetChange::UseSkipped(generation) => {
                let key = ratchet.skipped.remove(&generation);
                key.map(|key| Step::UsedSkipped {
                    leaf,
                    ty,
                    generation,
                    key,
                })
            }
            RatchetChange::Advance {
                next,
                secret,
                skipped,
                from,
            } => {
                ratchet.next = next;
                let old = std::mem::replace(&mut ratchet.secret, secret);
                ratchet.skipped.extend(skipped);
                let evicted = ratchet.evict(window);
                Some(Step::Advanced {
                    leaf,
                    ty,
                    next: from,
                    secret: old,
                    evicted,
                })
            }
        };
        if let Some(step) = step {
            self.record(step);
        }
        Ok(())
    }

    fn check_leaf(&self, leaf: LeafIndex) -> Result<()> {
        if self.leaves.contains_leaf(leaf) {
            Ok(())
        } else {
            Err(Error::protocol(
                "§9",
                format!(
                    "leaf {leaf} is outside the secret tree of {} leaves",
                    self.leaves
                ),
            ))
        }
    }

    /// The ratchet `ty` of `leaf`, deriving the leaf's ratchets on first use.
    fn ratchet_mut(&mut self, leaf: LeafIndex, ty: RatchetType) -> Result<&mut Ratchet> {
        self.check_leaf(leaf)?;
        if !self.ratchets.contains_key(&leaf) {
            let plan = self.plan_leaf(leaf)?;
            self.expand(leaf, plan);
        }
        self.changes.leaves.insert(leaf);
        self.ratchets
            .get_mut(&leaf)
            .map(|r| r.get_mut(ty))
            .ok_or(Error::Internal("secret tree ratchets vanished"))
    }

    /// Plans the walk from the nearest stored ancestor of `leaf` down to it
    /// (§9): the off-path children to store, the node to delete, and the
    /// leaf's two ratchet secrets (the leaf secret itself is never stored).
    fn plan_leaf(&self, leaf: LeafIndex) -> Result<LeafPlan> {
        const LOST: Error = Error::Internal("secret tree has no stored ancestor of a new leaf");
        let target = leaf.node().ok_or(LOST)?;
        let path = target.direct_path(self.leaves).ok_or(LOST)?;
        let start = std::iter::once(target)
            .chain(path)
            .find(|x| self.nodes.contains_key(x))
            .ok_or(LOST)?;

        let suite = &self.suite;
        let nh = suite.hash_len();
        let mut kept = Vec::new();
        let mut x = start;
        let mut secret = self.nodes.get(&start).ok_or(LOST)?.clone();
        while x != target {
            let (left, right) = x.left().zip(x.right()).ok_or(LOST)?;
            let left_secret = suite.expand_with_label(secret.as_bytes(), "tree", b"left", nh)?;
            let right_secret = suite.expand_with_label(secret.as_bytes(), "tree", b"right", nh)?;
            if left.is_ancestor_or_self_of(target) {
                kept.push((right, right_secret));
                (x, secret) = (left, left_secret);
            } else {
                kept.push((left, left_secret));
                (x, secret) = (right, right_secret);
            }
        }
        let handshake = suite.expand_with_label(secret.as_bytes(), "handshake", &[], nh)?;
        let application = suite.expand_with_label(secret.as_bytes(), "application", &[], nh)?;
        Ok(LeafPlan {
            start,
            kept,
            ratchets: LeafRatchets {
                handshake: Ratchet::new(handshake),
                application: Ratchet::new(application),
            },
        })
    }

    /// Number of stored tree-node secrets (for tests of the deletion
    /// schedule).
    #[cfg(test)]
    fn stored_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Number of stored skipped keys of one ratchet (for tests).
    #[cfg(test)]
    fn stored_keys(&self, leaf: LeafIndex, ty: RatchetType) -> usize {
        self.ratchets.get(&leaf).map_or(0, |r| match ty {
            RatchetType::Handshake => r.handshake.skipped.len(),
            RatchetType::Application => r.application.skipped.len(),
        })
    }
}

/// `sender_data_key` and `sender_data_nonce` for a PrivateMessage (§6.3.2):
/// `ExpandWithLabel(sender_data_secret, "key" / "nonce", ciphertext_sample,
/// AEAD.Nk / AEAD.Nn)`, where the sample is the first `KDF.Nh` bytes of the
/// content ciphertext, or all of it when shorter.
pub fn sender_data_key_nonce(
    suite: &Suite,
    sender_data_secret: &Secret,
    ciphertext: &[u8],
) -> Result<KeyAndNonce> {
    let sample = &ciphertext[..ciphertext.len().min(suite.hash_len())];
    let outputs = [
        ("key", suite.aead_key_len()),
        ("nonce", suite.aead_nonce_len()),
    ];
    let mut derived = suite
        .expand_with_labels(sender_data_secret.as_bytes(), sample, &outputs)?
        .into_iter();
    match (derived.next(), derived.next()) {
        (Some(key), Some(nonce)) => Ok(KeyAndNonce { key, nonce }),
        _ => Err(Error::Internal(
            "the provider derived fewer secrets than asked",
        )),
    }
}

#[cfg(test)]
#[path = "secret_tree_tests.rs"]
mod tests;
