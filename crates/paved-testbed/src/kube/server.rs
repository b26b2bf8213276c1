//! The HTTPS server: authentication, routing, discovery, request counts.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::api_error::{success_status, ApiError};
use super::auth::{authenticate, EksVerifier};
use super::resources::{self, ResourceType};
use super::selector::{FieldSelector, LabelSelector};
use super::store::{Deletion, Propagation, Store};

/// Path prefix of the stand-in's own control endpoints (no authentication).
pub const CONTROL_PREFIX: &str = "/_fake/";

/// Largest request body accepted (16 MiB).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Request counts by `VERB Kind`.
///
/// Verbs are the API server's, upper-cased: `GET`, `LIST`, `CREATE`,
/// `UPDATE`, `PATCH`, `APPLY`, `DELETE`, `DELETECOLLECTION`; discovery
/// (`/version`, `/api`, `/apis`, `/openapi`...) counts as `GET discovery`,
/// rejected tokens as `UNAUTHORIZED`, unknown paths as `<METHOD> unknown`.
/// Control requests under `/_fake/` are not counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    /// Every counted request.
    pub total: u64,
    /// Requests by `VERB Kind`, e.g. `"APPLY Deployment"`.
    pub by_verb_kind: BTreeMap<String, u64>,
}

impl RequestCounts {
    /// The count of `verb` (e.g. `APPLY`) on `kind` (e.g. `Deployment`).
    pub fn count(&self, verb: &str, kind: &str) -> u64 {
        self.by_verb_kind
            .get(&format!("{verb} {kind}"))
            .copied()
            .unwrap_or(0)
    }

    fn add(&mut self, key: String) {
        self.total += 1;
        *self.by_verb_kind.entry(key).or_insert(0) += 1;
    }
}

/// State shared by the server and its handle.
#[derive(Debug)]
pub struct Shared {
    store: Mutex<Store>,
    counts: Mutex<RequestCounts>,
    token: String,
    eks: Option<EksVerifier>,
    git_version: String,
    server_address: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves consistent-enough data for a test double.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Shared state for a server at `server_address` (`127.0.0.1:PORT`).
    pub fn new(
        store: Store,
        token: String,
        eks: Option<EksVerifier>,
        git_version: String,
        server_address: String,
    ) -> Self {
        Self {
            store: Mutex::new(store),
            counts: Mutex::new(RequestCounts::default()),
            token,
            eks,
            git_version,
            server_address,
        }
    }

    /// A snapshot of the request counts.
    pub fn counts(&self) -> RequestCounts {
        lock(&self.counts).clone()
    }

    /// Zeroes the request counts.
    pub fn reset_counts(&self) {
        *lock(&self.counts) = RequestCounts::default();
    }

    /// One object as the API would answer it.
    pub fn object(&self, rt: &ResourceType, namespace: &str, name: &str) -> Option<Value> {
        lock(&self.store)
            .get(rt, namespace, name, Instant::now())
            .ok()
    }

    /// Every object deleted by a request so far, oldest first.
    pub fn deletions(&self) -> Vec<Deletion> {
        lock(&self.store).deletions().to_vec()
    }

    fn count(&self, key: String) {
        lock(&self.counts).add(key);
    }
}

/// Accepts TLS connections until `shutdown` fires, then drops them all.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
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
                let acceptor = acceptor.clone();
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else {
                        return;
                    };
                    let service = service_fn(move |req| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, Infallible>(handle(req, &shared).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

fn respond(code: u16, body: &Value) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn respond_error(e: &ApiError) -> Response<Full<Bytes>> {
    respond(e.code, &e.to_status())
}

fn percent_decode(s: &str) -> String {
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
            b'+' => {
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

fn parse_query(query: Option<&str>) -> BTreeMap<String, String> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Where a path leads.
enum Route {
    /// A ready answer (discovery, version, health).
    Fixed(Value),
    /// A collection: namespace `None` = all namespaces or cluster scope.
    Collection(&'static ResourceType, Option<String>),
    /// One object (namespace empty for cluster-scoped types).
    Object(&'static ResourceType, String, String),
    /// A subresource of one object (only `status` reads are served).
    Subresource(&'static ResourceType, String, String, String),
}

fn version_doc(git_version: &str) -> Value {
    let mut parts = git_version.trim_start_matches('v').split('.');
    let major = parts.next().unwrap_or("1");
    let minor = parts.next().unwrap_or("0");
    json!({
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-08-13T00:00:00Z",
        "goVersion": "go1.22.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Result<Route, ApiError> {
    let find =
        |plural: &str| resources::find(group, version, plural).ok_or_else(ApiError::no_route);
    match rest {
        [plural] => Ok(Route::Collection(find(plural)?, None)),
        ["namespaces", ns, plural] => {
            let rt = find(plural)?;
            if !rt.namespaced {
                return Err(ApiError::no_route());
            }
            Ok(Route::Collection(rt, Some((*ns).to_string())))
        }
        ["namespaces", ns, plural, name] => {
            let rt = find(plural)?;
            if !rt.namespaced {
                return Err(ApiError::no_route());
            }
            Ok(Route::Object(rt, (*ns).to_string(), (*name).to_string()))
        }
        ["namespaces", ns, plural, name, sub] => {
            let rt = find(plural)?;
            Ok(Route::Subresource(
                rt,
                (*ns).to_string(),
                (*name).to_string(),
                (*sub).to_string(),
            ))
        }
        [plural, name] => {
            let rt = find(plural)?;
            if rt.namespaced {
                return Err(ApiError::no_route());
            }
            Ok(Route::Object(rt, String::new(), (*name).to_string()))
        }
        [plural, name, sub] => {
            let rt = find(plural)?;
            if rt.namespaced {
                return Err(ApiError::no_route());
            }
            Ok(Route::Subresource(
                rt,
                String::new(),
                (*name).to_string(),
                (*sub).to_string(),
            ))
        }
        _ => Err(ApiError::no_route()),
    }
}

fn route(path: &str, shared: &Shared) -> Result<Route, ApiError> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let found = |doc: Option<Value>| doc.map(Route::Fixed).ok_or_else(ApiError::no_route);
    match segments.as_slice() {
        ["version"] => Ok(Route::Fixed(version_doc(&shared.git_version))),
        ["healthz" | "livez" | "readyz"] => Ok(Route::Fixed(json!("ok"))),
        ["api"] => Ok(Route::Fixed(resources::api_versions(
            &shared.server_address,
        ))),
        ["api", version] => found(resources::api_resource_list("", version)),
        ["apis"] => Ok(Route::Fixed(resources::api_group_list())),
        ["apis", group] => found(resources::api_group_doc(group)),
        ["apis", group, version] => found(resources::api_resource_list(group, version)),
        ["api", version, rest @ ..] => resource_route("", version, rest),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest),
        // No OpenAPI document is served: clients need --validate=false.
        _ => Err(ApiError::no_route()),
    }
}

/// The field manager of a non-apply write: `fieldManager`, else the
/// User-Agent's program name, as the API server defaults it.
fn update_manager(query: &BTreeMap<String, String>, req_user_agent: Option<&str>) -> String {
    if let Some(m) = query.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.clone();
    }
    req_user_agent
        .and_then(|ua| ua.split('/').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

fn is_dry_run(query: &BTreeMap<String, String>, body: Option<&Value>) -> bool {
    query.get("dryRun").is_some_and(|v| v == "All")
        || body
            .and_then(|b| b.get("dryRun"))
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v == "All"))
}

fn propagation(
    query: &BTreeMap<String, String>,
    body: Option<&Value>,
) -> Result<Propagation, ApiError> {
    let from_body = body
        .and_then(|b| b.get("propagationPolicy"))
        .and_then(Value::as_str);
    let from_orphan = body
        .and_then(|b| b.get("orphanDependents"))
        .and_then(Value::as_bool)
        .or_else(|| query.get("orphanDependents").map(|v| v == "true"));
    match query
        .get("propagationPolicy")
        .map(String::as_str)
        .or(from_body)
    {
        Some(p) => Propagation::parse(p),
        None if from_orphan == Some(true) => Ok(Propagation::Orphan),
        None => Ok(Propagation::Background),
    }
}

fn selectors(query: &BTreeMap<String, String>) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(query.get("fieldSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    Ok((labels, fields))
}

fn parse_body(body: &[u8], what: &str) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "cannot parse the {what} as JSON ({e}); the stand-in reads JSON bodies only (kubectl sends JSON)"
        ))
    })
}

async fn handle(req: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = parse_query(req.uri().query());

    if let Some(control) = path.strip_prefix(CONTROL_PREFIX) {
        return match (method.clone(), control) {
            (Method::GET, "requests") => respond(200, &json!(shared.counts())),
            (Method::GET, "deletions") => {
                let list: Vec<Value> = shared.deletions().iter().map(Deletion::to_json).collect();
                respond(200, &Value::Array(list))
            }
            (Method::POST, "reset-counts") => {
                shared.reset_counts();
                respond(200, &json!({}))
            }
            _ => respond_error(&ApiError::no_route()),
        };
    }

    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    if let Err(why) = authenticate(token, &shared.token, shared.eks.as_ref(), SystemTime::now()) {
        shared.count("UNAUTHORIZED".into());
        let mut resp = respond_error(&ApiError::unauthorized());
        if let Ok(v) = HeaderValue::from_str(&why.to_string()) {
            resp.headers_mut().insert("x-paved-kube-fake-auth-error", v);
        }
        return resp;
    }

    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);

    let route = match route(&path, shared) {
        Ok(r) => r,
        Err(e) => {
            if path.starts_with("/openapi") {
                shared.count(format!("{method} discovery"));
            } else {
                shared.count(format!("{method} unknown"));
            }
            return respond_error(&e);
        }
    };
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return respond_error(&ApiError::bad_request(
                "the request body is too large or broken",
            ))
        }
    };

    let now = Instant::now();
    let (verb, result) = match route {
        Route::Fixed(doc) => {
            shared.count("GET discovery".into());
            if method != Method::GET {
                return respond_error(&ApiError::method_not_allowed("only GET is served here"));
            }
            return respond(200, &doc);
        }
        Route::Subresource(rt, ns, name, sub) => {
            let verb = if method == Method::GET {
                "GET"
            } else {
                "UNSUPPORTED"
            };
            shared.count(format!("{verb} {}/{sub}", rt.kind));
            if sub == "status" && method == Method::GET {
                return match lock(&shared.store).get(rt, &ns, &name, now) {
                    Ok(obj) => respond(200, &obj),
                    Err(e) => respond_error(&e),
                };
            }
            return respond_error(&ApiError::no_route());
        }
        Route::Collection(rt, ns) => {
            let (verb, result) = collection(
                rt,
                ns,
                &method,
                &query,
                &body,
                user_agent.as_deref(),
                shared,
                now,
            );
            (format!("{verb} {}", rt.kind), result)
        }
        Route::Object(rt, ns, name) => {
            let (verb, result) = object(
                rt,
                &ns,
                &name,
                &method,
                &query,
                &content_type,
                &body,
                user_agent.as_deref(),
                shared,
                now,
            );
            (format!("{verb} {}", rt.kind), result)
        }
    };
    shared.count(verb);
    match result {
        Ok((code, value)) => respond(code, &value),
        Err(e) => respond_error(&e),
    }
}

type Answer = Result<(u16, Value), ApiError>;

#[allow(clippy::too_many_arguments)]
fn collection(
    rt: &'static ResourceType,
    ns: Option<String>,
    method: &Method,
    query: &BTreeMap<String, String>,
    body: &[u8],
    user_agent: Option<&str>,
    shared: &Shared,
    now: Instant,
) -> (&'static str, Answer) {
    match *method {
        Method::GET => {
            if query.get("watch").is_some_and(|w| w == "true" || w == "1") {
                return (
                    "WATCH",
                    Err(ApiError::method_not_allowed(
                        "watch is not supported by the stand-in",
                    )),
                );
            }
            let answer = selectors(query).map(|(labels, fields)| {
                (
                    200,
                    lock(&shared.store).list(rt, ns.as_deref(), &labels, &fields, now),
                )
            });
            ("LIST", answer)
        }
        Method::POST => {
            let answer = (|| {
                let body = parse_body(body, "object")?;
                let manager = update_manager(query, user_agent);
                let w = lock(&shared.store).create(
                    rt,
                    ns.as_deref().unwrap_or(""),
                    &body,
                    &manager,
                    now,
                    is_dry_run(query, None),
                )?;
                Ok((201, w.object))
            })();
            ("CREATE", answer)
        }
        Method::DELETE => {
            let answer = (|| {
                let options = if body.is_empty() {
                    None
                } else {
                    Some(parse_body(body, "DeleteOptions")?)
                };
                let policy = propagation(query, options.as_ref())?;
                let (labels, fields) = selectors(query)?;
                let list = lock(&shared.store).delete_collection(
                    rt,
                    ns.as_deref(),
                    &labels,
                    &fields,
                    policy,
                    now,
                    is_dry_run(query, options.as_ref()),
                );
                Ok((200, list))
            })();
            ("DELETECOLLECTION", answer)
        }
        _ => (
            "UNSUPPORTED",
            Err(ApiError::method_not_allowed(format!(
                "{method} is not served on a collection"
            ))),
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn object(
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    method: &Method,
    query: &BTreeMap<String, String>,
    content_type: &str,
    body: &[u8],
    user_agent: Option<&str>,
    shared: &Shared,
    now: Instant,
) -> (&'static str, Answer) {
    match *method {
        Method::GET => (
            "GET",
            lock(&shared.store).get(rt, ns, name, now).map(|o| (200, o)),
        ),
        Method::PUT => {
            let answer = (|| {
                let body = parse_body(body, "object")?;
                let manager = update_manager(query, user_agent);
                let w = lock(&shared.store).update(
                    rt,
                    ns,
                    name,
                    &body,
                    &manager,
                    now,
                    is_dry_run(query, None),
                )?;
                Ok((200, w.object))
            })();
            ("UPDATE", answer)
        }
        Method::PATCH if content_type == "application/apply-patch+yaml" => {
            let answer = (|| {
                let manager = query
                    .get("fieldManager")
                    .filter(|m| !m.is_empty())
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests",
                        )
                    })?;
                let body = parse_body(body, "apply configuration")?;
                let force = query.get("force").is_some_and(|f| f == "true");
                let w = lock(&shared.store).apply(
                    rt,
                    ns,
                    name,
                    &body,
                    manager,
                    force,
                    now,
                    is_dry_run(query, None),
                )?;
                Ok((if w.created { 201 } else { 200 }, w.object))
            })();
            ("APPLY", answer)
        }
        Method::PATCH => {
            let json_patch = match content_type {
                "application/merge-patch+json" | "application/strategic-merge-patch+json" => false,
                "application/json-patch+json" => true,
                other => return ("PATCH", Err(ApiError::unsupported_media_type(other))),
            };
            let answer = (|| {
                let patch = parse_body(body, "patch")?;
                let manager = update_manager(query, user_agent);
                let w = lock(&shared.store).patch(
                    rt,
                    ns,
                    name,
                    &patch,
                    json_patch,
                    &manager,
                    now,
                    is_dry_run(query, None),
                )?;
                Ok((200, w.object))
            })();
            ("PATCH", answer)
        }
        Method::DELETE => {
            let answer = (|| {
                let options = if body.is_empty() {
                    None
                } else {
                    Some(parse_body(body, "DeleteOptions")?)
                };
                let policy = propagation(query, options.as_ref())?;
                let deleted = lock(&shared.store).delete(
                    rt,
                    ns,
                    name,
                    policy,
                    now,
                    is_dry_run(query, options.as_ref()),
                )?;
                if rt.kind == "Namespace" {
                    return Ok((200, deleted));
                }
                let mut details = json!({
                    "name": name,
                    "kind": rt.plural,
                    "uid": deleted.pointer("/metadata/uid").cloned().unwrap_or(Value::Null),
                });
                if !rt.group.is_empty() {
                    details["group"] = json!(rt.group);
                }
                Ok((200, success_status(details)))
            })();
            ("DELETE", answer)
        }
        _ => (
            "UNSUPPORTED",
            Err(ApiError::method_not_allowed(format!(
                "{method} is not served on an object"
            ))),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_versions() {
        let q = parse_query(Some("labelSelector=app%3Dx%2Ctier+in+(a)&force=true"));
        assert_eq!(q["labelSelector"], "app=x,tier in (a)");
        assert_eq!(q["force"], "true");
        let v = version_doc("v1.31.0");
        assert_eq!(v["major"], "1");
        assert_eq!(v["minor"], "31");
    }

    #[test]
    fn propagation_from_query_or_body() {
        let q = parse_query(Some("propagationPolicy=Orphan"));
        assert_eq!(propagation(&q, None).unwrap(), Propagation::Orphan);
        let body =
            json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"});
        assert_eq!(
            propagation(&BTreeMap::new(), Some(&body)).unwrap(),
            Propagation::Foreground
        );
        let orphan = json!({"orphanDependents": true});
        assert_eq!(
            propagation(&BTreeMap::new(), Some(&orphan)).unwrap(),
            Propagation::Orphan
        );
        assert_eq!(
            propagation(&BTreeMap::new(), None).unwrap(),
            Propagation::Background
        );
        assert_eq!(
            propagation(&parse_query(Some("propagationPolicy=Nope")), None)
                .unwrap_err()
                .code,
            400
        );
    }

    #[test]
    fn counts() {
        let mut c = RequestCounts::default();
        c.add("APPLY Deployment".into());
        c.add("APPLY Deployment".into());
        assert_eq!(c.count("APPLY", "Deployment"), 2);
        assert_eq!(c.total, 2);
    }
}
