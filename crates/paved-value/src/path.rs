//! Attribute paths: where in a value something is (or went wrong).
//!
//! A [`Path`] is a sequence of [`PathStep`]s from the root of a value. It
//! displays the way Terraform users write references, for example
//! `node_pools["system"].min_size` or `zones[0]`.

use std::fmt;

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute, written `.name`.
    Attribute(String),
    /// A map element, written `["key"]`.
    ElementKeyString(String),
    /// A list, tuple or set element, written `[0]`. For sets the index is
    /// the element's position on the wire, since set elements have no key.
    ElementKeyInt(i64),
}

/// An attribute path from the root of a value.
///
/// Build one with [`Path::root`] and the builder methods:
///
/// ```
/// use paved_value::Path;
/// let p = Path::root().attr("node_pools").key("system").attr("min_size");
/// assert_eq!(p.to_string(), r#"node_pools["system"].min_size"#);
/// assert_eq!(Path::root().attr("zones").index(0).to_string(), "zones[0]");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<PathStep>);

impl Path {
    /// The empty path, naming the whole value.
    pub fn root() -> Path {
        Path(Vec::new())
    }

    /// This path extended by an object attribute.
    #[must_use]
    pub fn attr(mut self, name: impl Into<String>) -> Path {
        self.0.push(PathStep::Attribute(name.into()));
        self
    }

    /// This path extended by a map key.
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Path {
        self.0.push(PathStep::ElementKeyString(key.into()));
        self
    }

    /// This path extended by a list, tuple or set index.
    #[must_use]
    pub fn index(mut self, index: i64) -> Path {
        self.0.push(PathStep::ElementKeyInt(index));
        self
    }

    /// Whether this is the root path (no steps).
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The steps of this path.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }
}

impl From<Vec<PathStep>> for Path {
    fn from(steps: Vec<PathStep>) -> Path {
        Path(steps)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(name) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                PathStep::ElementKeyString(key) => {
                    f.write_str("[")?;
                    write_quoted(f, key)?;
                    f.write_str("]")?;
                }
                PathStep::ElementKeyInt(idx) => write!(f, "[{idx}]")?,
            }
        }
        Ok(())
    }
}

/// Writes `s` as a double-quoted string with JSON-style escapes.
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// The prefix an error message gets for a path: empty for the root,
/// `at PATH: ` otherwise.
pub(crate) fn at_prefix(path: &Path) -> String {
    if path.is_root() {
        String::new()
    } else {
        format!("at {path}: ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        assert_eq!(Path::root().to_string(), "");
        assert_eq!(
            Path::root()
                .attr("node_pools")
                .key("system")
                .attr("min_size")
                .to_string(),
            r#"node_pools["system"].min_size"#
        );
        assert_eq!(Path::root().attr("zones").index(0).to_string(), "zones[0]");
        assert_eq!(
            Path::root().key("a\"b").index(-1).to_string(),
            r#"["a\"b"][-1]"#
        );
        assert_eq!(Path::root().index(2).attr("x").to_string(), "[2].x");
    }
}
