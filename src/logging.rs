//! Logs on stderr as JSON lines in the format Terraform's plugin client reads
//! (`@level`, `@message`, `@timestamp`, `@module`), so `TF_LOG` shows them in
//! Terraform's own log. Fields whose names suggest a secret are redacted here, as a
//! last line of defence: code never logs secret values in the first place.

use std::io::Write;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{filter_fn, FilterFn, LevelFilter};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// The module name Terraform shows next to paved's log lines.
pub const MODULE: &str = "provider.terraform-provider-paved";

/// Field-name fragments whose values are never written to the log.
const SECRET_FRAGMENTS: &[&str] = &[
    "password",
    "secret",
    "token",
    "credential",
    "private_key",
    "access_key",
    "session",
    "kubeconfig",
];

/// What replaces a redacted value.
pub const REDACTED: &str = "(redacted)";

/// Chooses the log level from `TF_LOG_PROVIDER_PAVED`, `TF_LOG_PROVIDER` or `TF_LOG`
/// (TRACE, DEBUG, INFO, WARN, ERROR, OFF; JSON means TRACE). Unset means WARN.
pub fn level_from_env(lookup: impl Fn(&str) -> Option<String>) -> Option<Level> {
    let raw = ["TF_LOG_PROVIDER_PAVED", "TF_LOG_PROVIDER", "TF_LOG"]
        .iter()
        .find_map(|k| lookup(k).filter(|v| !v.trim().is_empty()));
    match raw.as_deref().map(|v| v.trim().to_ascii_uppercase()) {
        None => Some(Level::WARN),
        Some(v) => match v.as_str() {
            "TRACE" | "JSON" => Some(Level::TRACE),
            "DEBUG" => Some(Level::DEBUG),
            "INFO" => Some(Level::INFO),
            "WARN" => Some(Level::WARN),
            "ERROR" => Some(Level::ERROR),
            "OFF" => None,
            _ => Some(Level::TRACE),
        },
    }
}

/// Installs the JSON-lines logger on stderr as the global subscriber, and the
/// benchmarks' phase marks ([`crate::phases`]) when they are on. Mark events never
/// reach the log.
pub fn init() {
    let level = level_from_env(|k| std::env::var(k).ok());
    // A second init (in tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(JsonLines.with_filter(logged(level)))
        .with(crate::phases::layer())
        .try_init();
}

/// What reaches the log: events at `level` or more severe, marks never. The level
/// is the filter's, not the layer's: a layer behind a per-layer filter is not asked
/// whether it wants an event once its callsite is known, so a level checked in the
/// layer would let every event of every dependency through, formatted and written
/// (the AWS SDK traces each call in dozens of events). Here it also disables the
/// callsites above the level, so their events are never built.
fn logged(level: Option<Level>) -> FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool> {
    let max = LevelFilter::from(level);
    filter_fn(move |m| *m.level() <= max && !crate::phases::is_mark(m)).with_max_level_hint(max)
}

/// A tracing layer writing one hclog-compatible JSON object per event to stderr.
pub struct JsonLines;

impl<S: Subscriber> Layer<S> for JsonLines {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let line = format_event(event);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

/// Formats one event as a JSON line.
fn format_event(event: &Event<'_>) -> String {
    let mut fields = FieldCollector::default();
    event.record(&mut fields);
    let mut obj = serde_json::Map::new();
    obj.insert(
        "@level".into(),
        hclog_level(*event.metadata().level()).into(),
    );
    obj.insert("@message".into(), fields.message.unwrap_or_default().into());
    obj.insert("@module".into(), MODULE.into());
    obj.insert("@timestamp".into(), timestamp().into());
    obj.insert("@caller".into(), event.metadata().target().into());
    for (k, v) in fields.fields {
        obj.insert(k, v);
    }
    serde_json::Value::Object(obj).to_string()
}

fn hclog_level(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// The timestamp layout go-plugin parses (`2006-01-02T15:04:05.000000Z07:00`):
/// exactly six fractional digits. A line whose timestamp does not parse is shown raw
/// instead of at its level.
const TIMESTAMP: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

fn timestamp() -> String {
    time::OffsetDateTime::now_utc()
        .format(TIMESTAMP)
        .unwrap_or_default()
}

/// True when a field of this name must not have its value logged.
pub fn is_secret_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_FRAGMENTS.iter().any(|f| lower.contains(f))
}

#[derive(Default)]
struct FieldCollector {
    message: Option<String>,
    fields: Vec<(String, serde_json::Value)>,
}

impl FieldCollector {
    fn push(&mut self, field: &Field, value: serde_json::Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            });
        } else if is_secret_field(field.name()) {
            self.fields
                .push((field.name().to_string(), REDACTED.into()));
        } else {
            self.fields.push((field.name().to_string(), value));
        }
    }
}

impl Visit for FieldCollector {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.push(field, format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A layer that formats like [`JsonLines`] but keeps the lines in memory.
    struct Capture(Arc<Mutex<Vec<String>>>);
    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
            if let Ok(mut lines) = self.0.lock() {
                lines.push(format_event(event));
            }
        }
    }

    #[test]
    fn lines_have_terraform_keys_and_redact_secrets() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Capture(lines.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                region = "eu-west-1",
                master_password = "hunter2",
                "reading zones"
            );
        });
        let lines = lines.lock().expect("lock");
        assert_eq!(lines.len(), 1);
        let v: serde_json::Value = serde_json::from_str(&lines[0]).expect("json line");
        assert_eq!(v["@level"], "info");
        assert_eq!(v["@message"], "reading zones");
        assert_eq!(v["@module"], MODULE);
        assert_eq!(v["region"], "eu-west-1");
        assert_eq!(v["master_password"], REDACTED);
        let ts = v["@timestamp"].as_str().expect("timestamp");
        // 2026-11-21T23:29:46.472054Z: six fractional digits, as go-plugin expects.
        assert_eq!(ts.len(), 27, "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[19] == b'.', "{ts}");
        assert!(!lines[0].contains("hunter2"));
    }

    #[test]
    fn the_filter_keeps_the_level_and_drops_marks() {
        for (level, expected) in [
            (Some(Level::WARN), vec!["warn", "error"]),
            (Some(Level::DEBUG), vec!["debug", "info", "warn", "error"]),
            (None, vec![]),
        ] {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let subscriber = tracing_subscriber::registry()
                .with(Capture(lines.clone()).with_filter(logged(level)));
            tracing::subscriber::with_default(subscriber, || {
                tracing::trace!(target: "aws_smithy_runtime", "trace");
                tracing::debug!("debug");
                tracing::info!("info");
                tracing::info!(target: crate::phases::TARGET, mark = "main", "mark");
                tracing::warn!("warn");
                tracing::error!(target: "hyper", "error");
            });
            let messages: Vec<String> = lines
                .lock()
                .expect("lock")
                .iter()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).expect("json line");
                    v["@message"].as_str().unwrap_or_default().to_owned()
                })
                .collect();
            assert_eq!(messages, expected, "at level {level:?}");
        }
    }

    #[test]
    fn level_follows_tf_log() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(level_from_env(env(&[])), Some(Level::WARN));
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "debug")])),
            Some(Level::DEBUG)
        );
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "debug"), ("TF_LOG_PROVIDER", "ERROR")])),
            Some(Level::ERROR)
        );
        assert_eq!(level_from_env(env(&[("TF_LOG", "off")])), None);
    }
}
