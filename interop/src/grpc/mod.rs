//! The MLS working group's `MLSClient` gRPC service (interop/proto), served
//! by arbor.

/// Messages and service stubs generated from `proto/mls_client.proto`.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("mls_client");
}
