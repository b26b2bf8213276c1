//! Cloud SQL stand-in, served with the same state at `/v1/projects/{p}/...`
//! (google-cloud-sql-v1) and `/sql/v1beta4/projects/{p}/...` (gcloud): this
//! module routes the requests and runs the instance lifecycle — insert (with the
//! Service Networking, CMEK grant and read-replica checks), get, list with
//! `filter`, patch (merge) and update (replace), delete (deletion protection,
//! final backups that outlive the instance), clone (needs PITR / binary
//! logging), promoteReplica, restart — and the `sql#operation`s each mutation
//! returns (one running operation per instance; done after `operation_polls`
//! polls of `GET .../operations/{op}`). Users and backups live in `sql_admin`,
//! the data shapes and settings rules in `sql_model`; request bodies' enum
//! numbers (as the Rust client writes them) become names first (`sql_enums`).
//!
//! Not modelled: databases, SSL certs, connect settings, imports/exports,
//! failover, PSC, Data Cache, the Tiers and Flags lists, maintenance rescheduling,
//! settings-version preconditions on update, replicas in other projects.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{json, Value};

use super::config::GcpFakeConfig;
use super::http::{GcpAnswer, GcpRequest};
use super::ops::{timestamp, Operations};
use super::peers::Peers;
use super::sql_enums;
use super::sql_model::{
    self as model, busy, invalid, no_instance, Effect, Instance, SqlOp, SqlState, User,
};
use super::util::{same_project, split_network};

/// Cloud SQL state.
#[derive(Debug)]
pub(crate) struct Sql {
    /// Operation progress (target: `project/instance`).
    pub(super) ops: Operations,
    /// Instances, backups, operations.
    pub(super) state: Mutex<SqlState>,
}

/// The role Cloud SQL's service agent needs on a CMEK key.
const KMS_ROLE: &str = "roles/cloudkms.cryptoKeyEncrypterDecrypter";

/// Where a new instance's private IP comes from.
#[derive(Debug, Default)]
pub(super) struct Placement {
    /// The reserved range's name.
    range: Option<String>,
    /// The range's first address.
    base: Option<String>,
}

impl Sql {
    /// An empty service.
    pub(crate) fn new(config: &GcpFakeConfig) -> Self {
        Self {
            ops: Operations::new(config.operation_polls),
            state: Mutex::new(SqlState::default()),
        }
    }

    /// Locks the state.
    pub(super) fn lock(&self) -> MutexGuard<'_, SqlState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers `req` when its path is this service's; `None` otherwise.
    pub(crate) fn handle(&self, peers: &dyn Peers, req: &GcpRequest) -> Option<GcpAnswer> {
        let segs = req.segments();
        let rest = match segs.as_slice() {
            ["v1", "projects", rest @ ..] => rest,
            ["sql", "v1beta4", "projects", rest @ ..] => rest,
            _ => return None,
        };
        let [project, rest @ ..] = rest else {
            return None;
        };
        let mut normalized;
        let req = if req.body.is_object() {
            normalized = req.clone();
            sql_enums::normalize(&mut normalized.body, "");
            &normalized
        } else {
            req
        };
        let m = req.method.as_str();
        let answer = match (rest, m) {
            (["instances"], "GET") => self.list(project, req.param("filter")),
            (["instances"], "POST") => self.insert(peers, project, &req.body),
            (["instances", i], "GET") => self.get(project, i),
            (["instances", i], "PATCH") => self.modify(peers, project, i, &req.body, false),
            (["instances", i], "PUT") => self.modify(peers, project, i, &req.body, true),
            (["instances", i], "DELETE") => self.delete(peers, project, i, req),
            (["instances", i, "clone"], "POST") => {
                self.clone_instance(peers, project, i, &req.body)
            }
            (["instances", i, "promoteReplica"], "POST") => self.promote(project, i),
            (["instances", i, "restart"], "POST") => self.simple_op(project, i, "RESTART"),
            (["instances", i, "restoreBackup"], "POST") => {
                self.restore(peers, project, i, &req.body)
            }
            (["instances", i, "users"], _) => self.users(project, i, req)?,
            (["instances", i, "users", name], "GET") => self.get_user(project, i, name),
            (["instances", i, "backupRuns"], "GET") => self.list_runs(project, i),
            (["instances", i, "backupRuns"], "POST") => self.insert_run(project, i, &req.body),
            (["instances", i, "backupRuns", id], "GET" | "DELETE") => self.run(project, i, id, m),
            (["backups"], "GET") => self.list_backups(project),
            (["backups", id], "GET" | "DELETE") => self.backup(project, id, m),
            (["operations"], "GET") => self.list_ops(project, req.param("instance")),
            (["operations", op], "GET") => self.poll(peers, op),
            _ => return None,
        };
        Some(answer)
    }

    /// Starts an operation on `project/instance` or answers 409.
    pub(super) fn start(&self, project: &str, instance: &str) -> Result<String, GcpAnswer> {
        self.ops
            .start(&format!("{project}/{instance}"))
            .map_err(|_| busy())
    }

    /// Records operation `name` (of type `kind` on `instance`) and, when it is
    /// already done (0 polls), applies its effect; returns its JSON.
    pub(super) fn record(
        &self,
        st: &mut SqlState,
        name: &str,
        (project, instance, kind): (&str, &str, &str),
        effect: Effect,
    ) -> GcpAnswer {
        let mut op = SqlOp {
            json: model::operation(project, instance, name, kind, &timestamp(0)),
            effect,
        };
        if self.ops.is_done(name) == Some(true) {
            finish(st, &mut op);
        }
        let json = op.json.clone();
        st.operations.insert(name.to_owned(), op);
        GcpAnswer::ok(json)
    }

    /// `GET .../operations/{op}`: counts a poll; completes the operation's effect.
    fn poll(&self, _peers: &dyn Peers, name: &str) -> GcpAnswer {
        let progress = self.ops.poll(name);
        let mut st = self.lock();
        let Some(mut op) = st.operations.remove(name) else {
            return model::sql_error(
                404,
                "NOT_FOUND",
                "operationDoesNotExist",
                format!("The Cloud SQL operation {name} does not exist."),
            );
        };
        match progress {
            Some(true) => finish(&mut st, &mut op),
            _ => op.json["status"] = json!("RUNNING"),
        }
        let json = op.json.clone();
        st.operations.insert(name.to_owned(), op);
        GcpAnswer::ok(json)
    }

    /// `GET .../operations?instance=`.
    fn list_ops(&self, project: &str, instance: Option<&str>) -> GcpAnswer {
        let st = self.lock();
        let items: Vec<Value> = st
            .operations
            .values()
            .rev()
            .filter(|o| o.json["targetProject"] == project)
            .filter(|o| instance.is_none_or(|i| o.json["targetId"] == i))
            .map(|o| o.json.clone())
            .collect();
        GcpAnswer::ok(json!({"kind": "sql#operationsList", "items": items}))
    }

    /// `GET .../instances`.
    fn list(&self, project: &str, filter: Option<&str>) -> GcpAnswer {
        let st = self.lock();
        let items: Vec<Value> = st
            .instances
            .iter()
            .filter(|((p, _), _)| p == project)
            .map(|(_, i)| &i.json)
            .filter(|j| filter.is_none_or(|f| model::matches_filter(j, f)))
            .cloned()
            .collect();
        if items.is_empty() {
            return GcpAnswer::ok(json!({"kind": "sql#instancesList"}));
        }
        GcpAnswer::ok(json!({"kind": "sql#instancesList", "items": items}))
    }

    /// `GET .../instances/{i}`.
    fn get(&self, project: &str, name: &str) -> GcpAnswer {
        match self.lock().instances.get(&key(project, name)) {
            Some(i) => GcpAnswer::ok(i.json.clone()),
            None => no_instance(),
        }
    }

    /// The checks that read other services: the private network's Service
    /// Networking connection (and range), and the CMEK key with its grant to the
    /// Cloud SQL service agent.
    fn external(peers: &dyn Peers, inst: &Value) -> Result<Placement, GcpAnswer> {
        let mut placement = Placement::default();
        let ip = &inst["settings"]["ipConfiguration"];
        if let Some(network) = ip["privateNetwork"].as_str().filter(|n| !n.is_empty()) {
            let Some((net_project, net_name)) = split_network(network) else {
                return Err(invalid(format!("Invalid private network ({network}): use projects/{{project}}/global/networks/{{network}}.")));
            };
            let number = peers.config().project_number;
            let Some(ranges) = peers.connection_ranges(&net_project, &net_name) else {
                return Err(invalid(format!(
                    "Failed to create subnetwork. Please create Service Networking connection with service 'servicenetworking.googleapis.com' from consumer project '{number}' network '{net_name}' again."
                )));
            };
            let range = match ip["allocatedIpRange"].as_str() {
                Some(r) if ranges.iter().any(|x| x == r) => r.to_owned(),
                Some(r) => {
                    return Err(invalid(format!(
                        "The allocated IP range [{r}] is not one of the reserved ranges of the Service Networking connection on network '{net_name}'."
                    )))
                }
                None => ranges.first().cloned().unwrap_or_default(),
            };
            let compute_project = peers.compute_project(&net_project, &net_name);
            placement.base = peers
                .global_address(&compute_project, &range)
                .and_then(|a| a["address"].as_str().map(str::to_owned));
            placement.range = Some(range);
        }
        if let Some(key) = inst["diskEncryptionConfiguration"]["kmsKeyName"].as_str() {
            let region = inst["region"].as_str().unwrap_or_default();
            let parts: Vec<&str> = key.split('/').collect();
            if !peers.key_exists(key) || parts.len() != 8 {
                return Err(invalid(format!(
                    "The Cloud KMS key {key} does not exist or is not accessible."
                )));
            }
            if parts[3] != region {
                return Err(invalid(format!(
                    "The Cloud KMS key location ({}) must match the instance region ({region}).",
                    parts[3]
                )));
            }
            let agent = format!(
                "serviceAccount:service-{}@gcp-sa-cloud-sql.iam.gserviceaccount.com",
                peers.config().project_number
            );
            if !peers.key_role(key, &agent, KMS_ROLE) {
                return Err(invalid(format!(
                    "The Cloud SQL service account {} lacks permission cloudkms.cryptoKeyVersions.useToEncrypt on the Cloud KMS key {key}; grant it {KMS_ROLE}.",
                    agent.trim_start_matches("serviceAccount:")
                )));
            }
        }
        Ok(placement)
    }

    /// `POST .../instances`.
    fn insert(&self, peers: &dyn Peers, project: &str, body: &Value) -> GcpAnswer {
        let mut body = body.clone();
        let master = body["masterInstanceName"]
            .as_str()
            .map(|m| m.rsplit(':').next().unwrap_or(m).to_owned());
        if let Some(master) = &master {
            if body.get("databaseVersion").is_none() {
                if let Some(m) = self.lock().instances.get(&key(project, master)) {
                    body["databaseVersion"] = m.json["databaseVersion"].clone();
                }
            }
        }
        let inst = match model::with_defaults(project, &body) {
            Ok(i) => i,
            Err(e) => return e,
        };
        let placement = match Self::external(peers, &inst) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let name = inst["name"].as_str().unwrap_or_default().to_owned();
        let k = key(project, &name);
        let mut st = self.lock();
        if let Err(e) = check_new_name(&st, &k) {
            return e;
        }
        if let Some(master) = &master {
            if let Err(e) = check_master(&st, project, master, &inst) {
                return e;
            }
        }
        let op = match self.start(project, &name) {
            Ok(op) => op,
            Err(e) => return e,
        };
        let serial = st.next();
        let number = peers.config().project_number;
        let instance = new_instance(inst, placement, serial, number);
        if let Some(master) = &master {
            if let Some(m) = st.instances.get_mut(&key(project, master)) {
                push_replica(&mut m.json, &name);
            }
        }
        st.instances.insert(k.clone(), instance);
        self.record(
            &mut st,
            &op,
            (project, &name, "CREATE"),
            Effect::Runnable {
                key: k,
                created: true,
            },
        )
    }

    /// `PATCH` (merge) or `PUT` (replace settings) `.../instances/{i}`.
    fn modify(
        &self,
        peers: &dyn Peers,
        project: &str,
        name: &str,
        body: &Value,
        replace: bool,
    ) -> GcpAnswer {
        let k = key(project, name);
        let Some(current) = self.lock().instances.get(&k).map(|i| i.json.clone()) else {
            return no_instance();
        };
        let mut next = current.clone();
        let mut patch = body.clone();
        if let Some(obj) = patch.as_object_mut() {
            for field in [
                "name",
                "project",
                "region",
                "kind",
                "state",
                "connectionName",
                "selfLink",
                "ipAddresses",
                "etag",
                "instanceType",
                "replicaNames",
                "serviceAccountEmailAddress",
                "gceZone",
                "secondaryGceZone",
                "createTime",
                "databaseInstalledVersion",
            ] {
                if let Some(v) = obj.remove(field) {
                    if !v.is_null()
                        && current.get(field).is_some_and(|c| c != &v)
                        && field == "region"
                    {
                        return invalid("The instance's region cannot be changed.");
                    }
                }
            }
        }
        if let Some(settings) = patch.get_mut("settings").and_then(Value::as_object_mut) {
            settings.remove("settingsVersion");
            settings.remove("kind");
        }
        if replace {
            let mut settings = json!({"kind": "sql#settings"});
            model::merge(&mut settings, &patch["settings"]);
            next["settings"] = settings;
            if let Some(obj) = patch.as_object_mut() {
                obj.remove("settings");
            }
        }
        model::merge(&mut next, &patch);
        next["settings"]["settingsVersion"] = current["settings"]["settingsVersion"].clone();
        model::normalize(&mut next);
        if next["diskEncryptionConfiguration"]["kmsKeyName"]
            != current["diskEncryptionConfiguration"]["kmsKeyName"]
        {
            return invalid(
                "The disk encryption configuration (CMEK key) of an instance cannot be changed.",
            );
        }
        let old_version = current["databaseVersion"].as_str().unwrap_or_default();
        let new_version = next["databaseVersion"].as_str().unwrap_or_default();
        let mut kind = "UPDATE";
        if new_version != old_version {
            let engine = |v: &str| v.split('_').next().unwrap_or_default().to_owned();
            if engine(new_version) != engine(old_version) || new_version < old_version {
                return invalid(format!("Cannot change the database version from {old_version} to {new_version}: only major version upgrades of the same engine are supported."));
            }
            kind = "MAJOR_VERSION_UPGRADE";
        }
        if let Err(e) = model::validate(&next) {
            return e;
        }
        let disk = |j: &Value| {
            j["settings"]["dataDiskSizeGb"]
                .as_str()
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(10)
        };
        if disk(&next) < disk(&current) {
            return invalid("The disk size cannot be decreased.");
        }
        let network_changed = next["settings"]["ipConfiguration"]["privateNetwork"]
            != current["settings"]["ipConfiguration"]["privateNetwork"];
        let placement = if network_changed {
            match Self::external(peers, &next) {
                Ok(p) => Some(p),
                Err(e) => return e,
            }
        } else {
            None
        };
        let mut st = self.lock();
        let op = match self.start(project, name) {
            Ok(op) => op,
            Err(e) => return e,
        };
        let serial = st.next();
        let number = peers.config().project_number;
        let Some(inst) = st.instances.get_mut(&k) else {
            return no_instance();
        };
        let version = inst.json["settings"]["settingsVersion"]
            .as_str()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1);
        next["settings"]["settingsVersion"] = json!((version + 1).to_string());
        inst.json = next;
        if let Some(p) = placement {
            inst.range = p.range;
            inst.private_ip = p
                .base
                .as_deref()
                .and_then(|b| model::ip_after(b, 2 + serial));
        }
        model::derive(inst, number, serial);
        self.record(&mut st, &op, (project, name, kind), Effect::Nothing)
    }

    /// `DELETE .../instances/{i}` (`enableFinalBackup`, `finalBackupTtlDays`,
    /// `finalBackupDescription`).
    fn delete(&self, _peers: &dyn Peers, project: &str, name: &str, req: &GcpRequest) -> GcpAnswer {
        let k = key(project, name);
        let mut st = self.lock();
        let Some(inst) = st.instances.get(&k) else {
            return no_instance();
        };
        let settings = &inst.json["settings"];
        if settings["deletionProtectionEnabled"]
            .as_bool()
            .unwrap_or(false)
        {
            return model::sql_error(
                400,
                "INVALID_ARGUMENT",
                "deletionProtectionEnabled",
                "The instance is protected. Please disable the deletion protection and try again. To disable deletion protection, update the instance settings with deletionProtectionEnabled set to false.",
            );
        }
        if inst.json["replicaNames"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            return invalid("The instance has read replicas; delete or promote them first.");
        }
        let final_backup = req.param("enableFinalBackup") == Some("true")
            || settings["finalBackupConfig"]["enabled"]
                .as_bool()
                .unwrap_or(false);
        let ttl = match req.param("finalBackupTtlDays") {
            Some(d) => match d.parse::<i64>() {
                Ok(d) if (1..=365).contains(&d) => d,
                _ => {
                    return invalid(format!(
                        "Invalid finalBackupTtlDays ({d}): it must be between 1 and 365."
                    ))
                }
            },
            None => settings["finalBackupConfig"]["retentionDays"]
                .as_i64()
                .unwrap_or(30),
        };
        let snapshot = final_backup.then(|| (inst.json.clone(), inst.users.clone()));
        let op = match self.start(project, name) {
            Ok(op) => op,
            Err(e) => return e,
        };
        if let Some((json, users)) = snapshot {
            let description = req.param("finalBackupDescription").unwrap_or_default();
            self.add_backup(
                &mut st,
                project,
                &json,
                users,
                "FINAL",
                description,
                Some(ttl),
            );
        }
        if let Some(inst) = st.instances.get_mut(&k) {
            inst.json["state"] = json!("PENDING_DELETE");
        }
        self.record(
            &mut st,
            &op,
            (project, name, "DELETE"),
            Effect::Remove { key: k },
        )
    }

    /// `POST .../instances/{i}/clone`.
    fn clone_instance(
        &self,
        peers: &dyn Peers,
        project: &str,
        source: &str,
        body: &Value,
    ) -> GcpAnswer {
        let ctx = &body["cloneContext"];
        let Some(dest) = ctx["destinationInstanceName"].as_str() else {
            return invalid("cloneContext.destinationInstanceName is required.");
        };
        if !model::valid_name(dest) {
            return invalid(format!("Invalid instance name ({dest})."));
        }
        let mut st = self.lock();
        let Some(src) = st.instances.get(&key(project, source)).cloned() else {
            return no_instance();
        };
        if src.json["state"] != "RUNNABLE" {
            return model::sql_error(
                409,
                "FAILED_PRECONDITION",
                "invalidState",
                "The instance or operation is not in an appropriate state to handle the request.",
            );
        }
        if !model::pitr_on(&src.json) {
            let what =
                if model::is_postgres(src.json["databaseVersion"].as_str().unwrap_or_default()) {
                    "point-in-time recovery (backupConfiguration.pointInTimeRecoveryEnabled)"
                } else {
                    "binary logging (backupConfiguration.binaryLogEnabled)"
                };
            return invalid(format!(
                "Cloning instance {source} requires {what} to be enabled on the source instance."
            ));
        }
        let k = key(project, dest);
        if let Err(e) = check_new_name(&st, &k) {
            return e;
        }
        let op = match self.start(project, source) {
            Ok(op) => op,
            Err(e) => return e,
        };
        let serial = st.next();
        let mut json = src.json.clone();
        json["name"] = json!(dest);
        if let Some(obj) = json.as_object_mut() {
            for field in [
                "replicaNames",
                "serviceAccountEmailAddress",
                "masterInstanceName",
                "replicaConfiguration",
            ] {
                obj.remove(field);
            }
        }
        json["settings"]["settingsVersion"] = json!("1");
        let placement = Placement {
            range: src.range.clone(),
            base: src.range.as_ref().and_then(|r| {
                let (p, _) =
                    split_network(json["settings"]["ipConfiguration"]["privateNetwork"].as_str()?)?;
                peers.global_address(&p, r)?["address"]
                    .as_str()
                    .map(str::to_owned)
            }),
        };
        let mut inst = new_instance(json, placement, serial, peers.config().project_number);
        inst.users = src.users.clone();
        st.instances.insert(k.clone(), inst);
        self.record(
            &mut st,
            &op,
            (project, source, "CLONE"),
            Effect::Runnable {
                key: k,
                created: true,
            },
        )
    }

    /// `POST .../instances/{i}/promoteReplica`.
    fn promote(&self, project: &str, name: &str) -> GcpAnswer {
        let mut st = self.lock();
        let Some(inst) = st.instances.get(&key(project, name)) else {
            return no_instance();
        };
        let Some(master) = inst.json["masterInstanceName"]
            .as_str()
            .map(|m| m.rsplit(':').next().unwrap_or(m).to_owned())
        else {
            return invalid("The instance is not a read replica.");
        };
        let op = match self.start(project, name) {
            Ok(op) => op,
            Err(e) => return e,
        };
        if let Some(m) = st.instances.get_mut(&key(project, &master)) {
            remove_replica(&mut m.json, name);
        }
        if let Some(inst) = st.instances.get_mut(&key(project, name)) {
            if let Some(obj) = inst.json.as_object_mut() {
                obj.remove("masterInstanceName");
                obj.remove("replicaConfiguration");
            }
            inst.json["instanceType"] = json!("CLOUD_SQL_INSTANCE");
        }
        self.record(
            &mut st,
            &op,
            (project, name, "PROMOTE_REPLICA"),
            Effect::Nothing,
        )
    }

    /// An operation that changes nothing modelled (`restart`).
    fn simple_op(&self, project: &str, name: &str, kind: &str) -> GcpAnswer {
        let mut st = self.lock();
        if !st.instances.contains_key(&key(project, name)) {
            return no_instance();
        }
        match self.start(project, name) {
            Ok(op) => self.record(&mut st, &op, (project, name, kind), Effect::Nothing),
            Err(e) => e,
        }
    }

    /// Names of the instances whose private IP is on `project`'s network `network`.
    pub(crate) fn instances_on_network(
        &self,
        number: u64,
        project: &str,
        network: &str,
    ) -> Vec<String> {
        self.on_network(number, project, network)
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    /// Reserved ranges that instances on `project`'s network `network` use.
    pub(crate) fn ranges_in_use(&self, number: u64, project: &str, network: &str) -> Vec<String> {
        self.on_network(number, project, network)
            .into_iter()
            .filter_map(|(_, range)| range)
            .collect()
    }

    /// (name, range) of the instances on a network.
    fn on_network(
        &self,
        number: u64,
        project: &str,
        network: &str,
    ) -> Vec<(String, Option<String>)> {
        self.lock()
            .instances
            .values()
            .filter(|i| {
                i.json["settings"]["ipConfiguration"]["privateNetwork"]
                    .as_str()
                    .and_then(split_network)
                    .is_some_and(|(p, n)| n == network && same_project(&p, project, number))
            })
            .map(|i| {
                (
                    i.json["name"].as_str().unwrap_or_default().to_owned(),
                    i.range.clone(),
                )
            })
            .collect()
    }

    /// Whether `user` of the instance has `password`.
    #[cfg_attr(not(test), allow(dead_code))] // a hook for tests and the server's state dump
    pub(crate) fn user_password_matches(
        &self,
        project: &str,
        instance: &str,
        user: &str,
        password: &str,
    ) -> bool {
        self.lock()
            .instances
            .get(&key(project, instance))
            .and_then(|i| i.users.get(user))
            .and_then(|u| u.password.as_deref())
            == Some(password)
    }

    /// The backup the instance was last restored from.
    #[cfg_attr(not(test), allow(dead_code))] // a hook for tests and the server's state dump
    pub(crate) fn restored_from(&self, project: &str, instance: &str) -> Option<String> {
        self.lock()
            .instances
            .get(&key(project, instance))?
            .restored_from
            .clone()
    }

    /// Everything it holds, as JSON (no passwords).
    #[cfg_attr(not(test), allow(dead_code))] // a hook for tests and the server's state dump
    pub(crate) fn dump(&self) -> Value {
        let st = self.lock();
        let instances: Vec<Value> = st
            .instances
            .values()
            .map(|i| {
                json!({"instance": i.json, "users": model::user_items(&i.users),
                       "backupRuns": i.runs.iter().map(|r| r.json.clone()).collect::<Vec<_>>()})
            })
            .collect();
        let backups: Vec<Value> = st.backups.values().map(|b| b.json.clone()).collect();
        let operations: Vec<Value> = st.operations.values().map(|o| o.json.clone()).collect();
        json!({"instances": instances, "backups": backups, "operations": operations})
    }
}

/// The state key of an instance.
pub(super) fn key(project: &str, name: &str) -> (String, String) {
    (project.to_owned(), name.to_owned())
}

/// Refuses a name in use or deleted (the real API reserves it for a week).
fn check_new_name(st: &SqlState, k: &(String, String)) -> Result<(), GcpAnswer> {
    if st.instances.contains_key(k) {
        return Err(model::sql_error(
            409,
            "ALREADY_EXISTS",
            "instanceAlreadyExists",
            "The Cloud SQL instance already exists.",
        ));
    }
    if st.deleted.contains(k) {
        return Err(model::sql_error(
            409,
            "ALREADY_EXISTS",
            "instanceAlreadyExists",
            "The Cloud SQL instance already exists. When you delete an instance, you can't reuse the name of the deleted instance until one week from the deletion date.",
        ));
    }
    Ok(())
}

/// A read replica's master must be RUNNABLE, a primary, with backups (and, for
/// MySQL, binary logging) on, and of the same version.
fn check_master(st: &SqlState, project: &str, master: &str, inst: &Value) -> Result<(), GcpAnswer> {
    let Some(m) = st.instances.get(&key(project, master)) else {
        return Err(invalid(format!(
            "The master instance ({master}) does not exist."
        )));
    };
    let b = &m.json["settings"]["backupConfiguration"];
    if m.json["state"] != "RUNNABLE" {
        return Err(model::sql_error(
            409,
            "FAILED_PRECONDITION",
            "invalidState",
            "The instance or operation is not in an appropriate state to handle the request.",
        ));
    }
    if m.json
        .get("masterInstanceName")
        .is_some_and(Value::is_string)
    {
        return Err(invalid(
            "A read replica cannot be the master of another replica in paved-gcp-fake.",
        ));
    }
    if !b["enabled"].as_bool().unwrap_or(false) {
        return Err(invalid(
            "Backups must be enabled on the master instance to create a read replica.",
        ));
    }
    let version = m.json["databaseVersion"].as_str().unwrap_or_default();
    if !model::is_postgres(version) && !b["binaryLogEnabled"].as_bool().unwrap_or(false) {
        return Err(invalid(
            "Binary logging must be enabled on the master instance to create a MySQL read replica.",
        ));
    }
    if inst["databaseVersion"] != m.json["databaseVersion"] {
        return Err(invalid(
            "A read replica must have the same database version as its master.",
        ));
    }
    Ok(())
}

/// A new instance in PENDING_CREATE with its default users.
fn new_instance(mut json: Value, placement: Placement, serial: u64, number: u64) -> Instance {
    let now = timestamp(0);
    json["state"] = json!("PENDING_CREATE");
    json["createTime"] = json!(now);
    json["settings"]["settingsVersion"] = json!("1");
    let project = json["project"].as_str().unwrap_or_default().to_owned();
    let name = json["name"].as_str().unwrap_or_default().to_owned();
    let postgres = model::is_postgres(json["databaseVersion"].as_str().unwrap_or_default());
    let mut users = BTreeMap::new();
    let (user, host) = if postgres {
        ("postgres", None)
    } else {
        ("root", Some("%"))
    };
    let mut user_json =
        json!({"kind": "sql#user", "name": user, "instance": name, "project": project, "etag": ""});
    if let Some(h) = host {
        user_json["host"] = json!(h);
    }
    users.insert(
        user.to_owned(),
        User {
            json: user_json,
            password: None,
        },
    );
    let private_ip = placement
        .base
        .as_deref()
        .and_then(|b| model::ip_after(b, 2 + serial));
    let mut inst = Instance {
        json,
        users,
        runs: Vec::new(),
        private_ip,
        range: placement.range,
        restored_from: None,
    };
    model::derive(&mut inst, number, serial);
    inst
}

/// Adds `name` to a master's `replicaNames`.
fn push_replica(master: &mut Value, name: &str) {
    match master["replicaNames"].as_array_mut() {
        Some(names) => names.push(json!(name)),
        None => master["replicaNames"] = json!([name]),
    }
}

/// Removes `name` from a master's `replicaNames`.
fn remove_replica(master: &mut Value, name: &str) {
    if let Some(names) = master["replicaNames"].as_array_mut() {
        names.retain(|n| n != name);
        if names.is_empty() {
            if let Some(obj) = master.as_object_mut() {
                obj.remove("replicaNames");
            }
        }
    }
}

/// Completes `op`: DONE, `endTime`, its effect applied once.
fn finish(st: &mut SqlState, op: &mut SqlOp) {
    if op.json["status"] == "DONE" {
        return;
    }
    op.json["status"] = json!("DONE");
    op.json["endTime"] = json!(timestamp(0));
    match std::mem::replace(&mut op.effect, Effect::Nothing) {
        Effect::Nothing => {}
        Effect::Runnable { key, created } => {
            let run_id = st.next();
            if let Some(inst) = st.instances.get_mut(&key) {
                inst.json["state"] = json!("RUNNABLE");
                let backups = inst.json["settings"]["backupConfiguration"]["enabled"]
                    .as_bool()
                    .unwrap_or(false);
                if created && backups {
                    let run = model::backup_run(&inst.json, run_id, "AUTOMATED", "");
                    inst.runs.push(model::Snapshot {
                        json: run,
                        users: inst.users.clone(),
                    });
                }
            }
        }
        Effect::Remove { key } => {
            if let Some(inst) = st.instances.remove(&key) {
                if let Some(master) = inst.json["masterInstanceName"].as_str() {
                    let master = master.rsplit(':').next().unwrap_or(master).to_owned();
                    if let Some(m) = st.instances.get_mut(&(key.0.clone(), master)) {
                        remove_replica(&mut m.json, &key.1);
                    }
                }
            }
            st.deleted.insert(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcp::world::World;

    /// One request to the world.
    fn call(
        world: &World,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Value,
    ) -> GcpAnswer {
        world.handle(&GcpRequest {
            method: method.into(),
            path: path.into(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            body,
        })
    }

    /// A world with network `vpc`, its peering range and (optionally) the
    /// Service Networking connection.
    fn world(polls: u32, connect: bool) -> World {
        let world = World::new(GcpFakeConfig::default().with_operation_polls(polls));
        let net = call(
            &world,
            "POST",
            "/compute/v1/projects/p/global/networks",
            &[],
            json!({"name": "vpc", "autoCreateSubnetworks": false}),
        );
        assert_eq!(net.status, 200, "{:?}", net.body);
        let addr = call(
            &world,
            "POST",
            "/compute/v1/projects/p/global/addresses",
            &[],
            json!({"name": "psa", "purpose": "VPC_PEERING", "addressType": "INTERNAL",
                               "prefixLength": 16, "network": "projects/p/global/networks/vpc"}),
        );
        assert_eq!(addr.status, 200, "{:?}", addr.body);
        if connect {
            let number = world.config.project_number;
            let op = call(
                &world,
                "POST",
                "/v1/services/servicenetworking.googleapis.com/connections",
                &[],
                json!({"network": format!("projects/{number}/global/networks/vpc"),
                                 "reservedPeeringRanges": ["psa"]}),
            );
            assert_eq!(op.status, 200, "{:?}", op.body);
        }
        world
    }

    /// A private Postgres 15 instance body.
    fn pg(name: &str) -> Value {
        json!({"name": name, "databaseVersion": "POSTGRES_15", "region": "europe-west1",
               "settings": {"tier": "db-custom-2-7680",
                            "backupConfiguration": {"enabled": true, "pointInTimeRecoveryEnabled": true},
                            "ipConfiguration": {"ipv4Enabled": false,
                                                "privateNetwork": "projects/p/global/networks/vpc"}}})
    }

    #[test]
    fn private_ip_needs_the_service_networking_connection() {
        let world = world(0, false);
        let refused = call(&world, "POST", "/v1/projects/p/instances", &[], pg("db"));
        assert_eq!(refused.status, 400);
        let msg = refused.body["error"]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            msg.contains("Please create Service Networking connection"),
            "{msg}"
        );
        let world = world_connected();
        let made = call(
            &world,
            "POST",
            "/sql/v1beta4/projects/p/instances",
            &[],
            pg("db"),
        );
        assert_eq!(made.body["status"], "DONE", "{:?}", made.body);
        let got = call(
            &world,
            "GET",
            "/v1/projects/p/instances/db",
            &[],
            Value::Null,
        );
        assert_eq!(got.body["state"], "RUNNABLE");
        assert_eq!(got.body["ipAddresses"][0]["type"], "PRIVATE");
        assert!(got.body["ipAddresses"][0]["ipAddress"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("10.")));
        assert_eq!(got.body["connectionName"], "p:europe-west1:db");
        let net = world.compute.network_json("p", "vpc").expect("network");
        assert_eq!(
            net["peerings"][0]["name"],
            "servicenetworking-googleapis-com"
        );
    }

    /// A connected world, operations done at once.
    fn world_connected() -> World {
        world(0, true)
    }

    #[test]
    fn one_operation_at_a_time_and_settings_version() {
        let world = world(2, true);
        let op = call(&world, "POST", "/v1/projects/p/instances", &[], pg("db"));
        assert_eq!(op.body["status"], "PENDING");
        let patch = json!({"settings": {"userLabels": {"team": "a"}}});
        let busy = call(
            &world,
            "PATCH",
            "/v1/projects/p/instances/db",
            &[],
            patch.clone(),
        );
        assert_eq!(busy.status, 409);
        assert_eq!(
            busy.body["error"]["errors"][0]["reason"],
            "operationInProgress"
        );
        let name = op.body["name"].as_str().expect("op name").to_owned();
        let path = format!("/v1/projects/p/operations/{name}");
        assert_eq!(
            call(&world, "GET", &path, &[], Value::Null).body["status"],
            "RUNNING"
        );
        assert_eq!(
            call(&world, "GET", &path, &[], Value::Null).body["status"],
            "DONE"
        );
        let ok = call(&world, "PATCH", "/v1/projects/p/instances/db", &[], patch);
        assert_eq!(ok.status, 200, "{:?}", ok.body);
        let got = call(
            &world,
            "GET",
            "/v1/projects/p/instances/db",
            &[],
            Value::Null,
        );
        assert_eq!(got.body["settings"]["settingsVersion"], "2");
        assert_eq!(got.body["settings"]["userLabels"]["team"], "a");
        let listed = call(
            &world,
            "GET",
            "/v1/projects/p/instances",
            &[("filter", "settings.userLabels.team:a")],
            Value::Null,
        );
        assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
        let none = call(
            &world,
            "GET",
            "/v1/projects/p/instances",
            &[("filter", "settings.userLabels.team:b")],
            Value::Null,
        );
        assert!(none.body.get("items").is_none());
    }

    #[test]
    fn cmek_needs_the_service_agent_grant() {
        let world = world_connected();
        let kms = "/v1/projects/p/locations/europe-west1/keyRings";
        call(&world, "POST", kms, &[("keyRingId", "r")], json!({}));
        call(
            &world,
            "POST",
            &format!("{kms}/r/cryptoKeys"),
            &[("cryptoKeyId", "k")],
            json!({"purpose": "ENCRYPT_DECRYPT"}),
        );
        let key = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k";
        let mut body = pg("db");
        body["diskEncryptionConfiguration"] = json!({"kmsKeyName": key});
        let refused = call(
            &world,
            "POST",
            "/v1/projects/p/instances",
            &[],
            body.clone(),
        );
        assert_eq!(refused.status, 400);
        assert!(refused
            .body
            .to_string()
            .contains("cryptoKeyEncrypterDecrypter"));
        let agent = call(
            &world,
            "POST",
            "/v1beta1/projects/p/services/sqladmin.googleapis.com:generateServiceIdentity",
            &[],
            json!({}),
        );
        let email = agent.body["response"]["email"]
            .as_str()
            .expect("email")
            .to_owned();
        let set = call(
            &world,
            "POST",
            &format!("{kms}/r/cryptoKeys/k:setIamPolicy"),
            &[],
            json!({"policy": {"bindings": [{"role": KMS_ROLE, "members": [format!("serviceAccount:{email}")]}]}}),
        );
        assert_eq!(set.status, 200);
        let made = call(&world, "POST", "/v1/projects/p/instances", &[], body);
        assert_eq!(made.status, 200, "{:?}", made.body);
        let got = call(
            &world,
            "GET",
            "/v1/projects/p/instances/db",
            &[],
            Value::Null,
        );
        assert!(got.body["diskEncryptionStatus"]["kmsKeyVersionName"]
            .as_str()
            .is_some());
    }

    #[test]
    fn protection_final_backup_restore_and_connection_dead_end() {
        let world = world_connected();
        let mut body = pg("db");
        body["settings"]["deletionProtectionEnabled"] = json!(true);
        call(&world, "POST", "/v1/projects/p/instances", &[], body);
        let user = call(
            &world,
            "POST",
            "/v1/projects/p/instances/db/users",
            &[],
            json!({"name": "app", "password": "s3cret"}),
        );
        assert_eq!(user.status, 200, "{:?}", user.body);
        assert!(world.sql.user_password_matches("p", "db", "app", "s3cret"));
        let users = call(
            &world,
            "GET",
            "/v1/projects/p/instances/db/users",
            &[],
            Value::Null,
        );
        assert!(!users.body.to_string().contains("s3cret"));
        let refused = call(
            &world,
            "DELETE",
            "/v1/projects/p/instances/db",
            &[],
            Value::Null,
        );
        assert_eq!(refused.status, 400);
        assert!(refused
            .body
            .to_string()
            .contains("deletionProtectionEnabled"));
        let number = world.config.project_number;
        let network = format!("projects/{number}/global/networks/vpc");
        let del = call(&world, "POST", "/v1/services/servicenetworking.googleapis.com/connections/servicenetworking-googleapis-com:deleteConnection",
                       &[], json!({"consumerNetwork": network}));
        assert_eq!(del.body["error"]["code"], 9, "{:?}", del.body);
        call(
            &world,
            "PATCH",
            "/v1/projects/p/instances/db",
            &[],
            json!({"settings": {"deletionProtectionEnabled": false}}),
        );
        let gone = call(
            &world,
            "DELETE",
            "/v1/projects/p/instances/db",
            &[("enableFinalBackup", "true"), ("finalBackupTtlDays", "7")],
            Value::Null,
        );
        assert_eq!(gone.status, 200, "{:?}", gone.body);
        assert_eq!(
            call(
                &world,
                "GET",
                "/v1/projects/p/instances/db",
                &[],
                Value::Null
            )
            .status,
            404
        );
        let backups = call(&world, "GET", "/v1/projects/p/backups", &[], Value::Null);
        let backup = backups.body["backups"][0]["name"]
            .as_str()
            .expect("final backup")
            .to_owned();
        assert_eq!(backups.body["backups"][0]["type"], "FINAL");
        let again = call(&world, "POST", "/v1/projects/p/instances", &[], pg("db"));
        assert_eq!(again.status, 409, "deleted names are reserved");
        call(&world, "POST", "/v1/projects/p/instances", &[], pg("db2"));
        let restored = call(
            &world,
            "POST",
            "/v1/projects/p/instances/db2/restoreBackup",
            &[],
            json!({"backup": backup}),
        );
        assert_eq!(
            restored.body["operationType"], "RESTORE_VOLUME",
            "{:?}",
            restored.body
        );
        assert!(world.sql.user_password_matches("p", "db2", "app", "s3cret"));
        assert_eq!(
            world.sql.restored_from("p", "db2").as_deref(),
            Some(backup.as_str())
        );
        call(
            &world,
            "DELETE",
            "/v1/projects/p/instances/db2",
            &[],
            Value::Null,
        );
        let del = call(&world, "POST", "/v1/services/servicenetworking.googleapis.com/connections/servicenetworking-googleapis-com:deleteConnection",
                       &[], json!({"consumerNetwork": network}));
        assert_eq!(del.body["done"], true);
        assert!(del.body.get("error").is_none(), "{:?}", del.body);
        assert_eq!(world.networking.dump()["connections"], json!([]));
        assert!(world.sql.dump()["backups"][0]["name"].is_string());
        assert!(world.kms.dump()["cryptoKeys"].is_array());
        assert!(world.iam.dump()["serviceAccounts"].is_array());
    }

    #[test]
    fn clone_needs_pitr_and_mysql_rules() {
        let world = world_connected();
        let mut body = pg("nopitr");
        body["settings"]["backupConfiguration"] = json!({"enabled": true});
        call(&world, "POST", "/v1/projects/p/instances", &[], body);
        let refused = call(
            &world,
            "POST",
            "/v1/projects/p/instances/nopitr/clone",
            &[],
            json!({"cloneContext": {"destinationInstanceName": "copy"}}),
        );
        assert_eq!(refused.status, 400);
        call(&world, "POST", "/v1/projects/p/instances", &[], pg("src"));
        let cloned = call(
            &world,
            "POST",
            "/v1/projects/p/instances/src/clone",
            &[],
            json!({"cloneContext": {"destinationInstanceName": "copy"}}),
        );
        assert_eq!(cloned.body["operationType"], "CLONE", "{:?}", cloned.body);
        assert_eq!(
            call(
                &world,
                "GET",
                "/v1/projects/p/instances/copy",
                &[],
                Value::Null
            )
            .body["state"],
            "RUNNABLE"
        );
        let mut mysql = pg("my");
        mysql["databaseVersion"] = json!("MYSQL_8_0");
        let refused = call(
            &world,
            "POST",
            "/v1/projects/p/instances",
            &[],
            mysql.clone(),
        );
        assert_eq!(refused.status, 400, "MySQL PITR needs binary logging");
        mysql["settings"]["backupConfiguration"] =
            json!({"enabled": true, "binaryLogEnabled": true});
        assert_eq!(
            call(&world, "POST", "/v1/projects/p/instances", &[], mysql).status,
            200
        );
        let mut pg16 = pg("new");
        pg16["databaseVersion"] = json!("POSTGRES_16");
        let refused = call(&world, "POST", "/v1/projects/p/instances", &[], pg16);
        assert!(
            refused.body.to_string().contains("ENTERPRISE_PLUS"),
            "{:?}",
            refused.body
        );
    }
}
