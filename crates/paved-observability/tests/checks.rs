//! One test binary for the rendered configurations judged by the real programs (promtool, amtool, Prometheus, Alertmanager) and by their formats: one module per file beside this one. One binary
//! instead of 8 keeps a cold build's target directory smaller (each test binary
//! links the crate and its dependencies again).
//!
//! Run one module with `cargo test -p paved-observability --test checks -- MODULE::`.

mod grafana_fixture;
mod promtool_fixture;

mod alloy_config;
mod amtool_check;
mod grafana_config;
mod grafana_render;
mod loki_config;
mod loopback_alert;
mod promtool_check;
mod tempo_config;
