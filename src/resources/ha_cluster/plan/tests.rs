//! Tests of planning: defaults per profile, overrides, unknowns, computed outputs,
//! replacement, deletion protection and the empty plan after apply.

use paved_value::{Path, Value};

use super::*;
// The plan on the scripted AWS-shaped cloud, which lists the inventory.
use super::super::fake::plan;
use crate::diag::Severity;
use crate::schema::{AttributeKind, Nesting, Presence};
use crate::stack::schema_testing::{config_of, get, map, num, obj, strings};

/// A configuration as Terraform sends it: every attribute present, null when not set.
fn config(pairs: Vec<(&str, Value)>) -> Value {
    config_of(&schema().block, pairs)
}

/// Checks what Terraform checks of a planned value against the configuration
/// (objchange.AssertPlanValid): configured values kept, nothing planned for a
/// non-computed attribute left out, map keys as configured.
fn assert_valid_plan(
    attrs: &[crate::schema::Attribute],
    config: &Value,
    planned: &Value,
    at: &str,
) {
    for a in attrs {
        let c = config.get_attr(&a.name).unwrap_or(&Value::Null);
        let p = planned
            .get_attr(&a.name)
            .unwrap_or_else(|| panic!("{at}{} missing from the plan", a.name));
        let here = format!("{at}{}", a.name);
        if p == c {
            continue;
        }
        match a.presence {
            Presence::Computed => continue,
            Presence::OptionalComputed if c.is_null() => continue,
            _ => {}
        }
        assert!(
            !c.is_null(),
            "{here}: planned {p:?} for a non-computed attribute left out"
        );
        let AttributeKind::Nested {
            nesting,
            attributes,
        } = &a.kind
        else {
            panic!("{here}: planned {p:?} but configured {c:?}");
        };
        match nesting {
            Nesting::Single | Nesting::Group => {
                assert_valid_plan(attributes, c, p, &format!("{here}."))
            }
            Nesting::Map => {
                let (cm, pm) = (c.as_map().unwrap(), p.as_map().unwrap());
                assert_eq!(
                    cm.keys().collect::<Vec<_>>(),
                    pm.keys().collect::<Vec<_>>(),
                    "{here}: keys"
                );
                for (k, cv) in cm {
                    assert_valid_plan(attributes, cv, &pm[k], &format!("{here}[{k:?}]."));
                }
            }
            Nesting::List | Nesting::Set => {
                let (cl, pl) = (c.as_list().unwrap(), p.as_list().unwrap());
                assert_eq!(cl.len(), pl.len(), "{here}: length");
                for (i, (cv, pv)) in cl.iter().zip(pl).enumerate() {
                    assert_valid_plan(attributes, cv, pv, &format!("{here}[{i}]."));
                }
            }
        }
    }
}

/// Every object carries exactly its schema's attributes.
fn assert_complete(attrs: &[crate::schema::Attribute], v: &Value, at: &str) {
    let Some(m) = v.as_map() else { return };
    let names: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
    for name in m.keys() {
        assert!(
            names.contains(&name.as_str()) || name == "timeouts",
            "{at}{name} is not in the schema"
        );
    }
    for a in attrs {
        let value = m
            .get(&a.name)
            .unwrap_or_else(|| panic!("{at}{} missing", a.name));
        if let AttributeKind::Nested {
            nesting,
            attributes,
        } = &a.kind
        {
            match (nesting, value) {
                (Nesting::Single, _) => {
                    assert_complete(attributes, value, &format!("{at}{}.", a.name))
                }
                (Nesting::Map, Value::Map(entries)) => {
                    for (k, e) in entries {
                        assert_complete(attributes, e, &format!("{at}{}[{k:?}].", a.name));
                    }
                }
                (Nesting::List, Value::List(items)) => {
                    for (i, e) in items.iter().enumerate() {
                        assert_complete(attributes, e, &format!("{at}{}[{i}].", a.name));
                    }
                }
                _ => {}
            }
        }
    }
}

/// Plans and checks the result is well-formed whatever else the test asserts.
fn run(prior: &Value, config: &Value) -> PlanResponse {
    let proposed = if config.is_null() {
        Value::Null
    } else {
        config.clone()
    };
    let out = plan(prior, &proposed, config);
    if !out.planned_state.is_null() {
        let s = schema();
        assert!(
            out.planned_state.conforms_to(&s.value_type()),
            "{:#?}",
            out.planned_state
        );
        assert_complete(&s.block.attributes, &out.planned_state, "");
        assert_valid_plan(&s.block.attributes, config, &out.planned_state, "");
    }
    out
}

fn create(config: &Value) -> Value {
    let out = run(&Value::Null, config);
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    assert!(out.requires_replace.is_empty());
    out.planned_state
}

fn paths(diags: &Diagnostics, severity: Severity) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == severity)
        .filter_map(|d| d.path.as_ref().map(|p| p.to_string()))
        .collect()
}

/// What an apply would return for a planned create: every unknown filled in the way
/// the backend will (zones chosen, ids assigned).
fn apply(planned: &Value) -> Value {
    let mut state = planned.clone();
    let Value::Object(m) = &mut state else {
        panic!("object expected")
    };
    let count = m["zone_count"].as_i64().unwrap() as usize;
    if m["zones"].is_unknown() {
        let all = [
            "eu-west-1a",
            "eu-west-1b",
            "eu-west-1c",
            "eu-west-1d",
            "eu-west-1e",
        ];
        m.insert("zones".into(), strings(&all[..count]));
    }
    let zones: Vec<String> = m["zones"]
        .as_list()
        .unwrap()
        .iter()
        .map(|z| z.as_str().unwrap().to_string())
        .collect();
    for name in [
        "id",
        "endpoint",
        "certificate_authority",
        "oidc_issuer_url",
        "kubeconfig",
    ] {
        if m[name].is_unknown() {
            m.insert(name.into(), Value::from(format!("{name}-1")));
        }
    }
    if m["kubernetes_version"].is_unknown() {
        m.insert("kubernetes_version".into(), "1.31".into());
    }
    if m["connection"].is_unknown() {
        let version = m["kubernetes_version"].clone();
        let fields = [
            "platform",
            "name",
            "endpoint",
            "certificate_authority",
            "location",
            "account",
            "oidc_issuer_url",
        ];
        let mut c: std::collections::BTreeMap<String, Value> = fields
            .iter()
            .map(|f| (f.to_string(), Value::from(format!("{f}-1"))))
            .collect();
        c.insert("kubernetes_version".into(), version);
        m.insert("connection".into(), Value::Object(c));
    }
    if m["encryption_key_arn"].is_unknown() {
        m.insert(
            "encryption_key_arn".into(),
            "arn:aws:kms:eu-west-1:123456789012:key/k1".into(),
        );
    }
    let nat = m["network"]
        .get_attr("nat_mode")
        .and_then(Value::as_str)
        .unwrap_or("none")
        .to_string();
    if let Some(Value::Object(net)) = m.get_mut("network") {
        if net["cidr"].is_unknown() {
            net.insert("cidr".into(), "10.50.0.0/16".into());
        }
        if net["vpc_id"].is_unknown() {
            net.insert("vpc_id".into(), "vpc-1".into());
        }
        for tier in ["public", "private", "intra"] {
            let name = format!("{tier}_subnet_ids");
            if net[&name].is_unknown() {
                let ids = zones
                    .iter()
                    .map(|z| (z.clone(), Value::from(format!("subnet-{tier}-{z}"))))
                    .collect();
                net.insert(name, Value::Map(ids));
            }
        }
        if net["nat_gateway_ids"].is_unknown() {
            let n = if nat == "per_zone" { zones.len() } else { 1 };
            net.insert(
                "nat_gateway_ids".into(),
                Value::List((0..n).map(|i| Value::from(format!("nat-{i}"))).collect()),
            );
        }
    }
    let mut pools: Vec<String> = m["node_pools"].as_map().unwrap().keys().cloned().collect();
    if !pools.iter().any(|p| p == "system") {
        pools.push("system".into());
    }
    if m["tags_all"].is_unknown() {
        m.insert("tags_all".into(), Value::Map(Default::default()));
    }
    if m["addons"].is_unknown() {
        let versions = crate::resources::ha_cluster::kubernetes::ADDONS
            .iter()
            .map(|a| (a.to_string(), Value::from("v1.0.0-eksbuild.1")))
            .collect();
        m.insert("addons".into(), Value::Map(versions));
    }
    if m["kubernetes_digest"].is_unknown() {
        m.insert("kubernetes_digest".into(), Value::from("digest"));
    }
    if m["kubernetes_hashes"].is_unknown() {
        m.insert("kubernetes_hashes".into(), Value::Map(Default::default()));
    }
    if m["node_pool_status"].is_unknown() {
        m.insert(
            "node_pool_status".into(),
            Value::Map(
                pools
                    .iter()
                    .map(|p| (p.clone(), Value::from("ACTIVE")))
                    .collect(),
            ),
        );
    }
    if let Some(Value::Map(status)) = m.get_mut("node_pool_status") {
        for v in status.values_mut() {
            if v.is_unknown() {
                *v = "ACTIVE".into();
            }
        }
    }
    if let Some(Value::List(rows)) = m.get_mut("inventory") {
        for row in rows {
            let Value::Object(r) = row else { continue };
            let key = r["key"].as_str().unwrap().to_string();
            if r["id"].is_unknown() {
                r.insert("id".into(), Value::from(format!("id-{key}")));
            }
            if r["zone"].is_unknown() {
                let i: usize = key.rsplit('.').next().unwrap().parse().unwrap();
                r.insert("zone".into(), Value::from(zones[i].as_str()));
            }
        }
    }
    assert!(state.is_wholly_known(), "apply left unknowns: {state:#?}");
    state
}

/// Creates and applies `config`, returning the state.
fn created(config: &Value) -> Value {
    apply(&create(config))
}

fn update(state: &Value, config: &Value) -> PlanResponse {
    run(state, config)
}

fn replace_paths(out: &PlanResponse) -> Vec<String> {
    out.requires_replace.iter().map(Path::to_string).collect()
}

#[test]
fn production_defaults_show_in_the_plan() {
    let p = create(&config(vec![("name", "shop".into())]));
    assert_eq!(get(&p, "profile"), &Value::from("production"));
    assert_eq!(get(&p, "zone_count"), &num(3));
    assert!(get(&p, "zones").is_unknown(), "zones are chosen at create");
    assert_eq!(get(&p, "network.cidr"), &Value::from("10.0.0.0/16"));
    assert_eq!(get(&p, "network.nat_mode"), &Value::from("per_zone"));
    assert_eq!(get(&p, "network.existing_vpc_id"), &Value::Null);
    assert_eq!(get(&p, r#"node_pools["system"].min_size"#), &num(3));
    assert_eq!(get(&p, r#"node_pools["system"].max_size"#), &num(9));
    assert_eq!(
        get(&p, r#"node_pools["system"].capacity"#),
        &Value::from("on_demand")
    );
    assert_eq!(
        get(&p, r#"node_pools["system"].instance_types"#),
        &strings(&["m6i.large"])
    );
    assert_eq!(
        get(&p, "control_plane_logging.types"),
        &strings(&[
            "api",
            "audit",
            "authenticator",
            "controllerManager",
            "scheduler"
        ])
    );
    assert_eq!(get(&p, "control_plane_logging.retention_days"), &num(90));
    assert_eq!(get(&p, "deletion_protection"), &Value::from(true));
    assert_eq!(get(&p, "endpoint_public_cidrs"), &Value::Null);
    for unknown in [
        "id",
        "endpoint",
        "kubeconfig",
        "kubernetes_version",
        "encryption_key_arn",
        "network.vpc_id",
        "node_pool_status",
    ] {
        assert!(
            get(&p, unknown).is_unknown(),
            "{unknown} should be unknown on create"
        );
    }
    assert_eq!(get(&p, "ha_report.zones_used"), &num(3));
    assert_eq!(get(&p, "ha_report.survives_zone_loss"), &Value::from(true));
    let rows = get(&p, "inventory").as_list().unwrap();
    // 31 cloud components, the storage driver's role and five managed add-ons.
    assert_eq!(rows.len(), 37);
    assert!(rows
        .iter()
        .all(|r| r.get_attr("id").is_some_and(Value::is_unknown)));
    assert_eq!(rows[0].get_attr("key"), Some(&Value::from("vpc")));
    assert_eq!(rows[0].get_attr("zone"), Some(&Value::Null));
    let nats = rows
        .iter()
        .filter(|r| r.get_attr("kind") == Some(&Value::from("nat_gateway")))
        .count();
    assert_eq!(nats, 3);
}

#[test]
fn staging_and_development_defaults() {
    let p = create(&config(vec![
        ("name", "shop".into()),
        ("profile", "staging".into()),
    ]));
    assert_eq!(get(&p, "zone_count"), &num(3));
    assert_eq!(get(&p, "network.nat_mode"), &Value::from("single"));
    assert_eq!(get(&p, r#"node_pools["system"].max_size"#), &num(6));
    assert_eq!(
        get(&p, "control_plane_logging.types"),
        &strings(&["api", "audit"])
    );
    assert_eq!(get(&p, "control_plane_logging.retention_days"), &num(30));
    assert_eq!(get(&p, "deletion_protection"), &Value::from(false));
    assert_eq!(get(&p, "ha_report.survives_zone_loss"), &Value::from(false));

    let p = create(&config(vec![
        ("name", "shop".into()),
        ("profile", "development".into()),
    ]));
    assert_eq!(get(&p, "zone_count"), &num(2));
    assert_eq!(get(&p, "network.nat_mode"), &Value::from("single"));
    assert_eq!(get(&p, r#"node_pools["system"].min_size"#), &num(2));
    assert_eq!(get(&p, r#"node_pools["system"].max_size"#), &num(4));
    assert_eq!(get(&p, "control_plane_logging.types"), &strings(&["api"]));
    assert_eq!(get(&p, "control_plane_logging.retention_days"), &num(7));
    assert_eq!(get(&p, "deletion_protection"), &Value::from(false));
    let findings = get(&p, "ha_report.findings").as_list().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f.as_str().unwrap().starts_with("Two zones")),
        "{findings:?}"
    );
}

#[test]
fn overrides_win_and_configured_values_stay_as_written() {
    let taint = obj(vec![
        ("key", "spot".into()),
        ("value", Value::Null),
        ("effect", "NoSchedule".into()),
    ]);
    let cfg = config(vec![
        ("name", "shop".into()),
        ("zone_count", num(4)),
        ("kubernetes_version", "1.30".into()),
        (
            "network",
            obj(vec![
                ("cidr", "10.1.0.0/16".into()),
                ("nat_mode", "single".into()),
            ]),
        ),
        (
            "node_pools",
            map(vec![
                (
                    "system",
                    obj(vec![("min_size", num(5)), ("max_size", num(12))]),
                ),
                (
                    "spot",
                    obj(vec![
                        ("capacity", "spot".into()),
                        ("labels", map(vec![("lifecycle", "spot".into())])),
                        ("taints", Value::List(vec![taint.clone()])),
                    ]),
                ),
            ]),
        ),
        (
            "control_plane_logging",
            obj(vec![("retention_days", num(30))]),
        ),
        ("deletion_protection", false.into()),
        ("endpoint_public_cidrs", strings(&["203.0.113.0/24"])),
        (
            "timeouts",
            obj(vec![
                ("create", "90m".into()),
                ("update", Value::Null),
                ("delete", Value::Null),
            ]),
        ),
    ]);
    let out = run(&Value::Null, &cfg);
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    assert_eq!(
        paths(&out.diagnostics, Severity::Warning),
        ["network.nat_mode"]
    );
    let p = out.planned_state;
    assert_eq!(get(&p, "zone_count"), &num(4));
    assert_eq!(get(&p, "kubernetes_version"), &Value::from("1.30"));
    assert_eq!(get(&p, "network.cidr"), &Value::from("10.1.0.0/16"));
    assert_eq!(get(&p, "network.nat_mode"), &Value::from("single"));
    assert_eq!(get(&p, r#"node_pools["system"].min_size"#), &num(5));
    assert_eq!(get(&p, r#"node_pools["system"].max_size"#), &num(12));
    assert_eq!(get(&p, r#"node_pools["spot"].min_size"#), &num(4));
    assert_eq!(get(&p, r#"node_pools["spot"].max_size"#), &num(12));
    assert_eq!(
        get(&p, r#"node_pools["spot"].instance_types"#),
        &strings(&["m6i.large", "m6a.large", "m5.large", "m5a.large"])
    );
    assert_eq!(
        get(&p, r#"node_pools["spot"].labels"#),
        &map(vec![("lifecycle", "spot".into())])
    );
    assert_eq!(
        get(&p, r#"node_pools["spot"].taints"#),
        &Value::List(vec![taint])
    );
    assert_eq!(get(&p, r#"node_pools["system"].labels"#), &Value::Null);
    assert_eq!(get(&p, "control_plane_logging.retention_days"), &num(30));
    assert_eq!(
        get(&p, "control_plane_logging.types")
            .as_list()
            .map(<[Value]>::len),
        Some(5)
    );
    assert_eq!(get(&p, "deletion_protection"), &Value::from(false));
    assert_eq!(
        get(&p, "endpoint_public_cidrs"),
        &strings(&["203.0.113.0/24"])
    );
    assert_eq!(get(&p, "timeouts.create"), &Value::from("90m"));
    assert_eq!(get(&p, "timeouts.update"), &Value::Null);
}

#[test]
fn pools_without_a_system_pool_keep_the_map_as_written() {
    let cfg = config(vec![
        ("name", "shop".into()),
        (
            "node_pools",
            map(vec![(
                "general",
                obj(vec![("instance_types", strings(&["m7g.xlarge"]))]),
            )]),
        ),
    ]);
    let p = create(&cfg);
    assert_eq!(
        get(&p, "node_pools")
            .as_map()
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["general".to_string()])
    );
    let keys: Vec<&str> = get(&p, "inventory")
        .as_list()
        .unwrap()
        .iter()
        .filter_map(|r| r.get_attr("key").and_then(Value::as_str))
        .collect();
    assert!(
        keys.contains(&"node_group.system") && keys.contains(&"node_group.general"),
        "{keys:?}"
    );
}

#[test]
fn unknown_configuration_stays_unknown() {
    let cfg = config(vec![
        ("name", Value::unknown()),
        ("zone_count", Value::unknown()),
        ("network", obj(vec![("cidr", Value::unknown())])),
        (
            "node_pools",
            map(vec![(
                "spot",
                obj(vec![
                    ("capacity", "spot".into()),
                    ("max_size", Value::unknown()),
                ]),
            )]),
        ),
        ("tags", Value::unknown()),
    ]);
    let out = run(&Value::Null, &cfg);
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    let p = out.planned_state;
    for unknown in [
        "name",
        "zone_count",
        "zones",
        "network.cidr",
        "tags",
        r#"node_pools["spot"].max_size"#,
        r#"node_pools["spot"].min_size"#,
        "inventory",
        "ha_report.zones_used",
        "ha_report.survives_zone_loss",
    ] {
        assert!(get(&p, unknown).is_unknown(), "{unknown} should be unknown");
    }
    // What does not depend on the unknowns is known.
    assert_eq!(get(&p, "network.nat_mode"), &Value::from("per_zone"));
    assert_eq!(
        get(&p, r#"node_pools["spot"].capacity"#),
        &Value::from("spot")
    );
    assert_eq!(get(&p, r#"node_pools["spot"].disk_size_gb"#), &num(50));
    assert_eq!(get(&p, "deletion_protection"), &Value::from(true));

    // An unknown profile leaves every profile default unknown.
    let p = create(&config(vec![
        ("name", "shop".into()),
        ("profile", Value::unknown()),
    ]));
    for unknown in [
        "profile",
        "zone_count",
        "network.nat_mode",
        "deletion_protection",
        "control_plane_logging.retention_days",
    ] {
        assert!(get(&p, unknown).is_unknown(), "{unknown} should be unknown");
    }
    assert_eq!(get(&p, "network.cidr"), &Value::from("10.0.0.0/16"));
}

#[test]
fn empty_plan_after_apply() {
    let full = config(vec![
        ("name", "shop".into()),
        ("profile", "staging".into()),
        (
            "zones",
            strings(&["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
        ),
        ("kubernetes_version", "1.31".into()),
        ("network", obj(vec![("cidr", "172.16.0.0/16".into())])),
        ("endpoint_public_cidrs", strings(&["203.0.113.0/24"])),
        (
            "node_pools",
            map(vec![
                ("system", obj(vec![("max_size", num(7))])),
                (
                    "spot",
                    obj(vec![
                        ("capacity", "spot".into()),
                        ("labels", map(vec![("lifecycle", "spot".into())])),
                        (
                            "taints",
                            Value::List(vec![obj(vec![
                                ("key", "spot".into()),
                                ("value", "yes".into()),
                                ("effect", "NoSchedule".into()),
                            ])]),
                        ),
                    ]),
                ),
            ]),
        ),
        (
            "control_plane_logging",
            obj(vec![("types", strings(&["api"]))]),
        ),
        (
            "encryption_key_arn",
            "arn:aws:kms:eu-west-1:123456789012:key/mine".into(),
        ),
        (
            "cluster_admins",
            strings(&["arn:aws:iam::123456789012:role/platform"]),
        ),
        ("tags", map(vec![("team", "shop".into())])),
        (
            "timeouts",
            obj(vec![
                ("create", "90m".into()),
                ("update", Value::Null),
                ("delete", Value::Null),
            ]),
        ),
    ]);
    let existing = config(vec![
        ("name", "shop".into()),
        (
            "network",
            obj(vec![
                ("existing_vpc_id", "vpc-0abc".into()),
                (
                    "existing_subnet_ids",
                    map(vec![(
                        "private",
                        strings(&["subnet-a", "subnet-b", "subnet-c"]),
                    )]),
                ),
            ]),
        ),
    ]);
    let configs = vec![
        config(vec![("name", "shop".into())]),
        config(vec![
            ("name", "shop".into()),
            ("profile", "development".into()),
        ]),
        config(vec![
            ("name", "shop".into()),
            ("profile", "staging".into()),
            ("network", obj(vec![("nat_mode", "none".into())])),
        ]),
        full,
        existing,
    ];
    for cfg in configs {
        let state = created(&cfg);
        let out = plan(&state, &state, &cfg);
        assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
        assert!(
            out.requires_replace.is_empty(),
            "{:?}",
            out.requires_replace
        );
        assert_eq!(
            out.planned_state, state,
            "plan after apply must be empty for {cfg:#?}"
        );
    }
}

#[test]
fn computed_outputs_follow_what_changes() {
    let cfg = |max: i64, nat: &str, types: &[&str], version: &str| {
        config(vec![
            ("name", "shop".into()),
            ("kubernetes_version", version.into()),
            ("network", obj(vec![("nat_mode", nat.into())])),
            (
                "node_pools",
                map(vec![
                    ("system", obj(vec![("max_size", num(max))])),
                    (
                        "spot",
                        obj(vec![
                            ("capacity", "spot".into()),
                            ("instance_types", strings(types)),
                        ]),
                    ),
                ]),
            ),
        ])
    };
    let state = created(&cfg(9, "per_zone", &["m6i.large", "m5.large"], "1.30"));
    let id = |p: &Value, key: &str| -> Value {
        get(p, "inventory")
            .as_list()
            .unwrap()
            .iter()
            .find(|r| r.get_attr("key") == Some(&Value::from(key)))
            .and_then(|r| r.get_attr("id"))
            .cloned()
            .unwrap_or_else(|| panic!("{key} not in the inventory"))
    };

    // A size change: the pool is updated in place; everything else is kept.
    let out = update(
        &state,
        &cfg(12, "per_zone", &["m6i.large", "m5.large"], "1.30"),
    );
    assert!(out.requires_replace.is_empty());
    let p = &out.planned_state;
    for kept in [
        "id",
        "endpoint",
        "kubeconfig",
        "network.vpc_id",
        "network.private_subnet_ids",
        "network.nat_gateway_ids",
    ] {
        assert_eq!(get(p, kept), get(&state, kept), "{kept} should be kept");
    }
    assert!(get(p, r#"node_pool_status["system"]"#).is_unknown());
    assert_eq!(
        get(p, r#"node_pool_status["spot"]"#),
        &Value::from("ACTIVE")
    );
    assert_eq!(
        id(p, "node_group.system"),
        Value::from("id-node_group.system")
    );

    // New instance types make a new node group (not a new cluster).
    let out = update(
        &state,
        &cfg(9, "per_zone", &["m6i.large", "m6a.large"], "1.30"),
    );
    assert!(out.requires_replace.is_empty());
    let p = &out.planned_state;
    assert!(id(p, "node_group.spot").is_unknown());
    assert_eq!(
        id(p, "launch_template.spot"),
        Value::from("id-launch_template.spot")
    );
    assert_eq!(
        id(p, "node_group.system"),
        Value::from("id-node_group.system")
    );

    // Fewer NAT gateways: NAT ids change, the subnets stay.
    let out = update(
        &state,
        &cfg(9, "single", &["m6i.large", "m5.large"], "1.30"),
    );
    let p = &out.planned_state;
    assert!(get(p, "network.nat_gateway_ids").is_unknown());
    assert_eq!(
        get(p, "network.public_subnet_ids"),
        get(&state, "network.public_subnet_ids")
    );
    assert_eq!(id(p, "nat_gateway.0"), Value::from("id-nat_gateway.0"));
    assert!(id(p, "route_table.private").is_unknown());
    assert_eq!(get(p, "ha_report.survives_zone_loss"), &Value::from(false));

    // An upgrade: every pool is rolled, the cluster stays.
    let out = update(
        &state,
        &cfg(9, "per_zone", &["m6i.large", "m5.large"], "1.31"),
    );
    assert!(
        out.requires_replace.is_empty() && !out.diagnostics.has_errors(),
        "{:#?}",
        out.diagnostics
    );
    let p = &out.planned_state;
    assert_eq!(get(p, "id"), get(&state, "id"));
    assert!(get(p, r#"node_pool_status["system"]"#).is_unknown());
    assert!(get(p, r#"node_pool_status["spot"]"#).is_unknown());
}

#[test]
fn zones_and_version_chosen_at_create_are_kept() {
    let cfg = config(vec![("name", "shop".into())]);
    let state = created(&cfg);
    let out = update(
        &state,
        &config(vec![
            ("name", "shop".into()),
            ("tags", map(vec![("team", "a".into())])),
        ]),
    );
    assert!(out.requires_replace.is_empty());
    assert_eq!(get(&out.planned_state, "zones"), get(&state, "zones"));
    assert_eq!(
        get(&out.planned_state, "kubernetes_version"),
        &Value::from("1.31")
    );
    assert_eq!(
        get(&out.planned_state, "encryption_key_arn"),
        get(&state, "encryption_key_arn")
    );
}

#[test]
fn changes_that_replace_the_cluster() {
    let base = vec![("name", Value::from("shop")), ("profile", "staging".into())];
    let state = created(&config(base.clone()));
    let with = |extra: Vec<(&'static str, Value)>| {
        let mut pairs = base.clone();
        pairs.extend(extra);
        config(pairs)
    };
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (with(vec![("name", "shop2".into())]), vec!["name"]),
        (
            with(vec![("network", obj(vec![("cidr", "10.9.0.0/16".into())]))]),
            vec!["network.cidr"],
        ),
        (
            with(vec![("zone_count", num(4))]),
            vec!["zones", "zone_count"],
        ),
        (
            with(vec![(
                "zones",
                strings(&["eu-west-1a", "eu-west-1b", "eu-west-1d"]),
            )]),
            vec!["zones"],
        ),
        (
            with(vec![(
                "encryption_key_arn",
                "arn:aws:kms:eu-west-1:123456789012:key/other".into(),
            )]),
            vec!["encryption_key_arn"],
        ),
        (
            with(vec![(
                "network",
                obj(vec![
                    ("existing_vpc_id", "vpc-9".into()),
                    (
                        "existing_subnet_ids",
                        map(vec![("private", strings(&["s-1", "s-2", "s-3"]))]),
                    ),
                ]),
            )]),
            vec!["zones", "network.cidr", "network.existing_vpc_id"],
        ),
        (
            with(vec![("zone_count", Value::unknown())]),
            vec!["zones", "zone_count"],
        ),
    ];
    for (cfg, expected) in cases {
        let out = update(&state, &cfg);
        assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
        assert_eq!(replace_paths(&out), expected);
        assert!(
            get(&out.planned_state, "id").is_unknown(),
            "a replacement gets a new id"
        );
        assert!(get(&out.planned_state, "endpoint").is_unknown());
    }
    // In-place changes replace nothing.
    for cfg in [
        with(vec![("kubernetes_version", "1.32".into())]),
        with(vec![(
            "network",
            obj(vec![("nat_mode", "per_zone".into())]),
        )]),
        with(vec![("deletion_protection", true.into())]),
        with(vec![(
            "endpoint_public_cidrs",
            strings(&["198.51.100.0/24"]),
        )]),
    ] {
        let out = update(&state, &cfg);
        assert!(
            out.requires_replace.is_empty(),
            "{:?}",
            out.requires_replace
        );
        assert_eq!(get(&out.planned_state, "id"), get(&state, "id"));
    }
}

#[test]
fn deletion_protection_refuses_destroy_and_replacement() {
    let cfg = config(vec![("name", "shop".into())]);
    let state = created(&cfg);
    assert_eq!(get(&state, "deletion_protection"), &Value::from(true));

    let out = run(&state, &Value::Null);
    assert_eq!(out.planned_state, Value::Null);
    assert_eq!(
        paths(&out.diagnostics, Severity::Error),
        ["deletion_protection"]
    );
    assert!(out.diagnostics.0[0]
        .detail
        .contains("set deletion_protection = false, apply, then destroy"));

    let out = update(&state, &config(vec![("name", "shop-v2".into())]));
    assert_eq!(
        paths(&out.diagnostics, Severity::Error),
        ["deletion_protection"]
    );
    let detail = &out.diagnostics.0[0].detail;
    assert!(
        detail.contains("Changing name replaces the cluster \"shop\""),
        "{detail}"
    );
    assert!(
        detail.contains("set deletion_protection = false, apply, then"),
        "{detail}"
    );

    // Turning protection off is an ordinary update; afterwards destroy goes ahead.
    let off = config(vec![
        ("name", "shop".into()),
        ("deletion_protection", false.into()),
    ]);
    let out = update(&state, &off);
    assert!(
        out.diagnostics.is_empty() && out.requires_replace.is_empty(),
        "{:#?}",
        out.diagnostics
    );
    let unprotected = out.planned_state;
    let out = run(&unprotected, &Value::Null);
    assert!(out.diagnostics.is_empty());
    assert_eq!(out.planned_state, Value::Null);
}

#[test]
fn validation_runs_at_plan_time() {
    let cfg = |version: &str| {
        config(vec![
            ("name", "shop".into()),
            ("kubernetes_version", version.into()),
        ])
    };
    let state = created(&cfg("1.29"));
    let out = update(&state, &cfg("1.31"));
    assert_eq!(
        paths(&out.diagnostics, Severity::Error),
        ["kubernetes_version"]
    );
    assert!(out.diagnostics.0[0]
        .detail
        .contains("Go through 1.30 first"));
    let out = update(&state, &cfg("1.28"));
    assert_eq!(
        paths(&out.diagnostics, Severity::Error),
        ["kubernetes_version"]
    );

    let out = run(
        &Value::Null,
        &config(vec![
            ("name", "shop".into()),
            ("network", obj(vec![("cidr", "10.0.0.0/24".into())])),
        ]),
    );
    assert_eq!(paths(&out.diagnostics, Severity::Error), ["network.cidr"]);
    assert!(out.diagnostics.0[0]
        .detail
        .contains("too small for the subnets of 3 zone(s)"));
}

#[test]
fn every_declared_default_is_what_the_plan_shows() {
    for profile in crate::profiles::ALL {
        let c = config(vec![
            ("name", Value::from("prod")),
            ("profile", Value::from(profile.name())),
        ]);
        let out = plan(&Value::Null, &c, &c);
        let compared = crate::stack::schema_testing::assert_declared_defaults_planned(
            &schema().block,
            &out.planned_state,
            profile.name(),
            &[("node_pools", "system")],
        );
        assert!(compared >= 6, "{compared}");
    }
}
