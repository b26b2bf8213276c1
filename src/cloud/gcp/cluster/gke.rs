//! The GKE control plane: a regional cluster (its control plane spread over the
//! region's zones), created with its node pools inline so that no default pool ever
//! exists; private nodes, the public IP endpoint off and the DNS endpoint on,
//! authorized networks from `endpoint_public_cidrs` (an empty list allows none: the
//! feature stays on), Workload Identity, Dataplane V2, shielded nodes, secrets
//! encrypted with the stack's key, the REGULAR release channel with a weekend
//! maintenance window, and control-plane logs mapped from the profile's log types.
//! Settings GKE changes in place are converged one update at a time (GKE runs one
//! operation per cluster); the version only moves by [`GcpClusterBackend::upgrade`].

use serde_json::{json, Value};

use super::common::gke_fail;
pub use super::common::minor_of;
use super::names;
use super::network::record;
use super::pools::pool_body;
use super::GcpClusterBackend;
use crate::cloud::gcp::call::{gax, model, unless_gone};
use crate::cloud::gcp::labels::labels;
use crate::cloud::gcp::wait::{self, text, view};
use crate::ports::cluster::{ControlPlaneRequest, ControlPlaneState};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The cluster's inventory kind.
pub const CLUSTER: &str = "cluster";

/// GKE's logging components for the profile's control-plane log types (EKS's
/// names: `api`, `audit`, `authenticator`, `controllerManager`, `scheduler`).
/// Audit logs are Cloud Audit Logs on GCP, always on; `authenticator` has no GKE
/// counterpart. Any log type turns on the system components' logs too.
pub fn log_components(types: &[String]) -> Vec<&'static str> {
    let mut out = Vec::new();
    if types.is_empty() {
        return out;
    }
    out.push("SYSTEM_COMPONENTS");
    for t in types {
        let c = match t.as_str() {
            "api" => "APISERVER",
            "controllerManager" => "CONTROLLER_MANAGER",
            "scheduler" => "SCHEDULER",
            _ => continue,
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The authorized networks block for `cidrs` (enabled even when empty: none allowed).
fn authorized(cidrs: &[String]) -> Value {
    json!({
        "enabled": true,
        "cidrBlocks": cidrs.iter().map(|c| json!({"cidrBlock": c, "displayName": "paved"})).collect::<Vec<_>>(),
        "gcpPublicCidrsAccessEnabled": false,
    })
}

/// A kubeconfig for the cluster that authenticates with gcloud's plugin.
fn kubeconfig(name: &str, endpoint: &str, ca: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {endpoint}\n    certificate-authority-data: {ca}\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\ncurrent-context: {name}\nusers:\n- name: {name}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: gke-gcloud-auth-plugin\n      provideClusterInfo: true\n      interactiveMode: Never\n"
    )
}

impl GcpClusterBackend {
    /// The cluster's full name.
    pub(super) fn cluster_path(&self, name: &str) -> Result<String, BackendError> {
        Ok(format!(
            "projects/{}/locations/{}/clusters/{name}",
            self.clients.project()?,
            self.region()?
        ))
    }

    /// The cluster `name` (JSON view), if it exists.
    pub(super) async fn get_cluster(
        &self,
        ctx: &StackContext,
        name: &str,
    ) -> Result<Option<Value>, BackendError> {
        let path = self.cluster_path(name)?;
        let c = self
            .clients
            .container()
            .await
            .map_err(gke_fail("reading the cluster"))?;
        unless_gone(
            gax(ctx, "clusters.get", || {
                c.get_cluster().set_name(path.clone()).send()
            })
            .await,
        )
        .map(|c| c.as_ref().map(cluster_view))
        .map_err(gke_fail("reading the cluster"))
    }

    /// The control plane's state, from the cluster's JSON view.
    pub(super) fn control_plane_state(
        &self,
        cluster: &Value,
    ) -> Result<ControlPlaneState, BackendError> {
        let project = self.clients.project()?;
        let region = self.region()?;
        let name = text(cluster, "/name").unwrap_or_default();
        let dns = text(
            cluster,
            "/controlPlaneEndpointsConfig/dnsEndpointConfig/endpoint",
        );
        let endpoint = match dns {
            Some(host) if !host.is_empty() => format!("https://{host}"),
            _ => format!("https://{}", text(cluster, "/endpoint").unwrap_or_default()),
        };
        let ca = text(cluster, "/masterAuth/clusterCaCertificate").unwrap_or_default();
        Ok(ControlPlaneState {
            id: format!("projects/{project}/locations/{region}/clusters/{name}"),
            kubeconfig: kubeconfig(&name, &endpoint, &ca),
            endpoint,
            certificate_authority: ca,
            oidc_issuer_url: format!(
                "https://container.googleapis.com/v1/projects/{project}/locations/{region}/clusters/{name}"
            ),
            workload_identity_provider: text(cluster, "/workloadIdentityConfig/workloadPool")
                .unwrap_or_else(|| format!("{project}.svc.id.goog")),
            kubernetes_version: minor_of(&text(cluster, "/currentMasterVersion").unwrap_or_default()),
            platform: "gke".to_owned(),
            location: region,
            account: project,
            status: text(cluster, "/status").unwrap_or_default(),
            admins: Some(Vec::new()),
        })
    }

    /// Ensures the control plane (see the module docs) and waits until it runs.
    pub(super) async fn control_plane(
        &self,
        ctx: &StackContext,
        req: &ControlPlaneRequest,
    ) -> Step<ControlPlaneState> {
        let mut made: Vec<ComponentRecord> = Vec::new();
        let result = self.control_plane_steps(ctx, req, &mut made).await;
        match result {
            Ok(state) => Step::done(state, made),
            Err(e) => Step::failed(e, made),
        }
    }

    async fn control_plane_steps(
        &self,
        ctx: &StackContext,
        req: &ControlPlaneRequest,
        made: &mut Vec<ComponentRecord>,
    ) -> Result<ControlPlaneState, BackendError> {
        if !req.admins.is_empty() {
            return Err(BackendError::Permanent {
                operation: "granting cluster-admin access".to_owned(),
                message: "cluster_admins is not applied on GKE by this release".to_owned(),
                hint: "Grant roles/container.clusterAdmin through IAM and remove cluster_admins"
                    .to_owned(),
            });
        }
        let project = self.clients.project()?;
        let region = self.region()?;
        let c = self
            .clients
            .container()
            .await
            .map_err(gke_fail("reaching GKE"))?;
        let path = self.cluster_path(&req.name)?;
        let mut cluster = self.get_cluster(ctx, &req.name).await?;
        if cluster.is_none() {
            let stack = &ctx.stack;
            let mut body = json!({
                "name": req.name,
                "description": format!("paved stack {stack}"),
                "resourceLabels": labels(&ctx.component_tags("cluster")),
                "network": if req.vpc_id.is_empty() { names::network(stack) } else { req.vpc_id.clone() },
                "subnetwork": req.subnet_ids.first().cloned().unwrap_or_else(|| names::subnetwork(stack)),
                "locations": req.zones,
                "ipAllocationPolicy": {
                    "useIpAliases": true,
                    "clusterSecondaryRangeName": names::PODS_RANGE,
                    "servicesSecondaryRangeName": names::SERVICES_RANGE,
                },
                "privateClusterConfig": {"enablePrivateNodes": true},
                "controlPlaneEndpointsConfig": {
                    "dnsEndpointConfig": {"allowExternalTraffic": true},
                    "ipEndpointsConfig": {
                        "enabled": true,
                        "enablePublicEndpoint": false,
                        "authorizedNetworksConfig": authorized(&req.public_access_cidrs),
                    },
                },
                "masterAuthorizedNetworksConfig": authorized(&req.public_access_cidrs),
                "workloadIdentityConfig": {"workloadPool": format!("{project}.svc.id.goog")},
                "networkConfig": {"datapathProvider": "ADVANCED_DATAPATH", "enableIntraNodeVisibility": true},
                "shieldedNodes": {"enabled": true},
                "databaseEncryption": {"state": "ENCRYPTED", "keyName": req.encryption_key},
                "releaseChannel": {"channel": "REGULAR"},
                "maintenancePolicy": {"window": {"recurringWindow": {
                    "window": {"startTime": "2024-01-06T02:00:00Z", "endTime": "2024-01-06T08:00:00Z"},
                    "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU",
                }}},
                "loggingConfig": {"componentConfig": {"enableComponents": log_components(&req.log_types)}},
                "addonsConfig": {
                    "gcePersistentDiskCsiDriverConfig": {"enabled": true},
                    "horizontalPodAutoscaling": {"disabled": false},
                    "httpLoadBalancing": {"disabled": false},
                },
                "autoscaling": {"autoscalingProfile": "BALANCED"},
                "nodePools": req.initial_node_pools.iter().map(|p| pool_body(ctx, p, req.zones.len())).collect::<Vec<_>>(),
            });
            if let Some(v) = &req.kubernetes_version {
                body["initialClusterVersion"] = json!(v);
            }
            let request: google_cloud_container_v1::model::CreateClusterRequest = model(
                json!({"parent": format!("projects/{project}/locations/{region}"), "cluster": body}),
                "the cluster",
            )?;
            let _one = self.ops.lock().await;
            let op = gax(ctx, "clusters.create", || {
                c.create_cluster().with_request(request.clone()).send()
            })
            .await;
            let op = match op {
                Ok(op) => Some(op),
                Err(f) if f.is_already_exists() => None,
                Err(f) => return Err(gke_fail("creating the cluster")(f)),
            };
            made.push(record("cluster", CLUSTER, &path));
            if let Some(op) = op {
                wait::container(
                    &self.clients,
                    ctx,
                    &project,
                    &region,
                    &op,
                    "creating the GKE cluster",
                )
                .await?;
            }
            cluster = self.get_cluster(ctx, &req.name).await?;
        } else {
            made.push(record("cluster", CLUSTER, &path));
            if let Some(current) = &cluster {
                if text(current, "/status").as_deref() == Some("PROVISIONING") {
                    self.wait_running(ctx, &req.name).await?;
                }
            }
        }
        let Some(mut current) = cluster else {
            return Err(BackendError::NotFound {
                what: format!("GKE cluster {}", req.name),
            });
        };
        // Settings GKE changes in place, one update each.
        let wanted_logs: Vec<String> = log_components(&req.log_types)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let have_logs: Vec<String> = current
            .pointer("/loggingConfig/componentConfig/enableComponents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let cidrs: Vec<String> = current
            .pointer("/masterAuthorizedNetworksConfig/cidrBlocks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|b| text(b, "/cidrBlock"))
            .collect();
        let mut updates = Vec::new();
        if sorted(have_logs) != sorted(wanted_logs.clone()) {
            updates.push(json!({"desiredLoggingConfig": {"componentConfig": {"enableComponents": wanted_logs}}}));
        }
        if sorted(cidrs) != sorted(req.public_access_cidrs.clone()) {
            updates.push(json!({"desiredMasterAuthorizedNetworksConfig": authorized(&req.public_access_cidrs)}));
        }
        for update in updates {
            self.update_cluster(ctx, &req.name, update, "changing the GKE cluster")
                .await?;
        }
        if !current.is_null() {
            current = self.get_cluster(ctx, &req.name).await?.unwrap_or(current);
        }
        self.control_plane_state(&current)
    }

    /// Sends one cluster update and waits for it.
    pub(super) async fn update_cluster(
        &self,
        ctx: &StackContext,
        name: &str,
        update: Value,
        during: &'static str,
    ) -> Result<(), BackendError> {
        let project = self.clients.project()?;
        let region = self.region()?;
        let c = self.clients.container().await.map_err(gke_fail(during))?;
        let request: google_cloud_container_v1::model::UpdateClusterRequest = model(
            json!({"name": self.cluster_path(name)?, "update": update}),
            "the cluster update",
        )?;
        let _one = self.ops.lock().await;
        let op = gax(ctx, "clusters.update", || {
            c.update_cluster().with_request(request.clone()).send()
        })
        .await
        .map_err(gke_fail(during))?;
        wait::container(&self.clients, ctx, &project, &region, &op, during).await
    }

    /// Waits until the cluster runs (after a create another apply started).
    async fn wait_running(&self, ctx: &StackContext, name: &str) -> Result<(), BackendError> {
        loop {
            ctx.checkpoint("waiting for the GKE cluster")?;
            let status = self
                .get_cluster(ctx, name)
                .await?
                .and_then(|c| text(&c, "/status"))
                .unwrap_or_default();
            match status.as_str() {
                "RUNNING" => return Ok(()),
                "ERROR" | "DEGRADED" => {
                    return Err(BackendError::Permanent {
                        operation: "waiting for the GKE cluster".to_owned(),
                        message: format!("the cluster is {status}"),
                        hint: "See the cluster's status message in the Cloud console".to_owned(),
                    })
                }
                _ => tokio::time::sleep(wait::OPERATION_POLL.start).await,
            }
        }
    }

    /// Upgrades the control plane to `to` (one minor step) and waits.
    pub(super) async fn upgrade(&self, ctx: &StackContext, to: &str) -> Step<ControlPlaneState> {
        let name = ctx.stack.clone();
        let result = async {
            let cluster =
                self.get_cluster(ctx, &name)
                    .await?
                    .ok_or_else(|| BackendError::NotFound {
                        what: format!("GKE cluster {name}"),
                    })?;
            if minor_of(&text(&cluster, "/currentMasterVersion").unwrap_or_default()) != to {
                self.update_cluster(
                    ctx,
                    &name,
                    json!({"desiredMasterVersion": to}),
                    "upgrading the control plane",
                )
                .await?;
            }
            let cluster = self.get_cluster(ctx, &name).await?.unwrap_or(cluster);
            self.control_plane_state(&cluster)
        }
        .await;
        let path = self.cluster_path(&name).unwrap_or_default();
        let made = vec![record("cluster", CLUSTER, path)];
        match result {
            Ok(s) => Step::done(s, made),
            Err(e) => Step::failed(e, made),
        }
    }

    /// Deletes the cluster (and with it its node pools) and waits until it is gone.
    pub(super) async fn delete_cluster(
        &self,
        ctx: &StackContext,
        name: &str,
    ) -> Result<bool, BackendError> {
        let project = self.clients.project()?;
        let region = self.region()?;
        let path = self.cluster_path(name)?;
        let c = self
            .clients
            .container()
            .await
            .map_err(gke_fail("deleting the cluster"))?;
        let _one = self.ops.lock().await;
        let op = unless_gone(
            gax(ctx, "clusters.delete", || {
                c.delete_cluster().set_name(path.clone()).send()
            })
            .await,
        )
        .map_err(gke_fail("deleting the cluster"))?;
        match op {
            Some(op) => {
                wait::container(
                    &self.clients,
                    ctx,
                    &project,
                    &region,
                    &op,
                    "deleting the GKE cluster",
                )
                .await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// A cluster's JSON view with the enums paved reads written as names (the
/// proto-built models write them as numbers): the cluster's and pools' status,
/// taint effects and the logging components.
pub(super) fn cluster_view(c: &google_cloud_container_v1::model::Cluster) -> Value {
    let name = |n: Option<&str>| Value::String(n.unwrap_or_default().to_owned());
    let mut v = view(c);
    v["status"] = name(c.status.name());
    if let Some(pools) = v.get_mut("nodePools").and_then(Value::as_array_mut) {
        for (json, pool) in pools.iter_mut().zip(&c.node_pools) {
            json["status"] = name(pool.status.name());
            if let (Some(taints), Some(config)) = (
                json.pointer_mut("/config/taints")
                    .and_then(Value::as_array_mut),
                pool.config.as_ref(),
            ) {
                for (t, typed) in taints.iter_mut().zip(&config.taints) {
                    t["effect"] = name(typed.effect.name());
                }
            }
        }
    }
    if let Some(components) = c
        .logging_config
        .as_ref()
        .and_then(|l| l.component_config.as_ref())
    {
        v["loggingConfig"]["componentConfig"]["enableComponents"] = Value::Array(
            components
                .enable_components
                .iter()
                .map(|x| name(x.name()))
                .collect(),
        );
    }
    v
}

/// A list sorted, for comparing as sets.
fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eks_log_types_map_to_gke_components() {
        let types: Vec<String> = [
            "api",
            "audit",
            "authenticator",
            "controllerManager",
            "scheduler",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            log_components(&types),
            vec![
                "SYSTEM_COMPONENTS",
                "APISERVER",
                "CONTROLLER_MANAGER",
                "SCHEDULER"
            ]
        );
        assert!(log_components(&[]).is_empty());
        assert_eq!(minor_of("1.31.5-gke.1000000"), "1.31");
    }

    #[test]
    fn no_cidrs_keeps_authorized_networks_on_with_none_allowed() {
        let a = authorized(&[]);
        assert_eq!(a["enabled"], true);
        assert_eq!(a["cidrBlocks"], json!([]));
    }
}
