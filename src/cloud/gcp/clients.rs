//! The GCP clients, built on first use from the settings and shared by every GCP
//! backend: one per API (google-cloud-rust: Compute, GKE, Cloud KMS, IAM, Resource
//! Manager, Cloud SQL Admin, Secret Manager), each pointed at its endpoint
//! override when one is set, all with the same credentials; and an HTTP client
//! with the same credentials for the calls made as plain REST (Service Networking
//! and Service Usage, which have no crate, and Compute's global addresses, kept
//! beside them in the database adapter). The clients' own retries are off:
//! [`super::call`] retries every call with the shared engine, so a throttled call is
//! retried the same way on every cloud.

use google_cloud_auth::credentials::{AccessTokenCredentials, Credentials};
use google_cloud_gax::retry_policy::NeverRetry;
use tokio::sync::OnceCell;

use super::auth;
use super::call::GcpFailure;
use super::GcpSettings;
use crate::ports::CloudError;
use crate::stack::BackendError;

use google_cloud_compute_v1::client as compute;
use google_cloud_container_v1::client::ClusterManager;
use google_cloud_iam_admin_v1::client::Iam;
use google_cloud_kms_v1::client::KeyManagementService;
use google_cloud_resourcemanager_v3::client::Projects;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_sql_v1::client as sql;

/// Defines a lazily built client: `$name()` builds it once (endpoint of `$service`).
macro_rules! lazy_clients {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $service:literal;)*) => {
        /// The clients, each built on first use.
        #[derive(Default)]
        struct Lazy {
            $($name: OnceCell<$ty>,)*
        }

        impl GcpClients {
            $(
                $(#[$doc])*
                pub(crate) async fn $name(&self) -> Result<$ty, GcpFailure> {
                    self.lazy
                        .$name
                        .get_or_try_init(|| async {
                            let mut builder = <$ty>::builder()
                                .with_credentials(self.credentials()?)
                                .with_retry_policy(NeverRetry);
                            if let Some(endpoint) = self.settings.endpoint($service) {
                                builder = builder.with_endpoint(endpoint);
                            }
                            builder.build().await.map_err(|e| {
                                GcpFailure::transport(format!(
                                    "cannot set up the {} client: {e}",
                                    $service
                                ))
                            })
                        })
                        .await
                        .cloned()
                }
            )*
        }
    };
}

/// The GCP clients of one provider configuration.
pub struct GcpClients {
    settings: GcpSettings,
    token: std::sync::OnceLock<AccessTokenCredentials>,
    number: std::sync::OnceLock<String>,
    lazy: Lazy,
    http: OnceCell<reqwest::Client>,
}

lazy_clients! {
    /// Compute Engine networks.
    networks: compute::Networks = "compute";
    /// Compute Engine subnetworks.
    subnetworks: compute::Subnetworks = "compute";
    /// Cloud Routers (with Cloud NAT).
    routers: compute::Routers = "compute";
    /// Regional addresses (NAT).
    addresses: compute::Addresses = "compute";
    /// Zones.
    zones: compute::Zones = "compute";
    /// Regional operations.
    region_operations: compute::RegionOperations = "compute";
    /// Global operations.
    global_operations: compute::GlobalOperations = "compute";
    /// GKE.
    container: ClusterManager = "container";
    /// Cloud KMS.
    kms: KeyManagementService = "cloudkms";
    /// IAM (service accounts).
    iam: Iam = "iam";
    /// Resource Manager (the project's IAM policy).
    projects: Projects = "cloudresourcemanager";
    /// Cloud SQL instances.
    sql_instances: sql::SqlInstancesService = "sqladmin";
    /// Cloud SQL operations.
    sql_operations: sql::SqlOperationsService = "sqladmin";
    /// Cloud SQL users.
    sql_users: sql::SqlUsersService = "sqladmin";
    /// Secret Manager.
    secrets: SecretManagerService = "secretmanager";
}

impl GcpClients {
    /// Clients for `settings` (nothing is built until a call needs it).
    pub fn new(settings: GcpSettings) -> Self {
        Self {
            settings,
            token: std::sync::OnceLock::new(),
            number: std::sync::OnceLock::new(),
            lazy: Lazy::default(),
            http: OnceCell::new(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &GcpSettings {
        &self.settings
    }

    /// The project stacks are built in, or the error naming where to set it.
    pub fn project(&self) -> Result<String, BackendError> {
        self.settings
            .project
            .clone()
            .ok_or_else(|| BackendError::Permanent {
                operation: "choosing the GCP project".to_owned(),
                message: "no project is configured".to_owned(),
                hint: "Set project in the provider's gcp block or GOOGLE_CLOUD_PROJECT".to_owned(),
            })
    }

    /// The region, or the error naming where to set it.
    pub fn region(&self) -> Result<String, CloudError> {
        self.settings.region.clone().ok_or(CloudError::NoRegion {
            hint: "set region in the provider's gcp block or GOOGLE_CLOUD_REGION".into(),
        })
    }

    /// The region, as a backend step's error when none is set.
    pub(crate) fn stack_region(&self) -> Result<String, BackendError> {
        self.region().map_err(|e| BackendError::Permanent {
            operation: "choosing the region".to_owned(),
            message: e.to_string(),
            hint: "Set region in the provider's gcp block or GOOGLE_CLOUD_REGION".to_owned(),
        })
    }

    /// The project's number (service agents are named after it), read once.
    pub(crate) async fn project_number(
        &self,
        ctx: &crate::stack::StackContext,
    ) -> Result<String, BackendError> {
        if let Some(n) = self.number.get() {
            return Ok(n.clone());
        }
        let project = self.project()?;
        let fail = |f: GcpFailure| f.into_backend_error("Resource Manager", "reading the project");
        let c = self.projects().await.map_err(fail)?;
        let p = super::call::gax(ctx, "projects.get", || {
            c.get_project()
                .set_name(format!("projects/{project}"))
                .send()
        })
        .await
        .map_err(fail)?;
        let number = p.name.trim_start_matches("projects/").to_owned();
        Ok(self.number.get_or_init(|| number).clone())
    }

    /// The credentials (built once).
    fn token_credentials(&self) -> Result<AccessTokenCredentials, GcpFailure> {
        if let Some(t) = self.token.get() {
            return Ok(t.clone());
        }
        let built =
            auth::credentials(&self.settings).map_err(|e| GcpFailure::transport(e.to_string()))?;
        Ok(self.token.get_or_init(|| built).clone())
    }

    /// The credentials as the clients take them.
    fn credentials(&self) -> Result<Credentials, GcpFailure> {
        Ok(Credentials::from(self.token_credentials()?))
    }

    /// A fresh access token (for the Kubernetes API of a GKE cluster, and the
    /// hand-written REST calls).
    pub(crate) async fn access_token(&self) -> Result<String, GcpFailure> {
        let creds = self.token_credentials()?;
        creds
            .access_token()
            .await
            .map(|t| t.token)
            .map_err(|e| GcpFailure::transport(format!("cannot get a GCP access token: {e}")))
    }

    /// The HTTP client of the hand-written REST calls (Service Networking, Service
    /// Usage, Compute's global addresses), and their base URL for `service`
    /// (`https://servicenetworking.googleapis.com`).
    pub(crate) async fn rest(
        &self,
        service: &str,
    ) -> Result<(reqwest::Client, String), GcpFailure> {
        let client = self
            .http
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .build()
                    .map_err(|e| GcpFailure::transport(format!("cannot set up HTTP: {e}")))
            })
            .await?
            .clone();
        let base = self
            .settings
            .endpoint(service)
            .unwrap_or_else(|| format!("https://{service}.googleapis.com"));
        Ok((client, base))
    }
}
