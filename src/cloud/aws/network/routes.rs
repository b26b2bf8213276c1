//! The route tables of the stack's network, for [`super::ensure`]: each table
//! adopted or created, its default route pointed at the internet gateway or a NAT
//! gateway (or removed), and its subnets associated (moved from another of the
//! stack's tables when the NAT layout changed).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::ResourceType;
use aws_sdk_ec2::Client;
use futures::future::join_all;

use super::{component_tags, fail, missing_id, pick, tag_spec, Found};
use crate::stack::{BackendError, StackContext};

/// The route every public and private route table sends to the internet.
const DEFAULT_ROUTE: &str = "0.0.0.0/0";

/// One route table to ensure: key, zone, default route target, subnets.
pub(super) type TablePlan = (String, Option<String>, Option<Target>, Vec<String>);

/// Where a route table's default route goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    Gateway(String),
    Nat(String),
}

pub(super) async fn ensure_route_table(
    ec2: &Client,
    ctx: &StackContext,
    found: &Found,
    vpc_id: &str,
    key: &str,
    target: Option<&Target>,
    subnets: &[String],
) -> Result<String, BackendError> {
    let existing = pick(
        &found.route_tables,
        key,
        |r| r.tags(),
        |r| r.vpc_id() == Some(vpc_id),
    );
    let id = match existing {
        Some(table) => table.route_table_id().unwrap_or_default().to_owned(),
        None => {
            let op = format!("creating route table {key}");
            let created = ec2
                .create_route_table()
                .vpc_id(vpc_id)
                .tag_specifications(tag_spec(
                    ResourceType::RouteTable,
                    component_tags(ctx, key, &[]),
                ))
                .send()
                .await
                .map_err(fail(&op))?;
            created
                .route_table()
                .and_then(|r| r.route_table_id())
                .ok_or_else(|| missing_id(&op))?
                .to_owned()
        }
    };

    // The default route.
    let current = existing.and_then(|t| {
        t.routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some(DEFAULT_ROUTE))
    });
    let matches = |route: &aws_sdk_ec2::types::Route, target: &Target| {
        let active = route.state().is_none_or(|s| s.as_str() == "active");
        active
            && match target {
                Target::Gateway(g) => route.gateway_id() == Some(g.as_str()),
                Target::Nat(n) => route.nat_gateway_id() == Some(n.as_str()),
            }
    };
    match (current, target) {
        (Some(route), Some(target)) if matches(route, target) => {}
        (Some(_), Some(target)) => {
            let op = format!("pointing the default route of {key} ({id}) at {target:?}");
            let request = ec2
                .replace_route()
                .route_table_id(&id)
                .destination_cidr_block(DEFAULT_ROUTE);
            let request = match target {
                Target::Gateway(g) => request.gateway_id(g),
                Target::Nat(n) => request.nat_gateway_id(n),
            };
            request.send().await.map_err(fail(op))?;
        }
        (None, Some(target)) => {
            let op = format!("adding the default route to {key} ({id})");
            let request = ec2
                .create_route()
                .route_table_id(&id)
                .destination_cidr_block(DEFAULT_ROUTE);
            let request = match target {
                Target::Gateway(g) => request.gateway_id(g),
                Target::Nat(n) => request.nat_gateway_id(n),
            };
            request.send().await.map_err(fail(op))?;
        }
        (Some(_), None) => {
            // The table should not reach the internet (intra, or NAT turned off).
            let op = format!("removing the default route from {key} ({id})");
            ec2.delete_route()
                .route_table_id(&id)
                .destination_cidr_block(DEFAULT_ROUTE)
                .send()
                .await
                .map_err(fail(op))?;
        }
        (None, None) => {}
    }

    // Associations: every subnet of the table, and only those paved put there.
    let associated: BTreeSet<&str> = existing
        .map(|t| {
            t.associations()
                .iter()
                .filter(|a| !a.main().unwrap_or(false))
                .filter_map(|a| a.subnet_id())
                .collect()
        })
        .unwrap_or_default();
    // A subnet of ours explicitly associated with another of the stack's tables
    // (e.g. after the NAT layout changed) is moved with ReplaceRouteTableAssociation.
    let elsewhere: BTreeMap<&str, &str> = found
        .route_tables
        .iter()
        .filter(|t| t.route_table_id() != Some(id.as_str()))
        .flat_map(|t| t.associations())
        .filter(|a| !a.main().unwrap_or(false))
        .filter_map(|a| Some((a.subnet_id()?, a.route_table_association_id()?)))
        .collect();
    let jobs = subnets
        .iter()
        .filter(|s| !associated.contains(s.as_str()))
        .map(|subnet| {
            let id = id.as_str();
            let moved = elsewhere.get(subnet.as_str()).copied();
            async move {
                match moved {
                    Some(association) => ec2
                        .replace_route_table_association()
                        .association_id(association)
                        .route_table_id(id)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(fail(format!(
                            "moving subnet {subnet} to route table {key} ({id})"
                        ))),
                    None => ec2
                        .associate_route_table()
                        .route_table_id(id)
                        .subnet_id(subnet)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(fail(format!(
                            "associating subnet {subnet} with route table {key} ({id})"
                        ))),
                }
            }
        });
    for result in join_all(jobs).await {
        result?;
    }
    Ok(id)
}
