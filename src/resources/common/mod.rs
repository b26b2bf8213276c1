//! Code shared by the managed resources: helpers that more than one resource
//! model uses in the same way.

pub mod plan;
pub mod reader;
pub mod resource;
pub mod schema;
pub mod state;
#[cfg(test)]
pub mod testing;
pub mod validate;
