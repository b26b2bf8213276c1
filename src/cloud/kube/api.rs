//! [`KubeApi`] with kube-rs: every kind through `Api<DynamicObject>` and an
//! `ApiResource` found by discovery, so anything the server serves (built-in kinds,
//! CRDs) works without compiled-in types.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersion, TypeMeta};
use kube::discovery::{self, Scope};
use serde_json::Value as Json;

use super::error::{classify, from_kube};
use super::session::Session;
use crate::ports::kube::{KubeApi, KubeError, ObjectRef, FIELD_MANAGER};
use crate::stack::{Retry, RetryError};

/// A kind as discovery found it.
#[derive(Clone)]
struct Resolved {
    resource: ApiResource,
    namespaced: bool,
}

/// One cluster's API: a renewing client, a discovery cache and the retry policy.
pub(crate) struct KubeRsApi {
    session: Session,
    retry: Retry,
    /// `(apiVersion, kind)` to its resource, filled on first use of each kind. Only
    /// answers are cached: a kind not served yet (a CRD being installed) is looked
    /// up again next time.
    kinds: Mutex<HashMap<(String, String), Resolved>>,
}

impl KubeRsApi {
    /// Deletes `object` with `params`; `Ok(false)` when it was already gone.
    async fn delete_with(
        &self,
        object: &ObjectRef,
        params: DeleteParams,
    ) -> Result<bool, KubeError> {
        self.call(&format!("delete {object}"), |client| {
            let params = params.clone();
            async move {
                let (api, _) = self.api_for(client, object).await?;
                match api.delete(&object.name, &params).await {
                    Ok(_) => Ok(true),
                    Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
                    Err(e) => Err(self.err(e)),
                }
            }
        })
        .await
    }

    pub fn new(session: Session, retry: Retry) -> Self {
        Self {
            session,
            retry,
            kinds: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `op` with a current client under the retry policy; a refused token is
    /// dropped so that the next call makes a new one.
    async fn call<T, F, Fut>(&self, operation: &str, op: F) -> Result<T, KubeError>
    where
        F: Fn(kube::Client) -> Fut,
        Fut: Future<Output = Result<T, KubeError>>,
    {
        let result = self
            .retry
            .run(operation, &classify, || async {
                let client = self.session.client().await?;
                op(client).await
            })
            .await;
        match result {
            Ok(value) => Ok(value),
            Err(err) => {
                let err = self.port_error(err);
                if matches!(err, KubeError::Unauthorized(_)) {
                    self.session.invalidate().await;
                }
                Err(err)
            }
        }
    }

    fn port_error(&self, err: RetryError<KubeError>) -> KubeError {
        let cancelled = err.is_cancelled();
        err.into_last_error()
            .unwrap_or_else(|| KubeError::Unreachable {
                url: self.session.url().to_owned(),
                message: if cancelled {
                    "stopped before the first attempt: Terraform asked the provider to stop"
                        .to_owned()
                } else {
                    "no attempt was made".to_owned()
                },
            })
    }

    /// The resource serving `kind` in `api_version`, from the cache or discovery.
    async fn resolve(
        &self,
        client: &kube::Client,
        api_version: &str,
        kind: &str,
    ) -> Result<Resolved, KubeError> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(found) = self.cached(&key) {
            return Ok(found);
        }
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version),
        };
        // One request lists every kind of the group version: all of them are
        // cached, so a baseline of many kinds costs one request per group version.
        let gv = GroupVersion::gv(group, version);
        let served = discovery::pinned_group(client, &gv).await.map_err(|e| {
            match from_kube(self.session.url(), e) {
                // A group/version the server does not serve answers 404.
                KubeError::Api { code: 404, .. } | KubeError::UnknownKind(_) => {
                    KubeError::UnknownKind(format!("{kind} in {api_version}"))
                }
                other => other,
            }
        })?;
        if let Ok(mut kinds) = self.kinds.lock() {
            for (resource, caps) in served.versioned_resources(version) {
                let resolved = Resolved {
                    namespaced: caps.scope == Scope::Namespaced,
                    resource,
                };
                kinds.insert(
                    (api_version.to_owned(), resolved.resource.kind.clone()),
                    resolved,
                );
            }
        }
        self.cached(&key)
            .ok_or_else(|| KubeError::UnknownKind(format!("{kind} in {api_version}")))
    }

    fn cached(&self, key: &(String, String)) -> Option<Resolved> {
        self.kinds.lock().ok()?.get(key).cloned()
    }

    /// An `Api` for the object's kind and namespace.
    async fn api_for(
        &self,
        client: kube::Client,
        object: &ObjectRef,
    ) -> Result<(Api<DynamicObject>, Resolved), KubeError> {
        self.api(
            client,
            &object.api_version,
            &object.kind,
            object.namespace.as_deref(),
        )
        .await
    }

    /// An `Api` for `kind` in `namespace` (ignored for cluster-scoped kinds; a
    /// namespaced kind with no namespace is the `default` namespace, as kubectl's).
    async fn api(
        &self,
        client: kube::Client,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<(Api<DynamicObject>, Resolved), KubeError> {
        let resolved = self.resolve(&client, api_version, kind).await?;
        let api = if resolved.namespaced {
            Api::namespaced_with(client, namespace.unwrap_or("default"), &resolved.resource)
        } else {
            Api::all_with(client, &resolved.resource)
        };
        Ok((api, resolved))
    }

    fn err(&self, e: kube::Error) -> KubeError {
        from_kube(self.session.url(), e)
    }
}

/// A live object as JSON, with `apiVersion` and `kind` (list items come without).
fn to_json(mut object: DynamicObject, resource: &ApiResource) -> Result<Json, KubeError> {
    if object.types.is_none() {
        object.types = Some(TypeMeta {
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
        });
    }
    serde_json::to_value(object).map_err(|e| KubeError::Api {
        code: 200,
        message: format!("an object paved cannot read: {e}"),
    })
}

/// The identity of an apply body.
fn identity(body: &Json) -> Result<ObjectRef, KubeError> {
    let text = |pointer: &str| body.pointer(pointer).and_then(Json::as_str);
    let missing = |what: &str| KubeError::Target(format!("an object to apply has no {what}"));
    Ok(ObjectRef {
        api_version: text("/apiVersion")
            .ok_or_else(|| missing("apiVersion"))?
            .to_owned(),
        kind: text("/kind").ok_or_else(|| missing("kind"))?.to_owned(),
        namespace: text("/metadata/namespace").map(str::to_owned),
        name: text("/metadata/name")
            .ok_or_else(|| missing("metadata.name"))?
            .to_owned(),
    })
}

#[async_trait::async_trait]
impl KubeApi for KubeRsApi {
    async fn apply(&self, body: &Json) -> Result<Json, KubeError> {
        let object = identity(body)?;
        let params = PatchParams::apply(FIELD_MANAGER).force();
        self.call(&format!("apply {object}"), |client| {
            let object = &object;
            let params = &params;
            async move {
                let (api, resolved) = self
                    .api(
                        client,
                        &object.api_version,
                        &object.kind,
                        object.namespace.as_deref(),
                    )
                    .await?;
                let live = api
                    .patch(&object.name, params, &Patch::Apply(body))
                    .await
                    .map_err(|e| self.err(e))?;
                to_json(live, &resolved.resource)
            }
        })
        .await
    }

    async fn get(&self, object: &ObjectRef) -> Result<Option<Json>, KubeError> {
        self.call(&format!("read {object}"), |client| async move {
            let (api, resolved) = self.api_for(client, object).await?;
            match api.get_opt(&object.name).await.map_err(|e| self.err(e))? {
                Some(live) => to_json(live, &resolved.resource).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn delete(&self, object: &ObjectRef) -> Result<bool, KubeError> {
        self.delete_with(object, DeleteParams::background()).await
    }

    async fn delete_orphan(&self, object: &ObjectRef) -> Result<bool, KubeError> {
        self.delete_with(object, DeleteParams::orphan()).await
    }

    async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        label_selector: &str,
    ) -> Result<Vec<Json>, KubeError> {
        let scope = namespace.unwrap_or("all namespaces");
        let operation = format!("list {kind} in {scope} matching {label_selector:?}");
        self.call(&operation, |client| async move {
            let resolved = self.resolve(&client, api_version, kind).await?;
            let api: Api<DynamicObject> = match namespace {
                Some(ns) if resolved.namespaced => {
                    Api::namespaced_with(client, ns, &resolved.resource)
                }
                _ => Api::all_with(client, &resolved.resource),
            };
            let mut params = ListParams::default();
            if !label_selector.is_empty() {
                params = params.labels(label_selector);
            }
            let list = api.list(&params).await.map_err(|e| self.err(e))?;
            list.items
                .into_iter()
                .map(|item| to_json(item, &resolved.resource))
                .collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_apply_body_names_its_object() {
        let body = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": "web", "namespace": "shop"}});
        let object = identity(&body).expect("identity");
        assert_eq!(object.to_string(), "Deployment shop/web");
        let nameless = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {}});
        assert!(
            matches!(identity(&nameless), Err(KubeError::Target(m)) if m.contains("metadata.name"))
        );
    }
}
