//! Load through 1, 2 and 3 delivery-service instances on one PostgreSQL
//! database: GROUPS groups of MEMBERS members, COMMITS update commits each,
//! replayed through shared observers (`ObserverOptions::shared`), each
//! commit sent to the next instance in turn, the groups in parallel and
//! each group's commits in order (a commit is sent once the previous one
//! is stored). Criterion times a replay (throughput: commits per second);
//! after each instance count the bench prints commit latency p50/p99 over
//! its runs, and once the database bytes per commit (WAL written and
//! records stored).
//!
//! The server is a throwaway one (as the tests start it) unless
//! `ARBOR_PG_URL` is set. `cargo bench -p arbor-mls-postgres --bench load`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use arbor_mls::storage::{SharedStorage, shared};
use arbor_mls::{
    Client, CommitOrder, Event, GroupOptions, KeyPackageOptions, Observed, Observer,
    ObserverOptions, Route,
};
use arbor_mls_postgres::PgStorage;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const GROUPS: usize = 8;
const MEMBERS: usize = 8;
const COMMITS: usize = 10;

/// A group's starting GroupInfo and its commits, in epoch order.
struct Chain {
    group_info: Vec<u8>,
    commits: Vec<Vec<u8>>,
}

fn chain(g: usize) -> Chain {
    let mut clients: Vec<Client> = (0..MEMBERS)
        .map(|m| {
            Client::builder(format!("g{g}-m{m}"))
                .build()
                .expect("client")
        })
        .collect();
    let mut creator = clients[0]
        .create_group(GroupOptions::default())
        .expect("group");
    let kps: Vec<Vec<u8>> = clients[1..]
        .iter_mut()
        .map(|c| c.key_package(KeyPackageOptions::default()).expect("kp"))
        .collect();
    let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
    let add = creator.add(&refs).expect("add");
    creator.process(&add.commit).expect("own add");
    let welcome = add.welcome.expect("welcome");
    let mut groups = vec![creator];
    for c in &mut clients[1..] {
        groups.push(c.join(&welcome, None).expect("join"));
    }
    let group_info = groups[0].group_info(true).expect("group info");
    let mut commits = Vec::new();
    for r in 0..COMMITS {
        let commit = groups[r % MEMBERS].update().expect("commit").commit;
        for group in &mut groups {
            match group.process(&commit).expect("process") {
                Event::Commit { staged, .. } => group.merge(*staged).expect("merge"),
                Event::OwnCommitMerged { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        commits.push(commit);
    }
    Chain {
        group_info,
        commits,
    }
}

fn options(storage: SharedStorage) -> ObserverOptions {
    ObserverOptions {
        storage: Some(storage),
        shared: true,
        ..ObserverOptions::default()
    }
}

struct Request {
    group: usize,
    commit: Vec<u8>,
    reply: mpsc::Sender<(usize, bool)>,
}

/// One instance: its own connection and cached observers.
fn instance(url: String, space: String, requests: mpsc::Receiver<Request>) {
    let storage = shared(PgStorage::connect(&url, &space).expect("connect"));
    let mut observers: HashMap<Vec<u8>, Observer> = HashMap::new();
    for request in requests {
        let route = Route::of(&request.commit).expect("route");
        let observer = observers.entry(route.group_id.clone()).or_insert_with(|| {
            Observer::load(&route.group_id, options(storage.clone()))
                .expect("load")
                .expect("hosted")
        });
        observer.catch_up().expect("catch up");
        let accepted = matches!(observer.commit_order(route.epoch), CommitOrder::Next)
            && match observer.process(&request.commit) {
                Ok(Observed::Commit(staged)) => observer.merge(*staged).is_ok(),
                _ => false,
            };
        let _ = request.reply.send((request.group, accepted));
    }
}

/// Hosts every group in a new space, then replays the chains through
/// `instances`; returns the replay's time and each commit's latency.
fn replay(url: &str, chains: &[Chain], instances: usize, run: usize) -> (Duration, Vec<Duration>) {
    let space = format!("load-{instances}-{run}-{}", std::process::id());
    let admin = shared(PgStorage::connect(url, &space).expect("connect"));
    for c in chains {
        Observer::from_group_info(&c.group_info, None, options(admin.clone())).expect("host");
    }
    let mut senders = Vec::new();
    let mut threads = Vec::new();
    for _ in 0..instances {
        let (tx, rx) = mpsc::channel();
        let (url, space) = (url.to_owned(), space.clone());
        senders.push(tx);
        threads.push(std::thread::spawn(move || instance(url, space, rx)));
    }
    let (reply, replies) = mpsc::channel();
    let mut next = vec![0usize; chains.len()];
    let mut sent_at = vec![Instant::now(); chains.len()];
    let mut latencies = Vec::new();
    let send = |g: usize, i: usize| {
        senders[(g + i) % instances]
            .send(Request {
                group: g,
                commit: chains[g].commits[i].clone(),
                reply: reply.clone(),
            })
            .expect("instance alive");
    };
    let start = Instant::now();
    for (g, at) in sent_at.iter_mut().enumerate() {
        *at = Instant::now();
        send(g, 0);
    }
    let mut outstanding = chains.len();
    while outstanding > 0 {
        let (g, accepted) = replies.recv().expect("reply");
        assert!(accepted, "every commit of a chain is the next one");
        latencies.push(sent_at[g].elapsed());
        next[g] += 1;
        if next[g] < chains[g].commits.len() {
            sent_at[g] = Instant::now();
            send(g, next[g]);
        } else {
            outstanding -= 1;
        }
    }
    let elapsed = start.elapsed();
    drop(senders);
    for t in threads {
        t.join().expect("instance");
    }
    (elapsed, latencies)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// WAL bytes and stored record bytes per commit, from one replay through
/// one instance.
fn bytes_per_commit(url: &str, chains: &[Chain]) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    let wal = |c: &mut postgres::Client| -> i64 {
        c.query_one(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::BIGINT",
            &[],
        )
        .expect("wal")
        .get(0)
    };
    let space = format!("load-1-bytes-{}", std::process::id());
    let admin = PgStorage::connect(url, &space).expect("connect");
    let before_stored = {
        let storage = shared(PgStorage::connect(url, &space).expect("connect"));
        for c in chains {
            Observer::from_group_info(&c.group_info, None, options(storage.clone())).expect("host");
        }
        admin.stored_bytes().expect("bytes")
    };
    let before_wal = wal(&mut client);
    let storage = shared(PgStorage::connect(url, &space).expect("connect"));
    let mut commits = 0;
    for c in chains {
        let route = Route::of(&c.commits[0]).expect("route");
        let mut observer = Observer::load(&route.group_id, options(storage.clone()))
            .expect("load")
            .expect("hosted");
        for commit in &c.commits {
            let Observed::Commit(staged) = observer.process(commit).expect("process") else {
                panic!("a commit")
            };
            observer.merge(*staged).expect("merge");
            commits += 1;
        }
    }
    let wal_bytes = wal(&mut client) - before_wal;
    let stored = admin.stored_bytes().expect("bytes");
    eprintln!(
        "load/bytes: {MEMBERS} members: {} WAL bytes per commit; {} record bytes stored per \
         group ({} at epoch 1)",
        wal_bytes / commits,
        stored / GROUPS as u64,
        before_stored / GROUPS as u64,
    );
}

fn load(c: &mut Criterion) {
    let pg = common::PgServer::start();
    let chains: Vec<Chain> = (0..GROUPS).map(chain).collect();
    bytes_per_commit(pg.url(), &chains);
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.throughput(Throughput::Elements((GROUPS * COMMITS) as u64));
    for instances in 1..=3 {
        let mut latencies = Vec::new();
        let mut run = 0;
        group.bench_function(
            format!("{GROUPS}x{MEMBERS}x{COMMITS}/instances/{instances}"),
            |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        run += 1;
                        let (elapsed, l) = replay(pg.url(), &chains, instances, run);
                        total += elapsed;
                        latencies.extend(l);
                    }
                    total
                })
            },
        );
        latencies.sort();
        eprintln!(
            "load/{instances} instances: commit latency p50 {:?}, p99 {:?} ({} commits)",
            percentile(&latencies, 50),
            percentile(&latencies, 99),
            latencies.len()
        );
    }
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
