//! Every name the adapter decides, in one place: deterministic (the same stack,
//! account and region always give the same names, so an interrupted apply finds what
//! it made), within each service's rules, and distinct from the cluster adapter's
//! names so the two never touch each other's parts.
//!
//! | what | name |
//! |---|---|
//! | bucket | `<stack>-<purpose>-<account>-<region>` (S3: 3–63 characters, lowercase letters, digits, hyphens) |
//! | role | `<stack>-<purpose>` (up to 64 characters) under the path `/paved-observability/<stack>/` |
//! | workspace alias | `paved-<stack>` |
//! | topic | `<stack>-alerts` |
//! | rule groups namespace | `paved` |
//!
//! Roles live under their own path rather than the cluster's `/paved/<stack>/`: the
//! cluster adapter reads and deletes every role under that prefix, and an
//! observability stack is often named like the cluster it watches. A stack name too
//! long for a service's limit is cut and given a short hash of the whole name, so two
//! long names that share a beginning still differ.

use crate::ports::observability::{BucketPurpose, IdentityPurpose};

/// The longest S3 bucket name.
const BUCKET_MAX: usize = 63;
/// The longest IAM role name.
const ROLE_MAX: usize = 64;
/// The longest AMP workspace alias.
const ALIAS_MAX: usize = 100;
/// The longest SNS topic name.
const TOPIC_MAX: usize = 256;

/// The rule groups namespace paved uploads the stack's rules into.
pub const RULES_NAMESPACE: &str = "paved";

/// The ARN partition of `region`.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// FNV-1a: a hash that stays the same across Rust versions and platforms, unlike
/// `DefaultHasher`, since names derived from it must never change.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `text` cut to `max` bytes, with `-` and six hex digits of the whole text's hash
/// when it had to be cut. `text` is ASCII.
fn fit(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let hash = format!("{:06x}", fnv1a(text) & 0xff_ffff);
    let keep = max.saturating_sub(hash.len() + 1);
    let head = text[..keep].trim_end_matches('-');
    if head.is_empty() {
        hash
    } else {
        format!("{head}-{hash}")
    }
}

/// `text` as lowercase letters, digits and single hyphens, without hyphens at
/// either end (what S3 bucket names allow).
fn dns_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// `text` with every character outside `allowed` (and ASCII alphanumerics) as `-`.
fn only(text: &str, allowed: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || allowed.contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The bucket of `purpose` for `stack` in `account` and `region`.
pub fn bucket_name(stack: &str, purpose: BucketPurpose, account: &str, region: &str) -> String {
    let tail = dns_label(&format!("{}-{account}-{region}", purpose.as_str()));
    let mut head = dns_label(stack);
    if head.is_empty() {
        head = "paved".to_owned();
    }
    // S3 reserves these prefixes; a stack named so gets a letter in front.
    if ["xn--", "sthree-", "amzn-s3-demo-"]
        .iter()
        .any(|p| head.starts_with(p))
    {
        head.insert_str(0, "p-");
    }
    let room = BUCKET_MAX.saturating_sub(tail.len() + 1).max(8);
    let name = format!("{}-{tail}", fit(&head, room));
    fit(&name, BUCKET_MAX)
}

/// The role of `purpose` for `stack`.
pub fn role_name(stack: &str, purpose: IdentityPurpose) -> String {
    let name = only(&format!("{stack}-{}", purpose.as_str()), "+=,.@_-");
    if name.len() <= ROLE_MAX {
        return name;
    }
    let tail = format!("-{}", purpose.as_str());
    let head = only(stack, "+=,.@_-");
    format!("{}{tail}", fit(&head, ROLE_MAX - tail.len()))
}

/// The path every role of the stack lives under.
pub fn role_path(stack: &str) -> String {
    format!("/paved-observability/{}/", only(stack, "._-"))
}

/// The alias of the stack's AMP workspace.
pub fn workspace_alias(stack: &str) -> String {
    fit(&format!("paved-{stack}"), ALIAS_MAX)
}

/// The name of the stack's alert topic.
pub fn topic_name(stack: &str) -> String {
    fit(&format!("{}-alerts", only(stack, "_-")), TOPIC_MAX)
}

/// The ARN of the stack's alert topic.
pub fn topic_arn(stack: &str, region: &str, account: &str) -> String {
    format!(
        "arn:{}:sns:{region}:{account}:{}",
        partition(region),
        topic_name(stack)
    )
}

/// The ARN of bucket `name`.
pub fn bucket_arn(region: &str, name: &str) -> String {
    format!("arn:{}:s3:::{name}", partition(region))
}

/// The bucket an S3 ARN names.
pub fn bucket_of_arn(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    rest.strip_prefix("s3:::")
}

/// The ARN of AMP workspace `id`.
pub fn workspace_arn(region: &str, account: &str, id: &str) -> String {
    format!(
        "arn:{}:aps:{region}:{account}:workspace/{id}",
        partition(region)
    )
}

/// The id in an AMP workspace ARN (`...:workspace/ws-1` gives `ws-1`).
pub fn workspace_id_of_arn(arn: &str) -> &str {
    arn.rsplit_once(":workspace/").map_or(arn, |(_, id)| id)
}

/// The ARN of the stack's rule groups namespace in the workspace `workspace_arn`.
pub fn rules_namespace_arn(workspace_arn: &str) -> Option<String> {
    let (head, id) = workspace_arn.rsplit_once(":workspace/")?;
    Some(format!("{head}:rulegroupsnamespace/{id}/{RULES_NAMESPACE}"))
}

/// The OIDC provider ARN of `issuer` in `account` (`https://` dropped).
pub fn oidc_provider_arn(issuer: &str, account: &str, region: &str) -> String {
    format!(
        "arn:{}:iam::{account}:oidc-provider/{}",
        partition(region),
        oidc_host(issuer)
    )
}

/// The host and path of an OIDC issuer, as IAM conditions name it.
pub fn oidc_host(issuer: &str) -> &str {
    issuer
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_bucket(name: &str) -> bool {
        (3..=63).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-')
            && !name.contains("--")
    }

    #[test]
    fn bucket_names_carry_stack_purpose_account_and_region() {
        let name = bucket_name("shop", BucketPurpose::Logs, "123456789012", "eu-west-1");
        assert_eq!(name, "shop-logs-123456789012-eu-west-1");
        let name = bucket_name(
            "Shop_Prod.EU",
            BucketPurpose::Traces,
            "123456789012",
            "us-east-1",
        );
        assert_eq!(name, "shop-prod-eu-traces-123456789012-us-east-1");
        assert!(valid_bucket(&name));
    }

    #[test]
    fn long_stack_names_are_cut_with_a_hash() {
        let a = bucket_name(
            &"observability-for-the-whole-company-".repeat(3),
            BucketPurpose::Traces,
            "123456789012",
            "ap-southeast-2",
        );
        let b = bucket_name(
            &"observability-for-the-whole-company-".repeat(4),
            BucketPurpose::Traces,
            "123456789012",
            "ap-southeast-2",
        );
        assert!(valid_bucket(&a), "{a}");
        assert!(valid_bucket(&b), "{b}");
        assert_ne!(a, b);
        assert!(a.ends_with("-traces-123456789012-ap-southeast-2"), "{a}");
        for odd in ["", "---", "xn--x", "sthree-a", "a"] {
            let n = bucket_name(odd, BucketPurpose::Logs, "1", "us-east-1");
            assert!(valid_bucket(&n), "{odd:?}: {n}");
            assert!(!n.starts_with("xn--") && !n.starts_with("sthree-"), "{n}");
        }
    }

    #[test]
    fn role_names_fit_iam() {
        assert_eq!(role_name("shop", IdentityPurpose::Loki), "shop-loki");
        assert_eq!(
            role_name("shop", IdentityPurpose::ManagedMetrics),
            "shop-managed-metrics"
        );
        let long = role_name(&"x".repeat(80), IdentityPurpose::ManagedMetrics);
        assert!(long.len() <= 64, "{long}");
        assert!(long.ends_with("-managed-metrics"), "{long}");
        assert_eq!(role_path("shop"), "/paved-observability/shop/");
        // Never under the cluster's prefix, which the cluster's teardown empties.
        assert!(!role_path("shop").starts_with("/paved/shop/"));
    }

    #[test]
    fn arns() {
        assert_eq!(
            topic_arn("shop", "eu-west-1", "1"),
            "arn:aws:sns:eu-west-1:1:shop-alerts"
        );
        assert_eq!(bucket_arn("cn-north-1", "b"), "arn:aws-cn:s3:::b");
        assert_eq!(bucket_of_arn("arn:aws:s3:::b"), Some("b"));
        assert_eq!(bucket_of_arn("arn:aws:sns:r:1:t"), None);
        let ws = workspace_arn("us-east-1", "1", "ws-9");
        assert_eq!(workspace_id_of_arn(&ws), "ws-9");
        assert_eq!(
            rules_namespace_arn(&ws).as_deref(),
            Some("arn:aws:aps:us-east-1:1:rulegroupsnamespace/ws-9/paved")
        );
        assert_eq!(
            oidc_provider_arn(
                "https://oidc.eks.us-east-1.amazonaws.com/id/ABC",
                "1",
                "us-east-1"
            ),
            "arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
        );
    }
}
