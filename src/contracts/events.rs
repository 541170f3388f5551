//! The payloads of contract and risk events (`contract.*`, `risk.raised`): what the outbox
//! stores, and what webhooks and chat messages are made from. Each carries the contract as the
//! API shows it and its partner's name, so a message can be written from the event alone. Pure
//! types over this room's `model` and the risk rules' `Risk`; the enum that names them is
//! `crate::events::DomainEvent`, which this file never imports (the outbox sits below the rooms).
//!
//! Events that share a head flatten it (`#[serde(flatten)]`), so the wire stays one flat object
//! per event. Field order is free: payloads are serialized through `serde_json::Value`, whose keys
//! are sorted (pinned by `tests/api/event_payloads.rs`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::amendments::model::Amendment;
use super::model::{Contract, ContractStatus};
use super::risks::Risk;

/// `contract.created`, `contract.deleted`, and the head of every other contract event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractSnapshot {
    pub contract: Contract,
    pub partner_name: String,
    /// The contract's partner (one).
    pub partner_ids: Vec<String>,
}

impl ContractSnapshot {
    pub fn new(contract: Contract, partner_name: &str) -> Self {
        ContractSnapshot {
            partner_ids: vec![contract.partner_id.clone()],
            partner_name: partner_name.to_string(),
            contract,
        }
    }
}

/// `contract.activated`, `contract.expired`, `contract.terminated`: the contract after the move.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractStatusChange {
    #[serde(flatten)]
    pub snapshot: ContractSnapshot,
    pub from: ContractStatus,
    pub to: ContractStatus,
}

/// `contract.updated`: fields other than the status changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractUpdated {
    #[serde(flatten)]
    pub snapshot: ContractSnapshot,
    /// `{field: {old, new}}` as the audit trail records it (`crate::audit::diff`), without
    /// `status` (a status move is its own event).
    pub changes: Value,
}

/// `contract.renewed`: the renewed contract (now linked to its successor) and the successor, a
/// new draft.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractRenewed {
    #[serde(flatten)]
    pub snapshot: ContractSnapshot,
    pub successor: Contract,
}

/// `contract.amended`: the contract after the amendment, and the amendment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractAmended {
    #[serde(flatten)]
    pub snapshot: ContractSnapshot,
    pub amendment: Amendment,
}

/// `contract.expiring`: the risk scan found a contract nearing its end without a successor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractExpiring {
    #[serde(flatten)]
    pub snapshot: ContractSnapshot,
    #[serde(flatten)]
    pub expiry: ExpiryEvidence,
    /// The `expiring` risk itself (its `key` and `partner_message` are not on the wire).
    pub risk: Risk,
    /// The business date of the scan (China Standard Time).
    pub detected_on: NaiveDate,
}

/// What an `expiring` risk's evidence says, at the top of `contract.expiring`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryEvidence {
    pub effective_to: NaiveDate,
    pub days_left: i64,
    pub renewal_notice_days: i64,
    pub auto_renew: bool,
}

/// `risk.raised`: a risk other than `expiring`. A risk between two contracts is one event
/// carrying both sides.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RiskRaised {
    /// The first side (`risks[0]`).
    pub risk: Risk,
    /// Every side, one per contract.
    pub risks: Vec<Risk>,
    /// Every side as its own partner may see it (nothing about the other partner): what a chat
    /// bound to one partner is shown. A read-back `Risk` cannot be redacted again, since
    /// `partner_message` is not on the wire.
    pub partner_views: Vec<Risk>,
    /// The contracts of the sides, in the same order.
    pub contracts: Vec<Contract>,
    /// The sides' partners, each once, in order.
    pub partner_ids: Vec<String>,
    /// The business date of the scan (China Standard Time).
    pub detected_on: NaiveDate,
}
