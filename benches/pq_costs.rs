//! What the post-quantum suites cost next to suite 1 in a sparse group of n
//! members (one commit added them all, as in `benches/group.rs`): the time
//! to add everyone, join, create and process an update commit, and send and
//! receive a 100-byte application message (in a two-member group), and the
//! sizes of a key package, the Welcome, an update commit and an application
//! message, printed once per suite and size (criterion times, it does not
//! weigh).
//!
//! `cargo bench --bench pq_costs --features pq,test-support`
//!
//! `ARBOR_PQ_SIZES=1024,4096` and `ARBOR_PQ_SUITES=0x0001,0xf001,...` choose
//! what is built; the defaults are those two sizes and suite 1 against TBD1,
//! TBD6, TBD9 and TBD11 at their default codepoints. Benchmarks are named
//! `pq_costs/<suite>/<n>/<operation>` and `pq_costs/<suite>/app/<operation>`
//! with the suite's codepoint in hex; a criterion filter (`-- /1024/join`)
//! chooses what is measured, but every chosen suite and size is still set
//! up. Ten samples each, so the PQ groups of 4,096 (seconds per bulk add)
//! stay practical.

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use arbor_mls::api::{Client, Event, FixedClock, Group, GroupOptions, KeyPackageOptions};
use arbor_mls::codec::encode;
use arbor_mls::crypto::rust_crypto::{PqRustCryptoProvider, PqSuite};
use arbor_mls::crypto::{CipherSuite, SeededRandom, Suite};
use arbor_mls::framing::{MlsMessage, MlsMessageBody};
use arbor_mls::group::engine::Received;
use arbor_mls::group::psk_store::NoPsks;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

use common::{Member, NOW, add_proposals, create_group, decode_welcome, join, member, params};

/// The group-level operations in `suite` with `n` members; `label` names
/// the benchmarks, `name` (empty, or the suite's name in parentheses) is
/// printed with the sizes.
fn bench_suite_size(c: &mut Criterion, suite: &Suite, label: &str, name: &str, n: u32) {
    let mut rng = SeededRandom::from_seed([5; 32]);
    let creator = member(suite, 0, &mut rng);
    let members: Vec<Member> = (1..n).map(|i| member(suite, i, &mut rng)).collect();
    let key_package_len = encode(&MlsMessage::new(MlsMessageBody::KeyPackage(Box::new(
        members[0].key_package.clone(),
    ))))
    .expect("encode")
    .len();
    let adds = add_proposals(&members);

    let mut alice = create_group(suite, &creator, &mut rng);
    let created = alice
        .create_commit(params(&creator.signer, adds.clone()), &mut rng)
        .expect("add everyone");
    alice.merge(created.staged).expect("merge");
    let welcome_bytes = created.welcome.expect("welcome");
    let welcome = decode_welcome(&welcome_bytes);
    let mut bob = join(suite, &welcome, &members[0]);
    let mut charlie = join(suite, &welcome, &members[1]);
    // An update: an empty commit with a path, from leaf 2.
    let update = charlie
        .create_commit(params(&members[1].signer, vec![]), &mut rng)
        .expect("update commit");
    println!(
        "pq_costs/{label}/{n} sizes{name}: key package {key_package_len} B, \
         Welcome {} B, update commit {} B",
        welcome_bytes.len(),
        update.message.len(),
    );

    let mut group = c.benchmark_group(format!("pq_costs/{label}/{n}"));
    // Bulk add: one commit and Welcome for n - 1 joiners, made from a fresh
    // one-member group each time (creating the group and cloning the key
    // packages are not timed).
    group.bench_function("bulk_add", |b| {
        b.iter_batched(
            || {
                let mut seed = SeededRandom::from_seed([6; 32]);
                (create_group(suite, &creator, &mut seed), adds.clone())
            },
            |(mut fresh, adds)| {
                fresh
                    .create_commit(params(&creator.signer, adds), &mut rng)
                    .expect("add everyone")
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("join", |b| {
        b.iter(|| join(suite, black_box(&welcome), &members[0]))
    });
    // Staging leaves the group unchanged, so each run commits from the same
    // epoch.
    group.bench_function("update_create", |b| {
        b.iter(|| {
            charlie
                .create_commit(params(&members[1].signer, vec![]), &mut rng)
                .expect("update commit")
        })
    });
    group.bench_function("update_process", |b| {
        b.iter(
            || match bob.process(black_box(&update.message), &NoPsks, NOW) {
                Ok(Received::Commit(staged)) => staged,
                other => panic!("expected a staged commit: {other:?}"),
            },
        )
    });
    group.finish();

    // The update merges and both sides agree on the new epoch.
    let Ok(Received::Commit(staged)) = bob.process(&update.message, &NoPsks, NOW) else {
        panic!("expected a staged commit")
    };
    bob.merge(*staged).expect("merge");
    charlie.merge(update.staged).expect("merge");
    assert_eq!(bob.epoch_authenticator(), charlie.epoch_authenticator());
}

/// Alice and Bob in a two-member group in `id`, through the public API.
fn two_members(id: CipherSuite, seed: u8) -> (Group, Group) {
    let client = |name: &str, seed: u8| {
        Client::builder(name)
            .clock(Arc::new(FixedClock(1_750_000_000)))
            .random(Box::new(SeededRandom::from_seed([seed; 32])))
            .provider(Arc::new(PqRustCryptoProvider::default()))
            .cipher_suite(id)
            .build()
            .expect("client")
    };
    let (mut alice, mut bob) = (client("alice", seed), client("bob", seed + 1));
    let mut a = alice.create_group(GroupOptions::default()).expect("group");
    let kp = bob.key_package(KeyPackageOptions::default()).expect("kp");
    let out = a.add(&[&kp]).expect("add");
    a.process(&out.commit).expect("merge");
    let b = bob
        .join(&out.welcome.expect("welcome"), None)
        .expect("join");
    (a, b)
}

/// Sending and receiving a 100-byte application message in `id` (their
/// cost does not depend on the group's size beyond O(log n) ratchet
/// derivations).
fn bench_application(c: &mut Criterion, id: CipherSuite, label: &str, name: &str) {
    const PLAINTEXT: [u8; 100] = [7; 100];
    let (mut sender, _) = two_members(id, 1);
    let message_len = sender.encrypt(&PLAINTEXT, b"").expect("encrypt").len();
    println!("pq_costs/{label}/app sizes{name}: application message {message_len} B");
    let mut group = c.benchmark_group(format!("pq_costs/{label}/app"));
    group.bench_function("send", |b| {
        b.iter(|| sender.encrypt(black_box(&PLAINTEXT), b"").expect("encrypt"))
    });
    // A fresh pair: the receiver takes the sender's messages in order, each
    // one generation ahead, which stays inside the secret tree's limit on
    // how far ahead a message may be (the sending benchmark's sender is far
    // past it).
    let (mut a, mut b) = two_members(id, 3);
    group.bench_function("receive", |bench| {
        bench.iter_batched(
            || a.encrypt(&PLAINTEXT, b"").expect("encrypt"),
            |message| match b.process(&message).expect("process") {
                Event::Application { .. } => {}
                other => panic!("expected application data: {other:?}"),
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn parse_list<T>(var: &str, parse: impl Fn(&str) -> T, default: Vec<T>) -> Vec<T> {
    match std::env::var(var) {
        Ok(list) => list.split(',').map(|s| parse(s.trim())).collect(),
        Err(_) => default,
    }
}

fn benches(c: &mut Criterion) {
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
    for &id in &suites {
        let suite = Suite::from_provider(&provider, id).expect("supported suite");
        let label = format!("{:#06x}", id.0);
        let name = provider
            .codepoints()
            .suite(id)
            .map_or_else(String::new, |s| format!(" ({})", s.name()));
        for &n in &sizes {
            bench_suite_size(c, &suite, &label, &name, n);
        }
        bench_application(c, id, &label, &name);
    }
}

criterion_group! {
    name = pq_costs;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(pq_costs);
