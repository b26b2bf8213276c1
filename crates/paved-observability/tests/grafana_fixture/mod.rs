//! What the `grafana_*`, `loki_*`, `tempo_*` and `alloy_*` tests share: the
//! specs they render (built once, in `paved_observability::fixtures::stack`) and
//! finding an object or a file in what was rendered.

pub use paved_observability::fixtures::stack::*;
use paved_observability::{Manifest, Rendered};

/// The object `kind`/`name` of `rendered`.
pub fn object<'a>(rendered: &'a Rendered, kind: &str, name: &str) -> &'a Manifest {
    rendered
        .objects
        .iter()
        .find(|m| m.kind == kind && m.name == name)
        .unwrap_or_else(|| panic!("{kind} {name} is not rendered"))
}

/// The file `key` of the ConfigMap `name`.
pub fn config_map_file(rendered: &Rendered, name: &str, key: &str) -> String {
    object(rendered, "ConfigMap", name).body["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("ConfigMap {name} has no {key}"))
        .to_string()
}
