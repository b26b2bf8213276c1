//! Checks of a `paved_ha_cluster` made before any cloud call.
//!
//! [`check`] looks at one effective configuration, [`check_change`] at a change from
//! a prior state (Kubernetes upgrades), and [`check_region_zones`] at the zones a
//! region offers, once known. Each problem is an error (the plan stops) or a warning
//! (a risky choice), with the attribute path it is about and a detail that says what
//! to do. Values not yet known are skipped: they are checked again at plan time.

pub use super::schema::{DISK_SIZE_GB, MAX_NAME_LEN, MAX_POOL_NAME_LEN, RETENTION_DAYS};
use std::collections::BTreeMap;

use paved_value::Path;

use super::config::{
    pool_path, ClusterSpec, KubernetesVersion, NetworkMode, NodePoolSpec, SYSTEM_POOL,
};

use crate::ports::cluster::Capacity;

use crate::stack::Knowable;

use crate::diag::Diagnostics;
use crate::ports::network::NatLayout;
use crate::ports::network::{cidr_problem, Ipv4Net, Tier};
use crate::profiles::Profile;
use crate::stack::validate::check_timeouts;

/// Taint effects Kubernetes knows.
pub const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// All checks of one effective configuration.
pub fn check(spec: &ClusterSpec) -> Diagnostics {
    let mut d = Diagnostics::new();
    check_name(spec, &mut d);
    check_zones(spec, &mut d);
    check_network(spec, &mut d);
    check_endpoint(spec, &mut d);
    check_version_format(spec, &mut d);
    if let Knowable::Known(pools) = &spec.node_pools {
        for (name, pool) in pools {
            check_pool(spec, name, pool, &mut d);
        }
    }
    check_logging(spec, &mut d);
    check_admins(spec, &mut d);
    check_tags(spec, &mut d);
    check_timeouts(&spec.timeouts, &mut d);
    super::baseline::check(spec, &mut d);
    d
}

/// Checks of a change from `prior` (the spec the current state records) to `spec`:
/// Kubernetes versions go up one minor version at a time and never down.
pub fn check_change(prior: &ClusterSpec, spec: &ClusterSpec) -> Diagnostics {
    let mut d = Diagnostics::new();
    let (Knowable::Known(Some(from)), Knowable::Known(Some(to))) =
        (&prior.kubernetes_version, &spec.kubernetes_version)
    else {
        return d;
    };
    let (Some(from), Some(to)) = (KubernetesVersion::parse(from), KubernetesVersion::parse(to))
    else {
        return d;
    };
    let path = Path::root().attr("kubernetes_version");
    if to < from {
        d.attribute_error(
            path,
            "Kubernetes cannot be downgraded",
            format!(
                "The cluster runs Kubernetes {from}; a control plane cannot go back to {to}. Set kubernetes_version = \"{from}\" \
                 (or a later version) again; to run {to}, create a new cluster."
            ),
        );
    } else if to.major == from.major && to.minor > from.minor + 1 {
        let next = KubernetesVersion {
            major: from.major,
            minor: from.minor + 1,
        };
        d.attribute_error(
            path,
            "Kubernetes upgrades go one minor version at a time",
            format!(
                "The cluster runs Kubernetes {from} and cannot skip to {to}. Go through {next} first: set kubernetes_version = \"{next}\", \
                 apply, then continue one minor version at a time up to \"{to}\"."
            ),
        );
    } else if to.major != from.major {
        d.attribute_error(
            path,
            "Kubernetes major version change",
            format!("The cluster runs Kubernetes {from}; an upgrade to {to} is not possible in place. Create a new cluster."),
        );
    }
    d
}

/// Checks the zones against those the region offers (known only after listing them,
/// e.g. with the `paved_zones` data source or by the backend).
pub fn check_region_zones(spec: &ClusterSpec, region_zones: &[String]) -> Diagnostics {
    let mut d = Diagnostics::new();
    let available = if region_zones.is_empty() {
        "none".to_string()
    } else {
        region_zones.join(", ")
    };
    if let Knowable::Known(Some(zones)) = &spec.zones {
        for (i, zone) in zones.iter().enumerate() {
            if !region_zones.contains(zone) {
                d.attribute_error(
                    Path::root().attr("zones").index(index(i)),
                    "Zone not in the region",
                    format!(
                        "\"{zone}\" is not a usable zone of the region. Use one of: {available}."
                    ),
                );
            }
        }
    }
    if let Knowable::Known(count) = spec.zone_count {
        if count as usize > region_zones.len() {
            d.attribute_error(
                spec.zone_source.path(),
                "More zones than the region has",
                format!(
                    "{count} zones are asked for, but the region has {} usable zone(s) ({available}). Set zone_count to {} or less, \
                     or choose another region.",
                    region_zones.len(),
                    region_zones.len()
                ),
            );
        }
    }
    d
}

fn index(i: usize) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

/// Why a cluster name would be rejected, if it would.
pub fn cluster_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some(
            "The name is empty. Use 1 to 40 letters, digits, hyphens and underscores.".to_string(),
        );
    }
    if name.len() > MAX_NAME_LEN {
        return Some(format!(
            "\"{name}\" has {} characters; paved allows {MAX_NAME_LEN} so that the names it derives for node groups and \
             roles fit the cloud's limits. Use a shorter name.",
            name.len()
        ));
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !first_ok || !rest_ok {
        return Some(format!(
            "\"{name}\" is not a valid cluster name. Start with a letter or digit and use only letters, digits, hyphens \
             and underscores, such as \"shop-prod\"."
        ));
    }
    None
}

/// A GCP machine type: `series-class-vcpus` (`n2-standard-8`, `e2-highmem-4`), a
/// shared-core type (`e2-medium`) or a custom one (`n2-custom-4-16384`).
pub fn is_machine_type(t: &str) -> bool {
    let parts: Vec<&str> = t.split('-').collect();
    parts.len() >= 2
        && parts[0].starts_with(|c: char| c.is_ascii_lowercase())
        && parts[0].chars().any(|c| c.is_ascii_digit())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Whether `t` has the `family.size` shape of an instance type (`m6i.large`,
/// `t3.medium`, `m7g.2xlarge`, `c6gn.metal`).
pub fn is_instance_type(t: &str) -> bool {
    let Some((family, size)) = t.split_once('.') else {
        return is_machine_type(t);
    };
    let family_ok = family.starts_with(|c: char| c.is_ascii_lowercase())
        && family.chars().any(|c| c.is_ascii_digit())
        && family
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let size_ok = !size.is_empty()
        && size.chars().any(|c| c.is_ascii_lowercase())
        && size
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    family_ok && size_ok && !family.ends_with('-') && !size.ends_with('-')
}

fn check_name(spec: &ClusterSpec, d: &mut Diagnostics) {
    if let Knowable::Known(name) = &spec.name {
        if let Some(problem) = cluster_name_problem(name) {
            d.attribute_error(Path::root().attr("name"), "Invalid cluster name", problem);
        }
    }
}

fn check_zones(spec: &ClusterSpec, d: &mut Diagnostics) {
    let source = spec.zone_source.path();
    if let Knowable::Known(count) = spec.zone_count {
        if count < 2 {
            d.attribute_error(
                source.clone(),
                "A highly available cluster needs at least two zones",
                format!(
                    "{count} zone(s) are asked for; the control plane and every node pool spread over at least two zones. \
                     Use two zones or more (three for production)."
                ),
            );
        } else if count == 2 && spec.profile == Knowable::Known(Profile::Production) {
            d.attribute_warning(
                source.clone(),
                "Two zones in production",
                "With two zones, losing one halves the capacity and leaves no spare zone while it is down. Use three zones \
                 (remove zone_count, or set it to 3) unless the region has only two.",
            );
        }
    }
    if let Knowable::Known(Some(zones)) = &spec.zones {
        for (i, zone) in zones.iter().enumerate() {
            if zones[..i].contains(zone) {
                d.attribute_error(
                    Path::root().attr("zones").index(index(i)),
                    "Zone listed twice",
                    format!("\"{zone}\" appears more than once. List each zone once."),
                );
            }
        }
        let listed = zones.len();
        if let (Knowable::Known(count), super::config::ZoneSource::Count) =
            (&spec.zone_count, spec.zone_source)
        {
            if *count as usize != listed {
                d.attribute_error(
                    Path::root().attr("zone_count"),
                    "zone_count disagrees with zones",
                    format!("zones lists {listed} zone(s) but zone_count is {count}. Remove zone_count: the list decides."),
                );
            }
        }
    }
}

fn check_network(spec: &ClusterSpec, d: &mut Diagnostics) {
    let net = &spec.network;
    let path = Path::root().attr("network");
    match &net.mode {
        Knowable::Unknown => {}
        Knowable::Known(NetworkMode::Build) => {
            if !matches!(net.existing_subnet_ids, Knowable::Known(None)) {
                d.attribute_error(
                    path.clone().attr("existing_subnet_ids"),
                    "Subnets without a network",
                    "existing_subnet_ids lists subnets of an existing network; set existing_vpc_id to that network's id too, \
                     or remove existing_subnet_ids to let paved build the network.",
                );
            }
            if let Knowable::Known(Some(cidr)) = &net.cidr {
                if let Some((summary, detail)) =
                    cidr_problem(cidr, spec.zone_count.known().copied())
                {
                    d.attribute_error(path.clone().attr("cidr"), summary, detail);
                }
            }
            if spec.profile == Knowable::Known(Profile::Production) {
                if let Some(detail) = net.nat.known().and_then(|n| n.production_risk()) {
                    d.attribute_warning(
                        path.clone().attr("nat_mode"),
                        "Production network without a NAT gateway per zone",
                        detail,
                    );
                }
            }
        }
        Knowable::Known(NetworkMode::Existing { .. }) => {
            if net.cidr_configured {
                d.attribute_error(
                    path.clone().attr("cidr"),
                    "cidr with an existing network",
                    "cidr sets the range of a network paved builds; an existing network keeps its own. Remove cidr, or remove \
                     existing_vpc_id to let paved build the network.",
                );
            }
            if net.nat_configured && net.nat != Knowable::Known(NatLayout::None) {
                d.attribute_error(
                    path.clone().attr("nat_mode"),
                    "nat_mode with an existing network",
                    "paved builds no NAT gateways in a network it does not own. Remove nat_mode (or set it to \"none\").",
                );
            }
            check_existing_subnets(spec, &path, d);
        }
    }
}

fn check_existing_subnets(spec: &ClusterSpec, network: &Path, d: &mut Diagnostics) {
    let path = network.clone().attr("existing_subnet_ids");
    let tiers: &BTreeMap<String, Vec<String>> = match &spec.network.existing_subnet_ids {
        Knowable::Unknown => return,
        Knowable::Known(Some(tiers)) => tiers,
        Knowable::Known(None) => {
            d.attribute_error(
                path,
                "Existing network without subnets",
                "With existing_vpc_id, list the subnets to use by tier: existing_subnet_ids = { private = [one per zone], \
                 public = [...] (for internet-facing load balancers), intra = [...] (optional) }.",
            );
            return;
        }
    };
    for tier in tiers.keys() {
        if Tier::parse(tier).is_none() {
            d.attribute_error(
                path.clone().key(tier.as_str()),
                "Unknown subnet tier",
                format!("\"{tier}\" is not a tier. Use \"public\", \"private\" or \"intra\"."),
            );
        }
    }
    match tiers.get("private") {
        Some(_) if spec.network.regional_subnets == Knowable::Unknown => {}
        Some(ids) if spec.network.regional_subnets == Knowable::Known(true) => {
            if ids.len() != 1 {
                d.attribute_error(
                    path.key("private"),
                    "One subnetwork spans the region",
                    format!(
                        "{} private subnetworks are listed; on this cloud a subnetwork covers every zone of the \
                         region, and the nodes run in one. List the one subnetwork, with secondary ranges named \
                         \"pods\" and \"services\".",
                        ids.len()
                    ),
                );
            }
        }
        None => d.attribute_error(
            path,
            "No private subnets",
            "Nodes run in private subnets: add private = [\"subnet-...\", ...] with one subnet per zone.",
        ),
        Some(ids) if ids.len() < 2 => d.attribute_error(
            path.key("private"),
            "Too few private subnets",
            format!(
                "{} private subnet(s) are listed; a highly available cluster needs subnets in at least two zones. \
                 List one private subnet per zone.",
                ids.len()
            ),
        ),
        Some(ids) => {
            if let (Knowable::Known(count), super::config::ZoneSource::Count | super::config::ZoneSource::Listed) =
                (&spec.zone_count, spec.zone_source)
            {
                if ids.len() != *count as usize {
                    d.attribute_error(
                        spec.zone_source.path(),
                        "Zones disagree with the existing subnets",
                        format!(
                            "{} private subnets are listed, one per zone, but {count} zones are asked for. List one private \
                             subnet per zone, or remove {}.",
                            ids.len(),
                            spec.zone_source.path()
                        ),
                    );
                }
            }
        }
    }
}

fn check_endpoint(spec: &ClusterSpec, d: &mut Diagnostics) {
    let Knowable::Known(cidrs) = &spec.endpoint_public_cidrs else {
        return;
    };
    let vpc = match (&spec.network.mode, &spec.network.cidr) {
        (Knowable::Known(NetworkMode::Build), Knowable::Known(Some(c))) => Ipv4Net::parse(c).ok(),
        _ => None,
    };
    let mut seen: Vec<(usize, Ipv4Net)> = Vec::new();
    for (i, text) in cidrs.iter().enumerate() {
        let path = Path::root().attr("endpoint_public_cidrs").index(index(i));
        let net = match Ipv4Net::parse(text) {
            Ok(n) => n,
            Err(e) => {
                d.attribute_error(path, "Invalid CIDR", e.to_string());
                continue;
            }
        };
        if let Some(vpc) = vpc.filter(|v| v.overlaps(&net)) {
            d.attribute_error(
                path.clone(),
                "Public endpoint CIDR overlaps the cluster's network",
                format!(
                    "{net} overlaps the cluster's network {vpc}. The public endpoint only sees public addresses; traffic from \
                     inside the network reaches the private endpoint. Remove {net} or replace it with your public range."
                ),
            );
        }
        if let Some((j, _)) = seen.iter().find(|(_, s)| *s == net) {
            d.attribute_error(
                path,
                "CIDR listed twice",
                format!("{net} is already endpoint_public_cidrs[{j}]. Remove the duplicate."),
            );
        } else if let Some((j, wider)) = seen
            .iter()
            .find(|(_, s)| s.contains(&net) || net.contains(s))
        {
            let (inner, outer) = if wider.contains(&net) {
                (net, *wider)
            } else {
                (*wider, net)
            };
            d.attribute_warning(
                path,
                "Overlapping CIDRs",
                format!(
                    "{inner} lies inside {outer} (this entry and endpoint_public_cidrs[{j}]). Remove {inner}: {outer} already admits it."
                ),
            );
        }
        seen.push((i, net));
    }
}

fn check_version_format(spec: &ClusterSpec, d: &mut Diagnostics) {
    if let Knowable::Known(Some(v)) = &spec.kubernetes_version {
        if KubernetesVersion::parse(v).is_none_or(|k| k.major != 1) {
            d.attribute_error(
                Path::root().attr("kubernetes_version"),
                "Invalid Kubernetes version",
                format!(
                    "\"{v}\" is not a Kubernetes minor version. Write it as major.minor, such as \"1.31\" (patch versions are \
                     chosen by the cloud), or remove it to get the newest version at create."
                ),
            );
        }
    }
}

fn check_pool(spec: &ClusterSpec, name: &str, pool: &NodePoolSpec, d: &mut Diagnostics) {
    let path = pool_path(name);
    let name_ok = !name.is_empty()
        && name.len() <= MAX_POOL_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !name_ok {
        d.attribute_error(
            path.clone(),
            "Invalid node pool name",
            format!(
                "\"{name}\" cannot name a node pool. Use up to {MAX_POOL_NAME_LEN} lowercase letters, digits and hyphens, \
                 starting with a letter or digit, such as \"spot\" or \"gpu-a\"."
            ),
        );
    }
    if let (Knowable::Known(min), Knowable::Known(max)) = (&pool.min_size, &pool.max_size) {
        if min > max {
            d.attribute_error(
                path.clone().attr("min_size"),
                "min_size is larger than max_size",
                format!("Node pool \"{name}\" has min_size {min} and max_size {max}. Raise max_size to at least {min}, or lower min_size."),
            );
        }
        if *max == 0 {
            d.attribute_error(
                path.clone().attr("max_size"),
                "max_size is zero",
                format!("Node pool \"{name}\" could never have a node. Set max_size to at least 1, or remove the pool."),
            );
        }
    }
    if let (Knowable::Known(min), Knowable::Known(zones)) = (&pool.min_size, &spec.zone_count) {
        if min < zones {
            d.attribute_error(
                path.clone().attr("min_size"),
                "Node pool smaller than its zones",
                format!(
                    "Node pool \"{name}\" spreads over {zones} zones, so it needs at least {zones} nodes (one per zone) to \
                     survive the loss of a zone; min_size is {min}. Set min_size = {zones} or more, or lower the number of zones."
                ),
            );
        }
    }
    if let Knowable::Known(types) = &pool.instance_types {
        let types_path = path.clone().attr("instance_types");
        if types.is_empty() {
            d.attribute_error(
                types_path.clone(),
                "No instance types",
                format!("Node pool \"{name}\" lists no instance types. List at least one, such as [\"m6i.large\"], or remove instance_types for the default."),
            );
        }
        for (i, t) in types.iter().enumerate() {
            if !is_instance_type(t) {
                d.attribute_error(
                    types_path.clone().index(index(i)),
                    "Invalid instance type",
                    format!("\"{t}\" is not an instance type. Write it as family.size on AWS, such as \"m6i.large\" or \"t3.medium\", or as a GCP machine type, such as \"n2-standard-8\" or \"e2-medium\"."),
                );
            }
        }
        if pool.capacity == Knowable::Known(Capacity::Spot) && types.len() < 2 {
            d.attribute_warning(
                types_path,
                "Spot pool with one instance type",
                format!(
                    "Node pool \"{name}\" is spot with {} instance type(s): when that type runs short, the pool gets no nodes. \
                     List two or more types of similar size, such as [\"m6i.large\", \"m6a.large\", \"m5.large\"].",
                    types.len()
                ),
            );
        }
    }
    if name == SYSTEM_POOL && pool.capacity == Knowable::Known(Capacity::Spot) {
        d.attribute_warning(
            path.clone().attr("capacity"),
            "Spot system pool",
            "The system pool runs cluster add-ons (DNS, autoscaler); spot reclaims can take them down together. Keep it \
             on_demand and put spot capacity in another pool.",
        );
    }
    if let Knowable::Known(taints) = &pool.taints {
        for (i, taint) in taints.iter().enumerate() {
            let taint_path = path.clone().attr("taints").index(index(i));
            if let Knowable::Known(effect) = &taint.effect {
                if !TAINT_EFFECTS.contains(&effect.as_str()) {
                    d.attribute_error(
                        taint_path.clone().attr("effect"),
                        "Invalid taint effect",
                        format!("\"{effect}\" is not a taint effect. Use \"NoSchedule\", \"PreferNoSchedule\" or \"NoExecute\"."),
                    );
                }
            }
            if taint.key == Knowable::Known(String::new()) {
                d.attribute_error(
                    taint_path.attr("key"),
                    "Empty taint key",
                    "Give the taint a key, such as \"dedicated\".",
                );
            }
        }
    }
}

fn check_logging(spec: &ClusterSpec, d: &mut Diagnostics) {
    let path = Path::root().attr("control_plane_logging");
    let allowed = Profile::Production.defaults().control_plane_log_types;
    if let Knowable::Known(types) = &spec.control_plane_logging.types {
        for (i, t) in types.iter().enumerate() {
            if !allowed.contains(&t.as_str()) {
                d.attribute_error(
                    path.clone().attr("types").index(index(i)),
                    "Unknown log type",
                    format!(
                        "\"{t}\" is not a control-plane log type. Use any of: {}.",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }
}

fn check_admins(spec: &ClusterSpec, d: &mut Diagnostics) {
    let Knowable::Known(admins) = &spec.cluster_admins else {
        return;
    };
    for (i, admin) in admins.iter().enumerate() {
        let parts: Vec<&str> = admin.splitn(6, ':').collect();
        let iam = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "iam"
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && (parts[5].starts_with("role/") || parts[5].starts_with("user/"));
        let email = admin.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty() && domain.contains('.') && !admin.contains(char::is_whitespace)
        });
        if !iam && !email {
            d.attribute_error(
                Path::root().attr("cluster_admins").index(index(i)),
                "Invalid cluster admin",
                format!(
                    "\"{admin}\" is neither an IAM role or user ARN (arn:aws:iam::123456789012:role/NAME) nor an e-mail \
                     address (for GCP). Use one of those forms."
                ),
            );
        }
    }
}

fn check_tags(spec: &ClusterSpec, d: &mut Diagnostics) {
    let Knowable::Known(tags) = &spec.tags else {
        return;
    };
    for key in tags.keys() {
        let lower = key.to_ascii_lowercase();
        if lower.starts_with("paved:") || lower.starts_with("aws:") {
            d.attribute_error(
                Path::root().attr("tags").key(key.as_str()),
                "Reserved tag",
                format!("\"{key}\" is reserved: paved uses paved:* tags to find its components and AWS reserves aws:*. Rename the tag."),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use paved_value::Value;

    use super::*;
    use crate::diag::{Diagnostic, Severity};
    use crate::stack::schema_testing::{obj, strings};

    fn pools(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    fn diags_for(extra: Vec<(&str, Value)>) -> Diagnostics {
        let mut pairs = vec![("name", Value::from("shop"))];
        pairs.extend(extra);
        let (spec, mut d) = ClusterSpec::from_config(&obj(pairs), &Value::Null);
        d.extend(check(&spec));
        d
    }

    /// The one diagnostic at `path`, with its severity and detail.
    fn at(d: &Diagnostics, path: &str) -> Diagnostic {
        let found: Vec<&Diagnostic> = d
            .iter()
            .filter(|x| x.path.as_ref().map(|p| p.to_string()).as_deref() == Some(path))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one diagnostic at {path}, got {d:#?}"
        );
        found[0].clone()
    }

    fn error_at(d: &Diagnostics, path: &str, says: &str) {
        let x = at(d, path);
        assert_eq!(x.severity, Severity::Error, "{x:?}");
        assert!(
            x.detail.contains(says),
            "detail of {path} should say {says:?}: {}",
            x.detail
        );
    }

    fn warning_at(d: &Diagnostics, path: &str, says: &str) {
        let x = at(d, path);
        assert_eq!(x.severity, Severity::Warning, "{x:?}");
        assert!(
            x.detail.contains(says),
            "detail of {path} should say {says:?}: {}",
            x.detail
        );
    }

    #[test]
    fn defaults_pass_every_profile() {
        for profile in ["production", "staging", "development"] {
            let d = diags_for(vec![("profile", profile.into())]);
            assert!(d.is_empty(), "{profile}: {d:#?}");
        }
    }

    #[test]
    fn cidr_malformed_too_small_and_host_bits() {
        let d = diags_for(vec![("network", obj(vec![("cidr", "10.0.0/16".into())]))]);
        error_at(&d, "network.cidr", "such as 10.0.0.0/16");
        let d = diags_for(vec![("network", obj(vec![("cidr", "10.0.0.0/24".into())]))]);
        error_at(&d, "network.cidr", "Use a /20 or larger network");
        assert!(at(&d, "network.cidr").detail.contains("3 zone(s)"));
        let d = diags_for(vec![("network", obj(vec![("cidr", "10.0.0.1/16".into())]))]);
        error_at(&d, "network.cidr", "did you mean 10.0.0.0/16");
    }

    #[test]
    fn endpoint_cidrs_overlapping_and_duplicated() {
        let d = diags_for(vec![(
            "endpoint_public_cidrs",
            strings(&[
                "203.0.113.0/24",
                "10.0.0.0/8",
                "203.0.113.0/24",
                "203.0.113.128/25",
                "nope",
            ]),
        )]);
        error_at(&d, "endpoint_public_cidrs[1]", "Remove 10.0.0.0/8");
        error_at(&d, "endpoint_public_cidrs[2]", "Remove the duplicate");
        warning_at(&d, "endpoint_public_cidrs[3]", "Remove 203.0.113.128/25");
        error_at(&d, "endpoint_public_cidrs[4]", "such as 10.0.0.0/16");
    }

    #[test]
    fn pool_sizes() {
        let d = diags_for(vec![(
            "node_pools",
            pools(vec![
                (
                    "spot",
                    obj(vec![("min_size", 5i64.into()), ("max_size", 4i64.into())]),
                ),
                ("batch", obj(vec![("min_size", 1i64.into())])),
            ]),
        )]);
        error_at(
            &d,
            r#"node_pools["spot"].min_size"#,
            "Raise max_size to at least 5",
        );
        error_at(
            &d,
            r#"node_pools["batch"].min_size"#,
            "Set min_size = 3 or more",
        );
    }

    #[test]
    fn spot_with_one_type_and_malformed_types() {
        let d = diags_for(vec![(
            "node_pools",
            pools(vec![
                (
                    "spot",
                    obj(vec![
                        ("capacity", "spot".into()),
                        ("instance_types", strings(&["m6i.large"])),
                    ]),
                ),
                (
                    "odd",
                    obj(vec![(
                        "instance_types",
                        strings(&["m6i.large", "M6I.large", "m6i", "m7g.2xlarge", "large"]),
                    )]),
                ),
            ]),
        )]);
        warning_at(
            &d,
            r#"node_pools["spot"].instance_types"#,
            "List two or more types",
        );
        error_at(&d, r#"node_pools["odd"].instance_types[1]"#, "family.size");
        error_at(&d, r#"node_pools["odd"].instance_types[2]"#, "family.size");
        error_at(&d, r#"node_pools["odd"].instance_types[4]"#, "family.size");
        assert_eq!(d.0.len(), 4, "{d:#?}");
        for ok in [
            "m6i.large",
            "t3.medium",
            "m7g.2xlarge",
            "c6gn.metal",
            "u-6tb1.metal",
            "inf2.xlarge",
            "n2-standard-8",
            "e2-medium",
            "n2-custom-4-16384",
        ] {
            assert!(is_instance_type(ok), "{ok}");
        }
        for bad in ["huge", "n2-", "-standard-8", "N2-standard-8"] {
            assert!(!is_instance_type(bad), "{bad}");
        }
    }

    #[test]
    fn taint_effect() {
        let taint = obj(vec![
            ("key", "dedicated".into()),
            ("value", "gpu".into()),
            ("effect", "NoSchedul".into()),
        ]);
        let d = diags_for(vec![(
            "node_pools",
            pools(vec![(
                "gpu",
                obj(vec![("taints", Value::List(vec![taint]))]),
            )]),
        )]);
        error_at(
            &d,
            r#"node_pools["gpu"].taints[0].effect"#,
            "\"NoSchedule\", \"PreferNoSchedule\" or \"NoExecute\"",
        );
    }

    #[test]
    fn version_format_and_upgrades() {
        let d = diags_for(vec![("kubernetes_version", "1.31.2".into())]);
        error_at(&d, "kubernetes_version", "such as \"1.31\"");
        let spec = |v: &str| {
            ClusterSpec::from_config(
                &obj(vec![
                    ("name", "shop".into()),
                    ("kubernetes_version", v.into()),
                ]),
                &Value::Null,
            )
            .0
        };
        let d = check_change(&spec("1.29"), &spec("1.31"));
        error_at(&d, "kubernetes_version", "Go through 1.30 first");
        let d = check_change(&spec("1.31"), &spec("1.30"));
        error_at(
            &d,
            "kubernetes_version",
            "Set kubernetes_version = \"1.31\"",
        );
        assert!(check_change(&spec("1.30"), &spec("1.31")).is_empty());
        assert!(check_change(&spec("1.31"), &spec("1.31")).is_empty());
    }

    #[test]
    fn cluster_names() {
        for bad in [
            "",
            "-shop",
            "shop!",
            "a-very-long-cluster-name-that-goes-on-and-on",
        ] {
            let d = diags_for(vec![("name", bad.into())]);
            let x = at(&d, "name");
            assert_eq!(x.severity, Severity::Error);
            assert!(
                x.detail.contains("Use") || x.detail.contains("Start with"),
                "{}",
                x.detail
            );
        }
        assert_eq!(cluster_name_problem("shop_prod-2"), None);
    }

    #[test]
    fn production_risks_are_warnings() {
        let d = diags_for(vec![("network", obj(vec![("nat_mode", "single".into())]))]);
        warning_at(&d, "network.nat_mode", "Set nat_mode = \"per_zone\"");
        let d = diags_for(vec![("network", obj(vec![("nat_mode", "none".into())]))]);
        warning_at(&d, "network.nat_mode", "VPC endpoints");
        let d = diags_for(vec![("zone_count", 2i64.into())]);
        warning_at(&d, "zone_count", "Use three zones");
        assert!(!d.has_errors(), "{d:#?}");
        let d = diags_for(vec![
            ("zone_count", 2i64.into()),
            ("profile", "staging".into()),
        ]);
        assert!(d.is_empty(), "{d:#?}");
        let d = diags_for(vec![("zones", strings(&["a", "b"]))]);
        warning_at(&d, "zones", "Use three zones");
    }

    #[test]
    fn zone_problems() {
        let d = diags_for(vec![("zone_count", 1i64.into())]);
        error_at(&d, "zone_count", "Use two zones or more");
        let d = diags_for(vec![("zones", strings(&["a", "b", "a"]))]);
        error_at(&d, "zones[2]", "List each zone once");
        let d = diags_for(vec![
            ("zones", strings(&["a", "b", "c"])),
            ("zone_count", 4i64.into()),
        ]);
        error_at(&d, "zone_count", "Remove zone_count");
        let d = diags_for(vec![("zone_count", 7i64.into())]);
        error_at(&d, "network.cidr", "use 6 zones or fewer");
    }

    #[test]
    fn zones_against_the_region() {
        let region: Vec<String> = ["eu-west-1a", "eu-west-1b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let spec = ClusterSpec::from_config(&obj(vec![("name", "shop".into())]), &Value::Null).0;
        let d = check_region_zones(&spec, &region);
        error_at(&d, "profile", "Set zone_count to 2 or less");
        let listed = obj(vec![
            ("name", "shop".into()),
            ("zones", strings(&["eu-west-1a", "eu-west-1z"])),
        ]);
        let spec = ClusterSpec::from_config(&listed, &Value::Null).0;
        let d = check_region_zones(&spec, &region);
        error_at(&d, "zones[1]", "Use one of: eu-west-1a, eu-west-1b");
        assert_eq!(d.0.len(), 1);
    }

    #[test]
    fn timeouts_logging_admins_tags() {
        let d = diags_for(vec![
            (
                "timeouts",
                obj(vec![
                    ("create", "30 minutes".into()),
                    ("update", Value::Null),
                    ("delete", "2h".into()),
                ]),
            ),
            (
                "control_plane_logging",
                obj(vec![
                    ("types", strings(&["api", "kubelet"])),
                    ("retention_days", 45i64.into()),
                ]),
            ),
            (
                "cluster_admins",
                strings(&[
                    "arn:aws:iam::123456789012:role/admin",
                    "ops@example.com",
                    "bob",
                ]),
            ),
            (
                "tags",
                Value::Map([("paved:stack".to_string(), Value::from("x"))].into()),
            ),
        ]);
        error_at(&d, "timeouts.create", "Write it like \"45m\"");
        error_at(
            &d,
            "control_plane_logging.types[1]",
            "Use any of: api, audit",
        );
        error_at(&d, "control_plane_logging.retention_days", "Use 30");
        error_at(&d, "cluster_admins[2]", "Use one of those forms");
        error_at(&d, r#"tags["paved:stack"]"#, "Rename the tag");
        assert_eq!(d.0.len(), 5, "{d:#?}");
    }

    #[test]
    fn existing_network_rules() {
        let d = diags_for(vec![(
            "network",
            obj(vec![
                ("existing_vpc_id", "vpc-1".into()),
                ("cidr", "10.0.0.0/16".into()),
            ]),
        )]);
        error_at(&d, "network.cidr", "Remove cidr");
        error_at(&d, "network.existing_subnet_ids", "list the subnets");
        let subnets = Value::Map(
            [
                ("private".to_string(), strings(&["subnet-1"])),
                ("dmz".to_string(), strings(&["subnet-2"])),
            ]
            .into(),
        );
        let d = diags_for(vec![(
            "network",
            obj(vec![
                ("existing_vpc_id", "vpc-1".into()),
                ("existing_subnet_ids", subnets.clone()),
            ]),
        )]);
        error_at(
            &d,
            r#"network.existing_subnet_ids["dmz"]"#,
            "Use \"public\", \"private\" or \"intra\"",
        );
        error_at(
            &d,
            r#"network.existing_subnet_ids["private"]"#,
            "List one private subnet per zone",
        );
        let d = diags_for(vec![(
            "network",
            obj(vec![("existing_subnet_ids", subnets)]),
        )]);
        error_at(&d, "network.existing_subnet_ids", "set existing_vpc_id");
    }

    #[test]
    fn unknown_values_are_not_checked() {
        let d = diags_for(vec![
            ("name", Value::unknown()),
            ("network", obj(vec![("cidr", Value::unknown())])),
            ("endpoint_public_cidrs", Value::List(vec![Value::unknown()])),
            (
                "node_pools",
                pools(vec![(
                    "spot",
                    obj(vec![
                        ("min_size", Value::unknown()),
                        ("capacity", "spot".into()),
                    ]),
                )]),
            ),
            ("kubernetes_version", Value::unknown()),
        ]);
        assert!(d.is_empty(), "{d:#?}");
    }
}
