//! What the `promtool_*` and `amtool_*` tests share: the specs they render (each
//! platform, a production-like and a minimal spec, self-hosted and managed) and
//! running a real binary, which must be installed when `PAVED_REQUIRE_TOOLS=1`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use paved_observability::{
    AlertingSpec, GrafanaSpec, ManagedSpec, MetricsSpec, Mode, ObservabilitySpec, Platform,
    ReceiverKind, ReceiverSpec, RouteSpec, RuleOverride,
};

pub fn eks() -> Platform {
    Platform::Eks {
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
    }
}

pub fn gke() -> Platform {
    Platform::Gke {
        project: "shop-prod".into(),
        location: "europe-west1".into(),
    }
}

pub fn platforms() -> [(&'static str, Platform); 2] {
    [("eks", eks()), ("gke", gke())]
}

/// Production-like: an HA pair, three Alertmanagers, a receiver of each kind,
/// routes with `continue`, the heartbeat.
pub fn production(platform: Platform) -> ObservabilitySpec {
    let receiver = |name: &str, kind: ReceiverKind| ReceiverSpec {
        name: name.into(),
        kind,
        send_resolved: true,
    };
    ObservabilitySpec {
        platform,
        cluster_name: "shop".into(),
        stack_name: "shop-observability".into(),
        kubernetes_minor: (1, 31),
        profile_name: "production".into(),
        namespace: "observability".into(),
        storage_class: Some("standard-rwo".into()),
        mode: Mode::SelfHosted,
        metrics: MetricsSpec {
            replicas: 2,
            retention_days: 30,
            volume_gib: 200,
            scrape_interval_seconds: 30,
            external_labels: BTreeMap::from([
                ("environment".into(), "production".into()),
                ("cost_center".into(), "a$b".into()),
            ]),
        },
        alerting: AlertingSpec {
            replicas: 3,
            receivers: vec![
                receiver("pager", ReceiverKind::PagerDuty),
                receiver(
                    "slack-ops",
                    ReceiverKind::Slack {
                        channel: "#ops-alerts".into(),
                    },
                ),
                receiver(
                    "mail",
                    ReceiverKind::Email {
                        to: "team-a@example.com".into(),
                        from: "alertmanager@example.com".into(),
                        smarthost: "smtp.example.com:587".into(),
                        username: "alertmanager".into(),
                    },
                ),
                receiver("hook", ReceiverKind::Webhook),
            ],
            routes: vec![
                RouteSpec {
                    receiver: "pager".into(),
                    matchers: vec![r#"severity="critical""#.into()],
                    continue_matching: true,
                },
                RouteSpec {
                    receiver: "mail".into(),
                    matchers: vec![
                        r#"severity=~"warning|critical""#.into(),
                        "namespace=~team-.*".into(),
                    ],
                    continue_matching: false,
                },
                RouteSpec {
                    receiver: "hook".into(),
                    matchers: vec![r#"severity = "info""#.into()],
                    continue_matching: false,
                },
            ],
            default_receiver: Some("slack-ops".into()),
            heartbeat: true,
            disabled_rules: BTreeSet::new(),
            rule_overrides: BTreeMap::new(),
        },
        logs: None,
        traces: None,
        grafana: GrafanaSpec {
            replicas: 2,
            dashboards: BTreeMap::new(),
            ingress_host: None,
            admin_secret: "grafana-admin".into(),
        },
        custom_metrics_adapter: false,
    }
}

/// The smallest: one replica each, no receiver, no route, no heartbeat.
pub fn minimal(platform: Platform) -> ObservabilitySpec {
    let mut spec = production(platform);
    spec.profile_name = "development".into();
    spec.storage_class = None;
    spec.metrics = MetricsSpec {
        replicas: 1,
        retention_days: 1,
        volume_gib: 1,
        scrape_interval_seconds: 5,
        external_labels: BTreeMap::new(),
    };
    spec.alerting = AlertingSpec {
        replicas: 1,
        receivers: Vec::new(),
        routes: Vec::new(),
        default_receiver: None,
        heartbeat: false,
        disabled_rules: BTreeSet::new(),
        rule_overrides: BTreeMap::new(),
    };
    spec
}

/// Production with rule changes: some disabled, some overridden.
pub fn customised(platform: Platform) -> ObservabilitySpec {
    let mut spec = production(platform);
    spec.alerting.disabled_rules =
        BTreeSet::from(["NodeClockSkew".to_string(), "JobRunningTooLong".to_string()]);
    spec.alerting.rule_overrides = BTreeMap::from([
        (
            "PodCrashLooping".to_string(),
            RuleOverride {
                expr: Some(
                    r#"max by (cluster, namespace, pod) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff",namespace!~"sandbox-.*"}) >= 1"#
                        .into(),
                ),
                for_duration: Some("30m".into()),
                severity: Some("critical".into()),
            },
        ),
        (
            "TargetDown".to_string(),
            RuleOverride {
                for_duration: Some("1h30m".into()),
                ..RuleOverride::default()
            },
        ),
    ]);
    spec
}

/// The production spec writing to the cloud's managed Prometheus.
pub fn managed(platform: Platform) -> ObservabilitySpec {
    let mut spec = production(platform.clone());
    spec.mode = Mode::Managed(match platform {
        Platform::Eks { .. } => ManagedSpec {
            remote_write_url:
                "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
                    .into(),
            query_url: "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1".into(),
            identity: "arn:aws:iam::123456789012:role/shop-prometheus".into(),
        },
        Platform::Gke { .. } => ManagedSpec {
            remote_write_url: "https://monitoring.googleapis.com/v1/projects/shop-prod/location/global/prometheus/api/v1/write".into(),
            query_url: "https://monitoring.googleapis.com/v1/projects/shop-prod/location/global/prometheus".into(),
            identity: "prometheus@shop-prod.iam.gserviceaccount.com".into(),
        },
    });
    spec
}

/// Whether the binary `name` can be run. When it cannot, the test fails if
/// `PAVED_REQUIRE_TOOLS=1` (CI), and otherwise says it is skipped.
pub fn tool_available(name: &str) -> bool {
    let runs = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if runs {
        return true;
    }
    if std::env::var("PAVED_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!(
            "{name} is required (PAVED_REQUIRE_TOOLS=1) but not installed: \
             apt-get install -y prometheus prometheus-alertmanager"
        );
    }
    println!("skipped: {name} not installed");
    false
}

/// Runs `name args` in `dir`; its standard output, or a panic with everything
/// it printed and the files it was given.
pub fn run(dir: &Path, name: &str, args: &[&str]) -> String {
    let output = Command::new(name)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("could not run {name}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut files = String::new();
        for arg in args {
            let path = dir.join(arg);
            if let Ok(text) = std::fs::read_to_string(&path) {
                let numbered: Vec<String> = text
                    .lines()
                    .enumerate()
                    .map(|(i, l)| format!("{:4} {l}", i + 1))
                    .collect();
                files.push_str(&format!("--- {arg}\n{}\n", numbered.join("\n")));
            }
        }
        panic!(
            "`{name} {}` failed ({}):\n{stdout}\n{stderr}\n{files}",
            args.join(" "),
            output.status
        );
    }
    stdout
}
