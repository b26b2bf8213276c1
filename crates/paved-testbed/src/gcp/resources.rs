//! Compute Engine's vocabulary, shared by the Compute and GKE stand-ins: the
//! regions and zones the stand-in knows, references to Compute resources in any
//! of their forms, and IPv4 ranges.

/// The regions the stand-in knows, with their zones' suffixes.
pub(crate) const REGIONS: [(&str, &[&str]); 4] = [
    ("europe-west2", &["a", "b", "c"]),
    ("europe-west1", &["b", "c", "d"]),
    ("us-central1", &["a", "b", "c", "f"]),
    ("us-east1", &["b", "c", "d"]),
];

/// The zones of `region`, when the stand-in knows it.
pub(crate) fn region_zones(region: &str) -> Option<Vec<String>> {
    REGIONS
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(r, zones)| zones.iter().map(|z| format!("{r}-{z}")).collect())
}

/// The region of a known zone (`europe-west2-a` → `europe-west2`).
pub(crate) fn zone_region(zone: &str) -> Option<&'static str> {
    REGIONS.iter().find_map(|(r, zones)| {
        zones
            .iter()
            .any(|z| format!("{r}-{z}") == zone)
            .then_some(*r)
    })
}

/// A reference to a Compute resource, parsed from any of its forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResourceRef {
    /// The project id (a project number is taken to be the default project).
    pub project: String,
    /// The region, for regional resources.
    pub region: Option<String>,
    /// The resource's name.
    pub name: String,
}

/// Parses a reference to a resource of `collection` (`networks`, `subnetworks`,
/// `addresses`...): a full URL (`https://.../compute/v1/projects/P/global/networks/N`),
/// a relative path (`projects/P/regions/R/subnetworks/N`, `global/networks/N`,
/// `regions/R/subnetworks/N`) or a bare name. A numeric project (Service
/// Networking names projects by number) is read as `default_project`.
pub(crate) fn parse_ref(
    reference: &str,
    collection: &str,
    default_project: &str,
    default_region: Option<&str>,
) -> Option<ResourceRef> {
    let reference = reference.trim();
    if reference.is_empty() {
        return None;
    }
    let segs: Vec<&str> = reference.split('/').collect();
    let after = |key: &str| {
        segs.iter()
            .position(|s| *s == key)
            .and_then(|i| segs.get(i + 1))
            .map(|s| (*s).to_owned())
    };
    let name = if segs.len() == 1 {
        reference.to_owned()
    } else {
        after(collection)?
    };
    if name.is_empty() {
        return None;
    }
    let project = match after("projects") {
        Some(p) if !p.chars().all(|c| c.is_ascii_digit()) => p,
        _ => default_project.to_owned(),
    };
    let region = after("regions").or_else(|| default_region.map(str::to_owned));
    Some(ResourceRef {
        project,
        region,
        name,
    })
}

/// An IPv4 range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cidr {
    /// The first address.
    pub start: u32,
    /// The prefix length.
    pub len: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/len`; `None` when malformed or host bits are set.
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let (addr, len) = text.trim().split_once('/')?;
        let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
        let start = parse_ipv4(addr)?;
        let cidr = Cidr { start, len };
        (start & !cidr.mask() == 0).then_some(cidr)
    }

    /// The network mask.
    pub(crate) fn mask(self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.len))
        }
    }

    /// The last address.
    pub(crate) fn end(self) -> u32 {
        self.start | !self.mask()
    }

    /// Whether the two ranges share an address.
    pub(crate) fn overlaps(self, other: Cidr) -> bool {
        self.start <= other.end() && other.start <= self.end()
    }

    /// Whether `other` lies inside this range.
    pub(crate) fn contains(self, other: Cidr) -> bool {
        self.start <= other.start && other.end() <= self.end()
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", ipv4(self.start), self.len)
    }
}

/// Parses a dotted IPv4 address.
fn parse_ipv4(text: &str) -> Option<u32> {
    let parts: Vec<u8> = text
        .split('.')
        .map(|p| p.parse::<u8>().ok())
        .collect::<Option<_>>()?;
    (parts.len() == 4).then(|| u32::from_be_bytes([parts[0], parts[1], parts[2], parts[3]]))
}

/// A dotted IPv4 address.
pub(crate) fn ipv4(addr: u32) -> String {
    let b = addr.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}
