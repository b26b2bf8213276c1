//! The effective configuration of a `paved_network`: [`NetworkConfig`].
//!
//! [`NetworkConfig::from_config`] fills every attribute left out from its declared
//! default ([`crate::stack::effective`]) and reads the typed settings from the
//! result. With `zones` listed, `zone_count` is their number, whatever the profile.

use std::collections::BTreeMap;

use paved_value::{Path, Value};

use super::schema::declared;
use crate::diag::Diagnostics;
use crate::ports::network::NatLayout;
use crate::profiles::Profile;
use crate::stack::effective::with_defaults;
use crate::stack::reader::{
    classify, optional_text, read_profile, read_timeouts, sub, Defaults as Declared, Reader, Slot,
};
use crate::stack::state::set_attr;
use crate::stack::tags::Tags;
use crate::stack::timeouts::TimeoutsSpec;
use crate::stack::Knowable;

/// The typed, effective configuration of a `paved_network`.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfig {
    /// The network's name.
    pub name: Knowable<String>,
    /// The profile.
    pub profile: Knowable<Profile>,
    /// The range.
    pub cidr: Knowable<String>,
    /// The zones, when listed (by the user, or kept from the state).
    pub zones: Knowable<Option<Vec<String>>>,
    /// How many zones.
    pub zone_count: Knowable<u32>,
    /// Whether the configuration wrote `zone_count` itself.
    pub zone_count_written: bool,
    /// The NAT layout.
    pub nat: Knowable<NatLayout>,
    /// Refuse destroy and replacement.
    pub deletion_protection: Knowable<bool>,
    /// The user's tags.
    pub tags: Knowable<Tags>,
    /// Timeouts.
    pub timeouts: TimeoutsSpec,
    /// Every attribute the user can write, with the defaults filled in: what the
    /// plan shows.
    pub effective: Value,
}

fn strings(v: &Value) -> Knowable<Option<Vec<String>>> {
    match classify(v) {
        Slot::Null => Knowable::Known(None),
        Slot::Unknown => Knowable::Unknown,
        Slot::Known(v) => v
            .as_list()
            .and_then(|items| {
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
            .map_or(Knowable::Unknown, |l| Knowable::Known(Some(l))),
    }
}

impl NetworkConfig {
    /// The configuration `config` stands for, with what is wrong with its words.
    pub fn from_config(config: &Value) -> (Self, Diagnostics) {
        let block = &declared().block;
        let mut r = Reader::default();
        let top = classify(config);
        let profile_word = optional_text(config.get_attr("profile"));
        let mut effective = with_defaults(&block.attributes, config, &profile_word);
        let declared = Declared::new(block, profile_word.clone());
        let profile = read_profile(&mut r, &profile_word);
        let nat_names: Vec<&str> = NatLayout::ALL.iter().map(|n| n.as_str()).collect();
        let nat = r
            .word(
                sub(top, "nat_mode"),
                Path::root().attr("nat_mode"),
                "NAT mode",
                NatLayout::parse,
                &nat_names,
            )
            .unwrap_or_else(|| {
                declared
                    .string(&["nat_mode"])
                    .and_then(|w| NatLayout::parse(&w))
            });
        let zones = strings(config.get_attr("zones").unwrap_or(&Value::Null));
        let zone_count_written = !matches!(sub(top, "zone_count"), Slot::Null);
        let written_count = r.count(sub(top, "zone_count"), Path::root().attr("zone_count"));
        let zone_count = match (&zones, written_count) {
            (_, Some(count)) => count,
            (Knowable::Known(Some(listed)), None) => {
                let n = u32::try_from(listed.len()).unwrap_or(u32::MAX);
                set_attr(&mut effective, "zone_count", Value::from(i64::from(n)));
                Knowable::Known(n)
            }
            (Knowable::Unknown, None) => {
                set_attr(&mut effective, "zone_count", Value::unknown());
                Knowable::Unknown
            }
            (Knowable::Known(None), None) => declared.count(&["zone_count"]),
        };
        let name = r
            .string(sub(top, "name"))
            .unwrap_or(Knowable::Known(String::new()));
        let cidr = r
            .string(sub(top, "cidr"))
            .unwrap_or_else(|| declared.string(&["cidr"]));
        let deletion_protection = r
            .bool(sub(top, "deletion_protection"))
            .unwrap_or_else(|| declared.bool(&["deletion_protection"]));
        let tags = r
            .string_map(sub(top, "tags"))
            .unwrap_or(Knowable::Known(BTreeMap::new()));
        let timeouts = read_timeouts(&mut r, top, &declared);
        let spec = NetworkConfig {
            name,
            profile,
            cidr,
            zones,
            zone_count,
            zone_count_written,
            nat,
            deletion_protection,
            tags,
            timeouts,
            effective,
        };
        (spec, r.diags)
    }

    /// The configuration a state stands for (every attribute the user can write is
    /// in the state with its effective value).
    pub fn from_state(state: &Value) -> Self {
        Self::from_config(state).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    #[test]
    fn defaults_come_from_the_profile() {
        let (spec, diags) = NetworkConfig::from_config(&obj(vec![
            ("name", "shop".into()),
            ("profile", "staging".into()),
        ]));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(spec.cidr, Knowable::Known("10.0.0.0/16".to_owned()));
        assert_eq!(
            spec.zone_count,
            Knowable::Known(Profile::Staging.defaults().zones)
        );
        assert_eq!(
            spec.nat,
            Knowable::Known(NatLayout::from(Profile::Staging.defaults().nat))
        );
        assert_eq!(spec.zones, Knowable::Known(None));
    }

    #[test]
    fn listed_zones_decide_the_count() {
        let zones = Value::List(vec!["eu-west-1a".into(), "eu-west-1b".into()]);
        let (spec, _) =
            NetworkConfig::from_config(&obj(vec![("name", "shop".into()), ("zones", zones)]));
        assert_eq!(spec.zone_count, Knowable::Known(2));
        assert_eq!(
            spec.effective
                .get_attr("zone_count")
                .and_then(Value::as_i64),
            Some(2)
        );
    }

    #[test]
    fn an_unknown_nat_mode_is_reported() {
        let (_, diags) = NetworkConfig::from_config(&obj(vec![
            ("name", "shop".into()),
            ("nat_mode", "lots".into()),
        ]));
        assert!(diags.has_errors());
    }
}
