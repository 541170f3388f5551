//! The risk scan: a periodic job that announces each risk once (`contract.expiring` for contracts
//! nearing their end, `risk.raised` for the others) and forgets risks that cleared, so that a risk
//! which returns is announced again. Safe with several replicas: announcements go through
//! `events::emit_once`, whose key identifies the risk (code, contracts, evidence).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::risks::{self, Risk, RiskCode, Subject};
use super::store;
use crate::config::Config;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::events::{self, NewEvent};
use crate::jobs::Job;

pub fn job(config: &Config) -> Job {
    Job { name: "contract_risk_scan", every: Duration::from_secs(config.risk_scan_interval_secs), run }
}

/// One scan at `now`: returns how many risks it announced plus how many cleared.
pub fn run(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let today = risks::business_date(now);
    let subjects = store::risk_subjects(conn)?;
    let found = risks::assess(&subjects, today);
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
        let (event_type, payload) = announcement(sides, &by_id, today);
        let event = NewEvent {
            event_type,
            resource_type: "contract",
            resource_id: &first.contract_id,
            partner_id: Some(&first.partner_id),
            payload,
        };
        if events::emit_once(conn, key, event)?.is_some() {
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

/// The event type and a self-contained payload (names, numbers, dates) for a chat message;
/// `risk.raised` also carries `partner_views`, every side redacted for its own partner.
fn announcement(sides: &[&Risk], by_id: &HashMap<&str, &Subject>, today: NaiveDate) -> (&'static str, Value) {
    let first = sides[0];
    let mut partner_ids: Vec<&str> = Vec::new();
    for side in sides {
        if !partner_ids.contains(&side.partner_id.as_str()) {
            partner_ids.push(&side.partner_id);
        }
    }
    let contracts: Vec<Value> =
        sides.iter().filter_map(|s| by_id.get(s.contract_id.as_str())).map(|s| json!(s.contract)).collect();
    if first.code == RiskCode::Expiring {
        let contract = contracts.first().cloned().unwrap_or(Value::Null);
        let payload = json!({
            "contract": contract,
            "partner_name": first.partner_name,
            "partner_ids": partner_ids,
            "effective_to": first.evidence["effective_to"],
            "days_left": first.evidence["days_left"],
            "renewal_notice_days": first.evidence["renewal_notice_days"],
            "auto_renew": first.evidence["auto_renew"],
            "risk": first,
            "detected_on": today,
        });
        return ("contract.expiring", payload);
    }
    // Each side as its own partner may see it (a partner's chat is told nothing about the other).
    let partner_views: Vec<Risk> = sides.iter().map(|s| (*s).clone().redacted()).collect();
    let payload = json!({
        "risk": first,
        "risks": sides,
        "partner_views": partner_views,
        "contracts": contracts,
        "partner_ids": partner_ids,
        "detected_on": today,
    });
    ("risk.raised", payload)
}
