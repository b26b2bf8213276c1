//! Writes example observability stacks as GitOps files (one YAML per object and a
//! kustomization.yaml) under OUT_DIR/<profile>-<cloud>/ for scripts/check-manifests.sh:
//! production, staging and development self-hosted on EKS and GKE, and production in
//! managed mode (Amazon Managed Prometheus; no custom-metrics adapter there) on EKS.
//!
//! Usage: cargo run -p paved-observability --example render -- OUT_DIR

use std::path::Path;
use std::process::ExitCode;

use paved_manifests::to_gitops_files;
use paved_observability::fixtures::profile as spec;
use paved_observability::render;

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
    let mut stacks = Vec::new();
    for profile in ["production", "staging", "development"] {
        for cloud in ["eks", "gke"] {
            stacks.push((format!("{profile}-{cloud}"), spec(profile, cloud, false)));
        }
    }
    stacks.push((
        "production-eks-managed".into(),
        spec("production", "eks", true),
    ));
    for (name, spec) in stacks {
        let rendered = render(&spec)?;
        let dir = out.join(&name);
        for (file, text) in to_gitops_files(&rendered)? {
            let path = dir.join(file);
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
            "{name}: {} objects ({})",
            rendered.objects.len(),
            counts.join(" ")
        );
    }
    Ok(())
}
