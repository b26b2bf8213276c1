//! End-to-end: the `paved_zones` data source with real Terraform (1.15.5 and 1.0.3)
//! against moto.
//!
//! Contract checked here:
//! - arguments: `region` (optional string), `profile` (optional, default "production";
//!   production | staging | development -> 3 | 3 | 2 zones), `zone_count` (optional
//!   number, overrides the profile);
//! - results: `names` and `ids` (list(string)), `region` and `profile` echoed;
//! - asking for more zones than the region has fails at plan, naming `zone_count` and
//!   the number available; an unknown profile fails at `terraform validate`, naming
//!   `profile` and the allowed values.

use crate::support::{header, output_value, string_list, Moto, Terraform, Workspace};

/// The default data source and its outputs.
fn default_config() -> String {
    let header = header();
    format!(
        r#"{header}
data "paved_zones" "this" {{}}

output "names" {{ value = data.paved_zones.this.names }}
output "ids" {{ value = data.paved_zones.this.ids }}
output "region" {{ value = data.paved_zones.this.region }}
output "profile" {{ value = data.paved_zones.this.profile }}
"#
    )
}

/// Several variants in one configuration, so one apply checks them all.
fn variants_config() -> String {
    let header = header();
    format!(
        r#"{header}
data "paved_zones" "dev" {{
  profile = "development"
}}

data "paved_zones" "eu" {{
  region = "eu-west-1"
}}

data "paved_zones" "four" {{
  profile    = "development"
  zone_count = 4
}}

output "dev_names" {{ value = data.paved_zones.dev.names }}
output "dev_ids" {{ value = data.paved_zones.dev.ids }}
output "dev_profile" {{ value = data.paved_zones.dev.profile }}
output "eu_names" {{ value = data.paved_zones.eu.names }}
output "eu_ids" {{ value = data.paved_zones.eu.ids }}
output "eu_region" {{ value = data.paved_zones.eu.region }}
output "four_names" {{ value = data.paved_zones.four.names }}
"#
    )
}

fn too_many_zones_config() -> String {
    let header = header();
    format!(
        r#"{header}
data "paved_zones" "this" {{
  region     = "eu-west-1"
  zone_count = 7
}}
"#
    )
}

fn bad_profile_config() -> String {
    let header = header();
    format!(
        r#"{header}
data "paved_zones" "this" {{
  profile = "prod"
}}
"#
    )
}

fn strings(outputs: &serde_json::Value, name: &str) -> Vec<String> {
    string_list(output_value(outputs, name))
}

fn string(outputs: &serde_json::Value, name: &str) -> String {
    let v = output_value(outputs, name);
    v.as_str()
        .unwrap_or_else(|| panic!("output {name:?} should be a string, got {v}"))
        .to_string()
}

// Zone ids as moto 5.2.5 reports them, in zone-name order (us-east-1a is use1-az6):
// the ids must belong to the names at the same index.
const US_EAST_1_IDS: [&str; 6] = [
    "use1-az6", "use1-az1", "use1-az2", "use1-az4", "use1-az3", "use1-az5",
];
const EU_WEST_1_IDS: [&str; 3] = ["euw1-az3", "euw1-az1", "euw1-az2"];

/// True when `text` contains `word` as a whole token (so "3" does not match "us-east-13").
fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .any(|t| t == word)
}

fn zones_end_to_end(tf: Terraform) {
    let moto = Moto::start();
    let mut ws = Workspace::paved(tf, &moto);

    // 1. Defaults: production profile in the environment's region (us-east-1).
    ws.write_file("main.tf", &default_config());
    ws.init();
    ws.plan(&[]);
    ws.apply();
    ws.assert_no_changes();
    let out = ws.output_json();
    assert_eq!(
        strings(&out, "names"),
        ["us-east-1a", "us-east-1b", "us-east-1c"],
        "{tf}: default zones"
    );
    assert_eq!(
        strings(&out, "ids"),
        US_EAST_1_IDS[..3],
        "{tf}: default zone ids"
    );
    assert_eq!(
        string(&out, "region"),
        "us-east-1",
        "{tf}: region echo (from AWS_REGION)"
    );
    assert_eq!(
        string(&out, "profile"),
        "production",
        "{tf}: default profile echo"
    );

    // 2. Variants: development profile, another region, an explicit zone_count.
    ws.write_file("main.tf", &variants_config());
    ws.apply();
    let out = ws.output_json();
    assert_eq!(
        strings(&out, "dev_names"),
        ["us-east-1a", "us-east-1b"],
        "{tf}: development"
    );
    assert_eq!(
        strings(&out, "dev_ids"),
        US_EAST_1_IDS[..2],
        "{tf}: development zone ids"
    );
    assert_eq!(
        string(&out, "dev_profile"),
        "development",
        "{tf}: profile echo"
    );
    assert_eq!(
        strings(&out, "eu_names"),
        ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        "{tf}: region = eu-west-1"
    );
    assert_eq!(
        strings(&out, "eu_ids"),
        EU_WEST_1_IDS,
        "{tf}: eu-west-1 zone ids"
    );
    assert_eq!(string(&out, "eu_region"), "eu-west-1", "{tf}: region echo");
    assert_eq!(
        strings(&out, "four_names"),
        ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"],
        "{tf}: zone_count = 4 overrides the development profile"
    );

    // 3. More zones than eu-west-1 has (3): an error at plan naming zone_count and 3.
    ws.write_file("main.tf", &too_many_zones_config());
    let plan = ws.plan_err(&[]);
    let errors = plan.json_error_diagnostics();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("zone_count") && has_word(e, "3")),
        "{tf}: zone_count = 7 in eu-west-1 should fail with an error naming `zone_count` and \
         the 3 zones available; errors: {errors:#?}\n{plan}"
    );

    // 4. An unknown profile: an error at validate naming profile and the allowed values.
    ws.write_file("main.tf", &bad_profile_config());
    let validate = ws.validate_err();
    let errors = validate.json_error_diagnostics();
    assert!(
        errors.iter().any(|e| e.contains("profile")
            && ["production", "staging", "development"]
                .iter()
                .all(|p| e.contains(p))),
        "{tf}: profile = \"prod\" should fail validation with an error naming `profile` and \
         production, staging, development; errors: {errors:#?}\n{validate}"
    );

    // 5. Destroy with a valid configuration leaves an empty state.
    ws.write_file("main.tf", &default_config());
    ws.destroy();
    let state = ws.state_json();
    let left = state["resources"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(left, 0, "{tf}: state not empty after destroy: {state:#}");
}

#[test]
fn zones_terraform_1_15() {
    zones_end_to_end(Terraform::V1_15);
}

#[test]
fn zones_terraform_1_0() {
    zones_end_to_end(Terraform::V1_0);
}
