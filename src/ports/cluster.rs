//! The cloud behind a `paved_ha_cluster`: the trait the AWS (and later GCP) backends
//! implement, in the product's terms.
//!
//! The resource's lifecycle (still to come) drives a backend through these steps:
//! network, encryption key, identities (the control plane's and the nodes'), control
//! plane (with its log group, workload identity provider and admin access),
//! identities again (the autoscaler's, bound
//! through the OIDC provider), then each node pool. Upgrades go one minor version at
//! a time: control plane first, then every pool. Refresh reads the whole stack in one
//! batched pass, and destroy tears it down in order.
//!
//! Contract every method keeps:
//! - **Idempotent and adopting.** Every component carries the stack's tags
//!   ([`STACK_TAG`] with the stack name, [`COMPONENT_TAG`] with its inventory key).
//!   An `ensure_*` call first looks for components with those tags and adopts them,
//!   creates only what is missing, changes in place what differs, and removes
//!   surplus components of its own area (a NAT gateway no longer wanted). Calling it
//!   again with the same request changes nothing. So an apply cut off by a crash,
//!   Ctrl-C or a timeout resumes where it stopped, without duplicates or orphans.
//! - **Honest on failure.** Each call returns a [`Step`]: the components that exist
//!   after the call (created, adopted or found) even when it failed, and the result.
//!   The resource saves them as partial state, so Terraform forgets nothing.
//! - **Prompt to stop.** Calls watch [`StackContext::cancel`] and
//!   [`StackContext::deadline`] between cloud calls and return
//!   [`BackendError::Cancelled`] or [`BackendError::TimedOut`], keeping what exists.
//! - **Retries inside.** Throttling and 5xx answers are retried with backoff and
//!   jitter (the shared engine); [`BackendError::Retryable`] reaches the caller only
//!   when retries ran out.
//! - **Cloud-neutral.** Inputs and outputs are plain structs; ids are strings.
//! - **The autoscaler owns node counts.** No call sets or resets a pool's current
//!   size; pools are created at `min_size` and then only their bounds change.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::key::{EncryptionKeyRequest, KeyState};
use super::network::NatLayout;
pub use super::network_backend::{NetworkRequest, NetworkState, ZoneChoice};
use crate::stack::cost::Quote;
use crate::stack::inventory::Component;
#[cfg(doc)]
use crate::stack::tags::{COMPONENT_TAG, STACK_TAG};
use crate::stack::{BackendError, ComponentRecord, Knowable, StackContext, Step, TeardownReport};

/// Component kinds of an EKS stack, as the AWS adapter's inventory names them
/// (other clouds' adapters name their own).
pub mod kind {
    /// The network (AWS VPC).
    pub const VPC: &str = "vpc";
    /// The network's internet gateway.
    pub const INTERNET_GATEWAY: &str = "internet_gateway";
    /// A subnet.
    pub const SUBNET: &str = "subnet";
    /// A public address for a NAT gateway.
    pub const ELASTIC_IP: &str = "elastic_ip";
    /// A NAT gateway.
    pub const NAT_GATEWAY: &str = "nat_gateway";
    /// A route table.
    pub const ROUTE_TABLE: &str = "route_table";
    /// An IAM role.
    pub const IAM_ROLE: &str = "iam_role";
    /// The key that encrypts Kubernetes secrets.
    pub const KMS_KEY: &str = "kms_key";
    /// The control-plane log group.
    pub const LOG_GROUP: &str = "log_group";
    /// The Kubernetes control plane (EKS cluster).
    pub const CLUSTER: &str = "cluster";
    /// The OIDC provider for workload identity.
    pub const OIDC_PROVIDER: &str = "oidc_provider";
    /// Cluster-admin access for one principal.
    pub const ACCESS_ENTRY: &str = "access_entry";
    /// Access for one principal mapped to Kubernetes groups (teams).
    pub const GROUP_ACCESS: &str = "group_access";
    /// A managed add-on (EKS add-on).
    pub const EKS_ADDON: &str = "eks_addon";
    /// A node pool's launch template.
    pub const LAUNCH_TEMPLATE: &str = "launch_template";
    /// A node pool (managed node group).
    pub const NODE_GROUP: &str = "node_group";
}

/// How a node pool buys its machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// Regular machines.
    OnDemand,
    /// Spare capacity at a discount, reclaimed at short notice.
    Spot,
}

impl Capacity {
    /// Every kind.
    pub const ALL: [Capacity; 2] = [Capacity::OnDemand, Capacity::Spot];

    /// The name used in HCL.
    pub fn as_str(self) -> &'static str {
        match self {
            Capacity::OnDemand => "on_demand",
            Capacity::Spot => "spot",
        }
    }

    /// Parses the HCL name.
    pub fn parse(name: &str) -> Option<Capacity> {
        Capacity::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// The identities (cloud roles or service accounts) to ensure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRequest {
    /// The cluster's OIDC provider, once the control plane exists; with it, the
    /// autoscaler role (bound to its service account) is ensured too.
    pub workload_identity_provider: Option<String>,
}

/// The identities as they exist (their ids in the cloud).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityState {
    /// The control plane's identity.
    pub control_plane_identity: String,
    /// The nodes' identity.
    pub node_identity: String,
    /// The cluster autoscaler's identity, once ensured.
    pub autoscaler_identity: Option<String>,
    /// The storage driver's identity (the EBS CSI driver's role on AWS), bound to
    /// its service account like the autoscaler's; once ensured.
    pub storage_driver_identity: Option<String>,
}

/// A managed add-on the cloud installs and upgrades in the cluster (EKS add-ons:
/// `vpc-cni`, `coredns`, `kube-proxy`, `aws-ebs-csi-driver`, `metrics-server`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonRequest {
    /// The add-on's name in the cloud's catalogue.
    pub name: String,
    /// The version; `None` for the cloud's default for the cluster's Kubernetes
    /// version (and, after an upgrade, the new version's default).
    pub version: Option<String>,
    /// The identity its service account runs as (the storage driver's role).
    pub identity: Option<String>,
}

/// The add-ons to converge: each ensured at the version for `kubernetes_version`,
/// add-ons paved installed earlier and no longer listed removed, others left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonsRequest {
    /// The cluster's running `major.minor` version.
    pub kubernetes_version: String,
    /// The add-ons wanted.
    pub addons: Vec<AddonRequest>,
}

/// An add-on as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonState {
    /// The add-on's name.
    pub name: String,
    /// The version installed.
    pub version: String,
    /// The cloud's status word (`ACTIVE`, `CREATING`, `DEGRADED`...).
    pub status: String,
    /// The identity its service account runs as.
    pub identity: Option<String>,
}

/// Access to the cluster's API for principals, mapped to Kubernetes groups (EKS
/// access entries with `kubernetes_groups`; GKE binds Google groups directly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAccess {
    /// The principal (an IAM role ARN on AWS).
    pub principal: String,
    /// The Kubernetes groups it is a member of (RBAC bindings name them).
    pub groups: Vec<String>,
}

/// The control plane to ensure. Settings that can change in place (log types and
/// retention, public access CIDRs, admins) are converged; the version is only set
/// at create (see [`ClusterBackend::upgrade_control_plane`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPlaneRequest {
    /// The cluster's name.
    pub name: String,
    /// `major.minor` at create; `None` for the newest the cloud offers.
    pub kubernetes_version: Option<String>,
    /// The network the cluster runs in (a VPC id on AWS, a network's name on GCP),
    /// built by the stack or the user's.
    pub vpc_id: String,
    /// Subnets for the control plane's network interfaces (the intra subnets).
    pub subnet_ids: Vec<String>,
    /// The zones the stack spreads over, in zone order.
    pub zones: Vec<String>,
    /// CIDRs allowed to reach the public endpoint; empty: private endpoint only.
    pub public_access_cidrs: Vec<String>,
    /// The secrets encryption key.
    pub encryption_key: String,
    /// The control plane's identity.
    pub control_plane_identity: String,
    /// Control-plane log types; empty: no logs (and no log group).
    pub log_types: Vec<String>,
    /// Log retention, in days.
    pub log_retention_days: u32,
    /// Principals given cluster-admin access. Access paved granted earlier to a
    /// principal no longer listed is revoked; access granted by anyone else is left.
    pub admins: Vec<String>,
    /// The node pools, when the cloud creates a new cluster with its pools (GKE:
    /// so that no default pool ever exists); empty on an existing cluster. Clouds
    /// that create pools separately ignore it: every pool is then ensured by
    /// [`ClusterBackend::ensure_node_pool`] all the same.
    pub initial_node_pools: Vec<NodePoolRequest>,
}

/// The control plane as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPlaneState {
    /// The cluster's id.
    pub id: String,
    /// The API endpoint URL.
    pub endpoint: String,
    /// The certificate authority, base64-encoded PEM.
    pub certificate_authority: String,
    /// The service-account token issuer.
    pub oidc_issuer_url: String,
    /// The OIDC provider registered for the issuer.
    pub workload_identity_provider: String,
    /// The running `major.minor` version.
    pub kubernetes_version: String,
    /// The platform's word (`eks`, `gke`), for what runs in the cluster.
    pub platform: String,
    /// Where the cluster is (the region, or a GCP location).
    pub location: String,
    /// The account or project the cluster lives in.
    pub account: String,
    /// The cloud's status word (`ACTIVE`, `UPDATING`...).
    pub status: String,
    /// The principals that hold cluster access (the cloud's access entries), as
    /// listed; `None` when the cloud could not list them (the state's value stands).
    pub admins: Option<Vec<String>>,
    /// A kubeconfig for the cluster that authenticates through the cloud's own
    /// tooling (no credential inside); empty when the adapter cannot make one.
    pub kubeconfig: String,
}

/// The status words by which clouds say a node pool is up and serving (EKS
/// `ACTIVE`, GKE `RUNNING`).
pub const POOL_READY: &[&str] = &["ACTIVE", "RUNNING"];

/// The Kubernetes label every node of a pool carries, with the pool's name as its
/// value: what in-cluster workloads select a pool by (the autoscaler runs on the
/// `system` pool). Adapters set it and leave it out of the labels they report.
pub const POOL_LABEL: &str = "paved.dev/pool";

/// A taint on a pool's nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

/// A node pool to ensure or update. There is no desired size: a new pool starts at
/// `min_size` and the autoscaler owns it afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePoolRequest {
    /// The pool's name.
    pub name: String,
    /// Instance types, in order of preference.
    pub instance_types: Vec<String>,
    /// On-demand or spot.
    pub capacity: Capacity,
    /// Fewest nodes.
    pub min_size: u32,
    /// Most nodes.
    pub max_size: u32,
    /// Root disk size, in GB.
    pub disk_size_gb: u32,
    /// Kubernetes labels.
    pub labels: BTreeMap<String, String>,
    /// Kubernetes taints.
    pub taints: Vec<Taint>,
    /// Subnets the pool spreads over (the private subnets, one per zone).
    pub subnet_ids: Vec<String>,
    /// The nodes' identity.
    pub node_identity: String,
    /// The Kubernetes version the nodes run (the control plane's).
    pub kubernetes_version: String,
}

/// A node pool as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePoolState {
    /// The pool's name.
    pub name: String,
    /// The node group's id.
    pub id: String,
    /// The launch template's id.
    pub launch_template_id: String,
    /// The cloud's status word (`ACTIVE`, `DEGRADED`...).
    pub status: String,
    /// The version its nodes run.
    pub kubernetes_version: String,
    /// Instance types.
    pub instance_types: Vec<String>,
    /// On-demand or spot.
    pub capacity: Capacity,
    /// Fewest nodes.
    pub min_size: u32,
    /// Most nodes.
    pub max_size: u32,
    /// Kubernetes labels on its nodes.
    pub labels: BTreeMap<String, String>,
    /// Kubernetes taints on its nodes.
    pub taints: Vec<Taint>,
}

/// Everything a stack has, read in one batched pass.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackSnapshot {
    /// The network, when found.
    pub network: Option<NetworkState>,
    /// The identities, when found.
    pub iam: Option<IdentityState>,
    /// The key, when found.
    pub key: Option<KeyState>,
    /// The control plane, when found.
    pub control_plane: Option<ControlPlaneState>,
    /// Node pools by name.
    pub node_pools: BTreeMap<String, NodePoolState>,
    /// Every component carrying the stack's tags.
    pub components: Vec<ComponentRecord>,
    /// Managed add-ons by name, as the cloud lists them.
    pub addons: BTreeMap<String, AddonState>,
    /// Group access paved granted (principals and their groups), as listed; `None`
    /// when the cloud could not list it.
    pub group_access: Option<Vec<GroupAccess>>,
    /// The tags of the components whose listing tells them, by component key (the
    /// network's objects, launch templates, the control plane, node groups): what
    /// refresh compares with the stack's tags to show tag drift.
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
}

/// What to tear down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeardownRequest {
    /// The network is the user's: delete only what paved and Kubernetes made in it.
    pub keep_network: bool,
    /// Schedule deletion of the key paved created.
    pub delete_key: bool,
}

/// What the plan knows of a stack, for a cloud to list the components it will make
/// ([`ClusterBackend::components`]). Every field may be unknown at plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterShape {
    /// The cluster's name.
    pub name: Knowable<String>,
    /// How many zones.
    pub zone_count: Knowable<u32>,
    /// The zones, when named (by the user or the state).
    pub zones: Knowable<Option<Vec<String>>>,
    /// paved builds the network (`false`: an existing one).
    pub builds_network: Knowable<bool>,
    /// The network's range, when paved builds it.
    pub cidr: Knowable<Option<String>>,
    /// The NAT layout, when paved builds the network.
    pub nat: Knowable<NatLayout>,
    /// paved creates the secrets key (`false`: the user's).
    pub creates_key: Knowable<bool>,
    /// Control-plane log types.
    pub log_types: Knowable<Vec<String>>,
    /// Cluster-admin principals.
    pub admins: Knowable<Vec<String>>,
    /// Node pools: name, capacity, instance types.
    pub pools: Knowable<Vec<PoolShape>>,
    /// The managed add-ons paved installs (empty when off).
    pub addons: Knowable<Vec<String>>,
    /// Principals granted Kubernetes groups (teams' roles and platform admins).
    pub group_principals: Knowable<Vec<String>>,
    /// The principals of `platform_admins` alone.
    pub platform_admins: Knowable<Vec<String>>,
    /// Days the control-plane logs are kept.
    pub log_retention_days: Knowable<u32>,
}

/// A setting a cloud cannot apply ([`ClusterBackend::unsupported`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The attribute's path from the resource's root (`["cluster_admins"]`).
    pub path: &'static [&'static str],
    /// Why, and what to do instead.
    pub message: String,
}

/// One node pool as the plan knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolShape {
    /// The pool's name.
    pub name: String,
    /// On-demand or spot.
    pub capacity: Knowable<Capacity>,
    /// Instance types.
    pub instance_types: Knowable<Vec<String>>,
    /// Fewest nodes, over all zones.
    pub min_size: Knowable<u32>,
    /// Each node's disk, in GB.
    pub disk_size_gb: Knowable<u32>,
}

#[cfg(test)]
impl ClusterShape {
    /// The adapters' tests' production stack `shop` with `pools`: three zones, a
    /// network paved builds (10.0.0.0/16) with a NAT gateway per zone, a key paved
    /// creates, `api` and `audit` logs kept 90 days; no admins, add-ons or groups.
    pub(crate) fn production(pools: Vec<PoolShape>) -> Self {
        ClusterShape {
            name: Knowable::Known("shop".to_owned()),
            zone_count: Knowable::Known(3),
            zones: Knowable::Known(None),
            builds_network: Knowable::Known(true),
            cidr: Knowable::Known(Some("10.0.0.0/16".to_owned())),
            nat: Knowable::Known(NatLayout::PerZone),
            creates_key: Knowable::Known(true),
            log_types: Knowable::Known(vec!["api".to_owned(), "audit".to_owned()]),
            admins: Knowable::Known(Vec::new()),
            pools: Knowable::Known(pools),
            addons: Knowable::Known(Vec::new()),
            group_principals: Knowable::Known(Vec::new()),
            platform_admins: Knowable::Known(Vec::new()),
            log_retention_days: Knowable::Known(90),
        }
    }
}

#[cfg(test)]
impl PoolShape {
    /// A pool of `min` nodes of `types` on `capacity`, with 50 GB disks.
    pub(crate) fn sized(name: &str, types: &[&str], capacity: Capacity, min: u32) -> Self {
        PoolShape {
            name: name.to_owned(),
            capacity: Knowable::Known(capacity),
            instance_types: Knowable::Known(types.iter().map(|t| (*t).to_owned()).collect()),
            min_size: Knowable::Known(min),
            disk_size_gb: Knowable::Known(50),
        }
    }
}

/// A cloud that builds `paved_ha_cluster` stacks. See the module docs for the
/// contract every method keeps (idempotent, adopting by tags, returning what exists
/// even on failure, prompt to stop).
#[async_trait]
pub trait ClusterBackend: Send + Sync {
    /// The components a stack of `shape` consists of on this cloud, in creation
    /// order, as the plan shows them (the inventory); computed without any call.
    /// Every cloud decides its own (their keys are the tags the adapter puts on
    /// what it makes); unknown when a setting that decides them is.
    fn components(&self, shape: &ClusterShape) -> Knowable<Vec<Component>>;

    /// What a stack of `shape` costs a month in the configured region, priced from
    /// paved's table without any call; unknown when a setting it depends on is.
    fn cost(&self, _shape: &ClusterShape) -> Knowable<Quote> {
        Knowable::Known(Quote::NotOffered)
    }

    /// The platform's word for what this cloud builds (`eks`, `gke`), known without
    /// a call: what runs in the cluster depends on it (GKE sizes pools itself, so no
    /// cluster-autoscaler). `None`: the reference platform (EKS).
    fn platform(&self) -> Option<&'static str> {
        None
    }

    /// Whether a subnet spans every zone of the region (GCP's subnetworks) rather
    /// than one zone (AWS's subnets): an existing network then gives one private
    /// subnet, and the zones are chosen in the region. Known without a call.
    fn regional_subnets(&self) -> bool {
        false
    }

    /// The settings of `shape` this cloud cannot apply, found at plan without a
    /// call, so that the plan fails naming them rather than the apply half way.
    /// Empty by default.
    fn unsupported(&self, shape: &ClusterShape) -> Vec<Unsupported> {
        let _ = shape;
        Vec::new()
    }

    /// Ensures the network: builds or adopts the VPC, subnets per zone and tier,
    /// internet gateway, NAT gateways and route tables (or checks an existing
    /// network). When zones are to be chosen, picks them and reports them in
    /// [`NetworkState::zones`].
    async fn ensure_network(&self, ctx: &StackContext, req: &NetworkRequest) -> Step<NetworkState>;

    /// Ensures the control plane's and the nodes' identities and, once the workload
    /// identity provider exists, the autoscaler's, bound to it.
    async fn ensure_identities(
        &self,
        ctx: &StackContext,
        req: &IdentityRequest,
    ) -> Step<IdentityState>;

    /// Ensures the secrets encryption key: checks the user's, or creates (adopts)
    /// one with rotation on.
    async fn ensure_encryption_key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState>;

    /// Ensures the control plane with its log group, OIDC provider and admin access,
    /// and waits until it is active. Converges settings that change in place; never
    /// changes the version (see [`upgrade_control_plane`](Self::upgrade_control_plane)).
    async fn ensure_control_plane(
        &self,
        ctx: &StackContext,
        req: &ControlPlaneRequest,
    ) -> Step<ControlPlaneState>;

    /// Ensures one node pool (launch template with IMDSv2 required, and the node
    /// group spread over the given subnets), created at `min_size`, and waits until
    /// it is active. A pool whose capacity or instance types differ is replaced:
    /// the new node group is created before the old one is drained and deleted.
    async fn ensure_node_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState>;

    /// Upgrades the control plane by one minor version to `to_version` (the planner
    /// refused larger steps) and waits until it is active. A no-op when it already
    /// runs that version.
    async fn upgrade_control_plane(
        &self,
        ctx: &StackContext,
        to_version: &str,
    ) -> Step<ControlPlaneState>;

    /// Updates an existing pool in place: size bounds, labels, taints, disk (a new
    /// launch template version) and Kubernetes version (a rolling update). Never
    /// touches the current size. Fails with [`BackendError::NotFound`] when the pool
    /// does not exist (the lifecycle then creates it with
    /// [`ensure_node_pool`](Self::ensure_node_pool)).
    async fn update_node_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState>;

    /// Deletes one node pool (no longer in the configuration) and waits until it is
    /// gone. A no-op when it does not exist.
    async fn delete_node_pool(&self, ctx: &StackContext, name: &str) -> Step<()>;

    /// Converges the managed add-ons (see [`AddonsRequest`]) and waits until each
    /// is active. Add-ons paved installed and no longer listed are removed.
    async fn ensure_addons(
        &self,
        ctx: &StackContext,
        req: &AddonsRequest,
    ) -> Step<Vec<AddonState>> {
        let _ = (ctx, req);
        Step::failed(not_offered("managed add-ons"), Vec::new())
    }

    /// Converges access for principals mapped to Kubernetes groups (teams): grants
    /// what is listed, revokes what paved granted earlier and is no longer listed,
    /// leaves access granted by anyone else. Separate from cluster-admin access
    /// ([`ControlPlaneRequest::admins`]).
    async fn ensure_group_access(
        &self,
        ctx: &StackContext,
        access: &[GroupAccess],
    ) -> Step<Vec<GroupAccess>> {
        let _ = (ctx, access);
        Step::failed(not_offered("team access"), Vec::new())
    }

    /// Reads everything carrying the stack's tags in a few batched calls (one
    /// listing per service, filtered by [`STACK_TAG`]). `Ok(None)` when nothing of
    /// the stack exists.
    async fn read_stack(&self, ctx: &StackContext) -> Result<Option<StackSnapshot>, BackendError>;

    /// [`Self::read_stack`] knowing whether the stack builds its own network
    /// (`Some(false)`: it runs in an existing one, such as a `paved_network`, so there
    /// is no network of its own to look for); `None` reads everything (import).
    async fn read_stack_scoped(
        &self,
        ctx: &StackContext,
        builds_network: Option<bool>,
    ) -> Result<Option<StackSnapshot>, BackendError> {
        let _ = builds_network;
        self.read_stack(ctx).await
    }

    /// Sets the stack's tags (`ctx.tags`) on every component in `components` and
    /// removes the user tag keys in `removed`, in batched calls per service (see
    /// the adapter for which components its cloud can retag). Called when the
    /// stack's tags or the provider's default tags changed.
    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()>;

    /// Tears the stack down in order: node pools, then what Kubernetes created in
    /// the network (load balancers, their security groups, network interfaces),
    /// the control plane and its log group and OIDC provider, roles, NAT gateways
    /// and their addresses, route tables, subnets, internet gateway, network, and
    /// the key when asked. Continues past what it cannot remove and reports it in
    /// [`TeardownReport::left_behind`]; components already gone count as deleted.
    async fn delete_stack(&self, ctx: &StackContext, req: &TeardownRequest)
        -> Step<TeardownReport>;
}

/// The error of a backend that does not offer an operation.
fn not_offered(what: &str) -> BackendError {
    BackendError::Permanent {
        operation: what.to_owned(),
        message: "this cloud's backend does not offer it yet".to_owned(),
        hint: "Turn the feature off for this cloud.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::stack::tags::STACK_TAG;

    /// A backend that has made one network and fails everything else, to show the
    /// trait is usable as `dyn ClusterBackend` and how partial results travel.
    struct HalfWay;

    fn vpc() -> ComponentRecord {
        ComponentRecord {
            key: "vpc".into(),
            kind: "vpc".into(),
            zone: None,
            id: "vpc-1".into(),
        }
    }

    fn throttled<T>() -> Step<T> {
        Step::failed(
            BackendError::Retryable {
                operation: "CreateNatGateway".into(),
                message: "Rate exceeded".into(),
            },
            vec![vpc()],
        )
    }

    #[async_trait]
    impl ClusterBackend for HalfWay {
        fn components(&self, _: &ClusterShape) -> Knowable<Vec<Component>> {
            Knowable::Unknown
        }
        async fn ensure_network(&self, _: &StackContext, _: &NetworkRequest) -> Step<NetworkState> {
            throttled()
        }
        async fn ensure_identities(
            &self,
            _: &StackContext,
            _: &IdentityRequest,
        ) -> Step<IdentityState> {
            throttled()
        }
        async fn ensure_encryption_key(
            &self,
            _: &StackContext,
            _: &EncryptionKeyRequest,
        ) -> Step<KeyState> {
            throttled()
        }
        async fn ensure_control_plane(
            &self,
            _: &StackContext,
            _: &ControlPlaneRequest,
        ) -> Step<ControlPlaneState> {
            throttled()
        }
        async fn ensure_node_pool(
            &self,
            _: &StackContext,
            _: &NodePoolRequest,
        ) -> Step<NodePoolState> {
            throttled()
        }
        async fn upgrade_control_plane(
            &self,
            _: &StackContext,
            _: &str,
        ) -> Step<ControlPlaneState> {
            throttled()
        }
        async fn update_node_pool(
            &self,
            _: &StackContext,
            _: &NodePoolRequest,
        ) -> Step<NodePoolState> {
            throttled()
        }
        async fn delete_node_pool(&self, _: &StackContext, _: &str) -> Step<()> {
            Step::done((), Vec::new())
        }
        async fn read_stack(
            &self,
            _: &StackContext,
        ) -> Result<Option<StackSnapshot>, BackendError> {
            Ok(Some(StackSnapshot {
                components: vec![vpc()],
                ..StackSnapshot::default()
            }))
        }
        async fn retag(&self, _: &StackContext, _: &[ComponentRecord], _: &[String]) -> Step<()> {
            throttled()
        }
        async fn delete_stack(
            &self,
            _: &StackContext,
            _: &TeardownRequest,
        ) -> Step<TeardownReport> {
            Step::done(TeardownReport::default(), Vec::new())
        }
    }

    #[test]
    fn partial_results_travel_with_the_error() {
        let backend: Box<dyn ClusterBackend> = Box::new(HalfWay);
        let ctx = StackContext {
            stack: "shop".into(),
            resource_type: "paved_ha_cluster",
            tags: BTreeMap::from([(STACK_TAG.to_string(), "shop".to_string())]),
            cancel: CancellationToken::new(),
            deadline: None,
        };
        let req = NetworkRequest::Build {
            cidr: "10.0.0.0/16".into(),
            zones: ZoneChoice::Choose(3),
            nat: NatLayout::PerZone,
        };
        let step = futures::executor::block_on(backend.ensure_network(&ctx, &req));
        assert_eq!(step.components, vec![vpc()]);
        let err = step.result.unwrap_err();
        assert!(err.is_retryable());
        assert!(err.to_string().contains("Run apply again"), "{err}");
        let snapshot = futures::executor::block_on(backend.read_stack(&ctx))
            .unwrap()
            .unwrap();
        assert_eq!(snapshot.components.len(), 1);
    }
}
