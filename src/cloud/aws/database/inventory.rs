//! The components an RDS stack consists of: the plan's `inventory` of a
//! `paved_managed_database` on AWS, listed from what the plan knows of the stack
//! ([`DatabaseShape`]) without any call. Each component carries its key as a tag.

use crate::ports::database::{kind, replica_key, DatabaseShape, Engine};
use crate::stack::inventory::Component;
use crate::stack::Knowable;

/// A component in a zone the cloud picks at create (unknown at plan time).
fn zonal(key: String, kind: &'static str, identity: Knowable<String>) -> Component {
    Component {
        key,
        kind,
        zone: Knowable::Unknown,
        identity,
    }
}

/// Every component of an RDS stack of `shape`, in creation order; unknown when a
/// setting that decides what exists (engine, key, replica count) is.
pub fn components(shape: &DatabaseShape) -> Knowable<Vec<Component>> {
    let Some((engine, creates_key, replicas)) = shape.decided() else {
        return Knowable::Unknown;
    };
    let once = |key: &str, kind| Component::regional(key, kind, Knowable::Known(String::new()));
    let mut out = Vec::new();
    if creates_key {
        out.push(once("kms_key", kind::KMS_KEY));
    }
    out.push(once("subnet_group", kind::SUBNET_GROUP));
    out.push(Component::regional(
        "security_group",
        kind::SECURITY_GROUP,
        shape.network.clone(),
    ));
    // The family follows the major version: a major upgrade makes a new group.
    let family = shape
        .engine_version
        .clone()
        .map(|v| engine.major_of(&v).unwrap_or(v));
    out.push(Component::regional(
        "parameter_group",
        kind::PARAMETER_GROUP,
        family.map(|m| format!("{}{m}", engine.info().family_prefix)),
    ));
    let identity = shape.identity();
    if engine == Engine::AuroraPostgresql {
        out.push(Component::regional(
            "cluster",
            kind::DB_CLUSTER,
            identity.clone(),
        ));
    }
    out.push(zonal(
        "instance".into(),
        kind::DB_INSTANCE,
        identity.clone(),
    ));
    for i in 0..replicas {
        out.push(zonal(replica_key(i), kind::DB_REPLICA, identity.clone()));
    }
    out.push(Component::regional("master_secret", kind::SECRET, identity));
    Knowable::Known(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A production stack: PostgreSQL 16 with a key paved creates, Multi-AZ and one
    /// read replica.
    fn production() -> DatabaseShape {
        DatabaseShape {
            engine_version: Knowable::Known("16.4".to_owned()),
            ..DatabaseShape::production()
        }
    }

    #[test]
    fn production_stack() {
        let list = components(&production()).into_option().unwrap();
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
        assert_eq!(list[3].identity, Knowable::Known("postgres16".to_owned()));
        assert_eq!(
            list[4].identity,
            Knowable::Known("orders|postgres".to_owned())
        );
        assert_eq!(list[4].zone, Knowable::Unknown);
    }

    #[test]
    fn aurora_has_a_cluster() {
        let aurora = DatabaseShape {
            engine: Knowable::Known(Engine::AuroraPostgresql),
            creates_key: Knowable::Known(false),
            ..production()
        };
        let list = components(&aurora).into_option().unwrap();
        let keys: Vec<&str> = list.iter().map(|c| c.key.as_str()).collect();
        assert!(keys.contains(&"cluster"));
        assert!(!keys.contains(&"kms_key"));
        let unknown = DatabaseShape {
            read_replicas: Knowable::Unknown,
            ..production()
        };
        assert_eq!(components(&unknown), Knowable::Unknown);
    }
}
