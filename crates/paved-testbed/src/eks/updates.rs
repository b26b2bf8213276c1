//! EKS updates: UpdateClusterVersion, UpdateNodegroupVersion, DescribeUpdate,
//! ListUpdates, and the rewriting of moto's DescribeCluster and
//! DescribeNodegroup answers so that they report the versions set here.
//!
//! See [the module documentation](super) for what is modelled.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{
    minor, minor_number, now_epoch, parse_body, Answer, ClusterInfo, EksStore, KUBERNETES_VERSIONS,
};

/// The platform version a cluster reports after an upgrade to each minor of
/// [`KUBERNETES_VERSIONS`] (illustrative values in EKS's format).
pub const PLATFORM_VERSIONS: [(&str, &str); 4] = [
    ("1.29", "eks.29"),
    ("1.30", "eks.27"),
    ("1.31", "eks.19"),
    ("1.32", "eks.6"),
];

/// The EKS-optimised AMI release version a node group reports after an
/// upgrade to each minor of [`KUBERNETES_VERSIONS`] without an explicit
/// `releaseVersion` (illustrative values in EKS's format).
pub const AMI_RELEASE_VERSIONS: [(&str, &str); 4] = [
    ("1.29", "1.29.10-20250116"),
    ("1.30", "1.30.8-20250116"),
    ("1.31", "1.31.4-20250116"),
    ("1.32", "1.32.0-20250116"),
];

fn lookup(table: &[(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// One `{type, value}` parameter of an update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateParam {
    /// `Version`, `PlatformVersion`, `ReleaseVersion`, `AddonVersion`, ...
    pub param_type: String,
    /// The value, as a string.
    pub value: String,
}

impl UpdateParam {
    pub(super) fn new(param_type: &str, value: &str) -> Self {
        Self {
            param_type: param_type.to_owned(),
            value: value.to_owned(),
        }
    }
}

/// An EKS update (of a cluster's version, a node group's version or an
/// add-on), as the stand-in holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The update's id (UUID-shaped).
    pub id: String,
    /// The cluster it belongs to.
    pub cluster_name: String,
    /// The node group, for a node group update.
    pub nodegroup_name: Option<String>,
    /// The add-on, for an add-on update.
    pub addon_name: Option<String>,
    /// `VersionUpdate` or `AddonUpdate`.
    pub update_type: String,
    /// `InProgress` or `Successful`, as of the snapshot.
    pub status: String,
    /// The update's parameters.
    pub params: Vec<UpdateParam>,
    /// Creation time, epoch seconds.
    pub created_at: f64,
}

/// An update and when it finishes.
#[derive(Clone, Debug)]
pub(super) struct UpdateState {
    pub(super) update: Update,
    pub(super) ready_at: Instant,
}

impl UpdateState {
    fn status(&self, at: Instant) -> &'static str {
        if at >= self.ready_at {
            "Successful"
        } else {
            "InProgress"
        }
    }

    /// A snapshot with the status at `at`.
    pub(super) fn snapshot(&self, at: Instant) -> Update {
        let mut update = self.update.clone();
        update.status = self.status(at).to_owned();
        update
    }

    /// The update as the API returns it (`update`), with its status at `at`.
    pub(super) fn wire(&self, at: Instant) -> Value {
        self.wire_as(self.status(at))
    }

    /// The update as the request that starts it gets it: `InProgress`, even
    /// when the delay is zero.
    pub(super) fn started_wire(&self) -> Value {
        self.wire_as("InProgress")
    }

    fn wire_as(&self, status: &str) -> Value {
        let params: Vec<Value> = self
            .update
            .params
            .iter()
            .map(|p| json!({ "type": p.param_type, "value": p.value }))
            .collect();
        json!({
            "id": self.update.id,
            "status": status,
            "type": self.update.update_type,
            "params": params,
            "createdAt": self.update.created_at,
            "errors": [],
        })
    }
}

/// A new update record.
pub(super) fn new_update(
    id: String,
    cluster: &str,
    nodegroup: Option<&str>,
    addon: Option<&str>,
    update_type: &str,
    params: Vec<UpdateParam>,
    ready_at: Instant,
) -> UpdateState {
    UpdateState {
        update: Update {
            id,
            cluster_name: cluster.to_owned(),
            nodegroup_name: nodegroup.map(str::to_owned),
            addon_name: addon.map(str::to_owned),
            update_type: update_type.to_owned(),
            status: "InProgress".to_owned(),
            params,
            created_at: now_epoch(),
        },
        ready_at,
    }
}

/// A cluster version change recorded by UpdateClusterVersion.
#[derive(Clone, Debug)]
pub(super) struct VersionChange {
    pub(super) from_version: String,
    pub(super) from_platform: Option<String>,
    pub(super) to_version: String,
    pub(super) to_platform: String,
    pub(super) ready_at: Instant,
}

/// A node group version change recorded by UpdateNodegroupVersion.
#[derive(Clone, Debug)]
pub(super) struct NodegroupChange {
    /// moto's `nodegroupArn` and `createdAt` of the node group changed, so a
    /// node group deleted and made again under the same name is not changed.
    pub(super) identity: String,
    pub(super) from_version: String,
    pub(super) from_release: Option<String>,
    pub(super) from_template: Option<Value>,
    pub(super) to_version: String,
    pub(super) to_release: String,
    pub(super) to_template: Option<Value>,
    pub(super) ready_at: Instant,
}

/// `nodegroupArn` + `createdAt` of a DescribeNodegroup `nodegroup`.
fn nodegroup_identity(ng: &Value) -> String {
    format!(
        "{}|{}",
        ng["nodegroupArn"].as_str().unwrap_or_default(),
        ng["createdAt"]
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClusterVersionInput {
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodegroupVersionInput {
    version: Option<String>,
    release_version: Option<String>,
    launch_template: Option<TemplateInput>,
}

#[derive(Deserialize)]
struct TemplateInput {
    id: Option<String>,
    name: Option<String>,
    version: Option<String>,
}

fn in_use(message: String, cluster: &str, nodegroup: Option<&str>) -> Answer {
    Answer::eks_error(
        409,
        "ResourceInUseException",
        message,
        cluster,
        None,
        nodegroup,
    )
}

impl EksStore {
    pub(super) fn update_cluster_version(
        &mut self,
        cluster: &str,
        info: &ClusterInfo,
        body: &[u8],
        now: Instant,
    ) -> Answer {
        let input: ClusterVersionInput = match parse_body(body, cluster) {
            Ok(input) => input,
            Err(answer) => return answer,
        };
        let Some(target) = input.version.filter(|v| !v.is_empty()) else {
            return Answer::eks_invalid("version is required.", cluster, None, None);
        };
        let Some(platform) = lookup(&PLATFORM_VERSIONS, &target) else {
            return Answer::eks_invalid(
                format!(
                    "unsupported Kubernetes version {target}; the stand-in models {}",
                    KUBERNETES_VERSIONS.join(", ")
                ),
                cluster,
                None,
                None,
            );
        };
        let in_progress = self
            .clusters
            .get(cluster)
            .and_then(|c| c.version.as_ref())
            .is_some_and(|c| now < c.ready_at);
        if in_progress {
            return in_use(
                format!("Cluster {cluster} has an update in progress."),
                cluster,
                None,
            );
        }
        let current = self.effective_version(cluster, info, now);
        let current_platform = self.effective_platform(cluster, info, now);
        let current_minor = minor(&current).unwrap_or_else(|| current.clone());
        let (Some(from), Some(to)) = (minor_number(&current_minor), minor_number(&target)) else {
            return Answer::eks_invalid(
                format!(
                    "Unsupported Kubernetes minor version update from {current_minor} to {target}"
                ),
                cluster,
                None,
                None,
            );
        };
        if to <= from || to.0 != from.0 || to.1 > from.1 + 1 {
            return Answer::eks_invalid(
                format!(
                    "Unsupported Kubernetes minor version update from {current_minor} to {target}"
                ),
                cluster,
                None,
                None,
            );
        }
        let delay = self.delay;
        let id = self.next_uuid();
        let state = self.cluster_state(cluster);
        state.version = Some(VersionChange {
            from_version: current,
            from_platform: current_platform,
            to_version: target.clone(),
            to_platform: platform.to_owned(),
            ready_at: now + delay,
        });
        let update = new_update(
            id,
            cluster,
            None,
            None,
            "VersionUpdate",
            vec![
                UpdateParam::new("Version", &target),
                UpdateParam::new("PlatformVersion", platform),
            ],
            now + delay,
        );
        let wire = update.started_wire();
        state.updates.push(update);
        Answer::ok(json!({ "update": wire }))
    }

    pub(super) fn update_nodegroup_version(
        &mut self,
        cluster: &str,
        nodegroup: &str,
        info: &ClusterInfo,
        moto_nodegroup: &Value,
        body: &[u8],
        now: Instant,
    ) -> Answer {
        let input: NodegroupVersionInput = match parse_body(body, cluster) {
            Ok(input) => input,
            Err(answer) => return answer,
        };
        let ng = &moto_nodegroup["nodegroup"];
        let identity = nodegroup_identity(ng);
        let cluster_version = self.effective_version(cluster, info, now);
        let cluster_minor = minor(&cluster_version).unwrap_or_else(|| cluster_version.clone());
        let invalid =
            |message: String| Answer::eks_invalid(message, cluster, None, Some(nodegroup));

        let change = self
            .clusters
            .get(cluster)
            .and_then(|c| c.nodegroups.get(nodegroup))
            .filter(|c| c.identity == identity);
        if change.is_some_and(|c| now < c.ready_at) {
            return in_use(
                format!("Nodegroup {nodegroup} has an update in progress."),
                cluster,
                Some(nodegroup),
            );
        }
        let (current, current_release, current_template) = match change {
            Some(c) => (
                c.to_version.clone(),
                Some(c.to_release.clone()),
                c.to_template.clone(),
            ),
            None => (
                ng["version"].as_str().unwrap_or_default().to_owned(),
                ng["releaseVersion"].as_str().map(str::to_owned),
                ng.get("launchTemplate").filter(|t| t.is_object()).cloned(),
            ),
        };
        let target = input
            .version
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| cluster_minor.clone());
        let Some(target_n) = minor_number(&target) else {
            return invalid(format!("Invalid Kubernetes version {target}."));
        };
        if minor_number(&cluster_minor).is_some_and(|c| target_n > c) {
            return invalid(format!(
                "Requested Kubernetes version {target} is greater than the cluster's version {cluster_minor}."
            ));
        }
        if minor(&current)
            .and_then(|c| minor_number(&c))
            .is_some_and(|c| target_n < c)
        {
            return invalid(format!(
                "Requested Kubernetes version {target} is lower than the node group's version {current}; downgrades are not supported."
            ));
        }
        let release = match input.release_version.filter(|r| !r.is_empty()) {
            Some(r) if r.starts_with(&format!("{target}.")) => r,
            Some(r) => {
                return invalid(format!(
                    "Release version {r} does not match Kubernetes version {target}."
                ))
            }
            None => lookup(&AMI_RELEASE_VERSIONS, &target)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{target}.0-20250116")),
        };
        let mut params = vec![
            UpdateParam::new("Version", &target),
            UpdateParam::new("ReleaseVersion", &release),
        ];
        let template =
            match (input.launch_template, &current_template) {
                (None, _) => current_template.clone(),
                (Some(_), None) => return invalid(
                    "The node group was not created with a launch template; one cannot be added."
                        .to_owned(),
                ),
                (Some(given), Some(current)) => {
                    let same = |field: &str, value: &Option<String>| {
                        value
                            .as_deref()
                            .is_none_or(|v| current[field].as_str().is_none_or(|c| c == v))
                    };
                    if !same("id", &given.id) || !same("name", &given.name) {
                        return invalid(
                        "The launch template of a node group cannot be changed, only its version."
                            .to_owned(),
                    );
                    }
                    let mut template: Map<String, Value> =
                        current.as_object().cloned().unwrap_or_default();
                    if let Some(version) = given.version.filter(|v| !v.is_empty()) {
                        template.insert("version".into(), json!(version));
                    }
                    if let Some(name) = template.get("name").and_then(Value::as_str) {
                        params.push(UpdateParam::new("LaunchTemplateName", name));
                    }
                    if let Some(version) = template.get("version").and_then(Value::as_str) {
                        params.push(UpdateParam::new("LaunchTemplateVersion", version));
                    }
                    Some(Value::Object(template))
                }
            };
        let delay = self.delay;
        let id = self.next_uuid();
        let state = self.cluster_state(cluster);
        state.nodegroups.insert(
            nodegroup.to_owned(),
            NodegroupChange {
                identity,
                from_version: current,
                from_release: current_release,
                from_template: current_template,
                to_version: target,
                to_release: release,
                to_template: template,
                ready_at: now + delay,
            },
        );
        let update = new_update(
            id,
            cluster,
            Some(nodegroup),
            None,
            "VersionUpdate",
            params,
            now + delay,
        );
        let wire = update.started_wire();
        state.updates.push(update);
        Answer::ok(json!({ "update": wire }))
    }

    /// DescribeUpdate: the update must belong to the node group or add-on
    /// named in the query, or to the cluster itself when neither is named.
    pub(super) fn describe_update(
        &mut self,
        cluster: &str,
        id: &str,
        nodegroup: Option<&str>,
        addon: Option<&str>,
        now: Instant,
    ) -> Answer {
        let found = self.cluster_state(cluster).updates.iter().find(|u| {
            u.update.id == id
                && u.update.nodegroup_name.as_deref() == nodegroup
                && u.update.addon_name.as_deref() == addon
        });
        match found {
            Some(u) => Answer::ok(json!({ "update": u.wire(now) })),
            None => Answer::eks_error(
                404,
                "ResourceNotFoundException",
                format!("No update found for ID: {id}"),
                cluster,
                addon,
                nodegroup,
            ),
        }
    }

    /// ListUpdates: the ids of the updates of the cluster itself, or of the
    /// node group or add-on named in the query, oldest first.
    pub(super) fn list_updates(
        &mut self,
        cluster: &str,
        nodegroup: Option<&str>,
        addon: Option<&str>,
    ) -> Answer {
        let ids: Vec<&str> = self
            .cluster_state(cluster)
            .updates
            .iter()
            .filter(|u| {
                u.update.nodegroup_name.as_deref() == nodegroup
                    && u.update.addon_name.as_deref() == addon
            })
            .map(|u| u.update.id.as_str())
            .collect();
        Answer::ok(json!({ "updateIds": ids }))
    }

    /// Rewrites moto's DescribeCluster answer `{"cluster": {...}}`: the
    /// version and platform version set by UpdateClusterVersion once the
    /// update is done, the old ones and status `UPDATING` while it runs.
    pub(super) fn rewrite_cluster(&mut self, body: &mut Value, now: Instant) {
        let Some(info) = ClusterInfo::from_describe(body) else {
            return;
        };
        let name = info.name.clone();
        self.sync_identity(&name, &info.identity);
        let Some(change) = self.clusters.get(&name).and_then(|c| c.version.as_ref()) else {
            return;
        };
        let cluster = &mut body["cluster"];
        if now >= change.ready_at {
            cluster["version"] = json!(change.to_version);
            cluster["platformVersion"] = json!(change.to_platform);
        } else {
            cluster["version"] = json!(change.from_version);
            if let Some(platform) = &change.from_platform {
                cluster["platformVersion"] = json!(platform);
            }
            cluster["status"] = json!("UPDATING");
        }
    }

    /// Rewrites moto's DescribeNodegroup answer `{"nodegroup": {...}}` like
    /// [`EksStore::rewrite_cluster`]: version, release version and launch
    /// template version.
    pub(super) fn rewrite_nodegroup(&mut self, cluster: &str, body: &mut Value, now: Instant) {
        let ng = &mut body["nodegroup"];
        let Some(name) = ng["nodegroupName"].as_str().map(str::to_owned) else {
            return;
        };
        let identity = nodegroup_identity(ng);
        let Some(state) = self.clusters.get_mut(cluster) else {
            return;
        };
        let Some(change) = state.nodegroups.get(&name) else {
            return;
        };
        if change.identity != identity {
            // Deleted and made again: the recorded change was for the old one.
            state.nodegroups.remove(&name);
            return;
        }
        let (version, release, template) = if now >= change.ready_at {
            (
                &change.to_version,
                Some(&change.to_release),
                &change.to_template,
            )
        } else {
            ng["status"] = json!("UPDATING");
            (
                &change.from_version,
                change.from_release.as_ref(),
                &change.from_template,
            )
        };
        ng["version"] = json!(version);
        if let Some(release) = release {
            ng["releaseVersion"] = json!(release);
        }
        if let Some(template) = template {
            ng["launchTemplate"] = template.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Lookup, Operation, RewriteTarget};
    use super::*;

    fn cluster(version: &str) -> Option<Lookup> {
        Some(Lookup::Found(json!({ "cluster": {
            "name": "shop",
            "arn": "arn:aws:eks:eu-west-1:111122223333:cluster/shop",
            "createdAt": "t1",
            "version": version,
            "certificateAuthority": { "data": "Q0E=" },
        }})))
    }

    fn nodegroup(created: &str, template: Option<Value>) -> Value {
        let mut ng = json!({ "nodegroup": {
            "nodegroupName": "general",
            "nodegroupArn": "arn:aws:eks:eu-west-1:111122223333:nodegroup/shop/general/abc",
            "createdAt": created,
            "version": "1.30",
            "releaseVersion": "1.30.0-20240101",
            "status": "ACTIVE",
        }});
        if let Some(t) = template {
            ng["nodegroup"]["launchTemplate"] = t;
        }
        ng
    }

    #[test]
    fn nodegroup_versions_and_launch_templates() {
        let mut s = EksStore {
            delay: Duration::from_secs(5),
            ..EksStore::default()
        };
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(6);
        let op = Operation::UpdateNodegroupVersion {
            cluster: "shop".into(),
            nodegroup: "general".into(),
        };
        let template = json!({ "id": "lt-1", "name": "nodes", "version": "1" });
        let moto = nodegroup("t1", Some(template.clone()));
        let call = |s: &mut EksStore, body: Value, ng: &Value, at: Instant| {
            s.answer(
                &op,
                None,
                body.to_string().as_bytes(),
                cluster("1.31"),
                Some(Lookup::Found(ng.clone())),
                at,
            )
        };
        for bad in [
            json!({ "version": "1.32" }),
            json!({ "version": "1.29" }),
            json!({ "version": "1.31", "releaseVersion": "1.30.8-20250116" }),
            json!({ "launchTemplate": { "id": "lt-2", "version": "2" } }),
        ] {
            let a = call(&mut s, bad.clone(), &moto, t0);
            assert_eq!(
                (a.status, a.error_type),
                (400, Some("InvalidParameterException")),
                "{bad}: {a:?}"
            );
        }
        let no_template = nodegroup("t1", None);
        let a = call(
            &mut s,
            json!({ "launchTemplate": { "name": "nodes", "version": "2" } }),
            &no_template,
            t0,
        );
        assert_eq!(a.status, 400, "{a:?}");

        let a = call(
            &mut s,
            json!({ "launchTemplate": { "id": "lt-1", "version": "2" } }),
            &moto,
            t0,
        );
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.body["update"]["status"], "InProgress");
        assert_eq!(
            a.body["update"]["params"],
            json!([
                { "type": "Version", "value": "1.31" },
                { "type": "ReleaseVersion", "value": "1.31.4-20250116" },
                { "type": "LaunchTemplateName", "value": "nodes" },
                { "type": "LaunchTemplateVersion", "value": "2" },
            ])
        );
        let again = call(&mut s, json!({}), &moto, t0);
        assert_eq!(
            (again.status, again.error_type),
            (409, Some("ResourceInUseException"))
        );

        let target = RewriteTarget::Nodegroup("shop".into(), "general".into());
        assert!(s.wants_rewrite(&target));
        let mut during = moto.clone();
        s.rewrite(&target, &mut during, t0);
        assert_eq!(during["nodegroup"]["status"], "UPDATING");
        assert_eq!(during["nodegroup"]["version"], "1.30");
        assert_eq!(during["nodegroup"]["launchTemplate"], template);
        let mut after = moto.clone();
        s.rewrite(&target, &mut after, later);
        assert_eq!(after["nodegroup"]["status"], "ACTIVE");
        assert_eq!(after["nodegroup"]["version"], "1.31");
        assert_eq!(after["nodegroup"]["releaseVersion"], "1.31.4-20250116");
        assert_eq!(
            after["nodegroup"]["launchTemplate"],
            json!({ "id": "lt-1", "name": "nodes", "version": "2" })
        );

        // A node group made again under the same name is not rewritten.
        let mut other = nodegroup("t2", None);
        s.rewrite(&target, &mut other, later);
        assert_eq!(other["nodegroup"]["version"], "1.30");
        assert!(!s.wants_rewrite(&target));
    }
}
