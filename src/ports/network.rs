//! IPv4 CIDR arithmetic and the subnet layout of a network paved builds.
//!
//! The layout is fixed relative to the network's size, so that adding or removing a
//! zone never moves another zone's subnets. The network is cut into eighths:
//!
//! | part of the network | holds | for a /16 |
//! |---|---|---|
//! | eighths 0-5 | one **private** subnet per zone (nodes and pods): network + 3 bits | /19, 8,192 addresses |
//! | eighth 6 | one **intra** subnet per zone (control-plane interfaces, no internet route): network + 8 bits | /24, 256 addresses |
//! | eighth 7 | one **public** subnet per zone (load balancers, NAT gateways): network + 6 bits | /22, 1,024 addresses |
//!
//! So a /16 `10.0.0.0/16` with three zones gets private `10.0.0.0/19`,
//! `10.0.32.0/19`, `10.0.64.0/19`, intra `10.0.192.0/24`, `10.0.193.0/24`,
//! `10.0.194.0/24` and public `10.0.224.0/22`, `10.0.228.0/22`, `10.0.232.0/22`.
//!
//! Limits that follow: at most [`MAX_ZONES`] zones (six private eighths); a network
//! from /16 ([`LARGEST_PREFIX`], the largest VPC AWS allows) to /20
//! ([`SMALLEST_PREFIX`], where intra subnets reach the /28 minimum a subnet may have).
//! The planner checks a configuration with [`subnet_layout`] and the backend builds
//! exactly what it returns.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::profiles::NatMode;

/// Bits added to the network prefix for a private subnet.
pub const PRIVATE_EXTRA_BITS: u8 = 3;
/// Bits added to the network prefix for an intra subnet.
pub const INTRA_EXTRA_BITS: u8 = 8;
/// Bits added to the network prefix for a public subnet.
pub const PUBLIC_EXTRA_BITS: u8 = 6;
/// Most zones the layout has room for.
pub const MAX_ZONES: u32 = 6;
/// The smallest subnet a cloud accepts (AWS: /28).
pub const SMALLEST_SUBNET_PREFIX: u8 = 28;
/// The largest network the layout accepts (AWS VPCs are /16 at most).
pub const LARGEST_PREFIX: u8 = 16;
/// The smallest network the layout accepts: its intra subnets are /28.
pub const SMALLEST_PREFIX: u8 = SMALLEST_SUBNET_PREFIX - INTRA_EXTRA_BITS;

/// An IPv4 network in CIDR notation, with no bits set after the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Net {
    addr: u32,
    prefix: u8,
}

/// Why a string is not a usable IPv4 CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// Not of the form `a.b.c.d/n` with `n` from 0 to 32.
    #[error("\"{0}\" is not an IPv4 CIDR block; write it as an address and a prefix length, such as 10.0.0.0/16")]
    Malformed(String),
    /// Bits are set after the prefix (`10.0.0.1/16`).
    #[error("\"{text}\" has address bits set after the /{prefix} prefix; did you mean {network}?")]
    HostBitsSet {
        /// What was written.
        text: String,
        /// The prefix length written.
        prefix: u8,
        /// The network the address belongs to.
        network: Ipv4Net,
    },
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

impl Ipv4Net {
    /// The network of `addr` with this prefix (bits after the prefix cleared);
    /// `None` when the prefix is over 32.
    pub fn containing(addr: Ipv4Addr, prefix: u8) -> Option<Ipv4Net> {
        (prefix <= 32).then(|| Ipv4Net {
            addr: u32::from(addr) & mask(prefix),
            prefix,
        })
    }

    /// Parses `a.b.c.d/n`, refusing bits set after the prefix.
    pub fn parse(text: &str) -> Result<Ipv4Net, CidrError> {
        let malformed = || CidrError::Malformed(text.to_string());
        let (addr, prefix) = text.split_once('/').ok_or_else(malformed)?;
        if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        let prefix: u8 = prefix.parse().map_err(|_| malformed())?;
        let addr = Ipv4Addr::from_str(addr).map_err(|_| malformed())?;
        let net = Ipv4Net::containing(addr, prefix).ok_or_else(malformed)?;
        if net.addr != u32::from(addr) {
            return Err(CidrError::HostBitsSet {
                text: text.to_string(),
                prefix,
                network: net,
            });
        }
        Ok(net)
    }

    /// The first address.
    pub fn addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.addr)
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// How many addresses the network holds.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    fn last(&self) -> u32 {
        self.addr | !mask(self.prefix)
    }

    /// Whether every address of `other` is in this network.
    pub fn contains(&self, other: &Ipv4Net) -> bool {
        self.prefix <= other.prefix && (other.addr & mask(self.prefix)) == self.addr
    }

    /// Whether the two networks share any address.
    pub fn overlaps(&self, other: &Ipv4Net) -> bool {
        self.addr <= other.last() && other.addr <= self.last()
    }

    /// The `index`-th subnet with `extra_bits` more prefix bits
    /// (Terraform's `cidrsubnet`); `None` when it does not exist.
    pub fn subnet(&self, extra_bits: u8, index: u32) -> Option<Ipv4Net> {
        let prefix = self.prefix.checked_add(extra_bits)?;
        if prefix > 32 || (extra_bits < 32 && u64::from(index) >= 1u64 << extra_bits) {
            return None;
        }
        let offset = u64::from(index) << (32 - u32::from(prefix));
        let addr = u32::try_from(u64::from(self.addr) + offset).ok()?;
        Some(Ipv4Net { addr, prefix })
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.prefix)
    }
}

/// The three kinds of subnet a network can have, by their route to the internet: a
/// distinction both clouds draw (AWS by route tables, GCP by Cloud NAT's subnetwork
/// list and the absence of external addresses). The AWS adapter makes all three per
/// zone; GKE's nodes and control plane need only `Private` (one regional
/// subnetwork, with its pods and services ranges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// Reachable from the internet: load balancers and NAT gateways.
    Public,
    /// Outbound internet through NAT: nodes and pods.
    Private,
    /// No route to the internet either way: the control plane's network interfaces
    /// on AWS. Named `intra` in HCL (`existing_subnet_ids`, `intra_subnet_ids`), the
    /// word the community VPC module taught users.
    Isolated,
}

impl Tier {
    /// Every tier, in the order the inventory lists them.
    pub const ALL: [Tier; 3] = [Tier::Public, Tier::Private, Tier::Isolated];

    /// The name used in HCL (`existing_subnet_ids` keys) and in component keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Public => "public",
            Tier::Private => "private",
            Tier::Isolated => "intra",
        }
    }

    /// Parses the HCL name.
    pub fn parse(name: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The subnets of one zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneSubnets {
    /// The public subnet.
    pub public: Ipv4Net,
    /// The private subnet.
    pub private: Ipv4Net,
    /// The intra subnet.
    pub intra: Ipv4Net,
}

impl ZoneSubnets {
    /// The subnet of one tier.
    pub fn get(&self, tier: Tier) -> Ipv4Net {
        match tier {
            Tier::Public => self.public,
            Tier::Private => self.private,
            Tier::Isolated => self.intra,
        }
    }
}

/// Why a network cannot hold the subnets of its zones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// More zones than the layout has room for.
    #[error("paved lays out at most {max} zones in a network, and {zones} are asked for; use {max} zones or fewer")]
    TooManyZones {
        /// Zones asked for.
        zones: u32,
        /// The most the layout holds.
        max: u32,
    },
    /// The network is smaller than /20.
    #[error(
        "{network} is too small for the subnets of {zones} zone(s): each zone gets a private /{private}, \
         an intra /{intra} and a public /{public}, and a subnet must be /{smallest} or larger. \
         Use a /{largest_ok} or larger network; a /16 (private /19s with 8,192 addresses for nodes and pods) is recommended"
    )]
    TooSmall {
        /// The network.
        network: Ipv4Net,
        /// Zones asked for.
        zones: u32,
        /// Prefix the private subnets would get.
        private: u8,
        /// Prefix the intra subnets would get.
        intra: u8,
        /// Prefix the public subnets would get.
        public: u8,
        /// The smallest subnet allowed.
        smallest: u8,
        /// The smallest network that works.
        largest_ok: u8,
    },
    /// The network is larger than /16.
    #[error("{network} is larger than a network can be (/{largest} at most); use a /{largest}, such as 10.0.0.0/16")]
    TooLarge {
        /// The network.
        network: Ipv4Net,
        /// The largest prefix allowed.
        largest: u8,
    },
}

/// The subnets of every zone, in zone order (zone 0 first).
pub fn subnet_layout(network: Ipv4Net, zones: u32) -> Result<Vec<ZoneSubnets>, LayoutError> {
    if network.prefix() < LARGEST_PREFIX {
        return Err(LayoutError::TooLarge {
            network,
            largest: LARGEST_PREFIX,
        });
    }
    if zones > MAX_ZONES {
        return Err(LayoutError::TooManyZones {
            zones,
            max: MAX_ZONES,
        });
    }
    if network.prefix() > SMALLEST_PREFIX {
        let p = network.prefix();
        return Err(LayoutError::TooSmall {
            network,
            zones,
            private: p + PRIVATE_EXTRA_BITS,
            intra: p + INTRA_EXTRA_BITS,
            public: p + PUBLIC_EXTRA_BITS,
            smallest: SMALLEST_SUBNET_PREFIX,
            largest_ok: SMALLEST_PREFIX,
        });
    }
    // Isolated (`intra`): eighth 6 = /24 slots 192.. of a /16; public: eighth 7 = /22 slots 56...
    let intra_base = 6 << (INTRA_EXTRA_BITS - PRIVATE_EXTRA_BITS);
    let public_base = 7 << (PUBLIC_EXTRA_BITS - PRIVATE_EXTRA_BITS);
    (0..zones)
        .map(|i| {
            let private = network.subnet(PRIVATE_EXTRA_BITS, i);
            let intra = network.subnet(INTRA_EXTRA_BITS, intra_base + i);
            let public = network.subnet(PUBLIC_EXTRA_BITS, public_base + i);
            match (private, intra, public) {
                (Some(private), Some(intra), Some(public)) => Ok(ZoneSubnets {
                    public,
                    private,
                    intra,
                }),
                // Unreachable with the checks above; reported rather than panicking.
                _ => Err(LayoutError::TooManyZones {
                    zones,
                    max: MAX_ZONES,
                }),
            }
        })
        .collect()
}

/// How NAT gateways give private subnets their way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatLayout {
    /// One NAT gateway in every zone: no zone depends on another.
    PerZone,
    /// One NAT gateway for the whole network.
    Single,
    /// No NAT gateway: nodes reach only what VPC endpoints or a proxy offer.
    None,
}

impl NatLayout {
    /// Every layout.
    pub const ALL: [NatLayout; 3] = [NatLayout::PerZone, NatLayout::Single, NatLayout::None];

    /// The name used in HCL.
    pub fn as_str(self) -> &'static str {
        match self {
            NatLayout::PerZone => "per_zone",
            NatLayout::Single => "single",
            NatLayout::None => "none",
        }
    }

    /// Parses the HCL name.
    pub fn parse(name: &str) -> Option<NatLayout> {
        NatLayout::ALL.into_iter().find(|n| n.as_str() == name)
    }

    /// What this layout risks in production, for a plan warning; `None` for a NAT
    /// gateway per zone.
    pub fn production_risk(self) -> Option<&'static str> {
        match self {
            NatLayout::PerZone => None,
            NatLayout::Single => Some(
                "One NAT gateway serves every zone: if its zone fails, nodes in the other zones lose outbound access. \
                 Set nat_mode = \"per_zone\" (the production default) unless the saving is worth that risk.",
            ),
            NatLayout::None => Some(
                "Without a NAT gateway, nodes have no outbound internet access: images, cloud APIs and webhooks must be \
                 reachable through VPC endpoints or a proxy. Set nat_mode = \"per_zone\" unless that is intended.",
            ),
        }
    }
}

impl From<NatMode> for NatLayout {
    fn from(mode: NatMode) -> Self {
        match mode {
            NatMode::PerZone => NatLayout::PerZone,
            NatMode::Single => NatLayout::Single,
        }
    }
}

/// What is wrong with `cidr` as the range of a network paved lays out over `zones`
/// zones (when known): a summary and a detail for the error, or `None`.
pub fn cidr_problem(cidr: &str, zones: Option<u32>) -> Option<(&'static str, String)> {
    match Ipv4Net::parse(cidr) {
        Err(e) => Some(("Invalid network CIDR", e.to_string())),
        Ok(net) => {
            let zones = zones?;
            subnet_layout(net, zones)
                .err()
                .map(|e| ("The network cannot hold its subnets", format!("{e}.")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        Ipv4Net::parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(net("10.0.0.0/16").to_string(), "10.0.0.0/16");
        assert_eq!(net("0.0.0.0/0").size(), 1 << 32);
        assert_eq!(net("192.168.1.7/32").size(), 1);
        for bad in [
            "",
            "10.0.0.0",
            "10.0.0.0/",
            "10.0.0.0/33",
            "10.0.0/16",
            "10.0.0.0/+6",
            "a.b.c.d/8",
            "10.0.0.0/16/1",
            "10.0.0.256/24",
        ] {
            assert!(
                matches!(Ipv4Net::parse(bad), Err(CidrError::Malformed(_))),
                "{bad}"
            );
        }
        let err = Ipv4Net::parse("10.0.0.1/16").unwrap_err();
        assert_eq!(
            err,
            CidrError::HostBitsSet {
                text: "10.0.0.1/16".into(),
                prefix: 16,
                network: net("10.0.0.0/16")
            }
        );
        assert!(err.to_string().contains("did you mean 10.0.0.0/16"));
    }

    #[test]
    fn containment_and_overlap() {
        let vpc = net("10.0.0.0/16");
        assert!(vpc.contains(&net("10.0.4.0/22")));
        assert!(!net("10.0.4.0/22").contains(&vpc));
        assert!(net("10.0.0.0/8").overlaps(&vpc));
        assert!(vpc.overlaps(&net("10.0.255.255/32")));
        assert!(!vpc.overlaps(&net("10.1.0.0/16")));
        assert!(!vpc.overlaps(&net("203.0.113.0/24")));
        assert!(net("0.0.0.0/0").contains(&vpc));
    }

    #[test]
    fn subnets_like_cidrsubnet() {
        let vpc = net("10.0.0.0/16");
        assert_eq!(vpc.subnet(8, 2), Some(net("10.0.2.0/24")));
        assert_eq!(vpc.subnet(3, 7), Some(net("10.0.224.0/19")));
        assert_eq!(vpc.subnet(3, 8), None);
        assert_eq!(vpc.subnet(17, 0), None);
        assert_eq!(
            net("0.0.0.0/0").subnet(32, u32::MAX),
            Some(net("255.255.255.255/32"))
        );
    }

    #[test]
    fn layout_of_a_slash_16() {
        let layout = subnet_layout(net("10.0.0.0/16"), 3).unwrap();
        let show = |t: Tier| {
            layout
                .iter()
                .map(|z| z.get(t).to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            show(Tier::Private),
            ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]
        );
        assert_eq!(
            show(Tier::Isolated),
            ["10.0.192.0/24", "10.0.193.0/24", "10.0.194.0/24"]
        );
        assert_eq!(
            show(Tier::Public),
            ["10.0.224.0/22", "10.0.228.0/22", "10.0.232.0/22"]
        );
    }

    #[test]
    fn subnets_never_overlap_and_stay_inside() {
        for (cidr, zones) in [
            ("10.0.0.0/16", MAX_ZONES),
            ("172.16.0.0/18", 4),
            ("10.9.240.0/20", MAX_ZONES),
        ] {
            let vpc = net(cidr);
            let layout = subnet_layout(vpc, zones).unwrap();
            let all: Vec<Ipv4Net> = layout
                .iter()
                .flat_map(|z| Tier::ALL.map(|t| z.get(t)))
                .collect();
            assert_eq!(all.len(), zones as usize * 3);
            for (i, a) in all.iter().enumerate() {
                assert!(vpc.contains(a), "{a} outside {vpc}");
                assert!(a.prefix() <= SMALLEST_SUBNET_PREFIX, "{a}");
                for b in &all[i + 1..] {
                    assert!(!a.overlaps(b), "{a} overlaps {b}");
                }
            }
        }
    }

    #[test]
    fn too_small_too_large_too_many() {
        let err = subnet_layout(net("10.0.0.0/24"), 3).unwrap_err();
        assert!(
            matches!(
                err,
                LayoutError::TooSmall {
                    private: 27,
                    intra: 32,
                    public: 30,
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("10.0.0.0/24 is too small for the subnets of 3 zone(s)"),
            "{text}"
        );
        assert!(text.contains("Use a /20 or larger"), "{text}");
        assert!(subnet_layout(net("10.0.0.0/20"), 3).is_ok());
        assert!(matches!(
            subnet_layout(net("10.0.0.0/21"), 2),
            Err(LayoutError::TooSmall { .. })
        ));
        assert!(matches!(
            subnet_layout(net("10.0.0.0/8"), 3),
            Err(LayoutError::TooLarge { .. })
        ));
        assert!(matches!(
            subnet_layout(net("10.0.0.0/16"), 7),
            Err(LayoutError::TooManyZones { .. })
        ));
    }
}
