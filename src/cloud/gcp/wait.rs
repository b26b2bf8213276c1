//! Waiting on GCP long-running operations (Compute's regional and global
//! operations, GKE's operations, Cloud SQL's `sql#operation`s): the engine's
//! [`Waiter`] polls the operation until it is `DONE`, with a growing interval,
//! retrying polls that failed in a way that may pass, stopping on cancel and at
//! the deadline. An operation that ends with an error becomes a [`BackendError`]
//! here, once. Answers are read through their JSON form ([`view`]), the same
//! shape the REST reference documents.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::call::{GcpFailure, GcpFailure as F};
use super::clients::GcpClients;
use crate::stack::waiter::{Poll, PollBackoff, Waiter};
use crate::stack::{BackendError, OperationContext, StackContext};

/// The pause between polls of an operation: 2s growing to 30s (a subnet takes
/// seconds, a GKE cluster 5 to 10 minutes).
pub(crate) const OPERATION_POLL: PollBackoff = PollBackoff {
    start: Duration::from_secs(2),
    factor: 1.5,
    cap: Duration::from_secs(30),
};

/// What a failed operation advises.
const FAILED_HINT: &str =
    "Fix the cause GCP names (the operation's error; see the Cloud console), then run apply again";

/// A model's JSON form (what the REST reference shows); `Null` when it cannot be
/// serialised, which the generated models always can.
pub(crate) fn view<T: Serialize>(model: &T) -> Value {
    serde_json::to_value(model).unwrap_or(Value::Null)
}

/// A string field of a JSON view at `pointer` (`/status`).
pub(crate) fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The last path segment of a URL or resource name.
pub(crate) fn last_segment(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// A waiter for `what`, bounded by the stack's deadline and stopped by its cancel.
fn waiter(ctx: &StackContext, what: &str) -> Waiter {
    Waiter::new(
        OperationContext::new(ctx.cancel.clone()),
        what,
        ctx.wait_limit(),
    )
    .with_interval(OPERATION_POLL)
    .with_hint(
        "run apply again, it resumes where it stopped; raise the timeouts if GCP is just slow",
    )
}

/// Judges an operation's JSON view: done (with its error, if any) or pending.
fn judge(op: &Value) -> Poll<()> {
    let status = text(op, "/status").unwrap_or_default();
    let done = status == "DONE" || op.get("done").and_then(Value::as_bool) == Some(true);
    if !done {
        return Poll::Pending {
            status: if status.is_empty() {
                "RUNNING".to_owned()
            } else {
                status
            },
        };
    }
    let compute_error = op
        .pointer("/error/errors")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| text(e, "/message").or_else(|| text(e, "/code")))
                .collect::<Vec<_>>()
                .join("; ")
        });
    let other_error = text(op, "/error/message").filter(|m| !m.is_empty());
    match compute_error.or(other_error) {
        Some(reason) => Poll::Failed(reason),
        None => Poll::Done(()),
    }
}

/// Polls with `poll` until the operation is done, doing `during`.
async fn until_done<P, Fut>(
    ctx: &StackContext,
    during: &str,
    service: &'static str,
    mut poll: P,
) -> Result<(), BackendError>
where
    P: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Value, GcpFailure>>,
{
    let w = waiter(ctx, during);
    let classify = |f: &GcpFailure| f.retryability();
    w.wait(&classify, || {
        let seen = poll();
        async move { Ok(judge(&seen.await?)) }
    })
    .await
    .map_err(|e| {
        BackendError::from_wait(e, during, FAILED_HINT, |f: F| {
            f.into_backend_error(service, during)
        })
    })
}

/// Waits for a Compute operation (regional when it names a region, else global).
pub(crate) async fn compute(
    clients: &GcpClients,
    ctx: &StackContext,
    project: &str,
    op: &google_cloud_compute_v1::model::Operation,
    during: &str,
) -> Result<(), BackendError> {
    let first = view(op);
    if matches!(judge(&first), Poll::Done(())) {
        return Ok(());
    }
    if let Poll::Failed(reason) = judge(&first) {
        return Err(BackendError::Permanent {
            operation: during.to_owned(),
            message: reason,
            hint: FAILED_HINT.to_owned(),
        });
    }
    let name = text(&first, "/name").unwrap_or_default();
    let region = text(&first, "/region").map(|r| last_segment(&r).to_owned());
    until_done(ctx, during, "Compute", || {
        let (name, region) = (name.clone(), region.clone());
        async move {
            let op = match region {
                Some(region) => {
                    let c = clients.region_operations().await?;
                    c.get()
                        .set_project(project)
                        .set_region(region)
                        .set_operation(name)
                        .send()
                        .await
                }
                None => {
                    let c = clients.global_operations().await?;
                    c.get()
                        .set_project(project)
                        .set_operation(name)
                        .send()
                        .await
                }
            };
            op.map(|o| view(&o)).map_err(|e| GcpFailure::from_gax(&e))
        }
    })
    .await
}

/// Waits for a GKE operation in `location`.
pub(crate) async fn container(
    clients: &GcpClients,
    ctx: &StackContext,
    project: &str,
    location: &str,
    op: &google_cloud_container_v1::model::Operation,
    during: &str,
) -> Result<(), BackendError> {
    let first = container_view(op);
    let name = format!(
        "projects/{project}/locations/{location}/operations/{}",
        last_segment(&text(&first, "/name").unwrap_or_default())
    );
    until_done(ctx, during, "GKE", || {
        let name = name.clone();
        async move {
            let c = clients.container().await?;
            c.get_operation()
                .set_name(name)
                .send()
                .await
                .map(|o| container_view(&o))
                .map_err(|e| GcpFailure::from_gax(&e))
        }
    })
    .await
}

/// Waits for a Cloud SQL operation of `project` (as a mutation answered it),
/// polling the typed Operations service; an operation that ends with an error
/// fails with its message.
pub(crate) async fn sql(
    clients: &GcpClients,
    ctx: &StackContext,
    project: &str,
    op: &google_cloud_sql_v1::model::Operation,
    during: &str,
) -> Result<(), BackendError> {
    let first = sql_view(op);
    match judge(&first) {
        Poll::Done(()) => return Ok(()),
        Poll::Failed(reason) => {
            return Err(BackendError::Permanent {
                operation: during.to_owned(),
                message: reason,
                hint: FAILED_HINT.to_owned(),
            })
        }
        Poll::Pending { .. } => {}
    }
    let name = op.name.clone();
    until_done(ctx, during, "Cloud SQL Admin", || {
        let name = name.clone();
        async move {
            let c = clients.sql_operations().await?;
            super::call::gax(ctx, "operations.get", || {
                c.get()
                    .set_project(project)
                    .set_operation(name.clone())
                    .send()
            })
            .await
            .map(|o| sql_view(&o))
        }
    })
    .await
}

/// A Cloud SQL operation's JSON view with its status as a name.
fn sql_view(op: &google_cloud_sql_v1::model::Operation) -> Value {
    let mut v = view(op);
    v["status"] = Value::String(op.status.name().unwrap_or("RUNNING").to_owned());
    v
}

/// A GKE operation's JSON view with its status as a name: the proto-built models
/// write enums as numbers.
fn container_view(op: &google_cloud_container_v1::model::Operation) -> Value {
    let mut v = view(op);
    v["status"] = Value::String(op.status.name().unwrap_or("RUNNING").to_owned());
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_are_judged_by_status_and_error() {
        assert_eq!(
            judge(&json!({"status": "RUNNING"})),
            Poll::Pending {
                status: "RUNNING".into()
            }
        );
        assert_eq!(judge(&json!({"status": "DONE"})), Poll::Done(()));
        assert_eq!(
            judge(
                &json!({"status": "DONE", "error": {"errors": [{"code": "QUOTA_EXCEEDED", "message": "Quota 'CPUS' exceeded"}]}})
            ),
            Poll::Failed("Quota 'CPUS' exceeded".into())
        );
        assert_eq!(
            judge(&json!({"status": "DONE", "error": {"code": 9, "message": "node pool failed"}})),
            Poll::Failed("node pool failed".into())
        );
        assert_eq!(judge(&json!({"done": true})), Poll::Done(()));
        assert_eq!(
            last_segment("https://x/regions/europe-west2"),
            "europe-west2"
        );
    }

    #[test]
    fn cloud_sql_operations_are_judged_by_their_status_name() {
        let sql: google_cloud_sql_v1::model::Operation = serde_json::from_value(json!({
            "name": "op-1", "status": "DONE",
            "error": {"errors": [{"code": "INVALID_FLAG", "message": "bad flag work_mem"}]}
        }))
        .expect("an operation");
        assert!(view(&sql)["status"].is_number());
        assert_eq!(
            judge(&sql_view(&sql)),
            Poll::Failed("bad flag work_mem".into())
        );
        let running = google_cloud_sql_v1::model::Operation::new()
            .set_status(google_cloud_sql_v1::model::operation::SqlOperationStatus::Running);
        assert_eq!(
            judge(&sql_view(&running)),
            Poll::Pending {
                status: "RUNNING".into()
            }
        );
    }
}
