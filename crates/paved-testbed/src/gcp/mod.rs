//! The GCP stand-in (`paved-gcp-fake`): the REST subset paved's GCP backends use,
//! served over plain HTTP on 127.0.0.1, in the real APIs' JSON shapes (camelCase
//! fields, Google's error bodies, long-running operations), judged by the real
//! Google Cloud CLI (`gcloud`) in `tests/gcp_compute_gke.rs`.
//!
//! [`GcpFake::start`] runs it in-process (tests); the `paved-gcp-fake` binary
//! runs it as a program. Point clients at [`GcpFakeHandle::url`] with a path
//! prefix per API: Compute Engine at `http://127.0.0.1:PORT/compute/v1/`
//! (gcloud: `CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE`), GKE at
//! `http://127.0.0.1:PORT/` (`CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER`; add
//! `..._SERVICEUSAGE` with the same URL so that `gcloud container clusters
//! create` does not try the real Service Usage API, its 404 lets gcloud go on).
//!
//! ```no_run
//! use paved_testbed::gcp::{FaultPlan, GcpFake, GcpFakeConfig};
//!
//! # fn main() -> Result<(), paved_testbed::gcp::GcpFakeError> {
//! let fake = GcpFake::start(GcpFakeConfig::default().with_operation_polls(2))?;
//! std::env::set_var("CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER", format!("{}/", fake.url()));
//! fake.set_faults(FaultPlan::quota(0.2).with_seed(7));
//! // ... run the provider ...
//! println!("{} cluster creates", fake.request_counts().count("POST container.clusters.create"));
//! # Ok(())
//! # }
//! ```
//!
//! # Transport, counts and faults
//!
//! - Plain HTTP/1.1; any `Authorization` is accepted (requests without one are
//!   served too, and counted in [`RequestCounts::unauthenticated`]). Bodies are
//!   JSON, form-encoded or empty; paths are percent-decoded (`%3A` → `:`).
//! - Requests are counted by call name (see [`RequestCounts`]), e.g.
//!   `GET compute.networks.get`, `POST container.clusters.nodePools.create`.
//! - Control endpoints (not counted, no authentication): `GET /_fake/requests`,
//!   `POST /_fake/reset-counts`, `POST /_fake/faults` with a [`FaultPlan`]
//!   (`{"rate": 0.2, "status": 429, "seed": 7, "max": 10}`), `GET /_fake/state`
//!   (Compute's and GKE's objects). Faults answer a share of the other requests,
//!   picked by a seeded RNG, with 429 `RESOURCE_EXHAUSTED` ("Quota exceeded for
//!   quota metric ...", `errors[].reason` `rateLimitExceeded` and an `ErrorInfo`
//!   detail) or 503 `UNAVAILABLE`, before the request reaches any service.
//! - [`GcpFakeConfig::projects`]: when not empty, Compute answers 404 and GKE
//!   403 for other projects. [`GcpFakeConfig::project_number`] is every
//!   project's number; a network reference with a number in place of the
//!   project id is read as the request's project.
//!
//! # Compute Engine (`compute`)
//!
//! - **Regions and zones**: a fixed table (europe-west2 a/b/c, europe-west1
//!   b/c/d, us-central1 a/b/c/f, us-east1 b/c/d); `GET regions[/{r}]`,
//!   `GET zones[/{z}]`; zones in [`GcpFakeConfig::down_zones`] report `DOWN`.
//! - **Networks** (`global/networks`): insert, get, list, patch (merge of the
//!   mutable fields: `routingConfig`, `mtu`, `description`...), delete;
//!   outputs `id`, `selfLink`, `creationTimestamp`, `subnetworks`, `peerings`.
//!   Delete is refused (400 `resourceInUseByAnotherResource`, "The network
//!   resource '...' is already being used by '...'") while a subnetwork, a
//!   router, a global address or a peering uses it. `addPeering` and
//!   `removePeering`; peerings are `ACTIVE` at once.
//! - **Subnetworks** (`regions/{r}/subnetworks`, `aggregated/subnetworks`):
//!   insert, get, list, patch (with `fingerprint`, 412 `conditionNotMet` when
//!   stale or missing, as Compute does; the primary range may only grow),
//!   `setPrivateIpGoogleAccess`, `expandIpCidrRange`, delete. CIDRs must be
//!   valid networks (/8 to /29); range names unique; no range may overlap
//!   another of the subnetwork, of any subnetwork of the same network, or an
//!   allocated peering range. `logConfig` gets its defaults when enabled.
//!   Delete is refused while a GKE cluster or a NAT uses the subnetwork, and a
//!   patch may not drop a secondary range a cluster uses.
//! - **Routers** (`regions/{r}/routers`): insert, get, list, patch (merge; `nats`
//!   replaced as a whole), update (`PUT`), delete; inline `nats` checked
//!   (`natIpAllocateOption` AUTO_ONLY without / MANUAL_ONLY with `natIps` that
//!   are external addresses of the region not used by another router;
//!   `sourceSubnetworkIpRangesToNat`, `LIST_OF_SUBNETWORKS` with existing
//!   subnetworks), references normalised to URLs, `minPortsPerVm` defaulted.
//! - **Addresses** (`regions/{r}/addresses`, `global/addresses`): insert (an
//!   address is allocated: external ones from 34.x, `VPC_PEERING` ranges from
//!   the first free block at 10.100.0.0 on, or the one sent, checked against
//!   the network's ranges), get, list, delete, `setLabels` (with
//!   `labelFingerprint`, 412 when stale). A NAT IP is `IN_USE` (with `users`)
//!   while a router uses it and cannot be deleted (400
//!   `resourceInUseByAnotherResource`).
//! - **Operations**: every mutation answers a `compute#operation` (`name`,
//!   `operationType`, `targetLink`, `selfLink`, `region` for regional ones,
//!   `progress`) that is `RUNNING` until it has been polled `operation_polls`
//!   times by `GET .../operations/{op}`; `POST .../operations/{op}/wait` polls
//!   until done. A mutation of an object whose operation still runs is
//!   refused (400 `resourceNotReady`).
//! - Lists return `kind`, `items` (omitted when empty) and honour `filter`
//!   clauses `field eq "regex"`, `ne`, `=`, `!=` (regexes matched loosely: `.*`
//!   wildcards, `\b` ignored, as gcloud writes them).
//!
//! # GKE (`container`)
//!
//! - **Clusters** (`/v1/projects/{p}/locations/{l}/clusters`, `l` a known region
//!   or zone; `-` lists every location): create (`{"cluster": {...}}`), get,
//!   list, delete, update (`PUT` with `{"update": {...}}`), `:setResourceLabels`,
//!   `:setMaintenancePolicy`. Every field sent is kept; outputs are filled:
//!   `selfLink`, `id`, `location`, `locations` (three `UP` zones of the region,
//!   the zone, or those sent), `createTime`, `status`, `endpoint` (a
//!   203.0.113.x address, or the private endpoint when only that is enabled),
//!   `masterAuth.clusterCaCertificate`, `currentMasterVersion` (from
//!   `initialClusterVersion`: `1.31` → `1.31.8-gke.1000000`; default the newest,
//!   1.33), `currentNodeVersion` (the oldest pool's), `currentNodeCount`,
//!   `labelFingerprint`, `etag`, `network`/`subnetwork` names and
//!   `networkConfig` paths, `ipAllocationPolicy` CIDR blocks (from the
//!   subnetwork's secondary ranges), `privateClusterConfig.privateEndpoint`
//!   (`masterIpv4CidrBlock` + 2, which must be a /28),
//!   `controlPlaneEndpointsConfig` (a DNS endpoint
//!   `gke-<hash>-<number>.<region>.gke.goog` for every cluster, as current GKE
//!   has, and the IP endpoints), `databaseEncryption.currentState` (a key name
//!   must be shaped `projects/*/locations/*/keyRings/*/cryptoKeys/*`; at create
//!   the key must exist in the stand-in's Cloud KMS and GKE's service agent
//!   `service-NUMBER@container-engine-robot` must hold
//!   `roles/cloudkms.cryptoKeyEncrypterDecrypter` on it or the project, else
//!   `FAILED_PRECONDITION`), `maintenancePolicy.resourceVersion`, and
//!   defaults for `releaseChannel` (REGULAR), `shieldedNodes`, `loggingConfig`,
//!   `monitoringConfig`. Create checks: the name (lowercase, ≤ 40 characters),
//!   the network and subnetwork in Compute (the subnetwork must be sent for a
//!   custom-mode network and belong to the network), the named secondary
//!   ranges on the subnetwork, `workloadPool` = `{project}.svc.id.goog`, node
//!   pools or a positive `initialNodeCount` (which makes a `default-pool` from
//!   `nodeConfig`), not both. Proto enums sent as numbers (`datapathProvider`,
//!   `channel`, taint `effect`, `databaseEncryption.state`, `locationPolicy`,
//!   logging and monitoring components, `strategy`, `stackType`, workload
//!   metadata `mode`) are stored as their names.
//! - **Updates**: exactly one `desired...` field per request (besides
//!   `desiredNodePoolId`), else 400 `INVALID_ARGUMENT`. Modelled:
//!   `desiredMasterVersion` (one minor up at a time, never down: 400
//!   `FAILED_PRECONDITION`), `desiredNodeVersion` / `desiredImageType` /
//!   `desiredNodePoolAutoscaling` (with `desiredNodePoolId`),
//!   `desiredDatabaseEncryption`, `desiredControlPlaneEndpointsConfig`,
//!   `desiredMasterAuthorizedNetworksConfig`, `desiredLocations`; any other
//!   `desiredFooBar` replaces `fooBar` as sent (e.g. `desiredLoggingConfig`).
//!   `:setResourceLabels` replaces the labels and needs the current
//!   `labelFingerprint` (missing or stale: 400 `FAILED_PRECONDITION`);
//!   `:setMaintenancePolicy` checks `resourceVersion` when sent.
//! - **Node pools** (`.../clusters/{c}/nodePools`): create (`{"nodePool":
//!   {...}}`), get, list, delete, update (`PUT`: `nodeVersion`, `imageType`,
//!   `locations`, `labels`/`taints`/`resourceLabels`/`tags` wrappers,
//!   `nodeNetworkConfig`, `upgradeSettings`, `diskSizeGb`, `diskType`,
//!   `machineType` (allowed in place) and the other config blocks),
//!   `:setAutoscaling`, `:setManagement`, `:setSize`. Defaults for `config`
//!   (machine type, disk, image, service account, scopes), `management`,
//!   `upgradeSettings`; outputs `status`, `selfLink`, `version`, `locations`,
//!   `instanceGroupUrls` (one per zone; `initialNodeCount` is per zone),
//!   `networkConfig.podRange`. A node version may not be newer than the
//!   master's nor more than two minors older (400); autoscaling limits are
//!   checked (min ≤ max, per-zone and total limits not mixed); taints need a
//!   key and a known effect.
//! - **Operations** (`.../locations/{l}/operations[/{op}]`): `operationType`
//!   (CREATE_CLUSTER, DELETE_CLUSTER, UPGRADE_MASTER, UPGRADE_NODES,
//!   UPDATE_CLUSTER, CREATE_NODE_POOL, DELETE_NODE_POOL, SET_LABELS,
//!   SET_MAINTENANCE_POLICY, SET_NODE_POOL_MANAGEMENT, SET_NODE_POOL_SIZE),
//!   `status` RUNNING then DONE after `operation_polls` polls, `selfLink`,
//!   `targetLink`, `startTime`, `endTime`. Only then does the cluster or pool
//!   become `RUNNING` (or disappear after a delete). One operation at a time
//!   per cluster, node pool operations included: another mutation meanwhile
//!   is refused with 400 `FAILED_PRECONDITION` "Cluster is running
//!   incompatible operation operation-N.".
//! - `GET .../serverConfig`: the offered versions (1.29 to 1.33) and channels.
//!
//! # What is not modelled
//!
//! - Compute: instances, firewalls, routes, auto-mode and legacy networks (an
//!   auto-mode network is stored but gets no subnetworks), IPv6, zonal
//!   operations, `pageToken`/`maxResults` (everything comes in one page),
//!   aggregated lists other than subnetworks, Cloud Router BGP and status,
//!   `operations.list`. Errors are always synchronous: the real API reports
//!   some (e.g. range conflicts) only in the finished operation's `error`.
//!   Objects change when the request is accepted, not when its operation ends.
//!   Peerings do not need the peer network to peer back, and routes are not
//!   exchanged.
//! - GKE: Autopilot beyond storing the flag, the legacy `zones/{z}/clusters`
//!   paths and `v1beta1`, `:setLegacyAbac`, `:setMasterAuth`, `:startIpRotation`
//!   and other custom methods not listed, operation cancel, node pool
//!   `:rollback` and blue-green upgrades, auto-upgrades, real nodes or
//!   Kubernetes API endpoints (the `endpoint` serves nothing), quota and
//!   stock-out errors, the key checks on an update of `databaseEncryption`, IAM
//!   permissions. State only advances when operations are polled: a client
//!   that never polls leaves the cluster `PROVISIONING` (and busy).
//! - Self-links point at the stand-in (`http://127.0.0.1:PORT/compute/v1/...`,
//!   `http://127.0.0.1:PORT/v1/...`), not at `googleapis.com`, so that gcloud
//!   can follow them.
//! - The other services (Cloud KMS, IAM and Resource Manager, Secret Manager,
//!   Cloud SQL, Service Networking) are described in their own modules.

mod compute;
pub mod config;
mod faults;
mod gke;
mod http;
mod iam;
mod kms;
mod networking;
mod ops;
mod peers;
mod policy;
mod resources;
mod secrets;
mod server;
mod sql;
mod sql_admin;
mod sql_enums;
mod sql_model;
mod util;
mod world;

use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use config::GcpFakeConfig;
pub use faults::FaultPlan;
pub use server::{RequestCounts, CONTROL_PREFIX};

use server::Shared;
use world::World;

/// How long dropping a handle waits for the server's tasks to stop.
const RUNTIME_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);

/// Everything that can go wrong while starting [`GcpFake`].
#[derive(Debug, thiserror::Error)]
pub enum GcpFakeError {
    /// Binding the listening socket on 127.0.0.1 failed.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for (0 = any free port).
        port: u16,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Any other I/O failure (runtime or thread creation).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The server thread stopped before it was ready.
    #[error("the server thread stopped before it was ready")]
    ThreadDied,
}

/// Entry point: starts stand-ins.
#[derive(Debug)]
pub struct GcpFake;

impl GcpFake {
    /// Starts a stand-in on 127.0.0.1, on its own thread and single-threaded Tokio
    /// runtime (so it works from sync tests and from any async runtime). Dropping
    /// the handle stops it.
    pub fn start(mut config: GcpFakeConfig) -> Result<GcpFakeHandle, GcpFakeError> {
        let port = config.port;
        let bind = |source| GcpFakeError::Bind { port, source };
        let listener = StdTcpListener::bind(("127.0.0.1", port)).map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        // The services write self-links with the real port.
        config.port = addr.port();
        let shared = Arc::new(Shared::new(World::new(config)));

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), std::io::Error>>();
        let server_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("paved-gcp-fake-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    server::serve(listener, server_shared, shutdown_rx).await;
                });
                runtime.shutdown_timeout(RUNTIME_SHUTDOWN_TIMEOUT);
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(GcpFakeError::Io(e));
            }
            Err(_) => {
                let _ = thread.join();
                return Err(GcpFakeError::ThreadDied);
            }
        }
        Ok(GcpFakeHandle {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }
}

/// A running stand-in. Dropping it (or [`GcpFakeHandle::shutdown`]) stops the
/// server and frees its port.
#[derive(Debug)]
pub struct GcpFakeHandle {
    /// Where it listens.
    addr: SocketAddr,
    /// The services and counters.
    shared: Arc<Shared>,
    /// Stops the server.
    shutdown: Option<oneshot::Sender<()>>,
    /// The server's thread.
    thread: Option<JoinHandle<()>>,
}

impl GcpFakeHandle {
    /// The server URL: `http://127.0.0.1:PORT` (Compute lives under
    /// `/compute/v1/`, GKE under `/v1/`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A snapshot of the request counts.
    pub fn request_counts(&self) -> RequestCounts {
        self.shared.counts()
    }

    /// Zeroes the request counts.
    pub fn reset_counts(&self) {
        self.shared.reset_counts();
    }

    /// Replaces the fault plan (restarting its RNG); [`FaultPlan::none`] stops
    /// injecting.
    pub fn set_faults(&self, plan: FaultPlan) {
        self.shared.set_faults(plan);
    }

    /// A GKE cluster as `GET .../clusters/{name}` would answer it (node pools
    /// included), without counting a request.
    pub fn cluster_json(&self, project: &str, location: &str, name: &str) -> Option<Value> {
        self.shared.world.gke.cluster_json(project, location, name)
    }

    /// A Compute network as `GET .../global/networks/{name}` would answer it.
    pub fn network_json(&self, project: &str, name: &str) -> Option<Value> {
        self.shared.world.compute.network_json(project, name)
    }

    /// Every Compute and GKE object, as served at `GET /_fake/state`.
    pub fn state(&self) -> Value {
        self.shared.state()
    }

    /// Stops the server now; the same as dropping the handle.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for GcpFakeHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
