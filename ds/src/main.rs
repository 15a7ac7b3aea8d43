//! `arbor-ds`: runs one instance of the delivery service.
//!
//! ```text
//! arbor-ds --listen 127.0.0.1:8080 --sqlite ds.db
//! arbor-ds --listen 0.0.0.0:8080 --postgres "host=/run/postgresql dbname=ds" [--space ds]
//! ```
//!
//! It prints `listening on <address>` once it accepts requests (port 0
//! picks a free one). Test fault: `ARBOR_DS_PAUSE_IN_COMMIT=<n>` makes the
//! first commit's PostgreSQL transaction stop after writing n records.

use std::net::TcpListener;
use std::sync::Arc;

use arbor_ds::{Backend, http};

const USAGE: &str = "usage: arbor-ds --listen ADDR (--sqlite PATH | --postgres URL [--space NAME])";

fn main() {
    if let Err(e) = run() {
        eprintln!("arbor-ds: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut listen, mut sqlite, mut postgres) = (None, None, None);
    let mut space = "ds".to_owned();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(USAGE);
        match arg.as_str() {
            "--listen" => listen = Some(value()?),
            "--sqlite" => sqlite = Some(value()?),
            "--postgres" => postgres = Some(value()?),
            "--space" => space = value()?,
            _ => return Err(USAGE.into()),
        }
    }
    let backend = match (sqlite, postgres) {
        (Some(path), None) => Backend::Sqlite(path.into()),
        (None, Some(url)) => Backend::Postgres { url, space },
        _ => return Err(USAGE.into()),
    };
    let pause = std::env::var("ARBOR_DS_PAUSE_IN_COMMIT")
        .ok()
        .map(|v| v.parse::<usize>())
        .transpose()?;
    let service = Arc::new(arbor_ds::open(&backend, pause)?);
    let listener = TcpListener::bind(listen.ok_or(USAGE)?)?;
    println!("listening on {}", listener.local_addr()?);
    http::serve(listener, Arc::new(move |request| service.handle(&request)))?;
    Ok(())
}
