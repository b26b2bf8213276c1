//! The Terraform `timeouts` block: parsing its duration strings and resolving them
//! against each resource's defaults.
//!
//! Strings follow Go's `time.ParseDuration`, which is what users know from every other
//! provider: a sequence of numbers with units, such as `"30m"`, `"1h30m"`, `"45s"` or
//! `"1.5h"`. Units are `h`, `m`, `s`, `ms`, `us` (or `µs`) and `ns`.

use std::fmt;
use std::time::Duration;

/// The resource operation a timeout applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Creating the resource.
    Create,
    /// Reading (refreshing) the resource.
    Read,
    /// Updating the resource in place.
    Update,
    /// Destroying the resource.
    Delete,
}

impl Operation {
    /// The attribute's name inside the `timeouts` block: `create`, `read`...
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    /// The attribute path users write, e.g. `timeouts.create`.
    pub fn attribute(self) -> String {
        format!("timeouts.{}", self.as_str())
    }

    /// The advice a waiter gives when this operation times out, e.g. "raise
    /// timeouts.create or check the AWS console".
    pub fn timeout_hint(self, console: &str) -> String {
        format!("raise {} or check {console}", self.attribute())
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `timeouts` value that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeoutError {
    /// The string is not a duration.
    #[error(
        "{attribute} = {value:?} is not a duration ({reason}); write a number with a \
         unit, like \"30m\", \"1h30m\" or \"45s\""
    )]
    Invalid {
        /// Where the value came from, e.g. `timeouts.create`.
        attribute: String,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The duration is zero, which would fail every operation at once.
    #[error("{attribute} = {value:?} is zero; give the operation time, e.g. \"30m\"")]
    Zero {
        /// Where the value came from.
        attribute: String,
        /// The value as written.
        value: String,
    },
}

/// Parses a Go-style duration such as `"1h30m"`. Errors name the value and say what
/// is wrong; `attribute` (e.g. `timeouts.create`) is used in them.
pub fn parse_duration(attribute: &str, value: &str) -> Result<Duration, TimeoutError> {
    parse_nanos(value.trim())
        .and_then(|nanos| {
            u64::try_from(nanos)
                .map(Duration::from_nanos)
                .map_err(|_| "too large".to_owned())
        })
        .map_err(|reason| TimeoutError::Invalid {
            attribute: attribute.to_owned(),
            value: value.to_owned(),
            reason,
        })
}

const NANOS_PER_SECOND: u128 = 1_000_000_000;

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SECOND,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3_600 * NANOS_PER_SECOND,
        _ => return None,
    })
}

fn parse_nanos(text: &str) -> Result<u128, String> {
    if text.is_empty() {
        return Err("it is empty".to_owned());
    }
    if text.starts_with('-') {
        return Err("it is negative".to_owned());
    }
    let text = text.strip_prefix('+').unwrap_or(text);
    if text == "0" {
        return Ok(0);
    }
    let too_large = || "too large".to_owned();
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(digits_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(format!("expected a number at {rest:?}"));
        }
        if fraction.contains('.') {
            return Err(format!("{number:?} has more than one decimal point"));
        }
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        if unit.is_empty() {
            return Err(format!("{number:?} has no unit (h, m, s or ms)"));
        }
        let Some(scale) = unit_nanos(unit) else {
            return Err(format!("unknown unit {unit:?}; use h, m, s or ms"));
        };

        let whole_value: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_large())?
        };
        let mut amount = whole_value.checked_mul(scale).ok_or_else(too_large)?;
        // Digits beyond nanosecond precision cannot matter; ignore them.
        let fraction = &fraction[..fraction.len().min(18)];
        if !fraction.is_empty() {
            let numerator: u128 = fraction.parse().map_err(|_| too_large())?;
            let denominator = 10u128.pow(fraction.len() as u32);
            let part = numerator.checked_mul(scale).ok_or_else(too_large)? / denominator;
            amount = amount.checked_add(part).ok_or_else(too_large)?;
        }
        total = total.checked_add(amount).ok_or_else(too_large)?;
        rest = next;
    }
    Ok(total)
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

/// A resource's `timeouts` block as written: each entry is the raw string, or `None`
/// when the user left it out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeoutsBlock {
    /// `timeouts.create`.
    pub create: Option<String>,
    /// `timeouts.read`.
    pub read: Option<String>,
    /// `timeouts.update`.
    pub update: Option<String>,
    /// `timeouts.delete`.
    pub delete: Option<String>,
}

/// The effective timeout of each operation: the user's value where given, else the
/// resource's default. A resource declares its defaults as a `Timeouts` constant
/// (e.g. an EKS cluster creates in ~15 minutes, so it defaults to 45) and resolves
/// the user's block against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long create may take.
    pub create: Duration,
    /// How long a refresh may take.
    pub read: Duration,
    /// How long an in-place update may take.
    pub update: Duration,
    /// How long destroy may take.
    pub delete: Duration,
}

impl Timeouts {
    /// Applies the user's `block` over `defaults`, refusing unparsable or zero values
    /// with an error naming the attribute and the value.
    pub fn resolve(defaults: Timeouts, block: &TimeoutsBlock) -> Result<Timeouts, TimeoutError> {
        let pick = |operation: Operation,
                    given: &Option<String>,
                    default: Duration|
         -> Result<Duration, TimeoutError> {
            let Some(value) = given else {
                return Ok(default);
            };
            let attribute = operation.attribute();
            let duration = parse_duration(&attribute, value)?;
            if duration.is_zero() {
                return Err(TimeoutError::Zero {
                    attribute,
                    value: value.clone(),
                });
            }
            Ok(duration)
        };
        Ok(Timeouts {
            create: pick(Operation::Create, &block.create, defaults.create)?,
            read: pick(Operation::Read, &block.read, defaults.read)?,
            update: pick(Operation::Update, &block.update, defaults.update)?,
            delete: pick(Operation::Delete, &block.delete, defaults.delete)?,
        })
    }

    /// The timeout of `operation`.
    pub fn get(&self, operation: Operation) -> Duration {
        match operation {
            Operation::Create => self.create,
            Operation::Read => self.read,
            Operation::Update => self.update,
            Operation::Delete => self.delete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<Duration, TimeoutError> {
        parse_duration("timeouts.create", value)
    }

    fn secs(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    #[test]
    fn parses_go_style_durations() {
        assert_eq!(parse("30m"), Ok(secs(30 * 60)));
        assert_eq!(parse("1h30m"), Ok(secs(90 * 60)));
        assert_eq!(parse("45s"), Ok(secs(45)));
        assert_eq!(parse("2h"), Ok(secs(7200)));
        assert_eq!(parse("1h0m30s"), Ok(secs(3630)));
        assert_eq!(parse("1.5h"), Ok(secs(5400)));
        assert_eq!(parse(".5m"), Ok(secs(30)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse("10µs"), Ok(Duration::from_micros(10)));
        assert_eq!(parse(" 20m "), Ok(secs(1200)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_bad_durations_naming_the_value() {
        for (value, reason) in [
            ("", "it is empty"),
            ("30", "has no unit"),
            ("30x", "unknown unit \"x\""),
            ("1h30", "\"30\" has no unit"),
            ("-5m", "negative"),
            ("m", "expected a number"),
            ("1.2.3s", "more than one decimal point"),
            ("30 m", "unknown unit \" m\""),
            ("99999999999999999999999h", "too large"),
        ] {
            let error = parse(value).err();
            let message = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                message.starts_with(&format!("timeouts.create = {value:?} is not a duration")),
                "{value}: {message}"
            );
            assert!(message.contains(reason), "{value}: {message}");
            assert!(message.contains("like \"30m\""), "{value}: {message}");
        }
    }

    const DEFAULTS: Timeouts = Timeouts {
        create: Duration::from_secs(45 * 60),
        read: Duration::from_secs(5 * 60),
        update: Duration::from_secs(60 * 60),
        delete: Duration::from_secs(30 * 60),
    };

    #[test]
    fn resolves_the_block_over_defaults() {
        let block = TimeoutsBlock {
            create: Some("1h30m".into()),
            delete: Some("2h".into()),
            ..TimeoutsBlock::default()
        };
        let resolved = Timeouts::resolve(DEFAULTS, &block);
        assert_eq!(
            resolved,
            Ok(Timeouts {
                create: secs(5400),
                delete: secs(7200),
                ..DEFAULTS
            })
        );
        assert_eq!(
            Timeouts::resolve(DEFAULTS, &TimeoutsBlock::default()),
            Ok(DEFAULTS)
        );
        assert_eq!(DEFAULTS.get(Operation::Update), secs(3600));
    }

    #[test]
    fn resolve_names_the_bad_attribute() {
        let block = TimeoutsBlock {
            delete: Some("soon".into()),
            ..TimeoutsBlock::default()
        };
        let message = Timeouts::resolve(DEFAULTS, &block)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.starts_with("timeouts.delete = \"soon\" is not a duration"),
            "{message}"
        );

        let zero = TimeoutsBlock {
            update: Some("0s".into()),
            ..TimeoutsBlock::default()
        };
        assert_eq!(
            Timeouts::resolve(DEFAULTS, &zero),
            Err(TimeoutError::Zero {
                attribute: "timeouts.update".into(),
                value: "0s".into()
            })
        );
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

    #[test]
    fn hints_name_the_attribute() {
        assert_eq!(
            Operation::Create.timeout_hint("the AWS console"),
            "raise timeouts.create or check the AWS console"
        );
    }
}
