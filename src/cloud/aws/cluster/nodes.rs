//! Node pools: a launch template `paved-<stack>-<pool>` (IMDSv2 required, encrypted
//! gp3 root disk) and a managed node group per pool.
//!
//! A node group cannot change its capacity type or instance types: when they
//! change, a new group (the pool's name plus a short suffix derived from the new
//! settings) is created, and the old one deleted once the new one is active. Size
//! bounds, labels and taints change in place; the current size is never set after
//! creation (the cluster autoscaler owns it), only clamped into new bounds. Disk
//! size changes make a new launch template version, rolled out with the Kubernetes
//! version through `UpdateNodegroupVersion`.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ec2::types::{
    LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataEndpointState,
    LaunchTemplateInstanceMetadataOptionsRequest, RequestLaunchTemplateData, ResourceType,
    VolumeType,
};
use aws_sdk_ec2::Client as Ec2;
use aws_sdk_eks::types::{
    CapacityTypes, LaunchTemplateSpecification, Nodegroup, NodegroupScalingConfig,
    Taint as EksTaint, TaintEffect, UpdateLabelsPayload, UpdateTaintsPayload,
};
use aws_sdk_eks::Client as Eks;
use futures::future::join_all;

use super::eks::minor_version;
use super::wait::{Observed, Wait, ACTIVE, DELETED};
use super::{failure, not_found, tag_map, unsupported};
use crate::cloud::aws::error::{unless_gone, SdkFailure};
use crate::cloud::aws::inventory::{record, step};
use crate::cloud::aws::network::{checkpoint, component_tags, filter, in_stack, tag_spec};
use crate::ports::cluster::kind;
use crate::ports::cluster::Capacity;
use crate::ports::cluster::{NodePoolRequest, NodePoolState, Taint, POOL_LABEL};
use crate::stack::tags::{COMPONENT_TAG, STACK_TAG};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The root device of EKS-optimised images.
const ROOT_DEVICE: &str = "/dev/xvda";

/// The launch template of a pool.
pub(super) fn template_name(stack: &str, pool: &str) -> String {
    format!("paved-{stack}-{pool}")
}

/// The inventory key of a pool's node group.
pub(super) fn group_key(pool: &str) -> String {
    format!("node_group.{pool}")
}

/// The inventory key of a pool's launch template.
pub(super) fn template_key(pool: &str) -> String {
    format!("launch_template.{pool}")
}

/// The pool a node group serves, from its component tag.
pub(super) fn pool_of(group: &Nodegroup) -> Option<&str> {
    group
        .tags()?
        .get(COMPONENT_TAG)?
        .strip_prefix("node_group.")
}

/// A short, stable suffix for a replacement group: 6 hex digits of a hash of the
/// settings that force replacement.
fn suffix(capacity: Capacity, types: &[String]) -> String {
    let text = format!("{}|{}", capacity.as_str(), types.join(","));
    let mut hash: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{:06x}", hash & 0x00ff_ffff)
}

/// Whether `name` can be a node group of `pool` (the pool's name, or it plus a
/// replacement suffix).
fn may_serve(name: &str, pool: &str) -> bool {
    name == pool
        || name
            .strip_prefix(pool)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|s| s.len() == 6 && s.chars().all(|c| c.is_ascii_hexdigit()))
}

fn capacity_type(c: Capacity) -> CapacityTypes {
    match c {
        Capacity::OnDemand => CapacityTypes::OnDemand,
        Capacity::Spot => CapacityTypes::Spot,
    }
}

fn capacity_of(c: Option<&CapacityTypes>) -> Capacity {
    match c {
        Some(CapacityTypes::Spot) => Capacity::Spot,
        _ => Capacity::OnDemand,
    }
}

fn effect(e: &str) -> TaintEffect {
    match e {
        "NoExecute" => TaintEffect::NoExecute,
        "PreferNoSchedule" => TaintEffect::PreferNoSchedule,
        _ => TaintEffect::NoSchedule,
    }
}

fn eks_taint(t: &Taint) -> EksTaint {
    EksTaint::builder()
        .key(&t.key)
        .set_value(t.value.clone())
        .effect(effect(&t.effect))
        .build()
}

fn eks_err(operation: impl Into<String>) -> impl FnOnce(SdkFailure) -> BackendError {
    let operation = operation.into();
    move |f| failure("EKS", operation, f)
}

fn ec2_err(operation: impl Into<String>) -> impl FnOnce(SdkFailure) -> BackendError {
    let operation = operation.into();
    move |f| f.into_backend(operation)
}

fn template_data(disk_gb: u32) -> RequestLaunchTemplateData {
    RequestLaunchTemplateData::builder()
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_endpoint(LaunchTemplateInstanceMetadataEndpointState::Enabled)
                .http_tokens(LaunchTemplateHttpTokensState::Required)
                .http_put_response_hop_limit(2)
                .build(),
        )
        .block_device_mappings(
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name(ROOT_DEVICE)
                .ebs(
                    LaunchTemplateEbsBlockDeviceRequest::builder()
                        .volume_size(i32::try_from(disk_gb).unwrap_or(i32::MAX))
                        .volume_type(VolumeType::Gp3)
                        .encrypted(true)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .build()
}

/// The pool's launch template as it exists: id and the version to run.
struct Template {
    id: String,
    version: i64,
}

/// Ensures the pool's launch template with the requested disk; a different disk
/// size makes a new version.
async fn ensure_template(
    ec2: &Ec2,
    ctx: &StackContext,
    req: &NodePoolRequest,
    components: &mut Vec<ComponentRecord>,
) -> Result<Template, BackendError> {
    let name = template_name(&ctx.stack, &req.name);
    let key = template_key(&req.name);
    let found = ec2
        .describe_launch_templates()
        .filters(filter("launch-template-name", &[&name]))
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(ec2_err(format!("looking up launch template {name}")))?;
    if let Some(t) = found
        .launch_templates()
        .iter()
        .find(|t| t.launch_template_name() == Some(name.as_str()))
    {
        if !in_stack(t.tags(), &ctx.stack) {
            return Err(BackendError::Conflict {
                what: format!("launch template {name}"),
                stack: ctx.stack.clone(),
                hint: "delete or rename that launch template".to_owned(),
            });
        }
        let id = t.launch_template_id().unwrap_or_default().to_owned();
        components.push(record(&key, kind::LAUNCH_TEMPLATE, &id));
        let latest = ec2
            .describe_launch_template_versions()
            .launch_template_id(&id)
            .versions("$Latest")
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(ec2_err(format!("reading launch template {name}")))?;
        let current = latest.launch_template_versions().first();
        let disk = current
            .and_then(|v| v.launch_template_data())
            .and_then(|d| d.block_device_mappings().first())
            .and_then(|m| m.ebs())
            .and_then(|e| e.volume_size());
        let version = current
            .and_then(|v| v.version_number())
            .or(t.latest_version_number())
            .unwrap_or(1);
        if disk == i32::try_from(req.disk_size_gb).ok() {
            return Ok(Template { id, version });
        }
        checkpoint(ctx, "updating the launch template")?;
        let out = ec2
            .create_launch_template_version()
            .launch_template_id(&id)
            .source_version(version.to_string())
            .launch_template_data(template_data(req.disk_size_gb))
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(ec2_err(format!(
                "adding a version to launch template {name}"
            )))?;
        let version = out
            .launch_template_version()
            .and_then(|v| v.version_number())
            .unwrap_or(version + 1);
        return Ok(Template { id, version });
    }
    checkpoint(ctx, "creating the launch template")?;
    let out = ec2
        .create_launch_template()
        .launch_template_name(&name)
        .launch_template_data(template_data(req.disk_size_gb))
        .tag_specifications(tag_spec(
            ResourceType::LaunchTemplate,
            component_tags(ctx, &key, &[]),
        ))
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(ec2_err(format!("creating launch template {name}")))?;
    let template = out.launch_template();
    let id = template
        .and_then(|t| t.launch_template_id())
        .unwrap_or_default()
        .to_owned();
    components.push(record(&key, kind::LAUNCH_TEMPLATE, &id));
    Ok(Template {
        id,
        version: template
            .and_then(|t| t.latest_version_number())
            .unwrap_or(1),
    })
}

/// The node group `name` of the cluster, `None` when there is none.
async fn describe_group(
    eks: &Eks,
    cluster: &str,
    name: &str,
) -> Result<Option<Nodegroup>, SdkFailure> {
    let call = eks
        .describe_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .send()
        .await;
    Ok(unless_gone(call, not_found)?.and_then(|out| out.nodegroup().cloned()))
}

/// The node groups `names` of the cluster, described concurrently; those gone
/// meanwhile are left out.
pub(super) async fn describe_groups(
    eks: &Eks,
    cluster: &str,
    names: &[String],
) -> Result<Vec<Nodegroup>, SdkFailure> {
    let described = join_all(names.iter().map(|n| describe_group(eks, cluster, n))).await;
    let mut groups = Vec::new();
    for d in described {
        groups.extend(d?);
    }
    Ok(groups)
}

/// The names of the cluster's node groups; none when the cluster is gone.
pub(super) async fn list_groups(eks: &Eks, cluster: &str) -> Result<Vec<String>, BackendError> {
    let listed = unless_gone(
        eks.list_nodegroups().cluster_name(cluster).send().await,
        not_found,
    )
    .map_err(eks_err("listing node groups"))?;
    Ok(listed.map(|o| o.nodegroups().to_vec()).unwrap_or_default())
}

fn observed(group: &Nodegroup) -> Observed {
    let issues = group.health().map(|h| h.issues()).unwrap_or_default();
    Observed::new(
        group.status().map(|s| s.as_str()),
        issues
            .iter()
            .map(|i| (i.code().map(|c| c.as_str()), i.message())),
    )
}

async fn wait_group(
    eks: &Eks,
    ctx: &StackContext,
    name: &str,
    target: super::wait::Target,
    during: &str,
) -> Result<(), BackendError> {
    let cluster = ctx.stack.as_str();
    Wait::new(ctx, format!("node group {name}"), during)
        .until(target, || async {
            Ok(describe_group(eks, cluster, name)
                .await?
                .as_ref()
                .map(observed))
        })
        .await
}

/// The node groups of `pool` in the stack's cluster (an empty list when the
/// cluster is gone).
pub(super) async fn groups_of(
    eks: &Eks,
    ctx: &StackContext,
    pool: &str,
) -> Result<Vec<Nodegroup>, BackendError> {
    let cluster = ctx.stack.as_str();
    let names: Vec<String> = list_groups(eks, cluster)
        .await?
        .into_iter()
        .filter(|n| may_serve(n, pool))
        .collect();
    let described = describe_groups(eks, cluster, &names)
        .await
        .map_err(eks_err("reading node groups"))?;
    let mut groups = Vec::new();
    for group in described {
        let ours = group
            .tags()
            .is_some_and(|t| t.get(STACK_TAG).map(String::as_str) == Some(ctx.stack.as_str()));
        if !ours {
            return Err(BackendError::Conflict {
                what: format!("node group {}", group.nodegroup_name().unwrap_or_default()),
                stack: ctx.stack.clone(),
                hint: "rename the node pool, or delete that node group".to_owned(),
            });
        }
        if pool_of(&group) == Some(pool) {
            groups.push(group);
        }
    }
    Ok(groups)
}

/// The pool as the backend reports it.
pub(super) fn pool_state(pool: &str, group: &Nodegroup) -> NodePoolState {
    let scaling = group.scaling_config();
    NodePoolState {
        name: pool.to_owned(),
        id: group.nodegroup_arn().unwrap_or_default().to_owned(),
        launch_template_id: group
            .launch_template()
            .and_then(|l| l.id())
            .unwrap_or_default()
            .to_owned(),
        status: observed(group).status,
        kubernetes_version: minor_version(group.version().unwrap_or_default()),
        instance_types: group.instance_types().to_vec(),
        capacity: capacity_of(group.capacity_type()),
        min_size: scaling
            .and_then(|s| s.min_size())
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or_default(),
        max_size: scaling
            .and_then(|s| s.max_size())
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or_default(),
        labels: group
            .labels()
            .map(|l| {
                l.iter()
                    .filter(|(k, _)| k.as_str() != POOL_LABEL)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        taints: group
            .taints()
            .iter()
            .map(|t| Taint {
                key: t.key().unwrap_or_default().to_owned(),
                value: t.value().map(str::to_owned),
                effect: match t.effect() {
                    Some(TaintEffect::NoExecute) => "NoExecute",
                    Some(TaintEffect::PreferNoSchedule) => "PreferNoSchedule",
                    _ => "NoSchedule",
                }
                .to_owned(),
            })
            .collect(),
    }
}

fn matches_identity(group: &Nodegroup, req: &NodePoolRequest) -> bool {
    capacity_of(group.capacity_type()) == req.capacity
        && group.instance_types() == req.instance_types
}

fn size(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Ensures (or, with `update`, updates) one pool; see the module docs.
pub(super) async fn ensure_pool(
    eks: &Eks,
    ec2: &Ec2,
    ctx: &StackContext,
    req: &NodePoolRequest,
    update: bool,
) -> Step<NodePoolState> {
    let mut components = Vec::new();
    let result = ensure_inner(eks, ec2, ctx, req, update, &mut components).await;
    step(result, components)
}

async fn ensure_inner(
    eks: &Eks,
    ec2: &Ec2,
    ctx: &StackContext,
    req: &NodePoolRequest,
    update: bool,
    components: &mut Vec<ComponentRecord>,
) -> Result<NodePoolState, BackendError> {
    let cluster = ctx.stack.as_str();
    checkpoint(ctx, "looking up the node pool")?;
    let groups = groups_of(eks, ctx, &req.name).await?;
    if update && groups.is_empty() {
        return Err(BackendError::NotFound {
            what: format!("node pool {} (its node group)", req.name),
        });
    }
    let template = ensure_template(ec2, ctx, req, components).await?;
    let key = group_key(&req.name);
    for g in &groups {
        components.push(record(
            &key,
            kind::NODE_GROUP,
            g.nodegroup_arn().unwrap_or_default(),
        ));
    }
    let (current, old): (Vec<&Nodegroup>, Vec<&Nodegroup>) =
        groups.iter().partition(|g| matches_identity(g, req));
    let group = match current.first() {
        Some(g) => converge(eks, ctx, req, g, &template).await?,
        None => {
            let taken = groups
                .iter()
                .any(|g| g.nodegroup_name() == Some(req.name.as_str()));
            let name = if taken {
                format!("{}-{}", req.name, suffix(req.capacity, &req.instance_types))
            } else {
                req.name.clone()
            };
            checkpoint(ctx, "creating the node group")?;
            let created = eks
                .create_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(&name)
                .scaling_config(
                    NodegroupScalingConfig::builder()
                        .min_size(size(req.min_size))
                        .max_size(size(req.max_size))
                        .desired_size(size(req.min_size))
                        .build(),
                )
                .set_subnets(Some(req.subnet_ids.clone()))
                .node_role(&req.node_identity)
                .set_instance_types(Some(req.instance_types.clone()))
                .capacity_type(capacity_type(req.capacity))
                .set_labels(Some(
                    node_labels(req).into_iter().collect::<HashMap<_, _>>(),
                ))
                .set_taints(Some(req.taints.iter().map(eks_taint).collect()))
                .launch_template(
                    LaunchTemplateSpecification::builder()
                        .id(&template.id)
                        .version(template.version.to_string())
                        .build(),
                )
                .version(&req.kubernetes_version)
                .set_tags(Some(tag_map(ctx, &key)))
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(eks_err(format!("creating node group {name}")))?;
            if let Some(arn) = created.nodegroup().and_then(|g| g.nodegroup_arn()) {
                components.push(record(&key, kind::NODE_GROUP, arn));
            }
            wait_group(eks, ctx, &name, ACTIVE, "creating the node group").await?;
            describe_group(eks, cluster, &name)
                .await
                .map_err(eks_err(format!("reading node group {name}")))?
                .ok_or_else(|| BackendError::NotFound {
                    what: format!("node group {name}"),
                })?
        }
    };
    // The replaced groups go once the new one is active.
    for g in old {
        let name = g.nodegroup_name().unwrap_or_default();
        delete_group(eks, ctx, name).await?;
        let arn = g.nodegroup_arn().unwrap_or_default();
        components.retain(|c| c.id != arn);
    }
    Ok(pool_state(&req.name, &group))
}

/// The labels a pool's nodes get: the configured ones and [`POOL_LABEL`].
fn node_labels(req: &NodePoolRequest) -> BTreeMap<String, String> {
    let mut labels = req.labels.clone();
    labels.insert(POOL_LABEL.to_owned(), req.name.clone());
    labels
}

/// Brings an existing group to the request: bounds, labels, taints in one config
/// update; launch template version and Kubernetes version in one version update.
async fn converge(
    eks: &Eks,
    ctx: &StackContext,
    req: &NodePoolRequest,
    group: &Nodegroup,
    template: &Template,
) -> Result<Nodegroup, BackendError> {
    let cluster = ctx.stack.as_str();
    let name = group.nodegroup_name().unwrap_or_default();
    // A group still changing (an apply cut short mid-rollout) settles first: EKS
    // refuses another update meanwhile.
    let settled;
    let group = if matches!(observed(group).status.as_str(), "CREATING" | "UPDATING") {
        wait_group(
            eks,
            ctx,
            name,
            ACTIVE,
            "waiting for the node group's update",
        )
        .await?;
        settled = describe_group(eks, cluster, name)
            .await
            .map_err(eks_err(format!("reading node group {name}")))?
            .ok_or_else(|| BackendError::NotFound {
                what: format!("node group {name}"),
            })?;
        &settled
    } else {
        group
    };
    let scaling = group.scaling_config();
    let (min, max) = (size(req.min_size), size(req.max_size));
    let mut changed = false;
    let mut config = eks
        .update_nodegroup_config()
        .cluster_name(cluster)
        .nodegroup_name(name);
    if scaling.and_then(|s| s.min_size()) != Some(min)
        || scaling.and_then(|s| s.max_size()) != Some(max)
    {
        // Keep the autoscaler's current size, only moved into the new bounds.
        let desired = scaling
            .and_then(|s| s.desired_size())
            .unwrap_or(min)
            .clamp(min.min(max), max);
        config = config.scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(min)
                .max_size(max)
                .desired_size(desired)
                .build(),
        );
        changed = true;
    }
    let current: BTreeMap<String, String> = group
        .labels()
        .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let wanted_labels = node_labels(req);
    let add: HashMap<String, String> = wanted_labels
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove: Vec<String> = current
        .keys()
        .filter(|k| !wanted_labels.contains_key(*k))
        .cloned()
        .collect();
    if !add.is_empty() || !remove.is_empty() {
        config = config.labels(
            UpdateLabelsPayload::builder()
                .set_add_or_update_labels((!add.is_empty()).then_some(add))
                .set_remove_labels((!remove.is_empty()).then_some(remove))
                .build(),
        );
        changed = true;
    }
    let wanted: Vec<EksTaint> = req.taints.iter().map(eks_taint).collect();
    let have = group.taints();
    let add: Vec<EksTaint> = wanted
        .iter()
        .filter(|t| !have.contains(t))
        .cloned()
        .collect();
    let remove: Vec<EksTaint> = have
        .iter()
        .filter(|t| {
            !wanted
                .iter()
                .any(|w| w.key() == t.key() && w.effect() == t.effect())
        })
        .cloned()
        .collect();
    if !add.is_empty() || !remove.is_empty() {
        config = config.taints(
            UpdateTaintsPayload::builder()
                .set_add_or_update_taints((!add.is_empty()).then_some(add))
                .set_remove_taints((!remove.is_empty()).then_some(remove))
                .build(),
        );
        changed = true;
    }
    if changed {
        checkpoint(ctx, "updating the node group")?;
        config
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(eks_err(format!("updating node group {name}")))?;
        wait_group(eks, ctx, name, ACTIVE, "updating the node group").await?;
    }

    let template_version = template.version.to_string();
    let template_differs = group
        .launch_template()
        .and_then(|l| l.version())
        .is_some_and(|v| v != template_version);
    let version_differs =
        minor_version(group.version().unwrap_or_default()) != req.kubernetes_version;
    if template_differs || version_differs {
        checkpoint(ctx, "rolling out the node group's new version")?;
        let mut call = eks
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .id(&template.id)
                    .version(&template_version)
                    .build(),
            );
        if version_differs {
            call = call.version(&req.kubernetes_version);
        }
        let started = call
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(|f| {
                let lacks = unsupported(&f);
                let mut e = failure("EKS", format!("rolling out node group {name}"), f);
                if lacks {
                    if let BackendError::Permanent { message, .. } = &mut e {
                        message.push_str(
                            " (UpdateNodegroupVersion is not implemented by this endpoint)",
                        );
                    }
                }
                e
            })?;
        // The update's own record says when the rollout is over; the group's status
        // may still read ACTIVE right after the call.
        if let Some(id) = started.update().and_then(|u| u.id()) {
            super::eks::wait_update(eks, ctx, Some(name), id, "rolling out the node group").await?;
        }
        wait_group(eks, ctx, name, ACTIVE, "rolling out the node group").await?;
    }
    if !changed && !template_differs && !version_differs {
        return Ok(group.clone());
    }
    describe_group(eks, cluster, name)
        .await
        .map_err(eks_err(format!("reading node group {name}")))?
        .ok_or_else(|| BackendError::NotFound {
            what: format!("node group {name}"),
        })
}

/// Deletes a node group and waits until it is gone; gone already is fine.
pub(super) async fn delete_group(
    eks: &Eks,
    ctx: &StackContext,
    name: &str,
) -> Result<(), BackendError> {
    checkpoint(ctx, "deleting a node group")?;
    let call = eks
        .delete_nodegroup()
        .cluster_name(&ctx.stack)
        .nodegroup_name(name)
        .send()
        .await;
    if unless_gone(call, not_found)
        .map_err(eks_err(format!("deleting node group {name}")))?
        .is_none()
    {
        return Ok(());
    }
    wait_group(eks, ctx, name, DELETED, "deleting the node group").await
}

/// Deletes a launch template; gone already is fine. Returns whether it existed.
pub(super) async fn delete_template(ec2: &Ec2, id: &str) -> Result<bool, BackendError> {
    let call = ec2
        .delete_launch_template()
        .launch_template_id(id)
        .send()
        .await;
    unless_gone(call, SdkFailure::is_not_found)
        .map(|out| out.is_some())
        .map_err(ec2_err(format!("deleting launch template {id}")))
}

/// Deletes one pool: its node groups (waiting until gone), then its launch template.
pub(super) async fn delete_pool(eks: &Eks, ec2: &Ec2, ctx: &StackContext, pool: &str) -> Step<()> {
    let mut remaining = Vec::new();
    let result = async {
        let groups = groups_of(eks, ctx, pool).await?;
        for g in &groups {
            remaining.push(record(
                &group_key(pool),
                kind::NODE_GROUP,
                g.nodegroup_arn().unwrap_or_default(),
            ));
        }
        for g in &groups {
            delete_group(eks, ctx, g.nodegroup_name().unwrap_or_default()).await?;
            let arn = g.nodegroup_arn().unwrap_or_default();
            remaining.retain(|c| c.id != arn);
        }
        let name = template_name(&ctx.stack, pool);
        let found = ec2
            .describe_launch_templates()
            .filters(filter("launch-template-name", &[&name]))
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(ec2_err(format!("looking up launch template {name}")))?;
        for t in found.launch_templates() {
            if let (Some(id), true) = (t.launch_template_id(), in_stack(t.tags(), &ctx.stack)) {
                delete_template(ec2, id).await?;
            }
        }
        Ok(())
    }
    .await;
    step(result, remaining)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_names() {
        let s = suffix(Capacity::Spot, &["m5.large".into(), "m5a.large".into()]);
        assert_eq!(s.len(), 6);
        assert_ne!(
            s,
            suffix(Capacity::OnDemand, &["m5.large".into(), "m5a.large".into()])
        );
        assert!(may_serve("spot", "spot"));
        assert!(may_serve(&format!("spot-{s}"), "spot"));
        assert!(!may_serve("spot-large", "spot"));
        assert!(!may_serve("system", "spot"));
        assert_eq!(template_name("shop", "system"), "paved-shop-system");
    }

    #[test]
    fn taints_map_to_eks_effects() {
        let t = eks_taint(&Taint {
            key: "dedicated".into(),
            value: Some("batch".into()),
            effect: "NoSchedule".into(),
        });
        assert_eq!(t.effect(), Some(&TaintEffect::NoSchedule));
        assert_eq!(effect("NoExecute"), TaintEffect::NoExecute);
    }
}
