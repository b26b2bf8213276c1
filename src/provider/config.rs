//! Reading the provider block: checks (before any cloud call) and the settings the
//! cloud clients are built from.

use std::collections::BTreeMap;

use paved_value::{Path, Value};

use crate::cloud::aws::{AssumeRole, AwsClients, AwsSettings, Setting, ENDPOINT_SERVICES};
use crate::cloud::gcp::clients::GcpClients;
use crate::cloud::gcp::{GcpSettings, ENDPOINT_SERVICES as GCP_ENDPOINT_SERVICES};
use crate::diag::Diagnostics;
use crate::ports::CloudKind;
use crate::provider::Clients;
use crate::validate;

/// The provider block, checked.
pub struct ParsedConfig {
    cloud: CloudKind,
    default_tags: BTreeMap<String, String>,
    aws: AwsSettings,
    gcp: GcpSettings,
}

impl ParsedConfig {
    /// Builds the (lazy) cloud clients; makes no call.
    pub fn into_clients(self) -> Clients {
        Clients {
            cloud: self.cloud,
            default_tags: self.default_tags,
            aws: std::sync::Arc::new(AwsClients::new(self.aws)),
            gcp: std::sync::Arc::new(GcpClients::new(
                self.gcp.with_env_fallback(|k| std::env::var(k).ok()),
            )),
        }
    }
}

fn known_str(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn setting(v: Option<&Value>) -> Setting {
    match v {
        Some(v) if v.is_unknown() => Setting::Unknown,
        Some(v) => v
            .as_str()
            .map_or(Setting::Unset, |s| Setting::Value(s.to_string())),
        None => Setting::Unset,
    }
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the provider block and returns its settings; `None` when it has errors.
/// Unknown values pass the checks and are reported when a client needs them.
pub fn parse(config: &Value, diags: &mut Diagnostics) -> Option<ParsedConfig> {
    let before = diags.0.len();
    let root = Path::root();
    let cloud = match known_str(config.get_attr("cloud")) {
        None | Some("aws") => CloudKind::Aws,
        Some("gcp") => CloudKind::Gcp,
        Some(other) => {
            diags.attribute_error(
                root.clone().attr("cloud"),
                "Unknown cloud",
                format!("\"{other}\" is not a supported cloud. Use \"aws\" or \"gcp\"."),
            );
            CloudKind::Aws
        }
    };
    let default_tags = string_map(config.get_attr("default_tags"));
    for key in default_tags.keys() {
        if key.is_empty() || key.len() > 128 || key.starts_with("aws:") {
            diags.attribute_error(
                root.clone().attr("default_tags").key(key),
                "Invalid tag key",
                "Tag keys must be 1 to 128 characters and must not start with \"aws:\".",
            );
        }
    }
    if let Err(e) = crate::stack::tags::validate_user_tags(
        &default_tags,
        crate::stack::tags::TagOrigin::DefaultTags,
    ) {
        let crate::stack::tags::TagError::ReservedKey { key, .. } = &e;
        diags.attribute_error(
            root.clone().attr("default_tags").key(key),
            "Reserved tag key",
            format!("{e}."),
        );
    }

    let aws_block = config.get_attr("aws").filter(|v| !v.is_null());
    let aws_path = root.clone().attr("aws");
    let mut aws = AwsSettings::default();
    if let Some(b) = aws_block {
        aws.region = setting(b.get_attr("region"));
        if let Some(r) = aws.region.value() {
            validate::region(r, aws_path.clone().attr("region"), diags);
        }
        aws.profile = known_str(b.get_attr("profile")).map(str::to_string);
        aws.endpoint_url = known_str(b.get_attr("endpoint_url")).map(str::to_string);
        if let Some(u) = &aws.endpoint_url {
            validate::url(u, aws_path.clone().attr("endpoint_url"), diags);
        }
        aws.endpoints = string_map(b.get_attr("endpoints"));
        for (service, url) in &aws.endpoints {
            let path = aws_path.clone().attr("endpoints").key(service);
            if !ENDPOINT_SERVICES.contains(&service.as_str()) {
                diags.attribute_error(
                    path.clone(),
                    "Unknown service in endpoints",
                    format!(
                        "\"{service}\" is not a service paved calls. Use one of: {}.",
                        ENDPOINT_SERVICES.join(", ")
                    ),
                );
            }
            validate::url(url, path, diags);
        }
        if let Some(role) = b.get_attr("assume_role").filter(|v| !v.is_null()) {
            let path = aws_path.clone().attr("assume_role");
            let arn = known_str(role.get_attr("role_arn")).unwrap_or_default();
            if role.get_attr("role_arn").is_some_and(|v| !v.is_unknown()) {
                validate::role_arn(arn, path.clone().attr("role_arn"), diags);
            }
            if let Some(d) = role.get_attr("duration_seconds") {
                validate::whole_number_in(
                    d,
                    900,
                    43200,
                    path.clone().attr("duration_seconds"),
                    diags,
                );
            }
            aws.assume_role = Some(AssumeRole {
                role_arn: arn.to_string(),
                session_name: known_str(role.get_attr("session_name"))
                    .unwrap_or("paved")
                    .to_string(),
                external_id: known_str(role.get_attr("external_id")).map(str::to_string),
                duration_seconds: role
                    .get_attr("duration_seconds")
                    .and_then(Value::as_i64)
                    .and_then(|d| u32::try_from(d).ok()),
            });
        }
    }

    let mut gcp = GcpSettings::default();
    if let Some(b) = config.get_attr("gcp").filter(|v| !v.is_null()) {
        gcp.project = known_str(b.get_attr("project")).map(str::to_string);
        gcp.region = known_str(b.get_attr("region")).map(str::to_string);
        gcp.credentials = known_str(b.get_attr("credentials")).map(str::to_string);
        gcp.access_token = known_str(b.get_attr("access_token")).map(str::to_string);
        gcp.endpoint_url = known_str(b.get_attr("endpoint_url")).map(str::to_string);
        let gcp_path = root.clone().attr("gcp");
        if let Some(r) = &gcp.region {
            validate::region(r, gcp_path.clone().attr("region"), diags);
        }
        if let Some(u) = &gcp.endpoint_url {
            validate::url(u, gcp_path.clone().attr("endpoint_url"), diags);
        }
        gcp.endpoints = string_map(b.get_attr("endpoints"));
        for (service, url) in &gcp.endpoints {
            let path = gcp_path.clone().attr("endpoints").key(service);
            if !GCP_ENDPOINT_SERVICES.contains(&service.as_str()) {
                diags.attribute_error(
                    path.clone(),
                    "Unknown service in endpoints",
                    format!(
                        "\"{service}\" is not a GCP service paved calls. Use one of: {}.",
                        GCP_ENDPOINT_SERVICES.join(", ")
                    ),
                );
            }
            validate::url(url, path, diags);
        }
    }

    if diags.0[before..]
        .iter()
        .any(|d| d.severity == crate::diag::Severity::Error)
    {
        return None;
    }
    Some(ParsedConfig {
        cloud,
        default_tags,
        aws,
        gcp,
    })
}
