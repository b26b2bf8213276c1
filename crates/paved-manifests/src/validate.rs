//! Checks a [`BaselineSpec`] before anything is rendered. Each [`Problem`] names the
//! field (`teams["alpha"].namespaces[0]`) and says what to change.

use std::collections::BTreeMap;
use std::fmt;

use crate::autoscaler::release::{patch_for, supported_minors};
use crate::names::{dns_label_problem, dns_subdomain_problem, label_value_problem};
use crate::quantity::parse_quantity;
use crate::spec::{AutoscalerSpec, BaselineSpec, Platform, StorageClassSpec};

/// Namespaces Kubernetes itself owns; a team may not claim them.
pub const RESERVED_NAMESPACES: [&str; 4] =
    ["kube-system", "kube-public", "kube-node-lease", "default"];

/// Prefix Kubernetes reserves for its own namespaces.
pub const RESERVED_PREFIX: &str = "kube-";

/// Longest team name: `team-<name>` must fit a 63-character label value.
pub const MAX_TEAM_NAME_LEN: usize = 58;

/// First Kubernetes minor with Pod Security admission (GA in 1.25).
pub const MIN_MINOR: u32 = 25;

/// One thing wrong with a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field, e.g. `teams["alpha"].namespaces[0]`.
    pub path: String,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem in `spec`, in field order; empty when it renders.
pub fn validate(spec: &BaselineSpec) -> Vec<Problem> {
    let mut out = Vec::new();
    check_identity(spec, &mut out);
    if let Some(autoscaler) = &spec.autoscaler {
        check_autoscaler(spec, autoscaler, &mut out);
    }
    if let Some(class) = &spec.storage_class {
        check_storage(spec, class, &mut out);
    }
    check_teams(spec, &mut out);
    for (i, group) in spec.platform_admin_groups.iter().enumerate() {
        if group.trim().is_empty() {
            out.push(Problem::new(
                format!("platform_admin_groups[{i}]"),
                "is empty: name the identity group, or remove the entry",
            ));
        }
    }
    check_quota(spec, &mut out);
    out
}

fn check_identity(spec: &BaselineSpec, out: &mut Vec<Problem>) {
    if spec.cluster_name.is_empty() {
        out.push(Problem::new("cluster_name", "is empty: name the cluster"));
    } else if let Some(why) = label_value_problem(&spec.cluster_name) {
        out.push(Problem::new(
            "cluster_name",
            format!("{why}; it is used as the paved.dev/stack label value"),
        ));
    }
    if let Some(why) = label_value_problem(&spec.profile_name) {
        out.push(Problem::new(
            "profile_name",
            format!("{why}; it is used as the paved.dev/profile label value"),
        ));
    }
    let (major, minor) = spec.kubernetes_minor;
    if major != 1 || minor < MIN_MINOR {
        out.push(Problem::new(
            "kubernetes_minor",
            format!(
                "{major}.{minor} is not supported: Pod Security admission needs \
                 Kubernetes 1.{MIN_MINOR} or newer"
            ),
        ));
    }
    match &spec.platform {
        Platform::Eks { account_id, region } => {
            if account_id.len() != 12 || !account_id.chars().all(|c| c.is_ascii_digit()) {
                out.push(Problem::new(
                    "platform.account_id",
                    format!("{account_id:?} is not an AWS account ID: use its 12 digits"),
                ));
            }
            if region.trim().is_empty() {
                out.push(Problem::new(
                    "platform.region",
                    "is empty: name the AWS region",
                ));
            }
        }
        Platform::Gke { project, location } => {
            if let Some(why) = dns_label_problem(project) {
                out.push(Problem::new(
                    "platform.project",
                    format!("{project:?} is not a Google Cloud project ID: it {why}"),
                ));
            }
            if location.trim().is_empty() {
                out.push(Problem::new(
                    "platform.location",
                    "is empty: name the cluster's region or zone",
                ));
            }
        }
    }
}

fn check_autoscaler(spec: &BaselineSpec, a: &AutoscalerSpec, out: &mut Vec<Problem>) {
    let (major, minor) = spec.kubernetes_minor;
    if patch_for(major, minor).is_none() {
        out.push(Problem::new(
            "kubernetes_minor",
            format!(
                "no cluster-autoscaler release is known for Kubernetes {major}.{minor}; \
                 use one of {}, or leave the autoscaler out",
                supported_minors()
            ),
        ));
    }
    match &spec.platform {
        Platform::Eks { account_id, .. } => {
            let account = a.identity.split(':').nth(4).unwrap_or_default();
            let is_role = a.identity.starts_with("arn:aws")
                && a.identity.split(':').nth(2) == Some("iam")
                && a.identity
                    .split(':')
                    .nth(5)
                    .is_some_and(|r| r.starts_with("role/"));
            if !is_role {
                out.push(Problem::new(
                    "autoscaler.identity",
                    format!(
                        "{:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
                        a.identity
                    ),
                ));
            } else if account != account_id {
                out.push(Problem::new(
                    "autoscaler.identity",
                    format!(
                        "the role is in account {account}, the cluster in {account_id}: \
                         IRSA needs a role in the cluster's account"
                    ),
                ));
            }
            if a.node_group_tag_keys.is_empty() {
                out.push(Problem::new(
                    "autoscaler.node_group_tag_keys",
                    format!(
                        "is empty: the autoscaler finds its Auto Scaling groups by tag; use \
                         k8s.io/cluster-autoscaler/enabled and k8s.io/cluster-autoscaler/{}",
                        spec.cluster_name
                    ),
                ));
            }
            for (i, key) in a.node_group_tag_keys.iter().enumerate() {
                if key.is_empty() || key.contains(',') || key.contains('=') {
                    out.push(Problem::new(
                        format!("autoscaler.node_group_tag_keys[{i}]"),
                        format!(
                            "{key:?} is not a tag key: it must be non-empty without ',' or '='"
                        ),
                    ));
                }
            }
        }
        Platform::Gke { .. } => {
            let (user, domain) = a.identity.split_once('@').unwrap_or(("", ""));
            if user.is_empty() || !domain.ends_with(".iam.gserviceaccount.com") {
                out.push(Problem::new(
                    "autoscaler.identity",
                    format!(
                        "{:?} is not a Google service account e-mail \
                         (<name>@<project>.iam.gserviceaccount.com)",
                        a.identity
                    ),
                ));
            }
        }
    }
    if a.replicas < 1 {
        out.push(Problem::new(
            "autoscaler.replicas",
            format!(
                "is {}: run at least 1 replica, or leave the autoscaler out",
                a.replicas
            ),
        ));
    }
    for (i, pattern) in a.spot_pools.iter().enumerate() {
        if pattern.trim().is_empty() {
            out.push(Problem::new(
                format!("autoscaler.spot_pools[{i}]"),
                "is empty: give a node group name pattern such as \".*spot.*\"",
            ));
        }
    }
    for (key, value) in &a.system_pool_selector {
        let path = format!("autoscaler.system_pool_selector[{key:?}]");
        if key.is_empty() {
            out.push(Problem::new(path, "has an empty label key"));
        } else if let Some(why) = label_value_problem(value) {
            out.push(Problem::new(path, format!("value {value:?} {why}")));
        }
    }
    for (i, t) in a.system_pool_tolerations.iter().enumerate() {
        if t.key.is_empty() {
            out.push(Problem::new(
                format!("autoscaler.system_pool_tolerations[{i}].key"),
                "is empty: name the taint key the system pool carries",
            ));
        }
    }
}

fn check_storage(spec: &BaselineSpec, class: &StorageClassSpec, out: &mut Vec<Problem>) {
    if let Some(why) = dns_subdomain_problem(&class.name) {
        out.push(Problem::new(
            "storage_class.name",
            format!(
                "{:?} is not a valid StorageClass name: it {why}",
                class.name
            ),
        ));
    }
    if let Some(key) = &class.kms_key {
        let ok = match spec.platform {
            Platform::Eks { .. } => !key.trim().is_empty(),
            Platform::Gke { .. } => key.starts_with("projects/") && key.contains("/cryptoKeys/"),
        };
        if !ok {
            let want = match spec.platform {
                Platform::Eks { .. } => "a KMS key ID, ARN or alias",
                Platform::Gke { .. } => {
                    "a Cloud KMS key name (projects/P/locations/L/keyRings/R/cryptoKeys/K)"
                }
            };
            out.push(Problem::new(
                "storage_class.kms_key",
                format!("{key:?} is not {want}"),
            ));
        }
    }
}

fn check_teams(spec: &BaselineSpec, out: &mut Vec<Problem>) {
    // Which team owns each namespace, for the claimed-twice and view checks.
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (team, t) in &spec.teams {
        if let Some(why) = dns_label_problem(team) {
            out.push(Problem::new(
                format!("teams[{team:?}]"),
                format!("team name {team:?} {why}"),
            ));
        } else if team.len() > MAX_TEAM_NAME_LEN {
            out.push(Problem::new(
                format!("teams[{team:?}]"),
                format!(
                    "team name is {} characters long; at most {MAX_TEAM_NAME_LEN} fit the \
                     team-<name> label",
                    team.len()
                ),
            ));
        }
        for (i, ns) in t.namespaces.iter().enumerate() {
            let path = format!("teams[{team:?}].namespaces[{i}]");
            if let Some(why) = dns_label_problem(ns) {
                out.push(Problem::new(
                    path,
                    format!("{ns:?} is not a valid namespace name: it {why}"),
                ));
            } else if RESERVED_NAMESPACES.contains(&ns.as_str()) || ns.starts_with(RESERVED_PREFIX)
            {
                out.push(Problem::new(
                    path,
                    format!(
                        "{ns:?} is reserved for Kubernetes itself: give the team its own \
                         namespace (names starting with {RESERVED_PREFIX:?} are reserved too)"
                    ),
                ));
            } else if let Some(first) = owner.get(ns.as_str()) {
                let message = if first == team {
                    format!("{ns:?} is listed twice for this team: remove one")
                } else {
                    format!(
                        "{ns:?} is already owned by team {first:?}: a namespace belongs to one \
                         team; give the other team view access with view_namespaces instead"
                    )
                };
                out.push(Problem::new(path, message));
            } else {
                owner.insert(ns, team);
            }
        }
        for (i, group) in t.groups.iter().enumerate() {
            if group.trim().is_empty() {
                out.push(Problem::new(
                    format!("teams[{team:?}].groups[{i}]"),
                    "is empty: name the identity group, or remove the entry",
                ));
            }
        }
    }
    for (team, t) in &spec.teams {
        for (i, ns) in t.view_namespaces.iter().enumerate() {
            if !owner.contains_key(ns.as_str()) {
                let owned: Vec<&str> = owner.keys().copied().collect();
                out.push(Problem::new(
                    format!("teams[{team:?}].view_namespaces[{i}]"),
                    format!(
                        "{ns:?} is not a namespace any team owns; name one of [{}] or add it \
                         to a team's namespaces",
                        owned.join(", ")
                    ),
                ));
            }
        }
    }
}

fn check_quota(spec: &BaselineSpec, out: &mut Vec<Problem>) {
    let q = &spec.quota;
    let l = &spec.limit_range;
    let mut parsed = |path: &str, text: &str| match parse_quantity(text) {
        Ok(v) => Some(v),
        Err(why) => {
            out.push(Problem::new(path, why));
            None
        }
    };
    let fields = [
        ("quota.requests_cpu", &q.requests_cpu),
        ("quota.requests_memory", &q.requests_memory),
        ("quota.limits_cpu", &q.limits_cpu),
        ("quota.limits_memory", &q.limits_memory),
        ("limit_range.default_request_cpu", &l.default_request_cpu),
        (
            "limit_range.default_request_memory",
            &l.default_request_memory,
        ),
        ("limit_range.default_limit_cpu", &l.default_limit_cpu),
        ("limit_range.default_limit_memory", &l.default_limit_memory),
    ];
    let values: Vec<Option<f64>> = fields.iter().map(|(p, t)| parsed(p, t)).collect();
    let pairs = [
        // (smaller, larger, why the larger must hold the smaller)
        (
            4,
            0,
            "the quota must admit at least one container with default requests",
        ),
        (
            5,
            1,
            "the quota must admit at least one container with default requests",
        ),
        (
            6,
            2,
            "the quota must admit at least one container with default limits",
        ),
        (
            7,
            3,
            "the quota must admit at least one container with default limits",
        ),
        (
            4,
            6,
            "a default request above the default limit is rejected by Kubernetes",
        ),
        (
            5,
            7,
            "a default request above the default limit is rejected by Kubernetes",
        ),
    ];
    for (small, large, why) in pairs {
        if let (Some(s), Some(b)) = (values[small], values[large]) {
            if s > b {
                let (small_path, small_text) = fields[small];
                let (large_path, large_text) = fields[large];
                out.push(Problem::new(
                    large_path,
                    format!(
                        "{large_text:?} is below {small_path} ({small_text:?}): {why}; raise \
                         {large_path} or lower {small_path}"
                    ),
                ));
            }
        }
    }
    if q.pods == 0 {
        out.push(Problem::new(
            "quota.pods",
            "is 0: no pod could run in team namespaces; allow at least 1",
        ));
    }
}
