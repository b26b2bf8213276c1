//! Getting rendered Kubernetes objects where they belong, the same way for every
//! resource that puts objects in a cluster (the cluster's baseline, the
//! observability stack):
//!
//! - [`Delivery::Direct`]: server-side apply of every object in order (field manager
//!   `paved`), objects no longer wanted deleted in reverse order, then a wait until
//!   the workloads are ready ([`direct`]);
//! - [`Delivery::Gitops`]: one YAML file per object and a `kustomization.yaml` in a
//!   folder of the user's GitOps repository; no Kubernetes call ([`gitops`]).
//!
//! Refresh reads the objects back the same way and compares the fields paved renders
//! with what is there ([`drift`]). What exists is reported as a [`Delivered`] as it
//! goes, so a failed apply returns it as partial state.
//!
//! A layer of its own between the resources and the ports: it drives the
//! Kubernetes port and the stack core, and imports no resource and no adapter.

pub mod direct;
pub mod drift;
pub mod gitops;

use std::collections::BTreeMap;

use paved_manifests::{Manifest, Rendered};

use base64::Engine as _;

use crate::ports::kube::{KubeAuth, KubeError, KubeTarget, ObjectRef};
use crate::stack::BackendError;

/// The marker refresh adds to an object changed outside paved.
pub const CHANGED: &str = " (changed outside paved)";

/// How paved gets the objects into the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// paved applies them with server-side apply, prunes and waits.
    Direct,
    /// paved writes them as files for Flux or Argo CD and never calls the cluster.
    Gitops,
}

impl Delivery {
    /// Every delivery, in the order the docs list them.
    pub const ALL: [Delivery; 2] = [Delivery::Direct, Delivery::Gitops];

    /// The word used in HCL.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Direct => "direct",
            Delivery::Gitops => "gitops",
        }
    }

    /// The delivery a word names.
    pub fn parse(word: &str) -> Option<Delivery> {
        Delivery::ALL.into_iter().find(|d| d.as_str() == word)
    }
}

pub use crate::ports::kube::KubeAccess;

/// What of the rendered objects exists: a resource's `kubernetes_objects`,
/// `kubernetes_digest` and `kubernetes_hashes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    /// The objects that exist, as `kubernetes_objects` lists them; one changed
    /// outside paved is marked so ([`CHANGED`]).
    pub objects: Vec<String>,
    /// The digest of what was rendered; `None` when what exists is not (or not
    /// known to be) exactly the rendering.
    pub digest: Option<String>,
    /// Each object's content hash, by its `kubernetes_objects` name; `None` with
    /// the digest.
    pub hashes: Option<BTreeMap<String, String>>,
}

impl Delivered {
    /// Everything in `rendered`, exactly as rendered.
    pub fn whole(rendered: &Rendered) -> Delivered {
        Delivered {
            objects: rendered.objects.iter().map(object_label).collect(),
            digest: Some(rendered.digest()),
            hashes: Some(hashes(rendered)),
        }
    }

    /// `objects` exist, not yet (or no longer) exactly the rendering.
    pub fn partial(objects: Vec<String>) -> Delivered {
        Delivered {
            objects,
            digest: None,
            hashes: None,
        }
    }
}

/// How an object is named in `kubernetes_objects`: `Kind namespace/name`, or
/// `Kind name` for cluster-scoped objects.
pub fn object_label(m: &Manifest) -> String {
    label(&m.kind, m.namespace.as_deref(), &m.name)
}

/// `Kind namespace/name`, or `Kind name` without a namespace.
pub fn label(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// Each object's content hash by its `kubernetes_objects` name.
pub fn hashes(rendered: &Rendered) -> BTreeMap<String, String> {
    rendered
        .objects
        .iter()
        .map(|m| (object_label(m), m.hash.clone()))
        .collect()
}

/// The port's identity of a rendered object.
pub fn object_ref(m: &Manifest) -> ObjectRef {
    ObjectRef {
        api_version: m.api_version.clone(),
        kind: m.kind.clone(),
        namespace: m.namespace.clone(),
        name: m.name.clone(),
    }
}

/// How a resource reaches a cluster's API: what the cluster reports and what the
/// user set in `kubernetes_api`.
#[derive(Debug, Clone)]
pub struct ApiRoute {
    /// The endpoint the cluster reports.
    pub endpoint: String,
    /// The cluster's CA, base64-encoded PEM.
    pub ca_base64: String,
    /// `kubernetes_api.url`: a tunnel to the API.
    pub url: Option<String>,
    /// `kubernetes_api.proxy_url`.
    pub proxy_url: Option<String>,
    /// `kubernetes_api.ca_certificate`: the CA of the server at `url`.
    pub ca_certificate: Option<String>,
    /// How to authenticate.
    pub auth: KubeAuth,
}

impl ApiRoute {
    /// The target: a tunnel to the API presents the cluster's certificate, checked
    /// for the endpoint's name; a server with a CA of its own (`ca_certificate`)
    /// presents a certificate for the URL's own host.
    pub fn target(self) -> Result<KubeTarget, BackendError> {
        let ca_pem = match self.ca_certificate.clone() {
            Some(pem) => pem,
            None => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(self.ca_base64.trim())
                    .map_err(|e| {
                        permanent(
                            "reaching the Kubernetes API",
                            format!("the cluster's CA is not base64: {e}"),
                            "",
                        )
                    })?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        let endpoint = match (&self.url, self.ca_certificate.is_some()) {
            (Some(url), true) => url.clone(),
            _ => self.endpoint,
        };
        Ok(KubeTarget {
            endpoint,
            ca_pem,
            auth: self.auth,
            api_url: self.url,
            proxy_url: self.proxy_url,
        })
    }
}

/// A failure no retry mends, with what to do.
pub fn permanent(operation: &str, message: impl Into<String>, hint: &str) -> BackendError {
    BackendError::Permanent {
        operation: operation.to_owned(),
        message: message.into(),
        hint: hint.to_owned(),
    }
}

/// A Kubernetes failure during `during`, retryable or with a hint.
pub fn kube_error(during: &str, e: KubeError) -> BackendError {
    if e.is_retryable() {
        BackendError::Retryable {
            operation: during.to_owned(),
            message: e.to_string(),
        }
    } else {
        let hint = match e {
            KubeError::Unauthorized(_) | KubeError::Forbidden(_) => {
                "The identity Terraform runs as must be one of the cluster's admins (it is when it created the \
                 cluster; otherwise list it in cluster_admins)."
            }
            KubeError::Unreachable { .. } => {
                "Run Terraform where the API is reachable, set kubernetes_api.url or proxy_url, or use \
                 delivery = \"gitops\"."
            }
            _ => "Check the message, fix the cause, and run apply again.",
        };
        permanent(during, e.to_string(), hint)
    }
}
