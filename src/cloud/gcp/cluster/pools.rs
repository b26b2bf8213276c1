//! GKE node pools: spread over the cluster's zones, autoscaled by GKE between the
//! pool's total minimum and maximum (the autoscaler owns the size: paved never sets
//! it), shielded nodes with secure boot, the GKE metadata server for Workload
//! Identity, the nodes' own service account. Changes GKE makes in place (bounds,
//! labels, taints, machine type, disk size, version) are sent one update at a time;
//! a change between spot and on-demand makes a new pool (its name carries the
//! capacity, see [`names::node_pool`]), created before the old one is deleted.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::common::{gke_fail, minor_of};
use super::names;
use super::network::record;
use super::GcpClusterBackend;
use crate::cloud::gcp::call::{gax, model, unless_gone};
use crate::cloud::gcp::labels::labels;
use crate::cloud::gcp::wait::{self, text};
use crate::ports::cluster::{Capacity, NodePoolRequest, NodePoolState, Taint, POOL_LABEL};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The node pool's inventory kind.
pub const NODE_POOL: &str = "node_pool";

/// GKE's word for a taint effect.
fn effect_to_gke(effect: &str) -> &'static str {
    match effect {
        "NoExecute" => "NO_EXECUTE",
        "PreferNoSchedule" => "PREFER_NO_SCHEDULE",
        _ => "NO_SCHEDULE",
    }
}

/// Kubernetes' word for a GKE taint effect.
fn effect_from_gke(effect: &str) -> String {
    match effect {
        "NO_EXECUTE" => "NoExecute",
        "PREFER_NO_SCHEDULE" => "PreferNoSchedule",
        _ => "NoSchedule",
    }
    .to_owned()
}

/// The taints in GKE's form.
fn taints(req: &NodePoolRequest) -> Vec<Value> {
    req.taints
        .iter()
        .map(|t| json!({"key": t.key, "value": t.value.clone().unwrap_or_default(), "effect": effect_to_gke(&t.effect)}))
        .collect()
}

/// The node label keeping the instance type as the configuration wrote it, when
/// paved translated it to a machine type (so that a refresh reads back what was
/// asked, not its translation).
const ASKED_TYPE_LABEL: &str = "paved.dev/instance-type";

/// The node labels: the user's and the pool's own.
fn node_labels(req: &NodePoolRequest) -> BTreeMap<String, String> {
    let mut l = req.labels.clone();
    l.insert(POOL_LABEL.to_owned(), req.name.clone());
    if let Some(asked) = req.instance_types.first().filter(|t| t.contains('.')) {
        l.insert(ASKED_TYPE_LABEL.to_owned(), asked.clone());
    }
    l
}

/// The pool's machine type (GKE takes one per pool: the first preference). An
/// AWS-style type (the profiles' defaults, `m6i.large`) becomes the GCP machine of
/// the same size and kind: general purpose `n2-standard`, compute `n2-highcpu`,
/// memory `n2-highmem`, burstable `e2-standard`, with the vCPUs of its size.
fn machine_type(req: &NodePoolRequest) -> String {
    translated(
        req.instance_types
            .first()
            .map_or("e2-standard-4", String::as_str),
    )
}

/// The GCP machine type for instance type `first` (see [`machine_type`]).
fn translated(first: &str) -> String {
    let first = first.to_owned();
    let Some((family, size)) = first.split_once('.') else {
        return first;
    };
    let vcpus: u32 = match size {
        "nano" | "micro" | "small" | "medium" => return "e2-medium".to_owned(),
        "large" => 2,
        "xlarge" => 4,
        "metal" => 96,
        other => other
            .strip_suffix("xlarge")
            .and_then(|n| n.parse::<u32>().ok())
            .map_or(4, |n| (n * 4).min(128)),
    };
    let series = match family.chars().next() {
        Some('c') => "n2-highcpu",
        Some('r') | Some('x') => "n2-highmem",
        Some('t') => "e2-standard",
        _ => "n2-standard",
    };
    let vcpus = if series == "e2-standard" {
        vcpus.clamp(2, 32)
    } else {
        vcpus.max(2)
    };
    format!("{series}-{vcpus}")
}

/// The node pool body for `req` in a cluster spread over `zones` zones.
pub(super) fn pool_body(ctx: &StackContext, req: &NodePoolRequest, zones: usize) -> Value {
    let per_zone = if zones == 0 {
        req.min_size
    } else {
        req.min_size.div_ceil(zones as u32)
    };
    let mut body = json!({
        "name": names::node_pool(&req.name, req.capacity),
        "initialNodeCount": per_zone,
        "config": {
            "machineType": machine_type(req),
            "diskSizeGb": req.disk_size_gb,
            "diskType": "pd-balanced",
            "imageType": "COS_CONTAINERD",
            "labels": node_labels(req),
            "taints": taints(req),
            "spot": req.capacity == Capacity::Spot,
            "serviceAccount": req.node_identity,
            "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "shieldedInstanceConfig": {"enableSecureBoot": true, "enableIntegrityMonitoring": true},
            "workloadMetadataConfig": {"mode": "GKE_METADATA"},
            "resourceLabels": labels(&ctx.component_tags(&format!("node_pool.{}", req.name))),
        },
        "autoscaling": {
            "enabled": true,
            "totalMinNodeCount": req.min_size,
            "totalMaxNodeCount": req.max_size,
            "locationPolicy": if req.capacity == Capacity::Spot { "ANY" } else { "BALANCED" },
        },
        "management": {"autoUpgrade": true, "autoRepair": true},
        "upgradeSettings": {"maxSurge": 1, "maxUnavailable": 0},
    });
    if !req.kubernetes_version.is_empty() {
        body["version"] = json!(req.kubernetes_version);
    }
    body
}

/// A pool's state from its JSON view; `None` for a pool that is not paved's.
pub(super) fn pool_state(pool: &Value) -> Option<NodePoolState> {
    let mut labels: BTreeMap<String, String> = pool
        .pointer("/config/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect();
    let name = labels.remove(POOL_LABEL)?;
    let asked = labels.remove(ASKED_TYPE_LABEL);
    let number = |p: &str| {
        pool.pointer(p)
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0)
    };
    Some(NodePoolState {
        name,
        id: text(pool, "/name").unwrap_or_default(),
        launch_template_id: String::new(),
        status: text(pool, "/status").unwrap_or_default(),
        kubernetes_version: minor_of(&text(pool, "/version").unwrap_or_default()),
        instance_types: match (asked, text(pool, "/config/machineType")) {
            (Some(asked), Some(machine)) if machine == translated(&asked) => vec![asked],
            (_, machine) => machine.into_iter().collect(),
        },
        capacity: if pool.pointer("/config/spot").and_then(Value::as_bool) == Some(true) {
            Capacity::Spot
        } else {
            Capacity::OnDemand
        },
        min_size: number("/autoscaling/totalMinNodeCount"),
        max_size: number("/autoscaling/totalMaxNodeCount"),
        labels,
        taints: pool
            .pointer("/config/taints")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| Taint {
                key: text(t, "/key").unwrap_or_default(),
                value: text(t, "/value").filter(|v| !v.is_empty()),
                effect: effect_from_gke(&text(t, "/effect").unwrap_or_default()),
            })
            .collect(),
    })
}

impl GcpClusterBackend {
    /// The cluster's pools (JSON views).
    async fn pools(&self, ctx: &StackContext) -> Result<Vec<Value>, BackendError> {
        Ok(self
            .get_cluster(ctx, &ctx.stack)
            .await?
            .and_then(|c| c.get("nodePools").and_then(Value::as_array).cloned())
            .unwrap_or_default())
    }

    /// Runs one node pool operation (`send` starts it) and waits for it.
    async fn pool_op<F, Fut>(
        &self,
        ctx: &StackContext,
        during: &'static str,
        send: F,
    ) -> Result<(), BackendError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<
            Output = Result<
                google_cloud_container_v1::model::Operation,
                google_cloud_gax::error::Error,
            >,
        >,
    {
        let project = self.clients.project()?;
        let region = self.region()?;
        let _one = self.ops.lock().await;
        let op = gax(ctx, during, send).await.map_err(gke_fail(during))?;
        wait::container(&self.clients, ctx, &project, &region, &op, during).await
    }

    /// Ensures pool `req` (creating it when missing, replacing a pool of the other
    /// capacity) and returns its state.
    pub(super) async fn ensure_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState> {
        let key = format!("node_pool.{}", req.name);
        let mut made: Vec<ComponentRecord> = Vec::new();
        let result = async {
            let wanted = names::node_pool(&req.name, req.capacity);
            let path = self.cluster_path(&ctx.stack)?;
            let pools = self.pools(ctx).await?;
            let mine: Vec<&Value> = pools
                .iter()
                .filter(|p| pool_state(p).is_some_and(|s| s.name == req.name))
                .collect();
            let c = self
                .clients
                .container()
                .await
                .map_err(gke_fail("reaching GKE"))?;
            if !mine
                .iter()
                .any(|p| text(p, "/name").as_deref() == Some(wanted.as_str()))
            {
                let zones = self.get_cluster(ctx, &ctx.stack).await?.and_then(|c| {
                    c.get("locations")
                        .and_then(Value::as_array)
                        .map(|l| l.len())
                });
                let mut body = pool_body(ctx, req, zones.unwrap_or(0));
                if let Some(o) = body.as_object_mut() {
                    o.remove("version");
                }
                let request: google_cloud_container_v1::model::CreateNodePoolRequest =
                    model(json!({"parent": path, "nodePool": body}), "the node pool")?;
                self.pool_op(ctx, "creating a node pool", || {
                    c.create_node_pool().with_request(request.clone()).send()
                })
                .await?;
            }
            made.push(record(
                &key,
                NODE_POOL,
                format!("{path}/nodePools/{wanted}"),
            ));
            // The pool of the other capacity, replaced: the new one exists now.
            for old in mine {
                let Some(old_name) = text(old, "/name").filter(|n| *n != wanted) else {
                    continue;
                };
                let old_path = format!("{path}/nodePools/{old_name}");
                self.pool_op(ctx, "deleting the replaced node pool", || {
                    c.delete_node_pool().set_name(old_path.clone()).send()
                })
                .await?;
            }
            self.pool_now(ctx, &req.name).await
        }
        .await;
        match result {
            Ok(s) => Step::done(s, made),
            Err(e) => Step::failed(e, made),
        }
    }

    /// The state of pool `name` as GKE shows it now.
    async fn pool_now(
        &self,
        ctx: &StackContext,
        name: &str,
    ) -> Result<NodePoolState, BackendError> {
        self.pools(ctx)
            .await?
            .iter()
            .filter_map(pool_state)
            .find(|s| s.name == name)
            .ok_or_else(|| BackendError::NotFound {
                what: format!("node pool {name}"),
            })
    }

    /// Updates pool `req` in place, one GKE update per changed setting.
    pub(super) async fn update_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState> {
        let key = format!("node_pool.{}", req.name);
        let mut made: Vec<ComponentRecord> = Vec::new();
        let result = async {
            let pools = self.pools(ctx).await?;
            let Some(current) = pools.iter().find(|p| pool_state(p).is_some_and(|s| s.name == req.name)) else {
                return Err(BackendError::NotFound {
                    what: format!("node pool {}", req.name),
                });
            };
            let state = pool_state(current).ok_or_else(|| BackendError::NotFound {
                what: format!("node pool {}", req.name),
            })?;
            let gke_name = text(current, "/name").unwrap_or_default();
            if state.capacity != req.capacity {
                drop(pools);
                return self.ensure_pool(ctx, req).await.result;
            }
            let path = format!("{}/nodePools/{gke_name}", self.cluster_path(&ctx.stack)?);
            made.push(record(&key, NODE_POOL, &path));
            let c = self.clients.container().await.map_err(gke_fail("reaching GKE"))?;
            if state.min_size != req.min_size || state.max_size != req.max_size {
                let request: google_cloud_container_v1::model::SetNodePoolAutoscalingRequest = model(
                    json!({"name": path, "autoscaling": {
                        "enabled": true,
                        "totalMinNodeCount": req.min_size,
                        "totalMaxNodeCount": req.max_size,
                        "locationPolicy": if req.capacity == Capacity::Spot { "ANY" } else { "BALANCED" },
                    }}),
                    "the pool's bounds",
                )?;
                self.pool_op(ctx, "changing the pool's bounds", || {
                    c.set_node_pool_autoscaling().with_request(request.clone()).send()
                })
                .await?;
            }
            let mut updates = Vec::new();
            if state.labels != req.labels {
                updates.push(json!({"labels": {"labels": node_labels(req)}}));
            }
            if state.taints != req.taints {
                updates.push(json!({"taints": {"taints": taints(req)}}));
            }
            if text(current, "/config/machineType") != Some(machine_type(req)) {
                updates.push(json!({"machineType": machine_type(req)}));
            }
            let disk = current
                .pointer("/config/diskSizeGb")
                .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
            if disk != Some(u64::from(req.disk_size_gb)) {
                updates.push(json!({"diskSizeGb": req.disk_size_gb}));
            }
            if !req.kubernetes_version.is_empty() && state.kubernetes_version != req.kubernetes_version {
                updates.push(json!({"nodeVersion": req.kubernetes_version}));
            }
            for mut update in updates {
                update["name"] = json!(path);
                let request: google_cloud_container_v1::model::UpdateNodePoolRequest =
                    model(update, "the pool update")?;
                self.pool_op(ctx, "changing a node pool", || {
                    c.update_node_pool().with_request(request.clone()).send()
                })
                .await?;
            }
            self.pool_now(ctx, &req.name).await
        }
        .await;
        match result {
            Ok(s) => Step::done(s, made),
            Err(e) => Step::failed(e, made),
        }
    }

    /// Deletes every GKE pool standing for pool `name`.
    pub(super) async fn delete_pool(&self, ctx: &StackContext, name: &str) -> Step<()> {
        let result = async {
            let path = self.cluster_path(&ctx.stack)?;
            let c = self
                .clients
                .container()
                .await
                .map_err(gke_fail("reaching GKE"))?;
            for pool in self.pools(ctx).await? {
                if pool_state(&pool).is_none_or(|s| s.name != name) {
                    continue;
                }
                let Some(gke_name) = text(&pool, "/name") else {
                    continue;
                };
                let pool_path = format!("{path}/nodePools/{gke_name}");
                let gone = unless_gone(
                    gax(ctx, "nodePools.delete", || {
                        c.delete_node_pool().set_name(pool_path.clone()).send()
                    })
                    .await,
                );
                if let Some(op) = gone.map_err(gke_fail("deleting a node pool"))? {
                    let project = self.clients.project()?;
                    let region = self.region()?;
                    wait::container(
                        &self.clients,
                        ctx,
                        &project,
                        &region,
                        &op,
                        "deleting a node pool",
                    )
                    .await?;
                }
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => Step::done((), Vec::new()),
            Err(e) => Step::failed(e, Vec::new()),
        }
    }
}

/// A pool's JSON view, for reading what a cluster listing holds.
pub(super) fn pools_of(cluster: &Value) -> Vec<NodePoolState> {
    cluster
        .get("nodePools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(pool_state)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_style_types_become_machines_of_the_same_size() {
        let pool = |t: &str| NodePoolRequest {
            name: "p".into(),
            instance_types: vec![t.into()],
            capacity: Capacity::OnDemand,
            min_size: 1,
            max_size: 1,
            disk_size_gb: 50,
            labels: BTreeMap::new(),
            taints: Vec::new(),
            subnet_ids: Vec::new(),
            node_identity: String::new(),
            kubernetes_version: String::new(),
        };
        assert_eq!(machine_type(&pool("m6i.large")), "n2-standard-2");
        assert_eq!(machine_type(&pool("c6i.2xlarge")), "n2-highcpu-8");
        assert_eq!(machine_type(&pool("r6i.xlarge")), "n2-highmem-4");
        assert_eq!(machine_type(&pool("t3.medium")), "e2-medium");
        assert_eq!(machine_type(&pool("n2-standard-8")), "n2-standard-8");
    }

    #[test]
    fn a_pool_reads_back_as_it_was_asked() {
        let ctx = crate::stack::StackContext {
            stack: "shop".into(),
            resource_type: "paved_ha_cluster",
            tags: BTreeMap::new(),
            cancel: tokio_util::sync::CancellationToken::new(),
            deadline: None,
        };
        let req = NodePoolRequest {
            name: "batch".into(),
            instance_types: vec!["n2-standard-8".into()],
            capacity: Capacity::Spot,
            min_size: 3,
            max_size: 9,
            disk_size_gb: 100,
            labels: BTreeMap::from([("team".to_string(), "data".to_string())]),
            taints: vec![Taint {
                key: "batch".into(),
                value: Some("true".into()),
                effect: "NoSchedule".into(),
            }],
            subnet_ids: Vec::new(),
            node_identity: "n@p.iam.gserviceaccount.com".into(),
            kubernetes_version: "1.31".into(),
        };
        let mut body = pool_body(&ctx, &req, 3);
        assert_eq!(body["name"], "batch-spot");
        assert_eq!(body["initialNodeCount"], 1);
        assert_eq!(body["config"]["taints"][0]["effect"], "NO_SCHEDULE");
        body["version"] = json!("1.31.5-gke.1");
        let state = pool_state(&body).expect("paved's pool");
        assert_eq!(state.name, "batch");
        assert_eq!(state.capacity, Capacity::Spot);
        assert_eq!((state.min_size, state.max_size), (3, 9));
        assert_eq!(state.labels, req.labels);
        assert_eq!(state.taints, req.taints);
        assert_eq!(state.kubernetes_version, "1.31");
    }
}
