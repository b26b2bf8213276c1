//! The Cloud SQL instance and its read replicas: the request in Cloud SQL's
//! terms, create (or adopt the instance of the stack's name when it carries the
//! stack's labels), change in place, replicas, restore and clone; every call
//! waits for its operation, one operation per instance at a time
//! ([`GcpDatabaseBackend::ops`]).
//!
//! # The request in Cloud SQL's terms
//!
//! - Engine and version: `POSTGRES_<major>` or `MYSQL_<major>` (`8.0` → `MYSQL_8_0`);
//!   Aurora does not exist on GCP and is refused.
//! - Edition `ENTERPRISE` with a custom tier from the instance class
//!   `db.<family>.<size>` ([`tier`]): vCPUs from the size (micro and small 1,
//!   medium and large 2, xlarge 4, `Nxlarge` 4·N), memory per vCPU from the family
//!   (burstable `t*` 3.75 GB, general-purpose `m*` 4 GB, memory-optimised `r*` and
//!   `x2g` 6.5 GB, Cloud SQL's most per vCPU): `db.m6g.large` → `db-custom-2-8192`.
//!   The class is kept in the `paved-instance-class` label so that a refresh
//!   reports the class the user wrote.
//! - Multi-AZ: availability `REGIONAL` (a standby in another zone, automatic
//!   failover); storage: `PD_SSD` of `size_gb` with auto-resize up to `max_size_gb`.
//! - Backups: on when the retention is above 0, keeping that many daily backups,
//!   starting at the backup window's start; point-in-time recovery
//!   (`pointInTimeRecoveryEnabled` on PostgreSQL, binary logging on MySQL) with the
//!   transaction logs kept for the retention, at most 7 days (the Enterprise
//!   limit). The maintenance window's start day and hour.
//! - Private IP only (`ipv4Enabled: false`) on the stack's network, from its
//!   reserved range, with `sslMode: ENCRYPTED_ONLY` (TLS is required, as the
//!   parameter group enforces it on AWS); CMEK with the storage key; deletion
//!   protection as asked; labels from the stack's tags; the parameters as
//!   database flags, with IAM database authentication as the engine's flag
//!   (`cloudsql.iam_authentication` on PostgreSQL, `cloudsql_iam_authentication`
//!   on MySQL) when asked.

use std::collections::BTreeMap;

use google_cloud_sql_v1::model::{
    CloneContext, DatabaseInstance, InstancesCloneRequest, InstancesRestoreBackupRequest,
    RestoreBackupContext,
};
use serde_json::{json, Value};

use super::access::split_group_id;
use super::admin::{change, Mutation};
use super::names;
use super::secret::SECRET_KEY;
use super::{kind, record, GcpDatabaseBackend};
use crate::cloud::gcp::call::model;
use crate::cloud::gcp::labels::{label_key, labels};
use crate::cloud::gcp::wait::text;
use crate::ports::database::{
    replica_key, Engine, InstanceRequest, InstanceState, ModifyRequest, PointInTimeRequest,
    ReplicaRequest, ReplicaState, SnapshotRestoreRequest,
};
use crate::ports::zones::ZoneSource;
use crate::stack::tags::{RESOURCE_TAG, STACK_TAG};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The inventory key of the primary.
pub(super) const INSTANCE_KEY: &str = "instance";

/// The label that keeps the instance class the user wrote.
pub(super) const CLASS_LABEL: &str = "paved-instance-class";

/// The most transaction-log days the Enterprise edition keeps.
const MAX_LOG_DAYS: u32 = 7;

/// The resource type as the instance's labels write it.
pub(super) const RESOURCE_TYPE: &str = "paved_managed_database";

/// Cloud SQL's database version for `engine` at `version`.
pub fn database_version(engine: Engine, version: &str) -> Result<String, BackendError> {
    let major = engine
        .major_of(version)
        .unwrap_or_else(|| version.to_owned());
    let prefix = match engine {
        Engine::Postgres => "POSTGRES",
        Engine::Mysql => "MYSQL",
        Engine::AuroraPostgresql => {
            return Err(BackendError::Permanent {
                operation: "choosing the database version".to_owned(),
                message: "engine aurora-postgresql does not exist on GCP".to_owned(),
                hint: "Use engine = \"postgres\" (Cloud SQL for PostgreSQL)".to_owned(),
            })
        }
    };
    Ok(format!("{prefix}_{}", major.replace('.', "_")))
}

/// The engine version a database version stands for (`POSTGRES_16` → `16`,
/// `MYSQL_8_0` → `8.0`).
pub fn engine_version(database_version: &str) -> String {
    match database_version.split_once('_') {
        Some((_, v)) => v.replace('_', "."),
        None => database_version.to_owned(),
    }
}

/// The custom tier for an instance class (see the module docs); `None` when the
/// class is not `db.<family>.<size>` of a known size.
pub fn tier(class: &str) -> Option<String> {
    let mut parts = class.strip_prefix("db.")?.split('.');
    let (family, size) = (parts.next()?, parts.next()?);
    let cpus: u32 = match size {
        "micro" | "small" => 1,
        "medium" | "large" => 2,
        "xlarge" => 4,
        other => {
            let n: u32 = other.strip_suffix("xlarge")?.parse().ok()?;
            (4 * n).min(96)
        }
    };
    let mb_per_cpu: u32 = match family.chars().next()? {
        't' => 3840,
        'm' => 4096,
        'r' | 'x' => 6656,
        _ => 4096,
    };
    Some(format!("db-custom-{cpus}-{}", cpus * mb_per_cpu))
}

/// The instance class the labels of `inst` keep, when its tier still matches it;
/// else the tier itself.
fn class_of(inst: &Value) -> String {
    let actual = text(inst, "/settings/tier").unwrap_or_default();
    let labelled =
        text(inst, &format!("/settings/userLabels/{CLASS_LABEL}")).map(|l| l.replacen('-', ".", 2));
    match labelled {
        Some(class) if tier(&class).as_deref() == Some(actual.as_str()) => class,
        _ => actual,
    }
}

/// The backup configuration for `retention` days starting at `window`'s start.
fn backup_config(version: &str, retention: u32, window: &str) -> Value {
    let on = retention > 0;
    let postgres = version.starts_with("POSTGRES");
    let mut b = json!({
        "enabled": on,
        "pointInTimeRecoveryEnabled": on && postgres,
        "binaryLogEnabled": on && !postgres,
        "backupRetentionSettings": {"retentionUnit": "COUNT", "retainedBackups": retention.max(1)},
        "transactionLogRetentionDays": retention.clamp(1, MAX_LOG_DAYS),
    });
    if let Some(start) = window.split('-').next().filter(|s| s.len() == 5) {
        b["startTime"] = Value::from(start);
    }
    b
}

/// The maintenance window (`sun:05:00-sun:06:00`) as Cloud SQL's day and hour.
fn maintenance(window: &str) -> Value {
    let mut parts = window.split(':');
    let day = match parts.next().unwrap_or_default() {
        "mon" => 1,
        "tue" => 2,
        "wed" => 3,
        "thu" => 4,
        "fri" => 5,
        "sat" => 6,
        "sun" => 7,
        _ => 0,
    };
    let hour: u32 = parts.next().and_then(|h| h.parse().ok()).unwrap_or(0);
    json!({"day": day, "hour": hour.min(23)})
}

/// The labels of component `key`, with the instance class when given.
fn instance_labels(ctx: &StackContext, key: &str, class: Option<&str>) -> BTreeMap<String, String> {
    let mut l = labels(&ctx.component_tags(key));
    if let Some(class) = class {
        l.extend(labels(&BTreeMap::from([(
            CLASS_LABEL.to_owned(),
            class.to_owned(),
        )])));
    }
    l
}

/// Whether the labels of `inst` say it belongs to `stack`'s database.
pub(super) fn owned(inst: &Value, stack: &str) -> bool {
    let label = |k: &str| text(inst, &format!("/settings/userLabels/{}", label_key(k)));
    let wanted = labels(&BTreeMap::from([
        (STACK_TAG.to_owned(), stack.to_owned()),
        (RESOURCE_TAG.to_owned(), RESOURCE_TYPE.to_owned()),
    ]));
    label(STACK_TAG).as_deref() == wanted.get(&label_key(STACK_TAG)).map(String::as_str)
        && label(RESOURCE_TAG).as_deref()
            == wanted.get(&label_key(RESOURCE_TAG)).map(String::as_str)
}

/// The private address of an instance.
fn private_ip(inst: &Value) -> String {
    inst.get("ipAddresses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|a| a.get("type").and_then(Value::as_str) == Some("PRIVATE"))
        .and_then(|a| text(a, "/ipAddress"))
        .unwrap_or_default()
}

/// Cloud SQL's state in the port's words.
fn status(inst: &Value) -> String {
    match text(inst, "/state").as_deref() {
        Some("RUNNABLE") => "available".to_owned(),
        Some(other) => other.to_ascii_lowercase(),
        None => "unknown".to_owned(),
    }
}

fn number(inst: &Value, pointer: &str) -> u32 {
    inst.pointer(pointer)
        .and_then(|v| match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or_default()
}

/// The primary as the port reports it; `secret` is the password secret's name.
pub(super) fn instance_state(inst: &Value, secret: &str) -> InstanceState {
    let version = text(inst, "/databaseVersion").unwrap_or_default();
    let b = inst.pointer("/settings/backupConfiguration");
    let backups_on = b.and_then(|b| b.get("enabled")).and_then(Value::as_bool) == Some(true);
    InstanceState {
        id: text(inst, "/name").unwrap_or_default(),
        endpoint: private_ip(inst),
        port: if version.starts_with("MYSQL") {
            3306
        } else {
            5432
        },
        engine_version: engine_version(&version),
        instance_class: class_of(inst),
        size_gb: number(inst, "/settings/dataDiskSizeGb"),
        multi_az: text(inst, "/settings/availabilityType").as_deref() == Some("REGIONAL"),
        zone: text(inst, "/gceZone").unwrap_or_default(),
        status: status(inst),
        master_secret_arn: secret.to_owned(),
        latest_restorable_time: None,
        max_size_gb: number(inst, "/settings/storageAutoResizeLimit"),
        storage_type: String::new(),
        backup_retention_days: if backups_on {
            number(
                inst,
                "/settings/backupConfiguration/backupRetentionSettings/retainedBackups",
            )
        } else {
            0
        },
        backup_window: String::new(),
        maintenance_window: String::new(),
        deletion_protection: inst
            .pointer("/settings/deletionProtectionEnabled")
            .and_then(Value::as_bool)
            == Some(true),
        iam_authentication: iam_on(inst),
    }
}

/// A replica as the port reports it.
pub(super) fn replica_state(index: u32, inst: &Value) -> ReplicaState {
    ReplicaState {
        index,
        id: text(inst, "/name").unwrap_or_default(),
        endpoint: private_ip(inst),
        zone: text(inst, "/gceZone").unwrap_or_default(),
        status: status(inst),
    }
}

/// The primary's rows: the instance and the password's secret.
pub(super) fn instance_records(inst: &Value, secret: &str) -> Vec<ComponentRecord> {
    let mut row = record(
        INSTANCE_KEY,
        kind::DB_INSTANCE,
        &text(inst, "/name").unwrap_or_default(),
    );
    row.zone = text(inst, "/gceZone");
    vec![row, record(SECRET_KEY, kind::SECRET, secret)]
}

/// A replica's row.
pub(super) fn replica_record(index: u32, inst: &Value) -> ComponentRecord {
    let mut row = record(
        &replica_key(index),
        kind::DB_REPLICA,
        &text(inst, "/name").unwrap_or_default(),
    );
    row.zone = text(inst, "/gceZone");
    row
}

/// The flags of the parameters: the TLS parameters are Cloud SQL's `sslMode`
/// (dropped here), `rds.logical_replication` is `cloudsql.logical_decoding`.
pub fn flags(parameters: &BTreeMap<String, String>) -> Vec<(String, String)> {
    parameters
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "rds.force_ssl" | "require_secure_transport"))
        .map(|(k, v)| {
            let name = match k.as_str() {
                "rds.logical_replication" => "cloudsql.logical_decoding".to_owned(),
                other => other.to_owned(),
            };
            let value = match v.to_ascii_lowercase().as_str() {
                "1" | "true" if name.starts_with("cloudsql") => "on".to_owned(),
                _ => v.clone(),
            };
            (name, value)
        })
        .collect()
}

/// The engine flag that turns IAM database authentication on.
fn iam_flag(postgres: bool) -> &'static str {
    if postgres {
        "cloudsql.iam_authentication"
    } else {
        "cloudsql_iam_authentication"
    }
}

/// `flags` with IAM database authentication set to `on` (the engine's flag
/// present), sorted by name.
fn with_iam(mut flags: Vec<(String, String)>, postgres: bool, on: bool) -> Vec<(String, String)> {
    flags.retain(|(name, _)| !name.ends_with("iam_authentication"));
    if on {
        flags.push((iam_flag(postgres).to_owned(), "on".to_owned()));
    }
    flags.sort();
    flags
}

/// Whether an instance has IAM database authentication on.
fn iam_on(inst: &Value) -> bool {
    current_flags(inst)
        .iter()
        .any(|(name, value)| name.ends_with("iam_authentication") && value == "on")
}

fn flags_json(flags: &[(String, String)]) -> Value {
    Value::Array(
        flags
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect(),
    )
}

/// The flags an instance has.
fn current_flags(inst: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = inst
        .pointer("/settings/databaseFlags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| Some((text(f, "/name")?, text(f, "/value")?)))
        .collect();
    out.sort();
    out
}

/// A typed instance (a request's body) from its JSON form.
fn instance_model(json: Value, what: &str) -> Result<DatabaseInstance, BackendError> {
    model(json, what)
}

impl GcpDatabaseBackend {
    /// Waits for every unfinished operation on instance `name` (one left by an
    /// interrupted apply); returns whether there was one.
    async fn settle(&self, ctx: &StackContext, name: &str) -> Result<bool, BackendError> {
        let during = "waiting for the instance's running operation";
        let pending = self.pending_operations(ctx, name, during).await?;
        let any = !pending.is_empty();
        for op in &pending {
            self.wait_operation(ctx, op, during).await?;
        }
        Ok(any)
    }

    /// The body of a new primary for `req`.
    fn primary_body(
        &self,
        ctx: &StackContext,
        req: &InstanceRequest,
    ) -> Result<Value, BackendError> {
        let project = self.clients.project()?;
        let region = self.region()?;
        let version = database_version(req.engine, &req.engine_version)?;
        let tier = tier(&req.instance_class).ok_or_else(|| BackendError::Permanent {
            operation: "choosing the Cloud SQL tier".to_owned(),
            message: format!(
                "no Cloud SQL tier stands for instance class {}",
                req.instance_class
            ),
            hint: "Use an instance class such as db.m6g.large".to_owned(),
        })?;
        let (network, range) = split_group_id(&req.subnet_group_id);
        let mut ip = json!({
            "ipv4Enabled": false,
            "privateNetwork": format!("projects/{project}/global/networks/{network}"),
            "sslMode": "ENCRYPTED_ONLY",
        });
        if !range.is_empty() {
            ip["allocatedIpRange"] = Value::from(range);
        }
        let mut body = json!({
            "name": req.name,
            "region": region,
            "databaseVersion": version,
            "settings": {
                "tier": tier,
                "edition": "ENTERPRISE",
                "availabilityType": if req.multi_az { "REGIONAL" } else { "ZONAL" },
                "dataDiskSizeGb": req.size_gb.to_string(),
                "dataDiskType": "PD_SSD",
                "storageAutoResize": true,
                "storageAutoResizeLimit": if req.max_size_gb >= req.size_gb { req.max_size_gb } else { 0 }.to_string(),
                "deletionProtectionEnabled": req.deletion_protection,
                "userLabels": instance_labels(ctx, INSTANCE_KEY, Some(&req.instance_class)),
                "databaseFlags": flags_json(&with_iam(
                    self.flags_for(&req.parameter_group_id),
                    req.engine.is_postgres_family(),
                    req.iam_authentication,
                )),
                "backupConfiguration": backup_config(&version, req.backup_retention_days, &req.backup_window),
                "ipConfiguration": ip,
                "maintenanceWindow": maintenance(&req.maintenance_window),
            },
        });
        if !req.encryption_key.is_empty() {
            body["diskEncryptionConfiguration"] = json!({"kmsKeyName": req.encryption_key});
        }
        Ok(body)
    }

    /// Ensures the primary (see the module docs).
    pub(super) async fn ensure_primary(
        &self,
        ctx: &StackContext,
        req: &InstanceRequest,
    ) -> Step<InstanceState> {
        let _one = self.ops.lock().await;
        let result = self.ensure_primary_inner(ctx, req).await;
        self.primary_step(ctx, result).await
    }

    /// The step of a primary call: the rows of what exists whatever the outcome.
    async fn primary_step(
        &self,
        ctx: &StackContext,
        result: Result<Value, BackendError>,
    ) -> Step<InstanceState> {
        let secret = match self.secret_name(ctx) {
            Ok(s) => s,
            Err(e) => return Step::failed(e, Vec::new()),
        };
        match result {
            Ok(inst) => Step::done(
                instance_state(&inst, &secret),
                instance_records(&inst, &secret),
            ),
            Err(e) => {
                let rows = match self.get_instance(ctx, &ctx.stack).await {
                    Ok(Some(inst)) => instance_records(&inst, &secret),
                    _ => Vec::new(),
                };
                Step::failed(e, rows)
            }
        }
    }

    async fn ensure_primary_inner(
        &self,
        ctx: &StackContext,
        req: &InstanceRequest,
    ) -> Result<Value, BackendError> {
        let during = "creating the Cloud SQL instance";
        if let Some(found) = self.get_instance(ctx, &req.name).await? {
            if !owned(&found, &ctx.stack) {
                return Err(BackendError::Permanent {
                    operation: during.to_owned(),
                    message: format!(
                        "a Cloud SQL instance named {} exists and is not this stack's",
                        req.name
                    ),
                    hint: "Choose another name, or import the instance".to_owned(),
                });
            }
            let interrupted = text(&found, "/state").as_deref() == Some("PENDING_CREATE");
            let found = if self.settle(ctx, &req.name).await? {
                self.get_instance(ctx, &req.name)
                    .await?
                    .ok_or_else(|| gone(&req.name))?
            } else {
                found
            };
            let version = text(&found, "/databaseVersion").unwrap_or_default();
            if interrupted {
                self.set_password(ctx, &req.name, &version).await?;
            }
            let wanted = with_iam(
                self.flags_for(&req.parameter_group_id),
                !version.starts_with("MYSQL"),
                req.iam_authentication,
            );
            if self.flags_known(&req.parameter_group_id) && wanted != current_flags(&found) {
                let patch = json!({"settings": {"databaseFlags": flags_json(&wanted)}});
                self.mutate(ctx, change(&found, patch)?, "setting the database flags")
                    .await?;
            }
            return self
                .get_instance(ctx, &req.name)
                .await?
                .ok_or_else(|| gone(&req.name));
        }
        let body = self.primary_body(ctx, req)?;
        let insert = instance_model(body.clone(), "instances.insert")?;
        // The password is in Secret Manager before the instance exists.
        self.password(ctx).await?;
        self.mutate(ctx, Mutation::Insert(Box::new(insert)), during)
            .await?;
        let version = text(&body, "/databaseVersion").unwrap_or_default();
        self.set_password(ctx, &req.name, &version).await?;
        self.get_instance(ctx, &req.name)
            .await?
            .ok_or_else(|| gone(&req.name))
    }

    /// Applies in-place changes: one PATCH with only what changed.
    pub(super) async fn modify(
        &self,
        ctx: &StackContext,
        instance_id: &str,
        req: &ModifyRequest,
    ) -> Step<InstanceState> {
        let _one = self.ops.lock().await;
        let result = self.modify_inner(ctx, instance_id, req).await;
        self.primary_step(ctx, result).await
    }

    async fn modify_inner(
        &self,
        ctx: &StackContext,
        instance_id: &str,
        req: &ModifyRequest,
    ) -> Result<Value, BackendError> {
        let current = self
            .get_instance(ctx, instance_id)
            .await?
            .ok_or_else(|| gone(instance_id))?;
        let version = text(&current, "/databaseVersion").unwrap_or_default();
        let mut settings = serde_json::Map::new();
        let mut patch = json!({});
        if let Some(class) = &req.instance_class {
            let t = tier(class).ok_or_else(|| BackendError::Permanent {
                operation: "choosing the Cloud SQL tier".to_owned(),
                message: format!("no Cloud SQL tier stands for instance class {class}"),
                hint: "Use an instance class such as db.m6g.large".to_owned(),
            })?;
            settings.insert("tier".into(), Value::from(t));
            settings.insert(
                "userLabels".into(),
                json!(instance_labels(ctx, INSTANCE_KEY, Some(class))),
            );
        }
        if let Some(size) = req.size_gb {
            settings.insert("dataDiskSizeGb".into(), Value::from(size.to_string()));
        }
        if let Some(max) = req.max_size_gb {
            settings.insert(
                "storageAutoResizeLimit".into(),
                Value::from(max.to_string()),
            );
        }
        if req.backup_retention_days.is_some() || req.backup_window.is_some() {
            let retention = req
                .backup_retention_days
                .unwrap_or_else(|| instance_state(&current, "").backup_retention_days);
            let window = req.backup_window.clone().unwrap_or_default();
            settings.insert(
                "backupConfiguration".into(),
                backup_config(&version, retention, &window),
            );
        }
        if let Some(window) = &req.maintenance_window {
            settings.insert("maintenanceWindow".into(), maintenance(window));
        }
        if let Some(multi_az) = req.multi_az {
            settings.insert(
                "availabilityType".into(),
                Value::from(if multi_az { "REGIONAL" } else { "ZONAL" }),
            );
        }
        if let Some(on) = req.deletion_protection {
            settings.insert("deletionProtectionEnabled".into(), Value::from(on));
        }
        let postgres = !version.starts_with("MYSQL");
        let iam = req.iam_authentication.unwrap_or_else(|| iam_on(&current));
        match &req.parameter_group_id {
            Some(group) if self.flags_known(group) => {
                let flags = with_iam(self.flags_for(group), postgres, iam);
                settings.insert("databaseFlags".into(), flags_json(&flags));
            }
            _ if req.iam_authentication.is_some() => {
                let flags = with_iam(current_flags(&current), postgres, iam);
                settings.insert("databaseFlags".into(), flags_json(&flags));
            }
            _ => {}
        }
        if let Some(v) = &req.engine_version {
            let engine = if version.starts_with("MYSQL") {
                Engine::Mysql
            } else {
                Engine::Postgres
            };
            let next = database_version(engine, v)?;
            if next != version {
                patch["databaseVersion"] = Value::from(next);
            }
        }
        if !settings.is_empty() {
            patch["settings"] = Value::Object(settings);
        }
        if patch.as_object().is_some_and(|p| !p.is_empty()) {
            self.mutate(
                ctx,
                change(&current, patch)?,
                "changing the Cloud SQL instance",
            )
            .await?;
        }
        self.get_instance(ctx, instance_id)
            .await?
            .ok_or_else(|| gone(instance_id))
    }

    /// Ensures read replica `req.index` in a zone not in `req.avoid_zones`.
    pub(super) async fn ensure_read_replica(
        &self,
        ctx: &StackContext,
        req: &ReplicaRequest,
    ) -> Step<ReplicaState> {
        let _one = self.ops.lock().await;
        let name = names::replica(&req.source_id, req.index);
        let result = self.ensure_replica_inner(ctx, req, &name).await;
        match result {
            Ok(inst) => Step::done(
                replica_state(req.index, &inst),
                vec![replica_record(req.index, &inst)],
            ),
            Err(e) => {
                let rows = match self.get_instance(ctx, &name).await {
                    Ok(Some(inst)) => vec![replica_record(req.index, &inst)],
                    _ => Vec::new(),
                };
                Step::failed(e, rows)
            }
        }
    }

    async fn ensure_replica_inner(
        &self,
        ctx: &StackContext,
        req: &ReplicaRequest,
        name: &str,
    ) -> Result<Value, BackendError> {
        let region = self.region()?;
        if self.get_instance(ctx, name).await?.is_some() {
            self.settle(ctx, name).await?;
            return self
                .get_instance(ctx, name)
                .await?
                .ok_or_else(|| gone(name));
        }
        let primary = self
            .get_instance(ctx, &req.source_id)
            .await?
            .ok_or_else(|| gone(&req.source_id))?;
        let zones =
            self.clients
                .list_zones(&region)
                .await
                .map_err(|e| BackendError::Permanent {
                    operation: "listing the region's zones".to_owned(),
                    message: e.to_string(),
                    hint: "Check the region and the Compute permissions".to_owned(),
                })?;
        let zone = zones
            .iter()
            .filter(|z| z.available)
            .map(|z| z.name.clone())
            .find(|z| !req.avoid_zones.contains(z));
        let tier = tier(&req.instance_class)
            .unwrap_or_else(|| text(&primary, "/settings/tier").unwrap_or_default());
        let mut body = json!({
            "name": name,
            "region": region,
            "masterInstanceName": req.source_id,
            "databaseVersion": primary.get("databaseVersion").cloned().unwrap_or(Value::Null),
            "settings": {
                "tier": tier,
                "edition": "ENTERPRISE",
                "availabilityType": "ZONAL",
                "dataDiskSizeGb": primary.pointer("/settings/dataDiskSizeGb").cloned().unwrap_or(Value::Null),
                "dataDiskType": "PD_SSD",
                "storageAutoResize": true,
                "userLabels": instance_labels(ctx, &replica_key(req.index), Some(&req.instance_class)),
                "databaseFlags": primary.pointer("/settings/databaseFlags").cloned().unwrap_or(json!([])),
                "ipConfiguration": primary.pointer("/settings/ipConfiguration").cloned().unwrap_or(Value::Null),
            },
        });
        if let Some(zone) = zone {
            body["settings"]["locationPreference"] = json!({"zone": zone});
        }
        if let Some(key) = primary.pointer("/diskEncryptionConfiguration/kmsKeyName") {
            body["diskEncryptionConfiguration"] = json!({"kmsKeyName": key});
        }
        let insert = instance_model(body, "instances.insert")?;
        self.mutate(
            ctx,
            Mutation::Insert(Box::new(insert)),
            "creating a read replica",
        )
        .await?;
        self.get_instance(ctx, name)
            .await?
            .ok_or_else(|| gone(name))
    }

    /// Deletes instance `name` (with a final backup kept `final_backup_days` when
    /// given); gone counts as deleted. Refused while its deletion protection is on.
    pub(super) async fn delete_instance(
        &self,
        ctx: &StackContext,
        inst: &Value,
        final_backup: Option<(&str, u32)>,
    ) -> Result<(), BackendError> {
        let name = text(inst, "/name").unwrap_or_default();
        if inst
            .pointer("/settings/deletionProtectionEnabled")
            .and_then(Value::as_bool)
            == Some(true)
        {
            return Err(BackendError::Permanent {
                operation: format!("deleting the Cloud SQL instance {name}"),
                message: "its deletion protection is on".to_owned(),
                hint: "Set deletion_protection = false and apply, then destroy".to_owned(),
            });
        }
        let during = format!("deleting the Cloud SQL instance {name}");
        self.delete_call(ctx, &name, final_backup, &during).await
    }

    /// Deletes read replica `index` of the stack; a no-op when it does not exist.
    pub(super) async fn remove_replica(&self, ctx: &StackContext, index: u32) -> Step<()> {
        let _one = self.ops.lock().await;
        let name = names::replica(&ctx.stack, index);
        let found = match self.get_instance(ctx, &name).await {
            Ok(f) => f,
            Err(e) => return Step::failed(e, Vec::new()),
        };
        let Some(inst) = found else {
            return Step::done((), Vec::new());
        };
        match self.delete_instance(ctx, &inst, None).await {
            Ok(()) => Step::done((), Vec::new()),
            Err(e) => Step::failed(e, vec![replica_record(index, &inst)]),
        }
    }

    /// Creates the primary from a backup: an empty instance as asked, then the
    /// backup restored into it (`restoreBackup`). `snapshot_id` is a project
    /// backup's name (`projects/P/backups/ID`, such as a final backup) or
    /// `INSTANCE/backupRuns/ID` (a backup run of an instance).
    pub(super) async fn restore_backup(
        &self,
        ctx: &StackContext,
        req: &SnapshotRestoreRequest,
    ) -> Step<InstanceState> {
        let _one = self.ops.lock().await;
        let result = async {
            let project = self.clients.project()?;
            let existed = self.get_instance(ctx, &req.instance.name).await?.is_some();
            let inst = self.ensure_primary_inner(ctx, &req.instance).await?;
            if existed {
                // Adopted: restored by the apply that made it.
                return Ok(inst);
            }
            let body = restore_request(&project, &req.snapshot_id)?;
            self.mutate(
                ctx,
                Mutation::RestoreBackup(req.instance.name.clone(), Box::new(body)),
                "restoring the backup",
            )
            .await?;
            // The restored users replace the instance's: the secret's password again.
            let version = text(&inst, "/databaseVersion").unwrap_or_default();
            self.set_password(ctx, &req.instance.name, &version).await?;
            self.get_instance(ctx, &req.instance.name)
                .await?
                .ok_or_else(|| gone(&req.instance.name))
        }
        .await;
        self.primary_step(ctx, result).await
    }

    /// Creates the primary as a clone of another instance at a point in time (the
    /// latest when none is given), then brings it to the request's settings.
    pub(super) async fn clone_instance(
        &self,
        ctx: &StackContext,
        req: &PointInTimeRequest,
    ) -> Step<InstanceState> {
        let _one = self.ops.lock().await;
        let result = async {
            let name = &req.instance.name;
            if self.get_instance(ctx, name).await?.is_none() {
                let (_, range) = split_group_id(&req.instance.subnet_group_id);
                let clone = clone_request(name, req.restore_time.as_deref(), &range)?;
                self.mutate(
                    ctx,
                    Mutation::Clone(req.source_db_instance_id.clone(), Box::new(clone)),
                    "cloning the instance to a point in time",
                )
                .await?;
                let body = self.primary_body(ctx, &req.instance)?;
                let mut settings = body["settings"].clone();
                if let Some(s) = settings.as_object_mut() {
                    // The clone keeps the source's network and key; the rest follows
                    // the request.
                    s.remove("ipConfiguration");
                }
                let cloned = self
                    .get_instance(ctx, name)
                    .await?
                    .ok_or_else(|| gone(name))?;
                self.mutate(
                    ctx,
                    change(&cloned, json!({"settings": settings}))?,
                    "setting up the cloned instance",
                )
                .await?;
                self.password(ctx).await?;
                let version = text(&body, "/databaseVersion").unwrap_or_default();
                self.set_password(ctx, name, &version).await?;
            }
            self.ensure_primary_inner(ctx, &req.instance).await
        }
        .await;
        self.primary_step(ctx, result).await
    }
}

/// The `restoreBackup` request for `snapshot_id`: a project backup's name
/// (`projects/P/backups/ID`) or `INSTANCE/backupRuns/ID` (of `project`).
fn restore_request(
    project: &str,
    snapshot_id: &str,
) -> Result<InstancesRestoreBackupRequest, BackendError> {
    if snapshot_id.starts_with("projects/") {
        return Ok(InstancesRestoreBackupRequest::new().set_backup(snapshot_id));
    }
    let run = snapshot_id
        .split_once("/backupRuns/")
        .and_then(|(source, run)| Some((source, run.parse::<i64>().ok()?)));
    let Some((source, run)) = run else {
        return Err(BackendError::Permanent {
            operation: "restoring the backup".to_owned(),
            message: format!("\"{snapshot_id}\" names no Cloud SQL backup"),
            hint: "Give projects/PROJECT/backups/ID or INSTANCE/backupRuns/ID".to_owned(),
        });
    };
    Ok(
        InstancesRestoreBackupRequest::new().set_restore_backup_context(
            RestoreBackupContext::new()
                .set_instance_id(source)
                .set_backup_run_id(run)
                .set_project(project),
        ),
    )
}

/// The `clone` request making `name` at `at` (RFC 3339; the latest when none)
/// in reserved range `range` (none: the source's).
fn clone_request(
    name: &str,
    at: Option<&str>,
    range: &str,
) -> Result<InstancesCloneRequest, BackendError> {
    let mut clone = CloneContext::new().set_destination_instance_name(name);
    if let Some(at) = at {
        let time =
            google_cloud_wkt::Timestamp::try_from(at).map_err(|e| BackendError::Permanent {
                operation: "cloning the instance to a point in time".to_owned(),
                message: format!("restore time \"{at}\" is not an RFC 3339 time: {e}"),
                hint: "Give the time as 2025-01-31T12:00:00Z".to_owned(),
            })?;
        clone = clone.set_point_in_time(time);
    }
    if !range.is_empty() {
        clone = clone.set_allocated_ip_range(range);
    }
    Ok(InstancesCloneRequest::new().set_clone_context(clone))
}

/// The error of an instance that vanished under paved.
fn gone(name: &str) -> BackendError {
    BackendError::NotFound {
        what: format!("the Cloud SQL instance {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_map_to_valid_custom_tiers() {
        assert_eq!(tier("db.m6g.large").as_deref(), Some("db-custom-2-8192"));
        assert_eq!(tier("db.t4g.micro").as_deref(), Some("db-custom-1-3840"));
        assert_eq!(tier("db.t4g.medium").as_deref(), Some("db-custom-2-7680"));
        assert_eq!(tier("db.r6g.2xlarge").as_deref(), Some("db-custom-8-53248"));
        assert_eq!(
            tier("db.m5.24xlarge").as_deref(),
            Some("db-custom-96-393216")
        );
        assert_eq!(tier("m6g.large"), None);
        // Cloud SQL's rules: 1 or an even number of vCPUs, 0.9 to 6.5 GB each, in 256 MB.
        for class in [
            "db.t3.small",
            "db.m6i.xlarge",
            "db.x2g.4xlarge",
            "db.r5.large",
        ] {
            let t = tier(class).expect("tier");
            let rest = t.trim_start_matches("db-custom-");
            let (cpus, mb) = rest.split_once('-').expect("cpus-mb");
            let (cpus, mb): (u64, u64) = (cpus.parse().expect("n"), mb.parse().expect("n"));
            assert!(cpus == 1 || cpus % 2 == 0, "{t}");
            assert_eq!(mb % 256, 0, "{t}");
            assert!(mb * 10 >= cpus * 9216 && mb * 10 <= cpus * 66_560, "{t}");
        }
    }

    #[test]
    fn versions_windows_and_backups() {
        assert_eq!(
            database_version(Engine::Postgres, "16.4").ok().as_deref(),
            Some("POSTGRES_16")
        );
        assert_eq!(
            database_version(Engine::Mysql, "8.0.39").ok().as_deref(),
            Some("MYSQL_8_0")
        );
        assert!(database_version(Engine::AuroraPostgresql, "16").is_err());
        assert_eq!(engine_version("MYSQL_8_0"), "8.0");
        assert_eq!(
            maintenance("sun:05:00-sun:06:00"),
            json!({"day": 7, "hour": 5})
        );
        let b = backup_config("POSTGRES_16", 14, "03:00-04:00");
        assert_eq!(b["pointInTimeRecoveryEnabled"], true);
        assert_eq!(b["transactionLogRetentionDays"], 7);
        assert_eq!(b["backupRetentionSettings"]["retainedBackups"], 14);
        assert_eq!(b["startTime"], "03:00");
        let m = backup_config("MYSQL_8_0", 3, "");
        assert_eq!(m["binaryLogEnabled"], true);
        assert_eq!(m["pointInTimeRecoveryEnabled"], false);
        assert_eq!(backup_config("POSTGRES_16", 0, "")["enabled"], false);
    }

    #[test]
    fn the_class_label_reads_back_and_tls_parameters_are_ssl_mode() {
        let inst = json!({"settings": {"tier": "db-custom-2-8192", "userLabels": {CLASS_LABEL: "db-m6g-large"}}});
        assert_eq!(class_of(&inst), "db.m6g.large");
        let changed = json!({"settings": {"tier": "db-custom-4-16384", "userLabels": {CLASS_LABEL: "db-m6g-large"}}});
        assert_eq!(class_of(&changed), "db-custom-4-16384");
        let params = BTreeMap::from([
            ("rds.force_ssl".to_owned(), "1".to_owned()),
            ("rds.logical_replication".to_owned(), "1".to_owned()),
            ("work_mem".to_owned(), "64MB".to_owned()),
        ]);
        assert_eq!(
            flags(&params),
            vec![
                ("cloudsql.logical_decoding".to_owned(), "on".to_owned()),
                ("work_mem".to_owned(), "64MB".to_owned())
            ]
        );
    }

    #[test]
    fn iam_authentication_is_the_engines_flag() {
        let pair = |n: &str, v: &str| (n.to_owned(), v.to_owned());
        let base = vec![pair("work_mem", "64MB")];
        assert_eq!(
            with_iam(base.clone(), true, true),
            vec![
                pair("cloudsql.iam_authentication", "on"),
                pair("work_mem", "64MB")
            ]
        );
        assert_eq!(
            with_iam(base.clone(), false, true),
            vec![
                pair("cloudsql_iam_authentication", "on"),
                pair("work_mem", "64MB")
            ]
        );
        let on = with_iam(base.clone(), true, true);
        assert_eq!(with_iam(on.clone(), true, false), base);
        let inst =
            |flags: &[(String, String)]| json!({"settings": {"databaseFlags": flags_json(flags)}});
        assert!(iam_on(&inst(&on)));
        assert!(!iam_on(&inst(&base)));
        assert!(!instance_state(&inst(&base), "s").iam_authentication);
        assert!(instance_state(&inst(&on), "s").iam_authentication);
    }
}
