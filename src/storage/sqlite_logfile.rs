//! The file beside a [`SqliteStorage`](super::SqliteStorage) database
//! (`<database>-log`) that its batches are appended to until they are
//! folded into the database.
//!
//! Why a file of our own: a batch is then written as its own bytes, in
//! place, into space written once when the file was created, so a durable
//! batch costs one `write` and one `fdatasync` that changes no file
//! metadata. Through SQLite the same batch wrote several WAL pages, and the
//! transaction around them cost ~100 µs of CPU.
//!
//! A record: version byte [`FRAME_VERSION`], the generation (8 bytes
//! big-endian), the sequence number within the generation (4 bytes), the
//! length of the batch (4 bytes), the batch ([`super::sqlite_log`]'s row
//! format), then 16 bytes of SHA-256 over the previous record's checksum
//! (or, for the first record, a hash of the generation) and everything
//! before it in this record. Records start at offset 0 and follow each
//! other with no gap, except that a record that fits in one page but would
//! straddle two starts on the next page ([`placement`]): a merge's record
//! is then one page for the disk to write, as the in-place 4 KiB write the
//! merge's target is measured against, instead of two or three.
//!
//! Reading stops at the first record that does not check out: a record cut
//! short by a crash is the end of the log. The chain of checksums keeps a
//! stale record (an earlier generation's, or one left after a torn record
//! was rewritten shorter) from being read as part of the log. The
//! generation lives in the database and grows with each fold, so a log
//! already folded is never applied again. A record that checks out but
//! carries a later frame version fails opening instead of ending the log
//! (every version keeps the header and the checksum as they are here).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// The record format's version (first byte of every record).
pub(super) const FRAME_VERSION: u8 = 1;

/// Bytes of a record before its batch.
pub(super) const HEADER: usize = 1 + 8 + 4 + 4;
/// Bytes of a record after its batch.
pub(super) const CHECKSUM: usize = 16;

/// Bytes a record adds to its batch.
pub(super) const OVERHEAD: usize = HEADER + CHECKSUM;

/// The file's size never grows past this by itself (a batch that does not
/// fit goes straight to the database).
pub(super) const MAX_CAPACITY: u64 = 4 << 20;

/// The path of the log file of the database at `db`.
pub(super) fn path_of(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-log");
    PathBuf::from(name)
}

fn chain_start(generation: u64) -> [u8; CHECKSUM] {
    let mut h = Sha256::new();
    h.update(b"arbor-mls batch log");
    h.update(generation.to_be_bytes());
    truncate(h.finalize().as_slice())
}

fn truncate(digest: &[u8]) -> [u8; CHECKSUM] {
    let mut out = [0; CHECKSUM];
    out.copy_from_slice(&digest[..CHECKSUM]);
    out
}

pub(super) fn checksum(previous: &[u8; CHECKSUM], record: &[u8]) -> [u8; CHECKSUM] {
    let mut h = Sha256::new();
    h.update(previous);
    h.update(record);
    truncate(h.finalize().as_slice())
}

/// Where a record of `len` bytes goes when the last one ended at `end`:
/// right after it, or on the next page if it fits in one page but would
/// straddle two from `end`.
pub(super) fn placement(end: u64, len: u64) -> u64 {
    let in_page = end % PAGE;
    if len <= PAGE && in_page != 0 && in_page + len > PAGE {
        end - in_page + PAGE
    } else {
        end
    }
}

/// A record's batch, the offset after it, and the checksum it stores.
type Parsed<'a> = (&'a [u8], usize, [u8; CHECKSUM]);

/// Record `seq` of `generation`, chained to `previous`, where the last
/// record ended at `end`: right there (where every record of a log written
/// before [`placement`] existed is, straddling pages or not), or on the
/// next page if [`placement`] puts it there. Its batch, the offset after
/// it, its checksum.
fn next_record<'a>(
    bytes: &'a [u8],
    end: usize,
    generation: u64,
    seq: u32,
    previous: &[u8; CHECKSUM],
) -> Option<Parsed<'a>> {
    next_positions(end).into_iter().flatten().find_map(|at| {
        record_at(bytes, at, generation, seq, previous)
            .filter(|(_, next, _)| may_start(end, at, next - at))
    })
}

/// Where the record after one ending at `end` may start: at `end`, or on
/// the next page (kept only if [`placement`] puts such a record there).
fn next_positions(end: usize) -> [Option<usize>; 2] {
    let page = PAGE as usize;
    let aligned = (!end.is_multiple_of(page)).then(|| end - end % page + page);
    [Some(end), aligned]
}

/// The record at `at` if it is record `seq` of `generation` and chained to
/// `previous`: its batch, the offset after it, its checksum.
fn record_at<'a>(
    bytes: &'a [u8],
    at: usize,
    generation: u64,
    seq: u32,
    previous: &[u8; CHECKSUM],
) -> Option<Parsed<'a>> {
    chained_at(bytes, at, generation, seq, previous)
        .and_then(|(version, record)| (version == FRAME_VERSION).then_some(record))
}

/// [`record_at`] for a record of any frame version: its version too.
fn chained_at<'a>(
    bytes: &'a [u8],
    at: usize,
    generation: u64,
    seq: u32,
    previous: &[u8; CHECKSUM],
) -> Option<(u8, Parsed<'a>)> {
    let (version, (batch, next, stored)) = parse_any_version(bytes, at, generation, seq)?;
    let sum = checksum(previous, &bytes[at..next - CHECKSUM]);
    (sum == stored).then_some((version, (batch, next, sum)))
}

/// Whether a record of `len` bytes at `at` may follow one that ended at
/// `end`: right after it (as every record before [`placement`] was), or
/// where [`placement`] puts it.
fn may_start(end: usize, at: usize, len: usize) -> bool {
    at == end || placement(end as u64, len as u64) == at as u64
}

/// The record at `at` if its header is that of record `seq` of
/// `generation` (checksum not verified): its batch, the offset after it,
/// the checksum it stores.
fn parse_at(bytes: &[u8], at: usize, generation: u64, seq: u32) -> Option<Parsed<'_>> {
    parse_any_version(bytes, at, generation, seq)
        .and_then(|(version, parsed)| (version == FRAME_VERSION).then_some(parsed))
}

/// [`parse_at`] for a record of any frame version: its version too. Every
/// frame version keeps what this reads (the 17-byte header and the
/// trailing chained checksum), so that a version can recognise records of
/// later ones.
fn parse_any_version(
    bytes: &[u8],
    at: usize,
    generation: u64,
    seq: u32,
) -> Option<(u8, Parsed<'_>)> {
    let header = bytes.get(at..at.checked_add(HEADER)?)?;
    let len = u32::from_be_bytes(header[13..17].try_into().ok()?) as usize;
    if header[1..9] != generation.to_be_bytes() || header[9..13] != seq.to_be_bytes() {
        return None;
    }
    let body_end = at.checked_add(HEADER)?.checked_add(len)?;
    let next = body_end.checked_add(CHECKSUM)?;
    let stored = bytes.get(body_end..next)?.try_into().ok()?;
    Some((header[0], (&bytes[at + HEADER..body_end], next, stored)))
}

/// Whether record `seq`, after a record ending at `end`, fails its checks
/// although the record after it is chained to the checksum it stores: it
/// was written whole and damaged later, which a crash does not do.
fn damaged_at(bytes: &[u8], end: usize, generation: u64, seq: u32) -> bool {
    next_positions(end).into_iter().flatten().any(|at| {
        parse_at(bytes, at, generation, seq).is_some_and(|(_, next, stored)| {
            may_start(end, at, next - at)
                && next_record(bytes, next, generation, seq + 1, &stored).is_some()
        })
    })
}

/// The frame version of record `seq` of `generation` after a record ending
/// at `end` (with checksum `previous`), if a later version of this library
/// wrote it: its header and chained checksum check out
/// ([`chained_at`]), so it is neither torn nor stale, and no bytes another
/// member chose can pass for it.
fn newer_record_at(
    bytes: &[u8],
    end: usize,
    generation: u64,
    seq: u32,
    previous: &[u8; CHECKSUM],
) -> Option<u8> {
    // Where a later version places records is its own rule: the two places
    // looked at are only where this version puts them.
    next_positions(end).into_iter().flatten().find_map(|at| {
        let (version, _) = chained_at(bytes, at, generation, seq, previous)?;
        (version > FRAME_VERSION).then_some(version)
    })
}

fn io_error(doing: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Storage(format!("failed to {doing} {}: {e}", path.display()))
}

/// An open log file, positioned after its last record.
pub(super) struct LogFile {
    file: File,
    path: PathBuf,
    /// Whether each append is followed by `fdatasync`.
    sync: bool,
    generation: u64,
    next_seq: u32,
    /// Where the next record goes.
    end: u64,
    /// The last record's checksum (the chain's start before the first).
    chain: [u8; CHECKSUM],
    /// Bytes written (zeros or records) since creation: appends below this
    /// change no file metadata.
    allocated: u64,
    /// How large the file may be made (records past it wait for a fold).
    pub(super) capacity: u64,
    /// Whether the file was just created (its directory entry still needs
    /// an fsync).
    created: bool,
    /// Whether a record was appended without its `fdatasync` (see
    /// [`Self::append_unsynced`]).
    unsynced: bool,
}

/// What [`LogFile::open`] found.
pub(super) struct Opened {
    pub(super) log: LogFile,
    /// The batches of the current generation, in order.
    pub(super) batches: Vec<Zeroizing<Vec<u8>>>,
}

impl LogFile {
    /// Opens (creating if needed) the log at `path` and reads the records of
    /// `generation`. With `strict`, a record that fails its checks but is
    /// followed by one chained to it (so it was complete once, and has been
    /// damaged since) is an error instead of the end of the log.
    pub(super) fn open(path: PathBuf, generation: u64, sync: bool, strict: bool) -> Result<Opened> {
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error("open the batch log", &path, e))?;
        let mut bytes = Zeroizing::new(Vec::new());
        file.read_to_end(&mut bytes)
            .map_err(|e| io_error("read the batch log", &path, e))?;
        let mut log = Self {
            file,
            sync,
            generation,
            next_seq: 0,
            end: 0,
            chain: chain_start(generation),
            allocated: bytes.len() as u64,
            capacity: MAX_CAPACITY,
            created,
            unsynced: false,
            path,
        };
        let mut batches = Vec::new();
        let mut at = 0usize;
        while let Some((batch, next, sum)) =
            next_record(&bytes, at, generation, log.next_seq, &log.chain)
        {
            batches.push(Zeroizing::new(batch.to_vec()));
            at = next;
            log.chain = sum;
            log.next_seq += 1;
        }
        if let Some(version) = newer_record_at(&bytes, at, generation, log.next_seq, &log.chain) {
            // Taking it for the log's end would drop its batches, and the
            // next append would overwrite them.
            return Err(Error::Storage(format!(
                "record {} of the batch log {} has frame version {version}, newer than this \
                 library's {FRAME_VERSION}: open the database with a newer arbor-mls",
                log.next_seq,
                log.path.display()
            )));
        }
        if strict && damaged_at(&bytes, at, generation, log.next_seq) {
            return Err(Error::Storage(format!(
                "record {} of the batch log {} is corrupt (a later record is intact): \
                 restore the database and its log from a backup",
                log.next_seq,
                log.path.display()
            )));
        }
        log.end = at as u64;
        Ok(Opened { log, batches })
    }

    /// Whether a batch of `len` bytes fits after the records already here.
    pub(super) fn fits(&self, len: usize) -> bool {
        let len = (len + OVERHEAD) as u64;
        placement(self.end, len) + len <= self.capacity
    }

    /// Appends the next record, synced if the log syncs. `record` holds
    /// [`HEADER`] bytes of room, then the batch: the header is filled in
    /// and the checksum appended for the write, then taken off again, so
    /// that `record[HEADER..]` is the batch once more. On an error the
    /// record may or may not be on disk.
    pub(super) fn append(&mut self, record: &mut Vec<u8>) -> Result<()> {
        self.frame_and_write(record, self.sync)?;
        self.unsynced = false;
        Ok(())
    }

    /// Appends like [`Self::append`] without waiting for the disk: if the
    /// log syncs, the record's pages are handed to the disk at once
    /// ([`start_writeback`]) and [`Self::sync`] waits for them and flushes
    /// the disk's cache. A merge's work in memory then runs while the disk
    /// writes.
    pub(super) fn append_unsynced(&mut self, record: &mut Vec<u8>) -> Result<()> {
        let start = self.frame_and_write(record, false)?;
        if self.sync {
            self.unsynced = true;
            start_writeback(&self.file, start, self.end);
        }
        Ok(())
    }

    /// Waits until every appended record is on stable storage (nothing to
    /// do unless a record was appended by [`Self::append_unsynced`]).
    pub(super) fn sync(&mut self) -> Result<()> {
        if self.unsynced {
            self.file
                .sync_data()
                .map_err(|e| io_error("sync the batch log", &self.path, e))?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// Whether a record awaits [`Self::sync`].
    #[cfg(test)]
    pub(super) fn unsynced(&self) -> bool {
        self.unsynced
    }

    /// Frames and writes `record` (see [`Self::append`]): where it starts.
    fn frame_and_write(&mut self, record: &mut Vec<u8>, sync: bool) -> Result<u64> {
        let batch_len = record.len() - HEADER;
        record[0] = FRAME_VERSION;
        record[1..9].copy_from_slice(&self.generation.to_be_bytes());
        record[9..13].copy_from_slice(&self.next_seq.to_be_bytes());
        record[13..HEADER].copy_from_slice(&(batch_len as u32).to_be_bytes());
        let sum = checksum(&self.chain, record);
        record.extend_from_slice(&sum);
        let written = self.write_record(record, sync);
        record.truncate(record.len() - CHECKSUM);
        let start = written?;
        self.end = start + (record.len() + CHECKSUM) as u64;
        self.chain = sum;
        self.next_seq += 1;
        Ok(start)
    }

    /// Writes a framed record after the last one, where [`placement`] puts
    /// it (then `fdatasync` with `sync`): where it starts.
    fn write_record(&mut self, record: &[u8], sync: bool) -> Result<u64> {
        let start = placement(self.end, record.len() as u64);
        let end = start + record.len() as u64;
        if end > self.allocated {
            self.allocate(end.max(self.capacity))?;
        }
        write_all_at(&mut self.file, start, record)
            .and_then(|()| sync_data_if(&self.file, sync))
            .map_err(|e| io_error("append to the batch log", &self.path, e))?;
        Ok(start)
    }

    /// Writes zeros up to `size` and syncs the file (and, once, its
    /// directory), so that later appends rewrite space the file already
    /// has: their `fdatasync` then writes no metadata.
    fn allocate(&mut self, size: u64) -> Result<()> {
        let path = self.path.clone();
        write_zeros(&mut self.file, self.allocated, size)
            .and_then(|_| self.file.sync_all())
            .map_err(|e| io_error("extend", &path, e))?;
        self.allocated = size;
        if std::mem::take(&mut self.created) {
            sync_directory(&path)?;
        }
        Ok(())
    }

    /// Starts `generation` (the database has folded every record): the
    /// next record goes at offset 0, and the old records are overwritten
    /// with zeros, so the batches' values leave the disk.
    ///
    /// The new generation is taken first: if erasing fails, the old records
    /// left are ignored on reopening, and appends go on correctly.
    pub(super) fn restart(&mut self, generation: u64) -> Result<()> {
        let old_end = std::mem::take(&mut self.end);
        // The fold made every record durable in the database.
        self.unsynced = false;
        self.generation = generation;
        self.next_seq = 0;
        self.chain = chain_start(generation);
        if old_end > 0 {
            write_zeros(&mut self.file, 0, old_end)
                .and_then(|()| sync_data_if(&self.file, self.sync))
                .map_err(|e| io_error("erase the batch log", &self.path, e))?;
        }
        Ok(())
    }
}

/// Asks the kernel to start writing `from..to` of `file` to disk, without
/// waiting: `posix_fadvise(POSIX_FADV_DONTNEED)` writes dirty pages back
/// (Linux, `mm/fadvise.c`), and drops only whole pages of the range that
/// are clean ("requests to discard partial pages are ignored",
/// posix_fadvise(2)). So each page gets its own call over a range that is
/// never a whole page: the appends into the log's last page keep finding
/// it cached. `sync_file_range` says this directly, but no safe wrapper of
/// it exists. Only a hint: on an error, or elsewhere than Linux, the
/// `fdatasync` after it does all the writing.
///
/// Measured on ext4 (Linux 6.18, virtio disk), 4,200 bytes appended and
/// synced with 27 µs of computation between the append and `fdatasync`:
/// 364 µs without the hint, 331 µs with it; with 85 µs between, 390 µs
/// against 306 µs (medians of 400, interleaved).
fn start_writeback(file: &File, from: u64, to: u64) {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{Advice, fadvise};
        let mut page = from - from % PAGE;
        while page < to {
            let start = from.max(page + 1);
            let end = to.min(page + PAGE - 1);
            if let Some(len) = std::num::NonZeroU64::new(end.saturating_sub(start)) {
                let _ = fadvise(file, start, Some(len), Advice::DontNeed);
            }
            page += PAGE;
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, from, to);
}

/// `fdatasync` if the log syncs (durable mode).
fn sync_data_if(file: &File, sync: bool) -> std::io::Result<()> {
    if sync { file.sync_data() } else { Ok(()) }
}

/// Writes `bytes` at `offset`: one `pwrite` on Unix, where a separate
/// `lseek` took about a fifth of an append's time (`perf`, 1,024 members).
#[cfg(unix)]
fn write_all_at(file: &mut File, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

#[cfg(not(unix))]
fn write_all_at(file: &mut File, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(bytes)
}

/// The page size the zeros are written in (the smallest common one).
pub(super) const PAGE: u64 = 4096;

/// Writes zeros over `from..to`, one page-aligned piece of at most
/// [`PAGE`] bytes per `write`. Linux 6.x caches what one large `write`
/// wrote in large folios, and ext4 then walks every block of the folio on
/// each small write into it. Measured on ext4 (Linux 6.18): a 4,200-byte
/// `write` into a file zeroed by one 4 MiB `write` took 17.5 µs, against
/// 8.5 µs into one zeroed page by page (medians of 300, 1.5 ms apart).
fn write_zeros(file: &mut File, from: u64, to: u64) -> std::io::Result<()> {
    const ZEROS: [u8; PAGE as usize] = [0; PAGE as usize];
    file.seek(SeekFrom::Start(from))?;
    let mut at = from;
    while at < to {
        let piece = (PAGE - at % PAGE).min(to - at);
        file.write_all(&ZEROS[..piece as usize])?;
        at += piece;
    }
    Ok(())
}

#[cfg(unix)]
fn sync_directory(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("sync the directory of", path, e))
}

#[cfg(not(unix))]
fn sync_directory(_: &Path) -> Result<()> {
    Ok(())
}
