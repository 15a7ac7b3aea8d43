//! [`Endpoint`]: the `MLSClient` service as a synchronous Rust trait, so that
//! one scenario runner drives arbor in-process, any implementation over gRPC
//! ([`super::remote::Remote`]), and in-process adapters of other libraries.
//! [`super::server`] serves any `Endpoint` over gRPC.

use tonic::Status;

use super::proto::*;

/// Every RPC of `mls_client.proto`, as `(method, request, response)`, in the
/// order of the proto. The trait, the server and the gRPC client are all
/// generated from this one list, so none of them can miss an RPC.
macro_rules! for_each_rpc {
    ($callback:ident) => {
        $callback! {
            (name, NameRequest, NameResponse),
            (supported_ciphersuites, SupportedCiphersuitesRequest, SupportedCiphersuitesResponse),
            (create_group, CreateGroupRequest, CreateGroupResponse),
            (create_key_package, CreateKeyPackageRequest, CreateKeyPackageResponse),
            (join_group, JoinGroupRequest, JoinGroupResponse),
            (external_join, ExternalJoinRequest, ExternalJoinResponse),
            (group_info, GroupInfoRequest, GroupInfoResponse),
            (state_auth, StateAuthRequest, StateAuthResponse),
            (export, ExportRequest, ExportResponse),
            (protect, ProtectRequest, ProtectResponse),
            (unprotect, UnprotectRequest, UnprotectResponse),
            (store_psk, StorePskRequest, StorePskResponse),
            (add_proposal, AddProposalRequest, ProposalResponse),
            (update_proposal, UpdateProposalRequest, ProposalResponse),
            (remove_proposal, RemoveProposalRequest, ProposalResponse),
            (external_psk_proposal, ExternalPskProposalRequest, ProposalResponse),
            (resumption_psk_proposal, ResumptionPskProposalRequest, ProposalResponse),
            (group_context_extensions_proposal, GroupContextExtensionsProposalRequest, ProposalResponse),
            (commit, CommitRequest, CommitResponse),
            (handle_commit, HandleCommitRequest, HandleCommitResponse),
            (handle_pending_commit, HandlePendingCommitRequest, HandleCommitResponse),
            (re_init_proposal, ReInitProposalRequest, ProposalResponse),
            (re_init_commit, CommitRequest, CommitResponse),
            (handle_pending_re_init_commit, HandlePendingCommitRequest, HandleReInitCommitResponse),
            (handle_re_init_commit, HandleCommitRequest, HandleReInitCommitResponse),
            (re_init_welcome, ReInitWelcomeRequest, CreateSubgroupResponse),
            (handle_re_init_welcome, HandleReInitWelcomeRequest, JoinGroupResponse),
            (create_branch, CreateBranchRequest, CreateSubgroupResponse),
            (handle_branch, HandleBranchRequest, HandleBranchResponse),
            (new_member_add_proposal, NewMemberAddProposalRequest, NewMemberAddProposalResponse),
            (create_external_signer, CreateExternalSignerRequest, CreateExternalSignerResponse),
            (add_external_signer, AddExternalSignerRequest, ProposalResponse),
            (external_signer_proposal, ExternalSignerProposalRequest, ProposalResponse),
            (free, FreeRequest, FreeResponse),
        }
    };
}
pub(crate) use for_each_rpc;

macro_rules! endpoint_trait {
    ($(($method:ident, $req:ident, $resp:ident)),* $(,)?) => {
        /// One MLS client stack answering `MLSClient` RPCs. Every method
        /// defaults to `Unimplemented`, naming the stack and the RPC, so an
        /// adapter implements what its library can do and nothing panics.
        pub trait Endpoint: Send {
            $(
                #[doc = concat!("The `", stringify!($method), "` RPC.")]
                fn $method(&mut self, request: $req) -> Result<$resp, Status> {
                    let _ = request;
                    Err(Status::unimplemented(format!(
                        "{}: this harness's adapter does not implement {}",
                        self.stack_name(),
                        stringify!($method)
                    )))
                }
            )*

            /// The stack's name, for error messages and reports.
            fn stack_name(&self) -> String;
        }
    };
}
for_each_rpc!(endpoint_trait);

/// The names of all RPCs, in the order of the proto.
pub const RPC_NAMES: &[&str] = &{
    macro_rules! names {
        ($(($method:ident, $req:ident, $resp:ident)),* $(,)?) => {
            [$(stringify!($method)),*]
        };
    }
    for_each_rpc!(names)
};
