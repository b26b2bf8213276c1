//! GitOps delivery: the rendered objects as files for Flux or Argo CD, one YAML file
//! per object plus a `kustomization.yaml` that lists them in apply order.

use serde::Serialize;

use crate::error::RenderError;
use crate::manifest::{Manifest, Rendered};

/// Directory for cluster-scoped objects (a namespace can never be named so).
pub const CLUSTER_DIR: &str = "_cluster";
/// Name of the Kustomization file.
pub const KUSTOMIZATION_FILE: &str = "kustomization.yaml";

/// The Kustomization that lists the object files.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization<'a> {
    api_version: &'a str,
    kind: &'a str,
    resources: Vec<String>,
}

/// The file an object is written to: `<namespace or _cluster>/<kind>-<name>.yaml`,
/// kind in lower case.
pub fn file_name(manifest: &Manifest) -> String {
    format!(
        "{}/{}-{}.yaml",
        manifest.namespace.as_deref().unwrap_or(CLUSTER_DIR),
        manifest.kind.to_lowercase(),
        manifest.name
    )
}

/// `(relative file name, YAML text)` for every object, in apply order, then the
/// `kustomization.yaml`.
pub fn to_gitops_files(rendered: &Rendered) -> Result<Vec<(String, String)>, RenderError> {
    let mut files = Vec::with_capacity(rendered.objects.len() + 1);
    for manifest in &rendered.objects {
        let name = file_name(manifest);
        let text = yaml_serde::to_string(&manifest.body).map_err(|source| RenderError::Yaml {
            what: name.clone(),
            source,
        })?;
        files.push((name, text));
    }
    let kustomization = Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: files.iter().map(|(name, _)| name.clone()).collect(),
    };
    let text = yaml_serde::to_string(&kustomization).map_err(|source| RenderError::Yaml {
        what: KUSTOMIZATION_FILE.to_string(),
        source,
    })?;
    files.push((KUSTOMIZATION_FILE.to_string(), text));
    Ok(files)
}
