//! The AWS backend of `paved_managed_database` against a real moto server behind the
//! counting proxy: a production stack (key, groups, Multi-AZ primary, one replica in
//! another zone), a second apply that creates nothing, a refresh in a bounded number
//! of calls, in-place changes, teardown with a final snapshot (and a second teardown
//! that does nothing), then restores from that snapshot and to a point in time.
//!
//! moto makes every instance available at once, so waiting is tested by the
//! scripted unit tests in `src/cloud/aws/database/wait.rs`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use paved::cloud::aws::database::AwsDatabaseBackend;
use paved::ports::database::{
    final_snapshot_name, DatabaseBackend, DeleteRequest, InstanceRequest, InstanceState,
    ModifyRequest, ParameterGroupRequest, ParameterGroupState, PointInTimeRequest, ReplicaRequest,
    ReplicaState, SecurityGroupRequest, SecurityGroupState, SnapshotRestoreRequest,
    SubnetGroupRequest, SubnetGroupState,
};
use paved::ports::database::{Engine, StorageType};
use paved::ports::key::{EncryptionKeyRequest, KeyState};
use paved::stack::tags::{COMPONENT_TAG, MANAGED_BY_TAG, RESOURCE_TAG, STACK_TAG};
use paved::stack::StackContext;
use paved_testbed::{FaultConfig, FaultProxy, ProxyHandle};

use crate::support::aws::{
    database_context as context, moto_clients, moto_config, user_network, ZONES,
};
use crate::support::{calls, Moto};

/// Direct clients to moto (not counted by the proxy), for setup and checks.
struct Direct {
    ec2: aws_sdk_ec2::Client,
    rds: aws_sdk_rds::Client,
    kms: aws_sdk_kms::Client,
    secrets: aws_sdk_secretsmanager::Client,
}

impl Direct {
    fn new(moto: &Moto) -> Self {
        let conf = moto_config(&moto.endpoint());
        Self {
            ec2: aws_sdk_ec2::Client::new(&conf),
            rds: aws_sdk_rds::Client::new(&conf),
            kms: aws_sdk_kms::Client::new(&conf),
            secrets: aws_sdk_secretsmanager::Client::new(&conf),
        }
    }
}

/// The network the database lives in, made with the EC2 SDK directly.
struct Network {
    vpc_id: String,
    subnet_ids: Vec<String>,
    client_sg: String,
}

async fn network(ec2: &aws_sdk_ec2::Client) -> Network {
    let (vpc_id, subnet_ids) = user_network(ec2, 0, &ZONES).await;
    let sg = ec2
        .create_security_group()
        .group_name("cluster-nodes")
        .description("the application's nodes")
        .vpc_id(&vpc_id)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::SecurityGroup)
                .tags(Tag::builder().key("Name").value("nodes").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    Network {
        vpc_id,
        subnet_ids,
        client_sg: sg.group_id().unwrap().to_owned(),
    }
}

/// Everything a production apply made.
#[derive(Debug)]
struct Applied {
    key: KeyState,
    subnets: SubnetGroupState,
    security: SecurityGroupState,
    parameters: ParameterGroupState,
    instance: InstanceState,
    replica: ReplicaState,
}

struct Groups {
    key: KeyState,
    subnets: SubnetGroupState,
    security: SecurityGroupState,
    parameters: ParameterGroupState,
}

/// The database port open to the application's nodes and one range.
fn security_request(net: &Network) -> SecurityGroupRequest {
    SecurityGroupRequest {
        vpc_id: net.vpc_id.clone(),
        port: 5432,
        allowed_security_group_ids: vec![net.client_sg.clone()],
        allowed_cidrs: vec!["10.1.0.0/16".to_owned()],
    }
}

async fn groups(backend: &AwsDatabaseBackend, ctx: &StackContext, net: &Network) -> Groups {
    let key = backend
        .ensure_encryption_key(ctx, &EncryptionKeyRequest::Create)
        .await
        .result
        .expect("key");
    let subnets = backend
        .ensure_subnet_group(
            ctx,
            &SubnetGroupRequest {
                subnet_ids: net.subnet_ids.clone(),
            },
        )
        .await
        .result
        .expect("subnet group");
    let security = backend
        .ensure_security_group(ctx, &security_request(net))
        .await
        .result
        .expect("security group");
    let parameters = backend
        .ensure_parameter_group(
            ctx,
            &ParameterGroupRequest {
                engine: Engine::Postgres,
                family: "postgres16".to_owned(),
                parameters: BTreeMap::from([(
                    "log_min_duration_statement".to_owned(),
                    "500".to_owned(),
                )]),
            },
        )
        .await
        .result
        .expect("parameter group");
    Groups {
        key,
        subnets,
        security,
        parameters,
    }
}

fn instance_request(name: &str, g: &Groups) -> InstanceRequest {
    InstanceRequest {
        name: name.to_owned(),
        engine: Engine::Postgres,
        engine_version: "16.3".to_owned(),
        instance_class: "db.m6g.large".to_owned(),
        size_gb: 100,
        max_size_gb: 500,
        storage_type: StorageType::Gp3,
        multi_az: true,
        backup_retention_days: 14,
        backup_window: "03:00-04:00".to_owned(),
        backup_copy_region: Some("us-west-2".to_owned()),
        maintenance_window: "sun:05:00-sun:06:00".to_owned(),
        subnet_group_id: g.subnets.id.clone(),
        security_group_id: g.security.id.clone(),
        parameter_group_id: g.parameters.id.clone(),
        encryption_key: g.key.id.clone(),
        deletion_protection: true,
        iam_authentication: true,
    }
}

async fn production(backend: &AwsDatabaseBackend, ctx: &StackContext, net: &Network) -> Applied {
    let g = groups(backend, ctx, net).await;
    let step = backend
        .ensure_instance(ctx, &instance_request(&ctx.stack, &g))
        .await;
    let instance = step.result.expect("instance");
    assert!(
        step.components
            .iter()
            .any(|c| c.key == "instance" && c.id == ctx.stack),
        "{:?}",
        step.components
    );
    assert!(
        step.components.iter().any(|c| c.key == "master_secret"),
        "{:?}",
        step.components
    );
    let replica = backend
        .ensure_replica(
            ctx,
            &ReplicaRequest {
                index: 0,
                source_id: instance.id.clone(),
                instance_class: "db.m6g.large".to_owned(),
                avoid_zones: vec![instance.zone.clone()],
            },
        )
        .await
        .result
        .expect("replica");
    Applied {
        key: g.key,
        subnets: g.subnets,
        security: g.security,
        parameters: g.parameters,
        instance,
        replica,
    }
}

fn counts(proxy: &ProxyHandle) -> BTreeMap<String, u64> {
    calls(&proxy.stats())
}

fn creates(counts: &BTreeMap<String, u64>) -> u64 {
    counts
        .iter()
        .filter(|(k, _)| {
            let action = k.split(':').nth(1).unwrap_or_default();
            action.starts_with("Create")
                || action.starts_with("Restore")
                || action.starts_with("Authorize")
                || action.starts_with("Modify")
        })
        .map(|(_, n)| n)
        .sum()
}

/// `n` databases that are not the stack's (untagged, named `other-<i>`), made
/// directly in moto.
async fn other_databases(rds: &aws_sdk_rds::Client, n: usize) {
    let creates = (0..n).map(|i| {
        rds.create_db_instance()
            .db_instance_identifier(format!("other-{i}"))
            .engine("postgres")
            .db_instance_class("db.t4g.micro")
            .allocated_storage(20)
            .master_username("app")
            .master_user_password("not-a-secret-1")
            .send()
    });
    for created in futures::future::join_all(creates).await {
        created.expect("create another database");
    }
}

fn rds_has(tags: &[aws_sdk_rds::types::Tag], key: &str, value: &str) -> bool {
    tags.iter()
        .any(|t| t.key() == Some(key) && t.value() == Some(value))
}

async fn assert_rds_tagged(rds: &aws_sdk_rds::Client, arn: &str, stack: &str, component: &str) {
    let tags = rds
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .unwrap();
    let tags = tags.tag_list();
    for (k, v) in [
        (STACK_TAG, stack),
        (RESOURCE_TAG, "paved_managed_database"),
        (COMPONENT_TAG, component),
        (MANAGED_BY_TAG, "paved"),
        ("team", "data"),
    ] {
        assert!(rds_has(tags, k, v), "{arn} lacks {k}={v}: {tags:?}");
    }
}

async fn describe(rds: &aws_sdk_rds::Client, id: &str) -> aws_sdk_rds::types::DbInstance {
    rds.describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .unwrap()
        .db_instances()[0]
        .clone()
}

/// The backend, through the proxy.
fn backend(proxy: &ProxyHandle) -> AwsDatabaseBackend {
    AwsDatabaseBackend::new(moto_clients(&proxy.endpoint()))
}

/// Throttling and 5xx answers on a fifth of the calls: the stack still converges,
/// and a second apply still creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_database_under_throttling() {
    let moto = Moto::start();
    let faults = FaultConfig::none()
        .with_throttle_rate(0.15)
        .with_error_503_rate(0.05)
        .with_seed(11);
    let proxy = FaultProxy::start(&moto.endpoint(), faults).expect("proxy");
    let backend = backend(&proxy);
    let direct = Direct::new(&moto);
    let net = network(&direct.ec2).await;
    let ctx = context("ledger");
    let applied = production(&backend, &ctx, &net).await;
    assert_eq!(applied.instance.status, "available");
    let stats = proxy.stats();
    println!(
        "faults injected: {:?} of {} calls",
        stats.faults, stats.total
    );
    assert!(stats.faults.failures() > 0, "{stats:?}");
    proxy.reset();
    production(&backend, &ctx, &net).await;
    assert_eq!(creates(&counts(&proxy)), 0, "{:#?}", counts(&proxy));
    let read = backend
        .read_stack(&ctx)
        .await
        .result
        .expect("read under throttling");
    assert_eq!(read.replicas.len(), 1);
    proxy.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_database_lifecycle() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint(), FaultConfig::none()).expect("proxy");
    let backend = backend(&proxy);
    let direct = Direct::new(&moto);
    let net = network(&direct.ec2).await;
    let ctx = context("orders");

    // 1. Production stack.
    let applied = production(&backend, &ctx, &net).await;
    let first = counts(&proxy);
    println!("first apply: {first:#?}");
    assert_eq!(applied.subnets.zones, ZONES);
    assert!(applied.instance.multi_az);
    assert_eq!(applied.instance.status, "available");
    assert_ne!(applied.replica.zone, applied.instance.zone);
    assert_eq!(applied.replica.id, "orders-replica-0");
    assert!(
        applied
            .instance
            .master_secret_arn
            .starts_with("arn:aws:secretsmanager:"),
        "{}",
        applied.instance.master_secret_arn
    );
    // No password anywhere in what the backend returns.
    let secret = direct
        .secrets
        .get_secret_value()
        .secret_id(&applied.instance.master_secret_arn)
        .send()
        .await
        .expect("RDS made the master secret");
    let secret_text = secret.secret_string().unwrap_or_default().to_owned();
    let password = serde_json::from_str::<serde_json::Value>(&secret_text)
        .ok()
        .and_then(|v| v["password"].as_str().map(str::to_owned))
        .unwrap_or(secret_text);
    assert!(!password.is_empty());
    let shown = format!("{applied:?}");
    assert!(!shown.contains(&password), "the password leaked: {shown}");
    assert!(!shown.to_lowercase().contains("password"), "{shown}");

    // What moto holds: tagged, encrypted, Multi-AZ, TLS enforced, exact ingress.
    let db = describe(&direct.rds, "orders").await;
    assert_eq!(db.storage_encrypted(), Some(true));
    assert_eq!(db.kms_key_id(), Some(applied.key.id.as_str()));
    assert_eq!(db.backup_retention_period(), Some(14));
    assert_eq!(db.deletion_protection(), Some(true));
    assert_eq!(db.iam_database_authentication_enabled(), Some(true));
    assert_eq!(db.max_allocated_storage(), Some(500));
    assert_rds_tagged(
        &direct.rds,
        db.db_instance_arn().unwrap(),
        "orders",
        "instance",
    )
    .await;
    let replica = describe(&direct.rds, "orders-replica-0").await;
    assert_eq!(
        replica.read_replica_source_db_instance_identifier(),
        Some("orders")
    );
    assert_rds_tagged(
        &direct.rds,
        replica.db_instance_arn().unwrap(),
        "orders",
        "replica.0",
    )
    .await;
    assert_eq!(applied.parameters.id, "paved-orders-postgres16");
    assert_eq!(applied.parameters.family, "postgres16");
    let sng = direct
        .rds
        .describe_db_subnet_groups()
        .db_subnet_group_name("paved-orders")
        .send()
        .await
        .unwrap();
    assert_rds_tagged(
        &direct.rds,
        sng.db_subnet_groups()[0].db_subnet_group_arn().unwrap(),
        "orders",
        "subnet_group",
    )
    .await;
    let pg = direct
        .rds
        .describe_db_parameter_groups()
        .db_parameter_group_name("paved-orders-postgres16")
        .send()
        .await
        .unwrap();
    assert_rds_tagged(
        &direct.rds,
        pg.db_parameter_groups()[0]
            .db_parameter_group_arn()
            .unwrap(),
        "orders",
        "parameter_group",
    )
    .await;
    let params = direct
        .rds
        .describe_db_parameters()
        .db_parameter_group_name("paved-orders-postgres16")
        .send()
        .await
        .unwrap();
    let params: BTreeMap<_, _> = params
        .parameters()
        .iter()
        .map(|p| (p.parameter_name().unwrap(), p.parameter_value().unwrap()))
        .collect();
    assert_eq!(params.get("rds.force_ssl"), Some(&"1"));
    assert_eq!(params.get("log_min_duration_statement"), Some(&"500"));
    let sg = direct
        .ec2
        .describe_security_groups()
        .group_ids(&applied.security.id)
        .send()
        .await
        .unwrap();
    let sg = &sg.security_groups()[0];
    assert_eq!(sg.group_name(), Some("paved-db-orders"));
    assert!(sg
        .tags()
        .iter()
        .any(|t| t.key() == Some(RESOURCE_TAG) && t.value() == Some("paved_managed_database")));
    let perms = sg.ip_permissions();
    assert_eq!(perms.len(), 1, "{perms:?}");
    assert_eq!(perms[0].from_port(), Some(5432));
    assert_eq!(
        perms[0].user_id_group_pairs()[0].group_id(),
        Some(net.client_sg.as_str())
    );
    assert_eq!(perms[0].ip_ranges()[0].cidr_ip(), Some("10.1.0.0/16"));
    let key = direct
        .kms
        .list_resource_tags()
        .key_id(&applied.key.id)
        .send()
        .await
        .unwrap();
    assert!(key
        .tags()
        .iter()
        .any(|t| t.tag_key() == RESOURCE_TAG && t.tag_value() == "paved_managed_database"));

    // An extra ingress rule added by hand is revoked by the next apply.
    direct
        .ec2
        .authorize_security_group_ingress()
        .group_id(&applied.security.id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    backend
        .ensure_security_group(&ctx, &security_request(&net))
        .await
        .result
        .expect("converge ingress");
    let sg = direct
        .ec2
        .describe_security_groups()
        .group_ids(&applied.security.id)
        .send()
        .await
        .unwrap();
    assert_eq!(sg.security_groups()[0].ip_permissions().len(), 1);

    // 2. The same apply again creates nothing.
    proxy.reset();
    let again = production(&backend, &ctx, &net).await;
    let second = counts(&proxy);
    println!("second apply: {second:#?}");
    assert_eq!(creates(&second), 0, "{second:#?}");
    assert_eq!(again.instance.id, applied.instance.id);
    assert_eq!(again.replica.id, applied.replica.id);
    assert_eq!(again.security.id, applied.security.id);
    assert_eq!(again.key.id, applied.key.id);

    // 3. Refresh in three calls: the groups come with the primary, and the instances
    // are asked for by name. 100 other databases in the account fill moto's first page
    // of a `DescribeDBInstances` over the account: a listing would take a second call.
    other_databases(&direct.rds, 100).await;
    proxy.reset();
    let read = backend.read_stack(&ctx).await;
    let snap = read.result.expect("read_stack");
    let refresh = counts(&proxy);
    println!("read_stack: {refresh:#?}");
    assert!(proxy.stats().total <= 3, "{refresh:#?}");
    assert_eq!(
        snap.instance.as_ref().map(|i| i.id.as_str()),
        Some("orders")
    );
    assert_eq!(snap.replicas.len(), 1);
    assert_eq!(snap.replicas[&0].id, "orders-replica-0");
    assert_eq!(snap.key.as_ref().map(|k| &k.id), Some(&applied.key.id));
    assert_eq!(
        snap.security_group.as_ref().map(|s| &s.id),
        Some(&applied.security.id)
    );
    assert_eq!(
        snap.parameter_group.as_ref().map(|p| p.id.as_str()),
        Some("paved-orders-postgres16")
    );
    assert_eq!(snap.subnet_group.as_ref().map(|s| s.zones.len()), Some(3));
    let keys: Vec<&str> = snap.components.iter().map(|c| c.key.as_str()).collect();
    for k in [
        "kms_key",
        "subnet_group",
        "security_group",
        "parameter_group",
        "instance",
        "master_secret",
        "replica.0",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    // Another stack's read sees none of it.
    let other = backend
        .read_stack(&context("payments"))
        .await
        .result
        .unwrap();
    assert!(
        other.instance.is_none() && other.components.is_empty(),
        "{other:?}"
    );

    // Deletion protection refuses teardown before anything is touched.
    proxy.reset();
    let refused = backend
        .delete_stack(
            &ctx,
            &DeleteRequest {
                final_snapshot: None,
                delete_key: true,
            },
        )
        .await;
    let error = refused.result.expect_err("deletion protection refuses");
    assert!(
        error.to_string().contains("deletion_protection = false"),
        "{error}"
    );
    assert_eq!(refused.components.len(), 3, "{:?}", refused.components);
    let calls = counts(&proxy);
    assert!(calls.keys().all(|k| !k.contains(":Delete")), "{calls:#?}");

    // 4. In-place changes.
    let changed = backend
        .modify_instance(
            &ctx,
            "orders",
            &ModifyRequest {
                instance_class: Some("db.m6g.xlarge".to_owned()),
                size_gb: Some(200),
                backup_retention_days: Some(21),
                deletion_protection: Some(false),
                iam_authentication: Some(false),
                ..ModifyRequest::default()
            },
        )
        .await
        .result
        .expect("modify");
    assert_eq!(changed.instance_class, "db.m6g.xlarge");
    assert_eq!(changed.size_gb, 200);
    let db = describe(&direct.rds, "orders").await;
    assert_eq!(db.db_instance_class(), Some("db.m6g.xlarge"));
    assert_eq!(db.allocated_storage(), Some(200));
    assert_eq!(db.backup_retention_period(), Some(21));
    assert_eq!(db.deletion_protection(), Some(false));
    assert_eq!(db.iam_database_authentication_enabled(), Some(false));
    assert!(!changed.iam_authentication, "IAM authentication turned off");

    // 5. Teardown with a final snapshot.
    let snapshot = final_snapshot_name("orders", SystemTime::now());
    let secret_arn = applied.instance.master_secret_arn.clone();
    proxy.reset();
    let step = backend
        .delete_stack(
            &ctx,
            &DeleteRequest {
                final_snapshot: Some(snapshot.clone()),
                delete_key: true,
            },
        )
        .await;
    println!("delete_stack: {:#?}", counts(&proxy));
    let report = step.result.expect("delete_stack");
    assert!(report.left_behind.is_empty(), "{report:#?}");
    let deleted: Vec<&str> = report.deleted.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(
        deleted,
        [
            "replica.0",
            "instance",
            "master_secret",
            "parameter_group",
            "security_group",
            "subnet_group",
            "kms_key"
        ]
    );
    assert!(step.components.is_empty());
    let left = direct.rds.describe_db_instances().send().await.unwrap();
    let left: Vec<_> = left
        .db_instances()
        .iter()
        .filter_map(|d| d.db_instance_identifier())
        .filter(|id| !id.starts_with("other-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let snaps = direct
        .rds
        .describe_db_snapshots()
        .db_snapshot_identifier(&snapshot)
        .send()
        .await
        .expect("the final snapshot exists");
    assert_eq!(snaps.db_snapshots().len(), 1);
    assert!(direct
        .rds
        .describe_db_subnet_groups()
        .db_subnet_group_name("paved-orders")
        .send()
        .await
        .is_err());
    // moto answers an empty list for a parameter group name it does not know.
    let pgs = direct
        .rds
        .describe_db_parameter_groups()
        .send()
        .await
        .unwrap();
    assert!(
        pgs.db_parameter_groups()
            .iter()
            .all(|g| g.db_parameter_group_name() != Some("paved-orders-postgres16")),
        "{pgs:?}"
    );
    let sgs = direct
        .ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("group-name")
                .values("paved-db-orders")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(sgs.security_groups().is_empty());
    let key = direct
        .kms
        .describe_key()
        .key_id(&applied.key.id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        key.key_metadata().unwrap().key_state(),
        Some(&aws_sdk_kms::types::KeyState::PendingDeletion)
    );
    // The RDS-managed secret went with the instance.
    let secret = direct
        .secrets
        .describe_secret()
        .secret_id(&secret_arn)
        .send()
        .await;
    match secret {
        Err(_) => {}
        Ok(s) => assert!(
            s.deleted_date().is_some(),
            "the master secret remains: {s:?}"
        ),
    }

    // A second teardown does nothing.
    proxy.reset();
    let again = backend
        .delete_stack(
            &ctx,
            &DeleteRequest {
                final_snapshot: Some(snapshot.clone()),
                delete_key: true,
            },
        )
        .await
        .result
        .expect("second delete_stack");
    let calls = counts(&proxy);
    println!("second delete_stack: {calls:#?}");
    assert!(
        again.deleted.is_empty() && again.left_behind.is_empty(),
        "{again:#?}"
    );
    assert!(
        calls
            .iter()
            .all(|(k, _)| !k.contains(":Delete") && !k.contains(":Schedule")),
        "{calls:#?}"
    );

    // 6. Restore that snapshot into a new stack.
    let restored_ctx = context("orders-restored");
    let g = groups(&backend, &restored_ctx, &net).await;
    let req = SnapshotRestoreRequest {
        snapshot_id: snapshot.clone(),
        instance: InstanceRequest {
            deletion_protection: false,
            iam_authentication: false,
            ..instance_request("orders-restored", &g)
        },
    };
    proxy.reset();
    let restored = backend
        .restore_from_snapshot(&restored_ctx, &req)
        .await
        .result
        .expect("restore from snapshot");
    println!("restore_from_snapshot: {:#?}", counts(&proxy));
    assert_eq!(restored.status, "available");
    assert!(
        !restored.master_secret_arn.is_empty(),
        "a restored database gets a managed secret"
    );
    let db = describe(&direct.rds, "orders-restored").await;
    assert_eq!(db.backup_retention_period(), Some(14));
    assert_rds_tagged(
        &direct.rds,
        db.db_instance_arn().unwrap(),
        "orders-restored",
        "instance",
    )
    .await;
    // Restoring again (an interrupted apply) adopts it.
    proxy.reset();
    let adopted = backend
        .restore_from_snapshot(&restored_ctx, &req)
        .await
        .result
        .expect("adopt the restored instance");
    assert_eq!(adopted.id, restored.id);
    assert_eq!(creates(&counts(&proxy)), 0, "{:#?}", counts(&proxy));

    // And a point-in-time copy of the live restored instance.
    let pitr_ctx = context("orders-pitr");
    let g = groups(&backend, &pitr_ctx, &net).await;
    let pitr = backend
        .restore_to_point_in_time(
            &pitr_ctx,
            &PointInTimeRequest {
                source_db_instance_id: "orders-restored".to_owned(),
                restore_time: None,
                instance: InstanceRequest {
                    deletion_protection: false,
                    iam_authentication: false,
                    ..instance_request("orders-pitr", &g)
                },
            },
        )
        .await
        .result
        .expect("point-in-time restore");
    assert_eq!(pitr.status, "available");
    assert!(!pitr.master_secret_arn.is_empty());
    let db = describe(&direct.rds, "orders-pitr").await;
    assert_rds_tagged(
        &direct.rds,
        db.db_instance_arn().unwrap(),
        "orders-pitr",
        "instance",
    )
    .await;

    // A cancelled operation stops before any call and says so.
    let cancelled = context("orders-cancelled");
    cancelled.cancel.cancel();
    proxy.reset();
    let step = backend
        .ensure_instance(&cancelled, &instance_request("orders-cancelled", &g))
        .await;
    assert!(
        matches!(
            step.result,
            Err(paved::stack::BackendError::Cancelled { .. })
        ),
        "{:?}",
        step.result
    );
    assert_eq!(creates(&counts(&proxy)), 0);

    // Clean up the restored stacks (no snapshots).
    for ctx in [&restored_ctx, &pitr_ctx] {
        let report = backend
            .delete_stack(
                ctx,
                &DeleteRequest {
                    final_snapshot: None,
                    delete_key: true,
                },
            )
            .await
            .result
            .expect("delete a restored stack");
        assert!(report.left_behind.is_empty(), "{report:#?}");
    }
    proxy.shutdown();
}
