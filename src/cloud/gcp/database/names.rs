//! The names paved gives a database stack's GCP objects, deterministic so that
//! an apply interrupted at any point finds what it made: the Cloud SQL instance is
//! the resource's `name`, replicas `<name>-replica-<i>`, and the stack's reserved
//! range, secret and key ring follow the stack's name. Each is a valid GCP name.

/// The stack name in GCP's alphabet (lowercase letters, digits, `-`), cut to `max`.
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

/// Read replica `index` of instance `name`.
pub fn replica(name: &str, index: u32) -> String {
    format!("{name}-replica-{index}")
}

/// The range reserved for private services access (a global address).
pub fn peering_range(stack: &str) -> String {
    format!("paved-{}-sql", stem(stack, 51))
}

/// The Secret Manager secret holding the default user's password.
pub fn secret(stack: &str) -> String {
    format!("paved-{}-db-password", stem(stack, 200))
}

/// The key ring of the stack's keys (the same ring a cluster of the same name uses).
pub fn key_ring(stack: &str) -> String {
    format!("paved-{}", stem(stack, 57))
}

/// The key that encrypts the database's storage.
pub const STORAGE_KEY: &str = "database-storage";

/// Service Networking's peering, as its connections name it.
pub const PEERING: &str = "servicenetworking-googleapis-com";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_and_fit() {
        assert_eq!(replica("orders", 1), "orders-replica-1");
        assert_eq!(peering_range("Orders_DB"), "paved-orders-db-sql");
        assert!(peering_range(&"x".repeat(90)).len() <= 63);
        assert_eq!(secret("orders"), "paved-orders-db-password");
        assert_eq!(key_ring("9x"), "paved-s9x");
    }
}
