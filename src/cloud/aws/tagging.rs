//! Retagging: when a stack's tags change (the resource's `tags` or the provider's
//! `default_tags`), every component paved owns gets the new set, in batched calls
//! per service, and the keys no longer wanted are removed.
//!
//! | components | calls |
//! |---|---|
//! | VPC, subnets, internet gateway, addresses, NAT gateways, route tables, launch templates, security groups | one `CreateTags` for all of them (and one `DeleteTags`) |
//! | EKS cluster, node groups | `TagResource` (and `UntagResource`) per ARN |
//! | IAM roles, OIDC provider | `TagRole` / `TagOpenIDConnectProvider` (and the untag calls) |
//! | KMS key | `TagResource` (and `UntagResource`) |
//! | log group | `TagResource` (and `UntagResource`) on the group's ARN |
//! | RDS instances, replicas, subnet and parameter groups | `AddTagsToResource` (and `RemoveTagsFromResource`) per ARN |
//!
//! Access entries and the RDS-managed secret are not retagged: EKS tags an access
//! entry only at creation, and the secret belongs to RDS. Only the user's tags move;
//! paved's identity tags (`paved:*`) never change on a component.
//!
//! The observability stack's retag ([`super::observability`]) reuses [`retag_roles`]
//! and [`iam_tags`] for its roles.

use std::collections::BTreeMap;

use crate::cloud::aws::error::{failed, unless_gone, SdkFailure};
use crate::stack::{BackendError, ComponentRecord, StackContext};

/// The clients a retag may need; `None` for services the stack does not use.
#[derive(Default)]
pub(crate) struct Taggers<'a> {
    /// EC2 (network objects, launch templates, security groups).
    pub ec2: Option<&'a aws_sdk_ec2::Client>,
    /// EKS (cluster, node groups).
    pub eks: Option<&'a aws_sdk_eks::Client>,
    /// IAM (roles, OIDC provider).
    pub iam: Option<&'a aws_sdk_iam::Client>,
    /// KMS (the key paved created).
    pub kms: Option<&'a aws_sdk_kms::Client>,
    /// CloudWatch Logs (the control plane's log group).
    pub logs: Option<&'a aws_sdk_cloudwatchlogs::Client>,
    /// RDS (instances, replicas, groups); ids are ARNs.
    pub rds: Option<&'a aws_sdk_rds::Client>,
}

/// Where a component's tags are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Ec2,
    Eks,
    IamRole,
    IamOidc,
    Kms,
    Logs,
    Rds,
}

/// The service that tags a component of `kind`; `None` for kinds not retagged.
fn service_of(kind: &str) -> Option<Service> {
    Some(match kind {
        "vpc" | "subnet" | "internet_gateway" | "elastic_ip" | "nat_gateway" | "route_table"
        | "launch_template" | "security_group" => Service::Ec2,
        "cluster" | "node_group" | "eks_addon" => Service::Eks,
        "iam_role" => Service::IamRole,
        "oidc_provider" => Service::IamOidc,
        "kms_key" => Service::Kms,
        "log_group" => Service::Logs,
        "db_instance" | "db_replica" | "db_subnet_group" | "parameter_group" | "db_cluster" => {
            Service::Rds
        }
        _ => return None,
    })
}

/// The name in an IAM role's ARN (`arn:aws:iam::1:role/path/name` gives `name`).
pub(crate) fn role_of_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// `region` and `account` of the first regional ARN among `components`.
fn region_and_account(components: &[ComponentRecord]) -> Option<(String, String)> {
    components.iter().find_map(|c| {
        let mut parts = c.id.split(':');
        let (arn, _partition, _service, region, account) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        (arn == "arn" && !region.is_empty() && !account.is_empty())
            .then(|| (region.to_owned(), account.to_owned()))
    })
}

/// Sets `ctx.tags` on every component in `components` that a service of `t` tags,
/// and removes the keys in `removed`. Stops at the first failure, naming it.
pub(crate) async fn retag(
    t: &Taggers<'_>,
    ctx: &StackContext,
    components: &[ComponentRecord],
    removed: &[String],
) -> Result<(), BackendError> {
    let tags = &ctx.tags;
    let mut by_service: BTreeMap<u8, Vec<&ComponentRecord>> = BTreeMap::new();
    for c in components {
        if let Some(s) = service_of(&c.kind) {
            by_service.entry(s as u8).or_default().push(c);
        }
    }
    let of = |s: Service| by_service.get(&(s as u8)).cloned().unwrap_or_default();
    let (ec2_items, eks_items, roles, providers, keys, groups, rds_items) = (
        of(Service::Ec2),
        of(Service::Eks),
        of(Service::IamRole),
        of(Service::IamOidc),
        of(Service::Kms),
        of(Service::Logs),
        of(Service::Rds),
    );
    ctx.checkpoint("retagging the stack's components")?;
    let (ec2, eks, iam, kms, logs, rds) = futures::join!(
        ec2_retag(t.ec2, &ec2_items, tags, removed),
        eks_retag(t.eks, &eks_items, tags, removed),
        iam_retag(t.iam, &roles, &providers, tags, removed),
        kms_retag(t.kms, &keys, tags, removed),
        logs_retag(t.logs, &groups, components, tags, removed),
        rds_retag(t.rds, &rds_items, tags, removed),
    );
    ec2.and(eks).and(iam).and(kms).and(logs).and(rds)
}

/// `tags` as a service's tag list, each made by `build` (which fails only for a tag
/// without a key or value, and none is).
pub(crate) fn tag_list<T, E>(
    tags: &BTreeMap<String, String>,
    build: impl Fn(&str, &str) -> Result<T, E>,
) -> Vec<T> {
    tags.iter().filter_map(|(k, v)| build(k, v).ok()).collect()
}

/// Tags as IAM takes them (roles, OIDC providers).
pub(crate) fn iam_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_iam::types::Tag> {
    tag_list(tags, |k, v| {
        aws_sdk_iam::types::Tag::builder().key(k).value(v).build()
    })
}

/// Sets `tags` on the IAM roles `names` and removes the keys in `removed`; a role
/// `gone` says no longer exists needs no tags.
pub(crate) async fn retag_roles(
    iam: &aws_sdk_iam::Client,
    names: &[&str],
    tags: &BTreeMap<String, String>,
    removed: &[String],
    gone: fn(&SdkFailure) -> bool,
) -> Result<(), BackendError> {
    let set = iam_tags(tags);
    for &name in names {
        let tagged = iam
            .tag_role()
            .role_name(name)
            .set_tags(Some(set.clone()))
            .send()
            .await;
        unless_gone(tagged, gone).map_err(failed("IAM", format!("retagging IAM role {name}")))?;
        if !removed.is_empty() {
            let untagged = iam
                .untag_role()
                .role_name(name)
                .set_tag_keys(Some(removed.to_vec()))
                .send()
                .await;
            unless_gone(untagged, gone)
                .map_err(failed("IAM", format!("removing tags of IAM role {name}")))?;
        }
    }
    Ok(())
}

async fn ec2_retag(
    ec2: Option<&aws_sdk_ec2::Client>,
    items: &[&ComponentRecord],
    tags: &BTreeMap<String, String>,
    removed: &[String],
) -> Result<(), BackendError> {
    let Some(ec2) = ec2.filter(|_| !items.is_empty()) else {
        return Ok(());
    };
    let ids: Vec<String> = items.iter().map(|c| c.id.clone()).collect();
    let set: Vec<aws_sdk_ec2::types::Tag> = tags
        .iter()
        .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
        .collect();
    ec2.create_tags()
        .set_resources(Some(ids.clone()))
        .set_tags(Some(set))
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
        .map_err(failed(
            "EC2",
            format!("retagging {} network components", ids.len()),
        ))?;
    if !removed.is_empty() {
        let gone: Vec<aws_sdk_ec2::types::Tag> = removed
            .iter()
            .map(|k| aws_sdk_ec2::types::Tag::builder().key(k).build())
            .collect();
        ec2.delete_tags()
            .set_resources(Some(ids))
            .set_tags(Some(gone))
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(failed("EC2", "removing tags no longer wanted"))?;
    }
    Ok(())
}

async fn eks_retag(
    eks: Option<&aws_sdk_eks::Client>,
    items: &[&ComponentRecord],
    tags: &BTreeMap<String, String>,
    removed: &[String],
) -> Result<(), BackendError> {
    let Some(eks) = eks else { return Ok(()) };
    for c in items {
        // A node group deleted since the stack was read needs no tags.
        match eks
            .tag_resource()
            .resource_arn(&c.id)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
        {
            Ok(_) => {}
            Err(f) if c.kind == "node_group" && f.code_is("ResourceNotFoundException") => continue,
            Err(f) => return Err(failed("EKS", format!("retagging {}", c.key))(f)),
        }
        if !removed.is_empty() {
            eks.untag_resource()
                .resource_arn(&c.id)
                .set_tag_keys(Some(removed.to_vec()))
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(failed("EKS", format!("removing tags of {}", c.key)))?;
        }
    }
    Ok(())
}

async fn iam_retag(
    iam: Option<&aws_sdk_iam::Client>,
    roles: &[&ComponentRecord],
    providers: &[&ComponentRecord],
    tags: &BTreeMap<String, String>,
    removed: &[String],
) -> Result<(), BackendError> {
    let Some(iam) = iam else { return Ok(()) };
    // A role of the cluster is never skipped: one gone since the read is an error.
    let names: Vec<&str> = roles.iter().map(|c| role_of_arn(&c.id)).collect();
    retag_roles(iam, &names, tags, removed, |_| false).await?;
    for c in providers {
        iam.tag_open_id_connect_provider()
            .open_id_connect_provider_arn(&c.id)
            .set_tags(Some(iam_tags(tags)))
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(failed("IAM", "retagging the OIDC provider"))?;
        if !removed.is_empty() {
            iam.untag_open_id_connect_provider()
                .open_id_connect_provider_arn(&c.id)
                .set_tag_keys(Some(removed.to_vec()))
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(failed("IAM", "removing tags of the OIDC provider"))?;
        }
    }
    Ok(())
}

async fn kms_retag(
    kms: Option<&aws_sdk_kms::Client>,
    items: &[&ComponentRecord],
    tags: &BTreeMap<String, String>,
    removed: &[String],
) -> Result<(), BackendError> {
    let Some(kms) = kms else { return Ok(()) };
    for c in items {
        let set = tag_list(tags, |k, v| {
            aws_sdk_kms::types::Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
        });
        kms.tag_resource()
            .key_id(&c.id)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(failed("KMS", "retagging the key"))?;
        if !removed.is_empty() {
            kms.untag_resource()
                .key_id(&c.id)
                .set_tag_keys(Some(removed.to_vec()))
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(failed("KMS", "removing tags of the key"))?;
        }
    }
    Ok(())
}

async fn logs_retag(
    logs: Option<&aws_sdk_cloudwatchlogs::Client>,
    items: &[&ComponentRecord],
    all: &[ComponentRecord],
    tags: &BTreeMap<String, String>,
    removed: &[String],
) -> Result<(), BackendError> {
    let Some(logs) = logs.filter(|_| !items.is_empty()) else {
        return Ok(());
    };
    let Some((region, account)) = region_and_account(all) else {
        return Ok(());
    };
    for c in items {
        let arn = format!("arn:aws:logs:{region}:{account}:log-group:{}", c.id);
        logs.tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(failed(
                "CloudWatch Logs",
                format!("retagging log group {}", c.id),
            ))?;
        if !removed.is_empty() {
            logs.untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(removed.to_vec()))
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(failed(
                    "CloudWatch Logs",
                    format!("removing tags of log group {}", c.id),
                ))?;
        }
    }
    Ok(())
}

async fn rds_retag(
    rds: Option<&aws_sdk_rds::Client>,
    items: &[&ComponentRecord],
    tags: &BTreeMap<String, String>,
    removed: &[String],
) -> Result<(), BackendError> {
    let Some(rds) = rds else { return Ok(()) };
    for c in items.iter().filter(|c| c.id.starts_with("arn:")) {
        let set: Vec<aws_sdk_rds::types::Tag> = tags
            .iter()
            .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
            .collect();
        rds.add_tags_to_resource()
            .resource_name(&c.id)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(failed("RDS", format!("retagging {}", c.key)))?;
        if !removed.is_empty() {
            rds.remove_tags_from_resource()
                .resource_name(&c.id)
                .set_tag_keys(Some(removed.to_vec()))
                .send()
                .await
                .map_err(SdkFailure::from_sdk)
                .map_err(failed("RDS", format!("removing tags of {}", c.key)))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(kind: &str, id: &str) -> ComponentRecord {
        ComponentRecord {
            key: kind.into(),
            kind: kind.into(),
            zone: None,
            id: id.into(),
        }
    }

    #[test]
    fn every_cluster_kind_but_access_entries_is_retagged() {
        for kind in [
            "vpc",
            "subnet",
            "internet_gateway",
            "elastic_ip",
            "nat_gateway",
            "route_table",
            "launch_template",
            "cluster",
            "node_group",
            "iam_role",
            "oidc_provider",
            "kms_key",
            "log_group",
        ] {
            assert!(service_of(kind).is_some(), "{kind}");
        }
        assert_eq!(service_of("access_entry"), None);
        assert_eq!(service_of("secret"), None);
    }

    #[test]
    fn the_log_group_arn_comes_from_a_regional_arn() {
        let all = vec![
            rec("log_group", "/aws/eks/shop/cluster"),
            rec("iam_role", "arn:aws:iam::123456789012:role/shop-node"),
            rec("cluster", "arn:aws:eks:eu-west-1:123456789012:cluster/shop"),
        ];
        assert_eq!(
            region_and_account(&all),
            Some(("eu-west-1".to_owned(), "123456789012".to_owned()))
        );
        assert_eq!(region_and_account(&all[..2]), None);
    }
}
