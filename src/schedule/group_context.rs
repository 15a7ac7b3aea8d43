//! `GroupContext` (§8.1): the state every epoch's secrets are bound to.

use crate::codec::wire_struct;
use crate::crypto::CipherSuite;
use crate::types::Extension;
use crate::types::ProtocolVersion;

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
