//! paved's observability stack, rendered: Prometheus (an HA pair, or an agent
//! writing to the cloud's managed Prometheus), Alertmanager clustered, our alert
//! rules, kube-state-metrics, node-exporter, Grafana with its datasources and our
//! dashboards, Loki single-binary, Tempo single-binary and Grafana Alloy on every
//! node, as typed `k8s-openapi` objects. No CRDs, no admission webhooks, no hook Jobs.
//!
//! Pure: no cluster is contacted and nothing is read from the environment. The same
//! [`ObservabilitySpec`] always renders the same bytes, so a digest of the result
//! tells whether anything changed. Secrets (receiver URLs, keys, passwords) are
//! rendered as placeholders and put in at apply time by [`resolve_secrets`]; the
//! configurations are also available as text ([`configs`]) for the real programs
//! that check them (promtool, amtool).

#![warn(missing_docs)]

mod adapter;
mod alertmanager;
mod alloy;
pub mod configs;
pub mod endpoints;
mod exporters;
#[doc(hidden)]
pub mod fixtures;
mod grafana;
pub mod labels;
mod loki;
mod namespace;
mod prometheus;
mod promql;
mod render;
mod rules;
mod secrets;
mod single_binary;
mod spec;
mod tempo;
pub mod typed;
mod validate;
mod workload;

pub use endpoints::{endpoints, Endpoints};
pub use grafana::admin_secret as grafana_admin_secret;
pub use paved_manifests::{Manifest, Problem, RenderError, Rendered};
pub use promql::{check_duration, check_matcher, check_promql};
pub use render::render;
pub use rules::default_rule_names;
pub use secrets::{resolve_secrets, secret_names};
pub use spec::{
    secret_placeholder, AlertingSpec, GrafanaSpec, LogsSpec, ManagedSpec, MetricsSpec, Mode,
    ObjectStore, ObservabilitySpec, Platform, ReceiverKind, ReceiverSpec, RouteSpec, RuleOverride,
    TracesSpec, HEARTBEAT_SECRET,
};
pub use validate::validate;
