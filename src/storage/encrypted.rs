//! Encryption at rest: [`EncryptedStorage`] seals every record value with
//! XChaCha20-Poly1305 under a key the application keeps in a platform
//! keystore, bound to the record's key, over any other [`Storage`].
//!
//! Sealed value, format 1 (`docs/persistence.md`, "Encryption at rest"):
//!
//! ```text
//! 0       format (1)
//! 1..5    key id (u32, big-endian)
//! 5..29   nonce (24 random bytes)
//! 29..    ciphertext of the value, then the 16-byte tag
//! ```
//!
//! The associated data is [`AAD_LABEL`], the format byte, the key id and the
//! record key, so a value opens only under the record key it was written
//! for: one moved to another key (another tree node, another group) or
//! swapped with another record fails authentication.

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::{Storage, WriteBatch};
use crate::crypto::{OsRandom, RandomSource};
use crate::{Error, Result};

/// The format byte of a sealed value.
const FORMAT: u8 = 1;
/// Format byte and key id.
const HEADER_LEN: usize = 5;
/// XChaCha20-Poly1305's nonce.
const NONCE_LEN: usize = 24;
/// Poly1305's tag.
const TAG_LEN: usize = 16;
/// The shortest sealed value: an empty plaintext.
const MIN_SEALED_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// Prefix of the associated data: separates these ciphertexts from any
/// other use of the key.
const AAD_LABEL: &[u8] = b"arbor-mls sealed record";
/// HKDF-SHA256 labels deriving the AEAD key and the key check value from
/// the application's key (Extract without salt, then Expand), so the check
/// value reveals nothing about the AEAD key.
const AEAD_KEY_LABEL: &[u8] = b"arbor-mls storage 1 aead key";
const CHECK_LABEL: &[u8] = b"arbor-mls storage 1 key check";
/// Records of the wrapper itself, outside the library's prefixes (`c/`,
/// `g/`, `i/`, `o/`; `r/` is [`super::RollbackGuard`]'s): one key check
/// per key id in use. Hidden from `get` and `scan`; the application cannot
/// write under it.
const RESERVED_PREFIX: &[u8] = b"e/";
const CHECK_PREFIX: &[u8] = b"e/key/";

/// A 32-byte key for [`EncryptedStorage`], with the id stored beside every
/// value it seals (so that a store sealed under several keys, during a
/// rotation, can be read). Zeroized on drop; `Debug` shows the id only.
///
/// The key must be uniformly random (from a platform keystore or a CSPRNG),
/// not a password: HKDF adds no work factor.
pub struct StorageKey {
    id: u32,
    /// Derived from the application's key: seals the values.
    aead_key: Zeroizing<[u8; 32]>,
    /// Derived from the application's key: stored, to tell a wrong key
    /// from a tampered record when the store is opened.
    check: [u8; 32],
}

impl std::fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageKey")
            .field("id", &self.id)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

impl StorageKey {
    /// The key `key`, known as `id`. The argument is zeroized here; the
    /// caller's other copies are its own to wipe.
    pub fn new(id: u32, mut key: [u8; 32]) -> Self {
        let derived = Self::derive(id, &key);
        key.zeroize();
        derived
    }

    /// The key in `bytes` (as a keystore returns it), which must be 32
    /// bytes long ([`Error::Misuse`] otherwise).
    pub fn from_slice(id: u32, bytes: &[u8]) -> Result<Self> {
        let key = Zeroizing::new(<[u8; 32]>::try_from(bytes).map_err(|_| {
            Error::Misuse(format!(
                "a storage key is 32 bytes, not {} (key id {id})",
                bytes.len()
            ))
        })?);
        Ok(Self::derive(id, &key))
    }

    /// The id stored with every value this key seals.
    pub fn id(&self) -> u32 {
        self.id
    }

    fn derive(id: u32, key: &[u8; 32]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(None, key);
        let mut aead_key = Zeroizing::new([0u8; 32]);
        let mut check = [0u8; 32];
        // HKDF-Expand fails only past 255 hash lengths; 32 bytes never do.
        let expanded = hkdf.expand(AEAD_KEY_LABEL, &mut *aead_key).is_ok()
            & hkdf.expand(CHECK_LABEL, &mut check).is_ok();
        debug_assert!(expanded, "HKDF-SHA256 expands to 32 bytes");
        Self {
            id,
            aead_key,
            check,
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.aead_key).into())
    }
}

/// A [`Storage`] that seals each record value with XChaCha20-Poly1305
/// under an application-supplied [`StorageKey`] before passing it to the
/// storage it wraps (memory, SQLite or the application's own), and opens
/// it when read back.
///
/// - **Record binding.** The associated data holds the record's key, so a
///   value moved to another key or swapped with another record fails to
///   open.
/// - **Nonces.** Each write draws a fresh 192-bit nonce from the
///   [`RandomSource`] ([`OsRandom`] unless [`Self::with_random`]). Random
///   nonces of this length may repeat with probability about `n² / 2¹⁹³`
///   after `n` writes: below 2⁻⁶⁴ up to 2⁶⁴ writes per key, so no write
///   count limits a key in practice (96-bit nonces would allow about 2³²).
/// - **Keys are not encrypted**, so [`Storage::scan`] by prefix works: the
///   record keys reveal group ids (in hex), how many groups, members'
///   records and epochs retained there are, and the sizes of values.
/// - **Rotation** ([`Self::rotate_to`]) re-seals every record in one
///   atomic batch. Opening with old keys beside the current one reads a
///   store partly sealed under them; new writes use the current key.
/// - **Errors.** Opening with a key whose id the store uses but whose bytes
///   differ, or without a key the store uses, fails with
///   [`Error::Misuse`] naming the key id (the application's mistake;
///   action [`FixCall`](crate::Action::FixCall)). A value that does not
///   open under the right key (tampered, moved, truncated, not sealed) is
///   [`Error::Storage`] naming the record's key, like any other corrupt
///   record: retrying reads it the same way.
///
/// The wrapper keeps one record of its own per key id in use,
/// `e/key/<id in hex>`: a check value derived from the key (not the key),
/// which is how a wrong key is told from tampering. Its prefix `e/` is
/// reserved: writes under it are refused, and reads do not see it.
pub struct EncryptedStorage<S> {
    inner: S,
    current: StorageKey,
    /// Keys that may still seal some records, during a rotation.
    old: Vec<StorageKey>,
    /// Check records stored in `inner`, by key id: kept so that a batch
    /// deleting a prefix that covers them writes them again.
    checks: Vec<(u32, [u8; 32])>,
    rng: Box<dyn RandomSource>,
}

impl<S> std::fmt::Debug for EncryptedStorage<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedStorage")
            .field("current", &self.current)
            .field("old", &self.old)
            .finish_non_exhaustive()
    }
}

impl<S: Storage> EncryptedStorage<S> {
    /// Opens `inner` sealed under `key` (an empty store is sealed under it
    /// from now on). See [`Self::open_with_old_keys`].
    pub fn open(inner: S, key: StorageKey) -> Result<Self> {
        Self::open_with_old_keys(inner, key, Vec::new())
    }

    /// Opens `inner` with `current` for new writes and `old` for records
    /// an interrupted or lazy rotation left under them.
    ///
    /// Fails with [`Error::Misuse`] if two keys share an id, if a key's id
    /// is one the store uses but its bytes are not that key (a wrong key),
    /// if the store uses a key id none of the keys has, or if the store
    /// holds records but was never sealed (the values are plaintext).
    /// Writes the current key's check record if the store has none yet.
    pub fn open_with_old_keys(inner: S, current: StorageKey, old: Vec<StorageKey>) -> Result<Self> {
        let mut store = Self {
            inner,
            current,
            old,
            checks: Vec::new(),
            rng: Box::new(OsRandom),
        };
        let mut ids: Vec<u32> = store.keys().map(StorageKey::id).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::Misuse(format!(
                "two storage keys have id {}: each key needs its own id",
                w[0]
            )));
        }
        store.checks = store.read_checks()?;
        if store.checks.is_empty() {
            let plaintext = store
                .inner
                .scan(b"")?
                .into_iter()
                .any(|(k, _)| !k.starts_with(RESERVED_PREFIX));
            if plaintext {
                return Err(Error::Misuse(
                    "the storage holds records but was never sealed by EncryptedStorage: its \
                     values are plaintext (open it without encryption, or start from an empty \
                     store)"
                        .into(),
                ));
            }
        }
        for (id, stored) in &store.checks {
            let Some(key) = store.key(*id) else {
                return Err(Error::Misuse(format!(
                    "the storage holds records sealed under key id {id}, and no key with that id \
                     was supplied: pass it (as the current key or an old one)"
                )));
            };
            if !bool::from(key.check.ct_eq(stored)) {
                return Err(Error::Misuse(format!(
                    "wrong storage key: key id {id} is not the key this storage was sealed with"
                )));
            }
        }
        if store.key_in_use(store.current.id).is_none() {
            let mut batch = WriteBatch::default();
            batch.put(check_key(store.current.id), store.current.check.to_vec());
            store.inner.write(batch)?;
            store.checks.push((store.current.id, store.current.check));
        }
        Ok(store)
    }

    /// Draws nonces from `rng` instead of the operating system (tests,
    /// platforms whose randomness the host supplies).
    pub fn with_random(mut self, rng: Box<dyn RandomSource>) -> Self {
        self.rng = rng;
        self
    }

    /// The wrapped storage (values as stored: sealed).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The id of the key new writes are sealed under.
    pub fn key_id(&self) -> u32 {
        self.current.id
    }

    /// Re-seals every record under `new` in one atomic batch (written
    /// durably, with [`Storage::write`]), which then seals every later
    /// write; the old keys are dropped. A crash leaves the store sealed as
    /// before or entirely under `new`; until the batch is written, open
    /// with `new` as the current key and the old ones beside it.
    ///
    /// The whole store is held in memory (decrypted, zeroized after) while
    /// the batch is built. `new` may be the current key, to finish a lazy
    /// rotation. Fails with [`Error::Misuse`] if `new` reuses the id of
    /// another supplied key, and with [`Error::Storage`] naming the record
    /// if a record does not open (nothing is written then).
    pub fn rotate_to(&mut self, new: StorageKey) -> Result<()> {
        if let Some(existing) = self.key(new.id)
            && !bool::from(existing.check.ct_eq(&new.check))
        {
            return Err(Error::Misuse(format!(
                "key id {} already names another storage key: a new key needs a new id",
                new.id
            )));
        }
        // Wiped when dropped, on every path out.
        let records: Vec<(Vec<u8>, Zeroizing<Vec<u8>>)> = self
            .scan(b"")?
            .into_iter()
            .map(|(k, v)| (k, Zeroizing::new(v)))
            .collect();
        let mut batch = WriteBatch::default();
        batch.delete_prefix(CHECK_PREFIX.to_vec());
        batch.put(check_key(new.id), new.check.to_vec());
        for (key, value) in records {
            let sealed = seal(&new, &mut *self.rng, &key, &value)?;
            batch.put(key, sealed);
        }
        self.inner.write(batch)?;
        self.checks = vec![(new.id, new.check)];
        self.current = new;
        self.old.clear();
        Ok(())
    }

    fn keys(&self) -> impl Iterator<Item = &StorageKey> {
        std::iter::once(&self.current).chain(&self.old)
    }

    fn key(&self, id: u32) -> Option<&StorageKey> {
        self.keys().find(|k| k.id == id)
    }

    fn key_in_use(&self, id: u32) -> Option<&[u8; 32]> {
        self.checks.iter().find(|(i, _)| *i == id).map(|(_, c)| c)
    }

    fn read_checks(&self) -> Result<Vec<(u32, [u8; 32])>> {
        let mut checks = Vec::new();
        for (key, value) in self.inner.scan(CHECK_PREFIX)? {
            // A backend's scan is input too: the prefix is checked, not
            // assumed.
            let id = key
                .strip_prefix(CHECK_PREFIX)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .filter(|hex| hex.len() == 8)
                .and_then(|hex| u32::from_str_radix(hex, 16).ok());
            let check = <[u8; 32]>::try_from(value.as_slice()).ok();
            match (id, check) {
                (Some(id), Some(check)) => checks.push((id, check)),
                _ => {
                    return Err(Error::Storage(format!(
                        "record {:?} is not a key check record ({} bytes): the database is \
                         corrupt or was changed outside arbor-mls",
                        String::from_utf8_lossy(&key),
                        value.len()
                    )));
                }
            }
        }
        Ok(checks)
    }

    /// Opens `value`, stored under `key`.
    fn open_value(&self, key: &[u8], value: &[u8]) -> Result<Vec<u8>> {
        let corrupt = |why: String| {
            Error::Storage(format!(
                "record {:?} {why}: it was tampered with, moved from another record key, \
                 truncated, or not written through EncryptedStorage",
                String::from_utf8_lossy(key)
            ))
        };
        if value.len() < MIN_SEALED_LEN {
            return Err(corrupt(format!(
                "is {} bytes, shorter than any sealed value ({MIN_SEALED_LEN})",
                value.len()
            )));
        }
        let (header, rest) = value.split_at(HEADER_LEN);
        if header[0] != FORMAT {
            return Err(corrupt(format!("has unknown sealed format {}", header[0])));
        }
        let id = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let Some(sealing_key) = self.key(id) else {
            return Err(corrupt(format!(
                "is sealed under key id {id}, which was not supplied"
            )));
        };
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::<XChaCha20Poly1305>::try_from(nonce)
            .map_err(|_| Error::Internal("the nonce slice is NONCE_LEN bytes"))?;
        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        sealing_key
            .cipher()
            .decrypt_in_place(&nonce, &aad(header, key), &mut *plaintext)
            .map_err(|_| corrupt(format!("fails authentication under key id {id}")))?;
        Ok(std::mem::take(&mut *plaintext))
    }

    /// Seals the batch's values under the current key, in place, and
    /// writes the check records again if a prefix delete covers them.
    fn seal_batch(&mut self, batch: &mut WriteBatch) -> Result<()> {
        for (key, value) in &mut batch.ops {
            if key.starts_with(RESERVED_PREFIX) {
                return Err(Error::Misuse(format!(
                    "record key {:?} is under the prefix EncryptedStorage reserves (e/)",
                    String::from_utf8_lossy(key)
                )));
            }
            if let Some(plaintext) = value {
                let sealed = seal(&self.current, &mut *self.rng, key, plaintext)?;
                plaintext.zeroize();
                *plaintext = sealed;
            }
        }
        if batch
            .delete_prefixes
            .iter()
            .any(|p| CHECK_PREFIX.starts_with(p) || p.starts_with(CHECK_PREFIX))
        {
            for (id, check) in &self.checks {
                batch.put(check_key(*id), check.to_vec());
            }
        }
        Ok(())
    }
}

/// The record key of key `id`'s check value.
fn check_key(id: u32) -> Vec<u8> {
    let mut key = CHECK_PREFIX.to_vec();
    key.extend_from_slice(format!("{id:08x}").as_bytes());
    key
}

/// The associated data of the value under `record_key`: label, format and
/// key id (fixed lengths), then the record key.
fn aad(header: &[u8], record_key: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + header.len() + record_key.len());
    aad.extend_from_slice(AAD_LABEL);
    aad.extend_from_slice(header);
    aad.extend_from_slice(record_key);
    aad
}

/// `plaintext`, under `record_key`, sealed with `key`.
fn seal(
    key: &StorageKey,
    rng: &mut dyn RandomSource,
    record_key: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(MIN_SEALED_LEN + plaintext.len());
    out.push(FORMAT);
    out.extend_from_slice(&key.id.to_be_bytes());
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce)?;
    out.extend_from_slice(&nonce);
    let aad = aad(&out[..HEADER_LEN], record_key);
    let nonce = Nonce::<XChaCha20Poly1305>::from(nonce);
    // Encrypted in place past the header; the buffer holds plaintext until
    // then, so it is wiped if encryption fails.
    let mut body = Zeroizing::new(plaintext.to_vec());
    key.cipher()
        .encrypt_in_place(&nonce, &aad, &mut *body)
        .map_err(|_| Error::Internal("XChaCha20-Poly1305 refused a record value"))?;
    out.extend_from_slice(&body);
    Ok(out)
}

impl<S: Storage> Storage for EncryptedStorage<S> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if key.starts_with(RESERVED_PREFIX) {
            return Ok(None);
        }
        match self.inner.get(key)? {
            Some(value) => self.open_value(key, &value).map(Some),
            None => Ok(None),
        }
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        for (key, value) in self.inner.scan(prefix)? {
            if key.starts_with(RESERVED_PREFIX) {
                continue;
            }
            let plaintext = self.open_value(&key, &value);
            match plaintext {
                Ok(p) => out.push((key, p)),
                Err(e) => {
                    // The records opened so far hold secrets.
                    for (_, v) in &mut out {
                        v.zeroize();
                    }
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    fn write(&mut self, mut batch: WriteBatch) -> Result<()> {
        self.seal_batch(&mut batch)?;
        self.inner.write(batch)
    }

    fn write_unflushed(&mut self, mut batch: WriteBatch) -> Result<()> {
        self.seal_batch(&mut batch)?;
        self.inner.write_unflushed(batch)
    }

    fn flush(&mut self) -> Result<()> {
        self.inner.flush()
    }

    fn compact(&mut self) -> Result<()> {
        self.inner.compact()
    }

    /// The condition is on plaintexts, but sealed values differ at every
    /// write (fresh nonces): the record is read and opened here, compared
    /// with `expected`, and the inner write is conditional on the sealed
    /// bytes read, so a writer that changed it in between still makes the
    /// inner backend refuse.
    fn write_if(
        &mut self,
        key: &[u8],
        expected: Option<&[u8]>,
        mut batch: WriteBatch,
    ) -> Result<()> {
        if key.starts_with(RESERVED_PREFIX) {
            return Err(Error::Misuse(
                "the key check records of EncryptedStorage are not application records".into(),
            ));
        }
        let sealed = self.inner.get(key)?;
        let mut found = match &sealed {
            Some(value) => Some(self.open_value(key, value)?),
            None => None,
        };
        let checked = super::check_expected(key, found.as_deref(), expected);
        if let Some(f) = &mut found {
            f.zeroize();
        }
        checked?;
        self.seal_batch(&mut batch)?;
        self.inner.write_if(key, sealed.as_deref(), batch)
    }
}

#[cfg(test)]
#[path = "encrypted_tests.rs"]
mod tests;
