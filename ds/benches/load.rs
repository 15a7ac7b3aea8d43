//! Load through 1, 2 and 3 `arbor-ds` instances (the binary, as separate
//! processes) on one PostgreSQL database, over HTTP: GROUPS groups of
//! MEMBERS members, COMMITS update commits each, the groups in parallel
//! and each group's commits in order (a commit is sent once the previous
//! one is answered), each commit to the next instance in turn. Criterion
//! times a replay (throughput: commits per second); after each instance
//! count the bench prints the commit latency p50/p99 seen by the client
//! (HTTP round trip included).
//!
//! The server is a throwaway one unless `ARBOR_PG_URL` is set.
//! `cargo bench -p arbor-ds --bench load`.

#[path = "../../postgres/tests/common/mod.rs"]
mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use arbor_ds::{CommitReply, DsClient};
use arbor_mls::{Client, Event, GroupOptions, KeyPackageOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use support::Ds;

const GROUPS: usize = 8;
const MEMBERS: usize = 8;
const COMMITS: usize = 10;

/// A group's id, starting GroupInfo and its commits, in epoch order.
struct Chain {
    group_id: Vec<u8>,
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
    let group_info = creator.group_info(true).expect("group info");
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
    let mut commits = vec![add.commit];
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
        group_id: groups[0].group_id().to_vec(),
        group_info,
        commits,
    }
}

/// Starts `instances` instances on a new space, hosts every group and
/// accepts its Add (not timed); then replays the update commits, timed.
fn replay(url: &str, chains: &[Chain], instances: usize, run: usize) -> (Duration, Vec<Duration>) {
    let space = format!("ds-load-{instances}-{run}-{}", std::process::id());
    let servers: Vec<Ds> = (0..instances)
        .map(|_| Ds::spawn(&["--postgres", url, "--space", &space], &[]))
        .collect();
    let ds: Vec<DsClient> = servers.iter().map(|s| s.client.clone()).collect();
    for c in chains {
        ds[0].create_group(&c.group_info).expect("host");
        let reply = ds[0]
            .commit(&c.group_id, "m0", &c.commits[0], None)
            .expect("add");
        assert!(matches!(reply, CommitReply::Accepted(_)));
    }
    let start = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = chains
            .iter()
            .enumerate()
            .map(|(g, c)| {
                let ds = &ds;
                s.spawn(move || {
                    let mut latencies = Vec::new();
                    for (i, commit) in c.commits[1..].iter().enumerate() {
                        let sent = Instant::now();
                        let reply = ds[(g + i) % instances]
                            .commit(&c.group_id, "m", commit, None)
                            .expect("commit");
                        latencies.push(sent.elapsed());
                        assert!(matches!(reply, CommitReply::Accepted(_)), "{reply:?}");
                    }
                    latencies
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("group"))
            .collect()
    });
    (start.elapsed(), latencies)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn load(c: &mut Criterion) {
    let pg = common::PgServer::start();
    let chains: Vec<Chain> = (0..GROUPS).map(chain).collect();
    let mut group = c.benchmark_group("ds_load");
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
            "ds_load/{instances} instances: commit latency p50 {:?}, p99 {:?} ({} commits)",
            percentile(&latencies, 50),
            percentile(&latencies, 99),
            latencies.len()
        );
    }
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
