//! Annotations for partial clients, built in tests from a full member's
//! tree as a delivery service holding the tree would build them.

use crate::api::{Event, Group};
use crate::codec::encode;
use crate::framing::{
    AnnotatedCommit, AnnotatedWelcome, MlsMessage, MlsMessageBody, SenderAuthenticatedMessage,
};
use crate::tree::membership_proof::MembershipProof;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::LeafIndex;

/// Processes and merges a commit in a full member's group.
pub(crate) fn follow(group: &mut Group, commit: &[u8]) {
    match group.process(commit).unwrap() {
        Event::Commit { staged, .. } => group.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// A copy of a full member's current tree.
pub(crate) fn tree(g: &Group) -> RatchetTree {
    g.state().epoch.tree.clone()
}

/// The proof of `leaf` in `tree`.
pub(crate) fn proof(g: &Group, tree: &RatchetTree, leaf: LeafIndex) -> MembershipProof {
    MembershipProof::from_tree(tree, &g.state().suite, leaf).unwrap()
}

/// The leaf of the member with this signature key.
pub(crate) fn leaf_of(g: &Group, signature_key: &crate::SignaturePublicKey) -> LeafIndex {
    g.members()
        .into_iter()
        .find(|m| &m.signature_key == signature_key)
        .unwrap()
        .index
}

/// Which ciphertext of the committer's UpdatePath is for `receiver`
/// (§7.6): its place in the resolution of the copath node under the
/// common ancestor that covers the receiver.
pub(crate) fn resolution_index(
    after: &RatchetTree,
    committer: LeafIndex,
    receiver: LeafIndex,
) -> u32 {
    let n = after.leaf_count();
    let (c, r) = (committer.node().unwrap(), receiver.node().unwrap());
    let lca = c.common_ancestor(r, n).unwrap();
    let side = [lca.left().unwrap(), lca.right().unwrap()]
        .into_iter()
        .find(|x| x.is_ancestor_or_self_of(r))
        .unwrap();
    let position = after
        .resolution(side)
        .iter()
        .position(|x| x.is_ancestor_or_self_of(r))
        .unwrap();
    u32::try_from(position).unwrap()
}

/// An encoded MLSMessage wrapped with its sender's proof.
pub(crate) fn sender_authenticated(message: &[u8], proof: MembershipProof) -> Vec<u8> {
    let message: MlsMessage = crate::decode_exact("MLSMessage", message).unwrap();
    encode(&SenderAuthenticatedMessage {
        message,
        sender_membership_proof: proof,
    })
    .unwrap()
}

/// A message `g` sent in its current epoch, wrapped with `g`'s proof.
pub(crate) fn from_member(g: &Group, message: &[u8]) -> Vec<u8> {
    sender_authenticated(message, proof(g, &tree(g), g.own_leaf()))
}

/// The AnnotatedWelcome for `joiner` of a Welcome `committer` sent (the
/// committer already merged its commit).
pub(crate) fn annotated_welcome(committer: &Group, welcome: &[u8], joiner: LeafIndex) -> Vec<u8> {
    let t = tree(committer);
    let MlsMessageBody::Welcome(w) = crate::decode_exact::<MlsMessage>("MLSMessage", welcome)
        .unwrap()
        .body
    else {
        panic!("a Welcome")
    };
    encode(&AnnotatedWelcome {
        welcome: SenderAuthenticatedMessage {
            message: *w,
            sender_membership_proof: proof(committer, &t, committer.own_leaf()),
        },
        joiner_membership_proof: proof(committer, &t, joiner),
    })
    .unwrap()
}

/// The AnnotatedCommit for `receiver` of a member commit `committer` sent
/// from the tree `before` (the committer already merged it). A receiver
/// the commit removes has no proof after the commit: the committer's
/// stands in its place, and `resolution_index` is 0.
pub(crate) fn annotated_commit(
    committer: &Group,
    before: &RatchetTree,
    commit: &[u8],
    receiver: LeafIndex,
) -> AnnotatedCommit {
    let after = tree(committer);
    let message: MlsMessage = crate::decode_exact("MLSMessage", commit).unwrap();
    let me = committer.own_leaf();
    let removed = after.leaf(receiver).is_none();
    let has_path = commit_has_path(&message);
    AnnotatedCommit {
        commit: message,
        sender_membership_proof: Some(proof(committer, before, me)),
        tree_hash_after: after.root_tree_hash(&committer.state().suite).unwrap(),
        resolution_index: has_path.then(|| {
            if removed {
                0
            } else {
                resolution_index(&after, me, receiver)
            }
        }),
        sender_membership_proof_after: proof(committer, &after, me),
        receiver_membership_proof_after: proof(
            committer,
            &after,
            if removed { me } else { receiver },
        ),
    }
}

/// Whether a commit (PublicMessage) carries a path. Test commits are sent
/// as PublicMessages (the default configuration).
fn commit_has_path(message: &MlsMessage) -> bool {
    let MlsMessageBody::PublicMessage(m) = &message.body else {
        panic!("tests send commits as PublicMessages")
    };
    match &m.content.content {
        crate::framing::Content::Commit(c) => c.path.is_some(),
        _ => panic!("not a commit"),
    }
}
