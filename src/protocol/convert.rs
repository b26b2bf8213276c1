//! Conversions between the framework's types and the protocol's messages: schemas,
//! diagnostics, attribute paths and dynamic values.

use paved_value::{json, msgpack, Path, PathStep, Type, Value};

use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::proto::tfplugin6 as pb;
use crate::schema::{Attribute, AttributeKind, Block, NestedBlock, Nesting, Presence, Schema};

/// A schema as the protocol describes it. Descriptions are markdown.
pub fn schema(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block(&s.block, s.version)),
    }
}

fn block(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: b.blocks.iter().map(nested_block).collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: b.deprecated.is_some(),
        deprecation_message: b.deprecated.clone().unwrap_or_default(),
    }
}

fn attribute(a: &Attribute) -> pb::schema::Attribute {
    let (ty, nested_type) = match &a.kind {
        AttributeKind::Plain(t) => (t.to_json_bytes(), None),
        AttributeKind::Nested {
            nesting,
            attributes,
        } => (
            Vec::new(),
            Some(pb::schema::Object {
                attributes: attributes.iter().map(attribute).collect(),
                nesting: object_nesting(*nesting) as i32,
                ..Default::default()
            }),
        ),
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type,
        description: a.description.clone(),
        required: a.presence == Presence::Required,
        optional: matches!(a.presence, Presence::Optional | Presence::OptionalComputed),
        computed: a.presence.is_computed(),
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: a.deprecated.is_some(),
        write_only: false,
        deprecation_message: a.deprecated.clone().unwrap_or_default(),
    }
}

fn object_nesting(n: Nesting) -> pb::schema::object::NestingMode {
    use pb::schema::object::NestingMode as M;
    match n {
        Nesting::Single | Nesting::Group => M::Single,
        Nesting::List => M::List,
        Nesting::Set => M::Set,
        Nesting::Map => M::Map,
    }
}

fn nested_block(b: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode as M;
    pb::schema::NestedBlock {
        type_name: b.type_name.clone(),
        block: Some(block(&b.block, 0)),
        nesting: match b.nesting {
            Nesting::Single => M::Single,
            Nesting::Group => M::Group,
            Nesting::List => M::List,
            Nesting::Set => M::Set,
            Nesting::Map => M::Map,
        } as i32,
        min_items: b.min_items,
        max_items: b.max_items,
    }
}

/// An attribute path as the protocol describes it.
pub fn path(p: &Path) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attribute(n) => Selector::AttributeName(n.clone()),
                    PathStep::ElementKeyString(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::ElementKeyInt(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

/// A path from the protocol (e.g. in tests acting as Terraform).
pub fn path_from(p: &pb::AttributePath) -> Path {
    use pb::attribute_path::step::Selector;
    Path(
        p.steps
            .iter()
            .filter_map(|s| {
                Some(match s.selector.as_ref()? {
                    Selector::AttributeName(n) => PathStep::Attribute(n.clone()),
                    Selector::ElementKeyString(k) => PathStep::ElementKeyString(k.clone()),
                    Selector::ElementKeyInt(i) => PathStep::ElementKeyInt(*i),
                })
            })
            .collect(),
    )
}

/// Diagnostics as the protocol describes them.
pub fn diagnostics(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.iter().map(diagnostic).collect()
}

fn diagnostic(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.path.as_ref().map(path),
    }
}

/// Decodes a value Terraform sent: msgpack when present, JSON otherwise; an absent
/// value is null.
pub fn decode(v: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
    let result = match v {
        None => return Ok(Value::Null),
        Some(dv) if !dv.msgpack.is_empty() => {
            msgpack::decode(&dv.msgpack, ty).map_err(|e| e.to_string())
        }
        Some(dv) if !dv.json.is_empty() => json::decode(&dv.json, ty).map_err(|e| e.to_string()),
        Some(_) => return Ok(Value::Null),
    };
    result.map_err(|e| {
        Diagnostic::error(
            format!("Invalid {what} from Terraform"),
            format!("paved could not decode the {what}: {e}. This is a bug in paved or a Terraform version it does not support; please report it."),
        )
        .into()
    })
}

/// Encodes a value for Terraform (always msgpack).
pub fn encode(v: &Value, ty: &Type, what: &str) -> Result<pb::DynamicValue, Diagnostics> {
    msgpack::encode(v, ty)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(
                format!("Invalid {what} produced by paved"),
                format!("paved produced a {what} that does not match its schema: {e}. This is a bug in paved; please report it."),
            )
            .into()
        })
}
