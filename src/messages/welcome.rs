//! Welcome, GroupSecrets and GroupInfo (§12.4.3): wire forms.

use crate::codec::{Encode, Writer, wire_struct};
use crate::crypto::{CipherSuite, Secret};
use crate::schedule::{GroupContext, PreSharedKeyId};
use crate::tree::update_path::HpkeCiphertext;
use crate::types::Extension;
use crate::types::math::LeafIndex;

wire_struct! {
    /// `PathSecret` (§12.4.3.1).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PathSecret {
        /// The path secret of the common ancestor with the committer.
        pub path_secret: Secret,
    }
}

wire_struct! {
    /// `GroupSecrets` (§12.4.3.1).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct GroupSecrets {
        /// The epoch's joiner secret.
        pub joiner_secret: Secret,
        /// Path secret for the new member, if the commit had a path.
        pub path_secret: Option<PathSecret>,
        /// PSKs used in the epoch.
        pub psks: Vec<PreSharedKeyId>,
    }
}

wire_struct! {
    /// `EncryptedGroupSecrets` (§12.4.3.1).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct EncryptedGroupSecrets {
        /// `KeyPackageRef` of the new member.
        pub new_member: Vec<u8>,
        /// GroupSecrets encrypted to the key package's init key.
        pub encrypted_group_secrets: HpkeCiphertext,
    }
}

wire_struct! {
    /// `Welcome` (§12.4.3.1).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Welcome {
        /// The group's cipher suite.
        pub cipher_suite: CipherSuite,
        /// One entry per new member.
        pub secrets: Vec<EncryptedGroupSecrets>,
        /// GroupInfo encrypted under the welcome key.
        pub encrypted_group_info: Vec<u8>,
    }
}

wire_struct! {
    /// `GroupInfo` (§12.4.3).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct GroupInfo {
        /// The group's current context.
        pub group_context: GroupContext,
        /// GroupInfo extensions (e.g. ratchet_tree, external_pub).
        pub extensions: Vec<Extension>,
        /// Confirmation tag of the epoch.
        pub confirmation_tag: Vec<u8>,
        /// Leaf index of the signer.
        pub signer: LeafIndex,
        /// `SignWithLabel(., "GroupInfoTBS", GroupInfoTBS)`.
        pub signature: Vec<u8>,
    }
}

impl GroupInfo {
    /// Encodes `GroupInfoTBS`: every field but the signature.
    pub fn to_be_signed(&self) -> crate::Result<Vec<u8>> {
        let mut w = Writer::new();
        self.group_context.encode(&mut w);
        self.extensions.encode(&mut w);
        self.confirmation_tag.encode(&mut w);
        self.signer.encode(&mut w);
        Ok(w.finish()?)
    }
}
