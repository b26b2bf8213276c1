//! A plugin client for tests: starts the provider binary the way Terraform does
//! (magic cookie, a P-521 CA client certificate like Terraform's, unix socket), reads
//! the handshake line, and connects over AutoMTLS with a chosen client certificate.
//! Or starts it in debug mode, as a developer does, for its TF_REATTACH_PROVIDERS value.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use paved::plugin::handshake::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P521_SHA512,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tonic::transport::{Channel, Endpoint};

use super::paved_provider_binary;

/// A client identity the way Terraform makes one: a self-signed P-521 CA certificate.
pub struct ClientIdentity {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

impl ClientIdentity {
    pub fn generate() -> Self {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).expect("P-521 key");
        let mut params = CertificateParams::new(vec!["localhost".into()]).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let cert = params.self_signed(&key).expect("self-signed");
        Self {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }
}

/// A running provider process; killed and reaped on drop.
pub struct RunningProvider {
    pub child: Child,
    pub socket: PathBuf,
    pub server_cert: Option<CertificateDer<'static>>,
    pub handshake_line: String,
    pub startup: Duration,
}

impl Drop for RunningProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `terraform-provider-paved --debug`, with `env` added to its environment and no AWS
/// profile; killed and reaped on drop.
pub struct DebugProvider {
    pub child: Child,
    /// The TF_REATTACH_PROVIDERS value it printed.
    pub reattach: String,
}

impl DebugProvider {
    /// Starts the provider in debug mode and reads the reattach value from the first 10
    /// lines it prints.
    pub fn start(env: &[(&str, &str)]) -> DebugProvider {
        let mut cmd = Command::new(paved_provider_binary());
        cmd.arg("--debug")
            .env_remove("AWS_PROFILE")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start the provider in debug mode");
        let stdout = child.stdout.take().expect("stdout");
        // From here on, Drop stops the process whatever happens.
        let mut provider = DebugProvider {
            child,
            reattach: String::new(),
        };
        provider.reattach = BufReader::new(stdout)
            .lines()
            .take(10)
            .map_while(Result::ok)
            .find_map(|l| {
                l.trim()
                    .strip_prefix("TF_REATTACH_PROVIDERS='")
                    .map(|r| r.trim_end_matches('\'').to_string())
            })
            .expect("the reattach line");
        provider
    }
}

impl Drop for DebugProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the provider as Terraform would; `client_cert_pem` None means plaintext.
pub fn start(client_cert_pem: Option<&str>, extra_env: &[(&str, &str)]) -> RunningProvider {
    let mut cmd = Command::new(paved_provider_binary());
    cmd.env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(pem) = client_cert_pem {
        cmd.env("PLUGIN_CLIENT_CERT", pem);
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("start the provider");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("handshake line");
    let startup = started.elapsed();
    let line = line.trim_end().to_string();
    let fields: Vec<&str> = line.split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line {line:?}");
    assert_eq!(&fields[..3], ["1", "6", "unix"], "handshake line {line:?}");
    assert_eq!(fields[4], "grpc");
    let server_cert = if fields[5].is_empty() {
        None
    } else {
        assert!(
            !fields[5].ends_with('='),
            "certificate must be base64 without padding"
        );
        let der = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(fields[5])
            .expect("base64 certificate");
        Some(CertificateDer::from(der))
    };
    RunningProvider {
        child,
        socket: PathBuf::from(fields[3]),
        server_cert,
        handshake_line: line,
        startup,
    }
}

/// Trusts exactly the certificate from the handshake line, as Terraform does.
#[derive(Debug)]
struct PinnedServer(CertificateDer<'static>);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = paved::plugin::tls::crypto_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(m, c, d, &algs)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = paved::plugin::tls::crypto_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(m, c, d, &algs)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        paved::plugin::tls::crypto_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Connects to the provider; with TLS when it announced a certificate, presenting
/// `identity` as the client certificate.
pub async fn connect(
    provider: &RunningProvider,
    identity: Option<&ClientIdentity>,
) -> Result<Channel, tonic::transport::Error> {
    let socket = provider.socket.clone();
    let tls = provider.server_cert.clone().map(|server| {
        let builder =
            rustls::ClientConfig::builder_with_provider(paved::plugin::tls::crypto_provider())
                .with_safe_default_protocol_versions()
                .expect("versions")
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedServer(server)));
        let mut config = match identity {
            Some(id) => builder
                .with_client_auth_cert(
                    vec![id.cert_der.clone()],
                    PrivateKeyDer::Pkcs8(id.key_der.clone_key()),
                )
                .expect("client cert"),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        tokio_rustls::TlsConnector::from(Arc::new(config))
    });
    Endpoint::try_from("http://localhost")?
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            let tls = tls.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(&socket).await?;
                let io: Box<dyn IoStream> = match tls {
                    None => Box::new(stream),
                    Some(connector) => {
                        let name = ServerName::try_from("localhost").expect("name");
                        Box::new(connector.connect(name, stream).await?)
                    }
                };
                Ok::<_, std::io::Error>(TokioIo::new(io))
            }
        }))
        .await
}

/// Object-safe async IO for either stream kind.
pub trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> IoStream for T {}

/// True once `pid` has exited: gone, or a zombie nobody has reaped yet (an orphan's
/// new parent may not reap it at once).
pub fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // "PID (COMM) STATE ...": the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

/// Waits up to `limit` for the process to exit; returns its status.
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}
