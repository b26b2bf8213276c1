//! The AWS backend of `paved_managed_database`: an RDS instance (with its read
//! replicas) in a subnet group, behind a security group, with a parameter group that
//! enforces TLS, a KMS key for storage and an RDS-managed master secret.
//!
//! [`AwsDatabaseBackend`] implements [`DatabaseBackend`]; each concern lives in its own
//! module:
//! - [`groups`]: the subnet, security and parameter groups (adopted by name when they
//!   carry the stack's tags, converged in place);
//! - [`inventory`]: the components a stack consists of, as the plan lists them;
//! - [`instance`]: the primary, replicas, in-place changes and restores;
//! - [`read`]: the batched refresh (three concurrent calls; the groups come with the
//!   primary);
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
pub mod inventory;
mod read;
mod teardown;
mod wait;

use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) use super::network::checkpoint;

use async_trait::async_trait;

use super::error::SdkFailure;
use super::inventory::step_with;
use super::kms::{self, KeyOwner};
use super::tagging::{self, Taggers};
use super::{AdapterClients, AwsClients};
use crate::ports::database::{
    DatabaseBackend, DatabaseShape, DatabaseSnapshot, DeleteRequest, InstanceRequest,
    InstanceState, ModifyRequest, ParameterGroupRequest, ParameterGroupState, PointInTimeRequest,
    ReplicaRequest, ReplicaState, SecurityGroupRequest, SecurityGroupState, SnapshotRestoreRequest,
    SubnetGroupRequest, SubnetGroupState,
};
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::stack::cost::Quote;
use crate::stack::inventory::Component;
use crate::stack::tags::{RESOURCE_TAG, STACK_TAG};
use crate::stack::{BackendError, ComponentRecord, Knowable, StackContext, Step, TeardownReport};

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

    fn aws(&self) -> AdapterClients<'_> {
        self.clients.adapter()
    }

    /// The RDS, EC2 and KMS clients (the stack-wide passes).
    async fn all(
        &self,
    ) -> Result<
        (
            aws_sdk_rds::Client,
            aws_sdk_ec2::Client,
            aws_sdk_kms::Client,
        ),
        BackendError,
    > {
        let aws = self.aws();
        futures::try_join!(aws.rds(), aws.ec2(), aws.kms())
    }
}

#[async_trait]
impl DatabaseBackend for AwsDatabaseBackend {
    fn components(&self, shape: &DatabaseShape) -> Knowable<Vec<Component>> {
        inventory::components(shape)
    }

    fn cost(&self, shape: &DatabaseShape) -> Knowable<Quote> {
        super::cost::database(self.clients.region(), shape)
    }

    async fn ensure_encryption_key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState> {
        step_with(self.aws().kms(), |kms| async move {
            kms::ensure_key(&kms, ctx, KEY_OWNER, req).await
        })
        .await
    }

    async fn ensure_subnet_group(
        &self,
        ctx: &StackContext,
        req: &SubnetGroupRequest,
    ) -> Step<SubnetGroupState> {
        let ready = futures::future::try_join(self.aws().rds(), self.aws().ec2());
        step_with(ready, |(rds, ec2)| async move {
            groups::ensure_subnet_group(&rds, &ec2, ctx, req).await
        })
        .await
    }

    async fn ensure_security_group(
        &self,
        ctx: &StackContext,
        req: &SecurityGroupRequest,
    ) -> Step<SecurityGroupState> {
        step_with(self.aws().ec2(), |ec2| async move {
            groups::ensure_security_group(&ec2, ctx, req).await
        })
        .await
    }

    async fn ensure_parameter_group(
        &self,
        ctx: &StackContext,
        req: &ParameterGroupRequest,
    ) -> Step<ParameterGroupState> {
        step_with(self.aws().rds(), |rds| async move {
            groups::ensure_parameter_group(&rds, ctx, req).await
        })
        .await
    }

    async fn ensure_instance(
        &self,
        ctx: &StackContext,
        req: &InstanceRequest,
    ) -> Step<InstanceState> {
        step_with(self.aws().rds(), |rds| async move {
            instance::ensure_instance(&rds, &self.clients, ctx, req).await
        })
        .await
    }

    async fn ensure_replica(&self, ctx: &StackContext, req: &ReplicaRequest) -> Step<ReplicaState> {
        step_with(self.aws().rds(), |rds| async move {
            instance::ensure_replica(&rds, ctx, req).await
        })
        .await
    }

    async fn delete_replica(&self, ctx: &StackContext, index: u32) -> Step<()> {
        let ready = async {
            let rds = self.aws().rds().await?;
            let found = read::named_instances(&rds, ctx).await?;
            Ok((rds, found))
        };
        step_with(ready, |(rds, found)| async move {
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
        })
        .await
    }

    async fn modify_instance(
        &self,
        ctx: &StackContext,
        instance_id: &str,
        req: &ModifyRequest,
    ) -> Step<InstanceState> {
        step_with(self.aws().rds(), |rds| async move {
            instance::modify_instance(&rds, ctx, instance_id, req).await
        })
        .await
    }

    async fn read_stack(&self, ctx: &StackContext) -> Step<DatabaseSnapshot> {
        step_with(self.all(), |(rds, ec2, kms)| async move {
            read::read_stack(&rds, &ec2, &kms, ctx).await
        })
        .await
    }

    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()> {
        step_with(self.all(), |(rds, ec2, kms)| async move {
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
        })
        .await
    }

    async fn delete_stack(&self, ctx: &StackContext, req: &DeleteRequest) -> Step<TeardownReport> {
        step_with(self.all(), |(rds, ec2, kms)| async move {
            teardown::delete_stack(&rds, &ec2, &kms, ctx, req).await
        })
        .await
    }

    async fn restore_from_snapshot(
        &self,
        ctx: &StackContext,
        req: &SnapshotRestoreRequest,
    ) -> Step<InstanceState> {
        step_with(self.aws().rds(), |rds| async move {
            instance::restore_from_snapshot(&rds, ctx, req).await
        })
        .await
    }

    async fn restore_to_point_in_time(
        &self,
        ctx: &StackContext,
        req: &PointInTimeRequest,
    ) -> Step<InstanceState> {
        step_with(self.aws().rds(), |rds| async move {
            instance::restore_to_point_in_time(&rds, ctx, req).await
        })
        .await
    }
}

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

/// The services the database's permissions hints name.
const SERVICES: &str = "RDS, EC2 security group and KMS";

/// An RDS (or EC2, KMS) failure as the user sees it.
pub(crate) fn backend_error(operation: impl Into<String>, failure: SdkFailure) -> BackendError {
    failure.into_backend_error(SERVICES, operation)
}

/// Maps an SDK error of any AWS service to a [`BackendError`] for `operation` (see
/// [`super::error::fail`]).
pub(crate) fn fail<E>(
    operation: impl Into<String>,
) -> impl FnOnce(aws_sdk_ec2::error::SdkError<E, aws_sdk_ec2::config::http::HttpResponse>) -> BackendError
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    super::error::fail(SERVICES, operation)
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
