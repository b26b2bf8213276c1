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

use paved_value::Value;

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

/// The user's tags among a component's: every tag but paved's identity tags. Tags a
/// cloud or Kubernetes adds to some components only (`kubernetes.io/role/elb` on
/// subnets) drop out of [`common_user_tags`] by themselves.
pub fn user_tags<'a>(tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> Tags {
    tags.into_iter()
        .filter(|(k, _)| !is_reserved(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether `key` is under paved's reserved prefix, in any letter case.
fn is_reserved(key: &str) -> bool {
    key.get(..PAVED_PREFIX.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(PAVED_PREFIX))
}

/// The user's tags of a stack: the provider's `default_tags` under the resource's
/// `tags` (the resource's win).
pub fn merged(default_tags: &Tags, resource_tags: &Tags) -> Tags {
    let mut out = default_tags.clone();
    out.extend(resource_tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// A tag map as a state value.
pub fn tags_value(tags: &Tags) -> Value {
    Value::Map(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

/// The planned `tags_all`: `default_tags` under the configuration's `tags`; unknown
/// while any of the configured tags is.
pub fn planned_tags_all(default_tags: &Tags, config: &Value) -> Value {
    let own = match config.get_attr("tags") {
        None | Some(Value::Null) => Tags::new(),
        Some(Value::Map(entries)) => {
            let mut own = Tags::new();
            for (k, v) in entries {
                match v.as_str() {
                    Some(v) => own.insert(k.clone(), v.to_owned()),
                    None => return Value::unknown(),
                };
            }
            own
        }
        Some(_) => return Value::unknown(),
    };
    tags_value(&merged(default_tags, &own))
}

/// The user tags that every component in `by_component` carries with the same
/// value (paved's and foreign tags aside): what the stack's components agree on,
/// so a tag changed or removed on any one of them by hand is missing here.
/// `None` when no component's tags were read.
pub fn common_user_tags(by_component: &BTreeMap<String, Tags>) -> Option<Tags> {
    let mut all = by_component.values().map(user_tags);
    let mut common = all.next()?;
    for tags in all {
        common.retain(|k, v| tags.get(k) == Some(v));
    }
    Some(common)
}

/// The keys to remove when a stack goes from the `prior` state's `tags_all` to
/// `wanted`; `None` when nothing changes. A prior without `tags_all` (made by an
/// earlier paved) counts as a change, so the stack is retagged once.
pub fn retag_needed(prior: &Value, wanted: &Tags) -> Option<Vec<String>> {
    let before: Option<Tags> = match prior.get_attr("tags_all") {
        Some(Value::Map(entries)) => Some(
            entries
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect(),
        ),
        _ => None,
    };
    match before {
        Some(before) if &before == wanted => None,
        Some(before) => Some(
            before
                .keys()
                .filter(|k| !wanted.contains_key(*k))
                .cloned()
                .collect(),
        ),
        None => Some(Vec::new()),
    }
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
    fn planned_tags_all_merges_and_waits_for_unknowns() {
        let defaults = tags(&[("team", "platform"), ("env", "prod")]);
        let config = Value::Object(BTreeMap::from([(
            "tags".to_owned(),
            Value::Map(BTreeMap::from([("team".to_owned(), Value::from("shop"))])),
        )]));
        assert_eq!(
            planned_tags_all(&defaults, &config),
            tags_value(&tags(&[("team", "shop"), ("env", "prod")]))
        );
        let unknown = Value::Object(BTreeMap::from([(
            "tags".to_owned(),
            Value::Map(BTreeMap::from([("team".to_owned(), Value::unknown())])),
        )]));
        assert!(planned_tags_all(&defaults, &unknown).is_unknown());
    }

    #[test]
    fn a_tag_changed_on_one_component_is_not_common() {
        let good = component_tags(&tags(&[("team", "a"), ("env", "prod")]), "s", "r", "vpc");
        let mut bad = good.clone();
        bad.insert("team".into(), "b".into());
        let by = BTreeMap::from([("vpc".to_owned(), good.clone()), ("subnet".to_owned(), bad)]);
        assert_eq!(common_user_tags(&by), Some(tags(&[("env", "prod")])));
        assert_eq!(common_user_tags(&BTreeMap::new()), None);
    }

    #[test]
    fn retag_is_needed_when_tags_differ_and_names_removed_keys() {
        let prior = Value::Object(BTreeMap::from([(
            "tags_all".to_owned(),
            tags_value(&tags(&[("team", "a"), ("old", "x")])),
        )]));
        assert_eq!(
            retag_needed(&prior, &tags(&[("team", "a"), ("old", "x")])),
            None
        );
        assert_eq!(
            retag_needed(&prior, &tags(&[("team", "b")])),
            Some(vec!["old".to_owned()])
        );
        assert_eq!(retag_needed(&Value::Null, &tags(&[])), Some(Vec::new()));
    }

    #[test]
    fn user_tags_leave_out_identity_tags_and_common_ones_leave_out_partial_ones() {
        let vpc = component_tags(&tags(&[("team", "a")]), "shop", "paved_ha_cluster", "vpc");
        assert_eq!(user_tags(&vpc), tags(&[("team", "a")]));
        let mut subnet = vpc.clone();
        subnet.insert("kubernetes.io/cluster/shop".into(), "shared".into());
        let by = BTreeMap::from([("vpc".to_owned(), vpc), ("subnet".to_owned(), subnet)]);
        assert_eq!(common_user_tags(&by), Some(tags(&[("team", "a")])));
    }
}
