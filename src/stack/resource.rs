//! What the managed resources share in their `Resource` implementations: how they
//! get a backend for the configured cloud, the stack context every backend call
//! receives, and how a failed step becomes a diagnostic.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::error::{BackendError, CloudError};
use super::knowable::Knowable;
use super::state::stack_tags;
use super::step::{StackContext, TeardownReport};
use super::timeouts::parse_duration;
use crate::diag::Diagnostics;
use crate::framework::{ApplyResponse, OpContext, ReadRequest, ReadResponse};

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

/// Adds the error for a cloud the resource cannot reach.
pub fn report_cloud(diags: &mut Diagnostics, err: &CloudError) {
    diags.error("The cloud is not reachable", format!("{err}."));
}

/// The outcome of a teardown as an apply response: null state when everything is
/// gone; otherwise the error (what remains, or why teardown stopped) with the prior
/// state kept, so that destroy can be run again.
pub fn teardown_response(
    what: &str,
    prior: &paved_value::Value,
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
pub fn unreachable_response(err: &CloudError, prior: &paved_value::Value) -> ApplyResponse {
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
