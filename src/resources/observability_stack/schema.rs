//! The `paved_observability_stack` schema: what the user writes and what the plan
//! shows. Every defaulted attribute is optional and computed and declares its
//! default (the profile's value, or a fixed one): the plan shows the effective
//! value and the docs say where it comes from.

use paved_value::{Type, Value};

use crate::delivery::Delivery;
use crate::profiles;
use crate::schema::{Attribute, Block, Check, Nesting, Schema};
use crate::stack::cost::cost_attributes;
use crate::stack::schema::{profile_default, tags_all_attribute, timeouts_block, TimeoutDoc};

/// Default create timeout.
pub const DEFAULT_CREATE_TIMEOUT: &str = "30m";
/// Default update timeout.
pub const DEFAULT_UPDATE_TIMEOUT: &str = "30m";
/// Default delete timeout.
pub const DEFAULT_DELETE_TIMEOUT: &str = "30m";
/// The namespace when none is given.
pub const DEFAULT_NAMESPACE: &str = "observability";
/// The scrape and rule evaluation interval when none is given.
pub const DEFAULT_SCRAPE_INTERVAL: &str = "30s";
/// Loki's and Tempo's local volume when none is given, GB.
pub const DEFAULT_LOCAL_VOLUME_GB: i64 = 10;
/// The longest stack name: bucket names (`<name>-traces-<account>-<region>`) and
/// role names must fit.
pub const MAX_NAME_LEN: usize = 24;

/// Receiver kinds, as written in `alerting.receivers[*].type`.
pub const RECEIVER_TYPES: &[&str] = &["slack", "email", "webhook", "pagerduty"];
/// Modes, as written in `mode`.
pub const MODES: &[&str] = &["self_hosted", "managed"];

fn count(name: &str) -> Attribute {
    Attribute::number(name).optional_computed()
}

fn profile_count(name: &str, value: fn(&profiles::Defaults) -> u32) -> Attribute {
    count(name).default(profile_default(move |d| Value::from(i64::from(value(d)))))
}

fn metrics() -> Attribute {
    Attribute::nested(
        "metrics",
        Nesting::Single,
        vec![
            profile_count("retention_days", |d| d.prometheus_retention_days)
                .description(
                    "How long Prometheus keeps samples. Retention by size is also set, at 85% of the volume, so a \
                     full volume drops the oldest blocks instead of stopping ingestion.",
                )
                .check(Check::Range { min: 1, max: 3650, unit: " days", summary: "Retention out of range" }),
            profile_count("volume_size_gb", |d| d.prometheus_volume_gb)
                .description(
                    "Each Prometheus replica's volume. Raising it expands the claims in place (the StatefulSet \
                     is made again without restarting its pods); it cannot shrink.",
                )
                .check(Check::Range { min: 1, max: 16384, unit: " GB", summary: "Volume size out of range" }),
            Attribute::string("scrape_interval")
                .optional_computed()
                .description("How often targets are scraped and rules evaluated (`15s`, `30s`, `1m`).")
                .default_value(DEFAULT_SCRAPE_INTERVAL),
            profile_count("replicas", |d| d.prometheus_replicas)
                .description(
                    "Prometheus replicas: 2 make an HA pair scraping the same targets, each with its own \
                     `replica` label, dropped before alerting so Alertmanager deduplicates.",
                )
                .check(Check::Range { min: 1, max: 5, unit: "", summary: "Replicas out of range" }),
            Attribute::map("external_labels", Type::String)
                .optional()
                .description("Labels added to every series and alert, besides `cluster` (the cluster's name)."),
            profile_count("expected_series", |d| d.prometheus_expected_series)
                .description(
                    "The active series you expect: only for the plan's warning when the retention cannot fit \
                     the volume (about 2 bytes per sample on disk).",
                ),
        ],
    )
    .optional_computed()
    .description("Prometheus: retention, volume, scrape interval, replicas, external labels.")
    .default_doc("from the profile")
}

fn alerting() -> Attribute {
    Attribute::nested(
        "alerting",
        Nesting::Single,
        vec![
            profile_count("replicas", |d| d.alertmanager_replicas)
                .description("Alertmanager replicas, clustered (with a PodDisruptionBudget when more than one).")
                .check(Check::Range { min: 1, max: 5, unit: "", summary: "Replicas out of range" }),
            Attribute::nested(
                "receivers",
                Nesting::Map,
                vec![
                    Attribute::string("type")
                        .required()
                        .description("`slack`, `email`, `webhook` or `pagerduty`."),
                    Attribute::string("secret").required().description(
                        "A reference to the cloud's secret store holding the receiver's secret (a Secrets \
                         Manager ARN; a Secret Manager name on GCP): the Slack webhook URL, the SMTP password, the \
                         webhook URL or the PagerDuty routing key. Read at apply and written only into a \
                         Kubernetes Secret, never into the plan or the state.",
                    ),
                    Attribute::string("channel").optional().description("Slack: the channel (`#alerts`)."),
                    Attribute::string("to").optional().description("E-mail: the recipient."),
                    Attribute::string("from").optional().description("E-mail: the sender."),
                    Attribute::string("smarthost")
                        .optional()
                        .description("E-mail: the SMTP relay, `host:port`."),
                    Attribute::string("username").optional().description("E-mail: the SMTP user."),
                    Attribute::bool("send_resolved")
                        .optional_computed()
                        .description("Also notify when the alert resolves.")
                        .default_value(true),
                ],
            )
            .optional()
            .description("Receivers by name (`oncall = { type = \"pagerduty\", secret = \"arn:...\" }`)."),
            Attribute::nested(
                "routes",
                Nesting::List,
                vec![
                    Attribute::string("receiver").required().description("A receiver's name."),
                    Attribute::list("matchers", Type::String).required().description(
                        "Alertmanager matchers the alert must all match (`severity=\"critical\"`, \
                         `namespace=~\"team-.*\"`).",
                    ),
                    Attribute::bool("continue")
                        .optional_computed()
                        .description("Keep trying the later routes after this one matched.")
                        .default_value(false),
                ],
            )
            .optional()
            .description("Routes, tried in order below the default receiver."),
            Attribute::string("default_receiver").optional().description(
                "The receiver of alerts no route takes. When not set, the first receiver by name; with no \
                 receiver at all, alerts go nowhere (the plan warns).",
            ),
            Attribute::string("heartbeat_secret").optional().description(
                "A secret reference holding a heartbeat URL (a dead man's switch such as healthchecks.io): the \
                 always-firing `Watchdog` alert is sent there every minute, so an outside service notices when \
                 alerting stops.",
            ),
            Attribute::list("disabled_rules", Type::String)
                .optional()
                .description("Default alert rules turned off, by alert name."),
            Attribute::nested(
                "rule_overrides",
                Nesting::Map,
                vec![
                    Attribute::string("expr").optional().description("A replacement PromQL expression."),
                    Attribute::string("for").optional().description("A replacement `for` duration (`15m`)."),
                    Attribute::string("severity")
                        .optional()
                        .description("A replacement severity: `critical`, `warning` or `info`."),
                ],
            )
            .optional()
            .description("Default alert rules changed, by alert name."),
        ],
    )
    .optional_computed()
    .description(
        "Alertmanager, its receivers and routes, and the default alert rules (written for managed control \
         planes: no controller-manager, scheduler or etcd alerts on EKS and GKE; each with a runbook line).",
    )
    .default_doc("from the profile, no receiver")
}

fn store(
    name: &str,
    what: &str,
    retention: fn(&profiles::Defaults) -> u32,
    on: Attribute,
) -> Attribute {
    Attribute::nested(
        name,
        Nesting::Single,
        vec![
            on,
            profile_count("retention_days", retention)
                .description(format!(
                    "How long {what} are kept (the component deletes them; the bucket's lifecycle expires \
                     objects a day later)."
                ))
                .check(Check::Range { min: 1, max: 3650, unit: " days", summary: "Retention out of range" }),
            count("volume_size_gb")
                .description("The local volume (write-ahead log, cache).")
                .default_value(DEFAULT_LOCAL_VOLUME_GB)
                .check(Check::Range { min: 1, max: 1024, unit: " GB", summary: "Volume size out of range" }),
        ],
    )
    .optional_computed()
    .default_doc("from the profile")
}

fn grafana() -> Attribute {
    Attribute::nested(
        "grafana",
        Nesting::Single,
        vec![
            Attribute::map("dashboards", Type::String).optional().description(
                "Dashboards to add, by file name, as dashboard JSON (`file(\"dashboards/orders.json\")`), beside \
                 paved's own (cluster, nodes, workloads, HPA, the stack itself).",
            ),
            Attribute::string("ingress_host")
                .optional()
                .description("A host name for an Ingress in front of Grafana; none when not set."),
        ],
    )
    .optional_computed()
    .description(
        "Grafana, with datasources for Prometheus, Alertmanager, Loki and Tempo linked together (logs to \
         traces, exemplars to traces). The admin password is generated in the cluster and stays there: see \
         `grafana_admin_secret`.",
    )
    .default_doc("paved's dashboards, no Ingress")
}

fn outputs() -> Vec<Attribute> {
    let endpoint = |name: &str, text: &str| {
        Attribute::string(name)
            .computed()
            .description(text.to_owned())
    };
    vec![
        Attribute::nested(
            "endpoints",
            Nesting::Single,
            vec![
                endpoint("otlp_grpc", "OTLP over gRPC (traces), for applications' exporters."),
                endpoint("otlp_http", "OTLP over HTTP (traces)."),
                endpoint("loki_push", "Loki's push API."),
                endpoint("prometheus", "Prometheus (the agent in managed mode)."),
                endpoint("alertmanager", "Alertmanager (self-hosted mode)."),
                endpoint("grafana", "Grafana."),
            ],
        )
        .computed()
        .description("The stack's URLs inside the cluster; null for parts that are off. Known at plan."),
        Attribute::string("grafana_admin_secret").computed().description(
            "The Kubernetes Secret (`namespace/name`) holding Grafana's admin user and password, generated in \
             the cluster at the first apply (with `delivery = \"gitops\"`, create it yourself with keys \
             `admin-user` and `admin-password`).",
        ),
        Attribute::map("buckets", Type::String)
            .computed()
            .description("The buckets paved made for logs and traces, by purpose."),
        Attribute::nested(
            "inventory",
            Nesting::List,
            vec![
                Attribute::string("key").computed().description("The component's key (`bucket.logs`)."),
                Attribute::string("kind").computed().description("What it is (`bucket`, `identity`...)."),
                Attribute::string("id").computed().description("Its id in the cloud."),
            ],
        )
        .computed()
        .description("Every cloud component of the stack."),
        Attribute::list("kubernetes_objects", Type::String).computed().description(
            "The objects paved keeps in the cluster (or in `gitops_path`), in apply order: `Kind \
             namespace/name`. Known at plan. One deleted by hand leaves the list at refresh, one changed is \
             marked `(changed outside paved)`; the next apply puts it back.",
        ),
        Attribute::string("kubernetes_digest")
            .computed()
            .description("A digest of everything rendered: it changes exactly when an object does."),
        Attribute::map("kubernetes_hashes", Type::String)
            .computed()
            .description("Each object's content hash, by its `kubernetes_objects` name."),
    ]
}

/// The resource's schema.
pub fn schema() -> Schema {
    let mut block = Block::new(
        "Metrics, alerts, dashboards, logs and traces for a cluster, in one resource: Prometheus (an HA pair) \
         with Alertmanager clustered and paved's alert rules, kube-state-metrics and node-exporter, Grafana \
         with paved's dashboards, Loki single-binary with its bucket, Grafana Alloy on every node (pod logs, \
         OTLP), Tempo single-binary with its bucket. No CRDs, no admission webhooks, no Helm. Receiver secrets \
         are references, read at apply, never in the state.",
    )
    .attribute(Attribute::string("id").computed().description("The stack's name."))
    .attribute(
        Attribute::string("name")
            .required()
            .requires_replace()
            .description(format!(
                "The stack's name: lower-case letters, digits and `-`, at most {MAX_NAME_LEN} characters. It \
                 names the buckets and identities and is the `paved.dev/stack` label of every object."
            )),
    )
    .attribute(
        Attribute::nested(
            "cluster",
            Nesting::Single,
            ["platform", "name", "endpoint", "certificate_authority", "location", "account", "oidc_issuer_url", "kubernetes_version"]
                .into_iter()
                .map(|n| Attribute::string(n).optional().description(format!("The cluster's `{n}`.")))
                .collect(),
        )
        .required()
        .description(
            "The cluster the stack runs in: `paved_ha_cluster.<name>.connection`, whole. Nothing in it is \
             needed at plan time: the cluster may not exist yet.",
        ),
    )
    .attribute(
        Attribute::string("profile")
            .optional_computed()
            .description(format!(
                "The profile whose defaults apply: {}.",
                profiles::allowed_names()
            ))
            .default_value(profiles::DEFAULT_PROFILE.name()),
    )
    .attribute(
        Attribute::string("delivery")
            .optional_computed()
            .description(
                "`\"direct\"`: paved applies the objects with server-side apply, prunes and waits for them; \
                 `\"gitops\"`: paved writes them as files into `gitops_path` and never calls the cluster. The \
                 buckets and identities are made through the cloud's API either way.",
            )
            .default_value(Delivery::Direct.as_str()),
    )
    .attribute(
        Attribute::string("gitops_path")
            .optional()
            .description("The folder GitOps files are written to when `delivery = \"gitops\"`."),
    )
    .attribute(
        Attribute::nested(
            "kubernetes_api",
            Nesting::Single,
            vec![
                Attribute::string("url")
                    .optional()
                    .description("A URL reaching the API server instead of the cluster's endpoint (a tunnel)."),
                Attribute::string("proxy_url").optional().description("An HTTPS proxy to reach the API through."),
                Attribute::string("ca_certificate")
                    .optional()
                    .description("The CA (PEM) of the server at `url`, when it is not the cluster's."),
            ],
        )
        .optional()
        .description("How paved reaches a private cluster's API, as on `paved_ha_cluster`."),
    )
    .attribute(
        Attribute::string("mode")
            .optional_computed()
            .description(
                "`\"self_hosted\"`: Prometheus and Alertmanager in the cluster. `\"managed\"`: Amazon Managed \
                 Prometheus (a workspace with paved's rules; its Alertmanager sends only to SNS, so paved makes \
                 an SNS topic and subscribes the e-mail and webhook receivers), Prometheus in agent mode \
                 writing to it with workload identity. Logs and traces stay in the cluster either way.",
            )
            .default_value("self_hosted"),
    )
    .attribute(
        Attribute::string("namespace")
            .optional_computed()
            .requires_replace()
            .description("The namespace the stack runs in.")
            .default_value(DEFAULT_NAMESPACE),
    )
    .attribute(
        Attribute::string("storage_class")
            .optional()
            .description("The StorageClass of the volumes; the cluster's default when not set."),
    )
    .attribute(metrics())
    .attribute(alerting())
    .attribute(
        store(
            "logs",
            "logs",
            |d| d.loki_retention_days,
            Attribute::bool("enabled")
                .optional_computed()
                .description("Loki and the log agent on every node. Turning it off removes them.")
                .default_value(true),
        )
        .description("Loki (single binary) with a bucket paved makes (encrypted, reached through workload identity), and Grafana Alloy shipping every pod's logs."),
    )
    .attribute(
        store(
            "traces",
            "traces",
            |d| d.tempo_retention_days,
            Attribute::bool("enabled")
                .optional_computed()
                .description("Tempo and OTLP receivers (Alloy, on 4317 and 4318).")
                .default(profile_default(|d| Value::from(d.traces_enabled))),
        )
        .description("Tempo (single binary) with a bucket paved makes; applications send OTLP to `endpoints.otlp_grpc`."),
    )
    .attribute(grafana())
    .attribute(
        Attribute::nested(
            "autoscaling_metrics",
            Nesting::Single,
            vec![Attribute::bool("custom_metrics_adapter")
                .optional_computed()
                .description(
                    "Serve `custom.metrics.k8s.io` from Prometheus (prometheus-adapter) for \
                     HorizontalPodAutoscalers on custom metrics. CPU and memory metrics are metrics-server's, \
                     which the cluster runs.",
                )
                .default_value(false)],
        )
        .optional_computed()
        .description("Metrics for autoscaling beyond CPU and memory.")
        .default_doc("no custom-metrics adapter"),
    )
    .attribute(
        Attribute::bool("force_destroy")
            .optional_computed()
            .description(
                "On destroy, delete the logs and traces buckets with what they hold. When false, a bucket that \
                 holds data is refused (and kept) with what to do.",
            )
            .default(profile_default(|d| Value::from(d.observability_force_destroy))),
    )
    .attribute(
        Attribute::bool("deletion_protection")
            .optional_computed()
            .description("Refuse to destroy or replace the stack, at plan time and at apply time.")
            .default(profile_default(|d| Value::from(d.deletion_protection))),
    )
    .attribute(
        Attribute::map("tags", Type::String)
            .optional()
            .description("Tags added to every cloud component, besides the provider's default tags."),
    )
    .attribute(tags_all_attribute())
    .attributes(cost_attributes());
    for output in outputs() {
        block = block.attribute(output);
    }
    Schema::new(block.block(timeouts_block(
        DEFAULT_CREATE_TIMEOUT,
        TimeoutDoc {
            default: DEFAULT_UPDATE_TIMEOUT,
            description: "Update timeout (a rollout waits for every workload to be ready).",
        },
        TimeoutDoc {
            default: DEFAULT_DELETE_TIMEOUT,
            description: "Delete timeout.",
        },
    )))
}

/// The receiver types as the docs and errors list them.
pub fn receiver_types() -> String {
    RECEIVER_TYPES
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
