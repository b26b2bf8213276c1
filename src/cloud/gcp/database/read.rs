//! The batched refresh: at most four calls, in two rounds. First, side by side,
//! the stack's instances (one `instances.list` filtered on the stack's label: the
//! primary and its replicas, read as views with their enums by name), the
//! reserved range (a global address) and the storage key; then the network,
//! whose peering tells the Service Networking connection (Service Networking's
//! own list wants the project number, which would cost a fifth call).

use futures::future::join3;
use reqwest::Method;
use serde_json::Value;

use super::access::{connection_id, group_id, CONNECTION_KEY, RANGE_KEY};
use super::instance::{instance_records, instance_state, owned, replica_record, replica_state};
use super::key::KEY_KEY;
use super::names::{self, PEERING};
use super::rest::{call, fail};
use super::{kind, record, GcpDatabaseBackend};
use crate::cloud::gcp::call::unless_gone;
use crate::cloud::gcp::labels::{label_key, labels};
use crate::cloud::gcp::wait::{last_segment, text};
use crate::ports::database::{DatabaseSnapshot, ParameterGroupState, SubnetGroupState};
use crate::stack::tags::STACK_TAG;
use crate::stack::{BackendError, StackContext};

/// The `instances.list` filter on the stack's label.
pub(super) fn stack_filter(stack: &str) -> String {
    let key = label_key(STACK_TAG);
    let value = labels(&[(STACK_TAG.to_owned(), stack.to_owned())].into())
        .remove(&key)
        .unwrap_or_default();
    format!("settings.userLabels.{key}:{value}")
}

/// The replica index of instance `name` of stack `stack`.
fn replica_index(stack: &str, name: &str) -> Option<u32> {
    name.strip_prefix(stack)?
        .strip_prefix("-replica-")?
        .parse()
        .ok()
}

/// The primary and the replicas (by index) among listed instances of `stack`.
pub(super) fn split_instances(stack: &str, listed: &Value) -> (Option<Value>, Vec<(u32, Value)>) {
    let mut primary = None;
    let mut replicas = Vec::new();
    for inst in listed
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|i| owned(i, stack))
    {
        let name = text(inst, "/name").unwrap_or_default();
        if name == stack {
            primary = Some(inst.clone());
        } else if let Some(i) = replica_index(stack, &name) {
            replicas.push((i, inst.clone()));
        }
    }
    replicas.sort_by_key(|(i, _)| *i);
    (primary, replicas)
}

impl GcpDatabaseBackend {
    /// The stack's instances (one list call).
    pub(super) async fn stack_instances(&self, ctx: &StackContext) -> Result<Value, BackendError> {
        self.list_instances(
            ctx,
            &stack_filter(&ctx.stack),
            "listing the stack's Cloud SQL instances",
        )
        .await
    }

    /// Reads the whole stack (see the module docs).
    pub(super) async fn read(&self, ctx: &StackContext) -> Result<DatabaseSnapshot, BackendError> {
        let project = self.clients.project()?;
        let range = names::peering_range(&ctx.stack);
        let address_path = format!("/compute/v1/projects/{project}/global/addresses/{range}");
        let (listed, address, key) = join3(
            self.stack_instances(ctx),
            async {
                unless_gone(
                    call(
                        &self.clients,
                        ctx,
                        "compute",
                        Method::GET,
                        &address_path,
                        None,
                        "globalAddresses.get",
                    )
                    .await,
                )
                .map_err(fail("compute", "reading the reserved range"))
            },
            self.read_key(ctx),
        )
        .await;
        let (primary, replicas) = split_instances(&ctx.stack, &listed?);
        let address = address?;
        let key = key?;
        let secret = self.secret_name(ctx)?;
        let mut snap = DatabaseSnapshot::default();

        let network = address
            .as_ref()
            .and_then(|a| text(a, "/network"))
            .or_else(|| {
                primary
                    .as_ref()
                    .and_then(|p| text(p, "/settings/ipConfiguration/privateNetwork"))
            })
            .map(|n| last_segment(&n).to_owned());
        if let Some(key) = key {
            let used = primary.as_ref().is_none_or(|p| {
                text(p, "/diskEncryptionConfiguration/kmsKeyName").as_deref()
                    == Some(key.id.as_str())
            });
            if used {
                snap.components
                    .push(record(KEY_KEY, kind::KMS_KEY, &key.id));
                snap.key = Some(key);
            }
        }
        if let (Some(_), Some(network)) = (&address, &network) {
            snap.components
                .push(record(RANGE_KEY, kind::PEERING_RANGE, &range));
            snap.subnet_group = Some(SubnetGroupState {
                id: group_id(network, &range),
                zones: Vec::new(),
                subnet_ids: Vec::new(),
                vpc_id: network.clone(),
            });
        }
        if let Some(network) = &network {
            let net = unless_gone(
                call(
                    &self.clients,
                    ctx,
                    "compute",
                    Method::GET,
                    &format!("/compute/v1/projects/{project}/global/networks/{network}"),
                    None,
                    "networks.get",
                )
                .await,
            )
            .map_err(fail("compute", "reading the network"))?;
            let peered = net.as_ref().is_some_and(|n| {
                n.get("peerings")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|p| text(p, "/name").as_deref() == Some(PEERING))
            });
            if peered {
                snap.components.push(record(
                    CONNECTION_KEY,
                    kind::SERVICE_CONNECTION,
                    &connection_id(network),
                ));
            }
        }
        if let Some(p) = &primary {
            let version = text(p, "/databaseVersion").unwrap_or_default();
            let family = match version.split_once('_') {
                Some(("MYSQL", v)) => format!("mysql{}", v.replace('_', ".")),
                Some((_, v)) => format!("postgres{v}"),
                None => String::new(),
            };
            snap.parameter_group = Some(ParameterGroupState {
                id: super::flags_id(&family),
                family,
            });
            snap.components.extend(instance_records(p, &secret));
            snap.instance = Some(instance_state(p, &secret));
        }
        for (i, r) in &replicas {
            snap.components.push(replica_record(*i, r));
            snap.replicas.insert(*i, replica_state(*i, r));
        }
        Ok(snap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_list_splits_into_primary_and_replicas_of_the_stack() {
        assert_eq!(
            stack_filter("Orders"),
            "settings.userLabels.paved-stack:orders"
        );
        let labels = json!({"paved-stack": "orders", "paved-resource": "paved_managed_database"});
        let other = json!({"paved-stack": "orders", "paved-resource": "paved_ha_cluster"});
        let listed = json!({"items": [
            {"name": "orders-replica-1", "settings": {"userLabels": labels}},
            {"name": "orders", "settings": {"userLabels": labels}},
            {"name": "orders-replica-0", "settings": {"userLabels": labels}},
            {"name": "orders-x", "settings": {"userLabels": other}},
        ]});
        let (primary, replicas) = split_instances("orders", &listed);
        assert_eq!(
            primary.and_then(|p| text(&p, "/name")).as_deref(),
            Some("orders")
        );
        let idx: Vec<u32> = replicas.iter().map(|(i, _)| *i).collect();
        assert_eq!(idx, vec![0, 1]);
    }
}
