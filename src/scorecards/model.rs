//! The scorecard's figures and its score: pure arithmetic over the sums the store reads, so the
//! rules are stated (and tested) once.
//!
//! **Score** (0–100, one decimal): the weighted mean of five components, each on 0–100:
//!
//! | component | from | 0 | 100 |
//! |---|---|---|---|
//! | `growth` | `growth_bp` (revenue against the same-length window just before) | −50 % or worse | +50 % or better (linear, 0 % → 50) |
//! | `attainment` | `attainment_bp` (revenue / revenue target) | 0 % | 100 % or more (linear) |
//! | `share` | `market_share_bp` | 0 bp | 10000 bp (bp / 100) |
//! | `satisfaction` | `customer_satisfaction` | 0 | 100 (as is) |
//! | `cost` | `cost_ratio_bp` (cost / revenue) | 50 % or more | 0 % (linear) |
//!
//! Default weights `growth:30,attainment:30,share:10,satisfaction:10,cost:20`; a request may pass
//! its own (`weights=`; names left out weigh 0). A component that cannot be computed — no revenue
//! in the window before (growth), no revenue target (attainment), no share or satisfaction
//! recorded, neither revenue nor cost (cost) — is left out and the weights of the present ones
//! renormalised. A partner or group without performance records in the window has no score
//! (null), not a zero; so has one whose present components all weigh 0.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::partners::model::{ChannelType, PartnerKind, Tier};
use crate::performance::period::{check_month, Month};
use crate::validation::Check;

/// The longest window a scorecard covers.
pub const MAX_MONTHS: i64 = 36;

crate::text_enum! {
    /// What one scorecard item stands for: a partner, or all partners of a channel type, kind,
    /// tier or region.
    GroupBy { Partner => "partner", ChannelType => "channel_type", Kind => "kind", Tier => "tier", Region => "region" }
}

crate::text_enum! {
    /// `score`, `revenue`, `growth`, `attainment`: highest first; `cost_ratio`: lowest first.
    SortBy { Score => "score", Revenue => "revenue", Growth => "growth", CostRatio => "cost_ratio", Attainment => "attainment" }
}

/// The window and the weights, shared by the list and the partner scorecard.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// The first month, `YYYY-MM` (included).
    #[param(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub from: String,
    /// The last month, `YYYY-MM` (included): not before `from`, at most 36 months after it.
    #[param(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-12")]
    pub to: String,
    /// Only records of this product line (compared ignoring case and width). Costs and targets
    /// are kept per partner, not per line, so with a product line they are left out (null) and
    /// the score weighs growth, share and satisfaction only.
    #[param(min_length = 1, max_length = 100)]
    pub product_line: Option<String>,
    /// The score's weights, e.g. `growth:30,attainment:30,share:10,satisfaction:10,cost:20` (the
    /// default): whole numbers 0–9999, each name at most once, names left out weigh 0, the sum
    /// must be above 0.
    #[param(
        pattern = r"^(growth|attainment|share|satisfaction|cost):[0-9]{1,4}(,(growth|attainment|share|satisfaction|cost):[0-9]{1,4}){0,4}$",
        example = "growth:30,attainment:30,share:10,satisfaction:10,cost:20"
    )]
    pub weights: Option<String>,
}

/// Which partners a ranking covers and how it groups and orders them.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardFilter {
    /// Default `partner`.
    pub group_by: Option<GroupBy>,
    /// Default `score`. Highest first, except `cost_ratio`: lowest (cheapest) first. Items
    /// without the value (no score, no target, no revenue before) come last.
    pub sort: Option<SortBy>,
    pub channel_type: Option<ChannelType>,
    pub kind: Option<PartnerKind>,
    pub tier: Option<Tier>,
    /// Partners of this region (exact).
    #[param(min_length = 1, max_length = 200)]
    pub region: Option<String>,
}

/// A checked window: the months it covers and the same-length window just before it.
#[derive(Debug, Clone)]
pub struct Window {
    pub from: Month,
    pub to: Month,
    /// The first month of the window before (`from` itself when that would be before 1970:
    /// then the window before is empty).
    pub prev_from: Month,
    pub product_line: Option<String>,
    pub weights: Weights,
}

impl Window {
    pub fn months(&self) -> i64 {
        self.from.months_until(self.to) + 1
    }
}

impl WindowParams {
    pub fn check(&self, c: &mut Check) -> Option<Window> {
        let from = check_month(c, "from", &self.from);
        let to = check_month(c, "to", &self.to);
        if let (Some(a), Some(b)) = (from, to) {
            if b < a {
                c.add("to", "must not be before from");
            } else if a.months_until(b) + 1 > MAX_MONTHS {
                c.add("to", format!("the window is at most {MAX_MONTHS} months"));
            }
        }
        c.opt_text("product_line", self.product_line.as_deref(), 100);
        let weights = match self.weights.as_deref().map(Weights::parse) {
            None => Some(Weights::DEFAULT),
            Some(Ok(w)) => Some(w),
            Some(Err(message)) => {
                c.add("weights", message);
                None
            }
        };
        let (from, to, weights) = (from?, to?, weights?);
        let n = from.months_until(to) + 1;
        Some(Window {
            from,
            to,
            prev_from: from.plus(-n).unwrap_or(from),
            product_line: self.product_line.clone(),
            weights,
        })
    }

    pub fn validate(&self) -> Result<Window, ApiError> {
        let mut c = Check::new();
        let window = self.check(&mut c);
        c.finish()?;
        window.ok_or_else(|| ApiError::internal("a checked window is missing"))
    }
}

impl ScorecardFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.opt_text("region", self.region.as_deref(), 200);
        c.finish()
    }
}

/// How much each component counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    pub growth: u32,
    pub attainment: u32,
    pub share: u32,
    pub satisfaction: u32,
    pub cost: u32,
}

pub const WEIGHT_HINT: &str =
    "must be name:weight pairs separated by commas, names growth, attainment, share, satisfaction, cost, weights whole numbers 0-9999, e.g. growth:30,attainment:30,share:10,satisfaction:10,cost:20";

impl Weights {
    pub const DEFAULT: Weights = Weights { growth: 30, attainment: 30, share: 10, satisfaction: 10, cost: 20 };

    /// `growth:30,cost:20,…`, as the parameter's pattern states it, plus: each name once, a sum
    /// above 0.
    pub fn parse(text: &str) -> Result<Weights, String> {
        let mut w = Weights { growth: 0, attainment: 0, share: 0, satisfaction: 0, cost: 0 };
        let mut seen = Vec::new();
        for pair in text.split(',') {
            let (name, value) = pair.split_once(':').ok_or_else(|| WEIGHT_HINT.to_string())?;
            if value.is_empty() || value.len() > 4 || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(WEIGHT_HINT.to_string());
            }
            let value: u32 = value.parse().map_err(|_| WEIGHT_HINT.to_string())?;
            let slot = match name {
                "growth" => &mut w.growth,
                "attainment" => &mut w.attainment,
                "share" => &mut w.share,
                "satisfaction" => &mut w.satisfaction,
                "cost" => &mut w.cost,
                _ => return Err(format!("unknown weight {name:?}: {WEIGHT_HINT}")),
            };
            if seen.contains(&name) {
                return Err(format!("names {name} twice"));
            }
            seen.push(name);
            *slot = value;
        }
        if w.growth + w.attainment + w.share + w.satisfaction + w.cost == 0 {
            return Err("the weights must not all be 0".into());
        }
        Ok(w)
    }
}

/// What the store sums for one partner or group over the window (and the window before).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Performance records in the window.
    pub records: i64,
    pub revenue_minor: i64,
    pub prev_revenue_minor: i64,
    pub units: i64,
    pub new_customers: i64,
    /// Σ revenue × satisfaction and Σ revenue over the records with a satisfaction; and the
    /// plain sum and count, for when those records have no revenue.
    pub satisfaction: Mean,
    pub share: Mean,
    /// None when costs do not apply (a product line's scorecard).
    pub cost_minor: Option<i64>,
    /// None when no revenue target falls in the window (or targets do not apply).
    pub target_minor: Option<i64>,
}

/// The parts of a revenue-weighted mean.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mean {
    pub weighted: f64,
    pub weight: f64,
    pub sum: f64,
    pub count: i64,
}

impl Mean {
    /// Σ(revenue × value) / Σ revenue; the plain mean when the records have no revenue; None
    /// without values.
    pub fn value(&self) -> Option<f64> {
        if self.weight > 0.0 {
            Some(self.weighted / self.weight)
        } else if self.count > 0 {
            Some(self.sum / self.count as f64)
        } else {
            None
        }
    }
}

/// The 0–100 value of each component; null when it cannot be computed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Components {
    pub growth: Option<f64>,
    pub attainment: Option<f64>,
    pub share: Option<f64>,
    pub satisfaction: Option<f64>,
    pub cost: Option<f64>,
}

/// A partner's or group's figures over the window. Money is CNY in fen (records in other
/// currencies are not added), rates in basis points, rounded half up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    /// Revenue of the window's whole-business records (or the product line's).
    pub revenue_minor: i64,
    /// Revenue of the same-length window just before.
    pub prev_revenue_minor: i64,
    /// (revenue − previous) / previous; null when there was no revenue before.
    pub growth_bp: Option<i64>,
    pub units: i64,
    pub new_customers: i64,
    /// Revenue-weighted mean of the records' satisfaction (0–100, one decimal).
    pub customer_satisfaction: Option<f64>,
    /// Revenue-weighted mean of the records' market share.
    pub market_share_bp: Option<i64>,
    /// Sum of the window's cost records; null with a product line.
    pub cost_minor: Option<i64>,
    /// cost / revenue; null without revenue (or with a product line).
    pub cost_ratio_bp: Option<i64>,
    /// revenue − cost; null with a product line.
    pub contribution_minor: Option<i64>,
    /// Revenue targets whose whole period lies in the window. Where a partner has a target for
    /// a year and others for its quarters or months, the coarsest counts (the finer ones are its
    /// breakdown); null when there is none.
    pub target_minor: Option<i64>,
    /// revenue / target; null without a target.
    pub attainment_bp: Option<i64>,
    /// 0–100, one decimal; null without records in the window.
    pub score: Option<f64>,
    pub components: Components,
}

/// `n / d` rounded half away from zero; None when `d` is 0.
pub fn div_round(n: i128, d: i128) -> Option<i64> {
    if d == 0 {
        return None;
    }
    let (n, d) = if d < 0 { (-n, -d) } else { (n, d) };
    let q = if n >= 0 { (2 * n + d) / (2 * d) } else { -((-2 * n + d) / (2 * d)) };
    Some(i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN }))
}

fn bp(part: i64, whole: i64) -> Option<i64> {
    div_round(i128::from(part) * 10_000, i128::from(whole))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn clamp100(x: f64) -> f64 {
    x.clamp(0.0, 100.0)
}

impl Figures {
    pub fn compute(t: &Totals, w: &Weights) -> Figures {
        let growth_bp = if t.prev_revenue_minor > 0 {
            bp(t.revenue_minor - t.prev_revenue_minor, t.prev_revenue_minor)
        } else {
            None
        };
        let customer_satisfaction = t.satisfaction.value().map(round1);
        let market_share_bp = t.share.value().map(|v| v.round() as i64);
        let cost_ratio_bp = t.cost_minor.and_then(|c| if t.revenue_minor > 0 { bp(c, t.revenue_minor) } else { None });
        let attainment_bp = t.target_minor.and_then(|target| bp(t.revenue_minor, target));
        let cost = match (t.cost_minor, cost_ratio_bp) {
            (_, Some(ratio)) => Some(clamp100(100.0 - ratio as f64 / 50.0)),
            // Cost without any revenue: the worst ratio there is.
            (Some(c), None) if c > 0 => Some(0.0),
            _ => None,
        };
        let components = Components {
            growth: growth_bp.map(|g| clamp100((g as f64 + 5000.0) / 100.0)),
            attainment: attainment_bp.map(|a| clamp100(a as f64 / 100.0)),
            share: market_share_bp.map(|s| clamp100(s as f64 / 100.0)),
            satisfaction: customer_satisfaction.map(clamp100),
            cost,
        };
        let score = if t.records > 0 { score(&components, w) } else { None };
        Figures {
            revenue_minor: t.revenue_minor,
            prev_revenue_minor: t.prev_revenue_minor,
            growth_bp,
            units: t.units,
            new_customers: t.new_customers,
            customer_satisfaction,
            market_share_bp,
            cost_minor: t.cost_minor,
            cost_ratio_bp,
            contribution_minor: t.cost_minor.map(|c| t.revenue_minor - c),
            target_minor: t.target_minor,
            attainment_bp,
            score,
            components,
        }
    }

    /// The value `sort` orders by, as a number that sorts ascending (descending sorts negate),
    /// and None for an item without it (listed last). Scores count in tenths.
    pub fn sort_value(&self, sort: SortBy) -> Option<i64> {
        match sort {
            SortBy::Score => self.score.map(|s| -((s * 10.0).round() as i64)),
            SortBy::Revenue => Some(-self.revenue_minor),
            SortBy::Growth => self.growth_bp.map(|g| -g),
            SortBy::CostRatio => self.cost_ratio_bp,
            SortBy::Attainment => self.attainment_bp.map(|a| -a),
        }
    }
}

/// Σ weight × component / Σ weight over the components that are present and weigh more than 0.
pub fn score(c: &Components, w: &Weights) -> Option<f64> {
    let parts = [
        (c.growth, w.growth),
        (c.attainment, w.attainment),
        (c.share, w.share),
        (c.satisfaction, w.satisfaction),
        (c.cost, w.cost),
    ];
    let (mut sum, mut weight) = (0.0, 0.0);
    for (value, wt) in parts {
        if let Some(v) = value.filter(|_| wt > 0) {
            sum += v * f64::from(wt);
            weight += f64::from(wt);
        }
    }
    (weight > 0.0).then(|| round1(sum / weight))
}

/// One row of the ranking.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScorecardItem {
    /// The partner id, or the channel type, kind, tier or region ('' for partners without one).
    pub key: String,
    /// The partner's name, or the group's key ('(no region)' for partners without one).
    pub label: String,
    #[serde(flatten)]
    pub figures: Figures,
    /// 1 for the highest score; equal scores share a rank (1, 2, 2, 4); null without a score.
    pub rank: Option<i64>,
}

/// Ranks by score (equal scores share a rank) and orders the items by `sort`, items without the
/// value last, then by key.
pub fn rank_and_sort(items: &mut [ScorecardItem], sort: SortBy) {
    items.sort_by(|a, b| {
        let (x, y) = (a.figures.sort_value(SortBy::Score), b.figures.sort_value(SortBy::Score));
        (x.is_none(), x, &a.key).cmp(&(y.is_none(), y, &b.key))
    });
    let mut previous: Option<(i64, i64)> = None;
    for (i, item) in items.iter_mut().enumerate() {
        let Some(value) = item.figures.sort_value(SortBy::Score) else { break };
        let rank = match previous {
            Some((v, r)) if v == value => r,
            _ => i as i64 + 1,
        };
        item.rank = Some(rank);
        previous = Some((value, rank));
    }
    items.sort_by_cached_key(|item| order_key(item, sort));
}

/// The position of an item in a `sort` ordering (what a cursor remembers).
pub fn order_key(item: &ScorecardItem, sort: SortBy) -> (bool, Option<i64>, String) {
    let v = item.figures.sort_value(sort);
    (v.is_none(), v, item.key.clone())
}

/// A cursor's parts back into an order key: `[value or "", key]`.
pub fn cursor_key(parts: &[String]) -> Result<(bool, Option<i64>, String), ApiError> {
    let bad = || ApiError::field("cursor", "is not a cursor this list issued");
    let [value, key] = parts else { return Err(bad()) };
    let value = if value.is_empty() { None } else { Some(value.parse::<i64>().map_err(|_| bad())?) };
    Ok((value.is_none(), value, key.clone()))
}

pub fn cursor_parts(item: &ScorecardItem, sort: SortBy) -> Vec<String> {
    let v = item.figures.sort_value(sort).map(|v| v.to_string()).unwrap_or_default();
    vec![v, item.key.clone()]
}

/// One month of a partner's scorecard.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MonthFigures {
    #[schema(example = "2026-03")]
    pub period: String,
    pub revenue_minor: i64,
    /// Null with a product line.
    pub cost_minor: Option<i64>,
    /// The month's share of the revenue targets counted in `target_minor`: a quarter's or a
    /// year's target spread evenly over its months (the remainder on its last month).
    pub target_minor: Option<i64>,
    pub units: i64,
    pub new_customers: i64,
}

/// One partner's scorecard: the ranking's figures plus the months.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartnerScorecard {
    pub partner_id: String,
    pub name: String,
    #[schema(example = "2026-01")]
    pub from: String,
    #[schema(example = "2026-12")]
    pub to: String,
    #[serde(flatten)]
    pub figures: Figures,
    pub months: Vec<MonthFigures>,
}

/// A counted revenue target, for spreading over its months.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSpan {
    pub first: Month,
    pub last: Month,
    pub value: i64,
}

/// Each month's share of the targets: the value split evenly, the remainder on the last month.
pub fn spread(targets: &[TargetSpan], month: Month) -> Option<i64> {
    let mut total = None;
    for t in targets.iter().filter(|t| t.first <= month && month <= t.last) {
        let n = t.first.months_until(t.last) + 1;
        let mut share = t.value / n;
        if month == t.last {
            share += t.value % n;
        }
        total = Some(total.unwrap_or(0) + share);
    }
    total
}

/// The CSV columns of the ranking, in order.
pub const CSV_HEADER: &[&str] = &[
    "key",
    "label",
    "revenue_minor",
    "prev_revenue_minor",
    "growth_bp",
    "units",
    "new_customers",
    "customer_satisfaction",
    "market_share_bp",
    "cost_minor",
    "cost_ratio_bp",
    "contribution_minor",
    "target_minor",
    "attainment_bp",
    "score",
    "rank",
];

impl ScorecardItem {
    pub fn csv_row(&self) -> Vec<String> {
        fn opt<T: ToString>(v: Option<T>) -> String {
            v.map(|v| v.to_string()).unwrap_or_default()
        }
        let f = &self.figures;
        vec![
            self.key.clone(),
            self.label.clone(),
            f.revenue_minor.to_string(),
            f.prev_revenue_minor.to_string(),
            opt(f.growth_bp),
            f.units.to_string(),
            f.new_customers.to_string(),
            opt(f.customer_satisfaction),
            opt(f.market_share_bp),
            opt(f.cost_minor),
            opt(f.cost_ratio_bp),
            opt(f.contribution_minor),
            opt(f.target_minor),
            opt(f.attainment_bp),
            opt(f.score),
            opt(self.rank),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals() -> Totals {
        Totals {
            records: 2,
            revenue_minor: 120_000,
            prev_revenue_minor: 100_000,
            units: 3,
            new_customers: 1,
            satisfaction: Mean { weighted: 80.0 * 120_000.0, weight: 120_000.0, sum: 80.0, count: 1 },
            share: Mean { weighted: 2000.0 * 120_000.0, weight: 120_000.0, sum: 2000.0, count: 1 },
            cost_minor: Some(24_000),
            target_minor: Some(150_000),
        }
    }

    #[test]
    fn figures_and_score_by_hand() {
        let f = Figures::compute(&totals(), &Weights::DEFAULT);
        assert_eq!(f.growth_bp, Some(2000));
        assert_eq!(f.cost_ratio_bp, Some(2000));
        assert_eq!(f.contribution_minor, Some(96_000));
        assert_eq!(f.attainment_bp, Some(8000));
        assert_eq!(f.market_share_bp, Some(2000));
        assert_eq!(f.customer_satisfaction, Some(80.0));
        // growth 70, attainment 80, share 20, satisfaction 80, cost 60:
        // (70·30 + 80·30 + 20·10 + 80·10 + 60·20) / 100 = 67.
        assert_eq!(f.components.growth, Some(70.0));
        assert_eq!(f.components.cost, Some(60.0));
        assert_eq!(f.score, Some(67.0));
    }

    #[test]
    fn missing_components_are_left_out_and_the_rest_renormalised() {
        let t = Totals { prev_revenue_minor: 0, target_minor: None, ..totals() };
        let f = Figures::compute(&t, &Weights::DEFAULT);
        assert_eq!((f.growth_bp, f.attainment_bp), (None, None));
        // share 20·10 + satisfaction 80·10 + cost 60·20 over 40 = 55.
        assert_eq!(f.score, Some(55.0));
        let none = Totals { records: 0, ..totals() };
        assert_eq!(Figures::compute(&none, &Weights::DEFAULT).score, None, "no records: no score, not a zero");
        let only_cost = Weights { growth: 0, attainment: 0, share: 0, satisfaction: 0, cost: 1 };
        let bare = Totals { cost_minor: None, ..t };
        assert_eq!(Figures::compute(&bare, &only_cost).score, None, "nothing present weighs");
    }

    #[test]
    fn components_clamp_at_their_ends() {
        let boom = Totals { revenue_minor: 300_000, cost_minor: Some(0), target_minor: Some(100_000), ..totals() };
        let f = Figures::compute(&boom, &Weights::DEFAULT);
        assert_eq!(
            (f.components.growth, f.components.attainment, f.components.cost),
            (Some(100.0), Some(100.0), Some(100.0))
        );
        let bust = Totals { revenue_minor: 10_000, prev_revenue_minor: 100_000, cost_minor: Some(9_000), ..totals() };
        let f = Figures::compute(&bust, &Weights::DEFAULT);
        assert_eq!(f.growth_bp, Some(-9000));
        assert_eq!((f.components.growth, f.components.cost), (Some(0.0), Some(0.0)));
        let no_revenue = Totals { revenue_minor: 0, cost_minor: Some(5), ..totals() };
        let f = Figures::compute(&no_revenue, &Weights::DEFAULT);
        assert_eq!((f.cost_ratio_bp, f.components.cost), (None, Some(0.0)), "cost without revenue is the worst");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(div_round(5, 10), Some(1));
        assert_eq!(div_round(-5, 10), Some(-1));
        assert_eq!(div_round(4, 10), Some(0));
        assert_eq!(div_round(1, 0), None);
        assert_eq!(bp(1, 3), Some(3333));
        assert_eq!(bp(2, 3), Some(6667));
    }

    #[test]
    fn weights_parse_strictly() {
        assert_eq!(Weights::parse("growth:30,attainment:30,share:10,satisfaction:10,cost:20"), Ok(Weights::DEFAULT));
        let w = Weights::parse("cost:1").unwrap();
        assert_eq!((w.cost, w.growth), (1, 0));
        for bad in [
            "",
            "growth",
            "growth:",
            "growth:-1",
            "growth:1.5",
            "speed:3",
            "growth:1,growth:2",
            "cost:0",
            "growth:12345",
            "growth: 3",
        ] {
            assert!(Weights::parse(bad).is_err(), "{bad}");
        }
    }

    fn item(key: &str, score: Option<f64>, revenue: i64) -> ScorecardItem {
        ScorecardItem {
            key: key.into(),
            label: key.into(),
            figures: Figures { score, revenue_minor: revenue, ..Figures::default() },
            rank: None,
        }
    }

    #[test]
    fn ranks_share_ties_and_unscored_come_last() {
        let mut items =
            vec![item("a", Some(50.0), 1), item("b", None, 9), item("c", Some(70.0), 2), item("d", Some(50.0), 3)];
        rank_and_sort(&mut items, SortBy::Score);
        let got: Vec<_> = items.iter().map(|i| (i.key.as_str(), i.rank)).collect();
        assert_eq!(got, [("c", Some(1)), ("a", Some(2)), ("d", Some(2)), ("b", None)]);
        rank_and_sort(&mut items, SortBy::Revenue);
        let keys: Vec<_> = items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["b", "d", "c", "a"]);
        let parts = cursor_parts(&items[1], SortBy::Revenue);
        assert_eq!(cursor_key(&parts).unwrap(), order_key(&items[1], SortBy::Revenue));
    }

    #[test]
    fn windows_are_checked() {
        let params = |from: &str, to: &str, weights: Option<&str>| WindowParams {
            from: from.into(),
            to: to.into(),
            product_line: None,
            weights: weights.map(Into::into),
        };
        let w = params("2026-01", "2026-06", None).validate().unwrap();
        assert_eq!((w.months(), w.prev_from.to_string()), (6, "2025-07".to_string()));
        let fields =
            |p: WindowParams| p.validate().unwrap_err().errors.into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields(params("2026-13", "2026-01", None)), ["from"]);
        assert_eq!(fields(params("2026-06", "2026-01", None)), ["to"]);
        assert_eq!(fields(params("2024-01", "2027-01", None)), ["to"], "37 months");
        assert!(params("2024-01", "2026-12", None).validate().is_ok(), "36 months");
        assert_eq!(fields(params("2026-01", "2026-02", Some("cost:0"))), ["weights"]);
        assert_eq!(params("1970-01", "1970-03", None).validate().unwrap().prev_from.to_string(), "1970-01");
    }

    #[test]
    fn targets_spread_over_their_months() {
        let m = |s: &str| Month::parse(s).unwrap();
        let q = [TargetSpan { first: m("2026-01"), last: m("2026-03"), value: 100 }];
        let got: Vec<_> = m("2026-01").through(m("2026-04")).map(|x| spread(&q, x)).collect();
        assert_eq!(got, [Some(33), Some(33), Some(34), None]);
    }
}
