//! Workload identities: one IAM role per in-cluster component, assumed through the
//! cluster's OIDC provider by the component's Kubernetes service accounts (IRSA),
//! with one inline policy granting exactly what it reaches.
//!
//! Roles are named `<stack>-<purpose>` under `/paved-observability/<stack>/` (see
//! [`super::names`]). The trust lets `sts:AssumeRoleWithWebIdentity` from the
//! provider `arn:aws:iam::<account>:oidc-provider/<issuer host>` when the token's
//! `<issuer host>:sub` is one of `system:serviceaccount:<namespace>:<name>` and its
//! `:aud` is `sts.amazonaws.com`. The inline policy [`POLICY_NAME`] allows listing
//! the buckets and reading, writing and deleting their objects, and for the managed
//! metrics identity remote write and queries on the workspace. Both documents are
//! compared as JSON with what IAM holds and rewritten only when they differ.

use std::collections::BTreeSet;

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use serde_json::{json, Value};

use super::names::{bucket_arn, oidc_provider_arn, role_name, role_path, workspace_arn};
use super::{conflict, identity_record, kind, not_found, owned, Place};
use crate::cloud::aws::error::{fail, failed, unless_gone, SdkFailure};
use crate::cloud::aws::iam_roles::{ensure_role, policy_document, workload_trust, Role};
use crate::cloud::aws::inventory::step;
use crate::ports::observability::{IdentityPurpose, IdentityRequest, IdentityState};
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The name of the inline policy paved keeps on each role.
pub const POLICY_NAME: &str = "paved-observability";
/// What the managed metrics identity may do on the workspace.
const WORKSPACE_ACTIONS: [&str; 5] = [
    "aps:RemoteWrite",
    "aps:QueryMetrics",
    "aps:GetSeries",
    "aps:GetLabels",
    "aps:GetMetricMetadata",
];

/// The trust of the role: the service accounts of `req` through the cluster's OIDC
/// provider. One subject is a string, several a sorted list.
pub(super) fn trust_policy(req: &IdentityRequest, place: &Place) -> Value {
    let account = if req.cluster.account.is_empty() {
        place.account.as_str()
    } else {
        req.cluster.account.as_str()
    };
    let provider = oidc_provider_arn(&req.cluster.oidc_issuer, account, &place.region);
    let subjects: BTreeSet<String> = req
        .service_accounts
        .iter()
        .map(|sa| format!("system:serviceaccount:{}:{sa}", req.namespace))
        .collect();
    let subject = match subjects.len() {
        1 => json!(subjects.iter().next()),
        _ => json!(subjects),
    };
    workload_trust(&provider, subject)
}

/// What the role may reach; `None` when it reaches nothing.
pub(super) fn access_policy(req: &IdentityRequest, place: &Place) -> Option<Value> {
    let mut statements = Vec::new();
    let buckets: BTreeSet<&String> = req.buckets.iter().collect();
    if !buckets.is_empty() {
        let arns: Vec<String> = buckets
            .iter()
            .map(|b| bucket_arn(&place.region, b))
            .collect();
        let objects: Vec<String> = arns.iter().map(|a| format!("{a}/*")).collect();
        statements.push(json!({
            "Sid": "ListBuckets",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": arns
        }));
        statements.push(json!({
            "Sid": "ReadWriteObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": objects
        }));
    }
    if let Some(id) = &req.workspace {
        statements.push(json!({
            "Sid": "ManagedPrometheus",
            "Effect": "Allow",
            "Action": WORKSPACE_ACTIONS,
            "Resource": workspace_arn(&place.region, &place.account, id)
        }));
    }
    (!statements.is_empty()).then(|| {
        json!({
            "Version": "2012-10-17",
            "Statement": statements
        })
    })
}

/// Whether a role's tags say it is this stack's.
fn ours(tags: &[Tag], ctx: &StackContext) -> bool {
    owned(tags.iter().map(|t| (t.key(), t.value())), ctx)
}

/// Ensures the role of `req.purpose`; see the module's documentation.
pub(super) async fn ensure_identity(
    iam: &Client,
    ctx: &StackContext,
    place: &Place,
    req: &IdentityRequest,
) -> Step<IdentityState> {
    let mut components = Vec::new();
    let result = ensure(iam, ctx, place, req, &mut components).await;
    step(result, components)
}

async fn ensure(
    iam: &Client,
    ctx: &StackContext,
    place: &Place,
    req: &IdentityRequest,
    components: &mut Vec<ComponentRecord>,
) -> Result<IdentityState, BackendError> {
    let name = role_name(&ctx.stack, req.purpose);
    if req.service_accounts.is_empty() {
        return Err(BackendError::Permanent {
            operation: format!("ensuring IAM role {name}"),
            message: "no service account may assume it".to_owned(),
            hint: "This is a bug in paved: every identity is for a service account".to_owned(),
        });
    }
    let trust = trust_policy(req, place).to_string();
    let access = access_policy(req, place);
    ctx.checkpoint(&format!("ensuring IAM role {name}"))?;
    let key = req.purpose.key();
    let role = Role {
        name: &name,
        path: role_path(&ctx.stack),
        description: format!(
            "{} {}: {} workload identity",
            ctx.resource_type,
            ctx.stack,
            req.purpose.as_str()
        ),
        key: &key,
        kind: kind::IDENTITY,
        trust: &trust,
        converge_trust: true,
        ours,
        conflict_hint: "rename the stack, or delete or rename that role",
    };
    let arn = ensure_role(iam, ctx, &role, components).await?;
    ctx.checkpoint(&format!("granting IAM role {name} its access"))?;
    converge_policy(iam, &name, access).await?;
    Ok(IdentityState {
        purpose: req.purpose,
        id: arn,
    })
}

/// Makes the inline policy [`POLICY_NAME`] of role `name` be `wanted` (deleted when
/// `None`).
async fn converge_policy(
    iam: &Client,
    name: &str,
    wanted: Option<Value>,
) -> Result<(), BackendError> {
    let current = unless_gone(
        iam.get_role_policy()
            .role_name(name)
            .policy_name(POLICY_NAME)
            .send()
            .await,
        not_found,
    )
    .map_err(failed(
        "IAM",
        format!("reading the policy of IAM role {name}"),
    ))?
    .map(|out| policy_document(out.policy_document()));
    match (current, wanted) {
        (Some(current), Some(wanted)) if current == wanted => {}
        (_, Some(wanted)) => {
            iam.put_role_policy()
                .role_name(name)
                .policy_name(POLICY_NAME)
                .policy_document(wanted.to_string())
                .send()
                .await
                .map_err(fail(
                    "IAM",
                    format!("setting the policy of IAM role {name}"),
                ))?;
        }
        (Some(_), None) => delete_inline(iam, name, POLICY_NAME).await?,
        (None, None) => {}
    }
    Ok(())
}

async fn delete_inline(iam: &Client, role: &str, policy: &str) -> Result<(), BackendError> {
    unless_gone(
        iam.delete_role_policy()
            .role_name(role)
            .policy_name(policy)
            .send()
            .await,
        not_found,
    )
    .map_err(failed(
        "IAM",
        format!("deleting policy {policy} of IAM role {role}"),
    ))?;
    Ok(())
}

/// Deletes the role of `purpose`: its inline policies, any managed policies attached
/// to it, then the role. A role that is missing is fine; one that is not the stack's
/// is left alone (a conflict).
pub(super) async fn delete_identity(
    iam: &Client,
    ctx: &StackContext,
    purpose: IdentityPurpose,
) -> Step<()> {
    let name = role_name(&ctx.stack, purpose);
    let existing = unless_gone(iam.get_role().role_name(&name).send().await, not_found)
        .map_err(failed("IAM", format!("reading IAM role {name}")));
    let role = match existing {
        Ok(Some(out)) => match out.role() {
            Some(role) => role.clone(),
            None => return Step::done((), Vec::new()),
        },
        Ok(None) => return Step::done((), Vec::new()),
        Err(e) => return Step::failed(e, Vec::new()),
    };
    if !owned(role.tags().iter().map(|t| (t.key(), t.value())), ctx) {
        return Step::failed(
            conflict(
                format!("IAM role {name}"),
                ctx,
                "paved leaves a role it did not make in place",
            ),
            Vec::new(),
        );
    }
    let record = identity_record(purpose, role.arn());
    match delete_role(iam, ctx, &name).await {
        Ok(()) => Step::done((), Vec::new()),
        Err(e) => Step::failed(e, vec![record]),
    }
}

async fn delete_role(iam: &Client, ctx: &StackContext, name: &str) -> Result<(), BackendError> {
    ctx.checkpoint(&format!("deleting IAM role {name}"))?;
    let (inline, attached) = futures::join!(
        iam.list_role_policies().role_name(name).send(),
        iam.list_attached_role_policies().role_name(name).send(),
    );
    let inline = unless_gone(inline, not_found).map_err(failed(
        "IAM",
        format!("listing the policies of IAM role {name}"),
    ))?;
    let attached = unless_gone(attached, not_found).map_err(failed(
        "IAM",
        format!("listing the policies of IAM role {name}"),
    ))?;
    for policy in inline.iter().flat_map(|o| o.policy_names()) {
        delete_inline(iam, name, policy).await?;
    }
    for arn in attached
        .iter()
        .flat_map(|o| o.attached_policies())
        .filter_map(|p| p.policy_arn())
    {
        unless_gone(
            iam.detach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await,
            not_found,
        )
        .map_err(failed(
            "IAM",
            format!("detaching {arn} from IAM role {name}"),
        ))?;
    }
    unless_gone(iam.delete_role().role_name(name).send().await, not_found)
        .map_err(|f: SdkFailure| failed("IAM", format!("deleting IAM role {name}"))(f))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::aws::iam_roles::policy_document as document;
    use crate::ports::observability::ClusterLink;

    fn place() -> Place {
        Place {
            region: "eu-west-1".into(),
            account: "111122223333".into(),
        }
    }

    fn request(accounts: &[&str]) -> IdentityRequest {
        IdentityRequest {
            purpose: IdentityPurpose::Loki,
            cluster: ClusterLink {
                name: "shop".into(),
                oidc_issuer: "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC".into(),
                account: "444455556666".into(),
            },
            namespace: "observability".into(),
            service_accounts: accounts.iter().map(|s| s.to_string()).collect(),
            buckets: vec!["shop-logs-111122223333-eu-west-1".into()],
            workspace: None,
        }
    }

    #[test]
    fn the_trust_names_the_provider_and_the_service_accounts() {
        let doc = trust_policy(&request(&["loki"]), &place());
        let st = &doc["Statement"][0];
        assert_eq!(
            st["Principal"]["Federated"],
            "arn:aws:iam::444455556666:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
        );
        assert_eq!(st["Action"], "sts:AssumeRoleWithWebIdentity");
        let cond = &st["Condition"]["StringEquals"];
        assert_eq!(
            cond["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"],
            "system:serviceaccount:observability:loki"
        );
        assert_eq!(
            cond["oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud"],
            "sts.amazonaws.com"
        );
        let doc = trust_policy(&request(&["loki-write", "loki-read"]), &place());
        assert_eq!(
            doc["Statement"][0]["Condition"]["StringEquals"]
                ["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"],
            json!([
                "system:serviceaccount:observability:loki-read",
                "system:serviceaccount:observability:loki-write"
            ])
        );
    }

    #[test]
    fn the_policy_grants_the_buckets_and_the_workspace() {
        let mut req = request(&["loki"]);
        let doc = access_policy(&req, &place()).unwrap();
        assert_eq!(
            doc["Statement"][0]["Resource"],
            json!(["arn:aws:s3:::shop-logs-111122223333-eu-west-1"])
        );
        assert_eq!(
            doc["Statement"][1]["Resource"],
            json!(["arn:aws:s3:::shop-logs-111122223333-eu-west-1/*"])
        );
        req.buckets.clear();
        assert_eq!(access_policy(&req, &place()), None);
        req.workspace = Some("ws-1".into());
        let doc = access_policy(&req, &place()).unwrap();
        assert_eq!(
            doc["Statement"][0]["Resource"],
            "arn:aws:aps:eu-west-1:111122223333:workspace/ws-1"
        );
        assert_eq!(doc["Statement"][0]["Action"][0], "aps:RemoteWrite");
    }

    #[test]
    fn documents_compare_whether_iam_encoded_them_or_not() {
        let doc = trust_policy(&request(&["loki"]), &place());
        let text = doc.to_string();
        let encoded: String = text
            .bytes()
            .map(|b| match b {
                b'{' | b'}' | b'"' | b':' | b'/' | b',' | b'[' | b']' => format!("%{b:02X}"),
                _ => (b as char).to_string(),
            })
            .collect();
        assert_eq!(document(&encoded), doc);
        assert_eq!(document(&text), doc);
        assert_eq!(document("not json"), Value::Null);
    }
}
