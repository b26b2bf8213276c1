//! The provider's resources and data sources with their schemas, built once per
//! process, and the state shared by all RPCs (the configured provider data, stop signal).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use paved_value::Type;
use tokio_util::sync::CancellationToken;

use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{DataSource, OpContext, ProviderData, ProviderDefinition, Resource};
use crate::proto::tfplugin6 as pb;
use crate::schema::Schema;

use super::convert;

/// One registered type with its schema and implied value type, computed once.
pub(super) struct Entry<T: ?Sized> {
    pub imp: Arc<T>,
    pub schema: Schema,
    pub ty: Type,
}

impl<T: ?Sized> Entry<T> {
    fn new(imp: Arc<T>, schema: Schema) -> Self {
        let ty = schema.value_type();
        Self { imp, schema, ty }
    }
}

pub(super) struct Inner {
    pub provider: Box<dyn ProviderDefinition>,
    pub provider_schema: Schema,
    pub provider_type: Type,
    pub data_sources: HashMap<String, Entry<dyn DataSource>>,
    pub resources: HashMap<String, Entry<dyn Resource>>,
    pub schema_response: pb::get_provider_schema::Response,
    pub configured: RwLock<Option<ProviderData>>,
    pub stop: CancellationToken,
}

/// The tfplugin6 `Provider` service for one provider definition.
#[derive(Clone)]
pub struct ProviderService {
    pub(super) inner: Arc<Inner>,
}

impl ProviderService {
    /// Builds the service, computing every schema once.
    pub fn new(provider: Box<dyn ProviderDefinition>) -> Self {
        let provider_schema = provider.schema();
        let provider_type = provider_schema.value_type();
        let data_sources: HashMap<_, _> = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                (d.type_name().to_string(), Entry::new(d, schema))
            })
            .collect();
        let resources: HashMap<_, _> = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                (r.type_name().to_string(), Entry::new(r, schema))
            })
            .collect();
        let schema_response = pb::get_provider_schema::Response {
            provider: Some(convert::schema(&provider_schema)),
            resource_schemas: resources
                .iter()
                .map(|(k, e)| (k.clone(), convert::schema(&e.schema)))
                .collect(),
            data_source_schemas: data_sources
                .iter()
                .map(|(k, e)| (k.clone(), convert::schema(&e.schema)))
                .collect(),
            server_capabilities: Some(server_capabilities()),
            ..Default::default()
        };
        Self {
            inner: Arc::new(Inner {
                provider,
                provider_schema,
                provider_type,
                data_sources,
                resources,
                schema_response,
                configured: RwLock::new(None),
                stop: CancellationToken::new(),
            }),
        }
    }

    /// The provider schema (for docs and tests).
    pub fn provider_schema(&self) -> &Schema {
        &self.inner.provider_schema
    }

    pub(super) fn data_source(&self, name: &str) -> Result<&Entry<dyn DataSource>, Diagnostics> {
        self.inner
            .data_sources
            .get(name)
            .ok_or_else(|| unknown_type("data source", name))
    }

    pub(super) fn resource(&self, name: &str) -> Result<&Entry<dyn Resource>, Diagnostics> {
        self.inner
            .resources
            .get(name)
            .ok_or_else(|| unknown_type("resource", name))
    }

    /// The context for an operation; an error if the provider is not configured yet.
    pub(super) fn context(&self) -> Result<OpContext, Diagnostics> {
        let guard = self.inner.configured.read().map_err(|_| {
            Diagnostics::from(Diagnostic::error(
                "Internal error",
                "provider state lock poisoned",
            ))
        })?;
        let provider = guard.clone().ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Provider not configured",
                "Terraform called the provider before configuring it. This is a bug in Terraform or paved; please report it.",
            ))
        })?;
        Ok(OpContext {
            provider,
            cancel: self.inner.stop.clone(),
        })
    }
}

/// What paved can do beyond the protocol's baseline.
pub(super) fn server_capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        // Destroys go through PlanResourceChange so deletion protection can refuse them.
        plan_destroy: true,
        // Schemas are static: Terraform may reuse the one it fetched at the first start
        // of this provider in the run instead of fetching it at every start.
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: true,
    }
}

fn unknown_type(kind: &str, name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!(
            "paved has no {kind} named \"{name}\". Check the type name, or upgrade the provider."
        ),
    )
    .into()
}
