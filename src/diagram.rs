//! The component diagrams of the docs: what a production stack consists of and how
//! its parts connect, as a Mermaid flowchart (rendered by the registry's and the code
//! host's Markdown).
//!
//! The components are the plan's own `inventory`: the resource is planned offline
//! (AWS, `us-east-1`, a production configuration; no call is made) and every row of
//! the planned inventory becomes a node, grouped by zone. Edges say what uses what,
//! from the components' kinds and keys (a NAT gateway sits in its zone's public
//! subnet, a node group runs in the private subnets...). A resource whose plan lists
//! no inventory gets no diagram.

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
        _ => return None,
    })
}

/// One inventory row.
struct Row {
    key: String,
    kind: String,
}

/// The planned inventory of `resource` for its drawn configuration.
fn planned_inventory(resource: &dyn Resource) -> Option<Vec<Row>> {
    let json = drawn_config(resource.type_name())?;
    let ty = resource.schema().value_type();
    let config = paved_value::json::decode(&serde_json::to_vec(&json).ok()?, &ty).ok()?;
    let provider_ty = crate::provider::provider_schema().value_type();
    let provider_config =
        paved_value::json::decode(br#"{"region": "us-east-1"}"#, &provider_ty).ok()?;
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
    let rows = planned.planned_state.get_attr("inventory")?.as_list()?;
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

/// The "Components" section of `resource`'s page: a Mermaid flowchart of the
/// inventory a production plan shows; `None` when its plan lists none.
pub fn component_diagram(resource: &dyn Resource) -> Option<String> {
    let rows = planned_inventory(resource)?;
    if rows.is_empty() {
        return None;
    }
    let mut by_zone: BTreeMap<Option<u32>, Vec<&Row>> = BTreeMap::new();
    for r in &rows {
        let zoned = zone_of(&r.key).filter(|_| {
            matches!(r.kind.as_str(), "subnet" | "nat_gateway" | "elastic_ip")
                || r.key.starts_with("route_table.private.")
        });
        by_zone.entry(zoned).or_default().push(r);
    }
    let mut out = String::new();
    let _ = writeln!(out, "## Components\n");
    let _ = writeln!(
        out,
        "What a production plan of this resource lists in its `inventory` (on AWS, for the configuration \
         `{}`), and what uses what. Generated from the plan itself.\n",
        drawn_config(resource.type_name())
            .map(|c| c.to_string())
            .unwrap_or_default()
    );
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
            let _ = writeln!(
                out,
                "    {}[\"{}<br/><i>{}</i>\"]",
                node(&r.key),
                r.key,
                r.kind
            );
        }
        let _ = writeln!(out, "  end");
    }
    for r in &rows {
        for used in uses(r, &rows) {
            let _ = writeln!(out, "  {} --> {}", node(&r.key), node(&used));
        }
    }
    let _ = writeln!(out, "```\n");
    Some(out)
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
