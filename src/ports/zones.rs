//! Zones of a region, as the cloud reports them, and the choice paved makes among
//! them (the same for `paved_zones` and for a cluster that picks its zones).

use async_trait::async_trait;

use super::CloudError;

/// A zone of a region, as the cloud reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// The zone's name (`eu-west-1a`); differs between AWS accounts for the same place.
    pub name: String,
    /// The zone's stable id (`euw1-az1`).
    pub id: String,
    /// A regular zone, as opposed to a local or wavelength zone.
    pub standard: bool,
    /// The account must opt in to use it.
    pub opt_in_required: bool,
    /// The zone is currently usable.
    pub available: bool,
}

/// Lists the zones of a region.
#[async_trait]
pub trait ZoneSource: Send + Sync {
    /// All zones of `region`, in any order.
    async fn list_zones(&self, region: &str) -> Result<Vec<Zone>, CloudError>;
}

/// Regular, available zones that need no opt-in, sorted by name.
pub fn usable_zones(mut zones: Vec<Zone>) -> Vec<Zone> {
    zones.retain(|z| z.standard && z.available && !z.opt_in_required);
    zones.sort_by(|a, b| a.name.cmp(&b.name));
    zones.dedup_by(|a, b| a.name == b.name);
    zones
}
