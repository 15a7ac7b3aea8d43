use std::fmt;

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended before the value did.
    UnexpectedEnd {
        /// Bytes the decoder needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// Bytes were left over after the top-level value or inside a vector.
    TrailingData {
        /// How many bytes were left over.
        extra: usize,
    },
    /// A variable-length header used more bytes than needed (§2.1.2).
    NonMinimalLength,
    /// A variable-length header started with the reserved prefix `0b11`.
    InvalidLengthPrefix,
    /// A value outside the set this field allows.
    InvalidValue {
        /// The offending value.
        value: u64,
    },
    /// A vector element consumed no bytes; such vectors could be unbounded.
    EmptyElement,
    /// A structural rule of the encoding was violated.
    Invalid(&'static str),
}

/// A decoding failure: what went wrong, where in the input, and inside which
/// fields.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// Byte offset from the start of the input at which decoding failed.
    pub offset: usize,
    /// Field path, outermost first (e.g. `["MlsMessage", "welcome", "secrets"]`).
    pub path: Vec<&'static str>,
}

impl DecodeError {
    /// An error of `kind` at byte `offset`.
    pub fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        Self {
            kind,
            offset,
            path: Vec::new(),
        }
    }

    /// Prepends a field name to the path; called as the error unwinds.
    #[must_use]
    pub fn within(mut self, field: &'static str) -> Self {
        self.path.insert(0, field);
        self
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd { needed, remaining } => write!(
                f,
                "unexpected end of input (needed {needed} bytes, {remaining} remaining)"
            ),
            Self::TrailingData { extra } => write!(f, "{extra} trailing bytes"),
            Self::NonMinimalLength => {
                f.write_str("variable-length header is not minimal (RFC 9420 §2.1.2)")
            }
            Self::InvalidLengthPrefix => {
                f.write_str("variable-length header uses reserved prefix 0b11 (RFC 9420 §2.1.2)")
            }
            Self::InvalidValue { value } => write!(f, "invalid value {value}"),
            Self::EmptyElement => f.write_str("vector element of zero length"),
            Self::Invalid(what) => f.write_str(what),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path.join("."))?;
        }
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for DecodeError {}

/// Encoding failed because a vector exceeded the 2^30 - 1 byte limit of its
/// length header (§2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeError {
    /// Length of the offending vector in bytes.
    pub len: usize,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "vector of {} bytes exceeds the 2^30 - 1 limit of RFC 9420 §2.1.2",
            self.len
        )
    }
}

impl std::error::Error for EncodeError {}
