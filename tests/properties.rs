//! Property: a random sequence of group operations among 3-8 members keeps
//! every current member in sync.
//!
//! The test models a delivery service as one ordered queue. A commit goes to
//! every member of the epoch it was made in (the committer gets its echo,
//! which `process` recognises and merges), proposals and application
//! messages to every member but their sender, Welcomes to the added
//! clients. After every operation the queue is drained and all current
//! members must agree on the epoch, the epoch authenticator, the ratchet
//! tree (its encoding fixes the tree hash), the member list and an exported
//! secret, and the member list must be the one the model expects.
//!
//! Clocks are fixed and every client's randomness is seeded from the case's
//! seed and the client's number, so a failing case replays exactly.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use arbor_mls::api::GroupConfig;
use arbor_mls::crypto::credential::Credential;
use arbor_mls::crypto::{Secret, SeededRandom};
use arbor_mls::framing::Sender;
use arbor_mls::types::math::LeafIndex;
use arbor_mls::{
    Client, CommitOutput, Event, FixedClock, Group, GroupOptions, KeyPackageOptions, Result,
};
use proptest::prelude::*;
use proptest::sample::Index;

const NOW: u64 = 1_750_000_000;
const MIN_MEMBERS: usize = 3;
const MAX_MEMBERS: usize = 8;
const MAX_OPS: usize = 12;
const PSK_ID: &[u8] = b"arbor property psk";

/// A proposal kind inside [`Op::Proposals`].
#[derive(Debug, Clone, Copy)]
enum Kind {
    Add,
    Update,
    Remove,
    Psk,
}

#[derive(Debug, Clone)]
struct ProposalSpec {
    kind: Kind,
    proposer: Index,
    target: Index,
}

/// One step. Members are picked by `Index` among the current members, in
/// the order they joined.
#[derive(Debug, Clone)]
enum Op {
    /// `committer` adds 1-2 new clients by value.
    AddByCommit {
        committer: Index,
        count: usize,
        encrypt_new: bool,
    },
    /// `proposer` proposes an Add, `committer` commits pending proposals.
    ProposeAdd {
        proposer: Index,
        committer: Index,
        encrypt_new: bool,
    },
    /// `committer` removes `target` (never itself).
    Remove { committer: Index, target: Index },
    /// `committer` refreshes its keys with an empty commit with a path.
    SelfUpdate { committer: Index },
    /// `proposer` proposes an Update, another member commits it.
    ProposeUpdate { proposer: Index, committer: Index },
    /// `proposer` proposes the external PSK, `committer` commits it.
    ExternalPsk { proposer: Index, committer: Index },
    /// Several proposals from several members, then one commit covering
    /// them all by reference. Conflicting picks are skipped.
    Proposals {
        specs: Vec<ProposalSpec>,
        committer: Index,
    },
    /// An application message to everyone else.
    Application {
        sender: Index,
        data: Vec<u8>,
        aad: Vec<u8>,
    },
    /// An application message sent in epoch n that the delivery service
    /// orders after a commit (an update, or the removal of `removed`, who
    /// may be the sender): received in epoch n+1 with retained keys.
    LateApplication {
        sender: Index,
        committer: Index,
        removed: Option<Index>,
        data: Vec<u8>,
    },
    /// Two members commit in the same epoch; the first one wins, everyone
    /// rejects the second, and its committer drops its pending commit.
    ConcurrentUpdates { first: Index, second: Index },
    /// Changes a member's settings (handshakes as PrivateMessage or not,
    /// ratchet tree in Welcome or not, padding).
    Settings { member: Index, settings: Settings },
}

/// The test's copy of a member's `GroupConfig` (which it cannot read back
/// from a `Group`).
#[derive(Debug, Clone, Copy)]
struct Settings {
    encrypt_handshakes: bool,
    tree_in_welcome: bool,
    padding: usize,
}

impl Settings {
    fn to_api(self) -> GroupConfig {
        GroupConfig::default()
            .with_encrypted_handshakes(self.encrypt_handshakes)
            .with_ratchet_tree_in_welcome(self.tree_in_welcome)
            .with_padding(self.padding)
    }
}

struct Actor {
    id: u64,
    group: Group,
    settings: Settings,
}

struct Joiner {
    id: u64,
    client: Client,
    settings: Settings,
}

/// What a commit must do, as every receiver's staged summary reports it.
#[derive(Debug, Default, Clone)]
struct Effects {
    added: usize,
    removed: Vec<LeafIndex>,
    updated: Vec<LeafIndex>,
    psks: usize,
}

struct Welcome {
    bytes: Vec<u8>,
    joiners: Vec<Joiner>,
    tree_in_welcome: bool,
}

enum Envelope {
    Commit {
        from: u64,
        bytes: Vec<u8>,
        welcome: Option<Welcome>,
        effects: Effects,
        to: Vec<u64>,
        /// False for a commit that lost the race for its epoch.
        valid: bool,
    },
    Proposal {
        from: u64,
        sender: LeafIndex,
        bytes: Vec<u8>,
        to: Vec<u64>,
    },
    Application {
        sender: LeafIndex,
        data: Vec<u8>,
        aad: Vec<u8>,
        bytes: Vec<u8>,
        to: Vec<u64>,
    },
}

fn name(id: u64) -> Vec<u8> {
    format!("member-{id}").into_bytes()
}

fn ok<T>(what: &str, r: Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

struct World {
    seed: u64,
    next_id: u64,
    /// Current members, in the order they joined.
    actors: Vec<Actor>,
    /// Ids the model expects to be members once the queue is drained.
    expected: BTreeSet<u64>,
    /// The epoch the model expects.
    epoch: u64,
    queue: VecDeque<Envelope>,
    /// What the current step is, for failure messages.
    step: String,
}

impl World {
    fn new(seed: u64, size: usize, settings: &[Settings]) -> Self {
        let mut world = Self {
            seed,
            next_id: 0,
            actors: Vec::new(),
            expected: BTreeSet::new(),
            epoch: 0,
            queue: VecDeque::new(),
            step: "set-up".into(),
        };
        let (id, mut creator) = world.new_client();
        let mut group = ok(
            "create_group",
            creator.create_group(GroupOptions::default()),
        );
        group.set_config(settings[0].to_api());
        world.actors.push(Actor {
            id,
            group,
            settings: settings[0],
        });
        world.expected.insert(id);
        let joiners: Vec<Joiner> = (1..size)
            .map(|i| {
                let (id, client) = world.new_client();
                Joiner {
                    id,
                    client,
                    settings: settings[i % settings.len()],
                }
            })
            .collect();
        world.add_by_commit(0, joiners);
        world
    }

    fn new_client(&mut self) -> (u64, Client) {
        let id = self.next_id;
        self.next_id += 1;
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.seed.to_le_bytes());
        seed[8..16].copy_from_slice(&id.to_le_bytes());
        let mut client = ok(
            "build client",
            Client::builder(name(id))
                .clock(Arc::new(FixedClock(NOW)))
                .random(Box::new(SeededRandom::from_seed(seed)))
                .build(),
        );
        client
            .add_external_psk(PSK_ID.to_vec(), Secret::new(vec![0x5a; 32]))
            .expect("psk");
        (id, client)
    }

    fn ids(&self) -> Vec<u64> {
        self.actors.iter().map(|a| a.id).collect()
    }

    fn pos(&self, id: u64) -> Option<usize> {
        self.actors.iter().position(|a| a.id == id)
    }

    fn leaf(&self, pos: usize) -> LeafIndex {
        self.actors[pos].group.own_leaf()
    }

    /// A member other than `not`.
    fn pick_other(&self, index: &Index, not: usize) -> usize {
        let i = index.index(self.actors.len() - 1);
        if i >= not { i + 1 } else { i }
    }

    fn size_after_step(&self) -> usize {
        self.expected.len()
    }

    fn pick(&self, index: &Index) -> usize {
        index.index(self.actors.len())
    }

    /// Runs `make` on member `pos` and hands the commit to the delivery
    /// service, for everyone in the current epoch.
    fn send_commit(
        &mut self,
        pos: usize,
        joiners: Vec<Joiner>,
        mut effects: Effects,
        make: impl FnOnce(&mut Group) -> Result<CommitOutput>,
    ) {
        effects.added = joiners.len();
        let to = self.ids();
        let actor = &mut self.actors[pos];
        let out = ok(
            &format!("{}: create commit", self.step),
            make(&mut actor.group),
        );
        let welcome = match (out.welcome, joiners.is_empty()) {
            (Some(bytes), false) => Some(Welcome {
                bytes,
                joiners,
                tree_in_welcome: actor.settings.tree_in_welcome,
            }),
            (None, true) => None,
            (w, _) => panic!(
                "{}: commit with {} joiners came with Welcome: {}",
                self.step,
                joiners.len(),
                w.is_some()
            ),
        };
        self.queue.push_back(Envelope::Commit {
            from: actor.id,
            bytes: out.commit,
            welcome,
            effects,
            to,
            valid: true,
        });
    }

    fn send_proposal(&mut self, pos: usize, make: impl FnOnce(&mut Group) -> Result<Vec<u8>>) {
        let sender = self.leaf(pos);
        let actor = &mut self.actors[pos];
        let bytes = ok(&format!("{}: propose", self.step), make(&mut actor.group));
        let from = actor.id;
        let to = self.ids().into_iter().filter(|&i| i != from).collect();
        self.queue.push_back(Envelope::Proposal {
            from,
            sender,
            bytes,
            to,
        });
    }

    fn send_application(&mut self, pos: usize, data: &[u8], aad: &[u8]) -> Envelope {
        let sender = self.leaf(pos);
        let actor = &mut self.actors[pos];
        let bytes = ok(
            &format!("{}: encrypt", self.step),
            actor.group.encrypt(data, aad),
        );
        let from = actor.id;
        Envelope::Application {
            sender,
            data: data.to_vec(),
            aad: aad.to_vec(),
            bytes,
            to: self.ids().into_iter().filter(|&i| i != from).collect(),
        }
    }

    fn new_joiner(&mut self, encrypt_new: bool) -> Joiner {
        let (id, client) = self.new_client();
        self.expected.insert(id);
        Joiner {
            id,
            client,
            settings: Settings {
                encrypt_handshakes: encrypt_new,
                tree_in_welcome: !encrypt_new,
                padding: 0,
            },
        }
    }

    fn add_by_commit(&mut self, committer: usize, mut joiners: Vec<Joiner>) {
        let kps: Vec<Vec<u8>> = joiners
            .iter_mut()
            .map(|j| {
                self.expected.insert(j.id);
                ok(
                    "key package",
                    j.client.key_package(KeyPackageOptions::default()),
                )
            })
            .collect();
        let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
        self.send_commit(committer, joiners, Effects::default(), |g| g.add(&refs));
        self.flush();
    }

    /// Delivers everything queued, in order.
    fn flush(&mut self) {
        while let Some(envelope) = self.queue.pop_front() {
            match envelope {
                Envelope::Commit {
                    from,
                    bytes,
                    welcome,
                    effects,
                    to,
                    valid,
                } => self.deliver_commit(from, &bytes, welcome, &effects, &to, valid),
                Envelope::Proposal {
                    from,
                    sender,
                    bytes,
                    to,
                } => {
                    for id in to {
                        let Some(pos) = self.pos(id) else { continue };
                        match self.actors[pos].group.process(&bytes) {
                            Ok(Event::Proposal { sender: s, .. }) => assert_eq!(
                                s,
                                Sender::Member(sender),
                                "{}: proposal of member {from} seen from {s:?}",
                                self.step
                            ),
                            other => panic!(
                                "{}: member {id} processing a proposal of {from}: {other:?}",
                                self.step
                            ),
                        }
                    }
                }
                Envelope::Application {
                    sender,
                    data,
                    aad,
                    bytes,
                    to,
                } => {
                    for id in to {
                        let Some(pos) = self.pos(id) else { continue };
                        match self.actors[pos].group.process(&bytes) {
                            Ok(Event::Application {
                                sender: s,
                                data: d,
                                authenticated_data: a,
                                ..
                            }) => {
                                assert_eq!(s, sender, "{}: member {id}: sender", self.step);
                                assert_eq!(d, data, "{}: member {id}: plaintext", self.step);
                                assert_eq!(a, aad, "{}: member {id}: aad", self.step);
                            }
                            other => panic!(
                                "{}: member {id} decrypting from leaf {}: {other:?}",
                                self.step, sender.0
                            ),
                        }
                    }
                }
            }
        }
    }

    fn deliver_commit(
        &mut self,
        from: u64,
        bytes: &[u8],
        welcome: Option<Welcome>,
        effects: &Effects,
        to: &[u64],
        valid: bool,
    ) {
        let step = self.step.clone();
        let committer_leaf = self.leaf(
            self.pos(from)
                .unwrap_or_else(|| panic!("{step}: committer {from} is gone")),
        );
        for &id in to {
            let Some(pos) = self.pos(id) else { continue };
            let group = &mut self.actors[pos].group;
            let had_pending = group.has_pending_commit();
            let result = group.process(bytes);
            if !valid {
                assert!(
                    result.is_err(),
                    "{step}: member {id} accepted the losing commit of {from}"
                );
                assert_eq!(group.epoch(), self.epoch, "{step}: member {id}: epoch");
                assert!(!group.has_pending_commit());
                continue;
            }
            match result {
                Ok(Event::OwnCommitMerged { epoch }) => {
                    assert_eq!(
                        id, from,
                        "{step}: member {id} merged {from}'s commit as own"
                    );
                    assert_eq!(epoch, self.epoch + 1, "{step}: epoch after own commit");
                }
                Ok(Event::Commit {
                    staged,
                    supersedes_own,
                }) => {
                    assert_ne!(id, from, "{step}: committer {id} did not see its echo");
                    assert_eq!(
                        supersedes_own, had_pending,
                        "{step}: member {id}: supersedes_own"
                    );
                    let summary = &staged.summary;
                    assert_eq!(summary.committer, Sender::Member(committer_leaf));
                    assert_eq!(summary.added.len(), effects.added, "{step}: added");
                    let mut removed = summary.removed.clone();
                    removed.sort();
                    assert_eq!(removed, effects.removed, "{step}: removed");
                    let mut updated = summary.updated.clone();
                    updated.sort();
                    assert_eq!(updated, effects.updated, "{step}: updated");
                    assert_eq!(summary.psks.len(), effects.psks, "{step}: psks");
                    let removed = summary.self_removed;
                    assert_eq!(
                        removed,
                        !self.expected.contains(&id),
                        "{step}: member {id}: self_removed"
                    );
                    ok(&format!("{step}: member {id}: merge"), group.merge(*staged));
                    assert_eq!(group.is_active(), !removed);
                    if removed {
                        assert!(group.encrypt(b"x", b"").is_err());
                    }
                }
                other => panic!("{step}: member {id} processing commit of {from}: {other:?}"),
            }
        }
        if !valid {
            return;
        }
        self.epoch += 1;
        self.actors.retain(|a| a.group.is_active());
        let Some(welcome) = welcome else { return };
        let tree = if welcome.tree_in_welcome {
            None
        } else {
            Some(ok("ratchet_tree", self.actors[0].group.ratchet_tree()))
        };
        for mut joiner in welcome.joiners {
            let id = joiner.id;
            if tree.is_some() {
                assert!(
                    joiner.client.join(&welcome.bytes, None).is_err(),
                    "{step}: joined without the tree the Welcome lacks"
                );
            }
            let mut group = ok(
                &format!("{step}: member {id} joins"),
                joiner.client.join(&welcome.bytes, tree.as_deref()),
            );
            assert_eq!(group.epoch(), self.epoch, "{step}: joiner {id} epoch");
            group.set_config(joiner.settings.to_api());
            self.actors.push(Actor {
                id,
                group,
                settings: joiner.settings,
            });
        }
    }

    fn remove(&mut self, committer: usize, target: &Index) {
        self.queue_remove(committer, target);
        self.flush();
    }

    /// `committer` removes a member other than itself.
    fn queue_remove(&mut self, committer: usize, target: &Index) {
        let target = self.pick_other(target, committer);
        let leaf = self.leaf(target);
        self.expected.remove(&self.actors[target].id);
        let effects = Effects {
            removed: vec![leaf],
            ..Effects::default()
        };
        self.send_commit(committer, Vec::new(), effects, |g| g.remove(leaf));
    }

    fn apply(&mut self, op: &Op) {
        let size = self.actors.len();
        match op {
            Op::AddByCommit {
                committer,
                count,
                encrypt_new,
            } => {
                let target = committer;
                let committer = self.pick(committer);
                if size >= MAX_MEMBERS {
                    return self.remove(committer, target);
                }
                let count = (*count).min(MAX_MEMBERS - size);
                let joiners = (0..count).map(|_| self.new_joiner(*encrypt_new)).collect();
                self.add_by_commit(committer, joiners);
            }
            Op::ProposeAdd {
                proposer,
                committer,
                encrypt_new,
            } => {
                let target = proposer;
                let proposer = self.pick(proposer);
                let committer = self.pick(committer);
                if size >= MAX_MEMBERS {
                    return self.remove(committer, target);
                }
                let mut joiner = self.new_joiner(*encrypt_new);
                let kp = ok(
                    "key package",
                    joiner.client.key_package(KeyPackageOptions::default()),
                );
                self.send_proposal(proposer, |g| g.propose_add(&kp));
                self.flush();
                self.send_commit(committer, vec![joiner], Effects::default(), Group::commit);
                self.flush();
            }
            Op::Remove { committer, target } => {
                let committer = self.pick(committer);
                if size <= MIN_MEMBERS {
                    let joiner = self.new_joiner(false);
                    return self.add_by_commit(committer, vec![joiner]);
                }
                self.remove(committer, target);
            }
            Op::SelfUpdate { committer } => {
                let committer = self.pick(committer);
                self.send_commit(committer, Vec::new(), Effects::default(), Group::update);
                self.flush();
            }
            Op::ProposeUpdate {
                proposer,
                committer,
            } => {
                let proposer = self.pick(proposer);
                let committer = self.pick_other(committer, proposer);
                self.send_proposal(proposer, Group::propose_update);
                self.flush();
                let effects = Effects {
                    updated: vec![self.leaf(proposer)],
                    ..Effects::default()
                };
                self.send_commit(committer, Vec::new(), effects, Group::commit);
                self.flush();
            }
            Op::ExternalPsk {
                proposer,
                committer,
            } => {
                let proposer = self.pick(proposer);
                let committer = self.pick(committer);
                self.send_proposal(proposer, |g| g.propose_external_psk(PSK_ID.to_vec()));
                self.flush();
                let effects = Effects {
                    psks: 1,
                    ..Effects::default()
                };
                self.send_commit(committer, Vec::new(), effects, Group::commit);
                self.flush();
            }
            Op::Proposals { specs, committer } => self.proposals(specs, committer),
            Op::Application { sender, data, aad } => {
                let sender = self.pick(sender);
                let envelope = self.send_application(sender, data, aad);
                self.queue.push_back(envelope);
                self.flush();
            }
            Op::LateApplication {
                sender,
                committer,
                removed,
                data,
            } => {
                let sender = self.pick(sender);
                let committer = self.pick(committer);
                let late = self.send_application(sender, data, b"late");
                match removed {
                    Some(target) if size > MIN_MEMBERS => self.queue_remove(committer, target),
                    _ => self.send_commit(committer, Vec::new(), Effects::default(), Group::update),
                }
                self.queue.push_back(late);
                self.flush();
            }
            Op::ConcurrentUpdates { first, second } => {
                let first = self.pick(first);
                let second = self.pick_other(second, first);
                self.send_commit(first, Vec::new(), Effects::default(), Group::update);
                self.send_commit(second, Vec::new(), Effects::default(), Group::update);
                let Some(Envelope::Commit { valid, .. }) = self.queue.back_mut() else {
                    unreachable!("a commit was just queued");
                };
                *valid = false;
                self.flush();
            }
            Op::Settings { member, settings } => {
                let member = self.pick(member);
                let actor = &mut self.actors[member];
                actor.settings = *settings;
                actor.group.set_config(settings.to_api());
            }
        }
    }

    /// Several members propose; conflicting picks (a second Update of one
    /// leaf, an Update and a Remove of one leaf, a Remove of the committer,
    /// a group leaving its size bounds) are skipped, as a committer would
    /// have to drop them.
    fn proposals(&mut self, specs: &[ProposalSpec], committer: &Index) {
        let committer = self.pick(committer);
        let mut touched = BTreeSet::new();
        let mut joiners = Vec::new();
        let mut effects = Effects::default();
        for spec in specs {
            let proposer = self.pick(&spec.proposer);
            match spec.kind {
                Kind::Add => {
                    if self.size_after_step() >= MAX_MEMBERS {
                        continue;
                    }
                    let mut joiner = self.new_joiner(spec.target.index(2) == 1);
                    let kp = ok(
                        "key package",
                        joiner.client.key_package(KeyPackageOptions::default()),
                    );
                    joiners.push(joiner);
                    self.send_proposal(proposer, |g| g.propose_add(&kp));
                }
                Kind::Update => {
                    if proposer == committer || !touched.insert(proposer) {
                        continue;
                    }
                    effects.updated.push(self.leaf(proposer));
                    self.send_proposal(proposer, Group::propose_update);
                }
                Kind::Remove => {
                    let target = self.pick_other(&spec.target, committer);
                    if self.size_after_step() <= MIN_MEMBERS || !touched.insert(target) {
                        continue;
                    }
                    self.expected.remove(&self.actors[target].id);
                    let leaf = self.leaf(target);
                    effects.removed.push(leaf);
                    self.send_proposal(proposer, |g| g.propose_remove(leaf));
                }
                Kind::Psk => {
                    effects.psks += 1;
                    self.send_proposal(proposer, |g| g.propose_external_psk(PSK_ID.to_vec()));
                }
            }
        }
        self.flush();
        effects.removed.sort();
        effects.updated.sort();
        self.send_commit(committer, joiners, effects, Group::commit);
        self.flush();
    }

    /// Every current member agrees with every other and with the model.
    fn check(&self) {
        let step = &self.step;
        assert!(self.queue.is_empty());
        let ids: BTreeSet<u64> = self.ids().into_iter().collect();
        assert_eq!(ids, self.expected, "{step}: members present");
        assert!((MIN_MEMBERS..=MAX_MEMBERS).contains(&ids.len()));
        let reference = &self.actors[0].group;
        let tree = ok("ratchet_tree", reference.ratchet_tree());
        let members = reference.members();
        let exported = ok("export", reference.export_secret("property", b"ctx", 32));
        let names: BTreeSet<Vec<u8>> = members
            .iter()
            .map(|m| match &m.credential {
                Credential::Basic { identity } => identity.clone(),
                other => panic!("{step}: unexpected credential {other:?}"),
            })
            .collect();
        let expected_names: BTreeSet<Vec<u8>> = self.expected.iter().map(|&i| name(i)).collect();
        assert_eq!(names, expected_names, "{step}: member list");
        for actor in &self.actors {
            let id = actor.id;
            let g = &actor.group;
            assert!(g.is_active(), "{step}: member {id} inactive");
            assert!(
                !g.has_pending_commit(),
                "{step}: member {id} has a pending commit"
            );
            assert_eq!(g.epoch(), self.epoch, "{step}: member {id}: epoch");
            assert_eq!(
                g.epoch_authenticator(),
                reference.epoch_authenticator(),
                "{step}: member {id}: epoch authenticator"
            );
            assert_eq!(
                ok("ratchet_tree", g.ratchet_tree()),
                tree,
                "{step}: member {id}: ratchet tree"
            );
            assert_eq!(g.members(), members, "{step}: member {id}: member list");
            assert_eq!(
                ok("export", g.export_secret("property", b"ctx", 32)),
                exported,
                "{step}: member {id}: exported secret"
            );
            let own = members
                .iter()
                .find(|m| m.index == g.own_leaf())
                .unwrap_or_else(|| panic!("{step}: member {id}: own leaf is blank"));
            assert_eq!(own.credential, Credential::basic(name(id)));
        }
    }
}

fn index() -> impl Strategy<Value = Index> {
    any::<Index>()
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(0usize), 1..48usize],
    )
        .prop_map(|(encrypt_handshakes, tree_in_welcome, padding)| Settings {
            encrypt_handshakes,
            tree_in_welcome,
            padding,
        })
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Add),
        Just(Kind::Update),
        Just(Kind::Remove),
        Just(Kind::Psk)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let data = || prop::collection::vec(any::<u8>(), 0..64);
    prop_oneof![
        (index(), 1..=2usize, any::<bool>()).prop_map(|(committer, count, encrypt_new)| {
            Op::AddByCommit {
                committer,
                count,
                encrypt_new,
            }
        }),
        (index(), index(), any::<bool>()).prop_map(|(proposer, committer, encrypt_new)| {
            Op::ProposeAdd {
                proposer,
                committer,
                encrypt_new,
            }
        }),
        (index(), index()).prop_map(|(committer, target)| Op::Remove { committer, target }),
        index().prop_map(|committer| Op::SelfUpdate { committer }),
        (index(), index()).prop_map(|(proposer, committer)| Op::ProposeUpdate {
            proposer,
            committer
        }),
        (index(), index()).prop_map(|(proposer, committer)| Op::ExternalPsk {
            proposer,
            committer
        }),
        (
            prop::collection::vec(
                (kind(), index(), index()).prop_map(|(kind, proposer, target)| ProposalSpec {
                    kind,
                    proposer,
                    target
                }),
                1..=4
            ),
            index()
        )
            .prop_map(|(specs, committer)| Op::Proposals { specs, committer }),
        (index(), data(), data()).prop_map(|(sender, data, aad)| Op::Application {
            sender,
            data,
            aad
        }),
        (index(), index(), prop::option::of(index()), data()).prop_map(
            |(sender, committer, removed, data)| Op::LateApplication {
                sender,
                committer,
                removed,
                data,
            }
        ),
        (index(), index()).prop_map(|(first, second)| Op::ConcurrentUpdates { first, second }),
        (index(), settings()).prop_map(|(member, settings)| Op::Settings { member, settings }),
    ]
}

/// 500 cases (about 7 s in a debug build), or `PROPTEST_CASES` for a
/// longer hunt.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn members_stay_in_sync(
        seed in any::<u64>(),
        size in MIN_MEMBERS..=MAX_MEMBERS,
        initial in prop::collection::vec(settings(), 1..=MAX_MEMBERS),
        ops in prop::collection::vec(op(), 1..=MAX_OPS),
    ) {
        let mut world = World::new(seed, size, &initial);
        world.check();
        for (i, op) in ops.iter().enumerate() {
            world.step = format!("step {i} ({op:?})");
            world.apply(op);
            world.check();
        }
    }
}
