//! The cluster's default StorageClass: encrypted, expandable, bound where the pod lands.

use std::collections::BTreeMap;

use k8s_openapi::api::storage::v1::StorageClass;

use crate::labels::{object_meta, Component};
use crate::spec::{BaselineSpec, Platform, StorageClassSpec};

/// Annotation that makes a StorageClass the cluster default.
pub const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";
/// The EBS CSI driver (EKS).
pub const EBS_PROVISIONER: &str = "ebs.csi.aws.com";
/// The Persistent Disk CSI driver (GKE).
pub const PD_PROVISIONER: &str = "pd.csi.storage.gke.io";
/// EBS volume type.
pub const EBS_VOLUME_TYPE: &str = "gp3";
/// Persistent Disk type.
pub const PD_VOLUME_TYPE: &str = "pd-balanced";
/// Volumes bind once a pod is scheduled, so they are made in the pod's zone.
pub const BINDING_MODE: &str = "WaitForFirstConsumer";

/// The StorageClass.
pub fn storage_class(spec: &BaselineSpec, class: &StorageClassSpec) -> StorageClass {
    let (provisioner, parameters) = match spec.platform {
        Platform::Eks { .. } => {
            let mut p = BTreeMap::from([
                ("type".to_string(), EBS_VOLUME_TYPE.to_string()),
                ("encrypted".to_string(), "true".to_string()),
            ]);
            if let Some(key) = &class.kms_key {
                p.insert("kmsKeyId".to_string(), key.clone());
            }
            (EBS_PROVISIONER, p)
        }
        Platform::Gke { .. } => {
            // Persistent Disks are always encrypted; a key here makes it CMEK.
            let mut p = BTreeMap::from([("type".to_string(), PD_VOLUME_TYPE.to_string())]);
            if let Some(key) = &class.kms_key {
                p.insert("disk-encryption-kms-key".to_string(), key.clone());
            }
            (PD_PROVISIONER, p)
        }
    };
    let mut metadata = object_meta(spec, &Component::Storage, &class.name, None);
    metadata.annotations = Some(BTreeMap::from([(
        DEFAULT_CLASS_ANNOTATION.to_string(),
        "true".to_string(),
    )]));
    StorageClass {
        metadata,
        provisioner: provisioner.to_string(),
        parameters: Some(parameters),
        reclaim_policy: Some("Delete".to_string()),
        volume_binding_mode: Some(BINDING_MODE.to_string()),
        allow_volume_expansion: Some(true),
        ..StorageClass::default()
    }
}
