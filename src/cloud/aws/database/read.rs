//! The refresh: the whole stack in five concurrent calls (one page each for a
//! typical account): `DescribeDBInstances` (every instance, kept when its tags name
//! this stack and resource type), `DescribeDBSubnetGroups` (by name),
//! `DescribeDBParameterGroups` (kept when the name is this stack's for its family),
//! EC2 `DescribeSecurityGroups` (by tags) and KMS `DescribeKey` (by alias). The
//! master secret's value is never read: its ARN comes with the instance.

use std::collections::BTreeMap;

use aws_sdk_rds::types::{DbInstance, DbParameterGroup};

use super::groups::{
    ec2_owned, parameter_group_record, security_group_filters, security_group_record,
    subnet_group_record,
};
use super::instance::{
    instance_records, instance_state, replica_record, replica_state, INSTANCE_KEY,
};
use super::{
    backend_error, fail, parameter_group_name, rds_owned, rds_tag, subnet_group_name, KEY_OWNER,
};
use crate::cloud::aws::error::SdkFailure;
use crate::cloud::aws::kms;
use crate::ports::database::{
    kind, replica_key, DatabaseSnapshot, ParameterGroupState, SecurityGroupState, SubnetGroupState,
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

/// Every instance tagged with the stack (all pages of one `DescribeDBInstances`).
pub(crate) async fn stack_instances(
    rds: &aws_sdk_rds::Client,
    ctx: &StackContext,
) -> Result<StackInstances, BackendError> {
    let mut pages = rds.describe_db_instances().into_paginator().send();
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
        Ok(out) => Ok(out.db_subnet_groups().first().map(|g| SubnetGroupState {
            id: name.clone(),
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
        })),
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

/// Reads the whole stack with five concurrent calls.
pub(crate) async fn read_stack(
    rds: &aws_sdk_rds::Client,
    ec2: &aws_sdk_ec2::Client,
    kms_client: &aws_sdk_kms::Client,
    ctx: &StackContext,
) -> Step<DatabaseSnapshot> {
    let (instances, subnets, parameters, security, key) = tokio::join!(
        stack_instances(rds, ctx),
        subnet_group(rds, ctx),
        stack_parameter_groups(rds, ctx),
        stack_security_groups(ec2, ctx),
        kms::read_key(kms_client, ctx, KEY_OWNER),
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
    let mut primary_group = None;
    match instances {
        Ok(found) => {
            if let Some(db) = &found.primary {
                primary_group = db
                    .db_parameter_groups()
                    .first()
                    .and_then(|g| g.db_parameter_group_name())
                    .map(str::to_owned);
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
        Ok(groups) => {
            let chosen = groups
                .iter()
                .find(|g| g.db_parameter_group_name() == primary_group.as_deref())
                .or_else(|| groups.first());
            snap.parameter_group = chosen.map(|g| ParameterGroupState {
                id: g.db_parameter_group_name().unwrap_or_default().to_owned(),
                family: g.db_parameter_group_family().unwrap_or_default().to_owned(),
            });
        }
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
    let found = stack_instances(rds, ctx).await?;
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
