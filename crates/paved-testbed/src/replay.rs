//! Record and replay of read calls, to keep the emulator out of a measured plan.
//!
//! moto is one Python process that scans every object on each `Describe*`: with
//! many stacks it, not the provider, sets the pace of a `terraform plan`. With
//! recording on, the proxy keeps the answer (status, headers, body) of every
//! *read* call it passes on; with replay on, a read whose request was recorded
//! is answered from the record without contacting the upstream. Everything else
//! about the request stays the same: it is counted, gets its latency and can get
//! a fault as usual, and [`Stats::replayed`](crate::Stats::replayed) counts it
//! as replayed.
//!
//! * **Read calls** ([`is_read`]): in the query and JSON protocols, actions that
//!   start with `Describe`, `List` or `Get`; in the REST protocols, `GET` and
//!   `HEAD` requests. Everything else is a write.
//! * **The key** ([`request_key`]) of a request is its service, action, signing
//!   region, access key id and a canonical form of its parameters, leaving out
//!   what changes between two sends of the same call: the `Authorization`
//!   header and every other header (`X-Amz-Date`, `X-Amz-Security-Token`,
//!   `amz-sdk-invocation-id`, the user agent), and the signature parameters of
//!   presigned URLs (`X-Amz-*`, `Signature*`, `Timestamp`, `Expires`,
//!   `AWSAccessKeyId`, `SecurityToken`). Query protocol: the form and query
//!   string parameters, sorted. JSON protocol: the body with its object keys
//!   sorted. REST: the method, the path, the query parameters sorted, and the
//!   body (JSON canonicalised as above).
//! * **What is recorded**: answers with a 2xx or 4xx status other than 429
//!   (a "not found" is an answer worth replaying too); 5xx answers, injected
//!   faults and 429s never are. A later answer to the same request replaces the
//!   record. Recorded answers are the proxy's own final answers (after the EKS
//!   stand-ins' rewrites), before the [`provisioning`](crate::provisioning)
//!   model's status rewrite, which is applied to replayed answers in turn.
//! * **Writes invalidate**: while recording or replay is on, a write drops
//!   every record of its service, before it is forwarded and again once it is
//!   answered; a read that was in flight across a write of its service is not
//!   recorded (a per-service generation number tells). A write in one service
//!   does not invalidate the reads of another (an IAM change does not drop the
//!   EKS records), which is the one way a replayed answer can be stale.
//! * **Misses** (a read with no record) are forwarded as usual (and recorded if
//!   recording is on).
//!
//! Intended use (`bench/stacks.py --replay`): record during the apply and during
//! one warm-up plan (record and replay both on, so that the reads the warm-up
//! plan repeats are served from the apply's records and the rest are
//! recorded), then replay only for the measured plans, which make no writes and
//! so are answered entirely from the records. The records live in memory until
//! cleared (`{"clear": true}`) or the proxy stops; they survive
//! `POST /__paved_proxy/reset`, which zeroes counters only.
//!
//! Control: [`ProxyHandle::set_replay`](crate::ProxyHandle::set_replay), the
//! `--record` and `--replay` flags of `paved-fault-proxy`, and
//! `GET|POST /__paved_proxy/replay` with a [`ReplaySettings`] body, answered
//! with a [`ReplayStatus`].

use std::collections::HashMap;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::http::{HeaderMap, Method, Uri};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::classify::{access_key_of, form_params, region_of, Classification, Protocol};

/// Parameters of presigned or signature-version-2 requests that change
/// between two sends of the same call (compared case-insensitively).
const VOLATILE_PARAMS: [&str; 7] = [
    "signature",
    "signaturemethod",
    "signatureversion",
    "timestamp",
    "expires",
    "awsaccesskeyid",
    "securitytoken",
];

/// Whether a request is a read call, the only kind that is recorded and replayed.
pub fn is_read(class: &Classification, method: &Method) -> bool {
    match class.protocol {
        Protocol::Query | Protocol::Ec2Query | Protocol::Json => ["Describe", "List", "Get"]
            .iter()
            .any(|prefix| class.action.starts_with(prefix)),
        Protocol::RestJson | Protocol::RestXml => *method == Method::GET || *method == Method::HEAD,
    }
}

fn is_volatile(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("x-amz-") || VOLATILE_PARAMS.contains(&lower.as_str())
}

fn is_form_encoded(headers: &HeaderMap) -> bool {
    headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// Sorted, decoded `name=value` pairs of a query string without the volatile ones.
fn stable_params(encoded: &str) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = form_params(encoded)
        .into_iter()
        .filter(|(name, _)| !is_volatile(name))
        .collect();
    params.sort();
    params
}

/// A JSON value with the keys of every object sorted (whatever map order
/// serde_json was built with).
fn canonical_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let mut out = serde_json::Map::new();
            for (key, value) in entries {
                out.insert(key.clone(), canonical_json(value));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical_json).collect()),
        other => other.clone(),
    }
}

/// A body as canonical JSON when it is JSON, else as (lossy) text.
fn canonical_body(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => canonical_json(&value),
        Err(_) => Value::String(String::from_utf8_lossy(body).into_owned()),
    }
}

/// The replay key of a request: see the module documentation.
pub fn request_key(
    class: &Classification,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> String {
    let params = match class.protocol {
        Protocol::Query | Protocol::Ec2Query => {
            let mut params = stable_params(uri.query().unwrap_or(""));
            if is_form_encoded(headers) {
                params.extend(stable_params(&String::from_utf8_lossy(body)));
                params.sort();
            }
            serde_json::json!({ "params": params })
        }
        Protocol::Json => serde_json::json!({ "body": canonical_body(body) }),
        Protocol::RestJson | Protocol::RestXml => serde_json::json!({
            "method": method.as_str(),
            "path": uri.path(),
            "query": stable_params(uri.query().unwrap_or("")),
            "body": canonical_body(body),
        }),
    };
    serde_json::json!({
        "service": class.service,
        "action": class.action,
        "region": region_of(uri, headers),
        "access_key": access_key_of(uri, headers),
        "request": params,
    })
    .to_string()
}

/// Whether an answer with this status is recorded.
pub fn is_recordable(status: u16) -> bool {
    (200..300).contains(&status) || ((400..500).contains(&status) && status != 429)
}

/// A recorded answer.
#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    pub(crate) status: u16,
    /// The answer's headers, without hop-by-hop headers, `content-length` and
    /// `date`.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Bytes,
}

impl Recorded {
    /// Keeps an answer's status, body and end-to-end headers.
    pub(crate) fn new(status: u16, headers: &HeaderMap, body: Bytes) -> Self {
        let headers = headers
            .iter()
            .filter(|(name, _)| {
                !matches!(
                    name.as_str(),
                    "content-length" | "date" | "connection" | "keep-alive" | "transfer-encoding"
                )
            })
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        Self {
            status,
            headers,
            body,
        }
    }
}

/// What `POST /__paved_proxy/replay` accepts; every field is optional and a
/// missing one changes nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplaySettings {
    /// Record the answers of read calls.
    pub record: Option<bool>,
    /// Answer recorded read calls from their records.
    pub replay: Option<bool>,
    /// Drop every record (before `record`/`replay` take effect) and zero the
    /// hit, miss and store counters.
    pub clear: bool,
}

/// The replay state, as `GET /__paved_proxy/replay` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplayStatus {
    /// Recording is on.
    pub record: bool,
    /// Replay is on.
    pub replay: bool,
    /// Recorded answers held.
    pub records: usize,
    /// Read calls answered from a record (while replay was on).
    pub hits: u64,
    /// Read calls with no record (while replay was on), forwarded.
    pub misses: u64,
    /// Answers recorded (a new record or a replaced one).
    pub stored: u64,
    /// Records dropped because a write of their service came through.
    pub invalidated: u64,
}

/// The records and switches.
#[derive(Debug, Default)]
pub(crate) struct ReplayStore {
    record: bool,
    replay: bool,
    /// Key → (service, answer).
    records: HashMap<String, (String, Recorded)>,
    /// Per service: bumped by each write, before and after it.
    generations: HashMap<String, u64>,
    hits: u64,
    misses: u64,
    stored: u64,
    invalidated: u64,
}

impl ReplayStore {
    /// Whether requests need a key at all (recording or replay on).
    pub(crate) fn active(&self) -> bool {
        self.record || self.replay
    }

    /// Whether requests need a key: recording or replay is on, or records are
    /// held (which writes must still invalidate).
    pub(crate) fn tracking(&self) -> bool {
        self.active() || !self.records.is_empty()
    }

    pub(crate) fn recording(&self) -> bool {
        self.record
    }

    /// Applies settings.
    pub(crate) fn apply(&mut self, settings: &ReplaySettings) {
        if settings.clear {
            self.records.clear();
            self.hits = 0;
            self.misses = 0;
            self.stored = 0;
            self.invalidated = 0;
        }
        if let Some(record) = settings.record {
            self.record = record;
        }
        if let Some(replay) = settings.replay {
            self.replay = replay;
        }
    }

    /// The state.
    pub(crate) fn status(&self) -> ReplayStatus {
        ReplayStatus {
            record: self.record,
            replay: self.replay,
            records: self.records.len(),
            hits: self.hits,
            misses: self.misses,
            stored: self.stored,
            invalidated: self.invalidated,
        }
    }

    /// The recorded answer to `key`, when replay is on (counted as a hit or a
    /// miss); `None` when replay is off.
    pub(crate) fn lookup(&mut self, key: &str) -> Option<Recorded> {
        if !self.replay {
            return None;
        }
        match self.records.get(key) {
            Some((_, recorded)) => {
                self.hits += 1;
                Some(recorded.clone())
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// The write generation of `service`, taken when a read starts.
    pub(crate) fn generation(&self, service: &str) -> u64 {
        self.generations.get(service).copied().unwrap_or(0)
    }

    /// Records the answer to `key` if recording is on and no write of
    /// `service` came through since the read started at `generation`.
    pub(crate) fn store(
        &mut self,
        key: String,
        service: &str,
        generation: u64,
        recorded: Recorded,
    ) -> bool {
        if !self.record || self.generation(service) != generation {
            return false;
        }
        self.records.insert(key, (service.to_string(), recorded));
        self.stored += 1;
        true
    }

    /// A write of `service`: drops its records and starts a new generation.
    pub(crate) fn invalidate(&mut self, service: &str) {
        *self.generations.entry(service.to_string()).or_default() += 1;
        let before = self.records.len();
        self.records.retain(|_, (svc, _)| svc != service);
        self.invalidated += (before - self.records.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::classify;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header value"));
        }
        h
    }

    fn auth(service: &str, date: &str, signature: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential=AKID/{date}/us-east-1/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature={signature}")
    }

    fn key(method: Method, uri: &'static str, h: &HeaderMap, body: &[u8]) -> String {
        let uri = Uri::from_static(uri);
        let class = classify(&method, &uri, h, body);
        request_key(&class, &method, &uri, h, body)
    }

    #[test]
    fn reads_and_writes() {
        let h = headers(&[("authorization", &auth("ec2", "20240101", "a"))]);
        let c = |action: &str, protocol| Classification {
            service: "ec2".into(),
            action: action.into(),
            protocol,
        };
        assert!(is_read(
            &c("DescribeVpcs", Protocol::Ec2Query),
            &Method::POST
        ));
        assert!(is_read(&c("ListRoles", Protocol::Query), &Method::POST));
        assert!(is_read(&c("GetSecretValue", Protocol::Json), &Method::POST));
        assert!(!is_read(&c("CreateVpc", Protocol::Ec2Query), &Method::POST));
        assert!(!is_read(&c("TagResource", Protocol::Json), &Method::POST));
        assert!(is_read(
            &c("GET /clusters/{id}", Protocol::RestJson),
            &Method::GET
        ));
        assert!(!is_read(
            &c("DELETE /clusters/{id}", Protocol::RestJson),
            &Method::DELETE
        ));
        // The stand-in names of EKS calls: the method decides.
        let describe_addon = classify(
            &Method::GET,
            &Uri::from_static("/clusters/c/addons/vpc-cni"),
            &h,
            b"",
        );
        assert!(is_read(&describe_addon, &Method::GET));
    }

    #[test]
    fn query_keys_ignore_signature_date_and_order() {
        let form = ("content-type", "application/x-www-form-urlencoded");
        let a = headers(&[
            ("authorization", &auth("ec2", "20240101", "aaaa")),
            ("x-amz-date", "20240101T000000Z"),
            form,
        ]);
        let b = headers(&[
            ("authorization", &auth("ec2", "20250505", "bbbb")),
            ("x-amz-date", "20250505T101010Z"),
            ("amz-sdk-invocation-id", "x"),
            form,
        ]);
        let one = key(
            Method::POST,
            "/",
            &a,
            b"Action=DescribeSubnets&Version=2016-11-15&SubnetId.1=subnet-1&SubnetId.2=subnet-2",
        );
        let same = key(
            Method::POST,
            "/",
            &b,
            b"Version=2016-11-15&SubnetId.2=subnet-2&Action=DescribeSubnets&SubnetId.1=subnet-1",
        );
        assert_eq!(one, same);
        let other = key(
            Method::POST,
            "/",
            &a,
            b"Action=DescribeSubnets&Version=2016-11-15&SubnetId.1=subnet-1&SubnetId.2=subnet-3",
        );
        assert_ne!(one, other);
        // Another region or access key is another key.
        let region = headers(&[
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/ec2/aws4_request, Signature=a",
            ),
            form,
        ]);
        let moved = key(
            Method::POST,
            "/",
            &region,
            b"Action=DescribeSubnets&Version=2016-11-15&SubnetId.1=subnet-1&SubnetId.2=subnet-2",
        );
        assert_ne!(one, moved);
    }

    #[test]
    fn presigned_and_rest_keys() {
        let none = HeaderMap::new();
        let one = key(
            Method::GET,
            "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Date=20240101T000000Z&X-Amz-Signature=aa&X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fsts%2Faws4_request",
            &none,
            b"",
        );
        let two = key(
            Method::GET,
            "/?Version=2011-06-15&Action=GetCallerIdentity&X-Amz-Date=20250101T000000Z&X-Amz-Signature=bb&X-Amz-Credential=AKID%2F20250101%2Fus-east-1%2Fsts%2Faws4_request",
            &none,
            b"",
        );
        assert_eq!(one, two);

        let h = headers(&[("authorization", &auth("eks", "20240101", "a"))]);
        let later = headers(&[("authorization", &auth("eks", "20240102", "b"))]);
        assert_eq!(
            key(Method::GET, "/clusters/prod?b=1&a=2", &h, b""),
            key(Method::GET, "/clusters/prod?a=2&b=1", &later, b"")
        );
        assert_ne!(
            key(Method::GET, "/clusters/prod", &h, b""),
            key(Method::GET, "/clusters/dev", &h, b"")
        );
    }

    #[test]
    fn json_keys_sort_object_keys() {
        let h = headers(&[
            ("authorization", &auth("logs", "20240101", "a")),
            ("x-amz-target", "Logs_20140328.DescribeLogGroups"),
        ]);
        assert_eq!(
            key(
                Method::POST,
                "/",
                &h,
                br#"{"a":1,"b":{"y":2,"x":[1,{"q":1,"p":2}]}}"#
            ),
            key(
                Method::POST,
                "/",
                &h,
                br#"{"b":{"x":[1,{"p":2,"q":1}],"y":2},"a":1}"#
            )
        );
        assert_ne!(
            key(Method::POST, "/", &h, br#"{"a":1}"#),
            key(Method::POST, "/", &h, br#"{"a":2}"#)
        );
    }

    #[test]
    fn store_lookup_and_invalidation() {
        let answer = || Recorded::new(200, &HeaderMap::new(), Bytes::from_static(b"<x/>"));
        let mut store = ReplayStore::default();
        let g = store.generation("ec2");
        assert!(
            !store.store("k".into(), "ec2", g, answer()),
            "recording is off"
        );
        store.apply(&ReplaySettings {
            record: Some(true),
            ..ReplaySettings::default()
        });
        assert!(store.store("k".into(), "ec2", g, answer()));
        assert!(store.store("i".into(), "iam", 0, answer()));
        assert!(store.lookup("k").is_none(), "replay is off");
        store.apply(&ReplaySettings {
            replay: Some(true),
            ..ReplaySettings::default()
        });
        assert_eq!(
            store.lookup("k").map(|r| r.body),
            Some(Bytes::from_static(b"<x/>"))
        );
        assert!(store.lookup("nope").is_none());
        // A read started before a write of its service is not recorded.
        let g = store.generation("ec2");
        store.invalidate("ec2");
        assert!(!store.store("k2".into(), "ec2", g, answer()));
        assert!(store.lookup("k").is_none(), "dropped by the write");
        assert!(store.lookup("i").is_some(), "other services keep theirs");
        let status = store.status();
        assert_eq!(
            (
                status.records,
                status.hits,
                status.misses,
                status.stored,
                status.invalidated
            ),
            (1, 2, 2, 2, 1)
        );
        store.apply(&ReplaySettings {
            clear: true,
            ..ReplaySettings::default()
        });
        assert_eq!(store.status().records, 0);
        assert!(store.status().record && store.status().replay);
        assert!(is_recordable(200) && is_recordable(404) && is_recordable(400));
        assert!(!is_recordable(429) && !is_recordable(500) && !is_recordable(503));
    }
}
