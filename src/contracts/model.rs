//! Contracts: wire types, the status machine and the field rules (pure, unit-tested).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::partners::model::nullable;
use crate::validation::{comparison_key, Check, MAX_LONG_TEXT, MAX_SHORT_TEXT};

crate::record!(Contract);

crate::text_enum! {
    /// agency 代理 · distribution 经销 · reseller 转售 · service 服务 · framework 框架 · other 其他
    ContractKind {
        Agency => "agency", Distribution => "distribution", Reseller => "reseller",
        Service => "service", Framework => "framework", Other => "other",
    }
}

crate::text_enum! {
    /// draft → active → expired | terminated.
    ContractStatus { Draft => "draft", Active => "active", Expired => "expired", Terminated => "terminated" }
}

impl ContractStatus {
    pub fn can_move_to(self, to: ContractStatus) -> bool {
        use ContractStatus::*;
        matches!((self, to), (Draft, Active) | (Active, Expired) | (Active, Terminated))
    }
}

pub const MAX_NUMBER_LEN: usize = 64;
pub const MAX_NOTICE_DAYS: i64 = 730;
pub const DEFAULT_NOTICE_DAYS: i64 = 30;
pub const DEFAULT_CURRENCY: &str = "CNY";

/// A partner's contract. Money is in minor units (fen for CNY) of `currency`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contract {
    pub id: String,
    pub partner_id: String,
    /// The contract number (合同编号), unique ignoring case, width (全角/半角), invisible characters and surrounding spaces.
    pub number: String,
    pub title: String,
    pub kind: ContractKind,
    pub status: ContractStatus,
    pub signed_at: Option<DateTime<Utc>>,
    /// First day in force (a calendar date in China Standard Time, UTC+8).
    pub effective_from: Option<NaiveDate>,
    /// Last day in force; null = open-ended.
    pub effective_to: Option<NaiveDate>,
    pub auto_renew: bool,
    /// How many days before `effective_to` renewal must be settled (the `expiring` warning window).
    pub renewal_notice_days: i64,
    /// Minor units of `currency` (e.g. fen); null when the contract states no total.
    pub total_value: Option<i64>,
    /// ISO 4217 code, e.g. CNY.
    pub currency: String,
    pub owner: Option<String>,
    pub notes: Option<String>,
    /// The contract this one renewed.
    pub predecessor_id: Option<String>,
    /// The contract that renews this one.
    pub successor_id: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractCreate {
    #[schema(format = Uuid)]
    pub partner_id: String,
    /// 1–64 characters, unique ignoring case, width (全角/半角), invisible characters and surrounding spaces.
    #[schema(min_length = 1, max_length = 64)]
    pub number: String,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub kind: ContractKind,
    pub signed_at: Option<DateTime<Utc>>,
    pub effective_from: Option<NaiveDate>,
    /// Not before `effective_from`.
    pub effective_to: Option<NaiveDate>,
    /// Defaults to false.
    pub auto_renew: Option<bool>,
    /// 0–730, default 30.
    #[serde(default, deserialize_with = "super::whole::opt")]
    #[schema(minimum = 0, maximum = 730)]
    pub renewal_notice_days: Option<i64>,
    /// Minor units, 0–10^15.
    #[serde(default, deserialize_with = "super::whole::opt")]
    #[schema(minimum = 0, maximum = 1e15)]
    pub total_value: Option<i64>,
    /// ISO 4217 code (three capital letters), default CNY.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<String>,
}

/// A JSON merge patch. `status` moves the contract (draft → active → expired | terminated). Once
/// a contract has left draft only `status`, `owner` and `notes` change here; its terms and
/// commercial fields change through amendments.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractUpdate {
    #[schema(format = Uuid)]
    pub partner_id: Option<String>,
    #[schema(min_length = 1, max_length = 64)]
    pub number: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    pub kind: Option<ContractKind>,
    pub status: Option<ContractStatus>,
    #[serde(default, deserialize_with = "nullable")]
    pub signed_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub effective_from: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    pub effective_to: Option<Option<NaiveDate>>,
    pub auto_renew: Option<bool>,
    #[serde(default, deserialize_with = "super::whole::opt")]
    #[schema(minimum = 0, maximum = 730)]
    pub renewal_notice_days: Option<i64>,
    #[serde(default, deserialize_with = "super::whole::nullable")]
    #[schema(minimum = 0, maximum = 1e15)]
    pub total_value: Option<Option<i64>>,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<Option<String>>,
}

/// The fields `PATCH` may still change after a contract left draft.
pub const ALWAYS_EDITABLE: [&str; 3] = ["status", "owner", "notes"];

/// Renew a contract: the successor starts as a draft with the same partner, kind and terms.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractRenewRequest {
    /// The successor's number, 1–64 characters, unique ignoring case, width, invisible characters and surrounding spaces.
    #[schema(min_length = 1, max_length = 64)]
    pub number: String,
    /// Defaults to the predecessor's title.
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// Defaults to the day after the predecessor's `effective_to`.
    pub effective_from: Option<NaiveDate>,
    /// Defaults to the new `effective_from` plus the predecessor's duration.
    pub effective_to: Option<NaiveDate>,
    /// Defaults to the predecessor's total value.
    #[serde(default, deserialize_with = "super::whole::opt")]
    #[schema(minimum = 0, maximum = 1e15)]
    pub total_value: Option<i64>,
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractFilter {
    #[param(format = Uuid)]
    pub partner_id: Option<String>,
    pub status: Option<ContractStatus>,
    pub kind: Option<ContractKind>,
    #[param(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    /// Contracts whose `effective_to` falls between today and today + N days (China Standard
    /// Time), soonest first.
    #[param(minimum = 0, maximum = 3650)]
    pub expiring_within_days: Option<i64>,
    /// Text search over number and title (a substring, compared as numbers are: ignoring case and width).
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
}

impl ContractFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(id) = &self.partner_id {
            if uuid::Uuid::parse_str(id).is_err() {
                c.add("partner_id", "must be a partner id (UUID)");
            }
        }
        c.opt_text("owner", self.owner.as_deref(), MAX_SHORT_TEXT);
        c.opt_text("q", self.q.as_deref(), MAX_SHORT_TEXT);
        if let Some(n) = self.expiring_within_days {
            if !(0..=3650).contains(&n) {
                c.add("expiring_within_days", format!("must be between 0 and 3650 (got {n})"));
            }
        }
        c.finish()
    }
}

pub fn check_currency(c: &mut Check, field: &str, value: &str) {
    if value.len() != 3 || !value.chars().all(|ch| ch.is_ascii_uppercase()) {
        c.add(field, "must be an ISO 4217 currency code: three capital letters such as CNY");
    }
}

fn check_number(c: &mut Check, field: &str, value: &str) {
    c.text(field, value, 1, MAX_NUMBER_LEN);
}

pub fn check_money(c: &mut Check, field: &str, value: Option<i64>) {
    if let Some(v) = value {
        if !(0..=super::terms::MAX_MINOR).contains(&v) {
            c.add(field, format!("must be between 0 and {} minor units (got {v})", super::terms::MAX_MINOR));
        }
    }
}

pub fn check_notice(c: &mut Check, field: &str, value: Option<i64>) {
    if let Some(v) = value {
        if !(0..=MAX_NOTICE_DAYS).contains(&v) {
            c.add(field, format!("must be between 0 and {MAX_NOTICE_DAYS} days (got {v})"));
        }
    }
}

/// Dates are four-digit years (RFC 3339 full-date), so that their stored text sorts as dates.
pub fn check_date(c: &mut Check, field: &str, value: Option<NaiveDate>) {
    c.date(field, value);
}

/// `effective_to` must not come before `effective_from` (a rule across two fields).
pub fn check_dates(c: &mut Check, field: &str, from: Option<NaiveDate>, to: Option<NaiveDate>) {
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            c.add(field, format!("{to} is before effective_from {from}"));
        }
    }
}

pub fn check_partner_id(c: &mut Check, field: &str, value: &str) {
    if uuid::Uuid::parse_str(value).is_err() {
        c.add(field, "must be a partner id (UUID)");
    }
}

impl ContractCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        check_partner_id(&mut c, "partner_id", &self.partner_id);
        check_number(&mut c, "number", &self.number);
        c.text("title", &self.title, 1, MAX_SHORT_TEXT);
        check_date(&mut c, "effective_from", self.effective_from);
        check_date(&mut c, "effective_to", self.effective_to);
        check_dates(&mut c, "effective_to", self.effective_from, self.effective_to);
        check_notice(&mut c, "renewal_notice_days", self.renewal_notice_days);
        check_money(&mut c, "total_value", self.total_value);
        if let Some(cur) = &self.currency {
            check_currency(&mut c, "currency", cur);
        }
        c.opt_text("owner", self.owner.as_deref(), MAX_SHORT_TEXT);
        c.opt_text("notes", self.notes.as_deref(), MAX_LONG_TEXT);
        c.finish()
    }
}

impl ContractUpdate {
    /// Field rules, and the date order of the contract the patch produces.
    pub fn validate(&self, next: &Contract) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(id) = &self.partner_id {
            check_partner_id(&mut c, "partner_id", id);
        }
        if let Some(n) = &self.number {
            check_number(&mut c, "number", n);
        }
        if let Some(t) = &self.title {
            c.text("title", t, 1, MAX_SHORT_TEXT);
        }
        check_date(&mut c, "effective_from", self.effective_from.flatten());
        check_date(&mut c, "effective_to", self.effective_to.flatten());
        if self.effective_from.is_some() || self.effective_to.is_some() {
            let field = if self.effective_to.is_some() { "effective_to" } else { "effective_from" };
            if let (Some(from), Some(to)) = (next.effective_from, next.effective_to) {
                if to < from {
                    c.add(field, format!("effective_to {to} would be before effective_from {from}"));
                }
            }
        }
        check_notice(&mut c, "renewal_notice_days", self.renewal_notice_days);
        check_money(&mut c, "total_value", self.total_value.flatten());
        if let Some(cur) = &self.currency {
            check_currency(&mut c, "currency", cur);
        }
        c.opt_text("owner", self.owner.clone().flatten().as_deref(), MAX_SHORT_TEXT);
        c.opt_text("notes", self.notes.clone().flatten().as_deref(), MAX_LONG_TEXT);
        c.finish()
    }

    /// The contract after the patch (transitions and locks are checked by the caller).
    pub fn apply(&self, current: &Contract) -> Contract {
        let mut k = current.clone();
        if let Some(v) = &self.partner_id {
            k.partner_id = v.clone();
        }
        if let Some(v) = &self.number {
            k.number = v.clone();
        }
        if let Some(v) = &self.title {
            k.title = v.clone();
        }
        if let Some(v) = self.kind {
            k.kind = v;
        }
        if let Some(v) = self.status {
            k.status = v;
        }
        if let Some(v) = self.signed_at {
            k.signed_at = v.map(truncate);
        }
        if let Some(v) = self.effective_from {
            k.effective_from = v;
        }
        if let Some(v) = self.effective_to {
            k.effective_to = v;
        }
        if let Some(v) = self.auto_renew {
            k.auto_renew = v;
        }
        if let Some(v) = self.renewal_notice_days {
            k.renewal_notice_days = v;
        }
        if let Some(v) = self.total_value {
            k.total_value = v;
        }
        if let Some(v) = &self.currency {
            k.currency = v.clone();
        }
        if let Some(v) = &self.owner {
            k.owner = v.clone();
        }
        if let Some(v) = &self.notes {
            k.notes = v.clone();
        }
        k
    }
}

/// The fields that differ between two versions and may not change once the contract left draft.
pub fn locked_changes(current: &Contract, next: &Contract) -> Vec<String> {
    let diff = crate::audit::diff(Some(current), Some(next));
    diff.as_object()
        .map(|m| m.keys().filter(|k| !ALWAYS_EDITABLE.contains(&k.as_str())).cloned().collect())
        .unwrap_or_default()
}

impl ContractRenewRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        check_number(&mut c, "number", &self.number);
        c.opt_text("title", self.title.as_deref(), MAX_SHORT_TEXT);
        check_date(&mut c, "effective_from", self.effective_from);
        check_date(&mut c, "effective_to", self.effective_to);
        check_dates(&mut c, "effective_to", self.effective_from, self.effective_to);
        check_money(&mut c, "total_value", self.total_value);
        c.opt_text("owner", self.owner.as_deref(), MAX_SHORT_TEXT);
        c.opt_text("notes", self.notes.as_deref(), MAX_LONG_TEXT);
        c.finish()
    }

    /// The successor's dates: given ones win; otherwise it starts the day after the predecessor
    /// ends and lasts as long. A given start after the defaulted end is reported by `field`.
    pub fn dates(&self, pred: &Contract) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let from = self.effective_from.or_else(|| pred.effective_to.and_then(|to| to.succ_opt()));
        let to = self.effective_to.or_else(|| match (from, pred.effective_from, pred.effective_to) {
            (Some(start), Some(pf), Some(pt)) => same_length(start, pf, pt),
            _ => None,
        });
        (from, to)
    }
}

/// The last day of a period starting on `start` as long as `from..=to`: in whole months when
/// that period is whole months (a year stays a year across leap days), else in days.
fn same_length(start: NaiveDate, from: NaiveDate, to: NaiveDate) -> Option<NaiveDate> {
    use chrono::{Datelike, Months};
    let end = to.succ_opt()?;
    if end.day() == from.day() && start.day() == from.day() {
        let months = (end.year() - from.year()) * 12 + end.month() as i32 - from.month() as i32;
        let months = u32::try_from(months).ok()?;
        return start.checked_add_months(Months::new(months))?.pred_opt();
    }
    start.checked_add_signed(to - from)
}

/// The key that makes numbers unique: `validation::comparison_key` (NFKC, case folding,
/// invisible characters and surrounding spaces removed), as for partner names. The stored
/// number keeps what was typed.
pub fn number_key(number: &str) -> String {
    comparison_key(number)
}

/// The key `q=` searches titles by: the same comparison as numbers, so that a search typed in
/// full-width or another case finds the title.
pub fn title_key(title: &str) -> String {
    comparison_key(title)
}

/// Timestamps are kept to the microsecond, as both backends store them.
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::ContractStatus::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn status_machine_follows_the_issue() {
        let allowed = [(Draft, Active), (Active, Expired), (Active, Terminated)];
        for from in ContractStatus::ALL {
            for to in ContractStatus::ALL {
                assert_eq!(from.can_move_to(*to), allowed.contains(&(*from, *to)), "{from} -> {to}");
            }
        }
    }

    pub(crate) fn sample() -> Contract {
        let now = Utc::now();
        Contract {
            id: "c1".into(),
            partner_id: "p1".into(),
            number: "HT-1".into(),
            title: "代理协议".into(),
            kind: ContractKind::Agency,
            status: Draft,
            signed_at: None,
            effective_from: NaiveDate::from_ymd_opt(2026, 1, 1),
            effective_to: NaiveDate::from_ymd_opt(2026, 12, 31),
            auto_renew: false,
            renewal_notice_days: 30,
            total_value: Some(100),
            currency: "CNY".into(),
            owner: None,
            notes: None,
            predecessor_id: None,
            successor_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn currency_is_three_capitals() {
        for (code, ok) in [("CNY", true), ("usd", false), ("EURO", false), ("C1Y", false), ("", false)] {
            let mut c = Check::new();
            check_currency(&mut c, "currency", code);
            assert_eq!(c.is_ok(), ok, "{code}");
        }
    }

    #[test]
    fn patch_dates_are_checked_on_the_result() {
        let current = sample();
        let patch: ContractUpdate = serde_json::from_value(json!({"effective_to": "2025-06-30"})).unwrap();
        let err = patch.validate(&patch.apply(&current)).unwrap_err();
        assert_eq!(err.errors[0].field, "effective_to");
        let patch: ContractUpdate = serde_json::from_value(json!({"effective_from": "2027-01-01"})).unwrap();
        assert_eq!(patch.validate(&patch.apply(&current)).unwrap_err().errors[0].field, "effective_from");
        let patch: ContractUpdate = serde_json::from_value(json!({"effective_to": null, "owner": null})).unwrap();
        let next = patch.apply(&current);
        assert!(patch.validate(&next).is_ok());
        assert_eq!(next.effective_to, None);
    }

    #[test]
    fn only_status_owner_and_notes_stay_editable() {
        let current = sample();
        let patch: ContractUpdate =
            serde_json::from_value(json!({"status": "active", "owner": "王芳", "notes": "x", "title": "代理协议"}))
                .unwrap();
        assert!(locked_changes(&current, &patch.apply(&current)).is_empty(), "an unchanged title is no change");
        let patch: ContractUpdate = serde_json::from_value(json!({"total_value": 5, "title": "新"})).unwrap();
        assert_eq!(locked_changes(&current, &patch.apply(&current)), ["title", "total_value"]);
    }

    #[test]
    fn renewal_dates_follow_the_predecessor() {
        let pred = sample();
        let req = ContractRenewRequest {
            number: "HT-2".into(),
            title: None,
            effective_from: None,
            effective_to: None,
            total_value: None,
            owner: None,
            notes: None,
        };
        assert_eq!(req.dates(&pred), (NaiveDate::from_ymd_opt(2027, 1, 1), NaiveDate::from_ymd_opt(2027, 12, 31)));
        let given = ContractRenewRequest { effective_from: NaiveDate::from_ymd_opt(2027, 3, 1), ..req.clone() };
        assert_eq!(given.dates(&pred).1, NaiveDate::from_ymd_opt(2028, 2, 29), "a year stays a year");
        let odd = Contract { effective_to: NaiveDate::from_ymd_opt(2026, 3, 10), ..pred.clone() };
        assert_eq!(req.dates(&odd), (NaiveDate::from_ymd_opt(2026, 3, 11), NaiveDate::from_ymd_opt(2026, 5, 18)));
        let open = Contract { effective_to: None, ..pred };
        assert_eq!(req.dates(&open), (None, None));
    }
}
