//! Compiles the plugin protocol definitions in `proto/` with a pure-Rust protobuf
//! compiler (protox), so that building paved needs no `protoc` binary on the machine,
//! and links the provider on Linux as a position-dependent executable.

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
    Ok(())
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
