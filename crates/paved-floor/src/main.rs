//! The floor provider, for `bench/foundation.py`: paved's own plugin path (the
//! handshake, AutoMTLS, the gRPC services, logging, the phase marks) serving one
//! resource, `floor_thing`, with a two-attribute schema and no cloud client.
//!
//! Planned beside paved and the Go null provider, it separates what Terraform spends
//! on any provider served this way (starting it three times, the lock file's hash of
//! a small binary, the protocol's round trips) from what paved's content adds (a
//! 50 MiB binary to hash, a 44 KB schema, a plan that shows every default, the cloud
//! SDK's set-up). A workspace member, so tests and clippy keep it compiling:
//! `cargo build --release -p paved-floor`.

use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use paved::diag::Diagnostics;
use paved::framework::{
    ApplyRequest, ApplyResponse, DataSource, ImportedObject, OpContext, PlanRequest, PlanResponse,
    ProviderData, ProviderDefinition, ReadRequest, ReadResponse, Resource,
};
use paved::protocol::ProviderService;
use paved::schema::{Attribute, Block, Schema};
use paved_value::Value;

/// One resource: `name` as configured, `id` known after apply (the same work as a
/// `null_resource`'s plan: one object created, its id unknown).
struct Thing;

#[async_trait]
impl Resource for Thing {
    fn type_name(&self) -> &'static str {
        "floor_thing"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("A named object that exists only in Terraform's state.")
                .attribute(Attribute::string("name").required())
                .attribute(Attribute::string("id").computed()),
        )
    }

    async fn plan(&self, _ctx: &OpContext, req: PlanRequest<'_>) -> PlanResponse {
        let mut planned = req.proposed_new_state.clone();
        if req.prior_state.is_null() {
            if let Value::Object(m) = &mut planned {
                m.insert("id".into(), Value::unknown());
            }
        }
        PlanResponse {
            planned_state: planned,
            requires_replace: Vec::new(),
            planned_private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }

    /// A create takes its id from the name; an update keeps the id planned (the prior
    /// one); a destroy returns the null planned state.
    async fn apply(&self, _ctx: &OpContext, req: ApplyRequest<'_>) -> ApplyResponse {
        let mut state = req.planned_state.clone();
        if let (Value::Object(m), true) = (&mut state, req.prior_state.is_null()) {
            let name = m.get("name").and_then(Value::as_str).unwrap_or_default();
            let id = Value::from(format!("floor-{name}"));
            m.insert("id".into(), id);
        }
        ApplyResponse {
            new_state: state,
            private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }

    async fn read(&self, _ctx: &OpContext, req: ReadRequest<'_>) -> ReadResponse {
        ReadResponse {
            new_state: req.current_state.clone(),
            private: req.private.to_vec(),
            diagnostics: Diagnostics::new(),
        }
    }

    async fn import(
        &self,
        _ctx: &OpContext,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<ImportedObject> {
        diags.error(
            "floor_thing cannot be imported",
            format!("\"{id}\": the floor provider's objects exist only in state"),
        );
        Vec::new()
    }
}

/// The provider: no configuration, one resource.
struct Floor;

#[async_trait]
impl ProviderDefinition for Floor {
    fn schema(&self) -> Schema {
        Schema::new(Block::new("The benchmarks' floor provider."))
    }

    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn configure(&self, _config: &Value, _diags: &mut Diagnostics) -> Option<ProviderData> {
        Some(Arc::new(()))
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Thing)]
    }
}

fn main() -> ExitCode {
    paved::phases::mark("main", None);
    paved::cli::serve_terraform(|| ProviderService::new(Box::new(Floor)))
}
