//! The TLS presentation language as RFC 9420 uses it (§2.1).
//!
//! Decoding is strict by construction:
//! - [`decode_exact`] rejects trailing bytes after the top-level value;
//! - variable-length vector headers must use the minimal encoding (§2.1.2);
//! - a length prefix is checked against the bytes actually present before
//!   anything is allocated, so a hostile prefix cannot make us allocate more
//!   than the input size;
//! - every error carries the path of fields being decoded and the byte offset.
//!
//! We write our own small codec instead of using `tls_codec`: its vector
//! decoders `debug_assert!` on truncated input, which turns hostile bytes into
//! a panic in debug and test builds, and we want field paths in errors.

mod errors;
mod macros;
mod primitives;

pub use errors::{DecodeError, DecodeErrorKind, EncodeError};
pub(crate) use macros::{code_point, wire_enum, wire_struct};
pub use primitives::{Reader, Writer, read_varint_len, write_varint_len};

/// Largest length a variable-length vector header can express (§2.1.2).
pub const MAX_VECTOR_LEN: usize = (1 << 30) - 1;

/// A value with a wire encoding.
pub trait Encode {
    /// Appends the encoding of `self` to `w`.
    fn encode(&self, w: &mut Writer);
}

/// A value that can be decoded from its wire encoding.
pub trait Decode: Sized {
    /// Decodes one value from the front of `r`, advancing it.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// Decodes one `T`, naming `field` in the error path on failure.
pub fn field<T: Decode>(r: &mut Reader<'_>, field: &'static str) -> Result<T, DecodeError> {
    T::decode(r).map_err(|e| e.within(field))
}

/// Reads a one-byte tag; returns it with its offset for error reporting.
pub fn tag_u8(r: &mut Reader<'_>) -> Result<(u8, usize), DecodeError> {
    let at = r.offset();
    Ok((r.take(1)?[0], at))
}

/// An `InvalidValue` error for an unknown tag read at `at`.
pub fn bad_tag(value: u64, at: usize, field: &'static str) -> DecodeError {
    DecodeError::new(DecodeErrorKind::InvalidValue { value }, at).within(field)
}

/// Encodes `value` into a fresh buffer.
///
/// Fails only if some vector inside is longer than [`MAX_VECTOR_LEN`].
pub fn encode<T: Encode + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer::new();
    value.encode(&mut w);
    w.finish()
}

/// [`encode`] into a buffer that starts with room for `capacity` bytes:
/// for the small structures of every message, which an empty buffer
/// reaches only after reallocating up to seven times (8, 16, ... 512).
/// Use it where the result is short-lived; the capacity stays with the
/// returned vector.
pub fn encode_with_capacity<T: Encode + ?Sized>(
    value: &T,
    capacity: usize,
) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer::with_capacity(capacity);
    value.encode(&mut w);
    w.finish()
}

/// Decodes exactly one `T` from `bytes`; trailing bytes are an error.
pub fn decode_exact<T: Decode>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let value = T::decode(&mut r)?;
    r.finish()?;
    Ok(value)
}

#[cfg(test)]
mod tests;
