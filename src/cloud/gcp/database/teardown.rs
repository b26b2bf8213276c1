//! Tearing a Cloud SQL stack down, in order: read replicas, then the primary (with
//! a final backup unless skipped), then the stack's range in the Service
//! Networking connection, the reserved range, the password's secret, and the
//! key's versions when paved made the key. Deletion protection always holds: a
//! protected primary stops the teardown before anything is deleted.
//!
//! Service Networking may refuse to delete the connection while Cloud SQL still
//! holds it (for days after an instance is gone, on the real service): that
//! dead end does not fail the teardown; the connection and its range are reported
//! as left behind, with what the user can do.

use serde_json::Value;

use super::access::{connection_id, CONNECTION_KEY, RANGE_KEY};
use super::instance::{instance_records, replica_record};
use super::key::KEY_KEY;
use super::names;
use super::read::split_instances;
use super::{kind, record, GcpDatabaseBackend};
use crate::cloud::gcp::wait::{last_segment, text};
use crate::ports::database::DeleteRequest;
use crate::stack::{BackendError, ComponentRecord, LeftBehind, StackContext, Step, TeardownReport};

/// How long a final backup is kept, in days.
const FINAL_BACKUP_DAYS: u32 = 30;

impl GcpDatabaseBackend {
    /// Tears the stack down (see the module docs).
    pub(super) async fn teardown(
        &self,
        ctx: &StackContext,
        req: &DeleteRequest,
    ) -> Step<TeardownReport> {
        let _one = self.ops.lock().await;
        let mut report = TeardownReport::default();
        let result = self.teardown_inner(ctx, req, &mut report).await;
        match result {
            Ok(()) => Step::done(report, Vec::new()),
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn teardown_inner(
        &self,
        ctx: &StackContext,
        req: &DeleteRequest,
        report: &mut TeardownReport,
    ) -> Result<(), BackendError> {
        let project = self.clients.project()?;
        let secret = self.secret_name(ctx)?;
        let listed = self.stack_instances(ctx).await?;
        let (primary, replicas) = split_instances(&ctx.stack, &listed);
        if let Some(p) = &primary {
            if p.pointer("/settings/deletionProtectionEnabled")
                .and_then(Value::as_bool)
                == Some(true)
            {
                return Err(BackendError::Permanent {
                    operation: format!("deleting the Cloud SQL instance {}", ctx.stack),
                    message: "its deletion protection is on".to_owned(),
                    hint: "Set deletion_protection = false and apply, then destroy".to_owned(),
                });
            }
        }
        let network = primary
            .as_ref()
            .and_then(|p| text(p, "/settings/ipConfiguration/privateNetwork"))
            .map(|n| last_segment(&n).to_owned());
        for (i, r) in &replicas {
            ctx.checkpoint("deleting the read replicas")?;
            self.delete_instance(ctx, r, None).await?;
            report.deleted.push(replica_record(*i, r));
        }
        if let Some(p) = &primary {
            ctx.checkpoint("deleting the Cloud SQL instance")?;
            let final_backup = req
                .final_snapshot
                .as_deref()
                .map(|n| (n, FINAL_BACKUP_DAYS));
            self.delete_instance(ctx, p, final_backup).await?;
            report.deleted.extend(
                instance_records(p, &secret)
                    .into_iter()
                    .filter(|r| r.key != super::secret::SECRET_KEY),
            );
        }

        let range = names::peering_range(&ctx.stack);
        let network = match network {
            Some(n) => Some(n),
            None => self.range_network(ctx, &project, &range).await?,
        };
        let mut range_kept = false;
        if let Some(network) = &network {
            ctx.checkpoint("removing the private services access connection")?;
            let connection = record(
                CONNECTION_KEY,
                kind::SERVICE_CONNECTION,
                &connection_id(network),
            );
            match self.release_connection(ctx, network).await? {
                None => report.deleted.push(connection),
                Some(reason) => {
                    range_kept = true;
                    report.left_behind.push(LeftBehind {
                        component: connection,
                        reason: format!(
                            "Service Networking refused to remove it: {reason} Another instance on this network may \
                             still use it, or Cloud SQL keeps holding it for a few days after its last instance is \
                             deleted. Run destroy again once it is free, or remove it later with `gcloud services \
                             vpc-peerings delete --service=servicenetworking.googleapis.com --network={network}`, \
                             then delete the global address {range}."
                        ),
                    });
                    report.left_behind.push(LeftBehind {
                        component: record(RANGE_KEY, kind::PEERING_RANGE, &range),
                        reason: "The connection above still reserves it; delete it after the connection \
                                 (`gcloud compute addresses delete --global`)."
                            .to_owned(),
                    });
                }
            }
        }
        if !range_kept {
            self.delete_range(ctx).await?;
            report
                .deleted
                .push(record(RANGE_KEY, kind::PEERING_RANGE, &range));
        }
        self.delete_secret(ctx).await?;
        report
            .deleted
            .push(record(super::secret::SECRET_KEY, kind::SECRET, &secret));
        if req.delete_key {
            self.destroy_key(ctx).await?;
            let key = self.key_name(ctx)?;
            report.deleted.push(ComponentRecord {
                key: KEY_KEY.to_owned(),
                kind: kind::KMS_KEY.to_owned(),
                zone: None,
                id: key,
            });
        }
        Ok(())
    }

    /// The network of the stack's reserved range, when it exists.
    async fn range_network(
        &self,
        ctx: &StackContext,
        project: &str,
        range: &str,
    ) -> Result<Option<String>, BackendError> {
        let found = crate::cloud::gcp::call::unless_gone(
            super::rest::call(
                &self.clients,
                ctx,
                "compute",
                reqwest::Method::GET,
                &format!("/compute/v1/projects/{project}/global/addresses/{range}"),
                None,
                "globalAddresses.get",
            )
            .await,
        )
        .map_err(super::rest::fail("compute", "reading the reserved range"))?;
        Ok(found
            .and_then(|a| text(&a, "/network"))
            .map(|n| last_segment(&n).to_owned()))
    }
}
