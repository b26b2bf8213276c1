//! How the stand-in binaries wait to be stopped: SIGTERM or SIGINT (Ctrl-C
//! elsewhere), listened for before a binary announces its port.

/// SIGINT and SIGTERM listeners, installed before the port is announced so
/// that a signal sent right after the announcement is not lost.
#[cfg(unix)]
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    /// Installs the listeners; must be called within a Tokio runtime's context.
    pub fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Returns when either signal arrives.
    pub async fn wait(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

/// Ctrl-C listener where there are no Unix signals.
#[cfg(not(unix))]
pub struct Signals;

#[cfg(not(unix))]
impl Signals {
    /// Nothing to install.
    pub fn install() -> std::io::Result<Self> {
        Ok(Self)
    }

    /// Returns on Ctrl-C.
    pub async fn wait(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
