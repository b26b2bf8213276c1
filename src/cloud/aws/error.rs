//! One reduction of an AWS SDK error, shared by every AWS adapter: the error code and
//! HTTP status (for retry classification), whether it was a transport failure, and a
//! message for the user. Request and response bodies are never included.

use std::fmt;

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

use crate::engine::retry::{classify_cloud_error, Retryability};

/// One failed AWS call, reduced to what classification and messages need.
#[derive(Debug, Clone)]
pub(crate) struct SdkFailure {
    /// The AWS error code (`RequestLimitExceeded`, `InvalidVpcID.NotFound`...).
    pub code: Option<String>,
    /// The HTTP status of the answer, when there was one.
    pub status: Option<u16>,
    /// The request never got an answer (connection failure or timeout).
    pub io: bool,
    /// What went wrong, for the user.
    pub message: String,
}

impl fmt::Display for SdkFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, self.status) {
            (Some(code), _) => write!(f, "{code}: {}", self.message),
            (None, Some(status)) => write!(f, "HTTP {status}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl SdkFailure {
    /// Reduces an SDK error (any AWS service: the error type is shared by all SDKs).
    pub fn from_sdk<E>(err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = err.code().map(str::to_owned);
        let status = err.raw_response().map(|r| r.status().as_u16());
        let io = matches!(
            err,
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
        );
        let message = match &err {
            SdkError::ServiceError(_) => err.message().unwrap_or("no message").to_owned(),
            SdkError::DispatchFailure(d) => format!(
                "could not reach the AWS endpoint ({}); check the region, AWS_ENDPOINT_URL \
                 and the network",
                d.as_connector_error()
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "dispatch failure".into())
            ),
            SdkError::TimeoutError(_) => "the request timed out".to_owned(),
            other => {
                let mut text = other.to_string();
                let mut source = std::error::Error::source(other);
                while let Some(s) = source {
                    text.push_str(": ");
                    text.push_str(&s.to_string());
                    source = s.source();
                }
                text
            }
        };
        Self {
            code,
            status,
            io,
            message,
        }
    }

    /// Whether trying again may help (throttling, 5xx, transport failures).
    pub fn retryability(&self) -> Retryability {
        classify_cloud_error(self.code.as_deref(), self.status, self.io)
    }

    /// Whether the AWS error code is exactly `code`.
    pub fn code_is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}
