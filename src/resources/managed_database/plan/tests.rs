//! Tests of planning: defaults per profile, overrides, computed outputs,
//! replacement, deletion protection, storage shrink and the empty plan after apply.

use paved_value::{Path, Value};

use super::*;
// The plan on the scripted AWS-shaped cloud, which lists the inventory.
use super::super::fake::{plan, plan_change};
use crate::diag::Severity;
use crate::stack::schema_testing::{config_of, get, num, obj, strings};

fn network() -> Value {
    obj(vec![
        ("vpc_id", "vpc-1".into()),
        ("subnet_ids", strings(&["subnet-a", "subnet-b", "subnet-c"])),
        ("allowed_security_group_ids", Value::Null),
        ("allowed_cidrs", Value::Null),
    ])
}

/// A configuration as Terraform sends it: every attribute present, null when not
/// set; `name` and `network` given unless overridden.
fn config(pairs: Vec<(&str, Value)>) -> Value {
    let mut all = vec![("name", Value::from("orders")), ("network", network())];
    all.extend(pairs);
    config_of(&schema().block, all)
}

/// Plans (proposed = config, as Terraform proposes on create) and checks the
/// planned value has the schema's type.
fn run(prior: &Value, config: &Value) -> PlanResponse {
    let out = plan(prior, config, config);
    if !out.planned_state.is_null() {
        assert!(
            out.planned_state.conforms_to(&schema().value_type()),
            "{:#?}",
            out.planned_state
        );
    }
    out
}

fn create(config: &Value) -> Value {
    let out = run(&Value::Null, config);
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    assert!(out.requires_replace.is_empty());
    out.planned_state
}

/// What an apply would return for a planned create: every unknown filled in.
fn fill(v: &mut Value, at: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let here = format!("{at}.{k}");
                if x.is_unknown() {
                    *x = match k.as_str() {
                        "reader_endpoints" => strings(&["orders-replica-0.example"]),
                        "replica_status" => Value::Map(
                            [("orders-replica-0".to_string(), Value::from("available"))].into(),
                        ),
                        "zone" => "eu-west-1a".into(),
                        "tags_all" => Value::Map(Default::default()),
                        _ => Value::from(format!("{here}-1")),
                    };
                } else {
                    fill(x, &here);
                }
            }
        }
        Value::List(items) => {
            for (i, x) in items.iter_mut().enumerate() {
                fill(x, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

fn created(config: &Value) -> Value {
    let mut state = create(config);
    fill(&mut state, "");
    assert!(state.is_wholly_known(), "{state:#?}");
    state
}

fn paths(diags: &Diagnostics, severity: Severity) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == severity)
        .filter_map(|d| d.path.as_ref().map(|p| p.to_string()))
        .collect()
}

fn replace_paths(out: &PlanResponse) -> Vec<String> {
    out.requires_replace.iter().map(Path::to_string).collect()
}

#[test]
fn profile_defaults_show_in_the_plan() {
    let cases = [
        ("production", "db.m6g.large", true, 1, 14, true, true),
        ("staging", "db.t4g.medium", false, 0, 7, true, false),
        ("development", "db.t4g.micro", false, 0, 1, false, false),
    ];
    for (profile, class, multi_az, replicas, retention, snapshot, protection) in cases {
        let p = create(&config(vec![("profile", profile.into())]));
        assert_eq!(get(&p, "profile"), &Value::from(profile));
        assert_eq!(get(&p, "engine"), &Value::from("postgres"));
        assert_eq!(get(&p, "engine_version"), &Value::from("16"));
        assert_eq!(get(&p, "instance_class"), &Value::from(class), "{profile}");
        assert_eq!(get(&p, "multi_az"), &Value::from(multi_az), "{profile}");
        assert_eq!(get(&p, "read_replicas"), &num(replicas), "{profile}");
        assert_eq!(get(&p, "backup.retention_days"), &num(retention));
        assert_eq!(get(&p, "backup.window"), &Value::from("03:00-04:00"));
        assert_eq!(get(&p, "final_snapshot"), &Value::from(snapshot));
        assert_eq!(get(&p, "deletion_protection"), &Value::from(protection));
        assert_eq!(get(&p, "storage.size_gb"), &num(20));
        assert_eq!(get(&p, "storage.max_size_gb"), &num(100));
        assert_eq!(get(&p, "storage.type"), &Value::from("gp3"));
        assert_eq!(get(&p, "allow_major_version_upgrade"), &Value::from(false));
        assert_eq!(get(&p, "port"), &num(5432));
        assert!(get(&p, "id").is_unknown());
        assert!(get(&p, "endpoint").is_unknown());
        assert!(get(&p, "master_secret_arn").is_unknown());
        assert!(get(&p, "encryption_key_arn").is_unknown());
        assert!(get(&p, "inventory").as_list().is_some());
        let survives = get(&p, "ha_report.survives_zone_loss");
        assert_eq!(survives, &Value::from(profile == "production"));
    }
}

#[test]
fn overrides_are_kept_exactly() {
    let p = create(&config(vec![
        ("engine", "mysql".into()),
        ("engine_version", "8.0.39".into()),
        ("instance_class", "db.r6g.xlarge".into()),
        ("multi_az", false.into()),
        ("read_replicas", num(2)),
        (
            "storage",
            obj(vec![
                ("size_gb", num(200)),
                ("max_size_gb", Value::Null),
                ("type", "io2".into()),
            ]),
        ),
        (
            "backup",
            obj(vec![
                ("retention_days", num(30)),
                ("window", Value::Null),
                ("copy_to_region", "eu-central-1".into()),
            ]),
        ),
        ("deletion_protection", false.into()),
        (
            "encryption_key_arn",
            "arn:aws:kms:eu-west-1:1:key/mine".into(),
        ),
    ]));
    assert_eq!(get(&p, "engine_version"), &Value::from("8.0.39"));
    assert_eq!(get(&p, "instance_class"), &Value::from("db.r6g.xlarge"));
    assert_eq!(get(&p, "multi_az"), &Value::from(false));
    assert_eq!(get(&p, "read_replicas"), &num(2));
    assert_eq!(get(&p, "storage.size_gb"), &num(200));
    assert_eq!(get(&p, "storage.max_size_gb"), &num(1000));
    assert_eq!(get(&p, "storage.type"), &Value::from("io2"));
    assert_eq!(get(&p, "backup.retention_days"), &num(30));
    assert_eq!(get(&p, "backup.window"), &Value::from("03:00-04:00"));
    assert_eq!(
        get(&p, "backup.copy_to_region"),
        &Value::from("eu-central-1")
    );
    assert_eq!(get(&p, "port"), &num(3306));
    assert_eq!(
        get(&p, "encryption_key_arn"),
        &Value::from("arn:aws:kms:eu-west-1:1:key/mine")
    );
    assert_eq!(get(&p, "network.vpc_id"), &Value::from("vpc-1"));
    let kinds: Vec<&str> = get(&p, "inventory")
        .as_list()
        .unwrap()
        .iter()
        .map(|r| r.get_attr("kind").unwrap().as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"kms_key"));
    assert_eq!(kinds.iter().filter(|k| **k == "db_replica").count(), 2);
}

#[test]
fn validation_errors_reach_the_plan() {
    let out = run(
        &Value::Null,
        &config(vec![("engine_version", "8.0".into())]),
    );
    assert_eq!(paths(&out.diagnostics, Severity::Error), ["engine_version"]);
    let out = run(
        &Value::Null,
        &config(vec![(
            "backup",
            obj(vec![
                ("retention_days", num(3)),
                ("window", Value::Null),
                ("copy_to_region", Value::Null),
            ]),
        )]),
    );
    assert_eq!(
        paths(&out.diagnostics, Severity::Warning),
        ["backup.retention_days"]
    );
}

#[test]
fn empty_plan_after_apply() {
    let configs = vec![
        config(vec![]),
        config(vec![("profile", "development".into())]),
        config(vec![
            ("profile", "staging".into()),
            ("engine", "aurora-postgresql".into()),
            (
                "encryption_key_arn",
                "arn:aws:kms:eu-west-1:1:key/mine".into(),
            ),
            (
                "parameters",
                Value::Map([("max_connections".to_string(), Value::from("200"))].into()),
            ),
            (
                "tags",
                Value::Map([("team".to_string(), Value::from("orders"))].into()),
            ),
            (
                "timeouts",
                obj(vec![
                    ("create", "90m".into()),
                    ("update", Value::Null),
                    ("delete", Value::Null),
                ]),
            ),
        ]),
    ];
    for cfg in configs {
        let state = created(&cfg);
        // Terraform proposes the prior state when nothing changed.
        let out = plan(&state, &state, &cfg);
        assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
        assert_eq!(out.planned_state, state);
        assert!(out.requires_replace.is_empty());
        // And the full planning path agrees, without the shortcut.
        let out = plan_change(&state, &cfg);
        assert!(out.requires_replace.is_empty(), "{:?}", replace_paths(&out));
        assert_eq!(out.planned_state, state, "planning again changed the state");
    }
}

#[test]
fn in_place_updates_keep_ids() {
    let cfg = config(vec![("profile", "staging".into())]);
    let state = created(&cfg);
    let changed = config(vec![
        ("profile", "staging".into()),
        ("instance_class", "db.m6g.large".into()),
        ("multi_az", true.into()),
        ("read_replicas", num(1)),
        (
            "storage",
            obj(vec![
                ("size_gb", num(50)),
                ("max_size_gb", Value::Null),
                ("type", Value::Null),
            ]),
        ),
        ("maintenance_window", "sat:05:00-sat:06:00".into()),
    ]);
    let out = run(&state, &changed);
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    assert!(out.requires_replace.is_empty(), "{:?}", replace_paths(&out));
    let p = &out.planned_state;
    assert_eq!(get(p, "id"), get(&state, "id"));
    assert_eq!(get(p, "endpoint"), get(&state, "endpoint"));
    assert_eq!(
        get(p, "master_secret_arn"),
        get(&state, "master_secret_arn")
    );
    assert_eq!(
        get(p, "encryption_key_arn"),
        get(&state, "encryption_key_arn")
    );
    assert!(
        get(p, "reader_endpoints").is_unknown(),
        "a replica is added"
    );
    assert_eq!(get(p, "ha_report.survives_zone_loss"), &Value::from(true));
}

#[test]
fn replacing_changes() {
    let cfg = config(vec![("profile", "staging".into())]);
    let state = created(&cfg);
    let cases: Vec<(Vec<(&str, Value)>, &str)> = vec![
        (vec![("name", "orders2".into())], "name"),
        (vec![("engine", "mysql".into())], "engine"),
        (
            vec![(
                "encryption_key_arn",
                "arn:aws:kms:eu-west-1:1:key/other".into(),
            )],
            "encryption_key_arn",
        ),
        (
            vec![(
                "restore",
                obj(vec![
                    ("snapshot_id", "snap-1".into()),
                    ("source_db_instance_id", Value::Null),
                    ("restore_time", Value::Null),
                    ("use_latest_restorable_time", Value::Null),
                ]),
            )],
            "restore",
        ),
        (
            vec![(
                "network",
                obj(vec![
                    ("vpc_id", "vpc-2".into()),
                    ("subnet_ids", strings(&["subnet-x", "subnet-y"])),
                    ("allowed_security_group_ids", Value::Null),
                    ("allowed_cidrs", Value::Null),
                ]),
            )],
            "network.vpc_id",
        ),
    ];
    for (mut pairs, path) in cases {
        pairs.push(("profile", "staging".into()));
        let out = run(&state, &config(pairs));
        assert!(
            !out.diagnostics.has_errors(),
            "{path}: {:#?}",
            out.diagnostics
        );
        assert_eq!(replace_paths(&out), [path]);
        assert!(get(&out.planned_state, "id").is_unknown(), "{path}");
    }
}

#[test]
fn deletion_protection_refuses_destroy_and_replacement() {
    let cfg = config(vec![]);
    let state = created(&cfg);
    assert_eq!(get(&state, "deletion_protection"), &Value::from(true));
    let out = plan(&state, &Value::Null, &Value::Null);
    assert_eq!(
        paths(&out.diagnostics, Severity::Error),
        ["deletion_protection"]
    );
    assert!(out.diagnostics.iter().any(|d| d
        .detail
        .contains("set deletion_protection = false, apply, then destroy")));
    let out = run(&state, &config(vec![("name", "orders2".into())]));
    assert_eq!(
        paths(&out.diagnostics, Severity::Error),
        ["deletion_protection"]
    );
    assert_eq!(replace_paths(&out), ["name"]);

    let dev = config(vec![("profile", "development".into())]);
    let state = created(&dev);
    let out = plan(&state, &Value::Null, &Value::Null);
    assert!(out.diagnostics.is_empty());
    assert!(out.planned_state.is_null());
}

#[test]
fn storage_shrink_is_refused() {
    let storage = |n: i64| {
        obj(vec![
            ("size_gb", num(n)),
            ("max_size_gb", Value::Null),
            ("type", Value::Null),
        ])
    };
    let cfg = config(vec![
        ("profile", "development".into()),
        ("storage", storage(100)),
    ]);
    let state = created(&cfg);
    let out = run(
        &state,
        &config(vec![
            ("profile", "development".into()),
            ("storage", storage(50)),
        ]),
    );
    assert_eq!(
        paths(&out.diagnostics, Severity::Error),
        ["storage.size_gb"]
    );
    let out = run(
        &state,
        &config(vec![
            ("profile", "development".into()),
            ("storage", storage(200)),
        ]),
    );
    assert!(!out.diagnostics.has_errors());
    assert!(out.requires_replace.is_empty());
}

#[test]
fn major_upgrade_needs_the_opt_in() {
    let cfg = config(vec![
        ("profile", "development".into()),
        ("engine_version", "15".into()),
    ]);
    let state = created(&cfg);
    let out = run(
        &state,
        &config(vec![
            ("profile", "development".into()),
            ("engine_version", "16".into()),
        ]),
    );
    assert_eq!(paths(&out.diagnostics, Severity::Error), ["engine_version"]);
    let out = run(
        &state,
        &config(vec![
            ("profile", "development".into()),
            ("engine_version", "16".into()),
            ("allow_major_version_upgrade", true.into()),
        ]),
    );
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    assert!(out.requires_replace.is_empty());
}

#[test]
fn no_secret_in_the_state_but_the_arn() {
    let state = created(&config(vec![]));
    let Value::Object(m) = &state else {
        panic!("object expected")
    };
    for key in m.keys() {
        assert!(
            !key.contains("password") && (!key.contains("secret") || key == "master_secret_arn"),
            "{key}"
        );
    }
    assert!(m.contains_key("master_secret_arn"));
}

#[test]
fn every_declared_default_is_what_the_plan_shows() {
    for profile in crate::profiles::ALL {
        let out = run(
            &Value::Null,
            &config(vec![("profile", Value::from(profile.name()))]),
        );
        let compared = crate::stack::schema_testing::assert_declared_defaults_planned(
            &schema().block,
            &out.planned_state,
            profile.name(),
            &[],
        );
        assert!(compared >= 10, "{compared}");
    }
}
