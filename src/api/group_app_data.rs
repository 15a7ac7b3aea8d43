//! Application data agreed by the group (draft-ietf-mls-extensions,
//! "Updating Application Data in the GroupContext" and "Attaching
//! Application Data to a Commit"): proposing AppDataUpdate and
//! AppEphemeral, and reading the group's `app_data_dictionary` from an
//! observer. The rules are in `group::app_data_rules`; the application's
//! logic is an [`AppComponents`](crate::api::AppComponents) registered
//! with [`ClientBuilder::app_components`](crate::ClientBuilder::app_components).

use crate::Result;
use crate::api::group::Group;
use crate::api::observer::Observer;
use crate::crypto::component::ComponentId;
use crate::framing::Sender;
use crate::group::app_data_rules::{check_app_proposal, group_dictionary};
use crate::messages::app_data_proposals::{AppDataOperation, AppDataUpdate, AppEphemeral};
use crate::messages::proposals::Proposal;
use crate::types::app_data::AppDataDictionary;

impl Group {
    /// Sets the application data the GroupInfo of each later Welcome we
    /// send carries, in its `app_data_dictionary` extension
    /// (draft-ietf-mls-extensions, "Attaching Application Data to MLS
    /// Messages": it "distributes the application data confidentially to
    /// the new joiners"); `None` stops attaching it. With `published`, the
    /// GroupInfos we sign for external joiners ([`Group::group_info`],
    /// [`CommitOutput::group_info`](crate::CommitOutput::group_info)) carry
    /// it too: those are not encrypted, so whoever holds them (the delivery
    /// service) reads it. A [`AppDataDictionary`] is sorted with one entry
    /// per component by construction. When the client greases
    /// ([`ClientBuilder::grease`](crate::ClientBuilder::grease)) a GREASE
    /// entry is added (draft "GREASE"). Kept in memory only: after
    /// [`Client::load_group`](crate::Client::load_group) set it again.
    pub fn set_group_info_app_data(
        &mut self,
        dictionary: Option<AppDataDictionary>,
        published: bool,
    ) -> Result<()> {
        let Some(dictionary) = dictionary else {
            self.group_info_app_data = None;
            return Ok(());
        };
        let mut extensions = vec![dictionary.to_extension()?];
        if self.group_info_grease.is_some() {
            use crate::types::grease::{COMPONENT_GREASE, pick};
            let id = pick(&COMPONENT_GREASE, &mut *self.rng)?;
            crate::types::app_data::put_component(&mut extensions, id, Vec::new(), false)?;
        }
        let extension = extensions.pop().ok_or(crate::Error::Internal(
            "the app_data_dictionary extension vanished",
        ))?;
        self.group_info_app_data = Some((extension, published));
        Ok(())
    }

    /// The application data of the GroupInfo this member joined with (its
    /// Welcome's, or the one of an external join), GREASE entries dropped;
    /// `None` when it carried none. A malformed one was refused at the
    /// join. Kept in memory only: a group loaded from storage has none.
    pub fn group_info_app_data(&self) -> Option<&AppDataDictionary> {
        self.joined_app_data.as_ref()
    }

    /// The extensions after `ratchet_tree` in the GroupInfo of a Welcome
    /// we send: our application data, then GREASE.
    pub(crate) fn welcome_group_info_extensions(&self) -> Vec<crate::types::Extension> {
        let mut extensions: Vec<_> = self
            .group_info_app_data
            .iter()
            .map(|(e, _)| e.clone())
            .collect();
        extensions.extend(self.group_info_grease.clone());
        extensions
    }

    /// Proposes an AppDataUpdate of `component_id`: `op` is
    /// [`AppDataOperation::Update`] with the update the component's logic
    /// interprets, or [`AppDataOperation::Remove`]. Checked first as a
    /// receiver would (every member supports the proposal type and lists
    /// the component in its `app_components`, our application knows it, a
    /// `remove` has state to remove): an invalid one is refused with
    /// [`Error::Protocol`](crate::Error::Protocol) and nothing is sent.
    /// Needs no UpdatePath: [`Group::commit`] covers it.
    pub fn propose_app_data_update(
        &mut self,
        component_id: ComponentId,
        op: AppDataOperation,
    ) -> Result<Vec<u8>> {
        self.propose_checked(Proposal::AppDataUpdate(AppDataUpdate { component_id, op }))
    }

    /// Proposes an AppEphemeral: `data` for `component_id`, delivered to
    /// every member's [`AppComponents::check_ephemeral`](crate::api::AppComponents::check_ephemeral)
    /// and in [`CommitSummary::app_ephemeral`](crate::wire::CommitSummary::app_ephemeral)
    /// with the commit that covers it. Checked first as
    /// [`Self::propose_app_data_update`] is.
    pub fn propose_app_ephemeral(
        &mut self,
        component_id: ComponentId,
        data: Vec<u8>,
    ) -> Result<Vec<u8>> {
        self.propose_checked(Proposal::AppEphemeral(AppEphemeral { component_id, data }))
    }

    /// Commits AppDataUpdate `updates` by value, in this order, with the
    /// cached proposals that do not conflict with them. No UpdatePath is
    /// needed for them. A rejected list (an update the application's
    /// logic refuses, an update and a remove of one component) fails with
    /// [`Error::Protocol`](crate::Error::Protocol) and the group is
    /// unchanged.
    pub fn commit_app_data(
        &mut self,
        updates: Vec<AppDataUpdate>,
    ) -> Result<crate::api::CommitOutput> {
        let by_value = updates.into_iter().map(Proposal::AppDataUpdate).collect();
        self.commit_with(by_value, true, false)
    }

    fn propose_checked(&mut self, proposal: Proposal) -> Result<Vec<u8>> {
        let own = Sender::Member(self.own_leaf());
        // The protocol's checks first (type supported by every member,
        // state to remove), then the application's.
        crate::group::proposal_rules::validate_proposal(
            &self.state.suite,
            self.state.tree(),
            self.state.context(),
            &own,
            &proposal,
            self.state.config.lifetime_at(self.clock.now()),
        )?;
        check_app_proposal(
            self.state.authority().app_components(),
            self.state.tree(),
            self.state.context(),
            &own,
            &proposal,
        )?;
        self.propose(proposal)
    }
}

impl Observer {
    /// The group's `app_data_dictionary` (draft-ietf-mls-extensions) as
    /// this observer follows it through AppDataUpdate proposals and
    /// GroupContextExtensions; empty if the group has none.
    pub fn app_data_dictionary(&self) -> Result<AppDataDictionary> {
        group_dictionary(self.context())
    }
}
