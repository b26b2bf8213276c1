//! End-to-end tests of the fault proxy against a tiny in-process echo
//! upstream on 127.0.0.1.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use paved_testbed::{FaultConfig, FaultProxy, ProxyHandle, Stats};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TIMEOUT: Duration = Duration::from_secs(10);

/// An upstream that answers every request with 200 (or the status asked
/// for in `x-echo-status`) and a JSON echo of the request.
struct Echo {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Echo {
    async fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let task_hits = Arc::clone(&hits);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let hits = Arc::clone(&task_hits);
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let hits = Arc::clone(&hits);
                        async move {
                            hits.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, Infallible>(echo(req).await)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Echo { addr, hits, task }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn echo(req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let headers: serde_json::Map<String, Value> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                Value::String(v.to_str().unwrap().to_string()),
            )
        })
        .collect();
    let status = parts
        .headers
        .get("x-echo-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let json = serde_json::json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
        "body_len": body.len(),
    });
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-echo", "yes")
        .body(Full::new(Bytes::from(json.to_string())))
        .unwrap()
}

type TestClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> TestClient {
    Client::builder(TokioExecutor::new()).build_http()
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn send(client: &TestClient, req: Request<Full<Bytes>>) -> Reply {
    let response = tokio::time::timeout(TIMEOUT, client.request(req))
        .await
        .expect("request timed out")
        .expect("request failed");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

fn auth(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/{service}/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0123456789abcdef"
    )
}

/// A query-protocol request (`Action=...` in a form body).
fn query_req(proxy: &ProxyHandle, service: &str, action: &str) -> Request<Full<Bytes>> {
    Request::post(format!("{}/", proxy.endpoint()))
        .header("authorization", auth(service))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(Full::new(Bytes::from(format!(
            "Action={action}&Version=2016-11-15"
        ))))
        .unwrap()
}

/// An AWS JSON protocol request.
fn json_req(proxy: &ProxyHandle, service: &str, target: &str) -> Request<Full<Bytes>> {
    Request::post(format!("{}/", proxy.endpoint()))
        .header("authorization", auth(service))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap()
}

/// A REST request.
fn rest_req(proxy: &ProxyHandle, service: &str, method: &str, path: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(format!("{}{}", proxy.endpoint(), path))
        .header("authorization", auth(service))
        .body(Full::new(Bytes::new()))
        .unwrap()
}

async fn control_get(client: &TestClient, proxy: &ProxyHandle, what: &str) -> Reply {
    let req = Request::get(format!("{}/__paved_proxy/{what}", proxy.endpoint()))
        .body(Full::new(Bytes::new()))
        .unwrap();
    send(client, req).await
}

async fn control_post(client: &TestClient, proxy: &ProxyHandle, what: &str, body: &str) -> Reply {
    let req = Request::post(format!("{}/__paved_proxy/{what}", proxy.endpoint()))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    send(client, req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_is_faithful() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.url(), FaultConfig::none()).unwrap();
    let client = client();

    let body = "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3AName";
    let req = Request::put(format!("{}/some/path/x?b=2&a=1&empty=", proxy.endpoint()))
        .header("authorization", auth("ec2"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-custom", "custom value")
        .header("x-amz-date", "20240101T000000Z")
        .header("x-echo-status", "202")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let reply = send(&client, req).await;
    assert_eq!(
        reply.status,
        StatusCode::ACCEPTED,
        "upstream status passes through"
    );
    assert_eq!(
        reply.header("x-echo"),
        Some("yes"),
        "upstream headers pass through"
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let seen = reply.json();
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["path"], "/some/path/x");
    assert_eq!(seen["query"], "b=2&a=1&empty=");
    assert_eq!(seen["body"], body);
    let headers = &seen["headers"];
    assert_eq!(headers["authorization"], auth("ec2"));
    assert_eq!(headers["x-custom"], "custom value");
    assert_eq!(headers["x-amz-date"], "20240101T000000Z");
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(headers["content-length"], body.len().to_string());
    // The signed Host header is kept: moto builds URLs (and the SDK signed
    // the request) with the proxy's address.
    assert_eq!(headers["host"], proxy.addr().to_string());

    // A 1 MiB binary-ish body and a HEAD request.
    let big: Vec<u8> = (0..1024 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let req = Request::post(format!("{}/bucket/big-object", proxy.endpoint()))
        .header("authorization", auth("s3"))
        .body(Full::new(Bytes::from(big.clone())))
        .unwrap();
    let reply = send(&client, req).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["body_len"], big.len());
    assert_eq!(reply.json()["body"].as_str().unwrap().as_bytes(), &big[..]);

    let reply = send(
        &client,
        rest_req(&proxy, "s3", "HEAD", "/bucket/big-object"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty());

    assert_eq!(echo.hits(), 3);
    assert_eq!(proxy.stats().total, 3);
    assert_eq!(proxy.stats().upstream_errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classification_and_counts() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.url(), FaultConfig::none()).unwrap();
    let client = client();

    for _ in 0..3 {
        send(&client, query_req(&proxy, "ec2", "DescribeVpcs")).await;
    }
    send(&client, query_req(&proxy, "ec2", "DescribeSubnets")).await;
    send(&client, query_req(&proxy, "iam", "GetRole")).await;
    let req = Request::get(format!(
        "{}/?Action=GetCallerIdentity&Version=2011-06-15",
        proxy.endpoint()
    ))
    .header("authorization", auth("sts"))
    .body(Full::new(Bytes::new()))
    .unwrap();
    send(&client, req).await;
    send(
        &client,
        json_req(&proxy, "logs", "Logs_20140328.DescribeLogGroups"),
    )
    .await;
    send(&client, json_req(&proxy, "kms", "TrentService.ListKeys")).await;
    send(&client, rest_req(&proxy, "eks", "GET", "/clusters/prod")).await;
    send(&client, rest_req(&proxy, "eks", "GET", "/clusters/dev")).await;
    send(
        &client,
        rest_req(&proxy, "eks", "DELETE", "/clusters/prod/node-groups/ng-1"),
    )
    .await;
    send(
        &client,
        rest_req(&proxy, "aps", "GET", "/workspaces/ws-123"),
    )
    .await;
    send(
        &client,
        rest_req(&proxy, "s3", "PUT", "/my-bucket/a/b.txt?tagging"),
    )
    .await;
    let unsigned = Request::get(format!("{}/whatever", proxy.endpoint()))
        .body(Full::new(Bytes::new()))
        .unwrap();
    send(&client, unsigned).await;

    let stats = proxy.stats();
    assert_eq!(stats.total, 14);
    assert_eq!(stats.count("ec2", "DescribeVpcs"), 3);
    assert_eq!(stats.count("ec2", "DescribeSubnets"), 1);
    assert_eq!(stats.service_total("ec2"), 4);
    assert_eq!(stats.count("iam", "GetRole"), 1);
    assert_eq!(stats.count("sts", "GetCallerIdentity"), 1);
    assert_eq!(stats.count("logs", "DescribeLogGroups"), 1);
    assert_eq!(stats.count("kms", "ListKeys"), 1);
    assert_eq!(stats.count("eks", "GET /clusters/{id}"), 2);
    assert_eq!(
        stats.count("eks", "DELETE /clusters/{id}/node-groups/{id}"),
        1
    );
    assert_eq!(stats.count("aps", "GET /workspaces/{id}"), 1);
    assert_eq!(stats.count("s3", "PUT /{bucket}/{key}?tagging"), 1);
    assert_eq!(stats.count("unknown", "GET /whatever"), 1);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.max_in_flight, 1, "sequential requests");
    assert_eq!(stats.faults.failures() + stats.faults.latency, 0);

    // The same numbers over the control plane.
    let json = control_get(&client, &proxy, "stats").await.json();
    assert_eq!(json["total"], 14);
    assert_eq!(json["by_service"]["ec2"]["DescribeVpcs"], 3);
    assert_eq!(json["by_service"]["eks"]["GET /clusters/{id}"], 2);
    assert_eq!(json["max_in_flight"], 1);
    let parsed: Stats = serde_json::from_value(json).unwrap();
    assert_eq!(parsed, proxy.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_in_flight_counts_concurrent_requests() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.url(), FaultConfig::none().with_latency(300, 0)).unwrap();
    let client = client();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let client = client.clone();
        let req = query_req(
            &proxy,
            "ec2",
            if i % 2 == 0 {
                "DescribeVpcs"
            } else {
                "DescribeSubnets"
            },
        );
        tasks.push(tokio::spawn(async move { send(&client, req).await.status }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    let elapsed = started.elapsed();
    let stats = proxy.stats();
    assert_eq!(stats.total, 6);
    assert_eq!(stats.count("ec2", "DescribeVpcs"), 3);
    assert!(
        stats.max_in_flight > 1,
        "max_in_flight = {}",
        stats.max_in_flight
    );
    assert!(stats.max_in_flight <= 6);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.faults.latency, 6);
    assert_eq!(stats.faults_for("ec2", "DescribeVpcs").latency, 3);
    assert!(elapsed >= Duration::from_millis(300));
    assert!(
        elapsed < Duration::from_millis(6 * 300),
        "requests were not concurrent: {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_and_jitter_delay_requests() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(
        &echo.url(),
        FaultConfig::none().with_latency(150, 50).with_seed(3),
    )
    .unwrap();
    let client = client();
    for _ in 0..3 {
        let started = Instant::now();
        let reply = send(&client, json_req(&proxy, "kms", "TrentService.ListKeys")).await;
        let elapsed = started.elapsed();
        assert_eq!(reply.status, StatusCode::OK);
        assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
        assert!(
            elapsed < Duration::from_millis(150 + 50 + 1000),
            "{elapsed:?}"
        );
    }
    assert_eq!(proxy.stats().faults.latency, 3);
}

/// One protocol family: a request maker and the expected throttle, 500 and
/// 503 answers.
struct Family {
    name: &'static str,
    make: fn(&ProxyHandle) -> Request<Full<Bytes>>,
    throttle: (u16, &'static str),
    error_500: (u16, &'static str),
    error_503: (u16, &'static str),
}

fn families() -> Vec<Family> {
    vec![
        Family {
            name: "query",
            make: |p| query_req(p, "iam", "ListRoles"),
            throttle: (400, "Throttling"),
            error_500: (500, "InternalFailure"),
            error_503: (503, "ServiceUnavailable"),
        },
        Family {
            name: "ec2",
            make: |p| query_req(p, "ec2", "DescribeVpcs"),
            throttle: (503, "RequestLimitExceeded"),
            error_500: (500, "InternalError"),
            error_503: (503, "Unavailable"),
        },
        Family {
            name: "json",
            make: |p| json_req(p, "kms", "TrentService.ListKeys"),
            throttle: (400, "ThrottlingException"),
            error_500: (500, "InternalFailure"),
            error_503: (503, "ServiceUnavailable"),
        },
        Family {
            name: "rest-json",
            make: |p| rest_req(p, "eks", "GET", "/clusters/prod"),
            throttle: (429, "ThrottlingException"),
            error_500: (500, "InternalFailure"),
            error_503: (503, "ServiceUnavailable"),
        },
        Family {
            name: "rest-xml-s3",
            make: |p| rest_req(p, "s3", "GET", "/bucket/key"),
            throttle: (503, "SlowDown"),
            error_500: (500, "InternalError"),
            error_503: (503, "ServiceUnavailable"),
        },
    ]
}

/// Checks the full shape of an injected error for a family.
fn assert_shape(family: &Family, reply: &Reply, status: u16, code: &str) {
    let ctx = format!("{} {code}: {}", family.name, reply.text());
    assert_eq!(reply.status.as_u16(), status, "{ctx}");
    assert!(
        reply.header("x-echo").is_none(),
        "{ctx}: must not be forwarded"
    );
    let body = reply.text();
    match family.name {
        "query" => {
            let (kind, message) = match code {
                "Throttling" => ("Sender", "Rate exceeded"),
                "InternalFailure" => (
                    "Receiver",
                    "The request processing has failed because of an unknown error, exception or failure.",
                ),
                _ => (
                    "Receiver",
                    "The request has failed due to a temporary failure of the server.",
                ),
            };
            let rid = reply.header("x-amzn-requestid").unwrap();
            assert_eq!(
                body,
                format!(
                    "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
                ),
                "{ctx}"
            );
            assert_eq!(reply.header("content-type"), Some("text/xml"));
        }
        "ec2" => {
            let rid = reply.header("x-amzn-requestid").unwrap();
            assert!(
                body.starts_with(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>"
                ),
                "{ctx}"
            );
            assert!(
                body.contains(&format!("<Code>{code}</Code><Message>")),
                "{ctx}"
            );
            assert!(
                body.ends_with(&format!(
                    "</Message></Error></Errors><RequestID>{rid}</RequestID></Response>"
                )),
                "{ctx}"
            );
            if code == "RequestLimitExceeded" {
                assert!(
                    body.contains("<Message>Request limit exceeded.</Message>"),
                    "{ctx}"
                );
            }
        }
        "json" | "rest-json" => {
            assert_eq!(reply.header("x-amzn-errortype"), Some(code), "{ctx}");
            assert!(reply.header("x-amzn-requestid").is_some(), "{ctx}");
            let expected_type = if family.name == "json" {
                "application/x-amz-json-1.1"
            } else {
                "application/json"
            };
            assert_eq!(reply.header("content-type"), Some(expected_type), "{ctx}");
            let json = reply.json();
            assert_eq!(json["__type"], code, "{ctx}");
            if code == "ThrottlingException" {
                assert_eq!(json["message"], "Rate exceeded", "{ctx}");
            } else {
                assert!(json["message"].is_string(), "{ctx}");
            }
        }
        "rest-xml-s3" => {
            let rid = reply.header("x-amz-request-id").unwrap();
            assert!(
                body.contains(&format!("<Error><Code>{code}</Code><Message>")),
                "{ctx}"
            );
            assert!(
                body.ends_with(&format!("<RequestId>{rid}</RequestId></Error>")),
                "{ctx}"
            );
        }
        other => panic!("unknown family {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_kind_has_the_documented_shape_at_rate_one() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.url(), FaultConfig::none()).unwrap();
    let client = client();
    let kinds: [(&str, FaultConfig); 3] = [
        ("throttle", FaultConfig::none().with_throttle_rate(1.0)),
        ("500", FaultConfig::none().with_error_500_rate(1.0)),
        ("503", FaultConfig::none().with_error_503_rate(1.0)),
    ];
    for (kind, config) in kinds {
        proxy.set_config(config).unwrap();
        for family in families() {
            let (status, code) = match kind {
                "throttle" => family.throttle,
                "500" => family.error_500,
                _ => family.error_503,
            };
            for _ in 0..3 {
                let reply = send(&client, (family.make)(&proxy)).await;
                assert_shape(&family, &reply, status, code);
            }
        }
    }
    assert_eq!(echo.hits(), 0, "no faulted request reaches the upstream");
    let stats = proxy.stats();
    assert_eq!(stats.faults.throttle, 15);
    assert_eq!(stats.faults.error_500, 15);
    assert_eq!(stats.faults.error_503, 15);
    assert_eq!(stats.faults.drop, 0);
    assert_eq!(stats.total, 45);
    assert_eq!(stats.faults_for("iam", "ListRoles").throttle, 3);
    assert_eq!(stats.faults_for("eks", "GET /clusters/{id}").error_503, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_zero_never_faults() {
    let echo = Echo::start().await;
    let config = FaultConfig {
        latency_rate: 0.0,
        latency_ms: 1000,
        ..FaultConfig::none().with_seed(9)
    };
    let proxy = FaultProxy::start(&echo.url(), config).unwrap();
    let client = client();
    for round in 0..10 {
        for family in families() {
            let reply = send(&client, (family.make)(&proxy)).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "round {round} {}",
                family.name
            );
            assert_eq!(reply.header("x-echo"), Some("yes"));
        }
    }
    assert_eq!(echo.hits(), 50);
    let stats = proxy.stats();
    assert_eq!(stats.total, 50);
    assert_eq!(stats.faults.failures(), 0);
    assert_eq!(stats.faults.latency, 0);
}

async fn raw_request(addr: SocketAddr, request: &str) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(TIMEOUT, stream.read_to_end(&mut answer))
        .await
        .expect("the proxy neither answered nor closed the connection")?;
    Ok(answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_closes_the_connection_without_a_response() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.url(), FaultConfig::none().with_drop_rate(1.0)).unwrap();
    let body = "Action=DescribeVpcs&Version=2016-11-15";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        proxy.addr(),
        auth("ec2"),
        body.len()
    );
    match raw_request(proxy.addr(), &request).await {
        Ok(answer) => assert!(
            answer.is_empty(),
            "got an answer: {}",
            String::from_utf8_lossy(&answer)
        ),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    // Through an HTTP client: an error, not a response.
    let client = client();
    let result = tokio::time::timeout(
        TIMEOUT,
        client.request(query_req(&proxy, "ec2", "DescribeVpcs")),
    )
    .await
    .expect("timed out");
    assert!(result.is_err(), "expected a connection error");

    assert_eq!(echo.hits(), 0);
    let stats = proxy.stats();
    assert_eq!(stats.faults.drop, 2);
    assert_eq!(stats.count("ec2", "DescribeVpcs"), 2);
    assert_eq!(stats.in_flight, 0);

    // The proxy still answers on new connections.
    proxy.set_config(FaultConfig::none()).unwrap();
    let reply = send(&client, query_req(&proxy, "ec2", "DescribeVpcs")).await;
    assert_eq!(reply.status, StatusCode::OK);
}

/// Sends `n` sequential JSON requests and records what happened to each:
/// the status code, or 0 for a dropped connection.
async fn fault_sequence(proxy: &ProxyHandle, n: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        // A fresh client per request, so a dropped connection cannot affect
        // the next request.
        let client = client();
        let result = tokio::time::timeout(
            TIMEOUT,
            client.request(json_req(proxy, "kms", "TrentService.ListKeys")),
        )
        .await
        .expect("timed out");
        out.push(match result {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        });
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_runs_are_reproducible() {
    let echo = Echo::start().await;
    let config = FaultConfig::none()
        .with_throttle_rate(0.2)
        .with_error_500_rate(0.2)
        .with_error_503_rate(0.2)
        .with_drop_rate(0.2)
        .with_latency(0, 5)
        .with_seed(42);

    let first = FaultProxy::start(&echo.url(), config.clone()).unwrap();
    let a = fault_sequence(&first, 40).await;
    let stats_a = first.stats();
    drop(first);

    let second = FaultProxy::start(&echo.url(), config.clone()).unwrap();
    let b = fault_sequence(&second, 40).await;
    assert_eq!(a, b, "same seed, same faults");
    assert_eq!(stats_a.faults, second.stats().faults);
    assert_eq!(second.stats().seed, 42);
    for status in [0, 200, 400, 500, 503] {
        assert!(a.contains(&status), "{status} missing from {a:?}");
    }
    let stats = second.stats();
    let count = |s: u16| a.iter().filter(|&&x| x == s).count() as u64;
    assert_eq!(stats.faults.drop, count(0));
    assert_eq!(stats.faults.throttle, count(400));
    assert_eq!(stats.faults.error_500, count(500));
    assert_eq!(stats.faults.error_503, count(503));

    // Reset restarts the sequence from the seed.
    second.reset();
    assert_eq!(fault_sequence(&second, 40).await, a);

    // Another seed gives another sequence.
    second.set_config(config.with_seed(43)).unwrap();
    assert_ne!(fault_sequence(&second, 40).await, a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_exemptions() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(
        &echo.url(),
        FaultConfig::none()
            .with_throttle_rate(1.0)
            .with_services(["ec2"]),
    )
    .unwrap();
    let client = client();
    assert_eq!(
        send(&client, query_req(&proxy, "ec2", "DescribeVpcs"))
            .await
            .status
            .as_u16(),
        503
    );
    assert_eq!(
        send(&client, query_req(&proxy, "iam", "GetRole"))
            .await
            .status
            .as_u16(),
        200
    );

    proxy
        .set_config(
            FaultConfig::none()
                .with_throttle_rate(1.0)
                .with_exempt_actions(["DescribeVpcs", "iam:GetRole"]),
        )
        .unwrap();
    assert_eq!(
        send(&client, query_req(&proxy, "ec2", "DescribeVpcs"))
            .await
            .status
            .as_u16(),
        200
    );
    assert_eq!(
        send(&client, query_req(&proxy, "iam", "GetRole"))
            .await
            .status
            .as_u16(),
        200
    );
    assert_eq!(
        send(&client, query_req(&proxy, "ec2", "DescribeSubnets"))
            .await
            .status
            .as_u16(),
        503
    );
    assert_eq!(
        send(&client, query_req(&proxy, "iam", "ListRoles"))
            .await
            .status
            .as_u16(),
        400
    );

    proxy
        .set_config(
            FaultConfig::none()
                .with_error_500_rate(1.0)
                .with_actions(["eks:GET /clusters/{id}"]),
        )
        .unwrap();
    assert_eq!(
        send(&client, rest_req(&proxy, "eks", "GET", "/clusters/a"))
            .await
            .status
            .as_u16(),
        500
    );
    assert_eq!(
        send(&client, rest_req(&proxy, "eks", "GET", "/clusters"))
            .await
            .status
            .as_u16(),
        200
    );

    let stats = proxy.stats();
    assert_eq!(stats.total, 8);
    assert_eq!(stats.faults.failures(), 4);
    assert_eq!(echo.hits(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_endpoints_work_and_are_never_faulted() {
    let echo = Echo::start().await;
    // Every data request would be delayed and dropped.
    let proxy = FaultProxy::start(
        &echo.url(),
        FaultConfig::none()
            .with_latency(2000, 0)
            .with_drop_rate(1.0),
    )
    .unwrap();
    let client = client();

    let started = Instant::now();
    let reply = control_get(&client, &proxy, "stats").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "control request was delayed"
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json()["total"], 0);

    let reply = control_get(&client, &proxy, "config").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["drop_rate"], 1.0);
    assert_eq!(reply.json()["latency_ms"], 2000);

    assert_eq!(
        control_get(&client, &proxy, "health").await.status,
        StatusCode::OK
    );

    // Change behaviour at run time: throttle IAM only, exempt GetRole.
    let reply = control_post(
        &client,
        &proxy,
        "config",
        r#"{"throttle_rate": 1.0, "services": ["iam"], "exempt": ["GetRole"], "seed": 5}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["throttle_rate"], 1.0);
    assert_eq!(
        reply.json()["drop_rate"],
        0.0,
        "config is replaced, not merged"
    );
    assert_eq!(proxy.config().exempt_actions, vec!["GetRole".to_string()]);

    assert_eq!(
        send(&client, query_req(&proxy, "iam", "ListRoles"))
            .await
            .status
            .as_u16(),
        400
    );
    assert_eq!(
        send(&client, query_req(&proxy, "iam", "GetRole"))
            .await
            .status
            .as_u16(),
        200
    );
    assert_eq!(
        send(&client, query_req(&proxy, "ec2", "DescribeVpcs"))
            .await
            .status
            .as_u16(),
        200
    );

    // Invalid configs are refused and the old one stays.
    let reply = control_post(&client, &proxy, "config", r#"{"throttle_rate": 2.0}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.json()["error"]
        .as_str()
        .unwrap()
        .contains("throttle_rate"));
    let reply = control_post(&client, &proxy, "config", r#"{"throttle": 0.5}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = control_post(&client, &proxy, "config", "not json").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(proxy.config().throttle_rate, 1.0);

    let stats = control_get(&client, &proxy, "stats").await.json();
    assert_eq!(stats["total"], 3, "control requests are not counted");
    assert_eq!(stats["faults"]["throttle"], 1);
    assert_eq!(
        stats["faults_by_service"]["iam"]["ListRoles"]["throttle"],
        1
    );
    assert_eq!(stats["seed"], 5);

    let reply = control_post(&client, &proxy, "reset", "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["total"], 0);
    let stats = proxy.stats();
    assert_eq!(stats.total, 0);
    assert_eq!(stats.max_in_flight, 0);
    assert!(stats.by_service.is_empty());
    assert_eq!(stats.faults.failures(), 0);

    // Control requests are not faulted even with every rate at its maximum.
    proxy
        .set_config(
            FaultConfig::none()
                .with_drop_rate(1.0)
                .with_latency(2000, 0),
        )
        .unwrap();
    for _ in 0..5 {
        assert_eq!(
            control_get(&client, &proxy, "stats").await.status,
            StatusCode::OK
        );
    }
    proxy
        .set_config(FaultConfig::none().with_throttle_rate(1.0))
        .unwrap();
    assert_eq!(
        control_get(&client, &proxy, "stats").await.status,
        StatusCode::OK
    );

    assert_eq!(
        control_get(&client, &proxy, "nope").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        control_post(&client, &proxy, "stats", "").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(proxy.stats().total, 0);
    assert_eq!(echo.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_upstream_gives_502() {
    // A port that nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let proxy =
        FaultProxy::start(&format!("http://127.0.0.1:{port}"), FaultConfig::none()).unwrap();
    let reply = send(&client(), query_req(&proxy, "ec2", "DescribeVpcs")).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    let stats = proxy.stats();
    assert_eq!(stats.upstream_errors, 1);
    assert_eq!(stats.count("ec2", "DescribeVpcs"), 1);
}

#[test]
fn invalid_arguments_are_refused() {
    assert!(FaultProxy::start("https://127.0.0.1:1", FaultConfig::none()).is_err());
    assert!(FaultProxy::start("127.0.0.1:1", FaultConfig::none()).is_err());
    assert!(FaultProxy::start(
        "http://127.0.0.1:1",
        FaultConfig::none().with_throttle_rate(1.1)
    )
    .is_err());
    // Works without any ambient runtime, and refuses bad configs at run time.
    let proxy = FaultProxy::start("http://127.0.0.1:1", FaultConfig::none()).unwrap();
    assert!(proxy
        .set_config(FaultConfig::none().with_drop_rate(-1.0))
        .is_err());
    assert_eq!(proxy.config(), FaultConfig::none());
    // A taken port.
    assert!(FaultProxy::start_on("http://127.0.0.1:1", proxy.port(), FaultConfig::none()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_shuts_down_and_frees_the_port() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(&echo.url(), FaultConfig::none()).unwrap();
    let addr = proxy.addr();
    assert!(addr.ip().is_loopback());
    assert_eq!(
        proxy.endpoint(),
        format!("http://127.0.0.1:{}", addr.port())
    );
    // An idle keep-alive connection and an in-flight request must not keep
    // it alive.
    let client = client();
    assert_eq!(
        send(&client, query_req(&proxy, "ec2", "DescribeVpcs"))
            .await
            .status,
        StatusCode::OK
    );
    proxy
        .set_config(FaultConfig::none().with_latency(60_000, 0))
        .unwrap();
    let stuck = {
        let client = client.clone();
        let req = query_req(&proxy, "ec2", "DescribeVpcs");
        tokio::spawn(async move { client.request(req).await.is_err() })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(proxy.stats().in_flight, 1);

    let started = Instant::now();
    drop(proxy);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        started.elapsed()
    );
    assert!(
        tokio::time::timeout(TIMEOUT, stuck).await.unwrap().unwrap(),
        "the in-flight request fails"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing listens any more"
    );
    let rebound = std::net::TcpListener::bind(addr);
    assert!(rebound.is_ok(), "port not freed: {rebound:?}");
}

/// Kills the child on drop, so a failing test leaves nothing behind.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn binary_announces_its_port_and_exits_on_sigterm() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let echo = runtime.block_on(Echo::start());
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_paved-fault-proxy"))
            .args([
                "--upstream",
                &echo.url(),
                "--port",
                "0",
                "--throttle-rate",
                "0.0",
            ])
            .args(["--latency-ms", "1", "--seed", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let endpoint = line
        .trim_end()
        .strip_prefix("Listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();

    runtime.block_on(async {
        let client = client();
        let req = Request::post(format!("{endpoint}/"))
            .header("authorization", auth("sts"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(b"Action=GetCallerIdentity")))
            .unwrap();
        assert_eq!(send(&client, req).await.status, StatusCode::OK);
        let stats = send(
            &client,
            Request::get(format!("{endpoint}/__paved_proxy/stats"))
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .json();
        assert_eq!(stats["by_service"]["sts"]["GetCallerIdentity"], 1);
        assert_eq!(stats["seed"], 1);
    });

    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + TIMEOUT;
    let exit = loop {
        if let Some(exit) = child.0.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the proxy did not exit on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("final stats"), "{stderr}");
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());

    let bad = Command::new(env!("CARGO_BIN_EXE_paved-fault-proxy"))
        .args(["--upstream", &echo.url(), "--throttle-rate", "7"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(bad.stdout.is_empty());
    drop(echo);
}
