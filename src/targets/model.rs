//! Joint targets (共同目标): what a partner and the channel team agreed the partner reaches in a
//! month, a quarter or a year — revenue (fen, CNY), units or new customers. A draft can change;
//! an agreed target is a commitment and no longer does. Its `actual` and `attainment_bp` are
//! computed on every read from the period's whole-business performance records (records per
//! product line are a breakdown and are not added on top).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::types::UtcTime;
use crate::error::ApiError;
use crate::partners::model::nullable;
use crate::performance::period::{Period, PERIOD_HINT};
use crate::performance::records::model::check_partner_id;
use crate::validation::Check;

crate::record!(Target);

crate::text_enum! {
    /// revenue: `revenue_minor` in fen (CNY records); units; new_customers.
    Metric { Revenue => "revenue", Units => "units", NewCustomers => "new_customers" }
}

crate::text_enum! {
    /// draft → agreed (final).
    TargetStatus { Draft => "draft", Agreed => "agreed" }
}

/// The largest target: as large as the largest sum of a year of records could be.
pub const MAX_TARGET: i64 = 12_000_000_000_000_000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::targets, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Target {
    pub id: String,
    pub partner_id: String,
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    #[schema(example = "2026-Q1")]
    pub period: String,
    #[serde(skip)]
    pub first_month: String,
    #[serde(skip)]
    pub last_month: String,
    pub metric: Metric,
    /// Fen for `revenue`, a count otherwise.
    pub target_value: i64,
    /// The meeting where it was agreed.
    pub meeting_id: Option<String>,
    pub status: TargetStatus,
    #[diesel(serialize_as = UtcTime)]
    pub agreed_at: Option<DateTime<Utc>>,
    /// When the missed-target scan judged the ended period.
    #[diesel(serialize_as = UtcTime)]
    pub settled_at: Option<DateTime<Utc>>,
    /// True once the scan found the ended period below target (`target.missed` was sent).
    pub missed: bool,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

/// A target as the API shows it: the stored target and how far the partner got.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TargetView {
    #[serde(flatten)]
    pub target: Target,
    /// The period's figure so far, from whole-business performance records (revenue: CNY ones).
    pub actual: i64,
    /// actual / target_value in basis points (10000 = reached), rounded half up.
    pub attainment_bp: i64,
}

impl TargetView {
    pub fn new(target: Target, actual: i64) -> Self {
        let attainment_bp = attainment_bp(actual, target.target_value);
        TargetView { target, actual, attainment_bp }
    }

    pub fn reached(&self) -> bool {
        self.actual >= self.target.target_value
    }
}

impl crate::db::Record for TargetView {
    fn id(&self) -> &str {
        &self.target.id
    }
    fn version(&self) -> i64 {
        self.target.version
    }
}

/// `actual / target` in basis points, half up; 0 for a zero target.
pub fn attainment_bp(actual: i64, target: i64) -> i64 {
    if target <= 0 {
        return 0;
    }
    let (a, t) = (i128::from(actual), i128::from(target));
    i64::try_from((a * 20_000 + t) / (2 * t)).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetCreate {
    #[schema(format = Uuid)]
    pub partner_id: String,
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`. One target per partner, period and metric.
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})(-(0[1-9]|1[0-2])|-Q[1-4])?$", example = "2026-Q1")]
    pub period: String,
    pub metric: Metric,
    /// Fen for `revenue`, a count otherwise; at least 1.
    #[schema(minimum = 1, maximum = 12_000_000_000_000_000_i64)]
    pub target_value: i64,
    /// The meeting where it was agreed; the partner must be one of its partners.
    #[schema(format = Uuid)]
    pub meeting_id: Option<String>,
    /// Default `draft`; `agreed` sends `target.agreed`.
    pub status: Option<TargetStatus>,
}

/// A JSON merge patch of a draft. `{"status": "agreed"}` agrees it (final).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetUpdate {
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})(-(0[1-9]|1[0-2])|-Q[1-4])?$", example = "2026-Q1")]
    pub period: Option<String>,
    pub metric: Option<Metric>,
    #[schema(minimum = 1, maximum = 12_000_000_000_000_000_i64)]
    pub target_value: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(format = Uuid)]
    pub meeting_id: Option<Option<String>>,
    pub status: Option<TargetStatus>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetFilter {
    #[param(format = Uuid)]
    pub partner_id: Option<String>,
    /// Targets of exactly this period (`YYYY-MM`, `YYYY-Qn` or `YYYY`).
    #[param(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})(-(0[1-9]|1[0-2])|-Q[1-4])?$")]
    pub period: Option<String>,
    pub metric: Option<Metric>,
    pub status: Option<TargetStatus>,
}

fn check_period(c: &mut Check, value: &str) -> Option<Period> {
    let period = Period::parse(value);
    if period.is_none() {
        c.add("period", PERIOD_HINT);
    }
    period
}

fn check_value(c: &mut Check, value: i64) {
    if !(1..=MAX_TARGET).contains(&value) {
        c.add("target_value", format!("must be from 1 to {MAX_TARGET} (got {value})"));
    }
}

fn check_meeting(c: &mut Check, value: Option<&str>) {
    if value.is_some_and(|v| uuid::Uuid::parse_str(v).is_err()) {
        c.add("meeting_id", "must be a meeting id (UUID)");
    }
}

impl TargetCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        check_partner_id(&mut c, "partner_id", &self.partner_id);
        check_period(&mut c, &self.period);
        check_value(&mut c, self.target_value);
        check_meeting(&mut c, self.meeting_id.as_deref());
        c.finish()
    }

    /// The target this input makes (the input is validated).
    pub fn into_target(self, id: String, now: DateTime<Utc>) -> Result<Target, ApiError> {
        let period = Period::parse(&self.period).ok_or_else(|| ApiError::field("period", PERIOD_HINT))?;
        let (first, last) = period.months();
        let status = self.status.unwrap_or(TargetStatus::Draft);
        Ok(Target {
            id,
            partner_id: self.partner_id.to_lowercase(),
            period: period.to_string(),
            first_month: first.to_string(),
            last_month: last.to_string(),
            metric: self.metric,
            target_value: self.target_value,
            meeting_id: self.meeting_id.map(|m| m.to_lowercase()),
            status,
            agreed_at: (status == TargetStatus::Agreed).then_some(now),
            settled_at: None,
            missed: false,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }
}

impl TargetUpdate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(p) = &self.period {
            check_period(&mut c, p);
        }
        if let Some(v) = self.target_value {
            check_value(&mut c, v);
        }
        check_meeting(&mut c, self.meeting_id.clone().flatten().as_deref());
        c.finish()
    }

    /// The target after the patch (the caller checks that it may still change).
    pub fn apply(&self, current: &Target, now: DateTime<Utc>) -> Target {
        let mut t = current.clone();
        if let Some(period) = self.period.as_deref().and_then(Period::parse) {
            let (first, last) = period.months();
            (t.period, t.first_month, t.last_month) = (period.to_string(), first.to_string(), last.to_string());
        }
        if let Some(v) = self.metric {
            t.metric = v;
        }
        if let Some(v) = self.target_value {
            t.target_value = v;
        }
        if let Some(v) = &self.meeting_id {
            t.meeting_id = v.as_ref().map(|m| m.to_lowercase());
        }
        if let Some(v) = self.status {
            if v == TargetStatus::Agreed && t.status != TargetStatus::Agreed {
                t.agreed_at = Some(now);
            }
            t.status = v;
        }
        t
    }
}

impl TargetFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(id) = &self.partner_id {
            check_partner_id(&mut c, "partner_id", id);
        }
        if let Some(p) = &self.period {
            check_period(&mut c, p);
        }
        c.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attainment_rounds_half_up_in_basis_points() {
        assert_eq!(attainment_bp(50, 100), 5000);
        assert_eq!(attainment_bp(1, 3), 3333);
        assert_eq!(attainment_bp(2, 3), 6667);
        assert_eq!(attainment_bp(150, 100), 15000);
        assert_eq!(attainment_bp(0, 100), 0);
        assert_eq!(attainment_bp(i64::MAX, 1), i64::MAX, "no overflow");
    }

    #[test]
    fn periods_are_stored_with_their_months() {
        let input = TargetCreate {
            partner_id: "0192f0c4-3b9e-7c1a-8f00-000000000000".into(),
            period: "2026-Q2".into(),
            metric: Metric::Revenue,
            target_value: 10,
            meeting_id: None,
            status: Some(TargetStatus::Agreed),
        };
        assert!(input.validate().is_ok());
        let t = input.into_target("t".into(), Utc::now()).unwrap();
        assert_eq!((t.first_month.as_str(), t.last_month.as_str()), ("2026-04", "2026-06"));
        assert!(t.agreed_at.is_some());
    }
}
