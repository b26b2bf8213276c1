//! The key that encrypts the cluster's Kubernetes secrets (GKE application-layer
//! secrets encryption): the stack's Cloud KMS key ([`crate::cloud::gcp::kms`]) in
//! the cluster's region, usable by GKE's service agent; or the user's key, checked.

use super::identity::gke_agent;
use super::names;
use super::network::record;
use super::GcpClusterBackend;
use crate::cloud::gcp::kms::{StackKey, ENCRYPTER};
use crate::cloud::gcp::labels::labels;
use crate::cloud::gcp::policy::PolicyOf;
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The key's inventory kind.
pub const KMS_KEY: &str = "kms_key";

impl GcpClusterBackend {
    /// Where the stack's secrets key lives.
    fn stack_key(&self, ctx: &StackContext) -> Result<StackKey, BackendError> {
        Ok(StackKey {
            location: format!(
                "projects/{}/locations/{}",
                self.clients.project()?,
                self.region()?
            ),
            ring: names::key_ring(&ctx.stack),
            key: names::SECRETS_KEY.to_owned(),
            labels: labels(&ctx.component_tags("kms_key")),
        })
    }

    /// The full name of the stack's secrets key.
    pub(super) fn key_name(&self, ctx: &StackContext) -> Result<String, BackendError> {
        Ok(self.stack_key(ctx)?.name())
    }

    /// Ensures the secrets key and GKE's right to use it.
    pub(super) async fn key(
        &self,
        ctx: &StackContext,
        req: &EncryptionKeyRequest,
    ) -> Step<KeyState> {
        let mut made: Vec<ComponentRecord> = Vec::new();
        let result = async {
            let (name, created) = match req {
                EncryptionKeyRequest::Provided { id } => {
                    self.clients.check_key(ctx, id).await?;
                    (id.clone(), false)
                }
                EncryptionKeyRequest::Create => {
                    let name = self.clients.ensure_key(ctx, &self.stack_key(ctx)?).await?;
                    made.push(record("kms_key", KMS_KEY, &name));
                    (name, true)
                }
            };
            let agent = format!(
                "serviceAccount:{}",
                gke_agent(&self.clients.project_number(ctx).await?)
            );
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

    /// Schedules the destruction of the stack's key's versions.
    pub(super) async fn destroy_key(&self, ctx: &StackContext) -> Result<(), BackendError> {
        self.clients
            .destroy_key_versions(ctx, &self.key_name(ctx)?)
            .await
    }
}
