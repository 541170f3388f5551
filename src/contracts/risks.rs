//! Risk early warning (风险预警): pure rules over active contracts, their terms and today's date.
//! Nothing here reads the database; the endpoints and the daily scan feed it what they loaded.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::model::{Contract, ContractStatus};
use super::terms::{Params, TermKind, REQUIRED_KINDS};
use crate::access::Scope;

crate::text_enum! {
    /// missing_required_terms · expiring · expired_but_active · exclusivity_overlap · territory_conflict
    RiskCode {
        MissingRequiredTerms => "missing_required_terms", Expiring => "expiring",
        ExpiredButActive => "expired_but_active", ExclusivityOverlap => "exclusivity_overlap",
        TerritoryConflict => "territory_conflict",
    }
}

crate::text_enum! {
    Severity { Low => "low", Medium => "medium", High => "high", Critical => "critical" }
}

impl Severity {
    pub fn rank(self) -> u8 {
        match self {
            Severity::Low => 0,
            Severity::Medium => 1,
            Severity::High => 2,
            Severity::Critical => 3,
        }
    }
}

/// Contract dates are calendar dates in China Standard Time (UTC+8, no daylight saving).
pub fn business_date(now: DateTime<Utc>) -> NaiveDate {
    (now + chrono::Duration::hours(8)).date_naive()
}

/// What the rules need of a term: its kind and typed parameters.
#[derive(Debug, Clone)]
pub struct TermFact {
    pub id: String,
    pub kind: TermKind,
    pub params: Params,
}

/// An active contract with its partner's name and terms.
#[derive(Debug, Clone)]
pub struct Subject {
    pub contract: Contract,
    pub partner_name: String,
    pub terms: Vec<TermFact>,
}

/// A warning about one contract. Risks between two contracts appear once for each side, with the
/// same `key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Risk {
    pub code: RiskCode,
    pub severity: Severity,
    pub partner_id: String,
    pub partner_name: String,
    pub contract_id: String,
    pub contract_number: String,
    /// Chinese, then English.
    pub message: String,
    /// The data behind the warning: missing kinds, dates, shared territories and product lines,
    /// and for risks between two partners the other contract (`other`, hidden from partner keys).
    #[schema(value_type = Object)]
    pub evidence: Value,
    /// Identifies the risk for exactly-once announcements: code, contracts and evidence. Not on
    /// the wire: empty in a risk read back from an event.
    #[serde(skip)]
    pub key: String,
    /// The message without the other partner's name, for partner keys. Not on the wire either:
    /// an event carries the redacted sides as `partner_views`.
    #[serde(skip)]
    pub partner_message: String,
}

/// What a reader in `scope` may see of computed risks: everything, or a partner's own risks
/// redacted (a partner key, a chat bound to the partner).
pub fn visible(risks: Vec<Risk>, scope: &Scope) -> Vec<Risk> {
    match scope {
        Scope::All => risks,
        Scope::Partner(own) => risks.into_iter().filter(|r| &r.partner_id == own).map(Risk::redacted).collect(),
    }
}

/// The order risks are listed in: most severe first, then by code, contract and identity.
pub fn list_order(r: &Risk) -> String {
    format!("{}|{}|{}|{}", 9 - r.severity.rank(), r.code, r.contract_id, r.key)
}

impl Risk {
    /// What a partner key may see: nothing about the other partner of a two-sided risk.
    pub fn redacted(mut self) -> Self {
        if let Some(map) = self.evidence.as_object_mut() {
            map.remove("other");
        }
        self.message = std::mem::take(&mut self.partner_message);
        self.partner_message = self.message.clone();
        self
    }
}

fn digest(parts: &[String]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(&h.finalize()[..8])
}

fn key(code: RiskCode, contract_ids: &[&str], identity: &[String]) -> String {
    format!("contract_risk:{code}:{}:{}", contract_ids.join(","), digest(identity))
}

/// Labels compare ignoring case and surrounding spaces.
fn norm(label: &str) -> String {
    label.trim().to_lowercase()
}

fn single(s: &Subject, code: RiskCode, severity: Severity, message: String, evidence: Value, id: &[String]) -> Risk {
    Risk {
        code,
        severity,
        partner_id: s.contract.partner_id.clone(),
        partner_name: s.partner_name.clone(),
        contract_id: s.contract.id.clone(),
        contract_number: s.contract.number.clone(),
        partner_message: message.clone(),
        message,
        evidence,
        key: key(code, &[&s.contract.id], id),
    }
}

fn kind_zh(kind: TermKind) -> &'static str {
    super::render::term_kind_zh(kind)
}

/// Every risk of the active contracts among `subjects` on `today`.
pub fn assess(subjects: &[Subject], today: NaiveDate) -> Vec<Risk> {
    let active: Vec<&Subject> = subjects.iter().filter(|s| s.contract.status == ContractStatus::Active).collect();
    let mut risks = Vec::new();
    for s in &active {
        risks.extend(missing_required_terms(s));
        risks.extend(expiry(s, today));
    }
    risks.extend(exclusivity_overlaps(&active));
    risks.extend(territory_conflicts(&active));
    risks
}

fn missing_required_terms(s: &Subject) -> Option<Risk> {
    let present: std::collections::HashSet<TermKind> = s.terms.iter().map(|t| t.kind).collect();
    let missing: Vec<TermKind> = REQUIRED_KINDS.iter().copied().filter(|k| !present.contains(k)).collect();
    if missing.is_empty() {
        return None;
    }
    let zh: Vec<&str> = missing.iter().map(|k| kind_zh(*k)).collect();
    let en: Vec<&str> = missing.iter().map(|k| k.as_str()).collect();
    let message = format!(
        "合同 {} 缺少必备条款：{}。Contract {} lacks required terms: {}.",
        s.contract.number,
        zh.join("、"),
        s.contract.number,
        en.join(", ")
    );
    let identity: Vec<String> = en.iter().map(|k| k.to_string()).collect();
    Some(single(s, RiskCode::MissingRequiredTerms, Severity::High, message, json!({ "missing": en }), &identity))
}

fn expiry(s: &Subject, today: NaiveDate) -> Option<Risk> {
    let c = &s.contract;
    let to = c.effective_to?;
    let identity = [to.to_string()];
    if to < today {
        let overdue = (today - to).num_days();
        let message = format!(
            "合同 {} 已于 {to} 到期 {overdue} 天，仍为生效状态。Contract {} ended on {to} ({overdue} days ago) but is still active.",
            c.number, c.number
        );
        let evidence = json!({ "effective_to": to, "days_overdue": overdue });
        return Some(single(s, RiskCode::ExpiredButActive, Severity::High, message, evidence, &identity));
    }
    let days_left = (to - today).num_days();
    if days_left > c.renewal_notice_days || c.successor_id.is_some() {
        return None;
    }
    let severity = if c.auto_renew {
        Severity::Low
    } else if days_left <= 7 {
        Severity::High
    } else {
        Severity::Medium
    };
    let renew_zh = if c.auto_renew { "将自动续约，如不续约请及时通知" } else { "尚无续约合同" };
    let renew_en = if c.auto_renew { "it renews automatically unless notice is given" } else { "no renewal yet" };
    let message = format!(
        "合同 {} 将于 {to} 到期（剩余 {days_left} 天），{renew_zh}。Contract {} expires on {to} ({days_left} days left); {renew_en}.",
        c.number, c.number
    );
    let evidence = json!({
        "effective_to": to,
        "days_left": days_left,
        "renewal_notice_days": c.renewal_notice_days,
        "auto_renew": c.auto_renew,
    });
    Some(single(s, RiskCode::Expiring, severity, message, evidence, &identity))
}

/// Shared (territory, product line) pairs between two contracts, keyed by normalized labels and
/// keeping the first spelling seen for display.
type Overlaps = BTreeMap<(String, String), (String, String)>;

/// Accumulated overlaps of one ordered contract pair, with the terms involved on each side.
#[derive(Default)]
struct Pair {
    overlaps: Overlaps,
    left_terms: BTreeSet<String>,
    right_terms: BTreeSet<String>,
}

fn pair_evidence(
    overlaps: &Overlaps,
    own_terms: &BTreeSet<String>,
    other: &Subject,
    other_terms: &BTreeSet<String>,
) -> Value {
    let territories: BTreeSet<&str> = overlaps.values().map(|(t, _)| t.as_str()).collect();
    let lines: BTreeSet<&str> = overlaps.values().map(|(_, l)| l.as_str()).collect();
    json!({
        "term_ids": own_terms,
        "territories": territories,
        "product_lines": lines,
        "overlaps": overlaps.values().map(|(t, l)| json!({"territory": t, "product_line": l})).collect::<Vec<_>>(),
        "other": {
            "contract_id": other.contract.id,
            "contract_number": other.contract.number,
            "partner_id": other.contract.partner_id,
            "partner_name": other.partner_name,
            "term_ids": other_terms,
        },
    })
}

fn describe(overlaps: &Overlaps) -> String {
    overlaps.values().map(|(t, l)| format!("{t}/{l}")).collect::<Vec<_>>().join("、")
}

fn identity(overlaps: &Overlaps) -> Vec<String> {
    overlaps.keys().map(|(t, l)| format!("{t}\u{1e}{l}")).collect()
}

/// An exclusivity grant of one (territory, product line), as written in the term.
struct Grant {
    subject: usize,
    term_id: String,
    territory: String,
    line: String,
}

/// An exclusivity term's grant in one territory: which subject, term, spelling and lines.
struct Exclusive<'a> {
    subject: usize,
    term_id: &'a str,
    territory: &'a str,
    lines: &'a [String],
}

/// Two partners' active contracts both granting exclusivity for a territory and product line.
fn exclusivity_overlaps(active: &[&Subject]) -> Vec<Risk> {
    // (territory, line) → the contracts (by index) and terms granting exclusivity there.
    let mut grants: BTreeMap<(String, String), Vec<Grant>> = BTreeMap::new();
    for (i, s) in active.iter().enumerate() {
        for t in &s.terms {
            if let Params::Exclusivity(p) = &t.params {
                for territory in &p.territories {
                    for line in &p.product_lines {
                        grants.entry((norm(territory), norm(line))).or_default().push(Grant {
                            subject: i,
                            term_id: t.id.clone(),
                            territory: territory.clone(),
                            line: line.clone(),
                        });
                    }
                }
            }
        }
    }
    let mut pairs: BTreeMap<(usize, usize), Pair> = BTreeMap::new();
    for (spot, holders) in &grants {
        for (a, b) in holders.iter().flat_map(|a| holders.iter().map(move |b| (a, b))) {
            let (sa, sb) = (active[a.subject], active[b.subject]);
            // Each unordered pair once (by contract id), partners different.
            if sa.contract.partner_id == sb.contract.partner_id || sa.contract.id >= sb.contract.id {
                continue;
            }
            let pair = pairs.entry((a.subject, b.subject)).or_default();
            pair.overlaps.entry(spot.clone()).or_insert_with(|| (a.territory.clone(), a.line.clone()));
            pair.left_terms.insert(a.term_id.clone());
            pair.right_terms.insert(b.term_id.clone());
        }
    }
    let mut risks = Vec::new();
    for ((ia, ib), pair) in pairs {
        let (sa, sb) = (active[ia], active[ib]);
        let key = key(RiskCode::ExclusivityOverlap, &[&sa.contract.id, &sb.contract.id], &identity(&pair.overlaps));
        let spots = describe(&pair.overlaps);
        for (own, own_terms, other, other_terms) in
            [(sa, &pair.left_terms, sb, &pair.right_terms), (sb, &pair.right_terms, sa, &pair.left_terms)]
        {
            let message = format!(
                "合同 {}（{}）与合同 {}（{}）的独家条款在 {spots} 重叠。Exclusivity of contract {} ({}) overlaps contract {} ({}) in {spots}.",
                own.contract.number, own.partner_name, other.contract.number, other.partner_name,
                own.contract.number, own.partner_name, other.contract.number, other.partner_name,
            );
            let partner_message = format!(
                "合同 {} 的独家条款与另一渠道成员的独家授权在 {spots} 重叠。Exclusivity of contract {} overlaps another partner's exclusivity in {spots}.",
                own.contract.number, own.contract.number,
            );
            risks.push(Risk {
                code: RiskCode::ExclusivityOverlap,
                severity: Severity::Critical,
                partner_id: own.contract.partner_id.clone(),
                partner_name: own.partner_name.clone(),
                contract_id: own.contract.id.clone(),
                contract_number: own.contract.number.clone(),
                message,
                evidence: pair_evidence(&pair.overlaps, own_terms, other, other_terms),
                key: key.clone(),
                partner_message,
            });
        }
    }
    risks
}

/// A territory that one partner holds exclusively (for a product line) listed in another
/// partner's territory term covering that product line (a territory term without product lines
/// covers them all).
fn territory_conflicts(active: &[&Subject]) -> Vec<Risk> {
    // territory → the exclusivity grants there.
    let mut exclusive: HashMap<String, Vec<Exclusive>> = HashMap::new();
    for (i, s) in active.iter().enumerate() {
        for t in &s.terms {
            if let Params::Exclusivity(p) = &t.params {
                for territory in &p.territories {
                    exclusive.entry(norm(territory)).or_default().push(Exclusive {
                        subject: i,
                        term_id: &t.id,
                        territory,
                        lines: &p.product_lines,
                    });
                }
            }
        }
    }
    // (exclusive holder, territory holder) → overlaps.
    let mut pairs: BTreeMap<(usize, usize), Pair> = BTreeMap::new();
    for (j, s) in active.iter().enumerate() {
        for t in &s.terms {
            let Params::Territory(p) = &t.params else { continue };
            let lines: BTreeSet<String> = p.product_lines.iter().map(|l| norm(l)).collect();
            for territory in &p.territories {
                for grant in exclusive.get(&norm(territory)).into_iter().flatten() {
                    if active[grant.subject].contract.partner_id == s.contract.partner_id {
                        continue;
                    }
                    for line in grant.lines {
                        if lines.is_empty() || lines.contains(&norm(line)) {
                            let pair = pairs.entry((grant.subject, j)).or_default();
                            pair.overlaps
                                .entry((norm(territory), norm(line)))
                                .or_insert_with(|| (grant.territory.to_string(), line.clone()));
                            pair.left_terms.insert(grant.term_id.to_string());
                            pair.right_terms.insert(t.id.clone());
                        }
                    }
                }
            }
        }
    }
    let mut risks = Vec::new();
    for ((ie, it), pair) in pairs {
        let (se, st) = (active[ie], active[it]);
        let key = key(RiskCode::TerritoryConflict, &[&se.contract.id, &st.contract.id], &identity(&pair.overlaps));
        let spots = describe(&pair.overlaps);
        let sides = [
            (
                se,
                &pair.left_terms,
                st,
                &pair.right_terms,
                format!(
                    "合同 {}（{}）的独家区域 {spots} 出现在合同 {}（{}）的区域条款中。Exclusive territory of contract {} ({}) in {spots} is granted by the territory term of contract {} ({}).",
                    se.contract.number, se.partner_name, st.contract.number, st.partner_name,
                    se.contract.number, se.partner_name, st.contract.number, st.partner_name,
                ),
                format!(
                    "合同 {} 的独家区域 {spots} 出现在另一渠道成员的区域条款中。Exclusive territory of contract {} in {spots} is granted to another partner too.",
                    se.contract.number, se.contract.number,
                ),
            ),
            (
                st,
                &pair.right_terms,
                se,
                &pair.left_terms,
                format!(
                    "合同 {}（{}）的区域条款包含合同 {}（{}）的独家区域 {spots}。The territory term of contract {} ({}) covers {spots}, exclusive to contract {} ({}).",
                    st.contract.number, st.partner_name, se.contract.number, se.partner_name,
                    st.contract.number, st.partner_name, se.contract.number, se.partner_name,
                ),
                format!(
                    "合同 {} 的区域条款包含另一渠道成员的独家区域 {spots}。The territory term of contract {} covers {spots}, exclusive to another partner.",
                    st.contract.number, st.contract.number,
                ),
            ),
        ];
        for (own, own_terms, other, other_terms, message, partner_message) in sides {
            risks.push(Risk {
                code: RiskCode::TerritoryConflict,
                severity: Severity::High,
                partner_id: own.contract.partner_id.clone(),
                partner_name: own.partner_name.clone(),
                contract_id: own.contract.id.clone(),
                contract_number: own.contract.number.clone(),
                message,
                evidence: pair_evidence(&pair.overlaps, own_terms, other, other_terms),
                key: key.clone(),
                partner_message,
            });
        }
    }
    risks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::model::ContractKind;
    use crate::contracts::terms::{ExclusivityParams, TerritoryParams};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn contract(id: &str, partner: &str) -> Contract {
        let now = Utc::now();
        Contract {
            id: id.into(),
            partner_id: partner.into(),
            number: format!("HT-{id}"),
            title: "代理协议".into(),
            kind: ContractKind::Agency,
            status: ContractStatus::Active,
            signed_at: None,
            effective_from: Some(day(2026, 1, 1)),
            effective_to: Some(day(2026, 12, 31)),
            auto_renew: false,
            renewal_notice_days: 30,
            total_value: None,
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

    fn required() -> Vec<TermFact> {
        REQUIRED_KINDS
            .iter()
            .enumerate()
            .map(|(i, k)| TermFact { id: format!("req{i}"), kind: *k, params: Params::None })
            .collect()
    }

    fn subject(id: &str, partner: &str, extra: Vec<TermFact>) -> Subject {
        let mut terms = required();
        terms.extend(extra);
        Subject { contract: contract(id, partner), partner_name: format!("渠道{partner}"), terms }
    }

    fn excl(id: &str, territories: &[&str], lines: &[&str]) -> TermFact {
        TermFact {
            id: id.into(),
            kind: TermKind::Exclusivity,
            params: Params::Exclusivity(ExclusivityParams {
                territories: territories.iter().map(|s| s.to_string()).collect(),
                product_lines: lines.iter().map(|s| s.to_string()).collect(),
            }),
        }
    }

    fn terr(id: &str, territories: &[&str], lines: &[&str]) -> TermFact {
        TermFact {
            id: id.into(),
            kind: TermKind::Territory,
            params: Params::Territory(TerritoryParams {
                territories: territories.iter().map(|s| s.to_string()).collect(),
                product_lines: lines.iter().map(|s| s.to_string()).collect(),
            }),
        }
    }

    const MID_YEAR: fn() -> NaiveDate = || day(2026, 6, 1);

    fn codes(risks: &[Risk]) -> Vec<(RiskCode, String)> {
        risks.iter().map(|r| (r.code, r.contract_id.clone())).collect()
    }

    #[test]
    fn business_date_is_china_standard_time() {
        let late_utc = DateTime::parse_from_rfc3339("2026-12-31T17:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(business_date(late_utc), day(2027, 1, 1));
        let early_utc = DateTime::parse_from_rfc3339("2026-12-31T15:59:59Z").unwrap().with_timezone(&Utc);
        assert_eq!(business_date(early_utc), day(2026, 12, 31));
    }

    #[test]
    fn missing_required_terms_names_which() {
        let mut s = subject("a", "p1", vec![]);
        assert!(assess(std::slice::from_ref(&s), MID_YEAR()).is_empty(), "all four present: no risk");
        s.terms.retain(|t| t.kind != TermKind::BreachLiability && t.kind != TermKind::DisputeResolution);
        let risks = assess(std::slice::from_ref(&s), MID_YEAR());
        assert_eq!(codes(&risks), [(RiskCode::MissingRequiredTerms, "a".into())]);
        assert_eq!(risks[0].evidence["missing"], json!(["breach_liability", "dispute_resolution"]));
        assert_eq!(risks[0].severity, Severity::High);
        assert!(risks[0].message.contains("违约责任、争议解决"), "{}", risks[0].message);
        s.contract.status = ContractStatus::Draft;
        assert!(assess(&[s], MID_YEAR()).is_empty(), "drafts are not checked");
    }

    #[test]
    fn the_key_follows_the_evidence() {
        let mut s = subject("a", "p1", vec![]);
        s.terms.retain(|t| t.kind == TermKind::Rights);
        let three = assess(std::slice::from_ref(&s), MID_YEAR()).remove(0).key;
        s.terms.push(TermFact { id: "o".into(), kind: TermKind::Obligations, params: Params::None });
        let two = assess(std::slice::from_ref(&s), MID_YEAR()).remove(0).key;
        assert_ne!(three, two, "different missing kinds make a different risk");
        assert_eq!(two, assess(&[s], MID_YEAR()).remove(0).key, "and the same data the same key");
    }

    #[test]
    fn expiring_within_the_notice_window_without_successor() {
        let s = subject("a", "p1", vec![]);
        // 31 days before the end: outside a 30-day window.
        assert!(assess(std::slice::from_ref(&s), day(2026, 11, 30)).is_empty());
        let risks = assess(std::slice::from_ref(&s), day(2026, 12, 1));
        assert_eq!(codes(&risks), [(RiskCode::Expiring, "a".into())]);
        assert_eq!(risks[0].evidence["days_left"], 30);
        assert_eq!(risks[0].severity, Severity::Medium);
        assert_eq!(assess(std::slice::from_ref(&s), day(2026, 12, 31))[0].severity, Severity::High, "last day");
        let mut renewed = s.clone();
        renewed.contract.successor_id = Some("b".into());
        assert!(assess(&[renewed], day(2026, 12, 20)).is_empty(), "a successor settles it");
        let mut auto = s.clone();
        auto.contract.auto_renew = true;
        assert_eq!(assess(&[auto], day(2026, 12, 20))[0].severity, Severity::Low);
        let mut open = s.clone();
        open.contract.effective_to = None;
        assert!(assess(&[open], day(2026, 12, 20)).is_empty(), "open-ended contracts do not expire");
        let mut wider = s;
        wider.contract.renewal_notice_days = 90;
        assert_eq!(codes(&assess(&[wider], day(2026, 10, 15))), [(RiskCode::Expiring, "a".into())]);
    }

    #[test]
    fn expired_but_active_after_the_last_day() {
        let s = subject("a", "p1", vec![]);
        let risks = assess(std::slice::from_ref(&s), day(2027, 1, 3));
        assert_eq!(codes(&risks), [(RiskCode::ExpiredButActive, "a".into())]);
        assert_eq!(risks[0].evidence["days_overdue"], 3);
        assert!(!assess(std::slice::from_ref(&s), day(2026, 12, 31))
            .iter()
            .any(|r| r.code == RiskCode::ExpiredButActive));
        let mut expired = s;
        expired.contract.status = ContractStatus::Expired;
        assert!(assess(&[expired], day(2027, 1, 3)).is_empty(), "once marked expired, no warning");
    }

    #[test]
    fn exclusivity_overlap_between_two_partners() {
        let a = subject("a", "p1", vec![excl("ea", &["上海", "苏州"], &["服务器", "存储"])]);
        let b = subject("b", "p2", vec![excl("eb", &[" 上海 "], &["服务器"])]);
        let risks = assess(&[a.clone(), b.clone()], MID_YEAR());
        assert_eq!(
            codes(&risks),
            [(RiskCode::ExclusivityOverlap, "a".into()), (RiskCode::ExclusivityOverlap, "b".into())]
        );
        assert_eq!(risks[0].key, risks[1].key, "one risk, seen from both sides");
        assert_eq!(risks[0].severity, Severity::Critical);
        let ev = &risks[0].evidence;
        assert_eq!(ev["territories"], json!(["上海"]));
        assert_eq!(ev["product_lines"], json!(["服务器"]));
        assert_eq!(ev["term_ids"], json!(["ea"]));
        assert_eq!(ev["other"]["contract_id"], "b");
        assert_eq!(ev["other"]["term_ids"], json!(["eb"]));
        assert!(risks[0].message.contains("渠道p2"));
        let redacted = risks[0].clone().redacted();
        assert!(redacted.evidence.get("other").is_none());
        assert!(!redacted.message.contains("渠道p2") && !redacted.message.contains("HT-b"), "{}", redacted.message);

        // Negative cases: same partner; a different product line; a different territory; not active.
        let same_partner = subject("b", "p1", vec![excl("eb", &["上海"], &["服务器"])]);
        assert!(assess(&[a.clone(), same_partner], MID_YEAR()).is_empty());
        let other_line = subject("b", "p2", vec![excl("eb", &["上海"], &["网络"])]);
        assert!(assess(&[a.clone(), other_line], MID_YEAR()).is_empty());
        let other_place = subject("b", "p2", vec![excl("eb", &["杭州"], &["服务器"])]);
        assert!(assess(&[a.clone(), other_place], MID_YEAR()).is_empty());
        let mut draft = b;
        draft.contract.status = ContractStatus::Draft;
        assert!(assess(&[a, draft], MID_YEAR()).is_empty());
    }

    #[test]
    fn territory_conflict_when_an_exclusive_territory_is_granted_again() {
        let a = subject("a", "p1", vec![excl("ea", &["上海"], &["服务器"])]);
        let b = subject("b", "p2", vec![terr("tb", &["上海", "杭州"], &[])]);
        let risks = assess(&[a.clone(), b.clone()], MID_YEAR());
        assert_eq!(
            codes(&risks),
            [(RiskCode::TerritoryConflict, "a".into()), (RiskCode::TerritoryConflict, "b".into())]
        );
        assert_eq!(risks[1].evidence["overlaps"], json!([{"territory": "上海", "product_line": "服务器"}]));
        assert_eq!(risks[1].evidence["term_ids"], json!(["tb"]));
        // A territory term limited to the same product line conflicts; to another line it does not.
        let same_line = subject("b", "p2", vec![terr("tb", &["上海"], &["服务器"])]);
        assert_eq!(assess(&[a.clone(), same_line], MID_YEAR()).len(), 2);
        let other_line = subject("b", "p2", vec![terr("tb", &["上海"], &["网络"])]);
        assert!(assess(&[a.clone(), other_line], MID_YEAR()).is_empty());
        let elsewhere = subject("b", "p2", vec![terr("tb", &["杭州"], &[])]);
        assert!(assess(&[a.clone(), elsewhere], MID_YEAR()).is_empty());
        let own = subject("b", "p1", vec![terr("tb", &["上海"], &[])]);
        assert!(assess(&[a.clone(), own], MID_YEAR()).is_empty(), "a partner's own territory is fine");
        let mut terminated = b;
        terminated.contract.status = ContractStatus::Terminated;
        assert!(assess(&[a, terminated], MID_YEAR()).is_empty());
    }
}
