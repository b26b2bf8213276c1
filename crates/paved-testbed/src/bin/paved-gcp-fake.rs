//! `paved-gcp-fake`: the GCP REST API stand-in as a program.
//!
//! ```text
//! paved-gcp-fake [--port 0] [--operation-polls N] [--project P ...]
//!     [--project-number N] [--down-zone Z ...]
//! ```
//!
//! Prints `Listening on http://127.0.0.1:PORT` as its first stdout line, then
//! serves until SIGINT or SIGTERM, when it prints the request counts as JSON on
//! stderr and exits 0. See `paved_testbed::gcp` for what it models.

use std::io::Write;
use std::process::ExitCode;

use paved_testbed::gcp::{GcpFake, GcpFakeConfig};
use paved_testbed::signals::Signals;

const USAGE: &str = "\
usage: paved-gcp-fake [options]

A GCP REST API stand-in over plain HTTP on 127.0.0.1 (see paved_testbed::gcp):
Compute Engine under /compute/v1/, GKE under /v1/projects/P/locations/L/clusters,
and the other services paved uses. Point clients at http://127.0.0.1:PORT/.
Control (no auth): GET /_fake/requests, POST /_fake/reset-counts,
POST /_fake/faults {\"rate\":0.2,\"status\":429,\"seed\":7,\"max\":N}, GET /_fake/state.

options:
  --port N              port to listen on (default 0: any free port)
  --operation-polls N   polls an operation needs before it is done (default 2)
  --project P           a project that exists (repeatable; default: every project)
  --project-number N    the number every project reports (default 123456789012)
  --down-zone Z         report zone Z as DOWN (repeatable)
  -h, --help            this text
";

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
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, ArgsError> {
    value.trim().parse().map_err(|_| ArgsError::InvalidValue {
        flag: flag.to_string(),
        value: value.to_string(),
    })
}

fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<GcpFakeConfig, ArgsError> {
    let mut config = GcpFakeConfig::default();
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
            "--port" => config.port = parse_number(&flag, &value)?,
            "--operation-polls" => config.operation_polls = parse_number(&flag, &value)?,
            "--project-number" => config.project_number = parse_number(&flag, &value)?,
            "--project" | "--down-zone" => {
                if value.trim().is_empty() {
                    return Err(ArgsError::InvalidValue { flag, value });
                }
                if flag == "--project" {
                    config.projects.push(value);
                } else {
                    config.down_zones.push(value);
                }
            }
            _ => return Err(ArgsError::Unknown(arg)),
        }
    }
    Ok(config)
}

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(ArgsError::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("paved-gcp-fake: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("paved-gcp-fake: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut signals = {
        let _context = runtime.enter();
        match Signals::install() {
            Ok(signals) => signals,
            Err(e) => {
                eprintln!("paved-gcp-fake: cannot install signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let fake = match GcpFake::start(config) {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("paved-gcp-fake: {e}");
            return ExitCode::FAILURE;
        }
    };
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
        eprintln!("paved-gcp-fake: request counts: {json}");
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<GcpFakeConfig, ArgsError> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn full_command_line() {
        let config = parse(&[
            "--port=8085",
            "--operation-polls",
            "0",
            "--project",
            "a",
            "--project=b",
            "--project-number",
            "42",
            "--down-zone",
            "europe-west2-c",
        ])
        .unwrap();
        assert_eq!(config.port, 8085);
        assert_eq!(config.operation_polls, 0);
        assert_eq!(config.projects, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(config.project_number, 42);
        assert_eq!(config.down_zones, vec!["europe-west2-c".to_string()]);
        assert_eq!(parse(&[]).unwrap(), GcpFakeConfig::default());
    }

    #[test]
    fn errors() {
        assert_eq!(parse(&["-h"]), Err(ArgsError::Help));
        assert_eq!(
            parse(&["--port"]),
            Err(ArgsError::MissingValue("--port".into()))
        );
        assert!(matches!(
            parse(&["--operation-polls", "x"]),
            Err(ArgsError::InvalidValue { .. })
        ));
        assert!(matches!(
            parse(&["--project", ""]),
            Err(ArgsError::InvalidValue { .. })
        ));
        assert!(matches!(parse(&["stray"]), Err(ArgsError::Unknown(_))));
        assert!(matches!(
            parse(&["--nope", "1"]),
            Err(ArgsError::Unknown(_))
        ));
    }
}
