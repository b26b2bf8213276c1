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

/// The benchmarks' phase marks (`PAVED_PHASE_FILE`, src/phases.rs): through a real
/// plan, every paved process Terraform starts writes its life in order (start,
/// handshake, each RPC's request and answer, Shutdown, exit), the AWS SDK's set-up is
/// marked by the adapter, and none of it reaches Terraform's trace log.
#[test]
fn phase_marks_follow_each_provider_process_and_stay_out_of_the_log() {
    let moto = Moto::start();
    let marks_path = std::env::temp_dir().join(format!(
        "paved-phase-marks-{}-{}.txt",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let marks_arg = marks_path.to_string_lossy().into_owned();
    let mut ws = Workspace::paved(Terraform::V1_15, &moto)
        .env("TF_LOG", "trace")
        .env("PAVED_PHASE_FILE", &marks_arg);
    ws.write_file(
        "main.tf",
        &format!(
            r#"{TERRAFORM}
provider "paved" {{}}

data "paved_zones" "this" {{}}
output "names" {{ value = data.paved_zones.this.names }}
"#
        ),
    );
    ws.init();
    // init starts the provider too: only the plan's processes are looked at.
    let _ = std::fs::remove_file(&marks_path);
    let plan = ws.plan(&[]);
    let text = std::fs::read_to_string(&marks_path).expect("the marks file was written");
    let _ = std::fs::remove_file(&marks_path);

    let mut by_pid: std::collections::BTreeMap<u32, Vec<(u128, String, String)>> =
        std::collections::BTreeMap::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.splitn(4, ' ').collect();
        assert!(
            parts.len() >= 3,
            "a mark line is PID MICROS NAME [DETAIL]: {line:?}"
        );
        let pid: u32 = parts[0].parse().expect("pid");
        let micros: u128 = parts[1].parse().expect("micros");
        by_pid.entry(pid).or_default().push((
            micros,
            parts[2].to_owned(),
            parts.get(3).copied().unwrap_or("").to_owned(),
        ));
    }
    assert!(
        by_pid.len() >= 2,
        "a plan starts the provider more than once, each process marks: {text}"
    );
    let mut rpcs = Vec::new();
    for (pid, marks) in &by_pid {
        let names: Vec<&str> = marks.iter().map(|(_, n, _)| n.as_str()).collect();
        let at = |name: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .unwrap_or_else(|| panic!("process {pid} has no {name} mark: {names:?}"))
        };
        // Written in the order the process lives.
        let order = [
            "main",
            "runtime",
            "socket",
            "tls_key",
            "tls_config",
            "router",
            "handshake",
            "stop",
            "stopped",
            "exit",
        ];
        let positions: Vec<usize> = order.iter().map(|n| at(n)).collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "process {pid}'s marks out of order: {names:?}"
        );
        assert!(
            marks.windows(2).all(|w| w[0].0 <= w[1].0),
            "process {pid}'s times go backwards: {marks:?}"
        );
        // Each request answered, between the handshake and the stop.
        for (i, (_, name, path)) in marks.iter().enumerate() {
            if name == "rpc_start" {
                assert!(
                    i > at("handshake") && i < at("stop"),
                    "request outside serving: {names:?}"
                );
                assert!(
                    marks[i..]
                        .iter()
                        .any(|(_, n, p)| n == "rpc_end" && p == path),
                    "process {pid}: {path} never answered: {marks:?}"
                );
                rpcs.push(path.clone());
            }
        }
    }
    assert!(
        rpcs.iter()
            .any(|p| p == "/tfplugin6.Provider/ReadDataSource"),
        "the data source was read: {rpcs:?}"
    );
    assert!(
        rpcs.iter().any(|p| p.ends_with("/GetProviderSchema")),
        "Terraform fetched the schema at least once: {rpcs:?}"
    );
    let encoded = by_pid
        .values()
        .flatten()
        .find(|(_, n, _)| n == "schema_encode_end")
        .map(|(_, _, bytes)| bytes.parse::<usize>().expect("schema bytes"))
        .expect("the schema's encoding was timed");
    assert!(
        encoded > 10_000,
        "the schema answer encodes to {encoded} bytes"
    );
    assert!(
        by_pid
            .values()
            .flatten()
            .any(|(_, n, d)| n == "sdk_config_end" && d == "aws"),
        "the AWS SDK's set-up was marked: {text}"
    );
    let log = plan.combined();
    assert!(
        log.contains("describing availability zones"),
        "trace logging was on"
    );
    for hidden in ["sdk_config_start", "paved::phase", "rpc_start"] {
        assert!(
            !log.contains(hidden),
            "mark {hidden} reached Terraform's log"
        );
    }
}
