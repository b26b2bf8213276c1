//! Validation checks shared by the resources.

use paved_value::Path;

use crate::diag::Diagnostics;
use crate::stack::timeouts::{parse_duration, TimeoutsSpec};
use crate::stack::Knowable;

/// Reports every known timeout in `t` that is not a duration.
pub fn check_timeouts(t: &TimeoutsSpec, d: &mut Diagnostics) {
    for (name, value) in [
        ("create", &t.create),
        ("update", &t.update),
        ("delete", &t.delete),
    ] {
        if let Knowable::Known(text) = value {
            if parse_duration(text).is_none() {
                d.attribute_error(
                    Path::root().attr("timeouts").attr(name),
                    "Invalid timeout",
                    format!("\"{text}\" is not a duration. Write it like \"45m\", \"2h\" or \"1h30m\" (units h, m, s)."),
                );
            }
        }
    }
}
