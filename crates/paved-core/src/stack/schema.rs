//! Schema pieces shared by the resources: the `timeouts` block and the
//! per-profile default text.

use crate::profiles::{self, Defaults};
use paved_value::Type;

use crate::schema::{AttrDefault, Attribute, Block, NestedBlock};
use paved_value::Value;

/// "from the profile: production `3`, staging `3`, development `2`": the default
/// of an attribute that each profile sets, as `value` renders it.
pub fn from_profile(value: impl Fn(&Defaults) -> String) -> String {
    let parts: Vec<String> = profiles::ALL
        .iter()
        .map(|p| format!("{} `{}`", p.name(), value(p.defaults())))
        .collect();
    format!("from the profile: {}", parts.join(", "))
}

/// A default that each profile sets: one value per profile from the profiles table,
/// chosen by the resource's `profile` (the default profile when not set). The docs
/// say it as [`from_profile`] does; the reader takes the value.
pub fn profile_default(value: impl Fn(&Defaults) -> Value) -> AttrDefault {
    AttrDefault::ByWord {
        attribute: "profile".to_string(),
        fallback: profiles::DEFAULT_PROFILE.name().to_string(),
        values: profiles::ALL
            .iter()
            .map(|p| (p.name().to_string(), value(p.defaults())))
            .collect(),
    }
}

/// A list of strings as a value (for list defaults).
pub fn string_list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::from(*s)).collect())
}

/// The computed `tags_all`: every user tag the stack's components carry.
pub fn tags_all_attribute() -> Attribute {
    Attribute::map("tags_all", Type::String).computed().description(
        "Every tag paved puts on the stack's components: the provider's `default_tags` under this resource's \
         `tags` (paved's own `paved:*` tags aside). A change of either retags every component in place. Refresh \
         reads the components' tags back, so a tag changed or removed by hand shows here and the next apply \
         puts it back.",
    )
}

/// The default and description of one operation's timeout.
pub struct TimeoutDoc<'a> {
    /// The default duration, such as `"45m"`.
    pub default: &'a str,
    /// The attribute's description.
    pub description: &'a str,
}

/// The `timeouts` block with its `create`, `update` and `delete` attributes.
pub fn timeouts_block(
    create_default: &str,
    update: TimeoutDoc<'_>,
    delete: TimeoutDoc<'_>,
) -> NestedBlock {
    NestedBlock::single(
        "timeouts",
        Block::new("How long each operation may take before it stops (keeping what it created) and reports an error.")
            .attribute(
                Attribute::string("create")
                    .optional()
                    .description("Create timeout, such as `\"45m\"` or `\"1h30m\"`.")
                    .default_value(create_default),
            )
            .attribute(
                Attribute::string("update")
                    .optional()
                    .description(update.description)
                    .default_value(update.default),
            )
            .attribute(
                Attribute::string("delete")
                    .optional()
                    .description(delete.description)
                    .default_value(delete.default),
            ),
    )
}
