//! The AWS backend of `paved_observability_stack`'s cloud side: S3 buckets for Loki
//! and Tempo, IAM roles the in-cluster components assume through the cluster's OIDC
//! provider (IRSA), receiver secrets read from Secrets Manager, and Amazon Managed
//! Service for Prometheus (AMP) with its rules and alert routing through SNS.
//!
//! [`AwsObservabilityBackend`] implements [`ObservabilityBackend`]; each concern lives
//! in its own module:
//! - [`names`]: every name the adapter decides (buckets, roles, the workspace alias,
//!   the topic), pure and tested;
//! - [`buckets`]: buckets created locked down or adopted by their tags, the lifecycle
//!   converged, deletion that refuses or empties;
//! - [`identity`]: IAM roles with a web-identity trust and one inline policy;
//! - [`secrets`]: reading a receiver secret by its ARN;
//! - [`managed`]: the AMP workspace, its rule groups namespace and alert manager
//!   definition; [`topic`]: the SNS topic alerts go to, its policy and subscriptions;
//! - [`read`]: the batched refresh; [`tags`]: batched retagging; [`wait`]: the waits
//!   for AMP's asynchronous changes.
//!
//! Every component carries the stack's tags plus `paved:stack`, `paved:resource`
//! (`paved_observability_stack`), `paved:component` (its inventory key) and
//! `paved:managed-by`. A component of the name paved wants without those tags belongs
//! to someone else: [`BackendError::Conflict`], never adopted nor deleted.
//!
//! | key | kind | id |
//! |---|---|---|
//! | `bucket.logs`, `bucket.traces` | [`kind::BUCKET`] | the bucket's name |
//! | `identity.loki`, `identity.tempo`, `identity.managed-metrics` | [`kind::IDENTITY`] | the role's ARN |
//! | `metrics_workspace` | [`kind::METRICS_WORKSPACE`] | the workspace's ARN |
//! | `alert_topic` | [`kind::ALERT_TOPIC`] | the topic's ARN |
//!
//! The workspace's rule groups namespace and alert manager definition live and die
//! with the workspace and are not inventoried on their own.

mod buckets;
mod identity;
mod managed;
pub mod names;
mod read;
mod secrets;
mod tags;
mod topic;
mod wait;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::OnceCell;

use super::error::{client_setup_error, fail, incomplete, SdkFailure};
use super::inventory::{record, step, step_with};
use super::{AdapterClients, AwsClients};
use crate::ports::observability::{
    BucketDeletion, BucketPurpose, BucketRequest, BucketState, IdentityPurpose, IdentityRequest,
    IdentityState, ManagedMetricsRequest, ManagedMetricsState, ObservabilityBackend,
    ObservabilityShape, ObservabilitySnapshot, SecretValue,
};
use crate::stack::cost::Quote;
use crate::stack::tags::{RESOURCE_TAG, STACK_TAG};
use crate::stack::{BackendError, ComponentRecord, Knowable, StackContext, Step};

/// The resource type written in [`RESOURCE_TAG`].
pub const RESOURCE_TYPE: &str = "paved_observability_stack";

/// The kinds of the components this adapter reports.
pub mod kind {
    /// An S3 bucket (`bucket.logs`, `bucket.traces`).
    pub const BUCKET: &str = "bucket";
    /// An IAM role assumed through the cluster's OIDC provider (`identity.loki`...).
    pub const IDENTITY: &str = "identity";
    /// The AMP workspace (`metrics_workspace`).
    pub const METRICS_WORKSPACE: &str = "metrics_workspace";
    /// The SNS topic AMP's Alertmanager publishes to (`alert_topic`).
    pub const ALERT_TOPIC: &str = "alert_topic";
}

/// The inventory key of the AMP workspace.
pub const WORKSPACE_KEY: &str = "metrics_workspace";
/// The inventory key of the alert topic.
pub const TOPIC_KEY: &str = "alert_topic";

/// Where the stack lives: the region of its regional parts and the account, as the
/// ARNs and names need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// The region (the provider's default).
    pub region: String,
    /// The account the credentials belong to.
    pub account: String,
}

/// The AWS backend of `paved_observability_stack` (S3, IAM, Secrets Manager, AMP,
/// SNS, and the Resource Groups Tagging API for reads and retags).
pub struct AwsObservabilityBackend {
    clients: Arc<AwsClients>,
    /// The account of the credentials, asked of STS once.
    account: OnceCell<String>,
}

impl AwsObservabilityBackend {
    /// A backend making its calls through `clients` (in their default region).
    pub fn new(clients: Arc<AwsClients>) -> Self {
        Self {
            clients,
            account: OnceCell::new(),
        }
    }

    fn aws(&self) -> AdapterClients<'_> {
        self.clients.adapter()
    }

    /// The region and account (one `GetCallerIdentity`, the first time only).
    async fn place(&self) -> Result<Place, BackendError> {
        let region = self.aws().region()?;
        let account = self
            .account
            .get_or_try_init(|| async {
                let out = self
                    .aws()
                    .sts()
                    .await?
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(fail("STS", "finding the account of the AWS credentials"))?;
                out.account()
                    .map(str::to_owned)
                    .ok_or_else(|| incomplete("finding the account", "the account id"))
            })
            .await?
            .clone();
        Ok(Place { region, account })
    }

    /// `client` and the place, for a call that names what it makes after the account
    /// and region.
    async fn placed<C>(
        &self,
        client: impl Future<Output = Result<C, BackendError>>,
    ) -> Result<(C, Place), BackendError> {
        futures::try_join!(client, self.place())
    }

    /// The clients of the managed metrics (AMP, SNS) and the place.
    async fn managed(
        &self,
    ) -> Result<(aws_sdk_amp::Client, aws_sdk_sns::Client, Place), BackendError> {
        futures::try_join!(self.aws().amp(), self.aws().sns(), self.place())
    }

    /// Every client a stack-wide pass (refresh, retag) uses, and the region. No
    /// call: these passes need no account id, so a refresh by a fresh provider
    /// process makes no `GetCallerIdentity`.
    async fn all(&self) -> Result<(Clients, String), BackendError> {
        let aws = self.aws();
        let region = aws.region()?;
        let (s3, iam, amp, sns, tagging) =
            futures::try_join!(aws.s3(), aws.iam(), aws.amp(), aws.sns(), aws.tagging())?;
        let clients = Clients {
            s3,
            iam,
            amp,
            sns,
            tagging,
        };
        Ok((clients, region))
    }
}

/// The clients of the stack-wide passes.
pub(crate) struct Clients {
    /// Buckets.
    pub s3: aws_sdk_s3::Client,
    /// Roles.
    pub iam: aws_sdk_iam::Client,
    /// The workspace.
    pub amp: aws_sdk_amp::Client,
    /// The alert topic.
    pub sns: aws_sdk_sns::Client,
    /// Finding and tagging by tag.
    pub tagging: aws_sdk_resourcegroupstagging::Client,
}

#[async_trait]
impl ObservabilityBackend for AwsObservabilityBackend {
    fn cost(&self, shape: &ObservabilityShape) -> Knowable<Quote> {
        super::cost::observability(self.clients.region(), shape)
    }

    async fn ensure_bucket(&self, ctx: &StackContext, req: &BucketRequest) -> Step<BucketState> {
        step_with(self.placed(self.aws().s3()), |(s3, place)| async move {
            buckets::ensure_bucket(&s3, ctx, &place, req).await
        })
        .await
    }

    async fn ensure_identity(
        &self,
        ctx: &StackContext,
        req: &IdentityRequest,
    ) -> Step<IdentityState> {
        step_with(self.placed(self.aws().iam()), |(iam, place)| async move {
            identity::ensure_identity(&iam, ctx, &place, req).await
        })
        .await
    }

    async fn ensure_managed_metrics(
        &self,
        ctx: &StackContext,
        req: &ManagedMetricsRequest,
    ) -> Step<ManagedMetricsState> {
        let ready = async {
            topic::check_subscriptions(&req.subscriptions)?;
            self.managed().await
        };
        step_with(ready, |(amp, sns, place)| async move {
            managed::ensure_managed(&amp, &sns, ctx, &place, req).await
        })
        .await
    }

    async fn read_secret(
        &self,
        ctx: &StackContext,
        reference: &str,
    ) -> Result<SecretValue, BackendError> {
        ctx.checkpoint("reading a receiver secret")?;
        // A secret is read in its own region, which its ARN names.
        let region = secrets::region_of(reference);
        let client = self
            .clients
            .secretsmanager(region.as_deref())
            .await
            .map_err(client_setup_error)?;
        let fallback = match region {
            Some(r) => r,
            None => self.aws().region()?,
        };
        secrets::read_secret(&client, reference, &fallback).await
    }

    async fn read_stack(&self, ctx: &StackContext) -> Step<ObservabilitySnapshot> {
        step_with(self.all(), |(c, region)| async move {
            read::read_stack(&c, ctx, &region).await
        })
        .await
    }

    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()> {
        step_with(self.all(), |(c, region)| async move {
            let result = tags::retag(&c, ctx, &region, components, removed).await;
            step(result, Vec::new())
        })
        .await
    }

    async fn delete_bucket(
        &self,
        ctx: &StackContext,
        purpose: BucketPurpose,
        empty_first: bool,
    ) -> Step<BucketDeletion> {
        step_with(self.placed(self.aws().s3()), |(s3, place)| async move {
            buckets::delete_bucket(&s3, ctx, &place, purpose, empty_first).await
        })
        .await
    }

    async fn delete_identity(&self, ctx: &StackContext, purpose: IdentityPurpose) -> Step<()> {
        step_with(self.aws().iam(), |iam| async move {
            identity::delete_identity(&iam, ctx, purpose).await
        })
        .await
    }

    async fn delete_managed_metrics(&self, ctx: &StackContext) -> Step<()> {
        step_with(self.managed(), |(amp, sns, place)| async move {
            managed::delete_managed(&amp, &sns, ctx, &place).await
        })
        .await
    }
}

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

/// Whether a failure means the object named does not exist, in any of the services
/// this adapter calls (S3's `NoSuchBucket` included).
pub(crate) fn not_found(f: &SdkFailure) -> bool {
    f.is_not_found() || f.code_is("NoSuchBucket")
}

/// A component of the name paved wants that is not this stack's.
pub(crate) fn conflict(what: String, ctx: &StackContext, hint: &str) -> BackendError {
    BackendError::Conflict {
        what,
        stack: ctx.stack.clone(),
        hint: hint.to_owned(),
    }
}

// ---------------------------------------------------------------------------------
// Tags and records
// ---------------------------------------------------------------------------------

/// Whether tags say the object belongs to this stack: both [`STACK_TAG`] and
/// [`RESOURCE_TAG`] match, so a cluster of the same name never sees these parts.
pub(crate) fn owned<'a>(
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    ctx: &StackContext,
) -> bool {
    let (mut stack, mut resource) = (false, false);
    for (k, v) in tags {
        stack |= k == STACK_TAG && v == ctx.stack;
        resource |= k == RESOURCE_TAG && v == ctx.resource_type;
    }
    stack && resource
}

/// The record of the bucket `name` of `purpose`.
pub(crate) fn bucket_record(purpose: BucketPurpose, name: &str) -> ComponentRecord {
    record(&purpose.key(), kind::BUCKET, name)
}

/// The record of the role `arn` of `purpose`.
pub(crate) fn identity_record(purpose: IdentityPurpose, arn: &str) -> ComponentRecord {
    record(&purpose.key(), kind::IDENTITY, arn)
}

/// Tags as the maps AMP, SNS and the tagging API take.
pub(crate) fn hash_map(
    tags: &BTreeMap<String, String>,
) -> std::collections::HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::sync::CancellationToken;

    fn ctx() -> StackContext {
        StackContext {
            stack: "shop".into(),
            resource_type: RESOURCE_TYPE,
            tags: BTreeMap::new(),
            cancel: CancellationToken::new(),
            deadline: None,
        }
    }

    #[test]
    fn ownership_needs_the_stack_and_the_resource_type() {
        let ctx = ctx();
        assert!(owned(
            [(STACK_TAG, "shop"), (RESOURCE_TAG, RESOURCE_TYPE)],
            &ctx
        ));
        assert!(!owned(
            [(STACK_TAG, "shop"), (RESOURCE_TAG, "paved_ha_cluster")],
            &ctx
        ));
        assert!(!owned([(STACK_TAG, "shop")], &ctx));
    }

    #[test]
    fn records_carry_the_keys_of_the_port() {
        let r = bucket_record(BucketPurpose::Logs, "shop-logs-1-us-east-1");
        assert_eq!((r.key.as_str(), r.kind.as_str()), ("bucket.logs", "bucket"));
        let r = identity_record(IdentityPurpose::ManagedMetrics, "arn:aws:iam::1:role/x");
        assert_eq!(r.key, "identity.managed-metrics");
    }
}
