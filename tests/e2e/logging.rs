//! Provider logs reach Terraform's log as structured lines: with TF_LOG=debug,
//! Terraform 1.15.5 shows paved's debug messages under the provider's name, and
//! secrets set in the provider block never appear in the log or the state.

use crate::support::{Moto, Terraform, Workspace, TERRAFORM};

#[test]
fn tf_log_shows_provider_logs_without_secrets() {
    let moto = Moto::start();
    let mut ws = Workspace::paved(Terraform::V1_15, &moto).env("TF_LOG", "debug");
    let secret = "s3cr3t-external-id-93f1";
    ws.write_file(
        "main.tf",
        &format!(
            r#"{TERRAFORM}
provider "paved" {{
  gcp {{
    credentials = "{secret}"
  }}
}}

data "paved_zones" "this" {{}}
output "names" {{ value = data.paved_zones.this.names }}
"#
        ),
    );
    ws.init();
    let plan = ws.plan(&[]);
    let log = plan.combined();
    // Terraform re-logs the provider's JSON lines at their level, naming the plugin.
    let line = log
        .lines()
        .find(|l| l.contains("describing availability zones"))
        .unwrap_or_else(|| panic!("paved's debug message missing from TF_LOG output:\n{log}"));
    assert!(line.contains("[DEBUG]"), "logged at debug: {line}");
    assert!(
        line.contains("provider.terraform-provider-paved"),
        "named after the plugin: {line}"
    );
    assert!(
        line.contains("region=us-east-1"),
        "fields carried as key=value: {line}"
    );
    assert!(!log.contains(secret), "a secret reached the log");
    ws.apply();
    let state = std::fs::read_to_string(ws.dir().join("terraform.tfstate")).expect("state file");
    assert!(!state.contains(secret), "a secret reached the state");
}
