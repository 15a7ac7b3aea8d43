//! The whole life of a group through the crate root's re-exports only:
//! create, add, chat, a member leaves, a removal, an update, an
//! out-of-order and a future-epoch message buffered and processed, a staged
//! commit inspected before merging, a custom validator rejecting someone,
//! an external join, a resync after losing state, and verification codes
//! compared. Every error is handled by the action it names.
//!
//! `cargo run --example lifecycle`

use std::sync::Arc;

use arbor_mls::{
    Action, Client, Credential, CredentialValidator, Error, Event, ExternalJoinOptions, Group,
    GroupInfo, GroupOptions, KeyPackageOptions, Rejection, SignaturePublicKey, ValidationContext,
};

/// The application's policy: nobody called "mallory" joins.
struct NoMallory;

impl CredentialValidator for NoMallory {
    fn validate(
        &self,
        _cx: &ValidationContext<'_>,
        credential: &Credential,
        _key: &SignaturePublicKey,
    ) -> Result<(), Rejection> {
        match credential {
            Credential::Basic { identity } if identity == b"mallory" => {
                Err(Rejection::new("mallory is banned from this group"))
            }
            Credential::Basic { .. } => Ok(()),
            _ => Err(Rejection::new("only basic credentials")),
        }
    }
}

fn client(name: &str) -> arbor_mls::Result<Client> {
    Client::builder(name)
        .credential_validator(Arc::new(NoMallory))
        .build()
}

/// A member's view plus the messages it had to put aside.
struct Member {
    name: &'static str,
    group: Group,
    buffered: Vec<Vec<u8>>,
}

impl Member {
    fn new(name: &'static str, group: Group) -> Self {
        Self {
            name,
            group,
            buffered: Vec::new(),
        }
    }

    /// Processes one message and acts on the outcome: application data is
    /// printed, a commit is inspected and merged, a future-epoch message is
    /// buffered, a past one dropped, anything the protocol forbids
    /// reported. Returns the application data, if any.
    fn receive(&mut self, message: &[u8]) -> arbor_mls::Result<Option<Vec<u8>>> {
        match self.group.process(message) {
            Ok(Event::Application {
                sender,
                epoch,
                data,
                ..
            }) => {
                println!(
                    "  {:>6} <- leaf {} (epoch {epoch}): {}",
                    self.name,
                    sender.0,
                    String::from_utf8_lossy(&data)
                );
                Ok(Some(data))
            }
            Ok(Event::Commit { staged, .. }) => {
                // Inspect before merging: who joins, leaves, changes keys.
                let added: Vec<String> = staged
                    .added_members()
                    .iter()
                    .map(|m| identity(&m.credential))
                    .collect();
                let removed: Vec<String> = staged
                    .removed_members()
                    .iter()
                    .map(|m| identity(&m.credential))
                    .collect();
                println!(
                    "  {:>6}: commit to epoch {:?}: added {added:?}, removed {removed:?}, \
                     {} updated",
                    self.name,
                    staged.epoch(),
                    staged.updated_members().len()
                );
                self.group.merge(*staged)?;
                self.retry_buffered()?;
                Ok(None)
            }
            Ok(Event::OwnCommitMerged { epoch }) => {
                println!("  {:>6}: own commit merged, now epoch {epoch}", self.name);
                self.retry_buffered()?;
                Ok(None)
            }
            Ok(Event::OwnMessageEcho { .. }) | Ok(Event::Proposal { .. }) => Ok(None),
            Ok(_) => Ok(None),
            Err(e) => self.handle(e, message),
        }
    }

    fn handle(&mut self, e: Error, message: &[u8]) -> arbor_mls::Result<Option<Vec<u8>>> {
        match e.action() {
            Action::Buffer => {
                println!("  {:>6}: buffered ({e})", self.name);
                self.buffered.push(message.to_vec());
                Ok(None)
            }
            Action::Drop => {
                println!("  {:>6}: dropped ({e})", self.name);
                Ok(None)
            }
            Action::Report => {
                println!("  {:>6}: REPORTED to the operator: {e}", self.name);
                Ok(None)
            }
            _ => Err(e),
        }
    }

    /// After each new epoch, messages buffered for it can be processed.
    fn retry_buffered(&mut self) -> arbor_mls::Result<()> {
        for message in std::mem::take(&mut self.buffered) {
            self.receive(&message)?;
        }
        Ok(())
    }
}

fn identity(credential: &Credential) -> String {
    match credential {
        Credential::Basic { identity } => String::from_utf8_lossy(identity).into_owned(),
        _ => "<non-basic>".into(),
    }
}

/// Delivers `message` to every member in `to`.
fn deliver(message: &[u8], to: &mut [&mut Member]) -> arbor_mls::Result<()> {
    for m in to.iter_mut() {
        m.receive(message)?;
    }
    Ok(())
}

fn same_codes(members: &[&Member]) -> arbor_mls::Result<String> {
    let code = members[0].group.verification_code()?;
    for m in &members[1..] {
        assert_eq!(m.group.verification_code()?, code, "{} disagrees", m.name);
    }
    Ok(code)
}

fn main() -> arbor_mls::Result<()> {
    let mut alice_client = client("alice")?;
    let mut bob_client = client("bob")?;
    let mut carol_client = client("carol")?;
    let mut mallory_client = client("mallory")?;

    println!("Alice creates the group and adds Bob and Carol.");
    let mut alice = Member::new("alice", alice_client.create_group(GroupOptions::default())?);
    let kp_bob = bob_client.key_package(KeyPackageOptions::default())?;
    let kp_carol = carol_client.key_package(KeyPackageOptions::default())?;
    let out = alice.group.add(&[&kp_bob, &kp_carol])?;
    alice.receive(&out.commit)?;
    let welcome = out.welcome.expect("adds produce a Welcome");
    let mut bob = Member::new("bob", bob_client.join(&welcome, None)?);
    let mut carol = Member::new("carol", carol_client.join(&welcome, None)?);
    println!("  codes agree: {}", same_codes(&[&alice, &bob, &carol])?);

    println!("They chat; two of Alice's messages arrive out of order.");
    let first = alice.group.encrypt(b"first", b"")?;
    let second = alice.group.encrypt(b"second", b"")?;
    deliver(&second, &mut [&mut bob, &mut carol])?;
    deliver(&first, &mut [&mut bob, &mut carol])?;

    println!("Alice's policy refuses Mallory before anything is committed.");
    let kp_mallory = mallory_client.key_package(KeyPackageOptions::default())?;
    match alice.group.add(&[&kp_mallory]) {
        Err(e) => println!("  refused ({:?}): {e}", e.action()),
        Ok(_) => panic!("the validator must refuse mallory"),
    }

    println!("Bob updates his keys; Carol receives a message of the new epoch first.");
    let update = bob.group.update()?;
    bob.receive(&update.commit)?;
    let early = bob.group.encrypt(b"sent right after my update", b"")?;
    carol.receive(&early)?; // future epoch: buffered
    alice.receive(&update.commit)?;
    carol.receive(&update.commit)?; // merged, then the buffered message is read

    println!("Carol leaves; Alice commits her Remove.");
    let leave = carol.group.leave()?;
    deliver(&leave, &mut [&mut alice, &mut bob])?;
    let out = alice.group.commit()?;
    deliver(&out.commit, &mut [&mut alice, &mut bob, &mut carol])?;
    assert!(!carol.group.is_active());

    println!("Dave joins by external commit from Alice's GroupInfo.");
    let mut dave_client = client("dave")?;
    let info = alice.group.group_info(true)?;
    let (dave_group, commit) =
        dave_client.join_by_external_commit_with(&info, ExternalJoinOptions::default())?;
    let mut dave = Member::new("dave", dave_group);
    deliver(&commit, &mut [&mut alice, &mut bob, &mut dave])?;
    println!("  codes agree: {}", same_codes(&[&alice, &bob, &dave])?);

    println!("Bob loses his state and resyncs: external join removing his old leaf.");
    let info = alice.group.group_info(true)?;
    let old_leaf = GroupInfo::decode(&info)?
        .members()?
        .expect("the GroupInfo carries the tree")
        .into_iter()
        .find(|m| identity(&m.credential) == "bob")
        .map(|m| m.index)
        .expect("bob is a member");
    let mut bob_again_client = client("bob")?;
    let (bob_group, commit) = bob_again_client.join_by_external_commit_with(
        &info,
        ExternalJoinOptions::default().remove_old_leaf(old_leaf),
    )?;
    let mut bob = Member::new("bob", bob_group);
    deliver(&commit, &mut [&mut alice, &mut dave, &mut bob])?;
    println!("  codes agree: {}", same_codes(&[&alice, &bob, &dave])?);

    println!("Dave's last message arrives after his removal; an old commit is replayed.");
    // Bob keeps past epochs' keys (GroupConfig::past_epochs): it is read.
    let last_words = dave.group.encrypt(b"bye", b"")?;
    let out = alice.group.remove(dave.group.own_leaf())?;
    deliver(&out.commit, &mut [&mut alice, &mut bob, &mut dave])?;
    assert!(!dave.group.is_active());
    assert_eq!(bob.receive(&last_words)?.as_deref(), Some(&b"bye"[..]));
    // A commit of a past epoch can never apply again: dropped.
    bob.receive(&commit)?;

    println!(
        "Final epoch {}, members {:?}, codes agree: {}",
        alice.group.epoch(),
        alice
            .group
            .members()
            .iter()
            .map(|m| identity(&m.credential))
            .collect::<Vec<_>>(),
        same_codes(&[&alice, &bob])?
    );
    Ok(())
}
