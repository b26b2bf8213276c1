//! The AWS network of a `paved_ha_cluster` against a real moto server: create,
//! re-run (nothing duplicated), adopt after a simulated crash, refresh with a bounded
//! number of calls, ordered teardown, and a second teardown that is a no-op.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_ec2::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_ec2::config::{ConfigBag, Intercept};
use aws_sdk_ec2::error::BoxError;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_sdk_ec2::Client;
use paved::cloud::aws::network::{delete_network, ensure_network, read_network, NetworkSpec};
use paved::ports::network::NatLayout;
use paved::ports::network::Tier;
use paved::stack::tags::{COMPONENT_TAG, RESOURCE_TAG, STACK_TAG};

use crate::support::aws::{cluster_context as context, moto_config, stack_context, ZONES};
use crate::support::{cloud, Moto};

/// Counts every EC2 call the client makes.
#[derive(Debug, Clone, Default)]
struct CallCounter(Arc<AtomicUsize>);

impl CallCounter {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// An EC2 client for moto, configured explicitly (no process environment).
fn client(moto: &Moto) -> (Client, CallCounter) {
    let counter = CallCounter::default();
    let config = aws_sdk_ec2::config::Builder::from(&moto_config(&moto.endpoint()))
        .interceptor(counter.clone())
        .build();
    (Client::from_conf(config), counter)
}

fn production(cidr: &str) -> NetworkSpec {
    NetworkSpec {
        cidr: cidr.to_owned(),
        zones: ZONES.iter().map(|z| (*z).to_owned()).collect(),
        nat: NatLayout::PerZone,
    }
}

fn has(tags: &[Tag], key: &str, value: &str) -> bool {
    tags.iter()
        .any(|t| t.key() == Some(key) && t.value() == Some(value))
}

/// What moto holds with the stack's tag, counted by kind.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    vpcs: usize,
    subnets: usize,
    igws: usize,
    nats: usize,
    eips: usize,
    route_tables: usize,
}

async fn counts(ec2: &Client, stack: &str) -> Counts {
    let objects = cloud::ec2_objects(ec2).await;
    let count = |kind: &str| {
        objects
            .iter()
            .filter(|o| o.kind == kind && o.stack() == Some(stack))
            .count()
    };
    Counts {
        vpcs: count("ec2:vpc"),
        subnets: count("ec2:subnet"),
        igws: count("ec2:internet-gateway"),
        nats: count("ec2:nat-gateway"),
        eips: count("ec2:elastic-ip"),
        route_tables: count("ec2:route-table"),
    }
}

fn tag_spec(kind: ResourceType, stack: &str, key: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key(STACK_TAG).value(stack).build())
        .tags(
            Tag::builder()
                .key(RESOURCE_TAG)
                .value("paved_ha_cluster")
                .build(),
        )
        .tags(Tag::builder().key(COMPONENT_TAG).value(key).build())
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_network_lifecycle() {
    let moto = Moto::start();
    let (ec2, calls) = client(&moto);
    let ctx = context("shop");
    let spec = production("10.0.0.0/16");

    // Create.
    let step = ensure_network(&ec2, &ctx, &spec).await;
    let net = step.result.expect("ensure_network");
    assert_eq!(
        counts(&ec2, "shop").await,
        Counts {
            vpcs: 1,
            subnets: 9,
            igws: 1,
            nats: 3,
            eips: 3,
            // public, one private per zone, intra
            route_tables: 5,
        }
    );
    assert_eq!(net.zones, ZONES);
    assert_eq!(net.nat_gateway_ids.len(), 3);
    for tier in Tier::ALL {
        assert_eq!(net.subnet_ids[&tier].len(), 3, "{tier:?}");
    }
    // 1 VPC + 9 subnets + IGW + 3 EIPs + 3 NATs + 5 route tables.
    assert_eq!(step.components.len(), 22, "{:#?}", step.components);

    // The VPC has DNS support and hostnames on.
    for attr in [
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport,
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
    ] {
        let out = ec2
            .describe_vpc_attribute()
            .vpc_id(&net.vpc_id)
            .attribute(attr.clone())
            .send()
            .await
            .unwrap();
        let on = out
            .enable_dns_support()
            .or(out.enable_dns_hostnames())
            .and_then(|a| a.value());
        assert_eq!(on, Some(true), "{attr:?}");
    }

    // Subnet tags for load balancers and the cluster.
    let subnets = ec2
        .describe_subnets()
        .filters(Filter::builder().name("vpc-id").values(&net.vpc_id).build())
        .send()
        .await
        .unwrap();
    for s in subnets.subnets() {
        let id = s.subnet_id().unwrap();
        let tags = s.tags();
        if net.subnet_ids[&Tier::Public].values().any(|p| p == id) {
            assert!(has(tags, "kubernetes.io/role/elb", "1"), "{id}");
            assert!(has(tags, "kubernetes.io/cluster/shop", "shared"), "{id}");
        } else if net.subnet_ids[&Tier::Private].values().any(|p| p == id) {
            assert!(has(tags, "kubernetes.io/role/internal-elb", "1"), "{id}");
            assert!(has(tags, "kubernetes.io/cluster/shop", "shared"), "{id}");
        }
        assert!(has(tags, "team", "platform"), "user tags on {id}");
    }

    // Routes: public → IGW; private per zone → that zone's NAT; intra → local only.
    let tables = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(&net.vpc_id).build())
        .send()
        .await
        .unwrap();
    let nat_subnet: BTreeMap<String, String> = ec2
        .describe_nat_gateways()
        .set_nat_gateway_ids(Some(net.nat_gateway_ids.clone()))
        .send()
        .await
        .unwrap()
        .nat_gateways()
        .iter()
        .map(|n| {
            (
                n.nat_gateway_id().unwrap().to_owned(),
                n.subnet_id().unwrap().to_owned(),
            )
        })
        .collect();
    for (i, zone) in ZONES.iter().enumerate() {
        let public = &net.subnet_ids[&Tier::Public][*zone];
        let private = &net.subnet_ids[&Tier::Private][*zone];
        let intra = &net.subnet_ids[&Tier::Isolated][*zone];
        let table_of = |subnet: &str| {
            tables
                .route_tables()
                .iter()
                .find(|t| {
                    t.associations()
                        .iter()
                        .any(|a| a.subnet_id() == Some(subnet))
                })
                .unwrap_or_else(|| panic!("no route table for {subnet}"))
        };
        let default_route = |subnet: &str| {
            table_of(subnet)
                .routes()
                .iter()
                .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
                .cloned()
        };
        let route = default_route(public).expect("public default route");
        assert!(route.gateway_id().unwrap().starts_with("igw-"));
        let route = default_route(private).expect("private default route");
        let nat = route.nat_gateway_id().unwrap();
        assert_eq!(nat, net.nat_gateway_ids[i]);
        assert_eq!(
            &nat_subnet[nat], public,
            "NAT {i} in zone {zone}'s public subnet"
        );
        assert!(
            default_route(intra).is_none(),
            "intra has no internet route"
        );
    }

    // Ensure again: same ids, nothing duplicated.
    let again = ensure_network(&ec2, &ctx, &spec).await;
    assert_eq!(again.result.expect("second ensure"), net);
    assert_eq!(again.components, step.components);
    assert_eq!(counts(&ec2, "shop").await.subnets, 9);
    assert_eq!(counts(&ec2, "shop").await.nats, 3);
    assert_eq!(counts(&ec2, "shop").await.route_tables, 5);

    // Refresh: the same ids, one describe call per kind.
    let before = calls.get();
    let read = read_network(&ec2, &ctx).await.expect("read_network");
    assert_eq!(calls.get() - before, 6, "one describe call per kind");
    assert_eq!(read.network.as_ref(), Some(&net));
    let mut read_ids: Vec<&str> = read.components.iter().map(|c| c.id.as_str()).collect();
    let mut made_ids: Vec<&str> = step.components.iter().map(|c| c.id.as_str()).collect();
    read_ids.sort_unstable();
    made_ids.sort_unstable();
    assert_eq!(read_ids, made_ids);

    // Another stack in the same account is left alone, and so is a `paved_network`
    // of the same name: neither resource takes the other's network for its own.
    let other = ensure_network(&ec2, &context("other"), &production("10.1.0.0/16")).await;
    other.result.expect("other stack");
    let namesake = stack_context("paved_network", "shop", "platform");
    let shared = ensure_network(&ec2, &namesake, &production("10.2.0.0/16")).await;
    let shared = shared.result.expect("a paved_network of the same name");
    assert_ne!(shared.vpc_id, net.vpc_id, "a network of its own");
    assert_eq!(
        read_network(&ec2, &ctx)
            .await
            .expect("read")
            .network
            .as_ref(),
        Some(&net),
        "the cluster's read finds only its own network"
    );

    // Teardown, then a second one that finds nothing.
    let report = delete_network(&ec2, &ctx)
        .await
        .result
        .expect("delete_network");
    assert!(report.left_behind.is_empty(), "{:#?}", report.left_behind);
    // What is left with the stack's name is the namesake's network, whole.
    assert_eq!(
        counts(&ec2, "shop").await,
        Counts {
            vpcs: 1,
            subnets: 9,
            igws: 1,
            nats: 3,
            eips: 3,
            route_tables: 5,
        }
    );
    let second = delete_network(&ec2, &ctx)
        .await
        .result
        .expect("second delete");
    assert!(second.deleted.is_empty(), "{:#?}", second.deleted);
    assert!(second.left_behind.is_empty(), "{:#?}", second.left_behind);
    assert!(read_network(&ec2, &ctx).await.unwrap().network.is_none());
    assert_eq!(counts(&ec2, "other").await.subnets, 9, "other stack intact");
    let kept = read_network(&ec2, &namesake)
        .await
        .expect("read the namesake");
    assert_eq!(
        kept.network.map(|n| n.vpc_id),
        Some(shared.vpc_id),
        "the paved_network of the same name is intact"
    );
    let gone = delete_network(&ec2, &namesake)
        .await
        .result
        .expect("delete");
    assert!(gone.left_behind.is_empty(), "{:#?}", gone.left_behind);
    assert_eq!(counts(&ec2, "shop").await.vpcs, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_what_a_crashed_apply_left() {
    let moto = Moto::start();
    let (ec2, _) = client(&moto);
    let ctx = context("crashy");
    let spec = production("10.20.0.0/16");

    // A crash right after the VPC and two subnets were made.
    let vpc_id = ec2
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .tag_specifications(tag_spec(ResourceType::Vpc, "crashy", "vpc"))
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_owned();
    let mut made = Vec::new();
    for (key, cidr, zone) in [
        ("subnet.private.0", "10.20.0.0/19", "us-east-1a"),
        ("subnet.public.1", "10.20.228.0/22", "us-east-1b"),
    ] {
        let id = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(cidr)
            .availability_zone(zone)
            .tag_specifications(tag_spec(ResourceType::Subnet, "crashy", key))
            .send()
            .await
            .unwrap()
            .subnet()
            .unwrap()
            .subnet_id()
            .unwrap()
            .to_owned();
        made.push(id);
    }

    let net = ensure_network(&ec2, &ctx, &spec)
        .await
        .result
        .expect("ensure after crash");
    assert_eq!(net.vpc_id, vpc_id, "VPC adopted");
    assert_eq!(net.subnet_ids[&Tier::Private]["us-east-1a"], made[0]);
    assert_eq!(net.subnet_ids[&Tier::Public]["us-east-1b"], made[1]);
    let counted = counts(&ec2, "crashy").await;
    assert_eq!(counted.vpcs, 1);
    assert_eq!(counted.subnets, 9);
    // The adopted subnets got the load-balancer tags they were missing.
    let subnets = ec2
        .describe_subnets()
        .subnet_ids(&made[1])
        .send()
        .await
        .unwrap();
    assert!(has(
        subnets.subnets()[0].tags(),
        "kubernetes.io/role/elb",
        "1"
    ));

    // What Kubernetes leaves behind: a security group referring to itself and a
    // network interface in a private subnet. Teardown removes both.
    let group = ec2
        .create_security_group()
        .vpc_id(&vpc_id)
        .group_name("k8s-elb-leftover")
        .description("left by the cloud controller")
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_owned();
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("-1")
                .user_id_group_pairs(
                    aws_sdk_ec2::types::UserIdGroupPair::builder()
                        .group_id(&group)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let eni = ec2
        .create_network_interface()
        .subnet_id(&made[0])
        .groups(&group)
        .send()
        .await
        .unwrap()
        .network_interface()
        .unwrap()
        .network_interface_id()
        .unwrap()
        .to_owned();

    let report = delete_network(&ec2, &ctx).await.result.expect("delete");
    assert!(report.left_behind.is_empty(), "{:#?}", report.left_behind);
    assert!(
        report.deleted.iter().any(|c| c.id == eni),
        "{:#?}",
        report.deleted
    );
    assert!(
        report.deleted.iter().any(|c| c.id == group),
        "{:#?}",
        report.deleted
    );
    assert_eq!(counts(&ec2, "crashy").await.vpcs, 0);
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    assert!(vpcs
        .vpcs()
        .iter()
        .all(|v| v.vpc_id() != Some(vpc_id.as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_and_no_nat_layouts() {
    let moto = Moto::start();
    let (ec2, _) = client(&moto);
    for (stack, nat, cidr, nats, tables) in [
        ("single", NatLayout::Single, "10.30.0.0/16", 1, 3),
        ("nonat", NatLayout::None, "10.31.0.0/16", 0, 3),
    ] {
        let ctx = context(stack);
        let spec = NetworkSpec {
            nat,
            ..production(cidr)
        };
        let net = ensure_network(&ec2, &ctx, &spec)
            .await
            .result
            .unwrap_or_else(|e| panic!("{stack}: {e}"));
        assert_eq!(net.nat_gateway_ids.len(), nats, "{stack}");
        let counted = counts(&ec2, stack).await;
        assert_eq!((counted.nats, counted.eips), (nats, nats), "{stack}");
        assert_eq!(counted.route_tables, tables, "{stack}");
        let report = delete_network(&ec2, &ctx).await.result.expect("delete");
        assert!(report.left_behind.is_empty(), "{:#?}", report.left_behind);
    }

    // Per-zone NAT turned into a single one: the surplus NATs, addresses and private
    // route tables go, every private subnet routes through the one NAT.
    let ctx = context("shrink");
    let spec = production("10.32.0.0/16");
    ensure_network(&ec2, &ctx, &spec)
        .await
        .result
        .expect("per-zone");
    let single = NetworkSpec {
        nat: NatLayout::Single,
        ..spec
    };
    let net = ensure_network(&ec2, &ctx, &single)
        .await
        .result
        .expect("single");
    let counted = counts(&ec2, "shrink").await;
    assert_eq!(
        (counted.nats, counted.eips, counted.route_tables),
        (1, 1, 3)
    );
    let tables = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(&net.vpc_id).build())
        .send()
        .await
        .unwrap();
    for private in net.subnet_ids[&Tier::Private].values() {
        let table = tables
            .route_tables()
            .iter()
            .find(|t| {
                t.associations()
                    .iter()
                    .any(|a| a.subnet_id() == Some(private.as_str()))
            })
            .expect("private subnet has a table");
        assert!(table
            .routes()
            .iter()
            .any(|r| r.nat_gateway_id() == Some(net.nat_gateway_ids[0].as_str())));
    }
    let report = delete_network(&ec2, &ctx).await.result.expect("delete");
    assert!(report.left_behind.is_empty(), "{:#?}", report.left_behind);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_provider_process_keeps_at_most_the_cap_of_calls_in_flight() {
    use paved::cloud::aws::in_flight::MAX_IN_FLIGHT;
    use paved_testbed::{FaultConfig, FaultProxy};

    let moto = crate::support::Moto::start();
    // 100 ms on every call, so calls started together are in flight together.
    let proxy = FaultProxy::start(&moto.endpoint(), FaultConfig::none().with_latency(100, 0))
        .expect("proxy");
    let clients = crate::support::aws::moto_clients(&proxy.endpoint());
    // Three service clients, as a refresh holds: one cap for all of them.
    let ec2 = clients.ec2(None).await.expect("ec2");
    let kms = clients.kms(None).await.expect("kms");
    let logs = clients.logs(None).await.expect("logs");
    let calls = (0..150).map(|i| {
        let (ec2, kms, logs) = (ec2.clone(), kms.clone(), logs.clone());
        async move {
            match i % 3 {
                0 => ec2
                    .describe_vpcs()
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                1 => kms
                    .list_keys()
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                _ => logs
                    .describe_log_groups()
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            }
        }
    });
    let answers = futures::future::join_all(calls).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    let stats = proxy.stats();
    assert_eq!(stats.total, 150);
    assert_eq!(
        stats.max_in_flight as usize, MAX_IN_FLIGHT,
        "150 calls started together: the cap, and no more, in flight at once"
    );
}
