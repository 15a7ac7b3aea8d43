//! A throwaway PostgreSQL server for the tests: `ARBOR_PG_URL` if set (a
//! server the tests may write to; each test uses spaces of its own), else
//! one started in a temporary directory on a Unix socket only, and
//! stopped when the test ends. Without the server binaries the tests fail,
//! naming what to install: they never skip.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A server for one test.
pub struct PgServer {
    url: String,
    /// The directory of a server this test started (data and socket).
    dir: Option<PathBuf>,
    bin: Option<PathBuf>,
    /// Whether the server runs as the `postgres` user (the tests run as
    /// root, which PostgreSQL refuses).
    as_postgres: bool,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl PgServer {
    /// Connects to `ARBOR_PG_URL`, or starts a server.
    pub fn start() -> Self {
        if let Ok(url) = std::env::var("ARBOR_PG_URL") {
            return Self {
                url,
                dir: None,
                bin: find_bin(),
                as_postgres: false,
            };
        }
        let bin = find_bin().unwrap_or_else(|| {
            panic!(
                "the PostgreSQL tests need a server: install PostgreSQL (Debian: apt-get \
                 install postgresql; initdb and pg_ctl are looked for on PATH and in \
                 /usr/lib/postgresql/*/bin) or set ARBOR_PG_URL to a database they may \
                 write to. They fail rather than skip, so CI cannot pass without them."
            )
        });
        let dir = std::env::temp_dir().join(format!(
            "arbor-pg-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown").arg("postgres:").arg(&dir), "chown");
        }
        let data = dir.join("data");
        let server = Self {
            url: format!(
                "host={} port=5432 user=arbor dbname=postgres",
                dir.display()
            ),
            dir: Some(dir.clone()),
            bin: Some(bin),
            as_postgres,
        };
        run(
            server
                .tool("initdb")
                .args([
                    "-A",
                    "trust",
                    "-U",
                    "arbor",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "-D",
                ])
                .arg(&data),
            "initdb",
        );
        // A Unix socket in the test's directory, no TCP port: parallel
        // tests cannot collide. No fsync: the server itself is not crashed.
        let options = format!(
            "-k {} -p 5432 -c listen_addresses='' -c fsync=off",
            dir.display()
        );
        run(
            server
                .tool("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.join("log"))
                .args(["-w", "-o", &options, "start"]),
            "pg_ctl start",
        );
        server
    }

    /// The connection string.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A command running PostgreSQL tool `name` (as the server's user).
    pub fn tool(&self, name: &str) -> Command {
        let bin = match &self.bin {
            Some(dir) if dir.join(name).is_file() => dir.join(name),
            _ => PathBuf::from(name),
        };
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            Command::new(bin)
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else {
            return;
        };
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-w", "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn run(command: &mut Command, what: &str) {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The directory holding `initdb` and `pg_ctl`: on PATH, else the newest
/// Debian install.
fn find_bin() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH")
        && let Some(d) = std::env::split_paths(&path).find(|d| has(d))
    {
        return Some(d);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

/// A space name of its own for each use.
pub fn space(name: &str) -> String {
    format!("{name}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}
