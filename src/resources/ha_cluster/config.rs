//! The effective configuration of a `paved_ha_cluster`: [`ClusterSpec`].
//!
//! [`ClusterSpec::from_config`] is the one place that turns what the user wrote into
//! what paved will build: every setting left out is filled from the profile table
//! ([`crate::profiles`]) or from the few built-in defaults below, and every value not
//! known until apply (a reference to a resource not yet created) stays
//! [`Knowable::Unknown`]. Planning shows these effective values; the backend builds
//! from the same spec, so the plan and the apply cannot disagree.
//!
//! Two settings are resolved by the cloud at create and then kept: the zones (when
//! not listed, paved picks `zone_count` zones of the region, first by name) and the
//! Kubernetes version (when not given, the newest the cloud offers). With a prior
//! state, `from_config` keeps what the prior state recorded for them, so an unchanged
//! configuration never drifts to another zone or version on its own.
//!
//! Words that decide defaults (`profile`, `network.nat_mode`, a pool's `capacity`)
//! and numbers that are not whole are reported here, since no default can be chosen
//! without them; every other check lives in [`super::validate`].

pub use super::schema::{
    DEFAULT_CIDR, DEFAULT_CREATE_TIMEOUT, DEFAULT_DELETE_TIMEOUT, DEFAULT_DISK_SIZE_GB,
    DEFAULT_ON_DEMAND_INSTANCE_TYPES, DEFAULT_POOL_MAX_PER_ZONE, DEFAULT_SPOT_INSTANCE_TYPES,
    DEFAULT_UPDATE_TIMEOUT, SYSTEM_POOL,
};
use std::collections::BTreeMap;
use std::fmt;

use paved_value::{Path, Value};

pub use super::kubernetes::KubernetesSpec;
use crate::diag::Diagnostics;
use crate::ports::cluster::Capacity;
pub use crate::ports::key::EncryptionKey;
use crate::ports::network::NatLayout;
use crate::profiles::{Defaults as ProfileDefaults, Profile};
use crate::schema::declared::check_block;
use crate::stack::reader::{classify, sub, Defaults, Reader, Slot, Written};
use crate::stack::timeouts::TimeoutsSpec;
use crate::stack::Knowable;

/// The instance types a pool of `capacity` gets when it lists none.
pub fn default_instance_types(capacity: Capacity) -> Vec<String> {
    let types = match capacity {
        Capacity::OnDemand => DEFAULT_ON_DEMAND_INSTANCE_TYPES,
        Capacity::Spot => DEFAULT_SPOT_INSTANCE_TYPES,
    };
    types.iter().map(|t| t.to_string()).collect()
}

/// Where the number of zones came from: diagnostics about it point there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneSource {
    /// `zone_count`.
    Count,
    /// The length of `zones`.
    Listed,
    /// The number of private subnets in `network.existing_subnet_ids`.
    ExistingSubnets,
    /// The profile.
    Profile,
}

impl ZoneSource {
    /// The attribute to point at.
    pub fn path(self) -> Path {
        match self {
            ZoneSource::Count => Path::root().attr("zone_count"),
            ZoneSource::Listed => Path::root().attr("zones"),
            ZoneSource::ExistingSubnets => Path::root().attr("network").attr("existing_subnet_ids"),
            ZoneSource::Profile => Path::root().attr("profile"),
        }
    }
}

/// Whose network the cluster runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// paved builds the network (VPC, subnets, gateways, route tables).
    Build,
    /// The user's network (`network.existing_vpc_id`); paved creates nothing in it
    /// but the cluster.
    Existing {
        /// The network's id.
        vpc_id: Knowable<String>,
    },
}

/// The effective network settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    /// Built or existing.
    pub mode: Knowable<NetworkMode>,
    /// The network's address range. `None` for an existing network whose range is
    /// read at create.
    pub cidr: Knowable<Option<String>>,
    /// `network.cidr` was set in the configuration.
    pub cidr_configured: bool,
    /// NAT gateway layout (`None` for an existing network).
    pub nat: Knowable<NatLayout>,
    /// `network.nat_mode` was set in the configuration.
    pub nat_configured: bool,
    /// `network.existing_subnet_ids`: subnet ids by tier (`public`, `private`,
    /// `intra`); `None` when not set.
    pub existing_subnet_ids: Knowable<Option<BTreeMap<String, Vec<String>>>>,
    /// The cloud's subnets span the region (see [`ClusterSpec::with_subnet_scope`]);
    /// `false` (AWS, the reference) until the cloud says otherwise, unknown when no
    /// cloud is at hand (validation before the provider is configured).
    pub regional_subnets: Knowable<bool>,
}

/// A Kubernetes taint on a pool's nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaintSpec {
    /// The taint's key.
    pub key: Knowable<String>,
    /// The taint's value (optional).
    pub value: Knowable<Option<String>>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute` (checked by validation).
    pub effect: Knowable<String>,
}

/// The effective settings of one node pool. The desired size is not here: the
/// autoscaler owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePoolSpec {
    /// Instance types, in order of preference.
    pub instance_types: Knowable<Vec<String>>,
    /// On-demand or spot.
    pub capacity: Knowable<Capacity>,
    /// Fewest nodes, over all zones.
    pub min_size: Knowable<u32>,
    /// Most nodes, over all zones.
    pub max_size: Knowable<u32>,
    /// Root disk size of each node, in GB.
    pub disk_size_gb: Knowable<u32>,
    /// Kubernetes labels on the nodes.
    pub labels: Knowable<BTreeMap<String, String>>,
    /// Kubernetes taints on the nodes.
    pub taints: Knowable<Vec<TaintSpec>>,
    /// Which of `labels` and `taints` the configuration wrote.
    pub written: Written,
}

/// The effective control-plane log settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggingSpec {
    /// Log types sent to the cloud's log service.
    pub types: Knowable<Vec<String>>,
    /// Retention, in days.
    pub retention_days: Knowable<u32>,
}

/// The typed, effective configuration of a `paved_ha_cluster`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    /// The cluster's name.
    pub name: Knowable<String>,
    /// The profile whose defaults apply.
    pub profile: Knowable<Profile>,
    /// How many zones the stack spreads over.
    pub zone_count: Knowable<u32>,
    /// The zones' names; `None` when paved picks `zone_count` zones at create.
    pub zones: Knowable<Option<Vec<String>>>,
    /// Where the zone count came from.
    pub zone_source: ZoneSource,
    /// The network.
    pub network: NetworkSpec,
    /// `major.minor`; `None` for the newest the cloud offers at create.
    pub kubernetes_version: Knowable<Option<String>>,
    /// CIDRs allowed to reach the public endpoint; empty: private endpoint only.
    pub endpoint_public_cidrs: Knowable<Vec<String>>,
    /// Node pools by name, always including [`SYSTEM_POOL`].
    pub node_pools: Knowable<BTreeMap<String, NodePoolSpec>>,
    /// Control-plane logs.
    pub control_plane_logging: LoggingSpec,
    /// The secrets encryption key.
    pub encryption_key: Knowable<EncryptionKey>,
    /// Principals (IAM ARNs or e-mail addresses) given cluster-admin access.
    pub cluster_admins: Knowable<Vec<String>>,
    /// Refuse destroy and replacement at plan time.
    pub deletion_protection: Knowable<bool>,
    /// Tags added to every component.
    pub tags: Knowable<BTreeMap<String, String>>,
    /// Which of `endpoint_public_cidrs`, `cluster_admins` and `tags` the
    /// configuration wrote.
    pub written: Written,
    /// Operation timeouts.
    pub timeouts: TimeoutsSpec,
    /// What paved installs in the cluster, and how it gets there.
    pub kubernetes: KubernetesSpec,
}

/// A Kubernetes `major.minor` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubernetesVersion {
    /// Major version (1).
    pub major: u32,
    /// Minor version (31).
    pub minor: u32,
}

impl KubernetesVersion {
    /// Parses `1.31`; `None` for anything else (`1.31.2`, `v1.31`, `1.031`).
    pub fn parse(text: &str) -> Option<KubernetesVersion> {
        let (major, minor) = text.split_once('.')?;
        let number = |s: &str| -> Option<u32> {
            let digits_only = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            let no_leading_zero = s == "0" || !s.starts_with('0');
            if digits_only && no_leading_zero && s.len() <= 4 {
                s.parse().ok()
            } else {
                None
            }
        };
        Some(KubernetesVersion {
            major: number(major)?,
            minor: number(minor)?,
        })
    }
}

impl fmt::Display for KubernetesVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The path of a node pool (`node_pools["spot"]`).
pub fn pool_path(name: &str) -> Path {
    Path::root().attr("node_pools").key(name)
}

/// The reads this resource makes in its own way, beside the shared ones.
trait ReaderExt {
    /// A list of strings; unknown when any element is, reporting nulls at `path`.
    fn strings(&mut self, s: Slot<'_>, path: Path) -> Option<Knowable<Vec<String>>>;
}

impl ReaderExt for Reader {
    /// A list of strings; unknown when any element is.
    fn strings(&mut self, s: Slot<'_>, path: Path) -> Option<Knowable<Vec<String>>> {
        let v = match s {
            Slot::Null => return None,
            Slot::Unknown => return Some(Knowable::Unknown),
            Slot::Known(v) => v,
        };
        let Some(items) = v.as_list() else {
            return Some(Knowable::Unknown);
        };
        let mut out = Vec::with_capacity(items.len());
        let mut known = true;
        for (i, item) in items.iter().enumerate() {
            match classify(item) {
                Slot::Known(x) => match x.as_str() {
                    Some(s) => out.push(s.to_string()),
                    None => known = false,
                },
                Slot::Unknown => known = false,
                Slot::Null => self.diags.attribute_error(
                    path.clone().index(i64::try_from(i).unwrap_or(i64::MAX)),
                    "Null in a list",
                    "Remove the null element: every element must be a string.",
                ),
            }
        }
        Some(if known {
            Knowable::Known(out)
        } else {
            Knowable::Unknown
        })
    }
}

/// What a prior state recorded about choices made at create.
struct Prior<'a>(&'a Value);

impl Prior<'_> {
    fn get(&self, path: &[&str]) -> Option<&Value> {
        let mut v = self.0;
        for step in path {
            v = v.get_attr(step)?;
        }
        Some(v)
    }

    fn string(&self, path: &[&str]) -> Option<String> {
        self.get(path).and_then(Value::as_str).map(str::to_string)
    }

    fn strings(&self, path: &[&str]) -> Option<Vec<String>> {
        let items = self.get(path)?.as_list()?;
        items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// The ARN of the key paved created, if the prior inventory lists one.
    fn created_key_arn(&self) -> Option<String> {
        let created = self
            .get(&["inventory"])
            .and_then(Value::as_list)
            .is_some_and(|rows| {
                rows.iter()
                    .any(|r| r.get_attr("kind").and_then(Value::as_str) == Some("kms_key"))
            });
        created
            .then(|| self.string(&["encryption_key_arn"]))
            .flatten()
    }

    fn private_subnets(&self) -> Option<Vec<String>> {
        let map = self.get(&["network", "existing_subnet_ids"])?.as_map()?;
        map.get("private")?
            .as_list()?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect()
    }
}

/// The zones a plan keeps when none are listed: the prior state's, while the count
/// and the existing private subnets stay as they were; `None` (chosen at apply)
/// otherwise.
fn kept_zones(
    zone_count: &Knowable<u32>,
    private_subnets: &Knowable<Option<Vec<String>>>,
    prior: &Prior<'_>,
) -> Knowable<Option<Vec<String>>> {
    match (zone_count, prior.strings(&["zones"])) {
        (Knowable::Unknown, _) => Knowable::Unknown,
        (Knowable::Known(n), Some(prior_zones))
            if prior_zones.len() == *n as usize
                && private_subnets.known().cloned().flatten() == prior.private_subnets() =>
        {
            Knowable::Known(Some(prior_zones))
        }
        (Knowable::Known(_), _) => Knowable::Known(None),
    }
}

impl ClusterSpec {
    /// The effective configuration: `config` with every default filled in.
    ///
    /// `prior_state` is the resource's state before this change (null when
    /// creating); from it come the zones and Kubernetes version chosen at create,
    /// the ARN of a key paved created, and an existing network's address range.
    /// The diagnostics report words and numbers that cannot be read.
    pub fn from_config(config: &Value, prior_state: &Value) -> (ClusterSpec, Diagnostics) {
        let mut r = Reader::default();
        let prior = Prior(prior_state);
        let top = classify(config);
        let profile_word = r.string(sub(top, "profile"));
        let declared = Defaults::new(
            &super::schema::declared().block,
            match &profile_word {
                None => Knowable::Known(None),
                Some(k) => k.clone().map(Some),
            },
        );

        let name = r
            .string(sub(top, "name"))
            .unwrap_or(Knowable::Known(String::new()));
        let profile = match profile_word {
            None => declared
                .string(&["profile"])
                .and_then(|p| Profile::parse(&p)),
            Some(Knowable::Unknown) => Knowable::Unknown,
            Some(Knowable::Known(text)) => match Profile::parse(&text) {
                Some(p) => Knowable::Known(p),
                None => {
                    crate::validate::profile(&text, Path::root().attr("profile"), &mut r.diags);
                    Knowable::Unknown
                }
            },
        };
        let defaults: Knowable<&'static ProfileDefaults> = profile.clone().map(Profile::defaults);

        let network = read_network(&mut r, sub(top, "network"), &defaults, &declared, &prior);

        let zones_slot = sub(top, "zones");
        let listed = r.strings(zones_slot, Path::root().attr("zones"));
        let listed_len = match zones_slot {
            Slot::Null => None,
            Slot::Unknown => Some(Knowable::Unknown),
            Slot::Known(v) => Some(v.as_list().map_or(Knowable::Unknown, |l| {
                Knowable::Known(u32::try_from(l.len()).unwrap_or(u32::MAX))
            })),
        };
        let private_subnets: Knowable<Option<Vec<String>>> = network
            .existing_subnet_ids
            .clone()
            .map(|m| m.and_then(|m| m.get("private").cloned()));
        let (zone_count, zone_source) = if let Some(c) =
            r.count(sub(top, "zone_count"), Path::root().attr("zone_count"))
        {
            (c, ZoneSource::Count)
        } else if let Some(len) = listed_len {
            (len, ZoneSource::Listed)
        } else {
            match (&network.mode, &private_subnets) {
                (Knowable::Unknown, _) => (Knowable::Unknown, ZoneSource::Profile),
                (Knowable::Known(NetworkMode::Existing { .. }), Knowable::Unknown) => {
                    (private_subnet_count(config), ZoneSource::ExistingSubnets)
                }
                (Knowable::Known(NetworkMode::Existing { .. }), Knowable::Known(Some(ids))) => (
                    Knowable::Known(u32::try_from(ids.len()).unwrap_or(u32::MAX)),
                    ZoneSource::ExistingSubnets,
                ),
                _ => (defaults.clone().map(|d| d.zones), ZoneSource::Profile),
            }
        };
        let zones = match listed {
            Some(k) => k.map(Some),
            None => kept_zones(&zone_count, &private_subnets, &prior),
        };

        let kubernetes_version = match r.string(sub(top, "kubernetes_version")) {
            Some(k) => k.map(Some),
            None => Knowable::Known(prior.string(&["kubernetes_version"])),
        };
        let endpoint_public_cidrs = r
            .strings(
                sub(top, "endpoint_public_cidrs"),
                Path::root().attr("endpoint_public_cidrs"),
            )
            .unwrap_or(Knowable::Known(Vec::new()));
        let node_pools = read_pools(
            &mut r,
            sub(top, "node_pools"),
            &zone_count,
            &defaults,
            &declared,
        );

        let logging = sub(top, "control_plane_logging");
        let logging_path = Path::root().attr("control_plane_logging");
        let control_plane_logging = LoggingSpec {
            types: r
                .strings(sub(logging, "types"), logging_path.clone().attr("types"))
                .unwrap_or_else(|| declared.strings(&["control_plane_logging", "types"])),
            retention_days: r
                .count(
                    sub(logging, "retention_days"),
                    logging_path.attr("retention_days"),
                )
                .unwrap_or_else(|| declared.count(&["control_plane_logging", "retention_days"])),
        };

        let encryption_key = match r.string(sub(top, "encryption_key_arn")) {
            Some(k) => k.map(EncryptionKey::Provided),
            None => Knowable::Known(EncryptionKey::Created {
                id: prior.created_key_arn(),
            }),
        };
        let cluster_admins = r
            .strings(
                sub(top, "cluster_admins"),
                Path::root().attr("cluster_admins"),
            )
            .unwrap_or(Knowable::Known(Vec::new()));
        let deletion_protection = r
            .bool(sub(top, "deletion_protection"))
            .unwrap_or_else(|| declared.bool(&["deletion_protection"]));
        let tags = r
            .string_map(sub(top, "tags"))
            .unwrap_or(Knowable::Known(BTreeMap::new()));

        let t = sub(top, "timeouts");
        let mut timeout = |name: &str| {
            r.string(sub(t, name))
                .unwrap_or_else(|| declared.string(&["timeouts", name]))
        };
        let timeouts = TimeoutsSpec {
            create: timeout("create"),
            update: timeout("update"),
            delete: timeout("delete"),
        };
        r.diags
            .extend(check_block(&super::schema::declared().block, config));

        let kubernetes =
            super::kubernetes::read(&mut r, top, declared.string(&["delivery"]), |name| {
                declared.bool(&["baseline", name])
            });
        let mut written = Written::default();
        for name in ["endpoint_public_cidrs", "cluster_admins", "tags"] {
            written.note(name, sub(top, name));
        }
        let spec = ClusterSpec {
            kubernetes,
            written,
            name,
            profile,
            zone_count,
            zones,
            zone_source,
            network,
            kubernetes_version,
            endpoint_public_cidrs,
            node_pools,
            control_plane_logging,
            encryption_key,
            cluster_admins,
            deletion_protection,
            tags,
            timeouts,
        };
        (spec, r.diags)
    }

    /// The effective configuration a state records (for comparing a prior state
    /// with a new plan). A state holds every effective value, so reading it as a
    /// configuration reproduces the spec it was planned from; the one exception, a
    /// key paved created, is recognised by the state's inventory.
    pub fn from_state(state: &Value) -> ClusterSpec {
        let mut as_config = state.clone();
        if Prior(state).created_key_arn().is_some() {
            if let Value::Object(attrs) = &mut as_config {
                attrs.insert("encryption_key_arn".to_string(), Value::Null);
            }
        }
        ClusterSpec::from_config(&as_config, state).0
    }

    /// Reads the spec for the cloud's subnets: `Known(true)` when a subnet spans the
    /// region (GCP), where one private subnetwork of an existing network serves
    /// every zone and the zone count comes from the profile, not from the number of
    /// subnets; unknown when no cloud is at hand, where the rules that depend on it
    /// wait for the plan.
    /// `prior_state` is the state planned from (null at create): its zones are
    /// kept as [`ClusterSpec::from_config`] keeps them.
    pub fn with_subnet_scope(&mut self, regional: Knowable<bool>, prior_state: &Value) {
        if self.zone_source == ZoneSource::ExistingSubnets {
            match regional {
                Knowable::Known(false) => {}
                Knowable::Known(true) => {
                    self.zone_count = self.profile.clone().map(|p| p.defaults().zones);
                    self.zone_source = ZoneSource::Profile;
                    let private = self
                        .network
                        .existing_subnet_ids
                        .clone()
                        .map(|m| m.and_then(|m| m.get("private").cloned()));
                    self.zones = kept_zones(&self.zone_count, &private, &Prior(prior_state));
                }
                Knowable::Unknown => self.zone_count = Knowable::Unknown,
            }
        }
        self.network.regional_subnets = regional;
    }

    /// Whether paved builds the network (known `false` for an existing network).
    pub fn builds_network(&self) -> Knowable<bool> {
        self.network
            .mode
            .as_ref()
            .map(|m| matches!(m, NetworkMode::Build))
    }
}

/// How many private subnets `network.existing_subnet_ids` lists while their ids
/// are still unknown: a `paved_network` planned in the same run knows how many
/// subnets it makes (one a zone) before it knows their ids, so the cluster's zone
/// count, and what follows from it, is known at plan.
fn private_subnet_count(config: &Value) -> Knowable<u32> {
    config
        .get_attr("network")
        .and_then(|n| n.get_attr("existing_subnet_ids"))
        .and_then(Value::as_map)
        .and_then(|m| m.get("private"))
        .and_then(Value::as_list)
        .and_then(|ids| u32::try_from(ids.len()).ok())
        .map_or(Knowable::Unknown, Knowable::Known)
}

fn read_network(
    r: &mut Reader,
    s: Slot<'_>,
    defaults: &Knowable<&ProfileDefaults>,
    declared: &Defaults<'_>,
    prior: &Prior<'_>,
) -> NetworkSpec {
    let path = Path::root().attr("network");
    let mode = match sub(s, "existing_vpc_id") {
        Slot::Null => Knowable::Known(NetworkMode::Build),
        // A whole network unknown says nothing; an unknown id is an expression the
        // user wrote, so the network is an existing one.
        Slot::Unknown if matches!(s, Slot::Unknown) => Knowable::Unknown,
        Slot::Unknown => Knowable::Known(NetworkMode::Existing {
            vpc_id: Knowable::Unknown,
        }),
        Slot::Known(v) => Knowable::Known(NetworkMode::Existing {
            vpc_id: v
                .as_str()
                .map_or(Knowable::Unknown, |id| Knowable::Known(id.to_string())),
        }),
    };
    let existing_subnet_ids = match sub(s, "existing_subnet_ids") {
        Slot::Null => Knowable::Known(None),
        Slot::Unknown => Knowable::Unknown,
        Slot::Known(v) => {
            let mut tiers = BTreeMap::new();
            let mut known = true;
            for (tier, ids) in v.as_map().into_iter().flatten() {
                match r.strings(
                    classify(ids),
                    path.clone().attr("existing_subnet_ids").key(tier.as_str()),
                ) {
                    Some(Knowable::Known(list)) => {
                        tiers.insert(tier.clone(), list);
                    }
                    Some(Knowable::Unknown) => known = false,
                    None => {}
                }
            }
            if known {
                Knowable::Known(Some(tiers))
            } else {
                Knowable::Unknown
            }
        }
    };
    let configured_cidr = r.string(sub(s, "cidr"));
    let cidr_configured = configured_cidr.is_some();
    let cidr = match configured_cidr {
        Some(k) => k.map(Some),
        None => match &mode {
            Knowable::Unknown => Knowable::Unknown,
            Knowable::Known(NetworkMode::Build) => declared.string(&["network", "cidr"]).map(Some),
            Knowable::Known(NetworkMode::Existing { vpc_id }) => {
                let same_network = vpc_id.known().is_some_and(|id| {
                    prior.string(&["network", "existing_vpc_id"]).as_deref() == Some(id.as_str())
                });
                Knowable::Known(
                    same_network
                        .then(|| prior.string(&["network", "cidr"]))
                        .flatten(),
                )
            }
        },
    };
    let names: Vec<&str> = NatLayout::ALL.iter().map(|n| n.as_str()).collect();
    let configured_nat = r.word(
        sub(s, "nat_mode"),
        path.attr("nat_mode"),
        "NAT mode",
        NatLayout::parse,
        &names,
    );
    let nat_configured = configured_nat.is_some();
    let nat = match configured_nat {
        Some(k) => k,
        None => match &mode {
            Knowable::Unknown => Knowable::Unknown,
            Knowable::Known(NetworkMode::Build) => defaults.clone().map(|d| d.nat.into()),
            Knowable::Known(NetworkMode::Existing { .. }) => Knowable::Known(NatLayout::None),
        },
    };
    NetworkSpec {
        mode,
        cidr,
        cidr_configured,
        nat,
        nat_configured,
        existing_subnet_ids,
        regional_subnets: Knowable::Known(false),
    }
}

fn read_pools(
    r: &mut Reader,
    s: Slot<'_>,
    zone_count: &Knowable<u32>,
    defaults: &Knowable<&ProfileDefaults>,
    declared: &Defaults<'_>,
) -> Knowable<BTreeMap<String, NodePoolSpec>> {
    let configured = match s {
        Slot::Null => BTreeMap::new(),
        Slot::Unknown => return Knowable::Unknown,
        Slot::Known(v) => match v.as_map() {
            Some(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
            None => return Knowable::Unknown,
        },
    };
    let mut pools = BTreeMap::new();
    for (name, v) in &configured {
        let pool = read_pool(r, name, classify(v), zone_count, defaults, declared);
        pools.insert(name.clone(), pool);
    }
    if !pools.contains_key(SYSTEM_POOL) {
        let pool = read_pool(r, SYSTEM_POOL, Slot::Null, zone_count, defaults, declared);
        pools.insert(SYSTEM_POOL.to_string(), pool);
    }
    Knowable::Known(pools)
}

fn read_pool(
    r: &mut Reader,
    name: &str,
    s: Slot<'_>,
    zone_count: &Knowable<u32>,
    defaults: &Knowable<&ProfileDefaults>,
    declared: &Defaults<'_>,
) -> NodePoolSpec {
    let path = pool_path(name);
    let system = name == SYSTEM_POOL;
    let names: Vec<&str> = Capacity::ALL.iter().map(|c| c.as_str()).collect();
    let capacity = r
        .word(
            sub(s, "capacity"),
            path.clone().attr("capacity"),
            "capacity",
            Capacity::parse,
            &names,
        )
        .unwrap_or_else(|| {
            declared
                .string(&["node_pools", "capacity"])
                .and_then(|c| Capacity::parse(&c))
        });
    let instance_types = r
        .strings(
            sub(s, "instance_types"),
            path.clone().attr("instance_types"),
        )
        .unwrap_or_else(|| capacity.clone().map(default_instance_types));
    // A pool spreads over every zone, so by default it keeps a node in each; the
    // system pool takes the profile's size, raised to the zone count.
    let min_size = r
        .count(sub(s, "min_size"), path.clone().attr("min_size"))
        .unwrap_or_else(|| {
            if system {
                defaults
                    .clone()
                    .zip(zone_count.clone())
                    .map(|(d, z)| d.system_pool_min.max(z))
            } else {
                zone_count.clone()
            }
        });
    let max_size = r
        .count(sub(s, "max_size"), path.clone().attr("max_size"))
        .unwrap_or_else(|| {
            if system {
                defaults
                    .clone()
                    .zip(min_size.clone())
                    .map(|(d, m)| d.system_pool_max.max(m))
            } else {
                min_size
                    .clone()
                    .zip(zone_count.clone())
                    .map(|(m, z)| m.max(z.saturating_mul(DEFAULT_POOL_MAX_PER_ZONE)))
            }
        });
    let disk_size_gb = r
        .count(sub(s, "disk_size_gb"), path.clone().attr("disk_size_gb"))
        .unwrap_or_else(|| declared.count(&["node_pools", "disk_size_gb"]));
    let labels = r
        .string_map(sub(s, "labels"))
        .unwrap_or(Knowable::Known(BTreeMap::new()));
    let taints = match sub(s, "taints") {
        Slot::Null => Knowable::Known(Vec::new()),
        Slot::Unknown => Knowable::Unknown,
        Slot::Known(v) => match v.as_list() {
            None => Knowable::Unknown,
            Some(items) if items.iter().any(|t| t.is_unknown()) => Knowable::Unknown,
            Some(items) => Knowable::Known(
                items
                    .iter()
                    .map(|t| {
                        let t = classify(t);
                        TaintSpec {
                            key: r
                                .string(sub(t, "key"))
                                .unwrap_or(Knowable::Known(String::new())),
                            value: match r.string(sub(t, "value")) {
                                None => Knowable::Known(None),
                                Some(k) => k.map(Some),
                            },
                            effect: r
                                .string(sub(t, "effect"))
                                .unwrap_or(Knowable::Known(String::new())),
                        }
                    })
                    .collect(),
            ),
        },
    };
    let mut written = Written::default();
    for name in ["labels", "taints"] {
        written.note(name, sub(s, name));
    }
    NodePoolSpec {
        written,
        instance_types,
        capacity,
        min_size,
        max_size,
        disk_size_gb,
        labels,
        taints,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::stack::timeouts::parse_duration;

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    fn strings(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::from(*s)).collect())
    }

    #[test]
    fn production_defaults() {
        let (spec, diags) =
            ClusterSpec::from_config(&obj(vec![("name", "shop".into())]), &Value::Null);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(spec.profile, Knowable::Known(Profile::Production));
        assert_eq!(spec.zone_count, Knowable::Known(3));
        assert_eq!(spec.zones, Knowable::Known(None));
        assert_eq!(
            spec.network.cidr,
            Knowable::Known(Some(DEFAULT_CIDR.into()))
        );
        assert_eq!(spec.network.nat, Knowable::Known(NatLayout::PerZone));
        assert_eq!(spec.kubernetes_version, Knowable::Known(None));
        assert_eq!(spec.deletion_protection, Knowable::Known(true));
        assert_eq!(
            spec.control_plane_logging.retention_days,
            Knowable::Known(90)
        );
        let pools = spec.node_pools.known().unwrap();
        let system = &pools[SYSTEM_POOL];
        assert_eq!(
            (system.min_size.clone(), system.max_size.clone()),
            (Knowable::Known(3), Knowable::Known(9))
        );
        assert_eq!(system.capacity, Knowable::Known(Capacity::OnDemand));
        assert_eq!(
            spec.encryption_key,
            Knowable::Known(EncryptionKey::Created { id: None })
        );
        assert_eq!(spec.timeouts.create, Knowable::Known("60m".into()));
    }

    #[test]
    fn system_pool_grows_with_the_zones_and_user_pools_default_per_zone() {
        let config = obj(vec![
            ("name", "shop".into()),
            ("profile", "development".into()),
            ("zone_count", Value::from(3i64)),
            (
                "node_pools",
                Value::Map([("spot".to_string(), obj(vec![("capacity", "spot".into())]))].into()),
            ),
        ]);
        let (spec, diags) = ClusterSpec::from_config(&config, &Value::Null);
        assert!(diags.is_empty(), "{diags:?}");
        let pools = spec.node_pools.known().unwrap();
        assert_eq!(pools[SYSTEM_POOL].min_size, Knowable::Known(3));
        assert_eq!(pools[SYSTEM_POOL].max_size, Knowable::Known(4));
        assert_eq!(pools["spot"].min_size, Knowable::Known(3));
        assert_eq!(pools["spot"].max_size, Knowable::Known(9));
        assert_eq!(pools["spot"].instance_types.known().map(Vec::len), Some(4));
    }

    #[test]
    fn unknowns_stay_unknown() {
        let config = obj(vec![
            ("name", Value::unknown()),
            ("profile", Value::unknown()),
            ("network", obj(vec![("existing_vpc_id", Value::unknown())])),
        ]);
        let (spec, _) = ClusterSpec::from_config(&config, &Value::Null);
        assert_eq!(spec.name, Knowable::Unknown);
        assert_eq!(spec.deletion_protection, Knowable::Unknown);
        assert_eq!(
            spec.network.mode,
            Knowable::Known(NetworkMode::Existing {
                vpc_id: Knowable::Unknown
            })
        );
        assert_eq!(spec.network.nat, Knowable::Known(NatLayout::None));
        assert_eq!(spec.zone_count, Knowable::Unknown);
        assert_eq!(spec.zones, Knowable::Unknown);
    }

    #[test]
    fn prior_keeps_zones_and_version_chosen_at_create() {
        let config = obj(vec![("name", "shop".into())]);
        let prior = obj(vec![
            ("name", "shop".into()),
            ("zones", strings(&["a", "b", "c"])),
            ("kubernetes_version", "1.31".into()),
        ]);
        let (spec, _) = ClusterSpec::from_config(&config, &prior);
        assert_eq!(
            spec.zones,
            Knowable::Known(Some(vec!["a".into(), "b".into(), "c".into()]))
        );
        assert_eq!(
            spec.kubernetes_version,
            Knowable::Known(Some("1.31".into()))
        );
        let dev = obj(vec![
            ("name", "shop".into()),
            ("profile", "development".into()),
        ]);
        let (spec, _) = ClusterSpec::from_config(&dev, &prior);
        assert_eq!(
            spec.zones,
            Knowable::Known(None),
            "two zones cannot be the prior three"
        );
    }

    #[test]
    fn bad_words_and_numbers_are_reported() {
        let config = obj(vec![
            ("name", "shop".into()),
            ("profile", "prod".into()),
            ("network", obj(vec![("nat_mode", "one".into())])),
            (
                "node_pools",
                Value::Map(
                    [(
                        "x".to_string(),
                        obj(vec![
                            ("min_size", Value::from(1.5f64)),
                            ("capacity", "cheap".into()),
                        ]),
                    )]
                    .into(),
                ),
            ),
        ]);
        let (_, diags) = ClusterSpec::from_config(&config, &Value::Null);
        let paths: Vec<String> = diags
            .iter()
            .filter_map(|d| d.path.as_ref().map(|p| p.to_string()))
            .collect();
        assert_eq!(
            paths,
            [
                "profile",
                "network.nat_mode",
                r#"node_pools["x"].capacity"#,
                r#"node_pools["x"].min_size"#
            ]
        );
        assert!(diags
            .iter()
            .any(|d| d.detail.contains("\"per_zone\", \"single\", \"none\"")));
    }

    #[test]
    fn versions_and_durations() {
        assert_eq!(
            KubernetesVersion::parse("1.31"),
            Some(KubernetesVersion {
                major: 1,
                minor: 31
            })
        );
        for bad in ["1", "1.31.0", "v1.31", "1.031", "1.", ".31", "1.x", ""] {
            assert_eq!(KubernetesVersion::parse(bad), None, "{bad}");
        }
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        for bad in [
            "", "30", "m", "30 m", "-5m", "0s", "1d", "1.h", "5mm", "10mins",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
