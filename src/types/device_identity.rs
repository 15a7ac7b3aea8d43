//! Users and their devices: what a credential says about who holds a leaf.
//!
//! MLS authenticates clients (§5.3), and one user usually runs several: a
//! phone, a laptop. The rules that decide whether a leaf may replace
//! another (§5.3.1, §12.4.3.2) need to tell a user's devices apart, or a
//! device that resyncs may remove its sibling. A [`DeviceIdentity`] is that
//! pair, carried in the credential as a `mls-device:` URI.

use crate::crypto::credential::Credential;
use crate::types::credential_validation::Rejection;
use crate::{Error, Result};

/// A user and one of the user's devices, as a credential presents them.
///
/// Both are byte strings (a user id, a device id) chosen by the
/// application.
///
/// # Encoding
///
/// `mls-device:<user>/<device>`, each part percent-encoded (RFC 3986
/// §2.1) in one canonical form: the bytes `A-Z a-z 0-9 - . _ ~ @ +` are
/// written as themselves, every other byte as `%` and two upper-case hex
/// digits. The parser refuses any other spelling (a lower-case or needless
/// escape, a second `/`), so a pair has exactly one encoding and comparing
/// encodings compares pairs. The form is binary-safe (any bytes, `/`
/// included, round-trip), readable in logs and by other implementations
/// (it is ASCII text), and it is also a valid URI, so the same string goes
/// into a basic credential's identity and into an X.509 certificate's
/// subjectAltName as a uniformResourceIdentifier.
///
/// A basic credential whose identity does not start with `mls-device:` is
/// a user with a single unnamed device (user = the identity, empty device
/// name; its user id has no length limit but the wire's): groups made
/// before devices had names keep their rules. An X.509
/// credential names a device when its leaf certificate has exactly one
/// `mls-device:` URI in its subjectAltName; the library reads only that
/// URI, and validating the chain stays the application's job.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceIdentity {
    user: Vec<u8>,
    device: Vec<u8>,
}

/// The URI scheme and its colon, the prefix of every encoded device
/// identity.
const PREFIX: &[u8] = b"mls-device:";

/// Bytes written as themselves (RFC 3986 unreserved, and `@` and `+`,
/// common in user names and phone numbers).
fn is_literal(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@' | b'+')
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn escape(part: &[u8], out: &mut String) {
    for &b in part {
        if is_literal(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// Decodes one canonically escaped part of at most `max` bytes.
fn unescape(part: &[u8], max: usize, what: &str) -> Result<Vec<u8>, Rejection> {
    let mut out = Vec::with_capacity(part.len().min(max));
    let mut i = 0;
    while i < part.len() {
        let b = part[i];
        let byte = if b == b'%' {
            let value = match (part.get(i + 1), part.get(i + 2)) {
                (Some(&h), Some(&l)) => hex_value(h).zip(hex_value(l)).map(|(h, l)| h << 4 | l),
                _ => None,
            };
            let Some(value) = value else {
                return Err(Rejection::new(format!(
                    "the {what} of a device identity has a bad escape (only %XX, upper-case hex)"
                )));
            };
            if is_literal(value) {
                return Err(Rejection::new(format!(
                    "the {what} of a device identity escapes {:?}, which is written as itself",
                    char::from(value)
                )));
            }
            i += 3;
            value
        } else if is_literal(b) {
            i += 1;
            b
        } else {
            return Err(Rejection::new(format!(
                "the {what} of a device identity has byte 0x{b:02x} unescaped"
            )));
        };
        if out.len() == max {
            return Err(Rejection::new(format!(
                "the {what} of a device identity is longer than {max} bytes"
            )));
        }
        out.push(byte);
    }
    if out.is_empty() {
        return Err(Rejection::new(format!(
            "the {what} of a device identity is empty"
        )));
    }
    Ok(out)
}

impl DeviceIdentity {
    /// The longest user id, in bytes, of a named device.
    pub const MAX_USER_LEN: usize = 255;
    /// The longest device id, in bytes.
    pub const MAX_DEVICE_LEN: usize = 255;

    /// Device `device` of user `user`: both non-empty, at most
    /// [`Self::MAX_USER_LEN`] and [`Self::MAX_DEVICE_LEN`] bytes
    /// ([`Error::Misuse`] otherwise).
    pub fn new(user: impl Into<Vec<u8>>, device: impl Into<Vec<u8>>) -> Result<Self> {
        let (user, device) = (user.into(), device.into());
        if user.is_empty() || device.is_empty() {
            return Err(Error::Misuse(
                "a device identity needs a non-empty user and device".into(),
            ));
        }
        if user.len() > Self::MAX_USER_LEN || device.len() > Self::MAX_DEVICE_LEN {
            return Err(Error::Misuse(format!(
                "a device identity's user is at most {} bytes and its device at most {} \
                 (got {} and {})",
                Self::MAX_USER_LEN,
                Self::MAX_DEVICE_LEN,
                user.len(),
                device.len()
            )));
        }
        Ok(Self { user, device })
    }

    /// The user.
    pub fn user(&self) -> &[u8] {
        &self.user
    }

    /// The device; empty for the single unnamed device of a plain identity.
    pub fn device(&self) -> &[u8] {
        &self.device
    }

    /// The `mls-device:` URI, for a basic credential's identity or an
    /// X.509 subjectAltName; `None` for an unnamed device, which has no
    /// URI (its credential is the plain user id).
    pub fn uri(&self) -> Option<String> {
        if self.device.is_empty() {
            return None;
        }
        let mut out =
            String::with_capacity(PREFIX.len() + 3 * (self.user.len() + 1 + self.device.len()));
        out.push_str("mls-device:");
        escape(&self.user, &mut out);
        out.push('/');
        escape(&self.device, &mut out);
        Some(out)
    }

    /// The identity of the basic credential that presents this device:
    /// its URI, or the plain user id for an unnamed device. Pass it to
    /// `Client::open` or `Client::in_memory`.
    pub fn identity(&self) -> Vec<u8> {
        match self.uri() {
            Some(uri) => uri.into_bytes(),
            None => self.user.clone(),
        }
    }

    /// The basic credential that presents this device.
    pub fn credential(&self) -> Credential {
        Credential::basic(self.identity())
    }

    /// The device a basic credential's identity names: the `mls-device:`
    /// URI parsed, or a plain identity's unnamed device. An identity that
    /// starts like a URI but is not one in canonical form is refused: it
    /// would otherwise mean one thing here and another to its sender.
    pub fn from_identity(identity: &[u8]) -> Result<Self, Rejection> {
        let Some(rest) = identity.strip_prefix(PREFIX) else {
            return Ok(Self {
                user: identity.to_vec(),
                device: Vec::new(),
            });
        };
        Self::parse_uri_body(rest)
    }

    /// `<user>/<device>` after the scheme.
    fn parse_uri_body(rest: &[u8]) -> Result<Self, Rejection> {
        // Checked before any work: the escaped form is at most 3 bytes a
        // byte, plus the separator.
        if rest.len() > 3 * (Self::MAX_USER_LEN + Self::MAX_DEVICE_LEN) + 1 {
            return Err(Rejection::new("a device identity URI is too long"));
        }
        let mut parts = rest.split(|b| *b == b'/');
        let (Some(user), Some(device), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Rejection::new(
                "a device identity URI has the form mls-device:<user>/<device>",
            ));
        };
        Ok(Self {
            user: unescape(user, Self::MAX_USER_LEN, "user")?,
            device: unescape(device, Self::MAX_DEVICE_LEN, "device")?,
        })
    }

    /// The device `credential` presents: `Ok(None)` when it names none (an
    /// X.509 certificate without an `mls-device:` URI, another credential
    /// type), an error when it names one badly (a malformed URI, two
    /// device URIs in one certificate, a certificate that does not parse).
    /// Cost: linear in the credential's size.
    pub fn of_credential(credential: &Credential) -> Result<Option<Self>, Rejection> {
        match credential {
            Credential::Basic { identity } => Self::from_identity(identity).map(Some),
            Credential::X509 { certificates } => {
                let Some(leaf) = certificates.first() else {
                    return Ok(None);
                };
                let uris = crate::crypto::x509::subject_alt_name_uris(&leaf.cert_data)
                    .map_err(|e| Rejection::new(format!("unreadable certificate: {e}")))?;
                let mut devices = uris.iter().filter_map(|u| u.strip_prefix(PREFIX));
                match (devices.next(), devices.next()) {
                    (None, _) => Ok(None),
                    (Some(one), None) => Self::parse_uri_body(one).map(Some),
                    (Some(_), Some(_)) => Err(Rejection::new(
                        "the certificate names two devices (two mls-device: URIs)",
                    )),
                }
            }
            Credential::Other { .. } => Ok(None),
        }
    }
}
