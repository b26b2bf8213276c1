//! Refresh: the whole stack in few calls, all independent ones at once.
//!
//! The network's six describe calls, one `DescribeLaunchTemplates` (by stack tag),
//! one `ListRoles` (by the stack's path), one `DescribeKey` (by alias), one
//! `DescribeCluster`, one `ListNodegroups`, one `DescribeLogGroups` (by prefix),
//! one `ListOpenIDConnectProviders`, one `ListAccessEntries` and one `ListAddons`
//! run concurrently; then one `DescribeNodegroup` per group, one `DescribeAddon`
//! per add-on and one `DescribeAccessEntry` per access entry, all concurrently
//! (EKS has no batched describe for them). A production cluster with two pools
//! takes 17 calls, plus one per add-on and per access entry. Tags for drift come
//! from the same answers (the network's objects and the EKS cluster).
//!
//! Why not fewer: each answer is the only proof that its objects still exist, and
//! carries their tags for drift. The references other answers embed (the cluster's
//! subnets and key, a node group's launch template and role, a NAT gateway's
//! address) carry no tags, and most survive the deletion of what they name. One
//! `DescribeTags` for every kind would answer for deleted objects too (moto keeps
//! their tags; the tagging API lists "previously tagged" resources). And
//! `ListNodegroups` alone finds a group a killed apply left (a new pool, or a
//! replacement with a suffix), which the state does not know.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client as Ec2;

use super::access::{describe_entries, granted, group_key};
use super::addons::{addon_key, addon_state, describe_all as describe_addons};
use super::eks::{describe, issuer, log_group_name, state_of};
use super::iam::{provider_for, role_key, role_name, role_path, WORKLOAD_ROLES};
use super::nodes::{describe_groups, pool_of, pool_state};
use super::{failure, not_found, owned_by, unsupported, Clients};
use crate::cloud::aws::error::SdkFailure;
use crate::cloud::aws::inventory::record;
use crate::cloud::aws::kms::{self, KeyOwner, KEY_COMPONENT};
use crate::cloud::aws::network::{self, component_of, filter, in_stack, stack_filter};
use crate::ports::cluster::kind;
use crate::ports::cluster::{ControlPlaneState, IdentityState, NetworkState, StackSnapshot};
use crate::ports::network::Tier;
use crate::stack::{BackendError, StackContext};

/// Reads everything of the stack; `None` when nothing of it exists. Without
/// `own_network` (the cluster runs in an existing network) the six network
/// describes are left out: there is nothing of the stack's own to find.
pub(super) async fn read_stack(
    c: &Clients,
    ctx: &StackContext,
    owner: KeyOwner<'_>,
    own_network: bool,
) -> Result<Option<StackSnapshot>, BackendError> {
    let stack = ctx.stack.as_str();
    let group = log_group_name(stack);
    let (net, templates, roles, key, cluster, group_names, log_groups, providers, access, addons) = futures::join!(
        async {
            if own_network {
                network::read_network(&c.ec2, ctx).await
            } else {
                Ok(network::NetworkRead::default())
            }
        },
        c.ec2
            .describe_launch_templates()
            .filters(stack_filter(stack))
            .send(),
        c.iam.list_roles().path_prefix(role_path(stack)).send(),
        kms::read_key(&c.kms, ctx, owner),
        describe(&c.eks, stack),
        c.eks.list_nodegroups().cluster_name(stack).send(),
        c.logs
            .describe_log_groups()
            .log_group_name_prefix(&group)
            .send(),
        c.iam.list_open_id_connect_providers().send(),
        c.eks.list_access_entries().cluster_name(stack).send(),
        c.eks.list_addons().cluster_name(stack).send(),
    );
    let net = net?;
    let templates = templates
        .map_err(SdkFailure::from_sdk)
        .map_err(|f| f.into_backend("looking up the launch templates"))?;
    let roles = roles
        .map_err(SdkFailure::from_sdk)
        .map_err(|f| failure("IAM", "listing the stack's roles", f))?;
    let key = key?;
    let cluster = cluster.map_err(|f| failure("EKS", "reading the cluster", f))?;
    // Without a cluster there are no node groups, whatever the listing said (AWS
    // answers not found; moto an HTTP 500).
    let group_names: Vec<String> = match group_names.map_err(SdkFailure::from_sdk) {
        Ok(out) => out.nodegroups().to_vec(),
        Err(_) if cluster.is_none() => Vec::new(),
        Err(f) if not_found(&f) => Vec::new(),
        Err(f) => return Err(failure("EKS", "listing node groups", f)),
    };
    let log_groups = log_groups
        .map_err(SdkFailure::from_sdk)
        .map_err(|f| failure("CloudWatch Logs", "looking up the log group", f))?;
    let providers = providers
        .map_err(SdkFailure::from_sdk)
        .map_err(|f| failure("IAM", "listing OIDC providers", f))?;

    // Add-ons and access entries: none without a cluster, unknown (`None`) when
    // the endpoint lacks them (moto).
    let addon_names: Option<Vec<String>> = match addons.map_err(SdkFailure::from_sdk) {
        Ok(out) => Some(out.addons().to_vec()),
        Err(_) if cluster.is_none() => Some(Vec::new()),
        Err(f) if not_found(&f) => Some(Vec::new()),
        Err(f) if unsupported(&f) => None,
        Err(f) => return Err(failure("EKS", "listing the cluster's add-ons", f)),
    };
    let access = match access.map_err(SdkFailure::from_sdk) {
        Ok(out) => Ok(out.access_entries().to_vec()),
        Err(f) => Err(f),
    };
    let principals: &[String] = match (&access, &cluster) {
        (Ok(p), Some(_)) => p,
        _ => &[],
    };

    let (groups, addons, entries) = futures::join!(
        describe_groups(&c.eks, stack, &group_names),
        describe_addons(&c.eks, stack, addon_names.as_deref().unwrap_or_default()),
        describe_entries(&c.eks, stack, principals),
    );
    let groups = groups.map_err(|f| failure("EKS", "reading node groups", f))?;
    let addons = addons.map_err(|f| failure("EKS", "reading the cluster's add-ons", f))?;
    let entries = entries.map_err(|f| failure("EKS", "reading the cluster's access entries", f))?;

    let mut snapshot = StackSnapshot {
        network: net.network,
        components: net.components,
        tags: net.tags,
        ..StackSnapshot::default()
    };
    for t in templates.launch_templates() {
        if let (Some(id), true) = (t.launch_template_id(), in_stack(t.tags(), stack)) {
            let key = component_of(t.tags()).unwrap_or("launch_template");
            snapshot
                .components
                .push(record(key, kind::LAUNCH_TEMPLATE, id));
        }
    }
    let mut arns: BTreeMap<&str, String> = BTreeMap::new();
    for which in ["cluster", "node"].into_iter().chain(WORKLOAD_ROLES) {
        let name = role_name(stack, which);
        if let Some(role) = roles.roles().iter().find(|r| r.role_name() == name) {
            snapshot
                .components
                .push(record(&role_key(which), kind::IAM_ROLE, role.arn()));
            arns.insert(which, role.arn().to_owned());
        }
    }
    if let (Some(cluster_role), Some(node_role)) = (arns.get("cluster"), arns.get("node")) {
        snapshot.iam = Some(IdentityState {
            control_plane_identity: cluster_role.clone(),
            node_identity: node_role.clone(),
            autoscaler_identity: arns.get("autoscaler").cloned(),
            storage_driver_identity: arns.get("storage_driver").cloned(),
        });
    }
    if let Some(k) = key {
        snapshot
            .components
            .push(record(KEY_COMPONENT, kind::KMS_KEY, &k.id));
        snapshot.key = Some(k);
    }
    if log_groups
        .log_groups()
        .iter()
        .any(|g| g.log_group_name() == Some(group.as_str()))
    {
        snapshot
            .components
            .push(record("log_group", kind::LOG_GROUP, &group));
    }
    if let Some(cluster) = cluster.filter(|c| c.tags().is_some_and(|t| owned_by(t, stack))) {
        let arn = cluster.arn().unwrap_or(stack);
        snapshot
            .components
            .push(record("cluster", kind::CLUSTER, arn));
        if let Some(tags) = cluster.tags() {
            snapshot.tags.insert(
                "cluster".to_owned(),
                tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            );
        }
        let provider = provider_for(
            providers
                .open_id_connect_provider_list()
                .iter()
                .filter_map(|p| p.arn()),
            issuer(&cluster),
        )
        .map(str::to_owned);
        if let Some(p) = &provider {
            snapshot
                .components
                .push(record("oidc_provider", kind::OIDC_PROVIDER, p));
        }
        // The principals holding access; unknown (the state's value stands) when the
        // endpoint cannot list access entries (moto has none).
        let admins = match access {
            Ok(principals) => {
                // Rows for the inventory: it lists only the principals in
                // cluster_admins, so entries made by others do not show.
                for p in &principals {
                    snapshot.components.push(record(
                        &format!("access_entry.{p}"),
                        kind::ACCESS_ENTRY,
                        p,
                    ));
                }
                // The group access paved granted, and a row for each.
                let granted: Vec<_> = entries.iter().filter_map(|e| granted(e, stack)).collect();
                for g in &granted {
                    snapshot.components.push(record(
                        &group_key(&g.principal),
                        kind::GROUP_ACCESS,
                        &g.principal,
                    ));
                }
                snapshot.group_access = Some(granted);
                Some(principals)
            }
            Err(f) if unsupported(&f) || not_found(&f) => None,
            Err(f) => return Err(failure("EKS", "listing the cluster's access entries", f)),
        };
        // Every add-on the cluster lists; rows for those paved tagged.
        for a in &addons {
            let Some(name) = a.addon_name() else {
                continue;
            };
            if a.tags().is_some_and(|t| owned_by(t, stack)) {
                snapshot.components.push(record(
                    &addon_key(name),
                    kind::EKS_ADDON,
                    a.addon_arn().unwrap_or(name),
                ));
            }
            snapshot.addons.insert(name.to_owned(), addon_state(a));
        }
        snapshot.control_plane = Some(ControlPlaneState {
            admins,
            ..state_of(&cluster, provider.unwrap_or_default())
        });
    }
    for group in &groups {
        let Some(pool) =
            pool_of(group).filter(|_| group.tags().is_some_and(|t| owned_by(t, stack)))
        else {
            continue;
        };
        // Node group and launch template tags are set by retag but not read for
        // drift: the network and the cluster stand for the stack's tags (moto
        // neither tags node groups nor shows a launch template's new tags).
        let key = format!("node_group.{pool}");
        snapshot.components.push(record(
            &key,
            kind::NODE_GROUP,
            group.nodegroup_arn().unwrap_or_default(),
        ));
        snapshot
            .node_pools
            .insert(pool.to_owned(), pool_state(pool, group));
    }
    Ok((!snapshot.components.is_empty()).then_some(snapshot))
}

/// Checks the user's network: the VPC and subnets exist and the subnets are in it;
/// reads their zones and tags the subnets for the cluster's load balancers. Creates
/// nothing.
pub(super) async fn existing_network(
    ec2: &Ec2,
    ctx: &StackContext,
    vpc_id: &str,
    subnet_ids: &BTreeMap<Tier, Vec<String>>,
) -> Result<NetworkState, BackendError> {
    let all: Vec<&str> = subnet_ids.values().flatten().map(String::as_str).collect();
    let (vpcs, subnets) = futures::join!(
        ec2.describe_vpcs().vpc_ids(vpc_id).send(),
        ec2.describe_subnets()
            .filters(filter("subnet-id", &all))
            .send(),
    );
    let vpcs = match vpcs.map_err(SdkFailure::from_sdk) {
        Ok(v) => v,
        Err(f) if f.is_not_found() => {
            return Err(BackendError::NotFound {
                what: format!("network {vpc_id}"),
            })
        }
        Err(f) => return Err(f.into_backend(format!("reading network {vpc_id}"))),
    };
    let vpc = vpcs.vpcs().first().ok_or_else(|| BackendError::NotFound {
        what: format!("network {vpc_id}"),
    })?;
    let subnets = subnets
        .map_err(SdkFailure::from_sdk)
        .map_err(|f| f.into_backend("reading the network's subnets"))?;
    let mut state = NetworkState {
        vpc_id: vpc_id.to_owned(),
        cidr: vpc.cidr_block().unwrap_or_default().to_owned(),
        zones: Vec::new(),
        subnet_ids: BTreeMap::new(),
        nat_gateway_ids: Vec::new(),
    };
    for (tier, ids) in subnet_ids {
        let mut by_zone = BTreeMap::new();
        for id in ids {
            let subnet = subnets
                .subnets()
                .iter()
                .find(|s| s.subnet_id() == Some(id.as_str()))
                .ok_or_else(|| BackendError::NotFound {
                    what: format!("subnet {id}"),
                })?;
            if subnet.vpc_id() != Some(vpc_id) {
                return Err(BackendError::Permanent {
                    operation: "checking the network".to_owned(),
                    message: format!("subnet {id} is not in network {vpc_id}"),
                    hint: "List only subnets of the network named in vpc_id".to_owned(),
                });
            }
            let zone = subnet.availability_zone().unwrap_or_default().to_owned();
            if !state.zones.contains(&zone) {
                state.zones.push(zone.clone());
            }
            by_zone.insert(zone, id.clone());
        }
        state.subnet_ids.insert(*tier, by_zone);
    }
    state.zones.sort();
    let cluster_tag = format!("kubernetes.io/cluster/{}", ctx.stack);
    let untagged: Vec<String> = subnets
        .subnets()
        .iter()
        .filter(|s| network::tag_value(s.tags(), &cluster_tag).is_none())
        .filter_map(|s| s.subnet_id().map(str::to_owned))
        .collect();
    if !untagged.is_empty() {
        ec2.create_tags()
            .set_resources(Some(untagged))
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key(cluster_tag)
                    .value("shared")
                    .build(),
            )
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(|f| f.into_backend("tagging the network's subnets for the cluster"))?;
    }
    Ok(state)
}
