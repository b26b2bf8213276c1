//! Code generated from `proto/` at build time: the Terraform plugin protocol
//! (`tfplugin6`) and the plugin library's services (`plugin`).

/// Terraform plugin protocol 6, as of Terraform 1.15.5.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// The go-plugin services: controller, broker and stdio.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
