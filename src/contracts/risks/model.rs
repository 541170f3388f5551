//! What a risk warning (风险预警) is: its code and severity, the contract and partner it is about,
//! its evidence and the key that identifies it for exactly-once announcements; what the rules
//! read (`Subject`, `TermFact`); and who may see which (`visible`, `Risk::redacted`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::access::Scope;
use crate::contracts::model::Contract;
use crate::contracts::terms::{Params, TermKind};

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

pub fn key(code: RiskCode, contract_ids: &[&str], identity: &[String]) -> String {
    format!("contract_risk:{code}:{}:{}", contract_ids.join(","), digest(identity))
}

/// Territory and product-line labels compare as names do (`validation::comparison_key`): a
/// full-width, differently cased or invisibly padded spelling is the same place or line.
pub fn norm(label: &str) -> String {
    crate::validation::comparison_key(label)
}
