//! Errors starting the Kubernetes stand-in.

use std::io;

/// Everything that can go wrong while starting [`KubeFake`](super::KubeFake).
#[derive(Debug, thiserror::Error)]
pub enum KubeFakeError {
    /// Binding the listening socket on 127.0.0.1 failed.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for (0 = any free port).
        port: u16,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// Generating the certificates or the TLS configuration failed.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// Any other I/O failure (runtime or thread creation, writing the kubeconfig).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The server thread stopped before it was ready.
    #[error("the server thread stopped before it was ready")]
    ThreadDied,
}
