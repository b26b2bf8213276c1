//! The provider process's clock: real, or scaled for benchmarks (`PAVED_TIME_SCALE`).

/// `PAVED_TIME_SCALE=N` (N > 1): waiters and retries run on a clock N times faster,
/// for benchmarks and tests against a stand-in that models provisioning time on the
/// same scale (see [`crate::stack::set_time_scale`]); read once at start. Never meant
/// for a real cloud.
pub fn time_scale_from_env() {
    let Ok(text) = std::env::var("PAVED_TIME_SCALE") else {
        return;
    };
    match text.trim().parse::<f64>() {
        Ok(scale) if crate::stack::set_time_scale(scale) => {
            tracing::warn!(
                scale,
                "PAVED_TIME_SCALE: waits run on a clock this many times faster (benchmarks only)"
            );
        }
        _ => tracing::warn!(value = %text, "PAVED_TIME_SCALE ignored: it must be a number above 1"),
    }
}
