//! Driving a [`DatabaseBackend`] through a create or an update: the key and the
//! three groups side by side; then the primary (created empty, restored, or changed
//! in place with apply-immediately semantics); then the replicas, each in a zone
//! the others do not use, and surplus replicas removed. What exists is recorded in
//! [`Observed`] whatever the outcome.

use crate::stack::{BackendError, StackContext, Step};

use crate::ports::database::{
    DatabaseBackend, InstanceRequest, ModifyRequest, ParameterGroupRequest, PointInTimeRequest,
    ReplicaRequest, SecurityGroupRequest, SnapshotRestoreRequest, SubnetGroupRequest,
};

use super::config::{DatabaseSpec, EncryptionKey};
use super::state::Observed;
use crate::ports::key::EncryptionKeyRequest;
use crate::stack::resource::known;
use crate::stack::Knowable;

fn record<T>(observed: &mut Observed, step: Step<T>) -> Result<T, BackendError> {
    observed.absorb(step.components);
    step.result
}

/// The parameter group family of the spec's engine and version (`postgres16`).
pub fn family(spec: &DatabaseSpec) -> Result<String, BackendError> {
    let engine = known(&spec.engine, "engine")?;
    let version = known(&spec.engine_version, "engine_version")?;
    let major = engine
        .major_of(&version)
        .ok_or_else(|| BackendError::Permanent {
            operation: "reading the configuration".to_owned(),
            message: format!("engine_version \"{version}\" has no major version paved knows"),
            hint: "Use a version listed in the documentation".to_owned(),
        })?;
    Ok(format!("{}{major}", engine.info().family_prefix))
}

/// The in-place changes from `prior` to `spec`; `parameter_group_id` is the group
/// the spec's family uses.
pub fn modifications(
    prior: &DatabaseSpec,
    spec: &DatabaseSpec,
    parameter_group_id: &str,
    prior_family: Option<String>,
    family: &str,
) -> ModifyRequest {
    fn changed<T: Clone + PartialEq>(before: &Knowable<T>, after: &Knowable<T>) -> Option<T> {
        match (before, after) {
            (Knowable::Known(b), Knowable::Known(a)) if a == b => None,
            (_, Knowable::Known(a)) => Some(a.clone()),
            _ => None,
        }
    }
    ModifyRequest {
        instance_class: changed(&prior.instance_class, &spec.instance_class),
        size_gb: changed(&prior.storage.size_gb, &spec.storage.size_gb),
        max_size_gb: changed(&prior.storage.max_size_gb, &spec.storage.max_size_gb),
        backup_retention_days: changed(&prior.backup.retention_days, &spec.backup.retention_days),
        backup_window: changed(&prior.backup.window, &spec.backup.window),
        maintenance_window: changed(&prior.maintenance_window, &spec.maintenance_window),
        multi_az: changed(&prior.multi_az, &spec.multi_az),
        engine_version: changed(&prior.engine_version, &spec.engine_version),
        allow_major_version_upgrade: spec.allow_major_version_upgrade.known() == Some(&true),
        parameter_group_id: (prior_family.as_deref() != Some(family))
            .then(|| parameter_group_id.to_owned()),
        deletion_protection: changed(&prior.deletion_protection, &spec.deletion_protection),
        iam_authentication: changed(&prior.iam_authentication, &spec.iam_authentication),
    }
}

/// Creates or updates the stack to match `spec`; `prior` is the spec of the state
/// before an update.
pub async fn converge(
    backend: &dyn DatabaseBackend,
    ctx: &StackContext,
    spec: &DatabaseSpec,
    prior: Option<&DatabaseSpec>,
    observed: &mut Observed,
) -> Result<(), BackendError> {
    let engine = known(&spec.engine, "engine")?;
    let family = family(spec)?;
    let key_request = match known(&spec.encryption_key, "encryption_key_arn")? {
        EncryptionKey::Provided(arn) => EncryptionKeyRequest::Provided { id: arn },
        EncryptionKey::Created { .. } => EncryptionKeyRequest::Create,
    };
    let subnet_request = SubnetGroupRequest {
        subnet_ids: known(&spec.network.subnet_ids, "network.subnet_ids")?,
    };
    let sg_request = SecurityGroupRequest {
        vpc_id: known(&spec.network.vpc_id, "network.vpc_id")?,
        port: engine.info().port,
        allowed_security_group_ids: known(
            &spec.network.allowed_security_group_ids,
            "network.allowed_security_group_ids",
        )?,
        allowed_cidrs: known(&spec.network.allowed_cidrs, "network.allowed_cidrs")?,
    };
    let pg_request = ParameterGroupRequest {
        engine,
        family: family.clone(),
        parameters: known(&spec.parameters, "parameters")?,
    };
    let (key, subnets, sg, pg) = futures::join!(
        backend.ensure_encryption_key(ctx, &key_request),
        backend.ensure_subnet_group(ctx, &subnet_request),
        backend.ensure_security_group(ctx, &sg_request),
        backend.ensure_parameter_group(ctx, &pg_request),
    );
    let key = record(observed, key);
    let subnets = record(observed, subnets);
    let sg = record(observed, sg);
    let pg = record(observed, pg);
    let (key, subnets, sg, pg) = (key?, subnets?, sg?, pg?);
    observed.key = Some(key.clone());
    observed.subnet_group = Some(subnets.clone());
    observed.security_group = Some(sg.clone());
    observed.parameter_group = Some(pg.clone());
    // Multi-AZ and replicas need subnets in two zones; the zones are known only now.
    if let Some(problem) = super::validate::check_subnet_zones(spec, &subnets.zones)
        .0
        .into_iter()
        .next()
    {
        return Err(BackendError::Permanent {
            operation: "checking network.subnet_ids".to_owned(),
            message: problem.summary,
            hint: problem.detail,
        });
    }

    let name = known(&spec.name, "name")?;
    let instance_request = InstanceRequest {
        name: name.clone(),
        engine,
        engine_version: known(&spec.engine_version, "engine_version")?,
        instance_class: known(&spec.instance_class, "instance_class")?,
        size_gb: known(&spec.storage.size_gb, "storage.size_gb")?,
        max_size_gb: known(&spec.storage.max_size_gb, "storage.max_size_gb")?,
        storage_type: known(&spec.storage.storage_type, "storage.type")?,
        multi_az: known(&spec.multi_az, "multi_az")?,
        backup_retention_days: known(&spec.backup.retention_days, "backup.retention_days")?,
        backup_window: known(&spec.backup.window, "backup.window")?,
        backup_copy_region: known(&spec.backup.copy_to_region, "backup.copy_to_region")?,
        maintenance_window: known(&spec.maintenance_window, "maintenance_window")?,
        subnet_group_id: subnets.id.clone(),
        security_group_id: sg.id.clone(),
        parameter_group_id: pg.id.clone(),
        encryption_key: key.id.clone(),
        deletion_protection: known(&spec.deletion_protection, "deletion_protection")?,
        iam_authentication: known(&spec.iam_authentication, "iam_authentication")?,
    };
    let class = instance_request.instance_class.clone();
    let instance = match prior {
        Some(prior) => {
            let prior_family = family_of(prior);
            let change = modifications(prior, spec, &pg.id, prior_family, &family);
            if change == ModifyRequest::default() {
                record(
                    observed,
                    backend.ensure_instance(ctx, &instance_request).await,
                )?
            } else {
                let current = record(
                    observed,
                    backend.ensure_instance(ctx, &instance_request).await,
                )?;
                observed.instance = Some(current.clone());
                record(
                    observed,
                    backend.modify_instance(ctx, &current.id, &change).await,
                )?
            }
        }
        None => match known(&spec.restore, "restore")? {
            Some(restore) => {
                if let Some(snapshot_id) = known(&restore.snapshot_id, "restore.snapshot_id")? {
                    let req = SnapshotRestoreRequest {
                        snapshot_id,
                        instance: instance_request,
                    };
                    record(observed, backend.restore_from_snapshot(ctx, &req).await)?
                } else {
                    let source = known(
                        &restore.source_db_instance_id,
                        "restore.source_db_instance_id",
                    )?
                    .unwrap_or_default();
                    let req = PointInTimeRequest {
                        source_db_instance_id: source,
                        restore_time: known(&restore.restore_time, "restore.restore_time")?,
                        instance: instance_request,
                    };
                    record(observed, backend.restore_to_point_in_time(ctx, &req).await)?
                }
            }
            None => record(
                observed,
                backend.ensure_instance(ctx, &instance_request).await,
            )?,
        },
    };
    observed.instance = Some(instance.clone());

    let wanted = known(&spec.read_replicas, "read_replicas")?;
    let mut used_zones = vec![instance.zone.clone()];
    for index in 0..wanted {
        let req = ReplicaRequest {
            index,
            source_id: instance.id.clone(),
            instance_class: class.clone(),
            avoid_zones: used_zones.clone(),
        };
        let replica = record(observed, backend.ensure_replica(ctx, &req).await)?;
        used_zones.push(replica.zone.clone());
        observed.replicas.insert(index, replica);
    }
    let before = prior
        .and_then(|p| p.read_replicas.known().copied())
        .unwrap_or(0);
    for index in (wanted..before).rev() {
        record(observed, backend.delete_replica(ctx, index).await)?;
        observed.replicas.remove(&index);
        observed.components.remove(&format!("replica.{index}"));
    }
    Ok(())
}

fn family_of(spec: &DatabaseSpec) -> Option<String> {
    family(spec).ok()
}
