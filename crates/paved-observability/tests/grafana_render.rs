//! The whole stack rendered: the objects of Grafana, Loki, Tempo, Alloy and the
//! custom-metrics adapter for a production spec, labelled, in apply order, and
//! the same bytes every time.

#[allow(dead_code)]
use crate::grafana_fixture as fixture;

use std::collections::BTreeMap;

use paved_observability::{grafana_admin_secret, render};

const MINE: [&str; 5] = ["grafana", "loki", "tempo", "alloy", "metrics-adapter"];

fn counts(spec: &paved_observability::ObservabilitySpec) -> BTreeMap<String, usize> {
    let rendered = render(spec).expect("renders");
    let mut counts = BTreeMap::new();
    for m in &rendered.objects {
        let component = m.body["metadata"]["labels"]["paved.dev/component"]
            .as_str()
            .unwrap_or_default();
        if MINE.contains(&component) {
            *counts.entry(m.kind.clone()).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn production_objects_by_kind() {
    let counts = counts(&fixture::production());
    let expected: BTreeMap<String, usize> = [
        ("APIService", 2),
        ("ClusterRole", 2),
        ("ClusterRoleBinding", 3),
        ("ConfigMap", 8),
        ("DaemonSet", 1),
        ("Deployment", 2),
        ("Ingress", 1),
        ("PodDisruptionBudget", 2),
        ("RoleBinding", 1),
        ("Service", 7),
        ("ServiceAccount", 5),
        ("StatefulSet", 2),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_string(), n))
    .collect();
    assert_eq!(counts, expected);
}

#[test]
fn rendering_is_deterministic() {
    let spec = fixture::production();
    let a = render(&spec).expect("renders");
    let b = render(&spec).expect("renders");
    assert_eq!(a.digest(), b.digest());
}

#[test]
fn identities_follow_the_platform() {
    let eks = render(&fixture::production()).expect("renders");
    let gke = render(&fixture::gke()).expect("renders");
    for (name, arn, email) in [
        (
            "loki",
            "arn:aws:iam::123456789012:role/shop-loki",
            "loki@shop-prod.iam.gserviceaccount.com",
        ),
        (
            "tempo",
            "arn:aws:iam::123456789012:role/shop-tempo",
            "tempo@shop-prod.iam.gserviceaccount.com",
        ),
    ] {
        let sa = fixture::object(&eks, "ServiceAccount", name);
        assert_eq!(
            sa.body["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
            arn
        );
        let sa = fixture::object(&gke, "ServiceAccount", name);
        assert_eq!(
            sa.body["metadata"]["annotations"]["iam.gke.io/gcp-service-account"],
            email
        );
    }
}

#[test]
fn the_admin_secret_is_not_rendered_but_built_apart() {
    let spec = fixture::production();
    let rendered = render(&spec).expect("renders");
    assert!(!rendered
        .objects
        .iter()
        .any(|m| m.kind == "Secret" && m.name == "grafana-admin"));
    let secret = grafana_admin_secret(&spec, "pw").expect("builds");
    assert_eq!(secret.body["data"]["admin-user"], "YWRtaW4=");
    assert_eq!(secret.body["data"]["admin-password"], "cHc=");
}
