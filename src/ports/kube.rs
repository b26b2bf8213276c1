//! The Kubernetes API of a cluster paved built, in the product's words: how to reach
//! it, and the few operations the in-cluster baseline needs (server-side apply,
//! get, delete, list). Objects are JSON bodies rendered by `paved_manifests`; the
//! adapter (`cloud::kube`) speaks to the API server with kube-rs.
//!
//! Reaching the API needs no kubernetes or helm provider and nothing at plan time:
//! the target is made from the cluster's own outputs (endpoint, CA) and a token the
//! cloud's credentials make (an EKS token from a presigned STS request, a GKE access
//! token). A private-only endpoint is reached through `api_url` (a tunnel or local
//! port-forward to the API) or an HTTPS `proxy_url`.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value as Json;

/// The field manager paved applies with.
pub const FIELD_MANAGER: &str = "paved";

/// How paved authenticates to a cluster's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeAuth {
    /// A token the cloud's credentials make for the named cluster, renewed before it
    /// expires: on EKS a presigned STS `GetCallerIdentity` request signed for the
    /// cluster (15 minutes); on GKE the caller's OAuth access token. The adapter
    /// that the provider's `cloud` picks makes it.
    Cloud {
        /// The cluster's name (signed into an EKS token).
        cluster_name: String,
        /// The cluster's region or location.
        location: String,
    },
    /// A bearer token given as it is (a GKE access token from application default
    /// credentials, or a test cluster's token).
    Bearer(String),
}

/// Where and how to reach a cluster's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeTarget {
    /// The API server URL the cluster reports (`https://...`).
    pub endpoint: String,
    /// The PEM of the CA that signs the API server's certificate.
    pub ca_pem: String,
    /// How to authenticate.
    pub auth: KubeAuth,
    /// Reach the API at this URL instead of `endpoint` (a tunnel or port-forward to
    /// a private endpoint). The server's certificate is still checked against
    /// `ca_pem`.
    pub api_url: Option<String>,
    /// An HTTPS proxy (HTTP CONNECT) to reach the API through.
    pub proxy_url: Option<String>,
}

/// Which object: the identity of a Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// `apps/v1`, `v1`...
    pub api_version: String,
    /// `Deployment`...
    pub kind: String,
    /// The namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Why a Kubernetes call failed, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeError {
    /// No token could be made (credentials missing or expired).
    #[error("could not make a token for the Kubernetes API: {0}")]
    Token(String),
    /// The API refused the token (401).
    #[error("the Kubernetes API refused paved's token: {0}")]
    Unauthorized(String),
    /// The identity may not do this (403).
    #[error("the Kubernetes API forbids this: {0}")]
    Forbidden(String),
    /// Another field manager owns a field paved applies (409), or a write raced.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The API server could not be reached (network, TLS, DNS).
    #[error("the Kubernetes API at {url} cannot be reached: {message}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// What failed.
        message: String,
    },
    /// The API does not serve this kind (no such resource in discovery).
    #[error("the Kubernetes API serves no {0}")]
    UnknownKind(String),
    /// Any other answer of the API.
    #[error("the Kubernetes API answered {code}: {message}")]
    Api {
        /// The HTTP status.
        code: u16,
        /// The Status message.
        message: String,
    },
    /// The target is not usable (a CA that is not PEM, a URL that does not parse).
    #[error("bad Kubernetes target: {0}")]
    Target(String),
}

impl KubeError {
    /// Whether trying again may help (throttling, a server error, a race, the API
    /// not reachable yet right after the cluster was created).
    pub fn is_retryable(&self) -> bool {
        match self {
            KubeError::Unreachable { .. } => true,
            KubeError::Api { code, .. } => *code == 429 || *code >= 500,
            _ => false,
        }
    }
}

/// The operations paved makes on one cluster's API.
#[async_trait]
pub trait KubeApi: Send + Sync {
    /// Server-side apply of `body` (a whole object with apiVersion, kind and
    /// metadata) with field manager [`FIELD_MANAGER`], forced: the fields paved
    /// renders are paved's. Returns the live object.
    async fn apply(&self, body: &Json) -> Result<Json, KubeError>;

    /// The live object; `None` when it does not exist.
    async fn get(&self, object: &ObjectRef) -> Result<Option<Json>, KubeError>;

    /// Deletes the object (background propagation). `Ok(false)` when it was
    /// already gone.
    async fn delete(&self, object: &ObjectRef) -> Result<bool, KubeError>;

    /// Deletes the object and leaves what it owns in place (orphan propagation): a
    /// StatefulSet goes while its pods and claims keep running, so it can be made
    /// again with a changed claim template. `Ok(false)` when it was already gone.
    async fn delete_orphan(&self, object: &ObjectRef) -> Result<bool, KubeError>;

    /// The objects of a kind, in `namespace` or in all namespaces (`None`), that
    /// match the label selector (`""` for all).
    async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        label_selector: &str,
    ) -> Result<Vec<Json>, KubeError>;
}

/// A bearer token for a cluster's API and when it stops being valid.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken {
    /// The token sent as `Authorization: Bearer <token>`.
    pub token: String,
    /// When the API will stop accepting it; clients renew it some minutes before.
    /// Tokens that never expire carry a time far in the future.
    pub expires_at: std::time::SystemTime,
}

impl std::fmt::Debug for BearerToken {
    /// Never prints the token itself: it grants access to the cluster.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerToken")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Makes the bearer tokens of a [`KubeAuth`] from the cloud's credentials (an EKS
/// token from a presigned STS request, a GKE access token). Kept in the port so the
/// Kubernetes adapter and the clouds' token makers do not know each other: the
/// wiring hands the cloud's source to the connector.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// A fresh token for `auth`. Fails with [`KubeError::Token`] when the
    /// credentials behind it are missing or expired.
    async fn token(&self, auth: &KubeAuth) -> Result<BearerToken, KubeError>;
}

/// How a resource reaches Kubernetes APIs: the connector of the configured cloud
/// and its region (for EKS tokens).
#[derive(Clone)]
pub struct KubeAccess {
    /// Makes API clients.
    pub connector: Arc<dyn KubeConnector>,
    /// The region clusters are in.
    pub region: String,
}

/// Makes API clients for targets.
#[async_trait]
pub trait KubeConnector: Send + Sync {
    /// A client for `target`. Makes no call yet (the first operation does), so it
    /// fails only on a target that cannot be used at all.
    async fn connect(&self, target: &KubeTarget) -> Result<Arc<dyn KubeApi>, KubeError>;
}

/// Whether an object is ready in the kstatus sense, read from its live body:
/// the controller has seen the latest generation and the workload has the replicas
/// it wants; kinds without a status are ready once they exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Done.
    Ready,
    /// Not yet, and why (for the timeout message).
    InProgress(String),
}

/// The readiness of a live object (see [`Readiness`]).
pub fn readiness(live: &Json) -> Readiness {
    let kind = live.get("kind").and_then(Json::as_str).unwrap_or_default();
    let generation = live
        .pointer("/metadata/generation")
        .and_then(Json::as_i64)
        .unwrap_or(0);
    let status = live.get("status");
    let int = |path: &str| status.and_then(|s| s.pointer(path)).and_then(Json::as_i64);
    let observed = int("/observedGeneration").unwrap_or(0);
    let workload = matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet");
    if workload && observed < generation {
        return Readiness::InProgress(format!(
            "the controller has not seen generation {generation} yet (observed {observed})"
        ));
    }
    let (want, ready, updated) = match kind {
        "Deployment" | "StatefulSet" => (
            live.pointer("/spec/replicas")
                .and_then(Json::as_i64)
                .unwrap_or(1),
            int("/readyReplicas").unwrap_or(0),
            int("/updatedReplicas").unwrap_or(0),
        ),
        "DaemonSet" => (
            int("/desiredNumberScheduled").unwrap_or(0),
            int("/numberReady").unwrap_or(0),
            int("/updatedNumberScheduled").unwrap_or(0),
        ),
        _ => return Readiness::Ready,
    };
    if ready < want || updated < want {
        Readiness::InProgress(format!(
            "{ready} of {want} replicas ready, {updated} updated"
        ))
    } else {
        Readiness::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_deployment_is_ready_when_its_generation_is_seen_and_replicas_are_up() {
        let d = |observed: i64, ready: i64| {
            json!({"kind": "Deployment", "metadata": {"generation": 2},
                   "spec": {"replicas": 2},
                   "status": {"observedGeneration": observed, "readyReplicas": ready,
                              "updatedReplicas": ready}})
        };
        assert!(
            matches!(readiness(&d(1, 2)), Readiness::InProgress(w) if w.contains("generation 2"))
        );
        assert!(matches!(readiness(&d(2, 1)), Readiness::InProgress(w) if w.contains("1 of 2")));
        assert_eq!(readiness(&d(2, 2)), Readiness::Ready);
        assert_eq!(readiness(&json!({"kind": "ConfigMap"})), Readiness::Ready);
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let api = |code| KubeError::Api {
            code,
            message: String::new(),
        };
        assert!(api(503).is_retryable());
        assert!(api(429).is_retryable());
        assert!(!api(422).is_retryable());
        assert!(!KubeError::Conflict("x".into()).is_retryable());
    }
}
