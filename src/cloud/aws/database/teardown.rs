//! Tearing a database stack down, in dependency order: read replicas (no snapshot),
//! then the primary (with the final snapshot when asked), waiting until each is
//! gone; then the parameter groups, the security group, the subnet group and, when
//! asked, the key paved created. A failure is reported in
//! [`TeardownReport::left_behind`] and the rest still goes, except that the primary
//! is kept while a replica remains (deleting it would promote the replica into a
//! stray standalone database). The RDS-managed master secret goes with the instance.
//! A second call finds nothing and does nothing.

use std::time::Duration;

use aws_sdk_rds::types::DbInstance;
use futures::future::join_all;

use super::groups::security_group_record;
use super::instance::{instance_records, poll_instance, replica_record};
use super::read::{stack_instances, stack_parameter_groups, stack_security_groups};
use super::wait::{instance_waiter, until_gone};
use super::{backend_error, checkpoint, record, subnet_group_name, KEY_OWNER};
use crate::cloud::aws::error::SdkFailure;
use crate::cloud::aws::kms;
use crate::ports::database::kind;
use crate::ports::database::DeleteRequest;
use crate::stack::retry::{Retry, RetryPolicy, Retryability};
use crate::stack::OperationContext;
use crate::stack::{BackendError, ComponentRecord, LeftBehind, StackContext, Step, TeardownReport};

/// Collects what teardown did.
#[derive(Default)]
struct Teardown {
    report: TeardownReport,
}

impl Teardown {
    fn done(&mut self, component: ComponentRecord) {
        self.report.deleted.push(component);
    }

    fn left(&mut self, component: ComponentRecord, reason: String) {
        tracing::warn!(component = %component.key, id = %component.id, %reason, "could not delete");
        self.report
            .left_behind
            .push(LeftBehind { component, reason });
    }

    fn outcome(&mut self, component: ComponentRecord, result: Result<(), BackendError>) -> bool {
        match result {
            Ok(()) => {
                self.done(component);
                true
            }
            Err(e) => {
                self.left(component, e.to_string());
                false
            }
        }
    }

    fn finish(self, error: Option<BackendError>) -> Step<TeardownReport> {
        let components = self
            .report
            .left_behind
            .iter()
            .map(|l| l.component.clone())
            .collect();
        match error {
            None => Step::done(self.report, components),
            Some(e) => Step::failed(e, components),
        }
    }
}

/// Tears the stack down; see the module docs.
pub(crate) async fn delete_stack(
    rds: &aws_sdk_rds::Client,
    ec2: &aws_sdk_ec2::Client,
    kms_client: &aws_sdk_kms::Client,
    ctx: &StackContext,
    req: &DeleteRequest,
) -> Step<TeardownReport> {
    let mut t = Teardown::default();
    let error = delete_inner(rds, ec2, kms_client, ctx, req, &mut t)
        .await
        .err();
    t.finish(error)
}

/// Deletes one instance (unless already deleting) and waits until it is gone.
pub(crate) async fn delete_instance(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    db: &DbInstance,
    final_snapshot: Option<&str>,
) -> Result<(), BackendError> {
    let id = db.db_instance_identifier().unwrap_or_default();
    let during = format!("deleting RDS instance {id}");
    if db.db_instance_status() != Some("deleting") {
        let call = rds
            .delete_db_instance()
            .db_instance_identifier(id)
            .delete_automated_backups(final_snapshot.is_none())
            .set_skip_final_snapshot(Some(final_snapshot.is_none()))
            .set_final_db_snapshot_identifier(final_snapshot.map(str::to_owned))
            .send()
            .await;
        if let Err(e) = call {
            let failure = SdkFailure::from_sdk(e);
            if failure.is_not_found() {
                return Ok(());
            }
            if failure.message.contains("protected") {
                return Err(BackendError::Permanent {
                    operation: during,
                    message: failure.to_string(),
                    hint: "The instance has deletion protection on: set deletion_protection \
                           = false and apply, then destroy again"
                        .to_owned(),
                });
            }
            return Err(backend_error(during, failure));
        }
    }
    let waiter = instance_waiter(ctx, format!("RDS instance {id}"));
    until_gone(
        &waiter,
        &format!("waiting for RDS instance {id} to be deleted"),
        poll_instance(rds, id),
    )
    .await
}

async fn delete_inner(
    rds: &aws_sdk_rds::Client,
    ec2: &aws_sdk_ec2::Client,
    kms_client: &aws_sdk_kms::Client,
    ctx: &StackContext,
    req: &DeleteRequest,
    t: &mut Teardown,
) -> Result<(), BackendError> {
    checkpoint(ctx, "deleting the database")?;
    let found = stack_instances(rds, ctx).await?;
    if let Some(db) = found
        .primary
        .as_ref()
        .filter(|db| db.deletion_protection() == Some(true))
    {
        // Refuse before touching anything: deleting the replicas of a database that
        // then stays would take away its read capacity for nothing.
        let error = BackendError::Permanent {
            operation: "deleting the database".to_owned(),
            message: format!(
                "RDS instance {} has deletion protection on",
                db.db_instance_identifier().unwrap_or_default()
            ),
            hint: "Set deletion_protection = false and apply, then destroy again".to_owned(),
        };
        let rows = instance_records(db).into_iter().chain(
            found
                .replicas
                .iter()
                .map(|(i, replica)| replica_record(*i, replica)),
        );
        for row in rows {
            t.left(row, error.to_string());
        }
        return Err(error);
    }

    // 1. Replicas, together.
    let replicas = join_all(found.replicas.iter().map(|(i, db)| async move {
        (
            replica_record(*i, db),
            delete_instance(rds, ctx, db, None).await,
        )
    }))
    .await;
    let mut replicas_left = false;
    for (component, result) in replicas {
        if let Err(e @ (BackendError::Cancelled { .. } | BackendError::TimedOut { .. })) = &result {
            t.left(component, e.to_string());
            return Err(e.clone());
        }
        replicas_left |= !t.outcome(component, result);
    }

    // 2. The primary, with its final snapshot.
    checkpoint(ctx, "deleting the database")?;
    if let Some(db) = &found.primary {
        let rows = instance_records(db);
        let result = if replicas_left {
            Err(BackendError::Permanent {
                operation: "deleting the primary instance".to_owned(),
                message: "a read replica could not be deleted".to_owned(),
                hint: "Deleting the primary would turn the replica into a standalone \
                       database; fix the replica's problem and run destroy again"
                    .to_owned(),
            })
        } else {
            delete_instance(rds, ctx, db, req.final_snapshot.as_deref()).await
        };
        let cut_short = matches!(
            result,
            Err(BackendError::Cancelled { .. } | BackendError::TimedOut { .. })
        );
        for row in rows {
            t.outcome(row, result.clone());
        }
        if cut_short {
            return result;
        }
    }

    // 3. Parameter groups (a major upgrade may have left the old one).
    checkpoint(ctx, "deleting the parameter group")?;
    match stack_parameter_groups(rds, ctx).await {
        Ok(groups) => {
            for g in groups {
                let name = g.db_parameter_group_name().unwrap_or_default().to_owned();
                let result = rds
                    .delete_db_parameter_group()
                    .db_parameter_group_name(&name)
                    .send()
                    .await
                    .map(|_| ())
                    .or_else(|e| gone_is_fine(format!("deleting parameter group {name}"), e));
                t.outcome(
                    record("parameter_group", kind::PARAMETER_GROUP, None, &name),
                    result,
                );
            }
        }
        Err(e) => t.left(
            record("parameter_group", kind::PARAMETER_GROUP, None, "?"),
            e.to_string(),
        ),
    }

    // 4. The security group (AWS may still hold it for a moment after the instance).
    checkpoint(ctx, "deleting the security group")?;
    match stack_security_groups(ec2, ctx).await {
        Ok(groups) => {
            for group in groups {
                let result = delete_security_group(ec2, ctx, &group.id).await;
                t.outcome(security_group_record(&group.id), result);
            }
        }
        Err(e) => t.left(security_group_record("?"), e.to_string()),
    }

    // 5. The subnet group (looked up first, so a second teardown deletes nothing).
    checkpoint(ctx, "deleting the subnet group")?;
    let name = subnet_group_name(&ctx.stack);
    let row = || record("subnet_group", kind::SUBNET_GROUP, None, &name);
    let exists = rds
        .describe_db_subnet_groups()
        .db_subnet_group_name(&name)
        .send()
        .await
        .map(|out| !out.db_subnet_groups().is_empty())
        .or_else(|e| gone_is_fine(format!("reading DB subnet group {name}"), e).map(|()| false));
    match exists {
        Ok(false) => {}
        Ok(true) => {
            let result = rds
                .delete_db_subnet_group()
                .db_subnet_group_name(&name)
                .send()
                .await
                .map(|_| ())
                .or_else(|e| gone_is_fine(format!("deleting DB subnet group {name}"), e));
            t.outcome(row(), result);
        }
        Err(e) => t.left(row(), e.to_string()),
    }

    // 6. The key paved created.
    if req.delete_key {
        checkpoint(ctx, "deleting the encryption key")?;
        match kms::delete_key(kms_client, ctx, KEY_OWNER).await {
            Ok(Some(row)) => t.done(row),
            Ok(None) => {}
            Err(e) => t.left(
                record(
                    kms::KEY_COMPONENT,
                    kms::KEY_COMPONENT,
                    None,
                    &KEY_OWNER.alias(&ctx.stack),
                ),
                e.to_string(),
            ),
        }
    }
    Ok(())
}

fn gone_is_fine<E>(
    operation: String,
    err: aws_sdk_ec2::error::SdkError<E, aws_sdk_ec2::config::http::HttpResponse>,
) -> Result<(), BackendError>
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = SdkFailure::from_sdk(err);
    if failure.is_not_found() {
        Ok(())
    } else {
        Err(backend_error(operation, failure))
    }
}

/// Deletes the security group, retrying while the deleted instance's network
/// interfaces still hold it.
async fn delete_security_group(
    ec2: &aws_sdk_ec2::Client,
    ctx: &StackContext,
    id: &str,
) -> Result<(), BackendError> {
    let retry = Retry::new(
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(30),
            ..RetryPolicy::CLOUD_DEFAULT
        },
        OperationContext::new(ctx.cancel.clone()),
    );
    let in_use = |e: &SdkFailure| {
        if e.code_is("DependencyViolation") {
            Retryability::Retryable
        } else {
            e.retryability()
        }
    };
    let operation = format!("deleting security group {id}");
    let result = retry
        .run(&operation, &in_use, || async {
            ec2.delete_security_group()
                .group_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(SdkFailure::from_sdk)
        })
        .await;
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.is_cancelled() => Err(BackendError::Cancelled { during: operation }),
        Err(e) => match e.into_last_error() {
            Some(f) if f.is_not_found() => Ok(()),
            Some(f) => Err(backend_error(operation, f)),
            None => Err(BackendError::Cancelled { during: operation }),
        },
    }
}
