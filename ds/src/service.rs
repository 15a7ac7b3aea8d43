//! The delivery service's requests, over a [`Storage`]: key packages,
//! groups followed by an [`Observer`] each, one message log per group read
//! by each member from its own cursor, Welcomes and GroupInfo.
//!
//! The records are the application's (under `a/ds/`, inside the prefix
//! [`APP_KEY_PREFIX`](arbor_mls::storage::APP_KEY_PREFIX) the library leaves
//! to applications), beside the observers' own:
//!
//! ```text
//! a/ds/kp/<name>/<id, 16 hex>      a key package of <name>, taken once
//! a/ds/w/<name>/<id, 16 hex>       a Welcome for <name>, taken once
//! a/ds/g/<hex group id>/seq        the last sequence number of the group's log (u64 BE)
//! a/ds/g/<hex group id>/m/<seq, 16 hex>
//!                                  a log entry: kind (0 message, 1 commit), sender
//!                                  name (u8 length, bytes), the MLS message
//! ```
//!
//! Every write of a group's log goes through its observer
//! ([`Observer::merge_with`], [`Observer::process_with`]): on PostgreSQL
//! (shared observers) it is conditional on the observer's change counter,
//! so the instances number the log without gaps or duplicates, and an
//! accepted commit, its log entry and its Welcomes are one transaction.
//! Taking a key package or a Welcome is a conditional delete of its record
//! ([`Storage::write_if`]): each is handed out once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arbor_mls::crypto::{OsRandom, RandomSource};
use arbor_mls::storage::{SharedStorage, Storage, WriteBatch};
use arbor_mls::{CommitOrder, Error, ErrorCategory, Observed, Observer, ObserverOptions, Route};

use crate::http::{Request, Response};
use crate::wire::{self, hex, unhex};

/// Entries of a group's log returned by one fetch; the client asks again
/// from the last one.
pub const MAX_FETCH: usize = 256;
/// The longest member name (names are `[A-Za-z0-9._@-]`).
pub const MAX_NAME: usize = 128;
/// How often a change is retried after another instance changed the
/// group in between (each retry first catches up).
const RETRIES: usize = 8;

/// A log entry's kind.
const KIND_MESSAGE: u8 = 0;
const KIND_COMMIT: u8 = 1;

/// The delivery service of one instance.
pub struct Service {
    storage: SharedStorage,
    /// Whether other instances share the storage (PostgreSQL).
    shared: bool,
    /// The observers this instance loaded, each behind its own lock.
    groups: Mutex<Groups>,
    /// Test fault (see `PgStorage::pause_in_write_if`): armed just before
    /// a commit's merge is written.
    pause: Option<Arc<AtomicBool>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

type Reply = Result<Response, Response>;
type Groups = HashMap<Vec<u8>, Arc<Mutex<Observer>>>;

fn bad(e: impl std::fmt::Display) -> Response {
    Response::new(400, e.to_string())
}

fn storage_failed(e: impl std::fmt::Display) -> Response {
    Response::new(503, format!("storage: {e}"))
}

/// The reply to a library error: the client's fault, a conflict, or ours.
fn from_error(e: Error) -> Response {
    match e {
        Error::Storage(_) | Error::StorageUncertain(_) | Error::Conflict(_) => storage_failed(e),
        Error::Internal(_) | Error::Misuse(_) => Response::new(500, e.to_string()),
        e if e.category() == ErrorCategory::WrongEpoch => Response::new(409, e.to_string()),
        e => bad(e),
    }
}

fn name(s: Option<&str>) -> Result<&str, Response> {
    let s = s.ok_or_else(|| bad("missing member name"))?;
    let ok = !s.is_empty()
        && s.len() <= MAX_NAME
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
    if ok {
        Ok(s)
    } else {
        Err(bad(format!(
            "a name is 1 to {MAX_NAME} characters of [A-Za-z0-9._@-]"
        )))
    }
}

fn random_id() -> Result<String, Response> {
    let mut id = [0u8; 8];
    OsRandom
        .fill(&mut id)
        .map_err(|e| Response::new(500, e.to_string()))?;
    Ok(hex(&id))
}

fn log_prefix(group_id: &[u8]) -> Vec<u8> {
    format!("a/ds/g/{}/m/", hex(group_id)).into_bytes()
}

fn seq_key(group_id: &[u8]) -> Vec<u8> {
    format!("a/ds/g/{}/seq", hex(group_id)).into_bytes()
}

impl Service {
    /// A service over `storage`; `shared`: other instances use the same
    /// storage (it must implement [`Storage::write_if`]).
    pub fn new(storage: SharedStorage, shared: bool) -> Self {
        Self {
            storage,
            shared,
            groups: Mutex::new(HashMap::new()),
            pause: None,
        }
    }

    /// Arms `flag` before writing each commit's merge (a test fault of the
    /// storage, see `arbor-ds`'s `ARBOR_DS_PAUSE_IN_COMMIT`).
    #[doc(hidden)]
    pub fn with_commit_pause(mut self, flag: Arc<AtomicBool>) -> Self {
        self.pause = Some(flag);
        self
    }

    fn options(&self) -> ObserverOptions {
        ObserverOptions {
            storage: Some(self.storage.clone()),
            shared: self.shared,
            ..ObserverOptions::default()
        }
    }

    fn with_storage<T>(
        &self,
        f: impl FnOnce(&mut dyn Storage) -> arbor_mls::Result<T>,
    ) -> Result<T, Response> {
        let mut guard = self
            .storage
            .lock()
            .map_err(|_| storage_failed("the storage lock is poisoned"))?;
        f(&mut *guard).map_err(storage_failed)
    }

    /// Answers one request (see the crate documentation for the routes).
    pub fn handle(&self, request: &Request) -> Response {
        self.route(request).unwrap_or_else(|e| e)
    }

    fn route(&self, r: &Request) -> Reply {
        let segments: Vec<&str> = r.path.trim_matches('/').split('/').collect();
        match (r.method.as_str(), segments.as_slice()) {
            ("GET", ["health"]) => Ok(Response::new(200, "ok")),
            ("POST", ["key-packages", owner]) => self.publish_key_package(name(Some(owner))?, r),
            ("POST", ["key-packages", owner, "take"]) => self.take_key_package(name(Some(owner))?),
            ("POST", ["welcomes", owner, "take"]) => self.take_welcomes(name(Some(owner))?),
            ("POST", ["groups"]) => self.create_group(r),
            ("POST", ["groups", id, "commit"]) => self.commit(group_id(id)?, r),
            ("POST", ["groups", id, "messages"]) => self.send(group_id(id)?, r),
            ("GET", ["groups", id, "messages"]) => self.fetch(group_id(id)?, r),
            ("POST", ["groups", id, "group-info"]) => self.upload_group_info(group_id(id)?, r),
            ("GET", ["groups", id, "group-info"]) => self.group_info(group_id(id)?),
            _ => Err(Response::new(
                404,
                format!("no route {} {}", r.method, r.path),
            )),
        }
    }

    fn publish_key_package(&self, owner: &str, r: &Request) -> Reply {
        if r.body.is_empty() {
            return Err(bad("empty key package"));
        }
        let key = format!("a/ds/kp/{owner}/{}", random_id()?).into_bytes();
        let mut batch = WriteBatch::default();
        batch.put(key, r.body.clone());
        self.with_storage(|s| s.write(batch))?;
        Ok(Response::new(204, ""))
    }

    /// Takes one record under `prefix`: a conditional delete, so that of
    /// two instances taking the same record one gets it.
    fn take_one(&self, prefix: &str) -> Result<Option<Vec<u8>>, Response> {
        let records = self.with_storage(|s| s.scan(prefix.as_bytes()))?;
        for (key, value) in records {
            let mut batch = WriteBatch::default();
            batch.delete(key.clone());
            let taken = self.with_storage(|s| match s.write_if(&key, Some(&value), batch) {
                Ok(()) => Ok(true),
                Err(Error::Conflict(_)) => Ok(false),
                Err(e) => Err(e),
            })?;
            if taken {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    fn take_key_package(&self, owner: &str) -> Reply {
        match self.take_one(&format!("a/ds/kp/{owner}/"))? {
            Some(kp) => Ok(Response::new(200, kp)),
            None => Err(Response::new(404, format!("no key package of {owner}"))),
        }
    }

    fn take_welcomes(&self, owner: &str) -> Reply {
        let mut welcomes = Vec::new();
        while let Some(w) = self.take_one(&format!("a/ds/w/{owner}/"))? {
            welcomes.push(w);
        }
        let parts: Vec<&[u8]> = welcomes.iter().map(Vec::as_slice).collect();
        Ok(Response::new(200, wire::encode(&parts)))
    }

    /// Body: the creator's GroupInfo of epoch 0 (with the ratchet tree
    /// extension), or parts [GroupInfo, ratchet tree].
    fn create_group(&self, r: &Request) -> Reply {
        let parts = wire::decode(&r.body).filter(|p| p.len() == 2);
        let (info, tree) = match &parts {
            Some(p) => (p[0].as_slice(), Some(p[1].as_slice())),
            None => (r.body.as_slice(), None),
        };
        // Checked without storage first: the group id, and whether the
        // group is hosted already (alone, creating it again would replace
        // its records; shared, the conditional write refuses it too).
        let checked = Observer::from_group_info(info, tree, ObserverOptions::default())
            .map_err(from_error)?;
        if Observer::load(checked.group_id(), self.options())
            .map_err(from_error)?
            .is_some()
        {
            return Err(Response::new(409, "the group exists"));
        }
        let observer = match Observer::from_group_info(info, tree, self.options()) {
            Ok(o) => o,
            Err(Error::Conflict(_)) => return Err(Response::new(409, "the group exists")),
            Err(e) => return Err(from_error(e)),
        };
        let id = observer.group_id().to_vec();
        self.lock_groups()?
            .insert(id.clone(), Arc::new(Mutex::new(observer)));
        Ok(Response::new(201, hex(&id)))
    }

    fn lock_groups(&self) -> Result<std::sync::MutexGuard<'_, Groups>, Response> {
        self.groups
            .lock()
            .map_err(|_| Response::new(500, "the group map's lock is poisoned"))
    }

    /// The observer of `group_id`, loaded from storage on first use.
    fn observer(&self, group_id: &[u8]) -> Result<Arc<Mutex<Observer>>, Response> {
        let mut groups = self.lock_groups()?;
        if let Some(o) = groups.get(group_id) {
            return Ok(o.clone());
        }
        let observer = Observer::load(group_id, self.options())
            .map_err(from_error)?
            .ok_or_else(|| Response::new(404, "no such group"))?;
        let observer = Arc::new(Mutex::new(observer));
        groups.insert(group_id.to_vec(), observer.clone());
        Ok(observer)
    }

    /// Runs `f` on the group's observer, retrying (after catching up) while
    /// another instance changes the group first.
    fn with_observer(
        &self,
        group_id: &[u8],
        mut f: impl FnMut(&mut Observer) -> Result<Reply, Error>,
    ) -> Reply {
        let observer = self.observer(group_id)?;
        let mut observer = observer
            .lock()
            .map_err(|_| Response::new(500, "an observer's lock is poisoned"))?;
        for _ in 0..RETRIES {
            observer.catch_up().map_err(from_error)?;
            match f(&mut observer) {
                Ok(reply) => return reply,
                // The observer reloaded what the other instance stored.
                Err(Error::Conflict(_)) => continue,
                Err(e) => return Err(from_error(e)),
            }
        }
        Err(Response::new(
            503,
            "the group kept changing under this request: retry",
        ))
    }

    /// The next sequence number of the group's log and the batch writing
    /// `entry` under it. Read after catching up: the batch is written
    /// conditionally on the observer's state, so a number read from a
    /// stale state is never written.
    fn append(
        &self,
        group_id: &[u8],
        kind: u8,
        sender: &str,
        message: &[u8],
    ) -> Result<(u64, WriteBatch), Error> {
        let key = seq_key(group_id);
        let last = self
            .storage
            .lock()
            .map_err(|_| Error::Storage("the storage lock is poisoned".into()))?
            .get(&key)?
            .map(|v| {
                <[u8; 8]>::try_from(v.as_slice())
                    .map(u64::from_be_bytes)
                    .map_err(|_| Error::Storage("a bad log sequence record".into()))
            })
            .transpose()?
            .unwrap_or(0);
        let seq = last + 1;
        let mut entry = vec![kind, u8::try_from(sender.len()).unwrap_or(u8::MAX)];
        entry.extend_from_slice(sender.as_bytes());
        entry.extend_from_slice(message);
        let mut batch = WriteBatch::default();
        let mut entry_key = log_prefix(group_id);
        entry_key.extend_from_slice(format!("{seq:016x}").as_bytes());
        batch.put(entry_key, entry);
        batch.put(key, seq.to_be_bytes().to_vec());
        Ok((seq, batch))
    }

    /// Body: parts [commit, Welcome (empty: none), the Welcome's
    /// recipients' names, one per line]. 200 with the log sequence number
    /// (8 bytes BE); 409 "epoch taken" when another commit took the epoch.
    fn commit(&self, group_id: Vec<u8>, r: &Request) -> Reply {
        let sender = name(r.param("from"))?;
        let parts = wire::decode(&r.body)
            .filter(|p| p.len() == 3)
            .ok_or_else(|| bad("expected parts [commit, welcome, recipients]"))?;
        let (commit, welcome) = (&parts[0], &parts[1]);
        let recipients = std::str::from_utf8(&parts[2]).map_err(bad)?;
        let recipients: Vec<&str> = recipients
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| name(Some(l)))
            .collect::<Result<_, _>>()?;
        let route = Route::of(commit).map_err(bad)?;
        if route.group_id != group_id || !route.is_commit() {
            return Err(bad("not a commit of this group"));
        }
        self.with_observer(&group_id, |observer| {
            match observer.commit_order(route.epoch) {
                CommitOrder::Next => {}
                CommitOrder::Taken { current } => return Ok(Err(taken(route.epoch, current))),
                CommitOrder::Ahead { current } => {
                    return Ok(Err(Response::new(
                        409,
                        format!(
                            "commit for epoch {} is ahead: the group is in epoch {current}",
                            route.epoch
                        ),
                    )));
                }
            }
            let staged = match observer.process(commit) {
                Ok(Observed::Commit(staged)) => staged,
                Ok(_) => return Ok(Err(bad("not a commit"))),
                Err(e) if e.category() == ErrorCategory::WrongEpoch => {
                    return Ok(Err(taken(route.epoch, observer.epoch())));
                }
                Err(e) => return Ok(Err(bad(format!("commit refused: {e}")))),
            };
            let (seq, mut batch) = self.append(&group_id, KIND_COMMIT, sender, commit)?;
            if !welcome.is_empty() {
                for recipient in &recipients {
                    let key = format!(
                        "a/ds/w/{recipient}/{}",
                        random_id().map_err(|r| { Error::Storage(r.text()) })?
                    );
                    batch.put(key.into_bytes(), welcome.clone());
                }
            }
            if let Some(flag) = &self.pause {
                flag.store(true, Ordering::SeqCst);
            }
            observer.merge_with(*staged, batch)?;
            Ok(Ok(Response::new(200, seq.to_be_bytes().to_vec())))
        })
    }

    /// Body: a proposal (PublicMessage) or a PrivateMessage. 200 with the
    /// log sequence number.
    fn send(&self, group_id: Vec<u8>, r: &Request) -> Reply {
        let sender = name(r.param("from"))?;
        let route = Route::of(&r.body).map_err(bad)?;
        if route.group_id != group_id {
            return Err(bad("not a message of this group"));
        }
        if route.is_commit() {
            return Err(bad("commits go to /groups/<id>/commit"));
        }
        self.with_observer(&group_id, |observer| {
            let (seq, batch) = self.append(&group_id, KIND_MESSAGE, sender, &r.body)?;
            match observer.process_with(&r.body, batch) {
                Ok(_) => Ok(Ok(Response::new(200, seq.to_be_bytes().to_vec()))),
                Err(Error::Conflict(c)) => Err(Error::Conflict(c)),
                Err(e) => Ok(Err(from_error(e))),
            }
        })
    }

    /// Query `member` and `after` (a sequence number, 0 for the start):
    /// parts [sequence number (8 bytes BE), message]... for the entries
    /// after `after`, at most [`MAX_FETCH`], leaving out the member's own
    /// messages but not its commits (the echo that merges them).
    fn fetch(&self, group_id: Vec<u8>, r: &Request) -> Reply {
        let member = name(r.param("member"))?;
        let after: u64 = r
            .param("after")
            .unwrap_or("0")
            .parse()
            .map_err(|_| bad("after: a sequence number"))?;
        let prefix = log_prefix(&group_id);
        let records = self.with_storage(|s| s.scan(&prefix))?;
        if records.is_empty() {
            // An unknown group, or one without messages yet.
            self.observer(&group_id)?;
        }
        let mut parts: Vec<Vec<u8>> = Vec::new();
        for (key, entry) in records {
            let seq = std::str::from_utf8(&key[prefix.len()..])
                .ok()
                .and_then(|s| u64::from_str_radix(s, 16).ok())
                .ok_or_else(|| storage_failed("a bad log key"))?;
            if seq <= after {
                continue;
            }
            let [kind, len, rest @ ..] = entry.as_slice() else {
                return Err(storage_failed("a bad log entry"));
            };
            let len = usize::from(*len);
            if rest.len() < len {
                return Err(storage_failed("a bad log entry"));
            }
            let (sender, message) = rest.split_at(len);
            if *kind == KIND_MESSAGE && sender == member.as_bytes() {
                continue;
            }
            parts.push(seq.to_be_bytes().to_vec());
            parts.push(message.to_vec());
            if parts.len() >= 2 * MAX_FETCH {
                break;
            }
        }
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        Ok(Response::new(200, wire::encode(&refs)))
    }

    fn upload_group_info(&self, group_id: Vec<u8>, r: &Request) -> Reply {
        self.with_observer(&group_id, |observer| {
            match observer.accept_group_info(&r.body) {
                Ok(()) => Ok(Ok(Response::new(204, ""))),
                Err(Error::Conflict(c)) => Err(Error::Conflict(c)),
                Err(e) => Ok(Err(from_error(e))),
            }
        })
    }

    /// Parts [GroupInfo, ratchet tree] of the current epoch; 404 before a
    /// member uploaded the epoch's GroupInfo.
    fn group_info(&self, group_id: Vec<u8>) -> Reply {
        self.with_observer(&group_id, |observer| {
            let Some(info) = observer.group_info() else {
                return Ok(Err(Response::new(
                    404,
                    format!("no GroupInfo uploaded for epoch {}", observer.epoch()),
                )));
            };
            let tree = observer.ratchet_tree()?;
            Ok(Ok(Response::new(200, wire::encode(&[info, &tree]))))
        })
    }
}

fn taken(epoch: u64, current: u64) -> Response {
    Response::new(
        409,
        format!(
            "epoch taken: another commit took epoch {epoch} (the group is in epoch {current}); \
             fetch it and retry"
        ),
    )
}

fn group_id(s: &str) -> Result<Vec<u8>, Response> {
    unhex(s).ok_or_else(|| bad("the group id is hex"))
}
