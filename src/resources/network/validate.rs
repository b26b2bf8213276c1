//! Checks of a `paved_network` configuration before any call: the name, the range
//! against the zone count, the zones, and a warning for a production network
//! without a NAT gateway per zone.

use paved_value::Path;

use super::config::NetworkConfig;
use super::schema::MAX_NAME_LEN;
use crate::diag::Diagnostics;
use crate::ports::network::cidr_problem;
use crate::profiles::Profile;
use crate::stack::validate::check_timeouts;
use crate::stack::Knowable;

/// What is wrong with a network name, if anything.
pub fn name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if name.is_empty() || name.len() > MAX_NAME_LEN || !first_ok || !rest_ok {
        return Some(format!(
            "\"{name}\" is not a valid network name. Use 1 to {MAX_NAME_LEN} letters, digits, hyphens and \
             underscores, starting with a letter or digit, such as \"shop-prod\"."
        ));
    }
    None
}

/// Every problem of `cfg` that needs no cloud: errors, and warnings the plan shows.
pub fn check(cfg: &NetworkConfig) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Knowable::Known(name) = &cfg.name {
        if let Some(problem) = name_problem(name) {
            d.attribute_error(Path::root().attr("name"), "Invalid network name", problem);
        }
    }
    if let Knowable::Known(cidr) = &cfg.cidr {
        if let Some((summary, detail)) = cidr_problem(cidr, cfg.zone_count.known().copied()) {
            d.attribute_error(Path::root().attr("cidr"), summary, detail);
        }
    }
    if let Knowable::Known(Some(zones)) = &cfg.zones {
        if zones.is_empty() {
            d.attribute_error(
                Path::root().attr("zones"),
                "No zones listed",
                "zones is empty. List at least one zone (three for production), or remove zones to let paved pick them.",
            );
        }
        for (i, zone) in zones.iter().enumerate() {
            if zones[..i].contains(zone) {
                d.attribute_error(
                    Path::root()
                        .attr("zones")
                        .index(i64::try_from(i).unwrap_or(i64::MAX)),
                    "Zone listed twice",
                    format!("\"{zone}\" appears more than once. List each zone once."),
                );
            }
        }
        if cfg.zone_count_written {
            if let Knowable::Known(count) = cfg.zone_count {
                if count as usize != zones.len() {
                    d.attribute_error(
                        Path::root().attr("zone_count"),
                        "zone_count disagrees with zones",
                        format!(
                            "zones lists {} zone(s) but zone_count is {count}. Remove zone_count: the list decides.",
                            zones.len()
                        ),
                    );
                }
            }
        }
    }
    if cfg.profile == Knowable::Known(Profile::Production) {
        if let Some(detail) = cfg.nat.known().and_then(|n| n.production_risk()) {
            d.attribute_warning(
                Path::root().attr("nat_mode"),
                "Production network without a NAT gateway per zone",
                detail,
            );
        }
        if cfg.zone_count.known().is_some_and(|n| *n < 3) {
            d.attribute_warning(
                Path::root().attr("zone_count"),
                "Fewer than three zones in production",
                "A production cluster spreads over three zones; a network with fewer limits every cluster and \
                 database in it. Use three zones unless the region has fewer.",
            );
        }
    }
    check_timeouts(&cfg.timeouts, &mut d);
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use paved_value::Value;

    fn diags(pairs: Vec<(&str, Value)>) -> Diagnostics {
        let config = Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
        let (cfg, mut d) = NetworkConfig::from_config(&config);
        d.extend(check(&cfg));
        d
    }

    fn error_at(d: &Diagnostics, attr: &str, words: &str) {
        let found = d.0.iter().any(|x| {
            x.path.as_ref().is_some_and(|p| p.to_string() == attr)
                && format!("{} {}", x.summary, x.detail).contains(words)
        });
        assert!(found, "no diagnostic at {attr} saying {words:?}: {d:#?}");
    }

    #[test]
    fn a_good_configuration_passes() {
        let d = diags(vec![("name", "shop".into())]);
        assert!(!d.has_errors(), "{d:#?}");
    }

    #[test]
    fn bad_input_names_the_attribute() {
        error_at(
            &diags(vec![("name", "-bad".into())]),
            "name",
            "not a valid network name",
        );
        error_at(
            &diags(vec![
                ("name", "shop".into()),
                ("cidr", "10.0.0.1/16".into()),
            ]),
            "cidr",
            "did you mean 10.0.0.0/16",
        );
        error_at(
            &diags(vec![
                ("name", "shop".into()),
                ("cidr", "10.0.0.0/24".into()),
            ]),
            "cidr",
            "cannot hold its subnets",
        );
        let twice = Value::List(vec!["eu-west-1a".into(), "eu-west-1a".into()]);
        error_at(
            &diags(vec![("name", "shop".into()), ("zones", twice)]),
            "zones[1]",
            "more than once",
        );
        let two = Value::List(vec!["eu-west-1a".into(), "eu-west-1b".into()]);
        error_at(
            &diags(vec![
                ("name", "shop".into()),
                ("zones", two),
                ("zone_count", Value::from(3_i64)),
            ]),
            "zone_count",
            "Remove zone_count",
        );
        error_at(
            &diags(vec![("name", "shop".into()), ("nat_mode", "many".into())]),
            "nat_mode",
            "Use one of",
        );
        error_at(
            &diags(vec![
                ("name", "shop".into()),
                (
                    "timeouts",
                    Value::Object([("create".to_owned(), "soon".into())].into()),
                ),
            ]),
            "timeouts.create",
            "not a duration",
        );
    }

    #[test]
    fn production_warns_about_a_single_nat_gateway() {
        let d = diags(vec![("name", "shop".into()), ("nat_mode", "single".into())]);
        assert!(!d.has_errors(), "{d:#?}");
        error_at(&d, "nat_mode", "per_zone");
    }
}
