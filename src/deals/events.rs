//! The payloads of the deal registration events: `deal.submitted`, `deal.decided` (approved,
//! rejected, won, lost or expired: `registration.status` says which) and `deal.expiring` (7 days
//! before the protection ends), each with the partner's name so a chat message can be written
//! from the event alone. Pure types; `crate::events::DomainEvent` names them.

use serde::{Deserialize, Serialize};

use super::model::DealRegistration;

/// `deal.submitted`: a partner (or a manager on its behalf) registered a deal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DealSubmitted {
    pub registration: DealRegistration,
    pub partner_name: String,
}

/// `deal.decided`: a registration was approved, rejected, won, lost or expired.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DealDecided {
    pub registration: DealRegistration,
    pub partner_name: String,
}

/// `deal.expiring`: an approved registration's protection ends within 7 days.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DealExpiring {
    pub registration: DealRegistration,
    pub partner_name: String,
    pub days_left: i64,
}
