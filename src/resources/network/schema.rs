//! The `paved_network` schema: what the user writes and what the plan shows. Every
//! defaulted attribute is optional and computed and declares its default (the
//! profile's value, or a fixed one), so the plan shows the effective value.

use paved_value::{Type, Value};

use crate::ports::network::{self as layout, NatLayout};
use crate::profiles;
use crate::schema::{Attribute, Block, Check, Schema};
use crate::stack::cost::cost_attributes;
use crate::stack::schema::{profile_default, tags_all_attribute, timeouts_block, TimeoutDoc};

/// The range when `cidr` is not set.
pub const DEFAULT_CIDR: &str = "10.0.0.0/16";
/// Default create timeout (NAT gateways take a few minutes).
pub const DEFAULT_CREATE_TIMEOUT: &str = "30m";
/// Default update timeout.
pub const DEFAULT_UPDATE_TIMEOUT: &str = "30m";
/// Default delete timeout.
pub const DEFAULT_DELETE_TIMEOUT: &str = "30m";
/// The longest network name.
pub const MAX_NAME_LEN: usize = 40;

/// The schema, built once: the reader takes the declared defaults from it.
pub fn declared() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(schema)
}

fn subnet_map(name: &str, what: &str) -> Attribute {
    Attribute::map(name, Type::list(Type::String))
        .computed()
        .keep_prior()
        .description(format!(
            "The subnets' {what} by tier (`private`, `intra`, `public`), each list in zone order."
        ))
}

/// The resource's schema.
pub fn schema() -> Schema {
    Schema::new(
        Block::new(
            "A network for a cluster and its databases, built on its own so that both can start as soon as it \
             exists: the same network a `paved_ha_cluster` builds for itself (a private, an intra and a public \
             subnet per zone, an internet gateway, NAT gateways, route tables, load-balancer subnet tags). Give it \
             to a cluster as `network = { existing_vpc_id = paved_network.main.vpc_id, existing_subnet_ids = \
             paved_network.main.subnet_ids }` and to a database as `network = { vpc_id = paved_network.main.vpc_id, \
             subnet_ids = paved_network.main.subnet_ids[\"intra\"], allowed_cidrs = [paved_network.main.cidr] }`: \
             the database then no longer waits for the whole cluster.",
        )
        .attribute(
            Attribute::string("id")
                .computed()
                .keep_prior()
                .description("The network's name (the id import takes)."),
        )
        .attribute(
            Attribute::string("name")
                .requires_replace()
                .required()
                .description(format!(
                    "The network's name: 1 to {MAX_NAME_LEN} letters, digits, hyphens and underscores, starting with a \
                     letter or digit. Every component is tagged with it. It may be the cluster's name: each resource \
                     finds only its own components. Changing it replaces the network."
                )),
        )
        .attribute(
            Attribute::string("profile")
                .optional_computed()
                .description(format!(
                    "One word for a whole set of defaults: {}. It sets the zone count and the NAT layout.",
                    profiles::allowed_names()
                ))
                .default_value(profiles::DEFAULT_PROFILE.name()),
        )
        .attribute(
            Attribute::string("cidr")
                .requires_replace()
                .optional_computed()
                .description(format!(
                    "The network's range, /{} to /{}. Each zone gets a private subnet (network + {} bits: a /19 in a \
                     /16) for nodes and pods, an intra subnet (+{} bits: a /24) with no internet route for control \
                     planes and databases, and a public subnet (+{} bits: a /22) for load balancers and NAT gateways. \
                     Changing it replaces the network.",
                    layout::LARGEST_PREFIX,
                    layout::SMALLEST_PREFIX,
                    layout::PRIVATE_EXTRA_BITS,
                    layout::INTRA_EXTRA_BITS,
                    layout::PUBLIC_EXTRA_BITS,
                ))
                .default_value(DEFAULT_CIDR),
        )
        .attribute(
            Attribute::list("zones", Type::String)
                .requires_replace()
                .optional_computed()
                .keep_prior()
                .description(
                    "The availability zones (`eu-west-1a`, ...). When not set, paved picks `zone_count` usable zones \
                     of the region at create, first by name, and keeps them. Changing them replaces the network.",
                )
                .default_doc("chosen at create"),
        )
        .attribute(
            Attribute::number("zone_count")
                .requires_replace()
                .optional_computed()
                .description(format!(
                    "How many zones (1 to {}); when `zones` lists them, their number. Changing it replaces the network.",
                    layout::MAX_ZONES
                ))
                .default(profile_default(|d| Value::from(i64::from(d.zones))))
                .check(Check::Range {
                    min: 1,
                    max: i64::from(layout::MAX_ZONES),
                    unit: " zones",
                    summary: "Zone count out of range",
                }),
        )
        .attribute(
            Attribute::string("nat_mode")
                .optional_computed()
                .description(
                    "How private subnets reach the internet: `\"per_zone\"` (a NAT gateway in each zone, no zone \
                     depends on another), `\"single\"` (one NAT gateway, cheaper, lost with its zone) or `\"none\"`. \
                     Changes in place: new gateways are made and routed before old ones go.",
                )
                .default(profile_default(|d| {
                    Value::from(NatLayout::from(d.nat).as_str())
                })),
        )
        .attribute(
            Attribute::bool("deletion_protection")
                .optional_computed()
                .description(
                    "Refuse to destroy or replace the network, at plan time and again at apply time. To remove a \
                     protected network, set it to `false`, apply, then destroy.",
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
        .attribute(
            Attribute::string("vpc_id")
                .computed()
                .keep_prior()
                .description("The network's id."),
        )
        .attribute(subnet_map("subnet_ids", "ids"))
        .attribute(
            Attribute::map("subnet_cidrs", Type::list(Type::String))
                .computed()
                .description(
                    "The subnets' ranges by tier (`private`, `intra`, `public`), each list in zone order: known at \
                     plan, from `cidr` and the zone count.",
                ),
        )
        .attribute(
            Attribute::list("nat_gateway_ids", Type::String)
                .computed()
                .keep_prior()
                .description("The NAT gateways' ids, in zone order."),
        )
        .block(timeouts_block(
            DEFAULT_CREATE_TIMEOUT,
            TimeoutDoc {
                default: DEFAULT_UPDATE_TIMEOUT,
                description: "Update timeout (a NAT layout change), such as `\"30m\"`.",
            },
            TimeoutDoc {
                default: DEFAULT_DELETE_TIMEOUT,
                description: "Delete timeout, such as `\"30m\"`.",
            },
        )),
    )
}
