//! A delivery service built on [`Observer`]: an in-process server (no
//! network) with a key-package directory, one observer and one queue per
//! member for each group, and exactly one commit accepted per epoch. It
//! cannot read anything, but it refuses handshake messages that break the
//! group before fanning them out, and it serves the tree and the members'
//! GroupInfo to joiners.
//!
//! The group is mixed: Pat is a partial client (draft-ietf-mls-partial),
//! which never downloads the ratchet tree. The server's observer holds the
//! tree, so it joins Pat from an AnnotatedWelcome, and gives Pat an
//! AnnotatedCommit for each commit and a sender-authenticated copy of each
//! message; the full members get the plain messages, and Pat's own
//! messages unwrapped.
//!
//! Alice creates a group and adds Bob from the directory; Alice and Bob race
//! two commits for one epoch and the server accepts one; Bob goes offline;
//! Carol joins by external commit from the server's GroupInfo (provisional
//! until Alice's GroupInfo confirms it); Mallory, an outsider, sends an
//! external commit whose confirmation tag she tampered with: the server
//! cannot tell and applies it provisionally, the members reject it, and
//! Alice's next commit supersedes it. Bob comes back and catches up from
//! his queue. The server restarts once from its storage. Then Alice adds
//! Pat; Bob updates; Alice removes Carol and adds Dave; Alice and Pat talk.
//! Everyone ends with the same epoch authenticator.
//!
//! `cargo run --example delivery_service`

use std::collections::{HashMap, HashSet, VecDeque};

use arbor_mls::storage::{MemoryStorage, SharedStorage};
use arbor_mls::{
    Client, CommitOrder, Confirmation, Credential, Event, Group, GroupOptions, KeyPackageOptions,
    LeafIndex, Observed, Observer, ObserverOptions, PartialCommitEvent, PartialGroup, Route,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// One message in an inbox. Full members get plain MLSMessages; a partial
/// client gets what it can check without the tree.
enum Delivery {
    /// An MLSMessage as its sender sent it.
    Plain(Vec<u8>),
    /// An AnnotatedCommit made for this recipient.
    AnnotatedCommit(Vec<u8>),
    /// A SenderAuthenticatedMessage: the message and its sender's
    /// membership proof.
    SenderAuthenticated(Vec<u8>),
}

/// What the server keeps per group.
struct Hosted {
    observer: Observer,
    /// Each member's inbox, by name: messages not yet fetched.
    inboxes: HashMap<String, VecDeque<Delivery>>,
}

/// The delivery service.
struct Server {
    key_packages: HashMap<String, VecDeque<Vec<u8>>>,
    /// Welcomes by joiner; AnnotatedWelcomes for partial clients.
    welcomes: HashMap<String, VecDeque<Vec<u8>>>,
    /// The clients that registered as partial.
    partial: HashSet<String>,
    groups: HashMap<Vec<u8>, Hosted>,
    /// Where the observers keep their state (a database in production):
    /// each change writes only the records it changes.
    storage: SharedStorage,
}

impl Server {
    fn new() -> Self {
        Self {
            key_packages: HashMap::new(),
            welcomes: HashMap::new(),
            partial: HashSet::new(),
            groups: HashMap::new(),
            storage: arbor_mls::storage::shared(MemoryStorage::new()),
        }
    }

    fn observer_options(&self) -> ObserverOptions {
        ObserverOptions {
            storage: Some(self.storage.clone()),
            ..ObserverOptions::default()
        }
    }

    /// `partial`: the owner is a partial client, which is served
    /// annotated messages instead of the plain ones.
    fn publish_key_package(&mut self, owner: &str, key_package: Vec<u8>, partial: bool) {
        if partial {
            self.partial.insert(owner.into());
        }
        self.key_packages
            .entry(owner.into())
            .or_default()
            .push_back(key_package);
    }

    /// One key package of `owner`, consumed (§16.8: key packages are
    /// single-use).
    fn take_key_package(&mut self, owner: &str) -> Option<Vec<u8>> {
        self.key_packages.get_mut(owner)?.pop_front()
    }

    /// A creator registers a new group with its epoch-0 GroupInfo: from
    /// then on the server follows every commit.
    fn host(&mut self, creator: &str, group_info: &[u8]) -> Result<()> {
        let observer = Observer::from_group_info(group_info, None, self.observer_options())?;
        let mut inboxes = HashMap::new();
        inboxes.insert(creator.to_string(), VecDeque::new());
        println!(
            "server: hosting group {} at epoch {}",
            hex(observer.group_id()),
            observer.epoch()
        );
        self.groups
            .insert(observer.group_id().to_vec(), Hosted { observer, inboxes });
        Ok(())
    }

    /// Accepts a message from `sender` and fans it out, or refuses it.
    /// Commits are ordered (one per epoch) and validated by the observer;
    /// a Welcome that comes with an accepted commit is queued for
    /// `welcome_for`, who then receives the group's messages. A partial
    /// client sends sender-authenticated messages: full members get the
    /// message inside.
    fn send(
        &mut self,
        sender: &str,
        message: &[u8],
        mut welcome_for: Option<(&str, Vec<u8>)>,
    ) -> Result<()> {
        let (plain, wrapped) = if self.partial.contains(sender) {
            (
                PartialGroup::inner_message(message)?,
                Some(message.to_vec()),
            )
        } else {
            (message.to_vec(), None)
        };
        let message = &plain[..];
        let route = Route::of(message)?;
        let hosted = self
            .groups
            .get_mut(&route.group_id)
            .ok_or("unknown group")?;
        // The partial members among the recipients, with their leaves.
        let partial_members: Vec<(String, LeafIndex)> = hosted
            .inboxes
            .keys()
            .filter(|name| self.partial.contains(*name) && *name != sender)
            .filter_map(|name| Some((name.clone(), leaf_of(&hosted.observer, name)?)))
            .collect();
        let mut for_partial: HashMap<String, Delivery> = HashMap::new();
        if route.is_commit() {
            match hosted.observer.commit_order(route.epoch) {
                CommitOrder::Next => {}
                CommitOrder::Taken { current } => {
                    return Err(format!(
                        "commit for epoch {} refused: another commit already took it \
                         (the group is in epoch {current}); fetch it and retry",
                        route.epoch
                    )
                    .into());
                }
                CommitOrder::Ahead { current } => {
                    return Err(format!(
                        "commit for epoch {} refused: the group is in epoch {current}",
                        route.epoch
                    )
                    .into());
                }
            }
        }
        match hosted.observer.process(message)? {
            Observed::Commit(staged) => {
                let s = staged.summary();
                println!(
                    "server: accepted the commit of {sender} for epoch {} \
                     (added {:?}, removed {:?}, external joiner {:?})",
                    route.epoch,
                    s.added.iter().map(|l| l.0).collect::<Vec<_>>(),
                    s.removed.iter().map(|l| l.0).collect::<Vec<_>>(),
                    s.external_joiner.map(|l| l.0),
                );
                let partial_joiner = welcome_for
                    .as_ref()
                    .is_some_and(|(joiner, _)| self.partial.contains(*joiner));
                // Annotations need the trees before and after the commit:
                // made before the merge.
                let mut annotated_welcomes = Vec::new();
                if !partial_members.is_empty() || partial_joiner {
                    let annotations = hosted.observer.annotate_commit(message, &staged)?;
                    for (name, leaf) in &partial_members {
                        let annotated = annotations.annotate(*leaf)?;
                        for_partial.insert(name.clone(), Delivery::AnnotatedCommit(annotated));
                    }
                    if let Some((_, welcome)) = welcome_for.as_ref().filter(|_| partial_joiner) {
                        annotated_welcomes = annotations.annotate_welcome(welcome, &[])?;
                    }
                }
                hosted.observer.merge(*staged)?;
                // A partial joiner gets its AnnotatedWelcome, not the
                // Welcome: the membership proofs instead of the tree.
                if let Some((joiner, welcome)) = welcome_for.as_mut().filter(|_| partial_joiner) {
                    let leaf = leaf_of(&hosted.observer, joiner).ok_or("the joiner is not in")?;
                    *welcome = annotated_welcomes
                        .into_iter()
                        .find(|(l, _)| *l == leaf)
                        .ok_or("no AnnotatedWelcome for the joiner")?
                        .1;
                }
                // An external commit stays provisional until a member who
                // was in the group before confirms it: its confirmation tag
                // is beyond the server's checks.
                match hosted.observer.confirmation() {
                    Confirmation::Confirmed => {}
                    Confirmation::Provisional { base } => println!(
                        "server: epoch {} is provisional: a member's commit for epoch \
                         {base} can still supersede it",
                        hosted.observer.epoch()
                    ),
                    Confirmation::Contested { other } => println!(
                        "server: the commit superseded an unconfirmed external commit; \
                         its branch (epoch {other}) is kept until a member shows which \
                         one the group took"
                    ),
                }
            }
            observed => {
                if let Observed::Proposal(p) = observed {
                    println!("server: cached a proposal of {:?}", p.sender);
                }
                // Partial members check the sender's membership proof: the
                // observer adds it (a PrivateMessage hides its sender, so
                // the server names the sender it authenticated), or the
                // partial sender already did.
                if !partial_members.is_empty() {
                    let wrapped = match wrapped {
                        Some(w) => w,
                        None => {
                            let leaf = leaf_of(&hosted.observer, sender)
                                .ok_or("the sender is not a member")?;
                            hosted.observer.sender_authenticated(message, leaf)?
                        }
                    };
                    for (name, _) in &partial_members {
                        let copy = Delivery::SenderAuthenticated(wrapped.clone());
                        for_partial.insert(name.clone(), copy);
                    }
                }
            }
        }
        // Fan out: commits go back to their sender too (the echo merges the
        // sender's pending commit); other messages only to the others.
        let echo = route.is_commit();
        for (name, inbox) in hosted.inboxes.iter_mut() {
            if let Some(delivery) = for_partial.remove(name) {
                inbox.push_back(delivery);
            } else if !self.partial.contains(name) && (echo || name != sender) {
                inbox.push_back(Delivery::Plain(message.to_vec()));
            }
        }
        if let Some((joiner, welcome)) = welcome_for {
            hosted.inboxes.entry(joiner.into()).or_default();
            self.welcomes
                .entry(joiner.into())
                .or_default()
                .push_back(welcome);
        }
        // An external joiner receives the group's messages from now on (not
        // its own commit: it is already in the epoch that commit starts).
        hosted.inboxes.entry(sender.into()).or_default();
        Ok(())
    }

    /// A member uploads its signed GroupInfo of the current epoch; the
    /// observer checks it against the group before serving it.
    fn upload_group_info(&mut self, group_id: &[u8], group_info: &[u8]) -> Result<()> {
        let hosted = self.groups.get_mut(group_id).ok_or("unknown group")?;
        let before = hosted.observer.confirmation();
        hosted.observer.accept_group_info(group_info)?;
        if before != Confirmation::Confirmed
            && hosted.observer.confirmation() == Confirmation::Confirmed
        {
            println!(
                "server: a member's GroupInfo confirms epoch {}",
                hosted.observer.epoch()
            );
        }
        Ok(())
    }

    /// The state of the observer of `group_id`.
    fn confirmation(&self, group_id: &[u8]) -> Result<Confirmation> {
        Ok(self
            .groups
            .get(group_id)
            .ok_or("unknown group")?
            .observer
            .confirmation())
    }

    /// What a joiner needs: the latest GroupInfo and the ratchet tree.
    fn join_info(&self, group_id: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
        let hosted = self.groups.get(group_id).ok_or("unknown group")?;
        let info = hosted
            .observer
            .group_info()
            .ok_or("no GroupInfo uploaded for this epoch")?;
        Ok((info.to_vec(), hosted.observer.ratchet_tree()?))
    }

    fn fetch(&mut self, name: &str, group_id: &[u8]) -> Vec<Delivery> {
        self.groups
            .get_mut(group_id)
            .and_then(|h| h.inboxes.get_mut(name))
            .map(|q| q.drain(..).collect())
            .unwrap_or_default()
    }

    fn take_welcome(&mut self, name: &str) -> Option<Vec<u8>> {
        self.welcomes.get_mut(name)?.pop_front()
    }

    /// Simulates a restart: every observer is loaded from the storage.
    fn restart(&mut self) -> Result<()> {
        let options = self.observer_options();
        for (group_id, hosted) in self.groups.iter_mut() {
            hosted.observer =
                Observer::load(group_id, options.clone())?.ok_or("the observer is not stored")?;
            println!(
                "server: restarted group {} from storage (epoch {})",
                hex(hosted.observer.group_id()),
                hosted.observer.epoch()
            );
        }
        Ok(())
    }
}

/// A member's client and its one group.
struct Member {
    name: &'static str,
    client: Client,
    group: Option<Group>,
}

impl Member {
    fn new(name: &'static str) -> Result<Self> {
        Ok(Self {
            name,
            client: Client::builder(name).build()?,
            group: None,
        })
    }

    fn group(&mut self) -> Result<&mut Group> {
        self.group.as_mut().ok_or_else(|| "not in the group".into())
    }

    /// Processes everything the server queued for us.
    fn catch_up(&mut self, server: &mut Server) -> Result<()> {
        let name = self.name;
        let group = self.group()?;
        let messages = server.fetch(name, group.group_id());
        println!("{name}: fetching {} queued messages", messages.len());
        for delivery in messages {
            let Delivery::Plain(message) = delivery else {
                return Err(format!("{name}: the server sent an annotated message").into());
            };
            let event = match group.process(&message) {
                Ok(event) => event,
                // The server relays what it cannot check (an external
                // commit's confirmation tag): a member drops what fails.
                Err(e) => {
                    println!("{name}: rejected a message: {e}");
                    continue;
                }
            };
            match event {
                Event::Application { sender, data, .. } => println!(
                    "{name}: leaf {} says {:?}",
                    sender.0,
                    String::from_utf8_lossy(&data)
                ),
                Event::Commit { staged, .. } => {
                    group.merge(*staged)?;
                    println!("{name}: merged a commit, now in epoch {}", group.epoch());
                }
                Event::OwnCommitMerged { epoch } => {
                    println!("{name}: own commit merged, now in epoch {epoch}")
                }
                Event::Proposal { .. } => println!("{name}: cached a proposal"),
                other => println!("{name}: {other:?}"),
            }
        }
        Ok(())
    }

    /// After our commit is merged, the server gets our GroupInfo for
    /// joiners.
    fn upload_group_info(&mut self, server: &mut Server) -> Result<()> {
        let group = self.group()?;
        server.upload_group_info(group.group_id(), &group.group_info(false)?)
    }
}

/// A partial client and its one group: it holds no ratchet tree.
struct PartialMember {
    name: &'static str,
    client: Client,
    group: Option<PartialGroup>,
}

impl PartialMember {
    fn group(&mut self) -> Result<&mut PartialGroup> {
        self.group.as_mut().ok_or_else(|| "not in the group".into())
    }

    /// Processes everything the server queued for us: AnnotatedCommits and
    /// sender-authenticated messages.
    fn catch_up(&mut self, server: &mut Server) -> Result<()> {
        let name = self.name;
        let group = self.group()?;
        let messages = server.fetch(name, group.group_id());
        println!("{name}: fetching {} queued messages", messages.len());
        for delivery in messages {
            match delivery {
                Delivery::AnnotatedCommit(annotated) => {
                    match group.process_annotated_commit(&annotated)? {
                        PartialCommitEvent::NewEpoch(epoch) => {
                            println!("{name}: followed a commit, now in epoch {epoch}")
                        }
                        PartialCommitEvent::Removed => println!("{name}: removed"),
                        other => println!("{name}: {other:?}"),
                    }
                }
                Delivery::SenderAuthenticated(message) => {
                    let (sender, data) = group.process_message(&message)?;
                    println!(
                        "{name}: leaf {} says {:?}",
                        sender.0,
                        String::from_utf8_lossy(&data)
                    );
                }
                Delivery::Plain(_) => {
                    return Err(format!("{name}: the server sent a plain message").into());
                }
            }
        }
        Ok(())
    }
}

/// The leaf of the member whose basic credential names `name`: the server
/// authenticated each connection as a name, and its directory ties names
/// to credentials.
fn leaf_of(observer: &Observer, name: &str) -> Option<LeafIndex> {
    observer
        .members()
        .into_iter()
        .find(|m| matches!(&m.credential, Credential::Basic { identity } if identity == name.as_bytes()))
        .map(|m| m.index)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// Runs the whole scenario; an error if any member or the server ends out
/// of sync (`tests/examples.rs` runs it).
pub(crate) fn main() -> Result<()> {
    let mut server = Server::new();
    let mut alice = Member::new("alice")?;
    let mut bob = Member::new("bob")?;
    let mut carol = Member::new("carol")?;

    // Bob publishes a key package; Alice creates the group.
    let kp = bob.client.key_package(KeyPackageOptions::default())?;
    server.publish_key_package("bob", kp, false);
    let group = alice.client.create_group(GroupOptions::default())?;
    server.host("alice", &group.group_info(true)?)?;
    let group_id = group.group_id().to_vec();
    alice.group = Some(group);

    // Alice adds Bob with a key package from the directory.
    let kp = server
        .take_key_package("bob")
        .ok_or("no key package for bob")?;
    let out = alice.group()?.add(&[&kp])?;
    let welcome = out.welcome.ok_or("no Welcome")?;
    server.send("alice", &out.commit, Some(("bob", welcome)))?;
    alice.catch_up(&mut server)?;
    alice.upload_group_info(&mut server)?;
    let welcome = server.take_welcome("bob").ok_or("no Welcome for bob")?;
    bob.group = Some(bob.client.join(&welcome, None)?);
    println!("bob: joined at epoch {}", bob.group()?.epoch());

    // Alice and Bob both commit in epoch 1: the first to reach the server
    // wins; the other is refused before anyone sees it.
    let from_alice = alice.group()?.update()?;
    let from_bob = bob.group()?.update()?;
    server.send("alice", &from_alice.commit, None)?;
    let refused = server.send("bob", &from_bob.commit, None);
    let Err(reason) = refused else {
        return Err("the server accepted two commits for one epoch".into());
    };
    println!("server: refused bob's commit: {reason}");
    bob.group()?.discard_pending();
    alice.catch_up(&mut server)?;
    alice.upload_group_info(&mut server)?;
    bob.catch_up(&mut server)?;

    // Bob goes offline. Alice talks, and Carol joins by external commit
    // from the GroupInfo and tree the server serves.
    println!("bob: goes offline");
    let hello = alice.group()?.encrypt(b"hello bob, are you there?", b"")?;
    server.send("alice", &hello, None)?;
    let (info, tree) = server.join_info(&group_id)?;
    let (group, commit) = carol
        .client
        .join_by_external_commit(&info, Some(&tree), None)?;
    carol.group = Some(group);
    server.send("carol", &commit, None)?;
    // Carol's own GroupInfo is served (so others can join after her), but
    // confirms nothing; Alice's, once she has merged Carol's commit, does.
    carol.upload_group_info(&mut server)?;
    alice.catch_up(&mut server)?;
    alice.upload_group_info(&mut server)?;
    if server.confirmation(&group_id)? != Confirmation::Confirmed {
        return Err("Alice's GroupInfo did not confirm Carol's commit".into());
    }
    let welcome_carol = alice.group()?.encrypt(b"welcome carol", b"")?;
    server.send("alice", &welcome_carol, None)?;
    let hi = carol.group()?.encrypt(b"hi all", b"")?;
    server.send("carol", &hi, None)?;
    carol.catch_up(&mut server)?;
    alice.catch_up(&mut server)?;

    // Mallory, an outsider, makes an external commit from the served
    // GroupInfo and flips a bit of its confirmation tag (the last field of
    // an external commit, not covered by her signature). The server
    // cannot check the tag: it applies the commit provisionally. Alice and
    // Carol reject it, and Alice's next commit, for the epoch Mallory's
    // commit left, supersedes it.
    let mut mallory = Member::new("mallory")?;
    let (info, tree) = server.join_info(&group_id)?;
    let (_, mut tampered) = mallory
        .client
        .join_by_external_commit(&info, Some(&tree), None)?;
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    server.send("mallory", &tampered, None)?;
    alice.catch_up(&mut server)?;
    carol.catch_up(&mut server)?;
    let out = alice.group()?.update()?;
    server.send("alice", &out.commit, None)?;
    alice.catch_up(&mut server)?;
    carol.catch_up(&mut server)?;
    alice.upload_group_info(&mut server)?;
    if server.confirmation(&group_id)? != Confirmation::Confirmed {
        return Err("the server still follows Mallory's commit".into());
    }

    // The server restarts from its storage, then Bob comes back and
    // catches up from his queue.
    server.restart()?;
    println!("bob: back online");
    bob.catch_up(&mut server)?;

    // Pat, a partial client, publishes a key package and Alice adds her:
    // Pat joins from the AnnotatedWelcome the server made (her entry of the
    // Welcome and two membership proofs, no tree).
    let mut pat = PartialMember {
        name: "pat",
        client: Client::builder("pat").build()?,
        group: None,
    };
    let kp = pat.client.key_package(KeyPackageOptions::default())?;
    server.publish_key_package("pat", kp, true);
    let kp = server
        .take_key_package("pat")
        .ok_or("no key package for pat")?;
    let out = alice.group()?.add(&[&kp])?;
    let welcome = out.welcome.ok_or("no Welcome")?;
    server.send("alice", &out.commit, Some(("pat", welcome)))?;
    alice.catch_up(&mut server)?;
    bob.catch_up(&mut server)?;
    carol.catch_up(&mut server)?;
    let annotated = server.take_welcome("pat").ok_or("no Welcome for pat")?;
    pat.group = Some(pat.client.join_partial(&annotated)?);
    println!(
        "pat: joined at epoch {} from a {} B AnnotatedWelcome (the tree is {} B)",
        pat.group()?.epoch(),
        annotated.len(),
        alice.group()?.ratchet_tree()?.len()
    );

    // Bob updates, Alice removes Carol, then adds Dave: Pat follows each
    // commit through its AnnotatedCommit.
    let out = bob.group()?.update()?;
    server.send("bob", &out.commit, None)?;
    bob.catch_up(&mut server)?;
    alice.catch_up(&mut server)?;
    let carol_leaf = carol.group()?.own_leaf();
    let out = alice.group()?.remove(carol_leaf)?;
    server.send("alice", &out.commit, None)?;
    let mut dave = Member::new("dave")?;
    let kp = dave.client.key_package(KeyPackageOptions::default())?;
    server.publish_key_package("dave", kp, false);
    alice.catch_up(&mut server)?;
    let kp = server
        .take_key_package("dave")
        .ok_or("no key package for dave")?;
    let out = alice.group()?.add(&[&kp])?;
    let welcome = out.welcome.ok_or("no Welcome")?;
    server.send("alice", &out.commit, Some(("dave", welcome)))?;
    let welcome = server.take_welcome("dave").ok_or("no Welcome for dave")?;
    dave.group = Some(dave.client.join(&welcome, None)?);
    alice.catch_up(&mut server)?;
    bob.catch_up(&mut server)?;
    pat.catch_up(&mut server)?;

    // Alice talks to Pat through a sender-authenticated copy; Pat answers,
    // and the full members read the message inside.
    let hello = alice.group()?.encrypt(b"welcome pat", b"")?;
    server.send("alice", &hello, None)?;
    pat.catch_up(&mut server)?;
    let answer = pat.group()?.encrypt(b"hi from the partial client", b"")?;
    server.send("pat", &answer, None)?;
    for m in [&mut alice, &mut bob, &mut dave] {
        m.catch_up(&mut server)?;
    }

    // Everyone agrees, and the server's view matches.
    let observer = &server.groups[&group_id].observer;
    let names: Vec<String> = observer
        .members()
        .into_iter()
        .filter_map(|m| match m.credential {
            Credential::Basic { identity } => String::from_utf8(identity).ok(),
            _ => None,
        })
        .collect();
    println!(
        "server: group at epoch {} with members {names:?}",
        observer.epoch()
    );
    let epoch = alice.group()?.epoch();
    let authenticator = alice.group()?.epoch_authenticator().to_vec();
    for m in [&mut bob, &mut dave] {
        let g = m.group()?;
        if g.epoch() != epoch || g.epoch_authenticator() != authenticator {
            return Err(format!("{} is out of sync", m.name).into());
        }
    }
    let p = pat.group()?;
    if p.epoch() != epoch || p.epoch_authenticator() != authenticator {
        return Err("pat, the partial client, is out of sync".into());
    }
    if observer.epoch() != epoch || names != ["alice", "bob", "dave", "pat"] {
        return Err("the server's view differs from the members'".into());
    }
    println!("all in sync at epoch {epoch}");
    Ok(())
}
