//! The in-cluster part of a `paved_ha_cluster`: how paved reaches the cluster
//! (`delivery`, `kubernetes_api`), what it installs (`baseline`: managed add-ons,
//! cluster-autoscaler, a default StorageClass) and the `teams` with their
//! namespaces, access and guard rails ([`KubernetesSpec`]).
//!
//! This module reads the settings; [`super::baseline`] turns them into objects.

use std::collections::BTreeMap;

use paved_value::Path;

use crate::ports::cluster::GroupAccess;
use crate::stack::reader::{classify, sub, Reader, Slot, Written};
use crate::stack::Knowable;

/// The Kubernetes group a team's identities are mapped to (`paved-team-<name>`).
pub fn team_group(team: &str) -> String {
    format!("paved-team-{team}")
}

/// The Kubernetes group `platform_admins` are mapped to; bound to `cluster-admin`.
pub const PLATFORM_ADMINS_GROUP: &str = "paved-platform-admins";

/// The managed add-ons the baseline installs, in the order they are ensured.
pub const ADDONS: &[&str] = &[
    "vpc-cni",
    "kube-proxy",
    "coredns",
    "aws-ebs-csi-driver",
    "metrics-server",
];

/// The add-on that runs as the storage driver's identity.
pub const STORAGE_DRIVER_ADDON: &str = "aws-ebs-csi-driver";

pub use crate::delivery::Delivery;

/// A team: its namespaces and the identities that work in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamInput {
    /// Namespaces the team owns (edit rights).
    pub namespaces: Vec<String>,
    /// Identities (IAM role ARNs on AWS) mapped to the team's group.
    pub roles: Vec<String>,
    /// Namespaces of other teams the team may view.
    pub view_namespaces: Vec<String>,
    /// Which of `roles` and `view_namespaces` were written.
    pub written: Written,
}

/// Reaching the API another way than the cluster's own endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRoute {
    /// A URL that reaches the API server (a tunnel or port-forward).
    pub url: Knowable<Option<String>>,
    /// An HTTPS proxy to reach the API through.
    pub proxy_url: Knowable<Option<String>>,
    /// The CA that signs the certificate the API presents at `url` (PEM); the
    /// cluster's own CA when not set.
    pub ca_certificate: Knowable<Option<String>>,
}

/// The in-cluster settings of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesSpec {
    /// The platform the configured cloud builds (`eks`, `gke`), when the plan knows
    /// it from the cloud's backend: it decides whether a cluster-autoscaler runs in
    /// the cluster (GKE sizes pools itself). Not a setting; `None` reads as EKS.
    pub platform: Option<&'static str>,
    /// Direct or GitOps.
    pub delivery: Knowable<Delivery>,
    /// Where GitOps files go.
    pub gitops_path: Knowable<Option<String>>,
    /// `kubernetes_api`; `None` when not set.
    pub api: Option<ApiRoute>,
    /// Install the managed add-ons.
    pub addons: Knowable<bool>,
    /// Install cluster-autoscaler.
    pub autoscaler: Knowable<bool>,
    /// Install the default StorageClass.
    pub storage_class: Knowable<bool>,
    /// Teams by name.
    pub teams: Knowable<BTreeMap<String, TeamInput>>,
    /// Identities given cluster-admin through [`PLATFORM_ADMINS_GROUP`].
    pub platform_admins: Knowable<Vec<String>>,
    /// Which of `teams` and `platform_admins` were written.
    pub written: Written,
}

fn strings(s: Slot<'_>) -> Option<Knowable<Vec<String>>> {
    let v = match s {
        Slot::Null => return None,
        Slot::Unknown => return Some(Knowable::Unknown),
        Slot::Known(v) => v,
    };
    let Some(items) = v.as_list() else {
        return Some(Knowable::Unknown);
    };
    let out: Option<Vec<String>> = items
        .iter()
        .map(|i| i.as_str().map(str::to_string))
        .collect();
    Some(out.map_or(Knowable::Unknown, Knowable::Known))
}

fn optional_text(r: &mut Reader, s: Slot<'_>) -> Knowable<Option<String>> {
    match r.string(s) {
        None => Knowable::Known(None),
        Some(k) => k.map(Some),
    }
}

/// Reads the in-cluster settings from the configuration's top-level slot.
/// `default_bool` gives the declared defaults of the `baseline` switches.
pub fn read(
    r: &mut Reader,
    top: Slot<'_>,
    delivery_default: Knowable<String>,
    default_bool: impl Fn(&str) -> Knowable<bool>,
) -> KubernetesSpec {
    let names: Vec<&str> = Delivery::ALL.iter().map(|d| d.as_str()).collect();
    let delivery = r
        .word(
            sub(top, "delivery"),
            Path::root().attr("delivery"),
            "delivery",
            Delivery::parse,
            &names,
        )
        .unwrap_or_else(|| delivery_default.and_then(|d| Delivery::parse(&d)));
    let gitops_path = optional_text(r, sub(top, "gitops_path"));
    let api_slot = sub(top, "kubernetes_api");
    let api = match api_slot {
        Slot::Null => None,
        _ => Some(ApiRoute {
            url: optional_text(r, sub(api_slot, "url")),
            proxy_url: optional_text(r, sub(api_slot, "proxy_url")),
            ca_certificate: optional_text(r, sub(api_slot, "ca_certificate")),
        }),
    };
    let b = sub(top, "baseline");
    let switch =
        |r: &mut Reader, name: &str| r.bool(sub(b, name)).unwrap_or_else(|| default_bool(name));
    let addons = switch(r, "addons");
    let autoscaler = switch(r, "autoscaler");
    let storage_class = switch(r, "storage_class");
    let teams = match sub(top, "teams") {
        Slot::Null => Knowable::Known(BTreeMap::new()),
        Slot::Unknown => Knowable::Unknown,
        Slot::Known(v) => match v.as_map() {
            None => Knowable::Unknown,
            Some(entries) => {
                let mut out = BTreeMap::new();
                let mut known = true;
                for (name, team) in entries {
                    let t = classify(team);
                    let mut written = Written::default();
                    written.note("roles", sub(t, "roles"));
                    written.note("view_namespaces", sub(t, "view_namespaces"));
                    let list = |n: &str| strings(sub(t, n)).unwrap_or(Knowable::Known(Vec::new()));
                    let (ns, roles, view) =
                        (list("namespaces"), list("roles"), list("view_namespaces"));
                    match (ns, roles, view) {
                        (
                            Knowable::Known(namespaces),
                            Knowable::Known(roles),
                            Knowable::Known(view_namespaces),
                        ) => {
                            out.insert(
                                name.clone(),
                                TeamInput {
                                    namespaces,
                                    roles,
                                    view_namespaces,
                                    written,
                                },
                            );
                        }
                        _ => known = false,
                    }
                }
                if known {
                    Knowable::Known(out)
                } else {
                    Knowable::Unknown
                }
            }
        },
    };
    let platform_admins =
        strings(sub(top, "platform_admins")).unwrap_or(Knowable::Known(Vec::new()));
    let mut written = Written::default();
    written.note("teams", sub(top, "teams"));
    written.note("platform_admins", sub(top, "platform_admins"));
    KubernetesSpec {
        platform: None,
        delivery,
        gitops_path,
        api,
        addons,
        autoscaler,
        storage_class,
        teams,
        platform_admins,
        written,
    }
}

/// The identities mapped to Kubernetes groups: each team's roles to its group,
/// platform admins to [`PLATFORM_ADMINS_GROUP`]; a role in several teams is in
/// each team's group.
pub fn group_access(spec: &KubernetesSpec) -> Knowable<Vec<GroupAccess>> {
    let (Knowable::Known(teams), Knowable::Known(admins)) = (&spec.teams, &spec.platform_admins)
    else {
        return Knowable::Unknown;
    };
    let mut by_role: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (team, t) in teams {
        for role in &t.roles {
            by_role
                .entry(role.clone())
                .or_default()
                .push(team_group(team));
        }
    }
    for role in admins {
        by_role
            .entry(role.clone())
            .or_default()
            .push(PLATFORM_ADMINS_GROUP.to_owned());
    }
    Knowable::Known(
        by_role
            .into_iter()
            .map(|(principal, mut groups)| {
                groups.sort();
                groups.dedup();
                GroupAccess { principal, groups }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_in_two_teams_is_in_both_groups() {
        let team = |roles: &[&str]| TeamInput {
            namespaces: vec![],
            roles: roles.iter().map(|r| r.to_string()).collect(),
            view_namespaces: vec![],
            written: Written::default(),
        };
        let spec = KubernetesSpec {
            platform: None,
            delivery: Knowable::Known(Delivery::Direct),
            gitops_path: Knowable::Known(None),
            api: None,
            addons: Knowable::Known(true),
            autoscaler: Knowable::Known(true),
            storage_class: Knowable::Known(true),
            teams: Knowable::Known(BTreeMap::from([
                ("a".to_string(), team(&["arn:r1", "arn:r2"])),
                ("b".to_string(), team(&["arn:r2"])),
            ])),
            platform_admins: Knowable::Known(vec!["arn:r2".to_string()]),
            written: Written::default(),
        };
        let Knowable::Known(access) = group_access(&spec) else {
            panic!("known")
        };
        assert_eq!(access.len(), 2);
        assert_eq!(
            access[1].groups,
            ["paved-platform-admins", "paved-team-a", "paved-team-b"]
        );
    }
}
