//! The state: the effective configuration with the outputs, as the plan predicts
//! them and as the apply and refresh find them ([`Observed`]).

use std::collections::BTreeMap;

use paved_value::Value;

use super::config::ObservabilityConfig;
use super::render::{plan_spec, ApplyValues, GRAFANA_ADMIN_SECRET};
use crate::delivery::Delivered;
use crate::ports::observability::{
    BucketPurpose, BucketState, IdentityPurpose, IdentityState, ManagedMetricsState,
    ObservabilitySnapshot,
};
use crate::stack::state::{set_attr, string_list};
use crate::stack::{ComponentRecord, Knowable};

/// What converge and a read gather about the stack.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Buckets by purpose.
    pub buckets: BTreeMap<BucketPurpose, BucketState>,
    /// Identities by purpose.
    pub identities: BTreeMap<IdentityPurpose, IdentityState>,
    /// The managed Prometheus.
    pub managed: Option<ManagedMetricsState>,
    /// Every cloud component, by key.
    pub components: BTreeMap<String, ComponentRecord>,
    /// The objects in the cluster (or the GitOps folder); `None` when not known.
    pub kube: Option<Delivered>,
}

impl Observed {
    /// What a read of the cloud found.
    pub fn from_snapshot(s: ObservabilitySnapshot) -> Self {
        Observed {
            buckets: s.buckets,
            identities: s.identities,
            managed: s.managed,
            components: s
                .components
                .into_iter()
                .map(|c| (c.key.clone(), c))
                .collect(),
            kube: None,
        }
    }

    /// Records the components a call reported.
    pub fn record(&mut self, components: Vec<ComponentRecord>) {
        for c in components {
            self.components.insert(c.key.clone(), c);
        }
    }

    /// What the renderer needs from the apply.
    pub fn values(&self) -> ApplyValues {
        ApplyValues {
            buckets: self.buckets.clone(),
            identities: self.identities.clone(),
            managed: self.managed.clone(),
        }
    }

    /// Whether nothing of the stack exists.
    pub fn is_empty(&self) -> bool {
        self.components.is_empty() && self.kube.as_ref().is_none_or(|k| k.objects.is_empty())
    }
}

/// The computed outputs.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// `buckets`.
    pub buckets: Value,
    /// `inventory`.
    pub inventory: Value,
    /// `kubernetes_objects`.
    pub kubernetes_objects: Value,
    /// `kubernetes_digest`.
    pub kubernetes_digest: Value,
    /// `kubernetes_hashes`.
    pub kubernetes_hashes: Value,
}

impl Outputs {
    /// Nothing known yet but the objects the configuration stands for.
    pub fn on_create(cfg: &ObservabilityConfig) -> Self {
        let stores_off = cfg
            .settings
            .known()
            .is_some_and(|s| !s.logs.enabled && !s.traces.enabled);
        Outputs {
            buckets: if stores_off {
                Value::Map(BTreeMap::new())
            } else {
                Value::unknown()
            },
            inventory: Value::unknown(),
            kubernetes_objects: match super::render::planned_objects(cfg) {
                Knowable::Known(list) => string_list(&list),
                Knowable::Unknown => Value::unknown(),
            },
            kubernetes_digest: Value::unknown(),
            kubernetes_hashes: Value::unknown(),
        }
    }

    /// As the apply or a read found them.
    pub fn observed(o: &Observed) -> Self {
        let kube = o.kube.as_ref();
        Outputs {
            buckets: Value::Map(
                o.buckets
                    .iter()
                    .map(|(p, b)| (p.as_str().to_owned(), Value::from(b.name.as_str())))
                    .collect(),
            ),
            inventory: Value::List(
                o.components
                    .values()
                    .map(|c| {
                        Value::Object(
                            [
                                ("key", c.key.as_str()),
                                ("kind", c.kind.as_str()),
                                ("id", c.id.as_str()),
                            ]
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), Value::from(v)))
                            .collect(),
                        )
                    })
                    .collect(),
            ),
            kubernetes_objects: kube.map_or_else(Value::unknown, |k| string_list(&k.objects)),
            kubernetes_digest: match kube.and_then(|k| k.digest.as_deref()) {
                Some(d) => Value::from(d),
                None => Value::unknown(),
            },
            kubernetes_hashes: match kube.and_then(|k| k.hashes.as_ref()) {
                Some(h) => Value::Map(
                    h.iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                        .collect(),
                ),
                None => Value::unknown(),
            },
        }
    }
}

fn endpoints(cfg: &ObservabilityConfig) -> Value {
    let Some(spec) = plan_spec(cfg) else {
        return Value::unknown();
    };
    let e = paved_observability::endpoints(&spec);
    let text = |v: Option<String>| v.map_or(Value::Null, Value::from);
    Value::Object(
        [
            ("otlp_grpc", text(e.otlp_grpc)),
            ("otlp_http", text(e.otlp_http)),
            ("loki_push", text(e.loki_push)),
            ("prometheus", Value::from(e.prometheus)),
            ("alertmanager", text(e.alertmanager)),
            ("grafana", Value::from(e.grafana)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
    )
}

/// The whole state `cfg` and `outputs` stand for (`tags_all` left unknown: the
/// outline sets it).
pub fn render_state(cfg: &ObservabilityConfig, outputs: &Outputs) -> Value {
    let mut state = cfg.effective.clone();
    set_attr(
        &mut state,
        "id",
        cfg.name
            .known()
            .map_or_else(Value::unknown, |n| Value::from(n.as_str())),
    );
    set_attr(&mut state, "endpoints", endpoints(cfg));
    set_attr(
        &mut state,
        "grafana_admin_secret",
        cfg.settings.known().map_or_else(Value::unknown, |s| {
            Value::from(format!("{}/{GRAFANA_ADMIN_SECRET}", s.namespace))
        }),
    );
    set_attr(&mut state, "buckets", outputs.buckets.clone());
    set_attr(&mut state, "inventory", outputs.inventory.clone());
    set_attr(
        &mut state,
        "kubernetes_objects",
        outputs.kubernetes_objects.clone(),
    );
    set_attr(
        &mut state,
        "kubernetes_digest",
        outputs.kubernetes_digest.clone(),
    );
    set_attr(
        &mut state,
        "kubernetes_hashes",
        outputs.kubernetes_hashes.clone(),
    );
    set_attr(&mut state, "tags_all", Value::unknown());
    state
}
