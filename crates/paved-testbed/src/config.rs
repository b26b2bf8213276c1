//! Fault configuration: which faults to inject, how often, and to which requests.
//!
//! A [`FaultConfig`] is plain data. It is given to
//! [`FaultProxy::start`](crate::FaultProxy::start), replaced at run time with
//! [`ProxyHandle::set_config`](crate::ProxyHandle::set_config) or
//! `POST /__paved_proxy/config`, and serialises to and from JSON with the
//! field names shown below (missing fields take their defaults; unknown
//! fields are rejected so that typos do not go unnoticed).

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Tolerance when checking that the fault rates add up to at most 1.
const RATE_SUM_EPSILON: f64 = 1e-9;

/// How the proxy misbehaves.
///
/// For every request that is *eligible* (see [`FaultConfig::is_eligible`])
/// the proxy draws three numbers from its seeded RNG, always in the same
/// order, so the same seed and the same sequence of requests give the same
/// faults:
///
/// 1. latency: with probability `latency_rate` the request is delayed by
///    `latency_ms` plus a uniform `0..=jitter_ms` before anything else
///    happens;
/// 2. the jitter amount;
/// 3. the fault: one uniform draw `u` in `[0, 1)` picks at most one fault
///    from consecutive bands, in this order: throttle (`u < throttle_rate`),
///    HTTP 500, HTTP 503, dropped connection. The rates must therefore add
///    up to at most 1; each rate is then exactly the probability of its
///    fault.
///
/// The default injects nothing (all rates 0, no latency).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Fixed delay added to delayed requests, in milliseconds.
    pub latency_ms: u64,
    /// Upper bound of the uniform extra delay added on top of `latency_ms`.
    pub jitter_ms: u64,
    /// Probability (0.0-1.0) that an eligible request is delayed. Default 1.0,
    /// so setting `latency_ms` alone delays every eligible request.
    pub latency_rate: f64,
    /// Probability of answering with the protocol's throttling error.
    pub throttle_rate: f64,
    /// Probability of answering with an HTTP 500 internal error.
    pub error_500_rate: f64,
    /// Probability of answering with an HTTP 503 service-unavailable error.
    pub error_503_rate: f64,
    /// Probability of reading the request and then closing the connection
    /// without any answer.
    pub drop_rate: f64,
    /// Seed of the RNG. `None` picks one from the clock; the seed in use is
    /// reported in [`Stats::seed`](crate::Stats::seed).
    pub seed: Option<u64>,
    /// Only requests to these services (signing names such as `ec2`, `iam`,
    /// `eks`, case-insensitive) get faults. Empty means every service.
    pub services: Vec<String>,
    /// Only requests with these actions get faults. An entry is an action
    /// (`DescribeVpcs`, `GET /clusters/{id}`) or `service:action`
    /// (`ec2:DescribeVpcs`). Empty means every action.
    pub actions: Vec<String>,
    /// Requests with these actions never get faults (same entry syntax as
    /// `actions`). Also accepted as `exempt` in JSON.
    #[serde(alias = "exempt")]
    pub exempt_actions: Vec<String>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            jitter_ms: 0,
            latency_rate: 1.0,
            throttle_rate: 0.0,
            error_500_rate: 0.0,
            error_503_rate: 0.0,
            drop_rate: 0.0,
            seed: None,
            services: Vec::new(),
            actions: Vec::new(),
            exempt_actions: Vec::new(),
        }
    }
}

impl FaultConfig {
    /// A configuration that injects nothing: a pure counting proxy.
    pub fn none() -> Self {
        Self::default()
    }

    /// Sets the fixed latency and the jitter bound, in milliseconds.
    pub fn with_latency(mut self, latency_ms: u64, jitter_ms: u64) -> Self {
        self.latency_ms = latency_ms;
        self.jitter_ms = jitter_ms;
        self
    }

    /// Sets the throttling-error rate.
    pub fn with_throttle_rate(mut self, rate: f64) -> Self {
        self.throttle_rate = rate;
        self
    }

    /// Sets the HTTP 500 rate.
    pub fn with_error_500_rate(mut self, rate: f64) -> Self {
        self.error_500_rate = rate;
        self
    }

    /// Sets the HTTP 503 rate.
    pub fn with_error_503_rate(mut self, rate: f64) -> Self {
        self.error_503_rate = rate;
        self
    }

    /// Sets the dropped-connection rate.
    pub fn with_drop_rate(mut self, rate: f64) -> Self {
        self.drop_rate = rate;
        self
    }

    /// Sets the RNG seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Limits faults to these services.
    pub fn with_services<I, S>(mut self, services: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.services = services.into_iter().map(Into::into).collect();
        self
    }

    /// Limits faults to these actions (`Action` or `service:Action`).
    pub fn with_actions<I, S>(mut self, actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.actions = actions.into_iter().map(Into::into).collect();
        self
    }

    /// Exempts these actions (`Action` or `service:Action`) from faults.
    pub fn with_exempt_actions<I, S>(mut self, actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exempt_actions = actions.into_iter().map(Into::into).collect();
        self
    }

    /// Checks that every rate is within 0.0-1.0 and that the four fault
    /// rates add up to at most 1.
    pub fn validate(&self) -> Result<(), Error> {
        let rates = [
            ("latency_rate", self.latency_rate),
            ("throttle_rate", self.throttle_rate),
            ("error_500_rate", self.error_500_rate),
            ("error_503_rate", self.error_503_rate),
            ("drop_rate", self.drop_rate),
        ];
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(Error::InvalidConfig(format!(
                    "{name} must be between 0.0 and 1.0, got {rate}"
                )));
            }
        }
        let sum = self.throttle_rate + self.error_500_rate + self.error_503_rate + self.drop_rate;
        if sum > 1.0 + RATE_SUM_EPSILON {
            return Err(Error::InvalidConfig(format!(
                "throttle_rate + error_500_rate + error_503_rate + drop_rate must be at most 1.0, got {sum}"
            )));
        }
        Ok(())
    }

    /// Whether a request classified as (`service`, `action`) may get faults:
    /// it passes the `services` and `actions` filters and is not exempt.
    pub fn is_eligible(&self, service: &str, action: &str) -> bool {
        let service_ok = self.services.is_empty()
            || self
                .services
                .iter()
                .any(|s| s.eq_ignore_ascii_case(service));
        let action_ok = self.actions.is_empty()
            || self
                .actions
                .iter()
                .any(|entry| action_matches(entry, service, action));
        let exempt = self
            .exempt_actions
            .iter()
            .any(|entry| action_matches(entry, service, action));
        service_ok && action_ok && !exempt
    }

    /// Whether any latency can be injected at all.
    pub(crate) fn has_latency(&self) -> bool {
        (self.latency_ms > 0 || self.jitter_ms > 0) && self.latency_rate > 0.0
    }
}

/// `entry` is `Action` or `service:Action`; the service part is
/// case-insensitive, the action part exact.
fn action_matches(entry: &str, service: &str, action: &str) -> bool {
    if entry == action {
        return true;
    }
    match entry.split_once(':') {
        Some((svc, act)) => svc.eq_ignore_ascii_case(service) && act == action,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_injects_nothing_and_is_valid() {
        let c = FaultConfig::default();
        assert!(c.validate().is_ok());
        assert!(!c.has_latency());
        assert_eq!(c.latency_rate, 1.0);
    }

    #[test]
    fn rates_are_checked() {
        assert!(FaultConfig::none()
            .with_throttle_rate(1.5)
            .validate()
            .is_err());
        assert!(FaultConfig::none().with_drop_rate(-0.1).validate().is_err());
        assert!(FaultConfig::none()
            .with_throttle_rate(0.6)
            .with_error_500_rate(0.6)
            .validate()
            .is_err());
        assert!(FaultConfig::none()
            .with_throttle_rate(0.1)
            .with_error_500_rate(0.2)
            .with_error_503_rate(0.3)
            .with_drop_rate(0.4)
            .validate()
            .is_ok());
        let nan = FaultConfig {
            throttle_rate: f64::NAN,
            ..FaultConfig::default()
        };
        assert!(nan.validate().is_err());
    }

    #[test]
    fn eligibility_filters() {
        let c = FaultConfig::none();
        assert!(c.is_eligible("ec2", "DescribeVpcs"));

        let c = FaultConfig::none().with_services(["EC2"]);
        assert!(c.is_eligible("ec2", "DescribeVpcs"));
        assert!(!c.is_eligible("iam", "GetRole"));

        let c = FaultConfig::none().with_actions(["ec2:DescribeVpcs", "GetRole"]);
        assert!(c.is_eligible("ec2", "DescribeVpcs"));
        assert!(c.is_eligible("iam", "GetRole"));
        assert!(!c.is_eligible("ec2", "DescribeSubnets"));
        assert!(!c.is_eligible("rds", "DescribeVpcs"));

        let c = FaultConfig::none().with_exempt_actions(["DescribeVpcs", "iam:GetRole"]);
        assert!(!c.is_eligible("ec2", "DescribeVpcs"));
        assert!(!c.is_eligible("iam", "GetRole"));
        assert!(c.is_eligible("sts", "GetRole"));
        assert!(c.is_eligible("ec2", "DescribeSubnets"));
    }

    #[test]
    fn json_round_trip_and_aliases() {
        let c: FaultConfig = serde_json::from_str(
            r#"{"throttle_rate":0.5,"exempt":["GetCallerIdentity"],"seed":7}"#,
        )
        .unwrap_or_else(|e| panic!("parse: {e}"));
        assert_eq!(c.throttle_rate, 0.5);
        assert_eq!(c.exempt_actions, vec!["GetCallerIdentity".to_string()]);
        assert_eq!(c.seed, Some(7));
        assert_eq!(c.latency_rate, 1.0);
        let back: FaultConfig = serde_json::from_value(
            serde_json::to_value(&c).unwrap_or_else(|e| panic!("to_value: {e}")),
        )
        .unwrap_or_else(|e| panic!("from_value: {e}"));
        assert_eq!(back, c);
        assert!(serde_json::from_str::<FaultConfig>(r#"{"throttle":0.5}"#).is_err());
    }
}
