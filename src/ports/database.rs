//! The cloud behind a `paved_managed_database`: the trait the AWS (and later GCP)
//! backends implement, in the product's terms.
//!
//! The resource's lifecycle (still to come) drives a backend through these steps:
//! subnet group, security group, parameter group (TLS enforced), then the instance
//! (created empty, or restored from a snapshot or to a point in time), then each
//! read replica. Updates go through [`DatabaseBackend::modify_instance`] (applied
//! immediately). Refresh reads the whole stack in one batched pass, and destroy
//! removes replicas first, then the instance (with a final snapshot unless
//! disabled), then the groups.
//!
//! The contract is the stack core's (see [`crate::stack::step`]), and so are the
//! shared types: [`StackContext`], [`Step`], [`ComponentRecord`],
//! [`BackendError`], [`TeardownReport`]. Every call is idempotent and adopts
//! components tagged with the stack's tags; it returns what exists even on failure;
//! it stops promptly on cancel or deadline; retries on throttling happen inside.
//! The master password is created and rotated by the cloud's secret manager; no
//! call takes or returns it, only the secret's ARN.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

pub use super::key::{EncryptionKeyRequest, KeyState};
use crate::profiles::Profile;
use crate::stack::cost::Quote;
use crate::stack::inventory::Component;
#[cfg(doc)]
use crate::stack::{
    tags::{COMPONENT_TAG, STACK_TAG},
    BackendError,
};
use crate::stack::{ComponentRecord, Knowable, StackContext, Step, TeardownReport};

/// Component kinds of an RDS stack, as the AWS adapter's inventory names them;
/// other clouds' adapters reuse those that fit and name their own.
pub mod kind {
    /// The storage encryption key, when paved creates it.
    pub const KMS_KEY: &str = "kms_key";
    /// The subnet group over `network.subnet_ids`.
    pub const SUBNET_GROUP: &str = "db_subnet_group";
    /// The security group admitting the allowed groups and ranges.
    pub const SECURITY_GROUP: &str = "security_group";
    /// The parameter group paved owns (TLS enforced).
    pub const PARAMETER_GROUP: &str = "parameter_group";
    /// The Aurora cluster (Aurora only).
    pub const DB_CLUSTER: &str = "db_cluster";
    /// The primary instance (with its standby when Multi-AZ).
    pub const DB_INSTANCE: &str = "db_instance";
    /// A read replica.
    pub const DB_REPLICA: &str = "db_replica";
    /// The cloud-managed secret holding the master password (a reference: the
    /// cloud creates and rotates it).
    pub const SECRET: &str = "secret";
}

/// The most read replicas a database may have: RDS's limit for PostgreSQL and MySQL
/// (and Aurora's). Checked at plan time; the AWS refresh asks for the primary and
/// replicas 0 to 14 by name, so it never lists other databases.
pub const MAX_READ_REPLICAS: u32 = 15;

/// The inventory key of read replica `i`.
pub fn replica_key(i: u32) -> String {
    format!("replica.{i}")
}

/// A database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL on RDS (Cloud SQL for PostgreSQL on GCP).
    Postgres,
    /// MySQL on RDS (Cloud SQL for MySQL on GCP).
    Mysql,
    /// Aurora PostgreSQL (AWS only).
    AuroraPostgresql,
}

/// What paved knows of one engine: one row of [`ENGINES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineInfo {
    /// The engine.
    pub engine: Engine,
    /// Its name in HCL.
    pub name: &'static str,
    /// The version used when `engine_version` is not given.
    pub default_version: &'static str,
    /// Major versions paved accepts (`16` for PostgreSQL, `8.0` for MySQL).
    pub major_versions: &'static [&'static str],
    /// How many dot-separated numbers make the major version (1 for PostgreSQL:
    /// `16.2` is major `16`; 2 for MySQL: `8.0.35` is major `8.0`).
    pub major_parts: usize,
    /// The port the database listens on.
    pub port: u16,
    /// The smallest `storage.size_gb` (gp3); 0 when the engine manages storage itself
    /// (Aurora grows its cluster volume on its own).
    pub min_storage_gb: u32,
    /// The parameter that enforces TLS, which paved sets in the parameter group it
    /// owns and refuses to see turned off.
    pub tls_parameter: &'static str,
    /// The parameter group family prefix (`postgres16`, `mysql8.0`).
    pub family_prefix: &'static str,
}

/// The engine table: default versions, ports, storage minimums.
///
/// | engine | default version | majors | port | min storage |
/// |---|---|---|---|---|
/// | `postgres` | 16 | 13-17 | 5432 | 20 GB |
/// | `mysql` | 8.0 | 5.7, 8.0, 8.4 | 3306 | 20 GB |
/// | `aurora-postgresql` | 16 | 13-16 | 5432 | managed |
pub const ENGINES: [EngineInfo; 3] = [
    EngineInfo {
        engine: Engine::Postgres,
        name: "postgres",
        default_version: "16",
        major_versions: &["13", "14", "15", "16", "17"],
        major_parts: 1,
        port: 5432,
        min_storage_gb: 20,
        tls_parameter: "rds.force_ssl",
        family_prefix: "postgres",
    },
    EngineInfo {
        engine: Engine::Mysql,
        name: "mysql",
        default_version: "8.0",
        major_versions: &["5.7", "8.0", "8.4"],
        major_parts: 2,
        port: 3306,
        min_storage_gb: 20,
        tls_parameter: "require_secure_transport",
        family_prefix: "mysql",
    },
    EngineInfo {
        engine: Engine::AuroraPostgresql,
        name: "aurora-postgresql",
        default_version: "16",
        major_versions: &["13", "14", "15", "16"],
        major_parts: 1,
        port: 5432,
        min_storage_gb: 0,
        tls_parameter: "rds.force_ssl",
        family_prefix: "aurora-postgresql",
    },
];

/// The engine used when none is given.
pub const DEFAULT_ENGINE: Engine = Engine::Postgres;

impl Engine {
    /// The engine's row of [`ENGINES`].
    pub fn info(self) -> &'static EngineInfo {
        ENGINES
            .iter()
            .find(|e| e.engine == self)
            .unwrap_or(&ENGINES[0])
    }

    /// The name used in HCL.
    pub fn as_str(self) -> &'static str {
        self.info().name
    }

    /// Parses the HCL name.
    pub fn parse(name: &str) -> Option<Engine> {
        ENGINES.iter().find(|e| e.name == name).map(|e| e.engine)
    }

    /// Whether the engine is PostgreSQL-compatible (shares parameter names).
    pub fn is_postgres_family(self) -> bool {
        matches!(self, Engine::Postgres | Engine::AuroraPostgresql)
    }

    /// The major version of `version` (`16.2` → `16`, `8.0.35` → `8.0`); `None` when
    /// malformed (not dot-separated whole numbers) or too short.
    pub fn major_of(self, version: &str) -> Option<String> {
        let parts: Vec<&str> = version.split('.').collect();
        let numeric = parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()));
        let n = self.info().major_parts;
        (numeric && parts.len() >= n).then(|| parts[..n].join("."))
    }

    /// The default instance class for a profile: `db.m6g.large` (production),
    /// `db.t4g.medium` (staging), `db.t4g.micro` (development); Aurora, which offers
    /// neither `db.m*` nor `db.t4g.micro`, gets `db.r6g.large` in production and
    /// `db.t4g.medium` otherwise.
    pub fn default_instance_class(self, profile: Profile) -> &'static str {
        match (self, profile) {
            (Engine::AuroraPostgresql, Profile::Production) => "db.r6g.large",
            (Engine::AuroraPostgresql, _) => "db.t4g.medium",
            (_, Profile::Production) => "db.m6g.large",
            (_, Profile::Staging) => "db.t4g.medium",
            (_, Profile::Development) => "db.t4g.micro",
        }
    }

    /// The default `storage.size_gb`: the engine's minimum (20 GB), or 0 for Aurora,
    /// whose storage grows on its own.
    pub fn default_storage_gb(self) -> u32 {
        self.info().min_storage_gb
    }
}

/// The storage's volume type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageType {
    /// General purpose SSD with baseline IOPS.
    Gp3,
    /// Provisioned IOPS SSD.
    Io2,
}

impl StorageType {
    /// Every type.
    pub const ALL: [StorageType; 2] = [StorageType::Gp3, StorageType::Io2];

    /// The name used in HCL.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageType::Gp3 => "gp3",
            StorageType::Io2 => "io2",
        }
    }

    /// Parses the HCL name.
    pub fn parse(name: &str) -> Option<StorageType> {
        StorageType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The subnet group to ensure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetGroupRequest {
    /// The subnets, in two zones or more.
    pub subnet_ids: Vec<String>,
}

/// The subnet group as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetGroupState {
    /// Its name (id).
    pub id: String,
    /// The zone of each subnet, in `subnet_ids` order (for
    /// [`super::validate::check_subnet_zones`]).
    pub zones: Vec<String>,
    /// The subnets, as the group lists them (read back by refresh and import).
    pub subnet_ids: Vec<String>,
    /// The VPC the subnets are in.
    pub vpc_id: String,
}

/// The security group to ensure: admits only the listed groups and ranges on the
/// database port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroupRequest {
    /// The VPC.
    pub vpc_id: String,
    /// The database port.
    pub port: u16,
    /// Security groups admitted.
    pub allowed_security_group_ids: Vec<String>,
    /// Address ranges admitted.
    pub allowed_cidrs: Vec<String>,
}

/// The security group as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroupState {
    /// Its id.
    pub id: String,
    /// Security groups its ingress rules admit.
    pub allowed_security_group_ids: Vec<String>,
    /// Address ranges its ingress rules admit.
    pub allowed_cidrs: Vec<String>,
}

/// The parameter group to ensure. The backend adds the TLS parameter of the
/// engine ([`super::config::EngineInfo::tls_parameter`]) set on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterGroupRequest {
    /// The engine.
    pub engine: Engine,
    /// The family (`postgres16`, `mysql8.0`), from the engine and its major version.
    pub family: String,
    /// The user's parameters.
    pub parameters: BTreeMap<String, String>,
}

/// The parameter group as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterGroupState {
    /// Its name (id).
    pub id: String,
    /// The family.
    pub family: String,
}

/// The primary instance to ensure (created, or adopted by tags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRequest {
    /// The instance identifier (the resource's name).
    pub name: String,
    /// The engine.
    pub engine: Engine,
    /// The engine version.
    pub engine_version: String,
    /// The instance class.
    pub instance_class: String,
    /// Allocated storage, GB.
    pub size_gb: u32,
    /// Storage autoscaling ceiling, GB.
    pub max_size_gb: u32,
    /// Volume type.
    pub storage_type: StorageType,
    /// A standby in a second zone.
    pub multi_az: bool,
    /// Backup retention, days.
    pub backup_retention_days: u32,
    /// Daily backup window.
    pub backup_window: String,
    /// A region backups are copied to.
    pub backup_copy_region: Option<String>,
    /// Weekly maintenance window.
    pub maintenance_window: String,
    /// The subnet group's id.
    pub subnet_group_id: String,
    /// The security group's id.
    pub security_group_id: String,
    /// The parameter group's id.
    pub parameter_group_id: String,
    /// The storage encryption key's ARN.
    pub encryption_key: String,
    /// The cloud's deletion protection.
    pub deletion_protection: bool,
    /// Logins with the cloud's identities (IAM database authentication) on, beside
    /// the master password.
    pub iam_authentication: bool,
}

/// The primary instance as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceState {
    /// Its id.
    pub id: String,
    /// Writer endpoint (DNS name).
    pub endpoint: String,
    /// Port.
    pub port: u16,
    /// The engine version it runs.
    pub engine_version: String,
    /// Instance class.
    pub instance_class: String,
    /// Allocated storage, GB.
    pub size_gb: u32,
    /// Multi-AZ on.
    pub multi_az: bool,
    /// The primary's zone.
    pub zone: String,
    /// Status (`available`, `modifying`...).
    pub status: String,
    /// The ARN of the cloud-managed master secret (never the password).
    pub master_secret_arn: String,
    /// Latest restorable time, RFC 3339.
    pub latest_restorable_time: Option<String>,
    /// Storage autoscaling ceiling, GB (0: none).
    pub max_size_gb: u32,
    /// Volume type (`gp3`, `io2`).
    pub storage_type: String,
    /// Automated backup retention, days.
    pub backup_retention_days: u32,
    /// Daily backup window.
    pub backup_window: String,
    /// Weekly maintenance window.
    pub maintenance_window: String,
    /// The cloud's deletion protection.
    pub deletion_protection: bool,
    /// IAM database authentication on.
    pub iam_authentication: bool,
}

/// One read replica to ensure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaRequest {
    /// Its index (key `replica.<i>`, name `<name>-replica-<i>`).
    pub index: u32,
    /// The primary's id.
    pub source_id: String,
    /// Instance class.
    pub instance_class: String,
    /// Zones to avoid (the primary's and other replicas'), so each copy is elsewhere.
    pub avoid_zones: Vec<String>,
}

/// A read replica as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaState {
    /// Its index.
    pub index: u32,
    /// Its id.
    pub id: String,
    /// Reader endpoint.
    pub endpoint: String,
    /// Its zone.
    pub zone: String,
    /// Status.
    pub status: String,
}

/// In-place changes to the primary, applied immediately. `None` leaves a setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModifyRequest {
    /// New instance class.
    pub instance_class: Option<String>,
    /// Grown storage (never smaller: the planner refused it).
    pub size_gb: Option<u32>,
    /// New autoscaling ceiling.
    pub max_size_gb: Option<u32>,
    /// New backup retention.
    pub backup_retention_days: Option<u32>,
    /// New backup window.
    pub backup_window: Option<String>,
    /// New maintenance window.
    pub maintenance_window: Option<String>,
    /// Multi-AZ on or off.
    pub multi_az: Option<bool>,
    /// New engine version.
    pub engine_version: Option<String>,
    /// The version change is a major upgrade the user allowed.
    pub allow_major_version_upgrade: bool,
    /// New parameter group (after a major upgrade).
    pub parameter_group_id: Option<String>,
    /// The cloud's deletion protection.
    pub deletion_protection: Option<bool>,
    /// IAM database authentication on or off.
    pub iam_authentication: Option<bool>,
}

/// The whole stack as read by one batched refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatabaseSnapshot {
    /// The storage encryption key paved created, when found.
    pub key: Option<KeyState>,
    /// The subnet group.
    pub subnet_group: Option<SubnetGroupState>,
    /// The security group.
    pub security_group: Option<SecurityGroupState>,
    /// The parameter group.
    pub parameter_group: Option<ParameterGroupState>,
    /// The primary.
    pub instance: Option<InstanceState>,
    /// The replicas, by index.
    pub replicas: BTreeMap<u32, ReplicaState>,
    /// Every component found.
    pub components: Vec<ComponentRecord>,
    /// The tags of the components whose listing tells them (the instance and its
    /// replicas), by component key: what refresh compares for tag drift.
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
}

/// How to tear the stack down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRequest {
    /// The final snapshot's name ([`final_snapshot_name`]); `None` skips it.
    pub final_snapshot: Option<String>,
    /// Delete the key paved created (after the cloud's waiting period).
    pub delete_key: bool,
}

/// A restore from a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRestoreRequest {
    /// The snapshot (id or ARN).
    pub snapshot_id: String,
    /// The instance to create from it.
    pub instance: InstanceRequest,
}

/// A restore to a point in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointInTimeRequest {
    /// The source instance.
    pub source_db_instance_id: String,
    /// The point in time, RFC 3339; `None` for the latest restorable time.
    pub restore_time: Option<String>,
    /// The instance to create.
    pub instance: InstanceRequest,
}

/// The deterministic final snapshot name `<name>-final-<yyyymmddhhmm>` (UTC).
pub fn final_snapshot_name(name: &str, at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (hour, minute) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{name}-final-{year:04}{month:02}{day:02}{hour:02}{minute:02}")
}

/// What the plan knows of a database stack, for a cloud to list the components it
/// will make ([`DatabaseBackend::components`]). Every field may be unknown at plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseShape {
    /// The database's name.
    pub name: Knowable<String>,
    /// The engine.
    pub engine: Knowable<Engine>,
    /// The engine version.
    pub engine_version: Knowable<String>,
    /// paved creates the storage key (`false`: the user's).
    pub creates_key: Knowable<bool>,
    /// A standby in a second zone.
    pub multi_az: Knowable<bool>,
    /// How many read replicas.
    pub read_replicas: Knowable<u32>,
    /// The network (`network.vpc_id`: a VPC id on AWS, a network name on GCP).
    pub network: Knowable<String>,
    /// The instance class (`db.m6g.large`).
    pub instance_class: Knowable<String>,
    /// Allocated storage, in GB.
    pub storage_gb: Knowable<u32>,
    /// The storage's volume type.
    pub storage_type: Knowable<StorageType>,
    /// Automated backup retention, in days.
    pub backup_retention_days: Knowable<u32>,
    /// Whether backups are copied to a second region.
    pub backup_copy: Knowable<bool>,
}

impl DatabaseShape {
    /// What decides which components a stack has, once all of it is known: the
    /// engine, whether paved creates the storage key, and how many read replicas.
    pub fn decided(&self) -> Option<(Engine, bool, u32)> {
        match (&self.engine, &self.creates_key, &self.read_replicas) {
            (Knowable::Known(engine), Knowable::Known(key), Knowable::Known(replicas)) => {
                Some((*engine, *key, *replicas))
            }
            _ => None,
        }
    }

    /// The identity of the database's own components (its instances and secret):
    /// its name and engine, since a change of either makes a new database.
    pub fn identity(&self) -> Knowable<String> {
        self.name
            .clone()
            .zip(self.engine.clone())
            .map(|(n, e)| format!("{n}|{}", e.as_str()))
    }
}

#[cfg(test)]
impl DatabaseShape {
    /// The adapters' tests' production database `orders`: PostgreSQL 16 on
    /// `db.m6g.large`, Multi-AZ with one replica, 20 GB of gp3, 14-day backups, a key
    /// paved creates, in network `vpc-1`.
    pub(crate) fn production() -> Self {
        DatabaseShape {
            name: Knowable::Known("orders".to_owned()),
            engine: Knowable::Known(Engine::Postgres),
            engine_version: Knowable::Known("16".to_owned()),
            creates_key: Knowable::Known(true),
            multi_az: Knowable::Known(true),
            read_replicas: Knowable::Known(1),
            network: Knowable::Known("vpc-1".to_owned()),
            instance_class: Knowable::Known("db.m6g.large".to_owned()),
            storage_gb: Knowable::Known(20),
            storage_type: Knowable::Known(StorageType::Gp3),
            backup_retention_days: Knowable::Known(14),
            backup_copy: Knowable::Known(false),
        }
    }
}

/// A cloud that builds `paved_managed_database` stacks. See the module docs for the
/// contract every method keeps.
#[async_trait]
pub trait DatabaseBackend: Send + Sync {
    /// The components a stack of `shape` consists of on this cloud, in creation
    /// order, as the plan shows them (the inventory); computed without any call.
    /// Every cloud decides its own (their keys are the tags the adapter puts on
    /// what it makes); unknown when a setting that decides them is.
    fn components(&self, shape: &DatabaseShape) -> Knowable<Vec<Component>>;

    /// What a stack of `shape` costs a month in the configured region, priced from
    /// paved's table without any call; unknown when a setting it depends on is.
    fn cost(&self, _shape: &DatabaseShape) -> Knowable<Quote> {
        Knowable::Known(Quote::NotOffered)
    }

    /// Ensures the storage encryption key: checks the user's, or creates (adopts) one
    /// with rotation on.
    async fn ensure_encryption_key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState>;

    /// Ensures the subnet group over the subnets, and reports each subnet's zone.
    async fn ensure_subnet_group(
        &self,
        ctx: &StackContext,
        req: &SubnetGroupRequest,
    ) -> Step<SubnetGroupState>;

    /// Ensures the security group and its ingress rules (exactly those listed).
    async fn ensure_security_group(
        &self,
        ctx: &StackContext,
        req: &SecurityGroupRequest,
    ) -> Step<SecurityGroupState>;

    /// Ensures the parameter group with the user's parameters and TLS enforced.
    async fn ensure_parameter_group(
        &self,
        ctx: &StackContext,
        req: &ParameterGroupRequest,
    ) -> Step<ParameterGroupState>;

    /// Ensures the primary (an empty database with a cloud-managed master secret),
    /// and waits until it is available. Adopts an instance with the stack's tags.
    async fn ensure_instance(
        &self,
        ctx: &StackContext,
        req: &InstanceRequest,
    ) -> Step<InstanceState>;

    /// Ensures one read replica in a zone not in `avoid_zones` (when the subnet group
    /// has one), and waits until it is available.
    async fn ensure_replica(&self, ctx: &StackContext, req: &ReplicaRequest) -> Step<ReplicaState>;

    /// Deletes read replica `index` (no snapshot: the primary keeps the data) and
    /// waits until it is gone. A no-op when it does not exist.
    async fn delete_replica(&self, ctx: &StackContext, index: u32) -> Step<()>;

    /// Applies in-place changes to the primary immediately and waits until it is
    /// available again.
    async fn modify_instance(
        &self,
        ctx: &StackContext,
        instance_id: &str,
        req: &ModifyRequest,
    ) -> Step<InstanceState>;

    /// Reads the whole stack with few, batched calls. Missing parts are `None`.
    async fn read_stack(&self, ctx: &StackContext) -> Step<DatabaseSnapshot>;

    /// Sets the stack's tags (`ctx.tags`) on every component in `components` and
    /// removes the user tag keys in `removed`, in batched calls per service. Called
    /// when the stack's tags or the provider's default tags changed.
    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()>;

    /// Tears the stack down: replicas first, then the instance (with the final
    /// snapshot when asked), then the parameter, security and subnet groups and the
    /// key paved created. Reports what it could not remove.
    async fn delete_stack(&self, ctx: &StackContext, req: &DeleteRequest) -> Step<TeardownReport>;

    /// Creates the primary from a snapshot (adopting one already restored by an
    /// interrupted apply) and waits until it is available.
    async fn restore_from_snapshot(
        &self,
        ctx: &StackContext,
        req: &SnapshotRestoreRequest,
    ) -> Step<InstanceState>;

    /// Creates the primary as a point-in-time copy of another instance and waits
    /// until it is available.
    async fn restore_to_point_in_time(
        &self,
        ctx: &StackContext,
        req: &PointInTimeRequest,
    ) -> Step<InstanceState>;
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn final_snapshot_names_are_deterministic() {
        // 2026-11-22T00:30:00Z
        let at = UNIX_EPOCH + Duration::from_secs(1_795_307_400);
        assert_eq!(
            final_snapshot_name("orders", at),
            "orders-final-202611220030"
        );
        assert_eq!(
            final_snapshot_name("orders", UNIX_EPOCH),
            "orders-final-197001010000"
        );
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(final_snapshot_name("x", leap), "x-final-200002290000");
    }
}
