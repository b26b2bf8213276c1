//! The monthly cost estimate every stack resource shows in its plan
//! (`cost_estimate`), the budget a user may set beside it (`monthly_budget_usd`),
//! and the warnings a plan gives about them.
//!
//! A cloud's adapter prices a stack's shape from the tables of [`paved_pricing`]
//! and answers a [`Quote`]; the outline ([`super::outline`]) puts it into the
//! planned state, the applied state, a refresh and an import alike, so that the
//! next plan is empty when nothing changed.

use paved_value::{Path, Type, Value};

pub use paved_pricing::{CostEstimate, Estimate};

use super::knowable::Knowable;
use crate::diag::Diagnostics;
use crate::schema::{Attribute, Check, Nesting};

/// What a cloud says a stack costs.
#[derive(Debug, Clone, PartialEq)]
pub enum Quote {
    /// The cloud prices nothing for this resource (the estimate is null, quietly).
    NotOffered,
    /// The estimate.
    Estimate(CostEstimate),
    /// No estimate, and why (the region has no prices in paved's table): the
    /// estimate is null and the plan warns.
    NoPrices(String),
}

/// The attribute a user sets a budget with.
pub const BUDGET: &str = "monthly_budget_usd";
/// The computed estimate's attribute.
pub const ESTIMATE: &str = "cost_estimate";

/// `monthly_budget_usd` and `cost_estimate`, for every stack resource's schema.
pub fn cost_attributes() -> [Attribute; 2] {
    [
        Attribute::number(BUDGET)
            .optional()
            .check(Check::Range {
                min: 1,
                max: 100_000_000,
                unit: " USD",
                summary: "Monthly budget out of range",
            })
            .description(
                "What this stack may cost a month, in whole US dollars. The plan warns, naming both figures, when \
                 `cost_estimate.monthly_usd` is above it. Nothing is refused: the warning is for the review.",
            ),
        Attribute::nested(
            ESTIMATE,
            Nesting::Single,
            vec![
                Attribute::number("monthly_usd")
                    .computed()
                    .description("The estimated total, in US dollars a month: the sum of `by_component`."),
                Attribute::map("by_component", Type::Number)
                    .computed()
                    .description("Dollars a month by component (`control_plane`, `nodes.system`, `nat_gateways`...)."),
                Attribute::list("assumptions", Type::String)
                    .computed()
                    .description(
                        "What the figures rest on: the region's list prices, node pools at their `min_size`, \
                         usage taken at stated volumes, what is left out.",
                    ),
                Attribute::string("prices_as_of")
                    .computed()
                    .description("When paved's price table was read (`YYYY-MM`)."),
            ],
        )
        .computed()
        .description(
            "A monthly cost estimate of what this resource creates, computed at plan from the price table paved \
             carries (on-demand list prices of the provider's region, no commitment or credits). Null when the \
             region is not in the table (the plan warns) or the cloud is not configured yet. See the cost estimate \
             guide for the table, its sources and its date.",
        ),
    ]
}

/// The estimate as the schema's `cost_estimate` value.
pub fn estimate_value(quote: &Knowable<Quote>) -> Value {
    let estimate = match quote {
        Knowable::Unknown => return Value::unknown(),
        Knowable::Known(Quote::Estimate(e)) => e,
        Knowable::Known(_) => return Value::Null,
    };
    Value::Object(
        [
            ("monthly_usd".to_owned(), Value::from(estimate.monthly_usd)),
            (
                "by_component".to_owned(),
                Value::Map(
                    estimate
                        .by_component
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from(*v)))
                        .collect(),
                ),
            ),
            (
                "assumptions".to_owned(),
                Value::List(
                    estimate
                        .assumptions
                        .iter()
                        .map(|a| Value::from(a.as_str()))
                        .collect(),
                ),
            ),
            (
                "prices_as_of".to_owned(),
                Value::from(estimate.prices_as_of),
            ),
        ]
        .into_iter()
        .collect(),
    )
}

/// The warnings a plan gives about its estimate: no prices for the region, parts
/// left out, and a total above `monthly_budget_usd` of `config`.
pub fn plan_warnings(quote: &Knowable<Quote>, config: &Value, noun: &str) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let estimate = match quote {
        Knowable::Known(Quote::Estimate(e)) => e,
        Knowable::Known(Quote::NoPrices(why)) => {
            diags.attribute_warning(
                Path::root().attr(ESTIMATE),
                "No cost estimate",
                format!("{why} The estimate is null; nothing else changes."),
            );
            return diags;
        }
        _ => return diags,
    };
    if !estimate.unpriced.is_empty() {
        diags.attribute_warning(
            Path::root().attr(ESTIMATE),
            "Cost estimate incomplete",
            format!(
                "paved's price table has no price for {}: {} left out of cost_estimate. The rest is estimated as usual.",
                estimate.unpriced.join(", "),
                if estimate.unpriced.len() == 1 { "it is" } else { "they are" }
            ),
        );
    }
    let budget = config
        .get_attr(BUDGET)
        .and_then(Value::as_number)
        .and_then(|n| n.as_f64());
    if let Some(budget) = budget {
        if estimate.monthly_usd > budget {
            diags.attribute_warning(
                Path::root().attr(BUDGET),
                "Over the monthly budget",
                format!(
                    "The {noun} is estimated at ${:.2} a month (cost_estimate.monthly_usd), above monthly_budget_usd \
                     ${budget:.2}. The largest parts: {}. Lower them (a smaller instance type or min_size, fewer \
                     replicas or NAT gateways, a cheaper profile), or raise the budget.",
                    estimate.monthly_usd,
                    largest(estimate, 3)
                ),
            );
        }
    }
    diags
}

/// The `n` largest lines, as `name $x`.
fn largest(estimate: &CostEstimate, n: usize) -> String {
    let mut lines: Vec<(&String, &f64)> = estimate.by_component.iter().collect();
    lines.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
    lines
        .into_iter()
        .take(n)
        .map(|(k, v)| format!("{k} ${v:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote() -> Knowable<Quote> {
        let mut e = Estimate::new("us-east-1");
        e.add("control_plane", 73.0);
        e.add("nodes.system", 210.24);
        e.add("nat_gateways", 108.0);
        e.assume("prices of us-east-1");
        Knowable::Known(Quote::Estimate(e.finish()))
    }

    fn config(budget: Option<i64>) -> Value {
        Value::Object(
            [(BUDGET.to_owned(), budget.map_or(Value::Null, Value::from))]
                .into_iter()
                .collect(),
        )
    }

    #[test]
    fn the_value_carries_total_lines_assumptions_and_date() {
        let v = estimate_value(&quote());
        assert_eq!(
            v.get_attr("monthly_usd")
                .and_then(Value::as_number)
                .and_then(|n| n.as_f64()),
            Some(391.24)
        );
        assert_eq!(
            match v.get_attr("by_component") {
                Some(Value::Map(m)) => m
                    .get("nat_gateways")
                    .and_then(Value::as_number)
                    .and_then(|n| n.as_f64()),
                _ => None,
            },
            Some(108.0)
        );
        assert_eq!(
            v.get_attr("prices_as_of").and_then(Value::as_str),
            Some(paved_pricing::PRICES_AS_OF)
        );
        assert!(estimate_value(&Knowable::Unknown).is_unknown());
        assert!(estimate_value(&Knowable::Known(Quote::NotOffered)).is_null());
        assert!(estimate_value(&Knowable::Known(Quote::NoPrices("x".into()))).is_null());
    }

    #[test]
    fn over_budget_warns_naming_both_figures_and_the_largest_parts() {
        let d = plan_warnings(&quote(), &config(Some(300)), "cluster");
        assert_eq!(d.0.len(), 1, "{d:?}");
        let text = format!("{:?}", d.0[0]);
        assert!(text.contains("$391.24"), "{text}");
        assert!(text.contains("$300.00"), "{text}");
        assert!(text.contains("nodes.system $210.24"), "{text}");
        assert!(text.contains("monthly_budget_usd"), "{text}");
        assert!(plan_warnings(&quote(), &config(Some(400)), "cluster")
            .0
            .is_empty());
        assert!(plan_warnings(&quote(), &config(None), "cluster")
            .0
            .is_empty());
    }

    #[test]
    fn a_region_without_prices_and_parts_left_out_warn() {
        let none = Knowable::Known(Quote::NoPrices("No prices for mars-1.".into()));
        assert_eq!(plan_warnings(&none, &config(None), "cluster").0.len(), 1);
        let mut e = Estimate::new("us-east-1");
        e.unpriced("instance type z9.large");
        let partial = Knowable::Known(Quote::Estimate(e.finish()));
        let d = plan_warnings(&partial, &config(None), "cluster");
        assert!(format!("{:?}", d.0).contains("z9.large"));
    }
}
