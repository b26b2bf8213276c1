//! What every AWS adapter reports with its results: inventory rows for the components
//! it found or made, and the [`Step`] of a trait call, built here once.

use std::future::Future;

use crate::stack::{BackendError, ComponentRecord, Step};

/// A row of the inventory for a regional or global component (one without a zone).
pub(crate) fn record(key: &str, kind: &str, id: &str) -> ComponentRecord {
    ComponentRecord {
        key: key.to_owned(),
        kind: kind.to_owned(),
        zone: None,
        id: id.to_owned(),
    }
}

/// A `Step` from a result and the components collected on the way.
pub(crate) fn step<T>(
    result: Result<T, BackendError>,
    components: Vec<ComponentRecord>,
) -> Step<T> {
    Step { components, result }
}

/// The step `run` takes with what `ready` prepares (the clients a call needs, the
/// account), or a failed step without components when that cannot be prepared: the
/// shape of every entry point of the adapters' traits.
///
/// `run`'s future is boxed: a whole operation (a control plane with its waits) makes
/// a large future, and held inline it would be copied on the stack once more by
/// every caller's poll (debug builds overflow the test threads' stacks).
pub(crate) async fn step_with<R, T, Fut>(
    ready: impl Future<Output = Result<R, BackendError>>,
    run: impl FnOnce(R) -> Fut,
) -> Step<T>
where
    Fut: Future<Output = Step<T>>,
{
    match ready.await {
        Ok(ready) => Box::pin(run(ready)).await,
        Err(e) => Step::failed(e, Vec::new()),
    }
}
