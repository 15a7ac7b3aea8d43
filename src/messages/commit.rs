//! Commit (§12.4): wire form.

use crate::codec::wire_struct;
use crate::messages::proposals::ProposalOrRef;
use crate::tree::update_path::UpdatePath;

wire_struct! {
    /// `Commit` (§12.4).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Commit {
        /// Proposals, inline or by reference.
        pub proposals: Vec<ProposalOrRef>,
        /// The committer's path update, if any.
        pub path: Option<UpdatePath>,
    }
}
