//! Kubernetes: the port [`crate::ports::kube`] with kube-rs (client only, rustls on
//! aws-lc-rs).
//!
//! - [`config`]: from a [`KubeTarget`] to a kube-rs `Config` (no kubeconfig, no
//!   environment; tunnels keep the endpoint's name for TLS).
//! - [`session`]: a client that renews its token before it expires.
//! - [`api`]: server-side apply, get, delete and list of any kind the server
//!   serves, through discovery.
//! - [`error`]: kube-rs errors as [`KubeError`]s.
//!
//! Retryable failures (an API not reachable yet, 429, 5xx) are retried with the
//! stack core's [`Retry`]; the cloud's credentials reach this module only as a
//! [`TokenSource`] the wiring hands over.

mod api;
mod config;
mod error;
mod session;

use std::sync::Arc;

use async_trait::async_trait;

use crate::ports::kube::{KubeApi, KubeConnector, KubeError, KubeTarget, TokenSource};
use crate::stack::{OperationContext, Retry, RetryPolicy};

pub use session::RENEW_BEFORE;

/// Makes kube-rs clients for cluster targets, with tokens from a [`TokenSource`].
pub struct KubeRsConnector {
    tokens: Arc<dyn TokenSource>,
    policy: RetryPolicy,
    context: OperationContext,
}

impl KubeRsConnector {
    /// A connector with the stack core's default retry policy for cloud calls
    /// ([`RetryPolicy::CLOUD_DEFAULT`]) on the real clock.
    pub fn new(tokens: Arc<dyn TokenSource>) -> Self {
        Self {
            tokens,
            policy: RetryPolicy::CLOUD_DEFAULT,
            context: OperationContext::default(),
        }
    }

    /// The same connector retrying with `policy` in `context` (whose cancellation
    /// stops retries; tests pass short delays).
    pub fn with_retry(mut self, policy: RetryPolicy, context: OperationContext) -> Self {
        self.policy = policy;
        self.context = context;
        self
    }
}

#[async_trait]
impl KubeConnector for KubeRsConnector {
    async fn connect(&self, target: &KubeTarget) -> Result<Arc<dyn KubeApi>, KubeError> {
        let checked = config::TargetConfig::new(target)?;
        let session = session::Session::new(checked, target.auth.clone(), self.tokens.clone());
        let retry = Retry::new(self.policy, self.context.clone());
        Ok(Arc::new(api::KubeRsApi::new(session, retry)))
    }
}
