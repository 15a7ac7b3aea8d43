//! Array-based tree math (Appendix C).

/// Index of a leaf among the leaves (`LeafIndex` in the RFC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LeafIndex(pub u32);

/// Index of a node in the array representation of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeIndex(pub u32);

impl crate::codec::Encode for LeafIndex {
    fn encode(&self, w: &mut crate::codec::Writer) {
        crate::codec::Encode::encode(&self.0, w);
    }
}

impl crate::codec::Decode for LeafIndex {
    fn decode(r: &mut crate::codec::Reader<'_>) -> Result<Self, crate::codec::DecodeError> {
        <u32 as crate::codec::Decode>::decode(r).map(Self)
    }
}
