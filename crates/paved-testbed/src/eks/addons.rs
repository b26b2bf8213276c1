//! EKS add-ons: the version table and CreateAddon, DescribeAddon, UpdateAddon,
//! DeleteAddon, ListAddons, DescribeAddonVersions and add-on tags.
//!
//! See [the module documentation](super) for what is modelled.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::updates::{new_update, UpdateParam};
use super::{minor, now_epoch, parse_body, Answer, ClusterInfo, EksStore, Phase};

use super::KUBERNETES_VERSIONS;

/// One row of the add-on version table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddonVersionRow {
    /// The add-on, e.g. `vpc-cni`.
    pub addon: &'static str,
    /// The version, e.g. `v1.19.2-eksbuild.1`.
    pub version: &'static str,
    /// The Kubernetes minors it is compatible with.
    pub minors: &'static [&'static str],
    /// The minors for which it is the default version.
    pub default_for: &'static [&'static str],
}

const ALL: &[&str] = &KUBERNETES_VERSIONS;

/// The add-on versions the stand-in knows, newest first per add-on. Exactly
/// one version per add-on is the default for each of [`KUBERNETES_VERSIONS`].
/// The strings follow EKS's format; they are illustrative, not a copy of
/// what EKS offers on a given day.
pub const ADDON_VERSIONS: &[AddonVersionRow] = &[
    // vpc-cni
    row("vpc-cni", "v1.19.2-eksbuild.1", ALL, &["1.31", "1.32"]),
    row("vpc-cni", "v1.19.0-eksbuild.1", ALL, &[]),
    row(
        "vpc-cni",
        "v1.18.6-eksbuild.1",
        &["1.29", "1.30", "1.31"],
        &["1.29", "1.30"],
    ),
    row("vpc-cni", "v1.18.3-eksbuild.3", &["1.29", "1.30"], &[]),
    // coredns
    row(
        "coredns",
        "v1.11.4-eksbuild.2",
        &["1.31", "1.32"],
        &["1.32"],
    ),
    row(
        "coredns",
        "v1.11.3-eksbuild.2",
        &["1.29", "1.30", "1.31"],
        &["1.30", "1.31"],
    ),
    row(
        "coredns",
        "v1.11.1-eksbuild.9",
        &["1.29", "1.30"],
        &["1.29"],
    ),
    row("coredns", "v1.11.1-eksbuild.4", &["1.29"], &[]),
    // kube-proxy: one line of versions per minor
    row("kube-proxy", "v1.32.0-eksbuild.2", &["1.32"], &["1.32"]),
    row("kube-proxy", "v1.31.3-eksbuild.2", &["1.31"], &["1.31"]),
    row("kube-proxy", "v1.31.2-eksbuild.3", &["1.31"], &[]),
    row("kube-proxy", "v1.30.7-eksbuild.2", &["1.30"], &["1.30"]),
    row("kube-proxy", "v1.30.6-eksbuild.3", &["1.30"], &[]),
    row("kube-proxy", "v1.29.11-eksbuild.2", &["1.29"], &["1.29"]),
    row("kube-proxy", "v1.29.10-eksbuild.3", &["1.29"], &[]),
    // aws-ebs-csi-driver
    row("aws-ebs-csi-driver", "v1.38.1-eksbuild.2", ALL, ALL),
    row("aws-ebs-csi-driver", "v1.37.0-eksbuild.1", ALL, &[]),
    row(
        "aws-ebs-csi-driver",
        "v1.35.0-eksbuild.2",
        &["1.29", "1.30", "1.31"],
        &[],
    ),
    // metrics-server
    row("metrics-server", "v0.7.2-eksbuild.2", ALL, ALL),
    row("metrics-server", "v0.7.2-eksbuild.1", ALL, &[]),
];

const fn row(
    addon: &'static str,
    version: &'static str,
    minors: &'static [&'static str],
    default_for: &'static [&'static str],
) -> AddonVersionRow {
    AddonVersionRow {
        addon,
        version,
        minors,
        default_for,
    }
}

/// `(type, owner, requiresIamPermissions)` of a known add-on.
fn addon_kind(addon: &str) -> Option<(&'static str, &'static str, bool)> {
    match addon {
        "vpc-cni" => Some(("networking", "aws", true)),
        "coredns" | "kube-proxy" => Some(("networking", "aws", false)),
        "aws-ebs-csi-driver" => Some(("storage", "aws", true)),
        "metrics-server" => Some(("observability", "community", false)),
        _ => None,
    }
}

/// The versions of `addon` compatible with Kubernetes minor `minor_version`
/// (`1.31`), newest first.
pub fn addon_versions(addon: &str, minor_version: &str) -> Vec<&'static str> {
    ADDON_VERSIONS
        .iter()
        .filter(|r| r.addon == addon && r.minors.contains(&minor_version))
        .map(|r| r.version)
        .collect()
}

/// The default version of `addon` for Kubernetes minor `minor_version`.
pub fn default_addon_version(addon: &str, minor_version: &str) -> Option<&'static str> {
    ADDON_VERSIONS
        .iter()
        .find(|r| r.addon == addon && r.default_for.contains(&minor_version))
        .map(|r| r.version)
}

/// `v1.19.2-eksbuild.1` → `[1, 19, 2, 1]`, for ordering versions.
fn version_key(version: &str) -> Vec<u64> {
    version
        .trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// An EKS add-on, as the stand-in holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Addon {
    /// The cluster it is installed on.
    pub cluster_name: String,
    /// The add-on's name, e.g. `coredns`.
    pub addon_name: String,
    /// The installed version, e.g. `v1.11.4-eksbuild.2`.
    pub addon_version: String,
    /// `CREATING`, `ACTIVE`, `UPDATING` or `DELETING`, as of the snapshot.
    pub status: String,
    /// The add-on's ARN.
    pub addon_arn: String,
    /// The IAM role of the add-on's service account, if one was given.
    pub service_account_role_arn: Option<String>,
    /// The last `resolveConflicts` given (`OVERWRITE`, `NONE`, `PRESERVE`).
    pub resolve_conflicts: Option<String>,
    /// The configuration values (a JSON or YAML document), if any.
    pub configuration_values: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Creation time, epoch seconds.
    pub created_at: f64,
    /// Last change, epoch seconds.
    pub modified_at: f64,
}

impl Addon {
    /// The add-on as the API returns it (`addon`), with status `status`.
    pub(super) fn to_wire(&self, status: &str) -> Value {
        let mut v = json!({
            "addonName": self.addon_name,
            "clusterName": self.cluster_name,
            "status": status,
            "addonVersion": self.addon_version,
            "health": { "issues": [] },
            "addonArn": self.addon_arn,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "tags": self.tags,
            "publisher": "eks",
            "owner": addon_kind(&self.addon_name).map_or("aws", |k| k.1),
        });
        if let Some(role) = &self.service_account_role_arn {
            v["serviceAccountRoleArn"] = json!(role);
        }
        if let Some(values) = &self.configuration_values {
            v["configurationValues"] = json!(values);
        }
        v
    }
}

/// An add-on and where it is in its life.
#[derive(Clone, Debug)]
pub(super) struct AddonState {
    pub(super) addon: Addon,
    pub(super) phase: Phase,
    /// When the current phase ends (CREATING/UPDATING become ACTIVE,
    /// DELETING becomes gone).
    pub(super) ready_at: Instant,
}

impl AddonState {
    /// The status at `at`; `None` once a deletion has finished.
    pub(super) fn status(&self, at: Instant) -> Option<&'static str> {
        let done = at >= self.ready_at;
        Some(match (self.phase, done) {
            (Phase::Deleting, true) => return None,
            (Phase::Deleting, false) => "DELETING",
            (Phase::Creating, false) => "CREATING",
            (Phase::Updating, false) => "UPDATING",
            _ => "ACTIVE",
        })
    }

    /// A snapshot with the status at `at`.
    pub(super) fn snapshot(&self, at: Instant) -> Option<Addon> {
        let status = self.status(at)?;
        let mut addon = self.addon.clone();
        addon.status = status.to_owned();
        Some(addon)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    addon_name: Option<String>,
    addon_version: Option<String>,
    service_account_role_arn: Option<String>,
    resolve_conflicts: Option<String>,
    configuration_values: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateInput {
    addon_version: Option<String>,
    service_account_role_arn: Option<String>,
    resolve_conflicts: Option<String>,
    configuration_values: Option<String>,
}

#[derive(Deserialize)]
struct TagInput {
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// Checks the optional inputs shared by CreateAddon and UpdateAddon.
fn check_common(
    role: Option<&str>,
    resolve: Option<&str>,
    values: Option<&str>,
    cluster: &str,
    addon: &str,
) -> Result<(), Answer> {
    if let Some(role) = role.filter(|r| !r.is_empty()) {
        if !(role.starts_with("arn:") && role.contains(":iam::") && role.contains(":role/")) {
            return Err(Answer::eks_invalid(
                format!("serviceAccountRoleArn {role} is not a valid IAM role ARN."),
                cluster,
                Some(addon),
                None,
            ));
        }
    }
    if let Some(resolve) = resolve {
        if !matches!(resolve, "OVERWRITE" | "NONE" | "PRESERVE") {
            return Err(Answer::eks_invalid(
                format!(
                    "resolveConflicts must be one of OVERWRITE, NONE, PRESERVE; got {resolve}."
                ),
                cluster,
                Some(addon),
                None,
            ));
        }
    }
    if let Some(values) = values.map(str::trim).filter(|v| v.starts_with('{')) {
        let parsed: Result<serde_json::Map<String, Value>, _> = serde_json::from_str(values);
        if let Err(e) = parsed {
            return Err(Answer::eks_invalid(
                format!("configurationValues is not valid JSON: {e}"),
                cluster,
                Some(addon),
                None,
            ));
        }
    }
    Ok(())
}

/// Checks that `version` of `addon` runs on Kubernetes minor `k8s`.
fn check_version(addon: &str, version: &str, k8s: &str, cluster: &str) -> Result<(), Answer> {
    if !addon_versions(addon, k8s).contains(&version) {
        return Err(Answer::eks_invalid(
            format!(
                "Addon version specified is not supported: {addon} {version} is not compatible with Kubernetes {k8s}."
            ),
            cluster,
            Some(addon),
            None,
        ));
    }
    Ok(())
}

impl EksStore {
    pub(super) fn create_addon(
        &mut self,
        cluster: &str,
        info: &ClusterInfo,
        body: &[u8],
        now: Instant,
    ) -> Answer {
        let input: CreateInput = match parse_body(body, cluster) {
            Ok(input) => input,
            Err(answer) => return answer,
        };
        let Some(name) = input.addon_name.filter(|n| !n.is_empty()) else {
            return Answer::eks_invalid("addonName is required.", cluster, None, None);
        };
        let k8s = self.effective_version(cluster, info, now);
        let k8s_minor = minor(&k8s).unwrap_or_default();
        if addon_kind(&name).is_none() || addon_versions(&name, &k8s_minor).is_empty() {
            return Answer::eks_invalid(
                format!("Addon {name} specified is not supported in {k8s_minor} cluster version"),
                cluster,
                Some(&name),
                None,
            );
        }
        let version = match input.addon_version.filter(|v| !v.is_empty()) {
            Some(v) => v,
            None => match default_addon_version(&name, &k8s_minor) {
                Some(v) => v.to_owned(),
                None => {
                    return Answer::eks_invalid(
                        format!("Addon {name} has no default version for {k8s_minor}"),
                        cluster,
                        Some(&name),
                        None,
                    )
                }
            },
        };
        if let Err(answer) = check_version(&name, &version, &k8s_minor, cluster) {
            return answer;
        }
        if let Err(answer) = check_common(
            input.service_account_role_arn.as_deref(),
            input.resolve_conflicts.as_deref(),
            input.configuration_values.as_deref(),
            cluster,
            &name,
        ) {
            return answer;
        }
        let delay = self.delay;
        let id = self.next_uuid();
        let state = self.cluster_state(cluster);
        if state.addons.contains_key(&name) {
            return Answer::eks_error(
                409,
                "ResourceInUseException",
                format!("Addon already exists: {name}"),
                cluster,
                Some(&name),
                None,
            );
        }
        let at = now_epoch();
        let addon = Addon {
            cluster_name: cluster.to_owned(),
            addon_name: name.clone(),
            addon_version: version,
            status: "CREATING".to_owned(),
            addon_arn: format!(
                "arn:{}:eks:{}:{}:addon/{cluster}/{name}/{id}",
                info.partition, info.region, info.account
            ),
            service_account_role_arn: input.service_account_role_arn.filter(|r| !r.is_empty()),
            resolve_conflicts: input.resolve_conflicts,
            configuration_values: input.configuration_values.filter(|v| !v.is_empty()),
            tags: input.tags,
            created_at: at,
            modified_at: at,
        };
        let wire = addon.to_wire("CREATING");
        state.addons.insert(
            name,
            AddonState {
                addon,
                phase: Phase::Creating,
                ready_at: now + delay,
            },
        );
        Answer::ok(json!({ "addon": wire }))
    }

    pub(super) fn describe_addon(&mut self, cluster: &str, addon: &str, now: Instant) -> Answer {
        let wire = self
            .cluster_state(cluster)
            .addons
            .get(addon)
            .and_then(|a| Some(a.addon.to_wire(a.status(now)?)));
        match wire {
            Some(wire) => Answer::ok(json!({ "addon": wire })),
            None => Answer::addon_not_found(cluster, addon),
        }
    }

    pub(super) fn list_addons(&mut self, cluster: &str) -> Answer {
        let names: Vec<String> = self.cluster_state(cluster).addons.keys().cloned().collect();
        Answer::ok(json!({ "addons": names }))
    }

    pub(super) fn delete_addon(&mut self, cluster: &str, addon: &str, now: Instant) -> Answer {
        let delay = self.delay;
        let state = self.cluster_state(cluster);
        let Some(entry) = state.addons.get_mut(addon) else {
            return Answer::addon_not_found(cluster, addon);
        };
        if entry.phase != Phase::Deleting {
            entry.phase = Phase::Deleting;
            entry.ready_at = now + delay;
            entry.addon.modified_at = now_epoch();
        }
        let wire = entry.addon.to_wire("DELETING");
        Answer::ok(json!({ "addon": wire }))
    }

    pub(super) fn update_addon(
        &mut self,
        cluster: &str,
        addon: &str,
        info: &ClusterInfo,
        body: &[u8],
        now: Instant,
    ) -> Answer {
        let input: UpdateInput = match parse_body(body, cluster) {
            Ok(input) => input,
            Err(answer) => return answer,
        };
        let k8s = self.effective_version(cluster, info, now);
        let k8s_minor = minor(&k8s).unwrap_or_default();
        let delay = self.delay;
        let id = self.next_uuid();
        let state = self.cluster_state(cluster);
        let Some(entry) = state.addons.get_mut(addon) else {
            return Answer::addon_not_found(cluster, addon);
        };
        match entry.status(now) {
            Some("ACTIVE") => {}
            Some(status) => {
                return Answer::eks_error(
                    409,
                    "ResourceInUseException",
                    format!("Addon {addon} is in status {status} and cannot be updated now."),
                    cluster,
                    Some(addon),
                    None,
                )
            }
            None => return Answer::addon_not_found(cluster, addon),
        }
        let mut params = Vec::new();
        if let Some(version) = input.addon_version.as_deref().filter(|v| !v.is_empty()) {
            if let Err(answer) = check_version(addon, version, &k8s_minor, cluster) {
                return answer;
            }
            if version_key(version) < version_key(&entry.addon.addon_version) {
                return Answer::eks_invalid(
                    format!(
                        "Updating addon {addon} from {} to the earlier version {version} is not supported.",
                        entry.addon.addon_version
                    ),
                    cluster,
                    Some(addon),
                    None,
                );
            }
            params.push(UpdateParam::new("AddonVersion", version));
        }
        if let Err(answer) = check_common(
            input.service_account_role_arn.as_deref(),
            input.resolve_conflicts.as_deref(),
            input.configuration_values.as_deref(),
            cluster,
            addon,
        ) {
            return answer;
        }
        if let Some(role) = &input.service_account_role_arn {
            params.push(UpdateParam::new("ServiceAccountRoleArn", role));
        }
        if let Some(resolve) = &input.resolve_conflicts {
            params.push(UpdateParam::new("ResolveConflicts", resolve));
        }
        if let Some(values) = &input.configuration_values {
            params.push(UpdateParam::new("ConfigurationValues", values));
        }
        // The changes show at once; the status says UPDATING until the delay is over.
        if let Some(version) = input.addon_version.filter(|v| !v.is_empty()) {
            entry.addon.addon_version = version;
        }
        if let Some(role) = input.service_account_role_arn {
            entry.addon.service_account_role_arn = Some(role).filter(|r| !r.is_empty());
        }
        if let Some(resolve) = input.resolve_conflicts {
            entry.addon.resolve_conflicts = Some(resolve);
        }
        if let Some(values) = input.configuration_values {
            entry.addon.configuration_values = Some(values).filter(|v| !v.is_empty());
        }
        entry.addon.modified_at = now_epoch();
        entry.phase = Phase::Updating;
        entry.ready_at = now + delay;
        let update = new_update(
            id,
            cluster,
            None,
            Some(addon),
            "AddonUpdate",
            params,
            now + delay,
        );
        let wire = update.started_wire();
        state.updates.push(update);
        Answer::ok(json!({ "update": wire }))
    }

    /// The add-on whose ARN is `arn`, by cluster and name.
    fn addon_by_arn(&mut self, arn: &str, now: Instant) -> Option<&mut AddonState> {
        self.clusters
            .values_mut()
            .flat_map(|c| c.addons.values_mut())
            .find(|a| a.addon.addon_arn == arn && a.status(now).is_some())
    }

    pub(super) fn list_tags(&mut self, arn: &str, now: Instant) -> Answer {
        match self.addon_by_arn(arn, now) {
            Some(a) => Answer::ok(json!({ "tags": a.addon.tags })),
            None => Answer::arn_not_found(arn),
        }
    }

    pub(super) fn tag(&mut self, arn: &str, body: &[u8], now: Instant) -> Answer {
        let input: TagInput = match parse_body(body, "") {
            Ok(input) => input,
            Err(answer) => return answer,
        };
        match self.addon_by_arn(arn, now) {
            Some(a) => {
                a.addon.tags.extend(input.tags);
                Answer::ok(json!({}))
            }
            None => Answer::arn_not_found(arn),
        }
    }

    pub(super) fn untag(&mut self, arn: &str, keys: &[String], now: Instant) -> Answer {
        match self.addon_by_arn(arn, now) {
            Some(a) => {
                for key in keys {
                    a.addon.tags.remove(key);
                }
                Answer::ok(json!({}))
            }
            None => Answer::arn_not_found(arn),
        }
    }
}

/// DescribeAddonVersions, filtered by `kubernetesVersion`, `addonName`,
/// `types`, `publishers` and `owners` (all from the query string).
pub(super) fn describe_addon_versions(query: &[(String, String)]) -> Answer {
    let values = |name: &str| -> Vec<&str> {
        query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let k8s = values("kubernetesVersion")
        .first()
        .map(|v| minor(v).unwrap_or_else(|| (*v).to_owned()));
    let names = values("addonName");
    let types = values("types");
    let publishers = values("publishers");
    let owners = values("owners");
    let mut addons: Vec<&str> = ADDON_VERSIONS.iter().map(|r| r.addon).collect();
    addons.dedup();
    let mut out = Vec::new();
    for addon in addons {
        let Some((kind, owner, iam)) = addon_kind(addon) else {
            continue;
        };
        if (!names.is_empty() && !names.contains(&addon))
            || (!types.is_empty() && !types.contains(&kind))
            || (!publishers.is_empty() && !publishers.contains(&"eks"))
            || (!owners.is_empty() && !owners.contains(&owner))
        {
            continue;
        }
        let versions: Vec<Value> = ADDON_VERSIONS
            .iter()
            .filter(|r| r.addon == addon)
            .filter_map(|r| {
                let compat: Vec<Value> = r
                    .minors
                    .iter()
                    .filter(|m| k8s.as_deref().is_none_or(|k| k == **m))
                    .map(|m| {
                        json!({
                            "clusterVersion": m,
                            "platformVersions": ["*"],
                            "defaultVersion": r.default_for.contains(m),
                        })
                    })
                    .collect();
                (!compat.is_empty()).then(|| {
                    json!({
                        "addonVersion": r.version,
                        "architecture": ["amd64", "arm64"],
                        "computeTypes": ["ec2"],
                        "compatibilities": compat,
                        "requiresConfiguration": false,
                        "requiresIamPermissions": iam,
                    })
                })
            })
            .collect();
        if versions.is_empty() {
            continue;
        }
        out.push(json!({
            "addonName": addon,
            "type": kind,
            "addonVersions": versions,
            "publisher": "eks",
            "owner": owner,
        }));
    }
    Answer::ok(json!({ "addons": out }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_default_per_addon_and_minor_and_newest_first() {
        let mut addons: Vec<&str> = ADDON_VERSIONS.iter().map(|r| r.addon).collect();
        addons.dedup();
        assert_eq!(
            addons,
            [
                "vpc-cni",
                "coredns",
                "kube-proxy",
                "aws-ebs-csi-driver",
                "metrics-server"
            ]
        );
        for addon in &addons {
            for k8s in KUBERNETES_VERSIONS {
                let defaults = ADDON_VERSIONS
                    .iter()
                    .filter(|r| r.addon == *addon && r.default_for.contains(&k8s))
                    .count();
                assert_eq!(defaults, 1, "{addon} {k8s}");
                let default = default_addon_version(addon, k8s).unwrap();
                assert!(addon_versions(addon, k8s).contains(&default));
            }
            let keys: Vec<Vec<u64>> = ADDON_VERSIONS
                .iter()
                .filter(|r| r.addon == *addon)
                .map(|r| version_key(r.version))
                .collect();
            assert!(keys.windows(2).all(|w| w[0] > w[1]), "{addon}: {keys:?}");
        }
        for r in ADDON_VERSIONS {
            assert!(r.default_for.iter().all(|m| r.minors.contains(m)), "{r:?}");
            assert!(r.version.starts_with('v') && r.version.contains("-eksbuild."));
        }
        assert_eq!(version_key("v1.19.2-eksbuild.1"), [1, 19, 2, 1]);
    }

    #[test]
    fn version_listing_filters() {
        let q = |pairs: &[(&str, &str)]| {
            describe_addon_versions(
                &pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<Vec<_>>(),
            )
            .body
        };
        let all = q(&[]);
        assert_eq!(all["addons"].as_array().unwrap().len(), 5);
        let proxy = q(&[("addonName", "kube-proxy"), ("kubernetesVersion", "1.31")]);
        let versions = &proxy["addons"][0]["addonVersions"];
        assert_eq!(versions.as_array().unwrap().len(), 2);
        assert_eq!(versions[0]["addonVersion"], "v1.31.3-eksbuild.2");
        assert_eq!(
            versions[0]["compatibilities"],
            json!([{ "clusterVersion": "1.31", "platformVersions": ["*"], "defaultVersion": true }])
        );
        let storage = q(&[("types", "storage")]);
        assert_eq!(storage["addons"][0]["addonName"], "aws-ebs-csi-driver");
        assert_eq!(q(&[("addonName", "nope")])["addons"], json!([]));
        assert_eq!(q(&[("kubernetesVersion", "1.20")])["addons"], json!([]));
    }
}
