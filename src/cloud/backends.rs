//! The backend of each resource for the configured cloud.

use std::sync::Arc;

use super::aws::cluster::AwsClusterBackend;
use super::aws::database::AwsDatabaseBackend;
use super::{Clients, CloudError, CloudKind};
use crate::resources::ha_cluster::backend::ClusterBackend;
use crate::resources::managed_database::backend::DatabaseBackend;

fn not_yet(what: &str, cloud: CloudKind) -> CloudError {
    CloudError::NotSupported {
        what: what.to_owned(),
        cloud: match cloud {
            CloudKind::Aws => "AWS",
            CloudKind::Gcp => "GCP",
        },
        hint: "this release cannot build it there yet".to_owned(),
    }
}

/// The `paved_ha_cluster` backend of the configured cloud.
pub fn cluster(clients: &Clients) -> Result<Arc<dyn ClusterBackend>, CloudError> {
    match clients.cloud {
        CloudKind::Aws => Ok(Arc::new(AwsClusterBackend::new(clients.aws.clone()))),
        CloudKind::Gcp => Err(not_yet("paved_ha_cluster", clients.cloud)),
    }
}

/// The `paved_managed_database` backend of the configured cloud.
pub fn database(clients: &Clients) -> Result<Arc<dyn DatabaseBackend>, CloudError> {
    match clients.cloud {
        CloudKind::Aws => Ok(Arc::new(AwsDatabaseBackend::new(clients.aws.clone()))),
        CloudKind::Gcp => Err(not_yet("paved_managed_database", clients.cloud)),
    }
}
