//! The record format shared by every record the library stores: keys are
//! printable ASCII paths, values a version byte, a kind byte and a body in
//! the TLS presentation language (the crate's strict codec). Decoding
//! failures name the record and never panic.

use crate::codec::{Decode, DecodeError, DecodeErrorKind, Encode, Reader, Writer, field};
use crate::crypto::credential::Credential;
use crate::crypto::{HpkePrivateKey, Secret, SignaturePrivateKey, SignaturePublicKey};
use crate::messages::key_package::{KeyPackageData, KeyPackagePrivate};
use crate::{Error, Result};

/// The record format version this library writes and reads.
pub(crate) const VERSION: u8 = 1;

/// What a record holds; stored after the version so that a record read
/// under the wrong key is detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    Identity = 1,
    KeyPackage = 2,
    GroupIndex = 3,
    Meta = 4,
    Epoch = 5,
    Proposals = 6,
    Pending = 7,
    TreeNode = 8,
    PastEpoch = 9,
    SecretTreeNodes = 10,
    Ratchets = 11,
    Local = 12,
    ExternalPsk = 13,
    ResumptionPsk = 14,
    CachedProposal = 15,
    ObserverEpoch = 16,
    ObserverGroupInfo = 17,
    ObserverOther = 18,
    ObserverOtherNode = 19,
    PartialGroup = 20,
    ApplicationPsk = 21,
}

impl Kind {
    /// Room reserved when encoding a record of this kind, enough for a
    /// typical one: each reallocation while encoding costs a copy and
    /// leaves the secrets copied so far in freed memory, and room beyond
    /// that costs time when the record is zeroized (its whole capacity).
    fn typical_size(self) -> usize {
        match self {
            Kind::Epoch | Kind::PastEpoch => 2048,
            Kind::KeyPackage
            | Kind::Pending
            | Kind::Proposals
            | Kind::ObserverEpoch
            | Kind::ObserverGroupInfo
            | Kind::ObserverOther => 1024,
            Kind::PartialGroup => 4096,
            _ => 256,
        }
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The identity record's key.
pub(crate) const IDENTITY_KEY: &[u8] = b"c/identity";
/// Prefix of key package records.
pub(crate) const KEY_PACKAGE_PREFIX: &str = "c/kp/";
/// Prefix of the group index.
pub(crate) const GROUP_INDEX_PREFIX: &str = "i/";
/// Prefix of external PSK records.
pub(crate) const EXTERNAL_PSK_PREFIX: &str = "c/psk/";

/// The key of the external PSK with id `psk_id`.
pub(crate) fn external_psk_key(psk_id: &[u8]) -> Vec<u8> {
    format!("{EXTERNAL_PSK_PREFIX}{}", hex(psk_id)).into_bytes()
}

/// Prefix of application components' PSK records.
pub(crate) const APPLICATION_PSK_PREFIX: &str = "c/apsk/";

/// The key of component `component_id`'s PSK `psk_id`: the component id
/// is a fixed four hex digits, so the two parts never run together.
pub(crate) fn application_psk_key(component_id: u16, psk_id: &[u8]) -> Vec<u8> {
    format!("{APPLICATION_PSK_PREFIX}{component_id:04x}{}", hex(psk_id)).into_bytes()
}

/// The key of the key package with reference `kp_ref`.
pub(crate) fn key_package_key(kp_ref: &[u8]) -> Vec<u8> {
    format!("{KEY_PACKAGE_PREFIX}{}", hex(kp_ref)).into_bytes()
}

/// The index entry of group `group_id`.
pub(crate) fn group_index_key(group_id: &[u8]) -> Vec<u8> {
    format!("{GROUP_INDEX_PREFIX}{}", hex(group_id)).into_bytes()
}

/// Encodes a record of `kind`.
pub(crate) fn seal(kind: Kind, body: impl FnOnce(&mut Writer)) -> Result<Vec<u8>> {
    let mut w = Writer::with_capacity(kind.typical_size());
    w.put(&[VERSION, kind as u8]);
    body(&mut w);
    Ok(w.finish()?)
}

/// The [`Error::Storage`] for record `key`, which `why` (a phrase after
/// the record's name) shows to be corrupt or changed outside the library.
pub(crate) fn corrupt(key: &[u8], why: impl std::fmt::Display) -> Error {
    Error::Storage(format!(
        "record {:?} {why}: the database is corrupt or was changed outside arbor-mls; \
         restore a backup or rejoin the group",
        String::from_utf8_lossy(key)
    ))
}

/// Decodes the record `key` of `kind` with `body`; every failure is an
/// [`Error::Storage`] naming the record.
pub(crate) fn open<T>(
    key: &[u8],
    kind: Kind,
    bytes: &[u8],
    body: impl FnOnce(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<T> {
    let unreadable = |detail: String| corrupt(key, format_args!("is unreadable ({detail})"));
    let [version, stored_kind, ..] = bytes else {
        return Err(unreadable(format!("{} bytes, too short", bytes.len())));
    };
    if *version > VERSION {
        return Err(Error::Storage(format!(
            "record {:?} has format version {version}, newer than this library's \
             {VERSION}: open the database with a newer arbor-mls",
            String::from_utf8_lossy(key)
        )));
    }
    if *version != VERSION {
        return Err(unreadable(format!("unknown format version {version}")));
    }
    if *stored_kind != kind as u8 {
        return Err(unreadable(format!(
            "holds record kind {stored_kind}, expected {kind:?}"
        )));
    }
    let mut r = Reader::new(&bytes[2..]);
    let value = body(&mut r).map_err(|e| unreadable(e.to_string()))?;
    r.finish().map_err(|e| unreadable(e.to_string()))?;
    Ok(value)
}

/// An `InvalidValue` decode error at the reader's position.
pub(crate) fn invalid(r: &Reader<'_>, value: u64, what: &'static str) -> DecodeError {
    DecodeError::new(DecodeErrorKind::InvalidValue { value }, r.offset()).within(what)
}

/// Writes a flag as one byte.
pub(crate) fn put_bool(w: &mut Writer, b: bool) {
    w.put(&[u8::from(b)]);
}

/// Reads a flag written by [`put_bool`]; other values are errors.
pub(crate) fn get_bool(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match r.take(1)?[0] {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(invalid(r, v.into(), what)),
    }
}

/// Writes a `usize` as a `u64`.
pub(crate) fn put_usize(w: &mut Writer, n: usize) {
    (n as u64).encode(w);
}

/// Reads a `usize` written by [`put_usize`].
pub(crate) fn get_usize(r: &mut Reader<'_>, what: &'static str) -> Result<usize, DecodeError> {
    let n: u64 = field(r, what)?;
    usize::try_from(n).map_err(|_| invalid(r, n, what))
}

/// Reads a private key (stored as its secret bytes).
pub(crate) fn get_hpke_key(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<HpkePrivateKey, DecodeError> {
    Ok(HpkePrivateKey(field::<Secret>(r, what)?))
}

/// The client's identity: suite, credential and signature key pair.
pub(crate) struct Identity {
    pub(crate) suite: u16,
    pub(crate) credential: Credential,
    pub(crate) signer: SignaturePrivateKey,
    pub(crate) public: SignaturePublicKey,
}

impl Identity {
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        seal(Kind::Identity, |w| {
            self.suite.encode(w);
            self.credential.encode(w);
            self.signer.0.encode(w);
            self.public.encode(w);
        })
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        open(IDENTITY_KEY, Kind::Identity, bytes, |r| {
            Ok(Self {
                suite: field(r, "suite")?,
                credential: field(r, "credential")?,
                signer: SignaturePrivateKey(field(r, "signer")?),
                public: field(r, "public")?,
            })
        })
    }
}

/// A key package we published, with its private keys.
pub(crate) fn encode_key_package(
    kp: &KeyPackageData,
    private: &KeyPackagePrivate,
    last_resort: bool,
) -> Result<Vec<u8>> {
    seal(Kind::KeyPackage, |w| {
        kp.encode(w);
        private.init_key.0.encode(w);
        private.encryption_key.0.encode(w);
        put_bool(w, last_resort);
    })
}

/// Decodes a record written by [`encode_key_package`].
pub(crate) fn decode_key_package(
    key: &[u8],
    bytes: &[u8],
) -> Result<(KeyPackageData, KeyPackagePrivate, bool)> {
    open(key, Kind::KeyPackage, bytes, |r| {
        let kp = field(r, "key_package")?;
        let private = KeyPackagePrivate {
            init_key: get_hpke_key(r, "init_key")?,
            encryption_key: get_hpke_key(r, "encryption_key")?,
        };
        Ok((kp, private, get_bool(r, "last_resort")?))
    })
}

/// Encodes a `Decode`-able list with a vector header.
pub(crate) fn put_list<T>(w: &mut Writer, items: &[T], each: impl Fn(&mut Writer, &T)) {
    w.vector(|w| {
        for item in items {
            each(w, item);
        }
    });
}

/// Decodes a list written by [`put_list`].
pub(crate) fn get_list<T>(
    r: &mut Reader<'_>,
    each: impl Fn(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let mut v = r.vector()?;
    let mut out = Vec::new();
    while !v.is_empty() {
        out.push(each(&mut v)?);
    }
    Ok(out)
}

/// Decodes one value of type `T` (helper for closures).
pub(crate) fn get<T: Decode>(r: &mut Reader<'_>, what: &'static str) -> Result<T, DecodeError> {
    field(r, what)
}
