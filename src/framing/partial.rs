//! Wire forms of Partial MLS (draft-ietf-mls-partial): a signed message with
//! a membership proof for its sender, and the annotated Welcome and Commit a
//! partial client processes instead of the plain ones.
//!
//! None of these structures is signed or MAC'ed as a whole: whoever built
//! the annotation (the DS, a committer) is not trusted. Each proof is
//! checked against a tree hash the client trusts before anything it holds is
//! used, and `tree_hash_after` is confirmed by the Commit's confirmation tag.

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer, wire_struct};
use crate::framing::messages::MlsMessage;
use crate::tree::membership_proof::MembershipProof;

/// `SenderAuthenticatedMessage<T>`: a message (`Welcome`, `GroupInfo`,
/// `PublicMessage` or `PrivateMessage`) with the membership proof of its
/// sender, whose leaf holds the key that verifies its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderAuthenticatedMessage<T> {
    /// The message itself.
    pub message: T,
    /// The sender's leaf in the tree of the message's epoch.
    pub sender_membership_proof: MembershipProof,
}

impl<T: Encode> Encode for SenderAuthenticatedMessage<T> {
    fn encode(&self, w: &mut Writer) {
        self.message.encode(w);
        self.sender_membership_proof.encode(w);
    }
}

impl<T: Decode> Decode for SenderAuthenticatedMessage<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            message: T::decode(r).map_err(|e| e.within("message"))?,
            sender_membership_proof: MembershipProof::decode(r)
                .map_err(|e| e.within("sender_membership_proof"))?,
        })
    }
}

wire_struct! {
    /// `AnnotatedWelcome`: a Welcome with the proofs of its sender (inside
    /// `welcome`) and of the joiner, both for the tree of the new epoch.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AnnotatedWelcome {
        /// The Welcome and the proof of the member that signed its GroupInfo.
        pub welcome: SenderAuthenticatedMessage<crate::messages::welcome::Welcome>,
        /// The proof of the recipient's own leaf.
        pub joiner_membership_proof: MembershipProof,
    }
}

wire_struct! {
    /// `AnnotatedCommit`: a Commit with what a partial client needs to
    /// process it without the tree.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AnnotatedCommit {
        /// The Commit, as a PublicMessage or PrivateMessage.
        pub commit: MlsMessage,
        /// The committer's proof in the tree before the Commit: present
        /// exactly when the sender is a member.
        pub sender_membership_proof: Option<MembershipProof>,
        /// The tree hash after the Commit.
        pub tree_hash_after: Vec<u8>,
        /// Which `HPKECiphertext` of the UpdatePath node to decrypt: present
        /// exactly when the Commit has a path.
        pub resolution_index: Option<u32>,
        /// The committer's proof in the tree after the Commit.
        pub sender_membership_proof_after: MembershipProof,
        /// The recipient's proof in the tree after the Commit.
        pub receiver_membership_proof_after: MembershipProof,
    }
}
