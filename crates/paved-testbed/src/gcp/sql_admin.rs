//! Cloud SQL users and backups: `instances/{i}/users` (insert, list without
//! passwords, update `?name=`, delete `?name=`, get), `instances/{i}/backupRuns`
//! (automated and on-demand runs, deleted with their instance), the project's
//! `backups` collection (final backups that outlive their instance) and
//! `restoreBackup` from either. Each mutation is a `sql#operation` on the
//! instance, under the one-operation-at-a-time rule.

use serde_json::{json, Value};

use super::http::{GcpAnswer, GcpRequest};
use super::ops::timestamp;
use super::peers::Peers;
use super::sql::{key, Sql};
use super::sql_model::{
    self as model, backup_run, invalid, no_instance, Effect, Snapshot, SqlState, User, RUN_ID_BASE,
    SELF_BASE,
};

/// The database flag that turns on IAM authentication for the engine.
fn iam_flag(postgres: bool) -> &'static str {
    if postgres {
        "cloudsql.iam_authentication"
    } else {
        "cloudsql_iam_authentication"
    }
}

impl Sql {
    /// `instances/{i}/users` with any method: `None` for methods not modelled.
    pub(super) fn users(
        &self,
        project: &str,
        instance: &str,
        req: &GcpRequest,
    ) -> Option<GcpAnswer> {
        let k = key(project, instance);
        let mut st = self.lock();
        let Some(inst) = st.instances.get(&k) else {
            return Some(no_instance());
        };
        let postgres =
            model::is_postgres(inst.json["databaseVersion"].as_str().unwrap_or_default());
        let name = req.param("name").map(str::to_owned);
        let (kind, user) = match req.method.as_str() {
            "GET" => {
                return Some(GcpAnswer::ok(
                    json!({"kind": "sql#usersList", "items": model::user_items(&inst.users)}),
                ))
            }
            "POST" => match new_user(&inst.json, postgres, &req.body) {
                Ok(u) => ("CREATE_USER", u),
                Err(e) => return Some(e),
            },
            "PUT" | "DELETE" => {
                let Some(name) = name.filter(|n| inst.users.contains_key(n)) else {
                    return Some(model::sql_error(
                        404,
                        "NOT_FOUND",
                        "userDoesNotExist",
                        "The user does not exist.",
                    ));
                };
                let kind = if req.method == "PUT" {
                    "UPDATE_USER"
                } else {
                    "DELETE_USER"
                };
                (kind, name)
            }
            _ => return None,
        };
        if kind == "CREATE_USER" && inst.users.contains_key(&user) {
            return Some(model::sql_error(
                409,
                "ALREADY_EXISTS",
                "userAlreadyExists",
                format!("The user {user} already exists."),
            ));
        }
        let op = match self.start(project, instance) {
            Ok(op) => op,
            Err(e) => return Some(e),
        };
        let Some(inst) = st.instances.get_mut(&k) else {
            return Some(no_instance());
        };
        match kind {
            "CREATE_USER" => {
                let password = req.body["password"].as_str().map(str::to_owned);
                let mut json = json!({"kind": "sql#user", "name": user, "instance": instance,
                                      "project": project, "etag": ""});
                if !postgres {
                    json["host"] = json!(req.body["host"].as_str().unwrap_or("%"));
                }
                if let Some(t) = req.body["type"].as_str().filter(|t| *t != "BUILT_IN") {
                    json["type"] = json!(t);
                }
                inst.users.insert(user.clone(), User { json, password });
            }
            "UPDATE_USER" => {
                if let Some(u) = inst.users.get_mut(&user) {
                    if let Some(p) = req.body["password"].as_str() {
                        u.password = Some(p.to_owned());
                    }
                }
            }
            _ => {
                inst.users.remove(&user);
            }
        }
        Some(self.record(&mut st, &op, (project, instance, kind), Effect::Nothing))
    }

    /// `GET instances/{i}/users/{name}`.
    pub(super) fn get_user(&self, project: &str, instance: &str, name: &str) -> GcpAnswer {
        let st = self.lock();
        let Some(inst) = st.instances.get(&key(project, instance)) else {
            return no_instance();
        };
        match inst.users.get(name) {
            Some(u) => GcpAnswer::ok(u.json.clone()),
            None => model::sql_error(
                404,
                "NOT_FOUND",
                "userDoesNotExist",
                "The user does not exist.",
            ),
        }
    }

    /// `GET instances/{i}/backupRuns` (newest first).
    pub(super) fn list_runs(&self, project: &str, instance: &str) -> GcpAnswer {
        let st = self.lock();
        let Some(inst) = st.instances.get(&key(project, instance)) else {
            return no_instance();
        };
        let items: Vec<Value> = inst.runs.iter().rev().map(|r| r.json.clone()).collect();
        if items.is_empty() {
            return GcpAnswer::ok(json!({"kind": "sql#backupRunsList"}));
        }
        GcpAnswer::ok(json!({"kind": "sql#backupRunsList", "items": items}))
    }

    /// `POST instances/{i}/backupRuns`: an on-demand backup.
    pub(super) fn insert_run(&self, project: &str, instance: &str, body: &Value) -> GcpAnswer {
        let k = key(project, instance);
        let mut st = self.lock();
        match st.instances.get(&k) {
            None => return no_instance(),
            Some(i)
                if i.json
                    .get("masterInstanceName")
                    .is_some_and(Value::is_string) =>
            {
                return invalid("Backups are not supported for read replicas.")
            }
            Some(_) => {}
        }
        let op = match self.start(project, instance) {
            Ok(op) => op,
            Err(e) => return e,
        };
        let serial = st.next();
        if let Some(inst) = st.instances.get_mut(&k) {
            let run = backup_run(
                &inst.json,
                serial,
                "ON_DEMAND",
                body["description"].as_str().unwrap_or_default(),
            );
            inst.runs.push(Snapshot {
                json: run,
                users: inst.users.clone(),
            });
        }
        self.record(
            &mut st,
            &op,
            (project, instance, "BACKUP_VOLUME"),
            Effect::Nothing,
        )
    }

    /// `GET` or `DELETE instances/{i}/backupRuns/{id}`.
    pub(super) fn run(&self, project: &str, instance: &str, id: &str, method: &str) -> GcpAnswer {
        let k = key(project, instance);
        let mut st = self.lock();
        let Some(inst) = st.instances.get(&k) else {
            return no_instance();
        };
        let Some(pos) = inst.runs.iter().position(|r| r.json["id"] == id) else {
            return model::sql_error(
                404,
                "NOT_FOUND",
                "backupRunDoesNotExist",
                "The backup run does not exist.",
            );
        };
        if method == "GET" {
            return GcpAnswer::ok(inst.runs[pos].json.clone());
        }
        let op = match self.start(project, instance) {
            Ok(op) => op,
            Err(e) => return e,
        };
        if let Some(inst) = st.instances.get_mut(&k) {
            inst.runs.remove(pos);
        }
        self.record(
            &mut st,
            &op,
            (project, instance, "DELETE_BACKUP"),
            Effect::Nothing,
        )
    }

    /// Adds a backup of `inst` to the project's `backups` collection.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_backup(
        &self,
        st: &mut SqlState,
        project: &str,
        inst: &Value,
        users: std::collections::BTreeMap<String, User>,
        kind: &str,
        description: &str,
        ttl_days: Option<i64>,
    ) -> String {
        let serial = st.next();
        let id = RUN_ID_BASE + serial;
        let name = format!("projects/{project}/backups/{id}");
        let now = timestamp(0);
        let mut json = json!({
            "kind": "sql#backup",
            "name": name,
            "type": kind,
            "state": "SUCCESSFUL",
            "instance": inst["name"],
            "databaseVersion": inst["databaseVersion"],
            "location": inst["region"],
            "backupKind": "SNAPSHOT",
            "backupInterval": {"startTime": now, "endTime": now},
            "instanceSettings": inst,
            "selfLink": format!("{SELF_BASE}/{name}"),
        });
        if !description.is_empty() {
            json["description"] = json!(description);
        }
        if let Some(days) = ttl_days {
            json["ttlDays"] = json!(days.to_string());
            json["expiryTime"] = json!(timestamp(days * 86_400));
        }
        if let Some(key) = inst["diskEncryptionConfiguration"]["kmsKeyName"].as_str() {
            json["kmsKey"] = json!(key);
        }
        st.backups.insert(name.clone(), Snapshot { json, users });
        name
    }

    /// `GET projects/{p}/backups`.
    pub(super) fn list_backups(&self, project: &str) -> GcpAnswer {
        let st = self.lock();
        let prefix = format!("projects/{project}/backups/");
        let backups: Vec<Value> = st
            .backups
            .iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .map(|(_, b)| b.json.clone())
            .collect();
        if backups.is_empty() {
            return GcpAnswer::ok(json!({}));
        }
        GcpAnswer::ok(json!({ "backups": backups }))
    }

    /// `GET` or `DELETE projects/{p}/backups/{id}`.
    pub(super) fn backup(&self, project: &str, id: &str, method: &str) -> GcpAnswer {
        let name = format!("projects/{project}/backups/{id}");
        let mut st = self.lock();
        let Some(backup) = st.backups.get(&name) else {
            return model::sql_error(
                404,
                "NOT_FOUND",
                "backupDoesNotExist",
                format!("The backup {name} does not exist."),
            );
        };
        if method == "GET" {
            return GcpAnswer::ok(backup.json.clone());
        }
        let instance = backup.json["instance"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let op = match self.start(project, &format!("backups/{id}")) {
            Ok(op) => op,
            Err(e) => return e,
        };
        st.backups.remove(&name);
        self.record(
            &mut st,
            &op,
            (project, &instance, "DELETE_BACKUP"),
            Effect::Nothing,
        )
    }

    /// `POST instances/{i}/restoreBackup` from a backup run
    /// (`restoreBackupContext`) or a project backup (`backup`).
    pub(super) fn restore(
        &self,
        _peers: &dyn Peers,
        project: &str,
        target: &str,
        body: &Value,
    ) -> GcpAnswer {
        let k = key(project, target);
        let mut st = self.lock();
        let Some(inst) = st.instances.get(&k) else {
            return no_instance();
        };
        let found = if let Some(name) = body["backup"].as_str() {
            st.backups.get(name).cloned().map(|b| (name.to_owned(), b))
        } else {
            let ctx = &body["restoreBackupContext"];
            let source = ctx["instanceId"].as_str().unwrap_or(target);
            let id = match &ctx["backupRunId"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let source_project = ctx["project"].as_str().unwrap_or(project);
            st.instances
                .get(&key(source_project, source))
                .and_then(|s| s.runs.iter().find(|r| r.json["id"] == id.as_str()))
                .cloned()
                .map(|r| (format!("{source}/backupRuns/{id}"), r))
        };
        let Some((from, snapshot)) = found else {
            return model::sql_error(
                404,
                "NOT_FOUND",
                "backupRunDoesNotExist",
                "The backup does not exist.",
            );
        };
        let backup_version = snapshot.json["databaseVersion"]
            .as_str()
            .unwrap_or_default();
        if inst.json["databaseVersion"] != backup_version {
            return invalid(format!(
                "The backup's database version ({backup_version}) does not match the target instance's ({}).",
                inst.json["databaseVersion"].as_str().unwrap_or_default()
            ));
        }
        if inst.json["replicaNames"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            return invalid("Cannot restore a backup to an instance that has read replicas.");
        }
        let disk = |j: &Value| {
            j["settings"]["dataDiskSizeGb"]
                .as_str()
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(10)
        };
        let source_disk = snapshot.json.get("instanceSettings").map(&disk);
        if source_disk.is_some_and(|d| d > disk(&inst.json)) {
            return invalid("The target instance's disk must be at least as large as the backup's instance disk.");
        }
        let op = match self.start(project, target) {
            Ok(op) => op,
            Err(e) => return e,
        };
        if let Some(inst) = st.instances.get_mut(&k) {
            inst.json["state"] = json!("MAINTENANCE");
            inst.users = snapshot.users.clone();
            for user in inst.users.values_mut() {
                user.json["instance"] = json!(target);
            }
            inst.restored_from = Some(from);
        }
        self.record(
            &mut st,
            &op,
            (project, target, "RESTORE_VOLUME"),
            Effect::Runnable {
                key: k,
                created: false,
            },
        )
    }
}

/// The name of a new user after the engine's rules.
fn new_user(inst: &Value, postgres: bool, body: &Value) -> Result<String, GcpAnswer> {
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return Err(invalid("The user name is required."));
    };
    let kind = body["type"].as_str().unwrap_or("BUILT_IN");
    match kind {
        "BUILT_IN" => {}
        "CLOUD_IAM_USER" | "CLOUD_IAM_SERVICE_ACCOUNT" | "CLOUD_IAM_GROUP" => {
            let flag = iam_flag(postgres);
            if !model::flag_on(inst, flag) {
                return Err(invalid(format!(
                    "Cloud SQL IAM authentication is not enabled for this instance: set the database flag {flag} to on."
                )));
            }
            if body.get("password").is_some_and(|p| !p.is_null()) {
                return Err(invalid("Cloud IAM users cannot have a password."));
            }
            if postgres
                && kind == "CLOUD_IAM_SERVICE_ACCOUNT"
                && name.ends_with(".gserviceaccount.com")
            {
                return Err(invalid(format!(
                    "For Cloud IAM service accounts on PostgreSQL, the user name is the service account email without the .gserviceaccount.com suffix ({})",
                    name.trim_end_matches(".gserviceaccount.com")
                )));
            }
        }
        other => return Err(invalid(format!("Invalid user type ({other})."))),
    }
    Ok(name.to_owned())
}
