//! Tests of whole renderings: what the example baselines contain, object by object.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::fixtures::{development, production, staging, Cloud};
use crate::*;

fn find<'a>(r: &'a Rendered, kind: &str, ns: Option<&str>, name: &str) -> &'a Manifest {
    r.objects
        .iter()
        .find(|m| m.kind == kind && m.namespace.as_deref() == ns && m.name == name)
        .unwrap_or_else(|| panic!("no {kind} {ns:?}/{name}"))
}

fn of_kind<'a>(r: &'a Rendered, kind: &str) -> Vec<&'a Manifest> {
    r.objects.iter().filter(|m| m.kind == kind).collect()
}

fn args(r: &Rendered) -> Vec<String> {
    let d = find(r, "Deployment", Some("kube-system"), "cluster-autoscaler");
    serde_json::from_value(d.body["spec"]["template"]["spec"]["containers"][0]["args"].clone())
        .unwrap()
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

fn problems(spec: &BaselineSpec) -> Vec<(String, String)> {
    validate(spec)
        .into_iter()
        .map(|p| (p.path, p.message))
        .collect()
}

#[test]
fn counts_by_kind_per_profile() {
    for cloud in [Cloud::Eks, Cloud::Gke] {
        let prod = render(&production(cloud)).unwrap();
        assert_eq!(
            prod.count_by_kind(),
            counts(&[
                ("ClusterRole", 1),
                ("ClusterRoleBinding", 2),
                ("ConfigMap", 1),
                ("Deployment", 1),
                ("LimitRange", 3),
                ("Namespace", 3),
                ("NetworkPolicy", 9),
                ("PodDisruptionBudget", 1),
                ("ResourceQuota", 3),
                ("Role", 1),
                ("RoleBinding", 5),
                ("ServiceAccount", 1),
                ("StorageClass", 1),
            ])
        );
        assert_eq!(prod.objects.len(), 32);
        let stage = render(&staging(cloud)).unwrap();
        assert_eq!(stage.objects.len(), 22);
        assert_eq!(stage.count_by_kind().get("ConfigMap"), None);
        assert_eq!(stage.count_by_kind().get("PodDisruptionBudget"), None);
        let dev = render(&development(cloud)).unwrap();
        assert_eq!(
            dev.count_by_kind(),
            counts(&[
                ("ClusterRole", 1),
                ("ClusterRoleBinding", 2),
                ("Deployment", 1),
                ("LimitRange", 1),
                ("Namespace", 1),
                ("NetworkPolicy", 3),
                ("ResourceQuota", 1),
                ("Role", 1),
                ("RoleBinding", 2),
                ("ServiceAccount", 1),
                ("StorageClass", 1),
            ])
        );
    }
}

#[test]
fn objects_come_in_apply_order() {
    let r = render(&production(Cloud::Eks)).unwrap();
    let ranks: Vec<usize> = r
        .objects
        .iter()
        .map(|m| APPLY_ORDER.iter().position(|k| *k == m.kind).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    assert_eq!(r.objects[0].kind, "Namespace");
    assert_eq!(r.objects.last().unwrap().kind, "Deployment");
    // Every body agrees with the manifest's own identity.
    for m in &r.objects {
        assert_eq!(m.body["apiVersion"], m.api_version.as_str());
        assert_eq!(m.body["kind"], m.kind.as_str());
        assert_eq!(m.body["metadata"]["name"], m.name.as_str());
        assert_eq!(
            m.body["metadata"]["namespace"].as_str(),
            m.namespace.as_deref()
        );
    }
}

#[test]
fn every_object_carries_the_paved_labels() {
    let r = render(&production(Cloud::Eks)).unwrap();
    for m in &r.objects {
        let labels = &m.body["metadata"]["labels"];
        assert_eq!(
            labels["app.kubernetes.io/managed-by"],
            "paved",
            "{}",
            m.id()
        );
        assert_eq!(labels["paved.dev/stack"], "shop", "{}", m.id());
        assert_eq!(labels["paved.dev/profile"], "production", "{}", m.id());
        let component = labels["paved.dev/component"].as_str().unwrap();
        let expected = match (m.kind.as_str(), m.namespace.as_deref(), m.name.as_str()) {
            (_, _, "cluster-autoscaler" | "cluster-autoscaler-priority-expander") => "autoscaler",
            ("StorageClass", _, _) => "storage",
            ("ClusterRoleBinding", None, "paved-platform-admins") => "platform-admins",
            (_, _, "team-beta-view") => "team-beta",
            (_, Some(ns), _) | ("Namespace", _, ns) if ns.starts_with("alpha") => "team-alpha",
            (_, Some(ns), _) | ("Namespace", _, ns) if ns.starts_with("beta") => "team-beta",
            other => panic!("unexpected object {other:?}"),
        };
        assert_eq!(component, expected, "{}", m.id());
    }
    // The autoscaler's pods carry them too, plus the selector label.
    let d = find(&r, "Deployment", Some("kube-system"), "cluster-autoscaler");
    let pod_labels = &d.body["spec"]["template"]["metadata"]["labels"];
    assert_eq!(pod_labels["paved.dev/component"], "autoscaler");
    assert_eq!(pod_labels["app.kubernetes.io/name"], "cluster-autoscaler");
    assert_eq!(
        d.body["spec"]["selector"]["matchLabels"],
        json!({"app.kubernetes.io/name": "cluster-autoscaler"})
    );
}

#[test]
fn eks_autoscaler_arguments_identity_and_image() {
    let r = render(&production(Cloud::Eks)).unwrap();
    assert_eq!(
        args(&r),
        [
            "--cloud-provider=aws",
            "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/shop",
            "--expander=priority,least-waste",
            "--balance-similar-node-groups",
            "--skip-nodes-with-system-pods=false",
            "--skip-nodes-with-local-storage=false",
        ]
    );
    let sa = find(
        &r,
        "ServiceAccount",
        Some("kube-system"),
        "cluster-autoscaler",
    );
    assert_eq!(
        sa.body["metadata"]["annotations"],
        json!({"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/shop-cluster-autoscaler"})
    );
    let d = find(&r, "Deployment", Some("kube-system"), "cluster-autoscaler");
    let c = &d.body["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["image"],
        "registry.k8s.io/autoscaling/cluster-autoscaler:v1.31.1"
    );
    assert_eq!(
        c["env"],
        json!([{"name": "AWS_REGION", "value": "eu-west-1"}])
    );
}

#[test]
fn gke_autoscaler_uses_gce_and_workload_identity() {
    let mut spec = staging(Cloud::Gke);
    spec.kubernetes_minor = (1, 29);
    let r = render(&spec).unwrap();
    assert_eq!(
        args(&r),
        [
            "--cloud-provider=gce",
            "--expander=least-waste",
            "--balance-similar-node-groups",
            "--skip-nodes-with-system-pods=false",
            "--skip-nodes-with-local-storage=false",
        ]
    );
    let sa = find(
        &r,
        "ServiceAccount",
        Some("kube-system"),
        "cluster-autoscaler",
    );
    assert_eq!(
        sa.body["metadata"]["annotations"]["iam.gke.io/gcp-service-account"],
        "shop-autoscaler@shop-prod.iam.gserviceaccount.com"
    );
    let d = find(&r, "Deployment", Some("kube-system"), "cluster-autoscaler");
    let c = &d.body["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["image"],
        "registry.k8s.io/autoscaling/cluster-autoscaler:v1.29.5"
    );
    assert!(c.get("env").is_none());
    // Balancing follows the spec.
    assert!(!args(&render(&development(Cloud::Gke)).unwrap())
        .contains(&"--balance-similar-node-groups".to_string()));
}

#[test]
fn autoscaler_pod_is_hardened_probed_and_placed_on_the_system_pool() {
    let r = render(&production(Cloud::Eks)).unwrap();
    let d = find(&r, "Deployment", Some("kube-system"), "cluster-autoscaler");
    let spec = &d.body["spec"];
    assert_eq!(spec["replicas"], 2);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["priorityClassName"], "system-cluster-critical");
    assert_eq!(pod["serviceAccountName"], "cluster-autoscaler");
    assert_eq!(pod["nodeSelector"], json!({"paved.dev/pool": "system"}));
    assert_eq!(
        pod["tolerations"],
        json!([{"key": "CriticalAddonsOnly", "operator": "Exists"}])
    );
    let keys: Vec<&str> = pod["topologySpreadConstraints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["topologyKey"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    );
    let c = &pod["containers"][0];
    assert_eq!(
        c["securityContext"],
        json!({
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": true,
            "runAsGroup": 65534,
            "runAsNonRoot": true,
            "runAsUser": 65534,
            "seccompProfile": {"type": "RuntimeDefault"}
        })
    );
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(c[probe]["httpGet"]["path"], "/health-check");
        assert_eq!(c[probe]["httpGet"]["port"], 8085);
    }
    assert_eq!(
        c["resources"],
        json!({
            "limits": {"cpu": "1", "memory": "600Mi"},
            "requests": {"cpu": "100m", "memory": "600Mi"}
        })
    );
    let pdb = find(
        &r,
        "PodDisruptionBudget",
        Some("kube-system"),
        "cluster-autoscaler",
    );
    assert_eq!(pdb.body["spec"]["maxUnavailable"], 1);
    assert_eq!(
        pdb.body["spec"]["selector"]["matchLabels"],
        spec["selector"]["matchLabels"]
    );
}

#[test]
fn priority_expander_prefers_spot_pools() {
    let r = render(&production(Cloud::Eks)).unwrap();
    let cm = find(
        &r,
        "ConfigMap",
        Some("kube-system"),
        "cluster-autoscaler-priority-expander",
    );
    let text = cm.body["data"]["priorities"].as_str().unwrap();
    let priorities: BTreeMap<u32, Vec<String>> = yaml_serde::from_str(text).unwrap();
    assert_eq!(
        priorities,
        BTreeMap::from([
            (10, vec![".*".to_string()]),
            (50, vec![".*-spot-.*".to_string()])
        ])
    );
    // The Role lets the autoscaler read it by name.
    let role = find(&r, "Role", Some("kube-system"), "cluster-autoscaler");
    assert!(role.body["rules"][1]["resourceNames"]
        .as_array()
        .unwrap()
        .contains(&json!("cluster-autoscaler-priority-expander")));
}

#[test]
fn autoscaler_rbac_covers_what_it_uses() {
    let r = render(&production(Cloud::Gke)).unwrap();
    let role = find(&r, "ClusterRole", None, "cluster-autoscaler");
    let mut granted: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for rule in role.body["rules"].as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for res in rule["resources"].as_array().unwrap() {
                let verbs = granted
                    .entry((group.as_str().unwrap().into(), res.as_str().unwrap().into()))
                    .or_default();
                verbs.extend(
                    rule["verbs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_string()),
                );
            }
        }
    }
    let has = |group: &str, res: &str, verb: &str| {
        granted
            .get(&(group.to_string(), res.to_string()))
            .is_some_and(|v| v.iter().any(|x| x == verb))
    };
    for (group, res, verb) in [
        ("", "events", "create"),
        ("", "pods/eviction", "create"),
        ("", "pods/status", "update"),
        ("", "nodes", "update"),
        ("", "pods", "watch"),
        ("", "persistentvolumeclaims", "list"),
        ("", "replicationcontrollers", "list"),
        ("apps", "statefulsets", "list"),
        ("apps", "daemonsets", "list"),
        ("policy", "poddisruptionbudgets", "list"),
        ("storage.k8s.io", "csistoragecapacities", "list"),
        ("storage.k8s.io", "csinodes", "watch"),
        ("batch", "cronjobs", "list"),
        ("coordination.k8s.io", "leases", "create"),
        ("coordination.k8s.io", "leases", "update"),
    ] {
        assert!(has(group, res, verb), "missing {verb} on {group}/{res}");
    }
    // Nothing broader than it needs.
    assert!(!has("", "secrets", "get"));
    assert!(granted.values().flatten().all(|v| v != "*"));
    let crb = find(&r, "ClusterRoleBinding", None, "cluster-autoscaler");
    assert_eq!(
        crb.body["subjects"],
        json!([{"kind": "ServiceAccount", "name": "cluster-autoscaler", "namespace": "kube-system"}])
    );
}

#[test]
fn storage_class_per_cloud() {
    let eks = render(&production(Cloud::Eks)).unwrap();
    let sc = find(&eks, "StorageClass", None, "gp3");
    assert_eq!(sc.body["provisioner"], "ebs.csi.aws.com");
    assert_eq!(
        sc.body["parameters"],
        json!({
            "encrypted": "true",
            "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "type": "gp3"
        })
    );
    assert_eq!(sc.body["volumeBindingMode"], "WaitForFirstConsumer");
    assert_eq!(sc.body["allowVolumeExpansion"], true);
    assert_eq!(
        sc.body["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"],
        "true"
    );
    let dev = render(&development(Cloud::Eks)).unwrap();
    assert!(find(&dev, "StorageClass", None, "gp3").body["parameters"]
        .get("kmsKeyId")
        .is_none());
    let gke = render(&production(Cloud::Gke)).unwrap();
    let sc = find(&gke, "StorageClass", None, "balanced");
    assert_eq!(sc.body["provisioner"], "pd.csi.storage.gke.io");
    assert_eq!(sc.body["parameters"]["type"], "pd-balanced");
    assert!(sc.body["parameters"]["disk-encryption-kms-key"]
        .as_str()
        .unwrap()
        .contains("/cryptoKeys/"));
}

#[test]
fn pod_security_labels_follow_the_level_and_minor() {
    for (level, value) in [
        (PodSecurityLevel::Restricted, "restricted"),
        (PodSecurityLevel::Baseline, "baseline"),
        (PodSecurityLevel::Privileged, "privileged"),
    ] {
        let mut spec = development(Cloud::Eks);
        spec.pod_security = level;
        spec.kubernetes_minor = (1, 30);
        let r = render(&spec).unwrap();
        let ns = find(&r, "Namespace", None, "project1-dev");
        let labels = &ns.body["metadata"]["labels"];
        for mode in ["enforce", "audit", "warn"] {
            assert_eq!(labels[format!("pod-security.kubernetes.io/{mode}")], value);
            assert_eq!(
                labels[format!("pod-security.kubernetes.io/{mode}-version")],
                "v1.30"
            );
        }
    }
}

#[test]
fn network_policies_deny_then_allow_dns_and_same_namespace() {
    let r = render(&development(Cloud::Gke)).unwrap();
    let ns = Some("project1-dev");
    let deny = &find(&r, "NetworkPolicy", ns, "default-deny").body["spec"];
    assert_eq!(
        *deny,
        json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    );
    let dns = &find(&r, "NetworkPolicy", ns, "allow-dns").body["spec"];
    assert_eq!(
        *dns,
        json!({
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}
                }],
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
            }]
        })
    );
    let same = &find(&r, "NetworkPolicy", ns, "allow-same-namespace").body["spec"];
    assert_eq!(
        *same,
        json!({
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": {}}]}],
            "egress": [{"to": [{"podSelector": {}}]}]
        })
    );
}

#[test]
fn team_access_quota_and_limits() {
    let r = render(&production(Cloud::Gke)).unwrap();
    let edit = find(&r, "RoleBinding", Some("beta-prod"), "team-beta-edit");
    assert_eq!(
        edit.body["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"})
    );
    let groups: Vec<&str> = edit.body["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["kind"], "Group");
            s["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(groups, ["beta-devs@example.com", "beta-leads@example.com"]);
    let view = find(&r, "RoleBinding", Some("alpha-prod"), "team-beta-view");
    assert_eq!(view.body["roleRef"]["name"], "view");
    assert_eq!(view.body["subjects"], edit.body["subjects"]);
    // No view binding where none was asked for.
    assert_eq!(
        of_kind(&r, "RoleBinding")
            .iter()
            .filter(|m| m.name.ends_with("-view"))
            .count(),
        1
    );
    let quota = find(&r, "ResourceQuota", Some("alpha-tools"), "paved-quota");
    assert_eq!(
        quota.body["spec"]["hard"],
        json!({
            "limits.cpu": "32", "limits.memory": "64Gi", "pods": "200",
            "requests.cpu": "16", "requests.memory": "32Gi"
        })
    );
    let limits = find(&r, "LimitRange", Some("alpha-tools"), "paved-limits");
    assert_eq!(
        limits.body["spec"]["limits"],
        json!([{
            "type": "Container",
            "default": {"cpu": "1", "memory": "1Gi"},
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"}
        }])
    );
    let admins = find(&r, "ClusterRoleBinding", None, PLATFORM_ADMINS_BINDING);
    assert_eq!(admins.body["roleRef"]["name"], "cluster-admin");
    assert_eq!(
        admins.body["subjects"][0]["name"],
        "platform-admins@example.com"
    );
}

#[test]
fn optional_parts_disappear_when_not_asked_for() {
    let mut spec = production(Cloud::Eks);
    spec.autoscaler = None;
    spec.storage_class = None;
    spec.platform_admin_groups.clear();
    if let Some(t) = spec.teams.get_mut("alpha") {
        t.groups.clear();
    }
    let r = render(&spec).unwrap();
    assert!(r
        .objects
        .iter()
        .all(|m| m.namespace.as_deref() != Some("kube-system")));
    assert!(of_kind(&r, "StorageClass").is_empty());
    assert!(of_kind(&r, "ClusterRoleBinding").is_empty());
    // alpha has no groups: no edit bindings, but its namespaces are still fenced in.
    assert!(of_kind(&r, "RoleBinding")
        .iter()
        .all(|m| m.name.starts_with("team-beta")));
    assert_eq!(of_kind(&r, "NetworkPolicy").len(), 9);
}

#[test]
fn digest_is_stable_and_moves_with_content() {
    let a = render(&production(Cloud::Eks)).unwrap();
    let b = render(&production(Cloud::Eks)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.digest(), b.digest());
    assert_eq!(a.digest().len(), 64);
    // The order teams are inserted in cannot matter (BTreeMap), nor can render order.
    let mut spec = production(Cloud::Eks);
    spec.quota.pods = 201;
    let c = render(&spec).unwrap();
    assert_ne!(a.digest(), c.digest());
    let changed: Vec<String> = a
        .objects
        .iter()
        .zip(&c.objects)
        .filter(|(x, y)| x.hash != y.hash)
        .map(|(x, _)| format!("{}", x.id()))
        .collect();
    assert_eq!(changed.len(), 3, "{changed:?}");
    assert!(changed.iter().all(|id| id.starts_with("ResourceQuota")));
    // Each hash is the SHA-256 of the body's compact JSON with sorted keys.
    use sha2::{Digest, Sha256};
    for m in &a.objects {
        let text = serde_json::to_string(&m.body).unwrap();
        let hex: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(m.hash, hex, "{}", m.id());
    }
    // Different clouds render different baselines.
    assert_ne!(
        a.digest(),
        render(&production(Cloud::Gke)).unwrap().digest()
    );
}

#[test]
fn prune_order_of_a_whole_rendering() {
    let r = render(&production(Cloud::Eks)).unwrap();
    let order = Rendered::prune_order(&r.ids());
    assert_eq!(order.len(), r.objects.len());
    assert_eq!(order[0].kind, "Deployment");
    assert_eq!(order[1].kind, "PodDisruptionBudget");
    let namespaces = order.iter().filter(|i| i.kind == "Namespace").count();
    assert!(order[order.len() - namespaces..]
        .iter()
        .all(|i| i.kind == "Namespace"));
    // Exactly the reverse of apply order, kind by kind.
    let mut apply_kinds: Vec<&str> = r.objects.iter().map(|m| m.kind.as_str()).collect();
    apply_kinds.dedup();
    let mut prune_kinds: Vec<&str> = order.iter().map(|i| i.kind.as_str()).collect();
    prune_kinds.dedup();
    apply_kinds.reverse();
    assert_eq!(apply_kinds, prune_kinds);
    // Dropping a team leaves its objects to prune, namespace last.
    let mut spec = production(Cloud::Eks);
    spec.teams.remove("beta");
    let smaller = render(&spec).unwrap();
    let stale = smaller.stale(&r.ids());
    assert_eq!(stale.len(), 8);
    assert_eq!(stale.last().unwrap().kind, "Namespace");
    assert_eq!(stale.last().unwrap().name, "beta-prod");
    assert!(stale.iter().any(|i| i.name == "team-beta-view"));
}

#[test]
fn gitops_files_are_named_per_object_with_a_kustomization() {
    let r = render(&production(Cloud::Eks)).unwrap();
    let files = to_gitops_files(&r).unwrap();
    assert_eq!(files.len(), r.objects.len() + 1);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "_cluster/namespace-alpha-prod.yaml",
        "_cluster/storageclass-gp3.yaml",
        "_cluster/clusterrolebinding-paved-platform-admins.yaml",
        "kube-system/deployment-cluster-autoscaler.yaml",
        "kube-system/configmap-cluster-autoscaler-priority-expander.yaml",
        "alpha-prod/rolebinding-team-beta-view.yaml",
        "beta-prod/networkpolicy-default-deny.yaml",
    ] {
        assert!(names.contains(&expected), "{expected} missing");
    }
    let unique: std::collections::BTreeSet<&&str> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    let (last_name, kustomization) = files.last().unwrap();
    assert_eq!(last_name, "kustomization.yaml");
    let k: Value = yaml_serde::from_str(kustomization).unwrap();
    assert_eq!(k["apiVersion"], "kustomize.config.k8s.io/v1beta1");
    assert_eq!(k["kind"], "Kustomization");
    let resources: Vec<&str> = k["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(resources, names[..names.len() - 1]);
    // Each file parses back to exactly the manifest's body.
    for ((_, text), m) in files.iter().zip(&r.objects) {
        let back: Value = yaml_serde::from_str(text).unwrap();
        assert_eq!(back, m.body);
    }
    // Same input, same bytes.
    assert_eq!(files, to_gitops_files(&r).unwrap());
}

#[test]
fn the_examples_validate_clean_and_differ() {
    let mut digests = std::collections::BTreeSet::new();
    for profile in crate::fixtures::PROFILES {
        for cloud in crate::fixtures::CLOUDS {
            let spec = crate::fixtures::by_name(profile, cloud).unwrap();
            assert_eq!(validate(&spec), vec![], "{profile}-{}", cloud.name());
            assert!(digests.insert(render(&spec).unwrap().digest()));
        }
    }
    assert_eq!(digests.len(), 6);
    assert!(crate::fixtures::by_name("nonsense", Cloud::Eks).is_none());
}

#[test]
fn validation_names_the_field_and_the_fix() {
    let mut spec = production(Cloud::Eks);
    {
        let alpha = spec.teams.get_mut("alpha").unwrap();
        alpha.namespaces = vec![
            "Alpha_Prod".into(),
            "kube-system".into(),
            "shared".into(),
            "default".into(),
        ];
        alpha.view_namespaces = vec!["nowhere".into()];
        let beta = spec.teams.get_mut("beta").unwrap();
        beta.namespaces = vec!["beta-prod".into(), "shared".into()];
        beta.view_namespaces = vec!["beta-prod".into()];
    }
    spec.quota.requests_memory = "64Mi".into();
    spec.quota.limits_cpu = "lots".into();
    let found = problems(&spec);
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            r#"teams["alpha"].namespaces[0]"#,
            r#"teams["alpha"].namespaces[1]"#,
            r#"teams["alpha"].namespaces[3]"#,
            r#"teams["beta"].namespaces[1]"#,
            r#"teams["alpha"].view_namespaces[0]"#,
            "quota.limits_cpu",
            "quota.requests_memory",
        ]
    );
    assert!(found[0].1.contains("not a valid namespace name"));
    assert!(found[1].1.contains("reserved"));
    assert!(found[2].1.contains("reserved"));
    assert!(found[3].1.contains(r#"already owned by team "alpha""#));
    assert!(found[3].1.contains("view_namespaces"));
    assert!(found[4]
        .1
        .contains(r#""nowhere" is not a namespace any team owns"#));
    assert!(found[5].1.contains("not a Kubernetes quantity"));
    assert!(found[6]
        .1
        .contains("below limit_range.default_request_memory"));
    // render refuses the same spec, with the same problems.
    match render(&spec) {
        Err(RenderError::Invalid { problems }) => assert_eq!(problems, validate(&spec)),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn validation_of_names_identity_and_versions() {
    let mut spec = production(Cloud::Eks);
    spec.cluster_name = "shop/prod".into();
    spec.kubernetes_minor = (1, 33);
    spec.teams.insert("Bad Team".into(), TeamSpec::default());
    spec.platform_admin_groups.push(" ".into());
    if let Some(a) = spec.autoscaler.as_mut() {
        a.identity = "arn:aws:iam::999999999999:role/x".into();
        a.replicas = 0;
        a.node_group_tag_keys = vec![];
    }
    spec.limit_range.default_request_cpu = "2".into();
    let found = problems(&spec);
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "cluster_name",
            "kubernetes_minor",
            "autoscaler.identity",
            "autoscaler.node_group_tag_keys",
            "autoscaler.replicas",
            r#"teams["Bad Team"]"#,
            "platform_admin_groups[1]",
            "limit_range.default_limit_cpu",
        ]
    );
    assert!(found[1].1.contains("1.29, 1.30, 1.31, 1.32"));
    assert!(found[2].1.contains("account 999999999999"));
    assert!(found[3].1.contains("k8s.io/cluster-autoscaler/shop/prod"));
    assert!(found[7].1.contains("rejected by Kubernetes"));

    let mut gke = development(Cloud::Gke);
    if let Some(a) = gke.autoscaler.as_mut() {
        a.identity = "arn:aws:iam::123456789012:role/x".into();
    }
    if let Some(s) = gke.storage_class.as_mut() {
        s.kms_key = Some("alias/ebs".into());
    }
    let found = problems(&gke);
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["autoscaler.identity", "storage_class.kms_key"]);
    assert!(found[0].1.contains("iam.gserviceaccount.com"));
}
