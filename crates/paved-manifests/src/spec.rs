//! The renderer's input: plain values the caller has already resolved from the
//! profile table. Nothing here has a default; the renderer reads what it is given.

use std::collections::BTreeMap;

/// Everything the in-cluster baseline of one cluster is rendered from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineSpec {
    /// The cloud the cluster runs on, with the account or project it lives in.
    pub platform: Platform,
    /// The cluster's name; it is the `paved.dev/stack` label on every object and part
    /// of the autoscaler's node group discovery tag.
    pub cluster_name: String,
    /// The cluster's Kubernetes version as `(major, minor)`, e.g. `(1, 31)`. It picks the
    /// autoscaler release and the Pod Security Standards version.
    pub kubernetes_minor: (u32, u32),
    /// The profile the values came from (`production`, ...); used for a label only.
    pub profile_name: String,
    /// The cluster-autoscaler, when the cluster runs one.
    pub autoscaler: Option<AutoscalerSpec>,
    /// The default StorageClass, when the baseline owns one.
    pub storage_class: Option<StorageClassSpec>,
    /// Teams by name: each gets its namespaces, bindings, quota, limits and policies.
    pub teams: BTreeMap<String, TeamSpec>,
    /// Identity groups bound to `cluster-admin` across the whole cluster.
    pub platform_admin_groups: Vec<String>,
    /// The ResourceQuota every team namespace gets.
    pub quota: QuotaSpec,
    /// The LimitRange every team namespace gets.
    pub limit_range: LimitRangeSpec,
    /// The Pod Security Standards level enforced, audited and warned in team namespaces.
    pub pod_security: PodSecurityLevel,
}

/// The cloud a cluster runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Platform {
    /// Amazon EKS.
    Eks {
        /// The 12-digit AWS account ID the cluster lives in.
        account_id: String,
        /// The AWS region, e.g. `eu-west-1`.
        region: String,
    },
    /// Google Kubernetes Engine.
    Gke {
        /// The Google Cloud project ID.
        project: String,
        /// The cluster's location (a region for regional clusters).
        location: String,
    },
}

impl Platform {
    /// Whether this is EKS.
    pub fn is_eks(&self) -> bool {
        matches!(self, Platform::Eks { .. })
    }
}

/// How the cluster-autoscaler runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoscalerSpec {
    /// The cloud identity the autoscaler acts as: an IAM role ARN on EKS (IRSA), a
    /// Google service account e-mail on GKE (Workload Identity).
    pub identity: String,
    /// Number of autoscaler replicas (one leads, the others wait).
    pub replicas: i32,
    /// Whether to protect the autoscaler with a PodDisruptionBudget.
    pub pdb: bool,
    /// Node group name patterns (Go regular expressions) the priority expander
    /// prefers over every other group; empty means no priority expander.
    pub spot_pools: Vec<String>,
    /// Tag keys the autoscaler discovers its Auto Scaling groups by (EKS), e.g.
    /// `k8s.io/cluster-autoscaler/enabled` and `k8s.io/cluster-autoscaler/<cluster>`.
    pub node_group_tag_keys: Vec<String>,
    /// Node labels that select the system pool the autoscaler runs on.
    pub system_pool_selector: BTreeMap<String, String>,
    /// Tolerations that let the autoscaler onto the system pool's tainted nodes.
    pub system_pool_tolerations: Vec<TolerationSpec>,
    /// Whether to balance similar node groups, i.e. keep pools even across zones.
    pub balance_zones: bool,
}

/// A toleration, in plain terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TolerationSpec {
    /// The taint key tolerated.
    pub key: String,
    /// The taint value tolerated; `None` tolerates any value (operator `Exists`).
    pub value: Option<String>,
    /// The taint effect tolerated; `None` tolerates every effect.
    pub effect: Option<TaintEffect>,
}

/// A taint effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaintEffect {
    /// `NoSchedule`.
    NoSchedule,
    /// `PreferNoSchedule`.
    PreferNoSchedule,
    /// `NoExecute`.
    NoExecute,
}

impl TaintEffect {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

/// The cluster's default StorageClass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageClassSpec {
    /// The class name (the caller picks e.g. `gp3` on EKS, `balanced` on GKE).
    pub name: String,
    /// The KMS key volumes are encrypted with: a KMS key ARN on EKS, a Cloud KMS key
    /// resource name on GKE; `None` uses the cloud's default key.
    pub kms_key: Option<String>,
}

/// One team's share of the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamSpec {
    /// Namespaces the team owns (edit rights, quota, limits, policies).
    pub namespaces: Vec<String>,
    /// Identity groups of the team's people: on EKS the Kubernetes group names the
    /// access entries map the team's IAM roles to; on GKE Google groups.
    pub groups: Vec<String>,
    /// Namespaces of other teams the team may read.
    pub view_namespaces: Vec<String>,
}

/// The ResourceQuota of a team namespace, as Kubernetes quantities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaSpec {
    /// Sum of CPU requests, e.g. `"8"`.
    pub requests_cpu: String,
    /// Sum of memory requests, e.g. `"16Gi"`.
    pub requests_memory: String,
    /// Sum of CPU limits.
    pub limits_cpu: String,
    /// Sum of memory limits.
    pub limits_memory: String,
    /// Number of pods.
    pub pods: u32,
}

/// The LimitRange of a team namespace: what a container gets when it says nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRangeSpec {
    /// Default CPU request, e.g. `"100m"`.
    pub default_request_cpu: String,
    /// Default memory request, e.g. `"128Mi"`.
    pub default_request_memory: String,
    /// Default CPU limit.
    pub default_limit_cpu: String,
    /// Default memory limit.
    pub default_limit_memory: String,
}

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodSecurityLevel {
    /// `restricted`: hardened pods only.
    Restricted,
    /// `baseline`: prevents known privilege escalations.
    Baseline,
    /// `privileged`: no restriction.
    Privileged,
}

impl PodSecurityLevel {
    /// The label value Kubernetes expects.
    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurityLevel::Restricted => "restricted",
            PodSecurityLevel::Baseline => "baseline",
            PodSecurityLevel::Privileged => "privileged",
        }
    }
}
