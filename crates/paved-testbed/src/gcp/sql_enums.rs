//! Cloud SQL's enums by number: the Rust client (google-cloud-sql-v1) writes
//! every enum of a request as its proto number (`"availabilityType": 2`), which
//! the real Admin API accepts as it accepts names (the proto3 JSON mapping takes
//! either). The stand-in keeps and answers names, as gcloud reads them, so a
//! request's numbers become names here before any rule looks at them. The
//! tables are the numbers of the Cloud SQL Admin API v1 protos (`cloud_sql_*.proto`)
//! for the fields the stand-in models; a number it does not know stays a number.

use serde_json::{json, Value};

/// `SqlActivationPolicy`.
const SQL_ACTIVATION_POLICY: &[(u64, &str)] = &[
    (0, "SQL_ACTIVATION_POLICY_UNSPECIFIED"),
    (1, "ALWAYS"),
    (2, "NEVER"),
    (3, "ON_DEMAND"),
];

/// `SqlAvailabilityType`.
const SQL_AVAILABILITY_TYPE: &[(u64, &str)] = &[
    (0, "SQL_AVAILABILITY_TYPE_UNSPECIFIED"),
    (1, "ZONAL"),
    (2, "REGIONAL"),
];

/// `SqlBackendType`.
const SQL_BACKEND_TYPE: &[(u64, &str)] = &[
    (0, "SQL_BACKEND_TYPE_UNSPECIFIED"),
    (1, "FIRST_GEN"),
    (2, "SECOND_GEN"),
    (3, "EXTERNAL"),
];

/// `BackupTier`.
const BACKUP_TIER: &[(u64, &str)] = &[
    (0, "BACKUP_TIER_UNSPECIFIED"),
    (1, "STANDARD"),
    (2, "ADVANCED"),
    (3, "ENHANCED"),
];

/// `ConnectorEnforcement`.
const CONNECTOR_ENFORCEMENT: &[(u64, &str)] = &[
    (0, "CONNECTOR_ENFORCEMENT_UNSPECIFIED"),
    (1, "NOT_REQUIRED"),
    (2, "REQUIRED"),
];

/// `SqlDataDiskType`.
const SQL_DATA_DISK_TYPE: &[(u64, &str)] = &[
    (0, "SQL_DATA_DISK_TYPE_UNSPECIFIED"),
    (1, "PD_SSD"),
    (2, "PD_HDD"),
    (3, "OBSOLETE_LOCAL_SSD"),
    (4, "HYPERDISK_BALANCED"),
];

/// `SqlDatabaseVersion`.
const SQL_DATABASE_VERSION: &[(u64, &str)] = &[
    (0, "SQL_DATABASE_VERSION_UNSPECIFIED"),
    (2, "MYSQL_5_1"),
    (3, "MYSQL_5_5"),
    (5, "MYSQL_5_6"),
    (6, "MYSQL_5_7"),
    (9, "POSTGRES_9_6"),
    (10, "POSTGRES_11"),
    (11, "SQLSERVER_2017_STANDARD"),
    (14, "SQLSERVER_2017_ENTERPRISE"),
    (15, "SQLSERVER_2017_EXPRESS"),
    (16, "SQLSERVER_2017_WEB"),
    (18, "POSTGRES_10"),
    (19, "POSTGRES_12"),
    (20, "MYSQL_8_0"),
    (23, "POSTGRES_13"),
    (26, "SQLSERVER_2019_STANDARD"),
    (27, "SQLSERVER_2019_ENTERPRISE"),
    (28, "SQLSERVER_2019_EXPRESS"),
    (29, "SQLSERVER_2019_WEB"),
    (41, "MYSQL_8_0_18"),
    (85, "MYSQL_8_0_26"),
    (110, "POSTGRES_14"),
    (111, "MYSQL_8_0_27"),
    (132, "MYSQL_8_0_28"),
    (148, "MYSQL_8_0_29"),
    (172, "POSTGRES_15"),
    (174, "MYSQL_8_0_30"),
    (197, "MYSQL_8_0_31"),
    (199, "SQLSERVER_2022_STANDARD"),
    (200, "SQLSERVER_2022_ENTERPRISE"),
    (201, "SQLSERVER_2022_EXPRESS"),
    (202, "SQLSERVER_2022_WEB"),
    (213, "MYSQL_8_0_32"),
    (238, "MYSQL_8_0_33"),
    (239, "MYSQL_8_0_34"),
    (240, "MYSQL_8_0_35"),
    (241, "MYSQL_8_0_36"),
    (272, "POSTGRES_16"),
    (355, "MYSQL_8_0_37"),
    (357, "MYSQL_8_0_39"),
    (358, "MYSQL_8_0_40"),
    (398, "MYSQL_8_4"),
    (408, "POSTGRES_17"),
    (488, "MYSQL_8_0_41"),
    (489, "MYSQL_8_0_42"),
    (549, "SQLSERVER_2025_STANDARD"),
    (550, "SQLSERVER_2025_ENTERPRISE"),
    (551, "SQLSERVER_2025_EXPRESS"),
    (553, "MYSQL_8_0_43"),
    (554, "MYSQL_8_0_44"),
    (555, "MYSQL_8_0_45"),
    (556, "MYSQL_8_0_46"),
    (557, "POSTGRES_18"),
    (654, "MYSQL_9_7"),
    (684, "POSTGRES_19"),
    (781, "POSTGRES_20"),
];

/// `Edition`.
const EDITION: &[(u64, &str)] = &[
    (0, "EDITION_UNSPECIFIED"),
    (2, "ENTERPRISE"),
    (3, "ENTERPRISE_PLUS"),
    (5, "DEVELOPER"),
];

/// `SqlInstanceType`.
const SQL_INSTANCE_TYPE: &[(u64, &str)] = &[
    (0, "SQL_INSTANCE_TYPE_UNSPECIFIED"),
    (1, "CLOUD_SQL_INSTANCE"),
    (2, "ON_PREMISES_INSTANCE"),
    (3, "READ_REPLICA_INSTANCE"),
    (5, "READ_POOL_INSTANCE"),
    (7, "GREEN_INSTANCE"),
];

/// `SqlPricingPlan`.
const SQL_PRICING_PLAN: &[(u64, &str)] = &[
    (0, "SQL_PRICING_PLAN_UNSPECIFIED"),
    (1, "PACKAGE"),
    (2, "PER_USE"),
];

/// `SqlReplicationType`.
const SQL_REPLICATION_TYPE: &[(u64, &str)] = &[
    (0, "SQL_REPLICATION_TYPE_UNSPECIFIED"),
    (1, "SYNCHRONOUS"),
    (2, "ASYNCHRONOUS"),
];

/// `RetentionUnit`.
const RETENTION_UNIT: &[(u64, &str)] = &[(0, "RETENTION_UNIT_UNSPECIFIED"), (1, "COUNT")];

/// `CaMode`.
const CA_MODE: &[(u64, &str)] = &[
    (0, "CA_MODE_UNSPECIFIED"),
    (1, "GOOGLE_MANAGED_INTERNAL_CA"),
    (2, "GOOGLE_MANAGED_CAS_CA"),
    (3, "CUSTOMER_MANAGED_CAS_CA"),
];

/// `SslMode`.
const SSL_MODE: &[(u64, &str)] = &[
    (0, "SSL_MODE_UNSPECIFIED"),
    (1, "ALLOW_UNENCRYPTED_AND_ENCRYPTED"),
    (2, "ENCRYPTED_ONLY"),
    (3, "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"),
];

/// `SqlInstanceState`.
const SQL_INSTANCE_STATE: &[(u64, &str)] = &[
    (0, "SQL_INSTANCE_STATE_UNSPECIFIED"),
    (1, "RUNNABLE"),
    (2, "SUSPENDED"),
    (3, "PENDING_DELETE"),
    (4, "PENDING_CREATE"),
    (5, "MAINTENANCE"),
    (6, "FAILED"),
    (7, "ONLINE_MAINTENANCE"),
    (8, "REPAIRING"),
];

/// `SqlIpAddressType`.
const SQL_IP_ADDRESS_TYPE: &[(u64, &str)] = &[
    (0, "SQL_IP_ADDRESS_TYPE_UNSPECIFIED"),
    (1, "PRIMARY"),
    (2, "OUTGOING"),
    (3, "PRIVATE"),
    (4, "MIGRATED_1ST_GEN"),
];

/// `SqlUserType`.
const SQL_USER_TYPE: &[(u64, &str)] = &[
    (0, "BUILT_IN"),
    (1, "CLOUD_IAM_USER"),
    (2, "CLOUD_IAM_SERVICE_ACCOUNT"),
    (3, "CLOUD_IAM_GROUP"),
    (4, "CLOUD_IAM_GROUP_USER"),
    (5, "CLOUD_IAM_GROUP_SERVICE_ACCOUNT"),
    (6, "CLOUD_IAM_WORKFORCE_IDENTITY"),
    (7, "ENTRAID_USER"),
];

/// `SqlUpdateTrack`.
const SQL_UPDATE_TRACK: &[(u64, &str)] = &[
    (0, "SQL_UPDATE_TRACK_UNSPECIFIED"),
    (1, "canary"),
    (2, "stable"),
    (3, "week5"),
];

/// `SqlNetworkArchitecture`.
const SQL_NETWORK_ARCHITECTURE: &[(u64, &str)] = &[
    (0, "SQL_NETWORK_ARCHITECTURE_UNSPECIFIED"),
    (1, "NEW_NETWORK_ARCHITECTURE"),
    (2, "OLD_NETWORK_ARCHITECTURE"),
];

/// `TransactionalLogStorageState`.
const TRANSACTIONAL_LOG_STORAGE_STATE: &[(u64, &str)] = &[
    (0, "TRANSACTIONAL_LOG_STORAGE_STATE_UNSPECIFIED"),
    (1, "DISK"),
    (2, "SWITCHING_TO_CLOUD_STORAGE"),
    (3, "SWITCHED_TO_CLOUD_STORAGE"),
    (4, "CLOUD_STORAGE"),
];

/// The table of field `key` inside an object of field `parent` (`""` at the top
/// of a DatabaseInstance or User).
fn table(key: &str, parent: &str) -> Option<&'static [(u64, &'static str)]> {
    Some(match (key, parent) {
        ("activationPolicy", "settings") => SQL_ACTIVATION_POLICY,
        ("availabilityType", "settings") => SQL_AVAILABILITY_TYPE,
        ("backendType", "") => SQL_BACKEND_TYPE,
        ("backupTier", "backupConfiguration") => BACKUP_TIER,
        ("connectorEnforcement", "settings") => CONNECTOR_ENFORCEMENT,
        ("dataDiskType", "settings") => SQL_DATA_DISK_TYPE,
        ("databaseVersion", _) => SQL_DATABASE_VERSION,
        ("edition", "settings") => EDITION,
        ("instanceType", "") => SQL_INSTANCE_TYPE,
        ("pricingPlan", "settings") => SQL_PRICING_PLAN,
        ("replicationType", "settings") => SQL_REPLICATION_TYPE,
        ("retentionUnit", "backupRetentionSettings") => RETENTION_UNIT,
        ("serverCaMode", "ipConfiguration") => CA_MODE,
        ("sslMode", "ipConfiguration") => SSL_MODE,
        ("state", "") => SQL_INSTANCE_STATE,
        ("type", "ipAddresses") => SQL_IP_ADDRESS_TYPE,
        ("type", "") => SQL_USER_TYPE,
        ("updateTrack", "maintenanceWindow") => SQL_UPDATE_TRACK,
        ("sqlNetworkArchitecture", "") => SQL_NETWORK_ARCHITECTURE,
        ("transactionalLogStorageState", "backupConfiguration") => TRANSACTIONAL_LOG_STORAGE_STATE,
        _ => return None,
    })
}

/// Turns the enum numbers of a Cloud SQL request body into their names.
pub(super) fn normalize(value: &mut Value, parent: &str) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match (child.as_u64(), table(key, parent)) {
                    (Some(n), Some(t)) => {
                        if let Some((_, name)) = t.iter().find(|(i, _)| *i == n) {
                            *child = json!(name);
                        }
                    }
                    _ => normalize(child, key),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                normalize(item, parent);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_names_where_cloud_sql_has_enums() {
        let mut body = json!({
            "databaseVersion": 272,
            "settings": {
                "availabilityType": 2, "edition": 2, "dataDiskType": 1, "tier": "db-custom-1-3840",
                "ipConfiguration": {"sslMode": 2, "serverCaMode": 1},
                "backupConfiguration": {"backupRetentionSettings": {"retentionUnit": 1, "retainedBackups": 14},
                                        "transactionLogRetentionDays": 7, "transactionalLogStorageState": 4},
                "maintenanceWindow": {"day": 7, "hour": 5},
            },
            "ipAddresses": [{"type": 3, "ipAddress": "10.0.0.3"}],
            "state": 1,
            "sqlNetworkArchitecture": 1,
        });
        normalize(&mut body, "");
        assert_eq!(body["databaseVersion"], "POSTGRES_16");
        let s = &body["settings"];
        assert_eq!(s["availabilityType"], "REGIONAL");
        assert_eq!(s["edition"], "ENTERPRISE");
        assert_eq!(s["dataDiskType"], "PD_SSD");
        assert_eq!(s["ipConfiguration"]["sslMode"], "ENCRYPTED_ONLY");
        assert_eq!(
            s["ipConfiguration"]["serverCaMode"],
            "GOOGLE_MANAGED_INTERNAL_CA"
        );
        assert_eq!(
            s["backupConfiguration"]["backupRetentionSettings"]["retentionUnit"],
            "COUNT"
        );
        assert_eq!(
            s["backupConfiguration"]["backupRetentionSettings"]["retainedBackups"],
            14
        );
        assert_eq!(s["maintenanceWindow"]["day"], 7, "not an enum");
        assert_eq!(body["ipAddresses"][0]["type"], "PRIVATE");
        assert_eq!(body["state"], "RUNNABLE");
        assert_eq!(body["sqlNetworkArchitecture"], "NEW_NETWORK_ARCHITECTURE");
        assert_eq!(
            body["settings"]["backupConfiguration"]["transactionalLogStorageState"],
            "CLOUD_STORAGE",
            "an output field an update sends back"
        );
        let mut user = json!({"name": "app", "type": 0});
        normalize(&mut user, "");
        assert_eq!(user["type"], "BUILT_IN");
    }
}
