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

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::SdkError;
use aws_sdk_resourcegroupstagging::types::FailureInfo;
use aws_sdk_resourcegroupstagging::Client as Tagging;

use super::buckets::put_tags;
use super::names::{bucket_arn, bucket_of_arn, rules_namespace_arn};
use super::topic::sns_tags;
use super::{hash_map, kind, not_found, Clients};
use crate::cloud::aws::error::{fail, failed, unless_gone, SdkFailure};
use crate::cloud::aws::tagging::{retag_roles, role_of_arn};
use crate::stack::{BackendError, ComponentRecord, StackContext};

/// ARNs per `TagResources` / `UntagResources` call (the API's limit).
const ARNS_PER_CALL: usize = 20;
/// The service the batched calls go to, as permission hints name it.
const TAGGING_API: &str = "Resource Groups Tagging API";

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
            kind::IDENTITY => roles.push(role_of_arn(&component.id)),
            _ => {}
        }
    }
    ctx.checkpoint("retagging the stack's components")?;
    let (by_arn, by_role) = futures::join!(
        retag_arns(c, &arns, &ctx.tags, removed),
        retag_roles(&c.iam, &roles, &ctx.tags, removed, not_found),
    );
    by_arn.and(by_role)
}

async fn retag_arns(
    c: &Clients,
    arns: &[String],
    tags: &BTreeMap<String, String>,
    removed: &[String],
) -> Result<(), BackendError> {
    let mut changes = vec![Change::Set(tags)];
    if !removed.is_empty() {
        changes.push(Change::Remove(removed));
    }
    for chunk in arns.chunks(ARNS_PER_CALL) {
        for &change in &changes {
            for arn in through_api(&c.tagging, chunk, change).await? {
                by_service(c, &arn, change).await?;
            }
        }
    }
    Ok(())
}

/// One `TagResources` or `UntagResources`; returns the ARNs it failed for.
async fn through_api(
    tagging: &Tagging,
    arns: &[String],
    change: Change<'_>,
) -> Result<Vec<String>, BackendError> {
    let failed_for = |m: Option<&HashMap<String, FailureInfo>>| -> Vec<String> {
        m.map(|m| m.keys().cloned().collect()).unwrap_or_default()
    };
    let list = Some(arns.to_vec());
    Ok(match change {
        Change::Set(tags) => {
            let out = tagging
                .tag_resources()
                .set_resource_arn_list(list)
                .set_tags(Some(hash_map(tags)))
                .send()
                .await
                .map_err(fail(
                    TAGGING_API,
                    format!("retagging {} components", arns.len()),
                ))?;
            failed_for(out.failed_resources_map())
        }
        Change::Remove(keys) => {
            let out = tagging
                .untag_resources()
                .set_resource_arn_list(list)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
                .await
                .map_err(fail(TAGGING_API, "removing tags no longer wanted"))?;
            failed_for(out.failed_resources_map())
        }
    })
}

/// Tags `arn` with its own service's call (a component gone meanwhile is skipped).
async fn by_service(c: &Clients, arn: &str, change: Change<'_>) -> Result<(), BackendError> {
    let what = format!("retagging {arn}");
    if let Some(bucket) = bucket_of_arn(arn) {
        return bucket_change(&c.s3, bucket, change, what).await;
    }
    let (service, result) = if arn.contains(":aps:") {
        ("AMP", amp_change(&c.amp, arn, change).await)
    } else if arn.contains(":sns:") {
        ("SNS", sns_change(&c.sns, arn, change).await)
    } else {
        return Err(BackendError::Permanent {
            operation: what,
            message: "the Resource Groups Tagging API could not tag it".to_owned(),
            hint: "Check that the credentials may tag it, then run apply again".to_owned(),
        });
    };
    match result {
        Err(f) if !not_found(&f) => Err(failed(service, what)(f)),
        _ => Ok(()),
    }
}

/// S3 replaces a bucket's whole tag set: the change is made over its current tags.
async fn bucket_change(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    change: Change<'_>,
    what: String,
) -> Result<(), BackendError> {
    let current = unless_gone(s3.get_bucket_tagging().bucket(bucket).send().await, |f| {
        not_found(f) || f.code_is("NoSuchTagSet")
    })
    .map_err(failed("S3", what))?;
    let current: Vec<(String, String)> = current
        .iter()
        .flat_map(|o| o.tag_set())
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    match change {
        Change::Set(tags) => put_tags(s3, bucket, &current, tags, &[]).await,
        Change::Remove(keys) => put_tags(s3, bucket, &current, &BTreeMap::new(), keys).await,
    }
}

/// A call's outcome without its answer.
fn outcome<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> Result<(), SdkFailure>
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    result.map(drop).map_err(SdkFailure::from_sdk)
}

/// Retags an AMP resource with AMP's own calls.
async fn amp_change(
    amp: &aws_sdk_amp::Client,
    arn: &str,
    change: Change<'_>,
) -> Result<(), SdkFailure> {
    match change {
        Change::Set(tags) => outcome(
            amp.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(hash_map(tags)))
                .send()
                .await,
        ),
        Change::Remove(keys) => outcome(
            amp.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
                .await,
        ),
    }
}

/// Retags an SNS topic with SNS's own calls.
async fn sns_change(
    sns: &aws_sdk_sns::Client,
    arn: &str,
    change: Change<'_>,
) -> Result<(), SdkFailure> {
    match change {
        Change::Set(tags) => outcome(
            sns.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(sns_tags(tags)))
                .send()
                .await,
        ),
        Change::Remove(keys) => outcome(
            sns.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
                .await,
        ),
    }
}
