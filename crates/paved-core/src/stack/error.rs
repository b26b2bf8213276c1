//! Why an adapter call failed, phrased for the user: one error type for every
//! adapter call ([`BackendError`]), with the one conversion of a failed wait into it
//! ([`BackendError::from_wait`]), and the error of reaching a cloud at all
//! ([`CloudError`]: no region, no credentials, not supported there).

use super::waiter::WaitError;

/// Why a backend call failed, phrased for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// A temporary failure (throttling, 5xx, a component still settling) that
    /// outlasted the retries; running apply again is likely to work.
    #[error("{operation} failed for now: {message}. Run apply again; it resumes where it stopped")]
    Retryable {
        /// What was being done.
        operation: String,
        /// What the cloud said.
        message: String,
    },
    /// A failure that repeating will not fix (permissions, quotas, invalid input).
    #[error("{operation} failed: {message}. {hint}")]
    Permanent {
        /// What was being done.
        operation: String,
        /// What the cloud said.
        message: String,
        /// What the user can do.
        hint: String,
    },
    /// Something the request names does not exist.
    #[error("{what} was not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// A component with the name paved needs exists but belongs to something else.
    #[error("{what} already exists but is not part of stack \"{stack}\": {hint}")]
    Conflict {
        /// The component.
        what: String,
        /// The stack asking.
        stack: String,
        /// What the user can do.
        hint: String,
    },
    /// Terraform asked the provider to stop.
    #[error("stopped while {during}, as Terraform asked; what was created is kept and the next apply resumes")]
    Cancelled {
        /// What was being done.
        during: String,
    },
    /// The operation's timeout ran out.
    #[error(
        "{during} did not finish within {limit}; what was created is kept and the next apply resumes. \
         If the cloud is just slow, raise the timeout in the timeouts block"
    )]
    TimedOut {
        /// What was being done.
        during: String,
        /// The timeout, as written (`60m`).
        limit: String,
    },
}

impl BackendError {
    /// What a failed wait means to the user, doing `during`: stopped, out of time,
    /// a failed operation (with `hint`), or a status check that kept failing
    /// (`poll_error` phrases its last error).
    pub fn from_wait<E>(
        err: WaitError<E>,
        during: &str,
        hint: &str,
        poll_error: impl FnOnce(E) -> BackendError,
    ) -> BackendError {
        match err {
            WaitError::TimedOut { .. } => BackendError::TimedOut {
                during: during.to_owned(),
                limit: "the operation's timeout".to_owned(),
            },
            WaitError::Failed { what, reason } => BackendError::Permanent {
                operation: during.to_owned(),
                message: format!("{what} failed: {reason}"),
                hint: hint.to_owned(),
            },
            WaitError::PollFailed { source, .. } => match source.into_last_error() {
                Some(last) => poll_error(last),
                None => BackendError::Cancelled {
                    during: during.to_owned(),
                },
            },
            WaitError::Cancelled { .. } => BackendError::Cancelled {
                during: during.to_owned(),
            },
        }
    }

    /// What went wrong, without the advice to run apply again: for a create that
    /// leaves partial state, where Terraform replaces rather than resumes (see
    /// [`crate::stack::resource::report_failed_create`]).
    pub fn cause(&self) -> String {
        match self {
            BackendError::Retryable { operation, message } => {
                format!("{operation} failed for now: {message}")
            }
            BackendError::Cancelled { during } => {
                format!("stopped while {during}, as Terraform asked; what was created is kept")
            }
            BackendError::TimedOut { during, limit } => format!(
                "{during} did not finish within {limit}; what was created is kept. If the cloud \
                 is just slow, raise the timeout in the timeouts block"
            ),
            other => other.to_string(),
        }
    }

    /// Whether running the same call again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            BackendError::Retryable { .. }
                | BackendError::Cancelled { .. }
                | BackendError::TimedOut { .. }
        )
    }
}

/// Errors from cloud adapters, phrased for the user.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// No region was configured anywhere.
    #[error("no region is configured: {hint}")]
    NoRegion {
        /// Where to set one.
        hint: String,
    },
    /// The provider configuration holds a value not known until apply.
    #[error("the provider setting {0} is not known yet (it depends on a resource not yet created); set it to a known value")]
    UnknownSetting(&'static str),
    /// The cloud API answered with an error.
    #[error("{service} {operation} failed: {message}")]
    Api {
        /// The cloud service.
        service: &'static str,
        /// The API operation.
        operation: &'static str,
        /// What the API said.
        message: String,
    },
    /// The operation is not available for this cloud.
    #[error("{what} is not supported on {cloud}: {hint}")]
    NotSupported {
        /// What was asked.
        what: String,
        /// The cloud.
        cloud: &'static str,
        /// What to do instead.
        hint: String,
    },
    /// The operation came before the provider was configured (a bug in the caller).
    #[error("the provider is not configured")]
    NotConfigured,
    /// The credentials or assumed role could not be set up.
    #[error("could not set up AWS credentials: {0}")]
    Credentials(String),
    /// No usable credentials for a cloud.
    #[error("could not set up {cloud} credentials: {message}; {hint}")]
    NoCredentials {
        /// The cloud.
        cloud: &'static str,
        /// What went wrong.
        message: String,
        /// Where to set credentials.
        hint: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_to_do() {
        let conflict = BackendError::Conflict {
            what: "IAM role shop-cluster".into(),
            stack: "shop".into(),
            hint: "rename the cluster or delete the role".into(),
        };
        assert!(!conflict.is_retryable());
        assert_eq!(
            conflict.to_string(),
            "IAM role shop-cluster already exists but is not part of stack \"shop\": rename the cluster or delete the role"
        );
        let timed_out = BackendError::TimedOut {
            during: "creating the control plane".into(),
            limit: "60m".into(),
        };
        assert!(timed_out.is_retryable());
        assert!(timed_out.to_string().contains("raise the timeout"));
    }
}
