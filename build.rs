//! Compiles the plugin protocol definitions in `proto/` with a pure-Rust protobuf
//! compiler (protox), so that building paved needs no `protoc` binary on the machine.

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
    Ok(())
}
