//! The tables, versioned. Each migration moves the schema one version up;
//! a database holds its version in `arbor_schema`, and one of a newer
//! version than this build knows is refused rather than written to.

use arbor_mls::{Error, Result};
use postgres::GenericClient;

use crate::storage_error;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Migration `i` takes the schema from version `i` to `i + 1`. Never edit
/// a released one: add the next.
const MIGRATIONS: &[&str] = &[
    // 1: the records of every storage space (a client, or the observers
    // of a delivery service), with the same keys and values as SQLite.
    // `bytea` compares bytewise, as the `Storage` trait orders keys.
    "CREATE TABLE arbor_records (
         space TEXT NOT NULL,
         key BYTEA NOT NULL,
         value BYTEA NOT NULL,
         PRIMARY KEY (space, key)
     );",
];

/// Serializes migrations of processes starting at once (an arbitrary
/// constant naming this lock among the database's advisory locks).
const MIGRATION_LOCK: i64 = 0x6172_626f_725f_6d31;

/// Brings the schema up to [`SCHEMA_VERSION`], in one transaction; returns
/// the version found before. Safe to run from several processes at once.
pub fn migrate(client: &mut postgres::Client) -> Result<i32> {
    let mut tx = client.transaction().map_err(storage_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(storage_error)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS arbor_schema (
             singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
             version INTEGER NOT NULL
         );",
    )
    .map_err(storage_error)?;
    let found = version(&mut tx)?;
    if found > SCHEMA_VERSION {
        return Err(Error::Storage(format!(
            "the database has arbor schema version {found}; this build knows up to \
             {SCHEMA_VERSION}: upgrade it"
        )));
    }
    for sql in &MIGRATIONS[usize::try_from(found).unwrap_or(0)..] {
        tx.batch_execute(sql).map_err(storage_error)?;
    }
    if found < SCHEMA_VERSION {
        tx.execute(
            "INSERT INTO arbor_schema (version) VALUES ($1)
             ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version",
            &[&SCHEMA_VERSION],
        )
        .map_err(storage_error)?;
    }
    tx.commit().map_err(storage_error)?;
    Ok(found)
}

/// The schema version of the database (0: none yet).
fn version(client: &mut impl GenericClient) -> Result<i32> {
    let row = client
        .query_opt("SELECT version FROM arbor_schema", &[])
        .map_err(storage_error)?;
    let found: i32 = row.map_or(0, |r| r.get(0));
    if found < 0 {
        return Err(Error::Storage(format!(
            "the database has arbor schema version {found}: corrupt"
        )));
    }
    Ok(found)
}
