//! Marketing support requests (市场推广支持申请, MDF): wire types, the status moves and the
//! arithmetic of a partner's budget (pure, unit-tested).
//!
//! submitted → approved | rejected; approved → claimed → paid | claim_rejected. What a budget has
//! `committed` is approved and not yet claimed, `claimed` is claimed and not yet paid (at the
//! claim's actual amount), `paid` is paid; rejected requests and rejected claims hold nothing.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::types::{DateText, JsonText, UtcTime};
use crate::error::ApiError;
use crate::performance::records::model::{check_partner_id, MAX_MINOR};
use crate::validation::{Check, MAX_LONG_TEXT, MAX_SHORT_TEXT};

crate::record!(MdfRequest);

crate::text_enum! {
    /// 展会 trade_show · 研讨会 seminar · 网络营销 online_marketing · 培训 training ·
    /// 联合广告 co_advertising · 其他 other.
    MdfActivity {
        TradeShow => "trade_show", Seminar => "seminar", OnlineMarketing => "online_marketing",
        Training => "training", CoAdvertising => "co_advertising", Other => "other",
    }
}

impl MdfActivity {
    pub fn label_zh(self) -> &'static str {
        match self {
            MdfActivity::TradeShow => "展会",
            MdfActivity::Seminar => "研讨会",
            MdfActivity::OnlineMarketing => "网络营销",
            MdfActivity::Training => "培训",
            MdfActivity::CoAdvertising => "联合广告",
            MdfActivity::Other => "其他",
        }
    }
}

crate::text_enum! {
    /// submitted → approved | rejected; approved → claimed → paid | claim_rejected.
    MdfStatus {
        Submitted => "submitted", Approved => "approved", Rejected => "rejected", Claimed => "claimed",
        Paid => "paid", ClaimRejected => "claim_rejected",
    }
}

impl MdfStatus {
    pub fn can_move_to(self, to: MdfStatus) -> bool {
        use MdfStatus::*;
        matches!(
            (self, to),
            (Submitted, Approved)
                | (Submitted, Rejected)
                | (Approved, Claimed)
                | (Claimed, Paid)
                | (Claimed, ClaimRejected)
        )
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            MdfStatus::Submitted => "待审批",
            MdfStatus::Approved => "已批准",
            MdfStatus::Rejected => "已驳回",
            MdfStatus::Claimed => "已报销申请",
            MdfStatus::Paid => "已支付",
            MdfStatus::ClaimRejected => "报销被驳回",
        }
    }
}

/// At most this many proof links on a claim.
pub const MAX_PROOF_URLS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::mdf_requests, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct MdfRequest {
    pub id: String,
    /// The marketing_support program whose budget it draws on.
    #[schema(format = Uuid)]
    pub program_id: String,
    #[schema(format = Uuid)]
    pub partner_id: String,
    pub activity: MdfActivity,
    pub title: String,
    pub description: Option<String>,
    #[diesel(serialize_as = DateText)]
    pub planned_on: NaiveDate,
    /// What the partner asks for (and, once approved, what is committed), fen of `currency`.
    pub amount_minor: i64,
    /// The program's currency.
    pub currency: String,
    pub status: MdfStatus,
    /// Why it was rejected.
    pub decision_reason: Option<String>,
    /// The name of the key that approved or rejected it.
    pub decided_by: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    pub decided_at: Option<DateTime<Utc>>,
    /// What the activity really cost, from the claim; at most `amount_minor`.
    pub actual_minor: Option<i64>,
    /// Links to the claim's evidence (invoices, photos, reports).
    #[diesel(serialize_as = JsonText)]
    pub proof_urls: Vec<String>,
    #[diesel(serialize_as = UtcTime)]
    pub claimed_at: Option<DateTime<Utc>>,
    pub claim_rejection_reason: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    pub paid_at: Option<DateTime<Utc>>,
    /// The cost record (category `marketing_support`) that paying wrote.
    #[schema(format = Uuid)]
    pub cost_record_id: Option<String>,
    /// The name of the key that submitted it.
    pub submitted_by: String,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MdfRequestCreate {
    /// An active marketing_support program that addresses the partner.
    #[schema(format = Uuid)]
    pub program_id: String,
    /// Required for staff keys; a partner key submits for its own partner (and may omit it).
    #[schema(format = Uuid)]
    pub partner_id: Option<String>,
    pub activity: MdfActivity,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 10000)]
    pub description: Option<String>,
    pub planned_on: NaiveDate,
    /// Fen of the program's currency, 1–10^15.
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
    pub amount_minor: i64,
}

impl MdfRequestCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if uuid::Uuid::parse_str(&self.program_id).is_err() {
            c.add("program_id", "must be a program id (UUID)");
        }
        if let Some(id) = &self.partner_id {
            check_partner_id(&mut c, "partner_id", id);
        }
        c.text("title", &self.title, 1, MAX_SHORT_TEXT);
        c.opt_text("description", self.description.as_deref(), MAX_LONG_TEXT);
        c.date("planned_on", Some(self.planned_on));
        c.range("amount_minor", Some(self.amount_minor), 1, MAX_MINOR);
        c.finish()
    }
}

/// Rejecting a request or a claim: why, in words the partner reads.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MdfRejectRequest {
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

/// A claim: what the activity cost and the evidence.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MdfClaim {
    /// Fen, 0 up to the approved `amount_minor`.
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub actual_minor: i64,
    #[schema(schema_with = proof_urls_schema)]
    pub proof_urls: Vec<String>,
}

/// `proof_urls[]` in the schema: what `Check::web_url` enforces on each link.
fn proof_urls_schema() -> impl Into<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>> {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(crate::validation::text_pattern()))
                .min_length(Some(1))
                .max_length(Some(2000)),
        )
        .min_items(Some(1))
        .max_items(Some(MAX_PROOF_URLS))
        .description(Some("1–20 absolute http(s) links to the claim's evidence."))
}

impl MdfRejectRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.text("reason", &self.reason, 1, MAX_LONG_TEXT);
        c.finish()
    }
}

impl MdfClaim {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.range("actual_minor", Some(self.actual_minor), 0, MAX_MINOR);
        if self.proof_urls.is_empty() || self.proof_urls.len() > MAX_PROOF_URLS {
            c.add("proof_urls", format!("must hold 1 to {MAX_PROOF_URLS} links to the claim's evidence"));
        }
        for (i, url) in self.proof_urls.iter().enumerate() {
            c.web_url(&format!("proof_urls[{i}]"), Some(url));
        }
        c.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MdfFilter {
    #[param(format = Uuid)]
    pub program_id: Option<String>,
    #[param(format = Uuid)]
    pub partner_id: Option<String>,
    pub status: Option<MdfStatus>,
    pub activity: Option<MdfActivity>,
}

impl MdfFilter {
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

/// One partner's budget in a marketing_support program, fen of `currency`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Budget {
    #[schema(format = Uuid)]
    pub partner_id: String,
    pub partner_name: String,
    pub currency: String,
    /// The program's budget for the partner: its fixed amount, or its rate of the partner's
    /// revenue in the program's budget window.
    pub allocated: i64,
    /// Approved and not yet claimed.
    pub committed: i64,
    /// Claimed (at the claims' actual amounts) and not yet paid.
    pub claimed: i64,
    pub paid: i64,
    /// allocated − committed − claimed − paid; negative only if the allocation shrank.
    pub remaining: i64,
}

/// What one partner's requests hold of its budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    pub committed: i64,
    pub claimed: i64,
    pub paid: i64,
}

impl Held {
    /// Adds one request's share, by its status.
    pub fn add(&mut self, status: MdfStatus, amount_minor: i64, actual_minor: Option<i64>) {
        let actual = actual_minor.unwrap_or(amount_minor);
        match status {
            MdfStatus::Approved => self.committed = self.committed.saturating_add(amount_minor),
            MdfStatus::Claimed => self.claimed = self.claimed.saturating_add(actual),
            MdfStatus::Paid => self.paid = self.paid.saturating_add(actual),
            MdfStatus::Submitted | MdfStatus::Rejected | MdfStatus::ClaimRejected => {}
        }
    }

    pub fn total(&self) -> i64 {
        self.committed.saturating_add(self.claimed).saturating_add(self.paid)
    }

    pub fn budget(&self, partner_id: String, partner_name: String, currency: String, allocated: i64) -> Budget {
        Budget {
            partner_id,
            partner_name,
            currency,
            allocated,
            committed: self.committed,
            claimed: self.claimed,
            paid: self.paid,
            remaining: allocated.saturating_sub(self.total()),
        }
    }
}

/// The allocation of a rate budget: `rate_bp` of the revenue, rounded half up to the fen.
pub fn rate_allocation(revenue_minor: i64, rate_bp: i64) -> i64 {
    let product = i128::from(revenue_minor.max(0)) * i128::from(rate_bp);
    i64::try_from((product + 5_000) / 10_000).unwrap_or(i64::MAX)
}

pub const BUDGET_CSV_HEADER: &[&str] =
    &["partner_id", "partner_name", "currency", "allocated", "committed", "claimed", "paid", "remaining"];

impl Budget {
    pub fn csv_row(&self) -> Vec<String> {
        vec![
            self.partner_id.clone(),
            self.partner_name.clone(),
            self.currency.clone(),
            self.allocated.to_string(),
            self.committed.to_string(),
            self.claimed.to_string(),
            self.paid.to_string(),
            self.remaining.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_moves() {
        use MdfStatus::*;
        assert!(Submitted.can_move_to(Approved) && Submitted.can_move_to(Rejected));
        assert!(Approved.can_move_to(Claimed) && Claimed.can_move_to(Paid) && Claimed.can_move_to(ClaimRejected));
        for (from, to) in
            [(Approved, Approved), (Rejected, Approved), (Submitted, Claimed), (Paid, Claimed), (Approved, Paid)]
        {
            assert!(!from.can_move_to(to), "{from} → {to}");
        }
    }

    #[test]
    fn what_requests_hold_of_a_budget() {
        let mut held = Held::default();
        held.add(MdfStatus::Submitted, 100, None);
        held.add(MdfStatus::Approved, 200, None);
        held.add(MdfStatus::Claimed, 300, Some(250));
        held.add(MdfStatus::Paid, 400, Some(400));
        held.add(MdfStatus::Rejected, 500, None);
        held.add(MdfStatus::ClaimRejected, 600, Some(600));
        assert_eq!(held, Held { committed: 200, claimed: 250, paid: 400 });
        let b = held.budget("p".into(), "n".into(), "CNY".into(), 1000);
        assert_eq!(b.remaining, 150);
        assert_eq!(held.budget("p".into(), "n".into(), "CNY".into(), 500).remaining, -350);
    }

    #[test]
    fn rate_budgets_round_half_up_once() {
        assert_eq!(rate_allocation(1_000_000, 200), 20_000);
        assert_eq!(rate_allocation(25, 200), 1, "0.5 fen rounds up");
        assert_eq!(rate_allocation(24, 200), 0);
        assert_eq!(rate_allocation(-5, 200), 0, "no budget from a net loss");
    }

    #[test]
    fn claims_need_proof_links() {
        let c = |urls: &[&str]| MdfClaim { actual_minor: 10, proof_urls: urls.iter().map(|s| s.to_string()).collect() };
        assert!(c(&["https://files.example.cn/invoice.pdf"]).validate().is_ok());
        let fields = |e: ApiError| e.errors.into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields(c(&[]).validate().unwrap_err()), ["proof_urls"]);
        assert_eq!(fields(c(&["ftp://x.cn/a", "https://ok.cn/b"]).validate().unwrap_err()), ["proof_urls[0]"]);
    }
}
