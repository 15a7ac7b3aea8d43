//! Building a sparse group for the group-level benches (`benches/group.rs`,
//! `benches/pq_costs.rs`): members with key packages, one commit that adds
//! them all, and joining from its Welcome. Setup only; nothing here is
//! timed by itself.

use arbor_mls::codec::decode_exact;
use arbor_mls::crypto::credential::Credential;
use arbor_mls::crypto::{SeededRandom, SignaturePrivateKey, Suite};
use arbor_mls::framing::{MlsMessage, MlsMessageBody, WireFormat};
use arbor_mls::group::commit_create::CommitParams;
use arbor_mls::group::join::JoinInputs;
use arbor_mls::group::psk_store::{NoPsks, PskUse};
use arbor_mls::group::state::{GroupConfig, GroupState};
use arbor_mls::messages::key_package::{KeyPackageData, KeyPackageParams, KeyPackagePrivate};
use arbor_mls::messages::proposals::{Add, Proposal};
use arbor_mls::messages::welcome::Welcome;
use arbor_mls::test_support::FIXTURE_LIFETIME;
use arbor_mls::tree::leaf_node::Capabilities;

/// The time every commit and join is made at: inside the fixtures' lifetime.
pub(crate) const NOW: u64 = FIXTURE_LIFETIME.not_before + 60;

/// A member's signing key and key package, with the key package's private
/// keys.
pub(crate) struct Member {
    pub(crate) signer: SignaturePrivateKey,
    pub(crate) key_package: KeyPackageData,
    pub(crate) private: KeyPackagePrivate,
}

/// Member `i` (credential "member i") with a fresh key package in `suite`.
pub(crate) fn member(suite: &Suite, i: u32, rng: &mut SeededRandom) -> Member {
    let (signer, public) = suite.primitives().signature_key_pair(rng).expect("keys");
    let (key_package, private) = KeyPackageData::create(
        suite,
        &signer,
        &public,
        KeyPackageParams {
            credential: Credential::basic(format!("member {i}").into_bytes()),
            lifetime: FIXTURE_LIFETIME,
            capabilities: Capabilities::for_suite(suite.id()),
            leaf_extensions: vec![],
            extensions: vec![],
        },
        rng,
    )
    .expect("key package");
    Member {
        signer,
        key_package,
        private,
    }
}

/// A one-member group created by `creator` with the default config.
pub(crate) fn create_group(suite: &Suite, creator: &Member, rng: &mut SeededRandom) -> GroupState {
    GroupState::create(
        suite,
        GroupConfig::default(),
        b"bench group".to_vec(),
        vec![],
        creator.key_package.leaf_node.clone(),
        creator.private.encryption_key.clone(),
        rng,
    )
    .expect("create")
}

/// One Add proposal per member, in order.
pub(crate) fn add_proposals(members: &[Member]) -> Vec<Proposal> {
    members
        .iter()
        .map(|m| {
            Proposal::Add(Add {
                key_package: m.key_package.clone(),
            })
        })
        .collect()
}

/// A PublicMessage commit of `by_value` with the tree in the Welcome; an
/// empty `by_value` makes an update (an empty commit, which has a path).
pub(crate) fn params(signer: &SignaturePrivateKey, by_value: Vec<Proposal>) -> CommitParams<'_> {
    CommitParams {
        by_value,
        by_reference: vec![],
        force_path: false,
        wire_format: WireFormat::PUBLIC_MESSAGE,
        ratchet_tree_in_welcome: true,
        authenticated_data: vec![],
        signer,
        leaf: None,
        psks: &NoPsks,
        now: NOW,
        dangerous_skip_validation: false,
        extra_psks: Vec::new(),
        psk_use: PskUse::Normal,
        group_info_extensions: Vec::new(),
    }
}

/// The Welcome inside an encoded MLSMessage.
pub(crate) fn decode_welcome(bytes: &[u8]) -> Welcome {
    let message: MlsMessage = decode_exact(bytes).expect("decode");
    let MlsMessageBody::Welcome(welcome) = message.body else {
        panic!("not a welcome")
    };
    *welcome
}

/// `m` joins from `welcome` (the tree is in it) with the default config.
pub(crate) fn join(suite: &Suite, welcome: &Welcome, m: &Member) -> GroupState {
    GroupState::join(
        suite,
        JoinInputs {
            welcome,
            key_package: &m.key_package,
            private: &m.private,
            ratchet_tree: None,
            psks: &NoPsks,
            now: NOW,
            config: GroupConfig::default(),
            psk_use: PskUse::Normal,
        },
    )
    .expect("join")
}
