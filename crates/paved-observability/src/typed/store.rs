//! The object stores Loki and Tempo write to: what each names a backend, and the
//! rules a bucket name and its settings must follow before either program is
//! pointed at it.

use paved_manifests::{Platform, Problem};

use crate::spec::ObjectStore;

/// The backend's name in Loki's `object_store`/`delete_request_store` and
/// Tempo's `backend`: `s3` or `gcs`.
pub(crate) fn backend(store: &ObjectStore) -> &'static str {
    match store {
        ObjectStore::S3 { .. } => "s3",
        ObjectStore::Gcs { .. } => "gcs",
    }
}

/// The bucket's name.
pub(crate) fn bucket(store: &ObjectStore) -> &str {
    match store {
        ObjectStore::S3 { bucket, .. } | ObjectStore::Gcs { bucket } => bucket,
    }
}

/// Why `name` is not a valid S3 bucket name (general purpose buckets: 3-63
/// lower-case letters, digits, `.` and `-`, starting and ending with a letter or
/// digit, no `..`, not an IP address), or `None`.
pub(crate) fn s3_bucket_problem(name: &str) -> Option<String> {
    if name.len() < 3 || name.len() > 63 {
        return Some(format!(
            "is {} characters long; an S3 bucket name has 3 to 63",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-')))
    {
        return Some(format!(
            "contains {c:?}; an S3 bucket name has only lower-case letters, digits, '.' and '-'"
        ));
    }
    if !starts_and_ends_alphanumeric(name) {
        return Some("must start and end with a letter or digit".to_string());
    }
    if name.contains("..") {
        return Some("must not contain \"..\"".to_string());
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Some("must not be formatted as an IP address".to_string());
    }
    None
}

/// Why `name` is not a valid Cloud Storage bucket name (3-63 lower-case letters,
/// digits, `-`, `_` and `.`, up to 222 with dots but each dot-separated part at
/// most 63; starting and ending with a letter or digit; not starting with `goog`
/// nor containing `google`), or `None`.
pub(crate) fn gcs_bucket_problem(name: &str) -> Option<String> {
    let max = if name.contains('.') { 222 } else { 63 };
    if name.len() < 3 || name.len() > max {
        return Some(format!(
            "is {} characters long; a Cloud Storage bucket name has 3 to {max}",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')))
    {
        return Some(format!(
            "contains {c:?}; a Cloud Storage bucket name has only lower-case letters, digits, '-', '_' and '.'"
        ));
    }
    if !starts_and_ends_alphanumeric(name) {
        return Some("must start and end with a letter or digit".to_string());
    }
    if name
        .split('.')
        .any(|part| part.is_empty() || part.len() > 63)
    {
        return Some("each dot-separated part must have 1 to 63 characters".to_string());
    }
    if name.starts_with("goog") || name.contains("google") {
        return Some("must not start with \"goog\" nor contain \"google\"".to_string());
    }
    None
}

fn starts_and_ends_alphanumeric(name: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    alnum(name.chars().next()) && alnum(name.chars().last())
}

/// Problems of the store at `path` (`logs.store`): the bucket's name, the S3
/// region and endpoint, and a store the platform's workload identity cannot reach.
pub(crate) fn store_problems(path: &str, platform: &Platform, store: &ObjectStore) -> Vec<Problem> {
    let mut problems = Vec::new();
    match store {
        ObjectStore::S3 {
            bucket,
            region,
            endpoint,
        } => {
            if let Some(why) = s3_bucket_problem(bucket) {
                problems.push(Problem::new(
                    format!("{path}.bucket"),
                    format!("{bucket:?} {why}"),
                ));
            }
            let region_ok = !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !region_ok {
                problems.push(Problem::new(
                    format!("{path}.region"),
                    format!("{region:?} is not an AWS region name (like \"eu-west-1\")"),
                ));
            }
            match endpoint {
                Some(url) => {
                    if let Some(why) = endpoint_problem(url) {
                        problems.push(Problem::new(format!("{path}.endpoint"), why));
                    }
                }
                None if !platform.is_eks() => problems.push(Problem::new(
                    path.to_string(),
                    "an S3 bucket on GKE: the pods' Workload Identity cannot reach AWS; \
                     use a Cloud Storage bucket",
                )),
                None => {}
            }
        }
        ObjectStore::Gcs { bucket } => {
            if let Some(why) = gcs_bucket_problem(bucket) {
                problems.push(Problem::new(
                    format!("{path}.bucket"),
                    format!("{bucket:?} {why}"),
                ));
            }
            if platform.is_eks() {
                problems.push(Problem::new(
                    path.to_string(),
                    "a Cloud Storage bucket on EKS: the pods' IAM role cannot reach Google Cloud; \
                     use an S3 bucket",
                ));
            }
        }
    }
    problems
}

/// Why `url` is not an `http://` or `https://` URL with a host, or `None`.
fn endpoint_problem(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace) => None,
        _ => Some(format!(
            "{url:?} is not an endpoint URL: write it as \"https://host[:port]\" (or http:// for a local test store)"
        )),
    }
}

/// The endpoint as `host[:port]` (Tempo's form) and whether it is plain HTTP.
pub(crate) fn endpoint_host(url: &str) -> (String, bool) {
    let (rest, insecure) = match url.strip_prefix("http://") {
        Some(rest) => (rest, true),
        None => (url.strip_prefix("https://").unwrap_or(url), false),
    };
    (rest.trim_end_matches('/').to_string(), insecure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_names() {
        assert_eq!(s3_bucket_problem("shop-logs.prod"), None);
        assert!(s3_bucket_problem("ab").is_some());
        assert!(s3_bucket_problem("Shop-logs").is_some());
        assert!(s3_bucket_problem("shop_logs").is_some());
        assert!(s3_bucket_problem("-shop").is_some());
        assert!(s3_bucket_problem("a..b").is_some());
        assert!(s3_bucket_problem("192.168.1.1").is_some());
    }

    #[test]
    fn gcs_names() {
        assert_eq!(gcs_bucket_problem("shop_logs-prod"), None);
        assert!(gcs_bucket_problem("google-logs").is_some());
        assert!(gcs_bucket_problem("goog-logs").is_some());
        assert!(gcs_bucket_problem("x").is_some());
        assert!(gcs_bucket_problem("Logs").is_some());
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            endpoint_host("http://minio:9000/"),
            ("minio:9000".to_string(), true)
        );
        assert_eq!(
            endpoint_host("https://s3.example.com"),
            ("s3.example.com".to_string(), false)
        );
        assert!(endpoint_problem("minio:9000").is_some());
        assert!(endpoint_problem("https://").is_some());
        assert_eq!(endpoint_problem("https://s3.example.com"), None);
    }
}
