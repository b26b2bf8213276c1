//! The KMS key a stack encrypts with (Kubernetes secrets for `paved_ha_cluster`,
//! storage for `paved_managed_database`), shared by both AWS backends.
//!
//! A key paved creates carries the stack's tags and an alias
//! `alias/paved/<purpose>/<stack>`: the alias is how the key is found again, with
//! one `DescribeKey` call, by the next apply (adoption after a crash), by refresh and
//! by teardown. Rotation is always on. Deleting schedules the key's deletion after
//! KMS's shortest waiting period (7 days) and removes the alias, so the name is free
//! at once.
//!
//! Known gap: a crash between `CreateKey` and `CreateAlias` leaves a tagged key with
//! no alias; the next apply creates another one. The orphan still carries the
//! stack's tags, so it can be found with the Resource Groups Tagging API.

use aws_sdk_kms::types::{KeyState as AwsKeyState, Tag};
use aws_sdk_kms::Client;

use super::error::SdkFailure;
use crate::ports::key::{EncryptionKeyRequest, KeyState};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The inventory key and kind of the key component.
pub const KEY_COMPONENT: &str = "kms_key";

/// Days KMS waits before deleting a key scheduled for deletion (its minimum).
pub const PENDING_WINDOW_DAYS: i32 = 7;

/// Which stack a key belongs to, and what it is for.
#[derive(Debug, Clone, Copy)]
pub struct KeyOwner<'a> {
    /// `cluster` or `database`: part of the alias, so a cluster and a database of
    /// the same name keep separate keys.
    pub purpose: &'a str,
}

impl KeyOwner<'_> {
    /// The alias of the stack's key.
    pub fn alias(&self, stack: &str) -> String {
        format!("alias/paved/{}/{stack}", self.purpose)
    }
}

fn backend_error(operation: &str, failure: SdkFailure) -> BackendError {
    failure.into_backend_error("KMS", operation)
}

fn record(arn: &str) -> ComponentRecord {
    ComponentRecord {
        key: KEY_COMPONENT.to_owned(),
        kind: KEY_COMPONENT.to_owned(),
        zone: None,
        id: arn.to_owned(),
    }
}

/// The key an alias points at: its ARN and whether it is scheduled for deletion.
async fn lookup(kms: &Client, alias: &str) -> Result<Option<(String, bool)>, BackendError> {
    match kms.describe_key().key_id(alias).send().await {
        Ok(out) => Ok(out.key_metadata().and_then(|meta| {
            let pending = matches!(
                meta.key_state(),
                Some(AwsKeyState::PendingDeletion | AwsKeyState::PendingReplicaDeletion)
            );
            meta.arn().map(|arn| (arn.to_owned(), pending))
        })),
        Err(e) => {
            let failure = SdkFailure::from_sdk(e);
            if failure.code_is("NotFoundException") {
                Ok(None)
            } else {
                Err(backend_error("describing the encryption key", failure))
            }
        }
    }
}

async fn delete_alias(kms: &Client, alias: &str) -> Result<(), BackendError> {
    match kms.delete_alias().alias_name(alias).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let failure = SdkFailure::from_sdk(e);
            if failure.code_is("NotFoundException") {
                Ok(())
            } else {
                Err(backend_error("removing the key's alias", failure))
            }
        }
    }
}

/// The key behind the stack's alias, unless it is gone or scheduled for deletion.
pub async fn read_key(
    kms: &Client,
    ctx: &StackContext,
    owner: KeyOwner<'_>,
) -> Result<Option<KeyState>, BackendError> {
    Ok(lookup(kms, &owner.alias(&ctx.stack))
        .await?
        .filter(|(_, pending)| !pending)
        .map(|(arn, _)| KeyState {
            id: arn,
            created: true,
        }))
}

/// Ensures the stack's key: checks the user's key, or adopts the aliased key, or
/// creates one (tagged, rotation on) and aliases it.
pub async fn ensure_key(
    kms: &Client,
    ctx: &StackContext,
    owner: KeyOwner<'_>,
    req: &EncryptionKeyRequest,
) -> Step<KeyState> {
    match req {
        EncryptionKeyRequest::Provided { id: arn } => check_provided(kms, arn).await,
        EncryptionKeyRequest::Create => create_or_adopt(kms, ctx, owner).await,
    }
}

async fn check_provided(kms: &Client, arn: &str) -> Step<KeyState> {
    let result = match kms.describe_key().key_id(arn).send().await {
        Ok(out) => match out.key_metadata().map(|m| m.key_state()) {
            Some(Some(AwsKeyState::Enabled)) => Ok(KeyState {
                id: out
                    .key_metadata()
                    .and_then(|m| m.arn())
                    .unwrap_or(arn)
                    .to_owned(),
                created: false,
            }),
            state => Err(BackendError::Permanent {
                operation: "checking encryption_key_arn".to_owned(),
                message: format!(
                    "the key {arn} is not enabled (state {:?})",
                    state.flatten().map(AwsKeyState::as_str)
                ),
                hint: "Enable the key, or leave encryption_key_arn unset so paved creates one"
                    .to_owned(),
            }),
        },
        Err(e) => {
            let failure = SdkFailure::from_sdk(e);
            if failure.code_is("NotFoundException") {
                Err(BackendError::NotFound {
                    what: format!("the KMS key {arn} named in encryption_key_arn"),
                })
            } else {
                Err(backend_error("checking encryption_key_arn", failure))
            }
        }
    };
    Step {
        components: Vec::new(),
        result,
    }
}

async fn create_or_adopt(kms: &Client, ctx: &StackContext, owner: KeyOwner<'_>) -> Step<KeyState> {
    let alias = owner.alias(&ctx.stack);
    match lookup(kms, &alias).await {
        Ok(Some((arn, false))) => {
            let components = vec![record(&arn)];
            // Adopted: make sure rotation is on (a crash may have come before it).
            let result = enable_rotation(kms, &arn).await.map(|()| KeyState {
                id: arn,
                created: true,
            });
            return Step { components, result };
        }
        Ok(Some((_, true))) => {
            // A key of an earlier stack of this name, on its way out: free the alias.
            if let Err(e) = delete_alias(kms, &alias).await {
                return Step::failed(e, Vec::new());
            }
        }
        Ok(None) => {}
        Err(e) => return Step::failed(e, Vec::new()),
    }
    let tags: Vec<Tag> = ctx
        .component_tags(KEY_COMPONENT)
        .into_iter()
        .filter_map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build().ok())
        .collect();
    let created = kms
        .create_key()
        .description(format!(
            "paved {} {}: encryption key",
            owner.purpose, ctx.stack
        ))
        .set_tags(Some(tags))
        .send()
        .await;
    let arn = match created {
        Ok(out) => match out.key_metadata().and_then(|m| m.arn()) {
            Some(arn) => arn.to_owned(),
            None => {
                return Step::failed(
                    BackendError::Permanent {
                        operation: "creating the encryption key".to_owned(),
                        message: "KMS returned no key ARN".to_owned(),
                        hint: "Run apply again".to_owned(),
                    },
                    Vec::new(),
                )
            }
        },
        Err(e) => {
            return Step::failed(
                backend_error("creating the encryption key", SdkFailure::from_sdk(e)),
                Vec::new(),
            )
        }
    };
    let components = vec![record(&arn)];
    let alias = kms
        .create_alias()
        .alias_name(&alias)
        .target_key_id(&arn)
        .send()
        .await
        .map_err(|e| backend_error("naming the encryption key", SdkFailure::from_sdk(e)));
    let result = match alias {
        Ok(_) => enable_rotation(kms, &arn).await.map(|()| KeyState {
            id: arn,
            created: true,
        }),
        Err(e) => Err(e),
    };
    Step { components, result }
}

async fn enable_rotation(kms: &Client, arn: &str) -> Result<(), BackendError> {
    kms.enable_key_rotation()
        .key_id(arn)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| backend_error("turning on key rotation", SdkFailure::from_sdk(e)))
}

/// Schedules deletion of the stack's key (after [`PENDING_WINDOW_DAYS`]), then removes
/// its alias. Returns the key, `None` when the stack had none. Calling it again is
/// harmless.
pub async fn delete_key(
    kms: &Client,
    ctx: &StackContext,
    owner: KeyOwner<'_>,
) -> Result<Option<ComponentRecord>, BackendError> {
    let alias = owner.alias(&ctx.stack);
    let Some((arn, pending)) = lookup(kms, &alias).await? else {
        return Ok(None);
    };
    if !pending {
        // The bare key id: AWS takes the ARN too, but emulators (moto) only the id.
        let key_id = arn.rsplit_once(":key/").map_or(arn.as_str(), |(_, id)| id);
        if let Err(e) = kms
            .schedule_key_deletion()
            .key_id(key_id)
            .pending_window_in_days(PENDING_WINDOW_DAYS)
            .send()
            .await
        {
            let failure = SdkFailure::from_sdk(e);
            if !(failure.code_is("NotFoundException")
                || failure.code_is("KMSInvalidStateException"))
            {
                return Err(backend_error("scheduling the key's deletion", failure));
            }
        }
    }
    delete_alias(kms, &alias).await?;
    Ok(Some(record(&arn)))
}
