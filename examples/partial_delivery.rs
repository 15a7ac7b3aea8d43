//! A delivery service serving a mixed group: full members and one partial
//! client (draft-ietf-mls-partial), which never downloads the ratchet tree.
//! The server's [`Observer`] holds the tree and annotates each commit,
//! Welcome and message for the partial client; full members get the plain
//! messages.
//!
//! Alice creates a group and adds Bob (full) and Pat (partial); Bob
//! updates; Alice adds Carol (full) and removes Bob; messages go both ways.
//! Everyone ends with the same epoch authenticator.
//!
//! `cargo run --example partial_delivery`

use arbor_mls::{
    Client, Event, Group, GroupOptions, KeyPackageOptions, LeafIndex, Observed, Observer,
    ObserverOptions, PartialGroup,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The server: the group's observer and which leaf is the partial client.
struct Server {
    observer: Observer,
    partial_leaf: Option<LeafIndex>,
}

/// What the server hands out for one commit.
struct FanOut {
    /// The AnnotatedCommit for the partial client, if it is a recipient.
    for_partial: Option<Vec<u8>>,
    /// AnnotatedWelcomes, by joiner leaf.
    annotated_welcomes: Vec<(LeafIndex, Vec<u8>)>,
}

impl Server {
    /// Validates a commit, annotates it for the partial client and the
    /// joiners, and enters the next epoch.
    fn commit(&mut self, commit: &[u8], welcome: Option<&[u8]>) -> Result<FanOut> {
        let Observed::Commit(staged) = self.observer.process(commit)? else {
            return Err("not a commit".into());
        };
        let annotations = self.observer.annotate_commit(commit, &staged)?;
        let for_partial = match self.partial_leaf {
            Some(leaf) if annotations.committer() != leaf => Some(annotations.annotate(leaf)?),
            _ => None,
        };
        let annotated_welcomes = match welcome {
            Some(w) => annotations.annotate_welcome(w, &[])?,
            None => Vec::new(),
        };
        self.observer.merge(*staged)?;
        Ok(FanOut {
            for_partial,
            annotated_welcomes,
        })
    }
}

fn follow(group: &mut Group, commit: &[u8]) -> Result<()> {
    match group.process(commit)? {
        Event::Commit { staged, .. } => Ok(group.merge(*staged)?),
        _ => Err("expected a commit".into()),
    }
}

fn leaf_of(group: &Group, client: &Client) -> Result<LeafIndex> {
    Ok(group
        .members()
        .into_iter()
        .find(|m| &m.signature_key == client.signature_key())
        .ok_or("not a member")?
        .index)
}

fn main() -> Result<()> {
    let mut alice = Client::builder("alice").build()?;
    let mut bob = Client::builder("bob").build()?;
    let mut carol = Client::builder("carol").build()?;
    let mut pat = Client::builder("pat").build()?;
    let mut a = alice.create_group(GroupOptions::default())?;
    let mut server = Server {
        observer: Observer::from_group_info(
            &a.group_info(true)?,
            None,
            ObserverOptions::default(),
        )?,
        partial_leaf: None,
    };

    // Alice adds Bob and Pat. Bob joins from the Welcome (the tree is in
    // it); Pat from the AnnotatedWelcome the server made: two membership
    // proofs instead of the tree, and only Pat's entry of the Welcome.
    let kp_bob = bob.key_package(KeyPackageOptions::default())?;
    let kp_pat = pat.key_package(KeyPackageOptions::default())?;
    let out = a.add(&[&kp_bob, &kp_pat])?;
    let welcome = out.welcome.ok_or("no Welcome")?;
    let fan_out = server.commit(&out.commit, Some(&welcome))?;
    a.process(&out.commit)?;
    let mut b = bob.join(&welcome, None)?;
    let pat_leaf = leaf_of(&a, &pat)?;
    server.partial_leaf = Some(pat_leaf);
    let annotated = &fan_out
        .annotated_welcomes
        .iter()
        .find(|(leaf, _)| *leaf == pat_leaf)
        .ok_or("no AnnotatedWelcome for pat")?
        .1;
    let mut p: PartialGroup = pat.join_partial(annotated)?;
    println!(
        "pat: joined at epoch {} from {} bytes (Welcome {} B, tree {} B)",
        p.epoch(),
        annotated.len(),
        welcome.len(),
        a.ratchet_tree()?.len()
    );

    // Bob updates; Alice adds Carol; Alice removes Bob. Pat follows each
    // commit through the server's AnnotatedCommit.
    let out = b.update()?;
    let fan_out = server.commit(&out.commit, None)?;
    b.process(&out.commit)?;
    follow(&mut a, &out.commit)?;
    p.process_annotated_commit(&fan_out.for_partial.ok_or("no annotation")?)?;

    let kp_carol = carol.key_package(KeyPackageOptions::default())?;
    let out = a.add(&[&kp_carol])?;
    let welcome = out.welcome.ok_or("no Welcome")?;
    let fan_out = server.commit(&out.commit, Some(&welcome))?;
    a.process(&out.commit)?;
    follow(&mut b, &out.commit)?;
    let mut c = carol.join(&welcome, None)?;
    p.process_annotated_commit(&fan_out.for_partial.ok_or("no annotation")?)?;

    let out = a.remove(b.own_leaf())?;
    let fan_out = server.commit(&out.commit, None)?;
    a.process(&out.commit)?;
    follow(&mut c, &out.commit)?;
    p.process_annotated_commit(&fan_out.for_partial.ok_or("no annotation")?)?;
    println!("pat: followed three commits, now at epoch {}", p.epoch());

    // Alice talks: Carol reads the message, Pat the server's
    // sender-authenticated copy. (A PrivateMessage hides its sender from
    // the server; here Alice tells it.)
    let msg = a.encrypt(b"hello everyone", b"")?;
    let Event::Application { data, .. } = c.process(&msg)? else {
        return Err("expected application data".into());
    };
    println!("carol: {}", String::from_utf8_lossy(&data));
    let (_, data) =
        p.process_message(&server.observer.sender_authenticated(&msg, a.own_leaf())?)?;
    println!("pat: {}", String::from_utf8_lossy(&data));

    // Pat talks: the server gives full members the inner message.
    let from_pat = p.encrypt(b"hi from the partial client", b"")?;
    let inner = PartialGroup::inner_message(&from_pat)?;
    for g in [&mut a, &mut c] {
        let Event::Application { data, .. } = g.process(&inner)? else {
            return Err("expected application data".into());
        };
        println!("full member: {}", String::from_utf8_lossy(&data));
    }

    if p.epoch_authenticator() != a.epoch_authenticator()
        || c.epoch_authenticator() != a.epoch_authenticator()
    {
        return Err("the members disagree on the epoch".into());
    }
    println!("all: same epoch authenticator at epoch {}", a.epoch());
    Ok(())
}
