//! A partner's month in numbers (渠道效果): revenue, units, orders, new customers, satisfaction and
//! market share, for the whole business or one product line. The wire type is the row; the rules
//! are here, pure, so the API, the bulk import and the CLI check a record the same way.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::types::UtcTime;
use crate::error::ApiError;
use crate::partners::model::nullable;
use crate::performance::period::{check_month, Month};
use crate::validation::{comparison_key, Check, MAX_LONG_TEXT};

crate::record!(PerformanceRecord);

/// The largest amount of money a record holds (10¹⁵ minor units, ten trillion yuan): sums over
/// millions of records stay far from the 64-bit limit.
pub const MAX_MINOR: i64 = 1_000_000_000_000_000;
/// The largest count (units, orders, new customers) a record holds.
pub const MAX_COUNT: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::performance_records, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct PerformanceRecord {
    pub id: String,
    pub partner_id: String,
    /// The month, `YYYY-MM`.
    #[schema(example = "2026-03")]
    pub period: String,
    /// Absent: the partner's whole business that month.
    pub product_line: Option<String>,
    /// How the uniqueness rule compares the product line ('' for none); not on the wire.
    #[serde(skip)]
    pub line_key: String,
    /// Revenue in minor units (fen for CNY).
    pub revenue_minor: i64,
    /// ISO 4217 code, e.g. CNY.
    pub currency: String,
    pub units: i64,
    pub orders: i64,
    pub new_customers: i64,
    /// 0–100.
    pub customer_satisfaction: Option<i32>,
    /// The partner's share of its own market that month, 0–10000 basis points.
    pub market_share_bp: Option<i32>,
    pub notes: Option<String>,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformanceRecordCreate {
    #[schema(format = Uuid)]
    pub partner_id: String,
    /// The month, `YYYY-MM`.
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-03")]
    pub period: String,
    /// 1–100 characters; absent for the partner's whole business. One record per partner, month
    /// and product line (compared ignoring case and width).
    #[schema(min_length = 1, max_length = 100)]
    pub product_line: Option<String>,
    /// Minor units (fen), 0 to 10¹⁵.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub revenue_minor: i64,
    /// ISO 4217 code, default CNY.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// Default 0.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub units: Option<i64>,
    /// Default 0.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub orders: Option<i64>,
    /// Default 0.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub new_customers: Option<i64>,
    #[schema(minimum = 0, maximum = 100)]
    pub customer_satisfaction: Option<i32>,
    #[schema(minimum = 0, maximum = 10000)]
    pub market_share_bp: Option<i32>,
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<String>,
}

/// A JSON merge patch: absent fields stay, `null` clears an optional one. The partner stays: a
/// record that belongs to another partner is deleted and created anew.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformanceRecordUpdate {
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-03")]
    pub period: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 100)]
    pub product_line: Option<Option<String>>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub revenue_minor: Option<i64>,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub units: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub orders: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub new_customers: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(minimum = 0, maximum = 100)]
    pub customer_satisfaction: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(minimum = 0, maximum = 10000)]
    pub market_share_bp: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerformanceRecordFilter {
    #[param(format = Uuid)]
    pub partner_id: Option<String>,
    /// The first month, `YYYY-MM` (included).
    #[param(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$")]
    pub period_from: Option<String>,
    /// The last month, `YYYY-MM` (included).
    #[param(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$")]
    pub period_to: Option<String>,
    /// Records of this product line (compared ignoring case and width).
    #[param(min_length = 1, max_length = 100)]
    pub product_line: Option<String>,
}

/// The key a product line is unique by: '' for none, else its comparison key.
pub fn line_key(product_line: Option<&str>) -> String {
    product_line.map(comparison_key).unwrap_or_default()
}

/// Checks a count field (units, orders, new customers).
pub fn check_count(c: &mut Check, field: &str, value: i64) {
    if !(0..=MAX_COUNT).contains(&value) {
        c.add(field, format!("must be a whole number from 0 to {MAX_COUNT} (got {value})"));
    }
}

/// Checks an amount of money in minor units.
pub fn check_minor(c: &mut Check, field: &str, value: i64) {
    if !(0..=MAX_MINOR).contains(&value) {
        c.add(field, format!("must be minor units (fen) from 0 to {MAX_MINOR} (got {value})"));
    }
}

fn check_satisfaction(c: &mut Check, value: Option<i32>) {
    if let Some(v) = value.filter(|v| !(0..=100).contains(v)) {
        c.add("customer_satisfaction", format!("must be from 0 to 100 (got {v})"));
    }
}

fn check_share(c: &mut Check, value: Option<i32>) {
    if let Some(v) = value.filter(|v| !(0..=10000).contains(v)) {
        c.add("market_share_bp", format!("must be basis points from 0 to 10000 (got {v})"));
    }
}

/// Checks a partner id given in a body or a filter.
pub fn check_partner_id(c: &mut Check, field: &str, value: &str) {
    if uuid::Uuid::parse_str(value).is_err() {
        c.add(field, "must be a partner id (UUID)");
    }
}

impl PerformanceRecordCreate {
    /// Adds every problem of the record to `c` (the import reports them per row).
    pub fn check(&self, c: &mut Check) {
        check_partner_id(c, "partner_id", &self.partner_id);
        check_month(c, "period", &self.period);
        c.opt_text("product_line", self.product_line.as_deref(), 100);
        check_minor(c, "revenue_minor", self.revenue_minor);
        if let Some(cur) = &self.currency {
            crate::contracts::model::check_currency(c, "currency", cur);
        }
        for (field, value) in [("units", self.units), ("orders", self.orders), ("new_customers", self.new_customers)] {
            if let Some(v) = value {
                check_count(c, field, v);
            }
        }
        check_satisfaction(c, self.customer_satisfaction);
        check_share(c, self.market_share_bp);
        c.opt_text("notes", self.notes.as_deref(), MAX_LONG_TEXT);
    }

    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        self.check(&mut c);
        c.finish()
    }

    /// The record this input makes (the store sets id, version and times).
    pub fn into_record(self, id: String, now: DateTime<Utc>) -> PerformanceRecord {
        PerformanceRecord {
            id,
            line_key: line_key(self.product_line.as_deref()),
            partner_id: self.partner_id.to_lowercase(),
            period: self.period,
            product_line: self.product_line,
            revenue_minor: self.revenue_minor,
            currency: self.currency.unwrap_or_else(|| "CNY".into()),
            units: self.units.unwrap_or(0),
            orders: self.orders.unwrap_or(0),
            new_customers: self.new_customers.unwrap_or(0),
            customer_satisfaction: self.customer_satisfaction,
            market_share_bp: self.market_share_bp,
            notes: self.notes,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

impl PerformanceRecordUpdate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(p) = &self.period {
            check_month(&mut c, "period", p);
        }
        c.opt_text("product_line", self.product_line.clone().flatten().as_deref(), 100);
        if let Some(v) = self.revenue_minor {
            check_minor(&mut c, "revenue_minor", v);
        }
        if let Some(cur) = &self.currency {
            crate::contracts::model::check_currency(&mut c, "currency", cur);
        }
        for (field, value) in [("units", self.units), ("orders", self.orders), ("new_customers", self.new_customers)] {
            if let Some(v) = value {
                check_count(&mut c, field, v);
            }
        }
        check_satisfaction(&mut c, self.customer_satisfaction.flatten());
        check_share(&mut c, self.market_share_bp.flatten());
        c.opt_text("notes", self.notes.clone().flatten().as_deref(), MAX_LONG_TEXT);
        c.finish()
    }

    pub fn apply(&self, current: &PerformanceRecord) -> PerformanceRecord {
        let mut r = current.clone();
        if let Some(v) = &self.period {
            r.period = v.clone();
        }
        if let Some(v) = &self.product_line {
            r.product_line = v.clone();
            r.line_key = line_key(v.as_deref());
        }
        if let Some(v) = self.revenue_minor {
            r.revenue_minor = v;
        }
        if let Some(v) = &self.currency {
            r.currency = v.clone();
        }
        for (patch, field) in
            [(self.units, &mut r.units), (self.orders, &mut r.orders), (self.new_customers, &mut r.new_customers)]
        {
            if let Some(v) = patch {
                *field = v;
            }
        }
        if let Some(v) = self.customer_satisfaction {
            r.customer_satisfaction = v;
        }
        if let Some(v) = self.market_share_bp {
            r.market_share_bp = v;
        }
        if let Some(v) = &self.notes {
            r.notes = v.clone();
        }
        r
    }
}

/// A checked month range: `(from, to)` as `YYYY-MM` text, either open.
pub fn check_range(c: &mut Check, from: Option<&str>, to: Option<&str>) -> (Option<Month>, Option<Month>) {
    let from = from.and_then(|v| check_month(c, "period_from", v));
    let to = to.and_then(|v| check_month(c, "period_to", v));
    if let (Some(a), Some(b)) = (from, to) {
        if b < a {
            c.add("period_to", "must not be before period_from");
        }
    }
    (from, to)
}

impl PerformanceRecordFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(id) = &self.partner_id {
            check_partner_id(&mut c, "partner_id", id);
        }
        check_range(&mut c, self.period_from.as_deref(), self.period_to.as_deref());
        c.opt_text("product_line", self.product_line.as_deref(), 100);
        c.finish()
    }
}

/// The CSV columns of a record list, in order.
pub const CSV_HEADER: &[&str] = &[
    "id",
    "partner_id",
    "period",
    "product_line",
    "revenue_minor",
    "currency",
    "units",
    "orders",
    "new_customers",
    "customer_satisfaction",
    "market_share_bp",
    "notes",
];

impl PerformanceRecord {
    /// The record as a CSV row of [`CSV_HEADER`].
    pub fn csv_row(&self) -> Vec<String> {
        let opt = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
        vec![
            self.id.clone(),
            self.partner_id.clone(),
            self.period.clone(),
            self.product_line.clone().unwrap_or_default(),
            self.revenue_minor.to_string(),
            self.currency.clone(),
            self.units.to_string(),
            self.orders.to_string(),
            self.new_customers.to_string(),
            opt(self.customer_satisfaction),
            opt(self.market_share_bp),
            self.notes.clone().unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PerformanceRecordCreate {
        PerformanceRecordCreate {
            partner_id: "0192f0c4-3b9e-7c1a-8f00-000000000000".into(),
            period: "2026-03".into(),
            product_line: None,
            revenue_minor: 12_345_600,
            currency: None,
            units: Some(10),
            orders: None,
            new_customers: Some(2),
            customer_satisfaction: Some(88),
            market_share_bp: Some(1250),
            notes: None,
        }
    }

    #[test]
    fn every_bound_names_its_field() {
        assert!(input().validate().is_ok());
        let bad = PerformanceRecordCreate {
            partner_id: "x".into(),
            period: "2026-3".into(),
            product_line: Some(" ".into()),
            revenue_minor: -1,
            currency: Some("rmb".into()),
            units: Some(-1),
            orders: Some(-2),
            new_customers: Some(-3),
            customer_satisfaction: Some(101),
            market_share_bp: Some(10001),
            notes: Some("a\0".into()),
        };
        let err = bad.validate().unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "partner_id",
                "period",
                "product_line",
                "revenue_minor",
                "currency",
                "units",
                "orders",
                "new_customers",
                "customer_satisfaction",
                "market_share_bp",
                "notes"
            ]
        );
    }

    #[test]
    fn defaults_and_line_keys() {
        let r = input().into_record("id".into(), Utc::now());
        assert_eq!((r.currency.as_str(), r.orders, r.line_key.as_str()), ("CNY", 0, ""));
        assert_eq!(line_key(Some("ＥＲＰ ")), line_key(Some("erp")));
        assert_ne!(line_key(Some("ERP")), line_key(None));
    }
}
