//! What one service of the GCP stand-in may ask of the others: GKE reads the
//! subnetworks Compute holds, Compute asks GKE which cluster uses a subnetwork,
//! Service Networking checks networks and reserved ranges and adds peerings,
//! Cloud SQL checks the Service Networking connection and the CMEK key's grant.
//! Each service's handler gets a `&dyn Peers` (the world implements it), so no
//! service names another, nor the world that holds them all.

use serde_json::Value;

use super::config::GcpFakeConfig;
use super::util::split_network;

/// The cross-service queries and changes, and the settings.
pub(crate) trait Peers {
    /// The settings the stand-in was started with.
    fn config(&self) -> &GcpFakeConfig;

    // ----- Compute -----

    /// Whether Compute holds network `name` in `project`.
    fn network_exists(&self, project: &str, name: &str) -> bool;
    /// A network's JSON, as Compute holds it.
    fn network_json(&self, project: &str, name: &str) -> Option<Value>;
    /// The `selfLink` of every network Compute holds, in Compute's order.
    fn network_self_links(&self) -> Vec<String>;
    /// A subnetwork's JSON, as Compute holds it.
    fn subnetwork(&self, project: &str, region: &str, name: &str) -> Option<Value>;
    /// A global address, as Compute holds it.
    fn global_address(&self, project: &str, name: &str) -> Option<Value>;
    /// Adds (or replaces) peering `peering` to `peer_network` on Compute's
    /// `network`; nothing when the network does not exist.
    fn add_peering(&self, project: &str, network: &str, peering: &str, peer_network: &str);
    /// Removes peering `peering` from Compute's `network`; whether it was there.
    fn remove_peering(&self, project: &str, network: &str, peering: &str) -> bool;

    // ----- GKE -----

    /// The first GKE cluster using subnetwork `name` of `region`, with the
    /// secondary ranges it uses.
    fn subnetwork_user(
        &self,
        project: &str,
        region: &str,
        name: &str,
    ) -> Option<(String, Vec<String>)>;

    // ----- Cloud KMS -----

    /// Whether the KMS key `name` exists.
    fn key_exists(&self, name: &str) -> bool;
    /// Whether KMS key `key`'s IAM policy binds `member` to `role`.
    fn key_grants(&self, key: &str, member: &str, role: &str) -> bool;

    /// Whether `member` holds `role` on KMS key `key`, granted on the key or on
    /// the key's project (IAM inheritance).
    fn key_role(&self, key: &str, member: &str, role: &str) -> bool {
        let project = key.split('/').nth(1).unwrap_or_default();
        self.key_grants(key, member, role) || self.project_grants(project, member, role)
    }

    // ----- IAM -----

    /// Whether `project`'s IAM policy binds `member` to `role`.
    fn project_grants(&self, project: &str, member: &str, role: &str) -> bool;

    // ----- Service Networking -----

    /// The reserved range names of the Service Networking connection on
    /// `project`'s network `name`, when there is one.
    fn connection_ranges(&self, project: &str, name: &str) -> Option<Vec<String>>;

    // ----- Cloud SQL -----

    /// Names of the Cloud SQL instances whose private IP is on `project`'s
    /// network `network`.
    fn sql_instances_on_network(&self, project: &str, network: &str) -> Vec<String>;
    /// Reserved ranges that Cloud SQL instances on `project`'s network `network` use.
    fn sql_ranges_in_use(&self, project: &str, network: &str) -> Vec<String>;

    /// The project id under which Compute holds network `name`, for a reference
    /// that may be the project number (as Service Networking names networks):
    /// `project` itself unless it is the number and Compute has no such project.
    fn compute_project(&self, project: &str, name: &str) -> String {
        let number = self.config().project_number.to_string();
        if project != number || self.network_exists(project, name) {
            return project.to_owned();
        }
        self.network_self_links()
            .iter()
            .filter_map(|link| split_network(link))
            .find(|(_, n)| n == name)
            .map(|(p, _)| p)
            .unwrap_or_else(|| project.to_owned())
    }
}
