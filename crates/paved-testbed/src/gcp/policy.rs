//! IAM policies as the services that hold them (IAM itself for projects and
//! service accounts, Cloud KMS for keys) read and write them: the etag of each
//! change, the empty policy, the binding check and `setIamPolicy` with its
//! read-modify-write etag rule.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{json, Value};

use super::http::GcpAnswer;

/// An opaque etag for the `n`-th change, as Google writes them (base64).
pub(crate) fn etag(n: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode([&b"Bw"[..], &n.to_be_bytes()[..]].concat())
}

/// The empty policy a resource starts with.
pub(crate) fn empty_policy(tag: &str) -> Value {
    json!({"version": 1, "etag": tag})
}

/// Whether `policy` binds `member` to `role` (conditions are not evaluated).
pub(crate) fn policy_grants(policy: &Value, member: &str, role: &str) -> bool {
    policy["bindings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["role"].as_str() == Some(role))
        .any(|b| {
            b["members"]
                .as_array()
                .is_some_and(|ms| ms.iter().any(|m| m.as_str() == Some(member)))
        })
}

/// Whether `member` is a principal the IAM APIs accept.
fn valid_member(member: &str) -> bool {
    const PREFIXES: [&str; 7] = [
        "user:",
        "serviceAccount:",
        "group:",
        "domain:",
        "principal:",
        "principalSet:",
        "deleted:",
    ];
    matches!(member, "allUsers" | "allAuthenticatedUsers")
        || PREFIXES
            .iter()
            .any(|p| member.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// A `setIamPolicy` call against `current`: checks the request's etag (a stale
/// one is refused with 409 `ABORTED`, as the real APIs do), validates the
/// bindings, merges bindings of the same role and returns the new policy with
/// `new_etag`.
pub(crate) fn set_policy(
    current: &Value,
    body: &Value,
    new_etag: &str,
) -> Result<Value, GcpAnswer> {
    let Some(policy) = body.get("policy").filter(|p| p.is_object()) else {
        return Err(GcpAnswer::invalid(
            "Request contains an invalid argument: policy is required.",
        ));
    };
    if let Some(sent) = policy
        .get("etag")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
    {
        let have = current["etag"].as_str().unwrap_or_default();
        if sent != have {
            return Err(GcpAnswer::error(
                409,
                "ABORTED",
                format!(
                    "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff. The request's ETag '\"{sent}\"' did not match the current policy's ETag '\"{have}\"'."
                ),
            ));
        }
    }
    let mut merged: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for binding in policy["bindings"].as_array().into_iter().flatten() {
        let Some(role) = binding["role"].as_str().filter(|r| r.contains("roles/")) else {
            return Err(GcpAnswer::invalid(format!(
                "Request contains an invalid argument: invalid role in binding {binding}."
            )));
        };
        let condition = binding
            .get("condition")
            .map(Value::to_string)
            .unwrap_or_default();
        let members = merged.entry((role.to_owned(), condition)).or_default();
        for member in binding["members"].as_array().into_iter().flatten() {
            let Some(member) = member.as_str().filter(|m| valid_member(m)) else {
                return Err(GcpAnswer::invalid(format!(
                    "Request contains an invalid argument: Invalid principal {member}."
                )));
            };
            if !members.iter().any(|m| m == member) {
                members.push(member.to_owned());
            }
        }
    }
    let bindings: Vec<Value> = merged
        .into_iter()
        .filter(|(_, members)| !members.is_empty())
        .map(|((role, condition), members)| {
            let mut b = json!({"role": role, "members": members});
            if let Ok(c) = serde_json::from_str::<Value>(&condition) {
                b["condition"] = c;
            }
            b
        })
        .collect();
    let mut out =
        json!({"version": policy.get("version").cloned().unwrap_or(json!(1)), "etag": new_etag});
    if !bindings.is_empty() {
        out["bindings"] = Value::Array(bindings);
    }
    Ok(out)
}
