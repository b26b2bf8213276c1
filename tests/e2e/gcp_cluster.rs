//! `paved_zones` and `paved_ha_cluster` on GCP, end to end: real Terraform 1.15.5
//! drives the provider against the GCP stand-in (`paved-gcp-fake`, in process), and
//! the Google Cloud CLI judges what was built (`gcloud container clusters
//! describe`). One production stack goes through apply (a regional cluster created
//! with its pools inline: no default pool), an empty plan (and the calls of that
//! refresh), a pool change in place, deletion protection refusing destroy, and a
//! destroy after which the stand-in holds nothing of the stack.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use paved_testbed::gcp::{FaultPlan, GcpFake, GcpFakeConfig, GcpFakeHandle};
use serde_json::Value;

use paved_testbed::kube::{KubeFake, KubeFakeConfig};

use crate::support::{hcl_string, Terraform, Workspace, TERRAFORM};

const PROJECT: &str = "paved-test";
const REGION: &str = "europe-west2";

/// The Terraform settings and a provider block aimed at the GCP stand-in at `url`
/// (project paved-test, London), for every GCP test.
pub(crate) fn gcp_provider(url: &str) -> String {
    format!(
        r#"{TERRAFORM}
provider "paved" {{
  cloud = "gcp"
  gcp {{
    project      = "{PROJECT}"
    region       = "{REGION}"
    endpoint_url = "{url}"
    access_token = "test-token"
  }}
}}
"#
    )
}

fn config(url: &str, protected: bool, spot_max: u32, spot_label: &str) -> String {
    let provider = gcp_provider(url);
    format!(
        r#"{provider}
data "paved_zones" "here" {{}}

resource "paved_ha_cluster" "prod" {{
  delivery            = "gitops"
  gitops_path         = "gitops"
  name                = "shop"
  profile             = "production"
  kubernetes_version  = "1.31"
  deletion_protection = {protected}

  node_pools = {{
    system = {{
      instance_types = ["e2-standard-4"]
      min_size       = 3
      max_size       = 9
    }}
    spot = {{
      capacity       = "spot"
      instance_types = ["n2-standard-8"]
      min_size       = 3
      max_size       = {spot_max}
      labels         = {{ workload = "{spot_label}" }}
      taints         = [{{ key = "spot", value = "true", effect = "NoSchedule" }}]
    }}
  }}
}}

output "zones" {{ value = data.paved_zones.here.names }}
output "endpoint" {{ value = paved_ha_cluster.prod.endpoint }}
output "node_pool_status" {{ value = paved_ha_cluster.prod.node_pool_status }}
output "cluster_zones" {{ value = paved_ha_cluster.prod.zones }}
output "platform" {{ value = paved_ha_cluster.prod.connection.platform }}
"#
    )
}

/// The stand-in's objects that belong to stack `shop`.
fn leftovers(fake: &GcpFakeHandle) -> Vec<String> {
    let state = fake.state();
    let mut out = Vec::new();
    for (service, collection) in [
        ("compute", "networks"),
        ("compute", "subnetworks"),
        ("compute", "routers"),
        ("compute", "addresses"),
        ("gke", "clusters"),
    ] {
        for item in state[service][collection].as_array().into_iter().flatten() {
            let name = item["name"].as_str().unwrap_or_default();
            if name.contains("shop") {
                out.push(format!("{service}/{collection}/{name}"));
            }
        }
    }
    out
}

/// `gcloud ARGS` against the stand-in (GKE, Compute and Cloud SQL pointed at it),
/// with an isolated configuration; `None` when gcloud is absent (and
/// PAVED_REQUIRE_TOOLS is not set).
pub(crate) fn gcloud(fake: &GcpFakeHandle, dir: &Path, args: &[&str]) -> Option<Value> {
    if Command::new("gcloud").arg("--version").output().is_err() {
        assert!(
            std::env::var("PAVED_REQUIRE_TOOLS").is_err(),
            "gcloud is required (PAVED_REQUIRE_TOOLS is set)"
        );
        eprintln!("gcloud not found: skipping its judgement");
        return None;
    }
    let token = dir.join("gcloud-token");
    std::fs::write(&token, "test-token").expect("token file");
    let config = dir.join("gcloud-config");
    let url = format!("{}/", fake.url());
    let out = Command::new("gcloud")
        .args(args)
        .args(["--format=json", "--project", PROJECT])
        .env("CLOUDSDK_CONFIG", &config)
        .env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
        .env("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", &token)
        .env("CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER", &url)
        .env("CLOUDSDK_API_ENDPOINT_OVERRIDES_SQL", &url)
        .env(
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE",
            format!("{url}compute/v1/"),
        )
        .output()
        .expect("run gcloud");
    assert!(
        out.status.success(),
        "gcloud {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("gcloud prints JSON"))
}

#[test]
fn production_gke_cluster_lifecycle() {
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(1))
        .expect("start the GCP stand-in");
    let url = fake.url();
    let mut ws = Workspace::new(Terraform::V1_15).with_paved();
    ws.write_file("main.tf", &config(&url, true, 20, "batch"));
    ws.init();

    // Apply.
    let started = Instant::now();
    ws.apply();
    eprintln!(
        "[figures] GKE apply: {:.2?}, {} calls",
        started.elapsed(),
        fake.request_counts().total
    );
    let outputs = ws.output_json();
    let zones: Vec<&str> = outputs["zones"]["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        zones,
        ["europe-west2-a", "europe-west2-b", "europe-west2-c"],
        "{outputs:#}"
    );
    assert_eq!(outputs["platform"]["value"], "gke", "{outputs:#}");
    assert!(
        outputs["endpoint"]["value"]
            .as_str()
            .is_some_and(|e| e.starts_with("https://")),
        "{outputs:#}"
    );
    let status = &outputs["node_pool_status"]["value"];
    assert_eq!(status["system"], "RUNNING", "{outputs:#}");
    assert_eq!(status["spot"], "RUNNING", "{outputs:#}");

    // What was built, as the stand-in holds it.
    let cluster = fake
        .cluster_json(PROJECT, REGION, "shop")
        .expect("the cluster exists");
    let pools: Vec<&str> = cluster["nodePools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        !pools.contains(&"default-pool"),
        "no default pool: {pools:?}"
    );
    assert_eq!(pools.len(), 2, "{pools:?}");
    assert_eq!(cluster["privateClusterConfig"]["enablePrivateNodes"], true);
    assert_eq!(
        cluster["controlPlaneEndpointsConfig"]["ipEndpointsConfig"]["enablePublicEndpoint"],
        false
    );
    assert_eq!(cluster["masterAuthorizedNetworksConfig"]["enabled"], true);
    assert_eq!(
        cluster["networkConfig"]["datapathProvider"],
        "ADVANCED_DATAPATH"
    );
    assert_eq!(cluster["databaseEncryption"]["state"], "ENCRYPTED");
    assert_eq!(
        cluster["workloadIdentityConfig"]["workloadPool"],
        format!("{PROJECT}.svc.id.goog")
    );

    // gcloud reads the same cluster.
    if let Some(described) = gcloud(
        &fake,
        &ws.dir(),
        &[
            "container",
            "clusters",
            "describe",
            "shop",
            "--region",
            REGION,
        ],
    ) {
        assert_eq!(described["name"], "shop");
        assert_eq!(
            described["locations"].as_array().map(Vec::len),
            Some(3),
            "{described:#}"
        );
        assert_eq!(described["shieldedNodes"]["enabled"], true, "{described:#}");
        assert_eq!(
            described["releaseChannel"]["channel"], "REGULAR",
            "{described:#}"
        );
        let listed = gcloud(
            &fake,
            &ws.dir(),
            &[
                "container",
                "node-pools",
                "list",
                "--cluster",
                "shop",
                "--region",
                REGION,
            ],
        )
        .expect("gcloud ran once already");
        let spot = listed
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["config"]["spot"] == true)
            .expect("a spot pool");
        assert_eq!(spot["autoscaling"]["totalMaxNodeCount"], 20, "{spot:#}");
        assert_eq!(
            spot["config"]["taints"][0]["effect"], "NO_SCHEDULE",
            "{spot:#}"
        );
    }

    // The next plan is empty; count the refresh's calls.
    fake.reset_counts();
    let started = Instant::now();
    ws.assert_no_changes();
    let counts = fake.request_counts();
    eprintln!(
        "[figures] GKE plan (refresh): {:.2?}, {} calls: {:?}",
        started.elapsed(),
        counts.total,
        counts.by_call
    );
    // Seven reads of the stack, the project's number once, and paved_zones' list.
    assert!(
        counts.total <= 10,
        "refresh made {} calls: {:?}",
        counts.total,
        counts.by_call
    );

    // A pool change in place: the spot pool's bounds and a label.
    ws.write_file("main.tf", &config(&url, true, 30, "analytics"));
    let plan = ws.plan(&[]);
    assert!(
        plan.stdout.contains("1 to change"),
        "an in-place update:\n{plan}"
    );
    assert!(
        !plan.stdout.contains("must be replaced"),
        "no replacement:\n{plan}"
    );
    ws.apply();
    let cluster = fake.cluster_json(PROJECT, REGION, "shop").expect("cluster");
    let spot = cluster["nodePools"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["config"]["spot"] == true)
        .cloned()
        .expect("spot pool");
    assert_eq!(spot["autoscaling"]["totalMaxNodeCount"], 30, "{spot:#}");
    assert_eq!(
        spot["config"]["labels"]["workload"], "analytics",
        "{spot:#}"
    );
    ws.assert_no_changes();

    // Import by name after forgetting the resource: the plan after it changes only
    // what the cloud cannot tell (the delivery settings), then nothing.
    ws.run_ok(&["state", "rm", "paved_ha_cluster.prod"]);
    ws.run_ok(&[
        "import",
        "-no-color",
        "-input=false",
        "paved_ha_cluster.prod",
        "shop",
    ]);
    let plan = ws.plan(&[]);
    assert!(!plan.stdout.contains("must be replaced"), "{plan}");
    ws.apply();
    ws.assert_no_changes();

    // Deletion protection holds.
    let refused = ws.run_err(&["destroy", "-auto-approve", "-no-color"]);
    assert!(
        refused.combined().contains("deletion_protection"),
        "destroy refused naming the setting:\n{refused}"
    );
    assert!(fake.cluster_json(PROJECT, REGION, "shop").is_some());

    // Off, then destroy: nothing of the stack is left.
    ws.write_file("main.tf", &config(&url, false, 30, "analytics"));
    ws.apply();
    let started = Instant::now();
    ws.destroy();
    eprintln!("[figures] GKE destroy: {:.2?}", started.elapsed());
    assert_eq!(
        leftovers(&fake),
        Vec::<String>::new(),
        "destroy leaves nothing behind"
    );
}

#[test]
fn gke_stack_applies_and_destroys_through_throttling_and_unavailability() {
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(1))
        .expect("start the GCP stand-in");
    let config = config(&fake.url(), false, 20, "batch");
    lifecycle_under_faults(&fake, &config, 11, "GKE");
    assert_eq!(
        leftovers(&fake),
        Vec::<String>::new(),
        "destroy leaves nothing behind"
    );
}

/// Apply, an empty plan and destroy of `config` while one call in five answers
/// 429 RESOURCE_EXHAUSTED (apply), then one in five 503 (plan and destroy), with
/// seeds from `seed`; the faults are off again afterwards.
pub(crate) fn lifecycle_under_faults(fake: &GcpFakeHandle, config: &str, seed: u64, what: &str) {
    fake.set_faults(FaultPlan::quota(0.2).with_seed(seed));
    let mut ws = Workspace::new(Terraform::V1_15).with_paved();
    ws.write_file("main.tf", config);
    ws.init();
    ws.apply();
    fake.set_faults(FaultPlan::unavailable(0.2).with_seed(seed + 1));
    ws.assert_no_changes();
    ws.destroy();
    let counts = fake.request_counts();
    eprintln!(
        "[figures] {what} lifecycle under faults: {} calls, {} answered with an injected fault",
        counts.total, counts.faults_injected
    );
    fake.set_faults(FaultPlan::none());
    assert!(
        counts.faults_injected > 0,
        "faults were injected: {counts:?}"
    );
}

#[test]
fn zones_are_read_through_unavailability() {
    let fake = GcpFake::start(GcpFakeConfig::default()).expect("start the GCP stand-in");
    // The first two calls answer 503: the zone list is retried, not reported.
    fake.set_faults(FaultPlan::unavailable(1.0).with_max(2));
    let mut ws = Workspace::new(Terraform::V1_15).with_paved();
    let provider = gcp_provider(&fake.url());
    ws.write_file(
        "main.tf",
        &format!(
            r#"{provider}
data "paved_zones" "here" {{}}

output "zones" {{ value = data.paved_zones.here.names }}
"#
        ),
    );
    ws.init();
    ws.apply();
    let counts = fake.request_counts();
    assert_eq!(counts.faults_injected, 2, "{counts:?}");
    let out = ws.output_json();
    assert_eq!(
        out["zones"]["value"],
        serde_json::json!(["europe-west2-a", "europe-west2-b", "europe-west2-c"]),
        "{out}"
    );
}

#[test]
fn baseline_reaches_gke_with_the_access_token() {
    let gcp = GcpFake::start(GcpFakeConfig::default().with_operation_polls(1))
        .expect("start the GCP stand-in");
    // The cluster's API: the Kubernetes stand-in, accepting the provider's GCP
    // access token as GKE accepts the caller's OAuth token.
    let kube = KubeFake::start(KubeFakeConfig::default().with_static_token("test-token"))
        .expect("start the Kubernetes stand-in");
    let mut ws = Workspace::new(Terraform::V1_15).with_paved();
    let config = config(&gcp.url(), false, 20, "batch").replace(
        "  delivery            = \"gitops\"\n  gitops_path         = \"gitops\"\n",
        &format!(
            "  kubernetes_api = {{\n    url            = {}\n    ca_certificate = {}\n  }}\n",
            hcl_string(&kube.url()),
            hcl_string(kube.ca_pem())
        ),
    );
    assert!(config.contains("kubernetes_api"), "{config}");
    ws.write_file("main.tf", &config);
    ws.init();
    ws.apply();
    let class = kube
        .object("storage.k8s.io", "v1", "storageclasses", "", "balanced")
        .expect("the baseline's storage class reached the cluster");
    assert_eq!(class["provisioner"], "pd.csi.storage.gke.io", "{class:#}");
    let counts = kube.request_counts();
    eprintln!("[figures] GKE baseline: {counts:?}");
    ws.assert_no_changes();
    ws.destroy();
    assert_eq!(
        leftovers(&gcp),
        Vec::<String>::new(),
        "destroy leaves nothing behind"
    );
}

#[test]
fn gke_upgrade_one_minor_and_pool_replacement() {
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(1))
        .expect("start the GCP stand-in");
    let url = fake.url();
    let mut ws = Workspace::new(Terraform::V1_15).with_paved();
    let base = config(&url, false, 20, "batch");
    ws.write_file("main.tf", &base);
    ws.init();
    ws.apply();
    let versions = |fake: &GcpFakeHandle| {
        let c = fake.cluster_json(PROJECT, REGION, "shop").expect("cluster");
        let pools: Vec<String> = c["nodePools"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                format!(
                    "{}={}",
                    p["name"].as_str().unwrap_or_default(),
                    p["version"].as_str().unwrap_or_default()
                )
            })
            .collect();
        (
            c["currentMasterVersion"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            pools,
        )
    };
    let (master, _) = versions(&fake);
    assert!(master.starts_with("1.31"), "{master}");

    // One minor up: the control plane first, then every pool.
    ws.write_file(
        "main.tf",
        &base.replace(
            "kubernetes_version  = \"1.31\"",
            "kubernetes_version  = \"1.32\"",
        ),
    );
    ws.apply();
    let (master, pools) = versions(&fake);
    assert!(master.starts_with("1.32"), "{master}");
    assert!(pools.iter().all(|p| p.contains("=1.32")), "{pools:?}");
    ws.assert_no_changes();

    // The spot pool becomes on-demand: GKE cannot change that in place, so a new
    // pool is made and the old one deleted; the plan says so.
    let on_demand = base
        .replace(
            "kubernetes_version  = \"1.31\"",
            "kubernetes_version  = \"1.32\"",
        )
        .replace("      capacity       = \"spot\"\n", "");
    ws.write_file("main.tf", &on_demand);
    ws.apply();
    let c = fake.cluster_json(PROJECT, REGION, "shop").expect("cluster");
    let names: Vec<&str> = c["nodePools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"spot"), "{names:?}");
    assert!(!names.contains(&"spot-spot"), "{names:?}");
    ws.assert_no_changes();
    ws.destroy();
    assert_eq!(leftovers(&fake), Vec::<String>::new());
}

#[test]
fn the_gcp_example_applies_as_written() {
    // examples/gcp/production/main.tf, unchanged but for deletion protection at the
    // end: the endpoint and the token come from the environment, as a user's
    // private endpoint and CI token would.
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(1))
        .expect("start the GCP stand-in");
    let kube = KubeFake::start(KubeFakeConfig::default().with_static_token("test-token"))
        .expect("start the Kubernetes stand-in");
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gcp/production/main.tf"),
    )
    .expect("read the example");
    // The stand-in's control plane serves no Kubernetes API: the baseline goes to
    // the Kubernetes stand-in, as to a cluster behind a proxy.
    let example = example.replace(
        "  deletion_protection = true\n\n  # Who may",
        &format!(
            "  deletion_protection = true\n  kubernetes_api = {{\n    url            = {}\n    ca_certificate = {}\n  }}\n\n  # Who may",
            hcl_string(&kube.url()),
            hcl_string(kube.ca_pem())
        ),
    );
    assert!(example.contains("kubernetes_api"), "{example}");
    let mut ws = Workspace::new(Terraform::V1_15)
        .with_paved()
        .env("PAVED_GCP_ENDPOINT_URL", &fake.url())
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", "test-token");
    ws.write_file("main.tf", &example);
    ws.init();
    let started = Instant::now();
    ws.apply();
    eprintln!(
        "[figures] examples/gcp/production apply (GKE + Cloud SQL): {:.2?}, {} calls",
        started.elapsed(),
        fake.request_counts().total
    );
    let out = ws.output_json();
    assert!(
        out["database_endpoint"]["value"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{out:#}"
    );
    let state = fake.state();
    let instances: Vec<&str> = state["sql"]["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["instance"]["name"].as_str())
        .collect();
    assert_eq!(
        instances.len(),
        2,
        "a primary and its replica: {instances:?}"
    );
    let primary = state["sql"]["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["instance"]["name"] == "orders")
        .map(|i| i["instance"].clone())
        .expect("the primary");
    assert_eq!(
        primary["settings"]["ipConfiguration"]["privateNetwork"]
            .as_str()
            .map(|n| n.rsplit('/').next().unwrap_or_default().to_owned()),
        fake.cluster_json("shop-prod", REGION, "shop")
            .and_then(|c| c["network"].as_str().map(str::to_owned)),
        "the database is on the cluster's network"
    );
    assert!(
        kube.object("storage.k8s.io", "v1", "storageclasses", "", "balanced")
            .is_some(),
        "the baseline reached the cluster"
    );
    ws.assert_no_changes();

    ws.write_file(
        "main.tf",
        &example.replace("deletion_protection = true", "deletion_protection = false"),
    );
    ws.apply();
    ws.destroy();
    assert_eq!(
        leftovers(&fake),
        Vec::<String>::new(),
        "nothing of the cluster"
    );
    let left = fake.state();
    assert_eq!(
        left["sql"]["instances"].as_array().map(Vec::len),
        Some(0),
        "no Cloud SQL instance: {:#}",
        left["sql"]["instances"]
    );
    assert_eq!(
        left["networking"]["connections"].as_array().map(Vec::len),
        Some(0),
        "no private services access connection: {:#}",
        left["networking"]
    );
}

#[test]
fn settings_gke_cannot_apply_fail_the_plan_naming_them() {
    let fake = GcpFake::start(GcpFakeConfig::default()).expect("start the GCP stand-in");
    let mut ws = Workspace::new(Terraform::V1_15).with_paved();
    let base = config(&fake.url(), false, 20, "batch");
    ws.write_file("main.tf", &base);
    ws.init();
    for (setting, attribute) in [
        (
            "  cluster_admins = [\"arn:aws:iam::123456789012:role/admin\"]\n",
            "cluster_admins",
        ),
        (
            "  platform_admins = [\"arn:aws:iam::123456789012:role/platform\"]\n",
            "platform_admins",
        ),
        (
            "  teams = {\n    web = {\n      namespaces = [\"web\"]\n      roles      = [\"arn:aws:iam::123456789012:role/web\"]\n    }\n  }\n",
            "teams",
        ),
    ] {
        ws.write_file(
            "main.tf",
            &base.replace("  deletion_protection = false\n", &format!("  deletion_protection = false\n{setting}")),
        );
        fake.reset_counts();
        let refused = ws.plan_err(&[]);
        let text = refused.combined();
        assert!(
            text.contains("Not available on this cloud") && text.contains(attribute),
            "the plan names {attribute}:\n{text}"
        );
        let calls: Vec<String> = fake.request_counts().by_call.into_keys().collect();
        assert!(
            calls.iter().all(|c| c == "GET compute.zones.list"),
            "no call but the zone list: {calls:?}"
        );
    }
}

/// A cluster in a network its owner made: `subnetwork`'s secondary ranges as given.
fn in_existing_network(url: &str, subnetwork: &str) -> String {
    let provider = gcp_provider(url);
    format!(
        r#"{provider}
resource "paved_ha_cluster" "prod" {{
  delivery            = "gitops"
  gitops_path         = "gitops"
  name                = "shop"
  profile             = "development"
  kubernetes_version  = "1.31"
  deletion_protection = false
  network = {{
    existing_vpc_id     = "shared-vpc"
    existing_subnet_ids = {{ private = ["{subnetwork}"] }}
  }}
  # No `system` pool written: the profile adds it, and no plan may keep removing it.
  node_pools = {{
    general = {{
      instance_types = ["e2-standard-4"]
      min_size       = 3
      max_size       = 6
    }}
  }}
}}
"#
    )
}

#[test]
fn gke_in_an_existing_network_uses_it_and_leaves_it() {
    use crate::gcp_database::http;
    use serde_json::json;

    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(1))
        .expect("start the GCP stand-in");
    let url = fake.url();
    // The owner's network: one subnetwork with GKE's secondary ranges, one without.
    http(
        &fake,
        "POST",
        &format!("/compute/v1/projects/{PROJECT}/global/networks"),
        Some(&json!({"name": "shared-vpc", "autoCreateSubnetworks": false})),
    );
    for (name, cidr, ranges) in [
        (
            "apps",
            "10.8.0.0/20",
            json!([
                {"rangeName": "pods", "ipCidrRange": "10.12.0.0/14"},
                {"rangeName": "services", "ipCidrRange": "10.8.16.0/20"},
            ]),
        ),
        ("bare", "10.9.0.0/20", json!([])),
    ] {
        http(
            &fake,
            "POST",
            &format!("/compute/v1/projects/{PROJECT}/regions/{REGION}/subnetworks"),
            Some(&json!({
                "name": name,
                "ipCidrRange": cidr,
                "network": format!("projects/{PROJECT}/global/networks/shared-vpc"),
                "region": REGION,
                "secondaryIpRanges": ranges,
            })),
        );
    }
    let mut ws = Workspace::new(Terraform::V1_15).with_paved();

    // A subnetwork spans the region: listing one per zone, as on AWS, is refused at
    // plan, before any call.
    ws.write_file("main.tf", &in_existing_network(&url, "apps\", \"bare"));
    ws.init();
    fake.reset_counts();
    let listed = ws.run_err(&["plan", "-no-color"]);
    assert!(
        listed
            .combined()
            .contains("One subnetwork spans the region"),
        "{listed}"
    );
    assert_eq!(fake.request_counts().total, 0, "no call at plan");

    // A subnetwork without the pod and service ranges: refused, naming what to add,
    // and no cluster is made.
    ws.write_file("main.tf", &in_existing_network(&url, "bare"));
    let refused = ws.run_err(&["apply", "-auto-approve", "-no-color"]);
    let text = refused
        .combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("no secondary range named \"pods\""),
        "the missing range is named:\n{text}"
    );
    assert!(
        fake.state()["gke"]["clusters"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "no cluster was made"
    );

    // The right subnetwork: the cluster runs in it, and paved makes nothing else.
    ws.write_file("main.tf", &in_existing_network(&url, "apps"));
    ws.apply();
    let state = fake.state();
    let cluster = state["gke"]["clusters"]
        .as_array()
        .and_then(|c| c.first())
        .cloned()
        .unwrap_or(Value::Null);
    assert!(
        cluster["network"]
            .as_str()
            .is_some_and(|n| n.ends_with("shared-vpc")),
        "{cluster:#}"
    );
    assert!(
        cluster["subnetwork"]
            .as_str()
            .is_some_and(|n| n.ends_with("apps")),
        "{cluster:#}"
    );
    assert_eq!(
        cluster["ipAllocationPolicy"]["clusterSecondaryRangeName"], "pods",
        "{cluster:#}"
    );
    // The development profile's two zones, as the plan showed: the subnetwork
    // serves them all, and no third zone is picked behind the plan's back.
    let locations: Vec<&str> = cluster["locations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(locations.len(), 2, "{cluster:#}");
    let state = ws.state_json();
    let planned = state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["type"] == "paved_ha_cluster")
        .map(|r| r["instances"][0]["attributes"]["zones"].clone())
        .unwrap_or(Value::Null);
    assert_eq!(
        planned,
        serde_json::json!(locations),
        "the state's zones are the cluster's"
    );
    assert_eq!(
        leftovers(&fake)
            .into_iter()
            .filter(|l| !l.starts_with("gke/"))
            .collect::<Vec<_>>(),
        Vec::<String>::new(),
        "no network, router or address of the stack's own"
    );
    ws.assert_no_changes();

    // Destroy takes the cluster and leaves the owner's network as it was.
    ws.destroy();
    assert_eq!(
        leftovers(&fake),
        Vec::<String>::new(),
        "the cluster is gone"
    );
    let after = fake.state();
    let subnets: Vec<&str> = after["compute"]["subnetworks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(subnets, ["apps", "bare"], "the owner's subnetworks stay");
    assert!(
        after["compute"]["networks"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|n| n["name"] == "shared-vpc"),
        "the owner's network stays"
    );
}

/// `paved_network` is built on AWS only: on GCP the plan says so, naming the
/// resource, before any call.
#[test]
fn a_paved_network_on_gcp_is_refused_at_plan() {
    let fake = GcpFake::start(GcpFakeConfig::default()).expect("start the GCP stand-in");
    let mut ws = Workspace::new(Terraform::V1_15).with_paved();
    ws.write_file(
        "main.tf",
        &format!(
            "{}\nresource \"paved_network\" \"main\" {{\n  name = \"shop\"\n}}\n",
            gcp_provider(&fake.url())
        ),
    );
    ws.init();
    fake.reset_counts();
    let refused = ws.run_err(&["plan", "-no-color"]);
    let text = refused.combined();
    assert!(
        text.contains("paved_network cannot be built on this cloud") && text.contains("GCP"),
        "{text}"
    );
    assert_eq!(fake.request_counts().total, 0, "no call at plan");
}
