//! Conflict detection (冲突检测): `POST /api/v1/conflicts/scan` and an hourly job run the
//! detectors below and report each condition through `store::open_detected`, so a condition has
//! at most one open case, and one that returns after its case closed opens a new case linked to
//! the old one. Every detector is a pure function of facts loaded once per scan.
//!
//! - Contract overlaps: the contract risk rules' `exclusivity_overlap` and `territory_conflict`
//!   between two partners' active contracts (the case links the risk by its key).
//! - Account overlaps: two partners assigned to one key account for the same product line where
//!   no assignment is the line's primary, so no role says who leads.
//! - Territory intrusions: a partner working (by its territories) a territory another partner
//!   holds exclusively for some product line through an active contract.
//! - Deal clashes: registrations of one account and product line by two channels
//!   (`deals::store::detect_clashes`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::*;
use super::store;
use crate::access::Actor;
use crate::contracts::risks::model::{business_date, norm, Risk, RiskCode};
use crate::contracts::risks::{rules, store as risk_store};
use crate::contracts::terms::Params;
use crate::db::schema::{key_account_assignments as kaa, partner_territories as pt, partners as p};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::jobs::Job;
use crate::key_accounts::model::AssignmentRole;
use crate::partners::model::{ChannelType, PartnerStatus};

pub const JOB: Job = Job { name: "conflict_scan", every: Duration::from_secs(3600), run };

fn run(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let report = scan(conn, &Actor::system(store::SCANNER), now)?;
    Ok(usize::try_from(report.opened).unwrap_or(0))
}

/// Runs every detector at `now` and reports what it found.
pub fn scan(conn: &mut DbConn, actor: &Actor, now: DateTime<Utc>) -> Result<ScanReport, ApiError> {
    let today = business_date(now);
    let subjects = risk_store::risk_subjects(conn)?;
    let mut found = contract_overlaps(&rules::assess(&subjects, today));
    let grants: Vec<ExclusiveGrant> = subjects
        .iter()
        .flat_map(|s| {
            s.terms.iter().filter_map(move |t| match &t.params {
                Params::Exclusivity(x) => Some(ExclusiveGrant {
                    partner_id: s.contract.partner_id.clone(),
                    territories: x.territories.clone(),
                    product_lines: x.product_lines.clone(),
                }),
                _ => None,
            })
        })
        .collect();
    let partners = load_partners(conn)?;
    found.extend(territory_intrusions(&grants, &partners));
    found.extend(account_overlaps(&load_assignments(conn)?, &partners));
    found.extend(crate::deals::store::detect_clashes(conn, today)?);

    let mut report = ScanReport { detected: i64::try_from(found.len()).unwrap_or(i64::MAX), ..Default::default() };
    for detected in &found {
        match store::open_detected(conn, actor, detected)? {
            Outcome::Opened(c) => {
                report.opened += 1;
                report.opened_ids.push(c.id);
            }
            Outcome::Joined(_) => report.already_open += 1,
            Outcome::Suppressed => report.suppressed += 1,
        }
    }
    let fingerprints: Vec<String> = found.into_iter().map(|d| d.fingerprint).collect();
    store::mark_cleared(conn, &fingerprints, now)?;
    Ok(report)
}

/// What the detectors need of a current partner.
#[derive(Debug, Clone)]
pub struct PartnerFacts {
    pub direct: bool,
    /// Its territories, by `norm`, with the first spelling.
    pub territories: BTreeMap<String, String>,
}

fn load_partners(conn: &mut DbConn) -> Result<BTreeMap<String, PartnerFacts>, ApiError> {
    let rows: Vec<(String, String)> = p::table
        .filter(p::archived_at.is_null())
        .filter(p::status.ne(PartnerStatus::Terminated.as_str()))
        .select((p::id, p::channel_type))
        .load(conn)?;
    let mut out: BTreeMap<String, PartnerFacts> = rows
        .into_iter()
        .map(|(id, kind)| {
            (id, PartnerFacts { direct: kind == ChannelType::Direct.as_str(), territories: BTreeMap::new() })
        })
        .collect();
    let territories: Vec<(String, String)> = pt::table.select((pt::partner_id, pt::territory)).load(conn)?;
    for (partner_id, territory) in territories {
        if let Some(facts) = out.get_mut(&partner_id) {
            facts.territories.entry(norm(&territory)).or_insert(territory);
        }
    }
    Ok(out)
}

/// An assignment as the account-overlap detector reads it.
#[derive(Debug, Clone)]
pub struct AssignmentFact {
    pub key_account_id: String,
    pub partner_id: String,
    pub role: AssignmentRole,
    pub product_lines: Vec<String>,
}

fn load_assignments(conn: &mut DbConn) -> Result<Vec<AssignmentFact>, ApiError> {
    let rows: Vec<(String, String, String, String)> = kaa::table
        .select((kaa::key_account_id, kaa::partner_id, kaa::role, kaa::product_lines))
        .order(kaa::id.asc())
        .load(conn)?;
    rows.into_iter()
        .map(|(key_account_id, partner_id, role, lines)| {
            Ok(AssignmentFact {
                key_account_id,
                partner_id,
                role: AssignmentRole::from_db(&role)?,
                product_lines: crate::db::json::decode(&lines)?,
            })
        })
        .collect()
}

/// An exclusivity grant of an active contract.
#[derive(Debug, Clone)]
pub struct ExclusiveGrant {
    pub partner_id: String,
    pub territories: Vec<String>,
    pub product_lines: Vec<String>,
}

fn strings(value: &serde_json::Value, field: &str) -> Vec<String> {
    value[field].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
}

/// One case per two-sided contract risk (both sides share the risk's key).
pub fn contract_overlaps(risks: &[Risk]) -> Vec<Detected> {
    let mut by_key: BTreeMap<&str, Vec<&Risk>> = BTreeMap::new();
    for risk in risks {
        if matches!(risk.code, RiskCode::ExclusivityOverlap | RiskCode::TerritoryConflict) {
            by_key.entry(risk.key.as_str()).or_default().push(risk);
        }
    }
    by_key
        .into_iter()
        .map(|(key, sides)| {
            let mut parties: Vec<String> = sides.iter().map(|r| r.partner_id.clone()).collect();
            let mut territories = Vec::new();
            let mut product_lines = Vec::new();
            for side in &sides {
                if let Some(other) = side.evidence["other"]["partner_id"].as_str() {
                    parties.push(other.to_string());
                }
                merge_labels(&mut territories, &strings(&side.evidence, "territories"));
                merge_labels(&mut product_lines, &strings(&side.evidence, "product_lines"));
            }
            parties.sort();
            parties.dedup();
            let what = match sides[0].code {
                RiskCode::ExclusivityOverlap => "两家渠道伙伴的有效合同对同一区域和产品线都授予了独家经营权 (two partners' active contracts both grant exclusivity for the same territory and product line)",
                _ => "一家渠道伙伴独家经营的区域被另一家伙伴的区域条款覆盖 (a territory one partner holds exclusively is granted to another by a territory term)",
            };
            Detected {
                kind: ConflictKind::TerritoryOverlap,
                cause: ConflictCause::UnclearRoles,
                severity: ConflictSeverity::High,
                fingerprint: format!("contract_overlap:{key}"),
                party_partner_ids: parties,
                involves_direct: false,
                key_account_id: None,
                summary: format!("{what}: {}", pair_list(&territories, &product_lines)),
                territories,
                product_lines,
                links: vec![Link { kind: LinkKind::ContractRisk, ref_id: key.to_string(), partner_id: None }],
            }
        })
        .collect()
}

fn pair_list(territories: &[String], lines: &[String]) -> String {
    format!("{} / {}", territories.join("、"), lines.join("、"))
}

/// Two or more partners on one key account's product line, none of them its primary.
pub fn account_overlaps(assignments: &[AssignmentFact], partners: &BTreeMap<String, PartnerFacts>) -> Vec<Detected> {
    // (account, line key) → (first spelling, partners, has a primary)
    let mut lines: BTreeMap<(String, String), (String, BTreeSet<String>, bool)> = BTreeMap::new();
    for a in assignments {
        if !partners.contains_key(&a.partner_id) {
            continue;
        }
        for line in &a.product_lines {
            let entry = lines
                .entry((a.key_account_id.clone(), norm(line)))
                .or_insert_with(|| (line.clone(), BTreeSet::new(), false));
            entry.1.insert(a.partner_id.clone());
            entry.2 |= a.role == AssignmentRole::Primary;
        }
    }
    lines
        .into_iter()
        .filter(|(_, (_, parties, led))| parties.len() >= 2 && !led)
        .map(|((account, line_key), (line, parties, _))| {
            let parties: Vec<String> = parties.into_iter().collect();
            Detected {
                kind: ConflictKind::AccountOverlap,
                cause: ConflictCause::UnclearRoles,
                severity: ConflictSeverity::Medium,
                fingerprint: format!("account_overlap:{account}:{line_key}"),
                involves_direct: parties.iter().any(|id| partners.get(id).is_some_and(|f| f.direct)),
                summary: format!(
                    "{} 家渠道伙伴同时负责同一大客户的产品线「{line}」，但没有一家是主负责方 ({} partners work this key account's product line {line} and none is its primary)",
                    parties.len(),
                    parties.len()
                ),
                party_partner_ids: parties,
                key_account_id: Some(account),
                territories: Vec::new(),
                product_lines: vec![line],
                links: Vec::new(),
            }
        })
        .collect()
}

/// A partner whose territories include a territory another partner holds exclusively.
pub fn territory_intrusions(grants: &[ExclusiveGrant], partners: &BTreeMap<String, PartnerFacts>) -> Vec<Detected> {
    // (holder, territory key) → (spelling, product lines)
    let mut held: BTreeMap<(String, String), (String, Vec<String>)> = BTreeMap::new();
    for g in grants {
        for territory in &g.territories {
            let entry =
                held.entry((g.partner_id.clone(), norm(territory))).or_insert_with(|| (territory.clone(), Vec::new()));
            merge_labels(&mut entry.1, &g.product_lines);
        }
    }
    let mut out = Vec::new();
    for ((holder, territory_key), (territory, lines)) in &held {
        for (partner_id, facts) in partners {
            if partner_id == holder || !facts.territories.contains_key(territory_key) {
                continue;
            }
            let mut parties = vec![holder.clone(), partner_id.clone()];
            parties.sort();
            out.push(Detected {
                kind: ConflictKind::TerritoryOverlap,
                cause: ConflictCause::CompetitivePressure,
                severity: ConflictSeverity::Medium,
                fingerprint: format!("territory_intrusion:{holder}:{territory_key}:{partner_id}"),
                party_partner_ids: parties,
                involves_direct: facts.direct,
                key_account_id: None,
                territories: vec![territory.clone()],
                product_lines: lines.clone(),
                summary: format!(
                    "一家渠道伙伴在另一家伙伴独家经营的区域「{territory}」开展业务 (a partner works {territory}, which another partner holds exclusively for {})",
                    lines.join("、")
                ),
                links: Vec::new(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partner(direct: bool, territories: &[&str]) -> PartnerFacts {
        PartnerFacts { direct, territories: territories.iter().map(|t| (norm(t), t.to_string())).collect() }
    }

    fn assignment(account: &str, partner: &str, role: AssignmentRole, lines: &[&str]) -> AssignmentFact {
        AssignmentFact {
            key_account_id: account.into(),
            partner_id: partner.into(),
            role,
            product_lines: lines.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn two_partners_on_a_line_without_a_primary_overlap() {
        let partners: BTreeMap<String, PartnerFacts> =
            [("a".into(), partner(false, &[])), ("b".into(), partner(true, &[]))].into_iter().collect();
        let found = account_overlaps(
            &[
                assignment("k", "a", AssignmentRole::Support, &["ERP", "CRM"]),
                assignment("k", "b", AssignmentRole::Referral, &["ｅｒｐ"]),
            ],
            &partners,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].fingerprint, format!("account_overlap:k:{}", norm("ERP")));
        assert_eq!(found[0].party_partner_ids, ["a", "b"]);
        assert!(found[0].involves_direct);
        assert_eq!(found[0].product_lines, ["ERP"]);
    }

    #[test]
    fn a_primary_says_who_leads() {
        let partners: BTreeMap<String, PartnerFacts> =
            [("a".into(), partner(false, &[])), ("b".into(), partner(false, &[]))].into_iter().collect();
        let found = account_overlaps(
            &[
                assignment("k", "a", AssignmentRole::Primary, &["ERP"]),
                assignment("k", "b", AssignmentRole::Support, &["ERP"]),
            ],
            &partners,
        );
        assert!(found.is_empty());
        // A partner no longer current is no party.
        let only_a: BTreeMap<String, PartnerFacts> = [("a".into(), partner(false, &[]))].into_iter().collect();
        let found = account_overlaps(
            &[
                assignment("k", "a", AssignmentRole::Support, &["ERP"]),
                assignment("k", "b", AssignmentRole::Support, &["ERP"]),
            ],
            &only_a,
        );
        assert!(found.is_empty());
    }

    #[test]
    fn working_another_partners_exclusive_territory_is_an_intrusion() {
        let partners: BTreeMap<String, PartnerFacts> = [
            ("holder".into(), partner(false, &["上海"])),
            ("other".into(), partner(false, &["上海 ", "杭州"])),
            ("far".into(), partner(false, &["北京"])),
        ]
        .into_iter()
        .collect();
        let grants = [ExclusiveGrant {
            partner_id: "holder".into(),
            territories: vec!["上海".into()],
            product_lines: vec!["ERP".into()],
        }];
        let found = territory_intrusions(&grants, &partners);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].party_partner_ids, ["holder", "other"]);
        assert_eq!(found[0].territories, ["上海"]);
        assert_eq!(found[0].product_lines, ["ERP"]);
        assert!(found[0].fingerprint.ends_with(":other"));
    }
}
