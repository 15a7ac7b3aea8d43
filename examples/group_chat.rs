//! A group chat over a simulated delivery service that fans every message
//! out to all members, the sender included, in order, except when the
//! network reorders. Members join, talk, refresh their keys, race two
//! commits, and one member is removed.
//!
//! Every error is handled by the action it names (`Error::action`): a
//! message from the past is dropped, one from the future is buffered and
//! processed again once a commit is merged, a bad one is reported. Own
//! messages echoed back arrive as events and are ignored.
//!
//! `cargo run --example group_chat`

use std::collections::VecDeque;

use arbor_mls::{
    Action, Client, Event, Group, GroupOptions, KeyPackageOptions, Message, MessageKind,
};

/// A member's group and what the delivery service has queued for it.
struct Member {
    name: &'static str,
    group: Group,
    inbox: VecDeque<Message>,
    /// Messages of epochs the group has not reached yet.
    buffered: Vec<Message>,
}

/// More future messages than this means the member missed a commit the
/// others merged: it would then resync by external commit.
const MAX_BUFFERED: usize = 100;

impl Member {
    fn new(name: &'static str, group: Group) -> Self {
        Self {
            name,
            group,
            inbox: VecDeque::new(),
            buffered: Vec::new(),
        }
    }

    /// Processes one message and acts on the outcome.
    fn receive(&mut self, message: Message) -> arbor_mls::Result<()> {
        let epoch = self.group.epoch();
        match self.group.process_message(&message) {
            Ok(event) => self.handle(event)?,
            Err(e) => match e.action() {
                Action::Drop => println!("  {:>7}: dropped: {e}", self.name),
                Action::Buffer if self.buffered.len() < MAX_BUFFERED => {
                    println!("  {:>7}: buffered: {e}", self.name);
                    self.buffered.push(message);
                }
                // A real client tells its operator which member sent what;
                // the group is unchanged, so it carries on.
                Action::Report => println!("  {:>7}: REPORT: {e}", self.name),
                // A full buffer (resync), misuse, storage: the app cannot
                // go on as if nothing happened.
                _ => return Err(e),
            },
        }
        if self.group.epoch() != epoch {
            // A new epoch: buffered messages may be processable now (those
            // still ahead are buffered again).
            for message in std::mem::take(&mut self.buffered) {
                self.receive(message)?;
            }
        }
        Ok(())
    }

    fn handle(&mut self, event: Event) -> arbor_mls::Result<()> {
        match event {
            Event::Application { sender, data, .. } => println!(
                "  {:>7} <- leaf {}: {}",
                self.name,
                sender.0,
                String::from_utf8_lossy(&data)
            ),
            Event::Commit {
                staged,
                supersedes_own,
            } => {
                if supersedes_own {
                    println!(
                        "  {:>7}: our pending commit lost the race and is discarded",
                        self.name
                    );
                }
                let removed = staged.summary.self_removed;
                self.group.merge(*staged)?;
                if removed {
                    println!("  {:>7}: removed from the group", self.name);
                }
            }
            Event::OwnCommitMerged { epoch } => {
                println!("  {:>7}: own commit merged, epoch {epoch}", self.name)
            }
            // Our own message fanned back to us: nothing to do.
            Event::OwnMessageEcho { .. } | Event::Proposal { .. } => {}
            // Kinds of event a later version may add.
            _ => {}
        }
        Ok(())
    }
}

/// The delivery service: routes on the clear parts of a message (kind,
/// group, epoch) and fans it out to every active member.
fn broadcast(members: &mut [Member], bytes: Vec<u8>) -> arbor_mls::Result<()> {
    let message = Message::decode(&bytes)?;
    if message.kind() == MessageKind::Commit {
        println!("  service: commit for epoch {:?}", message.epoch());
    }
    for m in members.iter_mut().filter(|m| m.group.is_active()) {
        m.inbox.push_back(message.clone());
    }
    Ok(())
}

/// Every member processes its inbox.
fn pump(members: &mut [Member]) -> arbor_mls::Result<()> {
    for m in members.iter_mut() {
        while let Some(message) = m.inbox.pop_front() {
            if !m.group.is_active() {
                m.inbox.clear();
                break;
            }
            m.receive(message)?;
        }
    }
    Ok(())
}

fn main() -> arbor_mls::Result<()> {
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
    let alice = clients[0].create_group(GroupOptions::default())?;
    let mut members = vec![Member::new("alice", alice)];
    let refs: Vec<&[u8]> = key_packages.iter().map(Vec::as_slice).collect();
    let out = members[0].group.add(&refs)?;
    broadcast(&mut members, out.commit)?;
    pump(&mut members)?;
    let welcome = out.welcome.expect("a Welcome for the new members");
    for (i, client) in clients.iter_mut().enumerate().skip(1) {
        members.push(Member::new(names[i], client.join(&welcome, None)?));
    }

    println!("everyone says hello (each also gets its own message back)");
    for i in 0..members.len() {
        let text = format!("hello from {}", members[i].name);
        let msg = members[i].group.encrypt(text.as_bytes(), b"")?;
        broadcast(&mut members, msg)?;
    }
    pump(&mut members)?;

    println!("alice refreshes her keys and writes at once; bob gets the message before the commit");
    let update = members[0].group.update()?;
    members[0].group.merge_pending()?;
    let msg = Message::decode(&members[0].group.encrypt(b"new keys, same alice", b"")?)?;
    let commit = Message::decode(&update.commit)?;
    for (i, m) in members.iter_mut().enumerate().skip(1) {
        if i == 1 {
            m.inbox.push_back(msg.clone());
            m.inbox.push_back(commit.clone());
        } else {
            m.inbox.push_back(commit.clone());
            m.inbox.push_back(msg.clone());
        }
    }
    pump(&mut members)?;

    println!("bob and carol refresh their keys at the same time; the service orders bob's first");
    let bob_commit = members[1].group.update()?;
    let carol_commit = members[2].group.update()?;
    broadcast(&mut members, bob_commit.commit)?;
    broadcast(&mut members, carol_commit.commit)?;
    pump(&mut members)?;

    println!("alice removes dave");
    let dave = members[3].group.own_leaf();
    let out = members[0].group.remove(dave)?;
    broadcast(&mut members, out.commit)?;
    pump(&mut members)?;
    let msg = members[2].group.encrypt(b"dave can't read this", b"")?;
    broadcast(&mut members, msg)?;
    pump(&mut members)?;

    let active: Vec<&Member> = members.iter().filter(|m| m.group.is_active()).collect();
    let code = active[0].group.verification_code()?;
    for m in &active {
        assert_eq!(m.group.verification_code()?, code);
        assert_eq!(m.group.epoch(), active[0].group.epoch());
        assert!(m.buffered.is_empty(), "{} still buffers messages", m.name);
    }
    println!(
        "{} members remain in epoch {}, all showing verification code {code}",
        active.len(),
        active[0].group.epoch()
    );
    Ok(())
}
