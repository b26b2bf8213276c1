//! The floor provider through real Terraform 1.15.5 (from the venv `scripts/setup-venv.sh`
//! makes): it does what `bench/foundation.py` counts on, the work of a `null_resource`.
//! A create plan shows one object with `name` known and `id` unknown; the apply makes
//! `id` known; a second plan has no change; a new name updates in place, keeping the id;
//! destroy leaves an empty state.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The venv: `$PAVED_VENV`, else the repository's `.venv`.
fn terraform() -> PathBuf {
    let venv = match std::env::var_os("PAVED_VENV") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv"),
    };
    let tf = venv.join("bin/terraform-1.15");
    assert!(
        tf.exists(),
        "{} is missing: run scripts/setup-venv.sh first (or set PAVED_VENV)",
        tf.display()
    );
    tf
}

struct Workspace {
    _root: tempfile::TempDir,
    dir: PathBuf,
    rc: PathBuf,
    home: PathBuf,
    tf: PathBuf,
}

impl Workspace {
    /// A working directory whose only provider source is a mirror holding this build of
    /// the floor provider as pavedroad/floor 0.1.0.
    fn new(config: &str) -> Workspace {
        let root = tempfile::tempdir().expect("temp dir");
        let mirror = root.path().join("mirror");
        let plugin_dir = mirror.join("registry.terraform.io/pavedroad/floor/0.1.0/linux_amd64");
        fs::create_dir_all(&plugin_dir).expect("mirror dir");
        fs::copy(
            env!("CARGO_BIN_EXE_terraform-provider-floor"),
            plugin_dir.join("terraform-provider-floor_v0.1.0"),
        )
        .expect("install the floor provider");
        let rc = root.path().join("terraform.rc");
        let mirror_path = serde_json::Value::String(mirror.to_string_lossy().into_owned());
        fs::write(
            &rc,
            format!("provider_installation {{\n  filesystem_mirror {{\n    path = {mirror_path}\n  }}\n}}\n"),
        )
        .expect("cli config");
        let dir = root.path().join("work");
        let home = root.path().join("home");
        fs::create_dir_all(&dir).expect("work dir");
        fs::create_dir_all(&home).expect("home dir");
        fs::write(dir.join("main.tf"), config).expect("main.tf");
        Workspace {
            _root: root,
            dir,
            rc,
            home,
            tf: terraform(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.tf)
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TF_CLI_CONFIG_FILE", &self.rc)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .expect("run terraform")
    }

    /// Runs `terraform ARGS` and returns its stdout; panics with both streams on failure
    /// (or, with `code`, unless it exits with that code).
    fn run_ok(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "terraform {}:\n{stdout}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.run_ok(args, 0)).expect("terraform's JSON")
    }
}

const CONFIG: &str = r#"
terraform {
  required_providers {
    floor = { source = "pavedroad/floor" }
  }
}

resource "floor_thing" "this" {
  name = "bench"
}
"#;

#[test]
fn a_floor_thing_plans_like_a_null_resource_and_applies() {
    let ws = Workspace::new(CONFIG);
    ws.run_ok(&["init", "-input=false", "-no-color"], 0);

    // The create plan: one object, its name as configured, its id unknown.
    ws.run_ok(
        &["plan", "-input=false", "-no-color", "-out=create.tfplan"],
        0,
    );
    let plan = ws.json(&["show", "-json", "create.tfplan"]);
    let changes = plan["resource_changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "one resource planned: {plan}");
    let change = &changes[0]["change"];
    assert_eq!(change["actions"], serde_json::json!(["create"]), "{plan}");
    assert_eq!(change["after"]["name"], "bench", "{plan}");
    assert_eq!(change["after_unknown"]["id"], true, "{plan}");

    // The apply makes the id known.
    ws.run_ok(&["apply", "-input=false", "-no-color", "create.tfplan"], 0);
    let state = ws.json(&["show", "-json"]);
    let values = &state["values"]["root_module"]["resources"][0]["values"];
    assert_eq!(values["id"], "floor-bench", "{state}");
    assert_eq!(values["name"], "bench", "{state}");

    // Nothing to change afterwards (exit code 0 with -detailed-exitcode).
    ws.run_ok(
        &["plan", "-input=false", "-no-color", "-detailed-exitcode"],
        0,
    );

    // A new name is an update in place that keeps the id; destroy empties the state.
    fs::write(
        ws.dir.join("main.tf"),
        CONFIG.replace("\"bench\"", "\"other\""),
    )
    .expect("main.tf");
    let out = ws.run_ok(
        &["plan", "-input=false", "-no-color", "-detailed-exitcode"],
        2,
    );
    assert!(
        out.contains("1 to change") && out.contains("floor_thing.this"),
        "{out}"
    );
    ws.run_ok(&["apply", "-auto-approve", "-input=false", "-no-color"], 0);
    let state = ws.json(&["show", "-json"]);
    let values = &state["values"]["root_module"]["resources"][0]["values"];
    assert_eq!(values["name"], "other", "{state}");
    assert_eq!(
        values["id"], "floor-bench",
        "an update keeps the id: {state}"
    );
    ws.run_ok(
        &["destroy", "-auto-approve", "-input=false", "-no-color"],
        0,
    );
    let state = ws.json(&["show", "-json"]);
    assert!(
        state["values"].is_null() || state["values"]["root_module"]["resources"].is_null(),
        "destroy left {state}"
    );
}
