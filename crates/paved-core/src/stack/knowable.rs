//! Values known at plan time or only after apply: every typed spec holds its
//! attributes as [`Knowable`], so "not known until apply" stays explicit from the
//! configuration to the cloud call.

/// A value that is either known now or only after apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Knowable<T> {
    /// Known at plan time.
    Known(T),
    /// Not known until apply (the configuration depends on something not yet created).
    Unknown,
}

impl<T> Knowable<T> {
    /// The value, when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Knowable::Known(v) => Some(v),
            Knowable::Unknown => None,
        }
    }

    /// Whether the value is known.
    pub fn is_known(&self) -> bool {
        matches!(self, Knowable::Known(_))
    }

    /// Borrows the value.
    pub fn as_ref(&self) -> Knowable<&T> {
        match self {
            Knowable::Known(v) => Knowable::Known(v),
            Knowable::Unknown => Knowable::Unknown,
        }
    }

    /// Transforms a known value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Knowable<U> {
        match self {
            Knowable::Known(v) => Knowable::Known(f(v)),
            Knowable::Unknown => Knowable::Unknown,
        }
    }

    /// The value `f` makes of the known value; unknown when this is, or when `f`
    /// makes nothing.
    pub fn and_then<U>(self, f: impl FnOnce(T) -> Option<U>) -> Knowable<U> {
        match self {
            Knowable::Known(v) => f(v).map_or(Knowable::Unknown, Knowable::Known),
            Knowable::Unknown => Knowable::Unknown,
        }
    }

    /// Both values, known only when both are.
    pub fn zip<U>(self, other: Knowable<U>) -> Knowable<(T, U)> {
        match (self, other) {
            (Knowable::Known(a), Knowable::Known(b)) => Knowable::Known((a, b)),
            _ => Knowable::Unknown,
        }
    }

    /// The value as an `Option`.
    pub fn into_option(self) -> Option<T> {
        match self {
            Knowable::Known(v) => Some(v),
            Knowable::Unknown => None,
        }
    }
}
