//! Reading a GKE stack back in a few calls: the cluster (with its node pools), the
//! network, the subnetwork, the router, the NAT addresses (one label-filtered
//! list), the nodes' service account and the key: at most seven calls.

use std::collections::BTreeMap;

use serde_json::Value;

use super::identity::{node_email, SERVICE_ACCOUNT};
use super::key::KMS_KEY;
use super::names;
use super::network::{fail, kind, record};
use super::pools::pools_of;
use super::GcpClusterBackend;
use crate::cloud::gcp::call::{gax, unless_gone};
use crate::cloud::gcp::labels;
use crate::cloud::gcp::wait::{text, view};
use crate::ports::cluster::{IdentityState, NetworkState, StackSnapshot};
use crate::ports::key::KeyState;
use crate::ports::network::Tier;
use crate::stack::tags::STACK_TAG;
use crate::stack::{BackendError, StackContext};

impl GcpClusterBackend {
    /// Reads the stack (see the module docs); `None` when nothing of it exists.
    pub(super) async fn read(
        &self,
        ctx: &StackContext,
    ) -> Result<Option<StackSnapshot>, BackendError> {
        let project = self.clients.project()?;
        let region = self.region()?;
        let stack = &ctx.stack;
        let mut snap = StackSnapshot::default();

        let cluster = self.get_cluster(ctx, stack).await?;
        let net = self
            .get_network(ctx, &project, &names::network(stack))
            .await?;
        let sub = self
            .get_subnetwork(ctx, &project, &region, &names::subnetwork(stack))
            .await?;
        let routers = self
            .clients
            .routers()
            .await
            .map_err(fail("reading the router"))?;
        let router = unless_gone(
            gax(ctx, "routers.get", || {
                routers
                    .get()
                    .set_project(project.clone())
                    .set_region(region.clone())
                    .set_router(names::router(stack))
                    .send()
            })
            .await,
        )
        .map_err(fail("reading the router"))?
        .map(|r| view(&r));
        let addresses = self
            .clients
            .addresses()
            .await
            .map_err(fail("listing NAT addresses"))?;
        let listed = gax(ctx, "addresses.list", || {
            addresses
                .list()
                .set_project(project.clone())
                .set_region(region.clone())
                .set_filter(labels::filter(STACK_TAG, stack))
                .send()
        })
        .await
        .map_err(fail("listing NAT addresses"))?;
        let listed = view(&listed);
        let mut nat_addresses: Vec<String> = listed
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| text(a, "/name"))
            .filter(|n| {
                n.starts_with(&format!("{}-nat-", names::network(stack))) || n.contains("-nat-")
            })
            .collect();
        nat_addresses.sort();

        let iam = self
            .clients
            .iam()
            .await
            .map_err(|f| f.into_backend_error("IAM", "reading the nodes' account"))?;
        let email = node_email(stack, &project);
        let account = unless_gone(
            gax(ctx, "serviceAccounts.get", || {
                iam.get_service_account()
                    .set_name(format!("projects/{project}/serviceAccounts/{email}"))
                    .send()
            })
            .await,
        )
        .map_err(|f| f.into_backend_error("IAM", "reading the nodes' account"))?;

        let key_name = self.key_name(ctx)?;
        let key = self.clients.key_usable(ctx, &key_name).await?;

        if let (Some(n), Some(s)) = (&net, &sub) {
            let zones: Vec<String> = cluster
                .as_ref()
                .and_then(|c| c.get("locations").and_then(Value::as_array).cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|z| z.as_str().map(str::to_owned))
                .collect();
            let sub_name = text(s, "/name").unwrap_or_default();
            snap.components.push(record(
                "network",
                kind::NETWORK,
                text(n, "/name").unwrap_or_default(),
            ));
            snap.components
                .push(record("subnetwork", kind::SUBNETWORK, &sub_name));
            let nat_ids = if !nat_addresses.is_empty() {
                nat_addresses.clone()
            } else if router.is_some() {
                vec![names::nat(stack)]
            } else {
                Vec::new()
            };
            snap.network = Some(NetworkState {
                vpc_id: text(n, "/name").unwrap_or_default(),
                cidr: text(s, "/ipCidrRange")
                    .map(|nodes| super::network::network_of(&nodes))
                    .unwrap_or_default(),
                subnet_ids: BTreeMap::from([(
                    Tier::Private,
                    zones
                        .iter()
                        .map(|z| (z.clone(), sub_name.clone()))
                        .collect(),
                )]),
                zones,
                nat_gateway_ids: nat_ids,
            });
        }
        for (i, a) in nat_addresses.iter().enumerate() {
            snap.components
                .push(record(&format!("nat_address.{i}"), kind::NAT_ADDRESS, a));
        }
        if router.is_some() {
            snap.components
                .push(record("router", kind::ROUTER, names::router(stack)));
        }
        if account.is_some() {
            snap.components
                .push(record("service_account.nodes", SERVICE_ACCOUNT, &email));
            snap.iam = Some(IdentityState {
                control_plane_identity: super::identity::gke_agent(
                    &self.clients.project_number(ctx).await?,
                ),
                node_identity: email.clone(),
                autoscaler_identity: None,
                storage_driver_identity: None,
            });
        }
        if key {
            snap.components.push(record("kms_key", KMS_KEY, &key_name));
            snap.key = Some(KeyState {
                id: key_name.clone(),
                created: true,
            });
        }
        if let Some(c) = &cluster {
            let path = self.cluster_path(stack)?;
            snap.components
                .push(record("cluster", super::gke::CLUSTER, &path));
            snap.control_plane = Some(self.control_plane_state(c)?);
            for pool in pools_of(c) {
                snap.components.push(record(
                    &format!("node_pool.{}", pool.name),
                    super::pools::NODE_POOL,
                    format!("{path}/nodePools/{}", pool.id),
                ));
                snap.node_pools.insert(pool.name.clone(), pool);
            }
            snap.addons = BTreeMap::new();
            snap.group_access = Some(Vec::new());
        }
        if snap.components.is_empty() {
            return Ok(None);
        }
        Ok(Some(snap))
    }
}
