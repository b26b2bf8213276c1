//! `paved_managed_database` on GCP, end to end: real Terraform 1.15.5 drives the
//! provider against the GCP stand-in (`paved-gcp-fake`, in process). The network
//! (a VPC with two subnetworks, as a `paved_ha_cluster` would leave it) is made
//! over HTTP first. A production PostgreSQL database (private IP only, regional,
//! point-in-time recovery, CMEK, a read replica, deletion protection) goes through
//! apply, an empty plan (and the calls of that refresh), a storage change in
//! place, deletion protection refusing destroy, then protection off and a destroy
//! after which the stand-in holds nothing of the stack but the final backup and
//! the key KMS never deletes. The generated password, read from Secret Manager,
//! appears nowhere in the state, a saved plan or Terraform's output.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use base64::Engine as _;
use paved_testbed::gcp::{GcpFake, GcpFakeConfig, GcpFakeHandle};
use serde_json::{json, Value};

use crate::gcp_cluster::gcp_provider;
use crate::support::{Terraform, Workspace};

const PROJECT: &str = "paved-test";
const REGION: &str = "europe-west2";
const NETWORK: &str = "paved-shop";

fn config(url: &str, protected: bool, size: u32) -> String {
    let provider = gcp_provider(url);
    format!(
        r#"{provider}
resource "paved_managed_database" "orders" {{
  name                = "orders"
  profile             = "production"
  engine              = "postgres"
  deletion_protection = {protected}
  storage             = {{ size_gb = {size} }}
  backup              = {{ retention_days = 14 }}
  parameters          = {{ log_min_duration_statement = "500" }}
  network = {{
    vpc_id     = "{NETWORK}"
    subnet_ids = ["{NETWORK}-a", "{NETWORK}-b"]
  }}
}}

output "endpoint" {{ value = paved_managed_database.orders.endpoint }}
output "secret" {{ value = paved_managed_database.orders.master_secret_arn }}
output "replicas" {{ value = paved_managed_database.orders.replica_status }}
"#
    )
}

/// One HTTP/1.1 request to the stand-in; the answer's JSON body.
pub(crate) fn http(fake: &GcpFakeHandle, method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", fake.port())).expect("connect to the stand-in");
    let payload = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer test-token\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    assert!(
        head.starts_with("HTTP/1.1 2"),
        "{method} {path}: {head}\n{body}"
    );
    // A chunked body: keep what lies between the first `{` and the last `}`.
    let start = body.find('{').unwrap_or(0);
    let end = body.rfind('}').map_or(body.len(), |e| e + 1);
    serde_json::from_str(&body[start..end]).unwrap_or(Value::Null)
}

/// Polls the Cloud SQL operation `op` (an answer to a create or delete) until it
/// is done; `what` names it in the failure.
fn wait_for_operation(fake: &GcpFakeHandle, op: &Value, what: &str) {
    let op_path = format!(
        "/v1/projects/{PROJECT}/operations/{}",
        op["name"].as_str().unwrap_or_default()
    );
    let asked = Instant::now();
    while http(fake, "GET", &op_path, None)["status"] != "DONE" {
        assert!(
            asked.elapsed() < std::time::Duration::from_secs(30),
            "{what} never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The network a cluster would have made: a VPC and two subnetworks.
fn make_network(fake: &GcpFakeHandle) {
    http(
        fake,
        "POST",
        &format!("/compute/v1/projects/{PROJECT}/global/networks"),
        Some(&json!({"name": NETWORK, "autoCreateSubnetworks": false})),
    );
    for (suffix, cidr) in [("a", "10.0.0.0/20"), ("b", "10.0.16.0/20")] {
        http(
            fake,
            "POST",
            &format!("/compute/v1/projects/{PROJECT}/regions/{REGION}/subnetworks"),
            Some(&json!({
                "name": format!("{NETWORK}-{suffix}"),
                "ipCidrRange": cidr,
                "network": format!("projects/{PROJECT}/global/networks/{NETWORK}"),
                "region": REGION,
            })),
        );
    }
}

/// The stack's objects the stand-in still holds.
fn leftovers(fake: &GcpFakeHandle) -> Vec<String> {
    let state = fake.state();
    let mut out = Vec::new();
    for inst in state["sql"]["instances"].as_array().into_iter().flatten() {
        out.push(format!("sql/{}", inst["instance"]["name"]));
    }
    for c in state["networking"]["connections"]
        .as_array()
        .into_iter()
        .flatten()
    {
        out.push(format!("connection/{}", c["network"]));
    }
    for a in state["compute"]["globalAddresses"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = a["name"].as_str().unwrap_or_default();
        if name.contains("orders") {
            out.push(format!("address/{name}"));
        }
    }
    for s in state["secrets"]["secrets"].as_array().into_iter().flatten() {
        out.push(format!("secret/{}", s["secret"]["name"]));
    }
    for k in state["kms"]["cryptoKeys"].as_array().into_iter().flatten() {
        let enabled = k["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v["state"] == "ENABLED");
        if enabled {
            out.push(format!("key/{}", k["key"]["name"]));
        }
    }
    out
}

#[test]
fn production_cloud_sql_lifecycle() {
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(1))
        .expect("start the GCP stand-in");
    let url = fake.url();
    make_network(&fake);
    // Trace logging on: the provider's own logs are scanned for the password too.
    let ws = Workspace::new(Terraform::V1_15)
        .with_paved()
        .env("TF_LOG", "trace");
    let trace = ws.dir().join("trace.log");
    let mut ws = ws.env("TF_LOG_PATH", &trace.to_string_lossy());
    ws.write_file("main.tf", &config(&url, true, 50));
    ws.init();

    // Apply.
    fake.reset_counts();
    let started = Instant::now();
    let applied = ws.apply();
    eprintln!(
        "[figures] Cloud SQL apply: {:.2?}, {} calls",
        started.elapsed(),
        fake.request_counts().total
    );
    let outputs = ws.output_json();
    let endpoint = outputs["endpoint"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        endpoint.starts_with("10.100."),
        "a private IP from the reserved range: {outputs:#}"
    );
    let secret = outputs["secret"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        secret,
        format!("projects/{PROJECT}/secrets/paved-orders-db-password")
    );
    assert_eq!(
        outputs["replicas"]["value"]["orders-replica-0"], "available",
        "{outputs:#}"
    );

    // gcloud, an independent client, reads what paved built.
    if let Some(described) = crate::gcp_cluster::gcloud(
        &fake,
        &ws.dir(),
        &["sql", "instances", "describe", "orders"],
    ) {
        assert_eq!(
            described["settings"]["availabilityType"], "REGIONAL",
            "{described:#}"
        );
        assert_eq!(
            described["settings"]["ipConfiguration"]["ipv4Enabled"], false,
            "{described:#}"
        );
        assert_eq!(
            described["settings"]["ipConfiguration"]["sslMode"], "ENCRYPTED_ONLY",
            "{described:#}"
        );
        assert_eq!(
            described["settings"]["deletionProtectionEnabled"], true,
            "{described:#}"
        );
        assert_eq!(
            described["settings"]["backupConfiguration"]["pointInTimeRecoveryEnabled"], true,
            "{described:#}"
        );
        assert!(
            described["diskEncryptionConfiguration"]["kmsKeyName"]
                .as_str()
                .is_some_and(|k| k.ends_with("/cryptoKeys/database-storage")),
            "{described:#}"
        );
    }

    // The inventory: Cloud SQL's components, each with the id the cloud gave it.
    let tf_state = ws.state_json();
    let attrs = &tf_state["resources"][0]["instances"][0]["attributes"];
    let rows: Vec<(String, bool)> = attrs["inventory"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["key"].as_str().unwrap_or_default().to_owned(),
                r["id"].as_str().is_some_and(|id| !id.is_empty()),
            )
        })
        .collect();
    let keys: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "kms_key",
            "peering_range",
            "service_connection",
            "master_secret",
            "instance",
            "replica.0"
        ],
        "{attrs:#}"
    );
    assert!(
        rows.iter().all(|(_, has_id)| *has_id),
        "every row has an id: {rows:?}"
    );

    // What was built, as the stand-in holds it.
    let inst = http(
        &fake,
        "GET",
        &format!("/v1/projects/{PROJECT}/instances/orders"),
        None,
    );
    let s = &inst["settings"];
    assert_eq!(inst["databaseVersion"], "POSTGRES_16", "{inst:#}");
    assert_eq!(s["tier"], "db-custom-2-8192", "{inst:#}");
    assert_eq!(s["availabilityType"], "REGIONAL");
    assert_eq!(s["ipConfiguration"]["ipv4Enabled"], false);
    assert_eq!(s["ipConfiguration"]["sslMode"], "ENCRYPTED_ONLY");
    assert_eq!(
        s["ipConfiguration"]["privateNetwork"],
        format!("projects/{PROJECT}/global/networks/{NETWORK}")
    );
    assert_eq!(s["backupConfiguration"]["pointInTimeRecoveryEnabled"], true);
    assert_eq!(
        s["backupConfiguration"]["backupRetentionSettings"]["retainedBackups"],
        14
    );
    assert_eq!(s["deletionProtectionEnabled"], true);
    assert_eq!(s["userLabels"]["paved-stack"], "orders");
    assert_eq!(s["databaseFlags"][0]["name"], "log_min_duration_statement");
    assert!(
        inst["diskEncryptionConfiguration"]["kmsKeyName"]
            .as_str()
            .is_some_and(|k| k.ends_with("/keyRings/paved-orders/cryptoKeys/database-storage")),
        "{inst:#}"
    );
    let replica = http(
        &fake,
        "GET",
        &format!("/v1/projects/{PROJECT}/instances/orders-replica-0"),
        None,
    );
    assert_eq!(replica["masterInstanceName"], "orders", "{replica:#}");
    assert_ne!(
        replica["gceZone"], inst["gceZone"],
        "the replica is in another zone"
    );

    // The password: in Secret Manager only.
    let access = http(
        &fake,
        "GET",
        &format!("/v1/projects/{PROJECT}/secrets/paved-orders-db-password/versions/latest:access"),
        None,
    );
    let password = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(access["payload"]["data"].as_str().expect("payload"))
            .expect("base64"),
    )
    .expect("text");
    assert_eq!(password.len(), 32);

    // The next plan is empty; count the refresh's calls.
    fake.reset_counts();
    let started = Instant::now();
    ws.assert_no_changes();
    let counts = fake.request_counts();
    eprintln!(
        "[figures] Cloud SQL plan (refresh): {:.2?}, {} calls: {:?}",
        started.elapsed(),
        counts.total,
        counts.by_call
    );
    assert!(
        counts.total <= 4,
        "refresh made {} calls: {:?}",
        counts.total,
        counts.by_call
    );

    // A change in place: storage grows.
    ws.write_file("main.tf", &config(&url, true, 100));
    let plan = ws.plan(&["-out=grow.tfplan"]);
    assert!(
        plan.stdout.contains("1 to change"),
        "an in-place update:\n{plan}"
    );
    assert!(
        !plan.stdout.contains("must be replaced"),
        "no replacement:\n{plan}"
    );
    let shown = ws.run_ok(&["show", "-json", "grow.tfplan"]);
    let grown = ws.run_ok(&["apply", "-auto-approve", "-no-color", "grow.tfplan"]);
    let inst = http(
        &fake,
        "GET",
        &format!("/v1/projects/{PROJECT}/instances/orders"),
        None,
    );
    assert_eq!(inst["settings"]["dataDiskSizeGb"], "100", "{inst:#}");
    ws.assert_no_changes();

    // Deletion protection holds.
    let refused = ws.run_err(&["destroy", "-auto-approve", "-no-color"]);
    assert!(
        refused.combined().contains("deletion_protection"),
        "destroy refused naming the setting:\n{refused}"
    );
    assert!(leftovers(&fake).iter().any(|l| l.contains("orders")));

    // Off, then destroy: nothing of the stack is left but the final backup.
    ws.write_file("main.tf", &config(&url, false, 100));
    ws.apply();
    let destroyed = ws.destroy();
    assert_eq!(
        leftovers(&fake),
        Vec::<String>::new(),
        "destroy leaves nothing behind"
    );
    let state = fake.state();
    let finals: Vec<&Value> = state["sql"]["backups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "FINAL")
        .collect();
    assert_eq!(
        finals.len(),
        1,
        "one final backup: {:#}",
        state["sql"]["backups"]
    );
    assert!(finals[0]["description"]
        .as_str()
        .is_some_and(|d| d.starts_with("orders-final-")));

    // The password never reached Terraform.
    let tf_state = std::fs::read_to_string(ws.dir().join("terraform.tfstate")).unwrap_or_default();
    let backup =
        std::fs::read_to_string(ws.dir().join("terraform.tfstate.backup")).unwrap_or_default();
    for (what, text) in [
        ("the state", tf_state.as_str()),
        ("the state backup", backup.as_str()),
        ("the saved plan", shown.stdout.as_str()),
        ("apply", &applied.combined()),
        ("the grow apply", &grown.combined()),
        ("destroy", &destroyed.combined()),
    ] {
        assert!(!text.contains(&password), "the password is in {what}");
    }
    let logged = std::fs::read_to_string(&trace).unwrap_or_default();
    assert!(
        logged.contains("provider.terraform-provider-paved"),
        "the trace log holds the provider's own lines ({} bytes)",
        logged.len()
    );
    assert!(
        !logged.contains(&password),
        "the password is in the TF_LOG=trace log"
    );
}

/// The provider block and `databases` (HCL of `paved_managed_database` blocks).
fn stack(url: &str, databases: &str) -> String {
    let provider = gcp_provider(url);
    format!(
        r#"{provider}
locals {{
  network = {{
    vpc_id     = "{NETWORK}"
    subnet_ids = ["{NETWORK}-a", "{NETWORK}-b"]
  }}
}}
{databases}"#
    )
}

/// A production database without deletion protection or replicas, `extra` added
/// inside the block.
fn database(label: &str, name: &str, extra: &str) -> String {
    format!(
        r#"
resource "paved_managed_database" "{label}" {{
  name                = "{name}"
  profile             = "production"
  engine              = "postgres"
  deletion_protection = false
  read_replicas       = 0
  network             = local.network
{extra}}}
"#
    )
}

/// The Cloud SQL instance `name` in the stand-in, if any.
fn instance(fake: &GcpFakeHandle, name: &str) -> Option<Value> {
    fake.state()["sql"]["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["instance"]["name"] == name)
        .map(|i| i["instance"].clone())
}

#[test]
fn cloud_sql_clone_to_a_point_in_time_and_restore_from_a_final_backup() {
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(1))
        .expect("start the GCP stand-in");
    let url = fake.url();
    make_network(&fake);
    let mut ws = Workspace::new(Terraform::V1_15).with_paved();

    // A database and a copy of it at its latest restorable time.
    let source = database("source", "ledger", "");
    let copy = database(
        "copy",
        "ledger-copy",
        "  restore = {\n    source_db_instance_id      = paved_managed_database.source.id\n    use_latest_restorable_time = true\n  }\n",
    );
    ws.write_file("main.tf", &stack(&url, &format!("{source}{copy}")));
    ws.init();
    ws.apply();
    let cloned = instance(&fake, "ledger-copy").expect("the copy exists");
    assert_eq!(cloned["state"], "RUNNABLE", "{cloned:#}");
    assert_eq!(
        cloned["settings"]["userLabels"]["paved-stack"], "ledger-copy",
        "the copy carries its own stack's labels: {cloned:#}"
    );
    assert_eq!(
        cloned["settings"]["ipConfiguration"]["ipv4Enabled"], false,
        "private IP only, like its source: {cloned:#}"
    );
    if let Some(described) = crate::gcp_cluster::gcloud(
        &fake,
        &ws.dir(),
        &["sql", "instances", "describe", "ledger-copy"],
    ) {
        assert_eq!(described["name"], "ledger-copy", "{described:#}");
        assert_eq!(
            described["settings"]["backupConfiguration"]["pointInTimeRecoveryEnabled"], true,
            "the copy is set up as the request asks: {described:#}"
        );
    }
    ws.assert_no_changes();

    // Both go; each leaves its final backup.
    ws.destroy();
    let state = fake.state();
    let final_of = |description_prefix: &str| -> Option<String> {
        state["sql"]["backups"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| {
                b["type"] == "FINAL"
                    && b["description"]
                        .as_str()
                        .is_some_and(|d| d.starts_with(description_prefix))
            })
            .and_then(|b| b["name"].as_str().map(str::to_owned))
    };
    let backup = final_of("ledger-final-").expect("ledger's final backup");
    assert!(final_of("ledger-copy-final-").is_some(), "the copy's too");
    assert!(instance(&fake, "ledger").is_none() && instance(&fake, "ledger-copy").is_none());

    // A new database from ledger's final backup.
    let restored = database(
        "restored",
        "ledger-restored",
        &format!("  restore = {{\n    snapshot_id = \"{backup}\"\n  }}\n"),
    );
    ws.write_file("main.tf", &stack(&url, &restored));
    fake.reset_counts();
    ws.apply();
    let inst = instance(&fake, "ledger-restored").expect("the restored database exists");
    assert_eq!(inst["state"], "RUNNABLE", "{inst:#}");
    let counts = fake.request_counts();
    assert!(
        counts
            .by_call
            .keys()
            .any(|call| call.starts_with("POST") && call.contains("restoreBackup")),
        "the backup was restored into the new instance: {counts:?}"
    );
    ws.assert_no_changes();
    ws.destroy();
    assert_eq!(
        leftovers(&fake),
        Vec::<String>::new(),
        "destroy leaves nothing behind"
    );
}

#[test]
fn a_connection_other_instances_still_use_is_reported_and_a_later_destroy_finishes() {
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(1))
        .expect("start the GCP stand-in");
    let url = fake.url();
    make_network(&fake);
    let mut ws = Workspace::new(Terraform::V1_15).with_paved();
    ws.write_file("main.tf", &stack(&url, &database("db", "ledger", "")));
    ws.init();
    ws.apply();

    // Someone else's instance on the same private services access connection,
    // created to the end (a running operation would hold the instance).
    let created = http(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/instances"),
        Some(&json!({
            "name": "someone-elses",
            "databaseVersion": "POSTGRES_16",
            "region": REGION,
            "settings": {
                "tier": "db-custom-1-3840",
                "edition": "ENTERPRISE",
                "ipConfiguration": {
                    "ipv4Enabled": false,
                    "privateNetwork": format!("projects/{PROJECT}/global/networks/{NETWORK}"),
                },
            },
        })),
    );
    wait_for_operation(&fake, &created, "the other instance's create");
    let refused = ws.run_err(&["destroy", "-auto-approve", "-no-color"]);
    let text = refused
        .combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("Some components could not be deleted")
            && text.contains("vpc-peerings delete"),
        "the connection left behind is reported with what to do:\n{text}"
    );
    assert!(
        instance(&fake, "ledger").is_none(),
        "the instance itself is gone"
    );
    let listed = ws.run_ok(&["state", "list"]);
    assert!(
        listed.stdout.contains("paved_managed_database.db"),
        "the resource stays in the state so destroy can run again:\n{listed}"
    );

    // Once the other instance is gone, destroy finishes the job.
    let deleted = http(
        &fake,
        "DELETE",
        &format!("/v1/projects/{PROJECT}/instances/someone-elses"),
        None,
    );
    wait_for_operation(&fake, &deleted, "the other instance's delete");
    ws.destroy();
    assert_eq!(
        leftovers(&fake),
        Vec::<String>::new(),
        "destroy leaves nothing behind"
    );
}

#[test]
fn cloud_sql_stack_applies_and_destroys_through_throttling_and_unavailability() {
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(1))
        .expect("start the GCP stand-in");
    make_network(&fake);
    let config = stack(&fake.url(), &database("db", "ledger", ""));
    crate::gcp_cluster::lifecycle_under_faults(&fake, &config, 21, "Cloud SQL");
    assert_eq!(
        leftovers(&fake),
        Vec::<String>::new(),
        "destroy leaves nothing behind"
    );
}

/// A MySQL database on Cloud SQL with `iam_authentication` as written.
fn mysql(iam: bool) -> String {
    format!(
        r#"
resource "paved_managed_database" "shop" {{
  name                = "shop"
  profile             = "production"
  engine              = "mysql"
  deletion_protection = false
  read_replicas       = 0
  iam_authentication  = {iam}
  network             = local.network
}}
"#
    )
}

/// The database flags of instance `name`, as `name=value`.
fn flags_of(fake: &GcpFakeHandle, name: &str) -> Vec<String> {
    instance(fake, name)
        .map(|i| i["settings"]["databaseFlags"].clone())
        .and_then(|f| f.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|f| {
            format!(
                "{}={}",
                f["name"].as_str().unwrap_or(""),
                f["value"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn mysql_with_binary_logging_and_iam_authentication_turned_on_and_off_in_place() {
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(1))
        .expect("start the GCP stand-in");
    let url = fake.url();
    make_network(&fake);
    let mut ws = Workspace::new(Terraform::V1_15).with_paved();
    ws.write_file("main.tf", &stack(&url, &mysql(true)));
    ws.init();
    ws.apply();

    let inst = instance(&fake, "shop").expect("the instance exists");
    assert!(
        inst["databaseVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("MYSQL_8")),
        "{inst:#}"
    );
    let backups = &inst["settings"]["backupConfiguration"];
    assert_eq!(
        backups["binaryLogEnabled"], true,
        "point-in-time recovery on MySQL: {inst:#}"
    );
    assert_eq!(
        flags_of(&fake, "shop"),
        ["cloudsql_iam_authentication=on"],
        "MySQL's own IAM flag"
    );
    // gcloud, an independent client, reads the same.
    if let Some(described) =
        crate::gcp_cluster::gcloud(&fake, &ws.dir(), &["sql", "instances", "describe", "shop"])
    {
        assert_eq!(
            described["settings"]["databaseFlags"][0]["name"], "cloudsql_iam_authentication",
            "{described:#}"
        );
        assert_eq!(
            described["settings"]["backupConfiguration"]["binaryLogEnabled"], true,
            "{described:#}"
        );
    }
    // The cloud now accepts an IAM login (it refuses one while the flag is off).
    http(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/instances/shop/users"),
        Some(&json!({"name": "alice@example.com", "type": "CLOUD_IAM_USER"})),
    );
    let tf_state = ws.state_json();
    assert_eq!(
        tf_state["resources"][0]["instances"][0]["attributes"]["iam_authentication"],
        true
    );
    ws.assert_no_changes();

    // Off in place: the flag goes, nothing is replaced.
    ws.write_file("main.tf", &stack(&url, &mysql(false)));
    let plan = ws.plan(&[]);
    assert!(
        plan.stdout.contains("1 to change") && !plan.stdout.contains("must be replaced"),
        "an in-place update:\n{plan}"
    );
    ws.apply();
    assert_eq!(
        flags_of(&fake, "shop"),
        Vec::<String>::new(),
        "the flag is off"
    );
    ws.assert_no_changes();

    // Drift: someone turns it on by hand; the plan shows it and apply undoes it.
    let patched = http(
        &fake,
        "PATCH",
        &format!("/v1/projects/{PROJECT}/instances/shop"),
        Some(&json!({"settings": {"databaseFlags": [
            {"name": "cloudsql_iam_authentication", "value": "on"}
        ]}})),
    );
    wait_for_operation(&fake, &patched, "the change by hand");
    let drift = ws.plan(&[]);
    assert!(
        drift.stdout.contains("iam_authentication") && drift.stdout.contains("1 to change"),
        "the drift shows:\n{drift}"
    );
    ws.apply();
    assert_eq!(
        flags_of(&fake, "shop"),
        Vec::<String>::new(),
        "the drift undone"
    );

    ws.destroy();
    assert_eq!(
        leftovers(&fake),
        Vec::<String>::new(),
        "destroy leaves nothing behind"
    );
}
