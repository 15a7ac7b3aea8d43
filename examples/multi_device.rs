//! One user, several devices: Alice's phone and laptop chat with Bob. The
//! laptop loses its database and resyncs by external commit; the phone
//! stays a member. Then the phone adds Alice's tablet.
//!
//! ```text
//! cargo run --example multi_device
//! ```
//!
//! Each device keeps its state in its own SQLite database, in a fresh
//! directory under `$TMPDIR` removed at the end; the delivery service is
//! this process passing bytes along. Every step is checked: the example
//! exits 0 only if all of them hold.

use std::path::{Path, PathBuf};

use arbor_mls::{
    Client, DeviceIdentity, Error, Event, ExternalJoinOptions, Group, GroupOptions, KeyPackage,
    KeyPackageOptions, LeafIndex, Result,
};

fn io(e: std::io::Error) -> Error {
    Error::Storage(e.to_string())
}

/// Processes a commit from another member and merges it; returns the
/// leaves it removed.
fn follow(group: &mut Group, commit: &[u8]) -> Result<Vec<LeafIndex>> {
    match group.process(commit)? {
        Event::Commit { staged, .. } => {
            let removed = staged.summary.removed.clone();
            group.merge(*staged)?;
            Ok(removed)
        }
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// `from` sends `text`; every group in `to` must read exactly that.
fn say(from: &mut Group, to: &mut [&mut Group], text: &str) -> Result<()> {
    let message = from.encrypt(text.as_bytes(), b"")?;
    for g in to.iter_mut() {
        match g.process(&message)? {
            Event::Application { sender, data, .. } => {
                assert_eq!(sender, from.own_leaf());
                assert_eq!(data, text.as_bytes());
            }
            other => panic!("expected an application message, got {other:?}"),
        }
    }
    println!("  leaf {} says: {text}", from.own_leaf().0);
    Ok(())
}

/// The database files of `db` (SQLite, its WAL and the batch log).
fn delete_database(db: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-log"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        match std::fs::remove_file(PathBuf::from(path)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("arbor-multi-device-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(io)?;
    let result = run(&dir);
    std::fs::remove_dir_all(&dir).map_err(io)?;
    result
}

fn run(dir: &Path) -> Result<()> {
    let db = |name: &str| dir.join(format!("{name}.db"));
    let phone_id = DeviceIdentity::new("alice", "phone")?;
    let laptop_id = DeviceIdentity::new("alice", "laptop")?;
    let tablet_id = DeviceIdentity::new("alice", "tablet")?;
    let bob_id = DeviceIdentity::new("bob", "phone")?;

    // Each credential names its user and its device.
    let mut phone = Client::open(db("phone"), phone_id.identity())?;
    let mut laptop = Client::open(db("laptop"), laptop_id.identity())?;
    let mut bob = Client::open(db("bob"), bob_id.identity())?;
    assert_eq!(laptop.device().as_ref(), Some(&laptop_id));
    println!(
        "devices: {:?} {:?} {:?}",
        phone_id.uri(),
        laptop_id.uri(),
        bob_id.uri()
    );

    // The phone creates the group and adds the laptop and Bob.
    let mut p = phone.create_group(GroupOptions::default())?;
    let kp_laptop = laptop.key_package(KeyPackageOptions::default())?;
    let kp_bob = bob.key_package(KeyPackageOptions::default())?;
    let out = p.add(&[&kp_laptop, &kp_bob])?;
    p.merge_pending()?;
    let welcome = out.welcome.expect("an add has a Welcome");
    let mut l = laptop.join(&welcome, None)?;
    let mut b = bob.join(&welcome, None)?;
    say(&mut p, &mut [&mut l, &mut b], "hi from my phone")?;
    say(&mut l, &mut [&mut p, &mut b], "and from my laptop")?;
    let phone_leaf = p.own_leaf();
    let old_laptop_leaf = l.own_leaf();
    assert_eq!(
        b.leaves_of_user(b"alice"),
        vec![phone_leaf, old_laptop_leaf]
    );

    // The laptop loses its database: its keys and group state are gone.
    drop(l);
    drop(laptop);
    delete_database(&db("laptop"))?;
    let mut laptop = Client::open(db("laptop"), laptop_id.identity())?;
    assert!(laptop.groups()?.is_empty());
    println!("the laptop lost its state; it resyncs");

    // It rejoins from a GroupInfo the delivery service holds: one external
    // commit that removes its own old leaf, and only that one.
    let info = b.group_info(true)?;
    let (mut l, commit) = laptop.rejoin_device(&info, ExternalJoinOptions::default())?;
    assert_eq!(follow(&mut p, &commit)?, vec![old_laptop_leaf]);
    assert_eq!(follow(&mut b, &commit)?, vec![old_laptop_leaf]);

    // The phone is still there, in the same leaf, and in step.
    assert!(p.is_active());
    assert_eq!(b.leaf_of_device(&phone_id), Some(phone_leaf));
    assert_eq!(b.leaf_of_device(&laptop_id), Some(l.own_leaf()));
    assert_eq!(b.leaves_of_user(b"alice").len(), 2);
    assert_eq!(p.members().len(), 3);
    for g in [&p, &b] {
        assert_eq!(g.epoch(), l.epoch());
        assert_eq!(g.epoch_authenticator(), l.epoch_authenticator());
    }
    say(&mut p, &mut [&mut l, &mut b], "my phone is still here")?;
    say(&mut l, &mut [&mut p, &mut b], "my laptop is back")?;
    say(&mut b, &mut [&mut p, &mut l], "welcome back")?;

    // A third device: the phone sees it is a new device of a member, and
    // adds it.
    let mut tablet = Client::open(db("tablet"), tablet_id.identity())?;
    let kp_tablet = tablet.key_package(KeyPackageOptions::default())?;
    let device = DeviceIdentity::of_credential(KeyPackage::decode(&kp_tablet)?.credential())
        .map_err(|r| Error::Misuse(r.reason))?
        .expect("a basic credential names a device");
    assert_eq!(device, tablet_id);
    assert!(p.is_new_device_of_member(&device));
    assert!(!p.is_new_device_of_member(&laptop_id));
    let out = p.add(&[&kp_tablet])?;
    p.merge_pending()?;
    follow(&mut l, &out.commit)?;
    follow(&mut b, &out.commit)?;
    let mut t = tablet.join(&out.welcome.expect("an add has a Welcome"), None)?;
    assert_eq!(b.leaves_of_user(b"alice").len(), 3);
    assert_eq!(b.leaf_of_device(&tablet_id), Some(t.own_leaf()));
    say(
        &mut t,
        &mut [&mut p, &mut l, &mut b],
        "hello from my tablet",
    )?;
    say(
        &mut b,
        &mut [&mut p, &mut l, &mut t],
        "hi, all three of you",
    )?;

    println!(
        "ok: epoch {}, alice on leaves {:?}, bob on {:?}",
        b.epoch(),
        b.leaves_of_user(b"alice")
            .iter()
            .map(|l| l.0)
            .collect::<Vec<_>>(),
        b.leaves_of_user(b"bob")
            .iter()
            .map(|l| l.0)
            .collect::<Vec<_>>()
    );
    Ok(())
}
