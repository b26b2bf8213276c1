//! An estimate as an adapter builds it, line by line, and the finished figure a
//! plan shows.

use std::collections::BTreeMap;

use crate::{HOURS_PER_MONTH, PRICES_AS_OF};

/// A monthly cost estimate, finished: what a plan shows as `cost_estimate`.
#[derive(Debug, Clone, PartialEq)]
pub struct CostEstimate {
    /// The total in US dollars a month: the sum of `by_component`.
    pub monthly_usd: f64,
    /// Dollars a month by component (`nodes.system`, `nat_gateways`,
    /// `database.primary`), each rounded to the cent.
    pub by_component: BTreeMap<String, f64>,
    /// What the figures rest on, in words: the region's table, usage taken at
    /// assumed volumes, what is left out.
    pub assumptions: Vec<String>,
    /// When the prices were read ([`PRICES_AS_OF`]).
    pub prices_as_of: &'static str,
    /// What the table has no price for (an instance type it does not list): not
    /// counted, and said in `assumptions` too.
    pub unpriced: Vec<String>,
}

/// An estimate being built.
#[derive(Debug, Clone)]
pub struct Estimate {
    region: String,
    lines: BTreeMap<String, f64>,
    assumptions: Vec<String>,
    unpriced: Vec<String>,
}

/// Rounds dollars to the cent.
fn cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

impl Estimate {
    /// An empty estimate for `region`'s prices.
    pub fn new(region: impl Into<String>) -> Self {
        Estimate {
            region: region.into(),
            lines: BTreeMap::new(),
            assumptions: Vec::new(),
            unpriced: Vec::new(),
        }
    }

    /// The region whose prices apply.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Adds `monthly_usd` to `component`'s line (lines of one name add up).
    pub fn add(&mut self, component: impl Into<String>, monthly_usd: f64) {
        *self.lines.entry(component.into()).or_insert(0.0) += monthly_usd;
    }

    /// Adds `count` things billed `per_hour` each, running the whole month.
    pub fn hourly(&mut self, component: impl Into<String>, per_hour: f64, count: f64) {
        self.add(component, per_hour * count * HOURS_PER_MONTH);
    }

    /// Records an assumption (once, however often it is made).
    pub fn assume(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !self.assumptions.contains(&text) {
            self.assumptions.push(text);
        }
    }

    /// Records that `what` has no price in the region's table: it is left out.
    pub fn unpriced(&mut self, what: impl Into<String>) {
        let what = what.into();
        if !self.unpriced.contains(&what) {
            self.assume(format!(
                "{what}: no price in paved's table for {}; not counted",
                self.region
            ));
            self.unpriced.push(what);
        }
    }

    /// The finished estimate: lines rounded to the cent, the total their sum.
    pub fn finish(self) -> CostEstimate {
        let by_component: BTreeMap<String, f64> =
            self.lines.into_iter().map(|(k, v)| (k, cents(v))).collect();
        let monthly_usd = cents(by_component.values().sum());
        CostEstimate {
            monthly_usd,
            by_component,
            assumptions: self.assumptions,
            prices_as_of: PRICES_AS_OF,
            unpriced: self.unpriced,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_one_name_add_up_and_the_total_is_their_rounded_sum() {
        let mut e = Estimate::new("us-east-1");
        e.hourly("nat_gateways", 0.045, 3.0);
        e.add("nat_gateways", 4.5);
        e.add("volumes", 0.004);
        let done = e.finish();
        assert_eq!(done.by_component["nat_gateways"], 103.05);
        assert_eq!(done.by_component["volumes"], 0.0);
        assert_eq!(done.monthly_usd, 103.05);
        assert_eq!(done.prices_as_of, PRICES_AS_OF);
    }

    #[test]
    fn an_unpriced_item_is_said_once_and_left_out() {
        let mut e = Estimate::new("eu-west-1");
        e.unpriced("instance type z9.large");
        e.unpriced("instance type z9.large");
        e.assume("a");
        e.assume("a");
        let done = e.finish();
        assert_eq!(done.unpriced, vec!["instance type z9.large"]);
        assert_eq!(done.assumptions.len(), 2);
        assert!(done.assumptions[0].contains("no price in paved's table for eu-west-1"));
        assert_eq!(done.monthly_usd, 0.0);
    }
}
