//! Debug mode end to end: `terraform-provider-paved --debug` prints a
//! TF_REATTACH_PROVIDERS value, and real Terraform 1.15.5 plans through that running
//! process (twice: one debug process serves many Terraform runs).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use support::{paved_provider_binary, Moto, Terraform, Workspace};

/// Kills the debug provider when the test ends, however it ends.
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn terraform_plans_through_a_reattached_debug_provider() {
    let moto = Moto::start();
    let mut child = Command::new(paved_provider_binary())
        .arg("--debug")
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the provider in debug mode");
    let stdout = child.stdout.take().expect("stdout");
    let provider = Kill(child);
    let reattach = BufReader::new(stdout)
        .lines()
        .take(10)
        .map_while(Result::ok)
        .find_map(|l| {
            l.trim()
                .strip_prefix("TF_REATTACH_PROVIDERS='")
                .map(|r| r.trim_end_matches('\'').to_string())
        })
        .expect("the reattach line");

    // No provider in the mirror: Terraform must use the running process.
    let mut ws = Workspace::new(Terraform::V1_15)
        .with_moto(&moto)
        .env("TF_REATTACH_PROVIDERS", &reattach);
    ws.write_file(
        "main.tf",
        r#"
terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}

data "paved_zones" "this" {}

output "names" { value = data.paved_zones.this.names }
"#,
    );
    ws.init();
    for _ in 0..2 {
        let plan = ws.plan(&[]);
        // The debug process has eu-west-1 in its environment; the workspace says
        // us-east-1: the answer proves which process served the plan.
        assert!(plan.stdout.contains("eu-west-1a"), "{}", plan.combined());
    }
    drop(provider);
}
