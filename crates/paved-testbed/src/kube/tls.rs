//! The stand-in's certificates: a CA generated at start and a leaf for
//! `127.0.0.1` and `localhost` signed by it, plus the kubeconfig that trusts
//! the CA.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::error::KubeFakeError;

/// A CA and the server certificate it signed.
#[derive(Debug)]
pub struct Certificates {
    /// PEM of the CA certificate (what clients trust).
    pub ca_pem: String,
    ca_der: CertificateDer<'static>,
    leaf_der: CertificateDer<'static>,
    leaf_key_der: Vec<u8>,
}

fn tls_err(e: impl std::fmt::Display) -> KubeFakeError {
    KubeFakeError::Tls(e.to_string())
}

impl Certificates {
    /// Generates a fresh CA and a leaf with SANs `127.0.0.1` and `localhost`.
    pub fn generate() -> Result<Self, KubeFakeError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "paved-kube-fake CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().map_err(tls_err)?;
        let ca = ca_params.self_signed(&ca_key).map_err(tls_err)?;

        let mut leaf_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .map_err(tls_err)?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        leaf_params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate().map_err(tls_err)?;
        let leaf = leaf_params
            .signed_by(&leaf_key, &ca, &ca_key)
            .map_err(tls_err)?;

        Ok(Self {
            ca_pem: ca.pem(),
            ca_der: ca.der().clone(),
            leaf_der: leaf.der().clone(),
            leaf_key_der: leaf_key.serialize_der(),
        })
    }

    /// A rustls server configuration presenting the leaf (and the CA) over
    /// HTTP/1.1.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, KubeFakeError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key_der.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(tls_err)?
            .with_no_client_auth()
            .with_single_cert(vec![self.leaf_der.clone(), self.ca_der.clone()], key)
            .map_err(tls_err)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A kubeconfig (YAML) for a server at `url` trusting `ca_pem`, with a
/// static bearer `token`.
pub fn kubeconfig(url: &str, ca_pem: &str, token: &str) -> String {
    let ca = STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: paved-kube-fake
  cluster:
    server: {url}
    certificate-authority-data: {ca}
users:
- name: paved-kube-fake
  user:
    token: {token}
contexts:
- name: paved-kube-fake
  context:
    cluster: paved-kube-fake
    user: paved-kube-fake
    namespace: default
current-context: paved-kube-fake
preferences: {{}}
"
    )
}
