//! The payloads of partner events (`partner.*`): what the outbox stores, and what webhooks and
//! chat messages are made from. Pure types over the partner as the API shows it; they import only
//! this room's `model`. The enum that names them is `crate::events::DomainEvent`, and this file
//! never imports it: the outbox sits below the rooms, so a payload that reached back up would
//! make it depend on itself.
//!
//! Field order here is free: payloads are serialized through `serde_json::Value`, whose keys are
//! sorted, so the stored JSON (pinned by `tests/api/event_payloads.rs`) does not depend on it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{Partner, PartnerStatus};

/// `partner.created`, `partner.archived`: the partner as it is now.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartnerSnapshot {
    pub partner: Partner,
}

/// `partner.updated`: the partner after the change, and what changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartnerUpdated {
    pub partner: Partner,
    /// `{field: {old, new}}` as the audit trail records it (`crate::audit::diff`); includes
    /// `status` when the same change also moved it (then `partner.status_changed` comes first).
    pub changes: Value,
}

/// `partner.status_changed`: the partner after the move, and the move.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartnerStatusChanged {
    pub partner: Partner,
    pub from: PartnerStatus,
    pub to: PartnerStatus,
}
