//! A stack's Cloud KMS key, shared by the GCP adapters (the GKE secrets key, the
//! Cloud SQL storage key): a key ring of the stack's in its region and a symmetric
//! key rotated every 90 days, adopted when it exists; a key whose versions an
//! earlier stack of the same name destroyed gets a new primary version (Cloud KMS
//! never deletes keys or rings). Teardown schedules the destruction of the key's
//! versions. A key's state is read from the typed models: their JSON form writes
//! enums as numbers.

use serde_json::json;

use super::call::{gax, model, unless_gone, GcpFailure};
use super::clients::GcpClients;
use super::wait::last_segment;
use crate::stack::{BackendError, StackContext};

/// The role that lets a service agent encrypt and decrypt with a key.
pub const ENCRYPTER: &str = "roles/cloudkms.cryptoKeyEncrypterDecrypter";

/// Ninety days, as KMS writes durations.
const ROTATION: &str = "7776000s";

/// Where a stack's key lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackKey {
    /// `projects/P/locations/REGION`.
    pub location: String,
    /// The key ring's id.
    pub ring: String,
    /// The key's id.
    pub key: String,
    /// The key's labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

impl StackKey {
    /// The key ring's full name.
    pub fn ring_name(&self) -> String {
        format!("{}/keyRings/{}", self.location, self.ring)
    }

    /// The key's full name.
    pub fn name(&self) -> String {
        format!("{}/cryptoKeys/{}", self.ring_name(), self.key)
    }
}

/// Maps a failure of Cloud KMS during `what`.
fn kms_fail(what: &'static str) -> impl Fn(GcpFailure) -> BackendError {
    move |f| f.into_backend_error("Cloud KMS", what)
}

/// Whether a key's primary version is enabled.
pub fn primary_enabled(key: &google_cloud_kms_v1::model::CryptoKey) -> bool {
    key.primary
        .as_ref()
        .is_some_and(|p| p.state.name() == Some("ENABLED"))
}

impl GcpClients {
    /// Checks that the user's key `id` exists.
    pub(crate) async fn check_key(&self, ctx: &StackContext, id: &str) -> Result<(), BackendError> {
        let kms = self.kms().await.map_err(kms_fail("reaching Cloud KMS"))?;
        gax(ctx, "cryptoKeys.get", || {
            kms.get_crypto_key().set_name(id.to_owned()).send()
        })
        .await
        .map_err(kms_fail("checking the encryption key"))?;
        Ok(())
    }

    /// Whether the key `name` exists with an enabled primary version (one call).
    pub(crate) async fn key_usable(
        &self,
        ctx: &StackContext,
        name: &str,
    ) -> Result<bool, BackendError> {
        let kms = self.kms().await.map_err(kms_fail("reaching Cloud KMS"))?;
        let found = unless_gone(
            gax(ctx, "cryptoKeys.get", || {
                kms.get_crypto_key().set_name(name.to_owned()).send()
            })
            .await,
        )
        .map_err(kms_fail("reading the encryption key"))?;
        Ok(found.as_ref().is_some_and(primary_enabled))
    }

    /// Ensures the stack's key (see the module docs); returns its full name.
    pub(crate) async fn ensure_key(
        &self,
        ctx: &StackContext,
        key: &StackKey,
    ) -> Result<String, BackendError> {
        let kms = self.kms().await.map_err(kms_fail("reaching Cloud KMS"))?;
        let ring_name = key.ring_name();
        let ring_found = unless_gone(
            gax(ctx, "keyRings.get", || {
                kms.get_key_ring().set_name(ring_name.clone()).send()
            })
            .await,
        )
        .map_err(kms_fail("reading the key ring"))?;
        if ring_found.is_none() {
            let made = gax(ctx, "keyRings.create", || {
                kms.create_key_ring()
                    .set_parent(key.location.clone())
                    .set_key_ring_id(key.ring.clone())
                    .send()
            })
            .await;
            match made {
                Ok(_) => {}
                Err(f) if f.is_already_exists() => {}
                Err(f) => return Err(kms_fail("creating the key ring")(f)),
            }
        }
        let name = key.name();
        let found = unless_gone(
            gax(ctx, "cryptoKeys.get", || {
                kms.get_crypto_key().set_name(name.clone()).send()
            })
            .await,
        )
        .map_err(kms_fail("reading the encryption key"))?;
        match found {
            None => {
                let next = (time::OffsetDateTime::now_utc() + time::Duration::days(90))
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                let body: google_cloud_kms_v1::model::CryptoKey = model(
                    json!({
                        "purpose": "ENCRYPT_DECRYPT",
                        "rotationPeriod": ROTATION,
                        "nextRotationTime": next,
                        "versionTemplate": {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE"},
                        "labels": key.labels,
                    }),
                    "the encryption key",
                )?;
                let created = gax(ctx, "cryptoKeys.create", || {
                    kms.create_crypto_key()
                        .set_parent(ring_name.clone())
                        .set_crypto_key_id(key.key.clone())
                        .set_crypto_key(body.clone())
                        .send()
                })
                .await;
                match created {
                    Ok(_) => {}
                    Err(f) if f.is_already_exists() => {}
                    Err(f) => return Err(kms_fail("creating the encryption key")(f)),
                }
            }
            Some(existing) if !primary_enabled(&existing) => {
                let version = gax(ctx, "cryptoKeyVersions.create", || {
                    kms.create_crypto_key_version()
                        .set_parent(name.clone())
                        .send()
                })
                .await
                .map_err(kms_fail("renewing the encryption key"))?;
                let version_id = last_segment(&version.name).to_owned();
                gax(ctx, "cryptoKeys.updatePrimaryVersion", || {
                    kms.update_crypto_key_primary_version()
                        .set_name(name.clone())
                        .set_crypto_key_version_id(version_id.clone())
                        .send()
                })
                .await
                .map_err(kms_fail("renewing the encryption key"))?;
            }
            Some(_) => {}
        }
        Ok(name)
    }

    /// Schedules the destruction of every enabled or disabled version of key `name`.
    pub(crate) async fn destroy_key_versions(
        &self,
        ctx: &StackContext,
        name: &str,
    ) -> Result<(), BackendError> {
        let kms = self.kms().await.map_err(kms_fail("reaching Cloud KMS"))?;
        let versions = unless_gone(
            gax(ctx, "cryptoKeyVersions.list", || {
                kms.list_crypto_key_versions()
                    .set_parent(name.to_owned())
                    .send()
            })
            .await,
        )
        .map_err(kms_fail("listing the key's versions"))?;
        let Some(versions) = versions else {
            return Ok(());
        };
        for v in &versions.crypto_key_versions {
            if !matches!(v.state.name(), Some("ENABLED" | "DISABLED")) {
                continue;
            }
            gax(ctx, "cryptoKeyVersions.destroy", || {
                kms.destroy_crypto_key_version()
                    .set_name(v.name.clone())
                    .send()
            })
            .await
            .map_err(kms_fail("scheduling the key's destruction"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_nest_ring_and_key() {
        let k = StackKey {
            location: "projects/p/locations/europe-west2".into(),
            ring: "paved-shop".into(),
            key: "cluster-secrets".into(),
            labels: Default::default(),
        };
        assert_eq!(
            k.name(),
            "projects/p/locations/europe-west2/keyRings/paved-shop/cryptoKeys/cluster-secrets"
        );
    }

    #[test]
    fn only_an_enabled_primary_is_usable() {
        let key: google_cloud_kms_v1::model::CryptoKey =
            serde_json::from_value(json!({"primary": {"state": "ENABLED"}})).expect("model");
        assert!(primary_enabled(&key));
        let key: google_cloud_kms_v1::model::CryptoKey =
            serde_json::from_value(json!({"primary": {"state": "DESTROY_SCHEDULED"}}))
                .expect("model");
        assert!(!primary_enabled(&key));
        assert!(!primary_enabled(&Default::default()));
    }
}
