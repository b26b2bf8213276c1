//! The shape Loki and Tempo share: one program run as a single binary
//! (`-target=all`) in a one-pod StatefulSet, its configuration in a ConfigMap,
//! a local volume for its write-ahead log, its data in an object store it
//! reaches through a cloud identity, retention applied by its compactor. The two
//! differ only in the values of [`SingleBinary`], so a fix to the shape (a probe,
//! a hardening setting, a validation rule) lands in both.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use paved_manifests::{Manifest, Problem, RenderError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::labels::{object_meta, Component};
use crate::spec::{ObjectStore, ObservabilitySpec};
use crate::typed::store::store_problems;
use crate::typed::{check_yaml, to_yaml};
use crate::workload::{
    config_map, config_map_volume, container_port, delayed_probe, empty_dir, gomaxprocs_env,
    identity_problem, mount, parts_hash, pod_annotations, pod_meta, pod_security, resources,
    restricted_container, selector, service, service_account, service_port, volume_claim,
};

/// One single-binary component (Loki or Tempo): what sets it apart, and the
/// part of the spec that configures it.
pub(crate) struct SingleBinary<'a> {
    /// The component, for labels and selectors.
    pub(crate) component: Component,
    /// Where its settings are in the spec (`logs`), for problems' paths and text.
    pub(crate) spec_path: &'static str,
    /// The ServiceAccount, Service, StatefulSet and container name.
    pub(crate) name: &'static str,
    /// The StatefulSet's governing (headless) Service.
    pub(crate) headless_service: &'static str,
    /// The image (pinned).
    pub(crate) image: &'static str,
    /// The ConfigMap holding the configuration file.
    pub(crate) config_map: &'static str,
    /// The configuration file's name in the ConfigMap.
    pub(crate) config_file: &'static str,
    /// Where the ConfigMap is mounted.
    pub(crate) config_dir: &'static str,
    /// Where the data volume is mounted.
    pub(crate) data_dir: &'static str,
    /// The user the image runs as.
    pub(crate) uid: i64,
    /// The ports (TCP), each on the container and both Services; the first is
    /// `http`, which serves the probes and `/metrics`.
    pub(crate) ports: &'a [(&'static str, u16)],
    /// What the data volume holds, as the subject of "need(s) a volume".
    pub(crate) volume_needed_by: &'static str,
    /// How long data is kept, days.
    pub(crate) retention_days: u32,
    /// The data volume's size, GiB.
    pub(crate) volume_gib: u32,
    /// The bucket.
    pub(crate) store: &'a ObjectStore,
    /// The cloud identity the bucket is reached as (empty: none).
    pub(crate) identity: &'a str,
}

impl SingleBinary<'_> {
    /// Problems of the component's settings: retention and volume size, the
    /// store, `extra` (checks only this component makes), then the identity. A
    /// test store (an S3 endpoint) may go without an identity.
    pub(crate) fn problems(&self, spec: &ObservabilitySpec, extra: Vec<Problem>) -> Vec<Problem> {
        let path = self.spec_path;
        let mut problems = Vec::new();
        if self.retention_days < 1 {
            problems.push(Problem::new(
                format!("{path}.retention_days"),
                format!("is 0: keep {path} at least 1 day (or turn {path} off)"),
            ));
        }
        if self.volume_gib < 1 {
            problems.push(Problem::new(
                format!("{path}.volume_gib"),
                format!("is 0: {} a volume of at least 1 GiB", self.volume_needed_by),
            ));
        }
        problems.extend(store_problems(
            &format!("{path}.store"),
            &spec.platform,
            self.store,
        ));
        problems.extend(extra);
        let test_store = matches!(
            self.store,
            ObjectStore::S3 {
                endpoint: Some(_),
                ..
            }
        );
        if !(test_store && self.identity.is_empty()) {
            problems.extend(identity_problem(
                &format!("{path}.identity"),
                &spec.platform,
                self.identity,
            ));
        }
        problems
    }

    /// The objects: ServiceAccount, ConfigMap of `config`, Service, headless
    /// Service, StatefulSet.
    pub(crate) fn objects<T: Serialize + DeserializeOwned>(
        &self,
        spec: &ObservabilitySpec,
        config: &T,
    ) -> Result<Vec<Manifest>, RenderError> {
        let text = to_yaml(self.config_file, config)?;
        // The text must read back into the model: a key the model does not know
        // (or spells differently) is a bug here, caught before anything is applied.
        check_yaml::<T>(&text).map_err(|why| RenderError::Invalid {
            problems: vec![Problem::new(
                self.spec_path,
                format!("internal: {}: {why}", self.config_file),
            )],
        })?;
        let hash = parts_hash(&[&text]);
        let component = self.component;
        let ports = || {
            self.ports
                .iter()
                .map(|(name, port)| service_port(name, *port, "TCP"))
                .collect::<Vec<_>>()
        };
        Ok(vec![
            // No Kubernetes API calls, so no token; the bucket is reached through
            // the cloud identity (IRSA's own projected token, or GKE's metadata
            // server).
            Manifest::from_object(&service_account(
                spec,
                component,
                self.name,
                Some(self.identity).filter(|i| !i.is_empty()),
                false,
            ))?,
            Manifest::from_object(&config_map(
                spec,
                component,
                self.config_map,
                BTreeMap::from([(self.config_file.to_string(), text)]),
            ))?,
            Manifest::from_object(&service(spec, component, self.name, ports(), false))?,
            Manifest::from_object(&service(
                spec,
                component,
                self.headless_service,
                ports(),
                true,
            ))?,
            Manifest::from_object(&self.stateful_set(spec, &hash))?,
        ])
    }

    fn stateful_set(&self, spec: &ObservabilitySpec, hash: &str) -> StatefulSet {
        let component = self.component;
        let metrics_port = self.ports.first().map_or(0, |(_, port)| *port);
        let container = Container {
            name: self.name.to_string(),
            image: Some(self.image.to_string()),
            image_pull_policy: Some("IfNotPresent".to_string()),
            args: Some(vec![
                format!("-config.file={}/{}", self.config_dir, self.config_file),
                "-target=all".to_string(),
            ]),
            ports: Some(
                self.ports
                    .iter()
                    .map(|(name, port)| container_port(name, *port, "TCP"))
                    .collect(),
            ),
            readiness_probe: Some(delayed_probe("/ready", "http", 15)),
            // Replaying a long write-ahead log keeps /ready failing for a while.
            liveness_probe: Some(delayed_probe("/ready", "http", 300)),
            env: Some(vec![gomaxprocs_env()]),
            resources: Some(resources("250m", "512Mi", "2", "2Gi")),
            security_context: Some(restricted_container(self.uid)),
            volume_mounts: Some(vec![
                mount("config", self.config_dir, true),
                mount("data", self.data_dir, false),
                mount("tmp", "/tmp", false),
            ]),
            ..Container::default()
        };
        StatefulSet {
            metadata: object_meta(spec, component, self.name, true),
            spec: Some(StatefulSetSpec {
                replicas: Some(1),
                service_name: Some(self.headless_service.to_string()),
                pod_management_policy: Some("Parallel".to_string()),
                selector: selector(component),
                template: PodTemplateSpec {
                    metadata: Some(pod_meta(
                        spec,
                        component,
                        pod_annotations(metrics_port, "/metrics", hash),
                    )),
                    spec: Some(PodSpec {
                        service_account_name: Some(self.name.to_string()),
                        // No Kubernetes API calls: no token in the pod either.
                        automount_service_account_token: Some(false),
                        security_context: Some(pod_security(self.uid, self.uid)),
                        termination_grace_period_seconds: Some(60),
                        containers: vec![container],
                        volumes: Some(vec![
                            config_map_volume("config", self.config_map),
                            empty_dir("tmp", "1Gi"),
                        ]),
                        ..PodSpec::default()
                    }),
                },
                volume_claim_templates: Some(vec![volume_claim(
                    spec,
                    component,
                    "data",
                    self.volume_gib,
                )]),
                ..StatefulSetSpec::default()
            }),
            ..StatefulSet::default()
        }
    }
}
