//! The plain-HTTP server: parses requests into `GcpRequest`s, answers them from
//! the `World`, counts them, injects faults, and serves the control endpoints
//! under `/_fake/` (not counted, no authentication).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::faults::{FaultPlan, Faults};
use super::http::{GcpAnswer, GcpRequest};
use super::world::World;

/// Path prefix of the control endpoints.
pub const CONTROL_PREFIX: &str = "/_fake/";

/// Largest request body accepted (16 MiB).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Request counts by call.
///
/// A call is named `METHOD service.collection[.sub].verb`, derived from the path:
/// the service is the path's first segment when it is not a version (`compute`,
/// `sql`), else guessed from the first collection (`clusters` → `container`,
/// `keyRings` → `cloudkms`...); scopes (`projects/P`, `locations/L`, `regions/R`,
/// `zones/Z`, `global`) are dropped; the verb is a custom method (`:setSize`,
/// `/removePeering`) or `get`/`list`/`insert` (Compute) or `create`/`update`/
/// `patch`/`delete`. Examples: `GET compute.networks.get`, `POST
/// container.clusters.nodePools.create`, `POST container.clusters.setResourceLabels`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    /// Every counted request.
    pub total: u64,
    /// Requests by call name.
    pub by_call: BTreeMap<String, u64>,
    /// Requests that carried no `Authorization` header.
    pub unauthenticated: u64,
    /// Requests answered with an injected fault.
    pub faults_injected: u64,
}

impl RequestCounts {
    /// The count of one call, e.g. `count("GET compute.networks.get")`.
    pub fn count(&self, call: &str) -> u64 {
        self.by_call.get(call).copied().unwrap_or(0)
    }

    /// The sum of the counts of calls whose name contains `part`.
    pub fn count_matching(&self, part: &str) -> u64 {
        self.by_call
            .iter()
            .filter(|(k, _)| k.contains(part))
            .map(|(_, v)| v)
            .sum()
    }
}

/// State shared by the server and its handle.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Every service.
    pub world: World,
    /// Request counts.
    counts: Mutex<RequestCounts>,
    /// Injected failures.
    faults: Faults,
}

/// Locks `m`, ignoring poisoning (a test double's data stays usable).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Shared state around `world`.
    pub(crate) fn new(world: World) -> Self {
        Self {
            world,
            counts: Mutex::new(RequestCounts::default()),
            faults: Faults::default(),
        }
    }

    /// A snapshot of the counts.
    pub(crate) fn counts(&self) -> RequestCounts {
        lock(&self.counts).clone()
    }

    /// Zeroes the counts.
    pub(crate) fn reset_counts(&self) {
        *lock(&self.counts) = RequestCounts::default();
    }

    /// Replaces the fault plan.
    pub(crate) fn set_faults(&self, plan: FaultPlan) {
        self.faults.set(plan);
    }

    /// Every service's objects that can be dumped, as JSON.
    pub(crate) fn state(&self) -> Value {
        json!({
            "compute": self.world.compute.dump(),
            "gke": self.world.gke.dump(),
            "kms": self.world.kms.dump(),
            "iam": self.world.iam.dump(),
            "secrets": self.world.secrets.dump(),
            "sql": self.world.sql.dump(),
            "networking": self.world.networking.dump(),
        })
    }

    /// Answers one non-control request, counting it.
    fn answer(&self, req: &GcpRequest, authenticated: bool) -> GcpAnswer {
        let label = call_label(&req.method, &req.path);
        let service = api_host(&req.path);
        let fault = self.faults.next(&service, self.world.config.project_number);
        {
            let mut counts = lock(&self.counts);
            counts.total += 1;
            *counts.by_call.entry(label).or_insert(0) += 1;
            if !authenticated {
                counts.unauthenticated += 1;
            }
            if fault.is_some() {
                counts.faults_injected += 1;
            }
        }
        match fault {
            Some(answer) => answer,
            None => self.world.handle(req),
        }
    }

    /// Answers a control request under [`CONTROL_PREFIX`].
    fn control(&self, method: &str, path: &str, body: &Value) -> GcpAnswer {
        match (method, path.trim_start_matches(CONTROL_PREFIX)) {
            ("GET", "requests") => GcpAnswer::ok(json!(self.counts())),
            ("POST", "reset-counts") => {
                self.reset_counts();
                GcpAnswer::ok(json!({}))
            }
            ("POST", "faults") => match serde_json::from_value::<FaultPlan>(body.clone()) {
                Ok(plan) => match plan.validate() {
                    Ok(()) => {
                        self.set_faults(plan.clone());
                        GcpAnswer::ok(json!(plan))
                    }
                    Err(e) => GcpAnswer::invalid(e),
                },
                Err(e) => GcpAnswer::invalid(format!("invalid fault plan: {e}")),
            },
            ("GET", "state") => GcpAnswer::ok(self.state()),
            _ => GcpAnswer::not_found(format!("control endpoint {method} {path}")),
        }
    }
}

/// Scope collections dropped from call names when followed by an id and more.
const SCOPES: [&str; 4] = ["projects", "locations", "regions", "zones"];

/// The API host a path belongs to, for fault messages.
fn api_host(path: &str) -> String {
    let label = call_label("GET", path);
    let service = label
        .trim_start_matches("GET ")
        .split('.')
        .next()
        .unwrap_or("api")
        .to_owned();
    format!("{service}.googleapis.com")
}

/// Whether `seg` is an API version (`v1`, `v1beta4`, `v3`).
fn is_version(seg: &str) -> bool {
    seg.len() >= 2 && seg.starts_with('v') && seg[1..2].chars().all(|c| c.is_ascii_digit())
}

/// The service a `/vN/...` path belongs to, by its first collection.
fn service_of(collection: &str) -> &'static str {
    match collection {
        "clusters" | "operations" | "serverConfig" => "container",
        "keyRings" | "cryptoKeys" => "cloudkms",
        "secrets" => "secretmanager",
        "serviceAccounts" => "iam",
        "services" => "serviceusage",
        "instances" | "users" | "backupRuns" | "databases" => "sqladmin",
        _ => "api",
    }
}

/// The call name of a request (see [`RequestCounts`]).
pub(crate) fn call_label(method: &str, path: &str) -> String {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut i = 0;
    let mut service: Option<String> = None;
    if let Some(first) = segs.first() {
        if !is_version(first) {
            service = Some((*first).to_owned());
            i = 1;
        }
    }
    if segs.get(i).is_some_and(|s| is_version(s)) {
        i += 1;
    }
    let rest = &segs[i.min(segs.len())..];
    // Drop the scopes; what remains alternates collection, id, collection...
    let mut chain: Vec<&str> = Vec::new();
    let mut custom: Option<String> = None;
    let mut j = 0;
    while j < rest.len() {
        let seg = rest[j];
        if seg == "global" {
            j += 1;
            continue;
        }
        if SCOPES.contains(&seg) && j + 2 < rest.len() {
            j += 2;
            continue;
        }
        let (seg, verb) = seg.split_once(':').unwrap_or((seg, ""));
        if !verb.is_empty() {
            custom = Some(verb.to_owned());
        }
        chain.push(seg);
        j += 1;
    }
    if chain.first() == Some(&"aggregated") {
        chain.remove(0);
        custom = Some("aggregatedList".to_owned());
    }
    // Compute's custom methods are `.../{collection}/{id}/{action}`.
    let mut verb = custom;
    if verb.is_none()
        && chain.len() >= 3
        && chain.len() % 2 == 1
        && service.as_deref() == Some("compute")
    {
        verb = chain.pop().map(str::to_owned);
    }
    let named = chain.len() % 2 == 0 && !chain.is_empty();
    let names: Vec<&str> = chain.iter().step_by(2).copied().collect();
    let service = service.unwrap_or_else(|| {
        names
            .first()
            .map(|n| service_of(n).to_owned())
            .unwrap_or_else(|| "api".to_owned())
    });
    let verb = verb.unwrap_or_else(|| {
        let compute = service == "compute";
        match (method, named) {
            ("GET", true) => "get",
            ("GET", false) => "list",
            ("POST", false) if compute => "insert",
            ("POST", _) => "create",
            ("PUT", _) => "update",
            ("PATCH", _) => "patch",
            ("DELETE", _) => "delete",
            _ => "call",
        }
        .to_owned()
    });
    let mut label = format!("{method} {service}");
    for n in names {
        label.push('.');
        label.push_str(n);
    }
    label.push('.');
    label.push_str(&verb);
    label
}

/// Accepts connections until `shutdown` fires, then drops them all.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let service = service_fn(move |req| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, Infallible>(handle(req, &shared).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// An HTTP response carrying `answer`.
fn respond(answer: &GcpAnswer) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec_pretty(&answer.body).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    resp
}

/// Percent-decodes `s`; `plus_is_space` for query strings and form bodies.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => match s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 3;
                }
                None => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=1&b=2` as decoded pairs, in order.
pub(crate) fn parse_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// The request body as JSON: `Null` when empty, an object of strings for a form
/// body, an error answer when it is not JSON.
fn parse_body(bytes: &[u8], content_type: &str) -> Result<Value, GcpAnswer> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let text = String::from_utf8_lossy(bytes);
        let map: Map<String, Value> = parse_pairs(&text)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        return Ok(Value::Object(map));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| GcpAnswer::invalid(format!("Invalid JSON payload received. {e}")))
}

/// Answers one HTTP request.
async fn handle(req: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_owned();
    let raw_path = req.uri().path().to_owned();
    let query = req.uri().query().map(parse_pairs).unwrap_or_default();
    let authenticated = req.headers().contains_key(AUTHORIZATION);
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return respond(&GcpAnswer::error(
                413,
                "INVALID_ARGUMENT",
                "Request body too large or unreadable.",
            ))
        }
    };
    let body = match parse_body(&body, &content_type) {
        Ok(body) => body,
        Err(answer) => return respond(&answer),
    };
    let path = percent_decode(&raw_path, false);
    if path.starts_with(CONTROL_PREFIX) {
        return respond(&shared.control(&method, &path, &body));
    }
    let request = GcpRequest {
        method,
        path,
        query,
        body,
    };
    respond(&shared.answer(&request, authenticated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_labels() {
        let l = |m: &str, p: &str| call_label(m, p);
        assert_eq!(
            l("GET", "/compute/v1/projects/p/global/networks/n"),
            "GET compute.networks.get"
        );
        assert_eq!(
            l("GET", "/compute/v1/projects/p/global/networks"),
            "GET compute.networks.list"
        );
        assert_eq!(
            l("POST", "/compute/v1/projects/p/regions/r/subnetworks"),
            "POST compute.subnetworks.insert"
        );
        assert_eq!(
            l(
                "POST",
                "/compute/v1/projects/p/global/networks/n/removePeering"
            ),
            "POST compute.networks.removePeering"
        );
        assert_eq!(
            l(
                "POST",
                "/compute/v1/projects/p/regions/r/operations/op/wait"
            ),
            "POST compute.operations.wait"
        );
        assert_eq!(
            l("GET", "/compute/v1/projects/p/zones"),
            "GET compute.zones.list"
        );
        assert_eq!(
            l("GET", "/compute/v1/projects/p/regions/europe-west2"),
            "GET compute.regions.get"
        );
        assert_eq!(
            l("GET", "/v1/projects/p/locations/l/clusters/c"),
            "GET container.clusters.get"
        );
        assert_eq!(
            l("POST", "/v1/projects/p/locations/l/clusters/c/nodePools"),
            "POST container.clusters.nodePools.create"
        );
        assert_eq!(
            l(
                "POST",
                "/v1/projects/p/locations/l/clusters/c:setResourceLabels"
            ),
            "POST container.clusters.setResourceLabels"
        );
        assert_eq!(
            l("PUT", "/v1/projects/p/locations/l/clusters/c/nodePools/np"),
            "PUT container.clusters.nodePools.update"
        );
        assert_eq!(
            l("GET", "/v1/projects/p/locations/-/clusters"),
            "GET container.clusters.list"
        );
    }

    #[test]
    fn bodies() {
        assert_eq!(parse_body(b"", ""), Ok(Value::Null));
        assert_eq!(
            parse_body(b"a=1&b=x+y", "application/x-www-form-urlencoded"),
            Ok(json!({"a": "1", "b": "x y"}))
        );
        assert!(parse_body(b"{nope", "application/json").is_err());
        assert_eq!(percent_decode("c%3AsetSize", false), "c:setSize");
    }
}
