//! `paved-kube-fake`: the Kubernetes API stand-in as a program.
//!
//! ```text
//! paved-kube-fake --kubeconfig FILE [--port 0] [--eks-cluster NAME]
//!     [--aws-secret-key KEY] [--ready-after-ms N] [--git-version v1.31.0]
//!     [--nodes N] [--token TOKEN]
//! ```
//!
//! Writes a kubeconfig for itself to FILE, then prints
//! `Listening on https://127.0.0.1:PORT` as its first stdout line, and serves
//! until SIGINT or SIGTERM, when it prints the request counts as JSON on
//! stderr and exits 0. See `paved_testbed::kube` for what it models.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use paved_testbed::kube::{KubeFake, KubeFakeConfig};
use paved_testbed::signals::Signals;

const USAGE: &str = "\
usage: paved-kube-fake --kubeconfig FILE [options]

A Kubernetes API stand-in over HTTPS on 127.0.0.1 (see paved_testbed::kube).
Request counts: GET /_fake/requests, POST /_fake/reset-counts (no auth).

options:
  --kubeconfig FILE     where to write a kubeconfig for this server (required)
  --port N              port to listen on (default 0: any free port)
  --eks-cluster NAME    accept EKS tokens signed for this cluster name
  --aws-secret-key KEY  secret key EKS tokens are checked with (default: testing)
  --ready-after-ms N    workloads become ready N ms after each change (default 0)
  --git-version V       version reported by /version (default v1.31.0)
  --nodes N             nodes DaemonSets schedule on (default 3)
  --token TOKEN         static bearer token (default: random)
  -h, --help            this text
";

/// Parsed command line.
#[derive(Debug, PartialEq)]
struct Args {
    kubeconfig: PathBuf,
    config: KubeFakeConfig,
}

/// Why the command line was not accepted.
#[derive(Debug, PartialEq, thiserror::Error)]
enum ArgsError {
    #[error("help requested")]
    Help,
    #[error("missing value for {0}")]
    MissingValue(String),
    #[error("invalid value {value:?} for {flag}")]
    InvalidValue { flag: String, value: String },
    #[error("unknown argument {0:?}")]
    Unknown(String),
    #[error("--kubeconfig is required")]
    MissingKubeconfig,
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, ArgsError> {
    value.trim().parse().map_err(|_| ArgsError::InvalidValue {
        flag: flag.to_string(),
        value: value.to_string(),
    })
}

fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Args, ArgsError> {
    let mut kubeconfig = None;
    let mut config = KubeFakeConfig::default();
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        if arg == "-h" || arg == "--help" {
            return Err(ArgsError::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if !flag.starts_with("--") {
            return Err(ArgsError::Unknown(arg));
        }
        let value = match inline {
            Some(v) => v,
            None => iter
                .next()
                .ok_or_else(|| ArgsError::MissingValue(flag.clone()))?,
        };
        match flag.as_str() {
            "--kubeconfig" => kubeconfig = Some(PathBuf::from(value)),
            "--port" => config.port = parse_number(&flag, &value)?,
            "--eks-cluster" => config.eks_cluster = Some(value),
            "--aws-secret-key" => config.aws_secret_key = value,
            "--ready-after-ms" => {
                config.ready_after = Duration::from_millis(parse_number(&flag, &value)?)
            }
            "--git-version" => config.git_version = value,
            "--nodes" => config.node_count = parse_number(&flag, &value)?,
            "--token" => config.static_token = Some(value),
            _ => return Err(ArgsError::Unknown(arg)),
        }
    }
    Ok(Args {
        kubeconfig: kubeconfig.ok_or(ArgsError::MissingKubeconfig)?,
        config,
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(ArgsError::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("paved-kube-fake: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("paved-kube-fake: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut signals = {
        let _context = runtime.enter();
        match Signals::install() {
            Ok(signals) => signals,
            Err(e) => {
                eprintln!("paved-kube-fake: cannot install signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let fake = match KubeFake::start(args.config) {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("paved-kube-fake: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = fake.write_kubeconfig(&args.kubeconfig) {
        eprintln!(
            "paved-kube-fake: cannot write the kubeconfig {}: {e}",
            args.kubeconfig.display()
        );
        return ExitCode::FAILURE;
    }
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "Listening on {}", fake.url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        // Nobody can learn the port: no point in running.
        return ExitCode::FAILURE;
    }
    drop(stdout);

    runtime.block_on(signals.wait());

    let counts = fake.request_counts();
    drop(fake);
    if let Ok(json) = serde_json::to_string(&counts) {
        eprintln!("paved-kube-fake: request counts: {json}");
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, ArgsError> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn full_command_line() {
        let args = parse(&[
            "--kubeconfig",
            "/tmp/kc",
            "--port=8443",
            "--eks-cluster",
            "prod",
            "--aws-secret-key",
            "k",
            "--ready-after-ms",
            "1500",
            "--nodes=5",
        ])
        .unwrap();
        assert_eq!(args.kubeconfig, PathBuf::from("/tmp/kc"));
        assert_eq!(args.config.port, 8443);
        assert_eq!(args.config.eks_cluster.as_deref(), Some("prod"));
        assert_eq!(args.config.aws_secret_key, "k");
        assert_eq!(args.config.ready_after, Duration::from_millis(1500));
        assert_eq!(args.config.node_count, 5);
    }

    #[test]
    fn errors() {
        assert_eq!(parse(&[]), Err(ArgsError::MissingKubeconfig));
        assert_eq!(parse(&["-h"]), Err(ArgsError::Help));
        assert_eq!(
            parse(&["--kubeconfig"]),
            Err(ArgsError::MissingValue("--kubeconfig".into()))
        );
        assert!(matches!(
            parse(&["--kubeconfig", "k", "--port", "x"]),
            Err(ArgsError::InvalidValue { .. })
        ));
        assert!(matches!(parse(&["stray"]), Err(ArgsError::Unknown(_))));
    }
}
