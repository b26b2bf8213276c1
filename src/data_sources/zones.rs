//! `paved_zones`: the zones a stack of a given profile would use in a region.
//!
//! Reads the cloud's zones with one call, keeps regular zones that need no opt-in and
//! are available, and picks the first N by name, so the choice is the same on every
//! run. N comes from `zone_count`, else from the profile.

use async_trait::async_trait;
use paved_value::{Path, Type, Value};

use crate::diag::Diagnostics;
use crate::framework::{DataSource, OpContext};
use crate::ports::zones::{usable_zones, Zone};
use crate::profiles::{self, Profile};
use crate::schema::{Attribute, Block, Schema};
use crate::validate;

/// The most zones any region offers today, with room to spare.
pub const MAX_ZONES: i64 = 16;

/// The `paved_zones` data source.
pub struct ZonesDataSource;

#[async_trait]
impl DataSource for ZonesDataSource {
    fn type_name(&self) -> &'static str {
        "paved_zones"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "The availability zones a paved stack uses in a region: regular zones that \
                 need no opt-in (local and wavelength zones are ignored), chosen by name so \
                 that every run picks the same ones. The number of zones comes from the \
                 profile (production and staging 3, development 2) unless `zone_count` \
                 says otherwise.",
            )
            .attribute(
                Attribute::string("region")
                    .optional_computed()
                    .description("The region to list zones in.")
                    .default_doc("the provider's region"),
            )
            .attribute(
                Attribute::string("profile")
                    .optional_computed()
                    .description(format!(
                        "The profile whose zone count applies: {}.",
                        profiles::allowed_names()
                    ))
                    .default_doc(format!("`{}`", profiles::DEFAULT_PROFILE.name())),
            )
            .attribute(
                Attribute::number("zone_count")
                    .optional_computed()
                    .description(format!(
                        "How many zones to choose, overriding the profile (1 to {MAX_ZONES})."
                    ))
                    .default_doc("from the profile"),
            )
            .attribute(
                Attribute::list("names", Type::String)
                    .computed()
                    .description("The chosen zones' names, sorted (`eu-west-1a`, ...)."),
            )
            .attribute(Attribute::list("ids", Type::String).computed().description(
                "The chosen zones' ids (`euw1-az1`, ...), in the order of `names`. \
                         Ids name the same physical zone in every account; names do not.",
            )),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if let Some(region) = config.get_attr("region").and_then(Value::as_str) {
            validate::region(region, Path::root().attr("region"), &mut diags);
        }
        if let Some(name) = config.get_attr("profile").and_then(Value::as_str) {
            validate::profile(name, Path::root().attr("profile"), &mut diags);
        }
        if let Some(v) = config.get_attr("zone_count") {
            validate::whole_number_in(v, 1, MAX_ZONES, Path::root().attr("zone_count"), &mut diags);
        }
        diags
    }

    async fn read(
        &self,
        ctx: &OpContext,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let profile = config
            .get_attr("profile")
            .and_then(Value::as_str)
            .and_then(Profile::parse)
            .unwrap_or(profiles::DEFAULT_PROFILE);
        let wanted = match config.get_attr("zone_count").and_then(Value::as_i64) {
            Some(n) => usize::try_from(n).unwrap_or(0),
            None => profile.defaults().zones as usize,
        };
        let region = match config.get_attr("region").and_then(Value::as_str) {
            Some(r) => r.to_string(),
            None => match crate::ports::cloud(ctx).and_then(|c| c.default_region()) {
                Ok(r) => r,
                Err(e) => {
                    diags.attribute_error(Path::root().attr("region"), "No region", e.to_string());
                    return None;
                }
            },
        };
        let source = match crate::ports::cloud(ctx).and_then(|c| c.zones()) {
            Ok(s) => s,
            Err(e) => {
                diags.error("Cannot list zones", e.to_string());
                return None;
            }
        };
        let listed = tokio::select! {
            r = source.list_zones(&region) => r,
            () = ctx.cancel.cancelled() => {
                diags.error("Cancelled", "Terraform asked the provider to stop while listing zones.");
                return None;
            }
        };
        let zones = match listed {
            Ok(z) => z,
            Err(e) => {
                diags.error(
                    format!("Could not list the zones of {region}"),
                    e.to_string(),
                );
                return None;
            }
        };
        let usable = usable_zones(zones);
        if usable.len() < wanted {
            let names: Vec<&str> = usable.iter().map(|z| z.name.as_str()).collect();
            let path = if config.get_attr("zone_count").is_some_and(|v| !v.is_null()) {
                Path::root().attr("zone_count")
            } else {
                Path::root().attr("profile")
            };
            diags.attribute_error(
                path,
                "Not enough zones in the region",
                format!(
                    "{region} has {} usable availability zone(s) ({}), but {wanted} are asked for. \
                     Lower zone_count, choose a profile with fewer zones, or choose another region.",
                    usable.len(),
                    if names.is_empty() { "none".to_string() } else { names.join(", ") },
                ),
            );
            return None;
        }
        let chosen = &usable[..wanted];
        let strings =
            |f: fn(&Zone) -> &str| Value::List(chosen.iter().map(|z| Value::from(f(z))).collect());
        Some(Value::Object(
            [
                ("region".to_string(), Value::from(region.as_str())),
                ("profile".to_string(), Value::from(profile.name())),
                ("zone_count".to_string(), Value::from(wanted as i64)),
                ("names".to_string(), strings(|z| z.name.as_str())),
                ("ids".to_string(), strings(|z| z.id.as_str())),
            ]
            .into_iter()
            .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, standard: bool, opt_in: bool, available: bool) -> Zone {
        Zone {
            name: name.into(),
            id: format!("id-{name}"),
            standard,
            opt_in_required: opt_in,
            available,
        }
    }

    #[test]
    fn keeps_regular_zones_sorted() {
        let zones = vec![
            zone("us-west-2c", true, false, true),
            zone("us-west-2-lax-1a", false, true, true),
            zone("us-west-2a", true, false, true),
            zone("us-west-2d", true, false, false),
            zone("us-west-2b", true, false, true),
        ];
        let names: Vec<String> = usable_zones(zones).into_iter().map(|z| z.name).collect();
        assert_eq!(names, ["us-west-2a", "us-west-2b", "us-west-2c"]);
    }

    #[test]
    fn validation_names_the_attribute() {
        let config = Value::Object(
            [
                ("region".to_string(), Value::from("Europe West")),
                ("profile".to_string(), Value::from("prod")),
                ("zone_count".to_string(), Value::from(0i64)),
                ("names".to_string(), Value::Null),
                ("ids".to_string(), Value::Null),
            ]
            .into_iter()
            .collect(),
        );
        let diags = ZonesDataSource.validate(&config);
        let paths: Vec<String> = diags
            .iter()
            .filter_map(|d| d.path.as_ref().map(|p| p.to_string()))
            .collect();
        assert_eq!(paths, ["region", "profile", "zone_count"]);
        assert!(diags.has_errors());
    }

    mod read {
        use super::*;
        use crate::ports::testing::{FixedCloud, ScriptedZones, ZoneScript};

        fn config(pairs: Vec<(&str, Value)>) -> Value {
            let mut all: std::collections::BTreeMap<String, Value> =
                ["region", "profile", "zone_count", "names", "ids"]
                    .iter()
                    .map(|n| (n.to_string(), Value::Null))
                    .collect();
            for (k, v) in pairs {
                all.insert(k.to_string(), v);
            }
            Value::Object(all)
        }

        fn four() -> Vec<Zone> {
            vec![
                zone("eu-west-1c", true, false, true),
                zone("eu-west-1a", true, false, true),
                zone("eu-west-1-lhr-1a", false, true, true),
                zone("eu-west-1b", true, false, true),
            ]
        }

        async fn read(cloud: FixedCloud, config: Value) -> (Option<Value>, Diagnostics) {
            let ctx = cloud.context();
            let mut diags = Diagnostics::new();
            let out = ZonesDataSource.read(&ctx, &config, &mut diags).await;
            (out, diags)
        }

        #[tokio::test]
        async fn picks_the_profiles_count_in_the_default_region_first_by_name() {
            let zones = ScriptedZones::new(ZoneScript::Answer(four()));
            let cloud = FixedCloud::new("eu-west-1").with_zones(zones.clone());
            let (out, diags) = read(cloud, config(vec![("profile", "development".into())])).await;
            assert!(diags.is_empty());
            let out = out.unwrap();
            assert_eq!(
                out.get_attr("names"),
                Some(&Value::List(vec!["eu-west-1a".into(), "eu-west-1b".into()]))
            );
            assert_eq!(out.get_attr("zone_count"), Some(&Value::from(2i64)));
            assert_eq!(zones.calls(), ["eu-west-1"]);
        }

        #[tokio::test]
        async fn too_few_zones_names_the_attribute_that_asked() {
            let short = FixedCloud::new("eu-west-1")
                .with_zones(ScriptedZones::new(ZoneScript::Answer(four())));
            let (out, diags) = read(short, config(vec![("zone_count", Value::from(4i64))])).await;
            assert!(out.is_none());
            let d = diags.iter().next().unwrap();
            assert_eq!(
                d.path.as_ref().map(|p| p.to_string()).as_deref(),
                Some("zone_count")
            );
            assert!(
                d.detail.contains("eu-west-1a, eu-west-1b, eu-west-1c"),
                "{}",
                d.detail
            );
        }

        #[tokio::test]
        async fn a_failed_listing_says_which_region_and_why() {
            let failing = FixedCloud::new("eu-west-1").with_zones(ScriptedZones::new(
                ZoneScript::Fail("AccessDenied: not allowed".into()),
            ));
            let (out, diags) = read(failing, config(vec![("region", "eu-north-1".into())])).await;
            assert!(out.is_none());
            let d = diags.iter().next().unwrap();
            assert_eq!(d.summary, "Could not list the zones of eu-north-1");
            assert!(d.detail.contains("AccessDenied"), "{}", d.detail);
        }

        #[tokio::test]
        async fn stop_provider_ends_a_listing_that_hangs() {
            let cloud =
                FixedCloud::new("eu-west-1").with_zones(ScriptedZones::new(ZoneScript::Hang));
            let ctx = cloud.context();
            ctx.cancel.cancel();
            let mut diags = Diagnostics::new();
            let out = ZonesDataSource
                .read(&ctx, &config(vec![]), &mut diags)
                .await;
            assert!(out.is_none());
            assert_eq!(diags.iter().next().unwrap().summary, "Cancelled");
        }
    }
}
