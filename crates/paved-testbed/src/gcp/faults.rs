//! Injected failures: a share of the (non-control) requests is answered with a
//! Google-shaped 429 `RESOURCE_EXHAUSTED` or 503 `UNAVAILABLE` error instead of
//! reaching the services, chosen by a seeded RNG so that runs repeat.

use std::sync::Mutex;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::http::GcpAnswer;

/// Which requests fail and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// Share of requests that fail, 0.0 to 1.0.
    #[serde(default)]
    pub rate: f64,
    /// HTTP status of the injected errors: 429 or 503.
    #[serde(default = "default_status")]
    pub status: u16,
    /// Seed of the RNG that picks the failing requests.
    #[serde(default)]
    pub seed: u64,
    /// Most errors injected under this plan (`None`: no limit).
    #[serde(default)]
    pub max: Option<u64>,
}

/// The default injected status: 429.
fn default_status() -> u16 {
    429
}

impl Default for FaultPlan {
    fn default() -> Self {
        Self::none()
    }
}

impl FaultPlan {
    /// No faults.
    pub fn none() -> Self {
        Self {
            rate: 0.0,
            status: 429,
            seed: 0,
            max: None,
        }
    }

    /// `rate` of the requests fail with 429 `RESOURCE_EXHAUSTED`.
    pub fn quota(rate: f64) -> Self {
        Self {
            rate,
            ..Self::none()
        }
    }

    /// `rate` of the requests fail with 503 `UNAVAILABLE`.
    pub fn unavailable(rate: f64) -> Self {
        Self {
            rate,
            status: 503,
            ..Self::none()
        }
    }

    /// Picks failing requests with this seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Injects at most `max` errors.
    pub fn with_max(mut self, max: u64) -> Self {
        self.max = Some(max);
        self
    }

    /// Checks the plan: a rate within 0..=1 and a status of 429 or 503.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.rate) {
            return Err(format!("rate {} is not within 0..=1", self.rate));
        }
        if !matches!(self.status, 429 | 503) {
            return Err(format!("status {} is not 429 or 503", self.status));
        }
        Ok(())
    }
}

/// The plan in force, its RNG and how many errors it injected.
#[derive(Debug)]
struct State {
    /// The plan.
    plan: FaultPlan,
    /// Seeded from the plan.
    rng: Xoshiro256PlusPlus,
    /// Errors injected under this plan.
    injected: u64,
}

/// Decides, request by request, whether to inject an error.
#[derive(Debug)]
pub(crate) struct Faults {
    /// Behind a lock: the server answers concurrently.
    state: Mutex<State>,
}

impl Default for Faults {
    fn default() -> Self {
        Self::new(FaultPlan::none())
    }
}

impl Faults {
    /// Faults following `plan`.
    pub(crate) fn new(plan: FaultPlan) -> Self {
        Self {
            state: Mutex::new(Self::fresh(plan)),
        }
    }

    /// A state starting `plan` afresh.
    fn fresh(plan: FaultPlan) -> State {
        State {
            rng: Xoshiro256PlusPlus::seed_from_u64(plan.seed),
            plan,
            injected: 0,
        }
    }

    /// Replaces the plan (and restarts its RNG and limit).
    pub(crate) fn set(&self, plan: FaultPlan) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Self::fresh(plan);
    }

    /// The error to answer the next request with, if it is to fail.
    /// `service` names the API in the message (`compute.googleapis.com`).
    pub(crate) fn next(&self, service: &str, project_number: u64) -> Option<GcpAnswer> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.plan.rate <= 0.0 || st.plan.max.is_some_and(|max| st.injected >= max) {
            return None;
        }
        let draw: f64 = st.rng.random();
        if draw >= st.plan.rate {
            return None;
        }
        st.injected += 1;
        Some(error_for(st.plan.status, service, project_number))
    }
}

/// The Google error an injected fault answers with.
pub(crate) fn error_for(status: u16, service: &str, project_number: u64) -> GcpAnswer {
    if status == 503 {
        return GcpAnswer {
            status: 503,
            body: json!({"error": {
                "code": 503,
                "message": "The service is currently unavailable.",
                "status": "UNAVAILABLE",
                "errors": [{"message": "The service is currently unavailable.", "domain": "global", "reason": "backendError"}],
            }}),
        };
    }
    let message = format!(
        "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service '{service}' for consumer 'project_number:{project_number}'."
    );
    GcpAnswer {
        status: 429,
        body: json!({"error": {
            "code": 429,
            "message": message,
            "status": "RESOURCE_EXHAUSTED",
            "errors": [{"message": message, "domain": "usageLimits", "reason": "rateLimitExceeded"}],
            "details": [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {
                    "service": service,
                    "consumer": format!("projects/{project_number}"),
                    "quota_metric": format!("{service}/default"),
                    "quota_limit": "defaultPerMinutePerProject",
                },
            }],
        }}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_limited() {
        let run = || {
            let f = Faults::new(FaultPlan::quota(0.5).with_seed(7));
            (0..40)
                .map(|_| f.next("compute.googleapis.com", 1).is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
        let f = Faults::new(FaultPlan::unavailable(1.0).with_max(2));
        let hits: Vec<_> = (0..5).filter_map(|_| f.next("x", 1)).collect();
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].body["error"]["status"], "UNAVAILABLE");
        assert!(FaultPlan::quota(2.0).validate().is_err());
    }
}
