//! AWS: settings from the provider block with the standard environment as fallback,
//! and lazily built SDK clients.
//!
//! The SDK's own loader honours `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`...,
//! `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`; the provider block's settings
//! win over the environment. Nothing here calls AWS until a client is first used.

pub mod cluster;
mod cost;
pub mod database;
pub mod eks_token;
mod error;
mod iam_roles;
pub mod in_flight;
mod inventory;
pub mod kms;
pub mod network;
pub mod observability;
mod tagging;
mod wait;
mod zones;

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use tokio::sync::OnceCell;

use crate::stack::{BackendError, CloudError};

/// An AWS setting that may not be known until apply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Setting {
    /// Not set in the provider block.
    #[default]
    Unset,
    /// Set, but its value depends on something not yet created.
    Unknown,
    /// Set.
    Value(String),
}

impl Setting {
    /// The value, if set and known.
    pub fn value(&self) -> Option<&str> {
        match self {
            Setting::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// A role to assume for every AWS call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    /// The role's ARN.
    pub role_arn: String,
    /// The session name CloudTrail shows.
    pub session_name: String,
    /// The external id the role's trust policy may require.
    pub external_id: Option<String>,
    /// Session length in seconds.
    pub duration_seconds: Option<u32>,
}

/// AWS settings as configured in the provider block.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// The default region.
    pub region: Setting,
    /// A named profile from the shared config files.
    pub profile: Option<String>,
    /// An endpoint for every AWS service (e.g. a local emulator).
    pub endpoint_url: Option<String>,
    /// Endpoints per service, keyed by the SDK's service name (`ec2`, `eks`...).
    pub endpoints: BTreeMap<String, String>,
    /// A role to assume.
    pub assume_role: Option<AssumeRole>,
}

/// The services whose endpoint can be overridden in the provider block.
pub const ENDPOINT_SERVICES: &[&str] = &[
    "autoscaling",
    "cloudwatchlogs",
    "ec2",
    "eks",
    "elasticloadbalancingv2",
    "iam",
    "kms",
    "amp",
    "rds",
    "resourcegroupstaggingapi",
    "s3",
    "secretsmanager",
    "sns",
    "sts",
];

/// Lazily built AWS clients sharing one SDK configuration.
pub struct AwsClients {
    settings: AwsSettings,
    env_region: Option<String>,
    sdk: OnceCell<SdkConfig>,
}

impl AwsClients {
    /// Clients for these settings; makes no call. The environment is read now for the
    /// region so that region checks at plan time need no SDK.
    pub fn new(settings: AwsSettings) -> Self {
        let env_region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
        Self {
            settings,
            env_region,
            sdk: OnceCell::new(),
        }
    }

    /// The settings these clients were built from.
    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// The default region: the provider block's, else `AWS_REGION` /
    /// `AWS_DEFAULT_REGION`, else the profile's (read from the shared config when the
    /// SDK loads).
    pub fn region(&self) -> Result<String, CloudError> {
        match &self.settings.region {
            Setting::Value(r) => Ok(r.clone()),
            Setting::Unknown => Err(CloudError::UnknownSetting("aws.region")),
            Setting::Unset => self.env_region.clone().ok_or(CloudError::NoRegion {
                hint: "set region in the provider's aws block, or AWS_REGION".into(),
            }),
        }
    }

    /// The shared SDK configuration, loaded on first use. The loading is boxed: its
    /// future is large, and every client's future would carry it.
    pub async fn sdk_config(&self) -> Result<&SdkConfig, CloudError> {
        self.sdk.get_or_try_init(|| Box::pin(self.load())).await
    }

    async fn load(&self) -> Result<SdkConfig, CloudError> {
        // Benchmarks' phase marks (`crate::phases`, through tracing: adapters do not
        // import it): how long the SDK's set-up takes.
        tracing::info!(target: "paved::phase", mark = "sdk_config_start", detail = "aws");
        let loaded = self.load_config().await;
        tracing::info!(target: "paved::phase", mark = "sdk_config_end", detail = "aws");
        loaded
    }

    async fn load_config(&self) -> Result<SdkConfig, CloudError> {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
        if let Ok(region) = self.region() {
            loader = loader.region(Region::new(region));
        }
        if let Some(profile) = &self.settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &self.settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let base = in_flight::capped(loader.load().await);
        let Some(role) = &self.settings.assume_role else {
            return Ok(base);
        };
        let mut provider = aws_config::sts::AssumeRoleProvider::builder(&role.role_arn)
            .session_name(&role.session_name)
            .configure(&base);
        if let Some(id) = &role.external_id {
            provider = provider.external_id(id);
        }
        if let Some(secs) = role.duration_seconds {
            provider = provider.session_length(std::time::Duration::from_secs(u64::from(secs)));
        }
        let provider = provider.build().await;
        Ok(base
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build())
    }

    /// Starts loading the SDK configuration in the background, so the first cloud call
    /// of this run does not wait for it (profile files, credential chain, HTTP client).
    /// Only when the region is known: otherwise loading could probe the instance
    /// metadata service, and an operation that needs no cloud must make no call.
    /// Loading makes no AWS API call and needs no credentials.
    pub fn warm_up(self: &std::sync::Arc<Self>) {
        if self.region().is_err() {
            return;
        }
        let clients = self.clone();
        tokio::spawn(async move {
            if let Err(e) = clients.sdk_config().await {
                tracing::debug!(error = %e, "AWS configuration warm-up failed; retried on first use");
            }
        });
    }

    /// The endpoint override the provider block sets for `service` (a key of
    /// [`ENDPOINT_SERVICES`]), if any.
    pub fn endpoint_for(&self, service: &str) -> Option<&str> {
        self.settings.endpoints.get(service).map(String::as_str)
    }
}

/// Defines an `AwsClients` method building one service's client from the shared SDK
/// configuration, with the provider block's per-service endpoint and an optional
/// region.
macro_rules! service_client {
    ($(#[$doc:meta])* $method:ident, $krate:ident, $key:literal) => {
        impl AwsClients {
            $(#[$doc])*
            pub async fn $method(&self, region: Option<&str>) -> Result<$krate::Client, CloudError> {
                let sdk = self.sdk_config().await?;
                let mut builder = $krate::config::Builder::from(sdk);
                if let Some(r) = region {
                    builder = builder.region(Region::new(r.to_string()));
                }
                if let Some(url) = self.endpoint_for($key) {
                    builder = builder.endpoint_url(url);
                }
                Ok($krate::Client::from_conf(builder.build()))
            }
        }
    };
}

service_client!(
    /// An EC2 client for `region` (the default region when `None`).
    ec2, aws_sdk_ec2, "ec2"
);
service_client!(
    /// An EKS client for `region` (the default region when `None`).
    eks, aws_sdk_eks, "eks"
);
service_client!(
    /// An IAM client (IAM is global; `region` only picks the signing region).
    iam, aws_sdk_iam, "iam"
);
service_client!(
    /// A KMS client for `region` (the default region when `None`).
    kms, aws_sdk_kms, "kms"
);
service_client!(
    /// A CloudWatch Logs client for `region` (the default region when `None`).
    logs, aws_sdk_cloudwatchlogs, "cloudwatchlogs"
);
service_client!(
    /// An Elastic Load Balancing v2 client for `region` (the default region when `None`).
    elbv2, aws_sdk_elasticloadbalancingv2, "elasticloadbalancingv2"
);
service_client!(
    /// A Resource Groups Tagging API client for `region` (the default region when `None`).
    tagging, aws_sdk_resourcegroupstagging, "resourcegroupstaggingapi"
);
service_client!(
    /// An RDS client for `region` (the default region when `None`).
    rds, aws_sdk_rds, "rds"
);
service_client!(
    /// A Secrets Manager client for `region` (the default region when `None`).
    secretsmanager, aws_sdk_secretsmanager, "secretsmanager"
);
service_client!(
    /// An Amazon Managed Service for Prometheus client for `region` (the default
    /// region when `None`).
    amp, aws_sdk_amp, "amp"
);
service_client!(
    /// An SNS client for `region` (the default region when `None`).
    sns, aws_sdk_sns, "sns"
);
service_client!(
    /// An STS client for `region` (the default region when `None`).
    sts, aws_sdk_sts, "sts"
);

impl AwsClients {
    /// An S3 client for `region` (the default region when `None`). Path-style
    /// addressing when an endpoint is overridden (an emulator or a private endpoint
    /// whose host has no per-bucket names); virtual-hosted style against AWS.
    pub async fn s3(&self, region: Option<&str>) -> Result<aws_sdk_s3::Client, CloudError> {
        let sdk = self.sdk_config().await?;
        let mut builder = aws_sdk_s3::config::Builder::from(sdk);
        if let Some(r) = region {
            builder = builder.region(Region::new(r.to_string()));
        }
        let own = self.endpoint_for("s3");
        if let Some(url) = own {
            builder = builder.endpoint_url(url);
        }
        if own.is_some() || sdk.endpoint_url().is_some() {
            builder = builder.force_path_style(true);
        }
        Ok(aws_sdk_s3::Client::from_conf(builder.build()))
    }
}

/// The clients as the adapters use them: in the default region, with a client that
/// cannot be built (no region, a bad profile) reported as the [`BackendError`] the
/// adapters return. A copy is a reference, so the futures of its calls may outlive it.
#[derive(Clone, Copy)]
pub(crate) struct AdapterClients<'a>(&'a AwsClients);

impl AwsClients {
    /// These clients as the adapters use them (see [`AdapterClients`]).
    pub(crate) fn adapter(&self) -> AdapterClients<'_> {
        AdapterClients(self)
    }
}

impl AdapterClients<'_> {
    /// The default region (see [`AwsClients::region`]).
    pub(crate) fn region(self) -> Result<String, BackendError> {
        self.0.region().map_err(error::client_setup_error)
    }
}

/// Defines the [`AdapterClients`] method of each service: its [`AwsClients`] client in
/// the default region.
macro_rules! adapter_clients {
    ($($method:ident: $krate:ident),* $(,)?) => {
        impl AdapterClients<'_> {
            $(
                #[doc = concat!("[`AwsClients::", stringify!($method), "`] in the default region.")]
                pub(crate) async fn $method(self) -> Result<$krate::Client, BackendError> {
                    self.0.$method(None).await.map_err(error::client_setup_error)
                }
            )*
        }
    };
}

adapter_clients!(
    ec2: aws_sdk_ec2,
    eks: aws_sdk_eks,
    iam: aws_sdk_iam,
    kms: aws_sdk_kms,
    logs: aws_sdk_cloudwatchlogs,
    elbv2: aws_sdk_elasticloadbalancingv2,
    tagging: aws_sdk_resourcegroupstagging,
    rds: aws_sdk_rds,
    amp: aws_sdk_amp,
    sns: aws_sdk_sns,
    sts: aws_sdk_sts,
    s3: aws_sdk_s3,
);

/// Attempts per AWS call when `AWS_MAX_ATTEMPTS` does not say otherwise: the SDK's
/// default of 3 gives up too early when an account is being throttled.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// Standard retries (exponential backoff with full jitter on throttling, 5xx and
/// transport errors), with more attempts than the SDK's default. `AWS_MAX_ATTEMPTS`
/// still wins, as users expect.
fn retry_config() -> aws_config::retry::RetryConfig {
    let attempts = std::env::var("AWS_MAX_ATTEMPTS")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_ATTEMPTS);
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(attempts)
        .with_initial_backoff(std::time::Duration::from_millis(200))
        .with_max_backoff(std::time::Duration::from_secs(10))
}

/// An SDK error as the user sees it: code and message, never request bodies.
pub(crate) fn api_error<E>(
    service: &'static str,
    operation: &'static str,
    err: aws_sdk_ec2::error::SdkError<E, aws_sdk_ec2::config::http::HttpResponse>,
) -> CloudError
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    CloudError::Api {
        service,
        operation,
        message: error::SdkFailure::from_sdk(err).to_string(),
    }
}
