//! A group chat over a simulated delivery service: an in-process queue that
//! orders handshake messages, fans every message out to all members, and
//! echoes commits to their senders. Members join, talk, refresh their keys,
//! race two commits, and one member is removed.
//!
//! `cargo run --example group_chat`

use std::collections::VecDeque;

use arbor_mls::LeafIndex;
use arbor_mls::{Client, Event, Group, GroupOptions, KeyPackageOptions};

/// The delivery service: one ordered log of messages every member reads.
#[derive(Default)]
struct DeliveryService {
    log: VecDeque<Vec<u8>>,
}

impl DeliveryService {
    fn send(&mut self, message: Vec<u8>) {
        self.log.push_back(message);
    }
}

struct Member {
    name: &'static str,
    group: Group,
}

/// Delivers the queued messages to every member in order.
fn pump(ds: &mut DeliveryService, members: &mut [Member]) -> arbor_mls::Result<()> {
    while let Some(message) = ds.log.pop_front() {
        for m in members.iter_mut().filter(|m| m.group.is_active()) {
            match m.group.process(&message) {
                Ok(Event::Application { sender, data, .. }) => {
                    println!(
                        "  {:>7} <- leaf {}: {}",
                        m.name,
                        sender.0,
                        String::from_utf8_lossy(&data)
                    )
                }
                Ok(Event::Commit {
                    staged,
                    supersedes_own,
                }) => {
                    if supersedes_own {
                        println!(
                            "  {:>7}: our pending commit lost the race and was discarded",
                            m.name
                        );
                    }
                    let removed = staged.summary.self_removed;
                    m.group.merge(*staged)?;
                    if removed {
                        println!("  {:>7}: removed from the group", m.name);
                    }
                }
                Ok(Event::OwnCommitMerged { epoch }) => {
                    println!("  {:>7}: own commit merged, epoch {epoch}", m.name)
                }
                Ok(Event::Proposal { .. }) => {}
                // Kinds of event a later version may add.
                Ok(_) => {}
                // Own application messages come back too; their keys are
                // already spent, and a stale commit is for an old epoch.
                Err(_) => {}
            }
        }
    }
    Ok(())
}

fn main() -> arbor_mls::Result<()> {
    let mut ds = DeliveryService::default();
    let names = ["alice", "bob", "carol", "dave"];
    let mut clients: Vec<Client> = names
        .iter()
        .map(|n| Client::builder(*n).build())
        .collect::<Result<_, _>>()?;
    let key_packages: Vec<Vec<u8>> = clients[1..]
        .iter_mut()
        .map(|c| c.key_package(KeyPackageOptions::default()))
        .collect::<Result<_, _>>()?;

    println!("alice creates the group and adds bob, carol and dave");
    let mut alice = clients[0].create_group(GroupOptions::default())?;
    let refs: Vec<&[u8]> = key_packages.iter().map(Vec::as_slice).collect();
    let out = alice.add(&refs)?;
    ds.send(out.commit);
    let mut members = vec![Member {
        name: "alice",
        group: alice,
    }];
    pump(&mut ds, &mut members)?;
    let welcome = out.welcome.expect("a Welcome for the new members");
    for (i, client) in clients.iter_mut().enumerate().skip(1) {
        members.push(Member {
            name: names[i],
            group: client.join(&welcome, None)?,
        });
    }

    println!("everyone says hello");
    for m in members.iter_mut() {
        let text = format!("hello from {}", m.name);
        ds.send(m.group.encrypt(text.as_bytes(), b"")?);
    }
    pump(&mut ds, &mut members)?;

    println!("bob and carol refresh their keys at the same time; the service orders bob's first");
    let bob_commit = members[1].group.update()?;
    let carol_commit = members[2].group.update()?;
    ds.send(bob_commit.commit);
    ds.send(carol_commit.commit);
    pump(&mut ds, &mut members)?;

    println!("alice removes dave");
    let out = members[0].group.remove(LeafIndex(3))?;
    ds.send(out.commit);
    pump(&mut ds, &mut members)?;
    let msg = members[2].group.encrypt(b"dave can't read this", b"")?;
    ds.send(msg);
    pump(&mut ds, &mut members)?;

    let active: Vec<&Member> = members.iter().filter(|m| m.group.is_active()).collect();
    let code = active[0].group.verification_code()?;
    for m in &active {
        assert_eq!(m.group.verification_code()?, code);
        assert_eq!(m.group.epoch(), active[0].group.epoch());
    }
    println!(
        "{} members remain in epoch {}, all showing verification code {code}",
        active.len(),
        active[0].group.epoch()
    );
    Ok(())
}
