//! The GCP stand-in's Cloud SQL, Service Networking, Cloud KMS, IAM and Secret
//! Manager through its HTTP API, and judged by the real Google Cloud CLI where
//! it is installed (`gcloud` with endpoint overrides; skipped with a message
//! when absent, unless `PAVED_REQUIRE_TOOLS=1`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;

use paved_testbed::gcp::{GcpFake, GcpFakeConfig, GcpFakeHandle};
use serde_json::{json, Value};

const PROJECT: &str = "p";
const REGION: &str = "europe-west1";
const NUMBER: u64 = 123_456_789_012;
const KMS_ROLE: &str = "roles/cloudkms.cryptoKeyEncrypterDecrypter";

/// One HTTP/1.1 request; returns status and JSON body.
fn http(fake: &GcpFakeHandle, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", fake.port())).expect("connect");
    let payload = body.map(Value::to_string).unwrap_or_default();
    let path = path.replace(' ', "%20");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("a response head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    (status, json)
}

/// Decodes a chunked body.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// A 200 answer's body.
fn ok(fake: &GcpFakeHandle, method: &str, path: &str, body: Option<&Value>) -> Value {
    let (status, json) = http(fake, method, path, body);
    assert_eq!(status, 200, "{method} {path}: {json}");
    json
}

/// Polls a `sql#operation` until DONE; returns it.
fn wait_sql(fake: &GcpFakeHandle, op: &Value) -> Value {
    let name = op["name"].as_str().expect("operation name");
    for _ in 0..20 {
        let got = ok(
            fake,
            "GET",
            &format!("/v1/projects/{PROJECT}/operations/{name}"),
            None,
        );
        if got["status"] == "DONE" {
            return got;
        }
    }
    panic!("operation {name} never finished");
}

/// Polls a google.longrunning operation until done; returns it.
fn wait_lro(fake: &GcpFakeHandle, op: &Value) -> Value {
    let name = op["name"].as_str().expect("operation name");
    if op["done"] == true {
        return op.clone();
    }
    for _ in 0..20 {
        let got = ok(fake, "GET", &format!("/v1/{name}"), None);
        if got["done"] == true {
            return got;
        }
    }
    panic!("operation {name} never finished");
}

/// A stand-in with network `vpc`, its peering range `psa` and, when `connect`,
/// the Service Networking connection.
fn fake(polls: u32, connect: bool) -> GcpFakeHandle {
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(polls)).expect("start");
    ok(
        &fake,
        "POST",
        &format!("/compute/v1/projects/{PROJECT}/global/networks"),
        Some(&json!({"name": "vpc", "autoCreateSubnetworks": false})),
    );
    ok(
        &fake,
        "POST",
        &format!("/compute/v1/projects/{PROJECT}/global/addresses"),
        Some(
            &json!({"name": "psa", "purpose": "VPC_PEERING", "addressType": "INTERNAL",
                     "prefixLength": 16, "network": format!("projects/{PROJECT}/global/networks/vpc")}),
        ),
    );
    if connect {
        let op = ok(
            &fake,
            "POST",
            "/v1/services/servicenetworking.googleapis.com/connections",
            Some(
                &json!({"network": format!("projects/{NUMBER}/global/networks/vpc"),
                         "reservedPeeringRanges": ["psa"]}),
            ),
        );
        let done = wait_lro(&fake, &op);
        assert!(done.get("error").is_none(), "{done}");
    }
    fake
}

/// A private Postgres 15 instance with backups and PITR.
fn postgres(name: &str) -> Value {
    json!({
        "name": name, "databaseVersion": "POSTGRES_15", "region": REGION,
        "settings": {
            "tier": "db-custom-2-7680", "availabilityType": "REGIONAL",
            "dataDiskSizeGb": "20", "dataDiskType": "PD_SSD",
            "backupConfiguration": {"enabled": true, "startTime": "03:00", "pointInTimeRecoveryEnabled": true,
                                    "transactionLogRetentionDays": 7,
                                    "backupRetentionSettings": {"retainedBackups": 7, "retentionUnit": "COUNT"}},
            "ipConfiguration": {"ipv4Enabled": false, "sslMode": "ENCRYPTED_ONLY",
                                "privateNetwork": format!("projects/{PROJECT}/global/networks/vpc"),
                                "allocatedIpRange": "psa"},
            "userLabels": {"paved-stack": "shop"},
            "deletionProtectionEnabled": false,
        },
    })
}

/// Creates an instance and waits for it.
fn create(fake: &GcpFakeHandle, body: &Value) -> Value {
    let op = ok(
        fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/instances"),
        Some(body),
    );
    assert_eq!(op["operationType"], "CREATE");
    let done = wait_sql(fake, &op);
    assert!(done.get("error").is_none(), "{done}");
    done
}

/// Path of an instance.
fn instance(name: &str) -> String {
    format!("/v1/projects/{PROJECT}/instances/{name}")
}

#[test]
fn private_ip_needs_the_service_networking_connection() {
    let fake = fake(1, false);
    let (status, err) = http(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/instances"),
        Some(&postgres("db")),
    );
    assert_eq!(status, 400, "{err}");
    let message = err["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Please create Service Networking connection with service 'servicenetworking.googleapis.com'"), "{message}");
    let op = ok(
        &fake,
        "POST",
        "/v1/services/servicenetworking.googleapis.com/connections",
        Some(
            &json!({"network": format!("projects/{NUMBER}/global/networks/vpc"), "reservedPeeringRanges": ["psa"]}),
        ),
    );
    wait_lro(&fake, &op);
    let listed = ok(
        &fake,
        "GET",
        &format!("/v1/services/servicenetworking.googleapis.com/connections?network=projects/{NUMBER}/global/networks/vpc"),
        None,
    );
    assert_eq!(
        listed["connections"][0]["peering"],
        "servicenetworking-googleapis-com"
    );
    create(&fake, &postgres("db"));
    let got = ok(&fake, "GET", &instance("db"), None);
    assert_eq!(got["state"], "RUNNABLE");
    assert_eq!(got["ipAddresses"][0]["type"], "PRIVATE");
    assert_eq!(got["connectionName"], format!("{PROJECT}:{REGION}:db"));
    assert_eq!(got["instanceType"], "CLOUD_SQL_INSTANCE");
    assert!(
        got["secondaryGceZone"].is_string(),
        "REGIONAL has a standby zone"
    );
    let net = fake.network_json(PROJECT, "vpc").expect("network");
    assert_eq!(
        net["peerings"][0]["name"],
        "servicenetworking-googleapis-com"
    );
}

#[test]
fn the_connection_cannot_be_deleted_while_an_instance_uses_it() {
    let fake = fake(0, true);
    create(&fake, &postgres("db"));
    let delete_path = "/v1/services/servicenetworking.googleapis.com/connections/servicenetworking-googleapis-com:deleteConnection";
    let body = json!({"consumerNetwork": format!("projects/{NUMBER}/global/networks/vpc")});
    let failed = wait_lro(&fake, &ok(&fake, "POST", delete_path, Some(&body)));
    assert_eq!(failed["error"]["code"], 9, "{failed}");
    assert!(failed["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("Producer services"));
    wait_sql(&fake, &ok(&fake, "DELETE", &instance("db"), None));
    let done = wait_lro(&fake, &ok(&fake, "POST", delete_path, Some(&body)));
    assert!(done.get("error").is_none(), "{done}");
    let net = fake.network_json(PROJECT, "vpc").expect("network");
    assert!(
        net["peerings"].as_array().is_none_or(Vec::is_empty),
        "{net}"
    );
}

#[test]
fn one_operation_at_a_time_per_instance() {
    let fake = fake(2, true);
    let op = ok(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/instances"),
        Some(&postgres("db")),
    );
    let patch = json!({"settings": {"userLabels": {"tier": "gold"}}});
    let (status, err) = http(&fake, "PATCH", &instance("db"), Some(&patch));
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["errors"][0]["reason"], "operationInProgress");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("Operation failed because another operation was already in progress."));
    assert_eq!(
        ok(&fake, "GET", &instance("db"), None)["state"],
        "PENDING_CREATE"
    );
    wait_sql(&fake, &op);
    wait_sql(&fake, &ok(&fake, "PATCH", &instance("db"), Some(&patch)));
    let got = ok(&fake, "GET", &instance("db"), None);
    assert_eq!(got["settings"]["settingsVersion"], "2");
    assert_eq!(
        got["settings"]["userLabels"],
        json!({"paved-stack": "shop", "tier": "gold"})
    );
    let listed = ok(
        &fake,
        "GET",
        &format!("/v1/projects/{PROJECT}/instances?filter=settings.userLabels.paved-stack:shop"),
        None,
    );
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn deletion_protection_refuses_delete() {
    let fake = fake(0, true);
    let mut body = postgres("db");
    body["settings"]["deletionProtectionEnabled"] = json!(true);
    create(&fake, &body);
    let (status, err) = http(&fake, "DELETE", &instance("db"), None);
    assert_eq!(status, 400, "{err}");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("deletionProtectionEnabled"));
    ok(
        &fake,
        "PATCH",
        &instance("db"),
        Some(&json!({"settings": {"deletionProtectionEnabled": false}})),
    );
    ok(&fake, "DELETE", &instance("db"), None);
    assert_eq!(http(&fake, "GET", &instance("db"), None).0, 404);
}

#[test]
fn cmek_key_must_exist_and_grant_the_cloud_sql_agent() {
    let fake = fake(0, true);
    let rings = format!("/v1/projects/{PROJECT}/locations/{REGION}/keyRings");
    let key = format!("projects/{PROJECT}/locations/{REGION}/keyRings/sql/cryptoKeys/disk");
    let mut body = postgres("db");
    body["diskEncryptionConfiguration"] = json!({"kmsKeyName": key});
    assert_eq!(
        http(
            &fake,
            "POST",
            &format!("/v1/projects/{PROJECT}/instances"),
            Some(&body)
        )
        .0,
        400,
        "no key"
    );
    ok(
        &fake,
        "POST",
        &format!("{rings}?keyRingId=sql"),
        Some(&json!({})),
    );
    let made = ok(
        &fake,
        "POST",
        &format!("{rings}/sql/cryptoKeys?cryptoKeyId=disk"),
        Some(
            &json!({"purpose": "ENCRYPT_DECRYPT", "rotationPeriod": "7776000s",
                     "nextRotationTime": "2031-01-01T00:00:00Z", "labels": {"paved-stack": "shop"}}),
        ),
    );
    assert_eq!(made["primary"]["state"], "ENABLED");
    assert_eq!(
        http(
            &fake,
            "POST",
            &format!("{rings}/sql/cryptoKeys?cryptoKeyId=disk"),
            Some(&json!({"purpose": "ENCRYPT_DECRYPT"}))
        )
        .0,
        409
    );
    let (status, err) = http(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/instances"),
        Some(&body),
    );
    assert_eq!(status, 400);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains(KMS_ROLE),
        "{err}"
    );
    let agent = ok(
        &fake,
        "POST",
        &format!(
            "/v1beta1/projects/{PROJECT}/services/sqladmin.googleapis.com:generateServiceIdentity"
        ),
        Some(&json!({})),
    );
    let email = agent["response"]["email"].as_str().expect("agent email");
    assert_eq!(
        email,
        format!("service-{NUMBER}@gcp-sa-cloud-sql.iam.gserviceaccount.com")
    );
    let policy = ok(
        &fake,
        "GET",
        &format!("{rings}/sql/cryptoKeys/disk:getIamPolicy"),
        None,
    );
    let set = ok(
        &fake,
        "POST",
        &format!("{rings}/sql/cryptoKeys/disk:setIamPolicy"),
        Some(
            &json!({"policy": {"etag": policy["etag"], "bindings": [{"role": KMS_ROLE, "members": [format!("serviceAccount:{email}")]}]}}),
        ),
    );
    assert_ne!(set["etag"], policy["etag"]);
    create(&fake, &body);
    let got = ok(&fake, "GET", &instance("db"), None);
    assert!(got["diskEncryptionStatus"]["kmsKeyVersionName"]
        .as_str()
        .is_some_and(|v| v.starts_with(&key)));
    let destroyed = ok(
        &fake,
        "POST",
        &format!("{rings}/sql/cryptoKeys/disk/cryptoKeyVersions/1:destroy"),
        Some(&json!({})),
    );
    assert_eq!(destroyed["state"], "DESTROY_SCHEDULED");
}

#[test]
fn a_final_backup_outlives_its_instance_and_restores() {
    let fake = fake(0, true);
    create(&fake, &postgres("db"));
    let user = json!({"name": "app", "password": "pw-1", "type": "BUILT_IN"});
    wait_sql(
        &fake,
        &ok(
            &fake,
            "POST",
            &format!("{}/users", instance("db")),
            Some(&user),
        ),
    );
    let users = ok(&fake, "GET", &format!("{}/users", instance("db")), None);
    assert!(
        !users.to_string().contains("pw-1"),
        "passwords are never returned"
    );
    let runs = ok(
        &fake,
        "GET",
        &format!("{}/backupRuns", instance("db")),
        None,
    );
    assert_eq!(runs["items"][0]["type"], "AUTOMATED");
    let deleted = ok(
        &fake,
        "DELETE",
        &format!(
            "{}?enableFinalBackup=true&finalBackupTtlDays=30&finalBackupDescription=last",
            instance("db")
        ),
        None,
    );
    wait_sql(&fake, &deleted);
    assert_eq!(http(&fake, "GET", &instance("db"), None).0, 404);
    let backups = ok(
        &fake,
        "GET",
        &format!("/v1/projects/{PROJECT}/backups"),
        None,
    );
    let backup = &backups["backups"][0];
    assert_eq!(backup["type"], "FINAL");
    assert_eq!(backup["description"], "last");
    assert!(backup["expiryTime"].is_string());
    let name = backup["name"].as_str().expect("backup name").to_owned();
    let (status, _) = http(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/instances"),
        Some(&postgres("db")),
    );
    assert_eq!(status, 409, "a deleted instance's name stays reserved");
    create(&fake, &postgres("db-restored"));
    let restore = ok(
        &fake,
        "POST",
        &format!("{}/restoreBackup", instance("db-restored")),
        Some(&json!({"backup": name})),
    );
    assert_eq!(restore["operationType"], "RESTORE_VOLUME");
    wait_sql(&fake, &restore);
    let users = ok(
        &fake,
        "GET",
        &format!("{}/users", instance("db-restored")),
        None,
    );
    assert!(
        users["items"]
            .as_array()
            .is_some_and(|u| u.iter().any(|u| u["name"] == "app")),
        "{users}"
    );
}

#[test]
fn clone_needs_point_in_time_recovery() {
    let fake = fake(0, true);
    let mut body = postgres("nopitr");
    body["settings"]["backupConfiguration"]["pointInTimeRecoveryEnabled"] = json!(false);
    create(&fake, &body);
    let clone = json!({"cloneContext": {"destinationInstanceName": "copy"}});
    let (status, err) = http(
        &fake,
        "POST",
        &format!("{}/clone", instance("nopitr")),
        Some(&clone),
    );
    assert_eq!(status, 400, "{err}");
    create(&fake, &postgres("src"));
    let op = ok(
        &fake,
        "POST",
        &format!("{}/clone", instance("src")),
        Some(&clone),
    );
    assert_eq!(op["operationType"], "CLONE");
    wait_sql(&fake, &op);
    assert_eq!(
        ok(&fake, "GET", &instance("copy"), None)["state"],
        "RUNNABLE"
    );
    let mut mysql = postgres("my");
    mysql["databaseVersion"] = json!("MYSQL_8_0");
    mysql["settings"]["availabilityType"] = json!("ZONAL");
    let (status, _) = http(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/instances"),
        Some(&mysql),
    );
    assert_eq!(
        status, 400,
        "MySQL point-in-time recovery needs binary logging"
    );
}

#[test]
fn project_policy_refuses_a_stale_etag() {
    let fake = fake(0, false);
    let read = ok(
        &fake,
        "POST",
        &format!("/v3/projects/{PROJECT}:getIamPolicy"),
        Some(&json!({})),
    );
    let mut policy = read.clone();
    policy["bindings"] = json!([{"role": "roles/cloudsql.client", "members": ["serviceAccount:app@p.iam.gserviceaccount.com"]}]);
    let first = ok(
        &fake,
        "POST",
        &format!("/v3/projects/{PROJECT}:setIamPolicy"),
        Some(&json!({"policy": policy})),
    );
    assert_ne!(first["etag"], read["etag"]);
    let (status, err) = http(
        &fake,
        "POST",
        &format!("/v3/projects/{PROJECT}:setIamPolicy"),
        Some(&json!({"policy": policy})),
    );
    assert_eq!(status, 409);
    assert_eq!(err["error"]["status"], "ABORTED");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("There were concurrent policy changes."));
}

#[test]
fn secrets_and_service_accounts() {
    let fake = fake(0, false);
    ok(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/secrets?secretId=db-password"),
        Some(&json!({"replication": {"automatic": {}}, "labels": {"paved-stack": "shop"}})),
    );
    ok(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/secrets/db-password:addVersion"),
        Some(&json!({"payload": {"data": "cHctMQ=="}})),
    );
    let access = ok(
        &fake,
        "GET",
        &format!("/v1/projects/{PROJECT}/secrets/db-password/versions/latest:access"),
        None,
    );
    assert_eq!(access["payload"]["data"], "cHctMQ==");
    assert!(access["name"]
        .as_str()
        .is_some_and(|n| n.starts_with(&format!("projects/{NUMBER}/"))));
    let listed = ok(
        &fake,
        "GET",
        &format!("/v1/projects/{PROJECT}/secrets?filter=labels.paved-stack=shop"),
        None,
    );
    assert_eq!(listed["secrets"].as_array().map(Vec::len), Some(1));
    let sa = ok(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/serviceAccounts"),
        Some(&json!({"accountId": "shop-app", "serviceAccount": {"displayName": "shop"}})),
    );
    assert_eq!(sa["email"], "shop-app@p.iam.gserviceaccount.com");
    let path = format!(
        "/v1/projects/-/serviceAccounts/{}",
        sa["email"].as_str().unwrap_or_default()
    );
    let bind = json!({"policy": {"bindings": [{"role": "roles/iam.workloadIdentityUser",
                                               "members": ["serviceAccount:p.svc.id.goog[shop/app]"]}]}});
    ok(&fake, "POST", &format!("{path}:setIamPolicy"), Some(&bind));
    let policy = ok(
        &fake,
        "POST",
        &format!("{path}:getIamPolicy"),
        Some(&json!({})),
    );
    assert_eq!(
        policy["bindings"][0]["members"][0],
        "serviceAccount:p.svc.id.goog[shop/app]"
    );
}

/// `gcloud`, or `None` (with a message) when it is not installed.
fn gcloud() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("gcloud"))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("PAVED_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "gcloud is required (PAVED_REQUIRE_TOOLS=1) but not installed"
        );
        eprintln!("skipping: gcloud is not installed");
    }
    found
}

/// Runs gcloud against the stand-in; returns (success, stdout, stderr).
fn run_gcloud(
    bin: &PathBuf,
    fake: &GcpFakeHandle,
    home: &std::path::Path,
    args: &[&str],
) -> (bool, String, String) {
    let url = format!("{}/", fake.url());
    let token = home.join("token");
    std::fs::write(&token, "paved-test-token").expect("token file");
    let out = Command::new(bin)
        .args(args)
        .env("CLOUDSDK_CONFIG", home.join("config"))
        .env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
        .env("CLOUDSDK_CORE_PROJECT", PROJECT)
        .env("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", &token)
        .env("CLOUDSDK_CORE_DISABLE_USAGE_REPORTING", "1")
        .env("CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK", "1")
        .env("CLOUDSDK_API_ENDPOINT_OVERRIDES_SQL", &url)
        .env("CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS", &url)
        .env("CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER", &url)
        .output()
        .expect("run gcloud");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A temporary directory for gcloud's configuration.
fn temp_home(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paved-gcloud-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn gcloud_writes_and_reads_cloud_sql() {
    let Some(bin) = gcloud() else { return };
    let fake = fake(1, true);
    let home = temp_home("sql");
    let g = |args: &[&str]| run_gcloud(&bin, &fake, &home, args);
    let (ok_create, out, err) = g(&[
        "sql",
        "instances",
        "create",
        "shop-db",
        "--database-version=POSTGRES_15",
        "--tier=db-custom-2-7680",
        "--region=europe-west1",
        "--availability-type=REGIONAL",
        "--no-assign-ip",
        "--network=projects/p/global/networks/vpc",
        "--enable-point-in-time-recovery",
        "--backup-start-time=03:00",
        "--deletion-protection",
        "--format=json",
    ]);
    assert!(ok_create, "gcloud sql instances create: {err}\n{out}");
    let (_, out, err) = g(&["sql", "instances", "describe", "shop-db", "--format=json"]);
    let described: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    assert_eq!(described["state"], "RUNNABLE");
    assert_eq!(described["settings"]["availabilityType"], "REGIONAL");
    assert_eq!(described["settings"]["deletionProtectionEnabled"], true);
    assert_eq!(
        described["settings"]["backupConfiguration"]["pointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(described["ipAddresses"][0]["type"], "PRIVATE");
    let (_, out, _) = g(&["sql", "instances", "list", "--format=value(name,state)"]);
    assert!(out.contains("shop-db") && out.contains("RUNNABLE"), "{out}");
    let (ok_user, _, err) = g(&[
        "sql",
        "users",
        "create",
        "app",
        "--instance=shop-db",
        "--password=pw-2",
    ]);
    assert!(ok_user, "{err}");
    assert!(
        http(
            &fake,
            "GET",
            &format!("{}/users/app", instance("shop-db")),
            None
        )
        .0 == 200
    );
    let (_, out, _) = g(&[
        "sql",
        "users",
        "list",
        "--instance=shop-db",
        "--format=value(name)",
    ]);
    assert!(
        out.lines().any(|l| l == "app") && out.lines().any(|l| l == "postgres"),
        "{out}"
    );
    let (_, out, _) = g(&[
        "sql",
        "backups",
        "list",
        "--instance=shop-db",
        "--format=value(type,status)",
    ]);
    assert!(
        out.contains("AUTOMATED") && out.contains("SUCCESSFUL"),
        "{out}"
    );
    let (refused, _, err) = g(&["sql", "instances", "delete", "shop-db"]);
    assert!(!refused && err.contains("deletion protection"), "{err}");
    let (patched, _, err) = g(&[
        "sql",
        "instances",
        "patch",
        "shop-db",
        "--no-deletion-protection",
    ]);
    assert!(patched, "{err}");
    let (deleted, _, err) = g(&["sql", "instances", "delete", "shop-db"]);
    assert!(deleted, "{err}");
    let (found, _, err) = g(&["sql", "instances", "describe", "shop-db"]);
    assert!(!found && err.contains("does not exist"), "{err}");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn gcloud_reads_kms_keys_and_secrets() {
    let Some(bin) = gcloud() else { return };
    let fake = fake(0, false);
    let home = temp_home("kms");
    let g = |args: &[&str]| run_gcloud(&bin, &fake, &home, args);
    let rings = format!("/v1/projects/{PROJECT}/locations/{REGION}/keyRings");
    ok(
        &fake,
        "POST",
        &format!("{rings}?keyRingId=sql"),
        Some(&json!({})),
    );
    ok(
        &fake,
        "POST",
        &format!("{rings}/sql/cryptoKeys?cryptoKeyId=disk"),
        Some(
            &json!({"purpose": "ENCRYPT_DECRYPT", "rotationPeriod": "7776000s", "nextRotationTime": "2031-01-01T00:00:00Z"}),
        ),
    );
    let (_, out, err) = g(&[
        "kms",
        "keys",
        "describe",
        "disk",
        "--keyring=sql",
        "--location=europe-west1",
        "--format=json",
    ]);
    let key: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    assert_eq!(key["purpose"], "ENCRYPT_DECRYPT");
    assert_eq!(key["rotationPeriod"], "7776000s");
    assert_eq!(key["primary"]["state"], "ENABLED");
    let member =
        format!("serviceAccount:service-{NUMBER}@gcp-sa-cloud-sql.iam.gserviceaccount.com");
    let (bound, _, err) = g(&[
        "kms",
        "keys",
        "add-iam-policy-binding",
        "disk",
        "--keyring=sql",
        "--location=europe-west1",
        &format!("--member={member}"),
        &format!("--role={KMS_ROLE}"),
    ]);
    assert!(bound, "{err}");
    let policy = ok(
        &fake,
        "GET",
        &format!("{rings}/sql/cryptoKeys/disk:getIamPolicy"),
        None,
    );
    assert_eq!(
        policy["bindings"][0]["members"][0],
        member.as_str(),
        "{policy}"
    );
    ok(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/secrets?secretId=db-password"),
        Some(&json!({"replication": {"automatic": {}}})),
    );
    ok(
        &fake,
        "POST",
        &format!("/v1/projects/{PROJECT}/secrets/db-password:addVersion"),
        Some(&json!({"payload": {"data": "cHctMQ=="}})),
    );
    let (_, out, err) = g(&[
        "secrets",
        "versions",
        "access",
        "latest",
        "--secret=db-password",
    ]);
    assert_eq!(out, "pw-1", "{err}");
    let _ = std::fs::remove_dir_all(&home);
}
