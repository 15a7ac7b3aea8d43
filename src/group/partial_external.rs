//! Proposals from the group's external senders (RFC 9420 §12.1.8.1) read by
//! a partial client (draft-ietf-mls-partial).
//!
//! A SenderAuthenticatedMessage proves a leaf of the tree; an external
//! sender has none, and the draft defines no annotation for it. None is
//! needed: the sender's signature key is in the `external_senders`
//! extension of the GroupContext, which a partial client holds whole. So
//! such a proposal comes as a plain MLSMessage and is verified as a full
//! member verifies it (§6.1, §12.1.8.1), from the context alone.

use crate::crypto::{Secret, Suite};
use crate::framing::{
    AuthenticatedContent, Content, MlsMessage, MlsMessageBody, Sender, from_public_message,
    verify_content,
};
use crate::group::authorization::Authority;
use crate::group::proposal_rules::check_sender_may_propose;
use crate::schedule::GroupContext;
use crate::types::ExtensionType;
use crate::types::credential_validation::{CredentialUse, ValidationContext};
use crate::types::extensions::{ExternalSender, decode_extension};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// The rule the errors of this module cite.
const RULE: &str = "§12.1.8.1";

/// Opens a proposal an external sender sent in the epoch of `context`: a
/// PublicMessage (§12.1.8.1: "An external proposal MUST be sent as a
/// PublicMessage"), of this group and epoch, from `external(i)` with `i`
/// an entry of the context's `external_senders`, of a type external
/// senders may propose, whose credential `authority` accepts and whose
/// signature verifies with that entry's key (§6.1). Changes nothing.
pub fn open_external_proposal(
    suite: &Suite,
    context: &GroupContext,
    membership_key: &Secret,
    message: &MlsMessage,
    authority: &Authority,
) -> Result<AuthenticatedContent> {
    let MlsMessageBody::PublicMessage(public) = &message.body else {
        return Err(Error::protocol(
            RULE,
            "an external proposal must be a PublicMessage",
        ));
    };
    let Sender::External(index) = public.content.sender else {
        return Err(Error::protocol(
            RULE,
            format!(
                "a message from {:?} is not an external proposal: a member's comes as a \
                 SenderAuthenticatedMessage",
                public.content.sender
            ),
        ));
    };
    crate::group::partial_epoch::check_safe_aad(context, message)?;
    let content = from_public_message(suite, (**public).clone(), membership_key, context)?;
    if content.content.group_id != context.group_id || content.content.epoch != context.epoch {
        return Err(Error::protocol(
            "§6",
            format!(
                "an external proposal of epoch {} read in epoch {}, or of another group",
                content.content.epoch, context.epoch
            ),
        ));
    }
    let Content::Proposal(proposal) = &content.content.content else {
        return Err(Error::protocol(
            RULE,
            "an external sender sends proposals only",
        ));
    };
    check_sender_may_propose(&content.content.sender, proposal)?;
    let senders: Vec<ExternalSender> = decode_extension(
        &context.extensions,
        ExtensionType::EXTERNAL_SENDERS,
        "external_senders",
    )?
    .ok_or_else(|| {
        Error::protocol(
            RULE,
            "external proposal, but the group has no external_senders extension",
        )
    })?;
    let sender = senders.get(index as usize).ok_or_else(|| {
        Error::protocol(
            RULE,
            format!("external sender {index} is not in external_senders"),
        )
    })?;
    // §5.3.1: the application decides whether this sender may act.
    authority.check(
        ValidationContext {
            purpose: CredentialUse::ExternalSender,
            group_id: &context.group_id,
            epoch: context.epoch,
            leaf: Some(LeafIndex(index)),
            binding: None,
        },
        &sender.credential,
        &sender.signature_key,
    )?;
    verify_content(suite, &content, context, &sender.signature_key)?;
    Ok(content)
}
