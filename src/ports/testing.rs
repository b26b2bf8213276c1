//! A [`Cloud`] for tests of resources and data sources: a fixed region and default
//! tags, and the backends a test gives it; nothing is contacted. Its zone source is
//! a scripted fake ([`ScriptedZones`]): the zones a test gives, a log of the regions
//! asked for, and a scripted failure or hang.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::cluster::ClusterBackend;
use super::database::DatabaseBackend;
use super::kube::{KubeApi, KubeConnector, KubeError, KubeTarget, ObjectRef};
use super::zones::{Zone, ZoneSource};
use super::{Cloud, CloudError};
use crate::framework::{OpContext, ProviderData};

/// A cloud in one region with no backends of its own (resources under test get
/// theirs from their factory).
pub struct FixedCloud {
    /// The default region.
    pub region: String,
    /// The provider's default tags.
    pub default_tags: BTreeMap<String, String>,
    /// The zone source, when the test gives one.
    pub zones: Option<ScriptedZones>,
    /// The Kubernetes API of every cluster (one in-memory store).
    pub kube: MemoryKube,
}

/// An in-memory Kubernetes API: applied objects are stored as sent (with a
/// ready status for workloads), so resource tests can deliver, read back and see
/// what a hand edit or delete does. Clones share the store.
#[derive(Debug, Clone, Default)]
pub struct MemoryKube {
    objects: Arc<Mutex<BTreeMap<ObjectRef, serde_json::Value>>>,
    targets: Arc<Mutex<Vec<KubeTarget>>>,
}

impl MemoryKube {
    /// The objects stored, by identity.
    pub fn objects(&self) -> BTreeMap<ObjectRef, serde_json::Value> {
        self.objects.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// Replaces or removes (`None`) an object, as a hand edit would.
    pub fn set(&self, object: ObjectRef, body: Option<serde_json::Value>) {
        if let Ok(mut o) = self.objects.lock() {
            match body {
                Some(b) => o.insert(object, b),
                None => o.remove(&object),
            };
        }
    }

    /// The targets connected to so far.
    pub fn targets(&self) -> Vec<KubeTarget> {
        self.targets.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

fn object_ref_of(body: &serde_json::Value) -> ObjectRef {
    let text = |p: &str| body.pointer(p).and_then(|v| v.as_str()).map(str::to_owned);
    ObjectRef {
        api_version: text("/apiVersion").unwrap_or_default(),
        kind: text("/kind").unwrap_or_default(),
        namespace: text("/metadata/namespace"),
        name: text("/metadata/name").unwrap_or_default(),
    }
}

#[async_trait]
impl KubeApi for MemoryKube {
    async fn apply(&self, body: &serde_json::Value) -> Result<serde_json::Value, KubeError> {
        let mut live = body.clone();
        if let Some(replicas) = body.pointer("/spec/replicas").cloned() {
            live["status"] = serde_json::json!({
                "observedGeneration": 1, "readyReplicas": replicas, "updatedReplicas": replicas,
            });
            live["metadata"]["generation"] = serde_json::json!(1);
        }
        self.set(object_ref_of(body), Some(live.clone()));
        Ok(live)
    }

    async fn get(&self, object: &ObjectRef) -> Result<Option<serde_json::Value>, KubeError> {
        Ok(self.objects().get(object).cloned())
    }

    async fn delete(&self, object: &ObjectRef) -> Result<bool, KubeError> {
        let existed = self.objects().contains_key(object);
        self.set(object.clone(), None);
        Ok(existed)
    }

    async fn delete_orphan(&self, object: &ObjectRef) -> Result<bool, KubeError> {
        self.delete(object).await
    }

    async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        _label_selector: &str,
    ) -> Result<Vec<serde_json::Value>, KubeError> {
        Ok(self
            .objects()
            .into_iter()
            .filter(|(o, _)| {
                o.api_version == api_version
                    && o.kind == kind
                    && namespace.is_none_or(|n| o.namespace.as_deref() == Some(n))
            })
            .map(|(_, v)| v)
            .collect())
    }
}

#[async_trait]
impl KubeConnector for MemoryKube {
    async fn connect(&self, target: &KubeTarget) -> Result<Arc<dyn KubeApi>, KubeError> {
        if let Ok(mut t) = self.targets.lock() {
            t.push(target.clone());
        }
        Ok(Arc::new(self.clone()))
    }
}

/// What a scripted zone listing does.
#[derive(Debug, Clone)]
pub enum ZoneScript {
    /// Answers with the zones.
    Answer(Vec<Zone>),
    /// Fails with the API error message.
    Fail(String),
    /// Never answers (for cancellation).
    Hang,
}

/// A scripted zone source: answers as scripted and logs every region asked for.
/// Clones share the call log, so a test keeps one to read what was asked.
#[derive(Debug, Clone)]
pub struct ScriptedZones {
    script: ZoneScript,
    calls: Arc<Mutex<Vec<String>>>,
}

impl ScriptedZones {
    /// A source that does what `script` says.
    pub fn new(script: ZoneScript) -> Self {
        ScriptedZones {
            script,
            calls: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The regions listed so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl ZoneSource for ScriptedZones {
    async fn list_zones(&self, region: &str) -> Result<Vec<Zone>, CloudError> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(region.to_owned());
        }
        match &self.script {
            ZoneScript::Answer(zones) => Ok(zones.clone()),
            ZoneScript::Fail(message) => Err(CloudError::Api {
                service: "ec2",
                operation: "DescribeAvailabilityZones",
                message: message.clone(),
            }),
            ZoneScript::Hang => std::future::pending().await,
        }
    }
}

impl FixedCloud {
    /// A cloud in `region` with no default tags.
    pub fn new(region: &str) -> Self {
        FixedCloud {
            region: region.to_owned(),
            default_tags: BTreeMap::new(),
            zones: None,
            kube: MemoryKube::default(),
        }
    }

    /// The same cloud with a scripted zone source.
    pub fn with_zones(mut self, zones: ScriptedZones) -> Self {
        self.zones = Some(zones);
        self
    }

    /// The provider data a configured provider would hand operations.
    pub fn provider_data(self) -> ProviderData {
        let cloud: Arc<dyn Cloud> = Arc::new(self);
        Arc::new(cloud)
    }

    /// An operation context over this cloud.
    pub fn context(self) -> OpContext {
        OpContext {
            provider: self.provider_data(),
            cancel: Default::default(),
        }
    }

    fn none(what: &str) -> CloudError {
        CloudError::NotSupported {
            what: what.to_owned(),
            cloud: "the test cloud",
            hint: "give the resource a backend factory".to_owned(),
        }
    }
}

impl Cloud for FixedCloud {
    fn default_tags(&self) -> &BTreeMap<String, String> {
        &self.default_tags
    }

    fn default_region(&self) -> Result<String, CloudError> {
        Ok(self.region.clone())
    }

    fn zones(&self) -> Result<&dyn ZoneSource, CloudError> {
        match &self.zones {
            Some(z) => Ok(z),
            None => Err(Self::none("listing zones")),
        }
    }

    fn cluster(&self) -> Result<Arc<dyn ClusterBackend>, CloudError> {
        Err(Self::none("paved_ha_cluster"))
    }

    fn kube(&self) -> Result<Arc<dyn KubeConnector>, CloudError> {
        Ok(Arc::new(self.kube.clone()))
    }

    fn database(&self) -> Result<Arc<dyn DatabaseBackend>, CloudError> {
        Err(Self::none("paved_managed_database"))
    }
}
