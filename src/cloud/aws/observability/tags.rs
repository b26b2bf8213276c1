//! Retagging: when the stack's tags change, every component gets the new set and
//! loses the keys no longer wanted, in batched calls.
//!
//! | components | calls |
//! |---|---|
//! | buckets, the workspace (and its rule groups namespace), the alert topic | one `TagResources` per 20 ARNs (and one `UntagResources`) of the Resource Groups Tagging API |
//! | roles | `TagRole` (and `UntagRole`) per role |
//!
//! An ARN the tagging API reports as failed (an endpoint that does not support that
//! service through it, as moto for AMP) is tagged with its own service's call
//! instead: AMP's and SNS's `TagResource`/`UntagResource`, S3's `PutBucketTagging`
//! over the bucket's current tags. Components gone since the stack was read need no
//! tags. Only the user's tags move; paved's identity tags never change.

use std::collections::BTreeMap;

use aws_sdk_resourcegroupstagging::Client as Tagging;

use super::buckets::put_tags;
use super::names::{bucket_arn, bucket_of_arn, rules_namespace_arn};
use super::{fail, failed, hash_map, kind, not_found, unless_gone, Clients};
use crate::cloud::aws::error::SdkFailure;
use crate::stack::{BackendError, ComponentRecord, StackContext};

/// ARNs per `TagResources` / `UntagResources` call (the API's limit).
const ARNS_PER_CALL: usize = 20;

/// What a retag does to one resource.
#[derive(Clone, Copy)]
enum Change<'a> {
    Set(&'a BTreeMap<String, String>),
    Remove(&'a [String]),
}

/// Sets `ctx.tags` on every component and removes the keys in `removed`; see the
/// module's documentation.
pub(super) async fn retag(
    c: &Clients,
    ctx: &StackContext,
    region: &str,
    components: &[ComponentRecord],
    removed: &[String],
) -> Result<(), BackendError> {
    let mut arns = Vec::new();
    let mut roles = Vec::new();
    for component in components {
        match component.kind.as_str() {
            kind::BUCKET => arns.push(bucket_arn(region, &component.id)),
            kind::METRICS_WORKSPACE => {
                arns.push(component.id.clone());
                arns.extend(rules_namespace_arn(&component.id));
            }
            kind::ALERT_TOPIC => arns.push(component.id.clone()),
            kind::IDENTITY => {
                let name = component.id.rsplit('/').next().unwrap_or(&component.id);
                roles.push(name.to_owned());
            }
            _ => {}
        }
    }
    ctx.checkpoint("retagging the stack's components")?;
    let (by_arn, by_role) = futures::join!(
        retag_arns(c, &arns, &ctx.tags, removed),
        retag_roles(&c.iam, &roles, &ctx.tags, removed),
    );
    by_arn.and(by_role)
}

async fn retag_arns(
    c: &Clients,
    arns: &[String],
    tags: &BTreeMap<String, String>,
    removed: &[String],
) -> Result<(), BackendError> {
    for chunk in arns.chunks(ARNS_PER_CALL) {
        for arn in set_through_api(&c.tagging, chunk, tags).await? {
            by_service(c, &arn, Change::Set(tags)).await?;
        }
        if !removed.is_empty() {
            for arn in remove_through_api(&c.tagging, chunk, removed).await? {
                by_service(c, &arn, Change::Remove(removed)).await?;
            }
        }
    }
    Ok(())
}

/// One `TagResources`; returns the ARNs it failed for.
async fn set_through_api(
    tagging: &Tagging,
    arns: &[String],
    tags: &BTreeMap<String, String>,
) -> Result<Vec<String>, BackendError> {
    let out = tagging
        .tag_resources()
        .set_resource_arn_list(Some(arns.to_vec()))
        .set_tags(Some(hash_map(tags)))
        .send()
        .await
        .map_err(fail(
            "Resource Groups Tagging API",
            format!("retagging {} components", arns.len()),
        ))?;
    Ok(out
        .failed_resources_map()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default())
}

/// One `UntagResources`; returns the ARNs it failed for.
async fn remove_through_api(
    tagging: &Tagging,
    arns: &[String],
    removed: &[String],
) -> Result<Vec<String>, BackendError> {
    let out = tagging
        .untag_resources()
        .set_resource_arn_list(Some(arns.to_vec()))
        .set_tag_keys(Some(removed.to_vec()))
        .send()
        .await
        .map_err(fail(
            "Resource Groups Tagging API",
            "removing tags no longer wanted",
        ))?;
    Ok(out
        .failed_resources_map()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default())
}

/// Tags `arn` with its own service's call (a component gone meanwhile is skipped).
async fn by_service(c: &Clients, arn: &str, change: Change<'_>) -> Result<(), BackendError> {
    let what = format!("retagging {arn}");
    if let Some(bucket) = bucket_of_arn(arn) {
        let current = unless_gone(c.s3.get_bucket_tagging().bucket(bucket).send().await, |f| {
            not_found(f) || f.code_is("NoSuchTagSet")
        })
        .map_err(failed("S3", what))?;
        let current: Vec<(String, String)> = current
            .iter()
            .flat_map(|o| o.tag_set())
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        return match change {
            Change::Set(tags) => put_tags(&c.s3, bucket, &current, tags, &[]).await,
            Change::Remove(keys) => put_tags(&c.s3, bucket, &current, &BTreeMap::new(), keys).await,
        };
    }
    let result = if arn.contains(":aps:") {
        match change {
            Change::Set(tags) => c
                .amp
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(hash_map(tags)))
                .send()
                .await
                .map(|_| ())
                .map_err(SdkFailure::from_sdk),
            Change::Remove(keys) => c
                .amp
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
                .await
                .map(|_| ())
                .map_err(SdkFailure::from_sdk),
        }
    } else if arn.contains(":sns:") {
        match change {
            Change::Set(tags) => {
                let set = tags
                    .iter()
                    .filter_map(|(k, v)| {
                        aws_sdk_sns::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .ok()
                    })
                    .collect();
                c.sns
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(set))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(SdkFailure::from_sdk)
            }
            Change::Remove(keys) => c
                .sns
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
                .await
                .map(|_| ())
                .map_err(SdkFailure::from_sdk),
        }
    } else {
        return Err(BackendError::Permanent {
            operation: what,
            message: "the Resource Groups Tagging API could not tag it".to_owned(),
            hint: "Check that the credentials may tag it, then run apply again".to_owned(),
        });
    };
    match result {
        Ok(()) => Ok(()),
        Err(f) if not_found(&f) => Ok(()),
        Err(f) => Err(failed(
            if arn.contains(":aps:") { "AMP" } else { "SNS" },
            what,
        )(f)),
    }
}

async fn retag_roles(
    iam: &aws_sdk_iam::Client,
    roles: &[String],
    tags: &BTreeMap<String, String>,
    removed: &[String],
) -> Result<(), BackendError> {
    let set: Vec<aws_sdk_iam::types::Tag> = tags
        .iter()
        .filter_map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .ok()
        })
        .collect();
    for name in roles {
        unless_gone(
            iam.tag_role()
                .role_name(name)
                .set_tags(Some(set.clone()))
                .send()
                .await,
            not_found,
        )
        .map_err(failed("IAM", format!("retagging IAM role {name}")))?;
        if !removed.is_empty() {
            unless_gone(
                iam.untag_role()
                    .role_name(name)
                    .set_tag_keys(Some(removed.to_vec()))
                    .send()
                    .await,
                not_found,
            )
            .map_err(failed("IAM", format!("removing tags of IAM role {name}")))?;
        }
    }
    Ok(())
}
