//! [`Remote`]: an [`Endpoint`] that forwards every call to an `MLSClient`
//! gRPC server, so the scenario runner can drive any implementation's
//! interop client.

use tonic::Status;
use tonic::transport::Channel;

use super::endpoint::{Endpoint, for_each_rpc};
use super::proto::mls_client_client::MlsClientClient;
use super::proto::*;

/// A connection to an `MLSClient` server. Calls block on a private
/// single-threaded runtime, so the runner stays synchronous.
pub struct Remote {
    runtime: tokio::runtime::Runtime,
    client: MlsClientClient<Channel>,
    label: String,
}

impl Remote {
    /// Connects to `uri` (e.g. `http://127.0.0.1:50051`).
    pub fn connect(uri: &str) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        let client = runtime
            .block_on(MlsClientClient::connect(uri.to_string()))
            .map_err(|e| format!("connect to {uri}: {e}"))?;
        let mut remote = Self {
            runtime,
            client,
            label: uri.to_string(),
        };
        // The server's own name makes reports readable.
        if let Ok(name) = remote.name(NameRequest {}) {
            remote.label = format!("{} ({uri})", name.name);
        }
        Ok(remote)
    }
}

macro_rules! remote_impl {
    ($(($method:ident, $req:ident, $resp:ident)),* $(,)?) => {
        impl Endpoint for Remote {
            $(
                fn $method(&mut self, request: $req) -> Result<$resp, Status> {
                    let client = &mut self.client;
                    self.runtime
                        .block_on(client.$method(request))
                        .map(tonic::Response::into_inner)
                }
            )*

            fn stack_name(&self) -> String {
                self.label.clone()
            }
        }
    };
}
for_each_rpc!(remote_impl);
