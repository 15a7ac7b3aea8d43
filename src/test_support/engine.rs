//! Engine-level fixtures: members that drive `GroupState` directly (no
//! `api::Client`, no storage), a group of n of them, and commit delivery to
//! every member and an observer.

use crate::crypto::credential::Credential;
use crate::crypto::{SeededRandom, SignaturePrivateKey, SignaturePublicKey, Suite};
use crate::framing::{MlsMessage, MlsMessageBody, WireFormat};
use crate::group::commit_create::{CommitParams, CreatedCommit};
use crate::group::engine::Received;
use crate::group::join::JoinInputs;
use crate::group::psk_store::{NoPsks, PskUse};
use crate::group::state::{GroupConfig, GroupState};
use crate::messages::key_package::{KeyPackageData, KeyPackageParams, KeyPackagePrivate};
use crate::messages::proposals::{Add, Proposal};
use crate::test_support::{FIXTURE_LIFETIME, default_suite};
use crate::tree::leaf_node::Capabilities;

pub(crate) const NOW: u64 = FIXTURE_LIFETIME.not_before + 3600;

/// A member that drives the engine directly: its suite and signature keys.
pub(crate) struct EngineMember {
    pub(crate) suite: Suite,
    pub(crate) signer: SignaturePrivateKey,
    pub(crate) public: SignaturePublicKey,
    pub(crate) name: &'static str,
}

impl EngineMember {
    pub(crate) fn new(name: &'static str, seed: u8) -> Self {
        let suite = default_suite().unwrap();
        let (signer, public) = suite
            .primitives()
            .signature_key_pair(&mut SeededRandom::from_seed([seed; 32]))
            .unwrap();
        Self {
            suite,
            signer,
            public,
            name,
        }
    }

    pub(crate) fn key_package(
        &self,
        rng: &mut SeededRandom,
    ) -> (KeyPackageData, KeyPackagePrivate) {
        KeyPackageData::create(
            &self.suite,
            &self.signer,
            &self.public,
            KeyPackageParams {
                credential: Credential::basic(self.name.as_bytes().to_vec()),
                lifetime: FIXTURE_LIFETIME,
                capabilities: Capabilities::for_suite(self.suite.id()),
                leaf_extensions: vec![],
                extensions: vec![],
            },
            rng,
        )
        .unwrap()
    }

    pub(crate) fn create_group(&self, rng: &mut SeededRandom) -> GroupState {
        let (kp, private) = self.key_package(rng);
        GroupState::create(
            &self.suite,
            GroupConfig::default(),
            b"test group".to_vec(),
            vec![],
            kp.leaf_node,
            private.encryption_key,
            rng,
        )
        .unwrap()
    }

    pub(crate) fn params(&self, by_value: Vec<Proposal>) -> CommitParams<'_> {
        CommitParams {
            by_value,
            by_reference: vec![],
            force_path: false,
            wire_format: WireFormat::PUBLIC_MESSAGE,
            ratchet_tree_in_welcome: true,
            authenticated_data: vec![],
            signer: &self.signer,
            leaf: None,
            psks: &NoPsks,
            now: NOW,
            dangerous_skip_validation: false,
            extra_psks: Vec::new(),
            psk_use: crate::group::psk_store::PskUse::Normal,
            group_info_extensions: Vec::new(),
        }
    }

    pub(crate) fn join(
        &self,
        welcome: &[u8],
        kp: &KeyPackageData,
        private: &KeyPackagePrivate,
    ) -> GroupState {
        let msg: MlsMessage = crate::codec::decode_exact(welcome).unwrap();
        let MlsMessageBody::Welcome(welcome) = msg.body else {
            panic!("not a welcome")
        };
        GroupState::join(
            &self.suite,
            JoinInputs {
                welcome: &welcome,
                key_package: kp,
                private,
                ratchet_tree: None,
                psks: &NoPsks,
                now: NOW,
                config: GroupConfig::default(),
                psk_use: PskUse::Normal,
            },
        )
        .unwrap()
    }
}

/// Alice creates a group and adds `others`; everyone joins. Returns the
/// clients and their group states, Alice first.
pub(crate) fn group_of(n: usize) -> (Vec<EngineMember>, Vec<GroupState>) {
    let names = [
        "alice", "bob", "charlie", "dave", "erin", "frank", "grace", "heidi",
    ];
    let mut rng = SeededRandom::from_seed([7; 32]);
    let clients: Vec<EngineMember> = (0..n)
        .map(|i| EngineMember::new(names[i], i as u8 + 1))
        .collect();
    let mut alice = clients[0].create_group(&mut rng);
    let kps: Vec<_> = clients[1..]
        .iter()
        .map(|c| c.key_package(&mut rng))
        .collect();
    let adds = kps
        .iter()
        .map(|(kp, _)| {
            Proposal::Add(Add {
                key_package: kp.clone(),
            })
        })
        .collect();
    let created = alice
        .create_commit(clients[0].params(adds), &mut rng)
        .unwrap();
    let welcome = created.welcome.clone();
    alice.merge(created.staged).unwrap();
    let mut groups = vec![alice];
    if let Some(welcome) = welcome {
        for (c, (kp, private)) in clients[1..].iter().zip(&kps) {
            groups.push(c.join(&welcome, kp, private));
        }
    }
    (clients, groups)
}

pub(crate) fn assert_in_sync(groups: &[GroupState]) {
    let suite = default_suite().unwrap();
    for g in &groups[1..] {
        assert_eq!(g.epoch(), groups[0].epoch());
        assert_eq!(g.epoch_authenticator(), groups[0].epoch_authenticator());
        assert_eq!(
            g.tree().root_tree_hash(&suite).unwrap(),
            groups[0].tree().root_tree_hash(&suite).unwrap()
        );
    }
}

/// Everyone but the committer processes and merges; the committer merges.
/// An observer of the epoch processes the commit too: it must accept a
/// PublicMessage commit and end in the members' public state, and only
/// route a PrivateMessage one.
pub(crate) fn deliver(groups: &mut [GroupState], committer: usize, created: CreatedCommit) {
    use crate::group::observer::Observed;
    let mut observer = crate::group::observer::tests::observer_of(&groups[committer]);
    let observed = match observer.process(&created.message, NOW).unwrap() {
        Observed::Commit(staged) => {
            observer.merge(*staged).unwrap();
            true
        }
        Observed::Private(route) => {
            assert_eq!(route.epoch, groups[committer].epoch());
            false
        }
        other => panic!("observer: expected a commit, got {other:?}"),
    };
    for (i, g) in groups.iter_mut().enumerate() {
        if i == committer {
            continue;
        }
        match g.process(&created.message, &NoPsks, NOW).unwrap() {
            Received::Commit(staged) => g.merge(*staged).unwrap(),
            other => panic!("expected a commit, got {other:?}"),
        }
    }
    groups[committer].merge(created.staged).unwrap();
    if observed {
        crate::group::observer::tests::assert_observes(&observer, &groups[committer]);
    }
}
