//! The child of `tests/crash_recovery_async.rs`: the member of
//! `child.rs`, on an [`AsyncClient`] driven by a tokio runtime, over an
//! [`AsyncStorage`] that yields to the runtime and then writes to the
//! durable SQLite database through the same announcing wrapper. The
//! commands and their replies are those of `child.rs`.

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

use arbor_mls::storage::{
    AsyncStorage, Durability, LogLimits, SqliteStorage, Storage, StorageFuture, WriteBatch,
};
use arbor_mls::wire::LeafIndex;
use arbor_mls::{AsyncClient, AsyncGroup, Client, Event, KeyPackageOptions};

use crate::protocol::{hex, state_line, unhex};
use crate::recording_storage::{Mirror, RecordingStorage};

/// The durable store, reached asynchronously: every call first yields to
/// the runtime, so the client's futures really suspend between the
/// engine's work and the write.
struct AsyncSqlite(Mutex<RecordingStorage<SqliteStorage>>);

impl AsyncStorage for AsyncSqlite {
    fn scan<'a>(&'a self, prefix: &'a [u8]) -> StorageFuture<'a, Vec<(Vec<u8>, Vec<u8>)>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.0.lock().expect("store").scan(prefix)
        })
    }

    fn write(&self, batch: WriteBatch) -> StorageFuture<'_, ()> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.0.lock().expect("store").write(batch)
        })
    }
}

/// Opens the member stored in `db` and answers commands until stdin ends,
/// with the lines of `child::run`.
pub(crate) fn run(db: &str) {
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
    let store = Arc::new(AsyncSqlite(Mutex::new(RecordingStorage::new(
        sqlite,
        mirror.clone(),
    ))));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let (mut client, mut group) = rt.block_on(async {
        let mut client = AsyncClient::open(store, Client::builder("alice"))
            .await
            .expect("open");
        let id = client.groups().expect("groups").first().cloned();
        let group: Option<AsyncGroup> = match id {
            Some(id) => Some(client.load_group(&id).await.expect("load")),
            None => None,
        };
        (client, group)
    });
    let state = |client: &AsyncClient, group: &Option<AsyncGroup>| {
        state_line(
            &stored(),
            client.client(),
            group.as_ref().map(AsyncGroup::group),
        )
    };
    writeln!(out, "{}", state(&client, &group)).expect("write");
    out.flush().expect("flush");
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("read");
        writeln!(out, "BEGIN").expect("write");
        out.flush().expect("flush");
        let mut parts = line.split(' ');
        let cmd = parts.next().unwrap_or("");
        let arg = parts.next().unwrap_or("");
        let reply = rt.block_on(async {
            macro_rules! g {
                () => {
                    group.as_mut().expect("no group")
                };
            }
            match cmd {
                "KP" => format!(
                    "KP {}",
                    hex(&client
                        .key_package(KeyPackageOptions::default())
                        .await
                        .expect("kp"))
                ),
                "JOIN" => {
                    group = Some(client.join(&unhex(arg), None).await.expect("join"));
                    state(&client, &group)
                }
                "ENC" => format!(
                    "MSG {}",
                    hex(&g!().encrypt(&unhex(arg), b"").await.expect("encrypt"))
                ),
                "RECV" => match g!().process(&unhex(arg)).await {
                    Ok(Event::Application { data, .. }) => format!("APP {}", hex(&data)),
                    Ok(Event::Commit { staged, .. }) => {
                        g!().merge(*staged).await.expect("merge");
                        state(&client, &group)
                    }
                    Ok(_) => state(&client, &group),
                    Err(e) => {
                        format!("ERR {:?} {}", e.category(), hex(e.to_string().as_bytes()))
                    }
                },
                "UPDATE" => format!(
                    "COMMIT {}",
                    hex(&g!().update().await.expect("update").commit)
                ),
                "ADD" => {
                    let out = g!().add(&[&unhex(arg)]).await.expect("add");
                    format!(
                        "COMMIT {} {}",
                        hex(&out.commit),
                        hex(&out.welcome.expect("welcome"))
                    )
                }
                "REMOVE" => {
                    let leaf = LeafIndex(arg.parse().expect("leaf"));
                    let out = g!().remove(leaf).await.expect("remove");
                    format!("COMMIT {}", hex(&out.commit))
                }
                "DISCARD" => {
                    g!().discard_pending().await.expect("discard");
                    state(&client, &group)
                }
                "STATE" => state(&client, &group),
                other => panic!("unknown command {other}"),
            }
        });
        writeln!(out, "{reply}").expect("write");
        out.flush().expect("flush");
    }
}
