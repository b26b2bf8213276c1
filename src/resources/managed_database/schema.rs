//! The `paved_managed_database` schema: what the user writes and what the plan shows.
//!
//! Attribute names are the product's words, not a cloud's API names. Every defaulted
//! attribute is optional and computed, so the plan shows its effective value, and
//! its `default_doc` says where the default comes from (the profile table in
//! [`crate::profiles`], the engine table in [`super::config::ENGINES`], or the
//! constants in [`super::config`]).
//!
//! Changes that the cloud applies in place (instance class, storage growth, backup
//! retention and windows, parameters, replicas, Multi-AZ) are applied immediately,
//! not at the next maintenance window: the plan is what happens at apply.

use paved_value::{Type, Value};

use crate::ports::database::{Engine, StorageType, DEFAULT_ENGINE, ENGINES};

use crate::profiles::{self, Profile};
use crate::schema::{Attribute, Block, Nesting, Schema};
use crate::stack::cost::cost_attributes;
use crate::stack::schema::{profile_default, tags_all_attribute, timeouts_block, TimeoutDoc};

/// "postgres `16`, mysql `8.0`, aurora-postgresql `16`".
fn per_engine(value: impl Fn(Engine) -> String) -> String {
    let parts: Vec<String> = ENGINES
        .iter()
        .map(|e| format!("{} `{}`", e.name, value(e.engine)))
        .collect();
    parts.join(", ")
}

const IN_PLACE: &str =
    "Changed in place and applied immediately (not at the next maintenance window).";

/// Default create timeout (a Multi-AZ instance with a replica takes a while).
pub const DEFAULT_CREATE_TIMEOUT: &str = "60m";

/// Default update timeout (a class change or storage growth).
pub const DEFAULT_UPDATE_TIMEOUT: &str = "80m";

/// Default delete timeout (replicas, then the final snapshot, then the instance).
pub const DEFAULT_DELETE_TIMEOUT: &str = "60m";

/// Daily backup window when none is given (UTC).
pub const DEFAULT_BACKUP_WINDOW: &str = "03:00-04:00";

/// Weekly maintenance window when none is given (UTC); it does not overlap
/// [`DEFAULT_BACKUP_WINDOW`].
pub const DEFAULT_MAINTENANCE_WINDOW: &str = "sun:05:00-sun:06:00";

/// Storage type when none is given.
pub const DEFAULT_STORAGE_TYPE: StorageType = StorageType::Gp3;

/// Storage autoscaling ceiling when `storage.max_size_gb` is not given: this many
/// times `storage.size_gb` (capped at [`MAX_STORAGE_GB`]).
pub const DEFAULT_MAX_STORAGE_FACTOR: u32 = 5;

/// The largest storage the cloud offers, in GB.
pub const MAX_STORAGE_GB: u32 = 65_536;

/// The longest database name paved accepts: RDS identifiers take 63 characters,
/// and replica names (`<name>-replica-<n>`) must fit too.
pub const MAX_NAME_LEN: usize = 50;

/// Automated backup retention the cloud accepts, in days.
pub const RETENTION_DAYS: (u32, u32) = (0, 35);

/// The schema, built once: the reader takes the declared defaults from it.
pub fn declared() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(schema)
}

/// The resource's schema.
pub fn schema() -> Schema {
    let engines: Vec<String> = ENGINES
        .iter()
        .map(|e| format!("`\"{}\"`", e.name))
        .collect();
    Schema::new(
        Block::new(
            "A managed relational database (RDS PostgreSQL or MySQL, or Aurora PostgreSQL; Cloud SQL on GCP): Multi-AZ, \
             read replicas in other zones, automated backups with point-in-time recovery, storage encrypted with a KMS \
             key, TLS enforced through a parameter group the resource owns, a subnet group across zones and a security \
             group that admits only what `network` lists. The master password is managed by the cloud (Secrets \
             Manager) and never enters the state: `master_secret_arn` names the secret. One `profile` sets every \
             default; the plan shows the effective value of each, the `inventory` of components and an `ha_report`.",
        )
        .attribute(Attribute::string("id").computed().keep_prior().description("The database instance's id in the cloud."))
        .attribute(Attribute::string("name")
                .requires_replace().required().description(format!(
            "The database's name (its instance identifier): 1 to {MAX_NAME_LEN} lowercase letters, digits and hyphens, \
             starting with a letter. Every component is named and tagged after it. Changing it replaces the database."
        )))
        .attribute(
            Attribute::string("profile")
                .optional_computed()
                .description(format!(
                    "One word for a whole set of defaults: {}. Every default can be overridden one by one.",
                    profiles::allowed_names()
                ))
                .default_value(profiles::DEFAULT_PROFILE.name()),
        )
        .attribute(
            Attribute::string("engine")
                .requires_replace()
                .optional_computed()
                .description(format!(
                    "The database engine: {}. Changing it replaces the database.",
                    engines.join(", ")
                ))
                .default_value(DEFAULT_ENGINE.as_str()),
        )
        .attribute(
            Attribute::string("engine_version")
                .optional_computed()
                .description(
                    "The engine version: a major version (`\"16\"`, `\"8.0\"`) or a precise one (`\"16.4\"`, \
                     `\"8.0.39\"`). Minor upgrades happen in place. A major upgrade (15 to 16) needs \
                     `allow_major_version_upgrade = true`; downgrades are refused.",
                )
                .default_doc(format!(
                    "{}; the version chosen at create is kept afterwards",
                    per_engine(|e| e.info().default_version.to_string())
                )),
        )
        .attribute(
            Attribute::string("instance_class")
                .optional_computed()
                .description(format!(
                    "The instance class, `db.<family>.<size>`. Aurora offers `db.r*` classes and, among burstable ones, \
                     only `db.t3`/`db.t4g` `medium` and `large`. {IN_PLACE} A class change restarts the instance \
                     (a failover of a few seconds with Multi-AZ)."
                ))
                .default_doc(format!(
                    "from the profile: production `{}` (Aurora `{}`), staging `{}`, development `{}` (Aurora `{}`)",
                    Engine::Postgres.default_instance_class(Profile::Production),
                    Engine::AuroraPostgresql.default_instance_class(Profile::Production),
                    Engine::Postgres.default_instance_class(Profile::Staging),
                    Engine::Postgres.default_instance_class(Profile::Development),
                    Engine::AuroraPostgresql.default_instance_class(Profile::Development),
                )),
        )
        .attribute(storage())
        .attribute(
            Attribute::bool("multi_az")
                .optional_computed()
                .description(format!(
                    "A synchronous standby in a second zone, promoted automatically when the primary's zone fails. \
                     {IN_PLACE}"
                ))
                .default(profile_default(|d| Value::from(d.db_multi_az))),
        )
        .attribute(
            Attribute::number("read_replicas")
                .optional_computed()
                .description(format!(
                    "How many read replicas to run, each in a zone other than the primary's. {IN_PLACE} Replicas are \
                     added or removed (the highest-numbered first)."
                ))
                .default(profile_default(|d| Value::from(i64::from(d.db_read_replicas)))),
        )
        .attribute(backup())
        .attribute(
            Attribute::string("maintenance_window")
                .optional_computed()
                .description(
                    "The weekly window for the cloud's maintenance, `ddd:hh24:mi-ddd:hh24:mi` in UTC, at least 30 \
                     minutes, not overlapping the backup window.",
                )
                .default_value(DEFAULT_MAINTENANCE_WINDOW),
        )
        .attribute(
            Attribute::map("parameters", Type::String)
                .optional()
                .description(format!(
                    "Engine parameters set in the parameter group paved owns (`max_connections`, \
                     `log_min_duration_statement`, ...). Names paved does not know are warned about. TLS is enforced: \
                     `rds.force_ssl` / `require_secure_transport` cannot be turned off. {IN_PLACE} Static parameters \
                     take effect at the next restart."
                )),
        )
        .attribute(network())
        .attribute(
            Attribute::string("encryption_key_arn")
                .requires_replace()
                .optional_computed()
                .description(
                    "The KMS key that encrypts storage, snapshots and backups. When not set, paved creates one with \
                     rotation on and shows its ARN here. Changing the key replaces the database.",
                )
                .default_doc("a key paved creates"),
        )
        .attribute(
            Attribute::bool("deletion_protection")
                .optional_computed()
                .description(
                    "Refuse, at plan time, to destroy or replace the database (and turn the cloud's own deletion \
                     protection on). To remove a protected database, set it to `false`, apply, then destroy.",
                )
                .default(profile_default(|d| Value::from(d.deletion_protection))),
        )
        .attribute(
            Attribute::bool("iam_authentication")
                .optional_computed()
                .description(
                    "Also let the cloud's identities log in (IAM database authentication: RDS \
                     `EnableIAMDatabaseAuthentication`; on Cloud SQL the engine's `cloudsql.iam_authentication` or \
                     `cloudsql_iam_authentication` flag), beside the master password, which stays in the cloud's \
                     secret store. Changed in place.",
                )
                .default_value(false),
        )
        .attribute(
            Attribute::bool("final_snapshot")
                .optional_computed()
                .description(
                    "Take a final snapshot on delete, named `<name>-final-<yyyymmddhhmm>` (UTC). It outlives the \
                     resource and can be used in `restore.snapshot_id`.",
                )
                .default(profile_default(|d| Value::from(d.db_final_snapshot))),
        )
        .attribute(
            Attribute::nested(
                "restore",
                Nesting::Single,
                vec![
                    Attribute::string("snapshot_id")
                        .optional()
                        .description("Restore this snapshot (id or ARN)."),
                    Attribute::string("source_db_instance_id")
                        .optional()
                        .description(
                            "Restore another instance to a point in time; with `restore_time` or \
                             `use_latest_restorable_time`.",
                        ),
                    Attribute::string("restore_time")
                        .optional()
                        .description("The point in time, RFC 3339 (`\"2026-01-31T12:00:00Z\"`)."),
                    Attribute::bool("use_latest_restorable_time")
                        .optional()
                        .description("Restore to the latest time the source can be restored to."),
                ],
            )
            .optional()
            .requires_replace()
            .description(
                "Create the database from a snapshot (`snapshot_id`) or as a point-in-time copy of another instance \
                 (`source_db_instance_id` with `restore_time` or `use_latest_restorable_time`), instead of empty. \
                 Used at create only; changing it replaces the database.",
            ),
        )
        .attribute(
            Attribute::bool("allow_major_version_upgrade")
                .optional_computed()
                .description(
                    "Allow a change of `engine_version` to another major version. A major upgrade takes the database \
                     offline while it runs and cannot be undone; take a snapshot first.",
                )
                .default_value(false),
        )
        .attribute(Attribute::map("tags", Type::String).optional().description(
            "Tags added to every component, besides the provider's default tags and the `paved:*` tags paved uses to \
             find its components.",
        ))
        .attribute(tags_all_attribute())
        .attributes(cost_attributes())
        .attribute(Attribute::string("endpoint").computed().keep_prior().description(
            "The primary's (writer's) DNS name. It follows a Multi-AZ failover.",
        ))
        .attribute(Attribute::number("port").computed().description(format!(
            "The port the database listens on: {}.",
            per_engine(|e| e.info().port.to_string())
        )))
        .attribute(
            Attribute::list("reader_endpoints", Type::String)
                .computed()
                .description("The read replicas' DNS names, in replica order."),
        )
        .attribute(Attribute::string("master_secret_arn").computed().keep_prior().description(
            "The ARN of the cloud-managed secret (Secrets Manager) that holds the master user's password. The \
             password itself never enters the Terraform state; read it from the secret.",
        ))
        .attribute(
            Attribute::map("replica_status", Type::String)
                .computed()
                .description("Each read replica's status (`available`, `replicating`...), by replica name."),
        )
        .attribute(Attribute::string("latest_restorable_time").computed().description(
            "The latest time the database can be restored to (RFC 3339), as of the last refresh.",
        ))
        .attribute(
            Attribute::nested(
                "inventory",
                Nesting::List,
                vec![
                    Attribute::string("key").computed().description(
                        "The component's key within the stack (`instance`, `replica.0`); it is also a tag on the \
                         component.",
                    ),
                    Attribute::string("kind").computed().description(
                        "What the component is (`db_instance`, `db_replica`, `parameter_group`, ...).",
                    ),
                    Attribute::string("zone")
                        .computed()
                        .description("The zone it lives in, once known; null for regional components."),
                    Attribute::string("id").computed().description("Its id in the cloud."),
                ],
            )
            .computed()
            .description("Every component of the stack, in creation order: known at plan time, ids once created."),
        )
        .attribute(
            Attribute::nested(
                "ha_report",
                Nesting::Single,
                vec![
                    Attribute::number("zones_used")
                        .computed()
                        .description("How many zones hold a copy of the data (primary, standby, replicas), at most."),
                    Attribute::bool("survives_zone_loss").computed().description(
                        "Whether the data stays available when one zone fails: Multi-AZ, or a read replica in \
                         another zone.",
                    ),
                    Attribute::list("findings", Type::String)
                        .computed()
                        .description("What the judgement rests on, in plain words."),
                ],
            )
            .computed()
            .description("How well the database survives the loss of a zone, judged at plan time."),
        )
        .block(timeouts_block(
            DEFAULT_CREATE_TIMEOUT,
            TimeoutDoc {
                default: DEFAULT_UPDATE_TIMEOUT,
                description: "Update timeout (class changes and storage growth can take long).",
            },
            TimeoutDoc {
                default: DEFAULT_DELETE_TIMEOUT,
                description: "Delete timeout (replicas, then the final snapshot, then the instance).",
            },
        )),
    )
}

fn storage() -> Attribute {
    Attribute::nested(
        "storage",
        Nesting::Single,
        vec![
            Attribute::number("size_gb")
                .optional_computed()
                .description(format!(
                    "Allocated storage, in GB: at least 20 (gp3) or 100 (io2), at most {MAX_STORAGE_GB}. It can grow \
                     in place (applied immediately) but never shrink. Not used by Aurora, whose storage grows on its own."
                ))
                .default_doc(per_engine(|e| e.default_storage_gb().to_string())),
            Attribute::number("max_size_gb")
                .optional_computed()
                .description(
                    "Storage autoscaling ceiling, in GB: the cloud grows storage up to it when space runs low. Equal \
                     to `size_gb` turns autoscaling off.",
                )
                .default_doc(format!(
                    "{DEFAULT_MAX_STORAGE_FACTOR} times `size_gb`, at most {MAX_STORAGE_GB}"
                )),
            Attribute::string("type")
                .optional_computed()
                .description("The volume type: `\"gp3\"` (general purpose) or `\"io2\"` (provisioned IOPS).")
                .default_value(DEFAULT_STORAGE_TYPE.as_str()),
        ],
    )
    .optional_computed()
    .description("The database's storage, encrypted with `encryption_key_arn`.")
    .default_doc("from the engine")
}

fn backup() -> Attribute {
    let (lo, hi) = RETENTION_DAYS;
    Attribute::nested(
        "backup",
        Nesting::Single,
        vec![
            Attribute::number("retention_days")
                .optional_computed()
                .description(format!(
                    "How long automated backups (and point-in-time recovery) reach back, {lo} to {hi} days; 0 turns \
                     them off, which production refuses. {IN_PLACE}"
                ))
                .default(profile_default(|d| Value::from(i64::from(d.db_backup_retention_days)))),
            Attribute::string("window")
                .optional_computed()
                .description(format!(
                    "The daily backup window, `hh24:mi-hh24:mi` in UTC, at least 30 minutes, not overlapping \
                     `maintenance_window`. {IN_PLACE}"
                ))
                .default_value(DEFAULT_BACKUP_WINDOW),
            Attribute::string("copy_to_region")
                .optional()
                .description(
                    "A second region automated backups are copied to (3-2-1: a copy away from the primary region).",
                ),
        ],
    )
    .optional_computed()
    .description("Automated backups and point-in-time recovery.")
    .default_doc("from the profile")
}

fn network() -> Attribute {
    Attribute::nested(
        "network",
        Nesting::Single,
        vec![
            Attribute::string("vpc_id")
                .requires_replace()
                .required()
                .description("The VPC the database lives in. Changing it replaces the database."),
            Attribute::list("subnet_ids", Type::String).required().description(
                "Private subnets for the subnet group, in two zones or more (Multi-AZ and replicas need them). \
                 Changed in place.",
            ),
            Attribute::list("allowed_security_group_ids", Type::String)
                .optional()
                .description(
                    "Security groups admitted to the database port, such as the cluster nodes' security group.",
                ),
            Attribute::list("allowed_cidrs", Type::String)
                .optional()
                .description("Address ranges admitted to the database port."),
        ],
    )
    .required()
    .description(
        "Where the database lives and who may reach it. paved creates a subnet group over `subnet_ids` and a security \
         group that admits only the listed security groups and ranges, on the database port.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Presence;
    use crate::stack::schema_testing::walk;

    #[test]
    fn every_attribute_is_described_and_every_default_documented() {
        let s = schema();
        walk(&s.block.attributes, &mut |a| {
            assert!(!a.description.is_empty(), "{} has no description", a.name);
            if a.presence == Presence::OptionalComputed {
                assert!(a.default.is_some(), "{} has no default", a.name);
            }
        });
        let class = s.block.find_attribute("instance_class").unwrap();
        assert!(class
            .default_text()
            .as_deref()
            .unwrap()
            .contains("production `db.m6g.large`"));
        let multi_az = s.block.find_attribute("multi_az").unwrap();
        assert_eq!(
            multi_az.default_text().as_deref(),
            Some("from the profile: production `true`, staging `false`, development `false`")
        );
    }

    #[test]
    fn no_secret_but_the_arn() {
        let s = schema();
        let mut names = Vec::new();
        walk(&s.block.attributes, &mut |a| {
            assert!(
                !a.sensitive,
                "{} is sensitive: no secret belongs in state",
                a.name
            );
            names.push(a.name.clone());
        });
        for banned in ["password", "master_password", "secret", "connection_string"] {
            assert!(
                !names
                    .iter()
                    .any(|n| n.contains(banned) && n != "master_secret_arn"),
                "{banned}"
            );
        }
        assert!(names.contains(&"master_secret_arn".to_string()));
    }
}
