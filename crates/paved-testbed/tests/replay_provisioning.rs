//! The proxy's record/replay mode and provisioning-time model, end to end
//! against a small in-process fake of the AWS calls involved (moto-like: every
//! object is ready at once, deleted objects are gone at once, except NAT
//! gateways which stay as `deleted`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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
use paved_testbed::{FaultConfig, FaultProxy, ModelReport, ProxyHandle, ReplayStatus};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const TIMEOUT: Duration = Duration::from_secs(10);

/// What the fake has been told: which objects were deleted, and a serial
/// number put in every answer so that a replayed answer can be told from a
/// fresh one.
#[derive(Default)]
struct World {
    nat_deleted: bool,
    cluster_deleted: bool,
    db_deleted: bool,
    serial: u64,
}

struct Fake {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Fake {
    async fn start() -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let world = Arc::new(Mutex::new(World::default()));
        let task_hits = Arc::clone(&hits);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let hits = Arc::clone(&task_hits);
                let world = Arc::clone(&world);
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let hits = Arc::clone(&hits);
                        let world = Arc::clone(&world);
                        async move {
                            hits.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, Infallible>(fake_aws(req, &world).await)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Fake { addr, hits, task }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(status: u16, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-fake", "yes")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn form_value(body: &str, name: &str) -> Option<String> {
    paved_testbed::classify::form_param(body, name)
}

fn db_instance(id: &str, status: &str) -> String {
    format!("<DBInstance><DBInstanceIdentifier>{id}</DBInstanceIdentifier><DBInstanceStatus>{status}</DBInstanceStatus><MultiAZ>true</MultiAZ></DBInstance>")
}

async fn fake_aws(req: Request<Incoming>, world: &Mutex<World>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = String::from_utf8_lossy(&body.collect().await.unwrap().to_bytes()).into_owned();
    let mut w = world.lock().unwrap();
    w.serial += 1;
    let serial = w.serial;
    let xml = "text/xml";
    if let Some(action) = form_value(&body, "Action") {
        return match action.as_str() {
            "DescribeVpcs" => answer(200, xml, format!("<DescribeVpcsResponse><serial>{serial}</serial></DescribeVpcsResponse>")),
            "CreateVpc" => answer(200, xml, "<CreateVpcResponse/>".into()),
            "DescribeSubnets" => answer(500, xml, "<Response><Errors><Error><Code>InternalError</Code></Error></Errors></Response>".into()),
            "CreateNatGateway" => answer(200, xml, "<CreateNatGatewayResponse><natGateway><natGatewayId>nat-1</natGatewayId><state>available</state></natGateway></CreateNatGatewayResponse>".into()),
            "DeleteNatGateway" => {
                w.nat_deleted = true;
                answer(200, xml, "<DeleteNatGatewayResponse><natGatewayId>nat-1</natGatewayId></DeleteNatGatewayResponse>".into())
            }
            "DescribeNatGateways" => {
                let state = if w.nat_deleted { "deleted" } else { "available" };
                answer(200, xml, format!(
                    "<DescribeNatGatewaysResponse><natGatewaySet><item><natGatewayAddressSet><item><state>x</state></item></natGatewayAddressSet><natGatewayId>nat-1</natGatewayId><state>{state}</state></item><item><natGatewayId>nat-2</natGatewayId><state>available</state></item></natGatewaySet><serial>{serial}</serial></DescribeNatGatewaysResponse>"
                ))
            }
            "CreateDBInstance" => {
                w.db_deleted = false;
                answer(200, xml, format!("<CreateDBInstanceResponse><CreateDBInstanceResult>{}</CreateDBInstanceResult></CreateDBInstanceResponse>", db_instance("db-1", "available")))
            }
            "DeleteDBInstance" => {
                w.db_deleted = true;
                answer(200, xml, format!("<DeleteDBInstanceResponse><DeleteDBInstanceResult>{}</DeleteDBInstanceResult></DeleteDBInstanceResponse>", db_instance("db-1", "available")))
            }
            "DescribeDBInstances" => {
                let named = form_value(&body, "DBInstanceIdentifier");
                if w.db_deleted && named.is_some() {
                    return answer(404, xml, "<ErrorResponse><Error><Code>DBInstanceNotFound</Code></Error></ErrorResponse>".into());
                }
                let items = if w.db_deleted { String::new() } else { db_instance("db-1", "available") };
                answer(200, xml, format!("<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances>{items}{}</DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>", if named.is_some() { String::new() } else { db_instance("db-2", "available") }))
            }
            other => answer(400, xml, format!("<Error>unexpected {other}</Error>")),
        };
    }
    if parts.headers.contains_key("x-amz-target") {
        return answer(
            200,
            "application/x-amz-json-1.1",
            json!({ "Keys": [], "serial": serial }).to_string(),
        );
    }
    let path = parts.uri.path().to_string();
    let cluster = |status: &str| {
        json!({ "cluster": { "name": "prod", "status": status, "serial": serial } }).to_string()
    };
    match (parts.method.as_str(), path.as_str()) {
        ("POST", "/clusters") => {
            w.cluster_deleted = false;
            answer(200, "application/json", cluster("ACTIVE"))
        }
        ("DELETE", "/clusters/prod") => {
            w.cluster_deleted = true;
            answer(200, "application/json", cluster("ACTIVE"))
        }
        ("GET", "/clusters/prod") if w.cluster_deleted => answer(
            404,
            "application/json",
            json!({"message": "No cluster found for name: prod."}).to_string(),
        ),
        ("GET", "/clusters/prod") => answer(200, "application/json", cluster("ACTIVE")),
        _ => answer(
            404,
            "application/json",
            json!({ "message": format!("no route {path}") }).to_string(),
        ),
    }
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

/// A signature that differs on every call, as real SigV4 ones do.
fn auth(service: &str, n: u32) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2024010{}/us-east-1/{service}/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature={n:064x}",
        n % 10
    )
}

fn query(proxy: &ProxyHandle, service: &str, n: u32, body: &str) -> Request<Full<Bytes>> {
    Request::post(format!("{}/", proxy.endpoint()))
        .header("authorization", auth(service, n))
        .header("x-amz-date", format!("20240101T0000{:02}Z", n % 60))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn kms(proxy: &ProxyHandle, n: u32) -> Request<Full<Bytes>> {
    Request::post(format!("{}/", proxy.endpoint()))
        .header("authorization", auth("kms", n))
        .header("x-amz-date", format!("20240101T0000{:02}Z", n % 60))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "TrentService.ListKeys")
        .body(Full::new(Bytes::from_static(b"{\"Limit\":10}")))
        .unwrap()
}

fn rest(proxy: &ProxyHandle, method: &str, path: &str, n: u32, body: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(format!("{}{}", proxy.endpoint(), path))
        .header("authorization", auth("eks", n))
        .header("x-amz-date", format!("20240101T0000{:02}Z", n % 60))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

async fn control(
    client: &TestClient,
    proxy: &ProxyHandle,
    what: &str,
    body: Option<Value>,
) -> Reply {
    let uri = format!("{}/__paved_proxy/{what}", proxy.endpoint());
    let req = match body {
        Some(body) => Request::post(uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string()))),
        None => Request::get(uri).body(Full::new(Bytes::new())),
    };
    send(client, req.unwrap()).await
}

const DESCRIBE_VPCS: &str = "Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1";
const DESCRIBE_VPCS_REORDERED: &str = "VpcId.1=vpc-1&Version=2016-11-15&Action=DescribeVpcs";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_answers_recorded_reads_without_the_upstream() {
    let fake = Fake::start().await;
    let proxy = FaultProxy::start(&fake.url(), FaultConfig::none().with_latency(40, 0)).unwrap();
    let client = client();

    let status: ReplayStatus = serde_json::from_value(
        control(&client, &proxy, "replay", Some(json!({ "record": true })))
            .await
            .json(),
    )
    .unwrap();
    assert!(status.record && !status.replay);

    // Recording: three protocols, plus a 500 that must not be recorded.
    let vpcs = send(&client, query(&proxy, "ec2", 1, DESCRIBE_VPCS)).await;
    assert_eq!(vpcs.status, StatusCode::OK);
    let keys = send(&client, kms(&proxy, 2)).await;
    let cluster = send(&client, rest(&proxy, "GET", "/clusters/prod", 3, "")).await;
    assert_eq!(cluster.status, StatusCode::OK);
    let failed = send(
        &client,
        query(
            &proxy,
            "ec2",
            4,
            "Action=DescribeSubnets&Version=2016-11-15",
        ),
    )
    .await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(fake.hits(), 4);
    assert_eq!(proxy.replay_status().records, 3);

    // Replay only: the same calls, signed again at another time, parameters reordered.
    control(
        &client,
        &proxy,
        "replay",
        Some(json!({ "record": false, "replay": true })),
    )
    .await;
    let started = Instant::now();
    let again = send(&client, query(&proxy, "ec2", 11, DESCRIBE_VPCS_REORDERED)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(40),
        "latency still applies"
    );
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, vpcs.body, "the recorded answer, serial and all");
    assert_eq!(again.header("content-type"), Some("text/xml"));
    assert_eq!(again.header("x-fake"), Some("yes"));
    assert_eq!(
        again.header("content-length"),
        Some(vpcs.body.len().to_string().as_str())
    );
    assert_eq!(send(&client, kms(&proxy, 12)).await.body, keys.body);
    assert_eq!(
        send(&client, rest(&proxy, "GET", "/clusters/prod", 13, ""))
            .await
            .json(),
        cluster.json()
    );
    assert_eq!(fake.hits(), 4, "the upstream was not called");

    // The 500 was not recorded: forwarded again. Another VPC id is a miss too.
    let failed = send(
        &client,
        query(
            &proxy,
            "ec2",
            14,
            "Action=DescribeSubnets&Version=2016-11-15",
        ),
    )
    .await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    let other = send(
        &client,
        query(
            &proxy,
            "ec2",
            15,
            "Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-2",
        ),
    )
    .await;
    assert_ne!(other.body, vpcs.body);
    assert_eq!(fake.hits(), 6);

    let stats = proxy.stats();
    assert_eq!(stats.replayed, 3);
    assert_eq!(stats.replayed_count("ec2", "DescribeVpcs"), 1);
    assert_eq!(stats.replayed_count("kms", "ListKeys"), 1);
    assert_eq!(stats.replayed_count("eks", "GET /clusters/{id}"), 1);
    assert_eq!(
        stats.count("ec2", "DescribeVpcs"),
        3,
        "replayed calls are counted as usual"
    );
    assert_eq!(stats.faults.latency, stats.total);
    let over_http = control(&client, &proxy, "stats", None).await.json();
    assert_eq!(over_http["replayed"], 3);
    assert_eq!(over_http["replayed_by_service"]["kms"]["ListKeys"], 1);
    let status: ReplayStatus =
        serde_json::from_value(control(&client, &proxy, "replay", None).await.json()).unwrap();
    assert_eq!((status.hits, status.misses), (3, 2));

    // A write of ec2 is forwarded and drops the ec2 records, not the others.
    assert_eq!(
        send(
            &client,
            query(
                &proxy,
                "ec2",
                16,
                "Action=CreateVpc&CidrBlock=10.0.0.0%2F16"
            )
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(fake.hits(), 7);
    let fresh = send(&client, query(&proxy, "ec2", 17, DESCRIBE_VPCS)).await;
    assert_ne!(
        fresh.body, vpcs.body,
        "answered by the upstream after the write"
    );
    assert_eq!(fake.hits(), 8);

    // The records of other services still answer without the upstream.
    assert_eq!(send(&client, kms(&proxy, 18)).await.body, keys.body);
    assert_eq!(
        send(&client, rest(&proxy, "GET", "/clusters/prod", 19, ""))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(fake.hits(), 8);

    // Clearing drops everything.
    let status: ReplayStatus = serde_json::from_value(
        control(&client, &proxy, "replay", Some(json!({ "clear": true })))
            .await
            .json(),
    )
    .unwrap();
    assert_eq!((status.records, status.hits, status.replay), (0, 0, true));
    assert_eq!(
        control(&client, &proxy, "replay", Some(json!({ "bogus": 1 })))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

/// Polls the model's report until no object is in transition any more.
async fn settle(client: &TestClient, proxy: &ProxyHandle) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let report: ModelReport =
            serde_json::from_value(control(client, proxy, "provisioning", None).await.json())
                .unwrap();
        if report.objects.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still in transition: {:?}",
            report.objects
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn nat_state(xml: &str, id: &str) -> String {
    let at = xml
        .find(&format!("<natGatewayId>{id}</natGatewayId><state>"))
        .unwrap_or_else(|| panic!("{id} not in {xml}"));
    let rest = &xml[at..];
    let start = rest.find("<state>").unwrap() + "<state>".len();
    rest[start..start + rest[start..].find('<').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_model_holds_objects_in_their_transitional_state() {
    let fake = Fake::start().await;
    let proxy = FaultProxy::start(&fake.url(), FaultConfig::none()).unwrap();
    let client = client();

    // Off by default: nothing is rewritten.
    send(
        &client,
        query(
            &proxy,
            "ec2",
            1,
            "Action=CreateNatGateway&SubnetId=subnet-1",
        ),
    )
    .await;
    let nat = send(
        &client,
        query(&proxy, "ec2", 2, "Action=DescribeNatGateways"),
    )
    .await
    .text();
    assert_eq!(nat_state(&nat, "nat-1"), "available");

    // 30 modelled seconds per kind at 30x: 1 s of real time (time enough for the
    // requests below on a loaded machine; `settle` polls instead of sleeping).
    let durations: serde_json::Map<String, Value> = [
        "nat_gateway_create",
        "nat_gateway_delete",
        "eks_cluster_create",
        "eks_cluster_delete",
        "db_instance_create_multi_az",
        "db_instance_delete_final_snapshot",
    ]
    .iter()
    .map(|k| (k.to_string(), json!(30)))
    .collect();
    let report: ModelReport = serde_json::from_value(
        control(
            &client,
            &proxy,
            "provisioning",
            Some(json!({ "enabled": true, "time_scale": 30, "durations": durations })),
        )
        .await
        .json(),
    )
    .unwrap();
    assert!(report.enabled);
    assert_eq!(report.time_scale, 30.0);
    let eks = report
        .kinds
        .iter()
        .find(|k| k.kind == paved_testbed::Kind::EksClusterCreate)
        .unwrap();
    assert_eq!(
        (eks.seconds, eks.default_seconds, eks.real_seconds),
        (30.0, 600.0, 1.0)
    );
    assert!(eks.source.contains("commonly reported"));
    let nodes = report
        .kinds
        .iter()
        .find(|k| k.kind == paved_testbed::Kind::EksNodegroupCreate)
        .unwrap();
    assert_eq!(
        nodes.seconds, 210.0,
        "kinds not overridden keep their defaults"
    );
    assert_eq!(report.kinds.len(), paved_testbed::KINDS.len());

    // NAT gateway: pending, then available; the other gateway is untouched, and
    // so is the nested address item's state.
    send(
        &client,
        query(
            &proxy,
            "ec2",
            3,
            "Action=CreateNatGateway&SubnetId=subnet-1",
        ),
    )
    .await;
    let nat = send(
        &client,
        query(&proxy, "ec2", 4, "Action=DescribeNatGateways"),
    )
    .await
    .text();
    assert_eq!(nat_state(&nat, "nat-1"), "pending");
    assert_eq!(nat_state(&nat, "nat-2"), "available");
    assert!(nat.contains("<item><state>x</state></item>"));
    // EKS cluster and RDS instance, started together.
    send(
        &client,
        rest(
            &proxy,
            "POST",
            "/clusters",
            5,
            r#"{"name":"prod","version":"1.31"}"#,
        ),
    )
    .await;
    send(
        &client,
        query(
            &proxy,
            "rds",
            6,
            "Action=CreateDBInstance&DBInstanceIdentifier=DB-1&MultiAZ=true",
        ),
    )
    .await;
    let cluster = send(&client, rest(&proxy, "GET", "/clusters/prod", 7, "")).await;
    assert_eq!(cluster.json()["cluster"]["status"], "CREATING");
    assert_eq!(
        cluster.json()["cluster"]["name"],
        "prod",
        "the rest of the answer is kept"
    );
    let dbs = send(
        &client,
        query(&proxy, "rds", 8, "Action=DescribeDBInstances"),
    )
    .await
    .text();
    assert!(dbs.contains(&db_instance("db-1", "creating")), "{dbs}");
    assert!(dbs.contains(&db_instance("db-2", "available")), "{dbs}");
    let report: ModelReport =
        serde_json::from_value(control(&client, &proxy, "provisioning", None).await.json())
            .unwrap();
    let ids: Vec<&str> = report.objects.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["nat-1", "prod", "db-1"]);
    assert!(report
        .objects
        .iter()
        .all(|o| o.remaining_seconds > 0.0 && o.remaining_seconds <= 30.0));

    settle(&client, &proxy).await;
    let nat = send(
        &client,
        query(&proxy, "ec2", 9, "Action=DescribeNatGateways"),
    )
    .await
    .text();
    assert_eq!(nat_state(&nat, "nat-1"), "available");
    assert_eq!(
        send(&client, rest(&proxy, "GET", "/clusters/prod", 10, ""))
            .await
            .json()["cluster"]["status"],
        "ACTIVE"
    );
    let dbs = send(
        &client,
        query(
            &proxy,
            "rds",
            11,
            "Action=DescribeDBInstances&DBInstanceIdentifier=db-1",
        ),
    )
    .await
    .text();
    assert!(dbs.contains(&db_instance("db-1", "available")), "{dbs}");

    // Deletes: the objects stay visible as deleting, then go.
    send(
        &client,
        query(
            &proxy,
            "ec2",
            12,
            "Action=DeleteNatGateway&NatGatewayId=nat-1",
        ),
    )
    .await;
    let nat = send(
        &client,
        query(&proxy, "ec2", 13, "Action=DescribeNatGateways"),
    )
    .await
    .text();
    assert_eq!(nat_state(&nat, "nat-1"), "deleting");
    send(&client, rest(&proxy, "DELETE", "/clusters/prod", 14, "")).await;
    let cluster = send(&client, rest(&proxy, "GET", "/clusters/prod", 15, "")).await;
    assert_eq!(
        cluster.status,
        StatusCode::OK,
        "made up from the delete's answer: {}",
        cluster.text()
    );
    assert_eq!(cluster.json()["cluster"]["status"], "DELETING");
    assert_eq!(cluster.header("content-type"), Some("application/json"));
    send(
        &client,
        query(
            &proxy,
            "rds",
            16,
            "Action=DeleteDBInstance&DBInstanceIdentifier=db-1&FinalDBSnapshotIdentifier=final",
        ),
    )
    .await;
    let named = send(
        &client,
        query(
            &proxy,
            "rds",
            17,
            "Action=DescribeDBInstances&DBInstanceIdentifier=db-1",
        ),
    )
    .await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.text());
    assert!(
        named.text().contains(&db_instance("db-1", "deleting")),
        "{}",
        named.text()
    );
    let all = send(
        &client,
        query(&proxy, "rds", 18, "Action=DescribeDBInstances"),
    )
    .await
    .text();
    assert!(
        all.contains(&db_instance("db-1", "deleting")) && all.contains("db-2"),
        "{all}"
    );

    settle(&client, &proxy).await;
    let nat = send(
        &client,
        query(&proxy, "ec2", 19, "Action=DescribeNatGateways"),
    )
    .await
    .text();
    assert_eq!(nat_state(&nat, "nat-1"), "deleted");
    assert_eq!(
        send(&client, rest(&proxy, "GET", "/clusters/prod", 20, ""))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(
            &client,
            query(
                &proxy,
                "rds",
                21,
                "Action=DescribeDBInstances&DBInstanceIdentifier=db-1"
            )
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // Bad settings are refused and change nothing.
    for bad in [
        json!({ "time_scale": 0 }),
        json!({ "durations": { "nat_gateway_create": -1 } }),
        json!({ "durations": { "nope": 1 } }),
    ] {
        assert_eq!(
            control(&client, &proxy, "provisioning", Some(bad))
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(proxy.provisioning_report().time_scale, 30.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_reads_still_get_the_modelled_status() {
    let fake = Fake::start().await;
    let proxy = FaultProxy::start(&fake.url(), FaultConfig::none()).unwrap();
    let client = client();
    proxy.set_replay(&paved_testbed::ReplaySettings {
        record: Some(true),
        ..Default::default()
    });
    // Recorded before the model knows the cluster: ACTIVE.
    assert_eq!(
        send(&client, rest(&proxy, "GET", "/clusters/prod", 1, ""))
            .await
            .json()["cluster"]["status"],
        "ACTIVE"
    );
    let proxy = proxy.with_provisioning_model(1.0).unwrap();
    proxy
        .set_provisioning(&paved_testbed::ModelSettings {
            time_scale: Some(30.0),
            durations: Some([(paved_testbed::Kind::EksClusterCreate, 30.0)].into()),
            ..Default::default()
        })
        .unwrap();
    // The create is a write: forwarded (the eks records are dropped), and starts the model.
    send(
        &client,
        rest(&proxy, "POST", "/clusters", 2, r#"{"name":"prod"}"#),
    )
    .await;
    // Recorded again (ACTIVE, as the upstream says), shown CREATING.
    assert_eq!(
        send(&client, rest(&proxy, "GET", "/clusters/prod", 3, ""))
            .await
            .json()["cluster"]["status"],
        "CREATING"
    );
    proxy.set_replay(&paved_testbed::ReplaySettings {
        record: Some(false),
        replay: Some(true),
        ..Default::default()
    });
    let hits = fake.hits();
    assert_eq!(
        send(&client, rest(&proxy, "GET", "/clusters/prod", 4, ""))
            .await
            .json()["cluster"]["status"],
        "CREATING"
    );
    settle(&client, &proxy).await;
    assert_eq!(
        send(&client, rest(&proxy, "GET", "/clusters/prod", 5, ""))
            .await
            .json()["cluster"]["status"],
        "ACTIVE"
    );
    assert_eq!(fake.hits(), hits, "both answered from the record");
    assert_eq!(proxy.stats().replayed, 2);
}
