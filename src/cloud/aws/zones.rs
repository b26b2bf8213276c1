//! AWS zones: DescribeAvailabilityZones, one call per region.

use async_trait::async_trait;

use super::{api_error, AwsClients};
use crate::ports::network_backend::ZoneChoice;
use crate::ports::zones::{usable_zones, Zone, ZoneSource};
use crate::ports::CloudError;
use crate::stack::BackendError;

/// The zones to build in: the named ones, or the first `n` usable zones of the
/// region by name (as `paved_zones` picks them).
pub(crate) async fn choose_zones(
    clients: &AwsClients,
    choice: &ZoneChoice,
) -> Result<Vec<String>, BackendError> {
    let n = match choice {
        ZoneChoice::Named(names) => return Ok(names.clone()),
        ZoneChoice::Choose(n) => *n as usize,
    };
    let region = clients.adapter().region()?;
    let zones = clients
        .list_zones(&region)
        .await
        .map_err(|e| BackendError::Permanent {
            operation: "listing the region's zones".to_owned(),
            message: e.to_string(),
            hint: "Check the region and the EC2 permissions, or name the zones".to_owned(),
        })?;
    let usable = usable_zones(zones);
    if usable.len() < n {
        return Err(BackendError::Permanent {
            operation: "choosing zones".to_owned(),
            message: format!(
                "region {region} has {} usable zones, {n} were asked for",
                usable.len()
            ),
            hint: "Lower zone_count or pick another region".to_owned(),
        });
    }
    Ok(usable.into_iter().take(n).map(|z| z.name).collect())
}

#[async_trait]
impl ZoneSource for AwsClients {
    async fn list_zones(&self, region: &str) -> Result<Vec<Zone>, CloudError> {
        let ec2 = self.ec2(Some(region)).await?;
        tracing::debug!(region, "describing availability zones");
        let out = ec2
            .describe_availability_zones()
            .all_availability_zones(false)
            .send()
            .await
            .map_err(|e| api_error("EC2", "DescribeAvailabilityZones", e))?;
        Ok(out
            .availability_zones()
            .iter()
            .filter_map(|z| {
                Some(Zone {
                    name: z.zone_name()?.to_string(),
                    id: z.zone_id().unwrap_or_default().to_string(),
                    // Older answers (and some emulators) leave zone type out: a
                    // zone without one is a regular availability zone.
                    standard: z.zone_type().is_none_or(|t| t == "availability-zone"),
                    opt_in_required: z
                        .opt_in_status()
                        .is_some_and(|s| s.as_str() != "opt-in-not-required"),
                    available: z.state().is_none_or(|s| s.as_str() == "available"),
                })
            })
            .collect())
    }
}
