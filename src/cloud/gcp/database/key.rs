//! The key that encrypts the database's storage (CMEK): a Cloud KMS key paved
//! creates in the stack's key ring, in the instance's region, rotated every 90
//! days; or the user's key, checked. Either way Cloud SQL's service agent (made
//! on first use with Service Usage's `generateServiceIdentity`) is granted
//! `roles/cloudkms.cryptoKeyEncrypterDecrypter` on it, which Cloud SQL requires
//! before it accepts the key. Cloud KMS never deletes keys: teardown schedules the
//! destruction of the key's versions, and the empty key and ring stay.

use reqwest::Method;
use serde_json::json;

use super::names;
use super::rest::{call, fail, wait};
use super::{kind, record, GcpDatabaseBackend};
use crate::cloud::gcp::call::{gax, model, unless_gone, GcpFailure};
use crate::cloud::gcp::labels::labels;
use crate::cloud::gcp::policy::PolicyOf;
use crate::cloud::gcp::wait::{last_segment, text, view};
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The role that lets a service agent encrypt and decrypt with a key.
pub(super) const ENCRYPTER: &str = "roles/cloudkms.cryptoKeyEncrypterDecrypter";

/// Ninety days, as KMS writes durations.
const ROTATION: &str = "7776000s";

/// The inventory key of the key paved creates.
pub(super) const KEY_KEY: &str = "kms_key";

/// A key version's state in a model's JSON view: the generated models write
/// enums as numbers (`ENABLED` is 1, `DISABLED` 2), the REST answers as names.
fn version_state(v: &serde_json::Value, pointer: &str) -> &'static str {
    match v.pointer(pointer) {
        Some(serde_json::Value::String(s)) if s == "ENABLED" => "ENABLED",
        Some(serde_json::Value::String(s)) if s == "DISABLED" => "DISABLED",
        Some(serde_json::Value::Number(n)) if n.as_i64() == Some(1) => "ENABLED",
        Some(serde_json::Value::Number(n)) if n.as_i64() == Some(2) => "DISABLED",
        _ => "OTHER",
    }
}

/// Maps a failure of Cloud KMS during `what`.
fn kms_fail(what: &'static str) -> impl Fn(GcpFailure) -> BackendError {
    move |f| f.into_backend_error("Cloud KMS", what)
}

impl GcpDatabaseBackend {
    /// The full name of the stack's storage key.
    pub(super) fn key_name(&self, ctx: &StackContext) -> Result<String, BackendError> {
        Ok(format!(
            "projects/{}/locations/{}/keyRings/{}/cryptoKeys/{}",
            self.clients.project()?,
            self.region()?,
            names::key_ring(&ctx.stack),
            names::STORAGE_KEY
        ))
    }

    /// Cloud SQL's service agent, made if it does not exist yet.
    async fn sql_agent(&self, ctx: &StackContext) -> Result<String, BackendError> {
        let project = self.clients.project()?;
        let during = "creating Cloud SQL's service agent";
        let op = call(
            &self.clients,
            ctx,
            "serviceusage",
            Method::POST,
            &format!(
                "/v1beta1/projects/{project}/services/sqladmin.googleapis.com:generateServiceIdentity"
            ),
            Some(&json!({})),
            "services.generateServiceIdentity",
        )
        .await
        .map_err(fail("serviceusage", during))?;
        let poll = format!("/v1beta1/{}", text(&op, "/name").unwrap_or_default());
        let done = wait(&self.clients, ctx, "serviceusage", &poll, op, during).await?;
        match text(&done, "/response/email") {
            Some(email) => Ok(email),
            None => {
                let number = self.project_number(ctx).await?;
                Ok(format!(
                    "service-{number}@gcp-sa-cloud-sql.iam.gserviceaccount.com"
                ))
            }
        }
    }

    /// Ensures the storage key (see the module docs) and Cloud SQL's right to use it.
    pub(super) async fn key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState> {
        let mut made: Vec<ComponentRecord> = Vec::new();
        let result = self.key_inner(ctx, req, &mut made).await;
        match result {
            Ok(state) => Step::done(state, made),
            Err(e) => Step::failed(e, made),
        }
    }

    async fn key_inner(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
        made: &mut Vec<ComponentRecord>,
    ) -> Result<KeyState, BackendError> {
        let kms = self
            .clients
            .kms()
            .await
            .map_err(kms_fail("reaching Cloud KMS"))?;
        let (name, created) = match req {
            EncryptionKeyRequest::Provided { id } => {
                gax(ctx, "cryptoKeys.get", || {
                    kms.get_crypto_key().set_name(id.clone()).send()
                })
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
                    gax(ctx, "keyRings.get", || {
                        kms.get_key_ring().set_name(ring_name.clone()).send()
                    })
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
                    gax(ctx, "cryptoKeys.get", || {
                        kms.get_crypto_key().set_name(key_name.clone()).send()
                    })
                    .await,
                )
                .map_err(kms_fail("reading the encryption key"))?;
                let usable = key_found
                    .as_ref()
                    .is_some_and(|k| version_state(&view(k), "/primary/state") == "ENABLED");
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
                            "labels": labels(&ctx.component_tags(KEY_KEY)),
                        }),
                        "the encryption key",
                    )?;
                    let created = gax(ctx, "cryptoKeys.create", || {
                        kms.create_crypto_key()
                            .set_parent(ring_name.clone())
                            .set_crypto_key_id(names::STORAGE_KEY)
                            .set_crypto_key(key.clone())
                            .send()
                    })
                    .await;
                    match created {
                        Ok(_) => {}
                        Err(f) if f.is_already_exists() => {}
                        Err(f) => return Err(kms_fail("creating the encryption key")(f)),
                    }
                } else if !usable {
                    // A key left by an earlier stack of this name whose versions were
                    // destroyed: a new version becomes its primary.
                    let version = gax(ctx, "cryptoKeyVersions.create", || {
                        kms.create_crypto_key_version()
                            .set_parent(key_name.clone())
                            .send()
                    })
                    .await
                    .map_err(kms_fail("renewing the encryption key"))?;
                    let version_id = text(&view(&version), "/name")
                        .map(|n| last_segment(&n).to_owned())
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
                made.push(record(KEY_KEY, kind::KMS_KEY, &key_name));
                (key_name, true)
            }
        };
        let agent = format!("serviceAccount:{}", self.sql_agent(ctx).await?);
        self.clients
            .change_policy(
                ctx,
                &PolicyOf::Key(name.clone()),
                &[(ENCRYPTER.to_owned(), agent)],
                &[],
                "letting Cloud SQL use the encryption key",
            )
            .await?;
        Ok(KeyState { id: name, created })
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
        let listed = view(&versions);
        for v in listed
            .get("cryptoKeyVersions")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            if version_state(v, "/state") == "OTHER" {
                continue;
            }
            let Some(name) = text(v, "/name") else {
                continue;
            };
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

    /// The stack's key, when it exists and is usable (one call).
    pub(super) async fn read_key(
        &self,
        ctx: &StackContext,
    ) -> Result<Option<KeyState>, BackendError> {
        let kms = self
            .clients
            .kms()
            .await
            .map_err(kms_fail("reaching Cloud KMS"))?;
        let key_name = self.key_name(ctx)?;
        let found = unless_gone(
            gax(ctx, "cryptoKeys.get", || {
                kms.get_crypto_key().set_name(key_name.clone()).send()
            })
            .await,
        )
        .map_err(kms_fail("reading the encryption key"))?;
        Ok(found
            .filter(|k| version_state(&view(k), "/primary/state") == "ENABLED")
            .map(|_| KeyState {
                id: key_name,
                created: true,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_states_read_as_names_or_numbers() {
        assert_eq!(version_state(&json!({"state": 1}), "/state"), "ENABLED");
        assert_eq!(
            version_state(&json!({"state": "DISABLED"}), "/state"),
            "DISABLED"
        );
        assert_eq!(version_state(&json!({"state": 4}), "/state"), "OTHER");
        assert_eq!(version_state(&json!({}), "/primary/state"), "OTHER");
    }
}
