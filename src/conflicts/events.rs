//! The payloads of `conflict.opened` and `conflict.resolved`: the case with its parties' names and
//! its key account's name, so a chat message can be written from the event alone (a
//! partner-bound chat gets the redacted view). Pure types; `crate::events::DomainEvent` names them.

use serde::{Deserialize, Serialize};

use super::model::{Conflict, Party};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConflictEvent {
    pub conflict: Conflict,
    pub parties: Vec<Party>,
    pub key_account_name: Option<String>,
}
