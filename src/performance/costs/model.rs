//! What a partner cost in a month (渠道成本), by category: operating cost, sales expense and the
//! incentives paid to it (rebates, discounts, marketing support, training). Many records per
//! month; the scorecard sums them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::types::UtcTime;
use crate::error::ApiError;
use crate::partners::model::nullable;
use crate::performance::period::check_month;
use crate::performance::records::model::{check_minor, check_partner_id, check_range};
use crate::validation::{Check, MAX_LONG_TEXT};

crate::record!(CostRecord);

crate::text_enum! {
    /// operating 运营成本 · sales_expense 销售费用 · marketing_support 市场推广支持 · rebate 返点 ·
    /// discount 折扣 · training 培训 · other.
    CostCategory {
        Operating => "operating", SalesExpense => "sales_expense", MarketingSupport => "marketing_support",
        Rebate => "rebate", Discount => "discount", Training => "training", Other => "other",
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::cost_records, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct CostRecord {
    pub id: String,
    pub partner_id: String,
    /// The month, `YYYY-MM`.
    #[schema(example = "2026-03")]
    pub period: String,
    pub category: CostCategory,
    /// Minor units (fen for CNY).
    pub amount_minor: i64,
    /// ISO 4217 code, e.g. CNY.
    pub currency: String,
    pub notes: Option<String>,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostRecordCreate {
    #[schema(format = Uuid)]
    pub partner_id: String,
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-03")]
    pub period: String,
    pub category: CostCategory,
    /// Minor units (fen), 0 to 10¹⁵.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub amount_minor: i64,
    /// ISO 4217 code, default CNY.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<String>,
}

/// A JSON merge patch: absent fields stay, `null` clears `notes`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostRecordUpdate {
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-03")]
    pub period: Option<String>,
    pub category: Option<CostCategory>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub amount_minor: Option<i64>,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CostRecordFilter {
    #[param(format = Uuid)]
    pub partner_id: Option<String>,
    /// The first month, `YYYY-MM` (included).
    #[param(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$")]
    pub period_from: Option<String>,
    /// The last month, `YYYY-MM` (included).
    #[param(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$")]
    pub period_to: Option<String>,
    pub category: Option<CostCategory>,
}

impl CostRecordCreate {
    pub fn check(&self, c: &mut Check) {
        check_partner_id(c, "partner_id", &self.partner_id);
        check_month(c, "period", &self.period);
        check_minor(c, "amount_minor", self.amount_minor);
        if let Some(cur) = &self.currency {
            crate::contracts::model::check_currency(c, "currency", cur);
        }
        c.opt_text("notes", self.notes.as_deref(), MAX_LONG_TEXT);
    }

    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        self.check(&mut c);
        c.finish()
    }

    pub fn into_record(self, id: String, now: DateTime<Utc>) -> CostRecord {
        CostRecord {
            id,
            partner_id: self.partner_id.to_lowercase(),
            period: self.period,
            category: self.category,
            amount_minor: self.amount_minor,
            currency: self.currency.unwrap_or_else(|| "CNY".into()),
            notes: self.notes,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

impl CostRecordUpdate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(p) = &self.period {
            check_month(&mut c, "period", p);
        }
        if let Some(v) = self.amount_minor {
            check_minor(&mut c, "amount_minor", v);
        }
        if let Some(cur) = &self.currency {
            crate::contracts::model::check_currency(&mut c, "currency", cur);
        }
        c.opt_text("notes", self.notes.clone().flatten().as_deref(), MAX_LONG_TEXT);
        c.finish()
    }

    pub fn apply(&self, current: &CostRecord) -> CostRecord {
        let mut r = current.clone();
        if let Some(v) = &self.period {
            r.period = v.clone();
        }
        if let Some(v) = self.category {
            r.category = v;
        }
        if let Some(v) = self.amount_minor {
            r.amount_minor = v;
        }
        if let Some(v) = &self.currency {
            r.currency = v.clone();
        }
        if let Some(v) = &self.notes {
            r.notes = v.clone();
        }
        r
    }
}

impl CostRecordFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(id) = &self.partner_id {
            check_partner_id(&mut c, "partner_id", id);
        }
        check_range(&mut c, self.period_from.as_deref(), self.period_to.as_deref());
        c.finish()
    }
}

/// The CSV columns of a cost list, in order.
pub const CSV_HEADER: &[&str] = &["id", "partner_id", "period", "category", "amount_minor", "currency", "notes"];

impl CostRecord {
    pub fn csv_row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.partner_id.clone(),
            self.period.clone(),
            self.category.to_string(),
            self.amount_minor.to_string(),
            self.currency.clone(),
            self.notes.clone().unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_check_every_field() {
        let bad = CostRecordCreate {
            partner_id: "p".into(),
            period: "2026-13".into(),
            category: CostCategory::Rebate,
            amount_minor: -5,
            currency: Some("CN".into()),
            notes: Some("".into()),
        };
        let err = bad.validate().unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["partner_id", "period", "amount_minor", "currency", "notes"]);
        let range = CostRecordFilter {
            period_from: Some("2026-05".into()),
            period_to: Some("2026-01".into()),
            ..Default::default()
        };
        assert_eq!(range.validate().unwrap_err().errors[0].field, "period_to");
    }
}
