//! `paved_network` end to end: real Terraform 1.15.5 against moto through the
//! counting proxy.
//!
//! - Under the proxy's provisioning-time model, a production cluster and a
//!   production database (one replica) on a shared `paved_network`: the database is
//!   being created while the control plane still is (the database no longer waits
//!   for the whole cluster), and the apply's and destroy's lengths are printed
//!   against the critical path (network, then the slower of the cluster's chain and
//!   the database's).
//! - A network and a cluster of the same name keep apart; the NAT layout changes in
//!   place; import by name; deletion protection; destroy leaves nothing.

use std::time::{Duration, Instant};

use paved_testbed::provisioning::Object;
use paved_testbed::{FaultConfig, Kind, ModelReport, ProxyHandle};

use crate::support::cloud::moto_objects;
use crate::support::{bed, TERRAFORM};

/// Modelled seconds per real second, for the proxy and the provider alike.
const SCALE: f64 = 60.0;

fn network_hcl(protected: bool, nat: &str) -> String {
    format!(
        r#"
resource "paved_network" "shop" {{
  name                = "shop"
  profile             = "production"
  cidr                = "10.20.0.0/16"
  nat_mode            = "{nat}"
  deletion_protection = {protected}
}}

output "vpc_id" {{ value = paved_network.shop.vpc_id }}
output "subnet_ids" {{ value = paved_network.shop.subnet_ids }}
output "nat_gateway_ids" {{ value = paved_network.shop.nat_gateway_ids }}
"#
    )
}

/// The cluster, named like the network, in it.
const CLUSTER: &str = r#"
resource "paved_ha_cluster" "shop" {
  delivery            = "gitops"
  gitops_path         = "gitops"
  name                = "shop"
  profile             = "production"
  kubernetes_version  = "1.31"
  deletion_protection = false
  network = {
    existing_vpc_id     = paved_network.shop.vpc_id
    existing_subnet_ids = paved_network.shop.subnet_ids
  }
  node_pools = {
    general = {
      instance_types = ["m6i.large"]
      min_size       = 3
      max_size       = 9
    }
  }
}

output "cluster_vpc_id" { value = paved_ha_cluster.shop.network.vpc_id }
"#;

/// The database, on the network's intra subnets (no internet route).
const DATABASE: &str = r#"
resource "paved_managed_database" "orders" {
  name                = "orders"
  profile             = "production"
  read_replicas       = 1
  deletion_protection = false
  network = {
    vpc_id        = paved_network.shop.vpc_id
    subnet_ids    = paved_network.shop.subnet_ids["intra"]
    allowed_cidrs = [paved_network.shop.cidr]
  }
}
"#;

fn config(parts: &[&str]) -> String {
    format!("{TERRAFORM}\nprovider \"paved\" {{}}\n{}", parts.concat())
}

/// The modelled seconds of `kind` in `report`.
fn modelled(report: &ModelReport, kind: Kind) -> f64 {
    report
        .kinds
        .iter()
        .find(|k| k.kind == kind)
        .map_or(0.0, |k| k.seconds)
}

/// What moto still holds of the stacks `shop` and `orders`.
fn leftovers(moto_endpoint: &str) -> Vec<String> {
    moto_objects(moto_endpoint)
        .into_iter()
        .filter(|o| matches!(o.stack(), Some("shop" | "orders")) || o.kind == "eks:cluster")
        .map(|o| o.to_string())
        .collect()
}

/// Runs `run` while watching the model: whether an EKS cluster and a database
/// instance were ever in transition at the same moment.
fn watching<T: Send>(proxy: &ProxyHandle, run: impl FnOnce() -> T + Send) -> (T, bool) {
    std::thread::scope(|s| {
        let job = s.spawn(run);
        let mut together = false;
        while !job.is_finished() {
            let objects = proxy.provisioning_report().objects;
            let busy = |what: Object| objects.iter().any(|o| o.object == what);
            together |= busy(Object::EksCluster) && busy(Object::DbInstance);
            std::thread::sleep(Duration::from_millis(100));
        }
        (job.join().expect("the terraform run"), together)
    })
}

#[test]
fn a_shared_network_lets_the_cluster_and_the_database_start_together() {
    let (moto, proxy, ws) = bed(FaultConfig::default());
    let proxy = proxy
        .with_provisioning_model(SCALE)
        .expect("the provisioning model");
    let mut ws = ws.env("PAVED_TIME_SCALE", &SCALE.to_string());
    ws.write_file(
        "main.tf",
        &config(&[&network_hcl(false, "per_zone"), CLUSTER, DATABASE]),
    );
    ws.init();

    let report = proxy.provisioning_report();
    let network = modelled(&report, Kind::NatGatewayCreate);
    let cluster = modelled(&report, Kind::EksClusterCreate)
        + modelled(&report, Kind::EksNodegroupCreate)
        + modelled(&report, Kind::EksAddonCreate);
    let database = modelled(&report, Kind::DbInstanceCreateMultiAz)
        + modelled(&report, Kind::DbInstanceReadReplica);
    let limit = network + cluster.max(database);

    let started = Instant::now();
    let (_, together) = watching(&proxy, || ws.apply());
    let took = started.elapsed();
    let minutes = took.as_secs_f64() * SCALE / 60.0;
    eprintln!(
        "[figures] cluster + database on a paved_network, apply under the provisioning model: {minutes:.1} \
         modelled minutes ({took:.2?} at {SCALE}x); critical path {:.1} (network {:.1}, then the slower of \
         cluster {:.1} and database {:.1}); ratio {:.2}; {} AWS calls",
        limit / 60.0,
        network / 60.0,
        cluster / 60.0,
        database / 60.0,
        minutes * 60.0 / limit,
        proxy.stats().total
    );
    assert!(
        together,
        "the database was being created while the control plane was: it did not wait for the cluster"
    );
    assert!(
        took >= Duration::from_secs_f64(limit / SCALE),
        "the apply took {took:?}: it cannot have waited for the network and then the database"
    );
    assert!(
        proxy.provisioning_report().objects.is_empty(),
        "nothing is still provisioning when apply returns"
    );
    let out = ws.output_json();
    assert_eq!(
        out["cluster_vpc_id"]["value"], out["vpc_id"]["value"],
        "the cluster runs in the network"
    );
    assert_eq!(
        out["subnet_ids"]["value"]["intra"].as_array().map(Vec::len),
        Some(3),
        "{out:#}"
    );
    ws.assert_no_changes();

    let deletes = modelled(&report, Kind::NatGatewayDelete)
        + (modelled(&report, Kind::EksNodegroupDelete) + modelled(&report, Kind::EksClusterDelete))
            .max(
                modelled(&report, Kind::DbInstanceDelete)
                    + modelled(&report, Kind::DbInstanceDeleteFinalSnapshot),
            );
    let started = Instant::now();
    ws.destroy();
    let took = started.elapsed();
    eprintln!(
        "[figures] cluster + database on a paved_network, destroy under the provisioning model: {:.1} modelled \
         minutes ({took:.2?}); critical path {:.1}; ratio {:.2}",
        took.as_secs_f64() * SCALE / 60.0,
        deletes / 60.0,
        took.as_secs_f64() * SCALE / deletes
    );
    // Nothing is left but the production database's snapshots (the final one is
    // kept on purpose).
    let left = leftovers(&moto.endpoint());
    assert!(
        left.iter().all(|l| l.contains("snapshot"))
            && left.iter().any(|l| l.contains("orders-final")),
        "{left:#?}"
    );
}

#[test]
fn a_network_keeps_apart_from_its_namesake_cluster_and_changes_nat_in_place() {
    let (moto, proxy, mut ws) = bed(FaultConfig::default());
    let vpcs = || {
        moto_objects(&moto.endpoint())
            .into_iter()
            .filter(|o| o.kind == "ec2:vpc" && o.stack() == Some("shop"))
            .count()
    };
    let nats = || {
        moto_objects(&moto.endpoint())
            .into_iter()
            .filter(|o| o.kind == "ec2:nat-gateway" && o.stack() == Some("shop"))
            .count()
    };

    // The plan shows every subnet's range before anything exists, and makes no call.
    ws.write_file("main.tf", &config(&[&network_hcl(true, "per_zone")]));
    ws.init();
    proxy.reset();
    let planned = ws.plan(&["-no-color"]).combined();
    assert!(
        planned.contains("10.20.0.0/19") && planned.contains("10.20.192.0/24"),
        "the subnets' ranges are in the plan:\n{planned}"
    );
    ws.write_file(
        "main.tf",
        &config(&[&network_hcl(true, "per_zone"), CLUSTER]),
    );
    ws.apply();
    assert_eq!(vpcs(), 1, "the cluster made no network of its own");
    assert_eq!(nats(), 3);
    ws.assert_no_changes();
    // A cluster in an existing network does not look for a network of its own: in a
    // plan of the cluster (which refreshes the network it depends on too), only the
    // network's refresh describes VPCs and subnets.
    proxy.reset();
    ws.plan(&["-no-color", "-target=paved_ha_cluster.shop"]);
    let stats = proxy.stats();
    for action in ["DescribeVpcs", "DescribeSubnets", "DescribeNatGateways"] {
        assert_eq!(stats.count("ec2", action), 1, "{action}: {stats:#?}");
    }

    // The NAT layout changes in place: nothing is replaced.
    ws.write_file("main.tf", &config(&[&network_hcl(true, "single"), CLUSTER]));
    let plan = ws.plan(&["-no-color"]).combined();
    assert!(
        plan.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    ws.apply();
    assert_eq!(nats(), 1);
    assert_eq!(
        ws.output_json()["nat_gateway_ids"]["value"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    ws.assert_no_changes();

    // Import by name gives back the same state.
    ws.run_ok(&["state", "rm", "paved_network.shop"]);
    ws.run_ok(&["import", "-no-color", "paved_network.shop", "shop"]);
    ws.assert_no_changes();

    // Protected: destroy is refused at plan; the cluster alone goes, the network stays.
    let refused = ws.run_err(&["destroy", "-auto-approve", "-no-color"]);
    assert!(
        refused.combined().contains("deletion_protection"),
        "{refused}"
    );
    ws.run_ok(&[
        "destroy",
        "-auto-approve",
        "-no-color",
        "-target=paved_ha_cluster.shop",
    ]);
    assert_eq!(vpcs(), 1, "destroying the cluster left the network");
    ws.write_file("main.tf", &config(&[&network_hcl(false, "single")]));
    ws.apply();
    ws.destroy();
    assert_eq!(leftovers(&moto.endpoint()), Vec::<String>::new());
}
