//! IAM roles as the AWS adapters make them, written once for the cluster's roles and
//! the observability stack's workload identities: the trust of a role a Kubernetes
//! service account assumes through the cluster's OIDC provider (IRSA), policy
//! documents compared as JSON whether IAM returns them URL-encoded or not, and a role
//! created tagged, or adopted when its tags say it is the stack's (someone else's of
//! that name is a [`BackendError::Conflict`], never adopted).

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use serde_json::{json, Value};

use super::error::{fail, failed, incomplete, unless_gone, SdkFailure};
use super::inventory::record;
use super::tagging::iam_tags;
use crate::stack::{BackendError, ComponentRecord, StackContext};

/// The audience of the service-account tokens exchanged with STS.
pub(crate) const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// The issuer host and path an OIDC provider ARN names
/// (`oidc.eks.us-east-1.amazonaws.com/id/ABC`).
pub(crate) fn oidc_host(provider_arn: &str) -> &str {
    provider_arn
        .split_once(":oidc-provider/")
        .map_or(provider_arn, |(_, host)| host)
}

/// The trust of a role assumed through the OIDC provider `provider_arn` by the
/// Kubernetes service accounts `subject` names (`system:serviceaccount:<ns>:<name>`:
/// one as a string, several as a list), with tokens for STS.
pub(crate) fn workload_trust(provider_arn: &str, subject: Value) -> Value {
    let host = oidc_host(provider_arn);
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{host}:sub"): subject,
                format!("{host}:aud"): STS_AUDIENCE
            }}
        }]
    })
}

/// Decodes a policy document as IAM returns it (URL-encoded: `%XX` escapes, `+` for
/// a space) back to JSON text.
pub(crate) fn url_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A policy document, URL-encoded as IAM returns it or not, as JSON; `Null` when it
/// does not parse.
pub(crate) fn policy_document(text: &str) -> Value {
    let text = if text.trim_start().starts_with('{') {
        text.to_owned()
    } else {
        url_decoded(text)
    };
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Whether the document IAM holds (`current`, encoded or not) is the JSON of `wanted`.
pub(crate) fn same_policy(current: &str, wanted: &str) -> bool {
    policy_document(current) == policy_document(wanted)
}

/// One role to ensure.
pub(crate) struct Role<'a> {
    /// Its name.
    pub name: &'a str,
    /// The path it is created under.
    pub path: String,
    /// The description it is created with.
    pub description: String,
    /// Its inventory key, which its tags carry too.
    pub key: &'a str,
    /// Its inventory kind.
    pub kind: &'a str,
    /// Its trust policy (JSON text).
    pub trust: &'a str,
    /// Whether the trust of a role adopted is rewritten when it differs from `trust`
    /// (a workload role's names the OIDC provider, which a new cluster changes).
    pub converge_trust: bool,
    /// Whether a role's tags say it is the stack's.
    pub ours: fn(&[Tag], &StackContext) -> bool,
    /// What to do when a role of the name is someone else's.
    pub conflict_hint: &'a str,
}

/// Ensures `role`: adopts the role of its name when it is the stack's (rewriting its
/// trust when asked to), or creates it tagged. Pushes its record to `components` as
/// soon as its ARN is known; returns the ARN.
pub(crate) async fn ensure_role(
    iam: &Client,
    ctx: &StackContext,
    role: &Role<'_>,
    components: &mut Vec<ComponentRecord>,
) -> Result<String, BackendError> {
    let name = role.name;
    let existing = unless_gone(
        iam.get_role().role_name(name).send().await,
        SdkFailure::is_not_found,
    )
    .map_err(failed("IAM", format!("reading IAM role {name}")))?
    .and_then(|out| out.role().cloned());
    if let Some(found) = existing {
        if !(role.ours)(found.tags(), ctx) {
            return Err(BackendError::Conflict {
                what: format!("IAM role {name}"),
                stack: ctx.stack.clone(),
                hint: role.conflict_hint.to_owned(),
            });
        }
        components.push(record(role.key, role.kind, found.arn()));
        let current = found.assume_role_policy_document().unwrap_or_default();
        if role.converge_trust && !same_policy(current, role.trust) {
            iam.update_assume_role_policy()
                .role_name(name)
                .policy_document(role.trust)
                .send()
                .await
                .map_err(fail(
                    "IAM",
                    format!("updating the trust of IAM role {name}"),
                ))?;
        }
        return Ok(found.arn().to_owned());
    }
    let out = iam
        .create_role()
        .role_name(name)
        .path(&role.path)
        .assume_role_policy_document(role.trust)
        .description(&role.description)
        .set_tags(Some(iam_tags(&ctx.component_tags(role.key))))
        .send()
        .await
        .map_err(fail("IAM", format!("creating IAM role {name}")))?;
    let arn = out
        .role()
        .map(|r| r.arn().to_owned())
        .ok_or_else(|| incomplete("creating IAM role", "the role's ARN"))?;
    components.push(record(role.key, role.kind, &arn));
    Ok(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trust_names_the_provider_and_the_subject() {
        let arn = "arn:aws:iam::1:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";
        let doc = workload_trust(arn, json!("system:serviceaccount:ns:sa"));
        let st = &doc["Statement"][0];
        assert_eq!(st["Principal"]["Federated"], arn);
        let cond = &st["Condition"]["StringEquals"];
        assert_eq!(
            cond["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"],
            "system:serviceaccount:ns:sa"
        );
        assert_eq!(
            cond["oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud"],
            STS_AUDIENCE
        );
    }

    #[test]
    fn encoded_documents_decode() {
        assert_eq!(url_decoded("%7B%22a%22%3A+1%7D"), "{\"a\": 1}");
        assert_eq!(url_decoded("100%"), "100%");
        assert!(same_policy("%7B%22a%22%3A1%7D", "{\"a\": 1}"));
        assert!(!same_policy("not json", "{}"));
    }
}
