use super::{Decode, DecodeError, DecodeErrorKind, Encode, EncodeError, MAX_VECTOR_LEN};

/// A cursor over input bytes that never reads past its end.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the original input, for error messages.
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over the whole of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte has been consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Offset of the cursor in the original input.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// An error of `kind` at the current position.
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(kind, self.offset())
    }

    /// Fails unless every byte has been consumed.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(DecodeErrorKind::TrailingData {
                extra: self.remaining(),
            }))
        }
    }

    /// Consumes exactly `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.error(DecodeErrorKind::UnexpectedEnd {
                needed: n,
                remaining: self.remaining(),
            }));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Consumes a fixed-size array.
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads a variable-length vector header and returns a reader over exactly
    /// that many following bytes, which are consumed from `self`.
    pub fn vector(&mut self) -> Result<Reader<'a>, DecodeError> {
        let len = read_varint_len(self)?;
        let start = self.offset();
        let bytes = self.take(len)?;
        Ok(Reader {
            buf: bytes,
            pos: 0,
            base: start,
        })
    }
}

/// Reads a variable-length vector header (§2.1.2), insisting on the minimal
/// encoding.
pub fn read_varint_len(r: &mut Reader<'_>) -> Result<usize, DecodeError> {
    let at = r.offset();
    let first = r.take(1)?[0];
    let (len, value) = match first >> 6 {
        0 => (1, u32::from(first & 0x3f)),
        1 => {
            let b = r.take(1)?;
            (2, (u32::from(first & 0x3f) << 8) | u32::from(b[0]))
        }
        2 => {
            let b = r.take(3)?;
            let v = (u32::from(first & 0x3f) << 24)
                | (u32::from(b[0]) << 16)
                | (u32::from(b[1]) << 8)
                | u32::from(b[2]);
            (4, v)
        }
        _ => return Err(DecodeError::new(DecodeErrorKind::InvalidLengthPrefix, at)),
    };
    let minimal = match value {
        0..=63 => 1,
        64..=16383 => 2,
        _ => 4,
    };
    if len != minimal {
        return Err(DecodeError::new(DecodeErrorKind::NonMinimalLength, at));
    }
    Ok(value as usize)
}

/// Output buffer. Remembers the first vector that was too long to encode so
/// that [`Encode::encode`] itself can stay infallible.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
    overflow: Option<usize>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `capacity` bytes: encoding then
    /// reallocates only past that.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
            overflow: None,
        }
    }

    /// Appends raw bytes.
    pub fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Writes a variable-length vector whose content `f` writes.
    pub fn vector(&mut self, f: impl FnOnce(&mut Writer)) {
        // A 2-byte header is reserved and fixed up once the length is
        // known. It fits every content of 64..=16383 bytes, where moving
        // the content would cost most; a shorter content moves back one
        // byte, a longer one (rare) forward two.
        const RESERVED: usize = 2;
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; RESERVED]);
        f(self);
        let content = self.buf.len() - start - RESERVED;
        let mut header = [0u8; 4];
        let hlen = match write_varint_len(content, &mut header) {
            Some(n) => n,
            None => {
                self.overflow.get_or_insert(content);
                4
            }
        };
        match hlen.cmp(&RESERVED) {
            std::cmp::Ordering::Less => {
                self.buf.copy_within(start + RESERVED.., start + hlen);
                self.buf.truncate(start + hlen + content);
            }
            std::cmp::Ordering::Greater => {
                self.buf.splice(start..start, [0; 4 - RESERVED]);
            }
            std::cmp::Ordering::Equal => {}
        }
        self.buf[start..start + hlen].copy_from_slice(&header[..hlen]);
    }

    /// Writes `bytes` as `opaque<V>`.
    pub fn opaque(&mut self, bytes: &[u8]) {
        let mut header = [0u8; 4];
        match write_varint_len(bytes.len(), &mut header) {
            Some(n) => self.buf.extend_from_slice(&header[..n]),
            None => {
                self.overflow.get_or_insert(bytes.len());
            }
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The encoded bytes, or the first length overflow.
    pub fn finish(self) -> Result<Vec<u8>, EncodeError> {
        match self.overflow {
            None => Ok(self.buf),
            Some(len) => Err(EncodeError { len }),
        }
    }
}

/// Encodes `len` as a minimal variable-length header into `out`, returning how
/// many bytes it used, or `None` if `len` exceeds 2^30 - 1.
pub fn write_varint_len(len: usize, out: &mut [u8; 4]) -> Option<usize> {
    match len {
        0..=63 => {
            out[0] = len as u8;
            Some(1)
        }
        64..=16383 => {
            out[..2].copy_from_slice(&((len as u16) | 0x4000).to_be_bytes());
            Some(2)
        }
        _ if len <= MAX_VECTOR_LEN => {
            out.copy_from_slice(&((len as u32) | 0x8000_0000).to_be_bytes());
            Some(4)
        }
        _ => None,
    }
}

macro_rules! impl_uint {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode(&self, w: &mut Writer) {
                w.put(&self.to_be_bytes());
            }
        }
        impl Decode for $t {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(<$t>::from_be_bytes(r.take_array()?))
            }
        }
    )*};
}
impl_uint!(u16, u32, u64);

/// `opaque data<V>`. (`u8` deliberately has no `Encode`, so this cannot clash
/// with the generic vector impl below.)
impl Encode for Vec<u8> {
    fn encode(&self, w: &mut Writer) {
        w.opaque(self);
    }
}

impl Decode for Vec<u8> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(r.vector()?.take_rest().to_vec())
    }
}

impl Reader<'_> {
    /// Consumes everything left.
    pub fn take_rest(&mut self) -> &[u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }
}

/// `T items<V>`.
impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, w: &mut Writer) {
        w.vector(|w| self.iter().for_each(|item| item.encode(w)));
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut sub = r.vector()?;
        let mut out = Vec::new();
        while !sub.is_empty() {
            let before = sub.remaining();
            out.push(T::decode(&mut sub)?);
            if sub.remaining() == before {
                return Err(sub.error(DecodeErrorKind::EmptyElement));
            }
        }
        Ok(out)
    }
}

/// `optional<T>` (§2.1.1): a presence byte of 0 or 1.
impl<T: Encode> Encode for Option<T> {
    fn encode(&self, w: &mut Writer) {
        match self {
            None => w.put(&[0]),
            Some(v) => {
                w.put(&[1]);
                v.encode(w);
            }
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        match r.take(1)?[0] {
            0 => Ok(None),
            1 => Ok(Some(T::decode(r)?)),
            v => Err(DecodeError::new(
                DecodeErrorKind::InvalidValue { value: v.into() },
                at,
            )),
        }
    }
}

impl<T: Encode> Encode for Box<T> {
    fn encode(&self, w: &mut Writer) {
        (**self).encode(w);
    }
}

impl<T: Decode> Decode for Box<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        T::decode(r).map(Box::new)
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode(&self, w: &mut Writer) {
        (**self).encode(w);
    }
}

impl Encode for [u8] {
    fn encode(&self, w: &mut Writer) {
        w.opaque(self);
    }
}
