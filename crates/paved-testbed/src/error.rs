//! Error type of the fault proxy.

use std::io;

/// Everything that can go wrong while configuring or starting the proxy.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The upstream base URL could not be parsed or is not a plain `http://` URL.
    #[error("invalid upstream URL {url:?}: {reason}")]
    InvalidUpstream {
        /// The URL as given.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A [`FaultConfig`](crate::FaultConfig) value is out of range.
    #[error("invalid fault configuration: {0}")]
    InvalidConfig(String),
    /// Binding the listening socket on 127.0.0.1 failed.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port that was asked for (0 = any free port).
        port: u16,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// Any other I/O failure while starting the proxy (runtime or thread creation).
    #[error("cannot start the proxy: {0}")]
    Io(#[from] io::Error),
    /// The proxy's background thread stopped before reporting that it was ready.
    #[error("the proxy thread stopped before it was ready")]
    ThreadDied,
}
