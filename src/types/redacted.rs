//! Application data in `Debug` output: shown by length only, as secrets
//! are, so that logging an event or a processing result does not leak what
//! members wrote.

use std::fmt;

/// Formats an application message's metadata, with its plaintext and
/// authenticated data replaced by their lengths.
pub(crate) fn debug_application(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    sender: &dyn fmt::Debug,
    epoch: u64,
    data: &[u8],
    authenticated_data: &[u8],
) -> fmt::Result {
    f.debug_struct(name)
        .field("sender", sender)
        .field("epoch", &epoch)
        .field("data", &Redacted(data.len()))
        .field("authenticated_data", &Redacted(authenticated_data.len()))
        .finish()
}

/// A length, shown instead of the bytes.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes redacted>", self.0)
    }
}
