//! Spawning `arbor-ds` instances (the real binary) and members that talk
//! to them over HTTP.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use arbor_ds::{CommitReply, DsClient};
use arbor_mls::{Client, Event, Group};

/// A running instance; killed when dropped.
pub struct Ds {
    child: Child,
    pub client: DsClient,
    stderr: mpsc::Receiver<String>,
}

impl Ds {
    /// Starts `arbor-ds` with `args` (after `--listen 127.0.0.1:0`) and
    /// the environment `env`, and waits until it listens.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_arbor-ds"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn arbor-ds");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("arbor-ds output");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("arbor-ds did not start: {line:?}"))
            .to_owned();
        let (tx, stderr) = mpsc::channel();
        let err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("[arbor-ds] {line}");
                let _ = tx.send(line);
            }
        });
        Self {
            child,
            client: DsClient::new(addr),
            stderr,
        }
    }

    /// Waits (at most 30 s) for a line of standard error containing `text`.
    pub fn wait_for_stderr(&self, text: &str) {
        loop {
            let line = self
                .stderr
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("arbor-ds never said {text:?}"));
            if line.contains(text) {
                return;
            }
        }
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }
}

impl Drop for Ds {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A member: its client, its one group and its cursor in the group's log.
pub struct Member {
    pub name: String,
    pub client: Client,
    pub group: Option<Group>,
    pub cursor: u64,
    /// Application messages received, in order.
    pub received: Vec<Vec<u8>>,
    /// Commits of others merged, and own commits merged.
    pub commits: usize,
}

impl Member {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            client: Client::builder(name).build().expect("client"),
            group: None,
            cursor: 0,
            received: Vec::new(),
            commits: 0,
        }
    }

    pub fn group(&mut self) -> &mut Group {
        self.group.as_mut().expect("in the group")
    }

    pub fn group_id(&self) -> Vec<u8> {
        self.group
            .as_ref()
            .expect("in the group")
            .group_id()
            .to_vec()
    }

    /// Processes everything after the cursor.
    pub fn sync(&mut self, ds: &DsClient) {
        let group_id = self.group_id();
        loop {
            let batch = ds.fetch(&group_id, &self.name, self.cursor).expect("fetch");
            if batch.is_empty() {
                return;
            }
            for (seq, message) in batch {
                assert!(seq > self.cursor, "the log moves forward");
                self.cursor = seq;
                let name = self.name.clone();
                let group = self.group();
                match group
                    .process(&message)
                    .unwrap_or_else(|e| panic!("{name}: message {seq}: {e}"))
                {
                    Event::Commit { staged, .. } => {
                        group.merge(*staged).expect("merge");
                        self.commits += 1;
                    }
                    Event::OwnCommitMerged { .. } => self.commits += 1,
                    Event::Application { data, .. } => self.received.push(data),
                    Event::Proposal { .. } => {}
                    other => panic!("{name}: unexpected {other:?}"),
                }
            }
        }
    }

    /// Commits an update through `ds`; on "epoch taken" drops it.
    pub fn commit_update(&mut self, ds: &DsClient) -> CommitReply {
        let group_id = self.group_id();
        let commit = self.group().update().expect("update").commit;
        let reply = ds
            .commit(&group_id, &self.name, &commit, None)
            .expect("commit");
        if matches!(reply, CommitReply::EpochTaken(_)) {
            self.group().discard_pending();
        }
        reply
    }
}
