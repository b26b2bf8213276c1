//! The paved provider: its configuration block and the resources and data sources it
//! offers.

mod clients;
mod clock;
mod config;
mod schema;

pub use clients::Clients;
pub use clock::time_scale_from_env;

pub use config::parse;
pub use schema::provider_schema;

use std::sync::Arc;

use async_trait::async_trait;
use paved_value::Value;

use crate::data_sources::zones::ZonesDataSource;
use crate::diag::Diagnostics;
use crate::framework::{DataSource, ProviderData, ProviderDefinition, Resource};
use crate::ports::{Cloud, CloudKind};
use crate::protocol::ProviderService;
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

    async fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<ProviderData> {
        let clients = config::parse(config, diags).map(config::ParsedConfig::into_clients)?;
        if clients.cloud == CloudKind::Aws {
            clients.aws.warm_up();
        }
        let cloud: Arc<dyn Cloud> = Arc::new(clients);
        Some(Arc::new(cloud))
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(ZonesDataSource)]
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(crate::resources::ha_cluster::resource::resource(Arc::new(
                |c: &dyn Cloud| c.cluster(),
            ))),
            Arc::new(crate::resources::managed_database::resource::resource(
                Arc::new(|c: &dyn Cloud| c.database()),
            )),
            Arc::new(crate::resources::network::resource::resource(Arc::new(
                |c: &dyn Cloud| c.network(),
            ))),
            Arc::new(crate::resources::observability_stack::resource::resource(
                Arc::new(|c: &dyn Cloud| c.observability()),
            )),
        ]
    }
}

/// The provider data of a configuration, as `configure` makes it but with no
/// background warm-up: for planning offline (the docs' component diagrams), where no
/// operation may call the cloud. `None` when the configuration is not valid.
pub fn offline_provider_data(config: &Value) -> Option<ProviderData> {
    let mut diags = Diagnostics::new();
    let clients = config::parse(config, &mut diags).map(config::ParsedConfig::into_clients)?;
    let cloud: Arc<dyn Cloud> = Arc::new(clients);
    Some(Arc::new(cloud))
}

/// The tfplugin6 service of the paved provider, as the plugin server runs it.
pub fn service() -> ProviderService {
    ProviderService::new(Box::new(PavedProvider))
}
