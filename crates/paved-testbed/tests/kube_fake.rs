//! The Kubernetes stand-in, judged by kubectl (skipped when kubectl is
//! absent) and by raw HTTPS requests with static and EKS tokens.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use paved_testbed::kube::{presign_eks_token, EksTokenRequest, KubeFake, KubeFakeConfig};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MANIFESTS: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: ns
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
  namespace: ns
  labels: {app: x}
spec:
  replicas: 2
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: x-config
  namespace: ns
  labels: {app: x}
data:
  greeting: hello
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: x-reader
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
provisioner: ebs.csi.aws.com
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: ns
spec:
  podSelector: {}
  policyTypes: [Ingress]
"#;

const SCALE_UP: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
  namespace: ns
spec:
  replicas: 5
"#;

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

/// The binary, running; killed on drop.
struct FakeProcess {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl FakeProcess {
    fn start(extra: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "paved-kube-fake-test-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let kubeconfig = dir.join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_paved-kube-fake"))
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("Listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        Self { child, url, dir }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    fn kubectl(&self, kubectl: &Path, args: &[&str]) -> Output {
        Command::new(kubectl)
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--cache-dir")
            .arg(self.dir.join("cache"))
            .args(args)
            .output()
            .unwrap()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for FakeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

fn json_of(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

#[test]
fn kubectl_end_to_end() {
    let Some(kubectl) = kubectl_path() else {
        println!("skipped: kubectl not found");
        return;
    };
    let fake = FakeProcess::start(&["--ready-after-ms", "1500"]);
    let k = |args: &[&str]| fake.kubectl(&kubectl, args);

    // Version and discovery.
    let version = json_of(&k(&["version", "-o", "json"]));
    assert_eq!(version["serverVersion"]["gitVersion"], "v1.31.0");
    let kinds = ok(&k(&["api-resources"]));
    for kind in [
        "Namespace",
        "Deployment",
        "ClusterRoleBinding",
        "NetworkPolicy",
        "StorageClass",
        "PriorityClass",
        "PodDisruptionBudget",
    ] {
        assert!(kinds.contains(kind), "{kind} missing from\n{kinds}");
    }

    // Without OpenAPI, client-side validation must be turned off.
    let manifests = fake.write("manifests.yaml", MANIFESTS);
    let validating = k(&[
        "apply",
        "--server-side",
        "--field-manager=paved",
        "-f",
        &manifests,
    ]);
    assert!(!validating.status.success());
    assert!(String::from_utf8_lossy(&validating.stderr).contains("--validate=false"));

    let applied = ok(&k(&[
        "apply",
        "--server-side",
        "--field-manager=paved",
        "--validate=false",
        "-f",
        &manifests,
    ]));
    for line in [
        "namespace/ns serverside-applied",
        "deployment.apps/x serverside-applied",
        "configmap/x-config serverside-applied",
        "clusterrole.rbac.authorization.k8s.io/x-reader serverside-applied",
        "storageclass.storage.k8s.io/fast serverside-applied",
        "networkpolicy.networking.k8s.io/deny-all serverside-applied",
    ] {
        assert!(applied.contains(line), "{line} missing from\n{applied}");
    }

    // The Deployment: fields, ownership, status not ready before the delay.
    let deploy = json_of(&k(&[
        "get",
        "deploy",
        "-n",
        "ns",
        "x",
        "-o",
        "json",
        "--show-managed-fields",
    ]));
    let applied_at = Instant::now();
    assert_eq!(deploy["spec"]["replicas"], 2);
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    assert_eq!(deploy["metadata"]["generation"], 1);
    assert!(deploy["metadata"]["uid"]
        .as_str()
        .is_some_and(|u| u.len() == 36));
    let managers = deploy["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(managers.len(), 1);
    assert_eq!(managers[0]["manager"], "paved");
    assert_eq!(managers[0]["operation"], "Apply");
    assert_eq!(managers[0]["fieldsType"], "FieldsV1");
    assert!(managers[0]["fieldsV1"]["f:spec"]["f:replicas"].is_object());
    assert!(
        deploy["status"].get("readyReplicas").is_none(),
        "{}",
        deploy["status"]
    );

    // Ready after the delay.
    let ready = loop {
        let d = json_of(&k(&["get", "deploy", "-n", "ns", "x", "-o", "json"]));
        if d["status"]["readyReplicas"] == 2 {
            break d;
        }
        assert!(
            applied_at.elapsed() < Duration::from_secs(20),
            "never ready: {}",
            d["status"]
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(ready["status"]["observedGeneration"], 1);
    assert_eq!(ready["status"]["availableReplicas"], 2);
    assert_eq!(ready["status"]["updatedReplicas"], 2);
    let conditions = ready["status"]["conditions"].as_array().unwrap();
    assert!(conditions
        .iter()
        .any(|c| c["type"] == "Available" && c["status"] == "True"));
    assert!(conditions.iter().any(|c| c["type"] == "Progressing"
        && c["status"] == "True"
        && c["reason"] == "NewReplicaSetAvailable"));

    // Label selectors across namespaces.
    let cms = ok(&k(&["get", "cm", "-l", "app=x", "-A"]));
    assert!(cms.contains("x-config") && cms.contains("ns"), "{cms}");
    let none = k(&["get", "cm", "-l", "app!=x", "-A", "-o", "json"]);
    assert_eq!(json_of(&none)["items"], serde_json::json!([]));
    let ns_status = json_of(&k(&["get", "ns", "ns", "-o", "json"]));
    assert_eq!(ns_status["status"]["phase"], "Active");

    // A second manager changing spec.replicas conflicts, then forces.
    let scale_up = fake.write("scale-up.yaml", SCALE_UP);
    let conflict = k(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "--validate=false",
        "-f",
        &scale_up,
    ]);
    assert!(!conflict.status.success());
    let stderr = String::from_utf8_lossy(&conflict.stderr);
    assert!(
        stderr.contains(r#"Apply failed with 1 conflict: conflict with "paved": .spec.replicas"#),
        "{stderr}"
    );
    ok(&k(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "--validate=false",
        "--force-conflicts",
        "-f",
        &scale_up,
    ]));
    let forced = json_of(&k(&[
        "get",
        "deploy",
        "-n",
        "ns",
        "x",
        "-o",
        "json",
        "--show-managed-fields",
    ]));
    assert_eq!(forced["spec"]["replicas"], 5);
    assert_eq!(forced["metadata"]["generation"], 2);
    let owners: Vec<(&str, bool)> = forced["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap(),
                m["fieldsV1"]["f:spec"].get("f:replicas").is_some(),
            )
        })
        .collect();
    assert!(owners.contains(&("paved", false)), "{owners:?}");
    assert!(owners.contains(&("other", true)), "{owners:?}");

    // A kubectl-edit style writer (merge patch) now owns replicas.
    ok(&k(&[
        "patch",
        "deploy",
        "x",
        "-n",
        "ns",
        "--type=merge",
        "--field-manager=kubectl-edit",
        "-p",
        r#"{"spec":{"replicas":3}}"#,
    ]));
    let conflict = k(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "--validate=false",
        "-f",
        &scale_up,
    ]);
    assert!(!conflict.status.success());
    assert!(String::from_utf8_lossy(&conflict.stderr)
        .contains(r#"conflict with "kubectl-edit" using apps/v1: .spec.replicas"#));

    // Deleting the namespace removes what was in it.
    ok(&k(&["delete", "namespace", "ns"]));
    let gone = k(&["get", "ns", "ns"]);
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("NotFound"));
    let left = json_of(&k(&["get", "deploy,cm,netpol", "-A", "-o", "json"]));
    assert_eq!(left["items"], serde_json::json!([]), "{left}");
    // Cluster-scoped objects stay.
    ok(&k(&["get", "clusterrole", "x-reader"]));

    // Counts over HTTP, without authentication.
    let counts = https_json(
        &fake.url,
        None,
        &read_ca(&fake.kubeconfig()),
        "GET",
        "/_fake/requests",
    );
    assert_eq!(counts.0, 200);
    assert!(
        counts.1["by_verb_kind"]["APPLY Deployment"]
            .as_u64()
            .unwrap()
            >= 3
    );
    assert_eq!(counts.1["by_verb_kind"]["DELETE Namespace"], 1);
    assert!(counts.1["total"].as_u64().unwrap() > 10);
    let reset = https_json(
        &fake.url,
        None,
        &read_ca(&fake.kubeconfig()),
        "POST",
        "/_fake/reset-counts",
    );
    assert_eq!(reset.0, 200);
    let counts = https_json(
        &fake.url,
        None,
        &read_ca(&fake.kubeconfig()),
        "GET",
        "/_fake/requests",
    );
    assert_eq!(counts.1["total"], 0);
}

#[test]
fn kubectl_with_an_eks_token() {
    let Some(kubectl) = kubectl_path() else {
        println!("skipped: kubectl not found");
        return;
    };
    let fake = FakeProcess::start(&["--eks-cluster", "prod", "--aws-secret-key", "s3cret"]);
    let token = |cluster: &str| {
        presign_eks_token(&EksTokenRequest {
            cluster,
            access_key_id: "AKIDEXAMPLE",
            secret_key: "s3cret",
            session_token: Some("session/token+="),
            region: "eu-west-1",
            host: "sts.eu-west-1.amazonaws.com",
            now: SystemTime::now(),
        })
    };
    let good = token("prod");
    let out = fake.kubectl(
        &kubectl,
        &["--token", &good, "get", "ns", "default", "-o", "json"],
    );
    assert_eq!(json_of(&out)["metadata"]["name"], "default");
    let bad = token("staging");
    let out = fake.kubectl(&kubectl, &["--token", &bad, "get", "ns", "default"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Unauthorized") || stderr.contains("credentials"),
        "{stderr}"
    );
}

/// The CA PEM from a kubeconfig the binary wrote.
fn read_ca(kubeconfig: &Path) -> String {
    let text = std::fs::read_to_string(kubeconfig).unwrap();
    let b64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority-data: "))
        .unwrap();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

fn ca_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// One HTTPS request trusting only `ca_pem`; returns status and JSON body.
fn https_json(
    url: &str,
    token: Option<&str>,
    ca_pem: &str,
    method: &str,
    path: &str,
) -> (u16, Value) {
    let addr = url.strip_prefix("https://").unwrap().to_string();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(ca_der(ca_pem)))
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let raw = runtime.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        tls.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        let _ = tls.read_to_end(&mut raw).await;
        raw
    });
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let code: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    (code, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn eks_tokens_over_https() {
    let fake = KubeFake::start(KubeFakeConfig::default().with_eks_cluster("prod")).unwrap();
    let url = fake.url();
    let token = |cluster: &str, host: &str, region: &str, now: SystemTime| {
        presign_eks_token(&EksTokenRequest {
            cluster,
            access_key_id: "AKIDEXAMPLE",
            secret_key: "testing",
            session_token: None,
            region,
            host,
            now,
        })
    };
    let now = SystemTime::now();

    let (code, body) = https_json(
        &url,
        Some(&token(
            "prod",
            "sts.eu-west-1.amazonaws.com",
            "eu-west-1",
            now,
        )),
        fake.ca_pem(),
        "GET",
        "/api/v1/namespaces",
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["kind"], "NamespaceList");
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "kube-public", "kube-system"]);

    // The global STS endpoint works too.
    let global = token("prod", "sts.amazonaws.com", "us-east-1", now);
    assert_eq!(
        https_json(&url, Some(&global), fake.ca_pem(), "GET", "/version").0,
        200
    );

    let rejected = [
        Some(token(
            "staging",
            "sts.eu-west-1.amazonaws.com",
            "eu-west-1",
            now,
        )),
        Some(token(
            "prod",
            "sts.eu-west-1.amazonaws.com",
            "eu-west-1",
            now - Duration::from_secs(20 * 60),
        )),
        Some("not-the-token".to_string()),
        None,
    ];
    for t in rejected {
        let (code, body) = https_json(
            &url,
            t.as_deref(),
            fake.ca_pem(),
            "GET",
            "/api/v1/namespaces",
        );
        assert_eq!(code, 401);
        assert_eq!(body["kind"], "Status");
        assert_eq!(body["apiVersion"], "v1");
        assert_eq!(body["status"], "Failure");
        assert_eq!(body["reason"], "Unauthorized");
        assert_eq!(body["code"], 401);
    }

    // The static token, and counts from the handle.
    let (code, _) = https_json(
        &url,
        Some(fake.token()),
        fake.ca_pem(),
        "GET",
        "/api/v1/namespaces/default",
    );
    assert_eq!(code, 200);
    let counts = fake.request_counts();
    assert_eq!(counts.count("LIST", "Namespace"), 1);
    assert_eq!(counts.count("GET", "Namespace"), 1);
    assert_eq!(counts.by_verb_kind["UNAUTHORIZED"], 4);
    fake.reset_counts();
    assert_eq!(fake.request_counts().total, 0);

    // Discovery documents and the absent OpenAPI.
    let (code, apis) = https_json(
        &url,
        Some(fake.token()),
        fake.ca_pem(),
        "GET",
        "/apis/apps/v1",
    );
    assert_eq!(code, 200);
    assert_eq!(apis["kind"], "APIResourceList");
    let (code, status) = https_json(
        &url,
        Some(fake.token()),
        fake.ca_pem(),
        "GET",
        "/openapi/v2",
    );
    assert_eq!(code, 404);
    assert_eq!(status["reason"], "NotFound");
    let (code, status) = https_json(
        &url,
        Some(fake.token()),
        fake.ca_pem(),
        "GET",
        "/apis/apps/v1/namespaces/default/deployments/missing",
    );
    assert_eq!(code, 404);
    assert_eq!(status["message"], r#"deployments.apps "missing" not found"#);
    assert!(fake
        .object("", "v1", "namespaces", "", "kube-system")
        .is_some());
}
