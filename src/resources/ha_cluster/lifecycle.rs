//! Driving a [`ClusterBackend`] through a create or an update, in dependency order
//! with independent parts side by side: network; key and roles together; control
//! plane; a version upgrade one minor at a time; the autoscaler role (it needs the
//! OIDC provider); then every node pool concurrently, and pools no longer wanted
//! removed. Every step's components are recorded in [`Observed`] even when the step
//! fails, so the caller can return them as partial state.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;

use crate::stack::{BackendError, Knowable, StackContext, Step};

use crate::ports::cluster::{
    AddonRequest, AddonsRequest, ClusterBackend, ClusterShape, ControlPlaneRequest,
    IdentityRequest, IdentityState, NetworkRequest, NodePoolRequest, PoolShape, Taint, ZoneChoice,
};

use super::config::{ClusterSpec, EncryptionKey, KubernetesVersion, NetworkMode};
use super::inventory::shape;
use super::kubernetes::{group_access, ADDONS, STORAGE_DRIVER_ADDON};
use super::state::Observed;
use crate::ports::key::EncryptionKeyRequest;
use crate::ports::network::Tier;
use crate::stack::resource::known;

/// Records a step's components in `observed` and returns its result.
fn record<T>(observed: &mut Observed, step: Step<T>) -> Result<T, BackendError> {
    observed.absorb(step.components);
    step.result
}

/// The network request the spec stands for.
pub fn network_request(spec: &ClusterSpec) -> Result<NetworkRequest, BackendError> {
    let zones = match known(&spec.zones, "zones")? {
        Some(zones) => ZoneChoice::Named(zones),
        None => ZoneChoice::Choose(known(&spec.zone_count, "zone_count")?),
    };
    match known(&spec.network.mode, "network")? {
        NetworkMode::Build => {
            let cidr = known(&spec.network.cidr, "network.cidr")?.ok_or_else(|| {
                BackendError::Permanent {
                    operation: "reading the configuration".to_owned(),
                    message: "network.cidr is not set".to_owned(),
                    hint: "Set network.cidr".to_owned(),
                }
            })?;
            Ok(NetworkRequest::Build {
                cidr,
                zones,
                nat: known(&spec.network.nat, "network.nat_mode")?,
            })
        }
        NetworkMode::Existing { vpc_id } => {
            let vpc_id = known(&vpc_id, "network.existing_vpc_id")?;
            let subnets = known(
                &spec.network.existing_subnet_ids,
                "network.existing_subnet_ids",
            )?
            .unwrap_or_default();
            let subnet_ids = subnets
                .into_iter()
                .filter_map(|(tier, ids)| Tier::parse(&tier).map(|t| (t, ids)))
                .collect();
            Ok(NetworkRequest::Existing {
                vpc_id,
                subnet_ids,
                zones,
            })
        }
    }
}

/// Subnet ids of a tier in zone order.
fn tier_subnets(observed: &Observed, tier: Tier) -> Vec<String> {
    let Some(net) = &observed.network else {
        return Vec::new();
    };
    let Some(by_zone) = net.subnet_ids.get(&tier) else {
        return Vec::new();
    };
    let mut ordered: Vec<String> = net
        .zones
        .iter()
        .filter_map(|z| by_zone.get(z).cloned())
        .collect();
    for (zone, id) in by_zone {
        if !net.zones.contains(zone) {
            ordered.push(id.clone());
        }
    }
    ordered
}

/// The minor versions from `from` up to `to`, one step each (`1.29` → `1.31`:
/// `1.30`, `1.31`). Empty when `to` is not newer.
pub fn upgrade_path(from: &str, to: &str) -> Vec<String> {
    match (KubernetesVersion::parse(from), KubernetesVersion::parse(to)) {
        (Some(f), Some(t)) if f.major == t.major && t.minor > f.minor => ((f.minor + 1)..=t.minor)
            .map(|m| format!("{}.{m}", t.major))
            .collect(),
        _ => Vec::new(),
    }
}

/// The node pool requests of the spec: spread over the private subnets, running as
/// `node_identity`, at `version`.
fn pool_requests(
    spec: &ClusterSpec,
    observed: &Observed,
    node_identity: &str,
    version: &str,
) -> Result<Vec<NodePoolRequest>, BackendError> {
    let private = tier_subnets(observed, Tier::Private);
    let mut requests = Vec::new();
    for (pool_name, pool) in &known(&spec.node_pools, "node_pools")? {
        let taints = known(&pool.taints, "taints")?
            .into_iter()
            .map(|t| {
                Ok(Taint {
                    key: known(&t.key, "taint key")?,
                    value: known(&t.value, "taint value")?,
                    effect: known(&t.effect, "taint effect")?,
                })
            })
            .collect::<Result<Vec<_>, BackendError>>()?;
        requests.push(NodePoolRequest {
            name: pool_name.clone(),
            instance_types: known(&pool.instance_types, "instance_types")?,
            capacity: known(&pool.capacity, "capacity")?,
            min_size: known(&pool.min_size, "min_size")?,
            max_size: known(&pool.max_size, "max_size")?,
            disk_size_gb: known(&pool.disk_size_gb, "disk_size_gb")?,
            labels: known(&pool.labels, "labels")?,
            taints,
            subnet_ids: private.clone(),
            node_identity: node_identity.to_owned(),
            kubernetes_version: version.to_owned(),
        });
    }
    Ok(requests)
}

/// Creates or updates the stack to match `spec`; `prior` is the spec of the state
/// before an update. What exists is in `observed` whatever the outcome.
pub async fn converge(
    backend: &dyn ClusterBackend,
    ctx: &StackContext,
    spec: &ClusterSpec,
    prior: Option<&ClusterSpec>,
    observed: &mut Observed,
) -> Result<(), BackendError> {
    let network = record(
        observed,
        backend.ensure_network(ctx, &network_request(spec)?).await,
    )?;
    observed.network = Some(network);

    let key_request = match known(&spec.encryption_key, "encryption_key_arn")? {
        EncryptionKey::Provided(arn) => EncryptionKeyRequest::Provided { id: arn },
        EncryptionKey::Created { .. } => EncryptionKeyRequest::Create,
    };
    let (key, iam) = futures::join!(
        backend.ensure_encryption_key(ctx, &key_request),
        backend.ensure_identities(
            ctx,
            &IdentityRequest {
                workload_identity_provider: None
            }
        )
    );
    let key = record(observed, key);
    let iam = record(observed, iam);
    let (key, iam) = (key?, iam?);
    observed.key = Some(key.clone());
    observed.iam = Some(iam.clone());

    let logging = &spec.control_plane_logging;
    let mut control_plane_subnets = tier_subnets(observed, Tier::Isolated);
    if control_plane_subnets.is_empty() {
        control_plane_subnets = tier_subnets(observed, Tier::Private);
    }
    let name = known(&spec.name, "name")?;
    let cp_request = ControlPlaneRequest {
        name: name.clone(),
        kubernetes_version: known(&spec.kubernetes_version, "kubernetes_version")?,
        vpc_id: observed
            .network
            .as_ref()
            .map(|n| n.vpc_id.clone())
            .unwrap_or_default(),
        subnet_ids: control_plane_subnets,
        public_access_cidrs: known(&spec.endpoint_public_cidrs, "endpoint_public_cidrs")?,
        encryption_key: key.id.clone(),
        control_plane_identity: iam.control_plane_identity.clone(),
        log_types: known(&logging.types, "control_plane_logging.types")?,
        log_retention_days: known(
            &logging.retention_days,
            "control_plane_logging.retention_days",
        )?,
        admins: known(&spec.cluster_admins, "cluster_admins")?,
        zones: observed
            .network
            .as_ref()
            .map(|n| n.zones.clone())
            .unwrap_or_default(),
        initial_node_pools: if prior.is_none() {
            let version =
                known(&spec.kubernetes_version, "kubernetes_version")?.unwrap_or_default();
            pool_requests(spec, observed, &iam.node_identity, &version)?
        } else {
            Vec::new()
        },
    };
    let mut cp = record(
        observed,
        backend.ensure_control_plane(ctx, &cp_request).await,
    )?;
    observed.control_plane = Some(cp.clone());

    if let (Some(_), Some(wanted)) = (prior, cp_request.kubernetes_version.as_deref()) {
        for step in upgrade_path(&cp.kubernetes_version, wanted) {
            cp = record(observed, backend.upgrade_control_plane(ctx, &step).await)?;
            observed.control_plane = Some(cp.clone());
        }
    }

    let iam = record(
        observed,
        backend
            .ensure_identities(
                ctx,
                &IdentityRequest {
                    workload_identity_provider: Some(cp.workload_identity_provider.clone()),
                },
            )
            .await,
    )?;
    observed.iam = Some(iam.clone());

    let pools = known(&spec.node_pools, "node_pools")?;
    let prior_pools: BTreeMap<String, _> = prior
        .and_then(|p| p.node_pools.known().cloned())
        .unwrap_or_default();
    // An upgrade moves the add-ons right after the control plane, before the
    // pools; a new cluster gets them once its nodes exist (coredns needs nodes).
    let addons_first = prior.is_some() && pools.keys().all(|n| prior_pools.contains_key(n));
    if addons_first {
        converge_addons(backend, ctx, spec, &cp.kubernetes_version, &iam, observed).await?;
    }
    let requests = pool_requests(spec, observed, &iam.node_identity, &cp.kubernetes_version)?;
    let existing = &prior_pools;
    let steps = join_all(requests.iter().map(|req| async move {
        if !existing.contains_key(&req.name) {
            return backend.ensure_node_pool(ctx, req).await;
        }
        let step = backend.update_node_pool(ctx, req).await;
        // A pool the prior state lists but the cloud lacks (a create cut short
        // before the pool was made, or a pool deleted outside paved) is created.
        // What the failed update found is found again by the create.
        if matches!(step.result, Err(BackendError::NotFound { .. })) {
            return backend.ensure_node_pool(ctx, req).await;
        }
        step
    }))
    .await;
    let mut first_error = None;
    for step in steps {
        match record(observed, step) {
            Ok(state) => {
                observed.node_pools.insert(state.name.clone(), state);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    for gone in prior_pools.keys().filter(|n| !pools.contains_key(*n)) {
        record(observed, backend.delete_node_pool(ctx, gone).await)?;
        for key in pool_keys(backend, spec, gone) {
            observed.components.remove(&key);
        }
    }
    if !addons_first {
        converge_addons(backend, ctx, spec, &cp.kubernetes_version, &iam, observed).await?;
    }
    converge_group_access(backend, ctx, spec, prior, observed).await
}

/// The inventory keys of node pool `name` on `backend`: what its adapter lists for
/// the stack with that pool and not without it (its launch template and node group
/// on AWS, its node pool on GCP). Empty when the adapter cannot tell (a setting it
/// lists from is unknown).
fn pool_keys(backend: &dyn ClusterBackend, spec: &ClusterSpec, name: &str) -> Vec<String> {
    let keys = |pools: Vec<PoolShape>| -> BTreeSet<String> {
        let shape = ClusterShape {
            pools: Knowable::Known(pools),
            ..shape(spec)
        };
        let listed = backend.components(&shape).into_option();
        listed.into_iter().flatten().map(|c| c.key).collect()
    };
    let pool = PoolShape {
        name: name.to_owned(),
        capacity: Knowable::Unknown,
        instance_types: Knowable::Unknown,
        min_size: Knowable::Unknown,
        disk_size_gb: Knowable::Unknown,
    };
    let without = keys(Vec::new());
    keys(vec![pool]).difference(&without).cloned().collect()
}

/// Ensures the managed add-ons at the versions for `version` (the storage driver
/// with its identity). Turned off, paved stops managing them and leaves them
/// installed: removing vpc-cni or coredns would break the cluster.
async fn converge_addons(
    backend: &dyn ClusterBackend,
    ctx: &StackContext,
    spec: &ClusterSpec,
    version: &str,
    iam: &IdentityState,
    observed: &mut Observed,
) -> Result<(), BackendError> {
    if !known(&spec.kubernetes.addons, "baseline.addons")? {
        observed.addons = Some(BTreeMap::new());
        return Ok(());
    }
    let request = AddonsRequest {
        kubernetes_version: version.to_owned(),
        addons: ADDONS
            .iter()
            .map(|name| AddonRequest {
                name: (*name).to_owned(),
                version: None,
                identity: (*name == STORAGE_DRIVER_ADDON)
                    .then(|| iam.storage_driver_identity.clone())
                    .flatten(),
            })
            .collect(),
    };
    let addons = record(observed, backend.ensure_addons(ctx, &request).await)?;
    observed.addons = Some(addons.into_iter().map(|a| (a.name, a.version)).collect());
    Ok(())
}

/// Grants the teams' and platform admins' identities their groups, and revokes
/// what paved granted before and is no longer listed. No call when neither the
/// spec nor the prior one grants anything.
async fn converge_group_access(
    backend: &dyn ClusterBackend,
    ctx: &StackContext,
    spec: &ClusterSpec,
    prior: Option<&ClusterSpec>,
    observed: &mut Observed,
) -> Result<(), BackendError> {
    let access = known(&group_access(&spec.kubernetes), "teams")?;
    let granted_before = prior
        .and_then(|p| group_access(&p.kubernetes).into_option())
        .is_some_and(|a| !a.is_empty());
    if access.is_empty() && !granted_before {
        observed.group_access = Some(Vec::new());
        return Ok(());
    }
    let granted = record(observed, backend.ensure_group_access(ctx, &access).await)?;
    observed.group_access = Some(granted);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrades_go_one_minor_at_a_time() {
        assert_eq!(upgrade_path("1.29", "1.31"), vec!["1.30", "1.31"]);
        assert_eq!(upgrade_path("1.30", "1.31"), vec!["1.31"]);
        assert!(upgrade_path("1.31", "1.31").is_empty());
        assert!(upgrade_path("1.31", "1.30").is_empty());
    }

    #[test]
    fn a_pools_components_are_the_ones_its_cloud_lists_for_it() {
        use paved_value::Value;
        let config = Value::Object([("name".to_owned(), Value::from("shop"))].into());
        let spec = ClusterSpec::from_config(&config, &Value::Null).0;
        // The scripted cloud lists what the AWS adapter does.
        let cloud = super::super::fake::ScriptedBackend::default();
        assert_eq!(
            pool_keys(&cloud, &spec, "spot"),
            ["launch_template.spot", "node_group.spot"]
        );
        let unknown = ClusterSpec {
            zone_count: Knowable::Unknown,
            ..spec
        };
        assert!(pool_keys(&cloud, &unknown, "spot").is_empty());
    }
}
