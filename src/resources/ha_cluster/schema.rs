//! The `paved_ha_cluster` schema: what the user writes and what the plan shows.
//!
//! Attribute names are the product's words (zones, node_pools, nat_mode), not a
//! cloud's API names. Every defaulted attribute is optional and computed, so the plan
//! shows its effective value, and its `default_doc` says where the default comes from
//! (the profile table in [`crate::profiles`], or the constants in [`super::config`]).
//! Nested attributes (protocol 6) keep the shapes plain objects, lists and maps.

use paved_value::Type;

use crate::ports::network::NatLayout;

use super::kubernetes::Delivery;
use crate::ports::cluster::Capacity;
use crate::ports::network as layout;
use crate::profiles;
use crate::schema::{Attribute, Block, Check, Nesting, Schema};
use crate::stack::cost::cost_attributes;
use crate::stack::schema::{
    from_profile, profile_default, string_list, tags_all_attribute, timeouts_block, TimeoutDoc,
};
use paved_value::Value;

fn code_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("`[{}]`", quoted.join(", "))
}

/// The network paved builds when neither `network.cidr` nor an existing network is
/// given.
pub const DEFAULT_CIDR: &str = "10.0.0.0/16";

/// The pool that runs cluster add-ons; always present.
pub const SYSTEM_POOL: &str = "system";

/// Node disk size when a pool does not set `disk_size_gb`.
pub const DEFAULT_DISK_SIZE_GB: u32 = 50;

/// Instance types of an on-demand pool that does not list any.
pub const DEFAULT_ON_DEMAND_INSTANCE_TYPES: &[&str] = &["m6i.large"];

/// Instance types of a spot pool that does not list any: several families of the
/// same size, so one shortage does not empty the pool.
pub const DEFAULT_SPOT_INSTANCE_TYPES: &[&str] =
    &["m6i.large", "m6a.large", "m5.large", "m5a.large"];

/// A non-system pool's default `max_size` is this many nodes per zone.
pub const DEFAULT_POOL_MAX_PER_ZONE: u32 = 3;

/// Default create timeout.
pub const DEFAULT_CREATE_TIMEOUT: &str = "60m";

/// Default update timeout (an upgrade rolls the control plane, then every pool).
pub const DEFAULT_UPDATE_TIMEOUT: &str = "120m";

/// Default delete timeout.
pub const DEFAULT_DELETE_TIMEOUT: &str = "60m";

/// The longest cluster name paved accepts: EKS allows 100 characters, but derived
/// component names (`<name>-<pool>-nodes`, IAM role names of at most 64) must fit.
pub const MAX_NAME_LEN: usize = 40;

/// The longest node pool name (it is part of node group and launch template names).
pub const MAX_POOL_NAME_LEN: usize = 20;

/// Node disk sizes allowed, in GB.
pub const DISK_SIZE_GB: (u32, u32) = (20, 16_384);

/// Log retention periods the cloud's log service accepts (CloudWatch Logs), in days.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The schema, built once: the reader takes the declared defaults from it.
pub fn declared() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(schema)
}

/// The resource's schema.
pub fn schema() -> Schema {
    Schema::new(
        Block::new(
            "A production Kubernetes cluster spread over availability zones: its network (or an existing one), \
             the control plane with a private endpoint, encrypted secrets and logs, workload identity, and node pools \
             that the cluster autoscaler sizes. One `profile` sets every default; each can be overridden, and the plan \
             shows the effective value of every setting, the `inventory` of components that will exist and an \
             `ha_report` of how the stack survives the loss of a zone.",
        )
        .attribute(Attribute::string("id").computed().keep_prior().description("The cluster's id in the cloud."))
        .attribute(
            Attribute::string("name")
                .requires_replace()
                .required()
                .description(format!(
                    "The cluster's name: 1 to {MAX_NAME_LEN} letters, digits, hyphens and underscores, starting with a \
                     letter or digit. Every component is named and tagged after it. Changing it replaces the cluster."
                )),
        )
        .attribute(
            Attribute::string("profile")
                .optional_computed()
                .description(format!(
                    "One word for a whole set of defaults: {}. Every default can be overridden one by one.",
                    profiles::allowed_names()
                ))
                .default_value(profiles::DEFAULT_PROFILE.name()),
        )
        .attribute(
            Attribute::list("zones", Type::String)
                .requires_replace()
                .optional_computed()
                .description(
                    "The availability zones to spread over (`eu-west-1a`, ...). When not set, paved picks `zone_count` \
                     usable zones of the region at create, first by name, and keeps them. Changing the zones replaces \
                     the cluster.",
                )
                .default_doc("chosen at create"),
        )
        .attribute(
            Attribute::number("zone_count")
                .requires_replace()
                .optional_computed()
                .description(format!(
                    "How many zones to spread over (2 to {}). Ignored when `zones` lists them. Changing it replaces the \
                     cluster.",
                    layout::MAX_ZONES
                ))
                .default_doc(format!(
                    "the length of `zones`, else {}",
                    from_profile(|d| d.zones.to_string())
                )),
        )
        .attribute(network())
        .attribute(
            Attribute::string("kubernetes_version")
                .optional_computed()
                .description(
                    "The Kubernetes minor version, such as `\"1.31\"`. Raising it upgrades the control plane in place, \
                     then every node pool; upgrades go one minor version at a time (1.29 to 1.31 is refused: go through \
                     1.30), and downgrades are refused.",
                )
                .default_doc("the newest version the cloud offers at create; kept afterwards"),
        )
        .attribute(
            Attribute::list("endpoint_public_cidrs", Type::String)
                .optional()
                .description(
                    "Public addresses (CIDRs) allowed to reach the API endpoint from the internet. The private endpoint \
                     is always on; when this is empty or not set, the API is reachable only from inside the network.",
                )
                .default_doc("none: private endpoint only"),
        )
        .attribute(node_pools())
        .attribute(
            Attribute::nested(
                "control_plane_logging",
                Nesting::Single,
                vec![
                    Attribute::list("types", Type::String)
                        .optional_computed()
                        .description(
                            "Control-plane log types to send to the cloud's log service: `api`, `audit`, \
                             `authenticator`, `controllerManager`, `scheduler`.",
                        )
                        .default(profile_default(|d| string_list(d.control_plane_log_types))),
                    Attribute::number("retention_days")
                        .optional_computed()
                        .description("How long control-plane logs are kept, in days.")
                        .check(Check::Among {
                            values: RETENTION_DAYS.iter().map(|d| i64::from(*d)).collect(),
                            unit: " days",
                            who: "The log service keeps logs for",
                            summary: "Unsupported retention period",
                        })
                        .default(profile_default(|d| Value::from(i64::from(d.control_plane_log_days)))),
                ],
            )
            .optional_computed()
            .description("Where control-plane logs go and for how long.")
            .default_doc("from the profile"),
        )
        .attribute(
            Attribute::string("encryption_key_arn")
                .requires_replace()
                .optional_computed()
                .description(
                    "The KMS key that encrypts Kubernetes secrets. When not set, paved creates one with rotation on and \
                     shows its ARN here. Changing the key replaces the cluster.",
                )
                .default_doc("a key paved creates"),
        )
        .attribute(
            Attribute::list("cluster_admins", Type::String)
                .optional()
                .description(
                    "Principals given cluster-admin access: IAM role or user ARNs \
                     (`arn:aws:iam::123456789012:role/platform`), or e-mail addresses on GCP.",
                )
                .default_doc("none besides the identity that creates the cluster"),
        )
        .attribute(
            Attribute::bool("deletion_protection")
                .optional_computed()
                .description(
                    "Refuse to destroy or replace the cluster, at plan time and again at apply time (a create that \
                     failed leaves a tainted resource Terraform would replace: `terraform untaint` it to resume). To \
                     remove a protected cluster, set it to `false`, apply, then destroy.",
                )
                .default(profile_default(|d| Value::from(d.deletion_protection))),
        )
        .attribute(
            Attribute::map("tags", Type::String)
                .optional()
                .description(
                    "Tags added to every component, besides the provider's default tags and the `paved:*` tags paved \
                     uses to find its components.",
                ),
        )
        .attribute(tags_all_attribute())
        .attributes(cost_attributes())
        .attribute(Attribute::string("endpoint").computed().keep_prior().description("The Kubernetes API endpoint URL."))
        .attribute(
            Attribute::string("certificate_authority")
                .computed()
                .keep_prior()
                .description("The cluster's certificate authority, base64-encoded PEM, for clients of the API."),
        )
        .attribute(
            Attribute::string("oidc_issuer_url")
                .computed()
                .keep_prior()
                .description("The OIDC issuer of the cluster's service accounts, for workload identity (IRSA)."),
        )
        .attribute(
            Attribute::nested("connection", Nesting::Single, connection_attributes())
                .computed()
                .description(
                    "How to reach the cluster, in one object: give it whole to a resource that runs in the \
                     cluster (`cluster = paved_ha_cluster.main.connection` on `paved_observability_stack`).",
                ),
        )
        .attribute(
            Attribute::map("node_pool_status", Type::String)
                .computed()
                .description(
                    "Each node pool's status (`ACTIVE`, `DEGRADED`...), by pool name, including the `system` pool.",
                ),
        )
        .attribute(
            Attribute::nested(
                "inventory",
                Nesting::List,
                vec![
                    Attribute::string("key")
                        .computed()
                        .description("The component's key within the stack (`subnet.private.0`, `node_group.system`); it is also a tag on the component."),
                    Attribute::string("kind")
                        .computed()
                        .description("What the component is (`vpc`, `subnet`, `nat_gateway`, `node_group`, ...)."),
                    Attribute::string("zone")
                        .computed()
                        .description("The zone it lives in; null for regional components."),
                    Attribute::string("id").computed().description("Its id in the cloud."),
                ],
            )
            .computed()
            .description("Every component of the stack, in creation order: known at plan time, ids once created."),
        )
        .attribute(
            Attribute::nested(
                "ha_report",
                Nesting::Single,
                vec![
                    Attribute::number("zones_used").computed().description("How many zones the stack spreads over."),
                    Attribute::bool("survives_zone_loss").computed().description(
                        "Whether the stack keeps running when one zone fails: two zones or more, a NAT gateway in each \
                         zone (or none to lose), and every node pool keeping at least one node per zone.",
                    ),
                    Attribute::list("findings", Type::String)
                        .computed()
                        .description("What the judgement rests on, in plain words."),
                ],
            )
            .computed()
            .description("How well the stack survives the loss of a zone, judged at plan time."),
        )
        .attribute(
            Attribute::string("kubeconfig")
                .computed()
                .keep_prior()
                .sensitive()
                .description("A kubeconfig for the cluster, authenticating with the cloud's CLI."),
        )
        .attribute(
            Attribute::string("delivery")
                .optional_computed()
                .description(
                    "How the in-cluster baseline gets into the cluster: `\"direct\"` (paved applies it with \
                     server-side apply as field manager `paved`, prunes what is no longer wanted and waits for it to \
                     be ready, authenticating with a token made from the provider's credentials) or `\"gitops\"` \
                     (paved writes one YAML file per object and a `kustomization.yaml` into `gitops_path` for Flux or \
                     Argo CD, and never contacts the cluster). The managed add-ons and team access go through the \
                     cloud's API either way.",
                )
                .default_value(Delivery::Direct.as_str()),
        )
        .attribute(
            Attribute::string("gitops_path")
                .optional()
                .description(
                    "The directory GitOps files are written to when `delivery = \"gitops\"` (a folder of your \
                     GitOps repository checkout). Files paved wrote earlier for objects no longer wanted are removed.",
                ),
        )
        .attribute(
            Attribute::nested(
                "kubernetes_api",
                Nesting::Single,
                vec![
                    Attribute::string("url").optional().description(
                        "A URL that reaches the API server instead of the cluster's own endpoint: a tunnel or \
                         port-forward to a private endpoint (`https://127.0.0.1:8443`). The server's certificate \
                         is checked against the cluster's CA, or `ca_certificate`.",
                    ),
                    Attribute::string("proxy_url")
                        .optional()
                        .description("An HTTPS proxy (HTTP CONNECT) to reach the API through, such as a bastion's."),
                    Attribute::string("ca_certificate").optional().description(
                        "The CA (PEM) that signs the certificate presented at `url`, when it is not the cluster's \
                         (a test cluster, or a proxy that terminates TLS); the certificate is then checked for \
                         `url`'s own host.",
                    ),
                ],
            )
            .optional()
            .description(
                "How paved reaches the Kubernetes API when the cluster's endpoint is not reachable from where \
                 Terraform runs (private-only endpoints). Not needed with `delivery = \"gitops\"`.",
            ),
        )
        .attribute(
            Attribute::nested(
                "baseline",
                Nesting::Single,
                vec![
                    Attribute::bool("addons")
                        .optional_computed()
                        .description(
                            "The cloud's managed add-ons: vpc-cni, kube-proxy, coredns, the EBS CSI driver (with \
                             its own workload identity) and metrics-server, at the versions for the cluster's \
                             Kubernetes version, upgraded with it.",
                        )
                        .default_value(true),
                    Attribute::bool("autoscaler")
                        .optional_computed()
                        .description(
                            "cluster-autoscaler, with the autoscaler identity the stack makes: node groups found \
                             by their tags, image minor matched to the cluster's, spot pools preferred, zones \
                             balanced, replicas and a disruption budget from the profile.",
                        )
                        .default_value(true),
                    Attribute::bool("storage_class")
                        .optional_computed()
                        .description(
                            "A default, encrypted StorageClass that binds volumes in the zone of the pod \
                             that uses them (`WaitForFirstConsumer`): `gp3` (EBS gp3) on EKS, `balanced` \
                             (Persistent Disk pd-balanced) on GKE.",
                        )
                        .default_value(true),
                ],
            )
            .optional_computed()
            .description("What paved installs in the cluster besides the teams. Each part can be turned off.")
            .default_doc("everything on"),
        )
        .attribute(
            Attribute::nested(
                "teams",
                Nesting::Map,
                vec![
                    Attribute::list("namespaces", Type::String).required().description(
                        "The team's namespaces (DNS labels; `kube-*` and `default` are reserved). Each gets Pod \
                         Security labels, a quota and default limits from the profile, and network policies that \
                         deny everything but DNS and traffic inside the namespace.",
                    ),
                    Attribute::list("roles", Type::String).optional().description(
                        "IAM role ARNs of the team's people: they get access to the cluster mapped to the team's \
                         group `paved-team-<name>`, which may edit the team's namespaces.",
                    ),
                    Attribute::list("view_namespaces", Type::String)
                        .optional()
                        .description("Namespaces of other teams the team may view."),
                ],
            )
            .optional()
            .description(
                "Teams by name, each with its namespaces and the identities that work in them \
                 (`project1-dev = { namespaces = [\"project1-dev\"], roles = [...] }`). Removing a team removes \
                 its objects and its access.",
            ),
        )
        .attribute(
            Attribute::list("platform_admins", Type::String)
                .optional()
                .description(
                    "IAM role ARNs given cluster-admin inside the cluster through the group \
                     `paved-platform-admins` (the sysadmin group), besides `cluster_admins`.",
                ),
        )
        .attribute(
            Attribute::list("kubernetes_objects", Type::String)
                .computed()
                .description(
                    "The objects paved keeps in the cluster (or in `gitops_path`), in the order they are applied: \
                     `Kind namespace/name`. Known at plan. Refresh reads them back: one deleted by hand leaves the \
                     list, one changed by hand is marked `(changed outside paved)`, and the next apply puts it \
                     back.",
                ),
        )
        .attribute(
            Attribute::map("kubernetes_hashes", Type::String)
                .computed()
                .description(
                    "The content hash (SHA-256 of the rendered object) of each object in `kubernetes_objects`: \
                     the inventory paved prunes and compares against.",
                ),
        )
        .attribute(
            Attribute::string("kubernetes_digest")
                .computed()
                .description("A digest of every object's rendered content; it changes when any object does."),
        )
        .attribute(
            Attribute::map("addons", Type::String)
                .computed()
                .description("The managed add-ons installed, with their versions."),
        )
        .block(timeouts_block(
            DEFAULT_CREATE_TIMEOUT,
            TimeoutDoc {
                default: DEFAULT_UPDATE_TIMEOUT,
                description: "Update timeout (an upgrade rolls the control plane, then every node pool).",
            },
            TimeoutDoc {
                default: DEFAULT_DELETE_TIMEOUT,
                description: "Delete timeout.",
            },
        )),
    )
}

fn network() -> Attribute {
    let zone_map = |name: &str, what: &str| {
        Attribute::map(name, Type::String)
            .computed()
            .description(format!("The {what} subnets' ids, by zone."))
    };
    Attribute::nested(
        "network",
        Nesting::Single,
        vec![
            Attribute::string("cidr")
                .requires_replace()
                .optional_computed()
                .description(format!(
                    "The address range of the network paved builds, /{} to /{}. Each zone gets a private subnet \
                     (network + {} bits: a /19 in a /16) for nodes and pods, an intra subnet (+{} bits: a /24) for the \
                     control plane and a public subnet (+{} bits: a /22) for load balancers and NAT gateways. With an \
                     existing network, its range (read at create). Changing it replaces the cluster.",
                    layout::LARGEST_PREFIX,
                    layout::SMALLEST_PREFIX,
                    layout::PRIVATE_EXTRA_BITS,
                    layout::INTRA_EXTRA_BITS,
                    layout::PUBLIC_EXTRA_BITS,
                ))
                .default_value(DEFAULT_CIDR),
            Attribute::string("nat_mode")
                .optional_computed()
                .description(
                    "How private subnets reach the internet: `\"per_zone\"` (a NAT gateway in each zone, no zone \
                     depends on another), `\"single\"` (one NAT gateway, cheaper, lost with its zone) or `\"none\"`.",
                )
                .default_doc(format!(
                    "{}; `none` with an existing network",
                    from_profile(|d| NatLayout::from(d.nat).as_str().to_string())
                )),
            Attribute::string("existing_vpc_id")
                .requires_replace()
                .optional()
                .description(
                    "Run in an existing network instead of building one; paved then creates nothing in it but the \
                     cluster, and `existing_subnet_ids` says which subnets to use. Changing it replaces the cluster.",
                ),
            Attribute::map("existing_subnet_ids", Type::list(Type::String))
                .optional()
                .description(
                    "With `existing_vpc_id`: subnet ids by tier, `private` (one per zone, for nodes; required), \
                     `public` (for internet-facing load balancers) and `intra` (for the control plane; the private \
                     subnets when not given). On GCP a subnetwork spans the region: `private` names the one \
                     subnetwork, which needs secondary ranges named `pods` and `services`.",
                ),
            Attribute::string("vpc_id").computed().description("The network's id."),
            zone_map("public_subnet_ids", "public"),
            zone_map("private_subnet_ids", "private"),
            zone_map("intra_subnet_ids", "intra"),
            Attribute::list("nat_gateway_ids", Type::String)
                .computed()
                .description("The NAT gateways' ids, in zone order."),
        ],
    )
    .optional_computed()
    .description("The network the cluster runs in: one paved builds (the default) or an existing one.")
    .default_doc("a network paved builds")
}

fn node_pools() -> Attribute {
    Attribute::nested(
        "node_pools",
        Nesting::Map,
        vec![
            Attribute::list("instance_types", Type::String)
                .optional_computed()
                .description(
                    "Instance types, in order of preference. Spot pools should list several of similar size, so one \
                     shortage does not empty the pool. Changing them replaces the pool's node group (not the cluster).",
                )
                .default_doc(format!(
                    "{} for on-demand pools, {} for spot pools",
                    code_list(DEFAULT_ON_DEMAND_INSTANCE_TYPES),
                    code_list(DEFAULT_SPOT_INSTANCE_TYPES)
                )),
            Attribute::string("capacity")
                .optional_computed()
                .description("`\"on_demand\"` or `\"spot\"`. Changing it replaces the pool's node group.")
                .default_value(Capacity::OnDemand.as_str()),
            Attribute::number("min_size")
                .optional_computed()
                .description(
                    "Fewest nodes, over all zones: at least one per zone, so the pool survives the loss of a zone. The \
                     cluster autoscaler owns the current size between `min_size` and `max_size`; paved never resets it.",
                )
                .default_doc(format!(
                    "the zone count; for the `{SYSTEM_POOL}` pool {}, raised to the zone count",
                    from_profile(|d| d.system_pool_min.to_string())
                )),
            Attribute::number("max_size")
                .optional_computed()
                .description("Most nodes, over all zones.")
                .default_doc(format!(
                    "{DEFAULT_POOL_MAX_PER_ZONE} per zone; for the `{SYSTEM_POOL}` pool {}",
                    from_profile(|d| d.system_pool_max.to_string())
                )),
            Attribute::number("disk_size_gb")
                .optional_computed()
                .description("Root disk size of each node, in GB.")
                .check(Check::Range {
                    min: i64::from(DISK_SIZE_GB.0),
                    max: i64::from(DISK_SIZE_GB.1),
                    unit: " GB",
                    summary: "Disk size out of range",
                })
                .default_value(i64::from(DEFAULT_DISK_SIZE_GB)),
            Attribute::map("labels", Type::String)
                .optional()
                .description("Kubernetes labels on the pool's nodes."),
            Attribute::nested(
                "taints",
                Nesting::List,
                vec![
                    Attribute::string("key").required().description("The taint's key."),
                    Attribute::string("value").optional().description("The taint's value."),
                    Attribute::string("effect")
                        .required()
                        .description("`NoSchedule`, `PreferNoSchedule` or `NoExecute`."),
                ],
            )
            .optional()
            .description("Kubernetes taints on the pool's nodes."),
        ],
    )
    .optional_computed()
    .description(format!(
        "Node pools by name (up to {MAX_POOL_NAME_LEN} lowercase letters, digits and hyphens), each spread over every \
         zone, with IMDSv2 required. A `{SYSTEM_POOL}` pool for cluster add-ons always exists: when the map does not \
         define one, it gets the profile's defaults and shows in `node_pool_status` and `inventory` (Terraform keeps a \
         configured map exactly as written). The current size is not an attribute: the cluster autoscaler owns it."
    ))
    .default_doc(format!("a `{SYSTEM_POOL}` pool from the profile"))
}

/// The attributes of the `connection` output (computed), as
/// `paved_observability_stack`'s `cluster` takes them.
fn connection_attributes() -> Vec<Attribute> {
    [
        ("platform", "The platform: `eks` or `gke`."),
        ("name", "The cluster's name."),
        ("endpoint", "The Kubernetes API endpoint URL."),
        (
            "certificate_authority",
            "The cluster's CA, base64-encoded PEM.",
        ),
        (
            "location",
            "The region (or GCP location) the cluster is in.",
        ),
        (
            "account",
            "The AWS account id or GCP project the cluster lives in.",
        ),
        (
            "oidc_issuer_url",
            "The OIDC issuer of the cluster's service accounts.",
        ),
        ("kubernetes_version", "The running `major.minor` version."),
    ]
    .into_iter()
    .map(|(name, text)| Attribute::string(name).computed().description(text))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_is_declared_on_the_attributes() {
        let paths: Vec<String> = schema()
            .block
            .replacing_paths()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "name",
                "zones",
                "zone_count",
                "network.cidr",
                "network.existing_vpc_id",
                "encryption_key_arn"
            ]
        );
    }
    use crate::schema::{AttributeKind, Presence};
    use crate::stack::schema_testing::walk;

    #[test]
    fn every_attribute_is_described_and_every_default_documented() {
        let s = schema();
        let mut count = 0;
        walk(&s.block.attributes, &mut |a| {
            count += 1;
            assert!(!a.description.is_empty(), "{} has no description", a.name);
            if a.presence == Presence::OptionalComputed {
                assert!(a.default.is_some(), "{} has no default", a.name);
            }
        });
        assert!(count > 40, "{count}");
        let timeouts = s.block.find_block("timeouts").unwrap();
        assert_eq!(timeouts.nesting, Nesting::Single);
        assert!(timeouts
            .block
            .attributes
            .iter()
            .all(|a| a.default.is_some()));
    }

    #[test]
    fn defaults_are_documented_from_the_profile_table() {
        let s = schema();
        let zone_count = s.block.find_attribute("zone_count").unwrap();
        assert_eq!(
            zone_count.default_text().as_deref(),
            Some("the length of `zones`, else from the profile: production `3`, staging `3`, development `2`")
        );
        let AttributeKind::Nested { attributes, .. } =
            &s.block.find_attribute("network").unwrap().kind
        else {
            panic!("network is nested")
        };
        let nat = attributes.iter().find(|a| a.name == "nat_mode").unwrap();
        assert!(nat
            .default_text()
            .as_deref()
            .unwrap()
            .contains("production `per_zone`, staging `single`"));
        assert!(s.block.find_attribute("kubeconfig").unwrap().sensitive);
    }
}
