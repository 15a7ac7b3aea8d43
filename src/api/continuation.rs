//! Groups that continue an old one (§11.2 reinitialization, §11.3
//! branching): the new group's first epoch is bound to the old group by a
//! resumption PSK that only its members know.

use crate::api::client::{Client, GroupOptions};
use crate::api::group::{CommitOutput, Group};
use crate::framing::{MlsMessage, MlsMessageBody};
use crate::group::psk_store::PskUse;
use crate::group::state::GroupConfig;
use crate::messages::proposals::{Add, Proposal};
use crate::schedule::{PreSharedKeyId, Psk, ResumptionPskUsage};
use crate::{Error, Result, decode_exact};

fn adds(key_packages: &[&[u8]]) -> Result<Vec<Proposal>> {
    key_packages
        .iter()
        .map(|bytes| {
            let message: MlsMessage = decode_exact("MLSMessage", bytes)?;
            match message.body {
                MlsMessageBody::KeyPackage(kp) => Ok(Proposal::Add(Add { key_package: *kp })),
                _ => Err(Error::Misuse("expected a KeyPackage message".into())),
            }
        })
        .collect()
}

/// Whether the Welcome's PSKs contain the link to `old` with `usage`.
fn links_to(psks: &[PreSharedKeyId], old: (&[u8], u64), usage: ResumptionPskUsage) -> bool {
    psks.iter().any(|id| {
        matches!(&id.psk, Psk::Resumption { usage: u, psk_group_id, psk_epoch }
            if *u == usage && psk_group_id == old.0 && *psk_epoch == old.1)
    })
}

impl Client {
    /// Creates the group that continues `old` after its ReInit (§11.2),
    /// adding the members of `key_packages`. Returns the new group and its
    /// first commit; merge the commit when the delivery service echoes it.
    ///
    /// The new group uses the ReInit's cipher suite, so `self` must be a
    /// client of that suite: for a ReInit into another suite, a client built
    /// with [`ClientBuilder::cipher_suite`](crate::api::client::ClientBuilder::cipher_suite)
    /// (its own signature key and credential), while `old` is the group as
    /// the member's client of the old suite left it.
    pub fn create_reinit_group(
        &mut self,
        old: &Group,
        key_packages: &[&[u8]],
    ) -> Result<(Group, CommitOutput)> {
        self.create_reinit_group_with(old, key_packages, GroupConfig::default(), false)
    }

    /// [`Self::create_reinit_group`] with the new group's configuration, and
    /// `force_path` to give the first commit an UpdatePath although it
    /// only adds members.
    pub fn create_reinit_group_with(
        &mut self,
        old: &Group,
        key_packages: &[&[u8]],
        config: GroupConfig,
        force_path: bool,
    ) -> Result<(Group, CommitOutput)> {
        let reinit = old
            .reinitialized()
            .ok_or_else(|| Error::Misuse("the old group was not reinitialized".into()))?
            .clone();
        if reinit.cipher_suite != self.suite_id() {
            return Err(Error::Misuse(format!(
                "the ReInit continues in cipher suite {:#06x}; create the new group from a \
                 client of that suite (this one is {:#06x})",
                reinit.cipher_suite.0,
                self.suite_id().0
            )));
        }
        let group = self.create_group(GroupOptions {
            group_id: Some(reinit.group_id),
            extensions: reinit.extensions,
            config,
        })?;
        Self::first_commit(
            group,
            old,
            key_packages,
            (ResumptionPskUsage::Reinit, PskUse::Reinit),
            force_path,
        )
    }

    /// Creates a subgroup of `old` (§11.3) with the members of
    /// `key_packages`, linked to `old`'s current epoch.
    pub fn branch(
        &mut self,
        old: &Group,
        key_packages: &[&[u8]],
        options: GroupOptions,
    ) -> Result<(Group, CommitOutput)> {
        self.branch_with(old, key_packages, options, false)
    }

    /// [`Self::branch`], with `force_path` to give the first commit an
    /// UpdatePath although it only adds members.
    pub fn branch_with(
        &mut self,
        old: &Group,
        key_packages: &[&[u8]],
        options: GroupOptions,
        force_path: bool,
    ) -> Result<(Group, CommitOutput)> {
        let group = self.create_group(options)?;
        Self::first_commit(
            group,
            old,
            key_packages,
            (ResumptionPskUsage::Branch, PskUse::Branch),
            force_path,
        )
    }

    fn first_commit(
        mut group: Group,
        old: &Group,
        key_packages: &[&[u8]],
        (usage, psk_use): (ResumptionPskUsage, PskUse),
        force_path: bool,
    ) -> Result<(Group, CommitOutput)> {
        let (old_id, old_epoch, psk) = old.resumption();
        group.add_resumption_psk(old_id.clone(), old_epoch, psk);
        let link = PreSharedKeyId {
            psk: Psk::Resumption {
                usage,
                psk_group_id: old_id,
                psk_epoch: old_epoch,
            },
            psk_nonce: group.psk_nonce()?,
        };
        let out =
            group.commit_with_psks(adds(key_packages)?, false, force_path, vec![link], psk_use)?;
        Ok((group, out))
    }

    /// Joins the group that continues `old` after its ReInit, checking what
    /// §11.2 requires: epoch 1, the ReInit's parameters, and the resumption
    /// PSK of `old`'s final epoch.
    pub fn join_reinit(
        &mut self,
        welcome: &[u8],
        ratchet_tree: Option<&[u8]>,
        old: &Group,
    ) -> Result<Group> {
        let reinit = old
            .reinitialized()
            .ok_or_else(|| Error::Misuse("the old group was not reinitialized".into()))?
            .clone();
        let (id, epoch, psk) = old.resumption();
        self.psks
            .write()
            .resumption
            .insert((id.clone(), epoch), psk);
        self.join_inner(
            welcome,
            ratchet_tree,
            GroupConfig::default(),
            PskUse::Reinit,
            &|group, psks| {
                let ctx = group.state.context();
                // §11.2: the new group matches the ReInit and starts at
                // epoch 1.
                if ctx.epoch != 1
                    || ctx.group_id != reinit.group_id
                    || ctx.version != reinit.version
                    || ctx.cipher_suite != reinit.cipher_suite
                    || ctx.extensions != reinit.extensions
                    || !links_to(psks, (&id, epoch), ResumptionPskUsage::Reinit)
                {
                    return Err(Error::protocol(
                        "§11.2",
                        "the Welcome does not continue the reinitialized group",
                    ));
                }
                Ok(())
            },
        )
    }

    /// Joins a subgroup branched from `old`, checking what §11.3 requires:
    /// epoch 1, the same version and cipher suite, the resumption PSK of
    /// `old`'s current epoch, and every member's credential present in
    /// `old`.
    pub fn join_branch(
        &mut self,
        welcome: &[u8],
        ratchet_tree: Option<&[u8]>,
        old: &Group,
    ) -> Result<Group> {
        let (id, epoch, psk) = old.resumption();
        self.psks
            .write()
            .resumption
            .insert((id.clone(), epoch), psk);
        self.join_inner(
            welcome,
            ratchet_tree,
            GroupConfig::default(),
            PskUse::Branch,
            &|group, psks| {
                let ctx = group.state.context();
                let old_ctx = old.state.context();
                let old_members = old.members();
                let known: std::collections::HashSet<_> =
                    old_members.iter().map(|o| &o.credential).collect();
                let members_match = group
                    .members()
                    .iter()
                    .all(|m| known.contains(&m.credential));
                if ctx.epoch != 1
                    || ctx.version != old_ctx.version
                    || ctx.cipher_suite != old_ctx.cipher_suite
                    || !members_match
                    || !links_to(psks, (&id, epoch), ResumptionPskUsage::Branch)
                {
                    return Err(Error::protocol(
                        "§11.3",
                        "the Welcome is not a subgroup branched from this group",
                    ));
                }
                Ok(())
            },
        )
    }
}
