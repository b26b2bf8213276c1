//! The entry point: check the spec, build each component's objects, order them.

use crate::error::RenderError;
use crate::manifest::{Manifest, Rendered};
use crate::spec::BaselineSpec;
use crate::validate::validate;
use crate::{autoscaler, platform_admins, storage, teams};

/// Renders the in-cluster baseline of `spec`. Pure and deterministic: the same spec
/// always gives the same objects, bytes and digest.
///
/// Fails with [`RenderError::Invalid`] when [`validate`] finds problems.
pub fn render(spec: &BaselineSpec) -> Result<Rendered, RenderError> {
    let problems = validate(spec);
    if !problems.is_empty() {
        return Err(RenderError::Invalid { problems });
    }
    let mut objects: Vec<Manifest> = Vec::new();
    if let Some(autoscaler) = &spec.autoscaler {
        objects.extend(autoscaler::objects(spec, autoscaler)?);
    }
    if let Some(class) = &spec.storage_class {
        objects.push(Manifest::from_object(&storage::storage_class(spec, class))?);
    }
    for (name, team) in &spec.teams {
        objects.extend(teams::objects(spec, name, team)?);
    }
    if let Some(binding) = platform_admins::cluster_role_binding(spec) {
        objects.push(Manifest::from_object(&binding)?);
    }
    Ok(Rendered::new(objects))
}
