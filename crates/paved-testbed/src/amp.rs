//! An opt-in, in-memory stand-in for the Amazon Managed Service for Prometheus
//! (AMP) alert manager definition API, which moto lacks.
//!
//! moto 5.2.5 has AMP workspaces and rule groups namespaces but no alert manager
//! definitions: its answer to those paths is an HTML 404 the SDK cannot read. When
//! this stand-in is on ([`ProxyHandle::with_amp_extras`]), the proxy answers them
//! itself, in the REST-JSON wire format `aws-sdk-amp` reads, for requests signed for
//! the `aps` service. Workspaces stay moto's: every request first reads the
//! workspace from moto with a `GET /workspaces/{id}` (DescribeWorkspace) carrying
//! the request's own headers (so moto's region and account apply); this internal
//! read is neither counted nor faulted.
//!
//! | operation | request | answer |
//! | --- | --- | --- |
//! | CreateAlertManagerDefinition | `POST /workspaces/{id}/alertmanager/definition` with `data` (base64) and `clientToken` (ignored) | 202 `{"status": {"statusCode": "CREATING"}}`; 409 `ConflictException` when the workspace has one; 400 `ValidationException` for a definition AMP refuses at once (see below); 404 `ResourceNotFoundException` when moto has no such workspace |
//! | DescribeAlertManagerDefinition | `GET /workspaces/{id}/alertmanager/definition` | 200 `{"alertManagerDefinition": {"status", "data", "createdAt", "modifiedAt"}}`; 404 when the workspace has none |
//! | PutAlertManagerDefinition | `PUT /workspaces/{id}/alertmanager/definition` with `data` | 202 `{"status": {"statusCode": "UPDATING"}}`; 404 when the workspace has none; 409 while a change is in progress; 400 as for create |
//! | DeleteAlertManagerDefinition | `DELETE /workspaces/{id}/alertmanager/definition` (`clientToken` ignored) | 202, empty; 404 when the workspace has none; 409 while a change is in progress |
//!
//! Statuses: a create shows `CREATING` and a put `UPDATING` until the delay
//! ([`ProxyHandle::set_amp_delay`], default 0) is over, measured from the request;
//! the answer to the request itself always shows the transitional status. Then the
//! definition is `ACTIVE`, or `CREATION_FAILED` / `UPDATE_FAILED` with a
//! `statusReason` when a receiver is one AMP cannot reach (an `sns_configs` entry
//! whose `topic_arn` is not an SNS topic ARN), as AMP reports such problems
//! asynchronously. A failed definition can be put again or deleted.
//!
//! Refused at once with 400 `ValidationException`, as AMP does: `data` that is not
//! base64 of UTF-8 text; a top-level key other than `alertmanager_config` and
//! `template_files`; no `alertmanager_config`; an `alertmanager_config` without
//! `route:` or `receivers:`; a receiver integration other than `sns_configs` (AMP's
//! Alertmanager sends only to SNS); an `sns_configs` entry without `topic_arn`.
//!
//! Deleting a workspace through the proxy (a forwarded `DELETE /workspaces/{id}`
//! that moto answers with 2xx) deletes its definition, as AMP does. Requests it
//! answers are counted (with their real operation names, whether or not it is on)
//! and can get faults like any other; a faulted request changes nothing. While it
//! is off, these requests are forwarded to moto and the state is kept.
//!
//! What it does **not** model: the YAML is checked by the structural rules above,
//! not parsed (the Alertmanager configuration inside is not validated further:
//! `amtool check-config` is the judge of that); `template_files` are not checked;
//! the workspace's own status (moto's are always `ACTIVE`); `clientToken`
//! idempotency; tags (definitions have none); separate moto accounts are not kept
//! apart, but workspace ids are random, so they never meet.

use std::collections::BTreeMap;
use std::sync::MutexGuard;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hyper::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::eks::{segments, Lookup};
use crate::wire::Answer;
use crate::ProxyHandle;

/// An alert manager definition request the stand-in answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    Create { workspace: String },
    Describe { workspace: String },
    Put { workspace: String },
    Delete { workspace: String },
}

impl Operation {
    fn action(&self) -> &'static str {
        match self {
            Operation::Create { .. } => "CreateAlertManagerDefinition",
            Operation::Describe { .. } => "DescribeAlertManagerDefinition",
            Operation::Put { .. } => "PutAlertManagerDefinition",
            Operation::Delete { .. } => "DeleteAlertManagerDefinition",
        }
    }

    fn workspace(&self) -> &str {
        match self {
            Operation::Create { workspace }
            | Operation::Describe { workspace }
            | Operation::Put { workspace }
            | Operation::Delete { workspace } => workspace,
        }
    }
}

/// Which modelled operation a request (of the `aps` service) is, if any.
pub(crate) fn route(method: &Method, path: &str) -> Option<Operation> {
    let segs = segments(path);
    let parts: Vec<&str> = segs.iter().map(String::as_str).collect();
    let ["workspaces", ws, "alertmanager", "definition"] = parts.as_slice() else {
        return None;
    };
    let workspace = (*ws).to_owned();
    Some(match *method {
        Method::POST => Operation::Create { workspace },
        Method::GET => Operation::Describe { workspace },
        Method::PUT => Operation::Put { workspace },
        Method::DELETE => Operation::Delete { workspace },
        _ => return None,
    })
}

/// The AMP operation name of a request the stand-in models
/// (`CreateAlertManagerDefinition`, ...), used to classify it.
pub fn action_name(method: &Method, path: &str) -> Option<&'static str> {
    route(method, path).map(|op| op.action())
}

/// The path of the moto read that tells whether the workspace exists.
pub(crate) fn lookup_path(op: &Operation) -> String {
    format!("/workspaces/{}", op.workspace())
}

/// The workspace a `DELETE /workspaces/{id}` (DeleteWorkspace) deletes.
pub(crate) fn deleted_workspace(method: &Method, path: &str) -> Option<String> {
    if method != Method::DELETE {
        return None;
    }
    match segments(path).as_slice() {
        [w, id] if w == "workspaces" => Some(id.clone()),
        _ => None,
    }
}

/// One alert manager definition, as the stand-in holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertManagerDefinition {
    /// The workspace it belongs to.
    pub workspace_id: String,
    /// The definition (YAML), decoded.
    pub data: String,
    /// `CREATING`, `UPDATING`, `ACTIVE`, `CREATION_FAILED` or `UPDATE_FAILED` as of
    /// now.
    pub status: String,
    /// Why, for a failed status.
    pub status_reason: Option<String>,
    /// Creation time, epoch seconds.
    pub created_at: f64,
    /// Last change, epoch seconds.
    pub modified_at: f64,
}

/// A definition and the transition it is in.
#[derive(Clone, Debug)]
struct Held {
    data: String,
    created_at: f64,
    modified_at: f64,
    /// `CREATING` or `UPDATING` until `settles_at`, then `outcome`.
    transition: Option<&'static str>,
    settles_at: Instant,
    /// The status after the transition and its reason.
    outcome: (&'static str, Option<String>),
}

impl Held {
    fn status(&self, now: Instant) -> (&'static str, Option<String>) {
        match self.transition {
            Some(t) if now < self.settles_at => (t, None),
            _ => self.outcome.clone(),
        }
    }

    fn busy(&self, now: Instant) -> bool {
        self.transition.is_some() && now < self.settles_at
    }

    fn public(&self, workspace: &str, now: Instant) -> AlertManagerDefinition {
        let (status, status_reason) = self.status(now);
        AlertManagerDefinition {
            workspace_id: workspace.to_owned(),
            data: self.data.clone(),
            status: status.to_owned(),
            status_reason,
            created_at: self.created_at,
            modified_at: self.modified_at,
        }
    }
}

/// The stand-in's state: on or off, the delay, and the definitions by workspace id.
#[derive(Debug, Default)]
pub(crate) struct AmpStore {
    enabled: bool,
    delay: Duration,
    definitions: BTreeMap<String, Held>,
}

fn epoch_now() -> f64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_millis() as f64) / 1000.0
}

/// The AMP API's error answers.
impl Answer {
    fn amp_error(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error_type: Some(code),
            body: json!({ "__type": code, "message": message.into() }),
        }
    }

    fn amp_not_found(message: impl Into<String>) -> Self {
        Self::amp_error(404, "ResourceNotFoundException", message)
    }

    fn amp_invalid(message: impl Into<String>) -> Self {
        Self::amp_error(400, "ValidationException", message)
    }

    fn amp_conflict(message: impl Into<String>) -> Self {
        Self::amp_error(409, "ConflictException", message)
    }

    fn accepted(body: Value) -> Self {
        Self {
            status: 202,
            error_type: None,
            body,
        }
    }
}

#[derive(Deserialize)]
struct DataInput {
    data: Option<String>,
}

/// The decoded definition of a create or put body, or why AMP refuses it.
fn definition(body: &[u8]) -> Result<String, String> {
    let input: DataInput =
        serde_json::from_slice(body).map_err(|e| format!("invalid request body: {e}"))?;
    let data = input.data.ok_or("data is required")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| "data is not base64".to_owned())?;
    let text = String::from_utf8(bytes).map_err(|_| "data is not UTF-8 text".to_owned())?;
    check_structure(&text)?;
    Ok(text)
}

/// AMP's synchronous checks of a definition (see the module's documentation).
fn check_structure(text: &str) -> Result<(), String> {
    let mut top = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with(' ') || line.starts_with('#') {
            continue;
        }
        let key = line.split(':').next().unwrap_or_default().trim();
        top.push(key.to_owned());
    }
    if let Some(other) = top
        .iter()
        .find(|k| *k != "alertmanager_config" && *k != "template_files")
    {
        return Err(format!(
            "unknown top-level key {other:?}: a definition has alertmanager_config and \
             optionally template_files"
        ));
    }
    if !top.iter().any(|k| k == "alertmanager_config") {
        return Err("alertmanager_config is required".to_owned());
    }
    let config = inner_config(text);
    for needed in ["route:", "receivers:"] {
        if !config.lines().any(|l| l.trim_start().starts_with(needed)) {
            return Err(format!(
                "alertmanager_config has no {}",
                &needed[..needed.len() - 1]
            ));
        }
    }
    for line in config.lines() {
        let key = line.trim_start().trim_start_matches("- ");
        let key = key.split(':').next().unwrap_or_default().trim();
        if key.ends_with("_configs") && key != "sns_configs" {
            return Err(format!(
                "receiver integration {key} is not supported: AMP's Alertmanager sends to \
                 SNS only (sns_configs)"
            ));
        }
    }
    for entry in sns_entries(&config) {
        if !entry.iter().any(|(k, _)| k == "topic_arn") {
            return Err("an sns_configs entry has no topic_arn".to_owned());
        }
    }
    Ok(())
}

/// The text of the `alertmanager_config` block scalar, unindented.
fn inner_config(text: &str) -> String {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("alertmanager_config"));
    let Some(first) = lines.next() else {
        return String::new();
    };
    let inline = first
        .split_once(':')
        .map(|(_, v)| v.trim())
        .unwrap_or_default();
    if !inline.is_empty() && !inline.starts_with('|') && !inline.starts_with('>') {
        return inline.to_owned();
    }
    let body: Vec<&str> = lines
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect();
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    body.iter()
        .map(|l| l.get(indent..).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `key: value` pairs of each `sns_configs` entry (one level of a YAML list of
/// maps, as Alertmanager configurations write it).
fn sns_entries(config: &str) -> Vec<Vec<(String, String)>> {
    let mut entries: Vec<Vec<(String, String)>> = Vec::new();
    let mut in_sns: Option<usize> = None;
    for line in config.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with("sns_configs:") {
            in_sns = Some(indent);
            continue;
        }
        let Some(base) = in_sns else { continue };
        let item = trimmed.starts_with("- ");
        if indent < base || (indent == base && !item) {
            in_sns = None;
            continue;
        }
        let pair = trimmed.trim_start_matches("- ");
        if item && (indent == base || indent == base + 2) {
            entries.push(Vec::new());
        }
        if let (Some(entry), Some((k, v))) = (entries.last_mut(), pair.split_once(':')) {
            entry.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    entries
}

/// What the definition ends as once AMP has tried it: `ACTIVE`, or the failed status
/// for `transition` with the reason.
fn outcome(text: &str, transition: &'static str) -> (&'static str, Option<String>) {
    let config = inner_config(text);
    for entry in sns_entries(&config) {
        let arn = entry
            .iter()
            .find(|(k, _)| k == "topic_arn")
            .map(|(_, v)| v.trim_matches(|c| c == '\'' || c == '"'))
            .unwrap_or_default();
        let parts: Vec<&str> = arn.split(':').collect();
        let valid = parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "sns"
            && !parts[3].is_empty()
            && parts[4].len() == 12
            && !parts[5].is_empty();
        if !valid {
            let failed = if transition == "CREATING" {
                "CREATION_FAILED"
            } else {
                "UPDATE_FAILED"
            };
            return (
                failed,
                Some(format!("invalid SNS topic ARN {arn:?} in sns_configs")),
            );
        }
    }
    ("ACTIVE", None)
}

impl AmpStore {
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Forgets the definition of a deleted workspace.
    pub(crate) fn forget_workspace(&mut self, workspace: &str) {
        self.definitions.remove(workspace);
    }

    /// Answers `op`, given what moto said of the workspace.
    pub(crate) fn answer(
        &mut self,
        op: &Operation,
        body: &[u8],
        workspace: Lookup,
        now: Instant,
    ) -> Answer {
        let ws = op.workspace().to_owned();
        match workspace {
            Lookup::Found(_) => {}
            Lookup::Missing => {
                self.definitions.remove(&ws);
                return Answer::amp_not_found(format!("Workspace {ws} not found"));
            }
            Lookup::Failed(why) => {
                return Answer {
                    status: 500,
                    error_type: Some("InternalServerException"),
                    body: json!({
                        "__type": "InternalServerException",
                        "message": format!("paved-fault-proxy: cannot read workspace {ws}: {why}"),
                    }),
                }
            }
        }
        let missing =
            || Answer::amp_not_found(format!("Alert manager definition of {ws} not found"));
        match op {
            Operation::Describe { .. } => match self.definitions.get(&ws) {
                None => missing(),
                Some(held) => {
                    let (status, reason) = held.status(now);
                    let mut status = json!({ "statusCode": status });
                    if let Some(reason) = reason {
                        status["statusReason"] = json!(reason);
                    }
                    Answer::ok(json!({
                        "alertManagerDefinition": {
                            "status": status,
                            "data": base64::engine::general_purpose::STANDARD.encode(&held.data),
                            "createdAt": held.created_at,
                            "modifiedAt": held.modified_at,
                        }
                    }))
                }
            },
            Operation::Create { .. } => {
                if self.definitions.contains_key(&ws) {
                    return Answer::amp_conflict(format!(
                        "Workspace {ws} already has an alert manager definition"
                    ));
                }
                let text = match definition(body) {
                    Ok(text) => text,
                    Err(why) => return Answer::amp_invalid(why),
                };
                let at = epoch_now();
                let result = outcome(&text, "CREATING");
                self.definitions.insert(
                    ws,
                    Held {
                        data: text,
                        created_at: at,
                        modified_at: at,
                        transition: Some("CREATING"),
                        settles_at: now + self.delay,
                        outcome: result,
                    },
                );
                Answer::accepted(json!({ "status": { "statusCode": "CREATING" } }))
            }
            Operation::Put { .. } => {
                let delay = self.delay;
                let Some(held) = self.definitions.get_mut(&ws) else {
                    return missing();
                };
                if held.busy(now) {
                    return Answer::amp_conflict(format!(
                        "The alert manager definition of {ws} is being changed"
                    ));
                }
                let text = match definition(body) {
                    Ok(text) => text,
                    Err(why) => return Answer::amp_invalid(why),
                };
                held.outcome = outcome(&text, "UPDATING");
                held.data = text;
                held.modified_at = epoch_now();
                held.transition = Some("UPDATING");
                held.settles_at = now + delay;
                Answer::accepted(json!({ "status": { "statusCode": "UPDATING" } }))
            }
            Operation::Delete { .. } => match self.definitions.get(&ws) {
                None => missing(),
                Some(held) if held.busy(now) => Answer::amp_conflict(format!(
                    "The alert manager definition of {ws} is being changed"
                )),
                Some(_) => {
                    self.definitions.remove(&ws);
                    Answer::accepted(json!({}))
                }
            },
        }
    }
}

impl ProxyHandle {
    fn amp(&self) -> MutexGuard<'_, AmpStore> {
        self.amp_store()
    }

    stand_in_controls! {
        store: amp;
        /// Turns on the AMP alert manager definition stand-in (see [`crate::amp`]):
        /// from now on the proxy answers Create-, Describe-, Put- and
        /// DeleteAlertManagerDefinition itself. Independent of the
        /// [`FaultConfig`](crate::FaultConfig) and of the other stand-ins. Returns the
        /// handle, for `FaultProxy::start(..)?.with_amp_extras()`.
        with: with_amp_extras;
        /// Turns the stand-in on or off at run time. Turning it off keeps its state;
        /// while it is off, its requests are forwarded like any other.
        set: set_amp_extras;
        /// Whether the AMP stand-in is on.
        enabled: amp_extras_enabled;
        /// Sets how long a create or put stays `CREATING` / `UPDATING`, for changes
        /// started from now on. Default: zero.
        set_delay: set_amp_delay;
    }

    /// The alert manager definition of workspace `workspace_id`, as of now.
    pub fn amp_alert_manager_definition(
        &self,
        workspace_id: &str,
    ) -> Option<AlertManagerDefinition> {
        let now = Instant::now();
        self.amp()
            .definitions
            .get(workspace_id)
            .map(|h| h.public(workspace_id, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "alertmanager_config: |
  route:
    receiver: sns
  receivers:
    - name: sns
      sns_configs:
        - topic_arn: arn:aws:sns:us-east-1:123456789012:shop-alerts
          sigv4:
            region: us-east-1
";

    fn body(text: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "data": base64::engine::general_purpose::STANDARD.encode(text)
        }))
        .unwrap()
    }

    fn found() -> Lookup {
        Lookup::Found(json!({"workspace": {}}))
    }

    fn create() -> Operation {
        Operation::Create {
            workspace: "ws-1".into(),
        }
    }

    #[test]
    fn routes_and_names() {
        let path = "/workspaces/ws-1/alertmanager/definition";
        assert_eq!(route(&Method::POST, path), Some(create()));
        assert_eq!(
            action_name(&Method::PUT, path),
            Some("PutAlertManagerDefinition")
        );
        assert_eq!(route(&Method::GET, "/workspaces/ws-1"), None);
        assert_eq!(
            deleted_workspace(&Method::DELETE, "/workspaces/ws-1").as_deref(),
            Some("ws-1")
        );
    }

    #[test]
    fn create_describe_put_delete() {
        let mut store = AmpStore::default();
        let now = Instant::now();
        let a = store.answer(&create(), &body(GOOD), found(), now);
        assert_eq!(a.status, 202);
        assert_eq!(a.body["status"]["statusCode"], "CREATING");
        let describe = Operation::Describe {
            workspace: "ws-1".into(),
        };
        let a = store.answer(&describe, b"", found(), now);
        assert_eq!(
            a.body["alertManagerDefinition"]["status"]["statusCode"],
            "ACTIVE"
        );
        let a = store.answer(&create(), &body(GOOD), found(), now);
        assert_eq!((a.status, a.error_type), (409, Some("ConflictException")));
        let bad = GOOD.replace("arn:aws:sns:us-east-1:123456789012:shop-alerts", "nope");
        let put = Operation::Put {
            workspace: "ws-1".into(),
        };
        assert_eq!(store.answer(&put, &body(&bad), found(), now).status, 202);
        let a = store.answer(&describe, b"", found(), now);
        let status = &a.body["alertManagerDefinition"]["status"];
        assert_eq!(status["statusCode"], "UPDATE_FAILED");
        assert!(status["statusReason"].as_str().unwrap().contains("nope"));
        let delete = Operation::Delete {
            workspace: "ws-1".into(),
        };
        assert_eq!(store.answer(&delete, b"", found(), now).status, 202);
        assert_eq!(store.answer(&describe, b"", found(), now).status, 404);
        assert_eq!(
            store
                .answer(&create(), &body(GOOD), Lookup::Missing, now)
                .status,
            404
        );
    }

    #[test]
    fn transitions_last_the_delay_and_block_changes() {
        let mut store = AmpStore {
            delay: Duration::from_secs(10),
            ..AmpStore::default()
        };
        let now = Instant::now();
        store.answer(&create(), &body(GOOD), found(), now);
        let describe = Operation::Describe {
            workspace: "ws-1".into(),
        };
        let a = store.answer(&describe, b"", found(), now + Duration::from_secs(1));
        assert_eq!(
            a.body["alertManagerDefinition"]["status"]["statusCode"],
            "CREATING"
        );
        let put = Operation::Put {
            workspace: "ws-1".into(),
        };
        let a = store.answer(&put, &body(GOOD), found(), now + Duration::from_secs(1));
        assert_eq!(a.status, 409);
        let a = store.answer(&describe, b"", found(), now + Duration::from_secs(11));
        assert_eq!(
            a.body["alertManagerDefinition"]["status"]["statusCode"],
            "ACTIVE"
        );
    }

    #[test]
    fn definitions_amp_refuses_at_once() {
        for (text, why) in [
            ("route: {}\n", "unknown top-level key"),
            ("template_files: {}\n", "alertmanager_config is required"),
            ("alertmanager_config: |\n  receivers: []\n", "no route"),
            (
                "alertmanager_config: |\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      slack_configs:\n        - channel: x\n",
                "slack_configs",
            ),
            (
                "alertmanager_config: |\n  route:\n    receiver: a\n  receivers:\n    - name: a\n      sns_configs:\n        - subject: x\n",
                "no topic_arn",
            ),
        ] {
            let err = definition(&body(text)).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
        assert!(definition(br#"{"data": "%%%"}"#).is_err());
        assert!(definition(&body(GOOD)).is_ok());
    }
}
