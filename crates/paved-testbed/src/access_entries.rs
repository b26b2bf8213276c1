//! An opt-in, in-memory stand-in for the EKS access-entry API.
//!
//! moto has no EKS access entries (its `ListAccessEntries` and friends answer
//! "not implemented"), so code that grants cluster access through them cannot be
//! tested against moto alone. When the stand-in is on
//! ([`ProxyHandle::with_access_entries`](crate::ProxyHandle::with_access_entries)),
//! the proxy answers these requests itself, in the REST-JSON wire format the AWS
//! SDK for Rust (`aws-sdk-eks`) reads, instead of forwarding them to moto:
//!
//! | operation | request | answer |
//! | --- | --- | --- |
//! | CreateAccessEntry | `POST /clusters/{name}/access-entries` with `principalArn`, optional `tags`, `kubernetesGroups`, `username`, `type` (only `STANDARD`), `clientRequestToken` (ignored) | 200 `{"accessEntry": {…}}`; 409 `ResourceInUseException` when the principal has an entry; 400 `InvalidParameterException` without `principalArn` or with another `type` |
//! | ListAccessEntries | `GET /clusters/{name}/access-entries` (optional `associatedPolicyArn` filter; `maxResults` and `nextToken` are ignored) | 200 `{"accessEntries": [principal ARNs]}`, sorted, in one page |
//! | DescribeAccessEntry | `GET /clusters/{name}/access-entries/{principalArn}` (URL-encoded) | 200 `{"accessEntry": {…}}` with its tags; 404 `ResourceNotFoundException` |
//! | DeleteAccessEntry | `DELETE /clusters/{name}/access-entries/{principalArn}` | 200 `{}`; 404 `ResourceNotFoundException` |
//! | AssociateAccessPolicy | `POST /clusters/{name}/access-entries/{principalArn}/access-policies` with `policyArn` and `accessScope` (`cluster`, or `namespace` with `namespaces`) | 200 `{"clusterName", "principalArn", "associatedAccessPolicy": {…}}`, recording (or replacing) the association; 404 `ResourceNotFoundException` when the principal has no entry; 400 `InvalidParameterException` on a bad scope |
//! | UpdateAccessEntry | `POST /clusters/{name}/access-entries/{principalArn}` with optional `kubernetesGroups` (replaces the groups; `[]` clears them), `username`, `clientRequestToken` (ignored) | 200 `{"accessEntry": {…}}`; 404 `ResourceNotFoundException` when the principal has no entry |
//! | DisassociateAccessPolicy | `DELETE /clusters/{name}/access-entries/{principalArn}/access-policies/{policyArn}` (URL-encoded) | 200 `{}`; 404 `ResourceNotFoundException` when the principal has no entry or the policy is not associated with it |
//!
//! An `accessEntry` carries `clusterName`, `principalArn`, `kubernetesGroups`,
//! `accessEntryArn`, `createdAt` and `modifiedAt` (epoch seconds), `tags`,
//! `username` (by default the role's assumed-role ARN with `{{SessionName}}`, or
//! the user's ARN) and `type`. Errors are shaped as REST-JSON errors: the status
//! above, `x-amzn-ErrorType: CODE`, `x-amzn-RequestId`, and a body
//! `{"__type": CODE, "message": …, "clusterName": …}`.
//!
//! State is kept in memory per cluster name, for the life of the proxy (a
//! counter reset keeps it). The cluster's entries are forgotten when the proxy
//! forwards a `DELETE /clusters/{name}` (DeleteCluster) that the upstream answers
//! with a 2xx, as EKS deletes a cluster's access entries with the cluster. Tests
//! read and change the entries directly through
//! [`ProxyHandle::access_entries`](crate::ProxyHandle::access_entries),
//! [`add_access_entry`](crate::ProxyHandle::add_access_entry) (an entry made "by
//! hand", without tags) and
//! [`remove_access_entry`](crate::ProxyHandle::remove_access_entry).
//!
//! Requests it answers are classified, counted in [`Stats`](crate::Stats) and
//! eligible for faults exactly like forwarded ones (a faulted request is not
//! answered by the stand-in and changes nothing).
//!
//! What it does **not** model:
//! * access policies are recorded, never enforced (nothing checks them), and
//!   the policy ARN is not checked against the list of EKS access policies;
//! * no entry `type` other than `STANDARD` (`EC2_LINUX`, `FARGATE_LINUX`, …);
//! * no pagination: every list is one page, `maxResults`/`nextToken` are ignored;
//! * whether the cluster exists (every cluster name has an entry set, initially
//!   empty) or the principal exists in IAM;
//! * the access entries EKS makes by itself (the cluster creator's, node roles');
//! * the other access-entry operations (ListAssociatedAccessPolicies,
//!   ListAccessPolicies): they are forwarded to the upstream like any other
//!   request.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::wire::form_param;
pub(crate) use crate::wire::Answer;
pub use crate::wire::DEFAULT_REGION;

/// The only access-entry type the stand-in models.
pub const STANDARD: &str = "STANDARD";

/// Account used for ARNs when the principal ARN does not name one.
const DEFAULT_ACCOUNT: &str = "123456789012";

/// One access entry, as the stand-in holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// The cluster it belongs to.
    pub cluster_name: String,
    /// The IAM principal (role or user ARN) it grants access to.
    pub principal_arn: String,
    /// The entry's own ARN.
    pub access_entry_arn: String,
    /// Always [`STANDARD`].
    pub entry_type: String,
    /// The Kubernetes user name the principal maps to.
    pub username: String,
    /// Kubernetes groups the principal is put in.
    pub kubernetes_groups: Vec<String>,
    /// Tags given at creation (none for entries added by hand).
    pub tags: BTreeMap<String, String>,
    /// Creation time, epoch seconds.
    pub created_at: f64,
    /// Last change (an associated policy), epoch seconds.
    pub modified_at: f64,
    /// Access policies associated with the entry, in association order.
    pub access_policies: Vec<AssociatedAccessPolicy>,
}

/// An access policy associated with an entry (recorded, never enforced).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssociatedAccessPolicy {
    /// The policy's ARN, e.g.
    /// `arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`.
    pub policy_arn: String,
    /// `cluster` or `namespace`.
    pub scope_type: String,
    /// The namespaces of a `namespace` scope.
    pub namespaces: Vec<String>,
    /// When it was first associated, epoch seconds.
    pub associated_at: f64,
    /// When it was last associated, epoch seconds.
    pub modified_at: f64,
}

impl AccessEntry {
    /// Whether policy `policy_arn` is associated with the entry.
    pub fn has_policy(&self, policy_arn: &str) -> bool {
        self.access_policies
            .iter()
            .any(|p| p.policy_arn == policy_arn)
    }

    /// The entry as the API returns it (`accessEntry`).
    fn to_wire(&self) -> Value {
        json!({
            "clusterName": self.cluster_name,
            "principalArn": self.principal_arn,
            "kubernetesGroups": self.kubernetes_groups,
            "accessEntryArn": self.access_entry_arn,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "tags": self.tags,
            "username": self.username,
            "type": self.entry_type,
        })
    }
}

impl AssociatedAccessPolicy {
    fn to_wire(&self) -> Value {
        let mut scope = json!({ "type": self.scope_type });
        if !self.namespaces.is_empty() {
            scope["namespaces"] = json!(self.namespaces);
        }
        json!({
            "policyArn": self.policy_arn,
            "accessScope": scope,
            "associatedAt": self.associated_at,
            "modifiedAt": self.modified_at,
        })
    }
}

/// An access-entry request the stand-in answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    Create {
        cluster: String,
    },
    List {
        cluster: String,
    },
    Describe {
        cluster: String,
        principal: String,
    },
    Delete {
        cluster: String,
        principal: String,
    },
    AssociatePolicy {
        cluster: String,
        principal: String,
    },
    Update {
        cluster: String,
        principal: String,
    },
    DisassociatePolicy {
        cluster: String,
        principal: String,
        policy: String,
    },
}

/// The path's segments, percent-decoded (`+` stays a `+` in a path).
fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(decode_segment)
        .collect()
}

fn decode_segment(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Which modelled operation a request is, if any.
pub(crate) fn route(method: &Method, path: &str) -> Option<Operation> {
    let segs = segments(path);
    let parts: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (method, parts.as_slice()) {
        (&Method::POST, ["clusters", cluster, "access-entries"]) => Some(Operation::Create {
            cluster: (*cluster).to_owned(),
        }),
        (&Method::GET, ["clusters", cluster, "access-entries"]) => Some(Operation::List {
            cluster: (*cluster).to_owned(),
        }),
        (&Method::GET, ["clusters", cluster, "access-entries", principal]) => {
            Some(Operation::Describe {
                cluster: (*cluster).to_owned(),
                principal: (*principal).to_owned(),
            })
        }
        (&Method::DELETE, ["clusters", cluster, "access-entries", principal]) => {
            Some(Operation::Delete {
                cluster: (*cluster).to_owned(),
                principal: (*principal).to_owned(),
            })
        }
        (&Method::POST, ["clusters", cluster, "access-entries", principal, "access-policies"]) => {
            Some(Operation::AssociatePolicy {
                cluster: (*cluster).to_owned(),
                principal: (*principal).to_owned(),
            })
        }
        (&Method::POST, ["clusters", cluster, "access-entries", principal]) => {
            Some(Operation::Update {
                cluster: (*cluster).to_owned(),
                principal: (*principal).to_owned(),
            })
        }
        (
            &Method::DELETE,
            ["clusters", cluster, "access-entries", principal, "access-policies", policy],
        ) => Some(Operation::DisassociatePolicy {
            cluster: (*cluster).to_owned(),
            principal: (*principal).to_owned(),
            policy: (*policy).to_owned(),
        }),
        _ => None,
    }
}

/// The cluster a `DELETE /clusters/{name}` (DeleteCluster) deletes.
pub(crate) fn deleted_cluster(method: &Method, path: &str) -> Option<String> {
    if method != Method::DELETE {
        return None;
    }
    match segments(path).as_slice() {
        [clusters, name] if clusters == "clusters" => Some(name.clone()),
        _ => None,
    }
}

/// The access-entry API's error answers.
impl Answer {
    fn entry_error(
        status: u16,
        code: &'static str,
        message: impl Into<String>,
        cluster: &str,
    ) -> Self {
        Self {
            status,
            error_type: Some(code),
            body: json!({ "__type": code, "message": message.into(), "clusterName": cluster }),
        }
    }

    fn entry_not_found(cluster: &str) -> Self {
        Self::entry_error(
            404,
            "ResourceNotFoundException",
            "The specified access entry resource is not found.",
            cluster,
        )
    }

    fn entry_invalid(message: impl Into<String>, cluster: &str) -> Self {
        Self::entry_error(400, "InvalidParameterException", message, cluster)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    principal_arn: Option<String>,
    #[serde(default)]
    kubernetes_groups: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    username: Option<String>,
    #[serde(rename = "type")]
    entry_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateInput {
    kubernetes_groups: Option<Vec<String>>,
    username: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssociateInput {
    policy_arn: Option<String>,
    access_scope: Option<ScopeInput>,
}

#[derive(Deserialize)]
struct ScopeInput {
    #[serde(rename = "type")]
    scope_type: Option<String>,
    #[serde(default)]
    namespaces: Vec<String>,
}

/// The stand-in's state: on or off, and the entries by cluster, then principal.
#[derive(Debug, Default)]
pub(crate) struct AccessEntryStore {
    enabled: bool,
    clusters: BTreeMap<String, BTreeMap<String, AccessEntry>>,
    next_id: u64,
}

fn now() -> f64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    // Millisecond precision, as EKS answers.
    (d.as_millis() as f64) / 1000.0
}

/// `(account, "role" | "user", name)` of an IAM principal ARN
/// (`arn:aws:iam::123456789012:role/path/name`).
fn principal_parts(principal: &str) -> (String, String, String) {
    let fields: Vec<&str> = principal.splitn(6, ':').collect();
    let account = fields
        .get(4)
        .filter(|a| !a.is_empty())
        .copied()
        .unwrap_or(DEFAULT_ACCOUNT)
        .to_owned();
    let resource = fields.get(5).copied().unwrap_or_default();
    let (kind, rest) = resource.split_once('/').unwrap_or(("role", resource));
    let name = rest.rsplit('/').next().unwrap_or(rest).to_owned();
    (account, kind.to_owned(), name)
}

/// The user name EKS gives a principal by default.
fn default_username(principal: &str) -> String {
    let (account, kind, name) = principal_parts(principal);
    let partition = principal.split(':').nth(1).unwrap_or("aws");
    if kind == "role" {
        format!("arn:{partition}:sts::{account}:assumed-role/{name}/{{{{SessionName}}}}")
    } else {
        principal.to_owned()
    }
}

impl AccessEntryStore {
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    pub(crate) fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    /// A new entry (not stored).
    fn new_entry(&mut self, cluster: &str, principal: &str, region: &str) -> AccessEntry {
        self.next_id += 1;
        let (account, kind, name) = principal_parts(principal);
        let partition = principal.split(':').nth(1).unwrap_or("aws");
        let at = now();
        AccessEntry {
            cluster_name: cluster.to_owned(),
            principal_arn: principal.to_owned(),
            access_entry_arn: format!(
                "arn:{partition}:eks:{region}:{account}:access-entry/{cluster}/{kind}/{account}/{name}/{:08x}-0000-4000-8000-{:012x}",
                self.next_id, self.next_id
            ),
            entry_type: STANDARD.to_owned(),
            username: default_username(principal),
            kubernetes_groups: Vec::new(),
            tags: BTreeMap::new(),
            created_at: at,
            modified_at: at,
            access_policies: Vec::new(),
        }
    }

    /// The entries of `cluster`, by principal ARN.
    pub(crate) fn entries(&self, cluster: &str) -> Vec<AccessEntry> {
        self.clusters
            .get(cluster)
            .map(|e| e.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every entry of every cluster, by cluster then principal.
    pub(crate) fn all_entries(&self) -> Vec<AccessEntry> {
        self.clusters
            .values()
            .flat_map(|e| e.values().cloned())
            .collect()
    }

    pub(crate) fn entry(&self, cluster: &str, principal: &str) -> Option<AccessEntry> {
        self.clusters.get(cluster)?.get(principal).cloned()
    }

    /// Adds an untagged entry, as someone would by hand; false when the
    /// principal has one already (left unchanged).
    pub(crate) fn add_by_hand(&mut self, cluster: &str, principal: &str) -> bool {
        if self.entry(cluster, principal).is_some() {
            return false;
        }
        let entry = self.new_entry(cluster, principal, DEFAULT_REGION);
        self.clusters
            .entry(cluster.to_owned())
            .or_default()
            .insert(principal.to_owned(), entry);
        true
    }

    /// Removes an entry; false when there was none.
    pub(crate) fn remove(&mut self, cluster: &str, principal: &str) -> bool {
        let Some(entries) = self.clusters.get_mut(cluster) else {
            return false;
        };
        let removed = entries.remove(principal).is_some();
        if entries.is_empty() {
            self.clusters.remove(cluster);
        }
        removed
    }

    /// Forgets every entry of `cluster` (it was deleted).
    pub(crate) fn forget_cluster(&mut self, cluster: &str) {
        self.clusters.remove(cluster);
    }

    /// Answers one request.
    pub(crate) fn answer(
        &mut self,
        op: &Operation,
        query: Option<&str>,
        body: &[u8],
        region: &str,
    ) -> Answer {
        match op {
            Operation::Create { cluster } => self.create(cluster, body, region),
            Operation::List { cluster } => {
                let filter = query.and_then(|q| form_param(q, "associatedPolicyArn"));
                let principals: Vec<&str> = self
                    .clusters
                    .get(cluster)
                    .map(|e| {
                        e.values()
                            .filter(|e| filter.as_deref().is_none_or(|p| e.has_policy(p)))
                            .map(|e| e.principal_arn.as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                Answer::ok(json!({ "accessEntries": principals }))
            }
            Operation::Describe { cluster, principal } => match self.entry(cluster, principal) {
                Some(entry) => Answer::ok(json!({ "accessEntry": entry.to_wire() })),
                None => Answer::entry_not_found(cluster),
            },
            Operation::Delete { cluster, principal } => {
                if self.remove(cluster, principal) {
                    Answer::ok(json!({}))
                } else {
                    Answer::entry_not_found(cluster)
                }
            }
            Operation::AssociatePolicy { cluster, principal } => {
                self.associate(cluster, principal, body)
            }
            Operation::Update { cluster, principal } => self.update(cluster, principal, body),
            Operation::DisassociatePolicy {
                cluster,
                principal,
                policy,
            } => {
                let Some(entry) = self
                    .clusters
                    .get_mut(cluster)
                    .and_then(|e| e.get_mut(principal))
                else {
                    return Answer::entry_not_found(cluster);
                };
                if !entry.has_policy(policy) {
                    return Answer::entry_not_found(cluster);
                }
                entry.access_policies.retain(|p| p.policy_arn != *policy);
                entry.modified_at = now();
                Answer::ok(json!({}))
            }
        }
    }

    fn update(&mut self, cluster: &str, principal: &str, body: &[u8]) -> Answer {
        let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            body
        };
        let input: UpdateInput = match serde_json::from_slice(body) {
            Ok(input) => input,
            Err(e) => return Answer::entry_invalid(format!("invalid request body: {e}"), cluster),
        };
        let Some(entry) = self
            .clusters
            .get_mut(cluster)
            .and_then(|e| e.get_mut(principal))
        else {
            return Answer::entry_not_found(cluster);
        };
        if let Some(groups) = input.kubernetes_groups {
            entry.kubernetes_groups = groups;
        }
        if let Some(username) = input.username.filter(|u| !u.is_empty()) {
            entry.username = username;
        }
        entry.modified_at = now();
        Answer::ok(json!({ "accessEntry": entry.to_wire() }))
    }

    fn create(&mut self, cluster: &str, body: &[u8], region: &str) -> Answer {
        let input: CreateInput = match serde_json::from_slice(body) {
            Ok(input) => input,
            Err(e) => return Answer::entry_invalid(format!("invalid request body: {e}"), cluster),
        };
        let Some(principal) = input.principal_arn.filter(|p| !p.is_empty()) else {
            return Answer::entry_invalid("principalArn is required.", cluster);
        };
        if !principal.starts_with("arn:") || !principal.contains(":iam::") {
            return Answer::entry_invalid(
                format!("The specified principalArn is invalid: {principal}"),
                cluster,
            );
        }
        if let Some(t) = input.entry_type.as_deref().filter(|t| *t != STANDARD) {
            return Answer::entry_invalid(
                format!("access entry type {t} is not modelled by the paved-testbed stand-in; only STANDARD is"),
                cluster,
            );
        }
        if self.entry(cluster, &principal).is_some() {
            return Answer::entry_error(
                409,
                "ResourceInUseException",
                "The specified access entry resource is already in use on this cluster.",
                cluster,
            );
        }
        let mut entry = self.new_entry(cluster, &principal, region);
        entry.kubernetes_groups = input.kubernetes_groups;
        entry.tags = input.tags;
        if let Some(username) = input.username.filter(|u| !u.is_empty()) {
            entry.username = username;
        }
        let wire = entry.to_wire();
        self.clusters
            .entry(cluster.to_owned())
            .or_default()
            .insert(principal, entry);
        Answer::ok(json!({ "accessEntry": wire }))
    }

    fn associate(&mut self, cluster: &str, principal: &str, body: &[u8]) -> Answer {
        let input: AssociateInput = match serde_json::from_slice(body) {
            Ok(input) => input,
            Err(e) => return Answer::entry_invalid(format!("invalid request body: {e}"), cluster),
        };
        let Some(policy_arn) = input.policy_arn.filter(|p| !p.is_empty()) else {
            return Answer::entry_invalid("policyArn is required.", cluster);
        };
        let Some(scope) = input.access_scope else {
            return Answer::entry_invalid("accessScope is required.", cluster);
        };
        let scope_type = scope.scope_type.unwrap_or_default();
        match scope_type.as_str() {
            "cluster" if scope.namespaces.is_empty() => {}
            "cluster" => {
                return Answer::entry_invalid(
                    "namespaces cannot be given with an accessScope of type cluster.",
                    cluster,
                )
            }
            "namespace" if !scope.namespaces.is_empty() => {}
            "namespace" => {
                return Answer::entry_invalid(
                    "namespaces are required with an accessScope of type namespace.",
                    cluster,
                )
            }
            other => {
                return Answer::entry_invalid(
                    format!("accessScope type must be cluster or namespace, not {other:?}."),
                    cluster,
                )
            }
        }
        let Some(entry) = self
            .clusters
            .get_mut(cluster)
            .and_then(|e| e.get_mut(principal))
        else {
            return Answer::entry_not_found(cluster);
        };
        let at = now();
        let associated_at = entry
            .access_policies
            .iter()
            .find(|p| p.policy_arn == policy_arn)
            .map_or(at, |p| p.associated_at);
        entry.access_policies.retain(|p| p.policy_arn != policy_arn);
        let policy = AssociatedAccessPolicy {
            policy_arn,
            scope_type,
            namespaces: scope.namespaces,
            associated_at,
            modified_at: at,
        };
        let wire = policy.to_wire();
        entry.access_policies.push(policy);
        entry.modified_at = at;
        Answer::ok(json!({
            "clusterName": cluster,
            "principalArn": principal,
            "associatedAccessPolicy": wire,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "arn:aws:iam::111122223333:role/team/alice";

    #[test]
    fn routes() {
        let enc = "arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fteam%2Falice";
        assert_eq!(
            route(&Method::POST, "/clusters/shop/access-entries"),
            Some(Operation::Create {
                cluster: "shop".into()
            })
        );
        assert_eq!(
            route(&Method::GET, "/clusters/shop/access-entries/"),
            Some(Operation::List {
                cluster: "shop".into()
            })
        );
        assert_eq!(
            route(
                &Method::GET,
                &format!("/clusters/shop/access-entries/{enc}")
            ),
            Some(Operation::Describe {
                cluster: "shop".into(),
                principal: ALICE.into()
            })
        );
        assert_eq!(
            route(
                &Method::DELETE,
                &format!("/clusters/shop/access-entries/{enc}")
            ),
            Some(Operation::Delete {
                cluster: "shop".into(),
                principal: ALICE.into()
            })
        );
        assert_eq!(
            route(
                &Method::POST,
                &format!("/clusters/shop/access-entries/{enc}/access-policies")
            ),
            Some(Operation::AssociatePolicy {
                cluster: "shop".into(),
                principal: ALICE.into()
            })
        );
        assert_eq!(
            route(
                &Method::POST,
                &format!("/clusters/shop/access-entries/{enc}")
            ),
            Some(Operation::Update {
                cluster: "shop".into(),
                principal: ALICE.into()
            })
        );
        let policy =
            "arn%3Aaws%3Aeks%3A%3Aaws%3Acluster-access-policy%2FAmazonEKSClusterAdminPolicy";
        assert_eq!(
            route(
                &Method::DELETE,
                &format!("/clusters/shop/access-entries/{enc}/access-policies/{policy}")
            ),
            Some(Operation::DisassociatePolicy {
                cluster: "shop".into(),
                principal: ALICE.into(),
                policy: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".into()
            })
        );
        // ListAssociatedAccessPolicies and other EKS calls are not the stand-in's.
        assert_eq!(
            route(
                &Method::GET,
                &format!("/clusters/shop/access-entries/{enc}/access-policies")
            ),
            None
        );
        assert_eq!(route(&Method::GET, "/clusters/shop"), None);
        assert_eq!(
            deleted_cluster(&Method::DELETE, "/clusters/shop"),
            Some("shop".into())
        );
        assert_eq!(deleted_cluster(&Method::GET, "/clusters/shop"), None);
        assert_eq!(
            deleted_cluster(&Method::DELETE, "/clusters/shop/node-groups/a"),
            None
        );
        assert_eq!(decode_segment("a+b%2Bc%zz%4"), "a+b+c%zz%4");
    }

    #[test]
    fn groups_are_created_updated_and_cleared_and_policies_disassociated() {
        let mut s = AccessEntryStore::default();
        let create = Operation::Create {
            cluster: "shop".into(),
        };
        let body = json!({ "principalArn": ALICE, "kubernetesGroups": ["dev", "ops"] }).to_string();
        let a = s.answer(&create, None, body.as_bytes(), "us-east-1");
        assert_eq!(
            a.body["accessEntry"]["kubernetesGroups"],
            json!(["dev", "ops"])
        );
        let update = Operation::Update {
            cluster: "shop".into(),
            principal: ALICE.into(),
        };
        let a = s.answer(
            &update,
            None,
            br#"{"kubernetesGroups": ["viewers"]}"#,
            "us-east-1",
        );
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(
            a.body["accessEntry"]["kubernetesGroups"],
            json!(["viewers"])
        );
        // Without kubernetesGroups the groups stay; an empty list clears them.
        s.answer(&update, None, br#"{"username": "alice"}"#, "us-east-1");
        let e = s.entry("shop", ALICE).unwrap();
        assert_eq!(
            (e.kubernetes_groups, e.username),
            (vec!["viewers".to_owned()], "alice".to_owned())
        );
        s.answer(&update, None, br#"{"kubernetesGroups": []}"#, "us-east-1");
        assert!(s.entry("shop", ALICE).unwrap().kubernetes_groups.is_empty());
        let nobody = Operation::Update {
            cluster: "shop".into(),
            principal: "arn:aws:iam::1:role/nobody".into(),
        };
        assert_eq!(s.answer(&nobody, None, b"{}", "us-east-1").status, 404);

        let policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
        let assoc = Operation::AssociatePolicy {
            cluster: "shop".into(),
            principal: ALICE.into(),
        };
        let body = json!({ "policyArn": policy, "accessScope": { "type": "cluster" } }).to_string();
        assert_eq!(
            s.answer(&assoc, None, body.as_bytes(), "us-east-1").status,
            200
        );
        let disassociate = Operation::DisassociatePolicy {
            cluster: "shop".into(),
            principal: ALICE.into(),
            policy: policy.into(),
        };
        assert_eq!(s.answer(&disassociate, None, b"", "us-east-1").status, 200);
        assert!(!s.entry("shop", ALICE).unwrap().has_policy(policy));
        let again = s.answer(&disassociate, None, b"", "us-east-1");
        assert_eq!(
            (again.status, again.error_type),
            (404, Some("ResourceNotFoundException"))
        );
    }

    #[test]
    fn usernames_and_arns() {
        assert_eq!(
            default_username(ALICE),
            "arn:aws:sts::111122223333:assumed-role/alice/{{SessionName}}"
        );
        let user = "arn:aws:iam::111122223333:user/bob";
        assert_eq!(default_username(user), user);
        let mut store = AccessEntryStore::default();
        let e = store.new_entry("shop", ALICE, "eu-west-1");
        assert!(
            e.access_entry_arn.starts_with(
                "arn:aws:eks:eu-west-1:111122223333:access-entry/shop/role/111122223333/alice/"
            ),
            "{}",
            e.access_entry_arn
        );
    }

    #[test]
    fn create_list_associate_delete() {
        let mut s = AccessEntryStore::default();
        let create = Operation::Create {
            cluster: "shop".into(),
        };
        let body = json!({ "principalArn": ALICE, "tags": { "paved:stack": "shop" } }).to_string();
        let a = s.answer(&create, None, body.as_bytes(), "us-east-1");
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.body["accessEntry"]["tags"]["paved:stack"], "shop");
        assert_eq!(a.body["accessEntry"]["type"], "STANDARD");
        let again = s.answer(&create, None, body.as_bytes(), "us-east-1");
        assert_eq!(
            (again.status, again.error_type),
            (409, Some("ResourceInUseException"))
        );
        let bad = s.answer(&create, None, br#"{"tags":{}}"#, "us-east-1");
        assert_eq!(bad.status, 400);
        let ec2 = s.answer(
            &create,
            None,
            json!({ "principalArn": "arn:aws:iam::1:role/n", "type": "EC2_LINUX" })
                .to_string()
                .as_bytes(),
            "us-east-1",
        );
        assert_eq!(ec2.error_type, Some("InvalidParameterException"));

        let assoc = Operation::AssociatePolicy {
            cluster: "shop".into(),
            principal: ALICE.into(),
        };
        let policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
        let body = json!({ "policyArn": policy, "accessScope": { "type": "cluster" } }).to_string();
        for _ in 0..2 {
            let a = s.answer(&assoc, None, body.as_bytes(), "us-east-1");
            assert_eq!(a.status, 200, "{a:?}");
            assert_eq!(a.body["associatedAccessPolicy"]["policyArn"], policy);
        }
        assert_eq!(s.entry("shop", ALICE).unwrap().access_policies.len(), 1);
        let ns = json!({ "policyArn": policy, "accessScope": { "type": "namespace" } }).to_string();
        assert_eq!(
            s.answer(&assoc, None, ns.as_bytes(), "us-east-1").status,
            400
        );
        assert!(s.add_by_hand("shop", "arn:aws:iam::111122223333:role/carol"));
        assert!(!s.add_by_hand("shop", "arn:aws:iam::111122223333:role/carol"));

        let list = Operation::List {
            cluster: "shop".into(),
        };
        let all = s.answer(&list, None, b"", "us-east-1");
        assert_eq!(
            all.body["accessEntries"],
            json!(["arn:aws:iam::111122223333:role/carol", ALICE]),
            "sorted by principal ARN"
        );
        let filtered = s.answer(
            &list,
            Some("associatedPolicyArn=arn%3Aaws%3Aeks%3A%3Aaws%3Acluster-access-policy%2FAmazonEKSClusterAdminPolicy"),
            b"",
            "us-east-1",
        );
        assert_eq!(filtered.body["accessEntries"], json!([ALICE]));
        let other = s.answer(
            &Operation::List {
                cluster: "other".into(),
            },
            None,
            b"",
            "us-east-1",
        );
        assert_eq!(other.body, json!({ "accessEntries": [] }));

        let delete = Operation::Delete {
            cluster: "shop".into(),
            principal: ALICE.into(),
        };
        assert_eq!(s.answer(&delete, None, b"", "us-east-1").status, 200);
        let gone = s.answer(&delete, None, b"", "us-east-1");
        assert_eq!(
            (gone.status, gone.error_type),
            (404, Some("ResourceNotFoundException"))
        );
        assert_eq!(
            s.answer(&assoc, None, body.as_bytes(), "us-east-1").status,
            404
        );
        s.forget_cluster("shop");
        assert!(s.all_entries().is_empty());
    }
}
