//! The payloads of the incentive events: `incentive.statement_approved` (the statement as
//! approved: lines, explanations, total) and the marketing support requests' `mdf.*`, each with
//! its program's and partner's names, so a chat message can be written from the event alone.
//! Pure types; `crate::events::DomainEvent` names them.

use serde::{Deserialize, Serialize};

use super::mdf::model::MdfRequest;
use super::statements::model::Statement;

/// `incentive.statement_approved`: a draft statement was approved and will no longer change.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatementApproved {
    pub statement: Statement,
    pub program_name: String,
    pub partner_name: String,
}

/// `mdf.request_submitted`: a partner (or a manager on its behalf) asked for marketing support.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MdfRequestSubmitted {
    pub request: MdfRequest,
    pub program_name: String,
    pub partner_name: String,
}

/// `mdf.request_decided`: a request was approved or rejected (`request.status` says which, and
/// `request.decision_reason` why).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MdfRequestDecided {
    pub request: MdfRequest,
    pub program_name: String,
    pub partner_name: String,
}
