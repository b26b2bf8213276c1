//! The state of a `paved_managed_database` as the cloud has it: [`Observed`]
//! gathers what an apply made or a refresh found and renders the state through the
//! same `render` the plan uses; refresh drift and import settings come from it too.
//! The master password is never here: only the ARN of the secret the cloud keeps.

use std::collections::BTreeMap;

use paved_value::Value;

use crate::stack::ComponentRecord;

use crate::ports::database::{
    DatabaseBackend, DatabaseSnapshot, InstanceState, ParameterGroupState, ReplicaState,
    SecurityGroupState, SubnetGroupState,
};

use super::config::{DatabaseSpec, EncryptionKey};
use super::inventory::{components_on, ha_report, inventory_value};
use super::plan::{render, replica_name, Outputs};
use super::schema::schema;
use crate::ports::database::Engine;
use crate::ports::key::KeyState;
use crate::profiles::Profile;
use crate::stack::plan::{merge_block, read_back};
use crate::stack::state::string_list;
use crate::stack::Knowable;

/// The cloud's backend, kept for what it decides without a call (the components
/// of a spec).
#[derive(Clone)]
pub struct Layout(pub std::sync::Arc<dyn DatabaseBackend>);

impl std::fmt::Debug for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Layout(cloud backend)")
    }
}

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
    /// The backend that decides which components a spec stands for (its
    /// [`DatabaseBackend::components`]), set by the apply or read that had it;
    /// `None`: no cloud, so the inventory is not known.
    pub cloud: Option<Layout>,
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
            cloud: None,
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
        self.cloud = self.cloud.take().or(other.cloud);
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
        let cloud = self.cloud.as_ref().map(|l| l.0.as_ref());
        let inventory = match components_on(cloud, spec) {
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

impl Observed {
    /// The drift a refresh found, written onto the typed spec: the instance class,
    /// Multi-AZ, deletion protection, IAM authentication, backup retention, the
    /// number of replicas, storage that is smaller than recorded (storage
    /// autoscaling only grows it, which is not drift), and the security group's
    /// admitted sources when they differ as sets (the order written stays otherwise).
    pub fn apply_drift(&self, spec: &mut DatabaseSpec) {
        if let Some(inst) = &self.instance {
            spec.instance_class = Knowable::Known(inst.instance_class.clone());
            spec.multi_az = Knowable::Known(inst.multi_az);
            spec.deletion_protection = Knowable::Known(inst.deletion_protection);
            spec.iam_authentication = Knowable::Known(inst.iam_authentication);
            spec.backup.retention_days = Knowable::Known(inst.backup_retention_days);
            if let Knowable::Known(recorded) = spec.storage.size_gb {
                if inst.size_gb < recorded {
                    spec.storage.size_gb = Knowable::Known(inst.size_gb);
                }
            }
            let replicas = (0u32..)
                .take_while(|i| self.replicas.contains_key(i))
                .count();
            spec.read_replicas = Knowable::Known(u32::try_from(replicas).unwrap_or(0));
        }
        if let Some(sg) = &self.security_group {
            let drift = |recorded: &mut Knowable<Vec<String>>, actual: &[String]| {
                let mut was = recorded.known().cloned().unwrap_or_default();
                let mut now = actual.to_vec();
                was.sort();
                now.sort();
                if was != now {
                    *recorded = Knowable::Known(actual.to_vec());
                }
            };
            drift(
                &mut spec.network.allowed_security_group_ids,
                &sg.allowed_security_group_ids,
            );
            drift(&mut spec.network.allowed_cidrs, &sg.allowed_cidrs);
        }
    }

    /// The state a read writes: the spec (drift applied) rendered with what exists,
    /// over `base` where the spec cannot tell.
    pub fn read_back(&self, spec: &DatabaseSpec, base: &Value) -> Value {
        read_back(&schema().block, base, &render(spec, &self.outputs(spec)))
    }
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
        ("iam_authentication", Value::from(inst.iam_authentication)),
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
    use crate::ports::database::SecurityGroupState;

    #[test]
    fn families_name_their_engine() {
        assert_eq!(engine_of_family("postgres16"), Some(Engine::Postgres));
        assert_eq!(engine_of_family("mysql8.0"), Some(Engine::Mysql));
        assert_eq!(engine_of_family("nonsense"), None);
    }

    /// A state as an apply of a database in the given network leaves it.
    fn applied(network: Value) -> Value {
        use crate::stack::schema_testing::config_of;
        let config = config_of(
            &schema().block,
            vec![("name", Value::from("orders")), ("network", network)],
        );
        let planned = super::super::fake::plan(&Value::Null, &config, &config).planned_state;
        crate::stack::state::unknowns_to_null(&planned)
    }

    fn network(cidrs: Value) -> Value {
        Value::Object(BTreeMap::from([
            ("vpc_id".to_string(), Value::from("vpc-1")),
            ("subnet_ids".to_string(), string_list(&["s-a", "s-b"])),
            ("allowed_security_group_ids".to_string(), Value::Null),
            ("allowed_cidrs".to_string(), cidrs),
        ]))
    }

    #[test]
    fn a_state_read_back_without_drift_is_the_same_state() {
        let state = applied(network(string_list(&["10.1.0.0/16", "10.0.0.0/16"])));
        let spec = DatabaseSpec::from_state(&state);
        let out = Observed::default().read_back(&spec, &state);
        let Value::Object(attrs) = &state else {
            panic!("a state is an object")
        };
        let outputs = [
            "id",
            "endpoint",
            "port",
            "reader_endpoints",
            "master_secret_arn",
        ];
        let outputs = [
            &outputs[..],
            &["replica_status", "inventory", "latest_restorable_time"],
        ];
        for (name, v) in attrs {
            if outputs.concat().contains(&name.as_str()) {
                continue; // rendered from what the cloud reported (nothing here)
            }
            assert_eq!(out.get_attr(name), Some(v), "{name}");
        }
    }

    #[test]
    fn admitted_sources_drift_as_sets_and_unwritten_ones_show_when_added() {
        let state = applied(network(string_list(&["10.1.0.0/16", "10.0.0.0/16"])));
        let observed = |groups: &[&str], cidrs: &[&str]| Observed {
            security_group: Some(SecurityGroupState {
                id: "sg-1".into(),
                allowed_security_group_ids: groups.iter().map(|g| g.to_string()).collect(),
                allowed_cidrs: cidrs.iter().map(|c| c.to_string()).collect(),
            }),
            ..Observed::default()
        };
        let read = |o: Observed| {
            let mut spec = DatabaseSpec::from_state(&state);
            o.apply_drift(&mut spec);
            o.read_back(&spec, &state)
        };
        // Same sources in another order: no drift, the written order stays.
        let same = read(observed(&[], &["10.0.0.0/16", "10.1.0.0/16"]));
        assert_eq!(same.get_attr("network"), state.get_attr("network"));
        // A group admitted by hand shows, although the list was never written.
        let added = read(observed(&["sg-by-hand"], &["10.0.0.0/16", "10.1.0.0/16"]));
        let net = added.get_attr("network").unwrap();
        assert_eq!(
            net.get_attr("allowed_security_group_ids"),
            Some(&string_list(&["sg-by-hand"]))
        );
    }
}
