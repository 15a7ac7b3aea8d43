//! Which cached proposals a commit covers (§12.2, §12.4). Members propose
//! concurrently, so the cache can hold proposals that cannot all be
//! committed together (two Removes of one leaf, an Update and a Remove of
//! one leaf, ...). The committer SHOULD include every proposal that still
//! leaves a valid list; this picks that subset, preferring Removes over
//! Updates, and says why each other proposal was left out.

use std::collections::HashSet;

use crate::framing::Sender;
use crate::group::app_data_rules::{
    APP_DATA_UPDATE_RULE, app_updates_conflict, check_app_proposal,
};
use crate::group::proposal_cache::CachedProposal;
use crate::group::proposal_rules::validate_proposal;
use crate::group::psk_store::{PskStore, lookup};
use crate::group::state::GroupState;
use crate::messages::proposals::Proposal;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::LeafIndex;
use crate::types::{Commits, ProposalType};

/// A cached proposal a commit did not cover, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeftOut {
    /// Its ProposalRef.
    pub reference: Vec<u8>,
    /// Who proposed it.
    pub sender: Sender,
    /// Its type.
    pub proposal_type: ProposalType,
    /// Why it conflicts with the proposals that were covered (§12.2). It
    /// stays out of the next epoch's cache: propose it again if it still
    /// matters.
    pub reason: String,
}

/// The cached proposals a commit covers, and the ones it leaves out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// References to cover, in the order they were received.
    pub references: Vec<Vec<u8>>,
    /// Proposals left out.
    pub left_out: Vec<LeftOut>,
}

/// What the proposals chosen so far claim: a later proposal that claims
/// the same thing conflicts (§12.2).
#[derive(Default)]
struct Claims {
    touched: HashSet<LeafIndex>,
    /// Signature keys of the members removed so far.
    removed_keys: HashSet<Vec<u8>>,
    add_keys: HashSet<Vec<u8>>,
    /// Encryption keys of the leaves covered proposals bring (Adds and
    /// Updates), and of the members removed so far.
    new_encryption_keys: HashSet<Vec<u8>>,
    removed_encryption_keys: HashSet<Vec<u8>>,
    psk_ids: HashSet<crate::schedule::PreSharedKeyId>,
    /// Types of which a commit covers at most one (§12.2), covered so far.
    at_most_one: HashSet<ProposalType>,
    /// A type that must be committed alone was covered.
    alone: bool,
    count: usize,
    /// AppDataUpdate proposals covered so far (draft-ietf-mls-extensions),
    /// to keep a `remove` from joining another one of its component.
    app_updates: Vec<Proposal>,
}

impl GroupState {
    /// Chooses the cached proposals our next commit covers at time `now`,
    /// alongside the committer's own `by_value` proposals (which take
    /// precedence). A cached proposal that is no longer valid on its own
    /// (§12.1; e.g. its key package expired since it was received) is left
    /// out too.
    /// `psks` is where the committer looks PSKs up: a PreSharedKey
    /// proposal for one it cannot resolve is left out.
    pub fn select_proposals(
        &self,
        by_value: &[Proposal],
        psks: &dyn PskStore,
        now: u64,
    ) -> Selection {
        self.select_where(by_value, psks, now, &|_| true)
    }

    /// [`Self::select_proposals`] limited to the cached SelfRemoves, which
    /// every commit covers (draft-ietf-mls-extensions): the selection of a
    /// commit that was not asked to cover the other cached proposals.
    pub fn select_self_removes(
        &self,
        by_value: &[Proposal],
        psks: &dyn PskStore,
        now: u64,
    ) -> Selection {
        self.select_where(by_value, psks, now, &|p| {
            matches!(p, Proposal::SelfRemove(_))
        })
    }

    fn select_where(
        &self,
        by_value: &[Proposal],
        psks: &dyn PskStore,
        now: u64,
        wanted: &dyn Fn(&Proposal) -> bool,
    ) -> Selection {
        let own = self.own_leaf();
        let mut claims = Claims::default();
        for p in by_value {
            claims.claim(self.tree(), p, Sender::Member(own));
        }
        let cached: Vec<&CachedProposal> = self.proposals.iter().collect();
        let mut chosen = vec![false; cached.len()];
        let mut left_out = Vec::new();
        // draft-ietf-mls-extensions: with a SelfRemove and a Remove of the
        // same leaf, "the Remove proposal is invalid", so SelfRemoves are
        // chosen first. §12.2: Removes are applied in preference to Updates
        // of the same leaf, so they come next; a ReInit only alone, so last.
        let alone = |p: &Proposal| p.proposal_type().rules().commit == Commits::RegularAlone;
        let removal = |p: &Proposal| matches!(p, Proposal::SelfRemove(_) | Proposal::Remove(_));
        let passes: [&dyn Fn(&Proposal) -> bool; 4] = [
            &|p| matches!(p, Proposal::SelfRemove(_)),
            &|p| matches!(p, Proposal::Remove(_)),
            &|p| !removal(p) && !alone(p),
            &alone,
        ];
        for pass in passes {
            for (i, c) in cached.iter().enumerate() {
                if !pass(&c.proposal) || !wanted(&c.proposal) {
                    continue;
                }
                let conflict = self.conflict(&claims, c, own, psks).or_else(|| {
                    validate_proposal(
                        &self.suite,
                        self.tree(),
                        self.context(),
                        &c.sender,
                        &c.proposal,
                        self.config.lifetime_at(now),
                    )
                    .err()
                    .map(|e| format!("it is no longer valid: {e}"))
                });
                match conflict {
                    None => {
                        claims.claim(self.tree(), &c.proposal, c.sender);
                        chosen[i] = true;
                    }
                    Some(reason) => left_out.push(LeftOut {
                        reference: c.reference.clone(),
                        sender: c.sender,
                        proposal_type: c.proposal.proposal_type(),
                        reason,
                    }),
                }
            }
        }
        Selection {
            references: cached
                .iter()
                .zip(chosen)
                .filter(|(_, chosen)| *chosen)
                .map(|(c, _)| c.reference.clone())
                .collect(),
            left_out,
        }
    }

    /// Why `c` cannot join the proposals claimed so far, if it cannot.
    fn conflict(
        &self,
        claims: &Claims,
        c: &CachedProposal,
        own: LeafIndex,
        psks: &dyn PskStore,
    ) -> Option<String> {
        let tree = self.tree();
        let t = c.proposal.proposal_type();
        let name = t
            .structure_name()
            .map_or_else(|| format!("{t:?}"), str::to_owned);
        match t.rules().commit {
            Commits::RegularAtMostOne if claims.at_most_one.contains(&t) => {
                return Some(format!(
                    "another {name} proposal is covered (§12.2: at most one)"
                ));
            }
            Commits::RegularAlone if claims.count > 0 || claims.alone => {
                return Some(format!(
                    "a {name} must be committed alone (§12.2): commit it once the other \
                     proposals are"
                ));
            }
            _ if claims.alone => {
                return Some(format!(
                    "a proposal that must be committed alone is covered (§12.2): commit the \
                     {name} in the next epoch"
                ));
            }
            Commits::Any
            | Commits::Regular
            | Commits::RegularAtMostOne
            | Commits::RegularAlone
            | Commits::ExternalOnly => {}
        }
        match &c.proposal {
            Proposal::Remove(r) if r.removed == own => Some(format!(
                "it removes the committer (leaf {}), which §12.2 forbids: another member must \
                 commit it",
                own.0
            )),
            Proposal::Remove(r) if claims.touched.contains(&r.removed) => Some(format!(
                "leaf {} is already removed by another proposal (§12.2)",
                r.removed.0
            )),
            Proposal::Remove(r) if tree.leaf(r.removed).is_none() => {
                Some(format!("leaf {} is blank (§12.1.3)", r.removed.0))
            }
            Proposal::SelfRemove(_) if c.sender == Sender::Member(own) => Some(
                "the committer's own SelfRemove: a member cannot commit its own removal \
                 (§12.2); another member must commit it"
                    .into(),
            ),
            Proposal::SelfRemove(_) => match c.sender {
                Sender::Member(l) if claims.touched.contains(&l) => Some(format!(
                    "leaf {} is already removed or updated by another covered proposal",
                    l.0
                )),
                _ => None,
            },
            Proposal::Update(_) if c.sender == Sender::Member(own) => {
                Some("the committer's own Update: its path replaces our leaf (§12.2)".into())
            }
            Proposal::Update(u) => match c.sender {
                Sender::Member(l) if claims.touched.contains(&l) => Some(format!(
                    "leaf {} is removed or updated by another proposal; Removes take \
                     precedence (§12.2)",
                    l.0
                )),
                _ => claims.encryption_key_taken(tree, &u.leaf_node.encryption_key),
            },
            Proposal::Add(a) => {
                let key = &a.key_package.leaf_node.signature_key;
                if claims.add_keys.contains(key.as_bytes()) {
                    Some("another Add of the same client is covered (§12.2)".into())
                } else if tree.contains_signature_key(key)
                    && !claims.removed_keys.contains(key.as_bytes())
                {
                    Some("the client is already a member (§12.2)".into())
                } else {
                    claims.encryption_key_taken(tree, &a.key_package.leaf_node.encryption_key)
                }
            }
            Proposal::PreSharedKey(p) if claims.psk_ids.contains(&p.psk) => {
                Some("another PreSharedKey proposal with the same id is covered (§12.2)".into())
            }
            Proposal::PreSharedKey(p) if lookup(&p.psk, psks, &self.own_resumption()).is_none() => {
                Some(
                    "the committer does not hold this PSK, so its commit could not be \
                     processed (§12.4.2): provision the PSK, or let a member who holds it \
                     commit"
                        .into(),
                )
            }
            Proposal::AppDataUpdate(u)
                if claims
                    .app_updates
                    .iter()
                    .any(|o| app_updates_conflict(o, &c.proposal)) =>
            {
                Some(format!(
                    "another AppDataUpdate of component {:#06x} is covered, and one of them \
                     removes it ({APP_DATA_UPDATE_RULE}: a single remove, or updates only)",
                    u.component_id
                ))
            }
            Proposal::AppDataUpdate(_) | Proposal::AppEphemeral(_) => check_app_proposal(
                self.authority().app_components(),
                tree,
                self.context(),
                &c.sender,
                &c.proposal,
            )
            .err()
            .map(|e| format!("the application's components refuse it: {e}")),
            Proposal::Remove(_)
            | Proposal::PreSharedKey(_)
            | Proposal::GroupContextExtensions(_)
            | Proposal::ReInit(_)
            | Proposal::ExternalInit(_)
            | Proposal::Custom { .. } => None,
        }
    }
}

impl Claims {
    fn claim(&mut self, tree: &RatchetTree, p: &Proposal, sender: Sender) {
        self.count += 1;
        let t = p.proposal_type();
        match t.rules().commit {
            Commits::RegularAtMostOne => {
                self.at_most_one.insert(t);
            }
            Commits::RegularAlone => self.alone = true,
            Commits::Any | Commits::Regular | Commits::ExternalOnly => {}
        }
        match p {
            Proposal::Remove(r) => {
                self.touched.insert(r.removed);
                if let Some(leaf) = tree.leaf(r.removed) {
                    self.removed_keys
                        .insert(leaf.signature_key.as_bytes().to_vec());
                    self.removed_encryption_keys
                        .insert(leaf.encryption_key.as_bytes().to_vec());
                }
            }
            Proposal::SelfRemove(_) => {
                if let Sender::Member(l) = sender {
                    self.touched.insert(l);
                    if let Some(leaf) = tree.leaf(l) {
                        self.removed_keys
                            .insert(leaf.signature_key.as_bytes().to_vec());
                        self.removed_encryption_keys
                            .insert(leaf.encryption_key.as_bytes().to_vec());
                    }
                }
            }
            Proposal::Update(u) => {
                if let Sender::Member(l) = sender {
                    self.touched.insert(l);
                }
                self.new_encryption_keys
                    .insert(u.leaf_node.encryption_key.as_bytes().to_vec());
            }
            Proposal::Add(a) => {
                let leaf = &a.key_package.leaf_node;
                self.add_keys.insert(leaf.signature_key.as_bytes().to_vec());
                self.new_encryption_keys
                    .insert(leaf.encryption_key.as_bytes().to_vec());
            }
            Proposal::PreSharedKey(p) => {
                self.psk_ids.insert(p.psk.clone());
            }
            Proposal::AppDataUpdate(_) => self.app_updates.push(p.clone()),
            Proposal::GroupContextExtensions(_)
            | Proposal::ReInit(_)
            | Proposal::ExternalInit(_)
            | Proposal::AppEphemeral(_)
            | Proposal::Custom { .. } => {}
        }
    }
}

impl Claims {
    /// §7.3 after the commit: a new leaf's encryption key is in no other
    /// leaf. Taken if another covered proposal brings it, or a member holds
    /// it that no covered Remove removes (an Update's own old key counts as
    /// held: §12.1.2 refuses reusing it anyway).
    fn encryption_key_taken(
        &self,
        tree: &RatchetTree,
        key: &crate::crypto::HpkePublicKey,
    ) -> Option<String> {
        if self.new_encryption_keys.contains(key.as_bytes()) {
            Some(
                "another covered proposal brings the same HPKE encryption key, which must \
                 be unique in the tree (§7.3)"
                    .into(),
            )
        } else if tree.contains_encryption_key(key)
            && !self.removed_encryption_keys.contains(key.as_bytes())
        {
            Some("a member already uses this HPKE encryption key (§7.3)".into())
        } else {
            None
        }
    }
}
