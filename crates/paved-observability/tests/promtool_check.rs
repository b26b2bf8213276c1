//! The rendered Prometheus configuration and rules, judged by the real
//! `promtool` (Debian's Prometheus 2.42; older than the image we deploy, so what
//! passes here loads in both): `check config` for every platform, spec and mode,
//! `check rules` for the rule files (defaults and customised), and `test rules`
//! for the default rules' unit tests (every rule fires on its series; the
//! important ones stay quiet on healthy ones).
//!
//! The configuration names its rule file by absolute path and discovers targets
//! in the cluster, so it is checked with `--syntax-only` and the rule file on its
//! own. Debian's promtool has no Kubernetes discovery: with it, the discovery
//! blocks are checked by this test and the rest by promtool (see
//! [`without_kubernetes_sd`]). Skipped when promtool is missing, unless
//! `PAVED_REQUIRE_TOOLS=1`.

#[allow(dead_code)]
use crate::promtool_fixture as fixture;

use std::fs;
use std::process::Command;

use fixture::{customised, managed, minimal, platforms, production, run, tool_available};
use paved_observability::configs::{prometheus_config, rule_tests_yaml, rules_yaml};
use paved_observability::{default_rule_names, ObservabilitySpec};
use yaml_serde::Value;

const PROMTOOL: &str = "promtool";

/// The roles Prometheus's Kubernetes discovery knows.
const KUBERNETES_ROLES: [&str; 6] = [
    "node",
    "pod",
    "service",
    "endpoints",
    "endpointslice",
    "ingress",
];

/// Debian builds Prometheus without Kubernetes service discovery, so its promtool
/// refuses `kubernetes_sd_configs`. Each such block is checked here instead (only
/// `role`, one Prometheus knows, and `namespaces.names`, a list of names) and
/// replaced by a `file_sd_configs` block, so promtool still judges everything
/// else: the relabelling, TLS, authorisation, alerting, remote write.
fn without_kubernetes_sd(value: &mut Value, path: &str) -> usize {
    let mut replaced = 0;
    match value {
        Value::Mapping(map) => {
            let key = Value::String("kubernetes_sd_configs".into());
            if let Some(blocks) = map.remove(&key) {
                let blocks = blocks.as_sequence().cloned().unwrap_or_default();
                assert!(!blocks.is_empty(), "{path}: empty kubernetes_sd_configs");
                for block in &blocks {
                    let block = block.as_mapping().expect("a mapping");
                    for (k, v) in block {
                        match k.as_str() {
                            Some("role") => assert!(
                                KUBERNETES_ROLES.contains(&v.as_str().unwrap_or("")),
                                "{path}: role {v:?}"
                            ),
                            Some("namespaces") => {
                                let ns = v.as_mapping().expect("namespaces is a mapping");
                                assert_eq!(ns.len(), 1, "{path}: namespaces has only names");
                                let names = ns
                                    .get("names")
                                    .and_then(Value::as_sequence)
                                    .expect("names is a list");
                                assert!(
                                    !names.is_empty() && names.iter().all(|n| n.is_string()),
                                    "{path}: names"
                                );
                            }
                            other => panic!("{path}: unexpected key {other:?}"),
                        }
                    }
                    assert!(block.contains_key("role"), "{path}: no role");
                }
                let file_sd: Value =
                    yaml_serde::from_str("[{files: [/etc/prometheus/targets/*.json]}]")
                        .expect("yaml");
                map.insert(Value::String("file_sd_configs".into()), file_sd);
                replaced += 1;
            }
            for (k, v) in map.iter_mut() {
                let key = k.as_str().unwrap_or("?").to_string();
                replaced += without_kubernetes_sd(v, &format!("{path}.{key}"));
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                replaced += without_kubernetes_sd(item, &format!("{path}[{i}]"));
            }
        }
        _ => {}
    }
    replaced
}

fn check_config(spec: &ObservabilitySpec, agent: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = prometheus_config(spec).expect("config renders");
    fs::write(dir.path().join("prometheus.yml"), &text).expect("write");
    let mut args = vec!["check", "config", "--syntax-only"];
    if agent {
        args.push("--agent");
    }
    args.push("prometheus.yml");
    let output = Command::new(PROMTOOL)
        .args(&args)
        .current_dir(dir.path())
        .output()
        .expect("promtool runs");
    let said = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        assert!(said.contains("SUCCESS"), "{said}");
        return;
    }
    assert!(
        said.contains("field kubernetes_sd_configs not found"),
        "promtool refused the configuration:\n{said}\n{text}"
    );
    println!("this promtool has no Kubernetes discovery: checking the rest");
    let mut tree: Value = yaml_serde::from_str(&text).expect("the config is YAML");
    let replaced = without_kubernetes_sd(&mut tree, "");
    assert!(replaced >= 8, "only {replaced} discovery blocks");
    fs::write(
        dir.path().join("prometheus.yml"),
        yaml_serde::to_string(&tree).expect("yaml"),
    )
    .expect("write");
    let out = run(dir.path(), PROMTOOL, &args);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn config_checks_for_every_platform_spec_and_mode() {
    if !tool_available(PROMTOOL) {
        return;
    }
    for (name, platform) in platforms() {
        for (kind, spec) in [
            ("production", production(platform.clone())),
            ("minimal", minimal(platform.clone())),
        ] {
            println!("{name} {kind}: self-hosted");
            check_config(&spec, false);
        }
        println!("{name}: managed (agent)");
        check_config(&managed(platform.clone()), true);
    }
}

#[test]
fn rule_files_check() {
    if !tool_available(PROMTOOL) {
        return;
    }
    for (name, platform) in platforms() {
        for (kind, spec) in [
            ("production", production(platform.clone())),
            ("minimal", minimal(platform.clone())),
            ("customised", customised(platform.clone())),
            ("managed", managed(platform.clone())),
        ] {
            let dir = tempfile::tempdir().expect("temp dir");
            let text = rules_yaml(&spec).expect("rules render");
            fs::write(dir.path().join("rules.yaml"), &text).expect("write");
            let out = run(dir.path(), PROMTOOL, &["check", "rules", "rules.yaml"]);
            let expected = default_rule_names(&platform).len() - spec.alerting.disabled_rules.len();
            assert!(
                out.contains(&format!("SUCCESS: {expected} rules found")),
                "{name} {kind}: {out}"
            );
        }
    }
}

#[test]
fn default_rules_pass_their_unit_tests() {
    if !tool_available(PROMTOOL) {
        return;
    }
    for (name, platform) in platforms() {
        let dir = tempfile::tempdir().expect("temp dir");
        // The unit tests are of the default rules: a spec that changes none.
        let rules = rules_yaml(&production(platform.clone())).expect("rules render");
        fs::write(dir.path().join("rules.yaml"), rules).expect("write");
        let tests = rule_tests_yaml(&platform).expect("tests render");
        fs::write(dir.path().join("tests.yaml"), &tests).expect("write");
        let out = run(dir.path(), PROMTOOL, &["test", "rules", "tests.yaml"]);
        assert!(out.contains("SUCCESS"), "{name}: {out}");
        for alert in default_rule_names(&platform) {
            assert!(
                tests.contains(&format!("alertname: {alert}\n")),
                "{name}: {alert} has no test"
            );
        }
    }
}

#[test]
fn a_broken_rule_fails_its_unit_test() {
    if !tool_available(PROMTOOL) {
        return;
    }
    // The unit tests can fail: a rule that never fires is caught.
    let platform = fixture::eks();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut spec = production(platform.clone());
    spec.alerting.rule_overrides.insert(
        "NodeNotReady".into(),
        paved_observability::RuleOverride {
            expr: Some("vector(0) > 1".into()),
            ..Default::default()
        },
    );
    fs::write(
        dir.path().join("rules.yaml"),
        rules_yaml(&spec).expect("rules"),
    )
    .expect("write");
    fs::write(
        dir.path().join("tests.yaml"),
        rule_tests_yaml(&platform).expect("tests"),
    )
    .expect("write");
    let output = std::process::Command::new(PROMTOOL)
        .args(["test", "rules", "tests.yaml"])
        .current_dir(dir.path())
        .output()
        .expect("promtool runs");
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("NodeNotReady"), "{text}");
}
