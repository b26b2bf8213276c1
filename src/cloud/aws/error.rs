//! One reduction of an AWS SDK error, shared by every AWS adapter: the error code and
//! HTTP status (for retry classification), whether it was a transport failure, and a
//! message for the user. Request and response bodies are never included.
//!
//! The adapters' error mapping lives here once too: [`fail`] and [`failed`] turn an
//! SDK error or a reduced failure into the [`BackendError`] the user sees,
//! [`unless_gone`] turns "no such object" into `None` for reads that may find nothing
//! and deletes of what may be gone already, and [`incomplete`] reports an answer
//! missing a field.

use std::fmt;

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

use crate::ports::CloudError;
use crate::stack::retry::{classify_cloud_error, Retryability};
use crate::stack::BackendError;

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

    /// The endpoint does not know the call: emulators answer an HTML 404 that the SDK
    /// cannot parse (no error code).
    pub fn is_unsupported(&self) -> bool {
        self.code.is_none() && self.status == Some(404)
    }

    /// The object named in the call does not exist (any more), in any service's words.
    pub fn is_not_found(&self) -> bool {
        self.code.as_deref().is_some_and(|c| {
            c.ends_with(".NotFound")
                || c.ends_with("NotFound")
                || c.ends_with("NotFoundFault")
                || c.ends_with("NotFoundException")
                || c == "NoSuchEntity"
                || c == "NoSuchEntityException"
                || c == "Gateway.NotAttached"
        })
    }

    /// The failure as the user sees it: [`BackendError::Retryable`] for throttling,
    /// 5xx and transport failures (the SDK has already retried them), otherwise
    /// [`BackendError::Permanent`] with a hint; `service` names the permissions
    /// (`EC2`, `RDS`...) and `operation` what was being done.
    pub fn into_backend_error(self, service: &str, operation: impl Into<String>) -> BackendError {
        let operation = operation.into();
        if self.retryability() == Retryability::Retryable {
            return BackendError::Retryable {
                operation,
                message: self.to_string(),
            };
        }
        let code = self.code.as_deref().unwrap_or_default();
        let hint = if code.contains("AccessDenied")
            || code == "UnauthorizedOperation"
            || code == "AuthFailure"
        {
            format!(
                "Give the credentials paved runs with the {service} permissions this needs, then \
                 run apply again"
            )
        } else if code.contains("LimitExceeded") || code.contains("QuotaExceeded") {
            "An AWS quota of the account or region is reached: free some or ask AWS for a \
             higher quota (Service Quotas console), then run apply again"
                .to_owned()
        } else if code == "InvalidDBInstanceState" || code == "InvalidDBInstanceStateFault" {
            "The instance is busy (modifying, backing up, rebooting): wait until it is \
             available and run the operation again"
                .to_owned()
        } else if code == "DependencyViolation" || code.contains("InUse") {
            "Something outside paved still uses it (load balancers, instances or network \
             interfaces): remove that, then run the operation again"
                .to_owned()
        } else if self.is_unsupported() {
            format!(
                "The {service} endpoint does not implement this call (an emulator such as \
                 moto?); against AWS it works"
            )
        } else if self.is_not_found() {
            "It was deleted outside paved; run apply again to recreate what is missing".to_owned()
        } else if self.status.is_none() && self.code.is_none() {
            format!(
                "Check that the {service} endpoint and region are right; run apply again once \
                 it answers"
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

/// Maps an SDK error of any AWS service to a [`BackendError`] for `operation`;
/// `service` names the permissions in the hint (`S3`, `IAM`...).
pub(crate) fn fail<E>(
    service: &'static str,
    operation: impl Into<String>,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let operation = operation.into();
    move |err| SdkFailure::from_sdk(err).into_backend_error(service, operation)
}

/// A reduced failure as a [`BackendError`] (see [`fail`]).
pub(crate) fn failed(
    service: &'static str,
    operation: impl Into<String>,
) -> impl FnOnce(SdkFailure) -> BackendError {
    let operation = operation.into();
    move |f| f.into_backend_error(service, operation)
}

/// A call's answer with "no such object" (as `gone` judges) turned into `None`: for
/// reads that may find nothing and deletes of what may be gone already.
pub(crate) fn unless_gone<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    gone: fn(&SdkFailure) -> bool,
) -> Result<Option<T>, SdkFailure>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let f = SdkFailure::from_sdk(e);
            if gone(&f) {
                Ok(None)
            } else {
                Err(f)
            }
        }
    }
}

/// An answer missing a field paved needs.
pub(crate) fn incomplete(operation: &str, what: &str) -> BackendError {
    BackendError::Permanent {
        operation: operation.to_owned(),
        message: format!("AWS answered without {what}"),
        hint: "Run apply again; paved finds what was created by its name and tags".to_owned(),
    }
}

/// A client that could not be built (no region, bad profile...), as a backend error.
pub(crate) fn client_setup_error(e: CloudError) -> BackendError {
    BackendError::Permanent {
        operation: "setting up the AWS clients".to_owned(),
        message: e.to_string(),
        hint: "Check the region, profile and endpoints in the provider's aws block or the \
               environment, then run apply again"
            .to_owned(),
    }
}
