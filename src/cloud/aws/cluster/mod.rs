//! The AWS backend of `paved_ha_cluster`: an EKS cluster with its roles, key, log
//! group, OIDC provider, launch templates and managed node groups, on the network
//! [`super::network`] builds.
//!
//! One file per concern: [`iam`] (roles and the OIDC provider), [`eks`] (the control
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
mod nodes;
mod read;
mod teardown;
mod wait;

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

use super::error::{client_setup_error, SdkFailure};
use super::kms::{self, KeyOwner};
use super::network::{self, NetworkSpec};
use super::tagging::{self, Taggers};
use super::AwsClients;
use crate::ports::cluster::{
    AddonState, AddonsRequest, ClusterBackend, ControlPlaneRequest, ControlPlaneState, GroupAccess,
    IdentityRequest, IdentityState, NetworkRequest, NetworkState, NodePoolRequest, NodePoolState,
    StackSnapshot, TeardownRequest, ZoneChoice,
};
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::ports::zones::ZoneSource;
use crate::stack::{BackendError, ComponentRecord, StackContext, Step, TeardownReport};

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

    async fn ec2(&self) -> Result<aws_sdk_ec2::Client, BackendError> {
        self.clients.ec2(None).await.map_err(client_setup_error)
    }

    async fn eks(&self) -> Result<aws_sdk_eks::Client, BackendError> {
        self.clients.eks(None).await.map_err(client_setup_error)
    }

    async fn iam(&self) -> Result<aws_sdk_iam::Client, BackendError> {
        self.clients.iam(None).await.map_err(client_setup_error)
    }

    async fn kms(&self) -> Result<aws_sdk_kms::Client, BackendError> {
        self.clients.kms(None).await.map_err(client_setup_error)
    }

    async fn logs(&self) -> Result<aws_sdk_cloudwatchlogs::Client, BackendError> {
        self.clients.logs(None).await.map_err(client_setup_error)
    }

    async fn elbv2(&self) -> Result<aws_sdk_elasticloadbalancingv2::Client, BackendError> {
        self.clients.elbv2(None).await.map_err(client_setup_error)
    }

    /// Every client, built from the shared configuration (no call is made).
    async fn clients(&self) -> Result<Clients, BackendError> {
        let (ec2, eks, iam, kms, logs, elbv2) = futures::try_join!(
            self.ec2(),
            self.eks(),
            self.iam(),
            self.kms(),
            self.logs(),
            self.elbv2()
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

    /// The zones to build in: the named ones, or the first `n` usable zones of the
    /// region by name (as `paved_zones` picks them).
    async fn zones(&self, choice: &ZoneChoice) -> Result<Vec<String>, BackendError> {
        let n = match choice {
            ZoneChoice::Named(names) => return Ok(names.clone()),
            ZoneChoice::Choose(n) => *n as usize,
        };
        let region = self.clients.region().map_err(client_setup_error)?;
        let zones =
            self.clients
                .list_zones(&region)
                .await
                .map_err(|e| BackendError::Permanent {
                    operation: "listing the region's zones".to_owned(),
                    message: e.to_string(),
                    hint: "Check the region and the EC2 permissions, or name the zones".to_owned(),
                })?;
        let usable = crate::ports::zones::usable_zones(zones);
        if usable.len() < n {
            return Err(BackendError::Permanent {
                operation: "choosing zones".to_owned(),
                message: format!(
                    "region {region} has {} usable zones, {n} were asked for",
                    usable.len()
                ),
                hint: "Lower zone_count or pick another region".to_owned(),
            });
        }
        Ok(usable.into_iter().take(n).map(|z| z.name).collect())
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

/// A call's answer with "no such object" (as `gone` judges) turned into `None`:
/// for reads that may find nothing and deletes of what may be gone already.
pub(crate) fn unless_gone<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    gone: fn(&SdkFailure) -> bool,
) -> Result<Option<T>, SdkFailure>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let f = SdkFailure::from_sdk(e);
            if gone(&f) {
                Ok(None)
            } else {
                Err(f)
            }
        }
    }
}

/// A row of the inventory for a regional component.
pub(crate) fn record(key: &str, kind: &str, id: &str) -> ComponentRecord {
    ComponentRecord {
        key: key.to_owned(),
        kind: kind.to_owned(),
        zone: None,
        id: id.to_owned(),
    }
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

/// A `Step` from a result and the components collected on the way.
pub(crate) fn step<T>(
    result: Result<T, BackendError>,
    components: Vec<ComponentRecord>,
) -> Step<T> {
    Step { components, result }
}

#[async_trait]
impl ClusterBackend for AwsClusterBackend {
    async fn ensure_network(&self, ctx: &StackContext, req: &NetworkRequest) -> Step<NetworkState> {
        let ec2 = match self.ec2().await {
            Ok(c) => c,
            Err(e) => return Step::failed(e, Vec::new()),
        };
        match req {
            NetworkRequest::Build { cidr, zones, nat } => {
                let zones = match self.zones(zones).await {
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
            NetworkRequest::Existing { vpc_id, subnet_ids } => step(
                read::existing_network(&ec2, ctx, vpc_id, subnet_ids).await,
                Vec::new(),
            ),
        }
    }

    async fn ensure_identities(
        &self,
        ctx: &StackContext,
        req: &IdentityRequest,
    ) -> Step<IdentityState> {
        match self.iam().await {
            Ok(iam) => iam::ensure_identities(&iam, ctx, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn ensure_encryption_key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState> {
        match self.kms().await {
            Ok(client) => kms::ensure_key(&client, ctx, KEY_OWNER, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn ensure_control_plane(
        &self,
        ctx: &StackContext,
        req: &ControlPlaneRequest,
    ) -> Step<ControlPlaneState> {
        let clients = futures::try_join!(self.eks(), self.iam(), self.logs());
        match clients {
            Ok((eks, iam, logs)) => eks::ensure_control_plane(&eks, &iam, &logs, ctx, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn ensure_node_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState> {
        match futures::try_join!(self.eks(), self.ec2()) {
            Ok((eks, ec2)) => nodes::ensure_pool(&eks, &ec2, ctx, req, false).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn upgrade_control_plane(
        &self,
        ctx: &StackContext,
        to_version: &str,
    ) -> Step<ControlPlaneState> {
        match self.eks().await {
            Ok(eks) => eks::upgrade(&eks, ctx, to_version).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn update_node_pool(
        &self,
        ctx: &StackContext,
        req: &NodePoolRequest,
    ) -> Step<NodePoolState> {
        match futures::try_join!(self.eks(), self.ec2()) {
            Ok((eks, ec2)) => nodes::ensure_pool(&eks, &ec2, ctx, req, true).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn delete_node_pool(&self, ctx: &StackContext, name: &str) -> Step<()> {
        match futures::try_join!(self.eks(), self.ec2()) {
            Ok((eks, ec2)) => nodes::delete_pool(&eks, &ec2, ctx, name).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn ensure_addons(
        &self,
        ctx: &StackContext,
        req: &AddonsRequest,
    ) -> Step<Vec<AddonState>> {
        match self.eks().await {
            Ok(eks) => addons::ensure_addons(&eks, ctx, req).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn ensure_group_access(
        &self,
        ctx: &StackContext,
        access: &[GroupAccess],
    ) -> Step<Vec<GroupAccess>> {
        match self.eks().await {
            Ok(eks) => access::ensure_group_access(&eks, ctx, access).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }

    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()> {
        let c = match self.clients().await {
            Ok(c) => c,
            Err(e) => return Step::failed(e, Vec::new()),
        };
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
    }

    async fn read_stack(&self, ctx: &StackContext) -> Result<Option<StackSnapshot>, BackendError> {
        read::read_stack(&self.clients().await?, ctx, KEY_OWNER).await
    }

    async fn delete_stack(
        &self,
        ctx: &StackContext,
        req: &TeardownRequest,
    ) -> Step<TeardownReport> {
        match self.clients().await {
            Ok(c) => teardown::delete_stack(&c, ctx, req, KEY_OWNER).await,
            Err(e) => Step::failed(e, Vec::new()),
        }
    }
}
