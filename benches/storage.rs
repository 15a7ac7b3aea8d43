//! Persistence costs: merging another member's update commit,
//! sending/receiving an application message and caching a proposal, for a
//! member persisted in SQLite (durable and fast modes) against one without
//! storage, and the bytes a merge or a proposal writes; and caching a
//! proposal at a delivery service's `Observer`, likewise.
//!
//! The group is built as `benches/group.rs` builds it (one commit adding
//! every member, so the tree is sparse). Every iteration merges a fresh
//! update commit by another member; only the measured member's merge is
//! timed (`iter_custom`), the others stay in step untimed.
//!
//! `storage/reference/fsync_4k` is the "one fsync" of the target: 4 KiB
//! written in place into a file beside the databases, then `fsync`.
//!
//! After each size's criterion benchmarks, `storage/merge_update/<n>/paired`
//! prints the memory merge, the durable merge and the in-place fsync timed
//! in the same rounds (their medians and the target's ratio): the disk's
//! latency drifts between criterion's benchmarks (see [`paired`]).
//!
//! `storage/sealing/*` measures [`EncryptedStorage`] against the same
//! backend without it: a batch of 16 records written, 1,000 records
//! scanned, and a member's application message sent and received, each
//! persisted in memory (the difference is the sealing alone) and in a
//! durable SQLite database (the sealing beside a real write); and a merge
//! of an update commit in a group of 1,024, persisted in memory.
//!
//! `cargo bench --bench storage` (`STORAGE_BENCH_SIZES=1024` picks the
//! merge sizes; an empty list skips building the merge fixtures).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arbor_mls::storage::{
    self, Durability, EncryptedStorage, MemoryStorage, SharedStorage, SqliteStorage, Storage,
    StorageKey, WriteBatch,
};
use arbor_mls::{
    Client, Event, Group, KeyPackageOptions, Observed, Observer, ObserverOptions, StagedCommit,
};
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

const SIZES: [u32; 2] = [1024, 16_384];

fn sizes() -> Vec<u32> {
    match std::env::var("STORAGE_BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .filter(|n| !n.trim().is_empty())
            .map(|n| n.trim().parse().expect("STORAGE_BENCH_SIZES: numbers"))
            .collect(),
        Err(_) => SIZES.to_vec(),
    }
}

/// SQLite that counts the bytes of keys and values it is asked to write.
struct Counting {
    inner: SqliteStorage,
    bytes: Arc<AtomicU64>,
}

impl Storage for Counting {
    fn get(&self, key: &[u8]) -> arbor_mls::Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn scan(&self, prefix: &[u8]) -> arbor_mls::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(prefix)
    }
    fn write(&mut self, batch: WriteBatch) -> arbor_mls::Result<()> {
        self.bytes
            .fetch_add(batch.bytes_written() as u64, Ordering::Relaxed);
        self.inner.write(batch)
    }
    fn write_unflushed(&mut self, batch: WriteBatch) -> arbor_mls::Result<()> {
        self.bytes
            .fetch_add(batch.bytes_written() as u64, Ordering::Relaxed);
        self.inner.write_unflushed(batch)
    }
    fn flush(&mut self) -> arbor_mls::Result<()> {
        self.inner.flush()
    }
    fn compact(&mut self) -> arbor_mls::Result<()> {
        self.inner.compact()
    }
}

fn db_path(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("arbor-bench-{name}-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm", "-log"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

fn persisted(name: &str, durability: Durability, bytes: &Arc<AtomicU64>) -> Client {
    let inner = SqliteStorage::open(db_path(name), durability).expect("db");
    let counting = Counting {
        inner,
        bytes: bytes.clone(),
    };
    Client::builder(name)
        .storage(storage::shared(counting))
        .build()
        .expect("client")
}

/// The members whose merges are measured.
const MEMORY: usize = 0;
const DURABLE: usize = 1;
const FAST: usize = 2;
/// Not a member: times [`fsync_4k`] where the durable member's
/// merge would be (see [`timed_merges`]).
const FSYNC_IN_PLACE: usize = usize::MAX - 1;

struct Fixture {
    /// Commits the updates.
    dave: Group,
    /// In memory, SQLite durable, SQLite fast.
    members: Vec<Group>,
    bytes: [Arc<AtomicU64>; 3],
    /// A 4 KiB file beside the databases, rewritten in place and fsynced.
    reference: std::fs::File,
}

/// One in-place 4 KiB write at the start of `file`, then fsync: the "one
/// fsync" of the target.
fn fsync_4k(file: &mut std::fs::File) {
    use std::io::{Seek, SeekFrom, Write};
    file.seek(SeekFrom::Start(0)).expect("seek");
    file.write_all(&[0x5a; 4096]).expect("write");
    file.sync_all().expect("fsync");
}

fn fixture(n: u32) -> Fixture {
    let bytes = [
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    ];
    let mut alice = Client::builder("alice").build().expect("alice");
    let mut clients = [
        Client::builder("bob").build().expect("bob"),
        persisted(&format!("carol-{n}"), Durability::Durable, &bytes[DURABLE]),
        persisted(&format!("frank-{n}"), Durability::Fast, &bytes[FAST]),
        Client::builder("dave").build().expect("dave"),
    ];
    let mut kps: Vec<Vec<u8>> = clients
        .iter_mut()
        .map(|c| c.key_package(KeyPackageOptions::default()).expect("kp"))
        .collect();
    for i in kps.len() as u32..n - 1 {
        let mut c = Client::builder(format!("member {i}")).build().expect("c");
        kps.push(c.key_package(KeyPackageOptions::default()).expect("kp"));
    }
    let mut group = alice.create_group(Default::default()).expect("group");
    let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
    let out = group.add(&refs).expect("add everyone");
    group.merge_pending().expect("merge");
    let welcome = out.welcome.expect("welcome");
    let mut groups: Vec<Group> = clients
        .iter_mut()
        .map(|c| c.join(&welcome, None).expect("join"))
        .collect();
    let dave = groups.pop().expect("dave");
    let mut reference = std::fs::File::create(db_path(&format!("fsync-{n}"))).expect("file");
    fsync_4k(&mut reference);
    Fixture {
        dave,
        members: groups,
        bytes,
        reference,
    }
}

fn process_and_merge(g: &mut Group, commit: &[u8]) {
    match g.process(commit).expect("process") {
        Event::Commit { staged, .. } => g.merge(*staged).expect("merge"),
        other => panic!("expected a commit: {other:?}"),
    }
}

/// Total time of `iters` merges by member `who`, each of a fresh update.
///
/// With `who == FSYNC_IN_PLACE`, the time of one 4 KiB fsync taken where
/// the durable member's merge would be timed: after the same work. On this
/// machine an fsync after milliseconds of computation costs about twice one
/// issued back to back (`storage/reference/fsync_4k`), so this is the "one
/// fsync" a merge is compared with.
fn timed_merges(f: &mut Fixture, who: usize, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let commit = f.dave.update().expect("update").commit;
        f.dave.merge_pending().expect("merge");
        for i in 0..f.members.len() {
            let timed = i == who || (who == FSYNC_IN_PLACE && i == DURABLE);
            if !timed {
                process_and_merge(&mut f.members[i], &commit);
                continue;
            }
            let Event::Commit { staged, .. } = f.members[i].process(&commit).expect("process")
            else {
                panic!("expected a commit")
            };
            let start = Instant::now();
            if who == FSYNC_IN_PLACE {
                fsync_4k(&mut f.reference);
                total += start.elapsed();
                f.members[i].merge(*staged).expect("merge");
            } else {
                f.members[i].merge(*staged).expect("merge");
                total += start.elapsed();
            }
        }
    }
    total
}

/// Medians of the memory merge, the durable merge and the reference fsync
/// taken in the same rounds: see [`paired`].
struct Paired {
    rounds: usize,
    memory: Duration,
    durable: Duration,
    fsync: Duration,
}

impl Paired {
    /// Durable over the target's allowance: 1.5 x memory + one fsync.
    fn ratio(&self) -> f64 {
        self.durable.as_secs_f64() / (1.5 * self.memory.as_secs_f64() + self.fsync.as_secs_f64())
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn staged_of(g: &mut Group, commit: &[u8]) -> StagedCommit {
    match g.process(commit).expect("process") {
        Event::Commit { staged, .. } => *staged,
        other => panic!("expected a commit: {other:?}"),
    }
}

/// The three numbers the target compares, in the same rounds: criterion
/// measures one benchmark after another, and this VM's disk latency drifts
/// between them by more than the target's margin, so one run's criterion
/// ratio varies by about 7% either way. Here each round times the memory
/// member's merge, the durable member's merge and one [`fsync_4k`], so
/// drift affects the merge and its reference alike.
///
/// Both disk operations come right after a commit is processed (slot A:
/// after the durable member processes it; slot B: after the fast member
/// does), and they swap slots every round, so neither is always the one
/// issued first.
fn paired(f: &mut Fixture, rounds: usize) -> Paired {
    let mut memory = Vec::with_capacity(rounds);
    let mut durable = Vec::with_capacity(rounds);
    let mut fsync = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let commit = f.dave.update().expect("update").commit;
        f.dave.merge_pending().expect("merge");
        let staged = staged_of(&mut f.members[MEMORY], &commit);
        let start = Instant::now();
        f.members[MEMORY].merge(staged).expect("merge");
        memory.push(start.elapsed());

        let mut staged = Some(staged_of(&mut f.members[DURABLE], &commit));
        let mut slot = |f: &mut Fixture, merge: bool| {
            let start = Instant::now();
            if merge {
                let staged = staged.take().expect("merged once");
                f.members[DURABLE].merge(staged).expect("merge");
                durable.push(start.elapsed());
            } else {
                fsync_4k(&mut f.reference);
                fsync.push(start.elapsed());
            }
        };
        let merge_first = round % 2 == 1;
        slot(f, merge_first);
        let fast = staged_of(&mut f.members[FAST], &commit);
        slot(f, !merge_first);
        f.members[FAST].merge(fast).expect("merge");
    }
    Paired {
        rounds,
        memory: median(memory),
        durable: median(durable),
        fsync: median(fsync),
    }
}

/// Merges before measuring: more than one log fold cycle
/// ([`storage::LogLimits::DEFAULT`]).
const WARM_UP_MERGES: u64 = 40;

fn bench_merges(c: &mut Criterion) {
    for n in sizes() {
        let mut f = fixture(n);
        // Bytes per merge, measured over a few commits.
        let before = f.bytes.each_ref().map(|b| b.load(Ordering::Relaxed));
        let commits = 4;
        timed_merges(&mut f, usize::MAX, commits);
        for (who, name) in [(DURABLE, "durable"), (FAST, "fast")] {
            let written = f.bytes[who].load(Ordering::Relaxed) - before[who];
            eprintln!(
                "storage/bytes_per_update_merge/{n}/{name}: {} bytes",
                written / commits
            );
        }
        // Steady state: past the first fold and checkpoint, a WAL is
        // rewritten in place instead of grown (growing it makes each fsync
        // about twice as slow, once per database).
        timed_merges(&mut f, usize::MAX, WARM_UP_MERGES);
        let mut group = c.benchmark_group(format!("storage/merge_update/{n}"));
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(if n > 4096 { 40 } else { 100 })
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_millis(10));
        // The durable merge and its reference fsync run one after the
        // other: this VM's disk latency drifts over the minutes a size
        // takes, and the target compares these two.
        for (who, name) in [
            (MEMORY, "memory"),
            (FAST, "sqlite_fast"),
            (DURABLE, "sqlite_durable"),
            (FSYNC_IN_PLACE, "fsync_4k_in_place"),
        ] {
            group.bench_function(name, |b| {
                b.iter_custom(|iters| timed_merges(&mut f, who, iters))
            });
        }
        group.finish();
        let p = paired(&mut f, if n > 4096 { 150 } else { 400 });
        eprintln!(
            "storage/merge_update/{n}/paired: medians over {} rounds: memory {:.1} µs, \
             durable {:.1} µs, fsync_4k_in_place {:.1} µs; \
             durable / (1.5 x memory + fsync) = {:.3}",
            p.rounds,
            p.memory.as_secs_f64() * 1e6,
            p.durable.as_secs_f64() * 1e6,
            p.fsync.as_secs_f64() * 1e6,
            p.ratio()
        );
        for g in &f.members[1..] {
            assert_eq!(g.epoch_authenticator(), f.members[0].epoch_authenticator());
        }
    }
}

fn bench_messages(c: &mut Criterion) {
    let mut f = fixture(4);
    let mut group = c.benchmark_group("storage/message");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2));
    for (who, name) in [
        (MEMORY, "memory"),
        (DURABLE, "sqlite_durable"),
        (FAST, "sqlite_fast"),
    ] {
        group.bench_function(format!("encrypt/{name}"), |b| {
            b.iter(|| f.members[who].encrypt(b"hello", b"").expect("encrypt"))
        });
        // Every member decrypts each message (so none falls behind the
        // sender's ratchet); only `who` is timed.
        group.bench_function(format!("decrypt/{name}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let m = f.dave.encrypt(b"hello", b"").expect("encrypt");
                    for (i, g) in f.members.iter_mut().enumerate() {
                        let start = Instant::now();
                        g.process(&m).expect("decrypt");
                        if i == who {
                            total += start.elapsed();
                        }
                    }
                }
                total
            })
        });
    }
    group.finish();
}

/// Caching a received proposal with `cached` proposals already in the
/// cache: in memory, and in SQLite (durable), whose write is one record
/// however full the cache is. Bob proposes adding a fresh member each
/// iteration; Alice (durable) and Carol (memory) cache it, only `who` is
/// timed.
fn bench_proposals(c: &mut Criterion) {
    let mut group = c.benchmark_group("storage/proposal");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(50)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(10));
    for cached in [0usize, 1000] {
        let bytes = Arc::new(AtomicU64::new(0));
        let mut alice = persisted(
            &format!("alice-proposals-{cached}"),
            Durability::Durable,
            &bytes,
        );
        let mut bob_client = Client::builder("bob").build().expect("bob");
        let mut carol_client = Client::builder("carol").build().expect("carol");
        let mut bob = bob_client.create_group(Default::default()).expect("group");
        let kps = [&mut alice, &mut carol_client]
            .map(|c| c.key_package(KeyPackageOptions::default()).expect("kp"));
        let out = bob.add(&[&kps[0], &kps[1]]).expect("add");
        bob.merge_pending().expect("merge");
        let welcome = out.welcome.expect("welcome");
        let mut members = [
            carol_client.join(&welcome, None).expect("carol joins"),
            alice.join(&welcome, None).expect("alice joins"),
        ];
        let mut joiner = 0u32;
        let mut propose = |bob: &mut Group| {
            joiner += 1;
            let mut c = Client::builder(format!("joiner {joiner}"))
                .build()
                .expect("joiner");
            let kp = c.key_package(KeyPackageOptions::default()).expect("kp");
            bob.propose_add(&kp).expect("propose")
        };
        for _ in 0..cached {
            let p = propose(&mut bob);
            for m in &mut members {
                m.process(&p).expect("cache");
            }
        }
        let before = bytes.load(Ordering::Relaxed);
        let p = propose(&mut bob);
        for m in &mut members {
            m.process(&p).expect("cache");
        }
        eprintln!(
            "storage/bytes_per_proposal/{cached}/durable: {} bytes",
            bytes.load(Ordering::Relaxed) - before
        );
        for (who, name) in [(0, "memory"), (1, "sqlite_durable")] {
            group.bench_function(format!("{cached}/{name}"), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let p = propose(&mut bob);
                        for (i, m) in members.iter_mut().enumerate() {
                            let start = Instant::now();
                            match m.process(&p).expect("cache") {
                                Event::Proposal { .. } => {}
                                other => panic!("expected a proposal: {other:?}"),
                            }
                            if i == who {
                                total += start.elapsed();
                            }
                        }
                    }
                    total
                })
            });
        }
    }
    group.finish();
}

/// Caching a proposal at an `Observer` (a delivery service's view of the
/// group) with `cached` proposals already cached: without storage, and in
/// SQLite (durable), where it writes that proposal's record however full
/// the cache is. Bob proposes adding a fresh member each iteration; both
/// observers cache it, only `who` is timed.
fn bench_observer_proposals(c: &mut Criterion) {
    let mut group = c.benchmark_group("storage/observer_proposal");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(50)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(10));
    for cached in [0usize, 1000] {
        let bytes = Arc::new(AtomicU64::new(0));
        let mut bob_client = Client::builder("bob").build().expect("bob");
        let mut bob = bob_client.create_group(Default::default()).expect("group");
        let info = bob.group_info(true).expect("group info");
        let durable = SqliteStorage::open(
            db_path(&format!("observer-proposals-{cached}")),
            Durability::Durable,
        )
        .expect("db");
        let stored = ObserverOptions {
            storage: Some(storage::shared(Counting {
                inner: durable,
                bytes: bytes.clone(),
            })),
            ..ObserverOptions::default()
        };
        let mut observers = [
            Observer::from_group_info(&info, None, ObserverOptions::default()).expect("memory"),
            Observer::from_group_info(&info, None, stored).expect("durable"),
        ];
        let mut joiner = 0u32;
        let mut propose = |bob: &mut Group| {
            joiner += 1;
            let mut c = Client::builder(format!("joiner {joiner}"))
                .build()
                .expect("joiner");
            let kp = c.key_package(KeyPackageOptions::default()).expect("kp");
            bob.propose_add(&kp).expect("propose")
        };
        for _ in 0..cached {
            let p = propose(&mut bob);
            for o in &mut observers {
                o.process(&p).expect("cache");
            }
        }
        let before = bytes.load(Ordering::Relaxed);
        let p = propose(&mut bob);
        for o in &mut observers {
            o.process(&p).expect("cache");
        }
        eprintln!(
            "storage/observer_bytes_per_proposal/{cached}/durable: {} bytes ({} received)",
            bytes.load(Ordering::Relaxed) - before,
            p.len()
        );
        for (who, name) in [(0, "memory"), (1, "sqlite_durable")] {
            group.bench_function(format!("{cached}/{name}"), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let p = propose(&mut bob);
                        for (i, o) in observers.iter_mut().enumerate() {
                            let start = Instant::now();
                            match o.process(&p).expect("cache") {
                                Observed::Proposal(_) => {}
                                other => panic!("expected a proposal: {other:?}"),
                            }
                            if i == who {
                                total += start.elapsed();
                            }
                        }
                    }
                    total
                })
            });
        }
    }
    group.finish();
}

/// The application key of the sealed benchmarks.
fn sealed<S: Storage>(inner: S) -> EncryptedStorage<S> {
    EncryptedStorage::open(inner, StorageKey::new(1, [7; 32])).expect("sealed")
}

/// A batch of `n` records of `len` bytes each, under one group.
fn batch(n: usize, len: usize, round: u64) -> WriteBatch {
    let mut b = WriteBatch::default();
    for i in 0..n {
        let key = format!("g/00112233445566778899aabbccddeeff/t/{i:08x}");
        b.put(key.into_bytes(), vec![round as u8; len]);
    }
    b
}

/// Members in the sealed merge benchmark.
const SEALED_MERGE_SIZE: u32 = 1024;

/// Memory storage that counts the bytes of keys and values written to it
/// (after sealing, when under [`EncryptedStorage`]).
struct CountingMemory {
    inner: MemoryStorage,
    bytes: Arc<AtomicU64>,
}

impl Storage for CountingMemory {
    fn get(&self, key: &[u8]) -> arbor_mls::Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn scan(&self, prefix: &[u8]) -> arbor_mls::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(prefix)
    }
    fn write(&mut self, batch: WriteBatch) -> arbor_mls::Result<()> {
        self.bytes
            .fetch_add(batch.bytes_written() as u64, Ordering::Relaxed);
        self.inner.write(batch)
    }
}

/// Dave, who commits, and two members of an `n`-member group persisted in
/// memory: without sealing, then with it (its written bytes counted).
fn sealing_merge_fixture(n: u32) -> (Group, Vec<Group>, Arc<AtomicU64>) {
    let bytes = Arc::new(AtomicU64::new(0));
    let counted = CountingMemory {
        inner: MemoryStorage::new(),
        bytes: bytes.clone(),
    };
    let mut alice = Client::builder("alice").build().expect("alice");
    let mut clients = [
        Client::builder("plain")
            .storage(storage::shared(MemoryStorage::new()))
            .build()
            .expect("plain"),
        Client::builder("sealed")
            .storage(storage::shared(sealed(counted)))
            .build()
            .expect("sealed"),
        Client::builder("dave").build().expect("dave"),
    ];
    let mut kps: Vec<Vec<u8>> = clients
        .iter_mut()
        .map(|c| c.key_package(KeyPackageOptions::default()).expect("kp"))
        .collect();
    for i in kps.len() as u32..n - 1 {
        let mut c = Client::builder(format!("member {i}")).build().expect("c");
        kps.push(c.key_package(KeyPackageOptions::default()).expect("kp"));
    }
    let mut group = alice.create_group(Default::default()).expect("group");
    let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
    let out = group.add(&refs).expect("add everyone");
    group.merge_pending().expect("merge");
    let welcome = out.welcome.expect("welcome");
    let mut groups: Vec<Group> = clients
        .iter_mut()
        .map(|c| c.join(&welcome, None).expect("join"))
        .collect();
    let dave = groups.pop().expect("dave");
    (dave, groups, bytes)
}

/// Alice persisted in `store` and Bob in memory, in one group.
fn sealing_pair(store: SharedStorage) -> (Group, Group) {
    let mut alice = Client::builder("alice")
        .storage(store)
        .build()
        .expect("alice");
    let mut bob = Client::builder("bob").build().expect("bob");
    let mut group = alice.create_group(Default::default()).expect("group");
    let kp = bob.key_package(KeyPackageOptions::default()).expect("kp");
    let out = group.add(&[&kp]).expect("add");
    group.merge_pending().expect("merge");
    let bob_group = bob
        .join(&out.welcome.expect("welcome"), None)
        .expect("join");
    (group, bob_group)
}

/// The cost of [`EncryptedStorage`]: each case without and with it, one
/// after the other.
fn bench_sealing(c: &mut Criterion) {
    let mut group = c.benchmark_group("storage/sealing");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(2));
    let mut round = 0u64;
    let sqlite = |name: &str| SqliteStorage::open(db_path(name), Durability::Durable).expect("db");
    let stores: [(&str, &str, Box<dyn Storage>); 4] = [
        ("memory", "plain", Box::new(MemoryStorage::new())),
        ("memory", "sealed", Box::new(sealed(MemoryStorage::new()))),
        ("sqlite", "plain", Box::new(sqlite("sealing-plain"))),
        (
            "sqlite",
            "sealed",
            Box::new(sealed(sqlite("sealing-sealed"))),
        ),
    ];
    for (backend, name, mut store) in stores {
        group.bench_function(format!("write_16x512/{backend}/{name}"), |b| {
            b.iter(|| {
                round += 1;
                store.write(batch(16, 512, round)).expect("write")
            })
        });
        store.write(batch(1000, 512, 0)).expect("fill");
        group.bench_function(format!("scan_1000x512/{backend}/{name}"), |b| {
            b.iter(|| store.scan(b"g/").expect("scan"))
        });
    }
    let backends: [(&str, &str, SharedStorage); 4] = [
        ("memory", "plain", storage::shared(MemoryStorage::new())),
        (
            "memory",
            "sealed",
            storage::shared(sealed(MemoryStorage::new())),
        ),
        (
            "sqlite",
            "plain",
            storage::shared(sqlite("sealing-pair-plain")),
        ),
        (
            "sqlite",
            "sealed",
            storage::shared(sealed(sqlite("sealing-pair-sealed"))),
        ),
    ];
    for (backend, name, store) in backends {
        let (mut alice, mut bob) = sealing_pair(store);
        group.bench_function(format!("message_encrypt/{backend}/{name}"), |b| {
            b.iter(|| alice.encrypt(b"hello", b"").expect("encrypt"))
        });
        group.bench_function(format!("message_decrypt/{backend}/{name}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let m = bob.encrypt(b"hello", b"").expect("encrypt");
                    let start = Instant::now();
                    alice.process(&m).expect("decrypt");
                    total += start.elapsed();
                }
                total
            })
        });
    }
    // A merge of another member's update commit in a group of
    // SEALED_MERGE_SIZE, persisted in memory without and with sealing:
    // Dave commits, both members process it, one merge is timed.
    let (mut dave, mut members, bytes) = sealing_merge_fixture(SEALED_MERGE_SIZE);
    let mut merges = |who: usize, iters: u64| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let commit = dave.update().expect("update").commit;
            dave.merge_pending().expect("merge");
            for (i, m) in members.iter_mut().enumerate() {
                let staged = staged_of(m, &commit);
                let start = Instant::now();
                m.merge(staged).expect("merge");
                if i == who {
                    total += start.elapsed();
                }
            }
        }
        total
    };
    let before = bytes.load(Ordering::Relaxed);
    merges(usize::MAX, 4);
    eprintln!(
        "storage/sealing/merge_update/{SEALED_MERGE_SIZE}: {} bytes per merge sealed",
        (bytes.load(Ordering::Relaxed) - before) / 4
    );
    for (who, name) in [(0, "plain"), (1, "sealed")] {
        group.bench_function(
            format!("merge_update_{SEALED_MERGE_SIZE}/memory/{name}"),
            |b| b.iter_custom(|iters| merges(who, iters)),
        );
    }
    group.finish();
}

/// One in-place 4 KiB write and fsync, in the directory of the databases.
fn bench_fsync(c: &mut Criterion) {
    let path = db_path("fsync-reference");
    let mut file = std::fs::File::create(&path).expect("file");
    fsync_4k(&mut file);
    c.bench_function("storage/reference/fsync_4k", |b| {
        b.iter(|| fsync_4k(&mut file))
    });
    let _ = std::fs::remove_file(&path);
}

// Proposals last: their thousands of durable writes come after the
// merges' measurements, not just before them.
criterion_group!(
    storage_benches,
    bench_fsync,
    bench_sealing,
    bench_messages,
    bench_merges,
    bench_proposals,
    bench_observer_proposals
);
criterion_main!(storage_benches);
