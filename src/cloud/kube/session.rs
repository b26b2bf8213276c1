//! A kube-rs client that always holds a token the API still accepts.
//!
//! kube-rs reads the bearer token from its `Config` when the client is built, so
//! renewal rebuilds the client: before each call the session checks the expiry of
//! the token its client carries, and when less than [`RENEW_BEFORE`] remains (or
//! the API refused the token) it asks the [`TokenSource`] for a new one and builds
//! a new client with it. An EKS token lives 15 minutes and is made to expire after
//! 14: a session renews it about every 9 minutes, which costs one new connection
//! (TCP and TLS handshake) each time, nothing compared with the calls in between.
//!
//! This was chosen over a tower layer that rewrites the `Authorization` header:
//! kube-rs's stack stays its default one (timeouts, base URI, proxy, TLS), the
//! token source is an async call that a synchronous layer would need a task for,
//! and a request in flight keeps the client (and token) it started with.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::Mutex;

use super::config::TargetConfig;
use super::error::from_kube;
use crate::ports::kube::{KubeAuth, KubeError, TokenSource};

/// Renew a token when less than this remains before it expires.
pub const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);

struct Live {
    client: kube::Client,
    expires_at: SystemTime,
}

/// The client of one target, renewed with its token.
pub(crate) struct Session {
    target: TargetConfig,
    auth: KubeAuth,
    tokens: Arc<dyn TokenSource>,
    live: Mutex<Option<Live>>,
}

impl Session {
    /// A session making no call until [`Session::client`] is first called.
    pub fn new(target: TargetConfig, auth: KubeAuth, tokens: Arc<dyn TokenSource>) -> Self {
        Self {
            target,
            auth,
            tokens,
            live: Mutex::new(None),
        }
    }

    /// The URL the session connects to (for messages).
    pub fn url(&self) -> &str {
        &self.target.url
    }

    /// A client whose token is valid for at least [`RENEW_BEFORE`]. Concurrent
    /// callers wait for one renewal rather than each making a token.
    pub async fn client(&self) -> Result<kube::Client, KubeError> {
        let mut live = self.live.lock().await;
        if let Some(current) = live.as_ref() {
            if !needs_renewal(current.expires_at, SystemTime::now()) {
                return Ok(current.client.clone());
            }
        }
        let token = self.tokens.token(&self.auth).await?;
        let client = kube::Client::try_from(self.target.config(&token.token))
            .map_err(|e| from_kube(&self.target.url, e))?;
        *live = Some(Live {
            client: client.clone(),
            expires_at: token.expires_at,
        });
        Ok(client)
    }

    /// Drops the current client, so the next call makes a new token (after the API
    /// refused this one: revoked, or a clock that disagrees with the server's).
    pub async fn invalidate(&self) {
        *self.live.lock().await = None;
    }
}

/// Whether a token expiring at `expires_at` must be renewed at `now`.
fn needs_renewal(expires_at: SystemTime, now: SystemTime) -> bool {
    expires_at
        .duration_since(now)
        .map_or(true, |left| left < RENEW_BEFORE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_five_minutes_before_they_expire() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let minutes = |m: u64| now + Duration::from_secs(m * 60);
        assert!(!needs_renewal(minutes(14), now));
        assert!(!needs_renewal(minutes(6), now));
        assert!(needs_renewal(minutes(4), now));
        assert!(needs_renewal(now, now));
        assert!(needs_renewal(now - Duration::from_secs(1), now));
    }
}
