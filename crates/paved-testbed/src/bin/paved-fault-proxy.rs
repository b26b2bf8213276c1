//! `paved-fault-proxy`: the counting, fault-injecting proxy as a program.
//!
//! ```text
//! paved-fault-proxy --upstream http://127.0.0.1:5000 [--port 0]
//!     [--latency-ms N] [--jitter-ms N] [--latency-rate R]
//!     [--throttle-rate R] [--error-500-rate R] [--error-503-rate R] [--drop-rate R]
//!     [--seed N] [--services ec2,iam] [--actions DescribeVpcs,...] [--exempt GetCallerIdentity,...]
//!     [--eks-stand-ins] [--record] [--replay]
//!     [--time-scale N] [--provisioning-durations kind=secs,...]
//! ```
//!
//! `--record` and `--replay` turn on the record/replay of read calls (see the
//! library's `replay` module); `--time-scale N` turns on the provisioning-time
//! model at N modelled seconds per real second (see its `provisioning` module),
//! and `--provisioning-durations` overrides its durations.
//!
//! Prints `Listening on http://127.0.0.1:PORT` as its first stdout line, then
//! serves until SIGINT or SIGTERM, when it prints the final stats as JSON on
//! stderr and exits 0.

use std::io::Write;
use std::process::ExitCode;

use std::collections::BTreeMap;

use paved_testbed::signals::Signals;
use paved_testbed::{FaultConfig, FaultProxy, Kind, ModelSettings, ReplaySettings};

const USAGE: &str = "\
usage: paved-fault-proxy --upstream URL [options]

A counting, fault-injecting HTTP proxy in front of an AWS emulator (moto).
Listens on 127.0.0.1 only; control plane under /__paved_proxy/ (stats, reset, config).

options:
  --upstream URL        upstream base URL, e.g. http://127.0.0.1:5000 (required)
  --port N              port to listen on (default 0: any free port)
  --latency-ms N        fixed delay added to eligible requests
  --jitter-ms N         extra uniform delay 0..=N
  --latency-rate R      share of eligible requests delayed (default 1.0)
  --throttle-rate R     share answered with the protocol's throttling error
  --error-500-rate R    share answered with HTTP 500
  --error-503-rate R    share answered with HTTP 503
  --drop-rate R         share whose connection is closed without an answer
  --seed N              RNG seed (default: from the clock)
  --services a,b        only these services get faults (default: all)
  --actions a,b         only these actions (Action or service:Action) get faults
  --exempt a,b          these actions (Action or service:Action) never get faults
  --eks-stand-ins       serve what moto lacks for EKS: add-ons, version updates,
                        access entries (see the library's eks and access_entries)
  --record              record the answers of read calls (Describe*/List*/Get*,
                        REST GETs), keyed by service, action, region, access key
                        and parameters (signature and dates left out)
  --replay              answer recorded read calls from their records, without
                        the upstream (latency, faults and counts as usual; misses
                        and writes are forwarded; a write drops its service's
                        records). Control: GET|POST /__paved_proxy/replay
                        {\"record\": bool, \"replay\": bool, \"clear\": bool}
  --time-scale N        turn on the provisioning-time model: created, updated and
                        deleted NAT gateways, EKS clusters, node groups, add-ons,
                        RDS instances and snapshots show their transitional status
                        (pending, CREATING, creating, modifying, deleting, ...) in
                        describes for a modelled time; N modelled seconds pass per
                        real second (60: a modelled minute per second)
  --provisioning-durations kind=secs,...
                        modelled seconds per kind (e.g. eks_cluster_create=600);
                        GET /__paved_proxy/provisioning lists the kinds, their
                        durations and sources; POST it {\"enabled\", \"time_scale\",
                        \"durations\": {kind: secs}, \"clear\"} to change them
  -h, --help            this text
";

/// Parsed command line.
#[derive(Debug, PartialEq)]
struct Args {
    upstream: String,
    port: u16,
    config: FaultConfig,
    eks_stand_ins: bool,
    record: bool,
    replay: bool,
    /// `--time-scale`: the provisioning model is on when given.
    time_scale: Option<f64>,
    /// `--provisioning-durations`.
    durations: BTreeMap<Kind, f64>,
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
    #[error("--upstream is required")]
    MissingUpstream,
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, ArgsError> {
    value.trim().parse().map_err(|_| ArgsError::InvalidValue {
        flag: flag.to_string(),
        value: value.to_string(),
    })
}

fn parse_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `kind=secs,kind=secs` (kinds as in the control plane's JSON).
fn parse_durations(flag: &str, value: &str) -> Result<BTreeMap<Kind, f64>, ArgsError> {
    let invalid = || ArgsError::InvalidValue {
        flag: flag.to_string(),
        value: value.to_string(),
    };
    parse_list(value)
        .iter()
        .map(|entry| {
            let (kind, secs) = entry.split_once('=').ok_or_else(invalid)?;
            let kind: Kind =
                serde_json::from_value(serde_json::Value::String(kind.trim().to_string()))
                    .map_err(|_| invalid())?;
            let secs: f64 = parse_number(flag, secs)?;
            if !(secs.is_finite() && secs >= 0.0) {
                return Err(invalid());
            }
            Ok((kind, secs))
        })
        .collect()
}

fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Args, ArgsError> {
    let mut upstream = None;
    let mut port = 0u16;
    let mut config = FaultConfig::none();
    let mut eks_stand_ins = false;
    let mut record = false;
    let mut replay = false;
    let mut time_scale = None;
    let mut durations = BTreeMap::new();
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        if arg == "-h" || arg == "--help" {
            return Err(ArgsError::Help);
        }
        match arg.as_str() {
            "--eks-stand-ins" => {
                eks_stand_ins = true;
                continue;
            }
            "--record" => {
                record = true;
                continue;
            }
            "--replay" => {
                replay = true;
                continue;
            }
            _ => {}
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
            "--upstream" => upstream = Some(value),
            "--port" => port = parse_number(&flag, &value)?,
            "--latency-ms" => config.latency_ms = parse_number(&flag, &value)?,
            "--jitter-ms" => config.jitter_ms = parse_number(&flag, &value)?,
            "--latency-rate" => config.latency_rate = parse_number(&flag, &value)?,
            "--throttle-rate" => config.throttle_rate = parse_number(&flag, &value)?,
            "--error-500-rate" => config.error_500_rate = parse_number(&flag, &value)?,
            "--error-503-rate" => config.error_503_rate = parse_number(&flag, &value)?,
            "--drop-rate" => config.drop_rate = parse_number(&flag, &value)?,
            "--seed" => config.seed = Some(parse_number(&flag, &value)?),
            "--services" => config.services = parse_list(&value),
            "--actions" => config.actions = parse_list(&value),
            "--exempt" | "--exempt-actions" => config.exempt_actions = parse_list(&value),
            "--time-scale" => {
                let scale: f64 = parse_number(&flag, &value)?;
                if !(scale.is_finite() && scale > 0.0) {
                    return Err(ArgsError::InvalidValue { flag, value });
                }
                time_scale = Some(scale);
            }
            "--provisioning-durations" => durations = parse_durations(&flag, &value)?,
            _ => return Err(ArgsError::Unknown(arg)),
        }
    }
    Ok(Args {
        upstream: upstream.ok_or(ArgsError::MissingUpstream)?,
        port,
        config,
        eks_stand_ins,
        record,
        replay,
        time_scale,
        durations,
    })
}

/// SIGINT and SIGTERM listeners, installed before the port is announced so
/// that a signal sent right after the announcement is not lost.
fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(ArgsError::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("paved-fault-proxy: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("paved-fault-proxy: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut signals = {
        let _context = runtime.enter();
        match Signals::install() {
            Ok(signals) => signals,
            Err(e) => {
                eprintln!("paved-fault-proxy: cannot install signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let proxy = match FaultProxy::start_on(&args.upstream, args.port, args.config) {
        Ok(proxy) if args.eks_stand_ins => proxy.with_eks_extras().with_access_entries(),
        Ok(proxy) => proxy,
        Err(e) => {
            eprintln!("paved-fault-proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    proxy.set_replay(&ReplaySettings {
        record: Some(args.record),
        replay: Some(args.replay),
        clear: false,
    });
    let model = ModelSettings {
        enabled: Some(args.time_scale.is_some()),
        time_scale: args.time_scale,
        durations: Some(args.durations),
        clear: false,
    };
    if let Err(e) = proxy.set_provisioning(&model) {
        eprintln!("paved-fault-proxy: {e}");
        return ExitCode::FAILURE;
    }
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "Listening on {}", proxy.endpoint())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        // Nobody can learn the port: no point in running.
        return ExitCode::FAILURE;
    }
    drop(stdout);

    runtime.block_on(signals.wait());

    let stats = proxy.stats();
    drop(proxy);
    if let Ok(json) = serde_json::to_string(&stats) {
        eprintln!("paved-fault-proxy: final stats: {json}");
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
            "--upstream",
            "http://127.0.0.1:5000",
            "--port=8080",
            "--latency-ms",
            "5",
            "--jitter-ms=3",
            "--throttle-rate",
            "0.1",
            "--error-500-rate",
            "0.05",
            "--error-503-rate",
            "0.05",
            "--drop-rate",
            "0.01",
            "--seed",
            "42",
            "--services",
            "ec2, iam",
            "--exempt",
            "GetCallerIdentity",
        ])
        .unwrap();
        assert_eq!(args.upstream, "http://127.0.0.1:5000");
        assert_eq!(args.port, 8080);
        assert_eq!(args.config.latency_ms, 5);
        assert_eq!(args.config.jitter_ms, 3);
        assert_eq!(args.config.throttle_rate, 0.1);
        assert_eq!(args.config.seed, Some(42));
        assert_eq!(args.config.services, vec!["ec2", "iam"]);
        assert_eq!(args.config.exempt_actions, vec!["GetCallerIdentity"]);
        assert!(!args.record && !args.replay);
        assert_eq!(args.time_scale, None);
        assert!(args.durations.is_empty());
    }

    #[test]
    fn replay_and_provisioning_flags() {
        let args = parse(&[
            "--upstream",
            "u",
            "--record",
            "--replay",
            "--time-scale",
            "60",
            "--provisioning-durations",
            "eks_cluster_create=300, nat_gateway_delete=0.5",
        ])
        .unwrap();
        assert!(args.record && args.replay);
        assert_eq!(args.time_scale, Some(60.0));
        assert_eq!(
            args.durations,
            BTreeMap::from([
                (Kind::EksClusterCreate, 300.0),
                (Kind::NatGatewayDelete, 0.5)
            ])
        );
        for bad in [
            ["--time-scale", "0"],
            ["--time-scale", "inf"],
            ["--time-scale", "x"],
            ["--provisioning-durations", "nope=1"],
            ["--provisioning-durations", "eks_cluster_create"],
            ["--provisioning-durations", "eks_cluster_create=-1"],
        ] {
            assert!(
                matches!(
                    parse(&["--upstream", "u", bad[0], bad[1]]),
                    Err(ArgsError::InvalidValue { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn errors() {
        assert_eq!(parse(&[]), Err(ArgsError::MissingUpstream));
        assert_eq!(parse(&["--help"]), Err(ArgsError::Help));
        assert_eq!(
            parse(&["--upstream"]),
            Err(ArgsError::MissingValue("--upstream".into()))
        );
        assert!(matches!(
            parse(&["--upstream", "u", "--port", "x"]),
            Err(ArgsError::InvalidValue { .. })
        ));
        assert!(matches!(
            parse(&["--upstream", "u", "--bogus", "1"]),
            Err(ArgsError::Unknown(_))
        ));
        assert!(matches!(parse(&["stray"]), Err(ArgsError::Unknown(_))));
    }
}
