//! The GCP stand-in's Compute Engine and GKE services, driven over HTTP and
//! judged by the real Google Cloud CLI (`gcloud`, skipped when absent unless
//! `PAVED_REQUIRE_TOOLS=1`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use paved_testbed::gcp::{FaultPlan, GcpFake, GcpFakeConfig, GcpFakeHandle};
use serde_json::{json, Value};

const P: &str = "proj-a";

/// One HTTP/1.1 request with a fake bearer token; the status and JSON body.
fn call_with(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
    auth: bool,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let auth_line = if auth {
        "Authorization: Bearer fake-token\r\n"
    } else {
        ""
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth_line}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let json = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
    };
    (status, json)
}

/// A request with a token.
fn call(fake: &GcpFakeHandle, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    call_with(fake.port(), method, path, body.as_ref(), true)
}

/// A request that must succeed.
fn ok(fake: &GcpFakeHandle, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, json) = call(fake, method, path, body);
    assert_eq!(status, 200, "{method} {path}: {json}");
    json
}

/// Waits for a Compute operation with `POST .../wait`.
fn compute_wait(fake: &GcpFakeHandle, op: &Value) {
    let link = op["selfLink"].as_str().expect("selfLink");
    let path = link.strip_prefix(&fake.url()).expect("own link");
    let done = ok(fake, "POST", &format!("{path}/wait"), None);
    assert_eq!(done["status"], "DONE", "{done}");
}

/// Compute path under the project.
fn cpath(rest: &str) -> String {
    format!("/compute/v1/projects/{P}/{rest}")
}

/// GKE path under the project.
fn gpath(location: &str, rest: &str) -> String {
    format!("/v1/projects/{P}/locations/{location}/{rest}")
}

/// Polls a GKE operation until done; returns how many polls it took.
fn gke_wait(fake: &GcpFakeHandle, location: &str, op: &Value) -> u32 {
    let name = op["name"].as_str().expect("op name");
    for i in 1..=10 {
        let got = ok(
            fake,
            "GET",
            &gpath(location, &format!("operations/{name}")),
            None,
        );
        if got["status"] == "DONE" {
            return i;
        }
    }
    panic!("operation {name} never finished");
}

/// A custom network with a subnetwork holding `pods` and `svc` ranges.
fn make_network(fake: &GcpFakeHandle, net: &str, subnet: &str, base: u8) {
    let op = ok(
        fake,
        "POST",
        &cpath("global/networks"),
        Some(
            json!({"name": net, "autoCreateSubnetworks": false, "routingConfig": {"routingMode": "REGIONAL"}, "mtu": 1500}),
        ),
    );
    compute_wait(fake, &op);
    let op = ok(
        fake,
        "POST",
        &cpath("regions/europe-west2/subnetworks"),
        Some(json!({
            "name": subnet,
            "network": format!("projects/{P}/global/networks/{net}"),
            "ipCidrRange": format!("10.{base}.0.0/20"),
            "privateIpGoogleAccess": true,
            "secondaryIpRanges": [
                {"rangeName": "pods", "ipCidrRange": format!("10.{}.0.0/14", base + 4)},
                {"rangeName": "svc", "ipCidrRange": format!("10.{base}.16.0/20")},
            ],
            "logConfig": {"enable": true},
        })),
    );
    compute_wait(fake, &op);
}

/// The Cloud KMS key the cluster bodies encrypt Secrets with, and GKE's service
/// agent granted its use (the create checks both).
fn make_key(fake: &GcpFakeHandle) {
    let ring = format!("/v1/projects/{P}/locations/europe-west2/keyRings");
    ok(
        fake,
        "POST",
        &format!("{ring}?keyRingId=kr"),
        Some(json!({})),
    );
    ok(
        fake,
        "POST",
        &format!("{ring}/kr/cryptoKeys?cryptoKeyId=gke"),
        Some(json!({"purpose": "ENCRYPT_DECRYPT"})),
    );
    let (status, body) = call(
        fake,
        "POST",
        &format!("{ring}/kr/cryptoKeys/gke:setIamPolicy"),
        Some(json!({"policy": {"bindings": [{
            "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
            "members": [format!(
                "serviceAccount:service-{}@container-engine-robot.iam.gserviceaccount.com",
                paved_testbed::gcp::GcpFakeConfig::default().project_number
            )],
        }]}})),
    );
    assert_eq!(status, 200, "{body}");
}

/// A cluster body with one pool.
fn cluster_body(name: &str, net: &str, subnet: &str, version: &str) -> Value {
    json!({"cluster": {
        "name": name,
        "network": format!("projects/{P}/global/networks/{net}"),
        "subnetwork": format!("projects/{P}/regions/europe-west2/subnetworks/{subnet}"),
        "initialClusterVersion": version,
        "ipAllocationPolicy": {"useIpAliases": true, "clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "svc"},
        "resourceLabels": {"team": "platform"},
        "releaseChannel": {"channel": 2},
        "networkConfig": {"datapathProvider": "ADVANCED_DATAPATH"},
        "workloadIdentityConfig": {"workloadPool": format!("{P}.svc.id.goog")},
        "privateClusterConfig": {"enablePrivateNodes": true, "masterIpv4CidrBlock": "172.16.0.0/28"},
        "masterAuthorizedNetworksConfig": {"enabled": true, "cidrBlocks": [{"cidrBlock": "10.0.0.0/8", "displayName": "internal"}]},
        "controlPlaneEndpointsConfig": {"dnsEndpointConfig": {"allowExternalTraffic": true}},
        "databaseEncryption": {"state": "ENCRYPTED", "keyName": format!("projects/{P}/locations/europe-west2/keyRings/kr/cryptoKeys/gke")},
        "nodePools": [{
            "name": "system",
            "initialNodeCount": 1,
            "config": {"machineType": "e2-standard-4", "spot": true, "labels": {"role": "system"},
                       "taints": [{"key": "dedicated", "value": "system", "effect": "NO_SCHEDULE"}]},
            "autoscaling": {"enabled": true, "totalMinNodeCount": 1, "totalMaxNodeCount": 3, "locationPolicy": "BALANCED"},
        }],
    }})
}

#[test]
fn compute_networks_subnetworks_routers_and_addresses() {
    let fake =
        GcpFake::start(GcpFakeConfig::default().with_down_zone("europe-west2-c")).expect("start");

    // Regions and zones, with a filter and a zone marked down.
    let region = ok(&fake, "GET", &cpath("regions/europe-west2"), None);
    assert_eq!(region["zones"].as_array().map(Vec::len), Some(3));
    let zones = ok(
        &fake,
        "GET",
        &format!(
            "{}?filter=region%20eq%20%22.*%2Fregions%2Feurope-west2%22",
            cpath("zones")
        ),
        None,
    );
    let items = zones["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    let c = items
        .iter()
        .find(|z| z["name"] == "europe-west2-c")
        .expect("zone c");
    assert_eq!(c["status"], "DOWN");
    assert!(c["region"]
        .as_str()
        .expect("region")
        .ends_with("/regions/europe-west2"));
    assert_eq!(
        call(&fake, "GET", &cpath("regions/mars-north1"), None).0,
        404
    );

    // A network: the operation finishes after two polls.
    let op = ok(
        &fake,
        "POST",
        &cpath("global/networks"),
        Some(json!({"name": "net", "autoCreateSubnetworks": false, "mtu": 1460})),
    );
    assert_eq!(op["kind"], "compute#operation");
    assert_eq!(op["status"], "RUNNING");
    assert_eq!(op["operationType"], "insert");
    assert!(op.get("region").is_none());
    let op_path = format!("global/operations/{}", op["name"].as_str().expect("name"));
    assert_eq!(
        ok(&fake, "GET", &cpath(&op_path), None)["status"],
        "RUNNING"
    );
    assert_eq!(ok(&fake, "GET", &cpath(&op_path), None)["status"], "DONE");
    let net = ok(&fake, "GET", &cpath("global/networks/net"), None);
    assert_eq!(net["autoCreateSubnetworks"], false);
    assert_eq!(net["routingConfig"]["routingMode"], "REGIONAL");
    assert!(net["id"]
        .as_str()
        .is_some_and(|id| id.chars().all(|c| c.is_ascii_digit())));
    let (status, dup) = call(
        &fake,
        "POST",
        &cpath("global/networks"),
        Some(json!({"name": "net"})),
    );
    assert_eq!(
        (status, dup["error"]["errors"][0]["reason"].as_str()),
        (409, Some("alreadyExists"))
    );

    // Subnetworks: CIDR checks, overlaps, fingerprinted patches.
    let sub = |name: &str, cidr: &str| {
        json!({"name": name, "network": net["selfLink"], "ipCidrRange": cidr,
        "secondaryIpRanges": [{"rangeName": "pods", "ipCidrRange": "10.64.0.0/14"}]})
    };
    let op = ok(
        &fake,
        "POST",
        &cpath("regions/europe-west2/subnetworks"),
        Some(sub("a", "10.0.0.0/20")),
    );
    assert!(op["region"]
        .as_str()
        .is_some_and(|r| r.ends_with("/regions/europe-west2")));
    compute_wait(&fake, &op);
    for (name, cidr) in [
        ("b", "10.0.0.1/20"),
        ("c", "10.0.8.0/24"),
        ("d", "not-a-cidr"),
    ] {
        let (status, e) = call(
            &fake,
            "POST",
            &cpath("regions/europe-west2/subnetworks"),
            Some(sub(name, cidr)),
        );
        assert_eq!(status, 400, "{name}: {e}");
    }
    let (status, e) = call(
        &fake,
        "POST",
        &cpath("regions/europe-west1/subnetworks"),
        Some(sub("e", "10.1.0.0/20")),
    );
    assert_eq!(
        status, 400,
        "the pods range overlaps a's in the same network: {e}"
    );
    let a = ok(
        &fake,
        "GET",
        &cpath("regions/europe-west2/subnetworks/a"),
        None,
    );
    assert_eq!(a["gatewayAddress"], "10.0.0.1");
    let (status, e) = call(
        &fake,
        "PATCH",
        &cpath("regions/europe-west2/subnetworks/a"),
        Some(json!({"privateIpGoogleAccess": true, "fingerprint": "stale"})),
    );
    assert_eq!(
        (status, e["error"]["errors"][0]["reason"].as_str()),
        (412, Some("conditionNotMet"))
    );
    let op = ok(
        &fake,
        "PATCH",
        &cpath("regions/europe-west2/subnetworks/a"),
        Some(json!({"privateIpGoogleAccess": true, "fingerprint": a["fingerprint"]})),
    );
    compute_wait(&fake, &op);
    let a2 = ok(
        &fake,
        "GET",
        &cpath("regions/europe-west2/subnetworks/a"),
        None,
    );
    assert_eq!(a2["privateIpGoogleAccess"], true);
    assert_ne!(a2["fingerprint"], a["fingerprint"]);
    let list = ok(
        &fake,
        "GET",
        &format!(
            "{}?filter=name%20eq%20%22a%22",
            cpath("regions/europe-west2/subnetworks")
        ),
        None,
    );
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    let none = ok(&fake, "GET", &cpath("regions/us-east1/subnetworks"), None);
    assert!(
        none.get("items").is_none(),
        "empty lists omit items: {none}"
    );
    assert_eq!(none["kind"], "compute#subnetworkList");

    // A NAT IP in use by a router cannot be deleted.
    let op = ok(
        &fake,
        "POST",
        &cpath("regions/europe-west2/addresses"),
        Some(json!({"name": "nat-ip", "labels": {"a": "b"}})),
    );
    compute_wait(&fake, &op);
    let bad_nat = json!({"name": "r", "network": "global/networks/net", "nats": [{"name": "nat", "natIpAllocateOption": "AUTO_ONLY",
        "natIps": ["nat-ip"], "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES"}]});
    assert_eq!(
        call(
            &fake,
            "POST",
            &cpath("regions/europe-west2/routers"),
            Some(bad_nat)
        )
        .0,
        400
    );
    let router = json!({"name": "r", "network": net["selfLink"], "nats": [{"name": "nat", "natIpAllocateOption": "MANUAL_ONLY",
        "natIps": [format!("projects/{P}/regions/europe-west2/addresses/nat-ip")],
        "sourceSubnetworkIpRangesToNat": "LIST_OF_SUBNETWORKS",
        "subnetworks": [{"name": "regions/europe-west2/subnetworks/a", "sourceIpRangesToNat": ["ALL_IP_RANGES"]}],
        "logConfig": {"enable": true, "filter": "ERRORS_ONLY"}, "minPortsPerVm": 128}]});
    compute_wait(
        &fake,
        &ok(
            &fake,
            "POST",
            &cpath("regions/europe-west2/routers"),
            Some(router),
        ),
    );
    let addr = ok(
        &fake,
        "GET",
        &cpath("regions/europe-west2/addresses/nat-ip"),
        None,
    );
    assert_eq!(addr["status"], "IN_USE");
    assert_eq!(addr["addressType"], "EXTERNAL");
    let (status, e) = call(
        &fake,
        "DELETE",
        &cpath("regions/europe-west2/addresses/nat-ip"),
        None,
    );
    assert_eq!(status, 400);
    assert_eq!(
        e["error"]["errors"][0]["reason"],
        "resourceInUseByAnotherResource"
    );
    assert_eq!(e["error"]["errors"][0]["domain"], "global");
    let (status, _) = call(
        &fake,
        "DELETE",
        &cpath("regions/europe-west2/subnetworks/a"),
        None,
    );
    assert_eq!(status, 400, "the NAT lists subnetwork a");

    // Labels with their fingerprint.
    let stale = json!({"labels": {"x": "y"}, "labelFingerprint": "nope"});
    assert_eq!(
        call(
            &fake,
            "POST",
            &cpath("regions/europe-west2/addresses/nat-ip/setLabels"),
            Some(stale)
        )
        .0,
        412
    );
    let op = ok(
        &fake,
        "POST",
        &cpath("regions/europe-west2/addresses/nat-ip/setLabels"),
        Some(json!({"labels": {"x": "y"}, "labelFingerprint": addr["labelFingerprint"]})),
    );
    compute_wait(&fake, &op);
    assert_eq!(
        ok(
            &fake,
            "GET",
            &cpath("regions/europe-west2/addresses/nat-ip"),
            None
        )["labels"],
        json!({"x": "y"})
    );

    // A peering range and a peering keep the network in use.
    let op = ok(
        &fake,
        "POST",
        &cpath("global/addresses"),
        Some(json!({"name": "psa", "purpose": "VPC_PEERING",
        "addressType": "INTERNAL", "prefixLength": 16, "network": net["selfLink"]})),
    );
    compute_wait(&fake, &op);
    let psa = ok(&fake, "GET", &cpath("global/addresses/psa"), None);
    assert_eq!(psa["address"], "10.100.0.0");
    assert_eq!(psa["status"], "RESERVED");
    let op = ok(
        &fake,
        "POST",
        &cpath("global/networks/net/addPeering"),
        Some(json!({"networkPeering": {
        "name": "servicenetworking-googleapis-com", "network": "projects/123456789012/global/networks/servicenetworking", "exchangeSubnetRoutes": true}})),
    );
    compute_wait(&fake, &op);
    let peered = ok(&fake, "GET", &cpath("global/networks/net"), None);
    assert_eq!(peered["peerings"][0]["state"], "ACTIVE");
    assert_eq!(peered["subnetworks"].as_array().map(Vec::len), Some(1));

    // Tear down in the order the API demands.
    let (status, e) = call(&fake, "DELETE", &cpath("global/networks/net"), None);
    assert_eq!(status, 400);
    let message = e["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with(&format!(
            "The network resource 'projects/{P}/global/networks/net' is already being used by"
        )),
        "{message}"
    );
    compute_wait(
        &fake,
        &ok(
            &fake,
            "DELETE",
            &cpath("regions/europe-west2/routers/r"),
            None,
        ),
    );
    assert_eq!(
        ok(
            &fake,
            "GET",
            &cpath("regions/europe-west2/addresses/nat-ip"),
            None
        )["status"],
        "RESERVED"
    );
    compute_wait(
        &fake,
        &ok(
            &fake,
            "DELETE",
            &cpath("regions/europe-west2/addresses/nat-ip"),
            None,
        ),
    );
    compute_wait(
        &fake,
        &ok(
            &fake,
            "DELETE",
            &cpath("regions/europe-west2/subnetworks/a"),
            None,
        ),
    );
    compute_wait(
        &fake,
        &ok(&fake, "DELETE", &cpath("global/addresses/psa"), None),
    );
    assert_eq!(
        call(&fake, "DELETE", &cpath("global/networks/net"), None).0,
        400,
        "the peering remains"
    );
    let op = ok(
        &fake,
        "POST",
        &cpath("global/networks/net/removePeering"),
        Some(json!({"name": "servicenetworking-googleapis-com"})),
    );
    compute_wait(&fake, &op);
    compute_wait(
        &fake,
        &ok(&fake, "DELETE", &cpath("global/networks/net"), None),
    );
    let (status, e) = call(&fake, "GET", &cpath("global/networks/net"), None);
    assert_eq!(
        (status, e["error"]["errors"][0]["reason"].as_str()),
        (404, Some("notFound"))
    );
}

#[test]
fn gke_clusters_node_pools_and_refusals() {
    let fake = GcpFake::start(GcpFakeConfig::default()).expect("start");
    make_network(&fake, "net", "nodes", 0);
    make_key(&fake);
    let l = "europe-west2";

    // Refused creates.
    let mut bad = cluster_body("Bad_Name", "net", "nodes", "1.31");
    assert_eq!(
        call(&fake, "POST", &gpath(l, "clusters"), Some(bad.clone())).0,
        400
    );
    // A Secrets key that does not exist, then one GKE's agent may not use.
    for key in ["missing", "ungranted"] {
        let mut keyed = cluster_body("c", "net", "nodes", "1.31");
        keyed["cluster"]["databaseEncryption"]["keyName"] = json!(format!(
            "projects/{P}/locations/europe-west2/keyRings/kr/cryptoKeys/{key}"
        ));
        if key == "ungranted" {
            ok(
                &fake,
                "POST",
                &format!("/v1/projects/{P}/locations/europe-west2/keyRings/kr/cryptoKeys?cryptoKeyId=ungranted"),
                Some(json!({"purpose": "ENCRYPT_DECRYPT"})),
            );
        }
        let (status, e) = call(&fake, "POST", &gpath(l, "clusters"), Some(keyed));
        assert_eq!(
            (status, e["error"]["status"].as_str()),
            (400, Some("FAILED_PRECONDITION")),
            "{key}: {e}"
        );
    }
    bad["cluster"]["name"] = json!("c");
    bad["cluster"]["ipAllocationPolicy"]["clusterSecondaryRangeName"] = json!("nope");
    let (status, e) = call(&fake, "POST", &gpath(l, "clusters"), Some(bad));
    assert_eq!(
        (status, e["error"]["status"].as_str()),
        (400, Some("INVALID_ARGUMENT")),
        "{e}"
    );
    let (status, _) = call(
        &fake,
        "POST",
        &gpath(l, "clusters"),
        Some(cluster_body("c", "missing", "nodes", "1.31")),
    );
    assert_eq!(status, 400);
    let mut no_pools = cluster_body("c", "net", "nodes", "1.31");
    no_pools["cluster"]
        .as_object_mut()
        .expect("object")
        .remove("nodePools");
    assert_eq!(
        call(&fake, "POST", &gpath(l, "clusters"), Some(no_pools.clone())).0,
        400
    );

    // Create: PROVISIONING, then RUNNING once the operation is done.
    let op = ok(
        &fake,
        "POST",
        &gpath(l, "clusters"),
        Some(cluster_body("c", "net", "nodes", "1.31")),
    );
    assert_eq!(op["operationType"], "CREATE_CLUSTER");
    assert_eq!(op["status"], "RUNNING");
    let c = ok(&fake, "GET", &gpath(l, "clusters/c"), None);
    assert_eq!(c["status"], "PROVISIONING");
    assert_eq!(c["nodePools"][0]["status"], "PROVISIONING");
    let (status, e) = call(
        &fake,
        "POST",
        &gpath(l, "clusters/c/nodePools"),
        Some(json!({"nodePool": {"name": "np", "initialNodeCount": 1}})),
    );
    assert_eq!(status, 400);
    assert_eq!(e["error"]["status"], "FAILED_PRECONDITION");
    assert_eq!(
        e["error"]["message"],
        format!(
            "Cluster is running incompatible operation {}.",
            op["name"].as_str().expect("name")
        )
    );
    assert_eq!(gke_wait(&fake, l, &op), 2);
    let c = fake.cluster_json(P, l, "c").expect("cluster");
    assert_eq!(c["status"], "RUNNING");
    assert_eq!(c["currentMasterVersion"], "1.31.8-gke.1000000");
    assert_eq!(c["currentNodeVersion"], "1.31.8-gke.1000000");
    assert_eq!(
        c["locations"],
        json!(["europe-west2-a", "europe-west2-b", "europe-west2-c"])
    );
    assert_eq!(c["network"], "net");
    assert_eq!(c["subnetwork"], "nodes");
    assert_eq!(
        c["networkConfig"]["subnetwork"],
        format!("projects/{P}/regions/europe-west2/subnetworks/nodes")
    );
    assert_eq!(c["networkConfig"]["datapathProvider"], "ADVANCED_DATAPATH");
    assert_eq!(
        c["releaseChannel"]["channel"], "REGULAR",
        "the enum number 2 was read as REGULAR"
    );
    assert_eq!(
        c["ipAllocationPolicy"]["clusterIpv4CidrBlock"],
        "10.4.0.0/14"
    );
    assert_eq!(
        c["databaseEncryption"]["currentState"],
        "CURRENT_STATE_ENCRYPTED"
    );
    assert_eq!(c["privateClusterConfig"]["privateEndpoint"], "172.16.0.2");
    assert!(
        c["controlPlaneEndpointsConfig"]["dnsEndpointConfig"]["endpoint"]
            .as_str()
            .is_some_and(|e| e.ends_with(".europe-west2.gke.goog"))
    );
    assert!(c["masterAuth"]["clusterCaCertificate"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    let pool = &c["nodePools"][0];
    assert_eq!(pool["status"], "RUNNING");
    assert_eq!(pool["config"]["spot"], true);
    assert_eq!(pool["instanceGroupUrls"].as_array().map(Vec::len), Some(3));
    assert_eq!(pool["networkConfig"]["podRange"], "pods");

    // Lists, with `-` for every location.
    assert_eq!(
        ok(&fake, "GET", &gpath("-", "clusters"), None)["clusters"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        ok(&fake, "GET", &gpath(l, "clusters/c/nodePools"), None)["nodePools"][0]["name"],
        "system"
    );

    // Updates: one field at a time, one minor up at a time, never down.
    let two = json!({"update": {"desiredMasterVersion": "1.32", "desiredLoggingConfig": {"componentConfig": {"enableComponents": [1]}}}});
    assert_eq!(
        call(&fake, "PUT", &gpath(l, "clusters/c"), Some(two)).0,
        400
    );
    let (status, e) = call(
        &fake,
        "PUT",
        &gpath(l, "clusters/c"),
        Some(json!({"update": {"desiredMasterVersion": "1.33"}})),
    );
    assert_eq!(
        (status, e["error"]["status"].as_str()),
        (400, Some("FAILED_PRECONDITION")),
        "{e}"
    );
    assert_eq!(
        call(
            &fake,
            "PUT",
            &gpath(l, "clusters/c"),
            Some(json!({"update": {"desiredMasterVersion": "1.30"}}))
        )
        .0,
        400
    );
    let op = ok(
        &fake,
        "PUT",
        &gpath(l, "clusters/c"),
        Some(json!({"update": {"desiredMasterVersion": "1.32"}})),
    );
    assert_eq!(op["operationType"], "UPGRADE_MASTER");
    assert_eq!(
        ok(&fake, "GET", &gpath(l, "clusters/c"), None)["status"],
        "RECONCILING"
    );
    gke_wait(&fake, l, &op);
    let op = ok(
        &fake,
        "PUT",
        &gpath(l, "clusters/c"),
        Some(
            json!({"update": {"desiredLoggingConfig": {"componentConfig": {"enableComponents": [1, 3]}}}}),
        ),
    );
    gke_wait(&fake, l, &op);
    let c = ok(&fake, "GET", &gpath(l, "clusters/c"), None);
    assert_eq!(c["status"], "RUNNING");
    assert_eq!(
        c["loggingConfig"]["componentConfig"]["enableComponents"],
        json!(["SYSTEM_COMPONENTS", "APISERVER"])
    );

    // Node pools: version skew, updates, autoscaling.
    let too_new = json!({"nodePool": {"name": "np", "initialNodeCount": 1, "version": "1.33"}});
    assert_eq!(
        call(
            &fake,
            "POST",
            &gpath(l, "clusters/c/nodePools"),
            Some(too_new)
        )
        .0,
        400
    );
    let too_old = json!({"nodePool": {"name": "np", "initialNodeCount": 1, "version": "1.29"}});
    assert_eq!(
        call(
            &fake,
            "POST",
            &gpath(l, "clusters/c/nodePools"),
            Some(too_old)
        )
        .0,
        400
    );
    let op = ok(
        &fake,
        "POST",
        &gpath(l, "clusters/c/nodePools"),
        Some(
            json!({"nodePool": {"name": "np", "initialNodeCount": 2, "version": "1.31",
        "locations": ["europe-west2-a"]}}),
        ),
    );
    assert_eq!(op["operationType"], "CREATE_NODE_POOL");
    gke_wait(&fake, l, &op);
    let update = json!({"nodeVersion": "1.32", "labels": {"labels": {"tier": "web"}}, "taints": {"taints": [{"key": "k", "value": "v", "effect": 3}]},
        "machineType": "e2-standard-8", "diskSizeGb": 200});
    let op = ok(
        &fake,
        "PUT",
        &gpath(l, "clusters/c/nodePools/np"),
        Some(update),
    );
    assert_eq!(op["operationType"], "UPGRADE_NODES");
    gke_wait(&fake, l, &op);
    let np = ok(&fake, "GET", &gpath(l, "clusters/c/nodePools/np"), None);
    assert_eq!(np["version"], "1.32.4-gke.1000000");
    assert_eq!(np["config"]["labels"], json!({"tier": "web"}));
    assert_eq!(np["config"]["taints"][0]["effect"], "NO_EXECUTE");
    assert_eq!(np["config"]["machineType"], "e2-standard-8");
    let bad_scaling =
        json!({"autoscaling": {"enabled": true, "totalMinNodeCount": 5, "totalMaxNodeCount": 2}});
    assert_eq!(
        call(
            &fake,
            "POST",
            &gpath(l, "clusters/c/nodePools/np:setAutoscaling"),
            Some(bad_scaling)
        )
        .0,
        400
    );
    let op = ok(
        &fake,
        "POST",
        &gpath(l, "clusters/c/nodePools/np:setAutoscaling"),
        Some(
            json!({"autoscaling": {"enabled": true, "totalMinNodeCount": 1, "totalMaxNodeCount": 5, "locationPolicy": "ANY"}}),
        ),
    );
    gke_wait(&fake, l, &op);
    let op = ok(
        &fake,
        "POST",
        &gpath(l, "clusters/c/nodePools/np:setSize"),
        Some(json!({"nodeCount": 3})),
    );
    gke_wait(&fake, l, &op);
    assert_eq!(
        fake.request_counts()
            .count("POST container.clusters.nodePools.setSize"),
        1
    );

    // Labels with their fingerprint; maintenance policy with its version.
    let (status, e) = call(
        &fake,
        "POST",
        &gpath(l, "clusters/c:setResourceLabels"),
        Some(json!({"resourceLabels": {"a": "b"}, "labelFingerprint": "stale"})),
    );
    assert_eq!(
        (status, e["error"]["status"].as_str()),
        (400, Some("FAILED_PRECONDITION"))
    );
    let fp = ok(&fake, "GET", &gpath(l, "clusters/c"), None)["labelFingerprint"].clone();
    let op = ok(
        &fake,
        "POST",
        &gpath(l, "clusters/c:setResourceLabels"),
        Some(json!({"resourceLabels": {"a": "b"}, "labelFingerprint": fp})),
    );
    assert_eq!(op["operationType"], "SET_LABELS");
    gke_wait(&fake, l, &op);
    let window = json!({"maintenancePolicy": {"window": {"recurringWindow": {"window": {"startTime": "2025-01-01T02:00:00Z", "endTime": "2025-01-01T06:00:00Z"}, "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU"}}}});
    let op = ok(
        &fake,
        "POST",
        &gpath(l, "clusters/c:setMaintenancePolicy"),
        Some(window),
    );
    gke_wait(&fake, l, &op);
    let c = ok(&fake, "GET", &gpath(l, "clusters/c"), None);
    assert_eq!(c["resourceLabels"], json!({"a": "b"}));
    assert!(c["maintenancePolicy"]["resourceVersion"]
        .as_str()
        .is_some_and(|v| !v.is_empty()));

    // Compute refuses to delete the subnetwork or drop a range the cluster uses.
    let (status, e) = call(
        &fake,
        "DELETE",
        &cpath("regions/europe-west2/subnetworks/nodes"),
        None,
    );
    assert_eq!(
        (status, e["error"]["errors"][0]["reason"].as_str()),
        (400, Some("resourceInUseByAnotherResource"))
    );
    let sub = ok(
        &fake,
        "GET",
        &cpath("regions/europe-west2/subnetworks/nodes"),
        None,
    );
    let drop_pods = json!({"fingerprint": sub["fingerprint"], "secondaryIpRanges": [sub["secondaryIpRanges"][1]]});
    assert_eq!(
        call(
            &fake,
            "PATCH",
            &cpath("regions/europe-west2/subnetworks/nodes"),
            Some(drop_pods)
        )
        .0,
        400
    );

    // Delete: pool, then cluster.
    let op = ok(&fake, "DELETE", &gpath(l, "clusters/c/nodePools/np"), None);
    assert_eq!(
        ok(&fake, "GET", &gpath(l, "clusters/c/nodePools/np"), None)["status"],
        "STOPPING"
    );
    gke_wait(&fake, l, &op);
    assert_eq!(
        call(&fake, "GET", &gpath(l, "clusters/c/nodePools/np"), None).0,
        404
    );
    let op = ok(&fake, "DELETE", &gpath(l, "clusters/c"), None);
    assert_eq!(op["operationType"], "DELETE_CLUSTER");
    assert_eq!(
        call(&fake, "DELETE", &gpath(l, "clusters/c"), None).0,
        400,
        "the delete runs"
    );
    gke_wait(&fake, l, &op);
    let (status, e) = call(&fake, "GET", &gpath(l, "clusters/c"), None);
    assert_eq!(
        (status, e["error"]["status"].as_str()),
        (404, Some("NOT_FOUND"))
    );
    assert!(ok(&fake, "GET", &gpath(l, "clusters"), None)
        .get("clusters")
        .is_none());

    // A cluster with only initialNodeCount gets a default-pool; zonal clusters use their zone.
    no_pools["cluster"]["initialNodeCount"] = json!(2);
    let op = ok(
        &fake,
        "POST",
        &gpath("europe-west2-a", "clusters"),
        Some(no_pools),
    );
    gke_wait(&fake, "europe-west2-a", &op);
    let z = ok(&fake, "GET", &gpath("europe-west2-a", "clusters/c"), None);
    assert_eq!(z["nodePools"][0]["name"], "default-pool");
    assert_eq!(z["locations"], json!(["europe-west2-a"]));
}

#[test]
fn faults_counts_and_control_endpoints() {
    let fake = GcpFake::start(GcpFakeConfig::default().with_projects([P])).expect("start");
    let port = fake.port();
    let zones = cpath("zones");
    assert_eq!(call_with(port, "GET", &zones, None, false).0, 200);
    assert_eq!(
        call(&fake, "GET", "/compute/v1/projects/other/zones", None).0,
        404
    );

    let plan = json!({"rate": 1.0, "status": 429, "seed": 7, "max": 2});
    assert_eq!(call(&fake, "POST", "/_fake/faults", Some(plan)).0, 200);
    for _ in 0..2 {
        let (status, e) = call(&fake, "GET", &zones, None);
        assert_eq!(status, 429);
        assert_eq!(e["error"]["status"], "RESOURCE_EXHAUSTED");
        assert_eq!(e["error"]["code"], 429);
        assert!(e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Quota exceeded")));
    }
    assert_eq!(call(&fake, "GET", &zones, None).0, 200, "max reached");
    fake.set_faults(FaultPlan::unavailable(1.0).with_max(1));
    let (status, e) = call(&fake, "GET", &gpath("europe-west2", "clusters"), None);
    assert_eq!(
        (status, e["error"]["status"].as_str()),
        (503, Some("UNAVAILABLE"))
    );
    assert_eq!(
        call(&fake, "POST", "/_fake/faults", Some(json!({"rate": 3.0}))).0,
        400
    );

    let counts = ok(&fake, "GET", "/_fake/requests", None);
    assert_eq!(counts["total"], 6, "{counts}");
    assert_eq!(counts["by_call"]["GET compute.zones.list"], 5);
    assert_eq!(counts["by_call"]["GET container.clusters.list"], 1);
    assert_eq!(counts["unauthenticated"], 1);
    assert_eq!(counts["faults_injected"], 3);
    let typed = fake.request_counts();
    assert_eq!(typed.total, 6);
    assert_eq!(typed.count_matching("compute."), 5);
    ok(&fake, "POST", "/_fake/reset-counts", None);
    assert_eq!(fake.request_counts().total, 0);
    let state = ok(&fake, "GET", "/_fake/state", None);
    assert!(state["compute"]["networks"].is_array() && state["gke"]["clusters"].is_array());
    assert_eq!(
        fake.request_counts().total,
        0,
        "control calls are not counted"
    );
    fake.shutdown();
}

#[test]
fn binary_prints_listening_first_and_exits_cleanly_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paved-gcp-fake"))
        .args(["--operation-polls", "0", "--project", P])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .trim()
        .strip_prefix("Listening on ")
        .unwrap_or_else(|| panic!("first line {line:?}"))
        .to_owned();
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let (status, op) = call_with(
        port,
        "POST",
        &cpath("global/networks"),
        Some(&json!({"name": "n", "autoCreateSubnetworks": false})),
        true,
    );
    assert_eq!((status, op["status"].as_str()), (200, Some("DONE")), "{op}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("exit");
    assert!(out.status.success(), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("request counts") && stderr.contains("POST compute.networks.insert"),
        "{stderr}"
    );
}

// ----- judged by gcloud -----

/// gcloud, when installed; `None` (after a note) when it is not and
/// `PAVED_REQUIRE_TOOLS` is not `1`.
fn gcloud_path() -> Option<PathBuf> {
    let found = ["/usr/bin/gcloud", "/usr/local/bin/gcloud"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .or_else(|| {
            Command::new("gcloud")
                .arg("version")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|_| PathBuf::from("gcloud"))
        });
    if found.is_none() {
        assert!(
            std::env::var("PAVED_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "gcloud is required (PAVED_REQUIRE_TOOLS=1)"
        );
        println!("skipped: gcloud not found");
    }
    found
}

/// gcloud pointed at a stand-in, with its own configuration directory.
struct Gcloud {
    /// The CLI.
    path: PathBuf,
    /// Its `CLOUDSDK_CONFIG` (and kubeconfig) directory.
    dir: PathBuf,
    /// The stand-in's URL.
    url: String,
}

impl Gcloud {
    fn new(path: PathBuf, fake: &GcpFakeHandle) -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "paved-gcp-fake-gcloud-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("config dir");
        Self {
            path,
            dir,
            url: fake.url(),
        }
    }

    /// Runs gcloud; stdout on success, stderr on failure.
    fn run(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.path)
            .args(args)
            .env("CLOUDSDK_CONFIG", &self.dir)
            .env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
            .env("CLOUDSDK_CORE_PROJECT", P)
            .env("CLOUDSDK_AUTH_ACCESS_TOKEN", "fake-token")
            .env("CLOUDSDK_CORE_DISABLE_USAGE_REPORTING", "1")
            .env("CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK", "1")
            .env(
                "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE",
                format!("{}/compute/v1/", self.url),
            )
            .env(
                "CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER",
                format!("{}/", self.url),
            )
            // `clusters create` asks Service Usage whether GKE is enabled; a 404 lets it go on.
            .env(
                "CLOUDSDK_API_ENDPOINT_OVERRIDES_SERVICEUSAGE",
                format!("{}/", self.url),
            )
            .env("KUBECONFIG", self.dir.join("kubeconfig"))
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Runs gcloud with `--format=json` and parses the output.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--format=json");
        let out = self
            .run(&all)
            .unwrap_or_else(|e| panic!("gcloud {args:?} failed: {e}"));
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("gcloud {args:?}: not JSON ({e}): {out}"))
    }
}

impl Drop for Gcloud {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn gcloud_describes_what_was_written_over_http() {
    let Some(path) = gcloud_path() else { return };
    let fake = GcpFake::start(GcpFakeConfig::default()).expect("start");
    make_network(&fake, "net", "nodes", 0);
    make_key(&fake);
    compute_wait(
        &fake,
        &ok(
            &fake,
            "POST",
            &cpath("regions/europe-west2/addresses"),
            Some(json!({"name": "nat-ip"})),
        ),
    );
    let router = json!({"name": "router", "network": format!("projects/{P}/global/networks/net"), "nats": [{"name": "nat",
        "natIpAllocateOption": "MANUAL_ONLY", "natIps": ["nat-ip"], "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
        "logConfig": {"enable": true, "filter": "ALL"}}]});
    compute_wait(
        &fake,
        &ok(
            &fake,
            "POST",
            &cpath("regions/europe-west2/routers"),
            Some(router),
        ),
    );
    let op = ok(
        &fake,
        "POST",
        &gpath("europe-west2", "clusters"),
        Some(cluster_body("prod", "net", "nodes", "1.31")),
    );
    gke_wait(&fake, "europe-west2", &op);
    let g = Gcloud::new(path, &fake);

    let net = g.json(&["compute", "networks", "describe", "net"]);
    assert_eq!(net["name"], "net");
    assert_eq!(net["autoCreateSubnetworks"], false);
    assert_eq!(net["mtu"], 1500);
    assert_eq!(net["x_gcloud_subnet_mode"], "CUSTOM");
    let sub = g.json(&[
        "compute",
        "networks",
        "subnets",
        "describe",
        "nodes",
        "--region",
        "europe-west2",
    ]);
    assert_eq!(sub["ipCidrRange"], "10.0.0.0/20");
    assert_eq!(sub["privateIpGoogleAccess"], true);
    assert_eq!(sub["secondaryIpRanges"][0]["rangeName"], "pods");
    assert_eq!(sub["logConfig"]["aggregationInterval"], "INTERVAL_5_SEC");
    let r = g.json(&[
        "compute",
        "routers",
        "describe",
        "router",
        "--region",
        "europe-west2",
    ]);
    assert_eq!(r["nats"][0]["natIpAllocateOption"], "MANUAL_ONLY");
    assert!(r["nats"][0]["natIps"][0]
        .as_str()
        .is_some_and(|u| u.ends_with("/regions/europe-west2/addresses/nat-ip")));
    let addr = g.json(&[
        "compute",
        "addresses",
        "describe",
        "nat-ip",
        "--region",
        "europe-west2",
    ]);
    assert_eq!(addr["status"], "IN_USE");
    let zones = g.json(&[
        "compute",
        "zones",
        "list",
        "--filter",
        "region:europe-west1",
    ]);
    assert_eq!(zones.as_array().map(Vec::len), Some(3));

    let c = g.json(&[
        "container",
        "clusters",
        "describe",
        "prod",
        "--region",
        "europe-west2",
    ]);
    assert_eq!(c["name"], "prod");
    assert_eq!(c["status"], "RUNNING");
    assert_eq!(c["currentMasterVersion"], "1.31.8-gke.1000000");
    assert_eq!(c["resourceLabels"]["team"], "platform");
    assert_eq!(c["ipAllocationPolicy"]["servicesSecondaryRangeName"], "svc");
    assert_eq!(
        c["workloadIdentityConfig"]["workloadPool"],
        format!("{P}.svc.id.goog")
    );
    assert_eq!(
        c["masterAuthorizedNetworksConfig"]["cidrBlocks"][0]["cidrBlock"],
        "10.0.0.0/8"
    );
    let pools = g.json(&[
        "container",
        "node-pools",
        "list",
        "--cluster",
        "prod",
        "--region",
        "europe-west2",
    ]);
    assert_eq!(pools[0]["name"], "system");
    assert_eq!(pools[0]["autoscaling"]["totalMaxNodeCount"], 3);
    assert_eq!(pools[0]["config"]["taints"][0]["effect"], "NO_SCHEDULE");
    let listed = g.json(&["container", "clusters", "list"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let missing = g.run(&[
        "container",
        "clusters",
        "describe",
        "nope",
        "--region",
        "europe-west2",
    ]);
    assert!(missing.is_err_and(|e| e.contains("404") || e.contains("Not found")));
}

#[test]
fn gcloud_writes_are_accepted() {
    let Some(path) = gcloud_path() else { return };
    let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(0)).expect("start");
    let g = Gcloud::new(path, &fake);
    let run = |args: &[&str]| {
        g.run(args)
            .unwrap_or_else(|e| panic!("gcloud {args:?} failed: {e}"))
    };

    run(&[
        "compute",
        "networks",
        "create",
        "net",
        "--subnet-mode=custom",
        "--bgp-routing-mode=global",
    ]);
    run(&[
        "compute",
        "networks",
        "subnets",
        "create",
        "nodes",
        "--network",
        "net",
        "--region",
        "europe-west2",
        "--range",
        "10.10.0.0/20",
        "--secondary-range",
        "pods=10.20.0.0/14,svc=10.10.16.0/20",
        "--enable-private-ip-google-access",
    ]);
    let net = fake.network_json(P, "net").expect("network");
    assert_eq!(net["routingConfig"]["routingMode"], "GLOBAL");
    let refused = g.run(&[
        "compute",
        "networks",
        "subnets",
        "create",
        "clash",
        "--network",
        "net",
        "--region",
        "europe-west1",
        "--range",
        "10.10.8.0/24",
    ]);
    assert!(
        refused.is_err_and(|e| e.contains("conflicts")),
        "overlapping ranges are refused"
    );
    run(&[
        "compute",
        "addresses",
        "create",
        "nat-ip",
        "--region",
        "europe-west2",
    ]);
    run(&[
        "compute",
        "routers",
        "create",
        "router",
        "--network",
        "net",
        "--region",
        "europe-west2",
    ]);
    run(&[
        "compute",
        "routers",
        "nats",
        "create",
        "nat",
        "--router",
        "router",
        "--region",
        "europe-west2",
        "--nat-external-ip-pool",
        "nat-ip",
        "--nat-all-subnet-ip-ranges",
        "--enable-logging",
    ]);

    run(&[
        "container",
        "clusters",
        "create",
        "web",
        "--region",
        "europe-west2",
        "--network",
        "net",
        "--subnetwork",
        "nodes",
        "--enable-ip-alias",
        "--cluster-secondary-range-name",
        "pods",
        "--services-secondary-range-name",
        "svc",
        "--num-nodes",
        "1",
        "--cluster-version",
        "1.31",
        "--workload-pool",
        &format!("{P}.svc.id.goog"),
        "--labels",
        "env=test",
    ]);
    let c = fake
        .cluster_json(P, "europe-west2", "web")
        .expect("cluster");
    assert_eq!(c["status"], "RUNNING");
    assert_eq!(c["nodePools"][0]["name"], "default-pool");
    assert_eq!(c["resourceLabels"]["env"], "test");
    run(&[
        "container",
        "node-pools",
        "create",
        "spot",
        "--cluster",
        "web",
        "--region",
        "europe-west2",
        "--num-nodes",
        "1",
        "--spot",
        "--machine-type",
        "e2-standard-4",
        "--node-taints",
        "dedicated=spot:NoSchedule",
    ]);
    run(&[
        "container",
        "clusters",
        "update",
        "web",
        "--region",
        "europe-west2",
        "--update-labels",
        "owner=paved",
    ]);
    let c = fake
        .cluster_json(P, "europe-west2", "web")
        .expect("cluster");
    let spot = c["nodePools"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "spot"))
        .expect("spot pool");
    assert_eq!(spot["config"]["spot"], true);
    assert_eq!(spot["config"]["taints"][0]["effect"], "NO_SCHEDULE");
    // gcloud sends only the new labels, and the API replaces them all.
    assert_eq!(c["resourceLabels"], json!({"owner": "paved"}));
    let skip = g.run(&[
        "container",
        "clusters",
        "upgrade",
        "web",
        "--region",
        "europe-west2",
        "--master",
        "--cluster-version",
        "1.33",
    ]);
    assert!(skip.is_err(), "a two-minor master upgrade is refused");
    run(&[
        "container",
        "node-pools",
        "delete",
        "spot",
        "--cluster",
        "web",
        "--region",
        "europe-west2",
    ]);
    run(&[
        "container",
        "clusters",
        "delete",
        "web",
        "--region",
        "europe-west2",
    ]);
    assert!(fake.cluster_json(P, "europe-west2", "web").is_none());
    let counts = fake.request_counts();
    assert!(
        counts.count("POST container.clusters.create") == 1 && counts.unauthenticated == 0,
        "{counts:?}"
    );
}
