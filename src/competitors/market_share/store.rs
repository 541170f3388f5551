//! The two reads behind the market-share view: our records summed per region in the database,
//! and the competitors' observations with a share, of which the latest per (competitor, region)
//! is kept.

use std::collections::BTreeMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable};

use super::model::*;
use crate::db::schema::{competitor_observations as o, competitors as c, partners as p, performance_records as pr};
use crate::db::DbConn;
use crate::error::ApiError;

/// Per-region sums; SUM over BIGINT is NUMERIC on Postgres, hence the casts back. The weighted
/// sum is a double: revenue (≤ 10¹⁵) × share (≤ 10⁴) does not fit an i64.
type TotalsRow = (Option<String>, i64, i64, i64, Option<f64>, Option<f64>, i64, i64);

fn ours(conn: &mut DbConn, window: &Window) -> Result<BTreeMap<String, RegionTotals>, ApiError> {
    let mut q = pr::table
        .inner_join(p::table)
        .group_by(p::region)
        .select((
            p::region,
            sql::<BigInt>("CAST(COALESCE(SUM(performance_records.revenue_minor), 0) AS BIGINT)"),
            sql::<BigInt>("COUNT(DISTINCT performance_records.partner_id)"),
            sql::<BigInt>(
                "COUNT(DISTINCT CASE WHEN performance_records.market_share_bp IS NOT NULL \
                 THEN performance_records.partner_id END)",
            ),
            sql::<Nullable<Double>>(
                "SUM(CAST(performance_records.revenue_minor AS DOUBLE PRECISION) * performance_records.market_share_bp)",
            ),
            sql::<Nullable<Double>>(
                "SUM(CASE WHEN performance_records.market_share_bp IS NOT NULL \
                 THEN CAST(performance_records.revenue_minor AS DOUBLE PRECISION) END)",
            ),
            sql::<BigInt>("CAST(COALESCE(SUM(performance_records.market_share_bp), 0) AS BIGINT)"),
            sql::<BigInt>("COUNT(performance_records.market_share_bp)"),
        ))
        .into_boxed()
        .filter(pr::period.ge(window.from.to_string()).and(pr::period.le(window.to.to_string())))
        .filter(p::region.is_not_null());
    if let Some(region) = &window.region {
        q = q.filter(p::region.eq(region.clone()));
    }
    let rows: Vec<TotalsRow> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(region, revenue, partners, with_share, weighted, revenue_with_share, share_sum, share_records)| {
                let totals = RegionTotals {
                    revenue_minor: revenue,
                    partners,
                    partners_with_share: with_share,
                    weighted_share: weighted.unwrap_or(0.0),
                    revenue_with_share: revenue_with_share.unwrap_or(0.0),
                    share_sum,
                    share_records,
                };
                Some((region?, totals))
            },
        )
        .collect())
}

/// (competitor id, its name, region, share, observed on, observation id).
type ObservationRow = (String, String, Option<String>, Option<i64>, String, String);

/// Each current competitor's latest observation with a share per region, up to the window's end.
fn theirs(conn: &mut DbConn, window: &Window) -> Result<BTreeMap<String, Vec<CompetitorShare>>, ApiError> {
    let last_day = window.to.last_day().map_or_else(|| "9999-12-31".to_string(), |d| d.to_string());
    let mut q = o::table
        .inner_join(c::table)
        .filter(c::archived_at.is_null())
        .filter(o::market_share_bp.is_not_null().and(o::region.is_not_null()))
        .filter(o::observed_on.le(last_day))
        .into_boxed();
    if let Some(region) = &window.region {
        q = q.filter(o::region.eq(region.clone()));
    }
    let rows: Vec<ObservationRow> = q
        .order((o::competitor_id, o::region, o::observed_on.desc(), o::created_at.desc(), o::id.desc()))
        .select((o::competitor_id, c::name, o::region, o::market_share_bp, o::observed_on, o::id))
        .load(conn)?;
    let mut by_region: BTreeMap<String, Vec<CompetitorShare>> = BTreeMap::new();
    for (competitor_id, name, region, share, observed_on, observation_id) in rows {
        let (Some(region), Some(share_bp), Ok(observed_on)) = (region, share, observed_on.parse()) else {
            continue;
        };
        let list = by_region.entry(region).or_default();
        // Rows come newest first per (competitor, region): the first one of a competitor wins.
        if list.iter().any(|s| s.competitor_id == competitor_id) {
            continue;
        }
        list.push(CompetitorShare { competitor_id, name, share_bp, observed_on, observation_id });
    }
    Ok(by_region)
}

pub fn market_share(conn: &mut DbConn, window: &Window) -> Result<MarketShare, ApiError> {
    let mut ours = ours(conn, window)?;
    let mut theirs = theirs(conn, window)?;
    let mut regions: Vec<String> = ours.keys().chain(theirs.keys()).cloned().collect();
    if let Some(region) = &window.region {
        regions.push(region.clone());
    }
    regions.sort();
    regions.dedup();
    let regions = regions
        .into_iter()
        .map(|region| {
            let ours = ours.remove(&region).unwrap_or_default().our_share();
            let mut competitors = theirs.remove(&region).unwrap_or_default();
            competitors.sort_by(|a, b| b.share_bp.cmp(&a.share_bp).then_with(|| a.name.cmp(&b.name)));
            let unaccounted_bp = unaccounted_bp(ours.share_bp, &competitors);
            RegionShare { region, ours, competitors, unaccounted_bp }
        })
        .collect();
    Ok(MarketShare {
        period: window.period.to_string(),
        from: window.from.to_string(),
        to: window.to.to_string(),
        regions,
    })
}
