//! The EKS access-entry stand-in, driven through the real AWS SDK for Rust
//! (`aws-sdk-eks`), with a tiny in-process upstream standing in for moto:
//! it answers `DELETE /clusters/{name}` (DeleteCluster) with 200 for clusters
//! it "has", and everything else with moto's "not implemented" 404.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_sdk_eks::config::retry::RetryConfig;
use aws_sdk_eks::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use aws_sdk_eks::Client;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use paved_testbed::{FaultConfig, FaultProxy, ProxyHandle};
use tokio::net::TcpListener;

const ALICE: &str = "arn:aws:iam::123456789012:role/alice";
const BOB: &str = "arn:aws:iam::123456789012:role/platform/bob";
const CAROL: &str = "arn:aws:iam::123456789012:user/carol";
const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/// The upstream: records `METHOD path` of every request it gets.
struct Upstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    /// `clusters`: the names DeleteCluster succeeds for.
    async fn start(clusters: &[&str]) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let clusters: Arc<Vec<String>> = Arc::new(clusters.iter().map(|c| c.to_string()).collect());
        let task_seen = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = Arc::clone(&task_seen);
                let clusters = Arc::clone(&clusters);
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let seen = Arc::clone(&seen);
                        let clusters = Arc::clone(&clusters);
                        async move {
                            let line = format!("{} {}", req.method(), req.uri().path());
                            seen.lock().unwrap().push(line);
                            let deleted = req.method() == hyper::Method::DELETE
                                && req
                                    .uri()
                                    .path()
                                    .strip_prefix("/clusters/")
                                    .is_some_and(|n| clusters.iter().any(|c| c == n));
                            let (status, body) = if deleted {
                                let name = req.uri().path().trim_start_matches("/clusters/");
                                (
                                    200,
                                    format!(
                                        r#"{{"cluster":{{"name":"{name}","status":"DELETING"}}}}"#
                                    ),
                                )
                            } else {
                                (404, r#"{"message":"The ListAccessEntries action has not been implemented"}"#.to_string())
                            };
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(body)))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Upstream { addr, seen, task }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An EKS client pointed at the proxy, without retries (faults show at once).
fn eks(proxy: &ProxyHandle) -> Client {
    let conf = aws_sdk_eks::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(proxy.endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

async fn list(eks: &Client, cluster: &str) -> Vec<String> {
    eks.list_access_entries()
        .cluster_name(cluster)
        .send()
        .await
        .expect("ListAccessEntries")
        .access_entries()
        .to_vec()
}

fn cluster_scope() -> AccessScope {
    AccessScope::builder()
        .r#type(AccessScopeType::Cluster)
        .build()
}

#[tokio::test]
async fn off_by_default_access_entry_calls_reach_the_upstream() {
    let upstream = Upstream::start(&[]).await;
    let proxy = FaultProxy::start(&upstream.url(), FaultConfig::none()).unwrap();
    assert!(!proxy.access_entries_enabled());
    let err = eks(&proxy)
        .list_access_entries()
        .cluster_name("shop")
        .send()
        .await
        .expect_err("the upstream does not implement access entries");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    assert_eq!(err.code(), None, "{err:?}");
    assert_eq!(upstream.seen(), vec!["GET /clusters/shop/access-entries"]);
    assert_eq!(
        proxy
            .stats()
            .count("eks", "GET /clusters/{id}/access-entries"),
        1
    );
}

#[tokio::test]
async fn create_describe_list_associate_and_delete_through_the_sdk() {
    let upstream = Upstream::start(&[]).await;
    let proxy = FaultProxy::start(&upstream.url(), FaultConfig::none())
        .unwrap()
        .with_access_entries();
    assert!(proxy.access_entries_enabled());
    let eks = eks(&proxy);
    assert!(list(&eks, "shop").await.is_empty());

    // CreateAccessEntry with tags; the SDK reads the whole entry back.
    let created = eks
        .create_access_entry()
        .cluster_name("shop")
        .principal_arn(ALICE)
        .tags("paved:stack", "shop")
        .tags("paved:component", format!("access_entry.{ALICE}"))
        .kubernetes_groups("ops")
        .send()
        .await
        .expect("CreateAccessEntry");
    let entry = created.access_entry().expect("accessEntry");
    assert_eq!(entry.cluster_name(), Some("shop"));
    assert_eq!(entry.principal_arn(), Some(ALICE));
    assert_eq!(entry.r#type(), Some("STANDARD"));
    assert_eq!(entry.kubernetes_groups(), ["ops"]);
    assert_eq!(
        entry.username(),
        Some("arn:aws:sts::123456789012:assumed-role/alice/{{SessionName}}")
    );
    assert!(entry
        .access_entry_arn()
        .is_some_and(|a| a.starts_with("arn:aws:eks:eu-west-1:123456789012:access-entry/shop/")));
    assert!(entry.created_at().is_some_and(|t| t.secs() > 1_600_000_000));
    assert_eq!(
        entry.tags().and_then(|t| t.get("paved:stack")),
        Some(&"shop".to_string())
    );

    // A second entry for the same principal is refused with 409.
    let err = eks
        .create_access_entry()
        .cluster_name("shop")
        .principal_arn(ALICE)
        .send()
        .await
        .expect_err("duplicate");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_in_use_exception()),
        "{err:?}"
    );
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(409));

    // A principal whose ARN has a path and must be URL-encoded in the path.
    eks.create_access_entry()
        .cluster_name("shop")
        .principal_arn(BOB)
        .send()
        .await
        .expect("CreateAccessEntry bob");
    assert_eq!(list(&eks, "shop").await, vec![ALICE, BOB]);
    assert!(list(&eks, "other").await.is_empty());

    // DescribeAccessEntry, with tags; untagged for bob.
    let described = eks
        .describe_access_entry()
        .cluster_name("shop")
        .principal_arn(ALICE)
        .send()
        .await
        .expect("DescribeAccessEntry");
    let entry = described.access_entry().expect("accessEntry");
    assert_eq!(
        entry.tags().and_then(|t| t.get("paved:component")),
        Some(&format!("access_entry.{ALICE}"))
    );
    let bob = eks
        .describe_access_entry()
        .cluster_name("shop")
        .principal_arn(BOB)
        .send()
        .await
        .expect("DescribeAccessEntry bob");
    assert!(bob
        .access_entry()
        .and_then(|e| e.tags())
        .is_none_or(|t| t.is_empty()));

    // AssociateAccessPolicy is recorded (twice is fine: replaced).
    for _ in 0..2 {
        let out = eks
            .associate_access_policy()
            .cluster_name("shop")
            .principal_arn(ALICE)
            .policy_arn(ADMIN_POLICY)
            .access_scope(cluster_scope())
            .send()
            .await
            .expect("AssociateAccessPolicy");
        assert_eq!(out.cluster_name(), Some("shop"));
        assert_eq!(out.principal_arn(), Some(ALICE));
        let policy = out
            .associated_access_policy()
            .expect("associatedAccessPolicy");
        assert_eq!(policy.policy_arn(), Some(ADMIN_POLICY));
        assert_eq!(
            policy.access_scope().and_then(|s| s.r#type()),
            Some(&AccessScopeType::Cluster)
        );
    }
    let recorded = proxy.access_entry("shop", ALICE).expect("alice's entry");
    assert_eq!(recorded.access_policies.len(), 1);
    assert!(recorded.has_policy(ADMIN_POLICY));
    // ListAccessEntries filters by associated policy.
    let with_policy = eks
        .list_access_entries()
        .cluster_name("shop")
        .associated_policy_arn(ADMIN_POLICY)
        .send()
        .await
        .expect("ListAccessEntries by policy");
    assert_eq!(with_policy.access_entries(), [ALICE]);

    // A namespace scope without namespaces is refused.
    let err = eks
        .associate_access_policy()
        .cluster_name("shop")
        .principal_arn(ALICE)
        .policy_arn(ADMIN_POLICY)
        .access_scope(
            AccessScope::builder()
                .r#type(AccessScopeType::Namespace)
                .build(),
        )
        .send()
        .await
        .expect_err("namespace scope without namespaces");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_invalid_parameter_exception()),
        "{err:?}"
    );

    // DeleteAccessEntry; then the entry is not found by any call.
    eks.delete_access_entry()
        .cluster_name("shop")
        .principal_arn(ALICE)
        .send()
        .await
        .expect("DeleteAccessEntry");
    assert_eq!(list(&eks, "shop").await, vec![BOB]);
    let err = eks
        .describe_access_entry()
        .cluster_name("shop")
        .principal_arn(ALICE)
        .send()
        .await
        .expect_err("gone");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    let err = eks
        .delete_access_entry()
        .cluster_name("shop")
        .principal_arn(ALICE)
        .send()
        .await
        .expect_err("gone");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{err:?}"
    );
    let err = eks
        .associate_access_policy()
        .cluster_name("shop")
        .principal_arn(ALICE)
        .policy_arn(ADMIN_POLICY)
        .access_scope(cluster_scope())
        .send()
        .await
        .expect_err("no entry");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{err:?}"
    );

    // Nothing reached the upstream, and everything was counted.
    assert!(upstream.seen().is_empty(), "{:?}", upstream.seen());
    let stats = proxy.stats();
    assert_eq!(stats.count("eks", "POST /clusters/{id}/access-entries"), 3);
    assert_eq!(stats.count("eks", "GET /clusters/{id}/access-entries"), 5);
    assert_eq!(
        stats.count("eks", "GET /clusters/{id}/access-entries/{id}"),
        3
    );
    assert_eq!(
        stats.count("eks", "DELETE /clusters/{id}/access-entries/{id}"),
        2
    );
    assert_eq!(
        stats.count(
            "eks",
            "POST /clusters/{id}/access-entries/{id}/access-policies"
        ),
        4
    );
    assert_eq!(stats.total, 17);
}

#[tokio::test]
async fn entries_made_and_revoked_by_hand_show_through_the_api() {
    let upstream = Upstream::start(&[]).await;
    let proxy = FaultProxy::start(&upstream.url(), FaultConfig::none())
        .unwrap()
        .with_access_entries();
    let eks = eks(&proxy);
    assert!(proxy.add_access_entry("shop", CAROL));
    assert!(
        !proxy.add_access_entry("shop", CAROL),
        "a second one is refused"
    );
    assert_eq!(list(&eks, "shop").await, vec![CAROL]);
    let carol = eks
        .describe_access_entry()
        .cluster_name("shop")
        .principal_arn(CAROL)
        .send()
        .await
        .expect("DescribeAccessEntry");
    let entry = carol.access_entry().expect("accessEntry");
    assert!(entry.tags().is_none_or(|t| t.is_empty()), "{entry:?}");
    assert_eq!(entry.username(), Some(CAROL), "a user maps to its ARN");
    // The API's CreateAccessEntry sees the hand-made entry.
    let err = eks
        .create_access_entry()
        .cluster_name("shop")
        .principal_arn(CAROL)
        .send()
        .await
        .expect_err("exists");
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_resource_in_use_exception()));

    eks.create_access_entry()
        .cluster_name("shop")
        .principal_arn(ALICE)
        .send()
        .await
        .expect("CreateAccessEntry");
    assert!(proxy.remove_access_entry("shop", ALICE));
    assert!(!proxy.remove_access_entry("shop", ALICE));
    assert_eq!(list(&eks, "shop").await, vec![CAROL]);
    let all = proxy.all_access_entries();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].principal_arn, CAROL);
    assert_eq!(proxy.access_entries("shop"), all);
    assert!(proxy.access_entries("other").is_empty());
}

#[tokio::test]
async fn deleting_a_cluster_deletes_its_entries() {
    let upstream = Upstream::start(&["shop"]).await;
    let proxy = FaultProxy::start(&upstream.url(), FaultConfig::none())
        .unwrap()
        .with_access_entries();
    let eks = eks(&proxy);
    proxy.add_access_entry("shop", ALICE);
    proxy.add_access_entry("shop", CAROL);
    proxy.add_access_entry("other", ALICE);

    // The upstream refuses to delete "other": its entries stay.
    eks.delete_cluster()
        .name("other")
        .send()
        .await
        .expect_err("the upstream has no cluster other");
    assert_eq!(proxy.access_entries("other").len(), 1);

    eks.delete_cluster()
        .name("shop")
        .send()
        .await
        .expect("DeleteCluster");
    assert!(proxy.access_entries("shop").is_empty());
    assert_eq!(proxy.access_entries("other").len(), 1);
    assert_eq!(
        upstream.seen(),
        vec!["DELETE /clusters/other", "DELETE /clusters/shop"]
    );
}

#[tokio::test]
async fn faults_apply_and_turning_it_off_forwards_again() {
    let upstream = Upstream::start(&[]).await;
    let faults = FaultConfig::none()
        .with_error_500_rate(1.0)
        .with_actions(["eks:POST /clusters/{id}/access-entries"]);
    let proxy = FaultProxy::start(&upstream.url(), faults)
        .unwrap()
        .with_access_entries();
    let eks = eks(&proxy);

    // A faulted CreateAccessEntry answers 500 and creates nothing.
    let err = eks
        .create_access_entry()
        .cluster_name("shop")
        .principal_arn(ALICE)
        .send()
        .await
        .expect_err("faulted");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert!(proxy.access_entries("shop").is_empty());
    let stats = proxy.stats();
    assert_eq!(
        stats
            .faults_for("eks", "POST /clusters/{id}/access-entries")
            .error_500,
        1
    );

    proxy.set_config(FaultConfig::none()).unwrap();
    eks.create_access_entry()
        .cluster_name("shop")
        .principal_arn(ALICE)
        .send()
        .await
        .expect("CreateAccessEntry");

    // Off: requests go to the upstream; the entries are kept for later.
    proxy.set_access_entries(false);
    eks.list_access_entries()
        .cluster_name("shop")
        .send()
        .await
        .expect_err("the upstream does not implement it");
    assert_eq!(upstream.seen(), vec!["GET /clusters/shop/access-entries"]);
    proxy.set_access_entries(true);
    assert_eq!(list(&eks, "shop").await, vec![ALICE]);
}
