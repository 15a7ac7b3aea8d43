//! The MLS working group's `MLSClient` gRPC service (interop/proto): the
//! [`Endpoint`] trait, arbor's implementation of it ([`ArborEndpoint`]), a
//! server for any endpoint and a gRPC client that is itself an endpoint.

pub mod arbor;
mod arbor_inputs;
mod arbor_limits;
pub mod endpoint;
pub mod remote;
pub mod server;

pub use arbor::ArborEndpoint;
pub use arbor_limits::Limits;
pub use endpoint::{Endpoint, RPC_NAMES};
pub use remote::Remote;

/// Messages and service stubs generated from `proto/mls_client.proto`.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("mls_client");
}
