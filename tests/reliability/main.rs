//! The reliability suite (issue 5, section 3): real Terraform 1.15.5 drives the provider
//! against moto through the counting, fault-injecting proxy (crates/paved-testbed).
//!
//! 1. 20 % of AWS calls fail (throttling, 500, 503): apply, an empty plan and destroy
//!    of a cluster + database stack still succeed, and nothing tagged `paved:stack`
//!    is left in moto.
//! 2. The provider process is killed (SIGKILL) mid-apply: a second apply converges
//!    with no component twice (counted by its `paved:component` tag in moto), and
//!    destroy leaves nothing.
//! 3. Terraform gets SIGINT mid-apply: it exits within a bounded time, the state holds
//!    what was created, and the next apply converges. Terraform killed outright
//!    (SIGKILL) mid-apply: its providers stop on their own within seconds, and the
//!    next apply adopts what the killed one was creating, with no component twice.
//! 4. A corpus of invalid configurations (`invalid_corpus.rs` beside this file): each
//!    fails at plan with an error naming the attribute, and no AWS call is made.
//! 5. Secrets: the master password, an alert receiver's webhook URL and Grafana's admin
//!    password never show in the state, in `terraform show -json` of a saved plan, or
//!    in the TF_LOG=trace output.
//!
//! Transport (6) is tests/plugin_client.rs; the decoder fuzzing (7) is fuzz/.
//! Stacks use the development profile (fast, no final snapshot, no deletion protection).
//! What moto holds is read by tests/support/cloud.rs.

#[path = "../support/mod.rs"]
mod support;

mod invalid_corpus;

use std::fs;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use paved_testbed::gcp::{GcpFake, GcpFakeConfig, GcpFakeHandle};
use paved_testbed::{FaultConfig, ProxyHandle, Stats};
use support::plugin::exited;
use support::{bed, calls, cloud, flaky, header, Moto, Workspace, TERRAFORM};

/// How long an interrupted or crashed `terraform apply` may take to exit.
const EXIT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long to wait for an apply to reach the point where it is interrupted.
const PROGRESS_TIMEOUT: Duration = Duration::from_secs(180);

/// A development cluster and a database in its network, both named after `stack`.
fn stack_config(stack: &str) -> String {
    format!(
        r#"{TERRAFORM}
provider "paved" {{}}

resource "paved_ha_cluster" "c" {{
  delivery    = "gitops"
  gitops_path = "gitops"
  name               = "{stack}"
  profile            = "development"
  kubernetes_version = "1.31"
}}

resource "paved_managed_database" "d" {{
  name    = "{stack}-db"
  profile = "development"
  network = {{
    vpc_id        = paved_ha_cluster.c.network.vpc_id
    subnet_ids    = values(paved_ha_cluster.c.network.private_subnet_ids)
    allowed_cidrs = [paved_ha_cluster.c.network.cidr]
  }}
}}
"#
    )
}

/// Nothing tagged `paved:stack` is left in moto.
fn assert_nothing_left(moto: &Moto) {
    let left = cloud::paved_objects(&moto.endpoint());
    assert!(
        left.is_empty(),
        "objects tagged paved:stack left in moto after destroy:\n{left:#?}"
    );
}

/// No component of `stacks` exists twice in moto; returns how many were found.
fn assert_no_duplicates(moto: &Moto, stacks: &[&str]) -> usize {
    let objects = cloud::paved_objects(&moto.endpoint());
    for stack in stacks {
        let dups = cloud::duplicate_components(&objects, stack);
        assert!(
            dups.is_empty(),
            "components of {stack} found more than once: {dups:#?}"
        );
    }
    objects.len()
}

/// Create* calls the proxy counted.
fn creates(stats: &Stats) -> u64 {
    stats
        .by_service
        .values()
        .flat_map(|actions| actions.iter())
        .filter(|(action, _)| action.starts_with("Create"))
        .map(|(_, n)| n)
        .sum()
}

/// A stack being applied in the background with 40 ms (+ up to 10) on every AWS call,
/// so the apply spreads over seconds, once it has made 4 Create* calls.
fn apply_under_way(stack: &str) -> (Moto, ProxyHandle, Workspace, Background) {
    let (moto, proxy, mut ws) = bed(FaultConfig::none().with_latency(40, 10));
    ws.write_file("main.tf", &stack_config(stack));
    ws.init();
    let mut apply = Background::apply(&ws, &format!("{stack}-apply"));
    apply.wait_for_creates(&proxy, 4);
    (moto, proxy, ws, apply)
}

/// The calls counted between two snapshots of the proxy's stats, as "service:Action" -> n.
fn calls_since(before: &Stats, after: &Stats) -> std::collections::BTreeMap<String, u64> {
    let before = calls(before);
    calls(after)
        .into_iter()
        .map(|(call, n)| {
            let d = n - before.get(&call).copied().unwrap_or(0);
            (call, d)
        })
        .filter(|(_, d)| *d > 0)
        .collect()
}

/// `terraform apply` started in the background, output to files in the working dir.
struct Background {
    child: Child,
    stdout: std::path::PathBuf,
    stderr: std::path::PathBuf,
}

impl Background {
    fn apply(ws: &Workspace, tag: &str) -> Background {
        let stdout = ws.dir().join(format!("{tag}.stdout"));
        let stderr = ws.dir().join(format!("{tag}.stderr"));
        let mut cmd = ws.command(&["apply", "-auto-approve", "-no-color", "-input=false"]);
        cmd.stdin(Stdio::null())
            .stdout(fs::File::create(&stdout).expect("stdout file"))
            .stderr(fs::File::create(&stderr).expect("stderr file"));
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("start terraform apply");
        Background {
            child,
            stdout,
            stderr,
        }
    }

    fn output(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            fs::read_to_string(&self.stdout).unwrap_or_default(),
            tail(&fs::read_to_string(&self.stderr).unwrap_or_default(), 6000)
        )
    }

    /// Waits until the proxy has counted `n` Create* calls; panics if the apply ends
    /// first or takes too long.
    fn wait_for_creates(&mut self, proxy: &ProxyHandle, n: u64) {
        let start = Instant::now();
        loop {
            let stats = proxy.stats();
            if creates(&stats) >= n {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("poll terraform") {
                panic!(
                    "terraform apply ended ({status}) after {} Create* calls, before {n}:\n{}",
                    creates(&stats),
                    self.output()
                );
            }
            assert!(
                start.elapsed() < PROGRESS_TIMEOUT,
                "no {n} Create* calls within {PROGRESS_TIMEOUT:?}: {stats:#?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for Terraform to exit; its exit code (-1 for a signal).
    fn wait(&mut self, limit: Duration) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll terraform") {
                return status.code().unwrap_or(-1);
            }
            if start.elapsed() > limit {
                signal(&format!("-{}", self.child.id()), "KILL");
                let _ = self.child.wait();
                panic!(
                    "terraform did not exit within {limit:?}:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            signal(&format!("-{}", self.child.id()), "KILL");
            let _ = self.child.wait();
        }
    }
}

fn tail(text: &str, max: usize) -> &str {
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    &text[start..]
}

/// `kill -SIG TARGET` (a pid, or "-PGID" for a process group).
fn signal(target: &str, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args([&format!("-{sig}"), "--", target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The pids of the processes whose parent is `parent` and whose command name starts
/// with `name` (the kernel keeps the first 15 bytes of it).
fn children_named(parent: u32, name: &str) -> Vec<u32> {
    let short = &name[..name.len().min(15)];
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "PID (COMM) STATE PPID ..."; COMM may hold spaces, so split at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(parent) && comm.starts_with(short) {
            found.push(pid);
        }
    }
    found
}

/// The resources in the state file, as "TYPE.NAME".
fn state_resources(ws: &Workspace) -> Vec<String> {
    let path = ws.dir().join("terraform.tfstate");
    let Ok(text) = fs::read_to_string(&path) else {
        return Vec::new();
    };
    let state: serde_json::Value = serde_json::from_str(&text).expect("state is JSON");
    state["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["instances"].as_array().is_some_and(|i| !i.is_empty()))
                .map(|r| {
                    format!(
                        "{}.{}",
                        r["type"].as_str().unwrap_or(""),
                        r["name"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------
// 1. throttling and 5xx
// ---------------------------------------------------------------------------------

#[test]
fn stack_survives_throttling_and_server_errors() {
    let (moto, proxy, mut ws) = bed(flaky(11));
    ws.write_file("main.tf", &stack_config("flaky"));
    ws.init();
    ws.apply();
    let after_apply = proxy.stats();
    ws.assert_no_changes();
    let before_destroy = proxy.stats();
    ws.destroy();
    let stats = proxy.stats();
    eprintln!(
        "[reliability] destroy calls: {:?}",
        calls_since(&before_destroy, &stats)
    );
    eprintln!(
        "[reliability] faults: {} calls, {} failed ({} throttled, {} HTTP 500, {} HTTP 503); apply alone {} calls",
        stats.total,
        stats.faults.failures(),
        stats.faults.throttle,
        stats.faults.error_500,
        stats.faults.error_503,
        after_apply.total
    );
    assert!(
        stats.faults.throttle > 0 && stats.faults.error_500 + stats.faults.error_503 > 0,
        "faults of every kind were injected: {stats:#?}"
    );
    assert_nothing_left(&moto);
}

// ---------------------------------------------------------------------------------
// 2. the provider killed mid-apply
// ---------------------------------------------------------------------------------

#[test]
fn apply_converges_after_the_provider_is_killed() {
    let (moto, proxy, mut ws, mut apply) = apply_under_way("crashy");
    let providers = children_named(apply.child.id(), "terraform-provider-paved");
    assert!(
        !providers.is_empty(),
        "no terraform-provider-paved child of terraform {}",
        apply.child.id()
    );
    for pid in &providers {
        signal(&pid.to_string(), "KILL");
    }
    let at_kill = proxy.stats();
    let code = apply.wait(EXIT_TIMEOUT);
    assert_ne!(
        code,
        0,
        "the apply whose provider was killed must fail:\n{}",
        apply.output()
    );
    eprintln!(
        "[reliability] killed provider {providers:?} after {} Create* calls ({} calls in all); terraform exited {code}",
        creates(&at_kill),
        at_kill.total
    );
    drop(apply);

    ws.apply();
    ws.assert_no_changes();
    let found = assert_no_duplicates(&moto, &["crashy", "crashy-db"]);
    eprintln!(
        "[reliability] after the second apply: {found} tagged objects, no duplicate component"
    );
    ws.destroy();
    assert_nothing_left(&moto);
}

/// A GKE stack on the GCP stand-in at `url`.
fn gcp_stack_config(url: &str) -> String {
    format!(
        r#"{TERRAFORM}
provider "paved" {{
  cloud = "gcp"
  gcp {{
    project      = "paved-test"
    region       = "europe-west2"
    endpoint_url = "{url}"
    access_token = "t"
  }}
}}

resource "paved_ha_cluster" "c" {{
  name                = "crashy"
  profile             = "production"
  delivery            = "gitops"
  gitops_path         = "gitops"
  deletion_protection = false
}}

resource "paved_managed_database" "db" {{
  name                = "crashy-db"
  profile             = "production"
  engine              = "postgres"
  deletion_protection = false
  network = {{
    vpc_id     = paved_ha_cluster.c.network.vpc_id
    subnet_ids = values(paved_ha_cluster.c.network.private_subnet_ids)
  }}
}}
"#
    )
}

/// What the GCP stand-in holds, by collection: names of networks, subnetworks,
/// routers, addresses, clusters, Cloud SQL instances, reserved ranges and secrets.
fn gcp_objects(fake: &GcpFakeHandle) -> Vec<String> {
    let state = fake.state();
    let mut out = Vec::new();
    for (service, collection) in [
        ("compute", "networks"),
        ("compute", "subnetworks"),
        ("compute", "routers"),
        ("compute", "addresses"),
        ("gke", "clusters"),
        ("compute", "globalAddresses"),
    ] {
        for item in state[service][collection].as_array().into_iter().flatten() {
            out.push(format!(
                "{collection}/{}",
                item["name"].as_str().unwrap_or_default()
            ));
        }
    }
    for (service, collection, inner) in [
        ("sql", "instances", "instance"),
        ("secrets", "secrets", "secret"),
    ] {
        for item in state[service][collection].as_array().into_iter().flatten() {
            out.push(format!(
                "{collection}/{}",
                item[inner]["name"].as_str().unwrap_or_default()
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn gke_apply_converges_after_the_provider_is_killed() {
    // Operations that take a few polls each, so the apply spreads over seconds.
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(3))
        .expect("start the GCP stand-in");
    let mut ws = Workspace::new(support::Terraform::V1_15).with_paved();
    ws.write_file("main.tf", &gcp_stack_config(&fake.url()));
    ws.init();
    let mut apply = Background::apply(&ws, "gke-apply");
    let started = Instant::now();
    // Killed once the database's Cloud SQL instance is being made: both stacks are
    // then half built.
    while !fake
        .request_counts()
        .by_call
        .keys()
        .any(|call| call.starts_with("POST sqladmin.instances"))
    {
        assert!(
            started.elapsed() < EXIT_TIMEOUT,
            "the apply never reached Cloud SQL: {:?}\n{}",
            fake.request_counts().by_call.keys().collect::<Vec<_>>(),
            apply.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let providers = children_named(apply.child.id(), "terraform-provider-paved");
    assert!(!providers.is_empty(), "no provider child of terraform");
    for pid in &providers {
        signal(&pid.to_string(), "KILL");
    }
    let at_kill = fake.request_counts().total;
    let code = apply.wait(EXIT_TIMEOUT);
    assert_ne!(
        code,
        0,
        "the apply whose provider was killed must fail:\n{}",
        apply.output()
    );
    let before = gcp_objects(&fake);
    eprintln!(
        "[reliability] GKE: killed the provider after {at_kill} GCP calls; it had made {before:?}"
    );
    drop(apply);

    ws.apply();
    ws.assert_no_changes();
    let after = gcp_objects(&fake);
    let mut deduped = after.clone();
    deduped.dedup();
    assert_eq!(after, deduped, "no object twice: {after:?}");
    assert!(after.iter().any(|o| o == "clusters/crashy"), "{after:?}");
    assert!(
        after.iter().any(|o| o == "instances/crashy-db"),
        "{after:?}"
    );
    ws.destroy();
    assert_eq!(
        gcp_objects(&fake),
        Vec::<String>::new(),
        "destroy leaves nothing"
    );
}

#[test]
fn interrupted_gke_apply_keeps_partial_state_and_converges() {
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(3))
        .expect("start the GCP stand-in");
    let mut ws = Workspace::new(support::Terraform::V1_15).with_paved();
    ws.write_file(
        "main.tf",
        &gcp_stack_config(&fake.url()).replace("crashy", "halted"),
    );
    ws.init();
    let mut apply = Background::apply(&ws, "gke-interrupted");
    let started = Instant::now();
    while fake.request_counts().total < 12 {
        assert!(
            started.elapsed() < EXIT_TIMEOUT,
            "the apply made no progress"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Instant::now();
    signal(&apply.child.id().to_string(), "INT");
    let code = apply.wait(EXIT_TIMEOUT);
    let took = sent.elapsed();
    eprintln!("[reliability] GKE: terraform exited {code} {took:.1?} after SIGINT");
    let in_state = state_resources(&ws);
    assert!(
        in_state.iter().any(|r| r == "paved_ha_cluster.c"),
        "the state holds the cluster being created when interrupted; it holds {in_state:?}\n{}",
        apply.output()
    );
    drop(apply);

    ws.apply();
    ws.assert_no_changes();
    let after = gcp_objects(&fake);
    let mut deduped = after.clone();
    deduped.dedup();
    assert_eq!(after, deduped, "no object twice: {after:?}");
    ws.destroy();
    assert_eq!(
        gcp_objects(&fake),
        Vec::<String>::new(),
        "destroy leaves nothing"
    );
}

// ---------------------------------------------------------------------------------
// 3. SIGINT to terraform mid-apply
// ---------------------------------------------------------------------------------

#[test]
fn interrupted_apply_keeps_partial_state_and_converges() {
    let (moto, proxy, mut ws, mut apply) = apply_under_way("halted");
    let sent = Instant::now();
    signal(&apply.child.id().to_string(), "INT");
    let code = apply.wait(EXIT_TIMEOUT);
    let took = sent.elapsed();
    eprintln!(
        "[reliability] terraform exited {code} {took:.1?} after SIGINT ({} Create* calls at the signal)",
        creates(&proxy.stats())
    );
    let in_state = state_resources(&ws);
    assert!(
        in_state.iter().any(|r| r == "paved_ha_cluster.c"),
        "the state holds the cluster being created when interrupted; it holds {in_state:?}\n{}",
        apply.output()
    );
    drop(apply);

    ws.apply();
    ws.assert_no_changes();
    assert_no_duplicates(&moto, &["halted", "halted-db"]);
    ws.destroy();
    assert_nothing_left(&moto);
}

// ---------------------------------------------------------------------------------
// 3b. terraform itself killed mid-apply (SIGKILL: no signal reaches the provider)
// ---------------------------------------------------------------------------------

#[test]
fn killed_terraform_leaves_no_provider_running_and_the_next_apply_adopts() {
    let (moto, proxy, mut ws, mut apply) = apply_under_way("orphan");
    let terraform = apply.child.id();
    let providers = children_named(terraform, "terraform-provider-paved");
    assert!(
        !providers.is_empty(),
        "no terraform-provider-paved child of terraform {terraform}"
    );
    // Only Terraform is killed, as the OOM killer or a cancelled CI job would: its
    // providers get no Shutdown and no signal.
    signal(&terraform.to_string(), "KILL");
    let code = apply.wait(EXIT_TIMEOUT);
    let killed = Instant::now();
    while providers.iter().any(|p| !exited(*p)) && killed.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let running: Vec<u32> = providers.iter().copied().filter(|p| !exited(*p)).collect();
    for pid in &running {
        signal(&pid.to_string(), "KILL");
    }
    assert!(
        running.is_empty(),
        "providers {running:?} still run 10 s after terraform {terraform} was killed"
    );
    eprintln!(
        "[reliability] terraform killed (exit {code}) after {} Create* calls; its providers {providers:?} stopped within {:.1?}",
        creates(&proxy.stats()),
        killed.elapsed()
    );
    drop(apply);

    // The state lacks what the killed apply was creating; the next apply finds it by
    // its tags instead of making it twice.
    ws.apply();
    ws.assert_no_changes();
    assert_no_duplicates(&moto, &["orphan", "orphan-db"]);
    ws.destroy();
    assert_nothing_left(&moto);
}

// ---------------------------------------------------------------------------------
// 4. invalid configurations
// ---------------------------------------------------------------------------------

#[test]
fn invalid_configurations_fail_before_any_aws_call() {
    let cases = invalid_corpus::CASES;
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let (_moto, proxy, mut ws) = bed(FaultConfig::none());
    ws.write_file("main.tf", &header());
    ws.init();

    let mut failures = Vec::new();
    for case in cases {
        ws.write_file("main.tf", &invalid_corpus::config(TERRAFORM, case));
        let plan = ws.run(&["plan", "-json", "-no-color", "-input=false"]);
        let errors = plan.json_errors_with_code();
        let names_it = errors
            .iter()
            .any(|(text, code)| code.contains(case.attribute) || text.contains(case.attribute));
        let calls = proxy.stats().total;
        if plan.success() || !names_it || calls != 0 {
            failures.push(format!(
                "{}: exit {}, {calls} AWS call(s), errors {errors:#?}\n{}",
                case.name,
                plan.code,
                tail(&plan.stderr, 2000)
            ));
            proxy.reset();
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} invalid configurations were not refused before any AWS call with an error naming \
         the attribute:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // The control: the same workspace does reach AWS through the proxy.
    ws.write_file(
        "main.tf",
        &format!("{}\ndata \"paved_zones\" \"z\" {{}}\n", header()),
    );
    ws.plan(&[]);
    assert!(proxy.stats().total > 0, "the control plan reached AWS");
}

#[test]
fn invalid_configurations_fail_before_any_gcp_call() {
    let cases: Vec<&invalid_corpus::Case> = invalid_corpus::CASES
        .iter()
        .filter(|c| !matches!(c.place, invalid_corpus::Place::Provider))
        .chain(invalid_corpus::GCP_PROVIDER_CASES)
        .collect();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let fake = GcpFake::start(GcpFakeConfig::default()).expect("start the GCP stand-in");
    let url = fake.url();
    let mut ws = Workspace::new(support::Terraform::V1_15).with_paved();
    ws.write_file("main.tf", &header());
    ws.init();

    let mut failures = Vec::new();
    for case in &cases {
        ws.write_file(
            "main.tf",
            &invalid_corpus::gcp_config(TERRAFORM, &url, case),
        );
        let plan = ws.run(&["plan", "-json", "-no-color", "-input=false"]);
        let errors = plan.json_errors_with_code();
        let names_it = errors
            .iter()
            .any(|(text, code)| code.contains(case.attribute) || text.contains(case.attribute));
        let calls = fake.request_counts().total;
        if plan.success() || !names_it || calls != 0 {
            failures.push(format!(
                "{}: exit {}, {calls} GCP call(s), errors {errors:#?}\n{}",
                case.name,
                plan.code,
                tail(&plan.stderr, 2000)
            ));
            fake.reset_counts();
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} invalid configurations on GCP were not refused before any GCP call with an \
         error naming the attribute:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // The control: the same workspace does reach the stand-in.
    ws.write_file(
        "main.tf",
        &format!(
            "{TERRAFORM}\nprovider \"paved\" {{\n  cloud = \"gcp\"\n  gcp {{\n    project = \"paved-test\"\n    region = \"europe-west2\"\n    endpoint_url = \"{url}\"\n    access_token = \"t\"\n  }}\n}}\ndata \"paved_zones\" \"z\" {{}}\n"
        ),
    );
    ws.plan(&[]);
    assert!(
        fake.request_counts().total > 0,
        "the control plan reached the stand-in"
    );
}

// ---------------------------------------------------------------------------------
// 5. secrets
// ---------------------------------------------------------------------------------

#[test]
fn master_password_never_leaves_the_cloud() {
    let (moto, _proxy, mut ws) = bed(FaultConfig::none());
    ws.write_file("main.tf", &stack_config("vault"));
    ws.init();

    // The apply with Terraform's and the provider's most verbose logs.
    let trace_path = ws.dir().join("trace.log");
    let out = ws
        .command(&["apply", "-auto-approve", "-no-color", "-input=false"])
        .env("TF_LOG", "trace")
        .env("TF_LOG_PATH", &trace_path)
        .stdin(Stdio::null())
        .output()
        .expect("run terraform apply");
    assert!(
        out.status.success(),
        "apply failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        tail(&String::from_utf8_lossy(&out.stderr), 6000)
    );
    let trace = fs::read_to_string(&trace_path).expect("read the trace log");
    assert!(
        trace.contains("terraform-provider-paved") && trace.len() > 10_000,
        "the trace log holds the provider's output ({} bytes)",
        trace.len()
    );
    let plan = ws.run_ok(&["plan", "-no-color", "-input=false", "-out=saved.tfplan"]);
    let shown = ws.run_ok(&["show", "-json", "saved.tfplan"]);
    let state_text =
        fs::read_to_string(ws.dir().join("terraform.tfstate")).expect("read the state");

    let state: serde_json::Value = serde_json::from_str(&state_text).expect("state JSON");
    let db = state["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["type"] == "paved_managed_database"))
        .expect("the database is in the state");
    let arn = db["instances"][0]["attributes"]["master_secret_arn"]
        .as_str()
        .expect("master_secret_arn is set")
        .to_string();
    let secret = cloud::secret_value(&moto.endpoint(), &arn);
    let parsed: serde_json::Value = serde_json::from_str(&secret).expect("the secret is JSON");
    let password = parsed["password"]
        .as_str()
        .expect("the secret holds a password")
        .to_string();
    assert!(
        password.len() >= 8,
        "a real password: {} chars",
        password.len()
    );

    let texts = [
        ("the state file", state_text.as_str()),
        (
            "`terraform show -json` of the saved plan",
            shown.stdout.as_str(),
        ),
        ("the plan output", plan.stdout.as_str()),
        ("the TF_LOG=trace log", trace.as_str()),
        ("the apply output", &String::from_utf8_lossy(&out.stdout)),
    ];
    for (what, text) in texts {
        assert!(
            !text.contains(&password),
            "the master password shows in {what}"
        );
        assert!(
            !text.contains(&secret),
            "the secret's value shows in {what}"
        );
    }
    ws.destroy();
    assert_nothing_left(&moto);
}

/// The webhook URL of the observability stack's receiver, kept in Secrets Manager.
const RECEIVER_URL: &str = "https://hooks.example.com/T0P-S3CRET-receiver-5a4b3c";

#[test]
fn receiver_secret_and_grafana_password_never_leave_the_cluster() {
    use paved_testbed::kube::{KubeFake, KubeFakeConfig};
    let fake = KubeFake::start(KubeFakeConfig::default().with_eks_cluster("lens"))
        .expect("start the Kubernetes stand-in");
    let (moto, _proxy, mut ws) = bed(FaultConfig::none());
    let arn = cloud::create_secret(&moto.endpoint(), "lens-oncall", RECEIVER_URL);
    let api = format!(
        "kubernetes_api = {{\n    url = {}\n    ca_certificate = {}\n  }}",
        support::hcl_string(&fake.url()),
        support::hcl_string(fake.ca_pem())
    );
    ws.write_file(
        "main.tf",
        &format!(
            r#"{TERRAFORM}
provider "paved" {{}}

resource "paved_ha_cluster" "lens" {{
  name               = "lens"
  profile            = "development"
  kubernetes_version = "1.31"
  {api}
}}

resource "paved_observability_stack" "lens" {{
  name    = "lens-obs"
  cluster = paved_ha_cluster.lens.connection
  profile = "development"
  {api}
  alerting = {{
    receivers = {{
      oncall = {{ type = "webhook", secret = "{arn}" }}
    }}
  }}
}}
"#
        ),
    );
    ws.init();
    let trace_path = ws.dir().join("trace.log");
    let out = ws
        .command(&["apply", "-auto-approve", "-no-color", "-input=false"])
        .env("TF_LOG", "trace")
        .env("TF_LOG_PATH", &trace_path)
        .stdin(Stdio::null())
        .output()
        .expect("run terraform apply");
    assert!(
        out.status.success(),
        "apply failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        tail(&String::from_utf8_lossy(&out.stderr), 6000)
    );
    let trace = fs::read_to_string(&trace_path).expect("read the trace log");
    let plan = ws.run_ok(&["plan", "-no-color", "-input=false", "-out=saved.tfplan"]);
    let shown = ws.run_ok(&["show", "-json", "saved.tfplan"]);
    let state_text =
        fs::read_to_string(ws.dir().join("terraform.tfstate")).expect("read the state");
    // Both secrets are where they belong: in the cluster's Secrets.
    let data = |name: &str, key: &str| {
        let secret = fake
            .object("", "v1", "secrets", "observability", name)
            .unwrap_or_else(|| panic!("Secret {name} missing"));
        let encoded = secret["data"][key].as_str().unwrap_or_default().to_owned();
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded)
            .expect("base64");
        String::from_utf8(bytes).expect("utf-8")
    };
    assert!(data("alertmanager-config", "alertmanager.yml").contains(RECEIVER_URL));
    let password = data("grafana-admin", "admin-password");
    assert!(password.len() >= 24, "a real password");
    let texts = [
        ("the state file", state_text.as_str()),
        (
            "`terraform show -json` of the saved plan",
            shown.stdout.as_str(),
        ),
        ("the plan output", plan.stdout.as_str()),
        ("the TF_LOG=trace log", trace.as_str()),
        ("the apply output", &String::from_utf8_lossy(&out.stdout)),
    ];
    for (what, text) in texts {
        assert!(
            !text.contains(RECEIVER_URL),
            "the receiver's URL shows in {what}"
        );
        assert!(
            !text.contains(&password),
            "Grafana's password shows in {what}"
        );
    }
    ws.destroy();
    assert_nothing_left(&moto);
}

/// A check of the helpers that need no cloud.
#[test]
fn process_and_text_helpers() {
    assert_eq!(tail("héllo", 3), "llo");
    assert_eq!(tail("abc", 10), "abc");
    assert!(children_named(std::process::id(), "no-such-process").is_empty());
    let me = children_named(
        fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| {
                let close = s.rfind(')')?;
                s[close + 1..].split_whitespace().nth(1)?.parse().ok()
            })
            .unwrap_or(0),
        "",
    );
    assert!(me.contains(&std::process::id()), "{me:?}");
}
