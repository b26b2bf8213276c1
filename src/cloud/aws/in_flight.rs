//! A cap on the AWS calls one provider process has in flight at once.
//!
//! Terraform refreshes ten resources at once (more with `-parallelism`) and each of
//! paved's resources reads its objects concurrently, so a large plan would otherwise
//! send over a hundred AWS requests at once (180 measured for 50 stacks at
//! `-parallelism=30`): the bursts an account's API rate limits refuse. Capped, the same
//! plan took 2.43 s with 48 in flight (bench/results/replay-50-cap). The memory a wide
//! plan costs follows Terraform's concurrent operations, not the open requests: the cap
//! does not lower it. The cap wraps the SDK's own HTTP client: a call waits for a
//! permit before it is sent and gives it back when its response arrives. Waits between
//! polls hold no permit.

use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use tokio::sync::Semaphore;

/// AWS calls one provider process has in flight at most.
pub const MAX_IN_FLIGHT: usize = 48;

/// `config` with its HTTP client capped at [`MAX_IN_FLIGHT`] requests at once (unchanged
/// when it has none).
pub fn capped(config: aws_config::SdkConfig) -> aws_config::SdkConfig {
    // aws-config leaves the client unset and each service client falls back to the SDK's
    // default one; that default is taken here, to be wrapped once for all of them.
    match config.http_client().or_else(default_client) {
        Some(inner) => config
            .into_builder()
            .http_client(CappedHttpClient::new(inner, MAX_IN_FLIGHT))
            .build(),
        None => config,
    }
}

/// The HTTPS client a service client would build for itself (hyper, rustls with
/// aws-lc), from the SDK's own default plugin.
fn default_client() -> Option<SharedHttpClient> {
    use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
    let plugin = aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(
        aws_config::BehaviorVersion::latest(),
    )?;
    plugin
        .runtime_components(&RuntimeComponentsBuilder::new("paved"))
        .http_client()
}

/// The SDK's HTTP client with at most `permits` requests in flight across every
/// connector it hands out.
#[derive(Debug, Clone)]
pub struct CappedHttpClient {
    inner: SharedHttpClient,
    permits: Arc<Semaphore>,
}

impl CappedHttpClient {
    /// Wraps `inner`, allowing `permits` requests at once.
    pub fn new(inner: SharedHttpClient, permits: usize) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(permits)),
        }
    }
}

impl HttpClient for CappedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(CappedConnector {
            inner: self.inner.http_connector(settings, components),
            permits: self.permits.clone(),
        })
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

/// One connector of a [`CappedHttpClient`]: sends through `inner` once it holds a permit.
#[derive(Debug)]
struct CappedConnector {
    inner: SharedHttpConnector,
    permits: Arc<Semaphore>,
}

impl HttpConnector for CappedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let permits = self.permits.clone();
        HttpConnectorFuture::new(async move {
            // The semaphore is never closed; an error here would be a bug, reported as
            // the call's failure rather than a panic.
            let _permit = permits
                .acquire_owned()
                .await
                .map_err(|e| ConnectorError::other(Box::new(e), None))?;
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    /// A connector that answers 200 after a short sleep and records how many calls it
    /// had open at once.
    #[derive(Debug, Default)]
    struct Counting {
        open: AtomicUsize,
        most: AtomicUsize,
        done: AtomicUsize,
    }

    #[derive(Debug)]
    struct CountingConnector(Arc<Counting>);

    impl HttpConnector for CountingConnector {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            let c = self.0.clone();
            HttpConnectorFuture::new(async move {
                let now = c.open.fetch_add(1, Ordering::SeqCst) + 1;
                c.most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                c.open.fetch_sub(1, Ordering::SeqCst);
                c.done.fetch_add(1, Ordering::SeqCst);
                Ok(HttpResponse::new(
                    200.try_into().expect("status"),
                    SdkBody::empty(),
                ))
            })
        }
    }

    /// 60 calls started together through three connectors (as three service clients
    /// would hold) sharing `permits`, or uncapped; the most the inner connector had open.
    async fn most_in_flight(permits: Option<usize>) -> usize {
        let counting = Arc::new(Counting::default());
        let shared = Arc::new(Semaphore::new(permits.unwrap_or(Semaphore::MAX_PERMITS)));
        let connectors: Vec<SharedHttpConnector> = (0..3)
            .map(|_| {
                let inner = SharedHttpConnector::new(CountingConnector(counting.clone()));
                match permits {
                    Some(_) => SharedHttpConnector::new(CappedConnector {
                        inner,
                        permits: shared.clone(),
                    }),
                    None => inner,
                }
            })
            .collect();
        let calls = (0..60).map(|i| connectors[i % 3].call(HttpRequest::empty()));
        let answers = futures::future::join_all(calls).await;
        assert!(answers.iter().all(Result::is_ok), "every call answered");
        assert_eq!(counting.done.load(Ordering::SeqCst), 60);
        counting.most.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn no_more_calls_in_flight_than_permits_across_connectors() {
        assert_eq!(most_in_flight(Some(4)).await, 4);
        // The control: the same calls uncapped overlap further.
        assert!(most_in_flight(None).await > 4);
    }
}
