//! Cloud adapters. Resources reach a cloud only through the traits here; each has an
//! AWS implementation (and a GCP one as the GCP backends arrive). Clients are built
//! lazily: configuring the provider makes no call and needs no credentials.

pub mod aws;
pub mod backends;
pub mod gcp;

use std::collections::BTreeMap;

use async_trait::async_trait;

/// Which cloud the provider builds stacks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudKind {
    /// Amazon Web Services (the default).
    Aws,
    /// Google Cloud.
    Gcp,
}

impl CloudKind {
    /// The name used in HCL.
    pub fn as_str(self) -> &'static str {
        match self {
            CloudKind::Aws => "aws",
            CloudKind::Gcp => "gcp",
        }
    }
}

/// Everything the provider configuration produced: settings and lazy clients.
pub struct Clients {
    /// The cloud stacks are built in.
    pub cloud: CloudKind,
    /// Tags added to every component paved creates.
    pub default_tags: BTreeMap<String, String>,
    /// AWS clients (lazy), shared with background warm-up.
    pub aws: std::sync::Arc<aws::AwsClients>,
    /// GCP settings.
    pub gcp: gcp::GcpSettings,
}

impl Clients {
    /// The zone source for the configured cloud.
    pub fn zones(&self) -> Result<&dyn ZoneSource, CloudError> {
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

    /// The region used when a resource does not name one.
    pub fn default_region(&self) -> Result<String, CloudError> {
        match self.cloud {
            CloudKind::Aws => self.aws.region(),
            CloudKind::Gcp => self.gcp.region.clone().ok_or(CloudError::NoRegion {
                hint: "set region in the provider's gcp block or GOOGLE_CLOUD_REGION".into(),
            }),
        }
    }
}

/// A zone of a region, as the cloud reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// The zone's name (`eu-west-1a`); differs between AWS accounts for the same place.
    pub name: String,
    /// The zone's stable id (`euw1-az1`).
    pub id: String,
    /// A regular zone, as opposed to a local or wavelength zone.
    pub standard: bool,
    /// The account must opt in to use it.
    pub opt_in_required: bool,
    /// The zone is currently usable.
    pub available: bool,
}

/// Lists the zones of a region.
#[async_trait]
pub trait ZoneSource: Send + Sync {
    /// All zones of `region`, in any order.
    async fn list_zones(&self, region: &str) -> Result<Vec<Zone>, CloudError>;
}

/// Errors from cloud adapters, phrased for the user.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// No region was configured anywhere.
    #[error("no region is configured: {hint}")]
    NoRegion {
        /// Where to set one.
        hint: String,
    },
    /// The provider configuration holds a value not known until apply.
    #[error("the provider setting {0} is not known yet (it depends on a resource not yet created); set it to a known value")]
    UnknownSetting(&'static str),
    /// The cloud API answered with an error.
    #[error("{service} {operation} failed: {message}")]
    Api {
        /// The cloud service.
        service: &'static str,
        /// The API operation.
        operation: &'static str,
        /// What the API said.
        message: String,
    },
    /// The operation is not available for this cloud.
    #[error("{what} is not supported on {cloud}: {hint}")]
    NotSupported {
        /// What was asked.
        what: String,
        /// The cloud.
        cloud: &'static str,
        /// What to do instead.
        hint: String,
    },
    /// The credentials or assumed role could not be set up.
    #[error("could not set up AWS credentials: {0}")]
    Credentials(String),
}
