//! Serves an [`Endpoint`] as the `MLSClient` gRPC service.

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

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

/// How long dropping a [`Running`] waits for the server to stop.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A server on 127.0.0.1 (a free port) in its own thread and runtime, for
/// tests and the runner. [`Running::stop`] stops it within a bound;
/// dropping it does the same with [`STOP_TIMEOUT`], leaving the thread
/// behind (and saying so) if it does not stop in time.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Disconnected once the server thread has returned.
    finished: mpsc::Receiver<()>,
}

impl Running {
    /// Starts serving `endpoint`.
    pub fn start<E: Endpoint + 'static>(endpoint: E) -> std::io::Result<Self> {
        let (addr_tx, addr_rx) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (finishing, finished) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            // Dropped when this thread returns, however it returns.
            let _finishing = finishing;
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = addr_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                let (listener, addr) = match bind(SocketAddr::from(([127, 0, 0, 1], 0))).await {
                    Ok(bound) => bound,
                    Err(e) => {
                        let _ = addr_tx.send(Err(e));
                        return;
                    }
                };
                let _ = addr_tx.send(Ok(addr));
                if let Err(e) = serve(endpoint, listener, async {
                    let _ = stopped.await;
                })
                .await
                {
                    eprintln!("MLSClient server on {addr}: {e}");
                }
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| std::io::Error::other("the server thread did not start"))??;
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
            finished,
        })
    }

    /// Stops the server and waits at most `timeout` for it to finish:
    /// graceful shutdown waits for requests under way and for clients to
    /// close their connections.
    pub fn stop(mut self, timeout: Duration) -> Result<(), String> {
        self.shutdown(timeout)
    }

    fn shutdown(&mut self, timeout: Duration) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        match self.finished.recv_timeout(timeout) {
            Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
                "the MLSClient server on {} did not stop within {timeout:?}: a request is still \
                 running or a client still holds its connection",
                self.addr
            )),
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => thread
                .join()
                .map_err(|_| format!("the MLSClient server thread on {} panicked", self.addr)),
        }
    }

    /// The URI a [`super::Remote`] connects to.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown(STOP_TIMEOUT) {
            eprintln!("{e}");
        }
    }
}
