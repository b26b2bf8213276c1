//! Request and fault counters, and their JSON snapshot [`Stats`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::faults::FaultKind;

/// How many faults of each kind were injected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultCounts {
    /// Requests that were delayed (latency injected).
    pub latency: u64,
    /// Throttling errors returned.
    pub throttle: u64,
    /// HTTP 500 errors returned.
    pub error_500: u64,
    /// HTTP 503 errors returned.
    pub error_503: u64,
    /// Connections dropped without an answer.
    pub drop: u64,
}

impl FaultCounts {
    /// Errors and drops together (latency is not counted: a delayed request
    /// still gets its answer).
    pub fn failures(&self) -> u64 {
        self.throttle + self.error_500 + self.error_503 + self.drop
    }

    pub(crate) fn add(&mut self, kind: FaultKind) {
        match kind {
            FaultKind::Throttle => self.throttle += 1,
            FaultKind::Error500 => self.error_500 += 1,
            FaultKind::Error503 => self.error_503 += 1,
            FaultKind::Drop => self.drop += 1,
        }
    }
}

/// A snapshot of the proxy's counters; `GET /__paved_proxy/stats` returns it
/// as JSON. Control-plane requests are never counted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// Requests received (faulted or not) since start or the last reset.
    pub total: u64,
    /// Requests being handled right now (from the request head until the
    /// response head is sent, or the connection is dropped).
    pub in_flight: u64,
    /// The highest `in_flight` seen since start or the last reset.
    pub max_in_flight: u64,
    /// Forwarded requests for which the upstream could not be reached or
    /// failed (answered with 502), or whose body was too large (413).
    pub upstream_errors: u64,
    /// Request counts by service, then action.
    pub by_service: BTreeMap<String, BTreeMap<String, u64>>,
    /// Injected faults, all requests together.
    pub faults: FaultCounts,
    /// Injected faults by service, then action (only pairs that got one).
    pub faults_by_service: BTreeMap<String, BTreeMap<String, FaultCounts>>,
    /// The RNG seed in use (the configured one, or the one picked).
    pub seed: u64,
    /// Requests answered from a recorded answer instead of the upstream (see
    /// [`replay`](crate::replay)); they are counted in `total` and
    /// `by_service` too.
    pub replayed: u64,
    /// Replayed requests by service, then action.
    pub replayed_by_service: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Stats {
    /// Requests counted for `service` and `action`.
    pub fn count(&self, service: &str, action: &str) -> u64 {
        self.by_service
            .get(service)
            .and_then(|actions| actions.get(action))
            .copied()
            .unwrap_or(0)
    }

    /// Requests counted for `service`, all actions together.
    pub fn service_total(&self, service: &str) -> u64 {
        self.by_service
            .get(service)
            .map(|actions| actions.values().sum())
            .unwrap_or(0)
    }

    /// Requests for `service` and `action` answered from a record.
    pub fn replayed_count(&self, service: &str, action: &str) -> u64 {
        self.replayed_by_service
            .get(service)
            .and_then(|actions| actions.get(action))
            .copied()
            .unwrap_or(0)
    }

    /// Faults injected into `service`/`action`.
    pub fn faults_for(&self, service: &str, action: &str) -> FaultCounts {
        self.faults_by_service
            .get(service)
            .and_then(|actions| actions.get(action))
            .copied()
            .unwrap_or_default()
    }
}

/// The mutable counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) stats: Stats,
}

impl Counters {
    pub(crate) fn request_started(&mut self) {
        self.stats.in_flight += 1;
        self.stats.max_in_flight = self.stats.max_in_flight.max(self.stats.in_flight);
    }

    pub(crate) fn request_finished(&mut self) {
        self.stats.in_flight = self.stats.in_flight.saturating_sub(1);
    }

    pub(crate) fn count(&mut self, service: &str, action: &str) {
        self.stats.total += 1;
        *self
            .stats
            .by_service
            .entry(service.to_string())
            .or_default()
            .entry(action.to_string())
            .or_default() += 1;
    }

    fn faults_entry(&mut self, service: &str, action: &str) -> &mut FaultCounts {
        self.stats
            .faults_by_service
            .entry(service.to_string())
            .or_default()
            .entry(action.to_string())
            .or_default()
    }

    pub(crate) fn latency(&mut self, service: &str, action: &str) {
        self.stats.faults.latency += 1;
        self.faults_entry(service, action).latency += 1;
    }

    pub(crate) fn fault(&mut self, service: &str, action: &str, kind: FaultKind) {
        self.stats.faults.add(kind);
        self.faults_entry(service, action).add(kind);
    }

    pub(crate) fn replayed(&mut self, service: &str, action: &str) {
        self.stats.replayed += 1;
        *self
            .stats
            .replayed_by_service
            .entry(service.to_string())
            .or_default()
            .entry(action.to_string())
            .or_default() += 1;
    }

    pub(crate) fn upstream_error(&mut self) {
        self.stats.upstream_errors += 1;
    }

    /// Zeroes everything except the requests still in flight, which become
    /// the new maximum.
    pub(crate) fn reset(&mut self) {
        let in_flight = self.stats.in_flight;
        let seed = self.stats.seed;
        self.stats = Stats {
            in_flight,
            max_in_flight: in_flight,
            seed,
            ..Stats::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_and_reset() {
        let mut c = Counters::default();
        c.request_started();
        c.request_started();
        c.count("ec2", "DescribeVpcs");
        c.count("ec2", "DescribeVpcs");
        c.fault("ec2", "DescribeVpcs", FaultKind::Throttle);
        c.latency("ec2", "DescribeVpcs");
        c.replayed("ec2", "DescribeVpcs");
        c.request_finished();
        assert_eq!(c.stats.replayed, 1);
        assert_eq!(c.stats.replayed_count("ec2", "DescribeVpcs"), 1);
        assert_eq!(c.stats.replayed_count("ec2", "DescribeSubnets"), 0);
        assert_eq!(c.stats.total, 2);
        assert_eq!(c.stats.max_in_flight, 2);
        assert_eq!(c.stats.in_flight, 1);
        assert_eq!(c.stats.count("ec2", "DescribeVpcs"), 2);
        assert_eq!(c.stats.service_total("ec2"), 2);
        assert_eq!(c.stats.faults.failures(), 1);
        assert_eq!(c.stats.faults_for("ec2", "DescribeVpcs").latency, 1);
        c.reset();
        assert_eq!(c.stats.total, 0);
        assert_eq!(c.stats.replayed, 0);
        assert_eq!(c.stats.max_in_flight, 1);
        assert!(c.stats.by_service.is_empty());
        c.request_finished();
        c.request_finished();
        assert_eq!(c.stats.in_flight, 0);
    }
}
