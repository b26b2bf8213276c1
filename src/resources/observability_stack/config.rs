//! The effective configuration of a `paved_observability_stack`: [`ObservabilityConfig`].
//!
//! [`ObservabilityConfig::from_config`] fills every attribute left out from its
//! declared default ([`crate::stack::effective`]) and reads the typed settings from
//! the result. Settings that only feed the renderer are one [`Settings`] value,
//! known when everything in it is; the cluster's connection is known once the
//! cluster exists (it never is at the first plan, and nothing at plan needs it).

use std::collections::BTreeMap;

use paved_value::Value;
use serde::Deserialize;
use serde_json::Value as Json;

use super::schema::{schema, MODES};
use crate::delivery::Delivery;
use crate::diag::Diagnostics;
use crate::ports::observability::{ManagedIngestion, ObservabilityShape, StoreShape};
use crate::profiles::Profile;
use crate::stack::effective::with_defaults;
use crate::stack::reader::{
    classify, optional_text, read_profile, read_timeouts, sub, Defaults as Declared, Reader, Slot,
};
use crate::stack::tags::Tags;
use crate::stack::timeouts::{parse_duration, TimeoutsSpec};
use crate::stack::Knowable;

/// Where metrics are stored and alerts evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeWord {
    /// Prometheus and Alertmanager in the cluster.
    SelfHosted,
    /// The cloud's managed Prometheus.
    Managed,
}

impl ModeWord {
    fn parse(word: &str) -> Option<ModeWord> {
        match word {
            "self_hosted" => Some(ModeWord::SelfHosted),
            "managed" => Some(ModeWord::Managed),
            _ => None,
        }
    }
}

/// The cluster the stack runs in, as its `connection` output gives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClusterConn {
    /// `eks` or `gke`.
    pub platform: Option<String>,
    /// The cluster's name.
    pub name: Option<String>,
    /// The API endpoint URL.
    pub endpoint: Option<String>,
    /// The CA, base64-encoded PEM.
    pub certificate_authority: Option<String>,
    /// The region or location.
    pub location: Option<String>,
    /// The account or project.
    pub account: Option<String>,
    /// The service-account token issuer.
    pub oidc_issuer_url: Option<String>,
    /// `major.minor`.
    pub kubernetes_version: Option<String>,
}

/// Prometheus settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Metrics {
    /// Retention, days.
    pub retention_days: u32,
    /// Volume per replica, GB.
    pub volume_size_gb: u32,
    /// `30s`.
    pub scrape_interval: String,
    /// Replicas.
    pub replicas: u32,
    /// External labels.
    #[serde(default)]
    pub external_labels: Option<BTreeMap<String, String>>,
    /// Active series expected.
    pub expected_series: u32,
}

/// One receiver as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Receiver {
    /// `slack`, `email`, `webhook`, `pagerduty`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The secret's reference.
    pub secret: String,
    /// Slack channel.
    pub channel: Option<String>,
    /// E-mail recipient.
    pub to: Option<String>,
    /// E-mail sender.
    pub from: Option<String>,
    /// SMTP relay.
    pub smarthost: Option<String>,
    /// SMTP user.
    pub username: Option<String>,
    /// Notify on resolve.
    pub send_resolved: bool,
}

/// One route as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Route {
    /// The receiver.
    pub receiver: String,
    /// Matchers.
    pub matchers: Vec<String>,
    /// Continue after a match.
    #[serde(rename = "continue")]
    pub continue_matching: bool,
}

/// Changes to one default rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Override {
    /// PromQL.
    pub expr: Option<String>,
    /// `for`.
    #[serde(rename = "for")]
    pub for_duration: Option<String>,
    /// Severity.
    pub severity: Option<String>,
}

/// Alerting settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Alerting {
    /// Alertmanager replicas.
    pub replicas: u32,
    /// Receivers by name.
    pub receivers: Option<BTreeMap<String, Receiver>>,
    /// Routes.
    pub routes: Option<Vec<Route>>,
    /// The default receiver.
    pub default_receiver: Option<String>,
    /// The heartbeat URL's secret.
    pub heartbeat_secret: Option<String>,
    /// Rules turned off.
    pub disabled_rules: Option<Vec<String>>,
    /// Rules changed.
    pub rule_overrides: Option<BTreeMap<String, Override>>,
}

/// Logs or traces.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Store {
    /// On or off.
    pub enabled: bool,
    /// Retention, days.
    pub retention_days: u32,
    /// Local volume, GB.
    pub volume_size_gb: u32,
}

/// Grafana settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Grafana {
    /// Dashboards to add.
    pub dashboards: Option<BTreeMap<String, String>>,
    /// Ingress host.
    pub ingress_host: Option<String>,
}

/// Autoscaling metrics.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AutoscalingMetrics {
    /// prometheus-adapter.
    pub custom_metrics_adapter: bool,
}

/// Everything that only feeds the renderer, known as one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Settings {
    /// The namespace.
    pub namespace: String,
    /// The volumes' StorageClass.
    pub storage_class: Option<String>,
    /// Prometheus.
    pub metrics: Metrics,
    /// Alertmanager and rules.
    pub alerting: Alerting,
    /// Loki and Alloy.
    pub logs: Store,
    /// Tempo.
    pub traces: Store,
    /// Grafana.
    pub grafana: Grafana,
    /// The custom-metrics adapter.
    pub autoscaling_metrics: AutoscalingMetrics,
}

/// How paved reaches the API of a private cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiRoute {
    /// A tunnel's URL.
    pub url: Option<String>,
    /// An HTTPS proxy.
    pub proxy_url: Option<String>,
    /// The CA of the server at `url`.
    pub ca_certificate: Option<String>,
}

/// The typed, effective configuration of a `paved_observability_stack`.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservabilityConfig {
    /// The stack's name.
    pub name: Knowable<String>,
    /// The profile.
    pub profile: Knowable<Profile>,
    /// The cluster; unknown until it exists.
    pub cluster: Knowable<ClusterConn>,
    /// How objects get to the cluster.
    pub delivery: Knowable<Delivery>,
    /// The GitOps folder.
    pub gitops_path: Knowable<Option<String>>,
    /// How to reach a private API.
    pub api: Knowable<ApiRoute>,
    /// Self-hosted or managed.
    pub mode: Knowable<ModeWord>,
    /// The renderer's settings.
    pub settings: Knowable<Settings>,
    /// Delete buckets with their data on destroy.
    pub force_destroy: Knowable<bool>,
    /// Refuse destroy and replacement.
    pub deletion_protection: Knowable<bool>,
    /// The user's tags.
    pub tags: Knowable<Tags>,
    /// Timeouts.
    pub timeouts: TimeoutsSpec,
    /// Every attribute the user can write, with the defaults filled in: what the
    /// plan shows.
    pub effective: Value,
}

/// A known value as JSON; `None` when any part is unknown.
pub fn to_json(v: &Value) -> Option<Json> {
    Some(match v.unwrap_dynamic() {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Json::from(i),
            None => serde_json::Number::from_f64(n.as_f64()?).map_or(Json::Null, Json::Number),
        },
        Value::List(items) | Value::Set(items) => {
            Json::Array(items.iter().map(to_json).collect::<Option<_>>()?)
        }
        Value::Object(m) | Value::Map(m) => Json::Object(
            m.iter()
                .map(|(k, v)| Some((k.clone(), to_json(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// The typed value of `v`, unknown while any part of it is (or when it does not
/// fit, which the schema's types prevent).
fn typed<T: for<'de> Deserialize<'de>>(v: &Value) -> Knowable<T> {
    match to_json(v).and_then(|j| serde_json::from_value(j).ok()) {
        Some(t) => Knowable::Known(t),
        None => Knowable::Unknown,
    }
}

impl ObservabilityConfig {
    /// The configuration `config` stands for, with what is wrong with its words.
    pub fn from_config(config: &Value) -> (Self, Diagnostics) {
        let block = schema().block;
        let mut r = Reader::default();
        let top = classify(config);
        let profile_word = optional_text(config.get_attr("profile"));
        let effective = with_defaults(&block.attributes, config, &profile_word);
        let declared = Declared::new(&block, profile_word.clone());
        let profile = read_profile(&mut r, &profile_word);
        let delivery_names: Vec<&str> = Delivery::ALL.iter().map(|d| d.as_str()).collect();
        let delivery = r
            .word(
                sub(top, "delivery"),
                paved_value::Path::root().attr("delivery"),
                "delivery",
                Delivery::parse,
                &delivery_names,
            )
            .unwrap_or(Knowable::Known(Delivery::Direct));
        let mode = r
            .word(
                sub(top, "mode"),
                paved_value::Path::root().attr("mode"),
                "mode",
                ModeWord::parse,
                MODES,
            )
            .unwrap_or(Knowable::Known(ModeWord::SelfHosted));
        let get = |name: &str| effective.get_attr(name).cloned().unwrap_or(Value::Null);
        let settings_value = Value::Object(
            [
                "namespace",
                "storage_class",
                "metrics",
                "alerting",
                "logs",
                "traces",
                "grafana",
                "autoscaling_metrics",
            ]
            .into_iter()
            .map(|n| (n.to_owned(), get(n)))
            .collect(),
        );
        let cluster = match classify(&get("cluster")) {
            Slot::Known(v) => typed(v),
            _ => Knowable::Unknown,
        };
        let timeouts = read_timeouts(&mut r, top, &declared);
        let spec = ObservabilityConfig {
            name: typed(&get("name")),
            profile,
            cluster,
            delivery,
            gitops_path: optional_text(config.get_attr("gitops_path")),
            api: match classify(&get("kubernetes_api")) {
                Slot::Null => Knowable::Known(ApiRoute::default()),
                Slot::Unknown => Knowable::Unknown,
                Slot::Known(v) => typed(v),
            },
            mode,
            settings: typed(&settings_value),
            force_destroy: typed(&get("force_destroy")),
            deletion_protection: typed(&get("deletion_protection")),
            tags: match classify(&get("tags")) {
                Slot::Null => Knowable::Known(BTreeMap::new()),
                _ => typed(&get("tags")),
            },
            timeouts,
            effective,
        };
        (spec, r.diags)
    }

    /// The configuration a state stands for (every attribute the user can write
    /// is in the state with its effective value).
    pub fn from_state(state: &Value) -> Self {
        Self::from_config(state).0
    }
}

/// What the stack of `cfg` costs money for, in the port's terms; `None` while a
/// setting that decides it is unknown.
pub fn cost_shape(cfg: &ObservabilityConfig) -> Option<ObservabilityShape> {
    let (Knowable::Known(settings), Knowable::Known(mode)) = (&cfg.settings, &cfg.mode) else {
        return None;
    };
    let store = |s: &Store| {
        s.enabled.then_some(StoreShape {
            retention_days: s.retention_days,
            volume_gb: s.volume_size_gb,
        })
    };
    let metrics = &settings.metrics;
    let managed = match mode {
        ModeWord::Managed => Some(ManagedIngestion {
            series: metrics.expected_series,
            scrape_interval_seconds: parse_duration(&metrics.scrape_interval)?
                .as_secs_f64()
                .max(1.0),
        }),
        ModeWord::SelfHosted => None,
    };
    Some(ObservabilityShape {
        metrics_replicas: metrics.replicas,
        metrics_volume_gb: metrics.volume_size_gb,
        managed,
        logs: store(&settings.logs),
        traces: store(&settings.traces),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    #[test]
    fn defaults_come_from_the_profile_and_settings_are_known() {
        let config = obj(vec![
            ("name", "obs".into()),
            ("cluster", Value::unknown()),
            ("profile", "development".into()),
        ]);
        let (spec, diags) = ObservabilityConfig::from_config(&config);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(spec.cluster, Knowable::Unknown);
        let settings = spec.settings.known().cloned().expect("settings known");
        assert_eq!(settings.metrics.replicas, 1);
        assert_eq!(settings.alerting.replicas, 1);
        assert!(!settings.traces.enabled);
        assert_eq!(settings.namespace, "observability");
        assert_eq!(spec.force_destroy, Knowable::Known(true));
    }

    #[test]
    fn an_unknown_word_is_reported() {
        let config = obj(vec![("name", "obs".into()), ("mode", "cloudy".into())]);
        let (_, diags) = ObservabilityConfig::from_config(&config);
        assert!(diags.has_errors());
    }
}
