//! Deal registrations (商机报备): wire types, the status moves, the 统一社会信用代码 check and the
//! duplicate rule (pure, unit-tested case by case).
//!
//! submitted → approved | rejected; approved → won | lost | expired. An approved registration is
//! protected until `protected_until` (approval + `CHANNELDESK_DEAL_PROTECTION_DAYS`, pushed by
//! `extend`); the expiry job moves it to `expired` after that.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use utoipa::{IntoParams, ToSchema};

use crate::db::types::{DateText, JsonText, UtcTime};
use crate::error::ApiError;
use crate::performance::records::model::{check_partner_id, MAX_MINOR};
use crate::validation::{comparison_key, Check, MAX_LONG_TEXT, MAX_SHORT_TEXT};

crate::record!(DealRegistration);

crate::text_enum! {
    /// submitted → approved | rejected; approved → won | lost | expired.
    DealStatus {
        Submitted => "submitted", Approved => "approved", Rejected => "rejected", Won => "won",
        Lost => "lost", Expired => "expired",
    }
}

impl DealStatus {
    pub fn can_move_to(self, to: DealStatus) -> bool {
        use DealStatus::*;
        matches!(
            (self, to),
            (Submitted, Approved) | (Submitted, Rejected) | (Approved, Won) | (Approved, Lost) | (Approved, Expired)
        )
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            DealStatus::Submitted => "待审批",
            DealStatus::Approved => "已批准（保护中）",
            DealStatus::Rejected => "已驳回",
            DealStatus::Won => "已赢单",
            DealStatus::Lost => "已丢单",
            DealStatus::Expired => "保护期已过",
        }
    }
}

/// The number of product lines a registration may name.
pub const MAX_PRODUCT_LINES: usize = 50;
/// What a partner key is told about a clash: that the account is taken, never by whom.
pub const ALREADY_REGISTERED: &str = "already_registered";
pub const ALREADY_REGISTERED_MESSAGE: &str = "已由其他渠道报备 already registered by another channel";

/// The row as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::deal_registrations, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct DealRow {
    pub id: String,
    pub partner_id: String,
    pub key_account_id: Option<String>,
    pub prospect_name: Option<String>,
    pub credit_code: Option<String>,
    pub prospect_region: Option<String>,
    pub account_name: String,
    pub account_key: String,
    #[diesel(serialize_as = JsonText)]
    pub product_lines: Vec<String>,
    pub estimated_value_minor: i64,
    pub currency: String,
    #[diesel(serialize_as = DateText)]
    pub expected_close_on: NaiveDate,
    pub description: Option<String>,
    pub status: DealStatus,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    pub decided_at: Option<DateTime<Utc>>,
    #[diesel(serialize_as = UtcTime)]
    pub protected_until: Option<DateTime<Utc>>,
    pub extension_reason: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    pub closed_at: Option<DateTime<Utc>>,
    pub submitted_by: String,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

/// A new customer the registration names (not yet a key account).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Prospect {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The 18-character 统一社会信用代码 (unified social credit code) with its GB 32100-2015
    /// check character; optional, validated when present.
    #[schema(pattern = "^[0-9A-HJ-NPQRTUWXY]{18}$", min_length = 18, max_length = 18)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A deal registration (商机报备) as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DealRegistration {
    pub id: String,
    #[schema(format = Uuid)]
    pub partner_id: String,
    /// The existing key account it registers, or none when it names a prospect.
    #[schema(format = Uuid)]
    pub key_account_id: Option<String>,
    pub prospect: Option<Prospect>,
    /// The key account's or the prospect's name.
    pub account_name: String,
    pub product_lines: Vec<String>,
    /// Fen of `currency`.
    pub estimated_value_minor: i64,
    pub currency: String,
    pub expected_close_on: NaiveDate,
    pub description: Option<String>,
    pub status: DealStatus,
    /// Why it was rejected.
    pub decision_reason: Option<String>,
    /// The name of the key that approved or rejected it.
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Until when an approved registration protects the deal for its partner.
    pub protected_until: Option<DateTime<Utc>>,
    /// Why the protection was last extended.
    pub extension_reason: Option<String>,
    /// When it was won, lost or expired.
    pub closed_at: Option<DateTime<Utc>>,
    /// The name of the key that submitted it.
    pub submitted_by: String,
    /// The live registrations of other partners it clashes with (staff only; a partner key gets
    /// an empty list and `clash`).
    #[serde(default)]
    pub conflicts_with: Vec<String>,
    /// `already_registered` when another channel registered the account (what a partner key is told).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clash: Option<String>,
    /// 已由其他渠道报备 already registered by another channel, with `clash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clash_message: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DealRow> for DealRegistration {
    fn from(r: DealRow) -> Self {
        let prospect =
            r.prospect_name.map(|name| Prospect { name, credit_code: r.credit_code, region: r.prospect_region });
        DealRegistration {
            id: r.id,
            partner_id: r.partner_id,
            key_account_id: r.key_account_id,
            prospect,
            account_name: r.account_name,
            product_lines: r.product_lines,
            estimated_value_minor: r.estimated_value_minor,
            currency: r.currency,
            expected_close_on: r.expected_close_on,
            description: r.description,
            status: r.status,
            decision_reason: r.decision_reason,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            protected_until: r.protected_until,
            extension_reason: r.extension_reason,
            closed_at: r.closed_at,
            submitted_by: r.submitted_by,
            conflicts_with: Vec::new(),
            clash: None,
            clash_message: None,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl DealRegistration {
    /// What a partner key is shown of a clash: that there is one, not whose.
    pub fn with_clash(mut self, ids: Vec<String>, partner_view: bool) -> Self {
        if partner_view {
            if !ids.is_empty() {
                self.clash = Some(ALREADY_REGISTERED.to_string());
                self.clash_message = Some(ALREADY_REGISTERED_MESSAGE.to_string());
            }
            self.conflicts_with = Vec::new();
        } else {
            self.conflicts_with = ids;
        }
        self
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealRegistrationCreate {
    /// Required for staff keys; a partner key registers for its own partner (and may omit it).
    #[schema(format = Uuid)]
    pub partner_id: Option<String>,
    /// An existing key account; give this or `prospect`, not both.
    #[schema(format = Uuid)]
    pub key_account_id: Option<String>,
    /// A new customer; give this or `key_account_id`, not both.
    pub prospect: Option<Prospect>,
    /// 1–50 product lines, each 1–100 characters, no duplicates.
    #[schema(min_items = 1, max_items = 50)]
    pub product_lines: Vec<String>,
    /// Fen of `currency`, 0–10^15.
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub estimated_value_minor: i64,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    pub expected_close_on: NaiveDate,
    #[schema(min_length = 1, max_length = 10000)]
    pub description: Option<String>,
}

impl DealRegistrationCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(id) = &self.partner_id {
            check_partner_id(&mut c, "partner_id", id);
        }
        match (&self.key_account_id, &self.prospect) {
            (Some(_), Some(_)) | (None, None) => {
                c.add("key_account_id", "give exactly one of key_account_id and prospect")
            }
            (Some(id), None) => {
                if uuid::Uuid::parse_str(id).is_err() {
                    c.add("key_account_id", "must be a key account id (UUID)");
                }
            }
            (None, Some(p)) => {
                c.text("prospect.name", &p.name, 1, MAX_SHORT_TEXT);
                if let Some(code) = &p.credit_code {
                    if let Err(why) = check_credit_code(code) {
                        c.add("prospect.credit_code", why);
                    }
                }
                c.opt_text("prospect.region", p.region.as_deref(), MAX_SHORT_TEXT);
            }
        }
        c.labels("product_lines", &self.product_lines, 1, MAX_PRODUCT_LINES);
        c.range("estimated_value_minor", Some(self.estimated_value_minor), 0, MAX_MINOR);
        crate::contracts::model::check_currency(&mut c, "currency", &self.currency);
        c.date("expected_close_on", Some(self.expected_close_on));
        c.opt_text("description", self.description.as_deref(), MAX_LONG_TEXT);
        c.finish()
    }
}

/// Approving: optionally over an earlier-submitted clashing registration, with the reason.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealApprove {
    /// Approve although an earlier-submitted clashing registration is still submitted (a
    /// manager decides otherwise than "earlier submission wins"); needs `reason`.
    #[serde(default)]
    pub override_earlier: bool,
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: Option<String>,
}

impl DealApprove {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.opt_text("reason", self.reason.as_deref(), MAX_LONG_TEXT);
        if self.override_earlier && self.reason.is_none() {
            c.add("reason", "is required with override_earlier: say why the earlier registration does not win");
        }
        c.finish()
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealReject {
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

impl DealReject {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.text("reason", &self.reason, 1, MAX_LONG_TEXT);
        c.finish()
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealExtend {
    /// 1–365 days added to `protected_until`.
    #[serde(deserialize_with = "crate::contracts::whole::int")]
    #[schema(minimum = 1, maximum = 365)]
    pub days: i64,
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

impl DealExtend {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.range("days", Some(self.days), 1, 365);
        c.text("reason", &self.reason, 1, MAX_LONG_TEXT);
        c.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DealFilter {
    #[param(format = Uuid)]
    pub partner_id: Option<String>,
    #[param(format = Uuid)]
    pub key_account_id: Option<String>,
    pub status: Option<DealStatus>,
    /// Registrations naming this product line (compared ignoring case and width).
    #[param(min_length = 1, max_length = 100)]
    pub product_line: Option<String>,
}

impl DealFilter {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(id) = &self.partner_id {
            check_partner_id(&mut c, "partner_id", id);
        }
        if let Some(id) = &self.key_account_id {
            if uuid::Uuid::parse_str(id).is_err() {
                c.add("key_account_id", "must be a key account id (UUID)");
            }
        }
        if let Some(line) = &self.product_line {
            c.text("product_line", line, 1, 100);
        }
        c.finish()
    }
}

// ---- 统一社会信用代码 (GB 32100-2015) ----

const CREDIT_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Checks an 18-character unified social credit code: its characters (digits and capital
/// letters other than I, O, Z, S, V) and its check character, 31 − (Σ value × weight mod 31).
pub fn check_credit_code(code: &str) -> Result<(), String> {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(format!("must be 18 characters (got {})", chars.len()));
    }
    let mut values = Vec::with_capacity(18);
    for ch in &chars {
        match CREDIT_CHARSET.find(*ch) {
            Some(v) if ch.is_ascii() => values.push(v as u32),
            _ => {
                return Err(format!(
                    "{ch:?} is not a credit code character: digits and capital letters except I, O, Z, S, V"
                ))
            }
        }
    }
    let sum: u32 = values.iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    if values[17] != check {
        return Err("has a wrong check character (GB 32100-2015): is a character mistyped?".to_string());
    }
    Ok(())
}

// ---- the duplicate rule ----

/// Company-form suffixes the name key drops (longest first).
const CJK_SUFFIXES: &[&str] = &["股份有限公司", "有限责任公司", "有限公司", "集团"];
/// Latin suffixes the name key drops when they stand as their own word.
const LATIN_SUFFIXES: &[&str] = &["ltd", "inc", "co"];
/// Punctuation around the suffixes: "Co., Ltd.", "Co.,Ltd", "Inc。".
fn is_suffix_punct(c: char) -> bool {
    matches!(c, '.' | ',' | '。' | '、' | '，' | '．') || c.is_whitespace() || crate::validation::is_blank_char(c)
}

/// The account name as the duplicate rule compares it: NFKC, lower case, company suffixes
/// (有限公司, 有限责任公司, 股份有限公司, 集团, Co., Ltd., Inc. with their comma and dot variants)
/// removed from the end, then every whitespace character removed.
pub fn account_key(name: &str) -> String {
    let folded: String = name.nfkc().flat_map(char::to_lowercase).collect();
    let mut s = folded.as_str();
    loop {
        let trimmed = s.trim_end_matches(is_suffix_punct);
        match strip_one_suffix(trimmed) {
            // A name that is only a suffix keeps it.
            Some(rest) if !rest.trim_end_matches(is_suffix_punct).is_empty() => s = rest,
            _ => {
                s = trimmed;
                break;
            }
        }
    }
    s.chars().filter(|c| !c.is_whitespace() && !crate::validation::is_blank_char(*c)).collect()
}

fn strip_one_suffix(name: &str) -> Option<&str> {
    if let Some(rest) = CJK_SUFFIXES.iter().find_map(|suffix| name.strip_suffix(suffix)) {
        return Some(rest);
    }
    LATIN_SUFFIXES.iter().find_map(|suffix| {
        // Only a word of its own: "Tesco" keeps its "co".
        name.strip_suffix(suffix).filter(|rest| rest.chars().last().is_none_or(|c| !c.is_ascii_alphanumeric()))
    })
}

/// What the duplicate rule looks at of one registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClashFacts<'a> {
    pub partner_id: &'a str,
    pub key_account_id: Option<&'a str>,
    pub credit_code: Option<&'a str>,
    /// `account_key` of its account's name.
    pub account_key: &'a str,
    pub product_lines: &'a [String],
    pub status: DealStatus,
    pub protected_until: Option<DateTime<Utc>>,
}

impl<'a> ClashFacts<'a> {
    pub fn of(row: &'a DealRow) -> Self {
        ClashFacts {
            partner_id: &row.partner_id,
            key_account_id: row.key_account_id.as_deref(),
            credit_code: row.credit_code.as_deref(),
            account_key: &row.account_key,
            product_lines: &row.product_lines,
            status: row.status,
            protected_until: row.protected_until,
        }
    }

    /// Submitted, or approved and still protected at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        match self.status {
            DealStatus::Submitted => true,
            DealStatus::Approved => self.protected_until.is_none_or(|until| until > now),
            _ => false,
        }
    }

    /// The same account: the same key account, the same credit code, or the same name key.
    pub fn same_account(&self, other: &ClashFacts<'_>) -> bool {
        let both = |a: Option<&str>, b: Option<&str>| matches!((a, b), (Some(a), Some(b)) if a == b);
        both(self.key_account_id, other.key_account_id)
            || both(self.credit_code, other.credit_code)
            || (!self.account_key.is_empty() && self.account_key == other.account_key)
    }
}

/// The product lines of `a` that `b` names too (compared by `validation::comparison_key`).
pub fn shared_lines(a: &[String], b: &[String]) -> Vec<String> {
    let keys: Vec<String> = b.iter().map(|l| comparison_key(l)).collect();
    a.iter().filter(|l| keys.contains(&comparison_key(l))).cloned().collect()
}

/// **The duplicate rule**: two registrations of different partners clash when they name the
/// same account (same key account, same credit code, or equal name keys), share at least one
/// product line, and both are live (submitted, or approved and unexpired) at `now`.
pub fn clashes(a: &ClashFacts<'_>, b: &ClashFacts<'_>, now: DateTime<Utc>) -> bool {
    a.partner_id != b.partner_id
        && a.is_live(now)
        && b.is_live(now)
        && a.same_account(b)
        && !shared_lines(a.product_lines, b.product_lines).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_moves() {
        use DealStatus::*;
        for (from, to) in
            [(Submitted, Approved), (Submitted, Rejected), (Approved, Won), (Approved, Lost), (Approved, Expired)]
        {
            assert!(from.can_move_to(to), "{from} → {to}");
        }
        for (from, to) in
            [(Submitted, Won), (Rejected, Approved), (Expired, Approved), (Won, Lost), (Approved, Approved)]
        {
            assert!(!from.can_move_to(to), "{from} → {to}");
        }
    }

    #[test]
    fn real_credit_codes_pass() {
        for code in ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"] {
            assert_eq!(check_credit_code(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn broken_credit_codes_fail() {
        assert!(check_credit_code("91350100M000100Y44").is_err(), "wrong check character");
        assert!(check_credit_code("91350100M000100Y4").is_err(), "17 characters");
        assert!(check_credit_code("91350100M000100Y433").is_err(), "19 characters");
        for letter in ['I', 'O', 'Z', 'S', 'V'] {
            let code = format!("91350100{letter}000100Y43");
            assert!(check_credit_code(&code).unwrap_err().contains("not a credit code character"), "{code}");
        }
        assert!(check_credit_code("91350100m000100Y43").is_err(), "lower case");
        assert!(check_credit_code("９1350100M000100Y43").is_err(), "full-width digit");
    }

    #[test]
    fn check_character_31_is_zero() {
        // Find a body whose check is 0 by construction and confirm '0' is accepted, not 'Y'+1.
        let body = "91350100M000100Y4";
        let values: Vec<u32> = body.chars().map(|c| CREDIT_CHARSET.find(c).unwrap_or(0) as u32).collect();
        let sum: u32 = values.iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
        let check = (31 - sum % 31) % 31;
        let ch = CREDIT_CHARSET.chars().nth(check as usize).unwrap_or('?');
        assert_eq!(check_credit_code(&format!("{body}{ch}")), Ok(()));
    }

    #[test]
    fn account_keys_drop_company_suffixes() {
        let same = [
            ("杭州西湖储能科技有限公司", "杭州西湖储能科技"),
            ("杭州西湖储能科技有限责任公司", "杭州西湖储能科技"),
            ("杭州西湖储能科技股份有限公司", "杭州西湖储能科技"),
            ("西湖储能集团", "西湖储能"),
            ("西湖储能集团有限公司", "西湖储能"),
            ("西湖 储能 有限公司", "西湖储能"),
            ("Acme Co., Ltd.", "acme"),
            ("ACME CO.,LTD", "acme"),
            ("Acme Inc.", "acme"),
            ("acme inc", "acme"),
            ("Acme Co. Ltd.", "acme"),
            ("Ａｃｍｅ　Ｃｏ．，Ｌｔｄ．", "acme"),
            ("Acme Ltd。", "acme"),
        ];
        for (name, key) in same {
            assert_eq!(account_key(name), key, "{name}");
        }
        assert_eq!(account_key("Tesco"), "tesco", "a word ending in co keeps it");
        assert_eq!(account_key("Zinc"), "zinc", "a word ending in inc keeps it");
        assert_eq!(account_key("有限公司"), "有限公司", "a name that is only a suffix stays");
        assert_eq!(account_key("Big Data Group"), "bigdatagroup");
        assert_ne!(account_key("西湖储能"), account_key("东湖储能"));
    }

    fn row(partner: &str, name: &str, lines: &[&str]) -> DealRow {
        let now = Utc::now();
        DealRow {
            id: format!("id-{partner}-{name}"),
            partner_id: partner.into(),
            key_account_id: None,
            prospect_name: Some(name.into()),
            credit_code: None,
            prospect_region: None,
            account_name: name.into(),
            account_key: account_key(name),
            product_lines: lines.iter().map(|s| s.to_string()).collect(),
            estimated_value_minor: 0,
            currency: "CNY".into(),
            expected_close_on: now.date_naive(),
            description: None,
            status: DealStatus::Submitted,
            decision_reason: None,
            decided_by: None,
            decided_at: None,
            protected_until: None,
            extension_reason: None,
            closed_at: None,
            submitted_by: "t".into(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    fn clash(a: &DealRow, b: &DealRow, now: DateTime<Utc>) -> bool {
        clashes(&ClashFacts::of(a), &ClashFacts::of(b), now)
    }

    #[test]
    fn the_duplicate_rule_case_by_case() {
        let now = Utc::now();
        let a = row("p1", "杭州西湖储能科技有限公司", &["储能", "光伏"]);
        // Name equal after suffixes, full width and case; a shared line.
        assert!(clash(&a, &row("p2", "杭州西湖储能科技", &["储能"]), now));
        assert!(clash(&a, &row("p2", "杭州西湖储能科技股份有限公司", &["光伏"]), now));
        // Product lines compare by comparison key.
        let latin = row("p1", "Acme Co., Ltd.", &["Storage"]);
        assert!(clash(&latin, &row("p2", "ＡＣＭＥ Inc.", &["ｓｔｏｒａｇｅ"]), now));
        // No shared product line: no clash.
        assert!(!clash(&a, &row("p2", "杭州西湖储能科技", &["风电"]), now));
        // Another account: no clash.
        assert!(!clash(&a, &row("p2", "杭州东湖储能科技", &["储能"]), now));
        // The same partner twice is not a channel conflict.
        assert!(!clash(&a, &row("p1", "杭州西湖储能科技", &["储能"]), now));
        // The same credit code under different names.
        let mut c1 = row("p1", "西湖储能", &["储能"]);
        let mut c2 = row("p2", "Westlake Energy", &["储能"]);
        c1.credit_code = Some("91350100M000100Y43".into());
        c2.credit_code = Some("91350100M000100Y43".into());
        assert!(clash(&c1, &c2, now));
        c2.credit_code = Some("91110000802100433B".into());
        assert!(!clash(&c1, &c2, now), "different credit codes and names");
        // The same key account.
        let mut k1 = row("p1", "甲", &["储能"]);
        let mut k2 = row("p2", "乙", &["储能"]);
        k1.key_account_id = Some("ka".into());
        k2.key_account_id = Some("ka".into());
        assert!(clash(&k1, &k2, now));
    }

    #[test]
    fn only_live_registrations_clash() {
        let now = Utc::now();
        let a = row("p1", "西湖储能", &["储能"]);
        let mut b = row("p2", "西湖储能", &["储能"]);
        for status in [DealStatus::Rejected, DealStatus::Won, DealStatus::Lost, DealStatus::Expired] {
            b.status = status;
            assert!(!clash(&a, &b, now), "{status}");
        }
        b.status = DealStatus::Approved;
        b.protected_until = Some(now + chrono::Duration::seconds(1));
        assert!(clash(&a, &b, now), "approved and protected");
        b.protected_until = Some(now);
        assert!(!clash(&a, &b, now), "protection ends at protected_until");
        b.protected_until = Some(now - chrono::Duration::days(1));
        assert!(!clash(&a, &b, now), "approved but expired (the job has not run yet)");
    }

    #[test]
    fn creates_need_exactly_one_account() {
        let base = DealRegistrationCreate {
            partner_id: None,
            key_account_id: None,
            prospect: None,
            product_lines: vec!["储能".into()],
            estimated_value_minor: 0,
            currency: "CNY".into(),
            expected_close_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default(),
            description: None,
        };
        let fields = |e: ApiError| e.errors.into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields(base.validate().unwrap_err()), ["key_account_id"]);
        let prospect =
            Prospect { name: "西湖储能".into(), credit_code: Some("91350100M000100Y44".into()), region: None };
        let both = DealRegistrationCreate {
            key_account_id: Some(uuid::Uuid::nil().to_string()),
            prospect: Some(prospect.clone()),
            ..base.clone()
        };
        assert_eq!(fields(both.validate().unwrap_err()), ["key_account_id"]);
        let bad_code = DealRegistrationCreate { prospect: Some(prospect), ..base.clone() };
        assert_eq!(fields(bad_code.validate().unwrap_err()), ["prospect.credit_code"]);
        let by_name = DealRegistrationCreate {
            prospect: Some(Prospect { name: "西湖储能".into(), credit_code: None, region: None }),
            ..base
        };
        assert!(by_name.validate().is_ok());
    }
}
