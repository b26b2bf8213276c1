//! Cloud KMS stand-in (`/v1/projects/{p}/locations/{l}/keyRings/...`): key rings,
//! symmetric keys with rotation settings and labels, their versions, and each
//! key's IAM policy (who may encrypt with it — Cloud SQL's CMEK check reads it).
//!
//! As in the real service, key rings and keys cannot be deleted; versions can be
//! scheduled for destruction (`:destroy`, after `destroyScheduledDuration`) and
//! restored. Not modelled: encrypt/decrypt, asymmetric and MAC keys, HSM/EKM,
//! import jobs, key ring IAM, Autokey, the actual rotation at `nextRotationTime`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use super::config::GcpFakeConfig;
use super::http::{GcpAnswer, GcpRequest};
use super::ops::timestamp;
use super::peers::Peers;
use super::policy;

/// One key: its JSON (without `primary`), its versions and its IAM policy.
#[derive(Debug)]
struct Key {
    /// The CryptoKey as stored (`primary` is derived on read).
    json: Value,
    /// Versions in creation order (`.../cryptoKeyVersions/1` first).
    versions: Vec<Value>,
    /// The key's IAM policy.
    policy: Value,
}

/// The service's mutable state.
#[derive(Debug, Default)]
struct State {
    /// Key rings by full name.
    rings: BTreeMap<String, Value>,
    /// Keys by full name.
    keys: BTreeMap<String, Key>,
    /// Counter behind etags.
    counter: u64,
}

/// Cloud KMS state.
#[derive(Debug, Default)]
pub(crate) struct Kms {
    /// Rings and keys.
    state: Mutex<State>,
}

/// Whether `id` is a valid key ring or key id (`[a-zA-Z0-9_-]{1,63}`).
fn valid_id(id: &str) -> bool {
    (1..=63).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Seconds of a duration written as `"7776000s"`.
fn seconds(duration: &str) -> Option<f64> {
    duration.strip_suffix('s')?.parse().ok()
}

/// A key as the API returns it: with its `primary` version.
fn key_view(key: &Key) -> Value {
    let mut json = key.json.clone();
    let primary = key
        .versions
        .iter()
        .rev()
        .find(|v| v["state"] == "ENABLED")
        .or_else(|| key.versions.last());
    if let Some(primary) = primary {
        json["primary"] = primary.clone();
    }
    json
}

impl Kms {
    /// An empty service.
    pub(crate) fn new(_config: &GcpFakeConfig) -> Self {
        Self::default()
    }

    /// Locks the state.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the key `projects/../locations/../keyRings/../cryptoKeys/..` exists.
    pub(crate) fn key_exists(&self, name: &str) -> bool {
        self.lock().keys.contains_key(name)
    }

    /// Whether key `key`'s IAM policy binds `member` to `role`.
    pub(crate) fn grants(&self, key: &str, member: &str, role: &str) -> bool {
        self.lock()
            .keys
            .get(key)
            .is_some_and(|k| policy::policy_grants(&k.policy, member, role))
    }

    /// Answers `req` when its path is this service's; `None` otherwise.
    pub(crate) fn handle(&self, _peers: &dyn Peers, req: &GcpRequest) -> Option<GcpAnswer> {
        let segs = req.segments();
        if segs.len() < 6
            || segs[0] != "v1"
            || segs[1] != "projects"
            || segs[3] != "locations"
            || !segs[5].starts_with("keyRings")
        {
            return None;
        }
        let last = segs.last().copied().unwrap_or_default();
        let (last, verb) = last.split_once(':').unwrap_or((last, ""));
        let mut parts: Vec<&str> = segs[1..segs.len() - 1].to_vec();
        parts.push(last);
        let name = parts.join("/");
        let m = req.method.as_str();
        let answer = match (parts.len(), m, verb) {
            (5, "GET", "") => self.list_rings(&name),
            (5, "POST", "") => self.create_ring(&name, req.param("keyRingId")),
            (6, "GET", "") => self.get_ring(&name),
            (7, "GET", "") => self.list_keys(&name),
            (7, "POST", "") => self.create_key(&name, req.param("cryptoKeyId"), &req.body),
            (8, "GET", "") => self.with_key(&name, |k| GcpAnswer::ok(key_view(k))),
            (8, "PATCH", "") => self.patch_key(&name, req.param("updateMask"), &req.body),
            (8, "GET" | "POST", "getIamPolicy") => {
                self.with_key(&name, |k| GcpAnswer::ok(k.policy.clone()))
            }
            (8, "POST", "setIamPolicy") => self.set_key_policy(&name, &req.body),
            (9, "GET", "") => self.list_versions(&name),
            (10, "GET", "") => self.version_action(&name, ""),
            (10, "POST", "destroy" | "restore") => self.version_action(&name, verb),
            _ => return None,
        };
        Some(answer)
    }

    /// `GET .../keyRings`.
    fn list_rings(&self, parent: &str) -> GcpAnswer {
        let st = self.lock();
        let prefix = format!("{parent}/");
        let rings: Vec<Value> = st
            .rings
            .iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .map(|(_, r)| r.clone())
            .collect();
        let total = rings.len();
        if total == 0 {
            return GcpAnswer::ok(json!({}));
        }
        GcpAnswer::ok(json!({"keyRings": rings, "totalSize": total}))
    }

    /// `POST .../keyRings?keyRingId=`.
    fn create_ring(&self, parent: &str, id: Option<&str>) -> GcpAnswer {
        let Some(id) = id.filter(|i| valid_id(i)) else {
            return GcpAnswer::invalid(
                "The request must specify a valid key_ring_id matching [a-zA-Z0-9_-]{1,63}.",
            );
        };
        let name = format!("{parent}/{id}");
        let mut st = self.lock();
        if st.rings.contains_key(&name) {
            return GcpAnswer::already_exists(format!("KeyRing {name}"));
        }
        let ring = json!({"name": name, "createTime": timestamp(0)});
        st.rings.insert(name, ring.clone());
        GcpAnswer::ok(ring)
    }

    /// `GET .../keyRings/{r}`.
    fn get_ring(&self, name: &str) -> GcpAnswer {
        match self.lock().rings.get(name) {
            Some(r) => GcpAnswer::ok(r.clone()),
            None => GcpAnswer::not_found(format!("KeyRing {name}")),
        }
    }

    /// `GET .../cryptoKeys`.
    fn list_keys(&self, parent: &str) -> GcpAnswer {
        let st = self.lock();
        if !st
            .rings
            .contains_key(parent.trim_end_matches("/cryptoKeys"))
        {
            return GcpAnswer::not_found(format!(
                "KeyRing {}",
                parent.trim_end_matches("/cryptoKeys")
            ));
        }
        let prefix = format!("{parent}/");
        let keys: Vec<Value> = st
            .keys
            .iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .map(|(_, k)| key_view(k))
            .collect();
        let total = keys.len();
        if total == 0 {
            return GcpAnswer::ok(json!({}));
        }
        GcpAnswer::ok(json!({"cryptoKeys": keys, "totalSize": total}))
    }

    /// Checks the rotation fields of a key body.
    fn check_rotation(body: &Value) -> Result<(), GcpAnswer> {
        if let Some(period) = body.get("rotationPeriod").and_then(Value::as_str) {
            match seconds(period) {
                Some(s) if (86_400.0..=876_000.0 * 3600.0).contains(&s) => {}
                _ => {
                    return Err(GcpAnswer::invalid(format!(
                        "The rotation period {period} must be at least 1 day (86400s) and at most 100 years."
                    )))
                }
            }
            if body.get("nextRotationTime").is_none() {
                return Err(GcpAnswer::invalid(
                    "next_rotation_time must be set when rotation_period is set.",
                ));
            }
        }
        Ok(())
    }

    /// `POST .../cryptoKeys?cryptoKeyId=`.
    fn create_key(&self, parent: &str, id: Option<&str>, body: &Value) -> GcpAnswer {
        let ring = parent.trim_end_matches("/cryptoKeys");
        let Some(id) = id.filter(|i| valid_id(i)) else {
            return GcpAnswer::invalid(
                "The request must specify a valid crypto_key_id matching [a-zA-Z0-9_-]{1,63}.",
            );
        };
        // Clients built from the protos (google-cloud-rust) send enums as numbers.
        let body = &named_enums(body);
        let purpose = body["purpose"].as_str().unwrap_or_default();
        if purpose != "ENCRYPT_DECRYPT" {
            return GcpAnswer::invalid(format!(
                "paved-gcp-fake models only ENCRYPT_DECRYPT keys; the request's purpose is {purpose:?} (the real API requires a purpose)."
            ));
        }
        if let Err(e) = Self::check_rotation(body) {
            return e;
        }
        let name = format!("{parent}/{id}");
        let mut st = self.lock();
        if !st.rings.contains_key(ring) {
            return GcpAnswer::not_found(format!("KeyRing {ring}"));
        }
        if st.keys.contains_key(&name) {
            return GcpAnswer::already_exists(format!("CryptoKey {name}"));
        }
        let now = timestamp(0);
        let template = json!({
            "protectionLevel": body["versionTemplate"]["protectionLevel"].as_str().unwrap_or("SOFTWARE"),
            "algorithm": body["versionTemplate"]["algorithm"].as_str().unwrap_or("GOOGLE_SYMMETRIC_ENCRYPTION"),
        });
        let mut json = json!({
            "name": name,
            "purpose": purpose,
            "createTime": now,
            "versionTemplate": template,
            "destroyScheduledDuration": body["destroyScheduledDuration"].as_str().unwrap_or("2592000s"),
        });
        for field in ["rotationPeriod", "nextRotationTime", "labels"] {
            if let Some(v) = body.get(field).filter(|v| !v.is_null()) {
                json[field] = v.clone();
            }
        }
        let version = json!({
            "name": format!("{name}/cryptoKeyVersions/1"),
            "state": "ENABLED",
            "createTime": now,
            "generateTime": now,
            "protectionLevel": template["protectionLevel"],
            "algorithm": template["algorithm"],
        });
        st.counter += 1;
        let policy = policy::empty_policy(&policy::etag(st.counter));
        let key = Key {
            json,
            versions: vec![version],
            policy,
        };
        let view = key_view(&key);
        st.keys.insert(name, key);
        GcpAnswer::ok(view)
    }

    /// Runs `f` on key `name`; 404 otherwise.
    fn with_key(&self, name: &str, f: impl FnOnce(&mut Key) -> GcpAnswer) -> GcpAnswer {
        match self.lock().keys.get_mut(name) {
            Some(k) => f(k),
            None => GcpAnswer::not_found(format!("CryptoKey {name}")),
        }
    }

    /// `PATCH .../cryptoKeys/{k}?updateMask=`.
    fn patch_key(&self, name: &str, mask: Option<&str>, body: &Value) -> GcpAnswer {
        let Some(mask) = mask.filter(|m| !m.is_empty()) else {
            return GcpAnswer::invalid("The request must specify an update_mask.");
        };
        let mut fields = Vec::new();
        for field in mask.split(',').map(str::trim) {
            match field {
                "labels"
                | "rotationPeriod"
                | "nextRotationTime"
                | "rotation_period"
                | "next_rotation_time"
                | "versionTemplate.algorithm"
                | "version_template.algorithm" => fields.push(field),
                other => {
                    return GcpAnswer::invalid(format!(
                        "The update_mask field {other} cannot be updated."
                    ))
                }
            }
        }
        self.with_key(name, |k| {
            let mut next = k.json.clone();
            for field in &fields {
                match *field {
                    "labels" => next["labels"] = body["labels"].clone(),
                    "rotationPeriod" | "rotation_period" => {
                        next["rotationPeriod"] = body["rotationPeriod"].clone()
                    }
                    "nextRotationTime" | "next_rotation_time" => {
                        next["nextRotationTime"] = body["nextRotationTime"].clone()
                    }
                    _ => {
                        next["versionTemplate"]["algorithm"] =
                            body["versionTemplate"]["algorithm"].clone()
                    }
                }
            }
            if let Some(obj) = next.as_object_mut() {
                obj.retain(|_, v| !v.is_null());
            }
            if let Err(e) = Self::check_rotation(&next) {
                return e;
            }
            k.json = next;
            GcpAnswer::ok(key_view(k))
        })
    }

    /// `POST .../cryptoKeys/{k}:setIamPolicy`.
    fn set_key_policy(&self, name: &str, body: &Value) -> GcpAnswer {
        let mut st = self.lock();
        st.counter += 1;
        let tag = policy::etag(st.counter);
        let Some(key) = st.keys.get_mut(name) else {
            return GcpAnswer::not_found(format!("CryptoKey {name}"));
        };
        match policy::set_policy(&key.policy, body, &tag) {
            Ok(policy) => {
                key.policy = policy.clone();
                GcpAnswer::ok(policy)
            }
            Err(e) => e,
        }
    }

    /// `GET .../cryptoKeyVersions`.
    fn list_versions(&self, parent: &str) -> GcpAnswer {
        let key = parent.trim_end_matches("/cryptoKeyVersions");
        self.with_key(key, |k| {
            GcpAnswer::ok(json!({"cryptoKeyVersions": k.versions, "totalSize": k.versions.len()}))
        })
    }

    /// `GET` a version, or `:destroy` / `:restore` it.
    fn version_action(&self, name: &str, verb: &str) -> GcpAnswer {
        let key = name.split("/cryptoKeyVersions/").next().unwrap_or_default();
        self.with_key(key, |k| {
            let duration = k.json["destroyScheduledDuration"]
                .as_str()
                .and_then(seconds)
                .unwrap_or(2_592_000.0);
            let Some(version) = k.versions.iter_mut().find(|v| v["name"] == name) else {
                return GcpAnswer::not_found(format!("CryptoKeyVersion {name}"));
            };
            let state = version["state"].as_str().unwrap_or_default().to_owned();
            match verb {
                "destroy" => {
                    if matches!(state.as_str(), "DESTROY_SCHEDULED" | "DESTROYED") {
                        return GcpAnswer::precondition(format!(
                            "CryptoKeyVersion {name} is in state {state}; it must be ENABLED or DISABLED to be destroyed."
                        ));
                    }
                    version["state"] = json!("DESTROY_SCHEDULED");
                    version["destroyTime"] = json!(timestamp(duration as i64));
                }
                "restore" => {
                    if state != "DESTROY_SCHEDULED" {
                        return GcpAnswer::precondition(format!(
                            "CryptoKeyVersion {name} is in state {state}; only DESTROY_SCHEDULED versions can be restored."
                        ));
                    }
                    version["state"] = json!("DISABLED");
                    if let Some(obj) = version.as_object_mut() {
                        obj.remove("destroyTime");
                    }
                }
                _ => {}
            }
            GcpAnswer::ok(version.clone())
        })
    }

    /// Everything it holds, as JSON.
    #[cfg_attr(not(test), allow(dead_code))] // a hook for tests and the server's state dump
    pub(crate) fn dump(&self) -> Value {
        let st = self.lock();
        let keys: Vec<Value> = st
            .keys
            .values()
            .map(|k| json!({"key": key_view(k), "versions": k.versions, "policy": k.policy}))
            .collect();
        json!({"keyRings": st.rings.values().collect::<Vec<_>>(), "cryptoKeys": keys})
    }
}

/// `body` with the enum fields a key create carries as names (`purpose`, the
/// version template's `protectionLevel` and `algorithm`), as the real API reads
/// either form.
fn named_enums(body: &Value) -> Value {
    let mut out = body.clone();
    let name = |v: &Value, table: &[(u64, &str)]| -> Option<Value> {
        let n = v.as_u64()?;
        table.iter().find(|(i, _)| *i == n).map(|(_, s)| json!(s))
    };
    if let Some(named) = name(
        &out["purpose"],
        &[
            (1, "ENCRYPT_DECRYPT"),
            (5, "ASYMMETRIC_SIGN"),
            (6, "ASYMMETRIC_DECRYPT"),
            (7, "RAW_ENCRYPT_DECRYPT"),
            (9, "MAC"),
        ],
    ) {
        out["purpose"] = named;
    }
    if out["versionTemplate"].is_object() {
        if let Some(named) = name(
            &out["versionTemplate"]["protectionLevel"],
            &[
                (1, "SOFTWARE"),
                (2, "HSM"),
                (3, "EXTERNAL"),
                (4, "EXTERNAL_VPC"),
            ],
        ) {
            out["versionTemplate"]["protectionLevel"] = named;
        }
        if let Some(named) = name(
            &out["versionTemplate"]["algorithm"],
            &[(1, "GOOGLE_SYMMETRIC_ENCRYPTION")],
        ) {
            out["versionTemplate"]["algorithm"] = named;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcp::world::World;

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

    #[test]
    fn rings_keys_versions_and_grants() {
        let world = World::new(GcpFakeConfig::default());
        let base = "/v1/projects/p/locations/europe-west1/keyRings";
        assert_eq!(
            call(&world, "POST", base, &[("keyRingId", "r")], json!({})).status,
            200
        );
        assert_eq!(
            call(&world, "POST", base, &[("keyRingId", "r")], json!({})).status,
            409
        );
        let keys = format!("{base}/r/cryptoKeys");
        let body = json!({"purpose": "ENCRYPT_DECRYPT", "rotationPeriod": "7776000s",
                          "nextRotationTime": "2030-01-01T00:00:00Z", "labels": {"team": "a"}});
        let key = call(&world, "POST", &keys, &[("cryptoKeyId", "k")], body.clone());
        assert_eq!(key.status, 200, "{:?}", key.body);
        assert_eq!(key.body["primary"]["state"], "ENABLED");
        assert_eq!(
            call(&world, "POST", &keys, &[("cryptoKeyId", "k")], body).status,
            409
        );
        let name = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k";
        assert!(world.kms.key_exists(name));
        let patched = call(
            &world,
            "PATCH",
            &format!("{keys}/k"),
            &[("updateMask", "labels")],
            json!({"labels": {"team": "b"}}),
        );
        assert_eq!(patched.body["labels"]["team"], "b");
        assert_eq!(patched.body["rotationPeriod"], "7776000s");
        let member = "serviceAccount:service-1@gcp-sa-cloud-sql.iam.gserviceaccount.com";
        let role = "roles/cloudkms.cryptoKeyEncrypterDecrypter";
        assert!(!world.kms.grants(name, member, role));
        let got = call(
            &world,
            "GET",
            &format!("{keys}/k:getIamPolicy"),
            &[],
            Value::Null,
        );
        let set = call(
            &world,
            "POST",
            &format!("{keys}/k:setIamPolicy"),
            &[],
            json!({"policy": {"etag": got.body["etag"], "bindings": [{"role": role, "members": [member]}]}}),
        );
        assert_eq!(set.status, 200, "{:?}", set.body);
        assert_ne!(set.body["etag"], got.body["etag"]);
        assert!(world.kms.grants(name, member, role));
        let destroyed = call(
            &world,
            "POST",
            &format!("{keys}/k/cryptoKeyVersions/1:destroy"),
            &[],
            json!({}),
        );
        assert_eq!(destroyed.body["state"], "DESTROY_SCHEDULED");
        assert!(destroyed.body["destroyTime"].is_string());
        assert_eq!(
            call(&world, "DELETE", &format!("{keys}/k"), &[], Value::Null).status,
            404
        );
    }
}
