//! Test fixtures shared by the engine's tests: an error shaped like a cloud SDK error
//! (a code and an HTTP status) and its classification.

use crate::stack::retry::{classify_cloud_error, Retryability};

/// A test error shaped like an SDK error: a code and an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} (HTTP {status})")]
pub(crate) struct ApiError {
    pub code: &'static str,
    pub status: u16,
}

/// A throttling answer: retryable.
pub(crate) const THROTTLED: ApiError = ApiError {
    code: "ThrottlingException",
    status: 400,
};

/// A permission error: permanent.
pub(crate) const DENIED: ApiError = ApiError {
    code: "AccessDenied",
    status: 403,
};

/// Classifies a test error the way the cloud adapters classify SDK errors.
pub(crate) fn classify(error: &ApiError) -> Retryability {
    classify_cloud_error(Some(error.code), Some(error.status), false)
}
