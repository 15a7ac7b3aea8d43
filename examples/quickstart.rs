//! Two parties: Alice creates a group, adds Bob, and they exchange
//! end-to-end encrypted messages.
//!
//! `cargo run --example quickstart`

use arbor_mls::{Client, Event, GroupOptions, KeyPackageOptions};

fn main() -> arbor_mls::Result<()> {
    let mut alice = Client::builder("alice").build()?;
    let mut bob = Client::builder("bob").build()?;

    // Bob publishes a key package; Alice creates a group and adds him.
    let bob_key_package = bob.key_package(KeyPackageOptions::default())?;
    let mut alice_group = alice.create_group(GroupOptions::default())?;
    let commit = alice_group.add(&[&bob_key_package])?;
    // The delivery service echoes Alice's commit; processing it merges it.
    alice_group.process(&commit.commit)?;
    let welcome = commit.welcome.expect("adding a member produces a Welcome");
    let mut bob_group = bob.join(&welcome, None)?;
    println!(
        "epoch {}: {} members, verification code {} (Alice) / {} (Bob)",
        bob_group.epoch(),
        bob_group.members().len(),
        alice_group.verification_code()?,
        bob_group.verification_code()?,
    );

    let ciphertext = alice_group.encrypt(b"Hi Bob!", b"")?;
    if let Event::Application { data, sender, .. } = bob_group.process(&ciphertext)? {
        println!(
            "Bob got from leaf {}: {}",
            sender.0,
            String::from_utf8_lossy(&data)
        );
    }
    let reply = bob_group.encrypt(b"Hi Alice!", b"")?;
    if let Event::Application { data, .. } = alice_group.process(&reply)? {
        println!("Alice got: {}", String::from_utf8_lossy(&data));
    }
    Ok(())
}
