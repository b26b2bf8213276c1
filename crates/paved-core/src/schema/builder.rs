//! Small builders so schemas read like a table of attributes.

use paved_value::{Type, Value};

use super::{AttrDefault, Attribute, AttributeKind, Block, Check, NestedBlock, Nesting, Presence};

impl Block {
    /// An empty block with a markdown description.
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            ..Self::default()
        }
    }

    /// Adds an attribute.
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Adds attributes, in order.
    pub fn attributes(mut self, attributes: impl IntoIterator<Item = Attribute>) -> Self {
        self.attributes.extend(attributes);
        self
    }

    /// Adds a nested block type.
    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }
}

impl Attribute {
    /// An optional attribute of any plain type.
    pub fn of(name: &str, ty: Type) -> Self {
        Self {
            name: name.to_string(),
            kind: AttributeKind::Plain(ty),
            presence: Presence::Optional,
            description: String::new(),
            sensitive: false,
            deprecated: None,
            default: None,
            checks: Vec::new(),
            requires_replace: false,
            keep_prior: false,
        }
    }

    /// A string attribute.
    pub fn string(name: &str) -> Self {
        Self::of(name, Type::String)
    }

    /// A number attribute.
    pub fn number(name: &str) -> Self {
        Self::of(name, Type::Number)
    }

    /// A bool attribute.
    pub fn bool(name: &str) -> Self {
        Self::of(name, Type::Bool)
    }

    /// A list attribute.
    pub fn list(name: &str, element: Type) -> Self {
        Self::of(name, Type::list(element))
    }

    /// A map attribute.
    pub fn map(name: &str, element: Type) -> Self {
        Self::of(name, Type::map(element))
    }

    /// An attribute made of nested attributes.
    pub fn nested(name: &str, nesting: Nesting, attributes: Vec<Attribute>) -> Self {
        Self {
            kind: AttributeKind::Nested {
                nesting,
                attributes,
            },
            ..Self::of(name, Type::Dynamic)
        }
    }

    /// The user must set it.
    pub fn required(mut self) -> Self {
        self.presence = Presence::Required;
        self
    }

    /// The user may set it.
    pub fn optional(mut self) -> Self {
        self.presence = Presence::Optional;
        self
    }

    /// The user may set it; otherwise the provider shows the effective value.
    pub fn optional_computed(mut self) -> Self {
        self.presence = Presence::OptionalComputed;
        self
    }

    /// Only the provider sets it.
    pub fn computed(mut self) -> Self {
        self.presence = Presence::Computed;
        self
    }

    /// Hidden in plans and logs.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Markdown description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// A default the resource works out from other settings, as the docs should
    /// state it.
    pub fn default_doc(mut self, text: impl Into<String>) -> Self {
        self.default = Some(AttrDefault::Derived(text.into()));
        self
    }

    /// A default value (the docs show it; the resource's reader takes it).
    pub fn default_value(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(AttrDefault::Fixed(value.into()));
        self
    }

    /// A default declared in any form (one per profile: see
    /// `crate::stack::schema::profile_default`).
    pub fn default(mut self, default: AttrDefault) -> Self {
        self.default = Some(default);
        self
    }

    /// A check a set value must pass (validation runs it; the docs state it).
    pub fn check(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }

    /// Plan modifier: keep the prior state's value where an update leaves it
    /// unknown.
    pub fn keep_prior(mut self) -> Self {
        self.keep_prior = true;
        self
    }

    /// A change of the attribute replaces the resource (a plan modifier that the
    /// planning and the docs both read).
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// Marks the attribute deprecated with a message saying what to use instead.
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecated = Some(message.into());
        self
    }
}

impl NestedBlock {
    /// A block that may appear at most once.
    pub fn single(type_name: &str, block: Block) -> Self {
        Self {
            type_name: type_name.to_string(),
            block,
            nesting: Nesting::Single,
            min_items: 0,
            max_items: 0,
        }
    }

    /// A repeated block.
    pub fn list(type_name: &str, block: Block) -> Self {
        Self {
            nesting: Nesting::List,
            ..Self::single(type_name, block)
        }
    }
}
