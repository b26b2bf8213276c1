//! The resource trait: one request and one response type per operation, as Terraform
//! drives them (plan, apply, read, import, state upgrade).

use async_trait::async_trait;
use paved_value::{Path, Value};

use super::OpContext;
use crate::diag::Diagnostics;
use crate::schema::Schema;

/// What planning a change gets.
pub struct PlanRequest<'a> {
    /// The state before the change; null when creating.
    pub prior_state: &'a Value,
    /// Terraform's proposal: the configuration merged with the prior state; null
    /// when destroying.
    pub proposed_new_state: &'a Value,
    /// The configuration as written (may hold unknowns); null when destroying.
    pub config: &'a Value,
    /// Private data saved with the prior state.
    pub prior_private: &'a [u8],
}

/// What planning returns.
pub struct PlanResponse {
    /// The planned state: configured values as configured, every computed value that
    /// the apply may change unknown.
    pub planned_state: Value,
    /// Attribute paths whose change forces replacement.
    pub requires_replace: Vec<Path>,
    /// Private data to hand to the apply.
    pub planned_private: Vec<u8>,
    /// Errors and warnings.
    pub diagnostics: Diagnostics,
}

/// What applying a change gets.
pub struct ApplyRequest<'a> {
    /// The state before the change; null when creating.
    pub prior_state: &'a Value,
    /// The planned state; null when destroying.
    pub planned_state: &'a Value,
    /// The configuration (wholly known); null when destroying.
    pub config: &'a Value,
    /// Private data from the plan.
    pub planned_private: &'a [u8],
}

/// What applying returns. On failure, `new_state` still holds whatever exists, so
/// Terraform keeps track of it.
pub struct ApplyResponse {
    /// The new state; null when destroyed.
    pub new_state: Value,
    /// Private data to store with the state.
    pub private: Vec<u8>,
    /// Errors and warnings.
    pub diagnostics: Diagnostics,
}

/// What reading (refreshing) gets.
pub struct ReadRequest<'a> {
    /// The state as recorded.
    pub current_state: &'a Value,
    /// Private data stored with the state.
    pub private: &'a [u8],
}

/// What reading returns.
pub struct ReadResponse {
    /// The state as it is now; null when the object is gone.
    pub new_state: Value,
    /// Private data to store.
    pub private: Vec<u8>,
    /// Errors and warnings.
    pub diagnostics: Diagnostics,
}

/// One object found by an import.
pub struct ImportedObject {
    /// The state read from the cloud.
    pub state: Value,
    /// Private data to store with it.
    pub private: Vec<u8>,
}

/// A managed resource.
#[async_trait]
pub trait Resource: Send + Sync {
    /// The type name in HCL (`paved_ha_cluster`).
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Checks a configuration without any cloud call. Values may be unknown.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Migrates the JSON of a state written with an older schema version to the
    /// current layout. The default accepts only the current version.
    fn upgrade_state_json(
        &self,
        version: i64,
        json: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let current = self.schema().version;
        if version > current {
            return Err(format!(
                "the state was written by a newer paved (schema version {version}, this one knows {current}); upgrade the provider"
            ));
        }
        Ok(json)
    }

    /// Plans a create, update or destroy.
    async fn plan(&self, ctx: &OpContext, req: PlanRequest<'_>) -> PlanResponse;

    /// Applies a planned create, update or destroy.
    async fn apply(&self, ctx: &OpContext, req: ApplyRequest<'_>) -> ApplyResponse;

    /// Refreshes the state from the cloud.
    async fn read(&self, ctx: &OpContext, req: ReadRequest<'_>) -> ReadResponse;

    /// Finds an existing object by the id the user gave to `terraform import`.
    async fn import(
        &self,
        ctx: &OpContext,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<ImportedObject>;
}

impl Default for PlanResponse {
    fn default() -> Self {
        Self {
            planned_state: Value::Null,
            requires_replace: Vec::new(),
            planned_private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }
}

impl Default for ApplyResponse {
    fn default() -> Self {
        Self {
            new_state: Value::Null,
            private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }
}

impl Default for ReadResponse {
    fn default() -> Self {
        Self {
            new_state: Value::Null,
            private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }
}
