//! Profiles: one word for a whole set of defaults.
//!
//! This table is the single place where paved's recommended defaults live. Planning
//! reads it to fill in every setting the user left out (and shows the effective value
//! in the plan), and the docs are generated from it. Every value can be overridden one
//! by one in the resource that uses it.

/// A named set of defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Multi-zone, redundant, protected: what production traffic needs.
    Production,
    /// Production's shape at lower cost: one NAT, no replicas, shorter retention.
    Staging,
    /// Smallest sensible footprint for development.
    Development,
}

/// The profile used when none is given.
pub const DEFAULT_PROFILE: Profile = Profile::Production;

/// Every profile, in the order the docs list them.
pub const ALL: [Profile; 3] = [Profile::Production, Profile::Staging, Profile::Development];

/// NAT gateway layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatMode {
    /// One NAT gateway in every zone: no cross-zone dependency.
    PerZone,
    /// One NAT gateway for the whole network.
    Single,
}

/// The defaults one profile stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    /// Availability zones used.
    pub zones: u32,
    /// NAT gateway layout.
    pub nat: NatMode,
    /// System node pool minimum size.
    pub system_pool_min: u32,
    /// System node pool maximum size.
    pub system_pool_max: u32,
    /// Control-plane log types sent to the cloud's log service.
    pub control_plane_log_types: &'static [&'static str],
    /// Control-plane log retention, in days.
    pub control_plane_log_days: u32,
    /// Database standby in a second zone.
    pub db_multi_az: bool,
    /// Database read replicas.
    pub db_read_replicas: u32,
    /// Database automated backup retention, in days.
    pub db_backup_retention_days: u32,
    /// Take a final database snapshot on delete.
    pub db_final_snapshot: bool,
    /// Refuse destroy and replacement at plan time.
    pub deletion_protection: bool,
    /// Prometheus replicas.
    pub prometheus_replicas: u32,
    /// Prometheus retention, in days.
    pub prometheus_retention_days: u32,
    /// Prometheus keeps its data on a persistent volume.
    pub prometheus_persistent: bool,
    /// Each Prometheus replica's volume, in GB.
    pub prometheus_volume_gb: u32,
    /// The active series the stack is sized for (the warning when retention does
    /// not fit the volume assumes it).
    pub prometheus_expected_series: u32,
    /// Alertmanager replicas.
    pub alertmanager_replicas: u32,
    /// Loki log retention, in days.
    pub loki_retention_days: u32,
    /// Tempo trace retention, in days.
    pub tempo_retention_days: u32,
    /// Whether traces (Tempo, OTLP) are on by default.
    pub traces_enabled: bool,
    /// Whether destroy deletes the logs and traces buckets with the objects in them
    /// (otherwise a bucket holding data is refused).
    pub observability_force_destroy: bool,
    /// cluster-autoscaler replicas (with a PodDisruptionBudget when more than one).
    pub autoscaler_replicas: u32,
    /// The Pod Security Standards level enforced in team namespaces.
    pub pod_security: &'static str,
    /// Each team namespace's ResourceQuota: requests (CPU cores, memory GiB),
    /// limits are twice the requests; pods.
    pub team_quota: TeamQuota,
}

/// A team namespace's quota and the defaults of its LimitRange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamQuota {
    /// CPU requests, in cores (limits: twice).
    pub cpu: u32,
    /// Memory requests, in GiB (limits: twice).
    pub memory_gib: u32,
    /// Pods.
    pub pods: u32,
    /// A container's default CPU request, in millicores (limit: twice).
    pub default_cpu_m: u32,
    /// A container's default memory request, in MiB (limit: twice).
    pub default_memory_mib: u32,
}

const ALL_LOG_TYPES: &[&str] = &[
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];

const PRODUCTION: Defaults = Defaults {
    zones: 3,
    nat: NatMode::PerZone,
    system_pool_min: 3,
    system_pool_max: 9,
    control_plane_log_types: ALL_LOG_TYPES,
    control_plane_log_days: 90,
    db_multi_az: true,
    db_read_replicas: 1,
    db_backup_retention_days: 14,
    db_final_snapshot: true,
    deletion_protection: true,
    prometheus_replicas: 2,
    prometheus_retention_days: 15,
    prometheus_persistent: true,
    prometheus_volume_gb: 100,
    prometheus_expected_series: 500000,
    alertmanager_replicas: 3,
    loki_retention_days: 30,
    tempo_retention_days: 7,
    traces_enabled: true,
    observability_force_destroy: false,
    autoscaler_replicas: 2,
    pod_security: "restricted",
    team_quota: TeamQuota {
        cpu: 16,
        memory_gib: 64,
        pods: 200,
        default_cpu_m: 250,
        default_memory_mib: 256,
    },
};

const STAGING: Defaults = Defaults {
    zones: 3,
    nat: NatMode::Single,
    system_pool_min: 3,
    system_pool_max: 6,
    control_plane_log_types: &["api", "audit"],
    control_plane_log_days: 30,
    db_multi_az: false,
    db_read_replicas: 0,
    db_backup_retention_days: 7,
    db_final_snapshot: true,
    deletion_protection: false,
    prometheus_replicas: 1,
    prometheus_retention_days: 7,
    prometheus_persistent: true,
    prometheus_volume_gb: 50,
    prometheus_expected_series: 300000,
    alertmanager_replicas: 1,
    loki_retention_days: 7,
    tempo_retention_days: 3,
    traces_enabled: true,
    observability_force_destroy: true,
    autoscaler_replicas: 1,
    pod_security: "baseline",
    team_quota: TeamQuota {
        cpu: 8,
        memory_gib: 32,
        pods: 100,
        default_cpu_m: 100,
        default_memory_mib: 128,
    },
};

const DEVELOPMENT: Defaults = Defaults {
    zones: 2,
    nat: NatMode::Single,
    system_pool_min: 2,
    system_pool_max: 4,
    control_plane_log_types: &["api"],
    control_plane_log_days: 7,
    db_multi_az: false,
    db_read_replicas: 0,
    db_backup_retention_days: 1,
    db_final_snapshot: false,
    deletion_protection: false,
    prometheus_replicas: 1,
    prometheus_retention_days: 2,
    prometheus_persistent: true,
    prometheus_volume_gb: 20,
    prometheus_expected_series: 100000,
    alertmanager_replicas: 1,
    loki_retention_days: 2,
    tempo_retention_days: 1,
    traces_enabled: false,
    observability_force_destroy: true,
    autoscaler_replicas: 1,
    pod_security: "baseline",
    team_quota: TeamQuota {
        cpu: 4,
        memory_gib: 16,
        pods: 50,
        default_cpu_m: 100,
        default_memory_mib: 128,
    },
};

impl Profile {
    /// The name used in HCL.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Production => "production",
            Profile::Staging => "staging",
            Profile::Development => "development",
        }
    }

    /// Parses the HCL name.
    pub fn parse(name: &str) -> Option<Profile> {
        ALL.into_iter().find(|p| p.name() == name)
    }

    /// The defaults this profile stands for.
    pub fn defaults(self) -> &'static Defaults {
        match self {
            Profile::Production => &PRODUCTION,
            Profile::Staging => &STAGING,
            Profile::Development => &DEVELOPMENT,
        }
    }
}

/// The allowed profile names, for error messages and docs: `"production", "staging"
/// or "development"`.
pub fn allowed_names() -> String {
    let names: Vec<String> = ALL.iter().map(|p| format!("\"{}\"", p.name())).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// A markdown table of one setting across the profiles, for generated docs.
pub fn markdown_row(label: &str, value: impl Fn(&Defaults) -> String) -> String {
    let cells: Vec<String> = ALL.iter().map(|p| value(p.defaults())).collect();
    format!("| {label} | {} |", cells.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_product_table() {
        for p in ALL {
            assert_eq!(Profile::parse(p.name()), Some(p));
        }
        assert_eq!(Profile::parse("prod"), None);
        assert_eq!(Profile::Production.defaults().zones, 3);
        assert_eq!(Profile::Development.defaults().zones, 2);
        assert_eq!(Profile::Staging.defaults().nat, NatMode::Single);
        assert_eq!(
            allowed_names(),
            "\"production\", \"staging\" or \"development\""
        );
        assert_eq!(
            markdown_row("zones", |d| d.zones.to_string()),
            "| zones | 3 | 3 | 2 |"
        );
    }
}
