//! The tfplugin6 `Provider` RPCs. Each decodes its values with the schema's type,
//! calls the framework, and answers with msgpack values and diagnostics. Features
//! paved does not declare (ephemeral, list, action and state-store types, identity)
//! answer UNIMPLEMENTED, which Terraform accepts because it never calls them for a
//! provider whose schema declares none.

use std::pin::Pin;

use futures::Stream;
use paved_value::Value;
use tonic::{Request, Response, Status, Streaming};

use super::convert::{self, decode, diagnostics, encode};
use super::registry::ProviderService;
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{ApplyRequest, PlanRequest, ReadRequest};
use crate::proto::tfplugin6 as pb;
use crate::proto::tfplugin6::provider_server::Provider;
use crate::schema::{Block, Presence};

type RpcResult<T> = Result<Response<T>, Status>;
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

fn not_offered(what: &str) -> Status {
    Status::unimplemented(format!("paved offers no {what}"))
}

/// Runs a fallible body and folds its error diagnostics into the answer.
fn answer<T>(
    result: Result<T, Diagnostics>,
    on_error: impl FnOnce(Diagnostics) -> T,
) -> RpcResult<T> {
    Ok(Response::new(result.unwrap_or_else(on_error)))
}

#[tonic::async_trait]
impl Provider for ProviderService {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> RpcResult<pb::get_metadata::Response> {
        let inner = &self.inner;
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(super::registry::server_capabilities()),
            data_sources: inner
                .data_sources
                .keys()
                .map(|t| pb::get_metadata::DataSourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            resources: inner
                .resources
                .keys()
                .map(|t| pb::get_metadata::ResourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        if crate::phases::enabled() {
            mark_schema_encoding(&self.inner.schema_response);
        }
        Ok(Response::new(self.inner.schema_response.clone()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        let req = request.into_inner();
        let result = decode(
            req.config.as_ref(),
            &self.inner.provider_type,
            "provider configuration",
        )
        .map(|config| self.inner.provider.validate(&config));
        let diags = result.unwrap_or_else(|d| d);
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        let req = request.into_inner();
        let diags = self
            .resource(&req.type_name)
            .and_then(|e| {
                decode(req.config.as_ref(), &e.ty, "resource configuration")
                    .map(|config| e.imp.validate(&config))
            })
            .unwrap_or_else(|d| d);
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        let req = request.into_inner();
        let diags = self
            .data_source(&req.type_name)
            .and_then(|e| {
                decode(req.config.as_ref(), &e.ty, "data source configuration")
                    .map(|config| e.imp.validate(&config))
            })
            .unwrap_or_else(|d| d);
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        let req = request.into_inner();
        let result = (|| {
            let entry = self.resource(&req.type_name)?;
            let raw = req.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                if !raw.flatmap.is_empty() {
                    return Err(Diagnostic::error(
                        "Unsupported state format",
                        "This state was written in the flatmap format of Terraform 0.11, which paved never used.",
                    )
                    .into());
                }
                return encode(&Value::Null, &entry.ty, "upgraded state");
            }
            let parsed: serde_json::Value = serde_json::from_slice(&raw.json).map_err(|e| {
                Diagnostics::from(Diagnostic::error(
                    "Invalid stored state",
                    format!("The stored state is not JSON: {e}"),
                ))
            })?;
            let upgraded = entry
                .imp
                .upgrade_state_json(req.version, parsed)
                .map_err(|e| {
                    Diagnostics::from(Diagnostic::error("Cannot upgrade the stored state", e))
                })?;
            let bytes = serde_json::to_vec(&upgraded).map_err(|e| {
                Diagnostics::from(Diagnostic::error("Internal error", e.to_string()))
            })?;
            let value = paved_value::json::decode(&bytes, &entry.ty).map_err(|e| {
                Diagnostics::from(Diagnostic::error(
                    "Cannot read the stored state",
                    format!("The stored state does not match the schema: {e}"),
                ))
            })?;
            encode(&value, &entry.ty, "upgraded state")
        })();
        answer(
            result.map(|v| pb::upgrade_resource_state::Response {
                upgraded_state: Some(v),
                diagnostics: Vec::new(),
            }),
            |d| pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: diagnostics(&d),
            },
        )
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> RpcResult<pb::get_resource_identity_schemas::Response> {
        // No resource declares an identity (yet): an empty, valid answer.
        Ok(Response::new(Default::default()))
    }

    async fn upgrade_resource_identity(
        &self,
        _request: Request<pb::upgrade_resource_identity::Request>,
    ) -> RpcResult<pb::upgrade_resource_identity::Response> {
        Err(not_offered("resource identity"))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        let req = request.into_inner();
        tracing::debug!(terraform_version = %req.terraform_version, "configuring the provider");
        let mut diags = Diagnostics::new();
        match decode(
            req.config.as_ref(),
            &self.inner.provider_type,
            "provider configuration",
        ) {
            Err(d) => diags.extend(d),
            Ok(config) => {
                if let Some(data) = self.inner.provider.configure(&config, &mut diags).await {
                    match self.inner.configured.write() {
                        Ok(mut slot) => *slot = Some(data),
                        Err(_) => diags.error("Internal error", "provider state lock poisoned"),
                    }
                }
            }
        }
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        let req = request.into_inner();
        let result = async {
            let entry = self.resource(&req.type_name)?;
            let ctx = self.context()?;
            let current = decode(req.current_state.as_ref(), &entry.ty, "current state")?;
            let out = entry
                .imp
                .read(
                    &ctx,
                    ReadRequest {
                        current_state: &current,
                        private: &req.private,
                    },
                )
                .await;
            let new_state = encode(&out.new_state, &entry.ty, "refreshed state")?;
            Ok(pb::read_resource::Response {
                new_state: Some(new_state),
                diagnostics: diagnostics(&out.diagnostics),
                private: out.private,
                ..Default::default()
            })
        }
        .await;
        // On an error before reading, keep the state as it was so nothing is forgotten.
        answer(result, |d| pb::read_resource::Response {
            new_state: req.current_state.clone(),
            diagnostics: diagnostics(&d),
            private: req.private.clone(),
            ..Default::default()
        })
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        let req = request.into_inner();
        let result = async {
            let entry = self.resource(&req.type_name)?;
            let ctx = self.context()?;
            let prior = decode(req.prior_state.as_ref(), &entry.ty, "prior state")?;
            let proposed = decode(req.proposed_new_state.as_ref(), &entry.ty, "proposed state")?;
            let config = decode(req.config.as_ref(), &entry.ty, "configuration")?;
            let out = entry
                .imp
                .plan(
                    &ctx,
                    PlanRequest {
                        prior_state: &prior,
                        proposed_new_state: &proposed,
                        config: &config,
                        prior_private: &req.prior_private,
                    },
                )
                .await;
            let planned = if out.diagnostics.has_errors() {
                None
            } else {
                Some(encode(&out.planned_state, &entry.ty, "planned state")?)
            };
            Ok(pb::plan_resource_change::Response {
                planned_state: planned,
                requires_replace: out.requires_replace.iter().map(convert::path).collect(),
                planned_private: out.planned_private,
                diagnostics: diagnostics(&out.diagnostics),
                ..Default::default()
            })
        }
        .await;
        answer(result, |d| pb::plan_resource_change::Response {
            diagnostics: diagnostics(&d),
            ..Default::default()
        })
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let req = request.into_inner();
        let result = async {
            let entry = self.resource(&req.type_name)?;
            let ctx = self.context()?;
            let prior = decode(req.prior_state.as_ref(), &entry.ty, "prior state")?;
            let planned = decode(req.planned_state.as_ref(), &entry.ty, "planned state")?;
            let config = decode(req.config.as_ref(), &entry.ty, "configuration")?;
            let out = entry
                .imp
                .apply(
                    &ctx,
                    ApplyRequest {
                        prior_state: &prior,
                        planned_state: &planned,
                        config: &config,
                        planned_private: &req.planned_private,
                    },
                )
                .await;
            // Even with errors, the new state carries what exists (partial state).
            let new_state = encode(&out.new_state, &entry.ty, "new state")?;
            Ok(pb::apply_resource_change::Response {
                new_state: Some(new_state),
                private: out.private,
                diagnostics: diagnostics(&out.diagnostics),
                ..Default::default()
            })
        }
        .await;
        // Failing before the resource ran: nothing changed, so the prior state stands.
        answer(result, |d| pb::apply_resource_change::Response {
            new_state: req.prior_state.clone(),
            diagnostics: diagnostics(&d),
            ..Default::default()
        })
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let req = request.into_inner();
        let result = async {
            let entry = self.resource(&req.type_name)?;
            let ctx = self.context()?;
            let mut diags = Diagnostics::new();
            let found = entry.imp.import(&ctx, &req.id, &mut diags).await;
            let mut imported = Vec::with_capacity(found.len());
            for obj in found {
                imported.push(pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: Some(encode(&obj.state, &entry.ty, "imported state")?),
                    private: obj.private,
                    identity: None,
                });
            }
            Ok(pb::import_resource_state::Response {
                imported_resources: imported,
                diagnostics: diagnostics(&diags),
                deferred: None,
            })
        }
        .await;
        answer(result, |d| pb::import_resource_state::Response {
            diagnostics: diagnostics(&d),
            ..Default::default()
        })
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> RpcResult<pb::move_resource_state::Response> {
        let req = request.into_inner();
        let d = Diagnostic::error(
            "Move not supported",
            format!(
                "paved cannot move {} ({}) into {}. Import the existing stack into {} by name instead.",
                req.source_type_name, req.source_provider_address, req.target_type_name, req.target_type_name
            ),
        );
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: diagnostics(&d.into()),
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        let req = request.into_inner();
        let result = async {
            let entry = self.data_source(&req.type_name)?;
            let ctx = self.context()?;
            let config = decode(req.config.as_ref(), &entry.ty, "data source configuration")?;
            if !config.is_wholly_known() {
                return Err(Diagnostic::error(
                    "Configuration not known yet",
                    format!(
                        "{} was asked to read with values that are known only after apply.",
                        req.type_name
                    ),
                )
                .into());
            }
            let mut diags = entry.imp.validate(&config);
            if diags.has_errors() {
                return Err(diags);
            }
            let state = entry.imp.read(&ctx, &config, &mut diags).await;
            let state = match state {
                Some(s) if !diags.has_errors() => Some(encode(&s, &entry.ty, "data source state")?),
                _ => None,
            };
            Ok(pb::read_data_source::Response {
                state,
                diagnostics: diagnostics(&diags),
                deferred: None,
            })
        }
        .await;
        answer(result, |d| pb::read_data_source::Response {
            diagnostics: diagnostics(&d),
            ..Default::default()
        })
    }

    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> RpcResult<pb::generate_resource_config::Response> {
        let req = request.into_inner();
        let result = (|| {
            let entry = self.resource(&req.type_name)?;
            let state = decode(req.state.as_ref(), &entry.ty, "state")?;
            let config = config_from_state(&entry.schema.block, &state);
            encode(&config, &entry.ty, "generated configuration")
        })();
        answer(
            result.map(|c| pb::generate_resource_config::Response {
                config: Some(c),
                diagnostics: Vec::new(),
            }),
            |d| pb::generate_resource_config::Response {
                config: None,
                diagnostics: diagnostics(&d),
            },
        )
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> RpcResult<pb::validate_ephemeral_resource_config::Response> {
        Err(not_offered("ephemeral resources"))
    }

    async fn open_ephemeral_resource(
        &self,
        _request: Request<pb::open_ephemeral_resource::Request>,
    ) -> RpcResult<pb::open_ephemeral_resource::Response> {
        Err(not_offered("ephemeral resources"))
    }

    async fn renew_ephemeral_resource(
        &self,
        _request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> RpcResult<pb::renew_ephemeral_resource::Response> {
        Err(not_offered("ephemeral resources"))
    }

    async fn close_ephemeral_resource(
        &self,
        _request: Request<pb::close_ephemeral_resource::Request>,
    ) -> RpcResult<pb::close_ephemeral_resource::Response> {
        Err(not_offered("ephemeral resources"))
    }

    type ListResourceStream = BoxStream<pb::list_resource::Event>;

    async fn list_resource(
        &self,
        _request: Request<pb::list_resource::Request>,
    ) -> RpcResult<Self::ListResourceStream> {
        Err(not_offered("list resources"))
    }

    async fn validate_list_resource_config(
        &self,
        _request: Request<pb::validate_list_resource_config::Request>,
    ) -> RpcResult<pb::validate_list_resource_config::Response> {
        Err(not_offered("list resources"))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> RpcResult<pb::get_functions::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> RpcResult<pb::call_function::Response> {
        let name = request.into_inner().name;
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!("paved offers no function named \"{name}\""),
                function_argument: None,
            }),
        }))
    }

    async fn validate_state_store_config(
        &self,
        _request: Request<pb::validate_state_store::Request>,
    ) -> RpcResult<pb::validate_state_store::Response> {
        Err(not_offered("state stores"))
    }

    async fn configure_state_store(
        &self,
        _request: Request<pb::configure_state_store::Request>,
    ) -> RpcResult<pb::configure_state_store::Response> {
        Err(not_offered("state stores"))
    }

    type ReadStateBytesStream = BoxStream<pb::read_state_bytes::Response>;

    async fn read_state_bytes(
        &self,
        _request: Request<pb::read_state_bytes::Request>,
    ) -> RpcResult<Self::ReadStateBytesStream> {
        Err(not_offered("state stores"))
    }

    async fn write_state_bytes(
        &self,
        _request: Request<Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> RpcResult<pb::write_state_bytes::Response> {
        Err(not_offered("state stores"))
    }

    async fn lock_state(
        &self,
        _request: Request<pb::lock_state::Request>,
    ) -> RpcResult<pb::lock_state::Response> {
        Err(not_offered("state stores"))
    }

    async fn unlock_state(
        &self,
        _request: Request<pb::unlock_state::Request>,
    ) -> RpcResult<pb::unlock_state::Response> {
        Err(not_offered("state stores"))
    }

    async fn get_states(
        &self,
        _request: Request<pb::get_states::Request>,
    ) -> RpcResult<pb::get_states::Response> {
        Err(not_offered("state stores"))
    }

    async fn delete_state(
        &self,
        _request: Request<pb::delete_state::Request>,
    ) -> RpcResult<pb::delete_state::Response> {
        Err(not_offered("state stores"))
    }

    async fn plan_action(
        &self,
        _request: Request<pb::plan_action::Request>,
    ) -> RpcResult<pb::plan_action::Response> {
        Err(not_offered("actions"))
    }

    type InvokeActionStream = BoxStream<pb::invoke_action::Event>;

    async fn invoke_action(
        &self,
        _request: Request<pb::invoke_action::Request>,
    ) -> RpcResult<Self::InvokeActionStream> {
        Err(not_offered("actions"))
    }

    async fn validate_action_config(
        &self,
        _request: Request<pb::validate_action_config::Request>,
    ) -> RpcResult<pb::validate_action_config::Response> {
        Err(not_offered("actions"))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> RpcResult<pb::stop_provider::Response> {
        tracing::info!("Terraform asked the provider to stop; cancelling work in flight");
        self.inner.stop.cancel();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

/// A configuration reproducing `state`: computed-only attributes become null.
fn config_from_state(block: &Block, state: &Value) -> Value {
    let Value::Object(attrs) = state else {
        return state.clone();
    };
    let mut out = attrs.clone();
    for a in &block.attributes {
        // Computed-only attributes cannot be configured. (Computed parts of nested
        // attributes are kept: Terraform drops them when it writes the HCL.)
        if a.presence == Presence::Computed {
            out.insert(a.name.clone(), Value::Null);
        }
    }
    for b in &block.blocks {
        if let Some(v) = out.get(&b.type_name).cloned() {
            let mapped = match v {
                Value::List(items) => Value::List(
                    items
                        .iter()
                        .map(|i| config_from_state(&b.block, i))
                        .collect(),
                ),
                Value::Set(items) => Value::Set(
                    items
                        .iter()
                        .map(|i| config_from_state(&b.block, i))
                        .collect(),
                ),
                Value::Map(items) => Value::Map(
                    items
                        .iter()
                        .map(|(k, i)| (k.clone(), config_from_state(&b.block, i)))
                        .collect(),
                ),
                other => config_from_state(&b.block, &other),
            };
            out.insert(b.type_name.clone(), mapped);
        }
    }
    Value::Object(out)
}

/// For benchmarks: encodes the schema answer once more, as tonic is about to, and
/// marks how long that took and its size (`schema_encode_start`,
/// `schema_encode_end BYTES`).
fn mark_schema_encoding(schema: &pb::get_provider_schema::Response) {
    crate::phases::mark("schema_encode_start", None);
    let bytes = prost::Message::encode_to_vec(schema).len();
    crate::phases::mark("schema_encode_end", Some(&bytes.to_string()));
}
