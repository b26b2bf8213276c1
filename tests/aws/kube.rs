//! The Kubernetes adapter (`cloud::kube`) against the `paved-kube-fake` stand-in,
//! with EKS tokens from our signer (`cloud::aws::eks_token`, moto's static
//! credentials `testing`/`testing`): server-side apply, read, list and delete of
//! typed objects, idempotent re-apply, forced takeover of a field another manager
//! owns, tokens refused for another cluster, an unreachable API, a tunnel verified
//! against the endpoint's name, and token renewal. Needs no moto.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use paved::cloud::aws::eks_token::EksTokenSource;
use paved::cloud::kube::KubeRsConnector;
use paved::ports::kube::{
    BearerToken, KubeApi, KubeAuth, KubeConnector, KubeError, KubeTarget, ObjectRef, TokenSource,
};
use paved::stack::retry::Jitter;
use paved::stack::{OperationContext, RetryPolicy};
use paved_testbed::kube::{KubeFake, KubeFakeConfig, KubeFakeHandle};
use rustls_pki_types::pem::PemObject as _;
use serde_json::{json, Value};

const CLUSTER: &str = "prod";
const REGION: &str = "eu-west-1";

/// Three quick attempts: enough to see a retry, short enough for a refused port.
const FAST: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    base_delay: Duration::from_millis(20),
    max_delay: Duration::from_millis(50),
    jitter: Jitter::None,
    deadline: None,
};

fn fake() -> KubeFakeHandle {
    KubeFake::start(KubeFakeConfig::default().with_eks_cluster(CLUSTER)).expect("kube fake")
}

/// Our EKS token source with moto's static credentials.
fn eks_tokens() -> Arc<dyn TokenSource> {
    let credentials = Credentials::new("testing", "testing", None, None, "test");
    Arc::new(EksTokenSource::with_credentials(
        SharedCredentialsProvider::new(credentials),
        None,
    ))
}

fn connector(tokens: Arc<dyn TokenSource>) -> KubeRsConnector {
    KubeRsConnector::new(tokens).with_retry(FAST, OperationContext::default())
}

fn eks_target(fake: &KubeFakeHandle, cluster: &str) -> KubeTarget {
    KubeTarget {
        endpoint: fake.url(),
        ca_pem: fake.ca_pem().to_owned(),
        auth: KubeAuth::Cloud {
            cluster_name: cluster.to_owned(),
            location: REGION.to_owned(),
        },
        api_url: None,
        proxy_url: None,
    }
}

async fn connect(fake: &KubeFakeHandle) -> Arc<dyn KubeApi> {
    connector(eks_tokens())
        .connect(&eks_target(fake, CLUSTER))
        .await
        .expect("connect")
}

fn namespace() -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
           "metadata": {"name": "shop", "labels": {"app.kubernetes.io/part-of": "shop"}}})
}

fn config_map(greeting: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "settings", "namespace": "shop",
                        "labels": {"app.kubernetes.io/part-of": "shop"}},
           "data": {"greeting": greeting}})
}

fn deployment() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "shop",
                        "labels": {"app.kubernetes.io/part-of": "shop"}},
           "spec": {"replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [
                                     {"name": "web", "image": "nginx:1.27",
                                      "ports": [{"containerPort": 80}]}]}}}})
}

fn object(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
    ObjectRef {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        namespace: namespace.map(str::to_owned),
        name: name.to_owned(),
    }
}

fn text<'a>(live: &'a Value, pointer: &str) -> &'a str {
    live.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_are_applied_read_listed_and_deleted_once_each() {
    let fake = fake();
    let api = connect(&fake).await;
    let bodies = [namespace(), config_map("hello"), deployment()];

    let mut versions = Vec::new();
    for body in &bodies {
        let live = api.apply(body).await.expect("apply");
        assert_eq!(text(&live, "/kind"), text(body, "/kind"));
        assert!(!text(&live, "/metadata/uid").is_empty(), "{live}");
        versions.push(text(&live, "/metadata/resourceVersion").to_owned());
    }
    let counts = fake.request_counts();
    for kind in ["Namespace", "ConfigMap", "Deployment"] {
        assert_eq!(counts.count("APPLY", kind), 1, "{kind}: {counts:?}");
    }
    let discovery = counts.count("GET", "discovery");
    assert!(discovery >= 1, "{counts:?}");

    // Applying the same bodies again changes nothing and asks discovery nothing.
    for (body, version) in bodies.iter().zip(&versions) {
        let live = api.apply(body).await.expect("re-apply");
        assert_eq!(text(&live, "/metadata/resourceVersion"), version);
    }
    let counts = fake.request_counts();
    for kind in ["Namespace", "ConfigMap", "Deployment"] {
        assert_eq!(counts.count("APPLY", kind), 2, "{kind}: {counts:?}");
    }
    assert_eq!(counts.count("GET", "discovery"), discovery, "{counts:?}");

    let web = object("apps/v1", "Deployment", Some("shop"), "web");
    let live = api.get(&web).await.expect("get").expect("exists");
    assert_eq!(live.pointer("/spec/replicas"), Some(&json!(2)));
    assert_eq!(
        live.pointer("/metadata/managedFields/0/manager"),
        Some(&json!("paved"))
    );

    let selector = "app.kubernetes.io/part-of=shop";
    let in_shop = api
        .list("v1", "ConfigMap", Some("shop"), selector)
        .await
        .expect("list");
    assert_eq!(in_shop.len(), 1);
    assert_eq!(
        text(&in_shop[0], "/kind"),
        "ConfigMap",
        "list items are typed"
    );
    let everywhere = api
        .list("apps/v1", "Deployment", None, selector)
        .await
        .expect("list");
    assert_eq!(everywhere.len(), 1);
    let namespaces = api
        .list("v1", "Namespace", None, selector)
        .await
        .expect("list");
    assert_eq!(namespaces.len(), 1);
    let none = api
        .list(
            "v1",
            "ConfigMap",
            Some("shop"),
            "app.kubernetes.io/part-of=other",
        )
        .await
        .expect("list");
    assert!(none.is_empty());

    assert_eq!(api.delete(&web).await, Ok(true));
    assert_eq!(api.delete(&web).await, Ok(false));
    assert_eq!(api.get(&web).await, Ok(None));
    let settings = object("v1", "ConfigMap", Some("shop"), "settings");
    assert_eq!(api.delete(&settings).await, Ok(true));
    assert_eq!(
        api.delete(&object("v1", "Namespace", None, "shop")).await,
        Ok(true)
    );
    assert_eq!(
        api.get(&object("v1", "Namespace", None, "shop")).await,
        Ok(None)
    );
    let counts = fake.request_counts();
    assert!(
        !counts.by_verb_kind.contains_key("UNAUTHORIZED"),
        "every EKS token was accepted: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_the_server_does_not_serve_is_named() {
    let fake = fake();
    let api = connect(&fake).await;
    let missing = object("example.com/v1", "Widget", Some("default"), "w");
    assert!(
        matches!(api.get(&missing).await, Err(KubeError::UnknownKind(m)) if m.contains("Widget")),
    );
}

/// A kube-rs client of the fake with its static token, acting as another tool.
fn other_tool(fake: &KubeFakeHandle) -> kube::Client {
    let mut config = kube::Config::new(fake.url().parse().expect("url"));
    config.root_cert = Some(
        rustls_pki_types::CertificateDer::pem_slice_iter(fake.ca_pem().as_bytes())
            .map(|c| c.expect("pem").as_ref().to_vec())
            .collect(),
    );
    config.auth_info.token = Some(secrecy::SecretString::from(fake.token().to_owned()));
    kube::Client::try_from(config).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_another_manager_owns_is_taken_over() {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Api, Patch, PatchParams};

    let fake = fake();
    let api = connect(&fake).await;
    api.apply(&namespace()).await.expect("namespace");
    api.apply(&config_map("hello")).await.expect("apply");

    // Someone edits the greeting with their own field manager (forced, as
    // `kubectl apply --server-side --force-conflicts`): they own it now.
    let other: Api<ConfigMap> = Api::namespaced(other_tool(&fake), "shop");
    other
        .patch(
            "settings",
            &PatchParams::apply("someone-else").force(),
            &Patch::Apply(config_map("hi")),
        )
        .await
        .expect("the other tool's apply");
    // An unforced apply of paved's value would conflict...
    let refused = other
        .patch(
            "settings",
            &PatchParams::apply("paved"),
            &Patch::Apply(config_map("hello")),
        )
        .await;
    assert!(
        matches!(&refused, Err(kube::Error::Api(s)) if s.code == 409),
        "{refused:?}"
    );

    // ...paved's forced apply takes the field back.
    let live = api.apply(&config_map("hello")).await.expect("forced apply");
    assert_eq!(text(&live, "/data/greeting"), "hello");
    let managers: Vec<&str> = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|entry| entry.pointer("/fieldsV1/f:data/f:greeting").is_some())
        .filter_map(|entry| entry.get("manager").and_then(Value::as_str))
        .collect();
    assert_eq!(managers, vec!["paved"], "{live}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eks_token_for_another_cluster_is_refused() {
    let fake = fake();
    let api = connector(eks_tokens())
        .connect(&eks_target(&fake, "staging"))
        .await
        .expect("connect");
    let result = api.get(&object("v1", "Namespace", None, "default")).await;
    assert!(
        matches!(result, Err(KubeError::Unauthorized(_))),
        "{result:?}"
    );
    assert_eq!(
        fake.request_counts()
            .by_verb_kind
            .get("UNAUTHORIZED")
            .copied(),
        Some(1),
        "a refused token is not retried"
    );

    // The right cluster's token is accepted by the same server.
    let api = connect(&fake).await;
    let live = api
        .get(&object("v1", "Namespace", None, "default"))
        .await
        .expect("get");
    assert!(live.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_is_reported_with_its_url() {
    let fake = fake();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("https://127.0.0.1:{closed}");
    let mut target = eks_target(&fake, CLUSTER);
    target.endpoint = url.clone();
    let api = connector(eks_tokens())
        .connect(&target)
        .await
        .expect("connect");
    let result = api.get(&object("v1", "Namespace", None, "default")).await;
    match result {
        Err(KubeError::Unreachable {
            url: tried,
            message,
        }) => {
            assert_eq!(tried, url);
            assert!(!message.is_empty());
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tunnel_is_verified_against_the_endpoint_name() {
    let fake = fake();

    // The endpoint's name is one the certificate holds (`localhost`) and nothing
    // listens there: the API is reached through `api_url` only.
    let mut target = eks_target(&fake, CLUSTER);
    target.endpoint = "https://localhost:1".to_owned();
    target.api_url = Some(fake.url());
    let api = connector(eks_tokens())
        .connect(&target)
        .await
        .expect("connect");
    let live = api
        .get(&object("v1", "Namespace", None, "default"))
        .await
        .expect("through the tunnel");
    assert!(live.is_some());

    // An EKS endpoint name: the connection goes to `api_url` (no DNS lookup of the
    // bogus host) and the certificate is checked for the endpoint's name, which the
    // stand-in's certificate (127.0.0.1 and localhost only) does not hold; it would
    // have passed for 127.0.0.1. A real API server's certificate holds that name.
    target.endpoint = "https://ABC.gr7.eu-west-1.eks.amazonaws.com".to_owned();
    let api = connector(eks_tokens())
        .connect(&target)
        .await
        .expect("connect");
    let result = api.get(&object("v1", "Namespace", None, "default")).await;
    match result {
        Err(KubeError::Unreachable { url, message }) => {
            assert_eq!(url, fake.url());
            assert!(message.contains("certificate"), "{message}");
            assert!(
                message.contains("ABC.gr7.eu-west-1.eks.amazonaws.com")
                    || message.contains("NotValidForName")
                    || message.contains("not valid for name"),
                "{message}"
            );
        }
        other => panic!("expected a certificate name error, got {other:?}"),
    }
}

/// Hands out the fake's static token with a chosen lifetime, counting calls; the
/// first `wrong` tokens are refused ones.
struct CountingTokens {
    token: String,
    lifetime: Duration,
    wrong: u32,
    calls: AtomicU32,
}

#[async_trait]
impl TokenSource for CountingTokens {
    async fn token(&self, _auth: &KubeAuth) -> Result<BearerToken, KubeError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(BearerToken {
            token: if call < self.wrong {
                "revoked".to_owned()
            } else {
                self.token.clone()
            },
            expires_at: SystemTime::now() + self.lifetime,
        })
    }
}

async fn token_calls(fake: &KubeFakeHandle, lifetime: Duration, wrong: u32) -> (u32, u32) {
    let tokens = Arc::new(CountingTokens {
        token: fake.token().to_owned(),
        lifetime,
        wrong,
        calls: AtomicU32::new(0),
    });
    let mut target = eks_target(fake, CLUSTER);
    target.auth = KubeAuth::Bearer("unused".into());
    let api = connector(tokens.clone())
        .connect(&target)
        .await
        .expect("connect");
    assert_eq!(
        tokens.calls.load(Ordering::SeqCst),
        0,
        "connect makes no call"
    );
    let mut ok = 0;
    for _ in 0..3 {
        if api
            .get(&object("v1", "Namespace", None, "default"))
            .await
            .is_ok()
        {
            ok += 1;
        }
    }
    (tokens.calls.load(Ordering::SeqCst), ok)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_renewed_when_less_than_five_minutes_remain() {
    let fake = fake();
    assert_eq!(
        token_calls(&fake, Duration::from_secs(14 * 60), 0).await,
        (1, 3),
        "one token serves while it has time left"
    );
    assert_eq!(
        token_calls(&fake, Duration::from_secs(4 * 60), 0).await,
        (3, 3),
        "a token with under five minutes left is renewed before each call"
    );
    assert_eq!(
        token_calls(&fake, Duration::from_secs(14 * 60), 1).await,
        (2, 2),
        "a refused token is dropped and the next call makes a new one"
    );
}

/// The same adapter against a real cluster, when `KUBECONFIG` names one (reported
/// as skipped otherwise): the development baseline of a team is applied as
/// paved applies it, read back, and removed in prune order. Kubeconfigs that log
/// in through a command (`aws eks get-token`) are skipped: paved makes its own
/// tokens from cloud credentials, which a bare cluster does not have.
#[tokio::test]
async fn a_real_cluster_when_kubeconfig_points_at_one() {
    let Some(path) = std::env::var_os("KUBECONFIG").filter(|p| !p.is_empty()) else {
        eprintln!("skipped: KUBECONFIG is not set (no real cluster to run against)");
        return;
    };
    let config = kube::config::Kubeconfig::read_from(&path).expect("read KUBECONFIG");
    let context = config
        .current_context
        .as_ref()
        .and_then(|name| config.contexts.iter().find(|c| &c.name == name))
        .and_then(|c| c.context.clone())
        .expect("a current context");
    let cluster = config
        .clusters
        .iter()
        .find(|c| c.name == context.cluster)
        .and_then(|c| c.cluster.clone())
        .expect("the context's cluster");
    let user = context.user.as_deref().unwrap_or_default();
    let token = config
        .auth_infos
        .iter()
        .find(|a| a.name == user)
        .and_then(|a| a.auth_info.clone())
        .and_then(|a| a.token)
        .map(|t| secrecy::ExposeSecret::expose_secret(&t).to_owned());
    let (Some(server), Some(token)) = (cluster.server.clone(), token) else {
        eprintln!("skipped: the KUBECONFIG user has no bearer token (exec or certificates)");
        return;
    };
    let ca_pem = cluster
        .certificate_authority_data
        .clone()
        .unwrap_or_default();
    let target = KubeTarget {
        endpoint: server,
        ca_pem,
        auth: KubeAuth::Bearer(token),
        api_url: None,
        proxy_url: None,
    };
    let api = connector(eks_tokens())
        .connect(&target)
        .await
        .expect("connect");
    let spec = paved_manifests::BaselineSpec {
        platform: paved_manifests::Platform::Eks {
            account_id: "123456789012".into(),
            region: REGION.into(),
        },
        cluster_name: "paved-e2e".into(),
        kubernetes_minor: (1, 31),
        profile_name: "development".into(),
        autoscaler: None,
        storage_class: None,
        teams: [(
            "paved-e2e".to_string(),
            paved_manifests::TeamSpec {
                namespaces: vec!["paved-e2e-dev".into()],
                groups: vec!["paved-team-paved-e2e".into()],
                view_namespaces: Vec::new(),
            },
        )]
        .into(),
        platform_admin_groups: Vec::new(),
        quota: paved_manifests::QuotaSpec {
            requests_cpu: "1".into(),
            requests_memory: "1Gi".into(),
            limits_cpu: "2".into(),
            limits_memory: "2Gi".into(),
            pods: 10,
        },
        limit_range: paved_manifests::LimitRangeSpec {
            default_request_cpu: "100m".into(),
            default_request_memory: "128Mi".into(),
            default_limit_cpu: "200m".into(),
            default_limit_memory: "256Mi".into(),
        },
        pod_security: paved_manifests::PodSecurityLevel::Restricted,
    };
    let rendered = paved_manifests::render(&spec).expect("render");
    for m in &rendered.objects {
        api.apply(&m.body).await.expect("apply");
    }
    for m in &rendered.objects {
        let object = ObjectRef {
            api_version: m.api_version.clone(),
            kind: m.kind.clone(),
            namespace: m.namespace.clone(),
            name: m.name.clone(),
        };
        assert!(api.get(&object).await.expect("get").is_some(), "{object}");
    }
    for id in paved_manifests::Rendered::prune_order(&rendered.ids()) {
        let object = ObjectRef {
            api_version: id.api_version,
            kind: id.kind,
            namespace: id.namespace,
            name: id.name,
        };
        api.delete(&object).await.expect("delete");
    }
}
