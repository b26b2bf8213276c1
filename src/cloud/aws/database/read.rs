//! The refresh: the whole stack in three concurrent calls: `DescribeDBInstances`
//! filtered by name (the primary and every replica name paved can give it, so the
//! answer holds this database's instances only, however many the account has; kept
//! when their tags name this stack and resource type), EC2 `DescribeSecurityGroups`
//! (by tags) and KMS `DescribeKey` (by alias). The master secret's value is never
//! read: its ARN comes with the instance. The teardown instead lists every instance
//! and keeps those tagged with the stack, whatever their names.
//!
//! The subnet group and the parameter group come with the primary instance
//! (`DBSubnetGroup` with its VPC and subnets, `DBParameterGroups` by name): RDS
//! refuses to delete a group an instance uses, so a group the primary names exists.
//! Only when there is no primary, or it uses a group that is not this stack's
//! (an interrupted apply, a change made by hand), does the refresh ask for them:
//! `DescribeDBSubnetGroups` (by name) and `DescribeDBParameterGroups` (kept when the
//! name is this stack's for its family), both after the first three calls.

use std::collections::BTreeMap;

use aws_sdk_rds::operation::describe_db_instances::builders::DescribeDBInstancesFluentBuilder;
use aws_sdk_rds::types::{DbInstance, DbParameterGroup, DbSubnetGroup, Filter};

use super::groups::{
    ec2_owned, parameter_group_record, security_group_filters, security_group_record,
    subnet_group_record,
};
use super::instance::{
    instance_records, instance_state, replica_record, replica_state, INSTANCE_KEY,
};
use super::{
    backend_error, fail, parameter_group_name, rds_owned, rds_tag, replica_name, subnet_group_name,
    KEY_OWNER,
};
use crate::cloud::aws::error::SdkFailure;
use crate::cloud::aws::kms;
use crate::ports::database::{
    kind, replica_key, DatabaseSnapshot, Engine, ParameterGroupState, SecurityGroupState,
    SubnetGroupState, MAX_READ_REPLICAS,
};
use crate::stack::tags::COMPONENT_TAG;
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The stack's instances: the primary (if any) and the replicas by index.
#[derive(Debug, Default)]
pub(crate) struct StackInstances {
    /// The primary.
    pub primary: Option<DbInstance>,
    /// Replicas by index.
    pub replicas: BTreeMap<u32, DbInstance>,
}

/// Every instance tagged with the stack, whatever its name (all pages of one
/// `DescribeDBInstances` over the account): for the teardown, which must leave
/// nothing of the stack behind.
pub(crate) async fn stack_instances(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
) -> Result<StackInstances, BackendError> {
    instances_of(rds.describe_db_instances(), ctx).await
}

/// The names paved gives the stack's instances: the primary's (the stack's name)
/// and every replica's up to [`MAX_READ_REPLICAS`].
pub(crate) fn instance_names(stack: &str) -> Vec<String> {
    std::iter::once(stack.to_owned())
        .chain((0..MAX_READ_REPLICAS).map(|i| replica_name(stack, i)))
        .collect()
}

/// The stack's instances by name (one `DescribeDBInstances` filtered by
/// `db-instance-id`), kept when tagged with the stack: the refresh's and the
/// apply's look-up, whose cost does not grow with the account's other databases.
pub(crate) async fn named_instances(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
) -> Result<StackInstances, BackendError> {
    let by_name = Filter::builder()
        .name("db-instance-id")
        .set_values(Some(instance_names(&ctx.stack)))
        .build();
    instances_of(rds.describe_db_instances().filters(by_name), ctx).await
}

/// Every page of `request`, the instances tagged with the stack sorted into the
/// primary and the replicas by their component tags.
async fn instances_of(
    request: DescribeDBInstancesFluentBuilder,
    ctx: &StackContext,
) -> Result<StackInstances, BackendError> {
    let mut pages = request.into_paginator().send();
    let mut found = StackInstances::default();
    while let Some(page) = pages.next().await {
        let page = page.map_err(fail("listing the RDS instances"))?;
        for db in page.db_instances() {
            if !rds_owned(db.tag_list(), &ctx.stack) {
                continue;
            }
            match rds_tag(db.tag_list(), COMPONENT_TAG) {
                Some(INSTANCE_KEY) => found.primary = Some(db.clone()),
                Some(key) => {
                    if let Some(i) = key.strip_prefix("replica.").and_then(|i| i.parse().ok()) {
                        found.replicas.insert(i, db.clone());
                    }
                }
                None => {}
            }
        }
    }
    Ok(found)
}

/// The stack's parameter groups (every page of one `DescribeDBParameterGroups`),
/// recognised by name: `paved-<stack>-<family>`.
pub(crate) async fn stack_parameter_groups(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
) -> Result<Vec<DbParameterGroup>, BackendError> {
    let mut pages = rds.describe_db_parameter_groups().into_paginator().send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(fail("listing the parameter groups"))?;
        for g in page.db_parameter_groups() {
            let (Some(name), Some(family)) =
                (g.db_parameter_group_name(), g.db_parameter_group_family())
            else {
                continue;
            };
            if name == parameter_group_name(&ctx.stack, family) {
                found.push(g.clone());
            }
        }
    }
    Ok(found)
}

/// The stack's subnet group, `None` when it does not exist.
async fn subnet_group(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
) -> Result<Option<SubnetGroupState>, BackendError> {
    let name = subnet_group_name(&ctx.stack);
    match rds
        .describe_db_subnet_groups()
        .db_subnet_group_name(&name)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .db_subnet_groups()
            .first()
            .map(|g| subnet_group_state(&name, g))),
        Err(e) => {
            let failure = SdkFailure::from_sdk(e);
            if failure.is_not_found() {
                Ok(None)
            } else {
                Err(backend_error("reading the DB subnet group", failure))
            }
        }
    }
}

/// Subnet group `name` as RDS describes it (alone, or inside an instance).
fn subnet_group_state(name: &str, g: &DbSubnetGroup) -> SubnetGroupState {
    SubnetGroupState {
        id: name.to_owned(),
        subnet_ids: g
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_identifier().map(str::to_owned))
            .collect(),
        vpc_id: g.vpc_id().unwrap_or_default().to_owned(),
        zones: g
            .subnets()
            .iter()
            .map(|s| {
                s.subnet_availability_zone()
                    .and_then(|z| z.name())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect(),
    }
}

/// The stack's subnet group as the primary describes it; `None` when the primary
/// uses another group (or RDS left the group out of its answer).
fn embedded_subnet_group(db: &DbInstance, ctx: &StackContext) -> Option<SubnetGroupState> {
    let name = subnet_group_name(&ctx.stack);
    let g = db.db_subnet_group()?;
    let same = g
        .db_subnet_group_name()
        .is_some_and(|n| n.eq_ignore_ascii_case(&name));
    (same && !g.subnets().is_empty()).then(|| subnet_group_state(&name, g))
}

/// The stack's parameter group as the primary names it, with the family of the
/// primary's engine and version; `None` when the primary uses a group whose name is
/// not this stack's for that family.
fn embedded_parameter_group(db: &DbInstance, ctx: &StackContext) -> Option<ParameterGroupState> {
    let engine = Engine::parse(db.engine()?)?;
    let major = engine.major_of(db.engine_version()?)?;
    let family = format!("{}{major}", engine.info().family_prefix);
    let name = parameter_group_name(&ctx.stack, &family);
    db.db_parameter_groups()
        .iter()
        .any(|g| g.db_parameter_group_name() == Some(name.as_str()))
        .then_some(ParameterGroupState { id: name, family })
}

/// The parameter group to show among the stack's `groups`: the one the primary uses
/// (`primary_group`), else the first.
fn chosen_parameter_group(
    groups: &[DbParameterGroup],
    primary_group: Option<&str>,
) -> Option<ParameterGroupState> {
    groups
        .iter()
        .find(|g| g.db_parameter_group_name() == primary_group)
        .or_else(|| groups.first())
        .map(|g| ParameterGroupState {
            id: g.db_parameter_group_name().unwrap_or_default().to_owned(),
            family: g.db_parameter_group_family().unwrap_or_default().to_owned(),
        })
}

/// The stack's security groups (by tags), with the sources their ingress admits.
pub(crate) async fn stack_security_groups(
    ec2: &aws_sdk_ec2::Client,
    ctx: &StackContext,
) -> Result<Vec<SecurityGroupState>, BackendError> {
    let out = ec2
        .describe_security_groups()
        .set_filters(Some(security_group_filters(&ctx.stack)))
        .send()
        .await
        .map_err(fail("reading the database security group"))?;
    Ok(out
        .security_groups()
        .iter()
        .filter(|g| ec2_owned(g.tags(), &ctx.stack))
        .filter_map(|g| {
            let mut groups = Vec::new();
            let mut cidrs = Vec::new();
            for p in g.ip_permissions() {
                groups.extend(
                    p.user_id_group_pairs()
                        .iter()
                        .filter_map(|pair| pair.group_id().map(str::to_owned)),
                );
                cidrs.extend(
                    p.ip_ranges()
                        .iter()
                        .filter_map(|r| r.cidr_ip().map(str::to_owned)),
                );
            }
            Some(SecurityGroupState {
                id: g.group_id()?.to_owned(),
                allowed_security_group_ids: groups,
                allowed_cidrs: cidrs,
            })
        })
        .collect())
}

/// Reads the whole stack: three concurrent calls, and the group describes only when
/// the primary does not name the stack's groups (see the module's documentation).
pub(crate) async fn read_stack(
    rds: &aws_sdk_rds::Client,
    ec2: &aws_sdk_ec2::Client,
    kms_client: &aws_sdk_kms::Client,
    ctx: &StackContext,
) -> Step<DatabaseSnapshot> {
    let (instances, security, key) = tokio::join!(
        named_instances(rds, ctx),
        stack_security_groups(ec2, ctx),
        kms::read_key(kms_client, ctx, KEY_OWNER),
    );
    let primary = instances.as_ref().ok().and_then(|f| f.primary.as_ref());
    let primary_group = primary
        .and_then(|db| db.db_parameter_groups().first())
        .and_then(|g| g.db_parameter_group_name())
        .map(str::to_owned);
    let embedded_subnets = primary.and_then(|db| embedded_subnet_group(db, ctx));
    let embedded_parameters = primary.and_then(|db| embedded_parameter_group(db, ctx));
    let (subnets, parameters) = tokio::join!(
        async {
            match embedded_subnets {
                Some(g) => Ok(Some(g)),
                None => subnet_group(rds, ctx).await,
            }
        },
        async {
            match embedded_parameters {
                Some(g) => Ok(Some(g)),
                None => stack_parameter_groups(rds, ctx)
                    .await
                    .map(|groups| chosen_parameter_group(&groups, primary_group.as_deref())),
            }
        },
    );
    let mut snap = DatabaseSnapshot::default();
    let mut first_error = None;
    let mut keep = |e: BackendError| {
        if first_error.is_none() {
            first_error = Some(e);
        }
    };
    match key {
        Ok(k) => snap.key = k,
        Err(e) => keep(e),
    }
    match subnets {
        Ok(s) => snap.subnet_group = s,
        Err(e) => keep(e),
    }
    match security {
        Ok(groups) => snap.security_group = groups.into_iter().next(),
        Err(e) => keep(e),
    }
    match instances {
        Ok(found) => {
            if let Some(db) = &found.primary {
                snap.instance = Some(instance_state(db));
            }
            snap.replicas = found
                .replicas
                .iter()
                .map(|(i, db)| (*i, replica_state(*i, db)))
                .collect();
            snap.components = instance_rows(&found);
            let tags_of = |db: &aws_sdk_rds::types::DbInstance| -> BTreeMap<String, String> {
                db.tag_list()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                    .collect()
            };
            if let Some(db) = &found.primary {
                snap.tags.insert(INSTANCE_KEY.to_owned(), tags_of(db));
            }
            for (i, db) in &found.replicas {
                snap.tags.insert(replica_key(*i), tags_of(db));
            }
        }
        Err(e) => keep(e),
    }
    match parameters {
        Ok(g) => snap.parameter_group = g,
        Err(e) => keep(e),
    }
    let mut records = group_records(&snap);
    records.append(&mut snap.components);
    snap.components = records;
    let components = snap.components.clone();
    match first_error {
        None => Step::done(snap, components),
        Some(e) => Step::failed(e, components),
    }
}

/// `components` with the ids RDS tags by (ARNs) in place of names: the instance's
/// and the replicas' ARNs as `DescribeDBInstances` gives them, the groups' built
/// from the primary's region and account. Other components are unchanged.
pub(crate) async fn rds_arns(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
    components: &[ComponentRecord],
) -> Result<Vec<ComponentRecord>, BackendError> {
    let found = named_instances(rds, ctx).await?;
    let mut arn_of: BTreeMap<String, String> = BTreeMap::new();
    if let Some(db) = &found.primary {
        arn_of.insert(
            INSTANCE_KEY.to_owned(),
            db.db_instance_arn().unwrap_or_default().to_owned(),
        );
    }
    for (i, db) in &found.replicas {
        arn_of.insert(
            replica_key(*i),
            db.db_instance_arn().unwrap_or_default().to_owned(),
        );
    }
    // arn:aws:rds:REGION:ACCOUNT:db:NAME -> arn:aws:rds:REGION:ACCOUNT:
    let prefix = arn_of
        .values()
        .find_map(|a| a.find(":db:").map(|i| a[..=i].to_owned()));
    Ok(components
        .iter()
        .map(|c| {
            let mut c = c.clone();
            let arn = match c.kind.as_str() {
                kind::DB_INSTANCE | kind::DB_REPLICA => arn_of.get(&c.key).cloned(),
                kind::SUBNET_GROUP => prefix.as_ref().map(|p| format!("{p}subgrp:{}", c.id)),
                kind::PARAMETER_GROUP => prefix.as_ref().map(|p| format!("{p}pg:{}", c.id)),
                _ => None,
            };
            if let Some(arn) = arn.filter(|a| !a.is_empty()) {
                c.id = arn;
            }
            c
        })
        .collect())
}

fn group_records(snap: &DatabaseSnapshot) -> Vec<ComponentRecord> {
    let mut out = Vec::new();
    if let Some(k) = &snap.key {
        out.push(super::record(
            kms::KEY_COMPONENT,
            kms::KEY_COMPONENT,
            None,
            &k.id,
        ));
    }
    if let Some(g) = &snap.subnet_group {
        out.push(subnet_group_record(&g.id));
    }
    if let Some(g) = &snap.security_group {
        out.push(security_group_record(&g.id));
    }
    if let Some(g) = &snap.parameter_group {
        out.push(parameter_group_record(&g.id));
    }
    out
}

fn instance_rows(found: &StackInstances) -> Vec<ComponentRecord> {
    let mut out = Vec::new();
    if let Some(db) = &found.primary {
        out.extend(instance_records(db));
    }
    for (i, db) in &found.replicas {
        out.push(replica_record(*i, db));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use aws_sdk_rds::types::{AvailabilityZone, DbParameterGroupStatus, Subnet};
    use tokio_util::sync::CancellationToken;

    use super::*;

    fn ctx() -> StackContext {
        StackContext {
            stack: "orders".into(),
            resource_type: super::super::RESOURCE_TYPE,
            tags: BTreeMap::new(),
            cancel: CancellationToken::new(),
            deadline: None,
        }
    }

    #[test]
    fn the_refresh_asks_for_every_name_paved_gives_and_no_other() {
        let names = instance_names("orders");
        assert_eq!(names.len(), 1 + MAX_READ_REPLICAS as usize);
        assert_eq!(names[0], "orders");
        assert_eq!(names[1], replica_name("orders", 0));
        assert_eq!(names.last().map(String::as_str), Some("orders-replica-14"));
    }

    fn primary(subnet_group: &str, parameter_group: &str, version: &str) -> DbInstance {
        let subnet = |id: &str, zone: &str| {
            Subnet::builder()
                .subnet_identifier(id)
                .subnet_availability_zone(AvailabilityZone::builder().name(zone).build())
                .build()
        };
        DbInstance::builder()
            .engine("postgres")
            .engine_version(version)
            .db_subnet_group(
                DbSubnetGroup::builder()
                    .db_subnet_group_name(subnet_group)
                    .vpc_id("vpc-1")
                    .subnets(subnet("subnet-a", "us-east-1a"))
                    .subnets(subnet("subnet-b", "us-east-1b"))
                    .build(),
            )
            .db_parameter_groups(
                DbParameterGroupStatus::builder()
                    .db_parameter_group_name(parameter_group)
                    .parameter_apply_status("in-sync")
                    .build(),
            )
            .build()
    }

    #[test]
    fn the_primary_tells_the_stacks_groups() {
        let db = primary("paved-orders", "paved-orders-postgres16", "16.3");
        assert_eq!(
            embedded_subnet_group(&db, &ctx()),
            Some(SubnetGroupState {
                id: "paved-orders".into(),
                subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
                vpc_id: "vpc-1".into(),
                zones: vec!["us-east-1a".into(), "us-east-1b".into()],
            })
        );
        assert_eq!(
            embedded_parameter_group(&db, &ctx()),
            Some(ParameterGroupState {
                id: "paved-orders-postgres16".into(),
                family: "postgres16".into(),
            })
        );
    }

    #[test]
    fn groups_that_are_not_the_stacks_are_described_instead() {
        // A group made by hand, and a parameter group of another family than the
        // running version's (an upgrade cut off): neither is taken from the primary.
        let db = primary("custom", "default.postgres16", "16.3");
        assert_eq!(embedded_subnet_group(&db, &ctx()), None);
        assert_eq!(embedded_parameter_group(&db, &ctx()), None);
        let db = primary("paved-orders", "paved-orders-postgres15", "16.3");
        assert_eq!(embedded_parameter_group(&db, &ctx()), None);
        // Without the group in the answer, nothing is assumed.
        let bare = DbInstance::builder().engine("postgres").build();
        assert_eq!(embedded_subnet_group(&bare, &ctx()), None);
        assert_eq!(embedded_parameter_group(&bare, &ctx()), None);
    }

    #[test]
    fn the_primarys_group_is_chosen_among_the_stacks() {
        let group = |name: &str, family: &str| {
            DbParameterGroup::builder()
                .db_parameter_group_name(name)
                .db_parameter_group_family(family)
                .build()
        };
        let groups = [
            group("paved-orders-postgres15", "postgres15"),
            group("paved-orders-postgres16", "postgres16"),
        ];
        let chosen = chosen_parameter_group(&groups, Some("paved-orders-postgres16"));
        assert_eq!(chosen.map(|g| g.family), Some("postgres16".to_owned()));
        let chosen = chosen_parameter_group(&groups, None);
        assert_eq!(chosen.map(|g| g.family), Some("postgres15".to_owned()));
        assert_eq!(chosen_parameter_group(&[], None), None);
    }
}
