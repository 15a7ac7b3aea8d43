//! The SQLite backend's log: folding, reopening with batches still logged,
//! torn, damaged and stale log records, the legacy `log` table, and that
//! folded-away values leave the files.

use super::*;

/// A database path in the temp dir, removed (with its WAL) when dropped.
struct TempDb(std::path::PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("arbor-sqlite-{name}-{}.db", std::process::id()));
        let db = Self(path);
        db.remove();
        db
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-log"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

fn limits(batches: usize) -> LogLimits {
    LogLimits {
        batches,
        bytes: usize::MAX,
    }
}

/// A storage on `db` folding after `limits`.
fn open(db: &TempDb, durability: Durability, limits: LogLimits) -> SqliteStorage {
    SqliteStorage::open(&db.0, durability)
        .expect("open")
        .with_log_limits(limits)
}

fn put(s: &mut SqliteStorage, key: &str, value: &[u8]) {
    let mut b = WriteBatch::default();
    b.put(key.as_bytes().to_vec(), value.to_vec());
    s.write(b).expect("write");
}

/// The batches the log file of `db` holds for the database's generation,
/// read from disk.
fn file_batches(s: &SqliteStorage, db: &TempDb) -> usize {
    let path = sqlite_logfile::path_of(&db.0);
    LogFile::open(path, s.generation().expect("generation"), false, false)
        .expect("read the log file")
        .batches
        .len()
}

fn log_path(db: &TempDb) -> std::path::PathBuf {
    sqlite_logfile::path_of(&db.0)
}

#[test]
fn conforms_with_the_default_log_limits_and_keeps_its_records_on_reopening() {
    let db = TempDb::new("conformance");
    {
        let mut s = SqliteStorage::open(&db.0, Durability::Durable).expect("open");
        super::super::conformance::run(&mut s);
    }
    let s = SqliteStorage::open(&db.0, Durability::Fast).expect("reopen");
    let keys: Vec<Vec<u8>> = s
        .scan(b"")
        .expect("scan")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, [b"g/1/c".to_vec(), b"u/1".to_vec()]);
}

#[test]
fn compacting_folds_and_erases_the_log_and_is_refused_after_a_failed_flush() {
    let db = TempDb::new("compact");
    let mut s = open(&db, Durability::Durable, limits(1000));
    put(&mut s, "g/a", b"secret one");
    put(&mut s, "g/a", b"secret two");
    assert_eq!(file_batches(&s, &db), 2);
    s.compact().expect("compact");
    assert_eq!(file_batches(&s, &db), 0);
    let log = std::fs::read(log_path(&db)).expect("log file");
    assert!(log.iter().all(|b| *b == 0), "the log file was not erased");
    assert_eq!(s.get(b"g/a").expect("get"), Some(b"secret two".to_vec()));

    // After a failed flush (simulated: an fsync error cannot be caused
    // here), compacting is refused like writing, and folds nothing.
    put(&mut s, "g/a", b"secret three");
    s.failed = true;
    let Err(Error::StorageUncertain(message)) = s.compact() else {
        panic!("compacting after a failed flush must be refused, naming reopening")
    };
    assert!(message.contains("reopen the storage"), "{message}");
    assert_eq!(file_batches(&s, &db), 1);
}

#[test]
fn conforms_whatever_the_log_limit() {
    for batches in [1, 2, 3, 1000] {
        let db = TempDb::new(&format!("limit-{batches}"));
        let mut s = open(&db, Durability::Durable, limits(batches));
        super::super::conformance::run(&mut s);
        let before = s.scan(b"").expect("scan");
        drop(s);
        let s = SqliteStorage::open(&db.0, Durability::Fast).expect("reopen");
        assert_eq!(s.scan(b"").expect("scan"), before, "limit {batches}");
    }
}

#[test]
fn log_folds_when_full_and_reopens_unfolded() {
    let db = TempDb::new("fold");
    let mut s = open(&db, Durability::Durable, limits(3));
    for i in 0..3u8 {
        put(&mut s, &format!("k{i}"), &[i]);
    }
    assert_eq!((s.logged_batches(), file_batches(&s, &db)), (3, 3));
    // The fourth batch folds the first three, then is logged alone.
    put(&mut s, "k0", b"new");
    assert_eq!((s.logged_batches(), file_batches(&s, &db)), (1, 1));
    let mut b = WriteBatch::default();
    b.delete(b"k1".to_vec());
    s.write(b).expect("delete");
    drop(s);

    // Reopened with two batches still logged: they apply over the records.
    let mut s = SqliteStorage::open(&db.0, Durability::Durable).expect("reopen");
    assert_eq!(s.logged_batches(), 2);
    let expect = vec![(b"k0".to_vec(), b"new".to_vec()), (b"k2".to_vec(), vec![2])];
    assert_eq!(s.scan(b"k").expect("scan"), expect);
    assert_eq!(s.get(b"k1").expect("get"), None);
    s.fold().expect("fold");
    assert_eq!((s.logged_batches(), file_batches(&s, &db)), (0, 0));
    assert_eq!(s.scan(b"k").expect("scan"), expect);
}

#[test]
fn byte_limit_folds_too() {
    let db = TempDb::new("bytes");
    let mut s = open(
        &db,
        Durability::Fast,
        LogLimits {
            batches: 1000,
            bytes: 1000,
        },
    );
    put(&mut s, "a", &[1; 600]);
    put(&mut s, "b", &[2; 600]);
    assert_eq!(s.logged_batches(), 2);
    put(&mut s, "c", &[3; 10]);
    assert_eq!(s.logged_batches(), 1);
    assert_eq!(s.get(b"a").expect("get"), Some(vec![1; 600]));
    // A batch over the byte limit folds the log and bypasses it.
    put(&mut s, "big", &[4; 2000]);
    assert_eq!((s.logged_batches(), file_batches(&s, &db)), (0, 0));
    drop(s);
    let s = SqliteStorage::open(&db.0, Durability::Fast).expect("reopen");
    assert_eq!(s.get(b"big").expect("get"), Some(vec![4; 2000]));
    assert_eq!(s.get(b"c").expect("get"), Some(vec![3; 10]));
}

#[test]
fn prefix_deletes_cover_logged_and_folded_records() {
    let db = TempDb::new("prefix");
    let mut s = open(&db, Durability::Durable, limits(1000));
    put(&mut s, "p/folded", b"1");
    s.fold().expect("fold");
    put(&mut s, "p/logged", b"2");
    put(&mut s, "q", b"3");
    let mut b = WriteBatch::default();
    b.delete_prefix(b"p/".to_vec());
    b.put(b"p/new".to_vec(), b"4".to_vec());
    s.write(b).expect("write");
    assert_eq!(keys_of(&s), ["p/new", "q"]);
    assert_eq!(s.get(b"p/folded").expect("get"), None);
    assert_eq!(s.get(b"p/logged").expect("get"), None);
    assert_eq!(s.get(b"p/new").expect("get"), Some(b"4".to_vec()));
    // Scans inside and around the deleted prefix.
    assert!(s.scan(b"p/fo").expect("scan").is_empty());
    assert_eq!(
        s.scan(b"p/").expect("scan"),
        [(b"p/new".to_vec(), b"4".to_vec())]
    );
    drop(s);
    let mut s = SqliteStorage::open(&db.0, Durability::Durable).expect("reopen");
    assert_eq!(keys_of(&s), ["p/new", "q"]);
    s.fold().expect("fold");
    assert_eq!(keys_of(&s), ["p/new", "q"]);
    assert_eq!(s.get(b"p/folded").expect("get"), None);
}

#[test]
fn log_rows_decode_strictly() {
    let mut batch = WriteBatch::default();
    batch.delete_prefix(b"g/1/st/".to_vec());
    batch.put(b"g/1/t/5".to_vec(), b"value".to_vec());
    batch.delete(b"g/1/t/6".to_vec());
    let valid = sqlite_log::encode_row(&batch);
    let ops = sqlite_log::decode_row(&valid).expect("round trip");
    assert!(matches!(&ops[..], [
        sqlite_log::Op::DeletePrefix(p),
        sqlite_log::Op::Put(k, v),
        sqlite_log::Op::Delete(g),
    ] if p == b"g/1/st/" && k == b"g/1/t/5" && v.as_slice() == b"value" && g == b"g/1/t/6"));
    // The keys after the first are stored without the prefix they share
    // with the key before ("g/1/", then "g/1/t/").
    let prefix_op = 1 + 2 + 4 + 7;
    let put_op = 1 + 2 + 4 + 3 + 4 + 5;
    assert_eq!(valid.len(), 1 + prefix_op + put_op + (1 + 2 + 4 + 1));
    // Every truncation but those at op boundaries is refused.
    let boundaries = [1, 1 + prefix_op, 1 + prefix_op + put_op];
    for len in 0..valid.len() {
        assert_eq!(
            sqlite_log::decode_row(&valid[..len]).is_some(),
            boundaries.contains(&len),
            "prefix of {len} bytes"
        );
    }
    // A key may not share more than the key before it has.
    let mut overlong = valid.to_vec();
    let delete_at = 1 + prefix_op + put_op;
    overlong[delete_at + 1..delete_at + 3].copy_from_slice(&8u16.to_be_bytes());
    assert!(sqlite_log::decode_row(&overlong).is_none());
    overlong[delete_at + 1..delete_at + 3].copy_from_slice(&7u16.to_be_bytes());
    assert!(
        sqlite_log::decode_row(&overlong).is_some(),
        "7 bytes are shared"
    );
}

/// A row of the first format (`log` table rows and log file records of
/// earlier versions): version 1, every key in full.
fn full_key_row(batch: &WriteBatch) -> Vec<u8> {
    let mut row = vec![1];
    let bytes = |row: &mut Vec<u8>, b: &[u8]| {
        row.extend_from_slice(&(b.len() as u32).to_be_bytes());
        row.extend_from_slice(b);
    };
    for (key, value) in &batch.ops {
        row.push(u8::from(value.is_some()));
        bytes(&mut row, key);
        if let Some(v) = value {
            bytes(&mut row, v);
        }
    }
    row
}

#[test]
fn rows_of_the_first_format_still_decode() {
    let mut batch = WriteBatch::default();
    batch.put(b"g/1/t/5".to_vec(), b"value".to_vec());
    batch.delete(b"g/1/t/6".to_vec());
    let ops = sqlite_log::decode_row(&full_key_row(&batch)).expect("version 1");
    assert!(matches!(&ops[..], [
        sqlite_log::Op::Put(k, v),
        sqlite_log::Op::Delete(g),
    ] if k == b"g/1/t/5" && v.as_slice() == b"value" && g == b"g/1/t/6"));
}

/// A database written before the log file existed keeps its batches in a
/// `log` table: opening it folds them into the records.
#[test]
fn legacy_log_rows_are_folded_on_open() {
    let db = TempDb::new("legacy");
    let mut s = open(&db, Durability::Durable, limits(1000));
    put(&mut s, "k", b"folded");
    s.fold().expect("fold");
    let mut batch = WriteBatch::default();
    batch.put(b"k".to_vec(), b"legacy".to_vec());
    batch.put(b"l".to_vec(), b"2".to_vec());
    let row = full_key_row(&batch);
    s.conn
        .execute(
            "INSERT INTO log (seq, batch) VALUES (1, ?1)",
            params![row.as_slice()],
        )
        .expect("a legacy row");
    drop(s);
    let s = SqliteStorage::open(&db.0, Durability::Durable).expect("reopen");
    assert_eq!(s.logged_batches(), 0, "folded on open");
    let rows: i64 = s
        .conn
        .query_row("SELECT count(*) FROM log", [], |r| r.get(0))
        .expect("count");
    assert_eq!(rows, 0);
    assert_eq!(s.get(b"k").expect("get"), Some(b"legacy".to_vec()));
    assert_eq!(s.get(b"l").expect("get"), Some(b"2".to_vec()));
}

#[test]
fn corrupt_log_rows_are_storage_errors() {
    let mut batch = WriteBatch::default();
    batch.put(b"k".to_vec(), b"v".to_vec());
    let valid = sqlite_log::encode_row(&batch);
    let mut trailing = valid.to_vec();
    trailing.push(9);
    let mut future = valid.to_vec();
    future[0] = sqlite_log::LOG_VERSION + 1;
    let mut bad_tag = valid.to_vec();
    bad_tag[1] = 3;
    let mut long_key = valid.to_vec();
    long_key[5] = 200;

    for (name, row) in [
        ("trailing", trailing),
        ("future", future),
        ("tag", bad_tag),
        ("length", long_key),
        ("empty", Vec::new()),
    ] {
        let db = TempDb::new(&format!("corrupt-{name}"));
        let s = SqliteStorage::open(&db.0, Durability::Durable).expect("open");
        s.conn
            .execute("INSERT INTO log (seq, batch) VALUES (1, ?1)", params![row])
            .expect("a legacy row");
        drop(s);
        match SqliteStorage::open(&db.0, Durability::Durable) {
            Err(Error::Storage(msg)) => assert!(msg.contains("log row 1"), "{name}: {msg}"),
            other => panic!("{name}: expected a storage error, got {other:?}"),
        }
    }
}

/// Forward secrecy on disk: once a value is overwritten and the log folded
/// and checkpointed, its bytes are nowhere in the database, its WAL or its
/// log file.
#[test]
fn folded_away_values_leave_the_files() {
    let db = TempDb::new("secrecy");
    let old: Vec<u8> = (0..48u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
    let mut s = open(&db, Durability::Durable, limits(1000));
    put(&mut s, "ratchet", &old);
    let contains = |hay: &[u8]| hay.windows(old.len()).any(|w| w == old.as_slice());
    let log = std::fs::read(log_path(&db)).expect("log file");
    assert!(contains(&log), "the batch is in the log file");
    s.fold().expect("fold");
    let log = std::fs::read(log_path(&db)).expect("log file");
    assert!(!contains(&log), "the fold erased the log file");
    put(&mut s, "ratchet", &[0x11; 48]);
    let files = |db: &TempDb| -> Vec<u8> {
        let mut all = std::fs::read(&db.0).expect("db");
        all.extend(std::fs::read(format!("{}-wal", db.0.display())).unwrap_or_default());
        all.extend(std::fs::read(log_path(db)).expect("log file"));
        all
    };
    assert!(
        contains(&files(&db)),
        "the old value is on disk before the fold"
    );
    s.fold().expect("fold");
    s.conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    assert!(!contains(&files(&db)), "the old value left the files");
    assert_eq!(s.get(b"ratchet").expect("get"), Some(vec![0x11; 48]));
}

/// Three logged batches `a`, `b`, `c` (values of 100 bytes) on a fresh
/// database, then closed: the log file's bytes and each record's offset.
fn three_logged(db: &TempDb, durability: Durability) -> (Vec<u8>, [usize; 4]) {
    let mut s = open(db, durability, limits(1000));
    for (key, byte) in [("a", 1u8), ("b", 2), ("c", 3)] {
        put(&mut s, key, &[byte; 100]);
    }
    drop(s);
    let bytes = std::fs::read(log_path(db)).expect("log file");
    // Each record: the row (version; tag, shared prefix length, key
    // length, key; value length, value) and OVERHEAD.
    let len = 1 + (1 + 2 + 4 + 1) + (4 + 100) + OVERHEAD;
    (bytes, [0, len, 2 * len, 3 * len])
}

fn keys_of(s: &SqliteStorage) -> Vec<String> {
    s.scan(b"")
        .expect("scan")
        .into_iter()
        .map(|(k, _)| String::from_utf8(k).expect("utf-8"))
        .collect()
}

/// A record cut short by a crash ends the log, wherever the cut is: the
/// state is the one before that batch, and writing goes on from there.
#[test]
fn a_torn_last_record_ends_the_log() {
    let db = TempDb::new("torn");
    let (bytes, at) = three_logged(&db, Durability::Durable);
    for cut in at[2]..at[3] {
        let mut torn = bytes.clone();
        torn[cut..at[3]].fill(0);
        std::fs::write(log_path(&db), &torn).expect("tear");
        let mut s = SqliteStorage::open(&db.0, Durability::Durable).expect("open");
        assert_eq!(keys_of(&s), ["a", "b"], "cut at {cut}");
        if cut == at[2] + 40 {
            put(&mut s, "d", b"after");
            drop(s);
            let s = SqliteStorage::open(&db.0, Durability::Durable).expect("reopen");
            assert_eq!(keys_of(&s), ["a", "b", "d"]);
        }
    }
}

/// A record damaged after it was written whole (a later record is chained
/// to it) is an error in durable mode, naming the record; fast mode, where
/// a power loss can persist later pages without earlier ones, reads up to
/// it.
#[test]
fn a_damaged_middle_record_is_an_error() {
    let db = TempDb::new("damaged");
    let (mut bytes, at) = three_logged(&db, Durability::Durable);
    bytes[at[1] + 60] ^= 1;
    std::fs::write(log_path(&db), &bytes).expect("damage");
    match SqliteStorage::open(&db.0, Durability::Durable) {
        Err(Error::Storage(msg)) => assert!(msg.contains("record 1 "), "{msg}"),
        other => panic!("expected a storage error, got {other:?}"),
    }
    let s = SqliteStorage::open(&db.0, Durability::Fast).expect("fast open");
    assert_eq!(keys_of(&s), ["a"]);
}

/// A record that fits in a page but would straddle two starts on the next
/// page; one larger than a page follows right after the one before. The
/// gap is skipped on reading whatever it holds, and a damaged record
/// before a moved one is still told from a torn end.
#[test]
fn a_record_that_would_straddle_pages_starts_on_the_next() {
    let db = TempDb::new("aligned");
    let mut s = open(&db, Durability::Durable, limits(1000));
    let record = |value: usize| 1 + (1 + 2 + 4 + 1) + (4 + value) + OVERHEAD;
    put(&mut s, "a", &[1; 3000]);
    put(&mut s, "b", &[2; 2000]);
    put(&mut s, "c", &[3; 6000]);
    put(&mut s, "d", &[4; 10]);
    drop(s);
    let page = sqlite_logfile::PAGE as usize;
    let a_end = record(3000);
    let b_at = page;
    let c_at = b_at + record(2000);
    let d_at = c_at + record(6000);
    let mut bytes = std::fs::read(log_path(&db)).expect("log file");
    assert!(bytes[a_end..b_at].iter().all(|&b| b == 0), "a gap");
    for at in [0, b_at, c_at, d_at] {
        assert_eq!(bytes[at], sqlite_logfile::FRAME_VERSION, "a record at {at}");
    }
    assert_eq!(bytes[d_at + record(10)], 0, "d is the last record");

    bytes[a_end..b_at].fill(0xa5);
    std::fs::write(log_path(&db), &bytes).expect("fill the gap");
    let s = SqliteStorage::open(&db.0, Durability::Durable).expect("open");
    assert_eq!(keys_of(&s), ["a", "b", "c", "d"]);
    drop(s);

    bytes[60] ^= 1;
    std::fs::write(log_path(&db), &bytes).expect("damage a");
    match SqliteStorage::open(&db.0, Durability::Durable) {
        Err(Error::Storage(msg)) => assert!(msg.contains("record 0 "), "{msg}"),
        other => panic!("expected a storage error, got {other:?}"),
    }
}

/// A record right after the one before is read even where it straddles
/// pages (logs written before records were moved to the next page), and
/// one on the next page only if it could not have followed right after.
#[test]
fn records_are_read_where_this_or_an_earlier_version_put_them() {
    let db = TempDb::new("placed");
    let mut s = open(&db, Durability::Fast, limits(1000));
    put(&mut s, "a", &[1; 3000]);
    put(&mut s, "b", &[2; 2000]);
    put(&mut s, "c", &[3; 10]);
    drop(s);
    let record = |value: usize| 1 + (1 + 2 + 4 + 1) + (4 + value) + OVERHEAD;
    let page = sqlite_logfile::PAGE as usize;
    let (b_len, c_len) = (record(2000), record(10));
    let c_at = page + b_len;
    let bytes = std::fs::read(log_path(&db)).expect("log file");
    let (b, c) = (
        bytes[page..c_at].to_vec(),
        bytes[c_at..c_at + c_len].to_vec(),
    );

    // The earlier layout: b straddling pages right after a, c after it.
    let mut earlier = bytes.clone();
    earlier[record(3000)..].fill(0);
    earlier[record(3000)..record(3000) + b_len].copy_from_slice(&b);
    let c_earlier = record(3000) + b_len;
    earlier[c_earlier..c_earlier + c_len].copy_from_slice(&c);
    std::fs::write(log_path(&db), &earlier).expect("earlier layout");
    let s = SqliteStorage::open(&db.0, Durability::Fast).expect("open");
    assert_eq!(keys_of(&s), ["a", "b", "c"]);
    drop(s);
    // Damage to such a straddling record is told from a torn end.
    earlier[record(3000) + 60] ^= 1;
    std::fs::write(log_path(&db), &earlier).expect("damage b");
    match SqliteStorage::open(&db.0, Durability::Durable) {
        Err(Error::Storage(msg)) => assert!(msg.contains("record 1 "), "{msg}"),
        other => panic!("expected a storage error, got {other:?}"),
    }

    // c fits right after b: on the next page it is not read.
    let mut moved = bytes.clone();
    moved[c_at..c_at + c_len].fill(0);
    moved[2 * page..2 * page + c_len].copy_from_slice(&c);
    std::fs::write(log_path(&db), &moved).expect("move c");
    let s = SqliteStorage::open(&db.0, Durability::Fast).expect("open");
    assert_eq!(keys_of(&s), ["a", "b"]);
}

/// A record whose length field points past the end of the file (or
/// overflows) ends the log; nothing is read or allocated for it.
#[test]
fn a_record_claiming_a_huge_length_ends_the_log() {
    let db = TempDb::new("huge");
    let (mut bytes, at) = three_logged(&db, Durability::Durable);
    // The length field: after the version, generation and sequence number.
    bytes[at[1] + 13..at[1] + 17].copy_from_slice(&u32::MAX.to_be_bytes());
    std::fs::write(log_path(&db), &bytes).expect("damage");
    for durability in [Durability::Durable, Durability::Fast] {
        let s = SqliteStorage::open(&db.0, durability).expect("open");
        assert_eq!(keys_of(&s), ["a"]);
    }
}

/// A record of a later frame version (its version byte higher; its
/// generation, sequence number and chained checksum those expected next)
/// fails opening in both modes, naming the record and what to do, instead
/// of ending the log: the next append would overwrite it. With a checksum
/// that does not check out, it is a torn or stale record, and ends the log
/// as before.
#[test]
fn a_record_of_a_newer_frame_version_fails_open() {
    let db = TempDb::new("newer-frame");
    let (bytes, at) = three_logged(&db, Durability::Durable);
    let mut unchained = bytes.clone();
    unchained[at[1]] = sqlite_logfile::FRAME_VERSION + 1;
    let mut newer = unchained.clone();
    rechain(&mut newer, at[1], at[2]);
    std::fs::write(log_path(&db), &newer).expect("newer record");
    for durability in [Durability::Durable, Durability::Fast] {
        let msg = open_error(&db, durability);
        assert!(
            msg.contains("record 1 ") && msg.contains("newer arbor-mls"),
            "{msg}"
        );
    }
    std::fs::write(log_path(&db), &unchained).expect("unchained record");
    for durability in [Durability::Durable, Durability::Fast] {
        let s = SqliteStorage::open(&db.0, durability).expect("open");
        assert_eq!(keys_of(&s), ["a"]);
    }
}

/// A checksummed batch whose row format is later than this library's
/// fails opening with what to do, rather than "malformed".
#[test]
fn a_batch_of_a_newer_row_format_fails_open() {
    let db = TempDb::new("newer-row");
    let (mut bytes, at) = three_logged(&db, Durability::Durable);
    bytes[at[2] + HEADER] = sqlite_log::LOG_VERSION + 1;
    rechain(&mut bytes, at[2], at[3]);
    std::fs::write(log_path(&db), &bytes).expect("newer row");
    for durability in [Durability::Durable, Durability::Fast] {
        let msg = open_error(&db, durability);
        assert!(
            msg.contains("batch 2 ")
                && msg.contains(&format!("row format {}", sqlite_log::LOG_VERSION + 1))
                && msg.contains("newer"),
            "{msg}"
        );
    }
}

/// Sets the checksum of the record at `from..to` of a log file's `bytes`
/// to what its (edited) contents and the record before it chain to.
fn rechain(bytes: &mut [u8], from: usize, to: usize) {
    let previous: [u8; CHECKSUM] = bytes[from - CHECKSUM..from].try_into().expect("sum");
    let sum = sqlite_logfile::checksum(&previous, &bytes[from..to - CHECKSUM]);
    bytes[to - CHECKSUM..to].copy_from_slice(&sum);
}

/// The message of the `Error::Storage` that opening `db` must fail with.
fn open_error(db: &TempDb, durability: Durability) -> String {
    match SqliteStorage::open(&db.0, durability) {
        Err(Error::Storage(msg)) => msg,
        other => panic!("expected a storage error, got {other:?}"),
    }
}

/// A record left behind a shorter or different rewrite is not chained to
/// it, so it is not read: `c` stays lost once `b` was torn and rewritten.
#[test]
fn a_stale_record_after_a_rewrite_is_not_read() {
    let db = TempDb::new("stale");
    let (mut bytes, at) = three_logged(&db, Durability::Fast);
    bytes[at[2] - 1] ^= 1;
    std::fs::write(log_path(&db), &bytes).expect("tear b");
    let mut s = open(&db, Durability::Fast, limits(1000));
    assert_eq!(keys_of(&s), ["a"]);
    // Same key length and value length as `b`: the rewrite ends exactly
    // where `c` starts.
    put(&mut s, "e", &[5; 100]);
    drop(s);
    let s = SqliteStorage::open(&db.0, Durability::Fast).expect("reopen");
    assert_eq!(keys_of(&s), ["a", "e"]);
}

/// Records of a generation already folded (a crash between the fold's
/// commit and the log's erasure) are not applied again.
#[test]
fn records_of_a_folded_generation_are_ignored() {
    let db = TempDb::new("generation");
    let (bytes, _) = three_logged(&db, Durability::Durable);
    let mut s = open(&db, Durability::Durable, limits(1000));
    s.fold().expect("fold");
    let mut b = WriteBatch::default();
    b.delete(b"a".to_vec());
    s.write(b).expect("delete a");
    s.fold().expect("fold");
    drop(s);
    std::fs::write(log_path(&db), &bytes).expect("the old log back");
    let s = SqliteStorage::open(&db.0, Durability::Durable).expect("reopen");
    assert_eq!(s.logged_batches(), 0);
    assert_eq!(keys_of(&s), ["b", "c"]);
}

/// The database is held exclusively (no file locks per statement): a second
/// storage on it is refused until the first is dropped, at once and naming
/// the cause (not after a busy timeout).
#[test]
fn a_database_has_one_storage_at_a_time() {
    let db = TempDb::new("exclusive");
    let refused = || {
        let started = std::time::Instant::now();
        match SqliteStorage::open(&db.0, Durability::Durable) {
            Err(e @ Error::Misuse(_)) => {
                let msg = e.to_string();
                assert!(msg.contains("already open in this process"), "{msg}");
                assert_eq!(e.action(), crate::Action::FixCall);
            }
            other => panic!("expected a misuse error, got {other:?}"),
        }
        // Not SQLite's busy wait (5 s by default): the refusal is a lookup.
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    };
    // Held from the open on, before anything is written.
    drop(SqliteStorage::open(&db.0, Durability::Durable).expect("create"));
    let first = SqliteStorage::open(&db.0, Durability::Durable).expect("open");
    refused();
    drop(first);
    let mut first = SqliteStorage::open(&db.0, Durability::Durable).expect("open");
    put(&mut first, "k", b"v");
    refused();
    // The same file under another name is the same database.
    let dir = db.0.parent().expect("dir").to_path_buf();
    let alias = dir.join(".").join(db.0.file_name().expect("name"));
    assert!(matches!(
        SqliteStorage::open(&alias, Durability::Durable),
        Err(Error::Misuse(_))
    ));
    drop(first);
    let second = SqliteStorage::open(&db.0, Durability::Durable).expect("reopen");
    assert_eq!(second.get(b"k").expect("get"), Some(b"v".to_vec()));
}

/// A database locked by another connection (as another process would
/// hold it) is refused at once, saying so, not after a busy timeout.
#[test]
fn a_database_held_elsewhere_is_refused_at_once() {
    let db = TempDb::new("elsewhere");
    drop(SqliteStorage::open(&db.0, Durability::Durable).expect("create"));
    let other = rusqlite::Connection::open(&db.0).expect("another connection");
    other
        .execute_batch("PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE;")
        .expect("lock");
    let started = std::time::Instant::now();
    let msg = open_error(&db, Durability::Durable);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(msg.contains("held by another process"), "{msg}");
    drop(other);
    SqliteStorage::open(&db.0, Durability::Durable).expect("free again");
}

/// An unflushed batch is in the log file at once (a process crash keeps
/// it) and is synced by `flush`, or by the next synced write, or by a fold.
#[test]
fn unflushed_batches_are_logged_at_once_and_synced_by_flush() {
    let db = TempDb::new("unflushed");
    let mut s = open(&db, Durability::Durable, limits(3));
    let unflushed = |s: &SqliteStorage| s.log.as_ref().expect("log").unsynced();
    let mut b = WriteBatch::default();
    b.put(b"a".to_vec(), vec![1; 5000]);
    s.write_unflushed(b).expect("write unflushed");
    assert!(unflushed(&s));
    assert_eq!(file_batches(&s, &db), 1, "in the file before the flush");
    s.flush().expect("flush");
    assert!(!unflushed(&s));

    let mut b = WriteBatch::default();
    b.put(b"b".to_vec(), vec![2; 10]);
    s.write_unflushed(b).expect("write unflushed");
    put(&mut s, "c", b"synced");
    assert!(!unflushed(&s), "the synced write covers the unflushed one");

    let mut b = WriteBatch::default();
    b.put(b"d".to_vec(), vec![3; 10]);
    s.write_unflushed(b).expect("write unflushed");
    assert!(unflushed(&s));
    s.fold().expect("fold");
    assert!(!unflushed(&s), "the fold stored it in the database");
    drop(s);

    // Fast mode never syncs the log: nothing is left to flush.
    let mut s = open(&db, Durability::Fast, limits(3));
    assert_eq!(keys_of(&s), ["a", "b", "c", "d"]);
    let mut b = WriteBatch::default();
    b.put(b"e".to_vec(), vec![4; 10]);
    s.write_unflushed(b).expect("write unflushed");
    assert!(!unflushed(&s));
    drop(s);
    let s = SqliteStorage::open(&db.0, Durability::Durable).expect("reopen");
    assert_eq!(keys_of(&s), ["a", "b", "c", "d", "e"]);
}

#[test]
fn conditional_writes_conform_and_a_refused_one_is_not_logged() {
    for batches in [1, 1000] {
        let db = TempDb::new(&format!("conditional-{batches}"));
        let mut s = open(&db, Durability::Durable, limits(batches));
        super::super::conformance::run_conditional(&mut s);
        let before = s.scan(b"").expect("scan");
        drop(s);
        let s = SqliteStorage::open(&db.0, Durability::Fast).expect("reopen");
        assert_eq!(s.scan(b"").expect("scan"), before);
    }
}
