//! Checks of the small languages a spec may carry: PromQL (rule overrides),
//! Alertmanager matchers (routes) and Prometheus durations (`for`). Each answers
//! `Err(message)` with a message fit to show the user after the field's path.

use promql_parser::parser::{self, value::ValueType};
use regex::Regex;

/// Whether `expr` parses as PromQL; the parser's message when it does not.
pub fn check_promql(expr: &str) -> Result<(), String> {
    if expr.trim().is_empty() {
        return Err("the expression is empty".to_string());
    }
    parser::parse(expr)
        .map(|_| ())
        .map_err(|e| format!("{expr:?} is not valid PromQL: {e}"))
}

/// Whether `expr` parses and yields an instant vector, as an alerting rule's
/// expression must (a scalar such as `scalar(up)` or a range such as `up[5m]` loads
/// but fails at every evaluation).
pub(crate) fn check_alert_expr(expr: &str) -> Result<(), String> {
    check_promql(expr)?;
    let parsed = parser::parse(expr).map_err(|e| format!("{expr:?} is not valid PromQL: {e}"))?;
    match parsed.value_type() {
        ValueType::Vector => Ok(()),
        other => Err(format!(
            "{expr:?} yields a {other}, but an alert needs an instant vector \
             (wrap a scalar in vector(...), aggregate a range with e.g. max_over_time)"
        )),
    }
}

/// The matcher operators, longest first so `=~` is not read as `=`.
const OPERATORS: [&str; 4] = ["=~", "!~", "!=", "="];

/// Characters a value may not hold unless it is double-quoted (the stricter
/// matcher parser of Alertmanager 0.27 and later rejects them bare).
const NEEDS_QUOTES: &[char] = &['{', '}', '!', '=', '~', ',', '\\', '"', '\'', '`'];

/// Whether `matcher` is an Alertmanager matcher (`name="value"`, `=~`, `!=`, `!~`,
/// the regular expression compiling).
///
/// The label name is a Prometheus label name; the value is double-quoted (with
/// `\"`, `\\` and `\n` escapes) or bare (no spaces or `{}!=~,\"'`). A regular
/// expression is anchored at both ends, as Alertmanager does: `team-.*` matches
/// `team-a` but not `my-team-a`.
pub fn check_matcher(matcher: &str) -> Result<(), String> {
    let text = matcher.trim();
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    if !is_label_name(name) {
        return Err(format!(
            "{matcher:?} does not start with a label name ([a-zA-Z_][a-zA-Z0-9_]*); \
             write e.g. severity=\"critical\""
        ));
    }
    let rest = text[name_end..].trim_start();
    let Some(op) = OPERATORS.iter().find(|op| rest.starts_with(**op)) else {
        return Err(format!(
            "{matcher:?} has no operator after {name:?}: use one of =, !=, =~, !~"
        ));
    };
    let raw = rest[op.len()..].trim_start();
    let value = parse_value(raw).map_err(|why| format!("{matcher:?}: {why}"))?;
    if op.ends_with('~') {
        Regex::new(&format!("^(?:{value})$"))
            .map_err(|e| format!("{matcher:?}: the regular expression does not compile: {e}"))?;
    }
    Ok(())
}

/// The value of a matcher: the unescaped text of a quoted value, or a bare value.
fn parse_value(raw: &str) -> Result<String, String> {
    let Some(quoted) = raw.strip_prefix('"') else {
        if raw.is_empty() {
            return Err("the value is missing; write \"\" to match an empty label".to_string());
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| c.is_whitespace() || NEEDS_QUOTES.contains(c))
        {
            return Err(format!(
                "the bare value {raw:?} contains {bad:?}; put the value in double quotes"
            ));
        }
        return Ok(raw.to_string());
    };
    let mut value = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let trailing: String = chars.collect();
                if trailing.trim().is_empty() {
                    return Ok(value);
                }
                return Err(format!(
                    "unexpected {trailing:?} after the closing quote (one matcher per entry)"
                ));
            }
            '\\' => match chars.next() {
                Some('"') => value.push('"'),
                Some('\\') => value.push('\\'),
                Some('n') => value.push('\n'),
                other => {
                    // Alertmanager keeps unknown escapes as written (`\d` in a regex).
                    value.push('\\');
                    if let Some(o) = other {
                        value.push(o);
                    }
                }
            },
            other => value.push(other),
        }
    }
    Err("the quoted value has no closing double quote".to_string())
}

/// Whether `name` is a Prometheus label name.
pub(crate) fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Units of a Prometheus duration, longest first, with their length in milliseconds.
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Whether `text` is a Prometheus duration (`30s`, `5m`, `1h30m`): numbers each
/// followed by a unit (`ms`, `s`, `m`, `h`, `d`, `w`, `y`), units from the largest
/// down, each once, the total above zero.
pub fn check_duration(text: &str) -> Result<(), String> {
    duration_millis(text).map(|_| ())
}

/// The length of a Prometheus duration in milliseconds (see [`check_duration`]).
pub(crate) fn duration_millis(text: &str) -> Result<u64, String> {
    let hint = "write a Prometheus duration such as 30s, 5m, 1h30m or 2d";
    if text.is_empty() {
        return Err(format!("the duration is empty; {hint}"));
    }
    let mut rest = text;
    let mut total: u64 = 0;
    // Index into UNITS of the last unit seen: the next must come later in the list.
    let mut last: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("{text:?} is not a duration; {hint}"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{text:?} has a number too large; {hint}"))?;
        rest = &rest[digits..];
        // `ms` before `m`: the longer spelling wins.
        let unit = UNITS
            .iter()
            .enumerate()
            .filter(|(_, (unit, _))| rest.starts_with(unit))
            .max_by_key(|(_, (unit, _))| unit.len());
        let Some((index, (unit, millis))) = unit else {
            return Err(format!(
                "{text:?} has a number without a unit (ms, s, m, h, d, w, y); {hint}"
            ));
        };
        if last.is_some_and(|l| index <= l) {
            return Err(format!(
                "{text:?} repeats a unit or has them out of order (largest first: 1h30m); {hint}"
            ));
        }
        last = Some(index);
        total = number
            .checked_mul(*millis)
            .and_then(|n| total.checked_add(n))
            .ok_or_else(|| format!("{text:?} is too long a duration"))?;
        rest = &rest[unit.len()..];
    }
    if total == 0 {
        return Err(format!("{text:?} is zero; {hint}"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promql_accepts_valid_and_reports_invalid() {
        assert!(check_promql("up == 0").is_ok());
        assert!(
            check_promql(r#"sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) > 1"#)
                .is_ok()
        );
        assert!(check_promql("absent(up{job=\"x\"} == 1)").is_ok());
        for bad in [
            "",
            "up ==",
            "sum by (job rate(x[5m]))",
            "rate(up)",
            "up{job=}",
        ] {
            assert!(check_promql(bad).is_err(), "{bad:?} accepted");
        }
        let message = check_promql("up ==").unwrap_err();
        assert!(message.contains("not valid PromQL"), "{message}");
    }

    #[test]
    fn alert_exprs_must_be_vectors() {
        assert!(check_alert_expr("up == 0").is_ok());
        assert!(check_alert_expr("vector(1)").is_ok());
        assert!(check_alert_expr("scalar(up)")
            .unwrap_err()
            .contains("scalar"));
        assert!(check_alert_expr("1 + 1").unwrap_err().contains("scalar"));
        assert!(check_alert_expr("up[5m]").unwrap_err().contains("matrix"));
    }

    #[test]
    fn matchers_accept_alertmanager_syntax() {
        for good in [
            r#"severity="critical""#,
            r#"severity = "critical""#,
            "severity=critical",
            r#"namespace=~"team-.*""#,
            r#"namespace!~"kube-.*|default""#,
            r#"alertname!="Watchdog""#,
            r#"team="""#,
            r#"summary="say \"hi\"""#,
            r#"path=~"a\\b""#,
            "namespace=~team-.*",
            r#"x=~"\d+""#,
        ] {
            assert_eq!(check_matcher(good), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn matchers_reject_bad_names_operators_values_and_regexes() {
        let cases = [
            ("", "label name"),
            ("1abc=\"x\"", "label name"),
            ("severity", "no operator"),
            ("severity>\"x\"", "no operator"),
            ("severity=", "missing"),
            ("severity=a b", "double quotes"),
            ("severity=\"open", "closing"),
            ("severity=\"a\",team=\"b\"", "after the closing quote"),
            ("namespace=~\"team-(\"", "does not compile"),
            ("namespace=~\"[z-a]\"", "does not compile"),
        ];
        for (bad, why) in cases {
            let message = check_matcher(bad).expect_err(bad);
            assert!(message.contains(why), "{bad:?}: {message}");
        }
    }

    #[test]
    fn regex_matchers_are_anchored() {
        let re = Regex::new("^(?:team-.*)$").unwrap();
        assert!(re.is_match("team-a") && !re.is_match("my-team-a"));
    }

    #[test]
    fn durations_follow_prometheus() {
        for (good, millis) in [
            ("30s", 30_000),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("2d", 172_800_000),
            ("1w", 604_800_000),
            ("1y", 31_536_000_000),
            ("500ms", 500),
            ("1m30s500ms", 90_500),
            ("90m", 5_400_000),
        ] {
            assert_eq!(duration_millis(good), Ok(millis), "{good:?}");
            assert_eq!(check_duration(good), Ok(()));
        }
        for bad in [
            "", "0s", "0", "5", "m", "5 m", "1.5h", "30m1h", "5m5m", "1h-5m", "-5m", "5M", "10sec",
            "1ms5s",
        ] {
            assert!(check_duration(bad).is_err(), "{bad:?} accepted");
        }
    }
}
