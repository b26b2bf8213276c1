//! Small helpers shared by the services of the GCP stand-in: timestamps, opaque
//! fingerprints, JSON merge patches, resource-name checks and network references.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::Value;

/// Now as RFC 3339 in UTC with milliseconds (`2025-01-02T03:04:05.678Z`).
pub(crate) fn now_rfc3339() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date of `days` since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A stable 64-bit hash of `value`'s JSON text.
pub(crate) fn hash_of(value: &impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// An opaque fingerprint of `value`, in the URL-safe base64 Compute writes
/// (`Hq4cBQhWkIY=`; Google's own client refuses `+` and `/` in it).
pub(crate) fn fingerprint(value: &Value) -> String {
    let bytes = hash_of(&value.to_string()).to_be_bytes();
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// A short lowercase hex tag derived from `seed` (`len` ≤ 16 characters).
pub(crate) fn hex_tag(seed: &str, len: usize) -> String {
    let hex = format!("{:016x}", hash_of(&seed));
    hex[..len.min(16)].to_owned()
}

/// Applies `patch` to `target` as a JSON merge patch (RFC 7396): objects merge,
/// `null` removes, everything else (arrays included) replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(patch_obj) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Some(obj) = target.as_object_mut() {
        for (k, v) in patch_obj {
            if v.is_null() {
                obj.remove(k);
            } else if v.is_object() {
                merge_patch(obj.entry(k.clone()).or_insert(Value::Null), v);
            } else {
                obj.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Whether `name` is a valid RFC 1035 resource name of at most `max` characters
/// (lowercase letter first, then lowercase letters, digits and hyphens, not ending
/// with a hyphen), as Compute and GKE require.
pub(crate) fn valid_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The last `/`-separated part of a resource reference (`.../networks/n` → `n`).
pub(crate) fn last_segment(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// Splits `projects/{p}/global/networks/{n}` (optionally a full Compute URL) into
/// project and network name.
pub(crate) fn split_network(network: &str) -> Option<(String, String)> {
    let rest = &network[network.find("projects/")?..];
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["projects", p, "global", "networks", n] if !p.is_empty() && !n.is_empty() => {
            Some(((*p).to_owned(), (*n).to_owned()))
        }
        _ => None,
    }
}

/// Whether two project references name the same project: equal, or one is the
/// stand-in's project number (every project id maps to it).
pub(crate) fn same_project(a: &str, b: &str, number: u64) -> bool {
    let n = number.to_string();
    a == b || a == n || b == n
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_and_patches() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        let mut v = json!({"a": {"b": 1, "c": 2}, "d": [1]});
        merge_patch(&mut v, &json!({"a": {"b": null, "e": 3}, "d": [2, 3]}));
        assert_eq!(v, json!({"a": {"c": 2, "e": 3}, "d": [2, 3]}));
        assert!(valid_name("net-1", 63));
        assert!(!valid_name("Net", 63));
        assert!(!valid_name("net-", 63));
        assert!(!valid_name(&"a".repeat(41), 40));
    }
}
