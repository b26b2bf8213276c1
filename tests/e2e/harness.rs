//! Self-test of the end-to-end test bed (tests/support), independent of the paved
//! provider: real Terraform 1.15.5 and 1.0.3 drive the Go hashicorp/null 2.1.2
//! provider from the filesystem mirror, and moto starts, answers and stops.

use crate::support::{self, output_value, Moto, Terraform, Workspace};

fn null_config(trigger: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    null = {{ source = "hashicorp/null", version = "2.1.2" }}
  }}
}}

resource "null_resource" "this" {{
  triggers = {{ value = "{trigger}" }}
}}

output "id" {{ value = null_resource.this.id }}
"#
    )
}

fn null_lifecycle(tf: Terraform) {
    let mut ws = Workspace::new(tf).with_null();

    let version = ws.run_ok(&["version"]);
    let expected = format!("Terraform v{}", tf.version());
    assert!(
        version.stdout.starts_with(&expected),
        "expected `{expected}`:\n{version}"
    );

    ws.write_file("main.tf", &null_config("one"));
    let init = ws.init();
    assert!(
        init.stdout.contains("hashicorp/null") && init.stdout.contains("2.1.2"),
        "init did not install hashicorp/null 2.1.2 from the mirror:\n{init}"
    );
    // The CLI config must be ours: a missing or inherited one makes Terraform warn.
    assert!(
        !init.combined().contains("CLI configuration"),
        "Terraform complained about its CLI configuration:\n{init}"
    );

    ws.validate();
    ws.plan(&[]);
    let apply = ws.apply();
    assert!(
        apply.stdout.contains("1 added"),
        "apply did not create the null_resource:\n{apply}"
    );
    ws.assert_no_changes();

    let outputs = ws.output_json();
    let id = output_value(&outputs, "id")
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!id.is_empty(), "null_resource id is empty: {outputs:#}");
    assert_eq!(ws.state_list(), vec!["null_resource.this".to_string()]);

    // The no-changes check can fail: a changed trigger is a replacement.
    ws.write_file("main.tf", &null_config("two"));
    assert_eq!(
        ws.plan_detailed_exitcode(),
        2,
        "a changed trigger must plan a change"
    );

    // Failures are reported with their diagnostics.
    ws.write_file(
        "bad.tf",
        "resource \"null_resource\" \"bad\" {\n  no_such_argument = 1\n}\n",
    );
    let invalid = ws.validate_err();
    let errors = invalid.json_error_diagnostics();
    assert!(
        errors.iter().any(|e| e.contains("no_such_argument")),
        "validate error should name the bad argument; got {errors:?}\n{invalid}"
    );
    let plan_err = ws.plan_err(&[]);
    assert!(
        !plan_err.json_error_diagnostics().is_empty(),
        "plan -json should report the error as a diagnostic:\n{plan_err}"
    );
    ws.remove_file("bad.tf");

    ws.destroy();
    let state = ws.state_json();
    let resources = state["resources"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(resources, 0, "state not empty after destroy: {state:#}");
}

#[test]
fn null_provider_lifecycle_terraform_1_15() {
    null_lifecycle(Terraform::V1_15);
}

#[test]
fn null_provider_lifecycle_terraform_1_0() {
    null_lifecycle(Terraform::V1_0);
}

#[test]
fn moto_starts_answers_and_stops() {
    let moto = Moto::start();
    let port = moto.port();
    assert_eq!(moto.endpoint(), format!("http://127.0.0.1:{port}"));
    let status = support::http_get_status(port, "/moto-api/").expect("moto answers");
    assert_eq!(status, 200, "GET /moto-api/ on moto; log:\n{}", moto.log());
    let pid = moto.pid();
    drop(moto);
    // (The pid may already belong to a new process: look at what it runs.)
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        !String::from_utf8_lossy(&cmdline).contains("moto_server"),
        "moto_server (pid {pid}) still exists after drop"
    );
    assert!(
        support::http_get_status(port, "/").is_err(),
        "port {port} still answers after moto was dropped"
    );
}
