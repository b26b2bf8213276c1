//! Tearing a GKE stack down in order: the cluster (its node pools go with it), the
//! Cloud Router and NAT, the NAT addresses, the subnetwork, the network, the nodes'
//! account and roles, and the key's versions when asked. It goes on past what it
//! cannot remove and reports it; what is gone already counts as deleted. A network
//! the user gave is left alone.

use super::identity::{node_email, SERVICE_ACCOUNT};
use super::key::KMS_KEY;
use super::names;
use super::network::{fail, kind, record};
use super::GcpClusterBackend;
use crate::cloud::gcp::call::{gax, unless_gone, GcpFailure};
use crate::cloud::gcp::wait;
use crate::ports::cluster::TeardownRequest;
use crate::stack::{BackendError, ComponentRecord, LeftBehind, StackContext, Step, TeardownReport};

/// Attempts to delete a subnetwork or network GKE may still hold for a moment.
const IN_USE_TRIES: u32 = 6;

impl GcpClusterBackend {
    /// Tears the stack down (see the module docs).
    pub(super) async fn teardown(
        &self,
        ctx: &StackContext,
        req: &TeardownRequest,
    ) -> Step<TeardownReport> {
        let mut report = TeardownReport::default();
        let outcome = self.teardown_steps(ctx, req, &mut report).await;
        match outcome {
            Ok(()) => Step::done(report, Vec::new()),
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn teardown_steps(
        &self,
        ctx: &StackContext,
        req: &TeardownRequest,
        report: &mut TeardownReport,
    ) -> Result<(), BackendError> {
        let project = self.clients.project()?;
        let region = self.region()?;
        let stack = ctx.stack.clone();
        let mut note = |component: ComponentRecord, result: Result<bool, BackendError>| match result
        {
            Ok(true) => report.deleted.push(component),
            Ok(false) => {}
            Err(BackendError::Cancelled { during }) => report.left_behind.push(LeftBehind {
                component,
                reason: format!("stopped while {during}"),
            }),
            Err(e) => report.left_behind.push(LeftBehind {
                component,
                reason: e.to_string(),
            }),
        };

        let cluster = record("cluster", super::gke::CLUSTER, self.cluster_path(&stack)?);
        let r = self.delete_cluster(ctx, &stack).await;
        let cluster_left = r.is_err();
        note(cluster, r);
        ctx.checkpoint("tearing the stack down")?;

        if !req.keep_network && !cluster_left {
            let routers = self
                .clients
                .routers()
                .await
                .map_err(fail("removing Cloud NAT"))?;
            let router_name = names::router(&stack);
            let r = self
                .compute_delete(ctx, &project, "removing Cloud NAT", || {
                    routers
                        .delete()
                        .set_project(project.clone())
                        .set_region(region.clone())
                        .set_router(router_name.clone())
                        .send()
                })
                .await;
            note(record("router", kind::ROUTER, &router_name), r);

            let addresses = self
                .clients
                .addresses()
                .await
                .map_err(fail("releasing NAT addresses"))?;
            for i in 0..16 {
                let name = names::nat_address(&stack, i);
                let r = self
                    .compute_delete(ctx, &project, "releasing a NAT address", || {
                        addresses
                            .delete()
                            .set_project(project.clone())
                            .set_region(region.clone())
                            .set_address(name.clone())
                            .send()
                    })
                    .await;
                if matches!(r, Ok(false)) {
                    break;
                }
                note(
                    record(&format!("nat_address.{i}"), kind::NAT_ADDRESS, &name),
                    r,
                );
            }

            let subnetworks = self
                .clients
                .subnetworks()
                .await
                .map_err(fail("deleting the subnetwork"))?;
            let sub_name = names::subnetwork(&stack);
            let r = self
                .compute_delete_in_use(ctx, &project, "deleting the subnetwork", || {
                    subnetworks
                        .delete()
                        .set_project(project.clone())
                        .set_region(region.clone())
                        .set_subnetwork(sub_name.clone())
                        .send()
                })
                .await;
            note(record("subnetwork", kind::SUBNETWORK, &sub_name), r);

            let networks = self
                .clients
                .networks()
                .await
                .map_err(fail("deleting the network"))?;
            let net_name = names::network(&stack);
            let r = self
                .compute_delete_in_use(ctx, &project, "deleting the network", || {
                    networks
                        .delete()
                        .set_project(project.clone())
                        .set_network(net_name.clone())
                        .send()
                })
                .await;
            note(record("network", kind::NETWORK, &net_name), r);
        }

        let email = node_email(&stack, &project);
        let r = self.delete_identities(ctx).await.map(|()| true);
        note(record("service_account.nodes", SERVICE_ACCOUNT, &email), r);
        if req.delete_key {
            let r = self.destroy_key(ctx).await.map(|()| true);
            note(record("kms_key", KMS_KEY, self.key_name(ctx)?), r);
        }
        Ok(())
    }

    /// Deletes one Compute object and waits; `Ok(false)` when it was gone already.
    async fn compute_delete<F, Fut>(
        &self,
        ctx: &StackContext,
        project: &str,
        during: &'static str,
        send: F,
    ) -> Result<bool, BackendError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<
            Output = Result<
                google_cloud_compute_v1::model::Operation,
                google_cloud_gax::error::Error,
            >,
        >,
    {
        let op = unless_gone(gax(ctx, during, send).await).map_err(fail(during))?;
        match op {
            Some(op) => {
                wait::compute(&self.clients, ctx, project, &op, during).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Like [`Self::compute_delete`], trying again a few times while the object is
    /// still in use (GKE releases its network objects shortly after the cluster).
    async fn compute_delete_in_use<F, Fut>(
        &self,
        ctx: &StackContext,
        project: &str,
        during: &'static str,
        mut send: F,
    ) -> Result<bool, BackendError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<
            Output = Result<
                google_cloud_compute_v1::model::Operation,
                google_cloud_gax::error::Error,
            >,
        >,
    {
        let mut last: Option<GcpFailure> = None;
        for attempt in 0..IN_USE_TRIES {
            ctx.checkpoint(during)?;
            match unless_gone(gax(ctx, during, &mut send).await) {
                Ok(Some(op)) => {
                    wait::compute(&self.clients, ctx, project, &op, during).await?;
                    return Ok(true);
                }
                Ok(None) => return Ok(false),
                Err(f) if f.is_in_use() => {
                    last = Some(f);
                    tokio::time::sleep(std::time::Duration::from_secs(2u64 << attempt.min(4)))
                        .await;
                }
                Err(f) => return Err(fail(during)(f)),
            }
        }
        Err(last.map_or_else(
            || BackendError::Retryable {
                operation: during.to_owned(),
                message: "still in use".to_owned(),
            },
            fail(during),
        ))
    }
}
