//! Typed models of the configuration files of the programs with no binary on the
//! build machine (Loki, Tempo, Grafana's provisioning files and dashboards,
//! prometheus-adapter) and a small typed builder of Alloy's configuration syntax.
//!
//! The renderer builds each configuration as one of these values and serialises it;
//! nothing is assembled by pasting strings. The YAML models carry
//! `#[serde(deny_unknown_fields)]` at every level and spell every key as the
//! program's documentation does, so reading a rendered file back with
//! [`check_yaml`] fails on a misspelt or misplaced key. Alloy's text is checked
//! against a table of the components, arguments, blocks and exports we use
//! ([`alloy::check`]) and parsed back into the builder's tree ([`alloy::parse`]).
//!
//! What this does not check: values the programs would reject (a malformed duration,
//! a bucket that does not exist), keys we do not use, and keys that were renamed in a
//! release other than the pinned one.

pub mod adapter;
pub mod alloy;
pub mod grafana;
pub mod loki;
pub mod tempo;

pub(crate) mod store;

use serde::de::DeserializeOwned;
use serde::Serialize;

use paved_manifests::RenderError;

/// Reads `text` (a rendered YAML configuration) back into its typed model `T`;
/// the error names the unknown or mistyped key.
pub fn check_yaml<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    yaml_serde::from_str(text).map_err(|e| e.to_string())
}

/// Writes a typed configuration as YAML.
pub(crate) fn to_yaml<T: Serialize>(what: &str, value: &T) -> Result<String, RenderError> {
    yaml_serde::to_string(value).map_err(|source| RenderError::Yaml {
        what: what.to_string(),
        source,
    })
}
