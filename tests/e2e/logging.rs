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

/// A workspace with these variables whose configuration reads `paved_zones` (one
/// AWS call), initialised.
fn zones_workspace(moto: &Moto, env: &[(&str, &str)]) -> Workspace {
    let mut ws = Workspace::paved(Terraform::V1_15, moto);
    for (k, v) in env {
        ws = ws.env(k, v);
    }
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
    ws
}

/// paved writes only the lines its level allows: with Terraform showing everything
/// (`TF_LOG=trace`) and paved's level at its default, WARN (`TF_LOG_PROVIDER_PAVED`
/// wins over `TF_LOG`), neither paved's debug messages nor the AWS SDK's internal
/// events reach the log. Each line paved writes is work for both processes (a
/// 50-pair plan spent over half of paved's CPU formatting lines nobody reads), so the
/// level must stop events before they are formatted.
#[test]
fn provider_lines_stop_at_the_level_set_for_paved() {
    let moto = Moto::start();
    let mut ws = zones_workspace(
        &moto,
        &[("TF_LOG", "trace"), ("TF_LOG_PROVIDER_PAVED", "warn")],
    );
    let plan = ws.plan(&[]);
    let log = plan.combined();
    assert!(
        log.contains("GRPCProvider.v6: ReadDataSource"),
        "Terraform's trace log is on and the data source was read:\n{log}"
    );
    assert!(
        !log.contains("describing availability zones"),
        "a debug message of paved's reached the log at level warn"
    );
    // Every line paved writes carries its module; Terraform shows each at its level.
    let below: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("@module=provider.terraform-provider-paved"))
        .filter(|l| {
            ["[TRACE]", "[DEBUG]", "[INFO]"]
                .iter()
                .any(|t| l.contains(t))
        })
        .collect();
    assert!(
        below.is_empty(),
        "{} lines below warn reached the log from paved (its own or its dependencies', \
         such as the AWS SDK's), the first: {:?}",
        below.len(),
        &below[..below.len().min(5)]
    );
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
    let usage_path = marks_path.with_extension("usage");
    let usage_arg = usage_path.to_string_lossy().into_owned();
    let mut ws = zones_workspace(
        &moto,
        &[
            ("TF_LOG", "trace"),
            ("PAVED_PHASE_FILE", &marks_arg),
            ("PAVED_PEAK_RSS_FILE", &usage_arg),
        ],
    );
    // init starts the provider too: only the plan's processes are looked at.
    let _ = std::fs::remove_file(&marks_path);
    let _ = std::fs::remove_file(&usage_path);
    let plan = ws.plan(&[]);
    let text = std::fs::read_to_string(&marks_path).expect("the marks file was written");
    let usage = std::fs::read_to_string(&usage_path).expect("the usage file was written");
    let _ = std::fs::remove_file(&marks_path);
    let _ = std::fs::remove_file(&usage_path);

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
    // Each process also reports its memory and CPU at exit, for the benchmarks:
    // "PID PEAK_KB ANON_KB FILE_KB CPU_MS".
    let mut reported = std::collections::BTreeSet::new();
    for line in usage.lines() {
        let fields: Vec<u64> = line
            .split(' ')
            .map(|f| {
                f.parse()
                    .unwrap_or_else(|_| panic!("not a number in {line:?}"))
            })
            .collect();
        assert_eq!(fields.len(), 5, "a usage line has five fields: {line:?}");
        assert!(
            fields[1] > 0 && fields[2] + fields[3] <= fields[1] + 1024,
            "peak RSS at least what is resident at exit: {line:?}"
        );
        reported.insert(u32::try_from(fields[0]).expect("pid"));
    }
    assert_eq!(
        reported,
        by_pid.keys().copied().collect(),
        "every process that marked reported its usage: {usage}"
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
        // Every request comes after the handshake, and each one made before the stop
        // is answered. Terraform's own requests all come before the stop. go-plugin
        // opens its broker and stdio streams from goroutines of their own, so in a
        // short-lived process (or on a loaded machine) they may arrive after Shutdown,
        // between the stop mark and the server's GOAWAY.
        for (i, (_, name, path)) in marks.iter().enumerate() {
            if name == "rpc_start" {
                let background = path == "/plugin.GRPCBroker/StartStream"
                    || path == "/plugin.GRPCStdio/StreamStdio";
                assert!(
                    i > at("handshake"),
                    "process {pid}: {path} before the handshake: {marks:?}"
                );
                assert!(
                    background || i < at("stop"),
                    "process {pid}: {path} after the stop: {marks:?}"
                );
                assert!(
                    i > at("stop")
                        || marks[i..]
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
