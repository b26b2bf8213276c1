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
                &["plan", "-no-color", "-input=false"],
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
        }
    }
    eprintln!("[figures] examples planned: {}", planned.len());
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
