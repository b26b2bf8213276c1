//! The stack's S3 buckets: created locked down (SSE-S3 encryption, every public
//! access block on, object ownership enforced, a lifecycle expiry, tags), adopted when
//! a bucket of the name carries the stack's tags, converged in place (settings read
//! first, written only when they differ), and deleted only when empty or when
//! emptying was allowed.
//!
//! Encryption is SSE-S3 (`AES256`): the port asks for no key, and an AWS-managed KMS
//! key would add KMS calls (and costs) on every object Loki and Tempo write for no
//! gain in who may read them. The lifecycle rule paved owns has the id
//! [`LIFECYCLE_RULE_ID`]; other rules on an adopted bucket are kept.
//!
//! A bucket name is global: one of the name paved wants that carries other tags, none,
//! or lives in another account (S3 answers `AccessDenied`) is a conflict, never
//! adopted nor deleted.

use aws_sdk_s3::error::BuildError;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    CreateBucketConfiguration, Delete, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, ObjectIdentifier, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging,
};
use aws_sdk_s3::Client;

use super::names::bucket_name;
use super::{bucket_record, conflict, owned, Place};
use crate::cloud::aws::error::{fail, failed, unless_gone, SdkFailure};
use crate::cloud::aws::inventory::step;
use crate::ports::observability::{BucketDeletion, BucketPurpose, BucketRequest, BucketState};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The id of the lifecycle rule paved owns on each bucket.
pub const LIFECYCLE_RULE_ID: &str = "paved-expiry";
/// Days after which an unfinished multipart upload is aborted.
const ABORT_UPLOADS_AFTER_DAYS: i32 = 1;
/// Keys per `ListObjectsV2` / `ListObjectVersions` page and per `DeleteObjects`
/// call (S3's limit for both).
const BATCH: i32 = 1000;

/// What the bucket of the name paved wants is.
enum Found {
    /// No such bucket.
    Missing,
    /// This stack's, with these tags.
    Ours(Vec<(String, String)>),
    /// Someone else's; why paved thinks so.
    Foreign(String),
}

/// A request that could not be built (a missing required field: a bug).
fn build_error(e: BuildError) -> BackendError {
    BackendError::Permanent {
        operation: "preparing an S3 request".to_owned(),
        message: e.to_string(),
        hint: "This is a bug in paved; please report it".to_owned(),
    }
}

/// Whether an S3 failure means "that configuration is not set".
fn unset(f: &SdkFailure) -> bool {
    [
        "NoSuchLifecycleConfiguration",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchPublicAccessBlockConfiguration",
        "OwnershipControlsNotFoundError",
        "NoSuchTagSet",
    ]
    .iter()
    .any(|c| f.code_is(c))
}

fn no_bucket(f: &SdkFailure) -> bool {
    f.code_is("NoSuchBucket")
}

/// Who the bucket `name` belongs to (one `GetBucketTagging`).
async fn lookup(s3: &Client, ctx: &StackContext, name: &str) -> Result<Found, BackendError> {
    let out = s3.get_bucket_tagging().bucket(name).send().await;
    match out.map_err(SdkFailure::from_sdk) {
        Ok(out) => {
            let tags: Vec<(String, String)> = out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            if owned(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())), ctx) {
                Ok(Found::Ours(tags))
            } else {
                Ok(Found::Foreign(
                    "it carries no paved tags of this stack".to_owned(),
                ))
            }
        }
        Err(f) if no_bucket(&f) => Ok(Found::Missing),
        Err(f) if f.code_is("NoSuchTagSet") => Ok(Found::Foreign(
            "it has no tags (if an apply was cut off right after creating it, delete the \
             empty bucket)"
                .to_owned(),
        )),
        Err(f) if f.code_is("AccessDenied") || f.status == Some(403) => Ok(Found::Foreign(
            "S3 denies reading its tags: another AWS account owns it, or the credentials lack \
             s3:GetBucketTagging"
                .to_owned(),
        )),
        Err(f) => Err(failed("S3", format!("looking up S3 bucket {name}"))(f)),
    }
}

/// The conflict error for bucket `name`.
fn foreign(ctx: &StackContext, name: &str, why: &str) -> BackendError {
    conflict(
        format!("S3 bucket {name}"),
        ctx,
        &format!(
            "{why}. Bucket names are global and paved names the bucket after the stack, \
             account and region: rename the stack, or delete or rename that bucket"
        ),
    )
}

/// The lifecycle rule paved wants for `days`.
fn expiry_rule(days: u32) -> Result<LifecycleRule, BackendError> {
    LifecycleRule::builder()
        .id(LIFECYCLE_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(
            LifecycleExpiration::builder()
                .days(i32::try_from(days).unwrap_or(i32::MAX))
                .build(),
        )
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(ABORT_UPLOADS_AFTER_DAYS)
                .build(),
        )
        .build()
        .map_err(build_error)
}

/// The expiry in days of paved's rule among `rules`, when it is enabled.
pub(super) fn expiry_of(rules: &[LifecycleRule]) -> Option<u32> {
    rules
        .iter()
        .find(|r| r.id() == Some(LIFECYCLE_RULE_ID) && r.status() == &ExpirationStatus::Enabled)
        .and_then(|r| r.expiration())
        .and_then(|e| e.days())
        .and_then(|d| u32::try_from(d).ok())
}

/// Whether paved's rule among `rules` is exactly the one wanted for `days`.
fn rule_matches(rules: &[LifecycleRule], days: u32) -> bool {
    rules.iter().any(|r| {
        r.id() == Some(LIFECYCLE_RULE_ID)
            && r.status() == &ExpirationStatus::Enabled
            && r.expiration().and_then(|e| e.days()) == i32::try_from(days).ok()
            && r.abort_incomplete_multipart_upload()
                .and_then(|a| a.days_after_initiation())
                == Some(ABORT_UPLOADS_AFTER_DAYS)
            && r.filter()
                .and_then(|f| f.prefix())
                .unwrap_or_default()
                .is_empty()
    })
}

/// Whether the public access block configuration blocks everything.
pub(super) fn all_blocked(c: Option<&PublicAccessBlockConfiguration>) -> bool {
    c.is_some_and(|c| {
        c.block_public_acls() == Some(true)
            && c.ignore_public_acls() == Some(true)
            && c.block_public_policy() == Some(true)
            && c.restrict_public_buckets() == Some(true)
    })
}

/// Whether a default encryption configuration encrypts at rest.
pub(super) fn encrypted(c: Option<&ServerSideEncryptionConfiguration>) -> bool {
    c.is_some_and(|c| {
        c.rules().iter().any(|r| {
            r.apply_server_side_encryption_by_default()
                .is_some_and(|d| !d.sse_algorithm().as_str().is_empty())
        })
    })
}

async fn put_encryption(s3: &Client, name: &str) -> Result<(), BackendError> {
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()
        .map_err(build_error)?;
    let config = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(by_default)
                .build(),
        )
        .build()
        .map_err(build_error)?;
    s3.put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(config)
        .send()
        .await
        .map_err(fail("S3", format!("encrypting S3 bucket {name}")))?;
    Ok(())
}

async fn put_public_access_block(s3: &Client, name: &str) -> Result<(), BackendError> {
    let config = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(config)
        .send()
        .await
        .map_err(fail(
            "S3",
            format!("blocking public access to S3 bucket {name}"),
        ))?;
    Ok(())
}

async fn put_ownership(s3: &Client, name: &str) -> Result<(), BackendError> {
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .build()
        .map_err(build_error)?;
    let controls = OwnershipControls::builder()
        .rules(rule)
        .build()
        .map_err(build_error)?;
    s3.put_bucket_ownership_controls()
        .bucket(name)
        .ownership_controls(controls)
        .send()
        .await
        .map_err(fail(
            "S3",
            format!("enforcing object ownership on S3 bucket {name}"),
        ))?;
    Ok(())
}

/// Sets paved's rule for `days`, keeping the bucket's other rules (`others`).
async fn put_lifecycle(
    s3: &Client,
    name: &str,
    days: u32,
    others: Vec<LifecycleRule>,
) -> Result<(), BackendError> {
    let mut rules: Vec<LifecycleRule> = others
        .into_iter()
        .filter(|r| r.id() != Some(LIFECYCLE_RULE_ID))
        .collect();
    rules.push(expiry_rule(days)?);
    let config = BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(build_error)?;
    s3.put_bucket_lifecycle_configuration()
        .bucket(name)
        .lifecycle_configuration(config)
        .send()
        .await
        .map_err(fail(
            "S3",
            format!("setting the lifecycle of S3 bucket {name}"),
        ))?;
    Ok(())
}

/// Sets `wanted` over the bucket's `current` tags (S3 replaces the whole set, so tags
/// others added are kept).
pub(super) async fn put_tags(
    s3: &Client,
    name: &str,
    current: &[(String, String)],
    wanted: &std::collections::BTreeMap<String, String>,
    removed: &[String],
) -> Result<(), BackendError> {
    let mut all: std::collections::BTreeMap<String, String> = current.iter().cloned().collect();
    all.extend(wanted.iter().map(|(k, v)| (k.clone(), v.clone())));
    for k in removed {
        all.remove(k);
    }
    let set = all
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(build_error)?;
    let tagging = Tagging::builder()
        .set_tag_set(Some(set))
        .build()
        .map_err(build_error)?;
    s3.put_bucket_tagging()
        .bucket(name)
        .tagging(tagging)
        .send()
        .await
        .map_err(fail("S3", format!("tagging S3 bucket {name}")))?;
    Ok(())
}

/// Creates bucket `name` in the place's region with object ownership enforced.
async fn create(s3: &Client, place: &Place, name: &str) -> Result<(), BackendError> {
    let mut request = s3
        .create_bucket()
        .bucket(name)
        .object_ownership(ObjectOwnership::BucketOwnerEnforced);
    // us-east-1 takes no location constraint (it is the default, and naming it fails).
    if place.region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(place.region.as_str()))
                .build(),
        );
    }
    request
        .send()
        .await
        .map_err(fail("S3", format!("creating S3 bucket {name}")))?;
    Ok(())
}

/// Ensures the bucket of `req.purpose`; see the module's documentation.
pub(super) async fn ensure_bucket(
    s3: &Client,
    ctx: &StackContext,
    place: &Place,
    req: &BucketRequest,
) -> Step<BucketState> {
    let mut components = Vec::new();
    let result = ensure(s3, ctx, place, req, &mut components).await;
    step(result, components)
}

async fn ensure(
    s3: &Client,
    ctx: &StackContext,
    place: &Place,
    req: &BucketRequest,
    components: &mut Vec<ComponentRecord>,
) -> Result<BucketState, BackendError> {
    let name = bucket_name(&ctx.stack, req.purpose, &place.account, &place.region);
    if req.expire_after_days == 0 {
        return Err(BackendError::Permanent {
            operation: format!("ensuring S3 bucket {name}"),
            message: "objects cannot expire after 0 days".to_owned(),
            hint: "Keep logs and traces at least one day".to_owned(),
        });
    }
    let key = req.purpose.key();
    let wanted_tags = ctx.component_tags(&key);
    ctx.checkpoint(&format!("ensuring S3 bucket {name}"))?;
    let current_tags = match lookup(s3, ctx, &name).await? {
        Found::Foreign(why) => return Err(foreign(ctx, &name, &why)),
        Found::Ours(tags) => Some(tags),
        Found::Missing => None,
    };
    let Some(current_tags) = current_tags else {
        create(s3, place, &name).await?;
        components.push(bucket_record(req.purpose, &name));
        // Tags first: an apply cut off after this finds the bucket again.
        put_tags(s3, &name, &[], &wanted_tags, &[]).await?;
        ctx.checkpoint(&format!("locking down S3 bucket {name}"))?;
        // One after the other: S3 answers OperationAborted to concurrent changes of
        // one bucket's configuration.
        put_encryption(s3, &name).await?;
        put_public_access_block(s3, &name).await?;
        put_lifecycle(s3, &name, req.expire_after_days, Vec::new()).await?;
        return Ok(state(req, name, place, true));
    };
    components.push(bucket_record(req.purpose, &name));
    let missing_tag = wanted_tags
        .iter()
        .any(|(k, v)| !current_tags.iter().any(|(ck, cv)| ck == k && cv == v));
    if missing_tag {
        put_tags(s3, &name, &current_tags, &wanted_tags, &[]).await?;
    }
    converge(s3, ctx, &name, req).await?;
    Ok(state(req, name, place, true))
}

fn state(req: &BucketRequest, name: String, place: &Place, locked_down: bool) -> BucketState {
    BucketState {
        purpose: req.purpose,
        name,
        region: place.region.clone(),
        expire_after_days: Some(req.expire_after_days),
        locked_down,
    }
}

/// Reads an adopted bucket's settings (four calls at once) and writes those that
/// differ from what paved wants.
async fn converge(
    s3: &Client,
    ctx: &StackContext,
    name: &str,
    req: &BucketRequest,
) -> Result<(), BackendError> {
    let reading = format!("reading the settings of S3 bucket {name}");
    let (lifecycle, encryption, block, ownership) = futures::join!(
        s3.get_bucket_lifecycle_configuration().bucket(name).send(),
        s3.get_bucket_encryption().bucket(name).send(),
        s3.get_public_access_block().bucket(name).send(),
        s3.get_bucket_ownership_controls().bucket(name).send(),
    );
    let rules = unless_gone(lifecycle, unset)
        .map_err(failed("S3", reading.clone()))?
        .map(|o| o.rules().to_vec())
        .unwrap_or_default();
    let encryption = unless_gone(encryption, unset).map_err(failed("S3", reading.clone()))?;
    let block = unless_gone(block, unset).map_err(failed("S3", reading.clone()))?;
    let ownership = unless_gone(ownership, unset).map_err(failed("S3", reading))?;
    ctx.checkpoint(&format!("converging S3 bucket {name}"))?;
    if !rule_matches(&rules, req.expire_after_days) {
        put_lifecycle(s3, name, req.expire_after_days, rules).await?;
    }
    if !encrypted(
        encryption
            .as_ref()
            .and_then(|o| o.server_side_encryption_configuration()),
    ) {
        put_encryption(s3, name).await?;
    }
    if !all_blocked(
        block
            .as_ref()
            .and_then(|o| o.public_access_block_configuration()),
    ) {
        put_public_access_block(s3, name).await?;
    }
    let enforced = ownership
        .as_ref()
        .and_then(|o| o.ownership_controls())
        .is_some_and(|c| {
            c.rules()
                .iter()
                .any(|r| r.object_ownership() == &ObjectOwnership::BucketOwnerEnforced)
        });
    if !enforced {
        put_ownership(s3, name).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Deletion
// ---------------------------------------------------------------------------------

/// Deletes the bucket of `purpose`; see [`crate::ports::observability::ObservabilityBackend::delete_bucket`].
pub(super) async fn delete_bucket(
    s3: &Client,
    ctx: &StackContext,
    place: &Place,
    purpose: BucketPurpose,
    empty_first: bool,
) -> Step<BucketDeletion> {
    let name = bucket_name(&ctx.stack, purpose, &place.account, &place.region);
    let found = match lookup(s3, ctx, &name).await {
        Ok(found) => found,
        Err(e) => return Step::failed(e, Vec::new()),
    };
    match found {
        Found::Missing => return Step::done(BucketDeletion::Deleted, Vec::new()),
        // Not ours: never deleted, and not in the inventory.
        Found::Foreign(why) => return Step::failed(foreign(ctx, &name, &why), Vec::new()),
        Found::Ours(_) => {}
    }
    let record = bucket_record(purpose, &name);
    match delete(s3, ctx, &name, empty_first).await {
        Ok(BucketDeletion::Deleted) => Step::done(BucketDeletion::Deleted, Vec::new()),
        Ok(refused) => Step::done(refused, vec![record]),
        Err(e) => Step::failed(e, vec![record]),
    }
}

async fn delete(
    s3: &Client,
    ctx: &StackContext,
    name: &str,
    empty_first: bool,
) -> Result<BucketDeletion, BackendError> {
    let during = format!("emptying S3 bucket {name}");
    loop {
        ctx.checkpoint(&during)?;
        let page = s3
            .list_objects_v2()
            .bucket(name)
            .max_keys(BATCH)
            .send()
            .await;
        let Some(page) = unless_gone(page, no_bucket).map_err(failed(
            "S3",
            format!("listing the objects of S3 bucket {name}"),
        ))?
        else {
            return Ok(BucketDeletion::Deleted);
        };
        let keys: Vec<(String, Option<String>)> = page
            .contents()
            .iter()
            .filter_map(|o| o.key().map(|k| (k.to_owned(), None)))
            .collect();
        if keys.is_empty() {
            break;
        }
        if !empty_first {
            return Ok(BucketDeletion::Refused {
                name: name.to_owned(),
                objects: keys.len() as u64,
            });
        }
        delete_objects(s3, name, keys).await?;
    }
    ctx.checkpoint(&format!("deleting S3 bucket {name}"))?;
    match delete_empty(s3, name).await? {
        Some(()) => return Ok(BucketDeletion::Deleted),
        None if !empty_first => {
            // Older versions of objects (a bucket versioned outside paved).
            let versions = list_versions(s3, name).await?;
            return Ok(BucketDeletion::Refused {
                name: name.to_owned(),
                objects: versions.len() as u64,
            });
        }
        None => {}
    }
    loop {
        ctx.checkpoint(&during)?;
        let versions = list_versions(s3, name).await?;
        if versions.is_empty() {
            break;
        }
        delete_objects(s3, name, versions).await?;
    }
    match delete_empty(s3, name).await? {
        Some(()) => Ok(BucketDeletion::Deleted),
        None => Err(BackendError::Retryable {
            operation: format!("deleting S3 bucket {name}"),
            message: "objects were added while it was being emptied".to_owned(),
        }),
    }
}

/// `DeleteBucket`: `Some` when gone (or already gone), `None` when S3 says it is not
/// empty.
async fn delete_empty(s3: &Client, name: &str) -> Result<Option<()>, BackendError> {
    match s3
        .delete_bucket()
        .bucket(name)
        .send()
        .await
        .map_err(SdkFailure::from_sdk)
    {
        Ok(_) => Ok(Some(())),
        Err(f) if no_bucket(&f) => Ok(Some(())),
        Err(f) if f.code_is("BucketNotEmpty") => Ok(None),
        Err(f) => Err(failed("S3", format!("deleting S3 bucket {name}"))(f)),
    }
}

/// The first page of object versions and delete markers.
async fn list_versions(
    s3: &Client,
    name: &str,
) -> Result<Vec<(String, Option<String>)>, BackendError> {
    let out = s3
        .list_object_versions()
        .bucket(name)
        .max_keys(BATCH)
        .send()
        .await
        .map_err(fail(
            "S3",
            format!("listing the object versions of S3 bucket {name}"),
        ))?;
    let versions = out
        .versions()
        .iter()
        .filter_map(|v| Some((v.key()?.to_owned(), v.version_id().map(str::to_owned))));
    let markers = out
        .delete_markers()
        .iter()
        .filter_map(|m| Some((m.key()?.to_owned(), m.version_id().map(str::to_owned))));
    Ok(versions.chain(markers).collect())
}

/// One `DeleteObjects` call for up to [`BATCH`] keys (and versions).
async fn delete_objects(
    s3: &Client,
    name: &str,
    keys: Vec<(String, Option<String>)>,
) -> Result<(), BackendError> {
    let objects = keys
        .into_iter()
        .map(|(key, version)| {
            ObjectIdentifier::builder()
                .key(key)
                .set_version_id(version)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(build_error)?;
    let delete = Delete::builder()
        .set_objects(Some(objects))
        .quiet(true)
        .build()
        .map_err(build_error)?;
    let out = s3
        .delete_objects()
        .bucket(name)
        .delete(delete)
        .send()
        .await
        .map_err(fail(
            "S3",
            format!("deleting the objects of S3 bucket {name}"),
        ))?;
    if let Some(e) = out.errors().first() {
        return Err(BackendError::Permanent {
            operation: format!("deleting the objects of S3 bucket {name}"),
            message: format!(
                "{} objects could not be deleted, e.g. {}: {} {}",
                out.errors().len(),
                e.key().unwrap_or("?"),
                e.code().unwrap_or("?"),
                e.message().unwrap_or_default()
            ),
            hint: "Check the bucket policy and object lock settings, and that the \
                   credentials may call s3:DeleteObject and s3:DeleteObjectVersion"
                .to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_rule_is_recognised_and_compared() {
        let rule = expiry_rule(31).unwrap();
        let rules = vec![rule];
        assert_eq!(expiry_of(&rules), Some(31));
        assert!(rule_matches(&rules, 31));
        assert!(!rule_matches(&rules, 8));
        let foreign = LifecycleRule::builder()
            .id("someone-elses")
            .status(ExpirationStatus::Enabled)
            .expiration(LifecycleExpiration::builder().days(3).build())
            .build()
            .unwrap();
        assert_eq!(expiry_of(std::slice::from_ref(&foreign)), None);
        assert!(!rule_matches(&[foreign], 3));
    }

    #[test]
    fn lock_down_needs_every_block_and_encryption() {
        let all = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        assert!(all_blocked(Some(&all)));
        let some = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .build();
        assert!(!all_blocked(Some(&some)));
        assert!(!all_blocked(None));
        assert!(!encrypted(None));
    }
}
