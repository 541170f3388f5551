//! The risk scan: a periodic job that announces each risk once (`contract.expiring` for contracts
//! nearing their end, `risk.raised` for the others) and forgets risks that cleared, so that a risk
//! which returns is announced again. Safe with several replicas: announcements go through
//! `events::emit_once`, whose key identifies the risk (code, contracts, evidence).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use super::model::{business_date, Risk, RiskCode, Subject};
use super::{rules, store};
use crate::config::Config;
use crate::contracts::events::{ContractExpiring, ContractSnapshot, RiskRaised};
use crate::contracts::model::Contract;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::events::{self, DomainEvent};
use crate::jobs::Job;

pub fn job(config: &Config) -> Job {
    Job { name: "contract_risk_scan", every: Duration::from_secs(config.risk_scan_interval_secs), run }
}

/// One scan at `now`: returns how many risks it announced plus how many cleared.
pub fn run(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let today = business_date(now);
    let subjects = store::risk_subjects(conn)?;
    let found = rules::assess(&subjects, today);
    let by_id: HashMap<&str, &Subject> = subjects.iter().map(|s| (s.contract.id.as_str(), s)).collect();
    // A risk between two contracts is one announcement carrying both sides.
    let mut by_key: BTreeMap<&str, Vec<&Risk>> = BTreeMap::new();
    for risk in &found {
        by_key.entry(risk.key.as_str()).or_default().push(risk);
    }
    let open: HashSet<String> = store::open_risk_keys(conn)?.into_iter().collect();
    let mut done = 0;
    for (key, sides) in &by_key {
        if open.contains(*key) {
            continue;
        }
        let first = sides[0];
        let event = announcement(sides, &by_id, today)?;
        if events::emit_once(conn, key, &event)?.is_some() {
            done += 1;
        }
        // Recorded either way: a concurrent scanner that announced it may not have recorded it yet.
        store::open_risk(conn, key, first.code.as_str(), &first.contract_id)?;
    }
    let mut cleared: Vec<&String> = open.iter().filter(|k| !by_key.contains_key(k.as_str())).collect();
    cleared.sort();
    for key in cleared {
        events::release_key(conn, key)?;
        store::close_risk(conn, key)?;
        done += 1;
    }
    Ok(done)
}

/// The announcement of one risk, self-contained (names, numbers, dates) for a chat message:
/// `contract.expiring` for an expiring contract, else `risk.raised`, which also carries
/// `partner_views`, every side redacted for its own partner.
fn announcement(sides: &[&Risk], by_id: &HashMap<&str, &Subject>, today: NaiveDate) -> Result<DomainEvent, ApiError> {
    let first = sides[0];
    let mut partner_ids: Vec<String> = Vec::new();
    for side in sides {
        if !partner_ids.contains(&side.partner_id) {
            partner_ids.push(side.partner_id.clone());
        }
    }
    let contracts: Vec<Contract> =
        sides.iter().filter_map(|s| by_id.get(s.contract_id.as_str())).map(|s| s.contract.clone()).collect();
    if first.code == RiskCode::Expiring {
        // The risks were assessed from `by_id`'s subjects, so the contract is there.
        let Some(contract) = contracts.into_iter().next() else {
            return Err(ApiError::internal(format!("expiring risk of an unknown contract {}", first.contract_id)));
        };
        let expiry = serde_json::from_value(first.evidence.clone())
            .map_err(|e| ApiError::internal(format!("expiring risk without its dates: {e}")))?;
        let snapshot = ContractSnapshot { contract, partner_name: first.partner_name.clone(), partner_ids };
        return Ok(DomainEvent::ContractExpiring(ContractExpiring {
            snapshot,
            expiry,
            risk: first.clone(),
            detected_on: today,
        }));
    }
    // Each side as its own partner may see it (a partner's chat is told nothing about the other).
    let partner_views: Vec<Risk> = sides.iter().map(|s| (*s).clone().redacted()).collect();
    Ok(DomainEvent::RiskRaised(RiskRaised {
        risk: first.clone(),
        risks: sides.iter().map(|s| (*s).clone()).collect(),
        partner_views,
        contracts,
        partner_ids,
        detected_on: today,
    }))
}
