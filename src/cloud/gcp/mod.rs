//! GCP settings: project, region and credentials, from the provider block or the
//! standard environment (`GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_REGION`, application
//! default credentials). The GKE and Cloud SQL clients are built from these on first
//! use by the GCP backends.

/// GCP settings as configured.
#[derive(Clone, Default)]
pub struct GcpSettings {
    /// The project stacks are created in.
    pub project: Option<String>,
    /// The default region.
    pub region: Option<String>,
    /// A credentials file path or JSON; `None` means application default credentials.
    pub credentials: Option<String>,
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
        self
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
}
