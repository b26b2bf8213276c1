//! The cluster's in-cluster objects, rendered by `paved_manifests` from a
//! [`BaselineSpec`] this module builds out of the cluster's spec and, at apply, the
//! identities the cloud made. Planning needs no cluster: the objects' kinds and
//! names follow from the spec alone ([`planned_objects`]), so the plan lists them;
//! their content (which names role ARNs known only after apply) is summed up in
//! `kubernetes_digest`. Also the checks of the in-cluster settings.

use std::collections::BTreeMap;

use paved_manifests::{
    AutoscalerSpec, BaselineSpec, LimitRangeSpec, Platform, PodSecurityLevel, QuotaSpec, Rendered,
    StorageClassSpec, TeamSpec,
};
use paved_value::Path;

use super::config::{ClusterSpec, NodePoolSpec, SYSTEM_POOL};
use super::kubernetes::{team_group, Delivery, PLATFORM_ADMINS_GROUP};
use crate::diag::Diagnostics;
use crate::ports::cluster::{Capacity, POOL_LABEL};
use crate::stack::Knowable;

/// What only the apply knows, for rendering the objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyInputs {
    /// The platform's word, as the cloud reports it (`eks`, `gke`).
    pub platform: String,
    /// The account (AWS) or project (GCP) the cluster runs in.
    pub account_id: String,
    /// The cluster's region.
    pub region: String,
    /// The autoscaler's identity (its role ARN).
    pub autoscaler_identity: String,
    /// The running `major.minor` version.
    pub kubernetes_version: String,
    /// The key that encrypts volumes (the cluster's secrets key), when paved knows it.
    pub volume_key: Option<String>,
}

impl ApplyInputs {
    /// Inputs for planning: only the kinds and names of the objects matter, and
    /// those do not depend on these values.
    fn placeholder(spec: &ClusterSpec) -> ApplyInputs {
        let name = spec.name.known().cloned().unwrap_or_default();
        ApplyInputs {
            platform: spec.kubernetes.platform.unwrap_or("eks").to_owned(),
            account_id: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
            autoscaler_identity: format!("arn:aws:iam::000000000000:role/{name}-autoscaler"),
            kubernetes_version: spec
                .kubernetes_version
                .known()
                .cloned()
                .flatten()
                .unwrap_or_else(|| "1.31".to_owned()),
            volume_key: None,
        }
    }
}

fn minor(version: &str) -> (u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(1), parts.next().unwrap_or(31))
}

/// The spot pools' node group name patterns for the priority expander (EKS names
/// a managed node group's Auto Scaling group `eks-<node group>-<uuid>`; paved names
/// node groups after the pool).
fn spot_patterns(pools: &BTreeMap<String, NodePoolSpec>) -> Vec<String> {
    pools
        .iter()
        .filter(|(_, p)| p.capacity == Knowable::Known(Capacity::Spot))
        .map(|(name, _)| format!("^eks-{name}-.*"))
        .collect()
}

/// The baseline's inputs, or `None` when a setting that decides them is not known
/// yet. `inputs` is what the apply learned (placeholders at plan).
pub fn baseline_spec(spec: &ClusterSpec, inputs: &ApplyInputs) -> Option<BaselineSpec> {
    let k = &spec.kubernetes;
    let name = spec.name.known()?.clone();
    let profile = *spec.profile.known()?;
    let pools = spec.node_pools.known()?;
    let defaults = profile.defaults();
    let teams = k.teams.known()?;
    let q = defaults.team_quota;
    // GKE sizes node pools itself (autoscaling by the API): no cluster-autoscaler.
    let autoscaler = (*k.autoscaler.known()? && inputs.platform != "gke").then(|| AutoscalerSpec {
        identity: inputs.autoscaler_identity.clone(),
        replicas: i32::try_from(defaults.autoscaler_replicas).unwrap_or(1),
        pdb: defaults.autoscaler_replicas > 1,
        spot_pools: spot_patterns(pools),
        node_group_tag_keys: vec![
            "k8s.io/cluster-autoscaler/enabled".to_owned(),
            format!("k8s.io/cluster-autoscaler/{name}"),
        ],
        system_pool_selector: BTreeMap::from([(POOL_LABEL.to_owned(), SYSTEM_POOL.to_owned())]),
        system_pool_tolerations: Vec::new(),
        balance_zones: true,
    });
    let storage_class = (*k.storage_class.known()?).then(|| StorageClassSpec {
        // Named after the disk it makes, as users know it on each cloud.
        name: if inputs.platform == "gke" {
            "balanced"
        } else {
            "gp3"
        }
        .to_owned(),
        kms_key: inputs.volume_key.clone(),
    });
    let platform_admins = k.platform_admins.known()?;
    Some(BaselineSpec {
        // The platform changes what the objects hold (the disk provisioner, what
        // identities look like), never which objects there are: the plan's list
        // stays true whatever the cloud.
        platform: if inputs.platform == "gke" {
            Platform::Gke {
                project: inputs.account_id.clone(),
                location: inputs.region.clone(),
            }
        } else {
            Platform::Eks {
                account_id: inputs.account_id.clone(),
                region: inputs.region.clone(),
            }
        },
        cluster_name: name,
        kubernetes_minor: minor(&inputs.kubernetes_version),
        profile_name: profile.name().to_owned(),
        autoscaler,
        storage_class,
        teams: teams
            .iter()
            .map(|(team, t)| {
                (
                    team.clone(),
                    TeamSpec {
                        namespaces: t.namespaces.clone(),
                        groups: vec![team_group(team)],
                        view_namespaces: t.view_namespaces.clone(),
                    },
                )
            })
            .collect(),
        platform_admin_groups: if platform_admins.is_empty() {
            Vec::new()
        } else {
            vec![PLATFORM_ADMINS_GROUP.to_owned()]
        },
        quota: QuotaSpec {
            requests_cpu: q.cpu.to_string(),
            requests_memory: format!("{}Gi", q.memory_gib),
            limits_cpu: (q.cpu * 2).to_string(),
            limits_memory: format!("{}Gi", q.memory_gib * 2),
            pods: q.pods,
        },
        limit_range: LimitRangeSpec {
            default_request_cpu: format!("{}m", q.default_cpu_m),
            default_request_memory: format!("{}Mi", q.default_memory_mib),
            default_limit_cpu: format!("{}m", q.default_cpu_m * 2),
            default_limit_memory: format!("{}Mi", q.default_memory_mib * 2),
        },
        pod_security: match defaults.pod_security {
            "restricted" => PodSecurityLevel::Restricted,
            "privileged" => PodSecurityLevel::Privileged,
            _ => PodSecurityLevel::Baseline,
        },
    })
}

pub use crate::delivery::{label, object_label};

/// The objects the spec stands for, in apply order, as `kubernetes_objects` lists
/// them; unknown while a deciding setting is.
pub fn planned_objects(spec: &ClusterSpec) -> Knowable<Vec<String>> {
    let Some(baseline) = baseline_spec(spec, &ApplyInputs::placeholder(spec)) else {
        return Knowable::Unknown;
    };
    match paved_manifests::render(&baseline) {
        Ok(rendered) => Knowable::Known(rendered.objects.iter().map(object_label).collect()),
        Err(_) => Knowable::Unknown,
    }
}

/// Renders the objects for an apply.
pub fn render(spec: &ClusterSpec, inputs: &ApplyInputs) -> Result<Rendered, String> {
    let baseline = baseline_spec(spec, inputs)
        .ok_or_else(|| "a setting of the in-cluster baseline is not known".to_owned())?;
    paved_manifests::render(&baseline).map_err(|e| e.to_string())
}

/// A `paved_manifests` problem path (`teams["a"].namespaces[0]`) as an attribute
/// path of this resource.
fn problem_path(text: &str) -> Path {
    let mut path = Path::root();
    for segment in text.split('.') {
        let (name, rest) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        // The renderer's team `groups` are the resource's `roles`.
        let name = if name == "groups" { "roles" } else { name };
        if !name.is_empty() {
            path = path.attr(name);
        }
        for index in rest.split('[').filter(|s| !s.is_empty()) {
            let index = index.trim_end_matches(']');
            if let Some(key) = index.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
                path = path.key(key);
            } else if let Ok(i) = index.parse::<i64>() {
                path = path.index(i);
            }
        }
    }
    path
}

fn is_role_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("role/")
}

/// A warning for a new cluster whose API only the network reaches while paved is
/// to apply the objects directly: where Terraform runs may not reach it.
pub fn check_reachable(spec: &ClusterSpec, d: &mut Diagnostics) {
    let k = &spec.kubernetes;
    if k.delivery == Knowable::Known(Delivery::Direct) {
        let private_only = spec.endpoint_public_cidrs == Knowable::Known(Vec::new());
        let routed = k.api.as_ref().is_some_and(|a| {
            !matches!(a.url, Knowable::Known(None)) || !matches!(a.proxy_url, Knowable::Known(None))
        });
        if private_only && !routed {
            d.attribute_warning(
                Path::root().attr("delivery"),
                "paved reaches the API through the private endpoint",
                "endpoint_public_cidrs is empty, so the API is reachable only from inside the network. Run \
                 Terraform there (a runner in the VPC), set kubernetes_api.url to a tunnel or port-forward to \
                 the API, set kubernetes_api.proxy_url, or use delivery = \"gitops\".",
            );
        }
    }
}

/// Checks of the in-cluster settings, before any cloud or cluster call.
pub fn check(spec: &ClusterSpec, d: &mut Diagnostics) {
    let k = &spec.kubernetes;
    if k.delivery == Knowable::Known(Delivery::Gitops) && k.gitops_path == Knowable::Known(None) {
        d.attribute_error(
            Path::root().attr("gitops_path"),
            "GitOps delivery without a directory",
            "delivery = \"gitops\" writes the cluster's objects as files: set gitops_path to the directory \
             Flux or Argo CD reads (a path in your GitOps repository checkout).",
        );
    }
    if let Knowable::Known(teams) = &k.teams {
        for (team, t) in teams {
            for (i, role) in t.roles.iter().enumerate() {
                if !is_role_arn(role) {
                    d.attribute_error(
                        Path::root().attr("teams").key(team).attr("roles").index(i64::try_from(i).unwrap_or(0)),
                        "Not an IAM role ARN",
                        format!(
                            "\"{role}\" is not an IAM role ARN. List the roles the team's people assume, such as \
                             \"arn:aws:iam::123456789012:role/team-{team}\"."
                        ),
                    );
                }
            }
        }
    }
    if let Knowable::Known(admins) = &k.platform_admins {
        for (i, role) in admins.iter().enumerate() {
            if !is_role_arn(role) {
                d.attribute_error(
                    Path::root().attr("platform_admins").index(i64::try_from(i).unwrap_or(0)),
                    "Not an IAM role ARN",
                    format!("\"{role}\" is not an IAM role ARN, such as \"arn:aws:iam::123456789012:role/platform\"."),
                );
            }
        }
    }
    if let Some(baseline) = baseline_spec(spec, &ApplyInputs::placeholder(spec)) {
        for problem in paved_manifests::validate(&baseline) {
            if problem.path.starts_with("teams") {
                d.attribute_error(
                    problem_path(&problem.path),
                    "Invalid team setting",
                    format!("{}: {}", problem.path, problem.message),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_paths_become_attribute_paths() {
        assert_eq!(
            problem_path("teams[\"alpha\"].namespaces[0]").to_string(),
            Path::root()
                .attr("teams")
                .key("alpha")
                .attr("namespaces")
                .index(0)
                .to_string()
        );
    }
}
