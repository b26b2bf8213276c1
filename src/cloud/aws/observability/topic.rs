//! The SNS topic AMP's Alertmanager sends alerts to (`<stack>-alerts`): its policy
//! lets `aps.amazonaws.com` publish for the stack's workspace only, and its
//! subscriptions are exactly the e-mail addresses (`email`) and HTTPS endpoints
//! (`https`) asked for. Subscriptions still waiting for confirmation count as present,
//! so an apply never sends a second confirmation message; SNS cannot remove them, so
//! one no longer wanted lapses on its own. Endpoints can carry credentials (a
//! webhook's token), so messages name an HTTPS endpoint by its host only.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_sns::types::Tag;
use aws_sdk_sns::Client;
use serde_json::{json, Value};

use super::names::{topic_arn, topic_name};
use super::{conflict, hash_map, not_found, owned, Place};
use super::{kind, TOPIC_KEY};
use crate::cloud::aws::error::{fail, failed, unless_gone};
use crate::cloud::aws::inventory::record;
use crate::cloud::aws::tagging::tag_list;
use crate::stack::{BackendError, ComponentRecord, StackContext};

/// One subscription: SNS protocol and endpoint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Subscription {
    protocol: &'static str,
    endpoint: String,
}

impl Subscription {
    /// How messages name it: an address, or an HTTPS endpoint's host.
    fn shown(&self) -> String {
        match self.protocol {
            "https" => {
                let rest = self.endpoint.trim_start_matches("https://");
                let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
                format!("https endpoint on {host}")
            }
            _ => self.endpoint.clone(),
        }
    }
}

/// What `value` subscribes as: `https://` URLs as `https`, addresses as `email`.
fn subscription(value: &str) -> Option<Subscription> {
    let value = value.trim();
    if value.len() > "https://".len() && value.starts_with("https://") {
        return Some(Subscription {
            protocol: "https",
            endpoint: value.to_owned(),
        });
    }
    let (user, domain) = value.split_once('@')?;
    let plain = !value.contains(char::is_whitespace) && !value.contains("://");
    (plain && !user.is_empty() && domain.contains('.')).then(|| Subscription {
        protocol: "email",
        endpoint: value.to_owned(),
    })
}

/// Refuses, before any call, subscriptions that are neither an e-mail address nor an
/// HTTPS URL (named by position: a URL may hold a token).
pub(super) fn check_subscriptions(values: &[String]) -> Result<(), BackendError> {
    for (i, v) in values.iter().enumerate() {
        if subscription(v).is_none() {
            return Err(BackendError::Permanent {
                operation: "checking the alert subscriptions".to_owned(),
                message: format!(
                    "subscription {} is neither an e-mail address nor an https:// URL",
                    i + 1
                ),
                hint: "Give e-mail addresses (oncall@example.com) or HTTPS endpoints \
                       (https://...); AMP's Alertmanager reaches others only through them"
                    .to_owned(),
            });
        }
    }
    Ok(())
}

/// The topic's policy: AMP may publish for the stack's workspace, in this account.
pub(super) fn topic_policy(topic: &str, workspace_arn: &str, account: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowManagedPrometheusAlerts",
            "Effect": "Allow",
            "Principal": {"Service": "aps.amazonaws.com"},
            "Action": ["sns:Publish", "sns:GetTopicAttributes"],
            "Resource": topic,
            "Condition": {
                "ArnEquals": {"aws:SourceArn": workspace_arn},
                "StringEquals": {"aws:SourceAccount": account}
            }
        }]
    })
}

/// Tags as SNS takes them.
pub(super) fn sns_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tag_list(tags, |k, v| Tag::builder().key(k).value(v).build())
}

/// The topic's tags when it exists (`GetTopicAttributes` would do for existence,
/// but the tags are needed to tell whose it is).
async fn tags_of(
    sns: &Client,
    arn: &str,
) -> Result<Option<BTreeMap<String, String>>, BackendError> {
    let out = unless_gone(
        sns.list_tags_for_resource().resource_arn(arn).send().await,
        not_found,
    )
    .map_err(failed(
        "SNS",
        format!("reading the tags of SNS topic {arn}"),
    ))?;
    Ok(out.map(|o| {
        o.tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    }))
}

/// Ensures the topic, its policy and its subscriptions; returns its ARN.
pub(super) async fn ensure_topic(
    sns: &Client,
    ctx: &StackContext,
    place: &Place,
    workspace_arn: &str,
    subscriptions: &[String],
    components: &mut Vec<ComponentRecord>,
) -> Result<String, BackendError> {
    let arn = topic_arn(&ctx.stack, &place.region, &place.account);
    let policy = topic_policy(&arn, workspace_arn, &place.account);
    ctx.checkpoint("ensuring the alert topic")?;
    match tags_of(sns, &arn).await? {
        Some(tags) => {
            if !owned(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())), ctx) {
                return Err(conflict(
                    format!("SNS topic {arn}"),
                    ctx,
                    "rename the stack, or delete or rename that topic",
                ));
            }
            components.push(record(TOPIC_KEY, kind::ALERT_TOPIC, &arn));
            let attributes = sns
                .get_topic_attributes()
                .topic_arn(&arn)
                .send()
                .await
                .map_err(fail("SNS", format!("reading SNS topic {arn}")))?;
            let current = attributes
                .attributes()
                .and_then(|a| a.get("Policy"))
                .and_then(|p| serde_json::from_str::<Value>(p).ok());
            if current.as_ref() != Some(&policy) {
                sns.set_topic_attributes()
                    .topic_arn(&arn)
                    .attribute_name("Policy")
                    .attribute_value(policy.to_string())
                    .send()
                    .await
                    .map_err(fail(
                        "SNS",
                        format!("setting the policy of SNS topic {arn}"),
                    ))?;
            }
        }
        None => {
            let tags = sns_tags(&ctx.component_tags(TOPIC_KEY));
            let attributes = BTreeMap::from([("Policy".to_owned(), policy.to_string())]);
            let out = sns
                .create_topic()
                .name(topic_name(&ctx.stack))
                .set_attributes(Some(hash_map(&attributes)))
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(fail("SNS", format!("creating SNS topic {arn}")))?;
            let made = out.topic_arn().unwrap_or(&arn);
            components.push(record(TOPIC_KEY, kind::ALERT_TOPIC, made));
        }
    }
    ensure_subscriptions(sns, ctx, &arn, subscriptions).await?;
    Ok(arn)
}

/// Subscribes what is missing and unsubscribes confirmed subscriptions no longer
/// wanted.
async fn ensure_subscriptions(
    sns: &Client,
    ctx: &StackContext,
    arn: &str,
    values: &[String],
) -> Result<(), BackendError> {
    let wanted: BTreeSet<Subscription> = values.iter().filter_map(|v| subscription(v)).collect();
    let mut present: Vec<(Subscription, Option<String>)> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = sns
            .list_subscriptions_by_topic()
            .topic_arn(arn)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(fail(
                "SNS",
                format!("listing the subscriptions of SNS topic {arn}"),
            ))?;
        for s in out.subscriptions() {
            let protocol = match s.protocol() {
                Some("email") => "email",
                Some("https") => "https",
                _ => continue,
            };
            let confirmed = s
                .subscription_arn()
                .filter(|a| a.starts_with("arn:"))
                .map(str::to_owned);
            present.push((
                Subscription {
                    protocol,
                    endpoint: s.endpoint().unwrap_or_default().to_owned(),
                },
                confirmed,
            ));
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    for s in &wanted {
        if present.iter().any(|(p, _)| p == s) {
            continue;
        }
        ctx.checkpoint("subscribing to the alert topic")?;
        sns.subscribe()
            .topic_arn(arn)
            .protocol(s.protocol)
            .endpoint(&s.endpoint)
            .send()
            .await
            .map_err(fail(
                "SNS",
                format!("subscribing {} to the alert topic", s.shown()),
            ))?;
    }
    for (s, confirmed) in &present {
        let Some(subscription_arn) = confirmed.as_deref().filter(|_| !wanted.contains(s)) else {
            continue;
        };
        ctx.checkpoint("unsubscribing from the alert topic")?;
        unless_gone(
            sns.unsubscribe()
                .subscription_arn(subscription_arn)
                .send()
                .await,
            not_found,
        )
        .map_err(failed(
            "SNS",
            format!("unsubscribing {} from the alert topic", s.shown()),
        ))?;
    }
    Ok(())
}

/// Deletes the topic (SNS deletes its subscriptions with it) when it is the stack's.
/// Returns whether it is gone.
pub(super) async fn delete_topic(
    sns: &Client,
    ctx: &StackContext,
    place: &Place,
) -> Result<Option<ComponentRecord>, BackendError> {
    let arn = topic_arn(&ctx.stack, &place.region, &place.account);
    let Some(tags) = tags_of(sns, &arn).await? else {
        return Ok(None);
    };
    if !owned(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())), ctx) {
        // Someone else's topic of that name: not paved's to delete.
        return Ok(None);
    }
    ctx.checkpoint("deleting the alert topic")?;
    unless_gone(sns.delete_topic().topic_arn(&arn).send().await, not_found)
        .map_err(failed("SNS", format!("deleting SNS topic {arn}")))?;
    Ok(Some(record(TOPIC_KEY, kind::ALERT_TOPIC, &arn)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_addresses_or_https_urls() {
        assert_eq!(
            subscription("oncall@example.com").map(|s| s.protocol),
            Some("email")
        );
        assert_eq!(
            subscription("https://hooks.example.com/x?token=1").map(|s| s.protocol),
            Some("https")
        );
        for bad in [
            "http://example.com",
            "oncall",
            "a b@example.com",
            "https://",
        ] {
            assert!(subscription(bad).is_none(), "{bad}");
        }
        let err = check_subscriptions(&["x@example.com".into(), "http://secret".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("subscription 2"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn https_endpoints_are_shown_by_host() {
        let s = subscription("https://hooks.example.com/services/T/B/token").unwrap();
        assert_eq!(s.shown(), "https endpoint on hooks.example.com");
    }

    #[test]
    fn only_the_workspace_may_publish() {
        let p = topic_policy("arn:aws:sns:r:1:t", "arn:aws:aps:r:1:workspace/ws-1", "1");
        let st = &p["Statement"][0];
        assert_eq!(st["Principal"]["Service"], "aps.amazonaws.com");
        assert_eq!(
            st["Condition"]["ArnEquals"]["aws:SourceArn"],
            "arn:aws:aps:r:1:workspace/ws-1"
        );
    }
}
