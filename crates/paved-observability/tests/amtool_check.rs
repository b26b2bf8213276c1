//! The rendered Alertmanager configuration, judged by the real `amtool` (Debian's
//! Alertmanager 0.25; we deploy 0.27): `check-config` for every platform and
//! spec, with placeholders and with the secrets put in (awkward values
//! included), and `config routes test` for where alerts go: the Watchdog to the
//! heartbeat (or nowhere), a matched route to its receiver, `continue` to more
//! than one, the rest to the default receiver.
//!
//! Skipped when amtool is missing, unless `PAVED_REQUIRE_TOOLS=1`.

#[allow(dead_code)]
use crate::promtool_fixture as fixture;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use base64::Engine as _;

use fixture::{minimal, platforms, production, run, tool_available};
use paved_observability::configs::alertmanager_config;
use paved_observability::{resolve_secrets, secret_names, Manifest, Rendered};

const AMTOOL: &str = "amtool";

fn check(dir: &Path, file: &str) {
    let out = run(dir, AMTOOL, &["check-config", file]);
    assert!(out.contains("SUCCESS"), "{out}");
}

/// The receivers `labels` (`key=value` each) are routed to, as amtool prints them.
fn routed(dir: &Path, file: &str, labels: &[&str]) -> String {
    let config = format!("--config.file={file}");
    let mut args = vec!["config", "routes", "test", config.as_str()];
    args.extend_from_slice(labels);
    run(dir, AMTOOL, &args).trim().to_string()
}

#[test]
fn config_checks_for_every_platform_and_spec() {
    if !tool_available(AMTOOL) {
        return;
    }
    for (name, platform) in platforms() {
        for (kind, spec) in [
            ("production", production(platform.clone())),
            ("minimal", minimal(platform.clone())),
        ] {
            println!("{name} {kind}");
            let dir = tempfile::tempdir().expect("temp dir");
            fs::write(
                dir.path().join("alertmanager.yml"),
                alertmanager_config(&spec).expect("config renders"),
            )
            .expect("write");
            check(dir.path(), "alertmanager.yml");
        }
    }
}

#[test]
fn routes_send_alerts_where_the_spec_says() {
    if !tool_available(AMTOOL) {
        return;
    }
    for (_, platform) in platforms() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = "alertmanager.yml";
        fs::write(
            dir.path().join(file),
            alertmanager_config(&production(platform.clone())).expect("renders"),
        )
        .expect("write");
        let cases: [(&[&str], &str); 7] = [
            // The Watchdog goes to the heartbeat and nowhere else, whatever its severity.
            (&["alertname=Watchdog", "severity=info"], "heartbeat"),
            (&["alertname=Watchdog", "severity=critical"], "heartbeat"),
            // critical: the pager, and (continue) the mail route when it matches too.
            (&["alertname=NodeNotReady", "severity=critical"], "pager"),
            (
                &[
                    "alertname=PodCrashLooping",
                    "severity=critical",
                    "namespace=team-a",
                ],
                "pager,mail",
            ),
            (
                &[
                    "alertname=PodCrashLooping",
                    "severity=warning",
                    "namespace=team-a",
                ],
                "mail",
            ),
            (&["alertname=JobFailed", "severity=info"], "hook"),
            // Nothing matches: the default receiver.
            (
                &["alertname=TargetDown", "severity=warning", "namespace=shop"],
                "slack-ops",
            ),
        ];
        for (labels, expected) in cases {
            assert_eq!(routed(dir.path(), file, labels), expected, "{labels:?}");
        }

        fs::write(
            dir.path().join("minimal.yml"),
            alertmanager_config(&minimal(platform.clone())).expect("renders"),
        )
        .expect("write");
        for labels in [
            &["alertname=Watchdog", "severity=info"][..],
            &["alertname=NodeNotReady", "severity=critical"][..],
        ] {
            assert_eq!(routed(dir.path(), "minimal.yml", labels), "none");
        }
    }
}

#[test]
fn resolved_secrets_still_check() {
    if !tool_available(AMTOOL) {
        return;
    }
    for (name, platform) in platforms() {
        let spec = production(platform);
        let rendered = paved_observability::render(&spec).expect("renders");
        let values: BTreeMap<String, String> = secret_names(&spec)
            .into_iter()
            .map(|n| {
                let value = match n.as_str() {
                    // A password that would break a file built by concatenation.
                    "mail" => "p@ss: \"w0rd\"\n- {not: yaml}".to_string(),
                    "pager" => "0123456789abcdef0123456789abcdef".to_string(),
                    _ => format!("https://hooks.example.com/services/{n}?token=a:b&c=d"),
                };
                (n, value)
            })
            .collect();
        let resolved = resolve_secrets(&rendered, &values).expect("resolves");
        let text = config_text(&resolved);
        assert!(
            !text.contains("paved-secret.invalid"),
            "{name}: a placeholder is left"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join("alertmanager.yml"), &text).expect("write");
        check(dir.path(), "alertmanager.yml");
        assert_eq!(
            routed(dir.path(), "alertmanager.yml", &["alertname=Watchdog"]),
            "heartbeat"
        );
    }
}

/// The decoded `alertmanager.yml` of the rendered Secret.
fn config_text(rendered: &Rendered) -> String {
    let secret: &Manifest = rendered
        .objects
        .iter()
        .find(|m| m.kind == "Secret" && m.name == "alertmanager-config")
        .expect("the Alertmanager Secret is rendered");
    let encoded = secret.body["data"]["alertmanager.yml"]
        .as_str()
        .expect("base64 data");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    String::from_utf8(bytes).expect("UTF-8")
}
