//! Checks made before any cloud or cluster call: errors that stop the plan (each
//! naming the attribute and what to do) and warnings for risky choices.

use paved_value::{Path, Value};

use super::config::{ModeWord, ObservabilityConfig, Settings};
use super::render::plan_spec;
use super::schema::{receiver_types, schema, MAX_NAME_LEN, RECEIVER_TYPES};
use crate::delivery::Delivery;
use crate::diag::Diagnostics;
use crate::profiles::Profile;
use crate::schema::declared::check_block;
use crate::stack::Knowable;

/// Bytes one sample takes on disk, compressed, with its share of the index: the
/// figure the retention warning assumes (Prometheus reports 1-2 bytes).
const BYTES_PER_SAMPLE: f64 = 2.0;

fn attr(name: &str) -> Path {
    Path::root().attr(name)
}

fn check_name(cfg: &ObservabilityConfig, d: &mut Diagnostics) {
    let Knowable::Known(name) = &cfg.name else {
        return;
    };
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-');
    if !ok {
        d.attribute_error(
            attr("name"),
            "Invalid stack name",
            format!(
                "\"{name}\" cannot name the stack's buckets and identities: use lower-case letters, digits and \
                 '-', starting with a letter, at most {MAX_NAME_LEN} characters (\"shop-obs\")."
            ),
        );
    }
}

fn check_receivers(cfg: &ObservabilityConfig, s: &Settings, d: &mut Diagnostics) {
    let receivers_path = attr("alerting").attr("receivers");
    for (name, r) in s.alerting.receivers.iter().flatten() {
        let at = receivers_path.clone().key(name.as_str());
        if !RECEIVER_TYPES.contains(&r.kind.as_str()) {
            d.attribute_error(
                at.clone().attr("type"),
                "Unknown receiver type",
                format!(
                    "\"{}\" is not a receiver type: use one of {}.",
                    r.kind,
                    receiver_types()
                ),
            );
        }
        if r.secret.trim().is_empty() {
            d.attribute_error(
                at.clone().attr("secret"),
                "Missing secret reference",
                "Give the secret store reference (a Secrets Manager ARN) holding the receiver's URL, key or password.",
            );
        }
        let needs: &[(&str, &Option<String>)] = match r.kind.as_str() {
            "slack" => &[("channel", &r.channel)],
            "email" => &[
                ("to", &r.to),
                ("from", &r.from),
                ("smarthost", &r.smarthost),
                ("username", &r.username),
            ],
            _ => &[],
        };
        for (field, value) in needs {
            if value.as_deref().is_none_or(str::is_empty) {
                d.attribute_error(
                    at.clone().attr(*field),
                    "Receiver setting missing",
                    format!("A {} receiver needs `{field}`.", r.kind),
                );
            }
        }
        if cfg.mode == Knowable::Known(ModeWord::Managed)
            && !matches!(r.kind.as_str(), "email" | "webhook")
        {
            d.attribute_error(
                at.attr("type"),
                "Receiver not available in managed mode",
                format!(
                    "Amazon Managed Prometheus sends alerts only to SNS, which reaches e-mail and HTTPS webhooks: \
                     a {} receiver cannot be served. Use mode = \"self_hosted\", or an e-mail or webhook receiver.",
                    r.kind
                ),
            );
        }
    }
    if cfg.delivery == Knowable::Known(Delivery::Gitops)
        && (s.alerting.receivers.as_ref().is_some_and(|r| !r.is_empty())
            || s.alerting.heartbeat_secret.is_some())
        && cfg.mode == Knowable::Known(ModeWord::SelfHosted)
    {
        d.attribute_error(
            attr("delivery"),
            "Receiver secrets cannot go to a GitOps repository",
            "With delivery = \"gitops\" paved would have to write the receivers' secrets into your repository. Use \
             delivery = \"direct\" (paved writes them only into a Kubernetes Secret), or configure the receivers \
             outside paved.",
        );
    }
}

/// The renderer's own checks (matchers, receivers in routes, durations, PromQL,
/// rule names), each reported on the attribute it comes from.
fn check_rendering(cfg: &ObservabilityConfig, d: &mut Diagnostics) {
    let Some(spec) = plan_spec(cfg) else {
        return;
    };
    let top = schema().block;
    for problem in paved_observability::validate(&spec) {
        let first = problem.path.split(['.', '[']).next().unwrap_or_default();
        let path = if top.find_attribute(first).is_some() {
            attr(first)
        } else {
            Path::root()
        };
        d.attribute_error(
            path,
            "Invalid observability setting",
            format!("{}: {}", problem.path, problem.message),
        );
    }
}

fn warn(cfg: &ObservabilityConfig, s: &Settings, d: &mut Diagnostics) {
    let production = cfg.profile == Knowable::Known(Profile::Production);
    let m = &s.metrics;
    let interval = crate::stack::timeouts::parse_duration(&m.scrape_interval)
        .map_or(30.0, |i| i.as_secs_f64().max(1.0));
    let per_day = f64::from(m.expected_series) * 86_400.0 / interval * BYTES_PER_SAMPLE;
    let needed_gb = per_day * f64::from(m.retention_days) / 1e9;
    let usable_gb = f64::from(m.volume_size_gb) * 0.85;
    if needed_gb > usable_gb {
        d.attribute_warning(
            attr("metrics").attr("retention_days"),
            "Retention will not fit the volume",
            format!(
                "{} days of {} series every {}s take about {needed_gb:.0} GB, more than the {usable_gb:.0} GB (85% of \
                 {} GB) Prometheus may use: the oldest data goes before {} days. Raise metrics.volume_size_gb, or \
                 lower the retention.",
                m.retention_days, m.expected_series, interval, m.volume_size_gb, m.retention_days
            ),
        );
    }
    if production && cfg.mode == Knowable::Known(ModeWord::SelfHosted) && s.alerting.replicas < 2 {
        d.attribute_warning(
            attr("alerting").attr("replicas"),
            "One Alertmanager in production",
            "A single Alertmanager is down during every node drain and upgrade, and alerts go nowhere meanwhile. \
             Use 3 (the production default).",
        );
    }
    if s.alerting.receivers.as_ref().is_none_or(|r| r.is_empty()) {
        d.attribute_warning(
            attr("alerting").attr("receivers"),
            "No receiver: alerts go nowhere",
            "Alerts will fire and be seen in Alertmanager and Grafana, but nobody is notified. Add a receiver \
             (Slack, e-mail, webhook or PagerDuty) with its secret's reference.",
        );
    }
}

/// Every check of `cfg` that needs no cloud call.
pub fn check(cfg: &ObservabilityConfig, config: &Value) -> Diagnostics {
    let mut d = check_block(&schema().block, config);
    check_name(cfg, &mut d);
    if let Knowable::Known(c) = &cfg.cluster {
        if !matches!(c.platform.as_deref(), Some("eks" | "gke")) {
            d.attribute_error(
                attr("cluster").attr("platform"),
                "Unknown cluster platform",
                "Give the cluster's `connection` output whole (`cluster = paved_ha_cluster.main.connection`).",
            );
        }
    }
    if cfg.delivery == Knowable::Known(Delivery::Gitops) && cfg.gitops_path == Knowable::Known(None)
    {
        d.attribute_error(
            attr("gitops_path"),
            "gitops_path is required",
            "With delivery = \"gitops\", set gitops_path to the folder of your GitOps repository the files go to.",
        );
    }
    if let Knowable::Known(s) = &cfg.settings {
        if let Err(e) = paved_observability::check_duration(&s.metrics.scrape_interval) {
            d.attribute_error(
                attr("metrics").attr("scrape_interval"),
                "Invalid scrape interval",
                format!(
                    "\"{}\": {e}. Use a duration such as \"30s\" or \"1m\".",
                    s.metrics.scrape_interval
                ),
            );
        }
        check_receivers(cfg, s, &mut d);
        if !d.has_errors() {
            check_rendering(cfg, &mut d);
        }
        warn(cfg, s, &mut d);
    }
    d
}

/// Checks of a change: volumes never shrink.
pub fn check_change(prior: &ObservabilityConfig, cfg: &ObservabilityConfig) -> Diagnostics {
    let mut d = Diagnostics::new();
    let (Knowable::Known(before), Knowable::Known(after)) = (&prior.settings, &cfg.settings) else {
        return d;
    };
    let sizes = [
        (
            "metrics",
            before.metrics.volume_size_gb,
            after.metrics.volume_size_gb,
        ),
        (
            "logs",
            before.logs.volume_size_gb,
            after.logs.volume_size_gb,
        ),
        (
            "traces",
            before.traces.volume_size_gb,
            after.traces.volume_size_gb,
        ),
    ];
    for (section, was, now) in sizes {
        if now < was {
            d.attribute_error(
                attr(section).attr("volume_size_gb"),
                "Volumes cannot shrink",
                format!(
                    "{section}.volume_size_gb goes from {was} to {now} GB; Kubernetes volumes only grow. Keep {was} \
                     (or more)."
                ),
            );
        }
    }
    d
}
