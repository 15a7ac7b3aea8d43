//! `arbor-ds`: a delivery service for arbor-mls over HTTP. Each group is
//! followed by an [`Observer`](arbor_mls::Observer) that validates its
//! handshake messages and accepts one commit per epoch; each group has one
//! message log, which every member reads from its own cursor; key
//! packages and Welcomes are handed out once. Run alone on SQLite, or as
//! any number of instances on one PostgreSQL database (`ObserverOptions::shared`).
//!
//! # Routes
//!
//! Bodies are binary: an MLS message as is, or a list of parts (each a
//! 4-byte big-endian length and its bytes, [`wire`]). Names are
//! `[A-Za-z0-9._@-]`, group ids hex. Errors are a status and a UTF-8
//! explanation.
//!
//! | Request | Body | Reply |
//! |---|---|---|
//! | `POST /key-packages/<name>` | a KeyPackage | 204 |
//! | `POST /key-packages/<name>/take` | | 200 a KeyPackage (removed), 404 none |
//! | `POST /groups` | the creator's GroupInfo of epoch 0 (ratchet tree extension), or parts (GroupInfo, tree) | 201 the group id (hex), 409 exists |
//! | `POST /groups/<id>/commit?from=<name>` | parts (commit, Welcome or empty, recipients one per line) | 200 log position (u64 BE); 409 `epoch taken: ...`; 400 invalid |
//! | `POST /groups/<id>/messages?from=<name>` | a proposal (PublicMessage) or a PrivateMessage | 200 log position; 409 wrong epoch; 400 invalid |
//! | `GET /groups/<id>/messages?member=<name>&after=<pos>` | | 200 parts (position, message)... (at most [`service::MAX_FETCH`]); the member's own messages are left out, its commits are not (they merge its pending commit) |
//! | `POST /groups/<id>/group-info` | a member's GroupInfo of the current epoch | 204, checked by the observer |
//! | `GET /groups/<id>/group-info` | | 200 parts (GroupInfo, ratchet tree); 404 none uploaded this epoch |
//! | `POST /welcomes/<name>/take` | | 200 parts (Welcome)... (removed) |
//! | `GET /health` | | 200 |
//!
//! A commit's log entry and its Welcomes are written in the transaction
//! that stores the observer's merge ([`arbor_mls::Observer::merge_with`]),
//! so a crash keeps all of them or none, and of instances racing for an
//! epoch the loser writes nothing and answers `epoch taken`. The service
//! authenticates no one (a member's name is what it says): deploy it
//! behind a proxy that does, with TLS.

#![forbid(unsafe_code)]

pub mod client;
pub mod http;
pub mod service;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use arbor_mls::storage::{Durability, SqliteStorage, shared};
use arbor_mls_postgres::PgStorage;

pub use client::{CommitReply, DsClient, DsError};
pub use service::Service;

/// Where an instance keeps its state.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A SQLite file: this instance is the only one.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database (libpq connection string or URL) shared by
    /// any number of instances, in record space `space`.
    Postgres {
        /// The connection string.
        url: String,
        /// The record space (several services can share a database).
        space: String,
    },
}

/// Opens the service on `backend`. `pause_after`: a test fault (PostgreSQL
/// only): the first commit's transaction stops after writing that many
/// records and the instance hangs there, to be killed.
pub fn open(backend: &Backend, pause_after: Option<usize>) -> arbor_mls::Result<Service> {
    match backend {
        Backend::Sqlite(path) => {
            let storage = SqliteStorage::open(path, Durability::Durable)?;
            Ok(Service::new(shared(storage), false))
        }
        Backend::Postgres { url, space } => {
            let mut storage = PgStorage::connect(url, space)?;
            let flag = Arc::new(AtomicBool::new(false));
            if let Some(ops) = pause_after {
                storage.pause_in_write_if(ops, flag.clone());
            }
            let service = Service::new(shared(storage), true);
            Ok(match pause_after {
                Some(_) => service.with_commit_pause(flag),
                None => service,
            })
        }
    }
}
