//! The primary instance and its read replicas: create (or adopt by identifier when
//! tagged with the stack), change in place, restore from a snapshot or to a point in
//! time; every call waits until the instance is `available` (see [`super::wait`]).
//!
//! The master password is RDS's: instances are created with
//! `ManageMasterUserPassword`, restored ones get it turned on afterwards, and only
//! the secret's ARN is reported.

use std::future::Future;

use aws_sdk_rds::primitives::{DateTime, DateTimeFormat};
use aws_sdk_rds::types::DbInstance;

use super::wait::{instance_waiter, until_available, Seen};
use super::{
    aurora_unsupported, backend_error, checkpoint, fail, rds_owned, rds_tags, record, replica_name,
};
use crate::cloud::aws::error::incomplete;
use crate::cloud::aws::error::SdkFailure;
use crate::cloud::aws::AwsClients;
use crate::ports::database::{kind, replica_key};
use crate::ports::database::{Engine, StorageType};
use crate::ports::database::{
    InstanceRequest, InstanceState, ModifyRequest, PointInTimeRequest, ReplicaRequest,
    ReplicaState, SnapshotRestoreRequest,
};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The inventory key of the primary.
pub(crate) const INSTANCE_KEY: &str = "instance";
/// The inventory key of the master secret.
pub(crate) const SECRET_KEY: &str = "master_secret";
/// The master user's name (the password is RDS's, in Secrets Manager).
const MASTER_USERNAME: &str = "paved_admin";
/// Provisioned IOPS for `io2` volumes (the request carries none).
const IO2_IOPS: i32 = 3000;
/// How long Performance Insights keeps data (the free tier).
const PERFORMANCE_INSIGHTS_DAYS: i32 = 7;

// ---------------------------------------------------------------------------------
// States and records
// ---------------------------------------------------------------------------------

fn rfc3339(t: &DateTime) -> Option<String> {
    t.fmt(DateTimeFormat::DateTime).ok()
}

/// The primary as the backend reports it.
pub(crate) fn instance_state(db: &DbInstance) -> InstanceState {
    InstanceState {
        id: db.db_instance_identifier().unwrap_or_default().to_owned(),
        endpoint: db
            .endpoint()
            .and_then(|e| e.address())
            .unwrap_or_default()
            .to_owned(),
        port: db
            .endpoint()
            .and_then(|e| e.port())
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_default(),
        engine_version: db.engine_version().unwrap_or_default().to_owned(),
        instance_class: db.db_instance_class().unwrap_or_default().to_owned(),
        size_gb: db
            .allocated_storage()
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or_default(),
        multi_az: db.multi_az().unwrap_or_default(),
        zone: db.availability_zone().unwrap_or_default().to_owned(),
        status: db.db_instance_status().unwrap_or_default().to_owned(),
        master_secret_arn: secret_arn(db).unwrap_or_default().to_owned(),
        latest_restorable_time: db.latest_restorable_time().and_then(rfc3339),
        max_size_gb: db
            .max_allocated_storage()
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or_default(),
        storage_type: db.storage_type().unwrap_or_default().to_owned(),
        backup_retention_days: db
            .backup_retention_period()
            .and_then(|d| u32::try_from(d).ok())
            .unwrap_or_default(),
        backup_window: db.preferred_backup_window().unwrap_or_default().to_owned(),
        maintenance_window: db
            .preferred_maintenance_window()
            .unwrap_or_default()
            .to_owned(),
        deletion_protection: db.deletion_protection().unwrap_or_default(),
        iam_authentication: db.iam_database_authentication_enabled().unwrap_or_default(),
    }
}

/// A replica as the backend reports it.
pub(crate) fn replica_state(index: u32, db: &DbInstance) -> ReplicaState {
    ReplicaState {
        index,
        id: db.db_instance_identifier().unwrap_or_default().to_owned(),
        endpoint: db
            .endpoint()
            .and_then(|e| e.address())
            .unwrap_or_default()
            .to_owned(),
        zone: db.availability_zone().unwrap_or_default().to_owned(),
        status: db.db_instance_status().unwrap_or_default().to_owned(),
    }
}

fn secret_arn(db: &DbInstance) -> Option<&str> {
    db.master_user_secret().and_then(|s| s.secret_arn())
}

/// The primary's rows: the instance and its master secret (when RDS made it).
pub(crate) fn instance_records(db: &DbInstance) -> Vec<ComponentRecord> {
    let id = db.db_instance_identifier().unwrap_or_default();
    let mut out = vec![record(
        INSTANCE_KEY,
        kind::DB_INSTANCE,
        db.availability_zone(),
        id,
    )];
    if let Some(arn) = secret_arn(db) {
        out.push(record(SECRET_KEY, kind::SECRET, None, arn));
    }
    out
}

/// A replica's row.
pub(crate) fn replica_record(index: u32, db: &DbInstance) -> ComponentRecord {
    record(
        &replica_key(index),
        kind::DB_REPLICA,
        db.availability_zone(),
        db.db_instance_identifier().unwrap_or_default(),
    )
}

// ---------------------------------------------------------------------------------
// Describing and waiting
// ---------------------------------------------------------------------------------

/// The instance `id`, `None` when it does not exist.
pub(crate) async fn describe(
    rds: &aws_sdk_rds::Client,
    id: &str,
) -> Result<Option<DbInstance>, SdkFailure> {
    match rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
    {
        Ok(out) => Ok(out.db_instances().first().cloned()),
        Err(e) => {
            let failure = SdkFailure::from_sdk(e);
            if failure.is_not_found() {
                Ok(None)
            } else {
                Err(failure)
            }
        }
    }
}

/// What one poll of an instance returns.
type InstancePoll<'a> =
    std::pin::Pin<Box<dyn Future<Output = Result<Seen<DbInstance>, SdkFailure>> + Send + 'a>>;

/// One status poll of instance `id` (one `DescribeDBInstances`).
pub(crate) fn poll_instance<'a>(
    rds: &'a aws_sdk_rds::Client,
    id: &'a str,
) -> impl FnMut() -> InstancePoll<'a> {
    move || {
        Box::pin(async move {
            Ok(match describe(rds, id).await? {
                Some(db) => {
                    let status = db.db_instance_status().unwrap_or("unknown").to_owned();
                    // An instance that is `available` with changes still pending has
                    // not started applying them yet.
                    let pending = db.pending_modified_values().is_some_and(|p| {
                        p.db_instance_class().is_some()
                            || p.allocated_storage().is_some()
                            || p.multi_az().is_some()
                            || p.engine_version().is_some()
                    });
                    let status = if status == "available" && pending {
                        "available, changes pending".to_owned()
                    } else {
                        status
                    };
                    Seen::Status(status, db)
                }
                None => Seen::Gone,
            })
        })
    }
}

/// Waits until instance `id` is available and returns it.
pub(crate) async fn wait_available(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    id: &str,
    during: &str,
) -> Result<DbInstance, BackendError> {
    let waiter = instance_waiter(ctx, format!("RDS instance {id}"));
    until_available(&waiter, during, poll_instance(rds, id)).await
}

/// The instance `id` if it exists and belongs to the stack; a conflict when it exists
/// without the stack's tags.
async fn find_owned(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    id: &str,
) -> Result<Option<DbInstance>, BackendError> {
    let found = describe(rds, id)
        .await
        .map_err(|f| backend_error(format!("reading RDS instance {id}"), f))?;
    match found {
        Some(db) if !rds_owned(db.tag_list(), &ctx.stack) => Err(BackendError::Conflict {
            what: format!("RDS instance {id}"),
            stack: ctx.stack.clone(),
            hint: "choose another name for the database, or delete or rename that instance"
                .to_owned(),
        }),
        other => Ok(other),
    }
}

// ---------------------------------------------------------------------------------
// The primary
// ---------------------------------------------------------------------------------

/// Log types exported to CloudWatch Logs.
fn log_exports(engine: Engine) -> Vec<String> {
    let types: &[&str] = match engine {
        Engine::Mysql => &["error", "slowquery"],
        Engine::Postgres | Engine::AuroraPostgresql => &["postgresql", "upgrade"],
    };
    types.iter().map(|t| (*t).to_owned()).collect()
}

/// Performance Insights is not offered on the smallest burstable classes.
fn performance_insights_allowed(class: &str) -> bool {
    !(class.starts_with("db.t") && (class.ends_with(".micro") || class.ends_with(".small")))
}

fn gb(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn days(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Ensures the primary and waits until it is available.
pub(crate) async fn ensure_instance(
    rds: &aws_sdk_rds::Client,
    clients: &AwsClients,
    ctx: &StackContext,
    req: &InstanceRequest,
) -> Step<InstanceState> {
    if req.engine == Engine::AuroraPostgresql {
        return Step::failed(aurora_unsupported("creating the database"), Vec::new());
    }
    let mut components = Vec::new();
    let result = ensure_instance_inner(rds, clients, ctx, req, &mut components).await;
    Step { components, result }
}

async fn ensure_instance_inner(
    rds: &aws_sdk_rds::Client,
    clients: &AwsClients,
    ctx: &StackContext,
    req: &InstanceRequest,
    components: &mut Vec<ComponentRecord>,
) -> Result<InstanceState, BackendError> {
    checkpoint(ctx, "creating the database")?;
    let id = req.name.as_str();
    if let Some(db) = find_owned(rds, ctx, id).await? {
        *components = instance_records(&db);
    } else {
        checkpoint(ctx, "creating the database")?;
        let out = create_instance(rds, ctx, req)
            .await
            .map_err(fail(format!("creating RDS instance {id}")))?;
        let db = out
            .db_instance()
            .ok_or_else(|| incomplete("creating the database", "the instance"))?;
        *components = instance_records(db);
    }
    let db = wait_available(rds, ctx, id, "waiting for the database to become available").await?;
    *components = instance_records(&db);
    if let Some(region) = &req.backup_copy_region {
        if db.db_instance_automated_backups_replications().is_empty() {
            start_backup_copy(clients, &db, region, req.backup_retention_days).await;
        }
    }
    Ok(instance_state(&db))
}

async fn create_instance(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    req: &InstanceRequest,
) -> Result<
    aws_sdk_rds::operation::create_db_instance::CreateDbInstanceOutput,
    aws_sdk_rds::error::SdkError<aws_sdk_rds::operation::create_db_instance::CreateDBInstanceError>,
> {
    let insights = performance_insights_allowed(&req.instance_class);
    let mut create = rds
        .create_db_instance()
        .db_instance_identifier(&req.name)
        .engine(req.engine.as_str())
        .engine_version(&req.engine_version)
        .db_instance_class(&req.instance_class)
        .allocated_storage(gb(req.size_gb))
        .max_allocated_storage(gb(req.max_size_gb))
        .storage_type(req.storage_type.as_str())
        .multi_az(req.multi_az)
        .backup_retention_period(days(req.backup_retention_days))
        .preferred_backup_window(&req.backup_window)
        .preferred_maintenance_window(&req.maintenance_window)
        .db_subnet_group_name(&req.subnet_group_id)
        .vpc_security_group_ids(&req.security_group_id)
        .db_parameter_group_name(&req.parameter_group_id)
        .storage_encrypted(true)
        .kms_key_id(&req.encryption_key)
        .deletion_protection(req.deletion_protection)
        .enable_iam_database_authentication(req.iam_authentication)
        .copy_tags_to_snapshot(true)
        .publicly_accessible(false)
        .auto_minor_version_upgrade(true)
        .manage_master_user_password(true)
        .master_username(MASTER_USERNAME)
        .enable_performance_insights(insights)
        .set_enable_cloudwatch_logs_exports(Some(log_exports(req.engine)))
        .set_tags(Some(rds_tags(ctx, INSTANCE_KEY)));
    if insights {
        create = create
            .performance_insights_kms_key_id(&req.encryption_key)
            .performance_insights_retention_period(PERFORMANCE_INSIGHTS_DAYS);
    }
    if req.storage_type == StorageType::Io2 {
        create = create.iops(IO2_IOPS);
    }
    create.send().await
}

/// Asks RDS to copy automated backups to `region`. A failure (moto does not
/// implement the call; a region without the engine) is logged as a warning and does
/// not fail the apply: the database itself is fine.
async fn start_backup_copy(clients: &AwsClients, db: &DbInstance, region: &str, retention: u32) {
    let Some(arn) = db.db_instance_arn() else {
        return;
    };
    let outcome = match clients.rds(Some(region)).await {
        Ok(remote) => remote
            .start_db_instance_automated_backups_replication()
            .source_db_instance_arn(arn)
            .backup_retention_period(days(retention))
            .customize()
            // Best effort: one retry, not the provider's eight.
            .config_override(
                aws_sdk_rds::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2)),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| SdkFailure::from_sdk(e).to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(message) = outcome {
        tracing::warn!(
            instance = %arn,
            region,
            error = %message,
            "could not start copying automated backups to the second region; the database \
             is fine, the copy is not set up (run apply again to retry)"
        );
    }
}

// ---------------------------------------------------------------------------------
// Replicas
// ---------------------------------------------------------------------------------

/// The first zone of the subnet group not to avoid, if any.
pub(crate) fn replica_zone(subnet_zones: &[String], avoid: &[String]) -> Option<String> {
    let mut zones: Vec<&String> = subnet_zones.iter().collect();
    zones.sort();
    zones.dedup();
    zones.into_iter().find(|z| !avoid.contains(z)).cloned()
}

/// Ensures read replica `req.index` and waits until it is available.
pub(crate) async fn ensure_replica(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    req: &ReplicaRequest,
) -> Step<ReplicaState> {
    let mut components = Vec::new();
    let result = ensure_replica_inner(rds, ctx, req, &mut components).await;
    Step { components, result }
}

async fn ensure_replica_inner(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    req: &ReplicaRequest,
    components: &mut Vec<ComponentRecord>,
) -> Result<ReplicaState, BackendError> {
    let during = format!("creating read replica {}", req.index);
    checkpoint(ctx, &during)?;
    let id = replica_name(&ctx.stack, req.index);
    if let Some(db) = find_owned(rds, ctx, &id).await? {
        *components = vec![replica_record(req.index, &db)];
    } else {
        let source = describe(rds, &req.source_id)
            .await
            .map_err(|f| backend_error(format!("reading RDS instance {}", req.source_id), f))?
            .ok_or_else(|| BackendError::NotFound {
                what: format!("the primary RDS instance {}", req.source_id),
            })?;
        let zones: Vec<String> = source
            .db_subnet_group()
            .map(|g| {
                g.subnets()
                    .iter()
                    .filter_map(|s| s.subnet_availability_zone().and_then(|z| z.name()))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let security_groups: Vec<String> = source
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_owned))
            .collect();
        let parameter_group = source
            .db_parameter_groups()
            .first()
            .and_then(|g| g.db_parameter_group_name());
        checkpoint(ctx, &during)?;
        let out = rds
            .create_db_instance_read_replica()
            .db_instance_identifier(&id)
            .source_db_instance_identifier(&req.source_id)
            .db_instance_class(&req.instance_class)
            .set_availability_zone(replica_zone(&zones, &req.avoid_zones))
            .set_vpc_security_group_ids(Some(security_groups))
            .set_db_parameter_group_name(parameter_group.map(str::to_owned))
            .publicly_accessible(false)
            .copy_tags_to_snapshot(true)
            // A replica is paved's own copy: teardown must be able to remove it.
            .deletion_protection(false)
            .set_tags(Some(rds_tags(ctx, &replica_key(req.index))))
            .send()
            .await
            .map_err(fail(during.clone()))?;
        let db = out
            .db_instance()
            .ok_or_else(|| incomplete(&during, "the replica"))?;
        *components = vec![replica_record(req.index, db)];
    }
    let db = wait_available(
        rds,
        ctx,
        &id,
        "waiting for the read replica to become available",
    )
    .await?;
    *components = vec![replica_record(req.index, &db)];
    Ok(replica_state(req.index, &db))
}

// ---------------------------------------------------------------------------------
// In-place changes
// ---------------------------------------------------------------------------------

/// Applies `req` to instance `id` immediately and waits until it is available.
pub(crate) async fn modify_instance(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    id: &str,
    req: &ModifyRequest,
) -> Step<InstanceState> {
    let mut components = Vec::new();
    let result = modify_inner(rds, ctx, id, req, &mut components).await;
    Step { components, result }
}

fn nothing_to_change(req: &ModifyRequest) -> bool {
    *req == ModifyRequest {
        allow_major_version_upgrade: req.allow_major_version_upgrade,
        ..ModifyRequest::default()
    }
}

async fn modify_inner(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    id: &str,
    req: &ModifyRequest,
    components: &mut Vec<ComponentRecord>,
) -> Result<InstanceState, BackendError> {
    let during = format!("changing RDS instance {id}");
    checkpoint(ctx, &during)?;
    if !nothing_to_change(req) {
        rds.modify_db_instance()
            .db_instance_identifier(id)
            .apply_immediately(true)
            .set_db_instance_class(req.instance_class.clone())
            .set_allocated_storage(req.size_gb.map(gb))
            .set_max_allocated_storage(req.max_size_gb.map(gb))
            .set_backup_retention_period(req.backup_retention_days.map(days))
            .set_preferred_backup_window(req.backup_window.clone())
            .set_preferred_maintenance_window(req.maintenance_window.clone())
            .set_multi_az(req.multi_az)
            .set_engine_version(req.engine_version.clone())
            .set_allow_major_version_upgrade(
                (req.engine_version.is_some() && req.allow_major_version_upgrade).then_some(true),
            )
            .set_db_parameter_group_name(req.parameter_group_id.clone())
            .set_deletion_protection(req.deletion_protection)
            .set_enable_iam_database_authentication(req.iam_authentication)
            .send()
            .await
            .map_err(fail(during.clone()))?;
    }
    let db = wait_available(rds, ctx, id, "waiting for the change to be applied").await?;
    *components = instance_records(&db);
    Ok(instance_state(&db))
}

// ---------------------------------------------------------------------------------
// Restores
// ---------------------------------------------------------------------------------

/// Applies what a restored instance shares with a new one (class, storage, groups,
/// protection, logs, tags) to either restore call: their builders are distinct
/// types with the same setters.
macro_rules! restored_settings {
    ($call:expr, $i:expr, $ctx:expr) => {
        $call
            .db_instance_class(&$i.instance_class)
            .storage_type($i.storage_type.as_str())
            .set_iops(($i.storage_type == StorageType::Io2).then_some(IO2_IOPS))
            .multi_az($i.multi_az)
            .db_subnet_group_name(&$i.subnet_group_id)
            .vpc_security_group_ids(&$i.security_group_id)
            .db_parameter_group_name(&$i.parameter_group_id)
            .deletion_protection($i.deletion_protection)
            .enable_iam_database_authentication($i.iam_authentication)
            .copy_tags_to_snapshot(true)
            .publicly_accessible(false)
            .set_enable_cloudwatch_logs_exports(Some(log_exports($i.engine)))
            .set_tags(Some(rds_tags($ctx, INSTANCE_KEY)))
    };
}

/// Creates the primary from a snapshot (or adopts the one an interrupted apply
/// restored) and waits until it is available.
pub(crate) async fn restore_from_snapshot(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    req: &SnapshotRestoreRequest,
) -> Step<InstanceState> {
    let i = &req.instance;
    let start = || async {
        let call = rds
            .restore_db_instance_from_db_snapshot()
            .db_instance_identifier(&i.name)
            .db_snapshot_identifier(&req.snapshot_id);
        restored_settings!(call, i, ctx)
            .send()
            .await
            .map(|_| ())
            .map_err(fail(format!(
                "restoring {} from snapshot {}",
                i.name, req.snapshot_id
            )))
    };
    restore(rds, ctx, i, start).await
}

/// Creates the primary as a point-in-time copy of another instance (or adopts the
/// one an interrupted apply restored) and waits until it is available.
pub(crate) async fn restore_to_point_in_time(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    req: &PointInTimeRequest,
) -> Step<InstanceState> {
    let i = &req.instance;
    let time = match &req.restore_time {
        Some(t) => match DateTime::from_str(t, DateTimeFormat::DateTime) {
            Ok(t) => Some(t),
            Err(e) => {
                return Step::failed(
                    BackendError::Permanent {
                        operation: "restoring to a point in time".to_owned(),
                        message: format!("restore_time {t:?} is not an RFC 3339 time: {e}"),
                        hint: "Write it like 2026-11-22T01:30:00Z".to_owned(),
                    },
                    Vec::new(),
                )
            }
        },
        None => None,
    };
    let start = || async {
        let call = rds
            .restore_db_instance_to_point_in_time()
            .source_db_instance_identifier(&req.source_db_instance_id)
            .target_db_instance_identifier(&i.name)
            .set_restore_time(time)
            .set_use_latest_restorable_time(time.is_none().then_some(true));
        restored_settings!(call, i, ctx)
            .send()
            .await
            .map(|_| ())
            .map_err(fail(format!(
                "restoring {} from {} to a point in time",
                i.name, req.source_db_instance_id
            )))
    };
    restore(rds, ctx, i, start).await
}

/// The restore steps both kinds share: adopt or start, wait, then settle what a
/// restore does not set (managed master secret, backups, windows, autoscaling).
async fn restore<F, Fut>(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    req: &InstanceRequest,
    start: F,
) -> Step<InstanceState>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), BackendError>>,
{
    if req.engine == Engine::AuroraPostgresql {
        return Step::failed(aurora_unsupported("restoring the database"), Vec::new());
    }
    let mut components = Vec::new();
    let result = restore_inner(rds, ctx, req, start, &mut components).await;
    Step { components, result }
}

async fn restore_inner<F, Fut>(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    req: &InstanceRequest,
    start: F,
    components: &mut Vec<ComponentRecord>,
) -> Result<InstanceState, BackendError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), BackendError>>,
{
    checkpoint(ctx, "restoring the database")?;
    let id = req.name.as_str();
    match find_owned(rds, ctx, id).await? {
        Some(db) => *components = instance_records(&db),
        None => {
            start().await?;
            components.push(record(INSTANCE_KEY, kind::DB_INSTANCE, None, id));
        }
    }
    let db = wait_available(rds, ctx, id, "waiting for the restored database").await?;
    *components = instance_records(&db);
    let mut modify = rds
        .modify_db_instance()
        .db_instance_identifier(id)
        .apply_immediately(true);
    let mut changed = false;
    if secret_arn(&db).is_none() {
        modify = modify.manage_master_user_password(true);
        changed = true;
    }
    if db.backup_retention_period() != Some(days(req.backup_retention_days))
        || db.preferred_backup_window() != Some(req.backup_window.as_str())
        || db.preferred_maintenance_window() != Some(req.maintenance_window.as_str())
    {
        modify = modify
            .backup_retention_period(days(req.backup_retention_days))
            .preferred_backup_window(&req.backup_window)
            .preferred_maintenance_window(&req.maintenance_window);
        changed = true;
    }
    if db.max_allocated_storage() != Some(gb(req.max_size_gb)) {
        modify = modify.max_allocated_storage(gb(req.max_size_gb));
        changed = true;
    }
    if !changed {
        return Ok(instance_state(&db));
    }
    checkpoint(ctx, "settling the restored database")?;
    modify.send().await.map_err(fail(
        "turning on the managed master secret and backups of the restored database",
    ))?;
    let db = wait_available(rds, ctx, id, "waiting for the restored database").await?;
    *components = instance_records(&db);
    Ok(instance_state(&db))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_go_to_a_zone_not_avoided() {
        let zones: Vec<String> = ["us-east-1b", "us-east-1a", "us-east-1c", "us-east-1a"]
            .iter()
            .map(|z| (*z).to_owned())
            .collect();
        assert_eq!(
            replica_zone(&zones, &["us-east-1a".to_owned()]),
            Some("us-east-1b".to_owned())
        );
        assert_eq!(
            replica_zone(&zones, &zones),
            None,
            "no zone left: RDS picks one"
        );
    }

    #[test]
    fn insights_skip_the_smallest_classes() {
        assert!(performance_insights_allowed("db.m6g.large"));
        assert!(performance_insights_allowed("db.t4g.medium"));
        assert!(!performance_insights_allowed("db.t4g.micro"));
        assert!(!performance_insights_allowed("db.t3.small"));
    }

    #[test]
    fn an_empty_change_makes_no_call() {
        assert!(nothing_to_change(&ModifyRequest::default()));
        assert!(nothing_to_change(&ModifyRequest {
            allow_major_version_upgrade: true,
            ..ModifyRequest::default()
        }));
        assert!(!nothing_to_change(&ModifyRequest {
            size_gb: Some(50),
            ..ModifyRequest::default()
        }));
    }
}
