//! The in-cluster addresses of the stack's services: the resource's outputs, and the
//! names every module renders its Services under.

use crate::spec::{Mode, ObservabilitySpec};

/// Service of the Prometheus pair (port [`PROMETHEUS_PORT`]).
pub const PROMETHEUS_SERVICE: &str = "prometheus";
/// Prometheus's HTTP port.
pub const PROMETHEUS_PORT: u16 = 9090;
/// Service of Alertmanager (port [`ALERTMANAGER_PORT`]).
pub const ALERTMANAGER_SERVICE: &str = "alertmanager";
/// Alertmanager's HTTP port.
pub const ALERTMANAGER_PORT: u16 = 9093;
/// Service of Grafana (port [`GRAFANA_PORT`]).
pub const GRAFANA_SERVICE: &str = "grafana";
/// Grafana's Service port (the container listens on 3000).
pub const GRAFANA_PORT: u16 = 80;
/// Service of Loki (port [`LOKI_PORT`]).
pub const LOKI_SERVICE: &str = "loki";
/// Loki's HTTP port.
pub const LOKI_PORT: u16 = 3100;
/// Service of Tempo (query port [`TEMPO_PORT`], OTLP gRPC 4317 from Alloy).
pub const TEMPO_SERVICE: &str = "tempo";
/// Tempo's HTTP (query) port.
pub const TEMPO_PORT: u16 = 3200;
/// Service of the Alloy agents receiving OTLP (ports [`OTLP_GRPC_PORT`],
/// [`OTLP_HTTP_PORT`]).
pub const ALLOY_SERVICE: &str = "alloy";
/// OTLP over gRPC.
pub const OTLP_GRPC_PORT: u16 = 4317;
/// OTLP over HTTP.
pub const OTLP_HTTP_PORT: u16 = 4318;

/// The stack's in-cluster URLs; `None` where the component is not rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// OTLP gRPC (`http://alloy.<ns>.svc:4317`).
    pub otlp_grpc: Option<String>,
    /// OTLP HTTP (`http://alloy.<ns>.svc:4318`).
    pub otlp_http: Option<String>,
    /// Loki's push API (`.../loki/api/v1/push`).
    pub loki_push: Option<String>,
    /// Prometheus (the local agent in managed mode).
    pub prometheus: String,
    /// Alertmanager; `None` in managed mode.
    pub alertmanager: Option<String>,
    /// Grafana.
    pub grafana: String,
}

fn url(spec: &ObservabilitySpec, service: &str, port: u16) -> String {
    format!("http://{service}.{}.svc:{port}", spec.namespace)
}

/// The URLs of `spec`'s services.
pub fn endpoints(spec: &ObservabilitySpec) -> Endpoints {
    // Alloy runs when logs or traces are on; it receives OTLP only with traces.
    let traces = spec.traces.is_some();
    Endpoints {
        otlp_grpc: traces.then(|| url(spec, ALLOY_SERVICE, OTLP_GRPC_PORT)),
        otlp_http: traces.then(|| url(spec, ALLOY_SERVICE, OTLP_HTTP_PORT)),
        loki_push: spec
            .logs
            .as_ref()
            .map(|_| format!("{}/loki/api/v1/push", url(spec, LOKI_SERVICE, LOKI_PORT))),
        prometheus: url(spec, PROMETHEUS_SERVICE, PROMETHEUS_PORT),
        alertmanager: matches!(spec.mode, Mode::SelfHosted)
            .then(|| url(spec, ALERTMANAGER_SERVICE, ALERTMANAGER_PORT)),
        grafana: url(spec, GRAFANA_SERVICE, GRAFANA_PORT),
    }
}
