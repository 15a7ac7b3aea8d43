//! The delivery service's part of SelfRemove (draft-ietf-mls-extensions,
//! "SelfRemove Proposal"): "If the DS provides a GroupInfo object to an
//! external joiner, the DS SHOULD attach any SelfRemove proposals known to
//! the DS to the GroupInfo object." The observer does not keep proposal
//! messages; the delivery service, which stores the messages it routes,
//! asks it which of them to attach.

use crate::api::observer::Observer;
use crate::codec::encode;
use crate::framing::{AuthenticatedContent, Content, MlsMessage, MlsMessageBody, WireFormat};
use crate::messages::proposals::Proposal;

impl Observer {
    /// Of `messages` (MLSMessages the delivery service routed), those that
    /// are SelfRemove proposals this observer validated and cached in the
    /// current epoch, in the order given: what to hand an external joiner
    /// with [`Self::group_info`], for its
    /// [`ExternalJoinOptions::self_removes`](crate::ExternalJoinOptions).
    /// Messages of other epochs, other kinds, or not cached (refused,
    /// never processed) are left out; nothing here fails or changes state.
    pub fn self_removes_to_attach<'m>(&self, messages: &[&'m [u8]]) -> Vec<&'m [u8]> {
        let state = &self.state;
        messages
            .iter()
            .copied()
            .filter(|bytes| {
                let Ok(message) = crate::codec::decode_exact::<MlsMessage>(bytes) else {
                    return false;
                };
                let MlsMessageBody::PublicMessage(pm) = message.body else {
                    return false;
                };
                if pm.content.epoch != state.epoch()
                    || pm.content.group_id != state.context().group_id
                    || !matches!(&pm.content.content, Content::Proposal(p) if matches!(**p, Proposal::SelfRemove(_)))
                {
                    return false;
                }
                let content = AuthenticatedContent {
                    wire_format: WireFormat::PUBLIC_MESSAGE,
                    content: pm.content,
                    auth: pm.auth,
                };
                encode(&content)
                    .ok()
                    .and_then(|c| state.suite.proposal_ref(&c).ok())
                    .is_some_and(|r| {
                        state
                            .proposals()
                            .find(&r)
                            .is_some_and(|c| matches!(c.proposal, Proposal::SelfRemove(_)))
                    })
            })
            .collect()
    }
}
