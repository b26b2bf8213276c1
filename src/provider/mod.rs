//! The paved provider: its configuration block and the resources and data sources it
//! offers.

mod config;
mod schema;

pub use config::parse;
pub use schema::provider_schema;

use std::sync::Arc;

use async_trait::async_trait;
use paved_value::Value;

use crate::cloud::Clients;
use crate::data_sources::zones::ZonesDataSource;
use crate::diag::Diagnostics;
use crate::framework::{DataSource, ProviderDefinition, Resource};
use crate::resources::ha_cluster::HaClusterResource;
use crate::resources::managed_database::ManagedDatabaseResource;
use crate::schema::Schema;

/// The provider's type name.
pub const TYPE_NAME: &str = "paved";

/// The paved provider.
#[derive(Default)]
pub struct PavedProvider;

#[async_trait]
impl ProviderDefinition for PavedProvider {
    fn schema(&self) -> Schema {
        provider_schema()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let _ = config::parse(config, &mut diags);
        diags
    }

    async fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<Clients> {
        let clients = config::parse(config, diags).map(config::ParsedConfig::into_clients)?;
        if clients.cloud == crate::cloud::CloudKind::Aws {
            clients.aws.warm_up();
        }
        Some(clients)
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(ZonesDataSource)]
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(HaClusterResource::new(Arc::new(
                crate::cloud::backends::cluster,
            ))),
            Arc::new(ManagedDatabaseResource::new(Arc::new(
                crate::cloud::backends::database,
            ))),
        ]
    }
}
