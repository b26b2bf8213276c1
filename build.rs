//! Compiles the plugin protocol definitions in `proto/` with a pure-Rust protobuf
//! compiler (protox), so that building paved needs no `protoc` binary on the machine,
//! and links the provider on Linux as a position-dependent executable with identical
//! functions folded.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/tfplugin6.proto",
        "proto/grpc_broker.proto",
        "proto/grpc_controller.proto",
        "proto/grpc_stdio.proto",
    ];
    for file in &files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .file_descriptor_set_path(out_dir.join("descriptors.bin"))
        .compile_fds(descriptors)?;
    link_position_dependent();
    fold_identical_code();
    Ok(())
}

/// Folds identical functions into one at link time (`--icf=all`) when the linker can:
/// LLD (Rust's default linker on x86_64 Linux since 1.90), mold and gold. The cloud
/// API clients build without optimisation, which leaves many functions identical to
/// the byte (a response parser's copies per type, drop glue): folding them takes about
/// 8 MiB off the binary, which Terraform hashes at every plan, and the pages it maps.
/// Rust gives no promise that two functions have different addresses, so folding
/// changes nothing a program may rely on. A linker without the option (GNU ld) is
/// found by linking an empty program with it first; the build then links as before.
fn fold_identical_code() {
    const ARG: &str = "-Wl,--icf=all";
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let (Ok(rustc), Ok(target), Ok(out)) = (
        std::env::var("RUSTC"),
        std::env::var("TARGET"),
        std::env::var("OUT_DIR"),
    ) else {
        return;
    };
    let dir = PathBuf::from(out).join("icf-probe");
    if std::fs::create_dir_all(&dir).is_err()
        || std::fs::write(dir.join("probe.rs"), "fn main() {}\n").is_err()
    {
        return;
    }
    let mut probe = std::process::Command::new(rustc);
    probe
        .arg("--target")
        .arg(&target)
        .arg("--edition=2021")
        .arg("-o")
        .arg(dir.join("probe"))
        .arg(dir.join("probe.rs"))
        .arg("-C")
        .arg(format!("link-arg={ARG}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Ok(linker) = std::env::var("RUSTC_LINKER") {
        probe.arg("-C").arg(format!("linker={linker}"));
    }
    if let Ok(flags) = std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        probe.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    }
    if probe.status().is_ok_and(|s| s.success()) {
        println!("cargo:rustc-link-arg-bins={ARG}");
    }
}

/// Links the provider binary on Linux as a position-dependent executable (`-no-pie`),
/// as Go builds Terraform and its providers. A PIE carries one dynamic relocation per
/// pointer in its read-only data (about 270,000 here, 6.6 MB of `.rela.dyn`) that the
/// loader applies at every start, and Terraform starts the provider three times per
/// plan: the relocations cost start-up time, about 10 MB of resident memory (the table
/// read and the relocated pages copied) and hashing time, as Terraform hashes the whole
/// binary against the lock file at every run. The code stays position-independent;
/// the heap, stacks and shared libraries keep their randomised addresses.
fn link_position_dependent() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
