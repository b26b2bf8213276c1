//! The provider binary driven by a Rust plugin client acting as Terraform: the
//! handshake, AutoMTLS (accepted with the announced certificate, refused with any
//! other), the go-plugin services and every provider RPC.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use paved::proto::plugin::grpc_broker_client::GrpcBrokerClient;
use paved::proto::plugin::grpc_controller_client::GrpcControllerClient;
use paved::proto::tfplugin6 as pb;
use paved::proto::tfplugin6::provider_client::ProviderClient;
use paved_value::{msgpack, Type, Value};
use support::plugin::{connect, exited, start, wait_exit, ClientIdentity, DebugProvider};

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(v, ty).expect("encode"),
        json: Vec::new(),
    })
}

fn block_type(schema: &pb::Schema) -> Type {
    // Rebuild the implied type from the protocol schema, as Terraform does.
    fn block(b: &pb::schema::Block) -> Type {
        let mut attrs: Vec<(String, Type)> = b
            .attributes
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    Type::from_json_bytes(&a.r#type).expect("attribute type"),
                )
            })
            .collect();
        for nb in &b.block_types {
            let inner = block(nb.block.as_ref().expect("nested block"));
            let t = match nb.nesting {
                2 => Type::list(inner),
                3 => Type::set(inner),
                4 => Type::map(inner),
                _ => inner,
            };
            attrs.push((nb.type_name.clone(), t));
        }
        Type::object(attrs)
    }
    block(schema.block.as_ref().expect("block"))
}

fn diag_paths(diags: &[pb::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .map(|d| {
            paved::protocol::convert::path_from(d.attribute.as_ref().unwrap_or(&Default::default()))
                .to_string()
        })
        .collect()
}

#[test]
fn started_by_hand_explains_and_exits_1() {
    let out = std::process::Command::new(support::paved_provider_binary())
        .env_remove(paved::plugin::handshake::MAGIC_COOKIE_KEY)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plugin for Terraform"), "{err}");
    assert!(err.contains("terraform init"), "{err}");
}

#[tokio::test]
async fn mtls_accepts_the_pinned_certificate_and_refuses_others() {
    let terraform = ClientIdentity::generate();
    let provider = start(Some(&terraform.cert_pem), &[]);
    assert!(
        provider.server_cert.is_some(),
        "AutoMTLS announces a certificate"
    );

    // The announced certificate: CN/SAN localhost, a CA, and it works.
    let channel = connect(&provider, Some(&terraform))
        .await
        .expect("connect with the pinned cert");
    let mut client = ProviderClient::new(channel);
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema over mTLS")
        .into_inner();
    assert!(schema.data_source_schemas.contains_key("paved_zones"));

    // Another certificate, even a well-formed P-521 CA like Terraform's, is refused.
    let stranger = ClientIdentity::generate();
    let refused = match connect(&provider, Some(&stranger)).await {
        Err(_) => true,
        Ok(channel) => ProviderClient::new(channel)
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .is_err(),
    };
    assert!(
        refused,
        "a client certificate other than the pinned one must be refused"
    );

    // No client certificate at all is refused too.
    let anonymous = match connect(&provider, None).await {
        Err(_) => true,
        Ok(channel) => ProviderClient::new(channel)
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .is_err(),
    };
    assert!(anonymous, "a client without a certificate must be refused");
}

#[tokio::test]
async fn plaintext_when_no_client_certificate_is_given() {
    let provider = start(None, &[]);
    assert!(provider.server_cert.is_none());
    assert!(provider.handshake_line.ends_with("|grpc|"));
    let channel = connect(&provider, None).await.expect("plaintext connect");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .expect("health")
        .into_inner();
    assert_eq!(
        status.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn every_rpc_terraform_sends() {
    let terraform = ClientIdentity::generate();
    // An endpoint nobody listens on: reads must fail with a clear diagnostic.
    let provider = start(
        Some(&terraform.cert_pem),
        &[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_MAX_ATTEMPTS", "1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    let channel = connect(&provider, Some(&terraform)).await.expect("connect");
    let mut client = ProviderClient::new(channel.clone())
        .max_decoding_message_size(256 << 20)
        .max_encoding_message_size(256 << 20);

    // GetProviderSchema: provider block, the data source, capabilities.
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    let provider_schema = schema.provider.as_ref().expect("provider schema");
    let provider_type = block_type(provider_schema);
    let block = provider_schema.block.as_ref().expect("block");
    assert!(block.block_types.iter().any(|b| b.type_name == "aws"));
    assert!(block.block_types.iter().any(|b| b.type_name == "gcp"));
    assert_eq!(block.description_kind, pb::StringKind::Markdown as i32);
    let zones_schema = &schema.data_source_schemas["paved_zones"];
    let zones_type = block_type(zones_schema);
    let caps = schema.server_capabilities.expect("capabilities");
    assert!(caps.plan_destroy);

    // GetMetadata lists the same types.
    let meta = client
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("metadata")
        .into_inner();
    assert_eq!(meta.data_sources.len(), 1);
    assert_eq!(meta.data_sources[0].type_name, "paved_zones");

    // Identity schemas and functions: empty, valid answers.
    let ids = client
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .expect("identity schemas")
        .into_inner();
    assert!(ids.identity_schemas.is_empty() && ids.diagnostics.is_empty());
    let funcs = client
        .get_functions(pb::get_functions::Request {})
        .await
        .expect("functions")
        .into_inner();
    assert!(funcs.functions.is_empty());
    let call = client
        .call_function(pb::call_function::Request {
            name: "nope".into(),
            arguments: vec![],
        })
        .await
        .expect("call")
        .into_inner();
    assert!(call.error.expect("function error").text.contains("nope"));

    // ValidateProviderConfig: a bad cloud and a bad endpoint, each with its path.
    let bad_provider = obj(&[
        ("cloud", Value::from("azure")),
        (
            "aws",
            obj(&[("endpoint_url", Value::from("localhost:4566"))]),
        ),
    ]);
    let v = client
        .validate_provider_config(pb::validate_provider_config::Request {
            config: dv(&bad_provider, &provider_type),
        })
        .await
        .expect("validate provider")
        .into_inner();
    assert_eq!(diag_paths(&v.diagnostics), ["cloud", "aws.endpoint_url"]);

    // Unknown values validate fine (they are checked once known).
    let unknown_region = obj(&[("aws", obj(&[("region", Value::unknown())]))]);
    let v = client
        .validate_provider_config(pb::validate_provider_config::Request {
            config: dv(&unknown_region, &provider_type),
        })
        .await
        .expect("validate provider")
        .into_inner();
    assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);

    // ValidateDataResourceConfig names the attribute.
    let bad_zones = obj(&[
        ("profile", Value::from("prod")),
        ("zone_count", Value::from(40i64)),
    ]);
    let v = client
        .validate_data_resource_config(pb::validate_data_resource_config::Request {
            type_name: "paved_zones".into(),
            config: dv(&bad_zones, &zones_type),
        })
        .await
        .expect("validate data source")
        .into_inner();
    assert_eq!(diag_paths(&v.diagnostics), ["profile", "zone_count"]);
    assert!(v.diagnostics[0].detail.contains("\"production\""));

    // ConfigureProvider with an empty block: no cloud call, no error.
    let c = client
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: dv(&obj(&[]), &provider_type),
            client_capabilities: None,
        })
        .await
        .expect("configure")
        .into_inner();
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);

    // ReadDataSource reaches the (closed) endpoint and reports it plainly.
    let r = client
        .read_data_source(pb::read_data_source::Request {
            type_name: "paved_zones".into(),
            config: dv(&obj(&[]), &zones_type),
            provider_meta: None,
            client_capabilities: None,
        })
        .await
        .expect("read data source")
        .into_inner();
    assert!(r.state.is_none());
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
    assert!(
        r.diagnostics[0].summary.contains("us-east-1"),
        "{:?}",
        r.diagnostics[0]
    );

    // Resource RPCs for a type paved does not have: error diagnostics, not crashes.
    let p = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "paved_nope".into(),
            ..Default::default()
        })
        .await
        .expect("plan")
        .into_inner();
    assert!(p.diagnostics[0].detail.contains("paved_nope"));
    let u = client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "paved_nope".into(),
            ..Default::default()
        })
        .await
        .expect("upgrade")
        .into_inner();
    assert_eq!(u.diagnostics.len(), 1);
    for call in [
        client
            .read_resource(pb::read_resource::Request {
                type_name: "paved_nope".into(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().diagnostics),
        client
            .apply_resource_change(pb::apply_resource_change::Request {
                type_name: "paved_nope".into(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().diagnostics),
        client
            .import_resource_state(pb::import_resource_state::Request {
                type_name: "paved_nope".into(),
                id: "x".into(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().diagnostics),
        client
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: "paved_nope".into(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().diagnostics),
        client
            .move_resource_state(pb::move_resource_state::Request {
                target_type_name: "paved_nope".into(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().diagnostics),
    ] {
        let diags = call.expect("answered");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].severity, pb::diagnostic::Severity::Error as i32);
    }

    // Features paved does not declare answer UNIMPLEMENTED.
    let eph = client
        .validate_ephemeral_resource_config(
            pb::validate_ephemeral_resource_config::Request::default(),
        )
        .await
        .expect_err("no ephemeral resources");
    assert_eq!(eph.code(), tonic::Code::Unimplemented);

    // The broker stream stays open.
    let mut broker = GrpcBrokerClient::new(channel.clone());
    let (_tx, rx) = tokio::sync::mpsc::channel::<paved::proto::plugin::ConnInfo>(1);
    let mut stream = broker
        .start_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("broker stream")
        .into_inner();
    let idle = tokio::time::timeout(Duration::from_millis(200), stream.message()).await;
    assert!(
        idle.is_err(),
        "the broker stream must stay open while Terraform holds it"
    );

    // StopProvider answers without error.
    let s = client
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("stop")
        .into_inner();
    assert!(s.error.is_empty());

    // Shutdown ends the process promptly.
    let mut controller = GrpcControllerClient::new(channel);
    controller
        .shutdown(paved::proto::plugin::Empty {})
        .await
        .expect("shutdown");
    let mut provider = provider;
    let status = wait_exit(&mut provider.child, Duration::from_secs(2))
        .expect("exits within 2 s of Shutdown");
    assert!(status.success());
}

#[test]
fn debug_mode_prints_the_reattach_value() {
    let provider = DebugProvider::start(&[]);
    let value: serde_json::Value = serde_json::from_str(&provider.reattach).expect("json");
    drop(provider);
    let entry = &value["registry.terraform.io/pavedroad/paved"];
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Addr"]["Network"], "unix");
    assert!(entry["Addr"]["String"]
        .as_str()
        .is_some_and(|s| s.ends_with(".sock")));
}

#[test]
fn stops_when_terraform_is_killed_without_stopping_it() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::Instant;

    // A shell stands for Terraform: it starts the provider as go-plugin does, prints
    // the provider's pid and waits. SIGKILL to the shell orphans the provider, as a
    // Terraform killed outright (OOM, a cancelled CI job) does.
    let mut terraform = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" & echo "pid $!"; wait"#)
        .arg(support::paved_provider_binary())
        .env(
            paved::plugin::handshake::MAGIC_COOKIE_KEY,
            paved::plugin::handshake::MAGIC_COOKIE_VALUE,
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sh");
    let stdout = terraform.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut pid = None;
    let mut handshake = None;
    while pid.is_none() || handshake.is_none() {
        let line = lines.next().expect("a line").expect("read");
        match line.strip_prefix("pid ") {
            Some(p) => pid = Some(p.trim().parse::<u32>().expect("pid")),
            None => handshake = Some(line),
        }
    }
    let pid = pid.expect("pid");
    assert!(
        handshake.is_some_and(|l| l.starts_with("1|6|unix|")),
        "the provider answered the handshake"
    );

    // While its parent lives, the provider serves on (several polls' worth).
    std::thread::sleep(paved::plugin::server::PARENT_POLL * 4);
    assert!(
        !exited(pid),
        "the provider stopped while Terraform was alive"
    );

    terraform.kill().expect("SIGKILL the shell");
    terraform.wait().expect("reap the shell");
    let killed = Instant::now();
    while !exited(pid) && killed.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let stopped = exited(pid);
    if !stopped {
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    }
    assert!(
        stopped,
        "the orphaned provider (pid {pid}) still runs 10 s after Terraform was killed"
    );
    eprintln!(
        "provider stopped {:?} after its parent was killed",
        killed.elapsed()
    );
}
