//! The `terraform-provider-paved` binary: see [`paved::cli`].

fn main() -> std::process::ExitCode {
    paved::cli::run()
}
