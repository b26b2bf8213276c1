//! IAM stand-in: service accounts (`/v1/projects/{p}/serviceAccounts`) with their
//! own IAM policies (Workload Identity bindings), the project's IAM policy through
//! Resource Manager (`/v3/projects/{p}:getIamPolicy` / `:setIamPolicy`, also `/v1`)
//! with the real read-modify-write etag check, the project itself
//! (`GET /v3/projects/{p}`: its number), and Service Usage's
//! `generateServiceIdentity` (the per-service agents such as Cloud SQL's).
//!
//! The policy helpers live in `policy`, shared with the other services that hold
//! IAM policies (Cloud KMS keys).
//!
//! Not modelled: keys, roles, deny policies, conditions (kept verbatim, not
//! evaluated), disabling accounts, the Workload Identity pool check (the real API
//! refuses `{p}.svc.id.goog` members while no cluster in the project has it on).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::config::GcpFakeConfig;
use super::http::{GcpAnswer, GcpRequest};
use super::peers::Peers;
use super::policy::{empty_policy, etag, policy_grants, set_policy};

/// One service account and its own IAM policy.
#[derive(Debug)]
struct Account {
    /// The account as the API returns it.
    json: Value,
    /// Who may act as it (Workload Identity users...).
    policy: Value,
}

/// The service's mutable state.
#[derive(Debug, Default)]
struct State {
    /// Service accounts by email.
    accounts: BTreeMap<String, Account>,
    /// Project IAM policies by project (as named in the path).
    projects: BTreeMap<String, Value>,
    /// Counter behind unique ids and etags.
    counter: u64,
}

/// IAM and Resource Manager state.
#[derive(Debug, Default)]
pub(crate) struct Iam {
    /// Accounts and policies.
    state: Mutex<State>,
}

/// `true` when `id` is a valid service account id (6-30 characters, lowercase
/// letters, digits and hyphens, starting with a letter, not ending with a hyphen).
fn valid_account_id(id: &str) -> bool {
    (6..=30).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The domain of a service's agent, for `generateServiceIdentity`.
fn agent_email(service: &str, number: u64) -> String {
    let short = service.split('.').next().unwrap_or(service);
    match short {
        "sqladmin" => format!("service-{number}@gcp-sa-cloud-sql.iam.gserviceaccount.com"),
        "container" => format!("service-{number}@container-engine-robot.iam.gserviceaccount.com"),
        "compute" => format!("service-{number}@compute-system.iam.gserviceaccount.com"),
        "servicenetworking" => {
            format!("service-{number}@service-networking.iam.gserviceaccount.com")
        }
        other => format!("service-{number}@gcp-sa-{other}.iam.gserviceaccount.com"),
    }
}

impl Iam {
    /// An empty service.
    pub(crate) fn new(_config: &GcpFakeConfig) -> Self {
        Self::default()
    }

    /// Answers `req` when its path is this service's; `None` otherwise.
    pub(crate) fn handle(&self, peers: &dyn Peers, req: &GcpRequest) -> Option<GcpAnswer> {
        let segs = req.segments();
        let m = req.method.as_str();
        match segs.as_slice() {
            ["v1" | "v3", "projects", last] if last.contains(':') => {
                let (project, verb) = last.split_once(':')?;
                match (m, verb) {
                    ("POST", "getIamPolicy") => Some(self.project_policy(project)),
                    ("POST", "setIamPolicy") => Some(self.set_project_policy(project, &req.body)),
                    _ => None,
                }
            }
            [v @ ("v1" | "v3"), "projects", project] if m == "GET" => {
                Some(project_info(peers, v, project))
            }
            ["v1", "projects", project, "serviceAccounts"] => match m {
                "GET" => Some(self.list_accounts(project)),
                "POST" => Some(self.create_account(project, &req.body)),
                _ => None,
            },
            ["v1", "projects", _, "serviceAccounts", last] => {
                let (id, verb) = last.split_once(':').unwrap_or((last, ""));
                match (m, verb) {
                    ("GET", "") => Some(self.with_account(id, |a| GcpAnswer::ok(a.json.clone()))),
                    ("PATCH", "") => Some(self.patch_account(id, &req.body)),
                    ("DELETE", "") => Some(self.delete_account(id)),
                    ("POST" | "GET", "getIamPolicy") => {
                        Some(self.with_account(id, |a| GcpAnswer::ok(a.policy.clone())))
                    }
                    ("POST", "setIamPolicy") => Some(self.set_account_policy(id, &req.body)),
                    _ => None,
                }
            }
            ["v1beta1", "projects", _, "services", last] => {
                let (service, verb) = last.split_once(':')?;
                (m == "POST" && verb == "generateServiceIdentity")
                    .then(|| service_identity(peers, service))
            }
            _ => None,
        }
    }

    /// Locks the state.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The project's policy (created on first read with an owner binding).
    fn project_policy(&self, project: &str) -> GcpAnswer {
        let mut st = self.lock();
        st.counter += 1;
        let fresh = etag(st.counter);
        let policy = st.projects.entry(project.to_owned()).or_insert_with(|| {
            json!({"version": 1, "etag": fresh,
                   "bindings": [{"role": "roles/owner", "members": ["user:owner@example.com"]}]})
        });
        GcpAnswer::ok(policy.clone())
    }

    /// Replaces the project's policy (read-modify-write with the etag).
    fn set_project_policy(&self, project: &str, body: &Value) -> GcpAnswer {
        let _ = self.project_policy(project);
        let mut st = self.lock();
        st.counter += 1;
        let tag = etag(st.counter);
        let current = st.projects.get(project).cloned().unwrap_or(Value::Null);
        match set_policy(&current, body, &tag) {
            Ok(policy) => {
                st.projects.insert(project.to_owned(), policy.clone());
                GcpAnswer::ok(policy)
            }
            Err(e) => e,
        }
    }

    /// Whether the project's policy binds `member` to `role`.
    pub(crate) fn project_grants(&self, project: &str, member: &str, role: &str) -> bool {
        self.lock()
            .projects
            .get(project)
            .is_some_and(|p| policy_grants(p, member, role))
    }

    /// Whether service account `email`'s own policy binds `member` to `role`.
    #[cfg_attr(not(test), allow(dead_code))] // a hook for tests and the server's state dump
    pub(crate) fn account_grants(&self, email: &str, member: &str, role: &str) -> bool {
        self.lock()
            .accounts
            .get(email)
            .is_some_and(|a| policy_grants(&a.policy, member, role))
    }

    /// `GET .../serviceAccounts`.
    fn list_accounts(&self, project: &str) -> GcpAnswer {
        let st = self.lock();
        let accounts: Vec<Value> = st
            .accounts
            .values()
            .filter(|a| project == "-" || a.json["projectId"].as_str() == Some(project))
            .map(|a| a.json.clone())
            .collect();
        if accounts.is_empty() {
            return GcpAnswer::ok(json!({}));
        }
        GcpAnswer::ok(json!({ "accounts": accounts }))
    }

    /// `POST .../serviceAccounts`.
    fn create_account(&self, project: &str, body: &Value) -> GcpAnswer {
        let account_id = body["accountId"].as_str().unwrap_or_default();
        if !valid_account_id(account_id) {
            return GcpAnswer::invalid(format!(
                "Invalid account ID: {account_id}. Account IDs must be 6-30 characters long, start with a lowercase letter, and contain only lowercase letters, digits and hyphens."
            ));
        }
        let email = format!("{account_id}@{project}.iam.gserviceaccount.com");
        let mut st = self.lock();
        if st.accounts.contains_key(&email) {
            return GcpAnswer::error(
                409,
                "ALREADY_EXISTS",
                format!("Service account {account_id} already exists within project projects/{project}."),
            );
        }
        st.counter += 1;
        let n = st.counter;
        let unique = format!("1{:020}", 4_200_000_000_000 + n);
        let sa = &body["serviceAccount"];
        let mut json = json!({
            "name": format!("projects/{project}/serviceAccounts/{email}"),
            "projectId": project,
            "uniqueId": unique,
            "email": email,
            "etag": "MDEwMjE5MjA=",
            "oauth2ClientId": unique,
        });
        for field in ["displayName", "description"] {
            if let Some(v) = sa.get(field).filter(|v| v.is_string()) {
                json[field] = v.clone();
            }
        }
        let policy = empty_policy(&etag(n));
        st.accounts.insert(
            email,
            Account {
                json: json.clone(),
                policy,
            },
        );
        GcpAnswer::ok(json)
    }

    /// Runs `f` on the account named by email or unique id; 404 otherwise.
    fn with_account(&self, id: &str, f: impl FnOnce(&mut Account) -> GcpAnswer) -> GcpAnswer {
        let mut st = self.lock();
        let found = st
            .accounts
            .iter_mut()
            .find(|(email, a)| email.as_str() == id || a.json["uniqueId"].as_str() == Some(id));
        match found {
            Some((_, account)) => f(account),
            None => GcpAnswer::error(404, "NOT_FOUND", format!("Unknown service account: {id}")),
        }
    }

    /// `PATCH .../serviceAccounts/{id}` (`displayName`, `description`).
    fn patch_account(&self, id: &str, body: &Value) -> GcpAnswer {
        let source = body.get("serviceAccount").unwrap_or(body);
        let mask = body["updateMask"]
            .as_str()
            .unwrap_or("displayName,description")
            .to_owned();
        self.with_account(id, |a| {
            for field in mask.split(',') {
                let field = field.trim();
                if matches!(field, "displayName" | "description") {
                    a.json[field] = source.get(field).cloned().unwrap_or(Value::Null);
                }
            }
            if let Some(obj) = a.json.as_object_mut() {
                obj.retain(|_, v| !v.is_null());
            }
            GcpAnswer::ok(a.json.clone())
        })
    }

    /// `DELETE .../serviceAccounts/{id}`.
    fn delete_account(&self, id: &str) -> GcpAnswer {
        let mut st = self.lock();
        let email = st
            .accounts
            .iter()
            .find(|(email, a)| email.as_str() == id || a.json["uniqueId"].as_str() == Some(id))
            .map(|(email, _)| email.clone());
        match email {
            Some(email) => {
                st.accounts.remove(&email);
                GcpAnswer::ok(json!({}))
            }
            None => GcpAnswer::error(404, "NOT_FOUND", format!("Unknown service account: {id}")),
        }
    }

    /// `POST .../serviceAccounts/{id}:setIamPolicy`.
    fn set_account_policy(&self, id: &str, body: &Value) -> GcpAnswer {
        let tag = {
            let mut st = self.lock();
            st.counter += 1;
            etag(st.counter)
        };
        self.with_account(id, |a| match set_policy(&a.policy, body, &tag) {
            Ok(policy) => {
                a.policy = policy.clone();
                GcpAnswer::ok(policy)
            }
            Err(e) => e,
        })
    }

    /// Everything it holds, as JSON.
    #[cfg_attr(not(test), allow(dead_code))] // a hook for tests and the server's state dump
    pub(crate) fn dump(&self) -> Value {
        let st = self.lock();
        let accounts: Vec<Value> = st
            .accounts
            .values()
            .map(|a| json!({"account": a.json, "policy": a.policy}))
            .collect();
        let projects: Map<String, Value> = st.projects.clone().into_iter().collect();
        json!({"serviceAccounts": accounts, "projectPolicies": projects})
    }
}

/// `GET /v3/projects/{p}` (and the `/v1` form): the project with its number.
fn project_info(peers: &dyn Peers, version: &str, project: &str) -> GcpAnswer {
    let number = peers.config().project_number;
    if version == "v3" {
        GcpAnswer::ok(json!({
            "name": format!("projects/{number}"),
            "parent": "organizations/0",
            "projectId": project,
            "state": "ACTIVE",
            "displayName": project,
        }))
    } else {
        GcpAnswer::ok(json!({
            "projectNumber": number.to_string(),
            "projectId": project,
            "lifecycleState": "ACTIVE",
            "name": project,
        }))
    }
}

/// `POST /v1beta1/projects/{p}/services/{service}:generateServiceIdentity`: a
/// finished operation whose response is the service's agent.
fn service_identity(peers: &dyn Peers, service: &str) -> GcpAnswer {
    let number = peers.config().project_number;
    let email = agent_email(service, number);
    let unique = format!("1{:020}", number);
    GcpAnswer::ok(json!({
        "name": "operations/finished.DONE_OPERATION",
        "done": true,
        "response": {
            "@type": "type.googleapis.com/google.api.serviceusage.v1beta1.ServiceIdentity",
            "email": email,
            "uniqueId": unique,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcp::world::World;

    fn call(world: &World, method: &str, path: &str, body: Value) -> GcpAnswer {
        world.handle(&GcpRequest {
            method: method.into(),
            path: path.into(),
            query: vec![],
            body,
        })
    }

    #[test]
    fn project_policy_refuses_a_stale_etag() {
        let world = World::new(GcpFakeConfig::default());
        let read = call(&world, "POST", "/v3/projects/p:getIamPolicy", json!({}));
        let tag = read.body["etag"].as_str().expect("etag").to_owned();
        let mut policy = read.body.clone();
        policy["bindings"][0]["members"]
            .as_array_mut()
            .expect("members")
            .push(json!("user:a@example.com"));
        let set = call(
            &world,
            "POST",
            "/v3/projects/p:setIamPolicy",
            json!({"policy": policy}),
        );
        assert_eq!(set.status, 200, "{:?}", set.body);
        assert_ne!(set.body["etag"].as_str(), Some(tag.as_str()));
        let stale = call(
            &world,
            "POST",
            "/v3/projects/p:setIamPolicy",
            json!({"policy": policy}),
        );
        assert_eq!(stale.status, 409);
        assert_eq!(stale.body["error"]["status"], "ABORTED");
        assert!(world
            .iam
            .project_grants("p", "user:a@example.com", "roles/owner"));
    }

    #[test]
    fn service_accounts_and_workload_identity_bindings() {
        let world = World::new(GcpFakeConfig::default());
        let body = json!({"accountId": "app-runner", "serviceAccount": {"displayName": "App"}});
        let made = call(
            &world,
            "POST",
            "/v1/projects/p/serviceAccounts",
            body.clone(),
        );
        assert_eq!(made.body["email"], "app-runner@p.iam.gserviceaccount.com");
        assert_eq!(
            call(&world, "POST", "/v1/projects/p/serviceAccounts", body).status,
            409
        );
        let unique = made.body["uniqueId"].as_str().expect("id").to_owned();
        let got = call(
            &world,
            "GET",
            &format!("/v1/projects/-/serviceAccounts/{unique}"),
            Value::Null,
        );
        assert_eq!(got.body["displayName"], "App");
        let member = "serviceAccount:p.svc.id.goog[apps/web]";
        let set = call(
            &world,
            "POST",
            "/v1/projects/p/serviceAccounts/app-runner@p.iam.gserviceaccount.com:setIamPolicy",
            json!({"policy": {"bindings": [{"role": "roles/iam.workloadIdentityUser", "members": [member]}]}}),
        );
        assert_eq!(set.status, 200, "{:?}", set.body);
        assert!(world.iam.account_grants(
            "app-runner@p.iam.gserviceaccount.com",
            member,
            "roles/iam.workloadIdentityUser"
        ));
        let bad = call(
            &world,
            "POST",
            "/v1/projects/p/serviceAccounts",
            json!({"accountId": "Bad"}),
        );
        assert_eq!(bad.status, 400);
    }

    #[test]
    fn cloud_sql_service_identity() {
        let world = World::new(GcpFakeConfig::default());
        let op = call(
            &world,
            "POST",
            "/v1beta1/projects/p/services/sqladmin.googleapis.com:generateServiceIdentity",
            json!({}),
        );
        assert_eq!(op.body["done"], true);
        assert_eq!(
            op.body["response"]["email"],
            format!(
                "service-{}@gcp-sa-cloud-sql.iam.gserviceaccount.com",
                world.config.project_number
            )
        );
    }
}
