//! Every service of the GCP stand-in behind one dispatch: a request goes to the
//! first service that claims its path. Services may read each other (GKE checks the
//! subnetwork Compute holds; Cloud SQL checks the Service Networking connection and
//! the KMS key's grant), so each handler gets the world as `&dyn Peers`: the
//! cross-service queries it answers by asking the service that holds the state.
//! Each service keeps its own state behind its own lock.

use serde_json::Value;

use super::config::GcpFakeConfig;
use super::http::{GcpAnswer, GcpRequest};
use super::peers::Peers;
use super::{compute, gke, iam, kms, networking, secrets, sql};

/// All services' state.
#[derive(Debug)]
pub(crate) struct World {
    /// The settings it was started with.
    pub config: GcpFakeConfig,
    /// Compute Engine: zones, regions, networks, subnetworks, routers, addresses.
    pub compute: compute::Compute,
    /// GKE: clusters and node pools.
    pub gke: gke::Gke,
    /// Cloud KMS: key rings, keys, their IAM policies.
    pub kms: kms::Kms,
    /// IAM service accounts and the project's IAM policy (Resource Manager).
    pub iam: iam::Iam,
    /// Secret Manager: secrets and versions.
    pub secrets: secrets::Secrets,
    /// Cloud SQL: instances, users, backups (`/v1` and `/sql/v1beta4`).
    pub sql: sql::Sql,
    /// Service Networking: private service access connections.
    pub networking: networking::Networking,
}

impl World {
    /// A world with nothing in it.
    pub(crate) fn new(config: GcpFakeConfig) -> Self {
        Self {
            compute: compute::Compute::new(&config),
            gke: gke::Gke::new(&config),
            kms: kms::Kms::new(&config),
            iam: iam::Iam::new(&config),
            secrets: secrets::Secrets::new(&config),
            sql: sql::Sql::new(&config),
            networking: networking::Networking::new(&config),
            config,
        }
    }

    /// Answers one request: the first service that claims it answers; 404 when none does.
    pub(crate) fn handle(&self, req: &GcpRequest) -> GcpAnswer {
        let answer = self
            .compute
            .handle(self, req)
            .or_else(|| self.gke.handle(self, req))
            .or_else(|| self.kms.handle(self, req))
            .or_else(|| self.iam.handle(self, req))
            .or_else(|| self.secrets.handle(self, req))
            .or_else(|| self.sql.handle(self, req))
            .or_else(|| self.networking.handle(self, req));
        answer.unwrap_or_else(|| {
            GcpAnswer::error(
                404,
                "NOT_FOUND",
                format!("paved-gcp-fake does not model {} {}", req.method, req.path),
            )
        })
    }
}

impl Peers for World {
    fn config(&self) -> &GcpFakeConfig {
        &self.config
    }

    fn network_exists(&self, project: &str, name: &str) -> bool {
        self.compute.network_exists(project, name)
    }

    fn network_json(&self, project: &str, name: &str) -> Option<Value> {
        self.compute.network_json(project, name)
    }

    fn network_self_links(&self) -> Vec<String> {
        self.compute.network_self_links()
    }

    fn subnetwork(&self, project: &str, region: &str, name: &str) -> Option<Value> {
        self.compute.subnetwork(project, region, name)
    }

    fn global_address(&self, project: &str, name: &str) -> Option<Value> {
        self.compute.global_address(project, name)
    }

    fn add_peering(&self, project: &str, network: &str, peering: &str, peer_network: &str) {
        self.compute
            .add_peering(project, network, peering, peer_network);
    }

    fn remove_peering(&self, project: &str, network: &str, peering: &str) -> bool {
        self.compute.remove_peering(project, network, peering)
    }

    fn subnetwork_user(
        &self,
        project: &str,
        region: &str,
        name: &str,
    ) -> Option<(String, Vec<String>)> {
        self.gke.subnetwork_user(project, region, name)
    }

    fn key_exists(&self, name: &str) -> bool {
        self.kms.key_exists(name)
    }

    fn key_grants(&self, key: &str, member: &str, role: &str) -> bool {
        self.kms.grants(key, member, role)
    }

    fn project_grants(&self, project: &str, member: &str, role: &str) -> bool {
        self.iam.project_grants(project, member, role)
    }

    fn connection_ranges(&self, project: &str, name: &str) -> Option<Vec<String>> {
        self.networking
            .connection_ranges(self.config.project_number, project, name)
    }

    fn sql_instances_on_network(&self, project: &str, network: &str) -> Vec<String> {
        self.sql
            .instances_on_network(self.config.project_number, project, network)
    }

    fn sql_ranges_in_use(&self, project: &str, network: &str) -> Vec<String> {
        self.sql
            .ranges_in_use(self.config.project_number, project, network)
    }
}
