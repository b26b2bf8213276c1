//! Every example plans as written on the Terraform versions the README claims:
//! AWS examples against moto, the GCP example against the GCP stand-in; `init`,
//! `validate` and `plan` must all succeed.
//!
//! - Terraform 1.15.5 plans every example.
//! - Terraform 1.0.3 plans the examples without a stack resource (the data source,
//!   the provider block). It cannot plan a stack resource at all: its planner
//!   crashes on a create with a single nested attribute (hashicorp/terraform#29388,
//!   fixed in 1.0.5; #29697, fixed in 1.0.9), so the README states 1.0.9 as the
//!   minimum for the resources. The examples still reference only top-level
//!   attributes and whole objects (`paved_network.main.vpc_id`,
//!   `paved_ha_cluster.main.connection`), since Terraform 1.0 cannot reference into
//!   nested attributes.
//!
//! On 1.15.5 the saved plan of every example with a stack resource is read back
//! with `terraform show -json`: each stack resource's `cost_estimate` must be known
//! at plan, priced (a positive total that is the sum of its lines) with its
//! assumptions and the table's date. The figures are printed and written to
//! `target/cost-estimates.md` (the closing notes quote them).

use std::path::{Path, PathBuf};

use paved_testbed::gcp::{GcpFake, GcpFakeConfig};

use crate::support::{Moto, Terraform, Workspace};

/// Every example directory (one holding `.tf` files), sorted.
fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut has_tf = false;
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(dir);
        }
    }
    out.sort();
    out
}

/// Whether the example has a stack resource (any `resource "paved_...`).
fn has_stack_resource(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "tf"))
        .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("resource \"paved_")))
}

/// Copies the example's `.tf` files into the workspace.
fn copy_example(ws: &Workspace, dir: &Path) {
    for e in std::fs::read_dir(dir).expect("read the example").flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "tf") {
            let text = std::fs::read_to_string(&p).expect("read a .tf file");
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("main.tf");
            ws.write_file(name, &text);
        }
    }
}

#[test]
fn every_example_plans_on_terraform_1_0_and_1_15() {
    let moto = Moto::start();
    let fake = GcpFake::start(GcpFakeConfig::default()).expect("start the GCP stand-in");
    let all = examples();
    assert!(all.len() >= 10, "examples found: {all:?}");
    let mut planned = Vec::new();
    let mut failed = Vec::new();
    let mut costs: Vec<(String, String, serde_json::Value)> = Vec::new();
    // The Terragrunt units' modules take their inputs from Terragrunt:
    // scripts/check-recipes.sh plans each unit with them.
    let all: Vec<PathBuf> = all
        .into_iter()
        .filter(|d| !d.components().any(|c| c.as_os_str() == "terragrunt"))
        .collect();
    for dir in &all {
        let gcp = dir.components().any(|c| c.as_os_str() == "gcp");
        for tf in Terraform::ALL {
            if tf == Terraform::V1_0 && has_stack_resource(dir) {
                continue;
            }
            let mut ws = if gcp {
                Workspace::new(tf)
                    .with_paved()
                    .env("PAVED_GCP_ENDPOINT_URL", &fake.url())
                    .env("GOOGLE_OAUTH_ACCESS_TOKEN", "test-token")
            } else {
                Workspace::paved(tf, &moto)
            };
            copy_example(&ws, dir);
            ws.init();
            let name = dir
                .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")))
                .unwrap_or(dir)
                .display()
                .to_string();
            for args in [
                &["validate", "-no-color"][..],
                &["plan", "-no-color", "-input=false", "-out=example.tfplan"],
            ] {
                let out = ws.run(args);
                if !out.success() {
                    failed.push(format!(
                        "{name}: terraform {} on {}:\n{}",
                        args[0],
                        tf.version(),
                        out.combined()
                            .lines()
                            .take(40)
                            .collect::<Vec<_>>()
                            .join("\n")
                    ));
                    break;
                }
            }
            planned.push(format!("{name} on {}", tf.version()));
            if tf == Terraform::V1_15 && has_stack_resource(dir) && failed.is_empty() {
                let shown = ws.run(&["show", "-json", "example.tfplan"]);
                match serde_json::from_str::<serde_json::Value>(&shown.stdout) {
                    Ok(plan) => costs.extend(
                        cost_estimates(&plan)
                            .into_iter()
                            .map(|(address, cost)| (name.clone(), address, cost)),
                    ),
                    Err(e) => failed.push(format!("{name}: show -json: {e}")),
                }
            }
        }
    }
    eprintln!("[figures] examples planned: {}", planned.len());
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    let mut table =
        String::from("| example | resource | monthly USD | largest lines |\n|---|---|---:|---|\n");
    for (example, address, cost) in &costs {
        let problems = cost_problems(cost);
        assert!(
            problems.is_empty(),
            "{example} {address}: cost_estimate {cost}: {}",
            problems.join("; ")
        );
        let total = cost["monthly_usd"].as_f64().unwrap_or_default();
        let mut lines: Vec<(&String, f64)> = cost["by_component"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k, v.as_f64().unwrap_or_default()))
            .collect();
        lines.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top: Vec<String> = lines
            .iter()
            .take(4)
            .map(|(k, v)| format!("{k} {v:.2}"))
            .collect();
        eprintln!(
            "[figures] cost {example} {address}: {total:.2} USD a month ({})",
            top.join(", ")
        );
        table.push_str(&format!(
            "| {example} | {address} | {total:.2} | {} |\n",
            top.join(", ")
        ));
    }
    assert!(
        costs.len() >= 6,
        "expected the stack resources of the examples to be priced; got {costs:?}"
    );
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/cost-estimates.md");
    let _ = std::fs::write(&out, table);
}

/// The `cost_estimate` planned for each stack resource of a `show -json` plan, by
/// address.
fn cost_estimates(plan: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rc| rc["type"].as_str().is_some_and(|t| t.starts_with("paved_")))
        .filter(|rc| rc["mode"] == "managed")
        .map(|rc| {
            let unknown = rc["change"]["after_unknown"]["cost_estimate"] == serde_json::json!(true);
            let cost = if unknown {
                serde_json::json!("(known after apply)")
            } else {
                rc["change"]["after"]["cost_estimate"].clone()
            };
            (rc["address"].as_str().unwrap_or_default().to_owned(), cost)
        })
        .collect()
}

/// What is wrong with a planned `cost_estimate` (nothing: empty).
fn cost_problems(cost: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(total) = cost["monthly_usd"].as_f64() else {
        return vec!["no known monthly_usd at plan".to_owned()];
    };
    if total <= 0.0 {
        out.push(format!("total {total} is not positive"));
    }
    let sum: f64 = cost["by_component"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.as_f64())
        .sum();
    if (sum - total).abs() > 0.011 {
        out.push(format!("lines sum to {sum}, not {total}"));
    }
    if cost["assumptions"].as_array().is_none_or(|a| a.is_empty()) {
        out.push("no assumptions".to_owned());
    }
    if cost["prices_as_of"].as_str().is_none_or(|d| d.len() != 7) {
        out.push("no prices_as_of".to_owned());
    }
    out
}
