//! The Kubernetes layer end to end: real Terraform 1.15.5 applies a production
//! `paved_ha_cluster` with two teams against moto (through the proxy, which serves
//! EKS add-ons and access entries) and the Kubernetes stand-in `paved-kube-fake`,
//! reached through `kubernetes_api.url` with an EKS token the provider signs. The
//! stand-in checks the token's signature for cluster `shop`, so a wrong token fails
//! the apply. kubectl, the independent client, reads and edits the objects.

use std::path::Path;
use std::process::Command;

use paved_testbed::kube::{KubeFake, KubeFakeConfig, KubeFakeHandle};
use paved_testbed::FaultConfig;

use crate::support::cloud::moto_objects;
use crate::support::{bed, hcl_string, TERRAFORM};

const ALPHA_ROLE: &str = "arn:aws:iam::123456789012:role/team-alpha";
const BETA_ROLE: &str = "arn:aws:iam::123456789012:role/team-beta";
const PLATFORM_ROLE: &str = "arn:aws:iam::123456789012:role/platform";

fn config(api: &str, teams: &str, delivery: &str) -> String {
    config_at("1.31", api, teams, delivery)
}

fn config_at(version: &str, api: &str, teams: &str, delivery: &str) -> String {
    format!(
        r#"{TERRAFORM}
provider "paved" {{}}

resource "paved_ha_cluster" "prod" {{
  name                = "shop"
  profile             = "production"
  kubernetes_version  = "{version}"
  deletion_protection = false
  {delivery}
  {api}

  teams = {{
{teams}
  }}
  platform_admins = ["{PLATFORM_ROLE}"]
}}

output "objects" {{
  value = paved_ha_cluster.prod.kubernetes_objects
}}

output "addons" {{
  value = paved_ha_cluster.prod.addons
}}

output "hashes" {{
  value = paved_ha_cluster.prod.kubernetes_hashes
}}
"#
    )
}

fn api_block(fake: &KubeFakeHandle) -> String {
    format!(
        "kubernetes_api = {{\n    url            = {}\n    ca_certificate = {}\n  }}",
        hcl_string(&fake.url()),
        hcl_string(fake.ca_pem())
    )
}

const ALPHA: &str = r#"    alpha = {
      namespaces = ["alpha-dev", "alpha-prod"]
      roles      = ["arn:aws:iam::123456789012:role/team-alpha"]
    }"#;
const BETA: &str = r#"    beta = {
      namespaces      = ["beta-dev"]
      roles           = ["arn:aws:iam::123456789012:role/team-beta"]
      view_namespaces = ["alpha-dev"]
    }"#;

fn kubectl(kubeconfig: &Path, args: &[&str]) -> std::process::Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("run kubectl")
}

fn has_kubectl() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn namespace(fake: &KubeFakeHandle, name: &str) -> bool {
    fake.object("", "v1", "namespaces", "", name).is_some()
}

#[test]
fn teams_autoscaler_and_addons_through_terraform_and_kubectl() {
    let fake = KubeFake::start(KubeFakeConfig::default().with_eks_cluster("shop"))
        .expect("start the Kubernetes stand-in");
    let (moto, proxy, mut ws) = bed(FaultConfig::none());
    let kubeconfig = ws.dir().join("fake.kubeconfig");
    fake.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let both = format!("{ALPHA}\n{BETA}");
    ws.write_file("main.tf", &config(&api_block(&fake), &both, ""));
    ws.init();

    // Apply: add-ons active, the teams' objects and the autoscaler in the cluster.
    ws.apply();
    let outputs = ws.output_json();
    let objects: Vec<String> = outputs["objects"]["value"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o.as_str().map(str::to_owned))
        .collect();
    eprintln!("[figures] production objects: {}", objects.len());
    for want in [
        "Namespace alpha-dev",
        "Namespace beta-dev",
        "Deployment kube-system/cluster-autoscaler",
        "StorageClass gp3",
        "NetworkPolicy alpha-prod/default-deny",
        "ClusterRoleBinding paved-platform-admins",
    ] {
        assert!(
            objects.iter().any(|o| o == want),
            "{want} missing from {objects:#?}"
        );
    }
    let hashes = outputs["hashes"]["value"].as_object().expect("hashes");
    assert_eq!(hashes.len(), objects.len(), "a content hash per object");
    assert!(hashes
        .values()
        .all(|h| h.as_str().is_some_and(|h| h.len() == 64)));
    let addons = outputs["addons"]["value"].as_object().expect("addons");
    assert_eq!(addons.len(), 5, "{addons:#?}");
    let active = proxy.eks_addons("shop");
    assert_eq!(active.len(), 5);
    assert!(active.iter().all(|a| a.status == "ACTIVE"), "{active:#?}");
    assert!(namespace(&fake, "alpha-prod") && namespace(&fake, "beta-dev"));
    let deployment = fake
        .object(
            "apps",
            "v1",
            "deployments",
            "kube-system",
            "cluster-autoscaler",
        )
        .expect("the autoscaler");
    assert_eq!(deployment["status"]["readyReplicas"], 2, "{deployment:#}");
    let alpha = proxy
        .access_entry("shop", ALPHA_ROLE)
        .expect("alpha's access");
    assert_eq!(alpha.kubernetes_groups, ["paved-team-alpha"]);
    assert!(proxy.access_entry("shop", BETA_ROLE).is_some());
    let counts = fake.request_counts();
    assert_eq!(counts.by_verb_kind.get("UNAUTHORIZED"), None, "{counts:?}");
    eprintln!("[figures] Kubernetes requests of the apply: {counts:?}");

    // The next plan is empty, and count what its refresh asks of both APIs.
    proxy.reset();
    fake.reset_counts();
    ws.assert_no_changes();
    eprintln!(
        "[figures] refresh: {} AWS calls, {} Kubernetes requests",
        proxy.stats().total,
        fake.request_counts().total
    );

    // kubectl, the independent client, sees paved's objects and deletes one.
    if has_kubectl() {
        let out = kubectl(
            &kubeconfig,
            &["get", "networkpolicy", "-n", "alpha-dev", "-o", "name"],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("default-deny"), "{text}");
        let out = kubectl(
            &kubeconfig,
            &["delete", "networkpolicy", "allow-dns", "-n", "alpha-dev"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Refresh shows the object gone; the plan brings it back.
        let plan = ws.plan(&[]);
        assert!(plan.stdout.contains("1 to change"), "{plan}");
        assert!(plan.stdout.contains("alpha-dev/allow-dns"), "{plan}");
        ws.apply();
        assert!(fake
            .object(
                "networking.k8s.io",
                "v1",
                "networkpolicies",
                "alpha-dev",
                "allow-dns"
            )
            .is_some());
        ws.assert_no_changes();
    } else {
        eprintln!("kubectl not found: the kubectl part of this test is skipped");
    }

    // Removing a team prunes its objects and its access.
    ws.write_file("main.tf", &config(&api_block(&fake), ALPHA, ""));
    ws.apply();
    assert!(!namespace(&fake, "beta-dev"), "beta's namespace is pruned");
    assert!(namespace(&fake, "alpha-dev"));
    assert!(proxy.access_entry("shop", BETA_ROLE).is_none());
    ws.assert_no_changes();

    // An upgrade moves the control plane, the add-ons, the pools, then the
    // autoscaler's image minor, in that order.
    let image = |fake: &KubeFakeHandle| {
        fake.object(
            "apps",
            "v1",
            "deployments",
            "kube-system",
            "cluster-autoscaler",
        )
        .and_then(|d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_default()
    };
    assert!(image(&fake).contains(":v1.31."), "{}", image(&fake));
    ws.write_file("main.tf", &config_at("1.32", &api_block(&fake), ALPHA, ""));
    let started = std::time::Instant::now();
    ws.apply();
    eprintln!(
        "[figures] upgrade 1.31 -> 1.32 apply: {:.2?}",
        started.elapsed()
    );
    assert_eq!(proxy.eks_cluster_version("shop").as_deref(), Some("1.32"));
    let updates = proxy.eks_updates("shop");
    let order: Vec<String> = updates
        .iter()
        .map(|u| {
            u.addon_name
                .clone()
                .map(|a| format!("addon {a}"))
                .or_else(|| u.nodegroup_name.clone().map(|n| format!("pool {n}")))
                .unwrap_or_else(|| "control plane".to_owned())
        })
        .collect();
    eprintln!("[figures] upgrade order: {order:?}");
    assert_eq!(
        order.first().map(String::as_str),
        Some("control plane"),
        "{order:?}"
    );
    let first_pool = order
        .iter()
        .position(|o| o.starts_with("pool"))
        .expect("the pools moved");
    let last_addon = order
        .iter()
        .rposition(|o| o.starts_with("addon"))
        .unwrap_or(0);
    assert!(last_addon < first_pool, "add-ons before pools: {order:?}");
    assert!(image(&fake).contains(":v1.32."), "{}", image(&fake));
    ws.assert_no_changes();

    // Kubernetes made a load balancer and a volume claim: destroy releases them
    // through the API before the network goes.
    if has_kubectl() {
        let extra = ws.dir().join("workload.yaml");
        std::fs::write(
            &extra,
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: alpha-dev\nspec:\n  type: LoadBalancer\n  ports:\n  - port: 80\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: alpha-dev\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n",
        )
        .expect("write the workload");
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args([
                "apply",
                "--server-side",
                "--field-manager=team-alpha",
                "--validate=false",
                "-f",
            ])
            .arg(&extra)
            .output()
            .expect("kubectl apply");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(fake
            .object("", "v1", "services", "alpha-dev", "web")
            .is_some());
    }

    // Destroy leaves nothing of the stack in moto.
    ws.destroy();
    let left: Vec<String> = moto_objects(&moto.endpoint())
        .into_iter()
        .filter(|o| o.stack() == Some("shop") || o.kind == "eks:cluster")
        .map(|o| o.to_string())
        .collect();
    assert!(left.is_empty(), "left behind: {left:#?}");
    assert!(fake
        .object("", "v1", "services", "alpha-dev", "web")
        .is_none());
    assert!(fake
        .object("", "v1", "persistentvolumeclaims", "alpha-dev", "data")
        .is_none());
    proxy.shutdown();
}

#[test]
fn gitops_delivery_writes_files_and_never_calls_the_cluster() {
    let fake = KubeFake::start(KubeFakeConfig::default().with_eks_cluster("shop"))
        .expect("start the Kubernetes stand-in");
    let (_moto, proxy, mut ws) = bed(FaultConfig::none());
    let delivery = "delivery    = \"gitops\"\n  gitops_path = \"gitops\"";
    ws.write_file("main.tf", &config(&api_block(&fake), ALPHA, delivery));
    ws.init();
    ws.apply();
    let dir = ws.dir().join("gitops");
    let kustomization =
        std::fs::read_to_string(dir.join("kustomization.yaml")).expect("kustomization.yaml");
    assert!(kustomization.contains("resources:"), "{kustomization}");
    let files = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert!(files > 2, "one file per object under {}", dir.display());
    assert_eq!(
        fake.request_counts().total,
        0,
        "GitOps delivery calls no cluster"
    );
    ws.assert_no_changes();

    // What Flux or Argo CD would do with the files, done by kubectl: the rendered
    // manifests apply server-side through the kustomization, then delete.
    if has_kubectl() {
        let kubeconfig = ws.dir().join("fake.kubeconfig");
        fake.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        let dir_arg = dir.to_string_lossy().into_owned();
        let out = kubectl(
            &kubeconfig,
            &[
                "apply",
                "--server-side",
                "--field-manager=flux",
                "--validate=false",
                "-k",
                &dir_arg,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(namespace(&fake, "alpha-prod"));
        let autoscaler = fake
            .object(
                "apps",
                "v1",
                "deployments",
                "kube-system",
                "cluster-autoscaler",
            )
            .expect("the autoscaler");
        assert_eq!(
            autoscaler["spec"]["template"]["spec"]["nodeSelector"]["paved.dev/pool"], "system",
            "the autoscaler runs on the system pool: {autoscaler:#}"
        );
        // The stand-in deletes a namespace's objects at once (a real server keeps
        // them while the namespace terminates), hence --ignore-not-found.
        let out = kubectl(
            &kubeconfig,
            &[
                "delete",
                "-k",
                &dir_arg,
                "--wait=false",
                "--ignore-not-found",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!namespace(&fake, "alpha-prod"));
    }
    // A file deleted by hand is drift: the plan writes it again.
    let namespace_file = walk(&dir)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("namespace-alpha-dev"))
        .expect("the namespace's file");
    std::fs::remove_file(&namespace_file).expect("remove");
    let plan = ws.plan(&[]);
    assert!(plan.stdout.contains("1 to change"), "{plan}");
    ws.apply();
    assert!(namespace_file.exists());
    ws.destroy();
    proxy.shutdown();
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
