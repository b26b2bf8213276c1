//! A team namespace's ResourceQuota (what the namespace may use in total) and
//! LimitRange (what a container gets when it asks for nothing).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, ResourceQuota, ResourceQuotaSpec,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::labels::{object_meta, Component};
use crate::spec::BaselineSpec;

/// Name of the ResourceQuota in each team namespace.
pub const QUOTA_NAME: &str = "paved-quota";
/// Name of the LimitRange in each team namespace.
pub const LIMIT_RANGE_NAME: &str = "paved-limits";

fn quantity_map(entries: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect()
}

/// The ResourceQuota of `namespace`.
pub fn resource_quota(
    spec: &BaselineSpec,
    component: &Component,
    namespace: &str,
) -> ResourceQuota {
    let q = &spec.quota;
    let pods = q.pods.to_string();
    ResourceQuota {
        metadata: object_meta(spec, component, QUOTA_NAME, Some(namespace)),
        spec: Some(ResourceQuotaSpec {
            hard: Some(quantity_map(&[
                ("requests.cpu", &q.requests_cpu),
                ("requests.memory", &q.requests_memory),
                ("limits.cpu", &q.limits_cpu),
                ("limits.memory", &q.limits_memory),
                ("pods", &pods),
            ])),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    }
}

/// The LimitRange of `namespace`: container defaults, so pods that name no resources
/// still fit under the quota (which otherwise rejects them).
pub fn limit_range(spec: &BaselineSpec, component: &Component, namespace: &str) -> LimitRange {
    let l = &spec.limit_range;
    LimitRange {
        metadata: object_meta(spec, component, LIMIT_RANGE_NAME, Some(namespace)),
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".to_string(),
                default_request: Some(quantity_map(&[
                    ("cpu", &l.default_request_cpu),
                    ("memory", &l.default_request_memory),
                ])),
                default: Some(quantity_map(&[
                    ("cpu", &l.default_limit_cpu),
                    ("memory", &l.default_limit_memory),
                ])),
                ..LimitRangeItem::default()
            }],
        }),
    }
}
