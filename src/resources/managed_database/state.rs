//! The state of a `paved_managed_database` as the cloud has it: [`Observed`]
//! gathers what an apply made or a refresh found and renders the state through the
//! same `render` the plan uses; refresh drift and import settings come from it too.
//! The master password is never here: only the ARN of the secret the cloud keeps.

use std::collections::BTreeMap;

use paved_value::Value;

use crate::stack::ComponentRecord;

use crate::ports::database::{
    DatabaseSnapshot, InstanceState, ParameterGroupState, ReplicaState, SecurityGroupState,
    SubnetGroupState,
};

use super::config::{DatabaseSpec, EncryptionKey};
use super::inventory::{components, ha_report, inventory_value};
use super::plan::{render, replica_name, Outputs};
use super::schema::schema;
use crate::ports::database::Engine;
use crate::ports::key::KeyState;
use crate::profiles::Profile;
use crate::stack::plan::merge_block;
use crate::stack::state::{attr_mut, set_attr, string_list};
use crate::stack::Knowable;

/// What the cloud says the database stack is.
#[derive(Debug, Default, Clone)]
pub struct Observed {
    /// The storage key paved created.
    pub key: Option<KeyState>,
    /// The subnet group.
    pub subnet_group: Option<SubnetGroupState>,
    /// The security group.
    pub security_group: Option<SecurityGroupState>,
    /// The parameter group.
    pub parameter_group: Option<ParameterGroupState>,
    /// The primary.
    pub instance: Option<InstanceState>,
    /// Replicas by index.
    pub replicas: BTreeMap<u32, ReplicaState>,
    /// Every component, by inventory key.
    pub components: BTreeMap<String, ComponentRecord>,
}

impl Observed {
    /// Everything a refresh read.
    pub fn from_snapshot(s: DatabaseSnapshot) -> Self {
        let mut o = Observed {
            key: s.key,
            subnet_group: s.subnet_group,
            security_group: s.security_group,
            parameter_group: s.parameter_group,
            instance: s.instance,
            replicas: s.replicas,
            components: BTreeMap::new(),
        };
        o.absorb(s.components);
        o
    }

    /// Records components a step made or found.
    pub fn absorb(&mut self, components: Vec<ComponentRecord>) {
        for c in components {
            self.components.insert(c.key.clone(), c);
        }
    }

    /// Fills the parts `other` has and this one lacks.
    pub fn fill_from(&mut self, other: Observed) {
        for (k, c) in other.components {
            self.components.entry(k).or_insert(c);
        }
        self.key = self.key.take().or(other.key);
        self.subnet_group = self.subnet_group.take().or(other.subnet_group);
        self.security_group = self.security_group.take().or(other.security_group);
        self.parameter_group = self.parameter_group.take().or(other.parameter_group);
        self.instance = self.instance.take().or(other.instance);
        for (i, r) in other.replicas {
            self.replicas.entry(i).or_insert(r);
        }
    }

    /// Whether anything of the stack exists.
    pub fn is_empty(&self) -> bool {
        self.components.is_empty() && self.instance.is_none()
    }

    /// Fills in the key's ARN once paved has made it.
    pub fn complete(&self, spec: &mut DatabaseSpec) {
        if let (Knowable::Known(EncryptionKey::Created { id: arn }), Some(key)) =
            (&mut spec.encryption_key, &self.key)
        {
            *arn = Some(key.id.clone());
        }
    }

    fn outputs(&self, spec: &DatabaseSpec) -> Outputs {
        let inst = self.instance.as_ref();
        let text = |v: Option<&str>| v.map_or(Value::Null, Value::from);
        let name = spec.name.known().cloned().unwrap_or_default();
        let wanted = spec.read_replicas.known().copied().unwrap_or(0);
        let inventory = match components(spec) {
            Knowable::Known(mut list) => {
                // The zone each component runs in, as the cloud reports it.
                for c in &mut list {
                    if let Some(r) = self.components.get(&c.key) {
                        c.zone = Knowable::Known(r.zone.clone());
                    }
                }
                inventory_value(&list, |c| {
                    if let Some(r) = self.components.get(&c.key) {
                        return Value::from(r.id.as_str());
                    }
                    match (c.key.as_str(), inst) {
                        ("master_secret", Some(i)) if !i.master_secret_arn.is_empty() => {
                            Value::from(i.master_secret_arn.as_str())
                        }
                        _ => Value::Null,
                    }
                })
            }
            Knowable::Unknown => Value::Null,
        };
        Outputs {
            id: text(inst.map(|i| i.id.as_str())),
            endpoint: text(inst.map(|i| i.endpoint.as_str())),
            port: inst.map_or_else(
                || {
                    spec.port()
                        .known()
                        .map_or(Value::Null, |p| Value::from(i64::from(*p)))
                },
                |i| Value::from(i64::from(i.port)),
            ),
            reader_endpoints: Value::List(
                (0..wanted)
                    .filter_map(|i| self.replicas.get(&i))
                    .map(|r| Value::from(r.endpoint.as_str()))
                    .collect(),
            ),
            master_secret_arn: text(
                inst.map(|i| i.master_secret_arn.as_str())
                    .filter(|a| !a.is_empty()),
            ),
            replica_status: Value::Map(
                (0..wanted)
                    .map(|i| {
                        let status = self
                            .replicas
                            .get(&i)
                            .map_or("missing", |r| r.status.as_str());
                        (replica_name(&name, i), Value::from(status))
                    })
                    .collect(),
            ),
            latest_restorable_time: text(inst.and_then(|i| i.latest_restorable_time.as_deref())),
            inventory,
            ha_report: ha_report(spec).to_value(),
        }
    }

    /// The state object: `settings` (the configuration, or a state read as one) with
    /// the effective values of `spec` and what exists.
    pub fn state(&self, spec: &DatabaseSpec, settings: &Value) -> Value {
        merge_block(
            &schema().block,
            settings,
            &render(spec, &self.outputs(spec)),
        )
    }
}

/// The state with the drift a refresh found: the instance class, Multi-AZ,
/// deletion protection, backup retention, the number of replicas, storage that is smaller than recorded (storage autoscaling
/// only grows it, which is not drift), and the security group's admitted sources.
pub fn with_drift(state: &Value, observed: &Observed) -> Value {
    let mut out = state.clone();
    if let Some(inst) = &observed.instance {
        set_attr(
            &mut out,
            "instance_class",
            Value::from(inst.instance_class.as_str()),
        );
        set_attr(&mut out, "multi_az", Value::from(inst.multi_az));
        set_attr(
            &mut out,
            "deletion_protection",
            Value::from(inst.deletion_protection),
        );
        if let Some(backup) = attr_mut(&mut out, "backup") {
            set_attr(
                backup,
                "retention_days",
                Value::from(i64::from(inst.backup_retention_days)),
            );
        }
        if let Some(storage) = attr_mut(&mut out, "storage") {
            let recorded = storage.get_attr("size_gb").and_then(Value::as_i64);
            if recorded.is_some_and(|r| i64::from(inst.size_gb) < r) {
                set_attr(storage, "size_gb", Value::from(i64::from(inst.size_gb)));
            }
        }
        let replicas = (0u32..)
            .take_while(|i| observed.replicas.contains_key(i))
            .count();
        set_attr(
            &mut out,
            "read_replicas",
            Value::from(i64::try_from(replicas).unwrap_or(0)),
        );
    }
    if let (Some(sg), Some(network)) = (&observed.security_group, attr_mut(&mut out, "network")) {
        let drifted = |recorded: Option<&Value>, actual: &[String]| {
            let mut recorded: Vec<String> = recorded
                .and_then(Value::as_list)
                .unwrap_or_default()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let mut actual = actual.to_vec();
            recorded.sort();
            actual.sort();
            recorded != actual
        };
        if drifted(
            network.get_attr("allowed_security_group_ids"),
            &sg.allowed_security_group_ids,
        ) {
            set_attr(
                network,
                "allowed_security_group_ids",
                string_list(&sg.allowed_security_group_ids),
            );
        }
        if drifted(network.get_attr("allowed_cidrs"), &sg.allowed_cidrs) {
            set_attr(network, "allowed_cidrs", string_list(&sg.allowed_cidrs));
        }
    }
    out
}

fn text_or_null(text: &str) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        Value::from(text)
    }
}

/// The engine a parameter group family belongs to (`postgres16` → postgres).
fn engine_of_family(family: &str) -> Option<Engine> {
    [Engine::Postgres, Engine::Mysql, Engine::AuroraPostgresql]
        .into_iter()
        .filter(|e| family.starts_with(e.info().family_prefix))
        .max_by_key(|e| e.info().family_prefix.len())
}

/// The settings an import writes: what the cloud tells (engine, version, class,
/// storage, Multi-AZ, replicas, network), with the profile judged from Multi-AZ and
/// replicas; the rest takes the profile's defaults. `None` without an instance.
pub fn import_settings(name: &str, observed: &Observed) -> Option<Value> {
    let inst = observed.instance.as_ref()?;
    let engine = observed
        .parameter_group
        .as_ref()
        .and_then(|p| engine_of_family(&p.family))
        .unwrap_or(Engine::Postgres);
    let replicas = observed.replicas.len();
    let profile = if inst.multi_az {
        Profile::Production
    } else {
        Profile::Staging
    };
    let obj = |pairs: Vec<(&str, Value)>| {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    };
    let network = obj(vec![
        (
            "vpc_id",
            observed
                .subnet_group
                .as_ref()
                .map_or(Value::Null, |g| Value::from(g.vpc_id.as_str())),
        ),
        (
            "subnet_ids",
            observed
                .subnet_group
                .as_ref()
                .map_or(Value::Null, |g| string_list(&g.subnet_ids)),
        ),
        (
            "allowed_security_group_ids",
            observed
                .security_group
                .as_ref()
                .filter(|s| !s.allowed_security_group_ids.is_empty())
                .map_or(Value::Null, |s| string_list(&s.allowed_security_group_ids)),
        ),
        (
            "allowed_cidrs",
            observed
                .security_group
                .as_ref()
                .filter(|s| !s.allowed_cidrs.is_empty())
                .map_or(Value::Null, |s| string_list(&s.allowed_cidrs)),
        ),
    ]);
    Some(obj(vec![
        ("name", Value::from(name)),
        ("profile", Value::from(profile.name())),
        ("engine", Value::from(engine.as_str())),
        ("engine_version", Value::from(inst.engine_version.as_str())),
        ("instance_class", Value::from(inst.instance_class.as_str())),
        ("multi_az", Value::from(inst.multi_az)),
        (
            "storage",
            obj(vec![
                ("size_gb", Value::from(i64::from(inst.size_gb))),
                (
                    "max_size_gb",
                    if inst.max_size_gb > 0 {
                        Value::from(i64::from(inst.max_size_gb))
                    } else {
                        Value::Null
                    },
                ),
                (
                    "type",
                    if inst.storage_type.is_empty() {
                        Value::Null
                    } else {
                        Value::from(inst.storage_type.as_str())
                    },
                ),
            ]),
        ),
        (
            "backup",
            obj(vec![
                (
                    "retention_days",
                    Value::from(i64::from(inst.backup_retention_days)),
                ),
                ("window", text_or_null(&inst.backup_window)),
                ("copy_to_region", Value::Null),
            ]),
        ),
        ("maintenance_window", text_or_null(&inst.maintenance_window)),
        ("deletion_protection", Value::from(inst.deletion_protection)),
        (
            "read_replicas",
            Value::from(i64::try_from(replicas).unwrap_or(0)),
        ),
        ("network", network),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_name_their_engine() {
        assert_eq!(engine_of_family("postgres16"), Some(Engine::Postgres));
        assert_eq!(engine_of_family("mysql8.0"), Some(Engine::Mysql));
        assert_eq!(engine_of_family("nonsense"), None);
    }
}
