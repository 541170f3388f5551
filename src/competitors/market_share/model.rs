//! The market-share view's query, answer and arithmetic.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::competitors::observations::model::FULL_SHARE_BP;
use crate::error::ApiError;
use crate::performance::period::{Month, Period, PERIOD_HINT};
use crate::validation::{Check, MAX_SHORT_TEXT};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MarketShareQuery {
    /// One region (as partners and observations name it); absent: every region that has
    /// performance records with a share in the period or a competitor observation with a share.
    #[param(min_length = 1, max_length = 200)]
    pub region: Option<String>,
    /// A month (`YYYY-MM`), a quarter (`YYYY-Qn`) or a year (`YYYY`). Default: the last full
    /// month (China Standard Time).
    #[param(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})(-(0[1-9]|1[0-2])|-Q[1-4])?$")]
    pub period: Option<String>,
}

/// A checked query: the region, the period and its first and last month.
pub struct Window {
    pub region: Option<String>,
    pub period: Period,
    pub from: Month,
    pub to: Month,
}

impl MarketShareQuery {
    pub fn window(&self, today: Month) -> Result<Window, ApiError> {
        let mut c = Check::new();
        if let Some(region) = &self.region {
            c.text("region", region, 1, MAX_SHORT_TEXT);
        }
        let period = match &self.period {
            Some(text) => Period::parse(text).or_else(|| {
                c.add("period", PERIOD_HINT);
                None
            }),
            None => today.plus(-1).map(Period::Month),
        };
        c.finish()?;
        let period = period.ok_or_else(|| ApiError::field("period", PERIOD_HINT))?;
        let (from, to) = period.months();
        Ok(Window { region: self.region.clone(), period, from, to })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MarketShare {
    /// The period as asked (or defaulted), e.g. `2026-Q1`.
    pub period: String,
    /// Its first month, `YYYY-MM`.
    pub from: String,
    /// Its last month, `YYYY-MM`.
    pub to: String,
    /// By region, in text order.
    pub regions: Vec<RegionShare>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionShare {
    pub region: String,
    pub ours: OurShare,
    /// Each current competitor's latest observation with a share in this region, observed on or
    /// before the period's last day; largest share first.
    pub competitors: Vec<CompetitorShare>,
    /// What neither we nor the listed competitors hold: 10000 − ours − theirs, never below 0;
    /// `null` when our share is unknown.
    pub unaccounted_bp: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct OurShare {
    /// Revenue-weighted mean of the partners' `market_share_bp` over the period's records that
    /// state one (a plain mean when all of them have zero revenue); `null` when none does.
    pub share_bp: Option<i64>,
    /// Revenue of every record in the region and period, shares stated or not.
    pub revenue_minor: i64,
    /// Partners with records in the region and period.
    pub partners: i64,
    /// Of them, the partners whose records state a share.
    pub partners_with_share: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompetitorShare {
    pub competitor_id: String,
    pub name: String,
    pub share_bp: i64,
    /// How old the figure is: the day of the observation it comes from.
    pub observed_on: NaiveDate,
    pub observation_id: String,
}

/// What the store sums per region over the performance records (see `store::ours`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionTotals {
    pub revenue_minor: i64,
    pub partners: i64,
    pub partners_with_share: i64,
    /// Σ revenue × share over records with a share.
    pub weighted_share: f64,
    /// Σ revenue over records with a share.
    pub revenue_with_share: f64,
    /// Σ share and the number of records with a share, for the plain mean.
    pub share_sum: i64,
    pub share_records: i64,
}

impl RegionTotals {
    pub fn our_share(&self) -> OurShare {
        let share_bp = if self.share_records == 0 {
            None
        } else if self.revenue_with_share > 0.0 {
            Some((self.weighted_share / self.revenue_with_share).round() as i64)
        } else {
            Some(((self.share_sum as f64) / (self.share_records as f64)).round() as i64)
        };
        OurShare {
            share_bp: share_bp.map(|s| s.clamp(0, FULL_SHARE_BP)),
            revenue_minor: self.revenue_minor,
            partners: self.partners,
            partners_with_share: self.partners_with_share,
        }
    }
}

/// 10000 − ours − Σ theirs, at least 0; unknown without our share.
pub fn unaccounted_bp(ours: Option<i64>, competitors: &[CompetitorShare]) -> Option<i64> {
    let theirs: i64 = competitors.iter().map(|c| c.share_bp).sum();
    ours.map(|o| (FULL_SHARE_BP - o - theirs).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    #[test]
    fn the_share_is_revenue_weighted() {
        // 9,000 fen at 20 % and 1,000 fen at 10 %: (9000×2000 + 1000×1000) / 10000 = 1900 bp.
        let t = RegionTotals {
            revenue_minor: 15_000,
            partners: 3,
            partners_with_share: 2,
            weighted_share: 9_000.0 * 2_000.0 + 1_000.0 * 1_000.0,
            revenue_with_share: 10_000.0,
            share_sum: 3_000,
            share_records: 2,
        };
        let ours = t.our_share();
        assert_eq!(ours.share_bp, Some(1_900));
        assert_eq!((ours.revenue_minor, ours.partners, ours.partners_with_share), (15_000, 3, 2));
    }

    #[test]
    fn zero_revenue_falls_back_to_the_plain_mean_and_no_share_is_unknown() {
        let t = RegionTotals { share_sum: 3_001, share_records: 2, ..RegionTotals::default() };
        assert_eq!(t.our_share().share_bp, Some(1_501), "half up");
        assert_eq!(
            RegionTotals { revenue_minor: 5, partners: 1, ..RegionTotals::default() }.our_share().share_bp,
            None
        );
    }

    #[test]
    fn unaccounted_never_goes_below_zero() {
        let c = |share_bp| CompetitorShare {
            competitor_id: "c".into(),
            name: "n".into(),
            share_bp,
            observed_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            observation_id: "o".into(),
        };
        assert_eq!(unaccounted_bp(Some(1_900), &[c(3_000), c(2_000)]), Some(3_100));
        assert_eq!(unaccounted_bp(Some(6_000), &[c(5_000)]), Some(0));
        assert_eq!(unaccounted_bp(None, &[c(5_000)]), None);
    }

    #[test]
    fn windows() {
        let q = MarketShareQuery { region: None, period: Some("2026-Q1".into()) };
        let w = q.window(month("2026-05")).unwrap();
        assert_eq!((w.from.to_string(), w.to.to_string()), ("2026-01".into(), "2026-03".into()));
        let w = MarketShareQuery::default().window(month("2026-05")).unwrap();
        assert_eq!((w.period.to_string(), w.from.to_string()), ("2026-04".into(), "2026-04".into()));
        let bad = MarketShareQuery { region: Some(String::new()), period: Some("2026-13".into()) };
        let err = bad.window(month("2026-05")).err().unwrap();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["region", "period"]);
    }
}
