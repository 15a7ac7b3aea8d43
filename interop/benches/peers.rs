//! arbor-mls, openmls 0.9 and mls-rs 0.57 side by side, each driven through
//! its public API, in the same scenario (issue 12):
//!
//! 1. a creator makes a group and adds n - 1 members, whose key packages
//!    arrive as MLSMessage bytes, in one commit with a Welcome
//!    (`bulk_add`: decode and validate the key packages, create the commit
//!    and the Welcome, encode both);
//! 2. one of them joins from that Welcome, the tree in-band (`join`);
//! 3. in the sparse tree that leaves (every parent node blank but the
//!    creator's path, the new members unmerged there), the creator creates
//!    an update commit (`update_create`: about n - 1 HPKE seals) and the
//!    member processes it (`update_process`: decode, verify, decrypt its
//!    path secret, stage; not merged);
//! 4. the creator adds one more member (`add_one`);
//! 5. the creator encrypts 100 bytes of application data (`app_encrypt`)
//!    and the member decrypts them (`app_decrypt`).
//!
//! Commits are created and then discarded, so every iteration starts from
//! the same state; nothing is merged inside a measurement. mls-rs applies a
//! commit as it processes it, so it processes a clone of the member's group
//! (cloned outside the measurement).
//!
//! Settings are equalised: cipher suite 1
//! (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519), handshakes as
//! PublicMessage, no padding, the ratchet tree in the Welcome, no GroupInfo
//! published per commit (mls-rs: external commits off; openmls computes the
//! GroupInfo it needs for the Welcome either way), in-memory state (the
//! peers' default in-memory storage providers; arbor keeps state in the
//! `Group`). The joiner's key package is "last resort" in all three so that
//! it survives repeated joins. Built with `--features peers-bench`, mls-rs
//! has its default optimisations (`rayon`, `tree_index`,
//! `fast_serialize`), as an application would use it; with `--features
//! peers` alone it is built as the rest of this crate uses it, without
//! them (see `Cargo.toml`).
//!
//! Sizes: 128, 1,024 and 4,096 members; `PEERS_BENCH_16K=1` adds 16,384.
//! `PEERS_BENCH_SIZES=128,1024` replaces the list; `PEERS_BENCH_IMPLS=arbor,
//! mls-rs` limits the implementations set up (each costs n key packages and
//! a bulk add before its benchmarks). Benchmark ids are
//! `<operation>/<implementation>/<n>`.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target cargo bench -p arbor-interop --features peers-bench --bench peers --no-run
//! /work/target/release/deps/peers-<hash> --bench
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Bencher, BenchmarkId, Criterion, SamplingMode};

const PAYLOAD: [u8; 100] = [0x42; 100];

/// One implementation's side of the scenario at one size.
trait Side: Sized {
    const NAME: &'static str;
    /// What `join` returns (dropped outside the measurement).
    type Joined;

    /// The creator's one-member group and n - 1 key packages; the first
    /// one's owner is the joiner and keeps its private keys.
    fn new(n: u32) -> Self;
    /// Creates the commit adding everyone and its Welcome, then discards it.
    fn bulk_add(&mut self) -> (Vec<u8>, Vec<u8>);
    /// Adds everyone for real and keeps the Welcome.
    fn bulk_add_merge(&mut self);
    /// Joins from the Welcome as the first added member.
    fn join(&mut self) -> Self::Joined;
    /// Measures `join`, the joined group dropped outside the measurement.
    fn join_bench(&mut self, b: &mut Bencher<'_>) {
        b.iter_batched(|| (), |()| self.join(), BatchSize::PerIteration)
    }
    /// Keeps a joined group as the member.
    fn keep_member(&mut self, joined: Self::Joined);
    /// The creator's update commit (full path), then discarded.
    fn update_create(&mut self) -> Vec<u8>;
    /// Measures the member processing the creator's update commit (not
    /// merged), its result dropped outside the measurement.
    fn update_process(&mut self, b: &mut Bencher<'_>, commit: &[u8]);
    /// The creator adds one more member, then discards the commit.
    fn add_one(&mut self) -> (Vec<u8>, Vec<u8>);
    fn encrypt(&mut self) -> Vec<u8>;
    fn decrypt(&mut self, message: &[u8]) -> usize;
}

mod arbor {
    use arbor_mls::api::{Client, Event, Group, GroupConfig, GroupOptions, KeyPackageOptions};
    use criterion::{BatchSize, Bencher};

    pub(crate) struct Arbor {
        creator: Group,
        key_packages: Vec<Vec<u8>>,
        extra: Vec<u8>,
        joiner: Client,
        welcome: Vec<u8>,
        member: Option<Group>,
    }

    fn client(i: u32) -> Client {
        Client::builder(format!("member {i}").into_bytes())
            .build()
            .expect("arbor client")
    }

    /// The default config, with room for `add_one` beyond n members (the
    /// default limit is 65,536 leaves; 65,537 members need 131,072).
    fn config(n: u32) -> GroupConfig {
        let config = GroupConfig::default();
        let max_leaves = config.max_leaves.max(2 * n);
        config.with_max_leaves(max_leaves)
    }

    impl super::Side for Arbor {
        const NAME: &'static str = "arbor";
        type Joined = Group;

        fn new(n: u32) -> Self {
            let creator = client(0)
                .create_group(GroupOptions::default().config(config(n)))
                .expect("arbor group");
            let mut joiner = client(1);
            let mut key_packages = vec![
                joiner
                    .key_package(KeyPackageOptions::default().last_resort(true))
                    .expect("key package"),
            ];
            for i in 2..n {
                key_packages.push(
                    client(i)
                        .key_package(KeyPackageOptions::default())
                        .expect("key package"),
                );
            }
            let extra = client(n + 1)
                .key_package(KeyPackageOptions::default())
                .expect("key package");
            Self {
                creator,
                key_packages,
                extra,
                joiner,
                welcome: Vec::new(),
                member: None,
            }
        }

        fn bulk_add(&mut self) -> (Vec<u8>, Vec<u8>) {
            let refs: Vec<&[u8]> = self.key_packages.iter().map(Vec::as_slice).collect();
            let out = self.creator.add(&refs).expect("arbor bulk add");
            self.creator.discard_pending();
            (out.commit, out.welcome.expect("welcome"))
        }

        fn bulk_add_merge(&mut self) {
            let refs: Vec<&[u8]> = self.key_packages.iter().map(Vec::as_slice).collect();
            let out = self.creator.add(&refs).expect("arbor bulk add");
            self.creator.merge_pending().expect("merge");
            self.welcome = out.welcome.expect("welcome");
        }

        fn join(&mut self) -> Group {
            self.joiner
                .join_with(
                    &self.welcome,
                    None,
                    config(self.key_packages.len() as u32 + 1),
                )
                .expect("arbor join")
        }

        fn keep_member(&mut self, joined: Group) {
            self.member = Some(joined);
        }

        fn update_create(&mut self) -> Vec<u8> {
            let out = self.creator.update().expect("arbor update");
            self.creator.discard_pending();
            out.commit
        }

        fn update_process(&mut self, b: &mut Bencher<'_>, commit: &[u8]) {
            let member = self.member();
            b.iter_batched(
                || (),
                |()| {
                    let event = member.process(commit).expect("arbor process");
                    assert!(matches!(event, Event::Commit { .. }), "arbor: not a commit");
                    event
                },
                BatchSize::PerIteration,
            )
        }

        fn add_one(&mut self) -> (Vec<u8>, Vec<u8>) {
            let out = self.creator.add(&[&self.extra]).expect("arbor add");
            self.creator.discard_pending();
            (out.commit, out.welcome.expect("welcome"))
        }

        fn encrypt(&mut self) -> Vec<u8> {
            self.creator
                .encrypt(&super::PAYLOAD, &[])
                .expect("arbor encrypt")
        }

        fn decrypt(&mut self, message: &[u8]) -> usize {
            match self.member().process(message).expect("arbor decrypt") {
                Event::Application { data, .. } => data.len(),
                other => panic!("arbor: expected application data, got {other:?}"),
            }
        }
    }

    impl Arbor {
        fn member(&mut self) -> &mut Group {
            self.member.as_mut().expect("joined")
        }
    }
}

mod openmls_side {
    use openmls::prelude::tls_codec::Deserialize as _;
    use openmls::prelude::*;
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;

    use criterion::{BatchSize, Bencher};
    use std::hint::black_box;

    const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

    struct Party {
        provider: OpenMlsRustCrypto,
        signer: SignatureKeyPair,
        credential: CredentialWithKey,
    }

    fn party(i: u32) -> Party {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(SUITE.signature_algorithm()).expect("openmls signer");
        signer.store(provider.storage()).expect("store signer");
        let credential = CredentialWithKey {
            credential: BasicCredential::new(format!("member {i}").into_bytes()).into(),
            signature_key: signer.to_public_vec().into(),
        };
        Party {
            provider,
            signer,
            credential,
        }
    }

    fn key_package(p: &Party, last_resort: bool) -> Vec<u8> {
        let mut builder = KeyPackage::builder();
        if last_resort {
            // The last_resort extension must be in the leaf's capabilities,
            // or openmls's own validation refuses the key package.
            builder = builder.mark_as_last_resort().leaf_node_capabilities(
                Capabilities::builder()
                    .extensions(vec![ExtensionType::LastResort])
                    .build(),
            );
        }
        let bundle = builder
            .build(SUITE, &p.provider, &p.signer, p.credential.clone())
            .expect("openmls key package");
        MlsMessageOut::from(bundle.key_package().clone())
            .to_bytes()
            .expect("encode key package")
    }

    fn join_config() -> MlsGroupJoinConfig {
        MlsGroupJoinConfig::builder()
            .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .padding_size(0)
            .build()
    }

    fn message(bytes: &[u8]) -> MlsMessageIn {
        MlsMessageIn::tls_deserialize_exact(bytes).expect("openmls decodes")
    }

    pub(crate) struct OpenMls {
        creator: Party,
        group: MlsGroup,
        key_packages: Vec<Vec<u8>>,
        extra: Vec<u8>,
        joiner: Party,
        welcome: Vec<u8>,
        member: Option<MlsGroup>,
    }

    impl OpenMls {
        fn validated(&self, bytes: &[Vec<u8>]) -> Vec<KeyPackage> {
            bytes
                .iter()
                .map(|b| match message(b).extract() {
                    MlsMessageBodyIn::KeyPackage(kp) => kp
                        .validate(self.creator.provider.crypto(), ProtocolVersion::Mls10)
                        .expect("openmls validates the key package"),
                    _ => panic!("not a key package"),
                })
                .collect()
        }

        fn add(&mut self, bytes: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>) {
            let kps = self.validated(bytes);
            let (commit, welcome, _) = self
                .group
                .add_members(&self.creator.provider, &self.creator.signer, &kps)
                .expect("openmls add");
            (
                commit.to_bytes().expect("encode"),
                welcome.to_bytes().expect("encode"),
            )
        }

        fn clear(&mut self) {
            self.group
                .clear_pending_commit(self.creator.provider.storage())
                .expect("clear pending");
        }
    }

    impl super::Side for OpenMls {
        const NAME: &'static str = "openmls";
        type Joined = MlsGroup;

        fn new(n: u32) -> Self {
            let creator = party(0);
            let group = MlsGroup::builder()
                .ciphersuite(SUITE)
                .with_wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
                .use_ratchet_tree_extension(true)
                .padding_size(0)
                .build(
                    &creator.provider,
                    &creator.signer,
                    creator.credential.clone(),
                )
                .expect("openmls group");
            let joiner = party(1);
            let mut key_packages = vec![key_package(&joiner, true)];
            for i in 2..n {
                key_packages.push(key_package(&party(i), false));
            }
            let extra = key_package(&party(n + 1), false);
            Self {
                creator,
                group,
                key_packages,
                extra,
                joiner,
                welcome: Vec::new(),
                member: None,
            }
        }

        fn bulk_add(&mut self) -> (Vec<u8>, Vec<u8>) {
            let kps = std::mem::take(&mut self.key_packages);
            let out = self.add(&kps);
            self.key_packages = kps;
            self.clear();
            out
        }

        fn bulk_add_merge(&mut self) {
            let kps = std::mem::take(&mut self.key_packages);
            let (_, welcome) = self.add(&kps);
            self.key_packages = kps;
            self.group
                .merge_pending_commit(&self.creator.provider)
                .expect("merge");
            self.welcome = welcome;
        }

        fn join(&mut self) -> MlsGroup {
            let MlsMessageBodyIn::Welcome(welcome) = message(&self.welcome).extract() else {
                panic!("not a Welcome")
            };
            StagedWelcome::new_from_welcome(&self.joiner.provider, &join_config(), welcome, None)
                .expect("openmls stages the Welcome")
                .into_group(&self.joiner.provider)
                .expect("openmls join")
        }

        fn join_bench(&mut self, b: &mut Bencher<'_>) {
            // openmls refuses to join a group its storage already holds:
            // each joined group is deleted again, outside the measurement.
            b.iter_custom(|iterations| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iterations {
                    let start = std::time::Instant::now();
                    let mut group = black_box(self.join());
                    total += start.elapsed();
                    group
                        .delete(self.joiner.provider.storage())
                        .expect("delete the joined group");
                }
                total
            })
        }

        fn keep_member(&mut self, joined: MlsGroup) {
            self.member = Some(joined);
        }

        fn update_create(&mut self) -> Vec<u8> {
            let bundle = self
                .group
                .self_update(
                    &self.creator.provider,
                    &self.creator.signer,
                    LeafNodeParameters::default(),
                )
                .expect("openmls update");
            let commit = bundle.commit().to_bytes().expect("encode");
            self.clear();
            commit
        }

        fn update_process(&mut self, b: &mut Bencher<'_>, commit: &[u8]) {
            b.iter_batched(
                || (),
                |()| {
                    let processed = self.process_bytes(commit);
                    assert!(
                        matches!(
                            processed.content(),
                            ProcessedMessageContent::StagedCommitMessage(_)
                        ),
                        "openmls: not a commit"
                    );
                    processed
                },
                BatchSize::PerIteration,
            )
        }

        fn add_one(&mut self) -> (Vec<u8>, Vec<u8>) {
            let extra = [std::mem::take(&mut self.extra)];
            let out = self.add(&extra);
            let [extra] = extra;
            self.extra = extra;
            self.clear();
            out
        }

        fn encrypt(&mut self) -> Vec<u8> {
            self.group
                .create_message(
                    &self.creator.provider,
                    &self.creator.signer,
                    &super::PAYLOAD,
                )
                .expect("openmls encrypt")
                .to_bytes()
                .expect("encode")
        }

        fn decrypt(&mut self, bytes: &[u8]) -> usize {
            let processed = self.process_bytes(bytes);
            match processed.into_content() {
                ProcessedMessageContent::ApplicationMessage(m) => m.into_bytes().len(),
                _ => panic!("openmls: expected application data"),
            }
        }
    }

    impl OpenMls {
        /// The member processes `bytes` (a commit is staged, not merged).
        fn process_bytes(&mut self, bytes: &[u8]) -> ProcessedMessage {
            let message = message(bytes)
                .try_into_protocol_message()
                .expect("a protocol message");
            let member = self.member.as_mut().expect("joined");
            member
                .process_message(&self.joiner.provider, message)
                .expect("openmls process")
        }
    }
}

mod mls_rs_side {
    use mls_rs::client_builder::{
        BaseConfig, PaddingMode, WithCryptoProvider, WithIdentityProvider, WithMlsRules,
    };
    use mls_rs::group::ReceivedMessage;
    use mls_rs::identity::SigningIdentity;
    use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
    use mls_rs::mls_rules::{CommitOptions, DefaultMlsRules, EncryptionOptions};
    use mls_rs::{CipherSuite, CipherSuiteProvider, CryptoProvider, ExtensionList, MlsMessage};
    use mls_rs_crypto_rustcrypto::RustCryptoProvider;

    use criterion::{BatchSize, Bencher};

    type Config = WithMlsRules<
        DefaultMlsRules,
        WithIdentityProvider<
            BasicIdentityProvider,
            WithCryptoProvider<RustCryptoProvider, BaseConfig>,
        >,
    >;
    type RsClient = mls_rs::Client<Config>;
    type RsGroup = mls_rs::Group<Config>;

    const SUITE: CipherSuite = CipherSuite::CURVE25519_AES128;

    fn client(i: u32) -> RsClient {
        let crypto = RustCryptoProvider::new();
        let (secret, public) = crypto
            .cipher_suite_provider(SUITE)
            .expect("suite 1")
            .signature_key_generate()
            .expect("mls-rs signature key");
        let identity = SigningIdentity::new(
            BasicCredential::new(format!("member {i}").into_bytes()).into_credential(),
            public,
        );
        // Tree in the Welcome, one Welcome for all, no external commits
        // (so no GroupInfo per commit), PublicMessage handshakes, no padding.
        let rules = DefaultMlsRules::new()
            .with_commit_options(
                CommitOptions::new()
                    .with_ratchet_tree_extension(true)
                    .with_single_welcome_message(true)
                    .with_allow_external_commit(false),
            )
            .with_encryption_options(EncryptionOptions::new(false, PaddingMode::None));
        mls_rs::Client::builder()
            .crypto_provider(crypto)
            .identity_provider(BasicIdentityProvider::new())
            .signing_identity(identity, secret, SUITE)
            .mls_rules(rules)
            .build()
    }

    fn key_package(c: &RsClient) -> Vec<u8> {
        c.generate_key_package_message(ExtensionList::new(), ExtensionList::new(), None)
            .expect("mls-rs key package")
            .to_bytes()
            .expect("encode")
    }

    fn message(bytes: &[u8]) -> MlsMessage {
        MlsMessage::from_bytes(bytes).expect("mls-rs decodes")
    }

    pub(crate) struct MlsRs {
        group: RsGroup,
        key_packages: Vec<Vec<u8>>,
        extra: Vec<u8>,
        joiner: RsClient,
        welcome: Vec<u8>,
        member: Option<RsGroup>,
    }

    impl MlsRs {
        fn add(&mut self, bytes: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>) {
            let mut builder = self.group.commit_builder();
            for kp in bytes {
                builder = builder.add_member(message(kp)).expect("mls-rs add");
            }
            let out = builder.build().expect("mls-rs commit");
            let welcome = out.welcome_messages.first().expect("a Welcome");
            (
                out.commit_message.to_bytes().expect("encode"),
                welcome.to_bytes().expect("encode"),
            )
        }

        fn member(&mut self) -> &mut RsGroup {
            self.member.as_mut().expect("joined")
        }
    }

    impl super::Side for MlsRs {
        const NAME: &'static str = "mls-rs";
        type Joined = RsGroup;

        fn new(n: u32) -> Self {
            let group = client(0)
                .create_group(ExtensionList::new(), ExtensionList::new(), None)
                .expect("mls-rs group");
            // mls-rs keeps a key package's private keys in its repository
            // until the joined group is written to storage, which the bench
            // never does: every key package works for repeated joins.
            let joiner = client(1);
            let mut key_packages = vec![key_package(&joiner)];
            for i in 2..n {
                key_packages.push(key_package(&client(i)));
            }
            let extra = key_package(&client(n + 1));
            Self {
                group,
                key_packages,
                extra,
                joiner,
                welcome: Vec::new(),
                member: None,
            }
        }

        fn bulk_add(&mut self) -> (Vec<u8>, Vec<u8>) {
            let kps = std::mem::take(&mut self.key_packages);
            let out = self.add(&kps);
            self.key_packages = kps;
            self.group.clear_pending_commit();
            out
        }

        fn bulk_add_merge(&mut self) {
            let kps = std::mem::take(&mut self.key_packages);
            let (_, welcome) = self.add(&kps);
            self.key_packages = kps;
            self.group.apply_pending_commit().expect("merge");
            self.welcome = welcome;
        }

        fn join(&mut self) -> RsGroup {
            self.joiner
                .join_group(None, &message(&self.welcome), None)
                .expect("mls-rs join")
                .0
        }

        fn keep_member(&mut self, joined: RsGroup) {
            self.member = Some(joined);
        }

        fn update_create(&mut self) -> Vec<u8> {
            let out = self.group.commit(Vec::new()).expect("mls-rs update");
            self.group.clear_pending_commit();
            out.commit_message.to_bytes().expect("encode")
        }

        fn update_process(&mut self, b: &mut Bencher<'_>, commit: &[u8]) {
            // mls-rs applies a commit as it processes it: each iteration
            // gets a clone of the member's group, made outside the
            // measurement.
            let member = self.member.as_ref().expect("joined");
            b.iter_batched(
                || member.clone(),
                |mut group| {
                    let received = group
                        .process_incoming_message(message(commit))
                        .expect("mls-rs process");
                    assert!(
                        matches!(received, ReceivedMessage::Commit(_)),
                        "mls-rs: not a commit"
                    );
                    (group, received)
                },
                BatchSize::PerIteration,
            )
        }

        fn add_one(&mut self) -> (Vec<u8>, Vec<u8>) {
            let extra = [std::mem::take(&mut self.extra)];
            let out = self.add(&extra);
            let [extra] = extra;
            self.extra = extra;
            self.group.clear_pending_commit();
            out
        }

        fn encrypt(&mut self) -> Vec<u8> {
            self.group
                .encrypt_application_message(&super::PAYLOAD, Vec::new())
                .expect("mls-rs encrypt")
                .to_bytes()
                .expect("encode")
        }

        fn decrypt(&mut self, bytes: &[u8]) -> usize {
            match self
                .member()
                .process_incoming_message(message(bytes))
                .expect("mls-rs decrypt")
            {
                ReceivedMessage::ApplicationMessage(m) => m.data().len(),
                _ => panic!("mls-rs: expected application data"),
            }
        }
    }
}

fn sizes() -> Vec<u32> {
    if let Ok(list) = std::env::var("PEERS_BENCH_SIZES") {
        return list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .expect("PEERS_BENCH_SIZES: comma-separated sizes")
            })
            .collect();
    }
    let mut sizes = vec![128, 1024, 4096];
    if std::env::var_os("PEERS_BENCH_16K").is_some() {
        sizes.push(16_384);
    }
    sizes
}

fn wanted(name: &str) -> bool {
    std::env::var("PEERS_BENCH_IMPLS")
        .map_or(true, |list| list.split(',').any(|s| s.trim() == name))
}

/// Criterion settings for an operation whose single run at `n` members
/// takes long: ten flat samples of one iteration each once n is large.
fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
    n: u32,
    heavy: bool,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    if heavy && n >= 1024 {
        g.sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_secs(1));
    } else {
        g.warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
    }
    g
}

/// Runs every operation of `S` at `n` members.
fn run<S: Side>(c: &mut Criterion, n: u32) {
    if !wanted(S::NAME) {
        return;
    }
    let mut side = S::new(n);
    let id = BenchmarkId::new(S::NAME, n);

    group(c, "bulk_add", n, true).bench_function(id.clone(), |b| b.iter(|| side.bulk_add()));
    // One timed run of the setup's bulk add (with its merge): the only
    // number for a size whose criterion bulk_add is filtered out as too
    // slow (mls-rs and openmls at 16,384).
    let started = std::time::Instant::now();
    side.bulk_add_merge();
    eprintln!(
        "setup/bulk_add_and_merge/{}/{n}: {:.3} s (one run, not a criterion sample)",
        S::NAME,
        started.elapsed().as_secs_f64()
    );

    group(c, "join", n, true).bench_function(id.clone(), |b| side.join_bench(b));
    let joined = side.join();
    side.keep_member(joined);

    group(c, "update_create", n, true)
        .bench_function(id.clone(), |b| b.iter(|| side.update_create()));
    let commit = side.update_create();
    group(c, "update_process", n, true)
        .bench_function(id.clone(), |b| side.update_process(b, &commit));

    group(c, "add_one", n, true).bench_function(id.clone(), |b| b.iter(|| side.add_one()));

    // Decryption first: the receiver reads every message of the sender in
    // order, as the secret tree's forward-distance limits want (the many
    // messages encrypted for the encryption benchmark are never read).
    // Encrypting belongs to the setup: each message is decrypted once.
    let cell = std::cell::RefCell::new(side);
    group(c, "app_decrypt", n, false).bench_function(id.clone(), |b| {
        b.iter_batched(
            || cell.borrow_mut().encrypt(),
            |m| cell.borrow_mut().decrypt(black_box(&m)),
            BatchSize::SmallInput,
        )
    });
    let mut side = cell.into_inner();
    group(c, "app_encrypt", n, false).bench_function(id, |b| b.iter(|| side.encrypt()));
}

/// Reference costs (the floors of issue 30), arbor's primitives in cipher
/// suite 1: one HPKE seal of a 32-byte path secret under a prepared context
/// (an UpdatePath costs n - 1 of them), one leaf signature verification as
/// a joiner does it for every leaf (§7.3), and one signature plus one AEAD
/// seal of 100 bytes (the floor of an application message).
fn primitives(c: &mut Criterion) {
    use arbor_mls::api::{Client, KeyPackageOptions};
    use arbor_mls::crypto::SeededRandom;
    use arbor_mls::framing::{MlsMessage, MlsMessageBody};
    use arbor_mls::types::math::LeafIndex;
    let suite = arbor_mls::test_support::default_suite().expect("suite 1");
    let mut rng = SeededRandom::from_seed([7; 32]);
    let (_, public) = suite.derive_key_pair(&[1; 32]).expect("key pair");
    let prepared = suite
        .prepare_encrypt_context("UpdatePathNode", &[0; 100])
        .expect("prepare");
    let (signer, _) = suite
        .primitives()
        .signature_key_pair(&mut rng)
        .expect("signature key");
    let mut g = c.benchmark_group("primitives");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("arbor/hpke_seal", |b| {
        b.iter(|| {
            suite
                .encrypt_with_prepared(&public, &prepared, &[0; 32], &mut rng)
                .expect("seal")
        })
    });
    // The join's own per-leaf call: `LeafNode::verify_signature` encodes
    // the LeafNodeTBS and checks it with `verify_strict`, on a real key
    // package's leaf (the kind a bulk-added tree holds).
    let key_package = Client::builder(b"member 1".to_vec())
        .build()
        .expect("client")
        .key_package(KeyPackageOptions::default())
        .expect("key package");
    let message: MlsMessage = arbor_mls::decode_exact("MLSMessage", &key_package).expect("decodes");
    let MlsMessageBody::KeyPackage(key_package) = message.body else {
        panic!("not a key package")
    };
    let leaf = key_package.leaf_node;
    let group_id = [0x5a; 16];
    g.bench_function("arbor/ed25519_verify", |b| {
        b.iter(|| {
            leaf.verify_signature(&suite, Some((black_box(&group_id), LeafIndex(1))))
                .expect("verifies")
        })
    });
    g.bench_function("arbor/sign_and_aead", |b| {
        b.iter(|| {
            let signature = suite
                .sign_with_label(&signer, "FramedContentTBS", black_box(&[0; 200]))
                .expect("sign");
            let sealed = suite
                .aead_seal(&[0; 16], &[0; 12], &[], black_box(&PAYLOAD))
                .expect("seal");
            (signature, sealed)
        })
    });
    // The floor of an application message's decryption: one verification
    // and one AEAD open of 100 bytes.
    let public = suite
        .primitives()
        .signature_public_key(signer.as_bytes())
        .expect("public key");
    let signature = suite
        .sign_with_label(&signer, "FramedContentTBS", &[0; 200])
        .expect("sign");
    let sealed = suite
        .aead_seal(&[0; 16], &[0; 12], &[], &PAYLOAD)
        .expect("seal");
    g.bench_function("arbor/verify_and_aead_open", |b| {
        b.iter(|| {
            suite
                .verify_with_label(
                    &public,
                    "FramedContentTBS",
                    black_box(&[0; 200]),
                    &signature,
                )
                .expect("verify");
            suite
                .aead_open(&[0; 16], &[0; 12], &[], black_box(&sealed))
                .expect("open")
        })
    });
}

fn benches(c: &mut Criterion) {
    if wanted("arbor") {
        primitives(c);
    }
    for n in sizes() {
        run::<arbor::Arbor>(c, n);
        run::<mls_rs_side::MlsRs>(c, n);
        run::<openmls_side::OpenMls>(c, n);
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
