//! IAM policies, changed the safe way: read, change, write with the policy's etag,
//! and on a concurrent change (`ABORTED`: someone wrote between the read and the
//! write) read and try again. Used for the project's policy (Resource Manager) and
//! for a Cloud KMS key's.

use std::collections::BTreeSet;

use google_cloud_iam_v1::model::Policy;
use serde_json::{json, Value};

use super::call::{gax, model, GcpFailure};
use super::clients::GcpClients;
use super::wait::view;
use crate::stack::{BackendError, StackContext};

/// Where a policy lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PolicyOf {
    /// A project (`projects/P`).
    Project(String),
    /// A Cloud KMS key (its full name).
    Key(String),
}

/// A policy with `grants` (role, member) added and `revokes` removed; `None` when
/// it already is so.
fn changed(
    policy: &Value,
    grants: &[(String, String)],
    revokes: &[(String, String)],
) -> Option<Value> {
    let mut bindings: Vec<(String, BTreeSet<String>, Value)> = policy
        .get("bindings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|b| {
            let role = b
                .get("role")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let members = b
                .get("members")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect();
            (
                role,
                members,
                b.get("condition").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    let mut dirty = false;
    for (role, member) in grants {
        match bindings
            .iter_mut()
            .find(|(r, _, cond)| r == role && cond.is_null())
        {
            Some((_, members, _)) => dirty |= members.insert(member.clone()),
            None => {
                bindings.push((role.clone(), BTreeSet::from([member.clone()]), Value::Null));
                dirty = true;
            }
        }
    }
    for (role, member) in revokes {
        for (r, members, cond) in bindings.iter_mut() {
            if r == role && cond.is_null() {
                dirty |= members.remove(member);
            }
        }
    }
    if !dirty {
        return None;
    }
    let mut out = policy.clone();
    out["bindings"] = Value::Array(
        bindings
            .into_iter()
            .filter(|(_, m, _)| !m.is_empty())
            .map(|(role, members, cond)| {
                let mut b =
                    json!({"role": role, "members": members.into_iter().collect::<Vec<_>>()});
                if !cond.is_null() {
                    b["condition"] = cond;
                }
                b
            })
            .collect(),
    );
    Some(out)
}

impl GcpClients {
    /// Reads the policy.
    async fn read_policy(&self, ctx: &StackContext, of: &PolicyOf) -> Result<Policy, GcpFailure> {
        match of {
            PolicyOf::Project(p) => {
                let c = self.projects().await?;
                gax(ctx, "projects.getIamPolicy", || {
                    c.get_iam_policy()
                        .set_resource(format!("projects/{p}"))
                        .send()
                })
                .await
            }
            PolicyOf::Key(k) => {
                let c = self.kms().await?;
                gax(ctx, "cryptoKeys.getIamPolicy", || {
                    c.get_iam_policy().set_resource(k.clone()).send()
                })
                .await
            }
        }
    }

    /// Writes the policy (with the etag it was read with).
    async fn write_policy(
        &self,
        ctx: &StackContext,
        of: &PolicyOf,
        policy: Policy,
    ) -> Result<Policy, GcpFailure> {
        match of {
            PolicyOf::Project(p) => {
                let c = self.projects().await?;
                gax(ctx, "projects.setIamPolicy", || {
                    c.set_iam_policy()
                        .set_resource(format!("projects/{p}"))
                        .set_policy(policy.clone())
                        .send()
                })
                .await
            }
            PolicyOf::Key(k) => {
                let c = self.kms().await?;
                gax(ctx, "cryptoKeys.setIamPolicy", || {
                    c.set_iam_policy()
                        .set_resource(k.clone())
                        .set_policy(policy.clone())
                        .send()
                })
                .await
            }
        }
    }

    /// Grants `grants` and revokes `revokes` ((role, member) pairs) on the policy of
    /// `of`, retrying when another writer changed it in between.
    pub(crate) async fn change_policy(
        &self,
        ctx: &StackContext,
        of: &PolicyOf,
        grants: &[(String, String)],
        revokes: &[(String, String)],
        during: &str,
    ) -> Result<(), BackendError> {
        let service = match of {
            PolicyOf::Project(_) => "Resource Manager",
            PolicyOf::Key(_) => "Cloud KMS",
        };
        for _ in 0..5 {
            ctx.checkpoint(during)?;
            let current = self
                .read_policy(ctx, of)
                .await
                .map_err(|f| f.into_backend_error(service, during))?;
            let Some(next) = changed(&view(&current), grants, revokes) else {
                return Ok(());
            };
            let next: Policy = model(next, "the IAM policy")?;
            match self.write_policy(ctx, of, next).await {
                Ok(_) => return Ok(()),
                Err(f) if f.code.as_deref() == Some("ABORTED") || f.status == Some(409) => continue,
                Err(f) => return Err(f.into_backend_error(service, during)),
            }
        }
        Err(BackendError::Retryable {
            operation: during.to_owned(),
            message: "the IAM policy kept changing under paved (five tries)".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(r: &str, m: &str) -> (String, String) {
        (r.to_owned(), m.to_owned())
    }

    #[test]
    fn grants_add_members_revokes_remove_them_and_conditions_are_left_alone() {
        let policy = json!({"etag": "BwX1", "bindings": [
            {"role": "roles/viewer", "members": ["user:a@x.com"]},
            {"role": "roles/logging.logWriter", "members": ["user:b@x.com"],
             "condition": {"title": "c", "expression": "true"}}
        ]});
        let next = changed(
            &policy,
            &[pair(
                "roles/logging.logWriter",
                "serviceAccount:n@p.iam.gserviceaccount.com",
            )],
            &[pair("roles/viewer", "user:a@x.com")],
        )
        .expect("changed");
        assert_eq!(next["etag"], "BwX1");
        let bindings = next["bindings"].as_array().expect("bindings");
        assert!(
            !bindings.iter().any(|b| b["role"] == "roles/viewer"),
            "{next}"
        );
        assert_eq!(bindings.len(), 2, "{next}");
        assert!(changed(
            &next,
            &[pair(
                "roles/logging.logWriter",
                "serviceAccount:n@p.iam.gserviceaccount.com"
            )],
            &[]
        )
        .is_none());
    }
}
