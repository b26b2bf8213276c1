//! The credentials every GCP client and the GKE token source use: an access token
//! given as it is (`gcp.access_token`, `GOOGLE_OAUTH_ACCESS_TOKEN`), a service
//! account or user key (`gcp.credentials`: a file path or the JSON itself), or
//! application default credentials. Tokens never reach logs: [`StaticToken`]'s
//! `Debug` hides its value.

use google_cloud_auth::credentials::{
    self, AccessToken, AccessTokenCredentials, AccessTokenCredentialsProvider, CacheableResource,
    CredentialsProvider, EntityTag,
};
use google_cloud_auth::errors::CredentialsError;
use http::{Extensions, HeaderMap, HeaderValue};

use super::GcpSettings;
use crate::ports::CloudError;

/// The scope paved asks for: every API it calls accepts it.
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// An access token used as it is (no refresh): for CI that mints one per job, and
/// for tests against a stand-in.
#[derive(Clone)]
pub struct StaticToken {
    token: String,
    tag: EntityTag,
}

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticToken(sensitive)")
    }
}

impl StaticToken {
    /// A provider answering with `token`.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: token.into(),
            tag: EntityTag::new(),
        }
    }
}

impl CredentialsProvider for StaticToken {
    async fn headers(
        &self,
        _extensions: Extensions,
    ) -> Result<CacheableResource<HeaderMap>, CredentialsError> {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.token))
            .map_err(|_| CredentialsError::from_msg(false, "the access token is not printable"))?;
        value.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, value);
        Ok(CacheableResource::New {
            entity_tag: self.tag.clone(),
            data: headers,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        Some("googleapis.com".to_owned())
    }
}

impl AccessTokenCredentialsProvider for StaticToken {
    async fn access_token(&self) -> Result<AccessToken, CredentialsError> {
        Ok(AccessToken {
            token: self.token.clone(),
        })
    }
}

/// The credentials the settings name, in order: the access token, the key in
/// `credentials`, application default credentials.
pub fn credentials(settings: &GcpSettings) -> Result<AccessTokenCredentials, CloudError> {
    if let Some(token) = settings.access_token.as_deref().filter(|t| !t.is_empty()) {
        return Ok(AccessTokenCredentials::from(StaticToken::new(token)));
    }
    let no_credentials = |message: String| CloudError::NoCredentials {
        cloud: "GCP",
        message,
        hint: "set gcp.credentials (a service account key), gcp.access_token, \
               GOOGLE_APPLICATION_CREDENTIALS, or run `gcloud auth application-default login`"
            .to_owned(),
    };
    if let Some(given) = settings.credentials.as_deref() {
        let text = if given.trim_start().starts_with('{') {
            given.to_owned()
        } else {
            std::fs::read_to_string(given)
                .map_err(|e| no_credentials(format!("cannot read the key file {given}: {e}")))?
        };
        let key: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| no_credentials(format!("the key is not JSON: {e}")))?;
        let built = match key.get("type").and_then(|t| t.as_str()) {
            Some("authorized_user") => credentials::user_account::Builder::new(key)
                .with_scopes([SCOPE])
                .build_access_token_credentials(),
            _ => credentials::service_account::Builder::new(key)
                .with_access_specifier(credentials::service_account::AccessSpecifier::from_scopes(
                    [SCOPE],
                ))
                .build_access_token_credentials(),
        };
        return built.map_err(|e| no_credentials(e.to_string()));
    }
    credentials::Builder::default()
        .with_scopes([SCOPE])
        .build_access_token_credentials()
        .map_err(|e| no_credentials(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_given_token_is_sent_as_bearer_and_hidden_from_debug() {
        let settings = GcpSettings {
            access_token: Some("ya29.secret".into()),
            ..Default::default()
        };
        let creds = credentials(&settings).expect("credentials");
        let token = creds.access_token().await.expect("token");
        assert_eq!(token.token, "ya29.secret");
        assert!(!format!("{creds:?}").contains("ya29.secret"));
        let CacheableResource::New { data, .. } =
            creds.headers(Extensions::new()).await.expect("headers")
        else {
            panic!("headers are new")
        };
        assert_eq!(
            data.get(http::header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap_or_default().to_owned()),
            Some("Bearer ya29.secret".to_owned())
        );
    }

    #[test]
    fn an_unreadable_key_names_the_file_and_what_to_do() {
        let settings = GcpSettings {
            credentials: Some("/nonexistent/key.json".into()),
            ..Default::default()
        };
        let err = credentials(&settings).expect_err("no file").to_string();
        assert!(err.contains("/nonexistent/key.json"), "{err}");
        assert!(err.contains("gcp.credentials"), "{err}");
    }
}
