//! EKS tokens: the [`TokenSource`] of clusters on AWS.
//!
//! An EKS token is what `aws eks get-token` prints: `k8s-aws-v1.` followed by the
//! unpadded base64url encoding of a presigned STS `GetCallerIdentity` GET URL whose
//! SigV4 signature covers the `x-k8s-aws-id: <cluster>` header. EKS's
//! authenticator calls the URL and maps the caller's identity to Kubernetes
//! groups (access entries). The URL is signed here, with the provider's AWS
//! credentials (profile, assumed role...), without calling STS.
//!
//! STS accepts the URL for 15 minutes after its signing date whatever
//! `X-Amz-Expires` says (60, as the AWS CLI); the token is reported to expire after
//! 14 minutes so that clients renew it in time.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::AwsClients;
use crate::ports::kube::{BearerToken, KubeAuth, KubeError, TokenSource};

/// The prefix of EKS tokens.
pub const EKS_TOKEN_PREFIX: &str = "k8s-aws-v1.";

/// The header naming the cluster a token is for.
const CLUSTER_HEADER: &str = "x-k8s-aws-id";

/// How long paved uses an EKS token (EKS accepts it for 15 minutes).
pub const EKS_TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

/// The `X-Amz-Expires` of the presigned URL, as `aws eks get-token` sets it.
const PRESIGN_EXPIRES: Duration = Duration::from_secs(60);

/// The expiry given to tokens that do not expire (a bearer token given as is).
const NEVER: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Where the credentials come from.
enum Credentialing {
    /// The provider's AWS configuration (loaded lazily, with its STS endpoint).
    Clients(Arc<AwsClients>),
    /// Given credentials and an optional STS endpoint (tests, tools).
    Fixed {
        provider: SharedCredentialsProvider,
        sts_endpoint: Option<String>,
    },
}

/// Makes the tokens of [`KubeAuth::Cloud`] from AWS credentials; gives
/// [`KubeAuth::Bearer`] tokens as they are.
pub struct EksTokenSource {
    credentialing: Credentialing,
}

impl EksTokenSource {
    /// Tokens signed with the credentials of the provider's AWS configuration. Its
    /// STS endpoint (the provider block's `sts` endpoint, else its endpoint for
    /// every service) replaces `sts.<region>.amazonaws.com` when set.
    pub fn new(clients: Arc<AwsClients>) -> Self {
        Self {
            credentialing: Credentialing::Clients(clients),
        }
    }

    /// Tokens signed with `provider`'s credentials, for STS at `sts_endpoint`
    /// (`None`: the region's public STS endpoint).
    pub fn with_credentials(
        provider: SharedCredentialsProvider,
        sts_endpoint: Option<String>,
    ) -> Self {
        Self {
            credentialing: Credentialing::Fixed {
                provider,
                sts_endpoint,
            },
        }
    }

    /// The credentials provider and STS endpoint override to sign with.
    async fn signing_inputs(
        &self,
    ) -> Result<(SharedCredentialsProvider, Option<String>), KubeError> {
        match &self.credentialing {
            Credentialing::Fixed {
                provider,
                sts_endpoint,
            } => Ok((provider.clone(), sts_endpoint.clone())),
            Credentialing::Clients(clients) => {
                let sdk = clients
                    .sdk_config()
                    .await
                    .map_err(|e| KubeError::Token(e.to_string()))?;
                let provider = sdk.credentials_provider().ok_or_else(|| {
                    KubeError::Token(
                        "no AWS credentials are configured: set them in the provider's \
                         aws block, a profile or AWS_ACCESS_KEY_ID"
                            .to_owned(),
                    )
                })?;
                // The token is never sent to STS by paved: the API server has the
                // cloud's STS check it, and EKS accepts only the region's public STS
                // host in it. A custom STS endpoint of the provider (an emulator, a
                // VPC endpoint) is for paved's own calls, not for tokens.
                let _ = clients;
                Ok((provider, None))
            }
        }
    }
}

#[async_trait]
impl TokenSource for EksTokenSource {
    async fn token(&self, auth: &KubeAuth) -> Result<BearerToken, KubeError> {
        let (cluster, region) = match auth {
            KubeAuth::Bearer(token) => {
                return Ok(BearerToken {
                    token: token.clone(),
                    expires_at: SystemTime::now() + NEVER,
                })
            }
            KubeAuth::Cloud {
                cluster_name,
                location: region,
            } => (cluster_name, region),
        };
        let (provider, endpoint) = self.signing_inputs().await?;
        let credentials = provider.provide_credentials().await.map_err(|e| {
            KubeError::Token(format!(
                "the AWS credentials could not be loaded ({e}); check the provider's aws \
                 block, the profile or the environment"
            ))
        })?;
        let now = SystemTime::now();
        let endpoint = endpoint.unwrap_or_else(|| default_sts_endpoint(region));
        let token = eks_token(&credentials, cluster, region, &endpoint, now)?;
        Ok(BearerToken {
            token,
            expires_at: now + EKS_TOKEN_LIFETIME,
        })
    }
}

/// The public STS endpoint of `region`.
fn default_sts_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://sts.{region}.{suffix}")
}

/// An EKS token for `cluster`, signed at `now` for STS at `endpoint` in `region`.
pub fn eks_token(
    credentials: &Credentials,
    cluster: &str,
    region: &str,
    endpoint: &str,
    now: SystemTime,
) -> Result<String, KubeError> {
    let url = presigned_url(credentials, cluster, region, endpoint, now)?;
    Ok(format!("{EKS_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(url)))
}

/// The presigned `GetCallerIdentity` URL behind an EKS token.
fn presigned_url(
    credentials: &Credentials,
    cluster: &str,
    region: &str,
    endpoint: &str,
    now: SystemTime,
) -> Result<String, KubeError> {
    let signing_error = |e: &dyn std::fmt::Display| {
        KubeError::Token(format!("could not sign the EKS token request: {e}"))
    };
    let base = format!(
        "{}/?Action=GetCallerIdentity&Version=2011-06-15",
        endpoint.trim_end_matches('/')
    );
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_EXPIRES);
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| signing_error(&e))?
        .into();
    let request = SignableRequest::new(
        "GET",
        &base,
        std::iter::once((CLUSTER_HEADER, cluster)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| signing_error(&e))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| signing_error(&e))?
        .into_parts();
    let mut url = base;
    for (name, value) in instructions.params() {
        url.push('&');
        url.push_str(&uri_encode(name));
        url.push('=');
        url.push_str(&uri_encode(value));
    }
    Ok(url)
}

/// SigV4 URI encoding: unreserved characters as they are, every other byte `%XX`.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use paved_testbed::kube::auth::{verify_eks_token, EksVerifier, Identity};

    fn credentials(session_token: Option<&str>) -> Credentials {
        Credentials::new(
            "testing",
            "testing",
            session_token.map(str::to_owned),
            None,
            "test",
        )
    }

    fn verifier(cluster: &str) -> EksVerifier {
        EksVerifier {
            cluster: cluster.to_owned(),
            secret_key: "testing".to_owned(),
        }
    }

    fn url_of(token: &str) -> String {
        let encoded = token.strip_prefix(EKS_TOKEN_PREFIX).expect("prefix");
        String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).expect("base64url")).expect("utf8")
    }

    #[test]
    fn a_token_is_a_presigned_get_caller_identity_for_the_cluster() {
        let now = SystemTime::now();
        let endpoint = default_sts_endpoint("eu-west-1");
        let token =
            eks_token(&credentials(None), "prod", "eu-west-1", &endpoint, now).expect("token");
        assert!(!token.contains('='), "no padding: {token}");
        let url = url_of(&token);
        assert!(
            url.starts_with(
                "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"
            ),
            "{url}"
        );
        assert!(url.contains("X-Amz-Expires=60"), "{url}");
        assert!(
            url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Credential=testing%2F"), "{url}");
        let encoded = &token[EKS_TOKEN_PREFIX.len()..];
        assert_eq!(
            verify_eks_token(encoded, &verifier("prod"), now),
            Ok(Identity::Eks {
                access_key_id: "testing".to_owned()
            })
        );
        assert!(verify_eks_token(encoded, &verifier("staging"), now).is_err());
        assert!(
            verify_eks_token(
                encoded,
                &verifier("prod"),
                now + Duration::from_secs(16 * 60)
            )
            .is_err(),
            "stale after 15 minutes"
        );
    }

    #[test]
    fn a_session_token_is_signed_into_the_url() {
        let now = SystemTime::now();
        let token = eks_token(
            &credentials(Some("session/token+x")),
            "prod",
            "us-east-1",
            &default_sts_endpoint("us-east-1"),
            now,
        )
        .expect("token");
        assert!(url_of(&token).contains("X-Amz-Security-Token=session%2Ftoken%2Bx"));
        let encoded = &token[EKS_TOKEN_PREFIX.len()..];
        assert!(verify_eks_token(encoded, &verifier("prod"), now).is_ok());
    }

    #[test]
    fn china_regions_have_their_own_domain() {
        assert_eq!(
            default_sts_endpoint("cn-north-1"),
            "https://sts.cn-north-1.amazonaws.com.cn"
        );
    }

    #[tokio::test]
    async fn bearer_tokens_are_given_as_they_are_and_eks_tokens_expire_in_14_minutes() {
        let source = EksTokenSource::with_credentials(
            SharedCredentialsProvider::new(credentials(None)),
            None,
        );
        let before = SystemTime::now();
        let bearer = source
            .token(&KubeAuth::Bearer("abc".into()))
            .await
            .expect("token");
        assert_eq!(bearer.token, "abc");
        assert!(bearer.expires_at > before + Duration::from_secs(365 * 24 * 3600));
        let eks = source
            .token(&KubeAuth::Cloud {
                cluster_name: "prod".into(),
                location: "us-east-1".into(),
            })
            .await
            .expect("token");
        assert!(eks.token.starts_with(EKS_TOKEN_PREFIX));
        let lifetime = eks.expires_at.duration_since(before).expect("later");
        assert!(
            lifetime >= EKS_TOKEN_LIFETIME
                && lifetime < EKS_TOKEN_LIFETIME + Duration::from_secs(5)
        );
    }
}
