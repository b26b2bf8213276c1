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
use crate::cloud::gcp::kms::{StackKey, ENCRYPTER};
use crate::cloud::gcp::labels::labels;
use crate::cloud::gcp::policy::PolicyOf;
use crate::cloud::gcp::wait::text;
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The inventory key of the key paved creates.
pub(super) const KEY_KEY: &str = "kms_key";

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
                let number = self.clients.project_number(ctx).await?;
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
        let (name, created) = match req {
            EncryptionKeyRequest::Provided { id } => {
                self.clients.check_key(ctx, id).await?;
                (id.clone(), false)
            }
            EncryptionKeyRequest::Create => {
                let key_name = self
                    .clients
                    .ensure_key(
                        ctx,
                        &StackKey {
                            location: format!(
                                "projects/{}/locations/{}",
                                self.clients.project()?,
                                self.region()?
                            ),
                            ring: names::key_ring(&ctx.stack),
                            key: names::STORAGE_KEY.to_owned(),
                            labels: labels(&ctx.component_tags(KEY_KEY)),
                        },
                    )
                    .await?;
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
        self.clients
            .destroy_key_versions(ctx, &self.key_name(ctx)?)
            .await
    }

    /// The stack's key, when it exists and is usable (one call).
    pub(super) async fn read_key(
        &self,
        ctx: &StackContext,
    ) -> Result<Option<KeyState>, BackendError> {
        let key_name = self.key_name(ctx)?;
        Ok(self
            .clients
            .key_usable(ctx, &key_name)
            .await?
            .then_some(KeyState {
                id: key_name,
                created: true,
            }))
    }
}
