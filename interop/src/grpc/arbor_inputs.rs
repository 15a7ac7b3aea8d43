//! Turning `MLSClient` request fields into arbor values (extensions,
//! GroupInfos, key packages, proposal descriptions, prior leaves), and
//! signing messages from senders outside the group, for [`super::arbor`].

use arbor_mls::codec::encode;
use arbor_mls::crypto::credential::Credential;
use arbor_mls::crypto::{CipherSuite, OsRandom, RandomSource, SignaturePrivateKey, Suite};
use arbor_mls::framing::{
    AuthenticatedContent, FRAMED_CONTENT_LABEL, FramedContent, FramedContentAuthData, MlsMessage,
    MlsMessageBody, PublicMessage, WireFormat, framed_content_tbs,
};
use arbor_mls::messages::proposals::{
    Add, GroupContextExtensions, PreSharedKey, Proposal, ReInit, Remove,
};
use arbor_mls::messages::welcome::GroupInfo;
use arbor_mls::schedule::{PreSharedKeyId, Psk, ResumptionPskUsage};
use arbor_mls::tree::ratchet_tree::RatchetTree;
use arbor_mls::types::ProtocolVersion;
use arbor_mls::types::math::LeafIndex;
use arbor_mls::types::{Extension, ExtensionType};
use arbor_mls::{Error, ErrorCategory, Group};
use tonic::Status;

use super::proto::{self, ProposalDescription};

pub(crate) type RpcResult<T> = Result<T, Status>;

/// Maps an arbor error to the gRPC status that tells the runner why.
pub(crate) fn status(context: &str, e: Error) -> Status {
    let msg = format!("arbor: {context}: {e}");
    match e.category() {
        ErrorCategory::Unsupported => Status::unimplemented(msg),
        ErrorCategory::ApiMisuse => Status::failed_precondition(msg),
        ErrorCategory::Internal | ErrorCategory::Storage => Status::internal(msg),
        _ => Status::invalid_argument(msg),
    }
}

pub(crate) fn optional(bytes: &[u8]) -> Option<&[u8]> {
    (!bytes.is_empty()).then_some(bytes)
}

pub(crate) fn extensions(list: &[proto::Extension]) -> RpcResult<Vec<Extension>> {
    list.iter()
        .map(|e| {
            let t = u16::try_from(e.extension_type).map_err(|_| {
                Status::invalid_argument(format!(
                    "extension type {} is not a uint16",
                    e.extension_type
                ))
            })?;
            Ok(Extension {
                extension_type: ExtensionType(t),
                extension_data: e.extension_data.clone(),
            })
        })
        .collect()
}

pub(crate) fn decode_group_info(bytes: &[u8]) -> RpcResult<GroupInfo> {
    let message: MlsMessage =
        arbor_mls::decode_exact("MLSMessage", bytes).map_err(|e| status("GroupInfo", e))?;
    match message.body {
        MlsMessageBody::GroupInfo(info) => Ok(*info),
        _ => Err(Status::invalid_argument(
            "arbor: expected a GroupInfo MLSMessage",
        )),
    }
}

pub(crate) fn decode_key_package(bytes: &[u8]) -> RpcResult<Proposal> {
    let message: MlsMessage =
        arbor_mls::decode_exact("MLSMessage", bytes).map_err(|e| status("key package", e))?;
    match message.body {
        MlsMessageBody::KeyPackage(kp) => Ok(Proposal::Add(Add { key_package: *kp })),
        _ => Err(Status::invalid_argument(
            "arbor: expected a KeyPackage MLSMessage",
        )),
    }
}

/// The leaf of the member whose basic identity is `identity`.
pub(crate) fn leaf_of(group: &Group, identity: &[u8]) -> RpcResult<LeafIndex> {
    group
        .members()
        .into_iter()
        .find(|m| matches!(&m.credential, Credential::Basic { identity: i } if i == identity))
        .map(|m| m.index)
        .ok_or_else(|| {
            Status::invalid_argument(format!(
                "arbor: no member with identity {}",
                String::from_utf8_lossy(identity)
            ))
        })
}

pub(crate) fn random_nonce(len: usize) -> RpcResult<Vec<u8>> {
    let mut nonce = vec![0; len];
    OsRandom
        .fill(&mut nonce)
        .map_err(|e| Status::internal(format!("arbor: randomness: {e}")))?;
    Ok(nonce)
}

/// A proposal described by the runner, to commit by value or send as an
/// external sender. `group` gives the suite's hash length, the group id for
/// resumption PSKs and the identities of members to remove.
pub(crate) fn proposal_from(
    d: &ProposalDescription,
    group_id: &[u8],
    hash_len: usize,
    leaf: impl Fn(&[u8]) -> RpcResult<LeafIndex>,
) -> RpcResult<Proposal> {
    let psk = |psk: Psk| -> RpcResult<Proposal> {
        Ok(Proposal::PreSharedKey(PreSharedKey {
            psk: PreSharedKeyId {
                psk,
                psk_nonce: random_nonce(hash_len)?,
            },
        }))
    };
    match d.proposal_type.as_slice() {
        b"add" => decode_key_package(&d.key_package),
        b"remove" => Ok(Proposal::Remove(Remove {
            removed: leaf(&d.removed_id)?,
        })),
        b"externalPSK" => psk(Psk::External {
            psk_id: d.psk_id.clone(),
        }),
        b"resumptionPSK" => psk(Psk::Resumption {
            usage: ResumptionPskUsage::Application,
            psk_group_id: group_id.to_vec(),
            psk_epoch: d.epoch_id,
        }),
        b"groupContextExtensions" => Ok(Proposal::GroupContextExtensions(GroupContextExtensions {
            extensions: extensions(&d.extensions)?,
        })),
        b"reinit" => Ok(Proposal::ReInit(ReInit {
            group_id: d.group_id.clone(),
            version: ProtocolVersion::MLS10,
            cipher_suite: CipherSuite(u16::try_from(d.cipher_suite).map_err(|_| {
                Status::invalid_argument(format!("cipher suite {} is not a uint16", d.cipher_suite))
            })?),
            extensions: extensions(&d.extensions)?,
        })),
        other => Err(Status::invalid_argument(format!(
            "arbor: unknown proposal type {:?}",
            String::from_utf8_lossy(other)
        ))),
    }
}

/// The leaf of the member with basic identity `identity` in the group of a
/// GroupInfo (MLSMessage), whose tree is `ratchet_tree` or, when that is
/// empty, the GroupInfo's `ratchet_tree` extension: the prior leaf an
/// external joiner removes (`remove_prior`). Also used by the peer adapters.
pub fn prior_leaf(group_info: &[u8], ratchet_tree: &[u8], identity: &[u8]) -> RpcResult<u32> {
    let info = decode_group_info(group_info)?;
    let tree_bytes = match optional(ratchet_tree) {
        Some(t) => t.to_vec(),
        None => info
            .extensions
            .iter()
            .find(|e| e.extension_type == ExtensionType::RATCHET_TREE)
            .map(|e| e.extension_data.clone())
            .ok_or_else(|| Status::invalid_argument("remove_prior needs the ratchet tree"))?,
    };
    let tree = RatchetTree::from_bytes(&tree_bytes).map_err(|e| status("ratchet tree", e))?;
    tree.members()
        .find(|(_, leaf)| {
            matches!(&leaf.credential, Credential::Basic { identity: i } if i == identity)
        })
        .map(|(index, _)| index.0)
        .ok_or_else(|| Status::invalid_argument("remove_prior: no prior leaf with this identity"))
}

/// Signs `content` as a PublicMessage from a non-member sender
/// (`external` or `new_member_proposal`, §6.1: no membership tag, no
/// group context in the signed content).
pub(crate) fn sign_public(
    suite: &Suite,
    signer: &SignaturePrivateKey,
    content: FramedContent,
) -> RpcResult<Vec<u8>> {
    let tbs = framed_content_tbs(WireFormat::PUBLIC_MESSAGE, &content, None)
        .map_err(|e| status("FramedContentTBS", e))?;
    let signature = suite
        .sign_with_label(signer, FRAMED_CONTENT_LABEL, &tbs)
        .map_err(|e| Status::internal(format!("arbor: sign: {e}")))?;
    let signed = AuthenticatedContent {
        wire_format: WireFormat::PUBLIC_MESSAGE,
        content,
        auth: FramedContentAuthData {
            signature,
            confirmation_tag: None,
        },
    };
    encode(&MlsMessage::new(MlsMessageBody::PublicMessage(Box::new(
        PublicMessage {
            content: signed.content,
            auth: signed.auth,
            membership_tag: None,
        },
    ))))
    .map_err(|e| Status::internal(format!("arbor: encode: {e}")))
}
