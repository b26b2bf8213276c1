//! Bad input is refused before any cloud call, naming the attribute; and transient
//! cloud faults do not fail a plan. The provider reaches moto through the counting,
//! fault-injecting proxy (crates/paved-testbed), which tells how many AWS calls were
//! made.

use paved_testbed::FaultConfig;

use crate::support::{bed, flaky, TERRAFORM as HEADER};

/// (name, provider block, data source body, the attribute the error must point at)
const INVALID: &[(&str, &str, &str, &str)] = &[
    ("cloud", r#"cloud = "azure""#, "", "cloud"),
    (
        "aws region",
        r#"aws { region = "Europe West" }"#,
        "",
        "region",
    ),
    (
        "aws endpoint",
        r#"aws { endpoint_url = "localhost:4566" }"#,
        "",
        "endpoint_url",
    ),
    (
        "aws endpoints key",
        r#"aws { endpoints = { ec3 = "http://127.0.0.1:1" } }"#,
        "",
        "endpoints",
    ),
    (
        "role arn",
        r#"aws {
  assume_role { role_arn = "arn:aws:iam::12:role/x" }
}"#,
        "",
        "role_arn",
    ),
    (
        "role duration",
        r#"aws {
  assume_role {
    role_arn         = "arn:aws:iam::123456789012:role/deploy"
    duration_seconds = 60
  }
}"#,
        "",
        "duration_seconds",
    ),
    (
        "default tag key",
        r#"default_tags = { "aws:team" = "x" }"#,
        "",
        "default_tags",
    ),
    ("gcp region", r#"gcp { region = "EU" }"#, "", "region"),
    ("profile", "", r#"profile = "prod""#, "profile"),
    ("zone_count zero", "", "zone_count = 0", "zone_count"),
    ("zone_count too big", "", "zone_count = 17", "zone_count"),
    ("zone_count fraction", "", "zone_count = 2.5", "zone_count"),
    ("region", "", r#"region = "us_east_1""#, "region"),
];

fn config(provider: &str, data: &str) -> String {
    format!("{HEADER}\nprovider \"paved\" {{\n{provider}\n}}\n\ndata \"paved_zones\" \"this\" {{\n{data}\n}}\n")
}

#[test]
fn invalid_input_fails_at_plan_with_the_attribute_and_no_aws_call() {
    let (_moto, proxy, mut ws) = bed(FaultConfig::default());
    ws.write_file("main.tf", &config("", ""));
    ws.init();

    for (name, provider, data, attribute) in INVALID {
        ws.write_file("main.tf", &config(provider, data));
        let plan = ws.run(&["plan", "-json", "-no-color", "-input=false"]);
        assert_ne!(plan.code, 0, "{name}: plan must fail\n{}", plan.combined());
        let errors = plan.json_errors_with_code();
        assert!(
            errors.iter().any(|(_, code)| code.contains(attribute)),
            "{name}: an error must point at `{attribute}` in the configuration; got {errors:#?}"
        );
        assert!(
            errors.iter().all(|(text, _)| !text.trim().ends_with(':')),
            "{name}: every error says what to do: {errors:#?}"
        );
        assert_eq!(
            proxy.stats().total,
            0,
            "{name}: no AWS call may be made for invalid input"
        );
    }

    // The control: a valid configuration does reach AWS through the proxy.
    ws.write_file("main.tf", &config("", ""));
    ws.plan(&[]);
    let stats = proxy.stats();
    assert_eq!(
        stats.count("ec2", "DescribeAvailabilityZones"),
        1,
        "{stats:#?}"
    );
}

#[test]
fn throttling_and_server_errors_are_retried() {
    // 20% of calls fail: throttling (in EC2's shape), 500 and 503. One read at a time
    // (-parallelism=1), so the seeded fault sequence is the same on every run.
    let (_moto, proxy, mut ws) = bed(flaky(7));
    let data: String = (0..12)
        .map(|i| {
            format!(
                "data \"paved_zones\" \"z{i}\" {{\n  zone_count = {}\n}}\n",
                1 + i % 3
            )
        })
        .collect();
    ws.write_file(
        "main.tf",
        &format!("{HEADER}\nprovider \"paved\" {{}}\n{data}"),
    );
    ws.init();
    ws.run_ok(&[
        "apply",
        "-auto-approve",
        "-parallelism=1",
        "-no-color",
        "-input=false",
    ]);
    let again = ws.run(&[
        "plan",
        "-detailed-exitcode",
        "-parallelism=1",
        "-no-color",
        "-input=false",
    ]);
    assert_eq!(
        again.code,
        0,
        "no changes after apply\n{}",
        again.combined()
    );
    let stats = proxy.stats();
    let calls = stats.count("ec2", "DescribeAvailabilityZones");
    assert!(
        stats.faults.failures() > 0,
        "faults were injected: {stats:#?}"
    );
    // 24 reads (apply and plan) succeeded, each after retrying past its faults.
    assert_eq!(calls, 24 + stats.faults.failures(), "{stats:#?}");
}
