//! The AWS backend of `paved_ha_cluster`: an EKS cluster with its roles, key, log
//! group, OIDC provider, launch templates and managed node groups, on the network
//! [`super::network`] builds.
//!
//! One file per concern: [`inventory`] (the components a stack consists of, as the
//! plan lists them), [`iam`] (roles and the OIDC provider), [`eks`] (the control
//! plane, its log group and admin access), [`nodes`] (launch templates and node
//! groups), [`addons`] (managed add-ons), [`access`] (team access through access
//! entries with Kubernetes groups), [`read`] (the batched refresh), [`teardown`] (ordered deletion) and
//! [`wait`] (every wait, over a status-polling closure so it can be tested without
//! a cloud). This file holds the backend type, the trait's entry points, and what
//! the concerns share: error mapping, tags and component records.
//!
//! The cluster is named after the stack ([`StackContext::stack`]); roles, launch
//! templates and the log group are named from it too, so each is found with one
//! call by name or prefix.

mod access;
mod addons;
mod eks;
mod iam;
pub mod inventory;
mod nodes;
mod read;
mod teardown;
mod wait;

use std::sync::Arc;

use async_trait::async_trait;

use super::error::SdkFailure;
use super::inventory::{step, step_with};
use super::kms::{self, KeyOwner};
use super::network::{self, NetworkSpec};
use super::tagging::{self, Taggers};
use super::zones::choose_zones;
use super::{AdapterClients, AwsClients};
use crate::ports::cluster::{
    AddonState, AddonsRequest, ClusterBackend, ClusterShape, ControlPlaneRequest,
    ControlPlaneState, GroupAccess, IdentityRequest, IdentityState, NetworkRequest, NetworkState,
    NodePoolRequest, NodePoolState, StackSnapshot, TeardownRequest,
};
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::stack::cost::Quote;
use crate::stack::inventory::Component;
use crate::stack::{BackendError, ComponentRecord, Knowable, StackContext, Step, TeardownReport};

/// The key owner of a cluster's secrets encryption key.
const KEY_OWNER: KeyOwner<'static> = KeyOwner { purpose: "cluster" };

/// The AWS backend of `paved_ha_cluster`.
pub struct AwsClusterBackend {
    clients: Arc<AwsClients>,
}

impl AwsClusterBackend {
    /// A backend making its calls with `clients` (in their default region).
    pub fn new(clients: Arc<AwsClients>) -> Self {
        Self { clients }
    }

    fn aws(&self) -> AdapterClients<'_> {
        self.clients.adapter()
    }

    /// Every client, built from the shared configuration (no call is made).
    async fn clients(&self) -> Result<Clients, BackendError> {
        let aws = self.aws();
        let (ec2, eks, iam, kms, logs, elbv2) = futures::try_join!(
            aws.ec2(),
            aws.eks(),
            aws.iam(),
            aws.kms(),
            aws.logs(),
            aws.elbv2()
        )?;
        Ok(Clients {
            ec2,
            eks,
            iam,
            kms,
            logs,
            elbv2,
        })
    }

    /// The EKS and EC2 clients (node pools).
    async fn eks_and_ec2(
        &self,
    ) -> Result<(aws_sdk_eks::Client, aws_sdk_ec2::Client), BackendError> {
        futures::try_join!(self.aws().eks(), self.aws().ec2())
    }
}

/// Every client the stack-wide passes (refresh, teardown) use.
pub(crate) struct Clients {
    /// Network, launch templates.
    pub ec2: aws_sdk_ec2::Client,
    /// Cluster and node groups.
    pub eks: aws_sdk_eks::Client,
    /// Roles and the OIDC provider.
    pub iam: aws_sdk_iam::Client,
    /// The secrets key.
    pub kms: aws_sdk_kms::Client,
    /// The control plane's log group.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// Load balancers Kubernetes made.
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
}

/// One AWS service's failure as the user sees it; `service` names the service in
/// the permission hint (`EKS`, `IAM`...).
pub(crate) fn failure(service: &str, operation: impl Into<String>, f: SdkFailure) -> BackendError {
    f.into_backend_error(service, operation)
}

/// The endpoint does not know the call (see [`SdkFailure::is_unsupported`]).
pub(crate) fn unsupported(f: &SdkFailure) -> bool {
    f.is_unsupported()
}

/// Whether an EKS, Logs or IAM error means "no such object".
pub(crate) fn not_found(f: &SdkFailure) -> bool {
    f.code_is("ResourceNotFoundException")
        || f.code_is("NoSuchEntity")
        || f.code_is("NoSuchEntityException")
        || f.code_is("LoadBalancerNotFound")
        || f.code_is("TargetGroupNotFound")
}

/// Tags of component `key` as the map EKS and Logs take.
pub(crate) fn tag_map(ctx: &StackContext, key: &str) -> std::collections::HashMap<String, String> {
    network::component_tag_map(ctx, key).into_iter().collect()
}

/// Whether a tag map says the object belongs to the stack.
pub(crate) fn owned_by<'a>(
    tags: impl IntoIterator<Item = (&'a String, &'a String)>,
    stack: &str,
) -> bool {
    tags.into_iter()
        .any(|(k, v)| k == crate::stack::tags::STACK_TAG && v == stack)
}

#[async_trait]
impl ClusterBackend for AwsClusterBackend {
    fn components(&self, shape: &ClusterShape) -> Knowable<Vec<Component>> {
        inventory::components(shape)
    }

    fn cost(&self, shape: &ClusterShape) -> Knowable<Quote> {
        super::cost::cluster(self.clients.region(), shape)
    }

    async fn ensure_network(&self, ctx: &StackContext, req: &NetworkRequest) -> Step<NetworkState> {
        step_with(self.aws().ec2(), |ec2| async move {
            match req {
                NetworkRequest::Build { cidr, zones, nat } => {
                    let zones = match choose_zones(&self.clients, zones).await {
                        Ok(z) => z,
                        Err(e) => return Step::failed(e, Vec::new()),
                    };
                    let spec = NetworkSpec {
                        cidr: cidr.clone(),
                        zones,
                        nat: *nat,
                    };
                    network::ensure_network(&ec2, ctx, &spec).await
                }
                // Each subnet's zone decides; `zones` is for clouds whose subnets span the region.
                NetworkRequest::Existing {
                    vpc_id, subnet_ids, ..
                } => step(
                    read::existing_network(&ec2, ctx, vpc_id, subnet_ids).await,
                    Vec::new(),
                ),
            }
        })
        .await
    }

    async fn ensure_identities(
        &self,
        ctx: &StackContext,
        req: &IdentityRequest,
    ) -> Step<IdentityState> {
        step_with(self.aws().iam(), |iam| async move {
            iam::ensure_identities(&iam, ctx, req).await
        })
        .await
    }

    async fn ensure_encryption_key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState> {
        step_with(self.aws().kms(), |client| async move {
            kms::ensure_key(&client, ctx, KEY_OWNER, req).await
        })
        .await
    }

    async fn ensure_control_plane(
        &self,
        ctx: &StackContext,
        req: &ControlPlaneRequest,
    ) -> Step<ControlPlaneState> {
        let aws = self.aws();
        let ready = futures::future::try_join3(aws.eks(), aws.iam(), aws.logs());
        step_with(ready, |(eks, iam, logs)| async move {
            eks::ensure_control_plane(&eks, &iam, &logs, ctx, req).await
        })
        .await
    }

    async fn ensure_node_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState> {
        step_with(self.eks_and_ec2(), |(eks, ec2)| async move {
            nodes::ensure_pool(&eks, &ec2, ctx, req, false).await
        })
        .await
    }

    async fn upgrade_control_plane(
        &self,
        ctx: &StackContext,
        to_version: &str,
    ) -> Step<ControlPlaneState> {
        step_with(self.aws().eks(), |eks| async move {
            eks::upgrade(&eks, ctx, to_version).await
        })
        .await
    }

    async fn update_node_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState> {
        step_with(self.eks_and_ec2(), |(eks, ec2)| async move {
            nodes::ensure_pool(&eks, &ec2, ctx, req, true).await
        })
        .await
    }

    async fn delete_node_pool(&self, ctx: &StackContext, name: &str) -> Step<()> {
        step_with(self.eks_and_ec2(), |(eks, ec2)| async move {
            nodes::delete_pool(&eks, &ec2, ctx, name).await
        })
        .await
    }

    async fn ensure_addons(
        &self,
        ctx: &StackContext,
        req: &AddonsRequest,
    ) -> Step<Vec<AddonState>> {
        step_with(self.aws().eks(), |eks| async move {
            addons::ensure_addons(&eks, ctx, req).await
        })
        .await
    }

    async fn ensure_group_access(
        &self,
        ctx: &StackContext,
        access: &[GroupAccess],
    ) -> Step<Vec<GroupAccess>> {
        step_with(self.aws().eks(), |eks| async move {
            access::ensure_group_access(&eks, ctx, access).await
        })
        .await
    }

    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()> {
        step_with(self.clients(), |c| async move {
            let taggers = Taggers {
                ec2: Some(&c.ec2),
                eks: Some(&c.eks),
                iam: Some(&c.iam),
                kms: Some(&c.kms),
                logs: Some(&c.logs),
                rds: None,
            };
            step(
                tagging::retag(&taggers, ctx, components, removed).await,
                Vec::new(),
            )
        })
        .await
    }

    async fn read_stack(&self, ctx: &StackContext) -> Result<Option<StackSnapshot>, BackendError> {
        read::read_stack(&self.clients().await?, ctx, KEY_OWNER, true).await
    }

    async fn read_stack_scoped(
        &self,
        ctx: &StackContext,
        builds_network: Option<bool>,
    ) -> Result<Option<StackSnapshot>, BackendError> {
        let own_network = builds_network != Some(false);
        read::read_stack(&self.clients().await?, ctx, KEY_OWNER, own_network).await
    }

    async fn delete_stack(
        &self,
        ctx: &StackContext,
        req: &TeardownRequest,
    ) -> Step<TeardownReport> {
        step_with(self.clients(), |c| async move {
            teardown::delete_stack(&c, ctx, req, KEY_OWNER).await
        })
        .await
    }
}
