use std::collections::{BTreeMap, BTreeSet};

use super::catalog::{Case, RULES, SELECTED_JOBS};
use super::promtool::expand;
use super::*;
use crate::fixtures::metrics::{eks, gke, managed, production};
use crate::prometheus::config::job_names;
use crate::spec::RuleOverride;

#[test]
fn names_are_unique_and_groups_known() {
    let names: BTreeSet<_> = RULES.iter().map(|r| r.alert).collect();
    assert_eq!(names.len(), RULES.len());
    for rule in RULES {
        assert!(GROUPS.contains(&rule.group), "{}", rule.alert);
    }
    // Rules are listed group by group, in GROUPS order.
    let order: Vec<usize> = RULES
        .iter()
        .map(|r| GROUPS.iter().position(|g| *g == r.group).unwrap_or(99))
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn every_rule_is_well_formed_and_tested() {
    for rule in RULES {
        check_alert_expr(rule.expr).unwrap_or_else(|e| panic!("{}: {e}", rule.alert));
        if let Some(d) = rule.for_duration {
            check_duration(d).unwrap_or_else(|e| panic!("{}: {e}", rule.alert));
        }
        assert!(
            rule.cases.iter().any(|c: &Case| !c.fires.is_empty()),
            "{} has no firing case",
            rule.alert
        );
        for text in [rule.summary, rule.description, rule.runbook] {
            assert!(!text.is_empty() && !text.contains('\n'), "{}", rule.alert);
            expand(text, &BTreeMap::new()).unwrap_or_else(|e| panic!("{}: {e}", rule.alert));
        }
        // The labels an annotation uses are the labels the alert has.
        for case in rule.cases {
            for labels in case.fires {
                let have: BTreeSet<&str> = labels.iter().map(|(k, _)| *k).collect();
                for text in [rule.summary, rule.description, rule.runbook] {
                    for part in text.split("{{ $labels.").skip(1) {
                        let used = part.split(' ').next().unwrap_or("");
                        assert!(
                            have.contains(used),
                            "{}: {used} not on the alert",
                            rule.alert
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn the_important_rules_have_a_quiet_case() {
    for name in [
        "NodeNotReady",
        "KubeletDown",
        "PodCrashLooping",
        "PodNotReady",
        "DeploymentReplicasMismatch",
        "PersistentVolumeFillingUp",
        "PersistentVolumePredictedFull",
        "ApiServerErrorsHigh",
        "TargetDown",
        "KubeStateMetricsAbsent",
        "AlertmanagerNotificationsFailing",
    ] {
        let rule = RULES.iter().find(|r| r.alert == name).unwrap();
        assert!(rule.cases.iter().any(|c| c.fires.is_empty()), "{name}");
    }
}

#[test]
fn rules_select_jobs_prometheus_scrapes() {
    let scraped = job_names(&production(eks()));
    for job in SELECTED_JOBS {
        assert!(scraped.contains(&job), "{job} is not scraped");
    }
    for rule in RULES {
        for part in rule.expr.split("job=\"").skip(1) {
            let job = part.split('"').next().unwrap_or("");
            assert!(SELECTED_JOBS.contains(&job), "{}: job {job}", rule.alert);
        }
    }
}

#[test]
fn managed_control_planes_get_no_control_plane_alerts() {
    for platform in [eks(), gke()] {
        assert!(control_plane_is_managed(&platform));
        let names = default_rule_names(&platform);
        assert_eq!(names.len(), RULES.len());
        assert_eq!(names[0], "Watchdog");
        for name in SELF_MANAGED_CONTROL_PLANE_ALERTS {
            assert!(!names.contains(&name));
        }
        let text = rules_yaml(&production(platform)).unwrap();
        for word in ["etcd", "scheduler", "controller_manager", "kubeproxy"] {
            assert!(!text.contains(word), "{word}");
        }
    }
}

#[test]
fn disabled_rules_are_left_out_and_overrides_applied() {
    let mut spec = production(eks());
    spec.alerting.disabled_rules = BTreeSet::from(["NodeClockSkew".to_string()]);
    // Disabling every rule of a group drops the group.
    for name in [
        "AlertmanagerConfigReloadFailed",
        "AlertmanagerClusterMembersMismatch",
        "AlertmanagerNotificationsFailing",
    ] {
        spec.alerting.disabled_rules.insert(name.to_string());
    }
    spec.alerting.rule_overrides = BTreeMap::from([(
        "PodCrashLooping".to_string(),
        RuleOverride {
            expr: Some("up == 0".into()),
            for_duration: Some("1h".into()),
            severity: Some("critical".into()),
        },
    )]);
    let text = rules_yaml(&spec).unwrap();
    let value: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
    let groups = value["groups"].as_sequence().unwrap();
    let names: Vec<_> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert!(!names.contains(&"paved.alertmanager"));
    assert!(!text.contains("NodeClockSkew"));
    let rule = groups
        .iter()
        .flat_map(|g| g["rules"].as_sequence().unwrap())
        .find(|r| r["alert"] == "PodCrashLooping")
        .unwrap();
    assert_eq!(rule["expr"], "up == 0");
    assert_eq!(rule["for"], "1h");
    assert_eq!(rule["labels"]["severity"], "critical");
    assert!(rule["annotations"]["runbook"]
        .as_str()
        .unwrap()
        .contains("--previous"));
}

#[test]
fn rule_file_is_rendered_only_self_hosted() {
    assert_eq!(objects(&production(eks())).unwrap().len(), 1);
    assert!(objects(&managed(eks())).unwrap().is_empty());
    // ... but the text is there for the managed service.
    assert!(rules_yaml(&managed(eks())).unwrap().contains("Watchdog"));
}

#[test]
fn unknown_names_and_bad_overrides_are_problems() {
    let mut spec = production(gke());
    spec.alerting.disabled_rules = BTreeSet::from(["NoSuchAlert".to_string()]);
    spec.alerting.rule_overrides = BTreeMap::from([
        ("Typo".to_string(), RuleOverride::default()),
        (
            "TargetDown".to_string(),
            RuleOverride {
                expr: Some("sum(up".into()),
                for_duration: Some("15 minutes".into()),
                severity: Some("page".into()),
            },
        ),
        (
            "NodeMemoryLow".to_string(),
            RuleOverride {
                expr: Some("scalar(up)".into()),
                ..RuleOverride::default()
            },
        ),
    ]);
    let found = problems(&spec);
    let paths: Vec<_> = found.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            r#"alerting.disabled_rules["NoSuchAlert"]"#,
            r#"alerting.rule_overrides["NodeMemoryLow"].expr"#,
            r#"alerting.rule_overrides["TargetDown"].expr"#,
            r#"alerting.rule_overrides["TargetDown"].for_duration"#,
            r#"alerting.rule_overrides["TargetDown"].severity"#,
            r#"alerting.rule_overrides["Typo"]"#,
        ]
    );
    assert!(found[0].message.contains("known: Watchdog, NodeNotReady"));
    assert!(found[1].message.contains("instant vector"));
    assert!(problems(&production(gke())).is_empty());
}

#[test]
fn tests_file_covers_every_rule_with_expanded_annotations() {
    let text = rule_tests_yaml(&eks()).unwrap();
    let value: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
    assert_eq!(value["rule_files"][0], "rules.yaml");
    let tests = value["tests"].as_sequence().unwrap();
    let tested: BTreeSet<&str> = tests
        .iter()
        .map(|t| t["alert_rule_test"][0]["alertname"].as_str().unwrap())
        .collect();
    assert_eq!(tested.len(), RULES.len());
    assert!(
        !text.contains("$labels"),
        "an annotation was left unexpanded"
    );
    let crash = tests
        .iter()
        .find(|t| t["alert_rule_test"][0]["alertname"] == "PodCrashLooping")
        .unwrap();
    let alert = &crash["alert_rule_test"][0]["exp_alerts"][0];
    assert_eq!(alert["exp_labels"]["severity"], "warning");
    assert_eq!(
        alert["exp_annotations"]["summary"],
        "Container app of shop/web-1 is crash looping."
    );
}

#[test]
fn expand_replaces_labels_and_refuses_other_actions() {
    let labels = BTreeMap::from([("node".to_string(), "n1".to_string())]);
    assert_eq!(
        expand("on {{ $labels.node }}, {{$labels.zone}}!", &labels).unwrap(),
        "on n1, !"
    );
    assert!(expand("{{ $value }}", &labels).is_err());
    assert!(expand("{{ $labels.node ", &labels).is_err());
}
