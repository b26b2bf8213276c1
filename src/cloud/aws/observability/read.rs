//! Refresh: the whole stack in few calls, the independent ones at once.
//!
//! Round one, concurrently: one `GetResources` of the Resource Groups Tagging API by
//! the stack's `paved:stack` and `paved:resource` tags (finds the buckets and the
//! alert topic, with their tags), one `ListRoles` under the stack's role path, one
//! `ListWorkspaces` by alias (AMP workspaces carry their tags in the listing). Round
//! two, concurrently: per bucket its lifecycle, default encryption and public access
//! block (three calls), and one `DescribeWorkspace` for the Prometheus endpoint. A
//! full stack (two buckets, three roles, the workspace and topic) takes 10 calls.
//!
//! Tags for drift come from the same answers: buckets and topic from the tagging
//! API, the workspace from its listing, roles only when `ListRoles` carries them (it
//! does not on AWS).

use std::collections::BTreeMap;

use futures::future::join_all;

use super::buckets::{all_blocked, encrypted, expiry_of};
use super::managed::{describe_workspace, find_workspace, urls};
use super::names::{bucket_of_arn, role_name, role_path};
use super::{bucket_record, identity_record, kind, Clients, TOPIC_KEY, WORKSPACE_KEY};
use crate::cloud::aws::error::{failed, SdkFailure};
use crate::cloud::aws::inventory::record;
use crate::ports::observability::{
    BucketPurpose, BucketState, IdentityPurpose, IdentityState, ManagedMetricsState,
    ObservabilitySnapshot,
};
use crate::stack::tags::{COMPONENT_TAG, RESOURCE_TAG, STACK_TAG};
use crate::stack::{BackendError, StackContext, Step};

/// Every bucket purpose, for recognising keys.
const BUCKETS: [BucketPurpose; 2] = [BucketPurpose::Logs, BucketPurpose::Traces];
/// Every identity purpose, for recognising role names.
const IDENTITIES: [IdentityPurpose; 3] = [
    IdentityPurpose::Loki,
    IdentityPurpose::Tempo,
    IdentityPurpose::ManagedMetrics,
];

/// One resource the tagging API found: its ARN and tags.
type Tagged = (String, BTreeMap<String, String>);

/// Everything the tagging API finds with the stack's tags (paginated).
async fn tagged(
    tagging: &aws_sdk_resourcegroupstagging::Client,
    ctx: &StackContext,
) -> Result<Vec<Tagged>, BackendError> {
    use aws_sdk_resourcegroupstagging::types::TagFilter;
    let filters = vec![
        TagFilter::builder()
            .key(STACK_TAG)
            .values(&ctx.stack)
            .build(),
        TagFilter::builder()
            .key(RESOURCE_TAG)
            .values(ctx.resource_type)
            .build(),
    ];
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = tagging
            .get_resources()
            .set_tag_filters(Some(filters.clone()))
            .set_pagination_token(token.take())
            .send()
            .await
            .map_err(SdkFailure::from_sdk)
            .map_err(failed(
                "Resource Groups Tagging API",
                "finding the stack's buckets and topic by their tags",
            ))?;
        for m in page.resource_tag_mapping_list() {
            let Some(arn) = m.resource_arn() else {
                continue;
            };
            let tags = m
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            out.push((arn.to_owned(), tags));
        }
        match page.pagination_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

/// What one read of a bucket's setting gave.
enum Setting<T> {
    /// The setting.
    Set(T),
    /// The bucket has none.
    Unset,
    /// The bucket is gone (the tagging API can lag behind a deletion).
    NoBucket,
}

/// A setting's answer: "not set" and "no such bucket" told apart from failures.
fn setting<T, E>(
    result: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
    name: &str,
) -> Result<Setting<T>, BackendError>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match result.map_err(SdkFailure::from_sdk) {
        Ok(v) => Ok(Setting::Set(v)),
        Err(f) if f.code_is("NoSuchBucket") => Ok(Setting::NoBucket),
        Err(f)
            if [
                "NoSuchLifecycleConfiguration",
                "ServerSideEncryptionConfigurationNotFoundError",
                "NoSuchPublicAccessBlockConfiguration",
            ]
            .iter()
            .any(|c| f.code_is(c)) =>
        {
            Ok(Setting::Unset)
        }
        Err(f) => Err(failed("S3", format!("reading S3 bucket {name}"))(f)),
    }
}

/// One bucket's lifecycle expiry and whether it is locked down (three calls at
/// once); `None` when the bucket is gone.
async fn bucket_details(
    s3: &aws_sdk_s3::Client,
    name: &str,
) -> Result<Option<(Option<u32>, bool)>, BackendError> {
    let (lifecycle, encryption, block) = futures::join!(
        s3.get_bucket_lifecycle_configuration().bucket(name).send(),
        s3.get_bucket_encryption().bucket(name).send(),
        s3.get_public_access_block().bucket(name).send(),
    );
    let (lifecycle, encryption, block) = (
        setting(lifecycle, name)?,
        setting(encryption, name)?,
        setting(block, name)?,
    );
    let expiry = match lifecycle {
        Setting::NoBucket => return Ok(None),
        Setting::Set(o) => expiry_of(o.rules()),
        Setting::Unset => None,
    };
    let encrypted = match encryption {
        Setting::NoBucket => return Ok(None),
        Setting::Set(o) => encrypted(o.server_side_encryption_configuration()),
        Setting::Unset => false,
    };
    let blocked = match block {
        Setting::NoBucket => return Ok(None),
        Setting::Set(o) => all_blocked(o.public_access_block_configuration()),
        Setting::Unset => false,
    };
    Ok(Some((expiry, encrypted && blocked)))
}

/// Reads everything of the stack; see the module's documentation.
pub(super) async fn read_stack(
    c: &Clients,
    ctx: &StackContext,
    region: &str,
) -> Step<ObservabilitySnapshot> {
    match read(c, ctx, region).await {
        Ok(snapshot) => {
            let components = snapshot.components.clone();
            Step::done(snapshot, components)
        }
        Err(e) => Step::failed(e, Vec::new()),
    }
}

async fn read(
    c: &Clients,
    ctx: &StackContext,
    region: &str,
) -> Result<ObservabilitySnapshot, BackendError> {
    ctx.checkpoint("reading the observability stack")?;
    let (tagged, roles, workspace) = futures::join!(
        tagged(&c.tagging, ctx),
        c.iam.list_roles().path_prefix(role_path(&ctx.stack)).send(),
        find_workspace(&c.amp, ctx),
    );
    let tagged = tagged?;
    let roles = roles
        .map_err(SdkFailure::from_sdk)
        .map_err(failed("IAM", "listing the stack's roles"))?;
    let workspace = workspace?;

    let mut snapshot = ObservabilitySnapshot::default();
    let mut buckets: Vec<(BucketPurpose, String)> = Vec::new();
    for (arn, tags) in &tagged {
        let Some(key) = tags.get(COMPONENT_TAG) else {
            continue;
        };
        if let Some(name) = bucket_of_arn(arn) {
            let Some(purpose) = BUCKETS.into_iter().find(|p| &p.key() == key) else {
                continue;
            };
            snapshot.components.push(bucket_record(purpose, name));
            snapshot.tags.insert(key.clone(), tags.clone());
            buckets.push((purpose, name.to_owned()));
        } else if key == TOPIC_KEY && arn.contains(":sns:") {
            snapshot
                .components
                .push(record(TOPIC_KEY, kind::ALERT_TOPIC, arn));
            snapshot.tags.insert(key.clone(), tags.clone());
        }
    }
    for role in roles.roles() {
        let Some(purpose) = IDENTITIES
            .into_iter()
            .find(|p| role_name(&ctx.stack, *p) == role.role_name())
        else {
            continue;
        };
        snapshot
            .components
            .push(identity_record(purpose, role.arn()));
        snapshot.identities.insert(
            purpose,
            IdentityState {
                purpose,
                id: role.arn().to_owned(),
            },
        );
        if !role.tags().is_empty() {
            snapshot.tags.insert(
                purpose.key(),
                role.tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
            );
        }
    }

    ctx.checkpoint("reading the observability stack")?;
    let describe = async {
        match &workspace {
            Some(w) => describe_workspace(&c.amp, &w.id)
                .await
                .map(|seen| seen.value)
                .map_err(failed("AMP", "reading the Prometheus workspace")),
            None => Ok(None),
        }
    };
    let details = join_all(buckets.iter().map(|(_, name)| bucket_details(&c.s3, name)));
    let (endpoint, details) = futures::join!(describe, details);
    for ((purpose, name), detail) in buckets.into_iter().zip(details) {
        let Some((expire_after_days, locked_down)) = detail? else {
            snapshot.components.retain(|c| c.key != purpose.key());
            snapshot.tags.remove(&purpose.key());
            continue;
        };
        snapshot.buckets.insert(
            purpose,
            BucketState {
                purpose,
                name,
                region: region.to_owned(),
                expire_after_days,
                locked_down,
            },
        );
    }
    if let (Some(w), Some(endpoint)) = (workspace, endpoint?) {
        let (remote_write_url, query_url) = urls(&endpoint);
        snapshot
            .components
            .push(record(WORKSPACE_KEY, kind::METRICS_WORKSPACE, &w.arn));
        snapshot.tags.insert(WORKSPACE_KEY.to_owned(), w.tags);
        let alert_topic = snapshot
            .components
            .iter()
            .find(|c| c.key == TOPIC_KEY)
            .map(|c| c.id.clone());
        snapshot.managed = Some(ManagedMetricsState {
            workspace_id: w.id,
            remote_write_url,
            query_url,
            alert_topic,
        });
    }
    Ok(snapshot)
}
