//! Leaving a group, settling an external join, and attaching authenticated
//! data to handshakes.

use crate::api::group::Group;
use crate::framing::WireFormat;
use crate::group::proposal_rules::self_remove_capable;
use crate::messages::proposals::{Proposal, Remove, SelfRemove};
use crate::persist::group_records::LocalFlags;
use crate::{Error, Result};

impl Group {
    /// Asks to leave the group. In a self-remove-capable group (every
    /// member lists SelfRemove in its capabilities, draft-ietf-mls-extensions)
    /// this sends a SelfRemove proposal, always as a PublicMessage (the
    /// draft requires it, so that external joiners can commit it);
    /// otherwise a Remove proposal for our own leaf (RFC 9420 §12.1.3),
    /// framed under the group's policy. A member cannot commit its own
    /// removal, so another member must commit the proposal (any member's
    /// next commit covers a SelfRemove); until then we stay a member, can
    /// still read messages, but refuse to commit. When a commit removing us
    /// arrives, [`Group::process`] returns it with `summary.self_removed`
    /// set; merge it, and the group becomes inactive ([`Group::is_active`]
    /// is false).
    ///
    /// Send the returned message to the group. If it is lost or a commit
    /// moves the group on without it, call `leave` again in the new epoch.
    /// The draft allows one SelfRemove per epoch: calling `leave` again in
    /// the same epoch fails with [`Error::Misuse`].
    pub fn leave(&mut self) -> Result<Vec<u8>> {
        let own = self.own_leaf();
        if self_remove_capable(self.state.tree()) {
            if self.leaving_by_self_remove() {
                return Err(Error::Misuse(
                    "this member already sent a SelfRemove in this epoch, and                      draft-ietf-mls-extensions allows one per epoch: resend that message,                      or call leave again in the next epoch"
                        .into(),
                ));
            }
            return self.transition(|g| {
                let (message, _) = g.propose_with_ref_as(
                    Proposal::SelfRemove(SelfRemove {}),
                    WireFormat::PUBLIC_MESSAGE,
                )?;
                g.persist_sent_proposal(true)?;
                Ok(message)
            });
        }
        self.transition(|g| {
            let (message, _) = g.propose_with_ref(Proposal::Remove(Remove { removed: own }))?;
            // Stored with the proposal: after a restart we still refuse to
            // commit.
            g.persist_sent_proposal(true)?;
            Ok(message)
        })
    }

    /// Whether our own SelfRemove is cached in the current epoch.
    fn leaving_by_self_remove(&self) -> bool {
        let own = crate::framing::Sender::Member(self.own_leaf());
        self.state
            .proposals()
            .iter()
            .any(|p| p.sender == own && matches!(p.proposal, Proposal::SelfRemove(_)))
    }

    /// Whether we asked to leave ([`Self::leave`]) in the current epoch
    /// and are still a member. Merging another member's commit that did not
    /// remove us clears it: the proposal died with its epoch.
    pub fn is_leaving(&self) -> bool {
        self.leaving && self.is_active()
    }

    /// Sets the authenticated data (§6: sent in the clear, covered by the
    /// signature) of the next proposal or commit this group sends. It is
    /// used once: the message after that has none again. Application
    /// messages take theirs as an argument of [`Group::encrypt`].
    ///
    /// A persisted group stores it at once, so it survives a restart; a
    /// storage failure is returned and leaves the previous value.
    pub fn set_authenticated_data(&mut self, authenticated_data: Vec<u8>) -> Result<()> {
        let after = LocalFlags {
            authenticated_data,
            ..self.local_flags()
        };
        self.persist_local(&after)?;
        self.next_aad = after.authenticated_data;
        Ok(())
    }

    /// Whether this group was joined by external commit
    /// ([`Client::join_by_external_commit`](crate::Client::join_by_external_commit))
    /// and the delivery service has not yet been seen to accept that
    /// commit: neither its echo was processed, nor a later commit merged,
    /// nor [`Self::confirm_external_join`] called. Stored with the group,
    /// so a client restarted before the answer loads the group with this
    /// set: ask the delivery service, then confirm or abandon.
    pub fn external_join_pending(&self) -> bool {
        self.joined_with.is_some()
    }

    /// Records that the delivery service accepted our external commit,
    /// for services that answer instead of echoing it (an echo confirms by
    /// itself). Fails with [`Error::Misuse`] when no external join is
    /// pending.
    pub fn confirm_external_join(&mut self) -> Result<()> {
        if self.joined_with.is_none() {
            return Err(Error::Misuse(
                "no external join of this group awaits confirmation".into(),
            ));
        }
        let after = LocalFlags {
            joined_with: None,
            ..self.local_flags()
        };
        self.persist_local(&after)?;
        self.joined_with = None;
        Ok(())
    }

    /// The delivery service refused our external commit (another commit
    /// took the epoch, or the service's policy): deletes the group from
    /// storage, so the next start does not load a group the others never
    /// entered. Fails with [`Error::Misuse`], deleting nothing, when the
    /// join was already confirmed (then the group is real: use
    /// [`Self::delete`] to drop it for good).
    pub fn abandon_external_join(self) -> Result<()> {
        if self.joined_with.is_none() {
            return Err(Error::Misuse(
                "the external join of this group was confirmed (or it was not joined \
                 externally): abandoning would drop a real group; Group::delete drops it \
                 on purpose"
                    .into(),
            ));
        }
        self.delete()
    }

    /// Deletes the group from the client's storage: every record of it
    /// (tree, epoch secrets, ratchets, retained epochs, pending commit) in
    /// one atomic write. Call it once the group is over for this member,
    /// e.g. after the commit removing us was merged, or to drop a group
    /// for good. Without storage it only drops the group.
    pub fn delete(self) -> Result<()> {
        match self.store_handle() {
            Some(store) => store.delete_group(self.group_id()),
            None => Ok(()),
        }
    }
}
