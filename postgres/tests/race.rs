//! Three servers (threads, each with its own connection and its own cached
//! observers) on one PostgreSQL database, and the members of several groups
//! all committing in every epoch, each commit sent to one server: exactly
//! one commit per (group, epoch) is accepted, whichever server it reached,
//! and every member ends in the same epoch with the same authenticator.

mod common;

use std::collections::HashMap;
use std::sync::mpsc;

use arbor_mls::storage::shared;
use arbor_mls::{
    Client, CommitOrder, Error, ErrorCategory, Event, Group, GroupOptions, KeyPackageOptions,
    Observed, Observer, ObserverOptions, Route,
};
use arbor_mls_postgres::PgStorage;
use common::{PgServer, space};

const SERVERS: usize = 3;
const GROUPS: usize = 3;
const MEMBERS: usize = 4;
const ROUNDS: usize = 5;

/// What a server decided about one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Accepted,
    /// Refused before writing: the cached observer (after catching up)
    /// already had a commit for the epoch.
    Taken,
    /// Refused by the database: another server's write won the epoch.
    Conflict,
}

struct Request {
    commit: Vec<u8>,
    reply: mpsc::Sender<(usize, Outcome)>,
}

fn options(storage: arbor_mls::storage::SharedStorage) -> ObserverOptions {
    ObserverOptions {
        storage: Some(storage),
        shared: true,
        ..ObserverOptions::default()
    }
}

/// A delivery service's decision on a commit, as each instance makes it.
fn decide(observer: &mut Observer, commit: &[u8]) -> Outcome {
    let route = Route::of(commit).expect("route");
    observer.catch_up().expect("catch up");
    if !matches!(observer.commit_order(route.epoch), CommitOrder::Next) {
        return Outcome::Taken;
    }
    let staged = match observer.process(commit) {
        Ok(Observed::Commit(staged)) => staged,
        // Another server stored a commit between the check and processing.
        Err(e) if e.category() == ErrorCategory::WrongEpoch => return Outcome::Taken,
        other => panic!("a member's commit was refused: {other:?}"),
    };
    match observer.merge(*staged) {
        Ok(()) => Outcome::Accepted,
        Err(Error::Conflict(_)) => {
            // The observer reloaded: it now has the winner's epoch.
            assert!(matches!(
                observer.commit_order(route.epoch),
                CommitOrder::Taken { .. }
            ));
            Outcome::Conflict
        }
        Err(e) => panic!("merge failed: {e}"),
    }
}

fn server(url: String, space: String, requests: mpsc::Receiver<Request>, id: usize) {
    let storage = shared(PgStorage::connect(&url, &space).expect("connect"));
    let mut observers: HashMap<Vec<u8>, Observer> = HashMap::new();
    for request in requests {
        let group_id = Route::of(&request.commit).expect("route").group_id;
        let observer = observers.entry(group_id.clone()).or_insert_with(|| {
            Observer::load(&group_id, options(storage.clone()))
                .expect("load")
                .expect("the group is hosted")
        });
        let outcome = decide(observer, &request.commit);
        let _ = request.reply.send((id, outcome));
    }
}

/// A group's members; member 0 created it.
struct Members(Vec<Group>);

fn create_group(admin: &arbor_mls::storage::SharedStorage, g: usize) -> (Members, Vec<u8>) {
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
    Observer::from_group_info(
        &creator.group_info(true).expect("group info"),
        None,
        options(admin.clone()),
    )
    .expect("host");
    let kps: Vec<Vec<u8>> = clients[1..]
        .iter_mut()
        .map(|c| c.key_package(KeyPackageOptions::default()).expect("kp"))
        .collect();
    let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
    let add = creator.add(&refs).expect("add");
    let welcome = add.welcome.expect("welcome");
    let mut groups = vec![creator];
    for c in &mut clients[1..] {
        groups.push(c.join(&welcome, None).expect("join"));
    }
    (Members(groups), add.commit)
}

/// Everyone takes the accepted commit: its sender merges its own, the
/// others drop theirs and merge it.
fn deliver(members: &mut Members, winner: usize, commit: &[u8]) {
    for (m, group) in members.0.iter_mut().enumerate() {
        if m != winner {
            group.discard_pending();
        }
        match group.process(commit).expect("process the accepted commit") {
            Event::OwnCommitMerged { .. } => assert_eq!(m, winner),
            Event::Commit { staged, .. } => group.merge(*staged).expect("merge"),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn three_servers_accept_exactly_one_commit_per_epoch() {
    let pg = PgServer::start();
    let space = space("race");
    let admin = shared(PgStorage::connect(pg.url(), &space).expect("connect"));

    let mut senders = Vec::new();
    let mut threads = Vec::new();
    for id in 0..SERVERS {
        let (tx, rx) = mpsc::channel::<Request>();
        let (url, space) = (pg.url().to_owned(), space.clone());
        senders.push(tx);
        threads.push(std::thread::spawn(move || server(url, space, rx, id)));
    }
    let submit = |commits: &[(usize, Vec<u8>)], via: &dyn Fn(usize) -> usize| {
        // All commits go out before any answer is read: the servers race.
        let receivers: Vec<_> = commits
            .iter()
            .map(|(m, commit)| {
                let (reply, rx) = mpsc::channel();
                senders[via(*m)]
                    .send(Request {
                        commit: commit.clone(),
                        reply,
                    })
                    .expect("server alive");
                (*m, rx)
            })
            .collect();
        receivers
            .into_iter()
            .map(|(m, rx)| (m, rx.recv().expect("answer")))
            .collect::<Vec<(usize, (usize, Outcome))>>()
    };

    let mut groups = Vec::new();
    for g in 0..GROUPS {
        let (mut members, add) = create_group(&admin, g);
        let answers = submit(&[(0, add.clone())], &|_| g % SERVERS);
        assert_eq!(answers[0].1.1, Outcome::Accepted);
        // The creator merges its Add; the others joined from the Welcome.
        match members.0[0].process(&add).expect("echo") {
            Event::OwnCommitMerged { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
        groups.push(members);
    }

    let (mut attempted, mut accepted, mut taken, mut conflicts) = (0, 0, 0, 0);
    let mut by_server = [0usize; SERVERS];
    for round in 0..ROUNDS {
        let mut commits = Vec::new();
        for (g, members) in groups.iter_mut().enumerate() {
            for (m, group) in members.0.iter_mut().enumerate() {
                commits.push((g * MEMBERS + m, group.update().expect("commit").commit));
            }
        }
        attempted += commits.len();
        // Each round another member of each group is sent first, through
        // another server.
        let mut order = commits.clone();
        let first = round * (MEMBERS + 1) % order.len();
        order.rotate_left(first);
        let answers = submit(&order, &|i| (i + round) % SERVERS);
        for (g, members) in groups.iter_mut().enumerate() {
            let ours: Vec<_> = answers.iter().filter(|(i, _)| i / MEMBERS == g).collect();
            let winners: Vec<_> = ours
                .iter()
                .filter(|(_, (_, o))| *o == Outcome::Accepted)
                .collect();
            assert_eq!(
                winners.len(),
                1,
                "group {g}, round {round}: exactly one commit is accepted: {ours:?}"
            );
            let (winner, (server, _)) = *winners[0];
            by_server[*server] += 1;
            accepted += 1;
            for (_, (_, o)) in &ours {
                match o {
                    Outcome::Taken => taken += 1,
                    Outcome::Conflict => conflicts += 1,
                    Outcome::Accepted => {}
                }
            }
            let commit = &commits[*winner].1;
            deliver(members, winner % MEMBERS, commit);
        }
    }
    drop(senders);
    for t in threads {
        t.join().expect("server thread");
    }
    eprintln!(
        "{SERVERS} servers, {GROUPS} groups x {MEMBERS} members, {ROUNDS} epochs each: \
         {attempted} commits attempted, {accepted} accepted (one per group and epoch; by \
         server {by_server:?}), {} lost ({taken} refused as taken by the cached or caught-up \
         observer, {conflicts} by the database's conditional write)",
        taken + conflicts
    );
    assert_eq!(accepted, GROUPS * ROUNDS);
    assert_eq!(attempted, accepted + taken + conflicts);

    // Every member of a group is in the same epoch with the same
    // authenticator, and the database holds that epoch: nothing was lost.
    for members in &groups {
        let first = &members.0[0];
        for group in &members.0 {
            assert_eq!(group.epoch(), 1 + ROUNDS as u64);
            assert_eq!(group.epoch_authenticator(), first.epoch_authenticator());
        }
        let stored = Observer::load(first.group_id(), options(admin.clone()))
            .expect("load")
            .expect("stored");
        assert_eq!(stored.epoch(), first.epoch());
        assert_eq!(stored.members().len(), MEMBERS);
    }
}
