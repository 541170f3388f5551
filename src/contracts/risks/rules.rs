//! The risk rules (风险预警): pure functions of the active contracts, their terms and today's
//! date. Nothing here reads the database; the endpoints and the scan feed it what they loaded.
//! Rules about one contract are here; those between two contracts are in `overlaps`.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::model::{key, Risk, RiskCode, Severity, Subject};
use super::overlaps::{exclusivity_overlaps, territory_conflicts};
use crate::contracts::model::ContractStatus;
use crate::contracts::terms::{TermKind, REQUIRED_KINDS};

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
    crate::contracts::render::term_kind_zh(kind)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::model::Contract;
    use crate::contracts::model::ContractKind;
    use crate::contracts::risks::model::{business_date, TermFact};
    use crate::contracts::terms::Params;
    use crate::contracts::terms::{ExclusivityParams, TerritoryParams};
    use chrono::{DateTime, Utc};

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
    fn look_alike_labels_are_the_same_territory_and_line() {
        let a = subject("a", "p1", vec![excl("ea", &["上海"], &["Server"])]);
        let b = subject("b", "p2", vec![excl("eb", &["上海\u{200B}"], &["ＳＥＲＶＥＲ"])]);
        let risks = assess(&[a.clone(), b], MID_YEAR());
        assert_eq!(
            codes(&risks),
            [(RiskCode::ExclusivityOverlap, "a".into()), (RiskCode::ExclusivityOverlap, "b".into())]
        );
        assert_eq!(risks[0].evidence["territories"], json!(["上海"]), "shown as the first side wrote it");
        let c = subject("c", "p3", vec![terr("tc", &["上海\u{00A0}"], &["server"])]);
        let risks = assess(&[a, c], MID_YEAR());
        assert_eq!(
            codes(&risks),
            [(RiskCode::TerritoryConflict, "a".into()), (RiskCode::TerritoryConflict, "c".into())]
        );
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
