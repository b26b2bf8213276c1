//! Writes the example baselines (production, staging, development on EKS and GKE) as
//! GitOps files under OUT_DIR/<profile>-<cloud>/, for scripts/check-manifests.sh.
//!
//! Usage: cargo run -p paved-manifests --example render -- OUT_DIR

use std::path::Path;
use std::process::ExitCode;

use paved_manifests::*;

#[allow(dead_code)]
#[path = "../src/fixtures.rs"]
mod fixtures;

fn main() -> ExitCode {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: render OUT_DIR");
        return ExitCode::from(2);
    };
    match write_all(Path::new(&out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("render: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_all(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    for profile in fixtures::PROFILES {
        for cloud in fixtures::CLOUDS {
            let spec = fixtures::by_name(profile, cloud).ok_or("unknown profile")?;
            let rendered = render(&spec)?;
            let dir = out.join(format!("{profile}-{}", cloud.name()));
            for (name, text) in to_gitops_files(&rendered)? {
                let path = dir.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&path, text)?;
            }
            let counts: Vec<String> = rendered
                .count_by_kind()
                .iter()
                .map(|(kind, n)| format!("{kind}={n}"))
                .collect();
            println!(
                "{profile}-{}: {} objects ({}) digest {}",
                cloud.name(),
                rendered.objects.len(),
                counts.join(" "),
                &rendered.digest()[..16]
            );
        }
    }
    Ok(())
}
