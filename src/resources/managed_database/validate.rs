//! Checks of a `paved_managed_database` made before any cloud call.
//!
//! [`check`] looks at one effective configuration, [`check_change`] at a change from
//! a prior state (version upgrades, storage shrink), and [`check_subnet_zones`] at
//! the zones of the subnets, once a backend has read them (they are not known
//! without a cloud call; at plan time only the number of subnets is checked). Each
//! problem is an error (the plan stops) or a warning (a risky choice), with the
//! attribute path it is about and a detail that says what to do. Values not yet
//! known are skipped: they are checked again at plan time.

pub use super::schema::{MAX_NAME_LEN, RETENTION_DAYS};
use std::collections::BTreeSet;

use paved_value::Path;

use super::config::{DatabaseSpec, MAX_STORAGE_GB};

use crate::ports::database::{Engine, StorageType, MAX_READ_REPLICAS};

use crate::diag::Diagnostics;
use crate::profiles::Profile;
use crate::stack::validate::check_timeouts;
use crate::stack::Knowable;

/// Below this retention a production database gets a warning.
pub const PRODUCTION_MIN_RETENTION_DAYS: u32 = 7;
/// The smallest io2 volume, in GB.
pub const MIN_IO2_STORAGE_GB: u32 = 100;
/// The shortest backup or maintenance window the cloud accepts, in minutes.
pub const MIN_WINDOW_MINUTES: u32 = 30;

/// Instance class families each engine offers (`db.<family>.<size>`). Aurora has no
/// `db.m*` classes and among burstable classes only `medium` and `large`.
///
/// | engine | families | burstable sizes |
/// |---|---|---|
/// | `postgres`, `mysql` | t3, t4g, m5, m6g, m6i, m7g, r5, r6g, r6i, r7g, x2g | all |
/// | `aurora-postgresql` | t3, t4g, r5, r6g, r6i, r7g, x2g | medium, large |
pub const INSTANCE_FAMILIES: &[(Engine, &[&str])] = &[
    (
        Engine::Postgres,
        &[
            "t3", "t4g", "m5", "m6g", "m6i", "m7g", "r5", "r6g", "r6i", "r7g", "x2g",
        ],
    ),
    (
        Engine::Mysql,
        &[
            "t3", "t4g", "m5", "m6g", "m6i", "m7g", "r5", "r6g", "r6i", "r7g", "x2g",
        ],
    ),
    (
        Engine::AuroraPostgresql,
        &["t3", "t4g", "r5", "r6g", "r6i", "r7g", "x2g"],
    ),
];

/// Burstable sizes Aurora offers.
pub const AURORA_BURSTABLE_SIZES: &[&str] = &["medium", "large"];

/// Well-known parameter names of the PostgreSQL family (PostgreSQL and Aurora
/// PostgreSQL). Names outside this list are warned about, not refused: the list is
/// short on purpose, and the cloud has the last word.
pub const POSTGRES_PARAMETERS: &[&str] = &[
    "rds.force_ssl",
    "max_connections",
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "effective_cache_size",
    "log_min_duration_statement",
    "log_statement",
    "log_connections",
    "log_disconnections",
    "shared_preload_libraries",
    "statement_timeout",
    "idle_in_transaction_session_timeout",
    "random_page_cost",
    "timezone",
    "autovacuum",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_analyze_scale_factor",
    "track_io_timing",
    "pg_stat_statements.track",
    "rds.logical_replication",
    "max_wal_size",
    "checkpoint_timeout",
];

/// Well-known parameter names of MySQL.
pub const MYSQL_PARAMETERS: &[&str] = &[
    "require_secure_transport",
    "max_connections",
    "innodb_buffer_pool_size",
    "innodb_log_file_size",
    "slow_query_log",
    "long_query_time",
    "general_log",
    "character_set_server",
    "collation_server",
    "time_zone",
    "sql_mode",
    "binlog_format",
    "max_allowed_packet",
    "wait_timeout",
    "innodb_lock_wait_timeout",
    "log_bin_trust_function_creators",
    "transaction_isolation",
    "performance_schema",
];

/// Values that turn a boolean parameter off.
const OFF_VALUES: &[&str] = &["0", "off", "false", "no"];

/// All checks of one effective configuration.
pub fn check(spec: &DatabaseSpec) -> Diagnostics {
    let mut d = Diagnostics::new();
    check_name(spec, &mut d);
    check_version(spec, &mut d);
    check_instance_class(spec, &mut d);
    check_storage(spec, &mut d);
    check_replicas(spec, &mut d);
    check_backup(spec, &mut d);
    check_windows(spec, &mut d);
    check_parameters(spec, &mut d);
    check_network(spec, &mut d);
    check_restore(spec, &mut d);
    check_timeouts(&spec.timeouts, &mut d);
    d
}

/// Checks of a change from `prior` (the spec the current state records) to `spec`:
/// major version upgrades need `allow_major_version_upgrade`, versions never go
/// down, and storage never shrinks.
pub fn check_change(prior: &DatabaseSpec, spec: &DatabaseSpec) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let (
        Knowable::Known(engine),
        Knowable::Known(prior_engine),
        Knowable::Known(from),
        Knowable::Known(to),
    ) = (
        &spec.engine,
        &prior.engine,
        &prior.engine_version,
        &spec.engine_version,
    ) {
        if engine == prior_engine {
            check_version_change(*engine, from, to, spec, &mut d);
        }
    }
    if let (Knowable::Known(before), Knowable::Known(after)) =
        (&prior.storage.size_gb, &spec.storage.size_gb)
    {
        if after < before {
            d.attribute_error(
                Path::root().attr("storage").attr("size_gb"),
                "Storage cannot shrink",
                format!(
                    "The database has {before} GB of storage; the cloud cannot shrink allocated storage to {after} GB. \
                     Set storage.size_gb = {before} (or more) again. To use less storage, restore a snapshot into a new \
                     database with the smaller size."
                ),
            );
        }
    }
    d
}

fn check_version_change(
    engine: Engine,
    from: &str,
    to: &str,
    spec: &DatabaseSpec,
    d: &mut Diagnostics,
) {
    let (Some(from_major), Some(to_major)) = (engine.major_of(from), engine.major_of(to)) else {
        return;
    };
    if from_major == to_major {
        return;
    }
    let majors = engine.info().major_versions;
    let rank = |m: &str| majors.iter().position(|v| *v == m);
    let path = Path::root().attr("engine_version");
    match (rank(&from_major), rank(&to_major)) {
        (Some(a), Some(b)) if b < a => d.attribute_error(
            path,
            "Engine version cannot go down",
            format!(
                "The database runs {} {from}; it cannot be downgraded to {to}. Set engine_version = \"{from}\" again; \
                 to run {to}, restore a dump into a new database.",
                engine.as_str()
            ),
        ),
        _ if spec.allow_major_version_upgrade != Knowable::Known(true) => d.attribute_error(
            path,
            "Major version upgrade not allowed",
            format!(
                "Changing engine_version from {from} to {to} is a major version upgrade: it takes the database offline \
                 while it runs and cannot be undone. To go ahead, set allow_major_version_upgrade = true (take a \
                 snapshot first); otherwise set engine_version = \"{from}\" again."
            ),
        ),
        _ => {}
    }
}

/// Checks that the subnets span two zones or more when the spec needs it (Multi-AZ
/// or read replicas in other zones). `zones_of_subnets` holds the zone of each
/// subnet of `network.subnet_ids`, in the same order, as a backend read them.
pub fn check_subnet_zones(spec: &DatabaseSpec, zones_of_subnets: &[String]) -> Diagnostics {
    let mut d = Diagnostics::new();
    let zones: BTreeSet<&str> = zones_of_subnets.iter().map(String::as_str).collect();
    if zones.len() >= 2 {
        return d;
    }
    let needs = needs_two_zones(spec);
    if needs.is_empty() {
        return d;
    }
    d.attribute_error(
        Path::root().attr("network").attr("subnet_ids"),
        "Subnets in one zone",
        format!(
            "{} need the subnet group to span two zones or more, but the subnets are all in {}. Add a subnet of \
             another zone to network.subnet_ids.",
            needs.join(" and "),
            zones.into_iter().next().unwrap_or("no zone"),
        ),
    );
    d
}

/// What in the spec needs a second zone: `multi_az`, `read_replicas`.
fn needs_two_zones(spec: &DatabaseSpec) -> Vec<&'static str> {
    let mut needs = Vec::new();
    if spec.multi_az == Knowable::Known(true) {
        needs.push("multi_az = true");
    }
    if matches!(spec.read_replicas, Knowable::Known(n) if n > 0) {
        needs.push("read replicas");
    }
    needs
}

/// Why `name` is not a usable database name, if it is not.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Some(format!(
            "The name must be 1 to {MAX_NAME_LEN} characters long."
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some("The name must start with a lowercase letter.".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some("Use only lowercase letters, digits and hyphens.".into());
    }
    if name.ends_with('-') || name.contains("--") {
        return Some("The name cannot end with a hyphen or contain two hyphens in a row.".into());
    }
    None
}

fn check_name(spec: &DatabaseSpec, d: &mut Diagnostics) {
    if let Knowable::Known(name) = &spec.name {
        if let Some(problem) = name_problem(name) {
            d.attribute_error(
                Path::root().attr("name"),
                "Invalid database name",
                format!("\"{name}\" cannot be used: {problem}"),
            );
        }
    }
}

fn check_version(spec: &DatabaseSpec, d: &mut Diagnostics) {
    let (Knowable::Known(engine), Knowable::Known(version)) = (&spec.engine, &spec.engine_version)
    else {
        return;
    };
    let info = engine.info();
    let ok = engine
        .major_of(version)
        .is_some_and(|m| info.major_versions.contains(&m.as_str()));
    if !ok {
        d.attribute_error(
            Path::root().attr("engine_version"),
            "Engine version does not match the engine",
            format!(
                "\"{version}\" is not a version of {}. Use one of the major versions {} (optionally with a minor \
                 version, such as \"{}\"), or leave engine_version out for {}.",
                info.name,
                info.major_versions.join(", "),
                info.default_version,
                info.default_version
            ),
        );
    }
}

/// The family and size of `db.<family>.<size>`; `None` when malformed.
pub fn parse_instance_class(class: &str) -> Option<(&str, &str)> {
    let rest = class.strip_prefix("db.")?;
    let (family, size) = rest.split_once('.')?;
    let family_ok = family.starts_with(|c: char| c.is_ascii_lowercase())
        && family
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let size_ok = !size.is_empty()
        && size
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (family_ok && size_ok).then_some((family, size))
}

fn check_instance_class(spec: &DatabaseSpec, d: &mut Diagnostics) {
    let Knowable::Known(class) = &spec.instance_class else {
        return;
    };
    let path = Path::root().attr("instance_class");
    let Some((family, size)) = parse_instance_class(class) else {
        d.attribute_error(
            path,
            "Malformed instance class",
            format!("\"{class}\" is not an instance class. Write it as db.<family>.<size>, such as \"db.m6g.large\"."),
        );
        return;
    };
    let Knowable::Known(engine) = spec.engine else {
        return;
    };
    let families = INSTANCE_FAMILIES
        .iter()
        .find(|(e, _)| *e == engine)
        .map_or(&[][..], |(_, f)| *f);
    let burstable = family.starts_with('t');
    let offered = families.contains(&family)
        && !(engine == Engine::AuroraPostgresql
            && burstable
            && !AURORA_BURSTABLE_SIZES.contains(&size));
    if !offered {
        let hint = if engine == Engine::AuroraPostgresql {
            "Aurora offers memory-optimised classes (db.r6g.large, db.r7g.large, ...) and, for small databases, \
             db.t4g.medium or db.t4g.large"
                .to_string()
        } else {
            format!("use a class of the families {}", families.join(", "))
        };
        d.attribute_error(
            path,
            "Instance class not offered for the engine",
            format!("{} does not run on \"{class}\": {hint}.", engine.as_str()),
        );
    }
}

fn check_storage(spec: &DatabaseSpec, d: &mut Diagnostics) {
    let path = Path::root().attr("storage");
    let Knowable::Known(engine) = spec.engine else {
        return;
    };
    let min = match spec.storage.storage_type {
        Knowable::Known(StorageType::Io2) if engine.info().min_storage_gb > 0 => MIN_IO2_STORAGE_GB,
        _ => engine.info().min_storage_gb,
    };
    if let Knowable::Known(size) = spec.storage.size_gb {
        if size < min {
            d.attribute_error(
                path.clone().attr("size_gb"),
                "Storage too small",
                format!(
                    "{} on {} storage needs at least {min} GB; {size} GB was given. Set storage.size_gb to {min} or more.",
                    engine.as_str(),
                    spec.storage
                        .storage_type
                        .known()
                        .map_or("this", |t| t.as_str())
                ),
            );
        }
        if size > MAX_STORAGE_GB {
            d.attribute_error(
                path.clone().attr("size_gb"),
                "Storage too large",
                format!("{size} GB is more than the {MAX_STORAGE_GB} GB the cloud offers."),
            );
        }
    }
    if let Knowable::Known(max) = spec.storage.max_size_gb {
        if max > MAX_STORAGE_GB {
            d.attribute_error(
                path.clone().attr("max_size_gb"),
                "Storage ceiling too large",
                format!("{max} GB is more than the {MAX_STORAGE_GB} GB the cloud offers."),
            );
        }
        if let Knowable::Known(size) = spec.storage.size_gb {
            if max < size {
                d.attribute_error(
                    path.attr("max_size_gb"),
                    "Storage ceiling below the storage size",
                    format!(
                        "storage.max_size_gb ({max}) is below storage.size_gb ({size}): autoscaling can only grow. \
                         Set it to {size} (no autoscaling) or more."
                    ),
                );
            }
        }
    }
}

fn check_backup(spec: &DatabaseSpec, d: &mut Diagnostics) {
    let Knowable::Known(days) = spec.backup.retention_days else {
        return;
    };
    let path = Path::root().attr("backup").attr("retention_days");
    let (lo, hi) = RETENTION_DAYS;
    if days > hi {
        d.attribute_error(
            path.clone(),
            "Backup retention out of range",
            format!("{days} days is not allowed: automated backups are kept {lo} to {hi} days."),
        );
        return;
    }
    let production = spec.profile == Knowable::Known(Profile::Production);
    if days == 0 && production {
        d.attribute_error(
            path.clone(),
            "Production database without backups",
            format!(
                "backup.retention_days = 0 turns automated backups and point-in-time recovery off, which the \
                 production profile does not allow. Keep backups ({PRODUCTION_MIN_RETENTION_DAYS} days or more), or \
                 use another profile."
            ),
        );
    } else if days < PRODUCTION_MIN_RETENTION_DAYS && production {
        d.attribute_warning(
            path.clone(),
            "Short backup retention in production",
            format!(
                "Backups are kept {days} day(s): a problem noticed later than that cannot be recovered from. \
                 {PRODUCTION_MIN_RETENTION_DAYS} days or more is recommended for production."
            ),
        );
    }
    if days == 0 && matches!(spec.read_replicas, Knowable::Known(n) if n > 0) {
        d.attribute_error(
            path,
            "Read replicas need backups",
            "Read replicas are built from automated backups: set backup.retention_days to 1 or more, or \
             read_replicas = 0.",
        );
    }
}

fn check_replicas(spec: &DatabaseSpec, d: &mut Diagnostics) {
    if let Knowable::Known(n) = spec.read_replicas {
        if n > MAX_READ_REPLICAS {
            d.attribute_error(
                Path::root().attr("read_replicas"),
                "Too many read replicas",
                format!(
                    "{n} read replicas were asked for; RDS allows at most {MAX_READ_REPLICAS} per \
                     database. Set read_replicas to {MAX_READ_REPLICAS} or fewer."
                ),
            );
        }
    }
}

/// A window as minutes of the week: `[start, end)` pieces, split at the week's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Start and end minutes from Monday 00:00, end exclusive; a window crossing the
    /// week's end is two pieces.
    pub pieces: Vec<(u32, u32)>,
    /// Length in minutes.
    pub minutes: u32,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEK: u32 = 7 * 24 * 60;

fn parse_time(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn parse_day_time(text: &str) -> Option<u32> {
    let (day, time) = text.split_once(':')?;
    let day = DAYS.iter().position(|d| *d == day.to_ascii_lowercase())?;
    Some(u32::try_from(day).ok()? * 24 * 60 + parse_time(time)?)
}

fn pieces(start: u32, end: u32, period: u32) -> Vec<(u32, u32)> {
    if end > start {
        vec![(start, end)]
    } else {
        vec![(start, period), (0, end)]
    }
}

/// Parses a daily window `hh24:mi-hh24:mi` (UTC) into its seven occurrences.
pub fn parse_daily_window(text: &str) -> Option<Window> {
    let (a, b) = text.split_once('-')?;
    let (start, end) = (parse_time(a)?, parse_time(b)?);
    if start == end {
        return None;
    }
    let day = 24 * 60;
    let minutes = (end + day - start) % day;
    let mut out = Vec::new();
    for d in 0..7 {
        let s = d * day + start;
        let e = (s + minutes) % WEEK;
        out.extend(pieces(s, e, WEEK));
    }
    Some(Window {
        pieces: out,
        minutes,
    })
}

/// Parses a weekly window `ddd:hh24:mi-ddd:hh24:mi` (UTC).
pub fn parse_weekly_window(text: &str) -> Option<Window> {
    let (a, b) = text.split_once('-')?;
    let (start, end) = (parse_day_time(a)?, parse_day_time(b)?);
    if start == end {
        return None;
    }
    Some(Window {
        pieces: pieces(start, end, WEEK),
        minutes: (end + WEEK - start) % WEEK,
    })
}

/// Whether two windows share a minute.
pub fn overlaps(a: &Window, b: &Window) -> bool {
    a.pieces
        .iter()
        .any(|(s1, e1)| b.pieces.iter().any(|(s2, e2)| s1 < e2 && s2 < e1))
}

fn check_windows(spec: &DatabaseSpec, d: &mut Diagnostics) {
    let backup_path = Path::root().attr("backup").attr("window");
    let maintenance_path = Path::root().attr("maintenance_window");
    let backup = spec
        .backup
        .window
        .known()
        .map(|w| (w, parse_daily_window(w)));
    let maintenance = spec
        .maintenance_window
        .known()
        .map(|w| (w, parse_weekly_window(w)));
    for (window, parsed, path, format, example) in [
        (
            backup.as_ref().map(|b| b.0),
            backup.as_ref().map(|b| b.1.clone()),
            &backup_path,
            "hh24:mi-hh24:mi",
            "\"03:00-04:00\"",
        ),
        (
            maintenance.as_ref().map(|m| m.0),
            maintenance.as_ref().map(|m| m.1.clone()),
            &maintenance_path,
            "ddd:hh24:mi-ddd:hh24:mi",
            "\"sun:05:00-sun:06:00\"",
        ),
    ] {
        let Some(text) = window else { continue };
        match parsed.flatten() {
            None => d.attribute_error(
                path.clone(),
                "Malformed window",
                format!(
                    "\"{text}\" is not a window. Write it as {format} in UTC, such as {example}."
                ),
            ),
            Some(w) if w.minutes < MIN_WINDOW_MINUTES => d.attribute_error(
                path.clone(),
                "Window too short",
                format!(
                    "\"{text}\" lasts {} minutes; the cloud needs at least {MIN_WINDOW_MINUTES}.",
                    w.minutes
                ),
            ),
            Some(_) => {}
        }
    }
    if let (Some((b, Some(bw))), Some((m, Some(mw)))) = (&backup, &maintenance) {
        if overlaps(bw, mw) {
            d.attribute_error(
                maintenance_path,
                "Backup and maintenance windows overlap",
                format!(
                    "The maintenance window \"{m}\" overlaps the daily backup window \"{b}\"; the cloud refuses \
                     overlapping windows. Move one of them."
                ),
            );
        }
    }
}

/// The engine flags that turn IAM database authentication on, which
/// `iam_authentication` owns.
const IAM_FLAGS: [&str; 2] = ["cloudsql.iam_authentication", "cloudsql_iam_authentication"];

fn check_parameters(spec: &DatabaseSpec, d: &mut Diagnostics) {
    let (Knowable::Known(engine), Knowable::Known(parameters)) = (&spec.engine, &spec.parameters)
    else {
        return;
    };
    let known = if engine.is_postgres_family() {
        POSTGRES_PARAMETERS
    } else {
        MYSQL_PARAMETERS
    };
    let tls = engine.info().tls_parameter;
    for (name, value) in parameters {
        let path = Path::root().attr("parameters").key(name.as_str());
        if name == tls && OFF_VALUES.contains(&value.to_ascii_lowercase().as_str()) {
            d.attribute_error(
                path,
                "TLS cannot be turned off",
                format!(
                    "paved enforces TLS to the database: its parameter group sets {tls} on. Remove \"{name}\" from \
                     parameters and connect with TLS."
                ),
            );
        } else if IAM_FLAGS.contains(&name.as_str()) {
            d.attribute_error(
                path,
                "IAM authentication has its own setting",
                format!("Remove \"{name}\" from parameters and set iam_authentication = true (or false)."),
            );
        } else if !known.contains(&name.as_str()) {
            d.attribute_warning(
                path,
                "Parameter not known to paved",
                format!(
                    "\"{name}\" is not among the {} parameters paved knows; the cloud will refuse it if the engine \
                     does not have it. Check the spelling.",
                    engine.as_str()
                ),
            );
        }
    }
}

fn check_network(spec: &DatabaseSpec, d: &mut Diagnostics) {
    let path = Path::root().attr("network");
    if spec.network.vpc_id == Knowable::Known(String::new()) {
        d.attribute_error(
            path.clone().attr("vpc_id"),
            "Missing network",
            "Set network.vpc_id (and network.subnet_ids): the database lives in an existing network, such as the \
             one of a paved_ha_cluster.",
        );
    }
    let Knowable::Known(subnets) = &spec.network.subnet_ids else {
        return;
    };
    let needs = needs_two_zones(spec);
    if subnets.len() < 2 {
        let why = if needs.is_empty() {
            "the cloud's subnet group needs subnets in two zones or more".to_string()
        } else {
            format!("{} need subnets in two zones or more", needs.join(" and "))
        };
        d.attribute_error(
            path.attr("subnet_ids"),
            "Too few subnets",
            format!(
                "{} subnet(s) given: {why}. List at least two subnets, each in a different zone.",
                subnets.len()
            ),
        );
    }
}

fn check_restore(spec: &DatabaseSpec, d: &mut Diagnostics) {
    let Knowable::Known(Some(r)) = &spec.restore else {
        return;
    };
    let path = Path::root().attr("restore");
    let set = |k: &Knowable<Option<String>>| !matches!(k, Knowable::Known(None));
    let (snapshot, source, time) = (
        set(&r.snapshot_id),
        set(&r.source_db_instance_id),
        set(&r.restore_time),
    );
    let latest = r.use_latest_restorable_time != Knowable::Known(false);
    if snapshot && source {
        d.attribute_error(
            path.clone().attr("source_db_instance_id"),
            "Two restore sources",
            "Set either restore.snapshot_id (restore a snapshot) or restore.source_db_instance_id (restore to a \
             point in time), not both.",
        );
    }
    if time && latest {
        d.attribute_error(
            path.clone().attr("use_latest_restorable_time"),
            "Two restore points",
            "Set either restore.restore_time or restore.use_latest_restorable_time = true, not both.",
        );
    }
    if source && !time && !latest {
        d.attribute_error(
            path.clone().attr("source_db_instance_id"),
            "No restore point",
            "A point-in-time restore needs restore.restore_time (RFC 3339, such as \"2026-01-31T12:00:00Z\") or \
             restore.use_latest_restorable_time = true.",
        );
    }
    if (time || latest) && !source {
        d.attribute_error(
            path.clone().attr("source_db_instance_id"),
            "No restore source",
            "restore.restore_time and restore.use_latest_restorable_time need restore.source_db_instance_id: the \
             instance to restore to a point in time of.",
        );
    }
    if !snapshot && !source && !time && !latest {
        d.attribute_error(
            path,
            "Empty restore",
            "Set restore.snapshot_id, or restore.source_db_instance_id with a restore point; or remove the restore \
             block for an empty database.",
        );
    }
}

#[cfg(test)]
mod tests {
    use paved_value::Value;

    use super::*;
    use crate::diag::Severity;
    use crate::stack::schema_testing::{obj, strings};

    /// A valid configuration with `extra` attributes set (replacing the defaults).
    fn spec(extra: Vec<(&str, Value)>) -> DatabaseSpec {
        let mut pairs = vec![
            ("name", Value::from("orders")),
            (
                "network",
                obj(vec![
                    ("vpc_id", "vpc-1".into()),
                    ("subnet_ids", strings(&["subnet-a", "subnet-b"])),
                ]),
            ),
        ];
        for (k, v) in extra {
            pairs.retain(|(n, _)| *n != k);
            pairs.push((k, v));
        }
        let (spec, diags) = DatabaseSpec::from_config(&obj(pairs), &Value::Null);
        assert!(diags.is_empty(), "{diags:?}");
        spec
    }

    fn found(d: &Diagnostics, severity: Severity) -> Vec<String> {
        d.iter()
            .filter(|x| x.severity == severity)
            .filter_map(|x| x.path.as_ref().map(|p| p.to_string()))
            .collect()
    }

    fn errors(extra: Vec<(&str, Value)>) -> Vec<String> {
        found(&check(&spec(extra)), Severity::Error)
    }

    fn warnings(extra: Vec<(&str, Value)>) -> Vec<String> {
        found(&check(&spec(extra)), Severity::Warning)
    }

    #[test]
    fn a_valid_configuration_passes() {
        assert!(check(&spec(vec![])).is_empty());
        for profile in ["production", "staging", "development"] {
            for engine in ["postgres", "mysql", "aurora-postgresql"] {
                let d = check(&spec(vec![
                    ("profile", profile.into()),
                    ("engine", engine.into()),
                ]));
                assert!(d.is_empty(), "{profile} {engine}: {d:?}");
            }
        }
    }

    #[test]
    fn name_and_timeouts() {
        assert_eq!(errors(vec![("name", "Orders".into())]), ["name"]);
        assert_eq!(errors(vec![("name", "a--b".into())]), ["name"]);
        assert_eq!(
            errors(vec![("timeouts", obj(vec![("create", "soon".into())]))]),
            ["timeouts.create"]
        );
    }

    #[test]
    fn engine_version_must_match_the_engine() {
        assert_eq!(
            errors(vec![("engine_version", "8.0".into())]),
            ["engine_version"]
        );
        assert_eq!(
            errors(vec![
                ("engine", "mysql".into()),
                ("engine_version", "16.2".into())
            ]),
            ["engine_version"]
        );
        assert!(errors(vec![("engine_version", "16.4".into())]).is_empty());
        assert!(errors(vec![
            ("engine", "mysql".into()),
            ("engine_version", "8.0.39".into())
        ])
        .is_empty());
    }

    #[test]
    fn instance_class_is_checked() {
        assert_eq!(
            errors(vec![("instance_class", "m6g.large".into())]),
            ["instance_class"]
        );
        assert_eq!(
            errors(vec![
                ("engine", "aurora-postgresql".into()),
                ("instance_class", "db.m6g.large".into())
            ]),
            ["instance_class"]
        );
        assert_eq!(
            errors(vec![
                ("engine", "aurora-postgresql".into()),
                ("instance_class", "db.t4g.micro".into())
            ]),
            ["instance_class"]
        );
        assert!(errors(vec![
            ("engine", "aurora-postgresql".into()),
            ("instance_class", "db.t4g.medium".into())
        ])
        .is_empty());
        assert_eq!(parse_instance_class("db.m6g.large"), Some(("m6g", "large")));
    }

    #[test]
    fn storage_limits() {
        let storage = |pairs: Vec<(&str, Value)>| vec![("storage", obj(pairs))];
        assert_eq!(
            errors(storage(vec![("size_gb", Value::from(10i64))])),
            ["storage.size_gb"]
        );
        assert_eq!(
            errors(storage(vec![
                ("size_gb", Value::from(70_000i64)),
                ("max_size_gb", Value::from(70_000i64))
            ])),
            ["storage.size_gb", "storage.max_size_gb"]
        );
        assert_eq!(
            errors(storage(vec![
                ("size_gb", Value::from(100i64)),
                ("max_size_gb", Value::from(50i64))
            ])),
            ["storage.max_size_gb"]
        );
        assert_eq!(
            errors(storage(vec![
                ("size_gb", Value::from(50i64)),
                ("type", "io2".into())
            ])),
            ["storage.size_gb"]
        );
    }

    #[test]
    fn read_replicas_at_most_the_clouds_limit() {
        let replicas = |n: i64| vec![("read_replicas", Value::from(n))];
        assert!(errors(replicas(15)).is_empty());
        assert_eq!(errors(replicas(16)), ["read_replicas"]);
        let d = check(&spec(replicas(16)));
        assert!(
            format!("{d:?}").contains("Set read_replicas to 15 or fewer"),
            "{d:?}"
        );
    }

    #[test]
    fn backups() {
        let retention = |n: i64| vec![("backup", obj(vec![("retention_days", Value::from(n))]))];
        assert_eq!(errors(retention(36)), ["backup.retention_days"]);
        let mut no_backups = retention(0);
        no_backups.push(("read_replicas", Value::from(0i64)));
        assert_eq!(errors(no_backups), ["backup.retention_days"]);
        assert_eq!(warnings(retention(3)), ["backup.retention_days"]);
        let mut dev = retention(0);
        dev.push(("profile", "development".into()));
        assert!(errors(dev.clone()).is_empty());
        dev.push(("read_replicas", Value::from(1i64)));
        assert_eq!(errors(dev), ["backup.retention_days"]);
    }

    #[test]
    fn subnets_and_zones() {
        let one = vec![(
            "network",
            obj(vec![
                ("vpc_id", "vpc-1".into()),
                ("subnet_ids", strings(&["subnet-a"])),
            ]),
        )];
        assert_eq!(errors(one), ["network.subnet_ids"]);
        assert_eq!(
            errors(vec![(
                "network",
                obj(vec![("subnet_ids", strings(&["a", "b"]))])
            )]),
            ["network.vpc_id"]
        );
        let s = spec(vec![]);
        let same = check_subnet_zones(&s, &["eu-west-1a".into(), "eu-west-1a".into()]);
        assert_eq!(found(&same, Severity::Error), ["network.subnet_ids"]);
        assert!(check_subnet_zones(&s, &["eu-west-1a".into(), "eu-west-1b".into()]).is_empty());
        let dev = spec(vec![("profile", "development".into())]);
        assert!(check_subnet_zones(&dev, &["eu-west-1a".into()]).is_empty());
    }

    #[test]
    fn windows() {
        assert_eq!(
            errors(vec![("maintenance_window", "sun:03:30-sun:04:30".into())]),
            ["maintenance_window"],
            "overlaps the default backup window"
        );
        assert_eq!(
            errors(vec![("backup", obj(vec![("window", "3:00-4:00".into())]))]),
            ["backup.window"]
        );
        assert_eq!(
            errors(vec![(
                "maintenance_window",
                "sunday:05:00-sunday:06:00".into()
            )]),
            ["maintenance_window"]
        );
        assert_eq!(
            errors(vec![(
                "backup",
                obj(vec![("window", "03:00-03:10".into())])
            )]),
            ["backup.window"]
        );
        // Crossing midnight and the week's end.
        let b = parse_daily_window("23:30-00:30").unwrap();
        let m = parse_weekly_window("sun:23:00-mon:01:00").unwrap();
        assert!(overlaps(&b, &m));
        let m = parse_weekly_window("sun:01:00-sun:02:00").unwrap();
        assert!(!overlaps(&b, &m));
    }

    #[test]
    fn parameters() {
        let params = |pairs: Vec<(&str, &str)>| {
            vec![(
                "parameters",
                Value::Map(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), Value::from(v)))
                        .collect(),
                ),
            )]
        };
        assert_eq!(
            errors(params(vec![("rds.force_ssl", "0")])),
            [r#"parameters["rds.force_ssl"]"#]
        );
        let mut mysql = params(vec![("require_secure_transport", "OFF")]);
        mysql.push(("engine", "mysql".into()));
        assert_eq!(errors(mysql), [r#"parameters["require_secure_transport"]"#]);
        assert_eq!(
            warnings(params(vec![("max_conections", "100")])),
            [r#"parameters["max_conections"]"#]
        );
        assert!(check(&spec(params(vec![("max_connections", "200")]))).is_empty());
        assert_eq!(
            errors(params(vec![("cloudsql.iam_authentication", "on")])),
            [r#"parameters["cloudsql.iam_authentication"]"#]
        );
    }

    #[test]
    fn restore() {
        let restore = |pairs: Vec<(&str, Value)>| vec![("restore", obj(pairs))];
        assert_eq!(
            errors(restore(vec![
                ("snapshot_id", "snap-1".into()),
                ("source_db_instance_id", "orders-old".into()),
                ("use_latest_restorable_time", true.into()),
            ])),
            ["restore.source_db_instance_id"]
        );
        assert_eq!(
            errors(restore(vec![
                ("source_db_instance_id", "orders-old".into()),
                ("restore_time", "2026-01-31T12:00:00Z".into()),
                ("use_latest_restorable_time", true.into()),
            ])),
            ["restore.use_latest_restorable_time"]
        );
        assert!(errors(restore(vec![("snapshot_id", "snap-1".into())])).is_empty());
    }

    #[test]
    fn changes() {
        let prior = spec(vec![("engine_version", "15.7".into())]);
        let d = check_change(&prior, &spec(vec![("engine_version", "16.3".into())]));
        assert_eq!(found(&d, Severity::Error), ["engine_version"]);
        assert!(d
            .iter()
            .any(|x| x.detail.contains("allow_major_version_upgrade = true")));
        let allowed = spec(vec![
            ("engine_version", "16.3".into()),
            ("allow_major_version_upgrade", true.into()),
        ]);
        assert!(check_change(&prior, &allowed).is_empty());
        assert!(check_change(&prior, &spec(vec![("engine_version", "15.8".into())])).is_empty());
        let d = check_change(&allowed, &prior);
        assert_eq!(found(&d, Severity::Error), ["engine_version"], "downgrade");

        let big = spec(vec![(
            "storage",
            obj(vec![("size_gb", Value::from(100i64))]),
        )]);
        let small = spec(vec![(
            "storage",
            obj(vec![("size_gb", Value::from(50i64))]),
        )]);
        let d = check_change(&big, &small);
        assert_eq!(found(&d, Severity::Error), ["storage.size_gb"]);
        assert!(check_change(&small, &big).is_empty());
    }
}
