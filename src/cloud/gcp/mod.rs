//! The GCP adapters: settings (project, region, credentials and endpoints, from the
//! provider block or the standard environment: `GOOGLE_CLOUD_PROJECT`,
//! `GOOGLE_CLOUD_REGION`, `GOOGLE_APPLICATION_CREDENTIALS`, application default
//! credentials), the clients built from them on first use ([`clients`]), and the
//! backends of the ports on GCP.

pub mod auth;
pub mod call;
pub mod clients;
pub mod cluster;
mod cost;
pub mod database;
pub mod kms;
pub mod kube_token;
pub mod labels;
pub mod policy;
pub mod wait;
pub mod zones;

use std::collections::BTreeMap;

/// The services whose endpoint the provider block (`gcp.endpoints`) may override.
pub const ENDPOINT_SERVICES: &[&str] = &[
    "compute",
    "container",
    "cloudkms",
    "iam",
    "cloudresourcemanager",
    "sqladmin",
    "secretmanager",
    "servicenetworking",
    "serviceusage",
];

/// GCP settings as configured.
#[derive(Clone, Default)]
pub struct GcpSettings {
    /// The project stacks are created in.
    pub project: Option<String>,
    /// The default region.
    pub region: Option<String>,
    /// A credentials file path or JSON; `None` means application default credentials.
    pub credentials: Option<String>,
    /// An OAuth access token used as it is (`GOOGLE_OAUTH_ACCESS_TOKEN`); wins over
    /// `credentials`.
    pub access_token: Option<String>,
    /// One endpoint for every service (a private endpoint or a local stand-in).
    pub endpoint_url: Option<String>,
    /// Endpoints per service (keys in [`ENDPOINT_SERVICES`]), overriding `endpoint_url`.
    pub endpoints: BTreeMap<String, String>,
}

impl std::fmt::Debug for GcpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpSettings")
            .field("project", &self.project)
            .field("region", &self.region)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "(sensitive)"),
            )
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "(sensitive)"),
            )
            .field("endpoint_url", &self.endpoint_url)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}

impl GcpSettings {
    /// Fills settings that the provider block left unset from the environment.
    pub fn with_env_fallback(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let first = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| lookup(k).filter(|v| !v.is_empty()))
        };
        if self.project.is_none() {
            self.project = first(&[
                "GOOGLE_CLOUD_PROJECT",
                "GOOGLE_PROJECT",
                "CLOUDSDK_CORE_PROJECT",
            ]);
        }
        if self.region.is_none() {
            self.region = first(&[
                "GOOGLE_CLOUD_REGION",
                "GOOGLE_REGION",
                "CLOUDSDK_COMPUTE_REGION",
            ]);
        }
        if self.credentials.is_none() {
            self.credentials = first(&["GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CREDENTIALS"]);
        }
        if self.access_token.is_none() {
            self.access_token = first(&["GOOGLE_OAUTH_ACCESS_TOKEN"]);
        }
        if self.endpoint_url.is_none() {
            self.endpoint_url = first(&["PAVED_GCP_ENDPOINT_URL"]);
        }
        self
    }

    /// The endpoint for `service` (a key of [`ENDPOINT_SERVICES`]): its own override,
    /// else `endpoint_url`, else `None` (the client's default).
    pub fn endpoint(&self, service: &str) -> Option<String> {
        self.endpoints
            .get(service)
            .or(self.endpoint_url.as_ref())
            .map(|u| u.trim_end_matches('/').to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_wins_over_environment_and_credentials_stay_hidden() {
        let env = |k: &str| match k {
            "GOOGLE_CLOUD_PROJECT" => Some("env-project".to_string()),
            "GOOGLE_CLOUD_REGION" => Some("europe-west1".to_string()),
            "GOOGLE_APPLICATION_CREDENTIALS" => Some("/secret/key.json".to_string()),
            _ => None,
        };
        let s = GcpSettings {
            project: Some("block-project".into()),
            ..Default::default()
        }
        .with_env_fallback(env);
        assert_eq!(s.project.as_deref(), Some("block-project"));
        assert_eq!(s.region.as_deref(), Some("europe-west1"));
        assert!(!format!("{s:?}").contains("/secret/key.json"));
    }

    #[test]
    fn a_service_endpoint_overrides_the_common_one() {
        let s = GcpSettings {
            endpoint_url: Some("http://127.0.0.1:9/".into()),
            endpoints: [("sqladmin".to_string(), "http://sql:1".to_string())].into(),
            ..Default::default()
        };
        assert_eq!(s.endpoint("sqladmin").as_deref(), Some("http://sql:1"));
        assert_eq!(s.endpoint("compute").as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(GcpSettings::default().endpoint("compute"), None);
    }
}
