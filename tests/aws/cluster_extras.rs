//! What moto lacks, through the proxy's EKS stand-ins (`with_eks_extras`,
//! `with_access_entries`): managed add-ons installed at the minor's default, moved
//! by an upgrade and removed when no longer listed; the storage driver's role; team
//! access through access entries with Kubernetes groups (granted, changed,
//! revoked, others' entries and admin entries left alone); control plane then pool
//! upgrades through the SDK; and the same upgrade driven by real Terraform.

use std::collections::BTreeMap;
use std::sync::Arc;

use paved::cloud::aws::cluster::AwsClusterBackend;
use paved::cloud::aws::AwsClients;
use paved::ports::cluster::{
    AddonRequest, AddonsRequest, Capacity, ClusterBackend, ControlPlaneRequest, GroupAccess,
    IdentityRequest, IdentityState, NetworkRequest, NodePoolRequest, TeardownRequest, ZoneChoice,
};
use paved::ports::key::EncryptionKeyRequest;
use paved::ports::network::{NatLayout, Tier};
use paved::stack::tags::{COMPONENT_TAG, STACK_TAG};
use paved::stack::StackContext;
use paved_testbed::eks::default_addon_version;
use paved_testbed::{FaultConfig, FaultProxy, ProxyHandle};

use crate::support::aws::{cluster_context as context, moto_clients};
use crate::support::{bed, calls, Moto, TERRAFORM};

const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const ALICE: &str = "arn:aws:iam::123456789012:role/alice";
const DEV: &str = "arn:aws:iam::123456789012:role/dev";
const OPS: &str = "arn:aws:iam::123456789012:role/ops";
const CAROL: &str = "arn:aws:iam::123456789012:role/carol";
const ADDONS: [&str; 5] = [
    "vpc-cni",
    "coredns",
    "kube-proxy",
    "aws-ebs-csi-driver",
    "metrics-server",
];

fn start(moto: &Moto) -> (ProxyHandle, Arc<AwsClients>) {
    let proxy = FaultProxy::start(&moto.endpoint(), FaultConfig::none())
        .expect("proxy")
        .with_eks_extras()
        .with_access_entries();
    let clients = moto_clients(&proxy.endpoint());
    (proxy, clients)
}

/// A small stack at Kubernetes `version`: network, key, roles, control plane with
/// `admins`, the workload roles, one pool. The identities and the pool's request.
async fn small_stack(
    backend: &AwsClusterBackend,
    ctx: &StackContext,
    version: &str,
    admins: &[&str],
) -> (IdentityState, NodePoolRequest) {
    let net = backend
        .ensure_network(
            ctx,
            &NetworkRequest::Build {
                cidr: "10.0.0.0/16".into(),
                zones: ZoneChoice::Choose(2),
                nat: NatLayout::Single,
            },
        )
        .await
        .result
        .expect("network");
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
    let cp = backend
        .ensure_control_plane(
            ctx,
            &ControlPlaneRequest {
                name: ctx.stack.clone(),
                kubernetes_version: Some(version.into()),
                vpc_id: String::new(),
                subnet_ids: net.subnet_ids[&Tier::Isolated].values().cloned().collect(),
                public_access_cidrs: Vec::new(),
                encryption_key: key.id.clone(),
                control_plane_identity: iam.control_plane_identity.clone(),
                log_types: Vec::new(),
                log_retention_days: 7,
                admins: admins.iter().map(|a| a.to_string()).collect(),
                zones: Vec::new(),
                initial_node_pools: Vec::new(),
            },
        )
        .await
        .result
        .expect("control plane");
    assert_eq!(cp.kubernetes_version, version);
    let iam = backend
        .ensure_identities(
            ctx,
            &IdentityRequest {
                workload_identity_provider: Some(cp.workload_identity_provider.clone()),
            },
        )
        .await
        .result
        .expect("workload roles");
    let pool = NodePoolRequest {
        name: "system".into(),
        instance_types: vec!["m5.large".into()],
        capacity: Capacity::OnDemand,
        min_size: 2,
        max_size: 4,
        disk_size_gb: 50,
        labels: BTreeMap::new(),
        taints: Vec::new(),
        subnet_ids: net.subnet_ids[&Tier::Private].values().cloned().collect(),
        node_identity: iam.node_identity.clone(),
        kubernetes_version: version.into(),
    };
    backend
        .ensure_node_pool(ctx, &pool)
        .await
        .result
        .expect("pool");
    (iam, pool)
}

fn addons(version: &str, names: &[&str], storage_role: &str) -> AddonsRequest {
    AddonsRequest {
        kubernetes_version: version.into(),
        addons: names
            .iter()
            .map(|n| AddonRequest {
                name: n.to_string(),
                version: None,
                identity: (*n == "aws-ebs-csi-driver").then(|| storage_role.to_owned()),
            })
            .collect(),
    }
}

fn access(principal: &str, groups: &[&str]) -> GroupAccess {
    GroupAccess {
        principal: principal.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

/// How many calls of `action` (`eks:CreateAddon`) the proxy counted.
fn count(proxy: &ProxyHandle, action: &str) -> u64 {
    calls(&proxy.stats()).get(action).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addons_storage_role_and_team_access() {
    let moto = Moto::start();
    let (proxy, clients) = start(&moto);
    let backend = AwsClusterBackend::new(clients.clone());
    let ctx = context("shop");
    let eks = clients.eks(None).await.unwrap();
    let iam_client = clients.iam(None).await.unwrap();

    let (iam, pool) = small_stack(&backend, &ctx, "1.30", &[ALICE]).await;

    // 1. The storage driver's role: bound to the EBS CSI controller's service
    // account through the cluster's OIDC provider, with the managed policy.
    let storage_role = iam.storage_driver_identity.clone().expect("storage role");
    let role = iam_client
        .get_role()
        .role_name("shop-storage_driver")
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.arn(), storage_role);
    assert_eq!(role.path(), "/paved/shop/");
    assert!(role
        .tags()
        .iter()
        .any(|t| t.key() == COMPONENT_TAG && t.value() == "iam_role.storage_driver"));
    let trust = role.assume_role_policy_document().unwrap_or_default();
    assert!(
        trust.contains("ebs-csi-controller-sa"),
        "trust of the storage role: {trust}"
    );
    let attached = iam_client
        .list_attached_role_policies()
        .role_name("shop-storage_driver")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some("arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")
    );

    // 2. Add-ons at 1.30's defaults, tagged as the stack's, the storage driver
    // running as its role, conflicts overwritten.
    let step = backend
        .ensure_addons(&ctx, &addons("1.30", &ADDONS, &storage_role))
        .await;
    let states = step.result.expect("add-ons");
    assert_eq!(states.len(), 5);
    for s in &states {
        assert_eq!(
            Some(s.version.as_str()),
            default_addon_version(&s.name, "1.30"),
            "{s:?}"
        );
        assert_eq!(s.status, "ACTIVE");
    }
    assert_eq!(step.components.len(), 5, "{:?}", step.components);
    for name in ADDONS {
        let a = proxy.eks_addon("shop", name).expect("installed");
        assert_eq!(a.tags.get(STACK_TAG).map(String::as_str), Some("shop"));
        assert_eq!(
            a.tags.get(COMPONENT_TAG).cloned(),
            Some(format!("addon.{name}"))
        );
        assert_eq!(a.resolve_conflicts.as_deref(), Some("OVERWRITE"));
    }
    assert_eq!(
        proxy
            .eks_addon("shop", "aws-ebs-csi-driver")
            .unwrap()
            .service_account_role_arn
            .as_deref(),
        Some(storage_role.as_str())
    );

    // Again: nothing to change.
    proxy.reset();
    backend
        .ensure_addons(&ctx, &addons("1.30", &ADDONS, &storage_role))
        .await
        .result
        .expect("add-ons again");
    for action in ["eks:CreateAddon", "eks:UpdateAddon", "eks:DeleteAddon"] {
        assert_eq!(
            count(&proxy, action),
            0,
            "{action}: {:?}",
            calls(&proxy.stats())
        );
    }

    // 3. Upgrade: control plane, then the pool, then the add-ons move to 1.31's
    // defaults (kube-proxy's 1.30 build is incompatible; vpc-cni's is older than
    // 1.31's default; coredns's default is the same for both).
    let cp = backend
        .upgrade_control_plane(&ctx, "1.31")
        .await
        .result
        .expect("upgrade");
    assert_eq!(cp.kubernetes_version, "1.31");
    assert_eq!(cp.status, "ACTIVE");
    let pool_state = backend
        .update_node_pool(
            &ctx,
            &NodePoolRequest {
                kubernetes_version: "1.31".into(),
                ..pool.clone()
            },
        )
        .await
        .result
        .expect("pool upgrade");
    assert_eq!(pool_state.kubernetes_version, "1.31");
    proxy.reset();
    let states = backend
        .ensure_addons(&ctx, &addons("1.31", &ADDONS, &storage_role))
        .await
        .result
        .expect("add-ons after the upgrade");
    for s in &states {
        assert_eq!(
            Some(s.version.as_str()),
            default_addon_version(&s.name, "1.31"),
            "{s:?}"
        );
    }
    // coredns, aws-ebs-csi-driver and metrics-server keep their version.
    assert_eq!(
        count(&proxy, "eks:UpdateAddon"),
        2,
        "{:?}",
        calls(&proxy.stats())
    );
    assert_eq!(count(&proxy, "eks:DescribeAddonVersions"), 1);

    // 4. An add-on no longer listed goes; one installed by hand stays.
    eks.create_addon()
        .cluster_name("shop")
        .addon_name("metrics-server")
        .send()
        .await
        .expect_err("metrics-server is installed already");
    let four = &ADDONS[..4];
    let step = backend
        .ensure_addons(&ctx, &addons("1.31", four, &storage_role))
        .await;
    step.result.expect("remove metrics-server");
    assert!(proxy.eks_addon("shop", "metrics-server").is_none());
    assert!(!step
        .components
        .iter()
        .any(|c| c.key == "addon.metrics-server"));
    eks.create_addon()
        .cluster_name("shop")
        .addon_name("metrics-server")
        .send()
        .await
        .expect("install by hand");
    backend
        .ensure_addons(&ctx, &addons("1.31", four, &storage_role))
        .await
        .result
        .expect("add-ons with one by hand");
    assert!(
        proxy.eks_addon("shop", "metrics-server").is_some(),
        "an add-on paved did not install is not paved's to remove"
    );

    // 5. Team access: entries with groups, tagged; alice (an admin) is untouched;
    // carol's entry (by hand) too.
    assert!(proxy.add_access_entry("shop", CAROL));
    let granted = backend
        .ensure_group_access(
            &ctx,
            &[access(DEV, &["project1-dev"]), access(OPS, &["sysadmin"])],
        )
        .await;
    granted.result.expect("grant");
    assert_eq!(granted.components.len(), 2, "{:?}", granted.components);
    let dev = proxy.access_entry("shop", DEV).expect("dev's entry");
    assert_eq!(dev.kubernetes_groups, ["project1-dev"]);
    assert_eq!(dev.entry_type, "STANDARD");
    assert_eq!(
        dev.tags.get(COMPONENT_TAG).cloned(),
        Some(format!("group_access.{DEV}"))
    );
    assert!(dev.access_policies.is_empty());

    // Changed groups, dev revoked.
    backend
        .ensure_group_access(&ctx, &[access(OPS, &["sysadmin", "viewers"])])
        .await
        .result
        .expect("change");
    assert!(proxy.access_entry("shop", DEV).is_none());
    assert_eq!(
        proxy.access_entry("shop", OPS).unwrap().kubernetes_groups,
        ["sysadmin", "viewers"]
    );
    let alice = proxy.access_entry("shop", ALICE).expect("alice's entry");
    assert!(alice.has_policy(ADMIN_POLICY) && alice.kubernetes_groups.is_empty());
    let carol = proxy.access_entry("shop", CAROL).expect("carol's entry");
    assert!(carol.tags.is_empty() && carol.kubernetes_groups.is_empty());

    // Someone else's entry is refused, and left as it is.
    let refused = backend
        .ensure_group_access(&ctx, &[access(CAROL, &["viewers"])])
        .await;
    assert!(refused.result.is_err());
    assert!(proxy
        .access_entry("shop", CAROL)
        .unwrap()
        .kubernetes_groups
        .is_empty());

    // An admin in a team shares one entry: groups set here, the policy kept; out of
    // the team again, the entry stays an admin's.
    backend
        .ensure_group_access(
            &ctx,
            &[
                access(OPS, &["sysadmin", "viewers"]),
                access(ALICE, &["sysadmin"]),
            ],
        )
        .await
        .result
        .expect("admin in a team");
    let alice = proxy.access_entry("shop", ALICE).unwrap();
    assert_eq!(alice.kubernetes_groups, ["sysadmin"]);
    assert!(alice.has_policy(ADMIN_POLICY));

    // 6. Refresh: the add-ons, the storage role and the team access paved granted.
    proxy.reset();
    let snapshot = backend.read_stack(&ctx).await.unwrap().unwrap();
    let stats = proxy.stats();
    println!(
        "read_stack with 5 add-ons and 3 access entries: {} calls",
        stats.total
    );
    for (call, n) in calls(&stats) {
        println!("  {call:<48} {n}");
    }
    assert_eq!(
        snapshot
            .addons
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "aws-ebs-csi-driver",
            "coredns",
            "kube-proxy",
            "metrics-server",
            "vpc-cni"
        ]
    );
    assert_eq!(
        snapshot.addons["kube-proxy"].version,
        default_addon_version("kube-proxy", "1.31").unwrap()
    );
    assert_eq!(
        snapshot.addons["aws-ebs-csi-driver"].identity.as_deref(),
        Some(storage_role.as_str())
    );
    let addon_rows: Vec<&str> = snapshot
        .components
        .iter()
        .filter(|c| c.key.starts_with("addon."))
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(
        addon_rows.len(),
        4,
        "the hand-made add-on is no row: {addon_rows:?}"
    );
    assert_eq!(
        snapshot
            .iam
            .as_ref()
            .unwrap()
            .storage_driver_identity
            .as_deref(),
        Some(storage_role.as_str())
    );
    let mut team = snapshot.group_access.clone().expect("listed");
    team.sort_by(|a, b| a.principal.cmp(&b.principal));
    assert_eq!(
        team,
        vec![
            access(ALICE, &["sysadmin"]),
            access(OPS, &["sysadmin", "viewers"])
        ]
    );
    assert!(snapshot
        .components
        .iter()
        .any(|c| c.key == format!("group_access.{OPS}")));
    // 17 listings and describes + 5 DescribeAddon + 3 DescribeAccessEntry
    // + 1 DescribeNodegroup.
    assert!(stats.total <= 27, "read_stack made {} calls", stats.total);

    // 7. Alice leaves the admins but stays in the team: she loses the policy, keeps
    // her entry and groups. Then out of the team too: the entry goes.
    backend
        .ensure_control_plane(
            &ctx,
            &ControlPlaneRequest {
                name: "shop".into(),
                kubernetes_version: Some("1.31".into()),
                vpc_id: String::new(),
                subnet_ids: Vec::new(),
                public_access_cidrs: Vec::new(),
                encryption_key: snapshot.key.as_ref().unwrap().id.clone(),
                control_plane_identity: iam.control_plane_identity.clone(),
                log_types: Vec::new(),
                log_retention_days: 7,
                admins: Vec::new(),
                zones: Vec::new(),
                initial_node_pools: Vec::new(),
            },
        )
        .await
        .result
        .expect("admins revoked");
    let alice = proxy
        .access_entry("shop", ALICE)
        .expect("kept for the team");
    assert!(!alice.has_policy(ADMIN_POLICY));
    assert_eq!(alice.kubernetes_groups, ["sysadmin"]);
    backend
        .ensure_group_access(&ctx, &[access(OPS, &["sysadmin", "viewers"])])
        .await
        .result
        .expect("alice out of the team");
    assert!(
        proxy.access_entry("shop", ALICE).is_none()
            || proxy
                .access_entry("shop", ALICE)
                .is_some_and(|a| a.kubernetes_groups.is_empty() && !a.has_policy(ADMIN_POLICY)),
        "{:?}",
        proxy.access_entry("shop", ALICE)
    );

    // 8. Teardown: the storage role with the others; add-ons and entries with the
    // cluster.
    let report = backend
        .delete_stack(
            &ctx,
            &TeardownRequest {
                keep_network: false,
                delete_key: true,
            },
        )
        .await
        .result
        .expect("teardown");
    assert!(report.left_behind.is_empty(), "{:#?}", report.left_behind);
    assert!(report
        .deleted
        .iter()
        .any(|c| c.key == "iam_role.storage_driver"));
    let roles = iam_client
        .list_roles()
        .path_prefix("/paved/shop/")
        .send()
        .await
        .unwrap();
    assert!(roles.roles().is_empty());
    assert!(proxy.eks_addons("shop").is_empty());
    assert!(proxy.all_access_entries().is_empty());
    assert_eq!(backend.read_stack(&ctx).await.unwrap(), None);
    proxy.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_waits_for_the_updates_of_the_control_plane_then_the_pool() {
    let moto = Moto::start();
    let (proxy, clients) = start(&moto);
    // Each update takes a moment: the waits have to watch DescribeUpdate.
    proxy.set_eks_delay(std::time::Duration::from_millis(300));
    let backend = AwsClusterBackend::new(clients);
    let ctx = context("up");
    let (_, pool) = small_stack(&backend, &ctx, "1.30", &[]).await;

    let cp = backend
        .upgrade_control_plane(&ctx, "1.31")
        .await
        .result
        .expect("upgrade");
    assert_eq!(
        (cp.kubernetes_version.as_str(), cp.status.as_str()),
        ("1.31", "ACTIVE")
    );
    // Again: a no-op.
    proxy.reset();
    backend
        .upgrade_control_plane(&ctx, "1.31")
        .await
        .result
        .expect("again");
    assert_eq!(count(&proxy, "eks:UpdateClusterVersion"), 0);

    let state = backend
        .update_node_pool(
            &ctx,
            &NodePoolRequest {
                kubernetes_version: "1.31".into(),
                ..pool
            },
        )
        .await
        .result
        .expect("pool");
    assert_eq!(
        (state.kubernetes_version.as_str(), state.status.as_str()),
        ("1.31", "ACTIVE")
    );
    let updates = proxy.eks_updates("up");
    assert_eq!(updates.len(), 2, "{updates:#?}");
    assert_eq!(updates[0].nodegroup_name, None);
    assert_eq!(updates[1].nodegroup_name.as_deref(), Some("system"));
    assert!(updates.iter().all(|u| u.status == "Successful"));
    assert!(count(&proxy, "eks:DescribeUpdate") >= 1);
    proxy.shutdown();
}

/// A development cluster `shop` at Kubernetes `version`, its in-cluster objects
/// written to files (moto's cluster has no API to apply them to).
fn upgrade_config(version: &str) -> String {
    format!(
        r#"{TERRAFORM}
provider "paved" {{}}

resource "paved_ha_cluster" "dev" {{
  delivery    = "gitops"
  gitops_path = "gitops"
  name                = "shop"
  profile             = "development"
  deletion_protection = false
  kubernetes_version  = "{version}"
}}

output "version" {{
  value = paved_ha_cluster.dev.kubernetes_version
}}
"#
    )
}

/// Real Terraform: apply at 1.30, then at 1.31. The control plane's version update
/// comes first, then one per node group; all end `Successful`; the plan after is
/// empty; destroy leaves nothing.
#[test]
fn terraform_upgrades_the_control_plane_then_the_pools() {
    let (_moto, proxy, mut ws) = bed(FaultConfig::none());
    let proxy = proxy.with_eks_extras().with_access_entries();
    ws.write_file("main.tf", &upgrade_config("1.30"));
    ws.init();
    ws.apply();
    assert!(proxy.eks_updates("shop").is_empty());

    ws.write_file("main.tf", &upgrade_config("1.31"));
    let plan = ws.plan(&[]);
    assert!(plan.stdout.contains("1 to change"), "{plan}");
    ws.apply();
    let updates = proxy.eks_updates("shop");
    let versions: Vec<&paved_testbed::Update> = updates
        .iter()
        .filter(|u| u.update_type == "VersionUpdate")
        .collect();
    assert!(versions.len() >= 2, "{updates:#?}");
    assert_eq!(
        versions[0].nodegroup_name, None,
        "the control plane moves first: {updates:#?}"
    );
    assert!(
        versions[1..].iter().all(|u| u.nodegroup_name.is_some()),
        "then the pools: {updates:#?}"
    );
    assert!(versions.iter().all(|u| u.status == "Successful"));
    assert_eq!(proxy.eks_cluster_version("shop").as_deref(), Some("1.31"));
    for u in &versions[1..] {
        let ng = u.nodegroup_name.as_deref().unwrap_or_default();
        assert_eq!(
            proxy.eks_nodegroup_version("shop", ng).as_deref(),
            Some("1.31"),
            "{ng}"
        );
    }
    let outputs = ws.output_json();
    assert_eq!(outputs["version"]["value"], "1.31", "{outputs:#}");
    ws.assert_no_changes();
    ws.destroy();
    proxy.shutdown();
}
