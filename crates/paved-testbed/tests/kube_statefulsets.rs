//! The Kubernetes stand-in's StatefulSet claims, spec immutability, claim
//! expansion, delete propagation, the APIService and HorizontalPodAutoscaler
//! kinds and workload readiness, judged by kubectl (skipped when kubectl is
//! absent, like `kube_fake.rs`).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

use paved_testbed::kube::{KubeFake, KubeFakeConfig, KubeFakeHandle, Propagation};
use serde_json::{json, Value};

fn kubectl_path() -> Option<PathBuf> {
    let candidates = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"];
    if let Some(p) = candidates.iter().map(PathBuf::from).find(|p| p.exists()) {
        return Some(p);
    }
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("kubectl"))
}

/// A stand-in in-process, a kubeconfig for it and kubectl.
struct Bed {
    fake: KubeFakeHandle,
    dir: PathBuf,
    kubectl: PathBuf,
}

impl Bed {
    /// `None` (the test is skipped) when kubectl is absent.
    fn start(config: KubeFakeConfig) -> Option<Self> {
        let Some(kubectl) = kubectl_path() else {
            println!("skipped: kubectl not found");
            return None;
        };
        let fake = KubeFake::start(config).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "paved-kube-sts-test-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        fake.write_kubeconfig(&dir.join("kubeconfig")).unwrap();
        Some(Self { fake, dir, kubectl })
    }

    fn k(&self, args: &[&str]) -> Output {
        Command::new(&self.kubectl)
            .arg("--kubeconfig")
            .arg(self.dir.join("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.dir.join("cache"))
            .args(args)
            .output()
            .unwrap()
    }

    /// kubectl must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        ok(&self.k(args))
    }

    /// kubectl must fail; its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.k(args);
        assert!(
            !out.status.success(),
            "kubectl {args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// `kubectl apply --server-side --force-conflicts` of `text` (forced, as
    /// paved applies).
    fn apply(&self, name: &str, text: &str) -> Output {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        let path = path.to_string_lossy().into_owned();
        self.k(&[
            "apply",
            "--server-side",
            "--field-manager=paved",
            "--force-conflicts",
            "--validate=false",
            "-f",
            &path,
        ])
    }

    fn claim_names(&self, ns: &str) -> Vec<String> {
        let list = self.json(&["get", "pvc", "-n", ns]);
        let mut names: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "kubectl failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CLASSES: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: ns
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: gp3
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: ebs.csi.aws.com
allowVolumeExpansion: true
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fixed
provisioner: ebs.csi.aws.com
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: late
provisioner: ebs.csi.aws.com
volumeBindingMode: WaitForFirstConsumer
"#;

/// A StatefulSet `db` with two claim templates (`data` with the default
/// class, `wal` of 1Gi in `fixed`).
fn statefulset(replicas: u32, data_size: &str, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: ns
spec:
  serviceName: db
  replicas: {replicas}
  selector:
    matchLabels: {{app: db}}
  template:
    metadata:
      labels: {{app: db}}
    spec:
      containers:
      - name: postgres
        image: {image}
  volumeClaimTemplates:
  - metadata:
      name: data
      labels: {{tier: storage}}
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: {data_size}
  - metadata:
      name: wal
    spec:
      storageClassName: fixed
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
"#
    )
}

/// `kubectl get pvc` columns rendered by kubectl from the objects.
const COLUMNS: &str = "custom-columns=NAME:.metadata.name,STATUS:.status.phase,CAPACITY:.status.capacity.storage,CLASS:.spec.storageClassName";

const FORBIDDEN_131: &str = "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

#[test]
fn statefulset_claims_are_made_per_ordinal_and_kept() {
    let Some(bed) = Bed::start(KubeFakeConfig::default()) else {
        return;
    };
    ok(&bed.apply("classes.yaml", CLASSES));
    let applied = ok(&bed.apply("sts.yaml", &statefulset(2, "10Gi", "postgres:16")));
    assert!(
        applied.contains("statefulset.apps/db serverside-applied"),
        "{applied}"
    );

    assert_eq!(
        bed.claim_names("ns"),
        ["data-db-0", "data-db-1", "wal-db-0", "wal-db-1"]
    );
    let claim = bed.json(&[
        "get",
        "pvc",
        "-n",
        "ns",
        "data-db-1",
        "--show-managed-fields",
    ]);
    assert_eq!(
        claim["metadata"]["labels"],
        json!({"app": "db", "tier": "storage"})
    );
    assert_eq!(claim["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "10Gi");
    // The DefaultStorageClass admission named the default class.
    assert_eq!(claim["spec"]["storageClassName"], "gp3");
    assert_eq!(claim["status"]["phase"], "Bound");
    assert_eq!(claim["status"]["capacity"]["storage"], "10Gi");
    assert_eq!(
        claim["metadata"]["managedFields"][0]["manager"],
        "kube-controller-manager"
    );
    assert!(claim["metadata"].get("ownerReferences").is_none());
    // kubectl's own rendering (no server-side Table: custom columns).
    let table = bed.ok(&["get", "pvc", "-n", "ns", "-o", COLUMNS]);
    let line = table
        .lines()
        .find(|l| l.starts_with("wal-db-0"))
        .unwrap_or_else(|| panic!("{table}"));
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["wal-db-0", "Bound", "1Gi", "fixed"],
        "{table}"
    );
    // The StatefulSet was defaulted as the API server defaults it.
    let sts = bed.json(&["get", "sts", "-n", "ns", "db"]);
    assert_eq!(sts["spec"]["podManagementPolicy"], "OrderedReady");
    assert_eq!(sts["spec"]["updateStrategy"]["type"], "RollingUpdate");
    assert_eq!(
        sts["spec"]["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );

    // Scale up: claims for the new ordinal; scale down: claims stay.
    bed.ok(&[
        "patch",
        "sts",
        "db",
        "-n",
        "ns",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":3}}"#,
    ]);
    assert_eq!(bed.claim_names("ns").len(), 6);
    ok(&bed.apply("sts1.yaml", &statefulset(1, "10Gi", "postgres:16")));
    assert_eq!(
        bed.claim_names("ns"),
        [
            "data-db-0",
            "data-db-1",
            "data-db-2",
            "wal-db-0",
            "wal-db-1",
            "wal-db-2"
        ]
    );
    // A claim that exists is not touched by the controller.
    bed.ok(&["label", "pvc", "-n", "ns", "data-db-0", "keep=me"]);
    ok(&bed.apply("sts2.yaml", &statefulset(2, "10Gi", "postgres:17")));
    let claim = bed.json(&["get", "pvc", "-n", "ns", "data-db-0"]);
    assert_eq!(claim["metadata"]["labels"]["keep"], "me");

    // Deleting the StatefulSet (Retain) keeps every claim.
    let deleted = bed.ok(&["delete", "sts", "db", "-n", "ns"]);
    assert!(
        deleted.contains(r#"statefulset.apps "db" deleted"#),
        "{deleted}"
    );
    assert_eq!(bed.claim_names("ns").len(), 6);
    assert_eq!(
        bed.fake.last_deletion("StatefulSet", "ns", "db"),
        Some(Propagation::Background)
    );
}

#[test]
fn statefulset_spec_is_immutable_outside_the_allowed_fields() {
    let Some(bed) = Bed::start(KubeFakeConfig::default()) else {
        return;
    };
    ok(&bed.apply("classes.yaml", CLASSES));
    ok(&bed.apply("sts.yaml", &statefulset(2, "10Gi", "postgres:16")));

    // A changed claim template: refused, as kubectl prints a real refusal.
    let stderr = String::from_utf8_lossy(
        &bed.apply("bigger.yaml", &statefulset(2, "20Gi", "postgres:16"))
            .stderr,
    )
    .into_owned();
    assert!(
        stderr.contains(&format!(
            r#"The StatefulSet "db" is invalid: {FORBIDDEN_131}"#
        )),
        "{stderr}"
    );
    let sts = bed.json(&["get", "sts", "-n", "ns", "db"]);
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "10Gi"
    );
    assert_eq!(sts["metadata"]["generation"], 1);

    // So is a merge patch of another field, and a server-side dry run.
    let stderr = bed.fails(&[
        "patch",
        "sts",
        "db",
        "-n",
        "ns",
        "--type=merge",
        "-p",
        r#"{"spec":{"podManagementPolicy":"Parallel"}}"#,
    ]);
    assert!(stderr.contains(FORBIDDEN_131), "{stderr}");
    let stderr = bed.fails(&[
        "patch",
        "sts",
        "db",
        "-n",
        "ns",
        "--type=merge",
        "--dry-run=server",
        "-p",
        r#"{"spec":{"serviceName":"other"}}"#,
    ]);
    assert!(stderr.contains(FORBIDDEN_131), "{stderr}");

    // The allowed fields change.
    ok(&bed.apply("ok.yaml", &statefulset(4, "10Gi", "postgres:17")));
    bed.ok(&[
        "patch", "sts", "db", "-n", "ns", "--type=merge", "-p",
        r#"{"spec":{"minReadySeconds":5,"updateStrategy":{"type":"OnDelete","rollingUpdate":null},"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Delete"},"ordinals":{"start":0}}}"#,
    ]);
    let sts = bed.json(&["get", "sts", "-n", "ns", "db"]);
    assert_eq!(sts["spec"]["replicas"], 4);
    assert_eq!(sts["spec"]["minReadySeconds"], 5);
}

#[test]
fn revision_history_limit_is_mutable_from_1_34() {
    let Some(bed) = Bed::start(KubeFakeConfig::default().with_git_version("v1.34.8")) else {
        return;
    };
    ok(&bed.apply("classes.yaml", CLASSES));
    ok(&bed.apply("sts.yaml", &statefulset(1, "1Gi", "postgres:16")));
    bed.ok(&[
        "patch",
        "sts",
        "db",
        "-n",
        "ns",
        "--type=merge",
        "-p",
        r#"{"spec":{"revisionHistoryLimit":2}}"#,
    ]);
    let stderr = String::from_utf8_lossy(
        &bed.apply("bigger.yaml", &statefulset(1, "2Gi", "postgres:16"))
            .stderr,
    )
    .into_owned();
    assert!(
        stderr.contains(
            "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy'"
        ),
        "{stderr}"
    );
}

#[test]
fn claims_expand_but_never_shrink() {
    let Some(bed) = Bed::start(KubeFakeConfig::default()) else {
        return;
    };
    ok(&bed.apply("classes.yaml", CLASSES));
    ok(&bed.apply("sts.yaml", &statefulset(1, "10Gi", "postgres:16")));

    // Growth of a bound claim of an expandable class: capacity follows at once.
    bed.ok(&[
        "patch",
        "pvc",
        "data-db-0",
        "-n",
        "ns",
        "-p",
        r#"{"spec":{"resources":{"requests":{"storage":"20Gi"}}}}"#,
    ]);
    let claim = bed.json(&["get", "pvc", "-n", "ns", "data-db-0"]);
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "20Gi");
    assert_eq!(claim["status"]["capacity"]["storage"], "20Gi");
    let table = bed.ok(&["get", "pvc", "-n", "ns", "data-db-0", "-o", COLUMNS]);
    assert!(table.contains("data-db-0   Bound    20Gi"), "{table}");

    // Shrinking is refused.
    let stderr = bed.fails(&[
        "patch",
        "pvc",
        "data-db-0",
        "-n",
        "ns",
        "-p",
        r#"{"spec":{"resources":{"requests":{"storage":"5Gi"}}}}"#,
    ]);
    assert!(
        stderr.contains(r#"The PersistentVolumeClaim "data-db-0" is invalid: spec.resources.requests.storage: Forbidden: field can not be less than previous value"#),
        "{stderr}"
    );
    // Other spec fields are immutable.
    let stderr = bed.fails(&[
        "patch",
        "pvc",
        "data-db-0",
        "-n",
        "ns",
        "--type=merge",
        "-p",
        r#"{"spec":{"accessModes":["ReadWriteMany"]}}"#,
    ]);
    assert!(
        stderr.contains(r#"The PersistentVolumeClaim "data-db-0" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"#),
        "{stderr}"
    );
    // A class without allowVolumeExpansion: the resize admission refuses.
    let stderr = bed.fails(&[
        "patch",
        "pvc",
        "wal-db-0",
        "-n",
        "ns",
        "-p",
        r#"{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}"#,
    ]);
    assert!(
        stderr.contains(r#"persistentvolumeclaims "wal-db-0" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"#),
        "{stderr}"
    );
    // Server-side apply of a claim grows it too; labels may change freely.
    let claim = r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data-db-0
  namespace: ns
  labels: {owner: paved}
spec:
  resources:
    requests:
      storage: 30Gi
"#;
    ok(&bed.apply("claim.yaml", claim));
    let claim = bed.json(&["get", "pvc", "-n", "ns", "data-db-0"]);
    assert_eq!(claim["status"]["capacity"]["storage"], "30Gi");

    // A pending claim may not change its request at all.
    let pending = r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: waiting
  namespace: ns
spec:
  storageClassName: late
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
"#;
    ok(&bed.apply("pending.yaml", pending));
    assert_eq!(
        bed.json(&["get", "pvc", "-n", "ns", "waiting"])["status"]["phase"],
        "Pending"
    );
    let stderr = bed.fails(&[
        "patch",
        "pvc",
        "waiting",
        "-n",
        "ns",
        "-p",
        r#"{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}"#,
    ]);
    assert!(
        stderr.contains("spec is immutable after creation"),
        "{stderr}"
    );
}

#[test]
fn delete_with_orphan_propagation_is_recorded() {
    let Some(bed) = Bed::start(KubeFakeConfig::default()) else {
        return;
    };
    ok(&bed.apply("classes.yaml", CLASSES));
    // whenDeleted: Delete, so the claims carry an owner reference.
    let owned = statefulset(2, "1Gi", "postgres:16").replace(
        "  serviceName: db\n",
        "  serviceName: db\n  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}\n",
    );
    ok(&bed.apply("sts.yaml", &owned));
    let claim = bed.json(&["get", "pvc", "-n", "ns", "data-db-0"]);
    assert_eq!(
        claim["metadata"]["ownerReferences"][0]["kind"],
        "StatefulSet"
    );

    let out = bed.ok(&["delete", "sts", "db", "-n", "ns", "--cascade=orphan"]);
    assert!(out.contains(r#"statefulset.apps "db" deleted"#), "{out}");
    assert!(!bed.k(&["get", "sts", "-n", "ns", "db"]).status.success());
    assert_eq!(
        bed.fake.last_deletion("StatefulSet", "ns", "db"),
        Some(Propagation::Orphan)
    );
    // Orphaned: the claims stay, without the reference.
    assert_eq!(bed.claim_names("ns").len(), 4);
    let claim = bed.json(&["get", "pvc", "-n", "ns", "data-db-0"]);
    assert_eq!(claim["metadata"]["ownerReferences"], json!([]));

    // Made again (the claims exist and are kept), then deleted in the
    // background: claims it made now go with it.
    ok(&bed.apply("sts.yaml", &owned.replace("replicas: 2", "replicas: 3")));
    assert_eq!(bed.claim_names("ns").len(), 6);
    bed.ok(&["delete", "sts", "db", "-n", "ns", "--cascade=background"]);
    assert_eq!(
        bed.claim_names("ns"),
        ["data-db-0", "data-db-1", "wal-db-0", "wal-db-1"]
    );
    assert_eq!(
        bed.fake.last_deletion("StatefulSet", "ns", "db"),
        Some(Propagation::Background)
    );

    // The policy may come in the query too (kubectl sends DeleteOptions).
    ok(&bed.apply("sts.yaml", &owned));
    bed.ok(&[
        "delete",
        "--raw",
        "/apis/apps/v1/namespaces/ns/statefulsets/db?propagationPolicy=Orphan",
    ]);
    assert_eq!(bed.claim_names("ns").len(), 4);
    let kinds: Vec<(String, String, Propagation)> = bed
        .fake
        .deletions()
        .into_iter()
        .map(|d| (d.kind, format!("{}/{}", d.namespace, d.name), d.propagation))
        .collect();
    let sts = |p| ("StatefulSet".to_string(), "ns/db".to_string(), p);
    assert_eq!(
        kinds,
        [
            sts(Propagation::Orphan),
            sts(Propagation::Background),
            sts(Propagation::Orphan)
        ]
    );
    // And over HTTP, for scripts driving the binary.
    let listed: Value =
        serde_json::from_str(&bed.ok(&["get", "--raw", "/_fake/deletions"])).unwrap();
    assert_eq!(
        listed[0],
        json!({"kind": "StatefulSet", "namespace": "ns", "name": "db", "propagationPolicy": "Orphan"})
    );
    assert_eq!(listed.as_array().unwrap().len(), 3);
}

const EXTRA_KINDS: &str = r#"apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  insecureSkipTLSVerify: true
  service:
    name: metrics-server
    namespace: kube-system
    port: 443
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: default
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 6
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 70
"#;

#[test]
fn apiservices_and_hpas_are_served() {
    let Some(bed) = Bed::start(KubeFakeConfig::default()) else {
        return;
    };
    let kinds = bed.ok(&["api-resources"]);
    let row = |name: &str| {
        kinds
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from\n{kinds}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("apiservices"),
        [
            "apiservices",
            "apiregistration.k8s.io/v1",
            "false",
            "APIService"
        ]
    );
    assert_eq!(
        row("horizontalpodautoscalers"),
        [
            "horizontalpodautoscalers",
            "hpa",
            "autoscaling/v2",
            "true",
            "HorizontalPodAutoscaler"
        ]
    );

    let applied = ok(&bed.apply("extra.yaml", EXTRA_KINDS));
    assert!(
        applied.contains(
            "apiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io serverside-applied"
        ),
        "{applied}"
    );
    assert!(
        applied.contains("horizontalpodautoscaler.autoscaling/web serverside-applied"),
        "{applied}"
    );
    let api = bed.json(&["get", "apiservice", "v1beta1.metrics.k8s.io"]);
    let available = &api["status"]["conditions"][0];
    assert_eq!(available["type"], "Available");
    assert_eq!(available["status"], "True");
    assert_eq!(available["reason"], "Passed");
    let waited = bed.ok(&[
        "wait",
        "--for=condition=Available",
        "--timeout=10s",
        "apiservice/v1beta1.metrics.k8s.io",
    ]);
    assert!(waited.contains("condition met"), "{waited}");
    let hpa = bed.json(&["get", "hpa", "-n", "default", "web"]);
    assert_eq!(hpa["spec"]["maxReplicas"], 6);
    assert!(
        bed.fake
            .request_counts()
            .count("APPLY", "HorizontalPodAutoscaler")
            >= 1
    );

    // The name must be <version>.<group>.
    let wrong = EXTRA_KINDS
        .split("---")
        .next()
        .unwrap()
        .replace("name: v1beta1.metrics.k8s.io", "name: metrics");
    let out = bed.apply("wrong.yaml", &wrong);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#"The APIService "metrics" is invalid: metadata.name: Invalid value: "metrics": must be `spec.version+"."+spec.group`: "v1beta1.metrics.k8s.io""#),
        "{stderr}"
    );
}

const DAEMONSET: &str = r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: ns
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: fluent-bit:3
"#;

/// The provider's kstatus-style check (`src/ports/kube.rs` `readiness`).
fn kstatus_ready(live: &Value) -> bool {
    let status = &live["status"];
    let int = |v: &Value| v.as_i64().unwrap_or(0);
    if int(&status["observedGeneration"]) < int(&live["metadata"]["generation"]) {
        return false;
    }
    let (want, ready, updated) = match live["kind"].as_str() {
        Some("StatefulSet") => (
            live["spec"]["replicas"].as_i64().unwrap_or(1),
            int(&status["readyReplicas"]),
            int(&status["updatedReplicas"]),
        ),
        Some("DaemonSet") => (
            int(&status["desiredNumberScheduled"]),
            int(&status["numberReady"]),
            int(&status["updatedNumberScheduled"]),
        ),
        _ => return true,
    };
    ready >= want && updated >= want
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(20), "never {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn workloads_become_ready_after_the_delay() {
    let Some(bed) = Bed::start(
        KubeFakeConfig::default()
            .with_ready_after(Duration::from_millis(1500))
            .with_node_count(2),
    ) else {
        return;
    };
    ok(&bed.apply("classes.yaml", CLASSES));
    ok(&bed.apply("sts.yaml", &statefulset(2, "1Gi", "postgres:16")));
    ok(&bed.apply("ds.yaml", DAEMONSET));

    let sts = bed.json(&["get", "sts", "-n", "ns", "db"]);
    assert!(!kstatus_ready(&sts), "{}", sts["status"]);
    let rollout = |what: &str| bed.ok(&["rollout", "status", what, "-n", "ns", "--watch=false"]);
    assert!(
        rollout("sts/db").contains("Waiting for 2 pods to be ready"),
        "{}",
        rollout("sts/db")
    );
    assert!(
        rollout("ds/agent").contains(r#"Waiting for daemon set "agent" rollout to finish: 0 out of 2 new pods have been updated"#),
        "{}",
        rollout("ds/agent")
    );

    wait_until("ready", || {
        kstatus_ready(&bed.json(&["get", "sts", "-n", "ns", "db"]))
            && kstatus_ready(&bed.json(&["get", "ds", "-n", "ns", "agent"]))
    });
    let sts = bed.json(&["get", "sts", "-n", "ns", "db"]);
    let status = &sts["status"];
    assert_eq!(status["currentRevision"], status["updateRevision"]);
    assert_eq!(status["availableReplicas"], 2);
    assert_eq!(status["readyReplicas"], 2);
    let ds = bed.json(&["get", "ds", "-n", "ns", "agent"]);
    assert_eq!(ds["status"]["desiredNumberScheduled"], 2);
    assert_eq!(ds["status"]["numberReady"], 2);
    assert_eq!(ds["status"]["updatedNumberScheduled"], 2);
    let done = rollout("sts/db");
    assert!(
        done.contains("partitioned roll out complete: 2 new pods have been updated"),
        "{done}"
    );
    let done = rollout("ds/agent");
    assert!(
        done.contains(r#"daemon set "agent" successfully rolled out"#),
        "{done}"
    );

    // A new template rolls from the old revision to the new one.
    let old_revision = status["updateRevision"].as_str().unwrap().to_string();
    ok(&bed.apply("sts2.yaml", &statefulset(2, "1Gi", "postgres:17")));
    let rolling = bed.json(&["get", "sts", "-n", "ns", "db"]);
    assert!(!kstatus_ready(&rolling));
    assert_eq!(rolling["status"]["currentRevision"], old_revision.as_str());
    assert_ne!(rolling["status"]["updateRevision"], old_revision.as_str());
    wait_until("rolled out", || {
        kstatus_ready(&bed.json(&["get", "sts", "-n", "ns", "db"]))
    });
    let rolled = bed.json(&["get", "sts", "-n", "ns", "db"]);
    assert_eq!(
        rolled["status"]["currentRevision"],
        rolled["status"]["updateRevision"]
    );
    assert_ne!(rolled["status"]["currentRevision"], old_revision.as_str());
    // Scaling alone does not change the revision.
    ok(&bed.apply("sts3.yaml", &statefulset(3, "1Gi", "postgres:17")));
    let scaling = bed.json(&["get", "sts", "-n", "ns", "db"]);
    assert_eq!(
        scaling["status"]["currentRevision"],
        scaling["status"]["updateRevision"]
    );
}
