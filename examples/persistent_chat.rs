//! A chat that survives restarts. Run it twice:
//!
//! ```text
//! cargo run --example persistent_chat   # creates the group, chats
//! cargo run --example persistent_chat   # reopens it, chats on
//! ```
//!
//! Alice, Bob and Carol each keep their state in their own SQLite database
//! (in `$TMPDIR/arbor-persistent-chat/`); the delivery service is this
//! process passing bytes along. Delete the directory to start over.

use arbor_mls::crypto::credential::Credential;
use arbor_mls::{Client, Event, Group, KeyPackageOptions, Result};

fn deliver(to: &mut Group, message: &[u8]) -> Result<()> {
    match to.process(message)? {
        Event::Application { sender, data, .. } => {
            println!(
                "  leaf {} says: {}",
                sender.0,
                String::from_utf8_lossy(&data)
            )
        }
        Event::Commit { staged, .. } => to.merge(*staged)?,
        _ => {}
    }
    Ok(())
}

fn main() -> Result<()> {
    let dir = std::env::temp_dir().join("arbor-persistent-chat");
    std::fs::create_dir_all(&dir).map_err(|e| arbor_mls::Error::Storage(e.to_string()))?;
    let db = |name: &str| dir.join(format!("{name}.db"));
    let mut alice = Client::open(db("alice"), "alice")?;
    let mut bob = Client::open(db("bob"), "bob")?;
    let mut carol = Client::open(db("carol"), "carol")?;

    let (mut a, mut b, mut c) = match alice.groups()?.first() {
        None => first_run(&mut alice, &mut bob, &mut carol)?,
        Some(id) => {
            let groups = (
                alice.load_group(id)?,
                bob.load_group(id)?,
                carol.load_group(id)?,
            );
            println!("restored from {}", dir.display());
            groups
        }
    };
    println!(
        "epoch {}, members: {}",
        a.epoch(),
        a.members()
            .iter()
            .map(|m| match &m.credential {
                Credential::Basic { identity } => String::from_utf8_lossy(identity).into_owned(),
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(a.epoch_authenticator() == b.epoch_authenticator());
    assert!(a.epoch_authenticator() == c.epoch_authenticator());

    let m = a.encrypt(format!("hello at epoch {}", a.epoch()).as_bytes(), b"")?;
    deliver(&mut b, &m)?;
    deliver(&mut c, &m)?;
    let m = b.encrypt(b"hi Alice", b"")?;
    deliver(&mut a, &m)?;
    deliver(&mut c, &m)?;

    // Carol refreshes her keys: every run moves the group one epoch on.
    let out = c.update()?;
    deliver(&mut c, &out.commit)?;
    deliver(&mut a, &out.commit)?;
    deliver(&mut b, &out.commit)?;
    let m = c.encrypt(b"new keys, same chat", b"")?;
    deliver(&mut a, &m)?;
    deliver(&mut b, &m)?;
    println!("now at epoch {}; run me again to continue", a.epoch());
    Ok(())
}

/// Creates the group of three and returns each member's view.
fn first_run(
    alice: &mut Client,
    bob: &mut Client,
    carol: &mut Client,
) -> Result<(Group, Group, Group)> {
    println!("new chat");
    let mut a = alice.create_group(Default::default())?;
    let kp_b = bob.key_package(KeyPackageOptions::default())?;
    let kp_c = carol.key_package(KeyPackageOptions::default())?;
    let out = a.add(&[&kp_b, &kp_c])?;
    deliver(&mut a, &out.commit)?;
    let welcome = out
        .welcome
        .ok_or(arbor_mls::Error::Internal("no welcome"))?;
    let b = bob.join(&welcome, None)?;
    let c = carol.join(&welcome, None)?;
    Ok((a, b, c))
}
