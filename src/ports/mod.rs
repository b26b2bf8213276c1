//! The cloud ports: the traits adapters implement and the neutral types they speak,
//! in the product's words (a network, a node pool, a key, an identity). Resources
//! and data sources reach a cloud only through these; adapters (`crate::cloud::*`)
//! implement them and import nothing of a resource.
//!
//! - [`Cloud`]: the configured cloud as an operation sees it (default tags and region,
//!   and the backend of each resource);
//! - [`zones`]: listing a region's zones; [`network`]: subnet layout and NAT layout;
//! - [`network_backend`]: what builds a network (a cluster's own or a `paved_network`);
//! - [`cluster`]: what builds a `paved_ha_cluster`; [`database`]: what builds a
//!   `paved_managed_database`; [`observability`]: the cloud side of a
//!   `paved_observability_stack`; [`key`]: the encryption key both use.

pub mod cluster;
pub mod database;
#[cfg(test)]
pub mod harness;
pub mod key;
pub mod kube;
pub mod network;
pub mod network_backend;
pub mod observability;
#[cfg(test)]
pub mod testing;
pub mod zones;

use std::collections::BTreeMap;
use std::sync::Arc;

use cluster::ClusterBackend;
use database::DatabaseBackend;
use network_backend::NetworkBackend;
use observability::ObservabilityBackend;
use zones::ZoneSource;

use crate::framework::OpContext;
pub use crate::stack::error::CloudError;
use crate::stack::outline::Connection;

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

/// The configured cloud, as resources and data sources see it. The provider's
/// wiring implements it over the adapters it chose; clients are built lazily, so
/// holding one makes no call.
pub trait Cloud: Send + Sync {
    /// Tags added to every component paved creates (the provider's `default_tags`).
    fn default_tags(&self) -> &BTreeMap<String, String>;

    /// The region used when a resource does not name one.
    fn default_region(&self) -> Result<String, CloudError>;

    /// The zone source of this cloud.
    fn zones(&self) -> Result<&dyn ZoneSource, CloudError>;

    /// The backend that builds `paved_ha_cluster` stacks here.
    fn cluster(&self) -> Result<Arc<dyn ClusterBackend>, CloudError>;

    /// The backend that builds `paved_managed_database` stacks here.
    fn database(&self) -> Result<Arc<dyn DatabaseBackend>, CloudError>;

    /// The backend that builds `paved_network` stacks here.
    fn network(&self) -> Result<Arc<dyn NetworkBackend>, CloudError> {
        Err(CloudError::NotSupported {
            what: "paved_network".to_owned(),
            cloud: "this cloud",
            hint: "use cloud = \"aws\", or let paved_ha_cluster build its own network".to_owned(),
        })
    }

    /// The backend that builds the cloud side of `paved_observability_stack` here.
    fn observability(&self) -> Result<Arc<dyn ObservabilityBackend>, CloudError> {
        Err(CloudError::NotSupported {
            what: "paved_observability_stack".to_owned(),
            cloud: "this cloud",
            hint: "use cloud = \"aws\"".to_owned(),
        })
    }

    /// Clients of the Kubernetes API of clusters this cloud built.
    fn kube(&self) -> Result<Arc<dyn kube::KubeConnector>, CloudError> {
        Err(CloudError::NotSupported {
            what: "reaching the Kubernetes API".to_owned(),
            cloud: "this cloud",
            hint: "use delivery = \"gitops\"".to_owned(),
        })
    }
}

/// The configured cloud of an operation: the provider data the wiring stored, an
/// `Arc<dyn Cloud>`.
pub fn cloud(ctx: &OpContext) -> Result<&dyn Cloud, CloudError> {
    ctx.provider_data::<Arc<dyn Cloud>>()
        .map(|c| c.as_ref())
        .ok_or(CloudError::NotConfigured)
}

/// The configured cloud of an operation and the backend `factory` makes of it.
pub fn backend<'a, B: ?Sized>(
    ctx: &'a OpContext,
    factory: &BackendFactory<B>,
) -> Result<(&'a dyn Cloud, Arc<B>), CloudError> {
    let cloud = cloud(ctx)?;
    Ok((cloud, factory(cloud)?))
}

/// The connection a stack resource's model makes: the backend `factory` makes of
/// the configured cloud, and the provider's default tags.
pub fn connect<'a, B: ?Sized>(
    ctx: &'a OpContext,
    factory: &BackendFactory<B>,
) -> Result<Connection<'a, B>, CloudError> {
    let (cloud, backend) = backend(ctx, factory)?;
    Ok(Connection {
        backend,
        default_tags: cloud.default_tags(),
    })
}

/// The configured cloud's Kubernetes client, with its region; `None` when the
/// cloud offers none (delivery through GitOps only).
pub fn kube_access(ctx: &OpContext) -> Option<kube::KubeAccess> {
    let cloud = cloud(ctx).ok()?;
    Some(kube::KubeAccess {
        connector: cloud.kube().ok()?,
        region: cloud.default_region().unwrap_or_default(),
    })
}

/// How a resource gets its backend from the configured cloud: the provider's wiring
/// passes `|c| c.cluster()`; tests pass a scripted fake.
pub type BackendFactory<B> = Arc<dyn Fn(&dyn Cloud) -> Result<Arc<B>, CloudError> + Send + Sync>;
