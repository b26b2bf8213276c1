//! The rendered alerting path, end to end, with the real programs on 127.0.0.1: an
//! alert fired by the Prometheus HA pair reaches the on-call webhook through the
//! clustered Alertmanager EXACTLY ONCE, and the Watchdog (heartbeat off) never does.
//!
//! Runs TWO `prometheus` processes (the HA pair: same configuration, each its own
//! `POD_NAME`, which the rendered `replica` external label expands) and THREE
//! Alertmanagers gossiping with each other (`--cluster.peer` of the other two), a tiny
//! HTTP target serving `/metrics`, and a webhook receiver recording each POST.
//!
//! What of the rendered configuration is used as is, and what is replaced for the
//! loopback:
//! - Alertmanager (`alertmanager_config(spec)`, taken from the rendered Secret after
//!   `resolve_secrets` put the local webhook URL in for the `oncall` placeholder):
//!   everything as is (global, receivers, routes, inhibit rules, group_by,
//!   repeat_interval), EXCEPT `group_wait` and `group_interval`, shortened to
//!   [`GROUP_WAIT`] / [`GROUP_INTERVAL`] on the root route and on every child route
//!   that sets them, so the test takes seconds rather than minutes.
//! - Prometheus (`prometheus_config(spec)`):
//!   - kept: `global` as rendered (scrape/evaluation interval, the external labels
//!     `cluster`, the spec's own, and `replica` = `${POD_NAME}` expanded by
//!     `--enable-feature=expand-external-labels`), and
//!     `alerting.alert_relabel_configs` (they drop `replica`, which is what lets the
//!     Alertmanagers deduplicate the pair's alerts);
//!   - replaced: `alerting.alertmanagers` (Kubernetes discovery of the Alertmanager
//!     pods) by one entry with `static_configs` listing the three local
//!     Alertmanagers (the rendered entry's `scheme`, `path_prefix`, `timeout` and
//!     `api_version` are carried over when set); `scrape_configs` (Kubernetes
//!     discovery) by one static job `loopback` scraping the local target every
//!     second; `rule_files` by two local files: the RENDERED `rules_yaml(spec)`
//!     byte for byte, and one test group `loopback` (evaluated every second) with
//!     the forced alert `LoopbackForced` (`up{job="loopback"} == 1`, `for: 0s`,
//!     `severity: critical`).
//! - Command lines: the rendered StatefulSets' args are not used; the test gives
//!   its own flags, with `--cluster.peer-timeout`, gossip and push-pull intervals
//!   short so the test is quick.
//!
//! When the binaries are absent: the test fails if `PAVED_REQUIRE_TOOLS=1` (as in
//! `scripts/test.sh`), else it prints "skipped: ..." and passes.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use paved_observability::configs::{alertmanager_config, prometheus_config, rules_yaml};
use paved_observability::{
    fixtures, render, resolve_secrets, secret_placeholder, ObservabilitySpec, ReceiverKind,
    ReceiverSpec, Rendered, RouteSpec,
};
use serde_json::{json, Value};

/// The test's `group_wait` (rendered: tens of seconds).
const GROUP_WAIT: &str = "1s";
/// The test's `group_interval` (rendered: minutes).
const GROUP_INTERVAL: &str = "2s";
const GROUP_INTERVAL_SECS: u64 = 2;
/// Alertmanager's `--cluster.peer-timeout`: the i-th peer waits i times this long
/// before notifying, to see the others' notification log first (default 15s).
const PEER_TIMEOUT_SECS: u64 = 3;
/// How long the forced alert may take to reach the webhook, from the start.
const DELIVERY_BOUND: Duration = Duration::from_secs(90);
/// The alert forced by the test.
const FORCED: &str = "LoopbackForced";
const CLUSTER_NAME: &str = "prod-eu";

/// A production-like, self-hosted stack on EKS: one webhook receiver `oncall` as
/// the default receiver, critical alerts routed to it explicitly, heartbeat off.
fn spec() -> ObservabilitySpec {
    let mut spec = fixtures::base(fixtures::eks(), "production");
    spec.cluster_name = CLUSTER_NAME.to_string();
    spec.stack_name = "observability".to_string();
    spec.namespace = "paved-observability".to_string();
    spec.storage_class = Some("gp3".to_string());
    spec.metrics.external_labels =
        BTreeMap::from([("environment".to_string(), "production".to_string())]);
    spec.alerting.receivers = vec![ReceiverSpec {
        name: "oncall".to_string(),
        kind: ReceiverKind::Webhook,
        send_resolved: true,
    }];
    spec.alerting.routes = vec![RouteSpec {
        receiver: "oncall".to_string(),
        matchers: vec!["severity=\"critical\"".to_string()],
        continue_matching: false,
    }];
    spec.alerting.default_receiver = Some("oncall".to_string());
    spec
}

// ---------------------------------------------------------------------------------
// Binaries, ports, processes
// ---------------------------------------------------------------------------------

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A TCP port on 127.0.0.1 that is free now, distinct from `taken`; with `udp`, free
/// for UDP as well (Alertmanager's gossip uses both on one port).
fn free_port(taken: &mut Vec<u16>, udp: bool) -> u16 {
    for _ in 0..100 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        if taken.contains(&port) {
            continue;
        }
        if udp && UdpSocket::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        taken.push(port);
        return port;
    }
    panic!("no free port on 127.0.0.1");
}

/// The started programs; killed (and reaped) when dropped, panic or not. On a panic
/// the end of each program's log is printed.
struct Processes {
    children: Vec<(String, Child, PathBuf)>,
}

impl Processes {
    fn spawn(&mut self, name: &str, mut command: Command, log: PathBuf) {
        let out = fs::File::create(&log).expect("create log");
        let err = out.try_clone().expect("clone log handle");
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        self.children.push((name.to_string(), child, log));
    }

    /// Panics when one of the programs has exited.
    fn check_running(&mut self) {
        for (name, child, _) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{name} exited early ({status})");
            }
        }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child, _) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if thread::panicking() {
            for (name, _, log) in &self.children {
                let text = fs::read_to_string(log).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = &lines[lines.len().saturating_sub(25)..];
                eprintln!("---- {name} (last {} lines) ----", tail.len());
                for line in tail {
                    eprintln!("{line}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// A minimal HTTP/1.x server and client (std only)
// ---------------------------------------------------------------------------------

struct Request {
    method: String,
    path: String,
    body: String,
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..header_end]).to_string();
    let mut first = head.lines().next()?.split_whitespace();
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < header_end + length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let end = data.len().min(header_end + length);
    let body = String::from_utf8_lossy(&data[header_end..end]).to_string();
    Some(Request { method, path, body })
}

/// Serves `handler` on `listener` in a thread, one connection at a time, each
/// answered and closed.
fn serve<F>(listener: TcpListener, handler: F)
where
    F: Fn(&Request) -> (u16, &'static str, String) + Send + 'static,
{
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some(request) = read_request(&mut stream) else {
                continue;
            };
            let (status, content_type, body) = handler(&request);
            let response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
            let _ = stream.shutdown(Shutdown::Both);
        }
    });
}

/// GET `path` from 127.0.0.1:`port`: the status and body, `None` when unreachable.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response).to_string();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

fn get_json(port: u16, path: &str) -> Option<Value> {
    match http_get(port, path)? {
        (200, body) => serde_json::from_str(&body).ok(),
        _ => None,
    }
}

/// Polls `check` every 250 ms until it gives a value or `bound` has passed since
/// `since`; `processes` are checked to be still running meanwhile.
fn wait_for<T>(
    what: &str,
    since: Instant,
    bound: Duration,
    processes: &mut Processes,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    loop {
        if let Some(value) = check() {
            return value;
        }
        processes.check_running();
        assert!(
            since.elapsed() < bound,
            "timed out after {:?} waiting for {what}",
            since.elapsed()
        );
        thread::sleep(Duration::from_millis(250));
    }
}

// ---------------------------------------------------------------------------------
// The configurations
// ---------------------------------------------------------------------------------

fn yaml_to_json(text: &str, what: &str) -> Value {
    yaml_serde::from_str(text).unwrap_or_else(|e| panic!("{what} is not YAML: {e}\n{text}"))
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

/// The text entries of a Secret or ConfigMap: (section, key, text), `data` decoded
/// from base64 for Secrets.
fn text_entries(object: &Value, kind: &str) -> Vec<(String, String, String)> {
    let mut entries = Vec::new();
    for section in ["stringData", "data"] {
        let Some(map) = object.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (key, value) in map {
            let Some(text) = value.as_str() else { continue };
            let text = if kind == "Secret" && section == "data" {
                match base64_decode(text).and_then(|b| String::from_utf8(b).ok()) {
                    Some(decoded) => decoded,
                    None => continue,
                }
            } else {
                text.to_string()
            };
            entries.push((section.to_string(), key.clone(), text));
        }
    }
    entries
}

/// The Alertmanager configuration as applied: the rendered Secret holding
/// `alertmanager_config(spec)`, after `resolve_secrets` put `values` in.
fn resolved_alertmanager_config(
    rendered: &Rendered,
    config: &str,
    values: &BTreeMap<String, String>,
) -> String {
    let place = rendered
        .objects
        .iter()
        .enumerate()
        .filter(|(_, m)| m.kind == "Secret")
        .find_map(|(i, m)| {
            text_entries(&m.body, &m.kind)
                .into_iter()
                .find(|(_, _, text)| text == config)
                .map(|(section, key, _)| (i, section, key))
        });
    let (index, section, key) = place.unwrap_or_else(|| {
        let secrets: Vec<String> = rendered
            .objects
            .iter()
            .filter(|m| m.kind == "Secret")
            .map(|m| m.name.clone())
            .collect();
        panic!("no rendered Secret holds alertmanager_config(spec) verbatim (Secrets: {secrets:?})")
    });
    let resolved = resolve_secrets(rendered, values).expect("resolve_secrets");
    let object = &resolved.objects[index];
    text_entries(&object.body, &object.kind)
        .into_iter()
        .find(|(s, k, _)| *s == section && *k == key)
        .map(|(_, _, text)| text)
        .expect("the resolved Secret keeps its entry")
}

/// Sets `group_wait` and `group_interval` of the root route, and of every child
/// route that sets them, to the test's short values (TEST ONLY: rendered values are
/// tens of seconds and minutes).
fn shorten_route_timers(route: &mut Value, root: bool) {
    let Some(map) = route.as_object_mut() else {
        return;
    };
    for (key, value) in [
        ("group_wait", GROUP_WAIT),
        ("group_interval", GROUP_INTERVAL),
    ] {
        if root || map.contains_key(key) {
            map.insert(key.to_string(), json!(value));
        }
    }
    if let Some(children) = map.get_mut("routes").and_then(Value::as_array_mut) {
        for child in children {
            shorten_route_timers(child, false);
        }
    }
}

/// The rendered Prometheus configuration with discovery replaced by static targets
/// (see the file's documentation for what is kept and replaced).
fn loopback_prometheus_config(
    rendered: &str,
    alertmanagers: &[String],
    target: &str,
    rule_files: &[PathBuf],
) -> Value {
    let mut config = yaml_to_json(rendered, "prometheus_config(spec)");
    let map = config
        .as_object_mut()
        .expect("prometheus_config(spec) is a mapping");
    assert!(
        map.contains_key("global"),
        "prometheus_config(spec) has no global section"
    );
    let alerting = map
        .get_mut("alerting")
        .and_then(Value::as_object_mut)
        .expect("prometheus_config(spec) has an alerting section");
    assert!(
        alerting.contains_key("alert_relabel_configs"),
        "prometheus_config(spec) has no alerting.alert_relabel_configs (dropping `replica`)"
    );
    let mut entry = serde_json::Map::new();
    if let Some(rendered_entry) = alerting
        .get("alertmanagers")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_object)
    {
        for key in ["scheme", "path_prefix", "timeout", "api_version"] {
            if let Some(value) = rendered_entry.get(key) {
                entry.insert(key.to_string(), value.clone());
            }
        }
    }
    entry.insert(
        "static_configs".to_string(),
        json!([{ "targets": alertmanagers }]),
    );
    alerting.insert("alertmanagers".to_string(), json!([entry]));
    map.insert(
        "scrape_configs".to_string(),
        json!([{
            "job_name": "loopback",
            "scrape_interval": "1s",
            "scrape_timeout": "1s",
            "static_configs": [{ "targets": [target] }],
        }]),
    );
    let files: Vec<String> = rule_files.iter().map(|p| p.display().to_string()).collect();
    map.insert("rule_files".to_string(), json!(files));
    config
}

fn forced_rule_group() -> Value {
    json!({
        "groups": [{
            "name": "loopback",
            "interval": "1s",
            "rules": [{
                "alert": FORCED,
                "expr": "up{job=\"loopback\"} == 1",
                "for": "0s",
                "labels": { "severity": "critical" },
                "annotations": { "summary": "forced by the loopback test" },
            }],
        }],
    })
}

fn write_yaml(path: &Path, value: &Value) {
    fs::write(path, yaml_serde::to_string(value).expect("YAML")).expect("write config");
}

// ---------------------------------------------------------------------------------
// The webhook's notifications
// ---------------------------------------------------------------------------------

/// The alert names of one notification's firing alerts.
fn firing_alertnames(notification: &Value) -> Vec<String> {
    notification["alerts"]
        .as_array()
        .map(|alerts| {
            alerts
                .iter()
                .filter(|a| a["status"] == "firing")
                .filter_map(|a| a["labels"]["alertname"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn all_alertnames(notification: &Value) -> Vec<String> {
    notification["alerts"]
        .as_array()
        .map(|alerts| {
            alerts
                .iter()
                .filter_map(|a| a["labels"]["alertname"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn forced_alert_reaches_the_webhook_exactly_once_through_the_ha_pair_and_clustered_alertmanager() {
    let require = std::env::var("PAVED_REQUIRE_TOOLS").as_deref() == Ok("1");
    let prometheus = which("prometheus");
    let alertmanager = which("prometheus-alertmanager").or_else(|| which("alertmanager"));
    let (prometheus, alertmanager) = match (prometheus, alertmanager) {
        (Some(p), Some(a)) => (p, a),
        (p, a) => {
            let missing: Vec<&str> = [
                p.is_none().then_some("prometheus"),
                a.is_none()
                    .then_some("prometheus-alertmanager (or alertmanager)"),
            ]
            .into_iter()
            .flatten()
            .collect();
            assert!(
                !require,
                "PAVED_REQUIRE_TOOLS=1 but not found on PATH: {}",
                missing.join(", ")
            );
            println!(
                "skipped: not found on PATH: {} (apt-get install prometheus prometheus-alertmanager)",
                missing.join(", ")
            );
            return;
        }
    };
    let started = Instant::now();
    let spec = spec();
    let dir = tempfile::tempdir().expect("temp dir");

    // The local target and the webhook receiver.
    let target = TcpListener::bind("127.0.0.1:0").expect("bind target");
    let target_addr = target.local_addr().expect("target addr").to_string();
    serve(target, |request| {
        if request.method == "GET" && request.path.starts_with("/metrics") {
            (
                200,
                "text/plain; version=0.0.4",
                "# HELP loopback_gauge A gauge for the loopback test.\n\
                 # TYPE loopback_gauge gauge\nloopback_gauge 1\n"
                    .to_string(),
            )
        } else {
            (404, "text/plain", "not found\n".to_string())
        }
    });
    let webhook = TcpListener::bind("127.0.0.1:0").expect("bind webhook");
    let webhook_url = format!(
        "http://{}/alerts",
        webhook.local_addr().expect("webhook addr")
    );
    let received: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let sink = Arc::clone(&received);
    serve(webhook, move |request| {
        if request.method == "POST" {
            sink.lock()
                .expect("webhook log")
                .push((Instant::now(), request.body.clone()));
        }
        (200, "text/plain", String::new())
    });

    // Ports: three Alertmanagers (HTTP, gossip), two Prometheus.
    let mut taken = Vec::new();
    let am_web: Vec<u16> = (0..3).map(|_| free_port(&mut taken, false)).collect();
    let am_gossip: Vec<u16> = (0..3).map(|_| free_port(&mut taken, true)).collect();
    let prom_web: Vec<u16> = (0..2).map(|_| free_port(&mut taken, false)).collect();

    // Alertmanager: the rendered configuration, the secret resolved, timers shortened.
    let rendered = render(&spec).expect("render(spec)");
    let am_text = alertmanager_config(&spec).expect("alertmanager_config(spec)");
    assert!(
        am_text.contains(&secret_placeholder("oncall")),
        "alertmanager_config(spec) has no placeholder for the oncall secret:\n{am_text}"
    );
    let values = BTreeMap::from([("oncall".to_string(), webhook_url.clone())]);
    let am_resolved = resolved_alertmanager_config(&rendered, &am_text, &values);
    assert!(
        !am_resolved.contains("<paved-secret:"),
        "a placeholder is left after resolve_secrets:\n{am_resolved}"
    );
    assert!(am_resolved.contains(&webhook_url));
    let mut am_config = yaml_to_json(&am_resolved, "the resolved Alertmanager configuration");
    shorten_route_timers(&mut am_config["route"], true);
    let am_config_path = dir.path().join("alertmanager.yml");
    write_yaml(&am_config_path, &am_config);

    // Prometheus: the rendered configuration, discovery replaced by static targets.
    let rules_path = dir.path().join("rules.yaml");
    let rules_text = rules_yaml(&spec).expect("rules_yaml(spec)");
    let rules = yaml_to_json(&rules_text, "rules_yaml(spec)");
    let has_watchdog = rules["groups"].as_array().is_some_and(|groups| {
        groups.iter().any(|g| {
            g["rules"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["alert"] == "Watchdog"))
        })
    });
    assert!(has_watchdog, "rules_yaml(spec) has no Watchdog alert");
    fs::write(&rules_path, rules_text).expect("write rules");
    let forced_path = dir.path().join("loopback-rules.yaml");
    write_yaml(&forced_path, &forced_rule_group());
    let am_targets: Vec<String> = am_web.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let prom_config = loopback_prometheus_config(
        &prometheus_config(&spec).expect("prometheus_config(spec)"),
        &am_targets,
        &target_addr,
        &[rules_path, forced_path],
    );
    let prom_config_path = dir.path().join("prometheus.yml");
    write_yaml(&prom_config_path, &prom_config);

    let mut processes = Processes {
        children: Vec::new(),
    };
    for i in 0..3 {
        let storage = dir.path().join(format!("alertmanager-{i}"));
        fs::create_dir_all(&storage).expect("storage dir");
        let mut command = Command::new(&alertmanager);
        command
            .arg(format!("--config.file={}", am_config_path.display()))
            .arg(format!("--storage.path={}", storage.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{}", am_web[i]))
            .arg(format!(
                "--cluster.listen-address=127.0.0.1:{}",
                am_gossip[i]
            ))
            .arg(format!(
                "--cluster.advertise-address=127.0.0.1:{}",
                am_gossip[i]
            ))
            .arg("--cluster.gossip-interval=100ms")
            .arg("--cluster.pushpull-interval=1s")
            .arg("--cluster.reconnect-interval=1s")
            .arg(format!("--cluster.peer-timeout={PEER_TIMEOUT_SECS}s"));
        for (j, port) in am_gossip.iter().enumerate() {
            if j != i {
                command.arg(format!("--cluster.peer=127.0.0.1:{port}"));
            }
        }
        processes.spawn(
            &format!("alertmanager-{i}"),
            command,
            dir.path().join(format!("alertmanager-{i}.log")),
        );
    }

    // The cluster forms before Prometheus sends anything: each member sees three.
    wait_for(
        "the three Alertmanagers to form a cluster",
        Instant::now(),
        Duration::from_secs(30),
        &mut processes,
        || {
            am_web
                .iter()
                .all(|port| {
                    get_json(*port, "/api/v2/status").is_some_and(|s| {
                        s["cluster"]["status"] == "ready"
                            && s["cluster"]["peers"].as_array().map(Vec::len) == Some(3)
                    })
                })
                .then_some(())
        },
    );

    for (i, port) in prom_web.iter().enumerate() {
        let storage = dir.path().join(format!("prometheus-{i}"));
        let mut command = Command::new(&prometheus);
        command
            .env("POD_NAME", format!("prometheus-{i}"))
            .arg(format!("--config.file={}", prom_config_path.display()))
            .arg(format!("--storage.tsdb.path={}", storage.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--enable-feature=expand-external-labels");
        processes.spawn(
            &format!("prometheus-{i}"),
            command,
            dir.path().join(format!("prometheus-{i}.log")),
        );
    }
    wait_for(
        "both Prometheus to be ready",
        Instant::now(),
        Duration::from_secs(30),
        &mut processes,
        || {
            prom_web
                .iter()
                .all(|port| http_get(*port, "/-/ready").is_some_and(|(s, _)| s == 200))
                .then_some(())
        },
    );

    // Each replica has the three Alertmanagers and its own `replica` label.
    for (i, port) in prom_web.iter().enumerate() {
        let status = get_json(*port, "/api/v1/status/config").expect("config of Prometheus");
        let yaml = status["data"]["yaml"].as_str().unwrap_or_default();
        assert!(
            yaml.contains(&format!("replica: prometheus-{i}")),
            "prometheus-{i}'s loaded config has no `replica: prometheus-{i}`:\n{yaml}"
        );
        let ams = wait_for(
            "Prometheus to discover the Alertmanagers",
            Instant::now(),
            Duration::from_secs(15),
            &mut processes,
            || {
                get_json(*port, "/api/v1/alertmanagers").and_then(|v| {
                    let active = v["data"]["activeAlertmanagers"].as_array()?.len();
                    (active == 3).then_some(active)
                })
            },
        );
        assert_eq!(ams, 3);
    }

    // The forced alert reaches the webhook.
    let notifications = |received: &Arc<Mutex<Vec<(Instant, String)>>>| -> Vec<(Instant, Value)> {
        received
            .lock()
            .expect("webhook log")
            .iter()
            .map(|(at, body)| {
                let value = serde_json::from_str(body)
                    .unwrap_or_else(|e| panic!("the webhook got non-JSON ({e}): {body}"));
                (*at, value)
            })
            .collect()
    };
    let first = wait_for(
        &format!("{FORCED} at the webhook"),
        started,
        DELIVERY_BOUND,
        &mut processes,
        || {
            notifications(&received)
                .into_iter()
                .find(|(_, n)| firing_alertnames(n).iter().any(|a| a == FORCED))
                .map(|(at, _)| at)
        },
    );
    let first_after = first - started;

    // Both replicas fire it, and the Watchdog reaches the Alertmanagers (so its
    // route to `none` is exercised).
    for port in &prom_web {
        wait_for(
            &format!("{FORCED} firing on both Prometheus"),
            Instant::now(),
            Duration::from_secs(15),
            &mut processes,
            || {
                get_json(*port, "/api/v1/alerts").and_then(|v| {
                    v["data"]["alerts"]
                        .as_array()?
                        .iter()
                        .any(|a| a["labels"]["alertname"] == FORCED && a["state"] == "firing")
                        .then_some(())
                })
            },
        );
    }
    let watchdog_at_alertmanager = wait_for(
        "the Watchdog at every Alertmanager",
        Instant::now(),
        Duration::from_secs(90),
        &mut processes,
        || {
            am_web
                .iter()
                .all(|port| {
                    get_json(*port, "/api/v2/alerts").is_some_and(|alerts| {
                        alerts.as_array().is_some_and(|a| {
                            a.iter()
                                .any(|alert| alert["labels"]["alertname"] == "Watchdog")
                        })
                    })
                })
                .then(Instant::now)
        },
    );

    // Quiet period: longer than group_interval plus the last peer's wait (two peer
    // timeouts), after the first notification and after the Watchdog arrived.
    let quiet = Duration::from_secs(GROUP_INTERVAL_SECS * 2 + PEER_TIMEOUT_SECS * 3 + 3);
    let until = (first + quiet).max(watchdog_at_alertmanager + quiet);
    while Instant::now() < until {
        processes.check_running();
        thread::sleep(Duration::from_millis(250));
    }

    let all = notifications(&received);
    let forced: Vec<&Value> = all
        .iter()
        .map(|(_, n)| n)
        .filter(|n| firing_alertnames(n).iter().any(|a| a == FORCED))
        .collect();
    let watchdog = all
        .iter()
        .filter(|(_, n)| all_alertnames(n).iter().any(|a| a == "Watchdog"))
        .count();
    println!(
        "loopback: {FORCED} first at the webhook after {:.1} s; {} notification(s) with it \
         firing, {} with the Watchdog, {} in all; checked until {:.1} s",
        first_after.as_secs_f64(),
        forced.len(),
        watchdog,
        all.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        forced.len(),
        1,
        "{FORCED} must reach the webhook exactly once (HA pair deduplicated, \
         Alertmanager cluster deduplicated); got:\n{forced:#?}"
    );
    assert_eq!(
        watchdog, 0,
        "the Watchdog must not reach the webhook (heartbeat off: it routes to `none`)"
    );

    // The alert as delivered: external labels on, `replica` dropped.
    let alert = forced[0]["alerts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["labels"]["alertname"] == FORCED))
        .expect("the forced alert in its notification");
    let labels = &alert["labels"];
    assert!(
        labels.get("replica").is_none(),
        "`replica` must be dropped before alerting: {labels}"
    );
    assert_eq!(labels["cluster"], CLUSTER_NAME, "labels: {labels}");
    assert_eq!(labels["environment"], "production", "labels: {labels}");
    assert_eq!(labels["severity"], "critical", "labels: {labels}");
    assert_eq!(forced[0]["receiver"], "oncall");
    drop(processes);
}
