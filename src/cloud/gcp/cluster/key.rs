//! The key that encrypts the cluster's Kubernetes secrets (GKE application-layer
//! secrets encryption): a Cloud KMS key paved creates in a key ring of the stack's,
//! in the cluster's region, rotated every 90 days, usable by GKE's service agent; or
//! the user's key, checked. Cloud KMS never deletes keys: teardown destroys the
//! key's versions (after KMS's scheduled-destruction period) and the empty key and
//! ring stay, as KMS requires.

use serde_json::json;

use super::identity::gke_agent;
use super::names;
use super::network::record;
use super::GcpClusterBackend;
use crate::cloud::gcp::call::{gax, model, unless_gone, GcpFailure};
use crate::cloud::gcp::labels::labels;
use crate::cloud::gcp::policy::PolicyOf;
use crate::cloud::gcp::wait::{text, view};
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The key's inventory kind.
pub const KMS_KEY: &str = "kms_key";

/// The role that lets a service agent encrypt and decrypt with a key.
pub const ENCRYPTER: &str = "roles/cloudkms.cryptoKeyEncrypterDecrypter";

/// Ninety days, as KMS writes durations.
const ROTATION: &str = "7776000s";

/// Whether the key's primary version is enabled.
pub(super) fn primary_enabled(key: &google_cloud_kms_v1::model::CryptoKey) -> bool {
    key.primary
        .as_ref()
        .is_some_and(|p| p.state.name() == Some("ENABLED"))
}

/// Maps a failure of Cloud KMS during `what`.
fn kms_fail(what: &'static str) -> impl Fn(GcpFailure) -> BackendError {
    move |f| f.into_backend_error("Cloud KMS", what)
}

impl GcpClusterBackend {
    /// The full name of the stack's secrets key.
    pub(super) fn key_name(&self, ctx: &StackContext) -> Result<String, BackendError> {
        Ok(format!(
            "projects/{}/locations/{}/keyRings/{}/cryptoKeys/{}",
            self.clients.project()?,
            self.region()?,
            names::key_ring(&ctx.stack),
            names::SECRETS_KEY
        ))
    }

    /// Ensures the secrets key (see the module docs) and GKE's right to use it.
    pub(super) async fn key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState> {
        let mut made: Vec<ComponentRecord> = Vec::new();
        let result = async {
            let kms = self.clients.kms().await.map_err(kms_fail("reaching Cloud KMS"))?;
            let (name, created) = match req {
                EncryptionKeyRequest::Provided { id } => {
                    gax(ctx, "cryptoKeys.get", || kms.get_crypto_key().set_name(id.clone()).send())
                        .await
                        .map_err(kms_fail("checking the encryption key"))?;
                    (id.clone(), false)
                }
                EncryptionKeyRequest::Create => {
                    let project = self.clients.project()?;
                    let region = self.region()?;
                    let ring = names::key_ring(&ctx.stack);
                    let parent = format!("projects/{project}/locations/{region}");
                    let ring_name = format!("{parent}/keyRings/{ring}");
                    let ring_found = unless_gone(
                        gax(ctx, "keyRings.get", || kms.get_key_ring().set_name(ring_name.clone()).send())
                            .await,
                    )
                    .map_err(kms_fail("reading the key ring"))?;
                    if ring_found.is_none() {
                        let made_ring = gax(ctx, "keyRings.create", || {
                            kms.create_key_ring()
                                .set_parent(parent.clone())
                                .set_key_ring_id(ring.clone())
                                .send()
                        })
                        .await;
                        match made_ring {
                            Ok(_) => {}
                            Err(f) if f.is_already_exists() => {}
                            Err(f) => return Err(kms_fail("creating the key ring")(f)),
                        }
                    }
                    let key_name = self.key_name(ctx)?;
                    let key_found = unless_gone(
                        gax(ctx, "cryptoKeys.get", || kms.get_crypto_key().set_name(key_name.clone()).send())
                            .await,
                    )
                    .map_err(kms_fail("reading the encryption key"))?;
                    let usable = key_found.as_ref().is_some_and(primary_enabled);
                    if key_found.is_none() {
                        let next = time::OffsetDateTime::now_utc() + time::Duration::days(90);
                        let next = next
                            .format(&time::format_description::well_known::Rfc3339)
                            .unwrap_or_default();
                        let key: google_cloud_kms_v1::model::CryptoKey = model(
                            json!({
                                "purpose": "ENCRYPT_DECRYPT",
                                "rotationPeriod": ROTATION,
                                "nextRotationTime": next,
                                "versionTemplate": {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE"},
                                "labels": labels(&ctx.component_tags("kms_key")),
                            }),
                            "the encryption key",
                        )?;
                        gax(ctx, "cryptoKeys.create", || {
                            kms.create_crypto_key()
                                .set_parent(ring_name.clone())
                                .set_crypto_key_id(names::SECRETS_KEY)
                                .set_crypto_key(key.clone())
                                .send()
                        })
                        .await
                        .map_err(kms_fail("creating the encryption key"))?;
                    } else if !usable {
                        // A key left by an earlier stack of this name whose versions
                        // were destroyed: a new version becomes its primary.
                        let version = gax(ctx, "cryptoKeyVersions.create", || {
                            kms.create_crypto_key_version().set_parent(key_name.clone()).send()
                        })
                        .await
                        .map_err(kms_fail("renewing the encryption key"))?;
                        let version_id = text(&view(&version), "/name")
                            .map(|n| crate::cloud::gcp::wait::last_segment(&n).to_owned())
                            .unwrap_or_default();
                        gax(ctx, "cryptoKeys.updatePrimaryVersion", || {
                            kms.update_crypto_key_primary_version()
                                .set_name(key_name.clone())
                                .set_crypto_key_version_id(version_id.clone())
                                .send()
                        })
                        .await
                        .map_err(kms_fail("renewing the encryption key"))?;
                    }
                    made.push(record("kms_key", KMS_KEY, &key_name));
                    (key_name, true)
                }
            };
            let agent = format!("serviceAccount:{}", gke_agent(&self.project_number(ctx).await?));
            self.clients
                .change_policy(
                    ctx,
                    &PolicyOf::Key(name.clone()),
                    &[(ENCRYPTER.to_owned(), agent)],
                    &[],
                    "letting GKE use the encryption key",
                )
                .await?;
            Ok(KeyState { id: name, created })
        }
        .await;
        match result {
            Ok(state) => Step::done(state, made),
            Err(e) => Step::failed(e, made),
        }
    }

    /// Schedules the destruction of every enabled version of the stack's key.
    pub(super) async fn destroy_key(&self, ctx: &StackContext) -> Result<(), BackendError> {
        let kms = self
            .clients
            .kms()
            .await
            .map_err(kms_fail("reaching Cloud KMS"))?;
        let key_name = self.key_name(ctx)?;
        let versions = unless_gone(
            gax(ctx, "cryptoKeyVersions.list", || {
                kms.list_crypto_key_versions()
                    .set_parent(key_name.clone())
                    .send()
            })
            .await,
        )
        .map_err(kms_fail("listing the key's versions"))?;
        let Some(versions) = versions else {
            return Ok(());
        };
        for v in &versions.crypto_key_versions {
            let state = v.state.name().unwrap_or_default();
            if state != "ENABLED" && state != "DISABLED" {
                continue;
            }
            let name = v.name.clone();
            gax(ctx, "cryptoKeyVersions.destroy", || {
                kms.destroy_crypto_key_version()
                    .set_name(name.clone())
                    .send()
            })
            .await
            .map_err(kms_fail("scheduling the key's destruction"))?;
        }
        Ok(())
    }
}
