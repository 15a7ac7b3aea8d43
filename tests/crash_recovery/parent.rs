//! The parent: drives a child process through transitions, SIGKILLing it
//! at random instants (see `tests/crash_recovery.rs`).

use std::time::Instant;

use arbor_mls::wire::LeafIndex;
use arbor_mls::{Client, Event, Group, KeyPackageOptions};

use crate::driver::{Driver, Outcome, Rng};
use crate::protocol::{describe, hex, parse_state, unhex};

fn deliver(g: &mut Group, msg: &[u8]) -> Event {
    match g.process(msg).expect("peer process") {
        Event::Commit { staged, .. } => {
            g.merge(*staged).expect("peer merge");
            Event::OwnCommitMerged { epoch: g.epoch() }
        }
        e => e,
    }
}

fn check_in_sync(d: &mut Driver, bob: &Group) {
    let s = d.state();
    let g = s.group();
    assert_eq!(g.epoch, bob.epoch(), "child epoch");
    assert_eq!(
        g.auth,
        bob.epoch_authenticator(),
        "epoch authenticators differ"
    );
    assert!(!g.pending);
}

/// The category of an `ERR` reply.
fn refusal(line: &str) -> Option<&str> {
    line.strip_prefix("ERR ")?.split(' ').next()
}

/// Runs the crash test to the end; `name` labels its lines (the child is
/// the running binary itself).
pub(crate) fn run(name: &str) {
    let seed = std::env::var("ARBOR_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    let target: u32 = std::env::var("ARBOR_CRASH_TRANSITIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let min_kills = 50;
    // Kills inside a transition, on each side of its write: a run of the
    // default length usually has 20 to 50 before and 10 to 18 after. The
    // cap turns "kills never interrupt anything" into a failure instead of
    // an endless run.
    let min_each_side = 5;
    let max_kills = 1000;
    println!(
        "{name}: seed {seed} (ARBOR_CRASH_SEED to replay), until {target} transitions, \
         {min_kills} kills and {min_each_side} on each side of a transition's write"
    );
    let dir = std::env::temp_dir().join(format!("arbor-crash-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("child.db").display().to_string();
    let started = Instant::now();
    let mut d = Driver::start(db, Rng(seed));

    let mut bob_client = Client::builder("bob").build().expect("bob");
    let mut bob = bob_client.create_group(Default::default()).expect("group");
    let mut carol_client = Client::builder("carol").build().expect("carol");
    let kp = carol_client
        .key_package(KeyPackageOptions::default())
        .expect("kp");
    let out = bob.add(&[&kp]).expect("add carol");
    bob.merge_pending().expect("merge");
    let carol = carol_client
        .join(&out.welcome.expect("welcome"), None)
        .expect("join");
    // Carol, then the members the child added (removed newest first).
    let mut peers: Vec<Group> = vec![carol];
    let mut child_leaf = LeafIndex(0);
    let mut joined = false;
    let mut sent = 0u64;

    let mut step = 0;
    while d.transitions < target
        || d.kills.total < min_kills
        || d.kills.before_write < min_each_side
        || d.kills.after_write < min_each_side
    {
        assert!(
            d.kills.total <= max_kills,
            "{} kills and still not {min_each_side} on each side of a transition's write: {:?}",
            d.kills.total,
            d.kills
        );
        step += 1;
        if !joined {
            // Key package use: the child publishes one, bob adds it, the
            // child joins from the Welcome (both may be interrupted).
            let kp = loop {
                match d.call("KP", 8) {
                    Outcome::Done(line) => {
                        break unhex(line.strip_prefix("KP ").expect("KP reply"));
                    }
                    Outcome::Killed {
                        before,
                        state,
                        persisted: true,
                    } => {
                        // Stored, never published: one key package more.
                        assert_eq!(state.key_packages, before.key_packages + 1, "KP");
                        assert_eq!(state.group, before.group, "KP");
                    }
                    Outcome::Killed { .. } => {}
                }
            };
            let out = bob.add(&[&kp]).expect("add child");
            for p in &mut peers {
                deliver(p, &out.commit);
            }
            bob.merge_pending().expect("merge");
            let welcome = hex(&out.welcome.expect("welcome"));
            loop {
                match d.call(&format!("JOIN {welcome}"), 8) {
                    Outcome::Done(line) => {
                        assert!(parse_state(&line).group().active, "JOIN");
                        break;
                    }
                    Outcome::Killed {
                        before,
                        state,
                        persisted: true,
                    } => {
                        // Joined, and the key package's private keys gone.
                        let g = state.group();
                        assert!(g.active && !g.pending, "JOIN: {g:?}");
                        assert_eq!(g.epoch, bob.epoch(), "JOIN");
                        assert_eq!(g.auth, bob.epoch_authenticator(), "JOIN");
                        assert_eq!(state.key_packages + 1, before.key_packages, "JOIN");
                        break;
                    }
                    Outcome::Killed { .. } => {}
                }
            }
            check_in_sync(&mut d, &bob);
            let alice = arbor_mls::crypto::credential::Credential::basic("alice");
            child_leaf = bob
                .members()
                .iter()
                .find(|m| m.credential == alice)
                .map(|m| m.index)
                .expect("child leaf");
            joined = true;
            continue;
        }
        let before = (bob.epoch(), bob.epoch_authenticator().to_vec());
        match d.rng().below(10) {
            // Child sends: every emitted message must decrypt at the peers.
            0..=2 => {
                sent += 1;
                let text = format!("m{sent}");
                match d.call(&format!("ENC {}", hex(text.as_bytes())), 12) {
                    Outcome::Done(line) => {
                        let msg = unhex(line.strip_prefix("MSG ").expect("MSG"));
                        match deliver(&mut bob, &msg) {
                            Event::Application { data, .. } => {
                                assert_eq!(data, text.as_bytes())
                            }
                            e => panic!("{e:?}"),
                        }
                        for p in &mut peers {
                            deliver(p, &msg);
                        }
                    }
                    // The sending ratchet stepped; the message never left.
                    Outcome::Killed {
                        before,
                        state,
                        persisted: true,
                    } => assert_eq!(state.loaded(), before.loaded(), "ENC"),
                    Outcome::Killed { .. } => {}
                }
            }
            // Bob sends; the child decrypts it, once: redelivered after a
            // kill it must decrypt if the restart found it unconsumed and
            // be refused as a replay if it found it consumed.
            3 | 4 => {
                let msg = hex(&bob.encrypt(b"from bob", b"").expect("encrypt"));
                let mut consumed = false;
                loop {
                    match d.call(&format!("RECV {msg}"), 12) {
                        Outcome::Done(line) => {
                            if consumed {
                                assert_eq!(
                                    refusal(&line),
                                    Some("Replay"),
                                    "bob's message, consumed in the stored state, delivered \
                                     again: {}",
                                    describe(&line)
                                );
                            } else {
                                assert_eq!(
                                    line,
                                    format!("APP {}", hex(b"from bob")),
                                    "bob's message, not consumed in the stored state: {}",
                                    describe(&line)
                                );
                            }
                            break;
                        }
                        Outcome::Killed {
                            before,
                            state,
                            persisted: true,
                        } => {
                            assert!(!consumed, "a replayed message changed the stored state");
                            assert_eq!(state.loaded(), before.loaded(), "RECV application");
                            consumed = true;
                        }
                        Outcome::Killed { .. } => {}
                    }
                }
            }
            // Child commits: update (path), add (no path), remove (path).
            5..=7 => {
                let kind = d.rng().below(3);
                let mut dave = None;
                let cmd = match kind {
                    0 => "UPDATE".to_string(),
                    1 if peers.len() < 5 => {
                        let mut c = Client::builder(format!("dave{step}"))
                            .build()
                            .expect("dave");
                        let kp = c.key_package(KeyPackageOptions::default()).expect("kp");
                        dave = Some(c);
                        format!("ADD {}", hex(&kp))
                    }
                    _ if peers.len() > 1 => {
                        let leaf = peers.last().expect("dave").own_leaf();
                        format!("REMOVE {}", leaf.0)
                    }
                    _ => "UPDATE".to_string(),
                };
                match d.call(&cmd, 6) {
                    Outcome::Done(line) => {
                        let mut parts = line.strip_prefix("COMMIT ").expect("COMMIT").split(' ');
                        let commit = unhex(parts.next().expect("commit"));
                        if cmd.starts_with("REMOVE") {
                            peers.pop();
                        }
                        deliver(&mut bob, &commit);
                        for p in &mut peers {
                            deliver(p, &commit);
                        }
                        if let (Some(mut c), Some(w)) = (dave, parts.next()) {
                            peers.push(c.join(&unhex(w), None).expect("dave joins"));
                        }
                        // The echo merges the (possibly restored) pending commit.
                        loop {
                            match d.call(&format!("RECV {}", hex(&commit)), 8) {
                                Outcome::Done(line) => {
                                    assert!(!line.starts_with("ERR "), "echo: {}", describe(&line));
                                    break;
                                }
                                Outcome::Killed {
                                    state,
                                    persisted: true,
                                    ..
                                } => {
                                    let g = state.group();
                                    assert_eq!(g.epoch, bob.epoch(), "echo");
                                    assert_eq!(g.auth, bob.epoch_authenticator(), "echo");
                                    assert!(!g.pending, "echo");
                                    break;
                                }
                                Outcome::Killed { .. } => {}
                            }
                        }
                    }
                    Outcome::Killed {
                        before: was,
                        state,
                        persisted,
                    } => {
                        let g = state.group();
                        assert_eq!(
                            (g.epoch, g.auth.clone()),
                            before,
                            "state after an unsent commit"
                        );
                        // Stored: the commit is pending; else nothing changed.
                        if persisted {
                            assert!(g.pending, "{cmd}: the stored commit is not pending");
                            assert_eq!(g.proposals, was.group().proposals, "{cmd}");
                            assert_eq!(state.key_packages, was.key_packages, "{cmd}");
                            // The commit never left: drop it, nobody was
                            // added or removed.
                            let s = parse_state(&d.ask("DISCARD"));
                            assert!(!s.group().pending, "DISCARD");
                        }
                    }
                }
            }
            // Bob commits; the child merges it. Half the time (while the
            // group is small) Bob first proposes adding a member, which the
            // child caches (a persisted transition of its own), and then
            // commits it by reference: the child can merge only if the
            // cached proposal survived its restarts.
            8 => {
                let mut erin = None;
                if peers.len() < 5 && d.rng().below(2) == 0 {
                    let mut c = Client::builder(format!("erin{step}"))
                        .build()
                        .expect("erin");
                    let kp = c.key_package(KeyPackageOptions::default()).expect("kp");
                    let proposal = bob.propose_add(&kp).expect("propose");
                    for p in &mut peers {
                        deliver(p, &proposal);
                    }
                    // Cached once: redelivered after a kill it is cached
                    // if the restart found it uncached, and refused as a
                    // replay if it found it cached.
                    let cached_before = d.state().group().proposals;
                    let mut cached = false;
                    loop {
                        match d.call(&format!("RECV {}", hex(&proposal)), 6) {
                            Outcome::Done(line) if cached => {
                                assert_eq!(
                                    refusal(&line),
                                    Some("Replay"),
                                    "bob's proposal, cached in the stored state, delivered \
                                     again: {}",
                                    describe(&line)
                                );
                                break;
                            }
                            Outcome::Done(line) => {
                                let g = parse_state(&line).group().clone();
                                assert_eq!(g.proposals, cached_before + 1, "proposal");
                                break;
                            }
                            Outcome::Killed {
                                before,
                                state,
                                persisted: true,
                            } => {
                                assert!(!cached, "a replayed proposal changed the stored state");
                                let (g, was) = (state.group(), before.group());
                                assert_eq!(g.proposals, was.proposals + 1, "proposal");
                                assert_eq!((g.epoch, &g.auth), (was.epoch, &was.auth));
                                cached = true;
                            }
                            Outcome::Killed { .. } => {}
                        }
                    }
                    erin = Some(c);
                }
                let out = if erin.is_some() {
                    bob.commit().expect("bob commits the proposal")
                } else {
                    bob.update().expect("bob update")
                };
                bob.merge_pending().expect("merge");
                for p in &mut peers {
                    deliver(p, &out.commit);
                }
                let after = (bob.epoch(), bob.epoch_authenticator().to_vec());
                loop {
                    match d.call(&format!("RECV {}", hex(&out.commit)), 6) {
                        Outcome::Done(line) => {
                            assert!(
                                !line.starts_with("ERR "),
                                "bob's commit: {}",
                                describe(&line)
                            );
                            break;
                        }
                        Outcome::Killed {
                            state, persisted, ..
                        } => {
                            let g = state.group();
                            let now = (g.epoch, g.auth.clone());
                            if persisted {
                                assert_eq!(now, after, "stored merge of bob's commit");
                                assert!(!g.pending);
                                break;
                            }
                            assert_eq!(now, before, "bob's commit not stored");
                        }
                    }
                }
                if let (Some(mut c), Some(w)) = (erin, out.welcome) {
                    peers.push(c.join(&w, None).expect("erin joins"));
                }
            }
            // Bob removes the child; it rejoins with a new key package.
            _ => {
                if d.rng().below(3) != 0 {
                    continue;
                }
                let out = bob.remove(child_leaf).expect("remove child");
                bob.merge_pending().expect("merge");
                for p in &mut peers {
                    deliver(p, &out.commit);
                }
                loop {
                    match d.call(&format!("RECV {}", hex(&out.commit)), 6) {
                        Outcome::Done(line) => {
                            assert!(!parse_state(&line).group().active, "removal");
                            break;
                        }
                        Outcome::Killed {
                            state,
                            persisted: true,
                            ..
                        } => {
                            assert!(!state.group().active, "stored removal");
                            break;
                        }
                        Outcome::Killed { .. } => {}
                    }
                }
                joined = false;
                continue;
            }
        }
        check_in_sync(&mut d, &bob);
    }
    let kills = std::mem::take(&mut d.kills);
    let transitions = d.transitions;
    d.stop();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{name}: {transitions} transitions completed, {} SIGKILLs ({} interrupted a \
         transition: {} before its write was stored, {} after; {} before the child read the \
         command, {} after its reply), {:.1} s",
        kills.total,
        kills.interrupted(),
        kills.before_write,
        kills.after_write,
        kills.before_command,
        kills.after_reply,
        started.elapsed().as_secs_f64()
    );
}
