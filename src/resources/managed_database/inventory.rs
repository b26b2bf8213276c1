//! What a database stack consists of, and how well it survives the loss of a zone.
//!
//! [`components`] lists every cloud component a [`DatabaseSpec`] stands for, in the
//! order they are created; the plan shows it as the computed `inventory` and the
//! backend tags each component with its key. [`ha_report`] judges the spec at plan
//! time. Both are pure functions of the spec, so the plan and the apply agree. The
//! rows and the report reuse `paved_ha_cluster`'s types ([`Component`],
//! [`HaReport`], [`inventory_value`]).

pub use crate::stack::inventory::{inventory_value, Component, HaReport};

use super::config::{DatabaseSpec, EncryptionKey};

use crate::ports::database::{DatabaseBackend, DatabaseShape, Engine};

use crate::ports::database::kind;
use crate::ports::database::replica_key;
use crate::stack::Knowable;

fn regional(key: &str, kind: &'static str, identity: Knowable<String>) -> Component {
    Component {
        key: key.to_string(),
        kind,
        zone: Knowable::Known(None),
        identity,
    }
}

/// A component in a zone the cloud picks at create (unknown at plan time).
fn zonal(key: String, kind: &'static str, identity: Knowable<String>) -> Component {
    Component {
        key,
        kind,
        zone: Knowable::Unknown,
        identity,
    }
}

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
    }
}

/// The components on `cloud` (as its backend decides them), or in the reference
/// shape ([`components`]) when the cloud leaves it to the resource or is unknown.
pub fn components_on(
    cloud: Option<&dyn DatabaseBackend>,
    spec: &DatabaseSpec,
) -> Knowable<Vec<Component>> {
    cloud
        .and_then(|c| c.components(&shape(spec)))
        .unwrap_or_else(|| components(spec))
}

/// Every component the spec stands for, in creation order; unknown when a setting
/// that decides what exists (engine, key, replica count) is.
pub fn components(spec: &DatabaseSpec) -> Knowable<Vec<Component>> {
    let (Knowable::Known(engine), Knowable::Known(key), Knowable::Known(replicas)) =
        (&spec.engine, &spec.encryption_key, &spec.read_replicas)
    else {
        return Knowable::Unknown;
    };
    let fixed = || Knowable::Known(String::new());
    let mut out = Vec::new();
    if matches!(key, EncryptionKey::Created { .. }) {
        out.push(regional("kms_key", kind::KMS_KEY, fixed()));
    }
    out.push(regional("subnet_group", kind::SUBNET_GROUP, fixed()));
    out.push(regional(
        "security_group",
        kind::SECURITY_GROUP,
        spec.network.vpc_id.clone(),
    ));
    // The family follows the major version: a major upgrade makes a new group.
    let family = spec
        .engine_version
        .clone()
        .map(|v| engine.major_of(&v).unwrap_or(v));
    out.push(regional(
        "parameter_group",
        kind::PARAMETER_GROUP,
        family.map(|m| format!("{}{m}", engine.info().family_prefix)),
    ));
    let identity = spec
        .name
        .clone()
        .zip(spec.engine.clone())
        .map(|(n, e)| format!("{n}|{}", e.as_str()));
    if *engine == Engine::AuroraPostgresql {
        out.push(regional("cluster", kind::DB_CLUSTER, identity.clone()));
    }
    out.push(zonal(
        "instance".into(),
        kind::DB_INSTANCE,
        identity.clone(),
    ));
    for i in 0..*replicas {
        out.push(zonal(replica_key(i), kind::DB_REPLICA, identity.clone()));
    }
    out.push(regional("master_secret", kind::SECRET, identity));
    Knowable::Known(out)
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
        let list = components(&s).into_option().unwrap();
        let keys: Vec<&str> = list.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "kms_key",
                "subnet_group",
                "security_group",
                "parameter_group",
                "instance",
                "replica.0",
                "master_secret"
            ]
        );
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
        let keys: Vec<String> = components(&s)
            .into_option()
            .unwrap()
            .into_iter()
            .map(|c| c.key)
            .collect();
        assert!(keys.contains(&"cluster".to_string()));
        assert!(!keys.contains(&"kms_key".to_string()));
    }
}
