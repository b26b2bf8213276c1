//! The effective configuration of a `paved_managed_database`: [`DatabaseSpec`].
//!
//! [`DatabaseSpec::from_config`] is the one place that turns what the user wrote into
//! what paved will build: every setting left out is filled from the profile table
//! ([`crate::profiles`]), from the engine table ([`ENGINES`]) or from the few built-in
//! defaults below, and every value not known until apply stays
//! [`Knowable::Unknown`]. Planning shows these effective values; the backend builds
//! from the same spec, so the plan and the apply cannot disagree.
//!
//! The engine version, when not given, is the engine's default version at create
//! and is then kept from the prior state, so a newer default in a later paved never
//! upgrades a database on its own.
//!
//! Words that decide defaults (`profile`, `engine`, `storage.type`) and numbers that
//! are not whole are reported here; every other check lives in [`super::validate`].

pub use super::schema::{
    DEFAULT_BACKUP_WINDOW, DEFAULT_CREATE_TIMEOUT, DEFAULT_DELETE_TIMEOUT,
    DEFAULT_MAINTENANCE_WINDOW, DEFAULT_MAX_STORAGE_FACTOR, DEFAULT_STORAGE_TYPE,
    DEFAULT_UPDATE_TIMEOUT, MAX_STORAGE_GB,
};
use std::collections::BTreeMap;

use paved_value::{Path, Value};

use crate::diag::Diagnostics;
use crate::ports::database::Engine;
use crate::ports::database::StorageType;
use crate::ports::database::ENGINES;
pub use crate::ports::key::EncryptionKey;
use crate::profiles::Profile;
use crate::schema::declared::check_block;
use crate::stack::reader::{classify, sub, Defaults as Declared, Reader, Slot, Written};
pub use crate::stack::timeouts::TimeoutsSpec;
pub use crate::stack::Knowable;

/// The effective storage settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSpec {
    /// Allocated storage, in GB.
    pub size_gb: Knowable<u32>,
    /// Storage autoscaling ceiling, in GB.
    pub max_size_gb: Knowable<u32>,
    /// Volume type.
    pub storage_type: Knowable<StorageType>,
}

/// The effective backup settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSpec {
    /// Automated backup retention, in days (0 turns backups off).
    pub retention_days: Knowable<u32>,
    /// Daily backup window, `hh24:mi-hh24:mi` UTC.
    pub window: Knowable<String>,
    /// A second region backups are copied to; `None` for no copy.
    pub copy_to_region: Knowable<Option<String>>,
}

/// The network the database lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    /// The VPC's id.
    pub vpc_id: Knowable<String>,
    /// Subnets of the subnet group, in two zones or more.
    pub subnet_ids: Knowable<Vec<String>>,
    /// Security groups admitted to the database port (the cluster's nodes).
    pub allowed_security_group_ids: Knowable<Vec<String>>,
    /// Address ranges admitted to the database port.
    pub allowed_cidrs: Knowable<Vec<String>>,
    /// Which of `allowed_security_group_ids` and `allowed_cidrs` were written.
    pub written: Written,
}

/// Where a restored database comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSpec {
    /// A snapshot to restore from.
    pub snapshot_id: Knowable<Option<String>>,
    /// An instance to restore to a point in time of.
    pub source_db_instance_id: Knowable<Option<String>>,
    /// The point in time (RFC 3339).
    pub restore_time: Knowable<Option<String>>,
    /// Restore to the latest restorable time of the source.
    pub use_latest_restorable_time: Knowable<bool>,
    /// Whether `use_latest_restorable_time` was written.
    pub written: Written,
}

/// The typed, effective configuration of a `paved_managed_database`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseSpec {
    /// The database's name (its instance identifier).
    pub name: Knowable<String>,
    /// The profile whose defaults apply.
    pub profile: Knowable<Profile>,
    /// The engine.
    pub engine: Knowable<Engine>,
    /// The engine version (`16`, `16.4`, `8.0.39`).
    pub engine_version: Knowable<String>,
    /// The instance class (`db.m6g.large`).
    pub instance_class: Knowable<String>,
    /// Storage.
    pub storage: StorageSpec,
    /// A standby in a second zone.
    pub multi_az: Knowable<bool>,
    /// Read replicas, in zones other than the primary's.
    pub read_replicas: Knowable<u32>,
    /// Automated backups.
    pub backup: BackupSpec,
    /// Weekly maintenance window, `ddd:hh24:mi-ddd:hh24:mi` UTC.
    pub maintenance_window: Knowable<String>,
    /// Engine parameters set in the parameter group paved owns.
    pub parameters: Knowable<BTreeMap<String, String>>,
    /// The network.
    pub network: NetworkSpec,
    /// The storage encryption key.
    pub encryption_key: Knowable<EncryptionKey>,
    /// Refuse destroy and replacement at plan time.
    pub deletion_protection: Knowable<bool>,
    /// IAM database authentication beside the master password.
    pub iam_authentication: Knowable<bool>,
    /// Take a final snapshot on delete.
    pub final_snapshot: Knowable<bool>,
    /// Restore source; `None` for an empty new database.
    pub restore: Knowable<Option<RestoreSpec>>,
    /// Allow a change of major version.
    pub allow_major_version_upgrade: Knowable<bool>,
    /// Tags added to every component.
    pub tags: Knowable<BTreeMap<String, String>>,
    /// Which of `parameters` and `tags` the configuration wrote.
    pub written: Written,
    /// Operation timeouts.
    pub timeouts: TimeoutsSpec,
}

/// The reads this resource makes in its own way, beside the shared ones.
trait ReaderExt {
    /// A list of strings; unknown when any element is not a string.
    fn strings(&mut self, s: Slot<'_>) -> Option<Knowable<Vec<String>>>;
}

impl ReaderExt for Reader {
    fn strings(&mut self, s: Slot<'_>) -> Option<Knowable<Vec<String>>> {
        let v = match s {
            Slot::Null => return None,
            Slot::Unknown => return Some(Knowable::Unknown),
            Slot::Known(v) => v,
        };
        let items = v.as_list()?;
        let out: Option<Vec<String>> = items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect();
        Some(out.map_or(Knowable::Unknown, Knowable::Known))
    }
}

fn optional(k: Option<Knowable<String>>) -> Knowable<Option<String>> {
    match k {
        None => Knowable::Known(None),
        Some(k) => k.map(Some),
    }
}

/// The ARN of the key paved created, if the prior inventory lists one.
fn created_key_arn(prior: &Value) -> Option<String> {
    let created = prior
        .get_attr("inventory")
        .and_then(Value::as_list)
        .is_some_and(|rows| {
            rows.iter()
                .any(|r| r.get_attr("kind").and_then(Value::as_str) == Some("kms_key"))
        });
    created
        .then(|| {
            prior
                .get_attr("encryption_key_arn")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .flatten()
}

impl DatabaseSpec {
    /// The effective configuration: `config` with every default filled in.
    ///
    /// `prior_state` is the resource's state before this change (null when
    /// creating); from it come the engine version chosen at create (when the
    /// configuration gives none and the engine is unchanged) and the ARN of a key
    /// paved created.
    pub fn from_config(config: &Value, prior_state: &Value) -> (DatabaseSpec, Diagnostics) {
        let mut r = Reader::default();
        let top = classify(config);
        let root = Path::root();
        let profile_word = r.string(sub(top, "profile"));
        let declared = Declared::new(
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
                    crate::validate::profile(&text, root.clone().attr("profile"), &mut r.diags);
                    Knowable::Unknown
                }
            },
        };
        let engine_names: Vec<&str> = ENGINES.iter().map(|e| e.name).collect();
        let engine = r
            .word(
                sub(top, "engine"),
                root.clone().attr("engine"),
                "engine",
                Engine::parse,
                &engine_names,
            )
            .unwrap_or_else(|| declared.string(&["engine"]).and_then(|e| Engine::parse(&e)));
        let engine_version = match r.string(sub(top, "engine_version")) {
            Some(k) => k,
            None => match &engine {
                Knowable::Unknown => Knowable::Unknown,
                Knowable::Known(e) => {
                    let same_engine =
                        prior_state.get_attr("engine").and_then(Value::as_str) == Some(e.as_str());
                    let prior_version = prior_state
                        .get_attr("engine_version")
                        .and_then(Value::as_str)
                        .filter(|_| same_engine);
                    Knowable::Known(
                        prior_version
                            .unwrap_or(e.info().default_version)
                            .to_string(),
                    )
                }
            },
        };
        let instance_class = r.string(sub(top, "instance_class")).unwrap_or_else(|| {
            engine
                .clone()
                .zip(profile.clone())
                .map(|(e, p)| e.default_instance_class(p).to_string())
        });

        let st = sub(top, "storage");
        let st_path = root.clone().attr("storage");
        let size_gb = r
            .count(sub(st, "size_gb"), st_path.clone().attr("size_gb"))
            .unwrap_or_else(|| engine.clone().map(Engine::default_storage_gb));
        let max_size_gb = r
            .count(sub(st, "max_size_gb"), st_path.clone().attr("max_size_gb"))
            .unwrap_or_else(|| {
                size_gb.clone().map(|s| {
                    s.saturating_mul(DEFAULT_MAX_STORAGE_FACTOR)
                        .min(MAX_STORAGE_GB)
                })
            });
        let type_names: Vec<&str> = StorageType::ALL.iter().map(|t| t.as_str()).collect();
        let storage_type = r
            .word(
                sub(st, "type"),
                st_path.attr("type"),
                "storage type",
                StorageType::parse,
                &type_names,
            )
            .unwrap_or_else(|| {
                declared
                    .string(&["storage", "type"])
                    .and_then(|t| StorageType::parse(&t))
            });
        let storage = StorageSpec {
            size_gb,
            max_size_gb,
            storage_type,
        };

        let multi_az = r
            .bool(sub(top, "multi_az"))
            .unwrap_or_else(|| declared.bool(&["multi_az"]));
        let read_replicas = r
            .count(
                sub(top, "read_replicas"),
                root.clone().attr("read_replicas"),
            )
            .unwrap_or_else(|| declared.count(&["read_replicas"]));

        let b = sub(top, "backup");
        let backup = BackupSpec {
            retention_days: r
                .count(
                    sub(b, "retention_days"),
                    root.clone().attr("backup").attr("retention_days"),
                )
                .unwrap_or_else(|| declared.count(&["backup", "retention_days"])),
            window: r
                .string(sub(b, "window"))
                .unwrap_or_else(|| declared.string(&["backup", "window"])),
            copy_to_region: optional(r.string(sub(b, "copy_to_region"))),
        };
        let maintenance_window = r
            .string(sub(top, "maintenance_window"))
            .unwrap_or_else(|| declared.string(&["maintenance_window"]));
        let parameters = r
            .string_map(sub(top, "parameters"))
            .unwrap_or(Knowable::Known(BTreeMap::new()));

        let n = sub(top, "network");
        let mut network_written = Written::default();
        for name in ["allowed_security_group_ids", "allowed_cidrs"] {
            network_written.note(name, sub(n, name));
        }
        let network = NetworkSpec {
            written: network_written,
            vpc_id: r
                .string(sub(n, "vpc_id"))
                .unwrap_or(Knowable::Known(String::new())),
            subnet_ids: r
                .strings(sub(n, "subnet_ids"))
                .unwrap_or(Knowable::Known(Vec::new())),
            allowed_security_group_ids: r
                .strings(sub(n, "allowed_security_group_ids"))
                .unwrap_or(Knowable::Known(Vec::new())),
            allowed_cidrs: r
                .strings(sub(n, "allowed_cidrs"))
                .unwrap_or(Knowable::Known(Vec::new())),
        };

        let encryption_key = match r.string(sub(top, "encryption_key_arn")) {
            Some(k) => k.map(EncryptionKey::Provided),
            None => Knowable::Known(EncryptionKey::Created {
                id: created_key_arn(prior_state),
            }),
        };
        let deletion_protection = r
            .bool(sub(top, "deletion_protection"))
            .unwrap_or_else(|| declared.bool(&["deletion_protection"]));
        let iam_authentication = r
            .bool(sub(top, "iam_authentication"))
            .unwrap_or_else(|| declared.bool(&["iam_authentication"]));
        let final_snapshot = r
            .bool(sub(top, "final_snapshot"))
            .unwrap_or_else(|| declared.bool(&["final_snapshot"]));

        let rs = sub(top, "restore");
        let restore = match rs {
            Slot::Null => Knowable::Known(None),
            Slot::Unknown => Knowable::Unknown,
            Slot::Known(_) => Knowable::Known(Some(RestoreSpec {
                written: {
                    let mut w = Written::default();
                    w.note(
                        "use_latest_restorable_time",
                        sub(rs, "use_latest_restorable_time"),
                    );
                    w
                },
                snapshot_id: optional(r.string(sub(rs, "snapshot_id"))),
                source_db_instance_id: optional(r.string(sub(rs, "source_db_instance_id"))),
                restore_time: optional(r.string(sub(rs, "restore_time"))),
                use_latest_restorable_time: r
                    .bool(sub(rs, "use_latest_restorable_time"))
                    .unwrap_or(Knowable::Known(false)),
            })),
        };
        let allow_major_version_upgrade = r
            .bool(sub(top, "allow_major_version_upgrade"))
            .unwrap_or_else(|| declared.bool(&["allow_major_version_upgrade"]));
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

        let mut written = Written::default();
        for name in ["parameters", "tags"] {
            written.note(name, sub(top, name));
        }
        let spec = DatabaseSpec {
            written,
            name,
            profile,
            engine,
            engine_version,
            instance_class,
            storage,
            multi_az,
            read_replicas,
            backup,
            maintenance_window,
            parameters,
            network,
            encryption_key,
            deletion_protection,
            iam_authentication,
            final_snapshot,
            restore,
            allow_major_version_upgrade,
            tags,
            timeouts,
        };
        (spec, r.diags)
    }

    /// The effective configuration a state records (for comparing a prior state
    /// with a new plan). A key paved created is recognised by the state's inventory.
    pub fn from_state(state: &Value) -> DatabaseSpec {
        let mut as_config = state.clone();
        if created_key_arn(state).is_some() {
            if let Value::Object(attrs) = &mut as_config {
                attrs.insert("encryption_key_arn".to_string(), Value::Null);
            }
        }
        DatabaseSpec::from_config(&as_config, state).0
    }

    /// The port the engine listens on.
    pub fn port(&self) -> Knowable<u16> {
        self.engine.clone().map(|e| e.info().port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::schema_testing::obj;

    #[test]
    fn defaults_come_from_the_profile_and_engine_tables() {
        let (spec, diags) =
            DatabaseSpec::from_config(&obj(vec![("name", "orders".into())]), &Value::Null);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(spec.engine, Knowable::Known(Engine::Postgres));
        assert_eq!(spec.engine_version, Knowable::Known("16".into()));
        assert_eq!(spec.port(), Knowable::Known(5432));
        assert_eq!(spec.instance_class, Knowable::Known("db.m6g.large".into()));
        assert_eq!(spec.multi_az, Knowable::Known(true));
        assert_eq!(spec.read_replicas, Knowable::Known(1));
        assert_eq!(spec.backup.retention_days, Knowable::Known(14));
        assert_eq!(spec.final_snapshot, Knowable::Known(true));
        assert_eq!(spec.deletion_protection, Knowable::Known(true));
        assert_eq!(spec.storage.size_gb, Knowable::Known(20));
        assert_eq!(spec.storage.max_size_gb, Knowable::Known(100));

        let mysql = obj(vec![
            ("name", "orders".into()),
            ("engine", "mysql".into()),
            ("profile", "development".into()),
        ]);
        let (spec, _) = DatabaseSpec::from_config(&mysql, &Value::Null);
        assert_eq!(spec.engine_version, Knowable::Known("8.0".into()));
        assert_eq!(spec.port(), Knowable::Known(3306));
        assert_eq!(spec.instance_class, Knowable::Known("db.t4g.micro".into()));
        assert_eq!(spec.final_snapshot, Knowable::Known(false));
    }

    #[test]
    fn prior_version_is_kept_for_the_same_engine_only() {
        let config = obj(vec![("name", "orders".into())]);
        let prior = obj(vec![
            ("engine", "postgres".into()),
            ("engine_version", "15.7".into()),
        ]);
        let (spec, _) = DatabaseSpec::from_config(&config, &prior);
        assert_eq!(spec.engine_version, Knowable::Known("15.7".into()));
        let mysql = obj(vec![("name", "orders".into()), ("engine", "mysql".into())]);
        let (spec, _) = DatabaseSpec::from_config(&mysql, &prior);
        assert_eq!(spec.engine_version, Knowable::Known("8.0".into()));
    }

    #[test]
    fn majors_and_bad_words() {
        assert_eq!(Engine::Postgres.major_of("16.2"), Some("16".into()));
        assert_eq!(Engine::Mysql.major_of("8.0.35"), Some("8.0".into()));
        assert_eq!(Engine::Mysql.major_of("8"), None);
        assert_eq!(Engine::Postgres.major_of("v16"), None);
        let config = obj(vec![
            ("name", "orders".into()),
            ("engine", "oracle".into()),
            ("storage", obj(vec![("type", "gp2".into())])),
        ]);
        let (_, diags) = DatabaseSpec::from_config(&config, &Value::Null);
        let paths: Vec<String> = diags
            .iter()
            .filter_map(|d| d.path.as_ref().map(|p| p.to_string()))
            .collect();
        assert_eq!(paths, ["engine", "storage.type"]);
    }
}
