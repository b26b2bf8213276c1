//! The injected faults and the exact error responses they produce.
//!
//! Every error is shaped like the real service's error for its protocol
//! family, so that the AWS SDK parses the error code and its retry
//! classifier sees a throttling error (`Throttling`, `ThrottlingException`,
//! `RequestLimitExceeded`, `SlowDown`) or a transient status (500, 503) and
//! retries. The table (also in the crate README):
//!
//! | family | throttle | 500 | 503 |
//! | --- | --- | --- | --- |
//! | query (IAM, STS, RDS, ELBv2, AutoScaling, CloudWatch, ...) | 400 `Sender`/`Throttling` | 500 `Receiver`/`InternalFailure` | 503 `Receiver`/`ServiceUnavailable` |
//! | EC2 query | 503 `RequestLimitExceeded` | 500 `InternalError` | 503 `Unavailable` |
//! | JSON (`X-Amz-Target`) | 400 `ThrottlingException` | 500 `InternalFailure` | 503 `ServiceUnavailable` |
//! | REST-JSON (EKS, AMP, ...) | 429 `ThrottlingException` | 500 `InternalFailure` | 503 `ServiceUnavailable` |
//! | REST-XML S3 | 503 `SlowDown` | 500 `InternalError` | 503 `ServiceUnavailable` |
//! | REST-XML other (Route 53, CloudFront) | as query | as query | as query |

use serde::{Deserialize, Serialize};

use crate::classify::Protocol;

/// Message of throttling errors in the query and JSON families.
pub const RATE_EXCEEDED: &str = "Rate exceeded";
/// Message of EC2's `RequestLimitExceeded`.
pub const EC2_REQUEST_LIMIT_EXCEEDED: &str = "Request limit exceeded.";
const INTERNAL_FAILURE_MESSAGE: &str =
    "The request processing has failed because of an unknown error, exception or failure.";
const SERVICE_UNAVAILABLE_MESSAGE: &str =
    "The request has failed due to a temporary failure of the server.";
const EC2_INTERNAL_ERROR_MESSAGE: &str = "An internal error has occurred.";
const EC2_UNAVAILABLE_MESSAGE: &str = "The server is overloaded and can't handle the request.";
const S3_SLOW_DOWN_MESSAGE: &str = "Please reduce your request rate.";
const S3_INTERNAL_ERROR_MESSAGE: &str = "We encountered an internal error. Please try again.";
const S3_SERVICE_UNAVAILABLE_MESSAGE: &str = "Service is unable to handle request.";

/// A fault the proxy can inject into one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The protocol family's throttling error.
    Throttle,
    /// An HTTP 500 internal error in the family's shape.
    Error500,
    /// An HTTP 503 service-unavailable error in the family's shape.
    Error503,
    /// The request is read, then the connection is closed without an answer.
    Drop,
}

/// An HTTP error response to send instead of forwarding the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InjectedError {
    /// HTTP status code.
    pub status: u16,
    /// The AWS error code carried by the response.
    pub code: &'static str,
    /// Response headers (content type, request id, error type).
    pub headers: Vec<(&'static str, String)>,
    /// Response body.
    pub body: String,
}

/// Builds the error response for `kind` in the shape of `protocol`.
///
/// `service` distinguishes S3 within REST-XML; `request_content_type` is
/// echoed for the JSON family (`application/x-amz-json-1.0` or `-1.1`).
/// Returns `None` for [`FaultKind::Drop`], which has no response.
pub fn injected_error(
    kind: FaultKind,
    protocol: Protocol,
    service: &str,
    request_id: &str,
    request_content_type: Option<&str>,
) -> Option<InjectedError> {
    let error = match protocol {
        Protocol::Query => query_error(kind, request_id)?,
        Protocol::RestXml if service != "s3" => query_error(kind, request_id)?,
        Protocol::Ec2Query => {
            let (status, code, message) = match kind {
                FaultKind::Throttle => (503, "RequestLimitExceeded", EC2_REQUEST_LIMIT_EXCEEDED),
                FaultKind::Error500 => (500, "InternalError", EC2_INTERNAL_ERROR_MESSAGE),
                FaultKind::Error503 => (503, "Unavailable", EC2_UNAVAILABLE_MESSAGE),
                FaultKind::Drop => return None,
            };
            InjectedError {
                status,
                code,
                headers: vec![
                    ("content-type", "text/xml;charset=UTF-8".to_string()),
                    ("x-amzn-requestid", request_id.to_string()),
                ],
                body: format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
                ),
            }
        }
        Protocol::RestXml => {
            let (status, code, message) = match kind {
                FaultKind::Throttle => (503, "SlowDown", S3_SLOW_DOWN_MESSAGE),
                FaultKind::Error500 => (500, "InternalError", S3_INTERNAL_ERROR_MESSAGE),
                FaultKind::Error503 => (503, "ServiceUnavailable", S3_SERVICE_UNAVAILABLE_MESSAGE),
                FaultKind::Drop => return None,
            };
            InjectedError {
                status,
                code,
                headers: vec![
                    ("content-type", "application/xml".to_string()),
                    ("x-amz-request-id", request_id.to_string()),
                ],
                body: format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
                ),
            }
        }
        Protocol::Json | Protocol::RestJson => {
            let throttle_status = if protocol == Protocol::Json { 400 } else { 429 };
            let (status, code, message) = match kind {
                FaultKind::Throttle => (throttle_status, "ThrottlingException", RATE_EXCEEDED),
                FaultKind::Error500 => (500, "InternalFailure", INTERNAL_FAILURE_MESSAGE),
                FaultKind::Error503 => (503, "ServiceUnavailable", SERVICE_UNAVAILABLE_MESSAGE),
                FaultKind::Drop => return None,
            };
            let content_type = match (protocol, request_content_type) {
                (Protocol::Json, Some(ct)) if ct.starts_with("application/x-amz-json") => {
                    ct.to_string()
                }
                (Protocol::Json, _) => "application/x-amz-json-1.1".to_string(),
                _ => "application/json".to_string(),
            };
            InjectedError {
                status,
                code,
                headers: vec![
                    ("content-type", content_type),
                    ("x-amzn-errortype", code.to_string()),
                    ("x-amzn-requestid", request_id.to_string()),
                ],
                body: serde_json::json!({ "__type": code, "message": message }).to_string(),
            }
        }
    };
    Some(error)
}

/// The awsQuery `<ErrorResponse>` shape (also used by REST-XML services
/// other than S3).
fn query_error(kind: FaultKind, request_id: &str) -> Option<InjectedError> {
    let (status, kind_type, code, message) = match kind {
        FaultKind::Throttle => (400, "Sender", "Throttling", RATE_EXCEEDED),
        FaultKind::Error500 => (500, "Receiver", "InternalFailure", INTERNAL_FAILURE_MESSAGE),
        FaultKind::Error503 => (
            503,
            "Receiver",
            "ServiceUnavailable",
            SERVICE_UNAVAILABLE_MESSAGE,
        ),
        FaultKind::Drop => return None,
    };
    Some(InjectedError {
        status,
        code,
        headers: vec![
            ("content-type", "text/xml".to_string()),
            ("x-amzn-requestid", request_id.to_string()),
        ],
        body: format!(
            "<ErrorResponse><Error><Type>{kind_type}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_throttle_shape() {
        let e = injected_error(FaultKind::Throttle, Protocol::Query, "iam", "rid", None).unwrap();
        assert_eq!(e.status, 400);
        assert_eq!(
            e.body,
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>rid</RequestId></ErrorResponse>"
        );
    }

    #[test]
    fn ec2_throttle_shape() {
        let e =
            injected_error(FaultKind::Throttle, Protocol::Ec2Query, "ec2", "rid", None).unwrap();
        assert_eq!(e.status, 503);
        assert!(e.body.ends_with(
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>rid</RequestID></Response>"
        ));
    }

    #[test]
    fn json_shapes() {
        let e = injected_error(
            FaultKind::Throttle,
            Protocol::Json,
            "kms",
            "rid",
            Some("application/x-amz-json-1.0"),
        )
        .unwrap();
        assert_eq!(e.status, 400);
        assert!(e
            .headers
            .contains(&("x-amzn-errortype", "ThrottlingException".to_string())));
        assert!(e
            .headers
            .contains(&("content-type", "application/x-amz-json-1.0".to_string())));
        let v: serde_json::Value = serde_json::from_str(&e.body).unwrap();
        assert_eq!(v["__type"], "ThrottlingException");
        assert_eq!(v["message"], "Rate exceeded");

        let e =
            injected_error(FaultKind::Throttle, Protocol::RestJson, "eks", "rid", None).unwrap();
        assert_eq!(e.status, 429);
        let e =
            injected_error(FaultKind::Error503, Protocol::RestJson, "eks", "rid", None).unwrap();
        assert_eq!((e.status, e.code), (503, "ServiceUnavailable"));
    }

    #[test]
    fn s3_and_other_rest_xml() {
        let e = injected_error(FaultKind::Throttle, Protocol::RestXml, "s3", "rid", None).unwrap();
        assert_eq!((e.status, e.code), (503, "SlowDown"));
        let e = injected_error(
            FaultKind::Throttle,
            Protocol::RestXml,
            "route53",
            "rid",
            None,
        )
        .unwrap();
        assert_eq!((e.status, e.code), (400, "Throttling"));
    }

    #[test]
    fn drop_has_no_response() {
        assert!(injected_error(FaultKind::Drop, Protocol::Query, "iam", "rid", None).is_none());
    }
}
