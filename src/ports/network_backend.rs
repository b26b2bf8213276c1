//! The cloud behind a network: what a cluster asks of its network, and the trait
//! that builds a `paved_network` on its own, so that a cluster and a database can
//! both start as soon as the network exists.
//!
//! A `paved_network` is the same network a `paved_ha_cluster` builds for itself
//! (subnets laid out by [`subnet_layout`], an internet gateway, NAT gateways per
//! [`NatLayout`], route tables, load-balancer subnet tags), made by a resource of its
//! own. Its components carry the stack's tags with `paved:resource = paved_network`,
//! so a cluster or database of the same name never takes them for its own.
//!
//! The contract is the cluster port's (see [`super::cluster`]): idempotent and
//! adopting, honest on failure ([`Step`] carries what exists), prompt to stop,
//! retries inside, cloud-neutral.

use std::collections::BTreeMap;

use async_trait::async_trait;

#[cfg(doc)]
use super::network::subnet_layout;
use super::network::{NatLayout, Tier};
use crate::stack::cost::Quote;
use crate::stack::tags::Tags;
use crate::stack::Knowable;
use crate::stack::{BackendError, ComponentRecord, StackContext, Step, TeardownReport};

/// Which zones to build in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneChoice {
    /// These zones, in this order (listed by the user or kept from the state).
    Named(Vec<String>),
    /// The first this-many usable zones of the region, by name (as `paved_zones`
    /// picks them).
    Choose(u32),
}

/// The network to ensure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkRequest {
    /// Build (or adopt) the network: VPC, subnets laid out by
    /// [`super::layout::subnet_layout`], internet gateway, NAT gateways per `nat`,
    /// route tables, and subnet tags for load balancers and the cluster autoscaler.
    Build {
        /// The network's range.
        cidr: String,
        /// The zones.
        zones: ZoneChoice,
        /// NAT gateway layout.
        nat: NatLayout,
    },
    /// Use an existing network: check that it and its subnets exist, read their
    /// zones and tag the subnets for the cluster; create nothing else.
    Existing {
        /// The network's id.
        vpc_id: String,
        /// Subnet ids by tier.
        subnet_ids: BTreeMap<Tier, Vec<String>>,
        /// The zones, where the subnets do not decide them (a GCP subnetwork spans
        /// the region; on AWS each subnet's zone is read instead).
        zones: ZoneChoice,
    },
}

/// The network as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkState {
    /// The network's id.
    pub vpc_id: String,
    /// Its range.
    pub cidr: String,
    /// The zones, in zone order.
    pub zones: Vec<String>,
    /// Subnet ids by tier, then by zone.
    pub subnet_ids: BTreeMap<Tier, BTreeMap<String, String>>,
    /// NAT gateway ids, in zone order.
    pub nat_gateway_ids: Vec<String>,
}

/// The network to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkBuild {
    /// The network's range.
    pub cidr: String,
    /// The zones.
    pub zones: ZoneChoice,
    /// NAT gateway layout.
    pub nat: NatLayout,
}

/// What a read of a network stack found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkSnapshot {
    /// The network, when the stack has one.
    pub network: Option<NetworkState>,
    /// Every component of the stack.
    pub components: Vec<ComponentRecord>,
    /// The tags of each component, by key (for tag drift).
    pub tags: BTreeMap<String, Tags>,
}

/// Builds, reads and tears down a `paved_network`.
#[async_trait]
pub trait NetworkBackend: Send + Sync {
    /// What a network over `zone_count` zones with NAT layout `nat` costs a month
    /// in the configured region, priced from paved's table without any call.
    fn cost(&self, _zone_count: u32, _nat: NatLayout) -> Knowable<Quote> {
        Knowable::Known(Quote::NotOffered)
    }

    /// Creates the network, or adopts what an earlier apply made and converges it
    /// (a changed NAT layout is applied in place).
    async fn ensure_network(&self, ctx: &StackContext, req: &NetworkBuild) -> Step<NetworkState>;

    /// Reads the stack back in one batched pass (one call per kind).
    async fn read_network(&self, ctx: &StackContext) -> Result<NetworkSnapshot, BackendError>;

    /// Sets the stack's tags on `components` and removes the tag keys `removed`.
    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()>;

    /// Tears the network down, with what is left in it (load balancers' interfaces
    /// and security groups Kubernetes made); what cannot go is reported.
    async fn delete_network(&self, ctx: &StackContext) -> Step<TeardownReport>;
}
