//! AWS for the tests: SDK configuration and clients for moto, a user's own network
//! made with the SDK, and the `StackContext`s the backends are called with.
//!
//! Two ways to reach moto:
//! - [`moto_config`]: an SDK configuration with everything explicit (region, endpoint,
//!   static credentials); it reads nothing from the process environment, so any number
//!   of tests can use it at once.
//! - [`moto_clients`]: the provider's own `AwsClients`, whose loader takes credentials
//!   from the environment like the provider does. A binary that uses them sets
//!   [`PROCESS_ENV`] once, before `main` (see `tests/aws/main.rs`): no test changes
//!   the environment while others run.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use paved::cloud::aws::{AwsClients, AwsSettings, Setting};
use paved::stack::tags::STACK_TAG;
use paved::stack::StackContext;
use tokio_util::sync::CancellationToken;

/// The region every test uses.
pub const REGION: &str = "us-east-1";
/// Three zones of [`REGION`].
pub const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

/// The SDK configuration for moto (or a proxy in front of it) at `endpoint`: region
/// [`REGION`] and moto's static test credentials, nothing from the environment.
pub fn moto_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        )))
        .build()
}

/// Runs `future` to completion on a runtime of its own (for tests that are not async).
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// The environment the SDK's default loader finds in a binary that uses
/// [`moto_clients`]: moto's static credentials, no instance metadata, no shared config
/// or credentials file, no profile, no session token (`None`: removed).
pub const PROCESS_ENV: &[(&str, Option<&str>)] = &[
    ("AWS_ACCESS_KEY_ID", Some("testing")),
    ("AWS_SECRET_ACCESS_KEY", Some("testing")),
    ("AWS_EC2_METADATA_DISABLED", Some("true")),
    ("AWS_CONFIG_FILE", Some("/nonexistent/paved-test-config")),
    (
        "AWS_SHARED_CREDENTIALS_FILE",
        Some("/nonexistent/paved-test-credentials"),
    ),
    ("AWS_PROFILE", None),
    ("AWS_SESSION_TOKEN", None),
];

/// Sets [`PROCESS_ENV`]. Only for a constructor that runs before `main`, while the
/// process has a single thread (as `tests/aws/main.rs` does): changing the environment
/// while tests run in other threads is a data race.
pub fn set_process_env() {
    for (key, value) in PROCESS_ENV {
        match value {
            Some(v) => std::env::set_var(key, v),
            None => std::env::remove_var(key),
        }
    }
}

/// `AwsClients` for moto (or a proxy in front of it) at `endpoint`, in [`REGION`].
/// Panics unless the process environment is [`PROCESS_ENV`].
pub fn moto_clients(endpoint: &str) -> Arc<AwsClients> {
    for (key, value) in PROCESS_ENV {
        assert_eq!(
            std::env::var(key).ok().as_deref(),
            *value,
            "{key}: this binary must set support::aws::PROCESS_ENV before main"
        );
    }
    Arc::new(AwsClients::new(AwsSettings {
        region: Setting::Value(REGION.to_owned()),
        endpoint_url: Some(endpoint.to_owned()),
        ..AwsSettings::default()
    }))
}

/// A user's own network, made directly with the SDK: VPC `10.{net}.0.0/16` with one
/// subnet `10.{net}.{i}.0/24` in each of `zones`. The VPC's id and the subnets' ids, in
/// zone order.
pub async fn user_network(
    ec2: &aws_sdk_ec2::Client,
    net: u8,
    zones: &[&str],
) -> (String, Vec<String>) {
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{net}.0.0/16"))
        .send()
        .await
        .expect("create the VPC");
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("the VPC's id")
        .to_owned();
    let mut subnet_ids = Vec::new();
    for (i, zone) in zones.iter().enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("10.{net}.{i}.0/24"))
            .availability_zone(*zone)
            .send()
            .await
            .expect("create a subnet");
        subnet_ids.push(
            s.subnet()
                .and_then(|s| s.subnet_id())
                .expect("the subnet's id")
                .to_owned(),
        );
    }
    (vpc_id, subnet_ids)
}

/// The context of stack `stack` of `resource_type`, with the stack tag and one user tag
/// `team` = `team`, as the resource builds it; no deadline.
pub fn stack_context(resource_type: &'static str, stack: &str, team: &str) -> StackContext {
    StackContext {
        stack: stack.to_owned(),
        resource_type,
        tags: BTreeMap::from([
            (STACK_TAG.to_owned(), stack.to_owned()),
            ("team".to_owned(), team.to_owned()),
        ]),
        cancel: CancellationToken::new(),
        deadline: None,
    }
}

/// A `paved_ha_cluster` stack of team `platform`, no deadline.
pub fn cluster_context(stack: &str) -> StackContext {
    stack_context("paved_ha_cluster", stack, "platform")
}

/// A `paved_managed_database` stack of team `data`, with five minutes to go.
pub fn database_context(stack: &str) -> StackContext {
    StackContext {
        deadline: Some(Instant::now() + Duration::from_secs(300)),
        ..stack_context("paved_managed_database", stack, "data")
    }
}
