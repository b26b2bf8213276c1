//! Reusable validators. Each checks one value before any cloud call and, when it is
//! wrong, adds an error naming the attribute and saying what to do. Unknown and null
//! values pass: they are checked again once known.

use paved_value::{Path, Value};

use crate::diag::Diagnostics;
use crate::profiles::{self, Profile};

/// A region name such as `eu-west-1`, `us-gov-west-1` or `europe-west1` (GCP).
pub fn region(name: &str, path: Path, diags: &mut Diagnostics) {
    if !is_region_name(name) {
        diags.attribute_error(
            path,
            "Invalid region",
            format!(
                "\"{name}\" is not a region name. Use the cloud's region code, such as \
                 \"eu-west-1\" (AWS) or \"europe-west1\" (GCP)."
            ),
        );
    }
}

/// Whether `name` has the shape of an AWS or GCP region code.
pub fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return false;
    }
    let lower_alnum = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    if !parts.iter().all(|p| lower_alnum(p)) {
        return false;
    }
    // The last part ends with the region number (`1` in eu-west-1, `west1` in GCP).
    parts
        .last()
        .and_then(|p| p.chars().last())
        .is_some_and(|c| c.is_ascii_digit())
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
}

/// A profile name.
pub fn profile(name: &str, path: Path, diags: &mut Diagnostics) {
    if Profile::parse(name).is_none() {
        diags.attribute_error(
            path,
            "Unknown profile",
            format!(
                "\"{name}\" is not a profile. Use {}.",
                profiles::allowed_names()
            ),
        );
    }
}

/// A whole number between `min` and `max` inclusive.
pub fn whole_number_in(value: &Value, min: i64, max: i64, path: Path, diags: &mut Diagnostics) {
    if value.is_null() || value.is_unknown() {
        return;
    }
    match value.as_i64() {
        Some(n) if (min..=max).contains(&n) => {}
        _ => diags.attribute_error(
            path,
            "Value out of range",
            format!("Must be a whole number from {min} to {max}."),
        ),
    }
}

/// An http or https URL.
pub fn url(value: &str, path: Path, diags: &mut Diagnostics) {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
        diags.attribute_error(
            path,
            "Invalid endpoint URL",
            format!("\"{value}\" is not an http:// or https:// URL with a host."),
        );
    }
}

/// An IAM role ARN (`arn:aws:iam::123456789012:role/name`).
pub fn role_arn(value: &str, path: Path, diags: &mut Diagnostics) {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > "role/".len();
    if !ok {
        diags.attribute_error(
            path,
            "Invalid role ARN",
            format!(
                "\"{value}\" is not an IAM role ARN. Use the form \
                 arn:aws:iam::123456789012:role/NAME."
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names() {
        for ok in [
            "eu-west-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "europe-west1",
            "us-central1",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "eu",
            "EU-west-1",
            "eu west 1",
            "eu-west-",
            "eu--west-1",
            "1-west-1",
            "eu-west-a",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn urls_and_arns() {
        let mut d = Diagnostics::new();
        url("http://127.0.0.1:5000", Path::root().attr("u"), &mut d);
        role_arn(
            "arn:aws:iam::123456789012:role/deploy",
            Path::root().attr("r"),
            &mut d,
        );
        assert!(d.is_empty());
        url("127.0.0.1:5000", Path::root().attr("u"), &mut d);
        role_arn("arn:aws:iam::1234:role/x", Path::root().attr("r"), &mut d);
        role_arn(
            "arn:aws:iam::123456789012:user/x",
            Path::root().attr("r"),
            &mut d,
        );
        assert_eq!(d.0.len(), 3);
    }

    #[test]
    fn numbers_in_range() {
        let mut d = Diagnostics::new();
        whole_number_in(&Value::from(3i64), 1, 16, Path::root().attr("n"), &mut d);
        whole_number_in(&Value::Null, 1, 16, Path::root().attr("n"), &mut d);
        whole_number_in(&Value::unknown(), 1, 16, Path::root().attr("n"), &mut d);
        assert!(d.is_empty());
        whole_number_in(&Value::from(17i64), 1, 16, Path::root().attr("n"), &mut d);
        assert_eq!(
            d.0[0].path.as_ref().map(|p| p.to_string()).as_deref(),
            Some("n")
        );
    }
}
