//! Kubernetes name and label syntax: the checks every rendered name and label passes.

/// Longest DNS-1123 label (namespace names, label values).
pub const MAX_LABEL_LEN: usize = 63;

/// Longest DNS-1123 subdomain (most object names).
pub const MAX_SUBDOMAIN_LEN: usize = 253;

/// Why `value` is not a DNS-1123 label (lower-case alphanumerics and `-`, starting and
/// ending with an alphanumeric, at most 63 characters), or `None` when it is one.
pub fn dns_label_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some("is empty".to_string());
    }
    if value.len() > MAX_LABEL_LEN {
        return Some(format!(
            "is {} characters long, at most {MAX_LABEL_LEN} are allowed",
            value.len()
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "contains {c:?}: only lower-case letters, digits and '-' are allowed"
        ));
    }
    if value.starts_with('-') || value.ends_with('-') {
        return Some("must start and end with a letter or digit".to_string());
    }
    None
}

/// Why `value` is not a DNS-1123 subdomain (dot-separated DNS-1123 labels, at most
/// 253 characters), or `None` when it is one.
pub fn dns_subdomain_problem(value: &str) -> Option<String> {
    if value.len() > MAX_SUBDOMAIN_LEN {
        return Some(format!(
            "is {} characters long, at most {MAX_SUBDOMAIN_LEN} are allowed",
            value.len()
        ));
    }
    value
        .split('.')
        .find_map(|part| dns_label_problem(part).map(|why| format!("part {part:?} {why}")))
}

/// Why `value` is not a valid label value (at most 63 characters of alphanumerics,
/// `-`, `_` and `.`, starting and ending with an alphanumeric), or `None`.
pub fn label_value_problem(value: &str) -> Option<String> {
    if value.len() > MAX_LABEL_LEN {
        return Some(format!(
            "is {} characters long, at most {MAX_LABEL_LEN} are allowed in a label value",
            value.len()
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Some(format!(
            "contains {c:?}: a label value allows only letters, digits, '-', '_' and '.'"
        ));
    }
    let edge_ok = |c: Option<char>| c.is_none_or(|c| c.is_ascii_alphanumeric());
    if !edge_ok(value.chars().next()) || !edge_ok(value.chars().last()) {
        return Some("must start and end with a letter or digit".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert_eq!(dns_label_problem("team-a1"), None);
        assert!(dns_label_problem("").is_some());
        assert!(dns_label_problem("Team").unwrap().contains("'T'"));
        assert!(dns_label_problem("-a").is_some());
        assert!(dns_label_problem("a_b").is_some());
        assert!(dns_label_problem(&"a".repeat(64)).unwrap().contains("64"));
        assert_eq!(dns_label_problem(&"a".repeat(63)), None);
    }

    #[test]
    fn subdomains_and_label_values() {
        assert_eq!(dns_subdomain_problem("ebs.csi.aws.com"), None);
        assert!(dns_subdomain_problem("a..b").is_some());
        assert_eq!(label_value_problem(""), None);
        assert_eq!(label_value_problem("Shop_1.prod"), None);
        assert!(label_value_problem("a/b").is_some());
        assert!(label_value_problem("a-").is_some());
    }
}
