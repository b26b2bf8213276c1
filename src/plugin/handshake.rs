//! The go-plugin handshake: what Terraform tells the provider through the
//! environment, and the one line the provider answers on stdout.

use std::io::Write;

/// The magic cookie's variable name; Terraform sets it when it starts a provider.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The magic cookie's value shared by every Terraform release since 0.12.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The go-plugin core protocol version (the first field of the handshake line).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The plugin protocol version paved serves: tfplugin6.
pub const APP_PROTOCOL_VERSION: u32 = 6;

/// The message printed when the binary is started by hand.
pub const STARTED_BY_HAND: &str = "\
This binary is a plugin for Terraform and OpenTofu: the paved provider.
It is not meant to be run directly. Declare it in your configuration instead:

  terraform {
    required_providers {
      paved = { source = \"pavedroad/paved\" }
    }
  }

and run `terraform init`. To debug the provider, start it with `--debug` and follow
the instructions it prints.
";

/// Errors in the handshake phase; each is fatal for the process.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The magic cookie is missing or wrong: the binary was started by hand.
    #[error("started without Terraform's magic cookie")]
    NotStartedByTerraform,
    /// The client accepts no protocol version that paved speaks.
    #[error(
        "Terraform accepts plugin protocol versions {0}, but paved speaks only version 6 \
         (Terraform 0.15 or later, or OpenTofu)"
    )]
    NoCommonVersion(String),
    /// Writing the handshake line failed.
    #[error("could not write the handshake line: {0}")]
    Write(#[from] std::io::Error),
}

/// What the environment says about how to talk to Terraform.
#[derive(Debug, Clone)]
pub struct HandshakeEnv {
    /// Terraform's client certificate (PEM) for AutoMTLS; absent means plaintext.
    pub client_cert_pem: Option<String>,
    /// Directory in which to create the unix socket, when Terraform asks for one.
    pub socket_dir: Option<std::path::PathBuf>,
}

impl HandshakeEnv {
    /// Reads and checks the handshake environment of this process.
    pub fn from_env() -> Result<Self, HandshakeError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads and checks the handshake environment through a lookup function
    /// (so that tests need not mutate the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, HandshakeError> {
        if lookup(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
            return Err(HandshakeError::NotStartedByTerraform);
        }
        if let Some(versions) = lookup("PLUGIN_PROTOCOL_VERSIONS") {
            let speaks_6 = versions
                .split(',')
                .any(|v| v.trim().parse::<u32>().ok() == Some(APP_PROTOCOL_VERSION));
            if !versions.trim().is_empty() && !speaks_6 {
                return Err(HandshakeError::NoCommonVersion(versions));
            }
        }
        let client_cert_pem = lookup("PLUGIN_CLIENT_CERT").filter(|c| !c.trim().is_empty());
        let socket_dir = lookup("PLUGIN_UNIX_SOCKET_DIR")
            .filter(|d| !d.is_empty())
            .map(std::path::PathBuf::from);
        Ok(Self {
            client_cert_pem,
            socket_dir,
        })
    }
}

/// Formats the handshake line for a unix socket: `1|6|unix|PATH|grpc|CERT`
/// (the last field empty when serving plaintext). Exactly six fields.
pub fn handshake_line(socket_path: &std::path::Path, cert: Option<&str>) -> String {
    format!(
        "{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|unix|{}|grpc|{}",
        socket_path.display(),
        cert.unwrap_or("")
    )
}

/// Writes the handshake line to stdout and flushes it. Nothing else is ever written to
/// stdout before it.
pub fn announce(line: &str) -> Result<(), HandshakeError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn refuses_without_cookie() {
        assert!(matches!(
            HandshakeEnv::from_lookup(env(&[])),
            Err(HandshakeError::NotStartedByTerraform)
        ));
        assert!(matches!(
            HandshakeEnv::from_lookup(env(&[(MAGIC_COOKIE_KEY, "wrong")])),
            Err(HandshakeError::NotStartedByTerraform)
        ));
    }

    #[test]
    fn needs_protocol_6() {
        let only5 = env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5"),
        ]);
        assert!(matches!(
            HandshakeEnv::from_lookup(only5),
            Err(HandshakeError::NoCommonVersion(_))
        ));
        let both = env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
            ("PLUGIN_CLIENT_CERT", "PEM"),
        ]);
        let parsed = HandshakeEnv::from_lookup(both).expect("5,6 includes 6");
        assert_eq!(parsed.client_cert_pem.as_deref(), Some("PEM"));
    }

    #[test]
    fn line_has_six_fields() {
        let line = handshake_line(std::path::Path::new("/tmp/plugin1/sock"), Some("QUJD"));
        assert_eq!(line, "1|6|unix|/tmp/plugin1/sock|grpc|QUJD");
        assert_eq!(line.split('|').count(), 6);
        let plain = handshake_line(std::path::Path::new("/s"), None);
        assert_eq!(plain, "1|6|unix|/s|grpc|");
    }
}
