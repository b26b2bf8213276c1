//! The AWS backend of `paved_ha_cluster` against moto, behind the counting proxy:
//! a production stack ensured twice (nothing created the second time), refreshed
//! in a bounded number of calls, a pool updated in place, torn down completely
//! (with a load balancer Kubernetes would have made), and a foreign role refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use paved::cloud::aws::cluster::AwsClusterBackend;
use paved::cloud::aws::AwsClients;
use paved::ports::cluster::Capacity;
use paved::ports::cluster::{
    ClusterBackend, ControlPlaneRequest, IdentityRequest, NetworkRequest, NodePoolRequest, Taint,
    TeardownRequest, ZoneChoice,
};
use paved::ports::key::EncryptionKeyRequest;
use paved::ports::network::NatLayout;
use paved::ports::network::Tier;
use paved::stack::tags::{COMPONENT_TAG, STACK_TAG};
use paved::stack::{BackendError, StackContext};
use paved_testbed::{FaultConfig, FaultProxy, ProxyHandle, Stats};

use crate::support::aws::{cluster_context as context, moto_clients, user_network};
use crate::support::{calls, cloud, Moto};

fn pools(subnets: &[String], node_role: &str) -> Vec<NodePoolRequest> {
    vec![
        NodePoolRequest {
            name: "system".into(),
            instance_types: vec!["m5.large".into()],
            capacity: Capacity::OnDemand,
            min_size: 3,
            max_size: 6,
            disk_size_gb: 50,
            labels: BTreeMap::new(),
            taints: Vec::new(),
            subnet_ids: subnets.to_vec(),
            node_identity: node_role.to_owned(),
            kubernetes_version: "1.31".into(),
        },
        NodePoolRequest {
            name: "spot".into(),
            instance_types: vec!["m5.xlarge".into(), "m5a.xlarge".into()],
            capacity: Capacity::Spot,
            min_size: 0,
            max_size: 10,
            disk_size_gb: 100,
            labels: BTreeMap::from([("workload".to_owned(), "batch".to_owned())]),
            taints: vec![Taint {
                key: "spot".into(),
                value: Some("true".into()),
                effect: "NoSchedule".into(),
            }],
            subnet_ids: subnets.to_vec(),
            node_identity: node_role.to_owned(),
            kubernetes_version: "1.31".into(),
        },
    ]
}

/// The whole ensure sequence the resource runs for a production stack.
async fn ensure_all(backend: &AwsClusterBackend, ctx: &StackContext) -> (Vec<String>, String) {
    let net = backend
        .ensure_network(
            ctx,
            &NetworkRequest::Build {
                cidr: "10.0.0.0/16".into(),
                zones: ZoneChoice::Choose(3),
                nat: NatLayout::PerZone,
            },
        )
        .await
        .result
        .expect("network");
    assert_eq!(net.zones.len(), 3);
    let key = backend
        .ensure_encryption_key(ctx, &EncryptionKeyRequest::Create)
        .await
        .result
        .expect("key");
    let iam = backend
        .ensure_identities(
            ctx,
            &IdentityRequest {
                workload_identity_provider: None,
            },
        )
        .await
        .result
        .expect("iam");
    let intra: Vec<String> = net.subnet_ids[&Tier::Isolated].values().cloned().collect();
    let private: Vec<String> = net.subnet_ids[&Tier::Private].values().cloned().collect();
    let cp = backend
        .ensure_control_plane(
            ctx,
            &ControlPlaneRequest {
                name: ctx.stack.clone(),
                kubernetes_version: Some("1.31".into()),
                vpc_id: String::new(),
                subnet_ids: intra,
                public_access_cidrs: vec!["203.0.113.0/24".into()],
                encryption_key: key.id.clone(),
                control_plane_identity: iam.control_plane_identity.clone(),
                log_types: vec!["api".into(), "audit".into()],
                log_retention_days: 30,
                admins: Vec::new(),
                zones: Vec::new(),
                initial_node_pools: Vec::new(),
            },
        )
        .await
        .result
        .expect("control plane");
    assert_eq!(cp.kubernetes_version, "1.31");
    assert!(
        cp.workload_identity_provider.contains(":oidc-provider/"),
        "{cp:?}"
    );
    let iam = backend
        .ensure_identities(
            ctx,
            &IdentityRequest {
                workload_identity_provider: Some(cp.workload_identity_provider.clone()),
            },
        )
        .await
        .result
        .expect("iam with autoscaler");
    assert!(iam.autoscaler_identity.is_some());
    for pool in pools(&private, &iam.node_identity) {
        let state = backend
            .ensure_node_pool(ctx, &pool)
            .await
            .result
            .unwrap_or_else(|e| panic!("pool {}: {e}", pool.name));
        assert_eq!(state.min_size, pool.min_size);
        assert_eq!(state.capacity, pool.capacity);
    }
    let public: Vec<String> = net.subnet_ids[&Tier::Public].values().cloned().collect();
    (public, iam.node_identity)
}

fn mutations(stats: &Stats) -> BTreeMap<String, u64> {
    calls(stats)
        .into_iter()
        .filter(|(call, _)| {
            let action = call.split_once(':').map_or("", |(_, action)| action);
            let rest_write = action.starts_with("POST ")
                || action.starts_with("PUT ")
                || action.starts_with("DELETE ");
            let write = [
                "Create",
                "Put",
                "Attach",
                "Update",
                "Associate",
                "Modify",
                "Allocate",
                "Tag",
                "Delete",
                "Run",
                "Schedule",
            ]
            .iter()
            .any(|p| action.starts_with(p));
            rest_write || write
        })
        .collect()
}

fn print_counts(title: &str, stats: &Stats) {
    println!("{title}: {} calls", stats.total);
    for (service, actions) in &stats.by_service {
        for (action, n) in actions {
            println!("  {service:>28} {action:<48} {n}");
        }
    }
}

/// What moto still holds of the stack's network: its EC2 objects, and the security
/// groups still in its VPC, tagged or not.
async fn ec2_leftovers(ec2: &aws_sdk_ec2::Client, stack: &str, vpc_id: &str) -> Vec<String> {
    let mut left: Vec<String> = cloud::ec2_objects(ec2)
        .await
        .iter()
        .filter(|o| o.stack() == Some(stack))
        .map(ToString::to_string)
        .collect();
    let in_vpc = aws_sdk_ec2::types::Filter::builder()
        .name("vpc-id")
        .values(vpc_id)
        .build();
    let groups = ec2
        .describe_security_groups()
        .filters(in_vpc)
        .send()
        .await
        .unwrap();
    for group in groups.security_groups() {
        let group = format!(
            "ec2 security-group {}",
            group.group_id().unwrap_or_default()
        );
        if !left.contains(&group) {
            left.push(group);
        }
    }
    left
}

/// Node group `name` of cluster `shop`, as moto holds it.
async fn node_group(eks: &aws_sdk_eks::Client, name: &str) -> aws_sdk_eks::types::Nodegroup {
    let out = eks
        .describe_nodegroup()
        .cluster_name("shop")
        .nodegroup_name(name)
        .send()
        .await
        .unwrap();
    out.nodegroup().unwrap().clone()
}

fn has_tag(tags: &std::collections::HashMap<String, String>, key: &str, value: &str) -> bool {
    tags.get(key).map(String::as_str) == Some(value)
}

fn start(moto: &Moto) -> (ProxyHandle, Arc<AwsClients>) {
    let proxy = FaultProxy::start(&moto.endpoint(), FaultConfig::none()).expect("proxy");
    let clients = moto_clients(&proxy.endpoint());
    (proxy, clients)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_cluster_lifecycle() {
    let moto = Moto::start();
    let (proxy, clients) = start(&moto);
    let backend = AwsClusterBackend::new(clients.clone());
    let ctx = context("shop");

    // 1. Everything, from nothing.
    let (public_subnets, node_role) = ensure_all(&backend, &ctx).await;
    print_counts("first ensure", &proxy.stats());

    let eks = clients.eks(None).await.unwrap();
    let iam = clients.iam(None).await.unwrap();
    let ec2 = clients.ec2(None).await.unwrap();
    let logs = clients.logs(None).await.unwrap();
    let kms = clients.kms(None).await.unwrap();
    let elbv2 = clients.elbv2(None).await.unwrap();

    let cluster = eks.describe_cluster().name("shop").send().await.unwrap();
    let cluster = cluster.cluster().unwrap();
    let tags = cluster.tags().unwrap();
    assert!(has_tag(tags, STACK_TAG, "shop"));
    assert!(has_tag(tags, COMPONENT_TAG, "cluster"));
    assert!(has_tag(tags, "paved:resource", "paved_ha_cluster"));
    assert!(has_tag(tags, "paved:managed-by", "paved"));
    assert!(has_tag(tags, "team", "platform"));
    let vpc = cluster.resources_vpc_config().unwrap();
    assert!(vpc.endpoint_private_access());
    assert!(vpc.endpoint_public_access());
    assert_eq!(vpc.public_access_cidrs(), ["203.0.113.0/24"]);
    assert!(cluster.encryption_config()[0]
        .provider()
        .and_then(|p| p.key_arn())
        .is_some());

    for which in ["cluster", "node", "autoscaler"] {
        let role = iam
            .get_role()
            .role_name(format!("shop-{which}"))
            .send()
            .await
            .unwrap();
        let role = role.role().unwrap();
        assert_eq!(role.path(), "/paved/shop/");
        assert!(role
            .tags()
            .iter()
            .any(|t| t.key() == COMPONENT_TAG && t.value() == format!("iam_role.{which}")));
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name("shop-node")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 3);
    let inline = iam
        .list_role_policies()
        .role_name("shop-autoscaler")
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["cluster-autoscaler"]);

    let providers = iam.list_open_id_connect_providers().send().await.unwrap();
    assert_eq!(providers.open_id_connect_provider_list().len(), 1);
    let provider_arn = providers.open_id_connect_provider_list()[0].arn().unwrap();
    let provider = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(provider_arn)
        .send()
        .await
        .unwrap();
    assert!(provider
        .tags()
        .iter()
        .any(|t| t.key() == STACK_TAG && t.value() == "shop"));

    let group = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/eks/shop/cluster")
        .send()
        .await
        .unwrap();
    assert_eq!(group.log_groups().len(), 1);
    assert_eq!(group.log_groups()[0].retention_in_days(), Some(30));
    #[allow(deprecated)]
    let group_tags = logs
        .list_tags_log_group()
        .log_group_name("/aws/eks/shop/cluster")
        .send()
        .await
        .unwrap();
    assert!(has_tag(
        group_tags.tags().unwrap(),
        COMPONENT_TAG,
        "log_group"
    ));

    let templates = ec2.describe_launch_templates().send().await.unwrap();
    assert_eq!(templates.launch_templates().len(), 2);
    for t in templates.launch_templates() {
        assert!(t.tags().iter().any(|tag| tag.key() == Some(STACK_TAG)));
        let data = ec2
            .describe_launch_template_versions()
            .launch_template_id(t.launch_template_id().unwrap())
            .versions("$Latest")
            .send()
            .await
            .unwrap();
        let data = data.launch_template_versions()[0]
            .launch_template_data()
            .unwrap();
        let md = data.metadata_options().unwrap();
        assert_eq!(md.http_tokens().map(|t| t.as_str()), Some("required"));
        assert_eq!(md.http_put_response_hop_limit(), Some(2));
        let ebs = data.block_device_mappings()[0].ebs().unwrap();
        assert_eq!(ebs.volume_type().map(|v| v.as_str()), Some("gp3"));
        assert_eq!(ebs.encrypted(), Some(true));
    }

    let spot = node_group(&eks, "spot").await;
    assert_eq!(spot.capacity_type().map(|c| c.as_str()), Some("SPOT"));
    assert_eq!(spot.instance_types().len(), 2);
    assert_eq!(spot.taints().len(), 1);
    assert!(has_tag(spot.labels().unwrap(), "workload", "batch"));
    assert!(has_tag(
        spot.tags().unwrap(),
        COMPONENT_TAG,
        "node_group.spot"
    ));
    assert!(spot.launch_template().and_then(|l| l.id()).is_some());
    let system = node_group(&eks, "system").await;
    let scaling = system.scaling_config().unwrap();
    assert_eq!(
        (
            scaling.min_size(),
            scaling.max_size(),
            scaling.desired_size()
        ),
        (Some(3), Some(6), Some(3))
    );

    // 2. The same sequence again creates nothing.
    proxy.reset();
    ensure_all(&backend, &ctx).await;
    let stats = proxy.stats();
    print_counts("second ensure", &stats);
    let writes = mutations(&stats);
    println!("writes on the second ensure: {writes:?}");
    let creates: Vec<_> = writes
        .iter()
        .filter(|(k, _)| k.contains(":Create") || k.contains(":POST "))
        .collect();
    assert!(creates.is_empty(), "second ensure created: {creates:?}");

    // 3. Refresh: everything, in at most 17 calls (moto has no add-ons or access
    // entries: their listings fail and nothing is described).
    proxy.reset();
    let snapshot = backend
        .read_stack(&ctx)
        .await
        .expect("read")
        .expect("the stack exists");
    let stats = proxy.stats();
    print_counts("read_stack", &stats);
    assert!(stats.total <= 17, "read_stack made {} calls", stats.total);
    assert!(snapshot.network.is_some());
    assert!(snapshot.key.is_some());
    let iam_state = snapshot.iam.as_ref().expect("roles");
    assert!(iam_state.autoscaler_identity.is_some());
    assert!(iam_state.storage_driver_identity.is_some());
    let cp = snapshot.control_plane.as_ref().expect("control plane");
    assert_eq!(cp.workload_identity_provider, provider_arn);
    assert_eq!(
        snapshot.node_pools.keys().collect::<Vec<_>>(),
        ["spot", "system"]
    );
    let keys: Vec<&str> = snapshot.components.iter().map(|c| c.key.as_str()).collect();
    for key in [
        "vpc",
        "iam_role.cluster",
        "iam_role.node",
        "iam_role.autoscaler",
        "iam_role.storage_driver",
        "kms_key",
        "log_group",
        "cluster",
        "oidc_provider",
        "launch_template.system",
        "launch_template.spot",
        "node_group.system",
        "node_group.spot",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    // 22 network components + 4 roles + key + log group + cluster + OIDC + 2 + 2.
    assert_eq!(snapshot.components.len(), 34, "{keys:?}");

    // 4. Pool bounds and labels change in place; the current size is kept.
    let private: Vec<String> = snapshot.network.as_ref().unwrap().subnet_ids[&Tier::Private]
        .values()
        .cloned()
        .collect();
    let mut system_pool = pools(&private, &node_role).remove(0);
    system_pool.min_size = 2;
    system_pool.max_size = 8;
    system_pool.labels = BTreeMap::from([("tier".to_owned(), "system".to_owned())]);
    let state = backend
        .update_node_pool(&ctx, &system_pool)
        .await
        .result
        .expect("update pool");
    assert_eq!((state.min_size, state.max_size), (2, 8));
    let system = node_group(&eks, "system").await;
    let scaling = system.scaling_config().unwrap();
    assert_eq!(
        (
            scaling.min_size(),
            scaling.max_size(),
            scaling.desired_size()
        ),
        (Some(2), Some(8), Some(3))
    );
    assert!(has_tag(system.labels().unwrap(), "tier", "system"));

    // A pool whose instance types change is replaced: a new node group, then the
    // old one goes.
    let mut spot_pool = pools(&private, &node_role).remove(1);
    spot_pool.instance_types = vec!["c5.xlarge".into()];
    let step = backend.ensure_node_pool(&ctx, &spot_pool).await;
    let state = step.result.expect("replace pool");
    assert_eq!(state.instance_types, ["c5.xlarge"]);
    let groups = eks
        .list_nodegroups()
        .cluster_name("shop")
        .send()
        .await
        .unwrap();
    let mut names = groups.nodegroups().to_vec();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(names[1], "system");
    assert!(names[0].starts_with("spot-"), "{names:?}");
    assert_eq!(
        step.components
            .iter()
            .filter(|c| c.key == "node_group.spot")
            .count(),
        1,
        "{:?}",
        step.components
    );

    // Control-plane settings converge in place: logs off (the log group goes) and
    // other public CIDRs.
    let snapshot_now = backend.read_stack(&ctx).await.unwrap().unwrap();
    let intra: Vec<String> = snapshot_now.network.as_ref().unwrap().subnet_ids[&Tier::Isolated]
        .values()
        .cloned()
        .collect();
    let iam_now = snapshot_now.iam.as_ref().unwrap();
    backend
        .ensure_control_plane(
            &ctx,
            &ControlPlaneRequest {
                name: "shop".into(),
                kubernetes_version: Some("1.31".into()),
                vpc_id: String::new(),
                subnet_ids: intra,
                public_access_cidrs: vec!["198.51.100.0/24".into()],
                encryption_key: snapshot_now.key.as_ref().unwrap().id.clone(),
                control_plane_identity: iam_now.control_plane_identity.clone(),
                log_types: Vec::new(),
                log_retention_days: 30,
                admins: Vec::new(),
                zones: Vec::new(),
                initial_node_pools: Vec::new(),
            },
        )
        .await
        .result
        .expect("converge the control plane");
    let cluster = eks.describe_cluster().name("shop").send().await.unwrap();
    let vpc = cluster.cluster().unwrap().resources_vpc_config().unwrap();
    assert_eq!(vpc.public_access_cidrs(), ["198.51.100.0/24"]);
    assert!(logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/eks/shop")
        .send()
        .await
        .unwrap()
        .log_groups()
        .is_empty());

    // 5. Teardown, with a load balancer Kubernetes would have made.
    let lb = elbv2
        .create_load_balancer()
        .name("k8s-shop-web")
        .set_subnets(Some(public_subnets.clone()))
        .send()
        .await
        .unwrap();
    let lb_arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    let key_arn = snapshot.key.as_ref().unwrap().id.clone();
    let vpc_id = snapshot.network.as_ref().unwrap().vpc_id.clone();
    proxy.reset();
    let step = backend
        .delete_stack(
            &ctx,
            &TeardownRequest {
                keep_network: false,
                delete_key: true,
            },
        )
        .await;
    let report = step.result.expect("delete_stack");
    print_counts("delete_stack", &proxy.stats());
    assert!(
        report.left_behind.is_empty(),
        "left behind: {:#?}",
        report.left_behind
    );
    assert!(report.deleted.iter().any(|c| c.id == lb_arn));
    assert!(step.components.is_empty());

    let (clusters, lbs, templates, roles, providers, groups) = tokio::join!(
        eks.list_clusters().send(),
        elbv2.describe_load_balancers().send(),
        ec2.describe_launch_templates().send(),
        iam.list_roles().path_prefix("/paved/shop/").send(),
        iam.list_open_id_connect_providers().send(),
        logs.describe_log_groups()
            .log_group_name_prefix("/aws/eks/shop")
            .send(),
    );
    assert_eq!(
        (
            clusters.unwrap().clusters().len(),
            lbs.unwrap().load_balancers().len(),
            templates.unwrap().launch_templates().len(),
            roles.unwrap().roles().len(),
            providers.unwrap().open_id_connect_provider_list().len(),
            groups.unwrap().log_groups().len(),
        ),
        (0, 0, 0, 0, 0, 0),
        "clusters, load balancers, launch templates, roles, OIDC providers, log groups left"
    );
    let key = kms.describe_key().key_id(&key_arn).send().await.unwrap();
    assert_eq!(
        key.key_metadata().unwrap().key_state().map(|s| s.as_str()),
        Some("PendingDeletion")
    );
    assert_eq!(
        ec2_leftovers(&ec2, "shop", &vpc_id).await,
        Vec::<String>::new()
    );

    // A second teardown finds nothing and deletes nothing.
    proxy.reset();
    let again = backend
        .delete_stack(
            &ctx,
            &TeardownRequest {
                keep_network: false,
                delete_key: true,
            },
        )
        .await
        .result
        .expect("second delete_stack");
    assert!(again.deleted.is_empty(), "{:#?}", again.deleted);
    assert!(again.left_behind.is_empty(), "{:#?}", again.left_behind);
    let writes = mutations(&proxy.stats());
    assert!(
        writes
            .keys()
            .all(|k| !k.contains("Delete") && !k.starts_with("eks:DELETE")),
        "{writes:?}"
    );
    assert_eq!(backend.read_stack(&ctx).await.expect("read"), None);
    proxy.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_made_by_someone_else_is_a_conflict() {
    let moto = Moto::start();
    let (proxy, clients) = start(&moto);
    let iam = clients.iam(None).await.unwrap();
    iam.create_role()
        .role_name("mine-cluster")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap();
    let backend = AwsClusterBackend::new(clients);
    let step = backend
        .ensure_identities(
            &context("mine"),
            &IdentityRequest {
                workload_identity_provider: None,
            },
        )
        .await;
    match step.result {
        Err(BackendError::Conflict { what, stack, .. }) => {
            assert_eq!(what, "IAM role mine-cluster");
            assert_eq!(stack, "mine");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(step.components.is_empty());
    proxy.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_network_is_read_and_kept() {
    let moto = Moto::start();
    let (proxy, clients) = start(&moto);
    let ec2 = clients.ec2(None).await.unwrap();
    let elbv2 = clients.elbv2(None).await.unwrap();
    let (vpc_id, subnets) = user_network(&ec2, 9, &["us-east-1a", "us-east-1b"]).await;
    let backend = AwsClusterBackend::new(clients.clone());
    let ctx = context("kept");
    let net = backend
        .ensure_network(
            &ctx,
            &NetworkRequest::Existing {
                vpc_id: vpc_id.clone(),
                subnet_ids: BTreeMap::from([(Tier::Private, subnets.clone())]),
                zones: ZoneChoice::Choose(3),
            },
        )
        .await
        .result
        .expect("existing network");
    assert_eq!(net.zones, ["us-east-1a", "us-east-1b"]);
    assert_eq!(net.subnet_ids[&Tier::Private].len(), 2);
    let tagged = ec2
        .describe_subnets()
        .subnet_ids(&subnets[0])
        .send()
        .await
        .unwrap();
    assert!(tagged.subnets()[0]
        .tags()
        .iter()
        .any(|t| t.key() == Some("kubernetes.io/cluster/kept")));

    // Kubernetes made one load balancer for this cluster; someone else another.
    let ours = elbv2
        .create_load_balancer()
        .name("k8s-kept-web")
        .set_subnets(Some(subnets.clone()))
        .tags(
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key("kubernetes.io/cluster/kept")
                .value("owned")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let ours = ours.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    elbv2
        .create_load_balancer()
        .name("someone-else")
        .set_subnets(Some(subnets.clone()))
        .send()
        .await
        .unwrap();
    // The cluster lives in the user's network (created directly: the roles and key
    // do not matter for teardown).
    let eks = clients.eks(None).await.unwrap();
    eks.create_cluster()
        .name("kept")
        .role_arn("arn:aws:iam::123456789012:role/x")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .set_subnet_ids(Some(subnets.clone()))
                .build(),
        )
        .tags(STACK_TAG, "kept")
        .send()
        .await
        .unwrap();
    let report = backend
        .delete_stack(
            &ctx,
            &TeardownRequest {
                keep_network: true,
                delete_key: false,
            },
        )
        .await
        .result
        .expect("delete_stack");
    assert!(report.left_behind.is_empty(), "{:#?}", report.left_behind);
    assert!(report.deleted.iter().any(|c| c.id == ours));
    let left = elbv2.describe_load_balancers().send().await.unwrap();
    let names: Vec<_> = left
        .load_balancers()
        .iter()
        .filter_map(|l| l.load_balancer_name())
        .collect();
    assert_eq!(names, ["someone-else"]);
    assert_eq!(
        ec2.describe_vpcs()
            .vpc_ids(&vpc_id)
            .send()
            .await
            .unwrap()
            .vpcs()
            .len(),
        1
    );
    assert!(eks
        .list_clusters()
        .send()
        .await
        .unwrap()
        .clusters()
        .is_empty());
    proxy.shutdown();
}
