//! Three `arbor-ds` instances (the real binary) on one PostgreSQL
//! database, and members racing commits on the same groups over HTTP, each
//! member through another instance: exactly one commit is accepted per
//! group and epoch (the others answer "epoch taken"), every member ends in
//! the same epoch with the same epoch authenticator, and the log of each
//! group holds every accepted commit and every message, numbered without
//! gap.

#[path = "../../postgres/tests/common/mod.rs"]
mod common;
mod support;

use arbor_ds::{CommitReply, DsClient};
use arbor_mls::{GroupOptions, KeyPackageOptions};
use common::{PgServer, space};
use support::{Ds, Member};

const INSTANCES: usize = 3;
const GROUPS: usize = 3;
const MEMBERS: usize = 4;
const ROUNDS: usize = 4;

/// Creates group `g` through the instances: key packages published and
/// taken, the creator's Add with a Welcome, the joiners joining from it.
fn create_group(g: usize, ds: &[DsClient]) -> Vec<Member> {
    let mut members: Vec<Member> = (0..MEMBERS)
        .map(|m| Member::new(&format!("g{g}-m{m}")))
        .collect();
    for (m, member) in members.iter_mut().enumerate().skip(1) {
        let kp = member
            .client
            .key_package(KeyPackageOptions::default())
            .expect("kp");
        ds[m % INSTANCES]
            .publish_key_package(&member.name, &kp)
            .expect("publish");
    }
    let creator = &mut members[0];
    let group = creator
        .client
        .create_group(GroupOptions::default())
        .expect("group");
    ds[g % INSTANCES]
        .create_group(&group.group_info(true).expect("info"))
        .expect("host");
    creator.group = Some(group);
    let names: Vec<String> = members[1..].iter().map(|m| m.name.clone()).collect();
    let kps: Vec<Vec<u8>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            ds[(i + 1) % INSTANCES]
                .take_key_package(n)
                .expect("take")
                .expect("a key package")
        })
        .collect();
    let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
    let creator = &mut members[0];
    let add = creator.group().add(&refs).expect("add");
    let welcome = add.welcome.expect("welcome");
    let recipients: Vec<&str> = names.iter().map(String::as_str).collect();
    let group_id = creator.group_id();
    let reply = ds[(g + 1) % INSTANCES]
        .commit(
            &group_id,
            &creator.name,
            &add.commit,
            Some((&welcome, &recipients)),
        )
        .expect("commit");
    let CommitReply::Accepted(seq) = reply else {
        panic!("the first commit is accepted: {reply:?}")
    };
    creator.sync(&ds[0]);
    for (m, member) in members.iter_mut().enumerate().skip(1) {
        let welcomes = ds[(m + 2) % INSTANCES]
            .take_welcomes(&member.name)
            .expect("welcomes");
        assert_eq!(welcomes.len(), 1, "one Welcome, handed out once");
        member.group = Some(member.client.join(&welcomes[0], None).expect("join"));
        member.cursor = seq;
    }
    members
}

#[test]
fn three_instances_accept_exactly_one_commit_per_epoch_and_lose_nothing() {
    let pg = PgServer::start();
    let space = space("ds-race");
    let instances: Vec<Ds> = (0..INSTANCES)
        .map(|_| Ds::spawn(&["--postgres", pg.url(), "--space", &space], &[]))
        .collect();
    let ds: Vec<DsClient> = instances.iter().map(|i| i.client.clone()).collect();

    let mut groups: Vec<Vec<Member>> = (0..GROUPS).map(|g| create_group(g, &ds)).collect();
    let (mut attempted, mut accepted, mut taken) = (0, 0, 0);
    for round in 0..ROUNDS {
        // Every member of every group commits at once, each through
        // another instance.
        let replies: Vec<Vec<CommitReply>> = std::thread::scope(|s| {
            let handles: Vec<Vec<_>> = groups
                .iter_mut()
                .map(|members| {
                    members
                        .iter_mut()
                        .enumerate()
                        .map(|(m, member)| {
                            let via = ds[(m + round) % INSTANCES].clone();
                            s.spawn(move || member.commit_update(&via))
                        })
                        .collect()
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.into_iter().map(|h| h.join().expect("member")).collect())
                .collect()
        });
        for (g, replies) in replies.iter().enumerate() {
            attempted += replies.len();
            let winners = replies
                .iter()
                .filter(|r| matches!(r, CommitReply::Accepted(_)))
                .count();
            assert_eq!(winners, 1, "group {g}, round {round}: {replies:?}");
            accepted += winners;
            taken += replies.len() - winners;
        }
        // Then every member sends an application message at once, and
        // everyone catches up through yet another instance.
        std::thread::scope(|s| {
            for members in groups.iter_mut() {
                for (m, member) in members.iter_mut().enumerate() {
                    let via = ds[(m + round + 1) % INSTANCES].clone();
                    s.spawn(move || {
                        member.sync(&via);
                        let text = format!("round {round} from {}", member.name);
                        let group_id = member.group_id();
                        let message = member.group().encrypt(text.as_bytes(), b"").expect("seal");
                        via.send(&group_id, &member.name, &message).expect("send");
                    });
                }
            }
        });
    }
    for members in &mut groups {
        for (m, member) in members.iter_mut().enumerate() {
            member.sync(&ds[m % INSTANCES]);
        }
    }

    eprintln!(
        "{INSTANCES} instances, {GROUPS} groups x {MEMBERS} members, {ROUNDS} rounds: \
         {attempted} commits raced, {accepted} accepted, {taken} answered epoch taken"
    );
    assert_eq!(accepted, GROUPS * ROUNDS);
    assert_eq!(attempted, accepted + taken);
    for members in &groups {
        let first = members[0].group.as_ref().expect("group");

        for member in members {
            let group = member.group.as_ref().expect("group");
            assert_eq!(group.epoch(), 1 + ROUNDS as u64, "{}", member.name);
            assert_eq!(group.epoch_authenticator(), first.epoch_authenticator());
            // Every other member's message of every round arrived.
            let mut expected: Vec<String> = (0..ROUNDS)
                .flat_map(|r| {
                    members
                        .iter()
                        .filter(|o| o.name != member.name)
                        .map(move |o| format!("round {r} from {}", o.name))
                })
                .collect();
            let mut got: Vec<String> = member
                .received
                .iter()
                .map(|d| String::from_utf8_lossy(d).into_owned())
                .collect();
            expected.sort();
            got.sort();
            assert_eq!(got, expected, "{}", member.name);
        }
        // The log: the Add, one commit per round, every message, numbered
        // 1.. without gap, the same through every instance.
        let log = ds[0].fetch(first.group_id(), "nobody", 0).expect("fetch");
        let positions: Vec<u64> = log.iter().map(|(s, _)| *s).collect();
        let n = 1 + ROUNDS + ROUNDS * MEMBERS;
        assert_eq!(positions, (1..=n as u64).collect::<Vec<_>>());
        for other in &ds[1..] {
            assert_eq!(
                other.fetch(first.group_id(), "nobody", 0).expect("fetch"),
                log
            );
        }
    }
}
