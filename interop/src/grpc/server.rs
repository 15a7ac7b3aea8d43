//! Serves an [`Endpoint`] as the `MLSClient` gRPC service.

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

use super::endpoint::{Endpoint, for_each_rpc};
use super::proto::mls_client_server::{MlsClient, MlsClientServer};
use super::proto::*;

/// The gRPC service: requests run one at a time against the endpoint (MLS
/// states are not shared between threads), and a panic inside the stack is
/// answered as `Internal` instead of tearing the connection down.
pub struct Service<E> {
    inner: Arc<Mutex<E>>,
}

impl<E: Endpoint + 'static> Service<E> {
    /// Wraps `endpoint`.
    pub fn new(endpoint: E) -> Self {
        Self {
            inner: Arc::new(Mutex::new(endpoint)),
        }
    }

    fn call<Q, R>(
        &self,
        request: Q,
        f: impl FnOnce(&mut E, Q) -> Result<R, Status>,
    ) -> Result<R, Status> {
        // A poisoned lock only means an earlier request panicked; the
        // endpoint's maps are still consistent enough to answer further
        // requests (a state touched by the panic answers with its own error).
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match catch_unwind(AssertUnwindSafe(|| f(&mut guard, request))) {
            Ok(result) => result,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(Status::internal(format!("the MLS stack panicked: {what}")))
            }
        }
    }
}

macro_rules! server_impl {
    ($(($method:ident, $req:ident, $resp:ident)),* $(,)?) => {
        #[tonic::async_trait]
        impl<E: Endpoint + 'static> MlsClient for Service<E> {
            $(
                async fn $method(&self, request: Request<$req>) -> Result<Response<$resp>, Status> {
                    self.call(request.into_inner(), |e, r| e.$method(r)).map(Response::new)
                }
            )*
        }
    };
}
for_each_rpc!(server_impl);

/// Serves `endpoint` on `listener` until `shutdown` resolves.
pub async fn serve<E: Endpoint + 'static>(
    endpoint: E,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(MlsClientServer::new(Service::new(endpoint)))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
}

/// Binds `addr` (port 0 picks a free port) and returns the listener with
/// the address actually bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}
