//! `ProposalType` (§17.4): the proposal codepoints.

use crate::codec::code_point;

code_point! {
    /// `ProposalType` (§17.4). Unknown values round-trip unchanged.
    pub struct ProposalType(u16) {
        /// `add`.
        ADD = 0x0001,
        /// `update`.
        UPDATE = 0x0002,
        /// `remove`.
        REMOVE = 0x0003,
        /// `psk`.
        PSK = 0x0004,
        /// `reinit`.
        REINIT = 0x0005,
        /// `external_init`.
        EXTERNAL_INIT = 0x0006,
        /// `group_context_extensions`.
        GROUP_CONTEXT_EXTENSIONS = 0x0007,
        /// `app_data_update` (draft-ietf-mls-extensions, "Updating
        /// Application Data in the GroupContext"). Provisional: the value
        /// the draft suggests to IANA, not yet registered.
        APP_DATA_UPDATE = 0x0008,
        /// `app_ephemeral` (draft-ietf-mls-extensions, "Attaching
        /// Application Data to a Commit"). Provisional: the value the draft
        /// suggests to IANA, not yet registered.
        APP_EPHEMERAL = 0x0009,
        /// `self_remove` (draft-ietf-mls-extensions, "SelfRemove Proposal").
        /// Provisional: the value the draft suggests to IANA, not yet
        /// registered.
        SELF_REMOVE = 0x000a,
    }
}

impl ProposalType {
    /// True for the types RFC 9420 defines (§7.2): clients support them
    /// without listing them in their capabilities.
    pub fn is_default(self) -> bool {
        (1..=7).contains(&self.0)
    }

    /// The name of the proposal's structure in RFC 9420 (`"ReInit"`) or in
    /// draft-ietf-mls-extensions (`"SelfRemove"`), for messages; `None` for
    /// a type neither defines.
    pub const fn structure_name(self) -> Option<&'static str> {
        match self {
            Self::ADD => Some("Add"),
            Self::UPDATE => Some("Update"),
            Self::REMOVE => Some("Remove"),
            Self::PSK => Some("PreSharedKey"),
            Self::REINIT => Some("ReInit"),
            Self::EXTERNAL_INIT => Some("ExternalInit"),
            Self::GROUP_CONTEXT_EXTENSIONS => Some("GroupContextExtensions"),
            Self::SELF_REMOVE => Some("SelfRemove"),
            Self::APP_DATA_UPDATE => Some("AppDataUpdate"),
            Self::APP_EPHEMERAL => Some("AppEphemeral"),
            _ => None,
        }
    }

    internal_pub! {
        /// The rules of this type that do not depend on the proposal's content:
        /// the one place the engine looks them up (sender checks, §12.1.8; list
        /// checks, §12.2; path requirement, §12.4; selection at commit).
        pub const fn rules(self) -> ProposalRules {
            const fn rules(
                external_sender: bool,
                new_member: bool,
                path_required: bool,
                commit: Commits,
            ) -> ProposalRules {
                ProposalRules {
                    external_sender,
                    new_member,
                    path_required,
                    commit,
                }
            }
            match self {
                Self::ADD => rules(true, true, false, Commits::Regular),
                Self::UPDATE => rules(false, false, true, Commits::Regular),
                Self::REMOVE => rules(true, false, true, Commits::Any),
                Self::PSK => rules(true, false, false, Commits::Any),
                Self::REINIT => rules(true, false, false, Commits::RegularAlone),
                Self::EXTERNAL_INIT => rules(false, false, true, Commits::ExternalOnly),
                Self::GROUP_CONTEXT_EXTENSIONS => rules(true, false, true, Commits::RegularAtMostOne),
                // draft-ietf-mls-extensions, "SelfRemove Proposal": "cannot be
                // sent as an external proposal", "allowed in external Commits
                // and requires an UpdatePath" (IANA row: External N, Path
                // Required Y).
                Self::SELF_REMOVE => rules(false, false, true, Commits::Any),
                // draft-ietf-mls-extensions, AppDataUpdate and AppEphemeral:
                // "can be sent by an external sender", "can be included in
                // an external Commit", "do not require an UpdatePath" (IANA
                // rows: External Y, Path Required N).
                Self::APP_DATA_UPDATE | Self::APP_EPHEMERAL => {
                    rules(true, false, false, Commits::Any)
                }
                // §12.4: a type whose specification does not exempt it requires
                // a path; §12.1.8 lists the only types external senders may send.
                _ => rules(false, false, true, Commits::Regular),
            }
        }
    }
}

/// What [`ProposalType::rules`] says of a proposal type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProposalRules {
    /// §12.1.8: an external sender (`external_senders`) may send it.
    pub external_sender: bool,
    /// §12.1.8: a `new_member_proposal` sender may send it.
    pub new_member: bool,
    /// §12.4: a commit covering it must carry an UpdatePath.
    pub path_required: bool,
    /// §12.2: which commits may cover it, and how many of it.
    pub commit: Commits,
}

/// The commits that may cover a proposal type (§12.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commits {
    /// Regular and external commits (an external commit: at most one
    /// Remove, §12.2).
    Any,
    /// Regular commits, any number of them.
    Regular,
    /// Regular commits, at most one per commit.
    RegularAtMostOne,
    /// Regular commits, alone in the commit.
    RegularAlone,
    /// External commits only, exactly one per commit.
    ExternalOnly,
}

impl ProposalRules {
    /// Whether an external commit may cover this type (§12.2).
    pub const fn in_external_commit(self) -> bool {
        matches!(self.commit, Commits::Any | Commits::ExternalOnly)
    }

    /// Whether a regular (member's) commit may cover this type (§12.2).
    pub const fn in_regular_commit(self) -> bool {
        !matches!(self.commit, Commits::ExternalOnly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: [ProposalType; 7] = [
        ProposalType::ADD,
        ProposalType::UPDATE,
        ProposalType::REMOVE,
        ProposalType::PSK,
        ProposalType::REINIT,
        ProposalType::EXTERNAL_INIT,
        ProposalType::GROUP_CONTEXT_EXTENSIONS,
    ];

    #[test]
    fn rules_follow_sections_12_1_8_12_2_and_12_4() {
        let pick = |f: fn(ProposalRules) -> bool| {
            DEFAULT
                .iter()
                .copied()
                .filter(|t| f(t.rules()))
                .collect::<Vec<_>>()
        };
        // §12.1.8: external senders send add, remove, psk, reinit and
        // group_context_extensions; a new member only an add.
        assert_eq!(
            pick(|r| r.external_sender),
            [
                ProposalType::ADD,
                ProposalType::REMOVE,
                ProposalType::PSK,
                ProposalType::REINIT,
                ProposalType::GROUP_CONTEXT_EXTENSIONS
            ]
        );
        assert_eq!(pick(|r| r.new_member), [ProposalType::ADD]);
        // §12.4: add, psk and reinit are the types that need no path.
        assert_eq!(
            pick(|r| !r.path_required),
            [ProposalType::ADD, ProposalType::PSK, ProposalType::REINIT]
        );
        // §12.2: an external commit covers ExternalInit, Remove and PSK
        // proposals only; a regular commit no ExternalInit.
        assert_eq!(
            pick(|r| r.in_external_commit()),
            [
                ProposalType::REMOVE,
                ProposalType::PSK,
                ProposalType::EXTERNAL_INIT
            ]
        );
        assert_eq!(
            pick(|r| !r.in_regular_commit()),
            [ProposalType::EXTERNAL_INIT]
        );
        // A type the RFC does not define: members only, path required.
        let custom = ProposalType(0x0a0a).rules();
        assert!(!custom.external_sender && !custom.new_member && custom.path_required);
        assert_eq!(custom.commit, Commits::Regular);
    }

    #[test]
    fn self_remove_rules_follow_the_extensions_draft() {
        // draft-ietf-mls-extensions, SelfRemove: members only, path
        // required, regular and external commits; not a default type.
        let t = ProposalType::SELF_REMOVE;
        assert_eq!(t.0, 0x000a);
        assert!(!t.is_default());
        let r = t.rules();
        assert!(!r.external_sender && !r.new_member && r.path_required);
        assert!(r.in_external_commit() && r.in_regular_commit());
        assert_eq!(t.structure_name(), Some("SelfRemove"));
    }

    #[test]
    fn app_data_rules_follow_the_extensions_draft() {
        // AppDataUpdate 0x0008 and AppEphemeral 0x0009: external senders
        // allowed, no path, regular and external commits, not default.
        for (t, v, name) in [
            (ProposalType::APP_DATA_UPDATE, 0x0008, "AppDataUpdate"),
            (ProposalType::APP_EPHEMERAL, 0x0009, "AppEphemeral"),
        ] {
            assert_eq!(t.0, v);
            assert!(!t.is_default());
            let r = t.rules();
            assert!(r.external_sender && !r.new_member && !r.path_required);
            assert!(r.in_external_commit() && r.in_regular_commit());
            assert_eq!(t.structure_name(), Some(name));
        }
    }
}
