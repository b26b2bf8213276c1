//! Terraform numbers: arbitrary-precision decimals with a compact canonical
//! form.
//!
//! cty numbers are arbitrary-precision. On the wire they travel as a msgpack
//! integer when they are integers in `i64` range, as a float64 when they are
//! exactly a finite float64, and as a decimal string otherwise. [`Number`]
//! mirrors that: its canonical form is [`Number::Int`] for integers in `i64`
//! range, [`Number::Float`] for other values that are exactly a finite
//! float64, and [`Number::Decimal`] (a normalised decimal string) for
//! everything else. Constructors and decoders always produce canonical
//! numbers; equality compares numeric values.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Padding zeros beyond which a canonical decimal string uses scientific
/// notation (`1e400` rather than a 401-character string). Keeps the text
/// of a number proportional to its input.
const MAX_PLAIN_PADDING: i64 = 64;

/// Largest accepted decimal exponent magnitude, keeping exponent arithmetic
/// far from overflow.
const MAX_EXPONENT: i64 = 1_000_000_000_000;

/// Number of fractional digits that shows any finite f64 exactly.
const F64_EXACT_PRECISION: usize = 1074;

/// A Terraform number.
///
/// Canonical form: [`Int`](Number::Int) for integers in `i64` range,
/// [`Float`](Number::Float) for other values exactly equal to a finite
/// float64, [`Decimal`](Number::Decimal) for everything else. Numbers
/// built with the variants directly may be non-canonical (for example
/// `Number::Float(2.0)` or `Number::Decimal("1.50".into())`); equality,
/// [`as_i64`](Number::as_i64) and the encoders canonicalise first, so they
/// still behave by numeric value.
///
/// `Float` may also hold an infinity (cty has them; msgpack carries them as
/// float64) or NaN (which no encoder accepts).
#[derive(Debug, Clone)]
pub enum Number {
    /// An integer in `i64` range.
    Int(i64),
    /// A value exactly equal to this float64 (non-integral, or an integer
    /// outside `i64` range), or an infinity.
    Float(f64),
    /// A decimal string (`-12.5`, `1e400`) for values that are neither of
    /// the above. Canonical strings have no leading or trailing zeros and
    /// use scientific notation only for very large or small magnitudes.
    Decimal(String),
}

/// Why a string is not a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// The string is empty.
    #[error("empty string is not a number")]
    Empty,
    /// The string is not a decimal number in the accepted syntax.
    #[error("{text:?} is not a decimal number (expected digits with an optional sign, fraction and exponent, like -12.5e3)")]
    Syntax {
        /// The offending text, shortened if long.
        text: String,
    },
    /// The exponent is too large to handle.
    #[error("exponent of {text:?} is out of range")]
    ExponentOutOfRange {
        /// The offending text, shortened if long.
        text: String,
    },
}

/// A parsed decimal: value = (-1 if neg) × digits × 10^exp, where `digits`
/// has no leading or trailing zeros (empty means zero).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    neg: bool,
    digits: String,
    exp: i64,
}

/// Shortens `s` for use in an error message.
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

fn parse_decimal(s: &str) -> Result<Decimal, NumberError> {
    if s.is_empty() {
        return Err(NumberError::Empty);
    }
    let syntax = || NumberError::Syntax { text: shorten(s) };
    let b = s.as_bytes();
    let mut i = 0;
    let mut neg = false;
    if let Some(&c) = b.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            i += 1;
        }
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_part = &s[int_start..i];
    let mut frac_part = "";
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_part = &s[frac_start..i];
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(syntax());
    }
    let mut exp: i64 = 0;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let mut exp_neg = false;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            exp_neg = b[i] == b'-';
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            let d = i64::from(b[i] - b'0');
            exp = exp
                .checked_mul(10)
                .and_then(|e| e.checked_add(d))
                .filter(|e| *e <= MAX_EXPONENT)
                .ok_or_else(|| NumberError::ExponentOutOfRange { text: shorten(s) })?;
            i += 1;
        }
        if i == exp_start {
            return Err(syntax());
        }
        if exp_neg {
            exp = -exp;
        }
    }
    if i != b.len() {
        return Err(syntax());
    }
    // Significant digits: int_part followed by frac_part, value =
    // digits × 10^(exp - frac_len).
    let frac_len = i64::try_from(frac_part.len()).map_err(|_| syntax())?;
    let mut exp = exp
        .checked_sub(frac_len)
        .ok_or_else(|| NumberError::ExponentOutOfRange { text: shorten(s) })?;
    let mut all = String::with_capacity(int_part.len() + frac_part.len());
    all.push_str(int_part);
    all.push_str(frac_part);
    let trimmed_lead = all.trim_start_matches('0');
    let trimmed = trimmed_lead.trim_end_matches('0');
    let trailing = i64::try_from(trimmed_lead.len() - trimmed.len()).map_err(|_| syntax())?;
    exp = exp
        .checked_add(trailing)
        .ok_or_else(|| NumberError::ExponentOutOfRange { text: shorten(s) })?;
    if trimmed.is_empty() {
        return Ok(Decimal {
            neg: false,
            digits: String::new(),
            exp: 0,
        });
    }
    Ok(Decimal {
        neg,
        digits: trimmed.to_string(),
        exp,
    })
}

impl Decimal {
    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The canonical text of this decimal.
    fn to_canonical_string(&self) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        let mut out = String::new();
        if self.neg {
            out.push('-');
        }
        let n = i64::try_from(self.digits.len()).unwrap_or(i64::MAX);
        if self.exp >= 0 {
            if self.exp <= MAX_PLAIN_PADDING {
                out.push_str(&self.digits);
                for _ in 0..self.exp {
                    out.push('0');
                }
                return out;
            }
        } else {
            // Number of digits before the decimal point.
            let point = n.saturating_add(self.exp);
            if point > 0 {
                let p = usize::try_from(point).unwrap_or(0);
                out.push_str(&self.digits[..p]);
                out.push('.');
                out.push_str(&self.digits[p..]);
                return out;
            }
            if -point <= MAX_PLAIN_PADDING {
                out.push_str("0.");
                for _ in 0..(-point) {
                    out.push('0');
                }
                out.push_str(&self.digits);
                return out;
            }
        }
        // Scientific notation: d.ddd e adj
        let adj = self.exp.saturating_add(n - 1);
        out.push_str(&self.digits[..1]);
        if self.digits.len() > 1 {
            out.push('.');
            out.push_str(&self.digits[1..]);
        }
        out.push('e');
        out.push_str(&adj.to_string());
        out
    }

    /// The value as an `i64`, if it is an integer in range.
    fn to_i64(&self) -> Option<i64> {
        if self.is_zero() {
            return Some(0);
        }
        if self.exp < 0 {
            return None;
        }
        let len = i64::try_from(self.digits.len()).ok()?;
        if len.checked_add(self.exp)? > 19 {
            return None;
        }
        let mut v: i128 = self.digits.parse().ok()?;
        for _ in 0..self.exp {
            v = v.checked_mul(10)?;
        }
        if self.neg {
            v = -v;
        }
        i64::try_from(v).ok()
    }

    /// The value as an f64, if that is exact and finite.
    fn to_exact_f64(&self) -> Option<f64> {
        if self.is_zero() {
            return Some(0.0);
        }
        // An exact f64 has at most 767 significant decimal digits and a
        // magnitude between ~4.9e-324 and ~1.8e308.
        if self.digits.len() > 800 {
            return None;
        }
        // digits / 10^k (k > 0, digits not a multiple of 10) is a binary
        // fraction only if 5^k divides digits, so it must end in 5. This
        // cheaply rules out most decimals (0.1, 12.34) before the exact
        // comparison below.
        if self.exp < 0 && !self.digits.ends_with('5') {
            return None;
        }
        let n = i64::try_from(self.digits.len()).ok()?;
        let adj = self.exp.checked_add(n - 1)?;
        if !(-330..=310).contains(&adj) {
            return None;
        }
        let text = format!(
            "{}{}e{}",
            if self.neg { "-" } else { "" },
            self.digits,
            self.exp
        );
        let f: f64 = text.parse().ok()?;
        if !f.is_finite() || f == 0.0 {
            return None;
        }
        let back = exact_decimal_of_f64(f)?;
        (back == *self).then_some(f)
    }

    fn into_number(self) -> Number {
        if let Some(i) = self.to_i64() {
            return Number::Int(i);
        }
        if let Some(f) = self.to_exact_f64() {
            return Number::Float(f);
        }
        Number::Decimal(self.to_canonical_string())
    }
}

/// The exact decimal value of a finite f64.
fn exact_decimal_of_f64(f: f64) -> Option<Decimal> {
    if !f.is_finite() {
        return None;
    }
    let text = format!("{f:.prec$}", prec = F64_EXACT_PRECISION);
    parse_decimal(&text).ok()
}

/// Whether `f` is integral and within `i64` range.
fn f64_as_i64(f: f64) -> Option<i64> {
    // -2^63 is representable; 2^63 is the first value out of range.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_finite() && f.fract() == 0.0 && (-TWO_63..TWO_63).contains(&f) {
        // In range and integral, so the cast is exact.
        Some(f as i64)
    } else {
        None
    }
}

impl Number {
    /// Parses a decimal string (`42`, `-0.5`, `1.5e-7`, `+3`) into a
    /// canonical number. Infinities and NaN are not accepted.
    pub fn parse(s: &str) -> Result<Number, NumberError> {
        Ok(parse_decimal(s)?.into_number())
    }

    /// The canonical form of this number (see [`Number`]). A malformed
    /// `Decimal` is returned
    /// unchanged.
    #[must_use]
    pub fn canonical(&self) -> Number {
        match self {
            Number::Int(i) => Number::Int(*i),
            Number::Float(f) => Number::from(*f),
            Number::Decimal(s) => Number::parse(s).unwrap_or_else(|_| Number::Decimal(s.clone())),
        }
    }

    /// Whether this number is in canonical form.
    pub fn is_canonical(&self) -> bool {
        match self {
            Number::Int(_) => true,
            Number::Float(f) => f.is_nan() || f64_as_i64(*f).is_none(),
            Number::Decimal(s) => matches!(Number::parse(s), Ok(Number::Decimal(c)) if c == *s),
        }
    }

    /// The value as an `i64`, if it is an integer in `i64` range.
    pub fn as_i64(&self) -> Option<i64> {
        match self.canonical() {
            Number::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The value as a `u64`, if it is a non-negative integer in `u64`
    /// range.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Number::Int(i) => u64::try_from(*i).ok(),
            Number::Float(f) => {
                let d = exact_decimal_of_f64(*f)?;
                decimal_as_u64(&d)
            }
            Number::Decimal(s) => decimal_as_u64(&parse_decimal(s).ok()?),
        }
    }

    /// The nearest `f64` to this number (possibly infinite for huge
    /// decimals). `None` only for a malformed `Decimal` or a NaN `Float`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Number::Int(i) => Some(*i as f64),
            Number::Float(f) => (!f.is_nan()).then_some(*f),
            Number::Decimal(s) => {
                let d = parse_decimal(s).ok()?;
                // Rust's float parser rounds correctly from any length.
                let text = format!("{}{}e{}", if d.neg { "-" } else { "" }, d.digits, d.exp);
                if d.is_zero() {
                    return Some(0.0);
                }
                text.parse().ok()
            }
        }
    }

    /// Whether the value is an integer (of any size).
    pub fn is_integer(&self) -> bool {
        match self {
            Number::Int(_) => true,
            Number::Float(f) => f.is_finite() && f.fract() == 0.0,
            Number::Decimal(s) => parse_decimal(s).map(|d| d.exp >= 0).unwrap_or(false),
        }
    }
}

fn decimal_as_u64(d: &Decimal) -> Option<u64> {
    if d.is_zero() {
        return Some(0);
    }
    if d.neg || d.exp < 0 || d.exp > 20 || d.digits.len() > 20 {
        return None;
    }
    let mut v: u128 = d.digits.parse().ok()?;
    for _ in 0..d.exp {
        v = v.checked_mul(10)?;
    }
    u64::try_from(v).ok()
}

impl From<i64> for Number {
    fn from(i: i64) -> Number {
        Number::Int(i)
    }
}

impl From<i32> for Number {
    fn from(i: i32) -> Number {
        Number::Int(i64::from(i))
    }
}

impl From<u64> for Number {
    fn from(u: u64) -> Number {
        match i64::try_from(u) {
            Ok(i) => Number::Int(i),
            Err(_) => {
                let f = u as f64;
                // `f as u128` saturates, and 2^64 (the largest value `f`
                // can round to) fits in u128, so the comparison is exact.
                if f as u128 == u128::from(u) {
                    Number::Float(f)
                } else {
                    Number::Decimal(u.to_string())
                }
            }
        }
    }
}

impl From<f64> for Number {
    /// Canonicalises: integral values in `i64` range become
    /// [`Number::Int`] (including `-0.0`), anything else stays a `Float`.
    fn from(f: f64) -> Number {
        match f64_as_i64(f) {
            Some(i) => Number::Int(i),
            None => Number::Float(f),
        }
    }
}

impl FromStr for Number {
    type Err = NumberError;

    fn from_str(s: &str) -> Result<Number, NumberError> {
        Number::parse(s)
    }
}

impl PartialEq for Number {
    /// Compares numeric values: canonical forms are compared structurally.
    /// NaN equals nothing.
    fn eq(&self, other: &Number) -> bool {
        match (self.canonical(), other.canonical()) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Float(a), Number::Float(b)) => a == b,
            (Number::Decimal(a), Number::Decimal(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialOrd for Number {
    /// Orders by numeric value where both sides are representable well
    /// enough to decide: exact for integers, otherwise by nearest `f64`
    /// with equality resolved by [`PartialEq`].
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        if self == other {
            return Some(Ordering::Equal);
        }
        if let (Number::Int(a), Number::Int(b)) = (self.canonical(), other.canonical()) {
            return Some(a.cmp(&b));
        }
        let (a, b) = (self.as_f64()?, other.as_f64()?);
        match a.partial_cmp(&b)? {
            // Nearest floats tie but the values differ: not decidable here.
            Ordering::Equal => None,
            o => Some(o),
        }
    }
}

impl fmt::Display for Number {
    /// Writes the canonical decimal text: `42`, `0.5`, `1e400`. Floats are
    /// written exactly (a float64 that came in as `0.1` prints all of its
    /// digits), infinities as `+Inf`/`-Inf`, NaN as `NaN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.canonical() {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) if x.is_nan() => f.write_str("NaN"),
            Number::Float(x) if x.is_infinite() => {
                f.write_str(if x > 0.0 { "+Inf" } else { "-Inf" })
            }
            Number::Float(x) => match exact_decimal_of_f64(x) {
                Some(d) => f.write_str(&d.to_canonical_string()),
                None => write!(f, "{x}"),
            },
            Number::Decimal(s) => f.write_str(&s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Number {
        match Number::parse(s) {
            Ok(n) => n,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn parse_canonical_forms() {
        assert!(matches!(p("42"), Number::Int(42)));
        assert!(matches!(p("-0"), Number::Int(0)));
        assert!(matches!(p("+7"), Number::Int(7)));
        assert!(matches!(p("4.2e1"), Number::Int(42)));
        assert!(matches!(p("1e18"), Number::Int(1_000_000_000_000_000_000)));
        assert!(matches!(p("-9223372036854775808"), Number::Int(i64::MIN)));
        assert!(matches!(p("0.5"), Number::Float(f) if f == 0.5));
        assert!(matches!(p(".25"), Number::Float(f) if f == 0.25));
        assert!(
            matches!(p("9223372036854775808"), Number::Float(f) if f == 9_223_372_036_854_775_808.0)
        );
        assert!(
            matches!(p("9223372036854775809"), Number::Decimal(ref s) if s == "9223372036854775809")
        );
        assert!(matches!(p("0.1"), Number::Decimal(ref s) if s == "0.1"));
        assert!(matches!(p("000.100e0"), Number::Decimal(ref s) if s == "0.1"));
        assert!(matches!(p("1e400"), Number::Decimal(ref s) if s == "1e400"));
        assert!(matches!(p("-1.5e-400"), Number::Decimal(ref s) if s == "-1.5e-400"));
        assert!(matches!(p("1e25"), Number::Decimal(ref s) if s == "10000000000000000000000000"));
        assert!(matches!(p("123.456"), Number::Decimal(ref s) if s == "123.456"));
        for bad in [
            "", "-", ".", "e5", "1e", "1e+", "1.2.3", "0x10", "inf", "NaN", " 1", "1 ",
        ] {
            assert!(Number::parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(matches!(
            Number::parse("1e99999999999999999999"),
            Err(NumberError::ExponentOutOfRange { .. })
        ));
    }

    #[test]
    fn canonical_strings_round_trip() {
        for s in [
            "0.1",
            "-123.456",
            "1e400",
            "1.5e-400",
            "0.000001",
            "12345678901234567890123",
        ] {
            let n = p(s);
            assert_eq!(n.to_string(), s);
            assert!(n.is_canonical());
            assert_eq!(p(&n.to_string()), n);
        }
    }

    #[test]
    fn floats() {
        assert!(matches!(Number::from(2.0), Number::Int(2)));
        assert!(matches!(Number::from(-0.0), Number::Int(0)));
        assert!(matches!(Number::from(0.1), Number::Float(_)));
        assert!(matches!(Number::from(1e300), Number::Float(_)));
        let tenth = Number::from(0.1);
        assert_eq!(
            tenth.to_string(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(p(&tenth.to_string()), tenth);
        assert_ne!(tenth, p("0.1"));
        let tiny = Number::from(f64::from_bits(1));
        assert_eq!(p(&tiny.to_string()), tiny);
        let big = Number::from(f64::MAX);
        assert_eq!(p(&big.to_string()), big);
        assert_eq!(Number::from(f64::INFINITY).to_string(), "+Inf");
        assert_ne!(Number::Float(f64::NAN), Number::Float(f64::NAN));
    }

    #[test]
    fn equality_by_value() {
        assert_eq!(Number::Float(2.0), Number::Int(2));
        assert_eq!(Number::Decimal("2.000".into()), Number::Int(2));
        assert_eq!(Number::Decimal("0.50".into()), Number::Float(0.5));
        assert_eq!(
            Number::Decimal("1.0e400".into()),
            Number::Decimal("1e400".into())
        );
        assert_ne!(Number::Int(1), Number::Int(2));
        assert!(Number::Int(1) < Number::Float(1.5));
        assert!(p("1e400") > Number::Int(5));
    }

    #[test]
    fn accessors() {
        assert_eq!(Number::Float(3.0).as_i64(), Some(3));
        assert_eq!(Number::Float(3.5).as_i64(), None);
        assert_eq!(p("1e400").as_i64(), None);
        assert_eq!(Number::from(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(Number::from(u64::MAX).as_i64(), None);
        assert_eq!(Number::from(1u64 << 63).as_u64(), Some(1 << 63));
        assert_eq!(Number::Int(-1).as_u64(), None);
        assert_eq!(p("0.1").as_f64(), Some(0.1));
        assert_eq!(p("1e400").as_f64(), Some(f64::INFINITY));
        assert!(p("1e30").is_integer());
        assert!(!p("0.1").is_integer());
    }
}
