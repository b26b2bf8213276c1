//! The three groups an RDS instance needs: the DB subnet group `paved-<stack>`, the
//! EC2 security group `paved-db-<stack>` and the parameter group
//! `paved-<stack>-<family>`. Each is found by its name, adopted when it carries the
//! stack's tags (a group of that name without them is a conflict), created tagged
//! when missing, and converged in place: subnets, ingress rules (exactly those
//! asked for), parameters (the user's plus the engine's TLS parameter; others reset).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, ResourceType, Tag as Ec2Tag, TagSpecification, UserIdGroupPair,
};
use aws_sdk_rds::types::{ApplyMethod, Parameter};

use super::{
    backend_error, checkpoint, component_tags, fail, parameter_group_name, rds_owned, rds_tags,
    record, security_group_name, subnet_group_name, RESOURCE_TYPE,
};
use crate::cloud::aws::error::incomplete;
use crate::cloud::aws::error::SdkFailure;
use crate::ports::database::kind;
use crate::ports::database::Engine;
use crate::ports::database::{
    ParameterGroupRequest, ParameterGroupState, SecurityGroupRequest, SecurityGroupState,
    SubnetGroupRequest, SubnetGroupState,
};
use crate::stack::tags::{RESOURCE_TAG, STACK_TAG};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The inventory keys of the groups.
const SUBNET_GROUP_KEY: &str = "subnet_group";
const SECURITY_GROUP_KEY: &str = "security_group";
const PARAMETER_GROUP_KEY: &str = "parameter_group";

/// Parameters per `ModifyDBParameterGroup` / `ResetDBParameterGroup` call (RDS's limit).
const PARAMETERS_PER_CALL: usize = 20;

/// The record of the subnet group.
pub(crate) fn subnet_group_record(name: &str) -> ComponentRecord {
    record(SUBNET_GROUP_KEY, kind::SUBNET_GROUP, None, name)
}

/// The record of the security group.
pub(crate) fn security_group_record(id: &str) -> ComponentRecord {
    record(SECURITY_GROUP_KEY, kind::SECURITY_GROUP, None, id)
}

/// The record of the parameter group.
pub(crate) fn parameter_group_record(name: &str) -> ComponentRecord {
    record(PARAMETER_GROUP_KEY, kind::PARAMETER_GROUP, None, name)
}

fn conflict(what: String, ctx: &StackContext, hint: &str) -> BackendError {
    BackendError::Conflict {
        what,
        stack: ctx.stack.clone(),
        hint: hint.to_owned(),
    }
}

/// Whether the RDS object `arn` carries this stack's tags (one `ListTagsForResource`).
async fn rds_arn_owned(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    arn: &str,
) -> Result<bool, BackendError> {
    let out = rds
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(fail("reading the tags of an RDS group"))?;
    Ok(rds_owned(out.tag_list(), &ctx.stack))
}

// ---------------------------------------------------------------------------------
// Subnet group
// ---------------------------------------------------------------------------------

/// The zone of each subnet, in order (one `DescribeSubnets`).
/// The zone of each subnet (in the order given) and the VPC they are in.
async fn subnet_zones(
    ec2: &aws_sdk_ec2::Client,
    subnet_ids: &[String],
) -> Result<(Vec<String>, String), BackendError> {
    let out = ec2
        .describe_subnets()
        .set_subnet_ids(Some(subnet_ids.to_vec()))
        .send()
        .await
        .map_err(fail("reading the database subnets"))?;
    let zones: BTreeMap<&str, &str> = out
        .subnets()
        .iter()
        .filter_map(|s| Some((s.subnet_id()?, s.availability_zone()?)))
        .collect();
    let vpc_id = out
        .subnets()
        .iter()
        .find_map(|s| s.vpc_id())
        .unwrap_or_default()
        .to_owned();
    let zones = subnet_ids
        .iter()
        .map(|id| {
            zones
                .get(id.as_str())
                .map(|z| (*z).to_owned())
                .ok_or_else(|| BackendError::NotFound {
                    what: format!("subnet {id} named in network.subnet_ids"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((zones, vpc_id))
}

/// Ensures the DB subnet group `paved-<stack>` over exactly `req.subnet_ids`.
pub(crate) async fn ensure_subnet_group(
    rds: &aws_sdk_rds::Client,
    ec2: &aws_sdk_ec2::Client,
    ctx: &StackContext,
    req: &SubnetGroupRequest,
) -> Step<SubnetGroupState> {
    let name = subnet_group_name(&ctx.stack);
    let mut components = Vec::new();
    let result = subnet_group_inner(rds, ec2, ctx, req, &name, &mut components).await;
    Step { components, result }
}

async fn subnet_group_inner(
    rds: &aws_sdk_rds::Client,
    ec2: &aws_sdk_ec2::Client,
    ctx: &StackContext,
    req: &SubnetGroupRequest,
    name: &str,
    components: &mut Vec<ComponentRecord>,
) -> Result<SubnetGroupState, BackendError> {
    checkpoint(ctx, "ensuring the DB subnet group")?;
    let (zones, vpc_id) = subnet_zones(ec2, &req.subnet_ids).await?;
    let found = match rds
        .describe_db_subnet_groups()
        .db_subnet_group_name(name)
        .send()
        .await
    {
        Ok(out) => out.db_subnet_groups().first().cloned(),
        Err(e) => {
            let failure = SdkFailure::from_sdk(e);
            if !failure.is_not_found() {
                return Err(backend_error("reading the DB subnet group", failure));
            }
            None
        }
    };
    checkpoint(ctx, "ensuring the DB subnet group")?;
    match found {
        Some(group) => {
            let arn = group
                .db_subnet_group_arn()
                .ok_or_else(|| incomplete("reading the DB subnet group", "its ARN"))?;
            if !rds_arn_owned(rds, ctx, arn).await? {
                return Err(conflict(
                    format!("DB subnet group {name}"),
                    ctx,
                    "rename the database, or delete or rename that subnet group",
                ));
            }
            components.push(subnet_group_record(name));
            let have: BTreeSet<&str> = group
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_identifier())
                .collect();
            let want: BTreeSet<&str> = req.subnet_ids.iter().map(String::as_str).collect();
            if have != want {
                rds.modify_db_subnet_group()
                    .db_subnet_group_name(name)
                    .set_subnet_ids(Some(req.subnet_ids.clone()))
                    .send()
                    .await
                    .map_err(fail("changing the DB subnet group's subnets"))?;
            }
        }
        None => {
            rds.create_db_subnet_group()
                .db_subnet_group_name(name)
                .db_subnet_group_description(format!("paved database {}", ctx.stack))
                .set_subnet_ids(Some(req.subnet_ids.clone()))
                .set_tags(Some(rds_tags(ctx, SUBNET_GROUP_KEY)))
                .send()
                .await
                .map_err(fail("creating the DB subnet group"))?;
            components.push(subnet_group_record(name));
        }
    }
    Ok(SubnetGroupState {
        id: name.to_owned(),
        zones,
        subnet_ids: req.subnet_ids.clone(),
        vpc_id,
    })
}

// ---------------------------------------------------------------------------------
// Security group
// ---------------------------------------------------------------------------------

fn ec2_filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// The filters finding the stack's database security groups by tag.
pub(crate) fn security_group_filters(stack: &str) -> Vec<Filter> {
    vec![
        ec2_filter(&format!("tag:{STACK_TAG}"), stack),
        ec2_filter(&format!("tag:{RESOURCE_TAG}"), RESOURCE_TYPE),
    ]
}

/// Whether EC2 tags say the object belongs to this database stack.
pub(crate) fn ec2_owned(tags: &[Ec2Tag], stack: &str) -> bool {
    let value = |key: &str| {
        tags.iter()
            .find(|t| t.key() == Some(key))
            .and_then(|t| t.value())
    };
    value(STACK_TAG) == Some(stack) && value(RESOURCE_TAG) == Some(RESOURCE_TYPE)
}

/// One source admitted on the database port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Group(String),
    Cidr(String),
}

fn permission(port: u16, sources: &[Source]) -> IpPermission {
    let port = i32::from(port);
    let mut p = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port);
    for s in sources {
        p = match s {
            Source::Group(id) => {
                p.user_id_group_pairs(UserIdGroupPair::builder().group_id(id).build())
            }
            Source::Cidr(c) => p.ip_ranges(IpRange::builder().cidr_ip(c).build()),
        };
    }
    p.build()
}

/// Ensures the security group `paved-db-<stack>` in the VPC, admitting exactly the
/// listed groups and ranges on the port.
pub(crate) async fn ensure_security_group(
    ec2: &aws_sdk_ec2::Client,
    ctx: &StackContext,
    req: &SecurityGroupRequest,
) -> Step<SecurityGroupState> {
    let mut components = Vec::new();
    let result = security_group_inner(ec2, ctx, req, &mut components).await;
    Step { components, result }
}

async fn security_group_inner(
    ec2: &aws_sdk_ec2::Client,
    ctx: &StackContext,
    req: &SecurityGroupRequest,
    components: &mut Vec<ComponentRecord>,
) -> Result<SecurityGroupState, BackendError> {
    checkpoint(ctx, "ensuring the database security group")?;
    let name = security_group_name(&ctx.stack);
    let out = ec2
        .describe_security_groups()
        .filters(ec2_filter("group-name", &name))
        .filters(ec2_filter("vpc-id", &req.vpc_id))
        .send()
        .await
        .map_err(fail("reading the database security group"))?;
    let existing = out
        .security_groups()
        .iter()
        .find(|g| g.group_name() == Some(name.as_str()))
        .cloned();
    checkpoint(ctx, "ensuring the database security group")?;
    let (id, permissions) = match existing {
        Some(group) => {
            if !ec2_owned(group.tags(), &ctx.stack) {
                return Err(conflict(
                    format!("security group {name} in {}", req.vpc_id),
                    ctx,
                    "rename the database, or delete or rename that security group",
                ));
            }
            let id = group
                .group_id()
                .ok_or_else(|| incomplete("reading the database security group", "its id"))?
                .to_owned();
            (id, group.ip_permissions().to_vec())
        }
        None => {
            let tags: Vec<Ec2Tag> = component_tags(ctx, SECURITY_GROUP_KEY)
                .iter()
                .map(|(k, v)| Ec2Tag::builder().key(k).value(v).build())
                .chain([Ec2Tag::builder().key("Name").value(&name).build()])
                .collect();
            let out = ec2
                .create_security_group()
                .group_name(&name)
                .description(format!(
                    "paved database {}: clients on the database port",
                    ctx.stack
                ))
                .vpc_id(&req.vpc_id)
                .tag_specifications(
                    TagSpecification::builder()
                        .resource_type(ResourceType::SecurityGroup)
                        .set_tags(Some(tags))
                        .build(),
                )
                .send()
                .await
                .map_err(fail("creating the database security group"))?;
            let id = out
                .group_id()
                .ok_or_else(|| incomplete("creating the database security group", "its id"))?
                .to_owned();
            (id, Vec::new())
        }
    };
    components.push(security_group_record(&id));
    converge_ingress(ec2, ctx, &id, req, &permissions).await?;
    Ok(SecurityGroupState {
        id,
        allowed_security_group_ids: req.allowed_security_group_ids.clone(),
        allowed_cidrs: req.allowed_cidrs.clone(),
    })
}

/// Revokes every ingress rule not asked for and authorizes the missing ones.
async fn converge_ingress(
    ec2: &aws_sdk_ec2::Client,
    ctx: &StackContext,
    id: &str,
    req: &SecurityGroupRequest,
    permissions: &[IpPermission],
) -> Result<(), BackendError> {
    let port = i32::from(req.port);
    let want: BTreeSet<Source> = req
        .allowed_security_group_ids
        .iter()
        .map(|g| Source::Group(g.clone()))
        .chain(req.allowed_cidrs.iter().map(|c| Source::Cidr(c.clone())))
        .collect();
    let mut have = BTreeSet::new();
    let mut revoke = Vec::new();
    for p in permissions {
        let on_port = p.ip_protocol() == Some("tcp")
            && p.from_port() == Some(port)
            && p.to_port() == Some(port);
        if !on_port {
            revoke.push(p.clone());
            continue;
        }
        let sources = p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| g.group_id().map(|g| Source::Group(g.to_owned())))
            .chain(
                p.ip_ranges()
                    .iter()
                    .filter_map(|r| r.cidr_ip().map(|c| Source::Cidr(c.to_owned()))),
            );
        for s in sources {
            if !want.contains(&s) {
                revoke.push(permission(req.port, std::slice::from_ref(&s)));
            }
            have.insert(s);
        }
        if !p.ipv6_ranges().is_empty() || !p.prefix_list_ids().is_empty() {
            let mut extra = p.clone();
            extra.user_id_group_pairs = None;
            extra.ip_ranges = None;
            revoke.push(extra);
        }
    }
    if !revoke.is_empty() {
        checkpoint(ctx, "removing ingress rules no longer wanted")?;
        ec2.revoke_security_group_ingress()
            .group_id(id)
            .set_ip_permissions(Some(revoke))
            .send()
            .await
            .map_err(fail("removing ingress rules no longer wanted"))?;
    }
    let missing: Vec<Source> = want.difference(&have).cloned().collect();
    if !missing.is_empty() {
        checkpoint(ctx, "admitting clients on the database port")?;
        ec2.authorize_security_group_ingress()
            .group_id(id)
            .ip_permissions(permission(req.port, &missing))
            .send()
            .await
            .map_err(fail("admitting clients on the database port"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Parameter group
// ---------------------------------------------------------------------------------

/// The engine's TLS parameter and the value that turns it on.
pub(crate) fn tls_parameter(engine: Engine) -> (&'static str, &'static str) {
    let name = engine.info().tls_parameter;
    let on = if engine.is_postgres_family() {
        "1"
    } else {
        "ON"
    };
    (name, on)
}

/// The parameters the group must hold: the user's, and TLS on (which wins).
pub(crate) fn wanted_parameters(req: &ParameterGroupRequest) -> BTreeMap<String, String> {
    let mut want = req.parameters.clone();
    let (name, on) = tls_parameter(req.engine);
    want.insert(name.to_owned(), on.to_owned());
    want
}

/// What to change: parameters to set (new or different) and to reset (no longer
/// wanted).
pub(crate) fn parameter_changes(
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> (Vec<(String, String)>, Vec<String>) {
    let set = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let reset = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    (set, reset)
}

/// Ensures the parameter group with the user's parameters and TLS enforced.
pub(crate) async fn ensure_parameter_group(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    req: &ParameterGroupRequest,
) -> Step<ParameterGroupState> {
    if req.engine == Engine::AuroraPostgresql {
        return Step::failed(
            super::aurora_unsupported("ensuring the parameter group"),
            Vec::new(),
        );
    }
    let name = parameter_group_name(&ctx.stack, &req.family);
    let mut components = Vec::new();
    let result = parameter_group_inner(rds, ctx, req, &name, &mut components).await;
    Step { components, result }
}

async fn parameter_group_inner(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    req: &ParameterGroupRequest,
    name: &str,
    components: &mut Vec<ComponentRecord>,
) -> Result<ParameterGroupState, BackendError> {
    checkpoint(ctx, "ensuring the parameter group")?;
    let found = match rds
        .describe_db_parameter_groups()
        .db_parameter_group_name(name)
        .send()
        .await
    {
        Ok(out) => out.db_parameter_groups().first().cloned(),
        Err(e) => {
            let failure = SdkFailure::from_sdk(e);
            if !failure.is_not_found() {
                return Err(backend_error("reading the parameter group", failure));
            }
            None
        }
    };
    checkpoint(ctx, "ensuring the parameter group")?;
    let have = match found {
        Some(group) => {
            let arn = group
                .db_parameter_group_arn()
                .ok_or_else(|| incomplete("reading the parameter group", "its ARN"))?;
            if !rds_arn_owned(rds, ctx, arn).await? {
                return Err(conflict(
                    format!("DB parameter group {name}"),
                    ctx,
                    "rename the database, or delete or rename that parameter group",
                ));
            }
            components.push(parameter_group_record(name));
            user_parameters(rds, name).await?
        }
        None => {
            rds.create_db_parameter_group()
                .db_parameter_group_name(name)
                .db_parameter_group_family(&req.family)
                .description(format!("paved database {}: TLS enforced", ctx.stack))
                .set_tags(Some(rds_tags(ctx, PARAMETER_GROUP_KEY)))
                .send()
                .await
                .map_err(fail("creating the parameter group"))?;
            components.push(parameter_group_record(name));
            BTreeMap::new()
        }
    };
    let (set, reset) = parameter_changes(&have, &wanted_parameters(req));
    for chunk in set.chunks(PARAMETERS_PER_CALL) {
        checkpoint(ctx, "setting the parameters")?;
        // Pending-reboot is accepted for static and dynamic parameters alike; a new
        // instance starts with them, an existing one takes them at its next reboot.
        let params = chunk
            .iter()
            .map(|(k, v)| {
                Parameter::builder()
                    .parameter_name(k)
                    .parameter_value(v)
                    .apply_method(ApplyMethod::PendingReboot)
                    .build()
            })
            .collect();
        rds.modify_db_parameter_group()
            .db_parameter_group_name(name)
            .set_parameters(Some(params))
            .send()
            .await
            .map_err(fail("setting the parameters"))?;
    }
    for chunk in reset.chunks(PARAMETERS_PER_CALL) {
        checkpoint(ctx, "resetting parameters no longer set")?;
        let params = chunk
            .iter()
            .map(|k| {
                Parameter::builder()
                    .parameter_name(k)
                    .apply_method(ApplyMethod::PendingReboot)
                    .build()
            })
            .collect();
        rds.reset_db_parameter_group()
            .db_parameter_group_name(name)
            .set_parameters(Some(params))
            .send()
            .await
            .map_err(fail("resetting parameters no longer set"))?;
    }
    Ok(ParameterGroupState {
        id: name.to_owned(),
        family: req.family.clone(),
    })
}

/// The parameters set by the user (source `user`; moto reports no source).
async fn user_parameters(
    rds: &aws_sdk_rds::Client,
    name: &str,
) -> Result<BTreeMap<String, String>, BackendError> {
    let mut pages = rds
        .describe_db_parameters()
        .db_parameter_group_name(name)
        .source("user")
        .into_paginator()
        .send();
    let mut have = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(fail("reading the parameter group's parameters"))?;
        for p in page.parameters() {
            if p.source().is_some_and(|s| s != "user") {
                continue;
            }
            if let (Some(k), Some(v)) = (p.parameter_name(), p.parameter_value()) {
                have.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    Ok(have)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn tls_is_forced_on_whatever_the_user_wrote() {
        let req = ParameterGroupRequest {
            engine: Engine::Postgres,
            family: "postgres16".into(),
            parameters: map(&[("rds.force_ssl", "0"), ("work_mem", "8192")]),
        };
        assert_eq!(
            wanted_parameters(&req),
            map(&[("rds.force_ssl", "1"), ("work_mem", "8192")])
        );
        let mysql = ParameterGroupRequest {
            engine: Engine::Mysql,
            family: "mysql8.0".into(),
            parameters: BTreeMap::new(),
        };
        assert_eq!(
            wanted_parameters(&mysql),
            map(&[("require_secure_transport", "ON")])
        );
    }

    #[test]
    fn changes_set_differences_and_reset_leftovers() {
        let have = map(&[("a", "1"), ("b", "2"), ("old", "x")]);
        let want = map(&[("a", "1"), ("b", "3"), ("new", "y")]);
        let (set, reset) = parameter_changes(&have, &want);
        assert_eq!(
            set,
            vec![("b".into(), "3".into()), ("new".into(), "y".into())]
        );
        assert_eq!(reset, vec!["old".to_owned()]);
    }
}
