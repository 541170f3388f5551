//! Incentive programs (激励政策): wire types, the rules of each kind and their validation, the
//! status moves and what may change once a program is active (pure, unit-tested).
//!
//! `rules` arrive as JSON and are read by `kind`, so an error names its exact path
//! (`rules.tiers[1].threshold`). Thresholds are strictly ascending; money is fen, rates basis points.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::bulletins::model::{Audience, AudienceRequest};
use crate::contracts::model::check_currency;
use crate::contracts::terms::model::{collect, parse_at};
use crate::db::types::{JsonText, UtcTime};
use crate::error::ApiError;
use crate::partners::model::Tier;
use crate::performance::period::{check_month, Month, Period, PERIOD_HINT};
use crate::performance::records::model::{MAX_COUNT, MAX_MINOR};
use crate::validation::{Check, MAX_SHORT_TEXT};

crate::record!(Program);
crate::json_column!(Audience, Rules);

crate::text_enum! {
    /// rebate 返点 · discount 折扣 · marketing_support 市场推广支持 (MDF).
    ProgramKind { Rebate => "rebate", Discount => "discount", MarketingSupport => "marketing_support" }
}

crate::text_enum! {
    /// draft → active → closed (final). An active program's rules are frozen.
    ProgramStatus { Draft => "draft", Active => "active", Closed => "closed" }
}

impl ProgramStatus {
    pub fn can_move_to(self, to: ProgramStatus) -> bool {
        matches!(
            (self, to),
            (ProgramStatus::Draft, ProgramStatus::Active) | (ProgramStatus::Active, ProgramStatus::Closed)
        )
    }
}

crate::text_enum! {
    /// What a rebate measures: revenue (fen) or units sold.
    Basis { Revenue => "revenue", Units => "units" }
}

crate::text_enum! {
    /// amount: thresholds on the basis itself; attainment: thresholds on the attainment of the
    /// partner's agreed target for the basis, in basis points (10000 = target reached).
    Measure { Amount => "amount", Attainment => "attainment" }
}

crate::text_enum! {
    /// retroactive: the highest tier reached pays its rate on the whole revenue; marginal: each
    /// band of the measure pays its own tier's rate on its share of the revenue.
    RebateMode { Retroactive => "retroactive", Marginal => "marginal" }
}

/// Basis points of a rate: 0–10000.
pub const MAX_RATE_BP: i64 = 10_000;
/// The largest attainment threshold: 1000 % of target.
pub const MAX_ATTAINMENT_BP: i64 = 100_000;
pub const MAX_TIERS: usize = 20;
pub const MAX_PRODUCT_LINES: usize = 50;

/// One step of a rebate schedule: a measure of at least `threshold` earns `rate_bp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebateStep {
    /// Fen (revenue), units, or attainment basis points, by `basis` and `measure`; strictly above
    /// the previous step's.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    pub threshold: i64,
    /// Basis points of revenue, 0–10000.
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    pub rate_bp: i64,
}

/// `rebate` rules. The money base is always the partner's revenue in the program's currency;
/// `basis` and `measure` decide what the thresholds are compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebateRules {
    pub basis: Basis,
    pub measure: Measure,
    #[schema(min_items = 1, max_items = 20)]
    pub tiers: Vec<RebateStep>,
    pub mode: RebateMode,
    /// The most one partner earns from the program in one statement, fen.
    #[serde(default, deserialize_with = "crate::contracts::whole::opt", skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
    pub cap_minor: Option<i64>,
    /// Count only these product lines' records (compared ignoring case and width); empty: the
    /// whole-business records.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub product_lines: Vec<String>,
}

/// `discount` rules: the rate off list price per partner tier; tiers not listed get none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountRules {
    pub by_tier: DiscountByTier,
}

/// Basis points off list price (0–10000) by partner tier; at least one tier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountByTier {
    #[serde(default, deserialize_with = "crate::contracts::whole::opt", skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 10000)]
    pub strategic: Option<i64>,
    #[serde(default, deserialize_with = "crate::contracts::whole::opt", skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 10000)]
    pub key: Option<i64>,
    #[serde(default, deserialize_with = "crate::contracts::whole::opt", skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 10000)]
    pub standard: Option<i64>,
    #[serde(default, deserialize_with = "crate::contracts::whole::opt", skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 10000)]
    pub probation: Option<i64>,
}

impl DiscountByTier {
    /// The rate the tier gets, if the program names it.
    pub fn rate(&self, tier: Tier) -> Option<i64> {
        match tier {
            Tier::Strategic => self.strategic,
            Tier::Key => self.key,
            Tier::Standard => self.standard,
            Tier::Probation => self.probation,
        }
    }
}

/// Months `from`–`to` (`YYYY-MM`, both included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonthWindow {
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2025-10")]
    pub from: String,
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2025-12")]
    pub to: String,
}

/// A partner's marketing support budget: either `fixed_minor`, or `rate_bp` of its revenue in
/// `window`, a window that ends before the program starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MdfBudget {
    #[serde(default, deserialize_with = "crate::contracts::whole::opt", skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
    pub fixed_minor: Option<i64>,
    #[serde(default, deserialize_with = "crate::contracts::whole::opt", skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10000)]
    pub rate_bp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<MonthWindow>,
}

/// `marketing_support` rules (MDF).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketingSupportRules {
    pub budget: MdfBudget,
    /// The last day claims are taken; not before the program's first month.
    pub claim_deadline: NaiveDate,
}

/// A program's rules, by its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Rules {
    Rebate(RebateRules),
    Discount(DiscountRules),
    MarketingSupport(MarketingSupportRules),
}

impl Rules {
    pub fn kind(&self) -> ProgramKind {
        match self {
            Rules::Rebate(_) => ProgramKind::Rebate,
            Rules::Discount(_) => ProgramKind::Discount,
            Rules::MarketingSupport(_) => ProgramKind::MarketingSupport,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::incentive_programs, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Program {
    pub id: String,
    pub name: String,
    pub kind: ProgramKind,
    /// The first month, `YYYY-MM`.
    #[serde(rename = "from")]
    #[diesel(column_name = from_month)]
    #[schema(example = "2026-01")]
    pub from: String,
    /// The last month, `YYYY-MM` (included).
    #[serde(rename = "to")]
    #[diesel(column_name = to_month)]
    #[schema(example = "2026-12")]
    pub to: String,
    #[diesel(serialize_as = JsonText)]
    pub audience: Audience,
    /// ISO 4217; statements of the program are in it.
    pub currency: String,
    pub status: ProgramStatus,
    #[diesel(serialize_as = JsonText)]
    pub rules: Rules,
    #[diesel(serialize_as = UtcTime)]
    pub activated_at: Option<DateTime<Utc>>,
    #[diesel(serialize_as = UtcTime)]
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

impl Program {
    pub fn months(&self) -> Option<(Month, Month)> {
        Some((Month::parse(&self.from)?, Month::parse(&self.to)?))
    }
}

/// The schema of `rules` on input: one of the per-kind shapes, chosen by `kind`.
pub type RulesInput = Rules;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramCreate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: ProgramKind,
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub from: String,
    /// Not before `from`.
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-12")]
    pub to: String,
    pub audience: AudienceRequest,
    /// ISO 4217, default CNY.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// The shape `kind` names: rebate `{basis, measure, tiers, mode, cap_minor?, product_lines?}`,
    /// discount `{by_tier}`, marketing_support `{budget, claim_deadline}`.
    #[schema(value_type = RulesInput)]
    pub rules: Value,
    /// Default `draft`; a program may be created `active`.
    pub status: Option<ProgramStatus>,
}

/// A JSON merge patch. `status` moves draft → active → closed; an active program changes only
/// its `name` and `status`, a closed one nothing.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub kind: Option<ProgramKind>,
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub from: Option<String>,
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-12")]
    pub to: Option<String>,
    pub audience: Option<AudienceRequest>,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// Replaces the rules whole; required when `kind` changes.
    #[schema(value_type = Option<RulesInput>)]
    pub rules: Option<Value>,
    pub status: Option<ProgramStatus>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgramFilter {
    pub kind: Option<ProgramKind>,
    pub status: Option<ProgramStatus>,
    /// Programs running at some time in this month, quarter or year (`YYYY-MM`, `YYYY-Qn`, `YYYY`).
    #[param(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})(-(0[1-9]|1[0-2])|-Q[1-4])?$")]
    pub period: Option<String>,
}

impl ProgramFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.period.as_deref().is_some_and(|p| Period::parse(p).is_none()) {
            return Err(ApiError::field("period", PERIOD_HINT));
        }
        Ok(())
    }

    /// The months the `period` filter covers.
    pub fn months(&self) -> Option<(Month, Month)> {
        self.period.as_deref().and_then(Period::parse).map(Period::months)
    }
}

fn range(c: &mut Check, field: String, value: i64, min: i64, max: i64) {
    if !(min..=max).contains(&value) {
        c.add(field, format!("must be between {min} and {max} (got {value})"));
    }
}

fn check_rebate(c: &mut Check, r: &RebateRules) {
    let max_threshold = match (r.measure, r.basis) {
        (Measure::Attainment, _) => MAX_ATTAINMENT_BP,
        (Measure::Amount, Basis::Revenue) => MAX_MINOR,
        (Measure::Amount, Basis::Units) => MAX_COUNT,
    };
    if r.tiers.is_empty() || r.tiers.len() > MAX_TIERS {
        c.add("rules.tiers", format!("must have 1 to {MAX_TIERS} tiers (got {})", r.tiers.len()));
    }
    for (i, step) in r.tiers.iter().enumerate() {
        let at = format!("rules.tiers[{i}]");
        range(c, format!("{at}.threshold"), step.threshold, 0, max_threshold);
        range(c, format!("{at}.rate_bp"), step.rate_bp, 0, MAX_RATE_BP);
        if i > 0 && step.threshold <= r.tiers[i - 1].threshold {
            c.add(
                format!("{at}.threshold"),
                format!(
                    "thresholds must be strictly ascending: {} is not above tier {}'s {}",
                    step.threshold,
                    i - 1,
                    r.tiers[i - 1].threshold
                ),
            );
        }
    }
    if let Some(cap) = r.cap_minor {
        range(c, "rules.cap_minor".into(), cap, 1, MAX_MINOR);
    }
    c.labels("rules.product_lines", &r.product_lines, 0, MAX_PRODUCT_LINES);
}

fn check_discount(c: &mut Check, r: &DiscountRules) {
    let t = &r.by_tier;
    let named = [("strategic", t.strategic), ("key", t.key), ("standard", t.standard), ("probation", t.probation)];
    if named.iter().all(|(_, v)| v.is_none()) {
        c.add("rules.by_tier", "must give a rate for at least one tier (strategic, key, standard, probation)");
    }
    for (tier, rate) in named {
        if let Some(v) = rate {
            range(c, format!("rules.by_tier.{tier}"), v, 0, MAX_RATE_BP);
        }
    }
}

fn check_mdf(c: &mut Check, r: &MarketingSupportRules, first: Option<Month>) {
    let b = &r.budget;
    match (b.fixed_minor, b.rate_bp) {
        (Some(v), None) => {
            range(c, "rules.budget.fixed_minor".into(), v, 1, MAX_MINOR);
            if b.window.is_some() {
                c.add("rules.budget.window", "goes with rate_bp only: a fixed budget has no revenue window");
            }
        }
        (None, Some(v)) => {
            range(c, "rules.budget.rate_bp".into(), v, 1, MAX_RATE_BP);
            match &b.window {
                None => c.add("rules.budget.window", "is required with rate_bp: the months whose revenue it takes"),
                Some(w) => {
                    let from = check_month(c, "rules.budget.window.from", &w.from);
                    let to = check_month(c, "rules.budget.window.to", &w.to);
                    if let (Some(from), Some(to)) = (from, to) {
                        if to < from {
                            c.add("rules.budget.window.to", "must not be before window.from");
                        }
                        if first.is_some_and(|f| to >= f) {
                            c.add(
                                "rules.budget.window.to",
                                "must be before the program's first month (an earlier window)",
                            );
                        }
                    }
                }
            }
        }
        _ => c.add("rules.budget", "must give exactly one of fixed_minor or rate_bp"),
    }
    c.date("rules.claim_deadline", Some(r.claim_deadline));
    if let Some(f) = first {
        if let Some(start) = NaiveDate::from_ymd_opt(f.year(), f.month(), 1) {
            if r.claim_deadline < start {
                c.add("rules.claim_deadline", format!("must not be before the program's first month ({f})"));
            }
        }
    }
}

/// Reads and checks `value` as the rules of a `kind` program that starts in `first`.
pub fn parse_rules(kind: ProgramKind, value: &Value, first: Option<Month>) -> Result<Rules, ApiError> {
    let rules = match kind {
        ProgramKind::Rebate => Rules::Rebate(parse_at(value, "rules")?),
        ProgramKind::Discount => Rules::Discount(parse_at(value, "rules")?),
        ProgramKind::MarketingSupport => Rules::MarketingSupport(parse_at(value, "rules")?),
    };
    let mut c = Check::new();
    match &rules {
        Rules::Rebate(r) => check_rebate(&mut c, r),
        Rules::Discount(r) => check_discount(&mut c, r),
        Rules::MarketingSupport(r) => check_mdf(&mut c, r, first),
    }
    c.finish()?;
    Ok(rules)
}

fn check_months(c: &mut Check, from: &str, to: &str) -> Option<Month> {
    let (f, t) = (check_month(c, "from", from), check_month(c, "to", to));
    if let (Some(f), Some(t)) = (f, t) {
        if t < f {
            c.add("to", "must not be before from");
        }
    }
    f
}

impl ProgramCreate {
    /// The program this input makes, every field checked (all errors together).
    pub fn into_program(self, id: String, now: DateTime<Utc>) -> Result<Program, ApiError> {
        let mut c = Check::new();
        c.text("name", &self.name, 1, MAX_SHORT_TEXT);
        let first = check_months(&mut c, &self.from, &self.to);
        self.audience.check(&mut c, "audience");
        if let Some(cur) = &self.currency {
            check_currency(&mut c, "currency", cur);
        }
        let rules = collect(&mut c, parse_rules(self.kind, &self.rules, first));
        if self.status == Some(ProgramStatus::Closed) {
            c.add("status", "a program starts as draft or active");
        }
        c.finish()?;
        let rules = rules.ok_or_else(|| ApiError::field("rules", "is invalid"))?;
        let status = self.status.unwrap_or(ProgramStatus::Draft);
        Ok(Program {
            id,
            name: self.name,
            kind: self.kind,
            from: self.from,
            to: self.to,
            audience: self.audience.normalize(),
            currency: self.currency.unwrap_or_else(|| "CNY".into()),
            status,
            rules,
            activated_at: (status == ProgramStatus::Active).then_some(now),
            closed_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }
}

/// Fields an active program may still change.
pub const LIVE_FIELDS: [&str; 2] = ["name", "status"];

impl ProgramUpdate {
    /// The program after the patch, checked as a whole (a new `from` re-checks MDF rules).
    /// Status moves and frozen fields are the store's to judge, against the stored program.
    pub fn apply(&self, current: &Program, now: DateTime<Utc>) -> Result<Program, ApiError> {
        let mut c = Check::new();
        let mut p = current.clone();
        if let Some(v) = &self.name {
            c.text("name", v, 1, MAX_SHORT_TEXT);
            p.name = v.clone();
        }
        if let Some(v) = &self.from {
            p.from = v.clone();
        }
        if let Some(v) = &self.to {
            p.to = v.clone();
        }
        let first = check_months(&mut c, &p.from, &p.to);
        if let Some(a) = &self.audience {
            a.check(&mut c, "audience");
            p.audience = a.normalize();
        }
        if let Some(v) = &self.currency {
            check_currency(&mut c, "currency", v);
            p.currency = v.clone();
        }
        if let Some(k) = self.kind {
            p.kind = k;
        }
        match &self.rules {
            Some(v) => {
                if let Some(rules) = collect(&mut c, parse_rules(p.kind, v, first)) {
                    p.rules = rules;
                }
            }
            None if p.kind != current.kind => c.add("rules", format!("are required when kind changes to {}", p.kind)),
            None if self.from.is_some() => {
                // A rate budget's window must stay before the program's (possibly new) start.
                let stored = serde_json::to_value(&current.rules).map_err(ApiError::internal)?;
                collect(&mut c, parse_rules(p.kind, &stored, first));
            }
            None => {}
        }
        c.finish()?;
        if let Some(s) = self.status {
            if s != current.status {
                match s {
                    ProgramStatus::Active => p.activated_at = Some(now),
                    ProgramStatus::Closed => p.closed_at = Some(now),
                    ProgramStatus::Draft => {}
                }
            }
            p.status = s;
        }
        Ok(p)
    }
}

/// The fields whose values differ between two versions of a program.
pub fn changed_fields(current: &Program, next: &Program) -> Vec<&'static str> {
    let mut out = Vec::new();
    let pairs: [(&'static str, bool); 8] = [
        ("name", current.name != next.name),
        ("kind", current.kind != next.kind),
        ("from", current.from != next.from),
        ("to", current.to != next.to),
        ("audience", current.audience != next.audience),
        ("currency", current.currency != next.currency),
        ("rules", current.rules != next.rules),
        ("status", current.status != next.status),
    ];
    for (field, changed) in pairs {
        if changed {
            out.push(field);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(err: ApiError) -> Vec<String> {
        err.errors.into_iter().map(|e| e.field).collect()
    }

    fn rebate(rules: Value) -> Result<Rules, ApiError> {
        parse_rules(ProgramKind::Rebate, &rules, Month::parse("2026-01"))
    }

    #[test]
    fn rebate_rules_name_the_failing_path() {
        let ok = json!({"basis": "revenue", "measure": "amount", "mode": "marginal",
                        "tiers": [{"threshold": 0, "rate_bp": 100}, {"threshold": 1000, "rate_bp": 200}]});
        assert!(rebate(ok).is_ok());
        let flat = json!({"basis": "revenue", "measure": "amount", "mode": "retroactive",
                          "tiers": [{"threshold": 5, "rate_bp": 100}, {"threshold": 5, "rate_bp": 200}]});
        assert_eq!(fields(rebate(flat).unwrap_err()), ["rules.tiers[1].threshold"]);
        let bad = json!({"basis": "revenue", "measure": "attainment", "mode": "retroactive", "cap_minor": 0,
                         "tiers": [{"threshold": 100001, "rate_bp": 10001}], "product_lines": ["ERP", "ERP"]});
        assert_eq!(
            fields(rebate(bad).unwrap_err()),
            ["rules.tiers[0].threshold", "rules.tiers[0].rate_bp", "rules.cap_minor", "rules.product_lines[1]"]
        );
        let none = json!({"basis": "units", "measure": "amount", "mode": "marginal", "tiers": []});
        assert_eq!(fields(rebate(none).unwrap_err()), ["rules.tiers"]);
        let unknown = json!({"basis": "profit", "measure": "amount", "mode": "marginal", "tiers": []});
        assert_eq!(fields(rebate(unknown).unwrap_err()), ["rules.basis"]);
    }

    #[test]
    fn discount_and_mdf_rules_are_checked_by_kind() {
        let d = |v| parse_rules(ProgramKind::Discount, &v, None);
        assert!(d(json!({"by_tier": {"strategic": 1500, "key": 800}})).is_ok());
        assert_eq!(fields(d(json!({"by_tier": {}})).unwrap_err()), ["rules.by_tier"]);
        assert_eq!(fields(d(json!({"by_tier": {"key": 10001}})).unwrap_err()), ["rules.by_tier.key"]);
        assert_eq!(fields(d(json!({"by_tier": {"gold": 1}})).unwrap_err()), ["rules.by_tier.gold"]);
        let m = |v| parse_rules(ProgramKind::MarketingSupport, &v, Month::parse("2026-01"));
        assert!(m(json!({"budget": {"fixed_minor": 500000}, "claim_deadline": "2026-12-31"})).is_ok());
        let rate = json!({"budget": {"rate_bp": 200, "window": {"from": "2025-01", "to": "2025-12"}},
                          "claim_deadline": "2027-01-31"});
        assert!(m(rate).is_ok());
        let late_window = json!({"budget": {"rate_bp": 200, "window": {"from": "2025-06", "to": "2026-01"}},
                                 "claim_deadline": "2026-01-01"});
        assert_eq!(fields(m(late_window).unwrap_err()), ["rules.budget.window.to"]);
        let both = json!({"budget": {"rate_bp": 200, "fixed_minor": 5}, "claim_deadline": "2025-12-31"});
        assert_eq!(fields(m(both).unwrap_err()), ["rules.budget", "rules.claim_deadline"]);
        let no_window = json!({"budget": {"rate_bp": 200}, "claim_deadline": "2026-02-01"});
        assert_eq!(fields(m(no_window).unwrap_err()), ["rules.budget.window"]);
    }

    #[test]
    fn status_moves_forward_only() {
        use ProgramStatus::*;
        assert!(Draft.can_move_to(Active) && Active.can_move_to(Closed));
        assert!(!Draft.can_move_to(Closed) && !Active.can_move_to(Draft) && !Closed.can_move_to(Active));
    }

    #[test]
    fn stored_rules_read_back_as_their_kind() {
        let d = Rules::Discount(DiscountRules { by_tier: DiscountByTier { key: Some(5), ..Default::default() } });
        let back: Rules = serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(back.kind(), ProgramKind::Discount);
        let r = rebate(json!({"basis": "units", "measure": "amount", "mode": "marginal",
                              "tiers": [{"threshold": 1, "rate_bp": 1}]}))
        .unwrap();
        let back: Rules = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
