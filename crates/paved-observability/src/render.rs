//! The entry point: check the spec, build each component's objects, order them.

use paved_manifests::{Manifest, RenderError, Rendered};

use crate::spec::{Mode, ObservabilitySpec};
use crate::validate::validate;
use crate::{adapter, alertmanager, alloy, exporters, grafana, loki, namespace, prometheus, tempo};

/// Renders the observability stack of `spec`. Pure and deterministic: the same spec
/// always gives the same objects, bytes and digest. Secrets appear only as
/// placeholders (see [`crate::resolve_secrets`]).
///
/// Fails with [`RenderError::Invalid`] when [`validate`] finds problems.
pub fn render(spec: &ObservabilitySpec) -> Result<Rendered, RenderError> {
    let problems = validate(spec);
    if !problems.is_empty() {
        return Err(RenderError::Invalid { problems });
    }
    let mut objects: Vec<Manifest> = Vec::new();
    objects.extend(namespace::objects(spec)?);
    objects.extend(prometheus::objects(spec)?);
    objects.extend(exporters::objects(spec)?);
    if matches!(spec.mode, Mode::SelfHosted) {
        objects.extend(alertmanager::objects(spec)?);
    }
    objects.extend(grafana::objects(spec)?);
    if spec.logs.is_some() {
        objects.extend(loki::objects(spec)?);
    }
    if spec.traces.is_some() {
        objects.extend(tempo::objects(spec)?);
    }
    if spec.logs.is_some() || spec.traces.is_some() {
        objects.extend(alloy::objects(spec)?);
    }
    if spec.custom_metrics_adapter {
        objects.extend(adapter::objects(spec)?);
    }
    Ok(Rendered::new(objects))
}
