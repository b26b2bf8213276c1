//! `paved_ha_cluster` on GCP: a regional GKE cluster with its network (a VPC, one
//! subnetwork with pod and service ranges, Cloud Router and NAT), the nodes' service
//! account, and the key that encrypts Kubernetes secrets. See each module for its
//! part; this one holds the backend, the components a stack consists of on GCP (the
//! plan's inventory) and the port's implementation.
//!
//! GKE runs one operation per cluster at a time, so every cluster and pool change
//! of one backend goes through [`GcpClusterBackend::ops`], one after the other.

mod common;
mod gke;
mod identity;
mod key;
mod names;
mod network;
mod pools;
mod read;
mod retag;
mod teardown;

use std::sync::Arc;

use async_trait::async_trait;

use super::clients::GcpClients;
use crate::ports::cluster::{
    Capacity, ClusterBackend, ClusterShape, ControlPlaneRequest, ControlPlaneState,
    IdentityRequest, IdentityState, NetworkRequest, NetworkState, NodePoolRequest, NodePoolState,
    StackSnapshot, TeardownRequest, Unsupported,
};
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::ports::network::NatLayout;
use crate::stack::cost::Quote;
use crate::stack::inventory::Component;
use crate::stack::{BackendError, ComponentRecord, Knowable, StackContext, Step, TeardownReport};

pub use gke::{log_components, minor_of};
pub use network::ranges;

/// The GKE backend of `paved_ha_cluster`.
pub struct GcpClusterBackend {
    clients: Arc<GcpClients>,
    /// One cluster operation at a time.
    ops: tokio::sync::Mutex<()>,
}

impl GcpClusterBackend {
    /// A backend over `clients`.
    pub fn new(clients: Arc<GcpClients>) -> Self {
        Self {
            clients,
            ops: tokio::sync::Mutex::new(()),
        }
    }

    /// The region stacks are built in.
    fn region(&self) -> Result<String, BackendError> {
        self.clients.stack_region()
    }
}

/// The components of a GKE stack of `shape`, in creation order.
pub fn components(shape: &ClusterShape) -> Knowable<Vec<Component>> {
    let (
        Knowable::Known(builds),
        Knowable::Known(zones),
        Knowable::Known(creates_key),
        Knowable::Known(pools),
    ) = (
        &shape.builds_network,
        &shape.zone_count,
        &shape.creates_key,
        &shape.pools,
    )
    else {
        return Knowable::Unknown;
    };
    let fixed = || Knowable::Known(String::new());
    let mut out = Vec::new();
    if *builds {
        let (Knowable::Known(Some(cidr)), Knowable::Known(nat)) = (&shape.cidr, &shape.nat) else {
            return Knowable::Unknown;
        };
        out.push(Component::regional(
            "network",
            network::kind::NETWORK,
            Knowable::Known(cidr.clone()),
        ));
        out.push(Component::regional(
            "subnetwork",
            network::kind::SUBNETWORK,
            Knowable::Known(cidr.clone()),
        ));
        if *nat == NatLayout::PerZone {
            for i in 0..*zones {
                out.push(Component::regional(
                    format!("nat_address.{i}"),
                    network::kind::NAT_ADDRESS,
                    fixed(),
                ));
            }
        }
        if *nat != NatLayout::None {
            out.push(Component::regional(
                "router",
                network::kind::ROUTER,
                fixed(),
            ));
        }
    }
    out.push(Component::regional(
        "service_account.nodes",
        identity::SERVICE_ACCOUNT,
        fixed(),
    ));
    if *creates_key {
        out.push(Component::regional("kms_key", key::KMS_KEY, fixed()));
    }
    out.push(Component::regional(
        "cluster",
        gke::CLUSTER,
        shape.name.clone(),
    ));
    for pool in pools {
        // Spot and on-demand are different GKE pools: a change makes a new one.
        let identity = pool.capacity.clone().map(|c| match c {
            Capacity::OnDemand => "on_demand".to_owned(),
            Capacity::Spot => "spot".to_owned(),
        });
        out.push(Component::regional(
            format!("node_pool.{}", pool.name),
            pools::NODE_POOL,
            identity,
        ));
    }
    Knowable::Known(out)
}

#[async_trait]
impl ClusterBackend for GcpClusterBackend {
    fn components(&self, shape: &ClusterShape) -> Knowable<Vec<Component>> {
        components(shape)
    }

    fn cost(&self, shape: &ClusterShape) -> Knowable<Quote> {
        super::cost::cluster(self.clients.region(), shape)
    }

    fn platform(&self) -> Option<&'static str> {
        Some("gke")
    }

    fn regional_subnets(&self) -> bool {
        true
    }

    fn unsupported(&self, shape: &ClusterShape) -> Vec<Unsupported> {
        let mut out = Vec::new();
        if shape.admins.known().is_some_and(|a| !a.is_empty()) {
            out.push(Unsupported {
                path: &["cluster_admins"],
                message: "cluster_admins maps IAM principals to EKS access entries; GKE has no such \
                          entries. Grant roles/container.clusterAdmin (or a ClusterRoleBinding) to the \
                          Google identities instead, and leave cluster_admins empty on GKE."
                    .to_owned(),
            });
        }
        let platform_admins = shape.platform_admins.known().is_some_and(|p| !p.is_empty());
        if platform_admins {
            out.push(Unsupported {
                path: &["platform_admins"],
                message: "platform_admins are IAM role ARNs mapped to a Kubernetes group by EKS access \
                          entries; GKE has no such entries. Bind the group through Google Groups for RBAC \
                          instead, and leave platform_admins empty on GKE."
                    .to_owned(),
            });
        }
        let team_roles = shape
            .group_principals
            .known()
            .is_some_and(|p| !p.is_empty());
        if team_roles && !platform_admins {
            out.push(Unsupported {
                path: &["teams"],
                message: "A team's roles are IAM role ARNs mapped to the team's group by EKS access \
                          entries; on GKE the team's namespaces, quotas and RBAC are made, but its people \
                          come in through Google Groups for RBAC. Leave teams[*].roles empty on GKE."
                    .to_owned(),
            });
        }
        out
    }

    async fn ensure_network(&self, ctx: &StackContext, req: &NetworkRequest) -> Step<NetworkState> {
        self.network(ctx, req).await
    }

    async fn ensure_identities(
        &self,
        ctx: &StackContext,
        req: &IdentityRequest,
    ) -> Step<IdentityState> {
        self.identities(ctx, req).await
    }

    async fn ensure_encryption_key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState> {
        self.key(ctx, req).await
    }

    async fn ensure_control_plane(
        &self,
        ctx: &StackContext,
        req: &ControlPlaneRequest,
    ) -> Step<ControlPlaneState> {
        self.control_plane(ctx, req).await
    }

    async fn ensure_node_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState> {
        self.ensure_pool(ctx, req).await
    }

    async fn upgrade_control_plane(
        &self,
        ctx: &StackContext,
        to_version: &str,
    ) -> Step<ControlPlaneState> {
        self.upgrade(ctx, to_version).await
    }

    async fn update_node_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState> {
        self.update_pool(ctx, req).await
    }

    async fn delete_node_pool(&self, ctx: &StackContext, name: &str) -> Step<()> {
        self.delete_pool(ctx, name).await
    }

    async fn ensure_addons(
        &self,
        _ctx: &StackContext,
        _req: &crate::ports::cluster::AddonsRequest,
    ) -> Step<Vec<crate::ports::cluster::AddonState>> {
        // GKE installs and upgrades its own add-ons (CNI, DNS, the disk driver,
        // metrics-server) with the cluster: nothing for paved to manage.
        Step::done(Vec::new(), Vec::new())
    }

    async fn read_stack(&self, ctx: &StackContext) -> Result<Option<StackSnapshot>, BackendError> {
        self.read(ctx).await
    }

    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        _removed: &[String],
    ) -> Step<()> {
        // GCP replaces a component's labels as a whole: keys no longer wanted go
        // with the new set.
        match self.relabel(ctx, components).await {
            Ok(()) => Step::done((), Vec::new()),
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn delete_stack(
        &self,
        ctx: &StackContext,
        req: &TeardownRequest,
    ) -> Step<TeardownReport> {
        self.teardown(ctx, req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::cluster::PoolShape;

    fn shape(nat: NatLayout) -> ClusterShape {
        ClusterShape {
            nat: Knowable::Known(nat),
            log_types: Knowable::Known(vec!["api".into()]),
            ..ClusterShape::production(vec![PoolShape::sized(
                "system",
                &["e2-standard-4"],
                Capacity::OnDemand,
                3,
            )])
        }
    }

    #[test]
    fn a_production_stack_lists_gcp_components() {
        let Knowable::Known(list) = components(&shape(NatLayout::PerZone)) else {
            panic!("known")
        };
        let keys: Vec<&str> = list.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "network",
                "subnetwork",
                "nat_address.0",
                "nat_address.1",
                "nat_address.2",
                "router",
                "service_account.nodes",
                "kms_key",
                "cluster",
                "node_pool.system"
            ]
        );
        let Knowable::Known(none) = components(&shape(NatLayout::None)) else {
            panic!("known")
        };
        assert!(!none.iter().any(|c| c.key == "router"));
        let mut unknown = shape(NatLayout::Single);
        unknown.pools = Knowable::Unknown;
        assert_eq!(components(&unknown), Knowable::Unknown);
    }
}
