//! The component diagrams of the docs: what a production stack consists of and how
//! its parts connect, as a Mermaid flowchart (rendered by the registry's and the code
//! host's Markdown).
//!
//! Each resource is planned offline (AWS, `us-east-1`, a production configuration;
//! no call is made) and drawn from what that plan shows:
//!
//! - a cluster and a database from their planned `inventory`: every row a node,
//!   grouped by zone; edges say what uses what, from the components' kinds and keys
//!   (a NAT gateway sits in its zone's public subnet, a node group runs in the private
//!   subnets...);
//! - a network from its planned `subnet_cidrs` and `nat_mode` (its subnets by tier and
//!   zone with their ranges, the NAT gateways the mode makes);
//! - an observability stack from its planned `kubernetes_objects` (its workloads) and
//!   the stores it keeps in buckets, with the data's paths between them.
//!
//! Each page also quotes the plan's `cost_estimate` of that configuration.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use paved_value::Value;

use crate::framework::{OpContext, PlanRequest, Resource};

/// The production configuration each resource is drawn for (JSON over its schema).
fn drawn_config(type_name: &str) -> Option<serde_json::Value> {
    Some(match type_name {
        "paved_ha_cluster" => serde_json::json!({
            "name": "shop",
            "profile": "production",
            "kubernetes_version": "1.31",
            "node_pools": {"general": {"min_size": 3, "max_size": 9}},
        }),
        "paved_managed_database" => serde_json::json!({
            "name": "orders",
            "profile": "production",
            "network": {"vpc_id": "vpc-0", "subnet_ids": ["subnet-a", "subnet-b", "subnet-c"]},
        }),
        "paved_network" => serde_json::json!({"name": "shop", "profile": "production"}),
        "paved_observability_stack" => serde_json::json!({
            "name": "shop-obs",
            "profile": "production",
            "cluster": {
                "platform": "eks",
                "name": "shop",
                "endpoint": "https://0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com",
                "certificate_authority": "",
                "location": "us-east-1",
                "account": "123456789012",
                "oidc_issuer_url": "https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF",
                "kubernetes_version": "1.31",
            },
        }),
        _ => return None,
    })
}

/// One inventory row.
struct Row {
    key: String,
    kind: String,
}

/// The planned state of `resource` for its drawn configuration.
fn planned_state(resource: &dyn Resource) -> Option<Value> {
    let json = drawn_config(resource.type_name())?;
    let ty = resource.schema().value_type();
    let config = paved_value::json::decode(&serde_json::to_vec(&json).ok()?, &ty).ok()?;
    let provider_ty = crate::provider::provider_schema().value_type();
    let provider_config =
        paved_value::json::decode(br#"{"aws": {"region": "us-east-1"}}"#, &provider_ty).ok()?;
    let ctx = OpContext {
        provider: crate::provider::offline_provider_data(&provider_config)?,
        cancel: tokio_util::sync::CancellationToken::new(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let planned = runtime.block_on(resource.plan(
        &ctx,
        PlanRequest {
            prior_state: &Value::Null,
            proposed_new_state: &config,
            config: &config,
            prior_private: &[],
        },
    ));
    Some(planned.planned_state)
}

/// The rows of a planned `inventory`.
fn inventory_rows(planned: &Value) -> Option<Vec<Row>> {
    let rows = planned.get_attr("inventory")?.as_list()?;
    Some(
        rows.iter()
            .filter_map(|r| {
                Some(Row {
                    key: r.get_attr("key")?.as_str()?.to_owned(),
                    kind: r.get_attr("kind")?.as_str()?.to_owned(),
                })
            })
            .collect(),
    )
}

/// A network's rows from its planned `subnet_cidrs` and `nat_mode`: the VPC, the
/// internet gateway, each subnet (keyed by tier and zone, as the cluster's
/// inventory keys them), the NAT gateways with their addresses and the route
/// tables the mode makes. Also the subnets' ranges, by key.
fn network_rows(planned: &Value) -> Option<(Vec<Row>, BTreeMap<String, String>)> {
    let row = |key: String, kind: &str| Row {
        key,
        kind: kind.to_owned(),
    };
    let mut rows = vec![
        row("vpc".into(), "vpc"),
        row("internet_gateway".into(), "internet_gateway"),
    ];
    let mut ranges = BTreeMap::new();
    let mut zones = 0;
    for (tier, cidrs) in planned.get_attr("subnet_cidrs")?.as_map()? {
        let cidrs = cidrs.as_list()?;
        zones = zones.max(cidrs.len());
        for (i, cidr) in cidrs.iter().enumerate() {
            let key = format!("subnet.{tier}.{i}");
            ranges.insert(key.clone(), cidr.as_str()?.to_owned());
            rows.push(row(key, "subnet"));
        }
    }
    let nats = match planned.get_attr("nat_mode")?.as_str()? {
        "per_zone" => zones,
        "single" => 1,
        _ => 0,
    };
    for i in 0..nats {
        rows.push(row(format!("elastic_ip.{i}"), "elastic_ip"));
        rows.push(row(format!("nat_gateway.{i}"), "nat_gateway"));
    }
    rows.push(row("route_table.public".into(), "route_table"));
    for i in 0..zones {
        rows.push(row(format!("route_table.private.{i}"), "route_table"));
    }
    Some((rows, ranges))
}

/// The zone index a key ends with (`subnet.private.2` → 2).
fn zone_of(key: &str) -> Option<u32> {
    key.rsplit('.').next()?.parse().ok()
}

/// A Mermaid node id for `key`.
fn node(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// What the component `row` uses, among `rows` (edges point from user to used).
fn uses(row: &Row, rows: &[Row]) -> Vec<String> {
    let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    let has = |k: &str| keys.contains(&k);
    let of_kind = |kinds: &[&str]| -> Vec<String> {
        rows.iter()
            .filter(|r| kinds.contains(&r.kind.as_str()))
            .map(|r| r.key.clone())
            .collect()
    };
    let all = |prefix: &str| -> Vec<String> {
        keys.iter()
            .filter(|k| k.starts_with(prefix))
            .map(|k| (*k).to_owned())
            .collect()
    };
    let zone = zone_of(&row.key);
    let same_zone = |prefix: &str| -> Vec<String> {
        zone.map(|z| format!("{prefix}{z}"))
            .filter(|k| has(k))
            .into_iter()
            .collect()
    };
    let key = row.key.as_str();
    let mut out = match row.kind.as_str() {
        "subnet" | "internet_gateway" => vec!["vpc".to_owned()],
        "nat_gateway" => [same_zone("subnet.public."), same_zone("elastic_ip.")].concat(),
        "route_table" if key.starts_with("route_table.private") => {
            let own = same_zone("nat_gateway.");
            if own.is_empty() {
                all("nat_gateway.")
            } else {
                own
            }
        }
        "route_table" if key == "route_table.public" => vec!["internet_gateway".to_owned()],
        "cluster" => [
            all("subnet.intra."),
            vec![
                "iam_role.cluster".into(),
                "kms_key".into(),
                "log_group".into(),
            ],
        ]
        .concat(),
        "oidc_provider" | "access_entry" | "group_access" | "eks_addon" => vec!["cluster".into()],
        "iam_role" if key == "iam_role.autoscaler" || key == "iam_role.storage_driver" => {
            vec!["oidc_provider".into()]
        }
        "node_group" => {
            let pool = key.trim_start_matches("node_group.");
            [
                vec![
                    "cluster".into(),
                    format!("launch_template.{pool}"),
                    "iam_role.node".into(),
                ],
                all("subnet.private."),
            ]
            .concat()
        }
        "db_instance" => of_kind(&[
            "db_subnet_group",
            "security_group",
            "parameter_group",
            "kms_key",
            "secret",
        ]),
        "db_replica" => of_kind(&["db_instance"]),
        _ => Vec::new(),
    };
    out.retain(|k| has(k) && k != key);
    out
}

/// The "Components" section of `resource`'s page: a Mermaid flowchart of what a
/// production plan of it shows, and that plan's cost estimate; `None` when its plan
/// shows nothing to draw.
pub fn component_diagram(resource: &dyn Resource) -> Option<String> {
    let planned = planned_state(resource)?;
    let config = drawn_config(resource.type_name())
        .map(|c| c.to_string())
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "## Components\n");
    if resource.type_name() == "paved_observability_stack" {
        let flows = observability_flows(&planned)?;
        let _ = writeln!(
            out,
            "The workloads a production plan of this resource lists in its `kubernetes_objects` (on AWS, for the \
             configuration `{config}`), the buckets its stores keep data in, and where the data goes. Generated \
             from the plan itself.\n"
        );
        out.push_str(&flows);
    } else {
        let (rows, ranges, from) = match inventory_rows(&planned) {
            Some(rows) if !rows.is_empty() => (rows, BTreeMap::new(), "lists in its `inventory`"),
            _ => {
                let (rows, ranges) = network_rows(&planned)?;
                (rows, ranges, "shows in `subnet_cidrs` and `nat_mode`")
            }
        };
        let _ = writeln!(
            out,
            "What a production plan of this resource {from} (on AWS, for the configuration `{config}`), and what \
             uses what. Generated from the plan itself.\n"
        );
        out.push_str(&flowchart(&rows, &ranges));
    }
    out.push_str(&cost_line(&planned));
    Some(out)
}

/// The flowchart of `rows`, grouped by zone, with the ranges of `ranges` under their
/// keys.
fn flowchart(rows: &[Row], ranges: &BTreeMap<String, String>) -> String {
    let mut by_zone: BTreeMap<Option<u32>, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        let zoned = zone_of(&r.key).filter(|_| {
            matches!(r.kind.as_str(), "subnet" | "nat_gateway" | "elastic_ip")
                || r.key.starts_with("route_table.private.")
        });
        by_zone.entry(zoned).or_default().push(r);
    }
    let mut out = String::new();
    let _ = writeln!(out, "```mermaid\nflowchart LR");
    for (zone, members) in &by_zone {
        match zone {
            Some(z) => {
                let _ = writeln!(out, "  subgraph zone{z}[\"zone {}\"]", z + 1);
            }
            None => {
                let _ = writeln!(out, "  subgraph regional[\"regional\"]");
            }
        }
        for r in members {
            let range = ranges
                .get(&r.key)
                .map(|c| format!("<br/>{c}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {}[\"{}<br/><i>{}</i>{range}\"]",
                node(&r.key),
                r.key,
                r.kind
            );
        }
        let _ = writeln!(out, "  end");
    }
    for r in rows {
        for used in uses(r, rows) {
            let _ = writeln!(out, "  {} --> {}", node(&r.key), node(&used));
        }
    }
    let _ = writeln!(out, "```\n");
    out
}

/// Where an observability stack's data goes, between the workloads a plan lists
/// (`Kind namespace/name`) and the buckets of its stores: (from, to, what).
const FLOWS: &[(&str, &str, &str)] = &[
    ("alloy", "loki", "pod logs"),
    ("alloy", "tempo", "traces, OTLP"),
    ("prometheus", "node-exporter", "scrapes"),
    ("prometheus", "kube-state-metrics", "scrapes"),
    ("prometheus", "alertmanager", "alerts"),
    ("grafana", "prometheus", "queries"),
    ("grafana", "loki", "queries"),
    ("grafana", "tempo", "queries"),
    ("grafana", "alertmanager", "silences"),
    ("loki", "bucket.logs", "chunks"),
    ("tempo", "bucket.traces", "blocks"),
];

/// The flowchart of an observability stack's planned workloads and buckets.
fn observability_flows(planned: &Value) -> Option<String> {
    let objects = planned.get_attr("kubernetes_objects")?.as_list()?;
    let mut nodes: BTreeMap<String, String> = BTreeMap::new();
    for o in objects {
        let text = o.as_str()?;
        let Some((kind, rest)) = text.split_once(' ') else {
            continue;
        };
        if matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet") {
            let name = rest.rsplit('/').next().unwrap_or(rest);
            nodes.insert(name.to_owned(), kind.to_owned());
        }
    }
    for (store, bucket) in [("logs", "bucket.logs"), ("traces", "bucket.traces")] {
        if planned.get_attr(store)?.get_attr("enabled")?.as_bool()? {
            nodes.insert(bucket.to_owned(), "bucket".to_owned());
        }
    }
    if nodes.is_empty() {
        return None;
    }
    let mut out = String::new();
    let _ = writeln!(out, "```mermaid\nflowchart LR");
    let _ = writeln!(out, "  subgraph cluster[\"in the cluster\"]");
    for (name, kind) in nodes.iter().filter(|(_, k)| *k != "bucket") {
        let _ = writeln!(out, "    {}[\"{name}<br/><i>{kind}</i>\"]", node(name));
    }
    let _ = writeln!(out, "  end");
    let _ = writeln!(out, "  subgraph cloud[\"in the cloud\"]");
    for (name, _) in nodes.iter().filter(|(_, k)| *k == "bucket") {
        let _ = writeln!(out, "    {}[(\"{name}\")]", node(name));
    }
    let _ = writeln!(out, "  end");
    for (from, to, what) in FLOWS {
        if nodes.contains_key(*from) && nodes.contains_key(*to) {
            let _ = writeln!(out, "  {} -->|{what}| {}", node(from), node(to));
        }
    }
    let _ = writeln!(out, "```\n");
    Some(out)
}

/// The plan's `cost_estimate` of the drawn configuration, in a sentence and its
/// lines.
fn cost_line(planned: &Value) -> String {
    let Some(cost) = planned.get_attr("cost_estimate") else {
        return String::new();
    };
    let number = |v: &Value| v.as_number().and_then(|n| n.as_f64());
    let Some(total) = cost.get_attr("monthly_usd").and_then(number) else {
        return String::new();
    };
    let lines: Vec<String> = cost
        .get_attr("by_component")
        .and_then(Value::as_map)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some(format!("`{k}` ${:.2}", number(v)?)))
        .collect();
    format!(
        "That plan's `cost_estimate` in us-east-1: **${total:.2} a month** ({}), at list prices as of {} (see the \
         cost estimate guide for the table and the assumptions).\n\n",
        lines.join(", "),
        cost.get_attr("prices_as_of")
            .and_then(Value::as_str)
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, kind: &str) -> Row {
        Row {
            key: key.to_owned(),
            kind: kind.to_owned(),
        }
    }

    #[test]
    fn a_nat_gateway_uses_its_zones_public_subnet_and_address() {
        let rows = [
            row("vpc", "vpc"),
            row("subnet.public.1", "subnet"),
            row("subnet.public.0", "subnet"),
            row("elastic_ip.1", "elastic_ip"),
        ];
        assert_eq!(
            uses(&row("nat_gateway.1", "nat_gateway"), &rows),
            vec!["subnet.public.1".to_owned(), "elastic_ip.1".to_owned()]
        );
    }

    #[test]
    fn a_node_group_uses_the_cluster_its_template_and_every_private_subnet() {
        let rows = [
            row("cluster", "cluster"),
            row("launch_template.general", "launch_template"),
            row("iam_role.node", "iam_role"),
            row("subnet.private.0", "subnet"),
            row("subnet.private.1", "subnet"),
            row("subnet.public.0", "subnet"),
        ];
        let used = uses(&row("node_group.general", "node_group"), &rows);
        assert_eq!(used.len(), 5, "{used:?}");
        assert!(!used.contains(&"subnet.public.0".to_owned()));
    }

    #[test]
    fn a_database_uses_its_groups_key_and_secret_and_a_replica_its_primary() {
        let rows = [
            row("kms_key", "kms_key"),
            row("subnet_group", "db_subnet_group"),
            row("master_secret", "secret"),
            row("instance", "db_instance"),
        ];
        assert_eq!(
            uses(&row("instance", "db_instance"), &rows),
            vec![
                "kms_key".to_owned(),
                "subnet_group".to_owned(),
                "master_secret".to_owned()
            ]
        );
        assert_eq!(
            uses(&row("replica.0", "db_replica"), &rows),
            vec!["instance".to_owned()]
        );
    }

    fn diagram_of(type_name: &str) -> String {
        use crate::framework::ProviderDefinition as _;
        let resources = crate::provider::PavedProvider.resources();
        let resource = resources
            .iter()
            .find(|r| r.type_name() == type_name)
            .expect("the resource");
        component_diagram(resource.as_ref()).expect("a diagram")
    }

    #[test]
    fn the_network_page_draws_its_planned_subnets_and_nat_and_every_page_its_cost() {
        let network = diagram_of("paved_network");
        for part in [
            "subnet.private.2<br/><i>subnet</i><br/>10.0.",
            "nat_gateway_2 --> subnet_public_2",
            "route_table_private_1 --> nat_gateway_1",
            "subnet_intra_0 --> vpc",
            "`nat_gateways` $114.00",
        ] {
            assert!(network.contains(part), "{part} in:\n{network}");
        }
        let observability = diagram_of("paved_observability_stack");
        for part in [
            "prometheus[\"prometheus<br/><i>StatefulSet</i>\"]",
            "alloy -->|pod logs| loki",
            "loki -->|chunks| bucket_logs",
            "bucket_traces[(\"bucket.traces\")]",
            "a month**",
        ] {
            assert!(observability.contains(part), "{part} in:\n{observability}");
        }
        for page in ["paved_ha_cluster", "paved_managed_database"] {
            let text = diagram_of(page);
            assert!(
                text.contains("That plan's `cost_estimate` in us-east-1: **$"),
                "{text}"
            );
        }
    }

    #[test]
    fn the_cluster_page_draws_the_planned_inventory() {
        use crate::framework::ProviderDefinition as _;
        let resources = crate::provider::PavedProvider.resources();
        let resource = resources
            .iter()
            .find(|r| r.type_name() == "paved_ha_cluster")
            .expect("the cluster resource");
        let diagram = component_diagram(resource.as_ref()).expect("a diagram");
        for part in [
            "flowchart LR",
            "zone 3",
            "nat_gateway_2 --> subnet_public_2",
            "node_group_general --> cluster",
        ] {
            assert!(diagram.contains(part), "{part} in:\n{diagram}");
        }
    }
}
