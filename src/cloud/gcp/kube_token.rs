//! Tokens for the Kubernetes API of a GKE cluster: GKE accepts the caller's Google
//! OAuth access token (what `gke-gcloud-auth-plugin` hands kubectl), so the token is
//! the provider's own GCP access token, renewed before it expires (an hour; paved
//! asks again after 45 minutes). A bearer token given as it is passes through.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::clients::GcpClients;
use crate::ports::kube::{BearerToken, KubeAuth, KubeError, TokenSource};

/// How long paved uses one access token.
const TOKEN_LIFETIME: Duration = Duration::from_secs(45 * 60);

/// A given token is used for as long as the session runs.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// Makes GKE tokens from the provider's GCP credentials.
pub struct GkeTokenSource {
    clients: Arc<GcpClients>,
}

impl GkeTokenSource {
    /// A source over the provider's GCP clients.
    pub fn new(clients: Arc<GcpClients>) -> Self {
        Self { clients }
    }
}

#[async_trait]
impl TokenSource for GkeTokenSource {
    async fn token(&self, auth: &KubeAuth) -> Result<BearerToken, KubeError> {
        if let KubeAuth::Bearer(token) = auth {
            return Ok(BearerToken {
                token: token.clone(),
                expires_at: SystemTime::now() + NEVER,
            });
        }
        let token = self.clients.access_token().await.map_err(|f| {
            KubeError::Token(format!(
                "no GCP access token for the cluster ({}); check the provider's gcp block or \
                 application default credentials",
                f.message
            ))
        })?;
        Ok(BearerToken {
            token,
            expires_at: SystemTime::now() + TOKEN_LIFETIME,
        })
    }
}
