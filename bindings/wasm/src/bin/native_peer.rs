//! A native arbor-mls client driven over stdin/stdout, one command a line,
//! byte strings in hex: the native member of the Node tests' groups
//! (`tests/group.test.mjs`), and the native side of the wasm/native timings
//! (`scripts/bench.mjs`).
//!
//! Commands (answers are `ok ...` or `err <message>`):
//! `keypackage` -> `ok <key package>`;
//! `join <welcome>` -> `ok <epoch>`;
//! `add <key package>` -> `ok <commit> <welcome>` (pending until `merge`);
//! `merge` -> `ok <epoch>`;
//! `encrypt <plaintext>` -> `ok <message>`;
//! `process <message>` -> `ok application <sender> <data>`, `ok commit
//! <epoch>` (merged), `ok proposal`, `ok own <epoch>` or `ok other`;
//! `commit` -> `ok <commit>` (the received proposals, pending until `merge`);
//! `state` -> `ok <epoch> <epoch authenticator> <member count>`;
//! `bench <iterations>` -> `ok <JSON of median microseconds per operation>`.

use std::io::{BufRead, Write};
use std::time::Instant;

use arbor_mls::{Client, Event, Group, GroupOptions, KeyPackageOptions};

fn main() {
    let identity = std::env::args().nth(1).unwrap_or_else(|| "native".into());
    let mut peer = Peer {
        client: match Client::in_memory(identity.into_bytes()) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("cannot create the client: {e}");
                std::process::exit(1);
            }
        },
        group: None,
    };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let answer = match peer.run(&line) {
            Ok(text) => format!("ok {text}"),
            Err(e) => format!("err {}", e.replace('\n', " ")),
        };
        if writeln!(stdout, "{answer}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
    }
}

struct Peer {
    client: Client,
    group: Option<Group>,
}

type Answer = Result<String, String>;

impl Peer {
    fn group(&mut self) -> Result<&mut Group, String> {
        self.group.as_mut().ok_or_else(|| "no group yet".into())
    }

    fn run(&mut self, line: &str) -> Answer {
        let mut words = line.split_whitespace();
        let command = words.next().unwrap_or_default();
        let mut arg =
            || -> Result<Vec<u8>, String> { from_hex(words.next().ok_or("missing argument")?) };
        let e = |e: arbor_mls::Error| e.to_string();
        match command {
            "keypackage" => Ok(hex(&self
                .client
                .key_package(KeyPackageOptions::default())
                .map_err(e)?)),
            "join" => {
                let welcome = arg()?;
                let group = self.client.join(&welcome, None).map_err(e)?;
                let epoch = group.epoch();
                self.group = Some(group);
                Ok(epoch.to_string())
            }
            "add" => {
                let kp = arg()?;
                let out = self.group()?.add(&[&kp]).map_err(e)?;
                let welcome = out.welcome.ok_or("no welcome")?;
                Ok(format!("{} {}", hex(&out.commit), hex(&welcome)))
            }
            "merge" => {
                let group = self.group()?;
                group.merge_pending().map_err(e)?;
                Ok(group.epoch().to_string())
            }
            "encrypt" => {
                let plaintext = arg()?;
                Ok(hex(&self.group()?.encrypt(&plaintext, &[]).map_err(e)?))
            }
            "process" => {
                let message = arg()?;
                let group = self.group()?;
                match group.process(&message).map_err(e)? {
                    Event::Application { sender, data, .. } => {
                        Ok(format!("application {} {}", sender.0, hex(&data)))
                    }
                    Event::Commit { staged, .. } => {
                        group.merge(*staged).map_err(e)?;
                        Ok(format!("commit {}", group.epoch()))
                    }
                    Event::Proposal { .. } => Ok("proposal".into()),
                    Event::OwnCommitMerged { epoch } => Ok(format!("own {epoch}")),
                    _ => Ok("other".into()),
                }
            }
            "commit" => Ok(hex(&self.group()?.commit().map_err(e)?.commit)),
            "state" => {
                let group = self.group()?;
                Ok(format!(
                    "{} {} {}",
                    group.epoch(),
                    hex(group.epoch_authenticator()),
                    group.members().len()
                ))
            }
            "bench" => {
                let n: usize = words
                    .next()
                    .and_then(|w| w.parse().ok())
                    .ok_or("bench <iterations>")?;
                bench(n.max(1)).map_err(e)
            }
            other => Err(format!("unknown command {other:?}")),
        }
    }
}

/// The operations `scripts/bench.mjs` times in wasm, in the same order and
/// with the same storage kind (in memory), each iteration in a fresh group
/// of two: create, key package, add, join, encrypt, process (decrypt),
/// commit (an update and its processing by the other member).
fn bench(n: usize) -> arbor_mls::Result<String> {
    const OPS: [&str; 8] = [
        "create",
        "keyPackage",
        "add",
        "join",
        "encrypt",
        "decrypt",
        "commit",
        "processCommit",
    ];
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(n); OPS.len()];
    let plaintext = [0x42u8; 100];
    for _ in 0..n {
        let mut alice = Client::in_memory(b"alice".to_vec())?;
        let mut bob = Client::in_memory(b"bob".to_vec())?;
        let mut time =
            |i: usize, start: Instant| samples[i].push(start.elapsed().as_secs_f64() * 1e6);

        let t = Instant::now();
        let mut a = alice.create_group(GroupOptions::default())?;
        time(0, t);
        let t = Instant::now();
        let kp = bob.key_package(KeyPackageOptions::default())?;
        time(1, t);
        let t = Instant::now();
        let out = a.add(&[&kp])?;
        a.merge_pending()?;
        time(2, t);
        let welcome = out.welcome.unwrap_or_default();
        let t = Instant::now();
        let mut b = bob.join(&welcome, None)?;
        time(3, t);
        let t = Instant::now();
        let message = a.encrypt(&plaintext, &[])?;
        time(4, t);
        let t = Instant::now();
        b.process(&message)?;
        time(5, t);
        let t = Instant::now();
        let commit = a.update()?;
        a.merge_pending()?;
        time(6, t);
        let t = Instant::now();
        if let Event::Commit { staged, .. } = b.process(&commit.commit)? {
            b.merge(*staged)?;
        }
        time(7, t);
    }
    let fields: Vec<String> = OPS
        .iter()
        .zip(samples.iter_mut())
        .map(|(op, s)| format!("\"{op}\":{:.1}", median(s)))
        .collect();
    Ok(format!("{{{}}}", fields.join(",")))
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(0.0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err("odd-length hex".into());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| "invalid hex".to_string())
        })
        .collect()
}
