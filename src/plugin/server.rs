//! Assembles the gRPC server Terraform talks to and runs it until Terraform (or a
//! signal) says stop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixListener;
use tokio::sync::Notify;
use tonic::transport::server::Router;
use tonic::transport::Server;

use super::conn;
use super::go_plugin::{Broker, Controller, Stdio};
use super::handshake::{self, HandshakeEnv, HandshakeError};
use super::timed::Timed;
use super::tls::{self, ServerIdentity, TlsError};
use crate::phases;
use crate::proto::plugin::{
    grpc_broker_server::GrpcBrokerServer, grpc_controller_server::GrpcControllerServer,
    grpc_stdio_server::GrpcStdioServer,
};
use crate::proto::tfplugin6::provider_server::ProviderServer;
use crate::protocol::ProviderService;

/// Terraform sends messages of up to 256 MiB; tonic's default limit is 4 MiB.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// The registry address Terraform knows paved by (used in debug mode).
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/pavedroad/paved";

/// Errors that stop the plugin server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The handshake could not be completed.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The socket could not be created.
    #[error("could not create the plugin socket in {dir}: {source}")]
    Socket {
        /// Where the socket was to be created.
        dir: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The gRPC server failed.
    #[error("the plugin gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A private directory holding the plugin's unix socket; removed on drop.
struct SocketDir {
    dir: tempfile::TempDir,
}

impl SocketDir {
    fn create(parent: Option<&Path>) -> Result<Self, ServeError> {
        let parent = parent
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        let dir = tempfile::Builder::new()
            .prefix("plugin")
            .tempdir_in(&parent)
            .map_err(|source| ServeError::Socket {
                dir: parent.clone(),
                source,
            })?;
        Ok(Self { dir })
    }

    fn socket_path(&self) -> PathBuf {
        self.dir.path().join("paved.sock")
    }

    fn bind(&self) -> Result<UnixListener, ServeError> {
        UnixListener::bind(self.socket_path()).map_err(|source| ServeError::Socket {
            dir: self.dir.path().to_path_buf(),
            source,
        })
    }
}

/// Builds the router with every service Terraform expects on the plugin connection.
pub async fn router(
    provider: ProviderService,
    shutdown: Arc<Notify>,
) -> Router<tower::layer::util::Stack<Timed, tower::layer::util::Identity>> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    Server::builder()
        .layer(Timed)
        .add_service(health_service)
        .add_service(
            ProviderServer::new(provider)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(GrpcControllerServer::new(Controller::new(shutdown)))
        .add_service(GrpcBrokerServer::new(Broker))
        .add_service(GrpcStdioServer::new(Stdio))
}

/// How often the provider checks that the Terraform process that started it is alive.
pub const PARENT_POLL: Duration = Duration::from_millis(500);

/// Serves the provider to the Terraform process that started it: socket, optional
/// AutoMTLS, handshake line, then serving until `GRPCController.Shutdown` or SIGTERM.
/// SIGINT is ignored, as Go plugins do: Terraform handles Ctrl-C and stops the
/// provider through StopProvider and Shutdown. A Terraform killed outright (SIGKILL,
/// the OOM killer, a CI runner cancelling a job) sends neither: the provider stops when
/// it finds it has been orphaned, instead of serving no one for ever. What an apply was
/// creating then is left as a killed provider leaves it: tagged, and adopted by the
/// next apply.
pub async fn serve(env: HandshakeEnv, provider: ProviderService) -> Result<(), ServeError> {
    let parent = std::os::unix::process::parent_id();
    let socket = SocketDir::create(env.socket_dir.as_deref())?;
    let listener = socket.bind()?;
    phases::mark("socket", None);
    let (tls, cert) = match &env.client_cert_pem {
        Some(pem) => {
            let identity = ServerIdentity::generate()?;
            phases::mark("tls_key", None);
            let config = tls::server_config(&identity, pem)?;
            phases::mark("tls_config", None);
            (Some(config), Some(identity.handshake_cert()))
        }
        None => (None, None),
    };
    let shutdown = Arc::new(Notify::new());
    let router = router(provider, shutdown.clone()).await;
    phases::mark("router", None);
    let stop_server = Arc::new(Notify::new());
    let stop = stop_server.clone();
    let server = tokio::spawn(
        router.serve_with_incoming_shutdown(conn::incoming(listener, tls), async move {
            stop.notified().await
        }),
    );
    // Marked before the line: Terraform may stop the process as soon as it reads it.
    phases::mark("handshake", None);
    handshake::announce(&handshake::handshake_line(
        &socket.socket_path(),
        cert.as_deref(),
    ))?;
    tracing::debug!(socket = %socket.socket_path().display(), tls = cert.is_some(), "plugin server started");

    tokio::select! {
        () = wait_for_stop(&shutdown, false) => {}
        () = orphaned(parent) => {
            tracing::warn!(parent, "the Terraform process that started the provider has gone; stopping");
        }
    }
    phases::mark("stop", None);
    // Let the Shutdown answer reach Terraform, but never keep it waiting long.
    stop_server.notify_one();
    let _ = tokio::time::timeout(Duration::from_millis(200), server).await;
    drop(socket);
    phases::mark("stopped", None);
    Ok(())
}

/// Serves in debug (reattach) mode: plaintext, and prints the `TF_REATTACH_PROVIDERS`
/// value to use; stops on Ctrl-C or SIGTERM, not on Terraform's Shutdown, so that one
/// provider process serves many Terraform runs.
pub async fn serve_debug(provider: ProviderService) -> Result<(), ServeError> {
    let socket = SocketDir::create(None)?;
    let listener = socket.bind()?;
    let shutdown = Arc::new(Notify::new());
    let router = router(provider, shutdown.clone()).await;
    let stop_server = Arc::new(Notify::new());
    let stop = stop_server.clone();
    let server = tokio::spawn(
        router.serve_with_incoming_shutdown(conn::incoming(listener, None), async move {
            stop.notified().await
        }),
    );
    let reattach = reattach_value(&socket.socket_path(), std::process::id());
    println!(
        "Provider started. To attach Terraform, set TF_REATTACH_PROVIDERS to:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n\nPress Ctrl-C to stop the provider."
    );
    wait_for_stop(&Arc::new(Notify::new()), true).await;
    stop_server.notify_one();
    let _ = tokio::time::timeout(Duration::from_millis(200), server).await;
    Ok(())
}

/// The JSON value of `TF_REATTACH_PROVIDERS` for a provider listening on `socket`.
pub fn reattach_value(socket: &Path, pid: u32) -> String {
    serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": handshake::APP_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "unix", "String": socket.display().to_string() }
        }
    })
    .to_string()
}

/// Resolves once the process's parent is no longer `parent`: the process that started
/// it has exited and it was handed to init or a subreaper. Polled: Linux's
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked exits, which in a Go program
/// such as Terraform can happen while Terraform runs on.
async fn orphaned(parent: u32) {
    let mut tick = tokio::time::interval(PARENT_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if std::os::unix::process::parent_id() != parent {
            return;
        }
    }
}

/// Waits for Terraform's Shutdown or SIGTERM; SIGINT stops only when `stop_on_int`.
async fn wait_for_stop(shutdown: &Notify, stop_on_int: bool) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    loop {
        tokio::select! {
            () = shutdown.notified() => return,
            Some(()) = recv_opt(&mut term) => {
                tracing::debug!("SIGTERM received; stopping");
                return;
            }
            Some(()) = recv_opt(&mut int) => {
                if stop_on_int {
                    return;
                }
                tracing::debug!("SIGINT ignored; Terraform stops the provider itself");
            }
        }
    }
}

async fn recv_opt(sig: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match sig {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reattach_value_names_the_provider_and_socket() {
        let v: serde_json::Value =
            serde_json::from_str(&reattach_value(Path::new("/tmp/p/paved.sock"), 42))
                .expect("valid JSON");
        let entry = &v[PROVIDER_ADDRESS];
        assert_eq!(entry["ProtocolVersion"], 6);
        assert_eq!(entry["Pid"], 42);
        assert_eq!(entry["Addr"]["Network"], "unix");
        assert_eq!(entry["Addr"]["String"], "/tmp/p/paved.sock");
    }
}
