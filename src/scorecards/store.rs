//! The scorecard's sums, read with GROUP BY over performance records (summed per partner, then
//! joined to partners), cost records and targets: one row per partner or group and query, never a
//! row per record. The
//! queries are SQL text because the group key is chosen per request; every value is bound.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};

use super::model::*;
use crate::access::Scope;
use crate::db::{self, DbConn, MultiBackend};
use crate::error::ApiError;
use crate::performance::period::Month;
use crate::performance::records::model::line_key;

/// A statement under construction: text with numbered placeholders in the backend's style and
/// the text values bound to them.
struct Sql {
    text: String,
    binds: Vec<String>,
    postgres: bool,
}

impl Sql {
    fn new(conn: &DbConn) -> Self {
        Sql { text: String::new(), binds: Vec::new(), postgres: conn.backend() == db::Backend::Postgres }
    }

    /// The placeholder of a new bound value.
    fn bind(&mut self, value: impl Into<String>) -> String {
        self.binds.push(value.into());
        // Numbered on both backends (`$n`, SQLite's `?n`), so a value may be bound before the
        // text that uses it is placed.
        if self.postgres {
            format!("${}", self.binds.len())
        } else {
            format!("?{}", self.binds.len())
        }
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn load<T: QueryableByName<MultiBackend> + 'static>(self, conn: &mut DbConn) -> Result<Vec<T>, ApiError> {
        let mut q = diesel::sql_query(self.text).into_boxed::<MultiBackend>();
        for value in self.binds {
            q = q.bind::<Text, _>(value);
        }
        Ok(q.load(conn)?)
    }
}

/// Which partners a query covers.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub group_by: Option<GroupBy>,
    pub filter: ScorecardFilter,
    /// One partner (its scorecard): archived or not.
    pub partner_id: Option<String>,
}

impl Selection {
    fn group_by(&self) -> GroupBy {
        self.group_by.unwrap_or(GroupBy::Partner)
    }

    fn key_sql(&self) -> &'static str {
        match self.group_by() {
            GroupBy::Partner => "p.id",
            GroupBy::ChannelType => "p.channel_type",
            GroupBy::Kind => "p.kind",
            GroupBy::Tier => "p.tier",
            GroupBy::Region => "COALESCE(p.region, '')",
        }
    }

    /// ` AND …` conditions on `p` for the filters and the caller's scope.
    fn partner_conditions(&self, sql: &mut Sql, scope: &Scope) -> String {
        let mut out = String::new();
        match &self.partner_id {
            Some(id) => out.push_str(&format!(" AND p.id = {}", sql.bind(id.clone()))),
            // A ranking is of the current partners; an archived one keeps its own scorecard.
            None => out.push_str(" AND p.archived_at IS NULL"),
        }
        if let Scope::Partner(own) = scope {
            out.push_str(&format!(" AND p.id = {}", sql.bind(own.clone())));
        }
        let f = &self.filter;
        if let Some(v) = f.channel_type {
            out.push_str(&format!(" AND p.channel_type = {}", sql.bind(v.as_str())));
        }
        if let Some(v) = f.kind {
            out.push_str(&format!(" AND p.kind = {}", sql.bind(v.as_str())));
        }
        if let Some(v) = f.tier {
            out.push_str(&format!(" AND p.tier = {}", sql.bind(v.as_str())));
        }
        if let Some(v) = &f.region {
            out.push_str(&format!(" AND p.region = {}", sql.bind(v.clone())));
        }
        out
    }
}

#[derive(QueryableByName)]
struct GroupRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Text)]
    label: String,
}

#[derive(QueryableByName)]
struct PerfRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    records: i64,
    #[diesel(sql_type = BigInt)]
    revenue: i64,
    #[diesel(sql_type = BigInt)]
    prev_revenue: i64,
    #[diesel(sql_type = BigInt)]
    units: i64,
    #[diesel(sql_type = BigInt)]
    new_customers: i64,
    #[diesel(sql_type = Nullable<Double>)]
    sat_weighted: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    sat_weight: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    sat_sum: Option<f64>,
    #[diesel(sql_type = BigInt)]
    sat_count: i64,
    #[diesel(sql_type = Nullable<Double>)]
    share_weighted: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    share_weight: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    share_sum: Option<f64>,
    #[diesel(sql_type = BigInt)]
    share_count: i64,
}

#[derive(QueryableByName)]
struct SumRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(QueryableByName)]
struct TargetRow {
    #[diesel(sql_type = Text)]
    first_month: String,
    #[diesel(sql_type = Text)]
    last_month: String,
    #[diesel(sql_type = BigInt)]
    target_value: i64,
}

// SUM of a BIGINT is NUMERIC on Postgres: cast back so both backends read an i64. Means are
// taken in floating point (the weights multiply revenue by a satisfaction or a share).
fn sum(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

fn real(expr: &str) -> String {
    format!("CAST({expr} AS DOUBLE PRECISION)")
}

/// The groups the selection covers, with their labels.
fn groups(conn: &mut DbConn, sel: &Selection, scope: &Scope) -> Result<Vec<(String, String)>, ApiError> {
    let mut sql = Sql::new(conn);
    let cond = sel.partner_conditions(&mut sql, scope);
    let key = sel.key_sql();
    let text = match sel.group_by() {
        GroupBy::Partner => format!("SELECT p.id AS key, p.name AS label FROM partners p WHERE 1 = 1{cond}"),
        _ => format!("SELECT {key} AS key, {key} AS label FROM partners p WHERE 1 = 1{cond} GROUP BY {key}"),
    };
    sql.push(&text);
    let rows: Vec<GroupRow> = sql.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let label =
                if sel.group_by() == GroupBy::Region && r.label.is_empty() { "(no region)".into() } else { r.label };
            (r.key, label)
        })
        .collect())
}

fn performance(
    conn: &mut DbConn,
    sel: &Selection,
    window: &Window,
    scope: &Scope,
) -> Result<HashMap<String, Totals>, ApiError> {
    let mut sql = Sql::new(conn);
    let key = sel.key_sql();
    let from = sql.bind(window.from.to_string());
    let current = format!("pr.period >= {from}");
    let mean = |column: &str, name: &str| {
        let c = format!("{current} AND pr.{column} IS NOT NULL");
        let revenue = real("pr.revenue_minor");
        let value = real(&format!("pr.{column}"));
        format!(
            "SUM(CASE WHEN {c} THEN {revenue} * pr.{column} END) AS {name}_weighted, \
             SUM(CASE WHEN {c} THEN {revenue} END) AS {name}_weight, \
             SUM(CASE WHEN {c} THEN {value} END) AS {name}_sum, \
             CAST(COUNT(CASE WHEN {c} THEN 1 END) AS BIGINT) AS {name}_count"
        )
    };
    let (sat, share) = (mean("customer_satisfaction", "sat"), mean("market_share_bp", "share"));
    let lower = sql.bind(window.prev_from.to_string());
    let upper = sql.bind(window.to.to_string());
    let line = sql.bind(line_key(window.product_line.as_deref()));
    // One partner's scorecard (or a partner key's ranking) reads that partner's records only.
    let mut only = String::new();
    for id in [sel.partner_id.clone(), if let Scope::Partner(own) = scope { Some(own.clone()) } else { None }]
        .into_iter()
        .flatten()
    {
        only.push_str(&format!(" AND pr.partner_id = {}", sql.bind(id)));
    }
    let cond = sel.partner_conditions(&mut sql, scope);
    // Records are summed per partner first, from the covering index (line_key, partner_id, period,
    // …): no table row and no join per record. SQLite is told the index, since its planner
    // prefers the period range of performance_records_line and then reads every row; the
    // partners are joined to the per-partner sums, a row per partner, and grouped by the key.
    let hint = if sql.postgres { "" } else { " INDEXED BY performance_records_scorecard" };
    let outer = |name: &str| format!("CAST(COALESCE(SUM(a.{name}), 0) AS BIGINT) AS {name}");
    let outer_real = |name: &str| format!("SUM(a.{name}) AS {name}");
    let means: Vec<String> = ["sat", "share"]
        .iter()
        .flat_map(|m| {
            [
                outer_real(&format!("{m}_weighted")),
                outer_real(&format!("{m}_weight")),
                outer_real(&format!("{m}_sum")),
                outer(&format!("{m}_count")),
            ]
        })
        .collect();
    let text = format!(
        "SELECT {key} AS key, {}, {}, {}, {}, {}, {} \
         FROM (SELECT pr.partner_id AS partner_id, \
               CAST(COUNT(CASE WHEN {current} THEN 1 END) AS BIGINT) AS records, \
               {} AS revenue, {} AS prev_revenue, {} AS units, {} AS new_customers, {sat}, {share} \
               FROM performance_records pr{hint} \
               WHERE pr.line_key = {line} AND pr.period >= {lower} AND pr.period <= {upper}{only} \
               GROUP BY pr.partner_id) a \
         JOIN partners p ON p.id = a.partner_id WHERE 1 = 1{cond} \
         GROUP BY {key}",
        outer("records"),
        outer("revenue"),
        outer("prev_revenue"),
        outer("units"),
        outer("new_customers"),
        means.join(", "),
        // Revenue counts CNY records only, as targets' actuals do: no exchange rates here.
        sum(&format!("CASE WHEN {current} AND pr.currency = 'CNY' THEN pr.revenue_minor ELSE 0 END")),
        sum(&format!("CASE WHEN pr.period < {from} AND pr.currency = 'CNY' THEN pr.revenue_minor ELSE 0 END")),
        sum(&format!("CASE WHEN {current} THEN pr.units ELSE 0 END")),
        sum(&format!("CASE WHEN {current} THEN pr.new_customers ELSE 0 END")),
    );
    sql.push(&text);
    let rows: Vec<PerfRow> = sql.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let totals = Totals {
                records: r.records,
                revenue_minor: r.revenue,
                prev_revenue_minor: r.prev_revenue,
                units: r.units,
                new_customers: r.new_customers,
                satisfaction: Mean {
                    weighted: r.sat_weighted.unwrap_or(0.0),
                    weight: r.sat_weight.unwrap_or(0.0),
                    sum: r.sat_sum.unwrap_or(0.0),
                    count: r.sat_count,
                },
                share: Mean {
                    weighted: r.share_weighted.unwrap_or(0.0),
                    weight: r.share_weight.unwrap_or(0.0),
                    sum: r.share_sum.unwrap_or(0.0),
                    count: r.share_count,
                },
                cost_minor: None,
                target_minor: None,
            };
            (r.key, totals)
        })
        .collect())
}

fn costs(conn: &mut DbConn, sel: &Selection, window: &Window, scope: &Scope) -> Result<HashMap<String, i64>, ApiError> {
    let mut sql = Sql::new(conn);
    let key = sel.key_sql();
    let (lower, upper) = (sql.bind(window.from.to_string()), sql.bind(window.to.to_string()));
    let cond = sel.partner_conditions(&mut sql, scope);
    sql.push(&format!(
        "SELECT {key} AS key, {} AS total FROM cost_records c JOIN partners p ON p.id = c.partner_id \
         WHERE c.period >= {lower} AND c.period <= {upper} AND c.currency = 'CNY'{cond} GROUP BY {key}",
        sum("c.amount_minor")
    ));
    let rows: Vec<SumRow> = sql.load(conn)?;
    Ok(rows.into_iter().map(|r| (r.key, r.total)).collect())
}

/// ` AND …` keeping the revenue targets that count for the window: whole period inside it, and
/// no coarser target of the same partner inside it covering this one (a year's target and its
/// quarters' are one plan, counted once, at the year).
fn counted_targets(sql: &mut Sql, window: &Window) -> String {
    let (from, to) = (window.from.to_string(), window.to.to_string());
    let (lower, upper) = (sql.bind(from.clone()), sql.bind(to.clone()));
    let (o_lower, o_upper) = (sql.bind(from), sql.bind(to));
    format!(
        " AND t.metric = 'revenue' AND t.first_month >= {lower} AND t.last_month <= {upper} \
         AND NOT EXISTS (SELECT 1 FROM targets o WHERE o.partner_id = t.partner_id AND o.metric = 'revenue' \
         AND o.first_month >= {o_lower} AND o.last_month <= {o_upper} \
         AND o.first_month <= t.first_month AND o.last_month >= t.last_month \
         AND (o.first_month < t.first_month OR o.last_month > t.last_month))"
    )
}

fn targets(
    conn: &mut DbConn,
    sel: &Selection,
    window: &Window,
    scope: &Scope,
) -> Result<HashMap<String, i64>, ApiError> {
    let mut sql = Sql::new(conn);
    let key = sel.key_sql();
    let counted = counted_targets(&mut sql, window);
    let cond = sel.partner_conditions(&mut sql, scope);
    sql.push(&format!(
        "SELECT {key} AS key, {} AS total FROM targets t JOIN partners p ON p.id = t.partner_id \
         WHERE 1 = 1{counted}{cond} GROUP BY {key}",
        sum("t.target_value")
    ));
    let rows: Vec<SumRow> = sql.load(conn)?;
    Ok(rows.into_iter().map(|r| (r.key, r.total)).collect())
}

/// The items of the selection, ranked and ordered by `sort`.
pub fn items(
    conn: &mut DbConn,
    sel: &Selection,
    window: &Window,
    sort: SortBy,
    scope: &Scope,
) -> Result<Vec<ScorecardItem>, ApiError> {
    let groups = groups(conn, sel, scope)?;
    let mut perf = performance(conn, sel, window, scope)?;
    // Costs and targets are kept per partner, not per product line.
    let per_partner = window.product_line.is_none();
    let costs = if per_partner { costs(conn, sel, window, scope)? } else { HashMap::new() };
    let targets = if per_partner { targets(conn, sel, window, scope)? } else { HashMap::new() };
    let mut items: Vec<ScorecardItem> = groups
        .into_iter()
        .map(|(key, label)| {
            let mut totals = perf.remove(&key).unwrap_or_default();
            totals.cost_minor = per_partner.then(|| costs.get(&key).copied().unwrap_or(0));
            totals.target_minor = targets.get(&key).copied();
            let figures = Figures::compute(&totals, &window.weights);
            ScorecardItem { key, label, figures, rank: None }
        })
        .collect();
    rank_and_sort(&mut items, sort);
    Ok(items)
}

#[derive(QueryableByName)]
struct MonthRow {
    #[diesel(sql_type = Text)]
    period: String,
    #[diesel(sql_type = BigInt)]
    revenue: i64,
    #[diesel(sql_type = BigInt)]
    units: i64,
    #[diesel(sql_type = BigInt)]
    new_customers: i64,
}

#[derive(QueryableByName)]
struct MonthCost {
    #[diesel(sql_type = Text)]
    period: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// One partner's months of the window (every month, zeros where nothing was recorded).
pub fn months(conn: &mut DbConn, partner_id: &str, window: &Window) -> Result<Vec<MonthFigures>, ApiError> {
    let (from, to) = (window.from.to_string(), window.to.to_string());
    let mut sql = Sql::new(conn);
    let (id, lower, upper) = (sql.bind(partner_id), sql.bind(from.clone()), sql.bind(to.clone()));
    let line = sql.bind(line_key(window.product_line.as_deref()));
    sql.push(&format!(
        "SELECT pr.period AS period, {} AS revenue, {} AS units, {} AS new_customers FROM performance_records pr \
         WHERE pr.partner_id = {id} AND pr.period >= {lower} AND pr.period <= {upper} AND pr.line_key = {line} \
         GROUP BY pr.period",
        sum("CASE WHEN pr.currency = 'CNY' THEN pr.revenue_minor ELSE 0 END"),
        sum("pr.units"),
        sum("pr.new_customers"),
    ));
    let perf: HashMap<String, MonthRow> =
        sql.load::<MonthRow>(conn)?.into_iter().map(|r| (r.period.clone(), r)).collect();
    let per_partner = window.product_line.is_none();
    let (mut costs, mut spans) = (HashMap::new(), Vec::new());
    if per_partner {
        let mut sql = Sql::new(conn);
        let (id, lower, upper) = (sql.bind(partner_id), sql.bind(from.clone()), sql.bind(to.clone()));
        sql.push(&format!(
            "SELECT c.period AS period, {} AS total FROM cost_records c WHERE c.partner_id = {id} \
             AND c.period >= {lower} AND c.period <= {upper} AND c.currency = 'CNY' GROUP BY c.period",
            sum("c.amount_minor")
        ));
        costs = sql.load::<MonthCost>(conn)?.into_iter().map(|r| (r.period, r.total)).collect();
        let mut sql = Sql::new(conn);
        let counted = counted_targets(&mut sql, window);
        let id = sql.bind(partner_id);
        sql.push(&format!(
            "SELECT t.first_month AS first_month, t.last_month AS last_month, t.target_value AS target_value \
             FROM targets t WHERE t.partner_id = {id}{counted}"
        ));
        for row in sql.load::<TargetRow>(conn)? {
            let (Some(first), Some(last)) = (Month::parse(&row.first_month), Month::parse(&row.last_month)) else {
                return Err(ApiError::internal(format!(
                    "a target with months {} to {}",
                    row.first_month, row.last_month
                )));
            };
            spans.push(TargetSpan { first, last, value: row.target_value });
        }
    }
    Ok(window
        .from
        .through(window.to)
        .map(|month| {
            let period = month.to_string();
            let p = perf.get(&period);
            MonthFigures {
                revenue_minor: p.map_or(0, |p| p.revenue),
                units: p.map_or(0, |p| p.units),
                new_customers: p.map_or(0, |p| p.new_customers),
                cost_minor: per_partner.then(|| costs.get(&period).copied().unwrap_or(0)),
                target_minor: spread(&spans, month),
                period,
            }
        })
        .collect())
}
