//! KeyPackage (§10): wire form.

use crate::codec::{Encode, Writer, wire_struct};
use crate::crypto::{CipherSuite, HpkePublicKey};
use crate::group::Extension;
use crate::schedule::ProtocolVersion;
use crate::tree::leaf_node::LeafNode;

wire_struct! {
    /// `KeyPackage` (§10).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct KeyPackage {
        /// Protocol version.
        pub version: ProtocolVersion,
        /// Cipher suite the package is for.
        pub cipher_suite: CipherSuite,
        /// HPKE key a Welcome is encrypted to.
        pub init_key: HpkePublicKey,
        /// The leaf node the member will occupy.
        pub leaf_node: LeafNode,
        /// Key package extensions.
        pub extensions: Vec<Extension>,
        /// `SignWithLabel(., "KeyPackageTBS", KeyPackageTBS)`.
        pub signature: Vec<u8>,
    }
}

impl KeyPackage {
    /// Encodes `KeyPackageTBS`: every field but the signature.
    pub fn to_be_signed(&self) -> crate::Result<Vec<u8>> {
        let mut w = Writer::new();
        self.version.encode(&mut w);
        self.cipher_suite.encode(&mut w);
        self.init_key.encode(&mut w);
        self.leaf_node.encode(&mut w);
        self.extensions.encode(&mut w);
        Ok(w.finish()?)
    }
}
