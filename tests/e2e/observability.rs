//! `paved_observability_stack` end to end: real Terraform 1.15.5 applies a
//! production `paved_ha_cluster` and an observability stack on it, wired through
//! the cluster's `connection` output, against moto (buckets, roles, secrets) and
//! the Kubernetes stand-in (the objects). The receivers' secrets live in Secrets
//! Manager: they reach the cluster's Secret and never the plan, the state or the
//! logs.

use base64::Engine as _;
use paved_testbed::kube::{KubeFake, KubeFakeConfig, KubeFakeHandle, Propagation};
use paved_testbed::FaultConfig;

use crate::support::aws::{block_on, moto_config};
use crate::support::{bed, hcl_string, output_value, string_list, TERRAFORM};

/// The webhook URL kept in Secrets Manager: it must never leave the cluster.
const ONCALL_URL: &str = "https://hooks.example.com/oncall/T0P-S3CRET-9f8e7d";
const SLACK_URL: &str = "https://hooks.slack.com/services/T000/B000/SL4CK-S3CRET";

fn api_block(fake: &KubeFakeHandle) -> String {
    format!(
        "kubernetes_api = {{\n    url            = {}\n    ca_certificate = {}\n  }}",
        hcl_string(&fake.url()),
        hcl_string(fake.ca_pem())
    )
}

/// The configuration: `obs` is the body of the observability stack's settings.
fn config(api: &str, obs: &str) -> String {
    format!(
        r#"{TERRAFORM}
provider "paved" {{}}

resource "paved_ha_cluster" "prod" {{
  name                = "shop"
  profile             = "production"
  kubernetes_version  = "1.31"
  deletion_protection = false
  {api}
}}

resource "paved_observability_stack" "obs" {{
  name                = "shop-obs"
  cluster             = paved_ha_cluster.prod.connection
  profile             = "production"
  deletion_protection = false
  {api}
{obs}
}}

output "objects" {{
  value = paved_observability_stack.obs.kubernetes_objects
}}

output "endpoints" {{
  value = paved_observability_stack.obs.endpoints
}}

output "buckets" {{
  value = paved_observability_stack.obs.buckets
}}

output "admin_secret" {{
  value = paved_observability_stack.obs.grafana_admin_secret
}}
"#
    )
}

fn create_secret(endpoint: &str, name: &str, value: &str) -> String {
    block_on(async {
        let c = aws_sdk_secretsmanager::Client::new(&moto_config(endpoint));
        let out = c
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("CreateSecret");
        out.arn().expect("arn").to_owned()
    })
}

fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&moto_config(endpoint))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn buckets(endpoint: &str) -> Vec<String> {
    block_on(async {
        let out = s3(endpoint)
            .list_buckets()
            .send()
            .await
            .expect("ListBuckets");
        out.buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_owned))
            .collect()
    })
}

fn put_object(endpoint: &str, bucket: &str) {
    block_on(async {
        s3(endpoint)
            .put_object()
            .bucket(bucket)
            .key("fake/chunk-1")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"log data"))
            .send()
            .await
            .expect("PutObject");
    });
}

fn roles(endpoint: &str) -> Vec<String> {
    block_on(async {
        let c = aws_sdk_iam::Client::new(&moto_config(endpoint));
        let out = c
            .list_roles()
            .path_prefix("/paved-observability/")
            .send()
            .await
            .expect("ListRoles");
        out.roles()
            .iter()
            .map(|r| r.role_name().to_owned())
            .collect()
    })
}

/// The data of Secret `name` in `namespace`, decoded.
fn secret_text(fake: &KubeFakeHandle, namespace: &str, name: &str, key: &str) -> String {
    let secret = fake
        .object("", "v1", "secrets", namespace, name)
        .unwrap_or_else(|| panic!("Secret {namespace}/{name} missing"));
    let data = secret["data"][key].as_str().unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64 Secret data");
    String::from_utf8(bytes).expect("utf-8")
}

fn obs_settings(
    oncall: &str,
    slack: Option<&str>,
    retention: u32,
    volume: u32,
    logs: bool,
    force: bool,
) -> String {
    let slack_receiver = slack.map_or_else(String::new, |arn| {
        format!(
            "      chat = {{\n        type    = \"slack\"\n        secret  = {}\n        channel = \"#alerts\"\n      }}\n",
            hcl_string(arn)
        )
    });
    let slack_route = if slack.is_some() {
        "      { receiver = \"chat\", matchers = [\"severity=\\\"warning\\\"\"] },\n"
    } else {
        ""
    };
    format!(
        r#"  force_destroy = {force}
  metrics = {{
    retention_days = {retention}
    volume_size_gb = {volume}
  }}
  alerting = {{
    receivers = {{
      oncall = {{
        type   = "webhook"
        secret = {oncall}
      }}
{slack_receiver}    }}
    default_receiver = "oncall"
    routes = [
      {{ receiver = "oncall", matchers = ["severity=\"critical\""] }},
{slack_route}    ]
  }}
  logs = {{
    enabled = {logs}
  }}
"#,
        oncall = hcl_string(oncall)
    )
}

#[test]
fn production_stack_through_terraform_with_secrets_kept_out_of_state() {
    let fake = KubeFake::start(KubeFakeConfig::default().with_eks_cluster("shop"))
        .expect("start the Kubernetes stand-in");
    let (moto, proxy, mut ws) = bed(FaultConfig::none());
    let endpoint = moto.endpoint();
    let oncall = create_secret(&endpoint, "oncall-webhook", ONCALL_URL);
    let slack = create_secret(&endpoint, "slack-webhook", SLACK_URL);
    let api = api_block(&fake);
    ws.write_file(
        "main.tf",
        &config(&api, &obs_settings(&oncall, None, 15, 100, true, false)),
    );
    ws.init();

    // The plan, before the cluster exists: every setting shown, no call to a cluster.
    let started = std::time::Instant::now();
    let plan = ws.plan(&[]);
    eprintln!(
        "[figures] plan of cluster + observability stack, no cluster yet: {:.2} s, {} lines",
        started.elapsed().as_secs_f64(),
        plan.stdout.lines().count()
    );
    for shown in [
        "retention_days",
        "= 15",
        "StatefulSet observability/prometheus",
        "grafana-admin",
    ] {
        assert!(plan.stdout.contains(shown), "plan lacks {shown:?}:\n{plan}");
    }
    assert!(
        !plan.stdout.contains("T0P-S3CRET"),
        "a secret reached the plan"
    );

    let applied = ws.apply();
    let outputs = ws.output_json();
    let objects = string_list(output_value(&outputs, "objects"));
    eprintln!(
        "[figures] production self-hosted objects: {}",
        objects.len()
    );
    for want in [
        "StatefulSet observability/prometheus",
        "StatefulSet observability/alertmanager",
        "StatefulSet observability/loki",
        "StatefulSet observability/tempo",
        "DaemonSet observability/alloy",
        "Deployment observability/grafana",
        "Secret observability/alertmanager-config",
    ] {
        assert!(
            objects.iter().any(|o| o == want),
            "{want} missing: {objects:?}"
        );
    }
    let endpoints = output_value(&outputs, "endpoints");
    assert_eq!(
        endpoints["otlp_grpc"],
        "http://alloy.observability.svc:4317"
    );
    assert_eq!(
        output_value(&outputs, "admin_secret"),
        "observability/grafana-admin"
    );
    // The StatefulSets are in the cluster as rendered: two Prometheus, three Alertmanagers.
    let sts = |name: &str| {
        fake.object("apps", "v1", "statefulsets", "observability", name)
            .unwrap_or_else(|| panic!("StatefulSet {name} missing"))
    };
    assert_eq!(sts("prometheus")["spec"]["replicas"], 2);
    assert_eq!(sts("alertmanager")["spec"]["replicas"], 3);
    // The receiver's URL reached the cluster's Secret, and only there.
    let am = secret_text(
        &fake,
        "observability",
        "alertmanager-config",
        "alertmanager.yml",
    );
    assert!(
        am.contains(ONCALL_URL),
        "the webhook URL is not in Alertmanager's config:\n{am}"
    );
    let password = secret_text(&fake, "observability", "grafana-admin", "admin-password");
    assert!(password.len() >= 24, "Grafana's password is too short");
    let state = std::fs::read_to_string(ws.dir().join("terraform.tfstate")).expect("state");
    for secret in [ONCALL_URL, password.as_str()] {
        assert!(!state.contains(secret), "a secret reached the state");
        assert!(!applied.stdout.contains(secret) && !applied.stderr.contains(secret));
    }
    // The buckets exist, one per store.
    let made = buckets(&endpoint);
    assert_eq!(made.len(), 2, "{made:?}");
    let bucket_map = output_value(&outputs, "buckets");
    let logs_bucket = bucket_map["logs"].as_str().expect("logs bucket").to_owned();
    assert!(made.contains(&logs_bucket));
    let ours: Vec<String> = roles(&endpoint)
        .into_iter()
        .filter(|r| r.starts_with("shop-obs-"))
        .collect();
    assert_eq!(
        ours.len(),
        2,
        "one identity each for Loki and Tempo: {ours:?}"
    );
    ws.assert_no_changes();

    // What one refresh of the stack asks of both APIs: the whole refresh less the
    // cluster's own (a target refreshes what it depends on).
    let refresh = |ws: &mut crate::support::Workspace, target: Option<&str>| {
        proxy.reset();
        fake.reset_counts();
        let mut args = vec!["plan", "-refresh-only", "-no-color", "-input=false"];
        if let Some(t) = target {
            args.push(t);
        }
        ws.run_ok(&args);
        (proxy.stats().total, fake.request_counts().total)
    };
    let (aws_all, kube_all) = refresh(&mut ws, None);
    let (aws_cluster, kube_cluster) = refresh(&mut ws, Some("-target=paved_ha_cluster.prod"));
    let (aws_obs, kube_obs) = (aws_all - aws_cluster, kube_all - kube_cluster);
    eprintln!(
        "[figures] observability refresh: {aws_obs} AWS calls, {kube_obs} Kubernetes requests"
    );
    assert!(aws_obs <= 10, "one refresh made {aws_obs} AWS calls");

    // A retention and a receiver change: in place.
    ws.write_file(
        "main.tf",
        &config(
            &api,
            &obs_settings(&oncall, Some(&slack), 30, 100, true, false),
        ),
    );
    let plan = ws.plan(&[]);
    assert!(plan.stdout.contains("1 to change, 0 to destroy"), "{plan}");
    ws.apply();
    let args = sts("prometheus")["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(args.contains("--storage.tsdb.retention.time=30d"), "{args}");
    let am = secret_text(
        &fake,
        "observability",
        "alertmanager-config",
        "alertmanager.yml",
    );
    assert!(am.contains(SLACK_URL) && am.contains("#alerts"), "{am}");
    ws.assert_no_changes();

    // The volume grows: the claims are expanded and the StatefulSet made again
    // without its pods (orphan).
    ws.write_file(
        "main.tf",
        &config(
            &api,
            &obs_settings(&oncall, Some(&slack), 30, 120, true, false),
        ),
    );
    ws.apply();
    let claim = fake
        .object(
            "",
            "v1",
            "persistentvolumeclaims",
            "observability",
            "data-prometheus-0",
        )
        .expect("the claim of prometheus-0");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "120Gi");
    assert_eq!(
        fake.last_deletion("StatefulSet", "observability", "prometheus"),
        Some(Propagation::Orphan)
    );
    ws.assert_no_changes();

    // Logs off: Loki goes (Alloy stays for the traces, without its log pipeline).
    ws.write_file(
        "main.tf",
        &config(
            &api,
            &obs_settings(&oncall, Some(&slack), 30, 120, false, false),
        ),
    );
    ws.apply();
    assert!(fake
        .object("apps", "v1", "statefulsets", "observability", "loki")
        .is_none());
    let alloy = fake
        .object("", "v1", "configmaps", "observability", "alloy-config")
        .expect("alloy-config");
    assert!(!alloy.to_string().contains("loki.write"), "{alloy}");
    ws.assert_no_changes();

    // A production bucket with data is refused, with what to do.
    put_object(&endpoint, &logs_bucket);
    let refused = ws.run(&["destroy", "-no-color", "-input=false", "-auto-approve"]);
    assert_ne!(
        refused.code, 0,
        "destroy of a bucket with data went through"
    );
    assert!(refused.stderr.contains("force_destroy"), "{refused}");
    assert!(buckets(&endpoint).contains(&logs_bucket));

    // force_destroy: everything goes.
    ws.write_file(
        "main.tf",
        &config(
            &api,
            &obs_settings(&oncall, Some(&slack), 30, 120, false, true),
        ),
    );
    ws.apply();
    ws.destroy();
    assert!(buckets(&endpoint).is_empty(), "{:?}", buckets(&endpoint));
    assert!(roles(&endpoint).is_empty(), "{:?}", roles(&endpoint));
    assert!(fake
        .object("", "v1", "namespaces", "", "observability")
        .is_none());
}

#[test]
fn gitops_delivery_writes_files_and_never_calls_the_cluster() {
    let fake = KubeFake::start(KubeFakeConfig::default().with_eks_cluster("shop"))
        .expect("start the Kubernetes stand-in");
    let (moto, _proxy, mut ws) = bed(FaultConfig::none());
    let dir = ws.dir().join("gitops-obs");
    let gitops = |d: &std::path::Path| {
        format!(
            "delivery = \"gitops\"\n  gitops_path = {}",
            hcl_string(&d.display().to_string())
        )
    };
    let cluster_api = gitops(&ws.dir().join("gitops-cluster"));
    let api = gitops(&dir);
    let body = format!(
        "{TERRAFORM}\nprovider \"paved\" {{}}\n\nresource \"paved_ha_cluster\" \"prod\" {{\n  name = \"shop\"\n  \
         profile = \"development\"\n  kubernetes_version = \"1.31\"\n  {cluster_api}\n}}\n\n\
         resource \"paved_observability_stack\" \"obs\" {{\n  name = \"shop-obs\"\n  cluster = \
         paved_ha_cluster.prod.connection\n  profile = \"development\"\n  {api}\n}}\n"
    );
    ws.write_file("main.tf", &body);
    ws.init();
    fake.reset_counts();
    ws.apply();
    assert_eq!(
        fake.request_counts().total,
        0,
        "gitops delivery called the cluster"
    );
    for file in [
        "observability/statefulset-prometheus.yaml",
        "observability/statefulset-loki.yaml",
        "observability/daemonset-alloy.yaml",
        "kustomization.yaml",
    ] {
        assert!(dir.join(file).exists(), "{file} not written");
    }
    ws.assert_no_changes();
    ws.destroy();
    assert!(!dir
        .join("observability/statefulset-prometheus.yaml")
        .exists());
    assert!(buckets(&moto.endpoint()).is_empty());
}

#[test]
fn managed_mode_writes_to_amazon_managed_prometheus() {
    let fake = KubeFake::start(KubeFakeConfig::default().with_eks_cluster("shop"))
        .expect("start the Kubernetes stand-in");
    let (moto, proxy, mut ws) = bed(FaultConfig::none());
    let endpoint = moto.endpoint();
    let hook = create_secret(
        &endpoint,
        "hook-url",
        "https://hooks.example.com/amp-alerts",
    );
    let api = api_block(&fake);
    let obs = format!(
        r#"  mode          = "managed"
  force_destroy = true
  alerting = {{
    receivers = {{
      mail = {{
        type      = "email"
        secret    = {hook}
        to        = "oncall@example.com"
        from      = "alerts@example.com"
        smarthost = "smtp.example.com:587"
        username  = "alerts"
      }}
      hook = {{
        type   = "webhook"
        secret = {hook}
      }}
    }}
  }}
  traces = {{
    enabled = false
  }}
"#,
        hook = hcl_string(&hook)
    );
    ws.write_file("main.tf", &config(&api, &obs));
    ws.init();
    ws.apply();
    let objects = string_list(output_value(&ws.output_json(), "objects"));
    eprintln!(
        "[figures] production managed objects (traces off): {}",
        objects.len()
    );
    assert!(
        !objects.iter().any(|o| o.contains("alertmanager")),
        "{objects:?}"
    );
    let prometheus = fake
        .object("apps", "v1", "statefulsets", "observability", "prometheus")
        .expect("the Prometheus agent");
    let args = prometheus["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(args.contains("agent"), "not in agent mode: {args}");
    let config = fake
        .object("", "v1", "configmaps", "observability", "prometheus-config")
        .expect("prometheus-config");
    assert!(config.to_string().contains("remote_write"), "{config}");
    // The workspace, its alert routing to the topic, and the topic's subscriptions.
    let (workspace, subscriptions) = block_on(async {
        let conf = moto_config(&endpoint);
        let amp = aws_sdk_amp::Client::new(&conf);
        let list = amp.list_workspaces().send().await.expect("ListWorkspaces");
        let id = list
            .workspaces()
            .first()
            .map(|w| w.workspace_id().to_owned());
        let sns = aws_sdk_sns::Client::new(&conf);
        let subs = sns
            .list_subscriptions()
            .send()
            .await
            .expect("ListSubscriptions");
        let endpoints: Vec<String> = subs
            .subscriptions()
            .iter()
            .filter_map(|s| s.endpoint().map(str::to_owned))
            .collect();
        (id, endpoints)
    });
    let workspace = workspace.expect("an AMP workspace");
    assert!(proxy.amp_alert_manager_definition(&workspace).is_some());
    assert!(
        subscriptions.iter().any(|s| s == "oncall@example.com"),
        "{subscriptions:?}"
    );
    assert!(
        subscriptions
            .iter()
            .any(|s| s == "https://hooks.example.com/amp-alerts"),
        "{subscriptions:?}"
    );
    ws.assert_no_changes();
    ws.destroy();
    let left = block_on(async {
        let amp = aws_sdk_amp::Client::new(&moto_config(&endpoint));
        amp.list_workspaces()
            .send()
            .await
            .expect("ListWorkspaces")
            .workspaces()
            .len()
    });
    assert_eq!(left, 0, "the workspace outlived destroy");
    assert!(buckets(&endpoint).is_empty());
}
