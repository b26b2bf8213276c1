//! Cloud SQL's data and rules, without I/O: the stand-in's state types, Cloud
//! SQL's error shape (`errors[].reason` next to Google's `status`), the
//! `sql#operation` resource, the defaults an inserted DatabaseInstance gets and
//! the validation the real Admin API does on an instance's settings (tiers per
//! edition, disks, backups/PITR/binary logging, connectivity, flags).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::http::GcpAnswer;
use super::ops::timestamp;

/// The host selfLinks carry (the real API writes `v1beta4` links from `/v1` too).
pub(super) const SELF_BASE: &str = "https://sqladmin.googleapis.com/sql/v1beta4";

/// One database user.
#[derive(Clone, Debug)]
pub(super) struct User {
    /// The User resource (never with a password).
    pub json: Value,
    /// The password, kept for the test hook.
    pub password: Option<String>,
}

/// A backup: its resource and the users it would bring back on restore.
#[derive(Clone, Debug)]
pub(super) struct Snapshot {
    /// The BackupRun or Backup resource.
    pub json: Value,
    /// The instance's users when it was taken.
    pub users: BTreeMap<String, User>,
}

/// One instance and what lives and dies with it.
#[derive(Clone, Debug)]
pub(super) struct Instance {
    /// The DatabaseInstance resource.
    pub json: Value,
    /// Users by name.
    pub users: BTreeMap<String, User>,
    /// Backup runs (`instances/{i}/backupRuns`), deleted with the instance.
    pub runs: Vec<Snapshot>,
    /// The private IP, when on a VPC.
    pub private_ip: Option<String>,
    /// The reserved range the private IP came from.
    pub range: Option<String>,
    /// The backup it was last restored from (for tests).
    pub restored_from: Option<String>,
}

/// What happens when an operation completes.
#[derive(Clone, Debug)]
pub(super) enum Effect {
    /// Nothing more.
    Nothing,
    /// The instance becomes RUNNABLE (after create/clone: also its first
    /// automated backup when backups are on).
    Runnable {
        key: (String, String),
        created: bool,
    },
    /// The instance goes away.
    Remove { key: (String, String) },
}

/// One operation.
#[derive(Clone, Debug)]
pub(super) struct SqlOp {
    /// The `sql#operation` resource.
    pub json: Value,
    /// Still to apply when it completes.
    pub effect: Effect,
}

/// All Cloud SQL state.
#[derive(Debug, Default)]
pub(super) struct SqlState {
    /// Instances by (project, name).
    pub instances: BTreeMap<(String, String), Instance>,
    /// The project-level `backups` collection by full name (final backups
    /// outlive their instance).
    pub backups: BTreeMap<String, Snapshot>,
    /// Operations by name.
    pub operations: BTreeMap<String, SqlOp>,
    /// Names of deleted instances (the real API refuses them for a week).
    pub deleted: BTreeSet<(String, String)>,
    /// Counter behind ids, IPs and etags.
    pub counter: u64,
}

impl SqlState {
    /// A fresh number.
    pub fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
}

/// A Cloud SQL error: Google's shape plus the legacy `errors[]` with `reason`.
pub(super) fn sql_error(
    http: u16,
    status: &str,
    reason: &str,
    message: impl Into<String>,
) -> GcpAnswer {
    let message = message.into();
    GcpAnswer {
        status: http,
        body: json!({"error": {
            "code": http,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status,
        }}),
    }
}

/// 400 `Invalid request: ...`.
pub(super) fn invalid(message: impl std::fmt::Display) -> GcpAnswer {
    sql_error(
        400,
        "INVALID_ARGUMENT",
        "invalid",
        format!("Invalid request: {message}"),
    )
}

/// 404 for a missing instance.
pub(super) fn no_instance() -> GcpAnswer {
    sql_error(
        404,
        "NOT_FOUND",
        "instanceDoesNotExist",
        "The Cloud SQL instance does not exist.",
    )
}

/// 409 while another operation runs on the instance.
pub(super) fn busy() -> GcpAnswer {
    sql_error(
        409,
        "ABORTED",
        "operationInProgress",
        "Operation failed because another operation was already in progress. Try your request after the current operation is complete.",
    )
}

/// A new `sql#operation` on `instance`.
pub(super) fn operation(project: &str, instance: &str, name: &str, kind: &str, now: &str) -> Value {
    json!({
        "kind": "sql#operation",
        "name": name,
        "operationType": kind,
        "status": "PENDING",
        "user": "paved@paved-gcp-fake.example",
        "insertTime": now,
        "startTime": now,
        "targetId": instance,
        "targetProject": project,
        "targetLink": format!("{SELF_BASE}/projects/{project}/instances/{instance}"),
        "selfLink": format!("{SELF_BASE}/projects/{project}/operations/{name}"),
    })
}

/// Whether `name` is a valid instance name: lowercase letters, digits and
/// hyphens, starting with a letter, not ending with a hyphen, at most 98 characters.
pub(super) fn valid_name(name: &str) -> bool {
    (1..=98).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `true` for Postgres versions.
pub(super) fn is_postgres(version: &str) -> bool {
    version.starts_with("POSTGRES_")
}

/// The patch version a major version installs.
fn installed_version(version: &str) -> Option<&'static str> {
    Some(match version {
        "POSTGRES_13" => "POSTGRES_13_20",
        "POSTGRES_14" => "POSTGRES_14_17",
        "POSTGRES_15" => "POSTGRES_15_12",
        "POSTGRES_16" => "POSTGRES_16_8",
        "POSTGRES_17" => "POSTGRES_17_4",
        "MYSQL_5_7" => "MYSQL_5_7_44",
        "MYSQL_8_0" => "MYSQL_8_0_41",
        "MYSQL_8_4" => "MYSQL_8_4_4",
        _ => return None,
    })
}

/// The edition an instance gets when the request names none: Enterprise Plus
/// for PostgreSQL 16+ and MySQL 8.4 (as the real API defaults since 2024),
/// Enterprise otherwise.
fn default_edition(version: &str) -> &'static str {
    match version {
        "POSTGRES_16" | "POSTGRES_17" | "MYSQL_8_4" => "ENTERPRISE_PLUS",
        _ => "ENTERPRISE",
    }
}

/// An int64 field as the API writes it (a JSON string), from a number or string.
fn int64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Merges `patch` into `base`: objects recursively, a `null` removes the field,
/// anything else replaces.
pub(super) fn merge(base: &mut Value, patch: &Value) {
    match (base.as_object_mut(), patch.as_object()) {
        (Some(b), Some(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else if v.is_object() && b.get(k).is_some_and(Value::is_object) {
                    if let Some(slot) = b.get_mut(k) {
                        merge(slot, v);
                    }
                } else {
                    b.insert(k.clone(), v.clone());
                }
            }
        }
        _ => *base = patch.clone(),
    }
}

/// Fills the defaults a new instance gets (settings, backups, IP config,
/// edition) into the request body and validates it.
pub(super) fn with_defaults(project: &str, body: &Value) -> Result<Value, GcpAnswer> {
    let name = body["name"].as_str().unwrap_or_default();
    if !valid_name(name) {
        return Err(invalid(format!(
            "Invalid instance name ({name}): use lowercase letters, digits and hyphens, start with a letter."
        )));
    }
    let version = body["databaseVersion"]
        .as_str()
        .unwrap_or("MYSQL_8_0")
        .to_owned();
    if installed_version(&version).is_none() {
        return Err(invalid(format!("Invalid database version ({version}).")));
    }
    let region = body["region"].as_str().unwrap_or("us-central1").to_owned();
    let postgres = is_postgres(&version);
    let defaults = json!({
        "kind": "sql#instance",
        "project": project,
        "region": region,
        "databaseVersion": version,
        "backendType": "SECOND_GEN",
        "settings": {
            "kind": "sql#settings",
            "edition": default_edition(&version),
            "availabilityType": "ZONAL",
            "pricingPlan": "PER_USE",
            "activationPolicy": "ALWAYS",
            "replicationType": "SYNCHRONOUS",
            "dataDiskSizeGb": "10",
            "dataDiskType": "PD_SSD",
            "storageAutoResize": true,
            "storageAutoResizeLimit": "0",
            "deletionProtectionEnabled": false,
            "connectorEnforcement": "NOT_REQUIRED",
            "backupConfiguration": {
                "kind": "sql#backupConfiguration",
                "enabled": false,
                "startTime": "02:00",
                "transactionLogRetentionDays": 7,
                "backupRetentionSettings": {"retentionUnit": "COUNT", "retainedBackups": 7},
                "pointInTimeRecoveryEnabled": false,
                "binaryLogEnabled": false,
                "replicationLogArchivingEnabled": false,
                "transactionalLogStorageState": "CLOUD_STORAGE",
                "backupTier": "STANDARD",
            },
            "ipConfiguration": {
                "ipv4Enabled": true,
                "requireSsl": false,
                "sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED",
                "authorizedNetworks": [],
                "serverCaMode": "GOOGLE_MANAGED_INTERNAL_CA",
            },
            "locationPreference": {"kind": "sql#locationPreference", "zone": format!("{region}-a")},
            "maintenanceWindow": {"kind": "sql#maintenanceWindow", "day": 0, "hour": 0},
        },
    });
    let mut inst = defaults;
    merge(&mut inst, body);
    if !postgres {
        if let Some(b) = inst["settings"]["backupConfiguration"].as_object_mut() {
            b.remove("transactionalLogStorageState");
        }
    }
    normalize(&mut inst);
    validate(&inst)?;
    Ok(inst)
}

/// Writes the int64 settings as strings, as the API returns them.
pub(super) fn normalize(inst: &mut Value) {
    for field in [
        "dataDiskSizeGb",
        "storageAutoResizeLimit",
        "settingsVersion",
    ] {
        if let Some(n) = inst["settings"].get(field).and_then(int64) {
            inst["settings"][field] = json!(n.to_string());
        }
    }
}

/// Whether `tier` exists for `edition` and engine.
fn valid_tier(tier: &str, edition: &str, postgres: bool) -> bool {
    if edition == "ENTERPRISE_PLUS" {
        return tier.strip_prefix("db-perf-optimized-N-").is_some_and(|n| {
            matches!(
                n,
                "2" | "4" | "8" | "16" | "32" | "48" | "64" | "80" | "96" | "128"
            )
        });
    }
    if matches!(tier, "db-f1-micro" | "db-g1-small") {
        return true;
    }
    if let Some(rest) = tier.strip_prefix("db-custom-") {
        let mut parts = rest.split('-').map(str::parse::<u64>);
        return match (parts.next(), parts.next(), parts.next()) {
            (Some(Ok(cpus)), Some(Ok(mb)), None) => {
                (cpus == 1 || (cpus % 2 == 0 && cpus <= 96))
                    && mb % 256 == 0
                    && mb * 10 >= cpus * 9216
                    && mb * 10 <= cpus * 66_560
            }
            _ => false,
        };
    }
    !postgres
        && ["db-n1-standard-", "db-n1-highmem-"].iter().any(|p| {
            tier.strip_prefix(p)
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
}

/// The checks the real API makes on an instance's own settings.
pub(super) fn validate(inst: &Value) -> Result<(), GcpAnswer> {
    let version = inst["databaseVersion"].as_str().unwrap_or_default();
    let postgres = is_postgres(version);
    let s = &inst["settings"];
    let edition = s["edition"].as_str().unwrap_or("ENTERPRISE");
    if !matches!(edition, "ENTERPRISE" | "ENTERPRISE_PLUS") {
        return Err(invalid(format!("Invalid edition ({edition}).")));
    }
    let Some(tier) = s["tier"].as_str() else {
        return Err(invalid("The tier (settings.tier) must be specified."));
    };
    if !valid_tier(tier, edition, postgres) {
        return Err(invalid(format!(
            "Invalid Tier ({tier}) for ({edition}) Edition. Use CloudSQL Tiers API to get the list of available tiers for the given database version and edition."
        )));
    }
    let availability = s["availabilityType"].as_str().unwrap_or_default();
    if !matches!(availability, "ZONAL" | "REGIONAL") {
        return Err(invalid(format!(
            "Invalid availability type ({availability})."
        )));
    }
    let disk = int64(&s["dataDiskSizeGb"]).unwrap_or(10);
    if !(10..=65_536).contains(&disk) {
        return Err(invalid(format!(
            "Invalid data disk size ({disk} GB): it must be between 10 and 65536."
        )));
    }
    let limit = int64(&s["storageAutoResizeLimit"]).unwrap_or(0);
    if limit != 0 && limit < disk {
        return Err(invalid(
            "The storage auto-resize limit must be 0 (no limit) or at least the disk size.",
        ));
    }
    if !matches!(
        s["dataDiskType"].as_str(),
        Some("PD_SSD" | "PD_HDD" | "HYPERDISK_BALANCED")
    ) {
        return Err(invalid(format!(
            "Invalid data disk type ({}).",
            s["dataDiskType"]
        )));
    }
    check_backups(
        &s["backupConfiguration"],
        postgres,
        edition,
        availability,
        inst,
    )?;
    check_ip(&s["ipConfiguration"])?;
    check_flags(s, postgres)?;
    let window = &s["maintenanceWindow"];
    let day = window["day"].as_u64().unwrap_or(0);
    let hour = window["hour"].as_u64().unwrap_or(0);
    if day > 7 || hour > 23 {
        return Err(invalid(
            "Invalid maintenance window: day must be 1-7 (0: any) and hour 0-23.",
        ));
    }
    Ok(())
}

/// Backups, point-in-time recovery and binary logging.
fn check_backups(
    b: &Value,
    postgres: bool,
    edition: &str,
    availability: &str,
    inst: &Value,
) -> Result<(), GcpAnswer> {
    let enabled = b["enabled"].as_bool().unwrap_or(false);
    let pitr = b["pointInTimeRecoveryEnabled"].as_bool().unwrap_or(false);
    let binlog = b["binaryLogEnabled"].as_bool().unwrap_or(false);
    let replica = inst
        .get("masterInstanceName")
        .is_some_and(|m| m.is_string());
    if replica && enabled {
        return Err(invalid(
            "Backups are not supported for read replicas; disable backupConfiguration.enabled.",
        ));
    }
    if postgres && binlog {
        return Err(invalid(
            "Binary logging is a MySQL setting; use pointInTimeRecoveryEnabled for PostgreSQL.",
        ));
    }
    if postgres && pitr && !enabled {
        return Err(invalid(
            "Point in time recovery must be disabled when backup is disabled.",
        ));
    }
    if !postgres && pitr && !binlog {
        return Err(invalid(
            "Point in time recovery for MySQL requires binary logging (binaryLogEnabled).",
        ));
    }
    if !postgres && binlog && !enabled {
        return Err(invalid(
            "Binary log must be disabled when backup is disabled.",
        ));
    }
    let mysql_ha = !postgres && availability == "REGIONAL" && !replica;
    if mysql_ha && !(enabled && binlog) {
        return Err(invalid(
            "High availability (REGIONAL) MySQL instances need backups and binary logging enabled.",
        ));
    }
    if let Some(start) = b["startTime"].as_str() {
        let ok = start.len() == 5
            && start.as_bytes()[2] == b':'
            && start[..2].parse::<u32>().is_ok_and(|h| h < 24)
            && start[3..].parse::<u32>().is_ok_and(|m| m < 60);
        if !ok {
            return Err(invalid(format!(
                "Invalid backup start time ({start}): use HH:MM."
            )));
        }
    }
    let days = b["transactionLogRetentionDays"].as_i64().unwrap_or(7);
    let max_days = if edition == "ENTERPRISE_PLUS" { 35 } else { 7 };
    if !(1..=max_days).contains(&days) {
        return Err(invalid(format!(
            "Invalid transactionLogRetentionDays ({days}): it must be between 1 and {max_days} for {edition}."
        )));
    }
    let retention = &b["backupRetentionSettings"];
    if retention["retentionUnit"].as_str().unwrap_or("COUNT") != "COUNT" {
        return Err(invalid(
            "backupRetentionSettings.retentionUnit must be COUNT.",
        ));
    }
    let kept = int64(&retention["retainedBackups"]).unwrap_or(7);
    if !(1..=365).contains(&kept) {
        return Err(invalid(format!(
            "Invalid retainedBackups ({kept}): it must be between 1 and 365."
        )));
    }
    if kept < days {
        return Err(invalid(
            "The number of retained backups must be at least the transaction log retention days.",
        ));
    }
    Ok(())
}

/// Connectivity: at least one path in, valid SSL mode.
fn check_ip(ip: &Value) -> Result<(), GcpAnswer> {
    let public = ip["ipv4Enabled"].as_bool().unwrap_or(true);
    let private = ip["privateNetwork"].as_str().is_some_and(|n| !n.is_empty());
    let psc = ip["pscConfig"]["pscEnabled"].as_bool().unwrap_or(false);
    if !public && !private && !psc {
        return Err(invalid(
            "At least one of Public IP or Private IP or PSC connectivity must be enabled.",
        ));
    }
    if ip.get("allocatedIpRange").is_some_and(Value::is_string) && !private {
        return Err(invalid(
            "allocatedIpRange needs ipConfiguration.privateNetwork.",
        ));
    }
    let mode = ip["sslMode"]
        .as_str()
        .unwrap_or("ALLOW_UNENCRYPTED_AND_ENCRYPTED");
    if !matches!(
        mode,
        "ALLOW_UNENCRYPTED_AND_ENCRYPTED"
            | "ENCRYPTED_ONLY"
            | "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    ) {
        return Err(invalid(format!("Invalid SSL mode ({mode}).")));
    }
    Ok(())
}

/// Database flags: well-formed, and the IAM authentication flag of the right engine.
fn check_flags(s: &Value, postgres: bool) -> Result<(), GcpAnswer> {
    for flag in s["databaseFlags"].as_array().into_iter().flatten() {
        let name = flag["name"].as_str().unwrap_or_default();
        if name.is_empty() || flag["value"].as_str().is_none() {
            return Err(invalid(
                "Each database flag needs a name and a string value.",
            ));
        }
        let wrong_engine = if postgres {
            name == "cloudsql_iam_authentication"
        } else {
            name.starts_with("cloudsql.")
        };
        if wrong_engine {
            return Err(invalid(format!(
                "Invalid flag for instance role: Unknown flag ({name}) for this database version."
            )));
        }
    }
    Ok(())
}

/// Whether the instance has database flag `name` set to `on`.
pub(super) fn flag_on(inst: &Value, name: &str) -> bool {
    inst["settings"]["databaseFlags"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["name"] == name && f["value"] == "on")
}

/// Whether the instance can be cloned (PITR for Postgres, binary logging for MySQL).
pub(super) fn pitr_on(inst: &Value) -> bool {
    let b = &inst["settings"]["backupConfiguration"];
    if is_postgres(inst["databaseVersion"].as_str().unwrap_or_default()) {
        b["pointInTimeRecoveryEnabled"].as_bool().unwrap_or(false)
    } else {
        b["binaryLogEnabled"].as_bool().unwrap_or(false)
    }
}

/// Fills the output-only fields derived from the settings and the addresses.
pub(super) fn derive(inst: &mut Instance, number: u64, serial: u64) {
    let j = &mut inst.json;
    let project = j["project"].as_str().unwrap_or_default().to_owned();
    let name = j["name"].as_str().unwrap_or_default().to_owned();
    let region = j["region"].as_str().unwrap_or_default().to_owned();
    let version = j["databaseVersion"].as_str().unwrap_or_default().to_owned();
    j["connectionName"] = json!(format!("{project}:{region}:{name}"));
    j["selfLink"] = json!(format!("{SELF_BASE}/projects/{project}/instances/{name}"));
    if let Some(v) = installed_version(&version) {
        j["databaseInstalledVersion"] = json!(v);
        j["maintenanceVersion"] = json!(format!("{v}.R20250302.00_14"));
    }
    j["sqlNetworkArchitecture"] = json!("NEW_NETWORK_ARCHITECTURE");
    if j.get("serviceAccountEmailAddress").is_none() {
        j["serviceAccountEmailAddress"] = json!(format!(
            "p{number}-{serial:06x}@gcp-sa-cloud-sql.iam.gserviceaccount.com"
        ));
    }
    let zone = j["settings"]["locationPreference"]["zone"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{region}-a"));
    j["gceZone"] = json!(zone);
    if let Some(obj) = j.as_object_mut() {
        obj.remove("secondaryGceZone");
    }
    if j["settings"]["availabilityType"] == "REGIONAL" {
        let secondary = if zone.ends_with("-b") {
            format!("{region}-c")
        } else {
            format!("{region}-b")
        };
        j["secondaryGceZone"] = json!(secondary);
    }
    j["instanceType"] = json!(
        if j.get("masterInstanceName").is_some_and(Value::is_string) {
            "READ_REPLICA_INSTANCE"
        } else {
            "CLOUD_SQL_INSTANCE"
        }
    );
    let mut addresses = Vec::new();
    if j["settings"]["ipConfiguration"]["ipv4Enabled"]
        .as_bool()
        .unwrap_or(true)
    {
        addresses.push(json!({"type": "PRIMARY", "ipAddress": format!("34.{}.{}.{}", 40 + serial / 65_536 % 100, serial / 256 % 256, serial % 256)}));
    }
    if let Some(ip) = &inst.private_ip {
        addresses.push(json!({"type": "PRIVATE", "ipAddress": ip}));
    }
    j["ipAddresses"] = Value::Array(addresses);
    if let Some(key) = j["diskEncryptionConfiguration"]["kmsKeyName"]
        .as_str()
        .map(str::to_owned)
    {
        j["diskEncryptionConfiguration"]["kind"] = json!("sql#diskEncryptionConfiguration");
        j["diskEncryptionStatus"] = json!({"kind": "sql#diskEncryptionStatus", "kmsKeyVersionName": format!("{key}/cryptoKeyVersions/1")});
    }
    j["etag"] = json!(format!(
        "{:064x}",
        serial.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    ));
}

/// The IPv4 address `offset` after `base`.
pub(super) fn ip_after(base: &str, offset: u64) -> Option<String> {
    let octets: Vec<u64> = base
        .split('.')
        .map(|o| o.parse().ok())
        .collect::<Option<_>>()?;
    if octets.len() != 4 {
        return None;
    }
    let n = octets.iter().fold(0u64, |acc, o| acc * 256 + o) + offset;
    Some(format!(
        "{}.{}.{}.{}",
        n >> 24 & 255,
        n >> 16 & 255,
        n >> 8 & 255,
        n & 255
    ))
}

/// Whether `inst` matches a list `filter`: space- or `AND`-joined terms
/// `field.path:value` or `field.path=value` (`name:` matches a substring).
pub(super) fn matches_filter(inst: &Value, filter: &str) -> bool {
    filter
        .split_whitespace()
        .filter(|t| *t != "AND")
        .all(|term| {
            let Some((path, value)) = term.split_once([':', '=']) else {
                return true;
            };
            let value = value.trim_matches('"');
            let mut node = inst;
            for part in path.split('.') {
                node = &node[part];
            }
            let have = match node {
                Value::String(s) => s.clone(),
                Value::Null => return false,
                other => other.to_string(),
            };
            if path == "name" {
                have.contains(value)
            } else {
                have == value
            }
        })
}

/// A users list item map as JSON `items`.
pub(super) fn user_items(users: &BTreeMap<String, User>) -> Vec<Value> {
    users.values().map(|u| u.json.clone()).collect()
}

/// Ids of backup runs start here (they look like epoch milliseconds).
pub(super) const RUN_ID_BASE: u64 = 1_750_000_000_000;

/// A backup run of `inst` with id `RUN_ID_BASE + serial`.
pub(super) fn backup_run(inst: &Value, serial: u64, kind: &str, description: &str) -> Value {
    let now = timestamp(0);
    let id = RUN_ID_BASE + serial;
    let project = inst["project"].as_str().unwrap_or_default();
    let name = inst["name"].as_str().unwrap_or_default();
    let mut run = json!({
        "kind": "sql#backupRun",
        "id": id.to_string(),
        "status": "SUCCESSFUL",
        "type": kind,
        "instance": name,
        "enqueuedTime": now,
        "startTime": now,
        "endTime": now,
        "windowStartTime": now,
        "location": inst["region"],
        "backupKind": "SNAPSHOT",
        "databaseVersion": inst["databaseVersion"],
        "selfLink": format!("{SELF_BASE}/projects/{project}/instances/{name}/backupRuns/{id}"),
    });
    if !description.is_empty() {
        run["description"] = json!(description);
    }
    if let Some(key) = inst["diskEncryptionConfiguration"]["kmsKeyName"].as_str() {
        run["diskEncryptionConfiguration"] =
            json!({"kind": "sql#diskEncryptionConfiguration", "kmsKeyName": key});
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_the_edition() {
        assert!(valid_tier("db-custom-2-7680", "ENTERPRISE", true));
        assert!(!valid_tier("db-custom-2-7680", "ENTERPRISE_PLUS", true));
        assert!(valid_tier("db-perf-optimized-N-2", "ENTERPRISE_PLUS", true));
        assert!(!valid_tier("db-custom-3-7680", "ENTERPRISE", true));
        assert!(!valid_tier("db-custom-2-20000", "ENTERPRISE", true));
        assert!(!valid_tier("db-n1-standard-2", "ENTERPRISE", true));
        assert!(valid_tier("db-n1-standard-2", "ENTERPRISE", false));
    }

    #[test]
    fn ip_arithmetic_and_merge() {
        assert_eq!(ip_after("10.10.0.0", 259).as_deref(), Some("10.10.1.3"));
        let mut base = json!({"a": {"b": 1, "c": 2}, "d": 3});
        merge(&mut base, &json!({"a": {"b": null, "e": 4}, "d": [1]}));
        assert_eq!(base, json!({"a": {"c": 2, "e": 4}, "d": [1]}));
    }
}
