//! Waiters that really wait: the production database applied and destroyed against
//! moto behind the proxy's provisioning-time model (`paved-fault-proxy`
//! `--time-scale`), with the provider on the same scaled clock
//! (`PAVED_TIME_SCALE`). The primary stays `creating` for its modelled Multi-AZ
//! time, the replica for its own, deletes stay `deleting`; the apply cannot finish
//! before the chain of modelled waits has passed, and its length in modelled
//! minutes is printed as a figure.

use std::time::{Duration, Instant};

use paved_testbed::{FaultConfig, Kind, ModelReport};

use crate::support::aws::{block_on, moto_config, user_network, ZONES};
use crate::support::{bed, TERRAFORM};

/// Modelled seconds per real second, for the proxy and the provider alike.
const SCALE: f64 = 120.0;

/// The modelled seconds of `kind` in `report`.
fn modelled(report: &ModelReport, kind: Kind) -> f64 {
    report
        .kinds
        .iter()
        .find(|k| k.kind == kind)
        .map_or(0.0, |k| k.seconds)
}

fn config(vpc: &str, subnets: &[String]) -> String {
    let subnets: Vec<String> = subnets.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        r#"{TERRAFORM}
provider "paved" {{}}

resource "paved_managed_database" "orders" {{
  name                = "orders"
  profile             = "production"
  read_replicas       = 1
  deletion_protection = false
  network = {{
    vpc_id        = "{vpc}"
    subnet_ids    = [{subnets}]
    allowed_cidrs = ["10.40.0.0/16"]
  }}
}}

output "replicas" {{ value = paved_managed_database.orders.replica_status }}
"#,
        subnets = subnets.join(", "),
    )
}

#[test]
fn the_database_waits_for_modelled_provisioning_times() {
    let (moto, proxy, ws) = bed(FaultConfig::default());
    let proxy = proxy
        .with_provisioning_model(SCALE)
        .expect("the provisioning model");
    let conf = moto_config(&moto.endpoint());
    let (vpc, subnets) = block_on(user_network(&aws_sdk_ec2::Client::new(&conf), 41, &ZONES));
    let mut ws = ws.env("PAVED_TIME_SCALE", &SCALE.to_string());
    ws.write_file("main.tf", &config(&vpc, &subnets));
    ws.init();

    let report = proxy.provisioning_report();
    // The chain: the Multi-AZ primary, then its replica (made from the primary once
    // it is available).
    let chain = modelled(&report, Kind::DbInstanceCreateMultiAz)
        + modelled(&report, Kind::DbInstanceReadReplica);
    let started = Instant::now();
    ws.apply();
    let took = started.elapsed();
    eprintln!(
        "[figures] production database apply under the provisioning model: {:.1} modelled minutes \
         ({took:.2?} at {SCALE}x); the chain of waits is {:.1} modelled minutes; {} AWS calls",
        took.as_secs_f64() * SCALE / 60.0,
        chain / 60.0,
        proxy.stats().total
    );
    assert!(
        took >= Duration::from_secs_f64(chain / SCALE),
        "the apply took {took:?}: it cannot have waited for the primary and then the replica \
         ({chain} modelled seconds at {SCALE}x)"
    );
    assert_eq!(
        ws.output_json()["replicas"]["value"]["orders-replica-0"],
        "available",
        "the replica is reported once available"
    );
    assert!(
        proxy.provisioning_report().objects.is_empty(),
        "nothing is still provisioning when apply returns: {:#?}",
        proxy.provisioning_report().objects
    );
    let stats = proxy.stats();
    let describes = stats.count("rds", "DescribeDBInstances");
    assert!(
        describes >= 4,
        "the waiters polled while the instances were creating: {stats:#?}"
    );

    // Destroy waits for the deletes (with the final snapshot) too.
    let deleting = modelled(&report, Kind::DbInstanceDeleteFinalSnapshot);
    let started = Instant::now();
    ws.destroy();
    let took = started.elapsed();
    eprintln!(
        "[figures] production database destroy under the provisioning model: {:.1} modelled minutes ({took:.2?})",
        took.as_secs_f64() * SCALE / 60.0
    );
    assert!(
        took >= Duration::from_secs_f64(deleting / SCALE),
        "destroy took {took:?}, less than the primary's modelled delete"
    );
}
