//! What can go wrong while rendering, in terms the caller can act on.

use crate::validate::Problem;

/// Why [`crate::render`] or [`crate::to_gitops_files`] produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The spec has problems the caller should have caught with [`crate::validate`];
    /// each names the field and what to change.
    #[error("the baseline spec is invalid: {}", join(.problems))]
    Invalid {
        /// Every problem found, in field order.
        problems: Vec<Problem>,
    },
    /// A typed object could not be turned into JSON (a bug in this crate).
    #[error("could not serialise {kind} {name:?} to JSON: {source}")]
    Json {
        /// The object's kind.
        kind: String,
        /// The object's name.
        name: String,
        /// What serde_json said.
        source: serde_json::Error,
    },
    /// A rendered object or file could not be written as YAML (a bug in this crate).
    #[error("could not write {what} as YAML: {source}")]
    Yaml {
        /// The file or object being written.
        what: String,
        /// What the YAML serialiser said.
        source: yaml_serde::Error,
    },
}

fn join(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
