//! A Kubernetes API stand-in, judged by `kubectl`.
//!
//! No kube-apiserver can be had on the project's machines, so this serves
//! the subset of the Kubernetes API that paved uses, over HTTPS, from
//! memory. [`KubeFake::start`] runs it in-process (tests); the
//! `paved-kube-fake` binary runs it as a program and writes a kubeconfig.
//!
//! ```no_run
//! use paved_testbed::kube::{KubeFake, KubeFakeConfig};
//!
//! # fn main() -> Result<(), paved_testbed::kube::KubeFakeError> {
//! let fake = KubeFake::start(KubeFakeConfig::default().with_eks_cluster("prod"))?;
//! fake.write_kubeconfig(std::path::Path::new("/tmp/kubeconfig"))?;
//! // ... run kubectl or the provider against fake.url() ...
//! println!("{} applies", fake.request_counts().count("APPLY", "Deployment"));
//! # Ok(())
//! # }
//! ```
//!
//! # What is modelled
//!
//! - **Transport and authentication**: TLS with a CA generated at start (leaf
//!   for `127.0.0.1` and `localhost`), HTTP/1.1. Bearer tokens: the static
//!   token, and EKS tokens (`k8s-aws-v1.` + presigned STS
//!   `GetCallerIdentity` URL) whose SigV4 signature is recomputed with the
//!   configured secret key and cluster name (`x-k8s-aws-id`), dated no more
//!   than 15 minutes ago nor 5 minutes ahead (see [`auth`]). Anything else
//!   is 401 with a `Status` (reason `Unauthorized`). Every identity may do
//!   everything (no RBAC).
//! - **Discovery**: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>`,
//!   `/apis/<group>/<version>` (legacy, non-aggregated discovery) for the
//!   types in [`resources::RESOURCES`]; `/healthz`, `/livez`, `/readyz`.
//! - **Storage**: objects as JSON with `uid`, a global `resourceVersion`
//!   (unchanged by writes that change nothing), `creationTimestamp`,
//!   `generation` (bumped when anything outside `metadata` changes),
//!   `generateName`, name validation, namespace existence for namespaced
//!   writes (404 `NotFound`); `default`, `kube-system` and `kube-public` exist
//!   from the start and cannot be deleted (403).
//! - **Server-side apply** (`PATCH`, `application/apply-patch+yaml`,
//!   `fieldManager` required, `force`): ownership of leaf fields per manager
//!   (lists and empty maps are single leaves), `metadata.managedFields`
//!   entries with `FieldsV1`, 409 conflicts worded as the API server's,
//!   forced takeover, removal of fields a manager stops applying (unless
//!   another manager owns them), shared ownership of equal values,
//!   create-on-apply. `status` in apply bodies is ignored.
//! - **Other writes** as `Update` managers (`fieldManager`, else the
//!   User-Agent's program name): create (`POST`), replace (`PUT`, with
//!   optimistic concurrency on `metadata.resourceVersion`), JSON merge patch,
//!   strategic merge patch (treated as a JSON merge patch), JSON patch. An
//!   `Update` manager takes the fields it changes. `dryRun=All` on every write.
//! - **Defaulting** (see [`validation`]): StatefulSets get `replicas: 1`,
//!   `podManagementPolicy: OrderedReady`, `updateStrategy: RollingUpdate`
//!   with `partition: 0`, `revisionHistoryLimit: 10` and a `Retain`/`Retain`
//!   `persistentVolumeClaimRetentionPolicy`; DaemonSets `updateStrategy:
//!   RollingUpdate` (`maxUnavailable: 1`, `maxSurge: 0`) and
//!   `revisionHistoryLimit: 10`. Defaults are owned by `Update` writers, by
//!   no one after an apply, as on the real server. Pod templates and other
//!   kinds are not defaulted.
//! - **Validation and admission** of writes (422 `Invalid` with the real
//!   messages and `details.causes`, so kubectl prints `The StatefulSet "x"
//!   is invalid: spec: Forbidden: ...`): a StatefulSet update may change only
//!   `replicas`, `ordinals`, `template`, `updateStrategy`,
//!   `persistentVolumeClaimRetentionPolicy` and `minReadySeconds` (and
//!   `revisionHistoryLimit` when the configured version is 1.34 or later);
//!   a PersistentVolumeClaim's spec is immutable except a bound claim's
//!   `resources.requests`, a first `volumeName` and a first class, and its
//!   storage request never shrinks (`field can not be less than previous
//!   value`); an APIService must be named `<version>.<group>`. Admission:
//!   `DefaultStorageClass` (a claim created without a class gets the
//!   default one) and `PersistentVolumeClaimResize` (a claim grows only when
//!   its StorageClass has `allowVolumeExpansion: true`, else 403). The
//!   claim refusal's trailing diff approximates go-cmp's. Quantities are
//!   compared by value for the storage request only; elsewhere `1Gi` and
//!   `1024Mi` differ.
//! - **Reads**: GET, LIST in a namespace or across all, `labelSelector`
//!   (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`), `fieldSelector` on
//!   `metadata.name`/`metadata.namespace`, `<Kind>List` kinds, GET of the
//!   `status` subresource.
//! - **Deletes** with `propagationPolicy` (query or `DeleteOptions` body,
//!   `orphanDependents`; default `Background`): objects go at once; deleting
//!   a Namespace deletes everything in it; dependents by `ownerReferences`
//!   uid are deleted (Background, Foreground) or lose the reference
//!   (Orphan). DELETE on a collection. Every deleted object is recorded
//!   with its policy ([`KubeFakeHandle::deletions`], `GET
//!   /_fake/deletions`): with no Pods here, `Orphan` and `Background`
//!   deletes of a workload differ only in that record (and for objects
//!   owned by it, such as claims of a `whenDeleted: Delete` StatefulSet).
//! - **The StatefulSet controller's claims**: on create and scale-up, a
//!   PersistentVolumeClaim per `volumeClaimTemplates` entry per ordinal
//!   (`spec.ordinals.start` on), named `<template>-<statefulset>-<ordinal>`,
//!   with the template's metadata and spec and the selector's `matchLabels`
//!   added to its labels, written by `kube-controller-manager`, unless it
//!   exists (an existing claim is never changed). All are made at once (the
//!   real controller makes each with its pod). Claims stay when the
//!   StatefulSet is scaled down or deleted (`Retain`); with `whenDeleted:
//!   Delete` they are made with an owner reference to the StatefulSet (so a
//!   non-orphan delete removes them), with `whenScaled: Delete` a scale-down
//!   deletes the removed ordinals' claims. A policy changed later does not
//!   re-own claims that exist.
//! - **Status** (computed on read): Deployments, StatefulSets and DaemonSets
//!   report ready replicas once the configured delay has passed since their
//!   last generation change (Deployments with `Available`/`Progressing`
//!   conditions; DaemonSets over the configured node count, with
//!   `desiredNumberScheduled`, `numberReady`, `numberAvailable`,
//!   `updatedNumberScheduled`), so a kstatus check (`observedGeneration` =
//!   `generation`, ready = desired) and `kubectl rollout status` pass after
//!   the delay and not before. StatefulSets report `availableReplicas` and
//!   `currentRevision`/`updateRevision` named after a hash of the pod
//!   template: equal once ready; during a template rollout
//!   `currentRevision` is the old one. PVCs are `Bound` when their
//!   StorageClass (or the default one) exists and does not use
//!   `WaitForFirstConsumer` (or a StatefulSet's pod uses them: its pods are
//!   taken to be scheduled), else `Pending`; a bound claim's
//!   `status.capacity.storage` is its request, so an expansion shows at once
//!   (no resize conditions). Namespaces are `Active`; APIServices report
//!   `Available=True` (reason `Local` without `spec.service`, else
//!   `Passed`); HorizontalPodAutoscalers and the other kinds have no status.
//! - **Counts**: `GET /_fake/requests` and `POST /_fake/reset-counts` (no
//!   authentication), or [`KubeFakeHandle::request_counts`].
//!
//! # What is not modelled
//!
//! - OpenAPI (`/openapi/v2`, `/openapi/v3` answer 404: kubectl needs
//!   `--validate=false`), aggregated discovery, protobuf, `Table` output
//!   (kubectl prints its default columns), watch (405), pagination (`limit`
//!   and `continue` are ignored), `resourceVersion` semantics on reads.
//! - YAML request bodies: apply bodies must be JSON (kubectl sends JSON).
//! - Associative lists (lists merged by key, e.g. containers by name): every
//!   list is owned and replaced as a whole. Defaulting, validation and
//!   admission beyond the above (no schema validation, no validation of
//!   creates except names), RBAC, finalizers, graceful deletion
//!   (Terminating namespaces, `deletionTimestamp`): deletes are immediate.
//! - Controllers beyond the status and claims above: no Pods, ReplicaSets,
//!   ControllerRevisions, Endpoints, PersistentVolumes (claims get no
//!   `volumeName`) or Events are made; writes to `status` subresources and
//!   the `scale` subresource (`kubectl scale`) are not served. The
//!   `autoscaling` group serves `v2` only, `apiregistration.k8s.io` is not
//!   an aggregator (APIServices are stored, nothing is proxied).
//! - HTTP/2, client certificates, impersonation.

pub mod api_error;
pub mod auth;
pub mod controllers;
pub mod error;
pub mod fields;
pub mod resources;
pub mod selector;
pub mod server;
pub mod store;
pub mod tls;
pub mod validation;

use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

pub use auth::{presign_eks_token, EksTokenRequest};
pub use error::KubeFakeError;
pub use server::RequestCounts;
pub use store::{Deletion, Propagation};

use auth::EksVerifier;
use server::Shared;
use store::{Behaviour, Store};

/// Default `gitVersion` reported by `/version`.
pub const DEFAULT_GIT_VERSION: &str = "v1.31.0";

/// Default AWS secret key EKS tokens are checked with (moto's).
pub const DEFAULT_AWS_SECRET_KEY: &str = "testing";

/// Default number of nodes DaemonSets schedule on.
pub const DEFAULT_NODE_COUNT: u32 = 3;

/// How long dropping a handle waits for the server's tasks to stop.
const RUNTIME_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);

/// How to run the stand-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeFakeConfig {
    /// Port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// `gitVersion` reported by `/version` (e.g. `v1.31.0`).
    pub git_version: String,
    /// The static bearer token; `None` = a random one.
    pub static_token: Option<String>,
    /// EKS cluster name tokens must be signed for; `None` = EKS tokens are rejected.
    pub eks_cluster: Option<String>,
    /// AWS secret key EKS token signatures are recomputed with.
    pub aws_secret_key: String,
    /// Delay between a workload's generation change and its ready status.
    pub ready_after: Duration,
    /// Number of nodes DaemonSets schedule on.
    pub node_count: u32,
}

impl Default for KubeFakeConfig {
    fn default() -> Self {
        Self {
            port: 0,
            git_version: DEFAULT_GIT_VERSION.to_string(),
            static_token: None,
            eks_cluster: None,
            aws_secret_key: DEFAULT_AWS_SECRET_KEY.to_string(),
            ready_after: Duration::ZERO,
            node_count: DEFAULT_NODE_COUNT,
        }
    }
}

impl KubeFakeConfig {
    /// Accepts EKS tokens signed for `cluster`.
    pub fn with_eks_cluster(mut self, cluster: impl Into<String>) -> Self {
        self.eks_cluster = Some(cluster.into());
        self
    }

    /// Checks EKS tokens with this AWS secret key.
    pub fn with_aws_secret_key(mut self, key: impl Into<String>) -> Self {
        self.aws_secret_key = key.into();
        self
    }

    /// Workloads become ready this long after each generation change.
    pub fn with_ready_after(mut self, delay: Duration) -> Self {
        self.ready_after = delay;
        self
    }

    /// Uses this static bearer token instead of a random one.
    pub fn with_static_token(mut self, token: impl Into<String>) -> Self {
        self.static_token = Some(token.into());
        self
    }

    /// Reports this `gitVersion` from `/version`.
    pub fn with_git_version(mut self, version: impl Into<String>) -> Self {
        self.git_version = version.into();
        self
    }

    /// Listens on this port of 127.0.0.1.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// DaemonSets schedule on this many nodes.
    pub fn with_node_count(mut self, nodes: u32) -> Self {
        self.node_count = nodes;
        self
    }
}

/// The minor version of a `gitVersion` (`v1.31.0` → 31; 31 when it does
/// not parse).
fn minor_version(git_version: &str) -> u32 {
    git_version
        .trim_start_matches('v')
        .split('.')
        .nth(1)
        .and_then(|m| {
            m.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|d| d.parse().ok())
        })
        .unwrap_or(31)
}

/// Entry point: starts stand-ins.
#[derive(Debug)]
pub struct KubeFake;

fn random_token() -> String {
    let mut b = [0u8; 24];
    let _ = aws_lc_rs::rand::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl KubeFake {
    /// Starts a stand-in on 127.0.0.1, on its own thread and single-threaded
    /// Tokio runtime (so it works from sync tests and any async runtime).
    /// Dropping the handle stops it.
    pub fn start(config: KubeFakeConfig) -> Result<KubeFakeHandle, KubeFakeError> {
        let port = config.port;
        let listener = StdTcpListener::bind(("127.0.0.1", port))
            .map_err(|source| KubeFakeError::Bind { port, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| KubeFakeError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| KubeFakeError::Bind { port, source })?;

        let certs = tls::Certificates::generate()?;
        let acceptor = TlsAcceptor::from(certs.server_config()?);
        let token = config.static_token.clone().unwrap_or_else(random_token);
        let eks = config.eks_cluster.clone().map(|cluster| EksVerifier {
            cluster,
            secret_key: config.aws_secret_key.clone(),
        });
        let store = Store::new(Behaviour {
            ready_after: config.ready_after,
            node_count: config.node_count,
            minor_version: minor_version(&config.git_version),
        });
        let shared = Arc::new(Shared::new(
            store,
            token.clone(),
            eks,
            config.git_version.clone(),
            addr.to_string(),
        ));

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), std::io::Error>>();
        let server_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("paved-kube-fake-{}", addr.port()))
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
                    server::serve(listener, acceptor, server_shared, shutdown_rx).await;
                });
                runtime.shutdown_timeout(RUNTIME_SHUTDOWN_TIMEOUT);
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(KubeFakeError::Io(e));
            }
            Err(_) => {
                let _ = thread.join();
                return Err(KubeFakeError::ThreadDied);
            }
        }
        Ok(KubeFakeHandle {
            addr,
            ca_pem: certs.ca_pem,
            token,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }
}

/// A running stand-in. Dropping it (or [`KubeFakeHandle::shutdown`]) stops
/// the server and frees its port.
#[derive(Debug)]
pub struct KubeFakeHandle {
    addr: SocketAddr,
    ca_pem: String,
    token: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl KubeFakeHandle {
    /// The server URL: `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// PEM of the CA that signed the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The static bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A kubeconfig (YAML) for this server with the static token.
    pub fn kubeconfig(&self) -> String {
        tls::kubeconfig(&self.url(), &self.ca_pem, &self.token)
    }

    /// Writes [`KubeFakeHandle::kubeconfig`] to `path`.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), KubeFakeError> {
        std::fs::write(path, self.kubeconfig())?;
        Ok(())
    }

    /// A snapshot of the request counts.
    pub fn request_counts(&self) -> RequestCounts {
        self.shared.counts()
    }

    /// Zeroes the request counts.
    pub fn reset_counts(&self) {
        self.shared.reset_counts();
    }

    /// One object as the API would answer it, by group, version, plural,
    /// namespace (empty for cluster-scoped types) and name.
    pub fn object(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        let rt = resources::find(group, version, plural)?;
        self.shared.object(rt, namespace, name)
    }

    /// Every object deleted by a DELETE request so far (by name or in a
    /// collection; not the dependents that went with them), oldest first,
    /// with the propagation policy each used. Also served, without
    /// authentication, at `GET /_fake/deletions`.
    ///
    /// The stand-in has no Pods or ReplicaSets, so for a workload `Orphan`
    /// and `Background` differ only in this record (and in what happens to
    /// objects that carry an owner reference to it).
    pub fn deletions(&self) -> Vec<Deletion> {
        self.shared.deletions()
    }

    /// The propagation policy of the last delete of `kind` `namespace/name`
    /// (namespace empty for cluster-scoped kinds), if it was deleted.
    pub fn last_deletion(&self, kind: &str, namespace: &str, name: &str) -> Option<Propagation> {
        self.deletions()
            .into_iter()
            .rev()
            .find(|d| d.kind == kind && d.namespace == namespace && d.name == name)
            .map(|d| d.propagation)
    }

    /// Stops the server now; the same as dropping the handle.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for KubeFakeHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
