//! kube-rs errors in the port's words ([`KubeError`]), and their retryability for
//! the stack core's retry.

use std::error::Error as _;

use crate::ports::kube::KubeError;
use crate::stack::retry::Retryability;

/// The port's error for a kube-rs error on a call to the API at `url`.
pub(crate) fn from_kube(url: &str, err: kube::Error) -> KubeError {
    match err {
        kube::Error::Api(status) => from_status(status.code, &status.reason, &status.message),
        kube::Error::Discovery(e) => KubeError::UnknownKind(e.to_string()),
        kube::Error::ProxyProtocolUnsupported { .. }
        | kube::Error::ProxyProtocolDisabled { .. }
        | kube::Error::BuildRequest(_)
        | kube::Error::HttpError(_) => KubeError::Target(chain(&err)),
        kube::Error::RustlsTls(_) => KubeError::Target(chain(&err)),
        kube::Error::Auth(_) => KubeError::Token(chain(&err)),
        kube::Error::SerdeError(_) | kube::Error::FromUtf8(_) => KubeError::Api {
            code: 200,
            message: format!("an answer paved cannot read: {}", chain(&err)),
        },
        // Connection refused, DNS, TLS handshake and certificate checks, timeouts:
        // everything before an HTTP answer.
        _ => KubeError::Unreachable {
            url: url.to_owned(),
            message: chain(&err),
        },
    }
}

/// The port's error for an HTTP status the API answered.
pub(crate) fn from_status(code: u16, reason: &str, message: &str) -> KubeError {
    let message = if message.is_empty() {
        reason.to_owned()
    } else {
        message.to_owned()
    };
    match code {
        401 => KubeError::Unauthorized(message),
        403 => KubeError::Forbidden(message),
        409 => KubeError::Conflict(message),
        _ => KubeError::Api { code, message },
    }
}

/// Whether the stack core's retry should try again.
pub(crate) fn classify(err: &KubeError) -> Retryability {
    if err.is_retryable() {
        Retryability::Retryable
    } else {
        Retryability::Permanent
    }
}

/// An error and its causes, de-duplicated: hyper's and rustls's top-level messages
/// ("client error (Connect)") say little without the cause ("Connection refused",
/// "certificate not valid for name ...").
fn chain(err: &kube::Error) -> String {
    // kube-rs's own wrapper ("ServiceError: ...") repeats its cause: start there.
    let (first, mut source) = match err.source() {
        Some(cause) => (cause.to_string(), cause.source()),
        None => (err.to_string(), None),
    };
    let mut parts: Vec<String> = vec![first];
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_what_the_user_can_act_on() {
        assert!(matches!(
            from_status(401, "Unauthorized", ""),
            KubeError::Unauthorized(m) if m == "Unauthorized"
        ));
        assert!(matches!(
            from_status(403, "Forbidden", "no"),
            KubeError::Forbidden(_)
        ));
        assert!(matches!(
            from_status(409, "Conflict", "x"),
            KubeError::Conflict(_)
        ));
        assert_eq!(
            classify(&from_status(429, "TooManyRequests", "")),
            Retryability::Retryable
        );
        assert_eq!(
            classify(&from_status(503, "ServiceUnavailable", "")),
            Retryability::Retryable
        );
        assert_eq!(
            classify(&from_status(422, "Invalid", "")),
            Retryability::Permanent
        );
    }
}
