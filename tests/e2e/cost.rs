//! The cost estimate and the budget through real Terraform 1.15.5 against moto:
//!
//! - a plan shows each stack resource's `cost_estimate` (known at plan, its lines
//!   summing to its total), and the database's figure equals the price table's
//!   arithmetic for a Multi-AZ `db.m6g.large` with one replica in us-east-1;
//! - a `monthly_budget_usd` below the estimate warns, naming both figures and the
//!   largest line; one above it says nothing; a budget of 0 is refused at validate,
//!   naming the attribute, before any AWS call;
//! - apply, then an empty plan: apply and refresh price the stack as the plan did;
//! - in a region the table does not list, the estimate is null and the plan warns.

use crate::support::{Moto, Terraform, Workspace};

fn config(budget: Option<u32>) -> String {
    let budget = budget.map_or(String::new(), |b| format!("  monthly_budget_usd = {b}\n"));
    format!(
        r#"
terraform {{
  required_providers {{
    paved = {{ source = "pavedroad/paved" }}
  }}
}}

provider "paved" {{}}

resource "paved_network" "shop" {{
  name                = "shop"
  profile             = "production"
  deletion_protection = false
}}

resource "paved_managed_database" "orders" {{
  name                = "orders"
  profile             = "production"
  read_replicas       = 1
  deletion_protection = false
  final_snapshot      = false
{budget}  network = {{
    vpc_id        = paved_network.shop.vpc_id
    subnet_ids    = paved_network.shop.subnet_ids["intra"]
    allowed_cidrs = [paved_network.shop.cidr]
  }}
}}

output "database_cost" {{ value = paved_managed_database.orders.cost_estimate }}
"#
    )
}

/// The planned `cost_estimate` of `address` in a saved plan's JSON.
fn planned_cost(ws: &mut Workspace, address: &str) -> serde_json::Value {
    ws.plan(&["-out=cost.tfplan"]);
    let shown = ws.run_ok(&["show", "-json", "cost.tfplan"]);
    let plan: serde_json::Value = serde_json::from_str(&shown.stdout).expect("show -json");
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|rc| rc["address"] == address)
        .map(|rc| rc["change"]["after"]["cost_estimate"].clone())
        .unwrap_or_else(|| panic!("{address} not in the plan: {plan}"))
}

#[test]
fn the_plan_prices_each_stack_warns_over_budget_and_apply_keeps_the_figure() {
    let moto = Moto::start();
    let mut ws = Workspace::paved(Terraform::V1_15, &moto).env("AWS_REGION", "us-east-1");
    ws.write_file("main.tf", &config(None));
    ws.init();

    let db = planned_cost(&mut ws, "paved_managed_database.orders");
    let line = |k: &str| db["by_component"][k].as_f64().unwrap_or(-1.0);
    // db.m6g.large is 0.159 an hour in us-east-1: primary and standby, then the replica.
    assert_eq!(line("database.primary"), 232.14, "{db}");
    assert_eq!(line("database.replicas"), 116.07, "{db}");
    let total = db["monthly_usd"].as_f64().expect("a known total at plan");
    let sum: f64 = db["by_component"]
        .as_object()
        .expect("lines")
        .values()
        .filter_map(serde_json::Value::as_f64)
        .sum();
    assert!((sum - total).abs() < 0.011, "{db}");
    assert_eq!(db["prices_as_of"], paved_pricing::PRICES_AS_OF);
    let net = planned_cost(&mut ws, "paved_network.shop");
    // Three NAT gateways with an address each, and 100 GB through them.
    assert_eq!(net["monthly_usd"].as_f64(), Some(114.0), "{net}");
    eprintln!("[figures] cost, production network: {net}");
    eprintln!("[figures] cost, production database with a replica: {db}");

    // Under budget: no warning; over: a warning naming both figures.
    ws.write_file("main.tf", &config(Some(1000)));
    let quiet = ws.plan(&[]).combined();
    assert!(!quiet.contains("Over the monthly budget"), "{quiet}");
    ws.write_file("main.tf", &config(Some(300)));
    let warned = ws
        .plan(&[])
        .combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(warned.contains("Over the monthly budget"), "{warned}");
    assert!(warned.contains(&format!("${total:.2}")), "{warned}");
    assert!(warned.contains("$300.00"), "{warned}");
    assert!(warned.contains("database.primary $232.14"), "{warned}");

    // A budget of 0 is refused at validate, naming the attribute.
    ws.write_file("main.tf", &config(Some(0)));
    let refused = ws.run(&["validate", "-no-color"]);
    assert!(!refused.success(), "{refused}");
    let text = refused.combined();
    assert!(
        text.contains("monthly_budget_usd") && text.contains("Monthly budget out of range"),
        "{text}"
    );

    // Apply, then nothing to change: apply and refresh price as the plan did.
    ws.write_file("main.tf", &config(Some(1000)));
    ws.apply();
    let applied = ws.output_json()["database_cost"]["value"].clone();
    assert_eq!(applied["monthly_usd"], db["monthly_usd"], "{applied}");
    ws.assert_no_changes();
    ws.destroy();
}

#[test]
fn a_region_without_prices_gives_a_null_estimate_and_a_warning() {
    let moto = Moto::start();
    let mut ws = Workspace::paved(Terraform::V1_15, &moto).env("AWS_REGION", "af-south-1");
    ws.write_file(
        "main.tf",
        r#"
terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

resource "paved_network" "shop" {
  name                = "shop"
  deletion_protection = false
}
"#,
    );
    ws.init();
    let out = ws
        .plan(&[])
        .combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(out.contains("No cost estimate"), "{out}");
    assert!(out.contains("\"af-south-1\""), "{out}");
    let cost = planned_cost(&mut ws, "paved_network.shop");
    assert!(cost.is_null(), "{cost}");
}
