//! Debug mode end to end: `terraform-provider-paved --debug` prints a
//! TF_REATTACH_PROVIDERS value, and real Terraform 1.15.5 plans through that running
//! process (twice: one debug process serves many Terraform runs).

use crate::support::plugin::DebugProvider;
use crate::support::{header, Moto, Terraform, Workspace};

#[test]
fn terraform_plans_through_a_reattached_debug_provider() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let provider = DebugProvider::start(&[
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]);

    // No provider in the mirror: Terraform must use the running process.
    let mut ws = Workspace::new(Terraform::V1_15)
        .with_moto(&moto)
        .env("TF_REATTACH_PROVIDERS", &provider.reattach);
    ws.write_file(
        "main.tf",
        &format!(
            r#"{}
data "paved_zones" "this" {{}}

output "names" {{ value = data.paved_zones.this.names }}
"#,
            header()
        ),
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
