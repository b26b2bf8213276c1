//! A team namespace's NetworkPolicies: deny everything, then allow DNS and traffic
//! between the namespace's own pods. Anything else a team needs it adds itself.

use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

use crate::labels::{object_meta, Component};
use crate::spec::BaselineSpec;

/// Denies all ingress and egress to every pod of the namespace.
pub const DEFAULT_DENY: &str = "default-deny";
/// Allows DNS queries to the cluster DNS.
pub const ALLOW_DNS: &str = "allow-dns";
/// Allows traffic between pods of the same namespace.
pub const ALLOW_SAME_NAMESPACE: &str = "allow-same-namespace";
/// Label every namespace carries with its own name (set by Kubernetes since 1.22).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// The label of the cluster DNS pods (CoreDNS on EKS, kube-dns on GKE).
pub const DNS_POD_LABEL: (&str, &str) = ("k8s-app", "kube-dns");
/// The DNS port.
pub const DNS_PORT: i32 = 53;

fn all_pods() -> LabelSelector {
    LabelSelector::default()
}

fn labels(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        ),
        ..LabelSelector::default()
    }
}

fn policy(
    spec: &BaselineSpec,
    component: &Component,
    namespace: &str,
    name: &str,
    body: NetworkPolicySpec,
) -> NetworkPolicy {
    NetworkPolicy {
        metadata: object_meta(spec, component, name, Some(namespace)),
        spec: Some(body),
    }
}

fn types(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|s| s.to_string()).collect())
}

/// The three policies of `namespace`.
pub fn policies(spec: &BaselineSpec, component: &Component, namespace: &str) -> Vec<NetworkPolicy> {
    let same_namespace = NetworkPolicyPeer {
        pod_selector: Some(all_pods()),
        ..NetworkPolicyPeer::default()
    };
    let dns_port = |protocol: &str| NetworkPolicyPort {
        protocol: Some(protocol.to_string()),
        port: Some(IntOrString::Int(DNS_PORT)),
        ..NetworkPolicyPort::default()
    };
    vec![
        policy(
            spec,
            component,
            namespace,
            DEFAULT_DENY,
            NetworkPolicySpec {
                pod_selector: Some(all_pods()),
                policy_types: types(&["Ingress", "Egress"]),
                ..NetworkPolicySpec::default()
            },
        ),
        policy(
            spec,
            component,
            namespace,
            ALLOW_DNS,
            NetworkPolicySpec {
                pod_selector: Some(all_pods()),
                policy_types: types(&["Egress"]),
                egress: Some(vec![NetworkPolicyEgressRule {
                    to: Some(vec![NetworkPolicyPeer {
                        namespace_selector: Some(labels(&[(NAMESPACE_NAME_LABEL, "kube-system")])),
                        pod_selector: Some(labels(&[DNS_POD_LABEL])),
                        ..NetworkPolicyPeer::default()
                    }]),
                    ports: Some(vec![dns_port("UDP"), dns_port("TCP")]),
                }]),
                ..NetworkPolicySpec::default()
            },
        ),
        policy(
            spec,
            component,
            namespace,
            ALLOW_SAME_NAMESPACE,
            NetworkPolicySpec {
                pod_selector: Some(all_pods()),
                policy_types: types(&["Ingress", "Egress"]),
                ingress: Some(vec![NetworkPolicyIngressRule {
                    from: Some(vec![same_namespace.clone()]),
                    ..NetworkPolicyIngressRule::default()
                }]),
                egress: Some(vec![NetworkPolicyEgressRule {
                    to: Some(vec![same_namespace]),
                    ..NetworkPolicyEgressRule::default()
                }]),
            },
        ),
    ]
}
