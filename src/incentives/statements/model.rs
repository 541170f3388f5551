//! Incentive statements (结算单): what one partner earned from one rebate program over some
//! months, line by line, each line explained. draft → approved → paid; an approved statement
//! never changes, and a later difference becomes an `adjustment` statement of its own.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::types::{JsonText, UtcTime};
use crate::error::ApiError;
use crate::incentives::rebate::Explanation;
use crate::performance::period::{check_month, Month};
use crate::performance::records::model::check_partner_id;
use crate::validation::Check;

crate::record!(Statement);
crate::json_column!(@read Vec<StatementLine>);

crate::text_enum! {
    /// statement: the first computation of the months; adjustment: the difference found after
    /// earlier statements of the same months were approved.
    StatementKind { Statement => "statement", Adjustment => "adjustment" }
}

crate::text_enum! {
    /// draft → approved → paid. Drafts are replaced by every calculation; the others never change.
    StatementStatus { Draft => "draft", Approved => "approved", Paid => "paid" }
}

crate::text_enum! {
    /// program: the program's own schedule; contract_term: a rebate term of one of the partner's
    /// active contracts; previously_approved: (adjustments only) what approved statements of the
    /// same months already granted, as a negative amount.
    LineSource { Program => "program", ContractTerm => "contract_term", PreviouslyApproved => "previously_approved" }
}

/// One figure of a statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatementLine {
    pub source: LineSource,
    /// For `contract_term` lines: the contract and its term.
    #[schema(format = Uuid)]
    pub contract_id: Option<String>,
    #[schema(format = Uuid)]
    pub term_id: Option<String>,
    /// False when the rule cannot apply (e.g. an attainment rebate without an agreed target).
    pub eligible: bool,
    /// What the thresholds were compared with: revenue (fen) or units.
    pub basis_value: i64,
    /// The agreed target for the basis over exactly these months, when the rule measures attainment.
    pub target_value: Option<i64>,
    pub attainment_bp: Option<i64>,
    /// 1-based tier; null when none was reached.
    pub tier_reached: Option<i64>,
    pub rate_bp: i64,
    /// Fen, rounded half up once.
    pub amount_minor: i64,
    pub explanation: Explanation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::incentive_statements, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Statement {
    pub id: String,
    pub program_id: String,
    pub partner_id: String,
    pub kind: StatementKind,
    /// The first month, `YYYY-MM`.
    #[serde(rename = "from")]
    #[diesel(column_name = from_month)]
    pub from: String,
    /// The last month, `YYYY-MM`.
    #[serde(rename = "to")]
    #[diesel(column_name = to_month)]
    pub to: String,
    pub currency: String,
    #[diesel(serialize_as = JsonText)]
    pub lines: Vec<StatementLine>,
    /// The sum of the lines' amounts, fen.
    pub total_minor: i64,
    pub status: StatementStatus,
    #[diesel(serialize_as = UtcTime)]
    pub approved_at: Option<DateTime<Utc>>,
    #[diesel(serialize_as = UtcTime)]
    pub paid_at: Option<DateTime<Utc>>,
    /// The cost record (category `rebate`) that paying wrote, when the total was positive.
    #[schema(format = Uuid)]
    pub cost_record_id: Option<String>,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

/// The months to calculate, within the program's.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalculateRequest {
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub from: String,
    #[schema(pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", example = "2026-03")]
    pub to: String,
}

impl CalculateRequest {
    pub fn months(&self) -> Result<(Month, Month), ApiError> {
        let mut c = Check::new();
        let (from, to) = (check_month(&mut c, "from", &self.from), check_month(&mut c, "to", &self.to));
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                c.add("to", "must not be before from");
            }
        }
        c.finish()?;
        match (from, to) {
            (Some(f), Some(t)) => Ok((f, t)),
            _ => Err(ApiError::field("from", "is invalid")),
        }
    }
}

/// What a calculation did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct CalculateResult {
    #[schema(format = Uuid)]
    pub program_id: String,
    pub from: String,
    pub to: String,
    /// Partners the program addresses now (active and onboarding ones in its audience).
    pub partners: i64,
    /// Draft statements written (new or replacing a draft).
    pub drafts: i64,
    /// Of those, adjustments: approved statements of these months differ from the new figures.
    pub adjustments: i64,
    /// Partners whose approved statements already match the figures: nothing new.
    pub unchanged: i64,
    /// Partners whose statement is not eligible (e.g. no agreed target for an attainment rebate).
    pub not_eligible: i64,
    /// Drafts removed because their partner is no longer addressed.
    pub removed: i64,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementFilter {
    #[param(format = Uuid)]
    pub program_id: Option<String>,
    #[param(format = Uuid)]
    pub partner_id: Option<String>,
    pub status: Option<StatementStatus>,
    pub kind: Option<StatementKind>,
}

impl StatementFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(id) = &self.program_id {
            if uuid::Uuid::parse_str(id).is_err() {
                c.add("program_id", "must be a program id (UUID)");
            }
        }
        if let Some(id) = &self.partner_id {
            check_partner_id(&mut c, "partner_id", id);
        }
        c.finish()
    }
}

pub const STATEMENT_CSV_HEADER: &[&str] = &[
    "id",
    "program_id",
    "partner_id",
    "kind",
    "from",
    "to",
    "currency",
    "total_minor",
    "status",
    "approved_at",
    "paid_at",
    "cost_record_id",
];

impl Statement {
    /// One CSV row for finance: the statement without its lines (their explanations are the JSON's).
    pub fn csv_row(&self) -> Vec<String> {
        let time = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
        };
        vec![
            self.id.clone(),
            self.program_id.clone(),
            self.partner_id.clone(),
            self.kind.to_string(),
            self.from.clone(),
            self.to.clone(),
            self.currency.clone(),
            self.total_minor.to_string(),
            self.status.to_string(),
            time(self.approved_at),
            time(self.paid_at),
            self.cost_record_id.clone().unwrap_or_default(),
        ]
    }
}

/// The sum of the lines: a statement's total, by definition.
pub fn total(lines: &[StatementLine]) -> i64 {
    lines.iter().map(|l| l.amount_minor).fold(0i64, i64::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calculation_months_must_be_ordered() {
        let ok = CalculateRequest { from: "2026-01".into(), to: "2026-03".into() };
        assert!(ok.months().is_ok());
        let back = CalculateRequest { from: "2026-04".into(), to: "2026-03".into() };
        assert_eq!(back.months().unwrap_err().errors[0].field, "to");
        let bad = CalculateRequest { from: "2026-4".into(), to: "x".into() };
        let fields: Vec<String> = bad.months().unwrap_err().errors.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["from", "to"]);
    }
}
