//! `paved_managed_database` on GCP: a Cloud SQL instance (PostgreSQL or MySQL)
//! with a private IP only, reached over private services access, encrypted with a
//! Cloud KMS key, its password in Secret Manager, and its read replicas. Each part
//! lives in its own module:
//!
//! - [`access`]: the port's subnet group: the network, a reserved range and the
//!   Service Networking connection;
//! - [`key`]: the storage key and Cloud SQL's service agent's right to use it;
//! - [`secret`]: the generated password, in Secret Manager only;
//! - [`instance`]: the instance, replicas, in-place changes, restore and clone;
//! - [`read`]: the batched refresh (at most four calls);
//! - [`teardown`]: ordered deletion, with the Service Networking dead end reported;
//! - [`admin`]: the Cloud SQL Admin calls (typed client, google-cloud-sql-v1) and
//!   the JSON views of their instances;
//! - [`rest`]: the calls with no typed client (Service Networking, Service Usage,
//!   Compute's global addresses) and their operation waits; [`names`]: the
//!   objects' names.
//!
//! The port's other two groups have no object of their own on GCP: the security
//! group's job (who reaches the database) is done by the private IP on the stack's
//! network with TLS required (`sslMode: ENCRYPTED_ONLY`): Cloud SQL has no
//! per-source rule for private IPs, so `allowed_cidrs` and
//! `allowed_security_group_ids` are not enforced (a warning says so); the
//! parameter group's parameters become the instance's database flags. Neither
//! appears in the inventory.
//!
//! Cloud SQL runs one operation per instance at a time (409
//! `operationInProgress`), so the instance calls of one backend go through
//! [`GcpDatabaseBackend::ops`], one after the other; an operation started by
//! someone else is retried after a pause.

mod access;
mod admin;
pub(crate) mod instance;
mod key;
mod names;
mod read;
mod rest;
mod secret;
mod teardown;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{json, Value};

pub use instance::{database_version, flags, tier};

use super::clients::GcpClients;
use super::labels::labels;
use super::wait::text;
use crate::ports::database::{
    replica_key, DatabaseBackend, DatabaseShape, DatabaseSnapshot, DeleteRequest, Engine,
    InstanceRequest, InstanceState, ModifyRequest, ParameterGroupRequest, ParameterGroupState,
    PointInTimeRequest, ReplicaRequest, ReplicaState, SecurityGroupRequest, SecurityGroupState,
    SnapshotRestoreRequest, SubnetGroupRequest, SubnetGroupState,
};
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::stack::cost::Quote;
use crate::stack::inventory::Component;
use crate::stack::{BackendError, ComponentRecord, Knowable, StackContext, Step, TeardownReport};

/// The inventory kinds of a Cloud SQL stack.
pub mod kind {
    pub use crate::ports::database::kind::{DB_INSTANCE, DB_REPLICA, KMS_KEY, SECRET};
    /// The range reserved for private services access (a global address).
    pub const PEERING_RANGE: &str = "peering_range";
    /// The Service Networking connection of the network.
    pub const SERVICE_CONNECTION: &str = "service_connection";
}

/// The Cloud SQL backend of `paved_managed_database`.
pub struct GcpDatabaseBackend {
    clients: Arc<GcpClients>,
    /// One instance operation at a time.
    ops: tokio::sync::Mutex<()>,
    /// The database flags of each parameter group id ensured by this backend.
    flags: Mutex<BTreeMap<String, Vec<(String, String)>>>,
}

/// The id standing for the flags of `family` (no cloud object has it).
fn flags_id(family: &str) -> String {
    format!("cloudsql-flags-{}", family.replace('.', "-"))
}

/// A row of the inventory.
fn record(key: &str, kind: &str, id: &str) -> ComponentRecord {
    ComponentRecord {
        key: key.to_owned(),
        kind: kind.to_owned(),
        zone: None,
        id: id.to_owned(),
    }
}

impl GcpDatabaseBackend {
    /// A backend over `clients`.
    pub fn new(clients: Arc<GcpClients>) -> Self {
        Self {
            clients,
            ops: tokio::sync::Mutex::new(()),
            flags: Mutex::new(BTreeMap::new()),
        }
    }

    /// The region stacks are built in.
    fn region(&self) -> Result<String, BackendError> {
        self.clients.stack_region()
    }

    /// The flags ensured for parameter group `id` (none when not ensured here).
    fn flags_for(&self, id: &str) -> Vec<(String, String)> {
        self.flags
            .lock()
            .map(|m| m.get(id).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Whether this backend ensured parameter group `id` (and knows its flags).
    fn flags_known(&self, id: &str) -> bool {
        self.flags.lock().is_ok_and(|m| m.contains_key(id))
    }

    /// Sets the stack's labels on its instances (the components that carry
    /// labels paved reads back).
    async fn relabel(&self, ctx: &StackContext, removed: &[String]) -> Result<(), BackendError> {
        let _one = self.ops.lock().await;
        let listed = self.stack_instances(ctx).await?;
        let (primary, replicas) = read::split_instances(&ctx.stack, &listed);
        let all = primary
            .map(|p| (instance::INSTANCE_KEY.to_owned(), p))
            .into_iter()
            .chain(replicas.into_iter().map(|(i, r)| (replica_key(i), r)));
        for (key, inst) in all {
            let mut next: serde_json::Map<String, Value> = labels(&ctx.component_tags(&key))
                .into_iter()
                .map(|(k, v)| (k, Value::from(v)))
                .collect();
            if let Some(class) = text(
                &inst,
                &format!("/settings/userLabels/{}", instance::CLASS_LABEL),
            ) {
                next.insert(instance::CLASS_LABEL.to_owned(), Value::from(class));
            }
            for k in removed {
                let k = super::labels::label_key(k);
                next.entry(k).or_insert(Value::Null);
            }
            let patch = json!({"settings": {"userLabels": next}});
            self.mutate(
                ctx,
                admin::change(&inst, patch)?,
                "changing the instance's labels",
            )
            .await?;
        }
        Ok(())
    }
}

/// The components of a Cloud SQL stack of `shape`, in creation order.
pub fn components(shape: &DatabaseShape) -> Knowable<Vec<Component>> {
    let Some((_, creates_key, replicas)) = shape.decided() else {
        return Knowable::Unknown;
    };
    let fixed = || Knowable::Known(String::new());
    let identity = shape.identity();
    let zonal = |key: String, kind: &'static str| Component {
        key,
        kind,
        zone: Knowable::Unknown,
        identity: identity.clone(),
    };
    let mut out = Vec::new();
    if creates_key {
        out.push(Component::regional(key::KEY_KEY, kind::KMS_KEY, fixed()));
    }
    out.push(Component::regional(
        access::RANGE_KEY,
        kind::PEERING_RANGE,
        shape.network.clone(),
    ));
    out.push(Component::regional(
        access::CONNECTION_KEY,
        kind::SERVICE_CONNECTION,
        shape.network.clone(),
    ));
    out.push(Component::regional(
        secret::SECRET_KEY,
        kind::SECRET,
        identity.clone(),
    ));
    out.push(zonal(instance::INSTANCE_KEY.to_owned(), kind::DB_INSTANCE));
    for i in 0..replicas {
        out.push(zonal(replica_key(i), kind::DB_REPLICA));
    }
    Knowable::Known(out)
}

#[async_trait]
impl DatabaseBackend for GcpDatabaseBackend {
    fn components(&self, shape: &DatabaseShape) -> Knowable<Vec<Component>> {
        components(shape)
    }

    fn cost(&self, shape: &DatabaseShape) -> Knowable<Quote> {
        super::cost::database(self.clients.region(), shape)
    }

    async fn ensure_encryption_key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState> {
        self.key(ctx, req).await
    }

    async fn ensure_subnet_group(
        &self,
        ctx: &StackContext,
        req: &SubnetGroupRequest,
    ) -> Step<SubnetGroupState> {
        self.private_access(ctx, req).await
    }

    async fn ensure_security_group(
        &self,
        _ctx: &StackContext,
        req: &SecurityGroupRequest,
    ) -> Step<SecurityGroupState> {
        if !req.allowed_cidrs.is_empty() || !req.allowed_security_group_ids.is_empty() {
            tracing::warn!(
                network = %req.vpc_id,
                "Cloud SQL private IP has no per-source rules: network.allowed_cidrs and \
                 network.allowed_security_group_ids are not enforced on GCP; the database is reachable from \
                 the network and its peers, with TLS required"
            );
        }
        Step::done(
            SecurityGroupState {
                id: format!("private-ip:{}", req.vpc_id),
                allowed_security_group_ids: Vec::new(),
                allowed_cidrs: Vec::new(),
            },
            Vec::new(),
        )
    }

    async fn ensure_parameter_group(
        &self,
        _ctx: &StackContext,
        req: &ParameterGroupRequest,
    ) -> Step<ParameterGroupState> {
        if req.engine == Engine::AuroraPostgresql {
            return Step::failed(
                BackendError::Permanent {
                    operation: "choosing the engine".to_owned(),
                    message: "engine aurora-postgresql does not exist on GCP".to_owned(),
                    hint: "Use engine = \"postgres\" (Cloud SQL for PostgreSQL)".to_owned(),
                },
                Vec::new(),
            );
        }
        let id = flags_id(&req.family);
        if let Ok(mut m) = self.flags.lock() {
            m.insert(id.clone(), flags(&req.parameters));
        }
        Step::done(
            ParameterGroupState {
                id,
                family: req.family.clone(),
            },
            Vec::new(),
        )
    }

    async fn ensure_instance(
        &self,
        ctx: &StackContext,
        req: &InstanceRequest,
    ) -> Step<InstanceState> {
        self.ensure_primary(ctx, req).await
    }

    async fn ensure_replica(&self, ctx: &StackContext, req: &ReplicaRequest) -> Step<ReplicaState> {
        self.ensure_read_replica(ctx, req).await
    }

    async fn delete_replica(&self, ctx: &StackContext, index: u32) -> Step<()> {
        self.remove_replica(ctx, index).await
    }

    async fn modify_instance(
        &self,
        ctx: &StackContext,
        instance_id: &str,
        req: &ModifyRequest,
    ) -> Step<InstanceState> {
        self.modify(ctx, instance_id, req).await
    }

    async fn read_stack(&self, ctx: &StackContext) -> Step<DatabaseSnapshot> {
        match self.read(ctx).await {
            Ok(snap) => {
                let rows = snap.components.clone();
                Step::done(snap, rows)
            }
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn retag(
        &self,
        ctx: &StackContext,
        _components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()> {
        match self.relabel(ctx, removed).await {
            Ok(()) => Step::done((), Vec::new()),
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn delete_stack(&self, ctx: &StackContext, req: &DeleteRequest) -> Step<TeardownReport> {
        self.teardown(ctx, req).await
    }

    async fn restore_from_snapshot(
        &self,
        ctx: &StackContext,
        req: &SnapshotRestoreRequest,
    ) -> Step<InstanceState> {
        self.restore_backup(ctx, req).await
    }

    async fn restore_to_point_in_time(
        &self,
        ctx: &StackContext,
        req: &PointInTimeRequest,
    ) -> Step<InstanceState> {
        self.clone_instance(ctx, req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(replicas: u32, creates_key: bool) -> DatabaseShape {
        DatabaseShape {
            creates_key: Knowable::Known(creates_key),
            read_replicas: Knowable::Known(replicas),
            network: Knowable::Known("paved-shop".into()),
            ..DatabaseShape::production()
        }
    }

    #[test]
    fn a_production_stack_lists_cloud_sql_components() {
        let Knowable::Known(list) = components(&shape(1, true)) else {
            panic!("known")
        };
        let keys: Vec<&str> = list.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "kms_key",
                "peering_range",
                "service_connection",
                "master_secret",
                "instance",
                "replica.0"
            ]
        );
        let Knowable::Known(list) = components(&shape(0, false)) else {
            panic!("known")
        };
        assert!(!list
            .iter()
            .any(|c| c.key == "kms_key" || c.key.starts_with("replica")));
        let mut unknown = shape(0, true);
        unknown.read_replicas = Knowable::Unknown;
        assert_eq!(components(&unknown), Knowable::Unknown);
        assert_eq!(flags_id("mysql8.0"), "cloudsql-flags-mysql8-0");
    }
}
