//! Tags as GCP labels. A label key starts with a lowercase letter and, like a value,
//! holds at most 63 lowercase letters, digits, `_` and `-`: paved's tag keys
//! (`paved:stack`) become `paved-stack`, other characters become `_`, capitals are
//! lowered. Two tags that map to the same label keep the first.

use std::collections::BTreeMap;

/// The longest key or value GCP accepts.
const MAX_LEN: usize = 63;

/// One key or value in GCP's alphabet.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            ':' | '/' | '.' => '-',
            _ => '_',
        })
        .take(MAX_LEN)
        .collect()
}

/// The label key for tag key `key`.
pub fn label_key(key: &str) -> String {
    let k = clean(key);
    if k.starts_with(|c: char| c.is_ascii_lowercase()) {
        k
    } else {
        clean(&format!("t{k}"))
    }
}

/// The labels for `tags`.
pub fn labels(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in tags {
        out.entry(label_key(k)).or_insert_with(|| clean(v));
    }
    out
}

/// A `labels.KEY=VALUE` list filter for the label of tag `key` with `value`.
pub fn filter(key: &str, value: &str) -> String {
    format!("labels.{}={}", label_key(key), clean(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paved_tags_become_valid_labels() {
        let tags: BTreeMap<String, String> = [
            ("paved:stack".to_string(), "Shop".to_string()),
            ("CostCenter".to_string(), "team a/1".to_string()),
            ("9lives".to_string(), "x".to_string()),
        ]
        .into();
        let l = labels(&tags);
        assert_eq!(l.get("paved-stack").map(String::as_str), Some("shop"));
        assert_eq!(l.get("costcenter").map(String::as_str), Some("team_a-1"));
        assert!(l.contains_key("t9lives"));
        assert_eq!(filter("paved:stack", "shop"), "labels.paved-stack=shop");
        let long = "x".repeat(100);
        assert_eq!(label_key(&long).len(), 63);
    }
}
