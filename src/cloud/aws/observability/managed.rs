//! Amazon Managed Service for Prometheus: the workspace (alias `paved-<stack>`,
//! adopted by alias and tags since aliases are not unique), the rule groups namespace
//! [`RULES_NAMESPACE`] holding the stack's alert rules, and the alert manager
//! definition routing every alert to the stack's SNS topic ([`super::topic`]).
//!
//! Each part is read first and written only when it differs; AMP applies changes
//! asynchronously, so every write is followed by a wait for `ACTIVE` that reports
//! AMP's reason when it refuses a configuration ([`super::wait`]).

use aws_sdk_amp::primitives::Blob;
use aws_sdk_amp::Client;
use aws_sdk_sns::Client as Sns;

use super::names::{workspace_alias, RULES_NAMESPACE};
use super::topic::{delete_topic, ensure_topic};
use super::wait::{until_active, waiter, Seen};
use super::{hash_map, kind, not_found, owned, Place, WORKSPACE_KEY};
use crate::cloud::aws::error::{fail, failed, incomplete, unless_gone, SdkFailure};
use crate::cloud::aws::inventory::{record, step};
use crate::ports::observability::{ManagedMetricsRequest, ManagedMetricsState};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The inventory key the rule groups namespace is tagged with (it is not inventoried
/// on its own: it goes with the workspace).
pub(super) const RULES_KEY: &str = "metrics_workspace.rules";

/// The stack's workspace as a listing shows it.
#[derive(Debug, Clone)]
pub(super) struct Workspace {
    /// Its id (`ws-...`).
    pub id: String,
    /// Its ARN.
    pub arn: String,
    /// Its tags.
    pub tags: std::collections::BTreeMap<String, String>,
}

/// The stack's workspace: listed by alias (AMP matches a prefix, so the alias is
/// compared here), the stack's by its tags, not being deleted; the oldest when
/// several are.
pub(super) async fn find_workspace(
    amp: &Client,
    ctx: &StackContext,
) -> Result<Option<Workspace>, BackendError> {
    let alias = workspace_alias(&ctx.stack);
    let mut found: Vec<(aws_sdk_amp::primitives::DateTime, Workspace)> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = amp
            .list_workspaces()
            .alias(&alias)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(fail("AMP", "looking up the stack's Prometheus workspace"))?;
        for w in out.workspaces() {
            let tags = w.tags().cloned().unwrap_or_default();
            let deleting = w
                .status()
                .is_some_and(|s| s.status_code().as_str() == "DELETING");
            if w.alias() != Some(alias.as_str())
                || deleting
                || !owned(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())), ctx)
            {
                continue;
            }
            found.push((
                *w.created_at(),
                Workspace {
                    id: w.workspace_id().to_owned(),
                    arn: w.arn().to_owned(),
                    tags: tags.into_iter().collect(),
                },
            ));
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    found.sort_by_key(|(at, _)| at.secs());
    Ok(found.into_iter().next().map(|(_, w)| w))
}

/// The URLs of a workspace from its Prometheus endpoint
/// (`https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/`): remote write
/// and the query root Grafana reads.
pub(super) fn urls(endpoint: &str) -> (String, String) {
    let root = endpoint.trim_end_matches('/');
    (format!("{root}/api/v1/remote_write"), root.to_owned())
}

/// AMP's alert manager definition: every alert to the SNS topic, signed for the
/// region (AMP's Alertmanager reaches receivers only through SNS).
pub(super) fn alertmanager_definition(topic: &str, region: &str) -> String {
    format!(
        "alertmanager_config: |
  route:
    receiver: sns
    group_by: ['alertname', 'severity']
    group_wait: 30s
    group_interval: 5m
    repeat_interval: 4h
  receivers:
    - name: sns
      sns_configs:
        - topic_arn: {topic}
          send_resolved: true
          sigv4:
            region: {region}
          attributes:
            severity: '{{{{ .CommonLabels.severity }}}}'
"
    )
}

/// Ensures the workspace, its rules, the alert topic and the alert manager
/// definition; see the module's documentation.
pub(super) async fn ensure_managed(
    amp: &Client,
    sns: &Sns,
    ctx: &StackContext,
    place: &Place,
    req: &ManagedMetricsRequest,
) -> Step<ManagedMetricsState> {
    let mut components = Vec::new();
    let result = ensure(amp, sns, ctx, place, req, &mut components).await;
    step(result, components)
}

async fn ensure(
    amp: &Client,
    sns: &Sns,
    ctx: &StackContext,
    place: &Place,
    req: &ManagedMetricsRequest,
    components: &mut Vec<ComponentRecord>,
) -> Result<ManagedMetricsState, BackendError> {
    ctx.checkpoint("ensuring the Prometheus workspace")?;
    let (id, arn) = match find_workspace(amp, ctx).await? {
        Some(w) => (w.id, w.arn),
        None => {
            let out = amp
                .create_workspace()
                .alias(workspace_alias(&ctx.stack))
                .set_tags(Some(hash_map(&ctx.component_tags(WORKSPACE_KEY))))
                .send()
                .await
                .map_err(fail("AMP", "creating the Prometheus workspace"))?;
            (out.workspace_id().to_owned(), out.arn().to_owned())
        }
    };
    components.push(record(WORKSPACE_KEY, kind::METRICS_WORKSPACE, &arn));
    let endpoint = workspace_active(amp, ctx, &id).await?;
    let topic = ensure_topic(sns, ctx, place, &arn, &req.subscriptions, components).await?;
    ensure_rules(amp, ctx, &id, &req.rules_yaml).await?;
    ensure_alert_manager(
        amp,
        ctx,
        &id,
        &alertmanager_definition(&topic, &place.region),
    )
    .await?;
    let (remote_write_url, query_url) = urls(&endpoint);
    Ok(ManagedMetricsState {
        workspace_id: id,
        remote_write_url,
        query_url,
        alert_topic: Some(topic),
    })
}

/// Waits for workspace `id` to be `ACTIVE`; returns its Prometheus endpoint.
async fn workspace_active(
    amp: &Client,
    ctx: &StackContext,
    id: &str,
) -> Result<String, BackendError> {
    let during = format!("waiting for Prometheus workspace {id}");
    let waiter = waiter(ctx, format!("workspace {id}"));
    let endpoint = until_active(&waiter, &during, || describe_workspace(amp, id)).await?;
    endpoint.ok_or_else(|| incomplete(&during, "the workspace's Prometheus endpoint"))
}

/// Workspace `id` as AMP shows it (no status when it is gone), with its Prometheus
/// endpoint.
pub(super) async fn describe_workspace(
    amp: &Client,
    id: &str,
) -> Result<Seen<Option<String>>, SdkFailure> {
    let out = unless_gone(
        amp.describe_workspace().workspace_id(id).send().await,
        not_found,
    )?;
    let w = out.as_ref().and_then(|o| o.workspace());
    Ok(Seen {
        status: w
            .and_then(|w| w.status())
            .map(|s| s.status_code().as_str().to_owned()),
        reason: None,
        value: w.and_then(|w| w.prometheus_endpoint()).map(str::to_owned),
    })
}

/// What AMP holds of a rule groups namespace or an alert manager definition.
struct Held {
    /// Its content.
    data: Vec<u8>,
    /// Its status code (`ACTIVE`, `CREATING`, `CREATION_FAILED`...).
    status: Option<String>,
    /// Why, for a failed status.
    reason: Option<String>,
}

impl Held {
    fn new(data: &Blob, status: Option<&str>, reason: Option<&str>) -> Self {
        Held {
            data: data.as_ref().to_vec(),
            status: status.map(str::to_owned),
            reason: reason.map(str::to_owned),
        }
    }
}

/// What a wait sees of a [`Held`] that may be missing.
fn seen(held: Option<Held>) -> Seen<()> {
    let (status, reason) = held.map_or((None, None), |h| (h.status, h.reason));
    Seen {
        status,
        reason,
        value: (),
    }
}

/// The rule groups namespace of workspace `id`, when it has one.
async fn describe_rules(amp: &Client, id: &str) -> Result<Option<Held>, SdkFailure> {
    let call = amp
        .describe_rule_groups_namespace()
        .workspace_id(id)
        .name(RULES_NAMESPACE)
        .send()
        .await;
    let out = unless_gone(call, not_found)?;
    Ok(out
        .as_ref()
        .and_then(|o| o.rule_groups_namespace())
        .map(|n| {
            let status = n.status();
            let code = status.map(|s| s.status_code().as_str());
            Held::new(n.data(), code, status.and_then(|s| s.status_reason()))
        }))
}

/// The alert manager definition of workspace `id`, when it has one.
async fn describe_alert_manager(amp: &Client, id: &str) -> Result<Option<Held>, SdkFailure> {
    let call = amp.describe_alert_manager_definition().workspace_id(id);
    let out = unless_gone(call.send().await, not_found)?;
    Ok(out
        .as_ref()
        .and_then(|o| o.alert_manager_definition())
        .map(|d| {
            let status = d.status();
            let code = status.map(|s| s.status_code().as_str());
            Held::new(d.data(), code, status.and_then(|s| s.status_reason()))
        }))
}

/// Makes the rule groups namespace hold `rules` (deleted when they are blank).
async fn ensure_rules(
    amp: &Client,
    ctx: &StackContext,
    id: &str,
    rules: &str,
) -> Result<(), BackendError> {
    ctx.checkpoint("uploading the alert rules")?;
    let current = describe_rules(amp, id)
        .await
        .map_err(failed("AMP", "reading the alert rules"))?;
    let blank = rules.trim().is_empty();
    let same = current
        .as_ref()
        .is_some_and(|ns| ns.data == rules.as_bytes());
    let data = Blob::new(rules.as_bytes());
    match current {
        None if blank => return Ok(()),
        Some(_) if blank => return delete_rules(amp, id).await,
        Some(ns) if same && ns.status.as_deref() == Some("ACTIVE") => return Ok(()),
        Some(_) if same => {}
        Some(_) => {
            amp.put_rule_groups_namespace()
                .workspace_id(id)
                .name(RULES_NAMESPACE)
                .data(data)
                .send()
                .await
                .map_err(fail("AMP", "updating the alert rules"))?;
        }
        None => {
            amp.create_rule_groups_namespace()
                .workspace_id(id)
                .name(RULES_NAMESPACE)
                .data(data)
                .set_tags(Some(hash_map(&ctx.component_tags(RULES_KEY))))
                .send()
                .await
                .map_err(fail("AMP", "uploading the alert rules"))?;
        }
    }
    let during = "waiting for AMP to accept the alert rules";
    until_active(&waiter(ctx, "the alert rules"), during, || async {
        Ok(seen(describe_rules(amp, id).await?))
    })
    .await
}

/// Makes the alert manager definition be `definition`.
async fn ensure_alert_manager(
    amp: &Client,
    ctx: &StackContext,
    id: &str,
    definition: &str,
) -> Result<(), BackendError> {
    ctx.checkpoint("configuring alert routing")?;
    let current = describe_alert_manager(amp, id)
        .await
        .map_err(failed("AMP", "reading the alert manager definition"))?;
    let status = current.as_ref().and_then(|d| d.status.clone());
    let same = current
        .as_ref()
        .is_some_and(|d| d.data == definition.as_bytes());
    let data = Blob::new(definition.as_bytes());
    match (current, status.as_deref()) {
        (Some(_), Some("ACTIVE")) if same => return Ok(()),
        (Some(_), Some("CREATING" | "UPDATING")) if same => {}
        // A definition AMP never accepted is made again rather than updated.
        (Some(_), Some("CREATION_FAILED")) => {
            delete_alert_manager(amp, id).await?;
            create_alert_manager(amp, id, data).await?;
        }
        (Some(_), _) => {
            amp.put_alert_manager_definition()
                .workspace_id(id)
                .data(data)
                .send()
                .await
                .map_err(fail("AMP", "updating the alert manager definition"))?;
        }
        (None, _) => create_alert_manager(amp, id, data).await?,
    }
    let during = "waiting for AMP to accept the alert manager definition";
    let waiter = waiter(ctx, "the alert manager definition");
    until_active(&waiter, during, || async {
        Ok(seen(describe_alert_manager(amp, id).await?))
    })
    .await
}

async fn create_alert_manager(amp: &Client, id: &str, data: Blob) -> Result<(), BackendError> {
    amp.create_alert_manager_definition()
        .workspace_id(id)
        .data(data)
        .send()
        .await
        .map_err(fail("AMP", "creating the alert manager definition"))?;
    Ok(())
}

async fn delete_alert_manager(amp: &Client, id: &str) -> Result<(), BackendError> {
    let call = amp.delete_alert_manager_definition().workspace_id(id);
    unless_gone(call.send().await, not_found)
        .map_err(failed("AMP", "deleting the alert manager definition"))?;
    Ok(())
}

/// Deletes the rule groups namespace (one already gone is fine).
async fn delete_rules(amp: &Client, id: &str) -> Result<(), BackendError> {
    let call = amp
        .delete_rule_groups_namespace()
        .workspace_id(id)
        .name(RULES_NAMESPACE);
    unless_gone(call.send().await, not_found).map_err(failed("AMP", "deleting the alert rules"))?;
    Ok(())
}

/// Deletes the alert manager definition, the rules and the workspace, then the
/// alert topic. Both are attempted whatever became of the other; the first error is
/// returned with what is left.
pub(super) async fn delete_managed(
    amp: &Client,
    sns: &Sns,
    ctx: &StackContext,
    place: &Place,
) -> Step<()> {
    let mut left = Vec::new();
    let mut first_error = None;
    match delete_workspace(amp, ctx).await {
        Ok(()) => {}
        Err((e, remaining)) => {
            left.extend(remaining);
            first_error = Some(e);
        }
    }
    let topic = || {
        let arn = super::names::topic_arn(&ctx.stack, &place.region, &place.account);
        record(super::TOPIC_KEY, kind::ALERT_TOPIC, &arn)
    };
    if let Err(e @ (BackendError::Cancelled { .. } | BackendError::TimedOut { .. })) =
        ctx.checkpoint("deleting the alert topic")
    {
        left.push(topic());
        return Step::failed(first_error.unwrap_or(e), left);
    }
    if let Err(e) = delete_topic(sns, ctx, place).await {
        left.push(topic());
        first_error.get_or_insert(e);
    }
    match first_error {
        Some(e) => Step::failed(e, left),
        None => Step::done((), Vec::new()),
    }
}

async fn delete_workspace(
    amp: &Client,
    ctx: &StackContext,
) -> Result<(), (BackendError, Vec<ComponentRecord>)> {
    let workspace = find_workspace(amp, ctx)
        .await
        .map_err(|e| (e, Vec::new()))?;
    let Some(w) = workspace else {
        return Ok(());
    };
    let left = || vec![record(WORKSPACE_KEY, kind::METRICS_WORKSPACE, &w.arn)];
    let result = async {
        ctx.checkpoint("deleting the Prometheus workspace")?;
        delete_alert_manager(amp, &w.id).await?;
        delete_rules(amp, &w.id).await?;
        unless_gone(
            amp.delete_workspace().workspace_id(&w.id).send().await,
            not_found,
        )
        .map_err(failed(
            "AMP",
            format!("deleting Prometheus workspace {}", w.id),
        ))?;
        Ok::<(), BackendError>(())
    }
    .await;
    result.map_err(|e| (e, left()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_come_from_the_endpoint() {
        let (write, query) =
            urls("https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/");
        assert_eq!(
            write,
            "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
        );
        assert_eq!(
            query,
            "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1"
        );
    }

    #[test]
    fn the_definition_routes_to_the_topic() {
        let d = alertmanager_definition("arn:aws:sns:eu-west-1:1:shop-alerts", "eu-west-1");
        assert!(d.starts_with("alertmanager_config: |\n"));
        assert!(d.contains("- topic_arn: arn:aws:sns:eu-west-1:1:shop-alerts\n"));
        assert!(d.contains("region: eu-west-1\n"));
        assert!(d.contains("'{{ .CommonLabels.severity }}'"));
    }
}
