//! The stack's namespace, labelled for Pod Security (privileged: node-exporter and
//! the log agent read the host).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use paved_manifests::{Manifest, Problem, RenderError};

use crate::labels::{object_meta, Component};
use crate::spec::ObservabilitySpec;

/// The Namespace.
pub(crate) fn objects(spec: &ObservabilitySpec) -> Result<Vec<Manifest>, RenderError> {
    let mut meta = object_meta(spec, Component::Namespace, &spec.namespace, false);
    let labels = meta.labels.get_or_insert_with(BTreeMap::new);
    for mode in ["enforce", "audit", "warn"] {
        labels.insert(
            format!("pod-security.kubernetes.io/{mode}"),
            "privileged".to_string(),
        );
    }
    let namespace = Namespace {
        metadata: meta,
        ..Namespace::default()
    };
    Ok(vec![Manifest::from_object(&namespace)?])
}

/// The namespace must be a DNS label.
pub(crate) fn problems(spec: &ObservabilitySpec) -> Vec<Problem> {
    let valid = !spec.namespace.is_empty()
        && spec.namespace.len() <= 63
        && spec
            .namespace
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !spec.namespace.starts_with('-')
        && !spec.namespace.ends_with('-');
    if valid {
        Vec::new()
    } else {
        vec![Problem::new(
            "namespace",
            format!(
                "{:?} is not a valid namespace name: use lower-case letters, digits and '-', at most 63, \
                 starting and ending with a letter or digit",
                spec.namespace
            ),
        )]
    }
}
