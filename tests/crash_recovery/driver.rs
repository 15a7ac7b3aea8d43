//! The parent's side of the protocol: starts the child, sends commands,
//! kills it at random instants, and checks that every restart finds the
//! stored state of just before or just after the interrupted command.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::protocol::{ChildState, parse_state};

pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Proc {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// What the child wrote in answer to one command, as far as it got.
#[derive(Default)]
struct Lines {
    /// It read the command.
    began: bool,
    /// Digests announced before each storage write, in order.
    batches: Vec<String>,
    /// The reply, if it was written whole.
    reply: Option<String>,
}

impl Proc {
    /// Reads up to and including the reply, or to the end of the output.
    fn read_lines(&mut self) -> Lines {
        let mut lines = Lines::default();
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).unwrap_or(0);
            // A line cut short by the kill is no reply.
            if n == 0 || !line.ends_with('\n') {
                return lines;
            }
            let line = line.trim_end();
            if line == "BEGIN" {
                lines.began = true;
            } else if let Some(digest) = line.strip_prefix("BATCH ") {
                lines.batches.push(digest.to_string());
            } else {
                lines.reply = Some(line.to_string());
                return lines;
            }
        }
    }
}

/// A started child: the stored state it found, then its state once opened.
struct Started {
    proc: Proc,
    restored: String,
    state: ChildState,
}

/// Starts the child on `db`, folding its storage log every `log_batches`.
fn spawn(db: &str, log_batches: u64) -> Started {
    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .env("ARBOR_CRASH_CHILD", db)
        .env("ARBOR_CRASH_LOG_BATCHES", log_batches.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut proc = Proc {
        child,
        stdin,
        stdout,
    };
    let mut first = String::new();
    proc.stdout.read_line(&mut first).expect("read");
    let restored = first
        .trim_end()
        .strip_prefix("RESTORED ")
        .unwrap_or_else(|| panic!("not a RESTORED line: {first}"))
        .to_string();
    let opened = proc.read_lines();
    let state = parse_state(opened.reply.as_deref().expect("the child's first state"));
    assert_eq!(
        &state.stored,
        opened.batches.last().unwrap_or(&restored),
        "the stored state after opening is not the restored one plus what opening wrote"
    );
    Started {
        proc,
        restored,
        state,
    }
}

pub(crate) enum Outcome {
    /// The child answered: the command's transition happened and its
    /// output left.
    Done(String),
    /// Killed before answering; restarted in `state`. `persisted`: the
    /// restart found the state after the command's storage write, else
    /// the state before the command (the loaded state then equals
    /// `before`, checked by [`Driver::call`]).
    Killed {
        before: ChildState,
        state: ChildState,
        persisted: bool,
    },
}

/// How the kills landed.
#[derive(Debug, Default)]
pub(crate) struct Kills {
    pub(crate) total: u32,
    /// Before the child read the command.
    pub(crate) before_command: u32,
    /// Inside the command, before its write was stored.
    pub(crate) before_write: u32,
    /// After the write was stored, before the reply left.
    pub(crate) after_write: u32,
    /// After the reply left.
    pub(crate) after_reply: u32,
}

impl Kills {
    /// Kills that interrupted a transition under way: both outcomes of a
    /// crash inside one were restored.
    pub(crate) fn interrupted(&self) -> u32 {
        self.before_write + self.after_write
    }
}

pub(crate) struct Driver {
    db: String,
    proc: Proc,
    rng: Rng,
    /// Digest of what the child has stored, as last announced or restored.
    stored: String,
    /// How long each command took when it ran to the end (a moving
    /// average, in microseconds), so kills can aim inside it.
    took: HashMap<String, u64>,
    pub(crate) kills: Kills,
    pub(crate) transitions: u32,
}

impl Driver {
    /// Starts the child on an empty database.
    pub(crate) fn start(db: String, rng: Rng) -> Self {
        let started = spawn(&db, 3);
        assert!(started.state.group.is_none());
        Self {
            db,
            proc: started.proc,
            rng,
            stored: started.state.stored,
            took: HashMap::new(),
            kills: Kills::default(),
            transitions: 0,
        }
    }

    pub(crate) fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Sends `cmd`; with probability 1/`kill_one_in`, SIGKILLs the child
    /// after a random delay and restarts it. Checks that every command
    /// that answered wrote the one batch of its transition (none for a
    /// query or a refused message), and that a restart finds the stored
    /// state exactly as before the command or as its write left it.
    pub(crate) fn call(&mut self, cmd: &str, kill_one_in: u64) -> Outcome {
        let kill = self.rng.below(kill_one_in) == 0;
        let before = kill.then(|| self.state());
        writeln!(self.proc.stdin, "{cmd}").expect("send");
        self.proc.stdin.flush().expect("flush");
        let verb = cmd.split(' ').next().unwrap_or(cmd);
        let Some(before) = before else {
            let sent = Instant::now();
            let lines = self.proc.read_lines();
            let reply = lines
                .reply
                .clone()
                .unwrap_or_else(|| panic!("child died on {verb}"));
            let took = sent.elapsed().as_micros() as u64;
            self.took
                .entry(verb.to_string())
                .and_modify(|t| *t = (*t * 7 + took) / 8)
                .or_insert(took);
            self.answered(verb, &reply, &lines.batches);
            return Outcome::Done(reply);
        };
        // Uniform over twice the command's usual time (4 ms until it is
        // known): about half the kills land inside the command, on a slow
        // machine as on a fast one, the rest after its reply.
        let window = self.took.get(verb).map_or(4000, |t| 2 * t + 1);
        std::thread::sleep(Duration::from_micros(self.rng.below(window)));
        self.proc.child.kill().expect("kill");
        self.proc.child.wait().expect("wait");
        self.kills.total += 1;
        let lines = self.proc.read_lines();
        assert!(
            lines.batches.len() <= 1,
            "{verb} wrote {} batches: a transition is one",
            lines.batches.len()
        );
        let started = spawn(&self.db, 1 + self.rng.below(6));
        self.proc = started.proc;
        let restored = started.restored;
        let persisted = if restored == before.stored {
            false
        } else if lines.batches.last() == Some(&restored) {
            true
        } else {
            panic!(
                "{verb}: after the kill the stored state is neither the one before the command \
                 nor the one its write left ({} batch announced)",
                lines.batches.len()
            )
        };
        if let Some(reply) = lines.reply {
            assert_eq!(
                persisted,
                !lines.batches.is_empty(),
                "{verb} answered, but its write was not kept"
            );
            self.answered(verb, &reply, &lines.batches);
            self.stored = started.state.stored;
            self.kills.after_reply += 1;
            return Outcome::Done(reply);
        }
        self.stored = started.state.stored.clone();
        if persisted {
            self.kills.after_write += 1;
        } else if lines.began {
            self.kills.before_write += 1;
        } else {
            self.kills.before_command += 1;
        }
        if !persisted {
            assert_eq!(
                started.state.loaded(),
                before.loaded(),
                "{verb}: the stored state is the one before the command, but the child loads \
                 another"
            );
        }
        Outcome::Killed {
            before,
            state: started.state,
            persisted,
        }
    }

    /// Checks an answered command's writes and counts its transition.
    fn answered(&mut self, verb: &str, reply: &str, batches: &[String]) {
        // A transition is one batch; a query or a refused message writes
        // nothing (an error leaves the group, and its storage, as it was).
        let writes = usize::from(verb != "STATE" && !reply.starts_with("ERR "));
        assert_eq!(
            batches.len(),
            writes,
            "{verb} answered {:?} after {} storage writes, not {writes}",
            reply.split(' ').next().unwrap_or(""),
            batches.len()
        );
        if let Some(last) = batches.last() {
            self.stored = last.clone();
        }
        self.count(verb);
    }

    /// Counts a completed persisted transition (not the state queries).
    fn count(&mut self, verb: &str) {
        if verb != "STATE" && verb != "DISCARD" {
            self.transitions += 1;
        }
    }

    /// `call` without kills.
    pub(crate) fn ask(&mut self, cmd: &str) -> String {
        match self.call(cmd, u64::MAX) {
            Outcome::Done(line) => line,
            Outcome::Killed { .. } => unreachable!(),
        }
    }

    /// The child's state; its stored digest is the one last announced.
    pub(crate) fn state(&mut self) -> ChildState {
        let state = parse_state(&self.ask("STATE"));
        assert_eq!(
            state.stored, self.stored,
            "the child's stored state is not what its announced writes left"
        );
        state
    }

    /// Ends the child.
    pub(crate) fn stop(mut self) {
        let _ = self.proc.child.kill();
        let _ = self.proc.child.wait();
    }
}
