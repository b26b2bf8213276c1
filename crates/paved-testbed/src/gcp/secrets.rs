//! Secret Manager stand-in (`/v1/projects/{p}/secrets/...`): secrets with
//! automatic or user-managed replication and labels, their versions (add, get,
//! `latest`, access with the payload's CRC32C, list, disable/enable/destroy).
//! Names in answers use the project *number*, as the real API writes them; the
//! path may name the project by id or number.
//!
//! Not modelled: secret IAM policies, rotation and topics, expiration/TTL,
//! version aliases, CMEK, regional endpoints, `etag` preconditions.

use std::collections::BTreeMap;
use std::sync::Mutex;

use base64::Engine as _;
use serde_json::{json, Value};

use super::config::GcpFakeConfig;
use super::http::{GcpAnswer, GcpRequest};
use super::ops::timestamp;
use super::peers::Peers;

/// Largest payload the real API accepts (64 KiB).
const MAX_PAYLOAD: usize = 65_536;

/// One version: its JSON and its payload.
#[derive(Debug)]
struct Version {
    /// The SecretVersion as the API returns it.
    json: Value,
    /// The secret data (dropped when destroyed).
    data: Vec<u8>,
}

/// One secret.
#[derive(Debug)]
struct Secret {
    /// The Secret as the API returns it.
    json: Value,
    /// Versions in creation order (version `n` at index `n - 1`).
    versions: Vec<Version>,
}

/// Secret Manager state.
#[derive(Debug, Default)]
pub(crate) struct Secrets {
    /// Secrets by secret id (one project: the stand-in's number).
    state: Mutex<BTreeMap<String, Secret>>,
}

/// CRC32C (Castagnoli) of `data`, as `dataCrc32c` carries it.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0x82F6_3B78 & mask);
        }
    }
    !crc
}

/// Whether `id` is a valid secret id (`[a-zA-Z0-9_-]{1,255}`).
fn valid_id(id: &str) -> bool {
    (1..=255).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether `secret` matches a list `filter` (`labels.k=v`, `labels.k:v`,
/// `labels.k:*`, `name:x`; terms joined by spaces or `AND` must all match).
fn matches_filter(secret: &Value, filter: &str) -> bool {
    filter
        .split_whitespace()
        .filter(|t| *t != "AND")
        .all(|term| {
            let (field, value) = match term.split_once([':', '=']) {
                Some((f, v)) => (f, v.trim_matches('"')),
                None => return secret["name"].as_str().is_some_and(|n| n.contains(term)),
            };
            if let Some(label) = field.strip_prefix("labels.") {
                let have = secret["labels"][label].as_str();
                return if value == "*" {
                    have.is_some()
                } else {
                    have == Some(value)
                };
            }
            match field {
                "name" => secret["name"]
                    .as_str()
                    .and_then(|n| n.rsplit('/').next())
                    .is_some_and(|n| n.contains(value)),
                _ => false,
            }
        })
}

impl Secrets {
    /// An empty service.
    pub(crate) fn new(_config: &GcpFakeConfig) -> Self {
        Self::default()
    }

    /// Locks the state.
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Secret>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The payload of secret `secret`'s newest enabled version.
    #[cfg_attr(not(test), allow(dead_code))] // a hook for tests and the server's state dump
    pub(crate) fn secret_value(&self, _project: &str, secret: &str) -> Option<Vec<u8>> {
        let st = self.lock();
        st.get(secret)?
            .versions
            .iter()
            .rev()
            .find(|v| v.json["state"] == "ENABLED")
            .map(|v| v.data.clone())
    }

    /// Answers `req` when its path is this service's; `None` otherwise.
    pub(crate) fn handle(&self, peers: &dyn Peers, req: &GcpRequest) -> Option<GcpAnswer> {
        let segs = req.segments();
        if segs.len() < 4
            || segs[0] != "v1"
            || segs[1] != "projects"
            || !segs[3].starts_with("secrets")
        {
            return None;
        }
        let number = peers.config().project_number;
        let last = segs.last().copied().unwrap_or_default();
        let (last, verb) = last.split_once(':').unwrap_or((last, ""));
        let mut parts: Vec<&str> = segs[3..segs.len() - 1].to_vec();
        parts.push(last);
        let m = req.method.as_str();
        let answer = match (parts.as_slice(), m, verb) {
            (["secrets"], "GET", "") => self.list(req.param("filter")),
            (["secrets"], "POST", "") => self.create(number, req.param("secretId"), &req.body),
            ([_, id], "GET", "") => self.with_secret(id, |s| GcpAnswer::ok(s.json.clone())),
            ([_, id], "PATCH", "") => self.patch(id, req.param("updateMask"), &req.body),
            ([_, id], "DELETE", "") => {
                if self.lock().remove(*id).is_some() {
                    GcpAnswer::ok(json!({}))
                } else {
                    GcpAnswer::not_found(format!("Secret [projects/{number}/secrets/{id}]"))
                }
            }
            ([_, id], "POST", "addVersion") => self.add_version(id, &req.body),
            ([_, id, "versions"], "GET", "") => self.list_versions(id),
            ([_, id, _, v], "GET", "" | "access")
            | ([_, id, _, v], "POST", "disable" | "enable" | "destroy") => {
                self.version(id, v, verb)
            }
            _ => return None,
        };
        Some(answer)
    }

    /// `GET .../secrets`.
    fn list(&self, filter: Option<&str>) -> GcpAnswer {
        let st = self.lock();
        let secrets: Vec<Value> = st
            .values()
            .filter(|s| filter.is_none_or(|f| matches_filter(&s.json, f)))
            .map(|s| s.json.clone())
            .collect();
        if secrets.is_empty() {
            return GcpAnswer::ok(json!({}));
        }
        let total = secrets.len();
        GcpAnswer::ok(json!({"secrets": secrets, "totalSize": total}))
    }

    /// `POST .../secrets?secretId=`.
    fn create(&self, number: u64, id: Option<&str>, body: &Value) -> GcpAnswer {
        let Some(id) = id.filter(|i| valid_id(i)) else {
            return GcpAnswer::invalid(
                "The provided Secret ID is not valid: it must match [a-zA-Z0-9_-]{1,255}.",
            );
        };
        let replication = &body["replication"];
        if replication.get("automatic").is_none() && replication.get("userManaged").is_none() {
            return GcpAnswer::invalid("Secret.replication must be set: automatic or userManaged.");
        }
        let mut st = self.lock();
        if st.contains_key(id) {
            return GcpAnswer::already_exists(format!("Secret [projects/{number}/secrets/{id}]"));
        }
        let mut json = json!({
            "name": format!("projects/{number}/secrets/{id}"),
            "replication": replication,
            "createTime": timestamp(0),
            "etag": format!("\"{}\"", st.len() + 1),
        });
        for field in ["labels", "annotations"] {
            if let Some(v) = body.get(field).filter(|v| v.is_object()) {
                json[field] = v.clone();
            }
        }
        st.insert(
            id.to_owned(),
            Secret {
                json: json.clone(),
                versions: Vec::new(),
            },
        );
        GcpAnswer::ok(json)
    }

    /// Runs `f` on secret `id`; 404 otherwise.
    fn with_secret(&self, id: &str, f: impl FnOnce(&mut Secret) -> GcpAnswer) -> GcpAnswer {
        match self.lock().get_mut(id) {
            Some(s) => f(s),
            None => GcpAnswer::not_found(format!("Secret [{id}]")),
        }
    }

    /// `PATCH .../secrets/{s}?updateMask=labels`.
    fn patch(&self, id: &str, mask: Option<&str>, body: &Value) -> GcpAnswer {
        let Some(mask) = mask.filter(|m| !m.is_empty()) else {
            return GcpAnswer::invalid("update_mask must be specified.");
        };
        let fields: Vec<&str> = mask.split(',').map(str::trim).collect();
        if let Some(bad) = fields
            .iter()
            .find(|f| !matches!(**f, "labels" | "annotations"))
        {
            return GcpAnswer::invalid(format!("paved-gcp-fake cannot update the field {bad}."));
        }
        self.with_secret(id, |s| {
            for field in fields {
                match body.get(field).filter(|v| v.is_object()) {
                    Some(v) => s.json[field] = v.clone(),
                    None => {
                        if let Some(obj) = s.json.as_object_mut() {
                            obj.remove(field);
                        }
                    }
                }
            }
            GcpAnswer::ok(s.json.clone())
        })
    }

    /// `POST .../secrets/{s}:addVersion`.
    fn add_version(&self, id: &str, body: &Value) -> GcpAnswer {
        let encoded = body["payload"]["data"].as_str().unwrap_or_default();
        let Ok(data) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            return GcpAnswer::invalid("payload.data must be base64.");
        };
        if data.len() > MAX_PAYLOAD {
            return GcpAnswer::invalid("Secret payload must be at most 65536 bytes.");
        }
        if let Some(sent) = body["payload"]["dataCrc32c"].as_str() {
            if sent != crc32c(&data).to_string() {
                return GcpAnswer::invalid(
                    "Checksum mismatch: payload.data_crc32c does not match the data.",
                );
            }
        }
        self.with_secret(id, |s| {
            let n = s.versions.len() + 1;
            let json = json!({
                "name": format!("{}/versions/{n}", s.json["name"].as_str().unwrap_or_default()),
                "createTime": timestamp(0),
                "state": "ENABLED",
                "replicationStatus": {"automatic": {}},
                "etag": format!("\"{n}\""),
                "clientSpecifiedPayloadChecksum": body["payload"].get("dataCrc32c").is_some(),
            });
            s.versions.push(Version {
                json: json.clone(),
                data,
            });
            GcpAnswer::ok(json)
        })
    }

    /// `GET .../versions` (newest first, as the real API lists them).
    fn list_versions(&self, id: &str) -> GcpAnswer {
        self.with_secret(id, |s| {
            let versions: Vec<Value> = s.versions.iter().rev().map(|v| v.json.clone()).collect();
            if versions.is_empty() {
                return GcpAnswer::ok(json!({}));
            }
            GcpAnswer::ok(json!({"versions": versions, "totalSize": s.versions.len()}))
        })
    }

    /// `GET` a version (`latest` is the newest), `:access` it, or change its state.
    fn version(&self, id: &str, which: &str, verb: &str) -> GcpAnswer {
        self.with_secret(id, |s| {
            let index = if which == "latest" {
                s.versions.len().checked_sub(1)
            } else {
                which.parse::<usize>().ok().and_then(|n| n.checked_sub(1))
            };
            let secret_name = s.json["name"].as_str().unwrap_or_default().to_owned();
            let Some(version) = index.and_then(|i| s.versions.get_mut(i)) else {
                return GcpAnswer::not_found(format!(
                    "Secret Version [{secret_name}/versions/{which}]"
                ));
            };
            let state = version.json["state"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let name = version.json["name"].as_str().unwrap_or_default().to_owned();
            match verb {
                "access" => {
                    if state != "ENABLED" {
                        return GcpAnswer::precondition(format!(
                            "Secret Version [{name}] is in {state} state."
                        ));
                    }
                    let data = base64::engine::general_purpose::STANDARD.encode(&version.data);
                    return GcpAnswer::ok(json!({
                        "name": name,
                        "payload": {"data": data, "dataCrc32c": crc32c(&version.data).to_string()},
                    }));
                }
                "disable" | "enable" if state == "DESTROYED" => {
                    return GcpAnswer::precondition(format!(
                        "Secret Version [{name}] is in DESTROYED state."
                    ));
                }
                "disable" => version.json["state"] = json!("DISABLED"),
                "enable" => version.json["state"] = json!("ENABLED"),
                "destroy" => {
                    version.json["state"] = json!("DESTROYED");
                    version.json["destroyTime"] = json!(timestamp(0));
                    version.data.clear();
                }
                _ => {}
            }
            GcpAnswer::ok(version.json.clone())
        })
    }

    /// Everything it holds, as JSON, payloads redacted.
    #[cfg_attr(not(test), allow(dead_code))] // a hook for tests and the server's state dump
    pub(crate) fn dump(&self) -> Value {
        let st = self.lock();
        let secrets: Vec<Value> = st
            .values()
            .map(|s| {
                let versions: Vec<Value> = s
                    .versions
                    .iter()
                    .map(|v| json!({"version": v.json, "payload": "REDACTED", "bytes": v.data.len()}))
                    .collect();
                json!({"secret": s.json, "versions": versions})
            })
            .collect();
        json!({ "secrets": secrets })
    }
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
    fn crc32c_matches_the_reference_vector() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn secrets_versions_access_and_filters() {
        let world = World::new(GcpFakeConfig::default());
        let made = call(
            &world,
            "POST",
            "/v1/projects/p/secrets",
            &[("secretId", "db-pass")],
            json!({"replication": {"automatic": {}}, "labels": {"app": "web"}}),
        );
        assert_eq!(made.status, 200, "{:?}", made.body);
        assert_eq!(
            call(
                &world,
                "POST",
                "/v1/projects/p/secrets",
                &[("secretId", "db-pass")],
                json!({"replication": {"automatic": {}}})
            )
            .status,
            409
        );
        let v1 = call(
            &world,
            "POST",
            "/v1/projects/p/secrets/db-pass:addVersion",
            &[],
            json!({"payload": {"data": "aHVudGVyMg=="}}),
        );
        assert!(
            v1.body["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("/versions/1")),
            "{:?}",
            v1.body
        );
        let got = call(
            &world,
            "GET",
            "/v1/projects/p/secrets/db-pass/versions/latest:access",
            &[],
            Value::Null,
        );
        assert_eq!(got.body["payload"]["data"], "aHVudGVyMg==");
        assert_eq!(
            world.secrets.secret_value("p", "db-pass"),
            Some(b"hunter2".to_vec())
        );
        let listed = call(
            &world,
            "GET",
            "/v1/projects/p/secrets",
            &[("filter", "labels.app=web")],
            Value::Null,
        );
        assert_eq!(listed.body["secrets"].as_array().map(Vec::len), Some(1));
        let none = call(
            &world,
            "GET",
            "/v1/projects/p/secrets",
            &[("filter", "labels.app=db")],
            Value::Null,
        );
        assert!(none.body.get("secrets").is_none());
        call(
            &world,
            "POST",
            "/v1/projects/p/secrets/db-pass/versions/1:disable",
            &[],
            json!({}),
        );
        let refused = call(
            &world,
            "GET",
            "/v1/projects/p/secrets/db-pass/versions/1:access",
            &[],
            Value::Null,
        );
        assert_eq!(refused.status, 400);
        assert_eq!(world.secrets.secret_value("p", "db-pass"), None);
        assert!(!world.secrets.dump().to_string().contains("aHVudGVyMg"));
    }
}
