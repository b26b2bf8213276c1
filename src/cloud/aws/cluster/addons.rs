//! Managed add-ons: EKS add-ons (`vpc-cni`, `coredns`, `kube-proxy`,
//! `aws-ebs-csi-driver`, `metrics-server`) converged to the versions asked.
//!
//! One `ListAddons` and a `DescribeAddon` per add-on (concurrently) find what is
//! installed; one `DescribeAddonVersions` for the cluster's minor gives the default
//! versions when an add-on asks for none. Each add-on paved installs is tagged with
//! the stack's tags and the component key `addon.<name>`. The decisions (which
//! version, what to create, update or delete) are pure functions, [`choose_version`]
//! and [`plan`], tested without a cloud.
//!
//! An add-on found in the stack's cluster without paved's tags (installed by hand
//! or by the console) is adopted: tagged and brought to the request. Add-ons paved
//! tagged and no longer listed are deleted; untagged ones are left alone.

use std::collections::BTreeMap;

use aws_sdk_eks::types::{Addon, ResolveConflicts};
use aws_sdk_eks::Client as Eks;
use futures::future::join_all;

use super::wait::{Observed, Wait, ADDON_ACTIVE, DELETED};
use super::{failure, not_found, owned_by, tag_map};
use crate::cloud::aws::error::{unless_gone, SdkFailure};
use crate::cloud::aws::inventory::{record, step};
use crate::cloud::aws::network::checkpoint;
use crate::ports::cluster::kind;
use crate::ports::cluster::{AddonState, AddonsRequest};
use crate::stack::tags::COMPONENT_TAG;
use crate::stack::{BackendError, ComponentRecord, StackContext, Step};

/// The inventory key of add-on `name`.
pub(super) fn addon_key(name: &str) -> String {
    format!("addon.{name}")
}

fn eks_err(operation: impl Into<String>) -> impl FnOnce(SdkFailure) -> BackendError {
    let operation = operation.into();
    move |f| failure("EKS", operation, f)
}

/// `v1.19.2-eksbuild.1` → `[1, 19, 2, 1]`, to order versions.
fn version_key(version: &str) -> Vec<u64> {
    version
        .trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// What the cloud offers of one add-on for the cluster's minor version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Offer {
    /// The default version for the minor.
    pub default: Option<String>,
    /// Every version compatible with the minor.
    pub compatible: Vec<String>,
}

/// The version to run: the one asked for; without one, the minor's default, unless
/// the installed version is compatible with the minor and not older than the
/// default (EKS refuses to go back, and a newer one installed on purpose stays).
/// After an upgrade the old minor's version is either incompatible or older than
/// the new default, so the add-on moves to the new default.
pub(super) fn choose_version(
    asked: Option<&str>,
    installed: Option<&str>,
    offer: Option<&Offer>,
) -> Option<String> {
    if let Some(v) = asked {
        return Some(v.to_owned());
    }
    let offer = offer?;
    let default = offer.default.as_deref()?;
    match installed {
        Some(current)
            if offer.compatible.iter().any(|c| c == current)
                && version_key(current) >= version_key(default) =>
        {
            Some(current.to_owned())
        }
        _ => Some(default.to_owned()),
    }
}

/// An add-on as found in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    /// Its name.
    pub name: String,
    /// The version installed.
    pub version: String,
    /// The role its service account runs as.
    pub identity: Option<String>,
    /// Tagged as this stack's (an `addon.` component).
    pub ours: bool,
}

/// An add-on as wanted, its version resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Wanted {
    /// Its name.
    pub name: String,
    /// The version to run.
    pub version: String,
    /// The role its service account runs as, when one is asked.
    pub identity: Option<String>,
}

/// One change to an add-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Action {
    /// Install it.
    Create(Wanted),
    /// Change what differs: the version and the role (each `None` when it stays),
    /// and tag it when it was not paved's.
    Update {
        /// The add-on's name.
        name: String,
        /// The new version.
        version: Option<String>,
        /// The new role.
        identity: Option<String>,
        /// Tag it as the stack's (adoption).
        adopt: bool,
    },
    /// Remove it (paved installed it and it is no longer listed).
    Delete(String),
}

/// What to do to go from `found` to `wanted`: creates and updates in the order
/// wanted, then deletions of paved's add-ons no longer wanted. Add-ons neither
/// wanted nor paved's are left alone.
pub(super) fn plan(wanted: &[Wanted], found: &[Found]) -> Vec<Action> {
    let mut actions = Vec::new();
    for w in wanted {
        match found.iter().find(|f| f.name == w.name) {
            None => actions.push(Action::Create(w.clone())),
            Some(f) => {
                let version = (f.version != w.version).then(|| w.version.clone());
                let identity = w
                    .identity
                    .as_ref()
                    .filter(|i| f.identity.as_ref() != Some(*i))
                    .cloned();
                if version.is_some() || identity.is_some() || !f.ours {
                    actions.push(Action::Update {
                        name: w.name.clone(),
                        version,
                        identity,
                        adopt: !f.ours,
                    });
                }
            }
        }
    }
    for f in found {
        if f.ours && !wanted.iter().any(|w| w.name == f.name) {
            actions.push(Action::Delete(f.name.clone()));
        }
    }
    actions
}

/// Whether the add-on carries the stack's tags as an add-on component.
fn is_ours(addon: &Addon, stack: &str) -> bool {
    addon.tags().is_some_and(|t| {
        owned_by(t, stack)
            && t.get(COMPONENT_TAG)
                .is_some_and(|k| k.starts_with("addon."))
    })
}

fn observed(addon: &Addon) -> Observed {
    let issues = addon.health().map(|h| h.issues()).unwrap_or_default();
    Observed::new(
        addon.status().map(|s| s.as_str()),
        issues
            .iter()
            .map(|i| (i.code().map(|c| c.as_str()), i.message())),
    )
}

/// The add-on as the backend reports it.
pub(super) fn addon_state(addon: &Addon) -> AddonState {
    AddonState {
        name: addon.addon_name().unwrap_or_default().to_owned(),
        version: addon.addon_version().unwrap_or_default().to_owned(),
        status: observed(addon).status,
        identity: addon.service_account_role_arn().map(str::to_owned),
    }
}

/// Add-on `name` of the cluster, `None` when it is not installed.
async fn describe(eks: &Eks, cluster: &str, name: &str) -> Result<Option<Addon>, SdkFailure> {
    let call = eks
        .describe_addon()
        .cluster_name(cluster)
        .addon_name(name)
        .send()
        .await;
    Ok(unless_gone(call, not_found)?.and_then(|o| o.addon().cloned()))
}

/// The names of the cluster's add-ons (`None` when the cluster is gone).
pub(super) async fn list(eks: &Eks, cluster: &str) -> Result<Option<Vec<String>>, SdkFailure> {
    let call = eks.list_addons().cluster_name(cluster).send().await;
    Ok(unless_gone(call, not_found)?.map(|o| o.addons().to_vec()))
}

/// The add-ons `names` of the cluster, described concurrently; those gone
/// meanwhile are left out.
pub(super) async fn describe_all(
    eks: &Eks,
    cluster: &str,
    names: &[String],
) -> Result<Vec<Addon>, SdkFailure> {
    let described = join_all(names.iter().map(|n| describe(eks, cluster, n))).await;
    let mut addons = Vec::new();
    for d in described {
        addons.extend(d?);
    }
    Ok(addons)
}

/// What EKS offers for Kubernetes `minor`, by add-on name (one paginated call).
async fn offers(eks: &Eks, minor: &str) -> Result<BTreeMap<String, Offer>, BackendError> {
    let pages: Vec<_> = eks
        .describe_addon_versions()
        .kubernetes_version(minor)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut out: BTreeMap<String, Offer> = BTreeMap::new();
    for page in pages {
        let page = page.map_err(SdkFailure::from_sdk).map_err(eks_err(format!(
            "reading the add-on versions for Kubernetes {minor}"
        )))?;
        for info in page.addons() {
            let Some(name) = info.addon_name() else {
                continue;
            };
            let offer = out.entry(name.to_owned()).or_default();
            for v in info.addon_versions() {
                let Some(version) = v.addon_version() else {
                    continue;
                };
                let compat = v
                    .compatibilities()
                    .iter()
                    .filter(|c| c.cluster_version() == Some(minor));
                let mut compatible = false;
                for c in compat {
                    compatible = true;
                    if c.default_version() && offer.default.is_none() {
                        offer.default = Some(version.to_owned());
                    }
                }
                if compatible {
                    offer.compatible.push(version.to_owned());
                }
            }
        }
    }
    Ok(out)
}

/// Waits until add-on `name` is active.
async fn wait_active(
    eks: &Eks,
    ctx: &StackContext,
    name: &str,
    during: &str,
) -> Result<(), BackendError> {
    let cluster = ctx.stack.as_str();
    Wait::new(ctx, format!("EKS add-on {name}"), during)
        .until(ADDON_ACTIVE, || async {
            Ok(describe(eks, cluster, name).await?.as_ref().map(observed))
        })
        .await
}

/// Waits until add-on `name` is gone.
async fn wait_gone(eks: &Eks, ctx: &StackContext, name: &str) -> Result<(), BackendError> {
    let cluster = ctx.stack.as_str();
    Wait::new(
        ctx,
        format!("EKS add-on {name}"),
        format!("deleting add-on {name}"),
    )
    .until(DELETED, || async {
        Ok(describe(eks, cluster, name).await?.as_ref().map(observed))
    })
    .await
}

/// Converges the add-ons (see [`crate::ports::cluster::ClusterBackend::ensure_addons`]).
pub(super) async fn ensure_addons(
    eks: &Eks,
    ctx: &StackContext,
    req: &AddonsRequest,
) -> Step<Vec<AddonState>> {
    let mut components = Vec::new();
    let result = ensure_inner(eks, ctx, req, &mut components).await;
    step(result, components)
}

async fn ensure_inner(
    eks: &Eks,
    ctx: &StackContext,
    req: &AddonsRequest,
    components: &mut Vec<ComponentRecord>,
) -> Result<Vec<AddonState>, BackendError> {
    let cluster = ctx.stack.as_str();
    checkpoint(ctx, "looking up the cluster's add-ons")?;
    let names = match list(eks, cluster).await {
        Ok(names) => names,
        // An endpoint without add-ons (an emulator) has none to converge.
        Err(f) if req.addons.is_empty() && super::unsupported(&f) => return Ok(Vec::new()),
        Err(f) => return Err(eks_err("listing the cluster's add-ons")(f)),
    }
    .ok_or_else(|| BackendError::NotFound {
        what: format!("EKS cluster {cluster}"),
    })?;
    let mut addons = describe_all(eks, cluster, &names)
        .await
        .map_err(eks_err("reading the cluster's add-ons"))?;
    // An add-on still changing (an apply cut short) is waited for first: EKS
    // refuses to update it meanwhile.
    let busy: Vec<String> = addons
        .iter()
        .filter(|a| {
            matches!(
                a.status().map(|s| s.as_str()),
                Some("CREATING" | "UPDATING" | "DELETING")
            )
        })
        .filter_map(|a| a.addon_name().map(str::to_owned))
        .collect();
    if !busy.is_empty() {
        for name in &busy {
            let a = addons
                .iter()
                .find(|a| a.addon_name() == Some(name.as_str()));
            if a.and_then(|a| a.status()).map(|s| s.as_str()) == Some("DELETING") {
                wait_gone(eks, ctx, name).await?;
            } else {
                wait_active(eks, ctx, name, "waiting for an add-on to settle").await?;
            }
        }
        addons = describe_all(eks, cluster, &names)
            .await
            .map_err(eks_err("reading the cluster's add-ons"))?;
    }
    for a in addons.iter().filter(|a| is_ours(a, cluster)) {
        let name = a.addon_name().unwrap_or_default();
        components.push(record(
            &addon_key(name),
            kind::EKS_ADDON,
            a.addon_arn().unwrap_or(name),
        ));
    }

    let offers = if req.addons.iter().any(|a| a.version.is_none()) {
        checkpoint(ctx, "reading the add-on versions")?;
        offers(eks, &req.kubernetes_version).await?
    } else {
        BTreeMap::new()
    };
    let mut wanted = Vec::new();
    for a in &req.addons {
        let installed = addons
            .iter()
            .find(|f| f.addon_name() == Some(a.name.as_str()))
            .and_then(|f| f.addon_version());
        let version = choose_version(a.version.as_deref(), installed, offers.get(&a.name))
            .ok_or_else(|| BackendError::Permanent {
                operation: format!("choosing the version of add-on {}", a.name),
                message: format!(
                    "EKS offers no default version of {} for Kubernetes {}",
                    a.name, req.kubernetes_version
                ),
                hint: "Name the add-on's version, or check the add-on's name".to_owned(),
            })?;
        wanted.push(Wanted {
            name: a.name.clone(),
            version,
            identity: a.identity.clone(),
        });
    }
    let found: Vec<Found> = addons
        .iter()
        .map(|a| Found {
            name: a.addon_name().unwrap_or_default().to_owned(),
            version: a.addon_version().unwrap_or_default().to_owned(),
            identity: a.service_account_role_arn().map(str::to_owned),
            ours: is_ours(a, cluster),
        })
        .collect();

    let mut started = Vec::new();
    for action in plan(&wanted, &found) {
        match action {
            Action::Create(w) => {
                checkpoint(ctx, "installing add-ons")?;
                let key = addon_key(&w.name);
                let out = eks
                    .create_addon()
                    .cluster_name(cluster)
                    .addon_name(&w.name)
                    .addon_version(&w.version)
                    .set_service_account_role_arn(w.identity.clone())
                    .resolve_conflicts(ResolveConflicts::Overwrite)
                    .set_tags(Some(tag_map(ctx, &key)))
                    .send()
                    .await
                    .map_err(SdkFailure::from_sdk)
                    .map_err(eks_err(format!("installing add-on {}", w.name)))?;
                let arn = out.addon().and_then(|a| a.addon_arn()).unwrap_or(&w.name);
                components.push(record(&key, kind::EKS_ADDON, arn));
                started.push((w.name, "installing the add-on"));
            }
            Action::Update {
                name,
                version,
                identity,
                adopt,
            } => {
                checkpoint(ctx, "updating add-ons")?;
                let key = addon_key(&name);
                if adopt {
                    let arn = addons
                        .iter()
                        .find(|a| a.addon_name() == Some(name.as_str()))
                        .and_then(|a| a.addon_arn())
                        .unwrap_or_default()
                        .to_owned();
                    eks.tag_resource()
                        .resource_arn(&arn)
                        .set_tags(Some(tag_map(ctx, &key)))
                        .send()
                        .await
                        .map_err(SdkFailure::from_sdk)
                        .map_err(eks_err(format!("tagging add-on {name}")))?;
                    components.push(record(&key, kind::EKS_ADDON, &arn));
                }
                if version.is_some() || identity.is_some() {
                    eks.update_addon()
                        .cluster_name(cluster)
                        .addon_name(&name)
                        .set_addon_version(version)
                        .set_service_account_role_arn(identity)
                        .resolve_conflicts(ResolveConflicts::Overwrite)
                        .send()
                        .await
                        .map_err(SdkFailure::from_sdk)
                        .map_err(eks_err(format!("updating add-on {name}")))?;
                    started.push((name, "updating the add-on"));
                }
            }
            Action::Delete(name) => {
                checkpoint(ctx, "removing add-ons no longer wanted")?;
                let call = eks
                    .delete_addon()
                    .cluster_name(cluster)
                    .addon_name(&name)
                    .send()
                    .await;
                unless_gone(call, not_found).map_err(eks_err(format!("removing add-on {name}")))?;
                wait_gone(eks, ctx, &name).await?;
                let key = addon_key(&name);
                components.retain(|c| c.key != key);
            }
        }
    }
    let waits = join_all(
        started
            .iter()
            .map(|(name, during)| wait_active(eks, ctx, name, during)),
    )
    .await;
    for w in waits {
        w?;
    }

    let names: Vec<String> = req.addons.iter().map(|a| a.name.clone()).collect();
    let now = describe_all(eks, cluster, &names)
        .await
        .map_err(eks_err("reading the cluster's add-ons"))?;
    let mut states = Vec::new();
    for name in &names {
        let addon = now
            .iter()
            .find(|a| a.addon_name() == Some(name.as_str()))
            .ok_or_else(|| BackendError::NotFound {
                what: format!("EKS add-on {name}"),
            })?;
        states.push(addon_state(addon));
    }
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(default: &str, compatible: &[&str]) -> Offer {
        Offer {
            default: Some(default.to_owned()),
            compatible: compatible.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn versions_order_numerically() {
        assert!(version_key("v1.19.2-eksbuild.1") > version_key("v1.18.10-eksbuild.1"));
        assert!(version_key("v1.11.4-eksbuild.2") > version_key("v1.11.4-eksbuild.1"));
        assert_eq!(version_key("v0.7.2-eksbuild.2"), vec![0, 7, 2, 2]);
    }

    #[test]
    fn the_version_asked_wins() {
        let o = offer("v1.19.2-eksbuild.1", &["v1.19.2-eksbuild.1"]);
        assert_eq!(
            choose_version(Some("v1.18.6-eksbuild.1"), None, Some(&o)).as_deref(),
            Some("v1.18.6-eksbuild.1")
        );
        assert_eq!(
            choose_version(Some("v9"), None, None).as_deref(),
            Some("v9")
        );
    }

    #[test]
    fn without_a_version_the_minors_default() {
        // kube-proxy after 1.30 -> 1.31: the 1.30 build is incompatible.
        let o = offer(
            "v1.31.3-eksbuild.2",
            &["v1.31.3-eksbuild.2", "v1.31.2-eksbuild.3"],
        );
        assert_eq!(
            choose_version(None, Some("v1.30.7-eksbuild.2"), Some(&o)).as_deref(),
            Some("v1.31.3-eksbuild.2")
        );
        // vpc-cni: 1.30's default is compatible with 1.31 but older than its default.
        let o = offer(
            "v1.19.2-eksbuild.1",
            &[
                "v1.19.2-eksbuild.1",
                "v1.19.0-eksbuild.1",
                "v1.18.6-eksbuild.1",
            ],
        );
        assert_eq!(
            choose_version(None, Some("v1.18.6-eksbuild.1"), Some(&o)).as_deref(),
            Some("v1.19.2-eksbuild.1")
        );
        // Not installed: the default.
        assert_eq!(
            choose_version(None, None, Some(&o)).as_deref(),
            Some("v1.19.2-eksbuild.1")
        );
        // A newer compatible version installed on purpose stays (no downgrade).
        let o = offer(
            "v1.37.0-eksbuild.1",
            &["v1.38.1-eksbuild.2", "v1.37.0-eksbuild.1"],
        );
        assert_eq!(
            choose_version(None, Some("v1.38.1-eksbuild.2"), Some(&o)).as_deref(),
            Some("v1.38.1-eksbuild.2")
        );
        // No offer or no default: nothing to choose.
        assert_eq!(choose_version(None, None, None), None);
        assert_eq!(choose_version(None, None, Some(&Offer::default())), None);
    }

    fn wanted(name: &str, version: &str, identity: Option<&str>) -> Wanted {
        Wanted {
            name: name.into(),
            version: version.into(),
            identity: identity.map(str::to_owned),
        }
    }

    fn found(name: &str, version: &str, identity: Option<&str>, ours: bool) -> Found {
        Found {
            name: name.into(),
            version: version.into(),
            identity: identity.map(str::to_owned),
            ours,
        }
    }

    #[test]
    fn plan_creates_updates_adopts_and_deletes_only_its_own() {
        let role = "arn:aws:iam::1:role/shop-storage_driver";
        let want = [
            wanted("vpc-cni", "v2", None),
            wanted("coredns", "v1", None),
            wanted("aws-ebs-csi-driver", "v1", Some(role)),
            wanted("kube-proxy", "v1", None),
        ];
        let have = [
            found("vpc-cni", "v1", None, true),
            found("coredns", "v1", None, true),
            found("aws-ebs-csi-driver", "v1", None, true),
            found("kube-proxy", "v1", None, false),
            found("metrics-server", "v1", None, true),
            found("someone-elses", "v1", None, false),
        ];
        assert_eq!(
            plan(&want, &have),
            vec![
                Action::Update {
                    name: "vpc-cni".into(),
                    version: Some("v2".into()),
                    identity: None,
                    adopt: false,
                },
                Action::Update {
                    name: "aws-ebs-csi-driver".into(),
                    version: None,
                    identity: Some(role.into()),
                    adopt: false,
                },
                Action::Update {
                    name: "kube-proxy".into(),
                    version: None,
                    identity: None,
                    adopt: true,
                },
                Action::Delete("metrics-server".into()),
            ]
        );
        assert_eq!(
            plan(&[wanted("coredns", "v1", None)], &[]),
            vec![Action::Create(wanted("coredns", "v1", None))]
        );
        // Converged: nothing to do.
        assert!(plan(&want[1..2], &have[1..2]).is_empty());
    }
}
