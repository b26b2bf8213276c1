//! The hand-written REST calls of the Cloud SQL stack, for the APIs no typed
//! client of google-cloud-rust covers here: Service Networking (no crate),
//! Service Usage (its `generateServiceIdentity` is v1beta1 only, which has no
//! crate) and Compute's global addresses (kept as REST beside them, so that the
//! Compute client's enabled collections stay the cluster's). They are JSON in the
//! REST reference's shape over [`GcpClients::rest`] with a bearer token, retried
//! by the shared engine ([`retrying`]); and the waits on their long-running
//! operations (Compute's global operations, Service Networking's and Service
//! Usage's `operations/...`), polled with the engine's [`Waiter`]. Cloud SQL Admin
//! and Secret Manager go through their typed clients ([`super::admin`],
//! [`super::secret`]); [`fail`] and [`service_name`] serve them too. Bodies never
//! reach a message or a log.

use reqwest::Method;
use serde_json::Value;

use crate::cloud::gcp::call::{retrying, GcpFailure};
use crate::cloud::gcp::clients::GcpClients;
use crate::cloud::gcp::wait::{text, OPERATION_POLL};
use crate::stack::waiter::{Poll, Waiter};
use crate::stack::{BackendError, OperationContext, StackContext};

/// What a failed operation advises.
const FAILED_HINT: &str =
    "Fix the cause GCP names (the operation's error; see the Cloud console), then run apply again";

/// One JSON call to `service` (`servicenetworking`, `serviceusage`, `compute`):
/// `path` (with its query) is appended to the service's base URL.
pub(super) async fn call(
    clients: &GcpClients,
    ctx: &StackContext,
    service: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
    what: &str,
) -> Result<Value, GcpFailure> {
    let (http, base) = clients.rest(service).await?;
    let url = format!("{base}{path}");
    retrying(ctx, what, || {
        let (http, url, method) = (http.clone(), url.clone(), method.clone());
        async move {
            let token = clients.access_token().await?;
            let mut request = http.request(method, &url).bearer_auth(token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let answer = request
                .send()
                .await
                .map_err(|e| GcpFailure::transport(format!("{what}: {}", without_url(&e))))?;
            let status = answer.status().as_u16();
            let json: Value = answer.json().await.unwrap_or(Value::Null);
            if (200..300).contains(&status) {
                return Ok(json);
            }
            Err(GcpFailure::from_http(status, &json))
        }
    })
    .await
}

/// A transport error without its URL (which may carry a query).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "the endpoint");
    }
    text
}

/// Judges an operation's JSON: done (with its error, if any) or pending.
pub(super) fn judge(op: &Value) -> Poll<Value> {
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
    let listed = op
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
    let single = text(op, "/error/message").filter(|m| !m.is_empty());
    match listed.or(single) {
        Some(reason) => Poll::Failed(reason),
        None => Poll::Done(op.clone()),
    }
}

/// Waits until the operation `first` (as a mutation answered it) is done, polling
/// `GET {poll_path}`; returns the finished operation.
pub(super) async fn wait(
    clients: &GcpClients,
    ctx: &StackContext,
    service: &str,
    poll_path: &str,
    first: Value,
    during: &str,
) -> Result<Value, BackendError> {
    match judge(&first) {
        Poll::Done(op) => return Ok(op),
        Poll::Failed(reason) => {
            return Err(BackendError::Permanent {
                operation: during.to_owned(),
                message: reason,
                hint: FAILED_HINT.to_owned(),
            })
        }
        Poll::Pending { .. } => {}
    }
    let w = Waiter::new(
        OperationContext::new(ctx.cancel.clone()),
        during,
        ctx.wait_limit(),
    )
    .with_interval(OPERATION_POLL)
    .with_hint(
        "run apply again, it resumes where it stopped; raise the timeouts if GCP is just slow",
    );
    let classify = |f: &GcpFailure| f.retryability();
    w.wait(&classify, || async {
        let op = call(clients, ctx, service, Method::GET, poll_path, None, during).await?;
        Ok(judge(&op))
    })
    .await
    .map_err(|e| {
        BackendError::from_wait(e, during, FAILED_HINT, |f: GcpFailure| {
            f.into_backend_error(service_name(service), during)
        })
    })
}

/// The API a service key names, for messages.
pub(super) fn service_name(service: &str) -> &'static str {
    match service {
        "sqladmin" => "Cloud SQL Admin",
        "servicenetworking" => "Service Networking",
        "serviceusage" => "Service Usage",
        "compute" => "Compute",
        "secretmanager" => "Secret Manager",
        _ => "GCP",
    }
}

/// Waits for a Compute global operation of `project`.
pub(super) async fn compute_wait(
    clients: &GcpClients,
    ctx: &StackContext,
    project: &str,
    first: Value,
    during: &str,
) -> Result<Value, BackendError> {
    let name = text(&first, "/name").unwrap_or_default();
    let path = format!("/compute/v1/projects/{project}/global/operations/{name}");
    wait(clients, ctx, "compute", &path, first, during).await
}

/// Waits for a Service Networking operation (`operations/...`).
pub(super) async fn networking_wait(
    clients: &GcpClients,
    ctx: &StackContext,
    first: Value,
    during: &str,
) -> Result<Value, BackendError> {
    let name = text(&first, "/name").unwrap_or_default();
    let path = format!("/v1/{name}");
    wait(clients, ctx, "servicenetworking", &path, first, during).await
}

/// A failure of `service` during `what`, as the user sees it.
pub(super) fn fail<'a>(
    service: &'static str,
    what: &'a str,
) -> impl Fn(GcpFailure) -> BackendError + 'a {
    move |f| f.into_backend_error(service_name(service), what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_of_every_shape_are_judged() {
        assert!(matches!(
            judge(&json!({"status": "PENDING"})),
            Poll::Pending { .. }
        ));
        assert!(matches!(
            judge(&json!({"name": "operations/pssn.1"})),
            Poll::Pending { .. }
        ));
        assert!(matches!(judge(&json!({"status": "DONE"})), Poll::Done(_)));
        assert_eq!(
            judge(
                &json!({"done": true, "error": {"code": 9, "message": "still using this connection"}})
            ),
            Poll::Failed("still using this connection".into())
        );
        assert_eq!(
            judge(
                &json!({"status": "DONE", "error": {"errors": [{"code": "X", "message": "bad tier"}]}})
            ),
            Poll::Failed("bad tier".into())
        );
        assert_eq!(service_name("sqladmin"), "Cloud SQL Admin");
    }
}
