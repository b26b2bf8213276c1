//! Kubernetes resource quantities (`500m`, `2`, `512Mi`, `1G`), parsed only far enough
//! to compare them: the quota must hold at least one container's defaults.

/// A quantity's value in base units (cores, bytes), or why the text is not one.
pub fn parse_quantity(text: &str) -> Result<f64, String> {
    const SUFFIXES: [(&str, f64); 14] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
    ];
    let text = text.trim();
    let (number, factor) = SUFFIXES
        .iter()
        .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, *factor)))
        .or_else(|| text.strip_suffix('E').map(|n| (n, 1e18)))
        .unwrap_or((text, 1.0));
    let plain = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.chars().filter(|c| *c == '.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    if !plain {
        return Err(format!(
            "{text:?} is not a Kubernetes quantity such as \"500m\", \"2\" or \"512Mi\""
        ));
    }
    number
        .parse::<f64>()
        .map(|n| n * factor)
        .map_err(|e| format!("{text:?} is not a Kubernetes quantity: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu_and_memory() {
        assert_eq!(parse_quantity("500m").unwrap(), 0.5);
        assert_eq!(parse_quantity("2").unwrap(), 2.0);
        assert_eq!(parse_quantity("1.5").unwrap(), 1.5);
        assert_eq!(parse_quantity("512Mi").unwrap(), 536_870_912.0);
        assert_eq!(parse_quantity("1G").unwrap(), 1e9);
        assert_eq!(parse_quantity("1Ei").unwrap(), 1_152_921_504_606_846_976.0);
        assert_eq!(parse_quantity("2E").unwrap(), 2e18);
    }

    #[test]
    fn rejects_non_quantities() {
        for bad in ["", "m", "-1", "1.2.3", "12 Gi", "lots", "1Gb"] {
            assert!(parse_quantity(bad).is_err(), "{bad:?} accepted");
        }
    }
}
