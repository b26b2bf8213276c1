//! The Cloud SQL Admin calls, through the typed client (google-cloud-sql-v1) and
//! the shared retry ([`gax`]): instances are read as JSON views in the REST
//! reference's shape with their enums by name ([`instance_view`]: the proto-built
//! models write enums as numbers), the one shape the rest of the adapter reads;
//! mutations ([`Mutation`]) are typed requests, built with the typed setters or
//! from that JSON shape ([`model`]), and each one's `sql#operation` is waited for
//! through the Operations service ([`wait::sql`]). Cloud SQL's
//! `operationInProgress` (another operation on the instance) is retried like
//! throttling ([`GcpFailure::retryability`]).
//!
//! [`model`]: crate::cloud::gcp::call::model
//! [`GcpFailure::retryability`]: crate::cloud::gcp::call::GcpFailure::retryability

use google_cloud_sql_v1::model::{
    operation::SqlOperationStatus, DatabaseInstance, InstancesCloneRequest,
    InstancesRestoreBackupRequest, Operation, User,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::rest::fail;
use super::secret::quiet;
use super::GcpDatabaseBackend;
use crate::cloud::gcp::call::{gax, model, unless_gone};
use crate::cloud::gcp::wait::{self, view};
use crate::stack::{BackendError, StackContext};

/// A change to an instance, sent with [`GcpDatabaseBackend::mutate`].
pub(super) enum Mutation {
    /// `instances.insert`: a new instance or read replica.
    Insert(Box<DatabaseInstance>),
    /// `instances.patch` of the named instance: the given fields merged in.
    Patch(String, Box<DatabaseInstance>),
    /// `instances.update` of the named instance: its settings replaced (to take
    /// a label off or clear the flags, which a typed patch cannot say).
    Update(String, Box<DatabaseInstance>),
    /// `instances.restoreBackup` into the named instance.
    RestoreBackup(String, Box<InstancesRestoreBackupRequest>),
    /// `instances.clone` of the named (source) instance.
    Clone(String, Box<InstancesCloneRequest>),
}

/// Sets the string at `pointer` of `v`, when the view has that field and the
/// enum has a name.
fn name_at(v: &mut Value, pointer: &str, name: Option<&str>) {
    if let (Some(slot), Some(name)) = (v.pointer_mut(pointer), name) {
        *slot = Value::from(name);
    }
}

/// An instance's JSON view with the enums the REST reference shows by name
/// (`state`, `databaseVersion`, `settings.availabilityType`, `ipAddresses[].type`,
/// ...); fields at their default stay absent, as in the REST answer.
pub(super) fn instance_view(inst: &DatabaseInstance) -> Value {
    let mut v = view(inst);
    name_at(&mut v, "/state", inst.state.name());
    name_at(&mut v, "/databaseVersion", inst.database_version.name());
    name_at(&mut v, "/instanceType", inst.instance_type.name());
    name_at(&mut v, "/backendType", inst.backend_type.name());
    name_at(
        &mut v,
        "/sqlNetworkArchitecture",
        inst.sql_network_architecture
            .as_ref()
            .and_then(|a| a.name()),
    );
    for (i, a) in inst.ip_addresses.iter().enumerate() {
        name_at(&mut v, &format!("/ipAddresses/{i}/type"), a.r#type.name());
    }
    let Some(s) = &inst.settings else {
        return v;
    };
    for (pointer, name) in [
        ("availabilityType", s.availability_type.name()),
        ("pricingPlan", s.pricing_plan.name()),
        ("activationPolicy", s.activation_policy.name()),
        ("dataDiskType", s.data_disk_type.name()),
        ("edition", s.edition.name()),
        ("connectorEnforcement", s.connector_enforcement.name()),
    ] {
        name_at(&mut v, &format!("/settings/{pointer}"), name);
    }
    if let Some(ip) = &s.ip_configuration {
        name_at(
            &mut v,
            "/settings/ipConfiguration/sslMode",
            ip.ssl_mode.name(),
        );
        name_at(
            &mut v,
            "/settings/ipConfiguration/serverCaMode",
            ip.server_ca_mode.as_ref().and_then(|m| m.name()),
        );
    }
    if let Some(b) = &s.backup_configuration {
        name_at(
            &mut v,
            "/settings/backupConfiguration/backupTier",
            b.backup_tier.as_ref().and_then(|t| t.name()),
        );
        name_at(
            &mut v,
            "/settings/backupConfiguration/transactionalLogStorageState",
            b.transactional_log_storage_state
                .as_ref()
                .and_then(|t| t.name()),
        );
        if let Some(r) = &b.backup_retention_settings {
            name_at(
                &mut v,
                "/settings/backupConfiguration/backupRetentionSettings/retentionUnit",
                r.retention_unit.name(),
            );
        }
    }
    if let Some(m) = &s.maintenance_window {
        name_at(
            &mut v,
            "/settings/maintenanceWindow/updateTrack",
            m.update_track.name(),
        );
    }
    v
}

/// Whether `v` holds what a typed request leaves out: a `null` (a label taken
/// off) or an empty list (`databaseFlags: []`, no flags left).
fn unsendable(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.is_empty() || items.iter().any(unsendable),
        Value::Object(map) => map.values().any(unsendable),
        _ => false,
    }
}

/// Drops the empty lists of `patch` whose field `current` has empty or not at
/// all (nothing to clear).
fn drop_idle_empties(patch: &mut Value, current: &Value) {
    if let Value::Object(map) = patch {
        map.retain(|k, v| {
            let now = current.get(k).unwrap_or(&Value::Null);
            !(v.as_array().is_some_and(Vec::is_empty) && now.as_array().is_none_or(Vec::is_empty))
        });
        for (k, v) in map.iter_mut() {
            drop_idle_empties(v, current.get(k).unwrap_or(&Value::Null));
        }
    }
}

/// Merges `patch` into `base` as a JSON merge patch: objects field by field, a
/// `null` removes, anything else replaces.
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else if let (Some(slot), true) = (b.get_mut(k), v.is_object()) {
                    merge(slot, v);
                } else {
                    b.insert(k.clone(), v.clone());
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

/// The change that gives instance `current` (its view) the fields of `patch`
/// (a patch in the REST reference's shape). A typed patch leaves out nulls and
/// empty lists, which the REST patch uses to take a label off or clear the
/// flags; such a patch becomes an `instances.update` of the current settings
/// merged with it (their `settingsVersion` guards against a concurrent change).
/// Anything else is an `instances.patch`.
pub(super) fn change(current: &Value, mut patch: Value) -> Result<Mutation, BackendError> {
    let name = current
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    drop_idle_empties(&mut patch, current);
    if !unsendable(&patch) {
        return Ok(Mutation::Patch(
            name,
            Box::new(model(patch, "instances.patch")?),
        ));
    }
    let mut merged = current.clone();
    merge(&mut merged, &patch);
    let body: serde_json::Map<String, Value> = patch
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| (k.clone(), merged.get(k).cloned().unwrap_or(Value::Null)))
        .collect();
    let body = model(Value::Object(body), "instances.update")?;
    Ok(Mutation::Update(name, Box::new(body)))
}

impl GcpDatabaseBackend {
    /// The instance `name` as a view, `None` when it does not exist.
    pub(super) async fn get_instance(
        &self,
        ctx: &StackContext,
        name: &str,
    ) -> Result<Option<Value>, BackendError> {
        let project = self.clients.project()?;
        let fail = fail("sqladmin", "reading the Cloud SQL instance");
        let c = self.clients.sql_instances().await.map_err(&fail)?;
        unless_gone(
            gax(ctx, "instances.get", || {
                c.get().set_project(&project).set_instance(name).send()
            })
            .await,
        )
        .map(|found| found.as_ref().map(instance_view))
        .map_err(fail)
    }

    /// The instances `filter` selects (one `instances.list` call), as
    /// `{"items": [view, ...]}`.
    pub(super) async fn list_instances(
        &self,
        ctx: &StackContext,
        filter: &str,
        during: &str,
    ) -> Result<Value, BackendError> {
        let project = self.clients.project()?;
        let fail = fail("sqladmin", during);
        let c = self.clients.sql_instances().await.map_err(&fail)?;
        let listed = gax(ctx, "instances.list", || {
            c.list().set_project(&project).set_filter(filter).send()
        })
        .await
        .map_err(fail)?;
        let items: Vec<Value> = listed.items.iter().map(instance_view).collect();
        Ok(json!({ "items": items }))
    }

    /// The operations on instance `name` that are not done yet.
    pub(super) async fn pending_operations(
        &self,
        ctx: &StackContext,
        name: &str,
        during: &str,
    ) -> Result<Vec<Operation>, BackendError> {
        let project = self.clients.project()?;
        let fail = fail("sqladmin", during);
        let c = self.clients.sql_operations().await.map_err(&fail)?;
        let listed = gax(ctx, "operations.list", || {
            c.list().set_project(&project).set_instance(name).send()
        })
        .await
        .map_err(fail)?;
        Ok(listed
            .items
            .into_iter()
            .filter(|o| o.status != SqlOperationStatus::Done)
            .collect())
    }

    /// Waits for a Cloud SQL operation of the project.
    pub(super) async fn wait_operation(
        &self,
        ctx: &StackContext,
        op: &Operation,
        during: &str,
    ) -> Result<(), BackendError> {
        let project = self.clients.project()?;
        wait::sql(&self.clients, ctx, &project, op, during).await
    }

    /// Sends `change` and waits for its operation; `during` names it for the user.
    pub(super) async fn mutate(
        &self,
        ctx: &StackContext,
        change: Mutation,
        during: &str,
    ) -> Result<(), BackendError> {
        let project = self.clients.project()?;
        let fail = fail("sqladmin", during);
        let c = self.clients.sql_instances().await.map_err(&fail)?;
        let op = match &change {
            Mutation::Insert(body) => {
                gax(ctx, "instances.insert", || {
                    c.insert()
                        .set_project(&project)
                        .set_body(body.as_ref().clone())
                        .send()
                })
                .await
            }
            Mutation::Patch(name, body) => {
                gax(ctx, "instances.patch", || {
                    c.patch()
                        .set_project(&project)
                        .set_instance(name)
                        .set_body(body.as_ref().clone())
                        .send()
                })
                .await
            }
            Mutation::Update(name, body) => {
                gax(ctx, "instances.update", || {
                    c.update()
                        .set_project(&project)
                        .set_instance(name)
                        .set_body(body.as_ref().clone())
                        .send()
                })
                .await
            }
            Mutation::RestoreBackup(name, body) => {
                gax(ctx, "instances.restoreBackup", || {
                    c.restore_backup()
                        .set_project(&project)
                        .set_instance(name)
                        .set_body(body.as_ref().clone())
                        .send()
                })
                .await
            }
            Mutation::Clone(source, body) => {
                gax(ctx, "instances.clone", || {
                    c.clone()
                        .set_project(&project)
                        .set_instance(source)
                        .set_body(body.as_ref().clone())
                        .send()
                })
                .await
            }
        }
        .map_err(fail)?;
        wait::sql(&self.clients, ctx, &project, &op, during).await
    }

    /// Deletes instance `name`, with a final backup (description, days kept) when
    /// given, and waits; gone counts as deleted.
    pub(super) async fn delete_call(
        &self,
        ctx: &StackContext,
        name: &str,
        final_backup: Option<(&str, u32)>,
        during: &str,
    ) -> Result<(), BackendError> {
        let project = self.clients.project()?;
        let fail = fail("sqladmin", during);
        let c = self.clients.sql_instances().await.map_err(&fail)?;
        let op = gax(ctx, "instances.delete", || {
            let mut request = c.delete().set_project(&project).set_instance(name);
            if let Some((description, days)) = final_backup {
                request = request
                    .set_enable_final_backup(true)
                    .set_final_backup_ttl_days(i64::from(days.clamp(1, 365)))
                    .set_final_backup_description(description);
            }
            request.send()
        })
        .await;
        match op {
            Ok(op) => wait::sql(&self.clients, ctx, &project, &op, during).await,
            Err(f) if f.is_not_found() => Ok(()),
            Err(f) => Err(fail(f)),
        }
    }

    /// Sets the password of user `user` (at `host`, MySQL's `%`) of `instance`,
    /// and waits. The call carries the password: it runs [`quiet`].
    pub(super) async fn update_user(
        &self,
        ctx: &StackContext,
        instance: &str,
        (user, host): (&str, Option<&str>),
        password: &SecretString,
        during: &str,
    ) -> Result<(), BackendError> {
        let project = self.clients.project()?;
        let fail = fail("sqladmin", during);
        let c = self.clients.sql_users().await.map_err(&fail)?;
        let op = gax(ctx, "users.update", || {
            let mut body = User::new()
                .set_name(user)
                .set_password(password.expose_secret());
            let mut request = c
                .update()
                .set_project(&project)
                .set_instance(instance)
                .set_name(user);
            if let Some(h) = host {
                body = body.set_host(h);
                request = request.set_host(h);
            }
            quiet(request.set_body(body).send())
        })
        .await
        .map_err(fail)?;
        wait::sql(&self.clients, ctx, &project, &op, during).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_names_the_enums_the_adapter_reads() {
        let rest = json!({
            "name": "orders",
            "state": "RUNNABLE",
            "databaseVersion": "POSTGRES_16",
            "gceZone": "europe-west2-a",
            "sqlNetworkArchitecture": "NEW_NETWORK_ARCHITECTURE",
            "ipAddresses": [{"type": "PRIMARY", "ipAddress": "34.1.2.3"},
                            {"type": "PRIVATE", "ipAddress": "10.100.0.3"}],
            "settings": {
                "tier": "db-custom-2-8192",
                "edition": "ENTERPRISE",
                "availabilityType": "REGIONAL",
                "dataDiskType": "PD_SSD",
                "dataDiskSizeGb": "50",
                "storageAutoResizeLimit": "0",
                "deletionProtectionEnabled": true,
                "userLabels": {"paved-stack": "orders"},
                "ipConfiguration": {"ipv4Enabled": false, "sslMode": "ENCRYPTED_ONLY",
                                    "serverCaMode": "GOOGLE_MANAGED_INTERNAL_CA"},
                "backupConfiguration": {"enabled": true, "transactionalLogStorageState": "CLOUD_STORAGE",
                                        "backupRetentionSettings": {"retentionUnit": "COUNT", "retainedBackups": 14}},
                "maintenanceWindow": {"day": 7, "hour": 5},
            },
        });
        let typed: DatabaseInstance = serde_json::from_value(rest.clone()).expect("a model");
        assert!(
            view(&typed)["settings"]["availabilityType"].is_number(),
            "the models write enums as numbers"
        );
        let v = instance_view(&typed);
        assert_eq!(v, rest);
        let bare = instance_view(&DatabaseInstance::new().set_name("x"));
        assert!(bare.get("state").is_none() && bare.get("settings").is_none());
    }

    #[test]
    fn what_a_typed_patch_cannot_say_becomes_an_update() {
        let current = json!({"name": "orders", "databaseVersion": "POSTGRES_16", "settings": {
            "tier": "db-custom-2-8192", "settingsVersion": "3",
            "userLabels": {"paved-stack": "orders", "team": "a"},
            "databaseFlags": [{"name": "work_mem", "value": "64MB"}]}});

        let relabel = json!({"settings": {"userLabels": {"paved-stack": "orders", "team": "b"}}});
        let Ok(Mutation::Patch(name, body)) = change(&current, relabel) else {
            panic!("a patch")
        };
        assert_eq!(name, "orders");
        let s = body.settings.expect("settings");
        assert_eq!(s.user_labels.get("team").map(String::as_str), Some("b"));
        assert!(s.tier.is_empty(), "a patch carries only what changes");

        let off = json!({"settings": {"userLabels": {"paved-stack": "orders", "team": null}}});
        let Ok(Mutation::Update(_, body)) = change(&current, off) else {
            panic!("an update")
        };
        assert_eq!(
            body.database_version,
            google_cloud_sql_v1::model::SqlDatabaseVersion::default(),
            "only the settings"
        );
        let s = body.settings.expect("settings");
        assert!(!s.user_labels.contains_key("team"));
        assert_eq!(s.user_labels.len(), 1);
        assert_eq!(s.tier, "db-custom-2-8192");
        assert_eq!(s.settings_version, Some(3));
        assert_eq!(s.database_flags.len(), 1);

        let clear = json!({"settings": {"databaseFlags": [], "dataDiskSizeGb": "100"}});
        let Ok(Mutation::Update(_, body)) = change(&current, clear) else {
            panic!("an update")
        };
        let s = body.settings.expect("settings");
        assert!(s.database_flags.is_empty());
        assert_eq!(s.data_disk_size_gb, Some(100));

        let none = json!({"name": "bare", "settings": {"tier": "db-custom-1-3840"}});
        let idle = json!({"settings": {"databaseFlags": [], "dataDiskSizeGb": "20"}});
        assert!(matches!(change(&none, idle), Ok(Mutation::Patch(..))));
    }
}
