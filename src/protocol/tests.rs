//! The protocol layer with a scripted resource: values decoded and encoded with the
//! schema, unknowns in plans, requires_replace, partial state on a failed apply,
//! state upgrade from JSON, import, and StopProvider reaching operations.

use std::sync::Arc;

use async_trait::async_trait;
use paved_value::{msgpack, Path, Type, Value};
use tonic::Request;

use super::ProviderService;
use crate::diag::Diagnostics;
use crate::framework::{
    ApplyRequest, ApplyResponse, DataSource, ImportedObject, OpContext, PlanRequest, PlanResponse,
    ProviderData, ProviderDefinition, ReadRequest, ReadResponse, Resource,
};
use crate::proto::tfplugin6 as pb;
use crate::proto::tfplugin6::provider_server::Provider;
use crate::schema::{Attribute, Block, Schema};

struct TestResource;

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

#[async_trait]
impl Resource for TestResource {
    fn type_name(&self) -> &'static str {
        "paved_test"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("test")
                .attribute(Attribute::string("name").required())
                .attribute(Attribute::number("size").optional())
                .attribute(Attribute::string("id").computed()),
        )
    }
    async fn plan(&self, _ctx: &OpContext, req: PlanRequest<'_>) -> PlanResponse {
        let mut resp = PlanResponse::default();
        if req.proposed_new_state.is_null() {
            if req.prior_state.get_attr("name").and_then(Value::as_str) == Some("protected") {
                resp.diagnostics.attribute_error(
                    Path::root().attr("name"),
                    "Deletion protection",
                    "set deletion_protection = false first",
                );
            }
            return resp;
        }
        let mut planned = req.proposed_new_state.clone();
        if let Value::Object(m) = &mut planned {
            if req.prior_state.is_null() {
                m.insert("id".into(), Value::unknown());
            }
        }
        if !req.prior_state.is_null()
            && req.prior_state.get_attr("name") != req.proposed_new_state.get_attr("name")
        {
            resp.requires_replace.push(Path::root().attr("name"));
        }
        resp.planned_state = planned;
        resp.planned_private = b"plan-private".to_vec();
        resp
    }
    async fn apply(&self, ctx: &OpContext, req: ApplyRequest<'_>) -> ApplyResponse {
        let mut resp = ApplyResponse::default();
        if req.planned_state.is_null() {
            return resp;
        }
        let name = req
            .planned_state
            .get_attr("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut state = req.planned_state.clone();
        if let Value::Object(m) = &mut state {
            m.insert("id".into(), Value::from(format!("id-{name}")));
        }
        if name == "fail" || ctx.cancel.is_cancelled() {
            resp.diagnostics.error(
                "Create failed half-way",
                "the network exists, the cluster does not",
            );
        }
        resp.new_state = state;
        resp.private = req.planned_private.to_vec();
        resp
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
        _diags: &mut Diagnostics,
    ) -> Vec<ImportedObject> {
        vec![ImportedObject {
            state: obj(&[
                ("name", Value::from(id)),
                ("size", Value::Null),
                ("id", Value::from(format!("id-{id}"))),
            ]),
            private: Vec::new(),
        }]
    }
}

struct TestProvider;

#[async_trait]
impl ProviderDefinition for TestProvider {
    fn schema(&self) -> Schema {
        Schema::new(Block::new("test provider"))
    }
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn configure(&self, _config: &Value, _diags: &mut Diagnostics) -> Option<ProviderData> {
        // The protocol layer hands this through to operations without looking at it.
        Some(Arc::new("test provider data"))
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(TestResource)]
    }
}

fn ty() -> Type {
    TestResource.schema().value_type()
}

fn dv(v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(v, &ty()).expect("encode"),
        json: Vec::new(),
    })
}

fn value(d: Option<pb::DynamicValue>) -> Value {
    msgpack::decode(&d.expect("a value").msgpack, &ty()).expect("decode")
}

async fn configured() -> ProviderService {
    let svc = ProviderService::new(Box::new(TestProvider));
    let resp = svc
        .configure_provider(Request::new(pb::configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: Some(pb::DynamicValue {
                msgpack: msgpack::encode(&obj(&[]), &Type::object(Vec::new())).expect("e"),
                json: vec![],
            }),
            client_capabilities: None,
        }))
        .await
        .expect("configure")
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    svc
}

#[tokio::test]
async fn plan_marks_computed_unknown_and_replacement() {
    let svc = configured().await;
    let config = obj(&[
        ("name", Value::from("a")),
        ("size", Value::from(3i64)),
        ("id", Value::Null),
    ]);
    let resp = svc
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "paved_test".into(),
            prior_state: dv(&Value::Null),
            proposed_new_state: dv(&config),
            config: dv(&config),
            ..Default::default()
        }))
        .await
        .expect("plan")
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    let planned = value(resp.planned_state);
    assert!(planned.get_attr("id").is_some_and(Value::is_unknown));
    assert_eq!(planned.get_attr("size").and_then(Value::as_i64), Some(3));
    assert_eq!(resp.planned_private, b"plan-private");

    let prior = obj(&[
        ("name", Value::from("a")),
        ("size", Value::from(3i64)),
        ("id", Value::from("id-a")),
    ]);
    let renamed = obj(&[
        ("name", Value::from("b")),
        ("size", Value::from(3i64)),
        ("id", Value::from("id-a")),
    ]);
    let resp = svc
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "paved_test".into(),
            prior_state: dv(&prior),
            proposed_new_state: dv(&renamed),
            config: dv(&renamed),
            ..Default::default()
        }))
        .await
        .expect("plan")
        .into_inner();
    let paths: Vec<String> = resp
        .requires_replace
        .iter()
        .map(|p| super::convert::path_from(p).to_string())
        .collect();
    assert_eq!(paths, ["name"]);
}

#[tokio::test]
async fn destroy_plan_can_be_refused_with_a_path() {
    let svc = configured().await;
    let prior = obj(&[
        ("name", Value::from("protected")),
        ("size", Value::Null),
        ("id", Value::from("x")),
    ]);
    let resp = svc
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "paved_test".into(),
            prior_state: dv(&prior),
            proposed_new_state: dv(&Value::Null),
            config: dv(&Value::Null),
            ..Default::default()
        }))
        .await
        .expect("plan")
        .into_inner();
    assert_eq!(resp.diagnostics.len(), 1);
    assert!(resp.planned_state.is_none());
    let path = super::convert::path_from(resp.diagnostics[0].attribute.as_ref().expect("path"));
    assert_eq!(path.to_string(), "name");
}

#[tokio::test]
async fn failed_apply_returns_partial_state_with_the_error() {
    let svc = configured().await;
    let planned = obj(&[
        ("name", Value::from("fail")),
        ("size", Value::Null),
        ("id", Value::unknown()),
    ]);
    let resp = svc
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "paved_test".into(),
            prior_state: dv(&Value::Null),
            planned_state: dv(&planned),
            config: dv(&planned),
            planned_private: b"p".to_vec(),
            ..Default::default()
        }))
        .await
        .expect("apply")
        .into_inner();
    assert_eq!(resp.diagnostics.len(), 1);
    let state = value(resp.new_state);
    assert_eq!(
        state.get_attr("id").and_then(Value::as_str),
        Some("id-fail")
    );
    assert_eq!(resp.private, b"p");
}

#[tokio::test]
async fn stop_provider_reaches_operations() {
    let svc = configured().await;
    svc.stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .expect("stop");
    let planned = obj(&[
        ("name", Value::from("ok")),
        ("size", Value::Null),
        ("id", Value::unknown()),
    ]);
    let resp = svc
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "paved_test".into(),
            prior_state: dv(&Value::Null),
            planned_state: dv(&planned),
            config: dv(&planned),
            ..Default::default()
        }))
        .await
        .expect("apply")
        .into_inner();
    assert_eq!(
        resp.diagnostics.len(),
        1,
        "the operation saw the cancellation"
    );
    assert!(!value(resp.new_state).is_null(), "what exists is kept");
}

#[tokio::test]
async fn upgrade_state_drops_removed_attributes_and_import_reads_by_name() {
    let svc = configured().await;
    let resp = svc
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "paved_test".into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: br#"{"name":"a","size":12345678901234567890,"id":"id-a","legacy":true}"#
                    .to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .expect("upgrade")
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let state = value(resp.upgraded_state);
    assert_eq!(state.get_attr("name").and_then(Value::as_str), Some("a"));
    assert_eq!(
        state
            .get_attr("size")
            .and_then(Value::as_number)
            .map(|n| n.to_string())
            .as_deref(),
        Some("12345678901234567890"),
        "big numbers stay exact"
    );

    let newer = svc
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "paved_test".into(),
            version: 7,
            raw_state: Some(pb::RawState {
                json: b"{}".to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .expect("upgrade")
        .into_inner();
    assert!(newer.diagnostics[0].detail.contains("newer paved"));

    let imported = svc
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "paved_test".into(),
            id: "shop".into(),
            ..Default::default()
        }))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(imported.imported_resources.len(), 1);
    let state = value(imported.imported_resources[0].state.clone());
    assert_eq!(
        state.get_attr("id").and_then(Value::as_str),
        Some("id-shop")
    );

    let generated = svc
        .generate_resource_config(Request::new(pb::generate_resource_config::Request {
            type_name: "paved_test".into(),
            state: imported.imported_resources[0].state.clone(),
        }))
        .await
        .expect("generate")
        .into_inner();
    let config = value(generated.config);
    assert!(
        config.get_attr("id").is_some_and(Value::is_null),
        "computed-only attributes are not configuration"
    );
    assert_eq!(
        config.get_attr("name").and_then(Value::as_str),
        Some("shop")
    );
}
