//! The plugin library's own services that Terraform expects next to the provider:
//! the controller (Shutdown), the broker (a stream Terraform opens and providers
//! never use) and stdio forwarding (not used: paved logs straight to stderr).

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tokio::sync::Notify;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use crate::proto::plugin::{
    grpc_broker_server::GrpcBroker, grpc_controller_server::GrpcController,
    grpc_stdio_server::GrpcStdio, ConnInfo, Empty, StdioData,
};

/// Answers `GRPCController.Shutdown` and then asks the process to exit.
pub struct Controller {
    shutdown: Arc<Notify>,
}

impl Controller {
    /// A controller that signals `shutdown` when Terraform asks the plugin to stop.
    pub fn new(shutdown: Arc<Notify>) -> Self {
        Self { shutdown }
    }
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("Terraform asked the provider to shut down");
        // notify_one stores a permit, so the signal is not lost if nobody waits yet.
        self.shutdown.notify_one();
        Ok(Response::new(Empty {}))
    }
}

/// Keeps Terraform's broker stream open for as long as Terraform keeps it.
#[derive(Default)]
pub struct Broker;

type ConnInfoStream = Pin<Box<dyn Stream<Item = Result<ConnInfo, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl GrpcBroker for Broker {
    type StartStreamStream = ConnInfoStream;

    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut inbound = request.into_inner();
        // Drain what Terraform sends (nothing, in practice); our outbound stream ends
        // when Terraform closes its side, never before.
        let outbound = async_stream_until_closed(async move {
            while let Some(item) = inbound.next().await {
                if item.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(outbound)))
    }
}

/// A stream that yields nothing and ends when `fut` completes.
fn async_stream_until_closed<F>(fut: F) -> impl Stream<Item = Result<ConnInfo, Status>> + Send
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    futures::stream::once(fut).filter_map(|()| None)
}

/// Stdio forwarding is not used: logs go to stderr directly in Terraform's format.
#[derive(Default)]
pub struct Stdio;

type StdioStream = Pin<Box<dyn Stream<Item = Result<StdioData, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Err(Status::unimplemented(
            "paved writes its logs to stderr; stdio forwarding is not used",
        ))
    }
}
