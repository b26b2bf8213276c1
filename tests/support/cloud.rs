//! What moto holds, read with the AWS SDK straight from moto (not through a fault
//! proxy), service by service: every object of the kinds paved makes, with its tags,
//! so a test can check that a destroy left nothing, that no component exists twice,
//! or which tags reached a component.
//!
//! EC2 objects are listed when they carry the `paved:stack` tag (moto's account holds a
//! default VPC with its subnets, route table and security group, which are no one's);
//! the other services' objects whatever their tags. Objects on their way out are not
//! listed: NAT gateways in the `deleted` state, KMS keys pending deletion (AWS keeps a
//! key 7 to 30 days after it is scheduled for deletion) and secrets scheduled for
//! deletion.

use std::collections::BTreeMap;
use std::fmt;

use aws_config::SdkConfig;

use super::aws::{block_on, moto_config};

/// The tag key that names a component's stack.
pub const STACK_TAG: &str = "paved:stack";
/// The tag key that names a component's role in its stack.
pub const COMPONENT_TAG: &str = "paved:component";

/// The kind of an automated RDS snapshot.
pub const AUTOMATED_SNAPSHOT: &str = "rds:automated-snapshot";

/// One object in moto.
#[derive(Clone, Debug)]
pub struct Object {
    /// e.g. `ec2:vpc`, `rds:db`, `iam:role`.
    pub kind: &'static str,
    pub id: String,
    pub tags: BTreeMap<String, String>,
}

impl Object {
    /// The value of the `paved:component` tag, if any.
    pub fn component(&self) -> Option<&str> {
        self.tags.get(COMPONENT_TAG).map(String::as_str)
    }

    /// The value of the `paved:stack` tag, if any.
    pub fn stack(&self) -> Option<&str> {
        self.tags.get(STACK_TAG).map(String::as_str)
    }
}

impl fmt::Display for Object {
    /// "KIND ID" with the service and the kind as words: `eks cluster shop`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.replace(':', " "), self.id)
    }
}

/// Every live object of the kinds paved makes in moto at `endpoint` (see the module
/// documentation for which).
pub fn moto_objects(endpoint: &str) -> Vec<Object> {
    block_on(list(&moto_config(endpoint)))
}

/// Every live object in moto at `endpoint` that carries a `paved:stack` tag.
pub fn paved_objects(endpoint: &str) -> Vec<Object> {
    let mut found = moto_objects(endpoint);
    found.retain(|t| t.tags.contains_key(STACK_TAG));
    found
}

/// [`moto_objects`], from an async test.
pub async fn list(conf: &SdkConfig) -> Vec<Object> {
    let mut found = Vec::new();
    found.extend(ec2_objects(&aws_sdk_ec2::Client::new(conf)).await);
    found.extend(eks(conf).await);
    found.extend(rds(conf).await);
    found.extend(iam(conf).await);
    found.extend(kms(conf).await);
    found.extend(logs(conf).await);
    found.extend(secrets(conf).await);
    found.extend(s3(conf).await);
    found
}

/// The secret string of the Secrets Manager secret `arn` in moto.
pub fn secret_value(endpoint: &str, arn: &str) -> String {
    block_on(async {
        let client = aws_sdk_secretsmanager::Client::new(&moto_config(endpoint));
        let out = client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetSecretValue {arn}: {e:?}"));
        out.secret_string()
            .unwrap_or_else(|| panic!("secret {arn} has no string value"))
            .to_string()
    })
}

/// Creates the Secrets Manager secret `name` holding `value` in moto; its ARN.
pub fn create_secret(endpoint: &str, name: &str, value: &str) -> String {
    block_on(async {
        let client = aws_sdk_secretsmanager::Client::new(&moto_config(endpoint));
        let out = client
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateSecret {name}: {e:?}"));
        out.arn().unwrap_or_default().to_string()
    })
}

/// Component keys of `stack` found more than once, with the objects carrying them.
pub fn duplicate_components(objects: &[Object], stack: &str) -> BTreeMap<String, Vec<String>> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let ours = |o: &&Object| o.stack() == Some(stack) && o.kind != AUTOMATED_SNAPSHOT;
    for o in objects.iter().filter(ours) {
        if let Some(key) = o.component() {
            by_key
                .entry(key.to_string())
                .or_default()
                .push(format!("{} {}", o.kind, o.id));
        }
    }
    by_key.retain(|_, v| v.len() > 1);
    by_key
}

fn tagged<I, K, V>(kind: &'static str, id: impl Into<String>, tags: I) -> Object
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    Object {
        kind,
        id: id.into(),
        tags: tags
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
    }
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// `REQUEST.send().await`, panicking with the action's name on an error.
macro_rules! call {
    ($request:expr, $action:literal) => {
        $request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", $action))
    };
}

/// Calls an EC2 `Describe*` (already filtered to paved's tag) and collects its
/// objects: `list` names the output's list accessor and `id` the object's id accessor.
macro_rules! ec2_tagged {
    ($out:ident, $request:expr, $list:ident, $id:ident, $kind:literal) => {
        let answer = call!($request, $kind);
        for o in answer.$list() {
            $out.push(tagged(
                $kind,
                o.$id().unwrap_or_default(),
                ec2_tags(o.tags()),
            ));
        }
    };
}

/// The EC2 objects that carry a `paved:stack` tag, listed with `c`.
pub async fn ec2_objects(c: &aws_sdk_ec2::Client) -> Vec<Object> {
    use aws_sdk_ec2::types::{Filter, NatGatewayState};
    let f = || Filter::builder().name("tag-key").values(STACK_TAG).build();
    let mut out = Vec::new();
    ec2_tagged!(out, c.describe_vpcs().filters(f()), vpcs, vpc_id, "ec2:vpc");
    ec2_tagged!(
        out,
        c.describe_subnets().filters(f()),
        subnets,
        subnet_id,
        "ec2:subnet"
    );
    ec2_tagged!(
        out,
        c.describe_internet_gateways().filters(f()),
        internet_gateways,
        internet_gateway_id,
        "ec2:internet-gateway"
    );
    ec2_tagged!(
        out,
        c.describe_route_tables().filters(f()),
        route_tables,
        route_table_id,
        "ec2:route-table"
    );
    ec2_tagged!(
        out,
        c.describe_security_groups().filters(f()),
        security_groups,
        group_id,
        "ec2:security-group"
    );
    ec2_tagged!(
        out,
        c.describe_addresses().filters(f()),
        addresses,
        allocation_id,
        "ec2:elastic-ip"
    );
    ec2_tagged!(
        out,
        c.describe_launch_templates().filters(f()),
        launch_templates,
        launch_template_id,
        "ec2:launch-template"
    );
    // A deleted NAT gateway stays listed for a while, in the `deleted` state.
    let nats = call!(c.describe_nat_gateways().filter(f()), "DescribeNatGateways");
    for n in nats.nat_gateways() {
        if !matches!(n.state(), Some(NatGatewayState::Deleted)) {
            out.push(tagged(
                "ec2:nat-gateway",
                n.nat_gateway_id().unwrap_or_default(),
                ec2_tags(n.tags()),
            ));
        }
    }
    out
}

async fn eks(conf: &SdkConfig) -> Vec<Object> {
    let c = aws_sdk_eks::Client::new(conf);
    let mut out = Vec::new();
    let clusters = call!(c.list_clusters(), "ListClusters");
    for name in clusters.clusters() {
        let d = call!(c.describe_cluster().name(name), "DescribeCluster");
        let tags = d
            .cluster()
            .and_then(|x| x.tags())
            .cloned()
            .unwrap_or_default();
        out.push(tagged("eks:cluster", name.clone(), tags));
        let groups = call!(c.list_nodegroups().cluster_name(name), "ListNodegroups");
        for g in groups.nodegroups() {
            let d = call!(
                c.describe_nodegroup().cluster_name(name).nodegroup_name(g),
                "DescribeNodegroup"
            );
            let tags = d
                .nodegroup()
                .and_then(|x| x.tags())
                .cloned()
                .unwrap_or_default();
            out.push(tagged("eks:nodegroup", format!("{name}/{g}"), tags));
        }
    }
    out
}

fn rds_tags(tags: &[aws_sdk_rds::types::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn rds(conf: &SdkConfig) -> Vec<Object> {
    let c = aws_sdk_rds::Client::new(conf);
    let mut out = Vec::new();
    let dbs = call!(c.describe_db_instances(), "DescribeDBInstances");
    for db in dbs.db_instances() {
        out.push(tagged(
            "rds:db",
            db.db_instance_identifier().unwrap_or_default(),
            rds_tags(db.tag_list()),
        ));
    }
    let clusters = call!(c.describe_db_clusters(), "DescribeDBClusters");
    for cl in clusters.db_clusters() {
        out.push(tagged(
            "rds:cluster",
            cl.db_cluster_identifier().unwrap_or_default(),
            rds_tags(cl.tag_list()),
        ));
    }
    let snapshots = call!(c.describe_db_snapshots(), "DescribeDBSnapshots");
    for s in snapshots.db_snapshots() {
        // RDS takes automated snapshots by itself (moto copies the instance's tags
        // onto them) and deletes them with the instance: not components of paved.
        let automated = s.snapshot_type() == Some("automated");
        out.push(tagged(
            if automated {
                AUTOMATED_SNAPSHOT
            } else {
                "rds:snapshot"
            },
            s.db_snapshot_identifier().unwrap_or_default(),
            rds_tags(s.tag_list()),
        ));
    }
    let mut arns: Vec<(&'static str, String)> = Vec::new();
    let groups = call!(c.describe_db_subnet_groups(), "DescribeDBSubnetGroups");
    for g in groups.db_subnet_groups() {
        arns.push((
            "rds:subnet-group",
            g.db_subnet_group_arn().unwrap_or_default().to_string(),
        ));
    }
    let params = call!(
        c.describe_db_parameter_groups(),
        "DescribeDBParameterGroups"
    );
    for p in params.db_parameter_groups() {
        arns.push((
            "rds:parameter-group",
            p.db_parameter_group_arn().unwrap_or_default().to_string(),
        ));
    }
    for (kind, arn) in arns {
        if arn.is_empty() {
            continue;
        }
        let tags = call!(
            c.list_tags_for_resource().resource_name(&arn),
            "ListTagsForResource"
        );
        out.push(tagged(kind, arn, rds_tags(tags.tag_list())));
    }
    out
}

async fn iam(conf: &SdkConfig) -> Vec<Object> {
    let c = aws_sdk_iam::Client::new(conf);
    let mut out = Vec::new();
    let roles = call!(c.list_roles().max_items(1000), "ListRoles");
    for r in roles.roles() {
        let tags = call!(c.list_role_tags().role_name(r.role_name()), "ListRoleTags");
        let tags = tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()));
        out.push(tagged("iam:role", r.role_name(), tags));
    }
    let oidc = call!(
        c.list_open_id_connect_providers(),
        "ListOpenIDConnectProviders"
    );
    for p in oidc.open_id_connect_provider_list() {
        let arn = p.arn().unwrap_or_default();
        let d = call!(
            c.get_open_id_connect_provider()
                .open_id_connect_provider_arn(arn),
            "GetOpenIDConnectProvider"
        );
        let tags = d
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()));
        out.push(tagged("iam:oidc-provider", arn, tags));
    }
    let policies = call!(
        c.list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .max_items(1000),
        "ListPolicies"
    );
    for p in policies.policies() {
        let arn = p.arn().unwrap_or_default();
        let tags = call!(c.list_policy_tags().policy_arn(arn), "ListPolicyTags");
        let tags = tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()));
        out.push(tagged("iam:policy", arn, tags));
    }
    out
}

async fn kms(conf: &SdkConfig) -> Vec<Object> {
    use aws_sdk_kms::types::KeyState;
    let c = aws_sdk_kms::Client::new(conf);
    let mut out = Vec::new();
    let keys = call!(c.list_keys(), "ListKeys");
    for k in keys.keys() {
        let id = k.key_id().unwrap_or_default();
        let d = call!(c.describe_key().key_id(id), "DescribeKey");
        let state = d.key_metadata().and_then(|m| m.key_state());
        if matches!(state, Some(KeyState::PendingDeletion)) {
            continue;
        }
        let tags = call!(c.list_resource_tags().key_id(id), "ListResourceTags");
        let tags = tags
            .tags()
            .iter()
            .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()));
        out.push(tagged("kms:key", id, tags));
    }
    out
}

async fn logs(conf: &SdkConfig) -> Vec<Object> {
    let c = aws_sdk_cloudwatchlogs::Client::new(conf);
    let mut out = Vec::new();
    let groups = call!(c.describe_log_groups(), "DescribeLogGroups");
    for g in groups.log_groups() {
        let name = g.log_group_name().unwrap_or_default();
        #[allow(deprecated)]
        let tags = call!(
            c.list_tags_log_group().log_group_name(name),
            "ListTagsLogGroup"
        );
        let tags = tags.tags().cloned().unwrap_or_default();
        out.push(tagged("logs:log-group", name, tags));
    }
    out
}

async fn s3(conf: &SdkConfig) -> Vec<Object> {
    let c = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    );
    let mut out = Vec::new();
    let buckets = call!(c.list_buckets(), "ListBuckets");
    for b in buckets.buckets() {
        let name = b.name().unwrap_or_default();
        // A bucket without tags answers NoSuchTagSet.
        let tags = c
            .get_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .map(|t| {
                t.tag_set()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        out.push(tagged("s3:bucket", name, tags));
    }
    out
}

async fn secrets(conf: &SdkConfig) -> Vec<Object> {
    let c = aws_sdk_secretsmanager::Client::new(conf);
    let mut out = Vec::new();
    let list = call!(
        c.list_secrets().include_planned_deletion(false),
        "ListSecrets"
    );
    for s in list.secret_list() {
        if s.deleted_date().is_some() {
            continue;
        }
        let tags = s.tags().iter().map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        });
        out.push(tagged(
            "secretsmanager:secret",
            s.arn().unwrap_or_default(),
            tags,
        ));
    }
    out
}
