//! A client of the service's HTTP interface (what the tests and
//! `examples/delivery_service.rs` use; any HTTP client can speak it).

use crate::http::{Response, call};
use crate::wire::{self, hex};

/// What a call failed with.
#[derive(Debug)]
pub enum DsError {
    /// The connection failed or broke (the instance may have died): the
    /// request may or may not have been applied.
    Io(std::io::Error),
    /// The service answered with an error status; the body explains it.
    Status(u16, String),
    /// The reply could not be decoded.
    BadReply(&'static str),
}

impl std::fmt::Display for DsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "connection: {e}"),
            Self::Status(code, text) => write!(f, "{code}: {text}"),
            Self::BadReply(what) => write!(f, "bad reply: {what}"),
        }
    }
}

impl std::error::Error for DsError {}

/// The outcome of submitting a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitReply {
    /// Accepted: the commit is the epoch's, at this position of the log.
    Accepted(u64),
    /// Another commit took the epoch (409): fetch it, then retry.
    EpochTaken(String),
}

/// One instance's address (`host:port`).
#[derive(Debug, Clone)]
pub struct DsClient {
    addr: String,
}

fn seq_of(body: &[u8]) -> Result<u64, DsError> {
    <[u8; 8]>::try_from(body)
        .map(u64::from_be_bytes)
        .map_err(|_| DsError::BadReply("a sequence number"))
}

impl DsClient {
    /// A client of the instance at `addr` (`host:port`).
    pub fn new(addr: impl Into<String>) -> Self {
        Self { addr: addr.into() }
    }

    /// The instance's address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    fn call(&self, method: &str, target: &str, body: &[u8]) -> Result<Response, DsError> {
        call(self.addr.as_str(), method, target, body).map_err(DsError::Io)
    }

    fn ok(&self, method: &str, target: &str, body: &[u8]) -> Result<Vec<u8>, DsError> {
        let r = self.call(method, target, body)?;
        if (200..300).contains(&r.status) {
            Ok(r.body)
        } else {
            Err(DsError::Status(r.status, r.text()))
        }
    }

    /// Publishes a key package of `owner`.
    pub fn publish_key_package(&self, owner: &str, key_package: &[u8]) -> Result<(), DsError> {
        self.ok("POST", &format!("/key-packages/{owner}"), key_package)
            .map(drop)
    }

    /// Takes one key package of `owner` (each is handed out once).
    pub fn take_key_package(&self, owner: &str) -> Result<Option<Vec<u8>>, DsError> {
        match self.ok("POST", &format!("/key-packages/{owner}/take"), b"") {
            Ok(kp) => Ok(Some(kp)),
            Err(DsError::Status(404, _)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Takes the Welcomes queued for `owner`.
    pub fn take_welcomes(&self, owner: &str) -> Result<Vec<Vec<u8>>, DsError> {
        let body = self.ok("POST", &format!("/welcomes/{owner}/take"), b"")?;
        wire::decode(&body).ok_or(DsError::BadReply("parts"))
    }

    /// Hosts a new group from its creator's GroupInfo of epoch 0 (with the
    /// ratchet tree extension).
    pub fn create_group(&self, group_info: &[u8]) -> Result<(), DsError> {
        self.ok("POST", "/groups", group_info).map(drop)
    }

    /// Submits a commit of `from`, with the Welcome for `recipients`.
    pub fn commit(
        &self,
        group_id: &[u8],
        from: &str,
        commit: &[u8],
        welcome: Option<(&[u8], &[&str])>,
    ) -> Result<CommitReply, DsError> {
        let (welcome, names) = welcome.unwrap_or((b"", &[]));
        let names = names.join("\n");
        let body = wire::encode(&[commit, welcome, names.as_bytes()]);
        let target = format!("/groups/{}/commit?from={from}", hex(group_id));
        let r = self.call("POST", &target, &body)?;
        match r.status {
            200 => seq_of(&r.body).map(CommitReply::Accepted),
            409 if r.text().starts_with("epoch taken") => Ok(CommitReply::EpochTaken(r.text())),
            s => Err(DsError::Status(s, r.text())),
        }
    }

    /// Sends a proposal or an application message of `from`; its position
    /// in the log.
    pub fn send(&self, group_id: &[u8], from: &str, message: &[u8]) -> Result<u64, DsError> {
        let target = format!("/groups/{}/messages?from={from}", hex(group_id));
        seq_of(&self.ok("POST", &target, message)?)
    }

    /// The messages for `member` after position `after` (0: from the
    /// start), with their positions; at most
    /// [`MAX_FETCH`](crate::service::MAX_FETCH) a call.
    pub fn fetch(
        &self,
        group_id: &[u8],
        member: &str,
        after: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, DsError> {
        let target = format!(
            "/groups/{}/messages?member={member}&after={after}",
            hex(group_id)
        );
        let parts = wire::decode(&self.ok("GET", &target, b"")?)
            .filter(|p| p.len() % 2 == 0)
            .ok_or(DsError::BadReply("parts"))?;
        parts
            .chunks(2)
            .map(|c| Ok((seq_of(&c[0])?, c[1].clone())))
            .collect()
    }

    /// Uploads a member's GroupInfo of the current epoch.
    pub fn upload_group_info(&self, group_id: &[u8], group_info: &[u8]) -> Result<(), DsError> {
        let target = format!("/groups/{}/group-info", hex(group_id));
        self.ok("POST", &target, group_info).map(drop)
    }

    /// The current GroupInfo and ratchet tree.
    pub fn group_info(&self, group_id: &[u8]) -> Result<(Vec<u8>, Vec<u8>), DsError> {
        let target = format!("/groups/{}/group-info", hex(group_id));
        let mut parts = wire::decode(&self.ok("GET", &target, b"")?)
            .filter(|p| p.len() == 2)
            .ok_or(DsError::BadReply("parts [GroupInfo, tree]"))?;
        let tree = parts.pop().unwrap_or_default();
        let info = parts.pop().unwrap_or_default();
        Ok((info, tree))
    }
}
