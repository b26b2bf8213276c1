//! The AWS backend of `paved_managed_database`: an RDS instance (with its read
//! replicas) in a subnet group, behind a security group, with a parameter group that
//! enforces TLS, a KMS key for storage and an RDS-managed master secret.
//!
//! [`AwsDatabaseBackend`] implements [`DatabaseBackend`]; each concern lives in its own
//! module:
//! - [`groups`]: the subnet, security and parameter groups (adopted by name when they
//!   carry the stack's tags, converged in place);
//! - [`instance`]: the primary, replicas, in-place changes and restores;
//! - [`read`]: the batched refresh (five concurrent calls);
//! - [`teardown`]: ordered deletion that continues past failures;
//! - [`wait`]: waiting for an instance to be available or gone, over any status poll.
//!
//! Every component is tagged with the stack's tags plus `paved:stack`,
//! `paved:resource` (`paved_managed_database`), `paved:component` (its inventory key)
//! and `paved:managed-by`; reads match both `paved:stack` and `paved:resource`, so a
//! cluster and a database of the same name never see each other's parts. The master
//! password is never read, set or logged: RDS creates it in Secrets Manager
//! (`ManageMasterUserPassword`) and only the secret's ARN is reported.
//!
//! Aurora PostgreSQL is not supported yet on AWS: the instance calls refuse it with a
//! permanent error.

mod groups;
mod instance;
mod read;
mod teardown;
mod wait;

use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) use super::network::checkpoint;

use async_trait::async_trait;

use super::error::{client_setup_error, SdkFailure};
use super::kms::{self, KeyOwner};
use super::tagging::{self, Taggers};
use super::AwsClients;
use crate::ports::database::{
    DatabaseBackend, DatabaseSnapshot, DeleteRequest, InstanceRequest, InstanceState,
    ModifyRequest, ParameterGroupRequest, ParameterGroupState, PointInTimeRequest, ReplicaRequest,
    ReplicaState, SecurityGroupRequest, SecurityGroupState, SnapshotRestoreRequest,
    SubnetGroupRequest, SubnetGroupState,
};
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::stack::tags::{RESOURCE_TAG, STACK_TAG};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step, TeardownReport};

/// The resource type written in [`RESOURCE_TAG`].
pub const RESOURCE_TYPE: &str = "paved_managed_database";

/// Who the stack's KMS key belongs to.
pub(crate) const KEY_OWNER: KeyOwner<'static> = KeyOwner {
    purpose: "database",
};

/// The AWS backend of `paved_managed_database` (RDS, EC2 security groups, KMS).
pub struct AwsDatabaseBackend {
    clients: Arc<AwsClients>,
}

impl AwsDatabaseBackend {
    /// A backend making its calls through `clients` (the default region).
    pub fn new(clients: Arc<AwsClients>) -> Self {
        Self { clients }
    }

    async fn rds(&self) -> Result<aws_sdk_rds::Client, BackendError> {
        self.clients.rds(None).await.map_err(client_setup_error)
    }

    async fn ec2(&self) -> Result<aws_sdk_ec2::Client, BackendError> {
        self.clients.ec2(None).await.map_err(client_setup_error)
    }

    async fn kms(&self) -> Result<aws_sdk_kms::Client, BackendError> {
        self.clients.kms(None).await.map_err(client_setup_error)
    }
}

#[async_trait]
impl DatabaseBackend for AwsDatabaseBackend {
    async fn ensure_encryption_key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState> {
        match self.kms().await {
            Ok(kms) => kms::ensure_key(&kms, ctx, KEY_OWNER, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn ensure_subnet_group(
        &self,
        ctx: &StackContext,
        req: &SubnetGroupRequest,
    ) -> Step<SubnetGroupState> {
        match (self.rds().await, self.ec2().await) {
            (Ok(rds), Ok(ec2)) => groups::ensure_subnet_group(&rds, &ec2, ctx, req).await,
            (Err(e), _) | (_, Err(e)) => Step::failed(e, Vec::new()),
        }
    }

    async fn ensure_security_group(
        &self,
        ctx: &StackContext,
        req: &SecurityGroupRequest,
    ) -> Step<SecurityGroupState> {
        match self.ec2().await {
            Ok(ec2) => groups::ensure_security_group(&ec2, ctx, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn ensure_parameter_group(
        &self,
        ctx: &StackContext,
        req: &ParameterGroupRequest,
    ) -> Step<ParameterGroupState> {
        match self.rds().await {
            Ok(rds) => groups::ensure_parameter_group(&rds, ctx, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn ensure_instance(
        &self,
        ctx: &StackContext,
        req: &InstanceRequest,
    ) -> Step<InstanceState> {
        match self.rds().await {
            Ok(rds) => instance::ensure_instance(&rds, &self.clients, ctx, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn ensure_replica(&self, ctx: &StackContext, req: &ReplicaRequest) -> Step<ReplicaState> {
        match self.rds().await {
            Ok(rds) => instance::ensure_replica(&rds, ctx, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn delete_replica(&self, ctx: &StackContext, index: u32) -> Step<()> {
        let rds = match self.rds().await {
            Ok(rds) => rds,
            Err(e) => return Step::failed(e, Vec::new()),
        };
        let found = match read::stack_instances(&rds, ctx).await {
            Ok(found) => found,
            Err(e) => return Step::failed(e, Vec::new()),
        };
        let Some(db) = found.replicas.get(&index) else {
            return Step::done((), Vec::new());
        };
        let record = ComponentRecord {
            key: format!("replica.{index}"),
            kind: crate::ports::database::kind::DB_REPLICA.to_owned(),
            zone: db.availability_zone().map(str::to_owned),
            id: db.db_instance_identifier().unwrap_or_default().to_owned(),
        };
        match teardown::delete_instance(&rds, ctx, db, None).await {
            Ok(()) => Step::done((), Vec::new()),
            Err(e) => Step::failed(e, vec![record]),
        }
    }

    async fn modify_instance(
        &self,
        ctx: &StackContext,
        instance_id: &str,
        req: &ModifyRequest,
    ) -> Step<InstanceState> {
        match self.rds().await {
            Ok(rds) => instance::modify_instance(&rds, ctx, instance_id, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn read_stack(&self, ctx: &StackContext) -> Step<DatabaseSnapshot> {
        match (self.rds().await, self.ec2().await, self.kms().await) {
            (Ok(rds), Ok(ec2), Ok(kms)) => read::read_stack(&rds, &ec2, &kms, ctx).await,
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Step::failed(e, Vec::new()),
        }
    }

    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()> {
        let (rds, ec2, kms) = match (self.rds().await, self.ec2().await, self.kms().await) {
            (Ok(rds), Ok(ec2), Ok(kms)) => (rds, ec2, kms),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Step::failed(e, Vec::new()),
        };
        let result = async {
            let by_arn = read::rds_arns(&rds, ctx, components).await?;
            let taggers = Taggers {
                ec2: Some(&ec2),
                kms: Some(&kms),
                rds: Some(&rds),
                ..Taggers::default()
            };
            tagging::retag(&taggers, ctx, &by_arn, removed).await
        }
        .await;
        match result {
            Ok(()) => Step::done((), Vec::new()),
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn delete_stack(&self, ctx: &StackContext, req: &DeleteRequest) -> Step<TeardownReport> {
        match (self.rds().await, self.ec2().await, self.kms().await) {
            (Ok(rds), Ok(ec2), Ok(kms)) => teardown::delete_stack(&rds, &ec2, &kms, ctx, req).await,
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Step::failed(e, Vec::new()),
        }
    }

    async fn restore_from_snapshot(
        &self,
        ctx: &StackContext,
        req: &SnapshotRestoreRequest,
    ) -> Step<InstanceState> {
        match self.rds().await {
            Ok(rds) => instance::restore_from_snapshot(&rds, ctx, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn restore_to_point_in_time(
        &self,
        ctx: &StackContext,
        req: &PointInTimeRequest,
    ) -> Step<InstanceState> {
        match self.rds().await {
            Ok(rds) => instance::restore_to_point_in_time(&rds, ctx, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }
}

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

/// The object named in an RDS or EC2 call does not exist (any more).
pub(crate) fn is_not_found(failure: &SdkFailure) -> bool {
    failure.is_not_found()
}

/// An RDS (or EC2, KMS) failure as the user sees it.
pub(crate) fn backend_error(operation: impl Into<String>, failure: SdkFailure) -> BackendError {
    failure.into_backend_error("RDS, EC2 security group and KMS", operation)
}

/// Maps an SDK error of any AWS service to a [`BackendError`] for `operation`.
pub(crate) fn fail<E>(
    operation: impl Into<String>,
) -> impl FnOnce(aws_sdk_ec2::error::SdkError<E, aws_sdk_ec2::config::http::HttpResponse>) -> BackendError
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let operation = operation.into();
    move |err| backend_error(operation, SdkFailure::from_sdk(err))
}

/// An answer missing a field paved needs.
pub(crate) fn incomplete(operation: &str, what: &str) -> BackendError {
    BackendError::Permanent {
        operation: operation.to_owned(),
        message: format!("AWS answered without {what}"),
        hint: "Run apply again; paved finds what was created by its name and tags".to_owned(),
    }
}

/// Aurora is refused until the cluster path exists.
pub(crate) fn aurora_unsupported(operation: &str) -> BackendError {
    BackendError::Permanent {
        operation: operation.to_owned(),
        message: "engine aurora-postgresql is not supported yet on AWS".to_owned(),
        hint: "Use engine = \"postgres\" for now".to_owned(),
    }
}

// ---------------------------------------------------------------------------------
// Tags and records
// ---------------------------------------------------------------------------------

/// The tags of component `key`: the stack's tags and paved's identity tags.
pub(crate) fn component_tags(ctx: &StackContext, key: &str) -> BTreeMap<String, String> {
    ctx.component_tags(key)
}

/// [`component_tags`] as RDS tags.
pub(crate) fn rds_tags(ctx: &StackContext, key: &str) -> Vec<aws_sdk_rds::types::Tag> {
    component_tags(ctx, key)
        .into_iter()
        .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
        .collect()
}

/// The value of tag `key` among RDS tags.
pub(crate) fn rds_tag<'a>(tags: &'a [aws_sdk_rds::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// Whether RDS tags say the object belongs to this database stack (both the stack
/// and the resource type match).
pub(crate) fn rds_owned(tags: &[aws_sdk_rds::types::Tag], stack: &str) -> bool {
    rds_tag(tags, STACK_TAG) == Some(stack) && rds_tag(tags, RESOURCE_TAG) == Some(RESOURCE_TYPE)
}

/// A row of the inventory.
pub(crate) fn record(key: &str, kind: &str, zone: Option<&str>, id: &str) -> ComponentRecord {
    ComponentRecord {
        key: key.to_owned(),
        kind: kind.to_owned(),
        zone: zone.map(str::to_owned),
        id: id.to_owned(),
    }
}

/// The DB subnet group's name for `stack`.
pub(crate) fn subnet_group_name(stack: &str) -> String {
    format!("paved-{stack}")
}

/// The security group's name for `stack`.
pub(crate) fn security_group_name(stack: &str) -> String {
    format!("paved-db-{stack}")
}

/// The parameter group's name for `stack` and `family` (dots become dashes).
pub(crate) fn parameter_group_name(stack: &str, family: &str) -> String {
    format!("paved-{stack}-{}", family.replace('.', "-"))
}

/// The identifier of read replica `index` of `name`.
pub(crate) fn replica_name(name: &str, index: u32) -> String {
    format!("{name}-replica-{index}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_convention() {
        assert_eq!(subnet_group_name("orders"), "paved-orders");
        assert_eq!(security_group_name("orders"), "paved-db-orders");
        assert_eq!(
            parameter_group_name("orders", "mysql8.0"),
            "paved-orders-mysql8-0"
        );
        assert_eq!(replica_name("orders", 1), "orders-replica-1");
    }
}
