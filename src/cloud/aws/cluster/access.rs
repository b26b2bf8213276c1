//! Group access (teams): EKS access entries of type `STANDARD` whose
//! `kubernetesGroups` put a principal in Kubernetes groups that RBAC bindings name.
//!
//! Paved's group entries carry the stack's tags with the component key
//! `group_access.<principal>`; cluster-admin entries ([`super::eks`]) carry
//! `access_entry.<principal>`. EKS has one entry per principal, so a principal that
//! is both an admin and in a team shares one entry: its groups are set here, its
//! admin policy there, and neither side deletes an entry the other still needs
//! (see [`plan`]). Entries made by anyone else are never changed.

use std::collections::BTreeSet;

use aws_sdk_eks::types::AccessEntry;
use aws_sdk_eks::Client as Eks;
use futures::future::join_all;

use super::{failure, not_found, owned_by, tag_map, unsupported};
use crate::cloud::aws::error::{unless_gone, SdkFailure};
use crate::cloud::aws::inventory::{record, step};
use crate::cloud::aws::network::checkpoint;
use crate::ports::cluster::kind;
use crate::ports::cluster::GroupAccess;
use crate::stack::tags::COMPONENT_TAG;
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The access policy cluster admins get.
pub(super) const ADMIN_POLICY: &str =
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/// The component-key prefix of group access entries.
const GROUP_PREFIX: &str = "group_access.";
/// The component-key prefix of cluster-admin entries.
const ADMIN_PREFIX: &str = "access_entry.";

/// The inventory key of `principal`'s group access.
pub(super) fn group_key(principal: &str) -> String {
    format!("{GROUP_PREFIX}{principal}")
}

fn eks_err(operation: impl Into<String>) -> impl FnOnce(SdkFailure) -> BackendError {
    let operation = operation.into();
    move |f| failure("EKS", operation, f)
}

/// Who made an access entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Maker {
    /// Paved, for group access.
    Group,
    /// Paved, for cluster-admin access.
    Admin,
    /// Anyone else (by hand, EKS itself, another stack).
    Other,
}

/// Who made `entry`, from its tags.
pub(super) fn maker(entry: &AccessEntry, stack: &str) -> Maker {
    let Some(tags) = entry.tags().filter(|t| owned_by(*t, stack)) else {
        return Maker::Other;
    };
    match tags.get(COMPONENT_TAG) {
        Some(k) if k.starts_with(GROUP_PREFIX) => Maker::Group,
        Some(k) if k.starts_with(ADMIN_PREFIX) => Maker::Admin,
        _ => Maker::Other,
    }
}

/// The group access an entry gives, when paved gave it: a group entry, or an admin
/// entry with groups (a principal that is both).
pub(super) fn granted(entry: &AccessEntry, stack: &str) -> Option<GroupAccess> {
    let principal = entry.principal_arn()?;
    let groups = entry.kubernetes_groups();
    match maker(entry, stack) {
        Maker::Group => {}
        Maker::Admin if !groups.is_empty() => {}
        _ => return None,
    }
    Some(GroupAccess {
        principal: principal.to_owned(),
        groups: groups.to_vec(),
    })
}

/// An access entry as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    /// The principal.
    pub principal: String,
    /// Who made it.
    pub maker: Maker,
    /// Its Kubernetes groups.
    pub groups: Vec<String>,
    /// It has the cluster-admin policy.
    pub admin: bool,
}

/// One change to the cluster's access entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Action {
    /// Make a group entry.
    Create(GroupAccess),
    /// Set the groups of an existing entry of paved's (`[]` clears them).
    SetGroups(GroupAccess),
    /// Delete a group entry no longer wanted.
    Delete(String),
}

fn same_groups(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

/// What to do to go from `found` to `wanted`, or the principals whose entry is
/// someone else's (paved does not change it). Group entries no longer wanted are
/// deleted unless they carry the admin policy (then only their groups are
/// cleared); admin entries that had groups get them cleared; others' entries and
/// admin entries without groups are left alone.
pub(super) fn plan(wanted: &[GroupAccess], found: &[Found]) -> Result<Vec<Action>, Vec<String>> {
    let mut actions = Vec::new();
    let mut foreign = Vec::new();
    for w in wanted {
        match found.iter().find(|f| f.principal == w.principal) {
            None => actions.push(Action::Create(w.clone())),
            Some(f) if f.maker == Maker::Other => foreign.push(w.principal.clone()),
            Some(f) if !same_groups(&f.groups, &w.groups) => {
                actions.push(Action::SetGroups(w.clone()));
            }
            Some(_) => {}
        }
    }
    if !foreign.is_empty() {
        return Err(foreign);
    }
    for f in found {
        if wanted.iter().any(|w| w.principal == f.principal) {
            continue;
        }
        let clear = Action::SetGroups(GroupAccess {
            principal: f.principal.clone(),
            groups: Vec::new(),
        });
        match f.maker {
            Maker::Group if f.admin && !f.groups.is_empty() => actions.push(clear),
            Maker::Group if f.admin => {}
            Maker::Group => actions.push(Action::Delete(f.principal.clone())),
            Maker::Admin if !f.groups.is_empty() => actions.push(clear),
            _ => {}
        }
    }
    Ok(actions)
}

/// The access entries `principals` of the cluster, described concurrently; those
/// gone meanwhile are left out.
pub(super) async fn describe_entries(
    eks: &Eks,
    cluster: &str,
    principals: &[String],
) -> Result<Vec<AccessEntry>, SdkFailure> {
    let described = join_all(principals.iter().map(|p| async move {
        let call = eks
            .describe_access_entry()
            .cluster_name(cluster)
            .principal_arn(p)
            .send()
            .await;
        Ok::<_, SdkFailure>(unless_gone(call, not_found)?.and_then(|o| o.access_entry().cloned()))
    }))
    .await;
    let mut entries = Vec::new();
    for d in described {
        entries.extend(d?);
    }
    Ok(entries)
}

/// Converges group access (see
/// [`crate::ports::cluster::ClusterBackend::ensure_group_access`]).
pub(super) async fn ensure_group_access(
    eks: &Eks,
    ctx: &StackContext,
    wanted: &[GroupAccess],
) -> Step<Vec<GroupAccess>> {
    let mut components = Vec::new();
    let result = ensure_inner(eks, ctx, wanted, &mut components).await;
    step(result, components)
}

async fn ensure_inner(
    eks: &Eks,
    ctx: &StackContext,
    wanted: &[GroupAccess],
    components: &mut Vec<ComponentRecord>,
) -> Result<Vec<GroupAccess>, BackendError> {
    let cluster = ctx.stack.as_str();
    checkpoint(ctx, "looking up the cluster's access entries")?;
    let (all, admins) = futures::join!(
        eks.list_access_entries().cluster_name(cluster).send(),
        eks.list_access_entries()
            .cluster_name(cluster)
            .associated_policy_arn(ADMIN_POLICY)
            .send(),
    );
    let all = match all.map_err(SdkFailure::from_sdk) {
        Ok(out) => out.access_entries().to_vec(),
        // An endpoint without access entries (an emulator) has none to converge.
        Err(f) if wanted.is_empty() && unsupported(&f) => return Ok(Vec::new()),
        Err(f) => return Err(eks_err("listing the cluster's access entries")(f)),
    };
    let admins: BTreeSet<String> = admins
        .map_err(SdkFailure::from_sdk)
        .map_err(eks_err("listing the cluster's admin access entries"))?
        .access_entries()
        .iter()
        .cloned()
        .collect();
    let entries = describe_entries(eks, cluster, &all)
        .await
        .map_err(eks_err("reading the cluster's access entries"))?;
    let found: Vec<Found> = entries
        .iter()
        .filter_map(|e| {
            let principal = e.principal_arn()?.to_owned();
            Some(Found {
                admin: admins.contains(&principal),
                maker: maker(e, cluster),
                groups: e.kubernetes_groups().to_vec(),
                principal,
            })
        })
        .collect();
    for e in &entries {
        if let Some(g) = granted(e, cluster) {
            components.push(record(
                &group_key(&g.principal),
                kind::GROUP_ACCESS,
                &g.principal,
            ));
        }
    }
    let actions = plan(wanted, &found).map_err(|foreign| BackendError::Permanent {
        operation: "granting team access".to_owned(),
        message: format!(
            "the access entries of {} were made outside paved; paved does not change them",
            foreign.join(", ")
        ),
        hint: "Delete those access entries (or remove the principals from the teams) and run \
               apply again"
            .to_owned(),
    })?;
    for action in actions {
        checkpoint(ctx, "converging team access")?;
        match action {
            Action::Create(g) => {
                let key = group_key(&g.principal);
                eks.create_access_entry()
                    .cluster_name(cluster)
                    .principal_arn(&g.principal)
                    .r#type("STANDARD")
                    .set_kubernetes_groups(Some(g.groups.clone()))
                    .set_tags(Some(tag_map(ctx, &key)))
                    .send()
                    .await
                    .map_err(SdkFailure::from_sdk)
                    .map_err(eks_err(format!(
                        "creating the access entry of {}",
                        g.principal
                    )))?;
                components.push(record(&key, kind::GROUP_ACCESS, &g.principal));
            }
            Action::SetGroups(g) => {
                eks.update_access_entry()
                    .cluster_name(cluster)
                    .principal_arn(&g.principal)
                    .set_kubernetes_groups(Some(g.groups.clone()))
                    .send()
                    .await
                    .map_err(SdkFailure::from_sdk)
                    .map_err(eks_err(format!(
                        "setting the Kubernetes groups of {}",
                        g.principal
                    )))?;
                let key = group_key(&g.principal);
                if g.groups.is_empty() {
                    components.retain(|c| c.key != key);
                } else if !components.iter().any(|c| c.key == key) {
                    components.push(record(&key, kind::GROUP_ACCESS, &g.principal));
                }
            }
            Action::Delete(principal) => {
                let call = eks
                    .delete_access_entry()
                    .cluster_name(cluster)
                    .principal_arn(&principal)
                    .send()
                    .await;
                unless_gone(call, not_found)
                    .map_err(eks_err(format!("revoking the access entry of {principal}")))?;
                let key = group_key(&principal);
                components.retain(|c| c.key != key);
            }
        }
    }
    Ok(wanted.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(principal: &str, groups: &[&str]) -> GroupAccess {
        GroupAccess {
            principal: principal.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    fn found(principal: &str, maker: Maker, groups: &[&str], admin: bool) -> Found {
        Found {
            principal: principal.into(),
            maker,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            admin,
        }
    }

    #[test]
    fn grants_changes_and_revokes_only_its_own() {
        let wanted = [
            access("dev", &["project1-dev"]),
            access("ops", &["sysadmin", "viewers"]),
            access("boss", &["sysadmin"]),
            access("new", &["viewers"]),
        ];
        let found = [
            // Same groups in another order: nothing to do.
            found("dev", Maker::Group, &["project1-dev"], false),
            found("ops", Maker::Group, &["viewers"], false),
            // An admin entry of paved's gets groups too.
            found("boss", Maker::Admin, &[], true),
            // No longer wanted.
            found("gone", Maker::Group, &["x"], false),
            // No longer wanted but also an admin: only the groups go.
            found("both", Maker::Group, &["x"], true),
            // An admin entry that had groups: cleared; one without: untouched.
            found("admin-with-groups", Maker::Admin, &["x"], true),
            found("admin", Maker::Admin, &[], true),
            // Someone else's.
            found("carol", Maker::Other, &["x"], false),
        ];
        assert_eq!(
            plan(&wanted, &found),
            Ok(vec![
                Action::SetGroups(access("ops", &["sysadmin", "viewers"])),
                Action::SetGroups(access("boss", &["sysadmin"])),
                Action::Create(access("new", &["viewers"])),
                Action::Delete("gone".into()),
                Action::SetGroups(access("both", &[])),
                Action::SetGroups(access("admin-with-groups", &[])),
            ])
        );
        assert!(same_groups(
            &["b".to_owned(), "a".to_owned()],
            &["a".to_owned(), "b".to_owned()]
        ));
    }

    #[test]
    fn someone_elses_entry_is_refused() {
        let wanted = [access("carol", &["viewers"]), access("dan", &["x"])];
        let found = [found("carol", Maker::Other, &[], false)];
        assert_eq!(plan(&wanted, &found), Err(vec!["carol".to_owned()]));
    }

    #[test]
    fn makers_come_from_the_tags() {
        let entry = |tags: &[(&str, &str)]| {
            AccessEntry::builder()
                .principal_arn("arn:aws:iam::1:role/dev")
                .kubernetes_groups("project1-dev")
                .set_tags(Some(
                    tags.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ))
                .build()
        };
        let group = entry(&[
            ("paved:stack", "shop"),
            ("paved:component", "group_access.arn:aws:iam::1:role/dev"),
        ]);
        assert_eq!(maker(&group, "shop"), Maker::Group);
        assert_eq!(maker(&group, "other"), Maker::Other);
        assert_eq!(
            granted(&group, "shop"),
            Some(access("arn:aws:iam::1:role/dev", &["project1-dev"]))
        );
        let admin = entry(&[
            ("paved:stack", "shop"),
            ("paved:component", "access_entry.arn:aws:iam::1:role/dev"),
        ]);
        assert_eq!(maker(&admin, "shop"), Maker::Admin);
        assert!(granted(&admin, "shop").is_some());
        assert_eq!(maker(&entry(&[]), "shop"), Maker::Other);
        assert_eq!(granted(&entry(&[]), "shop"), None);
    }
}
