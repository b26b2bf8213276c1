//! The receivers' secrets: which ones a spec needs, and putting their values into
//! the rendered Alertmanager configuration at apply time.
//!
//! The rendered objects (hashed, kept in state, written as GitOps files) carry
//! only placeholders ([`secret_placeholder`]). [`resolve_secrets`] decodes the
//! configuration Secret, parses the YAML, replaces every scalar that is a
//! placeholder and writes the YAML again: a value with quotes, colons or newlines
//! stays one scalar, never a change to the file's structure.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use paved_manifests::{Problem, RenderError};
use yaml_serde::Value;

use crate::alertmanager::{CONFIG_FILE, CONFIG_SECRET};
use crate::spec::{secret_placeholder, Mode, ObservabilitySpec, HEARTBEAT_SECRET};
use crate::workload::GENERATED_HEADER;

/// The names of the secrets `spec`'s Alertmanager configuration needs (a receiver's
/// name, or `heartbeat`), each read by the caller from the cloud's secret store.
///
/// Every receiver kind has one (a webhook URL, an SMTP password, a routing key).
/// Empty in managed mode: no Alertmanager is rendered, routing is the managed
/// service's.
pub fn secret_names(spec: &ObservabilitySpec) -> Vec<String> {
    if !matches!(spec.mode, Mode::SelfHosted) {
        return Vec::new();
    }
    let mut names: Vec<String> = spec
        .alerting
        .receivers
        .iter()
        .map(|r| r.name.clone())
        .collect();
    if spec.alerting.heartbeat {
        names.push(HEARTBEAT_SECRET.to_string());
    }
    names
}

/// The placeholder's fixed part: what every placeholder starts with.
fn placeholder_prefix() -> String {
    secret_placeholder("")
}

/// `rendered` with every secret placeholder replaced by its value from `values`
/// (the objects' `hash` fields unchanged: they describe the placeholder form).
/// Fails naming the secret when a placeholder has no value.
pub fn resolve_secrets(
    rendered: &paved_manifests::Rendered,
    values: &std::collections::BTreeMap<String, String>,
) -> Result<paved_manifests::Rendered, RenderError> {
    let mut out = rendered.clone();
    for manifest in &mut out.objects {
        if manifest.kind != "Secret" || manifest.name != CONFIG_SECRET {
            continue;
        }
        let Some(encoded) = manifest
            .body
            .pointer_mut(&format!("/data/{}", json_pointer_escape(CONFIG_FILE)))
        else {
            return Err(invalid(
                CONFIG_SECRET,
                format!("the Secret holds no {CONFIG_FILE}"),
            ));
        };
        let text = decode(encoded.as_str().unwrap_or_default())?;
        let resolved = resolve_text(&text, values)?;
        *encoded = serde_json::Value::String(BASE64.encode(resolved.as_bytes()));
    }
    Ok(out)
}

/// The configuration `text` with its placeholders replaced.
fn resolve_text(text: &str, values: &BTreeMap<String, String>) -> Result<String, RenderError> {
    let mut tree: Value = yaml_serde::from_str(text).map_err(|source| RenderError::Yaml {
        what: CONFIG_FILE.to_string(),
        source,
    })?;
    let mut missing = BTreeSet::new();
    replace(&mut tree, &placeholder_prefix(), values, &mut missing);
    if !missing.is_empty() {
        let names: Vec<String> = missing.into_iter().collect();
        return Err(RenderError::Invalid {
            problems: names
                .iter()
                .map(|name| {
                    Problem::new(
                        format!("secrets[{name:?}]"),
                        format!(
                            "no value for the secret {name:?} the Alertmanager configuration \
                             needs; store it in the stack's receiver secrets"
                        ),
                    )
                })
                .collect(),
        });
    }
    let body = yaml_serde::to_string(&tree).map_err(|source| RenderError::Yaml {
        what: CONFIG_FILE.to_string(),
        source,
    })?;
    Ok(format!("{GENERATED_HEADER}{body}"))
}

/// Replaces, in place, every string scalar that is a placeholder; the names of
/// placeholders without a value go to `missing`. Keys are left alone.
fn replace(
    value: &mut Value,
    prefix: &str,
    values: &BTreeMap<String, String>,
    missing: &mut BTreeSet<String>,
) {
    match value {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix(prefix) {
                if *s == secret_placeholder(name) {
                    match values.get(name) {
                        Some(secret) => *s = secret.clone(),
                        None => {
                            missing.insert(name.to_string());
                        }
                    }
                }
            }
        }
        Value::Sequence(items) => {
            for item in items {
                replace(item, prefix, values, missing);
            }
        }
        Value::Mapping(map) => {
            for (_, item) in map.iter_mut() {
                replace(item, prefix, values, missing);
            }
        }
        Value::Tagged(tagged) => replace(&mut tagged.value, prefix, values, missing),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn decode(encoded: &str) -> Result<String, RenderError> {
    let bytes = BASE64
        .decode(encoded)
        .map_err(|e| invalid(CONFIG_SECRET, format!("{CONFIG_FILE} is not base64: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|e| invalid(CONFIG_SECRET, format!("{CONFIG_FILE} is not UTF-8: {e}")))
}

fn invalid(what: &str, message: String) -> RenderError {
    RenderError::Invalid {
        problems: vec![Problem::new(what, message)],
    }
}

/// A JSON pointer token for `key` (RFC 6901: `~` and `/` escaped).
fn json_pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alertmanager;
    use crate::fixtures::metrics::{eks, managed, minimal, production};
    use paved_manifests::Rendered;

    fn rendered(spec: &ObservabilitySpec) -> Rendered {
        Rendered::new(alertmanager::objects(spec).unwrap())
    }

    fn config_of(rendered: &Rendered) -> String {
        let secret = rendered
            .objects
            .iter()
            .find(|m| m.kind == "Secret")
            .unwrap();
        decode(secret.body["data"][CONFIG_FILE].as_str().unwrap()).unwrap()
    }

    fn all_values(spec: &ObservabilitySpec) -> BTreeMap<String, String> {
        secret_names(spec)
            .into_iter()
            .map(|n| {
                let v = format!("https://hooks.example.com/{n}");
                (n, v)
            })
            .collect()
    }

    #[test]
    fn names_are_the_receivers_and_the_heartbeat() {
        let spec = production(eks());
        assert_eq!(
            secret_names(&spec),
            ["pager", "slack-ops", "mail", "hook", "heartbeat"]
        );
        assert!(secret_names(&minimal(eks())).is_empty());
        assert!(secret_names(&managed(eks())).is_empty());
    }

    #[test]
    fn every_placeholder_is_replaced_and_hashes_are_kept() {
        let spec = production(eks());
        let before = rendered(&spec);
        let mut values = all_values(&spec);
        values.insert("pager".into(), "R0UTING-KEY".into());
        let after = resolve_secrets(&before, &values).unwrap();
        let text = config_of(&after);
        assert!(!text.contains("paved-secret.invalid"), "{text}");
        assert!(text.contains("R0UTING-KEY"));
        assert!(text.contains("https://hooks.example.com/heartbeat"));
        for (a, b) in before.objects.iter().zip(&after.objects) {
            assert_eq!(a.hash, b.hash);
        }
        assert_ne!(before, after);
        // Everything but the Secret is untouched.
        assert_eq!(before.objects.len(), after.objects.len());
        for (a, b) in before.objects.iter().zip(&after.objects) {
            if a.kind != "Secret" {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn awkward_values_stay_one_scalar() {
        let spec = production(eks());
        let mut values = all_values(&spec);
        let awkward = "pa\"ss: word\n- not: a list\n'quoted' # no comment";
        values.insert("mail".into(), awkward.into());
        let after = resolve_secrets(&rendered(&spec), &values).unwrap();
        let tree: Value = yaml_serde::from_str(&config_of(&after)).unwrap();
        let mail = tree["receivers"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "mail")
            .unwrap();
        assert_eq!(mail["email_configs"][0]["auth_password"], awkward);
        assert_eq!(mail["email_configs"][0]["to"], "team-a@example.com");
        assert_eq!(
            tree["route"]["routes"].as_sequence().unwrap().len(),
            4,
            "the structure changed"
        );
    }

    #[test]
    fn missing_values_are_named_never_shown() {
        let spec = production(eks());
        let mut values = all_values(&spec);
        values.remove("hook");
        values.remove("heartbeat");
        values.insert("pager".into(), "TOP-SECRET".into());
        let err = resolve_secrets(&rendered(&spec), &values).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("\"hook\"") && message.contains("\"heartbeat\""),
            "{message}"
        );
        assert!(!message.contains("TOP-SECRET"));
        let RenderError::Invalid { problems } = err else {
            panic!("not Invalid");
        };
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn nothing_to_do_without_alertmanager() {
        let spec = managed(eks());
        let objects = Rendered::new(crate::prometheus::objects(&spec).unwrap());
        assert_eq!(
            resolve_secrets(&objects, &BTreeMap::new()).unwrap(),
            objects
        );
    }

    #[test]
    fn a_minimal_config_needs_no_values() {
        let spec = minimal(eks());
        let before = rendered(&spec);
        let after = resolve_secrets(&before, &BTreeMap::new()).unwrap();
        let tree: Value = yaml_serde::from_str(&config_of(&after)).unwrap();
        assert_eq!(tree["route"]["receiver"], "none");
    }
}
