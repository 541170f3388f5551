//! The payloads of target events (`target.agreed`, `target.missed`): the target as the API shows
//! it (with its actual and attainment at the time) and its partner's name, so a chat message can
//! be written from the event alone. Pure types; `crate::events::DomainEvent` names them.

use serde::{Deserialize, Serialize};

use super::model::TargetView;

/// `target.agreed`: a target became agreed. `target.missed`: its period ended below target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetEvent {
    pub target: TargetView,
    pub partner_name: String,
}
