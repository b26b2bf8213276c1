//! The protocol layer: turns tfplugin6 RPCs into calls on the framework's traits.
//!
//! Decodes every value with the schema's implied type, calls the provider, the
//! resource or the data source, and encodes the answer. Resources never see
//! protobuf; this layer never sees a cloud.

pub mod convert;
mod registry;
mod service;

pub use registry::ProviderService;

#[cfg(test)]
mod tests;
