//! `paved_ha_cluster` end to end: real Terraform 1.15.5 drives the provider against
//! moto through the counting proxy. One production stack with two node pools goes
//! through apply, an empty plan (and the AWS calls of that refresh), a pool update,
//! `terraform import` after `state rm` (then an empty plan), deletion protection
//! refusing destroy, and a destroy after which moto holds nothing of the stack.

use std::collections::BTreeMap;
use std::time::Instant;

use paved_testbed::FaultConfig;

use crate::support::aws::{block_on, moto_config};
use crate::support::cloud::moto_objects;
use crate::support::{bed, TERRAFORM};

fn config(protected: bool, spot_max: u32, spot_label: &str) -> String {
    format!(
        r#"{TERRAFORM}
provider "paved" {{
  default_tags = {{ team = "platform" }}
}}

resource "paved_ha_cluster" "prod" {{
  delivery    = "gitops"
  gitops_path = "gitops"
  name                = "shop"
  profile             = "production"
  kubernetes_version  = "1.31"
  deletion_protection = {protected}

  node_pools = {{
    system = {{
      min_size = 3
      max_size = 9
    }}
    spot = {{
      capacity       = "spot"
      instance_types = ["m6i.large", "m5.large"]
      min_size       = 3
      max_size       = {spot_max}
      labels         = {{ workload = "{spot_label}" }}
      taints         = [{{ key = "spot", value = "true", effect = "NoSchedule" }}]
    }}
  }}
}}

output "vpc_id" {{
  value = paved_ha_cluster.prod.network.vpc_id
}}

output "endpoint" {{
  value = paved_ha_cluster.prod.endpoint
}}

output "node_pool_status" {{
  value = paved_ha_cluster.prod.node_pool_status
}}

output "zones" {{
  value = paved_ha_cluster.prod.zones
}}
"#
    )
}

/// What moto still holds of stack `shop`: everything tagged as its, the roles named
/// `shop-*` and the log groups under /aws/eks/shop/ whatever their tags, and every EKS
/// cluster, OIDC provider and live KMS key (the stack is the only one in its moto).
fn leftovers(moto_endpoint: &str) -> Vec<String> {
    moto_objects(moto_endpoint)
        .into_iter()
        .filter(|o| {
            o.stack() == Some("shop")
                || matches!(o.kind, "eks:cluster" | "iam:oidc-provider" | "kms:key")
                || (o.kind == "iam:role" && o.id.starts_with("shop-"))
                || (o.kind == "logs:log-group" && o.id.starts_with("/aws/eks/shop/"))
        })
        .map(|o| o.to_string())
        .collect()
}

#[test]
fn production_cluster_lifecycle_against_moto() {
    let (moto, proxy, mut ws) = bed(FaultConfig::default());
    ws.write_file("main.tf", &config(true, 20, "batch"));
    ws.init();

    // Apply.
    let started = Instant::now();
    ws.apply();
    eprintln!(
        "[figures] apply: {:.2?}, {} calls",
        started.elapsed(),
        proxy.stats().total
    );
    let outputs = ws.output_json();
    assert!(
        outputs["vpc_id"]["value"]
            .as_str()
            .is_some_and(|v| v.starts_with("vpc-")),
        "{outputs:#}"
    );
    assert_eq!(
        outputs["zones"]["value"].as_array().map(Vec::len),
        Some(3),
        "{outputs:#}"
    );
    let status = &outputs["node_pool_status"]["value"];
    assert_eq!(status["system"], "ACTIVE", "{outputs:#}");
    assert_eq!(status["spot"], "ACTIVE", "{outputs:#}");

    // A plan right after apply is empty; count the refresh's AWS calls.
    proxy.reset();
    let started = Instant::now();
    ws.assert_no_changes();
    let stats = proxy.stats();
    eprintln!(
        "[figures] plan (refresh): {:.2?}, {} calls: {stats:#?}",
        started.elapsed(),
        stats.total
    );
    // 16 for the cloud components, then the managed add-ons: ListAddons and one
    // DescribeAddon each (EKS has no batched describe).
    assert!(
        stats.total <= 22,
        "a refresh of the production cluster made {} calls: {stats:#?}",
        stats.total
    );

    // Pool update in place: max size and a label.
    ws.write_file("main.tf", &config(true, 30, "analytics"));
    let plan = ws.plan(&[]);
    assert!(
        plan.stdout.contains("1 to change"),
        "an in-place update:\n{plan}"
    );
    assert!(
        !plan.stdout.contains("must be replaced"),
        "no replacement:\n{plan}"
    );
    ws.apply();
    ws.assert_no_changes();

    // Import after forgetting the resource. The cloud tells everything but where
    // the in-cluster objects go (delivery = "gitops" and its directory are only in
    // the configuration), so the plan after import changes those settings in place
    // and nothing else; after that apply the plan is empty.
    ws.run_ok(&["state", "rm", "paved_ha_cluster.prod"]);
    ws.run_ok(&[
        "import",
        "-no-color",
        "-input=false",
        "paved_ha_cluster.prod",
        "shop",
    ]);
    let plan = ws.plan(&[]);
    assert!(plan.stdout.contains("1 to change"), "{plan}");
    assert!(!plan.stdout.contains("must be replaced"), "{plan}");
    assert!(plan.stdout.contains("delivery"), "{plan}");
    ws.apply();
    ws.assert_no_changes();

    // Deletion protection refuses destroy at plan time.
    let refused = ws.run(&["plan", "-destroy", "-no-color", "-input=false"]);
    assert_ne!(
        refused.code, 0,
        "destroy of a protected cluster must fail:\n{refused}"
    );
    assert!(
        refused.combined().contains("deletion_protection"),
        "{refused}"
    );

    // Turn protection off, then destroy: nothing of the stack is left in moto.
    ws.write_file("main.tf", &config(false, 30, "analytics"));
    ws.apply();
    let started = Instant::now();
    proxy.reset();
    ws.destroy();
    eprintln!(
        "[figures] destroy: {:.2?}, {} calls",
        started.elapsed(),
        proxy.stats().total
    );
    let left = leftovers(&moto.endpoint());
    assert!(left.is_empty(), "moto still holds: {left:#?}");
    proxy.shutdown();
}

/// `text` with every run of whitespace made one space.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A protected production cluster whose node-pool creation fails: the error tells the
/// truth (Terraform taints the resource; `terraform untaint` resumes), the next
/// `terraform apply` plans a replacement that paved refuses at apply time, so
/// nothing is deleted; after `terraform untaint` the apply resumes on the same
/// network and finishes.
#[test]
fn failed_create_is_never_replaced_while_protected() {
    // Every CreateNodegroup answers 500 until the fault is lifted.
    let faults = FaultConfig::none()
        .with_error_500_rate(1.0)
        .with_actions(["POST /clusters/{id}/node-groups"]);
    let (moto, proxy, mut ws) = bed(faults);
    ws.write_file("main.tf", &config(true, 20, "batch"));
    ws.init();

    let failed = ws.run_err(&["apply", "-no-color", "-input=false", "-auto-approve"]);
    // Terraform wraps long messages: compare with the whitespace collapsed.
    let text = words(&failed.combined());
    assert!(text.contains("Creating the cluster failed"), "{failed}");
    assert!(
        text.contains("terraform untaint paved_ha_cluster.<NAME>"),
        "the error must say how to resume:\n{failed}"
    );
    assert!(
        !text.contains("Run apply again; it resumes"),
        "a failed create is replaced, not resumed, by a plain apply:\n{failed}"
    );
    let state = ws.state_json();
    let instance = &state["resources"][0]["instances"][0];
    assert_eq!(instance["status"], "tainted", "{state:#}");
    let vpc_id = instance["attributes"]["network"]["vpc_id"]
        .as_str()
        .expect("the partial state keeps the network")
        .to_owned();
    assert!(vpc_id.starts_with("vpc-"), "{state:#}");

    // The cloud recovers; a plain apply plans to replace the tainted cluster and
    // paved refuses the destroy half: nothing of the stack is deleted.
    proxy.set_config(FaultConfig::none()).expect("lift faults");
    let refused = ws.run_err(&["apply", "-no-color", "-input=false", "-auto-approve"]);
    let text = words(&refused.combined());
    assert!(text.contains("Deletion protection is on"), "{refused}");
    assert!(text.contains("nothing was deleted"), "{refused}");
    assert!(
        text.contains("terraform untaint paved_ha_cluster.<NAME>"),
        "{refused}"
    );
    let left = leftovers(&moto.endpoint());
    assert!(
        left.iter().any(|l| l.contains(&vpc_id)),
        "the protected stack's network must still exist: {left:#?}"
    );
    assert!(
        left.iter().any(|l| l.starts_with("eks cluster shop")),
        "the protected stack's control plane must still exist: {left:#?}"
    );

    // Untaint and apply: the stack resumes on the same network and completes.
    ws.run_ok(&["untaint", "-no-color", "paved_ha_cluster.prod"]);
    ws.apply();
    let outputs = ws.output_json();
    assert_eq!(outputs["vpc_id"]["value"], vpc_id.as_str(), "{outputs:#}");
    let status = &outputs["node_pool_status"]["value"];
    assert_eq!(status["system"], "ACTIVE", "{outputs:#}");
    assert_eq!(status["spot"], "ACTIVE", "{outputs:#}");
    ws.assert_no_changes();

    ws.write_file("main.tf", &config(false, 20, "batch"));
    ws.apply();
    ws.destroy();
    let left = leftovers(&moto.endpoint());
    assert!(left.is_empty(), "moto still holds: {left:#?}");
    proxy.shutdown();
}

/// A development cluster (fast, unprotected) named `shop` whose `cluster_admins`
/// are `admins`.
fn admins_config(admins: &[&str]) -> String {
    let admins = admins
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"{TERRAFORM}
provider "paved" {{}}

resource "paved_ha_cluster" "dev" {{
  delivery    = "gitops"
  gitops_path = "gitops"
  name                = "shop"
  profile             = "development"
  kubernetes_version  = "1.31"
  deletion_protection = false
  cluster_admins      = [{admins}]
}}
"#
    )
}

/// `cluster_admins` through EKS access entries, which moto lacks: the proxy's
/// access-entry stand-in answers them. Apply grants alice and bob (entries tagged
/// as the stack's, with the admin policy); an entry made by hand for carol is not
/// paved's and does not show; dropping bob revokes only his entry; alice's entry
/// revoked by hand shows as drift at refresh and apply grants it again; destroy
/// leaves nothing.
#[test]
fn cluster_admins_are_granted_revoked_and_refreshed() {
    const ALICE: &str = "arn:aws:iam::123456789012:role/alice";
    const BOB: &str = "arn:aws:iam::123456789012:role/bob";
    const CAROL: &str = "arn:aws:iam::123456789012:role/carol";
    const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
    let principals = |proxy: &paved_testbed::ProxyHandle| -> Vec<String> {
        proxy
            .access_entries("shop")
            .into_iter()
            .map(|e| e.principal_arn)
            .collect()
    };

    let (moto, proxy, mut ws) = bed(FaultConfig::none());
    let proxy = proxy.with_access_entries();
    ws.write_file("main.tf", &admins_config(&[ALICE, BOB]));
    ws.init();

    // 1. Apply grants alice and bob: entries tagged as the stack's, with the admin
    // policy; the plan after is empty.
    ws.apply();
    assert_eq!(principals(&proxy), vec![ALICE, BOB]);
    for admin in [ALICE, BOB] {
        let entry = proxy.access_entry("shop", admin).expect("entry");
        assert_eq!(
            entry.tags.get("paved:stack").map(String::as_str),
            Some("shop"),
            "{entry:#?}"
        );
        assert!(entry.has_policy(ADMIN_POLICY), "{entry:#?}");
    }
    ws.assert_no_changes();

    // 2. An entry made by hand is not paved's: not shown, nothing to change.
    assert!(proxy.add_access_entry("shop", CAROL));
    ws.assert_no_changes();

    // 3. Dropping bob: one in-place change; only bob's entry goes.
    ws.write_file("main.tf", &admins_config(&[ALICE]));
    let plan = ws.plan(&[]);
    assert!(plan.stdout.contains("1 to change"), "{plan}");
    ws.apply();
    assert_eq!(principals(&proxy), vec![ALICE, CAROL]);
    let carol = proxy.access_entry("shop", CAROL).expect("carol's entry");
    assert!(
        carol.tags.is_empty() && carol.access_policies.is_empty(),
        "paved must leave the hand-made entry alone: {carol:#?}"
    );
    ws.assert_no_changes();

    // 4. Alice's entry revoked by hand: refresh shows the drift, apply grants again.
    assert!(proxy.remove_access_entry("shop", ALICE));
    let drift = ws.run(&["plan", "-no-color", "-input=false", "-detailed-exitcode"]);
    assert_eq!(
        drift.code, 2,
        "the revoked entry must show as a change:\n{drift}"
    );
    assert!(drift.stdout.contains("cluster_admins"), "{drift}");
    ws.apply();
    assert_eq!(principals(&proxy), vec![ALICE, CAROL]);
    let alice = proxy.access_entry("shop", ALICE).expect("alice's entry");
    assert_eq!(
        alice.tags.get("paved:stack").map(String::as_str),
        Some("shop"),
        "{alice:#?}"
    );
    assert!(alice.has_policy(ADMIN_POLICY), "{alice:#?}");
    ws.assert_no_changes();

    // 5. Destroy: nothing of the stack is left, access entries included.
    ws.destroy();
    let left = leftovers(&moto.endpoint());
    assert!(left.is_empty(), "moto still holds: {left:#?}");
    assert!(
        proxy.all_access_entries().is_empty(),
        "access entries left: {:#?}",
        proxy.all_access_entries()
    );
    proxy.shutdown();
}

/// The tags of stack `shop`'s VPC and EKS cluster in moto (paved's own aside).
fn stack_tags(moto_endpoint: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let objects = moto_objects(moto_endpoint);
    let user_tags = |kind: &str| -> BTreeMap<String, String> {
        let object = objects
            .iter()
            .find(|o| o.kind == kind && o.stack() == Some("shop"))
            .unwrap_or_else(|| panic!("no {kind} of stack shop in moto: {objects:#?}"));
        object
            .tags
            .iter()
            .filter(|(k, _)| !k.starts_with("paved:"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    (user_tags("ec2:vpc"), user_tags("eks:cluster"))
}

/// Sets tag `key` on stack `shop`'s EKS cluster behind paved's back.
fn tag_cluster_by_hand(moto_endpoint: &str, key: &str, value: &str) {
    block_on(async {
        let eks = aws_sdk_eks::Client::new(&moto_config(moto_endpoint));
        let arn = eks
            .describe_cluster()
            .name("shop")
            .send()
            .await
            .expect("cluster")
            .cluster()
            .and_then(|c| c.arn())
            .expect("arn")
            .to_owned();
        eks.tag_resource()
            .resource_arn(arn)
            .tags(key, value)
            .send()
            .await
            .expect("tag by hand");
    });
}

fn tagged_config(default_tags: &str, tags: &str) -> String {
    config(false, 20, "batch")
        .replace(
            "default_tags = { team = \"platform\" }",
            &format!("default_tags = {default_tags}"),
        )
        .replace(
            "deletion_protection = false",
            &format!("deletion_protection = false\n  tags = {tags}"),
        )
}

/// Changing the provider's `default_tags` or the resource's `tags` retags every
/// component in place (no replacement), and a tag changed by hand shows in the next
/// plan and is put back by apply.
#[test]
fn tags_reach_existing_components_and_drift_shows() {
    let (moto, proxy, mut ws) = bed(FaultConfig::default());
    ws.write_file(
        "main.tf",
        &tagged_config(
            r#"{ team = "platform", costcenter = "42" }"#,
            r#"{ env = "prod" }"#,
        ),
    );
    ws.init();
    ws.apply();
    let first = BTreeMap::from([
        ("team".to_owned(), "platform".to_owned()),
        ("costcenter".to_owned(), "42".to_owned()),
        ("env".to_owned(), "prod".to_owned()),
    ]);
    let (vpc, cluster) = stack_tags(&moto.endpoint());
    assert_eq!(vpc, first);
    assert_eq!(cluster, first);
    ws.assert_no_changes();

    // New default tags (costcenter dropped, team changed) and one more own tag.
    ws.write_file(
        "main.tf",
        &tagged_config(r#"{ team = "shop" }"#, r#"{ env = "prod", owner = "ana" }"#),
    );
    let plan = ws.plan(&[]);
    assert!(plan.stdout.contains("1 to change"), "{plan}");
    assert!(!plan.stdout.contains("must be replaced"), "{plan}");
    assert!(plan.stdout.contains("tags_all"), "{plan}");
    ws.apply();
    let wanted = BTreeMap::from([
        ("team".to_owned(), "shop".to_owned()),
        ("env".to_owned(), "prod".to_owned()),
        ("owner".to_owned(), "ana".to_owned()),
    ]);
    let (vpc, cluster) = stack_tags(&moto.endpoint());
    assert_eq!(vpc, wanted, "the VPC is retagged and costcenter removed");
    assert_eq!(
        cluster, wanted,
        "the cluster is retagged and costcenter removed"
    );
    ws.assert_no_changes();

    // A tag changed by hand on the cluster: the plan shows it, apply puts it back.
    tag_cluster_by_hand(&moto.endpoint(), "owner", "mallory");
    let code = ws.plan_detailed_exitcode();
    assert_eq!(code, 2, "the changed tag shows as drift");
    ws.apply();
    let (_, cluster) = stack_tags(&moto.endpoint());
    assert_eq!(cluster, wanted);
    ws.assert_no_changes();

    ws.destroy();
    let left = leftovers(&moto.endpoint());
    assert!(left.is_empty(), "moto still holds: {left:#?}");
    proxy.shutdown();
}
