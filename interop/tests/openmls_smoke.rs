//! Live interop with openmls 0.9 (crates.io), both directions, in every
//! cipher suite both libraries implement (openmls's RustCrypto provider:
//! 0x0001, 0x0002, 0x0003), with basic credentials.
//!
//! Only bytes cross between the two libraries: key packages, Welcomes,
//! commits and application messages are MLSMessages, the ratchet tree is its
//! TLS encoding. Both sides run on the real clock (our `SystemClock`, the
//! default), since openmls dates its key packages from it.
//!
//! openmls's default wire-format policy is "pure ciphertext": handshakes go
//! out as PrivateMessage and only PrivateMessage handshakes are accepted. Our
//! groups match it with `GroupConfig::default().with_encrypted_handshakes(true)`.

use arbor_mls::api::{
    Client, Event, Group, GroupConfig, GroupOptions, KeyPackageOptions, SystemClock,
};
use arbor_mls::crypto::CipherSuite;
use arbor_mls::crypto::credential::Credential;
use arbor_mls::framing::MlsMessageBody;
use arbor_mls::types::math::LeafIndex;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, LeafNodeIndex, LeafNodeParameters,
    MIXED_PLAINTEXT_WIRE_FORMAT_POLICY, MlsGroup, MlsGroupJoinConfig, MlsMessageBodyIn,
    MlsMessageIn, MlsMessageOut, OpenMlsProvider, ProcessedMessageContent, ProtocolVersion, Sender,
    StagedWelcome,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::crypto::OpenMlsCrypto as _;
use std::sync::Arc;

/// The suites both openmls's RustCrypto provider and arbor implement; each
/// test runs in every one of them. At least 0x0001-0x0003, so a provider
/// change cannot silently shrink the run.
fn shared_suites() -> Vec<Ciphersuite> {
    let ours = arbor_mls::crypto::rust_crypto::RustCryptoProvider;
    let shared: Vec<Ciphersuite> = OpenMlsRustCrypto::default()
        .crypto()
        .supported_ciphersuites()
        .into_iter()
        .filter(|s| {
            use arbor_mls::crypto::CryptoProvider as _;
            ours.suite(CipherSuite(u16::from(*s))).is_some()
        })
        .collect();
    for id in 1..=3u16 {
        assert!(
            shared.iter().any(|s| u16::from(*s) == id),
            "suite {id} not shared"
        );
    }
    shared
}
const EXPORT_LABEL: &str = "arbor-openmls smoke";
const EXPORT_CONTEXT: &[u8] = b"context";

/// An openmls client: provider (crypto + in-memory storage), signer and
/// basic credential.
struct OpenMlsClient {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    suite: Ciphersuite,
}

impl OpenMlsClient {
    fn new(identity: &[u8], suite: Ciphersuite) -> Self {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(suite.signature_algorithm()).expect("openmls signer");
        signer
            .store(provider.storage())
            .expect("store openmls signer");
        let credential = CredentialWithKey {
            credential: BasicCredential::new(identity.to_vec()).into(),
            signature_key: signer.to_public_vec().into(),
        };
        Self {
            provider,
            signer,
            credential,
            suite,
        }
    }

    /// A fresh key package, as an MLSMessage.
    fn key_package(&self) -> Vec<u8> {
        let bundle = KeyPackage::builder()
            .build(
                self.suite,
                &self.provider,
                &self.signer,
                self.credential.clone(),
            )
            .expect("openmls key package");
        MlsMessageOut::from(bundle.key_package().clone())
            .to_bytes()
            .expect("encode openmls key package")
    }

    /// Processes one of our handshake or application messages.
    fn process(&self, group: &mut MlsGroup, bytes: &[u8]) -> (Sender, ProcessedMessageContent) {
        let message = MlsMessageIn::tls_deserialize_exact(bytes)
            .expect("openmls decodes our MLSMessage")
            .try_into_protocol_message()
            .expect("a PublicMessage or PrivateMessage");
        let processed = group
            .process_message(&self.provider, message)
            .expect("openmls accepts our message");
        (processed.sender().clone(), processed.into_content())
    }

    /// Processes and merges one of our commits.
    fn follow(&self, group: &mut MlsGroup, commit: &[u8]) {
        match self.process(group, commit) {
            (_, ProcessedMessageContent::StagedCommitMessage(staged)) => group
                .merge_staged_commit(&self.provider, *staged)
                .expect("openmls merges our commit"),
            (_, other) => panic!("openmls expected a commit, got {other:?}"),
        }
    }

    fn export(&self, group: &MlsGroup) -> Vec<u8> {
        group
            .export_secret(self.provider.crypto(), EXPORT_LABEL, EXPORT_CONTEXT, 32)
            .expect("openmls exporter")
    }
}

/// An arbor-mls client of `suite` on the real clock and OS randomness (the
/// defaults).
fn arbor_client(identity: &str, suite: Ciphersuite) -> Client {
    Client::builder(identity)
        .cipher_suite(CipherSuite(u16::from(suite)))
        .clock(Arc::new(SystemClock))
        .build()
        .expect("arbor client")
}

/// Handshakes as PrivateMessage, as openmls's default policy requires.
fn match_openmls_wire_format(group: &mut Group) {
    group.set_config(GroupConfig::default().with_encrypted_handshakes(true));
}

/// Both sides are in the same epoch with the same secrets and tree.
fn assert_agree(ours: &Group, theirs: &MlsGroup, client: &OpenMlsClient) {
    assert_eq!(ours.epoch(), theirs.epoch().as_u64(), "epoch");
    assert_eq!(
        ours.epoch_authenticator(),
        theirs.epoch_authenticator().as_slice(),
        "epoch authenticator"
    );
    assert_eq!(
        ours.export_secret(EXPORT_LABEL, EXPORT_CONTEXT, 32)
            .expect("our exporter")
            .as_bytes(),
        client.export(theirs).as_slice(),
        "exporter secret"
    );
    assert_eq!(
        ours.ratchet_tree().expect("our tree"),
        theirs
            .export_ratchet_tree()
            .tls_serialize_detached()
            .expect("encode openmls tree"),
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
        .members()
        .map(|m| {
            (
                m.index.u32(),
                m.credential.serialized_content().to_vec(),
                m.signature_key,
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

/// Processes an openmls commit on our side and merges it.
fn follow(group: &mut Group, commit: &[u8]) {
    match group.process(commit).expect("we accept openmls's commit") {
        Event::Commit { staged, .. } => group.merge(*staged).expect("merge openmls's commit"),
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// openmls decrypts application data we sent.
fn openmls_reads(client: &OpenMlsClient, group: &mut MlsGroup, bytes: &[u8]) -> (Sender, Vec<u8>) {
    match client.process(group, bytes) {
        (sender, ProcessedMessageContent::ApplicationMessage(m)) => (sender, m.into_bytes()),
        (_, other) => panic!("openmls expected application data, got {other:?}"),
    }
}

/// openmls decodes and validates one of our key packages (an MLSMessage).
fn openmls_key_package(client: &OpenMlsClient, bytes: &[u8]) -> KeyPackage {
    match MlsMessageIn::tls_deserialize_exact(bytes)
        .expect("openmls decodes our key package")
        .extract()
    {
        MlsMessageBodyIn::KeyPackage(kp) => kp
            .validate(client.provider.crypto(), ProtocolVersion::Mls10)
            .expect("openmls validates our key package"),
        other => panic!("expected a KeyPackage, got {other:?}"),
    }
}

#[test]
fn openmls_joins_our_group() {
    for suite in shared_suites() {
        openmls_joins_our_group_in(suite);
    }
}

fn openmls_joins_our_group_in(suite: Ciphersuite) {
    // Names the suite in the output of a failing run.
    eprintln!("cipher suite {suite:?}");
    let mut arbor = arbor_client("arbor", suite);
    let bob = OpenMlsClient::new(b"openmls-bob", suite);

    let mut ours = arbor
        .create_group(GroupOptions::default())
        .expect("create group");
    match_openmls_wire_format(&mut ours);

    // We add openmls from its key package; our commit is merged on echo.
    let out = ours.add(&[&bob.key_package()]).expect("add openmls");
    assert_eq!(
        own_commit_merged(ours.process(&out.commit).expect("our commit echoed")),
        1
    );
    assert_eq!(ours.members().len(), 2);

    // openmls joins from our Welcome, which carries the ratchet tree.
    let welcome = out.welcome.expect("a Welcome for the new member");
    let welcome = match MlsMessageIn::tls_deserialize_exact(&welcome)
        .expect("openmls decodes our Welcome")
        .extract()
    {
        MlsMessageBodyIn::Welcome(w) => w,
        other => panic!("expected a Welcome, got {other:?}"),
    };
    let mut theirs = StagedWelcome::new_from_welcome(
        &bob.provider,
        &MlsGroupJoinConfig::default(),
        welcome,
        None,
    )
    .expect("openmls stages our Welcome")
    .into_group(&bob.provider)
    .expect("openmls joins from our Welcome");
    assert_eq!(theirs.own_leaf_index(), LeafNodeIndex::new(1));
    assert_eq!(theirs.group_id().as_slice(), ours.group_id());
    assert_agree(&ours, &theirs, &bob);

    // Application data, both ways.
    let msg = ours.encrypt(b"hello openmls", b"").expect("encrypt");
    let (sender, data) = openmls_reads(&bob, &mut theirs, &msg);
    assert_eq!(sender, Sender::Member(LeafNodeIndex::new(0)));
    assert_eq!(data, b"hello openmls");

    let reply = theirs
        .create_message(&bob.provider, &bob.signer, b"hello arbor")
        .expect("openmls encrypts")
        .to_bytes()
        .expect("encode openmls message");
    let (sender, data) = application(ours.process(&reply).expect("we decrypt openmls"));
    assert_eq!(sender, LeafIndex(1));
    assert_eq!(data, b"hello arbor");

    // We commit an update (a full path); openmls decrypts the path secret
    // and merges.
    let before = ours.epoch_authenticator().to_vec();
    let out = ours.update().expect("our update");
    assert!(out.welcome.is_none());
    bob.follow(&mut theirs, &out.commit);
    assert_eq!(
        own_commit_merged(ours.process(&out.commit).expect("our commit echoed")),
        2
    );
    assert_ne!(ours.epoch_authenticator(), before.as_slice());
    assert_agree(&ours, &theirs, &bob);

    // And openmls commits an update that we process.
    let bundle = theirs
        .self_update(&bob.provider, &bob.signer, LeafNodeParameters::default())
        .expect("openmls update");
    let commit = bundle
        .into_contents()
        .0
        .to_bytes()
        .expect("encode openmls commit");
    theirs
        .merge_pending_commit(&bob.provider)
        .expect("openmls merges its commit");
    follow(&mut ours, &commit);
    assert_eq!(ours.epoch(), 3);
    assert_agree(&ours, &theirs, &bob);

    // Messages still flow in the new epoch.
    let msg = ours.encrypt(b"epoch 3", b"").expect("encrypt");
    assert_eq!(openmls_reads(&bob, &mut theirs, &msg).1, b"epoch 3");

    // Handshakes as PublicMessage (membership tags) on both sides.
    theirs
        .set_configuration(
            bob.provider.storage(),
            &MlsGroupJoinConfig::builder()
                .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
                .build(),
        )
        .expect("openmls configuration");
    ours.set_config(GroupConfig::default());
    let out = ours.update().expect("our update");
    assert!(matches!(
        Group::decode_message(&out.commit).expect("decode").body,
        MlsMessageBody::PublicMessage(_)
    ));
    bob.follow(&mut theirs, &out.commit);
    assert_eq!(
        own_commit_merged(ours.process(&out.commit).expect("our commit echoed")),
        4
    );
    assert_agree(&ours, &theirs, &bob);
    let commit = theirs
        .self_update(&bob.provider, &bob.signer, LeafNodeParameters::default())
        .expect("openmls update")
        .into_contents()
        .0
        .to_bytes()
        .expect("encode openmls commit");
    assert!(matches!(
        Group::decode_message(&commit).expect("decode").body,
        MlsMessageBody::PublicMessage(_)
    ));
    theirs
        .merge_pending_commit(&bob.provider)
        .expect("openmls merges its commit");
    follow(&mut ours, &commit);
    assert_eq!(ours.epoch(), 5);
    assert_agree(&ours, &theirs, &bob);

    // openmls adds a second arbor client: we process its Add commit, the
    // newcomer joins from its Welcome (the tree passed out of band).
    let mut arbor2 = arbor_client("arbor-2", suite);
    let kp = openmls_key_package(
        &bob,
        &arbor2
            .key_package(KeyPackageOptions::default())
            .expect("our key package"),
    );
    let (commit, welcome, _group_info) = theirs
        .add_members(&bob.provider, &bob.signer, &[kp])
        .expect("openmls adds arbor-2");
    theirs
        .merge_pending_commit(&bob.provider)
        .expect("openmls merges its commit");
    follow(
        &mut ours,
        &commit.to_bytes().expect("encode openmls commit"),
    );
    let tree = theirs
        .export_ratchet_tree()
        .tls_serialize_detached()
        .expect("encode openmls tree");
    let mut second = arbor2
        .join(
            &welcome.to_bytes().expect("encode openmls Welcome"),
            Some(&tree),
        )
        .expect("arbor-2 joins from openmls's Welcome");
    assert_eq!(second.own_leaf(), LeafIndex(2));
    assert_agree(&ours, &theirs, &bob);
    assert_agree(&second, &theirs, &bob);
    let msg = second.encrypt(b"from arbor-2", b"").expect("encrypt");
    let (sender, data) = openmls_reads(&bob, &mut theirs, &msg);
    assert_eq!(sender, Sender::Member(LeafNodeIndex::new(2)));
    assert_eq!(data, b"from arbor-2");
    assert_eq!(
        application(ours.process(&msg).expect("we decrypt arbor-2")),
        (LeafIndex(2), b"from arbor-2".to_vec())
    );
}

#[test]
fn we_join_openmls_group() {
    for suite in shared_suites() {
        we_join_openmls_group_in(suite);
    }
}

fn we_join_openmls_group_in(suite: Ciphersuite) {
    // Names the suite in the output of a failing run.
    eprintln!("cipher suite {suite:?}");
    let alice = OpenMlsClient::new(b"openmls-alice", suite);
    let mut arbor = arbor_client("arbor", suite);

    let mut theirs = MlsGroup::builder()
        .ciphersuite(suite)
        .build(&alice.provider, &alice.signer, alice.credential.clone())
        .expect("openmls creates a group");

    // openmls adds us from our key package.
    let kp = arbor
        .key_package(KeyPackageOptions::default())
        .expect("our key package");
    let kp = openmls_key_package(&alice, &kp);
    let (_commit, welcome, _group_info) = theirs
        .add_members(&alice.provider, &alice.signer, &[kp])
        .expect("openmls adds us");
    theirs
        .merge_pending_commit(&alice.provider)
        .expect("openmls merges its commit");
    let welcome = welcome.to_bytes().expect("encode openmls Welcome");

    // openmls leaves the ratchet tree out of its Welcomes by default; it is
    // passed out of band, in its TLS encoding.
    let tree = theirs
        .export_ratchet_tree()
        .tls_serialize_detached()
        .expect("encode openmls tree");
    let mut ours = arbor
        .join(&welcome, Some(&tree))
        .expect("we join from openmls's Welcome");
    match_openmls_wire_format(&mut ours);
    assert_eq!(ours.own_leaf(), LeafIndex(1));
    assert_eq!(ours.group_id(), theirs.group_id().as_slice());
    assert_agree(&ours, &theirs, &alice);

    // openmls commits an update; we process and merge it.
    let bundle = theirs
        .self_update(
            &alice.provider,
            &alice.signer,
            LeafNodeParameters::default(),
        )
        .expect("openmls update");
    let commit = bundle
        .into_contents()
        .0
        .to_bytes()
        .expect("encode openmls commit");
    theirs
        .merge_pending_commit(&alice.provider)
        .expect("openmls merges its commit");
    follow(&mut ours, &commit);
    assert_agree(&ours, &theirs, &alice);

    // Application data, both ways.
    let msg = theirs
        .create_message(&alice.provider, &alice.signer, b"welcome, arbor")
        .expect("openmls encrypts")
        .to_bytes()
        .expect("encode openmls message");
    let (sender, data) = application(ours.process(&msg).expect("we decrypt openmls"));
    assert_eq!(sender, LeafIndex(0));
    assert_eq!(data, b"welcome, arbor");

    let reply = ours.encrypt(b"thanks, openmls", b"").expect("encrypt");
    let (sender, data) = openmls_reads(&alice, &mut theirs, &reply);
    assert_eq!(sender, Sender::Member(LeafNodeIndex::new(1)));
    assert_eq!(data, b"thanks, openmls");

    // We commit an update; openmls processes and merges it.
    let out = ours.update().expect("our update");
    alice.follow(&mut theirs, &out.commit);
    assert_eq!(
        own_commit_merged(ours.process(&out.commit).expect("our commit echoed")),
        3
    );
    assert_agree(&ours, &theirs, &alice);

    let msg = theirs
        .create_message(&alice.provider, &alice.signer, b"epoch 3")
        .expect("openmls encrypts")
        .to_bytes()
        .expect("encode openmls message");
    assert_eq!(
        application(ours.process(&msg).expect("we decrypt openmls")).1,
        b"epoch 3"
    );

    // We add a second openmls client: the openmls member processes our Add
    // commit, the new one joins from our Welcome (tree included).
    let carol = OpenMlsClient::new(b"openmls-carol", suite);
    let out = ours.add(&[&carol.key_package()]).expect("add openmls");
    alice.follow(&mut theirs, &out.commit);
    assert_eq!(
        own_commit_merged(ours.process(&out.commit).expect("our commit echoed")),
        4
    );
    let welcome = match MlsMessageIn::tls_deserialize_exact(out.welcome.expect("Welcome"))
        .expect("openmls decodes our Welcome")
        .extract()
    {
        MlsMessageBodyIn::Welcome(w) => w,
        other => panic!("expected a Welcome, got {other:?}"),
    };
    let mut third = StagedWelcome::new_from_welcome(
        &carol.provider,
        &MlsGroupJoinConfig::default(),
        welcome,
        None,
    )
    .expect("openmls stages our Welcome")
    .into_group(&carol.provider)
    .expect("openmls joins from our Welcome");
    assert_eq!(third.own_leaf_index(), LeafNodeIndex::new(2));
    assert_agree(&ours, &theirs, &alice);
    assert_agree(&ours, &third, &carol);

    // The newcomer's message reaches both of the others.
    let msg = third
        .create_message(&carol.provider, &carol.signer, b"hi all")
        .expect("openmls encrypts")
        .to_bytes()
        .expect("encode openmls message");
    let (sender, data) = application(ours.process(&msg).expect("we decrypt openmls"));
    assert_eq!((sender, data.as_slice()), (LeafIndex(2), &b"hi all"[..]));
    let (sender, data) = openmls_reads(&alice, &mut theirs, &msg);
    assert_eq!(sender, Sender::Member(LeafNodeIndex::new(2)));
    assert_eq!(data, b"hi all");
}
