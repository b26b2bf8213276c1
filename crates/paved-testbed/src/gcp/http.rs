//! What every GCP service stand-in sees and answers: a parsed request and a JSON
//! answer, with Google's error shape (`{"error": {"code", "message", "status"}}`).
//! A leaf: it imports no other module of the stand-in.

use serde_json::{json, Value};

/// One request, as the server parsed it.
#[derive(Clone, Debug)]
pub(crate) struct GcpRequest {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    pub method: String,
    /// The path without the query string, percent-decoded (`/v1/projects/p/...`).
    pub path: String,
    /// Query parameters in order, percent-decoded.
    pub query: Vec<(String, String)>,
    /// The JSON body (`Value::Null` when there is none).
    pub body: Value,
}

impl GcpRequest {
    /// The first value of query parameter `name`.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path's segments after the leading `/`.
    pub(crate) fn segments(&self) -> Vec<&str> {
        self.path.trim_start_matches('/').split('/').collect()
    }
}

/// A stand-in's answer: HTTP status and JSON body.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GcpAnswer {
    /// HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
}

impl GcpAnswer {
    /// A 200 answer with `body`.
    pub(crate) fn ok(body: Value) -> Self {
        Self { status: 200, body }
    }

    /// An error in Google's JSON shape: `status` is the canonical code's name
    /// (`NOT_FOUND`, `ALREADY_EXISTS`, `FAILED_PRECONDITION`, `INVALID_ARGUMENT`,
    /// `RESOURCE_EXHAUSTED`, `UNAVAILABLE`...).
    pub(crate) fn error(http: u16, status: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status: http,
            body: json!({"error": {"code": http, "message": message, "status": status}}),
        }
    }

    /// 404 `NOT_FOUND`.
    pub(crate) fn not_found(what: impl std::fmt::Display) -> Self {
        Self::error(404, "NOT_FOUND", format!("{what} was not found."))
    }

    /// 409 `ALREADY_EXISTS`.
    pub(crate) fn already_exists(what: impl std::fmt::Display) -> Self {
        Self::error(409, "ALREADY_EXISTS", format!("{what} already exists."))
    }

    /// 400 `INVALID_ARGUMENT`.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::error(400, "INVALID_ARGUMENT", message)
    }

    /// 400 `FAILED_PRECONDITION`.
    pub(crate) fn precondition(message: impl Into<String>) -> Self {
        Self::error(400, "FAILED_PRECONDITION", message)
    }
}
