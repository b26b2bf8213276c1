//! One GCP call, made safely: a failure reduced to what classification and messages
//! need ([`GcpFailure`]: the canonical status, the HTTP status, the Compute `reason`,
//! transport or not), retried with backoff and jitter while it is throttling
//! (`RESOURCE_EXHAUSTED`, 429) or transient (`UNAVAILABLE`, 5xx, transport) through
//! the shared retry engine, and turned into the [`BackendError`] the user sees.
//! Request and response bodies never reach a message.

use std::fmt;
use std::future::Future;

use crate::stack::retry::{classify_cloud_error, Retry, RetryError, RetryPolicy, Retryability};
use crate::stack::{BackendError, OperationContext, StackContext};

/// One failed GCP call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GcpFailure {
    /// The canonical status name (`NOT_FOUND`, `RESOURCE_EXHAUSTED`...), when known.
    pub code: Option<String>,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// The Compute-style reason (`resourceInUseByAnotherResource`, `alreadyExists`).
    pub reason: Option<String>,
    /// The call got no answer (connection failure, timeout).
    pub io: bool,
    /// What went wrong, for the user.
    pub message: String,
}

impl fmt::Display for GcpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, self.status) {
            (Some(code), _) => write!(f, "{code}: {}", self.message),
            (None, Some(status)) => write!(f, "HTTP {status}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

/// The canonical status names that mean "try again later".
const RETRYABLE_CODES: &[&str] = &[
    "RESOURCE_EXHAUSTED",
    "UNAVAILABLE",
    "INTERNAL",
    "DEADLINE_EXCEEDED",
];

impl GcpFailure {
    /// Reduces an error of any google-cloud-rust client.
    pub fn from_gax(err: &google_cloud_gax::error::Error) -> Self {
        let status = err.http_status_code();
        let code = err
            .status()
            .map(|s| s.code.name().to_owned())
            .filter(|c| c != "UNKNOWN" && c != "OK");
        let io = err.is_io() || err.is_connect() || err.is_timeout();
        let payload = err
            .http_payload()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok());
        let reason = payload
            .as_ref()
            .and_then(|p| p.pointer("/error/errors/0/reason"))
            .and_then(|r| r.as_str())
            .map(str::to_owned)
            .or_else(|| detail_reason(err));
        let message = match err.status() {
            Some(s) if !s.message.is_empty() => s.message.clone(),
            _ => payload
                .as_ref()
                .and_then(|p| p.pointer("/error/message"))
                .and_then(|m| m.as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| chain(err)),
        };
        Self {
            code,
            status,
            reason,
            io,
            message,
        }
    }

    /// Reduces the answer of a hand-written REST call (`status` and the JSON body).
    pub fn from_http(status: u16, body: &serde_json::Value) -> Self {
        let text = |p: &str| body.pointer(p).and_then(|v| v.as_str()).map(str::to_owned);
        Self {
            code: text("/error/status"),
            status: Some(status),
            reason: text("/error/errors/0/reason"),
            io: false,
            message: text("/error/message").unwrap_or_else(|| format!("HTTP {status}")),
        }
    }

    /// A transport failure of a hand-written call.
    pub fn transport(message: impl Into<String>) -> Self {
        Self {
            code: None,
            status: None,
            reason: None,
            io: true,
            message: message.into(),
        }
    }

    /// Whether trying again may help. Compute's `resourceNotReady` (an operation
    /// on the object is still running, such as an interrupted apply's create) and
    /// Cloud SQL's `operationInProgress` (409 or 400: another operation runs on the
    /// instance, one at a time) pass once that operation ends.
    pub fn retryability(&self) -> Retryability {
        if matches!(
            self.reason.as_deref(),
            Some("resourceNotReady" | "operationInProgress")
        ) || (self.status == Some(400) && self.message.ends_with("is not ready"))
        {
            return Retryability::Retryable;
        }
        if self
            .code
            .as_deref()
            .is_some_and(|c| RETRYABLE_CODES.contains(&c))
        {
            return Retryability::Retryable;
        }
        classify_cloud_error(None, self.status, self.io)
    }

    /// The object does not exist (any more).
    pub fn is_not_found(&self) -> bool {
        self.code.as_deref() == Some("NOT_FOUND")
            || (self.code.is_none() && self.status == Some(404))
            || self.reason.as_deref() == Some("notFound")
    }

    /// An object with that name exists already.
    pub fn is_already_exists(&self) -> bool {
        self.code.as_deref() == Some("ALREADY_EXISTS")
            || self.reason.as_deref() == Some("alreadyExists")
            || (self.status == Some(409) && self.code.is_none())
    }

    /// Something else still uses the object.
    pub fn is_in_use(&self) -> bool {
        self.reason.as_deref() == Some("resourceInUseByAnotherResource")
            || self.message.contains("is already being used by")
            || self.message.contains("still using this connection")
    }

    /// The failure as the user sees it; `service` names the API whose permissions
    /// the hint mentions, `operation` what was being done.
    pub fn into_backend_error(self, service: &str, operation: impl Into<String>) -> BackendError {
        let operation = operation.into();
        if self.retryability() == Retryability::Retryable {
            return BackendError::Retryable {
                operation,
                message: self.to_string(),
            };
        }
        if self.is_not_found() {
            return BackendError::NotFound {
                what: format!("{operation}: {}", self.message),
            };
        }
        let code = self.code.as_deref().unwrap_or_default();
        let hint = if code == "PERMISSION_DENIED" || self.status == Some(403) {
            format!(
                "Give the credentials paved runs with the {service} permissions this needs \
                 (and enable the API in the project), then run apply again"
            )
        } else if code == "UNAUTHENTICATED" || self.status == Some(401) {
            "Refresh the credentials (gcloud auth application-default login, or a new \
             GOOGLE_OAUTH_ACCESS_TOKEN), then run apply again"
                .to_owned()
        } else if self.is_in_use() {
            "Something outside paved still uses it: remove that, then run the operation again"
                .to_owned()
        } else if code == "FAILED_PRECONDITION" || code == "ABORTED" {
            "The object is busy or not in a state that allows this yet: wait until its \
             current operation ends and run apply again"
                .to_owned()
        } else if self.status.is_none() {
            format!(
                "Check that the {service} endpoint is right and reachable; run apply again \
                 once it answers"
            )
        } else {
            "Fix the cause named above and run apply again; it resumes where it stopped".to_owned()
        };
        BackendError::Permanent {
            operation,
            message: self.to_string(),
            hint,
        }
    }
}

/// The reason of a service error's first `ErrorInfo` detail: Google's
/// `error.details[]` or, from the older APIs (Compute, Cloud SQL), the legacy
/// `error.errors[].reason`, which the client turns into such a detail.
fn detail_reason(err: &google_cloud_gax::error::Error) -> Option<String> {
    err.status()?.details.iter().find_map(|d| match d {
        google_cloud_gax::error::rpc::StatusDetails::ErrorInfo(info) if !info.reason.is_empty() => {
            Some(info.reason.clone())
        }
        _ => None,
    })
}

/// An error and its sources, one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Runs one call (`op` makes a fresh attempt), retrying throttling and transient
/// failures with the shared engine; stops when Terraform asks. `operation` names the
/// call in messages.
pub(crate) async fn retrying<T, F, Fut>(
    ctx: &StackContext,
    operation: &str,
    op: F,
) -> Result<T, GcpFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, GcpFailure>>,
{
    let mut policy = RetryPolicy::CLOUD_DEFAULT;
    if let Some(deadline) = ctx.deadline {
        policy =
            policy.with_deadline(deadline.saturating_duration_since(std::time::Instant::now()));
    }
    retry_under(policy, ctx.cancel.clone(), operation, op).await
}

/// Runs one client call outside a stack operation (a data source's read, which its
/// caller cancels by dropping the future), retried as [`gax`] does.
pub(crate) async fn gax_unscoped<T, F, Fut>(operation: &str, mut op: F) -> Result<T, GcpFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, google_cloud_gax::error::Error>>,
{
    retry_under(
        RetryPolicy::CLOUD_DEFAULT,
        tokio_util::sync::CancellationToken::new(),
        operation,
        || {
            let fut = op();
            async move { fut.await.map_err(|e| GcpFailure::from_gax(&e)) }
        },
    )
    .await
}

/// The retry loop under `policy`, stopping when `cancel` fires.
async fn retry_under<T, F, Fut>(
    policy: RetryPolicy,
    cancel: tokio_util::sync::CancellationToken,
    operation: &str,
    op: F,
) -> Result<T, GcpFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, GcpFailure>>,
{
    let retry = Retry::new(policy, OperationContext::new(cancel));
    let classify = |f: &GcpFailure| f.retryability();
    retry
        .run(operation, &classify, op)
        .await
        .map_err(|e| match e {
            RetryError::Cancelled { last, .. } => last.unwrap_or_else(|| GcpFailure {
                code: Some("CANCELLED".to_owned()),
                status: None,
                reason: None,
                io: false,
                message: "stopped as Terraform asked".to_owned(),
            }),
            other => other
                .into_last_error()
                .unwrap_or_else(|| GcpFailure::transport("no answer")),
        })
}

/// Runs one client call through [`retrying`], reducing its error.
pub(crate) async fn gax<T, F, Fut>(
    ctx: &StackContext,
    operation: &str,
    mut op: F,
) -> Result<T, GcpFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, google_cloud_gax::error::Error>>,
{
    retrying(ctx, operation, || {
        let fut = op();
        async move { fut.await.map_err(|e| GcpFailure::from_gax(&e)) }
    })
    .await
}

/// A typed request or model made from its JSON form (the REST reference's shape).
pub(crate) fn model<T: serde::de::DeserializeOwned>(
    json: serde_json::Value,
    what: &str,
) -> Result<T, BackendError> {
    serde_json::from_value(json).map_err(|e| BackendError::Permanent {
        operation: format!("building the request for {what}"),
        message: e.to_string(),
        hint: "This is a bug in paved: report it with the resource's settings".to_owned(),
    })
}

/// A call's answer with "no such object" turned into `None`.
pub(crate) fn unless_gone<T>(result: Result<T, GcpFailure>) -> Result<Option<T>, GcpFailure> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(f) if f.is_not_found() => Ok(None),
        Err(f) => Err(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn throttling_and_unavailable_are_retried_not_found_is_not() {
        let quota = GcpFailure::from_http(
            429,
            &json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Quota exceeded"}}),
        );
        assert_eq!(quota.retryability(), Retryability::Retryable);
        let busy = GcpFailure::from_http(503, &json!({"error": {"code": 503, "message": "x"}}));
        assert_eq!(busy.retryability(), Retryability::Retryable);
        let gone = GcpFailure::from_http(
            404,
            &json!({"error": {"code": 404, "status": "NOT_FOUND", "message": "no"}}),
        );
        assert_eq!(gone.retryability(), Retryability::Permanent);
        let not_ready = GcpFailure::from_http(
            400,
            &json!({"error": {"code": 400, "message": "The resource 'a' is not ready",
                              "errors": [{"reason": "resourceNotReady"}]}}),
        );
        assert_eq!(not_ready.retryability(), Retryability::Retryable);
        assert!(gone.is_not_found());
        assert!(matches!(
            gone.into_backend_error("GKE", "reading the cluster"),
            BackendError::NotFound { .. }
        ));
    }

    #[test]
    fn cloud_sql_operation_in_progress_is_retried_from_the_client_error() {
        for body in [
            r#"{"error": {"code": 409, "status": "ABORTED", "message": "Operation failed because another operation was already in progress.",
                          "errors": [{"domain": "global", "reason": "operationInProgress", "message": "x"}]}}"#,
            r#"{"error": {"code": 400, "message": "Operation failed because another operation was already in progress.",
                          "errors": [{"domain": "global", "reason": "operationInProgress", "message": "x"}]}}"#,
        ] {
            let bytes = prost::bytes::Bytes::from(body.to_owned());
            let status = google_cloud_gax::error::rpc::Status::try_from(&bytes).expect("a status");
            let f = GcpFailure::from_gax(&google_cloud_gax::error::Error::service(status));
            assert_eq!(f.reason.as_deref(), Some("operationInProgress"), "{body}");
            assert_eq!(f.retryability(), Retryability::Retryable, "{body}");
            assert!(matches!(
                f.into_backend_error("Cloud SQL Admin", "changing the instance"),
                BackendError::Retryable { .. }
            ));
        }
        let gone = prost::bytes::Bytes::from_static(
            br#"{"error": {"code": 404, "status": "NOT_FOUND", "message": "The Cloud SQL instance does not exist.",
                          "errors": [{"domain": "global", "reason": "instanceDoesNotExist"}]}}"#,
        );
        let status = google_cloud_gax::error::rpc::Status::try_from(&gone).expect("a status");
        let f = GcpFailure::from_gax(&google_cloud_gax::error::Error::service(status));
        assert_eq!(f.retryability(), Retryability::Permanent);
        assert!(f.is_not_found());
    }

    #[test]
    fn in_use_from_compute_reason_gets_a_hint() {
        let f = GcpFailure::from_http(
            400,
            &json!({"error": {"code": 400, "message": "The network resource 'n' is already being used by 'r'",
                              "errors": [{"reason": "resourceInUseByAnotherResource"}]}}),
        );
        assert!(f.is_in_use());
        let BackendError::Permanent { hint, .. } = f.into_backend_error("Compute", "deleting")
        else {
            panic!("permanent")
        };
        assert!(hint.contains("still uses it"), "{hint}");
    }
}
