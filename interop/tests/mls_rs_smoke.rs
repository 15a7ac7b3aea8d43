//! Live interop with mls-rs 0.57 (crates.io) and its pure-Rust RustCrypto
//! provider, both directions, in every cipher suite both libraries implement
//! (that provider's: 0x0001, 0x0002, 0x0003 and 0x0007), with basic
//! credentials.
//!
//! Only bytes cross between the two libraries: key packages, Welcomes,
//! commits and application messages are MLSMessages, the ratchet tree is its
//! TLS encoding. Both sides run on the real clock (our `SystemClock`, the
//! default), since mls-rs dates its key packages from it (`not_before` is the
//! moment of creation, with no slack).
//!
//! mls-rs's default rules (`DefaultMlsRules`) send handshakes as
//! PublicMessage and put the ratchet tree into Welcomes; our
//! `GroupConfig::default()` does the same (`encrypt_handshakes: false`).
//! The first two tests run with those defaults (the first also sends our
//! handshakes as PrivateMessage near its end, which mls-rs accepts too); the
//! third gives mls-rs rules that encrypt its handshakes and leave the tree
//! out of Welcomes.

use arbor_mls::api::{
    Client, Event, Group, GroupConfig, GroupOptions, KeyPackageOptions, SystemClock,
};
use arbor_mls::crypto::CryptoProvider as _;
use arbor_mls::crypto::credential::Credential;
use arbor_mls::framing::MlsMessageBody;
use arbor_mls::types::math::LeafIndex;
use mls_rs::client_builder::{BaseConfig, PaddingMode, WithCryptoProvider, WithIdentityProvider};
use mls_rs::group::{CommitEffect, ReceivedMessage};
use mls_rs::identity::SigningIdentity;
use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
use mls_rs::mls_rules::{CommitOptions, DefaultMlsRules, EncryptionOptions};
use mls_rs::{
    CipherSuite, CipherSuiteProvider, CryptoProvider, ExtensionList, MlsMessage, WireFormat,
};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;
use std::sync::Arc;

/// The suites both mls-rs's RustCrypto provider and arbor implement; each
/// test runs in every one of them. At least 0x0001-0x0003 and 0x0007, so a
/// provider change cannot silently shrink the run.
fn shared_suites() -> Vec<CipherSuite> {
    let ours = arbor_mls::crypto::rust_crypto::RustCryptoProvider;
    let shared: Vec<CipherSuite> = RustCryptoProvider::all_supported_cipher_suites()
        .into_iter()
        .filter(|s| {
            ours.suite(arbor_mls::crypto::CipherSuite(u16::from(*s)))
                .is_some()
        })
        .collect();
    for id in [1u16, 2, 3, 7] {
        assert!(
            shared.iter().any(|s| u16::from(*s) == id),
            "suite {id} not shared"
        );
    }
    shared
}
const EXPORT_LABEL: &str = "arbor-mls-rs smoke";
const EXPORT_CONTEXT: &[u8] = b"context";

/// The configuration an mls-rs client is built with: in-memory storage,
/// default rules, basic credentials, RustCrypto.
type RsConfig =
    WithIdentityProvider<BasicIdentityProvider, WithCryptoProvider<RustCryptoProvider, BaseConfig>>;
type RsClient = mls_rs::Client<RsConfig>;
type RsGroup = mls_rs::Group<RsConfig>;

/// An mls-rs client of `suite` with its default rules.
fn mls_rs_client(identity: &[u8], suite: CipherSuite) -> RsClient {
    mls_rs_client_with(identity, suite, DefaultMlsRules::new())
}

/// An mls-rs client of `cipher_suite` with a fresh signature key, a basic
/// credential and `rules`.
fn mls_rs_client_with(
    identity: &[u8],
    cipher_suite: CipherSuite,
    rules: DefaultMlsRules,
) -> RsClient {
    let crypto = RustCryptoProvider::new();
    let suite = crypto
        .cipher_suite_provider(cipher_suite)
        .expect("mls-rs RustCrypto supports the shared suites");
    let (secret, public) = suite
        .signature_key_generate()
        .expect("mls-rs signature key");
    let signing_identity = SigningIdentity::new(
        BasicCredential::new(identity.to_vec()).into_credential(),
        public,
    );
    mls_rs::Client::builder()
        .crypto_provider(crypto)
        .identity_provider(BasicIdentityProvider::new())
        .signing_identity(signing_identity, secret, cipher_suite)
        .mls_rules(rules)
        .build()
}

/// A fresh mls-rs key package, as an MLSMessage.
fn mls_rs_key_package(client: &RsClient) -> Vec<u8> {
    client
        .generate_key_package_message(ExtensionList::new(), ExtensionList::new(), None)
        .expect("mls-rs key package")
        .to_bytes()
        .expect("encode mls-rs key package")
}

fn decode(bytes: &[u8]) -> MlsMessage {
    MlsMessage::from_bytes(bytes).expect("mls-rs decodes our MLSMessage")
}

fn encode(message: &MlsMessage) -> Vec<u8> {
    message.to_bytes().expect("encode mls-rs message")
}

/// mls-rs processes one of our messages.
fn mls_rs_process(group: &mut RsGroup, bytes: &[u8]) -> ReceivedMessage {
    group
        .process_incoming_message(decode(bytes))
        .expect("mls-rs accepts our message")
}

/// mls-rs processes one of our commits (it applies it at once) and enters
/// `epoch`; `committer` is our leaf.
fn mls_rs_follow(group: &mut RsGroup, commit: &[u8], committer: u32, epoch: u64) {
    match mls_rs_process(group, commit) {
        ReceivedMessage::Commit(c) => {
            assert_eq!(c.committer, committer, "committer");
            match c.effect {
                CommitEffect::NewEpoch(e) => assert_eq!(e.epoch, epoch, "mls-rs's new epoch"),
                other => panic!("mls-rs expected a new epoch, got {other:?}"),
            }
        }
        other => panic!("mls-rs expected a commit, got {other:?}"),
    }
    assert_eq!(group.current_epoch(), epoch);
}

/// mls-rs decrypts application data we sent: (sender leaf, data).
fn mls_rs_reads(group: &mut RsGroup, bytes: &[u8]) -> (u32, Vec<u8>) {
    match mls_rs_process(group, bytes) {
        ReceivedMessage::ApplicationMessage(m) => (m.sender_index, m.data().to_vec()),
        other => panic!("mls-rs expected application data, got {other:?}"),
    }
}

/// mls-rs encrypts application data.
fn mls_rs_encrypt(group: &mut RsGroup, data: &[u8]) -> Vec<u8> {
    encode(
        &group
            .encrypt_application_message(data, Vec::new())
            .expect("mls-rs encrypts"),
    )
}

/// mls-rs commits an update (an empty commit, which carries a path) and
/// applies it; returns the commit.
fn mls_rs_update(group: &mut RsGroup) -> Vec<u8> {
    let out = group.commit(Vec::new()).expect("mls-rs update");
    assert!(out.contains_update_path, "an empty commit carries a path");
    assert!(out.welcome_messages.is_empty());
    group
        .apply_pending_commit()
        .expect("mls-rs applies its commit");
    encode(&out.commit_message)
}

/// An arbor-mls client of `suite` on the real clock and OS randomness (the
/// defaults).
fn arbor_client(identity: &str, suite: CipherSuite) -> Client {
    Client::builder(identity)
        .cipher_suite(arbor_mls::crypto::CipherSuite(u16::from(suite)))
        .clock(Arc::new(SystemClock))
        .build()
        .expect("arbor client")
}

/// Both sides are in the same epoch with the same secrets and tree.
fn assert_agree(ours: &Group, theirs: &RsGroup) {
    assert_eq!(ours.epoch(), theirs.current_epoch(), "epoch");
    assert_eq!(ours.group_id(), theirs.group_id(), "group id");
    assert_eq!(
        ours.epoch_authenticator(),
        theirs
            .epoch_authenticator()
            .expect("mls-rs epoch authenticator")
            .as_bytes(),
        "epoch authenticator"
    );
    assert_eq!(
        ours.export_secret(EXPORT_LABEL, EXPORT_CONTEXT, 32)
            .expect("our exporter")
            .as_bytes(),
        theirs
            .export_secret(EXPORT_LABEL.as_bytes(), EXPORT_CONTEXT, 32)
            .expect("mls-rs exporter")
            .as_bytes(),
        "exporter secret"
    );
    assert_eq!(
        ours.ratchet_tree().expect("our tree"),
        theirs.export_tree().to_bytes().expect("encode mls-rs tree"),
        "ratchet tree"
    );
    // Same members: leaf index, basic identity and signature key.
    let our_members: Vec<(u32, Vec<u8>, Vec<u8>)> = ours
        .members()
        .into_iter()
        .map(|m| {
            let Credential::Basic { identity } = m.credential else {
                panic!("expected basic credentials, got {:?}", m.credential);
            };
            (m.index.0, identity, m.signature_key.as_bytes().to_vec())
        })
        .collect();
    let their_members: Vec<(u32, Vec<u8>, Vec<u8>)> = theirs
        .roster()
        .members()
        .into_iter()
        .map(|m| {
            let identity = m
                .signing_identity
                .credential
                .as_basic()
                .expect("mls-rs member with a basic credential")
                .identifier()
                .to_vec();
            (
                m.index,
                identity,
                m.signing_identity.signature_key.as_bytes().to_vec(),
            )
        })
        .collect();
    assert_eq!(our_members, their_members, "members");
}

fn application(event: Event) -> (LeafIndex, Vec<u8>) {
    match event {
        Event::Application { sender, data, .. } => (sender, data),
        other => panic!("expected application data, got {other:?}"),
    }
}

fn own_commit_merged(event: Event) -> u64 {
    match event {
        Event::OwnCommitMerged { epoch } => epoch,
        other => panic!("expected our commit to merge, got {other:?}"),
    }
}

/// Processes an mls-rs commit on our side and merges it.
fn follow(group: &mut Group, commit: &[u8]) {
    match group.process(commit).expect("we accept mls-rs's commit") {
        Event::Commit { staged, .. } => group.merge(*staged).expect("merge mls-rs's commit"),
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn is_public(bytes: &[u8]) -> bool {
    matches!(
        Group::decode_message(bytes).expect("decode").body,
        MlsMessageBody::PublicMessage(_)
    )
}

#[test]
fn mls_rs_joins_our_group() {
    for suite in shared_suites() {
        mls_rs_joins_our_group_in(suite);
    }
}

fn mls_rs_joins_our_group_in(suite: CipherSuite) {
    // Names the suite in the output of a failing run.
    eprintln!("cipher suite {suite:?}");
    let mut arbor = arbor_client("arbor", suite);
    let bob = mls_rs_client(b"mls-rs-bob", suite);

    let mut ours = arbor
        .create_group(GroupOptions::default())
        .expect("create group");
    // mls-rs's default: handshakes as PublicMessage.
    ours.set_config(GroupConfig::default().with_encrypted_handshakes(false));

    // We add mls-rs from its key package; our commit is merged on echo.
    let out = ours.add(&[&mls_rs_key_package(&bob)]).expect("add mls-rs");
    assert!(is_public(&out.commit));
    assert_eq!(
        own_commit_merged(ours.process(&out.commit).expect("our commit echoed")),
        1
    );
    assert_eq!(ours.members().len(), 2);

    // mls-rs joins from our Welcome, which carries the ratchet tree.
    let welcome = decode(&out.welcome.expect("a Welcome for the new member"));
    let (mut theirs, _info) = bob
        .join_group(None, &welcome, None)
        .expect("mls-rs joins from our Welcome");
    assert_eq!(theirs.current_member_index(), 1);
    assert_agree(&ours, &theirs);

    // Application data, both ways.
    let msg = ours.encrypt(b"hello mls-rs", b"").expect("encrypt");
    assert_eq!(
        mls_rs_reads(&mut theirs, &msg),
        (0, b"hello mls-rs".to_vec())
    );
    let reply = mls_rs_encrypt(&mut theirs, b"hello arbor");
    assert_eq!(
        application(ours.process(&reply).expect("we decrypt mls-rs")),
        (LeafIndex(1), b"hello arbor".to_vec())
    );

    // We commit an update (a full path); mls-rs decrypts the path secret
    // and applies it.
    let before = ours.epoch_authenticator().to_vec();
    let out = ours.update().expect("our update");
    assert!(out.welcome.is_none());
    assert!(is_public(&out.commit));
    mls_rs_follow(&mut theirs, &out.commit, 0, 2);
    assert_eq!(
        own_commit_merged(ours.process(&out.commit).expect("our commit echoed")),
        2
    );
    assert_ne!(ours.epoch_authenticator(), before.as_slice());
    assert_agree(&ours, &theirs);

    // And mls-rs commits an update that we process.
    let commit = mls_rs_update(&mut theirs);
    assert!(is_public(&commit));
    follow(&mut ours, &commit);
    assert_eq!(ours.epoch(), 3);
    assert_agree(&ours, &theirs);

    // Messages still flow in the new epoch, both ways.
    let msg = ours.encrypt(b"epoch 3", b"").expect("encrypt");
    assert_eq!(mls_rs_reads(&mut theirs, &msg), (0, b"epoch 3".to_vec()));
    let reply = mls_rs_encrypt(&mut theirs, b"epoch 3 too");
    assert_eq!(
        application(ours.process(&reply).expect("we decrypt mls-rs")),
        (LeafIndex(1), b"epoch 3 too".to_vec())
    );

    // Our handshakes as PrivateMessage: mls-rs accepts those as well.
    ours.set_config(GroupConfig::default().with_encrypted_handshakes(true));
    let out = ours.update().expect("our update");
    assert!(matches!(
        Group::decode_message(&out.commit).expect("decode").body,
        MlsMessageBody::PrivateMessage(_)
    ));
    mls_rs_follow(&mut theirs, &out.commit, 0, 4);
    assert_eq!(
        own_commit_merged(ours.process(&out.commit).expect("our commit echoed")),
        4
    );
    assert_agree(&ours, &theirs);

    // We add a second mls-rs client: the mls-rs member processes our Add
    // commit, the new one joins from our Welcome (tree included).
    let carol = mls_rs_client(b"mls-rs-carol", suite);
    let out = ours.add(&[&mls_rs_key_package(&carol)]).expect("add carol");
    mls_rs_follow(&mut theirs, &out.commit, 0, 5);
    assert_eq!(
        own_commit_merged(ours.process(&out.commit).expect("our commit echoed")),
        5
    );
    let welcome = decode(&out.welcome.expect("a Welcome for carol"));
    let (mut third, _info) = carol
        .join_group(None, &welcome, None)
        .expect("carol joins from our Welcome");
    assert_eq!(third.current_member_index(), 2);
    assert_agree(&ours, &theirs);
    assert_agree(&ours, &third);

    // The newcomer's message reaches both of the others.
    let msg = mls_rs_encrypt(&mut third, b"hi all");
    assert_eq!(
        application(ours.process(&msg).expect("we decrypt carol")),
        (LeafIndex(2), b"hi all".to_vec())
    );
    assert_eq!(mls_rs_reads(&mut theirs, &msg), (2, b"hi all".to_vec()));

    // An mls-rs update in the three-member group (its path is encrypted to
    // us and to carol); we and carol process it.
    let commit = mls_rs_update(&mut theirs);
    assert!(is_public(&commit));
    follow(&mut ours, &commit);
    match third
        .process_incoming_message(decode(&commit))
        .expect("carol accepts bob's commit")
    {
        ReceivedMessage::Commit(c) => assert_eq!(c.committer, 1),
        other => panic!("carol expected a commit, got {other:?}"),
    }
    assert_eq!(ours.epoch(), 6);
    assert_agree(&ours, &theirs);
    assert_agree(&ours, &third);
}

#[test]
fn we_join_mls_rs_group() {
    for suite in shared_suites() {
        we_join_mls_rs_group_in(suite);
    }
}

fn we_join_mls_rs_group_in(suite: CipherSuite) {
    // Names the suite in the output of a failing run.
    eprintln!("cipher suite {suite:?}");
    let alice = mls_rs_client(b"mls-rs-alice", suite);
    let mut arbor = arbor_client("arbor", suite);

    let mut theirs = alice
        .create_group(ExtensionList::new(), ExtensionList::new(), None)
        .expect("mls-rs creates a group");

    // mls-rs adds us from our key package.
    let kp = arbor
        .key_package(KeyPackageOptions::default())
        .expect("our key package");
    let out = theirs
        .commit_builder()
        .add_member(decode(&kp))
        .expect("mls-rs validates our key package")
        .build()
        .expect("mls-rs adds us");
    theirs
        .apply_pending_commit()
        .expect("mls-rs applies its commit");
    assert_eq!(out.welcome_messages.len(), 1);
    let welcome = encode(&out.welcome_messages[0]);

    // mls-rs's default rules put the ratchet tree into the Welcome, so none
    // is passed out of band.
    let mut ours = arbor
        .join(&welcome, None)
        .expect("we join from mls-rs's Welcome");
    assert_eq!(ours.own_leaf(), LeafIndex(1));
    assert_agree(&ours, &theirs);

    // mls-rs commits an update; we process and merge it.
    let commit = mls_rs_update(&mut theirs);
    assert!(is_public(&commit));
    follow(&mut ours, &commit);
    assert_eq!(ours.epoch(), 2);
    assert_agree(&ours, &theirs);

    // Application data, both ways.
    let msg = mls_rs_encrypt(&mut theirs, b"welcome, arbor");
    assert_eq!(
        application(ours.process(&msg).expect("we decrypt mls-rs")),
        (LeafIndex(0), b"welcome, arbor".to_vec())
    );
    let reply = ours.encrypt(b"thanks, mls-rs", b"").expect("encrypt");
    assert_eq!(
        mls_rs_reads(&mut theirs, &reply),
        (1, b"thanks, mls-rs".to_vec())
    );

    // We commit an update; mls-rs processes and applies it.
    let out = ours.update().expect("our update");
    assert!(is_public(&out.commit));
    mls_rs_follow(&mut theirs, &out.commit, 1, 3);
    assert_eq!(
        own_commit_merged(ours.process(&out.commit).expect("our commit echoed")),
        3
    );
    assert_agree(&ours, &theirs);

    let msg = mls_rs_encrypt(&mut theirs, b"epoch 3");
    assert_eq!(
        application(ours.process(&msg).expect("we decrypt mls-rs")),
        (LeafIndex(0), b"epoch 3".to_vec())
    );
    let reply = ours.encrypt(b"epoch 3 too", b"").expect("encrypt");
    assert_eq!(
        mls_rs_reads(&mut theirs, &reply),
        (1, b"epoch 3 too".to_vec())
    );
}

/// mls-rs with non-default rules: handshakes as PrivateMessage and the
/// ratchet tree left out of Welcomes. We match the first with
/// `encrypt_handshakes` and get the tree out of band.
#[test]
fn we_join_mls_rs_group_with_encrypted_handshakes() {
    for suite in shared_suites() {
        we_join_mls_rs_group_with_encrypted_handshakes_in(suite);
    }
}

fn we_join_mls_rs_group_with_encrypted_handshakes_in(suite: CipherSuite) {
    // Names the suite in the output of a failing run.
    eprintln!("cipher suite {suite:?}");
    let rules = DefaultMlsRules::new()
        .with_encryption_options(EncryptionOptions::new(true, PaddingMode::StepFunction))
        .with_commit_options(CommitOptions::new().with_ratchet_tree_extension(false));
    let alice = mls_rs_client_with(b"mls-rs-alice", suite, rules);
    let mut arbor = arbor_client("arbor", suite);

    let mut theirs = alice
        .create_group(ExtensionList::new(), ExtensionList::new(), None)
        .expect("mls-rs creates a group");
    let kp = arbor
        .key_package(KeyPackageOptions::default())
        .expect("our key package");
    let out = theirs
        .commit_builder()
        .add_member(decode(&kp))
        .expect("mls-rs validates our key package")
        .build()
        .expect("mls-rs adds us");
    assert_eq!(out.commit_message.wire_format(), WireFormat::PrivateMessage);
    theirs
        .apply_pending_commit()
        .expect("mls-rs applies its commit");
    let welcome = encode(&out.welcome_messages[0]);

    // No tree in the Welcome and none given: the join must fail.
    assert!(arbor.join(&welcome, None).is_err());
    let tree = theirs.export_tree().to_bytes().expect("encode mls-rs tree");
    let mut ours = arbor
        .join(&welcome, Some(&tree))
        .expect("we join from mls-rs's Welcome");
    ours.set_config(GroupConfig::default().with_encrypted_handshakes(true));
    assert_eq!(ours.own_leaf(), LeafIndex(1));
    assert_agree(&ours, &theirs);

    // mls-rs's update arrives as a PrivateMessage.
    let commit = mls_rs_update(&mut theirs);
    assert!(matches!(
        Group::decode_message(&commit).expect("decode").body,
        MlsMessageBody::PrivateMessage(_)
    ));
    follow(&mut ours, &commit);
    assert_eq!(ours.epoch(), 2);
    assert_agree(&ours, &theirs);

    // Ours as well.
    let out = ours.update().expect("our update");
    assert!(!is_public(&out.commit));
    mls_rs_follow(&mut theirs, &out.commit, 1, 3);
    assert_eq!(
        own_commit_merged(ours.process(&out.commit).expect("our commit echoed")),
        3
    );
    assert_agree(&ours, &theirs);

    // mls-rs adds a second arbor client: we process the (encrypted) Add
    // commit, the newcomer joins with the tree passed out of band.
    let mut arbor2 = arbor_client("arbor-2", suite);
    let kp = arbor2
        .key_package(KeyPackageOptions::default())
        .expect("our key package");
    let out = theirs
        .commit_builder()
        .add_member(decode(&kp))
        .expect("mls-rs validates our key package")
        .build()
        .expect("mls-rs adds arbor-2");
    theirs
        .apply_pending_commit()
        .expect("mls-rs applies its commit");
    follow(&mut ours, &encode(&out.commit_message));
    let tree = theirs.export_tree().to_bytes().expect("encode mls-rs tree");
    let mut second = arbor2
        .join(&encode(&out.welcome_messages[0]), Some(&tree))
        .expect("arbor-2 joins from mls-rs's Welcome");
    second.set_config(GroupConfig::default().with_encrypted_handshakes(true));
    assert_eq!(second.own_leaf(), LeafIndex(2));
    assert_agree(&ours, &theirs);
    assert_agree(&second, &theirs);

    // arbor-2 commits an update; mls-rs and the first arbor member follow.
    let out = second.update().expect("arbor-2's update");
    mls_rs_follow(&mut theirs, &out.commit, 2, 5);
    follow(&mut ours, &out.commit);
    assert_eq!(
        own_commit_merged(second.process(&out.commit).expect("echoed")),
        5
    );
    assert_agree(&ours, &theirs);
    assert_agree(&second, &theirs);

    let msg = second.encrypt(b"from arbor-2", b"").expect("encrypt");
    assert_eq!(
        mls_rs_reads(&mut theirs, &msg),
        (2, b"from arbor-2".to_vec())
    );
    assert_eq!(
        application(ours.process(&msg).expect("we decrypt arbor-2")),
        (LeafIndex(2), b"from arbor-2".to_vec())
    );
    let msg = mls_rs_encrypt(&mut theirs, b"bye");
    assert_eq!(
        application(ours.process(&msg).expect("we decrypt mls-rs")).1,
        b"bye"
    );
    assert_eq!(
        application(second.process(&msg).expect("arbor-2 decrypts mls-rs")).1,
        b"bye"
    );
}
