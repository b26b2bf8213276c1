//! What the managed resources share in their `Resource` implementations: how they
//! get a backend for the configured cloud, the stack context every backend call
//! receives, and how a failed step becomes a diagnostic.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use super::error::{BackendError, CloudError};
use paved_value::{Path, Value};

use super::knowable::Knowable;
use super::plan::{is_protected, quoted_name};
use super::state::set_attr;
use super::state::stack_tags;
use super::step::{StackContext, TeardownReport};
use super::tags::{common_user_tags, planned_tags_all, retag_needed, tags_value, user_tags, Tags};
use super::timeouts::parse_duration;
use crate::diag::Diagnostics;
use crate::framework::{ApplyResponse, OpContext, PlanResponse, ReadRequest, ReadResponse};

/// The context for one operation on stack `stack`: its tags, Terraform's stop
/// signal, and the deadline from the operation's timeout (as written, or
/// `fallback`).
pub fn stack_context(
    ctx: &OpContext,
    resource_type: &'static str,
    default_tags: &BTreeMap<String, String>,
    stack: &str,
    resource_tags: Option<&BTreeMap<String, String>>,
    timeout: &Knowable<String>,
    fallback: Duration,
) -> StackContext {
    let limit = timeout
        .known()
        .and_then(|t| parse_duration(t))
        .unwrap_or(fallback);
    StackContext {
        stack: stack.to_owned(),
        resource_type,
        tags: stack_tags(default_tags, resource_tags, stack),
        cancel: ctx.cancel.clone(),
        deadline: Some(Instant::now() + limit),
    }
}

/// Adds the error a failed backend call reports, saying what was being done.
pub fn report(diags: &mut Diagnostics, doing: &str, err: &BackendError) {
    diags.error(format!("{doing} failed"), format!("{err}."));
}

/// Reports a create that failed after making part of the stack, telling the truth
/// about what comes next: the partial state is kept, Terraform marks the resource
/// tainted and plans to replace it, and `terraform untaint` resumes instead. With
/// `protected`, the replacement's destroy is refused ([`refuse_protected_delete`]).
pub fn report_failed_create(
    diags: &mut Diagnostics,
    doing: &str,
    type_name: &str,
    err: &BackendError,
    protected: bool,
) {
    let next = if protected {
        "deletion_protection is on, so paved will refuse that destroy and the apply will stop"
    } else {
        "that destroys what was created and builds it again"
    };
    diags.error(
        format!("{doing} failed"),
        format!(
            "{}.\n\nWhat was created is kept in the state, but Terraform marks a resource whose \
             create failed as tainted and plans to replace it on the next apply ({next}). To resume \
             where it stopped instead, run `terraform untaint {type_name}.<NAME>` (the resource's \
             address in your configuration) and then `terraform apply`: paved finds what exists \
             by its tags and builds the rest.",
            err.cause().trim_end_matches('.')
        ),
    );
}

/// The answer to a delete of a stack whose state says `deletion_protection = true`:
/// refused at apply time too, whatever the plan (a tainted resource's replacement
/// is planned by Terraform without asking the provider), keeping the state.
pub fn refuse_protected_delete(type_name: &str, prior: &Value) -> Option<ApplyResponse> {
    if !is_protected(prior) {
        return None;
    }
    let mut diags = Diagnostics::new();
    diags.attribute_error(
        Path::root().attr("deletion_protection"),
        "Deletion protection is on",
        format!(
            "{type_name} {} has deletion_protection = true in its state, so paved refuses to \
             delete it, whatever the plan says; nothing was deleted. If Terraform planned this \
             because an earlier create failed (the resource is tainted), run `terraform untaint \
             {type_name}.<NAME>` and apply again to resume instead. To delete the stack, set \
             deletion_protection = false and apply that first.",
            quoted_name(prior)
        ),
    );
    Some(ApplyResponse {
        new_state: prior.clone(),
        diagnostics: diags,
        ..ApplyResponse::default()
    })
}

/// Adds the error for a cloud the resource cannot reach.
pub fn report_cloud(diags: &mut Diagnostics, err: &CloudError) {
    diags.error("The cloud is not reachable", format!("{err}."));
}

/// The outcome of a teardown as an apply response: null state when everything is
/// gone; otherwise the error (what remains, or why teardown stopped) with the prior
/// state kept, so that destroy can be run again.
pub fn teardown_response(
    what: &str,
    prior: &Value,
    result: Result<TeardownReport, BackendError>,
) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    match result {
        Ok(report) if report.left_behind.is_empty() => {
            return ApplyResponse {
                diagnostics: diags,
                ..ApplyResponse::default()
            }
        }
        Ok(report) => {
            let lines: Vec<String> = report
                .left_behind
                .iter()
                .map(|l| {
                    format!(
                        "- {} {} ({}): {}",
                        l.component.kind, l.component.id, l.component.key, l.reason
                    )
                })
                .collect();
            diags.error(
                "Some components could not be deleted",
                format!(
                    "The rest of the {what} is gone. These remain, and the resource stays in the state so that \
                     destroy can be run again once they can go:\n{}",
                    lines.join("\n")
                ),
            );
        }
        Err(e) => report(&mut diags, &format!("Destroying the {what}"), &e),
    }
    ApplyResponse {
        new_state: prior.clone(),
        diagnostics: diags,
        ..ApplyResponse::default()
    }
}

/// The response when no backend can be had: the error, and the prior state kept.
pub fn unreachable_response(err: &CloudError, prior: &Value) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    report_cloud(&mut diags, err);
    ApplyResponse {
        new_state: prior.clone(),
        diagnostics: diags,
        ..ApplyResponse::default()
    }
}

/// A refresh that keeps the recorded state (the cloud could not be read), with
/// the diagnostics saying why.
pub fn kept_read(req: &ReadRequest<'_>, diagnostics: Diagnostics) -> ReadResponse {
    ReadResponse {
        new_state: req.current_state.clone(),
        private: req.private.to_vec(),
        diagnostics,
    }
}

/// The refresh response when no backend can be had: the error, the state kept.
pub fn unreachable_read(err: &CloudError, req: &ReadRequest<'_>) -> ReadResponse {
    let mut diags = Diagnostics::new();
    report_cloud(&mut diags, err);
    kept_read(req, diags)
}

/// A value the configuration must know at apply (Terraform guarantees it); an
/// unknown one is a bug, reported rather than panicking.
pub fn known<T: Clone>(k: &Knowable<T>, what: &str) -> Result<T, BackendError> {
    k.known().cloned().ok_or_else(|| BackendError::Permanent {
        operation: "reading the configuration".to_owned(),
        message: format!("{what} is not known at apply"),
        hint: "This is a bug in paved; please report it with the plan output".to_owned(),
    })
}

/// The `tags_all` of a prior state (null when it has none).
pub fn prior_tags_all(prior: &Value) -> Value {
    prior.get_attr("tags_all").cloned().unwrap_or(Value::Null)
}

/// Sets the planned `tags_all` of a plan that keeps the resource: the provider's
/// `default_tags` under the configuration's `tags` (unknown when either is).
pub fn plan_tags_all(response: &mut PlanResponse, default_tags: Option<&Tags>, config: &Value) {
    if response.planned_state.is_null() {
        return;
    }
    let tags_all = match default_tags {
        Some(defaults) => planned_tags_all(defaults, config),
        None => Value::unknown(),
    };
    set_attr(&mut response.planned_state, "tags_all", tags_all);
}

/// After a successful apply: when the stack's tags changed (the resource's or the
/// provider's defaults), `retag` sets them on every component with the keys no
/// longer wanted; `state` gets the new `tags_all`, or keeps the prior one when the
/// retag failed (the next plan then shows it still to do).
pub async fn settle_tags<F, Fut>(
    state: &mut Value,
    prior: &Value,
    ctx: &StackContext,
    creating: bool,
    what: &str,
    diags: &mut Diagnostics,
    retag: F,
) where
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = Result<(), BackendError>>,
{
    let wanted = user_tags(&ctx.tags);
    let mut tags_all = tags_value(&wanted);
    if let (false, Some(removed)) = (creating, retag_needed(prior, &wanted)) {
        if let Err(e) = retag(removed).await {
            report(diags, &format!("Retagging the {what}"), &e);
            tags_all = prior_tags_all(prior);
        }
    }
    set_attr(state, "tags_all", tags_all);
}

/// The `tags_all` a refresh or import reads: what every component whose tags were
/// read agrees on; `fallback` when none was read.
pub fn read_tags_all(by_component: &BTreeMap<String, Tags>, fallback: Value) -> Value {
    common_user_tags(by_component).map_or(fallback, |t| tags_value(&t))
}
