//! The EKS add-on and version-update stand-in (`ProxyHandle::with_eks_extras`),
//! driven through the real AWS SDK for Rust (`aws-sdk-eks`) against a real
//! moto server behind the proxy: moto holds the clusters and node groups, the
//! proxy the add-ons and updates.
//!
//! moto comes from the venv made by `scripts/setup-venv.sh`: `$PAVED_VENV`,
//! else `<repo>/.venv` (the same one the root crate's tests use).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_eks::config::retry::RetryConfig;
use aws_sdk_eks::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_eks::types::{
    AddonStatus, ClusterStatus, NodegroupStatus, ResolveConflicts, UpdateParamType, UpdateStatus,
    UpdateType, VpcConfigRequest,
};
use aws_sdk_eks::Client;
use paved_testbed::{FaultConfig, FaultProxy, ProxyHandle};

const ROLE: &str = "arn:aws:iam::123456789012:role/eks-cluster";
const NODE_ROLE: &str = "arn:aws:iam::123456789012:role/eks-nodes";
const EBS_ROLE: &str = "arn:aws:iam::123456789012:role/ebs-csi";

/// A moto server private to one test, killed on drop.
struct Moto {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Moto {
    fn start() -> Moto {
        let venv = match std::env::var_os("PAVED_VENV") {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv"),
        };
        let server = venv.join("bin/moto_server");
        assert!(
            server.exists(),
            "{} is missing: run scripts/setup-venv.sh first (override with PAVED_VENV)",
            server.display()
        );
        let log = std::env::temp_dir().join(format!(
            "paved-testbed-moto-{}-{:?}.log",
            std::process::id(),
            std::thread::current().id()
        ));
        let log_file = fs::File::create(&log).expect("moto log file");
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone log handle"))
            .stderr(log_file)
            .spawn()
            .expect("start moto_server");
        let mut moto = Moto {
            child,
            port: 0,
            log,
        };
        // Generous: moto imports slowly on a loaded 2-core machine.
        let deadline = Instant::now() + Duration::from_secs(180);
        const NEEDLE: &str = "Running on http://127.0.0.1:";
        loop {
            let text = fs::read_to_string(&moto.log).unwrap_or_default();
            if let Some(i) = text.find(NEEDLE) {
                let digits: String = text[i + NEEDLE.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                moto.port = digits.parse().unwrap();
                break;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited ({status}):\n{text}");
            }
            assert!(Instant::now() < deadline, "moto did not start:\n{text}");
            std::thread::sleep(Duration::from_millis(25));
        }
        while std::net::TcpStream::connect(("127.0.0.1", moto.port)).is_err() {
            assert!(Instant::now() < deadline, "moto does not answer");
            std::thread::sleep(Duration::from_millis(25));
        }
        moto
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}

/// An EKS client for `endpoint`, without retries (faults show at once).
fn eks_at(endpoint: &str) -> Client {
    let conf = aws_sdk_eks::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

fn eks(proxy: &ProxyHandle) -> Client {
    eks_at(&proxy.endpoint())
}

async fn create_cluster(eks: &Client, name: &str, version: &str) {
    eks.create_cluster()
        .name(name)
        .version(version)
        .role_arn(ROLE)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .subnet_ids("subnet-11111111")
                .subnet_ids("subnet-22222222")
                .build(),
        )
        .send()
        .await
        .expect("CreateCluster");
}

fn is_invalid<E: ProvideErrorMetadata>(err: &E) -> bool {
    err.code() == Some("InvalidParameterException")
}

fn status<E>(err: &aws_sdk_eks::error::SdkError<E>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addons_lifecycle_through_the_sdk() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url(), FaultConfig::none())
        .unwrap()
        .with_eks_extras();
    assert!(proxy.eks_extras_enabled());
    let eks = eks(&proxy);
    create_cluster(&eks, "shop", "1.30").await;

    // The version table, filtered as EKS filters it.
    let versions = eks
        .describe_addon_versions()
        .kubernetes_version("1.30")
        .addon_name("coredns")
        .send()
        .await
        .expect("DescribeAddonVersions");
    let info = &versions.addons()[0];
    assert_eq!(info.addon_name(), Some("coredns"));
    let default: Vec<&str> = info
        .addon_versions()
        .iter()
        .filter(|v| {
            v.compatibilities()
                .iter()
                .any(|c| c.cluster_version() == Some("1.30") && c.default_version())
        })
        .filter_map(|v| v.addon_version())
        .collect();
    assert_eq!(default, ["v1.11.3-eksbuild.2"]);
    let all = eks
        .describe_addon_versions()
        .send()
        .await
        .expect("DescribeAddonVersions");
    let mut names: Vec<&str> = all.addons().iter().filter_map(|a| a.addon_name()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "aws-ebs-csi-driver",
            "coredns",
            "kube-proxy",
            "metrics-server",
            "vpc-cni"
        ]
    );

    // CreateAddon without a version: the default for the cluster's minor.
    let created = eks
        .create_addon()
        .cluster_name("shop")
        .addon_name("coredns")
        .send()
        .await
        .expect("CreateAddon");
    let addon = created.addon().expect("addon");
    assert_eq!(addon.status(), Some(&AddonStatus::Creating));
    assert_eq!(addon.addon_version(), Some("v1.11.3-eksbuild.2"));
    assert!(addon
        .addon_arn()
        .is_some_and(|a| a.starts_with("arn:aws:eks:eu-west-1:123456789012:addon/shop/coredns/")));
    let described = eks
        .describe_addon()
        .cluster_name("shop")
        .addon_name("coredns")
        .send()
        .await
        .expect("DescribeAddon");
    assert_eq!(
        described.addon().and_then(|a| a.status()),
        Some(&AddonStatus::Active),
        "no delay: ACTIVE at the next read"
    );

    // Duplicate: 409 ResourceInUseException.
    let err = eks
        .create_addon()
        .cluster_name("shop")
        .addon_name("coredns")
        .send()
        .await
        .expect_err("duplicate");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_in_use_exception()),
        "{err:?}"
    );
    assert_eq!(status(&err), Some(409));

    // A version of another minor: 400 InvalidParameterException.
    let err = eks
        .create_addon()
        .cluster_name("shop")
        .addon_name("kube-proxy")
        .addon_version("v1.31.3-eksbuild.2")
        .send()
        .await
        .expect_err("incompatible");
    assert!(is_invalid(&err), "{err:?}");
    assert_eq!(status(&err), Some(400));
    // An unknown add-on, too.
    let err = eks
        .create_addon()
        .cluster_name("shop")
        .addon_name("no-such-addon")
        .send()
        .await
        .expect_err("unknown add-on");
    assert!(is_invalid(&err), "{err:?}");

    // A cluster moto does not have: 404 ResourceNotFoundException.
    let err = eks
        .create_addon()
        .cluster_name("nope")
        .addon_name("coredns")
        .send()
        .await
        .expect_err("no cluster");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{err:?}"
    );
    assert_eq!(status(&err), Some(404));

    // Every field of CreateAddon is kept.
    let created = eks
        .create_addon()
        .cluster_name("shop")
        .addon_name("aws-ebs-csi-driver")
        .addon_version("v1.37.0-eksbuild.1")
        .service_account_role_arn(EBS_ROLE)
        .resolve_conflicts(ResolveConflicts::Overwrite)
        .configuration_values(r#"{"controller":{"replicaCount":1}}"#)
        .tags("paved:stack", "shop")
        .send()
        .await
        .expect("CreateAddon ebs");
    let ebs = created.addon().expect("addon");
    assert_eq!(ebs.service_account_role_arn(), Some(EBS_ROLE));
    assert_eq!(
        ebs.configuration_values(),
        Some(r#"{"controller":{"replicaCount":1}}"#)
    );
    let arn = ebs.addon_arn().expect("arn").to_string();
    let err = eks
        .create_addon()
        .cluster_name("shop")
        .addon_name("vpc-cni")
        .configuration_values("{not json")
        .send()
        .await
        .expect_err("bad configuration values");
    assert!(is_invalid(&err), "{err:?}");

    let listed = eks
        .list_addons()
        .cluster_name("shop")
        .send()
        .await
        .expect("ListAddons");
    assert_eq!(listed.addons(), ["aws-ebs-csi-driver", "coredns"]);

    // Tags of an add-on ARN are the stand-in's.
    eks.tag_resource()
        .resource_arn(&arn)
        .tags("team", "platform")
        .send()
        .await
        .expect("TagResource");
    eks.untag_resource()
        .resource_arn(&arn)
        .tag_keys("paved:stack")
        .send()
        .await
        .expect("UntagResource");
    let tags = eks
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("ListTagsForResource");
    let tags = tags.tags().expect("tags");
    assert_eq!(tags.len(), 1);
    assert_eq!(tags.get("team").map(String::as_str), Some("platform"));

    // UpdateAddon returns an update; DescribeUpdate finds it by add-on.
    let updated = eks
        .update_addon()
        .cluster_name("shop")
        .addon_name("aws-ebs-csi-driver")
        .addon_version("v1.38.1-eksbuild.2")
        .resolve_conflicts(ResolveConflicts::Preserve)
        .send()
        .await
        .expect("UpdateAddon");
    let update = updated.update().expect("update");
    assert_eq!(update.r#type(), Some(&UpdateType::AddonUpdate));
    assert_eq!(update.status(), Some(&UpdateStatus::InProgress));
    let params: Vec<(String, String)> = update
        .params()
        .iter()
        .map(|p| {
            (
                p.r#type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                p.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        params,
        [
            ("AddonVersion".to_string(), "v1.38.1-eksbuild.2".to_string()),
            ("ResolveConflicts".to_string(), "PRESERVE".to_string())
        ]
    );
    let id = update.id().expect("id").to_string();
    let found = eks
        .describe_update()
        .name("shop")
        .update_id(&id)
        .addon_name("aws-ebs-csi-driver")
        .send()
        .await
        .expect("DescribeUpdate");
    assert_eq!(
        found.update().and_then(|u| u.status()),
        Some(&UpdateStatus::Successful)
    );
    // Without the add-on's name, the update is not the cluster's.
    let err = eks
        .describe_update()
        .name("shop")
        .update_id(&id)
        .send()
        .await
        .expect_err("not a cluster update");
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception()));
    let ids = eks
        .list_updates()
        .name("shop")
        .addon_name("aws-ebs-csi-driver")
        .send()
        .await
        .expect("ListUpdates");
    assert_eq!(ids.update_ids(), std::slice::from_ref(&id));
    let ebs = proxy
        .eks_addon("shop", "aws-ebs-csi-driver")
        .expect("ebs add-on");
    assert_eq!(ebs.addon_version, "v1.38.1-eksbuild.2");
    assert_eq!(ebs.status, "ACTIVE");
    assert_eq!(ebs.resolve_conflicts.as_deref(), Some("PRESERVE"));
    // Downgrades are refused.
    let err = eks
        .update_addon()
        .cluster_name("shop")
        .addon_name("aws-ebs-csi-driver")
        .addon_version("v1.37.0-eksbuild.1")
        .send()
        .await
        .expect_err("downgrade");
    assert!(is_invalid(&err), "{err:?}");

    // DeleteAddon: DELETING, then gone.
    let deleted = eks
        .delete_addon()
        .cluster_name("shop")
        .addon_name("coredns")
        .send()
        .await
        .expect("DeleteAddon");
    assert_eq!(
        deleted.addon().and_then(|a| a.status()),
        Some(&AddonStatus::Deleting)
    );
    let err = eks
        .describe_addon()
        .cluster_name("shop")
        .addon_name("coredns")
        .send()
        .await
        .expect_err("deleted");
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception()));
    assert_eq!(err.code(), Some("ResourceNotFoundException"));

    // Deleting the cluster through the proxy deletes its add-ons; a cluster
    // made again under the same name starts without any.
    eks.delete_cluster()
        .name("shop")
        .send()
        .await
        .expect("DeleteCluster");
    assert!(proxy.eks_addons("shop").is_empty());
    assert!(proxy.eks_updates("shop").is_empty());
    create_cluster(&eks, "shop", "1.31").await;
    let listed = eks
        .list_addons()
        .cluster_name("shop")
        .send()
        .await
        .expect("ListAddons");
    assert!(listed.addons().is_empty());

    // Counted under their real names.
    let stats = proxy.stats();
    assert_eq!(stats.count("eks", "CreateAddon"), 7);
    assert_eq!(stats.count("eks", "DescribeAddon"), 2);
    assert_eq!(stats.count("eks", "ListAddons"), 2);
    assert_eq!(stats.count("eks", "UpdateAddon"), 2);
    assert_eq!(stats.count("eks", "DeleteAddon"), 1);
    assert_eq!(stats.count("eks", "DescribeAddonVersions"), 2);
    assert_eq!(stats.count("eks", "DescribeUpdate"), 2);
    assert_eq!(stats.count("eks", "ListUpdates"), 1);
    assert_eq!(stats.count("eks", "POST /clusters"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_and_nodegroup_upgrades_show_in_moto_answers() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url(), FaultConfig::none())
        .unwrap()
        .with_eks_extras();
    let eks = eks(&proxy);
    create_cluster(&eks, "shop", "1.29").await;
    eks.create_nodegroup()
        .cluster_name("shop")
        .nodegroup_name("general")
        .node_role(NODE_ROLE)
        .subnets("subnet-11111111")
        .version("1.29")
        .send()
        .await
        .expect("CreateNodegroup");

    // Skipping a minor is refused.
    let err = eks
        .update_cluster_version()
        .name("shop")
        .version("1.31")
        .send()
        .await
        .expect_err("skip");
    assert!(is_invalid(&err), "{err:?}");
    assert_eq!(status(&err), Some(400));

    let out = eks
        .update_cluster_version()
        .name("shop")
        .version("1.30")
        .send()
        .await
        .expect("UpdateClusterVersion");
    let update = out.update().expect("update");
    assert_eq!(update.status(), Some(&UpdateStatus::InProgress));
    assert_eq!(update.r#type(), Some(&UpdateType::VersionUpdate));
    let id = update.id().expect("id").to_string();
    assert_eq!(id.len(), 36, "{id}");
    let params: Vec<(&UpdateParamType, &str)> = update
        .params()
        .iter()
        .filter_map(|p| Some((p.r#type()?, p.value()?)))
        .collect();
    assert_eq!(
        params,
        [
            (&UpdateParamType::Version, "1.30"),
            (&UpdateParamType::PlatformVersion, "eks.27")
        ]
    );
    let found = eks
        .describe_update()
        .name("shop")
        .update_id(&id)
        .send()
        .await
        .expect("DescribeUpdate");
    assert_eq!(
        found.update().and_then(|u| u.status()),
        Some(&UpdateStatus::Successful)
    );

    // DescribeCluster through the proxy reports the new version; moto itself
    // still has the old one.
    let cluster = eks
        .describe_cluster()
        .name("shop")
        .send()
        .await
        .expect("DescribeCluster");
    let cluster = cluster.cluster().expect("cluster");
    assert_eq!(cluster.version(), Some("1.30"));
    assert_eq!(cluster.platform_version(), Some("eks.27"));
    assert_eq!(cluster.status(), Some(&ClusterStatus::Active));
    let direct = eks_at(&moto.url())
        .describe_cluster()
        .name("shop")
        .send()
        .await
        .expect("DescribeCluster from moto");
    assert_eq!(direct.cluster().and_then(|c| c.version()), Some("1.29"));
    assert_eq!(proxy.eks_cluster_version("shop").as_deref(), Some("1.30"));
    let clusters = eks.list_clusters().send().await.expect("ListClusters");
    assert_eq!(clusters.clusters(), ["shop"]);

    // Add-ons now follow the new minor.
    let err = eks
        .create_addon()
        .cluster_name("shop")
        .addon_name("kube-proxy")
        .addon_version("v1.29.11-eksbuild.2")
        .send()
        .await
        .expect_err("1.29 kube-proxy on a 1.30 cluster");
    assert!(is_invalid(&err), "{err:?}");
    let created = eks
        .create_addon()
        .cluster_name("shop")
        .addon_name("kube-proxy")
        .send()
        .await
        .expect("CreateAddon");
    assert_eq!(
        created.addon().and_then(|a| a.addon_version()),
        Some("v1.30.7-eksbuild.2")
    );

    // Node groups: not above the cluster.
    let err = eks
        .update_nodegroup_version()
        .cluster_name("shop")
        .nodegroup_name("general")
        .version("1.31")
        .send()
        .await
        .expect_err("above the cluster");
    assert!(is_invalid(&err), "{err:?}");
    let err = eks
        .update_nodegroup_version()
        .cluster_name("shop")
        .nodegroup_name("nope")
        .send()
        .await
        .expect_err("no such node group");
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception()));
    // Without a version: the cluster's.
    let out = eks
        .update_nodegroup_version()
        .cluster_name("shop")
        .nodegroup_name("general")
        .send()
        .await
        .expect("UpdateNodegroupVersion");
    let update = out.update().expect("update");
    let ng_id = update.id().expect("id").to_string();
    let params: Vec<(&str, &str)> = update
        .params()
        .iter()
        .filter_map(|p| Some((p.r#type()?.as_str(), p.value()?)))
        .collect();
    assert_eq!(
        params,
        [("Version", "1.30"), ("ReleaseVersion", "1.30.8-20250116")]
    );
    let found = eks
        .describe_update()
        .name("shop")
        .nodegroup_name("general")
        .update_id(&ng_id)
        .send()
        .await
        .expect("DescribeUpdate of the node group");
    assert_eq!(
        found.update().and_then(|u| u.status()),
        Some(&UpdateStatus::Successful)
    );
    let ng = eks
        .describe_nodegroup()
        .cluster_name("shop")
        .nodegroup_name("general")
        .send()
        .await
        .expect("DescribeNodegroup");
    let ng = ng.nodegroup().expect("nodegroup");
    assert_eq!(ng.version(), Some("1.30"));
    assert_eq!(ng.release_version(), Some("1.30.8-20250116"));
    assert_eq!(ng.status(), Some(&NodegroupStatus::Active));
    assert_eq!(
        proxy.eks_nodegroup_version("shop", "general").as_deref(),
        Some("1.30")
    );
    let ids = eks
        .list_updates()
        .name("shop")
        .send()
        .await
        .expect("ListUpdates");
    assert_eq!(ids.update_ids(), [id]);
    let ids = eks
        .list_updates()
        .name("shop")
        .nodegroup_name("general")
        .send()
        .await
        .expect("ListUpdates of the node group");
    assert_eq!(ids.update_ids(), [ng_id]);
    assert_eq!(proxy.eks_updates("shop").len(), 2);

    let stats = proxy.stats();
    assert_eq!(stats.count("eks", "UpdateClusterVersion"), 2);
    assert_eq!(stats.count("eks", "UpdateNodegroupVersion"), 3);
    assert_eq!(stats.count("eks", "GET /clusters/{id}"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_take_the_configured_delay() {
    let moto = Moto::start();
    let delay = Duration::from_millis(600);
    let proxy = FaultProxy::start(&moto.url(), FaultConfig::none())
        .unwrap()
        .with_eks_extras()
        .with_eks_delay(delay);
    assert_eq!(proxy.eks_delay(), delay);
    let eks = eks(&proxy);
    create_cluster(&eks, "shop", "1.31").await;
    eks.create_nodegroup()
        .cluster_name("shop")
        .nodegroup_name("general")
        .node_role(NODE_ROLE)
        .subnets("subnet-11111111")
        .version("1.31")
        .send()
        .await
        .expect("CreateNodegroup");
    let started = Instant::now();

    eks.create_addon()
        .cluster_name("shop")
        .addon_name("vpc-cni")
        .send()
        .await
        .expect("CreateAddon");
    let update = eks
        .update_cluster_version()
        .name("shop")
        .version("1.32")
        .send()
        .await
        .expect("UpdateClusterVersion");
    let id = update
        .update()
        .and_then(|u| u.id())
        .expect("id")
        .to_string();

    // While the delay runs: CREATING, UPDATING with the old version,
    // InProgress, and a second update is refused.
    let addon = eks
        .describe_addon()
        .cluster_name("shop")
        .addon_name("vpc-cni")
        .send()
        .await
        .expect("DescribeAddon");
    assert_eq!(
        addon.addon().and_then(|a| a.status()),
        Some(&AddonStatus::Creating)
    );
    let cluster = eks
        .describe_cluster()
        .name("shop")
        .send()
        .await
        .expect("DescribeCluster");
    let cluster = cluster.cluster().expect("cluster");
    assert_eq!(cluster.status(), Some(&ClusterStatus::Updating));
    assert_eq!(cluster.version(), Some("1.31"));
    let err = eks
        .update_cluster_version()
        .name("shop")
        .version("1.32")
        .send()
        .await
        .expect_err("one at a time");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_in_use_exception()),
        "{err:?}"
    );
    let err = eks
        .update_addon()
        .cluster_name("shop")
        .addon_name("vpc-cni")
        .send()
        .await
        .expect_err("still CREATING");
    assert_eq!(status(&err), Some(409));
    assert!(
        started.elapsed() < delay,
        "the machine is too slow for this test"
    );

    // Poll like a waiter.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let u = eks
            .describe_update()
            .name("shop")
            .update_id(&id)
            .send()
            .await
            .expect("DescribeUpdate");
        if u.update().and_then(|u| u.status()) == Some(&UpdateStatus::Successful) {
            break;
        }
        assert!(Instant::now() < deadline, "update never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started.elapsed() >= delay);
    let cluster = eks
        .describe_cluster()
        .name("shop")
        .send()
        .await
        .expect("DescribeCluster");
    let cluster = cluster.cluster().expect("cluster");
    assert_eq!(cluster.status(), Some(&ClusterStatus::Active));
    assert_eq!(cluster.version(), Some("1.32"));
    assert_eq!(
        proxy.eks_addon("shop", "vpc-cni").map(|a| a.status),
        Some("ACTIVE".to_string())
    );

    // Node group: UPDATING with the old version, then the new one.
    eks.update_nodegroup_version()
        .cluster_name("shop")
        .nodegroup_name("general")
        .version("1.32")
        .release_version("1.32.0-20250201")
        .send()
        .await
        .expect("UpdateNodegroupVersion");
    let ng = eks
        .describe_nodegroup()
        .cluster_name("shop")
        .nodegroup_name("general")
        .send()
        .await
        .expect("DescribeNodegroup");
    let ng = ng.nodegroup().expect("nodegroup");
    assert_eq!(ng.status(), Some(&NodegroupStatus::Updating));
    assert_eq!(ng.version(), Some("1.31"));
    tokio::time::sleep(delay).await;
    let ng = eks
        .describe_nodegroup()
        .cluster_name("shop")
        .nodegroup_name("general")
        .send()
        .await
        .expect("DescribeNodegroup");
    let ng = ng.nodegroup().expect("nodegroup");
    assert_eq!(ng.status(), Some(&NodegroupStatus::Active));
    assert_eq!(ng.version(), Some("1.32"));
    assert_eq!(ng.release_version(), Some("1.32.0-20250201"));

    // DeleteAddon: DELETING until the delay is over, then gone.
    eks.delete_addon()
        .cluster_name("shop")
        .addon_name("vpc-cni")
        .send()
        .await
        .expect("DeleteAddon");
    let addon = eks
        .describe_addon()
        .cluster_name("shop")
        .addon_name("vpc-cni")
        .send()
        .await
        .expect("DescribeAddon while deleting");
    assert_eq!(
        addon.addon().and_then(|a| a.status()),
        Some(&AddonStatus::Deleting)
    );
    tokio::time::sleep(delay).await;
    assert!(proxy.eks_addon("shop", "vpc-cni").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_apply_and_turning_it_off_forwards_to_moto() {
    let moto = Moto::start();
    let faults = FaultConfig::none()
        .with_error_500_rate(1.0)
        .with_actions(["eks:CreateAddon"]);
    let proxy = FaultProxy::start(&moto.url(), faults)
        .unwrap()
        .with_eks_extras();
    let eks = eks(&proxy);
    create_cluster(&eks, "shop", "1.31").await;

    // A faulted CreateAddon answers 500 and creates nothing.
    let err = eks
        .create_addon()
        .cluster_name("shop")
        .addon_name("coredns")
        .send()
        .await
        .expect_err("faulted");
    assert_eq!(status(&err), Some(500));
    assert!(proxy.eks_addons("shop").is_empty());
    assert_eq!(proxy.stats().faults_for("eks", "CreateAddon").error_500, 1);

    proxy.set_config(FaultConfig::none()).unwrap();
    eks.create_addon()
        .cluster_name("shop")
        .addon_name("coredns")
        .send()
        .await
        .expect("CreateAddon");
    eks.update_cluster_version()
        .name("shop")
        .version("1.32")
        .send()
        .await
        .expect("UpdateClusterVersion");

    // Off: moto answers (it has no add-ons), and its DescribeCluster is not
    // rewritten; the state is kept for later.
    proxy.set_eks_extras(false);
    assert!(!proxy.eks_extras_enabled());
    let err = eks
        .list_addons()
        .cluster_name("shop")
        .send()
        .await
        .expect_err("moto does not implement add-ons");
    assert_eq!(err.code(), None, "{err:?}");
    let cluster = eks
        .describe_cluster()
        .name("shop")
        .send()
        .await
        .expect("DescribeCluster");
    assert_eq!(cluster.cluster().and_then(|c| c.version()), Some("1.31"));

    proxy.set_eks_extras(true);
    let listed = eks
        .list_addons()
        .cluster_name("shop")
        .send()
        .await
        .expect("ListAddons");
    assert_eq!(listed.addons(), ["coredns"]);
    let cluster = eks
        .describe_cluster()
        .name("shop")
        .send()
        .await
        .expect("DescribeCluster");
    assert_eq!(cluster.cluster().and_then(|c| c.version()), Some("1.32"));
}
