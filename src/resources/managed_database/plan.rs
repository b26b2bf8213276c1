//! Planning a `paved_managed_database` change: a pure function of the prior state,
//! the proposed new state and the configuration, with no cloud call.
//!
//! The planned state keeps every configured value exactly as written, fills every
//! optional+computed attribute the user left out with its effective value (from
//! [`DatabaseSpec`]), and sets computed outputs: unknown on create (and replacement),
//! kept from the prior state on update unless the change affects them. Changes to
//! the name, engine, encryption key, restore source or VPC force replacement; a
//! protected database (`deletion_protection`) refuses destroy and replacement; and
//! storage never shrinks. Everything else (class, storage growth, backups, windows,
//! parameters, replicas, Multi-AZ) is an in-place update, applied immediately.
//!
//! When the proposed new state equals the prior state (a plan right after apply),
//! the prior state is the plan: nothing changes.

use std::collections::BTreeMap;

use paved_value::{Path, Value};

use super::config::{DatabaseSpec, EncryptionKey, NetworkSpec, RestoreSpec};

use super::inventory::{components_on, ha_report, inventory_value, Component};
use super::schema::schema;
use super::validate;
use crate::diag::Diagnostics;
use crate::framework::PlanResponse;
use crate::ports::database::replica_key;
use crate::ports::database::DatabaseBackend;
use crate::schema::declared::keep_prior_values;
use crate::stack::plan::{
    is_partial, is_protected, keep_prior_tags_all, merge_block, plan_destroy, quoted_name,
    replaced_paths, undecided,
};
use crate::stack::Knowable;

/// The attributes whose change replaces the database.
pub fn replacing_paths() -> Vec<Path> {
    schema().block.replacing_paths()
}

/// Plans a create (`prior_state` null), update, or destroy (`proposed_new_state`
/// null) with no cloud at hand: the inventory, which the cloud's adapter decides, is
/// known after apply. Errors in the diagnostics mean the plan must not go ahead.
pub fn plan(prior_state: &Value, proposed_new_state: &Value, config: &Value) -> PlanResponse {
    plan_for(None, prior_state, proposed_new_state, config)
}

/// The plan on `cloud`, whose backend decides the components the inventory lists
/// (see [`components_on`]); `None`: no cloud at hand, the inventory is unknown.
pub fn plan_for(
    cloud: Option<&dyn DatabaseBackend>,
    prior_state: &Value,
    proposed_new_state: &Value,
    config: &Value,
) -> PlanResponse {
    if proposed_new_state.is_null() {
        return plan_destroy(prior_state, "database", snapshot_note(prior_state));
    }
    let mut out = plan_change_for(cloud, prior_state, config);
    if !prior_state.is_null() && proposed_new_state == prior_state && !out.diagnostics.has_errors()
    {
        // Nothing was changed since the apply: the state is the plan.
        out.planned_state = prior_state.clone();
        out.requires_replace.clear();
    }
    out
}

/// Plans a create or update from the configuration (no shortcut for an unchanged
/// state: [`plan`] adds that).
pub fn plan_change(prior_state: &Value, config: &Value) -> PlanResponse {
    plan_change_for(None, prior_state, config)
}

/// [`plan_change`] on `cloud` (see [`plan_for`]).
pub fn plan_change_for(
    cloud: Option<&dyn DatabaseBackend>,
    prior_state: &Value,
    config: &Value,
) -> PlanResponse {
    let mut diags = Diagnostics::new();
    let creating = prior_state.is_null();
    let (spec, read_diags) = DatabaseSpec::from_config(config, prior_state);
    diags.extend(read_diags);
    diags.extend(validate::check(&spec));
    let prior_spec = (!creating).then(|| DatabaseSpec::from_state(prior_state));
    if let Some(prior_spec) = &prior_spec {
        diags.extend(validate::check_change(prior_spec, &spec));
    }

    let block = schema().block;
    let settings = merge_block(&block, config, &render(&spec, &Outputs::unknown()));
    let requires_replace: Vec<Path> = replaced_paths(prior_state, &settings, replacing_paths())
        .into_iter()
        .filter(|p| !undecided(prior_state, config, &settings, p))
        .collect();
    if !requires_replace.is_empty() && is_protected(prior_state) {
        let changes: Vec<String> = requires_replace.iter().map(Path::to_string).collect();
        diags.attribute_error(
            Path::root().attr("deletion_protection"),
            "Deletion protection is on",
            format!(
                "Changing {} replaces the database {}: the current one and its data would be destroyed, and \
                 deletion_protection is true. Undo the change to keep the database; to replace it anyway, set \
                 deletion_protection = false, apply, then apply the change.{}",
                changes.join(", "),
                quoted_name(prior_state),
                snapshot_note(prior_state)
            ),
        );
    }

    let outputs = match &prior_spec {
        Some(prior_spec) if requires_replace.is_empty() => {
            Outputs::on_update(cloud, &spec, prior_spec, prior_state)
        }
        _ => Outputs::on_create(cloud, &spec),
    };
    let mut planned_state = merge_block(&block, config, &render(&spec, &outputs));
    if prior_spec.is_some() && requires_replace.is_empty() && !is_partial(prior_state) {
        keep_prior_values(&block, &mut planned_state, prior_state);
    }
    keep_prior_tags_all(
        &mut planned_state,
        prior_state,
        !requires_replace.is_empty(),
    );
    PlanResponse {
        planned_state,
        requires_replace,
        planned_private: Vec::new(),
        diagnostics: diags,
    }
}

fn snapshot_note(state: &Value) -> &'static str {
    match state.get_attr("final_snapshot").and_then(Value::as_bool) {
        Some(true) => " A final snapshot is taken on delete.",
        _ => " final_snapshot is false: set it to true first to keep a copy of the data.",
    }
}

/// The computed outputs of the plan (and, filled from the cloud, of the apply and refresh).
pub(crate) struct Outputs {
    pub(crate) id: Value,
    pub(crate) endpoint: Value,
    pub(crate) port: Value,
    pub(crate) reader_endpoints: Value,
    pub(crate) master_secret_arn: Value,
    pub(crate) replica_status: Value,
    pub(crate) latest_restorable_time: Value,
    pub(crate) inventory: Value,
    pub(crate) ha_report: Value,
}

impl Outputs {
    pub(crate) fn unknown() -> Self {
        Outputs {
            id: Value::unknown(),
            endpoint: Value::unknown(),
            port: Value::unknown(),
            reader_endpoints: Value::unknown(),
            master_secret_arn: Value::unknown(),
            replica_status: Value::unknown(),
            latest_restorable_time: Value::unknown(),
            inventory: Value::unknown(),
            ha_report: Value::unknown(),
        }
    }

    /// Nothing exists yet: ids are unknown; what the spec decides is known.
    fn on_create(cloud: Option<&dyn DatabaseBackend>, spec: &DatabaseSpec) -> Self {
        Outputs {
            port: known_or_unknown(&spec.port(), |p| Value::from(i64::from(*p))),
            reader_endpoints: match spec.read_replicas {
                Knowable::Known(0) => Value::List(Vec::new()),
                _ => Value::unknown(),
            },
            replica_status: match spec.read_replicas {
                Knowable::Known(0) => Value::Map(BTreeMap::new()),
                _ => Value::unknown(),
            },
            inventory: match components_on(cloud, spec) {
                Knowable::Known(list) => inventory_value(&list, |_| Value::unknown()),
                Knowable::Unknown => Value::unknown(),
            },
            ha_report: ha_report(spec).to_value(),
            ..Outputs::unknown()
        }
    }

    /// The database stays: outputs the change does not touch keep their prior values.
    fn on_update(
        cloud: Option<&dyn DatabaseBackend>,
        spec: &DatabaseSpec,
        prior: &DatabaseSpec,
        state: &Value,
    ) -> Self {
        // What a failed apply left (a partial state) is not what the next apply
        // makes: its outputs are unknown again rather than kept as null.
        let whole = !is_partial(state);
        let kept = |name: &str| match state.get_attr(name) {
            Some(v) if whole && !v.is_null() => v.clone(),
            _ => Value::unknown(),
        };
        let create = Outputs::on_create(cloud, spec);
        let same_replicas =
            spec.read_replicas.is_known() && spec.read_replicas == prior.read_replicas;
        Outputs {
            // Declared `keep_prior` on the schema: the plan keeps them (see `plan_change`).
            id: Value::unknown(),
            endpoint: Value::unknown(),
            port: create.port,
            reader_endpoints: if same_replicas && whole {
                kept("reader_endpoints")
            } else {
                create.reader_endpoints
            },
            master_secret_arn: Value::unknown(),
            replica_status: if same_replicas && whole && spec.instance_class == prior.instance_class
            {
                kept("replica_status")
            } else {
                create.replica_status
            },
            // Null until the first backup: kept as it is when the state is whole.
            latest_restorable_time: match state.get_attr("latest_restorable_time") {
                Some(v) if whole => v.clone(),
                _ => Value::unknown(),
            },
            inventory: match components_on(cloud, spec) {
                Knowable::Known(list) => updated_inventory(cloud, &list, prior, state),
                Knowable::Unknown => Value::unknown(),
            },
            ha_report: create.ha_report,
        }
    }
}

/// The inventory on update: a component whose identity is unchanged keeps its prior
/// row (id and zone); a new or remade one is unknown until apply.
fn updated_inventory(
    cloud: Option<&dyn DatabaseBackend>,
    list: &[Component],
    prior: &DatabaseSpec,
    state: &Value,
) -> Value {
    let prior_rows: BTreeMap<&str, &Value> = state
        .get_attr("inventory")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(|row| Some((row.get_attr("key")?.as_str()?, row)))
        .collect();
    let prior_identity: BTreeMap<String, Knowable<String>> = components_on(cloud, prior)
        .into_option()
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.key, c.identity))
        .collect();
    let fresh = inventory_value(list, |_| Value::unknown());
    let Value::List(rows) = fresh else {
        return fresh;
    };
    Value::List(
        list.iter()
            .zip(rows)
            .map(|(c, row)| {
                let same = c.identity.is_known() && prior_identity.get(&c.key) == Some(&c.identity);
                // A row without an id is a component that did not exist yet.
                let same = same
                    && prior_rows
                        .get(c.key.as_str())
                        .and_then(|r| r.get_attr("id"))
                        .is_some_and(|id| !id.is_null());
                match prior_rows.get(c.key.as_str()) {
                    Some(prior_row) if same => (*prior_row).clone(),
                    _ => row,
                }
            })
            .collect(),
    )
}

fn known_or_unknown<T>(k: &Knowable<T>, f: impl FnOnce(&T) -> Value) -> Value {
    match k {
        Knowable::Known(v) => f(v),
        Knowable::Unknown => Value::unknown(),
    }
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn text(k: &Knowable<String>) -> Value {
    known_or_unknown(k, |s| Value::from(s.as_str()))
}

fn optional_text(k: &Knowable<Option<String>>) -> Value {
    known_or_unknown(k, |t| t.as_deref().map_or(Value::Null, Value::from))
}

fn strings_value(k: &Knowable<Vec<String>>) -> Value {
    known_or_unknown(k, |items| {
        Value::List(items.iter().map(|s| Value::from(s.as_str())).collect())
    })
}

fn string_map(entries: &BTreeMap<String, String>) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

fn network(n: &NetworkSpec) -> Value {
    object(vec![
        (
            "vpc_id",
            known_or_unknown(&n.vpc_id, |v| Value::from(v.as_str())),
        ),
        ("subnet_ids", strings_value(&n.subnet_ids)),
        (
            "allowed_security_group_ids",
            n.written.render(
                "allowed_security_group_ids",
                strings_value(&n.allowed_security_group_ids),
            ),
        ),
        (
            "allowed_cidrs",
            n.written
                .render("allowed_cidrs", strings_value(&n.allowed_cidrs)),
        ),
    ])
}

fn restore(r: &RestoreSpec) -> Value {
    object(vec![
        ("snapshot_id", optional_text(&r.snapshot_id)),
        (
            "source_db_instance_id",
            optional_text(&r.source_db_instance_id),
        ),
        ("restore_time", optional_text(&r.restore_time)),
        (
            "use_latest_restorable_time",
            if r.written.has("use_latest_restorable_time") {
                known_or_unknown(&r.use_latest_restorable_time, |b| Value::from(*b))
            } else {
                Value::Null
            },
        ),
    ])
}

/// The whole state object the spec stands for: effective settings and `outputs`.
/// Optional attributes without a default are null here; [`merge_block`] takes them
/// from the configuration.
pub(crate) fn render(spec: &DatabaseSpec, outputs: &Outputs) -> Value {
    let n = |k: &Knowable<u32>| known_or_unknown(k, |v| Value::from(i64::from(*v)));
    let b = |k: &Knowable<bool>| known_or_unknown(k, |v| Value::from(*v));
    let storage = object(vec![
        ("size_gb", n(&spec.storage.size_gb)),
        ("max_size_gb", n(&spec.storage.max_size_gb)),
        (
            "type",
            known_or_unknown(&spec.storage.storage_type, |t| Value::from(t.as_str())),
        ),
    ]);
    let backup = object(vec![
        ("retention_days", n(&spec.backup.retention_days)),
        ("window", text(&spec.backup.window)),
        ("copy_to_region", optional_text(&spec.backup.copy_to_region)),
    ]);
    let encryption_key_arn = match &spec.encryption_key {
        Knowable::Known(EncryptionKey::Provided(arn))
        | Knowable::Known(EncryptionKey::Created { id: Some(arn) }) => Value::from(arn.as_str()),
        _ => Value::unknown(),
    };
    object(vec![
        ("id", outputs.id.clone()),
        ("name", text(&spec.name)),
        (
            "profile",
            known_or_unknown(&spec.profile, |p| Value::from(p.name())),
        ),
        (
            "engine",
            known_or_unknown(&spec.engine, |e| Value::from(e.as_str())),
        ),
        ("engine_version", text(&spec.engine_version)),
        ("instance_class", text(&spec.instance_class)),
        ("storage", storage),
        ("multi_az", b(&spec.multi_az)),
        ("read_replicas", n(&spec.read_replicas)),
        ("backup", backup),
        ("maintenance_window", text(&spec.maintenance_window)),
        (
            "parameters",
            spec.written
                .render("parameters", known_or_unknown(&spec.parameters, string_map)),
        ),
        ("network", network(&spec.network)),
        ("encryption_key_arn", encryption_key_arn),
        ("deletion_protection", b(&spec.deletion_protection)),
        ("iam_authentication", b(&spec.iam_authentication)),
        ("final_snapshot", b(&spec.final_snapshot)),
        (
            "restore",
            known_or_unknown(&spec.restore, |r| r.as_ref().map_or(Value::Null, restore)),
        ),
        (
            "allow_major_version_upgrade",
            b(&spec.allow_major_version_upgrade),
        ),
        (
            "tags",
            spec.written
                .render("tags", known_or_unknown(&spec.tags, string_map)),
        ),
        ("tags_all", Value::unknown()),
        ("endpoint", outputs.endpoint.clone()),
        ("port", outputs.port.clone()),
        ("reader_endpoints", outputs.reader_endpoints.clone()),
        ("master_secret_arn", outputs.master_secret_arn.clone()),
        ("replica_status", outputs.replica_status.clone()),
        (
            "latest_restorable_time",
            outputs.latest_restorable_time.clone(),
        ),
        ("inventory", outputs.inventory.clone()),
        ("ha_report", outputs.ha_report.clone()),
        ("timeouts", Value::Null),
    ])
}

/// The replica names the backend gives replicas (`<name>-replica-<i>`), for
/// `replica_status` keys.
pub fn replica_name(name: &str, i: u32) -> String {
    format!("{name}-{}", replica_key(i).replace('.', "-"))
}

#[cfg(test)]
mod tests;
