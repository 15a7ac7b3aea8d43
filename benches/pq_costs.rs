//! What the post-quantum suites cost next to suite 1: sizes of a key
//! package, a Welcome and an update commit, and the time to add everyone,
//! join, create and process an update commit, and send and receive an
//! application message, in a sparse group of n members (one commit added
//! them all, as in `benches/group.rs`). A plain timing harness (median of a
//! few runs), not criterion: the PQ groups of 4,096 take seconds to set up.
//!
//! `cargo bench --bench pq_costs --features pq,test-support`
//! (`ARBOR_PQ_SIZES=1024,4096` and `ARBOR_PQ_SUITES=0x0001,0xf001,...` to
//! choose; the defaults are those two sizes and suite 1 against TBD1, TBD6,
//! TBD9 and TBD11 at their default codepoints).

use std::hint::black_box;
use std::time::{Duration, Instant};

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::crypto::credential::Credential;
use arbor_mls::crypto::rust_crypto::{PqRustCryptoProvider, PqSuite};
use arbor_mls::crypto::{CipherSuite, SeededRandom, SignaturePrivateKey, Suite};
use arbor_mls::framing::{MlsMessage, MlsMessageBody, WireFormat};
use arbor_mls::group::commit_create::CommitParams;
use arbor_mls::group::engine::Received;
use arbor_mls::group::join::JoinInputs;
use arbor_mls::group::psk_store::{NoPsks, PskUse};
use arbor_mls::group::state::{GroupConfig, GroupState};
use arbor_mls::messages::key_package::{KeyPackageData, KeyPackageParams, KeyPackagePrivate};
use arbor_mls::messages::proposals::{Add, Proposal};
use arbor_mls::messages::welcome::Welcome;
use arbor_mls::test_support::FIXTURE_LIFETIME;
use arbor_mls::tree::leaf_node::Capabilities;

const NOW: u64 = FIXTURE_LIFETIME.not_before + 60;
/// Runs per timed operation (the median is reported).
const RUNS: usize = 3;

struct Member {
    signer: SignaturePrivateKey,
    key_package: KeyPackageData,
    private: KeyPackagePrivate,
}

fn member(suite: &Suite, i: u32, rng: &mut SeededRandom) -> Member {
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

fn params(signer: &SignaturePrivateKey, by_value: Vec<Proposal>) -> CommitParams<'_> {
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
    }
}

fn join(suite: &Suite, welcome: &Welcome, m: &Member) -> GroupState {
    GroupState::join(
        suite,
        JoinInputs {
            welcome,
            key_package: &m.key_package,
            private: &m.private,
            ratchet_tree: None,
            psks: &NoPsks,
            now: NOW,
            config: GroupConfig::default().with_max_leaves(1 << 16),
            psk_use: PskUse::Normal,
        },
    )
    .expect("join")
}

/// The median of `RUNS` timings of `f`.
fn time<T>(mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn run(suite: &Suite, name: &str, n: u32) {
    let mut rng = SeededRandom::from_seed([5; 32]);
    let creator = member(suite, 0, &mut rng);
    let create = |rng: &mut SeededRandom| {
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
    };
    let members: Vec<Member> = (1..n).map(|i| member(suite, i, &mut rng)).collect();
    let key_package_len = encode(&MlsMessage::new(MlsMessageBody::KeyPackage(Box::new(
        members[0].key_package.clone(),
    ))))
    .expect("encode")
    .len();
    let adds: Vec<Proposal> = members
        .iter()
        .map(|m| {
            Proposal::Add(Add {
                key_package: m.key_package.clone(),
            })
        })
        .collect();

    // Bulk add: one commit and Welcome for n - 1 joiners (timed once).
    let mut alice = create(&mut rng);
    let start = Instant::now();
    let created = alice
        .create_commit(params(&creator.signer, adds), &mut rng)
        .expect("add everyone");
    let bulk_add = start.elapsed();
    alice.merge(created.staged).expect("merge");
    let welcome_bytes = created.welcome.expect("welcome");
    let welcome_msg: MlsMessage = decode_exact(&welcome_bytes).expect("decode");
    let MlsMessageBody::Welcome(welcome) = welcome_msg.body else {
        panic!("not a welcome")
    };

    let join_time = time(|| join(suite, &welcome, &members[0]));
    let mut bob = join(suite, &welcome, &members[0]);
    let mut charlie = join(suite, &welcome, &members[1]);

    // An update: an empty commit with a path, from leaf 2.
    // Each run stages a new commit over the last; the last one is merged.
    let mut last = None;
    let update_create = time(|| {
        last = Some(
            charlie
                .create_commit(params(&members[1].signer, vec![]), &mut rng)
                .expect("update commit"),
        );
    });
    let update = last.expect("one run at least");
    let update_process =
        time(
            || match bob.process(&update.message, &NoPsks, NOW).expect("process") {
                Received::Commit(staged) => staged,
                other => panic!("expected a staged commit: {other:?}"),
            },
        );
    let Ok(Received::Commit(staged)) = bob.process(&update.message, &NoPsks, NOW) else {
        panic!("expected a staged commit")
    };
    bob.merge(*staged).expect("merge");
    charlie.merge(update.staged).expect("merge");
    assert_eq!(bob.epoch_authenticator(), charlie.epoch_authenticator());

    // Application messages through the public API (their cost does not
    // depend on the group's size beyond O(log n) ratchet derivations).
    let (message_len, app_send, app_receive) = application(suite.id());
    println!(
        "| {name} | {n} | {key_package_len} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        welcome_bytes.len(),
        update.message.len(),
        message_len,
        ms(bulk_add),
        ms(join_time),
        ms(update_create),
        ms(update_process),
        ms(app_send),
        ms(app_receive),
    );
}

/// A two-member group in `id`; times sending and receiving a 100-byte
/// application message.
fn application(id: CipherSuite) -> (usize, Duration, Duration) {
    use arbor_mls::api::{Client, Event, FixedClock, GroupOptions, KeyPackageOptions};
    use std::sync::Arc;
    let client = |name: &str, seed: u8| {
        Client::builder(name)
            .clock(Arc::new(FixedClock(1_750_000_000)))
            .random(Box::new(SeededRandom::from_seed([seed; 32])))
            .provider(Arc::new(PqRustCryptoProvider::default()))
            .cipher_suite(id)
            .build()
            .expect("client")
    };
    let (mut alice, mut bob) = (client("alice", 1), client("bob", 2));
    let mut a = alice.create_group(GroupOptions::default()).expect("group");
    let kp = bob.key_package(KeyPackageOptions::default()).expect("kp");
    let out = a.add(&[&kp]).expect("add");
    a.process(&out.commit).expect("merge");
    let mut b = bob
        .join(&out.welcome.expect("welcome"), None)
        .expect("join");
    let mut messages = Vec::new();
    let send = time(|| messages.push(a.encrypt(&[7; 100], b"").expect("encrypt")));
    let len = messages[0].len();
    let mut next = messages.iter();
    let receive = time(|| {
        let message = next.next().expect("one message per run");
        match b.process(message).expect("process") {
            Event::Application { .. } => {}
            other => panic!("expected application data: {other:?}"),
        }
    });
    (len, send, receive)
}

fn parse_list<T>(var: &str, parse: impl Fn(&str) -> T, default: Vec<T>) -> Vec<T> {
    match std::env::var(var) {
        Ok(list) => list.split(',').map(|s| parse(s.trim())).collect(),
        Err(_) => default,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let provider = PqRustCryptoProvider::default();
    let sizes = parse_list(
        "ARBOR_PQ_SIZES",
        |s| s.parse::<u32>().expect("a size"),
        vec![1024, 4096],
    );
    let default_suites = vec![
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        PqSuite::Mlkem768X25519Aes128GcmSha256Ed25519.default_codepoint(),
        PqSuite::Mlkem768Aes256GcmSha384Ed25519.default_codepoint(),
        PqSuite::Mlkem768X25519Chacha20Poly1305Sha384Mldsa44.default_codepoint(),
        PqSuite::Mlkem1024Aes256GcmSha384Mldsa87.default_codepoint(),
    ];
    let suites = parse_list(
        "ARBOR_PQ_SUITES",
        |s| {
            let hex = s.trim_start_matches("0x");
            CipherSuite(u16::from_str_radix(hex, 16).expect("a hex suite id"))
        },
        default_suites,
    );
    println!(
        "| suite | n | key package (B) | Welcome (B) | update commit (B) | application message (B) \
         | add n-1 | join | update create | update process | app send | app receive |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for n in sizes {
        for &id in &suites {
            let suite = Suite::from_provider(&provider, id).expect("supported suite");
            let name = provider
                .codepoints()
                .suite(id)
                .map_or_else(|| format!("{:#06x}", id.0), |s| s.name().to_string());
            run(&suite, &name, n);
        }
    }
}
