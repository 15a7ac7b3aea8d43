//! UpdatePath (§7.6): wire forms.

use crate::codec::{
    Decode, DecodeError, DecodeErrorKind, Encode, EncodeError, MAX_VECTOR_LEN, Reader, Writer,
    read_varint_len, wire_struct, write_varint_len,
};
use crate::crypto::HpkePublicKey;
use crate::tree::leaf_node::LeafNode;

wire_struct! {
    /// `HPKECiphertext` (§7.6).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct HpkeCiphertext {
        /// The KEM encapsulation.
        pub kem_output: Vec<u8>,
        /// The AEAD ciphertext.
        pub ciphertext: Vec<u8>,
    }
}

wire_struct! {
    /// `UpdatePathNode` (§7.6).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UpdatePathNode {
        /// New public key of this node.
        pub encryption_key: HpkePublicKey,
        /// The path secret, encrypted to each node of the copath resolution.
        pub encrypted_path_secret: HpkeCiphertexts,
    }
}

wire_struct! {
    /// `UpdatePath` (§7.6).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UpdatePath {
        /// The committer's new leaf node.
        pub leaf_node: LeafNode,
        /// One entry per node of the filtered direct path.
        pub nodes: Vec<UpdatePathNode>,
    }
}

/// `HPKECiphertext encrypted_path_secret<V>` (§7.6), kept as the vector's
/// encoded body and the offset of each element in it.
///
/// In a sparse tree an UpdatePath carries about one ciphertext per member
/// and a receiver decrypts exactly one of them. As two `Vec`s per element,
/// allocating them while decoding and freeing them afterwards were a
/// quarter of the cost of processing a commit at 16,384 members; here
/// decoding is one validating pass and one copy, and encoding one copy.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HpkeCiphertexts {
    /// The elements' encodings back to back, exactly as on the wire.
    body: Vec<u8>,
    /// Where each element starts in `body`.
    starts: Vec<u32>,
}

/// One element of [`HpkeCiphertexts`], borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HpkeCiphertextRef<'a> {
    /// The KEM encapsulation.
    pub kem_output: &'a [u8],
    /// The AEAD ciphertext.
    pub ciphertext: &'a [u8],
}

impl HpkeCiphertextRef<'_> {
    /// An owned copy.
    pub fn to_ciphertext(self) -> HpkeCiphertext {
        HpkeCiphertext {
            kem_output: self.kem_output.to_vec(),
            ciphertext: self.ciphertext.to_vec(),
        }
    }
}

impl HpkeCiphertexts {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of ciphertexts.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Appends a ciphertext. Fails only for a field longer than a vector
    /// can encode or a list beyond the largest vector (§2.1.2).
    pub fn push(&mut self, kem_output: &[u8], ciphertext: &[u8]) -> Result<(), EncodeError> {
        let start = self.body.len();
        let too_long = |len| EncodeError { len };
        let offset = u32::try_from(start).map_err(|_| too_long(start))?;
        for field in [kem_output, ciphertext] {
            let mut header = [0u8; 4];
            let n = write_varint_len(field.len(), &mut header).ok_or(too_long(field.len()))?;
            self.body.extend_from_slice(&header[..n]);
            self.body.extend_from_slice(field);
        }
        if self.body.len() > MAX_VECTOR_LEN {
            let len = self.body.len();
            self.body.truncate(start);
            return Err(too_long(len));
        }
        self.starts.push(offset);
        Ok(())
    }

    /// The ciphertext at `index`.
    pub fn get(&self, index: usize) -> Option<HpkeCiphertextRef<'_>> {
        let start = *self.starts.get(index)? as usize;
        let mut r = Reader::new(self.body.get(start..)?);
        // Validated when decoded or pushed, so these cannot fail.
        let mut opaque = || {
            let len = read_varint_len(&mut r).ok()?;
            r.take(len).ok()
        };
        let kem_output = opaque()?;
        let ciphertext = opaque()?;
        Some(HpkeCiphertextRef {
            kem_output,
            ciphertext,
        })
    }

    /// The ciphertexts in order.
    pub fn iter(&self) -> impl Iterator<Item = HpkeCiphertextRef<'_>> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl std::fmt::Debug for HpkeCiphertexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Encode for HpkeCiphertexts {
    fn encode(&self, w: &mut Writer) {
        w.opaque(&self.body);
    }
}

impl Decode for HpkeCiphertexts {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut sub = r.vector()?;
        let total = sub.remaining();
        let mut walk = sub.clone();
        let mut starts = Vec::new();
        // The same checks as decoding each element as an `HpkeCiphertext`:
        // two minimal-length opaque fields that fit in the vector.
        while !walk.is_empty() {
            let start = total - walk.remaining();
            for field in ["kem_output", "ciphertext"] {
                let len = read_varint_len(&mut walk).map_err(|e| e.within(field))?;
                walk.take(len).map_err(|e| e.within(field))?;
            }
            starts.push(u32::try_from(start).map_err(|_| {
                walk.error(DecodeErrorKind::Invalid("vector longer than 2^32 bytes"))
            })?);
        }
        Ok(Self {
            body: sub.take_rest().to_vec(),
            starts,
        })
    }
}
