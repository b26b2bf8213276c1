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
//! next create looks the stack's objects up by tag and [`Adoption::plan`] decides which
//! to adopt, which to create, and which are duplicates or orphans to clean up.
//!
//! GCP labels are stricter than AWS tags (lowercase, at most 63 characters of
//! `[a-z0-9_-]`); [`to_gcp_labels`] maps the same tags onto them.

use std::collections::{BTreeMap, HashMap};
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

/// Tags that cannot be used, or objects whose tags are not paved's.
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
    /// The stack has no name to tag components with.
    #[error("the stack name is empty; paved tags every component with it, so set `name`")]
    EmptyStackName,
    /// The object does not carry `paved:managed-by = paved`.
    #[error(
        "the object is not managed by paved (tag paved:managed-by is {}, expected \
         \"paved\")",
        found.as_deref().map_or_else(|| "missing".to_owned(), |v| format!("{v:?}"))
    )]
    NotManaged {
        /// The value found, if the tag exists.
        found: Option<String>,
    },
    /// The object is paved's but lacks one of paved's tags.
    #[error(
        "the object is tagged paved:managed-by = paved but has no {key} tag; it was not \
         made by this version of paved or its tags were edited: restore the tag or delete \
         the object"
    )]
    MissingTag {
        /// The missing key.
        key: &'static str,
    },
    /// An empty tag key cannot become a GCP label.
    #[error("an empty tag key cannot become a GCP label; remove it from the tags")]
    EmptyLabelKey,
    /// Two tags become the same GCP label.
    #[error(
        "tags {first:?} and {second:?} both become the GCP label {label:?} (GCP labels are \
         lowercase letters, digits, '_' and '-'); rename one of them"
    )]
    LabelCollision {
        /// One tag key.
        first: String,
        /// The other tag key.
        second: String,
        /// The label key both map to.
        label: String,
    },
    /// More tags than GCP allows labels.
    #[error(
        "{count} labels, but GCP allows at most {GCP_MAX_LABELS} per resource; paved \
         uses 4, so keep default_tags and tags to {} keys or fewer",
        GCP_MAX_LABELS - 4
    )]
    TooManyLabels {
        /// How many labels were asked for.
        count: usize,
    },
}

/// Refuses user tags whose keys use the `paved:` prefix (in any letter case, since
/// some clouds compare keys case-insensitively).
pub fn validate_user_tags(tags: &Tags, origin: TagOrigin) -> Result<(), TagError> {
    for key in tags.keys() {
        let reserved = key
            .get(..PAVED_PREFIX.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(PAVED_PREFIX));
        if reserved {
            return Err(TagError::ReservedKey {
                key: key.clone(),
                origin,
                suggestion: key[PAVED_PREFIX.len()..].to_owned(),
            });
        }
    }
    Ok(())
}

/// Joins the parts of a component key: `component_key(&["subnet", "private",
/// "eu-west-1b"])` is `subnet/private/eu-west-1b`. Resources build keys only through
/// this so keys stay uniform across resources and clouds.
pub fn component_key(parts: &[&str]) -> String {
    parts.join("/")
}

/// The tags of one stack's components: the user's tags, validated once, plus
/// paved's identity tags. Build it at plan time so a bad tag is an error before any
/// cloud call, then call [`StackTags::component`] for each object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackTags {
    stack: String,
    resource_type: String,
    user: Tags,
}

impl StackTags {
    /// Validates and merges the user's tags (resource `tags` over provider
    /// `default_tags`) for stack `stack` of `resource_type` (e.g. `paved_ha_cluster`).
    pub fn new(
        stack: &str,
        resource_type: &str,
        default_tags: &Tags,
        resource_tags: &Tags,
    ) -> Result<Self, TagError> {
        if stack.trim().is_empty() {
            return Err(TagError::EmptyStackName);
        }
        validate_user_tags(default_tags, TagOrigin::DefaultTags)?;
        validate_user_tags(resource_tags, TagOrigin::ResourceTags)?;
        let mut user = default_tags.clone();
        user.extend(
            resource_tags
                .iter()
                .map(|(key, value)| (key.clone(), value.clone())),
        );
        Ok(Self {
            stack: stack.to_owned(),
            resource_type: resource_type.to_owned(),
            user,
        })
    }

    /// The stack's name.
    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// The owning resource type.
    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }

    /// The full tag map for the component with key `component`.
    pub fn component(&self, component: &str) -> Tags {
        let mut tags = self.user.clone();
        tags.extend(self.lookup_filter());
        tags.insert(COMPONENT_TAG.to_owned(), component.to_owned());
        tags
    }

    /// The tags to search by to find every component of this stack: managed-by,
    /// stack and resource type.
    pub fn lookup_filter(&self) -> Tags {
        Tags::from([
            (MANAGED_BY_TAG.to_owned(), MANAGED_BY_VALUE.to_owned()),
            (STACK_TAG.to_owned(), self.stack.clone()),
            (RESOURCE_TAG.to_owned(), self.resource_type.clone()),
        ])
    }
}

/// Builds the tags of one component in one call; see [`StackTags`] to tag many.
pub fn component_tags(
    stack: &str,
    resource_type: &str,
    component: &str,
    default_tags: &Tags,
    resource_tags: &Tags,
) -> Result<Tags, TagError> {
    StackTags::new(stack, resource_type, default_tags, resource_tags)
        .map(|tags| tags.component(component))
}

/// Who a tagged object belongs to, read back from its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentIdentity {
    /// `paved:stack`.
    pub stack: String,
    /// `paved:resource`.
    pub resource_type: String,
    /// `paved:component`.
    pub component: String,
}

/// Reads paved's identity tags back from an object's tags; errors if the object is
/// not paved's or lacks one of them.
pub fn parse_component(tags: &Tags) -> Result<ComponentIdentity, TagError> {
    match tags.get(MANAGED_BY_TAG) {
        Some(value) if value == MANAGED_BY_VALUE => {}
        found => {
            return Err(TagError::NotManaged {
                found: found.cloned(),
            })
        }
    }
    let get = |key: &'static str| {
        tags.get(key)
            .filter(|value| !value.is_empty())
            .cloned()
            .ok_or(TagError::MissingTag { key })
    };
    Ok(ComponentIdentity {
        stack: get(STACK_TAG)?,
        resource_type: get(RESOURCE_TAG)?,
        component: get(COMPONENT_TAG)?,
    })
}

/// A cloud object found by tag lookup, in cloud-neutral form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundComponent {
    /// Its component key (`paved:component`).
    pub component: String,
    /// The cloud's id for it (VPC id, ARN, self link...).
    pub id: String,
    /// All its tags.
    pub tags: Tags,
}

impl FoundComponent {
    /// Builds a found component from an object's id and tags, reading the component
    /// key from the tags.
    pub fn from_tags(id: impl Into<String>, tags: Tags) -> Result<Self, TagError> {
        let identity = parse_component(&tags)?;
        Ok(Self {
            component: identity.component,
            id: id.into(),
            tags,
        })
    }
}

/// A needed component that already exists and is taken over as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adopted {
    /// The component key.
    pub component: String,
    /// The id of the existing object.
    pub id: String,
}

/// Several objects carry the same needed component key: one is kept, the rest are
/// leftovers of an interrupted apply and should be cleaned up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The component key.
    pub component: String,
    /// The id kept (and adopted).
    pub kept_id: String,
    /// The other objects with that key.
    pub extra: Vec<FoundComponent>,
}

/// What to do with each component of a stack, given what already exists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adoption {
    /// Needed components that exist: use them, do not create them again.
    pub adopt: Vec<Adopted>,
    /// Needed components that do not exist yet, in the order they were needed.
    pub create: Vec<String>,
    /// Needed components found more than once.
    pub duplicates: Vec<Duplicate>,
    /// Found objects whose component the stack no longer needs.
    pub orphans: Vec<FoundComponent>,
}

impl Adoption {
    /// Plans adoption for the components a stack `needed`, given the objects `found`
    /// by tag lookup for that stack.
    ///
    /// Pass `found` oldest first (adapters sort by creation time where the cloud
    /// reports it): of several objects with one key, the first is kept, so the
    /// result depends only on the input. Duplicate entries in `needed` count once.
    pub fn plan<S: AsRef<str>>(needed: &[S], found: Vec<FoundComponent>) -> Adoption {
        let mut by_key: HashMap<String, Vec<FoundComponent>> = HashMap::new();
        let mut key_order: Vec<String> = Vec::new();
        for object in found {
            let entry = by_key.entry(object.component.clone()).or_insert_with(|| {
                key_order.push(object.component.clone());
                Vec::new()
            });
            entry.push(object);
        }

        let mut plan = Adoption::default();
        for key in needed {
            let key = key.as_ref();
            match by_key.remove(key) {
                Some(objects) => {
                    let mut objects = objects.into_iter();
                    let Some(kept) = objects.next() else {
                        plan.create.push(key.to_owned());
                        continue;
                    };
                    let extra: Vec<FoundComponent> = objects.collect();
                    if !extra.is_empty() {
                        plan.duplicates.push(Duplicate {
                            component: key.to_owned(),
                            kept_id: kept.id.clone(),
                            extra,
                        });
                    }
                    plan.adopt.push(Adopted {
                        component: key.to_owned(),
                        id: kept.id,
                    });
                }
                None => {
                    let already_planned = plan.create.iter().any(|k| k == key)
                        || plan.adopt.iter().any(|a| a.component == key);
                    if !already_planned {
                        plan.create.push(key.to_owned());
                    }
                }
            }
        }
        for key in key_order {
            if let Some(objects) = by_key.remove(&key) {
                plan.orphans.extend(objects);
            }
        }
        plan
    }

    /// The id adopted for `component`, if it exists.
    pub fn adopted_id(&self, component: &str) -> Option<&str> {
        self.adopt
            .iter()
            .find(|adopted| adopted.component == component)
            .map(|adopted| adopted.id.as_str())
    }

    /// Every object to clean up: duplicates' extras, then orphans.
    pub fn cleanup(&self) -> impl Iterator<Item = &FoundComponent> {
        self.duplicates
            .iter()
            .flat_map(|duplicate| duplicate.extra.iter())
            .chain(self.orphans.iter())
    }
}

/// The longest GCP label key or value.
pub const GCP_LABEL_MAX_LEN: usize = 63;
/// The most labels GCP allows on one resource.
pub const GCP_MAX_LABELS: usize = 64;

/// Maps text onto GCP's label alphabet: ASCII letters lowercased, digits, `_` and `-`
/// kept, `/` becomes `_` (so component keys stay readable and distinct from their
/// dashes), anything else becomes `-`. Too-long results are cut and end with a hash
/// of the original, so distinct long inputs stay distinct.
fn gcp_label_text(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            '/' => '_',
            _ => '-',
        })
        .collect();
    if mapped.len() <= GCP_LABEL_MAX_LEN {
        return mapped;
    }
    let hash = format!("{:08x}", fnv1a(text.as_bytes()));
    // `mapped` is ASCII, so byte slicing is safe.
    let keep = GCP_LABEL_MAX_LEN - hash.len() - 1;
    format!("{}-{hash}", &mapped[..keep])
}

/// FNV-1a (32-bit): stable across Rust releases, unlike `std`'s hasher.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash: u32, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

/// The GCP label key for a tag key: `paved:stack` becomes `paved-stack`. Keys must
/// start with a letter, so others get a `k-` prefix (`1team` becomes `k-1team`).
pub fn gcp_label_key(key: &str) -> Result<String, TagError> {
    if key.is_empty() {
        return Err(TagError::EmptyLabelKey);
    }
    let starts_with_letter = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if starts_with_letter {
        Ok(gcp_label_text(key))
    } else {
        Ok(gcp_label_text(&format!("k-{key}")))
    }
}

/// The GCP label value for a tag value: `nat-gateway/eu-west-1a` becomes
/// `nat-gateway_eu-west-1a`. On GCP, compare component keys in this mapped form.
pub fn gcp_label_value(value: &str) -> String {
    gcp_label_text(value)
}

/// Maps a whole tag map to GCP labels, refusing tags that would collide and maps
/// larger than GCP allows.
pub fn to_gcp_labels(tags: &Tags) -> Result<Tags, TagError> {
    if tags.len() > GCP_MAX_LABELS {
        return Err(TagError::TooManyLabels { count: tags.len() });
    }
    let mut labels = Tags::new();
    let mut sources: BTreeMap<String, &str> = BTreeMap::new();
    for (key, value) in tags {
        let label = gcp_label_key(key)?;
        if let Some(first) = sources.get(&label) {
            return Err(TagError::LabelCollision {
                first: (*first).to_owned(),
                second: key.clone(),
                label,
            });
        }
        sources.insert(label.clone(), key);
        labels.insert(label, gcp_label_value(value));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn builds_component_tags_with_user_tags_underneath() {
        let defaults = tags(&[("team", "platform"), ("env", "prod")]);
        let resource = tags(&[("env", "production"), ("cost-center", "42")]);
        let built = component_tags(
            "shop",
            "paved_ha_cluster",
            "nat-gateway/eu-west-1a",
            &defaults,
            &resource,
        );
        assert_eq!(
            built,
            Ok(tags(&[
                ("cost-center", "42"),
                ("env", "production"),
                ("paved:component", "nat-gateway/eu-west-1a"),
                ("paved:managed-by", "paved"),
                ("paved:resource", "paved_ha_cluster"),
                ("paved:stack", "shop"),
                ("team", "platform"),
            ]))
        );
    }

    #[test]
    fn refuses_user_tags_under_the_paved_prefix() {
        let bad = tags(&[("paved:owner", "me")]);
        let error = StackTags::new("shop", "paved_ha_cluster", &Tags::new(), &bad);
        assert_eq!(
            error,
            Err(TagError::ReservedKey {
                key: "paved:owner".into(),
                origin: TagOrigin::ResourceTags,
                suggestion: "owner".into(),
            })
        );
        let message = error.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message
                .starts_with("tag \"paved:owner\" in the resource's tags uses the reserved prefix"),
            "{message}"
        );
        assert!(message.contains("\"owner\""), "{message}");

        let shouting = tags(&[("PAVED:stack", "other")]);
        assert!(matches!(
            StackTags::new("shop", "paved_ha_cluster", &shouting, &Tags::new()),
            Err(TagError::ReservedKey {
                origin: TagOrigin::DefaultTags,
                ..
            })
        ));
        // Similar but unreserved keys are fine.
        let fine = tags(&[("paved", "yes"), ("pavedroad:x", "1"), ("p", "")]);
        assert!(StackTags::new("shop", "paved_ha_cluster", &fine, &fine).is_ok());
        assert_eq!(
            StackTags::new(" ", "paved_ha_cluster", &Tags::new(), &Tags::new()),
            Err(TagError::EmptyStackName)
        );
    }

    #[test]
    fn parses_the_component_back() {
        let stack = StackTags::new("shop", "paved_ha_cluster", &Tags::new(), &Tags::new());
        let built = stack
            .map(|s| s.component(&component_key(&["subnet", "private", "eu-west-1b"])))
            .unwrap_or_default();
        assert_eq!(
            parse_component(&built),
            Ok(ComponentIdentity {
                stack: "shop".into(),
                resource_type: "paved_ha_cluster".into(),
                component: "subnet/private/eu-west-1b".into(),
            })
        );

        assert_eq!(
            parse_component(&tags(&[("Name", "vpc")])),
            Err(TagError::NotManaged { found: None })
        );
        assert_eq!(
            parse_component(&tags(&[("paved:managed-by", "terraform")])),
            Err(TagError::NotManaged {
                found: Some("terraform".into())
            })
        );
        let partial = tags(&[
            ("paved:managed-by", "paved"),
            ("paved:stack", "shop"),
            ("paved:resource", "paved_ha_cluster"),
        ]);
        let error = parse_component(&partial);
        assert_eq!(error, Err(TagError::MissingTag { key: COMPONENT_TAG }));
        assert!(error
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("has no paved:component tag"));
    }

    #[test]
    fn lookup_filter_selects_the_stack() {
        let stack = StackTags::new("shop", "paved_ha_cluster", &Tags::new(), &Tags::new());
        assert_eq!(
            stack.map(|s| s.lookup_filter()),
            Ok(tags(&[
                ("paved:managed-by", "paved"),
                ("paved:resource", "paved_ha_cluster"),
                ("paved:stack", "shop"),
            ]))
        );
    }

    fn found(component: &str, id: &str) -> FoundComponent {
        FoundComponent {
            component: component.into(),
            id: id.into(),
            tags: Tags::new(),
        }
    }

    #[test]
    fn plans_adoption_with_duplicates_and_orphans() {
        let needed = [
            "vpc",
            "nat-gateway/eu-west-1a",
            "nat-gateway/eu-west-1b",
            "subnet/private/eu-west-1a",
            "vpc",
        ];
        let existing = vec![
            found("nat-gateway/eu-west-1a", "nat-111"),
            found("vpc", "vpc-1"),
            found("nat-gateway/eu-west-1a", "nat-222"),
            found("nat-gateway/eu-west-1c", "nat-333"),
            found("nat-gateway/eu-west-1a", "nat-444"),
        ];
        let plan = Adoption::plan(&needed, existing);
        assert_eq!(
            plan.adopt,
            vec![
                Adopted {
                    component: "vpc".into(),
                    id: "vpc-1".into()
                },
                Adopted {
                    component: "nat-gateway/eu-west-1a".into(),
                    id: "nat-111".into()
                },
            ]
        );
        assert_eq!(
            plan.create,
            vec!["nat-gateway/eu-west-1b", "subnet/private/eu-west-1a"]
        );
        assert_eq!(
            plan.duplicates,
            vec![Duplicate {
                component: "nat-gateway/eu-west-1a".into(),
                kept_id: "nat-111".into(),
                extra: vec![
                    found("nat-gateway/eu-west-1a", "nat-222"),
                    found("nat-gateway/eu-west-1a", "nat-444"),
                ],
            }]
        );
        assert_eq!(
            plan.orphans,
            vec![found("nat-gateway/eu-west-1c", "nat-333")]
        );
        let cleanup: Vec<&str> = plan.cleanup().map(|f| f.id.as_str()).collect();
        assert_eq!(cleanup, vec!["nat-222", "nat-444", "nat-333"]);
        assert_eq!(plan.adopted_id("vpc"), Some("vpc-1"));
        assert_eq!(plan.adopted_id("nat-gateway/eu-west-1b"), None);
    }

    #[test]
    fn adoption_of_nothing_creates_everything() {
        let plan = Adoption::plan(&["vpc", "igw"], Vec::new());
        assert_eq!(plan.create, vec!["vpc", "igw"]);
        assert!(plan.adopt.is_empty() && plan.duplicates.is_empty() && plan.orphans.is_empty());
    }

    #[test]
    fn found_component_reads_its_key_from_tags() {
        let built = component_tags(
            "shop",
            "paved_ha_cluster",
            "vpc",
            &Tags::new(),
            &Tags::new(),
        )
        .unwrap_or_default();
        let object = FoundComponent::from_tags("vpc-9", built);
        assert_eq!(
            object.map(|o| (o.component, o.id)),
            Ok(("vpc".into(), "vpc-9".into()))
        );
    }

    #[test]
    fn maps_tags_to_gcp_labels() {
        let built = component_tags(
            "Shop",
            "paved_ha_cluster",
            "subnet/private/europe-west1-b",
            &tags(&[("Team", "Platform Eng"), ("1st", "x.y")]),
            &Tags::new(),
        )
        .unwrap_or_default();
        assert_eq!(
            to_gcp_labels(&built),
            Ok(tags(&[
                ("k-1st", "x-y"),
                ("paved-component", "subnet_private_europe-west1-b"),
                ("paved-managed-by", "paved"),
                ("paved-resource", "paved_ha_cluster"),
                ("paved-stack", "shop"),
                ("team", "platform-eng"),
            ]))
        );
    }

    #[test]
    fn gcp_labels_are_valid_and_long_ones_stay_distinct() {
        let long_a = "a".repeat(100);
        let long_b = format!("{}b", "a".repeat(99));
        let key_a = gcp_label_key(&long_a).unwrap_or_default();
        let key_b = gcp_label_key(&long_b).unwrap_or_default();
        assert_eq!(key_a.len(), GCP_LABEL_MAX_LEN);
        assert_eq!(key_b.len(), GCP_LABEL_MAX_LEN);
        assert_ne!(key_a, key_b);
        for text in [long_a.as_str(), "ÜBER/straße", "Hello World!", "a:b/c"] {
            let value = gcp_label_value(text);
            assert!(value.len() <= GCP_LABEL_MAX_LEN);
            assert!(
                value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'),
                "{value}"
            );
        }
        assert_eq!(gcp_label_value(""), "");
        assert_eq!(gcp_label_key(""), Err(TagError::EmptyLabelKey));
    }

    #[test]
    fn gcp_label_collisions_and_limits_are_refused() {
        let clash = tags(&[("Team", "a"), ("team", "b")]);
        assert_eq!(
            to_gcp_labels(&clash),
            Err(TagError::LabelCollision {
                first: "Team".into(),
                second: "team".into(),
                label: "team".into(),
            })
        );
        // A user key that only differs from paved's by the separator collides too.
        let sneaky = component_tags(
            "shop",
            "paved_ha_cluster",
            "vpc",
            &tags(&[("paved-stack", "other")]),
            &Tags::new(),
        )
        .unwrap_or_default();
        assert!(matches!(
            to_gcp_labels(&sneaky),
            Err(TagError::LabelCollision { .. })
        ));
        let many: Tags = (0..65).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(
            to_gcp_labels(&many),
            Err(TagError::TooManyLabels { count: 65 })
        );
    }
}
