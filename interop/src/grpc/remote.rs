//! [`Remote`]: an [`Endpoint`] that forwards every call to an `MLSClient`
//! gRPC server, so the scenario runner can drive any implementation's
//! interop client.

use std::time::Duration;

use tonic::Status;
use tonic::transport::Channel;

use super::endpoint::{Endpoint, for_each_rpc};
use super::proto::mls_client_client::MlsClientClient;
use super::proto::*;

/// How long [`Remote::connect`] waits for the connection and for each
/// answer: far above any RPC of the configs, short enough that a hung
/// server fails a run instead of stalling it.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A connection to an `MLSClient` server. Calls block on a private
/// single-threaded runtime, so the runner stays synchronous; each waits
/// for its answer at most the connection's timeout.
pub struct Remote {
    runtime: tokio::runtime::Runtime,
    client: MlsClientClient<Channel>,
    label: String,
    timeout: Duration,
    /// The call that got no answer in time. The server may still be busy
    /// with it, so later calls fail at once, naming it, rather than each
    /// waiting out the timeout behind it.
    stalled: Option<String>,
}

impl Remote {
    /// Connects to `uri` (e.g. `http://127.0.0.1:50051`), with
    /// [`DEFAULT_CALL_TIMEOUT`].
    pub fn connect(uri: &str) -> Result<Self, String> {
        Self::connect_with_timeout(uri, DEFAULT_CALL_TIMEOUT)
    }

    /// Connects to `uri`, waiting at most `timeout` for the connection and
    /// then for each call's answer. A call not answered in time fails with
    /// `DeadlineExceeded` naming the RPC and the server.
    pub fn connect_with_timeout(uri: &str, timeout: Duration) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        // The timer is made inside the runtime, whose clock it needs.
        let client = runtime
            .block_on(async {
                tokio::time::timeout(timeout, MlsClientClient::connect(uri.to_string())).await
            })
            .map_err(|_| format!("connect to {uri}: no connection within {timeout:?}"))?
            .map_err(|e| format!("connect to {uri}: {e}"))?;
        let mut remote = Self {
            runtime,
            client,
            label: uri.to_string(),
            timeout,
            stalled: None,
        };
        // The server's own name makes reports readable.
        match remote.name(NameRequest {}) {
            Ok(name) => remote.label = format!("{} ({uri})", name.name),
            Err(e) if e.code() == tonic::Code::DeadlineExceeded => return Err(e.message().into()),
            Err(_) => {}
        }
        Ok(remote)
    }
}

macro_rules! remote_impl {
    ($(($method:ident, $req:ident, $resp:ident)),* $(,)?) => {
        impl Endpoint for Remote {
            $(
                fn $method(&mut self, request: $req) -> Result<$resp, Status> {
                    if let Some(stalled) = &self.stalled {
                        return Err(Status::unavailable(format!(
                            "{} not sent: {stalled}",
                            stringify!($method)
                        )));
                    }
                    let (client, timeout) = (&mut self.client, self.timeout);
                    let answer = self.runtime.block_on(async {
                        tokio::time::timeout(timeout, client.$method(request)).await
                    });
                    match answer {
                        Ok(result) => result.map(tonic::Response::into_inner),
                        Err(_) => {
                            let what = format!(
                                "{} got no answer from {} within {:?}",
                                stringify!($method),
                                self.label,
                                self.timeout
                            );
                            self.stalled = Some(what.clone());
                            Err(Status::deadline_exceeded(what))
                        }
                    }
                }
            )*

            fn stack_name(&self) -> String {
                self.label.clone()
            }
        }
    };
}
for_each_rpc!(remote_impl);
