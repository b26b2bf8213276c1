//! A [`Cloud`] for tests of resources and data sources: a fixed region and default
//! tags, and the backends a test gives it; nothing is contacted.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::cluster::ClusterBackend;
use super::database::DatabaseBackend;
use super::zones::ZoneSource;
use super::{Cloud, CloudError};
use crate::framework::{OpContext, ProviderData};

/// A cloud in one region with no backends of its own (resources under test get
/// theirs from their factory).
pub struct FixedCloud {
    /// The default region.
    pub region: String,
    /// The provider's default tags.
    pub default_tags: BTreeMap<String, String>,
}

impl FixedCloud {
    /// A cloud in `region` with no default tags.
    pub fn new(region: &str) -> Self {
        FixedCloud {
            region: region.to_owned(),
            default_tags: BTreeMap::new(),
        }
    }

    /// The provider data a configured provider would hand operations.
    pub fn provider_data(self) -> ProviderData {
        let cloud: Arc<dyn Cloud> = Arc::new(self);
        Arc::new(cloud)
    }

    /// An operation context over this cloud.
    pub fn context(self) -> OpContext {
        OpContext {
            provider: self.provider_data(),
            cancel: Default::default(),
        }
    }

    fn none(what: &str) -> CloudError {
        CloudError::NotSupported {
            what: what.to_owned(),
            cloud: "the test cloud",
            hint: "give the resource a backend factory".to_owned(),
        }
    }
}

impl Cloud for FixedCloud {
    fn default_tags(&self) -> &BTreeMap<String, String> {
        &self.default_tags
    }

    fn default_region(&self) -> Result<String, CloudError> {
        Ok(self.region.clone())
    }

    fn zones(&self) -> Result<&dyn ZoneSource, CloudError> {
        Err(Self::none("listing zones"))
    }

    fn cluster(&self) -> Result<Arc<dyn ClusterBackend>, CloudError> {
        Err(Self::none("paved_ha_cluster"))
    }

    fn database(&self) -> Result<Arc<dyn DatabaseBackend>, CloudError> {
        Err(Self::none("paved_managed_database"))
    }
}
