//! Teams: for each namespace a team owns, the namespace with its Pod Security labels,
//! the team's edit binding, quota, limits and network policies; view bindings in the
//! namespaces it may read.

mod access;
mod limits;
mod namespace;
mod network;

use crate::error::RenderError;
use crate::labels::Component;
use crate::manifest::Manifest;
use crate::spec::{BaselineSpec, TeamSpec};

pub use access::{edit_binding_name, view_binding_name};
pub use limits::{LIMIT_RANGE_NAME, QUOTA_NAME};
pub use namespace::{POD_SECURITY_MODES, POD_SECURITY_PREFIX};
pub use network::{ALLOW_DNS, ALLOW_SAME_NAMESPACE, DEFAULT_DENY};

/// Every object of team `name`.
pub fn objects(
    spec: &BaselineSpec,
    name: &str,
    team: &TeamSpec,
) -> Result<Vec<Manifest>, RenderError> {
    let component = Component::Team(name.to_string());
    let mut out = Vec::new();
    for ns in &team.namespaces {
        out.push(Manifest::from_object(&namespace::namespace(
            spec, &component, ns,
        ))?);
        if let Some(binding) = access::edit_binding(spec, &component, name, team, ns) {
            out.push(Manifest::from_object(&binding)?);
        }
        out.push(Manifest::from_object(&limits::resource_quota(
            spec, &component, ns,
        ))?);
        out.push(Manifest::from_object(&limits::limit_range(
            spec, &component, ns,
        ))?);
        for policy in network::policies(spec, &component, ns) {
            out.push(Manifest::from_object(&policy)?);
        }
    }
    for ns in &team.view_namespaces {
        if let Some(binding) = access::view_binding(spec, &component, name, team, ns) {
            out.push(Manifest::from_object(&binding)?);
        }
    }
    Ok(out)
}
