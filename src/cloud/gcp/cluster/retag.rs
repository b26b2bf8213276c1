//! Relabelling a GKE stack when its tags change: the cluster's resource labels (with
//! the label fingerprint GKE checks), each node pool's resource labels, the NAT
//! addresses' labels (with their fingerprint) and the key's labels. Networks,
//! subnetworks, routers and service accounts carry no labels on GCP.

use std::collections::BTreeMap;

use serde_json::json;

use super::common::gke_fail;
use super::network::fail;
use super::GcpClusterBackend;
use crate::cloud::gcp::call::{gax, model, unless_gone};
use crate::cloud::gcp::labels::labels;
use crate::cloud::gcp::wait::{self, text, view};
use crate::stack::{BackendError, ComponentRecord, StackContext};

impl GcpClusterBackend {
    /// Sets the stack's labels on every component of `components` that carries them.
    pub(super) async fn relabel(
        &self,
        ctx: &StackContext,
        components: &[ComponentRecord],
    ) -> Result<(), BackendError> {
        let project = self.clients.project()?;
        let region = self.region()?;
        for c in components {
            ctx.checkpoint("relabelling the stack")?;
            let wanted: BTreeMap<String, String> = labels(&ctx.component_tags(&c.key));
            match c.kind.as_str() {
                super::gke::CLUSTER => {
                    let Some(cluster) = self.get_cluster(ctx, &ctx.stack).await? else {
                        continue;
                    };
                    let request: google_cloud_container_v1::model::SetLabelsRequest = model(
                        json!({
                            "name": self.cluster_path(&ctx.stack)?,
                            "resourceLabels": wanted,
                            "labelFingerprint": text(&cluster, "/labelFingerprint").unwrap_or_default(),
                        }),
                        "the cluster's labels",
                    )?;
                    let api = self
                        .clients
                        .container()
                        .await
                        .map_err(gke_fail("relabelling the cluster"))?;
                    let _one = self.ops.lock().await;
                    let op = gax(ctx, "clusters.setResourceLabels", || {
                        api.set_labels().with_request(request.clone()).send()
                    })
                    .await
                    .map_err(gke_fail("relabelling the cluster"))?;
                    wait::container(
                        &self.clients,
                        ctx,
                        &project,
                        &region,
                        &op,
                        "relabelling the cluster",
                    )
                    .await?;
                }
                super::pools::NODE_POOL => {
                    let request: google_cloud_container_v1::model::UpdateNodePoolRequest = model(
                        json!({"name": c.id, "resourceLabels": {"labels": wanted}}),
                        "the pool's labels",
                    )?;
                    let api = self
                        .clients
                        .container()
                        .await
                        .map_err(gke_fail("relabelling a node pool"))?;
                    let _one = self.ops.lock().await;
                    let op = gax(ctx, "nodePools.update", || {
                        api.update_node_pool().with_request(request.clone()).send()
                    })
                    .await
                    .map_err(gke_fail("relabelling a node pool"))?;
                    wait::container(
                        &self.clients,
                        ctx,
                        &project,
                        &region,
                        &op,
                        "relabelling a node pool",
                    )
                    .await?;
                }
                super::network::kind::NAT_ADDRESS => {
                    let api = self
                        .clients
                        .addresses()
                        .await
                        .map_err(fail("relabelling a NAT address"))?;
                    let Some(address) = unless_gone(
                        gax(ctx, "addresses.get", || {
                            api.get()
                                .set_project(project.clone())
                                .set_region(region.clone())
                                .set_address(c.id.clone())
                                .send()
                        })
                        .await,
                    )
                    .map_err(fail("relabelling a NAT address"))?
                    else {
                        continue;
                    };
                    let body: google_cloud_compute_v1::model::RegionSetLabelsRequest = model(
                        json!({
                            "labels": wanted,
                            "labelFingerprint": text(&view(&address), "/labelFingerprint").unwrap_or_default(),
                        }),
                        "the address's labels",
                    )?;
                    let op = gax(ctx, "addresses.setLabels", || {
                        api.set_labels()
                            .set_project(project.clone())
                            .set_region(region.clone())
                            .set_resource(c.id.clone())
                            .set_body(body.clone())
                            .send()
                    })
                    .await
                    .map_err(fail("relabelling a NAT address"))?;
                    wait::compute(
                        &self.clients,
                        ctx,
                        &project,
                        &op,
                        "relabelling a NAT address",
                    )
                    .await?;
                }
                super::key::KMS_KEY => {
                    let api =
                        self.clients.kms().await.map_err(|f| {
                            f.into_backend_error("Cloud KMS", "relabelling the key")
                        })?;
                    let key: google_cloud_kms_v1::model::CryptoKey =
                        model(json!({"name": c.id, "labels": wanted}), "the key's labels")?;
                    let mask: google_cloud_wkt::FieldMask =
                        model(json!("labels"), "the update mask")?;
                    gax(ctx, "cryptoKeys.patch", || {
                        api.update_crypto_key()
                            .set_crypto_key(key.clone())
                            .set_update_mask(mask.clone())
                            .send()
                    })
                    .await
                    .map_err(|f| f.into_backend_error("Cloud KMS", "relabelling the key"))?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}
