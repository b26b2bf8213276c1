//! The encryption key a stack's data is encrypted with, in the product's words: the
//! user's key, or one paved creates (and schedules for deletion on destroy).

/// The secrets encryption key to ensure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncryptionKeyRequest {
    /// Use the user's key: check that it exists and can be used.
    Provided {
        /// The key's id in the cloud (an ARN on AWS).
        id: String,
    },
    /// Create (or adopt) a key with rotation on.
    Create,
}

/// The key as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    /// The key's id in the cloud (an ARN on AWS).
    pub id: String,
    /// paved created it (and deletes it, after the cloud's waiting period, on destroy).
    pub created: bool,
}

/// The key a stack encrypts its data with, as the configuration chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncryptionKey {
    /// The user's key (its id in the cloud).
    Provided(String),
    /// A key paved creates (with rotation on); its id once created.
    Created {
        /// The key's id in the cloud, known once created.
        id: Option<String>,
    },
}
