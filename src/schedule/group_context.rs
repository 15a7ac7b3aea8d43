//! `GroupContext` (§8.1): the state every epoch's secrets are bound to.

use crate::codec::{wire_struct, wire_enum};
use crate::crypto::CipherSuite;
use crate::group::Extension;

wire_enum! {
    /// `ProtocolVersion` (§6): only MLS 1.0 exists.
    pub enum ProtocolVersion: u16 {
        /// `mls10`.
        Mls10 = 1,
    }
}

wire_struct! {
    /// `GroupContext` (§8.1).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct GroupContext {
        /// Always `mls10`.
        pub version: ProtocolVersion,
        /// The group's cipher suite.
        pub cipher_suite: CipherSuite,
        /// Application-chosen group identifier.
        pub group_id: Vec<u8>,
        /// Epoch number.
        pub epoch: u64,
        /// Root tree hash of the ratchet tree.
        pub tree_hash: Vec<u8>,
        /// Confirmed transcript hash after the last commit.
        pub confirmed_transcript_hash: Vec<u8>,
        /// Group context extensions.
        pub extensions: Vec<Extension>,
    }
}
