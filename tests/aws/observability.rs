//! The AWS backend of `paved_observability_stack`'s cloud side against moto, behind
//! the counting proxy (with its AMP alert manager definition stand-in): buckets made
//! locked down, adopted, converged and deleted (refused while they hold objects); a
//! bucket of the same name that is not the stack's refused; IRSA roles with the exact
//! trust, following service-account changes; receiver secrets read without ever
//! showing the value in an error; the managed Prometheus with its rules, topic and
//! alert routing; a refresh of the whole stack in a bounded number of calls; retags.
//!
//! moto makes everything ready at once, so the waits are tested by the scripted unit
//! tests in `src/cloud/aws/observability/wait.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use paved::cloud::aws::observability::names::{bucket_name, RULES_NAMESPACE};
use paved::cloud::aws::observability::AwsObservabilityBackend;
use paved::ports::observability::{
    BucketDeletion, BucketPurpose, BucketRequest, ClusterLink, IdentityPurpose, IdentityRequest,
    ManagedMetricsRequest, ObservabilityBackend,
};
use paved::stack::tags::{COMPONENT_TAG, RESOURCE_TAG, STACK_TAG};
use paved::stack::{BackendError, StackContext};
use paved_testbed::{FaultConfig, FaultProxy, ProxyHandle, Stats};
use serde_json::json;

use crate::support::aws::{moto_clients, moto_config, stack_context, REGION};
use crate::support::{calls, Moto};

/// moto's account.
const ACCOUNT: &str = "123456789012";
/// The resource type the stack's components are tagged with.
const RESOURCE: &str = "paved_observability_stack";
/// The cluster's OIDC issuer.
const ISSUER: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
/// The issuer's host, as conditions name it.
const ISSUER_HOST: &str = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

const RULES: &str = "groups:
  - name: paved
    rules:
      - alert: HighErrorRate
        expr: sum(rate(http_requests_total{code=~\"5..\"}[5m])) > 1
        for: 10m
        labels:
          severity: page
";

/// Clients straight to moto (not counted by the proxy), for setup and checks.
struct Direct {
    s3: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
    amp: aws_sdk_amp::Client,
    sns: aws_sdk_sns::Client,
    secrets: aws_sdk_secretsmanager::Client,
}

impl Direct {
    fn new(moto: &Moto) -> Self {
        let conf = moto_config(&moto.endpoint());
        let s3 = aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build();
        Self {
            s3: aws_sdk_s3::Client::from_conf(s3),
            iam: aws_sdk_iam::Client::new(&conf),
            amp: aws_sdk_amp::Client::new(&conf),
            sns: aws_sdk_sns::Client::new(&conf),
            secrets: aws_sdk_secretsmanager::Client::new(&conf),
        }
    }

    async fn bucket_tags(&self, name: &str) -> BTreeMap<String, String> {
        self.s3
            .get_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .expect("bucket tags")
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    }

    async fn bucket_exists(&self, name: &str) -> bool {
        self.s3.head_bucket().bucket(name).send().await.is_ok()
    }

    async fn expiry(&self, name: &str) -> (Option<i32>, Option<i32>) {
        let out = self
            .s3
            .get_bucket_lifecycle_configuration()
            .bucket(name)
            .send()
            .await
            .expect("lifecycle");
        let rule = out
            .rules()
            .iter()
            .find(|r| r.id() == Some("paved-expiry"))
            .expect("paved's rule");
        (
            rule.expiration().and_then(|e| e.days()),
            rule.abort_incomplete_multipart_upload()
                .and_then(|a| a.days_after_initiation()),
        )
    }

    async fn put_objects(&self, bucket: &str, n: usize) {
        for i in 0..n {
            self.s3
                .put_object()
                .bucket(bucket)
                .key(format!("chunks/{i}"))
                .body(ByteStream::from_static(b"log line"))
                .send()
                .await
                .expect("put an object");
        }
    }
}

fn start(moto: &Moto) -> (ProxyHandle, AwsObservabilityBackend) {
    let proxy = FaultProxy::start(&moto.endpoint(), FaultConfig::none())
        .expect("proxy")
        .with_amp_extras();
    let backend = AwsObservabilityBackend::new(moto_clients(&proxy.endpoint()));
    (proxy, backend)
}

fn context(stack: &str) -> StackContext {
    stack_context(RESOURCE, stack, "platform")
}

/// The calls that change something (REST writes and the query/JSON verbs that do).
fn writes(stats: &Stats) -> BTreeMap<String, u64> {
    calls(stats)
        .into_iter()
        .filter(|(call, _)| {
            let action = call.split_once(':').map_or("", |(_, a)| a);
            let rest = ["POST ", "PUT ", "DELETE "]
                .iter()
                .any(|m| action.starts_with(m));
            let verb = [
                "Create",
                "Put",
                "Update",
                "Delete",
                "Tag",
                "Untag",
                "Subscribe",
                "Unsubscribe",
                "Set",
                "Detach",
            ]
            .iter()
            .any(|p| action.starts_with(p));
            rest || verb
        })
        .collect()
}

fn logs(days: u32) -> BucketRequest {
    BucketRequest {
        purpose: BucketPurpose::Logs,
        expire_after_days: days,
    }
}

fn identity(purpose: IdentityPurpose, accounts: &[&str], buckets: &[String]) -> IdentityRequest {
    IdentityRequest {
        purpose,
        cluster: ClusterLink {
            name: "shop".into(),
            oidc_issuer: ISSUER.into(),
            account: ACCOUNT.into(),
        },
        namespace: "observability".into(),
        service_accounts: accounts.iter().map(|s| s.to_string()).collect(),
        buckets: buckets.to_vec(),
        workspace: None,
    }
}

fn managed(subscriptions: &[&str]) -> ManagedMetricsRequest {
    ManagedMetricsRequest {
        rules_yaml: RULES.to_owned(),
        subscriptions: subscriptions.iter().map(|s| s.to_string()).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_are_locked_down_adopted_converged_and_deleted() {
    let moto = Moto::start();
    let (proxy, backend) = start(&moto);
    let direct = Direct::new(&moto);
    let ctx = context("shop");

    // 1. Created: named after stack, purpose, account and region, locked down, tagged.
    let step = backend.ensure_bucket(&ctx, &logs(15)).await;
    let state = step.result.expect("bucket");
    let name = "shop-logs-123456789012-us-east-1";
    assert_eq!(state.name, name);
    assert_eq!(state.region, REGION);
    assert_eq!(state.expire_after_days, Some(15));
    assert!(state.locked_down);
    assert_eq!(step.components.len(), 1);
    assert_eq!(
        (
            step.components[0].key.as_str(),
            step.components[0].kind.as_str()
        ),
        ("bucket.logs", "bucket")
    );
    let tags = direct.bucket_tags(name).await;
    assert_eq!(tags[STACK_TAG], "shop");
    assert_eq!(tags[RESOURCE_TAG], RESOURCE);
    assert_eq!(tags[COMPONENT_TAG], "bucket.logs");
    assert_eq!(tags["team"], "platform");
    assert_eq!(direct.expiry(name).await, (Some(15), Some(1)));
    let enc = direct
        .s3
        .get_bucket_encryption()
        .bucket(name)
        .send()
        .await
        .expect("encryption");
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let block = direct
        .s3
        .get_public_access_block()
        .bucket(name)
        .send()
        .await
        .expect("public access block");
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let ownership = direct
        .s3
        .get_bucket_ownership_controls()
        .bucket(name)
        .send()
        .await
        .expect("ownership");
    assert_eq!(
        ownership.ownership_controls().unwrap().rules()[0]
            .object_ownership()
            .as_str(),
        "BucketOwnerEnforced"
    );

    // 2. Again: adopted by its tags, nothing written.
    proxy.reset();
    let again = backend.ensure_bucket(&ctx, &logs(15)).await;
    assert_eq!(again.result.expect("adopted").name, name);
    assert_eq!(again.components, step.components);
    let w = writes(&proxy.stats());
    assert!(w.is_empty(), "{w:?}");

    // 3. Retention changed: the lifecycle alone is rewritten, in place.
    proxy.reset();
    let longer = backend
        .ensure_bucket(&ctx, &logs(31))
        .await
        .result
        .expect("longer");
    assert_eq!(longer.expire_after_days, Some(31));
    assert_eq!(direct.expiry(name).await, (Some(31), Some(1)));
    let w = writes(&proxy.stats());
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w.get("s3:PUT /{bucket}?lifecycle"), Some(&1), "{w:?}");

    // 4. Holding objects: deletion refused unless emptying is allowed.
    direct.put_objects(name, 3).await;
    let refused = backend
        .delete_bucket(&ctx, BucketPurpose::Logs, false)
        .await;
    assert_eq!(
        refused.result.expect("refusal"),
        BucketDeletion::Refused {
            name: name.to_owned(),
            objects: 3
        }
    );
    assert_eq!(refused.components, step.components);
    assert!(direct.bucket_exists(name).await);
    let emptied = backend.delete_bucket(&ctx, BucketPurpose::Logs, true).await;
    assert_eq!(emptied.result.expect("deleted"), BucketDeletion::Deleted);
    assert!(emptied.components.is_empty());
    assert!(!direct.bucket_exists(name).await);
    // Missing is deleted.
    let gone = backend
        .delete_bucket(&ctx, BucketPurpose::Logs, false)
        .await;
    assert_eq!(gone.result.expect("gone"), BucketDeletion::Deleted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_of_the_same_name_that_is_not_the_stacks_is_refused() {
    let moto = Moto::start();
    let (_proxy, backend) = start(&moto);
    let direct = Direct::new(&moto);
    let ctx = context("shop");
    let name = bucket_name("shop", BucketPurpose::Traces, ACCOUNT, REGION);
    direct
        .s3
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("someone's bucket");
    direct.put_objects(&name, 1).await;
    let req = BucketRequest {
        purpose: BucketPurpose::Traces,
        expire_after_days: 8,
    };
    let step = backend.ensure_bucket(&ctx, &req).await;
    let err = step.result.expect_err("refused");
    assert!(matches!(err, BackendError::Conflict { .. }), "{err:?}");
    assert!(err.to_string().contains(&name), "{err}");
    assert!(!err.is_retryable());
    assert!(step.components.is_empty(), "{:?}", step.components);
    // Never deleted either, even when emptying is allowed.
    let del = backend
        .delete_bucket(&ctx, BucketPurpose::Traces, true)
        .await;
    assert!(matches!(del.result, Err(BackendError::Conflict { .. })));
    assert!(direct.bucket_exists(&name).await);

    // Another observability stack's bucket (other stack tag) is not adopted either.
    let other = context("other");
    let theirs = backend
        .ensure_bucket(&other, &req)
        .await
        .result
        .expect("other's bucket")
        .name;
    let mut foreign_tags = direct.bucket_tags(&theirs).await;
    foreign_tags.insert(STACK_TAG.to_owned(), "somebody".to_owned());
    let set = foreign_tags
        .iter()
        .map(|(k, v)| {
            aws_sdk_s3::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .unwrap()
        })
        .collect();
    direct
        .s3
        .put_bucket_tagging()
        .bucket(&theirs)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .set_tag_set(Some(set))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let err = backend
        .ensure_bucket(&other, &req)
        .await
        .result
        .unwrap_err();
    assert!(matches!(err, BackendError::Conflict { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_trust_the_service_accounts_and_follow_changes() {
    let moto = Moto::start();
    let (proxy, backend) = start(&moto);
    let direct = Direct::new(&moto);
    let ctx = context("shop");
    let bucket = "shop-logs-123456789012-us-east-1".to_owned();

    // 1. Created under the stack's path, trusting exactly the service account.
    let step = backend
        .ensure_identity(
            &ctx,
            &identity(
                IdentityPurpose::Loki,
                &["loki"],
                std::slice::from_ref(&bucket),
            ),
        )
        .await;
    let state = step.result.expect("identity");
    assert_eq!(
        state.id,
        "arn:aws:iam::123456789012:role/paved-observability/shop/shop-loki"
    );
    assert_eq!(step.components.len(), 1);
    assert_eq!(step.components[0].key, "identity.loki");
    let role = direct
        .iam
        .get_role()
        .role_name("shop-loki")
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.path(), "/paved-observability/shop/");
    assert!(role
        .tags()
        .iter()
        .any(|t| t.key() == COMPONENT_TAG && t.value() == "identity.loki"));
    let trust: serde_json::Value =
        serde_json::from_str(&decode(role.assume_role_policy_document().unwrap())).unwrap();
    assert_eq!(
        trust,
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER_HOST}")},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {
                    format!("{ISSUER_HOST}:sub"): "system:serviceaccount:observability:loki",
                    format!("{ISSUER_HOST}:aud"): "sts.amazonaws.com"
                }}
            }]
        })
    );
    let policy = direct
        .iam
        .get_role_policy()
        .role_name("shop-loki")
        .policy_name("paved-observability")
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(&decode(policy.policy_document())).unwrap();
    assert_eq!(
        policy["Statement"][1]["Action"],
        json!(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
    );
    assert_eq!(
        policy["Statement"][1]["Resource"],
        json!([format!("arn:aws:s3:::{bucket}/*")])
    );

    // 2. Another service account: the trust alone is rewritten, with a list.
    proxy.reset();
    let two = identity(
        IdentityPurpose::Loki,
        &["loki", "loki-canary"],
        std::slice::from_ref(&bucket),
    );
    backend
        .ensure_identity(&ctx, &two)
        .await
        .result
        .expect("updated");
    let w = writes(&proxy.stats());
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w.get("iam:UpdateAssumeRolePolicy"), Some(&1), "{w:?}");
    let role = direct
        .iam
        .get_role()
        .role_name("shop-loki")
        .send()
        .await
        .unwrap();
    let trust: serde_json::Value = serde_json::from_str(&decode(
        role.role().unwrap().assume_role_policy_document().unwrap(),
    ))
    .unwrap();
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"][format!("{ISSUER_HOST}:sub")],
        json!([
            "system:serviceaccount:observability:loki",
            "system:serviceaccount:observability:loki-canary"
        ])
    );
    // Same again: nothing written.
    proxy.reset();
    backend
        .ensure_identity(&ctx, &two)
        .await
        .result
        .expect("same");
    assert!(
        writes(&proxy.stats()).is_empty(),
        "{:?}",
        writes(&proxy.stats())
    );

    // 3. The managed metrics identity may write to and query the workspace.
    let mut metrics = identity(
        IdentityPurpose::ManagedMetrics,
        &["prometheus", "grafana"],
        &[],
    );
    metrics.workspace = Some("ws-1234".into());
    backend
        .ensure_identity(&ctx, &metrics)
        .await
        .result
        .expect("metrics identity");
    let policy = direct
        .iam
        .get_role_policy()
        .role_name("shop-managed-metrics")
        .policy_name("paved-observability")
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(&decode(policy.policy_document())).unwrap();
    assert_eq!(
        policy["Statement"][0]["Resource"],
        format!("arn:aws:aps:us-east-1:{ACCOUNT}:workspace/ws-1234")
    );
    assert_eq!(
        policy["Statement"][0]["Action"],
        json!([
            "aps:RemoteWrite",
            "aps:QueryMetrics",
            "aps:GetSeries",
            "aps:GetLabels",
            "aps:GetMetricMetadata"
        ])
    );

    // 4. A role of the name that is not the stack's is refused, never deleted.
    direct
        .iam
        .create_role()
        .role_name("shop-tempo")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap();
    let err = backend
        .ensure_identity(&ctx, &identity(IdentityPurpose::Tempo, &["tempo"], &[]))
        .await
        .result
        .unwrap_err();
    assert!(matches!(err, BackendError::Conflict { .. }), "{err:?}");
    assert!(backend
        .delete_identity(&ctx, IdentityPurpose::Tempo)
        .await
        .result
        .is_err());

    // 5. Deleted with its policy; deleting again is fine.
    let del = backend.delete_identity(&ctx, IdentityPurpose::Loki).await;
    del.result.expect("deleted");
    assert!(direct
        .iam
        .get_role()
        .role_name("shop-loki")
        .send()
        .await
        .is_err());
    backend
        .delete_identity(&ctx, IdentityPurpose::Loki)
        .await
        .result
        .expect("already gone");
}

/// IAM's URL-encoding of policy documents undone (moto may or may not apply it).
fn decode(doc: &str) -> String {
    if doc.starts_with('{') {
        return doc.to_owned();
    }
    let mut out = Vec::new();
    let b = doc.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_read_by_reference_and_errors_never_show_the_value() {
    let moto = Moto::start();
    let (_proxy, backend) = start(&moto);
    let direct = Direct::new(&moto);
    let ctx = context("shop");
    let value = "https://hooks.slack.com/services/T000/B000/s3cr3t-t0k3n";
    let made = direct
        .secrets
        .create_secret()
        .name("shop/slack-webhook")
        .secret_string(value)
        .send()
        .await
        .unwrap();
    let arn = made.arn().unwrap().to_owned();

    let secret = backend.read_secret(&ctx, &arn).await.expect("secret");
    assert_eq!(secret.reveal(), value);
    assert_eq!(format!("{secret:?}"), "(secret)");

    // Missing: the error names the reference and what to check, never a value.
    let missing = arn.replace("slack-webhook", "pager-key");
    let err = backend.read_secret(&ctx, &missing).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&missing), "{text}");
    assert!(text.contains("exists in us-east-1"), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(!err.is_retryable());

    // A binary secret is refused with advice.
    let binary = direct
        .secrets
        .create_secret()
        .name("shop/binary")
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(
            b"s3cr3t".to_vec(),
        ))
        .send()
        .await
        .unwrap();
    let err = backend
        .read_secret(&ctx, binary.arn().unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("binary"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_metrics_are_created_converged_and_deleted() {
    let moto = Moto::start();
    let (proxy, backend) = start(&moto);
    let direct = Direct::new(&moto);
    let ctx = context("shop");
    let subscriptions = [
        "oncall@example.com",
        "https://hooks.example.com/alerts?token=x",
    ];

    // 1. Workspace, rules, topic with its policy and subscriptions, alert routing.
    let step = backend
        .ensure_managed_metrics(&ctx, &managed(&subscriptions))
        .await;
    let state = step.result.expect("managed metrics");
    let ws = state.workspace_id.clone();
    assert!(ws.starts_with("ws-"), "{ws}");
    assert_eq!(
        state.remote_write_url,
        format!(
            "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/{ws}/api/v1/remote_write"
        )
    );
    assert_eq!(
        state.query_url,
        format!("https://aps-workspaces.us-east-1.amazonaws.com/workspaces/{ws}")
    );
    let topic = format!("arn:aws:sns:us-east-1:{ACCOUNT}:shop-alerts");
    assert_eq!(state.alert_topic.as_deref(), Some(topic.as_str()));
    let keys: Vec<&str> = step.components.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["metrics_workspace", "alert_topic"]);

    let described = direct
        .amp
        .describe_workspace()
        .workspace_id(&ws)
        .send()
        .await
        .unwrap();
    let w = described.workspace().unwrap();
    assert_eq!(w.alias(), Some("paved-shop"));
    assert_eq!(
        w.tags().unwrap().get(COMPONENT_TAG).map(String::as_str),
        Some("metrics_workspace")
    );
    let rules = direct
        .amp
        .describe_rule_groups_namespace()
        .workspace_id(&ws)
        .name(RULES_NAMESPACE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        rules.rule_groups_namespace().unwrap().data().as_ref(),
        RULES.as_bytes()
    );
    let definition = proxy
        .amp_alert_manager_definition(&ws)
        .expect("alert manager definition");
    assert_eq!(definition.status, "ACTIVE");
    assert!(
        definition.data.contains(&format!("topic_arn: {topic}")),
        "{}",
        definition.data
    );
    assert!(definition.data.contains("region: us-east-1"));
    check_with_amtool(&definition.data);
    let attributes = direct
        .sns
        .get_topic_attributes()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(&attributes.attributes().unwrap()["Policy"]).unwrap();
    assert_eq!(
        policy["Statement"][0]["Principal"]["Service"],
        "aps.amazonaws.com"
    );
    assert_eq!(
        policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"],
        w.arn()
    );
    let subs = subscriptions_of(&direct.sns, &topic).await;
    assert_eq!(
        subs,
        vec![
            ("email".to_owned(), "oncall@example.com".to_owned()),
            (
                "https".to_owned(),
                "https://hooks.example.com/alerts?token=x".to_owned()
            )
        ]
    );

    // 2. Again: nothing written.
    proxy.reset();
    backend
        .ensure_managed_metrics(&ctx, &managed(&subscriptions))
        .await
        .result
        .expect("again");
    let w = writes(&proxy.stats());
    assert!(w.is_empty(), "{w:?}");

    // 3. Rules changed, one subscription dropped: a put and an unsubscribe.
    proxy.reset();
    let changed = ManagedMetricsRequest {
        rules_yaml: RULES.replace("10m", "15m"),
        subscriptions: vec!["oncall@example.com".to_owned()],
    };
    let again = backend
        .ensure_managed_metrics(&ctx, &changed)
        .await
        .result
        .expect("changed");
    assert_eq!(again.workspace_id, ws);
    let w = writes(&proxy.stats());
    assert_eq!(w.get("sns:Unsubscribe"), Some(&1), "{w:?}");
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(
        subscriptions_of(&direct.sns, &topic).await,
        vec![("email".to_owned(), "oncall@example.com".to_owned())]
    );

    // 4. A subscription that is neither an address nor an HTTPS URL is refused
    // before any call, without showing it.
    proxy.reset();
    let err = backend
        .ensure_managed_metrics(&ctx, &managed(&["http://hooks.example.com/?token=y"]))
        .await
        .result
        .unwrap_err()
        .to_string();
    assert!(!err.contains("token=y"), "{err}");
    assert_eq!(proxy.stats().total, 0);

    // 5. Deleted: definition, rules, workspace and topic.
    let del = backend.delete_managed_metrics(&ctx).await;
    del.result.expect("deleted");
    assert!(del.components.is_empty());
    assert!(proxy.amp_alert_manager_definition(&ws).is_none());
    assert!(direct
        .amp
        .describe_workspace()
        .workspace_id(&ws)
        .send()
        .await
        .is_err());
    assert!(direct
        .sns
        .get_topic_attributes()
        .topic_arn(&topic)
        .send()
        .await
        .is_err());
    backend
        .delete_managed_metrics(&ctx)
        .await
        .result
        .expect("nothing left");
}

/// `(protocol, endpoint)` of the topic's subscriptions, sorted.
async fn subscriptions_of(sns: &aws_sdk_sns::Client, topic: &str) -> Vec<(String, String)> {
    let out = sns
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .unwrap();
    let mut subs: Vec<(String, String)> = out
        .subscriptions()
        .iter()
        .map(|s| {
            (
                s.protocol().unwrap_or_default().to_owned(),
                s.endpoint().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    subs.sort();
    subs
}

/// The Alertmanager configuration inside an AMP definition, judged by the real
/// `amtool check-config` when it is installed (skipped otherwise).
fn check_with_amtool(definition: &str) {
    let amtool = std::path::Path::new("/usr/bin/amtool");
    if !amtool.exists() {
        eprintln!("amtool not installed: the Alertmanager configuration is not checked");
        return;
    }
    let inner: String = definition
        .lines()
        .skip(1)
        .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alertmanager.yml");
    std::fs::write(&file, &inner).unwrap();
    let out = std::process::Command::new(amtool)
        .arg("check-config")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "amtool check-config refused:\n{inner}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Calls of one whole-stack refresh, measured against moto (see
/// `src/cloud/aws/observability/read.rs`): GetResources, ListRoles, ListWorkspaces,
/// DescribeWorkspace and three reads per bucket.
const READ_CALLS: u64 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_stack_is_read_in_few_calls_and_retagged() {
    let moto = Moto::start();
    let (proxy, backend) = start(&moto);
    let direct = Direct::new(&moto);
    let ctx = context("shop");
    let backend: Arc<dyn ObservabilityBackend> = Arc::new(backend);

    let mut components = Vec::new();
    let mut names = BTreeMap::new();
    for purpose in [BucketPurpose::Logs, BucketPurpose::Traces] {
        let step = backend
            .ensure_bucket(
                &ctx,
                &BucketRequest {
                    purpose,
                    expire_after_days: 8,
                },
            )
            .await;
        names.insert(purpose, step.result.expect("bucket").name);
        components.extend(step.components);
    }
    let metrics = backend
        .ensure_managed_metrics(&ctx, &managed(&["oncall@example.com"]))
        .await;
    let state = metrics.result.expect("managed");
    components.extend(metrics.components);
    for (purpose, accounts, bucket) in [
        (
            IdentityPurpose::Loki,
            vec!["loki"],
            Some(BucketPurpose::Logs),
        ),
        (
            IdentityPurpose::Tempo,
            vec!["tempo"],
            Some(BucketPurpose::Traces),
        ),
        (IdentityPurpose::ManagedMetrics, vec!["prometheus"], None),
    ] {
        let buckets: Vec<String> = bucket.iter().map(|b| names[b].clone()).collect();
        let mut req = identity(purpose, &accounts, &buckets);
        if bucket.is_none() {
            req.workspace = Some(state.workspace_id.clone());
        }
        let step = backend.ensure_identity(&ctx, &req).await;
        step.result.expect("identity");
        components.extend(step.components);
    }
    assert_eq!(components.len(), 7, "{components:?}");

    // A cluster of the same name and someone else's bucket are not the stack's.
    direct
        .iam
        .create_role()
        .role_name("shop-node")
        .path("/paved/shop/")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap();
    direct
        .s3
        .create_bucket()
        .bucket("unrelated-bucket")
        .send()
        .await
        .unwrap();

    // 1. One read finds everything, in a bounded number of calls, by a fresh backend
    // as a new provider process has (nothing cached).
    let fresh = AwsObservabilityBackend::new(moto_clients(&proxy.endpoint()));
    proxy.reset();
    let read = fresh.read_stack(&ctx).await;
    let snapshot = read.result.expect("read");
    let stats = proxy.stats();
    eprintln!("read_stack: {} calls: {:?}", stats.total, calls(&stats));
    assert!(
        stats.total <= READ_CALLS,
        "{} calls: {:?}",
        stats.total,
        calls(&stats)
    );
    let mut found: Vec<String> = snapshot.components.iter().map(|c| c.key.clone()).collect();
    let mut made: Vec<String> = components.iter().map(|c| c.key.clone()).collect();
    found.sort();
    made.sort();
    assert_eq!(found, made);
    assert_eq!(read.components.len(), 7);
    for c in &components {
        assert!(
            snapshot.components.contains(c),
            "{c:?} not in {:?}",
            snapshot.components
        );
    }
    let logs = &snapshot.buckets[&BucketPurpose::Logs];
    assert_eq!(logs.name, names[&BucketPurpose::Logs]);
    assert_eq!(logs.expire_after_days, Some(8));
    assert!(logs.locked_down);
    assert_eq!(snapshot.identities.len(), 3);
    assert_eq!(snapshot.managed.as_ref(), Some(&state));
    for key in [
        "bucket.logs",
        "bucket.traces",
        "metrics_workspace",
        "alert_topic",
    ] {
        assert_eq!(
            snapshot
                .tags
                .get(key)
                .and_then(|t| t.get("team"))
                .map(String::as_str),
            Some("platform"),
            "{key}: {:?}",
            snapshot.tags
        );
    }

    // 2. Retag: a changed and a new tag everywhere, then a key removed.
    let mut retagged = ctx.clone();
    retagged.tags.insert("team".into(), "sre".into());
    retagged.tags.insert("cost-center".into(), "42".into());
    proxy.reset();
    backend
        .retag(&retagged, &snapshot.components, &[])
        .await
        .result
        .expect("retag");
    eprintln!("retag: {:?}", calls(&proxy.stats()));
    let after = backend.read_stack(&retagged).await.result.expect("read");
    for key in [
        "bucket.logs",
        "bucket.traces",
        "metrics_workspace",
        "alert_topic",
    ] {
        let tags = &after.tags[key];
        assert_eq!(tags["team"], "sre", "{key}");
        assert_eq!(tags["cost-center"], "42", "{key}");
        assert_eq!(tags[COMPONENT_TAG], key, "{key}");
    }
    let role_tags = |name: &'static str| {
        let iam = direct.iam.clone();
        async move {
            iam.list_role_tags()
                .role_name(name)
                .send()
                .await
                .unwrap()
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect::<BTreeMap<_, _>>()
        }
    };
    assert_eq!(role_tags("shop-loki").await["team"], "sre");
    let mut fewer = retagged.clone();
    fewer.tags.remove("cost-center");
    backend
        .retag(&fewer, &after.components, &["cost-center".to_owned()])
        .await
        .result
        .expect("untag");
    let last = backend.read_stack(&fewer).await.result.expect("read");
    for key in [
        "bucket.logs",
        "bucket.traces",
        "metrics_workspace",
        "alert_topic",
    ] {
        assert!(!last.tags[key].contains_key("cost-center"), "{key}");
        assert_eq!(last.tags[key]["team"], "sre", "{key}");
    }
    assert!(!role_tags("shop-managed-metrics")
        .await
        .contains_key("cost-center"));
    assert_eq!(
        direct.bucket_tags(&names[&BucketPurpose::Traces]).await["team"],
        "sre"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_routing_waits_for_amp_and_repairs_a_failed_definition() {
    let moto = Moto::start();
    let (proxy, backend) = start(&moto);
    let ctx = context("shop");
    // AMP takes its time: every change stays CREATING / UPDATING for 3 seconds.
    proxy.set_amp_delay(std::time::Duration::from_secs(3));
    let state = backend
        .ensure_managed_metrics(&ctx, &managed(&["oncall@example.com"]))
        .await
        .result
        .expect("managed metrics");
    let ws = state.workspace_id;
    assert_eq!(
        proxy
            .amp_alert_manager_definition(&ws)
            .map(|d| d.status)
            .as_deref(),
        Some("ACTIVE"),
        "ensure returns once AMP accepted the definition"
    );
    let polls = calls(&proxy.stats())["aps:DescribeAlertManagerDefinition"];
    assert!(polls >= 3, "{polls} polls");

    // Someone puts a definition AMP cannot use: it ends UPDATE_FAILED, and the next
    // ensure puts paved's back.
    proxy.set_amp_delay(std::time::Duration::ZERO);
    let by_hand = aws_sdk_amp::Client::new(&moto_config(&proxy.endpoint()));
    let broken = proxy
        .amp_alert_manager_definition(&ws)
        .unwrap()
        .data
        .replace("arn:aws:sns:", "arn:aws:nope:");
    by_hand
        .put_alert_manager_definition()
        .workspace_id(&ws)
        .data(aws_sdk_amp::primitives::Blob::new(broken))
        .send()
        .await
        .expect("put by hand");
    let d = proxy.amp_alert_manager_definition(&ws).unwrap();
    assert_eq!(d.status, "UPDATE_FAILED");
    assert!(d.status_reason.unwrap().contains("arn:aws:nope:"));
    proxy.reset();
    backend
        .ensure_managed_metrics(&ctx, &managed(&["oncall@example.com"]))
        .await
        .result
        .expect("repaired");
    let d = proxy.amp_alert_manager_definition(&ws).unwrap();
    assert_eq!(d.status, "ACTIVE");
    assert!(d.data.contains("arn:aws:sns:"));
    assert_eq!(
        writes(&proxy.stats()).get("aps:PutAlertManagerDefinition"),
        Some(&1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stack_is_built_read_and_removed_through_throttling_and_errors() {
    let moto = Moto::start();
    // 10 % throttled, 5 % HTTP 500, 5 % HTTP 503, in each service's own error shape.
    let proxy = FaultProxy::start(&moto.endpoint(), crate::support::flaky(7))
        .expect("proxy")
        .with_amp_extras();
    let backend = AwsObservabilityBackend::new(moto_clients(&proxy.endpoint()));
    let ctx = context("shop");
    let bucket = backend
        .ensure_bucket(&ctx, &logs(8))
        .await
        .result
        .expect("bucket")
        .name;
    backend
        .ensure_identity(
            &ctx,
            &identity(
                IdentityPurpose::Loki,
                &["loki"],
                std::slice::from_ref(&bucket),
            ),
        )
        .await
        .result
        .expect("identity");
    backend
        .ensure_managed_metrics(&ctx, &managed(&["oncall@example.com"]))
        .await
        .result
        .expect("managed metrics");
    let snapshot = backend.read_stack(&ctx).await.result.expect("read");
    assert_eq!(snapshot.components.len(), 4, "{:?}", snapshot.components);
    Direct::new(&moto).put_objects(&bucket, 5).await;
    assert_eq!(
        backend
            .delete_bucket(&ctx, BucketPurpose::Logs, true)
            .await
            .result
            .expect("bucket deleted"),
        BucketDeletion::Deleted
    );
    backend
        .delete_identity(&ctx, IdentityPurpose::Loki)
        .await
        .result
        .expect("identity deleted");
    backend
        .delete_managed_metrics(&ctx)
        .await
        .result
        .expect("managed metrics deleted");
    let after = backend.read_stack(&ctx).await.result.expect("read");
    assert!(after.components.is_empty(), "{:?}", after.components);
    let faults = proxy.stats().faults.failures();
    assert!(faults > 0, "no fault was injected");
}
