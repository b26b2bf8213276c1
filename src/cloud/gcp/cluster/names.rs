//! The names paved gives a stack's GCP objects. Networks, subnetworks and routers
//! carry no labels, so a stack finds its own objects by these deterministic names
//! (labels mark what can carry them). Each is a valid GCP name: lowercase letters,
//! digits and `-`, starting with a letter, within the API's length limit.

/// The stack name in GCP's alphabet, cut to `max` characters.
fn stem(stack: &str, max: usize) -> String {
    let mut out: String = stack
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .take(max)
        .collect();
    while out.ends_with('-') {
        out.pop();
    }
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert(0, 's');
        out.truncate(max);
    }
    out
}

/// The VPC network.
pub fn network(stack: &str) -> String {
    format!("paved-{}", stem(stack, 50))
}

/// The nodes' subnetwork.
pub fn subnetwork(stack: &str) -> String {
    format!("paved-{}-nodes", stem(stack, 44))
}

/// The secondary range of pod addresses.
pub const PODS_RANGE: &str = "pods";

/// The secondary range of service addresses.
pub const SERVICES_RANGE: &str = "services";

/// The Cloud Router carrying Cloud NAT.
pub fn router(stack: &str) -> String {
    format!("paved-{}-router", stem(stack, 43))
}

/// The NAT configuration on the router.
pub fn nat(stack: &str) -> String {
    format!("paved-{}-nat", stem(stack, 46))
}

/// NAT address `i`.
pub fn nat_address(stack: &str, i: usize) -> String {
    format!("paved-{}-nat-{i}", stem(stack, 44))
}

/// The nodes' service account id (6 to 30 characters).
pub fn node_account(stack: &str) -> String {
    format!("paved-{}-nodes", stem(stack, 18))
}

/// The key ring of the stack's keys.
pub fn key_ring(stack: &str) -> String {
    format!("paved-{}", stem(stack, 57))
}

/// The key that encrypts Kubernetes secrets.
pub const SECRETS_KEY: &str = "cluster-secrets";

/// The GKE node pool standing for pool `pool` bought as `capacity`: a pool cannot
/// change between spot and on-demand, so the capacity is part of the name and a
/// change makes a new pool (created before the old one goes).
pub fn node_pool(pool: &str, capacity: crate::ports::cluster::Capacity) -> String {
    let base = stem(pool, 34);
    match capacity {
        crate::ports::cluster::Capacity::OnDemand => base,
        crate::ports::cluster::Capacity::Spot => format!("{base}-spot"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::cluster::Capacity;

    #[test]
    fn names_are_valid_and_fit() {
        assert_eq!(network("Shop_Prod"), "paved-shop-prod");
        assert_eq!(
            node_account("a-very-long-stack-name-indeed"),
            "paved-a-very-long-stack-nodes"
        );
        assert!(node_account("a-very-long-stack-name-indeed").len() <= 30);
        assert_eq!(node_account("9x"), "paved-s9x-nodes");
        assert_eq!(node_pool("system", Capacity::OnDemand), "system");
        assert_eq!(node_pool("batch", Capacity::Spot), "batch-spot");
        assert!(subnetwork(&"x".repeat(80)).len() <= 63);
    }
}
