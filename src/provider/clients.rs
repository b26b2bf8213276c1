//! The provider's wiring: the clients the provider block configured, and the adapter
//! of each port for the configured cloud. This is the one place that names concrete
//! adapters; resources see only [`Cloud`].

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cloud::aws::cluster::AwsClusterBackend;
use crate::cloud::aws::database::AwsDatabaseBackend;
use crate::cloud::aws::eks_token::EksTokenSource;
use crate::cloud::aws::observability::AwsObservabilityBackend;
use crate::cloud::aws::AwsClients;
use crate::cloud::gcp::GcpSettings;
use crate::cloud::kube::KubeRsConnector;
use crate::ports::cluster::ClusterBackend;
use crate::ports::database::DatabaseBackend;
use crate::ports::kube::KubeConnector;
use crate::ports::observability::ObservabilityBackend;
use crate::ports::zones::ZoneSource;
use crate::ports::{Cloud, CloudError, CloudKind};

/// Everything the provider configuration produced: settings and lazy clients.
pub struct Clients {
    /// The cloud stacks are built in.
    pub cloud: CloudKind,
    /// Tags added to every component paved creates.
    pub default_tags: BTreeMap<String, String>,
    /// AWS clients (lazy), shared with background warm-up.
    pub aws: Arc<AwsClients>,
    /// GCP settings.
    pub gcp: GcpSettings,
}

impl Clients {
    /// The error for a port this release has no adapter of on the configured cloud.
    fn not_yet(&self, what: &str) -> CloudError {
        CloudError::NotSupported {
            what: what.to_owned(),
            cloud: match self.cloud {
                CloudKind::Aws => "AWS",
                CloudKind::Gcp => "GCP",
            },
            hint: "this release cannot build it there yet".to_owned(),
        }
    }
}

impl Cloud for Clients {
    fn default_tags(&self) -> &BTreeMap<String, String> {
        &self.default_tags
    }

    fn default_region(&self) -> Result<String, CloudError> {
        match self.cloud {
            CloudKind::Aws => self.aws.region(),
            CloudKind::Gcp => self.gcp.region.clone().ok_or(CloudError::NoRegion {
                hint: "set region in the provider's gcp block or GOOGLE_CLOUD_REGION".into(),
            }),
        }
    }

    fn zones(&self) -> Result<&dyn ZoneSource, CloudError> {
        match self.cloud {
            CloudKind::Aws => Ok(self.aws.as_ref()),
            CloudKind::Gcp => Err(CloudError::NotSupported {
                what: "listing zones".into(),
                cloud: "GCP",
                hint: "the GCP backend is not available in this release; set cloud = \"aws\""
                    .into(),
            }),
        }
    }

    fn cluster(&self) -> Result<Arc<dyn ClusterBackend>, CloudError> {
        match self.cloud {
            CloudKind::Aws => Ok(Arc::new(AwsClusterBackend::new(self.aws.clone()))),
            CloudKind::Gcp => Err(self.not_yet("paved_ha_cluster")),
        }
    }

    fn database(&self) -> Result<Arc<dyn DatabaseBackend>, CloudError> {
        match self.cloud {
            CloudKind::Aws => Ok(Arc::new(AwsDatabaseBackend::new(self.aws.clone()))),
            CloudKind::Gcp => Err(self.not_yet("paved_managed_database")),
        }
    }

    fn observability(&self) -> Result<Arc<dyn ObservabilityBackend>, CloudError> {
        match self.cloud {
            CloudKind::Aws => Ok(Arc::new(AwsObservabilityBackend::new(self.aws.clone()))),
            CloudKind::Gcp => Err(self.not_yet("paved_observability_stack")),
        }
    }

    fn kube(&self) -> Result<Arc<dyn KubeConnector>, CloudError> {
        match self.cloud {
            CloudKind::Aws => Ok(Arc::new(KubeRsConnector::new(Arc::new(
                EksTokenSource::new(self.aws.clone()),
            )))),
            CloudKind::Gcp => Err(CloudError::NotSupported {
                what: "reaching the Kubernetes API".to_owned(),
                cloud: "GCP",
                hint: "use delivery = \"gitops\"".to_owned(),
            }),
        }
    }
}
