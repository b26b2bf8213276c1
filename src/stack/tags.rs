//! The tagging convention that lets paved find its components again, and adoption
//! planning built on it.
//!
//! Every cloud object paved creates carries four tags:
//!
//! | key | value |
//! |---|---|
//! | `paved:stack` | the stack's name (`shop`) |
//! | `paved:resource` | the resource type (`paved_ha_cluster`) |
//! | `paved:component` | the object's role in the stack (`nat-gateway/eu-west-1a`) |
//! | `paved:managed-by` | `paved` |
//!
//! plus the user's provider `default_tags` and the resource's `tags` (resource tags win
//! over default tags; nobody overrides paved's own keys, and user keys under `paved:`
//! are refused).
//!
//! Because of these tags an apply cut off by a crash, Ctrl-C or a timeout resumes: the
//! next create looks the stack's objects up by tag and adopts them. Adapters build a
//! component's tags only through [`component_tags`] (or
//! [`StackContext::component_tags`](super::step::StackContext::component_tags)), so
//! the convention has one home.

use std::collections::BTreeMap;
use std::fmt;

/// Tags or labels: key to value, sorted so output and plans are stable.
pub type Tags = BTreeMap<String, String>;

/// The prefix reserved for paved's own tag keys.
pub const PAVED_PREFIX: &str = "paved:";
/// Tag key holding the stack's name.
pub const STACK_TAG: &str = "paved:stack";
/// Tag key holding the resource type that owns the component.
pub const RESOURCE_TAG: &str = "paved:resource";
/// Tag key holding the component's role in the stack.
pub const COMPONENT_TAG: &str = "paved:component";
/// Tag key marking an object as created by paved.
pub const MANAGED_BY_TAG: &str = "paved:managed-by";
/// The value of [`MANAGED_BY_TAG`].
pub const MANAGED_BY_VALUE: &str = "paved";

/// Where a user tag came from, so errors point at the right block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOrigin {
    /// The provider block's `default_tags`.
    DefaultTags,
    /// The resource's `tags`.
    ResourceTags,
}

impl fmt::Display for TagOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TagOrigin::DefaultTags => "the provider's default_tags",
            TagOrigin::ResourceTags => "the resource's tags",
        })
    }
}

/// User tags that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// A user tag uses paved's reserved prefix.
    #[error(
        "tag {key:?} in {origin} uses the reserved prefix \"paved:\"; paved sets the \
         paved:* tags itself to find its components again, so rename the tag (for \
         example to {suggestion:?})"
    )]
    ReservedKey {
        /// The offending key.
        key: String,
        /// Where it was written.
        origin: TagOrigin,
        /// The key without the prefix.
        suggestion: String,
    },
}

/// Refuses user tags whose keys use the `paved:` prefix (in any letter case, since
/// some clouds compare keys case-insensitively).
pub fn validate_user_tags(tags: &Tags, origin: TagOrigin) -> Result<(), TagError> {
    for key in tags.keys() {
        if is_reserved(key) {
            return Err(TagError::ReservedKey {
                key: key.clone(),
                origin,
                suggestion: key[PAVED_PREFIX.len()..].to_owned(),
            });
        }
    }
    Ok(())
}

/// The tags of component `key` of stack `stack` owned by `resource_type`: the
/// stack's user tags (`user`: provider default tags under the resource's tags)
/// and paved's four identity tags, which nothing overrides.
pub fn component_tags(user: &Tags, stack: &str, resource_type: &str, key: &str) -> Tags {
    let mut tags = user.clone();
    tags.insert(STACK_TAG.to_owned(), stack.to_owned());
    tags.insert(MANAGED_BY_TAG.to_owned(), MANAGED_BY_VALUE.to_owned());
    tags.insert(RESOURCE_TAG.to_owned(), resource_type.to_owned());
    tags.insert(COMPONENT_TAG.to_owned(), key.to_owned());
    tags
}

/// The user tags paved owns on a component: every tag but paved's identity tags and
/// those under `foreign` prefixes (tags a cloud or Kubernetes adds, such as
/// `kubernetes.io/` or `aws:`), which refresh and retagging leave alone.
pub fn user_tags<'a>(tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> Tags {
    tags.into_iter()
        .filter(|(k, _)| {
            !is_reserved(k) && !k.starts_with("kubernetes.io/") && !k.starts_with("aws:")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether `key` is under paved's reserved prefix, in any letter case.
fn is_reserved(key: &str) -> bool {
    key.get(..PAVED_PREFIX.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(PAVED_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reserved_keys_are_refused_in_any_case() {
        let err =
            validate_user_tags(&tags(&[("PAVED:stack", "x")]), TagOrigin::DefaultTags).unwrap_err();
        assert!(err.to_string().contains("default_tags"), "{err}");
        assert!(err.to_string().contains("\"stack\""), "{err}");
        assert!(validate_user_tags(&tags(&[("team", "a")]), TagOrigin::ResourceTags).is_ok());
    }

    #[test]
    fn identity_tags_win_over_user_tags() {
        let user = tags(&[("team", "a"), ("paved:stack", "other")]);
        let t = component_tags(&user, "shop", "paved_ha_cluster", "vpc");
        assert_eq!(t["paved:stack"], "shop");
        assert_eq!(t["paved:component"], "vpc");
        assert_eq!(t["paved:resource"], "paved_ha_cluster");
        assert_eq!(t["paved:managed-by"], "paved");
        assert_eq!(t["team"], "a");
    }

    #[test]
    fn user_tags_leave_out_identity_and_foreign_tags() {
        let t = component_tags(&tags(&[("team", "a")]), "shop", "paved_ha_cluster", "vpc");
        let mut all = t.clone();
        all.insert("kubernetes.io/cluster/shop".into(), "shared".into());
        all.insert("aws:cloudformation:stack".into(), "x".into());
        assert_eq!(user_tags(&all), tags(&[("team", "a")]));
    }
}
