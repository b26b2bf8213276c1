//! The nodes' identity on GCP: a dedicated service account with the minimum roles
//! nodes need (write logs and metrics, read images), instead of the Compute default
//! account's Editor. The control plane runs as GKE's own service agent; the cluster
//! autoscaler and the disk driver are GKE's and need no identity of paved's.

use serde_json::json;

use super::names;
use super::network::record;
use super::GcpClusterBackend;
use crate::cloud::gcp::call::{gax, model, unless_gone};
use crate::cloud::gcp::policy::PolicyOf;
use crate::ports::cluster::{IdentityRequest, IdentityState};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The service account's inventory kind.
pub const SERVICE_ACCOUNT: &str = "service_account";

/// The roles the nodes' account holds on the project.
pub const NODE_ROLES: &[&str] = &[
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/autoscaling.metricsWriter",
    "roles/artifactregistry.reader",
];

/// The e-mail of the nodes' account of `stack` in `project`.
pub fn node_email(stack: &str, project: &str) -> String {
    format!(
        "{}@{project}.iam.gserviceaccount.com",
        names::node_account(stack)
    )
}

/// GKE's service agent (the control plane's identity) of the project `number`.
pub fn gke_agent(number: &str) -> String {
    format!("service-{number}@container-engine-robot.iam.gserviceaccount.com")
}

impl GcpClusterBackend {
    /// Ensures the nodes' account and its roles.
    pub(super) async fn identities(
        &self,
        ctx: &StackContext,
        _req: &IdentityRequest,
    ) -> Step<IdentityState> {
        let mut made: Vec<ComponentRecord> = Vec::new();
        let result = async {
            let project = self.clients.project()?;
            let email = node_email(&ctx.stack, &project);
            let iam = self
                .clients
                .iam()
                .await
                .map_err(iam_fail("creating the nodes' account"))?;
            let name = format!("projects/{project}/serviceAccounts/{email}");
            let found = unless_gone(
                gax(ctx, "serviceAccounts.get", || {
                    iam.get_service_account().set_name(name.clone()).send()
                })
                .await,
            )
            .map_err(iam_fail("reading the nodes' account"))?;
            if found.is_none() {
                let request: google_cloud_iam_admin_v1::model::CreateServiceAccountRequest = model(
                    json!({
                        "name": format!("projects/{project}"),
                        "accountId": names::node_account(&ctx.stack),
                        "serviceAccount": {
                            "displayName": format!("paved {} nodes", ctx.stack),
                            "description": format!("Nodes of paved stack {}", ctx.stack),
                        }
                    }),
                    "the nodes' account",
                )?;
                let created = gax(ctx, "serviceAccounts.create", || {
                    iam.create_service_account()
                        .with_request(request.clone())
                        .send()
                })
                .await;
                match created {
                    Ok(_) => {}
                    Err(f) if f.is_already_exists() => {}
                    Err(f) => return Err(iam_fail("creating the nodes' account")(f)),
                }
            }
            made.push(record("service_account.nodes", SERVICE_ACCOUNT, &email));
            let member = format!("serviceAccount:{email}");
            let grants: Vec<(String, String)> = NODE_ROLES
                .iter()
                .map(|r| ((*r).to_owned(), member.clone()))
                .collect();
            self.clients
                .change_policy(
                    ctx,
                    &PolicyOf::Project(project.clone()),
                    &grants,
                    &[],
                    "granting the nodes' roles",
                )
                .await?;
            let number = self.clients.project_number(ctx).await?;
            Ok(IdentityState {
                control_plane_identity: gke_agent(&number),
                node_identity: email,
                autoscaler_identity: None,
                storage_driver_identity: None,
            })
        }
        .await;
        match result {
            Ok(state) => Step::done(state, made),
            Err(e) => Step::failed(e, made),
        }
    }

    /// Removes the nodes' roles and account (teardown). Gone counts as removed.
    pub(super) async fn delete_identities(&self, ctx: &StackContext) -> Result<(), BackendError> {
        let project = self.clients.project()?;
        let email = node_email(&ctx.stack, &project);
        let member = format!("serviceAccount:{email}");
        let revokes: Vec<(String, String)> = NODE_ROLES
            .iter()
            .map(|r| ((*r).to_owned(), member.clone()))
            .collect();
        self.clients
            .change_policy(
                ctx,
                &PolicyOf::Project(project.clone()),
                &[],
                &revokes,
                "revoking the nodes' roles",
            )
            .await?;
        let iam = self
            .clients
            .iam()
            .await
            .map_err(iam_fail("deleting the nodes' account"))?;
        let name = format!("projects/{project}/serviceAccounts/{email}");
        unless_gone(
            gax(ctx, "serviceAccounts.delete", || {
                iam.delete_service_account().set_name(name.clone()).send()
            })
            .await,
        )
        .map_err(iam_fail("deleting the nodes' account"))?;
        Ok(())
    }
}

/// Maps a failure of the IAM API during `what`.
fn iam_fail(what: &'static str) -> impl Fn(crate::cloud::gcp::call::GcpFailure) -> BackendError {
    move |f| f.into_backend_error("IAM", what)
}
