//! The schema model: what a provider, resource or data source accepts and returns.
//!
//! One schema drives everything: the protocol's GetProviderSchema answer, decoding of
//! values (its implied type), validation of presence, and the generated docs. Each
//! attribute is declared once with its behaviour (required, optional, computed,
//! sensitive, deprecated) and a markdown description.

mod builder;
pub mod declared;

pub use declared::{AttrDefault, Check};

use paved_value::{ObjectType, Type};

/// A versioned schema for a provider, resource or data source.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Bumped when the state layout changes; state of an older version is upgraded.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

impl Schema {
    /// A version-0 schema with the given block.
    pub fn new(block: Block) -> Self {
        Self { version: 0, block }
    }

    /// The type of a whole value of this schema (an object).
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

/// A block: attributes and nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Markdown description of the block.
    pub description: String,
    /// The block's attributes, in declaration order.
    pub attributes: Vec<Attribute>,
    /// The nested block types.
    pub blocks: Vec<NestedBlock>,
    /// Deprecation message; `None` when not deprecated.
    pub deprecated: Option<String>,
}

impl Block {
    /// The object type implied by the block: one attribute per attribute and per
    /// nested block type.
    pub fn value_type(&self) -> Type {
        let mut attrs: Vec<(String, Type)> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect();
        attrs.extend(
            self.blocks
                .iter()
                .map(|b| (b.type_name.clone(), b.value_type())),
        );
        Type::object(attrs)
    }

    /// The paths of the attributes whose change replaces the resource, nested
    /// single objects included (`network.cidr`).
    pub fn replacing_paths(&self) -> Vec<paved_value::Path> {
        fn walk(attrs: &[Attribute], at: &paved_value::Path, out: &mut Vec<paved_value::Path>) {
            for a in attrs {
                let here = at.clone().attr(&a.name);
                if a.requires_replace {
                    out.push(here.clone());
                }
                if let AttributeKind::Nested {
                    nesting: Nesting::Single,
                    attributes,
                } = &a.kind
                {
                    walk(attributes, &here, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.attributes, &paved_value::Path::root(), &mut out);
        out
    }

    /// Finds an attribute by name.
    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Finds a nested block type by name.
    pub fn find_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }
}

/// Whether the user must, may or cannot set an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The user must set it.
    Required,
    /// The user may set it; it stays null when not set.
    Optional,
    /// The user may set it; the provider fills in the effective value when not set.
    OptionalComputed,
    /// Only the provider sets it.
    Computed,
}

impl Presence {
    /// Whether the provider may set the value.
    pub fn is_computed(self) -> bool {
        matches!(self, Presence::Computed | Presence::OptionalComputed)
    }
}

/// How nested attributes or blocks repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one, as an object.
    Single,
    /// Exactly one (an object that is never null; for blocks: all-default when absent).
    Group,
    /// An ordered list of objects.
    List,
    /// An unordered set of objects.
    Set,
    /// A map of objects keyed by a string (a label for blocks).
    Map,
}

impl Nesting {
    /// Wraps an object type in the collection this nesting implies.
    pub fn wrap(self, object: Type) -> Type {
        match self {
            Nesting::Single | Nesting::Group => object,
            Nesting::List => Type::list(object),
            Nesting::Set => Type::set(object),
            Nesting::Map => Type::map(object),
        }
    }
}

/// What an attribute holds.
#[derive(Debug, Clone)]
pub enum AttributeKind {
    /// A value of a plain type (string, number, list(string)...).
    Plain(Type),
    /// Nested attributes (an object, or a collection of objects).
    Nested {
        /// How the nested objects repeat.
        nesting: Nesting,
        /// The nested objects' attributes.
        attributes: Vec<Attribute>,
    },
}

/// One attribute.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// The attribute's name in HCL.
    pub name: String,
    /// What it holds.
    pub kind: AttributeKind,
    /// Required, optional or computed.
    pub presence: Presence,
    /// Markdown description.
    pub description: String,
    /// Hidden in plan output and logs.
    pub sensitive: bool,
    /// Deprecation message; `None` when not deprecated.
    pub deprecated: Option<String>,
    /// The default when not set: a value, one per profile, or a text saying how
    /// the resource works it out. The docs and the resource's reader both read it.
    pub default: Option<AttrDefault>,
    /// Checks a set value must pass (see [`declared::check_block`]).
    pub checks: Vec<Check>,
    /// A change of it replaces the resource (declared with
    /// [`Attribute::requires_replace`]; see [`Block::replacing_paths`]).
    pub requires_replace: bool,
    /// Plan modifier: when the plan leaves it unknown on an update, the prior
    /// state's value is kept (see [`declared::keep_prior_values`]).
    pub keep_prior: bool,
}

impl Attribute {
    /// The default in words, for the docs.
    pub fn default_text(&self) -> Option<String> {
        self.default.as_ref().map(AttrDefault::doc)
    }

    /// The attribute's value type.
    pub fn value_type(&self) -> Type {
        match &self.kind {
            AttributeKind::Plain(t) => t.clone(),
            AttributeKind::Nested {
                nesting,
                attributes,
            } => nesting.wrap(nested_object_type(attributes)),
        }
    }
}

/// The object type of nested attributes. Optional nested attributes are marked
/// optional in the type, as Terraform expects for nested attribute objects.
pub fn nested_object_type(attributes: &[Attribute]) -> Type {
    let mut obj = ObjectType {
        attributes: attributes
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect(),
        optional: Default::default(),
    };
    obj.optional = attributes
        .iter()
        .filter(|a| a.presence != Presence::Required && a.presence != Presence::Computed)
        .map(|a| a.name.clone())
        .collect();
    Type::Object(obj)
}

/// A nested block type.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    /// The block's name in HCL (`timeouts`, `aws`...).
    pub type_name: String,
    /// The block's content.
    pub block: Block,
    /// How the block repeats.
    pub nesting: Nesting,
    /// Fewest blocks (0 = optional).
    pub min_items: i64,
    /// Most blocks (0 = no limit).
    pub max_items: i64,
}

impl NestedBlock {
    /// The block's value type.
    pub fn value_type(&self) -> Type {
        self.nesting.wrap(self.block.value_type())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_type_covers_attributes_and_blocks() {
        let schema = Schema::new(
            Block::new("x")
                .attribute(Attribute::string("name").required())
                .attribute(Attribute::list("names", Type::String).computed())
                .block(NestedBlock::single(
                    "aws",
                    Block::new("aws").attribute(Attribute::string("region").optional()),
                )),
        );
        let ty = schema.value_type();
        let Type::Object(obj) = ty else {
            panic!("object expected")
        };
        assert_eq!(obj.attributes.len(), 3);
        assert_eq!(obj.attributes["names"], Type::list(Type::String));
        assert!(matches!(obj.attributes["aws"], Type::Object(_)));
    }
}
