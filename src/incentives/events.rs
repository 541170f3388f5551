//! The payload of `incentive.statement_approved`: the statement as approved (lines, explanations,
//! total) with its program's and partner's names, so a chat message can be written from the
//! event alone. Pure types; `crate::events::DomainEvent` names them.

use serde::{Deserialize, Serialize};

use super::statements::model::Statement;

/// `incentive.statement_approved`: a draft statement was approved and will no longer change.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatementApproved {
    pub statement: Statement,
    pub program_name: String,
    pub partner_name: String,
}
