//! What a database stack consists of, and how well it survives the loss of a zone.
//!
//! [`shape`] puts what the plan knows of a [`DatabaseSpec`] in the port's terms, and
//! [`components_on`] asks the cloud's adapter which components a stack of that
//! shape consists of, in the order they are created: each cloud decides its own.
//! The plan shows them as the computed `inventory` and the backend tags each
//! component with its key. [`ha_report`] judges the spec at plan time. Both are pure
//! functions of the spec (and the cloud), so the plan and the apply agree. The rows
//! and the report reuse `paved_ha_cluster`'s types ([`Component`], [`HaReport`],
//! [`inventory_value`]).

pub use crate::stack::inventory::{inventory_value, Component, HaReport};

use super::config::{DatabaseSpec, EncryptionKey};

use crate::ports::database::{DatabaseBackend, DatabaseShape};

use crate::stack::Knowable;

/// What the plan knows of the stack, in the port's terms: what a cloud lists its
/// components from ([`DatabaseBackend::components`]).
pub fn shape(spec: &DatabaseSpec) -> DatabaseShape {
    DatabaseShape {
        name: spec.name.clone(),
        engine: spec.engine.clone(),
        engine_version: spec.engine_version.clone(),
        creates_key: spec
            .encryption_key
            .clone()
            .map(|k| matches!(k, EncryptionKey::Created { .. })),
        multi_az: spec.multi_az.clone(),
        read_replicas: spec.read_replicas.clone(),
        network: spec.network.vpc_id.clone(),
        instance_class: spec.instance_class.clone(),
        storage_gb: spec.storage.size_gb.clone(),
        storage_type: spec.storage.storage_type.clone(),
        backup_retention_days: spec.backup.retention_days.clone(),
        backup_copy: spec.backup.copy_to_region.clone().map(|r| r.is_some()),
    }
}

/// The components of the spec's stack on `cloud`, as its adapter decides them;
/// unknown without a cloud (a plan with no backend shows the inventory as known
/// after apply).
pub fn components_on(
    cloud: Option<&dyn DatabaseBackend>,
    spec: &DatabaseSpec,
) -> Knowable<Vec<Component>> {
    cloud.map_or(Knowable::Unknown, |c| c.components(&shape(spec)))
}

/// Judges the spec: zones holding a copy of the data, whether it survives the loss
/// of a zone (Multi-AZ, or a replica in another zone), and findings.
pub fn ha_report(spec: &DatabaseSpec) -> HaReport {
    let (Knowable::Known(multi_az), Knowable::Known(replicas), Knowable::Known(subnets)) = (
        spec.multi_az.clone(),
        spec.read_replicas.clone(),
        &spec.network.subnet_ids,
    ) else {
        return HaReport {
            zones_used: Knowable::Unknown,
            survives_zone_loss: Knowable::Unknown,
            findings: Knowable::Unknown,
        };
    };
    let copies = 1 + u32::from(multi_az) + replicas;
    let subnet_count = u32::try_from(subnets.len()).unwrap_or(u32::MAX).max(1);
    let zones_used = copies.min(subnet_count);
    let survives = zones_used >= 2 && (multi_az || replicas >= 1);
    let mut findings = Vec::new();
    if multi_az {
        findings.push(
            "Multi-AZ: a synchronous standby in a second zone takes over automatically when the primary's zone fails."
                .to_string(),
        );
    } else {
        findings.push("No Multi-AZ standby: losing the primary's zone stops writes.".to_string());
    }
    match replicas {
        0 => findings.push("No read replica.".to_string()),
        n => findings.push(format!(
            "{n} read replica(s), placed in zones other than the primary's; one can be promoted if the primary's zone \
             is lost."
        )),
    }
    if subnets.len() < 2 {
        findings.push(
            "The subnet group lists fewer than two subnets: every copy shares one zone."
                .to_string(),
        );
    }
    if spec.backup.retention_days == Knowable::Known(0) {
        findings.push("Automated backups are off: no point-in-time recovery.".to_string());
    }
    if !survives {
        findings.push("The database does not survive the loss of its zone.".to_string());
    }
    HaReport {
        zones_used: Knowable::Known(zones_used),
        survives_zone_loss: Knowable::Known(survives),
        findings: Knowable::Known(findings),
    }
}

#[cfg(test)]
mod tests {
    use paved_value::Value;

    use super::*;
    use crate::ports::database::Engine;

    fn spec(pairs: Vec<(&str, Value)>) -> DatabaseSpec {
        let mut all = vec![
            ("name", Value::from("orders")),
            (
                "network",
                Value::Object(
                    [
                        ("vpc_id".to_string(), Value::from("vpc-1")),
                        (
                            "subnet_ids".to_string(),
                            Value::List(vec!["a".into(), "b".into(), "c".into()]),
                        ),
                    ]
                    .into(),
                ),
            ),
        ];
        all.extend(pairs);
        let config = Value::Object(all.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
        DatabaseSpec::from_config(&config, &Value::Null).0
    }

    #[test]
    fn production_stack() {
        let s = spec(vec![]);
        // What the adapter lists the components from (the AWS adapter's tests
        // hold what it lists for it).
        let shape = shape(&s);
        assert_eq!(shape.creates_key, Knowable::Known(true));
        assert_eq!(shape.read_replicas, Knowable::Known(1));
        assert_eq!(shape.network, Knowable::Known("vpc-1".to_owned()));
        let report = ha_report(&s);
        assert_eq!(report.zones_used, Knowable::Known(3));
        assert_eq!(report.survives_zone_loss, Knowable::Known(true));
    }

    #[test]
    fn development_does_not_survive_and_aurora_has_a_cluster() {
        let s = spec(vec![("profile", "development".into())]);
        assert_eq!(ha_report(&s).survives_zone_loss, Knowable::Known(false));
        assert_eq!(ha_report(&s).zones_used, Knowable::Known(1));
        let s = spec(vec![
            ("engine", "aurora-postgresql".into()),
            ("encryption_key_arn", "arn:aws:kms:eu-west-1:1:key/k".into()),
        ]);
        let shape = shape(&s);
        assert_eq!(shape.engine, Knowable::Known(Engine::AuroraPostgresql));
        assert_eq!(shape.creates_key, Knowable::Known(false));
    }
}
