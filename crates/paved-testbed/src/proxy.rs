//! The proxy server: listener, forwarding, fault injection and control plane.
//!
//! [`FaultProxy::start`] binds `127.0.0.1` and runs the server on a
//! dedicated thread with its own single-threaded Tokio runtime, so it works
//! the same from synchronous tests, from `#[tokio::test]` functions of any
//! flavour and from the `paved-fault-proxy` binary, and blocking calls on the
//! [`ProxyHandle`] can never starve it. Dropping the handle stops the
//! server, closes every connection and frees the port before `drop`
//! returns.
//!
//! With [`ProxyHandle::with_access_entries`] the proxy also answers the EKS
//! access-entry API itself (see [`crate::access_entries`]), and with
//! [`ProxyHandle::with_eks_extras`] the EKS add-on and version-update calls
//! (see [`crate::eks`]).
//!
//! Order of work on a request: classify and count it, draw its latency and
//! fault; then, with [`crate::replay`] on, answer a recorded read from its
//! record (or forward it and record the answer); otherwise answer it from a
//! stand-in or the upstream. Last, with the [`crate::provisioning`] model on,
//! a write's answer teaches the model and a read's answer gets its modelled
//! status (replayed answers too).

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_TYPE, HOST};
use hyper::http::uri::Authority;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, Uri, Version};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};

use crate::access_entries::{self, AccessEntry, AccessEntryStore, Answer, DEFAULT_REGION};
use crate::amp::{self, AmpStore};
use crate::classify::{classify, region_of, Classification};
use crate::config::FaultConfig;
use crate::eks::{self, EksStore, Lookup, RewriteTarget};
use crate::error::Error;
use crate::faults::{injected_error, FaultKind};
use crate::provisioning::{Interest, ModelReport, ModelRequest, ModelSettings, ProvisioningModel};
use crate::replay::{self, Recorded, ReplaySettings, ReplayStatus, ReplayStore};
use crate::stats::{Counters, Stats};

/// Path prefix of the control plane. moto never serves it (S3 bucket names
/// cannot start with an underscore), and requests under it are never
/// forwarded, counted or faulted.
pub const CONTROL_PREFIX: &str = "/__paved_proxy";

/// Largest request body the proxy buffers (64 MiB); larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Largest body accepted by `POST /__paved_proxy/config`.
const MAX_CONTROL_BODY_BYTES: usize = 1024 * 1024;

/// How long dropping a handle waits for stray blocking work (DNS lookups of
/// the upstream host) before giving up on it.
const RUNTIME_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);

/// Hop-by-hop headers, which are not forwarded in either direction.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
];

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ProxyBody = BoxBody<Bytes, BoxError>;
type UpstreamClient = Client<HttpConnector, Full<Bytes>>;

/// Entry point: starts proxies.
#[derive(Debug)]
pub struct FaultProxy;

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (an `http://host:port[/base]`
    /// URL, typically moto) on a free port of 127.0.0.1.
    pub fn start(upstream: &str, config: FaultConfig) -> Result<ProxyHandle, Error> {
        Self::start_on(upstream, 0, config)
    }

    /// Like [`FaultProxy::start`], on a given port of 127.0.0.1 (0 = any
    /// free port).
    pub fn start_on(upstream: &str, port: u16, config: FaultConfig) -> Result<ProxyHandle, Error> {
        let upstream = Upstream::parse(upstream)?;
        config.validate()?;
        let listener = StdTcpListener::bind(("127.0.0.1", port))
            .map_err(|source| Error::Bind { port, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| Error::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| Error::Bind { port, source })?;

        let seed = config.seed.unwrap_or_else(clock_seed);
        let mut counters = Counters::default();
        counters.stats.seed = seed;
        let shared = Arc::new(Shared {
            upstream,
            state: Mutex::new(State {
                config,
                rng: Xoshiro256PlusPlus::seed_from_u64(seed),
                counters,
            }),
            request_ids: AtomicU64::new(0),
            access_entries: Mutex::new(AccessEntryStore::default()),
            eks: Mutex::new(EksStore::default()),
            amp: Mutex::new(AmpStore::default()),
            replay: Mutex::new(ReplayStore::default()),
            provisioning: Mutex::new(ProvisioningModel::default()),
        });

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), std::io::Error>>();
        let server_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("paved-fault-proxy-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    serve(listener, server_shared, shutdown_rx).await;
                });
                runtime.shutdown_timeout(RUNTIME_SHUTDOWN_TIMEOUT);
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(Error::Io(e));
            }
            Err(_) => {
                let _ = thread.join();
                return Err(Error::ThreadDied);
            }
        }
        Ok(ProxyHandle {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }
}

/// A running proxy. Dropping it (or calling [`ProxyHandle::shutdown`])
/// stops the server and frees its port.
#[derive(Debug)]
pub struct ProxyHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ProxyHandle {
    /// The base URL to give the AWS SDK, e.g. as `AWS_ENDPOINT_URL`:
    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address (always on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Zeroes the counters and restarts the RNG sequence from the seed in use.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// The configuration in force.
    pub fn config(&self) -> FaultConfig {
        self.shared.state().config.clone()
    }

    /// Replaces the configuration (counters are kept) and reseeds the RNG
    /// from `config.seed`, or from the clock when it is `None`. Fails,
    /// leaving the old configuration in force, when a rate is invalid.
    pub fn set_config(&self, config: FaultConfig) -> Result<(), Error> {
        self.shared.set_config(config)
    }

    /// Turns on the EKS access-entry stand-in (see [`crate::access_entries`]):
    /// from now on the proxy answers CreateAccessEntry, ListAccessEntries,
    /// DescribeAccessEntry, DeleteAccessEntry and AssociateAccessPolicy itself
    /// instead of forwarding them. Independent of the [`FaultConfig`]: those
    /// requests are still counted and can still get faults. Returns the
    /// handle, for `FaultProxy::start(..)?.with_access_entries()`.
    pub fn with_access_entries(self) -> Self {
        self.set_access_entries(true);
        self
    }

    /// Turns the access-entry stand-in on or off at run time. Turning it off
    /// keeps the entries (they are answered again when it is turned back on);
    /// while it is off, access-entry requests are forwarded like any other.
    pub fn set_access_entries(&self, on: bool) {
        self.shared.access_entries().set_enabled(on);
    }

    /// Whether the access-entry stand-in is on.
    pub fn access_entries_enabled(&self) -> bool {
        self.shared.access_entries().enabled()
    }

    /// The stand-in's access entries of cluster `cluster`, sorted by principal
    /// ARN (empty when it has none).
    pub fn access_entries(&self, cluster: &str) -> Vec<AccessEntry> {
        self.shared.access_entries().entries(cluster)
    }

    /// Every access entry the stand-in holds, by cluster name then principal.
    pub fn all_access_entries(&self) -> Vec<AccessEntry> {
        self.shared.access_entries().all_entries()
    }

    /// The access entry of `principal_arn` on `cluster`, if the stand-in holds one.
    pub fn access_entry(&self, cluster: &str, principal_arn: &str) -> Option<AccessEntry> {
        self.shared.access_entries().entry(cluster, principal_arn)
    }

    /// Adds an access entry for `principal_arn` on `cluster` as if someone had
    /// made it by hand: type `STANDARD`, no tags, no access policy. Returns
    /// `false`, changing nothing, when the principal has an entry already.
    pub fn add_access_entry(&self, cluster: &str, principal_arn: &str) -> bool {
        self.shared
            .access_entries()
            .add_by_hand(cluster, principal_arn)
    }

    /// Deletes the access entry of `principal_arn` on `cluster`, as if someone
    /// had revoked it by hand. Returns `false` when there was none.
    pub fn remove_access_entry(&self, cluster: &str, principal_arn: &str) -> bool {
        self.shared.access_entries().remove(cluster, principal_arn)
    }

    /// The EKS add-on and update stand-in's state (its controls are in
    /// [`crate::eks`]).
    pub(crate) fn eks_store(&self) -> MutexGuard<'_, EksStore> {
        self.shared.eks()
    }

    /// The AMP alert manager definition stand-in's state (its controls are in
    /// [`crate::amp`]).
    pub(crate) fn amp_store(&self) -> MutexGuard<'_, AmpStore> {
        self.shared.amp()
    }

    /// Changes the record and replay switches (see [`crate::replay`]) and
    /// returns the new state.
    pub fn set_replay(&self, settings: &ReplaySettings) -> ReplayStatus {
        let mut store = self.shared.replay();
        store.apply(settings);
        store.status()
    }

    /// The record and replay state.
    pub fn replay_status(&self) -> ReplayStatus {
        self.shared.replay().status()
    }

    /// Turns on the provisioning-time model (see [`crate::provisioning`]) at
    /// `time_scale` modelled seconds per real second, with the default
    /// durations. Fails, leaving it off, when the scale is not a finite number
    /// above 0. Returns the handle, for
    /// `FaultProxy::start(..)?.with_provisioning_model(60.0)?`.
    pub fn with_provisioning_model(self, time_scale: f64) -> Result<Self, Error> {
        self.set_provisioning(&ModelSettings {
            enabled: Some(true),
            time_scale: Some(time_scale),
            ..ModelSettings::default()
        })?;
        Ok(self)
    }

    /// Changes the provisioning-time model and returns its new state. Fails,
    /// changing nothing, on a scale or duration that is not a finite number
    /// (above 0 for the scale, at least 0 for durations).
    pub fn set_provisioning(&self, settings: &ModelSettings) -> Result<ModelReport, Error> {
        let mut model = self.shared.provisioning();
        let now = Instant::now();
        model.apply(settings, now)?;
        Ok(model.report(now))
    }

    /// The provisioning-time model: kinds, durations, scale, objects in transition.
    pub fn provisioning_report(&self) -> ModelReport {
        self.shared.provisioning().report(Instant::now())
    }

    /// Stops the server now; the same as dropping the handle.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The upstream base URL, split for building forwarded URIs.
#[derive(Debug)]
struct Upstream {
    /// `http://host:port`
    origin: String,
    /// Authority, used as `Host` when the client sent none.
    authority: Authority,
    /// Base path without a trailing slash (usually empty).
    base_path: String,
}

impl Upstream {
    fn parse(url: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidUpstream {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let uri: Uri = url
            .trim()
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| invalid(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(_) => return Err(invalid("only http:// upstreams are supported")),
            None => return Err(invalid("missing http:// scheme")),
        }
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| invalid("missing host"))?;
        if uri.query().is_some() {
            return Err(invalid("must not have a query string"));
        }
        Ok(Self {
            origin: format!("http://{authority}"),
            authority,
            base_path: uri.path().trim_end_matches('/').to_string(),
        })
    }

    fn uri_for(&self, original: &Uri) -> Result<Uri, hyper::http::uri::InvalidUri> {
        let path_and_query = original
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        format!("{}{}{}", self.origin, self.base_path, path_and_query).parse()
    }
}

/// State shared between the handle and the server.
#[derive(Debug)]
struct Shared {
    upstream: Upstream,
    state: Mutex<State>,
    request_ids: AtomicU64,
    /// The EKS access-entry stand-in (off unless turned on).
    access_entries: Mutex<AccessEntryStore>,
    /// The EKS add-on and update stand-in (off unless turned on).
    eks: Mutex<EksStore>,
    /// The AMP alert manager definition stand-in (off unless turned on).
    amp: Mutex<AmpStore>,
    /// Recorded read answers (off unless turned on).
    replay: Mutex<ReplayStore>,
    /// The provisioning-time model (off unless turned on).
    provisioning: Mutex<ProvisioningModel>,
}

#[derive(Debug)]
struct State {
    config: FaultConfig,
    rng: Xoshiro256PlusPlus,
    counters: Counters,
}

/// What to do with one request.
#[derive(Debug, Default)]
struct Decision {
    delay: Option<Duration>,
    fault: Option<FaultKind>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stats(&self) -> Stats {
        self.state().counters.stats.clone()
    }

    fn access_entries(&self) -> MutexGuard<'_, AccessEntryStore> {
        self.access_entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn eks(&self) -> MutexGuard<'_, EksStore> {
        self.eks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn amp(&self) -> MutexGuard<'_, AmpStore> {
        self.amp.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn replay(&self) -> MutexGuard<'_, ReplayStore> {
        self.replay.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn provisioning(&self) -> MutexGuard<'_, ProvisioningModel> {
        self.provisioning
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn reset(&self) {
        let mut state = self.state();
        state.counters.reset();
        let seed = state.counters.stats.seed;
        state.rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    }

    fn set_config(&self, config: FaultConfig) -> Result<(), Error> {
        config.validate()?;
        let seed = config.seed.unwrap_or_else(clock_seed);
        let mut state = self.state();
        state.config = config;
        state.rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        state.counters.stats.seed = seed;
        Ok(())
    }

    /// Counts the request and draws its latency and fault.
    fn decide(&self, class: &Classification) -> Decision {
        let mut guard = self.state();
        let State {
            config,
            rng,
            counters,
        } = &mut *guard;
        counters.count(&class.service, &class.action);
        if !config.is_eligible(&class.service, &class.action) {
            return Decision::default();
        }
        // Always three draws per eligible request, so the sequence depends
        // only on the seed and the order of eligible requests.
        let u_latency: f64 = rng.random();
        let u_jitter: f64 = rng.random();
        let u_fault: f64 = rng.random();

        let mut decision = Decision::default();
        if config.has_latency() && u_latency < config.latency_rate {
            // Truncation is the intent: uniform over 0..=jitter_ms.
            let jitter =
                ((u_jitter * (config.jitter_ms as f64 + 1.0)) as u64).min(config.jitter_ms);
            decision.delay = Some(Duration::from_millis(
                config.latency_ms.saturating_add(jitter),
            ));
            counters.latency(&class.service, &class.action);
        }
        let bands = [
            (FaultKind::Throttle, config.throttle_rate),
            (FaultKind::Error500, config.error_500_rate),
            (FaultKind::Error503, config.error_503_rate),
            (FaultKind::Drop, config.drop_rate),
        ];
        let mut edge = 0.0;
        for (kind, rate) in bands {
            edge += rate;
            if rate > 0.0 && u_fault < edge {
                decision.fault = Some(kind);
                counters.fault(&class.service, &class.action, kind);
                break;
            }
        }
        decision
    }

    fn next_request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        format!("00000000-0000-4000-8000-{n:012x}")
    }
}

/// Decrements the in-flight count when the request is done or abandoned.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        shared.state().counters.request_started();
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.state().counters.request_finished();
    }
}

fn clock_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (u64::from(std::process::id()) << 32)
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut shutdown: oneshot::Receiver<()>) {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: UpstreamClient = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector);
    loop {
        tokio::select! {
            // Fires on an explicit shutdown and when the handle is gone.
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    tokio::spawn(serve_connection(stream, Arc::clone(&shared), client.clone()));
                }
                // Out of file descriptors and the like: back off briefly.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>, client: UpstreamClient) {
    let _ = stream.set_nodelay(true);
    let drop_now = Arc::new(Notify::new());
    let service_drop = Arc::clone(&drop_now);
    let service = service_fn(move |req| {
        let shared = Arc::clone(&shared);
        let client = client.clone();
        let drop_now = Arc::clone(&service_drop);
        async move { Ok::<_, Infallible>(handle(req, &shared, &client, &drop_now).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        // A dropped-connection fault: dropping `conn` closes the socket
        // without writing anything.
        _ = drop_now.notified() => {}
    }
}

fn is_control(uri: &Uri) -> bool {
    let path = uri.path();
    path == CONTROL_PREFIX
        || path
            .strip_prefix(CONTROL_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

async fn handle(
    req: Request<Incoming>,
    shared: &Shared,
    client: &UpstreamClient,
    drop_now: &Notify,
) -> Response<ProxyBody> {
    if is_control(req.uri()) {
        return control(req, shared).await;
    }
    let in_flight = InFlight::enter(shared);
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            shared.state().counters.upstream_error();
            let status = if e.is::<http_body_util::LengthLimitError>() {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            return text(
                status,
                format!("paved-fault-proxy: cannot read request body: {e}"),
            );
        }
    };
    let class = classify(&parts.method, &parts.uri, &parts.headers, &body);
    let decision = shared.decide(&class);
    if let Some(delay) = decision.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(kind) = decision.fault {
        if kind == FaultKind::Drop {
            // Done with this request before the client can see the close.
            drop(in_flight);
            drop_now.notify_one();
            // The connection task drops this future together with the socket.
            let never: Infallible = std::future::pending().await;
            match never {}
        }
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let request_id = shared.next_request_id();
        if let Some(error) = injected_error(
            kind,
            class.protocol,
            &class.service,
            &request_id,
            content_type,
        ) {
            return error_response(error.status, &error.headers, error.body);
        }
    }
    let model_request = shared
        .provisioning()
        .enabled()
        .then(|| ModelRequest::new(&class, &parts.method, &parts.uri, &body));
    let read = replay::is_read(&class, &parts.method);
    let replay_key = shared
        .replay()
        .tracking()
        .then(|| replay::request_key(&class, &parts.method, &parts.uri, &parts.headers, &body));
    let mut replayed = None;
    let mut generation = 0;
    if let Some(key) = &replay_key {
        if read {
            let hit = shared.replay().lookup(key);
            match hit {
                Some(recorded) => {
                    shared
                        .state()
                        .counters
                        .replayed(&class.service, &class.action);
                    replayed = Some(recorded_response(recorded));
                }
                None => generation = shared.replay().generation(&class.service),
            }
        } else {
            shared.replay().invalidate(&class.service);
        }
    }
    let response = match replayed {
        Some(response) => response,
        None => {
            let response = answer(parts, body, &class, shared, client).await;
            match &replay_key {
                Some(key) if read => {
                    record(response, key, &class.service, generation, shared).await
                }
                Some(_) => {
                    shared.replay().invalidate(&class.service);
                    response
                }
                None => response,
            }
        }
    };
    let response = match &model_request {
        Some(request) => model_answer(response, request, shared).await,
        None => response,
    };
    drop(in_flight);
    response
}

/// The answer to a request that got no fault and no replay: from a stand-in or
/// the upstream (with the EKS stand-in's rewrites).
async fn answer(
    parts: hyper::http::request::Parts,
    body: Bytes,
    class: &Classification,
    shared: &Shared,
    client: &UpstreamClient,
) -> Response<ProxyBody> {
    let stand_in = shared.access_entries().enabled();
    if stand_in {
        if let Some(op) = access_entries::route(&parts.method, parts.uri.path()) {
            let region =
                region_of(&parts.uri, &parts.headers).unwrap_or_else(|| DEFAULT_REGION.to_string());
            let answer = shared
                .access_entries()
                .answer(&op, parts.uri.query(), &body, &region);
            return stand_in_response(answer, &shared.next_request_id());
        }
    }
    let eks_on = shared.eks().enabled();
    if eks_on {
        if let Some(op) = eks::route(&parts.method, parts.uri.path()) {
            return eks_stand_in(op, &parts, &body, shared, client).await;
        }
    }
    let amp_on = class.service == "aps" && shared.amp().enabled();
    if amp_on {
        if let Some(op) = amp::route(&parts.method, parts.uri.path()) {
            return amp_stand_in(op, &parts, &body, shared, client).await;
        }
    }
    // AMP deletes a workspace's alert manager definition with the workspace.
    let deleted_workspace = amp_on
        .then(|| amp::deleted_workspace(&parts.method, parts.uri.path()))
        .flatten();
    // EKS deletes a cluster's access entries, add-ons and updates with the cluster.
    let deleted_cluster = (stand_in || eks_on)
        .then(|| access_entries::deleted_cluster(&parts.method, parts.uri.path()))
        .flatten();
    let rewrite = eks_on
        .then(|| eks::rewrite_target(&parts.method, parts.uri.path()))
        .flatten()
        .filter(|target| shared.eks().wants_rewrite(target));
    let response = forward(parts, body, shared, client).await;
    if let Some(cluster) = deleted_cluster {
        if response.status().is_success() {
            if stand_in {
                shared.access_entries().forget_cluster(&cluster);
            }
            if eks_on {
                shared.eks().forget_cluster(&cluster);
            }
        }
    }
    if let Some(workspace) = deleted_workspace {
        if response.status().is_success() {
            shared.amp().forget_workspace(&workspace);
        }
    }
    match rewrite {
        Some(target) if response.status().is_success() => {
            rewrite_eks_answer(response, &target, shared).await
        }
        _ => response,
    }
}

/// Reads a whole answer; a body that cannot be read becomes a 502.
async fn buffer(
    response: Response<ProxyBody>,
    shared: &Shared,
) -> Result<(hyper::http::response::Parts, Bytes), Response<ProxyBody>> {
    let (parts, body) = response.into_parts();
    match body.collect().await {
        Ok(collected) => Ok((parts, collected.to_bytes())),
        Err(e) => {
            shared.state().counters.upstream_error();
            Err(text(
                StatusCode::BAD_GATEWAY,
                format!("paved-fault-proxy: upstream error: {e}"),
            ))
        }
    }
}

/// An answer with a buffered body and a `content-length` to match.
fn rebuilt(mut parts: hyper::http::response::Parts, body: Bytes) -> Response<ProxyBody> {
    parts.headers.remove(hyper::header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(hyper::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    Response::from_parts(parts, full(body))
}

/// A recorded answer, replayed.
fn recorded_response(recorded: Recorded) -> Response<ProxyBody> {
    let mut response = Response::new(full(recorded.body.clone()));
    *response.status_mut() =
        StatusCode::from_u16(recorded.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in recorded.headers {
        response.headers_mut().append(name, value);
    }
    response.headers_mut().insert(
        hyper::header::CONTENT_LENGTH,
        HeaderValue::from(recorded.body.len()),
    );
    response
}

/// Records a read's answer when recording is on and its status is worth
/// keeping.
async fn record(
    response: Response<ProxyBody>,
    key: &str,
    service: &str,
    generation: u64,
    shared: &Shared,
) -> Response<ProxyBody> {
    let status = response.status().as_u16();
    if !replay::is_recordable(status) || !shared.replay().recording() {
        return response;
    }
    let (parts, bytes) = match buffer(response, shared).await {
        Ok(buffered) => buffered,
        Err(response) => return response,
    };
    let recorded = Recorded::new(status, &parts.headers, bytes.clone());
    shared
        .replay()
        .store(key.to_string(), service, generation, recorded);
    rebuilt(parts, bytes)
}

/// Lets the provisioning model learn from a write's answer or rewrite a read's.
async fn model_answer(
    response: Response<ProxyBody>,
    request: &ModelRequest,
    shared: &Shared,
) -> Response<ProxyBody> {
    let interest = shared.provisioning().interest(request, Instant::now());
    if interest == Interest::None {
        return response;
    }
    let status = response.status().as_u16();
    let (mut parts, bytes) = match buffer(response, shared).await {
        Ok(buffered) => buffered,
        Err(response) => return response,
    };
    let now = Instant::now();
    if interest == Interest::Write {
        shared
            .provisioning()
            .after_write(request, status, &bytes, now);
        return rebuilt(parts, bytes);
    }
    let rewritten = shared
        .provisioning()
        .rewrite_read(request, status, &bytes, now);
    match rewritten {
        Some(rewritten) => {
            parts.status =
                StatusCode::from_u16(rewritten.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if let Some(content_type) = rewritten.content_type {
                parts
                    .headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                parts.headers.remove("x-amzn-errortype");
            }
            rebuilt(parts, Bytes::from(rewritten.body))
        }
        None => rebuilt(parts, bytes),
    }
}

/// Answers a request of the EKS add-on and update stand-in, after reading
/// the cluster (and node group) it is about from the upstream.
async fn eks_stand_in(
    op: eks::Operation,
    parts: &hyper::http::request::Parts,
    body: &Bytes,
    shared: &Shared,
    client: &UpstreamClient,
) -> Response<ProxyBody> {
    let (cluster_path, nodegroup_path) = eks::lookup_paths(parts.uri.path(), &op);
    let mut cluster = None;
    if let Some(path) = cluster_path {
        cluster = Some(upstream_lookup(&parts.headers, &path, shared, client).await);
    }
    let mut nodegroup = None;
    if let Some(path) = nodegroup_path {
        nodegroup = Some(upstream_lookup(&parts.headers, &path, shared, client).await);
    }
    let answer = shared.eks().answer(
        &op,
        parts.uri.query(),
        body,
        cluster,
        nodegroup,
        Instant::now(),
    );
    stand_in_response(answer, &shared.next_request_id())
}

/// Answers a request of the AMP alert manager definition stand-in, after
/// reading the workspace it is about from the upstream.
async fn amp_stand_in(
    op: amp::Operation,
    parts: &hyper::http::request::Parts,
    body: &Bytes,
    shared: &Shared,
    client: &UpstreamClient,
) -> Response<ProxyBody> {
    let workspace = upstream_lookup(&parts.headers, &amp::lookup_path(&op), shared, client).await;
    let answer = shared.amp().answer(&op, body, workspace, Instant::now());
    stand_in_response(answer, &shared.next_request_id())
}

/// An internal `GET path` to the upstream with the request's own headers
/// (signature, region, moto account): not counted, not faulted.
async fn upstream_lookup(
    headers: &hyper::HeaderMap,
    path: &str,
    shared: &Shared,
    client: &UpstreamClient,
) -> Lookup {
    let uri = match path
        .parse::<Uri>()
        .and_then(|p| shared.upstream.uri_for(&p))
    {
        Ok(uri) => uri,
        Err(e) => return Lookup::Failed(format!("bad path {path}: {e}")),
    };
    let mut headers = headers.clone();
    strip_hop_by_hop(&mut headers);
    for name in [
        hyper::header::EXPECT,
        hyper::header::CONTENT_LENGTH,
        CONTENT_TYPE,
    ] {
        headers.remove(name);
    }
    if !headers.contains_key(HOST) {
        if let Ok(host) = HeaderValue::from_str(shared.upstream.authority.as_str()) {
            headers.insert(HOST, host);
        }
    }
    let mut req = Request::new(Full::new(Bytes::new()));
    *req.method_mut() = Method::GET;
    *req.uri_mut() = uri;
    *req.version_mut() = Version::HTTP_11;
    *req.headers_mut() = headers;
    let response = match client.request(req).await {
        Ok(response) => response,
        Err(e) => return Lookup::Failed(format!("upstream error: {e}")),
    };
    let status = response.status();
    let bytes = match Limited::new(response.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return Lookup::Failed(format!("cannot read the upstream's answer: {e}")),
    };
    if status == StatusCode::NOT_FOUND {
        return Lookup::Missing;
    }
    if !status.is_success() {
        return Lookup::Failed(format!("upstream answered {status}"));
    }
    match serde_json::from_slice(&bytes) {
        Ok(value) => Lookup::Found(value),
        Err(e) => Lookup::Failed(format!("upstream answer is not JSON: {e}")),
    }
}

/// Rewrites a forwarded DescribeCluster or DescribeNodegroup answer with the
/// EKS stand-in's versions.
async fn rewrite_eks_answer(
    response: Response<ProxyBody>,
    target: &RewriteTarget,
    shared: &Shared,
) -> Response<ProxyBody> {
    let (mut parts, body) = response.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            shared.state().counters.upstream_error();
            return text(
                StatusCode::BAD_GATEWAY,
                format!("paved-fault-proxy: upstream error: {e}"),
            );
        }
    };
    let bytes = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut value) => {
            shared.eks().rewrite(target, &mut value, Instant::now());
            serde_json::to_vec(&value).map(Bytes::from).unwrap_or(bytes)
        }
        Err(_) => bytes,
    };
    parts.headers.insert(
        hyper::header::CONTENT_LENGTH,
        HeaderValue::from(bytes.len()),
    );
    Response::from_parts(parts, full(bytes))
}

/// The access-entry stand-in's answer as a REST-JSON response.
fn stand_in_response(answer: Answer, request_id: &str) -> Response<ProxyBody> {
    let mut headers = vec![
        ("content-type", "application/json".to_string()),
        ("x-amzn-RequestId", request_id.to_string()),
    ];
    if let Some(code) = answer.error_type {
        headers.push(("x-amzn-ErrorType", code.to_string()));
    }
    error_response(answer.status, &headers, answer.body.to_string())
}

fn strip_hop_by_hop(headers: &mut hyper::HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

async fn forward(
    parts: hyper::http::request::Parts,
    body: Bytes,
    shared: &Shared,
    client: &UpstreamClient,
) -> Response<ProxyBody> {
    let uri = match shared.upstream.uri_for(&parts.uri) {
        Ok(uri) => uri,
        Err(e) => {
            shared.state().counters.upstream_error();
            return text(
                StatusCode::BAD_REQUEST,
                format!("paved-fault-proxy: bad request URI: {e}"),
            );
        }
    };
    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    // The body is already buffered: the upstream gets it in one go.
    headers.remove(hyper::header::EXPECT);
    if !headers.contains_key(HOST) {
        if let Ok(host) = HeaderValue::from_str(shared.upstream.authority.as_str()) {
            headers.insert(HOST, host);
        }
    }
    let mut upstream_req = Request::new(Full::new(body));
    *upstream_req.method_mut() = parts.method;
    *upstream_req.uri_mut() = uri;
    *upstream_req.version_mut() = Version::HTTP_11;
    *upstream_req.headers_mut() = headers;

    match client.request(upstream_req).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, body.map_err(|e| Box::new(e) as BoxError).boxed())
        }
        Err(e) => {
            shared.state().counters.upstream_error();
            text(
                StatusCode::BAD_GATEWAY,
                format!("paved-fault-proxy: upstream error: {e}"),
            )
        }
    }
}

fn full(body: impl Into<Bytes>) -> ProxyBody {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed()
}

fn response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<ProxyBody> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn text(status: StatusCode, body: String) -> Response<ProxyBody> {
    response(status, "text/plain; charset=utf-8", body)
}

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response<ProxyBody> {
    match serde_json::to_vec_pretty(value) {
        Ok(body) => response(status, "application/json", body),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot serialise: {e}"),
        ),
    }
}

/// A response with the given status, headers and body (an injected error or
/// an answer of the access-entry stand-in).
fn error_response(
    status: u16,
    headers: &[(&'static str, String)],
    body: String,
) -> Response<ProxyBody> {
    let mut response = Response::new(full(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Reads a control request's JSON body as `T`; a 400 answer when it cannot.
async fn control_body<T: serde::de::DeserializeOwned>(
    req: Request<Incoming>,
) -> Result<T, Response<ProxyBody>> {
    let body = match Limited::new(req.into_body(), MAX_CONTROL_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return Err(json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({ "error": format!("cannot read body: {e}") }),
            ))
        }
    };
    serde_json::from_slice(&body).map_err(|e| {
        json(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({ "error": format!("invalid JSON: {e}") }),
        )
    })
}

/// `GET stats`, `POST reset`, `GET|POST config`, `GET|POST replay`,
/// `GET|POST provisioning`, `GET health` under [`CONTROL_PREFIX`].
async fn control(req: Request<Incoming>, shared: &Shared) -> Response<ProxyBody> {
    let path = req.uri().path().to_string();
    let sub = path
        .strip_prefix(CONTROL_PREFIX)
        .unwrap_or("")
        .trim_matches('/')
        .to_string();
    let method = req.method().clone();
    match (sub.as_str(), method) {
        ("stats", Method::GET) => json(StatusCode::OK, &shared.stats()),
        ("reset", Method::POST) => {
            shared.reset();
            json(StatusCode::OK, &shared.stats())
        }
        ("config", Method::GET) => json(StatusCode::OK, &shared.state().config.clone()),
        ("config", Method::POST) | ("config", Method::PUT) => {
            let config: FaultConfig = match control_body(req).await {
                Ok(config) => config,
                Err(response) => return response,
            };
            match shared.set_config(config) {
                Ok(()) => json(StatusCode::OK, &shared.state().config.clone()),
                Err(e) => json(
                    StatusCode::BAD_REQUEST,
                    &serde_json::json!({ "error": e.to_string() }),
                ),
            }
        }
        ("replay", Method::GET) => json(StatusCode::OK, &shared.replay().status()),
        ("replay", Method::POST) | ("replay", Method::PUT) => {
            let settings: ReplaySettings = match control_body(req).await {
                Ok(settings) => settings,
                Err(response) => return response,
            };
            let status = {
                let mut store = shared.replay();
                store.apply(&settings);
                store.status()
            };
            json(StatusCode::OK, &status)
        }
        ("provisioning", Method::GET) => json(
            StatusCode::OK,
            &shared.provisioning().report(Instant::now()),
        ),
        ("provisioning", Method::POST) | ("provisioning", Method::PUT) => {
            let settings: ModelSettings = match control_body(req).await {
                Ok(settings) => settings,
                Err(response) => return response,
            };
            let now = Instant::now();
            let result = {
                let mut model = shared.provisioning();
                model.apply(&settings, now).map(|()| model.report(now))
            };
            match result {
                Ok(report) => json(StatusCode::OK, &report),
                Err(e) => json(
                    StatusCode::BAD_REQUEST,
                    &serde_json::json!({ "error": e.to_string() }),
                ),
            }
        }
        ("health", Method::GET) => text(StatusCode::OK, "ok".to_string()),
        ("stats", _) | ("reset", _) | ("config", _) | ("replay", _) | ("provisioning", _)
        | ("health", _) => text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method not allowed on {path}"),
        ),
        _ => text(
            StatusCode::NOT_FOUND,
            format!(
                "unknown control endpoint {path}; try GET {CONTROL_PREFIX}/stats, POST {CONTROL_PREFIX}/reset, GET|POST {CONTROL_PREFIX}/config, GET|POST {CONTROL_PREFIX}/replay, GET|POST {CONTROL_PREFIX}/provisioning"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_parsing() {
        let u = Upstream::parse("http://127.0.0.1:5000").unwrap();
        assert_eq!(u.origin, "http://127.0.0.1:5000");
        assert_eq!(u.base_path, "");
        assert_eq!(
            u.uri_for(&Uri::from_static("/a?b=c")).unwrap(),
            "http://127.0.0.1:5000/a?b=c"
        );
        let u = Upstream::parse("http://localhost:5000/base/").unwrap();
        assert_eq!(
            u.uri_for(&Uri::from_static("/a")).unwrap(),
            "http://localhost:5000/base/a"
        );
        assert!(Upstream::parse("https://example.com").is_err());
        assert!(Upstream::parse("127.0.0.1:5000").is_err());
        assert!(Upstream::parse("not a url").is_err());
    }

    #[test]
    fn control_paths() {
        assert!(is_control(&Uri::from_static("/__paved_proxy/stats")));
        assert!(is_control(&Uri::from_static("/__paved_proxy")));
        assert!(!is_control(&Uri::from_static("/__paved_proxyx/stats")));
        assert!(!is_control(&Uri::from_static(
            "/bucket/__paved_proxy/stats"
        )));
    }

    #[test]
    fn hop_by_hop_headers_are_stripped() {
        let mut h = hyper::HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("close, x-private"));
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("x-keep", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-keep"));
    }
}
