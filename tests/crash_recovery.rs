//! Crash safety: a child process holding one persisted member
//! is SIGKILLed at random points while the parent drives it through
//! commits (with and without path), adds, removes, application messages
//! both ways and key package use, with in-process peers. After every
//! restart the child's state must be the one before or after the
//! interrupted transition, go on with the peers (epoch authenticators
//! match), and never reuse a sending generation (the peers decrypt every
//! message it emitted; a reused generation is refused by their ratchets).
//!
//! Each child folds its storage log every 1 to 6 batches (picked per
//! start), so kills also land in folds and in restarts with batches still
//! logged.
//!
//! `harness = false`: the binary is both the parent and, with
//! `ARBOR_CRASH_CHILD=<db>`, the child. Lines of the protocol are hex.
//! `ARBOR_CRASH_SEED` replays a run; `ARBOR_CRASH_TRANSITIONS` (default
//! 1,000) sets how many completed transitions it runs to.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use arbor_mls::storage::{self, Durability, LogLimits, SqliteStorage};
use arbor_mls::wire::LeafIndex;
use arbor_mls::{Client, Event, Group, KeyPackageOptions};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

// ---------------------------------------------------------------- child

fn child(db: &str) {
    // Small log limits (set by the parent) make kills land in folds too.
    let batches = std::env::var("ARBOR_CRASH_LOG_BATCHES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(LogLimits::DEFAULT.batches);
    let storage = SqliteStorage::open(db, Durability::Durable)
        .expect("open")
        .with_log_limits(LogLimits {
            batches,
            ..LogLimits::DEFAULT
        });
    let mut client = Client::builder("alice")
        .storage(storage::shared(storage))
        .build()
        .expect("open");
    let mut group: Option<Group> = client
        .groups()
        .expect("groups")
        .first()
        .map(|id| client.load_group(id).expect("load"));
    let out = std::io::stdout();
    let mut out = out.lock();
    let state = |g: &Option<Group>| match g {
        None => "STATE none".to_string(),
        Some(g) => format!(
            "STATE {} {} {} {}",
            u8::from(g.is_active()),
            g.epoch(),
            hex(g.epoch_authenticator()),
            u8::from(g.has_pending_commit())
        ),
    };
    writeln!(out, "{}", state(&group)).expect("write");
    out.flush().expect("flush");
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("read");
        let mut parts = line.split(' ');
        let cmd = parts.next().unwrap_or("");
        let arg = parts.next().unwrap_or("");
        macro_rules! g {
            () => {
                group.as_mut().expect("no group")
            };
        }
        let reply = match cmd {
            "KP" => format!(
                "KP {}",
                hex(&client
                    .key_package(KeyPackageOptions::default())
                    .expect("kp"))
            ),
            "JOIN" => {
                group = Some(client.join(&unhex(arg), None).expect("join"));
                state(&group)
            }
            "ENC" => format!(
                "MSG {}",
                hex(&g!().encrypt(&unhex(arg), b"").expect("encrypt"))
            ),
            "RECV" => match g!().process(&unhex(arg)) {
                Ok(Event::Application { data, .. }) => format!("APP {}", hex(&data)),
                Ok(Event::Commit { staged, .. }) => {
                    g!().merge(*staged).expect("merge");
                    state(&group)
                }
                Ok(_) => state(&group),
                Err(e) => format!("ERR {}", hex(e.to_string().as_bytes())),
            },
            "UPDATE" => format!("COMMIT {}", hex(&g!().update().expect("update").commit)),
            "ADD" => {
                let out = g!().add(&[&unhex(arg)]).expect("add");
                format!(
                    "COMMIT {} {}",
                    hex(&out.commit),
                    hex(&out.welcome.expect("welcome"))
                )
            }
            "REMOVE" => {
                let leaf = LeafIndex(arg.parse().expect("leaf"));
                format!("COMMIT {}", hex(&g!().remove(leaf).expect("remove").commit))
            }
            "DISCARD" => {
                g!().discard_pending();
                state(&group)
            }
            "STATE" => state(&group),
            other => panic!("unknown command {other}"),
        };
        writeln!(out, "{reply}").expect("write");
        out.flush().expect("flush");
    }
}

// --------------------------------------------------------------- parent

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Proc {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

#[derive(Debug, Clone, PartialEq)]
struct ChildState {
    active: bool,
    epoch: u64,
    auth: Vec<u8>,
    pending: bool,
}

fn parse_state(line: &str) -> Option<ChildState> {
    let p: Vec<&str> = line.trim().split(' ').collect();
    match p.as_slice() {
        ["STATE", "none"] => None,
        ["STATE", a, e, auth, pending] => Some(ChildState {
            active: *a == "1",
            epoch: e.parse().expect("epoch"),
            auth: unhex(auth),
            pending: *pending == "1",
        }),
        _ => panic!("not a state line: {line}"),
    }
}

struct Driver {
    db: String,
    proc: Proc,
    rng: Rng,
    kills: u32,
    transitions: u32,
    interrupted: u32,
}

/// Starts the child on `db`, folding its storage log every `log_batches`.
fn spawn(db: &str, log_batches: u64) -> (Proc, Option<ChildState>) {
    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .env("ARBOR_CRASH_CHILD", db)
        .env("ARBOR_CRASH_LOG_BATCHES", log_batches.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read state");
    let state = parse_state(&line);
    (
        Proc {
            child,
            stdin,
            stdout,
        },
        state,
    )
}

enum Outcome {
    /// The child answered: the transition happened and its output left.
    Done(String),
    /// Killed before answering; the child was restarted in `ChildState`.
    Killed(Option<ChildState>),
}

impl Driver {
    /// Sends `cmd`; with probability 1/`kill_one_in`, SIGKILLs the child
    /// after a random delay and restarts it.
    fn call(&mut self, cmd: &str, kill_one_in: u64) -> Outcome {
        writeln!(self.proc.stdin, "{cmd}").expect("send");
        self.proc.stdin.flush().expect("flush");
        if self.rng.below(kill_one_in) == 0 {
            std::thread::sleep(Duration::from_micros(self.rng.below(4000)));
            self.proc.child.kill().expect("kill");
            self.proc.child.wait().expect("wait");
            self.kills += 1;
            // A reply already in the pipe left the library before the kill.
            let mut line = String::new();
            let answered =
                self.proc.stdout.read_line(&mut line).is_ok_and(|n| n > 0) && line.ends_with('\n');
            let (proc, state) = spawn(&self.db, 1 + self.rng.below(6));
            self.proc = proc;
            if answered {
                self.count(cmd);
                return Outcome::Done(line.trim().to_string());
            }
            self.interrupted += 1;
            return Outcome::Killed(state);
        }
        let mut line = String::new();
        self.proc.stdout.read_line(&mut line).expect("reply");
        assert!(!line.is_empty(), "child died on {cmd}");
        self.count(cmd);
        Outcome::Done(line.trim().to_string())
    }

    /// Counts a completed persisted transition (not the state queries).
    fn count(&mut self, cmd: &str) {
        if !cmd.starts_with("STATE") && !cmd.starts_with("DISCARD") {
            self.transitions += 1;
        }
    }

    /// `call` without kills.
    fn ask(&mut self, cmd: &str) -> String {
        match self.call(cmd, u64::MAX) {
            Outcome::Done(line) => line,
            Outcome::Killed(_) => unreachable!(),
        }
    }
}

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
    let s = parse_state(&d.ask("STATE")).expect("child has a group");
    assert_eq!(s.epoch, bob.epoch(), "child epoch");
    assert_eq!(
        s.auth,
        bob.epoch_authenticator(),
        "epoch authenticators differ"
    );
    assert!(!s.pending);
}

fn main() {
    if let Ok(db) = std::env::var("ARBOR_CRASH_CHILD") {
        child(&db);
        return;
    }
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
    println!(
        "crash_recovery: seed {seed} (ARBOR_CRASH_SEED to replay), until {target} transitions \
         and {min_kills} kills"
    );
    let dir = std::env::temp_dir().join(format!("arbor-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("child.db").display().to_string();
    let started = Instant::now();
    let (proc, state) = spawn(&db, 3);
    assert!(state.is_none());
    let mut d = Driver {
        db,
        proc,
        rng: Rng(seed),
        kills: 0,
        transitions: 0,
        interrupted: 0,
    };

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
    while d.transitions < target || d.kills < min_kills {
        step += 1;
        if !joined {
            // Key package use: the child publishes one, bob adds it, the
            // child joins from the Welcome (both may be interrupted).
            let kp = loop {
                if let Outcome::Done(line) = d.call("KP", 8) {
                    break unhex(line.strip_prefix("KP ").expect("KP reply"));
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
                    Outcome::Done(_) => break,
                    Outcome::Killed(Some(s)) if s.active && s.epoch == bob.epoch() => break,
                    Outcome::Killed(_) => {}
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
        match d.rng.below(10) {
            // Child sends: every emitted message must decrypt at the peers.
            0..=2 => {
                sent += 1;
                let text = format!("m{sent}");
                if let Outcome::Done(line) = d.call(&format!("ENC {}", hex(text.as_bytes())), 12) {
                    let msg = unhex(line.strip_prefix("MSG ").expect("MSG"));
                    match deliver(&mut bob, &msg) {
                        Event::Application { data, .. } => assert_eq!(data, text.as_bytes()),
                        e => panic!("{e:?}"),
                    }
                    for p in &mut peers {
                        deliver(p, &msg);
                    }
                }
            }
            // Bob sends; the child decrypts (once: a restart after the
            // ratchet step was stored refuses the replay).
            3 | 4 => {
                let msg = hex(&bob.encrypt(b"from bob", b"").expect("encrypt"));
                let mut delivered = false;
                while !delivered {
                    match d.call(&format!("RECV {msg}"), 12) {
                        Outcome::Done(line) => {
                            assert!(
                                line == format!("APP {}", hex(b"from bob"))
                                    || line.starts_with("ERR "),
                                "{line}"
                            );
                            delivered = true;
                        }
                        Outcome::Killed(_) => {}
                    }
                }
            }
            // Child commits: update (path), add (no path), remove (path).
            5..=7 => {
                let kind = d.rng.below(3);
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
                                Outcome::Done(_) => break,
                                Outcome::Killed(Some(s)) if s.epoch == bob.epoch() => break,
                                Outcome::Killed(_) => {}
                            }
                        }
                    }
                    Outcome::Killed(s) => {
                        let s = s.expect("group state");
                        assert_eq!(
                            (s.epoch, s.auth.clone()),
                            before,
                            "state after an unsent commit"
                        );
                        // The commit never left: drop it, nobody was added
                        // or removed.
                        if s.pending {
                            d.ask("DISCARD");
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
                if peers.len() < 5 && d.rng.below(2) == 0 {
                    let mut c = Client::builder(format!("erin{step}"))
                        .build()
                        .expect("erin");
                    let kp = c.key_package(KeyPackageOptions::default()).expect("kp");
                    let proposal = bob.propose_add(&kp).expect("propose");
                    for p in &mut peers {
                        deliver(p, &proposal);
                    }
                    // Sent again after a kill: cached once, or refused as
                    // a replay if it was stored before the kill.
                    while !matches!(
                        d.call(&format!("RECV {}", hex(&proposal)), 6),
                        Outcome::Done(_)
                    ) {}
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
                        Outcome::Done(_) => break,
                        Outcome::Killed(s) => {
                            let s = s.expect("state");
                            let now = (s.epoch, s.auth);
                            assert!(
                                now == before || now == after,
                                "state neither before nor after"
                            );
                            if now == after {
                                break;
                            }
                        }
                    }
                }
                if let (Some(mut c), Some(w)) = (erin, out.welcome) {
                    peers.push(c.join(&w, None).expect("erin joins"));
                }
            }
            // Bob removes the child; it rejoins with a new key package.
            _ => {
                if d.rng.below(3) != 0 {
                    continue;
                }
                let out = bob.remove(child_leaf).expect("remove child");
                bob.merge_pending().expect("merge");
                for p in &mut peers {
                    deliver(p, &out.commit);
                }
                loop {
                    match d.call(&format!("RECV {}", hex(&out.commit)), 6) {
                        Outcome::Done(_) => break,
                        Outcome::Killed(s) if !s.as_ref().expect("state").active => break,
                        Outcome::Killed(_) => {}
                    }
                }
                joined = false;
                continue;
            }
        }
        check_in_sync(&mut d, &bob);
    }
    let _ = d.proc.child.kill();
    let _ = d.proc.child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "crash_recovery: {} transitions completed, {} SIGKILLs ({} interrupted a transition), \
         {:.1} s",
        d.transitions,
        d.kills,
        d.interrupted,
        started.elapsed().as_secs_f64()
    );
    // Each kill struck a random instant of a persisted transition, or
    // just after it; the loop ran until both counts were reached.
    assert!(d.transitions >= target && d.kills >= min_kills);
}
