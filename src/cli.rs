//! The command line: by default serve Terraform; `--debug` serves for reattaching;
//! `docs` writes the generated documentation.

use std::process::ExitCode;

use crate::plugin::handshake::{HandshakeEnv, HandshakeError, STARTED_BY_HAND};
use crate::plugin::server;
use crate::protocol::ProviderService;

const USAGE: &str = "\
usage: terraform-provider-paved            serve Terraform (started by Terraform itself)
       terraform-provider-paved --debug    serve for TF_REATTACH_PROVIDERS (debuggers)
       terraform-provider-paved docs [DIR] write the generated docs to DIR (default: docs)
       terraform-provider-paved --version";

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    crate::phases::mark("main", None);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => serve_terraform(|| {
            crate::provider::time_scale_from_env();
            crate::provider::service()
        }),
        Some("--debug") => serve_debug(),
        Some("docs") => write_docs(args.get(1).map_or("docs", String::as_str)),
        Some("--version" | "version") => {
            println!("terraform-provider-paved {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown argument \"{other}\"\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The stack of each runtime thread: the GCP clients' request futures are large
/// (several hundred KiB each in a debug build) and a cluster step nests a few of
/// them, beyond tokio's default of 2 MiB. The memory is reserved, not used.
const THREAD_STACK: usize = 16 * 1024 * 1024;

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("paved")
        .thread_stack_size(THREAD_STACK)
        .build()
}

/// Serves Terraform as a plugin: checks the handshake's environment, starts logging,
/// builds the service with `service` (after logging, so it may log), serves it until
/// Terraform is done, and reports usage and phase marks for benchmarks. The
/// `terraform-provider-paved` binary runs this with the paved provider; the
/// benchmarks' floor provider (`crates/paved-floor`) with a one-resource one.
pub fn serve_terraform(service: impl FnOnce() -> ProviderService) -> ExitCode {
    let env = match HandshakeEnv::from_env() {
        Ok(env) => env,
        Err(HandshakeError::NotStartedByTerraform) => {
            eprint!("{STARTED_BY_HAND}");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("paved: {e}");
            return ExitCode::from(1);
        }
    };
    crate::logging::init();
    let result = runtime().map_err(|e| e.to_string()).and_then(|rt| {
        crate::phases::mark("runtime", None);
        let served = rt
            .block_on(server::serve(env, service()))
            .map_err(|e| e.to_string());
        // Terraform has closed the connection: exit now rather than wait for work
        // nobody awaits any more (a background warm-up of the cloud's clients still
        // building its TLS configuration kept each plan's last process alive for
        // about a third of a second).
        rt.shutdown_background();
        served
    });
    report_usage();
    crate::phases::mark("exit", None);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "provider stopped with an error");
            eprintln!("paved: {e}");
            ExitCode::from(1)
        }
    }
}

fn serve_debug() -> ExitCode {
    crate::logging::init();
    let result = runtime().map_err(|e| e.to_string()).and_then(|rt| {
        rt.block_on(server::serve_debug(crate::provider::service()))
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paved: {e}");
            ExitCode::from(1)
        }
    }
}

fn write_docs(dir: &str) -> ExitCode {
    let root = std::path::Path::new(".");
    match crate::docs::write_all(root, std::path::Path::new(dir)) {
        Ok(files) => {
            for f in files {
                println!("wrote {}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("paved: could not write the docs: {e}");
            ExitCode::from(1)
        }
    }
}

/// For benchmarks: appends "PID PEAK_RSS_KB ANON_KB FILE_KB CPU_MS" to the file named
/// by `PAVED_PEAK_RSS_FILE`: the kernel's VmHWM, then RssAnon (heap and stacks) and
/// RssFile (mapped pages of the binary and libraries) at shutdown, and the CPU time
/// the process used, all threads, user and system (from `/proc/self/stat`).
fn report_usage() {
    let Ok(target) = std::env::var("PAVED_PEAK_RSS_FILE") else {
        return;
    };
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    let Some(kb) = field("VmHWM:") else {
        return;
    };
    let anon = field("RssAnon:").unwrap_or(0);
    let file = field("RssFile:").unwrap_or(0);
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(target)
    {
        let _ = writeln!(
            f,
            "{} {kb} {anon} {file} {}",
            std::process::id(),
            cpu_ms().unwrap_or(0)
        );
    }
}

/// CPU time of this process so far, in ms: `utime` + `stime` of `/proc/self/stat`
/// (fields 14 and 15, in clock ticks of 1/100 s: Linux's `USER_HZ` on every
/// architecture paved ships for). Fields are counted after the command name, which
/// is in parentheses and may hold spaces.
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) * 10)
}
