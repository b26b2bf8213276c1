//! For benchmarks: timed marks of one provider process's life, so a benchmark can say
//! where a plan's time goes inside paved's processes (start, TLS, serving, each RPC,
//! schema encoding, the cloud SDK's set-up, exit).
//!
//! Off unless `PAVED_PHASE_FILE` names a file; then each mark appends one line
//! `PID UNIX_MICROS NAME [DETAIL]` to it (wall-clock microseconds, so that the marks
//! of the three processes of one plan and Terraform's own trace line up). Code that
//! may not import this module (the cloud adapters) marks through `tracing` with the
//! target [`TARGET`] and a `mark` field (and an optional `detail`); [`layer`] turns
//! those events into lines, and the log layer leaves them out of Terraform's log.

use std::fs::File;
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::{filter_fn, FilterFn};
use tracing_subscriber::layer::{Context, Layer};

/// The environment variable naming the file marks are appended to.
pub const ENV: &str = "PAVED_PHASE_FILE";

/// The `tracing` target of mark events.
pub const TARGET: &str = "paved::phase";

/// The open file, or `None` when marks are off; decided once per process.
fn sink() -> &'static Option<Mutex<File>> {
    static SINK: OnceLock<Option<Mutex<File>>> = OnceLock::new();
    SINK.get_or_init(|| {
        let path = std::env::var_os(ENV)?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
            .map(Mutex::new)
    })
}

/// True when marks are written (`PAVED_PHASE_FILE` is set and could be opened).
pub fn enabled() -> bool {
    sink().is_some()
}

/// Appends the mark `name` (with `detail`, if any) stamped with the current time.
/// Does nothing when marks are off. The time is taken under the file's lock, so a
/// process's lines are in the order of their times even when concurrent requests
/// mark at once.
pub fn mark(name: &str, detail: Option<&str>) {
    let Some(file) = sink() else {
        return;
    };
    if let Ok(mut f) = file.lock() {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let line = format_line(std::process::id(), micros, name, detail);
        // One write per line: appends of a short line do not interleave.
        let _ = f.write_all(line.as_bytes());
    }
}

/// One line of the file: `PID UNIX_MICROS NAME [DETAIL]`, spaces in the name and
/// detail replaced so that the line splits on spaces.
fn format_line(pid: u32, micros: u128, name: &str, detail: Option<&str>) -> String {
    let clean = |s: &str| s.replace([' ', '\n'], "_");
    match detail {
        Some(d) => format!("{pid} {micros} {} {}\n", clean(name), clean(d)),
        None => format!("{pid} {micros} {}\n", clean(name)),
    }
}

/// True for the mark events [`layer`] records (and the log layer leaves out).
pub fn is_mark(metadata: &tracing::Metadata<'_>) -> bool {
    metadata.target() == TARGET
}

/// The layer writing mark events (target [`TARGET`]) to the file; `None` when marks
/// are off, so that a normal run installs nothing.
pub fn layer<S>() -> Option<impl Layer<S>>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    enabled().then(|| MarkLayer.with_filter(mark_filter()))
}

fn mark_filter() -> FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool> {
    filter_fn(is_mark)
}

/// Turns mark events into lines of the file.
struct MarkLayer;

impl<S: Subscriber> Layer<S> for MarkLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = MarkFields::default();
        event.record(&mut fields);
        if let Some(name) = fields.mark {
            mark(&name, fields.detail.as_deref());
        }
    }
}

#[derive(Default)]
struct MarkFields {
    mark: Option<String>,
    detail: Option<String>,
}

impl Visit for MarkFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "mark" => self.mark = Some(value.to_owned()),
            "detail" => self.detail = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_on_spaces() {
        assert_eq!(
            format_line(
                7,
                1_700_000_000_123_456,
                "rpc_end",
                Some("/tfplugin6.Provider/GetProviderSchema")
            ),
            "7 1700000000123456 rpc_end /tfplugin6.Provider/GetProviderSchema\n"
        );
        assert_eq!(
            format_line(7, 5, "sdk config", Some("a b\nc")),
            "7 5 sdk_config a_b_c\n"
        );
        assert_eq!(format_line(1, 2, "main", None), "1 2 main\n");
    }

    #[test]
    fn mark_events_are_told_apart_by_target() {
        use tracing_subscriber::layer::SubscriberExt;
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        type Seen = std::sync::Arc<Mutex<Vec<(String, Option<String>)>>>;
        struct Record(Seen);
        impl<S: Subscriber> Layer<S> for Record {
            fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
                let mut f = MarkFields::default();
                event.record(&mut f);
                if let (Some(m), Ok(mut v)) = (f.mark, self.0.lock()) {
                    v.push((m, f.detail));
                }
            }
        }
        let subscriber =
            tracing_subscriber::registry().with(Record(seen.clone()).with_filter(mark_filter()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "paved::phase", mark = "sdk_config_done", detail = "aws");
            tracing::info!(mark = "not_a_mark");
            tracing::info!(target: "paved::phase", mark = "exit");
        });
        let got = seen.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(
            got,
            vec![
                ("sdk_config_done".to_owned(), Some("aws".to_owned())),
                ("exit".to_owned(), None)
            ]
        );
    }
}
