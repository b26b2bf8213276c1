//! `paved_managed_database` end to end: real Terraform 1.15.5 drives the provider
//! against moto through the counting proxy, with TF_LOG=trace written to a file.
//! A production database with one replica goes through apply, an empty plan (and
//! the AWS calls of that refresh), scaling and a retention change, a second replica,
//! `terraform import` after `state rm`, restores from a snapshot and to a point in
//! time, and destroy that leaves only the final snapshot. Then the state file, a
//! saved plan's JSON and the trace log are scanned for the master password that
//! Secrets Manager holds.

use std::time::Instant;

use paved_testbed::FaultConfig;

use crate::support::aws::{block_on, moto_config, user_network, ZONES};
use crate::support::{bed, TERRAFORM};

struct Knobs<'a> {
    class: &'a str,
    size: u32,
    retention: u32,
    replicas: u32,
    snapshot: Option<&'a str>,
}

fn config(vpc: &str, subnets: &[String], k: &Knobs<'_>) -> String {
    let subnets: Vec<String> = subnets.iter().map(|s| format!("\"{s}\"")).collect();
    let restored = match k.snapshot {
        Some(id) => format!(
            r#"
resource "paved_managed_database" "from_snapshot" {{
  name    = "orders-restored"
  profile = "development"
  network = local.network
  restore = {{ snapshot_id = "{id}" }}
}}

resource "paved_managed_database" "point_in_time" {{
  name    = "orders-pitr"
  profile = "development"
  network = local.network
  restore = {{
    source_db_instance_id      = paved_managed_database.orders.id
    use_latest_restorable_time = true
  }}
}}
"#
        ),
        None => String::new(),
    };
    format!(
        r#"{TERRAFORM}
provider "paved" {{}}

locals {{
  network = {{
    vpc_id        = "{vpc}"
    subnet_ids    = [{subnets}]
    allowed_cidrs = ["10.40.0.0/16"]
  }}
}}

resource "paved_managed_database" "orders" {{
  name                = "orders"
  profile             = "production"
  instance_class      = "{class}"
  read_replicas       = {replicas}
  deletion_protection = false
  storage             = {{ size_gb = {size} }}
  backup              = {{ retention_days = {retention} }}
  network             = local.network
}}
{restored}
output "secret_arn" {{
  value = paved_managed_database.orders.master_secret_arn
}}

output "readers" {{
  value = paved_managed_database.orders.reader_endpoints
}}
"#,
        subnets = subnets.join(", "),
        class = k.class,
        replicas = k.replicas,
        size = k.size,
        retention = k.retention,
    )
}

#[test]
fn production_database_lifecycle_against_moto() {
    let (moto, proxy, ws) = bed(FaultConfig::default());
    let conf = moto_config(&moto.endpoint());
    // A VPC with one subnet per zone, made directly with the SDK.
    let (vpc, subnets) = block_on(user_network(&aws_sdk_ec2::Client::new(&conf), 40, &ZONES));
    let ws = ws.env("TF_LOG", "trace");
    let trace = ws.dir().join("trace.log");
    let mut ws = ws.env("TF_LOG_PATH", &trace.to_string_lossy());
    let mut knobs = Knobs {
        class: "db.m6g.large",
        size: 50,
        retention: 14,
        replicas: 1,
        snapshot: None,
    };
    ws.write_file("main.tf", &config(&vpc, &subnets, &knobs));
    ws.init();

    let started = Instant::now();
    ws.apply();
    eprintln!(
        "[figures] apply: {:.2?}, {} calls",
        started.elapsed(),
        proxy.stats().total
    );
    let outputs = ws.output_json();
    let secret_arn = outputs["secret_arn"]["value"]
        .as_str()
        .expect("secret arn")
        .to_owned();
    assert!(
        secret_arn.starts_with("arn:aws:secretsmanager:"),
        "{outputs:#}"
    );
    assert_eq!(
        outputs["readers"]["value"].as_array().map(Vec::len),
        Some(1),
        "{outputs:#}"
    );
    // The master password, read from Secrets Manager the way an application would.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sm = aws_sdk_secretsmanager::Client::new(&conf);
    let secret = rt
        .block_on(sm.get_secret_value().secret_id(&secret_arn).send())
        .expect("the master secret exists")
        .secret_string()
        .expect("a secret string")
        .to_owned();
    let password = serde_json::from_str::<serde_json::Value>(&secret)
        .ok()
        .and_then(|v| v["password"].as_str().map(str::to_owned))
        .unwrap_or(secret);
    assert!(
        password.len() >= 8,
        "a real password ({} characters)",
        password.len()
    );

    proxy.reset();
    let started = Instant::now();
    ws.assert_no_changes();
    let stats = proxy.stats();
    eprintln!(
        "[figures] plan (refresh): {:.2?}, {} calls: {stats:#?}",
        started.elapsed(),
        stats.total
    );
    // DescribeDBInstances (the subnet and parameter groups come with the primary),
    // DescribeSecurityGroups and DescribeKey.
    assert!(
        stats.total <= 3,
        "a refresh of the production database made {} calls: {stats:#?}",
        stats.total
    );

    // More replicas than RDS allows: refused at plan with the attribute named, and
    // nothing is written.
    knobs.replicas = 16;
    ws.write_file("main.tf", &config(&vpc, &subnets, &knobs));
    proxy.reset();
    let refused = ws.plan_err(&[]);
    let errors = refused.json_error_diagnostics();
    assert!(
        errors.iter().any(|e| e.contains("Too many read replicas")
            && e.contains("Set read_replicas to 15 or fewer")),
        "{errors:#?}"
    );
    let calls = proxy.stats();
    let writes: Vec<&String> = calls
        .by_service
        .values()
        .flat_map(|actions| actions.keys())
        .filter(|a| !(a.starts_with("Describe") || a.starts_with("List") || a.starts_with("Get")))
        .collect();
    assert!(writes.is_empty(), "a refused plan wrote: {writes:?}");
    knobs.replicas = 1;

    // Scale the class and storage, change retention: in place.
    knobs.class = "db.m6g.xlarge";
    knobs.size = 80;
    knobs.retention = 21;
    ws.write_file("main.tf", &config(&vpc, &subnets, &knobs));
    let plan = ws.plan(&[]);
    assert!(plan.stdout.contains("1 to change"), "{plan}");
    ws.apply();
    ws.assert_no_changes();

    // A second replica.
    knobs.replicas = 2;
    ws.write_file("main.tf", &config(&vpc, &subnets, &knobs));
    ws.apply();
    ws.assert_no_changes();
    assert_eq!(
        ws.output_json()["readers"]["value"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // Import after forgetting it.
    ws.run_ok(&["state", "rm", "paved_managed_database.orders"]);
    ws.run_ok(&[
        "import",
        "-no-color",
        "-input=false",
        "paved_managed_database.orders",
        "orders",
    ]);
    ws.assert_no_changes();

    // Restores: from a snapshot of the primary, and to a point in time.
    let rds = aws_sdk_rds::Client::new(&conf);
    rt.block_on(
        rds.create_db_snapshot()
            .db_instance_identifier("orders")
            .db_snapshot_identifier("orders-manual")
            .send(),
    )
    .expect("snapshot");
    knobs.snapshot = Some("orders-manual");
    ws.write_file("main.tf", &config(&vpc, &subnets, &knobs));
    ws.apply();
    ws.assert_no_changes();

    // A saved plan's JSON, for the secrets scan below.
    ws.run_ok(&["plan", "-no-color", "-input=false", "-out=saved.plan"]);
    let plan_json = ws.run_ok(&["show", "-json", "saved.plan"]).stdout;

    // Destroy: only the final snapshot of the production database remains.
    let started = Instant::now();
    ws.destroy();
    eprintln!("[figures] destroy: {:.2?}", started.elapsed());
    let (instances, snapshots) = rt.block_on(async {
        let instances = rds.describe_db_instances().send().await.expect("instances");
        let snapshots = rds.describe_db_snapshots().send().await.expect("snapshots");
        (
            instances
                .db_instances()
                .iter()
                .filter_map(|i| i.db_instance_identifier().map(str::to_owned))
                .collect::<Vec<_>>(),
            snapshots
                .db_snapshots()
                .iter()
                .filter(|s| s.snapshot_type() != Some("automated"))
                .filter_map(|s| s.db_snapshot_identifier().map(str::to_owned))
                .collect::<Vec<_>>(),
        )
    });
    assert!(instances.is_empty(), "instances left: {instances:?}");
    let finals: Vec<&String> = snapshots
        .iter()
        .filter(|s| s.starts_with("orders-final-"))
        .collect();
    assert_eq!(finals.len(), 1, "one final snapshot: {snapshots:?}");
    let groups = rt
        .block_on(rds.describe_db_subnet_groups().send())
        .expect("groups");
    assert!(
        groups.db_subnet_groups().iter().all(|g| !g
            .db_subnet_group_name()
            .unwrap_or_default()
            .contains("orders")),
        "subnet groups left: {:?}",
        groups.db_subnet_groups()
    );

    // The master password never reaches the state, a plan or a log.
    let state = std::fs::read_to_string(ws.dir().join("terraform.tfstate")).unwrap_or_default();
    let backup =
        std::fs::read_to_string(ws.dir().join("terraform.tfstate.backup")).unwrap_or_default();
    let log = std::fs::read_to_string(&trace).expect("trace log");
    assert!(log.len() > 10_000, "the trace log was written");
    for (name, text) in [
        ("state", &state),
        ("state backup", &backup),
        ("plan JSON", &plan_json),
        ("TF_LOG=trace output", &log),
    ] {
        assert!(
            !text.contains(&password),
            "the master password appears in the {name}"
        );
    }
    proxy.shutdown();
}
