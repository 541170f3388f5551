//! Channel conflict cases (渠道冲突): the seed's kinds, causes (利益分配不均 unfair distribution,
//! 角色定位不清 unclear roles, 竞争压力 competitive pressure) and remedies (adjust the distribution,
//! clarify roles, strengthen communication); what a detector reports (`Detected`) and how a case
//! is shown to a partner (`ConflictView::redacted`).
//!
//! open → investigating → resolved | dismissed (open may also go straight to resolved or dismissed).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::types::{JsonText, UtcTime};
use crate::error::ApiError;
use crate::performance::records::model::check_partner_id;
use crate::validation::{Check, MAX_LONG_TEXT};

crate::record!(Conflict);
crate::json_column!(Resolution);

crate::text_enum! {
    /// deal_clash 报备撞单 · territory_overlap 区域重叠 · account_overlap 客户重叠 ·
    /// price_undercut 低价竞争 · role_unclear 角色不清 · other 其他.
    ConflictKind {
        DealClash => "deal_clash", TerritoryOverlap => "territory_overlap",
        AccountOverlap => "account_overlap", PriceUndercut => "price_undercut",
        RoleUnclear => "role_unclear", Other => "other",
    }
}

impl ConflictKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            ConflictKind::DealClash => "报备撞单",
            ConflictKind::TerritoryOverlap => "区域重叠",
            ConflictKind::AccountOverlap => "客户重叠",
            ConflictKind::PriceUndercut => "低价竞争",
            ConflictKind::RoleUnclear => "角色不清",
            ConflictKind::Other => "其他",
        }
    }
}

crate::text_enum! {
    /// unfair_distribution 利益分配不均 · unclear_roles 角色定位不清 · competitive_pressure 竞争压力 · other.
    ConflictCause {
        UnfairDistribution => "unfair_distribution", UnclearRoles => "unclear_roles",
        CompetitivePressure => "competitive_pressure", Other => "other",
    }
}

crate::text_enum! {
    ConflictSeverity { Low => "low", Medium => "medium", High => "high" }
}

impl ConflictSeverity {
    pub fn rank(self) -> u8 {
        match self {
            ConflictSeverity::Low => 0,
            ConflictSeverity::Medium => 1,
            ConflictSeverity::High => 2,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ConflictSeverity::Low => "低",
            ConflictSeverity::Medium => "中",
            ConflictSeverity::High => "高",
        }
    }
}

crate::text_enum! {
    /// open → investigating → resolved | dismissed; open → resolved | dismissed.
    ConflictStatus { Open => "open", Investigating => "investigating", Resolved => "resolved", Dismissed => "dismissed" }
}

impl ConflictStatus {
    pub fn is_live(self) -> bool {
        matches!(self, ConflictStatus::Open | ConflictStatus::Investigating)
    }

    pub fn can_move_to(self, to: ConflictStatus) -> bool {
        use ConflictStatus::*;
        matches!((self, to), (Open, Investigating) | (Open | Investigating, Resolved | Dismissed))
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ConflictStatus::Open => "待处理",
            ConflictStatus::Investigating => "调查中",
            ConflictStatus::Resolved => "已解决",
            ConflictStatus::Dismissed => "已驳回",
        }
    }
}

crate::text_enum! {
    /// The seed's remedies: adjust_distribution 调整利益分配 · clarify_roles 明确角色定位 ·
    /// strengthen_communication 加强沟通 · other.
    Remedy {
        AdjustDistribution => "adjust_distribution", ClarifyRoles => "clarify_roles",
        StrengthenCommunication => "strengthen_communication", Other => "other",
    }
}

impl Remedy {
    pub fn label_zh(self) -> &'static str {
        match self {
            Remedy::AdjustDistribution => "调整利益分配",
            Remedy::ClarifyRoles => "明确角色定位",
            Remedy::StrengthenCommunication => "加强沟通",
            Remedy::Other => "其他",
        }
    }
}

crate::text_enum! {
    /// What a case links to: a deal registration, a contract risk (by its risk key), the earlier
    /// case a returning conflict follows.
    LinkKind { DealRegistration => "deal_registration", ContractRisk => "contract_risk", Conflict => "conflict" }
}

/// How a case was resolved: the remedy applied and what carries it out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    pub remedy: Remedy,
    /// What was decided, 1–10000 characters.
    #[schema(min_length = 1, max_length = 10000)]
    pub notes: String,
    /// The incentive program that adjusts the distribution, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    pub incentive_program_id: Option<String>,
    /// The meeting where roles were clarified or the parties talked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    pub meeting_id: Option<String>,
    /// Action items that carry the remedy out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub action_item_ids: Vec<String>,
}

impl Resolution {
    pub fn check(&self, c: &mut Check) {
        c.text("resolution.notes", &self.notes, 1, MAX_LONG_TEXT);
        if let Some(id) = &self.incentive_program_id {
            if uuid::Uuid::parse_str(id).is_err() {
                c.add("resolution.incentive_program_id", "must be an incentive program id (UUID)");
            }
        }
        if let Some(id) = &self.meeting_id {
            if uuid::Uuid::parse_str(id).is_err() {
                c.add("resolution.meeting_id", "must be a meeting id (UUID)");
            }
        }
        if self.action_item_ids.len() > 50 {
            c.add("resolution.action_item_ids", "must have at most 50 items");
        }
        for (i, id) in self.action_item_ids.iter().enumerate() {
            if uuid::Uuid::parse_str(id).is_err() {
                c.add(format!("resolution.action_item_ids[{i}]"), "must be an action item id (UUID)");
            } else if self.action_item_ids[..i].contains(id) {
                c.add(format!("resolution.action_item_ids[{i}]"), "is a duplicate");
            }
        }
    }
}

/// A conflict case as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::conflicts, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Conflict {
    pub id: String,
    pub kind: ConflictKind,
    pub cause: ConflictCause,
    pub severity: ConflictSeverity,
    pub status: ConflictStatus,
    pub summary: String,
    /// The partners in conflict (a partner key sees only its own id here).
    #[diesel(serialize_as = JsonText)]
    pub party_partner_ids: Vec<String>,
    /// One side is our own direct channel (a partner of channel_type direct).
    pub involves_direct: bool,
    #[schema(format = Uuid)]
    pub key_account_id: Option<String>,
    #[diesel(serialize_as = JsonText)]
    pub territories: Vec<String>,
    #[diesel(serialize_as = JsonText)]
    pub product_lines: Vec<String>,
    /// Set on detected cases: names the detected condition, so it is not opened twice while open.
    pub fingerprint: Option<String>,
    /// The earlier case of the same condition, when it returned after that one was closed.
    #[schema(format = Uuid)]
    pub previous_conflict_id: Option<String>,
    #[diesel(serialize_as = JsonText)]
    pub resolution: Option<Resolution>,
    pub resolved_by: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// When a scan first found a closed case's condition gone (detected cases only).
    #[serde(skip)]
    #[diesel(serialize_as = UtcTime)]
    pub condition_cleared_at: Option<DateTime<Utc>>,
    /// The key that opened it, or `conflict_scan` for detected cases.
    pub opened_by: String,
    pub version: i64,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
    #[diesel(serialize_as = UtcTime)]
    pub updated_at: DateTime<Utc>,
}

/// A party as shown: staff see every partner; a partner key sees itself and "another partner".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Party {
    /// Null for a party hidden from a partner key.
    #[schema(format = Uuid)]
    pub partner_id: Option<String>,
    pub name: String,
}

/// Something the case is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Link {
    pub kind: LinkKind,
    /// The deal registration's or earlier case's id, or the contract risk's key.
    pub ref_id: String,
    /// Whose the linked thing is (a deal's partner); null for contract risks and cases.
    #[serde(skip)]
    pub partner_id: Option<String>,
}

/// A case with its parties and links, as a reader in some scope may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConflictView {
    #[serde(flatten)]
    pub conflict: Conflict,
    pub parties: Vec<Party>,
    pub links: Vec<Link>,
}

pub const ANOTHER_PARTNER: &str = "另一渠道伙伴 (another partner)";

impl ConflictView {
    /// What a partner key (or a chat bound to the partner) may see: its own party entry, the
    /// others as "another partner", and only its own links.
    pub fn redacted(mut self, own: &str) -> Self {
        self.conflict.party_partner_ids.retain(|id| id == own);
        for party in &mut self.parties {
            if party.partner_id.as_deref() != Some(own) {
                *party = Party { partner_id: None, name: ANOTHER_PARTNER.into() };
            }
        }
        self.links.retain(|l| l.kind == LinkKind::Conflict || l.partner_id.as_deref() == Some(own));
        self.conflict.fingerprint = None;
        self.conflict.resolved_by = None;
        self
    }
}

/// What a detector found: the condition, its parties and what it links to.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    pub kind: ConflictKind,
    pub cause: ConflictCause,
    pub severity: ConflictSeverity,
    /// Names the condition: while a case with it is open the detector joins that case.
    pub fingerprint: String,
    pub party_partner_ids: Vec<String>,
    pub involves_direct: bool,
    pub key_account_id: Option<String>,
    pub territories: Vec<String>,
    pub product_lines: Vec<String>,
    /// Chinese first, then English; names no partner (partners read it too).
    pub summary: String,
    pub links: Vec<Link>,
}

/// What reporting a detected condition did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Opened(Conflict),
    Joined(Conflict),
    /// A dismissed case of the condition stands until the condition is seen gone.
    Suppressed,
}

impl Outcome {
    pub fn conflict_id(&self) -> Option<&str> {
        match self {
            Outcome::Opened(c) | Outcome::Joined(c) => Some(&c.id),
            Outcome::Suppressed => None,
        }
    }
}

/// The union of two label lists, keeping the first spelling of each label (compared as names).
pub fn merge_labels(into: &mut Vec<String>, more: &[String]) {
    for label in more {
        let key = crate::validation::comparison_key(label);
        if !into.iter().any(|l| crate::validation::comparison_key(l) == key) {
            into.push(label.clone());
        }
    }
}

pub fn merge_ids(into: &mut Vec<String>, more: &[String]) {
    for id in more {
        if !into.contains(id) {
            into.push(id.clone());
        }
    }
    into.sort();
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictCreate {
    pub kind: ConflictKind,
    pub cause: ConflictCause,
    pub severity: ConflictSeverity,
    #[schema(min_length = 1, max_length = 10000)]
    pub summary: String,
    /// The partners in conflict: 1–20 (one when the other side is our direct channel).
    #[schema(schema_with = party_ids_schema)]
    pub party_partner_ids: Vec<String>,
    #[serde(default)]
    pub involves_direct: bool,
    #[schema(format = Uuid)]
    pub key_account_id: Option<String>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub territories: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub product_lines: Vec<String>,
}

impl ConflictCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.text("summary", &self.summary, 1, MAX_LONG_TEXT);
        check_parties(&mut c, &self.party_partner_ids);
        if let Some(id) = &self.key_account_id {
            if uuid::Uuid::parse_str(id).is_err() {
                c.add("key_account_id", "must be a key account id (UUID)");
            }
        }
        c.labels("territories", &self.territories, 0, 100);
        c.labels("product_lines", &self.product_lines, 0, 50);
        if self.party_partner_ids.len() < 2 && !self.involves_direct {
            c.add("party_partner_ids", "needs two partners, or one with involves_direct: a conflict has two sides");
        }
        c.finish()
    }
}

/// `party_partner_ids[]` in the schema: 1–20 distinct partner ids.
fn party_ids_schema() -> impl Into<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>> {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    use utoipa::openapi::{KnownFormat, SchemaFormat};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .min_items(Some(1))
        .max_items(Some(20))
        .unique_items(true)
        .description(Some("The partners in conflict: 1–20 (one when the other side is our direct channel)."))
}

fn check_parties(c: &mut Check, ids: &[String]) {
    if ids.is_empty() || ids.len() > 20 {
        c.add("party_partner_ids", format!("must have 1 to 20 items (got {})", ids.len()));
        return;
    }
    for (i, id) in ids.iter().enumerate() {
        let field = format!("party_partner_ids[{i}]");
        check_partner_id(c, &field, id);
        if ids[..i].iter().any(|x| x.eq_ignore_ascii_case(id)) {
            c.add(field, "is a duplicate");
        }
    }
}

/// A manager's edit of an open or investigating case.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictUpdate {
    pub kind: Option<ConflictKind>,
    pub cause: Option<ConflictCause>,
    pub severity: Option<ConflictSeverity>,
    #[schema(min_length = 1, max_length = 10000)]
    pub summary: Option<String>,
    #[schema(schema_with = party_ids_schema)]
    pub party_partner_ids: Option<Vec<String>>,
    pub involves_direct: Option<bool>,
    #[schema(max_items = 100)]
    pub territories: Option<Vec<String>>,
    #[schema(max_items = 50)]
    pub product_lines: Option<Vec<String>>,
}

impl ConflictUpdate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        if let Some(s) = &self.summary {
            c.text("summary", s, 1, MAX_LONG_TEXT);
        }
        if let Some(ids) = &self.party_partner_ids {
            check_parties(&mut c, ids);
        }
        if let Some(v) = &self.territories {
            c.labels("territories", v, 0, 100);
        }
        if let Some(v) = &self.product_lines {
            c.labels("product_lines", v, 0, 50);
        }
        c.finish()
    }

    pub fn apply(&self, current: &Conflict) -> Conflict {
        let mut next = current.clone();
        if let Some(v) = self.kind {
            next.kind = v;
        }
        if let Some(v) = self.cause {
            next.cause = v;
        }
        if let Some(v) = self.severity {
            next.severity = v;
        }
        if let Some(v) = &self.summary {
            next.summary = v.trim().to_string();
        }
        if let Some(v) = &self.party_partner_ids {
            let mut ids: Vec<String> = v.iter().map(|id| id.to_lowercase()).collect();
            ids.sort();
            next.party_partner_ids = ids;
        }
        if let Some(v) = self.involves_direct {
            next.involves_direct = v;
        }
        if let Some(v) = &self.territories {
            next.territories = v.clone();
        }
        if let Some(v) = &self.product_lines {
            next.product_lines = v.clone();
        }
        next
    }
}

/// Resolving a case: the remedy is required.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictResolveRequest {
    pub resolution: Resolution,
}

/// Dismissing a case (not a real conflict): why.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictDismissRequest {
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

impl ConflictDismissRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.text("reason", &self.reason, 1, MAX_LONG_TEXT);
        c.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::conflict_comments, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Comment {
    pub id: String,
    #[schema(format = Uuid)]
    pub conflict_id: String,
    pub body: String,
    /// Staff only: hidden from partner keys and partner chats.
    pub internal: bool,
    pub author: String,
    /// Set when a partner key wrote it.
    #[schema(format = Uuid)]
    pub author_partner_id: Option<String>,
    #[diesel(serialize_as = UtcTime)]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentCreate {
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
    /// Staff only (a partner key may not write internal comments); default false.
    #[serde(default)]
    pub internal: bool,
}

impl CommentCreate {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.text("body", &self.body, 1, MAX_LONG_TEXT);
        c.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConflictFilter {
    pub status: Option<ConflictStatus>,
    pub kind: Option<ConflictKind>,
    pub cause: Option<ConflictCause>,
    pub severity: Option<ConflictSeverity>,
    /// Cases this partner is party to.
    #[param(format = Uuid)]
    pub partner_id: Option<String>,
    #[param(format = Uuid)]
    pub key_account_id: Option<String>,
}

impl ConflictFilter {
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
        c.finish()
    }
}

/// `from`/`to`: the days cases were opened on (inclusive), both optional.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsWindow {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl StatsWindow {
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut c = Check::new();
        c.date("from", self.from);
        c.date("to", self.to);
        if let (Some(f), Some(t)) = (self.from, self.to) {
            if t < f {
                c.add("to", "must not be before from");
            }
        }
        c.finish()
    }
}

/// Counts of the cases opened in the window, and how fast the resolved ones were resolved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConflictStats {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub total: i64,
    pub by_kind: std::collections::BTreeMap<String, i64>,
    pub by_cause: std::collections::BTreeMap<String, i64>,
    /// Resolved cases by the remedy applied.
    pub by_remedy: std::collections::BTreeMap<String, i64>,
    pub by_status: std::collections::BTreeMap<String, i64>,
    /// Median days from opening to resolution of the resolved cases; null when none is resolved.
    pub median_days_to_resolve: Option<f64>,
}

/// The median of `days` (the mean of the middle two for an even count).
pub fn median(mut days: Vec<f64>) -> Option<f64> {
    if days.is_empty() {
        return None;
    }
    days.sort_by(f64::total_cmp);
    let mid = days.len() / 2;
    Some(if days.len() % 2 == 0 { (days[mid - 1] + days[mid]) / 2.0 } else { days[mid] })
}

/// A scan's outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScanReport {
    /// Conditions found now.
    pub detected: i64,
    /// New cases opened.
    pub opened: i64,
    /// Conditions already covered by an open case.
    pub already_open: i64,
    /// Conditions whose dismissed case stands.
    pub suppressed: i64,
    /// The cases opened by this scan.
    #[schema(format = Uuid)]
    pub opened_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_follow_the_case_lifecycle() {
        use ConflictStatus::*;
        assert!(Open.can_move_to(Investigating));
        assert!(Open.can_move_to(Resolved) && Investigating.can_move_to(Dismissed));
        assert!(!Resolved.can_move_to(Open) && !Dismissed.can_move_to(Investigating));
        assert!(!Investigating.can_move_to(Investigating));
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 10.0]), Some(3.0));
    }

    #[test]
    fn labels_merge_as_names() {
        let mut lines = vec!["ERP".to_string()];
        merge_labels(&mut lines, &["ｅｒｐ".to_string(), "CRM".to_string()]);
        assert_eq!(lines, ["ERP", "CRM"]);
    }

    #[test]
    fn a_partner_sees_itself_and_another_partner() {
        let now = Utc::now();
        let conflict = Conflict {
            id: "c".into(),
            kind: ConflictKind::DealClash,
            cause: ConflictCause::CompetitivePressure,
            severity: ConflictSeverity::Medium,
            status: ConflictStatus::Open,
            summary: "s".into(),
            party_partner_ids: vec!["a".into(), "b".into()],
            involves_direct: false,
            key_account_id: None,
            territories: vec![],
            product_lines: vec![],
            fingerprint: Some("deal_clash:x".into()),
            previous_conflict_id: None,
            resolution: None,
            resolved_by: None,
            resolved_at: None,
            condition_cleared_at: None,
            opened_by: "conflict_scan".into(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let view = ConflictView {
            conflict,
            parties: vec![
                Party { partner_id: Some("a".into()), name: "甲".into() },
                Party { partner_id: Some("b".into()), name: "乙".into() },
            ],
            links: vec![
                Link { kind: LinkKind::DealRegistration, ref_id: "d1".into(), partner_id: Some("a".into()) },
                Link { kind: LinkKind::DealRegistration, ref_id: "d2".into(), partner_id: Some("b".into()) },
            ],
        }
        .redacted("a");
        assert_eq!(view.conflict.party_partner_ids, ["a"]);
        assert_eq!(view.parties[1], Party { partner_id: None, name: ANOTHER_PARTNER.into() });
        assert_eq!(view.links.len(), 1);
        assert_eq!(view.conflict.fingerprint, None);
    }
}
