//! The priority expander's ConfigMap: scale up spot pools first, anything else after.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::{NAMESPACE, PRIORITY_CONFIG_MAP};
use crate::error::RenderError;
use crate::labels::{object_meta, Component};
use crate::spec::{AutoscalerSpec, BaselineSpec};

/// Priority of the spot pool patterns (higher wins).
pub const SPOT_PRIORITY: u32 = 50;
/// Priority of every other node group, the `.*` fallback.
pub const FALLBACK_PRIORITY: u32 = 10;
/// Pattern matching every node group.
pub const MATCH_ALL: &str = ".*";

/// The ConfigMap, when the spec names spot pools; `None` otherwise.
pub fn priority_config_map(
    spec: &BaselineSpec,
    autoscaler: &AutoscalerSpec,
) -> Result<Option<ConfigMap>, RenderError> {
    if autoscaler.spot_pools.is_empty() {
        return Ok(None);
    }
    let priorities = BTreeMap::from([
        (FALLBACK_PRIORITY, vec![MATCH_ALL.to_string()]),
        (SPOT_PRIORITY, autoscaler.spot_pools.clone()),
    ]);
    let text = yaml_serde::to_string(&priorities).map_err(|source| RenderError::Yaml {
        what: format!("the {PRIORITY_CONFIG_MAP} priorities"),
        source,
    })?;
    Ok(Some(ConfigMap {
        metadata: object_meta(
            spec,
            &Component::Autoscaler,
            PRIORITY_CONFIG_MAP,
            Some(NAMESPACE),
        ),
        data: Some(BTreeMap::from([("priorities".to_string(), text)])),
        ..ConfigMap::default()
    }))
}
