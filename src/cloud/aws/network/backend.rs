//! [`AwsNetworkBackend`]: a `paved_network` on AWS, the same network a cluster
//! builds for itself (see [`super::ensure_network`]), owned by a resource of its own.

use std::sync::Arc;

use async_trait::async_trait;

use super::{delete_network, ensure_network, read_network, NetworkSpec};
use crate::cloud::aws::inventory::{step, step_with};
use crate::cloud::aws::tagging::{self, Taggers};
use crate::cloud::aws::zones::choose_zones;
use crate::cloud::aws::AwsClients;
use crate::ports::network::NatLayout;
use crate::ports::network_backend::{NetworkBackend, NetworkBuild, NetworkSnapshot, NetworkState};
use crate::stack::cost::Quote;
use crate::stack::{BackendError, ComponentRecord, Knowable, StackContext, Step, TeardownReport};

/// The AWS backend of `paved_network`.
pub struct AwsNetworkBackend {
    clients: Arc<AwsClients>,
}

impl AwsNetworkBackend {
    /// A backend making its calls with `clients` (in their default region).
    pub fn new(clients: Arc<AwsClients>) -> Self {
        Self { clients }
    }
}

#[async_trait]
impl NetworkBackend for AwsNetworkBackend {
    fn cost(&self, zone_count: u32, nat: NatLayout) -> Knowable<Quote> {
        super::super::cost::network(self.clients.region(), zone_count, nat)
    }

    async fn ensure_network(&self, ctx: &StackContext, req: &NetworkBuild) -> Step<NetworkState> {
        step_with(self.clients.adapter().ec2(), |ec2| async move {
            let zones = match choose_zones(&self.clients, &req.zones).await {
                Ok(z) => z,
                Err(e) => return Step::failed(e, Vec::new()),
            };
            let spec = NetworkSpec {
                cidr: req.cidr.clone(),
                zones,
                nat: req.nat,
            };
            ensure_network(&ec2, ctx, &spec).await
        })
        .await
    }

    async fn read_network(&self, ctx: &StackContext) -> Result<NetworkSnapshot, BackendError> {
        let ec2 = self.clients.adapter().ec2().await?;
        let read = read_network(&ec2, ctx).await?;
        Ok(NetworkSnapshot {
            network: read.network,
            components: read.components,
            tags: read.tags,
        })
    }

    async fn retag(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
        removed: &[String],
    ) -> Step<()> {
        step_with(self.clients.adapter().ec2(), |ec2| async move {
            let taggers = Taggers {
                ec2: Some(&ec2),
                eks: None,
                iam: None,
                kms: None,
                logs: None,
                rds: None,
            };
            step(
                tagging::retag(&taggers, ctx, components, removed).await,
                Vec::new(),
            )
        })
        .await
    }

    async fn delete_network(&self, ctx: &StackContext) -> Step<TeardownReport> {
        step_with(self.clients.adapter().ec2(), |ec2| async move {
            delete_network(&ec2, ctx).await
        })
        .await
    }
}
