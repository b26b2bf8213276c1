//! AWS zones: DescribeAvailabilityZones, one call per region.

use async_trait::async_trait;

use super::{api_error, AwsClients};
use crate::ports::zones::{Zone, ZoneSource};
use crate::ports::CloudError;

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
