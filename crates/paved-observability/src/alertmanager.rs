//! Alertmanager (self-hosted mode): replicas clustered through their gossip port
//! so each alert is sent once, its configuration in a Secret (the receivers' URLs,
//! keys and passwords are put in at apply time; rendered, they are placeholders),
//! and the routing tree built from the spec.
//!
//! The always-firing `Watchdog` alert takes the first route: to the heartbeat
//! receiver every minute when the spec asks for a heartbeat, otherwise to a
//! receiver with no integrations, so it never pages anyone.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec, StatefulSetUpdateStrategy};
use k8s_openapi::api::core::v1::{
    Container, PodSpec, PodTemplateSpec, Secret, SecretVolumeSource, Volume,
};
use k8s_openapi::ByteString;
use paved_manifests::{Manifest, Problem, RenderError};
use serde::Serialize;

use crate::endpoints::{ALERTMANAGER_PORT, ALERTMANAGER_SERVICE};
use crate::labels::{object_meta, Component};
use crate::promql::check_matcher;
use crate::spec::{
    secret_placeholder, ObservabilitySpec, ReceiverKind, ReceiverSpec, HEARTBEAT_SECRET,
};
use crate::workload::{
    config_hash, container_port, disruption_budget, empty_dir, field_env, gomaxprocs_env,
    host_anti_affinity, http_probe, mount, pod_meta, pod_security, resources, restricted_container,
    selector, service, service_account, service_port, zone_spread, CONFIG_HASH_ANNOTATION,
    GENERATED_HEADER, NOBODY,
};

/// The Alertmanager image.
pub const ALERTMANAGER_IMAGE: &str = "quay.io/prometheus/alertmanager:v0.27.0";
/// The StatefulSet, its ServiceAccount and its pods' prefix.
pub const NAME: &str = "alertmanager";
/// The headless Service the replicas find each other through.
pub const CLUSTER_SERVICE: &str = "alertmanager-cluster";
/// The gossip port (TCP and UDP).
pub const CLUSTER_PORT: u16 = 9094;
/// The Secret holding the configuration.
pub const CONFIG_SECRET: &str = "alertmanager-config";
/// The configuration file's name in [`CONFIG_SECRET`].
pub const CONFIG_FILE: &str = "alertmanager.yml";
/// Where the configuration is mounted.
pub const CONFIG_DIR: &str = "/etc/alertmanager";
/// Where silences and the notification log are kept (an emptyDir: the peers
/// hand them to a restarted replica).
pub const DATA_DIR: &str = "/alertmanager";
/// The receiver with no integrations: alerts routed to it go nowhere.
pub const NONE_RECEIVER: &str = "none";
/// The receiver of the heartbeat webhook.
pub const HEARTBEAT_RECEIVER: &str = "heartbeat";
/// The always-firing alert of the `paved.watchdog` group.
pub const WATCHDOG_ALERT: &str = "Watchdog";
/// Receiver names paved uses itself.
pub const RESERVED_RECEIVERS: [&str; 2] = [NONE_RECEIVER, HEARTBEAT_RECEIVER];
/// Labels alerts are grouped by into one notification.
pub const GROUP_BY: [&str; 3] = ["alertname", "cluster", "namespace"];
/// Wait before the first notification of a new group (to gather its alerts).
pub const GROUP_WAIT: &str = "30s";
/// Wait before notifying about alerts added to a group already notified.
pub const GROUP_INTERVAL: &str = "5m";
/// Wait before repeating a notification that is still firing.
pub const REPEAT_INTERVAL: &str = "4h";
/// How often the heartbeat is sent.
pub const HEARTBEAT_INTERVAL: &str = "1m";

/// The whole file.
#[derive(Debug, Serialize)]
struct AlertmanagerFile {
    global: Global,
    route: Route,
    inhibit_rules: Vec<InhibitRule>,
    receivers: Vec<Receiver>,
}

#[derive(Debug, Serialize)]
struct Global {
    resolve_timeout: &'static str,
}

#[derive(Debug, Serialize)]
struct Route {
    receiver: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    group_by: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    matchers: Vec<String>,
    #[serde(rename = "continue", skip_serializing_if = "std::ops::Not::not")]
    continue_matching: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_wait: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_interval: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    repeat_interval: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<Route>,
}

impl Route {
    fn child(receiver: &str, matchers: Vec<String>, continue_matching: bool) -> Route {
        Route {
            receiver: receiver.to_string(),
            group_by: Vec::new(),
            matchers,
            continue_matching,
            group_wait: None,
            group_interval: None,
            repeat_interval: None,
            routes: Vec::new(),
        }
    }
}

#[derive(Debug, Serialize)]
struct InhibitRule {
    source_matchers: Vec<&'static str>,
    target_matchers: Vec<&'static str>,
    equal: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct Receiver {
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    slack_configs: Vec<SlackConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    email_configs: Vec<EmailConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    webhook_configs: Vec<WebhookConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pagerduty_configs: Vec<PagerDutyConfig>,
}

impl Receiver {
    fn empty(name: &str) -> Receiver {
        Receiver {
            name: name.to_string(),
            slack_configs: Vec::new(),
            email_configs: Vec::new(),
            webhook_configs: Vec::new(),
            pagerduty_configs: Vec::new(),
        }
    }
}

#[derive(Debug, Serialize)]
struct SlackConfig {
    send_resolved: bool,
    api_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
}

#[derive(Debug, Serialize)]
struct EmailConfig {
    send_resolved: bool,
    to: String,
    from: String,
    smarthost: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_username: Option<String>,
    auth_password: String,
    require_tls: bool,
}

#[derive(Debug, Serialize)]
struct WebhookConfig {
    send_resolved: bool,
    url: String,
}

#[derive(Debug, Serialize)]
struct PagerDutyConfig {
    send_resolved: bool,
    routing_key: String,
}

fn receiver(spec: &ReceiverSpec) -> Receiver {
    let secret = secret_placeholder(&spec.name);
    let send_resolved = spec.send_resolved;
    let mut out = Receiver::empty(&spec.name);
    match &spec.kind {
        ReceiverKind::Slack { channel } => out.slack_configs.push(SlackConfig {
            send_resolved,
            api_url: secret,
            channel: (!channel.is_empty()).then(|| channel.clone()),
        }),
        ReceiverKind::Email {
            to,
            from,
            smarthost,
            username,
        } => out.email_configs.push(EmailConfig {
            send_resolved,
            to: to.clone(),
            from: from.clone(),
            smarthost: smarthost.clone(),
            auth_username: (!username.is_empty()).then(|| username.clone()),
            auth_password: secret,
            require_tls: true,
        }),
        ReceiverKind::Webhook => out.webhook_configs.push(WebhookConfig {
            send_resolved,
            url: secret,
        }),
        ReceiverKind::PagerDuty => out.pagerduty_configs.push(PagerDutyConfig {
            send_resolved,
            routing_key: secret,
        }),
    }
    out
}

fn alertmanager_file(spec: &ObservabilitySpec) -> AlertmanagerFile {
    let alerting = &spec.alerting;
    let watchdog_matchers = vec![format!("alertname=\"{WATCHDOG_ALERT}\"")];
    let watchdog = if alerting.heartbeat {
        Route {
            group_wait: Some("0s"),
            group_interval: Some(HEARTBEAT_INTERVAL),
            repeat_interval: Some(HEARTBEAT_INTERVAL),
            ..Route::child(HEARTBEAT_RECEIVER, watchdog_matchers, false)
        }
    } else {
        Route::child(NONE_RECEIVER, watchdog_matchers, false)
    };
    let mut routes = vec![watchdog];
    routes.extend(
        alerting
            .routes
            .iter()
            .map(|r| Route::child(&r.receiver, r.matchers.clone(), r.continue_matching)),
    );

    let mut receivers = vec![Receiver::empty(NONE_RECEIVER)];
    if alerting.heartbeat {
        let mut heartbeat = Receiver::empty(HEARTBEAT_RECEIVER);
        heartbeat.webhook_configs.push(WebhookConfig {
            send_resolved: false,
            url: secret_placeholder(HEARTBEAT_SECRET),
        });
        receivers.push(heartbeat);
    }
    receivers.extend(alerting.receivers.iter().map(receiver));

    AlertmanagerFile {
        global: Global {
            resolve_timeout: "5m",
        },
        route: Route {
            group_by: GROUP_BY.to_vec(),
            group_wait: Some(GROUP_WAIT),
            group_interval: Some(GROUP_INTERVAL),
            repeat_interval: Some(REPEAT_INTERVAL),
            routes,
            ..Route::child(
                alerting
                    .default_receiver
                    .as_deref()
                    .unwrap_or(NONE_RECEIVER),
                Vec::new(),
                false,
            )
        },
        // A critical alert silences the warning of the same name and place.
        inhibit_rules: vec![InhibitRule {
            source_matchers: vec!["severity=\"critical\""],
            target_matchers: vec!["severity=\"warning\""],
            equal: GROUP_BY.to_vec(),
        }],
        receivers,
    }
}

/// Alertmanager's configuration file (`alertmanager.yml`), secrets as placeholders.
pub fn alertmanager_config(spec: &ObservabilitySpec) -> Result<String, RenderError> {
    let text =
        yaml_serde::to_string(&alertmanager_file(spec)).map_err(|source| RenderError::Yaml {
            what: CONFIG_FILE.to_string(),
            source,
        })?;
    Ok(format!("{GENERATED_HEADER}{text}"))
}

/// The peers each replica joins: every replica's stable DNS name.
pub(crate) fn peers(spec: &ObservabilitySpec) -> Vec<String> {
    (0..spec.alerting.replicas)
        .map(|i| {
            format!(
                "{NAME}-{i}.{CLUSTER_SERVICE}.{}.svc:{CLUSTER_PORT}",
                spec.namespace
            )
        })
        .collect()
}

/// The command-line arguments.
pub(crate) fn args(spec: &ObservabilitySpec) -> Vec<String> {
    let mut args = vec![
        format!("--config.file={CONFIG_DIR}/{CONFIG_FILE}"),
        format!("--storage.path={DATA_DIR}"),
        format!("--web.listen-address=:{ALERTMANAGER_PORT}"),
    ];
    if spec.alerting.replicas > 1 {
        args.push(format!("--cluster.listen-address=0.0.0.0:{CLUSTER_PORT}"));
        // The pod's IP, not a guess among its interfaces.
        args.push(format!(
            "--cluster.advertise-address=$(POD_IP):{CLUSTER_PORT}"
        ));
        args.extend(
            peers(spec)
                .into_iter()
                .map(|p| format!("--cluster.peer={p}")),
        );
    } else {
        // Alone: no gossip listener (and no warnings about missing peers).
        args.push("--cluster.listen-address=".to_string());
    }
    args
}

fn stateful_set(spec: &ObservabilitySpec, hash: &str) -> StatefulSet {
    let component = Component::Alertmanager;
    let container = Container {
        name: NAME.to_string(),
        image: Some(ALERTMANAGER_IMAGE.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        args: Some(args(spec)),
        env: Some(vec![field_env("POD_IP", "status.podIP"), gomaxprocs_env()]),
        ports: Some(vec![
            container_port("http", ALERTMANAGER_PORT, "TCP"),
            container_port("gossip-tcp", CLUSTER_PORT, "TCP"),
            container_port("gossip-udp", CLUSTER_PORT, "UDP"),
        ]),
        resources: Some(resources("50m", "128Mi", "500m", "256Mi")),
        readiness_probe: Some(http_probe("/-/ready", "http", 10, 3)),
        liveness_probe: Some(http_probe("/-/healthy", "http", 15, 6)),
        security_context: Some(restricted_container(NOBODY)),
        volume_mounts: Some(vec![
            mount("config", CONFIG_DIR, true),
            mount("data", DATA_DIR, false),
        ]),
        ..Container::default()
    };
    let volumes = vec![
        Volume {
            name: "config".to_string(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(CONFIG_SECRET.to_string()),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        },
        empty_dir("data", "1Gi"),
    ];
    let annotations = BTreeMap::from([(CONFIG_HASH_ANNOTATION.to_string(), hash.to_string())]);
    StatefulSet {
        metadata: object_meta(spec, component, NAME, true),
        spec: Some(StatefulSetSpec {
            replicas: Some(i32::try_from(spec.alerting.replicas).unwrap_or(i32::MAX)),
            service_name: Some(CLUSTER_SERVICE.to_string()),
            pod_management_policy: Some("Parallel".to_string()),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".to_string()),
                ..StatefulSetUpdateStrategy::default()
            }),
            selector: selector(component),
            template: PodTemplateSpec {
                metadata: Some(pod_meta(spec, component, annotations)),
                spec: Some(PodSpec {
                    service_account_name: Some(NAME.to_string()),
                    // Alertmanager never calls the Kubernetes API.
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security(NOBODY, NOBODY)),
                    containers: vec![container],
                    volumes: Some(volumes),
                    topology_spread_constraints: Some(zone_spread(component)),
                    affinity: Some(host_anti_affinity(component)),
                    ..PodSpec::default()
                }),
            },
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

/// The objects of this component.
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let component = Component::Alertmanager;
    let config = alertmanager_config(spec)?;
    let hash = config_hash(&[(CONFIG_FILE, &config)]);
    let secret = Secret {
        metadata: object_meta(spec, component, CONFIG_SECRET, true),
        type_: Some("Opaque".to_string()),
        data: Some(BTreeMap::from([(
            CONFIG_FILE.to_string(),
            ByteString(config.into_bytes()),
        )])),
        ..Secret::default()
    };
    let mut objects = vec![
        Manifest::from_object(&service_account(spec, component, NAME, None, false))?,
        Manifest::from_object(&secret)?,
        Manifest::from_object(&service(
            spec,
            component,
            CLUSTER_SERVICE,
            vec![
                service_port("gossip-tcp", CLUSTER_PORT, "TCP"),
                service_port("gossip-udp", CLUSTER_PORT, "UDP"),
            ],
            true,
        ))?,
        Manifest::from_object(&service(
            spec,
            component,
            ALERTMANAGER_SERVICE,
            vec![service_port("http", ALERTMANAGER_PORT, "TCP")],
            false,
        ))?,
        Manifest::from_object(&stateful_set(spec, &hash))?,
    ];
    if spec.alerting.replicas > 1 {
        objects.push(Manifest::from_object(&disruption_budget(
            spec, component, NAME,
        ))?);
    }
    Ok(objects)
}

/// Whether `name` may name a receiver (and a secret, and a URL path segment).
fn valid_receiver_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Problems of the spec this component finds: replicas, receivers (names, their
/// e-mail settings), routes (receivers that exist, matchers that parse) and the
/// default receiver.
pub(crate) fn problems(spec: &ObservabilitySpec) -> Vec<Problem> {
    let alerting = &spec.alerting;
    let mut out = Vec::new();
    if alerting.replicas < 1 {
        out.push(Problem::new(
            "alerting.replicas",
            "Alertmanager needs at least 1 replica (3 make a cluster that survives a zone)",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, r) in alerting.receivers.iter().enumerate() {
        let path = format!("alerting.receivers[{i}].name");
        if !valid_receiver_name(&r.name) {
            out.push(Problem::new(
                &path,
                format!(
                    "{:?} is not a valid receiver name: use lower-case letters, digits, '-' and \
                     '_' (at most 63)",
                    r.name
                ),
            ));
        } else if RESERVED_RECEIVERS.contains(&r.name.as_str()) {
            out.push(Problem::new(
                &path,
                format!(
                    "{:?} is reserved: paved renders receivers named {} itself",
                    r.name,
                    RESERVED_RECEIVERS.join(" and ")
                ),
            ));
        }
        if !seen.insert(r.name.as_str()) {
            out.push(Problem::new(
                &path,
                format!(
                    "receiver {:?} is defined twice; names must be unique",
                    r.name
                ),
            ));
        }
        if let ReceiverKind::Email {
            to,
            from,
            smarthost,
            ..
        } = &r.kind
        {
            for (field, value) in [("to", to), ("from", from)] {
                if !value.contains('@') {
                    out.push(Problem::new(
                        format!("alerting.receivers[{i}].{field}"),
                        format!("{value:?} is not an e-mail address"),
                    ));
                }
            }
            let port_ok = smarthost
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !port_ok {
                out.push(Problem::new(
                    format!("alerting.receivers[{i}].smarthost"),
                    format!("{smarthost:?} is not host:port (smtp.example.com:587)"),
                ));
            }
        }
    }
    let known = || {
        if alerting.receivers.is_empty() {
            "none are defined".to_string()
        } else {
            format!(
                "known: {}",
                alerting
                    .receivers
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    for (i, route) in alerting.routes.iter().enumerate() {
        if !seen.contains(route.receiver.as_str()) {
            out.push(Problem::new(
                format!("alerting.routes[{i}].receiver"),
                format!(
                    "unknown receiver {} in alerting.routes[{i}].receiver; {}",
                    route.receiver,
                    known()
                ),
            ));
        }
        for (j, matcher) in route.matchers.iter().enumerate() {
            if let Err(why) = check_matcher(matcher) {
                out.push(Problem::new(
                    format!("alerting.routes[{i}].matchers[{j}]"),
                    why,
                ));
            }
        }
    }
    if let Some(default) = &alerting.default_receiver {
        if !seen.contains(default.as_str()) {
            out.push(Problem::new(
                "alerting.default_receiver",
                format!(
                    "unknown receiver {default} in alerting.default_receiver; {}",
                    known()
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::metrics::{eks, minimal, production};
    use crate::spec::RouteSpec;

    fn paths(problems: &[Problem]) -> Vec<String> {
        problems.iter().map(|p| p.path.clone()).collect()
    }

    #[test]
    fn production_config_routes_watchdog_first_and_uses_placeholders() {
        let spec = production(eks());
        let text = alertmanager_config(&spec).unwrap();
        let value: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
        let route = &value["route"];
        assert_eq!(route["receiver"], "slack-ops");
        assert_eq!(route["routes"][0]["receiver"], HEARTBEAT_RECEIVER);
        assert_eq!(route["routes"][0]["matchers"][0], "alertname=\"Watchdog\"");
        assert_eq!(route["routes"][0]["repeat_interval"], "1m");
        assert_eq!(route["routes"][1]["receiver"], "pager");
        assert_eq!(route["routes"][1]["continue"], true);
        assert!(route["routes"][2].get("continue").is_none());
        for name in ["pager", "slack-ops", "mail", "hook", HEARTBEAT_SECRET] {
            assert!(text.contains(&secret_placeholder(name)), "{name}");
        }
        assert!(text.contains("require_tls: true"));
        assert!(text.starts_with(GENERATED_HEADER));
    }

    #[test]
    fn minimal_config_sends_everything_nowhere_but_is_complete() {
        let text = alertmanager_config(&minimal(eks())).unwrap();
        let value: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
        assert_eq!(value["route"]["receiver"], NONE_RECEIVER);
        assert_eq!(value["route"]["routes"][0]["receiver"], NONE_RECEIVER);
        assert_eq!(value["receivers"].as_sequence().unwrap().len(), 1);
    }

    #[test]
    fn replicas_peer_through_the_headless_service() {
        let spec = production(eks());
        let args = args(&spec);
        assert!(args.contains(
            &"--cluster.peer=alertmanager-2.alertmanager-cluster.observability.svc:9094"
                .to_string()
        ));
        assert_eq!(
            args.iter()
                .filter(|a| a.starts_with("--cluster.peer="))
                .count(),
            3
        );
        let single = args_of_one();
        assert!(single.contains(&"--cluster.listen-address=".to_string()));
        assert!(!single.iter().any(|a| a.starts_with("--cluster.peer")));
    }

    fn args_of_one() -> Vec<String> {
        args(&minimal(eks()))
    }

    #[test]
    fn objects_hold_the_config_in_a_secret_and_hash_it() {
        let spec = production(eks());
        let rendered = objects(&spec).unwrap();
        let kinds: Vec<_> = rendered.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "ServiceAccount",
                "Secret",
                "Service",
                "Service",
                "StatefulSet",
                "PodDisruptionBudget"
            ]
        );
        let secret = &rendered[1];
        assert!(secret.body["data"][CONFIG_FILE].is_string());
        assert!(secret.body.get("stringData").is_none());
        let sts = &rendered[4];
        let hash = &sts.body["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH_ANNOTATION];
        let config = alertmanager_config(&spec).unwrap();
        assert_eq!(hash, &config_hash(&[(CONFIG_FILE, &config)]));
        assert_eq!(sts.body["spec"]["replicas"], 3);
        let gossip = &rendered[2];
        assert_eq!(gossip.body["spec"]["clusterIP"], "None");
        assert_eq!(gossip.body["spec"]["publishNotReadyAddresses"], true);
        assert_eq!(objects(&minimal(eks())).unwrap().len(), 5);
    }

    #[test]
    fn valid_specs_have_no_problems() {
        assert_eq!(problems(&production(eks())), vec![]);
        assert_eq!(problems(&minimal(eks())), vec![]);
    }

    #[test]
    fn receivers_routes_and_default_are_checked() {
        let mut spec = production(eks());
        spec.alerting.replicas = 0;
        spec.alerting.receivers[1].name = "Slack Ops".into();
        spec.alerting.receivers[2].name = "pager".into();
        spec.alerting.receivers[3].name = NONE_RECEIVER.into();
        spec.alerting.routes.push(RouteSpec {
            receiver: "nobody".into(),
            matchers: vec!["severity=\"critical\"".into(), "team=~\"(\"".into()],
            continue_matching: false,
        });
        spec.alerting.default_receiver = Some("slack-ops".into());
        let found = problems(&spec);
        assert_eq!(
            paths(&found),
            [
                "alerting.replicas",
                "alerting.receivers[1].name",
                "alerting.receivers[2].name",
                "alerting.receivers[3].name",
                "alerting.routes[1].receiver",
                "alerting.routes[2].receiver",
                "alerting.routes[3].receiver",
                "alerting.routes[3].matchers[1]",
                "alerting.default_receiver",
            ]
        );
        let unknown = &found[6];
        assert_eq!(
            unknown.message,
            "unknown receiver nobody in alerting.routes[3].receiver; known: pager, Slack Ops, pager, none"
        );
    }

    #[test]
    fn email_settings_are_checked() {
        let mut spec = production(eks());
        spec.alerting.receivers[2].kind = ReceiverKind::Email {
            to: "ops".into(),
            from: "am@example.com".into(),
            smarthost: "smtp.example.com".into(),
            username: String::new(),
        };
        assert_eq!(
            paths(&problems(&spec)),
            [
                "alerting.receivers[2].to",
                "alerting.receivers[2].smarthost"
            ]
        );
    }
}
