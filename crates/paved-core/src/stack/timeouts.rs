//! Timeouts: the `timeouts` block every stack resource has, its duration strings
//! (Go duration syntax with the units `h`, `m` and `s`, as users write them for every
//! provider: `30m`, `1h30m`, `90s`, `1.5h`) and the way messages print a duration.

use std::time::Duration;

use super::knowable::Knowable;

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// The `timeouts` block, as written or defaulted. Parse with [`parse_duration`]
/// (validation has checked them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutsSpec {
    /// Create timeout (`60m`).
    pub create: Knowable<String>,
    /// Update timeout.
    pub update: Knowable<String>,
    /// Delete timeout.
    pub delete: Knowable<String>,
}

/// Parses a timeout such as `30m`, `1h30m`, `90s` or `1.5h` (Go duration syntax with
/// the units h, m and s). `None` when malformed or zero.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut seconds = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(number_len);
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        let unit_len = tail
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            _ => return None,
        };
        seconds += value * scale;
        rest = tail;
    }
    (seconds > 0.0 && seconds.is_finite() && seconds < 1e9)
        .then(|| Duration::from_secs_f64(seconds))
}

/// Formats a duration the way Go (and so Terraform) prints one: `20m0s`, `1h30m0s`,
/// `45s`, `1.5s`, `250ms`. Used in messages so users see the notation they write.
pub fn format_duration(duration: Duration) -> String {
    if duration.is_zero() {
        return "0s".to_owned();
    }
    let total_nanos = duration.as_nanos();
    if total_nanos < NANOS_PER_SECOND {
        let (scale, unit) = if total_nanos < 1_000 {
            (1, "ns")
        } else if total_nanos < 1_000_000 {
            (1_000, "µs")
        } else {
            (1_000_000, "ms")
        };
        return format!("{}{unit}", with_fraction(total_nanos, scale));
    }
    let seconds = duration.as_secs();
    let hours = seconds / 3_600;
    let minutes = (seconds % 3_600) / 60;
    let secs_nanos =
        u128::from(seconds % 60) * NANOS_PER_SECOND + u128::from(duration.subsec_nanos());
    let secs = with_fraction(secs_nanos, NANOS_PER_SECOND);
    if hours > 0 {
        format!("{hours}h{minutes}m{secs}s")
    } else if minutes > 0 {
        format!("{minutes}m{secs}s")
    } else {
        format!("{secs}s")
    }
}

/// `value / scale` with the remainder as a decimal fraction, trailing zeros removed.
fn with_fraction(value: u128, scale: u128) -> String {
    let whole = value / scale;
    let remainder = value % scale;
    if remainder == 0 {
        return whole.to_string();
    }
    let width = scale.to_string().len() - 1;
    let fraction = format!("{remainder:0width$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    #[test]
    fn parses_timeouts_as_users_write_them() {
        assert_eq!(parse_duration("30m"), Some(secs(1800)));
        assert_eq!(parse_duration("1h30m"), Some(secs(5400)));
        assert_eq!(parse_duration("90s"), Some(secs(90)));
        assert_eq!(parse_duration("1.5h"), Some(secs(5400)));
        for bad in ["", "0s", "30", "m", "1.h", ".5h", "10d", "-5m", "5 m"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_duration(secs(20 * 60)), "20m0s");
        assert_eq!(format_duration(secs(5400)), "1h30m0s");
        assert_eq!(format_duration(secs(45)), "45s");
        assert_eq!(format_duration(Duration::from_millis(5500)), "5.5s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(format_duration(Duration::from_nanos(7)), "7ns");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(secs(7200)), "2h0m0s");
    }
}
