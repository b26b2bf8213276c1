//! The inventory every stack resource shows: the components a spec stands for (by
//! key, kind and zone, predicted at plan and filled with ids at apply), and the
//! report of how well the stack survives the loss of a zone.

use paved_value::Value;

use super::knowable::Knowable;

/// One component of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Stable key within the stack (`subnet.private.0`, `node_group.system`); the
    /// backend tags the component with it.
    pub key: String,
    /// What it is (an adapter's inventory kind).
    pub kind: &'static str,
    /// The zone it lives in; `None` for regional components.
    pub zone: Knowable<Option<String>>,
    /// The settings the component's identity depends on: when they differ from the
    /// prior plan's, the cloud makes a new component (a new id).
    pub identity: Knowable<String>,
}

impl Component {
    /// A component of the whole region (no zone).
    pub fn regional(
        key: impl Into<String>,
        kind: &'static str,
        identity: Knowable<String>,
    ) -> Self {
        Component {
            key: key.into(),
            kind,
            zone: Knowable::Known(None),
            identity,
        }
    }
}

/// The inventory as the schema's list of `{key, kind, zone, id}` objects, with ids
/// from `id`.
pub fn inventory_value(components: &[Component], id: impl Fn(&Component) -> Value) -> Value {
    Value::List(
        components
            .iter()
            .map(|c| {
                let zone = match &c.zone {
                    Knowable::Known(z) => Value::from(z.clone()),
                    Knowable::Unknown => Value::unknown(),
                };
                Value::Object(
                    [
                        ("key".to_string(), Value::from(c.key.as_str())),
                        ("kind".to_string(), Value::from(c.kind)),
                        ("zone".to_string(), zone),
                        ("id".to_string(), id(c)),
                    ]
                    .into_iter()
                    .collect(),
                )
            })
            .collect(),
    )
}

/// How well the stack survives the loss of a zone, judged at plan time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaReport {
    /// Zones the stack spreads over.
    pub zones_used: Knowable<u32>,
    /// Two zones or more, a NAT gateway per zone (or none to lose), and every pool
    /// keeping at least one node per zone.
    pub survives_zone_loss: Knowable<bool>,
    /// What the judgement rests on, in plain words.
    pub findings: Knowable<Vec<String>>,
}

impl HaReport {
    /// The report as the schema's `ha_report` object.
    pub fn to_value(&self) -> Value {
        let zones_used = match self.zones_used {
            Knowable::Known(n) => Value::from(i64::from(n)),
            Knowable::Unknown => Value::unknown(),
        };
        let survives = match self.survives_zone_loss {
            Knowable::Known(b) => Value::from(b),
            Knowable::Unknown => Value::unknown(),
        };
        let findings = match &self.findings {
            Knowable::Known(f) => Value::List(f.iter().map(|s| Value::from(s.as_str())).collect()),
            Knowable::Unknown => Value::unknown(),
        };
        Value::Object(
            [
                ("zones_used".to_string(), zones_used),
                ("survives_zone_loss".to_string(), survives),
                ("findings".to_string(), findings),
            ]
            .into_iter()
            .collect(),
        )
    }
}
