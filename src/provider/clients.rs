//! The provider's wiring: the clients the provider block configured, and the adapter
//! of each port for the configured cloud. This is the one place that names concrete
//! adapters; resources see only [`Cloud`].

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cloud::aws::cluster::AwsClusterBackend;
use crate::cloud::aws::database::AwsDatabaseBackend;
use crate::cloud::aws::eks_token::EksTokenSource;
use crate::cloud::aws::network::AwsNetworkBackend;
use crate::cloud::aws::observability::AwsObservabilityBackend;
use crate::cloud::aws::AwsClients;
use crate::cloud::gcp::clients::GcpClients;
use crate::cloud::gcp::cluster::GcpClusterBackend;
use crate::cloud::gcp::database::GcpDatabaseBackend;
use crate::cloud::gcp::kube_token::GkeTokenSource;
use crate::cloud::kube::KubeRsConnector;
use crate::ports::cluster::ClusterBackend;
use crate::ports::database::DatabaseBackend;
use crate::ports::kube::KubeConnector;
use crate::ports::network_backend::NetworkBackend;
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
    /// GCP clients (lazy).
    pub gcp: Arc<GcpClients>,
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
            CloudKind::Gcp => self.gcp.region(),
        }
    }

    fn zones(&self) -> Result<&dyn ZoneSource, CloudError> {
        match self.cloud {
            CloudKind::Aws => Ok(self.aws.as_ref()),
            CloudKind::Gcp => Ok(self.gcp.as_ref()),
        }
    }

    fn cluster(&self) -> Result<Arc<dyn ClusterBackend>, CloudError> {
        match self.cloud {
            CloudKind::Aws => Ok(Arc::new(AwsClusterBackend::new(self.aws.clone()))),
            CloudKind::Gcp => Ok(Arc::new(GcpClusterBackend::new(self.gcp.clone()))),
        }
    }

    fn database(&self) -> Result<Arc<dyn DatabaseBackend>, CloudError> {
        match self.cloud {
            CloudKind::Aws => Ok(Arc::new(AwsDatabaseBackend::new(self.aws.clone()))),
            CloudKind::Gcp => Ok(Arc::new(GcpDatabaseBackend::new(self.gcp.clone()))),
        }
    }

    fn network(&self) -> Result<Arc<dyn NetworkBackend>, CloudError> {
        match self.cloud {
            CloudKind::Aws => Ok(Arc::new(AwsNetworkBackend::new(self.aws.clone()))),
            CloudKind::Gcp => Err(self.not_yet("paved_network")),
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
            CloudKind::Gcp => Ok(Arc::new(KubeRsConnector::new(Arc::new(
                GkeTokenSource::new(self.gcp.clone()),
            )))),
        }
    }
}
