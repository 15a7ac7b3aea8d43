//! The child: one persisted member, driven by commands on stdin.

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

use arbor_mls::storage::{self, Durability, LogLimits, SqliteStorage};
use arbor_mls::wire::LeafIndex;
use arbor_mls::{Client, Event, Group, KeyPackageOptions};

use crate::protocol::{hex, state_line, unhex};
use crate::recording_storage::{Mirror, RecordingStorage};

/// Opens the member stored in `db` and answers commands until stdin ends.
/// First lines: `RESTORED <digest>` (the stored state as found, before the
/// client reads it), then the `BATCH` lines of anything opening writes,
/// then `STATE`.
pub(crate) fn run(db: &str) {
    // Small log limits (set by the parent) make kills land in folds too.
    let batches = std::env::var("ARBOR_CRASH_LOG_BATCHES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(LogLimits::DEFAULT.batches);
    let sqlite = SqliteStorage::open(db, Durability::Durable)
        .expect("open")
        .with_log_limits(LogLimits {
            batches,
            ..LogLimits::DEFAULT
        });
    let mirror = Arc::new(Mutex::new(Mirror::of(&sqlite)));
    let stored = || mirror.lock().expect("mirror").digest();
    let out = std::io::stdout();
    let mut out = out.lock();
    writeln!(out, "RESTORED {}", stored()).expect("write");
    out.flush().expect("flush");
    let storage = RecordingStorage::new(sqlite, mirror.clone());
    let mut client = Client::builder("alice")
        .storage(storage::shared(storage))
        .build()
        .expect("open");
    let mut group: Option<Group> = client
        .groups()
        .expect("groups")
        .first()
        .map(|id| client.load_group(id).expect("load"));
    writeln!(out, "{}", state_line(&stored(), &client, group.as_ref())).expect("write");
    out.flush().expect("flush");
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("read");
        // Tells the parent that a kill from now on lands inside the
        // command, not before the child saw it.
        writeln!(out, "BEGIN").expect("write");
        out.flush().expect("flush");
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
                state_line(&stored(), &client, group.as_ref())
            }
            "ENC" => format!(
                "MSG {}",
                hex(&g!().encrypt(&unhex(arg), b"").expect("encrypt"))
            ),
            "RECV" => match g!().process(&unhex(arg)) {
                Ok(Event::Application { data, .. }) => format!("APP {}", hex(&data)),
                Ok(Event::Commit { staged, .. }) => {
                    g!().merge(*staged).expect("merge");
                    state_line(&stored(), &client, group.as_ref())
                }
                Ok(_) => state_line(&stored(), &client, group.as_ref()),
                Err(e) => format!("ERR {:?} {}", e.category(), hex(e.to_string().as_bytes())),
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
                state_line(&stored(), &client, group.as_ref())
            }
            "STATE" => state_line(&stored(), &client, group.as_ref()),
            other => panic!("unknown command {other}"),
        };
        writeln!(out, "{reply}").expect("write");
        out.flush().expect("flush");
    }
}
