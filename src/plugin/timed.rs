//! For benchmarks: a layer on the gRPC server that marks when each request arrives
//! and when its answer is ready ([`crate::phases`]), so the time a plan spends in
//! paved's handlers can be told from the time paved waits for Terraform. When marks
//! are off the request passes straight through.

use std::task::{Context, Poll};

use futures::future::{BoxFuture, Either};
use futures::FutureExt;

use crate::phases;

/// The layer: wraps the server's routes in [`TimedService`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Timed;

impl<S> tower::Layer<S> for Timed {
    type Service = TimedService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimedService { inner }
    }
}

/// Marks `rpc_start` and `rpc_end` with the request's path around the inner service.
#[derive(Clone, Debug)]
pub struct TimedService<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for TimedService<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<S::Future, BoxFuture<'static, Result<S::Response, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if !phases::enabled() {
            return Either::Left(self.inner.call(request));
        }
        let path = request.uri().path().to_owned();
        phases::mark("rpc_start", Some(&path));
        let answer = self.inner.call(request);
        Either::Right(
            async move {
                let result = answer.await;
                phases::mark("rpc_end", Some(&path));
                result
            }
            .boxed(),
        )
    }
}
