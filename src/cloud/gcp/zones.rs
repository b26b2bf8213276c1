//! The zones of a GCP region, from Compute's zone list (one call, filtered to the
//! region). A zone's name is the same in every project, so it is also its id; a zone
//! is usable while its status is `UP`.

use async_trait::async_trait;

use super::call::{gax_unscoped, GcpFailure};
use super::clients::GcpClients;
use super::wait::{last_segment, text, view};
use crate::ports::zones::{Zone, ZoneSource};
use crate::ports::CloudError;

/// The zones of `region` in a zone list's JSON view.
pub(crate) fn zones_of(list: &serde_json::Value, region: &str) -> Vec<Zone> {
    list.get("items")
        .and_then(|i| i.as_array())
        .into_iter()
        .flatten()
        .filter(|z| text(z, "/region").is_some_and(|r| last_segment(&r) == region))
        .filter_map(|z| {
            let name = text(z, "/name")?;
            Some(Zone {
                id: name.clone(),
                name,
                standard: true,
                opt_in_required: false,
                available: text(z, "/status").is_none_or(|s| s == "UP"),
            })
        })
        .collect()
}

#[async_trait]
impl ZoneSource for GcpClients {
    async fn list_zones(&self, region: &str) -> Result<Vec<Zone>, CloudError> {
        let api = |f: GcpFailure| CloudError::Api {
            service: "Compute",
            operation: "zones.list",
            message: f.to_string(),
        };
        let project = self.project().map_err(|e| CloudError::Api {
            service: "Compute",
            operation: "zones.list",
            message: e.to_string(),
        })?;
        let client = self.zones().await.map_err(api)?;
        tracing::debug!(region, "listing zones");
        let mut zones = Vec::new();
        let mut token = String::new();
        loop {
            let page = gax_unscoped("zones.list", || {
                client
                    .list()
                    .set_project(project.clone())
                    .set_filter(format!("region eq \".*/regions/{region}\""))
                    .set_page_token(token.clone())
                    .send()
            })
            .await
            .map_err(api)?;
            let page = view(&page);
            zones.extend(zones_of(&page, region));
            match text(&page, "/nextPageToken").filter(|t| !t.is_empty()) {
                Some(next) => token = next,
                None => break,
            }
        }
        Ok(zones)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_region_s_zones_and_down_ones_unavailable() {
        let list = json!({"items": [
            {"name": "europe-west2-a", "region": "https://x/compute/v1/projects/p/regions/europe-west2", "status": "UP"},
            {"name": "europe-west2-b", "region": "https://x/compute/v1/projects/p/regions/europe-west2", "status": "DOWN"},
            {"name": "europe-west1-b", "region": "https://x/compute/v1/projects/p/regions/europe-west1", "status": "UP"}
        ]});
        let zones = zones_of(&list, "europe-west2");
        assert_eq!(zones.len(), 2);
        assert!(zones[0].available);
        assert!(!zones[1].available);
        assert_eq!(zones[0].id, "europe-west2-a");
    }
}
