//! Which cluster-autoscaler release runs on which Kubernetes minor.

/// The cluster-autoscaler image repository.
pub const IMAGE_REPOSITORY: &str = "registry.k8s.io/autoscaling/cluster-autoscaler";

/// The cluster-autoscaler patch release used for each Kubernetes minor, as
/// `(minor, patch)`: the autoscaler's minor must match the cluster's.
///
/// Source: the `cluster-autoscaler-1.<minor>.<patch>` releases of
/// github.com/kubernetes/autoscaler (tags `v1.29.5`, `v1.30.3`, `v1.31.1`, `v1.32.2` on
/// registry.k8s.io). These are known-published patches, not necessarily the newest:
/// review this table when a new autoscaler patch ships or a Kubernetes minor is added.
pub const AUTOSCALER_PATCHES: [(u32, u32); 4] = [(29, 5), (30, 3), (31, 1), (32, 2)];

/// The autoscaler patch release for Kubernetes `1.<minor>`, when the table has one.
pub fn patch_for(major: u32, minor: u32) -> Option<u32> {
    if major != 1 {
        return None;
    }
    AUTOSCALER_PATCHES
        .iter()
        .find(|(m, _)| *m == minor)
        .map(|(_, patch)| *patch)
}

/// The Kubernetes minors the table covers, for messages: `1.29, 1.30, ...`.
pub fn supported_minors() -> String {
    AUTOSCALER_PATCHES
        .iter()
        .map(|(m, _)| format!("1.{m}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The image for Kubernetes `1.<minor>`, when the table has a release for it.
pub fn image_for(major: u32, minor: u32) -> Option<String> {
    patch_for(major, minor).map(|patch| format!("{IMAGE_REPOSITORY}:v1.{minor}.{patch}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_follow_the_cluster_minor() {
        assert_eq!(
            image_for(1, 31).as_deref(),
            Some("registry.k8s.io/autoscaling/cluster-autoscaler:v1.31.1")
        );
        assert_eq!(image_for(1, 28), None);
        assert_eq!(image_for(2, 31), None);
        assert_eq!(supported_minors(), "1.29, 1.30, 1.31, 1.32");
    }
}
