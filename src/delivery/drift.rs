//! Whether a live object still is what paved rendered.

use serde_json::Value as Json;

/// Whether every field paved renders has the same value in `live` (lists compared
/// whole; server-set fields paved does not render are ignored).
pub fn renders_into(rendered: &Json, live: &Json) -> bool {
    match (rendered, live) {
        (Json::Object(r), Json::Object(l)) => r
            .iter()
            .all(|(k, rv)| l.get(k).is_some_and(|lv| renders_into(rv, lv))),
        (Json::Array(r), Json::Array(l)) => {
            r.len() == l.len() && r.iter().zip(l).all(|(a, b)| renders_into(a, b))
        }
        (Json::Number(r), Json::Number(l)) => r.as_f64() == l.as_f64(),
        _ => rendered == live,
    }
}

/// Whether `kind`'s content is compared at all: a Secret's data is put in at apply
/// time (receiver secrets, passwords) and never rendered, so only its presence
/// counts.
pub fn content_compared(kind: &str) -> bool {
    kind != "Secret"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_set_fields_are_not_drift_but_changed_ones_are() {
        let rendered = json!({"spec": {"replicas": 2, "template": {"x": [1, 2]}}});
        let live = json!({"spec": {"replicas": 2, "template": {"x": [1, 2]}, "paused": false},
                          "status": {"readyReplicas": 2}});
        assert!(renders_into(&rendered, &live));
        let edited = json!({"spec": {"replicas": 5, "template": {"x": [1, 2]}}});
        assert!(!renders_into(&rendered, &edited));
        assert!(!renders_into(&rendered, &json!({"spec": {"replicas": 2}})));
    }

    #[test]
    fn only_secrets_are_compared_by_presence() {
        assert!(!content_compared("Secret"));
        assert!(content_compared("ConfigMap"));
    }
}
