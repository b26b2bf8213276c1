//! The corpus of invalid configurations for the reliability suite: each must fail at
//! `terraform validate` or `plan` with an error diagnostic naming the attribute,
//! before any AWS call. It extends the 13 provider-block and `paved_zones` cases of
//! tests/e2e/validation.rs (none repeated here) to `paved_ha_cluster`,
//! `paved_managed_database` and more of the provider block.

/// Where a case's HCL goes.
#[derive(Clone, Copy, Debug)]
pub enum Place {
    /// Inside `provider "paved" { ... }`; the resources are a valid cluster and database.
    Provider,
    /// Extra attributes of `resource "paved_ha_cluster" "c" { name = "shop" ... }`.
    Cluster,
    /// Extra attributes of `resource "paved_managed_database" "d"` with a valid name
    /// and network (an attribute given here replaces the default one).
    Database,
}

/// One invalid configuration.
pub struct Case {
    /// What is wrong, for messages.
    pub name: &'static str,
    pub place: Place,
    pub hcl: &'static str,
    /// The attribute an error must name (in the source line it points at, or its text).
    pub attribute: &'static str,
}

const fn case(
    name: &'static str,
    place: Place,
    hcl: &'static str,
    attribute: &'static str,
) -> Case {
    Case {
        name,
        place,
        hcl,
        attribute,
    }
}

use Place::{Cluster, Database, Provider};

/// The corpus: 5 provider-block, 26 cluster and 20 database cases.
pub const CASES: &[Case] = &[
    // --- the provider block (beyond the 13 of e2e/validation.rs) -------------------
    case(
        "provider: default tag under paved's reserved prefix",
        Provider,
        r#"default_tags = { "paved:stack" = "x" }"#,
        "default_tags",
    ),
    case(
        "provider: empty default tag key",
        Provider,
        r#"default_tags = { "" = "x" }"#,
        "default_tags",
    ),
    case(
        "provider: endpoint that is not a URL",
        Provider,
        r#"aws { endpoints = { ec2 = "not a url" } }"#,
        "endpoints",
    ),
    case(
        "provider: role ARN of another service",
        Provider,
        r#"aws {
  assume_role { role_arn = "arn:aws:s3:::my-bucket" }
}"#,
        "role_arn",
    ),
    case(
        "provider: role session longer than 12 hours",
        Provider,
        r#"aws {
  assume_role {
    role_arn         = "arn:aws:iam::123456789012:role/deploy"
    duration_seconds = 50000
  }
}"#,
        "duration_seconds",
    ),
    // --- paved_ha_cluster ------------------------------------------------------------
    case(
        "cluster: name starting with a hyphen",
        Cluster,
        r#"name = "-shop""#,
        "name",
    ),
    case(
        "cluster: name longer than 40 characters",
        Cluster,
        r#"name = "shop-0123456789012345678901234567890123456789""#,
        "name",
    ),
    case(
        "cluster: unknown profile",
        Cluster,
        r#"profile = "prod""#,
        "profile",
    ),
    case("cluster: one zone", Cluster, "zone_count = 1", "zone_count"),
    case(
        "cluster: zone listed twice",
        Cluster,
        r#"zones = ["us-east-1a", "us-east-1a", "us-east-1b"]"#,
        "zones",
    ),
    case(
        "cluster: zone_count disagrees with zones",
        Cluster,
        "zones = [\"us-east-1a\", \"us-east-1b\"]\n  zone_count = 3",
        "zone_count",
    ),
    case(
        "cluster: network CIDR too small for its subnets",
        Cluster,
        r#"network = { cidr = "10.0.0.0/24" }"#,
        "cidr",
    ),
    case(
        "cluster: malformed network CIDR",
        Cluster,
        r#"network = { cidr = "10.0.0.300/16" }"#,
        "cidr",
    ),
    case(
        "cluster: existing subnets without an existing network",
        Cluster,
        r#"network = { existing_subnet_ids = { private = ["subnet-a", "subnet-b"] } }"#,
        "existing_subnet_ids",
    ),
    case(
        "cluster: cidr with an existing network",
        Cluster,
        r#"network = {
    existing_vpc_id     = "vpc-0123456789abcdef0"
    cidr                = "10.1.0.0/16"
    existing_subnet_ids = { private = ["subnet-a", "subnet-b", "subnet-c"] }
  }"#,
        "cidr",
    ),
    case(
        "cluster: existing network without subnets",
        Cluster,
        r#"network = { existing_vpc_id = "vpc-0123456789abcdef0" }"#,
        "existing_subnet_ids",
    ),
    case(
        "cluster: public endpoint CIDR overlapping the network",
        Cluster,
        r#"endpoint_public_cidrs = ["10.0.0.0/8"]"#,
        "endpoint_public_cidrs",
    ),
    case(
        "cluster: malformed public endpoint CIDR",
        Cluster,
        r#"endpoint_public_cidrs = ["203.0.113.0/33"]"#,
        "endpoint_public_cidrs",
    ),
    case(
        "cluster: Kubernetes version that is not 1.x",
        Cluster,
        r#"kubernetes_version = "2.0""#,
        "kubernetes_version",
    ),
    case(
        "cluster: node pool min_size above max_size",
        Cluster,
        "node_pools = { general = { min_size = 9, max_size = 3 } }",
        "min_size",
    ),
    case(
        "cluster: node pool smaller than its zones",
        Cluster,
        "node_pools = { general = { min_size = 1, max_size = 6 } }",
        "min_size",
    ),
    case(
        "cluster: node pool with max_size 0",
        Cluster,
        "node_pools = { general = { max_size = 0 } }",
        "max_size",
    ),
    case(
        "cluster: malformed instance type",
        Cluster,
        r#"node_pools = { general = { instance_types = ["huge"] } }"#,
        "instance_types",
    ),
    case(
        "cluster: no instance types",
        Cluster,
        "node_pools = { general = { instance_types = [] } }",
        "instance_types",
    ),
    case(
        "cluster: node disk too small",
        Cluster,
        "node_pools = { general = { disk_size_gb = 5 } }",
        "disk_size_gb",
    ),
    case(
        "cluster: unknown taint effect",
        Cluster,
        r#"node_pools = {
    general = { taints = [{ key = "dedicated", value = "x", effect = "Sometimes" }] }
  }"#,
        "effect",
    ),
    case(
        "cluster: invalid node pool name",
        Cluster,
        "node_pools = { GPU_Pool = { max_size = 6 } }",
        "GPU_Pool",
    ),
    case(
        "cluster: unknown control-plane log type",
        Cluster,
        r#"control_plane_logging = { types = ["api", "everything"] }"#,
        "types",
    ),
    case(
        "cluster: log retention the log service does not offer",
        Cluster,
        "control_plane_logging = { retention_days = 45 }",
        "retention_days",
    ),
    case(
        "cluster: cluster admin that is neither an ARN nor an e-mail",
        Cluster,
        r#"cluster_admins = ["bob"]"#,
        "cluster_admins",
    ),
    case(
        "cluster: reserved tag",
        Cluster,
        r#"tags = { "paved:stack" = "other" }"#,
        "tags",
    ),
    case(
        "cluster: malformed timeout",
        Cluster,
        r#"timeouts {
    create = "an hour"
  }"#,
        "create",
    ),
    // --- paved_managed_database --------------------------------------------------------
    case(
        "database: name with capitals and an underscore",
        Database,
        r#"name = "Orders_DB""#,
        "name",
    ),
    case(
        "database: MySQL version for Postgres",
        Database,
        r#"engine_version = "8.0""#,
        "engine_version",
    ),
    case(
        "database: unknown engine",
        Database,
        r#"engine = "oracle""#,
        "engine",
    ),
    case(
        "database: malformed instance class",
        Database,
        r#"instance_class = "large""#,
        "instance_class",
    ),
    case(
        "database: instance class not offered for the engine",
        Database,
        r#"instance_class = "db.nonsense.huge""#,
        "instance_class",
    ),
    case(
        "database: storage below the engine's minimum",
        Database,
        "storage = { size_gb = 5 }",
        "size_gb",
    ),
    case(
        "database: storage above the cloud's maximum",
        Database,
        "storage = { size_gb = 100000 }",
        "size_gb",
    ),
    case(
        "database: storage ceiling below the size",
        Database,
        "storage = { size_gb = 200, max_size_gb = 100 }",
        "max_size_gb",
    ),
    case(
        "database: backup retention above 35 days",
        Database,
        "backup = { retention_days = 40 }",
        "retention_days",
    ),
    case(
        "database: production without backups",
        Database,
        "profile = \"production\"\n  backup = { retention_days = 0 }",
        "retention_days",
    ),
    case(
        "database: read replicas without backups",
        Database,
        "profile = \"staging\"\n  read_replicas = 1\n  backup = { retention_days = 0 }",
        "retention_days",
    ),
    case(
        "database: malformed backup window",
        Database,
        r#"backup = { window = "3am" }"#,
        "window",
    ),
    case(
        "database: maintenance window shorter than 30 minutes",
        Database,
        r#"maintenance_window = "sun:05:00-sun:05:10""#,
        "maintenance_window",
    ),
    case(
        "database: maintenance window overlapping the backup window",
        Database,
        "backup = { window = \"03:00-04:00\" }\n  maintenance_window = \"mon:03:30-mon:04:30\"",
        "maintenance_window",
    ),
    case(
        "database: TLS turned off",
        Database,
        r#"parameters = { "rds.force_ssl" = "0" }"#,
        "parameters",
    ),
    case(
        "database: one subnet",
        Database,
        r#"network = { vpc_id = "vpc-0123456789abcdef0", subnet_ids = ["subnet-a"] }"#,
        "subnet_ids",
    ),
    case(
        "database: restore from a snapshot and an instance",
        Database,
        r#"restore = {
    snapshot_id           = "orders-final"
    source_db_instance_id = "orders"
  }"#,
        "source_db_instance_id",
    ),
    case(
        "database: restore point without a source",
        Database,
        r#"restore = { restore_time = "2026-01-31T12:00:00Z" }"#,
        "source_db_instance_id",
    ),
    case(
        "database: two restore points",
        Database,
        r#"restore = {
    source_db_instance_id      = "orders"
    restore_time               = "2026-01-31T12:00:00Z"
    use_latest_restorable_time = true
  }"#,
        "use_latest_restorable_time",
    ),
    case(
        "database: malformed timeout",
        Database,
        r#"timeouts {
    delete = "soon"
  }"#,
        "delete",
    ),
];

/// A valid cluster; `extra` is added inside the block.
pub fn cluster(extra: &str) -> String {
    format!("resource \"paved_ha_cluster\" \"c\" {{\n  name = \"shop\"\n  profile = \"development\"\n  {extra}\n}}\n")
}

/// A valid database in a literal network; `extra` is added inside the block, and an
/// attribute set there replaces the default one.
pub fn database(extra: &str) -> String {
    let mut lines = Vec::new();
    let defaults = [
        ("name", "name = \"orders\""),
        ("profile", "profile = \"development\""),
        (
            "network",
            "network = { vpc_id = \"vpc-0123456789abcdef0\", subnet_ids = [\"subnet-a\", \"subnet-b\"] }",
        ),
    ];
    for (key, line) in defaults {
        let overridden = extra.lines().any(|l| {
            l.trim_start().starts_with(key)
                && l.trim_start()[key.len()..].trim_start().starts_with('=')
        });
        if !overridden {
            lines.push(line.to_string());
        }
    }
    lines.push(extra.to_string());
    format!(
        "resource \"paved_managed_database\" \"d\" {{\n  {}\n}}\n",
        lines.join("\n  ")
    )
}

/// Provider-block cases of the GCP settings, each refused before any GCP call.
pub const GCP_PROVIDER_CASES: &[Case] = &[
    case(
        "gcp: unknown service in endpoints",
        Provider,
        r#"gcp = { endpoints = { bigtable = "http://127.0.0.1:1" } }"#,
        "endpoints",
    ),
    case(
        "gcp: endpoint that is not a URL",
        Provider,
        r#"gcp = { endpoint_url = "not a url" }"#,
        "endpoint_url",
    ),
    case(
        "gcp: region that is not a region",
        Provider,
        r#"gcp = { region = "Europe West 2" }"#,
        "region",
    ),
];

/// The whole configuration of `case` on GCP: the provider block names the GCP
/// stand-in at `url` (a provider case adds to it), with the `terraform` block from
/// `header`.
pub fn gcp_config(header: &str, url: &str, case: &Case) -> String {
    let base = format!(
        "cloud = \"gcp\"\n  gcp {{\n    project = \"paved-test\"\n    region = \"europe-west2\"\n    endpoint_url = \"{url}\"\n    access_token = \"t\"\n  }}"
    );
    let (provider, resources) = match case.place {
        Provider => {
            // The case's own gcp block replaces the valid one.
            (
                format!(
                    "cloud = \"gcp\"\n  {}",
                    case.hcl.replace("gcp = {", "gcp {")
                ),
                cluster(""),
            )
        }
        Cluster => (base, cluster(case.hcl)),
        Database => (base, database(case.hcl)),
    };
    format!("{header}\nprovider \"paved\" {{\n  {provider}\n}}\n\n{resources}")
}

/// The whole configuration of `case`, with the `terraform` block from `header`.
pub fn config(header: &str, case: &Case) -> String {
    let (provider, resources) = match case.place {
        Provider => (case.hcl, format!("{}{}", cluster(""), database(""))),
        Cluster => ("", cluster(case.hcl)),
        Database => ("", database(case.hcl)),
    };
    format!("{header}\nprovider \"paved\" {{\n{provider}\n}}\n\n{resources}")
}
