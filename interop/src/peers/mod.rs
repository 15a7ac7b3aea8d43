//! In-process adapters of other MLS libraries behind [`Endpoint`]
//! (feature `peers`), so the scenario runner plays them against arbor
//! without their interop servers.
//!
//! [`Endpoint`]: crate::grpc::Endpoint

pub mod mls_rs;
pub mod openmls;

pub use self::mls_rs::MlsRsEndpoint;
pub use self::openmls::OpenMlsEndpoint;
