//! The test bed shared by every integration-test binary (`tests/e2e`, `tests/aws`,
//! `tests/reliability`, `tests/plugin_client.rs`), each of which declares
//! `#[path = "../support/mod.rs"] mod support;` (or `mod support;`).
//!
//! - [`venv`]: the project's Python venv made by `scripts/setup-venv.sh`, which holds
//!   real Terraform 1.15.5 and 1.0.3, moto and the Go `hashicorp/null` 2.1.2 provider.
//!   Nothing is taken from the machine (no system `terraform`, no `~/.terraformrc`).
//! - [`Moto`]: a private moto server on 127.0.0.1 for one test, stopped on drop.
//! - [`Terraform`]: the two Terraform versions every end-to-end test runs against.
//! - [`Workspace`]: a temporary Terraform working directory with a filesystem mirror
//!   holding the providers under test, and a fully controlled environment for every
//!   command it runs; [`bed`]: moto, the fault proxy and such a workspace together.
//! - [`aws`]: SDK configuration and clients for moto, a user's own network, the
//!   `StackContext`s the backends are called with.
//! - [`cloud`]: what moto holds (every object of the kinds paved makes, with its tags).
//! - [`plugin`]: the provider binary started and spoken to the way Terraform does.
//!
//! Every test runs in a thread of a process shared with the other tests of its binary:
//! nothing here changes the current directory, nor the process environment once
//! `main` has started (`aws::set_process_env` is for a constructor that runs before).
//!
//! Set `PAVED_KEEP_WORKDIR=1` to keep workspaces (their path is printed) for debugging.

#![allow(dead_code)] // each binary uses a different part of the bed

pub mod aws;
pub mod cloud;
pub mod plugin;

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use paved_testbed::{FaultConfig, FaultProxy, ProxyHandle, Stats};

/// The provider's registry address parts, as users write them in `required_providers`.
pub const PAVED_NAMESPACE: &str = "pavedroad";
pub const PAVED_TYPE: &str = "paved";
pub const PAVED_VERSION: &str = "0.1.0";
/// The Go provider used as a known-good reference (protocol 5).
pub const NULL_VERSION: &str = "2.1.2";

/// The `terraform` block of a configuration using the paved provider.
pub const TERRAFORM: &str = r#"
terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}
"#;

/// [`TERRAFORM`] and an empty provider block.
pub fn header() -> String {
    format!("{TERRAFORM}\nprovider \"paved\" {{}}\n")
}

/// How long one Terraform command may run before it is killed and the test fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
/// How long moto may take to start answering.
const MOTO_START_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------
// The venv
// ---------------------------------------------------------------------------------

/// The venv made by `scripts/setup-venv.sh`: `$PAVED_VENV`, else `<repo>/.venv`.
/// Panics with instructions when it (or one of its tools) is missing.
pub fn venv() -> PathBuf {
    let dir = match std::env::var_os("PAVED_VENV") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"),
    };
    for tool in ["bin/terraform-1.15", "bin/terraform-1.0", "bin/moto_server"] {
        let path = dir.join(tool);
        assert!(
            path.exists(),
            "{} is missing: run scripts/setup-venv.sh first (venv: {}, override with PAVED_VENV)",
            path.display(),
            dir.display()
        );
    }
    dir
}

/// The Go `hashicorp/null` 2.1.2 provider binary recorded by `scripts/setup-venv.sh`.
pub fn null_provider_binary() -> PathBuf {
    let record = venv().join("paved-null-provider-path");
    let text = fs::read_to_string(&record).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run scripts/setup-venv.sh first",
            record.display()
        )
    });
    let path = PathBuf::from(text.trim());
    assert!(
        path.is_file(),
        "null provider {} (from {}) does not exist; run scripts/setup-venv.sh again",
        path.display(),
        record.display()
    );
    path
}

/// The provider binary cargo built for this integration test.
pub fn paved_provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-paved"))
}

// ---------------------------------------------------------------------------------
// Moto
// ---------------------------------------------------------------------------------

/// A moto server (AWS emulator) private to one test, on 127.0.0.1 and a free port.
/// Killed and reaped on drop. Its log is kept in a temp file for failure messages.
pub struct Moto {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Moto {
    /// Starts moto and waits until it answers HTTP.
    pub fn start() -> Moto {
        let venv = venv();
        let dir = tempfile::Builder::new()
            .prefix("paved-moto-")
            .tempdir()
            .expect("create a temp dir for moto");
        let log = dir.path().join("moto.log");
        let log_file = fs::File::create(&log).expect("create moto log file");
        let child = Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", "0"])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("PYTHONUNBUFFERED", "1")
            .env_remove("AWS_PROFILE")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone moto log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}/bin/moto_server: {e}", venv.display()));
        // From here on, Drop stops the process whatever happens.
        let mut moto = Moto {
            child,
            port: 0,
            log,
            _dir: dir,
        };
        moto.port = moto.wait_for_port();
        moto.wait_until_answering();
        moto
    }

    /// `http://127.0.0.1:PORT`, the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Moto's log so far (werkzeug's request log: one line per AWS call).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The OS process id, e.g. to check that it is gone after drop.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_for_port(&mut self) -> u16 {
        let deadline = Instant::now() + MOTO_START_TIMEOUT;
        loop {
            // werkzeug prints " * Running on http://127.0.0.1:PORT" (on stderr).
            if let Some(port) = parse_running_on(&self.log()) {
                return port;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "moto_server exited ({status}) before listening; log:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not print its address within {MOTO_START_TIMEOUT:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn wait_until_answering(&mut self) {
        let deadline = Instant::now() + MOTO_START_TIMEOUT;
        let mut last_err = String::new();
        while Instant::now() < deadline {
            match http_get_status(self.port, "/") {
                Ok(code) if (200..500).contains(&code) => return,
                Ok(code) => last_err = format!("HTTP {code}"),
                Err(e) => last_err = e.to_string(),
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("moto_server exited ({status}); log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "moto on port {} did not answer within {MOTO_START_TIMEOUT:?} (last: {last_err}); log:\n{}",
            self.port,
            self.log()
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_running_on(log: &str) -> Option<u16> {
    const NEEDLE: &str = "Running on http://127.0.0.1:";
    let rest = &log[log.find(NEEDLE)? + NEEDLE.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|p| *p != 0)
}

/// A minimal HTTP/1.0 GET to 127.0.0.1:PORT; returns the status code.
pub fn http_get_status(port: u16, path: &str) -> std::io::Result<u16> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n")?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)?;
    let line = String::from_utf8_lossy(&head);
    line.get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP status line: {line:?}")))
}

// ---------------------------------------------------------------------------------
// Terraform versions
// ---------------------------------------------------------------------------------

/// The Terraform releases every end-to-end test runs against: the newest, and the
/// oldest the provider supports (protocol 6.0 only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terraform {
    V1_15,
    V1_0,
}

impl Terraform {
    pub const ALL: [Terraform; 2] = [Terraform::V1_15, Terraform::V1_0];

    /// The launcher written by `scripts/setup-venv.sh`.
    pub fn path(self) -> PathBuf {
        venv().join("bin").join(match self {
            Terraform::V1_15 => "terraform-1.15",
            Terraform::V1_0 => "terraform-1.0",
        })
    }

    /// The exact release, as `terraform version` prints it after the "v".
    pub fn version(self) -> &'static str {
        match self {
            Terraform::V1_15 => "1.15.5",
            Terraform::V1_0 => "1.0.3",
        }
    }
}

impl fmt::Display for Terraform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Terraform {}", self.version())
    }
}

// ---------------------------------------------------------------------------------
// Command output
// ---------------------------------------------------------------------------------

/// What one Terraform command did.
#[derive(Clone, Debug)]
pub struct Output {
    /// e.g. `terraform-1.15 plan -no-color -input=false` (for messages).
    pub command: String,
    /// Exit code; -1 when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// stdout and stderr together, for `contains` checks.
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The `error` diagnostics of a `-json` command (`plan -json` prints one JSON object
    /// per line, `validate -json` one object with a `diagnostics` array), each as
    /// "summary: detail [attribute path]". Unlike the human output, this holds only
    /// what the provider (or Terraform) said, not the echoed configuration source.
    pub fn json_error_diagnostics(&self) -> Vec<String> {
        let mut found = Vec::new();
        let mut collect = |d: &serde_json::Value| {
            if d.get("severity").and_then(|s| s.as_str()) == Some("error") {
                let text = |k: &str| d.get(k).and_then(|s| s.as_str()).unwrap_or("").to_string();
                let mut s = format!("{}: {}", text("summary"), text("detail"));
                if let Some(addr) = d.get("address").and_then(|s| s.as_str()) {
                    s.push_str(&format!(" [{addr}]"));
                }
                found.push(s);
            }
        };
        // validate -json: one (pretty-printed) document; plan -json: one object per line.
        let docs: Vec<serde_json::Value> = match serde_json::from_str(self.stdout.trim()) {
            Ok(doc) => vec![doc],
            Err(_) => self
                .stdout
                .lines()
                .filter_map(|l| serde_json::from_str(l.trim()).ok())
                .collect(),
        };
        for doc in &docs {
            if let Some(d) = doc.get("diagnostic") {
                collect(d);
            } else if let Some(ds) = doc.get("diagnostics").and_then(|d| d.as_array()) {
                ds.iter().for_each(&mut collect);
            }
        }
        found
    }

    /// The `error` diagnostics of `plan -json` (one JSON object per line), each as
    /// ("summary: detail", the source line its snippet points at), so a test can check
    /// which attribute an error is about.
    pub fn json_errors_with_code(&self) -> Vec<(String, String)> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["type"] == "diagnostic" && v["diagnostic"]["severity"] == "error")
            .map(|v| {
                let d = &v["diagnostic"];
                (
                    format!(
                        "{}: {}",
                        d["summary"].as_str().unwrap_or(""),
                        d["detail"].as_str().unwrap_or("")
                    ),
                    d["snippet"]["code"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ {}\nexit code {} after {:.1?}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--------------",
            self.command,
            self.code,
            self.elapsed,
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }
}

// ---------------------------------------------------------------------------------
// Workspace
// ---------------------------------------------------------------------------------

/// A Terraform working directory in a temp dir, with:
/// - `mirror/`: a filesystem mirror holding the providers added with
///   [`Workspace::with_paved`] / [`Workspace::with_null`];
/// - `terraform.rc`: a CLI config that installs only from that mirror, always passed in
///   `TF_CLI_CONFIG_FILE` (the machine's own setting is never inherited);
/// - `work/`: where the configuration is written and Terraform runs.
///
/// Every command runs with a cleared environment plus a fixed allow-list (see
/// [`Workspace::command`]), so a developer's AWS profile or Terraform settings
/// cannot leak into a test.
pub struct Workspace {
    tf: Terraform,
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    env: Vec<(String, String)>,
    moto_endpoint: Option<String>,
    runs: usize,
}

impl Workspace {
    /// An empty workspace: no providers in the mirror, no AWS endpoint.
    pub fn new(tf: Terraform) -> Workspace {
        let _ = venv(); // fail early with the setup hint
                        // Under cargo's per-target temp dir: same filesystem as the provider binary, so
                        // installing it into the mirror is a hard link, not a copy.
        let dir = tempfile::Builder::new()
            .prefix("paved-e2e-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("create workspace temp dir");
        let root = dir.path().to_path_buf();
        for sub in ["mirror", "work", "home", "logs"] {
            fs::create_dir_all(root.join(sub)).expect("create workspace dirs");
        }
        let mirror = root.join("mirror");
        let rc = format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = {}\n  }}\n}}\n",
            hcl_string(&mirror.to_string_lossy())
        );
        fs::write(root.join("terraform.rc"), rc).expect("write CLI config");
        // An empty AWS config: the SDK reads it instead of ~/.aws.
        fs::write(root.join("home/aws-config"), "").expect("write empty AWS config");
        let keep =
            std::env::var_os("PAVED_KEEP_WORKDIR").is_some_and(|v| !v.is_empty() && v != "0");
        let dir = if keep {
            eprintln!("[support] keeping workspace {}", root.display());
            let _ = dir.keep();
            None
        } else {
            Some(dir)
        };
        Workspace {
            tf,
            dir,
            root,
            env: Vec::new(),
            moto_endpoint: None,
            runs: 0,
        }
    }

    /// A workspace with the paved provider in the mirror, talking to `moto`.
    pub fn paved(tf: Terraform, moto: &Moto) -> Workspace {
        Workspace::new(tf).with_paved().with_moto(moto)
    }

    /// Adds this build of the paved provider to the mirror as pavedroad/paved 0.1.0.
    pub fn with_paved(self) -> Workspace {
        let file = format!("terraform-provider-{PAVED_TYPE}_v{PAVED_VERSION}");
        self.install(
            PAVED_NAMESPACE,
            PAVED_TYPE,
            PAVED_VERSION,
            &file,
            &paved_provider_binary(),
        );
        self
    }

    /// Adds the Go hashicorp/null 2.1.2 provider to the mirror.
    pub fn with_null(self) -> Workspace {
        let file = format!("terraform-provider-null_v{NULL_VERSION}_x4");
        self.install(
            "hashicorp",
            "null",
            NULL_VERSION,
            &file,
            &null_provider_binary(),
        );
        self
    }

    /// Points the AWS SDK at `moto` (AWS_ENDPOINT_URL) with static test credentials.
    pub fn with_moto(mut self, moto: &Moto) -> Workspace {
        self.moto_endpoint = Some(moto.endpoint());
        self
    }

    /// Sets (or overrides, e.g. AWS_REGION) an environment variable for every command.
    pub fn env(mut self, key: &str, value: &str) -> Workspace {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn terraform(&self) -> Terraform {
        self.tf
    }

    /// The directory Terraform runs in (holds the configuration and the state).
    pub fn dir(&self) -> PathBuf {
        self.root.join("work")
    }

    /// The filesystem mirror.
    pub fn mirror(&self) -> PathBuf {
        self.root.join("mirror")
    }

    /// The CLI configuration file passed in TF_CLI_CONFIG_FILE.
    pub fn cli_config(&self) -> PathBuf {
        self.root.join("terraform.rc")
    }

    /// Writes (or replaces) a file in the working directory.
    pub fn write_file(&self, name: &str, text: &str) -> &Workspace {
        let path = self.dir().join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create config subdir");
        }
        fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        self
    }

    /// Removes a file from the working directory (ignores a missing one).
    pub fn remove_file(&self, name: &str) -> &Workspace {
        let _ = fs::remove_file(self.dir().join(name));
        self
    }

    /// The state file as JSON (local backend).
    pub fn state_json(&self) -> serde_json::Value {
        let path = self.dir().join("terraform.tfstate");
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
    }

    fn install(&self, namespace: &str, name: &str, version: &str, file: &str, binary: &Path) {
        let dir = self
            .mirror()
            .join("registry.terraform.io")
            .join(namespace)
            .join(name)
            .join(version)
            .join("linux_amd64");
        fs::create_dir_all(&dir).expect("create mirror dir");
        let target = dir.join(file);
        if fs::hard_link(binary, &target).is_err() {
            fs::copy(binary, &target).unwrap_or_else(|e| {
                panic!("copy {} to {}: {e}", binary.display(), target.display())
            });
        }
    }

    // --- running commands ---------------------------------------------------------

    /// The command line for `terraform ARGS` in this workspace, with a cleared
    /// environment plus: TF_CLI_CONFIG_FILE, CHECKPOINT_DISABLE, TF_IN_AUTOMATION, HOME,
    /// AWS credentials/region/endpoint for moto, harmless AWS_CONFIG_FILE and
    /// AWS_SHARED_CREDENTIALS_FILE, and pass-through of PATH, TMPDIR, LANG, RUST_LOG,
    /// RUST_BACKTRACE, TF_LOG* and PAVED_* (debugging and benchmarks).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.tf.path());
        cmd.args(args).current_dir(self.dir()).env_clear();
        for (k, v) in std::env::vars_os() {
            let Some(k) = k.to_str() else { continue };
            let pass = matches!(
                k,
                "PATH" | "TMPDIR" | "LANG" | "LC_ALL" | "RUST_LOG" | "RUST_BACKTRACE"
            ) || k.starts_with("TF_LOG")
                || k.starts_with("PAVED_");
            if pass {
                cmd.env(k, v);
            }
        }
        let home = self.root.join("home");
        let aws_config = home.join("aws-config");
        cmd.env("HOME", &home)
            .env("TF_CLI_CONFIG_FILE", self.cli_config())
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", &aws_config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &aws_config)
            .env("AWS_EC2_METADATA_DISABLED", "true");
        if let Some(endpoint) = &self.moto_endpoint {
            cmd.env("AWS_ENDPOINT_URL", endpoint);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `terraform ARGS`; never panics on a non-zero exit (see [`Workspace::run_ok`]).
    /// Output goes to files under the workspace's `logs/`, so nothing can block on a pipe.
    /// A command still running after 5 minutes is killed (with its provider processes).
    pub fn run(&mut self, args: &[&str]) -> Output {
        self.runs += 1;
        let stem = format!(
            "{:03}-{}",
            self.runs,
            args.first().copied().unwrap_or("none")
        );
        let out_path = self.root.join("logs").join(format!("{stem}.stdout"));
        let err_path = self.root.join("logs").join(format!("{stem}.stderr"));
        let out = fs::File::create(&out_path).expect("create stdout log");
        let err = fs::File::create(&err_path).expect("create stderr log");
        let command = format!(
            "{} {}",
            self.tf
                .path()
                .file_name()
                .unwrap_or_default()
                .to_string_lossy(),
            args.join(" ")
        );
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        // Own process group, so a timeout can stop Terraform and its providers together.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.tf.path().display()));
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for terraform") {
                break Some(status);
            }
            if start.elapsed() > COMMAND_TIMEOUT {
                kill_process_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let output = Output {
            command,
            code: status.and_then(|s| s.code()).unwrap_or(-1),
            stdout: fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: fs::read_to_string(&err_path).unwrap_or_default(),
            elapsed: start.elapsed(),
        };
        // Shown by the test runner only for failing tests: where the time went.
        eprintln!(
            "[support] {} ({}): exit {} in {:.2?}",
            output.command, self.tf, output.code, output.elapsed
        );
        if status.is_none() {
            panic!(
                "{} ({}) timed out after {COMMAND_TIMEOUT:?} in {}\n{output}",
                output.command,
                self.tf,
                self.dir().display()
            );
        }
        output
    }

    /// Runs `terraform ARGS` and panics (showing stdout and stderr) unless it exits 0.
    pub fn run_ok(&mut self, args: &[&str]) -> Output {
        let out = self.run(args);
        if !out.success() {
            panic!(
                "{} failed with {}:\n{out}{}",
                out.command,
                self.tf,
                self.moto_hint()
            );
        }
        out
    }

    /// Runs `terraform ARGS` and panics (showing stdout and stderr) if it exits 0.
    pub fn run_err(&mut self, args: &[&str]) -> Output {
        let out = self.run(args);
        if out.success() {
            panic!(
                "{} succeeded with {} but was expected to fail:\n{out}",
                out.command, self.tf
            );
        }
        out
    }

    fn moto_hint(&self) -> String {
        match &self.moto_endpoint {
            Some(e) => format!("\n(moto at {e}; workspace {})", self.root.display()),
            None => format!("\n(workspace {})", self.root.display()),
        }
    }

    /// `terraform init` (must succeed).
    pub fn init(&mut self) -> Output {
        self.run_ok(&["init", "-no-color", "-input=false"])
    }

    /// `terraform validate` (must succeed).
    pub fn validate(&mut self) -> Output {
        self.run_ok(&["validate", "-no-color"])
    }

    /// `terraform validate -json`, expected to fail: use
    /// [`Output::json_error_diagnostics`] on the result.
    pub fn validate_err(&mut self) -> Output {
        self.run_err(&["validate", "-no-color", "-json"])
    }

    /// `terraform plan EXTRA` (must succeed).
    pub fn plan(&mut self, extra: &[&str]) -> Output {
        let mut args = vec!["plan", "-no-color", "-input=false"];
        args.extend_from_slice(extra);
        self.run_ok(&args)
    }

    /// `terraform plan -json EXTRA`, expected to fail: use
    /// [`Output::json_error_diagnostics`] on the result.
    pub fn plan_err(&mut self, extra: &[&str]) -> Output {
        let mut args = vec!["plan", "-no-color", "-input=false", "-json"];
        args.extend_from_slice(extra);
        self.run_err(&args)
    }

    /// `terraform plan -detailed-exitcode`: 0 = no changes, 2 = changes; panics on 1
    /// (an error) or anything else.
    pub fn plan_detailed_exitcode(&mut self) -> i32 {
        let out = self.run(&["plan", "-no-color", "-input=false", "-detailed-exitcode"]);
        if out.code != 0 && out.code != 2 {
            panic!(
                "{} failed with {}:\n{out}{}",
                out.command,
                self.tf,
                self.moto_hint()
            );
        }
        out.code
    }

    /// Panics, showing the plan, unless `plan -detailed-exitcode` reports no changes.
    pub fn assert_no_changes(&mut self) {
        let out = self.run(&["plan", "-no-color", "-input=false", "-detailed-exitcode"]);
        if out.code != 0 {
            panic!(
                "expected an empty plan (exit 0) with {}, got exit {}:\n{out}{}",
                self.tf,
                out.code,
                self.moto_hint()
            );
        }
    }

    /// `terraform apply -auto-approve EXTRA` (must succeed).
    pub fn apply(&mut self) -> Output {
        self.run_ok(&["apply", "-no-color", "-input=false", "-auto-approve"])
    }

    /// `terraform destroy -auto-approve` (must succeed).
    pub fn destroy(&mut self) -> Output {
        self.run_ok(&["destroy", "-no-color", "-input=false", "-auto-approve"])
    }

    /// `terraform output -json` as a JSON object: `{"NAME": {"value": ..., ...}}`.
    pub fn output_json(&mut self) -> serde_json::Value {
        let out = self.run_ok(&["output", "-no-color", "-json"]);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("`terraform output -json` is not JSON ({e}):\n{out}"))
    }

    /// `terraform state list`, one address per element.
    pub fn state_list(&mut self) -> Vec<String> {
        let out = self.run_ok(&["state", "list"]);
        out.stdout
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // When a test failed, keep the workspace for inspection.
        if std::thread::panicking() {
            if let Some(dir) = self.dir.take() {
                eprintln!(
                    "[support] test failed; workspace kept at {}",
                    dir.path().display()
                );
                let _ = dir.keep();
            }
        }
    }
}

/// The value of output `name` from [`Workspace::output_json`], with a clear panic when
/// it is missing.
pub fn output_value<'a>(outputs: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    outputs
        .get(name)
        .and_then(|o| o.get("value"))
        .unwrap_or_else(|| {
            panic!("output {name:?} missing from `terraform output -json`: {outputs:#}")
        })
}

/// A JSON list of strings as a Vec, with a clear panic when it is something else.
pub fn string_list(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a list of strings, got {value}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("expected a string in the list, got {v}"))
                .to_string()
        })
        .collect()
}

/// Moto, the counting, fault-injecting proxy (crates/paved-testbed) in front of it with
/// `faults`, and a Terraform 1.15.5 workspace with the paved provider whose AWS calls
/// go through the proxy.
pub fn bed(faults: FaultConfig) -> (Moto, ProxyHandle, Workspace) {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint(), faults)
        .expect("start the fault proxy")
        // What moto lacks and a cluster uses: add-ons, version updates, access entries;
        // and what an observability stack uses: AMP alert manager definitions.
        .with_eks_extras()
        .with_access_entries()
        .with_amp_extras();
    let ws = Workspace::paved(Terraform::V1_15, &moto).env("AWS_ENDPOINT_URL", &proxy.endpoint());
    (moto, proxy, ws)
}

/// Faults on 20 % of the AWS calls: 10 % throttled (in each service's shape), 5 %
/// HTTP 500, 5 % HTTP 503, drawn in the order `seed` gives.
pub fn flaky(seed: u64) -> FaultConfig {
    FaultConfig {
        throttle_rate: 0.10,
        error_500_rate: 0.05,
        error_503_rate: 0.05,
        seed: Some(seed),
        ..FaultConfig::default()
    }
}

/// The calls the proxy counted, as "service:Action" -> how many.
pub fn calls(stats: &Stats) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (service, actions) in &stats.by_service {
        for (action, n) in actions {
            out.insert(format!("{service}:{action}"), *n);
        }
    }
    out
}

/// `text` as an HCL quoted string.
pub fn hcl_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

fn kill_process_group(pid: u32) {
    // No libc dependency: the `kill` utility can signal a whole group ("-PGID").
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
