//! What the `promtool_*` and `amtool_*` tests share: the specs they render (each
//! platform, a production-like and a minimal spec, self-hosted and managed; built
//! once, in `paved_observability::fixtures::metrics`) and running a real binary,
//! which must be installed when `PAVED_REQUIRE_TOOLS=1`.

use std::path::Path;
use std::process::Command;

pub use paved_observability::fixtures::metrics::*;

/// Whether the binary `name` can be run. When it cannot, the test fails if
/// `PAVED_REQUIRE_TOOLS=1` (CI), and otherwise says it is skipped.
pub fn tool_available(name: &str) -> bool {
    let runs = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if runs {
        return true;
    }
    if std::env::var("PAVED_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!(
            "{name} is required (PAVED_REQUIRE_TOOLS=1) but not installed: \
             apt-get install -y prometheus prometheus-alertmanager"
        );
    }
    println!("skipped: {name} not installed");
    false
}

/// Runs `name args` in `dir`; its standard output, or a panic with everything
/// it printed and the files it was given.
pub fn run(dir: &Path, name: &str, args: &[&str]) -> String {
    let output = Command::new(name)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("could not run {name}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut files = String::new();
        for arg in args {
            let path = dir.join(arg);
            if let Ok(text) = std::fs::read_to_string(&path) {
                let numbered: Vec<String> = text
                    .lines()
                    .enumerate()
                    .map(|(i, l)| format!("{:4} {l}", i + 1))
                    .collect();
                files.push_str(&format!("--- {arg}\n{}\n", numbered.join("\n")));
            }
        }
        panic!(
            "`{name} {}` failed ({}):\n{stdout}\n{stderr}\n{files}",
            args.join(" "),
            output.status
        );
    }
    stdout
}
