//! From a [`KubeTarget`] to a kube-rs [`Config`]: no kubeconfig file and no
//! environment, only the cluster's own outputs.
//!
//! - The URL connected to is `api_url` when set (a tunnel or port-forward to a
//!   private endpoint), else `endpoint`.
//! - The server certificate is checked against `ca_pem` only (no system roots).
//! - When `api_url` reaches the API under another host name than `endpoint`, the
//!   certificate is still the API server's, issued for the endpoint's host: the TLS
//!   server name (SNI and the name the certificate is checked against) is set to
//!   the endpoint's host, so a tunnel to `127.0.0.1:8443` verifies as
//!   `ABC.gr7.eu-west-1.eks.amazonaws.com` would.
//! - `proxy_url` (`http://host:port`) is an HTTP CONNECT proxy; the TLS session to
//!   the API runs through the tunnel it opens.

use std::time::Duration;

use base64::Engine as _;
use kube::Config;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use secrecy::SecretString;

use crate::ports::kube::{KubeError, KubeTarget};

/// How long to wait for the TCP and TLS handshake: short, since an unreachable API
/// is retried by the stack core's retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for an answer (or to send a request).
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// A target checked once, ready to make configs with a token.
#[derive(Debug, Clone)]
pub(crate) struct TargetConfig {
    /// The URL connected to (`api_url`, else `endpoint`), for messages.
    pub url: String,
    cluster_url: http::Uri,
    root_certs: Vec<Vec<u8>>,
    tls_server_name: Option<String>,
    proxy_url: Option<http::Uri>,
}

impl TargetConfig {
    /// Checks `target`: URLs that parse, a CA with at least one certificate.
    pub fn new(target: &KubeTarget) -> Result<Self, KubeError> {
        let endpoint = parse_url("endpoint", &target.endpoint)?;
        let (url, cluster_url) = match &target.api_url {
            Some(api_url) => (api_url.clone(), parse_url("api_url", api_url)?),
            None => (target.endpoint.clone(), endpoint.clone()),
        };
        let tls_server_name = match (endpoint.host(), cluster_url.host()) {
            (Some(name), Some(connected)) if !name.eq_ignore_ascii_case(connected) => Some(
                name.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
            ),
            _ => None,
        };
        let proxy_url = target.proxy_url.as_deref().map(parse_proxy).transpose()?;
        Ok(Self {
            url,
            cluster_url,
            root_certs: root_certs(&target.ca_pem)?,
            tls_server_name,
            proxy_url,
        })
    }

    /// The kube-rs configuration sending `token` as the bearer token.
    pub fn config(&self, token: &str) -> Config {
        let mut config = Config::new(self.cluster_url.clone());
        config.root_cert = Some(self.root_certs.clone());
        config.tls_server_name = self.tls_server_name.clone();
        config.proxy_url = self.proxy_url.clone();
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        config.read_timeout = Some(IO_TIMEOUT);
        config.write_timeout = Some(IO_TIMEOUT);
        config.auth_info.token = Some(SecretString::from(token.to_owned()));
        config
    }

    /// The TLS server name used instead of the connected host, if any.
    #[cfg(test)]
    pub fn tls_server_name(&self) -> Option<&str> {
        self.tls_server_name.as_deref()
    }
}

fn parse_url(what: &str, url: &str) -> Result<http::Uri, KubeError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| KubeError::Target(format!("{what} {url:?} is not a URL: {e}")))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => Ok(uri),
        _ => Err(KubeError::Target(format!(
            "{what} {url:?} must be an https:// URL with a host"
        ))),
    }
}

fn parse_proxy(url: &str) -> Result<http::Uri, KubeError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| KubeError::Target(format!("proxy_url {url:?} is not a URL: {e}")))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http"), Some(_)) => Ok(uri),
        _ => Err(KubeError::Target(format!(
            "proxy_url {url:?} must be http://host:port: an HTTP CONNECT proxy (the \
             connection to the API through it is still TLS)"
        ))),
    }
}

/// The DER certificates of `ca_pem`: PEM, or PEM encoded once more in base64 as EKS
/// reports its `certificateAuthority.data`.
fn root_certs(ca_pem: &str) -> Result<Vec<Vec<u8>>, KubeError> {
    let trimmed = ca_pem.trim();
    let pem = if trimmed.starts_with("-----BEGIN") {
        trimmed.as_bytes().to_vec()
    } else {
        let compact: String = trimmed.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| {
                KubeError::Target("the cluster CA is neither PEM nor base64-encoded PEM".to_owned())
            })?
    };
    let certs = CertificateDer::pem_slice_iter(&pem)
        .map(|c| c.map(|der| der.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| KubeError::Target(format!("the cluster CA is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(KubeError::Target(
            "the cluster CA holds no certificate".to_owned(),
        ));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::kube::KubeAuth;

    fn ca() -> String {
        let key = rcgen::KeyPair::generate().expect("key");
        rcgen::CertificateParams::new(vec!["test-ca".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("cert")
            .pem()
    }

    fn target(endpoint: &str, api_url: Option<&str>) -> KubeTarget {
        KubeTarget {
            endpoint: endpoint.into(),
            ca_pem: ca(),
            auth: KubeAuth::Bearer("t".into()),
            api_url: api_url.map(Into::into),
            proxy_url: None,
        }
    }

    #[test]
    fn a_tunnel_keeps_the_endpoint_host_as_the_tls_name() {
        let eks = "https://ABC.gr7.eu-west-1.eks.amazonaws.com";
        let direct = TargetConfig::new(&target(eks, None)).expect("target");
        assert_eq!(direct.tls_server_name(), None);
        assert_eq!(direct.url, eks);
        let tunnel =
            TargetConfig::new(&target(eks, Some("https://127.0.0.1:8443"))).expect("target");
        assert_eq!(
            tunnel.tls_server_name(),
            Some("ABC.gr7.eu-west-1.eks.amazonaws.com")
        );
        assert_eq!(tunnel.url, "https://127.0.0.1:8443");
        let same = TargetConfig::new(&target(
            "https://localhost:6443",
            Some("https://LOCALHOST:7443"),
        ))
        .expect("target");
        assert_eq!(same.tls_server_name(), None);
    }

    #[test]
    fn bad_targets_are_named() {
        let err = |t: KubeTarget| TargetConfig::new(&t).err().map(|e| e.to_string());
        assert!(err(target("http://x", None)).is_some_and(|m| m.contains("https://")));
        assert!(err(target("not a url", None)).is_some());
        let mut no_ca = target("https://x", None);
        no_ca.ca_pem = "hello".into();
        assert!(err(no_ca).is_some_and(|m| m.contains("CA")));
        let mut proxy = target("https://x", None);
        proxy.proxy_url = Some("socks5://p:1080".into());
        assert!(err(proxy).is_some_and(|m| m.contains("proxy_url")));
    }

    #[test]
    fn a_base64_encoded_ca_is_accepted() {
        let mut t = target("https://x", None);
        t.ca_pem = base64::engine::general_purpose::STANDARD.encode(ca());
        assert_eq!(
            TargetConfig::new(&t).map(|c| c.root_certs.len()).ok(),
            Some(1)
        );
    }
}
