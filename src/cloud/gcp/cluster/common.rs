//! What the GKE modules share: the reading of GKE's version words and the mapping
//! of a failed GKE call. A leaf of the cluster adapter: it imports none of its
//! siblings.

use crate::cloud::gcp::call::GcpFailure;
use crate::stack::BackendError;

/// Maps a failure of the GKE API during `what`.
pub(super) fn gke_fail(what: &'static str) -> impl Fn(GcpFailure) -> BackendError {
    move |f| f.into_backend_error("GKE", what)
}

/// `major.minor` of a GKE version (`1.31.5-gke.1000` → `1.31`).
pub fn minor_of(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}
