//! The provider-author's API: what a resource or data source implements, and the
//! context every operation receives. The protocol layer turns RPCs into calls on
//! these traits; resources never see protobuf.

mod resource;

pub use resource::*;

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use paved_value::Value;
use tokio_util::sync::CancellationToken;

use crate::diag::Diagnostics;
use crate::schema::Schema;

/// What the provider's `configure` produced, handed to every operation. The framework
/// does not know what it holds (it knows no cloud); resources take it back out with
/// [`OpContext::provider_data`] as the type the provider's wiring stored.
pub type ProviderData = Arc<dyn Any + Send + Sync>;

/// What every operation gets: the configured provider data and a cancellation token
/// that fires when Terraform calls StopProvider.
#[derive(Clone)]
pub struct OpContext {
    /// What the provider's `configure` returned (lazily built clients: building them
    /// makes no call).
    pub provider: ProviderData,
    /// Cancelled when Terraform asks the provider to stop.
    pub cancel: CancellationToken,
}

impl OpContext {
    /// The provider data as a `T`, when that is what the provider stored.
    pub fn provider_data<T: Any>(&self) -> Option<&T> {
        self.provider.downcast_ref::<T>()
    }
}

/// A data source: reads something and returns it as state.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// The type name in HCL (`paved_zones`).
    fn type_name(&self) -> &'static str;

    /// The schema: arguments and results.
    fn schema(&self) -> Schema;

    /// Checks a configuration without any cloud call. Values may be unknown.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Reads the data. `config` is wholly known. Returns the full state object (the
    /// configuration with computed attributes filled in), or `None` with errors.
    async fn read(&self, ctx: &OpContext, config: &Value, diags: &mut Diagnostics)
        -> Option<Value>;
}

/// The provider itself: its configuration schema and what it offers.
#[async_trait]
pub trait ProviderDefinition: Send + Sync {
    /// The provider block's schema.
    fn schema(&self) -> Schema;

    /// Checks the provider block without any cloud call. Values may be unknown.
    fn validate(&self, config: &Value) -> Diagnostics;

    /// Turns the provider block into the data every operation receives (lazily built
    /// cloud clients). Makes no cloud call, so validate and plan need no credentials.
    async fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<ProviderData>;

    /// The data sources the provider offers.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;

    /// The resources the provider offers.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
}
