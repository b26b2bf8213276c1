//! The autoscaler's ServiceAccount, bound to its cloud identity.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ServiceAccount;

use super::{NAME, NAMESPACE};
use crate::labels::{object_meta, Component};
use crate::spec::{AutoscalerSpec, BaselineSpec, Platform};

/// Annotation binding a ServiceAccount to an IAM role (EKS, IRSA).
pub const EKS_ROLE_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// Annotation binding a ServiceAccount to a Google service account (Workload Identity).
pub const GKE_SERVICE_ACCOUNT_ANNOTATION: &str = "iam.gke.io/gcp-service-account";

/// The ServiceAccount, annotated with the cloud identity the autoscaler acts as.
pub fn service_account(spec: &BaselineSpec, autoscaler: &AutoscalerSpec) -> ServiceAccount {
    let key = match spec.platform {
        Platform::Eks { .. } => EKS_ROLE_ANNOTATION,
        Platform::Gke { .. } => GKE_SERVICE_ACCOUNT_ANNOTATION,
    };
    let mut metadata = object_meta(spec, &Component::Autoscaler, NAME, Some(NAMESPACE));
    metadata.annotations = Some(BTreeMap::from([(
        key.to_string(),
        autoscaler.identity.clone(),
    )]));
    ServiceAccount {
        metadata,
        // The autoscaler talks to the API server: it needs its token.
        automount_service_account_token: Some(true),
        ..ServiceAccount::default()
    }
}
